//! `warden lsp` as editors run it: the binary spoken to over stdin and stdout, JSON-RPC with
//! `Content-Length` framing, a real project on disk.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use serde_json::{Value, json};

/// How long any answer may take before the test fails (instead of hanging).
const WAIT: Duration = Duration::from_secs(60);

struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    rx: Receiver<Value>,
    next_id: i64,
    /// Notifications received while waiting for answers.
    notes: Vec<Value>,
}

impl Client {
    fn start() -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_warden"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("warden lsp starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("Content-Length:") {
                        length = v.trim().parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; length.expect("every frame has a Content-Length")];
                if r.read_exact(&mut body).is_err() {
                    return;
                }
                let v: Value = serde_json::from_slice(&body).expect("the server writes JSON");
                if tx.send(v).is_err() {
                    return;
                }
            }
        });
        let stdin = child.stdin.take();
        Client { child, stdin, rx, next_id: 1, notes: Vec::new() }
    }

    fn write_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).expect("write");
        stdin.flush().expect("flush");
    }

    fn send(&mut self, v: &Value) {
        let body = v.to_string();
        self.write_raw(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and returns its whole response (`result` or `error`).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        self.response(&json!(id))
    }

    fn response(&mut self, id: &Value) -> Value {
        loop {
            let v = self.rx.recv_timeout(WAIT).expect("an answer in time");
            if v.get("method").is_some() && v.get("id").is_none() {
                self.notes.push(v);
                continue;
            }
            if v["id"] == *id {
                return v;
            }
        }
    }

    fn result(&mut self, method: &str, params: Value) -> Value {
        let r = self.request(method, params);
        assert!(r.get("error").is_none(), "{method} failed: {r}");
        r["result"].clone()
    }

    fn initialize(&mut self) -> Value {
        let r = self.result("initialize", json!({ "processId": null, "rootUri": null, "capabilities": {} }));
        self.notify("initialized", json!({}));
        r
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        if let Some(i) = self.notes.iter().position(|n| is_diagnostics_for(n, uri)) {
            let n = self.notes.remove(i);
            return n["params"]["diagnostics"].as_array().cloned().unwrap_or_default();
        }
        loop {
            let v = self.rx.recv_timeout(WAIT).expect("diagnostics in time");
            if is_diagnostics_for(&v, uri) {
                return v["params"]["diagnostics"].as_array().cloned().unwrap_or_default();
            }
            if v.get("method").is_some() {
                self.notes.push(v);
            }
        }
    }

    fn open(&mut self, uri: &str, text: &str) {
        let doc = json!({ "uri": uri, "languageId": "warden", "version": 1, "text": text });
        self.notify("textDocument/didOpen", json!({ "textDocument": doc }));
    }

    fn change(&mut self, uri: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [{ "text": text }] }),
        );
    }

    /// `shutdown` then `exit`; the exit code.
    fn stop(mut self) -> Option<i32> {
        let r = self.request("shutdown", Value::Null);
        assert_eq!(r["result"], Value::Null, "{r}");
        self.notify("exit", Value::Null);
        drop(self.stdin.take());
        self.child.wait().expect("exits").code()
    }
}

fn is_diagnostics_for(v: &Value, uri: &str) -> bool {
    v["method"] == "textDocument/publishDiagnostics" && v["params"]["uri"] == uri
}

fn at(uri: &str, line: u32, character: u32) -> Value {
    json!({ "textDocument": { "uri": uri }, "position": { "line": line, "character": character } })
}

/// A project on disk: a manifest with typed and environment configuration, three rule files
/// (one with two errors), a list file.
struct Project {
    dir: PathBuf,
}

const A_RULE: &str = "rule \"first\" {
    let domain = email_domain(user.email)
    deny \"blocked\" if domain in list(\"blocked.txt\")
    deny \"too many\" if user.logins_count > config.MAX_LOGINS
}
";

const B_RULE: &str = "rule \"first\" {
    deny unless user.emial_verified
}
";

/// A line with characters outside the BMP and accents before the error.
const C_RULE: &str = "rule \"ünïcode 🙂\" {
    log \"héllo 🙂 wörld\" if user.nmae == \"日本\"
    log \"🙂🙂\" if user.name == \"é\"
}
";

