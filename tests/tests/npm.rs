//! npm packages (docs/javascript.md, "npm packages"): legacy rules using real packages from
//! npm (`tests/npm`, installed by `npm ci` from its lock file, `warden_tests::npm_project`),
//! as data-driven cases (`tests/npm/cases.toml`) run in process (interpreter, JIT, signed and
//! unsigned artifacts) and in worker processes; resolution edge cases with small vendored
//! packages (`tests/resolve`); artifacts that run without `node_modules`; the limits.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{Value as Json, json};
use warden::{Backend, Exec, JsWorkers, Pipeline};
use warden_tests::{merge_patch, mismatches};

static KEY: std::sync::LazyLock<warden::SecretKey> =
    std::sync::LazyLock::new(|| warden_artifact::generate_key().expect("key"));

/// Loads serialize on this lock: where JavaScript runs is chosen when a pipeline loads, for
/// the whole process.
static LOADING: Mutex<()> = Mutex::new(());

const WORKER: &str = env!("CARGO_BIN_EXE_js_worker");

fn load(manifest: &Path, workers: bool) -> Result<Pipeline, String> {
    let _guard = LOADING.lock().unwrap_or_else(|e| e.into_inner());
    warden::set_js_isolation(workers.then(|| JsWorkers { max: 2, ..JsWorkers::new(vec![WORKER.into()]) }));
    let p = Pipeline::from_manifest(manifest);
    warden::set_js_isolation(None);
    p.map_err(|e| format!("{} does not load: {e}", manifest.display()))
}

fn base_user() -> Json {
    json!({"user_id": "auth0|12345", "email": "superuser@users.com", "email_verified": true, "name": "Super User",
           "app_metadata": {}, "user_metadata": {}})
}

fn base_context() -> Json {
    json!({"clientID": "cid_1", "clientName": "Default App", "protocol": "oidc-basic-profile", "idToken": {}, "accessToken": {},
           "request": {"ip": "188.6.125.49", "hostname": "mydomain.auth0.com", "query": {}, "body": {}}})
}

/// A manifest written into `dir` for one rule (removed on drop).
struct Written(Vec<PathBuf>);

impl Drop for Written {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn write_case(dir: &Path, slug: &str, rule: &str, config: &BTreeMap<String, String>) -> (PathBuf, Written) {
    let rule_file = format!(".case-{slug}.js");
    let manifest = dir.join(format!(".case-{slug}.toml"));
    std::fs::write(dir.join(&rule_file), rule).expect("write rule");
    let mut text = format!("[pipeline]\nrules = [{rule_file:?}]\n");
    if !config.is_empty() {
        let table: toml::Table = config.iter().map(|(k, v)| (k.clone(), toml::Value::String(v.clone()))).collect();
        text.push_str(&format!("[configuration]\n{}", toml::to_string(&table).expect("toml")));
    }
    std::fs::write(&manifest, text).expect("write manifest");
    (manifest.clone(), Written(vec![dir.join(rule_file), manifest]))
}

fn run(p: &Pipeline, user: &Json, context: &Json, now: i64, b: Backend) -> ((), Json) {
    match p.execute(user, context, &Exec::at(now).on(b)) {
        Ok(o) => ((), o.to_json()),
        Err(e) => ((), json!({"input_error": e.to_string()})),
    }
}

/// One case on every backend, in process and in workers: the outcomes agree, and match.
fn check_case(dir: &Path, case: &toml::Value) -> Result<(), String> {
    let name = case["name"].as_str().unwrap_or("?");
    let slug: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).take(40).collect();
    let json_of = |k: &str| case.get(k).map(|v| serde_json::to_value(v).expect("json")).unwrap_or(json!({}));
    let config: BTreeMap<String, String> = case
        .get("config")
        .and_then(toml::Value::as_table)
        .map(|t| {
            t.iter()
                .map(|(k, v)| {
                    let v = v.as_str().unwrap_or_default();
                    let v = match v.strip_prefix('@') {
                        Some(file) => std::fs::read_to_string(dir.join(file)).expect("key file"),
                        None => v.to_string(),
                    };
                    (k.clone(), v)
                })
                .collect()
        })
        .unwrap_or_default();
    let (manifest, _written) = write_case(dir, &slug, case["rule"].as_str().unwrap_or_default(), &config);
    let mut user = base_user();
    merge_patch(&mut user, &json_of("user"));
    let mut context = base_context();
    merge_patch(&mut context, &json_of("context"));
    let now = case.get("now").and_then(toml::Value::as_integer).unwrap_or(1_700_000_000_000);
    let p = load(&manifest, false)?;
    let expect = json_of("expect");
    let none = BTreeMap::new();
    let signed = Pipeline::from_artifact(&p.to_artifact(Some(&KEY)), Some(&KEY.verifying_key()), &none)
        .map_err(|e| format!("the signed artifact does not load: {e}"))?;
    let unsigned = Pipeline::from_artifact(&p.to_artifact(None), None, &none)
        .map_err(|e| format!("the unsigned artifact does not load: {e}"))?;
    let workers = load(&manifest, true)?;
    if !workers.js_in_workers() {
        return Err("the pipeline does not run in workers".into());
    }
    // Each outcome matches the expectation (random values, a uuid or an ECDSA signature,
    // differ from run to run, so outcomes are not compared with each other whole).
    for (what, p, b) in [
        ("interp", &p, Backend::Interp),
        ("jit", &p, Backend::Jit),
        ("signed artifact (bytecode)", &signed, Backend::Interp),
        ("unsigned artifact (sources)", &unsigned, Backend::Jit),
        ("worker processes", &workers, Backend::Interp),
    ] {
        let (_, shown) = run(p, &user, &context, now, b);
        let diffs = mismatches(&shown, &expect);
        if !diffs.is_empty() {
            return Err(format!("{what}: {}\n  outcome: {shown}", diffs.join("\n  ")));
        }
    }
    Ok(())
}

