//! Typed configuration: the values `config.KEY` reads, parsed and prepared once per set of
//! values (when a pipeline loads, when a value is set, and once per login for a login's own
//! overrides), never per read. JavaScript rules see the values as given, as strings.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use ipnet::IpNet;
use regex::Regex;
use warden_ir::{ConfigId, ConfigType, Program, Slot, Ty};

use crate::Value;
use crate::fault::{Fault, fault};

/// A pipeline's configuration: every key's value as given, and the program's typed keys
/// parsed ([`Program::config_types`]). Cheap to clone (shared).
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Every key's value as given: what JavaScript rules see as `configuration`.
    strings: Arc<BTreeMap<String, String>>,
    /// The typed keys, by [`ConfigId`].
    typed: Arc<Vec<TypedKey>>,
}

/// A typed key and its parsed value (`None` while the key has no value).
#[derive(Clone, Debug)]
struct TypedKey {
    key: String,
    ty: ConfigType,
    parsed: Option<Arc<Parsed>>,
}

/// A value parsed as its key's type.
#[derive(Debug)]
struct Parsed {
    /// What `config.KEY` evaluates to: an int, a float, a bool, a list of strings, or the
    /// text itself for networks and patterns.
    value: Value,
    prepared: Prepared,
}

/// What `ip_in`, `matches` and `in` use.
#[derive(Debug)]
enum Prepared {
    Plain,
    Networks(Vec<IpNet>),
    Regex(Regex),
    Strings(HashSet<Box<str>>),
}

/// A configuration value that does not fit its key's declared type.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("configuration key `{key}` must be {expected}, found {found}")]
pub struct ConfigError {
    pub key: String,
    /// The declared type.
    pub ty: ConfigType,
    /// What the type accepts, in words (`an integer`).
    pub expected: String,
    /// What was given (quoted), and why it does not fit where that is not obvious.
    pub found: String,
}

impl Config {
    /// The configuration of `prog` with these values: every typed key's value is parsed now;
    /// every value that does not fit its type is an error.
    pub fn new(prog: &Program, strings: BTreeMap<String, String>) -> Result<Config, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let typed = prog
            .config_types
            .iter()
            .map(|t| {
                let parsed = strings.get(&t.key).and_then(|text| match parse(&t.key, t.ty, text) {
                    Ok(p) => Some(Arc::new(p)),
                    Err(e) => {
                        errors.push(e);
                        None
                    }
                });
                TypedKey { key: t.key.clone(), ty: t.ty, parsed }
            })
            .collect();
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Config { strings: Arc::new(strings), typed: Arc::new(typed) })
    }

    /// Values without types (every `config.KEY` a string): for code that has no program, such
    /// as a JavaScript worker.
    pub fn untyped(strings: Arc<BTreeMap<String, String>>) -> Config {
        Config { strings, typed: Arc::default() }
    }

    /// Every key's value as given (what JavaScript rules see).
    pub fn strings(&self) -> &Arc<BTreeMap<String, String>> {
        &self.strings
    }

    /// Sets one value (parsed now when its key is typed); on an error nothing changes.
    pub fn set(&mut self, key: String, value: String) -> Result<(), ConfigError> {
        if let Some(i) = self.typed.iter().position(|t| t.key == key) {
            let parsed = parse(&key, self.typed[i].ty, &value)?;
            Arc::make_mut(&mut self.typed)[i].parsed = Some(Arc::new(parsed));
        }
        Arc::make_mut(&mut self.strings).insert(key, value);
        Ok(())
    }

    /// The configuration with a login's own values over these (only keys whose value changes
    /// are parsed again).
    pub fn with(&self, overrides: &BTreeMap<String, String>) -> Result<Config, ConfigError> {
        let mut out = self.clone();
        for (key, value) in overrides {
            if self.strings.get(key) != Some(value) {
                out.set(key.clone(), value.clone())?;
            }
        }
        Ok(out)
    }

    /// What `config.KEY` reads (null when the key has no value). A slot whose type is not its
    /// key's (a configuration made for another program) reads null, never a value of another
    /// type.
    pub fn slot_value(&self, slot: &Slot) -> Value {
        let key = slot.path.first().map(String::as_str).unwrap_or_default();
        match self.typed.iter().find(|t| t.key == key) {
            Some(t) if t.ty.ty() == slot.ty => t.parsed.as_ref().map_or(Value::Null, |p| p.value.clone()),
            Some(_) => Value::Null,
            None if slot.ty == Ty::Str => self.strings.get(key).map_or(Value::Null, |v| Value::str(v)),
            None => Value::Null,
        }
    }

    fn prepared(&self, q: ConfigId) -> Option<&Prepared> {
        self.typed.get(q.index())?.parsed.as_ref().map(|p| &p.prepared)
    }

    /// `ip_in(x, config.KEY)`: null, or a key without a value, is false; an address that does
    /// not parse is an error.
    pub fn ip_in(&self, q: ConfigId, v: &Value) -> Result<bool, Fault> {
        match (v, self.prepared(q)) {
            (Value::Null, _) => Ok(false),
            (Value::Str(s), Some(Prepared::Networks(nets))) => crate::ops::ip_in_nets(nets, s),
            (Value::Str(_), _) => Ok(false),
            (other, _) => Err(fault!("ip_in() needs an address string, found {}", other.describe())),
        }
    }

    /// `matches(x, config.KEY)`: null, or a key without a value, is false; a non-string is an
    /// error.
    pub fn matches(&self, q: ConfigId, v: &Value) -> Result<bool, Fault> {
        match (v, self.prepared(q)) {
            (Value::Null, _) => Ok(false),
            (Value::Str(s), Some(Prepared::Regex(re))) => Ok(re.is_match(s)),
            (Value::Str(_), _) => Ok(false),
            (other, _) => Err(fault!("matches() needs a string, found {}", other.describe())),
        }
    }

    /// `x in config.KEY`: only a string can be in a list of strings; false when the key has no
    /// value.
    pub fn contains(&self, q: ConfigId, v: &Value) -> bool {
        match (v, self.prepared(q)) {
            (Value::Str(s), Some(Prepared::Strings(set))) => set.contains(s.as_str()),
            _ => false,
        }
    }
}

