//! What editors ask of a project (the language server, `warden lsp`): diagnostics per file
//! with unsaved buffers taken into account, and, at a byte offset of a file, hover text,
//! completions, the definition, and a file's rules. Answers are typed summaries in the
//! sources' coordinates (byte spans); no IR or checker type leaves this module.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use warden_check::facts::{Fact, FactKind, Facts};
use warden_check::schema::{CTy, DECLARABLE, Schema};
use warden_check::{Compiled, ConfigValue, normalize};
use warden_syntax::{Diagnostic, FileId, Span};

/// Unsaved editor buffers, read instead of the files at their paths.
pub use warden_check::Overlays;

/// The file name of a project's manifest.
pub const MANIFEST_NAME: &str = "warden.toml";

/// The manifest of the project `file` belongs to: the nearest `warden.toml` in the file's
/// directory or above it.
pub fn find_manifest(file: &Path) -> Option<PathBuf> {
    let start = if file.file_name().is_some_and(|n| n == MANIFEST_NAME) { Some(file) } else { file.parent() };
    start?.ancestors().map(|d| d.join(MANIFEST_NAME)).find(|m| m.is_file())
}

/// One checked project: a manifest and its files, or a lone `.rule` file.
#[derive(Debug)]
pub struct Analysis {
    root: PathBuf,
    compiled: Compiled,
    /// Diagnostics the engine adds to the checker's (literal configuration values).
    extra: Vec<Diagnostic>,
    /// Normalized path of each source, by `FileId`.
    paths: Vec<PathBuf>,
}

/// Diagnostics of one file (empty when it has none, so that editors clear old ones).
#[derive(Clone, Debug)]
pub struct FileDiagnostics {
    pub path: PathBuf,
    /// Each with a file and a span: one about the project as a whole (a manifest that cannot
    /// be read, say) is placed at the start of the project's first file.
    pub diagnostics: Vec<Diagnostic>,
}

/// What to show when the pointer rests on a place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hover {
    /// The place described.
    pub span: Span,
    /// A line of `.rule` code: the path, name or signature, with its type (`user.email: string`).
    pub code: String,
    /// What it is, in Markdown.
    pub doc: String,
}

/// What a completion inserts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompletionKind {
    /// A field of `user`, `context` or an object.
    Field,
    /// A built-in function.
    Function,
    /// A statement or expression keyword.
    Keyword,
    /// A `let` name, or `user`, `context`, `config`.
    Variable,
    /// A `[configuration]` key after `config.`.
    ConfigKey,
    /// A file for `list("...")`, relative to the rule file.
    File,
}

/// One completion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    pub label: String,
    pub kind: CompletionKind,
    /// A short line: a type or a signature.
    pub detail: String,
    /// More, in Markdown (may be empty).
    pub doc: String,
}

/// A place in a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub path: PathBuf,
    pub span: Span,
}

/// A rule of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    /// The whole rule.
    pub span: Span,
    /// Its name (with the quotes).
    pub name_span: Span,
}

/// The keywords that start a statement, then those inside expressions.
const STATEMENT_KEYWORDS: &[(&str, &str)] = &[
    ("rule", "rule \"name\" { ... }"),
    ("when", "when COND: the rest of the rule runs only if COND holds"),
    ("let", "let NAME = EXPR"),
    ("if", "if COND { ... } else { ... }"),
    ("deny", "deny [unauthorized|access_denied] [MESSAGE]"),
    ("set", "set user.PATH = EXPR"),
    ("unset", "unset user.PATH"),
    ("claim", "claim id_token|access_token \"NAME\" = EXPR"),
    ("scope", "scope add|remove|set EXPR, ..."),
    ("mfa", "mfa PROVIDER [remember_browser BOOL] [with { ... }]"),
    ("redirect", "redirect URL"),
    ("persist", "persist app_metadata.KEY = EXPR"),
    ("log", "log EXPR"),
];
const EXPRESSION_KEYWORDS: &[&str] =
    &["else", "unless", "and", "or", "not", "in", "any", "all", "for", "true", "false", "null"];

impl Analysis {
    /// Checks the project a `warden.toml` describes, with `overlays` over its files.
    pub fn of_manifest(path: &Path, overlays: &Overlays) -> Analysis {
        let path = normalize(path);
        let compiled = warden_check::check_manifest_in(&path, overlays, true);
        let extra = match (&compiled.program, &compiled.manifest) {
            (Some(p), Some(m)) => crate::report::config_diagnostics(p, m, &compiled.sources),
            _ => Vec::new(),
        };
        Analysis::new(path, compiled, extra)
    }

