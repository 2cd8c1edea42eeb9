//! warden's `.rule` syntax: text to AST with spans, and the diagnostics every stage reports.
//!
//! ```
//! let (file, diags) = warden_syntax::parse_file(0, r#"rule "r" { deny "no" unless user.email_verified }"#);
//! assert!(diags.is_empty());
//! assert_eq!(file.rules[0].name, "r");
//! ```

pub mod ast;
mod diagnostic;
mod parse;

pub use diagnostic::{Diagnostic, FileId, Related, Severity, SourceFile, SourceMap, Span};
pub use parse::{MAX_DEPTH, parse_file};
