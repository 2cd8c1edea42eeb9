//! `warden check` and `warden run`.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use warden::{Exec, LoadError, Pipeline};
use warden_check::Compiled;

use crate::{
    BackendArg, CheckArgs, EXIT_ALLOW, EXIT_DENY, EXIT_ERROR, EXIT_USAGE, Format, MAX_INPUT_BYTES, Output, RunArgs,
    render,
};

fn check_paths(paths: &[PathBuf]) -> Result<Compiled, String> {
    let manifest = match paths {
        [] => Some(PathBuf::from("warden.toml")),
        [one] if one.is_dir() => Some(one.join("warden.toml")),
        [one] if one.extension().is_some_and(|e| e == "toml") => Some(one.clone()),
        many => {
            if let Some(t) = many.iter().find(|p| p.is_dir() || p.extension().is_some_and(|e| e == "toml")) {
                return Err(format!("`{}`: give one manifest, or rule files only", t.display()));
            }
            None
        }
    };
    Ok(match manifest {
        Some(m) => warden_check::check_manifest(&m),
        None => warden_check::check_files(paths, Default::default()),
    })
}

pub(crate) fn check(a: &CheckArgs, style: render::Style, out: &mut Output) -> u8 {
    let compiled = match check_paths(&a.paths) {
        Ok(c) => c,
        Err(m) => {
            out.stderr = format!("error: {m}\n");
            return EXIT_USAGE;
        }
    };
    let mut compiled = compiled;
    if let Some(p) = &compiled.program {
        let js = warden::js_diagnostics(p, &compiled.sources);
        let failed = js.iter().any(|d| d.is_error());
        compiled.diagnostics.extend(js);
        if failed {
            compiled.program = None;
        }
    }
    let failed = compiled.has_errors();
    match a.format {
        Format::Json => {
            let j = render::to_json(&compiled.diagnostics, &compiled.sources);
            out.stdout = format!("{}\n", serde_json::to_string_pretty(&j).unwrap_or_default());
        }
        Format::Human => {
            out.stderr = render::render(&compiled.diagnostics, &compiled.sources, style);
            if failed {
                out.stderr.push_str(&format!("error: check failed: {}\n", render::summary(&compiled.diagnostics)));
            } else {
                let p = compiled.program.as_ref();
                let rules = p.map_or(0, |p| p.steps.len());
                let files = compiled.sources.files.len() - usize::from(compiled.manifest.is_some());
                out.stderr.push_str(&format!(
                    "ok: {rules} rule{} in {files} file{} ({})\n",
                    if rules == 1 { "" } else { "s" },
                    if files == 1 { "" } else { "s" },
                    render::summary(&compiled.diagnostics)
                ));
            }
        }
    }
    if a.ir
        && let Some(p) = &compiled.program
    {
        out.stdout.push_str(&warden_ir::dump(p));
    }
    if failed { EXIT_ERROR } else { 0 }
}

pub(crate) fn run(a: &RunArgs, style: render::Style, out: &mut Output) -> u8 {
    if a.user == Path::new("-") && a.context == Path::new("-") {
        out.stderr = "error: only one of --user and --context can read stdin\n".into();
        return EXIT_USAGE;
    }
    let loaded = if let Some(bundle) = &a.bundle {
        crate::bundle::load_bundle(a, bundle)
    } else if a.files.is_empty() {
        Pipeline::from_manifest(a.manifest.clone().unwrap_or_else(|| PathBuf::from("warden.toml")))
    } else {
        Pipeline::from_files(&a.files, Default::default())
    };
    let mut pipeline = match loaded {
        Ok(p) => p,
        Err(LoadError::Check(c)) => {
            out.stderr = render::render(&c.diagnostics, &c.sources, style);
            out.stderr.push_str(&format!("error: the pipeline does not check: {}\n", render::summary(&c.diagnostics)));
            return EXIT_ERROR;
        }
        Err(e) => {
            out.stderr = format!("error: {e}\n");
            return EXIT_ERROR;
        }
    };
    for (k, v) in &a.config {
        pipeline.set_config(k, v);
    }
    let user = match read_json(&a.user, "user") {
        Ok(j) => j,
        Err(m) => {
            out.stderr = format!("error: {m}\n");
            return EXIT_ERROR;
        }
    };
    let context = match read_json(&a.context, "context") {
        Ok(j) => j,
        Err(m) => {
            out.stderr = format!("error: {m}\n");
            return EXIT_ERROR;
        }
    };
    let mut exec = match a.now {
        Some(now) => Exec::at(now),
        None => Exec::now(),
    };
    exec.trace = a.trace || a.explain;
    exec.timeout = a.timeout_ms.map(std::time::Duration::from_millis);
    exec.backend = match a.backend {
        BackendArg::Jit => warden::Backend::Jit,
        BackendArg::Interp => warden::Backend::Interp,
    };
    // Owned: the inputs are not copied (they may be 4 MiB each).
    match pipeline.execute_owned(user, context, &exec) {
        Ok(outcome) => {
            out.stdout = format!("{}\n", serde_json::to_string_pretty(&outcome).unwrap_or_default());
            if a.explain
                && let Some(trace) = &outcome.trace
            {
                out.stderr.push_str(&explain_text(trace));
            }
            if outcome.is_allow() { EXIT_ALLOW } else { EXIT_DENY }
        }
        Err(e) => {
            out.stderr = format!("error: invalid input: {e}\n");
            EXIT_ERROR
        }
    }
}

