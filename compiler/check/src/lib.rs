//! Checking: manifest loading, name resolution, types against Auth0's model, and lowering
//! to the IR. Every error of every file is reported; a program is produced only when there
//! are none.
//!
//! ```
//! let c = warden_check::check_source("main.rule", r#"rule "r" { deny unless user.emial_verified }"#);
//! assert!(c.program.is_none());
//! assert_eq!(c.diagnostics[0].code, "E0100");
//! assert_eq!(c.diagnostics[0].help.as_deref(), Some("did you mean `user.email_verified`?"));
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use warden_ir::{ClaimMode, ConfigType, Options, Program};
use warden_syntax::{Diagnostic, FileId, SourceMap, Span, codes};

pub mod facts;
mod lower;
pub mod manifest;
pub mod npm;
pub mod read;
pub mod schema;
mod suggest;

pub use manifest::{ConfigEntry, ConfigValue, Manifest, RuleRef};
pub use read::{ReadError, read_file, read_stream, read_text_file};
pub use suggest::did_you_mean;

/// The largest rule or list file warden reads.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The result of checking a pipeline.
#[derive(Debug)]
pub struct Compiled {
    /// The checked program; `None` when there is any error.
    pub program: Option<Program>,
    /// Errors and warnings, in file order.
    pub diagnostics: Vec<Diagnostic>,
    /// Every file read, for rendering diagnostics.
    pub sources: SourceMap,
    pub manifest: Option<Manifest>,
    /// What editors ask about places of the sources, when it was asked for.
    pub facts: Option<facts::Facts>,
}

impl Compiled {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// One pipeline entry to compile.
struct Entry {
    shown: String,
    path: PathBuf,
    text: Option<String>,
    js_name: Option<String>,
    manifest_span: Option<Span>,
}

/// Unsaved editor buffers: the checker reads these texts instead of the files at their paths
/// (manifest, rule and list files). Paths are compared after removing `.` and `..` parts.
/// With [`Overlays::caching`], the parse of each rule file is kept and reused while its text
/// is unchanged (an editor checks its project at every keystroke; only the edited file
/// changes).
#[derive(Debug, Default)]
pub struct Overlays {
    texts: HashMap<PathBuf, String>,
    parses: Option<std::sync::Mutex<HashMap<PathBuf, Parsed>>>,
}

/// A rule file's parse, for the text and file id it was made from.
#[derive(Debug)]
struct Parsed {
    text: String,
    file: FileId,
    ast: std::sync::Arc<warden_syntax::ast::File>,
    diagnostics: Vec<Diagnostic>,
}

impl Overlays {
    /// Overlays that keep the parse of each rule file between checks.
    pub fn caching() -> Overlays {
        Overlays { texts: HashMap::new(), parses: Some(std::sync::Mutex::new(HashMap::new())) }
    }

    /// `parse_file`, or the kept parse of the same text and file id.
    fn parse(
        &self,
        file: FileId,
        path: &Path,
        text: &str,
    ) -> (std::sync::Arc<warden_syntax::ast::File>, Vec<Diagnostic>) {
        let Some(parses) = &self.parses else {
            let (ast, diagnostics) = warden_syntax::parse_file(file, text);
            return (std::sync::Arc::new(ast), diagnostics);
        };
        let key = normalize(path);
        let mut parses = parses.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(p) = parses.get(&key)
            && p.file == file
            && p.text == text
        {
            return (p.ast.clone(), p.diagnostics.clone());
        }
        let (ast, diagnostics) = warden_syntax::parse_file(file, text);
        let ast = std::sync::Arc::new(ast);
        let kept = Parsed { text: text.to_string(), file, ast: ast.clone(), diagnostics: diagnostics.clone() };
        parses.insert(key, kept);
        (ast, diagnostics)
    }

