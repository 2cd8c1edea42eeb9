//! How fast candidate parsers read the benchmark's 1,000 logins (user and context, about
//! 2 KB together), against warden's fast decoder on `examples/bench`, in one run. Validation
//! alone (`IgnoredAny`), a full document, and for simd-json its tape. The figures are in
//! ARCHITECTURE.md ("From bytes to bytes"): why the fast decoder is hand-written.
//! `cargo run --release --manifest-path bench/parsers/Cargo.toml`

#[path = "../../../runtime/engine/benches/common.rs"]
mod common;

use std::hint::black_box;
use std::time::Instant;

use serde::de::IgnoredAny;

fn time(name: &str, logins: &[(Vec<u8>, Vec<u8>)], mut f: impl FnMut(&[u8], &[u8]) -> bool) {
    // Warm up, then the best of five passes of 20,000 logins.
    let mut best = f64::MAX;
    for round in 0..6 {
        let n = 20_000;
        let start = Instant::now();
        let mut ok = 0usize;
        for i in 0..n {
            let (u, c) = &logins[i % logins.len()];
            ok += usize::from(black_box(f(u, c)));
        }
        assert_eq!(ok, n, "{name}: every login reads");
        let per = start.elapsed().as_nanos() as f64 / n as f64;
        if round > 0 {
            best = best.min(per);
        }
    }
    println!("{name:<58} {:>7.2} µs per login", best / 1000.0);
}

fn main() {
    let logins: Vec<(Vec<u8>, Vec<u8>)> = common::logins()
        .iter()
        .map(|(u, c)| (serde_json::to_vec(u).expect("json"), serde_json::to_vec(c).expect("json")))
        .collect();
    let size = logins.iter().map(|(u, c)| u.len() + c.len()).sum::<usize>() / logins.len();
    println!("{} logins, {size} bytes each on average (user and context)", logins.len());
    let pipeline = warden::Pipeline::from_manifest(common::root().join("examples/bench/warden.toml")).expect("loads");
    let allow_deny =
        warden::Pipeline::from_manifest(common::root().join("examples/bench/allow-deny.toml")).expect("loads");
    time("serde_json: validate only (IgnoredAny)", &logins, |u, c| {
        serde_json::from_slice::<IgnoredAny>(u).is_ok() && serde_json::from_slice::<IgnoredAny>(c).is_ok()
    });
    time("serde_json: serde_json::Value (key order kept)", &logins, |u, c| {
        serde_json::from_slice::<serde_json::Value>(u).is_ok() && serde_json::from_slice::<serde_json::Value>(c).is_ok()
    });
    time("sonic-rs: validate only (IgnoredAny)", &logins, |u, c| {
        sonic_rs::from_slice::<IgnoredAny>(u).is_ok() && sonic_rs::from_slice::<IgnoredAny>(c).is_ok()
    });
    time("sonic-rs: sonic_rs::Value", &logins, |u, c| {
        sonic_rs::from_slice::<sonic_rs::Value>(u).is_ok() && sonic_rs::from_slice::<sonic_rs::Value>(c).is_ok()
    });
    let mut buf = Vec::new();
    time("simd-json: tape (a copy of the bytes, parsed in place)", &logins, |u, c| {
        [u, c].iter().all(|d| {
            buf.clear();
            buf.extend_from_slice(d);
            simd_json::to_tape(&mut buf).is_ok()
        })
    });
    time("warden fast decoder, examples/bench (slots, shapes, kept values)", &logins, |u, c| {
        pipeline.decode_bytes(u, c, common::NOW).is_some()
    });
    time("warden fast decoder, examples/bench/allow-deny.toml", &logins, |u, c| {
        allow_deny.decode_bytes(u, c, common::NOW).is_some()
    });
}
