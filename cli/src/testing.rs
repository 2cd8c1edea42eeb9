//! `warden test`: test files next to the manifest, run on every backend (interpreter, JIT,
//! and the pipeline's artifacts built in memory, signed and, with JavaScript, unsigned), with
//! readable diffs, JSON and JUnit reports, and coverage. A comparison that cannot run (no
//! native code, an artifact that does not load or refuses the input) fails the case.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Value as Json, json};
use warden::codes::{E0300, E0301};
use warden::{Backend, Coverage, Exec, Pipeline};
use warden::{Diagnostic, SourceMap, Span};

use crate::run::{input_error_text, load_error_text};
use crate::{EXIT_ERROR, Output, TestArgs, TestFormat, coverage, render};

/// A test file (`*.test.toml`), see `docs/testing.md`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    /// The manifest to test, relative to this file (default: `warden.toml` beside it).
    pub manifest: Option<String>,
    #[serde(default)]
    pub defaults: Defaults,
    #[serde(default, rename = "case")]
    pub cases: Vec<Case>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    #[serde(default)]
    pub user: toml::Table,
    #[serde(default)]
    pub context: toml::Table,
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    pub now: Option<String>,
    /// Exchanges every case may use (none is required to happen).
    #[serde(default)]
    pub http: Vec<Canned>,
}

/// An HTTP exchange a case expects from its JavaScript rules, and the canned response it gets
/// (`warden test` never calls the network: a request no exchange answers fails the case).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Canned {
    #[serde(default = "get")]
    pub method: String,
    pub url: String,
    /// The request body must contain these members (JSON), or be this text.
    pub body: Option<toml::Value>,
    #[serde(default = "ok")]
    pub status: u16,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub json: Option<toml::Value>,
    pub text: Option<String>,
    #[serde(default)]
    pub delay_ms: u64,
    /// The case passes whether or not this exchange happens.
    #[serde(default)]
    pub optional: bool,
}

fn get() -> String {
    "GET".into()
}

fn ok() -> u16 {
    200
}