    /// Sets the text of the buffer at `path`.
    pub fn set(&mut self, path: &Path, text: String) {
        self.texts.insert(normalize(path), text);
    }
    /// Forgets the buffer at `path` (the file on disk is read again).
    pub fn remove(&mut self, path: &Path) -> Option<String> {
        self.texts.remove(&normalize(path))
    }
    /// The text of the buffer at `path`, if there is one.
    pub fn get(&self, path: &Path) -> Option<&str> {
        if self.texts.is_empty() {
            return None;
        }
        self.texts.get(&normalize(path)).map(String::as_str)
    }
}

/// `path` without `.` parts and with `..` applied to the part before it (lexically: links
/// are not followed).
pub fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Checks the pipeline a `warden.toml` describes.
pub fn check_manifest(path: &Path) -> Compiled {
    check_manifest_in(path, &Overlays::default(), false)
}

/// Checks the pipeline a `warden.toml` describes, reading unsaved buffers from `overlays`
/// instead of their files, and recording [`facts::Facts`] when `facts` is true.
pub fn check_manifest_in(path: &Path, overlays: &Overlays, facts: bool) -> Compiled {
    let mut sources = SourceMap::default();
    let mut diags = Vec::new();
    let text = match read_text_in(path, overlays) {
        Ok(t) => t,
        Err(reason) => {
            diags.push(Diagnostic::error(codes::E0201, format!("cannot read manifest `{}`: {reason}", path.display())));
            return Compiled { program: None, diagnostics: diags, sources, manifest: None, facts: None };
        }
    };
    let mfile = sources.add(path.display().to_string(), text.clone());
    let Some((manifest, declared)) = manifest::parse(path, mfile, &text, &mut diags) else {
        return Compiled { program: None, diagnostics: diags, sources, manifest: None, facts: None };
    };
    let entries = manifest
        .rules
        .iter()
        .map(|r| Entry {
            shown: r.path.display().to_string(),
            path: r.path.clone(),
            text: None,
            js_name: r.name.clone(),
            manifest_span: Some(r.span),
        })
        .collect();
    let keys = manifest.configuration.as_ref().map(|c| {
        let mut keys: BTreeMap<String, Option<ConfigType>> = c.iter().map(|(k, e)| (k.clone(), Some(e.ty))).collect();
        keys.extend(manifest.invalid_config.iter().map(|k| (k.clone(), None)));
        keys
    });
    let options = Options {
        claim_mode: manifest.claim_mode,
        timeout_ms: manifest.timeout_ms,
        js_memory_mib: manifest.js_memory_mib,
        http: manifest.http.clone(),
    };
    let setup =
        Setup { options, config: keys, declared: &declared, manifest_file: Some(mfile), overlays, record: facts };
    let mut c = compile(entries, sources, diags, setup);
    // Vendored CommonJS modules travel with the program (and into artifacts).
    for m in &manifest.modules {
        match read_text(&m.path) {
            Ok(text) => {
                let file = c.sources.add(m.path.display().to_string(), text);
                if let Some(p) = &mut c.program {
                    p.files.push(m.path.display().to_string());
                    p.js_modules.push(warden_ir::JsModule { name: m.name.clone().unwrap_or_default(), file });
                }
            }
            Err(reason) => {
                c.diagnostics.push(
                    Diagnostic::error(codes::E0201, format!("cannot read module file `{}`: {reason}", m.file))
                        .at(mfile, m.span, "listed here")
                        .help("paths in warden.toml are relative to the manifest's directory"),
                );
                c.program = None;
            }
        }
    }
    add_npm_packages(&mut c, &manifest);
    c.manifest = Some(manifest);
    c
}

/// The files of `node_modules` the JavaScript rules and `[modules]` files require
/// (`npm::collect`), added to the program as modules named by their virtual paths
/// (`/node_modules/...`). E0401 when they cannot be included.
fn add_npm_packages(c: &mut Compiled, manifest: &Manifest) {
    let Some(p) = &c.program else { return };
    let texts = p.js_rules.iter().map(|j| j.file).chain(p.js_modules.iter().map(|m| m.file));
    let vendored: Vec<&str> = p.js_modules.iter().map(|m| m.name.as_str()).collect();
    let mut names: Vec<String> = Vec::new();
    for f in texts {
        let text = &c.sources.get(f).text;
        names.extend(warden_ir::npm::literal_requires(text).into_iter().map(str::to_string));
        // `_`, `uuid`, `jwt`: globals Auth0 injected, backed by packages when installed.
        let injected = warden_ir::npm::INJECTED.iter().filter(|(g, _)| warden_ir::npm::mentions(text, g));
        names.extend(injected.map(|(_, package)| package.to_string()));
    }
    names.retain(|n| !vendored.contains(&warden_ir::npm::without_version(n)));
    if names.is_empty() {
        return;
    }
    match npm::collect(&manifest.dir, &names) {
        Ok(files) => {
            for f in files {
                let shown = f.path.display().to_string();
                let file = c.sources.add(shown.clone(), f.text);
                if let Some(p) = &mut c.program {
                    p.files.push(shown);
                    p.js_modules.push(warden_ir::JsModule { name: f.name, file });
                }
            }
        }
        Err(errors) => {
            for e in errors {
                c.diagnostics.push(Diagnostic::error(codes::E0401, format!("npm packages cannot be included: {e}")).help(
                    "warden includes the files of node_modules the rules require (docs/javascript.md, \"npm packages\")",
                ));
            }
            c.program = None;
        }
    }
}

/// Checks `.rule` (and `.js`) files given directly, as one pipeline in the order given.
pub fn check_files(paths: &[PathBuf], claim_mode: ClaimMode) -> Compiled {
    let entries = paths
        .iter()
        .map(|p| Entry {
            shown: p.display().to_string(),
            path: p.clone(),
            text: None,
            js_name: None,
            manifest_span: None,
        })
        .collect();
    let overlays = Overlays::default();
    compile(
        entries,
        SourceMap::default(),
        Vec::new(),
        Setup::bare(Options { claim_mode, ..Options::default() }, &overlays, false),
    )
}

/// Checks one `.rule` file alone (no manifest), reading it (and its list files) from
/// `overlays` when they hold it, and recording [`facts::Facts`] when `facts` is true.
pub fn check_file_in(path: &Path, overlays: &Overlays, facts: bool) -> Compiled {
    let entry = Entry {
        shown: path.display().to_string(),
        path: path.to_path_buf(),
        text: None,
        js_name: None,
        manifest_span: None,
    };
    compile(vec![entry], SourceMap::default(), Vec::new(), Setup::bare(Options::default(), overlays, facts))
}

/// Checks one in-memory `.rule` source (its `list()` files resolve against the current
/// directory).
pub fn check_source(name: &str, text: &str) -> Compiled {
    check_sources(&[(name.to_string(), text.to_string())], Options::default())
}

/// Checks in-memory `.rule` sources as one pipeline, in order.
pub fn check_sources(files: &[(String, String)], options: Options) -> Compiled {
    let entries = files
        .iter()
        .map(|(name, text)| Entry {
            shown: name.clone(),
            path: PathBuf::from(name),
            text: Some(text.clone()),
            js_name: None,
            manifest_span: None,
        })
        .collect();
    let overlays = Overlays::default();
    compile(entries, SourceMap::default(), Vec::new(), Setup::bare(options, &overlays, false))
}

/// What a compilation reads besides its entries: the manifest's settings (when there is one),
/// unsaved buffers, and whether facts are recorded.
struct Setup<'a> {
    options: Options,
    config: Option<BTreeMap<String, Option<ConfigType>>>,
    declared: &'a BTreeMap<String, schema::CTy>,
    manifest_file: Option<u32>,
    overlays: &'a Overlays,
    record: bool,
}

