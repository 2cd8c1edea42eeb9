//! HTTP for JavaScript rules (issue 18; ARCHITECTURE.md, "JavaScript execution model").
//!
//! A rule's `request`, `axios` or `fetch` call reaches [`start`] through the host function
//! `__host_http`: the pipeline's `[http]` policy is checked there, synchronously (scheme,
//! allowlist, the login's request count), and the exchange then runs on this process's one
//! I/O thread (a tokio runtime), through the pipeline's client (hyper, rustls with the webpki
//! roots, HTTP/1.1 and HTTP/2, connections pooled per origin). Every connection is opened by
//! [`Guarded`], which checks the address it connects to: loopback, private, link-local and
//! other special addresses are refused unless an allow entry names that address literally,
//! or `resolve` maps the origin there, so a host name that resolves to a private address (or
//! is rebound to one) is refused. Redirects are followed here, each hop checked like the
//! first.
//!
//! The answer goes back to the login's thread on a channel: the sandbox waits on it
//! ([`wait`]) when the rule has nothing else to run, a blocked thread and no CPU, until the
//! response or the login's deadline. With a script of canned exchanges (`warden test`) the
//! same checks run and nothing leaves the process.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use serde::Deserialize;
use serde_json::json;
use warden_ir::HttpPolicy;
use warden_runtime::NetState;

/// The most bytes a request body may have.
pub const MAX_REQUEST_BODY: usize = 1024 * 1024;

type Body = Full<Bytes>;
type HttpClient = Client<hyper_rustls::HttpsConnector<Guarded>, Body>;

/// A pipeline's HTTP: its policy and its client (made on the first request).
#[derive(Debug)]
pub(crate) struct Net {
    policy: Arc<Policy>,
    client: OnceLock<Result<HttpClient, String>>,
}

#[derive(Debug)]
struct Policy {
    allow: Vec<Allowed>,
    max_requests: u32,
    max_response_bytes: u64,
    timeout: Duration,
    max_redirects: u32,
    /// `(host, port)` to the address to connect to instead.
    resolve: HashMap<(String, u16), SocketAddr>,
    ca_pem: Option<String>,
}

#[derive(Debug)]
struct Allowed {
    scheme: String,
    host: String,
    port: u16,
    /// The path the URL must start with (`/` for a whole origin).
    path: String,
}

/// Why a request failed, as the rule sees it (`err.code`, `err.message`).
#[derive(Debug)]
pub(crate) struct NetError {
    code: &'static str,
    message: String,
}

impl NetError {
    fn new(code: &'static str, message: impl Into<String>) -> NetError {
        NetError { code, message: message.into() }
    }
    /// Refused by the manifest's `[http]` policy.
    fn policy(message: impl Into<String>) -> NetError {
        NetError::new("EPOLICY", message)
    }
}

/// A response as the rule gets it.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    url: String,
    redirected: bool,
}

impl Net {
    pub(crate) fn new(p: &HttpPolicy) -> Net {
        let allow = p
            .allow
            .iter()
            .filter_map(|a| url::Url::parse(a).ok())
            .filter_map(|u| {
                Some(Allowed {
                    scheme: u.scheme().to_string(),
                    host: u.host_str()?.to_ascii_lowercase(),
                    port: u.port_or_known_default()?,
                    path: u.path().to_string(),
                })
            })
            .collect();
        let resolve = p
            .resolve
            .iter()
            .filter_map(|(from, to)| {
                let (host, port) = from.rsplit_once(':')?;
                Some(((host.to_ascii_lowercase(), port.parse().ok()?), to.parse().ok()?))
            })
            .collect();
        let policy = Policy {
            allow,
            max_requests: p.max_requests,
            max_response_bytes: p.max_response_bytes,
            timeout: Duration::from_millis(p.timeout_ms),
            max_redirects: p.max_redirects,
            resolve,
            ca_pem: p.ca_pem.clone(),
        };
        Net { policy: Arc::new(policy), client: OnceLock::new() }
    }

