//! JavaScript in worker processes (ARCHITECTURE.md, "JavaScript execution model").
//!
//! A worker is a process that serves [`serve`] on its stdin and stdout: it loads one
//! pipeline's rules (the same [`JsRules`] as in process) and runs runs of consecutive
//! JavaScript steps on the transaction state the host sends. The host ([`Pool`]) waits for
//! each answer until the login's deadline plus [`GRACE`], then kills the worker: whatever a
//! rule does inside QuickJS, its CPU comes back. A worker that dies (a crash in QuickJS, a
//! kill) ends only the login it was running; the next login gets a fresh worker.
//!
//! Frames are a 4-byte little-endian length and a JSON document; every request but `Load`
//! carries a number the answer repeats, so that a worker may later answer out of order.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use warden_runtime::{ClaimEntry, Effect, EffectKind, ErrorInfo, LogEntry, Txn, Value};

use crate::error::{failure, timeout};
use crate::{Bytecode, JsError, JsRules, JsSource, Limits, Link};

/// How long after a login's deadline the host waits for a worker before killing it.
pub const GRACE: Duration = Duration::from_millis(100);

/// How a worker is started: a program and its arguments (`warden __js-worker`), and at most
/// how many run at once per pipeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workers {
    pub command: Vec<OsString>,
    pub max: usize,
}

impl Workers {
    /// Workers started as `program ARGS...`, as many at once as the machine has CPUs.
    pub fn new(command: Vec<OsString>) -> Workers {
        let max = std::thread::available_parallelism().map_or(2, |n| n.get());
        Workers { command, max }
    }
}

// ---------------------------------------------------------------------------------------
// The protocol.

/// The sandbox limits, as sent to a worker.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct WireLimits {
    timeout_ms: u64,
    memory_bytes: usize,
    stack_bytes: usize,
    http: Option<warden_ir::HttpPolicy>,
}

impl From<&Limits> for WireLimits {
    fn from(l: &Limits) -> WireLimits {
        WireLimits {
            timeout_ms: l.timeout.as_millis().min(u128::from(u64::MAX)) as u64,
            memory_bytes: l.memory_bytes,
            stack_bytes: l.stack_bytes,
            http: l.http.clone(),
        }
    }
}

impl From<&WireLimits> for Limits {
    fn from(l: &WireLimits) -> Limits {
        Limits {
            timeout: Duration::from_millis(l.timeout_ms),
            memory_bytes: l.memory_bytes,
            stack_bytes: l.stack_bytes,
            http: l.http.clone(),
        }
    }
}

/// `S` is [`State`] where it is read and [`StateRef`] where it is written (no copy).
#[derive(Debug, Serialize, Deserialize)]
enum Request<S> {
    /// Load the pipeline's rules: from their sources (the worker compiles them and sends the
    /// bytecode back), or from bytecode compiled earlier by a worker of this build or read
    /// from a verified artifact.
    Load {
        rules: Vec<JsSource>,
        modules: Vec<JsSource>,
        bytecode: Option<Bytecode>,
        config: BTreeMap<String, String>,
        limits: WireLimits,
    },
    /// Run these steps (JavaScript rule indexes and their links) on the state, within
    /// `budget_ms`. `config`: the login's configuration, when it is not the one the worker
    /// saw last.
    Run {
        id: u64,
        steps: Vec<(u32, Link)>,
        /// The login this run belongs to: the first run of a login the worker has not seen
        /// removes what earlier logins left on its global object.
        login: u64,
        budget_ms: u64,
        config: Option<BTreeMap<String, String>>,
        state: S,
    },
}

#[derive(Debug, Serialize, Deserialize)]
enum Response<S> {
    Loaded {
        errors: Vec<JsError>,
        bytecode: Bytecode,
    },
    /// The run ended: the state after it, and the deny or error that stopped it, with the
    /// position of its step.
    Ran {
        id: u64,
        state: S,
        stop: Option<(u32, ErrorInfo)>,
    },
}

