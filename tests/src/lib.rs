//! Shared helpers for warden's corpus, golden and property tests.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

pub mod generate;

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// Whether golden files should be rewritten: only with `WARDEN_BLESS=1` exactly (`""`,
/// `"0"`, `"false"`, `"true"` and anything else leave them alone), and never under CI (a
/// non-empty `CI`), where asking to bless is an error: CI compares, it never rewrites.
pub fn bless() -> Result<bool, String> {
    let var = |k: &str| std::env::var(k).ok();
    bless_from(var("WARDEN_BLESS").as_deref(), var("CI").as_deref())
}

/// [`bless`] given the values of `WARDEN_BLESS` and `CI`.
pub fn bless_from(bless: Option<&str>, ci: Option<&str>) -> Result<bool, String> {
    let asked = bless == Some("1");
    if asked && ci.is_some_and(|v| !v.is_empty()) {
        return Err("WARDEN_BLESS=1 under CI: golden files are never rewritten in CI; bless locally and commit".into());
    }
    Ok(asked)
}

/// JSON merge patch (RFC 7386): objects merge recursively, `null` deletes a key.
pub fn merge_patch(target: &mut Json, patch: &Json) {
    match patch {
        Json::Object(p) => {
            if !target.is_object() {
                *target = Json::Object(Default::default());
            }
            let t = target.as_object_mut().expect("just made an object");
            for (k, v) in p {
                if v.is_null() {
                    t.shift_remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Json::Null), v);
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// Compares an outcome with an expectation: every top-level key of `expect` must equal the
/// outcome's, except `error`, compared key by key for the keys the expectation gives.
/// Returns the mismatches, one line each.
pub fn mismatches(outcome: &Json, expect: &Json) -> Vec<String> {
    let mut out = Vec::new();
    let Some(exp) = expect.as_object() else {
        return vec!["expectation is not a JSON object".into()];
    };
    for (k, want) in exp {
        let got = outcome.get(k).unwrap_or(&Json::Null);
        if k == "error" && want.is_object() {
            let Some(got_obj) = got.as_object() else {
                out.push(format!("error: expected {want}, got {got}"));
                continue;
            };
            for (ek, ev) in want.as_object().expect("checked") {
                let g = got_obj.get(ek).unwrap_or(&Json::Null);
                if g != ev {
                    out.push(format!("error.{ek}: expected {ev}, got {g}"));
                }
            }
        } else if got != want {
            out.push(format!("{k}: expected {want}, got {got}"));
        }
    }
    out
}

/// Compares `actual` with the golden file at `path`, or rewrites it when blessing.
pub fn golden(path: &Path, actual: &str) -> Result<(), String> {
    if bless()? {
        std::fs::write(path, actual).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        return Ok(());
    }
    let expected = std::fs::read_to_string(path)
        .map_err(|_| format!("{} is missing: run with WARDEN_BLESS=1 to create it", path.display()))?;
    if expected == actual {
        Ok(())
    } else {
        Err(format!("{} differs:\n--- expected\n{expected}\n--- actual\n{actual}", path.display()))
    }
}

/// Copies a directory tree (for tests that change a copy of an example).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("readable") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).expect("copy");
        }
    }
}

/// How many example projects `examples/` holds: every loop over [`examples`] covers them all,
/// and a renamed or lost `warden.toml` fails here instead of shrinking the loops.
pub const EXAMPLES: usize = 7;

/// The example projects (directories of `examples/` with a `warden.toml`), sorted; there are
/// exactly [`EXAMPLES`].
pub fn examples() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("examples"))
        .expect("examples/ exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("warden.toml").is_file())
        .collect();
    dirs.sort();
    assert_eq!(dirs.len(), EXAMPLES, "examples with a warden.toml: {dirs:?}; update EXAMPLES when adding one");
    dirs
}