    fn client(&self) -> Result<HttpClient, NetError> {
        self.client
            .get_or_init(|| client(&self.policy))
            .clone()
            .map_err(|m| NetError::new("ETLS", format!("cannot set up HTTPS: {m}")))
    }
}

fn client(policy: &Arc<Policy>) -> Result<HttpClient, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = &policy.ca_pem {
        use rustls::pki_types::pem::PemObject;
        for cert in rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let cert = cert.map_err(|e| format!("ca_file: {e}"))?;
            roots.add(cert).map_err(|e| format!("ca_file: {e}"))?;
        }
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(Guarded(policy.clone()));
    Ok(Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .pool_timer(TokioTimer::new())
        .build(https))
}

impl Policy {
    /// A request's time limit: the policy's, or the rule's own when shorter.
    fn limit(&self, rule: Option<f64>) -> Duration {
        match rule.filter(|ms| *ms > 0.0 && ms.is_finite()) {
            Some(ms) => self.timeout.min(Duration::from_millis(ms as u64)),
            None => self.timeout,
        }
    }

    /// The URL is one the allowlist names (its origin, and its path under the entry's).
    fn check(&self, url: &url::Url) -> Result<(), NetError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(NetError::policy(format!("{}: only http and https URLs can be called", url.scheme())));
        }
        let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
            return Err(NetError::policy(format!("{url} has no host")));
        };
        let host = host.to_ascii_lowercase();
        let allowed = self
            .allow
            .iter()
            .any(|a| a.scheme == url.scheme() && a.host == host && a.port == port && url.path().starts_with(&a.path));
        if allowed {
            Ok(())
        } else {
            Err(NetError::policy(format!("{} is not allowed by the manifest's [http] allow", without_query(url))))
        }
    }

    /// The addresses to connect to for `host:port`: the `resolve` override, the literal
    /// address an allow entry names, or the DNS answer without the addresses rules may not
    /// reach.
    async fn addresses(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, NetError> {
        let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        if let Some(to) = self.resolve.get(&(host.clone(), port)) {
            return Ok(vec![*to]);
        }
        if let Ok(ip) = host.parse::<IpAddr>() {
            // A literal address is reachable when an allow entry names it (the allowlist
            // already matched the URL: this also covers connections it did not see).
            let named = self.allow.iter().any(|a| a.host.trim_start_matches('[').trim_end_matches(']') == host);
            if special(ip) && !named {
                return Err(NetError::policy(format!("{ip} is a private or special address")));
            }
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        let found = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|e| NetError::new("ENOTFOUND", format!("{host}: {e}")))?;
        let (refused, public): (Vec<SocketAddr>, Vec<SocketAddr>) = found.partition(|a| special(a.ip()));
        if public.is_empty() {
            return Err(match refused.first() {
                Some(a) => NetError::policy(format!("{host} resolves to {}, a private or special address", a.ip())),
                None => NetError::new("ENOTFOUND", format!("{host} has no address")),
            });
        }
        Ok(public)
    }
}

fn without_query(url: &url::Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    let _ = u.set_password(None);
    let _ = u.set_username("");
    u.to_string()
}

/// Addresses a rule may not reach unless the manifest names them: loopback, private,
/// link-local (cloud metadata: 169.254.169.254), carrier-grade NAT, unique-local IPv6
/// (fd00::/8, fd00:ec2::254), multicast, unspecified, reserved, and IPv6 forms that embed
/// such an IPv4 address.
pub fn special(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => special_v4(a),
        IpAddr::V6(a) => special_v6(a),
    }
}

