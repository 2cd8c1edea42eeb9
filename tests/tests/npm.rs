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
    warden::set_js_isolation(workers.then(|| JsWorkers { command: vec![WORKER.into()], max: 2 }));
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
    let cases: toml::Table = toml::from_str(&std::fs::read_to_string(dir.join("cases.toml")).expect("cases")).expect("toml");
    let cases = cases["case"].as_array().expect("cases").clone();
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .iter()
            .map(|c| s.spawn(|| check_case(&dir, c).err().map(|e| format!("{}: {e}", c["name"].as_str().unwrap_or("?")))))
            .collect();
        handles.into_iter().filter_map(|h| h.join().expect("case thread")).collect()
    });
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n\n"));
}