/// An example's sample logins (directories of `samples/` holding `user.json`, `context.json`
/// and `expected.json`), sorted. Every example has at least one.
pub fn samples(example: &Path) -> Vec<PathBuf> {
    let mut s: Vec<PathBuf> = std::fs::read_dir(example.join("samples"))
        .expect("every example has samples/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    s.sort();
    assert!(!s.is_empty(), "{}: no samples", example.display());
    s
}

/// Runs an example's sample (a directory of `samples/`): its `user.json` and `context.json`,
/// with the HTTP requests of its rules answered from its `exchanges.json` when it has one (the
/// examples whose rules call web APIs have one for every sample: tests never reach the
/// network).
pub fn run_sample(p: &warden::Pipeline, sample: &Path, exec: &warden::Exec) -> warden::Outcome {
    let decoded = p
        .decode(read_json(&sample.join("user.json")), read_json(&sample.join("context.json")), exec.now)
        .map_err(|e| format!("{}: {e}", sample.display()))
        .expect("a sample the pipeline accepts");
    match sample.join("exchanges.json").is_file() {
        true => {
            let exchanges: Vec<warden::Exchange> =
                serde_json::from_value(read_json(&sample.join("exchanges.json"))).expect("exchanges.json");
            p.run_decoded(decoded.answer_http_from(std::sync::Arc::new(exchanges)), exec)
        }
        false => p.run_decoded(decoded, exec),
    }
}

/// A JSON file, or a panic naming it.
pub fn read_json(path: &Path) -> Json {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()));
    let json = text.and_then(|t| serde_json::from_str(&t).map_err(|e| format!("{}: {e}", path.display())));
    json.expect("a readable JSON file")
}

/// Asserts that the pipeline runs native code on the JIT backend, so that a test comparing
/// backends compares two (the JIT otherwise quietly runs the interpreter).
pub fn assert_jit(p: &warden::Pipeline) {
    let why = p.jit_unavailable();
    assert!(
        why.is_none(),
        "the JIT did not compile this pipeline, so the JIT backend would run the interpreter: {why:?}"
    );
}

/// Every field of an outcome, denials included, as one JSON value (`warden::outcome_whole`).
pub fn whole(o: &warden::Outcome) -> Json {
    warden::outcome_whole(o)
}

/// The npm test project (`tests/npm`), with its `node_modules` installed: `npm ci --no-audit
/// --no-fund` from the committed `package-lock.json`, once (a marker in `node_modules` records
/// the lock file it was installed from), serialized across test processes by a lock file.
/// Panics with a clear message when npm is missing or the install fails: the npm tests are
/// never skipped.
#[allow(clippy::panic)] // a test helper: the npm tests fail, with why, when npm cannot install
pub fn npm_project() -> PathBuf {
    static READY: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    match READY.get_or_init(|| npm_ci("tests/npm")) {
        Ok(dir) => dir.clone(),
        Err(e) => panic!("{e}"),
    }
}

/// `editors/vscode` with its `node_modules` installed (the grammar's snapshot tool), as
/// [`npm_project`] installs `tests/npm`.
#[allow(clippy::panic)] // a test helper: the grammar tests fail, with why, when npm cannot install
pub fn vscode_extension() -> PathBuf {
    static READY: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    match READY.get_or_init(|| npm_ci("editors/vscode")) {
        Ok(dir) => dir.clone(),
        Err(e) => panic!("{e}"),
    }
}

/// `npm ci` in the folder `rel` of the repository, once per lock file.
fn npm_ci(rel: &str) -> Result<PathBuf, String> {
    use sha2::Digest;
    let dir = root().join(rel);
    let lock_file =
        std::fs::read(dir.join("package-lock.json")).map_err(|e| format!("{rel}/package-lock.json: {e}"))?;
    let want = format!("{:x}", sha2::Sha256::digest(&lock_file));
    let marker = dir.join("node_modules/.warden-installed");
    let installed = || std::fs::read_to_string(&marker).is_ok_and(|m| m == want);
    if installed() {
        return Ok(dir);
    }
    let _lock = FileLock::take(&dir.join(".install.lock"))?;
    if installed() {
        return Ok(dir);
    }
    let out = std::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .output()
        .map_err(|e| format!("the npm tests need npm (Node.js) on the PATH to install {rel}/node_modules: running `npm ci` failed: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`npm ci` in {rel} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    std::fs::write(&marker, want).map_err(|e| e.to_string())?;
    Ok(dir)
}

/// A lock held by creating a file (removed on drop); a lock older than ten minutes is taken
/// to be left by a process that died.
struct FileLock(PathBuf);

impl FileLock {
    fn take(path: &Path) -> Result<FileLock, String> {
        let start = std::time::Instant::now();
        loop {
            match std::fs::OpenOptions::new().write(true).create_new(true).open(path) {
                Ok(_) => return Ok(FileLock(path.to_path_buf())),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let age = std::fs::metadata(path).and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
                    if age.is_some_and(|a| a > std::time::Duration::from_secs(600)) {
                        let _ = std::fs::remove_file(path);
                    } else if start.elapsed() > std::time::Duration::from_secs(900) {
                        return Err(format!("waited 15 minutes for {}", path.display()));
                    }
                    std::thread::sleep(std::time::Duration::from_millis(200));
                }
                Err(e) => return Err(format!("{}: {e}", path.display())),
            }
        }
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