fn special_v4(a: Ipv4Addr) -> bool {
    let [o0, o1, o2, _] = a.octets();
    a.is_loopback()
        || a.is_private()
        || a.is_link_local()
        || a.is_unspecified()
        || a.is_broadcast()
        || a.is_multicast()
        || o0 == 0
        || (o0 == 100 && (64..128).contains(&o1)) // 100.64.0.0/10, shared address space
        || (o0 == 192 && o1 == 0 && o2 == 0) // 192.0.0.0/24, protocol assignments
        || (o0 == 198 && (o1 == 18 || o1 == 19)) // 198.18.0.0/15, benchmarking
        || o0 >= 240 // 240.0.0.0/4, reserved
}

fn special_v6(a: Ipv6Addr) -> bool {
    let s = a.segments();
    if let Some(v4) = a.to_ipv4_mapped() {
        return special_v4(v4);
    }
    let embedded = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    a.is_loopback()
        || a.is_unspecified()
        || a.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // fc00::/7, unique local
        || (s[0] & 0xffc0) == 0xfe80 // fe80::/10, link-local
        || (s[0] & 0xffc0) == 0xfec0 // fec0::/10, site-local
        || (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0 && s[4] == 0 && s[5] == 0) // ::a.b.c.d
        || (s[0] == 0x64 && s[1] == 0xff9b && special_v4(embedded(s[6], s[7]))) // NAT64
        || (s[0] == 0x2002 && special_v4(embedded(s[1], s[2]))) // 6to4
}

/// The connector under TLS: every connection the client opens goes through the address
/// check.
#[derive(Clone, Debug)]
struct Guarded(Arc<Policy>);

type Connecting = Pin<Box<dyn Future<Output = Result<TokioIo<tokio::net::TcpStream>, BoxError>> + Send>>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl tower_service::Service<hyper::Uri> for Guarded {
    type Response = TokioIo<tokio::net::TcpStream>;
    type Error = BoxError;
    type Future = Connecting;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: hyper::Uri) -> Connecting {
        let policy = self.0.clone();
        Box::pin(async move {
            let host = uri.host().unwrap_or_default().to_string();
            let port = uri.port_u16().unwrap_or(if uri.scheme_str() == Some("https") { 443 } else { 80 });
            let addrs = policy.addresses(&host, port).await.map_err(|e| Box::new(Refused(e)) as BoxError)?;
            let mut last = None;
            for addr in addrs {
                match tokio::net::TcpStream::connect(addr).await {
                    Ok(s) => {
                        let _ = s.set_nodelay(true);
                        return Ok(TokioIo::new(s));
                    }
                    Err(e) => last = Some(e),
                }
            }
            Err(last.map_or_else(|| "no address to connect to".into(), |e| Box::new(e) as BoxError))
        })
    }
}

/// An address check's refusal, carried through hyper's error to the rule.
#[derive(Debug)]
struct Refused(NetError);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl std::error::Error for Refused {}

/// This process's I/O thread: a tokio runtime with one worker.
fn io() -> Result<&'static tokio::runtime::Runtime, NetError> {
    static IO: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    IO.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("warden-http")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|m| NetError::new("EIO", format!("cannot start the HTTP thread: {m}")))
}

// ---------------------------------------------------------------------------------------
// One exchange.

/// What a rule asks for (the prelude builds it from `request`, `axios` or `fetch` options).
#[derive(Debug, Deserialize)]
struct Spec {
    method: String,
    url: String,
    #[serde(default)]
    headers: Vec<(String, String)>,
    body: Option<String>,
    /// The rule's own timeout in milliseconds (within the policy's).
    timeout: Option<f64>,
}

