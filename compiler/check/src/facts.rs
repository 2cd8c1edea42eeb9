//! What the checker learns about the places of the sources, for editors: recorded only when
//! asked (`check_manifest_in`, `check_file_in` with `facts`), as spans and types.

use std::path::PathBuf;

use warden_syntax::{FileId, Span};

use crate::schema::{CTy, Schema};

/// The facts of one checked pipeline.
#[derive(Debug)]
pub struct Facts {
    /// Every recorded place, in checking order.
    pub refs: Vec<Fact>,
    /// The `.rule` rules, in pipeline order.
    pub rules: Vec<RuleFact>,
    /// `user` and `context` as the manifest's `[schema]` declarations shape them.
    pub schema: Schema,
}

/// One place of a source and what is there.
#[derive(Debug)]
pub struct Fact {
    pub file: FileId,
    pub span: Span,
    pub kind: FactKind,
}

#[derive(Debug)]
pub enum FactKind {
    /// `user.a.b`, `context.x`, `config.KEY` (also a `set`/`unset` target): a path from a
    /// root, with its type.
    Path { root: &'static str, path: Vec<String>, ty: CTy },
    /// A field of a value that is not a path (`m.name` with `m` a quantifier's variable).
    Field { shown: String, ty: CTy },
    /// A use of a `let` or of a quantifier's or comprehension's variable, bound at `def`.
    Local { name: String, ty: CTy, def: Span },
    /// The name a `let`, quantifier or comprehension binds.
    Binding { name: String, ty: CTy, is_let: bool },
    /// The name of a built-in function in a call.
    Builtin { name: &'static str },
    /// The file argument of `list("file")`, resolved against the rule file's directory.
    ListFile { path: PathBuf },
}

/// A rule of a `.rule` file.
#[derive(Debug)]
pub struct RuleFact {
    pub file: FileId,
    pub name: String,
    pub span: Span,
    pub name_span: Span,
}
