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
    let mut found = 0;
    let mut files = Vec::new();
    let mut dirs = vec![root().join("compiler/syntax/src"), root().join("compiler/check/src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).expect("dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() { dirs.push(path) } else { files.push(path) }
        }
    }
    {
        for path in files {
            let text = std::fs::read_to_string(path).expect("text");
            for (i, _) in text.match_indices("\"E0").chain(text.match_indices("\"W0")) {
                let code = &text[i + 1..i + 6];
                found += 1;
                assert!(doc.contains(&format!("| {code} |")), "{code} is not in docs/diagnostics.md");
            }
        }
    }
    assert!(found > 30);
}