impl Project {
    fn new(name: &str) -> Project {
        let dir = std::env::temp_dir().join(format!("warden-lsp-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("rules")).expect("project dir");
        std::fs::write(
            dir.join("warden.toml"),
            "[pipeline]\nrules = [\"rules/a.rule\", \"rules/b.rule\", \"rules/c.rule\"]\n\n[configuration]\nMAX_LOGINS = { value = \"100\", type = \"int\" }\nAPI_SECRET = { env = \"WARDEN_LSP_TEST_SECRET\" }\n",
        )
        .expect("manifest");
        std::fs::write(dir.join("rules/a.rule"), A_RULE).expect("a.rule");
        std::fs::write(dir.join("rules/b.rule"), B_RULE).expect("b.rule");
        std::fs::write(dir.join("rules/c.rule"), C_RULE).expect("c.rule");
        std::fs::write(dir.join("rules/blocked.txt"), "evil.example\n").expect("list");
        Project { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    fn uri(&self, rel: &str) -> String {
        uri_of(&self.path(rel))
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn uri_of(path: &Path) -> String {
    let mut s = String::from("file://");
    for b in path.to_str().expect("utf-8 path").bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => s.push(b as char),
            _ => s.push_str(&format!("%{b:02X}")),
        }
    }
    s
}

fn codes(diags: &[Value]) -> Vec<String> {
    diags.iter().map(|d| d["code"].as_str().unwrap_or_default().to_string()).collect()
}

fn hover_text(v: &Value) -> String {
    v["contents"]["value"].as_str().unwrap_or_default().to_string()
}

fn labels(v: &Value) -> Vec<String> {
    let items = v.as_array().or_else(|| v["items"].as_array()).cloned().unwrap_or_default();
    items.iter().map(|i| i["label"].as_str().unwrap_or_default().to_string()).collect()
}

#[test]
fn diagnostics_code_actions_and_unsaved_buffers() {
    let p = Project::new("diags");
    let mut c = Client::start();
    let init = c.initialize();
    let caps = &init["capabilities"];
    assert_eq!(caps["textDocumentSync"]["change"], 1, "full sync: {caps}");
    assert_eq!(caps["textDocumentSync"]["openClose"], true);
    assert_eq!(caps["hoverProvider"], true);
    assert_eq!(caps["definitionProvider"], true);
    assert_eq!(caps["documentSymbolProvider"], true);
    assert_eq!(caps["completionProvider"]["triggerCharacters"], json!([".", "\""]));
    assert_eq!(caps["codeActionProvider"]["codeActionKinds"], json!(["quickfix"]));
    assert_eq!(caps["positionEncoding"], "utf-16");
    assert_eq!(init["serverInfo"]["name"], "warden");

    // Opening one file checks its whole project: the errors of the other files are published.
    let b = p.uri("rules/b.rule");
    c.open(&p.uri("rules/a.rule"), A_RULE);
    assert_eq!(c.diagnostics(&p.uri("rules/a.rule")), Vec::<Value>::new());
    let diags = c.diagnostics(&b);
    assert_eq!(codes(&diags), ["E0107", "E0100"]);
    let dup = &diags[0];
    assert_eq!(dup["severity"], 1);
    assert_eq!(dup["source"], "warden");
    assert_eq!(dup["range"], json!({ "start": { "line": 0, "character": 5 }, "end": { "line": 0, "character": 12 } }));
    assert_eq!(dup["relatedInformation"][0]["location"]["uri"], p.uri("rules/a.rule"));
    assert_eq!(
        dup["relatedInformation"][0]["location"]["range"],
        json!({ "start": { "line": 0, "character": 5 }, "end": { "line": 0, "character": 12 } })
    );
    assert_eq!(dup["relatedInformation"][0]["message"], "first defined here");
    let field = &diags[1];
    assert_eq!(
        field["range"],
        json!({ "start": { "line": 1, "character": 21 }, "end": { "line": 1, "character": 35 } })
    );
    assert_eq!(field["message"], "unknown field `emial_verified` in `user`\nhelp: did you mean `user.email_verified`?");
    // Columns are UTF-16 code units: `é`, `ö` are one, `🙂` two.
    let diags = c.diagnostics(&p.uri("rules/c.rule"));
    assert_eq!(codes(&diags), ["E0100"]);
    assert_eq!(
        diags[0]["range"],
        json!({ "start": { "line": 1, "character": 33 }, "end": { "line": 1, "character": 37 } })
    );

    // The did-you-mean as a quick fix.
    let actions = c.result(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": b },
            "range": { "start": { "line": 1, "character": 25 }, "end": { "line": 1, "character": 25 } },
            "context": { "diagnostics": [] }
        }),
    );
    let actions = actions.as_array().expect("a list of actions");
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(actions[0]["kind"], "quickfix");
    assert_eq!(actions[0]["title"], "replace with `email_verified`");
    let edits = &actions[0]["edit"]["changes"][&b];
    assert_eq!(
        edits,
        &json!([{ "range": { "start": { "line": 1, "character": 21 }, "end": { "line": 1, "character": 35 } }, "newText": "email_verified" }])
    );
    let c_fix = c.result(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": p.uri("rules/c.rule") },
            "range": { "start": { "line": 1, "character": 36 }, "end": { "line": 1, "character": 37 } },
            "context": { "diagnostics": [] }
        }),
    );
    assert_eq!(c_fix[0]["edit"]["changes"][p.uri("rules/c.rule")][0]["newText"], "name");

