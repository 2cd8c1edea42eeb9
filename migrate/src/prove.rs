//! The proof of a translation: the JavaScript rule (in warden's QuickJS runtime) and its
//! `.rule` (on the interpreter and on the JIT) run on the same generated logins and must give
//! the same outcome. Logins are built from the schema and from the literals the rule
//! compares with, with their near misses (case, surrounding spaces, trailing dots, IPv4-mapped
//! IPv6, neighbours of networks, missing fields, nulls, values of the wrong type where the data
//! is dynamic), so that they reach every branch the rule has.
//!
//! What "the same outcome" means (docs/migrating.md, "What the proof compares"): every field
//! of the outcome (decision, error code and description, user, claims, scope, MFA, redirect,
//! SAML configuration, primary user, logs), except that
//! - when both sides stop on a rule error, the error's wording and location are not compared
//!   (a JavaScript exception and a `.rule` type error are worded differently),
//! - when both sides deny, the `user` is not compared (a JavaScript rule that calls back with
//!   an error leaves the user as it was before it, a `.rule` as its statements before the
//!   `deny` left it; no host applies the user of a denied login), and
//! - metadata effects are compared by what they do to the stored profile: the same kinds,
//!   users and rules, and the same metadata once every patch is applied to the user's (a
//!   JavaScript rule that saves `user.app_metadata` whole sends every key, its `.rule` only
//!   the keys it wrote; the stored result is the same).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value as Json, json};
use warden::{Backend, Exec, FieldType, Pipeline};

use crate::translate::{ALWAYS_PRESENT, Translation};

/// One generated login.
#[derive(Clone, Debug, PartialEq)]
pub struct Login {
    pub user: Json,
    pub context: Json,
    /// Epoch milliseconds.
    pub now: i64,
}

/// The two sides of a proof, loaded.
#[derive(Debug)]
pub struct Sides {
    pub js: Pipeline,
    pub rule: Pipeline,
}

/// What a proof found.
#[derive(Debug)]
pub enum Verdict {
    /// Every login agreed; how their outcomes were spread (on the `.rule` side).
    Equal(Tally),
    /// Some logins disagreed: how many, and the first one found, shrunk to the fewest fields
    /// that still disagree, with both outcomes.
    Differ { count: usize, of: usize, login: Box<Login>, js: Box<Json>, rule: Box<Json>, why: String },
}

/// How the logins of a proof ended (on the `.rule` side), so that a proof whose logins all
/// end the same way shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub logins: usize,
    pub allow: usize,
    pub deny: usize,
    pub rule_error: usize,
    pub input_error: usize,
    /// Branch sides of the `.rule` the logins took, of all (`warden test --coverage`'s count).
    pub branches: (usize, usize),
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} logins ({} allowed, {} denied, {} rule errors, {} input errors), taking {} of the {} branch sides of the .rule",
            self.logins, self.allow, self.deny, self.rule_error, self.input_error, self.branches.0, self.branches.1
        )
    }
}

