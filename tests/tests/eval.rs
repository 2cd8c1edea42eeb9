//! The eval corpus: data-driven cases in `tests/eval/*.toml` (rule + inputs + expected
//! outcome), each run through the library on the interpreter, the JIT (asserted to be native
//! code), and from the pipeline's artifact; the three outcomes are compared whole. Each also
//! runs from bytes to bytes, where the fast path must write the reference path's bytes. The format
//! is described in `tests/eval/README.md`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value as Json;
use warden::{Backend, Exec, Pipeline};
use warden_ir::ClaimMode;
use warden_tests::{merge_patch, mismatches, root, whole};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Defaults {
    user: Option<String>,
    context: Option<String>,
    now: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    #[serde(default)]
    defaults: Defaults,
    case: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    rules: String,
    user: Option<String>,
    user_exact: Option<String>,
    context: Option<String>,
    context_exact: Option<String>,
    #[serde(default)]
    config: BTreeMap<String, String>,
    /// A manifest `[configuration]` table: the case then loads from a `warden.toml`.
    configuration: Option<toml::Table>,
    #[serde(default)]
    files: BTreeMap<String, String>,
    claim_mode: Option<ClaimMode>,
    now: Option<String>,
    expect: Option<String>,
    expect_input_error: Option<String>,
    expect_load_error: Option<String>,
}

fn json(text: &str, what: &str) -> Json {
    let parsed = serde_json::from_str(text);
    assert!(
        parsed.is_ok(),
        "{what} is not valid JSON: {}",
        parsed.as_ref().err().map(|e| e.to_string()).unwrap_or_default()
    );
    parsed.unwrap_or_default()
}

fn input(defaults: &Option<String>, patch: &Option<String>, exact: &Option<String>, what: &str) -> Json {
    if let Some(e) = exact {
        return json(e, what);
    }
    let mut base = defaults.as_deref().map_or(Json::Object(Default::default()), |d| json(d, what));
    if let Some(p) = patch {
        merge_patch(&mut base, &json(p, what));
    }
    base
}

