//! Property tests: no text makes the parser or checker panic, and no JSON input makes an
//! execution panic (most generated logins reach the rules, asserted). Failures and errors are
//! values, never crashes.

use std::sync::LazyLock;

use proptest::prelude::*;
use serde_json::{Map, Value as Json};
use warden::{Exec, Pipeline};
use warden_tests::root;

const VOCAB: &[&str] = &[
    "rule",
    "\"r\"",
    "\"x\"",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    ".",
    "=",
    "==",
    "!=",
    "<",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "??",
    "when",
    "let",
    "if",
    "else",
    "unless",
    "deny",
    "unauthorized",
    "set",
    "unset",
    "claim",
    "id_token",
    "scope",
    "add",
    "remove",
    "mfa",
    "any",
    "all",
    "remember_browser",
    "with",
    "redirect",
    "persist",
    "app_metadata",
    "log",
    "and",
    "or",
    "not",
    "in",
    "true",
    "false",
    "null",
    "user",
    "context",
    "config",
    "email",
    "x",
    "0",
    "1.5",
    "\"${user.email}\"",
    "lower",
    "list",
    "ip_in",
    "\"10.0.0.0/8\"",
    "matches",
    "\"^a\"",
    "\n",
    "#",
    "\"",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(VOCAB), 0..80).prop_map(|words| words.join(" "))
}

fn in_rule() -> impl Strategy<Value = String> {
    soup().prop_map(|body| format!("rule \"generated\" {{\n{body}\n}}\n"))
}

fn check_never_panics(text: &str) {
    let c = warden_check::check_source("prop.rule", text);
    assert_eq!(c.program.is_some(), !c.has_errors(), "a program exists exactly when there is no error");
    for d in &c.diagnostics {
        assert!(!d.message.is_empty());
        if let (Some(f), Some(s)) = (d.file, d.span) {
            let len = c.sources.get(f).text.len() as u32;
            assert!(s.start <= s.end && s.end <= len, "span {s:?} inside the file ({len} bytes)");
        }
        // pest's rule names never reach users.
        assert!(!d.message.contains("Rule::") && !d.message.contains("EOI"), "{}", d.message);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check_never_panics(&text);
    }

    #[test]
    fn token_soup_never_panics(text in soup()) {
        check_never_panics(&text);
    }

    #[test]
    fn rule_bodies_never_panic(text in in_rule()) {
        check_never_panics(&text);
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    for depth in [100, 10_000] {
        let expr = format!("{}true{}", "(".repeat(depth), ")".repeat(depth));
        check_never_panics(&format!("rule \"deep\" {{ deny if {expr} }}"));
        let chain = vec!["1"; depth].join(" + ");
        check_never_panics(&format!("rule \"long\" {{ log {chain} }}"));
        let nots = "not ".repeat(depth);
        check_never_panics(&format!("rule \"nots\" {{ deny if {nots} true }}"));
    }
}

fn json_value() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(Json::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number)),
        "[a-z@.:/ 0-9]{0,12}".prop_map(Json::String),
        prop::sample::select(vec!["admin", "openid profile", "10.1.2.3", "::ffff:10.0.0.1", "a@b.c", "2020-01-01"])
            .prop_map(Json::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Json::Array),
            prop::collection::vec((field_name(), inner), 0..6)
                .prop_map(|kv| Json::Object(kv.into_iter().collect::<Map<String, Json>>())),
        ]
    })
}

fn field_name() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "user_id",
        "email",
        "email_verified",
        "name",
        "app_metadata",
        "user_metadata",
        "roles",
        "login_count",
        "plan",
        "request",
        "ip",
        "query",
        "scope",
        "body",
        "protocol",
        "authorization",
        "authentication",
        "methods",
        "stats",
        "loginsCount",
        "clientName",
        "accessToken",
        "geoip",
        "identities",
        "multifactor",
        "created_at",
    ])
    .prop_map(String::from)
}

/// Rules that lean on dynamic data, where run-time type errors live.
const DYNAMIC_RULES: &str = r#"
rule "dynamic" {
    let roles = user.app_metadata.roles
    deny if "admin" in roles and not (user.app_metadata.plan == "pro")
    deny if any r in roles: lower(r) == "banned"
    claim id_token "https://x/n" = (user.app_metadata.login_count ?? 0) + 1
    set user.name = "${user.user_metadata.first} ${user.user_metadata.last}"
    scope add context.request.query.extra ?? "none"
    persist app_metadata.login_count = (user.app_metadata.login_count ?? 0) * 2
    deny if days_since(user.app_metadata.since ?? "2020-01-01") > 3650.5
    deny if ip_in(context.request.query.ip ?? "10.0.0.1", "10.0.0.0/8")
    log join(split(user.app_metadata.tags ?? "", ","), "|")
}
"#;

