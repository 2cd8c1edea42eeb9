//! Memory over a long run: executes the bench pipeline N times (default 1,000,000) on the
//! JIT and prints the resident set size every 100,000 executions. A leak shows as growth.
//! `cargo run --release -p warden --example soak [N] [interp|jit] [MANIFEST]` (see BENCHMARKS.md).

#[path = "../benches/common.rs"]
mod common;

use warden::{Backend, Exec, Pipeline};

fn rss_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4
}

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let backend = match std::env::args().nth(2).as_deref() {
        Some("interp") => Backend::Interp,
        _ => Backend::Jit,
    };
    let manifest = std::env::args().nth(3).unwrap_or_else(|| "examples/bench/warden.toml".into());
    let pipeline = Pipeline::from_manifest(common::root().join(manifest)).expect("loads");
    let inputs = common::logins();
    let exec = Exec::at(common::NOW).on(backend);
    let (mut allowed, mut denied) = (0u64, 0u64);
    let start = std::time::Instant::now();
    println!("executions,rss_kib,seconds");
    for i in 0..n {
        let (u, c) = &inputs[i % inputs.len()];
        match pipeline.execute(u, c, &exec) {
            Ok(o) if o.is_allow() => allowed += 1,
            Ok(_) => denied += 1,
            Err(e) => {
                eprintln!("invalid input: {e}");
                std::process::exit(1);
            }
        }
        if (i + 1) % 100_000 == 0 || i == 0 {
            println!("{},{},{:.1}", i + 1, rss_kib(), start.elapsed().as_secs_f64());
        }
    }
    println!("# {allowed} allowed, {denied} denied, backend {backend:?}");
}
