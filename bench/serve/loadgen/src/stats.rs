//! What each connection counts, merged at the end, and the JSON report.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::{Value, json};

/// Latencies are recorded in microseconds, from 1 µs to 10 minutes, 3 significant digits.
const HIGHEST_US: u64 = 600_000_000;

/// An empty histogram with those bounds: made once, cloned for each connection.
pub fn histogram() -> Result<Histogram<u64>, String> {
    Histogram::new_with_bounds(1, HIGHEST_US, 3).map_err(|e| format!("histogram: {e}"))
}

/// Records `d` in whole microseconds (at least 1, at most the histogram's highest value).
pub fn record(h: &mut Histogram<u64>, d: Duration) {
    let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX).clamp(1, HIGHEST_US);
    h.saturating_record(us);
}

/// One connection's counts (and the whole run's after `merge`).
#[derive(Debug)]
pub struct Counts {
    /// Every response's latency (any status): from sending (closed loop) or from the due time
    /// (open loop) to the end of the response body.
    pub latency: Histogram<u64>,
    /// Open loop: how late each request was sent after its due time (the generator's own
    /// lateness plus waiting for a free connection).
    pub send_lag: Histogram<u64>,
    /// Open loop: latency from the actual send (what the latency would be with coordinated
    /// omission; for comparison only).
    pub service: Histogram<u64>,
    /// Requests sent (or attempted: a failed connect counts).
    pub requests: u64,
    /// 2xx responses.
    pub ok: u64,
    /// Other responses, by status.
    pub errors: BTreeMap<u16, u64>,
    /// Connect, write or read failures, and timeouts, by kind.
    pub transport: BTreeMap<&'static str, u64>,
    /// Open loop: due requests not sent because they were still waiting for a connection a
    /// second after the duration ended.
    pub missed: u64,
    /// TCP connections opened.
    pub connects: u64,
}

impl Counts {
    /// Empty counts over clones of `empty`, an empty histogram from `histogram()`.
    pub fn new(empty: &Histogram<u64>) -> Self {
        Counts {
            latency: empty.clone(),
            send_lag: empty.clone(),
            service: empty.clone(),
            requests: 0,
            ok: 0,
            errors: BTreeMap::new(),
            transport: BTreeMap::new(),
            missed: 0,
            connects: 0,
        }
    }

    pub fn response(&mut self, status: u16, latency: Duration) {
        self.requests += 1;
        if (200..300).contains(&status) {
            self.ok += 1;
        } else {
            *self.errors.entry(status).or_default() += 1;
        }
        record(&mut self.latency, latency);
    }

    pub fn transport_error(&mut self, kind: &'static str) {
        self.requests += 1;
        *self.transport.entry(kind).or_default() += 1;
    }

    pub fn merge(&mut self, other: Counts) {
        // Both histograms have the same bounds (or auto-resize), so `add` cannot fail; were
        // it to, the report would undercount rather than stop.
        let _ = self.latency.add(&other.latency);
        let _ = self.send_lag.add(&other.send_lag);
        let _ = self.service.add(&other.service);
        self.requests += other.requests;
        self.ok += other.ok;
        for (status, n) in other.errors {
            *self.errors.entry(status).or_default() += n;
        }
        for (kind, n) in other.transport {
            *self.transport.entry(kind).or_default() += n;
        }
        self.missed += other.missed;
        self.connects += other.connects;
    }

    pub fn responses(&self) -> u64 {
        self.ok + self.errors.values().sum::<u64>()
    }
}

/// Percentiles of a histogram in microseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub count: u64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p99_9: u64,
    pub max: u64,
    pub mean: f64,
}

pub fn summarize(h: &Histogram<u64>) -> Option<Summary> {
    if h.is_empty() {
        return None;
    }
    Some(Summary {
        count: h.len(),
        p50: h.value_at_quantile(0.50),
        p90: h.value_at_quantile(0.90),
        p99: h.value_at_quantile(0.99),
        p99_9: h.value_at_quantile(0.999),
        max: h.max(),
        mean: h.mean(),
    })
}

fn summary_json(s: Option<Summary>) -> Value {
    match s {
        None => Value::Null,
        Some(s) => json!({
            "count": s.count,
            "p50": s.p50,
            "p90": s.p90,
            "p99": s.p99,
            "p99_9": s.p99_9,
            "max": s.max,
            "mean": (s.mean * 10.0).round() / 10.0,
        }),
    }
}

/// How the run was set up, for the report.
#[derive(Debug)]
pub struct RunInfo<'a> {
    pub url: &'a str,
    pub rate: Option<f64>,
    pub connections: u32,
    pub duration: Duration,
    pub elapsed: Duration,
    pub bodies: usize,
    /// Open loop: requests the schedule held.
    pub scheduled: Option<u64>,
}

