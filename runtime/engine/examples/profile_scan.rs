//! Profiling aid: the fast decoder alone (`decode_bytes`: JSON bytes to slots) over the
//! benchmark's 1,000 logins. `cargo run --release -p warden --example profile_scan [N] [MANIFEST]`.

#[path = "../benches/common.rs"]
mod common;

use warden::Pipeline;

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let manifest = std::env::args().nth(2).unwrap_or_else(|| "examples/bench/warden.toml".into());
    let pipeline = Pipeline::from_manifest(common::root().join(manifest)).expect("loads");
    let bytes: Vec<(Vec<u8>, Vec<u8>)> = common::logins()
        .iter()
        .map(|(u, c)| (serde_json::to_vec(u).expect("json"), serde_json::to_vec(c).expect("json")))
        .collect();
    let size: usize = bytes.iter().map(|(u, c)| u.len() + c.len()).sum::<usize>() / bytes.len();
    let start = std::time::Instant::now();
    let mut decoded = 0;
    for i in 0..n {
        let (u, c) = &bytes[i % bytes.len()];
        decoded += usize::from(pipeline.decode_bytes(u, c, common::NOW).is_some());
    }
    let per = start.elapsed().as_nanos() as f64 / n as f64;
    println!("{decoded} decoded, {per:.0} ns per login of {size} bytes ({:.0} MB/s)", size as f64 / per * 1000.0);
}
