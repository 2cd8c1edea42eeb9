//! The sandbox: one QuickJS runtime per pipeline per thread, with the pipeline's rules
//! loaded in it. A runtime has a memory limit (kept by its allocator, `heap.rs`, so that any
//! out-of-memory is seen), a stack limit and an interrupt handler that stops the rule at the
//! pipeline's deadline; the prelude (`prelude.js`) is loaded first, and removes what a login
//! added to the global object when the next one starts. A runtime left in an unknown state
//! (a timeout, the heap limit) is replaced for the next login.

use std::cell::RefCell;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rquickjs::{Context, Ctx, Runtime};
use warden_runtime::{ErrorInfo, Txn};

use crate::bridge::{self, Finish};
use crate::error::{Failure, position};
use crate::{Bytecode, JsError, JsRules, JsSource, Link, bytecode, heap, host, marshal};

const PRELUDE: &str = include_str!("prelude.js");
const HTTP: &str = include_str!("http.js");

thread_local! {
    /// This thread's runtimes, by pipeline.
    static RUNTIMES: RefCell<HashMap<u64, Sandbox>> = RefCell::new(HashMap::new());
}

/// Loads a runtime for `js` (by `deadline`), which serves this thread's next login.
pub(crate) fn load(js: &JsRules, deadline: Instant) -> Result<(), Vec<JsError>> {
    let sandbox = Sandbox::new(js, deadline)?;
    RUNTIMES.with(|cell| {
        let mut map = cell.borrow_mut();
        map.retain(|_, s| s.owner.strong_count() > 0);
        map.insert(js.id, sandbox);
    });
    Ok(())
}

/// Drops this thread's runtime for the pipeline `id`, if it has one.
pub(crate) fn forget(id: u64) {
    // A thread being torn down may no longer have its runtimes: nothing to free then.
    let _ = RUNTIMES.try_with(|cell| {
        if let Ok(mut map) = cell.try_borrow_mut() {
            map.remove(&id);
        }
    });
}

/// Runs rule `index` of `js` in this thread's runtime for it (see [`JsRules::run`]), starting
/// one when there is none.
pub(crate) fn run(
    js: &JsRules,
    index: usize,
    txn: &mut Txn,
    deadline: Instant,
    link: Link,
    start: bool,
) -> Option<ErrorInfo> {
    let rule = &js.rules[index];
    let memory_bytes = js.limits.memory_bytes;
    RUNTIMES.with(|cell| {
        let mut map = cell.borrow_mut();
        map.retain(|_, s| s.owner.strong_count() > 0);
        // Twice at most: a runtime whose global object cannot be restored is replaced,
        // and the login runs on the fresh one.
        for _ in 0..2 {
            let sandbox = match map.entry(js.id) {
                Entry::Occupied(o) => o.into_mut(),
                Entry::Vacant(v) => match Sandbox::new(js, deadline) {
                    Ok(s) => v.insert(s),
                    Err(errors) => {
                        let m = errors.first().map_or("cannot load".to_string(), |e| e.message.clone());
                        return Some(Failure::Load(m).into_error(rule, memory_bytes));
                    }
                },
            };
            match sandbox.run(index, txn, deadline, link, start, js) {
                Some((result, recycle)) => {
                    if recycle {
                        // A timeout or a memory limit leaves the runtime in an unknown
                        // state: the next login gets a fresh one (and a fresh `global`,
                        // as in Auth0).
                        map.remove(&js.id);
                    }
                    return result;
                }
                None => {
                    map.remove(&js.id);
                }
            }
        }
        Some(Failure::Reset.into_error(rule, memory_bytes))
    })
}