/// Loads the two sides: `project` is the directory whose `warden.toml` (when `manifest` is
/// given) lends its other sections (configuration, schema, modules, http) to both; `js_file`
/// is the JavaScript rule's path relative to `project`. The manifests and the `.rule` are
/// written next to the project's manifest for the time of the load (so that relative paths
/// keep their meaning) and removed again.
pub fn load(
    project: &Path,
    manifest: Option<&str>,
    js_file: &str,
    name: &str,
    rule_text: &str,
    config_keys: &BTreeSet<String>,
) -> Result<Sides, String> {
    let shared = match manifest {
        Some(text) => shared_sections(text)?,
        None => Shared::default(),
    };
    let tag = format!(".warden-migrate-{}-{}", std::process::id(), unique());
    let scratch = Scratch(vec![
        project.join(format!("{tag}.rule")),
        project.join(format!("{tag}-js.toml")),
        project.join(format!("{tag}-rule.toml")),
    ]);
    let entry = |file: &str| {
        format!(
            "[pipeline]\nrules = [{{ file = {}, name = {} }}]\n{}\n",
            toml_string(file),
            toml_string(name),
            shared.pipeline_keys
        )
    };
    let write = |p: &PathBuf, text: &str| std::fs::write(p, text).map_err(|e| format!("{}: {e}", p.display()));
    write(&scratch.0[0], rule_text)?;
    write(&scratch.0[1], &format!("{}\n{}", entry(js_file), shared.rest))?;
    write(&scratch.0[2], &format!("{}\n{}", entry(&format!("{tag}.rule")), shared.rest))?;
    let js = Pipeline::from_manifest(&scratch.0[1])
        .map_err(|e| format!("the JavaScript rule does not load: {}", render_load(&e)))?;
    let rule = Pipeline::from_manifest(&scratch.0[2])
        .map_err(|e| format!("the translation does not check: {}", render_load(&e)))?;
    drop(scratch);
    let mut sides = Sides { js, rule };
    // Configuration the environment does not give gets the same stand-in value on both sides.
    for p in [&mut sides.js, &mut sides.rule] {
        let mut keys: BTreeSet<String> = p.missing_config().into_iter().map(|k| k.key).collect();
        // Without a [configuration] table, keys the rule reads are missing unless given.
        let declared: BTreeSet<&str> = p.config_spec().iter().map(|k| k.key.as_str()).collect();
        keys.extend(config_keys.iter().filter(|k| !declared.contains(k.as_str())).cloned());
        for key in keys {
            for value in [config_value(&key), "1".into(), "true".into(), "[]".into()] {
                if p.set_config(key.clone(), value).is_ok() {
                    break;
                }
            }
        }
    }
    Ok(sides)
}

/// A stand-in configuration value shaped like what its name suggests (a URL for `..._URL`),
/// so that rules building URLs from it do not all stop on the same error.
fn config_value(key: &str) -> String {
    let k = key.to_ascii_uppercase();
    if k.contains("URL") || k.contains("ENDPOINT") || k.contains("HOOK") {
        format!("https://{}.example.com/path", key.to_ascii_lowercase().replace('_', "-"))
    } else if k.contains("DOMAIN") || k.contains("HOST") {
        "tenant.example.com".into()
    } else {
        format!("proof-{key}")
    }
}

fn render_load(e: &warden::LoadError) -> String {
    e.to_string()
}

/// The manifest's sections other than the pipeline's rules.
#[derive(Debug, Default)]
struct Shared {
    /// `[pipeline]` keys other than `rules` (claim mode, time budget ...), as TOML lines.
    pipeline_keys: String,
    /// Every other table.
    rest: String,
}

impl std::fmt::Display for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.pipeline_keys, self.rest)
    }
}

fn shared_sections(text: &str) -> Result<Shared, String> {
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| format!("warden.toml: {e}"))?;
    let mut pipeline_keys = String::new();
    if let Some(p) = doc.get("pipeline").and_then(|p| p.as_table()) {
        for (k, v) in p.iter() {
            if k != "rules" {
                pipeline_keys.push_str(&format!("{k} = {}\n", v.to_string().trim()));
            }
        }
    }
    doc.remove("pipeline");
    Ok(Shared { pipeline_keys, rest: doc.to_string() })
}

