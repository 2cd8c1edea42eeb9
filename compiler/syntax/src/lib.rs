//! warden's `.rule` syntax: text to AST with spans, and the diagnostics every stage reports.
//!
//! ```
//! let (file, diags) = warden_syntax::parse_file(0, r#"rule "r" { deny "no" unless user.email_verified }"#);
//! assert!(diags.is_empty());
//! assert_eq!(file.rules[0].name, "r");
//! ```

pub mod ast;
pub mod codes;
mod diagnostic;
pub mod format;
mod hints;
mod parse;

pub use diagnostic::{Diagnostic, FileId, Related, Severity, SourceFile, SourceMap, Span};
pub use parse::{MAX_DEPTH, MAX_RULE_BYTES, chunk_starts, parse_file};

/// Text without a leading UTF-8 byte-order mark (editors on Windows write one). Every file
/// warden reads as text goes through this, so a BOM is never part of a rule, a list entry,
/// a key or an input.
pub fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{FEFF}').unwrap_or(text)
}

/// [`strip_bom`] on bytes (JSON inputs, before they are parsed).
pub fn strip_bom_bytes(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}