/// One QuickJS runtime with the pipeline's rules compiled in it.
struct Sandbox {
    /// The prelude's `__warden` object (no longer a global once rules load). Declared first:
    /// it must be released before the context and the runtime.
    warden: rquickjs::Persistent<rquickjs::Object<'static>>,
    runtime: Runtime,
    context: Context,
    /// The current deadline, in milliseconds since `epoch()`: the interrupt handler stops
    /// QuickJS once it passed.
    deadline: Arc<AtomicU64>,
    /// The interrupt handler stopped QuickJS since the rule started: a timeout, whatever
    /// the rule made of it.
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

/// What a failed call into QuickJS comes to: the message of the exception it threw, or
/// rquickjs's error.
fn thrown(ctx: &Ctx<'_>, e: rquickjs::Error) -> Failure {
    match e {
        rquickjs::Error::Exception => {
            let v = ctx.catch();
            Failure::Thrown(if let Some(ex) = v.as_exception() {
                ex.message().unwrap_or_default()
            } else {
                v.as_string().and_then(|s| s.to_string().ok()).unwrap_or_else(|| "exception".into())
            })
        }
        other => Failure::Quickjs(other),
    }
}

impl Sandbox {
    #[allow(unsafe_code)] // loads the pipeline's bytecode (see `JsRules::bytecode`)
    /// A runtime with the rules loaded; loading must end by `deadline` (a rule file's
    /// top-level code runs, and could loop).
    fn new(js: &JsRules, deadline: Instant) -> Result<Sandbox, Vec<JsError>> {
        let err = |m: String| vec![JsError::new("", m)];
        let (prelude, http) = prelude_bytecode().map_err(|f| err(format!("prelude.js: {f}")))?;
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
            if let Err(e) = host::install(&ctx, std::sync::Arc::new(crate::npm::Included::new(&js.modules))) {
                errors.push(JsError::new("host", e.to_string()));
                return;
            }
            // SAFETY: compiled by `prelude_bytecode` in this process.
            let setup: Result<rquickjs::Function, _> = unsafe { bytecode::run(&ctx, prelude) };
            let setup = match setup {
                Ok(f) => f,
                Err(e) => {
                    errors.push(JsError::new("prelude.js", thrown(&ctx, e).to_string()));
                    return;
                }
            };
            // SAFETY: compiled by `prelude_bytecode` in this process.
            let http: Result<rquickjs::Function, _> = unsafe { bytecode::run(&ctx, http) };
            let http = match http {
                Ok(f) => f,
                Err(e) => {
                    errors.push(JsError::new("http.js", thrown(&ctx, e).to_string()));
                    return;
                }
            };
            let config = serde_json::to_string(&*js.config).unwrap_or_else(|_| "{}".into());
            if let Err(e) = setup.call::<_, ()>((config.as_str(), http)) {
                errors.push(JsError::new("prelude.js", thrown(&ctx, e).to_string()));
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
                    errors.push(JsError::new("prelude.js", thrown(&ctx, e).to_string()));
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
                    errors.push(JsError::new(m.file.path.clone(), thrown(&ctx, e).to_string()));
                }
            }
            for (rule, code) in js.rules.iter().zip(&js.bytecode.rules) {
                // SAFETY: as for the modules above.
                match unsafe { bytecode::run::<rquickjs::Value>(&ctx, code) } {
                    Ok(v) if v.is_function() => {
                        if let Err(e) = list.set(list.len(), v) {
                            errors.push(JsError::new(rule.file.path.clone(), e.to_string()));
                        }
                    }
                    Ok(v) => errors.push(JsError::new(
                        rule.file.path.clone(),
                        format!(
                            "a rule must be a function expression `function (user, context, callback) {{ ... }}`, found {}",
                            v.type_name()
                        ),
                    )),
                    Err(e) => errors.push(JsError::new(rule.file.path.clone(), thrown(&ctx, e).to_string())),
                }
            }
            if let Err(e) = seal.call::<_, ()>((rquickjs::function::This(w.clone()),)) {
                errors.push(JsError::new("prelude.js", thrown(&ctx, e).to_string()));
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
        sandbox.call::<_, ()>("reset", ()).map_err(|f| vec![JsError::new("prelude.js", f.to_string())])?;
        // The keys every login starts with (the prelude's `seal` fixed them); what loading
        // left running may have added some, which the first login removes.
        sandbox.global_keys = sandbox
            .call::<_, u32>("globalKeys", ())
            .map_err(|f| vec![JsError::new("prelude.js", f.to_string())])? as usize;
        sandbox.deadline.store(u64::MAX, Ordering::Relaxed);
        Ok(sandbox)
    }

    /// How many own keys (strings and symbols) the global object has.
    fn global_keys(&self) -> usize {
        let all = rquickjs::object::Filter::new().string().symbol();
        self.context.with(|ctx| ctx.globals().own_keys::<rquickjs::Atom>(all).len())
    }

