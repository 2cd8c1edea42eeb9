//! The `warden` command line: argument parsing and the commands. `main.rs` only calls
//! [`main_with`]; tests call the same functions.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

mod bundle;
pub mod coverage;
mod fmt;
pub mod init;
pub mod migrate;
pub mod render;
mod run;
pub mod serve;
pub mod testing;

use bundle::{build, inspect, keygen};
pub use run::read_json;
use run::{check, run};

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
    about = "Login rules for your own authentication stack: check, run, test and build pipelines of .rule files and legacy Auth0 .js rules"
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
    /// Serve pipelines over HTTP to an identity stack: native API, Hydra, Kratos, ZITADEL and
    /// OPA-compatible hooks, /health, /ready, /metrics, hot reload (docs/serve.md)
    Serve(Box<ServeArgs>),
    /// Rewrite .rule files in the one canonical layout (exit 0), or with --check show the
    /// difference and exit 1 when a file would change (docs/editors.md)
    Fmt(FmtArgs),
    /// Move from Auth0: import an export as a project, translate legacy JavaScript rules to
    /// .rule files proven equal on generated logins, verify a pair (docs/migrating.md)
    #[command(subcommand)]
    Migrate(migrate::MigrateCommand),
    /// Run the language server on stdin and stdout (LSP) for editors: diagnostics as you type,
    /// hover, completion, go to definition, rules as symbols, quick fixes (docs/editors.md)
    Lsp,
}

