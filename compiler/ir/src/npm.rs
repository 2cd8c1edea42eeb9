//! How `require` finds npm packages: Node's CommonJS resolution (its documented algorithm,
//! `require(X)` from a module in directory `Y`), over a set of files. It is written once and
//! used twice: by the checker over the project's real `node_modules` (which files a pipeline
//! includes) and by the JavaScript runtime over the files the pipeline included (what
//! `require` answers), so both agree on every name.
//!
//! Paths are virtual: `/` is the project's directory (the manifest's), segments are
//! separated by `/`, and no path leaves the project (`..` past `/` resolves to nothing).
//! What resolves: relative names (`./x`, `../x`) as a file (`X`, `X.js`, `X.json`) or a
//! directory (`package.json` `main`, then `index.js`, `index.json`); bare names in the
//! `node_modules` of the requiring directory and of each parent up to `/`; a package's
//! `exports` (a string, subpaths with one `*`, arrays, and the conditions `node`, `require`
//! and `default` in the package's order), which, when present, is the only way into the
//! package.

use serde_json::Value;

/// The files a resolution looks at.
pub trait Files {
    /// A regular file at this virtual path.
    fn is_file(&self, path: &str) -> bool;
    /// A directory at this virtual path.
    fn is_dir(&self, path: &str) -> bool;
    /// The `package.json` of this directory, parsed; `None` when there is none (or it is not
    /// valid: the checker reports that itself).
    fn package(&self, dir: &str) -> Option<Package>;
}

/// What resolution reads from a `package.json`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Package {
    /// `main`, when a non-empty string.
    pub main: Option<String>,
    /// `exports`, when present and not null.
    pub exports: Option<Value>,
    /// `"type": "module"`: its `.js` files are ES modules, which `require` cannot load.
    pub esm: bool,
    /// The names under `dependencies`.
    pub dependencies: Vec<String>,
}

/// Nesting a `package.json` may have (checked before parsing).
pub const MAX_PACKAGE_DEPTH: usize = 64;

impl Package {
    /// Parses a `package.json`; `Err` says why it is not valid.
    pub fn parse(text: &str) -> Result<Package, String> {
        if crate::json_nests_deeper_than(text.as_bytes(), MAX_PACKAGE_DEPTH) {
            return Err(format!("nested more than {MAX_PACKAGE_DEPTH} levels"));
        }
        let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let Value::Object(o) = v else { return Err("not a JSON object".into()) };
        let main = match o.get("main") {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        };
        let dependencies = match o.get("dependencies") {
            Some(Value::Object(d)) => d.keys().cloned().collect(),
            _ => Vec::new(),
        };
        Ok(Package {
            main,
            exports: o.get("exports").filter(|e| !e.is_null()).cloned(),
            esm: o.get("type").and_then(Value::as_str) == Some("module"),
            dependencies,
        })
    }
}

/// The conditions `require` matches in `exports`, as Node's `require` does.
const CONDITIONS: &[&str] = &["node", "require", "default"];

/// The file `require(request)` loads from a module in directory `from` (a virtual path), or
/// `None`. Built-in modules are not resolved here (the caller asks for them first).
pub fn resolve(files: &impl Files, from: &str, request: &str) -> Option<String> {
    if request.is_empty() || request.contains('\\') || request.contains('\0') {
        return None;
    }
    if request == "." || request == ".." || request.starts_with("./") || request.starts_with("../") {
        let base = join(from, request)?;
        return load_as_file(files, &base).or_else(|| load_as_directory(files, &base));
    }
    if request.starts_with('/') {
        return None; // an absolute path names the host's file system
    }
    let (name, rest) = split_package(request)?;
    let mut dir = Some(from.to_string());
    while let Some(d) = dir {
        if !d.ends_with("/node_modules") {
            let root = join(&d, &format!("./node_modules/{name}"))?;
            if files.is_dir(&root) {
                if let Some(exports) = files.package(&root).and_then(|p| p.exports) {
                    return resolve_exports(files, &root, &format!(".{rest}"), &exports);
                }
                let target = join(&root, &format!(".{rest}"))?;
                if let Some(found) = load_as_file(files, &target).or_else(|| load_as_directory(files, &target)) {
                    return Some(found);
                }
            }
        }
        dir = parent(&d);
    }
    None
}

