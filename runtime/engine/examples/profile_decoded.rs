//! Profiling aid: runs `run_decoded` in a loop (the input clone shows separately in a
//! profile). Inputs are decoded from JSON values, or with `bytes` by the fast path from JSON
//! bytes (`decode_bytes`, whose documents hold only what the runtime reads).
//! `cargo run --release -p warden --example profile_decoded [N] [interp|jit] [MANIFEST] [values|bytes]`.

#[path = "../benches/common.rs"]
mod common;

use warden::{Backend, Exec, Pipeline};

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let backend = if std::env::args().nth(2).as_deref() == Some("interp") { Backend::Interp } else { Backend::Jit };
    let manifest = std::env::args().nth(3).unwrap_or_else(|| "examples/bench/warden.toml".into());
    let pipeline = Pipeline::from_manifest(common::root().join(manifest)).expect("loads");
    let bytes = std::env::args().nth(4).as_deref() == Some("bytes");
    let decoded: Vec<_> = common::logins()
        .into_iter()
        .map(|(u, c)| {
            if bytes {
                let (u, c) = (serde_json::to_vec(&u).expect("json"), serde_json::to_vec(&c).expect("json"));
                pipeline.decode_bytes(&u, &c, common::NOW).expect("the fast path takes the bench logins")
            } else {
                pipeline.decode(u, c, common::NOW).expect("valid")
            }
        })
        .collect();
    let exec = Exec::at(common::NOW).on(backend);
    let mut allowed = 0;
    let mut timed = std::time::Duration::ZERO;
    for _ in 0..n / decoded.len() {
        // Copies are made and outcomes dropped outside the timed part, as in the benchmark.
        let batch: Vec<_> = decoded.to_vec();
        let start = std::time::Instant::now();
        let outcomes: Vec<_> = batch.into_iter().map(|d| pipeline.run_decoded(d, &exec)).collect();
        timed += start.elapsed();
        allowed += outcomes.iter().filter(|o| o.is_allow()).count();
    }
    println!("{allowed} allowed, {:.0} ns per login (run and outcome only)", timed.as_nanos() as f64 / n as f64);
}