    /// Checks the project `file` belongs to: the manifest found upward from it when the
    /// manifest lists it (or it is the manifest), else the file alone.
    pub fn of_file(file: &Path, overlays: &Overlays) -> Analysis {
        let file = normalize(file);
        if let Some(m) = find_manifest(&file) {
            let a = Analysis::of_manifest(&m, overlays);
            if a.file_id(&file).is_some() || file.extension().is_none_or(|x| x != "rule") {
                return a;
            }
        }
        let compiled = warden_check::check_file_in(&file, overlays, true);
        Analysis::new(file, compiled, Vec::new())
    }

    fn new(root: PathBuf, compiled: Compiled, extra: Vec<Diagnostic>) -> Analysis {
        let paths = compiled.sources.files.iter().map(|f| normalize(Path::new(&f.path))).collect();
        Analysis { root, compiled, extra, paths }
    }

    /// The project's manifest, or the lone file checked.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every file checked (manifest, rule files, JavaScript rules, modules).
    pub fn files(&self) -> &[PathBuf] {
        &self.paths
    }

    /// The path of a diagnostic's file.
    pub fn path_of(&self, file: FileId) -> Option<&Path> {
        self.paths.get(file as usize).map(PathBuf::as_path)
    }

    /// The text of a checked file, as checked (without a byte-order mark): spans index it.
    pub fn text(&self, path: &Path) -> Option<&str> {
        let id = self.file_id(path)?;
        Some(self.compiled.sources.get(id).text.as_str())
    }

    fn file_id(&self, path: &Path) -> Option<FileId> {
        let path = normalize(path);
        self.paths.iter().position(|p| *p == path).map(|i| i as FileId)
    }

    /// Every file's diagnostics, in file order.
    pub fn diagnostics(&self) -> Vec<FileDiagnostics> {
        let mut by_file: Vec<FileDiagnostics> =
            self.paths.iter().map(|p| FileDiagnostics { path: p.clone(), diagnostics: Vec::new() }).collect();
        if by_file.is_empty() {
            by_file.push(FileDiagnostics { path: self.root.clone(), diagnostics: Vec::new() });
        }
        for d in self.compiled.diagnostics.iter().chain(&self.extra) {
            let mut d = d.clone();
            let file = match (d.file, d.span) {
                (Some(f), Some(_)) if (f as usize) < by_file.len() => f as usize,
                _ => {
                    d.file = Some(0);
                    d.span = Some(Span::new(0, 0));
                    0
                }
            };
            d.related.retain(|r| (r.file as usize) < self.paths.len());
            by_file[file].diagnostics.push(d);
        }
        by_file
    }

    fn facts(&self) -> Option<&Facts> {
        self.compiled.facts.as_ref()
    }

    /// The innermost recorded place of `file` holding `offset`.
    fn fact_at(&self, file: FileId, offset: usize) -> Option<&Fact> {
        let offset = offset as u32;
        let holds = |f: &&Fact| f.file == file && f.span.start <= offset && offset < f.span.end;
        let at_end = |f: &&Fact| f.file == file && f.span.start < offset && offset == f.span.end;
        let refs = &self.facts()?.refs;
        refs.iter()
            .filter(holds)
            .min_by_key(|f| f.span.len())
            .or_else(|| refs.iter().filter(at_end).min_by_key(|f| f.span.len()))
    }

    /// What the place at `offset` of `path` is, if warden knows.
    pub fn hover(&self, path: &Path, offset: usize) -> Option<Hover> {
        let file = self.file_id(path)?;
        let fact = self.fact_at(file, offset)?;
        let (code, doc) = match &fact.kind {
            FactKind::Path { root: "config", path, ty } => {
                let key = path.first().map(String::as_str).unwrap_or_default();
                (format!("config.{key}: {}", ty.name()), self.config_doc(key))
            }
            FactKind::Path { root, path, ty } => {
                let shown = std::iter::once(*root).chain(path.iter().map(String::as_str)).collect::<Vec<_>>().join(".");
                (format!("{shown}: {}", ty.name()), path_doc(&shown, ty, self.writable(root, path)))
            }
            FactKind::Field { shown, ty } => (format!("{shown}: {}", ty.name()), type_doc(ty)),
            FactKind::Local { name, ty, def } => {
                let is_let = self.facts().is_some_and(|f| {
                    f.refs.iter().any(|r| {
                        r.file == file && r.span == *def && matches!(r.kind, FactKind::Binding { is_let: true, .. })
                    })
                });
                local_hover(name, ty, is_let)
            }
            FactKind::Binding { name, ty, is_let } => local_hover(name, ty, *is_let),
            FactKind::Builtin { name } => {
                let f = warden_ir::builtins::lookup(name)?;
                (f.signature.to_string(), format!("built-in function\n\nexample: `{}`", f.example))
            }
            FactKind::ListFile { path } => (
                format!("list({:?})", path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()),
                format!(
                    "a list file: one string per line, blank lines and `#` comments skipped\n\n`{}`",
                    path.display()
                ),
            ),
        };
        Some(Hover { span: fact.span, code, doc })
    }

