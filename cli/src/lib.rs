//! The `warden` command line: argument parsing and the commands. `main.rs` only calls
//! [`main_with`]; tests call the same functions.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};
use serde_json::Value as Json;
use warden::{Exec, LoadError, Pipeline};
use warden_check::Compiled;

pub mod coverage;
pub mod init;
pub mod render;
pub mod testing;

/// Exit codes of `warden run` (`docs/outcome.md`).
pub const EXIT_ALLOW: u8 = 0;
pub const EXIT_ERROR: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_DENY: u8 = 3;

/// The largest `user` or `context` JSON file `warden run` reads.
pub const MAX_INPUT_BYTES: usize = 4 * 1024 * 1024;

#[derive(Parser, Debug)]
#[command(
    name = "warden",
    version,
    about = "Login rules for your own authentication stack: check, run and test .rule pipelines"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check rule files or a manifest and report every problem (exit 0 clean, 1 on errors)
    Check(CheckArgs),
    /// Decide one login: print the outcome JSON (exit 0 allow, 3 deny, 1 error, 2 usage)
    Run(RunArgs),
    /// Run the test files of a pipeline on every backend (exit 0 all pass, 1 otherwise)
    Test(TestArgs),
    /// Check a pipeline and write it as one artifact that loads fast and refuses tampering
    Build(BuildArgs),
    /// Show what an artifact holds: versions, rules, configuration keys, lists, hash, signature
    Inspect(InspectArgs),
    /// Write a new Ed25519 key pair for signing artifacts
    Keygen(KeygenArgs),
    /// Create a new project: a manifest, two rule files and a test file
    Init(InitArgs),
    /// Print the built-in schema of Auth0's user and context as Markdown
    Schema,
}

#[derive(clap::Args, Debug)]
pub struct TestArgs {
    /// Test files (`*.test.toml`), manifests or directories [default: .]
    pub paths: Vec<PathBuf>,
    /// Run only the cases whose name contains this text
    #[arg(long)]
    pub filter: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = TestFormat::Human)]
    pub format: TestFormat,
    /// Report which rules, statements and branches the cases exercised, and write an lcov file
    #[arg(long)]
    pub coverage: bool,
    /// Where --coverage writes the lcov file
    #[arg(long, value_name = "PATH", default_value = "lcov.info")]
    pub lcov: PathBuf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    Human,
    Json,
    Junit,
}

#[derive(clap::Args, Debug)]
pub struct BuildArgs {
    /// The pipeline manifest
    #[arg(long, value_name = "PATH", default_value = "warden.toml")]
    pub manifest: PathBuf,
    /// Where to write the artifact
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
    /// Sign the artifact with this secret key (from `warden keygen`)
    #[arg(long, value_name = "KEY")]
    pub sign_key: Option<PathBuf>,
    /// Bake the manifest's literal configuration values into the artifact (left out by
    /// default, so that secrets stay out of artifacts)
    #[arg(long)]
    pub embed_config: bool,
}

#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// The artifact
    pub file: PathBuf,
    /// Also check the signature against this public key
    #[arg(long, value_name = "PUB")]
    pub verify_key: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct KeygenArgs {
    /// Writes PREFIX.key (secret: keep it out of version control) and PREFIX.pub
    #[arg(short = 'o', long = "output", value_name = "PREFIX")]
    pub output: PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct InitArgs {
    /// The directory to create
    pub dir: PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// `.rule` files (one pipeline, in order), a `warden.toml`, or a directory holding one
    /// [default: ./warden.toml]
    pub paths: Vec<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Also print the checked IR
    #[arg(long)]
    pub ir: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Rule files forming the pipeline, in order (otherwise the manifest)
    pub files: Vec<PathBuf>,
    /// The pipeline manifest [default: ./warden.toml]; with --bundle, only its
    /// `[bundle] verify_key` is used
    #[arg(long, value_name = "PATH", conflicts_with = "files")]
    pub manifest: Option<PathBuf>,
    /// Run a built artifact instead of sources
    #[arg(long, value_name = "FILE", conflicts_with = "files")]
    pub bundle: Option<PathBuf>,
    /// Require the artifact to be signed by this public key
    #[arg(long, value_name = "PUB", requires = "bundle")]
    pub verify_key: Option<PathBuf>,
    /// The user profile JSON (`-` for stdin)
    #[arg(long, value_name = "PATH")]
    pub user: PathBuf,
    /// The transaction context JSON (`-` for stdin)
    #[arg(long, value_name = "PATH")]
    pub context: PathBuf,
    /// A configuration value, overriding the manifest's (repeatable)
    #[arg(long = "config", value_name = "KEY=VALUE", value_parser = parse_kv)]
    pub config: Vec<(String, String)>,
    /// The time rules see as now(), RFC 3339 [default: the system clock]
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    pub now: Option<i64>,
    /// Add a per-rule trace (guards, statements fired, changes) to the outcome
    /// (traces come from the interpreter)
    #[arg(long)]
    pub trace: bool,
    /// Explain the decision in plain words on stderr (and add the trace to the outcome)
    #[arg(long)]
    pub explain: bool,
    /// How to run the rules: native code (jit) or the reference interpreter (interp); the
    /// outcome is the same
    #[arg(long, value_enum, default_value_t = BackendArg::Jit)]
    pub backend: BackendArg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    Jit,
    Interp,
}

fn parse_kv(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, found `{s}`")),
    }
}

