//! `warden.toml`: the ordered pipeline, configuration, declared schemas and options.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use warden_ir::{ClaimMode, ConfigType};
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
    pub configuration: Option<BTreeMap<String, ConfigEntry>>,
    /// `[configuration]` keys whose entries are not valid (reported while parsing): rules
    /// may read them (as `any`) without another error.
    pub invalid_config: Vec<String>,
    /// `[bundle] verify_key`: artifacts run with this manifest must be signed by this key.
    pub verify_key: Option<PathBuf>,
    /// `[modules]`: CommonJS files JavaScript rules may `require`, by module name.
    pub modules: Vec<RuleRef>,
    /// `[http]`: what JavaScript rules may reach; `None` when the manifest has no `[http]`.
    pub http: Option<warden_ir::HttpPolicy>,
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

/// One `[configuration]` entry: `KEY = "literal"`, `KEY = { env = "VAR" }`, or either with a
/// type, `KEY = { value = "100", type = "int" }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigEntry {
    pub value: ConfigValue,
    /// `string` unless the entry says otherwise.
    pub ty: ConfigType,
    /// The entry's value in the manifest (where a diagnostic about it points).
    pub span: Span,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestToml {
    pipeline: PipelineToml,
    configuration: Option<toml::Table>,
    #[serde(default)]
    schema: BTreeMap<String, toml::Table>,
    bundle: Option<BundleToml>,
    #[serde(default)]
    modules: BTreeMap<String, String>,
    http: Option<HttpToml>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpToml {
    #[serde(default)]
    allow: Vec<String>,
    max_requests: Option<u32>,
    max_response_bytes: Option<u64>,
    timeout_ms: Option<u64>,
    max_redirects: Option<u32>,
    #[serde(default)]
    resolve: BTreeMap<String, String>,
    ca_file: Option<String>,
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
    let mut invalid_config = Vec::new();
    let configuration =
        raw.configuration.as_ref().map(|table| configuration(table, file, text, diags, &mut invalid_config));
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
    let http = raw.http.map(|h| http_policy(h, &dir, file, text, diags));
    let manifest = Manifest {
        path: path.to_path_buf(),
        dir,
        rules,
        claim_mode: raw.pipeline.claim_mode,
        timeout_ms: raw.pipeline.timeout_ms,
        js_memory_mib: raw.pipeline.js_memory_mib,
        configuration,
        invalid_config,
        verify_key,
        modules,
        http,
    };
    Some((manifest, declared))
}

/// The `[http]` policy, each entry checked (E0200 at the entry that is not valid).
fn http_policy(
    h: HttpToml,
    dir: &Path,
    file: FileId,
    text: &str,
    diags: &mut Vec<Diagnostic>,
) -> warden_ir::HttpPolicy {
    use warden_ir::HttpPolicy as P;
    let section = text.find("[http]").unwrap_or(0);
    let span_of = |needle: &str| {
        text.get(section..)
            .and_then(|rest| rest.find(needle))
            .map_or(Span::new(0, 0), |i| Span::new(section + i, section + i + needle.len()))
    };
    let mut error = |needle: &str, msg: String, help: &str| {
        diags.push(
            Diagnostic::error(codes::E0200, format!("invalid manifest: {msg}"))
                .at(file, span_of(needle), "here")
                .help(help.to_string()),
        );
    };
    let mut allow = Vec::new();
    for entry in &h.allow {
        match allow_entry(entry) {
            Ok(normal) => allow.push(normal),
            Err(why) => error(
                &format!("\"{entry}\""),
                format!("`{entry}` in [http] allow {why}"),
                "an allow entry is an origin (`https://api.example.com`) or a URL prefix (`https://hooks.example.com/services/`)",
            ),
        }
    }
    let mut ranged = |key: &str, value: Option<u64>, range: std::ops::RangeInclusive<u64>, default: u64| match value {
        Some(v) if !range.contains(&v) => {
            error(
                key,
                format!("[http] {key} = {v} is out of range"),
                &format!("{key} is between {} and {} (default {default})", range.start(), range.end()),
            );
            default
        }
        Some(v) => v,
        None => default,
    };
    let max_requests =
        ranged("max_requests", h.max_requests.map(u64::from), 1..=1000, u64::from(P::DEFAULT_MAX_REQUESTS)) as u32;
    let max_response_bytes =
        ranged("max_response_bytes", h.max_response_bytes, 1..=64 * 1024 * 1024, P::DEFAULT_MAX_RESPONSE_BYTES);
    let timeout_ms = ranged("timeout_ms", h.timeout_ms, 1..=600_000, P::DEFAULT_TIMEOUT_MS);
    let max_redirects =
        ranged("max_redirects", h.max_redirects.map(u64::from), 0..=20, u64::from(P::DEFAULT_MAX_REDIRECTS)) as u32;
    let mut resolve = BTreeMap::new();
    for (from, to) in &h.resolve {
        let from_ok = from.rsplit_once(':').is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
        if !from_ok {
            error(
                from,
                format!("[http] resolve key `{from}` is not `host:port`"),
                "write `\"api.example.com:443\" = \"127.0.0.1:8443\"`",
            );
        } else if to.parse::<std::net::SocketAddr>().is_err() {
            error(
                to,
                format!("[http] resolve value `{to}` is not `ip:port`"),
                "write `\"api.example.com:443\" = \"127.0.0.1:8443\"`",
            );
        } else {
            resolve.insert(from.to_ascii_lowercase(), to.clone());
        }
    }
    let ca_pem = h.ca_file.and_then(|f| match std::fs::read_to_string(dir.join(&f)) {
        Ok(pem) if pem.contains("-----BEGIN CERTIFICATE-----") => Some(pem),
        Ok(_) => {
            error(
                &f,
                format!("[http] ca_file `{f}` holds no PEM certificate"),
                "give a file of `-----BEGIN CERTIFICATE-----` blocks",
            );
            None
        }
        Err(e) => {
            error(&f, format!("[http] ca_file `{f}` cannot be read: {e}"), "the path is relative to warden.toml");
            None
        }
    });
    warden_ir::HttpPolicy { allow, max_requests, max_response_bytes, timeout_ms, max_redirects, resolve, ca_pem }
}

/// An allow entry in its normal form (`scheme://host[:port]/path`), or why it is not one.
pub fn allow_entry(entry: &str) -> Result<String, &'static str> {
    let url = url::Url::parse(entry).map_err(|_| "is not a URL")?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be http:// or https://");
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("has no host");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("cannot hold credentials");
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("cannot have a query or a fragment");
    }
    Ok(url.as_str().to_string())
}

