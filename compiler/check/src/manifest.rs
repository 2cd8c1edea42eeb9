//! `warden.toml`: the ordered pipeline, configuration, declared schemas and options.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use warden_ir::ClaimMode;
use warden_syntax::{Diagnostic, FileId, Span, codes};

use crate::schema::{self, CTy};

/// A loaded manifest, paths resolved against its directory.
#[derive(Clone, Debug)]
pub struct Manifest {
    pub path: PathBuf,
    pub dir: PathBuf,
    pub rules: Vec<RuleRef>,
    pub claim_mode: ClaimMode,
    pub timeout_ms: Option<u64>,
    /// `[pipeline] js_memory_mib`: the JavaScript heap limit per runtime.
    pub js_memory_mib: Option<u64>,
    /// `None` when the manifest has no `[configuration]` table (any key may be read).
    pub configuration: Option<BTreeMap<String, ConfigValue>>,
    /// `[bundle] verify_key`: artifacts run with this manifest must be signed by this key.
    pub verify_key: Option<PathBuf>,
    /// `[modules]`: CommonJS files JavaScript rules may `require`, by module name.
    pub modules: Vec<RuleRef>,
}

/// One entry of `[pipeline] rules`.
#[derive(Clone, Debug)]
pub struct RuleRef {
    /// As written in the manifest.
    pub file: String,
    /// Resolved against the manifest's directory.
    pub path: PathBuf,
    /// The name a JavaScript rule reports in outcomes.
    pub name: Option<String>,
    pub span: Span,
}

