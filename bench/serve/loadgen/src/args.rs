//! Command-line arguments and what they mean for a run.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// HTTP/1.1 load generator for `warden serve` (and the Node server it is compared with).
///
/// Closed loop (default): each of `--connections` keep-alive connections sends the next request
/// as soon as the previous response has been read, for `--duration` seconds; the request rate
/// is the server's saturation rate at that concurrency.
///
/// Open loop (`--rate R`): requests are due at fixed times, R per second from the start,
/// whatever the server does; idle connections take the next due request, and latency is
/// measured from the time the request was due, not from when it could be sent (no coordinated
/// omission). Requests still waiting for a connection one second after the duration ended are
/// not sent and are counted as `missed`.
///
/// Prints one JSON object on stdout. Only plain `http://` URLs.
#[derive(Debug, Parser)]
#[command(name = "warden-loadgen", version)]
pub struct Args {
    /// Where to POST every request, e.g. `http://127.0.0.1:8686/v1/login`.
    #[arg(long)]
    pub url: String,

    /// A JSONL file of request bodies (one JSON object per line, blank lines skipped), sent in
    /// turn: request k carries body k modulo the number of bodies.
    #[arg(long)]
    pub bodies: PathBuf,

    /// Keep-alive connections, each with at most one request in flight.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub connections: u32,

    /// How long to send, in seconds (a decimal number). The run always stops sending then.
    #[arg(long, default_value = "10", value_parser = parse_seconds)]
    pub duration: Duration,

    /// Open loop: requests per second, due at fixed intervals from the start.
    #[arg(long, value_parser = parse_rate)]
    pub rate: Option<f64>,

    /// Stop after this many requests (also bounded by --duration).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_requests: Option<u64>,

    /// An extra request header, `Name: value` (repeatable), e.g. an API key.
    #[arg(long = "header", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,

    /// Give up on one request (and its connection) after this many seconds; it counts as a
    /// transport error with kind `timeout`.
    #[arg(long, default_value = "10", value_parser = parse_seconds)]
    pub timeout: Duration,

    /// Threads of the load generator's own runtime (1: a single-threaded runtime, which leaves
    /// the other cores to the server under test).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: u16,
}

/// What kind of loop a run is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// Back to back on every connection.
    Closed,
    /// Due times at `rate` per second.
    Open { rate: f64 },
}

impl Args {
    pub fn mode(&self) -> Mode {
        match self.rate {
            Some(rate) => Mode::Open { rate },
            None => Mode::Closed,
        }
    }
}

/// Seconds as a positive decimal number (`10`, `2.5`), at most a day.
pub fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text.trim().parse().map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !(seconds > 0.0 && seconds <= 86_400.0) {
        return Err(format!("`{text}`: seconds must be more than 0 and at most 86400"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// A rate in requests per second: positive, at most ten million.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let rate: f64 = text.trim().parse().map_err(|_| format!("`{text}` is not a number of requests per second"))?;
    if !(rate > 0.0 && rate <= 10_000_000.0) {
        return Err(format!("`{text}`: the rate must be more than 0 and at most 10000000 requests per second"));
    }
    Ok(rate)
}

/// `Name: value`, with a header name of visible ASCII other than `:`.
pub fn parse_header(text: &str) -> Result<(String, String), String> {
    let Some((name, value)) = text.split_once(':') else {
        return Err(format!("`{text}`: a header is `Name: value`"));
    };
    let name = name.trim();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!("`{text}`: `{name}` is not a header name"));
    }
    Ok((name.to_string(), value.trim().to_string()))
}

/// The parts of `--url` a connection needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// `host:port` for the `Host` header, as written in the URL.
    pub authority: String,
    /// Host name or address to connect to (IPv6 without brackets).
    pub host: String,
    pub port: u16,
    /// Path and query to request, at least `/`.
    pub path: String,
}

impl Target {
    pub fn parse(url: &str) -> Result<Target, String> {
        let uri: hyper::Uri = url.parse().map_err(|e| format!("--url `{url}`: {e}"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(other) => return Err(format!("--url `{url}`: only http:// is supported, not {other}://")),
            None => return Err(format!("--url `{url}`: give the whole URL, e.g. http://127.0.0.1:8686/v1/login")),
        }
        let Some(authority) = uri.authority() else {
            return Err(format!("--url `{url}`: no host"));
        };
        let host = authority.host().trim_start_matches('[').trim_end_matches(']').to_string();
        let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
        let path = if path.is_empty() { "/".to_string() } else { path };
        Ok(Target { authority: authority.as_str().to_string(), host, port: authority.port_u16().unwrap_or(80), path })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("warden-loadgen").chain(args.iter().copied()))
    }

    #[test]
    fn closed_loop_by_default() {
        let a = parse(&["--url", "http://127.0.0.1:1/v1/login", "--bodies", "b.jsonl"]).expect("parses");
        assert_eq!(a.mode(), Mode::Closed);
        assert_eq!(a.connections, 1);
        assert_eq!(a.duration, Duration::from_secs(10));
        assert_eq!(a.max_requests, None);
        assert_eq!(a.threads, 1);
    }

    #[test]
    fn rate_makes_an_open_loop() {
        let a = parse(&[
            "--url",
            "http://127.0.0.1:1/",
            "--bodies",
            "b.jsonl",
            "--rate",
            "2500.5",
            "--connections",
            "16",
            "--duration",
            "2.5",
            "--max-requests",
            "100",
            "--header",
            "Authorization: Bearer k1",
        ])
        .expect("parses");
        assert_eq!(a.mode(), Mode::Open { rate: 2500.5 });
        assert_eq!(a.connections, 16);
        assert_eq!(a.duration, Duration::from_millis(2500));
        assert_eq!(a.max_requests, Some(100));
        assert_eq!(a.headers, vec![("Authorization".to_string(), "Bearer k1".to_string())]);
    }

    #[test]
    fn bad_values_are_refused() {
        let base = ["--url", "http://127.0.0.1:1/", "--bodies", "b.jsonl"];
        for extra in [
            &["--connections", "0"][..],
            &["--rate", "0"],
            &["--rate", "-5"],
            &["--rate", "NaN"],
            &["--duration", "0"],
            &["--duration", "ten"],
            &["--max-requests", "0"],
            &["--header", "no colon"],
            &["--header", ": empty name"],
            &["--threads", "0"],
        ] {
            let args: Vec<&str> = base.iter().copied().chain(extra.iter().copied()).collect();
            assert!(parse(&args).is_err(), "{extra:?} must be refused");
        }
        assert!(parse(&["--bodies", "b.jsonl"]).is_err(), "--url is required");
    }

    #[test]
    fn targets() {
        let t = Target::parse("http://127.0.0.1:8686/v1/pipelines/bench/login").expect("parses");
        assert_eq!(
            t,
            Target {
                authority: "127.0.0.1:8686".into(),
                host: "127.0.0.1".into(),
                port: 8686,
                path: "/v1/pipelines/bench/login".into()
            }
        );
        let t = Target::parse("http://localhost").expect("parses");
        assert_eq!((t.host.as_str(), t.port, t.path.as_str()), ("localhost", 80, "/"));
        let t = Target::parse("http://[::1]:9000/x?y=1").expect("parses");
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str(), t.authority.as_str()),
            ("::1", 9000, "/x?y=1", "[::1]:9000")
        );
        assert!(Target::parse("https://127.0.0.1/").is_err());
        assert!(Target::parse("127.0.0.1:80/x").is_err());
        assert!(Target::parse("/v1/login").is_err());
    }
}
