//! A JavaScript worker process takes many runs at once (ARCHITECTURE.md, "JavaScript execution
//! model"): runs answer out of order, a worker holds several logins at once, the kill at one
//! run's deadline ends the others on its worker, a worker that dies ends all it held,
//! `recycle` lets runs in flight finish, a full worker makes a login wait for room, and busy
//! workers spread runs over processes. Workers are this package's `warden` binary.
//!
//! Nothing here asserts how long anything took: a run is known to be in flight when its
//! worker has started a thread for it (Linux's `/proc`), and the assertions are on outcomes
//! and their order.

#![cfg(target_os = "linux")]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};
use warden::{Exec, JsWorkers, Pipeline};

const WARDEN: &str = env!("CARGO_BIN_EXE_warden");

/// A rule that loops forever (`spin`), computes for a while and allows (`busy`), sorts in
/// native code where QuickJS does not check the deadline (`native`), or allows at once.
const RULE: &str = "function (user, context, callback) { const m = user.app_metadata || {}; \
    if (m.spin) { while (true) {} } \
    if (m.busy) { let x = 0; for (let i = 0; i < 5e7; i++) x += i; } \
    if (m.native) { const a = Float64Array.from(Array(6e6).keys()); for (let i = 0; i < 10; i++) { a.reverse(); a.sort(); } } \
    context.idToken['https://x/ok'] = true; context.idToken['https://x/tier'] = configuration.TIER; \
    callback(null, user, context); }";

/// Loads serialize on this lock: where JavaScript runs is chosen when a pipeline loads, and
/// that choice is process-wide.
static LOADING: Mutex<()> = Mutex::new(());

