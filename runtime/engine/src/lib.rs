//! warden: login rules for teams that run their own authentication stack.
//!
//! Load a pipeline once (from a `warden.toml` manifest or from sources), then decide each
//! login by executing it on the `user` and `context` JSON:
//!
//! ```
//! use serde_json::json;
//!
//! let pipeline = warden::Pipeline::from_source(
//!     "main.rule",
//!     r#"rule "verified only" { deny "Please verify your email." unless user.email_verified }"#,
//! )
//! .expect("the rules check");
//!
//! let user = json!({ "user_id": "auth0|1", "email": "a@example.com", "email_verified": false });
//! let context = json!({ "clientName": "App", "protocol": "oidc-basic-profile" });
//! let outcome = pipeline.execute(&user, &context, &warden::Exec::at(1_700_000_000_000)).expect("valid input");
//!
//! assert!(!outcome.is_allow());
//! assert_eq!(outcome.to_json()["error"]["description"], "Please verify your email.");
//! ```
//!
//! A host that holds JSON bytes decides from bytes to bytes, without building documents
//! (the outcome is byte for byte what parsing them whole would give):
//!
//! ```
//! # let pipeline = warden::Pipeline::from_source("main.rule", r#"rule "r" { deny unless user.email_verified }"#).unwrap();
//! let body = br#"{"user":{"user_id":"auth0|1","email_verified":true,"x":[1,2]},"context":{},"now":"2026-11-26T12:00:00Z"}"#;
//! let written = pipeline.execute_request(body, |now| warden::Exec::at(now.unwrap_or(0))).expect("valid input");
//! assert_eq!(written.decision, warden::Decision::Allow);
//! assert!(String::from_utf8(written.json).unwrap().contains(r#""user":{"user_id":"auth0|1","email_verified":true,"x":[1,2]}"#));
//! ```
//!
//! Guarantees: checking finds every error before a login runs; execution never panics on
//! any input, does no I/O, and terminates in time bounded by its input; missing data never
//! grants access; a run-time type problem in dynamic data denies the login with
//! `cause: rule_error`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value as Json;
use warden_check::{Compiled, ConfigValue};
use warden_ir::{ClaimMode, Options, Program};
use warden_runtime::{Config, Prepared};
/// Diagnostic codes, each with its meaning (`docs/diagnostics.md`).
pub use warden_syntax::codes;
use warden_syntax::codes::{E0400, W0400};
pub use warden_syntax::{Diagnostic, FileId, Related, Severity, SourceFile, SourceMap, Span};

pub use warden_artifact::{PublicKey, Refused as ArtifactError, SecretKey};
pub use warden_check::Manifest;
/// Auth0's `context.protocol` values, as the schema enforces them (`docs/schema.md`).
pub use warden_check::schema::PROTOCOLS;
/// The modules `require` finds built into warden's JavaScript runtime (`docs/javascript.md`).
pub use warden_ir::npm::BUILTIN_MODULES;
/// Why the JIT did not compile a pipeline (`Pipeline::jit_unavailable`).
pub use warden_jit::CompileError;

mod analysis;
pub use analysis::{
    Analysis, Completion, CompletionKind, FileDiagnostics, Hover, Location, MANIFEST_NAME, Overlays, Symbol,
    find_manifest,
};
mod artifact;
pub use artifact::{InspectedModule, InspectedStep, Inspection};
pub mod files;
mod report;
pub use report::{BranchCoverage, FileCoverage, Report, RuleCoverage, read_manifest};
pub use warden_interp::{Coverage, Point, points as coverage_points, show as show_expr};
/// What a trace records (`Exec::trace`, the outcome's `trace`).
pub use warden_runtime::trace;
/// Why `format_source` did not format a file.
pub use warden_syntax::format::{FormatError, WIDTH as FORMAT_WIDTH};

/// A `.rule` file in warden's one canonical layout (`warden fmt`, the language server's
/// formatting): idempotent, and the result checks to the same program as the input. A file
/// that does not parse is not formatted ([`FormatError::Syntax`], its diagnostics in file 0).
pub fn format_source(text: &str) -> Result<String, FormatError> {
    warden_syntax::format::format(text)
}

/// The reference of the user and context fields rules can read (`warden schema`), as
/// Markdown.
pub fn schema_markdown() -> String {
    warden_check::schema::markdown(&warden_check::schema::Schema::new(&BTreeMap::new()))
}

/// The type of a field of the built-in schema (`docs/schema.md`), as tools that reason about
/// rules need it (`warden migrate`): objects and enumerations are not spelt out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldType {
    Bool,
    Int,
    Float,
    Str,
    /// A string with a documented set of values (`context.protocol`, risk confidences).
    OneOf(Vec<String>),
    /// A date-time (a string or epoch milliseconds in the input).
    Time,
    List(Box<FieldType>),
    /// An object whose fields the schema knows.
    Object,
    /// Data of no known shape (metadata, query, body ...).
    Any,
}

/// The type of `user.…` or `context.…` in the built-in schema (no manifest declarations), or
/// `None` when the schema has no such field. `path` starts with `"user"` or `"context"`;
/// below a dynamic object every path is [`FieldType::Any`].
pub fn schema_field(path: &[&str]) -> Option<FieldType> {
    use warden_check::schema::{CTy, Schema};
    fn of(t: &CTy) -> FieldType {
        match t {
            CTy::Bool => FieldType::Bool,
            CTy::Int => FieldType::Int,
            CTy::Float => FieldType::Float,
            CTy::Str => FieldType::Str,
            CTy::Enum(values) => FieldType::OneOf(values.iter().map(|v| v.to_string()).collect()),
            CTy::Time => FieldType::Time,
            CTy::List(t) => FieldType::List(Box::new(of(t))),
            CTy::Obj(_) => FieldType::Object,
            CTy::Null | CTy::Dyn => FieldType::Any,
        }
    }
    static SCHEMA: std::sync::OnceLock<Schema> = std::sync::OnceLock::new();
    let schema = SCHEMA.get_or_init(|| Schema::new(&BTreeMap::new()));
    let (root, rest) = path.split_first()?;
    let mut at = match *root {
        "user" => schema.user.clone(),
        "context" => schema.context.clone(),
        _ => return None,
    };
    for name in rest {
        at = match &at {
            CTy::Obj(shape) => shape.field(name)?.ty.clone(),
            CTy::Null | CTy::Dyn => CTy::Dyn,
            _ => return None,
        };
    }
    Some(of(&at))
}