#[test]
fn legacy_rules_use_npm_packages_in_process_and_in_workers() {
    let dir = warden_tests::npm_project();
    let cases: toml::Table =
        toml::from_str(&std::fs::read_to_string(dir.join("cases.toml")).expect("cases")).expect("toml");
    let cases = cases["case"].as_array().expect("cases").clone();
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .iter()
            .map(|c| {
                s.spawn(|| check_case(&dir, c).err().map(|e| format!("{}: {e}", c["name"].as_str().unwrap_or("?"))))
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().expect("case thread")).collect()
    });
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n\n"));
}

/// A copy of `tests/resolve` (small vendored packages) with a manifest and one rule, in a
/// fresh temporary directory.
fn resolve_project(name: &str, rule: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("warden-npm-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    warden_tests::copy_dir(&warden_tests::root().join("tests/resolve"), &dir);
    std::fs::write(dir.join("rule.js"), rule).expect("rule");
    std::fs::write(dir.join("warden.toml"), "[pipeline]\nrules = [\"rule.js\"]\n").expect("manifest");
    dir
}

fn claim(p: &Pipeline) -> Json {
    let (_, shown) = run(p, &base_user(), &base_context(), 1_700_000_000_000, Backend::Interp);
    shown["id_token"]["https://x/r"].clone()
}

const RESOLUTION_RULE: &str = r#"function (user, context, callback) {
  const attempt = (f) => { try { return f(); } catch (e) { return e.message; } };
  const dirpkg = require('dirpkg');
  context.idToken['https://x/r'] = [
    require('cond'), require('cond/feature'), require('cond/lib/deep/x'), attempt(() => require('cond/hidden.js')),
    require('inner'), require('outer'), dirpkg.util, dirpkg.data.answer, Object.keys(dirpkg.data), ({}).polluted === undefined,
    dirpkg.file, dirpkg.dir, dirpkg.self, require('cycle-a'), require('@scope/pkg@1.0.0'), attempt(() => require('needs-fs')),
    require('inner') === require('inner'), attempt(() => require('not-installed')), attempt(() => require('./rule.js')),
    typeof require('axios').get, require('axios').fake === undefined,
  ];
  callback(null, user, context);
}"#;

fn resolution_expected() -> Json {
    json!(["node", "feature", "pattern dep", "Cannot find module 'cond/hidden.js'", "inner 1",
           "outer sees inner 2, the root has dirpkg", "util.js", 42, ["answer", "__proto__"], true,
           "/node_modules/dirpkg/lib/index.js", "/node_modules/dirpkg/lib", "/node_modules/dirpkg/lib/index.js",
           {"early": 1, "seenByB": "{\"early\":1}", "late": 2}, "scoped", "Cannot find module 'fs'", true,
           "Cannot find module 'not-installed'", "Cannot find module './rule.js'", "function", true])
}