fn toml_string(s: &str) -> String {
    toml_edit::Value::from(s).to_string().trim().to_string()
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// Files removed when dropped.
struct Scratch(Vec<PathBuf>);

impl Drop for Scratch {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

// ---- running and comparing ----------------------------------------------------------------

fn run(p: &Pipeline, login: &Login, backend: Backend) -> Json {
    match p.execute(&login.user, &login.context, &Exec::at(login.now).on(backend)) {
        Ok(o) => warden::outcome_whole(&o),
        Err(e) => json!({ "input_error": e.to_string() }),
    }
}

/// An outcome as the proof compares it (see the module's documentation).
fn comparable(mut o: Json, login: &Login, both_rule_errors: bool, both_denied: bool) -> Json {
    if both_rule_errors && let Some(e) = o.get_mut("error").and_then(Json::as_object_mut) {
        e.shift_remove("description");
        e.shift_remove("location");
    }
    if let Some(m) = o.as_object_mut() {
        if both_denied {
            m.shift_remove("user");
        }
        m.shift_remove("trace");
        if let Some(effects) = m.shift_remove("effects") {
            m.insert("effects".into(), stored(&effects, &login.user));
        }
    }
    o
}

/// Effects as what they do: who asked for which kind, and the metadata after every patch.
fn stored(effects: &Json, user: &Json) -> Json {
    let mut asked = BTreeSet::new();
    let mut app = user.get("app_metadata").cloned().filter(Json::is_object).unwrap_or_else(|| json!({}));
    let mut meta = user.get("user_metadata").cloned().filter(Json::is_object).unwrap_or_else(|| json!({}));
    let mut any = (false, false);
    for e in effects.as_array().into_iter().flatten() {
        let kind = e["kind"].as_str().unwrap_or_default().to_string();
        asked.insert(format!("{kind} {} by {}", e["user_id"], e["rule"]));
        let target = if kind.contains("app") {
            any.0 = true;
            &mut app
        } else {
            any.1 = true;
            &mut meta
        };
        if let (Some(t), Some(patch)) = (target.as_object_mut(), e["patch"].as_object()) {
            for (k, v) in patch {
                if v.is_null() {
                    t.shift_remove(k);
                } else {
                    t.insert(k.clone(), v.clone());
                }
            }
        }
    }
    let mut out = Map::new();
    out.insert("asked".into(), json!(asked.into_iter().collect::<Vec<_>>()));
    if any.0 {
        out.insert("app_metadata".into(), app);
    }
    if any.1 {
        out.insert("user_metadata".into(), meta);
    }
    Json::Object(out)
}

/// Whether the two sides disagree on a login: `Some((js, rule, why))`.
pub fn disagreement(sides: &Sides, login: &Login) -> Option<(Json, Json, String)> {
    let j = run(&sides.js, login, Backend::Interp);
    let r = run(&sides.rule, login, Backend::Interp);
    let jit = run(&sides.rule, login, Backend::Jit);
    if serde_json::to_vec(&r).ok() != serde_json::to_vec(&jit).ok() {
        return Some((r, jit, "the .rule's interpreter and JIT disagree (a warden bug: please report it)".into()));
    }
    let both = j["error"]["cause"] == "rule_error" && r["error"]["cause"] == "rule_error";
    let denied = j["decision"] == "deny" && r["decision"] == "deny";
    let (cj, cr) = (comparable(j.clone(), login, both, denied), comparable(r.clone(), login, both, denied));
    if cj == cr {
        return None;
    }
    let keys: Vec<String> = match (cj.as_object(), cr.as_object()) {
        (Some(a), Some(b)) => a
            .keys()
            .chain(b.keys().filter(|k| !a.contains_key(*k)))
            .filter(|k| a.get(*k) != b.get(*k))
            .cloned()
            .collect(),
        _ => vec!["the whole outcome".into()],
    };
    Some((j, r, format!("they differ on {}", keys.join(", "))))
}

/// Runs the proof on `logins` generated logins.
pub fn prove(sides: &Sides, t: &Translation, logins: usize, seed: u64) -> Verdict {
    let model = Model::new(t);
    let mut tally = Tally { logins, ..Tally::default() };
    let mut coverage = warden::Coverage::default();
    let mut first: Option<Login> = None;
    let mut count = 0;
    for i in 0..logins {
        let login = model.login(&mut Gen::for_case(seed, i as u64));
        if disagreement(sides, &login).is_some() {
            count += 1;
            first.get_or_insert(login);
            continue;
        }
        let o = match sides.rule.decode(login.user.clone(), login.context.clone(), login.now) {
            Ok(d) => warden::outcome_whole(&sides.rule.run_covered(d, &Exec::at(login.now), &mut coverage)),
            Err(e) => json!({ "input_error": e.to_string() }),
        };
        if let Some(e) = o.get("input_error") {
            if tally.input_error == 0 && std::env::var_os("WARDEN_MIGRATE_DEBUG").is_some() {
                eprintln!("input error: {e}\n  user: {}\n  context: {}", login.user, login.context);
            }
            tally.input_error += 1;
        } else {
            match o["error"]["cause"].as_str() {
                None => tally.allow += 1,
                Some("rule_error") => {
                    if tally.rule_error == 0 && std::env::var_os("WARDEN_MIGRATE_DEBUG").is_some() {
                        eprintln!("rule error: {}\n  user: {}\n  context: {}", o["error"], login.user, login.context);
                    }
                    tally.rule_error += 1
                }
                Some(_) => tally.deny += 1,
            }
        }
    }
    for file in sides.rule.coverage_by_file(&coverage).values() {
        let (hit, all) = file.branches_covered();
        tally.branches.0 += hit;
        tally.branches.1 += all;
    }
    let Some(login) = first else { return Verdict::Equal(tally) };
    let small = shrink(sides, login);
    let (js, rule, why) = disagreement(sides, &small)
        .unwrap_or_else(|| (Json::Null, Json::Null, "(it no longer disagrees once shrunk)".into()));
    Verdict::Differ { count, of: logins, login: Box::new(small), js: Box::new(js), rule: Box::new(rule), why }
}

// ---- shrinking ----------------------------------------------------------------------------

fn paths(v: &Json, at: &mut Vec<Json>, out: &mut Vec<Vec<Json>>) {
    match v {
        Json::Object(m) => {
            for (k, child) in m {
                at.push(json!(k));
                out.push(at.clone());
                paths(child, at, out);
                at.pop();
            }
        }
        Json::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                at.push(json!(i));
                out.push(at.clone());
                paths(child, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn remove(v: &mut Json, path: &[Json]) -> bool {
    let Some((last, parents)) = path.split_last() else { return false };
    let mut at = v;
    for p in parents {
        let next = match (at, p) {
            (Json::Object(m), Json::String(k)) => m.get_mut(k),
            (Json::Array(a), Json::Number(i)) => i.as_u64().and_then(|i| a.get_mut(i as usize)),
            _ => None,
        };
        match next {
            Some(n) => at = n,
            None => return false,
        }
    }
    match (at, last) {
        (Json::Object(m), Json::String(k)) => m.shift_remove(k).is_some(),
        (Json::Array(a), Json::Number(i)) => match i.as_u64().map(|i| i as usize) {
            Some(i) if i < a.len() => {
                a.remove(i);
                true
            }
            _ => false,
        },
        _ => false,
    }
}

/// The login with as few fields as still disagree (fields Auth0 always sends are kept).
fn shrink(sides: &Sides, mut login: Login) -> Login {
    let mut changed = true;
    let mut budget = 2_000;
    while changed && budget > 0 {
        changed = false;
        for which in [0, 1] {
            let mut all = Vec::new();
            paths(if which == 0 { &login.user } else { &login.context }, &mut Vec::new(), &mut all);
            for path in all.into_iter().rev() {
                let dotted = format!(
                    "{}.{}",
                    if which == 0 { "user" } else { "context" },
                    path.iter()
                        .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_string))
                        .collect::<Vec<_>>()
                        .join(".")
                );
                if ALWAYS_PRESENT.contains(&dotted.as_str()) {
                    continue;
                }
                budget -= 1;
                if budget == 0 {
                    break;
                }
                let mut smaller = login.clone();
                let doc = if which == 0 { &mut smaller.user } else { &mut smaller.context };
                if remove(doc, &path) && disagreement(sides, &smaller).is_some() {
                    login = smaller;
                    changed = true;
                }
            }
        }
    }
    login
}

// ---- generated logins ---------------------------------------------------------------------

/// A deterministic pseudo-random source (SplitMix64): proofs are reproducible from a seed.
#[derive(Clone, Debug)]
pub struct Gen(u64);

impl Gen {
    pub fn for_case(seed: u64, i: u64) -> Gen {
        let mut g = Gen(seed ^ 0x5bd1_e995_u64.wrapping_mul(i.wrapping_add(1)));
        let s = g.next();
        Gen(s ^ i)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, num: usize, den: usize) -> bool {
        self.below(den) < num
    }
    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }
}

/// What the logins of one rule are made of.
struct Model {
    /// Paths the rule reads, deepest first, with their schema types.
    reads: Vec<(Vec<String>, FieldType)>,
    /// Strings to draw from: the rule's literals, their near misses, and ordinary values.
    strings: Vec<String>,
    literals: Vec<String>,
    near: Vec<String>,
    emails: Vec<String>,
    ips: Vec<String>,
    numbers: Vec<i64>,
    uses_time: bool,
    /// Per input path, the literals the rule compares it with, and their near misses.
    compared: std::collections::BTreeMap<String, (Vec<String>, Vec<String>)>,
}

const NOW: i64 = 1_764_158_400_000; // 2025-11-26T12:00:00Z
const DAY: i64 = 86_400_000;

impl Model {
    fn new(t: &Translation) -> Model {
        let mut strings: BTreeSet<String> = BTreeSet::new();
        let mut literals: BTreeSet<String> = BTreeSet::new();
        let mut near: BTreeSet<String> = BTreeSet::new();
        let mut emails: BTreeSet<String> =
            ["ada@example.com", "Grace.Hopper@Example.ORG", "linus@partner.example", "a@b@evil.com", "nobody"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        let mut ips: BTreeSet<String> =
            ["188.6.125.49", "10.1.2.3", "192.168.1.20", "2001:db8::7", "::ffff:10.0.0.1", "::1"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        let mut numbers: BTreeSet<i64> = [0, 1, 2, 3, 5, 10, 100].into_iter().collect();
        for lit in &t.literals {
            if let Ok(n) = lit.parse::<i64>() {
                numbers.extend([n - 1, n, n + 1]);
                continue;
            }
            strings.insert(lit.clone());
            literals.insert(lit.clone());
            for n in near_misses(lit) {
                strings.insert(n.clone());
                near.insert(n);
            }
            if let Some(addrs) = addresses_around(lit) {
                ips.extend(addrs);
            }
            let domain = lit.trim_start_matches('@');
            if domain.contains('.')
                && !domain.contains('@')
                && !domain.contains('/')
                && !domain.contains(' ')
                && !domain.contains(':')
            {
                for local in ["ada", "Ada.Lovelace"] {
                    emails.insert(format!("{local}@{domain}"));
                    emails.insert(format!("{local}@{}", domain.to_uppercase()));
                    emails.insert(format!("{local}@sub.{domain}"));
                    emails.insert(format!("{local}@{domain}.evil.com"));
                    emails.insert(format!("{local}@{domain}."));
                }
                emails.insert(format!("evil.com@{domain}"));
                emails.insert(format!("{domain}@evil.com"));
            }
            if lit.contains('@') && !lit.contains(' ') {
                emails.insert(lit.clone());
                emails.insert(lit.to_uppercase());
                emails.insert(format!(" {lit}"));
            }
        }
        strings.extend(["", "admin", "Default App", "openid profile email"].iter().map(|s| s.to_string()));
        let mut reads: Vec<(Vec<String>, FieldType)> = t
            .reads
            .iter()
            .filter_map(|p| {
                let parts: Vec<String> = p.split('.').map(str::to_string).collect();
                let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
                let ty = warden::schema_field(&refs).unwrap_or(FieldType::Any);
                (parts.len() > 1).then_some((parts, ty))
            })
            .collect();
        reads.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        Model {
            reads,
            strings: strings.into_iter().collect(),
            literals: literals.into_iter().collect(),
            near: near.into_iter().collect(),
            emails: emails.into_iter().collect(),
            ips: ips.into_iter().collect(),
            numbers: numbers.into_iter().collect(),
            uses_time: t.uses_time,
            compared: t
                .compared
                .iter()
                .map(|(p, lits)| {
                    let near: Vec<String> = lits.iter().flat_map(|l| near_misses(l)).collect();
                    (p.clone(), (lits.iter().cloned().collect(), near))
                })
                .collect(),
        }
    }

    fn login(&self, g: &mut Gen) -> Login {
        let now = if self.uses_time && g.chance(2, 3) {
            // Any quarter hour of 2024-2027, give or take a millisecond.
            1_704_067_200_000 + g.below(4 * 365) as i64 * DAY + g.below(96) as i64 * 900_000 + g.pick(&[-1, 0, 0, 1])
        } else {
            NOW
        };
        let mut login = Login { user: base_user(g), context: base_context(g), now };
        for (path, ty) in &self.reads {
            let dotted = path.join(".");
            // A user always has an id (Auth0's `user_id`, a non-empty string).
            if dotted == "user.user_id" {
                continue;
            }
            let frame = ALWAYS_PRESENT.contains(&dotted.as_str());
            // Objects of the schema keep their fields (varied on their own), or now and then
            // go missing.
            // Dynamic objects the rule reads fields of (query, body) are objects in the input
            // (anything else is an input error), and metadata is an object or missing, as
            // Auth0 keeps it.
            let container = self.reads.iter().any(|(other, _)| other.len() > path.len() && other.starts_with(path));
            let metadata = dotted == "user.app_metadata" || dotted == "user.user_metadata";
            if (container || metadata) && *ty == FieldType::Any {
                if !frame && g.chance(1, 10) {
                    unset(&mut login, path);
                }
                continue;
            }
            if *ty == FieldType::Object {
                if !frame && g.chance(1, 10) {
                    unset(&mut login, path);
                }
                continue;
            }
            // Each read path varies in most logins, and keeps the base value in the others.
            if !g.chance(3, 4) {
                continue;
            }
            let value = match self.value(g, path, ty, now, frame) {
                Some(v) => v,
                None if frame => continue,
                None => {
                    unset(&mut login, path);
                    continue;
                }
            };
            set(&mut login, path, value);
        }
        login
    }

    /// A value for `path`, or `None` to leave it out. Known fields get values of their type
    /// (anything else is an input error, which both sides report alike and tells nothing);
    /// dynamic data gets anything.
    fn value(&self, g: &mut Gen, path: &[String], ty: &FieldType, now: i64, frame: bool) -> Option<Json> {
        if !frame && g.chance(1, 10) {
            return if g.chance(1, 2) { None } else { Some(Json::Null) };
        }
        let last = path.last().map(String::as_str).unwrap_or_default();
        Some(match ty {
            FieldType::Bool => json!(g.chance(1, 2)),
            FieldType::Int | FieldType::Float => json!(g.pick(&self.numbers)),
            FieldType::Time => {
                let at =
                    now - g.pick(&[0, 1, 29, 30, 31, 89, 90, 91, 365, 3650]) * DAY + g.pick(&[-1, 0, 1]) * 3_600_000;
                if g.chance(1, 3) { json!(at) } else { json!(iso(at)) }
            }
            FieldType::Str => json!(self.string(g, path, last)),
            FieldType::OneOf(values) => json!(g.pick(values)),
            FieldType::List(item) if **item == FieldType::Object => {
                // Objects with the names lists of objects are searched by.
                let n = g.pick(&[0, 1, 1, 2]);
                json!(
                    (0..n)
                        .map(|_| {
                            let s = g.pick(&self.strings);
                            json!({ "name": s, "connection": s, "provider": s })
                        })
                        .collect::<Vec<_>>()
                )
            }
            FieldType::List(_) => {
                let n = g.pick(&[0, 1, 1, 2, 3]);
                json!((0..n).map(|_| self.string(g, path, last)).collect::<Vec<_>>())
            }
            FieldType::Object => return Some(json!({})),
            FieldType::Any => match g.below(10) {
                0..=3 => json!(self.string(g, path, last)),
                4..=5 => {
                    let n = g.pick(&[0, 1, 2, 3]);
                    json!((0..n).map(|_| json!(g.pick(&self.strings))).collect::<Vec<_>>())
                }
                6 => json!(g.pick(&self.numbers)),
                7 => json!(g.chance(1, 2)),
                8 => json!({ g.pick(&self.strings): g.pick(&self.strings) }),
                _ => json!(g.pick(&[json!(""), json!(0), json!(false), json!([]), json!({})])),
            },
        })
    }

    fn string(&self, g: &mut Gen, path: &[String], last: &str) -> String {
        let joined = path.join(".");
        if let Some((lits, near)) = self.compared.get(&joined)
            && !lits.is_empty()
            && joined != "context.protocol"
        {
            match g.below(10) {
                0..=4 => return g.pick(lits),
                5..=6 if !near.is_empty() => return g.pick(near),
                _ => {}
            }
        }
        if joined == "context.protocol" {
            let mut options: Vec<String> = warden::PROTOCOLS.iter().map(|s| s.to_string()).collect();
            options.extend(self.strings.iter().filter(|s| warden::PROTOCOLS.contains(&s.as_str())).cloned());
            return g.pick(&options);
        }
        if last.contains("email") && g.chance(3, 4) {
            return g.pick(&self.emails);
        }
        if (last == "ip" || last.ends_with("_ip")) && g.chance(3, 4) {
            return g.pick(&self.ips);
        }
        if last == "scope" && g.chance(1, 2) {
            let n = g.below(4);
            return (0..n)
                .map(|_| g.pick(&self.strings))
                .filter(|s| !s.is_empty() && !s.contains(' '))
                .collect::<Vec<_>>()
                .join(" ");
        }
        // The rule's own literals and their near misses most of the time: they decide.
        match g.below(10) {
            0..=3 if !self.literals.is_empty() => g.pick(&self.literals),
            4..=6 if !self.near.is_empty() => g.pick(&self.near),
            _ => g.pick(&self.strings),
        }
    }
}

fn iso(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3600, rem % 3600 / 60, rem % 60, ms.rem_euclid(1000))
}

fn base_user(g: &mut Gen) -> Json {
    let mut user = json!({
        "user_id": g.pick(&["auth0|5f7c8ec7c33c6c004bbafe82", "google-oauth2|104493711111", "samlp|acme|ada@acme.example"]),
        "email": g.pick(&["ada@example.com", "grace@example.org", "Ada.Lovelace@Example.com"]),
        "email_verified": g.chance(4, 5),
        "name": g.pick(&["Ada Lovelace", "Grace Hopper", "Linus"]),
        "nickname": "ada",
        "picture": "https://cdn.auth0.com/avatars/ad.png",
        "created_at": "2024-03-01T10:00:00.000Z",
        "logins_count": g.below(40) as i64 + 1,
        "app_metadata": {},
        "user_metadata": {},
        "identities": [{"connection": "Username-Password-Authentication", "provider": "auth0", "user_id": "5f7c8ec7", "isSocial": false}]
    });
    if g.chance(1, 6)
        && let Some(m) = user.as_object_mut()
    {
        m.shift_remove("app_metadata");
    }
    user
}

fn base_context(g: &mut Gen) -> Json {
    json!({
        "tenant": "example",
        "clientID": g.pick(&["k3Zx8wJ2mQ", "q2hnPxmTUA"]),
        "clientName": g.pick(&["Default App", "Dashboard"]),
        "connection": g.pick(&["Username-Password-Authentication", "google-oauth2"]),
        "connectionStrategy": "auth0",
        "protocol": g.pick(&["oidc-basic-profile", "oidc-basic-profile", "redirect-callback", "oauth2-refresh-token", "samlp"]),
        "stats": { "loginsCount": g.below(12) as i64 + 1 },
        "sso": { "with_auth0": false, "with_dbconn": false, "current_clients": [] },
        "accessToken": {},
        "idToken": {},
        "sessionID": "pOIx8Tq2-6fE",
        "request": {
            "userAgent": "Mozilla/5.0",
            "ip": g.pick(&["188.6.125.49", "10.1.2.3"]),
            "hostname": "login.example.com",
            "query": { "scope": "openid profile email", "response_type": "code" },
            "body": {},
            "geoip": { "country_code": "GR", "country_name": "Greece", "time_zone": "Europe/Athens" }
        },
        "authentication": { "methods": [{ "name": "pwd", "timestamp": 1_764_150_000_000_i64 }] },
        "authorization": { "roles": [] }
    })
}

fn set(login: &mut Login, path: &[String], value: Json) {
    let (root, rest) = match path.split_first() {
        Some((r, rest)) if !rest.is_empty() => (r, rest),
        _ => return,
    };
    let mut at = if root == "user" {
        &mut login.user
    } else if root == "context" {
        &mut login.context
    } else {
        return;
    };
    let Some((last, parents)) = rest.split_last() else { return };
    for p in parents {
        if !at.get(p).is_some_and(Json::is_object) {
            at[p.as_str()] = json!({});
        }
        at = &mut at[p.as_str()];
    }
    at[last.as_str()] = value;
}

fn unset(login: &mut Login, path: &[String]) {
    let (root, rest) = match path.split_first() {
        Some((r, rest)) if !rest.is_empty() => (r, rest),
        _ => return,
    };
    let mut at = if root == "user" {
        &mut login.user
    } else if root == "context" {
        &mut login.context
    } else {
        return;
    };
    let Some((last, parents)) = rest.split_last() else { return };
    for p in parents {
        match at.get_mut(p.as_str()) {
            Some(n) => at = n,
            None => return,
        }
    }
    if let Some(m) = at.as_object_mut() {
        m.shift_remove(last.as_str());
    }
}

/// Strings close to `s` that a careless comparison would confuse with it.
fn near_misses(s: &str) -> Vec<String> {
    if s.is_empty() || s.len() > 200 {
        return Vec::new();
    }
    let mut out = vec![
        s.to_uppercase(),
        s.to_lowercase(),
        format!("{s} "),
        format!(" {s}"),
        format!("{s}."),
        format!("x{s}"),
        format!("{s}x"),
    ];
    let mut chars = s.chars();
    if let Some(first) = chars.next() {
        out.push(first.to_uppercase().chain(chars).collect());
    }
    if s.chars().count() > 1 {
        out.push(s.chars().take(s.chars().count() - 1).collect());
    }
    out
}

/// Addresses inside, at the edges of and just outside a network or address literal, in both
/// IPv4 and IPv4-mapped IPv6 forms.
fn addresses_around(s: &str) -> Option<Vec<String>> {
    let (addr, bits) = match s.split_once('/') {
        Some((a, b)) => (a, b.parse::<u32>().ok()?),
        None => (s, 32),
    };
    let v4: std::net::Ipv4Addr = match addr.parse() {
        Ok(a) => a,
        Err(_) => {
            let v6: std::net::Ipv6Addr = addr.parse().ok()?;
            return Some(
                vec![v6.to_string(), format!("{v6}1").replace("::1", "::2")]
                    .into_iter()
                    .filter(|a| a.parse::<std::net::Ipv6Addr>().is_ok())
                    .collect(),
            );
        }
    };
    if bits > 32 {
        return None;
    }
    let base = u32::from(v4) & if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
    let size = if bits == 0 { u32::MAX } else { (1u64 << (32 - bits)).saturating_sub(1) as u32 };
    let candidates = [
        base,
        base.wrapping_add(1),
        base.wrapping_add(size),
        base.wrapping_add(size).wrapping_add(1),
        base.wrapping_sub(1),
    ];
    let mut out = Vec::new();
    for c in candidates {
        let a = std::net::Ipv4Addr::from(c);
        out.push(a.to_string());
        out.push(format!("::ffff:{a}"));
    }
    Some(out)
}
