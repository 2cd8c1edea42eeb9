//! npm packages: which files of the project's `node_modules` a pipeline includes.
//!
//! Starting from the literal `require('name')` calls of the JavaScript rules and `[modules]`
//! files, each name is resolved as Node would (`warden_ir::npm::resolve`, from the project's
//! directory); each file found is included, and the literal requires in it are followed from
//! its own directory; each `package.json` read on the way is included (the runtime resolves
//! with it), and its `dependencies` are followed from its directory. The result is bounded
//! ([`MAX_FILES`], [`MAX_BYTES`]); a path that leads outside the project (a symlink), a
//! `package.json` that is not valid, an ES module or a file that cannot be read is an error:
//! the pipeline does not load rather than fail at a login.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use warden_ir::npm::{self, Files, Package};

use crate::read::read_text_file;

/// At most this many files (modules, JSON files and `package.json`s) from `node_modules`.
pub const MAX_FILES: usize = 1_000;
/// At most this many bytes of them together.
pub const MAX_BYTES: u64 = 16 * 1024 * 1024;
/// The largest `package.json` read.
pub const MAX_PACKAGE_JSON: u64 = 1024 * 1024;

/// A file from `node_modules` the pipeline includes.
#[derive(Clone, Debug)]
pub struct NpmFile {
    /// Its virtual path (`/node_modules/lodash/lodash.js`), the name `require` finds it by.
    pub name: String,
    /// Where it was read.
    pub path: PathBuf,
    pub text: String,
}

/// The files from `project/node_modules` that the requires `names` (from the rules and
/// `[modules]` files) need; empty when the project has no `node_modules`. `Err`: every
/// reason the packages cannot be included, as messages.
pub fn collect(project: &Path, names: &[String]) -> Result<Vec<NpmFile>, Vec<String>> {
    if !project.join("node_modules").exists() {
        return Ok(Vec::new());
    }
    let root = std::fs::canonicalize(project).map_err(|e| vec![format!("cannot read `{}`: {e}", project.display())])?;
    let disk = Disk { root, project: project.to_path_buf(), packages: RefCell::default(), errors: RefCell::default() };
    let mut queue: VecDeque<(String, String)> = names
        .iter()
        .map(|n| npm::without_version(n))
        .filter(|n| !n.starts_with('.') && !n.starts_with('/'))
        .map(|n| ("/".to_string(), n.to_string()))
        .collect();
    let mut files: BTreeMap<String, NpmFile> = BTreeMap::new();
    let mut followed: BTreeSet<String> = BTreeSet::new(); // package.json files whose dependencies are queued
    let mut asked: BTreeSet<(String, String)> = BTreeSet::new();
    let mut bytes = 0u64;
    let mut errors = Vec::new();
    while let Some((from, name)) = queue.pop_front() {
        if !asked.insert((from.clone(), name.clone())) || npm::is_builtin(&name) {
            continue;
        }
        // A name nothing answers is not an error here: a built-in module, or an optional
        // require (`try { require('x') } catch ...`); `require` throws at run time.
        if let Some(found) = npm::resolve(&disk, &from, &name)
            && !files.contains_key(&found)
        {
            let dir = npm::parent(&found).unwrap_or_else(|| "/".into());
            if found.ends_with(".js") && disk.in_esm_package(&dir) {
                errors.push(format!(
                    "`{}` is an ES module (its package.json says \"type\": \"module\"), which `require` cannot load",
                    disk.shown(&found).display()
                ));
                continue;
            }
            match read_text_file(&disk.real(&found), MAX_BYTES) {
                Ok(text) => {
                    if !found.ends_with(".json") {
                        for n in npm::literal_requires(&text) {
                            queue.push_back((dir.clone(), n.to_string()));
                        }
                    }
                    bytes += text.len() as u64;
                    files.insert(found.clone(), NpmFile { name: found.clone(), path: disk.shown(&found), text });
                }
                Err(e) => errors.push(format!("cannot read `{}`: {e}", disk.shown(&found).display())),
            }
        }
        // Dependencies of the packages read so far.
        for (dir, (package, _)) in disk.packages.borrow().iter() {
            if let Some(p) = package
                && followed.insert(dir.clone())
            {
                queue.extend(p.dependencies.iter().map(|d| (dir.clone(), d.clone())));
            }
        }
        if files.len() + disk.packages.borrow().len() > MAX_FILES || bytes > MAX_BYTES {
            break;
        }
    }
    let packages = std::mem::take(&mut *disk.packages.borrow_mut());
    for (dir, (package, text)) in packages {
        if package.is_some() {
            let name = format!("{}/package.json", dir.trim_end_matches('/'));
            bytes += text.len() as u64;
            files.insert(name.clone(), NpmFile { path: disk.shown(&name), name, text });
        }
    }
    errors.extend(disk.errors.into_inner());
    if files.len() > MAX_FILES {
        errors.push(format!(
            "the npm packages the rules require need more than {MAX_FILES} files from node_modules (the limit)"
        ));
    } else if bytes > MAX_BYTES {
        errors.push(format!(
            "the npm packages the rules require need more than {} of files from node_modules (the limit)",
            crate::read::size(MAX_BYTES)
        ));
    }
    if errors.is_empty() { Ok(files.into_values().collect()) } else { Err(errors) }
}

