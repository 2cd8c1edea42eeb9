//! A real HTTP upstream on a loopback port for tests of rules that call out: plain HTTP or
//! HTTPS with a certificate from a test CA made at run time. Each request is recorded
//! (`METHOD /path?query body`) and answered by the test's handler, which may delay its answer
//! or never answer.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

/// What the upstream answers.
pub enum Answer {
    Reply {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        delay: Duration,
    },
    /// Holds the connection open and never answers.
    Never,
}

impl Answer {
    pub fn json(status: u16, body: &serde_json::Value) -> Answer {
        Answer::Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
            delay: Duration::ZERO,
        }
    }
    pub fn text(status: u16, body: &str) -> Answer {
        Answer::Reply { status, headers: Vec::new(), body: body.as_bytes().to_vec(), delay: Duration::ZERO }
    }
    pub fn redirect(status: u16, to: &str) -> Answer {
        Answer::Reply { status, headers: vec![("location".into(), to.into())], body: Vec::new(), delay: Duration::ZERO }
    }
    pub fn after(self, delay: Duration) -> Answer {
        match self {
            Answer::Reply { status, headers, body, .. } => Answer::Reply { status, headers, body, delay },
            never => never,
        }
    }
}

/// A request as the handler sees it.
pub struct Seen {
    /// `HTTP/1.1`, `HTTP/2.0`.
    pub version: String,
    pub method: String,
    /// Path and query.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

type Handler = Arc<dyn Fn(&Seen) -> Answer + Send + Sync>;

/// A running upstream; stops when dropped.
pub struct Upstream {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Upstream {
    /// Plain HTTP on 127.0.0.1.
    pub fn http(handler: impl Fn(&Seen) -> Answer + Send + Sync + 'static) -> Upstream {
        Upstream::start(Arc::new(handler), None)
    }

    /// HTTPS on 127.0.0.1 with `ca`'s certificate for `api.test` and `localhost`.
    pub fn https(ca: &TestCa, handler: impl Fn(&Seen) -> Answer + Send + Sync + 'static) -> Upstream {
        Upstream::start(Arc::new(handler), Some(ca.acceptor()))
    }

    /// HTTPS on 127.0.0.1 with a certificate and key given as PEM (a PKCS#8 key).
    pub fn https_pem(
        cert_pem: &str,
        key_pem: &str,
        handler: impl Fn(&Seen) -> Answer + Send + Sync + 'static,
    ) -> Upstream {
        use tokio_rustls::rustls::pki_types::pem::PemObject;
        let cert = tokio_rustls::rustls::pki_types::CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap();
        let key = tokio_rustls::rustls::pki_types::PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
        Upstream::start(Arc::new(handler), Some(acceptor(cert, key)))
    }

    fn start(handler: Handler, tls: Option<tokio_rustls::TlsAcceptor>) -> Upstream {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let (handler, log, tls) = (handler.clone(), log.clone(), tls.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| answer(req, handler.clone(), log.clone()));
                    // HTTP/1.1, or HTTP/2 when TLS negotiated it (ALPN).
                    let http = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
                    match tls {
                        Some(tls) => {
                            if let Ok(stream) = tls.accept(stream).await {
                                let _ = http.serve_connection(TokioIo::new(stream), service).await;
                            }
                        }
                        None => {
                            let _ = http.http1_only().serve_connection(TokioIo::new(stream), service).await;
                        }
                    }
                });
            }
        });
        Upstream { addr, seen, runtime: Some(runtime) }
    }

    /// `http://127.0.0.1:PORT`
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The requests received so far, `METHOD /target` (and ` BODY` when there was one).
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits up to 10 s for at least `n` requests.
    pub fn wait_for(&self, n: usize) -> Vec<String> {
        for _ in 0..200 {
            if self.seen().len() >= n {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.seen()
    }
}

async fn answer(
    req: hyper::Request<Incoming>,
    handler: Handler,
    log: Arc<Mutex<Vec<String>>>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let version = format!("{:?}", req.version());
    let method = req.method().to_string();
    let target = req.uri().path_and_query().map_or("/".to_string(), |p| p.to_string());
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let seen = Seen { version, method, target, headers, body: String::from_utf8_lossy(&body).into_owned() };
    let line = if seen.body.is_empty() {
        format!("{} {}", seen.method, seen.target)
    } else {
        format!("{} {} {}", seen.method, seen.target, seen.body)
    };
    log.lock().unwrap().push(line);
    match handler(&seen) {
        Answer::Never => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(hyper::Response::new(Full::new(Bytes::new())))
        }
        Answer::Reply { status, headers, body, delay } => {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let mut resp = hyper::Response::builder().status(status);
            for (k, v) in headers {
                resp = resp.header(k, v);
            }
            Ok(resp.body(Full::new(Bytes::from(body))).unwrap())
        }
    }
}

/// A certificate authority made for one test run, and a server certificate it signed for
/// `api.test` and `localhost`.
pub struct TestCa {
    pub ca_pem: String,
    cert_der: Vec<u8>,
    key_der: Vec<u8>,
}

impl TestCa {
    pub fn new() -> TestCa {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.distinguished_name.push(rcgen::DnType::CommonName, "warden test CA");
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["api.test".to_string(), "localhost".to_string()]).unwrap();
        let cert = leaf.signed_by(&key, &ca_cert, &ca_key).unwrap();
        TestCa { ca_pem: ca_cert.pem(), cert_der: cert.der().to_vec(), key_der: key.serialize_der() }
    }

    fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        acceptor(
            self.cert_der.clone().into(),
            tokio_rustls::rustls::pki_types::PrivateKeyDer::Pkcs8(self.key_der.clone().into()),
        )
    }
}

fn acceptor(
    cert: tokio_rustls::rustls::pki_types::CertificateDer<'static>,
    key: tokio_rustls::rustls::pki_types::PrivateKeyDer<'static>,
) -> tokio_rustls::TlsAcceptor {
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}
