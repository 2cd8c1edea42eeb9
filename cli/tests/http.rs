//! JavaScript rules that call out (issue 18): `request`, `axios`, `node-fetch` and `fetch`
//! against a real upstream on a loopback port (plain and TLS with a test CA), in process and
//! in worker processes, under the manifest's `[http]` policy: origins and prefixes, redirects,
//! addresses a host name resolves to, literal addresses, the per-login bounds, the deadline.
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

mod upstream;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value as Json, json};
use upstream::{Answer, TestCa, Upstream};
use warden::{Exec, JsWorkers, Pipeline};

const WARDEN: &str = env!("CARGO_BIN_EXE_warden");

#[derive(Clone, Copy, Debug)]
enum Mode {
    InProcess,
    Workers,
}

const MODES: [Mode; 2] = [Mode::InProcess, Mode::Workers];

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-http-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A project: `files` in pipeline order (`.js` and `.rule`), and `http` as the `[http]` table's
/// body; `extra` files beside them.
fn project(name: &str, http: &str, files: &[(&str, &str)], extra: &[(&str, &str)]) -> PathBuf {
    let dir = scratch(name);
    let rules: Vec<String> = files.iter().map(|(f, _)| format!("{f:?}")).collect();
    let manifest = format!("[pipeline]\nrules = [{}]\ntimeout_ms = 2000\n\n[http]\n{http}\n", rules.join(", "));
    std::fs::write(dir.join("warden.toml"), manifest).unwrap();
    for (f, text) in files.iter().chain(extra) {
        std::fs::write(dir.join(f), text).unwrap();
    }
    dir
}

/// Loads serialize: where JavaScript runs is chosen, process-wide, when a pipeline loads.
static LOADING: Mutex<()> = Mutex::new(());

fn load(dir: &Path, mode: Mode) -> Pipeline {
    let _guard = LOADING.lock().unwrap_or_else(|e| e.into_inner());
    if let Mode::Workers = mode {
        warden::set_js_isolation(Some(JsWorkers::new(vec![WARDEN.into(), "__js-worker".into()])));
    }
    let p = Pipeline::from_manifest(dir.join("warden.toml"));
    warden::set_js_isolation(None);
    match p {
        Ok(p) => p,
        Err(e) => panic!("{} does not load: {e}", dir.display()),
    }
}

fn login(p: &Pipeline) -> Json {
    let user = json!({ "user_id": "auth0|1", "email": "ada@example.com", "email_verified": true });
    let context = json!({ "clientName": "App", "protocol": "oidc-basic-profile", "request": { "ip": "203.0.113.9" } });
    serde_json::to_value(p.execute(&user, &context, &Exec::at(1_790_000_000_000)).unwrap()).unwrap()
}

fn claim(out: &Json, name: &str) -> Json {
    out["id_token"][format!("https://x/{name}")].clone()
}

/// An upstream that answers JSON about what it was asked.
fn echo() -> Upstream {
    Upstream::http(|s| match s.target.as_str() {
        t if t.starts_with("/person") => {
            Answer::json(200, &json!({ "company": "Analytical Engines", "seen": s.target }))
        }
        "/score" => Answer::json(200, &json!({ "score": 0.93, "auth": s.header("authorization"), "body": s.body })),
        "/missing" => Answer::json(404, &json!({ "error": "no such person" })),
        "/text" => Answer::text(200, "plain words"),
        _ => Answer::text(500, "unexpected"),
    })
}