    /// Whether `set` may write the path.
    fn writable(&self, root: &str, path: &[String]) -> bool {
        if root != "user" {
            return false;
        }
        let mut ty = self.schema_root(root);
        for p in path {
            ty = match &ty {
                CTy::Obj(shape) => match shape.field(p) {
                    Some(f) if !f.writable => return false,
                    Some(f) => f.ty.clone(),
                    None => return true,
                },
                _ => return true,
            };
        }
        true
    }

    fn schema_root(&self, root: &str) -> CTy {
        static DEFAULT: std::sync::OnceLock<Schema> = std::sync::OnceLock::new();
        let schema = match self.facts() {
            Some(f) => &f.schema,
            None => DEFAULT.get_or_init(|| Schema::new(&BTreeMap::new())),
        };
        if root == "user" { schema.user.clone() } else { schema.context.clone() }
    }

    /// The declaration of a configuration key, as the manifest writes it.
    fn config_doc(&self, key: &str) -> String {
        let manifest = self.compiled.manifest.as_ref();
        let Some(entries) = manifest.and_then(|m| m.configuration.as_ref()) else {
            return "the manifest has no `[configuration]` table: any key may be read, a string given with `--config`"
                .into();
        };
        let Some(entry) = entries.get(key) else {
            return "not declared in `[configuration]`".into();
        };
        format!("declared in `warden.toml`:\n\n```toml\n{key} = {}\n```", config_decl(&entry.value, entry.ty))
    }

    /// Where the name or file at `offset` of `path` is defined: a `let` or a quantifier's
    /// variable, a `list()` file, a `config` key's entry in the manifest, a file listed in the
    /// manifest.
    pub fn definition(&self, path: &Path, offset: usize) -> Option<Location> {
        let file = self.file_id(path)?;
        let here = self.paths.get(file as usize)?;
        if let Some(m) = &self.compiled.manifest
            && normalize(&m.path) == *here
        {
            let o = offset as u32;
            let entry = m.rules.iter().chain(&m.modules).find(|r| r.span.start <= o && o <= r.span.end)?;
            return Some(Location { path: normalize(&entry.path), span: Span::new(0, 0) });
        }
        match &self.fact_at(file, offset)?.kind {
            FactKind::Local { def, .. } => Some(Location { path: here.clone(), span: *def }),
            FactKind::ListFile { path } => Some(Location { path: normalize(path), span: Span::new(0, 0) }),
            FactKind::Path { root: "config", path, .. } => {
                let m = self.compiled.manifest.as_ref()?;
                let entry = m.configuration.as_ref()?.get(path.first()?)?;
                Some(Location { path: normalize(&m.path), span: entry.span })
            }
            _ => None,
        }
    }

    /// The rules of a `.rule` file, in order: as checked, and, for a rule that does not parse
    /// (being typed), from its `rule "name"` line to the next rule.
    pub fn symbols(&self, path: &Path) -> Vec<Symbol> {
        let Some(file) = self.file_id(path) else { return Vec::new() };
        let checked: Vec<Symbol> = self.facts().map_or_else(Vec::new, |facts| {
            let rules = facts.rules.iter().filter(|r| r.file == file);
            rules.map(|r| Symbol { name: r.name.clone(), span: r.span, name_span: r.name_span }).collect()
        });
        let text = &self.compiled.sources.get(file).text;
        let starts = warden_syntax::chunk_starts(text);
        let mut out = Vec::with_capacity(starts.len());
        for (i, &start) in starts.iter().enumerate() {
            if let Some(s) = checked.iter().find(|s| s.span.start as usize == start) {
                out.push(s.clone());
                continue;
            }
            let end = starts.get(i + 1).map_or(text.len(), |&e| e);
            let end = start + text[start..end].trim_end().len();
            let Some((name, name_span)) = rule_name(text, start) else { continue };
            out.push(Symbol { name, span: Span::new(start, end), name_span });
        }
        out
    }

