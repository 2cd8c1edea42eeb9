//! `warden-loadgen`: HTTP/1.1 load for `warden serve` and the servers it is compared with.
//! See `bench/serve/README.md` and `warden-loadgen --help`.

mod args;
mod run;
mod schedule;
mod stats;

use std::process::ExitCode;

use clap::Parser;
use hyper::body::Bytes;
use hyper::header::{HeaderName, HeaderValue};

use args::{Args, Target};
use run::Plan;
use stats::RunInfo;

fn main() -> ExitCode {
    let args = Args::parse();
    match real_main(&args) {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("warden-loadgen: {e}");
            ExitCode::from(2)
        }
    }
}

fn real_main(args: &Args) -> Result<serde_json::Value, String> {
    let target = Target::parse(&args.url)?;
    let text = std::fs::read_to_string(&args.bodies).map_err(|e| format!("{}: {e}", args.bodies.display()))?;
    let bodies = parse_bodies(&text).map_err(|e| format!("{}: {e}", args.bodies.display()))?;
    let headers = args
        .headers
        .iter()
        .map(|(name, value)| {
            let n = HeaderName::from_bytes(name.as_bytes()).map_err(|e| format!("--header {name}: {e}"))?;
            let v = HeaderValue::from_str(value).map_err(|e| format!("--header {name}: {e}"))?;
            Ok((n, v))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let empty = stats::histogram()?;
    let plan = Plan {
        target,
        bodies,
        headers,
        connections: args.connections,
        duration: args.duration,
        timeout: args.timeout,
        max_requests: args.max_requests,
        mode: args.mode(),
    };
    let n_bodies = plan.bodies.len();
    let runtime = if args.threads == 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(usize::from(args.threads)).enable_all().build()
    }
    .map_err(|e| format!("starting the runtime: {e}"))?;
    let measured = runtime.block_on(run::run(plan, &empty));
    let info = RunInfo {
        url: &args.url,
        rate: args.rate,
        connections: args.connections,
        duration: args.duration,
        elapsed: measured.elapsed,
        bodies: n_bodies,
        scheduled: measured.scheduled,
    };
    Ok(stats::report(&info, &measured.counts))
}

/// One JSON object per non-blank line, kept as the line's bytes.
fn parse_bodies(text: &str) -> Result<Vec<Bytes>, String> {
    let mut bodies = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(serde_json::Value::Object(_)) => bodies.push(Bytes::copy_from_slice(line.as_bytes())),
            Ok(_) => return Err(format!("line {}: not a JSON object", i + 1)),
            Err(e) => return Err(format!("line {}: {e}", i + 1)),
        }
    }
    if bodies.is_empty() {
        return Err("no request bodies (one JSON object per line)".into());
    }
    Ok(bodies)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_json_objects_one_a_line() {
        let b = parse_bodies("{\"user\": {}, \"context\": {}}\n\n  {\"a\": 1}  \n").expect("two bodies");
        assert_eq!(b, vec![Bytes::from_static(b"{\"user\": {}, \"context\": {}}"), Bytes::from_static(b"{\"a\": 1}")]);
        assert_eq!(parse_bodies("{}\n[1]\n").expect_err("an array"), "line 2: not a JSON object");
        assert!(parse_bodies("{}\n{\"a\":\n").expect_err("cut short").starts_with("line 2: "));
        assert!(parse_bodies("\n \n").is_err());
    }
}
