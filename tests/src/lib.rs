//! Shared helpers for warden's corpus, golden and property tests.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// Whether golden files should be rewritten (`WARDEN_BLESS=1`).
pub fn bless() -> bool {
    std::env::var_os("WARDEN_BLESS").is_some_and(|v| v != "0")
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
    if bless() {
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

/// The example projects (directories of `examples/` with a `warden.toml`), sorted.
pub fn examples() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("examples"))
        .expect("examples/ exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("warden.toml").is_file())
        .collect();
    dirs.sort();
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

/// A JSON file, or a panic naming it.
pub fn read_json(path: &Path) -> Json {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()));
    let json = text.and_then(|t| serde_json::from_str(&t).map_err(|e| format!("{}: {e}", path.display())));
    json.expect("a readable JSON file")
}
