//! `warden migrate` (issue 19): the corpus of legacy rules in `tests/migrate/corpus/`, each
//! translated and proven equal or kept with its reason as `expect.toml` says, with golden
//! files of what the tool wrote or said (`tests/migrate/golden/`, `WARDEN_BLESS=1` rewrites
//! them); the import of both Deploy CLI export formats; the walk through docs/migrating.md;
//! verification of a wrong pair; and the errors of the command line.
//!
//! Proofs run the tool's default of 10,000 logins per rule; `WARDEN_MIGRATE_LOGINS=100000`
//! is the documented long run (docs/migrating.md).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use warden_migrate::project::{self, ProofOptions};
use warden_migrate::prove::Verdict;
use warden_tests::{copy_dir, golden, npm_project, root};

fn cli(args: &[&str]) -> (u8, warden_cli::Output) {
    warden_cli::main_with(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>(), false)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("warden-migrate-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// A scratch directory whose rules can `require('ipaddr.js')`, copied from the npm test
/// project (packages must lie inside the project: a link out of it is refused).
fn with_packages(dir: &Path) {
    let from = npm_project().join("node_modules/ipaddr.js");
    copy_dir(&from, &dir.join("node_modules/ipaddr.js"));
}

fn logins() -> usize {
    std::env::var("WARDEN_MIGRATE_LOGINS").ok().and_then(|v| v.parse().ok()).unwrap_or(project::DEFAULT_LOGINS)
}

#[derive(Deserialize, Debug)]
struct Expect {
    expect: String,
    reason: Option<String>,
    #[allow(dead_code)]
    note: Option<String>,
}

/// What each reason keyword of `expect.toml` must show in the refusal.
fn reason_words(reason: &str) -> &'static [&'static str] {
    match reason {
        "network" => &["network call"],
        "global" => &["`global`"],
        "dynamic-property" => &["computed at run time"],
        "loop" => &["a loop"],
        "throws-on-missing" => &["may be missing here, where JavaScript throws"],
        "module" => &["the module"],
        "mutation" => &["changes the list in place", "changes an object in place", "assigned again"],
        "callback-in-timer" => &["timers"],
        "other-users" => &["Management API", "another user"],
        "regex" => &["regular expression"],
        "samlConfiguration" | "primaryUser" => &["context.samlConfiguration", "context.primaryUser"],
        "disagreement" => &["the translation disagrees"],
        "other" => &["line "],
        _ => &[],
    }
}

/// The report of one corpus rule as its golden file holds it.
fn shown(r: &project::FileReport) -> String {
    let t = &r.translation;
    if let (Some(rule), true) = (&t.rule, r.proven()) {
        return rule.clone();
    }
    let mut s = String::from("# kept as JavaScript\n");
    for why in &t.refusals {
        s.push_str(&format!("line {}: {}\n", why.line, why.why));
    }
    match &r.verdict {
        // Without the number of logins that disagreed, which grows with the number run.
        Some(Ok(Verdict::Differ { why, login, .. })) => {
            s.push_str(&format!(
                "the translation disagrees; the smallest disagreeing login: {why}\n  user: {}\n  context: {}\n",
                login.user, login.context
            ));
        }
        Some(Err(e)) => s.push_str(&format!("{e}\n")),
        _ => {}
    }
    s
}

#[test]
fn the_corpus_translates_or_is_kept_as_expected() {
    let corpus = root().join("tests/migrate/corpus");
    let expect: BTreeMap<String, Expect> =
        toml::from_str(&std::fs::read_to_string(corpus.join("expect.toml")).expect("expect.toml"))
            .expect("expect.toml parses");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .expect("corpus")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "js"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "the corpus holds {} rules, fewer than 30", files.len());
    let dir = scratch("corpus");
    with_packages(&dir);
    let opts = ProofOptions { logins: logins(), seed: project::DEFAULT_SEED };
    // Two threads: each proof runs its JavaScript in its own runtimes.
    let halves: Vec<Vec<PathBuf>> =
        vec![files.iter().step_by(2).cloned().collect(), files.iter().skip(1).step_by(2).cloned().collect()];
    let results: Vec<(String, Result<String, String>, bool)> = std::thread::scope(|s| {
        let handles: Vec<_> = halves
            .iter()
            .map(|half| {
                let dir = &dir;
                let opts = &opts;
                s.spawn(move || {
                    half.iter()
                        .map(|f| {
                            let stem = f.file_stem().expect("stem").to_string_lossy().into_owned();
                            let copy = dir.join(format!("{stem}.js"));
                            std::fs::copy(f, &copy).expect("copy");
                            let out = dir.join(format!("{stem}.rule"));
                            match project::translate_file(&copy, Some(&out), false, opts) {
                                Ok(r) => (stem, Ok(shown(&r)), r.proven()),
                                Err(e) => (stem, Err(e), false),
                            }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("a proof thread")).collect()
    });
    let mut failures = Vec::new();
    let mut translated = 0;
    for (stem, result, proven) in &results {
        let Some(e) = expect.get(stem) else {
            failures.push(format!("{stem}: not in expect.toml"));
            continue;
        };
        let text = match result {
            Ok(t) => t,
            Err(err) => {
                failures.push(format!("{stem}: {err}"));
                continue;
            }
        };
        translated += usize::from(*proven);
        match (e.expect.as_str(), proven) {
            ("translate", true) => {}
            ("translate", false) => failures.push(format!("{stem}: expected a proven translation, got\n{text}")),
            ("keep", true) => {
                failures.push(format!("{stem}: expected to stay JavaScript, but was translated:\n{text}"))
            }
            ("keep", false) => {
                let words = reason_words(e.reason.as_deref().unwrap_or_default());
                if !words.iter().any(|w| text.contains(w)) {
                    failures.push(format!(
                        "{stem}: kept, but the reasons do not say {:?} ({:?}):\n{text}",
                        e.reason, words
                    ));
                }
            }
            (other, _) => failures.push(format!("{stem}: unknown expectation {other:?}")),
        }
        let ext = if *proven { "rule" } else { "kept" };
        if let Err(g) = golden(&root().join(format!("tests/migrate/golden/{stem}.{ext}")), text) {
            failures.push(g);
        }
    }
    for stem in expect.keys() {
        if !results.iter().any(|(s, _, _)| s == stem) {
            failures.push(format!("{stem}: in expect.toml but not in the corpus"));
        }
    }
    println!("{translated} of {} corpus rules translated and proven on {} logins each", results.len(), opts.logins);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{} problems:\n\n{}", failures.len(), failures.join("\n\n"));
}

/// The translation of a rule that is proven is also checked by the checker on its own, and
/// runs the same on the JIT (the proof compares interpreter and JIT too).
#[test]
fn a_wrong_pair_fails_verification_with_the_smallest_login() {
    let dir = scratch("verify");
    std::fs::write(
        dir.join("gate.js"),
        "function gate(user, context, callback) {\n  if (context.clientName === 'Payroll' && !user.email_verified) {\n    return callback(new UnauthorizedError('Verify your email.'));\n  }\n  callback(null, user, context);\n}\n",
    )
    .expect("write");
    // Wrong: forgets the client guard.
    std::fs::write(
        dir.join("gate.rule"),
        "rule \"gate\" {\n    deny \"Verify your email.\" unless user.email_verified\n}\n",
    )
    .expect("write");
    let (code, out) = cli(&[
        "migrate",
        "verify",
        &dir.join("gate.js").to_string_lossy(),
        &dir.join("gate.rule").to_string_lossy(),
        "--logins",
        "500",
    ]);
    assert_eq!(code, 1, "{out:?}");
    assert!(out.stdout.contains("not equal"), "{}", out.stdout);
    assert!(out.stdout.contains("they differ on decision"), "{}", out.stdout);
    // The smallest login keeps what matters (an unverified user on another app) and little else.
    let user_line = out.stdout.lines().find(|l| l.trim_start().starts_with("user:")).expect("a user line");
    assert!(!user_line.contains("\"name\""), "not shrunk: {user_line}");
    // The right pair passes.
    std::fs::write(
        dir.join("gate.rule"),
        "rule \"gate\" {\n    deny \"Verify your email.\" if context.clientName == \"Payroll\" and user.email_verified != true\n}\n",
    )
    .expect("write");
    let (code, out) = cli(&[
        "migrate",
        "verify",
        &dir.join("gate.js").to_string_lossy(),
        &dir.join("gate.rule").to_string_lossy(),
        "--logins",
        "2000",
    ]);
    assert_eq!(code, 0, "{out:?}");
    assert!(out.stdout.contains("equal on 2000 logins"), "{}", out.stdout);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn both_export_formats_import_to_the_same_pipeline() {
    let mut manifests = Vec::new();
    for (format, name) in
        [("export-directory", "Auth0 Deploy CLI, directory"), ("export-yaml", "Auth0 Deploy CLI, YAML")]
    {
        let out = scratch(format).join("project");
        let export = root().join("tests/migrate").join(format);
        let (code, o) = cli(&["migrate", "import", &export.to_string_lossy(), "--out", &out.to_string_lossy()]);
        assert_eq!(code, 0, "{o:?}");
        assert!(o.stdout.contains(name), "{}", o.stdout);
        assert!(o.stdout.contains("disabled in Auth0"), "{}", o.stdout);
        let manifest = std::fs::read_to_string(out.join("warden.toml")).expect("warden.toml");
        // The pipeline checks as it is.
        let (code, o) = cli(&["check", &out.join("warden.toml").to_string_lossy()]);
        assert_eq!(code, 0, "{o:?}\n{manifest}");
        // Without its first line (which names the export's path), the manifest is golden.
        let body: String = manifest.lines().skip(1).map(|l| format!("{l}\n")).collect();
        let g = golden(&root().join(format!("tests/migrate/golden/import-{format}.toml")), &body);
        assert!(g.is_ok(), "{g:?}");
        manifests.push(body);
        let _ = std::fs::remove_dir_all(out.parent().expect("parent"));
    }
    assert_eq!(manifests[0], manifests[1], "both formats give the same project");
}

/// docs/migrating.md, followed: import the export, test it as JavaScript, translate with
/// `--write`, and the same tests pass with the translated rules in the pipeline.
#[test]
fn the_migration_guide_ends_green() {
    let dir = scratch("guide");
    let project = dir.join("project");
    let export = root().join("tests/migrate/export-directory");
    let (code, o) = cli(&["migrate", "import", &export.to_string_lossy(), "--out", &project.to_string_lossy()]);
    assert_eq!(code, 0, "{o:?}");
    // The guide's [http] step: the Slack rule may reach Slack.
    let manifest = project.join("warden.toml");
    let mut text = std::fs::read_to_string(&manifest).expect("manifest");
    text.push_str("\n[http]\nallow = [\"https://hooks.slack.com\"]\n");
    std::fs::write(&manifest, &text).expect("write");
    std::fs::copy(root().join("tests/migrate/export-cases.toml"), project.join("warden.test.toml")).expect("tests");
    let (code, o) = cli(&["test", &project.to_string_lossy()]);
    assert_eq!(code, 0, "the imported project's tests fail:\n{}\n{}", o.stdout, o.stderr);
    let legacy: Vec<String> = {
        let mut v: Vec<String> = std::fs::read_dir(project.join("legacy"))
            .expect("legacy")
            .map(|e| e.expect("entry").path().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let mut args = vec!["migrate", "translate", "--write"];
    args.extend(legacy.iter().map(String::as_str));
    let (code, o) = cli(&args);
    // Some stay JavaScript (the Slack notification): exit 1, with the reasons.
    assert_eq!(code, 1, "{o:?}");
    assert!(o.stdout.contains("network call"), "{}", o.stdout);
    let after = std::fs::read_to_string(&manifest).expect("manifest");
    let replaced = after.matches("until `warden migrate translate --write` proved").count();
    assert!(replaced >= 3, "expected the three translatable rules replaced:\n{after}\n{}", o.stdout);
    let (code, o) = cli(&["test", &project.to_string_lossy()]);
    assert_eq!(code, 0, "after translation the tests fail:\n{}\n{}\n{after}", o.stdout, o.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_gets_clear_errors() {
    let dir = scratch("errors");
    let missing = dir.join("nope.js");
    let (code, o) = cli(&["migrate", "translate", &missing.to_string_lossy()]);
    assert_eq!(code, 1);
    assert!(o.stderr.contains("nope.js"), "{o:?}");
    // --write needs the rule in a manifest.
    std::fs::write(dir.join("r.js"), "function r(user, context, callback) { callback(null, user, context); }\n")
        .expect("write");
    let (code, o) = cli(&["migrate", "translate", "--write", &dir.join("r.js").to_string_lossy()]);
    assert_eq!(code, 1);
    assert!(o.stderr.contains("--write"), "{o:?}");
    // Not JavaScript.
    std::fs::write(dir.join("bad.js"), "function (user, context, callback {\n").expect("write");
    let (code, o) = cli(&["migrate", "translate", &dir.join("bad.js").to_string_lossy()]);
    assert_eq!(code, 1);
    assert!(o.stdout.contains("does not parse"), "{o:?}");
    // An export whose script leaves the export.
    let export = dir.join("export");
    std::fs::create_dir_all(export.join("rules")).expect("mkdir");
    std::fs::write(
        export.join("rules/a.json"),
        r#"{"name": "a", "script": "../../../etc/passwd", "order": 1, "enabled": true}"#,
    )
    .expect("write");
    let (code, o) = cli(&["migrate", "import", &export.to_string_lossy(), "--out", &dir.join("p").to_string_lossy()]);
    assert_eq!(code, 1);
    assert!(o.stderr.contains("leaves the export"), "{o:?}");
    // Malformed JSON metadata.
    std::fs::write(export.join("rules/a.json"), "{ not json").expect("write");
    let (code, o) = cli(&["migrate", "import", &export.to_string_lossy(), "--out", &dir.join("p").to_string_lossy()]);
    assert_eq!(code, 1);
    assert!(o.stderr.contains("a.json"), "{o:?}");
    // An empty directory.
    std::fs::create_dir_all(dir.join("empty")).expect("mkdir");
    let (code, o) = cli(&["migrate", "import", &dir.join("empty").to_string_lossy()]);
    assert_eq!(code, 1);
    assert!(o.stderr.contains("no rules found"), "{o:?}");
    // Into a project that exists.
    std::fs::write(export.join("rules/a.json"), r#"{"name": "a", "order": 1, "enabled": true}"#).expect("write");
    std::fs::write(
        export.join("rules/a.js"),
        "function a(user, context, callback) { callback(null, user, context); }\n",
    )
    .expect("write");
    std::fs::create_dir_all(dir.join("taken")).expect("mkdir");
    std::fs::write(dir.join("taken/x"), "x").expect("write");
    let (code, o) =
        cli(&["migrate", "import", &export.to_string_lossy(), "--out", &dir.join("taken").to_string_lossy()]);
    assert_eq!(code, 1);
    assert!(o.stderr.contains("not empty"), "{o:?}");
    // --logins 0 is a usage error.
    let (code, _) = cli(&["migrate", "translate", "--logins", "0", &dir.join("r.js").to_string_lossy()]);
    assert_eq!(code, 2);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A plain folder of rules: file-name order, npm packages listed to install (built-in
/// modules not), configuration keys declared from the environment.
#[test]
fn a_folder_of_rules_imports_with_its_packages_and_configuration() {
    let dir = scratch("folder");
    let export = dir.join("rules-folder");
    std::fs::create_dir_all(&export).expect("mkdir");
    std::fs::write(
        export.join("b-age.js"),
        "function age(user, context, callback) {\n  const moment = require('moment');\n  const crypto = require('crypto');\n  context.idToken['https://x.example/h'] = crypto.createHash('sha256').update(configuration['SALT'] + user.user_id).digest('hex');\n  context.idToken['https://x.example/y'] = moment().year();\n  callback(null, user, context);\n}\n",
    )
    .expect("write");
    std::fs::write(
        export.join("a-gate.js"),
        "function gate(user, context, callback) {\n  if (context.clientID !== configuration.GATED_CLIENT) return callback(null, user, context);\n  callback(null, user, context);\n}\n",
    )
    .expect("write");
    let out = dir.join("project");
    let (code, o) = cli(&["migrate", "import", &export.to_string_lossy(), "--out", &out.to_string_lossy()]);
    assert_eq!(code, 0, "{o:?}");
    assert!(o.stdout.contains("a folder of JavaScript rules"), "{}", o.stdout);
    assert!(o.stdout.contains("npm package moment (required by b-age)"), "{}", o.stdout);
    assert!(!o.stdout.contains("npm package crypto"), "{}", o.stdout);
    let manifest = std::fs::read_to_string(out.join("warden.toml")).expect("warden.toml");
    let a = manifest.find("legacy/a-gate.js").expect("a-gate listed");
    let b = manifest.find("legacy/b-age.js").expect("b-age listed");
    assert!(a < b, "file-name order:\n{manifest}");
    assert!(manifest.contains("GATED_CLIENT = { env = \"GATED_CLIENT\" }"), "{manifest}");
    assert!(manifest.contains("SALT = { env = \"SALT\" }"), "{manifest}");
    let package: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("package.json")).expect("package.json")).expect("json");
    assert_eq!(package["dependencies"], serde_json::json!({ "moment": "*" }), "{package}");
    let _ = std::fs::remove_dir_all(&dir);
}