/// `lodash/fp` → (`lodash`, `/fp`); `@scope/pkg/x` → (`@scope/pkg`, `/x`); `lodash` →
/// (`lodash`, ``). `None` for a name no package can have.
pub fn split_package(request: &str) -> Option<(&str, &str)> {
    let mut cut = request.find('/').unwrap_or(request.len());
    if request.starts_with('@') {
        let after = request.get(cut + 1..)?;
        cut += 1 + after.find('/').unwrap_or(after.len());
    }
    let (name, rest) = request.split_at(cut);
    let bad = |s: &str| s.is_empty() || s == "." || s == ".." || s.starts_with('.');
    if name.split('/').any(bad) || rest.split('/').skip(1).any(|s| s == "..") {
        return None;
    }
    Some((name, rest))
}

fn load_as_file(files: &impl Files, x: &str) -> Option<String> {
    [String::new(), ".js".into(), ".json".into()]
        .iter()
        .map(|ext| format!("{x}{ext}"))
        .find(|p| !p.ends_with('/') && files.is_file(p))
}

fn load_index(files: &impl Files, x: &str) -> Option<String> {
    ["index.js", "index.json"].iter().map(|f| format!("{}/{f}", x.trim_end_matches('/'))).find(|p| files.is_file(p))
}

fn load_as_directory(files: &impl Files, x: &str) -> Option<String> {
    if let Some(main) = files.package(x).and_then(|p| p.main) {
        let m = join(x, &format!("./{}", main.trim_start_matches("./")))?;
        if let Some(found) = load_as_file(files, &m).or_else(|| load_index(files, &m)) {
            return Some(found);
        }
    }
    load_index(files, x)
}

/// `exports` of the package at `root` for `subpath` (`.` or `./x`).
fn resolve_exports(files: &impl Files, root: &str, subpath: &str, exports: &Value) -> Option<String> {
    let subpaths = match exports {
        Value::Object(o) if o.keys().next().is_some_and(|k| k.starts_with('.')) => o,
        // A string, an array or conditions: what `.` exports.
        other => return if subpath == "." { target(files, root, other, None) } else { None },
    };
    if let Some(t) = subpaths.get(subpath).filter(|_| !subpath.contains('*')) {
        return target(files, root, t, None);
    }
    // The longest pattern (`./x/*`, `./x/*.js`) whose prefix and suffix fit.
    let mut best: Option<(&str, &Value, &str)> = None;
    for (key, t) in subpaths {
        let Some(star) = key.find('*') else { continue };
        let (prefix, suffix) = (&key[..star], &key[star + 1..]);
        if subpath.len() >= prefix.len() + suffix.len()
            && subpath.starts_with(prefix)
            && subpath.ends_with(suffix)
            && best.is_none_or(|(k, _, _)| prefix.len() > k.len())
        {
            best = Some((prefix, t, &subpath[prefix.len()..subpath.len() - suffix.len()]));
        }
    }
    let (_, t, matched) = best?;
    target(files, root, t, Some(matched))
}

fn target(files: &impl Files, root: &str, t: &Value, star: Option<&str>) -> Option<String> {
    match t {
        Value::String(s) => {
            let s = match star {
                Some(m) if !m.split('/').any(|x| x == ".." || x == "." || x == "node_modules") => s.replace('*', m),
                Some(_) => return None,
                None => s.clone(),
            };
            // Targets stay inside the package: `./` and no `..` or `node_modules` segment.
            if !s.starts_with("./") || s.split('/').skip(1).any(|x| x == ".." || x == "." || x == "node_modules") {
                return None;
            }
            let path = join(root, &s)?;
            files.is_file(&path).then_some(path)
        }
        Value::Array(a) => a.iter().find_map(|t| target(files, root, t, star)),
        Value::Object(o) => {
            o.iter().filter(|(k, _)| CONDITIONS.contains(&k.as_str())).find_map(|(_, t)| target(files, root, t, star))
        }
        _ => None,
    }
}