    /// What may be written at `offset` of `path`: fields after `user.`, `context.` and an
    /// object's name, keys after `config.`, files in `list("`, else names, built-in functions
    /// and keywords. Read from the text before the offset, so it works in a rule that does
    /// not parse yet.
    pub fn completions(&self, path: &Path, offset: usize) -> Vec<Completion> {
        let Some(file) = self.file_id(path) else { return Vec::new() };
        let text = &self.compiled.sources.get(file).text;
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = &before[before.rfind('\n').map_or(0, |i| i + 1)..];
        if let Some(at) = line.rfind("list(\"")
            && !line[at + 6..].contains('"')
        {
            return list_files(path);
        }
        let word_start = line
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
            .last()
            .map_or(line.len(), |(i, _)| i);
        let word = &line[word_start..];
        if let Some((base, _)) = word.rsplit_once('.') {
            return self.members(file, offset, base);
        }
        self.names(file, offset, before)
    }

    /// The members of `base` (`user.app_metadata`, `config`, a local's name).
    fn members(&self, file: FileId, offset: usize, base: &str) -> Vec<Completion> {
        let mut parts = base.split('.');
        let root = parts.next().unwrap_or_default();
        if root == "config" {
            if parts.next().is_some() {
                return Vec::new();
            }
            return self.config_keys();
        }
        let mut ty = match root {
            "user" | "context" => self.schema_root(root),
            name => match self.local_type(file, offset, name) {
                Some(t) => t,
                None => return Vec::new(),
            },
        };
        for p in parts {
            ty = match &ty {
                CTy::Obj(shape) => match shape.field(p) {
                    Some(f) => f.ty.clone(),
                    None => return Vec::new(),
                },
                _ => return Vec::new(),
            };
        }
        let CTy::Obj(shape) = ty else { return Vec::new() };
        shape
            .fields
            .iter()
            .map(|f| {
                let shown = format!("{base}.{}", f.name);
                Completion {
                    label: f.name.clone(),
                    kind: CompletionKind::Field,
                    detail: f.ty.name(),
                    doc: path_doc(&shown, &f.ty, root == "user" && f.writable),
                }
            })
            .collect()
    }

    /// The type of the local `name` bound last before `offset` in `file`.
    fn local_type(&self, file: FileId, offset: usize, name: &str) -> Option<CTy> {
        let facts = self.facts()?;
        facts.refs.iter().rev().filter(|f| f.file == file && (f.span.start as usize) < offset).find_map(|f| {
            match &f.kind {
                FactKind::Binding { name: n, ty, .. } if n == name => Some(ty.clone()),
                _ => None,
            }
        })
    }

    fn config_keys(&self) -> Vec<Completion> {
        let Some(entries) = self.compiled.manifest.as_ref().and_then(|m| m.configuration.as_ref()) else {
            return Vec::new();
        };
        entries
            .iter()
            .map(|(key, e)| Completion {
                label: key.clone(),
                kind: CompletionKind::ConfigKey,
                detail: e.ty.name().to_string(),
                doc: format!("```toml\n{key} = {}\n```", config_decl(&e.value, e.ty)),
            })
            .collect()
    }

    /// Names that may start an expression or a statement here.
    fn names(&self, file: FileId, offset: usize, before: &str) -> Vec<Completion> {
        let mut out = Vec::new();
        // The `let`s of the rule so far, read from its text (it may not parse yet).
        let rule_text = before.rfind("rule ").map_or(before, |i| &before[i..]);
        let mut seen = std::collections::BTreeSet::new();
        for line in rule_text.lines() {
            let Some(rest) = line.trim_start().strip_prefix("let ") else { continue };
            let name: String =
                rest.trim_start().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() && seen.insert(name.clone()) {
                let detail = self.local_type(file, offset, &name).map_or_else(String::new, |t| t.name());
                out.push(Completion { label: name, kind: CompletionKind::Variable, detail, doc: String::new() });
            }
        }
        for (root, doc) in [
            ("user", "the user profile (docs/schema.md)"),
            ("context", "the transaction context (docs/schema.md)"),
            ("config", "the tenant configuration: `config.KEY`"),
        ] {
            out.push(Completion {
                label: root.into(),
                kind: CompletionKind::Variable,
                detail: "object".into(),
                doc: doc.into(),
            });
        }
        for f in warden_ir::BUILTINS {
            out.push(Completion {
                label: f.name.into(),
                kind: CompletionKind::Function,
                detail: f.signature.into(),
                doc: format!("example: `{}`", f.example),
            });
        }
        for (k, doc) in STATEMENT_KEYWORDS {
            out.push(Completion {
                label: (*k).into(),
                kind: CompletionKind::Keyword,
                detail: (*doc).into(),
                doc: String::new(),
            });
        }
        for k in EXPRESSION_KEYWORDS {
            out.push(Completion {
                label: (*k).into(),
                kind: CompletionKind::Keyword,
                detail: String::new(),
                doc: String::new(),
            });
        }
        out
    }
}

