//! The crate's public API: [`JsRules`], the JavaScript rules of a pipeline and the one way
//! to run them (here or in worker processes), and the types around it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use warden_syntax::SourceFile;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use warden_runtime::{ErrorInfo, Txn};

use crate::error::timeout;
use crate::{bytecode, sandbox, worker};

/// Modules `require` answers without a vendored file or an npm package (also as `node:name`).
pub const BUILTIN_MODULES: &[&str] = warden_ir::npm::BUILTIN_MODULES;

/// The QuickJS this crate embeds, as recorded in artifacts (`qjs-ng 0.16.2`): read from
/// QuickJS itself, so that bytecode compiled by another build, even a patch release apart,
/// is refused before it reaches QuickJS. At most 16 bytes (the artifact header's field).
pub fn quickjs_version() -> &'static str {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSION.get_or_init(|| {
        let mut v = format!("qjs-ng {}", bytecode::engine_version());
        while v.len() > 16 {
            v.pop();
        }
        v
    })
}

/// Sandbox limits of a JavaScript pipeline.
#[derive(Clone, Debug)]
pub struct Limits {
    /// The whole pipeline's time budget (Auth0 allowed 20 s).
    pub timeout: Duration,
    pub memory_bytes: usize,
    pub stack_bytes: usize,
    /// The manifest's `[http]`: what rules may call. `None`: no request is allowed.
    pub http: Option<warden_ir::HttpPolicy>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { timeout: Duration::from_secs(20), memory_bytes: 64 * 1024 * 1024, stack_bytes: 512 * 1024, http: None }
    }
}

/// A JavaScript rule or module as loaded: its name (the rule's, or the name `require` finds
/// the module by) and its source file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JsSource {
    pub name: String,
    pub file: SourceFile,
}

/// The JavaScript rules of a pipeline and what they need at run time.
#[derive(Debug)]
pub struct JsRules {
    pub(crate) id: u64,
    /// Runtimes hold a weak reference: a thread drops the runtimes of pipelines that are gone
    /// the next time it runs JavaScript.
    pub(crate) alive: Arc<()>,
    pub rules: Vec<JsSource>,
    /// Vendored CommonJS modules (`name` is the module name).
    pub modules: Vec<JsSource>,
    pub limits: Limits,
    /// The rules and modules as QuickJS bytecode: compiled once, loaded by every runtime.
    pub(crate) bytecode: Bytecode,
    /// The configuration JavaScript sees while a runtime loads (the pipeline's at load);
    /// each login then brings its own (`Txn::config`).
    pub(crate) config: Arc<BTreeMap<String, String>>,
    /// Where the rules run: here, or in worker processes.
    workers: Option<worker::Pool>,
    /// The pipeline's HTTP client and policy (`Limits::http`), here.
    pub(crate) net: Option<Arc<crate::net::Net>>,
}