/// Each client API, the way legacy rules use it, against one upstream: the claims each rule
/// sets from what it got back.
#[test]
fn request_axios_and_fetch_reach_an_allowed_upstream() {
    let up = echo();
    let origin = up.origin();
    let cases: Vec<(&str, String, Json)> = vec![
        (
            "request with json and qs",
            format!(
                "function (user, context, callback) {{ request.get({{ url: '{origin}/person', qs: {{ email: user.email }}, json: true }}, function (err, resp, body) {{ \
                   if (err) return callback(err); context.idToken['https://x/r'] = [resp.statusCode, body.company, body.seen]; callback(null, user, context); }}); }}"
            ),
            json!([200, "Analytical Engines", "/person?email=ada%40example.com"]),
        ),
        (
            "require('request') post with form and basic auth",
            format!(
                "function (user, context, callback) {{ const request = require('request'); request.post({{ url: '{origin}/score', form: {{ a: 1 }}, auth: {{ user: 'u', pass: 'p' }}, json: true }}, function (err, resp, body) {{ \
                   if (err) return callback(err); context.idToken['https://x/r'] = [body.auth, body.body]; callback(null, user, context); }}); }}"
            ),
            json!(["Basic dTpw", "a=1"]),
        ),
        (
            "axios post with a bearer token and JSON data",
            format!(
                "async function (user, context, callback) {{ const axios = require('axios'); \
                   const r = await axios.post('{origin}/score', {{ email: user.email }}, {{ headers: {{ Authorization: 'Bearer t0k' }} }}); \
                   context.idToken['https://x/r'] = [r.status, r.data.score, r.data.auth, JSON.parse(r.data.body).email]; return callback(null, user, context); }}"
            ),
            json!([200, 0.93, "Bearer t0k", "ada@example.com"]),
        ),
        (
            "axios rejects a 404 with the response",
            format!(
                "function (user, context, callback) {{ require('axios').get('{origin}/missing').then(() => callback(new Error('no')), (e) => {{ \
                   context.idToken['https://x/r'] = [e.message, e.response.status, e.response.data.error, e.isAxiosError]; callback(null, user, context); }}); }}"
            ),
            json!(["Request failed with status code 404", 404, "no such person", true]),
        ),
        (
            "global fetch",
            format!(
                "async function (user, context, callback) {{ const r = await fetch('{origin}/person?id=7'); const j = await r.json(); \
                   context.idToken['https://x/r'] = [r.ok, r.status, r.headers.get('Content-Type'), j.seen]; callback(null, user, context); }}"
            ),
            json!([true, 200, "application/json", "/person?id=7"]),
        ),
        (
            "node-fetch with text()",
            format!(
                "function (user, context, callback) {{ const fetch = require('node-fetch'); fetch('{origin}/text').then(r => r.text()).then(t => {{ \
                   context.idToken['https://x/r'] = t; callback(null, user, context); }}, callback); }}"
            ),
            json!("plain words"),
        ),
    ];
    let http = format!("allow = [\"{origin}\"]");
    for mode in MODES {
        for (name, rule, want) in &cases {
            let dir = project("apis", &http, &[("r.js", rule)], &[]);
            let out = login(&load(&dir, mode));
            assert_eq!(out["decision"], "allow", "{name} ({mode:?}): {out:#}");
            assert_eq!(claim(&out, "r"), *want, "{name} ({mode:?}): {out:#}");
        }
    }
}

/// A rule that reads what a refused request did: `[code, message]` in claim `e`.
fn refusal_rule(url: &str) -> String {
    format!(
        "function (user, context, callback) {{ request('{url}', function (err, resp) {{ \
           context.idToken['https://x/e'] = err ? [err.code, err.message] : ['none', resp.statusCode]; callback(null, user, context); }}); }}"
    )
}

/// Origins, ports, schemes and prefixes the allowlist does not name are refused before
/// anything is sent; the rule sees the error and the refusal is logged with the rule's name.
#[test]
fn what_the_allowlist_does_not_name_is_refused_and_logged() {
    let up = echo();
    let origin = up.origin();
    let other_port = format!("http://127.0.0.1:{}", up.addr.port().wrapping_add(1).max(1));
    let http = format!("allow = [\"{origin}/person/\"]");
    for url in [
        format!("{origin}/score"),                             // outside the prefix
        format!("{origin}/person"),                            // the prefix ends with its slash
        format!("{other_port}/person/x"),                      // another port
        "http://169.254.169.254/latest/meta-data".to_string(), // cloud metadata
        "http://[::1]/person/x".to_string(),
        "file:///etc/passwd".to_string(),
        "ftp://127.0.0.1/person/".to_string(),
    ] {
        for mode in MODES {
            let dir = project("refused", &http, &[("r.js", &refusal_rule(&url))], &[]);
            let out = login(&load(&dir, mode));
            let e = claim(&out, "e");
            assert_eq!(e[0], "EPOLICY", "{url} ({mode:?}): {out:#}");
            let logs = out["logs"].as_array().unwrap();
            assert!(
                logs.iter().any(|l| l["rule"] == "r"
                    && l["level"] == "warn"
                    && l["message"].as_str().unwrap().contains("refused")),
                "{url} ({mode:?}): {out:#}"
            );
        }
    }
    assert!(up.seen().is_empty(), "nothing reached the upstream: {:?}", up.seen());
    // And what it names is reached.
    let dir = project("refused-ok", &http, &[("r.js", &refusal_rule(&format!("{origin}/person/1")))], &[]);
    assert_eq!(claim(&login(&load(&dir, Mode::InProcess)), "e"), json!(["none", 200]));
}