/// A configuration value: a literal, or the name of an environment variable read at load.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ConfigValue {
    Literal(String),
    Env { env: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestToml {
    pipeline: PipelineToml,
    configuration: Option<BTreeMap<String, ConfigValue>>,
    #[serde(default)]
    schema: BTreeMap<String, toml::Table>,
    bundle: Option<BundleToml>,
    #[serde(default)]
    modules: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BundleToml {
    verify_key: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PipelineToml {
    rules: Vec<RuleEntry>,
    #[serde(default)]
    claim_mode: ClaimMode,
    timeout_ms: Option<u64>,
    js_memory_mib: Option<u64>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RuleEntry {
    Path(String),
    Table { file: String, name: Option<String> },
}

/// Parses a manifest; diagnostics point into `file` (the manifest's text in the source map).
pub fn parse(
    path: &Path,
    file: FileId,
    text: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<(Manifest, BTreeMap<String, CTy>)> {
    let invalid = |e: toml::de::Error, diags: &mut Vec<Diagnostic>| {
        let span = e.span().map_or(Span::new(0, 0), |r| Span::new(r.start, r.end));
        let mut msg = e.message().trim().replace('\n', " ");
        if msg.contains("recursion") {
            msg = format!("tables and arrays nest deeper than {MAX_TOML_DEPTH} levels");
        }
        diags.push(
            Diagnostic::error(codes::E0200, format!("invalid manifest: {msg}"))
                .at(file, span, "here")
                .help("see docs/manifest.md for the keys warden.toml accepts"),
        );
    };
    // First as plain TOML, to bound its nesting before anything walks it.
    let doc: toml::Table = match toml::from_str(text) {
        Ok(t) => t,
        Err(e) => {
            invalid(e, diags);
            return None;
        }
    };
    if let Some(at) = too_deep(&doc) {
        let key = at.rsplit(['.', '[']).next().unwrap_or(&at).trim_end_matches(']');
        let span = text.find(key).map_or(Span::new(0, 0), |i| Span::new(i, i + key.len()));
        diags.push(
            Diagnostic::error(
                codes::E0200,
                format!("invalid manifest: tables and arrays nest deeper than {MAX_TOML_DEPTH} levels"),
            )
            .at(file, span, "too deep")
            .help("see docs/manifest.md for the keys warden.toml accepts"),
        );
        return None;
    }
    drop(doc);
    let raw: ManifestToml = match toml::from_str(text) {
        Ok(m) => m,
        Err(e) => {
            invalid(e, diags);
            return None;
        }
    };
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let key_span = |key: &str| text.find(key).map_or(Span::new(0, 0), |i| Span::new(i, i + key.len()));
    if let Some(ms) = raw.pipeline.timeout_ms.filter(|ms| !(1..=600_000).contains(ms)) {
        diags.push(
            Diagnostic::error(codes::E0200, format!("invalid manifest: timeout_ms = {ms} is out of range"))
                .at(file, key_span("timeout_ms"), "here")
                .help("the pipeline's time budget is between 1 and 600000 milliseconds (default 20000)"),
        );
    }
    if let Some(mib) = raw.pipeline.js_memory_mib.filter(|mib| !(1..=4096).contains(mib)) {
        diags.push(
            Diagnostic::error(codes::E0200, format!("invalid manifest: js_memory_mib = {mib} is out of range"))
                .at(file, key_span("js_memory_mib"), "here")
                .help("the JavaScript heap limit is between 1 and 4096 MiB (default 64)"),
        );
    }
    let find = |needle: &str| {
        let quoted = format!("\"{needle}\"");
        text.find(&quoted).map_or(Span::new(0, 0), |i| Span::new(i, i + quoted.len()))
    };
    let rules = raw
        .pipeline
        .rules
        .into_iter()
        .map(|entry| {
            let (file, name) = match entry {
                RuleEntry::Path(p) => (p, None),
                RuleEntry::Table { file, name } => (file, name),
            };
            let span = find(&file);
            RuleRef { path: dir.join(&file), file, name, span }
        })
        .collect();
    let mut declared = BTreeMap::new();
    for (obj_path, table) in &raw.schema {
        let span = find(obj_path);
        if !schema::DECLARABLE.contains(&obj_path.as_str()) {
            diags.push(
                Diagnostic::error(codes::E0202, format!("`{obj_path}` cannot be declared"))
                    .at(file, span, "not a dynamic object")
                    .help(format!("declarable objects: {}", schema::DECLARABLE.join(", "))),
            );
            continue;
        }
        if let Some(ty) = table_type(table, 1, file, text, diags) {
            declared.insert(obj_path.clone(), ty);
        }
    }
    let verify_key = raw.bundle.and_then(|b| b.verify_key).map(|k| dir.join(k));
    let modules = raw
        .modules
        .iter()
        .map(|(name, file)| RuleRef {
            path: dir.join(file),
            file: file.clone(),
            name: Some(name.clone()),
            span: find(file),
        })
        .collect();
    let manifest = Manifest {
        path: path.to_path_buf(),
        dir,
        rules,
        claim_mode: raw.pipeline.claim_mode,
        timeout_ms: raw.pipeline.timeout_ms,
        js_memory_mib: raw.pipeline.js_memory_mib,
        configuration: raw.configuration,
        verify_key,
        modules,
    };
    Some((manifest, declared))
}

/// The object type a `[schema]` table declares; `depth` is the table's level (the declared
/// object is 1). Recursion is bounded: the TOML document nests at most [`MAX_TOML_DEPTH`].
fn table_type(table: &toml::Table, depth: usize, file: FileId, text: &str, diags: &mut Vec<Diagnostic>) -> Option<CTy> {
    let mut fields = Vec::new();
    let mut ok = true;
    for (key, value) in table {
        let ty = match value {
            toml::Value::String(s) => schema::parse_type(s, depth),
            toml::Value::Table(t) if depth < schema::MAX_TYPE_DEPTH => {
                table_type(t, depth + 1, file, text, diags).ok_or(None)
            }
            toml::Value::Table(_) => Err(Some(depth + 1)),
            _ => Err(None),
        };
        match ty {
            Ok(ty) => fields.push((key.clone(), ty)),
            Err(levels) => {
                ok = false;
                let mut shown = value.to_string();
                let span = text.find(&shown).map_or(Span::new(0, 0), |i| Span::new(i, i + shown.len()));
                if shown.chars().count() > 80 {
                    shown = shown.chars().take(60).chain("…".chars()).collect();
                }
                diags.push(match levels {
                    Some(levels) => Diagnostic::error(
                        codes::E0203,
                        format!("the type of `{key}` nests deeper than {} levels", schema::MAX_TYPE_DEPTH),
                    )
                    .at(file, span, format!("{levels} levels with the objects around it"))
                    .help("declared types nest at most 64 levels (each table and each list<> is one); declare deeper data as \"any\""),
                    None => Diagnostic::error(codes::E0203, format!("invalid type {shown} for `{key}`"))
                        .at(file, span, "not a type")
                        .help("types are \"string\", \"int\", \"float\", \"bool\", \"time\", \"any\", \"list<T>\", or a table of fields"),
                });
            }
        }
    }
    ok.then(|| schema::declared_object(fields))
}

/// How deep tables and arrays may nest inside a manifest's sections (`[pipeline]`,
/// `[schema]`, ...: level 0), as `.rule` files: 64.
pub const MAX_TOML_DEPTH: usize = 64;

/// The dotted path of the first table or array deeper than [`MAX_TOML_DEPTH`], if any.
fn too_deep(table: &toml::Table) -> Option<String> {
    let mut stack: Vec<(&toml::Value, usize, String)> = table.iter().map(|(k, v)| (v, 0, k.clone())).collect();
    while let Some((v, depth, path)) = stack.pop() {
        let children: Vec<(&toml::Value, String)> = match v {
            toml::Value::Table(t) => t.iter().map(|(k, c)| (c, format!("{path}.{k}"))).collect(),
            toml::Value::Array(items) => items.iter().enumerate().map(|(i, c)| (c, format!("{path}[{i}]"))).collect(),
            _ => continue,
        };
        if depth > MAX_TOML_DEPTH {
            return Some(path);
        }
        stack.extend(children.into_iter().map(|(c, p)| (c, depth + 1, p)));
    }
    None
}