/// `dir` joined with a relative path (`./x`, `../x`, `x`), normalized; `None` past `/`.
pub fn join(dir: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
    for seg in rel.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    let mut out = String::from("/");
    out.push_str(&parts.join("/"));
    if rel.ends_with('/') && out.len() > 1 {
        out.push('/');
    }
    Some(out)
}

/// The directory holding a virtual path (`None` for `/`).
pub fn parent(path: &str) -> Option<String> {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return None;
    }
    let cut = trimmed.rfind('/')?;
    Some(if cut == 0 { "/".into() } else { trimmed[..cut].to_string() })
}

/// The names of literal `require('name')` / `require("name")` calls in JavaScript text
/// (what the checker follows to decide which files a pipeline includes). A `require`
/// preceded by a letter, digit, `_`, `$` or `.` is another function and is skipped.
pub fn literal_requires(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    for (at, _) in text.match_indices("require") {
        let before = at.checked_sub(1).map(|i| bytes[i]);
        if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b == b'.') {
            continue;
        }
        let rest = text[at + "require".len()..].trim_start();
        let Some(rest) = rest.strip_prefix('(') else { continue };
        let rest = rest.trim_start();
        let Some(quote) = rest.chars().next().filter(|c| *c == '\'' || *c == '"') else { continue };
        let Some(end) = rest[1..].find([quote, '\n']) else { continue };
        let name = &rest[1..1 + end];
        if rest[1 + end..].starts_with(quote) && !name.is_empty() && !name.contains('\\') {
            out.push(name);
        }
    }
    out
}

/// The modules warden's runtime answers itself (`require` finds them before `node_modules`,
/// also as `node:name`): a package of the same name in `node_modules` is never loaded, so
/// the checker does not include it (`request`, installed for Auth0's sake, would pull in
/// dozens of packages).
pub const BUILTIN_MODULES: &[&str] = &[
    "crypto",
    "querystring",
    "url",
    "buffer",
    "util",
    "events",
    "stream",
    "assert",
    "string_decoder",
    "path",
    "punycode",
    "timers",
    "request",
    "axios",
    "node-fetch",
    "auth0",
];

/// Whether `require(name)` is answered by a built-in module.
pub fn is_builtin(name: &str) -> bool {
    let name = without_version(name);
    BUILTIN_MODULES.contains(&name.strip_prefix("node:").unwrap_or(name))
}

/// The globals Auth0 injected without `require`, and the packages behind them: the runtime
/// defines each when its package was included, and the checker includes the package when a
/// rule or module mentions the global ([`mentions`]).
pub const INJECTED: &[(&str, &str)] = &[("_", "lodash"), ("uuid", "uuid"), ("jwt", "jsonwebtoken")];

/// Whether JavaScript text uses the identifier `name` (not as part of a longer identifier,
/// nor as a property after `.`): a conservative test, so strings and comments count too.
pub fn mentions(text: &str, name: &str) -> bool {
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'$';
    let bytes = text.as_bytes();
    text.match_indices(name).any(|(at, _)| {
        let before = at.checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(at + name.len()).copied();
        !before.is_some_and(|b| ident(b) || b == b'.') && !after.is_some_and(ident)
    })
}