/// The project's files as resolution sees them, confined to the project's directory.
struct Disk {
    /// The project's directory, canonical.
    root: PathBuf,
    /// The project's directory as the manifest gave it (for messages and source paths).
    project: PathBuf,
    /// Every `package.json` read, by directory: parsed (`None` when it is not valid) and its
    /// text.
    packages: RefCell<BTreeMap<String, (Option<Package>, String)>>,
    errors: RefCell<Vec<String>>,
}

impl Disk {
    fn real(&self, virtual_path: &str) -> PathBuf {
        self.root.join(virtual_path.trim_start_matches('/'))
    }

    fn shown(&self, virtual_path: &str) -> PathBuf {
        self.project.join(virtual_path.trim_start_matches('/'))
    }

    /// The metadata of a virtual path, if it exists inside the project (symlinks followed;
    /// one that leads outside is an error).
    fn metadata(&self, virtual_path: &str) -> Option<std::fs::Metadata> {
        let real = self.real(virtual_path);
        let canonical = std::fs::canonicalize(&real).ok()?;
        if !canonical.starts_with(&self.root) {
            let m = format!("`{}` leads outside the project's directory", self.shown(virtual_path).display());
            let mut errors = self.errors.borrow_mut();
            if !errors.contains(&m) {
                errors.push(m);
            }
            return None;
        }
        std::fs::metadata(&canonical).ok()
    }

    /// Whether the nearest `package.json` above `dir` (inside its package) says
    /// `"type": "module"`.
    fn in_esm_package(&self, dir: &str) -> bool {
        let mut d = Some(dir.to_string());
        while let Some(x) = d {
            if x.ends_with("/node_modules") || x == "/" {
                return false;
            }
            if self.is_file(&format!("{x}/package.json")) {
                return self.package(&x).is_some_and(|p| p.esm);
            }
            d = npm::parent(&x);
        }
        false
    }
}

impl Files for Disk {
    fn is_file(&self, path: &str) -> bool {
        self.metadata(path).is_some_and(|m| m.is_file())
    }

    fn is_dir(&self, path: &str) -> bool {
        self.metadata(path).is_some_and(|m| m.is_dir())
    }

    fn package(&self, dir: &str) -> Option<Package> {
        let dir = dir.trim_end_matches('/').to_string();
        if let Some((p, _)) = self.packages.borrow().get(&dir) {
            return p.clone();
        }
        let file = format!("{dir}/package.json");
        if !self.is_file(&file) {
            return None;
        }
        let (parsed, text) = match read_text_file(&self.real(&file), MAX_PACKAGE_JSON) {
            Ok(text) => match Package::parse(&text) {
                Ok(p) => (Some(p), text),
                Err(e) => {
                    self.errors.borrow_mut().push(format!("`{}` is not valid: {e}", self.shown(&file).display()));
                    (None, String::new())
                }
            },
            Err(e) => {
                self.errors.borrow_mut().push(format!("cannot read `{}`: {e}", self.shown(&file).display()));
                (None, String::new())
            }
        };
        self.packages.borrow_mut().insert(dir, (parsed.clone(), text));
        parsed
    }
}