/// The `[configuration]` entries. An entry that is not valid is reported (E0200 for its shape,
/// E0205 for an unknown type) and its key added to `invalid` instead.
fn configuration(
    table: &toml::Table,
    file: FileId,
    text: &str,
    diags: &mut Vec<Diagnostic>,
    invalid: &mut Vec<String>,
) -> BTreeMap<String, ConfigEntry> {
    // Spans: the first occurrence after the `[configuration]` header (or from the start).
    let section = text.find("[configuration]").unwrap_or(0);
    let span_of = |needle: &str, from: usize| {
        text.get(from..)
            .and_then(|rest| rest.find(needle))
            .map_or(Span::new(0, 0), |i| Span::new(from + i, from + i + needle.len()))
    };
    let mut out = BTreeMap::new();
    for (key, entry) in table {
        // The key at the start of a line, else anywhere after the header.
        let at = match span_of(&format!("\n{key}"), section) {
            s if s.end > 0 => Span::new(s.start as usize + 1, s.end as usize),
            _ => span_of(key, section),
        };
        let shape_error = |diags: &mut Vec<Diagnostic>, msg: String| {
            diags.push(
                Diagnostic::error(codes::E0200, format!("invalid manifest: {msg}"))
                    .at(file, at, "here")
                    .help(format!(
                        "write `{key} = \"value\"`, `{key} = {{ env = \"VARIABLE\" }}`, or either with a type: `{key} = {{ value = \"100\", type = \"int\" }}`"
                    )),
            );
        };
        let (value, ty) = match entry {
            toml::Value::String(v) => (ConfigValue::Literal(v.clone()), None),
            toml::Value::Table(t) => {
                let string = |name: &str| t.get(name).map(|v| v.as_str().map(String::from).ok_or(name.to_string()));
                if let Some(other) = t.keys().find(|k| !matches!(k.as_str(), "value" | "env" | "type")) {
                    shape_error(diags, format!("configuration key `{key}` has an unknown field `{other}`"));
                    invalid.push(key.clone());
                    continue;
                }
                let value = match (string("value"), string("env")) {
                    (Some(Ok(v)), None) => ConfigValue::Literal(v),
                    (None, Some(Ok(env))) => ConfigValue::Env { env },
                    (Some(Err(f)), _) | (_, Some(Err(f))) => {
                        shape_error(diags, format!("the `{f}` of configuration key `{key}` must be a string"));
                        invalid.push(key.clone());
                        continue;
                    }
                    (Some(_), Some(_)) => {
                        shape_error(diags, format!("configuration key `{key}` has both a `value` and an `env`"));
                        invalid.push(key.clone());
                        continue;
                    }
                    (None, None) => {
                        shape_error(diags, format!("configuration key `{key}` has neither a `value` nor an `env`"));
                        invalid.push(key.clone());
                        continue;
                    }
                };
                match string("type") {
                    None => (value, None),
                    Some(Ok(name)) => (value, Some(name)),
                    Some(Err(_)) => {
                        shape_error(diags, format!("the `type` of configuration key `{key}` must be a string"));
                        invalid.push(key.clone());
                        continue;
                    }
                }
            }
            _ => {
                shape_error(diags, format!("configuration key `{key}` must be a string or a table"));
                invalid.push(key.clone());
                continue;
            }
        };
        let ty = match ty {
            None => ConfigType::Str,
            Some(name) => match ConfigType::from_name(&name) {
                Some(ty) => ty,
                None => {
                    let names = ConfigType::ALL.map(ConfigType::name);
                    let help = match type_alias(&name).or_else(|| crate::did_you_mean(&name, names.iter().copied())) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("configuration types are {}", names.map(|n| format!("\"{n}\"")).join(", ")),
                    };
                    let quoted = format!("\"{name}\"");
                    diags.push(
                        Diagnostic::error(codes::E0205, format!("unknown configuration type `{name}` for `{key}`"))
                            .at(file, span_of(&quoted, at.start as usize), "not a type")
                            .help(help),
                    );
                    invalid.push(key.clone());
                    continue;
                }
            },
        };
        let span = match &value {
            ConfigValue::Literal(v) => {
                let shown = toml::Value::String(v.clone()).to_string();
                let found = span_of(&shown, at.start as usize);
                if found.start == 0 && found.end == 0 { at } else { found }
            }
            ConfigValue::Env { .. } => at,
        };
        out.insert(key.clone(), ConfigEntry { value, ty, span });
    }
    out
}

