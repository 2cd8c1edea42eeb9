//! The TextMate grammar of `.rule` files (`editors/vscode`): its scopes on the sample files
//! match the committed snapshots (`vscode-tmgrammar-snap`, installed by `npm ci`), and its
//! word lists match the language (the pest grammar's keywords, the checker's builtins).
//! To accept a grammar change: `cd editors/vscode && npx vscode-tmgrammar-snap --grammar
//! syntaxes/warden.tmLanguage.json --scope source.warden -u 'test/*.rule'`.

use std::collections::BTreeSet;

use serde_json::Value as Json;
use warden_tests::{root, vscode_extension};

fn grammar() -> Json {
    let text = std::fs::read_to_string(root().join("editors/vscode/syntaxes/warden.tmLanguage.json")).expect("grammar");
    serde_json::from_str(&text).expect("the grammar is JSON")
}

/// Every `match` and `begin` pattern of the grammar.
fn patterns(v: &Json, out: &mut Vec<(String, String)>) {
    match v {
        Json::Object(m) => {
            let name = m.get("name").and_then(Json::as_str).unwrap_or_default().to_string();
            for key in ["match", "begin"] {
                if let Some(p) = m.get(key).and_then(Json::as_str) {
                    out.push((name.clone(), p.to_string()));
                }
            }
            m.values().for_each(|x| patterns(x, out));
        }
        Json::Array(a) => a.iter().for_each(|x| patterns(x, out)),
        _ => {}
    }
}

/// The words of a pattern's alternations (`\b(a|b|c)\b`).
fn words(pattern: &str) -> BTreeSet<String> {
    pattern
        .split(['(', ')', '|'])
        .map(|w| w.trim_start_matches("\\b").trim_end_matches("\\b").trim_start_matches("?:"))
        .filter(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .map(String::from)
        .collect()
}

#[test]
fn the_grammar_knows_every_keyword_and_builtin() {
    let mut all = Vec::new();
    patterns(&grammar(), &mut all);
    let every_word: BTreeSet<String> = all.iter().flat_map(|(_, p)| words(p)).collect();

    // Keywords and the words of statements, from the pest grammar.
    let pest = std::fs::read_to_string(root().join("grammar/warden.pest")).expect("pest grammar");
    let mut language = BTreeSet::new();
    for rule in ["keyword", "deny_code", "token_kind", "scope_op", "mfa_provider", "metadata"] {
        let line = pest.lines().skip_while(|l| !l.starts_with(&format!("{rule} "))).collect::<Vec<_>>().join(" ");
        let body = line.split_once("@{").map(|(_, b)| b).and_then(|b| b.split_once("~ !ident_char")).map(|(b, _)| b);
        let body = body.unwrap_or_default();
        assert!(!body.is_empty(), "`{rule}` not found in grammar/warden.pest");
        language.extend(body.split('"').skip(1).step_by(2).map(String::from));
    }
    assert!(language.len() > 35, "{language:?}");
    let missing: Vec<&String> = language.iter().filter(|w| !every_word.contains(*w)).collect();
    assert!(missing.is_empty(), "words of the language the TextMate grammar does not know: {missing:?}");

    // Builtins: exactly the checker's table.
    let builtin: Vec<&(String, String)> = all.iter().filter(|(n, _)| n == "support.function.builtin.warden").collect();
    assert_eq!(builtin.len(), 1);
    let highlighted = words(&builtin[0].1);
    let table: BTreeSet<String> = warden_ir::builtins::BUILTINS.iter().map(|f| f.name.to_string()).collect();
    assert_eq!(highlighted, table, "the grammar's builtins differ from warden_ir::builtins::BUILTINS");
}

#[test]
fn scopes_match_the_snapshots() {
    let dir = vscode_extension();
    let samples: Vec<_> = std::fs::read_dir(dir.join("test"))
        .expect("editors/vscode/test")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "rule"))
        .collect();
    assert!(samples.len() >= 3);
    for s in &samples {
        assert!(s.with_extension("rule.snap").is_file(), "{} has no snapshot", s.display());
    }
    let out = std::process::Command::new(dir.join("node_modules/.bin/vscode-tmgrammar-snap"))
        .args(["--grammar", "syntaxes/warden.tmLanguage.json", "--scope", "source.warden", "test/*.rule"])
        .current_dir(&dir)
        .output()
        .expect("vscode-tmgrammar-snap runs");
    assert!(
        out.status.success(),
        "the grammar's scopes changed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