/// Parses a value as `ty`.
fn parse(key: &str, ty: ConfigType, text: &str) -> Result<Parsed, ConfigError> {
    let fail =
        |expected: &str, found: String| ConfigError { key: key.to_string(), ty, expected: expected.to_string(), found };
    let plain = |value: Value| Parsed { value, prepared: Prepared::Plain };
    let word = text.trim();
    Ok(match ty {
        ConfigType::Str => plain(Value::str(text)),
        ConfigType::Int => plain(Value::Int(word.parse().map_err(|_| fail("an integer", shown(text)))?)),
        ConfigType::Float => {
            let f: f64 =
                word.parse().ok().filter(|f: &f64| f.is_finite()).ok_or_else(|| fail("a number", shown(text)))?;
            plain(Value::Float(f))
        }
        ConfigType::Bool => match word {
            "true" => plain(Value::Bool(true)),
            "false" => plain(Value::Bool(false)),
            _ => return Err(fail("`true` or `false`", shown(text))),
        },
        ConfigType::StrList => {
            let items = items(text).ok_or_else(|| fail(LIST, shown(text)))?;
            let set = items.iter().map(|i| Box::from(i.as_str())).collect();
            let value = Value::List(Arc::new(items.iter().map(|i| Value::str(i)).collect()));
            Parsed { value, prepared: Prepared::Strings(set) }
        }
        ConfigType::CidrList => {
            const NETWORKS: &str = "a list of networks (CIDRs such as 10.0.0.0/8, or addresses)";
            let items = items(text).ok_or_else(|| fail(NETWORKS, shown(text)))?;
            let nets = items
                .iter()
                .map(|i| parse_net(i).ok_or_else(|| fail(NETWORKS, format!("{} in the list", shown(i)))))
                .collect::<Result<_, _>>()?;
            Parsed { value: Value::str(text), prepared: Prepared::Networks(nets) }
        }
        ConfigType::Regex => match Regex::new(text) {
            Ok(re) => Parsed { value: Value::str(text), prepared: Prepared::Regex(re) },
            Err(e) => {
                let message = e.to_string();
                let last = message.lines().last().unwrap_or("invalid pattern").trim();
                let reason = last.strip_prefix("error: ").unwrap_or(last);
                return Err(fail("a regular expression (Rust regex syntax)", format!("{} ({reason})", shown(text))));
            }
        },
    })
}