/// The configuration type other languages' names for it mean (`integer`, `boolean`, ...).
fn type_alias(name: &str) -> Option<String> {
    let t = match name.to_lowercase().as_str() {
        "str" | "text" => ConfigType::Str,
        "integer" | "i64" => ConfigType::Int,
        "number" | "double" | "f64" => ConfigType::Float,
        "boolean" => ConfigType::Bool,
        "list" | "array" | "list<str>" | "string list" | "[string]" => ConfigType::StrList,
        "cidr" | "cidrs" | "cidr_list" | "cidr-list" | "list<cidr>" | "networks" | "ip list" => ConfigType::CidrList,
        "regexp" | "pattern" | "re" => ConfigType::Regex,
        _ => return None,
    };
    Some(t.name().to_string())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(configuration: &str) -> (Option<Manifest>, Vec<Diagnostic>) {
        let text = format!("[pipeline]\nrules = []\n\n[configuration]\n{configuration}\n");
        let mut diags = Vec::new();
        let m = parse(Path::new("warden.toml"), 0, &text, &mut diags).map(|(m, _)| m);
        (m, diags)
    }

    #[test]
    fn entries_give_their_value_and_type() {
        let (m, diags) = parsed(
            "A = \"x\"\nB = { env = \"B_VAR\" }\nC = { value = \"1\", type = \"int\" }\nD = { env = \"D\", type = \"cidr list\" }",
        );
        assert!(diags.is_empty(), "{diags:?}");
        let config = m.and_then(|m| m.configuration).expect("a configuration");
        let got: Vec<(&str, &ConfigValue, ConfigType)> =
            config.iter().map(|(k, e)| (k.as_str(), &e.value, e.ty)).collect();
        assert_eq!(
            got,
            [
                ("A", &ConfigValue::Literal("x".into()), ConfigType::Str),
                ("B", &ConfigValue::Env { env: "B_VAR".into() }, ConfigType::Str),
                ("C", &ConfigValue::Literal("1".into()), ConfigType::Int),
                ("D", &ConfigValue::Env { env: "D".into() }, ConfigType::CidrList),
            ]
        );
    }

    #[test]
    fn unknown_types_are_errors_with_a_suggestion() {
        for (written, suggested) in [
            ("integer", "did you mean `int`?"),
            ("Bool", "did you mean `bool`?"),
            ("cidr", "did you mean `cidr list`?"),
        ] {
            let (m, diags) = parsed(&format!("K = {{ value = \"1\", type = \"{written}\" }}"));
            assert_eq!(diags.len(), 1, "{diags:?}");
            assert_eq!(diags[0].code, codes::E0205);
            assert_eq!(diags[0].message, format!("unknown configuration type `{written}` for `K`"));
            assert_eq!(diags[0].help.as_deref(), Some(suggested));
            let m = m.expect("the rest of the manifest is read");
            assert_eq!(m.invalid_config, ["K"], "the key is read as `any`, without another error");
        }
        let (_, diags) = parsed("K = { value = \"1\", type = \"zzzzzz\" }");
        assert_eq!(
            diags[0].help.as_deref(),
            Some(r#"configuration types are "string", "int", "float", "bool", "list<string>", "cidr list", "regex""#)
        );
    }

    #[test]
    fn malformed_entries_are_manifest_errors() {
        for (entry, message) in [
            ("K = { value = 1, type = \"int\" }", "the `value` of configuration key `K` must be a string"),
            ("K = { value = \"1\", env = \"E\" }", "configuration key `K` has both a `value` and an `env`"),
            ("K = { type = \"int\" }", "configuration key `K` has neither a `value` nor an `env`"),
            ("K = { value = \"1\", typ = \"int\" }", "configuration key `K` has an unknown field `typ`"),
            ("K = 1", "configuration key `K` must be a string or a table"),
        ] {
            let (_, diags) = parsed(entry);
            assert_eq!(diags.len(), 1, "{entry}: {diags:?}");
            assert_eq!(
                (diags[0].code, diags[0].message.as_str()),
                (codes::E0200, &*format!("invalid manifest: {message}"))
            );
        }
    }
}
