//! JavaScript in worker processes (ARCHITECTURE.md, "JavaScript execution model"): the
//! deadline holds whatever a rule does in native code, a crashed or frozen sandbox ends one
//! login and not the process, loading is bounded too, and workers decide like the calling
//! process. Workers are this package's `warden` binary (`warden __js-worker`).
//!
//! The bounds asserted here are generous (the deadline plus the grace plus 1.5 s): each
//! attack runs for many seconds, or forever, without the mechanism under test. Where the
//! deadline is not what is tested (the native paths closed in the sandbox), the bound is on the
//! CPU time the command used, which a loaded machine does not stretch.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};
use warden::{Backend, Exec, JsWorkers, Pipeline};

const WARDEN: &str = env!("CARGO_BIN_EXE_warden");
const SLACK: Duration = Duration::from_millis(1500);

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("warden-isolation-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A project with one JavaScript rule and a manifest.
fn project(name: &str, manifest_extra: &str, rule: &str) -> PathBuf {
    let dir = scratch(name);
    std::fs::write(dir.join("rule.js"), rule).expect("write rule");
    std::fs::write(dir.join("warden.toml"), format!("[pipeline]\nrules = [\"rule.js\"]\n{manifest_extra}\n"))
        .expect("write manifest");
    std::fs::write(
        dir.join("user.json"),
        r#"{"user_id": "auth0|1", "email": "a@example.com", "email_verified": true}"#,
    )
    .expect("write user");
    std::fs::write(dir.join("context.json"), r#"{"clientName": "App", "protocol": "oidc-basic-profile"}"#)
        .expect("write context");
    dir
}

/// `warden run` on a project: exit code, outcome (if any), stderr, wall time.
fn run(dir: &Path, in_process: bool) -> (Option<i32>, Json, String, Duration) {
    let start = Instant::now();
    let mut cmd = Command::new(WARDEN);
    cmd.args(["run", "--manifest"]).arg(dir.join("warden.toml"));
    cmd.arg("--user").arg(dir.join("user.json")).arg("--context").arg(dir.join("context.json"));
    if in_process {
        cmd.env("WARDEN_JS_IN_PROCESS", "1");
    }
    let out = cmd.output().expect("warden runs");
    let elapsed = start.elapsed();
    let outcome = serde_json::from_slice(&out.stdout).unwrap_or(Json::Null);
    (out.status.code(), outcome, String::from_utf8_lossy(&out.stderr).into_owned(), elapsed)
}

/// `warden run` on a project, as [`run`], with the CPU time (user and system) the command and
/// the workers it waited for used, in place of the wall time. Read from `/proc/PID/stat` of the
/// exited command before it is reaped (a zombie keeps its counters), in the kernel's fixed
/// 100 ticks a second.
fn run_cpu(dir: &Path, in_process: bool) -> (Option<i32>, Json, String, Duration) {
    use std::io::Read;
    use std::process::Stdio;
    let mut cmd = Command::new(WARDEN);
    cmd.args(["run", "--manifest"]).arg(dir.join("warden.toml"));
    cmd.arg("--user").arg(dir.join("user.json")).arg("--context").arg(dir.join("context.json"));
    if in_process {
        cmd.env("WARDEN_JS_IN_PROCESS", "1");
    }
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("warden runs");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let errors = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut out = Vec::new();
    let _ = stdout.read_to_end(&mut out);
    let stat_path = format!("/proc/{}/stat", child.id());
    let start = Instant::now();
    let ticks = loop {
        let stat = std::fs::read_to_string(&stat_path).unwrap_or_default();
        // After the command name (in parentheses): state, then fields 4.. of proc(5).
        let fields: Vec<&str> = stat.rsplit_once(") ").map(|(_, r)| r.split(' ').collect()).unwrap_or_default();
        if fields.first() == Some(&"Z") {
            // utime, stime, cutime, cstime: fields 14 to 17, here 11 to 14.
            break fields[11..15].iter().map(|f| f.parse::<u64>().unwrap_or(0)).sum::<u64>();
        }
        assert!(start.elapsed() < Duration::from_secs(120), "warden run did not exit: {stat}");
        std::thread::sleep(Duration::from_millis(2));
    };
    let status = child.wait().expect("wait");
    let outcome = serde_json::from_slice(&out).unwrap_or(Json::Null);
    (status.code(), outcome, errors.join().unwrap_or_default(), Duration::from_millis(ticks * 10))
}

/// A rule that keeps QuickJS busy in native code, where its interrupt handler is not polled:
/// ten sorts of six million numbers in a loop too short for QuickJS to check the deadline
/// (seconds of CPU in process, whatever the budget).
const NATIVE_SORTS: &str = "function (user, context, callback) { const a = Float64Array.from(Array(6e6).keys()); \
                            for (let i = 0; i < 10; i++) { a.reverse(); a.sort(); } callback(null, user, context); }";

/// In workers, native work ends by the deadline plus the grace, as a timeout.
#[test]
fn native_work_ends_at_the_deadline_in_workers() {
    let dir = project("native", "timeout_ms = 500\njs_memory_mib = 1024", NATIVE_SORTS);
    let (code, outcome, stderr, elapsed) = run(&dir, false);
    assert_eq!(code, Some(3), "{outcome} {stderr}");
    assert_eq!(outcome["error"]["cause"], "timeout", "{outcome}");
    assert!(
        elapsed < Duration::from_millis(500) + warden::JS_GRACE + SLACK,
        "the login took {elapsed:?} under a 500 ms budget"
    );
}

/// Native paths closed in the sandbox itself, in both modes: an array-like whose `length`
/// grows after the size check (the C code read it again: hours of work), and quadratic string
/// searches (seconds each). Both now finish at once and decide.
#[test]
fn known_native_paths_are_closed_in_both_modes() {
    let attacks = [
        (
            "an array-like whose length grows after the check",
            "function (user, context, callback) { let c = 0; \
             const s = Array.prototype.join.call({ get length() { return c++ ? 2 ** 53 - 1 : 1; } }, '-'); \
             context.idToken['https://x/r'] = [s, c]; callback(null, user, context); }",
            json!(["", 1]),
        ),
        (
            "quadratic string searches",
            "function (user, context, callback) { const h = 'a'.repeat(200000), n = 'a'.repeat(100000) + 'b'; \
             context.idToken['https://x/r'] = [h.indexOf(n), h.includes(n), h.lastIndexOf(n), h.split(n).length, \
               h.replaceAll(n, 'x').length, h.replace(n, 'x').length, (h + 'b').indexOf(n.slice(1))]; \
             callback(null, user, context); }",
            json!([-1, false, -1, 1, 200000, 200000, 100001]),
        ),
    ];
    // The bound is on CPU time, which a loaded machine does not stretch; the budget is wide so
    // that the wall clock of a loaded machine cannot time the login out either.
    for (what, rule, expected) in attacks {
        let dir = project("closed", "timeout_ms = 30000", rule);
        for in_process in [true, false] {
            let (code, outcome, stderr, cpu) = run_cpu(&dir, in_process);
            assert_eq!(code, Some(0), "{what} (in process: {in_process}): {outcome} {stderr}");
            assert_eq!(outcome["id_token"]["https://x/r"], expected, "{what}");
            assert!(cpu < Duration::from_millis(3000), "{what} (in process: {in_process}) used {cpu:?} of CPU");
        }
    }
}

/// In process, a rule that finishes after the deadline is a timeout too: a login that
/// overran is never allowed (it was, when native work outlived the deadline).
#[test]
fn a_late_result_is_a_timeout_in_process() {
    let dir = project("late", "timeout_ms = 100\njs_memory_mib = 1024", NATIVE_SORTS);
    let (code, outcome, stderr, _) = run(&dir, true);
    assert_eq!(code, Some(3), "{outcome} {stderr}");
    assert_eq!(outcome["error"]["cause"], "timeout", "{outcome}");
}

/// `warden check` loads the rules (a rule file's top-level code runs then): in workers,
/// loading is bounded by the time budget plus the grace.
#[test]
fn loading_is_bounded_in_workers() {
    let rule = "(() => { const a = Float64Array.from(Array(6e6).keys()); for (let i = 0; i < 10; i++) { a.reverse(); a.sort(); } \
                return function (user, context, callback) { callback(null, user, context); }; })()";
    let dir = project("load", "timeout_ms = 500\njs_memory_mib = 1024", rule);
    let start = Instant::now();
    let out = Command::new(WARDEN).arg("check").arg(&dir).args(["--format", "json"]).output().expect("warden runs");
    let elapsed = start.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("did not finish within the time budget"), "{stdout}");
    assert!(elapsed < Duration::from_millis(500) + warden::JS_GRACE + SLACK, "check took {elapsed:?}");
}

/// Loads serialize on this lock: where JavaScript runs is chosen when a pipeline loads, and
/// that choice is process-wide.
static LOADING: Mutex<()> = Mutex::new(());

fn load(manifest: &Path, workers: Option<usize>) -> Pipeline {
    let _guard = LOADING.lock().unwrap_or_else(|e| e.into_inner());
    warden::set_js_isolation(
        workers.map(|max| JsWorkers { max, ..JsWorkers::new(vec![WARDEN.into(), "__js-worker".into()]) }),
    );
    let p = Pipeline::from_manifest(manifest);
    warden::set_js_isolation(None);
    assert!(
        p.is_ok(),
        "{} does not load: {}",
        manifest.display(),
        p.as_ref().err().map(|e| e.to_string()).unwrap_or_default()
    );
    p.expect("checked")
}

fn user() -> Json {
    json!({"user_id": "auth0|1", "email": "a@example.com", "email_verified": true})
}

fn context() -> Json {
    json!({"clientName": "App", "protocol": "oidc-basic-profile"})
}

fn exec(timeout: Duration) -> Exec {
    let mut e = Exec::at(1_795_694_400_000);
    e.timeout = Some(timeout);
    e
}

fn signal(pid: u32, sig: &str) {
    let status = Command::new("kill").arg(format!("-{sig}")).arg(pid.to_string()).status().expect("kill runs");
    assert!(status.success(), "kill -{sig} {pid}");
}

/// Stops `pid` with SIGSTOP and waits until every thread of it is stopped: the kernel stops a
/// process only once the thread it chose to take the signal runs, so on a busy machine
/// another thread of the worker could still read a login and answer it in between.
fn freeze(pid: u32) {
    signal(pid, "STOP");
    let stopped = || -> bool {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return false };
        tasks.filter_map(Result::ok).all(|t| {
            let stat = std::fs::read_to_string(t.path().join("stat")).unwrap_or_default();
            // The state follows the command name, which is in parentheses.
            stat.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('T'))
        })
    };
    let start = Instant::now();
    while !stopped() {
        assert!(start.elapsed() < Duration::from_secs(30), "worker {pid} did not stop");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A rule that spins in JavaScript until the deadline (a worker to freeze or crash meanwhile).
const SPIN: &str = "function (user, context, callback) { if (user.app_metadata && user.app_metadata.spin) { while (true) {} } \
                    context.idToken['https://x/ok'] = true; callback(null, user, context); }";

/// A worker that crashes (SIGABRT, as a failed assertion inside QuickJS would; a signal sent
/// as SIGSEGV is caught by Rust's stack-overflow handler, which only a real fault kills)
/// ends the login it was running with a rule error, quickly; the next login runs on a fresh
/// worker.
#[test]
fn a_crashed_worker_ends_one_login_not_the_process() {
    let dir = project("crash", "", SPIN);
    let p = load(&dir.join("warden.toml"), Some(1));
    assert!(p.js_in_workers());
    let warm = p.execute(&user(), &context(), &exec(Duration::from_secs(5))).expect("valid input");
    assert!(warm.is_allow(), "{}", warm.to_json());
    let pids = p.js_worker_pids();
    assert_eq!(pids.len(), 1, "one idle worker");
    let mut spinning = user();
    spinning["app_metadata"] = json!({"spin": true});
    let start = Instant::now();
    let outcome = std::thread::scope(|s| {
        let login = s.spawn(|| p.execute(&spinning, &context(), &exec(Duration::from_secs(30))));
        std::thread::sleep(Duration::from_millis(300));
        signal(pids[0], "ABRT");
        login.join().expect("the login thread returns")
    })
    .expect("valid input")
    .to_json();
    assert!(start.elapsed() < Duration::from_secs(5), "the crash was noticed after {:?}", start.elapsed());
    assert_eq!(outcome["decision"], "deny", "{outcome}");
    assert_eq!(outcome["error"]["cause"], "rule_error", "{outcome}");
    let description = outcome["error"]["description"].as_str().unwrap_or_default();
    assert!(description.contains("the JavaScript sandbox stopped (killed by signal 6)"), "{outcome}");
    // The next login gets a fresh worker.
    let next = p.execute(&user(), &context(), &exec(Duration::from_secs(5))).expect("valid input");
    assert!(next.is_allow(), "{}", next.to_json());
    assert_ne!(p.js_worker_pids(), pids, "a new worker");
}

/// A worker that stops answering (here frozen with SIGSTOP) is killed at the deadline plus
/// the grace: the login is a timeout, and the next one runs.
#[test]
fn a_frozen_worker_is_killed_at_the_deadline() {
    let dir = project("frozen", "", SPIN);
    let p = load(&dir.join("warden.toml"), Some(1));
    let warm = p.execute(&user(), &context(), &exec(Duration::from_secs(5))).expect("valid input");
    assert!(warm.is_allow());
    let pids = p.js_worker_pids();
    freeze(pids[0]);
    let start = Instant::now();
    let outcome = p.execute(&user(), &context(), &exec(Duration::from_millis(400))).expect("valid input").to_json();
    let elapsed = start.elapsed();
    assert_eq!(outcome["error"]["cause"], "timeout", "{outcome}");
    assert!(elapsed >= Duration::from_millis(400), "waited for the deadline: {elapsed:?}");
    assert!(elapsed < Duration::from_millis(400) + warden::JS_GRACE + SLACK, "took {elapsed:?}");
    let next = p.execute(&user(), &context(), &exec(Duration::from_secs(5))).expect("valid input");
    assert!(next.is_allow(), "{}", next.to_json());
}

/// Workers decide like the calling process: every sample of the mixed legacy example, on
/// both backends, gives the same outcome either way.
#[test]
fn workers_decide_like_the_calling_process() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/mixed-legacy");
    let manifest = example.join("warden.toml");
    let local = load(&manifest, None);
    let remote = load(&manifest, Some(2));
    assert!(!local.js_in_workers() && remote.js_in_workers());
    let mut samples: Vec<PathBuf> =
        std::fs::read_dir(example.join("samples")).expect("samples").map(|e| e.expect("entry").path()).collect();
    samples.sort();
    assert!(samples.len() >= 4);
    let read = |p: PathBuf| -> Json { serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json") };
    for sample in samples {
        let (u, c) = (read(sample.join("user.json")), read(sample.join("context.json")));
        for backend in [Backend::Interp, Backend::Jit] {
            let e = exec(Duration::from_secs(5)).on(backend);
            let a = local.execute(&u, &c, &e).expect("valid input").to_json();
            let b = remote.execute(&u, &c, &e).expect("valid input").to_json();
            assert_eq!(a, b, "{}", sample.display());
        }
    }
}

/// Out of memory and a rule that never calls back behave in workers as in process, and a
/// worker keeps `global` between logins (as Auth0's containers did).
#[test]
fn sandbox_limits_and_global_in_workers() {
    let dir = project(
        "limits",
        "js_memory_mib = 16",
        "function (user, context, callback) { \
           global.n = (global.n || 0) + 1; context.idToken['https://x/n'] = global.n; \
           const m = user.app_metadata || {}; \
           if (m.bomb) { const a = []; while (true) a.push('x'.repeat(1024)); } \
           if (m.silent) return; \
           callback(null, user, context); }",
    );
    let p = load(&dir.join("warden.toml"), Some(1));
    let first = p.execute(&user(), &context(), &exec(Duration::from_secs(5))).expect("valid input").to_json();
    let second = p.execute(&user(), &context(), &exec(Duration::from_secs(5))).expect("valid input").to_json();
    assert_eq!(first["id_token"]["https://x/n"], 1, "{first}");
    assert_eq!(second["id_token"]["https://x/n"], 2, "{second}");
    let mut u = user();
    u["app_metadata"] = json!({"bomb": true});
    let o = p.execute(&u, &context(), &exec(Duration::from_secs(5))).expect("valid input").to_json();
    assert_eq!(o["error"]["cause"], "resource_limit", "{o}");
    u["app_metadata"] = json!({"silent": true});
    let o = p.execute(&u, &context(), &exec(Duration::from_millis(300))).expect("valid input").to_json();
    assert_eq!(o["error"]["cause"], "timeout", "{o}");
}