/// What JavaScript steps read and change in a transaction (everything but the slots), as
/// read from a frame. `user` and `context` are missing in an answer when the run left them as
/// they were.
#[derive(Debug, Deserialize)]
struct State {
    user: Option<Json>,
    context: Option<Json>,
    now: i64,
    id_token: Vec<(String, Json, String)>,
    access_token: Vec<(String, Json, String)>,
    scope: Option<Vec<String>>,
    multifactor: Option<(Json, String)>,
    redirect: Option<(Json, String)>,
    saml_configuration: Option<Json>,
    primary_user: Option<String>,
    effects: Vec<(EffectKind, String, Map<String, Json>, String)>,
    logs: Vec<LogEntry>,
    net: warden_runtime::NetState,
}

/// [`State`] as written, borrowed from a transaction.
#[derive(Debug, Serialize)]
struct StateRef<'a> {
    user: Option<&'a Json>,
    context: Option<&'a Json>,
    now: i64,
    id_token: Vec<(&'a str, Json, &'a str)>,
    access_token: Vec<(&'a str, Json, &'a str)>,
    scope: &'a Option<Vec<String>>,
    multifactor: &'a Option<(Json, String)>,
    redirect: &'a Option<(Json, String)>,
    saml_configuration: &'a Option<Json>,
    primary_user: &'a Option<String>,
    effects: Vec<(EffectKind, &'a str, &'a Map<String, Json>, &'a str)>,
    logs: &'a [LogEntry],
    net: &'a warden_runtime::NetState,
}

fn claims(c: &IndexMap<String, ClaimEntry>) -> Vec<(&str, Json, &str)> {
    c.iter().map(|(k, e)| (k.as_str(), e.value.to_json(), e.rule.as_str())).collect()
}

fn claims_back(c: Vec<(String, Json, String)>) -> IndexMap<String, ClaimEntry> {
    c.into_iter().map(|(k, value, rule)| (k, ClaimEntry { value: Value::from_json(&value), rule })).collect()
}

impl<'a> StateRef<'a> {
    /// The transaction's state; `user` and `context` only when `with` says so.
    fn of(txn: &'a Txn, with_user: bool, with_context: bool) -> StateRef<'a> {
        StateRef {
            user: with_user.then_some(&*txn.user),
            context: with_context.then_some(&*txn.context),
            now: txn.now,
            id_token: claims(&txn.id_token),
            access_token: claims(&txn.access_token),
            scope: &txn.scope,
            multifactor: &txn.multifactor,
            redirect: &txn.redirect,
            saml_configuration: &txn.saml_configuration,
            primary_user: &txn.primary_user,
            effects: txn.effects.iter().map(|e| (e.kind, e.user_id.as_str(), &e.patch, e.rule.as_str())).collect(),
            logs: &txn.logs,
            net: &txn.net,
        }
    }
}

impl State {
    /// Puts the state into `txn` (its slots and configuration stay, and so do its user and
    /// context when the state has none).
    fn into(self, txn: &mut Txn) {
        if let Some(user) = self.user {
            txn.user = Arc::new(user);
        }
        if let Some(context) = self.context {
            txn.context = Arc::new(context);
        }
        txn.id_token = claims_back(self.id_token);
        txn.access_token = claims_back(self.access_token);
        txn.scope = self.scope;
        txn.multifactor = self.multifactor;
        txn.redirect = self.redirect;
        txn.saml_configuration = self.saml_configuration;
        txn.primary_user = self.primary_user;
        txn.effects = self
            .effects
            .into_iter()
            .map(|(kind, user_id, patch, rule)| Effect { kind, user_id, patch, rule })
            .collect();
        txn.logs = self.logs;
        txn.net = self.net;
        // A worker keeps to the limits, but the host does not rely on it.
        txn.logs.truncate(warden_runtime::MAX_LOGS);
    }

    /// A transaction for the worker (no slots: JavaScript steps do not read them).
    fn txn(self, config: Arc<BTreeMap<String, String>>) -> Txn {
        let mut txn = Txn::without_slots(
            Arc::new(Json::Null),
            Arc::new(Json::Null),
            warden_runtime::Config::untyped(config),
            self.now,
        );
        self.into(&mut txn);
        txn
    }
}

/// The largest frame either side accepts beyond what the heap limit allows (inputs, logs).
const FRAME_SLACK: usize = 64 * 1024 * 1024;

fn write_frame<T: Serialize>(w: &mut impl Write, value: &T) -> io::Result<()> {
    let body = serde_json::to_vec(value).map_err(io::Error::other)?;
    let len = u32::try_from(body.len()).map_err(|_| io::Error::other("frame too large"))?;
    w.write_all(&len.to_le_bytes())?;
    w.write_all(&body)?;
    w.flush()
}

/// The next frame; `None` at the end of the stream.
fn read_frame(r: &mut impl Read, max: usize) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > max {
        return Err(io::Error::other(format!("a frame of {len} bytes is larger than {max}")));
    }
    // Grown as the bytes arrive: a length alone reserves nothing.
    let mut body = Vec::new();
    r.take(len as u64).read_to_end(&mut body)?;
    if body.len() != len {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the stream ended inside a frame"));
    }
    Ok(Some(body))
}

