//! The connections and the two loops.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{CONTENT_TYPE, HOST, HeaderName, HeaderValue};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::{Barrier, Mutex, mpsc};

use crate::args::{Mode, Target};
use crate::schedule::Schedule;
use crate::stats::{Counts, record};

/// Everything a connection needs, shared.
#[derive(Debug)]
pub struct Plan {
    pub target: Target,
    pub bodies: Vec<Bytes>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub connections: u32,
    pub duration: Duration,
    pub timeout: Duration,
    pub max_requests: Option<u64>,
    pub mode: Mode,
}

/// What a run measured.
#[derive(Debug)]
pub struct Measured {
    pub counts: Counts,
    pub elapsed: Duration,
    /// Open loop: the number of requests the schedule held.
    pub scheduled: Option<u64>,
}

type Sender = SendRequest<Full<Bytes>>;

/// One keep-alive connection, reopened after a failure.
struct Conn {
    plan: Arc<Plan>,
    sender: Option<Sender>,
}

impl Conn {
    async fn open(&mut self, counts: &mut Counts) -> Result<(), &'static str> {
        let stream =
            TcpStream::connect((self.plan.target.host.as_str(), self.plan.target.port)).await.map_err(|_| "connect")?;
        stream.set_nodelay(true).map_err(|_| "connect")?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await.map_err(|_| "connect")?;
        // The connection's own task; its errors surface on the next request through `sender`.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        counts.connects += 1;
        self.sender = Some(sender);
        Ok(())
    }

    /// A sender ready for a request: the open one, or a new connection when the server closed
    /// it between requests (which is not counted as an error).
    async fn ready(&mut self, counts: &mut Counts) -> Result<&mut Sender, &'static str> {
        let reusable = match self.sender.as_mut() {
            Some(s) if !s.is_closed() => s.ready().await.is_ok(),
            _ => false,
        };
        if !reusable {
            self.open(counts).await?;
        }
        let sender = self.sender.as_mut().ok_or("connect")?;
        if !reusable {
            sender.ready().await.map_err(|_| "connect")?;
        }
        Ok(sender)
    }

    /// Sends request `k` (body `k` modulo the bodies) and reads the whole response; the
    /// status, or what failed. A failure closes the connection.
    async fn exchange(&mut self, k: u64, counts: &mut Counts) -> Result<u16, &'static str> {
        let plan = Arc::clone(&self.plan);
        let result = tokio::time::timeout(plan.timeout, async {
            let request = request(&plan, k)?;
            let sender = self.ready(counts).await?;
            let response = sender.send_request(request).await.map_err(|_| "send")?;
            let status = response.status().as_u16();
            response.into_body().collect().await.map_err(|_| "read")?;
            Ok(status)
        })
        .await;
        let outcome = result.unwrap_or(Err("timeout"));
        if outcome.is_err() {
            self.sender = None;
        }
        outcome
    }
}

fn request(plan: &Plan, k: u64) -> Result<Request<Full<Bytes>>, &'static str> {
    let n = plan.bodies.len().max(1) as u64;
    let body = plan.bodies.get((k % n) as usize).cloned().unwrap_or_default();
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri(plan.target.path.as_str())
        .header(HOST, plan.target.authority.as_str())
        .header(CONTENT_TYPE, "application/json");
    for (name, value) in &plan.headers {
        builder = builder.header(name, value);
    }
    builder.body(Full::new(body)).map_err(|_| "request")
}

