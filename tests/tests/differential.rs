//! Differential testing: random well-typed pipelines run on random inputs through the
//! interpreter and the JIT must give the same outcome, byte for byte (or the same input
//! error). `WARDEN_DIFF_PROGRAMS` sets how many programs (default 2,400, each run on 5
//! inputs: at least 10,000 cases, asserted); `WARDEN_DIFF_PROGRAMS=240000 cargo test --release -p
//! warden-tests --test differential -- --nocapture` runs about a million (some 13% of
//! generated programs do not check and are skipped; the test prints the real count).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value as Json, json};
use warden::{Backend, Exec, Pipeline};

const INPUTS_PER_PROGRAM: usize = 5;

// ---------------------------------------------------------------------------------------
// Programs: typed expression generators over a fixed part of the schema.

fn leaf<T: Clone + std::fmt::Debug + 'static>(items: &[T]) -> BoxedStrategy<T> {
    prop::sample::select(items.to_vec()).boxed()
}

fn string_expr(depth: u32) -> BoxedStrategy<String> {
    let base = leaf(&[
        "user.email",
        "user.name",
        "user.nickname",
        "context.clientName",
        "context.request.ip",
        "config.K",
        "\"example.com\"",
        "\"\"",
        "\"Ünïcode@Example.COM\"",
        "user.identities[0].connection",
        "context.authorization.roles[1]",
        "weekday(now())",
        "weekday(user.logins_count)",
        "\"  MiXed Case  \"",
    ])
    .prop_map(String::from);
    if depth == 0 {
        return base.boxed();
    }
    let s = || string_expr(depth - 1);
    prop_oneof![
        3 => base,
        1 => s().prop_map(|x| format!("lower({x})")),
        1 => s().prop_map(|x| format!("upper({x})")),
        1 => s().prop_map(|x| format!("trim({x})")),
        1 => s().prop_map(|x| format!("email_domain({x})")),
        1 => (s(), int_expr(depth - 1)).prop_map(|(x, i)| format!("\"${{{x}}}-${{{i}}}\"")),
        1 => (s(), s()).prop_map(|(x, y)| format!("({x} ?? {y})")),
        1 => (s(), s()).prop_map(|(x, y)| format!("({x} + {y})")),
        1 => s().prop_map(|x| format!("join(split({x}, \".\"), \"|\")")),
    ]
    .boxed()
}

fn int_expr(depth: u32) -> BoxedStrategy<String> {
    let base = leaf(&[
        "user.logins_count",
        "context.stats.loginsCount",
        "0",
        "1",
        "7",
        "-3",
        "9223372036854775807",
        "4611686018427387904",
        "now()",
    ])
    .prop_map(String::from);
    if depth == 0 {
        return base.boxed();
    }
    let i = || int_expr(depth - 1);
    prop_oneof![
        3 => base,
        1 => (i(), i(), leaf(&["+", "-", "*", "/", "%"])).prop_map(|(x, y, op)| format!("({x} {op} {y})")),
        1 => string_expr(depth - 1).prop_map(|s| format!("len({s})")),
        1 => (i(), i()).prop_map(|(x, y)| format!("({x} ?? {y})")),
        1 => i().prop_map(|x| format!("(-{x})")),
    ]
    .boxed()
}

fn dyn_expr() -> BoxedStrategy<String> {
    leaf(&[
        "user.app_metadata.n",
        "user.app_metadata.flag",
        "user.app_metadata.roles",
        "user.app_metadata.name",
        "context.request.query.p",
        "user.user_metadata",
    ])
    .prop_map(String::from)
    .boxed()
}

fn bool_expr(depth: u32) -> BoxedStrategy<String> {
    let base = leaf(&[
        "user.email_verified",
        "user.blocked",
        "true",
        "false",
        "user.identities[0].isSocial",
        "user.app_metadata.flag",
    ])
    .prop_map(String::from);
    if depth == 0 {
        return base.boxed();
    }
    let b = || bool_expr(depth - 1);
    let s = || string_expr(depth - 1);
    let i = || int_expr(depth - 1);
    prop_oneof![
        3 => base,
        2 => (i(), i(), leaf(&["==", "!=", "<", "<=", ">", ">="])).prop_map(|(x, y, op)| format!("({x} {op} {y})")),
        2 => (s(), s(), leaf(&["==", "!=", "<", ">="])).prop_map(|(x, y, op)| format!("({x} {op} {y})")),
        1 => (dyn_expr(), dyn_expr(), leaf(&["==", "!="])).prop_map(|(x, y, op)| format!("({x} {op} {y})")),
        1 => (dyn_expr(), i()).prop_map(|(x, y)| format!("({x} > {y})")),
        1 => s().prop_map(|x| format!("({x} == null)")),
        1 => s().prop_map(|x| format!("({x} in [\"example.com\", \"a@b.c\", \"\"])")),
        1 => s().prop_map(|x| format!("({x} not in context.authorization.roles)")),
        1 => dyn_expr().prop_map(|x| format!("(\"admin\" in {x})")),
        1 => b().prop_map(|x| format!("(not {x})")),
        2 => (b(), b(), leaf(&["and", "or"])).prop_map(|(x, y, op)| format!("({x} {op} {y})")),
        1 => (s(), s()).prop_map(|(x, y)| format!("starts_with({x}, {y})")),
        1 => (s(), s()).prop_map(|(x, y)| format!("contains({x}, {y})")),
        1 => s().prop_map(|x| format!("matches({x}, \"^[a-z]+@\")")),
        1 => s().prop_map(|x| format!("ip_in({x}, \"10.0.0.0/8\", \"2001:db8::/32\")")),
        1 => b().prop_map(|x| format!("(any r in context.authorization.roles: {x} or r == \"admin\")")),
        1 => s().prop_map(|x| format!("(all m in context.authentication.methods: m.name != {x})")),
        1 => dyn_expr().prop_map(|x| format!("(any v in {x}: v == 1)")),
        1 => dyn_expr(),
    ]
    .boxed()
}