// ---------------------------------------------------------------------------------------
// The worker.

/// Serves one worker on stdin and stdout until stdin closes; returns the exit status.
pub fn serve() -> i32 {
    serve_on(&mut io::stdin().lock(), &mut io::stdout().lock())
}

/// [`serve`] on any pair of streams.
fn serve_on(input: &mut impl Read, output: &mut impl Write) -> i32 {
    let mut rules: Option<JsRules> = None;
    let mut config = Arc::new(BTreeMap::new());
    let mut last_login = 0u64;
    loop {
        let max = rules.as_ref().map_or(FRAME_SLACK, |r| r.limits.memory_bytes.saturating_add(FRAME_SLACK));
        let frame = match read_frame(input, max) {
            Ok(Some(f)) => f,
            Ok(None) => return 0,
            Err(_) => return 2,
        };
        let Ok(request) = serde_json::from_slice::<Request<State>>(&frame) else { return 2 };
        let sent = match request {
            Request::Load { rules: sources, modules, bytecode, config: c, limits } => {
                config = Arc::new(c);
                let limits = Limits::from(&limits);
                let loaded = match bytecode {
                    // SAFETY: the host sends bytecode only when a worker of this build compiled
                    // it from these sources (before any of their code ran), or when it came
                    // from an artifact whose signature the host verified (`JsRules::from_bytecode`).
                    #[allow(unsafe_code)]
                    Some(code) => unsafe { JsRules::local_from_bytecode(sources, modules, code, &config, limits) },
                    None => JsRules::local(sources, modules, &config, limits),
                };
                let response = match loaded {
                    Ok(js) => {
                        let bytecode = js.bytecode().clone();
                        rules = Some(js);
                        Response::<StateRef>::Loaded { errors: Vec::new(), bytecode }
                    }
                    Err(errors) => Response::<StateRef>::Loaded { errors, bytecode: Bytecode::default() },
                };
                write_frame(output, &response)
            }
            Request::Run { id, steps, login, budget_ms, config: c, state } => {
                // A login's runs may go to different workers: each worker starts a login it
                // has not seen before, whatever the login did elsewhere.
                let start = login != std::mem::replace(&mut last_login, login);
                let Some(js) = &rules else { return 2 };
                if let Some(c) = c {
                    config = Arc::new(c);
                }
                let deadline = Instant::now() + Duration::from_millis(budget_ms);
                if state.user.is_none() || state.context.is_none() {
                    return 2;
                }
                let mut txn = state.txn(config.clone());
                let (user, context) = (txn.user.clone(), txn.context.clone());
                let mut stop = None;
                for (position, (index, link)) in steps.iter().enumerate() {
                    if *index as usize >= js.rules.len() {
                        return 2;
                    }
                    if let Some(e) = js.run(*index as usize, &mut txn, deadline, *link, start && position == 0) {
                        stop = Some((position as u32, e));
                        break;
                    }
                }
                // Objects the run did not replace are not sent back.
                let state = StateRef::of(&txn, !Arc::ptr_eq(&user, &txn.user), !Arc::ptr_eq(&context, &txn.context));
                write_frame(output, &Response::Ran { id, state, stop })
            }
        };
        if sent.is_err() {
            return 2;
        }
    }
}

// ---------------------------------------------------------------------------------------
// The host.

/// A pipeline's workers: idle ones wait here; a login takes one, or starts one under the
/// maximum, or waits for one until its deadline.
#[derive(Debug)]
pub(crate) struct Pool {
    settings: Workers,
    /// The `Load` frame every new worker gets (with the pipeline's bytecode).
    load: Vec<u8>,
    limits: Limits,
    rule_names: Vec<(String, String)>,
    state: Mutex<PoolState>,
    freed: Condvar,
}

