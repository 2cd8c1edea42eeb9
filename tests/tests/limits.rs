//! Stated limits, each asserted at its boundary: what the docs promise is accepted is
//! accepted, one step past it is refused with the documented code.

/// The error codes `check` reports for a source.
fn codes(src: &str) -> Vec<String> {
    let c = warden_check::check_source("main.rule", src);
    c.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.code.to_string()).collect()
}

/// Every form of nesting `docs/language.md` names (brackets, blocks, interpolations, operator
/// chains), `n` levels deep inside a rule body.
fn nested(n: usize) -> Vec<(&'static str, String)> {
    let body = |stmt: String| format!("rule \"r\" {{\n    {stmt}\n}}\n");
    vec![
        ("parentheses", body(format!("deny if {}true{}", "(".repeat(n), ")".repeat(n)))),
        ("operators in parentheses", body(format!("deny if {}true{}", "(true and ".repeat(n), ")".repeat(n)))),
        ("lists", body(format!("log {}1{}", "[".repeat(n), "]".repeat(n)))),
        ("calls", body(format!("log {}\"x\"{}", "lower(".repeat(n), ")".repeat(n)))),
        ("interpolations", body(format!("log {}x{}", "\"${".repeat(n), "}\"".repeat(n)))),
        ("blocks", body(format!("{}log \"x\"{}", "if true { ".repeat(n), " }".repeat(n)))),
    ]
}

#[test]
fn nesting_is_limited_to_64_levels() {
    for (what, src) in nested(64) {
        let errors = codes(&src);
        assert!(!errors.contains(&"E0002".to_string()), "64 levels of {what} must be accepted, got {errors:?}");
    }
    for (what, src) in nested(65) {
        let errors = codes(&src);
        assert!(
            errors.contains(&"E0002".to_string()),
            "65 levels of {what} must be refused with E0002, got {errors:?}"
        );
    }
}
