//! The npm files a pipeline included (`warden_check::npm`), as `require` sees them at run
//! time: modules named by their virtual paths (`/node_modules/...`), resolved with the same
//! algorithm the checker used to choose them (`warden_ir::npm`), so that every name the
//! checker followed resolves to the same file here, with or without `node_modules` on disk.

use std::collections::{HashMap, HashSet};

use warden_ir::npm::{self, Package};

use crate::JsSource;

/// Whether a module is a file from `node_modules` (named by its virtual path) rather than a
/// `[modules]` entry (named by the name `require` answers).
pub fn is_file_module(name: &str) -> bool {
    name.starts_with('/')
}

/// The longest name `require` resolves.
const MAX_REQUEST: usize = 4096;

/// The included files, their directories and their `package.json`s.
#[derive(Debug, Default)]
pub(crate) struct Included {
    files: HashSet<String>,
    dirs: HashSet<String>,
    packages: HashMap<String, Package>,
}

impl Included {
    pub(crate) fn new(modules: &[JsSource]) -> Included {
        let mut out = Included::default();
        for m in modules.iter().filter(|m| is_file_module(&m.name)) {
            let mut dir = npm::parent(&m.name);
            while let Some(d) = dir {
                if !out.dirs.insert(d.clone()) {
                    break;
                }
                dir = npm::parent(&d);
            }
            if let Some(d) = m.name.strip_suffix("/package.json")
                && let Ok(p) = Package::parse(&m.file.text)
            {
                out.packages.insert(if d.is_empty() { "/".into() } else { d.to_string() }, p);
            }
            out.files.insert(m.name.clone());
        }
        out
    }

    /// The file `require(request)` loads from directory `from`.
    pub(crate) fn resolve(&self, from: &str, request: &str) -> Option<String> {
        if request.len() > MAX_REQUEST || from.len() > MAX_REQUEST || self.files.is_empty() {
            return None;
        }
        npm::resolve(self, from, request)
    }
}

impl npm::Files for Included {
    fn is_file(&self, path: &str) -> bool {
        self.files.contains(path)
    }
    fn is_dir(&self, path: &str) -> bool {
        self.dirs.contains(path.trim_end_matches('/')) || path == "/"
    }
    fn package(&self, dir: &str) -> Option<Package> {
        let d = dir.trim_end_matches('/');
        self.packages.get(if d.is_empty() { "/" } else { d }).cloned()
    }
}

/// Whether `require(name)` in a rule finds a file among `modules` (W0400).
pub fn rule_require_resolves(modules: &[JsSource], name: &str) -> bool {
    Included::new(modules).resolve("/", npm::without_version(name)).is_some()
}

/// The script a module compiles to: a factory `function (module, exports, require,
/// __filename, __dirname)` on the first line (so that line numbers stay the file's); a JSON
/// file's sets `module.exports` to the parsed text (parsed with `JSON.parse`, so that a
/// `__proto__` key is a key).
pub(crate) fn factory_source(m: &JsSource) -> String {
    if is_file_module(&m.name) && m.name.ends_with(".json") {
        let literal = serde_json::to_string(&m.file.text).unwrap_or_else(|_| "\"null\"".into());
        return format!("(function (module) {{ module.exports = JSON.parse({literal}); }})");
    }
    let text = &m.file.text;
    // A `#!` line is not JavaScript; Node skips it.
    let body = if text.starts_with("#!") { format!("//{text}") } else { text.clone() };
    if is_file_module(&m.name) {
        format!("(function (module, exports, require, __filename, __dirname) {{{body}\n}})")
    } else {
        format!("(function (module, exports, require, __filename, __dirname) {{\n{body}\n}})")
    }
}
