//! Stated limits, each asserted at its boundary: what the docs promise is accepted is
//! accepted, one step past it is refused with the documented code.

/// The error codes `check` reports for a source.
fn codes(src: &str) -> Vec<String> {
    let c = warden_check::check_source("main.rule", src);
    c.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.code.to_string()).collect()
}

/// Every form of nesting `docs/language.md` names (brackets, blocks, interpolations, operator
/// chains), `n` levels deep inside a rule body.
fn nested(n: usize) -> Vec<(&'static str, String)> {
    let body = |stmt: String| format!("rule \"r\" {{\n    {stmt}\n}}\n");
    vec![
        ("parentheses", body(format!("deny if {}true{}", "(".repeat(n), ")".repeat(n)))),
        ("operators in parentheses", body(format!("deny if {}true{}", "(true and ".repeat(n), ")".repeat(n)))),
        ("lists", body(format!("log {}1{}", "[".repeat(n), "]".repeat(n)))),
        ("objects", body(format!("log {}1{}", "{ \"a\": ".repeat(n), " }".repeat(n)))),
        ("comprehensions", body(format!("log {}1{}", "[x for x in ".repeat(n), "]".repeat(n)))),
        ("calls", body(format!("log {}\"x\"{}", "lower(".repeat(n), ")".repeat(n)))),
        ("interpolations", body(format!("log {}x{}", "\"${".repeat(n), "}\"".repeat(n)))),
        ("blocks", body(format!("{}log \"x\"{}", "if true { ".repeat(n), " }".repeat(n)))),
    ]
}

#[test]
fn nesting_is_limited_to_64_levels() {
    for (what, src) in nested(64) {
        let errors = codes(&src);
        assert!(!errors.contains(&"E0002".to_string()), "64 levels of {what} must be accepted, got {errors:?}");
    }
    for (what, src) in nested(65) {
        let errors = codes(&src);
        assert!(
            errors.contains(&"E0002".to_string()),
            "65 levels of {what} must be refused with E0002, got {errors:?}"
        );
    }
}

/// A scratch directory for one test, removed by the caller.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("warden-limits-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// `text` followed by a `#` comment line that pads it to exactly `size` bytes.
/// A rule file of exactly `size` bytes: a `#` comment line, then `rule`. The comment comes
/// first because a rule spans from its `rule` line to the next rule's, and one rule may span
/// at most 1 MiB (E0006).
fn padded_rule(rule: &str, size: usize) -> String {
    let mut out = String::from("#");
    out.push_str(&"x".repeat(size - rule.len() - 2));
    out.push('\n');
    out.push_str(rule);
    assert_eq!(out.len(), size);
    out
}

fn padded(text: &str, size: usize) -> String {
    let mut out = format!("{text}#");
    out.push_str(&"x".repeat(size - out.len() - 1));
    out.push('\n');
    assert_eq!(out.len(), size);
    out
}

const MIB: usize = 1024 * 1024;

