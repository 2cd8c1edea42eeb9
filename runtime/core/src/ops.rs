//! The meaning of each operator on values, shared by every backend: the interpreter calls
//! these for every operation, the JIT inlines the typed cases and calls these for the rest.
//! Errors are messages; the caller adds the location.

use crate::Fault;
use crate::fault::fault;
use std::collections::HashSet;

use ipnet::IpNet;
use regex::Regex;
use warden_ir::{ArithOp, CidrId, CmpOp, Const, Program, RegexId, SetId};

use crate::Value;

/// What a program needs at run time besides the IR: sets, regexes and networks, built once.
#[derive(Debug)]
pub struct Prepared {
    pub sets: Vec<ConstSet>,
    pub regexes: Vec<Regex>,
    pub cidrs: Vec<Vec<IpNet>>,
    /// The program's constants as values, by expression id (null where not a constant).
    pub consts: Vec<Value>,
}

impl Prepared {
    /// Compiles the program's regexes and builds its sets. Fails only on an IR that did not
    /// come from the checker.
    pub fn new(prog: &Program) -> Result<Prepared, Fault> {
        let sets = prog
            .sets
            .iter()
            .map(|s| {
                let mut set = ConstSet::default();
                for item in &s.items {
                    match const_value(item) {
                        Value::Str(x) => {
                            set.strs.insert(Box::from(&*x));
                        }
                        v => set.others.extend(SetKey::of(&v)),
                    }
                }
                set
            })
            .collect();
        let regexes = prog
            .regexes
            .iter()
            .map(|r| Regex::new(r).map_err(|e| format!("invalid regex {r:?}: {e}")))
            .collect::<Result<_, _>>()?;
        let cidrs = prog.cidrs.iter().map(|c| c.nets.clone()).collect();
        let consts = prog
            .exprs
            .iter()
            .map(|e| match &e.kind {
                warden_ir::ExprKind::Const(c) => const_value(c),
                _ => Value::Null,
            })
            .collect();
        Ok(Prepared { sets, regexes, cidrs, consts })
    }

    pub fn in_set(&self, set: SetId, v: &Value) -> bool {
        let set = &self.sets[set.index()];
        match v {
            Value::Str(s) => set.strs.contains(&**s),
            other => SetKey::of(other).is_some_and(|k| set.others.contains(&k)),
        }
    }

    /// `in` for a string, without allocating: the hot path of allow and deny lists.
    pub fn in_set_str(&self, set: SetId, s: &str) -> bool {
        self.sets[set.index()].strs.contains(s)
    }

    /// `matches()`: null is false; a non-string is an error.
    pub fn matches(&self, regex: RegexId, v: &Value) -> Result<bool, Fault> {
        match v {
            Value::Null => Ok(false),
            Value::Str(s) => Ok(self.regexes[regex.index()].is_match(s)),
            other => Err(fault!("matches() needs a string, found {}", other.describe())),
        }
    }

    /// `ip_in()`: null is false; an address that does not parse is an error.
    pub fn ip_in(&self, cidr: CidrId, v: &Value) -> Result<bool, Fault> {
        match v {
            Value::Null => Ok(false),
            Value::Str(s) => self.ip_in_str(cidr, s),
            other => Err(fault!("ip_in() needs an address string, found {}", other.describe())),
        }
    }

    /// `ip_in()` of an address string. An IPv4 address and its IPv4-mapped IPv6 form
    /// (`::ffff:192.0.2.9`) are the same address: either form matches the IPv4 networks
    /// that contain the IPv4 form and the IPv6 networks that contain the mapped form.
    pub fn ip_in_str(&self, cidr: CidrId, s: &str) -> Result<bool, Fault> {
        ip_in_nets(&self.cidrs[cidr.index()], s)
    }
}

/// Whether the address `s` is in any of `nets` (an IPv4 address also as its IPv4-mapped IPv6
/// form, see [`Prepared::ip_in_str`]); an address that does not parse is an error.
pub fn ip_in_nets(nets: &[IpNet], s: &str) -> Result<bool, Fault> {
    let ip = crate::builtins::parse_ip(s).ok_or_else(|| format!("{s:?} is not an IP address"))?;
    Ok(match ip {
        std::net::IpAddr::V4(v4) => {
            let mapped = std::net::IpAddr::V6(v4.to_ipv6_mapped());
            nets.iter().any(|n| n.contains(&ip) || n.contains(&mapped))
        }
        std::net::IpAddr::V6(_) => nets.iter().any(|n| n.contains(&ip)),
    })
}

