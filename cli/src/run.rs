//! `warden check` and `warden run`.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use warden::{Exec, InputError, LoadError, Pipeline, Refusal, Report};

use crate::{
    BackendArg, CheckArgs, EXIT_ALLOW, EXIT_DENY, EXIT_ERROR, EXIT_USAGE, Format, MAX_INPUT_BYTES, Output, RunArgs,
    render,
};

fn check_paths(paths: &[PathBuf]) -> Result<Report, String> {
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
        Some(m) => Report::of_manifest(&m),
        None => Report::of_files(paths, Default::default()),
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
    render::add_manifest_help(&mut compiled.diagnostics, &compiled.sources);
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
                let rules = compiled.rules();
                let files = compiled.rule_files();
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
        && let Some(ir) = compiled.ir_text()
    {
        out.stdout.push_str(&ir);
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
        Err(LoadError::Check(mut c)) => {
            render::add_manifest_help(&mut c.diagnostics, &c.sources);
            out.stderr = render::render(&c.diagnostics, &c.sources, style);
            out.stderr.push_str(&format!("error: the pipeline does not check: {}\n", render::summary(&c.diagnostics)));
            return EXIT_ERROR;
        }
        Err(e) => {
            out.stderr = format!("error: {}\n", load_error_text(&e));
            return EXIT_ERROR;
        }
    };
    for (k, v) in &a.config {
        if let Err(e) = pipeline.set_config(k, v) {
            out.stderr = format!("error: {e} (given with --config {k}=...)\n");
            return EXIT_ERROR;
        }
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
    let exchanges = match &a.http_exchanges {
        None => None,
        Some(path) => match read_exchanges(path) {
            Ok(e) => Some(std::sync::Arc::new(e)),
            Err(m) => {
                out.stderr = format!("error: {m}\n");
                return EXIT_ERROR;
            }
        },
    };
    let executed = match exchanges {
        // Owned: the inputs are not copied (they may be 4 MiB each).
        None => pipeline.execute_owned(user, context, &exec),
        Some(script) => {
            pipeline.decode(user, context, exec.now).map(|d| pipeline.run_decoded(d.answer_http_from(script), &exec))
        }
    };
    match executed {
        Ok(outcome) => {
            out.stdout = format!("{}\n", serde_json::to_string_pretty(&outcome).unwrap_or_default());
            if a.explain
                && let Some(trace) = &outcome.trace
            {
                out.stderr.push_str(&trace.explain());
            }
            if outcome.is_allow() { EXIT_ALLOW } else { EXIT_DENY }
        }
        Err(e) => {
            out.stderr = format!("error: invalid input: {}\n", input_error_text(&e));
            EXIT_ERROR
        }
    }
}

/// The canned exchanges of `--http-exchanges`: a JSON array of `warden::Exchange`.
fn read_exchanges(path: &Path) -> Result<Vec<warden::Exchange>, String> {
    let json = read_json(path, "HTTP exchanges")?;
    serde_json::from_value(json).map_err(|e| {
        format!("`{}` is not a list of HTTP exchanges ([{{\"method\", \"url\", \"status\", \"json\" or \"text\", ...}}]): {e}", path.display())
    })
}

/// Reads a JSON file (or stdin for `-`), with line and column on syntax errors.
pub fn read_json(path: &Path, what: &str) -> Result<Json, String> {
    let shown = if path == Path::new("-") { "<stdin>".to_string() } else { path.display().to_string() };
    let limit = MAX_INPUT_BYTES as u64;
    let read = if path == Path::new("-") {
        warden::files::read_stream(std::io::stdin().lock(), limit)
    } else {
        warden::files::read_file(path, limit)
    };
    let bytes = match read {
        Ok(bytes) => bytes,
        Err(e @ warden::files::ReadError::TooLarge { .. }) => return Err(format!("the {what} in `{shown}` is {e}")),
        Err(e) => return Err(format!("cannot read the {what} from `{shown}`: {e}")),
    };
    let bytes = warden::files::strip_bom_bytes(&bytes);
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

/// A load error as the CLI says it: configuration is given with `--config`.
pub(crate) fn load_error_text(e: &LoadError) -> String {
    match e {
        LoadError::Refused(Refusal::MissingConfig(_)) => format!("{e}: pass --config KEY=VALUE"),
        _ => e.to_string(),
    }
}

/// An input error as the CLI says it: configuration is given with `--config`.
pub(crate) fn input_error_text(e: &InputError) -> String {
    match e {
        InputError::MissingConfig { key, env } => {
            let from = env.as_ref().map(|env| format!("set the environment variable `{env}` or ")).unwrap_or_default();
            format!("configuration key `{key}` has no value: {from}pass --config {key}=VALUE")
        }
        _ => e.to_string(),
    }
}
