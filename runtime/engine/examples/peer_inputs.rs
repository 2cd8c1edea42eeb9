//! Writes the benchmark's 1,000 logins as JSON and warden's decision on each (for the peer
//! scripts in `bench/peers/`, which compare every engine's decisions with these before they
//! time anything), then times warden on the allow/deny pipeline over the same logins, from
//! JSON values and from JSON text, so that the peers are measured in the same run.
//! The decisions are first checked against `bench/expected/allow-deny.txt` on both backends.
//! `cargo run --release -p warden --example peer_inputs LOGINS.json DECISIONS.json`

#[path = "../benches/common.rs"]
mod common;

use std::sync::Arc;
use std::time::Instant;

use warden::{Backend, Exec, Pipeline};

fn main() {
    let out = std::env::args().nth(1).unwrap_or_else(|| "logins.json".into());
    let decisions_out = std::env::args().nth(2).unwrap_or_else(|| "decisions.json".into());
    let logins = common::logins();
    let json: Vec<_> = logins.iter().map(|(u, c)| serde_json::json!({ "user": u, "context": c })).collect();
    std::fs::write(&out, serde_json::to_vec(&json).expect("json")).expect("write");
    let p = Pipeline::from_manifest(common::root().join("examples/bench/allow-deny.toml")).expect("loads");
    let decisions = common::verify("allow-deny", &p, &logins);
    std::fs::write(&decisions_out, serde_json::to_vec(&decisions).expect("json")).expect("write");
    let expected_denied = decisions.iter().filter(|d| *d != "allow").count();
    println!("warden decisions checked: {expected_denied} of {} logins denied", logins.len());
    let rounds = 200;
    for (name, backend) in [("interp", Backend::Interp), ("jit", Backend::Jit)] {
        let exec = Exec::at(common::NOW).on(backend);
        let shared: Vec<_> = logins.iter().map(|(u, c)| (Arc::new(u.clone()), Arc::new(c.clone()))).collect();
        let mut denied = 0;
        let start = Instant::now();
        for _ in 0..rounds {
            for (u, c) in &shared {
                if !p.execute_shared(u.clone(), c.clone(), &exec).expect("valid").is_allow() {
                    denied += 1;
                }
            }
        }
        let ns = start.elapsed().as_nanos() as f64 / (rounds * logins.len()) as f64;
        assert_eq!(denied, expected_denied * rounds, "{name}: every round denies the checked logins");
        println!("warden {name:6} execute_shared    {ns:8.0} ns/login ({} denied per round)", denied / rounds);
        let texts: Vec<_> = logins
            .iter()
            .map(|(u, c)| (serde_json::to_vec(u).expect("json"), serde_json::to_vec(c).expect("json")))
            .collect();
        let start = Instant::now();
        for _ in 0..rounds {
            for (u, c) in &texts {
                std::hint::black_box(p.execute_bytes(u, c, &exec).expect("valid"));
            }
        }
        let ns = start.elapsed().as_nanos() as f64 / (rounds * logins.len()) as f64;
        println!("warden {name:6} execute_bytes     {ns:8.0} ns/login");
    }
}
