//! `warden serve` as a process: the address it prints, a real HTTP exchange, SIGHUP reload,
//! SIGTERM drain, artifacts (signed, with their literal configuration), JavaScript in worker
//! processes, and usage errors.
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};

const WARDEN: &str = env!("CARGO_BIN_EXE_warden");
const NOW: &str = "2026-11-26T12:00:00Z";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-serve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// A running `warden serve` and the address it printed.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &Path, args: &[&str]) -> Server {
    let mut child = Command::new(WARDEN)
        .arg("serve")
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .current_dir(dir)
        .env("WARDEN_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let Some(addr) = line.trim().strip_prefix("listening on http://") else {
        let mut err = String::new();
        let _ = child.stderr.take().unwrap().read_to_string(&mut err);
        panic!("no address on the first line: {line:?}; stderr: {err}");
    };
    Server { addr: addr.to_string(), child }
}

/// One HTTP/1.1 exchange (`Connection: close`): status and body.
fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw.get(9..12).and_then(|c| c.parse().ok()).unwrap_or_else(|| panic!("not HTTP: {raw:?}"));
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

fn sample(example: &str, name: &str) -> String {
    let dir = root().join("examples").join(example).join("samples").join(name);
    let read = |f: &str| -> Json { serde_json::from_slice(&std::fs::read(dir.join(f)).unwrap()).unwrap() };
    json!({ "user": read("user.json"), "context": read("context.json"), "now": NOW }).to_string()
}

fn login(addr: &str, body: &str) -> Json {
    let (status, text) = http(addr, "POST", "/v1/login", body);
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn signal(pid: u32, sig: &str) {
    assert!(Command::new("kill").arg(format!("-{sig}")).arg(pid.to_string()).status().unwrap().success());
}

/// `warden run` on the same sample, for comparison.
fn run_outcome(args: &[&str], example: &str, name: &str) -> Json {
    let dir = root().join("examples").join(example).join("samples").join(name);
    let out = Command::new(WARDEN)
        .arg("run")
        .args(args)
        .arg("--user")
        .arg(dir.join("user.json"))
        .arg("--context")
        .arg(dir.join("context.json"))
        .args(["--now", NOW])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)))
}

fn without_server_fields(mut j: Json) -> Json {
    let m = j.as_object_mut().unwrap();
    m.shift_remove("decision_id");
    m.shift_remove("pipeline");
    j
}