/// Runs one case; `Err` describes the failure.
/// How many (case, backend, spelling) runs the fast path took.
static FAST: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn run_case(case: &Case, defaults: &Defaults, dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    for (name, text) in &case.files {
        std::fs::write(dir.join(name), text).map_err(|e| e.to_string())?;
    }
    let rule_path = dir.join("main.rule");
    std::fs::write(&rule_path, &case.rules).map_err(|e| e.to_string())?;
    let claim_mode = case.claim_mode.unwrap_or_default();
    let loaded = match &case.configuration {
        Some(configuration) => {
            let mut pipeline = toml::Table::new();
            pipeline.insert("rules".into(), toml::Value::Array(vec!["main.rule".into()]));
            pipeline.insert("claim_mode".into(), format!("{claim_mode:?}").to_lowercase().into());
            let mut manifest = toml::Table::new();
            manifest.insert("pipeline".into(), pipeline.into());
            manifest.insert("configuration".into(), configuration.clone().into());
            let path = dir.join("warden.toml");
            std::fs::write(&path, toml::to_string(&manifest).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
            Pipeline::from_manifest(&path)
        }
        None => Pipeline::from_files(&[rule_path], claim_mode),
    };
    let loaded = loaded.and_then(|mut p| {
        for (k, v) in &case.config {
            p.set_config(k, v).map_err(|e| warden::LoadError::Config(vec![e]))?;
        }
        Ok(p)
    });
    match (&case.expect_load_error, loaded) {
        (Some(_), _) if case.expect.is_some() || case.expect_input_error.is_some() => {
            Err("a case needs exactly one of `expect`, `expect_input_error` and `expect_load_error`".into())
        }
        (Some(want), Err(e)) if e.to_string().contains(want.as_str()) => Ok(()),
        (Some(want), Err(e)) => Err(format!("load error {:?} does not mention {want:?}", e.to_string())),
        (Some(_), Ok(_)) => Err("expected a load error, the pipeline loaded".into()),
        (None, Err(warden::LoadError::Check(c))) => {
            let errs: Vec<String> = c
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .map(|d| format!("{} {} ({})", d.code, d.message, d.help.clone().unwrap_or_default()))
                .collect();
            Err(format!("the rules do not check:\n    {}", errs.join("\n    ")))
        }
        (None, Err(e)) => Err(e.to_string()),
        (None, Ok(p)) => run_loaded(case, defaults, p, dir),
    }
}

/// Runs a loaded case on every backend and from its artifact.
fn run_loaded(case: &Case, defaults: &Defaults, pipeline: Pipeline, dir: &Path) -> Result<(), String> {
    if let Some(why) = pipeline.jit_unavailable() {
        return Err(format!("the JIT did not compile the rules, so only the interpreter would run: {why}"));
    }
    let user = input(&defaults.user, &case.user, &case.user_exact, "user");
    let context = input(&defaults.context, &case.context, &case.context_exact, "context");
    let now = case.now.as_ref().or(defaults.now.as_ref()).map_or("2026-11-26T12:00:00Z", String::as_str);
    let now = warden::parse_time(now).ok_or_else(|| format!("bad now {now:?}"))?;
    // Every case runs on every backend; the JIT must agree with the interpreter exactly.
    let result = pipeline.execute(&user, &context, &Exec::at(now).on(Backend::Interp));
    let jit = pipeline.execute(&user, &context, &Exec::at(now).on(Backend::Jit));
    // Outcomes are compared whole (denials included), not only as `to_json` shows them.
    let show = |r: &Result<warden::Outcome, warden::InputError>| match r {
        Ok(o) => whole(o).to_string(),
        Err(e) => format!("input error: {e}"),
    };
    if show(&result) != show(&jit) {
        return Err(format!(
            "the JIT disagrees with the interpreter:\n    interp: {}\n    jit:    {}",
            show(&result),
            show(&jit)
        ));
    }
    // ... and so must the pipeline rebuilt from its artifact.
    let artifact = Pipeline::from_artifact(&pipeline.to_artifact(None), None, &case.config)
        .map_err(|e| format!("the artifact does not load: {e}"))?;
    if let Some(why) = artifact.jit_unavailable() {
        return Err(format!("the JIT did not compile the artifact's program: {why}"));
    }
    let from_artifact = artifact.execute(&user, &context, &Exec::at(now).on(Backend::Jit));
    if show(&result) != show(&from_artifact) {
        return Err(format!(
            "the artifact disagrees with the sources:\n    sources:  {}\n    artifact: {}",
            show(&result),
            show(&from_artifact)
        ));
    }
    // From bytes to bytes: the fast path (when it takes the case) writes the reference's bytes,
    // on both backends, the input as the file spells it and compact.
    for backend in [Backend::Interp, Backend::Jit] {
        let exec = Exec::at(now).on(backend);
        for (u, c) in [
            (serde_json::to_vec(&user).unwrap_or_default(), serde_json::to_vec(&context).unwrap_or_default()),
            (
                serde_json::to_vec_pretty(&user).unwrap_or_default(),
                serde_json::to_vec_pretty(&context).unwrap_or_default(),
            ),
        ] {
            let reference = pipeline.execute_bytes_reference(&u, &c, &exec);
            if let Some(fast) = pipeline.execute_bytes_fast(&u, &c, &exec) {
                FAST.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if reference.as_ref().ok() != Some(&fast) {
                    return Err(format!(
                        "the fast path writes {}\n    the reference {:?}",
                        String::from_utf8_lossy(&fast),
                        reference.map(|r| String::from_utf8_lossy(&r).into_owned())
                    ));
                }
            }
        }
    }
    match (&case.expect, &case.expect_input_error, result) {
        (Some(expect), None, Ok(outcome)) => {
            let mut got = outcome.to_json();
            // A rule error's location names the rule file by the path it was loaded from, a
            // scratch directory: expectations name it relative to the case's directory
            // (`main.rule:2:5`).
            let prefix = format!("{}/", dir.display());
            if let Some(loc) = got.pointer_mut("/error/location")
                && let Some(rel) = loc.as_str().and_then(|l| l.strip_prefix(&prefix))
            {
                *loc = Json::String(rel.to_string());
            }
            let diffs = mismatches(&got, &json(expect, "expect"));
            if diffs.is_empty() { Ok(()) } else { Err(format!("{}\n    outcome: {got}", diffs.join("\n    "))) }
        }
        (Some(_), None, Err(e)) => Err(format!("unexpected input error: {e}")),
        (None, Some(want), Err(e)) if e.to_string().contains(want.as_str()) => Ok(()),
        (None, Some(want), Err(e)) => Err(format!("input error {:?} does not mention {want:?}", e.to_string())),
        (None, Some(_), Ok(o)) => Err(format!("expected an input error, got {}", o.to_json())),
        _ => Err("a case needs exactly one of `expect`, `expect_input_error` and `expect_load_error`".into()),
    }
}

#[test]
fn eval_corpus() {
    let dir = root().join("tests/eval");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/eval exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let scratch = std::env::temp_dir().join(format!("warden-eval-{}", std::process::id()));
    let (mut total, mut failures) = (0, Vec::new());
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable");
        let parsed = toml::from_str::<CaseFile>(&text);
        assert!(
            parsed.is_ok(),
            "{}: {}",
            file.display(),
            parsed.as_ref().err().map(|e| e.to_string()).unwrap_or_default()
        );
        let parsed = parsed.expect("checked");
        let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("cases");
        let mut names = std::collections::HashSet::new();
        for (i, case) in parsed.case.iter().enumerate() {
            total += 1;
            assert!(names.insert(case.name.clone()), "{}: duplicate case name {:?}", file.display(), case.name);
            let case_dir = scratch.join(stem).join(i.to_string());
            if let Err(e) = run_case(case, &parsed.defaults, &case_dir) {
                failures.push(format!("{stem}: {}\n    {e}", case.name));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    println!("{} passed, {} failed", total - failures.len(), failures.len());
    assert!(total >= 150, "the eval corpus should hold at least 150 cases, found {total}");
    assert!(failures.is_empty(), "{} of {total} eval cases failed:\n\n{}", failures.len(), failures.join("\n\n"));
    // Most cases are valid input for pipelines without JavaScript: the fast path took them.
    let fast = FAST.load(std::sync::atomic::Ordering::Relaxed);
    assert!(fast > total * 2, "the fast path took {fast} runs of {total} cases (of four runs each)");
}