fn parse_now(s: &str) -> Result<i64, String> {
    warden::parse_time(s).ok_or_else(|| format!("`{s}` is not an RFC 3339 time such as 2026-11-26T12:00:00Z"))
}

/// Where a command's output goes (so tests can capture it).
#[derive(Debug, Default)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
}

/// Runs the CLI on `args` (without the program name).
pub fn main_with(args: &[String], color: bool) -> (u8, Output) {
    let mut out = Output::default();
    let cli = match Cli::try_parse_from(std::iter::once("warden".to_string()).chain(args.iter().cloned())) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let text = e.render().to_string();
            if e.use_stderr() {
                out.stderr = text
            } else {
                out.stdout = text
            }
            return (code, out);
        }
    };
    let style = if color { render::Style::Color } else { render::Style::Plain };
    let code = match cli.command {
        Command::Check(a) => check(&a, style, &mut out),
        Command::Run(a) => run(&a, style, &mut out),
        Command::Test(a) => test(&a, style, &mut out),
        Command::Build(a) => build(&a, style, &mut out),
        Command::Inspect(a) => inspect(&a, &mut out),
        Command::Keygen(a) => keygen(&a, &mut out),
        Command::Init(a) => match init::init(&a.dir) {
            Ok(files) => {
                out.stderr = format!(
                    "created {}\nnext: cd {} && warden check && warden test\n",
                    files.join(", "),
                    a.dir.display()
                );
                0
            }
            Err(m) => {
                out.stderr = format!("error: {m}\n");
                EXIT_ERROR
            }
        },
        Command::Schema => {
            out.stdout = warden_check::schema::markdown(&warden_check::schema::Schema::new(&BTreeMap::new()));
            0
        }
    };
    (code, out)
}

/// The real process entry point.
pub fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let (code, out) = main_with(&args, color);
    let _ = std::io::stdout().write_all(out.stdout.as_bytes());
    let _ = std::io::stderr().write_all(out.stderr.as_bytes());
    std::process::ExitCode::from(code)
}

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