#[derive(Debug, Default)]
struct PoolState {
    idle: Vec<Worker>,
    /// Workers alive, idle or running a login.
    live: usize,
}

/// One worker process. The login that uses it reads its answer on its own thread, while the
/// [`watchdog`] kills it if no answer came by the deadline plus the grace.
#[derive(Debug)]
struct Worker {
    child: Arc<Mutex<Child>>,
    pid: u32,
    stdin: ChildStdin,
    stdout: ChildStdout,
    max_frame: usize,
    /// The configuration the worker saw last (sent again only when a login's differs).
    config: Option<Arc<BTreeMap<String, String>>>,
    next_id: u64,
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Idle workers end here (closing stdin would end them too); a stuck one is killed.
        // Either way the process is reaped.
        if let Ok(mut child) = self.child.lock() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Worker {
    fn spawn(
        settings: &Workers,
        load: &[u8],
        deadline: Instant,
        max_frame: usize,
    ) -> Result<(Worker, Response<State>), String> {
        let Some((program, args)) = settings.command.split_first() else {
            return Err("no command starts JavaScript workers".into());
        };
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start a JavaScript worker ({}): {e}", program.to_string_lossy()))?;
        let pid = child.id();
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err("cannot talk to a JavaScript worker".into());
        };
        let mut worker =
            Worker { child: Arc::new(Mutex::new(child)), pid, stdin, stdout, max_frame, config: None, next_id: 1 };
        match worker.exchange(load, deadline) {
            Answer::Frame(r @ Response::Loaded { .. }) => Ok((worker, r)),
            Answer::Frame(_) => Err("a JavaScript worker answered out of turn".into()),
            Answer::Late => Err("loading the JavaScript rules did not finish within the time budget".into()),
            Answer::Gone(why) => Err(format!("the JavaScript sandbox stopped while loading the rules ({why})")),
        }
    }

    /// Sends a frame and reads the answer, which must come by `deadline` plus the grace.
    fn exchange(&mut self, frame: &[u8], deadline: Instant) -> Answer {
        let sent = self.stdin.write_all(frame).and_then(|()| self.stdin.flush());
        if sent.is_err() {
            return Answer::Gone(self.exit_status("it stopped reading"));
        }
        let watch = watchdog().watch(deadline + GRACE, self.child.clone());
        let frame = read_frame(&mut self.stdout, self.max_frame);
        let late = watchdog().unwatch(watch);
        match frame {
            Ok(Some(_)) | Err(_) | Ok(None) if late => Answer::Late,
            Ok(Some(frame)) => match serde_json::from_slice::<Response<State>>(&frame) {
                Ok(r) => Answer::Frame(r),
                Err(e) => Answer::Gone(format!("it sent an unreadable answer: {e}")),
            },
            Ok(None) => Answer::Gone(self.exit_status("its output closed")),
            Err(e) => Answer::Gone(self.exit_status(&e.to_string())),
        }
    }

    /// Why the worker went away: its signal or exit status when it has one.
    fn exit_status(&mut self, otherwise: &str) -> String {
        let Ok(mut child) = self.child.lock() else { return otherwise.to_string() };
        // It is gone or going: make sure, then read how it ended.
        let _ = child.kill();
        match child.wait() {
            Ok(status) => {
                #[cfg(unix)]
                if let Some(signal) = std::os::unix::process::ExitStatusExt::signal(&status)
                    && signal != 9
                {
                    return format!("killed by signal {signal}");
                }
                match status.code() {
                    Some(code) => format!("exited with status {code}"),
                    None => otherwise.to_string(),
                }
            }
            Err(_) => otherwise.to_string(),
        }
    }
}

// An answer is moved once, from `exchange` to its caller: boxing the frame would only add an
// allocation per run.
#[allow(clippy::large_enum_variant)]
enum Answer {
    Frame(Response<State>),
    /// No answer by the deadline plus the grace: the watchdog killed the worker.
    Late,
    /// The worker died, or broke the protocol.
    Gone(String),
}

/// The one thread that kills workers whose answer is overdue. A login registers its worker
/// and deadline before it waits for the answer (on its own thread, reading the pipe), and
/// takes the registration back when the answer came: only a worker still registered at its
/// deadline is killed, which ends that read.
#[derive(Debug, Default)]
struct Watchdog {
    watched: Mutex<Vec<Watched>>,
    changed: Condvar,
}