static QUICKSTART: LazyLock<Pipeline> =
    LazyLock::new(|| Pipeline::from_manifest(root().join("examples/quickstart/warden.toml")).expect("loads"));
static DYNAMIC: LazyLock<Pipeline> =
    LazyLock::new(|| Pipeline::from_source("dynamic.rule", DYNAMIC_RULES).expect("checks"));

/// A valid login (the quickstart's employee sample) with up to `n` random edits: a random
/// value set at a random path of known or unknown field names (objects made on the way), or a
/// path removed. Most edited logins still decode and run the rules; some are input errors.
fn edited_login(n: usize) -> impl Strategy<Value = (Json, Json)> {
    let edit = (any::<bool>(), prop::collection::vec(field_name(), 1..4), json_value(), 0u8..4);
    prop::collection::vec(edit, 0..n).prop_map(|edits| {
        let sample = root().join("examples/quickstart/samples/employee-login");
        let mut user = warden_tests::read_json(&sample.join("user.json"));
        let mut context = warden_tests::read_json(&sample.join("context.json"));
        for (in_user, path, value, how) in edits {
            let mut at = if in_user { &mut user } else { &mut context };
            let (last, parents) = path.split_last().expect("1..4 names");
            for name in parents {
                if !at.is_object() {
                    *at = Json::Object(Map::new());
                }
                at = at.as_object_mut().expect("an object").entry(name.clone()).or_insert(Json::Null);
            }
            if let Some(obj) = at.as_object_mut() {
                if how == 0 {
                    obj.shift_remove(last);
                } else {
                    obj.insert(last.clone(), value);
                }
            }
        }
        (user, context)
    })
}

/// Executes one login on both example pipelines: never a panic, and every outcome well
/// formed. Returns how many of the two runs reached the rules (the rest were input errors).
fn execute_both(user: &Json, context: &Json) -> Result<usize, TestCaseError> {
    let mut ran = 0;
    for p in [&*QUICKSTART, &*DYNAMIC] {
        match p.execute(user, context, &Exec::at(1_764_158_400_000)) {
            Ok(o) => {
                ran += 1;
                let j = o.to_json();
                prop_assert!(j["decision"] == "allow" || j["decision"] == "deny");
                if j["decision"] == "deny" {
                    prop_assert!(j["error"]["rule"].is_string());
                }
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
    Ok(ran)
}

/// Random JSON never makes an execution panic: logins edited from a valid one (so that most
/// reach the rules, asserted) and, in a smaller share, arbitrary JSON values (mostly input
/// errors).
#[test]
fn random_json_never_panics_an_execution() {
    use proptest::test_runner::{Config, TestRunner};
    let (runs, ran) = (std::cell::Cell::new(0usize), std::cell::Cell::new(0usize));
    let logins = prop_oneof![
        4 => edited_login(6),
        1 => (json_value(), json_value()),
    ];
    let mut runner = TestRunner::new(Config { cases: 2000, failure_persistence: None, ..Config::default() });
    let result = runner.run(&logins, |(user, context)| {
        let n = execute_both(&user, &context)?;
        runs.set(runs.get() + 2);
        ran.set(ran.get() + n);
        Ok(())
    });
    assert!(result.is_ok(), "{}", result.err().map(|e| e.to_string()).unwrap_or_default());
    let (runs, ran) = (runs.get(), ran.get());
    println!("{ran} of {runs} executions reached the rules; the others were input errors");
    assert!(ran * 2 >= runs, "only {ran} of {runs} executions reached the rules");
    assert!(ran < runs, "no input errors in {runs} executions: the generator lost its odd values");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_objects_in_known_places_never_panic(
        fields in prop::collection::vec((field_name(), json_value()), 0..12),
        ctx in prop::collection::vec((field_name(), json_value()), 0..12),
    ) {
        let user = Json::Object(fields.into_iter().collect());
        let context = Json::Object(ctx.into_iter().collect());
        let _ = DYNAMIC.execute(&user, &context, &Exec::at(0));
    }
}
