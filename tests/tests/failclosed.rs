//! Fail closed, everywhere (issue 12): regressions that need more than one rule file and a
//! login (the eval corpus holds the rest, `tests/eval/failclosed.toml`). Every login runs on
//! the interpreter, the JIT and from the pipeline's artifact, which must agree.

use std::path::{Path, PathBuf};

use serde_json::{Value as Json, json};
use warden::{Backend, Exec, Pipeline};
use warden_cli::main_with;
use warden_tests::{copy_dir, root};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("warden-failclosed-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A pipeline from a manifest and its files, written to a scratch directory.
fn pipeline(name: &str, manifest: &str, files: &[(&str, &str)]) -> Pipeline {
    let dir = scratch(name);
    for (file, text) in files {
        std::fs::write(dir.join(file), text).expect("write");
    }
    std::fs::write(dir.join("warden.toml"), manifest).expect("write manifest");
    let p = Pipeline::from_manifest(dir.join("warden.toml"));
    assert!(p.is_ok(), "{name} does not load: {}", p.as_ref().err().map(|e| e.to_string()).unwrap_or_default());
    p.expect("checked")
}

/// The outcome (or input error) on every backend, which must agree; returns it.
fn decide(p: &Pipeline, user: &Json, context: &Json, exec: Exec) -> Result<Json, String> {
    assert!(p.has_jit(), "the JIT must be available on this machine");
    let show = |r: Result<warden::Outcome, warden::InputError>| r.map(|o| o.to_json()).map_err(|e| e.to_string());
    let interp = show(p.execute(user, context, &exec.clone().on(Backend::Interp)));
    let jit = show(p.execute(user, context, &exec.clone().on(Backend::Jit)));
    assert_eq!(interp, jit, "the JIT disagrees with the interpreter");
    let artifact = Pipeline::from_artifact(&p.to_artifact(None), None, &Default::default());
    assert!(
        artifact.is_ok(),
        "the artifact does not load: {}",
        artifact.as_ref().err().map(|e| e.to_string()).unwrap_or_default()
    );
    let artifact = artifact.expect("checked");
    warden_tests::assert_jit(&artifact);
    let from_artifact = show(artifact.execute(user, context, &exec.on(Backend::Jit)));
    assert_eq!(interp, from_artifact, "the artifact disagrees with the sources");
    interp
}

fn user() -> Json {
    json!({"user_id": "auth0|1", "email": "a@example.com", "email_verified": true, "app_metadata": {}})
}

fn context() -> Json {
    json!({"clientName": "App", "protocol": "oidc-basic-profile", "request": {"ip": "203.0.113.9"}})
}

const NOW: i64 = 1_795_694_400_000; // 2026-11-26T12:00:00Z

/// The documented size of a log entry (README, docs/language.md).
const LOG_LIMIT: usize = 4096;

/// A log message is cut so that, with the `…` marking the cut, it is at most 4 KiB, on a
/// character boundary (it was 4,096 bytes plus the marker).
#[test]
fn long_log_messages_are_cut_to_4_kib_in_all() {
    let p = Pipeline::from_source("main.rule", r#"rule "long" { log user.app_metadata.text }"#).expect("checks");
    // ASCII, and two-byte characters that straddle the cut.
    for text in ["x".repeat(5000), "é".repeat(3000), format!("{}{}", "x".repeat(4092), "é".repeat(10))] {
        let mut u = user();
        u["app_metadata"]["text"] = json!(text);
        let o = decide(&p, &u, &context(), Exec::at(NOW)).expect("valid input");
        let message = o["logs"][0]["message"].as_str().expect("a logged message");
        assert!(message.len() <= LOG_LIMIT, "{} bytes", message.len());
        assert!(message.len() >= LOG_LIMIT - 4, "cut too short: {} bytes", message.len());
        assert!(message.ends_with('…'), "a cut is marked");
        assert!(text.starts_with(message.trim_end_matches('…')), "the kept part is the start of the message");
    }
    // A message of exactly 4 KiB is kept whole.
    let mut u = user();
    u["app_metadata"]["text"] = json!("y".repeat(4096));
    let o = decide(&p, &u, &context(), Exec::at(NOW)).expect("valid input");
    assert_eq!(o["logs"][0]["message"].as_str().map(str::len), Some(4096));
}

/// `now` at the ends of `i64` (a library caller's clock) never panics or wraps: time
/// functions over such an instant are rule errors.
#[test]
fn extreme_clocks_are_rule_errors_not_wrapped_values() {
    let p = Pipeline::from_sources(
        &[(
            "main.rule".into(),
            r#"
rule "weekdays only" { deny if weekday(now()) in ["saturday", "sunday"] }
rule "password age" { deny if days_since(user.created_at) > 90 }
"#
            .into(),
        )],
        Default::default(),
    )
    .expect("checks");
    let mut u = user();
    u["created_at"] = json!("2026-01-01T00:00:00Z");
    for now in [i64::MIN, i64::MIN + 1, i64::MAX, -377_705_116_800_001, 253_402_300_800_000] {
        let o = decide(&p, &u, &context(), Exec::at(now)).expect("valid input");
        assert_eq!(o["decision"], "deny", "now = {now}: {o}");
        assert_eq!(o["error"]["cause"], "rule_error", "now = {now}: {o}");
    }
}

/// A library caller's time budget larger than the documented maximum is clamped, not an
/// arithmetic overflow.
#[test]
fn a_huge_library_timeout_does_not_panic() {
    let p = pipeline(
        "huge-timeout",
        "[pipeline]\nrules = [\"rule.js\"]\n",
        &[("rule.js", "function (user, context, callback) { callback(null, user, context); }")],
    );
    let mut exec = Exec::at(NOW);
    exec.timeout = Some(std::time::Duration::MAX);
    let o = p.execute(&user(), &context(), &exec).expect("valid input");
    assert!(o.is_allow(), "{}", o.to_json());
}

/// `persist` into a field the manifest declares checks the value like `set` does.
#[test]
fn persist_checks_declared_metadata_types() {
    let p = pipeline(
        "persist-declared",
        "[pipeline]\nrules = [\"main.rule\"]\n[schema.\"user.app_metadata\"]\nlogin_count = \"int\"\nplan = \"string\"\n",
        &[(
            "main.rule",
            r#"rule "count" { persist app_metadata.login_count = user.user_metadata.count }
rule "plan" { set user.app_metadata.plan = user.user_metadata.plan }"#,
        )],
    );
    let mut u = user();
    u["user_metadata"] = json!({"count": "12", "plan": "pro"});
    let o = decide(&p, &u, &context(), Exec::at(NOW)).expect("valid input");
    assert_eq!(o["decision"], "deny", "{o}");
    assert_eq!(o["error"]["rule"], "count");
    assert_eq!(o["error"]["cause"], "rule_error");
    assert!(o["effects"].as_array().is_some_and(Vec::is_empty), "nothing was persisted: {o}");

    u["user_metadata"] = json!({"count": 12, "plan": ["pro"]});
    let o = decide(&p, &u, &context(), Exec::at(NOW)).expect("valid input");
    assert_eq!(o["error"]["rule"], "plan", "{o}");
    assert_eq!(o["error"]["cause"], "rule_error");

    u["user_metadata"] = json!({"count": 12, "plan": "pro"});
    let o = decide(&p, &u, &context(), Exec::at(NOW)).expect("valid input");
    assert_eq!(o["decision"], "allow", "{o}");
    assert_eq!(o["user"]["app_metadata"], json!({"login_count": 12, "plan": "pro"}));
}

/// A manifest's declaration of `request.query.scope` is enforced even when no rule reads it
/// (the engine reads it for the starting scopes).
#[test]
fn declared_scope_sources_are_enforced() {
    let p = Pipeline::from_manifest(root().join("examples/api-scopes/warden.toml")).expect("loads");
    let mut c = context();
    c["request"]["query"] = json!({"scope": ["openid profile read:invoices delete:invoices"]});
    let e = decide(&p, &user(), &c, Exec::at(NOW)).expect_err("a list where a string is declared");
    assert!(e.contains("`context.request.query.scope` must be a string"), "{e}");
}

/// What a JavaScript rule leaves in a known field must have the field's type, as for `set`.
#[test]
fn javascript_rules_cannot_leave_known_fields_of_the_wrong_type() {
    let p = pipeline(
        "js-typed",
        "[pipeline]\nrules = [\"verify.js\", \"gate.rule\"]\n",
        &[
            (
                "verify.js",
                "function (user, context, callback) { user.email_verified = user.app_metadata.override; \
                 context.protocol = user.app_metadata.protocol || context.protocol; callback(null, user, context); }",
            ),
            ("gate.rule", r#"rule "gate" { log "gate ran" }"#),
        ],
    );
    for (metadata, wrong) in [
        (json!({"override": "yes"}), "`user.email_verified` must be a bool"),
        (json!({"override": true, "protocol": "oauth2-password "}), "`context.protocol` must be one of"),
    ] {
        let mut u = user();
        u["app_metadata"] = metadata;
        let o = decide(&p, &u, &context(), Exec::at(NOW)).expect("valid input");
        assert_eq!(o["decision"], "deny", "{o}");
        assert_eq!(o["error"]["cause"], "rule_error");
        assert!(o["error"]["description"].as_str().is_some_and(|d| d.contains(wrong)), "{o}");
    }
    let mut u = user();
    u["app_metadata"] = json!({"override": false});
    let o = decide(&p, &u, &context(), Exec::at(NOW)).expect("valid input");
    assert_eq!(o["decision"], "allow", "{o}");
    assert_eq!(o["user"]["email_verified"], false);
}

fn cli(args: &[&str]) -> (u8, warden_cli::Output) {
    main_with(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>(), false)
}

fn write_json(dir: &Path, name: &str, value: &Json) -> String {
    let path = dir.join(name);
    std::fs::write(&path, value.to_string()).expect("write");
    path.display().to_string()
}

/// `examples/mixed-legacy` reads `email_verified` only from JavaScript: a string there was
/// allowed; it is an input error like everywhere else.
#[test]
fn mixed_legacy_checks_fields_only_javascript_reads() {
    let ex = root().join("examples/mixed-legacy");
    let dir = scratch("mixed-legacy-input");
    let sample = ex.join("samples/engineer");
    let mut u: Json =
        serde_json::from_str(&std::fs::read_to_string(sample.join("user.json")).expect("user")).expect("json");
    let c: Json =
        serde_json::from_str(&std::fs::read_to_string(sample.join("context.json")).expect("ctx")).expect("json");
    for bad in [json!("false"), json!(1), json!([]), json!({})] {
        u["email_verified"] = bad.clone();
        let (code, out) = cli(&[
            "run",
            "--manifest",
            &ex.join("warden.toml").display().to_string(),
            "--user",
            &write_json(&dir, "user.json", &u),
            "--context",
            &write_json(&dir, "context.json", &c),
        ]);
        assert_eq!(code, 1, "email_verified = {bad}: {}{}", out.stdout, out.stderr);
        assert!(out.stderr.contains("`user.email_verified` must be a bool"), "{}", out.stderr);
    }
}

/// `examples/b2b-domains`: a login into an organization by a user whose metadata has no
/// `org_id`, with an organization that has no `id`, was allowed (both sides missing).
#[test]
fn b2b_organization_check_denies_when_both_ids_are_missing() {
    let ex = root().join("examples/b2b-domains");
    let dir = scratch("b2b");
    let sample = ex.join("samples/wrong-organization");
    let mut u: Json =
        serde_json::from_str(&std::fs::read_to_string(sample.join("user.json")).expect("user")).expect("json");
    let mut c: Json =
        serde_json::from_str(&std::fs::read_to_string(sample.join("context.json")).expect("ctx")).expect("json");
    u["app_metadata"].as_object_mut().expect("metadata").shift_remove("org_id");
    c["organization"].as_object_mut().expect("an organization").shift_remove("id");
    let (code, out) = cli(&[
        "run",
        "--manifest",
        &ex.join("warden.toml").display().to_string(),
        "--user",
        &write_json(&dir, "user.json", &u),
        "--context",
        &write_json(&dir, "context.json", &c),
        "--config",
        "CONTRACTOR_DOMAIN=contractors.example",
    ]);
    assert_eq!(code, 3, "{}{}", out.stdout, out.stderr);
    let o: Json = serde_json::from_str(&out.stdout).expect("outcome");
    assert_eq!(o["error"]["rule"], "organization membership", "{o}");
}

/// `--timeout-ms` is range-checked like the manifest's `timeout_ms` (it timed out at once).
#[test]
fn timeout_flag_is_range_checked() {
    let ex = root().join("examples/quickstart");
    let sample = ex.join("samples/employee-login");
    for bad in ["0", "600001", "18446744073709551615"] {
        let (code, out) = cli(&[
            "run",
            "--manifest",
            &ex.join("warden.toml").display().to_string(),
            "--user",
            &sample.join("user.json").display().to_string(),
            "--context",
            &sample.join("context.json").display().to_string(),
            "--timeout-ms",
            bad,
        ]);
        assert_eq!(code, 2, "--timeout-ms {bad}: {}", out.stderr);
        assert!(out.stderr.contains("--timeout-ms"), "{}", out.stderr);
    }
}

/// JSON inputs, rule files and manifests saved with a byte-order mark are read as if it were
/// not there.
#[test]
fn byte_order_marks_are_ignored_in_files() {
    let src = root().join("examples/quickstart");
    let dir = scratch("bom");
    copy_dir(&src, &dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("rules"))
        .expect("rules")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.push(dir.join("warden.toml"));
    for path in files {
        let text = std::fs::read_to_string(&path).expect("read");
        std::fs::write(&path, format!("\u{feff}{text}")).expect("write");
    }
    let sample = src.join("samples/employee-login");
    let mut inputs = Vec::new();
    for f in ["user.json", "context.json"] {
        let text = std::fs::read_to_string(sample.join(f)).expect("read");
        let path = dir.join(format!("bom-{f}"));
        std::fs::write(&path, format!("\u{feff}{text}")).expect("write");
        inputs.push(path.display().to_string());
    }
    let (code, out) = cli(&[
        "run",
        "--manifest",
        &dir.join("warden.toml").display().to_string(),
        "--user",
        &inputs[0],
        "--context",
        &inputs[1],
        "--now",
        "2026-11-26T12:00:00Z",
    ]);
    assert_eq!(code, 0, "{}{}", out.stdout, out.stderr);
}

// ---- The property: wrong data never turns a deny into an allow ------------------------------

mod property {
    use std::sync::LazyLock;

    use proptest::prelude::*;
    use serde_json::{Value as Json, json};
    use warden::{Backend, Exec, Pipeline};
    use warden_ir::Shape;
    use warden_tests::{examples, samples};

    /// Every example pipeline with its samples' inputs.
    struct Example {
        name: String,
        pipeline: Pipeline,
        inputs: Vec<(Json, Json)>,
        /// Every known field of the input shapes: root (`user`/`context`), path, shape.
        fields: Vec<(bool, Vec<String>, Shape)>,
    }

    static EXAMPLES: LazyLock<Vec<Example>> = LazyLock::new(|| {
        examples()
            .into_iter()
            .map(|dir| {
                let mut pipeline = Pipeline::from_manifest(dir.join("warden.toml")).expect("examples load");
                warden_tests::assert_jit(&pipeline);
                // Secrets from the environment get a value, so that every login decodes.
                let env_keys: Vec<String> =
                    pipeline.config_spec().iter().filter(|k| k.env.is_some()).map(|k| k.key.clone()).collect();
                for key in env_keys {
                    pipeline.set_config(key, "secret").expect("the examples' secrets are strings");
                }
                let read = |p: std::path::PathBuf| -> Json {
                    serde_json::from_str(&std::fs::read_to_string(p).expect("sample")).expect("sample JSON")
                };
                let inputs = samples(&dir)
                    .into_iter()
                    .map(|s| (read(s.join("user.json")), read(s.join("context.json"))))
                    .collect();
                let mut fields = Vec::new();
                leaves(true, &mut Vec::new(), &pipeline.program().input.user, &mut fields);
                leaves(false, &mut Vec::new(), &pipeline.program().input.context, &mut fields);
                let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("?").to_string();
                Example { name, pipeline, inputs, fields }
            })
            .collect()
    });

    /// The known fields under a shape (a list's items appear as index 0).
    fn leaves(user: bool, path: &mut Vec<String>, shape: &Shape, out: &mut Vec<(bool, Vec<String>, Shape)>) {
        match shape {
            Shape::Any => {}
            Shape::Object(fields) => {
                for (name, s) in fields {
                    path.push(name.clone());
                    leaves(user, path, s, out);
                    path.pop();
                }
            }
            Shape::List(inner) => {
                out.push((user, path.clone(), shape.clone()));
                path.push("0".into());
                leaves(user, path, inner, out);
                path.pop();
            }
            other => out.push((user, path.clone(), other.clone())),
        }
    }

    /// Values that do not fit `shape`: wrong types, and for enumerations unknown values.
    fn wrong_values(shape: &Shape) -> Vec<Json> {
        let mut all = vec![json!("false"), json!("1"), json!(1.5), json!(0), json!(true), json!([]), json!({})];
        all.retain(|v| !fits(shape, v));
        if let Shape::OneOf(values) = shape {
            let first = values.first().cloned().unwrap_or_default();
            all.extend([
                json!(format!("{first} ")),
                json!(first.to_uppercase()),
                json!(format!("{first}\u{0}")),
                json!(""),
            ]);
        }
        if let Shape::List(inner) = shape {
            all.extend(wrong_values(inner).into_iter().take(3).map(|v| json!([v])));
        }
        all
    }

    fn fits(shape: &Shape, v: &Json) -> bool {
        match shape {
            Shape::Bool => v.is_boolean(),
            Shape::Int => v.as_i64().is_some(),
            Shape::Float => v.is_number(),
            Shape::Str => v.is_string(),
            Shape::OneOf(values) => v.as_str().is_some_and(|s| values.iter().any(|x| x == s)),
            Shape::Time => v.is_string() || v.is_number(),
            Shape::Scopes => v.is_string() || v.as_array().is_some_and(|a| a.iter().all(Json::is_string)),
            Shape::List(_) => v.as_array().is_some_and(Vec::is_empty),
            Shape::Object(_) => v.is_object(),
            Shape::Any => true,
        }
    }

    /// Sets (`Some`) or removes (`None`) the value at a path, making objects on the way
    /// (a numeric segment indexes a list, padding it with objects).
    fn put(root: &mut Json, path: &[String], value: Option<&Json>) {
        let Some((last, parents)) = path.split_last() else { return };
        let mut cur = root;
        for seg in parents {
            cur = match (seg.parse::<usize>(), cur) {
                (Ok(i), Json::Array(items)) => {
                    while items.len() <= i {
                        items.push(json!({}));
                    }
                    &mut items[i]
                }
                (_, other) => {
                    if !other.is_object() {
                        if value.is_none() {
                            return;
                        }
                        *other = json!({});
                    }
                    other.as_object_mut().expect("an object").entry(seg.clone()).or_insert(json!({}))
                }
            };
        }
        match (value, cur) {
            (Some(v), Json::Object(map)) => {
                map.insert(last.clone(), v.clone());
            }
            (None, Json::Object(map)) => {
                map.shift_remove(last);
            }
            _ => {}
        }
    }

    /// The decision (`None`: the input is refused). Rules that call web APIs get no answer
    /// (an empty script of exchanges): tests never reach the network.
    fn decision(p: &Pipeline, user: &Json, context: &Json, backend: Backend) -> Option<bool> {
        let exec = Exec::at(1_795_694_400_000).on(backend);
        let decoded = p.decode(user.clone(), context.clone(), exec.now).ok()?;
        Some(p.run_decoded(decoded.answer_http_from(std::sync::Arc::new(Vec::new())), &exec).is_allow())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, .. ProptestConfig::default() })]

        /// For random samples with one to three known fields given wrong types or values
        /// outside their set, no example pipeline allows a login it denies (or refuses) when
        /// those fields are absent.
        #[test]
        fn wrong_data_never_turns_a_deny_into_an_allow(
            example in any::<prop::sample::Index>(),
            sample in any::<prop::sample::Index>(),
            picks in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 1..=3),
        ) {
            let ex = &EXAMPLES[example.index(EXAMPLES.len())];
            let (user, context) = &ex.inputs[sample.index(ex.inputs.len())];
            let (mut bad_user, mut bad_context) = (user.clone(), context.clone());
            let (mut absent_user, mut absent_context) = (user.clone(), context.clone());
            let mut changed = Vec::new();
            for (field, value) in picks {
                let (is_user, path, shape) = &ex.fields[field.index(ex.fields.len())];
                let wrong = wrong_values(shape);
                let v = &wrong[value.index(wrong.len())];
                let (bad, absent) =
                    if *is_user { (&mut bad_user, &mut absent_user) } else { (&mut bad_context, &mut absent_context) };
                put(bad, path, Some(v));
                put(absent, path, None);
                changed.push(format!("{}.{} = {v}", if *is_user { "user" } else { "context" }, path.join(".")));
            }
            for backend in [Backend::Interp, Backend::Jit] {
                let with_bad = decision(&ex.pipeline, &bad_user, &bad_context, backend);
                let without = decision(&ex.pipeline, &absent_user, &absent_context, backend);
                prop_assert!(
                    with_bad != Some(true) || without == Some(true),
                    "{}: {:?} allows with {} but not without those fields ({:?})",
                    ex.name, backend, changed.join(", "), without
                );
            }
        }
    }

    /// The property is not vacuous: the examples have known fields to spoil, and most spoiled
    /// inputs are refused as input errors.
    #[test]
    fn the_property_has_fields_to_work_on() {
        assert!(EXAMPLES.len() >= 6, "{} examples", EXAMPLES.len());
        for ex in EXAMPLES.iter() {
            assert!(ex.fields.len() > 50, "{}: {} known fields", ex.name, ex.fields.len());
            assert!(!ex.inputs.is_empty(), "{}: no samples", ex.name);
            let (u, c) = &ex.inputs[0];
            let mut u = u.clone();
            u["email_verified"] = json!("true");
            assert!(
                decision(&ex.pipeline, &u, c, Backend::Jit).is_none(),
                "{}: a wrong type is an input error",
                ex.name
            );
        }
    }
}

