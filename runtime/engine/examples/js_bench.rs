//! A warm legacy JavaScript rule with Auth0-size inputs, a 5-rule JavaScript pipeline, and a
//! cold start, timed in one run (`bench/js/run.sh` runs Node's `vm` on the same rule next).
//! Each login takes the user and context as JSON text and writes the outcome as JSON text
//! (`execute_bytes`), the work Node's side does too; the outcomes are written to OUT.json,
//! where `bench/js/node-vm.js` checks that Node decides the same before it times anything.
//! Rows "from values" take parsed `serde_json::Value`s and return an `Outcome` (no JSON text),
//! for reference; they are not compared with Node.
//! `cargo run --release -p warden --example js_bench -- DIR USER.json CONTEXT.json OUT.json`
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
    println!("warden {label:<46} {best:>9.2} us/login");
    best
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(&args[1]);
    let user_text = std::fs::read(&args[2]).expect("user");
    let context_text = std::fs::read(&args[3]).expect("ctx");
    let out = args.get(4).cloned().unwrap_or_else(|| "warden-outcomes.json".into());
    let exec = Exec::at(0);
    let one = Pipeline::from_manifest(dir.join("one.toml")).expect("loads");
    let five = Pipeline::from_manifest(dir.join("five.toml")).expect("loads");
    let login = |p: &Pipeline| p.execute_bytes(&user_text, &context_text, &exec).expect("valid");
    // What Node's side checks against, before either side is timed.
    let outcomes: Vec<serde_json::Value> =
        [&one, &five].iter().map(|p| serde_json::from_slice(&login(p)).expect("an outcome")).collect();
    for o in &outcomes {
        assert_eq!(o["decision"], "allow", "{o}");
    }
    let written = serde_json::json!({ "one": outcomes[0], "five": outcomes[1] });
    std::fs::write(&out, serde_json::to_vec(&written).expect("json")).expect("write outcomes");
    if std::env::var_os("JS_BENCH_PROFILE").is_some() {
        for _ in 0..200_000 {
            std::hint::black_box(login(&one));
        }
        return;
    }
    let one_us = time("1 JS rule, warm (JSON text in and out)", 10_000, || {
        std::hint::black_box(login(&one));
    });
    let five_us = time("5 JS rules, warm (JSON text in and out)", 5_000, || {
        std::hint::black_box(login(&five));
    });
    // Derived from the two lines above: what each rule after the first adds to a login.
    println!("warden {:<46} {:>9.2} us/rule", "each further JS rule (5 vs 1)", (five_us - one_us) / 4.0);
    time("1 JS rule, cold (fresh runtime; JSON text)", 100, || {
        one.recycle_js();
        std::hint::black_box(login(&one));
    });
    let user: serde_json::Value = serde_json::from_slice(&user_text).expect("json");
    let context: serde_json::Value = serde_json::from_slice(&context_text).expect("json");
    let (user, context) = (Arc::new(user), Arc::new(context));
    time("1 JS rule, warm, from values (no JSON text)", 10_000, || {
        std::hint::black_box(one.execute_shared(user.clone(), context.clone(), &exec).expect("valid"));
    });
    time("5 JS rules, warm, from values (no JSON text)", 5_000, || {
        std::hint::black_box(five.execute_shared(user.clone(), context.clone(), &exec).expect("valid"));
    });
}