/// A name without its `@version` (`lodash@4.17.21`, `@scope/pkg@1.0`), as `require` ignores it.
pub fn without_version(name: &str) -> &str {
    match name.rfind('@') {
        Some(i) if i > 0 => &name[..i],
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    struct Set(BTreeMap<&'static str, &'static str>);
    impl Files for Set {
        fn is_file(&self, p: &str) -> bool {
            self.0.contains_key(p)
        }
        fn is_dir(&self, p: &str) -> bool {
            let prefix = format!("{}/", p.trim_end_matches('/'));
            self.0.keys().any(|k| k.starts_with(&prefix))
        }
        fn package(&self, dir: &str) -> Option<Package> {
            self.0
                .get(format!("{}/package.json", dir.trim_end_matches('/')).as_str())
                .and_then(|t| Package::parse(t).ok())
        }
    }

    fn set(files: &[(&'static str, &'static str)]) -> Set {
        Set(files.iter().copied().collect())
    }

    #[test]
    fn node_resolution() {
        let fs = set(&[
            ("/node_modules/a/package.json", r#"{"main": "lib/a"}"#),
            ("/node_modules/a/lib/a.js", ""),
            ("/node_modules/a/lib/x/index.js", ""),
            ("/node_modules/a/node_modules/b/index.js", ""),
            ("/node_modules/b/index.json", ""),
            (
                "/node_modules/c/package.json",
                r#"{"exports": {".": {"import": "./m.mjs", "node": {"module": "./n.mjs", "require": "./c.js"}}, "./sub/*": "./lib/*.js", "./package.json": "./package.json"}}"#,
            ),
            ("/node_modules/c/c.js", ""),
            ("/node_modules/c/lib/deep/x.js", ""),
            ("/node_modules/c/hidden.js", ""),
            ("/node_modules/@s/p/index.js", ""),
        ]);
        assert_eq!(resolve(&fs, "/", "a").as_deref(), Some("/node_modules/a/lib/a.js"));
        assert_eq!(resolve(&fs, "/node_modules/a/lib", "./x").as_deref(), Some("/node_modules/a/lib/x/index.js"));
        assert_eq!(
            resolve(&fs, "/node_modules/a/lib", "b").as_deref(),
            Some("/node_modules/a/node_modules/b/index.js")
        );
        assert_eq!(resolve(&fs, "/node_modules/c", "b").as_deref(), Some("/node_modules/b/index.json"));
        assert_eq!(resolve(&fs, "/", "c").as_deref(), Some("/node_modules/c/c.js"));
        assert_eq!(resolve(&fs, "/", "c/sub/deep/x").as_deref(), Some("/node_modules/c/lib/deep/x.js"));
        assert_eq!(resolve(&fs, "/", "c/hidden.js"), None);
        assert_eq!(resolve(&fs, "/", "c/package.json").as_deref(), Some("/node_modules/c/package.json"));
        assert_eq!(resolve(&fs, "/", "@s/p").as_deref(), Some("/node_modules/@s/p/index.js"));
        assert_eq!(resolve(&fs, "/", "../etc/passwd"), None);
        assert_eq!(resolve(&fs, "/", "/etc/passwd"), None);
        assert_eq!(resolve(&fs, "/", "fs"), None);
    }

    #[test]
    fn literal_requires_and_names() {
        let text = "var a = require('a'); const b = require ( \"@s/b/x\" ); x.require('no'); myrequire('no'); require(dynamic + 'x'); require('bad\nname')";
        assert_eq!(literal_requires(text), vec!["a", "@s/b/x"]);
        assert_eq!(split_package("@s/b/x"), Some(("@s/b", "/x")));
        assert_eq!(split_package("lodash"), Some(("lodash", "")));
        assert_eq!(split_package("../x"), None);
        assert_eq!(without_version("@s/b@1.0.0"), "@s/b");
        assert!(mentions("x = _.get(u)", "_") && !mentions("my_var.a_b", "_") && mentions("jwt.sign()", "jwt"));
        assert!(!mentions("context.jwt = 1; const jwtToken = 2", "jwt"));
        assert!(Package::parse(&"[".repeat(100_000)).is_err());
        assert!(Package::parse("{").is_err());
    }
}