#[test]
fn serve_in_a_project_folder_then_reload_on_sighup() {
    let dir = scratch("quickstart");
    copy_dir(&root().join("examples/quickstart"), &dir);
    let mut server = serve(&dir, &[]);
    let (status, ready) = http(&server.addr, "GET", "/ready", "");
    assert_eq!(status, 200, "{ready}");
    let body = sample("quickstart", "employee-login");
    let first = login(&server.addr, &body);
    // The request files docs/serve.md sends are the samples.
    for name in ["employee-login", "unverified-email"] {
        let file = std::fs::read_to_string(root().join(format!("examples/quickstart/requests/{name}.json"))).unwrap();
        assert_eq!(
            serde_json::from_str::<Json>(&file).unwrap(),
            serde_json::from_str::<Json>(&sample("quickstart", name)).unwrap()
        );
        let decided = login(&server.addr, &file);
        assert_eq!(decided["decision"], if name == "employee-login" { "allow" } else { "deny" });
    }
    assert_eq!(
        without_server_fields(first.clone()),
        run_outcome(
            &["--manifest", root().join("examples/quickstart/warden.toml").to_str().unwrap()],
            "quickstart",
            "employee-login"
        )
    );
    // A rule changes; SIGHUP loads it without a restart.
    let rules = dir.join("rules/30-tokens.rule");
    let text = std::fs::read_to_string(&rules).unwrap();
    std::fs::write(
        &rules,
        format!("{text}\nrule \"added\" {{\n    claim id_token \"https://quickstart.example.com/added\" = true\n}}\n"),
    )
    .unwrap();
    signal(server.child.id(), "HUP");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = login(&server.addr, &body);
        if now["id_token"]["https://quickstart.example.com/added"] == json!(true) {
            assert_ne!(now["pipeline"]["hash"], first["pipeline"]["hash"]);
            break;
        }
        assert!(Instant::now() < deadline, "SIGHUP did not reload: {now}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (_, metrics) = http(&server.addr, "GET", "/metrics", "");
    assert!(metrics.contains("warden_reloads_total{pipeline=\"default\",result=\"reloaded\"} 1"), "{metrics}");
    signal(server.child.id(), "TERM");
    let status = server.child.wait().unwrap();
    assert!(status.success(), "SIGTERM ends with status 0: {status:?}");
}

const SLOW_JS: &str =
    "function (user, context, callback) {\n  if (user.slow) { while (true) {} }\n  callback(null, user, context);\n}\n";

#[test]
fn sigterm_lets_the_login_in_flight_finish_and_javascript_runs_in_workers() {
    let dir = scratch("drain");
    std::fs::write(dir.join("warden.toml"), "[pipeline]\nrules = [\"slow.js\"]\ntimeout_ms = 1500\n").unwrap();
    std::fs::write(dir.join("slow.js"), SLOW_JS).unwrap();
    let mut server = serve(&dir, &["--manifest", "warden.toml"]);
    let (_, ready) = http(&server.addr, "GET", "/ready", "");
    let ready: Json = serde_json::from_str(&ready).unwrap();
    assert_eq!(ready["pipelines"][0]["js_workers"], true, "the CLI runs JavaScript in worker processes");
    let addr = server.addr.clone();
    let slow = std::thread::spawn(move || {
        http(&addr, "POST", "/v1/login", &json!({"user": {"user_id": "a", "slow": true}, "context": {}}).to_string())
    });
    // Wait until the slow login is in flight, then ask the server to stop.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !http(&server.addr, "GET", "/metrics", "").1.contains("warden_in_flight_logins 1") {
        assert!(Instant::now() < deadline, "the slow login never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(server.child.id(), "TERM");
    let (status, body) = slow.join().unwrap();
    assert_eq!(status, 200, "{body}");
    let outcome: Json = serde_json::from_str(&body).unwrap();
    assert_eq!(outcome["error"]["cause"], "timeout", "the worker was stopped at the deadline: {outcome}");
    let exit = server.child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    // New connections are refused once the server is gone.
    assert!(TcpStream::connect(&server.addr).is_err());
}

#[test]
fn mixed_legacy_is_served_as_warden_run_decides_it() {
    let dir = root().join("examples/mixed-legacy");
    let server = serve(&dir, &["--manifest", "legacy=warden.toml"]);
    for name in ["admin", "contractor", "engineer", "unverified"] {
        let body = sample("mixed-legacy", name);
        let (status, text) = http(&server.addr, "POST", "/v1/pipelines/legacy/login", &body);
        assert_eq!(status, 200, "{text}");
        let served: Json = serde_json::from_str(&text).unwrap();
        assert_eq!(
            without_server_fields(served),
            run_outcome(&["--manifest", dir.join("warden.toml").to_str().unwrap()], "mixed-legacy", name),
            "{name}"
        );
    }
}

#[test]
fn a_signed_artifact_serves_with_its_literal_configuration_and_a_tampered_one_does_not_start() {
    let dir = scratch("bundle");
    let key = dir.join("ci");
    let artifact = dir.join("quickstart.warden");
    let ok = |args: &[&str]| {
        let out = Command::new(WARDEN).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    ok(&["keygen", "-o", key.to_str().unwrap()]);
    let manifest = root().join("examples/quickstart/warden.toml");
    ok(&[
        "build",
        "--manifest",
        manifest.to_str().unwrap(),
        "-o",
        artifact.to_str().unwrap(),
        "--sign-key",
        dir.join("ci.key").to_str().unwrap(),
    ]);
    let pubkey = dir.join("ci.pub");
    let server = serve(&dir, &["--bundle", artifact.to_str().unwrap(), "--verify-key", pubkey.to_str().unwrap()]);
    for name in ["employee-login", "kiosk-device", "unverified-email"] {
        let served = login(&server.addr, &sample("quickstart", name));
        assert_eq!(
            without_server_fields(served),
            run_outcome(&["--manifest", manifest.to_str().unwrap()], "quickstart", name),
            "{name}"
        );
    }
    // `warden run --bundle` needs no --config either: literal values travel in the artifact.
    let from_bundle = run_outcome(
        &["--bundle", artifact.to_str().unwrap(), "--verify-key", pubkey.to_str().unwrap()],
        "quickstart",
        "kiosk-device",
    );
    assert_eq!(from_bundle, run_outcome(&["--manifest", manifest.to_str().unwrap()], "quickstart", "kiosk-device"));
    drop(server);
    let mut bytes = std::fs::read(&artifact).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 1;
    let tampered = dir.join("tampered.warden");
    std::fs::write(&tampered, bytes).unwrap();
    let out = Command::new(WARDEN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--bundle",
            tampered.to_str().unwrap(),
            "--verify-key",
            pubkey.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pipeline `default`") && err.contains("refused"), "{err}");
    assert!(out.stdout.is_empty(), "nothing listened");
}

#[test]
fn usage_errors_are_explained() {
    let dir = scratch("usage");
    let run = |args: &[&str]| {
        let out = Command::new(WARDEN).arg("serve").args(args).current_dir(&dir).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, err) = run(&[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no pipeline to serve"), "{err}");
    let manifest = root().join("examples/quickstart/warden.toml");
    let (code, err) = run(&["--manifest", manifest.to_str().unwrap(), "--listen", "0.0.0.0:0"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("needs API keys"), "{err}");
    let m = manifest.to_str().unwrap();
    let (code, err) = run(&["--manifest", &format!("a={m}"), "--manifest", &format!("a={m}")]);
    assert_eq!(code, Some(2));
    assert!(err.contains("two pipelines are named `a`"), "{err}");
    std::fs::write(dir.join("keys"), "short\n").unwrap();
    let (code, err) = run(&["--manifest", m, "--api-keys-file", "keys"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("too short"), "{err}");
}

#[test]
fn the_settings_file_sets_decision_log_masks_and_unknown_settings_are_refused() {
    let dir = scratch("settings");
    std::fs::write(
        dir.join("serve.toml"),
        "[decision_log]\ninput = true\noutcome = false\nmask = [ { path = \"context.request.ip\", action = \"hash\" }, { path = \"user.name\", action = \"drop\" } ]\n",
    )
    .unwrap();
    let manifest = root().join("examples/quickstart/warden.toml");
    let log = dir.join("decisions.jsonl");
    let mut server = serve(
        &dir,
        &[
            "--manifest",
            manifest.to_str().unwrap(),
            "--settings",
            "serve.toml",
            "--decision-log",
            log.to_str().unwrap(),
        ],
    );
    let decided = login(&server.addr, &sample("quickstart", "employee-login"));
    signal(server.child.id(), "TERM");
    assert!(server.child.wait().unwrap().success());
    let text = std::fs::read_to_string(&log).unwrap();
    let line: Json = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(line["decision_id"], decided["decision_id"]);
    assert!(line.get("outcome").is_none(), "outcome = false: {line}");
    let user = &line["input"]["user"];
    assert_eq!(user["email"], "Jane.Doe@Example.com", "a mask list replaces the defaults");
    assert!(user.get("name").is_none(), "{user}");
    assert!(line["input"]["context"]["request"]["ip"].as_str().unwrap().starts_with("sha256:"), "{line}");

    std::fs::write(dir.join("bad.toml"), "[decision_log]\nmasks = []\n").unwrap();
    let out = Command::new(WARDEN)
        .args(["serve", "--manifest", manifest.to_str().unwrap(), "--settings", "bad.toml"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown field `masks`"), "{err}");
}

#[test]
fn shutdown_wait_keeps_serving_with_ready_at_503_and_an_empty_secret_is_no_value() {
    let dir = scratch("wait");
    std::fs::write(
        dir.join("warden.toml"),
        "[pipeline]\nrules = [\"r.rule\"]\n[configuration]\nSECRET = { env = \"WARDEN_SERVE_TEST_SECRET\" }\n",
    )
    .unwrap();
    std::fs::write(dir.join("r.rule"), "rule \"r\" {\n    deny if config.SECRET == \"x\"\n}\n").unwrap();
    // An environment variable set to nothing is no value: the pipeline is refused.
    let out = Command::new(WARDEN)
        .args(["serve", "--listen", "127.0.0.1:0", "--manifest", "warden.toml"])
        .env("WARDEN_SERVE_TEST_SECRET", "")
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("WARDEN_SERVE_TEST_SECRET"));

    let mut child = Command::new(WARDEN)
        .args(["serve", "--listen", "127.0.0.1:0", "--manifest", "warden.toml", "--shutdown-wait-ms", "1500"])
        .env("WARDEN_SERVE_TEST_SECRET", "s3cret")
        .env("WARDEN_LOG", "warn")
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("listening on http://").unwrap().to_string();
    let mut server = Server { child, addr };
    assert_eq!(http(&server.addr, "GET", "/ready", "").0, 200);
    signal(server.child.id(), "TERM");
    let deadline = Instant::now() + Duration::from_secs(1);
    while http(&server.addr, "GET", "/ready", "").0 != 503 {
        assert!(Instant::now() < deadline, "/ready never turned 503");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Still serving logins while load balancers take it out.
    let (status, body) =
        http(&server.addr, "POST", "/v1/login", &json!({"user": {"user_id": "a"}, "context": {}}).to_string());
    assert_eq!(status, 200, "{body}");
    assert!(server.child.wait().unwrap().success());
}
