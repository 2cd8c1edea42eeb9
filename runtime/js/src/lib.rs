//! Legacy Auth0 JavaScript rules, unmodified, in a QuickJS sandbox (rquickjs), as steps of
//! warden's pipeline.
//!
//! Each thread keeps one QuickJS runtime per pipeline (rquickjs runtimes are not shared
//! across threads). A runtime has a memory limit (kept by its allocator, `heap.rs`, so that
//! any out-of-memory is seen), a stack limit and an interrupt handler that stops the rule at
//! the pipeline's deadline; the rule contract (callback, errors, timers and the login's
//! clock, the login's configuration, globals and what a login may leave on the global
//! object, the lockdown of the built-ins) lives in `prelude.js`. Rules and modules
//! are compiled once per pipeline to bytecode (`bytecode.rs`). `user` and `context` go in as
//! JSON text for the first of a run of consecutive JS rules, stay JS objects across the run,
//! and come back from the last one read straight from QuickJS values (`marshal.rs`). What a
//! rule did is applied to the transaction through `warden_runtime::Txn`, like any rule.

use std::cell::RefCell;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rquickjs::{Context, Ctx, Runtime};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};
use warden_ir::{Metadata, Token};
use warden_runtime::{Cause, ErrorInfo, Txn, Value};

mod bytecode;
mod heap;
mod host;
mod marshal;
pub mod worker;

const PRELUDE: &str = include_str!("prelude.js");

/// Modules `require` answers without a vendored file.
pub const BUILTIN_MODULES: &[&str] = &["crypto", "querystring", "url", "buffer"];

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
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { timeout: Duration::from_secs(20), memory_bytes: 64 * 1024 * 1024, stack_bytes: 512 * 1024 }
    }
}

/// A JavaScript rule as loaded.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JsSource {
    pub name: String,
    pub path: String,
    pub text: String,
}

/// The JavaScript rules of a pipeline and what they need at run time.
#[derive(Debug)]
pub struct JsRules {
    id: u64,
    /// Runtimes hold a weak reference: a thread drops the runtimes of pipelines that are gone
    /// the next time it runs JavaScript.
    alive: Arc<()>,
    pub rules: Vec<JsSource>,
    /// Vendored CommonJS modules (`name` is the module name).
    pub modules: Vec<JsSource>,
    pub limits: Limits,
    /// The rules and modules as QuickJS bytecode: compiled once, loaded by every runtime.
    bytecode: Bytecode,
    /// The configuration JavaScript sees while a runtime loads (the pipeline's at load);
    /// each login then brings its own (`Txn::config`).
    config: Arc<BTreeMap<String, String>>,
    /// Where the rules run: here, or in worker processes.
    workers: Option<worker::Pool>,
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

thread_local! {
    /// This thread's runtimes, by pipeline.
    static RUNTIMES: RefCell<HashMap<u64, Sandbox>> = RefCell::new(HashMap::new());
}

impl Drop for JsRules {
    /// Frees this thread's runtime at once; other threads free theirs on their next run.
    fn drop(&mut self) {
        // A thread being torn down may no longer have its runtimes: nothing to free then.
        let _ = RUNTIMES.try_with(|cell| {
            if let Ok(mut map) = cell.try_borrow_mut() {
                map.remove(&self.id);
            }
        });
    }
}

/// A syntax problem in a JavaScript rule.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JsError {
    pub path: String,
    pub message: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

impl JsError {
    /// An error without a position.
    fn new(path: impl Into<String>, message: impl Into<String>) -> JsError {
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
        let bytecode = compile_all(&rules, &modules)?;
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
        if bytecode.rules.len() != rules.len() || bytecode.modules.len() != modules.len() {
            return Err(vec![JsError::new("", "the bytecode does not match the rules and modules")]);
        }
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
        if bytecode.rules.len() != rules.len() || bytecode.modules.len() != modules.len() {
            return Err(vec![JsError::new("", "the bytecode does not match the rules and modules")]);
        }
        JsRules::assemble(rules, modules, bytecode, config, limits)
    }

    fn assemble(
        rules: Vec<JsSource>,
        modules: Vec<JsSource>,
        bytecode: Bytecode,
        config: &BTreeMap<String, String>,
        limits: Limits,
    ) -> Result<JsRules, Vec<JsError>> {
        let js = JsRules {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            alive: Arc::new(()),
            rules,
            modules,
            limits,
            bytecode,
            config: Arc::new(config.clone()),
            workers: None,
        };
        // The runtime that proved the rules load serves this thread's first login.
        let sandbox = Sandbox::new(&js, Instant::now() + js.limits.timeout)?;
        RUNTIMES.with(|cell| {
            let mut map = cell.borrow_mut();
            map.retain(|_, s| s.owner.strong_count() > 0);
            map.insert(js.id, sandbox);
        });
        Ok(js)
    }

    /// The compiled rules and modules.
    pub fn bytecode(&self) -> &Bytecode {
        &self.bytecode
    }