fn any_expr() -> BoxedStrategy<String> {
    prop_oneof![string_expr(2), int_expr(2), bool_expr(2), dyn_expr(), Just("[1, \"two\", null]".to_string())].boxed()
}

fn statement(depth: u32, n: usize) -> BoxedStrategy<String> {
    let modifier = prop_oneof![
        2 => Just(String::new()),
        1 => bool_expr(1).prop_map(|b| format!(" if {b}")),
        1 => bool_expr(1).prop_map(|b| format!(" unless {b}")),
    ];
    let simple = prop_oneof![
        (string_expr(2), modifier.clone()).prop_map(|(s, m)| format!("deny unauthorized {s}{m}")),
        (bool_expr(2)).prop_map(|b| format!("deny access_denied \"no\" if {b}")),
        (string_expr(2), modifier.clone()).prop_map(|(s, m)| format!("set user.name = {s}{m}")),
        (int_expr(2)).prop_map(|i| format!("set user.app_metadata.n = {i}")),
        (modifier.clone()).prop_map(|m| format!("unset user.nickname{m}")),
        (any_expr(), 0..3u8).prop_map(move |(e, k)| format!("claim id_token \"https://x/c{k}\" = {e}")),
        (any_expr()).prop_map(|e| format!("claim access_token \"sub\" = {e}")),
        (string_expr(1), modifier.clone()).prop_map(|(s, m)| format!("scope add {s}, \"read\"{m}")),
        (string_expr(1)).prop_map(|s| format!("scope remove {s}")),
        (any_expr()).prop_map(|e| format!("log {e}")),
        (any_expr(), 0..2u8).prop_map(|(e, k)| format!("persist app_metadata.p{k} = {e}")),
        (bool_expr(1), modifier.clone()).prop_map(|(b, m)| format!("mfa any remember_browser {b}{m}")),
        (string_expr(1), modifier).prop_map(|(s, m)| format!("redirect \"https://x.example/${{{s}}}\"{m}")),
        (any_expr(), 0..1_000_000u32).prop_map(move |(e, k)| format!("let v{n}_{k} = {e}\n    log v{n}_{k}")),
    ];
    if depth == 0 {
        return simple.boxed();
    }
    prop_oneof![
        4 => simple,
        1 => (bool_expr(2), prop::collection::vec(statement(depth - 1, n + 10), 1..3), prop::collection::vec(statement(depth - 1, n + 20), 0..2))
            .prop_map(|(c, t, e)| format!("if {c} {{\n    {}\n    }} else {{\n    {}\n    }}", t.join("\n    "), e.join("\n    "))),
    ]
    .boxed()
}

fn rule_text(index: usize) -> BoxedStrategy<String> {
    (prop::option::of(bool_expr(2)), prop::collection::vec(statement(1, index * 100), 1..5))
        .prop_map(move |(guard, body)| {
            let guard = guard.map(|g| format!("    when {g}\n")).unwrap_or_default();
            format!("rule \"r{index}\" {{\n{guard}    {}\n}}\n", body.join("\n    "))
        })
        .boxed()
}

fn program() -> BoxedStrategy<String> {
    (1..4usize).prop_flat_map(|n| (0..n).map(rule_text).collect::<Vec<_>>()).prop_map(|rules| rules.concat()).boxed()
}

// ---------------------------------------------------------------------------------------
// Inputs: mostly well-typed, with missing fields, nulls and odd dynamic data.

fn opt<T: std::fmt::Debug + Clone + 'static>(s: BoxedStrategy<T>) -> BoxedStrategy<Option<T>> {
    prop::option::weighted(0.8, s).boxed()
}

fn dynamic_value() -> BoxedStrategy<Json> {
    prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        (-5i64..5).prop_map(Json::from),
        Just(json!(9223372036854775807i64)),
        Just(json!(2.5)),
        leaf(&["admin", "x", "10.1.2.3"]).prop_map(Json::from),
        Just(json!(["admin", 1, null])),
        Just(json!({"a": 1})),
    ]
    .boxed()
}