/// Methods that are not web API calls are refused before anything is sent.
#[test]
fn connect_and_trace_are_refused() {
    let up = echo();
    let origin = up.origin();
    for method in ["CONNECT", "trace", "GET X"] {
        let rule = format!(
            "function (user, context, callback) {{ request({{ method: '{method}', url: '{origin}/person' }}, function (err, resp) {{ \
               context.idToken['https://x/e'] = err ? err.code : resp.statusCode; callback(null, user, context); }}); }}"
        );
        let dir = project("methods", &format!("allow = [\"{origin}\"]"), &[("r.js", &rule)], &[]);
        assert_eq!(claim(&login(&load(&dir, Mode::InProcess)), "e"), json!("EINVAL"), "{method}");
    }
    assert!(up.seen().is_empty(), "{:?}", up.seen());
}

/// Without an `[http]` table, no request is allowed.
#[test]
fn a_manifest_without_http_allows_nothing() {
    let up = echo();
    let dir = scratch("no-http");
    std::fs::write(dir.join("warden.toml"), "[pipeline]\nrules = [\"r.js\"]\n").unwrap();
    std::fs::write(dir.join("r.js"), refusal_rule(&format!("{}/person", up.origin()))).unwrap();
    for mode in MODES {
        let out = login(&load(&dir, mode));
        assert_eq!(claim(&out, "e")[0], "EPOLICY", "{mode:?}: {out:#}");
        assert!(claim(&out, "e")[1].as_str().unwrap().contains("no [http] section"), "{out:#}");
    }
    assert!(up.seen().is_empty());
}

/// Redirects are followed only to allowed origins, each hop checked; credentials do not
/// follow a redirect to another origin.
#[test]
fn redirects_are_followed_only_where_the_allowlist_says() {
    let target = echo();
    let target_origin = target.origin();
    let t2 = target_origin.clone();
    let front = Upstream::http(move |s| match s.target.as_str() {
        "/here" => Answer::redirect(302, "/person/moved"),
        "/away" => Answer::redirect(302, &format!("{t2}/person/x")),
        "/meta" => Answer::redirect(307, "http://169.254.169.254/latest/meta-data"),
        t if t.starts_with("/person") => Answer::json(200, &json!({ "company": "front", "seen": s.target })),
        _ => Answer::text(404, ""),
    });
    let origin = front.origin();
    let http = format!("allow = [\"{origin}\"]");
    let rule = |path: &str| {
        format!(
            "async function (user, context, callback) {{ try {{ const r = await fetch('{origin}{path}'); const j = await r.json(); \
               context.idToken['https://x/e'] = ['ok', j.seen, r.redirected]; }} catch (e) {{ context.idToken['https://x/e'] = [e.cause.code, e.cause.message]; }} \
               callback(null, user, context); }}"
        )
    };
    for mode in MODES {
        let dir = project("redirect-ok", &http, &[("r.js", &rule("/here"))], &[]);
        assert_eq!(claim(&login(&load(&dir, mode)), "e"), json!(["ok", "/person/moved", true]), "{mode:?}");
        let dir = project("redirect-away", &http, &[("r.js", &rule("/away"))], &[]);
        let e = claim(&login(&load(&dir, mode)), "e");
        assert_eq!(e[0], "EPOLICY", "{mode:?}: {e}");
        let dir = project("redirect-meta", &http, &[("r.js", &rule("/meta"))], &[]);
        assert_eq!(claim(&login(&load(&dir, mode)), "e")[0], "EPOLICY", "{mode:?}");
    }
    assert!(target.seen().is_empty(), "the redirect target was never reached: {:?}", target.seen());
}