#[derive(Debug)]
struct Watched {
    token: u64,
    at: Instant,
    child: Arc<Mutex<Child>>,
    fired: Arc<AtomicBool>,
}

/// A registration with the watchdog.
struct Watch {
    token: u64,
    fired: Arc<AtomicBool>,
}

fn watchdog() -> &'static Watchdog {
    static WATCHDOG: OnceLock<&'static Watchdog> = OnceLock::new();
    WATCHDOG.get_or_init(|| {
        let dog: &'static Watchdog = Box::leak(Box::default());
        let spawned = std::thread::Builder::new().name("warden-js-watchdog".into()).spawn(move || dog.patrol());
        if spawned.is_err() {
            // Without the thread nothing would be killed: no worker may run.
            dog.watched.lock().map(|mut w| w.clear()).ok();
        }
        dog
    })
}

impl Watchdog {
    fn watch(&self, at: Instant, child: Arc<Mutex<Child>>) -> Watch {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let token = NEXT.fetch_add(1, Ordering::Relaxed);
        let fired = Arc::new(AtomicBool::new(false));
        if let Ok(mut w) = self.watched.lock() {
            w.push(Watched { token, at, child, fired: fired.clone() });
        }
        self.changed.notify_one();
        Watch { token, fired }
    }

    /// Takes a registration back; true when the worker was killed for being late.
    fn unwatch(&self, watch: Watch) -> bool {
        if let Ok(mut w) = self.watched.lock() {
            w.retain(|x| x.token != watch.token);
        }
        watch.fired.load(Ordering::SeqCst)
    }

    fn patrol(&self) {
        let Ok(mut watched) = self.watched.lock() else { return };
        loop {
            let now = Instant::now();
            let (due, waiting): (Vec<Watched>, Vec<Watched>) = watched.drain(..).partition(|w| w.at <= now);
            *watched = waiting;
            for w in due {
                w.fired.store(true, Ordering::SeqCst);
                if let Ok(mut child) = w.child.lock() {
                    let _ = child.kill();
                }
            }
            let next = watched.iter().map(|w| w.at).min();
            let wait = next.map_or(Duration::from_secs(3600), |at| at.saturating_duration_since(Instant::now()));
            watched = match self.changed.wait_timeout(watched, wait) {
                Ok((w, _)) => w,
                Err(_) => return,
            };
        }
    }
}