async fn exchange(
    net: Arc<Net>,
    spec: Spec,
    url: url::Url,
    deadline: Instant,
    used: Arc<AtomicU64>,
) -> Result<Reply, NetError> {
    let client = net.client()?;
    let policy = &net.policy;
    let limit = policy.limit(spec.timeout);
    // Past the login's deadline nobody waits for the answer (the rule timed out): the
    // exchange stops a little later, freeing its connection.
    let until = (Instant::now() + limit).min(deadline);
    let timeout = limit.min(deadline.saturating_duration_since(Instant::now()) + Duration::from_millis(100));
    let mut method = hyper::Method::from_bytes(spec.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| NetError::new("EINVAL", format!("{} is not an HTTP method", spec.method)))?;
    let mut headers = Vec::with_capacity(spec.headers.len() + 1);
    for (k, v) in &spec.headers {
        let name = hyper::header::HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| NetError::new("EINVAL", format!("{k:?} is not a header name")))?;
        let value = hyper::header::HeaderValue::from_str(v)
            .map_err(|_| NetError::new("EINVAL", format!("the value of header {k} is not valid")))?;
        if matches!(name.as_str(), "host" | "content-length" | "connection" | "transfer-encoding" | "upgrade" | "te") {
            continue;
        }
        headers.push((name, value));
    }
    if !headers.iter().any(|(n, _)| n == hyper::header::USER_AGENT) {
        headers.push((hyper::header::USER_AGENT, hyper::header::HeaderValue::from_static("warden")));
    }
    let mut body = spec.body.map(Bytes::from);
    let mut url = url;
    let mut redirected = false;
    let origin = url.origin();
    let work = async {
        for hop in 0..=policy.max_redirects {
            policy.check(&url)?;
            let mut req = hyper::Request::builder().method(method.clone()).uri(url.as_str());
            for (n, v) in &headers {
                // Credentials go only to the origin the rule named.
                if hop > 0
                    && url.origin() != origin
                    && (n == hyper::header::AUTHORIZATION || n == hyper::header::COOKIE)
                {
                    continue;
                }
                req = req.header(n, v);
            }
            let req = req
                .body(Full::new(body.clone().unwrap_or_default()))
                .map_err(|e| NetError::new("EINVAL", format!("cannot make the request: {e}")))?;
            let resp = client.request(req).await.map_err(connect_error)?;
            let status = resp.status().as_u16();
            let location = resp.headers().get(hyper::header::LOCATION).and_then(|l| l.to_str().ok()).map(String::from);
            if let (301 | 302 | 303 | 307 | 308, Some(location)) = (status, location) {
                if hop == policy.max_redirects {
                    return Err(NetError::new("EREDIRECT", format!("more than {} redirects", policy.max_redirects)));
                }
                url = url
                    .join(&location)
                    .map_err(|_| NetError::new("EREDIRECT", format!("bad redirect to {location}")))?;
                if status == 303 || ((status == 301 || status == 302) && method == hyper::Method::POST) {
                    if method != hyper::Method::HEAD {
                        method = hyper::Method::GET;
                    }
                    body = None;
                }
                redirected = true;
                continue;
            }
            let headers: Vec<(String, String)> = resp
                .headers()
                .iter()
                .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                .collect();
            let mut bytes = Vec::new();
            let mut incoming = resp.into_body();
            while let Some(frame) = incoming.frame().await {
                let frame = frame.map_err(|e| NetError::new("ECONNRESET", format!("reading the response: {e}")))?;
                if let Ok(data) = frame.into_data() {
                    let total = used.fetch_add(data.len() as u64, Ordering::Relaxed) + data.len() as u64;
                    if total > policy.max_response_bytes {
                        return Err(NetError::new(
                            "ELIMIT",
                            format!(
                                "the responses are larger than the login's [http] max_response_bytes ({})",
                                policy.max_response_bytes
                            ),
                        ));
                    }
                    bytes.extend_from_slice(&data);
                }
            }
            return Ok(Reply {
                status,
                headers,
                body: String::from_utf8_lossy(&bytes).into_owned(),
                url: url.to_string(),
                redirected,
            });
        }
        Err(NetError::new("EREDIRECT", "too many redirects"))
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(r) => r,
        Err(_) if until >= deadline => Err(NetError::new("ETIMEDOUT", "the login's deadline passed")),
        Err(_) => Err(NetError::new("ETIMEDOUT", format!("no response within {} ms", limit.as_millis()))),
    }
}