    /// Drops this thread's runtime for these rules (or the idle workers): the next
    /// execution starts a fresh one (for measuring cold starts).
    pub fn recycle(&self) {
        if let Some(pool) = &self.workers {
            pool.recycle();
        }
        RUNTIMES.with(|cell| {
            cell.borrow_mut().remove(&self.id);
        });
    }

    /// Whether the rules run in worker processes.
    pub fn in_workers(&self) -> bool {
        self.workers.is_some()
    }

    /// The process ids of the idle workers (empty in process).
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
        let rule = &self.rules[index];
        RUNTIMES.with(|cell| {
            let mut map = cell.borrow_mut();
            map.retain(|_, s| s.owner.strong_count() > 0);
            // Twice at most: a runtime whose global object cannot be restored is replaced,
            // and the login runs on the fresh one.
            for _ in 0..2 {
                let sandbox = match map.entry(self.id) {
                    Entry::Occupied(o) => o.into_mut(),
                    Entry::Vacant(v) => match Sandbox::new(self, deadline) {
                        Ok(s) => v.insert(s),
                        Err(errors) => {
                            let m = errors.first().map_or("cannot load".to_string(), |e| e.message.clone());
                            return Some(failure(&rule.name, Cause::RuleError, format!("rule error: {m}"), &rule.path));
                        }
                    },
                };
                match sandbox.run(index, txn, deadline, link, start, self) {
                    Some((result, recycle)) => {
                        if recycle {
                            // A timeout or a memory limit leaves the runtime in an unknown
                            // state: the next login gets a fresh one (and a fresh `global`,
                            // as in Auth0).
                            map.remove(&self.id);
                        }
                        return result;
                    }
                    None => {
                        map.remove(&self.id);
                    }
                }
            }
            Some(failure(
                &rule.name,
                Cause::RuleError,
                "rule error: the JavaScript runtime could not be reset for this login".into(),
                &rule.path,
            ))
        })
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

fn failure(rule: &str, cause: Cause, description: String, path: &str) -> ErrorInfo {
    ErrorInfo {
        code: "access_denied".into(),
        description,
        rule: rule.to_string(),
        cause,
        location: (cause == Cause::RuleError).then(|| path.to_string()),
    }
}

/// One QuickJS runtime with the pipeline's rules compiled in it.
struct Sandbox {
    /// The prelude's `__warden` object (no longer a global once rules load). Declared first:
    /// it must be released before the context and the runtime.
    warden: rquickjs::Persistent<rquickjs::Object<'static>>,
    runtime: Runtime,
    context: Context,
    deadline: Arc<AtomicU64>,
    interrupted: Arc<AtomicBool>,
    /// The heap refused an allocation for its limit since the rule started (see heap.rs).
    refused: Arc<AtomicBool>,
    /// The previous rule handed its objects on to the next (see [`Link`]).
    carry: bool,
    /// How many own keys the global object had once the runtime loaded (see `begin`).
    global_keys: usize,
    /// The configuration the JavaScript `configuration` and `auth0` reflect (shared with the
    /// transaction that brought it, so that the next login's is usually the same pointer).
    config: Arc<BTreeMap<String, String>>,
    /// The rules' liveness (see [`JsRules`]).
    owner: std::sync::Weak<()>,
}

fn epoch() -> Instant {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *START.get_or_init(Instant::now)
}

fn millis(t: Instant) -> u64 {
    t.saturating_duration_since(epoch()).as_millis() as u64
}

/// How a result too large to read into Rust is reported (as the heap limit).
const TOO_LARGE: &str = "too large: ";

fn exception(ctx: &Ctx<'_>, e: rquickjs::Error) -> String {
    match e {
        rquickjs::Error::Exception => {
            let v = ctx.catch();
            if let Some(ex) = v.as_exception() {
                ex.message().unwrap_or_default()
            } else {
                v.as_string().and_then(|s| s.to_string().ok()).unwrap_or_else(|| "exception".into())
            }
        }
        other => other.to_string(),
    }
}

impl Sandbox {
    #[allow(unsafe_code)] // loads the pipeline's bytecode (see `JsRules::bytecode`)
    /// A runtime with the rules loaded; loading must end by `deadline` (a rule file's
    /// top-level code runs, and could loop).
    fn new(js: &JsRules, deadline: Instant) -> Result<Sandbox, Vec<JsError>> {
        let err = |m: String| vec![JsError::new("", m)];
        let prelude = prelude_bytecode().map_err(|m| err(format!("prelude.js: {m}")))?;
        // The heap limit is the allocator's, which records when it refuses (see heap.rs).
        let refused = Arc::new(AtomicBool::new(false));
        let heap = heap::Metered::new(js.limits.memory_bytes, refused.clone());
        let runtime = Runtime::new_with_alloc(heap).map_err(|e| err(e.to_string()))?;
        runtime.set_max_stack_size(js.limits.stack_bytes);
        // Loading runs each rule's top-level expression: a rule written as a never-ending IIFE
        // must not hang `warden check` or a login.
        let deadline_ms = Arc::new(AtomicU64::new(millis(deadline)));
        let interrupted = Arc::new(AtomicBool::new(false));
        let (d, i) = (deadline_ms.clone(), interrupted.clone());
        runtime.set_interrupt_handler(Some(Box::new(move || {
            let stop = millis(Instant::now()) >= d.load(Ordering::Relaxed);
            if stop {
                i.store(true, Ordering::Relaxed);
            }
            stop
        })));
        let context = Context::full(&runtime).map_err(|e| err(e.to_string()))?;
        let mut errors = Vec::new();
        let mut warden = None;
        context.with(|ctx| {
            if let Err(e) = host::install(&ctx) {
                errors.push(JsError::new("host", e.to_string()));
                return;
            }
            // SAFETY: compiled by `prelude_bytecode` in this process.
            let setup: Result<rquickjs::Function, _> = unsafe { bytecode::run(&ctx, prelude) };
            let setup = match setup {
                Ok(f) => f,
                Err(e) => {
                    errors.push(JsError::new("prelude.js", exception(&ctx, e)));
                    return;
                }
            };
            let config = serde_json::to_string(&*js.config).unwrap_or_else(|_| "{}".into());
            if let Err(e) = setup.call::<_, ()>((config.as_str(),)) {
                errors.push(JsError::new("prelude.js", exception(&ctx, e)));
                return;
            }
            // Rust keeps the prelude's handle; the global goes before any module or rule
            // file is evaluated, and both are registered through the handle.
            let handle: Result<rquickjs::Object, _> = ctx.globals().get("__warden").and_then(|w: rquickjs::Object| {
                let lock: rquickjs::Function = w.get("lock")?;
                lock.call::<_, ()>((rquickjs::function::This(w.clone()),))?;
                Ok(w)
            });
            let w = match handle {
                Ok(w) => w,
                Err(e) => {
                    errors.push(JsError::new("prelude.js", exception(&ctx, e)));
                    return;
                }
            };
            let method = |name: &str| w.get::<_, rquickjs::Function>(name);
            let (Ok(register), Ok(seal), Ok(list)) = (method("module"), method("seal"), w.get::<_, rquickjs::Array>("rules"))
            else {
                errors.push(JsError::new("prelude.js", "the prelude has no module, seal or rules"));
                return;
            };
            for (m, code) in js.modules.iter().zip(&js.bytecode.modules) {
                // SAFETY: `JsRules::bytecode` holds bytes from `compile_all` (this process) or
                // from a verified artifact (`JsRules::from_bytecode`'s contract).
                let factory = unsafe { bytecode::run::<rquickjs::Value>(&ctx, code) };
                let registered = factory.and_then(|f| register.call::<_, ()>((rquickjs::function::This(w.clone()), m.name.as_str(), f)));
                if let Err(e) = registered {
                    errors.push(JsError::new(m.path.clone(), exception(&ctx, e)));
                }
            }
            for (rule, code) in js.rules.iter().zip(&js.bytecode.rules) {
                // SAFETY: as for the modules above.
                match unsafe { bytecode::run::<rquickjs::Value>(&ctx, code) } {
                    Ok(v) if v.is_function() => {
                        if let Err(e) = list.set(list.len(), v) {
                            errors.push(JsError::new(rule.path.clone(), e.to_string()));
                        }
                    }
                    Ok(v) => errors.push(JsError::new(
                        rule.path.clone(),
                        format!(
                            "a rule must be a function expression `function (user, context, callback) {{ ... }}`, found {}",
                            v.type_name()
                        ),
                    )),
                    Err(e) => errors.push(JsError::new(rule.path.clone(), exception(&ctx, e))),
                }
            }
            if let Err(e) = seal.call::<_, ()>((rquickjs::function::This(w.clone()),)) {
                errors.push(JsError::new("prelude.js", exception(&ctx, e)));
            }
            warden = Some(rquickjs::Persistent::save(&ctx, w));
        });
        let mut sandbox = match warden {
            Some(warden) if errors.is_empty() => Sandbox {
                warden,
                runtime,
                context,
                deadline: deadline_ms,
                interrupted,
                refused,
                global_keys: 0,
                carry: false,
                config: js.config.clone(),
                owner: Arc::downgrade(&js.alive),
            },
            _ if errors.is_empty() => return Err(vec![JsError::new("prelude.js", "the prelude did not load")]),
            _ => return Err(errors),
        };
        // Jobs and timers that top-level code queued while loading must not run in the
        // first login: jobs run now, with no login current, and timers are dropped.
        if !sandbox.drain_jobs(deadline) {
            return Err(vec![JsError::new("", "loading left work running past the time budget")]);
        }
        sandbox.call::<_, ()>("reset", ()).map_err(|m| vec![JsError::new("prelude.js", m)])?;
        // The keys every login starts with (the prelude's `seal` fixed them); what loading
        // left running may have added some, which the first login removes.
        sandbox.global_keys =
            sandbox.call::<_, u32>("globalKeys", ()).map_err(|m| vec![JsError::new("prelude.js", m)])? as usize;
        sandbox.deadline.store(u64::MAX, Ordering::Relaxed);
        Ok(sandbox)
    }