impl Canned {
    fn exchange(&self) -> warden::Exchange {
        warden::Exchange {
            method: self.method.clone(),
            url: self.url.clone(),
            body: self.body.as_ref().map(|b| serde_json::to_value(b).unwrap_or(Json::Null)),
            status: self.status,
            headers: self.headers.clone(),
            json: self.json.as_ref().map(|b| serde_json::to_value(b).unwrap_or(Json::Null)),
            text: self.text.clone(),
            delay_ms: self.delay_ms,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    #[serde(default)]
    pub user: toml::Table,
    #[serde(default)]
    pub context: toml::Table,
    /// The same as JSON text, merged after `user` (for values TOML cannot write, like null).
    pub user_json: Option<String>,
    pub context_json: Option<String>,
    /// Paths to delete after merging, such as `user.email` (TOML has no null).
    #[serde(default)]
    pub remove: Vec<String>,
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    pub now: Option<String>,
    /// The exchanges this case expects (each must happen unless `optional`), before the
    /// defaults' ones.
    #[serde(default)]
    pub http: Vec<Canned>,
    pub expect: Expect,
}

/// What a case expects; keys left out are not checked.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub decision: Option<String>,
    /// Compared key by key: give the keys that matter (`code`, `description`, `rule`, `cause`).
    pub error: Option<toml::Table>,
    /// The final user must contain these fields with these values (recursively).
    pub user: Option<toml::Table>,
    pub id_token: Option<toml::Table>,
    pub id_token_includes: Option<toml::Table>,
    pub access_token: Option<toml::Table>,
    pub access_token_includes: Option<toml::Table>,
    pub scope: Option<Vec<String>>,
    /// `true`: no rule changed the scopes (the outcome's `scope` is null).
    pub scope_unchanged: Option<bool>,
    /// A table for `{"provider": ..., "allowRememberBrowser": ...}`, or `false` for none.
    pub multifactor: Option<toml::Value>,
    /// The redirect URL, or `false` for none.
    pub redirect: Option<toml::Value>,
    pub effects: Option<Vec<toml::Table>>,
    /// The log messages, exactly, in order.
    pub logs: Option<Vec<String>>,
    /// Each of these must appear in some log message.
    pub logs_include: Option<Vec<String>>,
    /// Outcome keys given as JSON text (for values TOML cannot write, like null), each
    /// compared exactly: `json = '''{"effects": [{"kind": ..., "patch": {"a": null}}]}'''`.
    pub json: Option<String>,
}

/// One case's result.
#[derive(Debug)]
pub struct CaseResult {
    pub file: String,
    pub name: String,
    pub failures: Vec<String>,
}

/// The outcome of running test files.
#[derive(Debug, Default)]
pub struct Report {
    pub results: Vec<CaseResult>,
    /// Diagnostics for test files that could not be read or parsed, or pipelines that do not
    /// check.
    pub diagnostics: Vec<Diagnostic>,
    pub sources: SourceMap,
    /// Coverage per manifest, when asked for.
    pub coverage: Vec<(Arc<Pipeline>, Coverage)>,
}

impl Report {
    pub fn passed(&self) -> usize {
        self.results.iter().filter(|r| r.failures.is_empty()).count()
    }
    pub fn failed(&self) -> usize {
        self.results.len() - self.passed()
    }
}

/// Test files for the given paths: a test file, a manifest or a directory (its `warden.toml`
/// and the `*.test.toml` files in it and in its `tests/` folder).
pub fn discover(paths: &[PathBuf]) -> Vec<PathBuf> {
    let roots: Vec<PathBuf> = if paths.is_empty() { vec![PathBuf::from(".")] } else { paths.to_vec() };
    let mut out = Vec::new();
    for p in roots {
        if p.is_file() && p.to_string_lossy().ends_with(".test.toml") {
            out.push(p);
            continue;
        }
        let dir = if p.is_dir() { p } else { p.parent().map(Path::to_path_buf).unwrap_or_default() };
        for d in [dir.clone(), dir.join("tests")] {
            let Ok(entries) = std::fs::read_dir(&d) else { continue };
            let mut found: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.to_string_lossy().ends_with(".test.toml"))
                .collect();
            found.sort();
            out.extend(found);
        }
    }
    out
}