/// The pipeline of [`RULE`], in workers: at most `max` of them, `runs` runs each.
fn pipeline(name: &str, max: usize, runs: usize) -> Pipeline {
    let dir = std::env::temp_dir().join(format!("warden-js-workers-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("rule.js"), RULE).expect("write rule");
    std::fs::write(
        dir.join("warden.toml"),
        "[pipeline]\nrules = [\"rule.js\"]\njs_memory_mib = 1024\n\n[configuration]\nTIER = \"base\"\n",
    )
    .expect("write manifest");
    let _guard = LOADING.lock().unwrap_or_else(|e| e.into_inner());
    let command = vec![PathBuf::from(WARDEN).into_os_string(), "__js-worker".into()];
    warden::set_js_isolation(Some(JsWorkers { max, runs_per_worker: runs, ..JsWorkers::new(command) }));
    let p = Pipeline::from_manifest(dir.join("warden.toml"));
    warden::set_js_isolation(None);
    assert!(p.is_ok(), "the pipeline does not load: {}", p.as_ref().err().map(|e| e.to_string()).unwrap_or_default());
    let p = p.expect("checked");
    assert!(p.js_in_workers());
    p
}

fn user(flag: Option<&str>) -> Json {
    let mut u = json!({"user_id": "auth0|1", "email": "a@example.com", "email_verified": true});
    if let Some(flag) = flag {
        u["app_metadata"] = json!({ flag: true });
    }
    u
}

/// A login's outcome as JSON.
fn login(p: &Pipeline, flag: Option<&str>, budget: Duration) -> Json {
    let mut exec = Exec::at(1_795_694_400_000);
    exec.timeout = Some(budget);
    let context = json!({"clientName": "App", "protocol": "oidc-basic-profile"});
    p.execute(&user(flag), &context, &exec).expect("valid input").to_json()
}

fn allowed(outcome: &Json) -> bool {
    outcome["decision"] == "allow" && outcome["id_token"]["https://x/ok"] == true
}

/// How many threads process `pid` has.
fn threads(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let line = status.lines().find_map(|l| l.strip_prefix("Threads:")).unwrap_or("0");
    line.trim().parse().unwrap_or(0)
}

/// Waits (at most 30 s, as a safety net) until `done` says yes.
fn until(what: &str, done: impl Fn() -> bool) {
    let give_up = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < give_up, "gave up waiting: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits until worker `pid` runs `n` runs at once: besides its main thread, a worker has a
/// run thread per run in flight and one more that reads the next run (started when every
/// other is running).
fn until_running(pid: u32, n: usize) {
    until(&format!("{n} runs in flight on worker {pid}"), || threads(pid) >= n + 2);
}

/// The one live worker of a pipeline.
fn only_worker(p: &Pipeline) -> u32 {
    let pids = p.js_worker_pids();
    assert_eq!(pids.len(), 1, "{pids:?}");
    pids[0]
}

fn kill(pid: u32) {
    let status = Command::new("kill").arg("-KILL").arg(pid.to_string()).status().expect("kill runs");
    assert!(status.success(), "kill -KILL {pid}");
}

/// A run sent after one that loops answers first, on the same worker.
#[test]
fn a_worker_answers_a_later_run_first() {
    let p = pipeline("order", 1, 4);
    let pid = only_worker(&p);
    std::thread::scope(|s| {
        let spinning = s.spawn(|| login(&p, Some("spin"), Duration::from_secs(3)));
        until_running(pid, 1);
        let quick = login(&p, None, Duration::from_secs(30));
        assert!(allowed(&quick), "{quick}");
        assert!(!spinning.is_finished(), "the later run answered first");
        assert_eq!(only_worker(&p), pid, "one worker ran both");
        let spun = spinning.join().expect("the login returns");
        assert_eq!(spun["error"]["cause"], "timeout", "{spun}");
    });
}

/// One worker holds several logins at once; when it dies, each of them ends with a rule
/// error, and the next login runs on a fresh worker.
#[test]
fn a_worker_holds_many_logins_and_its_end_ends_them_all() {
    const N: usize = 6;
    let p = pipeline("many", 1, N);
    let pid = only_worker(&p);
    let outcomes = std::thread::scope(|s| {
        let logins: Vec<_> = (0..N).map(|_| s.spawn(|| login(&p, Some("spin"), Duration::from_secs(60)))).collect();
        until_running(pid, N);
        assert_eq!(only_worker(&p), pid);
        kill(pid);
        logins.into_iter().map(|l| l.join().expect("the login returns")).collect::<Vec<_>>()
    });
    for o in outcomes {
        assert_eq!(o["error"]["cause"], "rule_error", "{o}");
        let description = o["error"]["description"].as_str().unwrap_or_default();
        assert!(description.contains("the JavaScript sandbox stopped (killed by signal 9)"), "{o}");
    }
    let next = login(&p, None, Duration::from_secs(30));
    assert!(allowed(&next), "{next}");
    assert_ne!(only_worker(&p), pid, "a fresh worker");
}

/// A run that outlasts its deadline in native code gets its worker killed at the deadline
/// plus the grace: it ends as a timeout, the other run in flight on that worker as a rule
/// error that says why, and the next login runs on a fresh worker.
#[test]
fn the_kill_at_one_deadline_ends_the_other_runs_on_its_worker() {
    let p = pipeline("kill", 1, 4);
    let pid = only_worker(&p);
    let (late, other) = std::thread::scope(|s| {
        let other = s.spawn(|| login(&p, Some("spin"), Duration::from_secs(60)));
        until_running(pid, 1);
        let late = login(&p, Some("native"), Duration::from_millis(300));
        (late, other.join().expect("the login returns"))
    });
    assert_eq!(late["error"]["cause"], "timeout", "{late}");
    assert_eq!(other["error"]["cause"], "rule_error", "{other}");
    let description = other["error"]["description"].as_str().unwrap_or_default();
    assert!(
        description.contains("the JavaScript sandbox stopped (killed: another run on its worker overran its deadline)"),
        "{other}"
    );
    let next = login(&p, None, Duration::from_secs(30));
    assert!(allowed(&next), "{next}");
    assert_ne!(only_worker(&p), pid, "a fresh worker");
}

/// `recycle` with a run in flight: the next login starts a fresh worker at once, the run
/// finishes on the old one (which then exits), and nothing waits for anything else.
#[test]
fn recycling_lets_runs_in_flight_finish() {
    let p = pipeline("recycle", 1, 4);
    let pid = only_worker(&p);
    std::thread::scope(|s| {
        let busy = s.spawn(|| login(&p, Some("busy"), Duration::from_secs(60)));
        until_running(pid, 1);
        p.recycle_js();
        assert!(p.js_worker_pids().is_empty(), "recycled workers take no more logins");
        let next = login(&p, None, Duration::from_secs(30));
        assert!(allowed(&next), "{next}");
        assert_ne!(only_worker(&p), pid, "a fresh worker");
        let busy = busy.join().expect("the login returns");
        assert!(allowed(&busy), "the run in flight finished: {busy}");
    });
    until("the recycled worker exits", || !std::path::Path::new(&format!("/proc/{pid}")).exists());
}

/// A worker takes at most `runs_per_worker` runs at once: with one worker of one run busy, a
/// login waits for room until its deadline (no second worker starts beyond the maximum).
#[test]
fn a_full_worker_makes_a_login_wait_for_room() {
    let p = pipeline("full", 1, 1);
    let pid = only_worker(&p);
    std::thread::scope(|s| {
        let spinning = s.spawn(|| login(&p, Some("spin"), Duration::from_secs(3)));
        until_running(pid, 1);
        let waited = login(&p, None, Duration::from_millis(300));
        assert_eq!(waited["error"]["cause"], "timeout", "it never ran: {waited}");
        assert!(!spinning.is_finished());
        assert_eq!(only_worker(&p), pid);
        let spun = spinning.join().expect("the login returns");
        assert_eq!(spun["error"]["cause"], "timeout", "{spun}");
    });
    let next = login(&p, None, Duration::from_secs(30));
    assert!(allowed(&next), "room again: {next}");
}

/// While every live worker has a run in flight, a login starts another worker (under the
/// maximum), so that rules that compute use every CPU.
#[test]
fn busy_workers_spread_logins_over_processes() {
    let p = pipeline("spread", 2, 4);
    let pid = only_worker(&p);
    std::thread::scope(|s| {
        let spinning = s.spawn(|| login(&p, Some("spin"), Duration::from_secs(2)));
        until_running(pid, 1);
        let quick = login(&p, None, Duration::from_secs(30));
        assert!(allowed(&quick), "{quick}");
        let pids = p.js_worker_pids();
        assert_eq!(pids.len(), 2, "a second worker: {pids:?}");
        assert_eq!(threads(pid), 3, "the first worker ran one run only");
        spinning.join().expect("the login returns");
    });
}

/// A worker is sent a login's configuration only when it differs from the last one it saw,
/// and frames reach it in the order they are written: logins with different configurations,
/// many at once on one worker, each see their own.
#[test]
fn each_login_sees_its_own_configuration_on_a_shared_worker() {
    let p = pipeline("config", 1, 16);
    let context = Arc::new(json!({"clientName": "App", "protocol": "oidc-basic-profile"}));
    let exec = {
        let mut e = Exec::at(1_795_694_400_000);
        e.timeout = Some(Duration::from_secs(30));
        e
    };
    let outcomes: Vec<(String, Json)> = std::thread::scope(|s| {
        let logins: Vec<_> = (0..64)
            .map(|i| {
                let (p, context, exec) = (&p, context.clone(), &exec);
                s.spawn(move || {
                    // Runs of three logins share a configuration; every fourth has the pipeline's.
                    let tier = if i % 4 == 3 { "base".to_string() } else { format!("tier-{}", i / 3) };
                    let overrides: BTreeMap<String, String> =
                        if tier == "base" { BTreeMap::new() } else { [("TIER".to_string(), tier.clone())].into() };
                    let decoded = p.decode_with(Arc::new(user(None)), context, exec.now, &overrides).expect("valid");
                    (tier, p.run_decoded(decoded, exec).to_json())
                })
            })
            .collect();
        logins.into_iter().map(|l| l.join().expect("the login returns")).collect()
    });
    for (tier, outcome) in outcomes {
        assert!(allowed(&outcome), "{outcome}");
        assert_eq!(outcome["id_token"]["https://x/tier"], tier.as_str(), "{outcome}");
    }
    assert_eq!(p.js_worker_pids().len(), 1);
}