/// A host name is checked on the address it resolves to: `localhost` is loopback, so an
/// allow entry naming `localhost` does not open it. `resolve` does (staging and tests), and
/// the allowlist still applies to the origin as written.
#[test]
fn host_names_resolving_to_private_addresses_are_refused_unless_resolve_maps_them() {
    let up = echo();
    let port = up.addr.port();
    let by_name = format!("http://localhost:{port}");
    let dir = project(
        "dns",
        &format!("allow = [\"{by_name}\"]"),
        &[("r.js", &refusal_rule(&format!("{by_name}/person")))],
        &[],
    );
    for mode in MODES {
        let e = claim(&login(&load(&dir, mode)), "e");
        assert_eq!(e[0], "EPOLICY", "{mode:?}: {e}");
        assert!(e[1].as_str().unwrap().contains("private or special address"), "{e}");
    }
    assert!(up.seen().is_empty(), "{:?}", up.seen());

    let staged = format!("http://api.test:{port}");
    let http = format!("allow = [\"{staged}\"]\nresolve = {{ \"api.test:{port}\" = \"127.0.0.1:{port}\" }}");
    let dir = project("dns-resolve", &http, &[("r.js", &refusal_rule(&format!("{staged}/person")))], &[]);
    for mode in MODES {
        assert_eq!(claim(&login(&load(&dir, mode)), "e"), json!(["none", 200]), "{mode:?}");
    }
    assert_eq!(up.seen().len(), 2);
}

/// HTTPS to an upstream whose certificate a test CA signed: trusted with `ca_file` (over
/// HTTP/2, which the upstream offers by ALPN), refused without it.
#[test]
fn tls_with_a_test_ca() {
    let ca = TestCa::new();
    let up = Upstream::https(&ca, |s| Answer::json(200, &json!({ "company": "tls", "version": s.version })));
    let port = up.addr.port();
    let url = format!("https://api.test:{port}/person");
    let base =
        format!("allow = [\"https://api.test:{port}\"]\nresolve = {{ \"api.test:{port}\" = \"127.0.0.1:{port}\" }}");
    let rule = format!(
        "function (user, context, callback) {{ request({{ url: '{url}', json: true }}, function (err, resp, body) {{ \
           context.idToken['https://x/e'] = err ? [err.code, err.message] : ['ok', body.company, body.version]; callback(null, user, context); }}); }}"
    );
    for mode in MODES {
        let dir =
            project("tls", &format!("{base}\nca_file = \"ca.pem\""), &[("r.js", &rule)], &[("ca.pem", &ca.ca_pem)]);
        // The upstream offers HTTP/2 by ALPN, and the client takes it.
        assert_eq!(claim(&login(&load(&dir, mode)), "e"), json!(["ok", "tls", "HTTP/2.0"]), "{mode:?}");
        let dir = project("tls-untrusted", &base, &[("r.js", &rule)], &[]);
        let e = claim(&login(&load(&dir, mode)), "e");
        assert_eq!(e[0], "ENETWORK", "{mode:?}: {e}");
        assert!(e[1].as_str().unwrap().to_lowercase().contains("certificate"), "{e}");
    }
}

/// An upstream that never answers: the login ends at its deadline with `cause: timeout`,
/// and the next login on the same pipeline succeeds.
#[test]
fn an_upstream_that_never_answers_ends_the_login_at_its_deadline() {
    let up =
        Upstream::http(|s| if s.target == "/hang" { Answer::Never } else { Answer::json(200, &json!({ "ok": true })) });
    let origin = up.origin();
    // The request's own limit is longer than the login's budget.
    let http = format!("allow = [\"{origin}\"]\ntimeout_ms = 60000");
    let rule = format!(
        "async function (user, context, callback) {{ const path = user.app_metadata && user.app_metadata.hang ? '/hang' : '/ok'; \
           const r = await require('axios').get('{origin}' + path); context.idToken['https://x/ok'] = r.data.ok; callback(null, user, context); }}"
    );
    for mode in MODES {
        let dir = project("hang", &http, &[("r.js", &rule)], &[]);
        let p = load(&dir, mode);
        let exec = Exec { timeout: Some(Duration::from_millis(1500)), ..Exec::at(1_790_000_000_000) };
        let hang = json!({ "user_id": "auth0|1", "app_metadata": { "hang": true } });
        let out = serde_json::to_value(p.execute(&hang, &json!({}), &exec).unwrap()).unwrap();
        assert_eq!(out["decision"], "deny", "{mode:?}: {out:#}");
        assert_eq!(out["error"]["cause"], "timeout", "{mode:?}: {out:#}");
        let fine = json!({ "user_id": "auth0|2" });
        let out = serde_json::to_value(p.execute(&fine, &json!({}), &exec).unwrap()).unwrap();
        assert_eq!(out["decision"], "allow", "{mode:?}: {out:#}");
        assert_eq!(claim(&out, "ok"), json!(true));
    }
}