/// The name of the rule whose `rule` keyword is at `start`, and its span with the quotes.
fn rule_name(text: &str, start: usize) -> Option<(String, Span)> {
    let line = text[start..].lines().next()?;
    let open = line.find('"')?;
    let close = open + 1 + line[open + 1..].find('"')?;
    Some((line[open + 1..close].to_string(), Span::new(start + open, start + close + 1)))
}

fn local_hover(name: &str, ty: &CTy, is_let: bool) -> (String, String) {
    if is_let {
        (format!("let {name}: {}", ty.name()), type_doc(ty))
    } else {
        (format!("{name}: {}", ty.name()), format!("the variable of a quantifier or comprehension\n\n{}", type_doc(ty)))
    }
}

/// How a `[configuration]` entry is written (the value of a literal, the variable's name,
/// never an environment variable's contents).
fn config_decl(value: &ConfigValue, ty: warden_ir::ConfigType) -> String {
    let typed = ty != warden_ir::ConfigType::Str;
    match (value, typed) {
        (ConfigValue::Literal(v), false) => format!("{v:?}"),
        (ConfigValue::Literal(v), true) => format!("{{ value = {v:?}, type = {:?} }}", ty.name()),
        (ConfigValue::Env { env }, false) => format!("{{ env = {env:?} }}"),
        (ConfigValue::Env { env }, true) => format!("{{ env = {env:?}, type = {:?} }}", ty.name()),
    }
}

/// The documentation of a `user`/`context` path: its type and whether `set` may write it.
fn path_doc(shown: &str, ty: &CTy, writable: bool) -> String {
    let mut doc = type_doc(ty);
    if let Some((_, about)) = warden_check::schema::FIELD_DOCS.iter().find(|(p, _)| *p == shown) {
        doc = format!("{about}\n\n{doc}");
    }
    if DECLARABLE.contains(&shown) {
        doc.push_str("\n\ndeclare its shape under `[schema]` in `warden.toml`");
    }
    if shown.starts_with("user.") {
        doc.push_str(if writable { "\n\nwritable with `set`" } else { "\n\nread-only" });
    } else if shown.starts_with("context.") {
        doc.push_str("\n\nread-only");
    }
    doc
}

/// A type in words: its values or fields.
fn type_doc(ty: &CTy) -> String {
    match ty {
        CTy::Enum(values) => {
            format!("a string, one of {}", values.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", "))
        }
        CTy::Time => "a date-time (an RFC 3339 string or epoch milliseconds in the input)".into(),
        CTy::Obj(shape) if !shape.fields.is_empty() => {
            let names: Vec<String> = shape.fields.iter().take(12).map(|f| format!("`{}`", f.name)).collect();
            let more = if shape.fields.len() > 12 { ", ..." } else { "" };
            format!("an object with fields {}{more}", names.join(", "))
        }
        CTy::Null | CTy::Dyn => "data of no declared shape (`any`), checked at run time".into(),
        other => format!("a value of type `{}`; may be missing (`null`)", other.name()),
    }
}

/// Files a `list("...")` in `rule_file` may name: text files beside it and below, by path
/// relative to its directory (at most 200, three levels down).
fn list_files(rule_file: &Path) -> Vec<Completion> {
    let Some(dir) = rule_file.parent() else { return Vec::new() };
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), 0usize)];
    while let Some((d, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(kind) = e.file_type() else { continue };
            if kind.is_dir() && depth < 2 && !e.file_name().to_string_lossy().starts_with('.') {
                stack.push((p, depth + 1));
            } else if kind.is_file() && out.len() < 200 {
                let ext = p.extension().and_then(|x| x.to_str()).unwrap_or("");
                if matches!(ext, "rule" | "js" | "toml" | "json" | "md" | "pem" | "pub" | "key" | "wbundle") {
                    continue;
                }
                let Ok(rel) = p.strip_prefix(dir) else { continue };
                out.push(Completion {
                    label: rel.to_string_lossy().replace('\\', "/"),
                    kind: CompletionKind::File,
                    detail: "list file".into(),
                    doc: String::new(),
                });
            }
        }
    }
    out.sort_by(|a, b| a.label.cmp(&b.label));
    out
}
