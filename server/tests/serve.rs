//! `warden serve` over real HTTP on a loopback port: the native API, errors, limits, keys,
//! overload, reload (under load, failing, watched), decision logs and draining.
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{Http, project, root, sample_body, settings, start};
use serde_json::{Value as Json, json};
use warden_server::{PipelineSpec, Source};

const NOW: &str = "2026-11-26T12:00:00Z";

fn manifest(rules: &[&str], extra: &str) -> String {
    let list: Vec<String> = rules.iter().map(|r| format!("{r:?}")).collect();
    format!("[pipeline]\nrules = [{}]\n{extra}", list.join(", "))
}

const VERSIONED: &str = "rule \"version\" {\n    claim id_token \"https://t.example.com/v\" = \"VERSION\"\n}\n";

fn versioned(v: &str) -> String {
    VERSIONED.replace("VERSION", v)
}

fn login(email: &str) -> Json {
    json!({ "user": { "user_id": "auth0|1", "email": email, "email_verified": true }, "context": { "clientID": "c", "clientName": "App" }, "now": NOW })
}

/// The outcome without what the server adds.
fn outcome_of(reply: &Json) -> Json {
    let mut o = reply.clone();
    let m = o.as_object_mut().unwrap();
    assert!(m.shift_remove("decision_id").is_some_and(|d| d.as_str().is_some_and(|s| s.len() == 36)), "{reply}");
    assert!(m.shift_remove("pipeline").is_some(), "{reply}");
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_native_api_decides_every_quickstart_sample_as_the_library_does() {
    // Small logins of a pipeline without JavaScript are decided on the async worker.
    quickstart_samples(warden_server::settings::DEFAULT_INLINE_MAX_BODY).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_decided_on_the_blocking_pool_answer_the_same() {
    quickstart_samples(0).await;
}

async fn quickstart_samples(inline_max_body: usize) {
    let manifest = root().join("examples/quickstart/warden.toml");
    let mut s = settings(root().join("examples/quickstart").as_path());
    s.inline_max_body = inline_max_body;
    s.pipelines = vec![PipelineSpec { name: "default".into(), source: Source::Manifest(manifest.clone()) }];
    let server = start(s).await;
    let http = Http::new(server.addr);
    let library = warden::Pipeline::from_manifest(&manifest).unwrap();
    let samples = std::fs::read_dir(root().join("examples/quickstart/samples")).unwrap();
    let mut decisions = BTreeMap::new();
    for entry in samples {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let body = sample_body("quickstart", &name, NOW);
        for path in ["/v1/login", "/v1/pipelines/default/login"] {
            let r = http.post(path, &body).await;
            assert_eq!(r.status, 200, "{name}: {}", r.text());
            assert_eq!(r.headers["content-type"], "application/json");
            let j = r.json();
            assert_eq!(j["pipeline"], json!({ "name": "default", "hash": library.content_hash_hex() }));
            let want = library
                .execute(&body["user"], &body["context"], &warden::Exec::at(warden::parse_time(NOW).unwrap()))
                .unwrap()
                .to_json();
            assert_eq!(outcome_of(&j), want, "{name}");
            decisions.insert(name.clone(), j["decision"].as_str().unwrap().to_string());
        }
    }
    assert!(decisions.values().any(|d| d == "allow") && decisions.values().any(|d| d == "deny"), "{decisions:?}");
    // Each login has its own decision id.
    let a = http.post("/v1/login", &sample_body("quickstart", "employee-login", NOW)).await.json();
    let b = http.post("/v1/login", &sample_body("quickstart", "employee-login", NOW)).await.json();
    assert_ne!(a["decision_id"], b["decision_id"]);
    server.shutdown().await.unwrap();
}

/// The native API answers with the outcome's bytes as the library's reference path writes
/// them, whether the fast decoder takes the body (compact, spaced) or declines it (an escaped
/// key, a repeated top-level key), and the user's members no rule writes come back as sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_native_api_writes_the_reference_bytes_on_both_paths() {
    let manifest = root().join("examples/quickstart/warden.toml");
    let mut s = settings(root().join("examples/quickstart").as_path());
    s.pipelines = vec![PipelineSpec { name: "default".into(), source: Source::Manifest(manifest.clone()) }];
    let server = start(s).await;
    let http = Http::new(server.addr);
    let library = warden::Pipeline::from_manifest(&manifest).unwrap();
    let user = r#"{"user_id":"auth0|1","email":"ada@example.com","email_verified":true,"app_metadata":{"plan":"team"},"x":{"n":1.50,"s":"\u00e9"},"y":{"a":[1,2]}}"#;
    let context = r#"{"clientID":"c","clientName":"App","protocol":"oidc-basic-profile"}"#;
    let bodies = [
        (format!(r#"{{"user":{user},"context":{context},"now":"{NOW}"}}"#), true),
        (format!("{{ \"now\" : \"{NOW}\" ,\n \"context\": {context}, \"user\" :{user} }}"), true),
        (format!(r#"{{"user":{{"user_\u0069d":"auth0|1"}},"context":{context},"now":"{NOW}"}}"#), false),
        (
            format!(
                r#"{{"user":{{"email":"a@example.com","email":"b@example.com"}},"context":{context},"now":"{NOW}"}}"#
            ),
            false,
        ),
    ];
    let exec = |now: Option<i64>| warden::Exec::at(now.unwrap_or(1_764_158_400_000));
    for (body, fast) in &bodies {
        assert_eq!(library.execute_request_fast(body.as_bytes(), &exec).is_some(), *fast, "{body}");
        let want = library.execute_request_reference(body.as_bytes(), &exec).unwrap();
        let r = http.send("POST", "/v1/login", &[("content-type", "application/json")], body.clone()).await;
        assert_eq!(r.status, 200, "{body}: {}", r.text());
        let text = r.text();
        let want_tail = std::str::from_utf8(&want.json[1..]).unwrap();
        assert!(text.starts_with(r#"{"decision_id":""#) && text.ends_with(want_tail), "{body}:\n{text}\n{want_tail}");
    }
    // A member no rule writes is written as serde_json reads it (`1.50` as 1.5, `\u00e9` as é)
    // by both paths, and copied as sent when that is already how it reads.
    let r = http.send("POST", "/v1/login", &[], bodies[0].0.clone()).await;
    assert!(r.text().contains(r#""x":{"n":1.5,"s":"é"},"y":{"a":[1,2]}"#), "{}", r.text());
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelines_are_served_by_name_and_an_unknown_one_is_404() {
    let a = project("named-a", &[("warden.toml", &manifest(&["a.rule"], "")), ("a.rule", &versioned("a"))]);
    let b = project("named-b", &[("warden.toml", &manifest(&["b.rule"], "")), ("b.rule", &versioned("b"))]);
    let mut s = settings(&a);
    s.pipelines = vec![
        PipelineSpec { name: "alpha".into(), source: Source::Manifest(a.join("warden.toml")) },
        PipelineSpec { name: "beta".into(), source: Source::Manifest(b.join("warden.toml")) },
    ];
    let server = start(s).await;
    let http = Http::new(server.addr);
    for (name, v) in [("alpha", "a"), ("beta", "b")] {
        let r = http.post(&format!("/v1/pipelines/{name}/login"), &login("x@example.com")).await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["id_token"]["https://t.example.com/v"], v);
        assert_eq!(r.json()["pipeline"]["name"], name);
    }
    let r = http.post("/v1/login", &login("x@example.com")).await;
    assert_eq!(r.status, 404, "no pipeline is named default");
    assert_eq!(r.json()["error"]["code"], "unknown_pipeline");
    assert_eq!(r.json()["error"]["pipelines"], json!(["alpha", "beta"]));
    let r = http.post("/v1/pipelines/gamma/login", &login("x@example.com")).await;
    assert_eq!(r.status, 404);
    let r = http.get("/v1/nothing").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["code"], "not_found");
    let r = http.get("/v1/pipelines").await.json();
    assert_eq!(r["pipelines"].as_array().unwrap().len(), 2);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_are_400_with_what_and_where() {
    let dir = project("bad", &[("warden.toml", &manifest(&["a.rule"], "")), ("a.rule", &versioned("1"))]);
    let server = start(settings(&dir)).await;
    let http = Http::new(server.addr);
    let send = |body: &'static str| {
        let http = http.clone();
        async move { http.send("POST", "/v1/login", &[], body).await }
    };
    let r = send("{\"user\": {}, \n \"context\": {,}}").await;
    assert_eq!(r.status, 400);
    let e = &r.json()["error"];
    assert_eq!(
        (e["code"].as_str(), e["kind"].as_str(), e["line"].as_u64()),
        (Some("invalid_input"), Some("malformed"), Some(2))
    );
    assert!(e["column"].as_u64().is_some(), "{e}");
    let r = send("{\"user\": {}}").await;
    assert_eq!(r.status, 400);
    assert!(r.json()["error"]["message"].as_str().unwrap().contains("missing field `context`"), "{}", r.text());
    let r = send("{\"user\": {}, \"context\": {}, \"contxt\": {}}").await;
    assert_eq!(r.status, 400);
    assert!(r.json()["error"]["message"].as_str().unwrap().contains("unknown field `contxt`"), "{}", r.text());
    let r = send("{\"user\": [], \"context\": {}}").await;
    assert_eq!((r.status, r.json()["error"]["kind"].as_str()), (400, Some("not_an_object")));
    let r = send("{\"user\": {\"email_verified\": \"yes\"}, \"context\": {}}").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["path"], "user.email_verified", "{}", r.text());
    let r = send("{\"user\": {}, \"context\": {}, \"now\": \"yesterday\"}").await;
    assert_eq!((r.status, r.json()["error"]["path"].as_str()), (400, Some("now")));
    let deep = format!("{{\"user\": {}1{}, \"context\": {{}}}}", "[".repeat(100), "]".repeat(100));
    let r = http.send("POST", "/v1/login", &[], deep).await;
    assert_eq!((r.status, r.json()["error"]["kind"].as_str()), (400, Some("too_deep")));
    let r = send("").await;
    assert_eq!(r.status, 400);
    // Nothing of this was decided; all of it was counted (regression: refused bodies were
    // not counted).
    let metrics = http.get("/metrics").await.text();
    assert!(!metrics.contains("warden_logins_total{"), "{metrics}");
    assert!(metrics.contains("warden_rejected_requests_total{reason=\"bad_request\"} 8"), "{metrics}");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_bodies_are_413_whether_announced_or_streamed() {
    let dir = project("big", &[("warden.toml", &manifest(&["a.rule"], "")), ("a.rule", &versioned("1"))]);
    let mut s = settings(&dir);
    s.body_limit = 1024;
    let server = start(s).await;
    let http = Http::new(server.addr);
    let mut body = login("x@example.com");
    body["user"]["padding"] = json!("x".repeat(2000));
    let r = http.post("/v1/login", &body).await;
    assert_eq!(r.status, 413, "{}", r.text());
    assert_eq!(r.json()["error"]["limit"], 1024);
    // Without a Content-Length: a streamed body stops at the limit.
    let stream = async_stream_body(serde_json::to_vec(&body).unwrap());
    let r = raw_chunked(server.addr, "/v1/login", stream).await;
    assert!(r.starts_with("HTTP/1.1 413"), "{r}");
    // Under the limit it is decided.
    assert_eq!(http.post("/v1/login", &login("x@example.com")).await.status, 200);
    server.shutdown().await.unwrap();
}

fn async_stream_body(bytes: Vec<u8>) -> Vec<Vec<u8>> {
    bytes.chunks(300).map(<[u8]>::to_vec).collect()
}

/// Sends a chunked request by hand and returns the response's head.
async fn raw_chunked(addr: std::net::SocketAddr, path: &str, chunks: Vec<Vec<u8>>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\ncontent-type: application/json\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    for c in chunks {
        // The server may answer and close before the whole body is sent.
        if s.write_all(format!("{:x}\r\n", c.len()).as_bytes()).await.is_err()
            || s.write_all(&c).await.is_err()
            || s.write_all(b"\r\n").await.is_err()
        {
            break;
        }
    }
    let _ = s.write_all(b"0\r\n\r\n").await;
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf)).await.unwrap().unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_guard_logins_and_admin_routes_separately() {
    let dir = project("keys", &[("warden.toml", &manifest(&["a.rule"], "")), ("a.rule", &versioned("1"))]);
    let mut s = settings(&dir);
    s.login_keys = vec!["login-key-0123456789".into()];
    s.admin_keys = vec!["admin-key-0123456789".into()];
    let server = start(s).await;
    let http = Http::new(server.addr);
    let body = serde_json::to_vec(&login("x@example.com")).unwrap();
    let post = |path: &'static str, key: Option<&'static str>| {
        let (http, body) = (http.clone(), body.clone());
        async move {
            let auth = key.map(|k| format!("Bearer {k}"));
            let headers: Vec<(&str, &str)> = auth.as_deref().map(|a| vec![("authorization", a)]).unwrap_or_default();
            http.send("POST", path, &headers, body).await
        }
    };
    let r = post("/v1/login", None).await;
    assert_eq!((r.status, r.headers.get("www-authenticate").map(|v| v.to_str().unwrap())), (401, Some("Bearer")));
    assert_eq!(post("/v1/login", Some("wrong-key-0123456789")).await.status, 401);
    assert_eq!(post("/v1/login", Some("admin-key-0123456789")).await.status, 401, "admin keys are not login keys");
    assert_eq!(post("/v1/login", Some("login-key-0123456789")).await.status, 200);
    assert_eq!(post("/v1/admin/reload", None).await.status, 401);
    assert_eq!(
        post("/v1/admin/reload", Some("login-key-0123456789")).await.status,
        401,
        "login keys are not admin keys"
    );
    assert_eq!(post("/v1/admin/reload", Some("admin-key-0123456789")).await.status, 200);
    // Operations stay open to probes.
    for path in ["/health", "/ready", "/metrics", "/openapi.json"] {
        assert_eq!(http.get(path).await.status, 200, "{path}");
    }
    let metrics = http.get("/metrics").await.text();
    assert!(metrics.contains("warden_rejected_requests_total{reason=\"unauthorized\"} 5"), "{metrics}");
    server.shutdown().await.unwrap();
}

#[test]
fn listening_beyond_loopback_needs_keys() {
    let dir = project("exposed", &[("warden.toml", &manifest(&["a.rule"], "")), ("a.rule", &versioned("1"))]);
    let mut s = settings(&dir);
    s.listen = "0.0.0.0:0".parse().unwrap();
    assert!(s.validate().unwrap_err().contains("needs API keys"));
    s.login_keys = vec!["login-key-0123456789".into()];
    assert!(s.validate().is_ok());
    s.login_keys.clear();
    s.no_auth = true;
    assert!(s.validate().is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_routes_are_closed_when_logins_have_keys_and_admin_has_none() {
    let dir = project("noadmin", &[("warden.toml", &manifest(&["a.rule"], "")), ("a.rule", &versioned("1"))]);
    let mut s = settings(&dir);
    s.login_keys = vec!["login-key-0123456789".into()];
    let server = start(s).await;
    let http = Http::new(server.addr);
    let r = http.send("POST", "/v1/admin/reload", &[("authorization", "Bearer login-key-0123456789")], "").await;
    assert_eq!(r.status, 403, "{}", r.text());
    server.shutdown().await.unwrap();
}

/// A JavaScript rule that loops until the pipeline's deadline: a login that holds its place.
const SLOW_JS: &str =
    "function (user, context, callback) {\n  if (user.slow) { while (true) {} }\n  callback(null, user, context);\n}\n";

fn slow_project(name: &str, timeout_ms: u32) -> std::path::PathBuf {
    project(
        name,
        &[
            ("warden.toml", &manifest(&["slow.js", "a.rule"], &format!("timeout_ms = {timeout_ms}\n"))),
            ("slow.js", SLOW_JS),
            ("a.rule", &versioned("1")),
        ],
    )
}

fn slow_login() -> Json {
    let mut l = login("slow@example.com");
    l["user"]["slow"] = json!(true);
    l
}

/// Starts a login that holds its place until the deadline, and waits until it is in flight.
async fn in_flight_slow_login(http: &Http) -> tokio::task::JoinHandle<common::Reply> {
    let slow = {
        let http = http.clone();
        tokio::spawn(async move { http.post("/v1/login", &slow_login()).await })
    };
    wait_for_metric(http, "warden_in_flight_logins 1").await;
    slow
}

async fn wait_for_metric(http: &Http, needle: &str) {
    for _ in 0..200 {
        if http.get("/metrics").await.text().contains(needle) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("`{needle}` never appeared in /metrics");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overload_answers_503_with_retry_after_then_recovers() {
    let dir = slow_project("overload", 1500);
    let mut s = settings(&dir);
    s.concurrency = 2;
    let server = start(s).await;
    let http = Http::new(server.addr);
    let slow: Vec<_> = (0..2)
        .map(|_| {
            let http = http.clone();
            tokio::spawn(async move { http.post("/v1/login", &slow_login()).await })
        })
        .collect();
    wait_for_metric(&http, "warden_in_flight_logins 2").await;
    let r = http.post("/v1/login", &login("x@example.com")).await;
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.headers["retry-after"], "1");
    assert_eq!(r.json()["error"]["code"], "overloaded");
    for t in slow {
        let r = t.await.unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.json()["error"]["cause"], "timeout", "the slow rule hit the deadline: {}", r.text());
    }
    // Places are given back: the server decides again.
    let r = http.post("/v1/login", &login("x@example.com")).await;
    assert_eq!((r.status, r.json()["decision"].as_str()), (200, Some("allow")));
    let metrics = http.get("/metrics").await.text();
    assert!(metrics.contains("warden_rejected_requests_total{reason=\"overloaded\"} 1"), "{metrics}");
    assert!(metrics.contains("warden_in_flight_logins 0"), "{metrics}");
    assert!(
        metrics.contains("warden_rule_failures_total{pipeline=\"default\",rule=\"slow\",cause=\"timeout\"} 2"),
        "{metrics}"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_javascript_rule_does_not_stall_other_logins() {
    let dir = slow_project("stall", 3000);
    let server = start(settings(&dir)).await;
    let http = Http::new(server.addr);
    let slow = in_flight_slow_login(&http).await;
    for _ in 0..20 {
        let r = http.post("/v1/login", &login("x@example.com")).await;
        assert_eq!((r.status, r.json()["decision"].as_str()), (200, Some("allow")));
    }
    assert!(!slow.is_finished(), "twenty logins were decided while the slow one ran");
    assert_eq!(slow.await.unwrap().json()["error"]["cause"], "timeout");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_under_load_never_fails_or_mixes_a_login() {
    let dir = project("reload-load", &[("warden.toml", &manifest(&["a.rule"], "")), ("a.rule", &versioned("1"))]);
    let server = start(settings(&dir)).await;
    let http = Http::new(server.addr);
    let v1 = http.post("/v1/login", &login("x@example.com")).await.json()["pipeline"]["hash"].clone();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let http = http.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                for _ in 0..125 {
                    let r = http.post("/v1/login", &login("x@example.com")).await;
                    assert_eq!(r.status, 200, "{}", r.text());
                    let j = r.json();
                    seen.push((j["pipeline"]["hash"].clone(), j["id_token"]["https://t.example.com/v"].clone()));
                }
                seen
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    std::fs::write(dir.join("a.rule"), versioned("2")).unwrap();
    let r = http.post("/v1/admin/reload", &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v2 = r.json()["reloaded"][0]["hash"].clone();
    assert_ne!(v1, v2);
    let mut counts = BTreeMap::new();
    for t in tasks {
        for (hash, version) in t.await.unwrap() {
            let expected = if hash == v1 {
                "1"
            } else if hash == v2 {
                "2"
            } else {
                panic!("unknown hash {hash}")
            };
            assert_eq!(version, expected, "a login answered with one version's hash and another's rules");
            *counts.entry(expected).or_insert(0) += 1;
        }
    }
    assert_eq!(counts.values().sum::<i32>(), 1000);
    assert!(counts.get("2").is_some_and(|n| *n > 0), "{counts:?}");
    let metrics = http.get("/metrics").await.text();
    assert!(metrics.contains("warden_reloads_total{pipeline=\"default\",result=\"reloaded\"} 1"), "{metrics}");
    assert!(metrics.contains(&format!("warden_pipeline_info{{pipeline=\"default\",hash={v2}}} 1")), "{metrics}");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_reload_keeps_the_running_version_and_says_why() {
    let dir = project("reload-fail", &[("warden.toml", &manifest(&["a.rule"], "")), ("a.rule", &versioned("1"))]);
    let server = start(settings(&dir)).await;
    let http = Http::new(server.addr);
    let before = http.post("/v1/login", &login("x@example.com")).await.json();
    std::fs::write(dir.join("a.rule"), "rule \"broken\" {\n    deny if user.emial == \"x\"\n}\n").unwrap();
    let r = http.post("/v1/admin/reload", &json!({})).await;
    assert_eq!(r.status, 422, "{}", r.text());
    let j = r.json();
    assert_eq!(j["ok"], false);
    let why = j["failed"][0]["error"].as_str().unwrap();
    assert!(why.contains("E0") && why.contains("a.rule:2"), "{why}");
    let after = http.post("/v1/login", &login("x@example.com")).await.json();
    assert_eq!(after["pipeline"]["hash"], before["pipeline"]["hash"]);
    assert_eq!(after["id_token"], before["id_token"]);
    let metrics = http.get("/metrics").await.text();
    assert!(metrics.contains("warden_reloads_total{pipeline=\"default\",result=\"failed\"} 1"), "{metrics}");
    // Fixed, the next reload takes it.
    std::fs::write(dir.join("a.rule"), versioned("3")).unwrap();
    assert_eq!(http.post("/v1/admin/reload", &json!({})).await.status, 200);
    assert_eq!(
        http.post("/v1/login", &login("x@example.com")).await.json()["id_token"]["https://t.example.com/v"],
        "3"
    );
    // Reloading the same content changes nothing.
    let r = http.post("/v1/admin/reload", &json!({})).await.json();
    assert_eq!(r["unchanged"], json!(["default"]));
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_file_is_reloaded_when_watching() {
    let dir = project("watch", &[("warden.toml", &manifest(&["rules/a.rule"], "")), ("rules/a.rule", &versioned("1"))]);
    let mut s = settings(&dir);
    s.watch = true;
    let server = start(s).await;
    let http = Http::new(server.addr);
    std::fs::write(dir.join("rules/a.rule"), versioned("2")).unwrap();
    for _ in 0..100 {
        let v =
            http.post("/v1/login", &login("x@example.com")).await.json()["id_token"]["https://t.example.com/v"].clone();
        if v == "2" {
            server.shutdown().await.unwrap();
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the change was not picked up within 10 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decision_logs_record_each_login_masked() {
    let dir = project(
        "decisions",
        &[
            ("warden.toml", &manifest(&["a.rule"], "")),
            (
                "a.rule",
                "rule \"no tests\" {\n    deny \"test accounts are closed\" if ends_with(user.email, \"@test.example\")\n}\n",
            ),
        ],
    );
    let log = dir.join("decisions.jsonl");
    let mut s = settings(&dir);
    s.decision_log = Some(warden_server::decisions::DecisionLogSettings { to: log.clone(), ..Default::default() });
    let server = start(s).await;
    let http = Http::new(server.addr);
    let mut l = login("a@test.example");
    l["user"]["identities"] = json!([{ "provider": "google-oauth2", "access_token": "ya29.secret" }]);
    let denied = http.post("/v1/login", &l).await.json();
    let allowed = http.post("/v1/login", &login("b@example.com")).await.json();
    server.shutdown().await.unwrap();
    let mut text = String::new();
    for _ in 0..100 {
        text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.lines().count() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let lines: Vec<Json> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{text}");
    let d = &lines[0];
    assert_eq!(d["decision_id"], denied["decision_id"]);
    assert_eq!(d["hash"], denied["pipeline"]["hash"]);
    assert_eq!(
        (d["decision"].as_str(), d["cause"].as_str(), d["rule"].as_str()),
        (Some("deny"), Some("denied"), Some("no tests"))
    );
    assert!(d["latency_us"].as_u64().is_some() && d["time"].as_str().unwrap().ends_with('Z'));
    assert!(d["input"]["user"]["email"].as_str().unwrap().starts_with("sha256:"), "{d}");
    assert!(!text.contains("a@test.example") && !text.contains("ya29.secret"), "{text}");
    assert_eq!(d["outcome"]["error"]["description"], "test accounts are closed");
    assert_eq!(lines[1]["decision_id"], allowed["decision_id"]);
    assert!(lines[1]["outcome"]["user"]["email"].as_str().unwrap().starts_with("sha256:"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_logins_in_flight_finish() {
    let dir = slow_project("drain", 1000);
    let server = start(settings(&dir)).await;
    let http = Http::new(server.addr);
    let slow = in_flight_slow_login(&http).await;
    let app = server.app.clone();
    server.shutdown().await.unwrap();
    assert!(app.draining.load(std::sync::atomic::Ordering::SeqCst));
    let r = slow.await.unwrap();
    assert_eq!(r.status, 200, "the login in flight got its answer");
    assert_eq!(r.json()["error"]["cause"], "timeout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_endpoints_answer() {
    let dir = project("ops", &[("warden.toml", &manifest(&["a.rule"], "")), ("a.rule", &versioned("1"))]);
    let server = start(settings(&dir)).await;
    let http = Http::new(server.addr);
    assert_eq!(http.get("/health").await.json(), json!({ "status": "ok" }));
    let ready = http.get("/ready").await.json();
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["pipelines"][0]["name"], "default");
    let openapi = http.get("/openapi.json").await.json();
    assert_eq!(openapi["openapi"].as_str().map(|v| v.starts_with("3.")), Some(true));
    for path in ["/v1/login", "/v1/pipelines/{name}/login", "/v1/admin/reload", "/health", "/ready", "/metrics"] {
        assert!(openapi["paths"].get(path).is_some(), "{path} is described");
    }
    http.post("/v1/login", &login("x@example.com")).await;
    let r = http.get("/metrics").await;
    assert!(r.headers["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let m = r.text();
    for needle in [
        "warden_logins_total{pipeline=\"default\",decision=\"allow\",cause=\"none\",api=\"native\"} 1",
        "warden_login_duration_seconds_count{pipeline=\"default\"} 1",
        "warden_in_flight_logins 0",
        "warden_panics_total 0",
    ] {
        assert!(m.contains(needle), "{needle} in {m}");
    }
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipeline_that_does_not_load_stops_the_start_with_every_reason() {
    let good = project("start-good", &[("warden.toml", &manifest(&["a.rule"], "")), ("a.rule", &versioned("1"))]);
    let bad = project(
        "start-bad",
        &[
            ("warden.toml", &manifest(&["a.rule"], "[configuration]\nK = { env = \"WARDEN_SERVE_TEST_UNSET_9\" }\n")),
            ("a.rule", "rule \"k\" {\n    deny if config.K == \"x\"\n}\n"),
        ],
    );
    let mut s = settings(&good);
    s.pipelines.push(PipelineSpec { name: "bad".into(), source: Source::Manifest(bad.join("warden.toml")) });
    s.pipelines.push(PipelineSpec { name: "gone".into(), source: Source::Manifest(good.join("missing.toml")) });
    let e = warden_server::start(s).await.expect_err("does not start").to_string();
    assert!(e.contains("pipeline `bad`") && e.contains("WARDEN_SERVE_TEST_UNSET_9"), "{e}");
    assert!(e.contains("pipeline `gone`"), "{e}");
    assert!(!e.contains("pipeline `default`"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_is_a_500_and_a_metric_and_the_server_keeps_serving() {
    use axum::routing::get;
    let dir = project("panic", &[("warden.toml", &manifest(&["a.rule"], "")), ("a.rule", &versioned("1"))]);
    let s = settings(&dir);
    let pipelines = warden_server::load_all(&s).unwrap();
    let app = std::sync::Arc::new(warden_server::App::new(s, pipelines, None));
    // The production layers around a route that panics, next to the production routes.
    async fn boom() -> &'static str {
        panic!("deliberate")
    }
    let boom: axum::Router = axum::Router::new().route("/boom", get(boom));
    let routes = warden_server::layers(boom, app.clone()).merge(warden_server::router(app.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move { axum::serve(listener, routes).await });
    let http = Http::new(addr);
    let r = http.get("/boom").await;
    assert_eq!(r.status, 500);
    assert_eq!(r.json()["error"]["code"], "internal");
    assert!(!r.text().contains("deliberate"), "the panic's message stays in the server");
    assert_eq!(http.post("/v1/login", &login("x@example.com")).await.status, 200, "still serving");
    assert!(http.get("/metrics").await.text().contains("warden_panics_total 1"));
    task.abort();
}