/// A number for a new login, unique in this process (never 0): runs of JavaScript steps of one
/// login carry it, so that a worker knows when a login it has not seen starts.
pub fn next_login() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Where JavaScript rules loaded from now on run: `None` in the calling process (the
/// default), or in worker processes (ARCHITECTURE.md, "JavaScript execution model").
pub fn set_isolation(workers: Option<worker::Workers>) {
    if let Ok(mut w) = ISOLATION.write() {
        *w = workers;
    }
}

/// Where JavaScript rules loaded now run (see [`set_isolation`]).
pub fn isolation() -> Option<worker::Workers> {
    ISOLATION.read().ok().and_then(|w| w.clone())
}

static ISOLATION: std::sync::RwLock<Option<worker::Workers>> = std::sync::RwLock::new(None);

/// A pipeline's JavaScript compiled to QuickJS bytecode (with debug information), by index
/// in [`JsRules::rules`] and [`JsRules::modules`]. Artifacts store it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bytecode {
    pub rules: Vec<Vec<u8>>,
    pub modules: Vec<Vec<u8>>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Drop for JsRules {
    /// Frees this thread's runtime at once; other threads free theirs on their next run.
    fn drop(&mut self) {
        sandbox::forget(self.id);
    }
}

/// A syntax problem in a JavaScript rule, or why its rules could not be loaded.
#[derive(Clone, Debug, Serialize, Deserialize, Error)]
#[error("{message}")]
pub struct JsError {
    pub path: String,
    pub message: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

impl JsError {
    /// An error without a position.
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> JsError {
        JsError { path: path.into(), message: message.into(), line: None, column: None }
    }
}

impl JsRules {
    /// Compiles every rule and module once to bytecode (syntax errors are reported here,
    /// before any login runs), then loads them in a first runtime to check that each rule
    /// is a function. With worker processes ([`set_isolation`]) both happen in the first
    /// worker, under the time budget.
    pub fn new(
        rules: Vec<JsSource>,
        modules: Vec<JsSource>,
        config: &BTreeMap<String, String>,
        limits: Limits,
    ) -> Result<JsRules, Vec<JsError>> {
        match isolation() {
            Some(settings) => JsRules::start_workers(settings, rules, modules, None, config, limits),
            None => JsRules::local(rules, modules, config, limits),
        }
    }

    /// [`JsRules::new`] in this process, whatever [`set_isolation`] says (a worker's own).
    pub fn local(
        rules: Vec<JsSource>,
        modules: Vec<JsSource>,
        config: &BTreeMap<String, String>,
        limits: Limits,
    ) -> Result<JsRules, Vec<JsError>> {
        let bytecode = sandbox::compile_all(&rules, &modules)?;
        JsRules::assemble(rules, modules, bytecode, config, limits)
    }

    fn start_workers(
        settings: worker::Workers,
        rules: Vec<JsSource>,
        modules: Vec<JsSource>,
        bytecode: Option<Bytecode>,
        config: &BTreeMap<String, String>,
        limits: Limits,
    ) -> Result<JsRules, Vec<JsError>> {
        let (pool, bytecode) = worker::Pool::start(settings, &rules, &modules, bytecode, config, &limits)?;
        Ok(JsRules {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            alive: Arc::new(()),
            rules,
            modules,
            limits,
            bytecode,
            config: Arc::new(config.clone()),
            workers: Some(pool),
            net: None,
        })
    }

    /// Rules whose bytecode was compiled earlier (by [`JsRules::new`], then stored in an
    /// artifact): nothing is parsed or compiled.
    ///
    /// # Safety
    /// QuickJS trusts bytecode. `bytecode` must be what [`JsRules::bytecode`] returned in a
    /// build embedding the same QuickJS ([`quickjs_version`]), carried by an artifact whose
    /// integrity (and signature, when required) was verified before this call.
    #[allow(unsafe_code)]
    pub unsafe fn from_bytecode(
        rules: Vec<JsSource>,
        modules: Vec<JsSource>,
        bytecode: Bytecode,
        config: &BTreeMap<String, String>,
        limits: Limits,
    ) -> Result<JsRules, Vec<JsError>> {
        bytecode_fits(&bytecode, &rules, &modules)?;
        match isolation() {
            Some(settings) => JsRules::start_workers(settings, rules, modules, Some(bytecode), config, limits),
            None => JsRules::assemble(rules, modules, bytecode, config, limits),
        }
    }

    /// [`JsRules::from_bytecode`] in this process, whatever [`set_isolation`] says.
    ///
    /// # Safety
    /// As for [`JsRules::from_bytecode`].
    #[allow(unsafe_code)]
    pub unsafe fn local_from_bytecode(
        rules: Vec<JsSource>,
        modules: Vec<JsSource>,
        bytecode: Bytecode,
        config: &BTreeMap<String, String>,
        limits: Limits,
    ) -> Result<JsRules, Vec<JsError>> {
        bytecode_fits(&bytecode, &rules, &modules)?;
        JsRules::assemble(rules, modules, bytecode, config, limits)
    }

    fn assemble(
        rules: Vec<JsSource>,
        modules: Vec<JsSource>,
        bytecode: Bytecode,
        config: &BTreeMap<String, String>,
        limits: Limits,
    ) -> Result<JsRules, Vec<JsError>> {
        let net = limits.http.as_ref().map(|p| Arc::new(crate::net::Net::new(p)));
        let js = JsRules {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            alive: Arc::new(()),
            rules,
            modules,
            limits,
            bytecode,
            config: Arc::new(config.clone()),
            workers: None,
            net,
        };
        // The runtime that proved the rules load serves this thread's first login.
        sandbox::load(&js, Instant::now() + js.limits.timeout)?;
        Ok(js)
    }

    /// The compiled rules and modules.
    pub fn bytecode(&self) -> &Bytecode {
        &self.bytecode
    }

    /// Drops this thread's runtime for these rules (or stops the workers: runs in flight
    /// finish first): the next execution starts a fresh one (for measuring cold starts).
    pub fn recycle(&self) {
        if let Some(pool) = &self.workers {
            pool.recycle();
        }
        sandbox::forget(self.id);
    }

    /// Whether the rules run in worker processes.
    pub fn in_workers(&self) -> bool {
        self.workers.is_some()
    }

    /// The process ids of the live workers (empty in process).
    pub fn worker_pids(&self) -> Vec<u32> {
        self.workers.as_ref().map(worker::Pool::pids).unwrap_or_default()
    }

    /// Runs a run of consecutive JavaScript steps (rule indexes and their links), here or in
    /// a worker. The deny or error that stopped it comes back with its position in `steps`.
    /// A run that ends after `deadline` is a timeout, whatever it left: a login that overran
    /// is never allowed. `login` identifies the login (see [`next_login`]); `start` says
    /// this is its first run of JavaScript steps.
    pub fn run_steps(
        &self,
        steps: &[(usize, Link)],
        txn: &mut Txn,
        deadline: Instant,
        login: u64,
        start: bool,
    ) -> Option<(usize, ErrorInfo)> {
        let stop = match &self.workers {
            Some(pool) => pool.run(steps, txn, deadline, login),
            None => steps.iter().enumerate().find_map(|(position, (index, link))| {
                self.run(*index, txn, deadline, *link, start && position == 0).map(|e| (position, e))
            }),
        };
        match stop {
            None if Instant::now() > deadline => {
                let last = steps.len().saturating_sub(1);
                let rule = steps.get(last).and_then(|(i, _)| self.rules.get(*i));
                rule.map(|r| (last, timeout(r)))
            }
            stop => stop,
        }
    }

    /// Runs JavaScript rule `index` on the transaction. `deadline` is the pipeline's.
    /// `link` says where the rule stands in its run of consecutive JavaScript steps: such
    /// rules share their JS objects, and only the last one hands them back to `txn`.
    /// `start`: this is the first JavaScript rule the login runs, so what earlier logins
    /// added to the global object is removed first (only `global` and module state carry
    /// over from one login to the next).
    pub fn run(&self, index: usize, txn: &mut Txn, deadline: Instant, link: Link, start: bool) -> Option<ErrorInfo> {
        sandbox::run(self, index, txn, deadline, link, start)
    }
}

/// Where a JavaScript step stands among the pipeline's consecutive JavaScript steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// The step before it is not JavaScript (or there is none): it builds `user` and
    /// `context` from the transaction.
    pub first: bool,
    /// The step after it is not JavaScript (or there is none): it applies the objects to
    /// the transaction.
    pub last: bool,
    /// No step comes after it (so it is also `last`): only what the outcome needs is read
    /// back (the user, the tokens, MFA and the redirect), not the rest of `context`.
    pub end: bool,
}

impl Link {
    /// A JavaScript step between two non-JavaScript steps.
    pub const ALONE: Link = Link { first: true, last: true, end: false };
}

/// Bytecode for exactly the given rules and modules.
fn bytecode_fits(bytecode: &Bytecode, rules: &[JsSource], modules: &[JsSource]) -> Result<(), Vec<JsError>> {
    if bytecode.rules.len() != rules.len() || bytecode.modules.len() != modules.len() {
        return Err(vec![JsError::new("", "the bytecode does not match the rules and modules")]);
    }
    Ok(())
}