/// A prebuilt set: strings apart, so that lookups by `&str` allocate nothing.
#[derive(Debug, Default)]
pub struct ConstSet {
    pub strs: HashSet<Box<str>>,
    pub others: HashSet<SetKey>,
}

/// A non-string set element: integers (floats with integral values fold into them), bools.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SetKey {
    Int(i64),
    Float(u64),
    Bool(bool),
}

impl SetKey {
    pub fn of(v: &Value) -> Option<SetKey> {
        Some(match v {
            Value::Int(i) => SetKey::Int(*i),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => SetKey::Int(*f as i64),
            Value::Float(f) => SetKey::Float(f.to_bits()),
            Value::Bool(b) => SetKey::Bool(*b),
            _ => return None,
        })
    }
}

pub fn const_value(c: &Const) -> Value {
    match c {
        Const::Null => Value::Null,
        Const::Bool(b) => Value::Bool(*b),
        Const::Int(i) => Value::Int(*i),
        Const::Float(f) => Value::Float(*f),
        Const::Str(s) => Value::str(s),
    }
}

/// A condition: missing counts as false; a non-bool is an error.
pub fn truth(v: &Value) -> Result<bool, Fault> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Null => Ok(false),
        other => Err(fault!("a condition must be a bool, found {}", other.describe())),
    }
}

/// `x.name`: null when `x` is not an object.
pub fn field(v: &Value, name: &str) -> Value {
    match v {
        Value::Object(map) => map.get(name).cloned().unwrap_or_default(),
        _ => Value::Null,
    }
}

/// `x[i]`: null when out of range or not a container.
pub fn index(base: &Value, i: &Value) -> Value {
    match (base, i) {
        (Value::List(items), Value::Int(n)) => {
            usize::try_from(*n).ok().and_then(|n| items.get(n).cloned()).unwrap_or_default()
        }
        (Value::Object(map), Value::Str(k)) => map.get(&**k).cloned().unwrap_or_default(),
        _ => Value::Null,
    }
}

pub fn neg(v: &Value) -> Result<Value, Fault> {
    Ok(match v {
        Value::Null => Value::Null,
        Value::Int(n) => Value::Int(n.checked_neg().ok_or("integer overflow")?),
        Value::Float(f) => Value::Float(-f),
        other => return Err(fault!("cannot negate {}", other.describe())),
    })
}

