//! Every fenced `rule` block in `docs/language.md` parses and checks, and together they use
//! every statement form and built-in the language has.

use warden_tests::root;

fn blocks(doc: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in doc.lines().enumerate() {
        match (&mut current, line.trim_end()) {
            (None, "```rule") => current = Some((i + 1, String::new())),
            (Some(_), "```") => out.push(current.take().expect("in a block")),
            (Some((_, text)), l) => {
                text.push_str(l);
                text.push('\n');
            }
            (None, _) => {}
        }
    }
    out
}

#[test]
fn language_doc_examples_check() {
    let doc = std::fs::read_to_string(root().join("docs/language.md")).expect("docs/language.md");
    let blocks = blocks(&doc);
    assert!(blocks.len() >= 15, "found only {} rule blocks", blocks.len());
    let mut failures = Vec::new();
    for (line, text) in &blocks {
        // Named as if it lived in docs/, so `list("lists/...")` finds docs/lists/.
        let name = root().join("docs").join(format!("language.md-line-{line}.rule"));
        let c = warden_check::check_sources(&[(name.display().to_string(), text.clone())], Default::default());
        for d in c.diagnostics.iter().filter(|d| d.is_error()) {
            failures.push(format!("block at line {line}: {} {}", d.code, d.message));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let all: String = blocks.iter().map(|(_, t)| t.as_str()).collect();
    for construct in [
        "when ",
        "let ",
        "if ",
        "else",
        "deny",
        "unauthorized",
        "access_denied",
        "set user",
        "unset user",
        "claim id_token",
        "claim access_token",
        "scope add",
        "scope remove",
        "scope set",
        "mfa ",
        "remember_browser",
        "with {",
        "redirect ",
        "persist app_metadata",
        "persist user_metadata",
        "log ",
        "${",
        " and ",
        " or ",
        "not ",
        " in ",
        "not in",
        "??",
        " + ",
        " - ",
        " * ",
        " % ",
        "any ",
        "all ",
        "==",
        "!=",
        "<",
        ">",
        "lower(",
        "upper(",
        "trim(",
        "starts_with(",
        "ends_with(",
        "contains(",
        "split(",
        "join(",
        "len(",
        "email_domain(",
        "matches(",
        "ip_in(",
        "now()",
        "days_since(",
        "weekday(",
        "[0]",
        "[\"",
        "null",
        "true",
        "false",
        "1.5",
    ] {
        assert!(all.contains(construct), "docs/language.md has no example using `{construct}`");
    }
}