    /// How many own keys (strings and symbols) the global object has.
    fn global_keys(&self) -> usize {
        let all = rquickjs::object::Filter::new().string().symbol();
        self.context.with(|ctx| ctx.globals().own_keys::<rquickjs::Atom>(all).len())
    }

    /// Calls `__warden.NAME(args)` in the context.
    fn call<A, R>(&self, name: &str, args: A) -> Result<R, String>
    where
        A: for<'js> rquickjs::function::IntoArgs<'js>,
        R: for<'js> rquickjs::FromJs<'js>,
    {
        self.context.with(|ctx| {
            let w = self.warden.clone().restore(&ctx).map_err(|e| e.to_string())?;
            let f: rquickjs::Function = w.get(name).map_err(|e| e.to_string())?;
            let mut all = rquickjs::function::Args::new(ctx.clone(), 8);
            all.this(w).map_err(|e| e.to_string())?;
            args.into_args(&mut all).map_err(|e| e.to_string())?;
            f.call_arg::<R>(all).map_err(|e| exception(&ctx, e))
        })
    }

    /// Runs one rule; the flag says whether the runtime must be recycled. `None`: the rule
    /// starts a login and what earlier logins left on the global object cannot be removed;
    /// nothing ran, and the runtime must be replaced.
    fn run(
        &mut self,
        index: usize,
        txn: &mut Txn,
        deadline: Instant,
        link: Link,
        start: bool,
        js: &JsRules,
    ) -> Option<(Option<ErrorInfo>, bool)> {
        let rule = &js.rules[index];
        // The heap limit, also the most a result may take once read into Rust.
        let memory_bytes = js.limits.memory_bytes;
        self.deadline.store(millis(deadline), Ordering::Relaxed);
        self.interrupted.store(false, Ordering::Relaxed);
        self.refused.store(false, Ordering::Relaxed);
        // The login's configuration, as `.rule` files see it: the JavaScript objects are
        // rebuilt only when it differs from the previous login's.
        if !Arc::ptr_eq(&self.config, &txn.config) {
            if *self.config != *txn.config {
                let json = serde_json::to_string(&*txn.config).unwrap_or_else(|_| "{}".into());
                if let Err(m) = self.call::<_, ()>("configure", (json.as_str(),)) {
                    let (result, _) = self.judge(Err(m), false, rule, txn, link, js);
                    return Some((result, true));
                }
            }
            self.config = txn.config.clone();
        }
        // The objects the previous rule left are used only when it said to keep them.
        let first = link.first || !self.carry;
        self.carry = false;
        let (user, context) =
            if first { (user_json(&txn.user), context_json(txn)) } else { (String::new(), String::new()) };
        let budget = deadline.saturating_duration_since(Instant::now()).as_millis() as u64;
        // A login starts: has the global object gained keys since the runtime loaded? (Counted
        // here, without making JavaScript strings of them: the keys it started with cannot be
        // removed, so any other key makes the count differ.)
        let grown = start && self.global_keys() != self.global_keys;
        // `begin`'s flags: first, last, end, start, grown (rquickjs passes at most seven
        // arguments).
        let flags = u32::from(first)
            | u32::from(link.last) << 1
            | u32::from(link.end) << 2
            | u32::from(start) << 3
            | u32::from(grown) << 4;
        let begun = self.call::<_, Option<bool>>(
            "begin",
            (index as u32, rule.name.as_str(), user.as_str(), context.as_str(), flags, txn.now as f64),
        );
        if let Ok(None) = begun {
            return None;
        }
        let outcome: Result<Option<(Json, bool)>, String> = (|| {
            let mut settled = begun?.unwrap_or(false);
            // Past the deadline nothing more runs: not a job, not a timer.
            let late = || Err::<(), String>("interrupted: the deadline passed".into());
            loop {
                // Promise jobs run outside the context's lock.
                if !self.drain_jobs(deadline) {
                    late()?;
                }
                if settled || self.call::<_, bool>("settled", ())? {
                    break;
                }
                settled = false;
                if Instant::now() >= deadline {
                    late()?;
                }
                if !self.call::<_, bool>("tick", (budget as f64,))? {
                    break;
                }
            }
            // Work a rule left running after it called back (fire-and-forget metadata
            // updates) finishes before the result is read: promise jobs only, not timers.
            if !self.drain_jobs(deadline) {
                late()?;
            }
            // The result is read straight from the JS objects (see marshal.rs); the empty
            // string says the next rule continues with nothing to report. `user` is read
            // against the user the run started from: when it reads the same, it is left out
            // and the flag says so (the transaction keeps its own).
            self.context.with(|ctx| {
                let w = self.warden.clone().restore(&ctx).map_err(|e| e.to_string())?;
                let finish: rquickjs::Function = w.get("finish").map_err(|e| e.to_string())?;
                let out: rquickjs::Value =
                    finish.call((rquickjs::function::This(w),)).map_err(|e| exception(&ctx, e))?;
                if out.as_string().is_some() {
                    return Ok(None);
                }
                match marshal::to_json_against(&ctx, out, memory_bytes, Some(("user", &txn.user))) {
                    Ok((r, same)) => Ok(r.map(|r| (r, same))),
                    Err(marshal::Unreadable::Js(e)) => Err(exception(&ctx, e)),
                    // Reported like an allocation past the heap limit.
                    Err(marshal::Unreadable::TooLarge(m)) => Err(format!("{TOO_LARGE}the result has {m}")),
                    Err(marshal::Unreadable::NotJson(m)) => Ok(Some((
                        json!({
                            "status": "threw",
                            "error": { "message": format!("the rule left objects that are not JSON: {m}") },
                        }),
                        false,
                    ))),
                }
            })
        })();
        // An interrupt anywhere in the rule's run (even one a promise job swallowed) means
        // the rule overran the deadline: a timeout, whatever it left.
        let interrupted = self.interrupted.load(Ordering::Relaxed);
        // Jobs queued after the result was taken (by getters, `toJSON`, or a rule's promise
        // chains) run now, then the prelude forgets the login and its timers: nothing of it
        // may run inside the next login. A runtime that still has jobs at the deadline, or
        // cannot be reset, is replaced.
        // (`finish` already left no login current and no timer armed, and timers cannot be
        // armed outside a login: the reset matters only when some job ran since, or when
        // `finish` was not reached.)
        let pending = self.runtime.is_job_pending();
        let drained = self.drain_jobs(deadline);
        let reset = if pending || outcome.is_err() { self.call::<_, ()>("reset", ()) } else { Ok(()) };
        let (result, recycle) = self.judge(outcome, interrupted, rule, txn, link, js);
        Some(match (result, drained, reset) {
            (result, true, Ok(())) => (result, recycle),
            // The login cannot go on with objects this runtime still holds.
            (Some(stop), _, _) => (Some(stop), true),
            (None, false, _) => (Some(timeout(rule)), true),
            (None, true, Err(e)) => {
                (Some(failure(&rule.name, Cause::RuleError, format!("rule error: {e}"), &rule.path)), true)
            }
        })
    }

