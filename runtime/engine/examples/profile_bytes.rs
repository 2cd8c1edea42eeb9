//! Profiling aid: runs `execute_bytes` (JSON bytes to JSON bytes) in a loop over the
//! benchmark's 1,000 logins, or the reference path with `reference`.
//! `cargo run --release -p warden --example profile_bytes [N] [fast|reference] [interp|jit] [MANIFEST]`
//! (under `perf record -g` for a profile).

#[path = "../benches/common.rs"]
mod common;

use warden::{Backend, Exec, Pipeline};

fn main() {
    let arg = |i: usize| std::env::args().nth(i);
    let n: usize = arg(1).and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let reference = arg(2).as_deref() == Some("reference");
    let backend = if arg(3).as_deref() == Some("interp") { Backend::Interp } else { Backend::Jit };
    let manifest = arg(4).unwrap_or_else(|| "examples/bench/warden.toml".into());
    let pipeline = Pipeline::from_manifest(common::root().join(manifest)).expect("loads");
    let bytes: Vec<(Vec<u8>, Vec<u8>)> = common::logins()
        .iter()
        .map(|(u, c)| (serde_json::to_vec(u).expect("json"), serde_json::to_vec(c).expect("json")))
        .collect();
    let exec = Exec::at(common::NOW).on(backend);
    let mut written = 0;
    let start = std::time::Instant::now();
    for i in 0..n {
        let (u, c) = &bytes[i % bytes.len()];
        let out =
            if reference { pipeline.execute_bytes_reference(u, c, &exec) } else { pipeline.execute_bytes(u, c, &exec) };
        written += out.map(|o| o.len()).unwrap_or_default();
    }
    let per = start.elapsed().as_nanos() as f64 / n as f64;
    println!("{written} bytes written, {per:.0} ns per login ({})", if reference { "reference" } else { "fast" });
}