/// A client error as the rule sees it: the address check's refusal, or a network error.
fn connect_error(e: hyper_util::client::legacy::Error) -> NetError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if let Some(Refused(r)) = s.downcast_ref::<Refused>() {
            return NetError::new(r.code, r.message.clone());
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            let code = match io.kind() {
                std::io::ErrorKind::ConnectionRefused => "ECONNREFUSED",
                std::io::ErrorKind::ConnectionReset => "ECONNRESET",
                std::io::ErrorKind::TimedOut => "ETIMEDOUT",
                _ => "ENETWORK",
            };
            return NetError::new(code, io.to_string());
        }
        source = s.source();
    }
    let mut message = e.to_string();
    let mut s = std::error::Error::source(&e);
    while let Some(inner) = s {
        message = format!("{message}: {inner}");
        s = inner.source();
    }
    NetError::new("ENETWORK", message)
}

/// Exchanges of this process still running (fire-and-forget requests included).
static OUTSTANDING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Runs `task` on the I/O thread, counted in [`OUTSTANDING`] until it ends.
fn spawn(io: &tokio::runtime::Runtime, task: impl Future<Output = ()> + Send + 'static) {
    OUTSTANDING.fetch_add(1, Ordering::SeqCst);
    io.spawn(async move {
        task.await;
        OUTSTANDING.fetch_sub(1, Ordering::SeqCst);
    });
}