/// Comparisons: equality over any values; ordering over two numbers or two strings.
/// Two missing values are not equal (comparing two absent fields must not grant access):
/// only a comparison with `null` itself tests for missing, and the checker lowers that to
/// `ExprKind::IsNull`.
pub fn compare(op: CmpOp, x: &Value, y: &Value) -> Result<bool, Fault> {
    use std::cmp::Ordering;
    match op {
        CmpOp::Eq => return Ok(!x.is_null() && x.equals(y)),
        CmpOp::Ne => return Ok(x.is_null() || !x.equals(y)),
        _ => {}
    }
    let ord: Option<Ordering> = match (x, y) {
        (Value::Null, _) | (_, Value::Null) => return Ok(false),
        (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
        (Value::Str(a), Value::Str(b)) => Some(a.cmp(b)),
        (a, b) if a.as_f64().is_some() && b.as_f64().is_some() => a.as_f64().partial_cmp(&b.as_f64()),
        (a, b) => return Err(fault!("cannot order {} against {}", a.describe(), b.describe())),
    };
    Ok(match (op, ord) {
        (_, None) => false,
        (CmpOp::Lt, Some(o)) => o == Ordering::Less,
        (CmpOp::Le, Some(o)) => o != Ordering::Greater,
        (CmpOp::Gt, Some(o)) => o == Ordering::Greater,
        (_, Some(o)) => o != Ordering::Less,
    })
}

/// Arithmetic: checked on ints, finite on floats; `+` also joins strings.
pub fn arith(op: ArithOp, x: &Value, y: &Value) -> Result<Value, Fault> {
    Ok(match (x, y) {
        (Value::Null, _) | (_, Value::Null) => Value::Null,
        (Value::Int(a), Value::Int(b)) => {
            let (a, b) = (*a, *b);
            if matches!(op, ArithOp::Div | ArithOp::Rem) && b == 0 {
                return Err("division by zero".into());
            }
            let r = match op {
                ArithOp::Add => a.checked_add(b),
                ArithOp::Sub => a.checked_sub(b),
                ArithOp::Mul => a.checked_mul(b),
                ArithOp::Div => a.checked_div(b),
                ArithOp::Rem => a.checked_rem(b),
            };
            Value::Int(r.ok_or("integer overflow")?)
        }
        (Value::Str(a), Value::Str(b)) if op == ArithOp::Add => Value::str(&format!("{a}{b}")),
        (a, b) => match (a.as_f64(), b.as_f64()) {
            (Some(p), Some(q)) => {
                if matches!(op, ArithOp::Div | ArithOp::Rem) && q == 0.0 {
                    return Err("division by zero".into());
                }
                let r = match op {
                    ArithOp::Add => p + q,
                    ArithOp::Sub => p - q,
                    ArithOp::Mul => p * q,
                    ArithOp::Div => p / q,
                    ArithOp::Rem => p % q,
                };
                if !r.is_finite() {
                    return Err("arithmetic overflow".into());
                }
                Value::Float(r)
            }
            _ => return Err(fault!("cannot apply arithmetic to {} and {}", a.describe(), b.describe())),
        },
    })
}

/// `x in list` for a list computed at run time.
pub fn in_list(x: &Value, list: &Value) -> Result<bool, Fault> {
    match list {
        Value::Null => Ok(false),
        Value::List(items) => Ok(!x.is_null() && items.iter().any(|i| i.equals(x))),
        other => Err(fault!("`in` needs a list, found {}", other.describe())),
    }
}

/// The items a quantifier ranges over (`None`: the list is missing).
pub fn quant_items(list: &Value) -> Result<Option<&[Value]>, Fault> {
    match list {
        Value::Null => Ok(None),
        Value::List(items) => Ok(Some(items.as_slice())),
        other => Err(fault!("quantifiers need a list, found {}", other.describe())),
    }
}

/// An interpolated string from its evaluated parts (`Err(())`-free: null if any part is).
pub fn interpolate<'a>(parts: impl IntoIterator<Item = Part<'a>>) -> Value {
    let mut s = String::new();
    for p in parts {
        match p {
            Part::Text(t) => s.push_str(t),
            Part::Value(Value::Null) => return Value::Null,
            Part::Value(v) => s.push_str(&v.to_text()),
        }
    }
    Value::str(&s)
}

/// The items a comprehension ranges over: `None` for a missing list (the result is missing);
/// anything but a list is an error.
pub fn comp_items(v: &Value) -> Result<Option<&[Value]>, Fault> {
    match v {
        Value::Null => Ok(None),
        Value::List(items) => Ok(Some(items.as_slice())),
        other => Err(fault!("comprehensions need a list, found {}", other.describe())),
    }
}

/// An object literal's value: members whose value is missing are left out.
pub fn object<'a>(members: impl IntoIterator<Item = (&'a str, Value)>) -> Value {
    let map: indexmap::IndexMap<String, Value> =
        members.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.to_string(), v)).collect();
    Value::Object(map.into())
}

/// One piece of an interpolated string.
#[derive(Debug)]
pub enum Part<'a> {
    Text(&'a str),
    Value(&'a Value),
}

/// The outcome error of a rule error at `loc`.
pub fn rule_error(prog: &Program, rule: &str, loc: warden_ir::Loc, message: String) -> crate::ErrorInfo {
    crate::ErrorInfo {
        code: "access_denied".into(),
        description: format!("rule error: {message}"),
        rule: rule.to_string(),
        cause: crate::Cause::RuleError,
        location: Some(location(prog, loc)),
    }
}

/// `file:line:col`
pub fn location(prog: &Program, loc: warden_ir::Loc) -> String {
    let file = prog.files.get(loc.file as usize).map_or("?", String::as_str);
    format!("{file}:{}:{}", loc.line, loc.col)
}