const LIST: &str = "a list of strings (separated by commas or new lines, or a JSON array of strings)";

/// The items of a list value: a JSON array of strings (when it starts with `[`), or items
/// separated by commas or new lines, trimmed, empty ones dropped.
fn items(text: &str) -> Option<Vec<String>> {
    if text.trim_start().starts_with('[') {
        return serde_json::from_str::<Vec<String>>(text).ok();
    }
    Some(text.split([',', '\n']).map(str::trim).filter(|i| !i.is_empty()).map(String::from).collect())
}

/// A network, or an address as a network of one.
fn parse_net(s: &str) -> Option<IpNet> {
    let s = s.trim();
    s.parse::<IpNet>().ok().or_else(|| s.parse::<std::net::IpAddr>().ok().map(IpNet::from))
}

/// A value as messages quote it: escaped, and cut after 80 characters.
fn shown(text: &str) -> String {
    if text.chars().count() > 80 {
        let cut: String = text.chars().take(77).collect();
        format!("{:?}", format!("{cut}..."))
    } else {
        format!("{text:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use warden_ir::{Root, TypedKey};

    /// A program whose typed keys are these (the rest of it is empty).
    fn program(keys: &[(&str, ConfigType)]) -> Program {
        let mut p: Program = serde_json::from_value(serde_json::json!({
            "ir_version": warden_ir::IR_VERSION, "options": {"claim_mode": "modern"}, "files": [], "steps": [],
            "rules": [], "js_rules": [], "slots": [], "sets": [], "regexes": [], "cidrs": [], "exprs": [],
            "refreshes": [], "config_keys": [], "input": {"user": "Any", "context": "Any"}
        }))
        .expect("an empty program");
        p.config_types = keys.iter().map(|(k, ty)| TypedKey { key: k.to_string(), ty: *ty }).collect();
        p
    }

    fn slot(key: &str, ty: Ty) -> Slot {
        Slot { root: Root::Config, path: vec![key.into()], ty, checked: true }
    }

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn one(ty: ConfigType, text: &str) -> Result<Value, ConfigError> {
        let p = program(&[("K", ty)]);
        let c = Config::new(&p, values(&[("K", text)])).map_err(|mut e| e.remove(0))?;
        Ok(c.slot_value(&slot("K", ty.ty())))
    }

    fn strs(items: &[&str]) -> Value {
        Value::List(Arc::new(items.iter().map(|i| Value::str(i)).collect()))
    }

    #[test]
    fn values_parse_as_their_types() {
        assert!(one(ConfigType::Int, " -42\n").expect("valid").equals(&Value::Int(-42)));
        assert!(one(ConfigType::Float, "2").expect("valid").equals(&Value::Float(2.0)));
        assert!(matches!(one(ConfigType::Float, "2").expect("valid"), Value::Float(_)), "a float, not an int");
        assert!(one(ConfigType::Bool, "false").expect("valid").equals(&Value::Bool(false)));
        assert!(one(ConfigType::StrList, " a ,\n\nb,, ").expect("valid").equals(&strs(&["a", "b"])));
        assert!(one(ConfigType::StrList, r#"[" a ", ""]"#).expect("valid").equals(&strs(&[" a ", ""])));
        assert!(one(ConfigType::CidrList, "10.0.0.0/8").expect("valid").equals(&Value::str("10.0.0.0/8")));
        assert!(one(ConfigType::Regex, "^a b$").expect("valid").equals(&Value::str("^a b$")));
    }

    #[test]
    fn wrong_values_name_the_key_and_the_type() {
        let e = |ty, text| one(ty, text).err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(e(ConfigType::Int, "0x10"), r#"configuration key `K` must be an integer, found "0x10""#);
        assert_eq!(e(ConfigType::Float, "NaN"), r#"configuration key `K` must be a number, found "NaN""#);
        assert_eq!(e(ConfigType::Bool, "1"), r#"configuration key `K` must be `true` or `false`, found "1""#);
        assert!(e(ConfigType::StrList, "[\"a\"").contains("must be a list of strings"));
        assert!(e(ConfigType::CidrList, "10.0.0.0/8, nope").ends_with(r#"found "nope" in the list"#));
        assert!(
            e(ConfigType::Regex, "a{2,1}")
                .contains("must be a regular expression (Rust regex syntax), found \"a{2,1}\" (")
        );
        let long = "x".repeat(200);
        assert!(e(ConfigType::Int, &long).ends_with(r#"xxx...""#), "long values are cut");
    }

    #[test]
    fn prepared_values_answer_ip_in_matches_and_in() {
        let p = program(&[("L", ConfigType::StrList), ("N", ConfigType::CidrList), ("R", ConfigType::Regex)]);
        let c =
            Config::new(&p, values(&[("L", "a, b"), ("N", "10.0.0.0/8, 2001:db8::/32"), ("R", "^x")])).expect("valid");
        let (l, n, r) = (ConfigId::from(0), ConfigId::from(1), ConfigId::from(2));
        assert!(c.contains(l, &Value::str("a")) && !c.contains(l, &Value::str("c")));
        assert!(!c.contains(l, &Value::Null) && !c.contains(l, &Value::Int(1)));
        assert_eq!(c.ip_in(n, &Value::str("::ffff:10.1.1.1")), Ok(true));
        assert_eq!(c.ip_in(n, &Value::str("2001:db9::1")), Ok(false));
        assert_eq!(c.ip_in(n, &Value::Null), Ok(false));
        assert!(c.ip_in(n, &Value::str("nope")).is_err() && c.ip_in(n, &Value::Int(1)).is_err());
        assert_eq!(c.matches(r, &Value::str("xy")), Ok(true));
        assert_eq!(c.matches(r, &Value::str("yx")), Ok(false));
        assert!(c.matches(r, &Value::Bool(true)).is_err());
        // Ids another program's configuration does not have answer false.
        let other = Config::untyped(Arc::default());
        assert_eq!((other.ip_in(n, &Value::str("10.0.0.1")), other.contains(l, &Value::str("a"))), (Ok(false), false));
    }

    #[test]
    fn set_and_overrides_parse_and_refuse_without_changing_anything() {
        let p = program(&[("N", ConfigType::Int)]);
        let mut c = Config::new(&p, values(&[("N", "1"), ("S", "text")])).expect("valid");
        let n = slot("N", Ty::Int);
        assert!(c.set("N".into(), "x".into()).is_err());
        assert!(c.slot_value(&n).equals(&Value::Int(1)) && c.strings()["N"] == "1");
        c.set("N".into(), "2".into()).expect("an int");
        assert!(c.slot_value(&n).equals(&Value::Int(2)));
        let o = c.with(&values(&[("N", "3"), ("S", "other")])).expect("valid");
        assert!(
            o.slot_value(&n).equals(&Value::Int(3)) && o.slot_value(&slot("S", Ty::Str)).equals(&Value::str("other"))
        );
        assert!(c.slot_value(&n).equals(&Value::Int(2)), "the pipeline's configuration is unchanged");
        assert_eq!(c.with(&values(&[("N", "three")])).err().map(|e| e.key), Some("N".into()));
        // Unchanged values are not parsed again: the same prepared value is shared.
        let same = c.with(&values(&[("N", "2")])).expect("valid");
        assert!(Arc::ptr_eq(&same.typed, &c.typed));
    }

    #[test]
    fn a_slot_reads_null_unless_its_type_is_its_keys() {
        let p = program(&[("N", ConfigType::Int)]);
        let c = Config::new(&p, values(&[("N", "1"), ("S", "s")])).expect("valid");
        assert!(c.slot_value(&slot("N", Ty::Str)).is_null());
        assert!(c.slot_value(&slot("S", Ty::Int)).is_null());
        assert!(c.slot_value(&slot("S", Ty::Str)).equals(&Value::str("s")));
        assert!(c.slot_value(&slot("missing", Ty::Str)).is_null());
    }
}