/// Waits up to `wait` for this process's requests still running (a rule that called back
/// without waiting for its notification to be sent) to end; how many are left. A process
/// about to exit (`warden run`, a worker whose host is gone) calls it.
pub fn settle(wait: Duration) -> usize {
    let until = Instant::now() + wait;
    loop {
        let left = OUTSTANDING.load(Ordering::SeqCst);
        if left == 0 || Instant::now() >= until {
            return left;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

// ---------------------------------------------------------------------------------------
// The login's side: the thread running a rule.

type Done = (u32, Result<Reply, NetError>);

/// The HTTP state of the login whose rule this thread is running.
struct Login {
    net: Option<Arc<Net>>,
    state: NetState,
    deadline: Instant,
    /// Made by the rule's first request (most rules make none: nothing is allocated for them).
    wire: Option<Wire>,
    inflight: usize,
    next: u32,
}

/// Where a rule's answers come back, and the response bytes its login has read.
struct Wire {
    tx: Sender<Done>,
    rx: Receiver<Done>,
    used: Arc<AtomicU64>,
}

impl Login {
    fn wire(&mut self) -> &Wire {
        let bytes = self.state.bytes;
        self.wire.get_or_insert_with(|| {
            let (tx, rx) = channel();
            Wire { tx, rx, used: Arc::new(AtomicU64::new(bytes)) }
        })
    }
}

thread_local! {
    static LOGIN: RefCell<Option<Login>> = const { RefCell::new(None) };
}

/// Makes `state` the current login's on this thread while a rule runs (see [`leave`]).
pub(crate) fn enter(net: Option<Arc<Net>>, state: NetState, deadline: Instant) {
    LOGIN.with(|l| *l.borrow_mut() = Some(Login { net, state, deadline, wire: None, inflight: 0, next: 1 }));
}

/// Ends the rule's HTTP: its state (requests still in flight finish on their own, unheard).
pub(crate) fn leave() -> NetState {
    LOGIN.with(|l| match l.borrow_mut().take() {
        Some(mut login) => {
            if let Some(wire) = &login.wire {
                login.state.bytes = wire.used.load(Ordering::Relaxed);
            }
            login.state
        }
        None => NetState::default(),
    })
}

/// Requests of the current rule not answered yet.
pub(crate) fn inflight() -> usize {
    LOGIN.with(|l| l.borrow().as_ref().map_or(0, |l| l.inflight))
}

/// The next answer, waiting at most `wait` (a blocked thread); `None` when none came.
pub(crate) fn wait(wait: Duration) -> Option<(u32, String)> {
    let done = LOGIN.with(|l| {
        let l = l.borrow();
        let login = l.as_ref()?;
        if login.inflight == 0 {
            return None;
        }
        login.wire.as_ref()?.rx.recv_timeout(wait).ok()
    })?;
    LOGIN.with(|l| {
        if let Some(login) = l.borrow_mut().as_mut() {
            login.inflight = login.inflight.saturating_sub(1);
        }
    });
    Some((done.0, answer(done.1)))
}

/// An answer as the JSON text `__warden.deliver` takes.
fn answer(r: Result<Reply, NetError>) -> String {
    match r {
        Ok(r) => json!({
            "status": r.status,
            "headers": r.headers,
            "body": r.body,
            "url": r.url,
            "redirected": r.redirected,
        })
        .to_string(),
        Err(e) => json!({ "error": { "code": e.code, "message": e.message } }).to_string(),
    }
}

/// `__host_http(specJson)`: starts a request for the current rule. `{"id": n}`: the answer
/// comes to `__warden.deliver(n, ...)`; `{"error": ...}`: refused before anything was sent.
pub(crate) fn start(spec: &str) -> String {
    let refused = |e: NetError| json!({ "error": { "code": e.code, "message": e.message } }).to_string();
    LOGIN.with(|l| {
        let mut l = l.borrow_mut();
        let Some(login) = l.as_mut() else {
            return refused(NetError::policy("HTTP requests can be made only while a rule runs"));
        };
        if spec.len() > MAX_REQUEST_BODY + 64 * 1024 {
            return refused(NetError::new("ELIMIT", format!("a request body is at most {MAX_REQUEST_BODY} bytes")));
        }
        let spec: Spec = match serde_json::from_str(spec) {
            Ok(s) => s,
            Err(e) => return refused(NetError::new("EINVAL", format!("not a request: {e}"))),
        };
        // CONNECT would open a tunnel and TRACE echoes the request (credentials included):
        // neither is a web API call.
        let method = spec.method.to_ascii_uppercase();
        if matches!(method.as_str(), "CONNECT" | "TRACE") || hyper::Method::from_bytes(method.as_bytes()).is_err() {
            return refused(NetError::new("EINVAL", format!("{:?} requests cannot be made", spec.method)));
        }
        let Some(net) = login.net.clone() else {
            return refused(NetError::policy(format!(
                "{}: the manifest has no [http] section, so rules cannot make requests",
                spec.url
            )));
        };
        let url = match url::Url::parse(&spec.url) {
            Ok(u) => u,
            Err(_) => return refused(NetError::new("EINVAL", format!("{:?} is not a URL", spec.url))),
        };
        if let Err(e) = net.policy.check(&url) {
            return refused(e);
        }
        if login.state.requests >= net.policy.max_requests {
            return refused(NetError::new(
                "ELIMIT",
                format!("more than the login's [http] max_requests ({}) requests", net.policy.max_requests),
            ));
        }
        login.state.requests += 1;
        let io = match io() {
            Ok(io) => io,
            Err(e) => return refused(e),
        };
        let id = login.next;
        login.next += 1;
        let (tx, used) = {
            let wire = login.wire();
            (wire.tx.clone(), wire.used.clone())
        };
        let deadline = login.deadline;
        if let Some(script) = login.state.script.clone() {
            // A test: the first unused exchange the request matches answers it, after its
            // delay; a request that matches none fails as a network error would.
            let found = script.iter().enumerate().find(|(i, e)| {
                !login.state.used.contains(&(*i as u32))
                    && e.method.eq_ignore_ascii_case(&spec.method)
                    && same_url(&e.url, &url)
                    && e.body_matches(spec.body.as_deref())
            });
            let result = match found {
                Some((i, e)) => {
                    login.state.used.push(i as u32);
                    let mut headers: Vec<(String, String)> =
                        e.headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).collect();
                    if e.json.is_some() && !headers.iter().any(|(k, _)| k == "content-type") {
                        headers.push(("content-type".into(), "application/json".into()));
                    }
                    let body = e.body_text();
                    let total = used.fetch_add(body.len() as u64, Ordering::Relaxed) + body.len() as u64;
                    let delay = Duration::from_millis(e.delay_ms);
                    if total > net.policy.max_response_bytes {
                        (
                            delay,
                            Err(NetError::new(
                                "ELIMIT",
                                format!(
                                    "the responses are larger than the login's [http] max_response_bytes ({})",
                                    net.policy.max_response_bytes
                                ),
                            )),
                        )
                    } else {
                        (delay, Ok(Reply { status: e.status, headers, body, url: url.to_string(), redirected: false }))
                    }
                }
                None => {
                    let shown = match &spec.body {
                        Some(b) => format!("{} {url} {b}", spec.method.to_ascii_uppercase()),
                        None => format!("{} {url}", spec.method.to_ascii_uppercase()),
                    };
                    login.state.unexpected.push(shown.clone());
                    (Duration::ZERO, Err(NetError::new("ECONNREFUSED", format!("no canned exchange answers {shown}"))))
                }
            };
            login.inflight += 1;
            let limit = net.policy.limit(spec.timeout);
            spawn(io, async move {
                let (delay, result) = result;
                // The upstream's delay against the request's time limit, as on the network.
                let wait = delay.min(limit).min(deadline.saturating_duration_since(Instant::now()));
                tokio::time::sleep(wait).await;
                let result = if wait < delay {
                    Err(NetError::new("ETIMEDOUT", format!("no response within {} ms", limit.as_millis())))
                } else {
                    result
                };
                let _ = tx.send((id, result));
            });
            return json!({ "id": id }).to_string();
        }
        login.inflight += 1;
        spawn(io, async move {
            let result = exchange(net, spec, url, deadline, used).await;
            let _ = tx.send((id, result));
        });
        json!({ "id": id }).to_string()
    })
}

/// A canned exchange's URL names this request's.
fn same_url(canned: &str, url: &url::Url) -> bool {
    url::Url::parse(canned).is_ok_and(|c| &c == url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_addresses() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fd00:ec2::254",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
        ] {
            assert!(special(a.parse().expect("address")), "{a} is special");
        }
        for a in ["8.8.8.8", "203.0.113.7", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"] {
            assert!(!special(a.parse().expect("address")), "{a} is public");
        }
    }

    fn policy(allow: &[&str]) -> Net {
        Net::new(&HttpPolicy {
            allow: allow.iter().map(|s| s.to_string()).collect(),
            max_requests: 10,
            max_response_bytes: 1024,
            timeout_ms: 1000,
            max_redirects: 2,
            resolve: Default::default(),
            ca_pem: None,
        })
    }

    #[test]
    fn the_allowlist_matches_origins_and_prefixes() {
        let net = policy(&["https://api.example.com", "https://hooks.example.com/services/", "http://127.0.0.1:8080"]);
        let ok = |u: &str| net.policy.check(&url::Url::parse(u).expect("url")).is_ok();
        assert!(ok("https://api.example.com/v1/x?y=1"));
        assert!(ok("https://API.example.com:443/"));
        assert!(!ok("http://api.example.com/"), "another scheme");
        assert!(!ok("https://api.example.com:8443/"), "another port");
        assert!(!ok("https://api.example.com.evil.test/"), "a longer host");
        assert!(!ok("https://evil.test/?https://api.example.com"));
        assert!(ok("https://hooks.example.com/services/T1/B2"));
        assert!(!ok("https://hooks.example.com/other"));
        assert!(!ok("https://hooks.example.com/services"), "the prefix ends with its slash");
        assert!(ok("http://127.0.0.1:8080/x"));
        assert!(!ok("http://127.0.0.1:8081/x"));
        assert!(!ok("file:///etc/passwd"));
        assert!(!ok("ftp://api.example.com/"));
    }
}