/// Runs every case of the test files on the interpreter and the JIT.
pub fn run(files: &[PathBuf], filter: Option<&str>, coverage: bool) -> Report {
    let mut report = Report::default();
    let mut pipelines: BTreeMap<PathBuf, Option<(Arc<Pipeline>, usize)>> = BTreeMap::new();
    // Each pipeline also runs from its artifacts, built in memory with a key made for this
    // run, and loaded once per configuration the cases give.
    let key = warden::files::generate_key().map_err(|e| e.to_string());
    let mut artifacts: BTreeMap<(PathBuf, Config), Arc<Vec<Built>>> = BTreeMap::new();
    for file in files {
        let shown = file.display().to_string();
        // Bounded like every file warden reads: a regular file of at most 16 MiB.
        let text = match warden::files::read_text_file(file, warden::files::MAX_FILE_BYTES) {
            Ok(t) => t,
            Err(e) => {
                report.diagnostics.push(Diagnostic::error(E0300, format!("cannot read test file `{shown}`: {e}")));
                continue;
            }
        };
        let fid = report.sources.add(shown.clone(), text.clone());
        let tf: TestFile = match toml::from_str(&text) {
            Ok(t) => t,
            Err(e) => {
                let span = e.span().map_or(Span::new(0, 0), |r| Span::new(r.start, r.end));
                report.diagnostics.push(
                    Diagnostic::error(E0300, format!("invalid test file: {}", e.message().trim().replace('\n', " ")))
                        .at(fid, span, "here")
                        .help("see docs/testing.md for the keys test files accept"),
                );
                continue;
            }
        };
        let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let manifest = dir.join(tf.manifest.as_deref().unwrap_or("warden.toml"));
        let entry = pipelines.entry(manifest.clone()).or_insert_with(|| match Pipeline::from_manifest(&manifest) {
            Ok(p) => {
                report.coverage.push((Arc::new(p), Coverage::default()));
                Some((report.coverage.last().map(|(p, _)| p.clone()).expect("just pushed"), report.coverage.len() - 1))
            }
            Err(warden::LoadError::Check(mut c)) => {
                render::add_manifest_help(&mut c.diagnostics, &c.sources);
                let offset = report.sources.files.len() as u32;
                for f in c.sources.files {
                    report.sources.add(f.path, f.text);
                }
                for mut d in c.diagnostics {
                    d.file = d.file.map(|f| f + offset);
                    for r in &mut d.related {
                        r.file += offset;
                    }
                    report.diagnostics.push(d);
                }
                None
            }
            Err(e) => {
                report.diagnostics.push(Diagnostic::error(
                    E0301,
                    format!("cannot load `{}`: {}", manifest.display(), load_error_text(&e)),
                ));
                None
            }
        });
        let Some((pipeline, cov_index)) = entry.clone() else { continue };
        for case in &tf.cases {
            if filter.is_some_and(|f| !case.name.contains(f)) {
                continue;
            }
            let mut config = tf.defaults.config.clone();
            config.extend(case.config.clone());
            let built = artifacts
                .entry((manifest.clone(), config.clone()))
                .or_insert_with(|| Arc::new(build(&pipeline, key.as_ref(), &config)))
                .clone();
            let cov = coverage.then(|| &mut report.coverage[cov_index].1);
            let failures = run_case(&pipeline, &built, &tf.defaults, case, &config, cov);
            report.results.push(CaseResult { file: shown.clone(), name: case.name.clone(), failures });
        }
    }
    if !coverage {
        report.coverage.clear();
    }
    report
}

/// Configuration values by key.
type Config = BTreeMap<String, String>;

/// A pipeline rebuilt from its artifact, as `warden build` writes it and `warden run
/// --bundle` loads it, or why it could not be.
struct Built {
    what: &'static str,
    pipeline: Result<Pipeline, String>,
}

/// The pipeline's artifacts, loaded with a case's configuration (which may give values the
/// manifest takes from the environment): signed and verified, so that JavaScript runs from
/// the artifact's bytecode, and, for pipelines with JavaScript, unsigned too, so that it is
/// compiled from the sources the artifact carries.
fn build(
    pipeline: &Pipeline,
    key: Result<&warden::SecretKey, &String>,
    config: &BTreeMap<String, String>,
) -> Vec<Built> {
    let program = pipeline.program();
    let has_js = !program.js_rules.is_empty() || !program.js_modules.is_empty();
    let signed = match key {
        Ok(key) => {
            let bytes = pipeline.to_artifact(Some(key));
            Pipeline::from_artifact(&bytes, Some(&key.verifying_key()), config).map_err(|e| load_error_text(&e))
        }
        Err(e) => Err(format!("no key to sign it with: {e}")),
    };
    let mut out = vec![Built {
        what: if has_js { "the signed artifact (JavaScript from its bytecode)" } else { "the artifact" },
        pipeline: signed,
    }];
    if has_js {
        let bytes = pipeline.to_artifact(None);
        out.push(Built {
            what: "the unsigned artifact (JavaScript from its sources)",
            pipeline: Pipeline::from_artifact(&bytes, None, config).map_err(|e| load_error_text(&e)),
        });
    }
    out
}

fn to_json(t: &toml::Table) -> Json {
    serde_json::to_value(t).unwrap_or(Json::Null)
}