    // An unsaved buffer is checked instead of the file: fixing it in the editor clears the
    // error, though the file on disk still has it.
    c.open(&b, B_RULE);
    assert_eq!(codes(&c.diagnostics(&b)), ["E0107", "E0100"]);
    let fixed = "rule \"second\" {\n    deny unless user.email_verified\n}\n";
    c.change(&b, 2, fixed);
    assert_eq!(c.diagnostics(&b), Vec::<Value>::new());
    assert_eq!(std::fs::read_to_string(p.path("rules/b.rule")).expect("on disk"), B_RULE);
    // A new error as you type, then closing the buffer goes back to the file.
    c.change(&b, 3, "rule \"second\" {\n    deny unless user.email_verified ==\n}\n");
    assert_eq!(codes(&c.diagnostics(&b)), ["E0001"]);
    c.notify("textDocument/didClose", json!({ "textDocument": { "uri": b } }));
    assert_eq!(codes(&c.diagnostics(&b)), ["E0107", "E0100"]);
    c.notify("textDocument/didSave", json!({ "textDocument": { "uri": p.uri("rules/a.rule") } }));
    assert_eq!(codes(&c.diagnostics(&b)), ["E0107", "E0100"]);

    assert_eq!(c.stop(), Some(0));
}

#[test]
fn hover_completion_definition_symbols() {
    let p = Project::new("nav");
    let mut c = Client::start();
    c.initialize();
    let a = p.uri("rules/a.rule");
    c.open(&a, A_RULE);

    // Hover: a schema path, a builtin, a let (at its use), a config key.
    let h = c.result("textDocument/hover", at(&a, 1, 36));
    assert_eq!(h["range"], json!({ "start": { "line": 1, "character": 30 }, "end": { "line": 1, "character": 40 } }));
    let text = hover_text(&h);
    assert!(text.starts_with("```warden\nuser.email: string\n```"), "{text}");
    assert!(text.contains("writable with `set`"), "{text}");
    assert!(text.contains("the user's email address"), "{text}");
    let text = hover_text(&c.result("textDocument/hover", at(&a, 1, 20)));
    assert!(text.contains("email_domain(email) -> string"), "{text}");
    assert!(text.contains("example: `email_domain("), "{text}");
    let text = hover_text(&c.result("textDocument/hover", at(&a, 2, 24)));
    assert!(text.starts_with("```warden\nlet domain: string\n```"), "{text}");
    let text = hover_text(&c.result("textDocument/hover", at(&a, 3, 50)));
    assert!(text.contains("config.MAX_LOGINS: int"), "{text}");
    assert!(text.contains("MAX_LOGINS = { value = \"100\", type = \"int\" }"), "{text}");
    // Nothing there: a null answer.
    assert_eq!(c.result("textDocument/hover", at(&a, 0, 0)), Value::Null);

    // An environment-backed key shows its variable's name, never a value.
    c.change(&a, 2, "rule \"first\" {\n    log config.API_SECRET\n}\n");
    let text = hover_text(&c.result("textDocument/hover", at(&a, 1, 16)));
    assert!(text.contains("API_SECRET = { env = \"WARDEN_LSP_TEST_SECRET\" }"), "{text}");

    // Completion after `user.` in a rule that does not parse yet.
    c.change(&a, 2, "rule \"first\" {\n    log config.API_SECRET\n    deny if user.\n}\n");
    let items = c.result("textDocument/completion", at(&a, 2, 17));
    let names = labels(&items);
    assert!(names.contains(&"email_verified".to_string()) && names.contains(&"app_metadata".to_string()), "{names:?}");
    assert!(!names.contains(&"deny".to_string()), "{names:?}");
    // After `config.`: the declared keys.
    c.change(&a, 3, "rule \"first\" {\n    deny if user.logins_count > config.\n}\n");
    let names = labels(&c.result("textDocument/completion", at(&a, 1, 39)));
    assert_eq!(names, ["API_SECRET", "MAX_LOGINS"]);
    // After `context.request.`: that object's fields.
    c.change(&a, 4, "rule \"first\" {\n    deny if context.request.\n}\n");
    let names = labels(&c.result("textDocument/completion", at(&a, 1, 28)));
    assert!(names.contains(&"ip".to_string()) && names.contains(&"geoip".to_string()), "{names:?}");
    // At the start of a statement: keywords, builtins and the rule's lets.
    c.change(&a, 5, "rule \"first\" {\n    let dom = \"x\"\n    \n}\n");
    let names = labels(&c.result("textDocument/completion", at(&a, 2, 4)));
    for n in ["deny", "claim", "when", "email_domain", "dom", "user", "context", "config"] {
        assert!(names.contains(&n.to_string()), "{n} in {names:?}");
    }
    // In `list("`: the files beside the rule.
    c.change(&a, 6, "rule \"first\" {\n    deny if user.email in list(\"\n}\n");
    let names = labels(&c.result("textDocument/completion", at(&a, 1, 32)));
    assert_eq!(names, ["blocked.txt"]);

    // Definition: a let, a list file, a config key's entry, a manifest entry's file.
    c.change(&a, 7, A_RULE);
    let d = c.result("textDocument/definition", at(&a, 2, 24));
    assert_eq!(d["uri"], a);
    assert_eq!(d["range"], json!({ "start": { "line": 1, "character": 8 }, "end": { "line": 1, "character": 14 } }));
    let d = c.result("textDocument/definition", at(&a, 2, 42));
    assert_eq!(d["uri"], p.uri("rules/blocked.txt"));
    let d = c.result("textDocument/definition", at(&a, 3, 50));
    assert_eq!(d["uri"], p.uri("warden.toml"));
    assert_eq!(d["range"]["start"]["line"], 4);
    let manifest = p.uri("warden.toml");
    let d = c.result("textDocument/definition", at(&manifest, 1, 28));
    assert_eq!(d["uri"], p.uri("rules/b.rule"));

    // Symbols: the rules of a file.
    std::fs::write(p.path("rules/two.rule"), "rule \"one\" {\n    log \"1\"\n}\n\nrule \"two\" {\n    log \"2\"\n}\n")
        .expect("write");
    let s = c.result("textDocument/documentSymbol", json!({ "textDocument": { "uri": p.uri("rules/two.rule") } }));
    let names: Vec<&str> = s.as_array().expect("symbols").iter().filter_map(|x| x["name"].as_str()).collect();
    assert_eq!(names, ["one", "two"]);
    assert_eq!(s[1]["range"]["start"], json!({ "line": 4, "character": 0 }));
    assert_eq!(
        s[1]["selectionRange"],
        json!({ "start": { "line": 4, "character": 5 }, "end": { "line": 4, "character": 10 } })
    );
    // A rule being typed (it does not parse) stays in the outline.
    let two = p.uri("rules/two.rule");
    c.open(&two, "rule \"one\" {\n    log \"1\"\n}\n\nrule \"two\" {\n    log (\n");
    let s = c.result("textDocument/documentSymbol", json!({ "textDocument": { "uri": two } }));
    let names: Vec<&str> = s.as_array().expect("symbols").iter().filter_map(|x| x["name"].as_str()).collect();
    assert_eq!(names, ["one", "two"]);

    // A position on a non-ASCII line maps to the right place.
    let cu = p.uri("rules/c.rule");
    c.open(&cu, C_RULE);
    let h = c.result("textDocument/hover", at(&cu, 2, 24));
    assert!(hover_text(&h).contains("user.name: string"), "{h}");
    assert_eq!(h["range"], json!({ "start": { "line": 2, "character": 18 }, "end": { "line": 2, "character": 27 } }));
    assert_eq!(c.stop(), Some(0));
}

