//! JavaScript in worker processes (ARCHITECTURE.md, "JavaScript execution model").
//!
//! A worker is a process that serves [`serve`] on its stdin and stdout: it loads one
//! pipeline's rules (the same [`JsRules`] as in process) and runs runs of consecutive
//! JavaScript steps on the transaction state the host sends, many at once, each on a thread
//! of a pool that grows on demand (each thread keeps its own QuickJS runtime warm), each
//! answered as soon as it ends, in whatever order.
//!
//! The host ([`Pool`]) shares a pipeline's workers between logins. A worker has one writer
//! (its stdin: frames are written whole, in order, under a lock), and its answers are read by
//! the logins waiting on it, in turns: the one whose turn it is hands each answer to the login
//! waiting for its number. A login takes the worker with the fewest runs in flight (starting
//! another while every live one is busy, under the maximum), or waits for room until its
//! deadline. It waits for its answer until the deadline plus [`GRACE`]; then the watchdog
//! kills the worker: whatever a rule does inside QuickJS, its CPU comes back, and the other
//! runs in flight on that worker end with it. A worker that dies (a crash in QuickJS, a kill)
//! ends the runs it held; the next login gets a fresh worker.
//!
//! On either side, the thread that reads a frame is the one that acts on it: a run costs no
//! hand-off between threads beyond the two pipe wake-ups.
//!
//! Frames are a 4-byte little-endian length and a JSON document; every request but `Load`
//! carries a number the answer repeats.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use warden_runtime::{Cause, ClaimEntry, Effect, EffectKind, ErrorInfo, LogEntry, Txn, Value};

use crate::error::{failure, timeout};
use crate::{Bytecode, JsError, JsRules, JsSource, Limits, Link};

/// How long a worker whose host let it go waits for the HTTP requests its rules left running
/// (notifications sent without waiting for the answer) before it exits.
pub const SETTLE: Duration = Duration::from_secs(5);

/// How long after a login's deadline the host waits for a worker before killing it.
pub const GRACE: Duration = Duration::from_millis(100);

/// How many runs a worker takes at once unless told otherwise ([`Workers::runs_per_worker`]):
/// a run in flight costs a thread and a QuickJS runtime with the pipeline loaded in the worker
/// (BENCHMARKS.md, "JavaScript in worker processes": about 0.75 MiB of RSS with the
/// benchmark's rule, so at most about 190 MiB per worker at this default),
/// and a blocked thread in the host.
pub const DEFAULT_RUNS_PER_WORKER: usize = 256;

/// How a worker is started: a program and its arguments (`warden __js-worker`), how many run
/// at once per pipeline, and how many runs each takes at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workers {
    pub command: Vec<OsString>,
    /// Workers per pipeline. A login starts another one while every live worker has a run in
    /// flight, so that rules that compute spread over processes.
    pub max: usize,
    /// Runs one worker takes at once (each on a thread of its own, with its own runtime); a
    /// login that finds every worker full waits for room until its deadline.
    pub runs_per_worker: usize,
}

impl Workers {
    /// Workers started as `program ARGS...`, as many at once as the machine has CPUs, each
    /// taking [`DEFAULT_RUNS_PER_WORKER`] runs at once.
    pub fn new(command: Vec<OsString>) -> Workers {
        let max = std::thread::available_parallelism().map_or(2, |n| n.get());
        Workers { command, max, runs_per_worker: DEFAULT_RUNS_PER_WORKER }
    }
}

/// A mutex's content, even when a thread panicked while holding it (none of the state these
/// locks guard is left half-changed by a panic).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
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
        /// At most how many runs the host sends at once (the worker refuses more).
        runs: usize,
    },
    /// Run these steps (JavaScript rule indexes and their links) on the state, within
    /// `budget_ms`. `config`: the login's configuration, when it is not the one the worker
    /// saw last.
    Run {
        id: u64,
        steps: Vec<(u32, Link)>,
        /// The login this run belongs to: the first run of a login a run thread has not seen
        /// removes what earlier logins left on the global object of its runtime.
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

/// A whole frame: the length, then the JSON document.
fn to_frame<T: Serialize>(value: &T) -> io::Result<Vec<u8>> {
    let mut frame = vec![0u8; 4];
    serde_json::to_writer(&mut frame, value).map_err(io::Error::other)?;
    let len = u32::try_from(frame.len() - 4).map_err(|_| io::Error::other("frame too large"))?;
    frame[..4].copy_from_slice(&len.to_le_bytes());
    Ok(frame)
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

/// How long a run thread with nothing to do keeps its runtime before it ends (the most
/// recently used threads take the next runs, so the others idle out after a burst).
const IDLE: Duration = Duration::from_secs(60);

/// Serves one worker on stdin and stdout until stdin closes; returns the exit status.
pub fn serve() -> i32 {
    serve_on(&mut io::stdin(), io::stdout())
}

/// [`serve`] on any pair of streams: 0 when the input ends (after the runs in flight are
/// answered), 2 when it breaks the protocol or an answer cannot be written.
fn serve_on(input: &mut (impl Read + Send), output: impl Write + Send) -> i32 {
    let output = Mutex::new(output);
    // `Load` comes first, once.
    let frame = match read_frame(input, FRAME_SLACK) {
        Ok(Some(f)) => f,
        Ok(None) => return 0,
        Err(_) => return 2,
    };
    let Ok(Request::Load { rules: sources, modules, bytecode, config, limits, runs }) =
        serde_json::from_slice::<Request<State>>(&frame)
    else {
        return 2;
    };
    let config = Arc::new(config);
    let limits = Limits::from(&limits);
    let loaded = match bytecode {
        // SAFETY: the host sends bytecode only when a worker of this build compiled it from
        // these sources (before any of their code ran), or when it came from an artifact whose
        // signature the host verified (`JsRules::from_bytecode`).
        #[allow(unsafe_code)]
        Some(code) => unsafe { JsRules::local_from_bytecode(sources, modules, code, &config, limits) },
        None => JsRules::local(sources, modules, &config, limits),
    };
    let (js, response) = match loaded {
        Ok(js) => {
            let bytecode = js.bytecode().clone();
            (Some(js), Response::<StateRef>::Loaded { errors: Vec::new(), bytecode })
        }
        Err(errors) => (None, Response::<StateRef>::Loaded { errors, bytecode: Bytecode::default() }),
    };
    let sent = to_frame(&response).and_then(|f| {
        let mut out = lock(&output);
        out.write_all(&f)?;
        out.flush()
    });
    let Some(js) = js.filter(|_| sent.is_ok()) else {
        // Nothing to run: the host stops this worker.
        return if sent.is_ok() && matches!(read_frame(input, FRAME_SLACK), Ok(None)) { 0 } else { 2 };
    };
    // Runs happen on run threads, each with its own runtime: the one that proved the rules
    // load is not needed.
    js.recycle();
    let max = js.limits.memory_bytes.saturating_add(FRAME_SLACK);
    let runners = Runners::new(&js, Reading { input, config, max }, &output, runs.max(1));
    std::thread::scope(|scope| {
        if !runners.spawn(scope, Turn::Read) {
            lock(&runners.threads).ended = Some(2);
        }
    });
    // The scope waited for every thread, and so for the runs in flight. Requests rules sent
    // without waiting for them (notifications) finish before the worker exits.
    crate::net::settle(SETTLE);
    let status = lock(&runners.threads).ended.unwrap_or(2);
    if runners.broken.load(Ordering::Relaxed) { 2 } else { status }
}

/// A run's thread stack: QuickJS stops a rule at `stack_bytes` of its own stack; the Rust
/// frames around it (the sandbox, reading results, JSON) get at least as much again and 1 MiB.
fn run_stack(limits: &Limits) -> usize {
    limits.stack_bytes.saturating_mul(2).saturating_add(1024 * 1024)
}

/// A run, as read.
struct Job {
    id: u64,
    steps: Vec<(u32, Link)>,
    login: u64,
    deadline: Instant,
    config: Arc<BTreeMap<String, String>>,
    state: State,
}

/// The worker's run threads. They take turns reading the input, so that a run is run by the
/// thread that read it, with no hand-off in between. The thread whose turn it is reads one
/// run; then:
/// - when other runs are in flight, it hands the turn at once to an idle thread (the most
///   recently used: its runtime is the warmest) or to a new one, and runs the run;
/// - when none is, it leaves the turn free while it runs the run, and takes it back when the
///   run ends: one login after another thus runs on one thread, and one runtime. A standby
///   thread takes the free turn when the run lasts longer than [`HANDOFF`], so that another
///   run is read by then.
///
/// A thread ends when the input ends, or after [`IDLE`] without a turn. There are at most as
/// many threads as runs at once, plus the reader and the standby.
struct Runners<'a, R, W> {
    js: &'a JsRules,
    /// The reader's turn: the input, and the configuration the last run that had one brought
    /// (runs come in the order the host wrote them).
    input: Mutex<Reading<'a, R>>,
    output: &'a Mutex<W>,
    /// An answer could not be written: the worker ends.
    broken: AtomicBool,
    /// At most this many runs at once (what the host said it sends).
    most: usize,
    stack: usize,
    threads: Mutex<Threads>,
    /// The standby waits here for the turn to be left free.
    standby: Condvar,
}

/// How long the turn may stay free while the thread that left it runs its run: well beyond
/// a warm run of usual rules (tens of microseconds; a few milliseconds in a debug build on a
/// busy machine). A run that arrives meanwhile waits that long at most, once: then the
/// standby reads, and hands the turn on at once while runs are in flight.
const HANDOFF: Duration = Duration::from_millis(20);

struct Reading<'a, R> {
    input: &'a mut R,
    config: Arc<BTreeMap<String, String>>,
    max: usize,
}