/// Reads a JSON file (or stdin for `-`), with line and column on syntax errors.
pub fn read_json(path: &Path, what: &str) -> Result<Json, String> {
    let shown = if path == Path::new("-") { "<stdin>".to_string() } else { path.display().to_string() };
    let limit = MAX_INPUT_BYTES as u64;
    let read = if path == Path::new("-") {
        warden_check::read_stream(std::io::stdin().lock(), limit)
    } else {
        warden_check::read_file(path, limit)
    };
    let bytes = match read {
        Ok(bytes) => bytes,
        Err(e @ warden_check::ReadError::TooLarge { .. }) => return Err(format!("the {what} in `{shown}` is {e}")),
        Err(e) => return Err(format!("cannot read the {what} from `{shown}`: {e}")),
    };
    let bytes = warden_syntax::strip_bom_bytes(&bytes);
    warden::check_json_text(what, bytes).map_err(|e| format!("invalid input in the {what} `{shown}`: {e}"))?;
    serde_json::from_slice(bytes).map_err(|e| {
        let raw = e.to_string();
        let reason = match e.classify() {
            serde_json::error::Category::Eof => "unexpected end of input",
            _ if raw.starts_with("expected ident") => "invalid literal (JSON has true, false and null)",
            _ => raw.split(" at line").next().unwrap_or("invalid JSON"),
        };
        let (line, column) = json_position(bytes, e.line(), e.column());
        format!("invalid JSON in the {what} `{shown}` at line {line}, column {column}: {reason}")
    })
}

/// serde_json reports column 0 when the error is at a line break; point at the end of the
/// previous line instead, where the user's mistake is.
fn json_position(bytes: &[u8], line: usize, column: usize) -> (usize, usize) {
    if column > 0 || line <= 1 {
        return (line, column.max(1));
    }
    let text = String::from_utf8_lossy(bytes);
    let prev = text.lines().nth(line - 2).unwrap_or("");
    (line - 1, prev.chars().count().max(1))
}

/// A trace's decision in plain words.
pub fn explain_text(trace: &Json) -> String {
    let d = &trace["decision"];
    let mut out = String::new();
    match d["kind"].as_str() {
        Some("allow") => {
            out.push_str("allowed: no rule denied the login\n");
            for r in trace["rules"].as_array().into_iter().flatten() {
                let fired = r["fired"].as_array().map_or(0, Vec::len);
                match r["status"].as_str() {
                    Some("skipped by a guard") => out.push_str(&format!(
                        "  {:?} ({}) did not apply: a guard did not hold\n",
                        r["rule"].as_str().unwrap_or(""),
                        r["location"].as_str().unwrap_or("")
                    )),
                    _ if fired == 0 => {
                        out.push_str(&format!("  {:?} applied and changed nothing\n", r["rule"].as_str().unwrap_or("")))
                    }
                    _ => {
                        out.push_str(&format!("  {:?} applied:\n", r["rule"].as_str().unwrap_or("")));
                        for f in r["fired"].as_array().into_iter().flatten() {
                            out.push_str(&format!(
                                "    line {}: {}\n",
                                f["line"],
                                f["statement"].as_str().unwrap_or("")
                            ));
                        }
                    }
                }
            }
        }
        Some(kind) => {
            let verb = if kind == "deny" { "denied by" } else { "a rule error in" };
            out.push_str(&format!(
                "{verb} rule {:?} at {}\n  {}\n",
                d["rule"].as_str().unwrap_or(""),
                d["location"].as_str().unwrap_or(""),
                d["statement"].as_str().unwrap_or("")
            ));
            let because = d["because"].as_array().cloned().unwrap_or_default();
            if because.is_empty() {
                out.push_str("  unconditionally\n");
            }
            for c in because {
                out.push_str(&format!("  because `{}` was {}\n", c["condition"].as_str().unwrap_or(""), c["was"]));
                for p in c["parts"].as_array().into_iter().flatten() {
                    if p["expr"] != c["condition"] {
                        out.push_str(&format!("    `{}` was {}\n", p["expr"].as_str().unwrap_or(""), p["value"]));
                    }
                }
            }
        }
        None => {}
    }
    out
}