/// Every field of an outcome, denials included, as one JSON value: what the wire format
/// leaves out of a denial, the rule behind each effect, the trace. Compare these to compare
/// outcomes whole (the differential tests, `warden migrate`'s proofs). Destructured field by
/// field, so that a new field does not compile until it is added here.
pub fn outcome_whole(o: &Outcome) -> Json {
    let Outcome {
        decision,
        error,
        user,
        id_token,
        access_token,
        scope,
        multifactor,
        redirect,
        saml_configuration,
        primary_user,
        effects,
        logs,
        trace,
        http,
    } = o;
    let effects: Vec<Json> = effects
        .iter()
        .map(|e| {
            let Effect { kind, user_id, patch, rule } = e;
            serde_json::json!({ "kind": kind, "user_id": user_id, "patch": patch, "rule": rule })
        })
        .collect();
    serde_json::json!({
        "decision": decision,
        "error": error,
        "user": **user,
        "id_token": id_token,
        "access_token": access_token,
        "scope": scope,
        "multifactor": multifactor,
        "redirect": redirect,
        "saml_configuration": saml_configuration,
        "primary_user": primary_user,
        "effects": effects,
        "logs": logs,
        "trace": trace,
        "http": http,
    })
}

/// The QuickJS version warden embeds for legacy JavaScript rules (recorded in artifacts).
pub use warden_js::quickjs_version;
/// How JavaScript worker processes start (`warden __js-worker`), how many per pipeline, and
/// how many runs each takes at once.
pub use warden_js::worker::{
    DEFAULT_RUNS_PER_WORKER as JS_DEFAULT_RUNS_PER_WORKER, GRACE as JS_GRACE, Workers as JsWorkers,
};

/// Where the JavaScript rules of pipelines loaded from now on run: `None` (the default) in
/// the calling process; or in worker processes, which bound every rule by its deadline plus
/// [`JS_GRACE`] whatever it does and keep a crash of the JavaScript engine out of this
/// process (ARCHITECTURE.md, "JavaScript execution model"). A worker is a program that calls
/// [`serve_js_worker`]; `warden __js-worker` is one.
pub fn set_js_isolation(workers: Option<JsWorkers>) {
    warden_js::set_isolation(workers);
}

/// Waits up to `wait` for HTTP requests JavaScript rules started in this process and did not
/// wait for (a notification sent as the rule called back) to end; returns how many are left.
/// A short-lived process calls it before exiting (`warden run` does); with worker processes,
/// each worker waits the same way when its host lets it go.
pub fn settle_js_http(wait: Duration) -> usize {
    warden_js::settle_http(wait)
}

/// Where the JavaScript rules of pipelines loaded from now on run (see [`set_js_isolation`]).
pub fn js_isolation() -> Option<JsWorkers> {
    warden_js::isolation()
}

/// Serves as a JavaScript worker on stdin and stdout until stdin closes (the program behind
/// [`JsWorkers::command`]); returns the process's exit status.
pub fn serve_js_worker() -> i32 {
    warden_js::worker::serve()
}
/// The type a `[configuration]` entry declares (`docs/manifest.md`).
pub use warden_ir::ConfigType;
pub use warden_runtime::{
    Cause, ConfigError, Decision, Effect, EffectKind, ErrorInfo, Exchange, InputError, LogEntry, MAX_INPUT_DEPTH,
    MAX_INPUT_VALUES, Outcome, ScriptUse, check_json_text,
};

/// Why a pipeline could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The rules or the manifest have errors; render the diagnostics against the sources.
    #[error("{}", check_summary(.0))]
    Check(Box<Report>),
    /// The pipeline checks but this build cannot run it.
    #[error(transparent)]
    Unsupported(Unsupported),
    /// An artifact that is truncated, corrupted, foreign, of another version, wrongly signed,
    /// or missing configuration; or a key or manifest given to load it that cannot be used.
    #[error(transparent)]
    Refused(Refusal),
    /// Configuration values that do not fit their keys' declared types (from the manifest,
    /// the environment, or the values given to load an artifact).
    #[error("{}", config_errors(.0))]
    Config(Vec<ConfigError>),
}

