//! A warm legacy JavaScript rule with Auth0-size inputs, a 5-rule JavaScript pipeline, and a
//! cold start, timed in one run (`bench/js/run.sh` runs Node's `vm` on the same rule next).
//! `cargo run --release -p warden --example js_bench -- DIR USER.json CONTEXT.json`
//! With `JS_BENCH_PROFILE=1` it only runs the one-rule pipeline 200,000 times, for `perf`.

use std::sync::Arc;
use std::time::Instant;

use warden::{Exec, Pipeline};

/// The fastest of five rounds of `n` calls (after a warm-up): this VM's speed drifts, and
/// the minimum is the figure two runs agree on.
fn time(label: &str, n: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..n / 10 {
        f();
    }
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..n {
            f();
        }
        best = best.min(start.elapsed().as_secs_f64() * 1e6 / n as f64);
    }
    println!("warden {label:<34} {best:>9.2} us/login");
    best
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(&args[1]);
    let user: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&args[2]).expect("user")).expect("json");
    let context: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&args[3]).expect("ctx")).expect("json");
    let (user, context) = (Arc::new(user), Arc::new(context));
    let exec = Exec::at(0);
    let one = Pipeline::from_manifest(dir.join("one.toml")).expect("loads");
    let five = Pipeline::from_manifest(dir.join("five.toml")).expect("loads");
    let o = one.execute_shared(user.clone(), context.clone(), &exec).expect("valid");
    assert!(o.is_allow(), "{}", o.to_json());
    if std::env::var_os("JS_BENCH_PROFILE").is_some() {
        for _ in 0..200_000 {
            std::hint::black_box(one.execute_shared(user.clone(), context.clone(), &exec).expect("valid"));
        }
        return;
    }
    let one_us = time("1 JS rule, warm", 10_000, || {
        std::hint::black_box(one.execute_shared(user.clone(), context.clone(), &exec).expect("valid"));
    });
    let five_us = time("5 JS rules, warm", 5_000, || {
        std::hint::black_box(five.execute_shared(user.clone(), context.clone(), &exec).expect("valid"));
    });
    // Derived from the two lines above: what each rule after the first adds to a login.
    println!("warden {:<34} {:>9.2} us/rule", "each further JS rule (5 vs 1)", (five_us - one_us) / 4.0);
    time("1 JS rule, cold (fresh runtime)", 100, || {
        one.recycle_js();
        std::hint::black_box(one.execute_shared(user.clone(), context.clone(), &exec).expect("valid"));
    });
}
