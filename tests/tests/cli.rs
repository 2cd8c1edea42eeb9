//! `warden check` and `warden run` as a user meets them: exit codes, messages, spans.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use warden_cli::main_with;
use warden_tests::{copy_dir, examples, root, samples};

fn run(args: &[&str]) -> (u8, warden_cli::Output) {
    main_with(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>(), false)
}

fn p(path: &Path) -> String {
    path.display().to_string()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("warden-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn check_quickstart_is_clean() {
    let (code, out) = run(&["check", &p(&root().join("examples/quickstart"))]);
    assert_eq!(code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("ok: "), "{}", out.stderr);
}

/// Renaming `user.email` to `user.emial` in any quickstart rule fails the check with a
/// suggestion pointing at the misspelt field.
#[test]
fn misspelt_field_in_any_quickstart_rule_is_caught() {
    let src = root().join("examples/quickstart");
    let mut tried = 0;
    for entry in std::fs::read_dir(src.join("rules")).expect("rules dir") {
        let rule = entry.expect("entry").path();
        if rule.extension().is_none_or(|e| e != "rule") {
            continue;
        }
        let text = std::fs::read_to_string(&rule).expect("readable");
        let Some(at) = text.find("user.email") else { continue };
        if text[at..].starts_with("user.email_verified") {
            continue;
        }
        tried += 1;
        let dir = scratch(&format!("emial-{tried}"));
        copy_dir(&src, &dir);
        let copy = dir.join("rules").join(rule.file_name().expect("name"));
        let broken = format!("{}user.emial{}", &text[..at], &text[at + "user.email".len()..]);
        std::fs::write(&copy, &broken).expect("write");
        let (code, out) = run(&["check", &p(&dir), "--format", "json"]);
        assert_eq!(code, 1, "{}", out.stdout);
        let diags: Json = serde_json::from_str(&out.stdout).expect("json diagnostics");
        let d = diags.as_array().expect("array").iter().find(|d| d["code"] == "E0100").expect("an unknown-field error");
        assert_eq!(d["help"], "did you mean `user.email`?");
        let line = broken[..at].matches('\n').count() + 1;
        assert_eq!(d["line"], line);
        let col = at - broken[..at].rfind('\n').map_or(0, |i| i + 1) + 1 + "user.".len();
        assert_eq!(d["column"], col, "the span points at `emial`");
        assert_eq!(d["span"]["end"].as_u64().expect("end") - d["span"]["start"].as_u64().expect("start"), 5);
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(tried >= 1, "the quickstart reads user.email somewhere");
}

#[test]
fn five_independent_mistakes_give_five_errors() {
    let file = root().join("tests/golden/check-err/five-mistakes.rule");
    let (code, out) = run(&["check", &p(&file), "--format", "json"]);
    assert_eq!(code, 1);
    let diags: Json = serde_json::from_str(&out.stdout).expect("json");
    let codes: Vec<&str> = diags.as_array().expect("array").iter().filter_map(|d| d["code"].as_str()).collect();
    assert_eq!(codes, ["E0100", "E0106", "E0102", "E0108", "E0107"]);
}

#[test]
fn human_output_is_plain_when_not_a_terminal() {
    let file = root().join("tests/golden/check-err/five-mistakes.rule");
    let (code, out) = run(&["check", &p(&file)]);
    assert_eq!(code, 1);
    assert!(!out.stderr.contains('\u{1b}'), "no colour codes in plain output");
    assert!(out.stderr.contains("help: did you mean `user.email`?"));
    assert!(out.stderr.ends_with("error: check failed: 5 errors, 0 warnings\n"), "{}", out.stderr);
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    p(&path)
}

#[test]
fn run_exit_codes_and_input_errors() {
    let dir = scratch("run");
    let rule = write(&dir, "r.rule", "rule \"verify\" { deny \"Please verify.\" unless user.email_verified }\n");
    let ok_user = write(&dir, "ok.json", r#"{"user_id": "auth0|1", "email_verified": true}"#);
    let no_user = write(&dir, "no.json", r#"{"user_id": "auth0|1", "email_verified": false}"#);
    let ctx = write(&dir, "c.json", r#"{"protocol": "oidc-basic-profile"}"#);
    let now = "2026-11-26T12:00:00Z";

    let (code, out) = run(&["run", &rule, "--user", &ok_user, "--context", &ctx, "--now", now]);
    assert_eq!(code, 0, "{}", out.stderr);
    assert_eq!(serde_json::from_str::<Json>(&out.stdout).expect("json")["decision"], "allow");

    let (code, out) = run(&["run", &rule, "--user", &no_user, "--context", &ctx, "--now", now]);
    assert_eq!(code, 3);
    let o: Json = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(o["error"]["description"], "Please verify.");

    let bad = write(&dir, "bad.json", "{\n  \"user_id\": \"auth0|1\",\n  \"email_verified\": tru\n}");
    let (code, out) = run(&["run", &rule, "--user", &bad, "--context", &ctx, "--now", now]);
    assert_eq!(code, 1);
    assert!(out.stderr.contains("at line 3, column 23: invalid literal"), "{}", out.stderr);
    assert!(out.stdout.is_empty());

    let mistyped = write(&dir, "mistyped.json", r#"{"user_id": "auth0|1", "email_verified": "yes"}"#);
    let (code, out) = run(&["run", &rule, "--user", &mistyped, "--context", &ctx, "--now", now]);
    assert_eq!(code, 1);
    assert!(out.stderr.contains("`user.email_verified` must be a bool, found a string"), "{}", out.stderr);

    let (code, out) = run(&["run", &rule, "--user", &ok_user]);
    assert_eq!(code, 2, "missing --context is a usage error: {}", out.stderr);
    let (code, _) = run(&["run", &rule, "--user", &ok_user, "--context", &ctx, "--now", "yesterday"]);
    assert_eq!(code, 2);
    let (code, out) = run(&["run", &rule, "--user", &p(&dir.join("missing.json")), "--context", &ctx]);
    assert_eq!(code, 1);
    assert!(out.stderr.contains("no such file"), "{}", out.stderr);

    let broken = write(&dir, "broken.rule", "rule \"x\" { deny unless user.emial }\n");
    let (code, out) = run(&["run", &broken, "--user", &ok_user, "--context", &ctx]);
    assert_eq!(code, 1);
    assert!(out.stderr.contains("did you mean `user.email`?"), "{}", out.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Numbers in the user come out of `warden run` with the digits they went in with, through a
/// `.rule` step and a JavaScript step alike: the nearest double is read (serde_json's
/// `float_roundtrip`; its default parser is sometimes one unit in the last place off, which
/// changed `-930238.3070843063` into `-930238.3070843064`) and the shortest form written.
#[test]
fn run_keeps_the_user_numbers_digit_for_digit() {
    let dir = scratch("numbers");
    let numbers = [
        "-930238.3070843063",
        "930988.2625393505",
        "94126.80033860965",
        "0.1",
        "1e-7",
        "123456789.12345679",
        "9007199254740991",
    ];
    let user = write(
        &dir,
        "u.json",
        &format!(r#"{{"user_id": "auth0|1", "app_metadata": {{"n": [{}]}}}}"#, numbers.join(", ")),
    );
    let ctx = write(&dir, "c.json", "{}");
    let rule = write(&dir, "r.rule", "rule \"noop\" {\n    log \"seen\"\n}\n");
    let js = write(
        &dir,
        "r.js",
        "function (user, context, callback) { user.app_metadata.seen = true; callback(null, user, context); }\n",
    );
    for step in [&rule, &js] {
        let (code, out) = run(&["run", step, "--user", &user, "--context", &ctx]);
        assert_eq!(code, 0, "{}", out.stderr);
        let o: Json = serde_json::from_str(&out.stdout).expect("json");
        let written: Vec<String> =
            o["user"]["app_metadata"]["n"].as_array().expect("n").iter().map(Json::to_string).collect();
        assert_eq!(written, numbers, "{step}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn run_reads_the_manifest_configuration_and_overrides() {
    let dir = scratch("config");
    write(
        &dir,
        "warden.toml",
        "[pipeline]\nrules = [\"r.rule\"]\n\n[configuration]\nDOMAIN = \"example.com\"\nSECRET = { env = \"WARDEN_TEST_UNSET_VARIABLE\" }\n",
    );
    write(
        &dir,
        "r.rule",
        "rule \"domain\" { deny unless email_domain(user.email) == config.DOMAIN }\nrule \"secret\" { log config.SECRET }\n",
    );
    let user = write(&dir, "u.json", r#"{"user_id": "auth0|1", "email": "a@example.com"}"#);
    let ctx = write(&dir, "c.json", "{}");
    let manifest = p(&dir.join("warden.toml"));
    let (code, out) = run(&["run", "--manifest", &manifest, "--user", &user, "--context", &ctx]);
    assert_eq!(code, 1, "an env-backed key without a value is an error");
    assert!(out.stderr.contains("WARDEN_TEST_UNSET_VARIABLE"), "{}", out.stderr);
    let (code, out) =
        run(&["run", "--manifest", &manifest, "--user", &user, "--context", &ctx, "--config", "SECRET=s3"]);
    assert_eq!(code, 0, "{}", out.stderr);
    let o: Json = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(o["logs"][0]["message"], "s3");
    let (code, _) = run(&[
        "run",
        "--manifest",
        &manifest,
        "--user",
        &user,
        "--context",
        &ctx,
        "--config",
        "SECRET=s",
        "--config",
        "DOMAIN=other.org",
    ]);
    assert_eq!(code, 3, "--config overrides the manifest's literal");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Typed configuration as the CLI shows it: `warden check` points at a value that does not
/// fit its type and at an unknown type name, `warden run` names the key (from the manifest
/// and from `--config`), and `warden inspect` shows each key's type.
#[test]
fn typed_configuration_errors_name_the_key() {
    let dir = scratch("typed-config");
    let manifest = |max: &str, ty: &str| {
        format!(
            "[pipeline]\nrules = [\"r.rule\"]\n\n[configuration]\nMAX_LOGINS = {{ value = \"{max}\", type = \"{ty}\" }}\nNETS = {{ value = \"10.0.0.0/8\", type = \"cidr list\" }}\n"
        )
    };
    write(
        &dir,
        "r.rule",
        "rule \"limit\" {\n    deny if user.logins_count > config.MAX_LOGINS\n    deny unless ip_in(context.request.ip, config.NETS)\n}\n",
    );
    let user = write(&dir, "u.json", r#"{"user_id": "auth0|1", "logins_count": 3}"#);
    let ctx = write(&dir, "c.json", r#"{"request": {"ip": "10.0.0.1"}}"#);
    let path = p(&dir.join("warden.toml"));

    write(&dir, "warden.toml", &manifest("ten", "int"));
    let (code, out) = run(&["check", &path, "--format", "json"]);
    assert_eq!(code, 1, "{}", out.stdout);
    let diags: Json = serde_json::from_str(&out.stdout).expect("json diagnostics");
    let d = &diags[0];
    assert_eq!(d["code"], "E0205", "{diags}");
    assert_eq!(d["message"], r#"configuration key `MAX_LOGINS` must be an integer, found "ten""#);
    assert_eq!((d["line"].as_u64(), d["column"].as_u64()), (Some(5), Some(24)), "at the value: {d}");
    let (code, out) = run(&["run", "--manifest", &path, "--user", &user, "--context", &ctx]);
    assert_eq!(code, 1);
    assert_eq!(out.stderr, "error: configuration key `MAX_LOGINS` must be an integer, found \"ten\"\n");

    write(&dir, "warden.toml", &manifest("10", "integer"));
    let (code, out) = run(&["check", &path, "--format", "json"]);
    assert_eq!(code, 1, "{}", out.stdout);
    let diags: Json = serde_json::from_str(&out.stdout).expect("json diagnostics");
    assert_eq!(diags[0]["code"], "E0205", "{diags}");
    assert_eq!(diags[0]["message"], "unknown configuration type `integer` for `MAX_LOGINS`");
    assert_eq!(diags[0]["help"], "did you mean `int`?");

    write(&dir, "warden.toml", &manifest("10", "int"));
    let (code, out) = run(&["run", "--manifest", &path, "--user", &user, "--context", &ctx]);
    assert_eq!(code, 0, "{}", out.stderr);
    let (code, out) =
        run(&["run", "--manifest", &path, "--user", &user, "--context", &ctx, "--config", "MAX_LOGINS=2"]);
    assert_eq!(code, 3, "3 logins are over a limit of 2: {}", out.stderr);
    let (code, out) =
        run(&["run", "--manifest", &path, "--user", &user, "--context", &ctx, "--config", "NETS=10.0.0.0/99"]);
    assert_eq!(code, 1);
    assert_eq!(
        out.stderr,
        "error: configuration key `NETS` must be a list of networks (CIDRs such as 10.0.0.0/8, or addresses), found \"10.0.0.0/99\" in the list (given with --config NETS=...)\n"
    );
    let artifact = p(&dir.join("typed.wdn"));
    let (code, out) = run(&["build", "--manifest", &path, "-o", &artifact]);
    assert_eq!(code, 0, "{}", out.stderr);
    let (code, out) = run(&["inspect", &artifact]);
    assert_eq!(code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("  MAX_LOGINS: int  (value built in)\n"), "{}", out.stdout);
    assert!(out.stdout.contains("  NETS: cidr list  (value built in)\n"), "{}", out.stdout);
    let (code, out) =
        run(&["run", "--bundle", &artifact, "--user", &user, "--context", &ctx, "--config", "MAX_LOGINS=x"]);
    assert_eq!(code, 1);
    assert_eq!(out.stderr, "error: configuration key `MAX_LOGINS` must be an integer, found \"x\"\n");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `warden build` then `warden run --bundle` reproduces every example; a one-byte change is
/// refused; with `--verify-key`, unsigned and wrongly signed artifacts are refused.
#[test]
fn build_then_run_bundle_reproduces_every_example() {
    let dir = scratch("bundle");
    let keys = p(&dir.join("release"));
    let (code, out) = run(&["keygen", "-o", &keys]);
    assert_eq!(code, 0, "{}", out.stderr);
    let (code, _) = run(&["keygen", "-o", &keys]);
    assert_eq!(code, 1, "keygen never overwrites a key");
    run(&["keygen", "-o", &p(&dir.join("other"))]);
    let (public, other) = (p(&dir.join("release.pub")), p(&dir.join("other.pub")));
    for example in examples() {
        let name = example.file_name().expect("name").to_string_lossy().to_string();
        let artifact = p(&dir.join(format!("{name}.wdn")));
        let unsigned = p(&dir.join(format!("{name}-unsigned.wdn")));
        let manifest = p(&example.join("warden.toml"));
        let (code, out) = run(&[
            "build",
            "--manifest",
            &manifest,
            "-o",
            &artifact,
            "--sign-key",
            &p(&dir.join("release.key")),
            "--embed-config",
        ]);
        assert_eq!(code, 0, "{}", out.stderr);
        let (code, out) = run(&["build", "--manifest", &manifest, "-o", &unsigned, "--embed-config"]);
        assert_eq!(code, 0, "{}", out.stderr);
        let (code, out) = run(&["inspect", &artifact, "--verify-key", &public]);
        assert_eq!(code, 0, "{}", out.stderr);
        assert!(out.stdout.contains("signed, and the signature matches"), "{}", out.stdout);
        if name == "mixed-legacy" {
            // JavaScript rules and modules are listed with their bytecode.
            assert!(out.stdout.contains("QuickJS qjs-ng 0."), "{}", out.stdout);
            assert_eq!(out.stdout.matches(" bytes of bytecode)").count(), 3, "{}", out.stdout);
            assert!(out.stdout.contains("modules (require):\n  \"rolemap\""), "{}", out.stdout);
        }
        for s in samples(&example) {
            let (user, ctx) = (p(&s.join("user.json")), p(&s.join("context.json")));
            let expected: Json =
                serde_json::from_str(&std::fs::read_to_string(s.join("expected.json")).expect("expected"))
                    .expect("json");
            let args = |bundle: &str, key: Option<&str>| {
                let mut v = vec![
                    "run",
                    "--bundle",
                    bundle,
                    "--user",
                    &user,
                    "--context",
                    &ctx,
                    "--now",
                    "2026-11-26T12:00:00Z",
                ]
                .into_iter()
                .map(String::from)
                .collect::<Vec<_>>();
                if let Some(k) = key {
                    v.push("--verify-key".into());
                    v.push(k.into());
                }
                if s.join("exchanges.json").is_file() {
                    v.push("--http-exchanges".into());
                    v.push(p(&s.join("exchanges.json")));
                }
                v
            };
            let (code, out) = warden_cli::main_with(&args(&artifact, Some(&public)), false);
            let got = serde_json::from_str::<Json>(&out.stdout);
            assert!(got.is_ok(), "{}: {}", s.display(), out.stderr);
            let got = got.unwrap_or_default();
            assert_eq!(got, expected, "{} from the artifact", s.display());
            assert_eq!(code, if expected["decision"] == "allow" { 0 } else { 3 });
            let (code, out) = warden_cli::main_with(&args(&unsigned, Some(&public)), false);
            assert_eq!(code, 1);
            assert!(out.stderr.contains("unsigned, and a verification key is required"), "{}", out.stderr);
            let (code, out) = warden_cli::main_with(&args(&artifact, Some(&other)), false);
            assert_eq!(code, 1);
            assert!(out.stderr.contains("signature does not match"), "{}", out.stderr);
        }
        // Any one-byte change is refused.
        let bytes = std::fs::read(&artifact).expect("artifact");
        for at in [0, 10, 60, bytes.len() / 2, bytes.len() - 70, bytes.len() - 1] {
            let mut changed = bytes.clone();
            changed[at] = changed[at].wrapping_add(1);
            let tampered = dir.join("tampered.wdn");
            std::fs::write(&tampered, &changed).expect("write");
            let s = example.join("samples");
            let first = std::fs::read_dir(&s).expect("samples").next().expect("a sample").expect("entry").path();
            let (code, out) = run(&[
                "run",
                "--bundle",
                &p(&tampered),
                "--user",
                &p(&first.join("user.json")),
                "--context",
                &p(&first.join("context.json")),
            ]);
            assert_eq!(code, 1, "byte {at} changed");
            assert!(out.stderr.contains("artifact refused"), "{}", out.stderr);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Out-of-range limits in the manifest are errors with a span and the accepted range.
#[test]
fn manifest_limits_out_of_range_are_errors() {
    let dir = scratch("limits");
    write(&dir, "r.rule", "rule \"r\" { log \"x\" }\n");
    for (line, key, range) in
        [("timeout_ms = 0", "timeout_ms", "1 and 600000"), ("js_memory_mib = 100000", "js_memory_mib", "1 and 4096")]
    {
        write(&dir, "warden.toml", &format!("[pipeline]\nrules = [\"r.rule\"]\n{line}\n"));
        let (code, out) = run(&["check", &p(&dir)]);
        assert_eq!(code, 1, "{line}: {}", out.stderr);
        assert!(out.stderr.contains("E0200") && out.stderr.contains(key), "{line}: {}", out.stderr);
        assert!(out.stderr.contains(range), "{line}: {}", out.stderr);
    }
    write(&dir, "warden.toml", "[pipeline]\nrules = [\"r.rule\"]\ntimeout_ms = 500\njs_memory_mib = 16\n");
    let (code, out) = run(&["check", &p(&dir)]);
    assert_eq!(code, 0, "{}", out.stderr);
}

/// Each `[http]` entry that is not valid is an error naming it and saying what is accepted;
/// the whole table may be omitted, and a valid one checks clean.
#[test]
fn http_policy_errors_name_the_entry() {
    let dir = scratch("http-policy");
    write(&dir, "r.rule", "rule \"r\" { log \"x\" }\n");
    write(&dir, "ca.pem", "not a certificate\n");
    for (http, needle, help) in [
        ("allow = [\"api.example.com\"]", "`api.example.com` in [http] allow is not a URL", "an origin"),
        ("allow = [\"ftp://files.example.com\"]", "must be http:// or https://", "an origin"),
        ("allow = [\"https://u:p@api.example.com\"]", "cannot hold credentials", "an origin"),
        ("allow = [\"https://api.example.com/?q=1\"]", "cannot have a query", "an origin"),
        ("max_requests = 0", "[http] max_requests = 0 is out of range", "between 1 and 1000"),
        ("max_response_bytes = 100000000", "max_response_bytes = 100000000 is out of range", "67108864"),
        ("timeout_ms = 0", "[http] timeout_ms = 0 is out of range", "between 1 and 600000"),
        ("max_redirects = 50", "max_redirects = 50 is out of range", "between 0 and 20"),
        (
            "resolve = { \"api.example.com\" = \"127.0.0.1:1\" }",
            "resolve key `api.example.com` is not `host:port`",
            "127.0.0.1:8443",
        ),
        (
            "resolve = { \"api.example.com:443\" = \"localhost:1\" }",
            "resolve value `localhost:1` is not `ip:port`",
            "127.0.0.1:8443",
        ),
        ("ca_file = \"missing.pem\"", "ca_file `missing.pem` cannot be read", "relative to warden.toml"),
        ("ca_file = \"ca.pem\"", "ca_file `ca.pem` holds no PEM certificate", "BEGIN CERTIFICATE"),
        ("allowed = []", "unknown field `allowed`", "docs/manifest.md"),
    ] {
        write(&dir, "warden.toml", &format!("[pipeline]\nrules = [\"r.rule\"]\n\n[http]\n{http}\n"));
        let (code, out) = run(&["check", &p(&dir)]);
        assert_eq!(code, 1, "{http}: {}", out.stderr);
        assert!(out.stderr.contains("E0200") && out.stderr.contains(needle), "{http}: {}", out.stderr);
        assert!(out.stderr.contains(help), "{http}: {}", out.stderr);
    }
    write(
        &dir,
        "warden.toml",
        "[pipeline]\nrules = [\"r.rule\"]\n\n[http]\nallow = [\"https://api.example.com\", \"http://127.0.0.1:8080/hooks/\"]\nmax_requests = 3\n[http.resolve]\n\"api.example.com:443\" = \"127.0.0.1:8443\"\n",
    );
    let (code, out) = run(&["check", &p(&dir)]);
    assert_eq!(code, 0, "{}", out.stderr);
}

/// Sandbox attacks through `warden run`, as a user meets them: each ends the login with the
/// right cause and exit code 3, and the process carries on to print the outcome.
#[test]
fn run_stops_javascript_attacks_with_the_right_cause() {
    let dir = scratch("js-attacks");
    let user = write(&dir, "u.json", r#"{"user_id": "auth0|1", "email": "a@example.com"}"#);
    let ctx = write(&dir, "c.json", "{}");
    let cases = [
        ("loop.js", "function (user, context, callback) { while (true) {} }", "timeout"),
        ("silent.js", "function (user, context, callback) { }", "timeout"),
        (
            "bomb.js",
            "function (user, context, callback) { const a = []; while (true) a.push('x'.repeat(1 << 20)); }",
            "resource_limit",
        ),
        ("deep.js", "function (user, context, callback) { const f = (n) => f(n + 1) + 1; f(0); }", "rule_error"),
        ("fs.js", "function (user, context, callback) { require('fs').readFileSync('/etc/passwd'); }", "rule_error"),
        ("process.js", "function (user, context, callback) { process.exit(0); }", "rule_error"),
    ];
    for (name, text, cause) in cases {
        let rule = write(&dir, name, text);
        let (code, out) = run(&["run", &rule, "--user", &user, "--context", &ctx, "--timeout-ms", "300"]);
        assert_eq!(code, 3, "{name}: {}{}", out.stdout, out.stderr);
        let o: Json = serde_json::from_str(&out.stdout).expect("json");
        assert_eq!(o["decision"], "deny", "{name}: {o}");
        assert_eq!(o["error"]["cause"], cause, "{name}: {o}");
    }
    let ok = write(&dir, "ok.js", "function (user, context, callback) { callback(null, user, context); }");
    let (code, out) = run(&["run", &ok, "--user", &user, "--context", &ctx]);
    assert_eq!(code, 0, "{}{}", out.stdout, out.stderr);
}

/// A JavaScript rule sees the configuration and the time of every entry point, as `.rule`
/// files do: `warden run --config` (with and without a manifest `[configuration]`, and
/// overriding a key it declares), `--now`, `warden run --bundle`, and a `warden test` case's
/// `config` and `now`.
#[test]
fn javascript_sees_the_configuration_and_time_of_every_entry_point() {
    let dir = scratch("js-config");
    let rule = write(
        &dir,
        "probe.js",
        "function probe(user, context, callback) {\n  console.log(JSON.stringify(configuration));\n  console.log(new Date().toISOString());\n  callback(null, user, context);\n}\n",
    );
    let user = write(&dir, "u.json", r#"{"user_id": "auth0|1"}"#);
    let ctx = write(&dir, "c.json", "{}");
    let now = "2026-11-26T12:00:00Z";
    let logs = |args: &[&str]| {
        let (code, out) = run(args);
        assert_eq!(code, 0, "{args:?}: {}", out.stderr);
        let o: Json = serde_json::from_str(&out.stdout).expect("json");
        let messages: Vec<String> = o["logs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l["message"].as_str().map(String::from))
            .collect();
        messages
    };
    let base = ["--user", user.as_str(), "--context", ctx.as_str(), "--now", now];
    fn with<'a>(head: &[&'a str], base: &[&'a str], tail: &[&'a str]) -> Vec<&'a str> {
        [head, base, tail].concat()
    }
    assert_eq!(
        logs(&with(&["run", rule.as_str()], &base, &["--config", "BLOCKED_COUNTRIES=DE"])),
        [r#"{"BLOCKED_COUNTRIES":"DE"}"#, "2026-11-26T12:00:00.000Z"]
    );
    let manifest = write(
        &dir,
        "warden.toml",
        "[pipeline]\nrules = [\"probe.js\"]\n\n[configuration]\nPROBE_KEY = \"from-manifest\"\n",
    );
    assert_eq!(logs(&with(&["run", "--manifest", &manifest], &base, &[]))[0], r#"{"PROBE_KEY":"from-manifest"}"#);
    assert_eq!(
        logs(&with(
            &["run", "--manifest", &manifest],
            &base,
            &["--config", "PROBE_KEY=from-cli", "--config", "OTHER=x"]
        ))[0],
        r#"{"OTHER":"x","PROBE_KEY":"from-cli"}"#
    );
    let artifact = p(&dir.join("probe.wdn"));
    let (code, out) = run(&["build", "--manifest", &manifest, "-o", &artifact, "--embed-config"]);
    assert_eq!(code, 0, "{}", out.stderr);
    assert_eq!(
        logs(&with(&["run", "--bundle", &artifact], &base, &["--config", "PROBE_KEY=from-cli"])),
        [r#"{"PROBE_KEY":"from-cli"}"#, "2026-11-26T12:00:00.000Z"]
    );
    write(
        &dir,
        "probe.test.toml",
        r#"[defaults]
now = "2026-11-26T12:00:00Z"

[defaults.user]
user_id = "auth0|1"

[[case]]
name = "the manifest's configuration at the default time"
[case.expect]
logs = ['{"PROBE_KEY":"from-manifest"}', "2026-11-26T12:00:00.000Z"]

[[case]]
name = "a case's configuration and time"
config = { PROBE_KEY = "from-case", BLOCKED_COUNTRIES = "DE" }
now = "2027-01-01T00:00:00Z"
[case.expect]
logs = ['{"BLOCKED_COUNTRIES":"DE","PROBE_KEY":"from-case"}', "2027-01-01T00:00:00.000Z"]
"#,
    );
    let (code, out) = run(&["test", &p(&dir)]);
    let report = format!("{}{}", out.stdout, out.stderr);
    assert_eq!(code, 0, "{report}");
    assert!(report.contains("2 passed, 0 failed"), "{report}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `warden run --bundle A --manifest M` takes the verification key from M's `[bundle]`
/// section without checking M's rules: a manifest whose rules are missing and whose
/// `timeout_ms` is out of range still names the key (and the key is used: another key is
/// refused); a manifest that cannot be read is refused by name.
#[test]
fn run_bundle_takes_the_key_from_the_manifest_settings_only() {
    let dir = scratch("bundle-manifest");
    write(&dir, "r.rule", "rule \"r\" {\n    log \"ran\"\n}\n");
    let manifest = write(&dir, "warden.toml", "[pipeline]\nrules = [\"r.rule\"]\n");
    let (user, context) = (write(&dir, "user.json", r#"{"user_id": "auth0|1"}"#), write(&dir, "context.json", "{}"));
    for name in ["release", "other"] {
        let (code, out) = run(&["keygen", "-o", &p(&dir.join(name))]);
        assert_eq!(code, 0, "{}", out.stderr);
    }
    let artifact = p(&dir.join("a.wdn"));
    let (code, out) =
        run(&["build", "--manifest", &manifest, "-o", &artifact, "--sign-key", &p(&dir.join("release.key"))]);
    assert_eq!(code, 0, "{}", out.stderr);
    let settings = |key: &str| {
        format!("[pipeline]\nrules = [\"missing.rule\"]\ntimeout_ms = 0\n[bundle]\nverify_key = \"{key}\"\n")
    };
    let run_with =
        |m: &str| run(&["run", "--bundle", &artifact, "--manifest", m, "--user", &user, "--context", &context]);
    let (code, out) = run_with(&write(&dir, "right.toml", &settings("release.pub")));
    assert_eq!(code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("\"ran\""), "{}", out.stdout);
    let (code, out) = run_with(&write(&dir, "wrong.toml", &settings("other.pub")));
    assert_eq!(code, 1);
    assert!(out.stderr.contains("the signature does not match the verification key"), "{}", out.stderr);
    let missing = p(&dir.join("absent.toml"));
    let (code, out) = run_with(&missing);
    assert_eq!(code, 1);
    assert_eq!(out.stderr, format!("error: cannot read the manifest `{missing}`\n"));
    // A manifest without a key does not turn verification off (it used to load the artifact
    // unverified).
    let keyless = write(&dir, "keyless.toml", "[pipeline]\nrules = [\"r.rule\"]\n");
    let (code, out) = run_with(&keyless);
    assert_eq!(code, 1);
    assert!(out.stderr.contains("names no `[bundle] verify_key`"), "{}", out.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}