fn merge(base: &mut Json, patch: &Json) {
    match (base, patch) {
        (Json::Object(b), Json::Object(p)) => {
            for (k, v) in p {
                merge(b.entry(k.clone()).or_insert(Json::Null), v);
            }
        }
        (b, p) => *b = p.clone(),
    }
}

fn remove(user: &mut Json, context: &mut Json, path: &str) -> Result<(), String> {
    let mut parts = path.split('.');
    let root = match parts.next() {
        Some("user") => user,
        Some("context") => context,
        _ => return Err(format!("`remove` paths start with `user.` or `context.`, found `{path}`")),
    };
    let segs: Vec<&str> = parts.collect();
    let Some((last, parents)) = segs.split_last() else { return Err(format!("`{path}` names no field")) };
    let mut cur = root;
    for p in parents {
        match cur.get_mut(*p) {
            Some(next) => cur = next,
            None => return Ok(()),
        }
    }
    if let Some(m) = cur.as_object_mut() {
        m.shift_remove(*last);
    }
    Ok(())
}

fn run_case(
    pipeline: &Pipeline,
    artifacts: &[Built],
    defaults: &Defaults,
    case: &Case,
    config: &BTreeMap<String, String>,
    coverage: Option<&mut Coverage>,
) -> Vec<String> {
    let mut user = to_json(&defaults.user);
    merge(&mut user, &to_json(&case.user));
    let mut context = to_json(&defaults.context);
    merge(&mut context, &to_json(&case.context));
    for (text, target, what) in
        [(&case.user_json, &mut user, "user_json"), (&case.context_json, &mut context, "context_json")]
    {
        if let Some(text) = text {
            match serde_json::from_str::<Json>(text) {
                Ok(patch) => merge(target, &patch),
                Err(e) => return vec![format!("`{what}` is not valid JSON: {e}")],
            }
        }
    }
    for path in &case.remove {
        if let Err(m) = remove(&mut user, &mut context, path) {
            return vec![m];
        }
    }
    let now_text = case.now.as_ref().or(defaults.now.as_ref());
    let now = match now_text {
        Some(t) => match warden::parse_time(t) {
            Some(n) => n,
            None => return vec![format!("`now` is not an RFC 3339 time: {t:?}")],
        },
        None => jiff::Timestamp::now().as_millisecond(),
    };
    let (user, context) = (Arc::new(user), Arc::new(context));
    // HTTP requests are answered from the case's exchanges, then the defaults'; with none, any
    // request fails the case.
    let canned: Vec<&Canned> = case.http.iter().chain(&defaults.http).collect();
    for c in &canned {
        if url_error(&c.url) {
            return vec![format!("http: `{}` is not a URL", c.url)];
        }
    }
    let script = Arc::new(canned.iter().map(|c| c.exchange()).collect::<Vec<_>>());
    let decode_in = |p: &Pipeline| {
        p.decode_with(user.clone(), context.clone(), now, config).map(|d| d.answer_http_from(script.clone()))
    };
    let decode = || decode_in(pipeline);
    let interp = match decode() {
        Ok(d) => match coverage {
            Some(cov) => pipeline.run_covered(d, &Exec::at(now).on(Backend::Interp), cov),
            None => pipeline.run_decoded(d, &Exec::at(now).on(Backend::Interp)),
        },
        Err(e) => return vec![format!("invalid input: {}", input_error_text(&e))],
    };
    let actual = interp.to_json();
    let mut failures = Vec::new();
    // Every comparison runs, or the case fails saying why: the JIT must be native code, and
    // each artifact must load and accept the input. Outcomes are compared whole (`Outcome`
    // equality), shown as JSON.
    let compare = |what: &str, p: &Pipeline, decoded: Result<warden::Decoded, warden::InputError>| {
        if let Some(why) = p.jit_unavailable() {
            return Some(format!("{what} was not compared: the JIT did not compile the pipeline: {why}"));
        }
        let other = match decoded {
            Ok(d) => p.run_decoded(d, &Exec::at(now).on(Backend::Jit)),
            Err(e) => return Some(format!("{what} was not compared: it refused the input: {}", input_error_text(&e))),
        };
        (other != interp).then(|| {
            format!("{what} disagrees with the interpreter:\n      interp: {actual}\n      other:  {}", other.to_json())
        })
    };
    failures.extend(compare("the JIT", pipeline, decode()));
    for a in artifacts {
        failures.extend(match &a.pipeline {
            Ok(p) => compare(a.what, p, decode_in(p)),
            Err(e) => Some(format!("{} was not compared: it does not load: {e}", a.what)),
        });
    }
    check(&case.expect, &actual, &mut failures);
    let used: Vec<u64> =
        actual["http"]["used"].as_array().map(|u| u.iter().filter_map(Json::as_u64).collect()).unwrap_or_default();
    for request in actual["http"]["unexpected"].as_array().into_iter().flatten() {
        failures.push(format!("http: unexpected request {}", request.as_str().unwrap_or_default()));
    }
    for (i, c) in canned.iter().enumerate() {
        if !c.optional && !used.contains(&(i as u64)) {
            failures.push(format!(
                "http: expected request did not happen: {} {}",
                c.method.to_ascii_uppercase(),
                c.url
            ));
        }
    }
    failures
}