#[test]
fn bad_input_never_ends_the_server() {
    let p = Project::new("robust");
    let mut c = Client::start();
    // Before initialize: an error, the server stays.
    let r = c.request("textDocument/hover", at(&p.uri("rules/a.rule"), 0, 0));
    assert_eq!(r["error"]["code"], -32002, "{r}");
    c.initialize();
    let r = c.request("initialize", json!({ "capabilities": {} }));
    assert_eq!(r["error"]["code"], -32600, "{r}");

    // Malformed JSON, a frame without Content-Length, a bad length: each a parse error.
    c.write_raw(b"Content-Length: 9\r\n\r\n{not json");
    let r = c.response(&Value::Null);
    assert_eq!(r["error"]["code"], -32700, "{r}");
    c.write_raw(b"X-Nothing: 1\r\n\r\n");
    assert_eq!(c.response(&Value::Null)["error"]["code"], -32700);
    c.write_raw(b"Content-Length: many\r\n\r\n");
    assert_eq!(c.response(&Value::Null)["error"]["code"], -32700);
    // JSON that is not a JSON-RPC message.
    c.send(&json!([1, 2, 3]));
    assert_eq!(c.response(&Value::Null)["error"]["code"], -32700);

    // An unknown method: MethodNotFound; an unknown notification: nothing.
    let r = c.request("warden/unknown", json!({}));
    assert_eq!(r["error"]["code"], -32601, "{r}");
    c.notify("warden/whatever", json!({ "x": 1 }));
    // Bad params.
    let r = c.request("textDocument/hover", json!({ "nope": true }));
    assert_eq!(r["error"]["code"], -32602, "{r}");
    // A request on a file that is neither open nor on disk, and on a URI that is no file.
    let r = c.request("textDocument/hover", at(&p.uri("rules/missing.rule"), 0, 0));
    assert_eq!(r["error"]["code"], -32602, "{r}");
    let r = c.request("textDocument/definition", at("untitled:Untitled-1", 0, 0));
    assert_eq!(r["error"]["code"], -32602, "{r}");
    // Positions past the end of the text.
    c.open(&p.uri("rules/a.rule"), A_RULE);
    assert_eq!(c.result("textDocument/hover", at(&p.uri("rules/a.rule"), 999, 999)), Value::Null);

    // A huge buffer (over the 16 MiB a rule file may hold) and a binary one: diagnostics,
    // not a crash.
    let huge = format!("rule \"big\" {{\n{}}}\n", "    log \"x\"\n".repeat(1_600_000));
    let big = p.uri("rules/big.rule");
    c.open(&big, &huge);
    assert_eq!(codes(&c.diagnostics(&big)), ["E0201"]);
    let binary: String = (0u8..=255).cycle().take(100_000).map(char::from).collect();
    let bin = p.uri("rules/bin.rule");
    c.open(&bin, &binary);
    assert!(codes(&c.diagnostics(&bin)).contains(&"E0001".to_string()));
    let r = c.request("textDocument/completion", at(&bin, 3, 7));
    assert!(r.get("result").is_some(), "{r}");

    // Still answering.
    let text = hover_text(&c.result("textDocument/hover", at(&p.uri("rules/a.rule"), 1, 36)));
    assert!(text.contains("user.email: string"), "{text}");

    // After shutdown, requests are refused; exit ends with 0.
    let r = c.request("shutdown", Value::Null);
    assert_eq!(r["result"], Value::Null);
    let r = c.request("textDocument/hover", at(&p.uri("rules/a.rule"), 1, 36));
    assert_eq!(r["error"]["code"], -32600, "{r}");
    c.notify("exit", Value::Null);
    drop(c.stdin.take());
    assert_eq!(c.child.wait().expect("exits").code(), Some(0));
}

