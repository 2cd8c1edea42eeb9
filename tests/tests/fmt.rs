//! `warden fmt`: the layout (golden files), and on every `.rule` text the project holds (the
//! examples, the golden and porting corpora, the migration goldens, every eval case) and on
//! generated programs: formatting parses, is idempotent, keeps every comment, and checks to
//! the same program (the IR without source positions). `WARDEN_FMT_PROGRAMS` sets how many
//! generated programs (default 400).

use std::path::{Path, PathBuf};

use warden_tests::generate::{Gen, program};
use warden_tests::{copy_dir, golden, root};

/// The IR's text without source positions (`at f1:3:1`, `@4`).
fn without_positions(ir: &str) -> String {
    ir.split_whitespace()
        .filter(|w| {
            let position = w.strip_prefix('@').is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                || (w.starts_with('f')
                    && w.matches(':').count() == 2
                    && w[1..].bytes().all(|b| b.is_ascii_digit() || b == b':'));
            !position
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What checking `files` gives: the IR without positions, or the diagnostics' codes and
/// messages.
fn checked(files: &[(String, String)], options: warden_ir::Options) -> String {
    let c = warden_check::check_sources(files, options);
    match &c.program {
        Some(p) if !c.has_errors() => without_positions(&warden_ir::dump(p)),
        _ => c.diagnostics.iter().map(|d| format!("{} {}\n", d.code, d.message)).collect(),
    }
}

fn rule_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() && name != "target" && name != "node_modules" && !name.starts_with('.') {
            rule_files(&p, out);
        } else if name.ends_with(".rule") {
            out.push(p);
        }
    }
}

/// Formats `text`, asserting what always holds; `None` when it does not parse.
fn formats(what: &str, text: &str) -> Option<String> {
    let result = warden::format_source(text);
    if let Err(warden::FormatError::Syntax(_)) = result {
        return None;
    }
    assert!(result.is_ok(), "{what}: {}", result.as_ref().err().map(|e| e.to_string()).unwrap_or_default());
    let once = result.ok()?;
    let twice = warden::format_source(&once);
    assert!(twice.is_ok(), "{what}: the formatted text does not format: {:?}\n{once}", twice.err());
    assert_eq!(twice.ok().as_deref(), Some(once.as_str()), "{what}: not idempotent");
    Some(once)
}

#[test]
fn the_layout_is_as_in_the_golden_files() {
    let dir = root().join("tests/fmt");
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/fmt")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "rule"))
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty());
    for input in inputs {
        let text = std::fs::read_to_string(&input).expect("read");
        let formatted = formats(&input.display().to_string(), &text).expect("the golden inputs parse");
        let expected = input.with_extension("formatted");
        let compared = golden(&expected, &formatted);
        assert!(compared.is_ok(), "{}", compared.err().unwrap_or_default());
        let name = input.file_name().expect("name").to_string_lossy().into_owned();
        let before = checked(&[(name.clone(), text)], Default::default());
        let after = checked(&[(name, formatted)], Default::default());
        assert_eq!(before, after, "{}: the program changed", input.display());
    }
}

/// Every `.rule` file of the repository, alone and (for projects) in its pipeline.
#[test]
fn every_rule_file_keeps_its_program_and_comments() {
    let root = root();
    let mut files = Vec::new();
    for dir in ["examples", "tests", "server/tests", "docs"] {
        rule_files(&root.join(dir), &mut files);
    }
    files.sort();
    assert!(files.len() >= 50, "{} files", files.len());
    let mut formatted = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read");
        let what = file.strip_prefix(&root).unwrap_or(file).display().to_string();
        let Some(once) = formats(&what, &text) else { continue };
        formatted += 1;
        let name = file.file_name().expect("name").to_string_lossy().into_owned();
        assert_eq!(
            checked(&[(name.clone(), text.clone())], Default::default()),
            checked(&[(name.clone(), once)], Default::default()),
            "{what}: the program changed"
        );
        // A comment before and after every line: all kept, in order, and the program the same.
        let commented: String = text
            .trim_start_matches('\u{feff}')
            .lines()
            .enumerate()
            .map(|(i, l)| format!("# above {i}\n{l} # after {i}\n"))
            .collect();
        let again = formats(&format!("{what} with comments"), &commented);
        assert!(again.is_some(), "{what}: comments break parsing");
        let again = again.unwrap_or_default();
        let kept: Vec<&str> = again.lines().filter_map(|l| l.find("# ").map(|at| &l[at..])).collect();
        let had: Vec<&str> = commented.lines().filter_map(|l| l.find("# ").map(|at| &l[at..])).collect();
        assert_eq!(kept, had, "{what}: comments lost or reordered:\n{again}");
        assert_eq!(
            checked(&[(name.clone(), commented)], Default::default()),
            checked(&[(name, again)], Default::default()),
            "{what} with comments: the program changed"
        );
    }
    assert!(formatted >= 40, "only {formatted} files parsed");
}

