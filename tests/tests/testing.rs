//! `warden init`, `warden test` (diffs, formats, coverage) and `warden run --explain`, as a
//! user meets them.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use warden_cli::main_with;
use warden_tests::{copy_dir, root};

fn run(args: &[&str]) -> (u8, warden_cli::Output) {
    main_with(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>(), false)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("warden-testing-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn p(path: &Path) -> String {
    path.display().to_string()
}

#[test]
fn init_then_test_passes_and_a_broken_rule_fails_with_a_diff() {
    let dir = scratch("init");
    let (code, out) = run(&["init", &p(&dir)]);
    assert_eq!(code, 0, "{}", out.stderr);
    let (code, out) = run(&["check", &p(&dir)]);
    assert_eq!(code, 0, "{}", out.stderr);
    let (code, out) = run(&["test", &p(&dir)]);
    assert_eq!(code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.ends_with("4 passed, 0 failed\n"), "{}", out.stdout);

    let (code, _) = run(&["init", &p(&dir)]);
    assert_eq!(code, 1, "init refuses a directory that is not empty");

    // Break a rule: the domain check now lets every domain through.
    let rule = dir.join("rules/access.rule");
    let text = std::fs::read_to_string(&rule).expect("rule");
    std::fs::write(
        &rule,
        text.replace("deny unauthorized \"Access denied.\" unless", "deny unauthorized \"Access denied.\" if"),
    )
    .expect("write");
    let (code, out) = run(&["test", &p(&dir)]);
    assert_eq!(code, 1);
    assert!(out.stdout.contains("FAIL "), "{}", out.stdout);
    assert!(out.stdout.contains("warden.test.toml: another domain is denied"), "{}", out.stdout);
    assert!(out.stdout.contains("error.rule: expected \"company domains only\""), "{}", out.stdout);
    assert!(out.stdout.contains("decision: expected \"allow\", found \"deny\""), "{}", out.stdout);
    assert!(out.stdout.ends_with("1 passed, 3 failed\n"), "{}", out.stdout);

    // Machine-readable reports.
    let (_, out) = run(&["test", &p(&dir), "--format", "json"]);
    let j: Json = serde_json::from_str(&out.stdout).expect("json report");
    assert_eq!(j["failed"], 3);
    let (_, out) = run(&["test", &p(&dir), "--format", "junit"]);
    assert!(out.stdout.starts_with("<?xml") && out.stdout.contains("<failure message="), "{}", out.stdout);
    let (_, out) = run(&["test", &p(&dir), "--filter", "unverified"]);
    assert!(out.stdout.ends_with("1 passed, 0 failed\n"), "{}", out.stdout);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unknown_keys_in_test_files_are_errors_with_a_span() {
    let dir = scratch("badkey");
    run(&["init", &p(&dir)]);
    let file = dir.join("warden.test.toml");
    let text = std::fs::read_to_string(&file).expect("test file").replace("decision = \"deny\"", "decison = \"deny\"");
    std::fs::write(&file, text).expect("write");
    let (code, out) = run(&["test", &p(&dir)]);
    assert_eq!(code, 1);
    assert!(out.stderr.contains("E0300"), "{}", out.stderr);
    assert!(out.stderr.contains("unknown field `decison`"), "{}", out.stderr);
    assert!(out.stderr.contains("warden.test.toml:"), "the error points into the file: {}", out.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Lines and branches hit, from an lcov file.
fn lcov_totals(path: &Path) -> (u64, u64) {
    let text = std::fs::read_to_string(path).expect("lcov written");
    let sum = |key: &str| text.lines().filter_map(|l| l.strip_prefix(key)).filter_map(|v| v.parse::<u64>().ok()).sum();
    (sum("LH:"), sum("BRH:"))
}

#[test]
fn coverage_drops_when_a_case_is_removed() {
    let src = root().join("examples/quickstart");
    let dir = scratch("coverage");
    copy_dir(&src, &dir);
    let lcov = dir.join("full.lcov");
    let (code, out) = run(&["test", &p(&dir), "--coverage", "--lcov", &p(&lcov)]);
    assert_eq!(code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("coverage:"), "{}", out.stderr);
    let full = lcov_totals(&lcov);
    let tests_path = dir.join("warden.test.toml");
    let original = std::fs::read_to_string(&tests_path).expect("quickstart ships a test file");
    let doc: toml::Table = toml::from_str(&original).expect("toml");
    let cases = doc["case"].as_array().expect("cases").len();
    let mut dropped = 0;
    for i in 0..cases {
        let mut fewer = doc.clone();
        fewer["case"].as_array_mut().expect("cases").remove(i);
        std::fs::write(&tests_path, toml::to_string(&fewer).expect("toml")).expect("write");
        let lcov_i = dir.join(format!("minus-{i}.lcov"));
        let (code, out) = run(&["test", &p(&dir), "--coverage", "--lcov", &p(&lcov_i)]);
        assert_eq!(code, 0, "{}", out.stdout);
        let less = lcov_totals(&lcov_i);
        assert!(less.0 <= full.0 && less.1 <= full.1, "removing a case never adds coverage");
        if less != full {
            dropped += 1;
            assert!(out.stderr.contains("never"), "the summary names what is no longer covered: {}", out.stderr);
        }
    }
    assert!(dropped > 0, "some case must cover something no other case does");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn explain_names_the_rule_the_line_and_the_values() {
    let s = root().join("examples/quickstart/samples/admin-dashboard-personal-account");
    let manifest = root().join("examples/quickstart/warden.toml");
    let (code, out) = run(&[
        "run",
        "--manifest",
        &p(&manifest),
        "--user",
        &p(&s.join("user.json")),
        "--context",
        &p(&s.join("context.json")),
        "--now",
        "2026-11-26T12:00:00Z",
        "--explain",
    ]);
    assert_eq!(code, 3);
    assert!(out.stderr.contains("denied by rule \"admin dashboard for company domains\" at "), "{}", out.stderr);
    assert!(out.stderr.contains("rules/10-access.rule:26:5"), "{}", out.stderr);
    assert!(out.stderr.contains("`email_domain(user.email)` was \"gmail.com\""), "{}", out.stderr);
    assert!(out.stderr.contains("`email_domain(user.email) not in allowed` was true"), "{}", out.stderr);
    let o: Json = serde_json::from_str(&out.stdout).expect("outcome");
    assert_eq!(o["trace"]["decision"]["rule"], "admin dashboard for company domains");
}

#[test]
fn json_inputs_and_expectations_carry_nulls() {
    let dir = scratch("json");
    run(&["init", &p(&dir)]);
    let file = dir.join("nulls.test.toml");
    std::fs::write(
        &file,
        r#"[defaults]
now = "2026-11-26T12:00:00Z"
[defaults.user]
user_id = "auth0|1"
email = "alice@example.com"
email_verified = true

[[case]]
name = "a null email is denied by the domain rule"
user_json = '{"email": null}'
[case.expect]
json = '{"decision": "deny", "effects": []}'
error = { rule = "company domains only" }

[[case]]
name = "json expectations are compared exactly"
[case.expect]
json = '{"scope": null, "multifactor": null, "redirect": "wrong"}'
"#,
    )
    .expect("write");
    let (code, out) = run(&["test", &p(&file)]);
    assert_eq!(code, 1);
    assert!(out.stdout.contains("redirect: expected \"wrong\", found null"), "{}", out.stdout);
    assert!(out.stdout.ends_with("1 passed, 1 failed\n"), "{}", out.stdout);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Configuration the manifest takes from an environment variable that is not set, given by
/// the test file instead: the artifact check runs with it (an artifact that cannot load would
/// fail the case, saying why), and a mixed pipeline's JavaScript runs from the signed
/// artifact's bytecode and the unsigned artifact's sources.
#[test]
fn the_artifact_check_runs_with_the_test_files_configuration() {
    let dir = scratch("artifact-config");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("warden.toml"),
        "[pipeline]\nrules = [\"gate.rule\", \"tag.js\"]\n[configuration]\nDOMAIN = { env = \"WARDEN_TESTING_NEVER_SET_DOMAIN\" }\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("gate.rule"),
        "rule \"gate\" {\n    deny unauthorized \"wrong domain\" unless email_domain(user.email) == config.DOMAIN\n}\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("tag.js"),
        "function tag(user, context, callback) {\n  context.idToken['https://x/domain'] = configuration.DOMAIN;\n  callback(null, user, context);\n}\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("gate.test.toml"),
        r#"[defaults]
now = "2026-11-26T12:00:00Z"
[defaults.user]
user_id = "auth0|1"
email = "a@example.com"
[defaults.config]
DOMAIN = "example.com"

[[case]]
name = "the configured domain is allowed"
[case.expect]
decision = "allow"
id_token = { "https://x/domain" = "example.com" }

[[case]]
name = "a case's own configuration"
config = { DOMAIN = "example.org" }
[case.expect]
decision = "deny"
error = { description = "wrong domain" }
"#,
    )
    .expect("write");
    let (code, out) = run(&["test", &p(&dir)]);
    assert_eq!(code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.ends_with("2 passed, 0 failed\n"), "{}", out.stdout);
    let _ = std::fs::remove_dir_all(&dir);
}