    /// Runs pending promise jobs until there are none (true) or the deadline passed (false).
    /// A job that throws does not stop the others.
    fn drain_jobs(&self, deadline: Instant) -> bool {
        while self.runtime.is_job_pending() {
            if Instant::now() >= deadline {
                return false;
            }
            let _ = self.runtime.execute_pending_job();
        }
        true
    }

    /// What a rule's run comes to, and whether the runtime must be recycled.
    fn judge(
        &mut self,
        outcome: Result<Option<(Json, bool)>, String>,
        interrupted: bool,
        rule: &JsSource,
        txn: &mut Txn,
        link: Link,
        js: &JsRules,
    ) -> (Option<ErrorInfo>, bool) {
        // Running out of memory anywhere (the rule, its callback's error, warden's own calls
        // into the runtime, the result) is the heap limit, and the runtime is replaced.
        let out_of_memory = |detail: Option<&str>| {
            let limit = heap_limit(js.limits.memory_bytes);
            let description = match detail {
                Some(d) => format!("the rule exceeded its memory limit ({limit}): {d}"),
                None => format!("the rule exceeded its memory limit ({limit})"),
            };
            (Some(failure(&rule.name, Cause::ResourceLimit, description, &rule.path)), true)
        };
        match outcome {
            _ if interrupted => (Some(timeout(rule)), true),
            // Whatever the rule made of it (QuickJS reports it as `InternalError: out of
            // memory`, or as `null` when it cannot even make that error).
            _ if self.refused.load(Ordering::Relaxed) => out_of_memory(None),
            Err(m) if m.contains("interrupted") => (Some(timeout(rule)), true),
            Err(m) if m.starts_with(TOO_LARGE) => out_of_memory(Some(&m[TOO_LARGE.len()..])),
            Err(m) => (Some(failure(&rule.name, Cause::RuleError, format!("rule error: {m}"), &rule.path)), false),
            Ok(None) => {
                self.carry = !link.last;
                (None, false)
            }
            // A rule that never called back timed out: like Auth0's container, the runtime
            // (and its `global`) is recycled.
            Ok(Some((r, user_same))) => {
                let recycle = r["status"] == "pending";
                self.carry = !link.last && r["status"] == "ok";
                (apply(r, user_same, rule, txn, link.last, &js.rules), recycle)
            }
        }
    }
}

/// A heap limit for messages: `64 MiB`, or bytes when it is not a whole number of MiB.
fn heap_limit(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes.is_multiple_of(MIB) { format!("{} MiB", bytes / MIB) } else { format!("{bytes} bytes") }
}

fn timeout(rule: &JsSource) -> ErrorInfo {
    failure(&rule.name, Cause::Timeout, "Request to Webtask exceeded allowed execution time".into(), &rule.path)
}

/// The prelude as bytecode, compiled once per process.
fn prelude_bytecode() -> Result<&'static [u8], String> {
    static PRELUDE_BYTECODE: std::sync::OnceLock<Result<Vec<u8>, String>> = std::sync::OnceLock::new();
    PRELUDE_BYTECODE
        .get_or_init(|| {
            let runtime = Runtime::new().map_err(|e| e.to_string())?;
            let context = Context::full(&runtime).map_err(|e| e.to_string())?;
            let prelude = PRELUDE.trim_end().trim_end_matches(';');
            context.with(|ctx| {
                bytecode::compile(&ctx, &format!("({prelude})"), "prelude.js").map_err(|e| exception(&ctx, e))
            })
        })
        .as_ref()
        .map(Vec::as_slice)
        .map_err(Clone::clone)
}

/// Compiles every rule and vendored module to bytecode, in a scratch runtime. A rule's
/// source must be one function expression (Auth0 evaluated `(SOURCE)`); a module is the body
/// of a CommonJS factory.
fn compile_all(rules: &[JsSource], modules: &[JsSource]) -> Result<Bytecode, Vec<JsError>> {
    let err = |m: String| vec![JsError::new("", m)];
    let runtime = Runtime::new().map_err(|e| err(e.to_string()))?;
    let context = Context::full(&runtime).map_err(|e| err(e.to_string()))?;
    let mut out = Bytecode::default();
    let mut errors = Vec::new();
    context.with(|ctx| {
        for m in modules {
            // The factory is the script's value; Rust registers it (no global is involved).
            let src = format!("(function (module, exports, require) {{\n{}\n}})", m.text);
            match bytecode::compile(&ctx, &src, &m.path) {
                Ok(code) => out.modules.push(code),
                Err(e) => errors.push(syntax_error(&ctx, e, &m.path)),
            }
        }
        for rule in rules {
            match bytecode::compile(&ctx, &format!("({}\n)", rule.text), &rule.path) {
                Ok(code) => out.rules.push(code),
                Err(e) => errors.push(syntax_error(&ctx, e, &rule.path)),
            }
        }
    });
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// A compile error with its position.
fn syntax_error(ctx: &Ctx<'_>, e: rquickjs::Error, path: &str) -> JsError {
    let (message, line, column) = match e {
        rquickjs::Error::Exception => {
            let v = ctx.catch();
            match v.as_exception() {
                Some(ex) => {
                    let (line, column) = position(&ex.stack().unwrap_or_default(), path);
                    (ex.message().unwrap_or_default(), line, column)
                }
                None => ("invalid rule".into(), None, None),
            }
        }
        other => (other.to_string(), None, None),
    };
    JsError { path: path.to_string(), message, line, column }
}

/// `path:line:column` from a QuickJS stack trace.
fn position(stack: &str, path: &str) -> (Option<u32>, Option<u32>) {
    let Some(at) = stack.find(&format!("{path}:")) else { return (None, None) };
    let mut nums = stack[at + path.len() + 1..].split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty());
    let line = nums.next().and_then(|n| n.parse().ok());
    let column = nums.next().and_then(|n| n.parse().ok());
    (line, column)
}

/// Whether two JSON values are the same once through JavaScript: numbers compare as doubles
/// (`1.0` and `1e3` come back as `1` and `1000`), keys in order.
fn same_json(a: Option<&Json>, b: Option<&Json>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(Json::Number(x)), Some(Json::Number(y))) => x.as_f64() == y.as_f64(),
        (Some(Json::Array(x)), Some(Json::Array(y))) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_json(Some(a), Some(b)))
        }
        (Some(Json::Object(x)), Some(Json::Object(y))) => {
            x.len() == y.len() && x.iter().zip(y).all(|((ka, va), (kb, vb))| ka == kb && same_json(Some(va), Some(vb)))
        }
        (a, b) => a == b,
    }
}

