//! Projects: importing an Auth0 export into a warden project, and translating, proving and
//! replacing one of its JavaScript rules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;

use crate::prove::{self, Verdict};
use crate::translate::{self, Translation};

/// Logins a proof runs by default (the floor; `--logins` raises it).
pub const DEFAULT_LOGINS: usize = 10_000;
/// The default seed: proofs are reproducible unless `--seed` says otherwise.
pub const DEFAULT_SEED: u64 = 0x19_0001;

// ---- import -------------------------------------------------------------------------------

/// One rule of an export.
#[derive(Clone, Debug)]
pub struct ExportedRule {
    pub name: String,
    pub script: String,
    pub order: Option<f64>,
    pub enabled: bool,
    /// Where the script came from, for messages.
    pub from: PathBuf,
}

/// What `import` wrote and found.
#[derive(Debug, Default)]
pub struct Imported {
    pub format: &'static str,
    pub files: Vec<PathBuf>,
    pub enabled: Vec<String>,
    pub disabled: Vec<String>,
    pub config_keys: BTreeSet<String>,
    /// npm packages the rules require that are not built in, with the rules that do.
    pub packages: BTreeMap<String, Vec<String>>,
    /// Rules that call web APIs (they need an `[http]` policy).
    pub network: Vec<String>,
}

#[derive(Deserialize)]
struct DirRule {
    name: Option<String>,
    script: Option<String>,
    order: Option<f64>,
    enabled: Option<bool>,
    stage: Option<String>,
}

#[derive(Deserialize)]
struct YamlTenant {
    #[serde(default)]
    rules: Vec<YamlRule>,
}

#[derive(Deserialize)]
struct YamlRule {
    name: String,
    script: String,
    order: Option<f64>,
    enabled: Option<bool>,
    stage: Option<String>,
}

/// The largest script or export file read.
const MAX_FILE: u64 = 4 * 1024 * 1024;