fn config_errors(errors: &[ConfigError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

fn check_summary(c: &Report) -> String {
    let errors: Vec<&Diagnostic> = c.diagnostics.iter().filter(|d| d.is_error()).collect();
    let n = errors.len();
    let mut out = format!("the pipeline has {n} error{}", if n == 1 { "" } else { "s" });
    for d in errors {
        out.push_str(&format!("\n  error[{}]: {}", d.code, d.message));
    }
    out
}

/// What keeps a pipeline that checks from running in this build.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Unsupported {
    /// The program's regexes or sets cannot be prepared (an IR that did not come from the
    /// checker).
    #[error("{0}")]
    Program(String),
    /// An artifact's JavaScript rule or module does not compile or load.
    #[error("a JavaScript rule does not load: {path}: {message}")]
    JsRule { path: String, message: String },
}

/// Why an artifact was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The file itself: size, format, versions, integrity, signature, body, program.
    #[error(transparent)]
    Artifact(#[from] warden_artifact::Refused),
    /// The artifact needs configuration values that were not given (nor built in, nor in
    /// their environment variables).
    #[error("artifact refused: it needs configuration {}", missing_list(.0))]
    MissingConfig(Vec<MissingConfig>),
    /// Its JavaScript bytecode was compiled by another QuickJS.
    #[error("artifact refused: its JavaScript was compiled for {}, this warden embeds {}: rebuild it", .found.as_deref().unwrap_or("no QuickJS"), warden_js::quickjs_version())]
    QuickJs { found: Option<String> },
    /// It has JavaScript rules but no (or mismatched, or malformed) bytecode for them.
    #[error("artifact refused: {0}")]
    Bytecode(&'static str),
    /// The verification key cannot be used.
    #[error(transparent)]
    Key(#[from] files::KeyFileError),
    /// The manifest naming the verification key cannot be read.
    #[error("cannot read the manifest `{0}`")]
    Manifest(String),
    /// The manifest given to verify an artifact names no `[bundle] verify_key`: verifying
    /// with nothing would load the artifact unverified.
    #[error("artifact refused: the manifest `{0}` names no `[bundle] verify_key` to verify it with")]
    NoVerifyKey(String),
    /// The artifact file cannot be read.
    #[error("cannot read `{path}`: {reason}")]
    Read { path: String, reason: files::ReadError },
}

/// A configuration key without a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingConfig {
    pub key: String,
    /// The environment variable that was to hold it.
    pub env: Option<String>,
}

impl MissingConfig {
    /// The keys as messages name them: `` `KEY` (environment variable `NAME`), ... ``.
    pub fn list(keys: &[MissingConfig]) -> String {
        missing_list(keys)
    }
}

fn missing_list(keys: &[MissingConfig]) -> String {
    let shown: Vec<String> = keys
        .iter()
        .map(|k| match &k.env {
            Some(env) => format!("`{}` (environment variable `{env}`)", k.key),
            None => format!("`{}`", k.key),
        })
        .collect();
    shown.join(", ")
}

/// How a pipeline runs. Both give the same outcome, byte for byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Backend {
    /// Native code compiled by Cranelift when the pipeline loads (the default).
    #[default]
    Jit,
    /// The reference interpreter.
    Interp,
}

/// Options of one execution.
#[derive(Clone, Debug, Default)]
pub struct Exec {
    /// The time rules see as `now()`, in epoch milliseconds.
    pub now: i64,
    /// Adds a per-rule trace to the outcome (`trace` key). Traces come from the interpreter,
    /// whatever the backend.
    pub trace: bool,
    pub backend: Backend,
    /// Overrides the pipeline's time budget (`[pipeline] timeout_ms`, default 20 s).
    pub timeout: Option<Duration>,
}

impl Exec {
    /// Executes at a fixed time (epoch milliseconds), on the JIT.
    pub fn at(now: i64) -> Exec {
        Exec { now, trace: false, backend: Backend::Jit, timeout: None }
    }

    /// The same, on another backend.
    pub fn on(mut self, backend: Backend) -> Exec {
        self.backend = backend;
        self
    }
    /// Executes at the current time of the system clock.
    pub fn now() -> Exec {
        Exec::at(jiff::Timestamp::now().as_millisecond())
    }
}

/// A login's inputs decoded into a pipeline's slots, ready to run.
#[derive(Debug)]
pub struct Decoded(warden_runtime::Txn);

impl Decoded {
    /// The login's HTTP requests (from JavaScript rules) are answered by these exchanges
    /// instead of the network, after the `[http]` policy allowed them: each by the first
    /// unused exchange it matches; one that matches none fails as a refused connection. The
    /// outcome then reports which were used and what matched none (`Outcome::http`).
    pub fn answer_http_from(mut self, exchanges: std::sync::Arc<Vec<Exchange>>) -> Decoded {
        self.0.net.script = Some(exchanges);
        self
    }
}

/// A copy owns its user (as `execute_owned` does), so that rules writing the user do not pay
/// for copying a shared one; the context is never written and stays shared.
impl Clone for Decoded {
    fn clone(&self) -> Decoded {
        let mut txn = self.0.clone();
        txn.user = Arc::new((*self.0.user).clone());
        Decoded(txn)
    }
}

/// A checked, loaded pipeline, ready to decide logins. Cheap to share across threads.
#[derive(Debug)]
pub struct Pipeline {
    program: Arc<Program>,
    prepared: Prepared,
    /// The JIT's code, or why Cranelift could not compile the program (an unsupported
    /// machine, or a bug): the JIT backend then runs the interpreter, with the same outcomes,
    /// and `jit_unavailable` says so.
    jit: Result<warden_jit::Compiled, warden_jit::CompileError>,
    /// The legacy JavaScript rules, when the pipeline has any.
    js: Option<warden_js::JsRules>,
    /// The runs of consecutive JavaScript steps, by the rule that starts each.
    js_runs: Vec<Vec<(usize, warden_js::Link)>>,
    /// The configuration, parsed as the program's typed keys say.
    config: Config,
    /// Configuration keys without a value at load, with the environment variable that was
    /// expected to hold it.
    missing_config: BTreeMap<String, Option<String>>,
    /// How the manifest gives each configuration key its value (for artifacts).
    config_spec: Vec<warden_artifact::ConfigKey>,
    warnings: Vec<warden_syntax::Diagnostic>,
    /// The files the pipeline was compiled from, by the program's file index.
    sources: Vec<SourceFile>,
    /// [`Pipeline::content_hash`].
    hash: [u8; 32],
    /// What the fast decoder keeps of each login's input (`execute_bytes`).
    plan: warden_runtime::scan::Plan,
}

impl Pipeline {
    /// Loads the pipeline a `warden.toml` describes. Configuration values given as
    /// `{ env = "NAME" }` are read from the environment now.
    pub fn from_manifest(path: impl AsRef<Path>) -> Result<Pipeline, LoadError> {
        let compiled = warden_check::check_manifest(path.as_ref());
        let mut spec = Vec::new();
        if let Some(m) = &compiled.manifest
            && let Some(cfg) = &m.configuration
        {
            for (key, entry) in cfg {
                let (env, value) = match &entry.value {
                    ConfigValue::Literal(v) => (None, Some(v.clone())),
                    ConfigValue::Env { env } => (Some(env.clone()), None),
                };
                spec.push(warden_artifact::ConfigKey { key: key.clone(), env, value, ty: entry.ty });
            }
        }
        Pipeline::load(compiled, spec)
    }

    /// Loads `.rule` files as one pipeline, in order.
    pub fn from_files(paths: &[PathBuf], claim_mode: ClaimMode) -> Result<Pipeline, LoadError> {
        Pipeline::load(warden_check::check_files(paths, claim_mode), Vec::new())
    }

    /// Loads one in-memory `.rule` source.
    pub fn from_source(name: &str, text: &str) -> Result<Pipeline, LoadError> {
        Pipeline::from_sources(&[(name.to_string(), text.to_string())], Options::default())
    }

    /// Loads in-memory `.rule` sources as one pipeline, in order.
    pub fn from_sources(files: &[(String, String)], options: Options) -> Result<Pipeline, LoadError> {
        Pipeline::load(warden_check::check_sources(files, options), Vec::new())
    }

    fn load(compiled: Compiled, config_spec: Vec<warden_artifact::ConfigKey>) -> Result<Pipeline, LoadError> {
        let mut compiled = Report::new(compiled);
        let Some(program) = compiled.take_program() else {
            return Err(LoadError::Check(Box::new(compiled)));
        };
        compiled.diagnostics.extend(require_warnings(&program, &compiled.sources));
        let sources = compiled.sources.files.clone();
        let (config, missing) = resolve_config(&config_spec);
        let config = Config::new(&program, config).map_err(LoadError::Config)?;
        // The JavaScript rules compile here once: their errors become diagnostics (E0400).
        let js = match load_js(&program, &sources, config.strings(), None) {
            Ok(js) => js,
            Err(errors) => {
                compiled.diagnostics.extend(js_error_diagnostics(&program, &compiled.sources, errors));
                return Err(LoadError::Check(Box::new(compiled)));
            }
        };
        let hash = content_hash(&program, &sources, &config_spec);
        Pipeline::assemble(program, sources, config_spec, compiled.diagnostics, js, config, missing, hash)
    }

    /// A pipeline from a checked (or verified) program and its loaded JavaScript rules:
    /// prepares sets and compiles the JIT.
    #[allow(clippy::too_many_arguments)]
    fn assemble(
        program: Program,
        sources: Vec<SourceFile>,
        config_spec: Vec<warden_artifact::ConfigKey>,
        warnings: Vec<warden_syntax::Diagnostic>,
        js: Option<warden_js::JsRules>,
        config: Config,
        missing: BTreeMap<String, Option<String>>,
        hash: [u8; 32],
    ) -> Result<Pipeline, LoadError> {
        let prepared =
            Prepared::new(&program).map_err(|m| LoadError::Unsupported(Unsupported::Program(m.into_message())))?;
        let js_runs = js_runs(&program);
        let program = Arc::new(program);
        let jit = warden_jit::compile(program.clone());
        let plan = warden_runtime::scan::Plan::new(&program);
        Ok(Pipeline {
            plan,
            program,
            prepared,
            jit,
            js,
            js_runs,
            config,
            missing_config: missing,
            config_spec,
            warnings,
            sources,
            hash,
        })
    }

    /// The SHA-256 of what decides: the checked program, its sources and the literal
    /// configuration values that travel with it. A manifest and the artifact built from it
    /// have the same hash; a change to any rule, list, module or literal value changes it.
    /// Values from environment variables or `set_config` do not take part.
    pub fn content_hash(&self) -> [u8; 32] {
        self.hash
    }

    /// [`Pipeline::content_hash`] in lowercase hexadecimal.
    pub fn content_hash_hex(&self) -> String {
        hex::encode(self.hash)
    }

    /// Configuration keys that have no value (neither in the manifest or artifact, nor in
    /// their environment variable, nor set): a login that reads one is refused with
    /// [`InputError::MissingConfig`]. A server refuses to serve such a pipeline.
    pub fn missing_config(&self) -> Vec<MissingConfig> {
        self.missing_config.iter().map(|(key, env)| MissingConfig { key: key.clone(), env: env.clone() }).collect()
    }

    /// Sets (or overrides) a configuration value. A key declared with a type
    /// (`docs/manifest.md`) parses its value now: a value that does not fit is an error, and
    /// the configuration does not change.
    pub fn set_config(&mut self, key: impl Into<String>, value: impl Into<String>) -> Result<(), ConfigError> {
        let key = key.into();
        self.config.set(key.clone(), value.into())?;
        self.missing_config.remove(&key);
        Ok(())
    }

    /// The checked program.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// Drops this thread's JavaScript runtime for the pipeline; the next login starts a fresh
    /// one (its `global` starts empty). Timeouts and sandbox limits do this by themselves.
    pub fn recycle_js(&self) {
        if let Some(js) = &self.js {
            js.recycle();
        }
    }

    /// Whether the pipeline's JavaScript rules run in worker processes ([`set_js_isolation`]).
    pub fn js_in_workers(&self) -> bool {
        self.js.as_ref().is_some_and(warden_js::JsRules::in_workers)
    }

    /// The process ids of the pipeline's live JavaScript workers (for operations and tests).
    pub fn js_worker_pids(&self) -> Vec<u32> {
        self.js.as_ref().map(warden_js::JsRules::worker_pids).unwrap_or_default()
    }

    /// Whether native code is available (else the JIT backend runs the interpreter).
    pub fn has_jit(&self) -> bool {
        self.jit.is_ok()
    }

    /// Why the JIT backend runs the interpreter for this pipeline (Cranelift could not
    /// compile it), or `None` when it runs native code. Hosts and tests that ask for the
    /// JIT check this: the downgrade keeps outcomes the same but is never silent.
    pub fn jit_unavailable(&self) -> Option<&warden_jit::CompileError> {
        self.jit.as_ref().err()
    }

    /// Warnings found while checking.
    pub fn warnings(&self) -> &[warden_syntax::Diagnostic] {
        &self.warnings
    }

    /// The files the pipeline was compiled from, by the program's file index.
    pub fn sources(&self) -> &[SourceFile] {
        &self.sources
    }

    /// The pipeline's files as a source map, to render its diagnostics against.
    pub fn source_map(&self) -> SourceMap {
        let mut m = SourceMap::default();
        for s in &self.sources {
            m.add(s.path.clone(), s.text.clone());
        }
        m
    }

    /// How each configuration key gets its value.
    pub fn config_spec(&self) -> &[warden_artifact::ConfigKey] {
        &self.config_spec
    }

    /// Decides one login. Bad input (wrong JSON shapes, known fields of the wrong type,
    /// configuration without a value) is an `Err`; a denied login is an `Ok` outcome.
    pub fn execute(&self, user: &Json, context: &Json, exec: &Exec) -> Result<Outcome, InputError> {
        // Before the copy: copying a document recurses once per level.
        warden_runtime::check_depth("user", user)?;
        warden_runtime::check_depth("context", context)?;
        self.execute_owned(user.clone(), context.clone(), exec)
    }

    /// [`Pipeline::execute`] without copying the inputs.
    pub fn execute_owned(&self, user: Json, context: Json, exec: &Exec) -> Result<Outcome, InputError> {
        self.execute_shared(Arc::new(user), Arc::new(context), exec)
    }

    /// [`Pipeline::execute`] on inputs the host shares: nothing is copied unless a rule
    /// changes the user (then the outcome's `user` is a changed copy).
    pub fn execute_shared(&self, user: Arc<Json>, context: Arc<Json>, exec: &Exec) -> Result<Outcome, InputError> {
        let decoded = self.decode_shared(user, context, exec.now)?;
        Ok(self.run_decoded(decoded, exec))
    }

    /// Decodes a login's inputs into the pipeline's slots (the first half of `execute`).
    pub fn decode(&self, user: Json, context: Json, now: i64) -> Result<Decoded, InputError> {
        self.decode_shared(Arc::new(user), Arc::new(context), now)
    }

    fn decode_shared(&self, user: Arc<Json>, context: Arc<Json>, now: i64) -> Result<Decoded, InputError> {
        self.decode_with(user, context, now, &BTreeMap::new())
    }

    /// Decodes with configuration values overriding the pipeline's for this login only.
    pub fn decode_with(
        &self,
        user: Arc<Json>,
        context: Arc<Json>,
        now: i64,
        overrides: &BTreeMap<String, String>,
    ) -> Result<Decoded, InputError> {
        if let Some((key, env)) = self.missing_config.iter().find(|(k, _)| !overrides.contains_key(*k)) {
            return Err(InputError::MissingConfig { key: key.clone(), env: env.clone() });
        }
        // Typed values are parsed once, here, for this login.
        let config = self.config.with(overrides).map_err(InputError::BadConfig)?;
        Ok(Decoded(warden_runtime::Txn::new(&self.program, user, context, config, now)?))
    }

    /// Runs the rules on decoded inputs and assembles the outcome (the second half).
    pub fn run_decoded(&self, decoded: Decoded, exec: &Exec) -> Outcome {
        let (finished, trace, _) = self.run_txn(decoded.0, exec);
        let mut outcome = finished.into_outcome();
        outcome.trace = trace.map(Box::new);
        outcome
    }

    /// Runs the rules and finishes the login (its trace when asked); also returns how many of
    /// the user's first members are still the input's, in place (`Txn::user_original`).
    fn run_txn(
        &self,
        mut txn: warden_runtime::Txn,
        exec: &Exec,
    ) -> (warden_runtime::Finished, Option<trace::Trace>, usize) {
        txn.now = exec.now;
        let deadline = self.deadline(exec);
        let mut progress = JsProgress::default();
        let mut js = |j: u32, txn: &mut warden_runtime::Txn| self.run_js(j, txn, deadline, &mut progress);
        let (stop, trace) = match (&self.jit, exec.backend, exec.trace) {
            (Ok(jit), Backend::Jit, false) => (jit.run(&self.prepared, &mut txn, &mut js), None),
            _ => {
                let mut observe = warden_interp::Observe { trace: exec.trace, coverage: None };
                warden_interp::run(&self.program, &self.prepared, &mut txn, &mut observe, &mut js)
            }
        };
        let original = txn.user_original;
        (warden_runtime::finish_parts(txn, self.program.options.claim_mode, stop), trace, original)
    }

    /// Runs on the interpreter and adds what the run covered to `coverage`.
    pub fn run_covered(&self, decoded: Decoded, exec: &Exec, coverage: &mut Coverage) -> Outcome {
        let mut txn = decoded.0;
        txn.now = exec.now;
        let mut observe = warden_interp::Observe { trace: exec.trace, coverage: Some(std::mem::take(coverage)) };
        let deadline = self.deadline(exec);
        let mut js_runs: Vec<u32> = Vec::new();
        let mut progress = JsProgress::default();
        let mut js = |j: u32, txn: &mut warden_runtime::Txn| {
            js_runs.push(j);
            self.run_js(j, txn, deadline, &mut progress)
        };
        let (stop, trace) = warden_interp::run(&self.program, &self.prepared, &mut txn, &mut observe, &mut js);
        *coverage = observe.coverage.unwrap_or_default();
        for j in js_runs {
            *coverage.js.entry(j).or_default() += 1;
        }
        let mut outcome = warden_runtime::finish(txn, self.program.options.claim_mode, stop);
        outcome.trace = trace.map(Box::new);
        outcome
    }

    /// When the login's time is up. Only JavaScript steps read it (`.rule` rules end in time
    /// bounded by their input): a pipeline without them does not read the clock.
    fn deadline(&self, exec: &Exec) -> Instant {
        static EPOCH: std::sync::LazyLock<Instant> = std::sync::LazyLock::new(Instant::now);
        match &self.js {
            Some(_) => Instant::now() + self.timeout(exec),
            None => *EPOCH,
        }
    }

    /// The login's time budget: the caller's, else the manifest's, else 20 s; never more than
    /// the documented maximum of 600 s (so that a deadline is always a real instant).
    fn timeout(&self, exec: &Exec) -> Duration {
        let t = exec.timeout.or(self.program.options.timeout_ms.map(Duration::from_millis));
        t.unwrap_or(Duration::from_secs(20)).min(Duration::from_millis(600_000))
    }

    /// JavaScript step `j`: at the first step of a run of consecutive JavaScript steps the
    /// whole run executes (here or in a worker), then the slots are decoded again from what it
    /// left; the steps after it report what the run decided for them.
    fn run_js(
        &self,
        j: u32,
        txn: &mut warden_runtime::Txn,
        deadline: Instant,
        progress: &mut JsProgress,
    ) -> Option<ErrorInfo> {
        if progress.ahead.front() == Some(&j) {
            progress.ahead.pop_front();
            return match &progress.stop {
                Some((at, e)) if *at == j => Some(e.clone()),
                _ => None,
            };
        }
        let Some(js) = &self.js else {
            return Some(ErrorInfo {
                code: "access_denied".into(),
                description: "no JavaScript runtime for this pipeline".into(),
                rule: String::new(),
                cause: Cause::RuleError,
                location: None,
            });
        };
        let alone = [(j as usize, warden_js::Link::ALONE)];
        let run = match self.js_runs.get(j as usize) {
            Some(run) if !run.is_empty() => run.as_slice(),
            _ => &alone,
        };
        let start = !std::mem::replace(&mut progress.started, true);
        if start {
            progress.login = warden_js::next_login();
        }
        // The run's changes are checked and the slots decoded again once, after it.
        let stop = js.run_steps(run, txn, deadline, progress.login, start).or_else(|| {
            txn.refresh_all(&self.program).err().map(|m| {
                let (last, _) = run[run.len() - 1];
                let e = ErrorInfo {
                    code: "access_denied".into(),
                    description: format!("rule error: the rule left a typed field with the wrong type: {m}"),
                    rule: self.program.js_rules.get(last).map(|r| r.name.clone()).unwrap_or_default(),
                    cause: Cause::RuleError,
                    location: js.rules.get(last).map(|r| r.file.path.clone()),
                };
                (run.len() - 1, e)
            })
        });
        let stop_at = stop.as_ref().map_or(run.len() - 1, |(at, _)| *at);
        progress.ahead = run[1..=stop_at].iter().map(|(i, _)| *i as u32).collect();
        progress.stop = stop.map(|(at, e)| (run[at].0 as u32, e));
        if stop_at == 0 {
            progress.ahead.clear();
            return progress.stop.take().map(|(_, e)| e);
        }
        None
    }

    /// Decides one login from JSON bytes to JSON bytes (the outcome, compact).
    ///
    /// The bytes are read once, straight into the pipeline's slots, and the parts of the user
    /// no rule writes are copied to the outcome as they came (ARCHITECTURE.md, "From bytes to
    /// bytes"). The outcome is byte for byte that of [`Pipeline::execute_bytes_reference`].
    pub fn execute_bytes(&self, user: &[u8], context: &[u8], exec: &Exec) -> Result<Vec<u8>, InputError> {
        match self.execute_bytes_fast(user, context, exec) {
            Some(out) => Ok(out),
            None => self.execute_bytes_reference(user, context, exec),
        }
    }

    /// The fast path of `execute_bytes` alone: `None` when it declines the input (then
    /// `execute_bytes` runs the reference path, which gives the same outcome or error as
    /// ever). It declines pipelines with JavaScript rules, traces, and any input it does not
    /// vouch for: malformed JSON, input errors, escaped keys, repeated top-level keys, numbers
    /// an `int` field would have to convert, limits exceeded. For tests and benchmarks.
    pub fn execute_bytes_fast(&self, user: &[u8], context: &[u8], exec: &Exec) -> Option<Vec<u8>> {
        // A trace is for people, not for speed.
        if exec.trace {
            return None;
        }
        let (txn, members) = self.scan_bytes(user, context, exec.now)?;
        self.run_scanned(txn, user, &members, exec).map(|w| w.json)
    }

    /// A login's inputs decoded by the fast path from JSON bytes (the first half of
    /// `execute_bytes`), or `None` when it declines them ([`Pipeline::execute_bytes_fast`]).
    /// The documents hold only what the runtime reads: the outcome of running it has the
    /// user's kept members only. For benchmarks and tests.
    pub fn decode_bytes(&self, user: &[u8], context: &[u8], now: i64) -> Option<Decoded> {
        self.scan_bytes(user, context, now).map(|(txn, _)| Decoded(txn))
    }

    /// The fast decoder on both documents: the transaction, and the user's top-level members.
    fn scan_bytes(
        &self,
        user: &[u8],
        context: &[u8],
        now: i64,
    ) -> Option<(warden_runtime::Txn, Vec<warden_runtime::scan::Member>)> {
        use warden_runtime::scan::{Which, scan};
        if !self.fast_path() {
            return None;
        }
        let mut slots = vec![warden_runtime::Value::Null; self.program.slots.len()];
        let u = scan(user, &self.plan, Which::User, &mut slots).ok()?;
        let c = scan(context, &self.plan, Which::Context, &mut slots).ok()?;
        Some((self.scanned_txn(u.doc, c.doc, slots, now), u.members))
    }

    /// Whether the fast decoder may take this pipeline's logins: JavaScript reads whole
    /// documents, and missing configuration is the reference path's error to give.
    fn fast_path(&self) -> bool {
        self.js.is_none() && self.missing_config.is_empty()
    }

    fn scanned_txn(
        &self,
        user: Json,
        context: Json,
        slots: Vec<warden_runtime::Value>,
        now: i64,
    ) -> warden_runtime::Txn {
        warden_runtime::Txn::scanned(&self.program, Arc::new(user), Arc::new(context), self.config.clone(), slots, now)
    }

    /// Runs a scanned login and writes its outcome; `input` holds the user's members.
    fn run_scanned(
        &self,
        txn: warden_runtime::Txn,
        input: &[u8],
        members: &[warden_runtime::scan::Member],
        exec: &Exec,
    ) -> Option<WrittenOutcome> {
        let (finished, _, original) = self.run_txn(txn, exec);
        let mut out = Vec::with_capacity(input.len() + 512);
        finished
            .write_json(&mut out, |out| {
                warden_runtime::scan::write_user(out, &finished.user, original, input, members, &self.plan)
            })
            .ok()?;
        Some(WrittenOutcome { json: out, decision: finished.decision, error: finished.error })
    }

    /// Decides one login request, `{"user": {...}, "context": {...}, "now": ...}` (the body of
    /// `warden serve`'s native API, as [`LoginRequest::from_slice`] reads it), from its bytes
    /// to the outcome's bytes. `exec` makes the execution's options from the request's `now`
    /// (`None` when it has none). The fast decoder reads the body once; anything it declines
    /// goes the reference way (`LoginRequest::from_slice`, `execute_owned`, the outcome
    /// serialized), with the same outcome or error.
    pub fn execute_request(
        &self,
        body: &[u8],
        exec: impl Fn(Option<i64>) -> Exec,
    ) -> Result<WrittenOutcome, InputError> {
        if let Some(written) = self.execute_request_fast(body, &exec) {
            return Ok(written);
        }
        self.execute_request_reference(body, &exec)
    }

    /// The fast path of `execute_request` alone: `None` when it declines the request (as
    /// [`Pipeline::execute_bytes_fast`] does, and for members other than `user`, `context`
    /// and `now`, repeated members, a `now` that is not an integer or a valid time). For
    /// tests and benchmarks.
    pub fn execute_request_fast(&self, body: &[u8], exec: &dyn Fn(Option<i64>) -> Exec) -> Option<WrittenOutcome> {
        if !self.fast_path() {
            return None;
        }
        let mut slots = vec![warden_runtime::Value::Null; self.program.slots.len()];
        let r = warden_runtime::scan::scan_request(body, &self.plan, &mut slots).ok()?;
        let now = match r.now {
            None => None,
            Some(warden_runtime::scan::Now::Millis(ms)) => Some(ms),
            Some(warden_runtime::scan::Now::Text(a, b)) => {
                Some(parse_time(std::str::from_utf8(body.get(a..b)?).ok()?)?)
            }
        };
        let exec = exec(now);
        if exec.trace {
            return None;
        }
        let txn = self.scanned_txn(r.user.doc, r.context.doc, slots, exec.now);
        self.run_scanned(txn, body, &r.user.members, &exec)
    }

    /// `execute_request` by the reference path: the body parsed whole
    /// ([`LoginRequest::from_slice`]), executed, the outcome serialized.
    pub fn execute_request_reference(
        &self,
        body: &[u8],
        exec: &dyn Fn(Option<i64>) -> Exec,
    ) -> Result<WrittenOutcome, InputError> {
        let login = LoginRequest::from_slice(body)?;
        let exec = exec(login.now);
        let outcome = self.execute_owned(login.user, login.context, &exec)?;
        Ok(WrittenOutcome {
            json: serde_json::to_vec(&outcome).unwrap_or_default(),
            decision: outcome.decision,
            error: outcome.error,
        })
    }

    /// `execute_bytes` by the reference path: both documents parsed whole into
    /// `serde_json::Value`, the outcome serialized from it. Slower; kept as the specification
    /// the fast path is tested against.
    pub fn execute_bytes_reference(&self, user: &[u8], context: &[u8], exec: &Exec) -> Result<Vec<u8>, InputError> {
        let parse = |bytes: &[u8], what: &str| {
            warden_runtime::check_json_text(what, bytes)?;
            serde_json::from_slice::<Json>(bytes).map_err(|e| InputError::Malformed {
                what: what.to_string(),
                line: e.line(),
                column: e.column(),
                message: e.to_string(),
            })
        };
        let outcome = self.execute_owned(parse(user, "user")?, parse(context, "context")?, exec)?;
        // An outcome is JSON values and strings: writing it to a vector cannot fail.
        Ok(serde_json::to_vec(&outcome).unwrap_or_default())
    }
}

/// An outcome written as compact JSON (the contract's, `docs/outcome.md`), with what a host
/// counts without reading it back.
#[derive(Clone, Debug, PartialEq)]
pub struct WrittenOutcome {
    pub json: Vec<u8>,
    pub decision: Decision,
    /// The denial, as in [`Outcome::error`].
    pub error: Option<ErrorInfo>,
}

/// One login as a request body: `{"user": {...}, "context": {...}, "now": ...}`, the body of
/// `warden serve`'s native API. `now` is an RFC 3339 time or epoch milliseconds; absent, the
/// caller's clock applies. Any other member is refused (a misspelt `contxt` is an error, not
/// an empty context).
#[derive(Clone, Debug, PartialEq)]
pub struct LoginRequest {
    pub user: Json,
    pub context: Json,
    pub now: Option<i64>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    user: Json,
    context: Json,
    #[serde(default)]
    now: Option<LoginNow>,
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum LoginNow {
    Millis(i64),
    Text(String),
}

impl LoginRequest {
    /// Parses a request body, with the limits of any input (depth and values, checked on the
    /// text first) and line and column when it is not JSON or not a login.
    pub fn from_slice(bytes: &[u8]) -> Result<LoginRequest, InputError> {
        let what = "request";
        warden_runtime::check_json_text(what, bytes)?;
        let body: LoginBody = serde_json::from_slice(bytes).map_err(|e| {
            let raw = e.to_string();
            let message = raw.split(" at line ").next().unwrap_or("invalid JSON").to_string();
            let message = match e.classify() {
                serde_json::error::Category::Data => format!("not a login ({message})"),
                serde_json::error::Category::Eof => "unexpected end of input".to_string(),
                _ => message,
            };
            InputError::Malformed { what: what.to_string(), line: e.line(), column: e.column(), message }
        })?;
        let now = match body.now {
            None => None,
            Some(LoginNow::Millis(ms)) => Some(ms),
            Some(LoginNow::Text(t)) => Some(parse_time(&t).ok_or_else(|| InputError::WrongType {
                path: "now".into(),
                expected: "an RFC 3339 time such as 2026-11-26T12:00:00Z, or epoch milliseconds".into(),
                found: format!("{t:?}"),
            })?),
        };
        Ok(LoginRequest { user: body.user, context: body.context, now })
    }
}

/// Parses an RFC 3339 time (`2026-11-26T12:00:00Z`) to epoch milliseconds.
pub fn parse_time(s: &str) -> Option<i64> {
    s.parse::<jiff::Timestamp>().ok().map(|t| t.as_millisecond())
}

/// Configuration values from the manifest or the environment, and the keys still without
/// one (with the environment variable that was expected to hold it).
/// [`Pipeline::content_hash`]: serialization of the program and sources is deterministic
/// (artifacts are reproducible), so the same sources give the same hash.
pub(crate) fn content_hash(program: &Program, sources: &[SourceFile], spec: &[warden_artifact::ConfigKey]) -> [u8; 32] {
    use sha2::Digest;
    let literals: Vec<(&str, &str)> = spec
        .iter()
        .filter(|k| k.env.is_none())
        .filter_map(|k| k.value.as_deref().map(|v| (k.key.as_str(), v)))
        .collect();
    let mut h = sha2::Sha256::new();
    // Writing into a hasher cannot fail; an error would only leave the hash of a prefix.
    let _ = serde_json::to_writer(HashWriter(&mut h), &(program, sources, literals));
    h.finalize().into()
}

struct HashWriter<'a>(&'a mut sha2::Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        sha2::Digest::update(self.0, buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn resolve_config(spec: &[warden_artifact::ConfigKey]) -> (BTreeMap<String, String>, BTreeMap<String, Option<String>>) {
    let mut config = BTreeMap::new();
    let mut missing = BTreeMap::new();
    for k in spec {
        // An empty variable is no value: a secret is never silently empty.
        let from_env = k.env.as_ref().and_then(|e| std::env::var(e).ok()).filter(|v| !v.is_empty());
        match k.value.clone().or(from_env) {
            Some(v) => {
                config.insert(k.key.clone(), v);
            }
            None => {
                missing.insert(k.key.clone(), k.env.clone());
            }
        }
    }
    (config, missing)
}

/// The pipeline's JavaScript rules, compiled (or loaded from a verified artifact's
/// bytecode); `None` when it has none.
fn load_js(
    program: &Program,
    sources: &[SourceFile],
    config: &BTreeMap<String, String>,
    bytecode: Option<VerifiedBytecode>,
) -> Result<Option<warden_js::JsRules>, Vec<warden_js::JsError>> {
    if program.js_rules.is_empty() && program.js_modules.is_empty() {
        return Ok(None);
    }
    let rules = js_sources(program, sources);
    let modules = module_sources(program, sources);
    let limits = js_limits(program);
    match bytecode {
        // SAFETY: `VerifiedBytecode` is only made by `artifact::js_bytecode`, called by
        // `from_artifact` only when the caller gave a key and `warden_artifact::read` verified
        // the artifact's signature with it (and its hash), and only when the header names the
        // QuickJS this build embeds.
        #[allow(unsafe_code)]
        Some(VerifiedBytecode(code)) => unsafe {
            warden_js::JsRules::from_bytecode(rules, modules, code, config, limits)
        },
        None => warden_js::JsRules::new(rules, modules, config, limits),
    }
    .map(Some)
}

/// QuickJS bytecode from an artifact that passed verification (see `artifact::js_bytecode`).
struct VerifiedBytecode(warden_js::Bytecode);

/// The runs of consecutive JavaScript steps, by the JavaScript rule that starts each (empty
/// for the others): each rule's index and where it stands in the run.
fn js_runs(program: &Program) -> Vec<Vec<(usize, warden_js::Link)>> {
    let mut runs = vec![Vec::new(); program.js_rules.len()];
    let is_js = |i: usize| matches!(program.steps.get(i), Some(warden_ir::Step::Js(_)));
    let mut current: Option<usize> = None;
    for (i, step) in program.steps.iter().enumerate() {
        let warden_ir::Step::Js(j) = *step else {
            current = None;
            continue;
        };
        let link =
            warden_js::Link { first: i == 0 || !is_js(i - 1), last: !is_js(i + 1), end: i + 1 == program.steps.len() };
        let head = *current.get_or_insert(j as usize);
        if let Some(run) = runs.get_mut(head) {
            run.push((j as usize, link));
        }
    }
    runs
}

/// Where one execution stands in its JavaScript steps: a run of consecutive JavaScript steps
/// executes at its first step (in one round trip when it runs in a worker), and the steps
/// after it only report what the run decided for them.
#[derive(Debug, Default)]
struct JsProgress {
    /// A JavaScript step already ran in this login.
    started: bool,
    /// The login's number for the JavaScript runtime (`warden_js::next_login`).
    login: u64,
    /// The steps of the current run that already ran, in order, and the stop of the run (a
    /// deny or error, at one of them).
    ahead: std::collections::VecDeque<u32>,
    stop: Option<(u32, ErrorInfo)>,
}

/// The sandbox limits the manifest asked for (the time budget also bounds loading).
fn js_limits(program: &Program) -> warden_js::Limits {
    let mut limits = warden_js::Limits::default();
    if let Some(mib) = program.options.js_memory_mib {
        limits.memory_bytes = usize::try_from(mib.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX);
    }
    if let Some(ms) = program.options.timeout_ms {
        limits.timeout = Duration::from_millis(ms);
    }
    limits.http = program.options.http.clone();
    limits
}

/// The JavaScript rules of a program with their sources.
fn js_sources(program: &Program, sources: &[SourceFile]) -> Vec<warden_js::JsSource> {
    program.js_rules.iter().map(|j| js_source(&j.name, j.file, sources)).collect()
}

/// The vendored modules of a program with their sources.
fn module_sources(program: &Program, sources: &[SourceFile]) -> Vec<warden_js::JsSource> {
    program.js_modules.iter().map(|m| js_source(&m.name, m.file, sources)).collect()
}

fn js_source(name: &str, file: u32, sources: &[SourceFile]) -> warden_js::JsSource {
    let src = sources.get(file as usize);
    warden_js::JsSource { name: name.to_string(), file: src.cloned().unwrap_or_else(|| SourceFile::new("", "")) }
}

/// Syntax errors in a pipeline's JavaScript rules, as diagnostics (E0400), and `require`s
/// no module answers (W0400).
pub fn js_diagnostics(program: &Program, sources: &warden_syntax::SourceMap) -> Vec<warden_syntax::Diagnostic> {
    if program.js_rules.is_empty() && program.js_modules.is_empty() {
        return Vec::new();
    }
    let mut out = require_warnings(program, sources);
    if let Err(errors) = load_js(program, &sources.files, &BTreeMap::new(), None) {
        out.extend(js_error_diagnostics(program, sources, errors));
    }
    out
}

/// W0400 for each literal `require('name')` in a JavaScript rule that no module answers (it
/// throws `Cannot find module` at run time).
fn require_warnings(program: &Program, sources: &warden_syntax::SourceMap) -> Vec<warden_syntax::Diagnostic> {
    let mut out = Vec::new();
    let modules = module_sources(program, &sources.files);
    for j in &program.js_rules {
        let text = &sources.get(j.file).text;
        for (at, _) in text.match_indices("require(") {
            let arg = &text[at + "require(".len()..];
            let Some(quote) = arg.chars().next().filter(|c| *c == '\'' || *c == '"') else { continue };
            let Some(end) = arg[1..].find(quote) else { continue };
            let name = &arg[1..1 + end];
            let base = match name.rfind('@') {
                Some(i) if i > 0 => &name[..i],
                _ => name,
            };
            let builtin = base.strip_prefix("node:").unwrap_or(base);
            if !warden_js::BUILTIN_MODULES.contains(&builtin)
                && !program.js_modules.iter().any(|m| m.name == base)
                && !warden_js::rule_require_resolves(&modules, base)
            {
                out.push(
                    warden_syntax::Diagnostic::warning(W0400, format!("`require('{name}')` cannot be resolved"))
                        .at(
                            j.file,
                            warden_syntax::Span::new(at, at + "require(".len() + end + 2),
                            "throws `Cannot find module` at run time",
                        )
                        .help(format!(
                            "built-in modules are {}; install npm packages in node_modules beside warden.toml (npm install), or vendor files under [modules]",
                            warden_js::BUILTIN_MODULES.join(", ")
                        )),
                );
            }
        }
    }
    out
}

/// JavaScript compile errors as E0400 diagnostics, at their file, line and column.
fn js_error_diagnostics(
    program: &Program,
    sources: &warden_syntax::SourceMap,
    errors: Vec<warden_js::JsError>,
) -> Vec<warden_syntax::Diagnostic> {
    errors
        .into_iter()
        .map(|e| {
            let file = program.js_rules.iter().map(|j| j.file).find(|f| sources.get(*f).path == e.path);
            let mut d = warden_syntax::Diagnostic::error(
                E0400,
                format!("JavaScript rule does not compile: {}", e.message),
            )
            .help(
                "a rule is one function expression, `function (user, context, callback) { ... }`, with no `;` after it",
            );
            if let Some(f) = file {
                let text = &sources.get(f).text;
                let line = e.line.unwrap_or(1).max(1) as usize;
                let start: usize = text.split_inclusive('\n').take(line - 1).map(str::len).sum();
                let col = (e.column.unwrap_or(1).max(1) as usize - 1).min(text.len().saturating_sub(start));
                let at = (start + col).min(text.len());
                d = d.at(f, warden_syntax::Span::new(at, (at + 1).min(text.len())), "here");
            }
            d
        })
        .collect()
}

#[cfg(test)]
mod tests {
    /// A loaded pipeline is shared by the threads of a server.
    #[test]
    fn pipelines_are_send_and_sync() {
        fn shareable<T: Send + Sync>() {}
        shareable::<super::Pipeline>();
    }
}