/// What a JSON value is, for messages (`None`: the key is missing, `undefined` in JavaScript).
fn kind(value: Option<&Json>) -> &'static str {
    match value {
        None => "undefined",
        Some(Json::Null) => "null",
        Some(Json::Bool(_)) => "a boolean",
        Some(Json::Number(_)) => "a number",
        Some(Json::String(s)) if s.is_empty() => "an empty string",
        Some(Json::String(_)) => "a string",
        Some(Json::Array(_)) => "an array",
        Some(Json::Object(_)) => "an object",
    }
}

/// The user as JSON text (through a byte buffer: `Display` goes through the formatter and
/// costs twice as much).
fn user_json(user: &Json) -> String {
    serde_json::to_string(user).unwrap_or_else(|_| "{}".into())
}

/// The context a JavaScript rule sees, as JSON text: the transaction's, with the claims,
/// scopes, MFA and redirect that earlier rules asked for. Written entry by entry, so the
/// (large) rest of the context is not copied.
fn context_json(txn: &Txn) -> String {
    fn entry<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, first: &mut bool, key: &str, value: &T) {
        if !std::mem::take(first) {
            out.push(b',');
        }
        // Writing to a Vec cannot fail, and these values are JSON already.
        let _ = serde_json::to_writer(&mut *out, key);
        out.push(b':');
        let _ = serde_json::to_writer(&mut *out, value);
    }
    let empty = Map::new();
    let context = txn.context.as_object().unwrap_or(&empty);
    let token = |key: &str, claims: &indexmap::IndexMap<String, warden_runtime::ClaimEntry>| {
        let mut t = context.get(key).and_then(Json::as_object).cloned().unwrap_or_default();
        t.extend(claims.iter().map(|(k, c)| (k.clone(), c.value.clone())));
        t
    };
    let id = token("idToken", &txn.id_token);
    let mut at = token("accessToken", &txn.access_token);
    if let Some(scope) = &txn.scope {
        at.insert("scope".into(), json!(scope));
    }
    let mut out = Vec::with_capacity(2048);
    out.push(b'{');
    let mut first = true;
    // Keys keep their place; those the context lacks come last.
    for (k, v) in context {
        match (k.as_str(), &txn.multifactor, &txn.redirect) {
            ("idToken", _, _) => entry(&mut out, &mut first, k, &id),
            ("accessToken", _, _) => entry(&mut out, &mut first, k, &at),
            ("multifactor", Some((m, _)), _) => entry(&mut out, &mut first, k, m),
            ("redirect", _, Some((r, _))) => entry(&mut out, &mut first, k, r),
            _ => entry(&mut out, &mut first, k, v),
        }
    }
    if !context.contains_key("idToken") {
        entry(&mut out, &mut first, "idToken", &id);
    }
    if !context.contains_key("accessToken") {
        entry(&mut out, &mut first, "accessToken", &at);
    }
    if let Some((m, _)) = &txn.multifactor
        && !context.contains_key("multifactor")
    {
        entry(&mut out, &mut first, "multifactor", m);
    }
    if let Some((r, _)) = &txn.redirect
        && !context.contains_key("redirect")
    {
        entry(&mut out, &mut first, "redirect", r);
    }
    out.push(b'}');
    String::from_utf8(out).unwrap_or_else(|_| "{}".into())
}