/// The exchange's URL does not parse (it could never match a request).
fn url_error(url: &str) -> bool {
    !(url.starts_with("http://") || url.starts_with("https://")) || url.contains(char::is_whitespace)
}

fn show(v: &Json) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn field(failures: &mut Vec<String>, name: &str, want: &Json, got: &Json) {
    if want != got {
        failures.push(format!("{name}: expected {}, found {}", show(want), show(got)));
    }
}

/// Whether `got` contains everything in `want` (objects recursively, other values equal).
fn includes(want: &Json, got: &Json, path: &str, failures: &mut Vec<String>) {
    match (want, got) {
        (Json::Object(w), Json::Object(g)) => {
            for (k, v) in w {
                includes(v, g.get(k).unwrap_or(&Json::Null), &format!("{path}.{k}"), failures);
            }
        }
        (w, g) if w != g => failures.push(format!("{path}: expected {}, found {}", show(w), show(g))),
        _ => {}
    }
}

fn check(e: &Expect, actual: &Json, f: &mut Vec<String>) {
    let get = |k: &str| actual.get(k).cloned().unwrap_or(Json::Null);
    if let Some(d) = &e.decision {
        field(f, "decision", &json!(d), &get("decision"));
    }
    if let Some(err) = &e.error {
        let got = get("error");
        for (k, v) in err {
            let want = serde_json::to_value(v).unwrap_or(Json::Null);
            field(f, &format!("error.{k}"), &want, got.get(k).unwrap_or(&Json::Null));
        }
    }
    if let Some(u) = &e.user {
        includes(&to_json(u), &get("user"), "user", f);
    }
    for (exact, subset, key) in
        [(&e.id_token, &e.id_token_includes, "id_token"), (&e.access_token, &e.access_token_includes, "access_token")]
    {
        if let Some(t) = exact {
            field(f, key, &to_json(t), &get(key));
        }
        if let Some(t) = subset {
            includes(&to_json(t), &get(key), key, f);
        }
    }
    if let Some(s) = &e.scope {
        field(f, "scope", &json!(s), &get("scope"));
    }
    if e.scope_unchanged == Some(true) {
        field(f, "scope", &Json::Null, &get("scope"));
    }
    if let Some(m) = &e.multifactor {
        let want = if m.as_bool() == Some(false) { Json::Null } else { serde_json::to_value(m).unwrap_or(Json::Null) };
        field(f, "multifactor", &want, &get("multifactor"));
    }
    if let Some(r) = &e.redirect {
        let want = match r {
            toml::Value::String(url) => json!({ "url": url }),
            _ => Json::Null,
        };
        field(f, "redirect", &want, &get("redirect"));
    }
    if let Some(effects) = &e.effects {
        let want = Json::Array(effects.iter().map(to_json).collect());
        field(f, "effects", &want, &get("effects"));
    }
    let messages: Vec<String> = get("logs")
        .as_array()
        .map(|logs| logs.iter().filter_map(|l| l["message"].as_str().map(String::from)).collect())
        .unwrap_or_default();
    if let Some(logs) = &e.logs {
        field(f, "logs", &json!(logs), &json!(messages));
    }
    if let Some(text) = &e.json {
        match serde_json::from_str::<Json>(text) {
            Ok(Json::Object(keys)) => {
                for (k, want) in keys {
                    field(f, &k, &want, &get(&k));
                }
            }
            _ => f.push("`expect.json` must be a JSON object of outcome keys".into()),
        }
    }
    for part in e.logs_include.iter().flatten() {
        if !messages.iter().any(|m| m.contains(part.as_str())) {
            f.push(format!("logs: no message contains {part:?}; messages: {}", show(&json!(messages))));
        }
    }
}

