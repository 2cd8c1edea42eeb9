//! Every example pipeline checks clean, and every sample gives exactly its expected outcome,
//! through the library and through `warden run` (exit codes included).

use std::path::PathBuf;

use serde_json::Value as Json;
use warden::{Backend, Exec, Pipeline};
use warden_tests::{examples, read_json as read, root, samples};

const NOW: &str = "2026-11-26T12:00:00Z";

#[test]
fn examples_check_clean() {
    let all = examples();
    assert!(all.len() >= 4, "expected the quickstart and at least 3 scenarios");
    for dir in all {
        let c = warden_check::check_manifest(&dir.join("warden.toml"));
        let errors: Vec<_> =
            c.diagnostics.iter().filter(|d| d.is_error()).map(|d| format!("{} {}", d.code, d.message)).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", dir.display());
    }
}

#[test]
fn quickstart_has_eight_rules() {
    let p = Pipeline::from_manifest(root().join("examples/quickstart/warden.toml")).expect("quickstart loads");
    assert!(p.program().rules.len() >= 8, "the quickstart shows at least 8 rules");
}

#[test]
fn samples_give_expected_outcomes_through_the_library() {
    let now = warden::parse_time(NOW).expect("valid time");
    let mut count = 0;
    let mut fast_runs = 0;
    for dir in examples() {
        let pipeline = Pipeline::from_manifest(dir.join("warden.toml")).expect("example loads");
        warden_tests::assert_jit(&pipeline);
        let cases = samples(&dir);
        assert!(cases.len() >= 4, "{}: at least 4 samples", dir.display());
        for case in cases {
            count += 1;
            let expected = read(&case.join("expected.json"));
            // A sample whose rules call web APIs answers them from its `exchanges.json`.
            if case.join("exchanges.json").is_file() {
                for backend in [Backend::Interp, Backend::Jit] {
                    let outcome = warden_tests::run_sample(&pipeline, &case, &Exec::at(now).on(backend));
                    assert_eq!(outcome.to_json(), expected, "{} on {backend:?}", case.display());
                }
                continue;
            }
            for backend in [Backend::Interp, Backend::Jit] {
                let outcome = pipeline.execute(
                    &read(&case.join("user.json")),
                    &read(&case.join("context.json")),
                    &Exec::at(now).on(backend),
                );
                assert!(
                    outcome.is_ok(),
                    "{}: {}",
                    case.display(),
                    outcome.as_ref().err().map(|e| e.to_string()).unwrap_or_default()
                );
                let outcome = outcome.expect("checked");
                assert_eq!(outcome.to_json(), expected, "{} on {backend:?}", case.display());
                // From the files' bytes: the fast path (pipelines without JavaScript) writes
                // the reference path's bytes.
                let (u, c) = (
                    std::fs::read(case.join("user.json")).unwrap_or_default(),
                    std::fs::read(case.join("context.json")).unwrap_or_default(),
                );
                let exec = Exec::at(now).on(backend);
                let reference = pipeline.execute_bytes_reference(&u, &c, &exec).expect("valid input");
                assert_eq!(
                    pipeline.execute_bytes(&u, &c, &exec).expect("valid input"),
                    reference,
                    "{}",
                    case.display()
                );
                if let Some(fast) = pipeline.execute_bytes_fast(&u, &c, &exec) {
                    assert_eq!(fast, reference, "{}", case.display());
                    fast_runs += 1;
                }
            }
        }
    }
    assert!(count >= 16);
    assert!(fast_runs >= 16, "the fast path took {fast_runs} sample runs");
}

#[test]
fn samples_give_expected_outcomes_through_the_cli() {
    let mut count = 0;
    for (dir, backend) in examples().into_iter().flat_map(|d| [(d.clone(), "interp"), (d, "jit")]) {
        for case in samples(&dir) {
            let s = |p: PathBuf| p.display().to_string();
            let args: Vec<String> = vec![
                "run".into(),
                "--manifest".into(),
                s(dir.join("warden.toml")),
                "--user".into(),
                s(case.join("user.json")),
                "--context".into(),
                s(case.join("context.json")),
                "--now".into(),
                NOW.into(),
                "--backend".into(),
                backend.into(),
            ];
            let mut args = args;
            if case.join("exchanges.json").is_file() {
                args.extend(["--http-exchanges".into(), s(case.join("exchanges.json"))]);
            }
            let (code, out) = warden_cli::main_with(&args, false);
            let expected = read(&case.join("expected.json"));
            let got = serde_json::from_str::<Json>(&out.stdout);
            assert!(
                got.is_ok(),
                "{}: stdout is not JSON ({}): {}{}",
                case.display(),
                got.as_ref().err().map(|e| e.to_string()).unwrap_or_default(),
                out.stdout,
                out.stderr
            );
            let got = got.unwrap_or_default();
            assert_eq!(got, expected, "{}", case.display());
            let want_code = if expected["decision"] == "allow" { 0 } else { 3 };
            assert_eq!(code, want_code, "{}: exit code", case.display());
            count += 1;
        }
    }
    assert!(count >= 2 * 16, "every sample on both backends, found {count} runs");
}