/// `warden run` reads at most 4 MiB per JSON input (README, "Guarantees"): a user or context of
/// exactly 4 MiB is decided, one byte more is refused with exit code 1 and the limit named.
#[test]
fn json_inputs_are_limited_to_4_mib_in_the_cli() {
    assert_eq!(warden_cli::MAX_INPUT_BYTES, 4 * MIB, "the documented limit");
    let dir = scratch("input");
    std::fs::write(
        dir.join("main.rule"),
        "rule \"r\" {\n    deny unauthorized \"unverified\" unless user.email_verified\n}\n",
    )
    .expect("write");
    // A valid user padded with an unknown field to exactly `size` bytes.
    let user_of = |size: usize| {
        let head = "{\"user_id\":\"auth0|1\",\"email_verified\":true,\"pad\":\"";
        let tail = "\"}";
        format!("{head}{}{tail}", "x".repeat(size - head.len() - tail.len()))
    };
    let context = "{\"clientName\":\"App\",\"protocol\":\"oidc-basic-profile\"}";
    let run = |user: &str, context: &str| {
        std::fs::write(dir.join("user.json"), user).expect("write");
        std::fs::write(dir.join("context.json"), context).expect("write");
        let p = |n: &str| dir.join(n).display().to_string();
        let args = [
            &p("main.rule"),
            "--user",
            &p("user.json"),
            "--context",
            &p("context.json"),
            "--now",
            "2026-11-26T12:00:00Z",
        ];
        let args: Vec<String> = std::iter::once("run").chain(args).map(String::from).collect();
        warden_cli::main_with(&args, false)
    };
    let (code, out) = run(&user_of(4 * MIB), context);
    assert_eq!(code, 0, "a 4 MiB user is accepted and allowed: {}", out.stderr);
    assert!(
        out.stdout.contains("\"decision\":\"allow\"") || out.stdout.contains("\"decision\": \"allow\""),
        "{}",
        out.stdout
    );
    let (code, out) = run(&user_of(4 * MIB + 1), context);
    assert_eq!(code, 1, "a user one byte over 4 MiB is an input error (exit 1)");
    assert!(out.stderr.contains("user") && out.stderr.contains("larger than the 4 MiB limit"), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "no outcome for a refused input: {}", out.stdout);
    // The same for the context.
    let big_context = {
        let head = "{\"clientName\":\"App\",\"protocol\":\"oidc-basic-profile\",\"pad\":\"";
        format!("{head}{}\"}}", "x".repeat(4 * MIB + 1 - head.len() - 2))
    };
    assert_eq!(big_context.len(), 4 * MIB + 1);
    let (code, out) = run(&user_of(1024), &big_context);
    assert_eq!(code, 1);
    assert!(out.stderr.contains("context") && out.stderr.contains("larger than the 4 MiB limit"), "{}", out.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Rule files and list files are read up to 16 MiB (README, "Guarantees"; E0201 for a rule
/// file, E0113 for a list file): exactly 16 MiB checks, one byte more is refused, naming the
/// limit.
#[test]
fn rule_and_list_files_are_limited_to_16_mib() {
    assert_eq!(warden_check::MAX_FILE_BYTES, 16 * MIB as u64, "the documented limit");
    let dir = scratch("files");
    let check = |file: &str| warden_check::check_files(&[dir.join(file)], Default::default());
    let errors = |c: &warden_check::Compiled| -> Vec<(String, String)> {
        c.diagnostics.iter().filter(|d| d.is_error()).map(|d| (d.code.to_string(), d.message.clone())).collect()
    };
    // A rule file.
    let rule = "rule \"r\" {\n    log \"fits\"\n}\n";
    std::fs::write(dir.join("exact.rule"), padded_rule(rule, 16 * MIB)).expect("write");
    let c = check("exact.rule");
    assert!(c.program.is_some(), "a 16 MiB rule file checks: {:?}", errors(&c));
    std::fs::write(dir.join("over.rule"), padded_rule(rule, 16 * MIB + 1)).expect("write");
    let e = errors(&check("over.rule"));
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].0, "E0201", "{e:?}");
    assert!(e[0].1.contains("over.rule") && e[0].1.contains("16 MiB"), "{e:?}");
    // A list file, read by `list()`.
    std::fs::write(dir.join("list.rule"), "rule \"r\" {\n    deny if user.email in list(\"emails.txt\")\n}\n")
        .expect("write");
    std::fs::write(dir.join("emails.txt"), padded("blocked@example.com\n", 16 * MIB)).expect("write");
    let c = check("list.rule");
    assert!(c.program.is_some(), "a 16 MiB list file loads: {:?}", errors(&c));
    // ... and it is the list it says: the entry before the comment is in it.
    let p = warden::Pipeline::from_files(&[dir.join("list.rule")], Default::default()).expect("loads");
    let o = p
        .execute(
            &serde_json::json!({"user_id": "auth0|1", "email": "blocked@example.com"}),
            &serde_json::json!({}),
            &warden::Exec::at(0),
        )
        .expect("valid");
    assert!(!o.is_allow(), "the listed address is denied");
    std::fs::write(dir.join("emails.txt"), padded("blocked@example.com\n", 16 * MIB + 1)).expect("write");
    let e = errors(&check("list.rule"));
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].0, "E0113", "{e:?}");
    assert!(e[0].1.contains("emails.txt") && e[0].1.contains("16 MiB"), "{e:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// An execution keeps at most 256 log entries (README, "Guarantees"): the first 256, in order,
/// from `.rule` statements and JavaScript `console.log` alike, on every backend; the rest are
/// dropped and the login goes on.
#[test]
fn logs_are_limited_to_256_entries() {
    use warden::{Backend, Exec, Pipeline};
    let logs: String = (0..300).map(|i| format!("    log \"entry {i}\"\n")).collect();
    let p = Pipeline::from_source(
        "logs.rule",
        &format!("rule \"chatty\" {{\n{logs}    claim id_token \"https://x/after\" = true\n}}\n"),
    )
    .expect("checks");
    warden_tests::assert_jit(&p);
    for backend in [Backend::Interp, Backend::Jit] {
        let o = p
            .execute(&serde_json::json!({"user_id": "auth0|1"}), &serde_json::json!({}), &Exec::at(0).on(backend))
            .expect("valid");
        assert!(o.is_allow(), "{backend:?}");
        let messages: Vec<&str> = o.logs.iter().map(|l| l.message.as_str()).collect();
        let expected: Vec<String> = (0..256).map(|i| format!("entry {i}")).collect();
        assert_eq!(messages, expected, "{backend:?}: the first 256 entries, in order");
        assert_eq!(o.id_token.get("https://x/after"), Some(&serde_json::json!(true)), "{backend:?}: the rule went on");
    }
    // A JavaScript rule after 200 entries adds only 56 more.
    let dir = scratch("js-logs");
    let first: String = (0..200).map(|i| format!("    log \"rule {i}\"\n")).collect();
    std::fs::write(dir.join("a.rule"), format!("rule \"a\" {{\n{first}}}\n")).expect("write");
    std::fs::write(
        dir.join("b.js"),
        "function b(user, context, callback) {\n  for (var i = 0; i < 100; i++) console.log('js ' + i);\n  callback(null, user, context);\n}\n",
    )
    .expect("write");
    std::fs::write(dir.join("warden.toml"), "[pipeline]\nrules = [\"a.rule\", \"b.js\"]\n").expect("write");
    let p = Pipeline::from_manifest(dir.join("warden.toml")).expect("loads");
    warden_tests::assert_jit(&p);
    for backend in [Backend::Interp, Backend::Jit] {
        let o = p
            .execute(&serde_json::json!({"user_id": "auth0|1"}), &serde_json::json!({}), &Exec::at(0).on(backend))
            .expect("valid");
        assert!(o.is_allow(), "{backend:?}: {}", o.to_json());
        assert_eq!(o.logs.len(), 256, "{backend:?}");
        assert_eq!(o.logs[199].message, "rule 199");
        assert_eq!(o.logs[200].message, "js 0");
        assert_eq!(o.logs[255].message, "js 55");
        assert_eq!(o.logs[255].rule, "b");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
