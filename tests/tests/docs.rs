//! Documentation that is generated or enumerates code stays true.

use warden_tests::root;

#[test]
fn schema_doc_matches_warden_schema() {
    let doc = std::fs::read_to_string(root().join("docs/schema.md")).expect("docs/schema.md");
    let (code, out) = warden_cli::main_with(&["schema".to_string()], false);
    assert_eq!(code, 0);
    // Not vacuous: `warden schema` prints the whole table (every string ends with "").
    let rows = out.stdout.lines().filter(|l| l.starts_with("| `user.") || l.starts_with("| `context.")).count();
    assert!(out.stdout.contains("| path | type | writable with `set` |"), "no table header: {}", out.stdout);
    assert!(rows >= 100, "`warden schema` printed {rows} field rows");
    assert!(doc.ends_with(&out.stdout), "docs/schema.md is stale: regenerate it with `warden schema`");
}

#[test]
fn every_diagnostic_code_is_documented() {
    let doc = std::fs::read_to_string(root().join("docs/diagnostics.md")).expect("docs/diagnostics.md");
    let documented: Vec<&str> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("| ")?.split_once(" |"))
        .map(|(code, _)| code)
        .filter(|code| code.len() == 5 && (code.starts_with("E0") || code.starts_with("W0")))
        .collect();
    let codes: Vec<&str> = warden_syntax::codes::ALL.iter().map(|(code, _)| *code).collect();
    for code in &codes {
        let rows = documented.iter().filter(|d| *d == code).count();
        assert_eq!(rows, 1, "{code} has {rows} rows in docs/diagnostics.md");
    }
    for code in &documented {
        assert!(codes.contains(code), "docs/diagnostics.md documents {code}, which warden_syntax::codes does not have");
    }
    assert!(codes.len() > 40, "only {} codes", codes.len());
}

/// Diagnostic codes are written once, in `warden_syntax::codes`: every other site names the
/// constant, and every constant is used.
#[test]
fn diagnostic_codes_come_from_the_codes_module() {
    let codes_rs = root().join("compiler/syntax/src/codes.rs");
    let mut files = Vec::new();
    let mut dirs = vec![root().join("compiler"), root().join("runtime"), root().join("cli/src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).expect("dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") && path != codes_rs {
                files.push(path);
            }
        }
    }
    let mut code = String::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("text");
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for (i, _) in line.match_indices("\"E0").chain(line.match_indices("\"W0")) {
                let literal = line.get(i + 1..i + 7).unwrap_or_default();
                let is_code =
                    literal.len() == 6 && literal[1..5].bytes().all(|b| b.is_ascii_digit()) && literal.ends_with('"');
                assert!(!is_code, "{}:{}: write warden_syntax::codes::{}", path.display(), n + 1, &literal[..5]);
            }
            code.push_str(line);
            code.push('\n');
        }
    }
    assert!(files.len() > 30, "found only {} source files", files.len());
    for (c, _) in warden_syntax::codes::ALL {
        let used =
            code.match_indices(c).any(|(i, _)| !code[i + c.len()..].starts_with(|ch: char| ch.is_ascii_alphanumeric()));
        assert!(used, "{c} is never used");
    }
}

/// A cell of a Markdown table showing `text` as code: `|` escaped, and double backticks
/// around text that holds one.
fn code_cell(text: &str) -> String {
    let text = text.replace('|', "\\|");
    if text.contains('`') { format!("`` {text} ``") } else { format!("`{text}`") }
}

#[test]
fn function_table_is_the_builtins_table() {
    let doc = std::fs::read_to_string(root().join("docs/language.md")).expect("docs/language.md");
    let section = doc.split_once("\n### Built-in functions\n").expect("a built-in functions section").1;
    let rows: Vec<&str> = section
        .lines()
        .skip_while(|l| !l.starts_with("| function | result | example |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .collect();
    let mut failures = Vec::new();
    for (i, f) in warden_ir::BUILTINS.iter().enumerate() {
        let (start, end) = (format!("| {} | ", code_cell(f.signature)), format!(" | {} |", code_cell(f.example)));
        match rows.get(i) {
            Some(row) if row.starts_with(&start) && row.ends_with(&end) && row.len() > start.len() + end.len() => {}
            row => failures.push(format!("row {} should be `{start}...{end}`, found {row:?}", i + 1)),
        }
    }
    if rows.len() > warden_ir::BUILTINS.len() {
        failures.push(format!("rows past the last builtin: {:?}", &rows[warden_ir::BUILTINS.len()..]));
    }
    assert!(
        failures.is_empty(),
        "docs/language.md's function table is not warden_ir::BUILTINS:\n{}",
        failures.join("\n")
    );
}

#[test]
fn builtin_examples_hold_on_every_backend() {
    use warden::{Backend, Exec, Pipeline};
    let now = warden::parse_time("2026-11-26T12:00:00Z").expect("a time");
    let (user, context) = (serde_json::json!({"user_id": "auth0|1"}), serde_json::json!({"clientID": "c1"}));
    let mut failures = Vec::new();
    for f in warden_ir::BUILTINS {
        // Named as if it lived in docs/, so `list("lists/...")` finds docs/lists/.
        let name = root().join("docs").join(format!("{}.rule", f.name)).display().to_string();
        let rule = format!("rule \"{}\" {{\n    deny unless {}\n}}\n", f.name, f.example);
        let pipeline = match Pipeline::from_sources(&[(name, rule)], Default::default()) {
            Ok(p) if p.warnings().is_empty() => p,
            Ok(p) => {
                failures.push(format!("`{}`: {:?}", f.example, p.warnings()));
                continue;
            }
            Err(e) => {
                failures.push(format!("`{}` does not load: {e}", f.example));
                continue;
            }
        };
        for backend in [Backend::Interp, Backend::Jit] {
            let outcome = pipeline.execute(&user, &context, &Exec::at(now).on(backend)).expect("the input decodes");
            if outcome.to_json()["decision"] != "allow" {
                failures.push(format!("`{}` does not hold on {backend:?}: {}", f.example, outcome.to_json()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