#[test]
fn exit_without_shutdown_and_end_of_input() {
    let mut c = Client::start();
    c.initialize();
    c.notify("exit", Value::Null);
    assert_eq!(c.child.wait().expect("exits").code(), Some(1));
    let mut c = Client::start();
    c.initialize();
    drop(c.stdin.take());
    assert_eq!(c.child.wait().expect("exits").code(), Some(1));
}

#[test]
fn a_lone_rule_file_is_checked_alone() {
    let dir = std::env::temp_dir().join(format!("warden-lsp-lone-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("lone.rule");
    std::fs::write(&path, "rule \"r\" {\n    deny unless user.email_verified\n}\n").expect("write");
    let uri = uri_of(&path);
    let mut c = Client::start();
    c.initialize();
    c.open(&uri, "rule \"r\" {\n    deny unless lower(user.email) == \"x\" and verified\n}\n");
    let d = c.diagnostics(&uri);
    assert_eq!(codes(&d), ["E0101"]);
    // A buffer that starts with a byte-order mark: the editor counts it on the first line.
    c.change(&uri, 2, "\u{FEFF}rule \"r\" { deny unless user.emial_verified }\n");
    let d = c.diagnostics(&uri);
    assert_eq!(codes(&d), ["E0100"]);
    assert_eq!(
        d[0]["range"],
        json!({ "start": { "line": 0, "character": 29 }, "end": { "line": 0, "character": 43 } })
    );
    assert_eq!(c.stop(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Formatting: the unsaved buffer in `warden fmt`'s layout as one edit over the whole
/// document; no edit when it already is; `null` when it does not parse.
#[test]
fn formatting_uses_the_buffer_and_the_formatter() {
    let dir = std::env::temp_dir().join(format!("warden-lsp-fmt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("f.rule");
    std::fs::write(&path, "rule \"on disk\" {\n    deny if user.blocked\n}\n").expect("write");
    let uri = uri_of(&path);
    let mut c = Client::start();
    let init = c.initialize();
    assert_eq!(init["capabilities"]["documentFormattingProvider"], json!(true));
    let messy = "rule \"r\"{ # why\n  deny   if user.blocked}\n";
    c.open(&uri, messy);
    let opts = json!({ "tabSize": 4, "insertSpaces": true });
    let edits = c.result("textDocument/formatting", json!({ "textDocument": { "uri": uri }, "options": opts }));
    let expected = warden::format_source(messy).expect("formats");
    assert_eq!(
        edits,
        json!([{ "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 2, "character": 0 } }, "newText": expected }])
    );
    assert_eq!(expected, "rule \"r\" {\n    # why\n    deny if user.blocked\n}\n");
    c.change(&uri, 2, &expected);
    let edits = c.result("textDocument/formatting", json!({ "textDocument": { "uri": uri }, "options": opts }));
    assert_eq!(edits, json!([]));
    c.change(&uri, 3, "rule \"r\" { deny if }\n");
    let edits = c.result("textDocument/formatting", json!({ "textDocument": { "uri": uri }, "options": opts }));
    assert_eq!(edits, Value::Null);
    assert_eq!(std::fs::read_to_string(&path).expect("read"), "rule \"on disk\" {\n    deny if user.blocked\n}\n");
    // A file that is not open is read as rule files are, bounded: one over 16 MiB is an error
    // (it was read whole, whatever its size).
    let big = dir.join("big.rule");
    std::fs::write(&big, "# x\n".repeat(4 * 1024 * 1024 + 1)).expect("write");
    let r = c.request("textDocument/formatting", json!({ "textDocument": { "uri": uri_of(&big) }, "options": opts }));
    assert!(r["error"]["message"].as_str().is_some_and(|m| m.contains("larger than the 16 MiB limit")), "{r}");
    assert_eq!(c.stop(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}