impl Setup<'_> {
    /// Without a manifest.
    fn bare(options: Options, overlays: &Overlays, record: bool) -> Setup<'_> {
        static NONE: BTreeMap<String, schema::CTy> = BTreeMap::new();
        Setup { options, config: None, declared: &NONE, manifest_file: None, overlays, record }
    }
}

fn compile(entries: Vec<Entry>, mut sources: SourceMap, mut diags: Vec<Diagnostic>, setup: Setup<'_>) -> Compiled {
    let Setup { options, config, declared, manifest_file, overlays, record } = setup;
    enum Loaded {
        Rule(u32, PathBuf, std::sync::Arc<warden_syntax::ast::File>),
        Js(u32, String),
    }
    let mut loaded = Vec::new();
    for e in entries {
        let ext = e.path.extension().and_then(|x| x.to_str()).unwrap_or("");
        let text = match e.text {
            Some(t) if t.len() as u64 > MAX_FILE_BYTES => {
                Err(ReadError::TooLarge { limit: MAX_FILE_BYTES }.to_string())
            }
            Some(t) => Ok(t),
            None => read_text_in(&e.path, overlays),
        };
        let text = match (ext, text.map(without_bom)) {
            (_, Err(reason)) => {
                let mut d = Diagnostic::error(codes::E0201, format!("cannot read rule file `{}`: {reason}", e.shown))
                    .help("paths in warden.toml are relative to the manifest's directory");
                if let (Some(m), Some(s)) = (manifest_file, e.manifest_span) {
                    d = d.at(m, s, "listed here");
                }
                diags.push(d);
                continue;
            }
            (_, Ok(t)) => t,
        };
        match ext {
            "rule" => {
                let id = sources.add(e.shown.clone(), text.clone());
                let (ast, mut d) = overlays.parse(id, &e.path, &text);
                diags.append(&mut d);
                loaded.push(Loaded::Rule(id, e.path, ast));
            }
            "js" => {
                // A JavaScript rule's name: the manifest's, else its function's, else the file's.
                let name = e
                    .js_name
                    .or_else(|| js_function_name(&text))
                    .unwrap_or_else(|| e.path.file_stem().and_then(|s| s.to_str()).unwrap_or("rule").to_string());
                let id = sources.add(e.shown.clone(), text);
                loaded.push(Loaded::Js(id, name));
            }
            _ => {
                let mut d = Diagnostic::error(codes::E0204, format!("`{}` is not a rule file", e.shown))
                    .help("pipelines hold `.rule` files and legacy Auth0 `.js` rules");
                if let (Some(m), Some(s)) = (manifest_file, e.manifest_span) {
                    d = d.at(m, s, "listed here");
                }
                diags.push(d);
            }
        }
    }
    let schema = schema::Schema::new(declared);
    let mut lowerer = lower::Lowerer::new(&sources, &schema, options, config, overlays, record);
    for l in &loaded {
        match l {
            Loaded::Rule(id, path, ast) => lowerer.file(*id, path, ast),
            Loaded::Js(id, name) => {
                lowerer.prog.js_rules.push(warden_ir::JsRule { name: name.clone(), file: *id });
                let js = (lowerer.prog.js_rules.len() - 1) as u32;
                lowerer.prog.steps.push(warden_ir::Step::Js(js));
            }
        }
    }
    diags.append(&mut lowerer.diags);
    let recorded = lowerer.facts.take();
    let mut program = lowerer.prog;
    lower::fill_refresh(&mut program);
    // What artifacts must pass, the checker's own output passes too: a program that does not
    // validate is a bug in the checker, and never runs.
    if !diags.iter().any(Diagnostic::is_error)
        && let Err(m) = program.validate()
    {
        diags.push(
            Diagnostic::error(codes::E0900, format!("internal error: the checked program is not valid: {m}"))
                .help("this is a bug in warden: please report it with the rule files"),
        );
    }
    diags.sort_by_key(|d| (d.file, d.span.map(|s| s.start)));
    let ok = !diags.iter().any(Diagnostic::is_error);
    let facts = recorded.map(|(refs, rules)| facts::Facts { refs, rules, schema });
    Compiled { program: ok.then_some(program), diagnostics: diags, sources, manifest: None, facts }
}

