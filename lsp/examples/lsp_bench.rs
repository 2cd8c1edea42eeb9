//! Response times of the language server on a generated project of 1,000 lines (10 rule files
//! of 100 lines, a manifest, a list file): the server runs in this process over pipes and is
//! spoken to with the real protocol (framing and JSON included).
//!
//! `cargo run --release -p warden-lsp --example lsp_bench` prints, for each kind of request,
//! the median and the largest time over its rounds:
//! - didChange → diagnostics: an edit of one file (alternately adding and fixing an error)
//!   until the diagnostics of every file of the project are published (the project is checked
//!   whole);
//! - hover and completion on the file just edited (the project checked once per edit).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const FILES: usize = 10;
const ROUNDS: usize = 200;

fn main() {
    let dir = std::env::temp_dir().join(format!("warden-lsp-bench-{}", std::process::id()));
    let (files, lines) = generate(&dir);
    let (in_reader, mut to_server) = std::io::pipe().expect("pipe");
    let (from_server, out_writer) = std::io::pipe().expect("pipe");
    let server = std::thread::spawn(move || warden_lsp::Server::new(out_writer).serve(in_reader));
    let mut from_server = BufReader::new(from_server);
    let mut send = |v: Value| {
        let body = v.to_string();
        write!(to_server, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        to_server.flush().expect("flush");
    };
    let mut id = 0;
    send(json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": { "capabilities": {} } }));
    read_until(&mut from_server, |v| v["id"] == 0);
    let target = &files[0];
    let uri = uri_of(target);
    let original = std::fs::read_to_string(target).expect("read");
    let doc = json!({ "uri": uri, "languageId": "warden", "version": 1, "text": original });
    send(json!({ "jsonrpc": "2.0", "method": "textDocument/didOpen", "params": { "textDocument": doc } }));
    wait_for_project(&mut from_server, FILES + 1);

    let broken = original.replacen("user.email)", "user.emial)", 1);
    let mut change = Vec::new();
    let mut hover = Vec::new();
    let mut completion = Vec::new();
    for round in 0..ROUNDS {
        let text = if round % 2 == 0 { &broken } else { &original };
        let params =
            json!({ "textDocument": { "uri": uri, "version": round + 2 }, "contentChanges": [{ "text": text }] });
        let t = Instant::now();
        send(json!({ "jsonrpc": "2.0", "method": "textDocument/didChange", "params": params }));
        wait_for_project(&mut from_server, FILES + 1);
        change.push(t.elapsed());

        id += 1;
        let pos = json!({ "textDocument": { "uri": uri }, "position": { "line": 2, "character": 24 } });
        let t = Instant::now();
        send(json!({ "jsonrpc": "2.0", "id": id, "method": "textDocument/hover", "params": pos }));
        let r = read_until(&mut from_server, |v| v["id"] == id);
        hover.push(t.elapsed());
        assert!(r["result"]["contents"]["value"].as_str().is_some_and(|s| s.contains("user.logins_count")), "{r}");

        id += 1;
        let pos = json!({ "textDocument": { "uri": uri }, "position": { "line": 5, "character": 12 } });
        let t = Instant::now();
        send(json!({ "jsonrpc": "2.0", "id": id, "method": "textDocument/completion", "params": pos }));
        let r = read_until(&mut from_server, |v| v["id"] == id);
        completion.push(t.elapsed());
        assert!(r["result"].as_array().is_some_and(|a| !a.is_empty()), "{r}");
    }
    send(json!({ "jsonrpc": "2.0", "id": "end", "method": "shutdown" }));
    read_until(&mut from_server, |v| v["id"] == "end");
    send(json!({ "jsonrpc": "2.0", "method": "exit" }));
    let code = server.join().expect("server thread");
    let _ = std::fs::remove_dir_all(&dir);

    println!("project: {FILES} rule files, {lines} lines; {ROUNDS} rounds");
    for (what, times) in [("didChange -> diagnostics", change), ("hover", hover), ("completion", completion)] {
        let (median, max) = stats(times);
        println!("{what:<26} median {:>8.2} ms   max {:>8.2} ms", ms(median), ms(max));
    }
    assert_eq!(code, 0);
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn stats(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort();
    (times[times.len() / 2], times[times.len() - 1])
}

/// Reads messages until one satisfies `done`; returns it.
fn read_until(r: &mut impl BufRead, done: impl Fn(&Value) -> bool) -> Value {
    loop {
        let v = read(r);
        if done(&v) {
            return v;
        }
    }
}

/// Reads the diagnostics of every file of the project (one notification each).
fn wait_for_project(r: &mut impl BufRead, files: usize) {
    for _ in 0..files {
        read_until(r, |v| v["method"] == "textDocument/publishDiagnostics");
    }
}

fn read(r: &mut impl BufRead) -> Value {
    let mut length = 0;
    loop {
        let mut line = String::new();
        assert!(r.read_line(&mut line).expect("read") > 0, "the server closed its output");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length:") {
            length = v.trim().parse().expect("a length");
        }
    }
    let mut body = vec![0; length];
    r.read_exact(&mut body).expect("body");
    serde_json::from_slice(&body).expect("json")
}

fn uri_of(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// Writes the project; its rule files and their total number of lines.
fn generate(dir: &Path) -> (Vec<PathBuf>, usize) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir.join("rules")).expect("dir");
    std::fs::write(dir.join("rules/blocked.txt"), "evil.example\nbad.example\n").expect("list");
    let mut files = Vec::new();
    let mut lines = 0;
    for f in 0..FILES {
        let mut text = String::new();
        let mut r = 0;
        while text.lines().count() < 100 {
            text.push_str(&format!(
                "rule \"rule {f}-{r}\" {{
    let domain = email_domain(user.email)
    let count = user.logins_count ?? 0
    when context.clientName != \"Internal\"
    deny \"blocked\" if domain in list(\"blocked.txt\")
    deny \"too many\" if count > config.MAX_LOGINS
    set user.app_metadata.plan = \"free\" if user.app_metadata.plan == null
    claim id_token \"https://example.com/roles-{r}\" = context.authorization.roles
    mfa any unless ip_in(context.request.ip, \"10.0.0.0/8\")
    log \"seen ${{user.name}} from ${{context.request.geoip.country_code}}\"
}}
"
            ));
            r += 1;
        }
        let text: String = text.lines().take(100).map(|l| format!("{l}\n")).collect();
        // A cut rule at the end would not parse: close it.
        let text = if text.trim_end().ends_with('}') { text } else { format!("{text}}}\n") };
        lines += text.lines().count();
        let path = dir.join(format!("rules/r{f:02}.rule"));
        std::fs::write(&path, text).expect("rule file");
        files.push(path);
    }
    let list: Vec<String> = (0..FILES).map(|f| format!("\"rules/r{f:02}.rule\"")).collect();
    let manifest = format!(
        "[pipeline]\nrules = [{}]\n\n[configuration]\nMAX_LOGINS = {{ value = \"100\", type = \"int\" }}\n",
        list.join(", ")
    );
    std::fs::write(dir.join("warden.toml"), manifest).expect("manifest");
    (files, lines)
}