    /// Calls `__warden.NAME(args)` in the context.
    fn call<A, R>(&self, name: &str, args: A) -> Result<R, Failure>
    where
        A: for<'js> rquickjs::function::IntoArgs<'js>,
        R: for<'js> rquickjs::FromJs<'js>,
    {
        self.context.with(|ctx| {
            let w = self.warden.clone().restore(&ctx)?;
            let f: rquickjs::Function = w.get(name)?;
            let mut all = rquickjs::function::Args::new(ctx.clone(), 8);
            all.this(w)?;
            args.into_args(&mut all)?;
            f.call_arg::<R>(all).map_err(|e| thrown(&ctx, e))
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
        let strings = txn.config.strings().clone();
        if !Arc::ptr_eq(&self.config, &strings) {
            if *self.config != *strings {
                let json = serde_json::to_string(&*strings).unwrap_or_else(|_| "{}".into());
                if let Err(f) = self.call::<_, ()>("configure", (json.as_str(),)) {
                    // Stopped at the deadline: QuickJS's `interrupted` is the timeout.
                    let f = if self.interrupted.load(Ordering::Relaxed) { Failure::Timeout } else { f };
                    let (result, _) = self.judge(Err(f), false, rule, txn, link, js);
                    return Some((result, true));
                }
            }
            self.config = strings;
        }
        // The objects the previous rule left are used only when it said to keep them.
        let first = link.first || !self.carry;
        self.carry = false;
        let (user, context) = if first {
            (bridge::user_json(&txn.user), bridge::context_json(txn))
        } else {
            (String::new(), String::new())
        };
        let budget = deadline.saturating_duration_since(Instant::now()).as_millis() as u64;
        // A login starts: has the global object gained keys since the runtime loaded? (Counted
        // here, without making JavaScript strings of them: the keys it started with cannot be
        // removed, so any other key makes the count differ.)
        let grown = start && self.global_keys() != self.global_keys;
        // A login answered from canned exchanges (a test case) starts with an empty `global`,
        // so that it runs the same whatever ran before it.
        let fresh = start && txn.net.script.is_some();
        // `begin`'s flags: first, last, end, start, grown, fresh (rquickjs passes at most
        // seven arguments).
        let flags = u32::from(first)
            | u32::from(link.last) << 1
            | u32::from(link.end) << 2
            | u32::from(start) << 3
            | u32::from(grown) << 4
            | u32::from(fresh) << 5;
        // The rule's HTTP (net.rs): requests it starts are counted in the login's state, and
        // their answers come to this thread.
        crate::net::enter(js.net.clone(), std::mem::take(&mut txn.net), deadline);
        let begun = self.call::<_, Option<bool>>(
            "begin",
            (index as u32, rule.name.as_str(), user.as_str(), context.as_str(), flags, txn.now as f64),
        );
        if let Ok(None) = begun {
            txn.net = crate::net::leave();
            return None;
        }
        let outcome: Result<Option<(Finish, bool)>, Failure> = (|| {
            let mut settled = begun?.unwrap_or(false);
            // Past the deadline nothing more runs: not a job, not a timer.
            let late = || Err::<(), Failure>(Failure::Timeout);
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
                if crate::net::inflight() > 0 {
                    // Requests are in flight: this thread blocks (no CPU) until an answer
                    // comes, the next timer is due (timers then keep real time), or the
                    // deadline.
                    let next = self.call::<_, f64>("nextTimer", ())?;
                    let left = deadline.saturating_duration_since(Instant::now());
                    let wait = if next >= 0.0 { left.min(Duration::from_millis(next as u64)) } else { left };
                    match crate::net::wait(wait) {
                        // An answer at the deadline comes too late: the login timed out.
                        Some(_) if Instant::now() >= deadline => late()?,
                        Some((id, answer)) => self.call::<_, ()>("deliver", (id, answer.as_str()))?,
                        None if next >= 0.0 && Instant::now() < deadline => {
                            self.call::<_, bool>("tick", (budget as f64,))?;
                        }
                        None => {}
                    }
                    continue;
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
                let w = self.warden.clone().restore(&ctx)?;
                let finish: rquickjs::Function = w.get("finish")?;
                let out: rquickjs::Value = finish.call((rquickjs::function::This(w),)).map_err(|e| thrown(&ctx, e))?;
                if out.as_string().is_some() {
                    return Ok(None);
                }
                match marshal::to_json_against(&ctx, out, memory_bytes, Some(("user", &txn.user))) {
                    Ok((None, _)) => Ok(None),
                    Ok((Some(r), same)) => Ok(Some((Finish::read(r)?, same))),
                    Err(marshal::Unreadable::Js(e)) => Err(thrown(&ctx, e)),
                    // Reported like an allocation past the heap limit.
                    Err(marshal::Unreadable::TooLarge(m)) => Err(Failure::TooLarge(format!("the result has {m}"))),
                    Err(marshal::Unreadable::NotJson(m)) => {
                        Ok(Some((Finish::threw(format!("the rule left objects that are not JSON: {m}")), false)))
                    }
                }
            })
        })();
        txn.net = crate::net::leave();
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
            (None, false, _) => (Some(Failure::Timeout.into_error(rule, memory_bytes)), true),
            (None, true, Err(f)) => (Some(f.into_error(rule, memory_bytes)), true),
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
        outcome: Result<Option<(Finish, bool)>, Failure>,
        interrupted: bool,
        rule: &JsSource,
        txn: &mut Txn,
        link: Link,
        js: &JsRules,
    ) -> (Option<ErrorInfo>, bool) {
        let outcome = if interrupted {
            Err(Failure::Timeout)
        } else if self.refused.load(Ordering::Relaxed) {
            // Running out of memory anywhere (the rule, its callback's error, warden's own
            // calls into the runtime, the result) is the heap limit, whatever the rule made of
            // it (QuickJS reports it as `InternalError: out of memory`, or as `null` when it
            // cannot even make that error).
            Err(Failure::OutOfMemory)
        } else {
            outcome
        };
        match outcome {
            Err(f) => {
                let recycle = f.recycles();
                (Some(f.into_error(rule, js.limits.memory_bytes)), recycle)
            }
            Ok(None) => {
                self.carry = !link.last;
                (None, false)
            }
            // A rule that never called back timed out: like Auth0's container, the runtime
            // (and its `global`) is recycled.
            Ok(Some((r, user_same))) => {
                let recycle = r.pending();
                self.carry = !link.last && r.ok();
                (bridge::apply(r, user_same, rule, txn, link.last, &js.rules), recycle)
            }
        }
    }
}

/// The prelude and the HTTP modules (`http.js`) as bytecode, compiled once per process.
fn prelude_bytecode() -> Result<(&'static [u8], &'static [u8]), &'static Failure> {
    type Compiled = Result<(Vec<u8>, Vec<u8>), Failure>;
    static PRELUDE_BYTECODE: std::sync::OnceLock<Compiled> = std::sync::OnceLock::new();
    PRELUDE_BYTECODE
        .get_or_init(|| {
            let runtime = Runtime::new()?;
            let context = Context::full(&runtime)?;
            context.with(|ctx| {
                let compile = |text: &str, name: &str| {
                    let text = text.trim_end().trim_end_matches(';');
                    bytecode::compile(&ctx, &format!("({text})"), name).map_err(|e| thrown(&ctx, e))
                };
                Ok((compile(PRELUDE, "prelude.js")?, compile(HTTP, "http.js")?))
            })
        })
        .as_ref()
        .map(|(p, h)| (p.as_slice(), h.as_slice()))
}

/// Compiles every rule and vendored module to bytecode, in a scratch runtime. A rule's
/// source must be one function expression (Auth0 evaluated `(SOURCE)`); a module is the body
/// of a CommonJS factory.
pub(crate) fn compile_all(rules: &[JsSource], modules: &[JsSource]) -> Result<Bytecode, Vec<JsError>> {
    let err = |m: String| vec![JsError::new("", m)];
    let runtime = Runtime::new().map_err(|e| err(e.to_string()))?;
    let context = Context::full(&runtime).map_err(|e| err(e.to_string()))?;
    let mut out = Bytecode::default();
    let mut errors = Vec::new();
    context.with(|ctx| {
        for m in modules {
            // The factory is the script's value; Rust registers it (no global is involved).
            match bytecode::compile(&ctx, &crate::npm::factory_source(m), &m.file.path) {
                Ok(code) => out.modules.push(code),
                Err(e) => errors.push(syntax_error(&ctx, e, &m.file.path)),
            }
        }
        for rule in rules {
            match bytecode::compile(&ctx, &format!("({}\n)", rule.file.text), &rule.file.path) {
                Ok(code) => out.rules.push(code),
                Err(e) => errors.push(syntax_error(&ctx, e, &rule.file.path)),
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;
    use warden_runtime::Cause;

    use super::*;
    use crate::Limits;

    fn rules(text: &str, limits: Limits) -> JsRules {
        let rule = JsSource { name: "r".into(), file: warden_syntax::SourceFile::new("r.js", text) };
        JsRules::local(vec![rule], Vec::new(), &BTreeMap::new(), limits).expect("loads")
    }

    fn txn() -> Txn {
        Txn::without_slots(Arc::new(json!({ "user_id": "auth0|1" })), Arc::new(json!({})), Default::default(), 0)
    }

    fn run_once(js: &JsRules) -> Option<ErrorInfo> {
        let deadline = Instant::now() + js.limits.timeout;
        js.run(0, &mut txn(), deadline, Link { first: true, last: true, end: true }, true)
    }

    /// A timeout is what the interrupt handler or the deadline says, never a message: an
    /// error the rule throws while its result is read is a rule error, whatever it says.
    #[test]
    fn only_the_deadline_makes_a_timeout() {
        let thrower = rules(
            "function (user, context, callback) { \
               user.toJSON = function () { throw new Error('interrupted'); }; \
               callback(null, user, context); }",
            Limits::default(),
        );
        let e = run_once(&thrower).expect("stops");
        assert_eq!((e.cause, e.description.as_str()), (Cause::RuleError, "rule error: interrupted"));

        let limits = Limits { timeout: Duration::from_millis(100), ..Limits::default() };
        let looper = rules("function (user, context, callback) { while (true) {} }", limits);
        let e = run_once(&looper).expect("stops");
        assert_eq!(e.cause, Cause::Timeout);
        assert_eq!(e.description, "Request to Webtask exceeded allowed execution time");
    }
}