/// The fixtures whose spelling is what they test: the golden diagnostics (positions, a
/// byte-order mark, quoted keys, files that do not parse) and the formatter's own inputs.
/// Every other `.rule` file of the repository is in the layout (`.ci/run` checks the same with
/// `warden fmt --check`).
const LAYOUT_EXEMPT: [&str; 2] = ["tests/golden/", "tests/fmt/"];

#[test]
fn the_repository_is_in_the_layout() {
    let root = root();
    let mut files = Vec::new();
    rule_files(&root, &mut files);
    files.sort();
    let mut checked = 0;
    let mut unformatted = Vec::new();
    for file in &files {
        let what = file.strip_prefix(&root).unwrap_or(file).display().to_string();
        if LAYOUT_EXEMPT.iter().any(|dir| what.starts_with(dir)) {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("read");
        checked += 1;
        if warden::format_source(&text).ok().as_deref() != Some(text.as_str()) {
            unformatted.push(what);
        }
    }
    assert!(checked >= 50, "only {checked} files");
    assert!(unformatted.is_empty(), "not in `warden fmt`'s layout (run `warden fmt` on them): {unformatted:#?}");
}

/// Each example project, its rule files formatted in a copy, checks to the same pipeline.
#[test]
fn formatted_examples_check_to_the_same_pipelines() {
    for example in warden_tests::examples() {
        let copy = std::env::temp_dir().join(format!(
            "warden-fmt-{}-{}",
            std::process::id(),
            example.file_name().expect("name").to_string_lossy()
        ));
        let _ = std::fs::remove_dir_all(&copy);
        copy_dir(&example, &copy);
        let mut files = Vec::new();
        rule_files(&copy, &mut files);
        for f in &files {
            let text = std::fs::read_to_string(f).expect("read");
            let once = formats(&f.display().to_string(), &text).expect("example rules parse");
            std::fs::write(f, once).expect("write");
        }
        let before = warden::Report::of_manifest(&example.join("warden.toml"));
        let after = warden::Report::of_manifest(&copy.join("warden.toml"));
        assert!(!before.has_errors(), "{}", example.display());
        assert_eq!(
            before.ir_text().map(|t| without_positions(&t).replace(&example.display().to_string(), "")),
            after.ir_text().map(|t| without_positions(&t).replace(&copy.display().to_string(), "")),
            "{}",
            example.display()
        );
        let _ = std::fs::remove_dir_all(&copy);
    }
}

/// The rules of every eval case (tests/eval/*.toml).
#[test]
fn every_eval_case_keeps_its_program() {
    let dir = root().join("tests/eval");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("tests/eval") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|x| x != "toml") {
            continue;
        }
        let doc: toml::Table = toml::from_str(&std::fs::read_to_string(&path).expect("read")).expect("toml");
        let cases = doc.get("case").and_then(|c| c.as_array()).cloned().unwrap_or_default();
        for case in cases {
            let Some(rules) = case.get("rules").and_then(|r| r.as_str()) else { continue };
            let what =
                format!("{} {:?}", path.display(), case.get("name").and_then(|n| n.as_str()).unwrap_or_default());
            let Some(once) = formats(&what, rules) else { continue };
            n += 1;
            let files = |t: &str| vec![("main.rule".to_string(), t.to_string())];
            assert_eq!(
                checked(&files(rules), Default::default()),
                checked(&files(&once), Default::default()),
                "{what}"
            );
        }
    }
    assert!(n >= 500, "only {n} eval cases parsed");
}