struct Threads {
    /// Threads waiting for their turn, the most recently used last.
    idle: Vec<(usize, Sender<Turn>)>,
    /// Runs being run.
    busy: usize,
    /// A thread has the turn (or was handed it); when not, since when it is free.
    reading: bool,
    free_since: Instant,
    /// A thread stands by to take the free turn; it sleeps with a timer (else until woken).
    standing_by: bool,
    standby_timed: bool,
    /// The number of the last thread started.
    started: usize,
    /// The input ended (0) or broke the protocol (2): threads end when their run does.
    ended: Option<i32>,
}

/// What an idle run thread is told.
enum Turn {
    Read,
    StandBy,
    End,
}

/// What became of the turn once a run was read.
enum Handed {
    /// To another thread: this one runs the run.
    On,
    /// Left free for this thread to take back once the run is answered (see [`Runners`]).
    Free,
    /// Nobody took it (no thread could be started): this one runs the run, then reads again.
    Kept,
    /// The run is past the bound: it is refused (the turn left free, as for `Free`).
    Full,
}

impl<'a, R: Read + Send, W: Write + Send> Runners<'a, R, W> {
    fn new(js: &'a JsRules, input: Reading<'a, R>, output: &'a Mutex<W>, most: usize) -> Runners<'a, R, W> {
        Runners {
            js,
            input: Mutex::new(input),
            output,
            broken: AtomicBool::new(false),
            most,
            stack: run_stack(&js.limits),
            threads: Mutex::new(Threads {
                idle: Vec::new(),
                busy: 0,
                reading: true,
                free_since: Instant::now(),
                standing_by: false,
                standby_timed: false,
                started: 0,
                ended: None,
            }),
            standby: Condvar::new(),
        }
    }

    /// Starts a run thread, with the turn or standing by; false when it could not start.
    fn spawn<'scope>(&'scope self, scope: &'scope std::thread::Scope<'scope, '_>, first: Turn) -> bool
    where
        'a: 'scope,
    {
        let n = {
            let mut threads = lock(&self.threads);
            threads.started += 1;
            threads.started
        };
        std::thread::Builder::new()
            .name(format!("warden-js-run-{n}"))
            .stack_size(self.stack)
            .spawn_scoped(scope, move || self.work(scope, n, first))
            .is_ok()
    }

    /// A run thread: reads and runs runs in its turns.
    fn work<'scope>(&'scope self, scope: &'scope std::thread::Scope<'scope, '_>, n: usize, first: Turn)
    where
        'a: 'scope,
    {
        let (me, turns) = mpsc::channel();
        // The first thread makes its runtime before its first turn (the worker just
        // loaded: the first login is about to come), not within its first run, which, taking
        // long, would let the standby take the turn. Other threads make theirs in their first
        // run, as they read.
        if n == 1 {
            let _ = crate::sandbox::load(self.js, Instant::now() + self.js.limits.timeout);
        }
        let mut turn = first;
        // The login the thread's runtime saw last (see `Request::Run`).
        let mut last_login = 0u64;
        loop {
            match turn {
                Turn::Read => {}
                Turn::StandBy if self.stand_by() => {}
                Turn::StandBy | Turn::End => return,
            }
            let job = match self.read() {
                Ok(job) => job,
                Err(status) => return self.end(status),
            };
            let handed = self.hand_on(scope);
            let answer = if let Handed::Full = handed {
                let s = if self.most == 1 { "" } else { "s" };
                self.refusal(job, format!("the JavaScript worker is already running {} run{s}, its most", self.most))
            } else {
                let start = job.login != std::mem::replace(&mut last_login, job.login);
                let answer = run(self.js, job, start);
                // Room again before the answer leaves: once the host has it, it may send
                // the next run.
                lock(&self.threads).busy -= 1;
                answer
            };
            // The turn is taken back only once the answer is out: while a thread waits to
            // write (the host reading slowly), the standby takes the turn, so the input is
            // still read.
            self.answer(answer);
            let next = {
                let mut threads = lock(&self.threads);
                if threads.ended.is_some() {
                    None
                } else if matches!(handed, Handed::Kept) || !threads.reading {
                    threads.reading = true;
                    Some(Turn::Read)
                } else {
                    threads.idle.push((n, me.clone()));
                    None
                }
            };
            turn = match next {
                Some(t) => t,
                None if lock(&self.threads).ended.is_some() => return,
                None => match self.wait_turn(n, &turns) {
                    Some(t) => t,
                    None => return,
                },
            };
        }
    }

    /// Reads the next run (with the turn); the exit status when the input ended or broke
    /// the protocol.
    fn read(&self) -> Result<Job, i32> {
        if self.broken.load(Ordering::Relaxed) {
            return Err(2);
        }
        let mut reading = lock(&self.input);
        let Reading { input, config, max } = &mut *reading;
        let frame = match read_frame(*input, *max) {
            Ok(Some(f)) => f,
            Ok(None) => return Err(0),
            Err(_) => return Err(2),
        };
        let Ok(Request::Run { id, steps, login, budget_ms, config: c, state }) =
            serde_json::from_slice::<Request<State>>(&frame)
        else {
            return Err(2);
        };
        // The budget counts from the frame's arrival.
        let deadline = Instant::now().checked_add(Duration::from_millis(budget_ms)).ok_or(2)?;
        if state.user.is_none()
            || state.context.is_none()
            || steps.iter().any(|(index, _)| *index as usize >= self.js.rules.len())
        {
            return Err(2);
        }
        if let Some(c) = c {
            *config = Arc::new(c);
        }
        Ok(Job { id, steps, login, deadline, config: config.clone(), state })
    }

    /// Counts the run just read and hands the turn on (see [`Runners`]).
    fn hand_on<'scope>(&'scope self, scope: &'scope std::thread::Scope<'scope, '_>) -> Handed
    where
        'a: 'scope,
    {
        let mut threads = lock(&self.threads);
        let full = threads.busy >= self.most;
        let alone = threads.busy == 0;
        if !full {
            threads.busy += 1;
        }
        // A refused run is answered at once, but the answer may wait for the host to read:
        // the turn is left free meanwhile, as for a run alone.
        if alone || full {
            let handed = if full { Handed::Full } else { Handed::Free };
            threads.reading = false;
            threads.free_since = Instant::now();
            if threads.standing_by {
                if !threads.standby_timed {
                    self.standby.notify_one();
                }
                return handed;
            }
            threads.standing_by = true;
            while let Some((_, to)) = threads.idle.pop() {
                if to.send(Turn::StandBy).is_ok() {
                    return handed;
                }
            }
            drop(threads);
            if !self.spawn(scope, Turn::StandBy) {
                // Nobody stands by: this thread takes the turn back after its run.
                lock(&self.threads).standing_by = false;
            }
            return handed;
        }
        while let Some((_, to)) = threads.idle.pop() {
            if to.send(Turn::Read).is_ok() {
                return Handed::On;
            }
        }
        drop(threads);
        if self.spawn(scope, Turn::Read) { Handed::On } else { Handed::Kept }
    }

    /// Stands by until the free turn has been free for [`HANDOFF`], then takes it (true);
    /// false when the input ended.
    fn stand_by(&self) -> bool {
        let mut threads = lock(&self.threads);
        loop {
            if threads.ended.is_some() {
                threads.standing_by = false;
                return false;
            }
            if threads.reading {
                threads.standby_timed = false;
                threads = self.standby.wait(threads).unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            let due = threads.free_since + HANDOFF;
            let now = Instant::now();
            if now >= due {
                threads.reading = true;
                threads.standing_by = false;
                return true;
            }
            threads.standby_timed = true;
            threads = self.standby.wait_timeout(threads, due - now).unwrap_or_else(PoisonError::into_inner).0;
        }
    }

    /// Waits for a turn; `None` when the thread ends instead (the input ended, or it idled
    /// for [`IDLE`]).
    fn wait_turn(&self, n: usize, turns: &Receiver<Turn>) -> Option<Turn> {
        loop {
            match turns.recv_timeout(IDLE) {
                Ok(Turn::End) | Err(RecvTimeoutError::Disconnected) => return None,
                Ok(turn) => return Some(turn),
                Err(RecvTimeoutError::Timeout) => {
                    let mut threads = lock(&self.threads);
                    if let Some(at) = threads.idle.iter().position(|(i, _)| *i == n) {
                        threads.idle.remove(at);
                        return None;
                    }
                    // Taken off the idle list just now: a turn is on its way.
                }
            }
        }
    }

    /// The input ended or broke: idle threads end now, the others after their run.
    fn end(&self, status: i32) {
        let idle = {
            let mut threads = lock(&self.threads);
            threads.ended.get_or_insert(status);
            std::mem::take(&mut threads.idle)
        };
        self.standby.notify_all();
        for (_, to) in idle {
            let _ = to.send(Turn::End);
        }
    }

    /// Writes an answer whole.
    fn answer(&self, frame: io::Result<Vec<u8>>) {
        let sent = frame.and_then(|f| {
            let mut out = lock(self.output);
            out.write_all(&f)?;
            out.flush()
        });
        if sent.is_err() {
            self.broken.store(true, Ordering::Relaxed);
        }
    }

    /// The answer to a run that cannot run here: a rule error, the state as it came.
    fn refusal(&self, job: Job, why: String) -> io::Result<Vec<u8>> {
        let Job { id, steps, config, state, .. } = job;
        let txn = state.txn(config);
        let rule = steps.first().and_then(|(i, _)| self.js.rules.get(*i as usize));
        let (name, path) = rule.map_or(("", ""), |r| (r.name.as_str(), r.file.path.as_str()));
        let stop = Some((0, failure(name, Cause::RuleError, format!("rule error: {why}"), path)));
        to_frame(&Response::Ran { id, state: StateRef::of(&txn, false, false), stop })
    }
}

/// Runs a run's steps on this thread's runtime; the answer, as a frame.
fn run(js: &JsRules, job: Job, start: bool) -> io::Result<Vec<u8>> {
    let Job { id, steps, deadline, config, state, .. } = job;
    let mut txn = state.txn(config);
    let (user, context) = (txn.user.clone(), txn.context.clone());
    let mut stop = None;
    for (position, (index, link)) in steps.iter().enumerate() {
        if let Some(e) = js.run(*index as usize, &mut txn, deadline, *link, start && position == 0) {
            stop = Some((position as u32, e));
            break;
        }
    }
    // Objects the run did not replace are not sent back.
    let state = StateRef::of(&txn, !Arc::ptr_eq(&user, &txn.user), !Arc::ptr_eq(&context, &txn.context));
    to_frame(&Response::Ran { id, state, stop })
}

// ---------------------------------------------------------------------------------------
// The host.

/// A pipeline's workers, shared by the logins that run on them (see the module's doc).
#[derive(Debug)]
pub(crate) struct Pool {
    settings: Workers,
    /// The `Load` frame every new worker gets (with the pipeline's bytecode).
    load: Vec<u8>,
    max_frame: usize,
    rule_names: Vec<(String, String)>,
    shared: Arc<Shared>,
}

/// What the pool's logins share (a worker holds it weakly, to leave it when it ends).
#[derive(Debug, Default)]
struct Shared {
    state: Mutex<PoolState>,
    /// A run ended, or a worker started or went: a login waiting for room looks again.
    room: Condvar,
}

#[derive(Debug, Default)]
struct PoolState {
    /// The live workers, with how many runs each has in flight.
    workers: Vec<(Arc<Worker>, usize)>,
    /// Workers being started (they count against the maximum).
    starting: usize,
}

impl Shared {
    /// A worker ended, or was stopped: no login takes it any more.
    fn remove(&self, worker: &Worker) {
        lock(&self.state).workers.retain(|(w, _)| !std::ptr::eq(Arc::as_ptr(w), worker));
        self.room.notify_all();
    }

    /// A run on `worker` ended.
    fn release(&self, worker: &Arc<Worker>) {
        let mut state = lock(&self.state);
        if let Some((_, runs)) = state.workers.iter_mut().find(|(w, _)| Arc::ptr_eq(w, worker)) {
            *runs = runs.saturating_sub(1);
            drop(state);
            self.room.notify_one();
        }
    }
}

/// The request number of `Load` (runs count from 1).
const LOAD: u64 = 0;

/// One worker process, shared by the logins that run on it.
#[derive(Debug)]
struct Worker {
    pid: u32,
    child: Mutex<Child>,
    /// Frames are written whole under this lock, in the order the worker reads them.
    writer: Mutex<Writer>,
    /// Set by `recycle`: the worker takes no more runs, finishes those it has, and exits.
    retiring: AtomicBool,
    waiting: Mutex<Waiting>,
    /// The worker's answers, read by the login that has the reader's turn (see
    /// [`Worker::wait`]).
    output: Mutex<ChildStdout>,
    max_frame: usize,
    pool: Weak<Shared>,
}

#[derive(Debug)]
struct Writer {
    /// `None` once the worker retired.
    stdin: Option<ChildStdin>,
    /// The configuration the worker saw last (sent again only when a login's differs).
    config: Option<Arc<BTreeMap<String, String>>>,
}

#[derive(Debug, Default)]
struct Waiting {
    /// The logins waiting for a message (their answer, or the reader's turn), by request
    /// number. A login is taken out when its message is sent, under this lock: a login that
    /// finds itself out has a message in its channel.
    answers: HashMap<u64, SyncSender<Message>>,
    /// A login has the reader's turn (or was just handed it).
    reading: bool,
    /// Why the host stopped the worker, when it did: the runs in flight end with this.
    stopped: Option<String>,
    /// Why the worker ended, once a reader saw it end.
    gone: Option<String>,
}

/// What a waiting login is sent.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Message {
    Answer(Answer),
    /// The reader's turn: read the worker's answers, handing out the others', until yours.
    Read,
}

// An answer is moved once, from the login that read it to the login it is for: boxing the
// frame would only add an allocation per run.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Answer {
    Frame(Response<State>),
    /// The worker ended before it answered: why.
    Gone(String),
}