fn user() -> BoxedStrategy<Json> {
    (
        opt(leaf(&["alice@example.com", "Bob@Example.COM ", "\"x@y\"@evil.com", "noat", "", "ü@ü.de"]).boxed()),
        opt(any::<bool>().boxed()),
        opt(leaf(&["Alice", "  ", "Ωmega"]).boxed()),
        opt((-1i64..4).boxed()),
        opt(any::<bool>().boxed()),
        (dynamic_value(), dynamic_value(), dynamic_value()),
        opt(leaf(&["google-oauth2", "Username-Password-Authentication"]).boxed()),
    )
        .prop_map(|(email, verified, name, logins, blocked, (n, flag, roles), conn)| {
            let mut u = json!({ "user_id": "auth0|1", "nickname": "nick", "user_metadata": {"k": 1} });
            let m = u.as_object_mut().expect("object");
            let mut put = |k: &str, v: Option<Json>| {
                if let Some(v) = v {
                    m.insert(k.into(), v);
                }
            };
            put("email", email.map(Json::from));
            put("email_verified", verified.map(Json::from));
            put("name", name.map(Json::from));
            put("logins_count", logins.map(Json::from));
            put("blocked", blocked.map(Json::from));
            put("app_metadata", Some(json!({ "n": n, "flag": flag, "roles": roles })));
            put(
                "identities",
                conn.map(|c| json!([{ "connection": c, "isSocial": c != "Username-Password-Authentication" }])),
            );
            u
        })
        .boxed()
}

fn context() -> BoxedStrategy<Json> {
    (
        opt(leaf(&["App", "Kiosk", ""]).boxed()),
        opt(leaf(&["10.1.2.3", "::ffff:10.0.0.1", "2001:db8::1", "8.8.8.8", "not-an-ip"]).boxed()),
        opt(prop::collection::vec(leaf(&["admin", "user", "guest-1"]), 0..3).boxed()),
        leaf(&["oidc-basic-profile", "oauth2-password", "redirect-callback"]),
        opt((0i64..5).boxed()),
        dynamic_value(),
        opt(leaf(&["openid profile", "read"]).boxed()),
    )
        .prop_map(|(client, ip, roles, protocol, logins, p, scope)| {
            json!({
                "clientName": client,
                "protocol": protocol,
                "stats": { "loginsCount": logins },
                "authorization": { "roles": roles },
                "authentication": { "methods": [{ "name": "pwd", "timestamp": 1 }] },
                "request": { "ip": ip, "query": { "p": p, "scope": scope } },
            })
        })
        .boxed()
}

fn run_case(text: &str, inputs: &[(Json, Json)], compiled: &mut usize) -> Result<(), TestCaseError> {
    let Ok(mut pipeline) = Pipeline::from_source("gen.rule", text) else {
        return Ok(());
    };
    *compiled += 1;
    prop_assert!(pipeline.has_jit());
    pipeline.set_config("K", "Konfig@Example.com");
    for (user, context) in inputs {
        let run = |b: Backend| match pipeline.execute(user, context, &Exec::at(1_764_158_400_000).on(b)) {
            Ok(o) => o.to_json().to_string(),
            Err(e) => format!("input error: {e}"),
        };
        let (interp, jit) = (run(Backend::Interp), run(Backend::Jit));
        prop_assert_eq!(&interp, &jit, "program:\n{}\nuser: {}\ncontext: {}", text, user, context);
    }
    Ok(())
}

#[test]
fn jit_agrees_with_the_interpreter_on_generated_programs() {
    let configured: Option<u32> = std::env::var("WARDEN_DIFF_PROGRAMS").ok().and_then(|v| v.parse().ok());
    let programs = configured.unwrap_or(2400);
    let mut runner = TestRunner::new(Config { cases: programs, failure_persistence: None, ..Config::default() });
    let compiled = std::cell::Cell::new(0usize);
    let strategy = (program(), prop::collection::vec((user(), context()), INPUTS_PER_PROGRAM));
    let result = runner.run(&strategy, |(text, inputs)| {
        let mut n = compiled.get();
        let r = run_case(&text, &inputs, &mut n);
        compiled.set(n);
        r
    });
    assert!(result.is_ok(), "{}", result.err().map(|e| e.to_string()).unwrap_or_default());
    let total = compiled.get();
    println!(
        "{} passed, 0 failed ({} generated programs, {INPUTS_PER_PROGRAM} inputs each)",
        total * INPUTS_PER_PROGRAM,
        total
    );
    // Most generated programs must check, or this test would prove little.
    assert!(total * 10 >= programs as usize * 8, "only {total} of {programs} generated programs checked");
    if configured.is_none() {
        assert!(total * INPUTS_PER_PROGRAM >= 10_000, "CI runs at least 10,000 differential cases");
    }
}