#[derive(clap::Args, Debug)]
pub struct FmtArgs {
    /// .rule files, or directories searched for them [default: .]
    pub paths: Vec<PathBuf>,
    /// Change nothing: print a diff of each file that would change and exit 1 if any would
    #[arg(long)]
    pub check: bool,
}

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// A pipeline from sources: `NAME=PATH` or `PATH` (named `default`); repeatable
    /// [default: ./warden.toml]
    #[arg(long, value_name = "[NAME=]PATH")]
    pub manifest: Vec<String>,
    /// A pipeline from a built artifact: `NAME=PATH` or `PATH` (named `default`); repeatable
    #[arg(long, value_name = "[NAME=]PATH")]
    pub bundle: Vec<String>,
    /// Require every artifact to be signed by this public key
    #[arg(long, value_name = "PUB")]
    pub verify_key: Option<PathBuf>,
    /// Take the artifacts' public key from this manifest's `[bundle] verify_key`
    #[arg(long, value_name = "PATH", conflicts_with = "verify_key")]
    pub verify_manifest: Option<PathBuf>,
    /// The address to listen on; port 0 picks a free port (the address is printed first on stdout)
    #[arg(long, value_name = "ADDR:PORT", default_value = warden_server::settings::DEFAULT_LISTEN)]
    pub listen: std::net::SocketAddr,
    /// A configuration value for every pipeline, over the manifest's (repeatable)
    #[arg(long = "config", value_name = "KEY=VALUE", value_parser = parse_kv)]
    pub config: Vec<(String, String)>,
    /// Bearer keys for login and hook routes, one per line (also WARDEN_API_KEYS, comma
    /// separated); required when listening beyond loopback
    #[arg(long, value_name = "FILE")]
    pub api_keys_file: Option<PathBuf>,
    /// Bearer keys for /v1/admin routes (also WARDEN_ADMIN_KEYS)
    #[arg(long, value_name = "FILE")]
    pub admin_keys_file: Option<PathBuf>,
    /// Listen beyond loopback without API keys (a proxy in front authenticates callers)
    #[arg(long)]
    pub no_auth: bool,
    /// The largest request body, in bytes
    #[arg(long, value_name = "BYTES", default_value_t = warden_server::settings::DEFAULT_BODY_LIMIT,
          value_parser = clap::value_parser!(usize))]
    pub max_body: usize,
    /// Logins in flight at once; beyond it the server answers 503 with Retry-After
    #[arg(long, value_name = "N", default_value_t = warden_server::settings::DEFAULT_CONCURRENCY)]
    pub concurrency: usize,
    /// Each login's time budget in milliseconds, 1 to 600000 (default: each pipeline's)
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..=600_000))]
    pub timeout_ms: Option<u64>,
    /// Reload a pipeline when one of its files changes
    #[arg(long)]
    pub watch: bool,
    /// Write one JSON line per login to this file (`-` for stdout)
    #[arg(long, value_name = "PATH")]
    pub decision_log: Option<PathBuf>,
    /// A TOML file with decision-log masks and hook options (docs/serve.md)
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// After SIGTERM, keep serving this many milliseconds with /ready answering 503, so load
    /// balancers stop sending before the server stops accepting
    #[arg(long, value_name = "MS", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=600_000))]
    pub shutdown_wait_ms: u64,
    /// Decide logins of pipelines without JavaScript whose body is at most this many bytes on
    /// the connection's async worker (no thread hand-off); larger ones, and JavaScript, go to
    /// the blocking pool; 0: always the blocking pool
    #[arg(long, value_name = "BYTES", default_value_t = warden_server::settings::DEFAULT_INLINE_MAX_BODY)]
    pub inline_max_body: usize,
    /// How many logins one JavaScript worker process runs at once (each on a thread with its
    /// own QuickJS runtime; a rule that waits holds one); with every worker full, a login
    /// waits for room until its deadline
    #[arg(long, value_name = "N", default_value_t = warden::JS_DEFAULT_RUNS_PER_WORKER as u32,
          value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub js_runs_per_worker: u32,
    /// Log format on stderr (level from WARDEN_LOG, default info)
    #[arg(long, value_enum, default_value_t = serve::LogFormat::Text)]
    pub log_format: serve::LogFormat,
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
    /// Accepted for compatibility: the manifest's literal configuration values now always
    /// travel in the artifact (values from environment variables never do)
    #[arg(long, hide = true)]
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
    /// `.rule` and `.js` files (one pipeline, in order), a `warden.toml`, or a directory holding one
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
    /// The pipeline's time budget in milliseconds, 1 to 600000 (default: the manifest's, else 20000)
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..=600_000))]
    pub timeout_ms: Option<u64>,
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
    /// Answer the rules' HTTP requests from this JSON array of canned exchanges instead of
    /// the network (`[{"method": "POST", "url": "https://...", "json": {...}}]`, as a test
    /// case's `[[case.http]]`); the outcome then says which were used (`http`)
    #[arg(long, value_name = "FILE")]
    pub http_exchanges: Option<PathBuf>,
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
        Command::Run(a) => {
            let code = run(&a, style, &mut out);
            // Requests rules sent without waiting (notifications) go out before the process ends.
            warden::settle_js_http(std::time::Duration::from_secs(5));
            code
        }
        Command::Test(a) => testing::command(&a, style, &mut out),
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
            out.stdout = warden::schema_markdown();
            0
        }
        // Long-running: writes to stdout and stderr itself.
        Command::Serve(a) => serve::command(&a),
        Command::Migrate(m) => migrate::command(m, &mut out),
        Command::Fmt(a) => fmt::command(&a, style, &mut out),
        // Long-running: speaks the protocol on stdin and stdout itself.
        Command::Lsp => u8::try_from(warden_lsp::run_stdio()).unwrap_or(EXIT_ERROR),
    };
    (code, out)
}

/// The real process entry point.
/// The hidden subcommand a JavaScript worker process is started with.
pub const JS_WORKER: &str = "__js-worker";

pub fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `warden __js-worker`: this process is a JavaScript worker of another warden.
    if args.first().map(String::as_str) == Some(JS_WORKER) {
        return std::process::ExitCode::from(u8::try_from(warden::serve_js_worker()).unwrap_or(2));
    }
    // JavaScript rules run in worker processes started from this binary (ARCHITECTURE.md,
    // "JavaScript execution model"), unless WARDEN_JS_IN_PROCESS=1 asks for the calling process.
    let in_process = std::env::var_os("WARDEN_JS_IN_PROCESS").is_some_and(|v| v == "1");
    if !in_process && let Ok(exe) = std::env::current_exe() {
        warden::set_js_isolation(Some(warden::JsWorkers::new(vec![exe.into_os_string(), JS_WORKER.into()])));
    }
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let (code, out) = main_with(&args, color);
    let _ = std::io::stdout().write_all(out.stdout.as_bytes());
    let _ = std::io::stderr().write_all(out.stderr.as_bytes());
    std::process::ExitCode::from(code)
}