/// Why a frame did not reach a worker.
enum Unsent {
    /// The worker ended or retired meanwhile: another one may take the run.
    Gone,
    Failed(String),
}

/// Why the host stops a worker (the other runs in flight on it end with this).
const OVERRAN: &str = "killed: another run on its worker overran its deadline";

impl Drop for Worker {
    fn drop(&mut self) {
        // No login holds the worker any more (a worker that ended while a login read its
        // answers was reaped then; a retired one that exited after its last answer, here).
        // Its input closes, and it exits once the requests its rules left running are done
        // (at most `SETTLE`); then, or if it does not, it is killed.
        drop(lock(&self.writer).stdin.take());
        let mut child = lock(&self.child);
        let until = Instant::now() + SETTLE + GRACE;
        while Instant::now() < until && matches!(child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(2));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Worker {
    /// Starts a worker and sends it `load`; its answer must come by `deadline` plus the grace.
    fn spawn(
        settings: &Workers,
        load: &[u8],
        deadline: Instant,
        max_frame: usize,
        pool: Weak<Shared>,
    ) -> Result<(Arc<Worker>, Response<State>), String> {
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
        let worker = Arc::new(Worker {
            pid,
            child: Mutex::new(child),
            writer: Mutex::new(Writer { stdin: Some(stdin), config: None }),
            retiring: AtomicBool::new(false),
            waiting: Mutex::new(Waiting::default()),
            output: Mutex::new(stdout),
            max_frame,
            pool,
        });
        let (tx, rx) = mpsc::sync_channel(1);
        let watch = watchdog().watch(deadline + GRACE, worker.clone());
        let answer = match worker.send(LOAD, tx, load, None, || Ok(Vec::new())) {
            Ok(()) => worker.wait(LOAD, &rx, deadline + 4 * GRACE),
            Err(_) => None,
        };
        let late = watchdog().unwatch(watch);
        match answer {
            _ if late => Err("loading the JavaScript rules did not finish within the time budget".into()),
            Some(Answer::Frame(r @ Response::Loaded { .. })) => Ok((worker, r)),
            Some(Answer::Frame(_)) => {
                worker.stop("it answered out of turn");
                Err("a JavaScript worker answered out of turn".into())
            }
            Some(Answer::Gone(why)) => Err(format!("the JavaScript sandbox stopped while loading the rules ({why})")),
            None => {
                worker.stop("it did not answer");
                Err("the JavaScript sandbox stopped while loading the rules (it did not answer)".into())
            }
        }
    }

    /// Registers the login waiting for answer `id`, then writes its frame: `frame`, or
    /// `with_config()` when the worker did not see `config` last. The choice is made under the
    /// writer's lock, since frames reach the worker in the order they are written.
    fn send(
        &self,
        id: u64,
        answer: SyncSender<Message>,
        frame: &[u8],
        config: Option<&Arc<BTreeMap<String, String>>>,
        with_config: impl FnOnce() -> io::Result<Vec<u8>>,
    ) -> Result<(), Unsent> {
        {
            let mut waiting = lock(&self.waiting);
            if waiting.gone.is_some() {
                return Err(Unsent::Gone);
            }
            waiting.answers.insert(id, answer);
        }
        let written = (|| {
            let mut writer = lock(&self.writer);
            if self.retiring.load(Ordering::SeqCst) {
                writer.stdin = None;
            }
            let Writer { stdin: Some(stdin), config: seen } = &mut *writer else { return Err(Unsent::Gone) };
            let fresh;
            let bytes = match config {
                Some(c) if !seen.as_ref().is_some_and(|s| Arc::ptr_eq(s, c) || **s == **c) => {
                    fresh = with_config().map_err(|e| Unsent::Failed(e.to_string()))?;
                    &fresh[..]
                }
                _ => frame,
            };
            if let Err(e) = stdin.write_all(bytes).and_then(|()| stdin.flush()) {
                drop(writer);
                // It died (no one may be reading its output to notice): it ends here.
                self.stop(&format!("it stopped reading: {e}"));
                let _ = self.end();
                return Err(Unsent::Gone);
            }
            if let Some(c) = config {
                *seen = Some(c.clone());
            }
            Ok(())
        })();
        if written.is_err() {
            lock(&self.waiting).answers.remove(&id);
        }
        written
    }

    /// Waits for answer `id` (registered by [`Worker::send`], whose message comes on `rx`)
    /// until `until`; `None` past it. The logins waiting on a worker take turns reading its
    /// answers: the one whose turn it is reads and hands each answer to its login, until its
    /// own comes, then hands the turn to another waiting login. A single login in flight thus
    /// reads its own answer, with no thread in between.
    fn wait(&self, id: u64, rx: &Receiver<Message>, until: Instant) -> Option<Answer> {
        let message = {
            let mut waiting = lock(&self.waiting);
            if !waiting.answers.contains_key(&id) {
                // Sent already (the answer, or the turn).
                None
            } else if !waiting.reading {
                waiting.reading = true;
                waiting.answers.remove(&id);
                Some(Message::Read)
            } else {
                None
            }
        };
        let message = match message {
            Some(m) => m,
            None => match rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
                Ok(m) => m,
                // Still registered: nothing came. Out already: the message is in the channel.
                Err(_) if lock(&self.waiting).answers.remove(&id).is_some() => return None,
                Err(_) => rx.try_recv().ok()?,
            },
        };
        match message {
            Message::Answer(answer) => Some(answer),
            Message::Read => {
                let answer = self.read_until(id);
                self.pass_turn();
                Some(answer)
            }
        }
    }

    /// With the reader's turn: reads answers, handing each to its login, until answer `id`
    /// (or the end of the worker).
    fn read_until(&self, id: u64) -> Answer {
        let mut output = lock(&self.output);
        let broken = loop {
            match read_frame(&mut *output, self.max_frame) {
                Ok(Some(frame)) => match serde_json::from_slice::<Response<State>>(&frame) {
                    Ok(r) => {
                        let of = match &r {
                            Response::Loaded { .. } => LOAD,
                            Response::Ran { id, .. } => *id,
                        };
                        if of == id {
                            return Answer::Frame(r);
                        }
                        // No one waits for an answer that came after its login gave up.
                        let mut waiting = lock(&self.waiting);
                        if let Some(to) = waiting.answers.remove(&of) {
                            let _ = to.try_send(Message::Answer(Answer::Frame(r)));
                        }
                    }
                    Err(e) => break Some(format!("it sent an unreadable answer: {e}")),
                },
                Ok(None) => break None,
                Err(e) => break Some(e.to_string()),
            }
        };
        drop(output);
        if let Some(why) = &broken {
            self.stop(why);
        }
        Answer::Gone(self.end())
    }

    /// Hands the reader's turn to a waiting login, if any.
    fn pass_turn(&self) {
        let mut waiting = lock(&self.waiting);
        let next = waiting.answers.keys().next().copied().filter(|_| waiting.gone.is_none());
        match next.and_then(|id| waiting.answers.remove(&id)) {
            Some(to) => {
                let _ = to.try_send(Message::Read);
            }
            None => waiting.reading = false,
        }
    }

    /// Kills the worker; the runs in flight on it end with `why`.
    fn stop(&self, why: &str) {
        lock(&self.waiting).stopped.get_or_insert_with(|| why.to_string());
        let _ = lock(&self.child).kill();
    }

    /// Takes no more runs: the worker finishes those in flight and exits when its input
    /// closes (now, or after the frame being written).
    fn retire(&self) {
        self.retiring.store(true, Ordering::SeqCst);
        if let Ok(mut writer) = self.writer.try_lock() {
            writer.stdin = None;
        }
    }

    /// The worker ended (its output closed, or it could not be written to): reaps it, ends
    /// the runs in flight on it, and takes it out of the pool. Returns why it ended, as the
    /// runs it held say.
    fn end(&self) -> String {
        let why = self.reap();
        // Gone first, then out of the pool: a login that takes it meanwhile finds it gone.
        let waiting = {
            let mut waiting = lock(&self.waiting);
            let why = waiting.gone.get_or_insert(why).clone();
            (why, std::mem::take(&mut waiting.answers))
        };
        if let Some(pool) = self.pool.upgrade() {
            pool.remove(self);
        }
        let (why, answers) = waiting;
        for (_, to) in answers {
            let _ = to.try_send(Message::Answer(Answer::Gone(why.clone())));
        }
        why
    }

    /// Waits for the process to end (killing it, in case it only closed its output): why it
    /// ended.
    fn reap(&self) -> String {
        let status = {
            let mut child = lock(&self.child);
            let _ = child.kill();
            child.wait()
        };
        if let Some(why) = lock(&self.waiting).stopped.clone() {
            return why;
        }
        match status {
            Ok(status) => {
                #[cfg(unix)]
                if let Some(signal) = std::os::unix::process::ExitStatusExt::signal(&status) {
                    return format!("killed by signal {signal}");
                }
                match status.code() {
                    Some(code) => format!("exited with status {code}"),
                    None => "its output closed".to_string(),
                }
            }
            Err(e) => e.to_string(),
        }
    }
}

/// The one thread that kills workers whose answer is overdue. A login registers its worker
/// and deadline before it writes its run, and takes the registration back when the answer
/// came: a worker still registered at the deadline plus the grace is killed, which ends the
/// login's wait (its run is a timeout) and every other run in flight on it.
#[derive(Debug, Default)]
struct Watchdog {
    patrol: Mutex<Patrol>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct Patrol {
    watched: BTreeMap<(Instant, u64), Watched>,
    /// When the patrol wakes next (`None`: it is awake).
    wakes_at: Option<Instant>,
}

#[derive(Debug)]
struct Watched {
    worker: Arc<Worker>,
    fired: Arc<AtomicBool>,
}

/// A registration with the watchdog.
struct Watch {
    key: (Instant, u64),
    fired: Arc<AtomicBool>,
}

fn watchdog() -> &'static Watchdog {
    static WATCHDOG: OnceLock<&'static Watchdog> = OnceLock::new();
    WATCHDOG.get_or_init(|| {
        let dog: &'static Watchdog = Box::leak(Box::default());
        let spawned = std::thread::Builder::new().name("warden-js-watchdog".into()).spawn(move || dog.patrol());
        if spawned.is_err() {
            // Without the thread nothing would be killed: no worker may run.
            lock(&dog.patrol).watched.clear();
        }
        dog
    })
}

impl Watchdog {
    fn watch(&self, at: Instant, worker: Arc<Worker>) -> Watch {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let key = (at, NEXT.fetch_add(1, Ordering::Relaxed));
        let fired = Arc::new(AtomicBool::new(false));
        let sooner = {
            let mut patrol = lock(&self.patrol);
            patrol.watched.insert(key, Watched { worker, fired: fired.clone() });
            patrol.wakes_at.is_some_and(|t| at < t)
        };
        // Only a registration due before the patrol wakes wakes it (one login after another
        // each registers a later deadline than the one the patrol sleeps until: it then
        // wakes once for nothing, not once per login).
        if sooner {
            self.changed.notify_one();
        }
        Watch { key, fired }
    }

