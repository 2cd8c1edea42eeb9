//! Golden corpora: every `.rule` under `tests/golden/{parse,check}-{ok,err}/` is checked and
//! its rendered diagnostics (plain) plus, when it checks, its IR dump are compared with the
//! `.out` file beside it. `WARDEN_BLESS=1 cargo test --test golden` rewrites them (only
//! that value, and never under `CI`).

use std::path::PathBuf;

use warden_cli::render::{Style, render};
use warden_tests::{golden, root};

fn run_dir(dir: &str, expect_errors: bool, syntax_only: bool) {
    let base = root().join("tests/golden").join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&base)
        .expect("golden dir exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "rule"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no cases in {dir}");
    let mut failures = Vec::new();
    for path in files {
        let shown = PathBuf::from("golden").join(dir).join(path.file_name().expect("file name"));
        // Cargo runs tests in the package directory (tests/), so paths are shown relative to
        // it and the golden text does not depend on where the checkout lives.
        let c = warden_check::check_files(std::slice::from_ref(&shown), Default::default());
        let errors = c.diagnostics.iter().filter(|d| d.is_error()).count();
        if expect_errors && errors == 0 {
            failures.push(format!("{}: expected errors, found none", shown.display()));
        }
        if !expect_errors && errors > 0 {
            failures.push(format!("{}: expected no errors, found {errors}", shown.display()));
        }
        if syntax_only && c.diagnostics.iter().any(|d| d.is_error() && !d.code.starts_with("E000")) {
            failures.push(format!("{}: a parse case must only have syntax errors", shown.display()));
        }
        let mut actual = render(&c.diagnostics, &c.sources, Style::Plain);
        if let Some(p) = &c.program {
            actual.push_str(&warden_ir::dump(p));
        }
        if let Err(e) = golden(&path.with_extension("out"), &actual) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn parse_ok() {
    run_dir("parse-ok", false, false);
}

#[test]
fn parse_err() {
    run_dir("parse-err", true, true);
}

#[test]
fn check_ok() {
    run_dir("check-ok", false, false);
}

#[test]
fn check_err() {
    run_dir("check-err", true, false);
}

/// Golden files are rewritten only with `WARDEN_BLESS=1`, and never under CI.
#[test]
fn only_warden_bless_1_rewrites_and_never_under_ci() {
    use warden_tests::bless_from;
    for value in [None, Some(""), Some("0"), Some("false"), Some("true"), Some("yes"), Some(" 1"), Some("01")] {
        assert_eq!(bless_from(value, None), Ok(false), "WARDEN_BLESS={value:?} must not bless");
        assert_eq!(bless_from(value, Some("true")), Ok(false), "WARDEN_BLESS={value:?} under CI");
    }
    assert_eq!(bless_from(Some("1"), None), Ok(true));
    assert_eq!(bless_from(Some("1"), Some("")), Ok(true), "an empty CI is not CI");
    for ci in ["true", "1", "yes"] {
        let refused = bless_from(Some("1"), Some(ci)).expect_err("blessing under CI is refused");
        assert!(refused.contains("never rewritten in CI"), "{refused}");
    }
}