/// Applies what a rule did (its result from `__warden.finish()`) to the transaction: logs,
/// warnings and effects always; the final objects when the rule was the last of its run of
/// JavaScript rules, each change attributed to the rule that made it. `user_same`: the
/// user read exactly as the transaction's, and was left out of `r`. `rules`: every rule of
/// the pipeline (to place an error on the rule that made the change).
fn apply(
    mut r: Json,
    user_same: bool,
    rule: &JsSource,
    txn: &mut Txn,
    last: bool,
    rules: &[JsSource],
) -> Option<ErrorInfo> {
    for l in r["logs"].as_array().into_iter().flatten() {
        txn.log(&rule.name, l["level"].as_str().unwrap_or("log"), l["message"].as_str().unwrap_or("").to_string());
    }
    for w in r["warnings"].as_array().into_iter().flatten() {
        txn.log(&rule.name, "warn", w.as_str().unwrap_or("").to_string());
    }
    for e in r["effects"].as_array().into_iter().flatten() {
        let metadata = if e["kind"] == "update_user_metadata" { Metadata::User } else { Metadata::App };
        if let Json::Object(patch) = &e["patch"] {
            txn.record_patch(metadata, e["user_id"].as_str().unwrap_or(""), patch, &rule.name);
        }
    }
    match r["status"].as_str() {
        Some("ok") => {}
        Some("denied") => {
            let err = &r["error"];
            let code = if err["unauthorized"] == true { "unauthorized" } else { "access_denied" };
            // The prelude always gives a message; should it not, the login is denied all the
            // same, and says why.
            let description = err["message"].as_str().unwrap_or("the rule reported an error that cannot be read");
            return Some(ErrorInfo {
                code: code.into(),
                description: description.to_string(),
                rule: rule.name.clone(),
                cause: Cause::Denied,
                location: None,
            });
        }
        Some("threw") => {
            let m = r["error"]["message"].as_str().unwrap_or("exception").to_string();
            let mut e = failure(&rule.name, Cause::RuleError, format!("rule error: {m}"), &rule.path);
            // `file:line:col` of the innermost frame in the rule's file, as for `.rule` errors.
            if let (Some(line), Some(col)) = position(r["error"]["stack"].as_str().unwrap_or(""), &rule.path) {
                e.location = Some(format!("{}:{line}:{col}", rule.path));
            }
            return Some(e);
        }
        _ => return Some(timeout(rule)),
    }
    if !last {
        // The next rule continues with the objects.
        return None;
    }
    let Some(result) = r.as_object_mut() else {
        return Some(failure(&rule.name, Cause::RuleError, "rule error: no result".into(), &rule.path));
    };
    // The user as the rules left it; `None` when it read exactly as the transaction's.
    let user = match (result.remove("user"), result.remove("context")) {
        (Some(user @ Json::Object(_)), Some(context @ Json::Object(_))) => Some((Some(user), context)),
        (None, Some(context @ Json::Object(_))) if user_same && txn.user.is_object() => Some((None, context)),
        _ => None,
    };
    let Some((user, context)) = user else {
        // `user.toJSON = () => undefined` and the like: the changes of the whole run would be
        // lost, so the login stops instead.
        return Some(failure(
            &rule.name,
            Cause::RuleError,
            "rule error: the rule left a user or context that is not a JSON object".into(),
            &rule.path,
        ));
    };
    // `[what, key, rule, ...]` in the order the changes were made: the last one counts.
    let owners = result.remove("owners").unwrap_or(Json::Null);
    let owners: Vec<&Json> = owners.as_array().map(|a| a.iter().collect()).unwrap_or_default();
    let owner = |what: &str, key: &str| {
        owners
            .chunks(3)
            .rev()
            .find(|t| t.len() == 3 && t[0] == what && t[1] == key)
            .and_then(|t| t[2].as_str())
            .unwrap_or(&rule.name)
            .to_string()
    };
    // The final objects, as the rules left them (they may have replaced them whole).
    for (token, key, tag) in [(Token::IdToken, "idToken", "id"), (Token::AccessToken, "accessToken", "at")] {
        let before = match token {
            Token::IdToken => &txn.id_token,
            Token::AccessToken => &txn.access_token,
        };
        let before: Vec<(String, Json)> = before.iter().map(|(k, c)| (k.clone(), c.value.clone())).collect();
        let empty = Map::new();
        let after = context[key].as_object().unwrap_or(&empty);
        for (k, v) in after {
            if k == "scope" && token == Token::AccessToken {
                continue;
            }
            if before.iter().all(|(bk, bv)| bk != k || bv != v) {
                txn.claim(token, k, &Value::from_json(v), &owner(tag, k));
            }
        }
        for (k, _) in before {
            if !after.contains_key(&k) {
                txn.claim(token, &k, &Value::Null, &owner(tag, &k));
            }
        }
    }
    // Read as the host's scopes are (a list's items are split too); anything else is an error.
    match &context["accessToken"]["scope"] {
        Json::Null => {}
        given => match warden_runtime::scope_list(given) {
            Some(s) if txn.scope.as_ref() != Some(&s) => txn.scope_set(s),
            Some(_) => {}
            None => {
                let m = "the rule left `context.accessToken.scope` that is not scopes (a space-separated string or a list of strings)";
                return Some(failure(&owner("at", "scope"), Cause::RuleError, format!("rule error: {m}"), &rule.path));
            }
        },
    }
    if let Some(m) = context["multifactor"].as_object()
        && let Some(provider) = m.get("provider").and_then(Json::as_str)
    {
        let remember = m.get("allowRememberBrowser").and_then(Json::as_bool).unwrap_or(false);
        let options = ["host", "ikey", "skey", "username"]
            .iter()
            .filter_map(|k| m.get(*k).and_then(Json::as_str).map(|v| (k.to_string(), v.to_string())))
            .collect();
        if txn.multifactor.as_ref().map(|(j, _)| j) != Some(&context["multifactor"]) {
            txn.mfa(provider, remember, options, &owner("multifactor", ""));
        }
    }
    if let Some(url) = context["redirect"]["url"].as_str()
        && txn.redirect.as_ref().map(|(j, _)| &j["url"]) != Some(&json!(url))
        && let Err(m) = txn.redirect(url, &owner("redirect", ""))
    {
        return Some(failure(&rule.name, Cause::RuleError, format!("rule error: {m}"), &rule.path));
    }
    // The SAML configuration and the primary user, which Auth0 reads back after the
    // pipeline: taken when a rule changed them, and only when they have the right type.
    let wrong = |key: &str, expected: &str, found: Option<&Json>| {
        let name = owner(key, "");
        let path = rules.iter().find(|r| r.name == name).map_or(rule.path.as_str(), |r| r.path.as_str());
        failure(
            &name,
            Cause::RuleError,
            format!("rule error: context.{key} must be {expected}, found {}", kind(found)),
            path,
        )
    };
    let saml = context.get("samlConfiguration");
    let saml_before = txn.saml_configuration.as_ref().or_else(|| txn.context.get("samlConfiguration"));
    if !same_json(saml, saml_before) {
        match saml {
            Some(s @ Json::Object(_)) => txn.saml_configuration = Some(s.clone()),
            other => return Some(wrong("samlConfiguration", "an object", other)),
        }
    }
    let primary = context.get("primaryUser");
    let primary_changed = match &txn.primary_user {
        Some(before) => primary.and_then(Json::as_str) != Some(before.as_str()),
        None => primary != txn.context.get("primaryUser"),
    };
    if primary_changed {
        match primary {
            Some(Json::String(p)) if !p.is_empty() => txn.primary_user = Some(p.clone()),
            other => return Some(wrong("primaryUser", "a user_id (a non-empty string)", other)),
        }
    }
    // Later `.rule` steps read the scope normalized, whichever form the rule wrote.
    let mut context = context;
    if let (Some(scope), Some(at)) = (&txn.scope, context.get_mut("accessToken").and_then(Json::as_object_mut))
        && at.contains_key("scope")
    {
        at.insert("scope".into(), json!(scope));
    }
    if let Some(user) = user {
        txn.user = Arc::new(user);
    }
    if result.get("partial") != Some(&Json::Bool(true)) {
        txn.context = Arc::new(context);
    }
    None
}