/// Explanations show `x == null` and `x != null` as written, though they are their own IR
/// node now.
#[test]
fn explanations_show_null_tests_as_written() {
    let p = Pipeline::from_source(
        "main.rule",
        r#"rule "r" { deny "no email" if user.email == null or user.app_metadata.org == null and user.name != null }"#,
    )
    .expect("checks");
    let mut exec = Exec::at(NOW);
    exec.trace = true;
    let o = p.execute(&json!({"user_id": "auth0|1"}), &context(), &exec).expect("valid input").to_json();
    let because = &o["trace"]["decision"]["because"][0];
    assert_eq!(
        because["condition"], "(user.email == null) or ((user.app_metadata.org == null) and (user.name != null))",
        "{o}"
    );
}

/// Scopes a JavaScript rule leaves in `context.accessToken.scope` are read like the host's:
/// items of a list are split on white space, and a list with a non-string is a rule error.
#[test]
fn javascript_scope_lists_are_split_and_checked() {
    let p = pipeline(
        "js-scopes",
        "[pipeline]\nrules = [\"scopes.js\", \"after.rule\"]\n",
        &[
            (
                "scopes.js",
                "function (user, context, callback) { context.accessToken.scope = user.app_metadata.scopes; callback(null, user, context); }",
            ),
            ("after.rule", r#"rule "after" { scope remove "delete:users" }"#),
        ],
    );
    let mut u = user();
    u["app_metadata"] = json!({"scopes": ["openid profile", "read:docs delete:users"]});
    let o = decide(&p, &u, &context(), Exec::at(NOW)).expect("valid input");
    assert_eq!(o["scope"], json!(["openid", "profile", "read:docs"]), "{o}");
    u["app_metadata"] = json!({"scopes": ["openid", 5]});
    let o = decide(&p, &u, &context(), Exec::at(NOW)).expect("valid input");
    assert_eq!(o["decision"], "deny", "{o}");
    assert_eq!(o["error"]["cause"], "rule_error", "{o}");
}