/// A request's own timeout (the policy's, or the rule's) ends it with ETIMEDOUT, which the
/// rule sees; the login goes on.
#[test]
fn a_request_timeout_is_an_error_the_rule_sees() {
    let up = Upstream::http(|_| Answer::json(200, &json!({})).after(Duration::from_secs(5)));
    let origin = up.origin();
    let rule = format!(
        "function (user, context, callback) {{ request({{ url: '{origin}/slow', timeout: 100 }}, function (err) {{ \
           context.idToken['https://x/e'] = err && err.code; callback(null, user, context); }}); }}"
    );
    for mode in MODES {
        let dir = project("slow", &format!("allow = [\"{origin}\"]"), &[("r.js", &rule)], &[]);
        let out = login(&load(&dir, mode));
        assert_eq!(claim(&out, "e"), json!("ETIMEDOUT"), "{mode:?}: {out:#}");
    }
}

/// `max_response_bytes` bounds what a login reads, all responses together.
#[test]
fn oversize_responses_are_refused() {
    let up = Upstream::http(|_| Answer::text(200, &"x".repeat(5000)));
    let origin = up.origin();
    let rule = format!(
        "function (user, context, callback) {{ fetch('{origin}/big').then(r => r.text()).then(t => {{ context.idToken['https://x/e'] = t.length; callback(null, user, context); }}, \
           e => {{ context.idToken['https://x/e'] = e.cause.code; callback(null, user, context); }}); }}"
    );
    for (limit, want) in [(1000, json!("ELIMIT")), (10_000, json!(5000))] {
        for mode in MODES {
            let dir = project(
                "big",
                &format!("allow = [\"{origin}\"]\nmax_response_bytes = {limit}"),
                &[("r.js", &rule)],
                &[],
            );
            assert_eq!(claim(&login(&load(&dir, mode)), "e"), want, "{limit} {mode:?}");
        }
    }
}

/// `max_requests` counts a login's requests across its JavaScript steps, also when a
/// `.rule` step runs between them (a worker gets the count with the state).
#[test]
fn max_requests_counts_the_whole_login() {
    let up = echo();
    let origin = up.origin();
    let two = |name: &str| {
        format!(
            "async function (user, context, callback) {{ const out = []; for (let i = 0; i < 2; i++) {{ \
               try {{ await fetch('{origin}/person'); out.push('ok'); }} catch (e) {{ out.push(e.cause.code); }} }} \
               context.idToken['https://x/{name}'] = out; callback(null, user, context); }}"
        )
    };
    let middle = "rule \"between\" {\n    set user.nickname = \"ada\"\n}\n";
    for mode in MODES {
        let dir = project(
            "count",
            &format!("allow = [\"{origin}\"]\nmax_requests = 3"),
            &[("a.js", &two("a")), ("m.rule", middle), ("b.js", &two("b"))],
            &[],
        );
        let out = login(&load(&dir, mode));
        assert_eq!(claim(&out, "a"), json!(["ok", "ok"]), "{mode:?}: {out:#}");
        assert_eq!(claim(&out, "b"), json!(["ok", "ELIMIT"]), "{mode:?}: {out:#}");
    }
}