impl Pool {
    /// Starts the first worker, which compiles (unless `bytecode` is given) and loads the
    /// rules: their errors come back as the pipeline's errors. Returns the pool and the
    /// bytecode.
    pub(crate) fn start(
        settings: Workers,
        rules: &[JsSource],
        modules: &[JsSource],
        bytecode: Option<Bytecode>,
        config: &BTreeMap<String, String>,
        limits: &Limits,
    ) -> Result<(Pool, Bytecode), Vec<JsError>> {
        let fail = |m: String| vec![JsError::new("", m)];
        let load = |bytecode: Option<Bytecode>| {
            let request = Request::<StateRef>::Load {
                rules: rules.to_vec(),
                modules: modules.to_vec(),
                bytecode,
                config: config.clone(),
                limits: WireLimits::from(limits),
            };
            let mut frame = Vec::new();
            write_frame(&mut frame, &request).map(|()| frame).map_err(|e| fail(e.to_string()))
        };
        let max_frame = limits.memory_bytes.saturating_add(FRAME_SLACK);
        let deadline = Instant::now() + limits.timeout;
        let given = bytecode.is_some();
        let (worker, loaded) = Worker::spawn(&settings, &load(bytecode.clone())?, deadline, max_frame).map_err(fail)?;
        let Response::Loaded { errors, bytecode: compiled } = loaded else {
            return Err(fail("a JavaScript worker answered out of turn".into()));
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let bytecode = if given { bytecode.unwrap_or_default() } else { compiled };
        if bytecode.rules.len() != rules.len() || bytecode.modules.len() != modules.len() {
            return Err(fail("a JavaScript worker compiled something else than the rules".into()));
        }
        let pool = Pool {
            settings,
            load: load(Some(bytecode.clone()))?,
            limits: limits.clone(),
            rule_names: rules.iter().map(|r| (r.name.clone(), r.file.path.clone())).collect(),
            state: Mutex::new(PoolState { idle: vec![worker], live: 1 }),
            freed: Condvar::new(),
        };
        Ok((pool, bytecode))
    }

    /// Runs a run of consecutive JavaScript steps in a worker and puts what they did into
    /// `txn`; the deny or error that stopped it comes back with its position in `steps`.
    pub(crate) fn run(
        &self,
        steps: &[(usize, Link)],
        txn: &mut Txn,
        deadline: Instant,
        login: u64,
    ) -> Option<(usize, ErrorInfo)> {
        let first = steps.first().map_or(0, |s| s.0);
        let mut worker = match self.checkout(deadline) {
            Ok(w) => w,
            Err(Checkout::Late) => return Some((0, timeout(&self.source(first)))),
            Err(Checkout::Failed(m)) => return Some((0, self.failure(first, m))),
        };
        let id = worker.next_id;
        worker.next_id += 1;
        let strings = txn.config.strings();
        let config = match &worker.config {
            Some(c) if Arc::ptr_eq(c, strings) || **c == **strings => None,
            _ => Some((**strings).clone()),
        };
        let request = Request::Run {
            id,
            steps: steps.iter().map(|(i, l)| (*i as u32, *l)).collect(),
            login,
            budget_ms: deadline.saturating_duration_since(Instant::now()).as_millis() as u64,
            config,
            state: StateRef::of(txn, true, true),
        };
        let mut frame = Vec::new();
        if let Err(e) = write_frame(&mut frame, &request) {
            self.checkin(worker);
            return Some((0, self.failure(first, format!("cannot send the login to a JavaScript worker: {e}"))));
        }
        worker.config = Some(txn.config.strings().clone());
        // A worker killed at the deadline cannot say which rule of a run was running: the
        // timeout names the run's first rule (a rule that overruns inside QuickJS's reach is
        // stopped by the worker itself, which names it).
        match worker.exchange(&frame, deadline) {
            Answer::Frame(Response::Ran { id: i, state, stop }) if i == id => {
                self.checkin(worker);
                state.into(txn);
                stop.map(|(p, e)| ((p as usize).min(steps.len().saturating_sub(1)), e))
            }
            Answer::Frame(_) => {
                self.lost(worker);
                Some((0, self.failure(first, "the JavaScript sandbox answered out of turn".into())))
            }
            // Past the deadline and the grace: whatever the rule was doing, it stopped there.
            Answer::Late => {
                self.lost(worker);
                Some((0, timeout(&self.source(first))))
            }
            Answer::Gone(why) => {
                self.lost(worker);
                Some((0, self.failure(first, format!("the JavaScript sandbox stopped ({why})"))))
            }
        }
    }

    /// Rule `index`'s name and path, for errors.
    fn source(&self, index: usize) -> JsSource {
        let (name, path) = self.rule_names.get(index).cloned().unwrap_or_default();
        JsSource { name, file: warden_syntax::SourceFile::new(path, String::new()) }
    }

    fn failure(&self, index: usize, message: String) -> ErrorInfo {
        let rule = self.source(index);
        failure(&rule.name, warden_runtime::Cause::RuleError, format!("rule error: {message}"), &rule.file.path)
    }

    /// An idle worker, or a new one under the maximum, or one freed before `deadline`.
    fn checkout(&self, deadline: Instant) -> Result<Worker, Checkout> {
        let mut state = self.state.lock().map_err(|_| Checkout::Failed("the worker pool is poisoned".into()))?;
        loop {
            if let Some(w) = state.idle.pop() {
                return Ok(w);
            }
            if state.live < self.settings.max.max(1) {
                state.live += 1;
                drop(state);
                let max_frame = self.limits.memory_bytes.saturating_add(FRAME_SLACK);
                return match Worker::spawn(&self.settings, &self.load, deadline, max_frame) {
                    Ok((w, Response::Loaded { errors, .. })) if errors.is_empty() => Ok(w),
                    Ok((w, _)) => {
                        self.lost(w);
                        Err(Checkout::Failed("a JavaScript worker could not load the rules".into()))
                    }
                    Err(m) => {
                        self.forget_one();
                        Err(Checkout::Failed(m))
                    }
                };
            }
            let wait = deadline.saturating_duration_since(Instant::now());
            if wait.is_zero() {
                return Err(Checkout::Late);
            }
            state = match self.freed.wait_timeout(state, wait) {
                Ok((s, _)) => s,
                Err(_) => return Err(Checkout::Failed("the worker pool is poisoned".into())),
            };
        }
    }

    fn checkin(&self, worker: Worker) {
        if let Ok(mut state) = self.state.lock() {
            state.idle.push(worker);
        }
        self.freed.notify_one();
    }

    /// A worker that timed out, died or misbehaved: it is killed (on drop) and forgotten.
    fn lost(&self, worker: Worker) {
        drop(worker);
        self.forget_one();
    }

    fn forget_one(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.live = state.live.saturating_sub(1);
        }
        self.freed.notify_one();
    }