/// Reads a text file warden needs (manifest, rule, module or list file): a regular file of at
/// most [`MAX_FILE_BYTES`], UTF-8, without its byte-order mark.
pub(crate) fn read_text(path: &Path) -> Result<String, String> {
    read::read_text_file(path, MAX_FILE_BYTES).map_err(|e| e.to_string())
}

/// [`read_text`], or the unsaved buffer at `path` when `overlays` holds one (bounded alike).
pub(crate) fn read_text_in(path: &Path, overlays: &Overlays) -> Result<String, String> {
    match overlays.get(path) {
        Some(t) if t.len() as u64 > MAX_FILE_BYTES => Err(ReadError::TooLarge { limit: MAX_FILE_BYTES }.to_string()),
        Some(t) => Ok(t.to_string()),
        None => read_text(path),
    }
}

/// The text without its byte-order mark, if it has one.
fn without_bom(text: String) -> String {
    match warden_syntax::strip_bom(&text) {
        rest if rest.len() == text.len() => text,
        rest => rest.to_string(),
    }
}

/// The name of the function a JavaScript rule's source starts with, after comments:
/// `function name(user, context, callback)` or `async function name(...)`.
pub fn js_function_name(text: &str) -> Option<String> {
    let mut rest = text.trim_start();
    loop {
        if let Some(r) = rest.strip_prefix("//") {
            rest = r.split_once('\n').map_or("", |(_, after)| after).trim_start();
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.split_once("*/").map_or("", |(_, after)| after).trim_start();
        } else {
            break;
        }
    }
    let rest = rest.strip_prefix("async").map_or(rest, str::trim_start);
    let rest = rest.strip_prefix("function")?.trim_start();
    let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '$').collect();
    (!name.is_empty()).then_some(name)
}