pub fn report(info: &RunInfo<'_>, c: &Counts) -> Value {
    let secs = info.elapsed.as_secs_f64().max(1e-9);
    let per_second = |n: u64| (n as f64 / secs * 10.0).round() / 10.0;
    let errors: serde_json::Map<String, Value> = c.errors.iter().map(|(s, n)| (s.to_string(), json!(n))).collect();
    let transport: serde_json::Map<String, Value> =
        c.transport.iter().map(|(k, n)| (k.to_string(), json!(n))).collect();
    let mut out = json!({
        "mode": if info.rate.is_some() { "open" } else { "closed" },
        "url": info.url,
        "connections": info.connections,
        "rate": info.rate,
        "duration_s": info.duration.as_secs_f64(),
        "elapsed_s": (secs * 1000.0).round() / 1000.0,
        "bodies": info.bodies,
        "requests": c.requests,
        "ok": c.ok,
        "errors": errors,
        "transport_errors": c.transport.values().sum::<u64>(),
        "transport_error_kinds": transport,
        "rps": per_second(c.responses()),
        "ok_rps": per_second(c.ok),
        "latency_us": summary_json(summarize(&c.latency)),
        "connects": c.connects,
    });
    if let (Some(scheduled), Value::Object(map)) = (info.scheduled, &mut out) {
        map.insert("scheduled".into(), json!(scheduled));
        map.insert("missed".into(), json!(c.missed));
        map.insert("send_lag_us".into(), summary_json(summarize(&c.send_lag)));
        map.insert("service_us".into(), summary_json(summarize(&c.service)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty() -> Histogram<u64> {
        histogram().expect("valid bounds")
    }

    #[test]
    fn summary_of_a_known_distribution() {
        let mut h = empty();
        for us in 1..=1000u64 {
            record(&mut h, Duration::from_micros(us));
        }
        let s = summarize(&h).expect("samples");
        assert_eq!(s.count, 1000);
        assert_eq!((s.p50, s.p90, s.p99, s.p99_9, s.max), (500, 900, 990, 999, 1000));
        assert!((s.mean - 500.5).abs() < 0.5, "{}", s.mean);
    }

    #[test]
    fn empty_and_extreme_values() {
        assert_eq!(summarize(&empty()), None);
        let mut h = empty();
        record(&mut h, Duration::ZERO);
        record(&mut h, Duration::from_secs(3600));
        let s = summarize(&h).expect("samples");
        assert_eq!(s.count, 2);
        assert_eq!(h.min(), 1, "below a microsecond counts as one");
        assert!(s.max >= HIGHEST_US && s.max <= HIGHEST_US + HIGHEST_US / 1000, "an hour is clamped: {}", s.max);
    }

    #[test]
    fn counts_merge_and_report() {
        let mut a = Counts::new(&empty());
        a.response(200, Duration::from_micros(100));
        a.response(503, Duration::from_micros(50));
        a.transport_error("connect");
        a.connects = 2;
        let mut b = Counts::new(&empty());
        b.response(200, Duration::from_micros(300));
        b.response(503, Duration::from_micros(60));
        b.response(400, Duration::from_micros(70));
        b.missed = 4;
        record(&mut b.send_lag, Duration::from_micros(20));
        b.connects = 1;
        a.merge(b);
        assert_eq!((a.requests, a.ok, a.responses(), a.missed, a.connects), (6, 2, 5, 4, 3));
        let info = RunInfo {
            url: "http://127.0.0.1:1/v1/login",
            rate: Some(100.0),
            connections: 2,
            duration: Duration::from_secs(2),
            elapsed: Duration::from_secs(2),
            bodies: 3,
            scheduled: Some(10),
        };
        let r = report(&info, &a);
        assert_eq!(r["mode"], "open");
        assert_eq!(r["requests"], 6);
        assert_eq!(r["ok"], 2);
        assert_eq!(r["errors"], json!({"400": 1, "503": 2}));
        assert_eq!(r["transport_errors"], 1);
        assert_eq!(r["transport_error_kinds"], json!({"connect": 1}));
        assert_eq!(r["rps"], 2.5);
        assert_eq!(r["ok_rps"], 1.0);
        assert_eq!(r["latency_us"]["count"], 5);
        assert_eq!(r["latency_us"]["max"], 300);
        assert_eq!(r["missed"], 4);
        assert_eq!(r["scheduled"], 10);
        assert_eq!(r["send_lag_us"]["p50"], 20);
        let closed = report(&RunInfo { rate: None, scheduled: None, ..info }, &Counts::new(&empty()));
        assert_eq!(closed["mode"], "closed");
        assert_eq!(closed["latency_us"], Value::Null);
        assert!(closed.get("missed").is_none());
    }
}