    /// Stops the idle workers (the next login starts a fresh one).
    pub(crate) fn recycle(&self) {
        let idle = match self.state.lock() {
            Ok(mut state) => {
                let idle = std::mem::take(&mut state.idle);
                state.live = state.live.saturating_sub(idle.len());
                idle
            }
            Err(_) => Vec::new(),
        };
        drop(idle);
        self.freed.notify_all();
    }

    /// The process ids of the idle workers (for operations and tests).
    pub(crate) fn pids(&self) -> Vec<u32> {
        self.state.lock().map(|s| s.idle.iter().map(|w| w.pid).collect()).unwrap_or_default()
    }
}

enum Checkout {
    Late,
    Failed(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_frame(id: u64, login: u64, plant: bool) -> Vec<u8> {
        let user = serde_json::json!({ "user_id": "auth0|1", "plant": plant });
        let txn = State {
            user: Some(user),
            context: Some(serde_json::json!({})),
            now: 0,
            id_token: Vec::new(),
            access_token: Vec::new(),
            scope: None,
            multifactor: None,
            redirect: None,
            saml_configuration: None,
            primary_user: None,
            effects: Vec::new(),
            logs: Vec::new(),
            net: Default::default(),
        }
        .txn(Arc::new(BTreeMap::new()));
        let request = Request::Run {
            id,
            steps: vec![(0, Link { first: true, last: true, end: true })],
            login,
            budget_ms: 5000,
            config: None,
            state: StateRef::of(&txn, true, true),
        };
        let mut frame = Vec::new();
        write_frame(&mut frame, &request).expect("frame");
        frame
    }

    /// A login's runs may land on different workers: a worker removes what earlier logins
    /// left on its global object at the first run of any login it has not seen, whether or
    /// not that run is the login's first.
    #[test]
    fn a_worker_starts_each_login_it_has_not_seen() {
        let rule = JsSource {
            name: "r".into(),
            file: warden_syntax::SourceFile::new(
                "r.js",
                "function (user, context, callback) { \
                     context.idToken.seen = typeof verified === 'undefined' ? 'nothing' : String(verified); \
                     if (user.plant) Object.defineProperty(globalThis, 'verified', { get() { return true; } }); \
                     callback(null, user, context); }",
            ),
        };
        let mut input = Vec::new();
        let load = Request::<StateRef>::Load {
            rules: vec![rule],
            modules: Vec::new(),
            bytecode: None,
            config: BTreeMap::new(),
            limits: WireLimits::from(&Limits::default()),
        };
        write_frame(&mut input, &load).expect("frame");
        // Login 7 plants; a later run of login 7 sees it; a run of login 8 (its first here,
        // though maybe not its first anywhere) does not.
        input.extend(run_frame(1, 7, true));
        input.extend(run_frame(2, 7, false));
        input.extend(run_frame(3, 8, false));
        let mut output = Vec::new();
        assert_eq!(serve_on(&mut input.as_slice(), &mut output), 0);
        let mut answers = output.as_slice();
        let mut seen = Vec::new();
        while let Some(frame) = read_frame(&mut answers, usize::MAX).expect("frames") {
            if let Response::Ran { state, stop, .. } =
                serde_json::from_slice::<Response<State>>(&frame).expect("answer")
            {
                assert!(stop.is_none(), "{stop:?}");
                seen.extend(state.id_token.into_iter().filter(|c| c.0 == "seen").map(|c| c.1));
            }
        }
        assert_eq!(seen, [serde_json::json!("nothing"), serde_json::json!("true"), serde_json::json!("nothing")]);
    }
}
