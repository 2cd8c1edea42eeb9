//! A real server on a loopback port and a real HTTP client for the tests.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value as Json;
use warden_server::{PipelineSpec, Running, Settings, Source};

/// A project folder under the target directory with these files.
pub fn project(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("serve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

/// Settings serving `dir/warden.toml` as pipeline `default`, on a free loopback port.
pub fn settings(dir: &Path) -> Settings {
    let mut s =
        Settings::new(vec![PipelineSpec { name: "default".into(), source: Source::Manifest(dir.join("warden.toml")) }]);
    s.listen = "127.0.0.1:0".parse().unwrap();
    s
}

pub async fn start(settings: Settings) -> Running {
    warden_server::start(settings).await.unwrap_or_else(|e| panic!("the server starts: {e}"))
}

/// One response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Json {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("JSON body ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A keep-alive HTTP/1.1 client.
#[derive(Clone)]
pub struct Http {
    base: String,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
}

impl Http {
    pub fn new(addr: std::net::SocketAddr) -> Http {
        Http { base: format!("http://{addr}"), client: Client::builder(TokioExecutor::new()).build_http() }
    }

    pub async fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: impl Into<Bytes>) -> Reply {
        let mut req = hyper::Request::builder().method(method).uri(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(Full::new(body.into())).unwrap();
        let res = self.client.request(req).await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        Reply { status, headers, body }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send("GET", path, &[], Bytes::new()).await
    }

    pub async fn post(&self, path: &str, body: &Json) -> Reply {
        self.send("POST", path, &[("content-type", "application/json")], serde_json::to_vec(body).unwrap()).await
    }
}

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A login body from an example's sample.
pub fn sample_body(example: &str, sample: &str, now: &str) -> Json {
    let dir = root().join("examples").join(example).join("samples").join(sample);
    let read = |f: &str| -> Json { serde_json::from_slice(&std::fs::read(dir.join(f)).unwrap()).unwrap() };
    serde_json::json!({ "user": read("user.json"), "context": read("context.json"), "now": now })
}
