//! Load time and peak memory against rule size (`BENCHMARKS.md`, "Loading"):
//! `cargo run --release -p warden --example load_scaling`. Each measurement runs in a fresh
//! process (this example again, with `one N` or `many N`), so that its peak resident memory
//! is its own. Loading means `Pipeline::from_sources`: parse, check, validate, prepare, and
//! JIT-compile when every rule is within the JIT's size limit.

use std::process::Command;
use std::time::Instant;

/// `n` statements of five kinds (a `let`, a guarded `deny`, a `set`, a `claim`, a `log`).
fn statements(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| match i % 5 {
            0 => format!("let v{i} = lower(user.email)"),
            1 => format!("deny if user.name == \"b{i}\""),
            2 => format!("set user.app_metadata.k{i} = \"v\""),
            3 => format!("claim id_token \"https://e.co/c{i}\" = 1"),
            _ => format!("log \"s{i} ${{user.email}}\""),
        })
        .collect()
}

fn source(shape: &str, n: usize) -> String {
    match shape {
        "one" => format!("rule \"big\" {{\n    {}\n}}\n", statements(n).join("\n    ")),
        _ => statements(n).iter().enumerate().map(|(i, s)| format!("rule \"r{i}\" {{\n    {s}\n}}\n")).collect(),
    }
}

fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
        .unwrap_or(0)
}

fn measure(shape: &str, n: usize) {
    let text = source(shape, n);
    let start = Instant::now();
    let p = warden::Pipeline::from_sources(&[("bench.rule".into(), text.clone())], Default::default())
        .expect("the generated source checks");
    let secs = start.elapsed().as_secs_f64();
    println!("{} {secs:.3} {} {}", text.len(), peak_kib(), p.has_jit());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, shape, n] = args.as_slice() {
        return measure(shape, n.parse().expect("a number of statements"));
    }
    let exe = std::env::current_exe().expect("this example");
    println!("| statements | shape | source | load time | peak memory | per 1,000 statements | JIT |");
    println!("|---|---|---|---|---|---|---|");
    for shape in ["one", "many"] {
        for n in [1_000, 5_000, 10_000, 20_000] {
            let out = Command::new(&exe).args([shape, &n.to_string()]).output().expect("runs");
            let text = String::from_utf8_lossy(&out.stdout);
            let f: Vec<&str> = text.split_whitespace().collect();
            let [bytes, secs, kib, jit] = f.as_slice() else {
                println!("| {n} | {shape} | failed: {} |", String::from_utf8_lossy(&out.stderr).trim());
                continue;
            };
            let secs: f64 = secs.parse().unwrap_or(0.0);
            let mib = kib.parse::<f64>().unwrap_or(0.0) / 1024.0;
            let kb = bytes.parse::<f64>().unwrap_or(0.0) / 1000.0;
            let label = if shape == "one" { "one rule" } else { "one rule each" };
            let jit = if *jit == "true" { "yes" } else { "no (interpreter)" };
            println!(
                "| {n} | {label} | {kb:.0} KB | {secs:.2} s | {mib:.0} MiB | {:.3} s, {:.1} MiB | {jit} |",
                secs * 1000.0 / n as f64,
                mib * 1000.0 / n as f64
            );
        }
    }
}
