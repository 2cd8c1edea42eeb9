//! The cost of running JavaScript rules in worker processes against the calling process,
//! interleaved in one run: a warm one-rule and five-rule login with Auth0-size inputs.
//! `bench/js/workers.sh` builds the `warden` binary the workers run and calls this with
//! `DIR USER.json CONTEXT.json WARDEN`.

use std::sync::Arc;
use std::time::Instant;

use warden::{Exec, JsWorkers, Pipeline};

/// The fastest of `rounds` rounds of `n` calls (after a warm-up).
fn best(n: usize, rounds: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..n / 10 {
        f();
    }
    let mut best = f64::MAX;
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..n {
            f();
        }
        best = best.min(start.elapsed().as_secs_f64() * 1e6 / n as f64);
    }
    best
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, user, context, warden] = args.as_slice() else {
        eprintln!("usage: js_workers DIR USER.json CONTEXT.json WARDEN");
        std::process::exit(2);
    };
    let dir = std::path::PathBuf::from(dir);
    let read = |p: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).expect("input")).expect("json")
    };
    let (user, context) = (Arc::new(read(user)), Arc::new(read(context)));
    let load = |manifest: &str, workers: bool| {
        let w = JsWorkers { max: 1, ..JsWorkers::new(vec![warden.into(), "__js-worker".into()]) };
        warden::set_js_isolation(workers.then_some(w));
        let p = Pipeline::from_manifest(dir.join(manifest)).expect("loads");
        warden::set_js_isolation(None);
        p
    };
    let exec = Exec::at(0);
    for manifest in ["one.toml", "five.toml"] {
        let (local, remote) = (load(manifest, false), load(manifest, true));
        let a = local.execute_shared(user.clone(), context.clone(), &exec).expect("valid").to_json();
        let b = remote.execute_shared(user.clone(), context.clone(), &exec).expect("valid").to_json();
        assert_eq!(a, b, "workers decide like the calling process");
        assert_eq!(a["decision"], "allow", "{a}");
        let (mut l, mut r) = (f64::MAX, f64::MAX);
        // Interleaved rounds: this VM's speed drifts within minutes.
        for _ in 0..3 {
            l = l.min(best(3000, 3, || {
                std::hint::black_box(local.execute_shared(user.clone(), context.clone(), &exec).expect("valid"));
            }));
            r = r.min(best(3000, 3, || {
                std::hint::black_box(remote.execute_shared(user.clone(), context.clone(), &exec).expect("valid"));
            }));
        }
        println!("{manifest:<10} in process {l:>8.2} us/login   in a worker {r:>8.2} us/login   (+{:.2} us)", r - l);
    }
}