/// Runs the plan to the end (its duration, or its maximum number of requests, plus the
/// requests in flight then, each bounded by the timeout).
pub async fn run(plan: Plan, empty: &Histogram<u64>) -> Measured {
    let plan = Arc::new(plan);
    // Every connection is opened before the clock starts, so that connecting is not timed.
    let barrier = Arc::new(Barrier::new(plan.connections as usize + 1));
    let started = Arc::new(std::sync::OnceLock::<Instant>::new());
    let mut tasks = Vec::new();
    let mut scheduled = None;
    match plan.mode {
        Mode::Closed => {
            let next = Arc::new(AtomicU64::new(0));
            for _ in 0..plan.connections {
                let (plan, barrier, started, next) = (plan.clone(), barrier.clone(), started.clone(), next.clone());
                let counts = Counts::new(empty);
                tasks.push(tokio::spawn(closed_loop(plan, barrier, started, next, counts)));
            }
            barrier.wait().await;
        }
        Mode::Open { rate } => {
            let schedule = Schedule::new(rate, plan.duration, plan.max_requests);
            scheduled = Some(schedule.len());
            let (tx, rx) = mpsc::unbounded_channel::<Job>();
            let rx = Arc::new(Mutex::new(rx));
            for _ in 0..plan.connections {
                let (plan, barrier, started, rx) = (plan.clone(), barrier.clone(), started.clone(), rx.clone());
                let counts = Counts::new(empty);
                tasks.push(tokio::spawn(open_loop(plan, barrier, started, rx, counts)));
            }
            barrier.wait().await;
            let start = *started.get_or_init(Instant::now);
            // The pacer: a thread of its own that sleeps until each due time (about 50-100 µs
            // of precision, where the runtime's timers have 1 ms) and hands the request to
            // whichever connection is free. Due times never move: a late server makes
            // requests wait, and their wait counts in their latency.
            std::thread::spawn(move || {
                let mut i = 0;
                while let Some(offset) = schedule.offset(i) {
                    let due = start + offset;
                    let now = Instant::now();
                    if due > now {
                        std::thread::sleep(due - now);
                    }
                    if tx.send(Job { index: i, due }).is_err() {
                        break;
                    }
                    i += 1;
                }
            });
        }
    }
    let start = *started.get_or_init(Instant::now);
    let mut counts = Counts::new(empty);
    for task in tasks {
        match task.await {
            Ok(c) => counts.merge(c),
            Err(_) => counts.transport_error("task"),
        }
    }
    Measured { counts, elapsed: start.elapsed(), scheduled }
}

async fn connect_then_wait(
    conn: &mut Conn,
    counts: &mut Counts,
    barrier: &Barrier,
    started: &std::sync::OnceLock<Instant>,
) -> Instant {
    // A failure here is retried on the first request, and counted then.
    let _ = tokio::time::timeout(conn.plan.timeout, conn.open(counts)).await;
    barrier.wait().await;
    *started.get_or_init(Instant::now)
}

async fn closed_loop(
    plan: Arc<Plan>,
    barrier: Arc<Barrier>,
    started: Arc<std::sync::OnceLock<Instant>>,
    next: Arc<AtomicU64>,
    mut counts: Counts,
) -> Counts {
    let mut conn = Conn { plan: plan.clone(), sender: None };
    let start = connect_then_wait(&mut conn, &mut counts, &barrier, &started).await;
    let deadline = start + plan.duration;
    while Instant::now() < deadline {
        let k = next.fetch_add(1, Ordering::Relaxed);
        if plan.max_requests.is_some_and(|max| k >= max) {
            break;
        }
        let sent = Instant::now();
        match conn.exchange(k, &mut counts).await {
            Ok(status) => counts.response(status, sent.elapsed()),
            Err(kind) => {
                counts.transport_error(kind);
                pause_after(kind).await;
            }
        }
    }
    counts
}

/// How long after the duration a due request may still be sent (open loop).
pub const MISSED_AFTER: Duration = Duration::from_secs(1);

/// One due request of the open loop.
#[derive(Debug)]
struct Job {
    index: u64,
    due: Instant,
}

async fn open_loop(
    plan: Arc<Plan>,
    barrier: Arc<Barrier>,
    started: Arc<std::sync::OnceLock<Instant>>,
    jobs: Arc<Mutex<mpsc::UnboundedReceiver<Job>>>,
    mut counts: Counts,
) -> Counts {
    let mut conn = Conn { plan: plan.clone(), sender: None };
    let start = connect_then_wait(&mut conn, &mut counts, &barrier, &started).await;
    // Every request is due before the duration ends; one still waiting for a connection a
    // second after that is not sent (it counts as missed), so that a server that fell far
    // behind does not keep the run going.
    let cutoff = start + plan.duration + MISSED_AFTER;
    loop {
        let job = jobs.lock().await.recv().await;
        let Some(job) = job else { break };
        let now = Instant::now();
        if now >= cutoff {
            counts.missed += 1;
            continue;
        }
        record(&mut counts.send_lag, now.saturating_duration_since(job.due));
        match conn.exchange(job.index, &mut counts).await {
            Ok(status) => {
                record(&mut counts.service, now.elapsed());
                counts.response(status, job.due.elapsed())
            }
            Err(kind) => {
                counts.transport_error(kind);
                pause_after(kind).await;
            }
        }
    }
    counts
}

/// After a failed connect, wait a little rather than spin against a server that is down.
async fn pause_after(kind: &str) {
    if kind == "connect" {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