/// Generated programs (the differential test's generator): every construct, in every
/// position the generator reaches.
#[test]
fn generated_programs_keep_their_programs() {
    let programs: u64 = std::env::var("WARDEN_FMT_PROGRAMS").ok().and_then(|v| v.parse().ok()).unwrap_or(400);
    let seed = 0x20_f0f0;
    for i in 0..programs {
        let p = program(&mut Gen::for_case(seed, i));
        let options = warden_ir::Options { claim_mode: p.claim_mode, ..Default::default() };
        let mut formatted = p.files.clone();
        for (name, text) in formatted.iter_mut() {
            if name.ends_with(".rule") {
                let what = format!("program {i} (seed {seed}) {name}");
                *text = formats(&what, text).unwrap_or_else(|| text.clone());
            }
        }
        assert_eq!(checked(&p.files, options.clone()), checked(&formatted, options), "program {i}:\n{p}");
    }
}

fn cli(args: &[&str]) -> (u8, warden_cli::Output) {
    warden_cli::main_with(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>(), false)
}

#[test]
fn the_command_rewrites_checks_and_refuses() {
    let dir = std::env::temp_dir().join(format!("warden-fmt-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("rules")).expect("mkdir");
    let messy = dir.join("rules/a.rule");
    std::fs::write(&messy, "rule \"a\"{deny if user.blocked}\n").expect("write");
    let tidy = dir.join("rules/b.rule");
    std::fs::write(&tidy, "rule \"b\" {\n    deny if user.blocked\n}\n").expect("write");
    std::fs::write(dir.join("warden.toml"), "not = [toml").expect("write");
    let d = dir.to_string_lossy().into_owned();

    // --check: a diff, exit 1, nothing written.
    let (code, o) = cli(&["fmt", "--check", &d]);
    assert_eq!(code, 1, "{o:?}");
    assert!(
        o.stdout.contains("-rule \"a\"{deny if user.blocked}") && o.stdout.contains("+    deny if user.blocked"),
        "{}",
        o.stdout
    );
    assert!(!o.stdout.contains("b.rule"), "{}", o.stdout);
    assert!(o.stderr.contains("1 of 2 files would be reformatted"), "{}", o.stderr);
    assert_eq!(std::fs::read_to_string(&messy).expect("read"), "rule \"a\"{deny if user.blocked}\n");

    // Rewriting: only the file that changes; the manifest is left alone.
    let (code, o) = cli(&["fmt", &d]);
    assert_eq!(code, 0, "{o:?}");
    assert!(
        o.stderr.contains("formatted") && o.stderr.contains("a.rule") && !o.stderr.contains("b.rule"),
        "{}",
        o.stderr
    );
    assert_eq!(std::fs::read_to_string(&messy).expect("read"), "rule \"a\" {\n    deny if user.blocked\n}\n");
    assert_eq!(std::fs::read_to_string(dir.join("warden.toml")).expect("read"), "not = [toml");
    let (code, o) = cli(&["fmt", "--check", &d]);
    assert_eq!(code, 0, "{o:?}");
    assert!(o.stderr.contains("2 files already formatted"), "{}", o.stderr);

    // A file that does not parse: its diagnostic, exit 1, the file unchanged.
    let broken = dir.join("rules/c.rule");
    std::fs::write(&broken, "rule \"c\" { deny if }\n").expect("write");
    let (code, o) = cli(&["fmt", &broken.to_string_lossy()]);
    assert_eq!(code, 1, "{o:?}");
    assert!(o.stderr.contains("E0001") && o.stderr.contains("was not formatted: it does not parse"), "{}", o.stderr);
    assert_eq!(std::fs::read_to_string(&broken).expect("read"), "rule \"c\" { deny if }\n");

    // Nothing to format, or a path that is not there: usage errors.
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).expect("mkdir");
    assert_eq!(cli(&["fmt", &empty.to_string_lossy()]).0, 2);
    assert_eq!(cli(&["fmt", &dir.join("missing").to_string_lossy()]).0, 2);
    let _ = std::fs::remove_dir_all(&dir);
}