/// Human report: failures with their diffs, then `N passed, M failed`.
pub fn human(report: &Report) -> String {
    let mut out = String::new();
    for r in &report.results {
        if r.failures.is_empty() {
            continue;
        }
        out.push_str(&format!("FAIL {}: {}\n", r.file, r.name));
        for failure in &r.failures {
            out.push_str(&format!("    {failure}\n"));
        }
    }
    out.push_str(&format!("{} passed, {} failed\n", report.passed(), report.failed()));
    out
}

pub fn json_report(report: &Report) -> Json {
    json!({
        "passed": report.passed(),
        "failed": report.failed(),
        "cases": report.results.iter().map(|r| json!({
            "file": r.file, "name": r.name, "passed": r.failures.is_empty(), "failures": r.failures,
        })).collect::<Vec<_>>(),
    })
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

pub fn junit(report: &Report) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites tests=\"{}\" failures=\"{}\">\n",
        report.results.len(),
        report.failed()
    );
    let mut files: Vec<&str> = report.results.iter().map(|r| r.file.as_str()).collect();
    files.dedup();
    for file in files {
        let cases: Vec<&CaseResult> = report.results.iter().filter(|r| r.file == file).collect();
        let failed = cases.iter().filter(|c| !c.failures.is_empty()).count();
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\">\n",
            xml(file),
            cases.len()
        ));
        for c in cases {
            out.push_str(&format!("    <testcase classname=\"{}\" name=\"{}\"", xml(file), xml(&c.name)));
            if c.failures.is_empty() {
                out.push_str("/>\n");
            } else {
                let text = c.failures.join("\n");
                out.push_str(&format!(
                    ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                    xml(c.failures.first().map(String::as_str).unwrap_or("")),
                    xml(&text)
                ));
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// `warden test`.
pub(crate) fn command(a: &TestArgs, style: render::Style, out: &mut Output) -> u8 {
    let files = discover(&a.paths);
    if files.is_empty() {
        out.stderr = "error: no test files (`*.test.toml`) found; `warden init` shows one\n".into();
        return EXIT_ERROR;
    }
    let report = run(&files, a.filter.as_deref(), a.coverage);
    if !report.diagnostics.is_empty() {
        out.stderr.push_str(&render::render(&report.diagnostics, &report.sources, style));
    }
    match a.format {
        TestFormat::Human => out.stdout.push_str(&human(&report)),
        TestFormat::Json => out
            .stdout
            .push_str(&format!("{}\n", serde_json::to_string_pretty(&json_report(&report)).unwrap_or_default())),
        TestFormat::Junit => out.stdout.push_str(&junit(&report)),
    }
    if a.coverage {
        let mut all = std::collections::BTreeMap::new();
        for (pipeline, cov) in &report.coverage {
            all.extend(pipeline.coverage_by_file(cov));
        }
        out.stderr.push_str(&coverage::summary(&all));
        match std::fs::write(&a.lcov, coverage::lcov(&all)) {
            Ok(()) => out.stderr.push_str(&format!("wrote {}\n", a.lcov.display())),
            Err(e) => {
                out.stderr.push_str(&format!("error: cannot write {}: {e}\n", a.lcov.display()));
                return EXIT_ERROR;
            }
        }
    }
    if report.failed() > 0 || report.diagnostics.iter().any(|d| d.is_error()) || report.results.is_empty() {
        EXIT_ERROR
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(expect: Expect) -> Case {
        Case {
            name: "c".into(),
            user: toml::Table::new(),
            context: toml::Table::new(),
            user_json: Some(r#"{"user_id": "auth0|1", "email_verified": true}"#.into()),
            context_json: None,
            remove: Vec::new(),
            config: BTreeMap::new(),
            now: Some("2026-11-26T12:00:00Z".into()),
            http: Vec::new(),
            expect,
        }
    }

    /// A comparison that could not run fails the case with the reason, even when the outcome
    /// is what the case expects.
    #[test]
    fn an_artifact_that_does_not_load_fails_the_case_with_the_reason() {
        let rules = r#"rule "r" { deny unauthorized "unverified" unless user.email_verified }"#;
        let p = Pipeline::from_source("main.rule", rules).expect("checks");
        let expect = Expect { decision: Some("allow".into()), ..Expect::default() };
        let config = BTreeMap::new();
        let fine = build(&p, warden::files::generate_key().map_err(|e| e.to_string()).as_ref(), &config);
        assert_eq!(run_case(&p, &fine, &Defaults::default(), &case(expect), &config, None), Vec::<String>::new());
        let refused =
            [Built { what: "the artifact", pipeline: Err("artifact refused: it needs configuration".into()) }];
        let expect = Expect { decision: Some("allow".into()), ..Expect::default() };
        let failures = run_case(&p, &refused, &Defaults::default(), &case(expect), &config, None);
        assert_eq!(
            failures,
            vec![
                "the artifact was not compared: it does not load: artifact refused: it needs configuration".to_string()
            ]
        );
        let no_key = build(&p, Err(&"no randomness".to_string()), &config);
        let expect = Expect { decision: Some("allow".into()), ..Expect::default() };
        let failures = run_case(&p, &no_key, &Defaults::default(), &case(expect), &config, None);
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert!(failures[0].contains("no key to sign it with: no randomness"), "{failures:?}");
    }

    /// An artifact that refuses an input the sources accept fails the case with the reason.
    #[test]
    fn an_artifact_that_refuses_the_input_fails_the_case() {
        let rules = r#"rule "r" { log config.K }"#;
        let p = Pipeline::from_source("main.rule", rules).expect("checks");
        // The same rules with `K` from an environment variable nobody sets: its decode refuses
        // a login that gives no value for `K`.
        let dir = std::env::temp_dir().join(format!("warden-testing-refuse-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("main.rule"), rules).expect("write");
        let manifest =
            "[pipeline]\nrules = [\"main.rule\"]\n[configuration]\nK = { env = \"WARDEN_TESTING_NEVER_SET\" }\n";
        std::fs::write(dir.join("warden.toml"), manifest).expect("write");
        let strict = Pipeline::from_manifest(dir.join("warden.toml")).expect("loads");
        let _ = std::fs::remove_dir_all(&dir);
        let built = [Built { what: "the artifact", pipeline: Ok(strict) }];
        let expect = Expect { decision: Some("allow".into()), ..Expect::default() };
        let failures = run_case(&p, &built, &Defaults::default(), &case(expect), &BTreeMap::new(), None);
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert!(
            failures[0]
                .starts_with("the artifact was not compared: it refused the input: configuration key `K` has no value"),
            "{failures:?}"
        );
    }
}