/// A notification sent without waiting (the rule calls back at once) still goes out.
#[test]
fn fire_and_forget_requests_are_sent() {
    let up = echo();
    let origin = up.origin();
    let rule = format!(
        "function (user, context, callback) {{ request.post({{ url: '{origin}/hooks/first-login', json: {{ text: 'first login: ' + user.email }} }}, function () {{}}); \
           callback(null, user, context); }}"
    );
    let dir = project("forget", &format!("allow = [\"{origin}/hooks/\"]"), &[("r.js", &rule)], &[]);
    // The pipelines stay loaded meanwhile (a worker's requests end with the worker).
    let pipelines: Vec<Pipeline> = MODES.iter().map(|m| load(&dir, *m)).collect();
    for p in &pipelines {
        assert_eq!(login(p)["decision"], "allow");
    }
    let seen = up.wait_for(2);
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen.iter().all(|s| s == r#"POST /hooks/first-login {"text":"first login: ada@example.com"}"#), "{seen:?}");
}

/// Many logins wait on the upstream at once, each on its own thread, and all complete
/// (the figures are in BENCHMARKS.md; here only that nothing is lost or mixed up).
#[test]
fn concurrent_logins_each_get_their_own_answer() {
    let up = Upstream::http(|s| Answer::json(200, &json!({ "seen": s.target })).after(Duration::from_millis(100)));
    let origin = up.origin();
    let rule = format!(
        "async function (user, context, callback) {{ const r = await fetch('{origin}/u/' + user.user_id); const j = await r.json(); \
           context.idToken['https://x/seen'] = j.seen; callback(null, user, context); }}"
    );
    let dir = project("many", &format!("allow = [\"{origin}\"]"), &[("r.js", &rule)], &[]);
    let p = load(&dir, Mode::InProcess);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..64)
            .map(|i| {
                let p = &p;
                s.spawn(move || {
                    let user = json!({ "user_id": format!("u{i}") });
                    let out = serde_json::to_value(p.execute(&user, &json!({}), &Exec::at(0)).unwrap()).unwrap();
                    assert_eq!(claim(&out, "seen"), json!(format!("/u/u{i}")), "{out:#}");
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    });
}

/// `warden test` answers requests from each case's exchanges and never calls the network: a
/// request no exchange answers fails the case with the request shown, an expected exchange
/// that did not happen fails it too, and each case starts with an empty `global`.
#[test]
fn warden_test_answers_from_canned_exchanges() {
    let rule = "function (user, context, callback) { \
        if (global.token) { context.idToken['https://x/cached'] = true; } \
        request.post({ url: 'https://api.example.com/score', json: { email: user.email } }, function (err, resp, body) { \
          if (err) return callback(err); global.token = 'kept'; context.idToken['https://x/score'] = body.score; callback(null, user, context); }); }";
    let dir = project("canned", "allow = [\"https://api.example.com\"]", &[("r.js", rule)], &[]);
    let tests = r#"
[defaults]
now = "2026-12-01T00:00:00Z"
[defaults.user]
user_id = "auth0|1"
email = "ada@example.com"

[[case]]
name = "answered"
[[case.http]]
method = "POST"
url = "https://api.example.com/score"
body = { email = "ada@example.com" }
json = { score = 3 }
[case.expect]
id_token = { "https://x/score" = 3 }

[[case]]
name = "answered again, with an empty global"
[[case.http]]
method = "POST"
url = "https://api.example.com/score"
json = { score = 4 }
[case.expect]
id_token = { "https://x/score" = 4 }

[[case]]
name = "a body that does not match"
[[case.http]]
method = "POST"
url = "https://api.example.com/score"
body = { email = "bob@example.com" }
json = { score = 5 }
[case.expect]
decision = "deny"

[[case]]
name = "never asked for"
user = { email = "" }
[[case.http]]
method = "POST"
url = "https://api.example.com/score"
json = { score = 1 }
[[case.http]]
url = "https://api.example.com/other"
json = {}
[case.expect]
id_token = { "https://x/score" = 1 }
"#;
    std::fs::write(dir.join("warden.test.toml"), tests).unwrap();
    let out = std::process::Command::new(WARDEN).arg("test").arg(&dir).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("2 passed, 2 failed"), "{stdout}");
    assert!(
        stdout.contains(r#"http: unexpected request POST https://api.example.com/score {"email":"ada@example.com"}"#),
        "{stdout}"
    );
    assert!(stdout.contains("http: expected request did not happen: POST https://api.example.com/score"), "{stdout}");
    assert!(stdout.contains("http: expected request did not happen: GET https://api.example.com/other"), "{stdout}");
    assert!(!stdout.contains("cached"), "each case starts with an empty global: {stdout}");
}

/// The enrichment example's rules, unmodified, with `warden run` against a local upstream
/// that plays the three services (HTTPS with the example's mock certificate): the staging
/// manifest's `resolve` and `ca_file` send the production origins there.
#[test]
fn the_enrichment_example_runs_against_a_local_upstream() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join("examples/enrichment");
    let read = |f: &str| std::fs::read_to_string(root.join(f)).unwrap();
    let up = Upstream::https_pem(&read("local/mock-upstream.pem"), &read("local/mock-upstream-key.pem"), |s| {
        let path = s.target.split('?').next().unwrap_or_default();
        match (s.method.as_str(), path) {
            ("POST", "/oauth/token") => Answer::json(200, &json!({ "access_token": "mock-token", "expires_in": 3600 })),
            ("GET", "/v2/people/find") if s.header("authorization") == Some("Bearer mock-token") => {
                Answer::json(200, &json!({ "employment": { "name": "Example Corp", "seniority": "manager" } }))
            }
            ("POST", "/v1/score") => {
                Answer::json(200, &json!({ "score": if s.body.contains("fraud.") { 0.95 } else { 0.05 } }))
            }
            ("POST", p) if p.starts_with("/services/") => Answer::text(200, "ok"),
            _ => Answer::json(404, &json!({})),
        }
    });
    // The example's files, with the staging manifest pointing at this upstream's port.
    let dir = scratch("example");
    for sub in ["legacy", "local", "samples/first-login", "samples/fraudster"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
        for e in std::fs::read_dir(root.join(sub)).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_file() {
                std::fs::copy(e.path(), dir.join(sub).join(e.file_name())).unwrap();
            }
        }
    }
    let manifest = read("local/warden.toml").replace("127.0.0.1:8443", &up.addr.to_string());
    std::fs::write(dir.join("local/warden.toml"), manifest).unwrap();
    let run = |sample: &str| {
        let out = std::process::Command::new(WARDEN)
            .arg("run")
            .arg("--manifest")
            .arg(dir.join("local/warden.toml"))
            .arg("--user")
            .arg(dir.join(format!("samples/{sample}/user.json")))
            .arg("--context")
            .arg(dir.join(format!("samples/{sample}/context.json")))
            .output()
            .unwrap();
        serde_json::from_slice::<Json>(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
    };
    let out = run("first-login");
    assert_eq!(out["decision"], "allow", "{out:#}");
    assert_eq!(out["id_token"]["https://example.com/company"], "Example Corp", "{out:#}");
    assert_eq!(out["access_token"]["https://example.com/risk"], 0.05, "{out:#}");
    let seen = up.wait_for(4);
    assert!(
        seen.iter().any(|s| s.starts_with("POST /services/T000/B000/XXXX {\"text\":\"New user: Ada Lovelace")),
        "{seen:?}"
    );
    let out = run("fraudster");
    assert_eq!(out["decision"], "deny", "{out:#}");
    assert_eq!(out["error"]["description"], "Login blocked: unusual activity.", "{out:#}");
}

/// Redirects: `Authorization` goes to the origin the rule named but not to another one it
/// redirects to (both allowed), and more than `max_redirects` hops are an error.
#[test]
fn redirects_keep_credentials_at_home_and_are_bounded() {
    let other = Upstream::http(|s| Answer::json(200, &json!({ "auth": s.header("authorization") })));
    let other_origin = other.origin();
    let o2 = other_origin.clone();
    let front = Upstream::http(move |s| match s.target.as_str() {
        "/same" => Answer::redirect(302, "/echo"),
        "/echo" => Answer::json(200, &json!({ "auth": s.header("authorization") })),
        "/cross" => Answer::redirect(307, &format!("{o2}/echo")),
        t if t.starts_with("/loop") => {
            let n: u32 = t.trim_start_matches("/loop").parse().unwrap_or(0);
            Answer::redirect(302, &format!("/loop{}", n + 1))
        }
        _ => Answer::text(404, ""),
    });
    let origin = front.origin();
    let http = format!("allow = [\"{origin}\", \"{other_origin}\"]\nmax_redirects = 3");
    let rule = |path: &str| {
        format!(
            "async function (user, context, callback) {{ try {{ const r = await require('axios').get('{origin}{path}', {{ headers: {{ Authorization: 'Bearer s3cret' }} }}); \
               context.idToken['https://x/e'] = ['ok', r.data.auth]; }} catch (e) {{ context.idToken['https://x/e'] = [e.code, e.message]; }} callback(null, user, context); }}"
        )
    };
    for mode in MODES {
        let dir = project("redirect-same", &http, &[("r.js", &rule("/same"))], &[]);
        assert_eq!(claim(&login(&load(&dir, mode)), "e"), json!(["ok", "Bearer s3cret"]), "{mode:?}");
        let dir = project("redirect-cross", &http, &[("r.js", &rule("/cross"))], &[]);
        assert_eq!(claim(&login(&load(&dir, mode)), "e"), json!(["ok", null]), "{mode:?}");
        let dir = project("redirect-loop", &http, &[("r.js", &rule("/loop0"))], &[]);
        assert_eq!(claim(&login(&load(&dir, mode)), "e"), json!(["EREDIRECT", "more than 3 redirects"]), "{mode:?}");
    }
    assert_eq!(other.seen().len(), 2, "{:?}", other.seen());
}