#[test]
fn resolution_follows_node_and_artifacts_run_without_node_modules() {
    let dir = resolve_project("resolution", RESOLUTION_RULE);
    let p = load(&dir.join("warden.toml"), false).expect("loads");
    assert_eq!(claim(&p), resolution_expected());
    let workers = load(&dir.join("warden.toml"), true).expect("loads in workers");
    assert_eq!(claim(&workers), resolution_expected());
    let (signed, unsigned) = (p.to_artifact(Some(&KEY)), p.to_artifact(None));
    drop((p, workers));
    // The artifact carries the files it needs: node_modules can go.
    std::fs::remove_dir_all(dir.join("node_modules")).expect("remove node_modules");
    let none = BTreeMap::new();
    let from_signed = Pipeline::from_artifact(&signed, Some(&KEY.verifying_key()), &none).expect("signed artifact");
    assert_eq!(claim(&from_signed), resolution_expected());
    let from_unsigned = Pipeline::from_artifact(&unsigned, None, &none).expect("unsigned artifact");
    assert_eq!(claim(&from_unsigned), resolution_expected());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_real_packages_run_from_an_artifact_without_node_modules() {
    let npm = warden_tests::npm_project();
    let dir = std::env::temp_dir().join(format!("warden-npm-{}-artifact", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    warden_tests::copy_dir(&npm.join("node_modules"), &dir.join("node_modules"));
    let rule = "function (user, context, callback) { const jwt = require('jsonwebtoken'); const t = jwt.sign({ sub: user.user_id }, 's'); \
                context.idToken['https://x/r'] = [jwt.verify(t, 's').sub, require('moment-timezone').tz(Date.now(), 'Asia/Tokyo').hour(), _.head([7])]; callback(null, user, context); }";
    std::fs::write(dir.join("rule.js"), rule).expect("rule");
    std::fs::write(dir.join("warden.toml"), "[pipeline]\nrules = [\"rule.js\"]\n").expect("manifest");
    let p = load(&dir.join("warden.toml"), false).expect("loads");
    let expected = json!(["auth0|12345", 7, 7]);
    assert_eq!(claim(&p), expected);
    let artifact = p.to_artifact(Some(&KEY));
    drop(p);
    std::fs::remove_dir_all(&dir).expect("remove the project");
    let from = Pipeline::from_artifact(&artifact, Some(&KEY.verifying_key()), &BTreeMap::new()).expect("artifact");
    assert_eq!(claim(&from), expected);
}

/// Asserts that a project does not load.
fn load_error(dir: &Path) {
    assert!(load(&dir.join("warden.toml"), false).is_err(), "{} loads", dir.display());
}

fn diagnostics(dir: &Path) -> String {
    let report = warden::Report::of_manifest(&dir.join("warden.toml"));
    report.diagnostics.iter().map(|d| format!("{}: {}", d.code, d.message)).collect::<Vec<_>>().join("\n")
}

#[test]
fn packages_that_cannot_be_included_fail_the_load_with_e0401() {
    // An ES module.
    let dir = resolve_project(
        "esm",
        "function (user, context, callback) { require('esm-only'); callback(null, user, context); }",
    );
    let d = diagnostics(&dir);
    assert!(d.contains("E0401") && d.contains("is an ES module"), "{d}");
    load_error(&dir);
    // A package.json that is not valid, and one nested past the limit (no stack overflow).
    for (name, text) in [("bad-json", "{"), ("deep-json", &"[".repeat(100_000))] {
        let dir = resolve_project(
            name,
            &format!("function (user, context, callback) {{ require('{name}'); callback(null, user, context); }}"),
        );
        std::fs::create_dir_all(dir.join("node_modules").join(name)).expect("dir");
        std::fs::write(dir.join("node_modules").join(name).join("package.json"), text).expect("write");
        std::fs::write(dir.join("node_modules").join(name).join("index.js"), "").expect("write");
        let d = diagnostics(&dir);
        assert!(d.contains("E0401") && d.contains("package.json` is not valid"), "{name}: {d}");
    }
    // A symlink leading outside the project.
    #[cfg(unix)]
    {
        let dir = resolve_project(
            "symlink",
            "function (user, context, callback) { require('evil'); callback(null, user, context); }",
        );
        let outside = std::env::temp_dir().join(format!("warden-npm-{}-outside", std::process::id()));
        std::fs::create_dir_all(&outside).expect("dir");
        std::fs::write(outside.join("index.js"), "module.exports = 1;").expect("write");
        std::os::unix::fs::symlink(&outside, dir.join("node_modules/evil")).expect("symlink");
        let d = diagnostics(&dir);
        assert!(d.contains("E0401") && d.contains("leads outside the project's directory"), "{d}");
    }
    // The limits: files and bytes.
    let dir = resolve_project(
        "many",
        "function (user, context, callback) { require('many'); callback(null, user, context); }",
    );
    let many = dir.join("node_modules/many");
    std::fs::create_dir_all(&many).expect("dir");
    let requires: String = (0..1001).map(|i| format!("require('./f{i}');\n")).collect();
    std::fs::write(many.join("index.js"), requires).expect("write");
    for i in 0..1001 {
        std::fs::write(many.join(format!("f{i}.js")), "").expect("write");
    }
    let d = diagnostics(&dir);
    assert!(d.contains("E0401") && d.contains("more than 1000 files"), "{d}");
    let dir =
        resolve_project("big", "function (user, context, callback) { require('big'); callback(null, user, context); }");
    let big = dir.join("node_modules/big");
    std::fs::create_dir_all(&big).expect("dir");
    std::fs::write(big.join("index.js"), "require('./a'); require('./b');").expect("write");
    let chunk = format!("// {}\n", "x".repeat(9 * 1024 * 1024));
    std::fs::write(big.join("a.js"), &chunk).expect("write");
    std::fs::write(big.join("b.js"), &chunk).expect("write");
    let d = diagnostics(&dir);
    assert!(d.contains("E0401") && d.contains("more than 16 MiB"), "{d}");
}

#[test]
fn w0400_only_for_requires_nothing_answers() {
    let dir = resolve_project(
        "w0400",
        "function (user, context, callback) { require('inner'); require('util'); require('node:path'); require('missing-pkg'); callback(null, user, context); }",
    );
    let d = diagnostics(&dir);
    assert!(d.contains("W0400: `require('missing-pkg')` cannot be resolved"), "{d}");
    assert_eq!(d.matches("W0400").count(), 1, "{d}");
}