    /// Takes a registration back; true when the worker was killed for being late.
    fn unwatch(&self, watch: Watch) -> bool {
        lock(&self.patrol).watched.remove(&watch.key);
        watch.fired.load(Ordering::SeqCst)
    }

    fn patrol(&self) {
        let mut patrol = lock(&self.patrol);
        loop {
            let now = Instant::now();
            let mut due = Vec::new();
            while let Some(entry) = patrol.watched.first_entry().filter(|e| e.key().0 <= now) {
                due.push(entry.remove());
            }
            if !due.is_empty() {
                drop(patrol);
                for w in due {
                    w.fired.store(true, Ordering::SeqCst);
                    w.worker.stop(OVERRAN);
                }
                patrol = lock(&self.patrol);
                continue;
            }
            let at = patrol.watched.first_key_value().map_or(now + Duration::from_secs(3600), |(k, _)| k.0);
            patrol.wakes_at = Some(at);
            patrol = self
                .changed
                .wait_timeout(patrol, at.saturating_duration_since(now))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            patrol.wakes_at = None;
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
                runs: settings.runs_per_worker.max(1),
            };
            to_frame(&request).map_err(|e| fail(e.to_string()))
        };
        let max_frame = limits.memory_bytes.saturating_add(FRAME_SLACK);
        let deadline = Instant::now() + limits.timeout;
        let given = bytecode.is_some();
        let shared = Arc::new(Shared::default());
        let (worker, loaded) =
            Worker::spawn(&settings, &load(bytecode.clone())?, deadline, max_frame, Arc::downgrade(&shared))
                .map_err(fail)?;
        let checked = match loaded {
            Response::Loaded { errors, .. } if !errors.is_empty() => Err(errors),
            Response::Loaded { bytecode: compiled, .. } => {
                let bytecode = if given { bytecode.unwrap_or_default() } else { compiled };
                if bytecode.rules.len() != rules.len() || bytecode.modules.len() != modules.len() {
                    Err(fail("a JavaScript worker compiled something else than the rules".into()))
                } else {
                    load(Some(bytecode.clone())).map(|frame| (frame, bytecode))
                }
            }
            Response::Ran { .. } => Err(fail("a JavaScript worker answered out of turn".into())),
        };
        let (load, bytecode) = match checked {
            Ok(c) => c,
            Err(errors) => {
                worker.stop("its rules did not load");
                return Err(errors);
            }
        };
        lock(&shared.state).workers.push((worker, 0));
        let pool = Pool {
            settings,
            load,
            max_frame,
            rule_names: rules.iter().map(|r| (r.name.clone(), r.file.path.clone())).collect(),
            shared,
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
        static NEXT_ID: AtomicU64 = AtomicU64::new(LOAD + 1);
        let first = steps.first().map_or(0, |s| s.0);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let strings = txn.config.strings().clone();
        let request = |config| Request::Run {
            id,
            steps: steps.iter().map(|(i, l)| (*i as u32, *l)).collect(),
            login,
            budget_ms: deadline.saturating_duration_since(Instant::now()).as_millis() as u64,
            config,
            state: StateRef::of(txn, true, true),
        };
        // Serialized before a worker is chosen; again, with the configuration, only for a
        // worker that saw another one last.
        let frame = match to_frame(&request(None)) {
            Ok(f) => f,
            Err(e) => {
                return Some((0, self.failure(first, format!("cannot send the login to a JavaScript worker: {e}"))));
            }
        };
        // A worker that ended or retired between being chosen and being written to: another
        // one takes the run.
        let mut tries = 0;
        let (worker, answer, late) = loop {
            tries += 1;
            let worker = match self.take(deadline) {
                Ok(w) => w,
                Err(Checkout::Late) => return Some((0, timeout(&self.source(first)))),
                Err(Checkout::Failed(m)) => return Some((0, self.failure(first, m))),
            };
            let (tx, rx) = mpsc::sync_channel(1);
            let watch = watchdog().watch(deadline + GRACE, worker.clone());
            let sent = worker.send(id, tx, &frame, Some(&strings), || to_frame(&request(Some((*strings).clone()))));
            match sent {
                Ok(()) => {}
                Err(unsent) => {
                    let late = watchdog().unwatch(watch);
                    self.shared.release(&worker);
                    match unsent {
                        _ if late => return Some((0, timeout(&self.source(first)))),
                        Unsent::Gone if tries < 3 => continue,
                        Unsent::Gone => {
                            return Some((0, self.failure(first, "no JavaScript worker took the login".into())));
                        }
                        Unsent::Failed(m) => {
                            let m = format!("cannot send the login to a JavaScript worker: {m}");
                            return Some((0, self.failure(first, m)));
                        }
                    }
                }
            }
            // The watchdog ends the wait (it kills the worker; the login reading its answers
            // then sees it end and says so to all); the bound here is only a safety net.
            let answer = worker.wait(id, &rx, deadline + 4 * GRACE);
            if answer.is_none() {
                worker.stop(OVERRAN);
            }
            let late = watchdog().unwatch(watch);
            break (worker, answer, late);
        };
        self.shared.release(&worker);
        // A worker killed at the deadline cannot say which rule of a run was running: the
        // timeout names the run's first rule (a rule that overruns inside QuickJS's reach is
        // stopped by the worker itself, which names it).
        match answer {
            // Past the deadline and the grace: whatever the rule was doing, it stopped there.
            _ if late => Some((0, timeout(&self.source(first)))),
            None => Some((0, timeout(&self.source(first)))),
            Some(Answer::Frame(Response::Ran { state, stop, .. })) => {
                state.into(txn);
                stop.map(|(p, e)| ((p as usize).min(steps.len().saturating_sub(1)), e))
            }
            Some(Answer::Frame(Response::Loaded { .. })) => {
                worker.stop("it answered out of turn");
                Some((0, self.failure(first, "the JavaScript sandbox answered out of turn".into())))
            }
            Some(Answer::Gone(why)) => {
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
        failure(&rule.name, Cause::RuleError, format!("rule error: {message}"), &rule.file.path)
    }

    /// A worker for one run: the live one with the fewest runs in flight when it has none;
    /// else a new one under the maximum; else the one with the fewest when it has room; else
    /// the first to have room before `deadline`.
    fn take(&self, deadline: Instant) -> Result<Arc<Worker>, Checkout> {
        let max = self.settings.max.max(1);
        let per = self.settings.runs_per_worker.max(1);
        let mut state = lock(&self.shared.state);
        loop {
            let fewest = state.workers.iter().enumerate().min_by_key(|(_, (_, runs))| *runs).map(|(i, (_, r))| (i, *r));
            match fewest {
                Some((i, 0)) => return Ok(self.claim(&mut state, i)),
                _ if state.workers.len() + state.starting < max => {
                    state.starting += 1;
                    drop(state);
                    return self.start_one(deadline);
                }
                Some((i, runs)) if runs < per => return Ok(self.claim(&mut state, i)),
                _ => {}
            }
            let wait = deadline.saturating_duration_since(Instant::now());
            if wait.is_zero() {
                // A wake-up meant for a login that gives up goes to the next one.
                drop(state);
                self.shared.room.notify_one();
                return Err(Checkout::Late);
            }
            state = self.shared.room.wait_timeout(state, wait).unwrap_or_else(PoisonError::into_inner).0;
        }
    }

    fn claim(&self, state: &mut PoolState, i: usize) -> Arc<Worker> {
        let (worker, runs) = &mut state.workers[i];
        *runs += 1;
        worker.clone()
    }

    /// Starts a worker (counted in `starting`) for a run of its own.
    fn start_one(&self, deadline: Instant) -> Result<Arc<Worker>, Checkout> {
        let started = Worker::spawn(&self.settings, &self.load, deadline, self.max_frame, Arc::downgrade(&self.shared));
        let mut state = lock(&self.shared.state);
        state.starting -= 1;
        let taken = match started {
            Ok((worker, Response::Loaded { errors, .. })) if errors.is_empty() => {
                state.workers.push((worker.clone(), 1));
                // A worker takes itself out when it is seen to end: if that came first, out
                // it goes now.
                if lock(&worker.waiting).gone.is_some() {
                    state.workers.retain(|(w, _)| !Arc::ptr_eq(w, &worker));
                }
                Ok(worker)
            }
            Ok((worker, _)) => {
                worker.stop("its rules did not load");
                Err(Checkout::Failed("a JavaScript worker could not load the rules".into()))
            }
            Err(m) => Err(Checkout::Failed(m)),
        };
        drop(state);
        self.shared.room.notify_all();
        taken
    }

    /// Stops the workers: the next login starts a fresh one. Runs in flight finish on their
    /// worker (which then exits); an idle worker is killed.
    pub(crate) fn recycle(&self) {
        let workers = std::mem::take(&mut lock(&self.shared.state).workers);
        for (worker, runs) in workers {
            if runs == 0 {
                worker.stop("it was recycled");
            } else {
                worker.retire();
            }
        }
        self.shared.room.notify_all();
    }

    /// The process ids of the live workers (for operations and tests).
    pub(crate) fn pids(&self) -> Vec<u32> {
        lock(&self.shared.state).workers.iter().map(|(w, _)| w.pid).collect()
    }
}

impl Drop for Pool {
    /// The pipeline is gone (no login runs on it any more): so are its workers, once the
    /// requests their rules left running are done (see `Worker`'s `Drop`).
    fn drop(&mut self) {
        let workers = std::mem::take(&mut lock(&self.shared.state).workers);
        drop(workers);
    }
}

enum Checkout {
    Late,
    Failed(String),
}

#[cfg(test)]
mod tests {
    use std::io::{PipeReader, PipeWriter};

    use serde_json::json;

    use super::*;

    /// A rule that records what an earlier login left (`seen`), plants a global getter when
    /// the user says `plant`, and loops when the user says `spin`.
    const RULE: &str = "function (user, context, callback) { \
         context.idToken.seen = typeof verified === 'undefined' ? 'nothing' : String(verified); \
         if (user.plant) Object.defineProperty(globalThis, 'verified', { get() { return true; } }); \
         if (user.spin) { while (true) {} } \
         callback(null, user, context); }";

    fn load_frame(runs: usize) -> Vec<u8> {
        let rule = JsSource { name: "r".into(), file: warden_syntax::SourceFile::new("r.js", RULE) };
        let load = Request::<StateRef>::Load {
            rules: vec![rule],
            modules: Vec::new(),
            bytecode: None,
            config: BTreeMap::new(),
            limits: WireLimits::from(&Limits::default()),
            runs,
        };
        to_frame(&load).expect("frame")
    }

    fn run_frame(id: u64, login: u64, user: Json, budget_ms: u64) -> Vec<u8> {
        let txn = State {
            user: Some(user),
            context: Some(json!({})),
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
            budget_ms,
            config: None,
            state: StateRef::of(&txn, true, true),
        };
        to_frame(&request).expect("frame")
    }

    fn user(plant: bool, spin: bool) -> Json {
        json!({ "user_id": "auth0|1", "plant": plant, "spin": spin })
    }

    /// A worker served on a thread, over OS pipes, as a worker process is.
    struct Served {
        to: Option<PipeWriter>,
        from: PipeReader,
        worker: std::thread::JoinHandle<i32>,
    }

    impl Served {
        fn start(runs: usize) -> Served {
            let (mut input, to) = std::io::pipe().expect("pipe");
            let (from, output) = std::io::pipe().expect("pipe");
            let worker = std::thread::spawn(move || serve_on(&mut input, output));
            let mut served = Served { to: Some(to), from, worker };
            served.send(&load_frame(runs));
            let loaded = served.answer();
            assert!(matches!(&loaded, Response::Loaded { errors, .. } if errors.is_empty()), "{loaded:?}");
            served
        }

        fn send(&mut self, frame: &[u8]) {
            self.to.as_mut().expect("open").write_all(frame).expect("written");
        }

        fn answer(&mut self) -> Response<State> {
            let frame = read_frame(&mut self.from, usize::MAX).expect("readable").expect("an answer");
            serde_json::from_slice(&frame).expect("an answer")
        }

        /// The next answer: its number and what stopped its run.
        fn ran(&mut self) -> (u64, Option<(u32, ErrorInfo)>, State) {
            let answer = self.answer();
            let Response::Ran { id, stop, state } = answer else { unreachable!("loaded twice: {answer:?}") };
            (id, stop, state)
        }

        /// Closes the input; the worker's exit status.
        fn close(mut self) -> (i32, PipeReader) {
            self.to = None;
            (self.worker.join().expect("the worker returns"), self.from)
        }
    }

    fn seen(state: &State) -> Vec<Json> {
        state.id_token.iter().filter(|c| c.0 == "seen").map(|c| c.1.clone()).collect()
    }

    /// A login's runs may land on different workers and threads: a run thread removes what
    /// earlier logins left on its runtime's global object at the first run of any login it
    /// has not seen, whether or not that run is the login's first.
    #[test]
    fn a_run_thread_starts_each_login_it_has_not_seen() {
        let mut served = Served::start(4);
        // One at a time, so that one thread (the most recently used) takes them all. Login 7
        // plants; a later run of login 7 sees it; a run of login 8 (its first here, though
        // maybe not its first anywhere) does not.
        let mut all = Vec::new();
        for (id, login, plant) in [(1, 7, true), (2, 7, false), (3, 8, false)] {
            served.send(&run_frame(id, login, user(plant, false), 5000));
            let (i, stop, state) = served.ran();
            assert_eq!((i, stop.map(|s| s.1.description)), (id, None));
            all.extend(seen(&state));
        }
        assert_eq!(all, [json!("nothing"), json!("true"), json!("nothing")]);
        assert_eq!(served.close().0, 0);
    }

    /// Runs answer as they end: a run sent after one that loops answers first.
    #[test]
    fn runs_answer_out_of_order() {
        let mut served = Served::start(4);
        served.send(&run_frame(1, 1, user(false, true), 1500));
        served.send(&run_frame(2, 2, user(false, false), 5000));
        let (id, stop, _) = served.ran();
        assert_eq!((id, stop.map(|s| s.1.description)), (2, None));
        let (id, stop, _) = served.ran();
        assert_eq!(id, 1);
        assert_eq!(stop.map(|s| s.1.cause), Some(Cause::Timeout));
        assert_eq!(served.close().0, 0);
    }

    /// A worker takes no more runs at once than the host said it would send: the one past
    /// the bound ends at once with a rule error, the others run.
    #[test]
    fn a_worker_refuses_runs_past_its_bound() {
        let mut served = Served::start(1);
        served.send(&run_frame(1, 1, user(false, true), 1500));
        served.send(&run_frame(2, 2, user(false, false), 5000));
        let (id, stop, state) = served.ran();
        assert_eq!(id, 2);
        let (_, e) = stop.expect("refused");
        assert_eq!(e.cause, Cause::RuleError);
        assert_eq!(e.description, "rule error: the JavaScript worker is already running 1 run, its most");
        assert!(state.user.is_none() && state.context.is_none(), "the state comes back as it was");
        let (id, stop, _) = served.ran();
        assert_eq!((id, stop.map(|s| s.1.cause)), (1, Some(Cause::Timeout)));
        // Once the first run ended, its thread takes the next one.
        served.send(&run_frame(3, 3, user(false, false), 5000));
        let (id, stop, _) = served.ran();
        assert_eq!((id, stop.map(|s| s.1.description)), (3, None));
        assert_eq!(served.close().0, 0);
    }

    /// Many runs at once on one worker, each on a thread of its own: all answered.
    #[test]
    fn a_worker_runs_many_at_once() {
        let mut served = Served::start(16);
        for id in 1..=16 {
            served.send(&run_frame(id, id, user(false, false), 5000));
        }
        let mut ids: Vec<u64> = (1..=16)
            .map(|_| {
                let (id, stop, _) = served.ran();
                assert!(stop.is_none(), "{stop:?}");
                id
            })
            .collect();
        ids.sort_unstable();
        assert_eq!(ids, (1..=16).collect::<Vec<_>>());
        assert_eq!(served.close().0, 0);
    }

    /// When the input ends, the runs in flight are answered before the worker exits.
    #[test]
    fn runs_in_flight_are_answered_when_the_input_ends() {
        let mut served = Served::start(4);
        served.send(&run_frame(1, 1, user(false, true), 300));
        served.send(&run_frame(2, 2, user(false, false), 5000));
        let (status, mut from) = served.close();
        assert_eq!(status, 0);
        let mut answered = Vec::new();
        while let Some(frame) = read_frame(&mut from, usize::MAX).expect("readable") {
            if let Response::Ran { id, stop, .. } = serde_json::from_slice::<Response<State>>(&frame).expect("answer") {
                answered.push((id, stop.map(|s| s.1.cause)));
            }
        }
        answered.sort_by_key(|a| a.0);
        assert_eq!(answered, [(1, Some(Cause::Timeout)), (2, None)]);
    }

    /// Whatever breaks the protocol ends the worker with status 2, without a panic.
    #[test]
    fn malformed_input_ends_the_worker() {
        let framed = |body: &[u8]| {
            let mut f = (body.len() as u32).to_le_bytes().to_vec();
            f.extend_from_slice(body);
            f
        };
        let loaded = load_frame(4);
        let run = run_frame(1, 1, user(false, false), 5000);
        let bad_step = {
            let text = String::from_utf8_lossy(&run[4..]).replacen("[[0,", "[[9,", 1);
            framed(text.as_bytes())
        };
        let no_user = {
            let text = String::from_utf8_lossy(&run[4..]).replacen("\"user\":{", "\"user\":null,\"x\":{", 1);
            framed(text.as_bytes())
        };
        let cases: [(&str, Vec<u8>); 8] = [
            ("not JSON", framed(b"{{{")),
            ("a run before the load", run.clone()),
            ("a frame cut short", [&loaded[..], &run[..run.len() - 3]].concat()),
            ("a length past the bound", [&loaded[..], &u32::MAX.to_le_bytes()[..]].concat()),
            ("a second load", [&loaded[..], &loaded[..]].concat()),
            ("a step that is not a rule", [&loaded[..], &bad_step[..]].concat()),
            ("a run without a user", [&loaded[..], &no_user[..]].concat()),
            (
                "an answer for a request",
                [&loaded[..], &framed(br#"{"Ran":{"id":1,"state":{},"stop":null}}"#)[..]].concat(),
            ),
        ];
        for (what, input) in cases {
            let mut output = Vec::new();
            assert_eq!(serve_on(&mut input.as_slice(), &mut output), 2, "{what}");
        }
        let mut output = Vec::new();
        assert_eq!(serve_on(&mut loaded.as_slice(), &mut output), 0, "a load alone");
    }
}