fn check(a: &CheckArgs, style: render::Style, out: &mut Output) -> u8 {
    let compiled = match check_paths(&a.paths) {
        Ok(c) => c,
        Err(m) => {
            out.stderr = format!("error: {m}\n");
            return EXIT_USAGE;
        }
    };
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

fn run(a: &RunArgs, style: render::Style, out: &mut Output) -> u8 {
    if a.user == Path::new("-") && a.context == Path::new("-") {
        out.stderr = "error: only one of --user and --context can read stdin\n".into();
        return EXIT_USAGE;
    }
    let loaded = if let Some(bundle) = &a.bundle {
        load_bundle(a, bundle)
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
    exec.backend = match a.backend {
        BackendArg::Jit => warden::Backend::Jit,
        BackendArg::Interp => warden::Backend::Interp,
    };
    match pipeline.execute(&user, &context, &exec) {
        Ok(outcome) => {
            out.stdout = format!("{}\n", serde_json::to_string_pretty(&outcome.to_json()).unwrap_or_default());
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
    let mut bytes = Vec::new();
    let read = if path == Path::new("-") {
        std::io::stdin().take(MAX_INPUT_BYTES as u64 + 1).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(MAX_INPUT_BYTES as u64 + 1).read_to_end(&mut bytes))
    };
    if let Err(e) = read {
        let reason = if e.kind() == std::io::ErrorKind::NotFound { "no such file".to_string() } else { e.to_string() };
        return Err(format!("cannot read the {what} from `{shown}`: {reason}"));
    }
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(format!("the {what} in `{shown}` is larger than the {} MiB limit", MAX_INPUT_BYTES / 1024 / 1024));
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        let raw = e.to_string();
        let reason = match e.classify() {
            serde_json::error::Category::Eof => "unexpected end of input",
            _ if raw.starts_with("expected ident") => "invalid literal (JSON has true, false and null)",
            _ => raw.split(" at line").next().unwrap_or("invalid JSON"),
        };
        let (line, column) = json_position(&bytes, e.line(), e.column());
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

fn test(a: &TestArgs, style: render::Style, out: &mut Output) -> u8 {
    let files = testing::discover(&a.paths);
    if files.is_empty() {
        out.stderr = "error: no test files (`*.test.toml`) found; `warden init` shows one\n".into();
        return EXIT_ERROR;
    }
    let report = testing::run(&files, a.filter.as_deref(), a.coverage);
    if !report.diagnostics.is_empty() {
        out.stderr.push_str(&render::render(&report.diagnostics, &report.sources, style));
    }
    match a.format {
        TestFormat::Human => out.stdout.push_str(&testing::human(&report)),
        TestFormat::Json => out.stdout.push_str(&format!(
            "{}\n",
            serde_json::to_string_pretty(&testing::json_report(&report)).unwrap_or_default()
        )),
        TestFormat::Junit => out.stdout.push_str(&testing::junit(&report)),
    }
    if a.coverage {
        let mut all = std::collections::BTreeMap::new();
        for (pipeline, cov) in &report.coverage {
            all.extend(coverage::by_file(pipeline, cov));
        }
        out.stderr.push_str(&coverage::summary(&all));
        match std::fs::write(&a.lcov, coverage::lcov(&all)) {
            Ok(()) => out.stderr.push_str(&format!("wrote {}\n", a.lcov.display())),
            Err(e) => {
                out.stderr.push_str(&format!("error: cannot write {}: {e}\n", a.lcov.display()));
                return EXIT_ERROR;
            }
        }
    }
    if report.failed() > 0 || report.diagnostics.iter().any(|d| d.is_error()) || report.results.is_empty() {
        EXIT_ERROR
    } else {
        0
    }
}

fn read_key_file(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read key `{}`: {e}", path.display()))
}

/// Loads an artifact for `warden run --bundle`: the verification key comes from
/// `--verify-key`, or from the manifest's `[bundle] verify_key` when `--manifest` is given.
fn load_bundle(a: &RunArgs, bundle: &Path) -> Result<Pipeline, LoadError> {
    let refused = LoadError::Refused;
    let key_path = match (&a.verify_key, &a.manifest) {
        (Some(k), _) => Some(k.clone()),
        (None, Some(m)) => match warden_check::check_manifest(m).manifest {
            Some(manifest) => manifest.verify_key,
            None => return Err(refused(format!("cannot read the manifest `{}`", m.display()))),
        },
        (None, None) => None,
    };
    let key = match key_path {
        Some(p) => Some(read_key_file(&p).and_then(|t| warden_artifact::parse_public_key(&t)).map_err(refused)?),
        None => None,
    };
    let bytes = read_bounded(bundle).map_err(refused)?;
    let config: std::collections::BTreeMap<String, String> = a.config.iter().cloned().collect();
    Pipeline::from_artifact(&bytes, key.as_ref(), &config)
}

fn read_bounded(path: &Path) -> Result<Vec<u8>, String> {
    let f = std::fs::File::open(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let mut bytes = Vec::new();
    f.take(warden_artifact::MAX_ARTIFACT_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    Ok(bytes)
}

fn build(a: &BuildArgs, style: render::Style, out: &mut Output) -> u8 {
    let pipeline = match Pipeline::from_manifest(&a.manifest) {
        Ok(p) => p,
        Err(LoadError::Check(c)) => {
            out.stderr = render::render(&c.diagnostics, &c.sources, style);
            out.stderr.push_str(&format!("error: build failed: {}\n", render::summary(&c.diagnostics)));
            return EXIT_ERROR;
        }
        Err(e) => {
            out.stderr = format!("error: build failed: {e}\n");
            return EXIT_ERROR;
        }
    };
    let key = match &a.sign_key {
        Some(p) => match read_key_file(p).and_then(|t| warden_artifact::parse_secret_key(&t)) {
            Ok(k) => Some(k),
            Err(m) => {
                out.stderr = format!("error: {m}\n");
                return EXIT_ERROR;
            }
        },
        None => None,
    };
    if !pipeline.warnings().is_empty() {
        out.stderr = render::render(pipeline.warnings(), &source_map(&pipeline), style);
    }
    let bytes = pipeline.to_artifact(key.as_ref(), a.embed_config);
    if let Err(e) = std::fs::write(&a.output, &bytes) {
        out.stderr.push_str(&format!("error: cannot write `{}`: {e}\n", a.output.display()));
        return EXIT_ERROR;
    }
    out.stderr.push_str(&format!(
        "built {} ({} bytes, {} rules, {})\n",
        a.output.display(),
        bytes.len(),
        pipeline.program().rules.len(),
        if key.is_some() { "signed" } else { "unsigned" }
    ));
    0
}

fn source_map(p: &Pipeline) -> warden_syntax::SourceMap {
    let mut m = warden_syntax::SourceMap::default();
    for s in p.sources() {
        m.add(s.path.clone(), s.text.clone());
    }
    m
}

fn inspect(a: &InspectArgs, out: &mut Output) -> u8 {
    let key = match &a.verify_key {
        Some(p) => match read_key_file(p).and_then(|t| warden_artifact::parse_public_key(&t)) {
            Ok(k) => Some(k),
            Err(m) => {
                out.stderr = format!("error: {m}\n");
                return EXIT_ERROR;
            }
        },
        None => None,
    };
    let bytes = match read_bounded(&a.file) {
        Ok(b) => b,
        Err(m) => {
            out.stderr = format!("error: {m}\n");
            return EXIT_ERROR;
        }
    };
    let i = match Pipeline::inspect_artifact(&bytes, key.as_ref()) {
        Ok(i) => i,
        Err(e) => {
            out.stderr = format!("error: {e}\n");
            return EXIT_ERROR;
        }
    };
    let prog = &i.contents.program;
    let mut s = String::new();
    s.push_str(&format!("artifact   {} ({} bytes)\n", a.file.display(), bytes.len()));
    s.push_str(&format!(
        "versions   format {}, IR {}, warden {}, QuickJS {}\n",
        i.header.format_version,
        i.header.ir_version,
        i.header.warden_version,
        i.header.quickjs_version.as_deref().unwrap_or("none (no JavaScript rules)")
    ));
    s.push_str(&format!("sha256     {}\n", i.header.hash.iter().map(|b| format!("{b:02x}")).collect::<String>()));
    let sig = match (i.header.signed, i.signature_ok) {
        (false, _) => "unsigned".to_string(),
        (true, None) => "signed (Ed25519; pass --verify-key to check it)".to_string(),
        (true, Some(true)) => "signed, and the signature matches the given key".to_string(),
        (true, Some(false)) => "signed, but NOT by the given key".to_string(),
    };
    s.push_str(&format!("signature  {sig}\n"));
    s.push_str(&format!("claim mode {:?}\n", prog.options.claim_mode).to_lowercase().replacen(
        "claim mode",
        "claim mode",
        1,
    ));
    s.push_str("rules (in order):\n");
    for step in &prog.steps {
        match *step {
            warden_ir::Step::Rule(id) => {
                let r = &prog.rules[id as usize];
                let file = prog.files.get(r.loc.file as usize).map_or("?", String::as_str);
                s.push_str(&format!("  rule  {:?}  {file}:{}\n", r.name, r.loc.line));
            }
            warden_ir::Step::Js(id) => {
                let j = &prog.js_rules[id as usize];
                let file = prog.files.get(j.file as usize).map_or("?", String::as_str);
                s.push_str(&format!("  js    {:?}  {file}\n", j.name));
            }
        }
    }
    s.push_str("configuration keys:\n");
    if i.contents.config.is_empty() {
        s.push_str("  (none)\n");
    }
    for k in &i.contents.config {
        let how = match (&k.value, &k.env) {
            (Some(_), _) => "value built in".to_string(),
            (None, Some(env)) => format!("from environment variable {env}, or --config"),
            (None, None) => "needs --config".to_string(),
        };
        s.push_str(&format!("  {}  ({how})\n", k.key));
    }
    s.push_str("lists and sets:\n");
    if prog.sets.is_empty() {
        s.push_str("  (none)\n");
    }
    for set in &prog.sets {
        s.push_str(&format!("  {}  {} entries\n", set.origin, set.items.len()));
    }
    out.stdout = s;
    0
}

fn keygen(a: &KeygenArgs, out: &mut Output) -> u8 {
    let key = match warden_artifact::generate_key() {
        Ok(k) => k,
        Err(m) => {
            out.stderr = format!("error: {m}\n");
            return EXIT_ERROR;
        }
    };
    let secret = a.output.with_extension("key");
    let public = a.output.with_extension("pub");
    if secret.exists() || public.exists() {
        out.stderr =
            format!("error: `{}` or `{}` exists: refusing to overwrite a key\n", secret.display(), public.display());
        return EXIT_ERROR;
    }
    if let Err(e) = write_secret(&secret, &warden_artifact::secret_key_text(&key))
        .and_then(|()| std::fs::write(&public, warden_artifact::public_key_text(&key.verifying_key())))
    {
        out.stderr = format!("error: cannot write the key pair: {e}\n");
        return EXIT_ERROR;
    }
    out.stderr = format!("wrote {} (secret) and {} (public)\n", secret.display(), public.display());
    0
}

/// Writes a secret key readable by its owner only (on Unix).
fn write_secret(path: &Path, text: &str) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(text.as_bytes())
}
