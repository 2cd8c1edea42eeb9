//! The translation alone (no proof): what it writes and what it refuses, with lines.

use warden_migrate::translate;

fn rule(js: &str) -> String {
    let t = translate(js, None, "x.js");
    assert!(t.rule.is_some(), "refused: {:?}", t.refusals);
    t.rule.unwrap_or_default()
}

fn refusals(js: &str) -> Vec<(usize, String)> {
    let t = translate(js, None, "x.js");
    assert!(t.rule.is_none(), "translated:\n{:?}", t.rule);
    t.refusals.into_iter().map(|r| (r.line, r.why)).collect()
}

#[test]
fn a_guard_makes_a_field_present_for_the_rest_of_the_rule() {
    let r = rule(
        "function f(user, context, callback) {\n  if (!user.email) {\n    return callback(new UnauthorizedError('no email'));\n  }\n  user.email = user.email.toLowerCase();\n  callback(null, user, context);\n}\n",
    );
    assert!(r.contains("deny \"no email\" if user.email == null or user.email == \"\""), "{r}");
    assert!(r.contains("set user.email = lower(user.email)"), "{r}");
}

#[test]
fn a_method_on_a_field_that_may_be_missing_is_refused_with_its_line() {
    let why = refusals(
        "function f(user, context, callback) {\n  const e = user.email.toLowerCase();\n  callback(null, user, context);\n}\n",
    );
    assert_eq!(why.len(), 1, "{why:?}");
    assert_eq!(why[0].0, 2);
    assert!(why[0].1.contains("`user.email` may be missing here, where JavaScript throws"), "{why:?}");
}

#[test]
fn every_reason_is_reported_at_once() {
    let why = refusals(
        "function f(user, context, callback) {\n  global.x = 1;\n  for (var i = 0; i < 3; i++) {}\n  request.post('https://x.example', function () { callback(null, user, context); });\n}\n",
    );
    let lines: Vec<usize> = why.iter().map(|w| w.0).collect();
    assert!(lines.contains(&2) && lines.contains(&3) && lines.contains(&4), "{why:?}");
    assert!(why.iter().any(|w| w.1.contains("network call")), "{why:?}");
    assert!(why.iter().any(|w| w.1.contains("a loop")), "{why:?}");
    assert!(why.iter().any(|w| w.1.contains("`global`")), "{why:?}");
}

#[test]
fn names_that_are_keywords_are_renamed_and_constants_fold_into_claim_names() {
    let r = rule(
        "function f(user, context, callback) {\n  const namespace = 'https://example.com/';\n  const scope = context.authorization.roles.filter(r => r !== 'guest');\n  context.idToken[namespace + 'roles'] = scope;\n  callback(null, user, context);\n}\n",
    );
    assert!(r.contains("let scope_ = [r for r in context.authorization.roles if r != \"guest\"]"), "{r}");
    assert!(r.contains("claim id_token \"https://example.com/roles\" = scope_"), "{r}");
    assert!(!r.contains("namespace"), "an unused constant stays out: {r}");
}

#[test]
fn comments_are_kept_and_an_anonymous_function_translates() {
    let r = rule(
        "/** Says hello. */\nfunction (user, context, callback) {\n  // Only for the kiosk.\n  if (context.clientName !== 'Kiosk') return callback(null, user, context);\n  context.idToken['https://example.com/kiosk'] = true;\n  callback(null, user, context);\n}\n",
    );
    assert!(r.starts_with("# Translated from x.js"), "{r}");
    assert!(r.contains("# Says hello."), "{r}");
    assert!(r.contains("    # Only for the kiosk.\n    when context.clientName == \"Kiosk\""), "{r}");
}

#[test]
fn a_path_that_never_calls_back_is_refused() {
    let why = refusals(
        "function f(user, context, callback) {\n  if (user.email_verified) {\n    callback(null, user, context);\n  }\n}\n",
    );
    assert!(why.iter().any(|w| w.1.contains("without calling callback")), "{why:?}");
}

#[test]
fn text_that_is_not_a_rule_is_refused() {
    let why = refusals("this is not javascript (");
    assert!(why[0].1.contains("does not parse"), "{why:?}");
    let why = refusals("var x = 1;\n");
    assert!(why[0].1.contains("no rule function"), "{why:?}");
}

#[test]
fn deep_or_large_input_is_refused_without_overflowing_a_stack() {
    let deep = format!(
        "function f(user, context, callback) {{ const x = {}1{}; callback(null, user, context); }}",
        "(".repeat(1_000),
        ")".repeat(1_000)
    );
    let why = refusals(&deep);
    assert!(why[0].1.contains("nest deeper"), "{why:?}");
    // A long chain of operators (no brackets) within the size limit.
    let chain = format!(
        "function f(user, context, callback) {{ const x = 1{}; callback(null, user, context); }}",
        " + 1".repeat(30_000)
    );
    let t = translate(&chain, None, "x.js");
    assert!(t.rule.is_some() || !t.refusals.is_empty());
    let big = format!(
        "function f(user, context, callback) {{ {} callback(null, user, context); }}",
        "var a = 1;\n".repeat(20_000)
    );
    let why = refusals(&big);
    assert!(why[0].1.contains("larger than"), "{why:?}");
}

#[test]
fn a_long_else_if_chain_is_refused_without_overflowing_a_stack() {
    let chain = format!(
        "function f(user, context, callback) {{ if (user.email_verified) callback(null, user, context);{} else callback(null, user, context); }}",
        " else if (user.email_verified) callback(null, user, context);".repeat(2_000)
    );
    let why = refusals(&chain);
    assert!(why.iter().any(|w| w.1.contains("nested deeper")), "{why:?}");
}

#[test]
fn a_callback_binds_its_constants_and_only_those() {
    // Declarations then `return`: each name stands for its value inside the quantifier, and a
    // list's `xs[xs.length - 1]` is its last item.
    let r = rule(
        "function f(user, context, callback) {\n  if (!user.email) return callback(new UnauthorizedError('no'));\n  const ok = ['a.example'].some(function (d) {\n    const parts = user.email.split('@');\n    const tail = parts[parts.length - 1];\n    return tail.toLowerCase() === d;\n  });\n  if (!ok) return callback(new UnauthorizedError('no'));\n  callback(null, user, context);\n}\n",
    );
    assert!(r.contains("any d in [\"a.example\"]: lower(last(split(user.email, \"@\"))) == d"), "{r}");
    // Any other statement in the callback stays JavaScript, with its line.
    let why = refusals(
        "function f(user, context, callback) {\n  const ok = ['a'].some(function (d) {\n    if (d) { return true; }\n    return false;\n  });\n  callback(null, user, context);\n}\n",
    );
    assert_eq!(why.len(), 1, "{why:?}");
    assert_eq!(why[0].0, 2);
    assert!(why[0].1.contains("other than `const` declarations and a final `return EXPR`"), "{why:?}");
    // `xs[xs.length - 1]` of something that is not a list is a computed property, refused.
    let why = refusals(
        "function f(user, context, callback) {\n  if (!user.name) return callback(null, user, context);\n  const c = user.name[user.name.length - 1];\n  context.idToken['https://x/c'] = c;\n  callback(null, user, context);\n}\n",
    );
    assert!(!why.is_empty(), "{why:?}");
}