fn read(path: &Path) -> Result<String, String> {
    let bytes = warden::files::read_file(path, MAX_FILE).map_err(|e| format!("{}: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|_| format!("{}: {}", path.display(), warden::files::ReadError::NotUtf8))
}

/// A script path from an export, relative to `base`, that stays inside `base`.
fn inside(base: &Path, script: &str) -> Result<PathBuf, String> {
    let rel = Path::new(script);
    if rel.is_absolute() || rel.components().any(|c| matches!(c, Component::ParentDir | Component::Prefix(_))) {
        return Err(format!("the script path `{script}` leaves the export's directory"));
    }
    Ok(base.join(rel))
}

/// Reads an export: the Deploy CLI's directory format (`rules/NAME.js` + `rules/NAME.json`),
/// its YAML format (`tenant.yaml` with `rules:`), or a folder of `.js` files.
pub fn read_export(dir: &Path) -> Result<(&'static str, Vec<ExportedRule>), String> {
    if !dir.is_dir() {
        return Err(format!("{}: not a directory", dir.display()));
    }
    let yaml = ["tenant.yaml", "tenant.yml"].iter().map(|n| dir.join(n)).find(|p| p.is_file()).or_else(|| {
        let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        found.sort();
        found.into_iter().next()
    });
    if let Some(yaml) = yaml {
        let text = read(&yaml)?;
        let tenant: YamlTenant = serde_yaml_ng::from_str(&text).map_err(|e| format!("{}: {e}", yaml.display()))?;
        let base = yaml.parent().unwrap_or(dir);
        let mut rules = Vec::new();
        for r in tenant.rules {
            if r.stage.as_deref().is_some_and(|s| s != "login_success") {
                continue;
            }
            let path = inside(base, &r.script)?;
            rules.push(ExportedRule {
                script: read(&path)?,
                name: r.name,
                order: r.order,
                enabled: r.enabled.unwrap_or(true),
                from: path,
            });
        }
        return Ok(("Auth0 Deploy CLI, YAML", sort(rules)));
    }
    let rules_dir = dir.join("rules");
    let json_files = list(&rules_dir, "json");
    if !json_files.is_empty() {
        let mut rules = Vec::new();
        for json in json_files {
            let meta: DirRule = serde_json::from_str(&read(&json)?).map_err(|e| format!("{}: {e}", json.display()))?;
            if meta.stage.as_deref().is_some_and(|s| s != "login_success") {
                continue;
            }
            let stem = json.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let script = meta.script.clone().unwrap_or_else(|| format!("./{stem}.js"));
            let path = inside(&rules_dir, &script)?;
            rules.push(ExportedRule {
                script: read(&path)?,
                name: meta.name.unwrap_or(stem),
                order: meta.order,
                enabled: meta.enabled.unwrap_or(true),
                from: path,
            });
        }
        return Ok(("Auth0 Deploy CLI, directory", sort(rules)));
    }
    let mut js = list(dir, "js");
    if js.is_empty() {
        js = list(&rules_dir, "js");
    }
    if js.is_empty() {
        return Err(format!(
            "{}: no rules found (expected a Deploy CLI export: rules/*.json with rules/*.js, or tenant.yaml; or .js files)",
            dir.display()
        ));
    }
    let rules = js
        .into_iter()
        .map(|p| {
            Ok(ExportedRule {
                name: p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
                script: read(&p)?,
                order: None,
                enabled: true,
                from: p,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(("a folder of JavaScript rules", sort(rules)))
}

fn list(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == ext))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Auth0's order: by `order`, rules without one last, then by name.
fn sort(mut rules: Vec<ExportedRule>) -> Vec<ExportedRule> {
    rules.sort_by(|a, b| {
        let key = |r: &ExportedRule| r.order.unwrap_or(f64::INFINITY);
        key(a).total_cmp(&key(b)).then_with(|| a.name.cmp(&b.name))
    });
    rules
}

/// A file name for a rule: lower case, words joined with `-`.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() { "rule".into() } else { out }
}

/// Imports the export in `dir` as a warden project in `out` (which must not exist or be
/// empty).
pub fn import(dir: &Path, out: &Path) -> Result<Imported, String> {
    let (format, rules) = read_export(dir)?;
    if out.exists() && std::fs::read_dir(out).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(format!("{}: exists and is not empty (choose another --out)", out.display()));
    }
    let legacy = out.join("legacy");
    std::fs::create_dir_all(&legacy).map_err(|e| format!("{}: {e}", legacy.display()))?;
    let mut imported = Imported { format, ..Imported::default() };
    let mut used = BTreeSet::new();
    let mut entries = Vec::new();
    for r in &rules {
        let mut file = slug(&r.name);
        let mut n = 1;
        while !used.insert(file.clone()) {
            n += 1;
            file = format!("{}-{n}", slug(&r.name));
        }
        let rel = format!("legacy/{file}.js");
        let path = out.join(&rel);
        std::fs::write(&path, &r.script).map_err(|e| format!("{}: {e}", path.display()))?;
        imported.files.push(path);
        let found = scan(&r.script);
        imported.config_keys.extend(found.config_keys);
        for p in found.packages {
            imported.packages.entry(p).or_default().push(r.name.clone());
        }
        if found.network {
            imported.network.push(r.name.clone());
        }
        if r.enabled {
            imported.enabled.push(r.name.clone());
        } else {
            imported.disabled.push(r.name.clone());
        }
        entries.push((rel, r.name.clone(), r.enabled));
    }
    let manifest = manifest_text(dir, format, &entries, &imported);
    let path = out.join("warden.toml");
    std::fs::write(&path, manifest).map_err(|e| format!("{}: {e}", path.display()))?;
    imported.files.push(path);
    if !imported.packages.is_empty() {
        let pkg = out.join("package.json");
        let deps: serde_json::Map<String, serde_json::Value> =
            imported.packages.keys().map(|p| (p.clone(), serde_json::Value::String("*".into()))).collect();
        let text = serde_json::to_string_pretty(&serde_json::json!({
            "private": true,
            "description": "npm packages the legacy rules require: pin the versions your tenant used, then `npm install`",
            "dependencies": deps,
        }))
        .unwrap_or_default();
        std::fs::write(&pkg, text + "\n").map_err(|e| format!("{}: {e}", pkg.display()))?;
        imported.files.push(pkg);
    }
    Ok(imported)
}

fn manifest_text(dir: &Path, format: &str, entries: &[(String, String, bool)], imported: &Imported) -> String {
    let q = |s: &str| toml_edit::Value::from(s).to_string().trim().to_string();
    let mut t = format!(
        "# Imported by `warden migrate import` from {} ({format}).\n# The rules run in Auth0's order; disabled rules are listed, commented out.\n# Next: docs/migrating.md (test the project, then translate rule by rule).\n\n[pipeline]\nrules = [\n",
        dir.display()
    );
    for (file, name, enabled) in entries {
        let entry = format!("{{ file = {}, name = {} }},", q(file), q(name));
        if *enabled {
            t.push_str(&format!("    {entry}\n"));
        } else {
            t.push_str(&format!("    # disabled in Auth0: {entry}\n"));
        }
    }
    t.push_str("]\n");
    if !imported.config_keys.is_empty() {
        t.push_str(
            "\n# The rules' `configuration.KEY`s, read from environment variables of the same name\n# (values never leave Auth0 in an export; set them, or `[defaults.config]` in tests).\n[configuration]\n",
        );
        for k in &imported.config_keys {
            t.push_str(&format!("{} = {{ env = {} }}\n", toml_key(k), q(k)));
        }
    }
    if !imported.network.is_empty() {
        let verb = if imported.network.len() == 1 { "calls" } else { "call" };
        t.push_str(&format!(
            "\n# {} {verb} web APIs: name the origins they may reach (docs/manifest.md, [http]).\n# [http]\n# allow = [\"https://api.example.com\"]\n",
            imported.network.join(", ")
        ));
    }
    t
}

fn toml_key(k: &str) -> String {
    if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        k.to_string()
    } else {
        toml_edit::Value::from(k).to_string().trim().to_string()
    }
}

/// What a textual scan of a rule finds: configuration keys, required packages, network use.
#[derive(Debug, Default)]
pub struct Scan {
    pub config_keys: BTreeSet<String>,
    pub packages: BTreeSet<String>,
    pub network: bool,
}

/// Scans a rule with the JavaScript parser's view of it: `configuration.X` and
/// `configuration['X']` reads, `require('x')` calls, and calls of web API clients.
pub fn scan(script: &str) -> Scan {
    let t = translate::translate(script, None, "");
    let mut s = Scan { config_keys: t.config_keys.clone(), ..Scan::default() };
    for (needle, close) in [("configuration.", None), ("configuration['", Some('\'')), ("configuration[\"", Some('"'))]
    {
        let mut at = 0;
        while let Some(p) = script[at..].find(needle) {
            let start = at + p + needle.len();
            let key: String = match close {
                None => script[start..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '$')
                    .collect(),
                Some(q) => script[start..].chars().take_while(|c| *c != q && *c != '\n').collect(),
            };
            if !key.is_empty() {
                s.config_keys.insert(key);
            }
            at = start;
        }
    }
    let mut at = 0;
    while let Some(p) = script[at..].find("require(") {
        let start = at + p + "require(".len();
        let rest = script[start..].trim_start();
        if let Some(q) = rest.chars().next().filter(|c| *c == '\'' || *c == '"' || *c == '`') {
            let name: String = rest[1..].chars().take_while(|c| *c != q).collect();
            let package = package_name(&name);
            if !package.is_empty() && !name.starts_with('.') && !warden::BUILTIN_MODULES.contains(&package.as_str()) {
                s.packages.insert(package);
            }
            if matches!(name.as_str(), "request" | "axios" | "node-fetch" | "got" | "superagent") {
                s.network = true;
            }
        }
        at = start;
    }
    let compact: String = script.chars().filter(|c| !c.is_whitespace()).collect();
    s.network |=
        ["request(", "request.get(", "request.post(", "request.put(", "request.patch(", "fetch(", "axios.", "axios("]
            .iter()
            .any(|n| compact.contains(n));
    s
}

/// `@scope/pkg/file` → `@scope/pkg`, `pkg/file` → `pkg`.
fn package_name(spec: &str) -> String {
    let mut parts = spec.split('/');
    match (parts.next(), parts.next()) {
        (Some(scope), Some(name)) if scope.starts_with('@') => format!("{scope}/{name}"),
        (Some(name), _) => name.to_string(),
        _ => String::new(),
    }
}

// ---- translate, prove, replace ------------------------------------------------------------

/// The manifest that governs a file: `warden.toml` in its directory or the nearest above.
pub fn find_manifest(file: &Path) -> Option<PathBuf> {
    let abs = std::path::absolute(file).ok()?;
    let mut dir = abs.parent();
    while let Some(d) = dir {
        let m = d.join("warden.toml");
        if m.is_file() {
            return Some(m);
        }
        dir = d.parent();
    }
    None
}

/// The path of `file` relative to `dir`, with `/` separators.
fn relative(file: &Path, dir: &Path) -> Option<String> {
    let f = std::path::absolute(file).ok()?;
    let d = std::path::absolute(dir).ok()?;
    let rel = f.strip_prefix(&d).ok()?;
    Some(rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/"))
}

/// The manifest entry of a rule file: its index in `[pipeline] rules` and its name.
fn manifest_entry(manifest: &str, rel: &str) -> Option<(usize, Option<String>)> {
    let doc: toml_edit::DocumentMut = manifest.parse().ok()?;
    let rules = doc.get("pipeline")?.get("rules")?.as_array()?;
    rules.iter().enumerate().find_map(|(i, v)| {
        let (file, name) = match v {
            toml_edit::Value::String(s) => (s.value().clone(), None),
            toml_edit::Value::InlineTable(t) => {
                (t.get("file")?.as_str()?.to_string(), t.get("name").and_then(|n| n.as_str()).map(str::to_string))
            }
            _ => return None,
        };
        (file.trim_start_matches("./") == rel).then_some((i, name))
    })
}

/// What translating one file came to.
#[derive(Debug)]
pub struct FileReport {
    pub js: PathBuf,
    pub translation: Translation,
    /// The proof's verdict, when there was a translation to prove.
    pub verdict: Option<Result<Verdict, String>>,
    /// Where the `.rule` was written (only when proven).
    pub written: Option<PathBuf>,
    /// The manifest changed to run the `.rule` instead (with `--write`).
    pub replaced_in: Option<PathBuf>,
    /// With `--write`, the manifest that does not run this rule (a disabled rule, commented
    /// out), and so was left as it was.
    pub not_in_pipeline: Option<PathBuf>,
}

impl FileReport {
    pub fn proven(&self) -> bool {
        matches!(self.verdict, Some(Ok(Verdict::Equal(_))))
    }
}

/// Options of `translate` and `verify`.
#[derive(Clone, Debug)]
pub struct ProofOptions {
    pub logins: usize,
    pub seed: u64,
}

impl Default for ProofOptions {
    fn default() -> ProofOptions {
        ProofOptions { logins: DEFAULT_LOGINS, seed: DEFAULT_SEED }
    }
}

/// The project of a JavaScript rule: its directory, manifest text, the rule's path in it and
/// its name in the pipeline.
struct Project {
    dir: PathBuf,
    manifest: Option<(PathBuf, String)>,
    rel: String,
    name: Option<String>,
    index: Option<usize>,
}

fn project_of(js: &Path) -> Result<Project, String> {
    match find_manifest(js) {
        Some(m) => {
            let dir = m.parent().map(Path::to_path_buf).unwrap_or_default();
            let text = read(&m)?;
            let rel = relative(js, &dir).ok_or_else(|| format!("{}: outside {}", js.display(), dir.display()))?;
            let (index, name) = match manifest_entry(&text, &rel) {
                Some((i, n)) => (Some(i), n),
                None => (None, None),
            };
            Ok(Project { dir, manifest: Some((m, text)), rel, name, index })
        }
        None => {
            let abs = std::path::absolute(js).map_err(|e| e.to_string())?;
            let dir = abs.parent().map(Path::to_path_buf).unwrap_or_default();
            let rel = abs.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
            Ok(Project { dir, manifest: None, rel, name: None, index: None })
        }
    }
}

/// Translates `js`, proves the translation, and writes it to `out` (default: `rules/NAME.rule`
/// in the project, or beside the file without one) when proven; with `write`, the manifest
/// then runs the `.rule` in the JavaScript's place.
pub fn translate_file(js: &Path, out: Option<&Path>, write: bool, opts: &ProofOptions) -> Result<FileReport, String> {
    let text = read(js)?;
    let project = project_of(js)?;
    if write && project.manifest.is_none() {
        return Err(format!("--write: no warden.toml found above {}", js.display()));
    }
    let translation = translate::translate(&text, project.name.as_deref(), &project.rel);
    let mut report = FileReport {
        js: js.to_path_buf(),
        translation,
        verdict: None,
        written: None,
        replaced_in: None,
        not_in_pipeline: None,
    };
    let Some(rule) = report.translation.rule.clone() else { return Ok(report) };
    let verdict = prove_text(&project, &report.translation, &rule, opts);
    let proven = matches!(verdict, Ok(Verdict::Equal(_)));
    report.verdict = Some(verdict);
    if !proven {
        return Ok(report);
    }
    let stem = js.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "rule".into());
    let target = match out {
        Some(o) => o.to_path_buf(),
        None if project.manifest.is_some() => project.dir.join("rules").join(format!("{stem}.rule")),
        None => js.with_extension("rule"),
    };
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    std::fs::write(&target, &rule).map_err(|e| format!("{}: {e}", target.display()))?;
    report.written = Some(target.clone());
    if write
        && project.index.is_none()
        && let Some((m, _)) = &project.manifest
    {
        report.not_in_pipeline = Some(m.clone());
    }
    if write && let (Some((m, manifest)), Some(index)) = (&project.manifest, project.index) {
        let rule_rel = relative(&target, &project.dir)
            .ok_or_else(|| format!("{}: the .rule must be inside the project to replace the step", target.display()))?;
        let changed = replace_step(manifest, index, &rule_rel, &project.rel, opts.logins)?;
        std::fs::write(m, changed).map_err(|e| format!("{}: {e}", m.display()))?;
        report.replaced_in = Some(m.clone());
    }
    Ok(report)
}

/// Reruns the proof of an existing pair.
pub fn verify_files(js: &Path, rule: &Path, opts: &ProofOptions) -> Result<(Translation, Verdict), String> {
    let text = read(js)?;
    let rule_text = read(rule)?;
    let project = project_of(js)?;
    let mut t = translate::translate(&text, project.name.as_deref(), &project.rel);
    // The pipeline's name of the rule is the `.rule`'s own.
    if let Some(n) = rule_name(&rule_text) {
        t.name = n;
    }
    let verdict = prove_text(&project, &t, &rule_text, opts)?;
    Ok((t, verdict))
}

fn rule_name(text: &str) -> Option<String> {
    let line = text.lines().find(|l| l.trim_start().starts_with("rule \""))?;
    let rest = line.trim_start().strip_prefix("rule \"")?;
    Some(rest.split('"').next()?.to_string())
}

fn prove_text(project: &Project, t: &Translation, rule: &str, opts: &ProofOptions) -> Result<Verdict, String> {
    let manifest = project.manifest.as_ref().map(|(_, text)| text.as_str());
    let sides = prove::load(&project.dir, manifest, &project.rel, &t.name, rule, &t.config_keys)?;
    Ok(prove::prove(&sides, t, opts.logins, opts.seed))
}

/// The manifest with entry `index` of `[pipeline] rules` running `rule_rel` instead, and a
/// comment saying what it replaced.
fn replace_step(manifest: &str, index: usize, rule_rel: &str, js_rel: &str, logins: usize) -> Result<String, String> {
    let mut doc: toml_edit::DocumentMut = manifest.parse().map_err(|e| format!("warden.toml: {e}"))?;
    let rules = doc
        .get_mut("pipeline")
        .and_then(|p| p.get_mut("rules"))
        .and_then(|r| r.as_array_mut())
        .ok_or("warden.toml: no [pipeline] rules")?;
    let Some(item) = rules.get_mut(index) else { return Err("warden.toml: the rule's entry is gone".into()) };
    let prefix = item.decor().prefix().and_then(|p| p.as_str()).unwrap_or("\n    ").to_string();
    let indent = prefix.rsplit('\n').next().unwrap_or("    ").to_string();
    let mut new = toml_edit::Value::from(rule_rel);
    let note = format!(
        "{}{indent}# {js_rel} until `warden migrate translate --write` proved {rule_rel} equal on {logins} logins\n{indent}",
        prefix.trim_end_matches([' ', '\t'])
    );
    new.decor_mut().set_prefix(note);
    *item = new;
    Ok(doc.to_string())
}
