//! The reference interpreter: warden's executable specification.
//!
//! One short arm per IR node, written for clarity; other backends are tested against it. The
//! semantics are those of `docs/language.md`: missing values are `Value::Null`, predicates
//! over them are false, and a value of an unexpected type stops the login with a rule error.

use std::collections::HashSet;

use ipnet::IpNet;
use regex::Regex;
use serde_json::{Value as Json, json};
use warden_ir::{ArithOp, CmpOp, Const, ExprId, ExprKind, Loc, Program, ScopeOp, Step, Stmt, StmtKind};
use warden_runtime::{Cause, ErrorInfo, Txn, Value};

mod builtins;

/// What a program needs at run time besides the IR: sets, regexes and networks, built once.
#[derive(Debug)]
pub struct Prepared {
    sets: Vec<HashSet<Key>>,
    regexes: Vec<Regex>,
    cidrs: Vec<Vec<IpNet>>,
}

/// A set element: strings, integers (floats with integral values fold into them), bools.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Str(Box<str>),
    Int(i64),
    Float(u64),
    Bool(bool),
}

impl Key {
    fn of(v: &Value) -> Option<Key> {
        Some(match v {
            Value::Str(s) => Key::Str(Box::from(&**s)),
            Value::Int(i) => Key::Int(*i),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Key::Int(*f as i64),
            Value::Float(f) => Key::Float(f.to_bits()),
            Value::Bool(b) => Key::Bool(*b),
            _ => return None,
        })
    }
}

impl Prepared {
    /// Compiles the program's regexes and builds its sets. Fails only on an IR that did not
    /// come from the checker.
    pub fn new(prog: &Program) -> Result<Prepared, String> {
        let sets =
            prog.sets.iter().map(|s| s.items.iter().filter_map(|c| Key::of(&const_value(c))).collect()).collect();
        let regexes = prog
            .regexes
            .iter()
            .map(|r| Regex::new(r).map_err(|e| format!("invalid regex {r:?}: {e}")))
            .collect::<Result<_, _>>()?;
        let cidrs = prog.cidrs.iter().map(|c| c.nets.clone()).collect();
        Ok(Prepared { sets, regexes, cidrs })
    }
}

/// Runs the pipeline's `.rule` steps on `txn`. Returns the deny or error that stopped it.
/// With `trace`, one JSON entry per rule says whether its guards held and what fired.
pub fn run(prog: &Program, prep: &Prepared, txn: &mut Txn, mut trace: Option<&mut Vec<Json>>) -> Option<ErrorInfo> {
    for step in &prog.steps {
        let Step::Rule(id) = *step else {
            return Some(ErrorInfo {
                code: "access_denied".into(),
                description: "this engine was built without the JavaScript runtime".into(),
                rule: String::new(),
                cause: Cause::RuleError,
                location: None,
            });
        };
        let rule = &prog.rules[id as usize];
        let mut m = Machine {
            prog,
            prep,
            txn: &mut *txn,
            rule: &rule.name,
            locals: vec![Value::Null; rule.locals as usize],
            trace: trace.as_ref().map(|_| RuleTrace::default()),
        };
        let flow = m.block(&rule.body);
        let rule_trace = m.trace.take();
        let (status, stop) = match flow {
            Ok(Flow::Next) => ("completed", None),
            Ok(Flow::EndRule) => ("skipped by a guard", None),
            Ok(Flow::Deny(e)) => ("denied", Some(e)),
            Err(fail) => {
                let location = location(prog, fail.loc);
                let e = ErrorInfo {
                    code: "access_denied".into(),
                    description: format!("rule error: {}", fail.message),
                    rule: rule.name.clone(),
                    cause: Cause::RuleError,
                    location: Some(location),
                };
                ("rule error", Some(e))
            }
        };
        if let (Some(t), Some(rt)) = (trace.as_deref_mut(), rule_trace) {
            t.push(json!({
                "rule": rule.name,
                "location": location(prog, rule.loc),
                "status": status,
                "guards": rt.guards,
                "fired": rt.fired,
            }));
        }
        if stop.is_some() {
            return stop;
        }
    }
    None
}

/// `file:line:col`
pub fn location(prog: &Program, loc: Loc) -> String {
    let file = prog.files.get(loc.file as usize).map_or("?", String::as_str);
    format!("{file}:{}:{}", loc.line, loc.col)
}

/// A rule error: where and why.
#[derive(Debug)]
pub(crate) struct Fail {
    loc: Loc,
    message: String,
}

type R<T> = Result<T, Fail>;

enum Flow {
    Next,
    /// A `when` guard did not hold.
    EndRule,
    Deny(ErrorInfo),
}

#[derive(Default)]
struct RuleTrace {
    guards: Vec<Json>,
    fired: Vec<Json>,
}

struct Machine<'a> {
    prog: &'a Program,
    prep: &'a Prepared,
    txn: &'a mut Txn,
    rule: &'a str,
    locals: Vec<Value>,
    trace: Option<RuleTrace>,
}

impl Machine<'_> {
    fn fail<T>(&self, at: ExprId, message: impl Into<String>) -> R<T> {
        Err(Fail { loc: self.prog.expr(at).loc, message: message.into() })
    }

    fn fired(&mut self, loc: Loc, what: impl FnOnce() -> String) {
        if let Some(t) = &mut self.trace {
            t.fired.push(json!({ "line": loc.line, "statement": what() }));
        }
    }

    fn block(&mut self, stmts: &[Stmt]) -> R<Flow> {
        for s in stmts {
            match self.stmt(s)? {
                Flow::Next => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Next)
    }

    fn stmt(&mut self, s: &Stmt) -> R<Flow> {
        match &s.kind {
            StmtKind::When(c) => {
                let held = self.cond(*c)?;
                if let Some(t) = &mut self.trace {
                    t.guards.push(json!({ "line": s.loc.line, "held": held }));
                }
                if !held {
                    return Ok(Flow::EndRule);
                }
            }
            StmtKind::Let(local, e) => self.locals[*local as usize] = self.eval(*e)?,
            StmtKind::If { cond, then, otherwise } => {
                return if self.cond(*cond)? { self.block(then) } else { self.block(otherwise) };
            }
            StmtKind::Deny { code, message } => {
                let description = match message {
                    Some(m) => match self.eval(*m)? {
                        Value::Null => "Access denied.".to_string(),
                        v => v.to_text(),
                    },
                    None => "Access denied.".to_string(),
                };
                self.fired(s.loc, || format!("deny {}", code.as_str()));
                return Ok(Flow::Deny(ErrorInfo {
                    code: code.as_str().into(),
                    description,
                    rule: self.rule.to_string(),
                    cause: Cause::Denied,
                    location: None,
                }));
            }
            StmtKind::SetUser { path, value, refresh } => {
                let v = self.eval(*value)?;
                self.fired(s.loc, || format!("set user.{} = {}", path.join("."), v.to_json()));
                self.txn.set_user(path, &v);
                self.refresh(refresh, *value)?;
            }
            StmtKind::UnsetUser { path, refresh } => {
                self.fired(s.loc, || format!("unset user.{}", path.join(".")));
                self.txn.unset_user(path);
                self.refresh(refresh, 0).map_err(|f| Fail { loc: s.loc, ..f })?;
            }
            StmtKind::Claim { token, name, value } => {
                let v = self.eval(*value)?;
                self.fired(s.loc, || format!("claim {} {name:?} = {}", token.as_str(), v.to_json()));
                self.txn.claim(*token, name, &v, self.rule);
            }
            StmtKind::Scope { op, values } => {
                let mut scopes = Vec::new();
                for v in values {
                    let val = self.eval(*v)?;
                    self.scopes_of(&val, *v, &mut scopes)?;
                }
                self.fired(s.loc, || format!("scope {} {}", format!("{op:?}").to_lowercase(), scopes.join(" ")));
                match op {
                    ScopeOp::Add => scopes.iter().for_each(|x| self.txn.scope_add(x)),
                    ScopeOp::Remove => scopes.iter().for_each(|x| self.txn.scope_remove(x)),
                    ScopeOp::Set => self.txn.scope_set(scopes),
                }
            }
            StmtKind::Mfa { provider, remember, options } => {
                let remember = match remember {
                    Some(r) => self.cond(*r)?,
                    None => false,
                };
                let mut opts = Vec::new();
                for (k, e) in options {
                    match self.eval(*e)? {
                        Value::Null => {}
                        Value::Str(v) => opts.push((k.clone(), v.to_string())),
                        other => {
                            return self
                                .fail(*e, format!("MFA option `{k}` must be a string, found {}", other.describe()));
                        }
                    }
                }
                self.fired(s.loc, || format!("mfa {provider}"));
                self.txn.mfa(provider, remember, opts, self.rule);
            }
            StmtKind::Redirect(u) => match self.eval(*u)? {
                Value::Str(url) => {
                    self.fired(s.loc, || format!("redirect {url}"));
                    let rule = self.rule;
                    if let Err(m) = self.txn.redirect(&url, rule) {
                        return self.fail(*u, m);
                    }
                }
                other => {
                    return self.fail(*u, format!("the redirect URL is {}, not a string", other.describe()));
                }
            },
            StmtKind::Persist { metadata, key, value, refresh } => {
                let v = self.eval(*value)?;
                self.fired(s.loc, || format!("persist {}.{key} = {}", metadata.field(), v.to_json()));
                let rule = self.rule;
                if let Err(m) = self.txn.persist(*metadata, key, &v, rule) {
                    return self.fail(*value, m);
                }
                self.refresh(refresh, *value)?;
            }
            StmtKind::Log(m) => {
                let text = self.eval(*m)?.to_text();
                self.fired(s.loc, || "log".into());
                let rule = self.rule;
                self.txn.log(rule, "log", text);
            }
        }
        Ok(Flow::Next)
    }

    fn refresh(&mut self, slots: &[u32], at: ExprId) -> R<()> {
        match self.txn.refresh(self.prog, slots) {
            Ok(()) => Ok(()),
            Err(m) => self.fail(at, format!("the change breaks a typed field: {m}")),
        }
    }

    fn scopes_of(&self, v: &Value, at: ExprId, out: &mut Vec<String>) -> R<()> {
        match v {
            Value::Null => {}
            Value::Str(s) => out.extend(s.split_whitespace().map(String::from)),
            Value::List(items) => {
                for item in items.iter() {
                    match item {
                        Value::Str(s) => out.push(s.to_string()),
                        Value::Null => {}
                        other => {
                            return self.fail(at, format!("scopes are strings, found {}", other.describe()));
                        }
                    }
                }
            }
            other => {
                return self.fail(at, format!("scopes are strings, found {}", other.describe()));
            }
        }
        Ok(())
    }

    /// A condition: missing counts as false; a non-bool is a rule error.
    fn cond(&mut self, e: ExprId) -> R<bool> {
        match self.eval(e)? {
            Value::Bool(b) => Ok(b),
            Value::Null => Ok(false),
            other => self.fail(e, format!("a condition must be a bool, found {}", other.describe())),
        }
    }

    pub(crate) fn eval(&mut self, id: ExprId) -> R<Value> {
        let e = self.prog.expr(id);
        Ok(match &e.kind {
            ExprKind::Const(c) => const_value(c),
            ExprKind::Slot(s) => self.txn.slots[*s as usize].clone(),
            ExprKind::Local(l) => self.locals[*l as usize].clone(),
            ExprKind::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(self.eval(*i)?);
                }
                Value::List(out.into())
            }
            ExprKind::Interp(parts) => {
                let mut s = String::new();
                for p in parts {
                    match p {
                        warden_ir::Part::Text(t) => s.push_str(t),
                        warden_ir::Part::Expr(x) => match self.eval(*x)? {
                            Value::Null => return Ok(Value::Null),
                            v => s.push_str(&v.to_text()),
                        },
                    }
                }
                Value::str(&s)
            }
            ExprKind::Field(b, name) => match self.eval(*b)? {
                Value::Object(map) => map.get(name).cloned().unwrap_or_default(),
                _ => Value::Null,
            },
            ExprKind::Index(b, i) => match (self.eval(*b)?, self.eval(*i)?) {
                (Value::List(items), Value::Int(n)) => {
                    usize::try_from(n).ok().and_then(|n| items.get(n).cloned()).unwrap_or_default()
                }
                (Value::Object(map), Value::Str(k)) => map.get(&*k).cloned().unwrap_or_default(),
                _ => Value::Null,
            },
            ExprKind::Not(x) => Value::Bool(!self.cond(*x)?),
            ExprKind::Neg(x) => match self.eval(*x)? {
                Value::Null => Value::Null,
                Value::Int(n) => match n.checked_neg() {
                    Some(n) => Value::Int(n),
                    None => return self.fail(id, "integer overflow"),
                },
                Value::Float(f) => Value::Float(-f),
                other => return self.fail(*x, format!("cannot negate {}", other.describe())),
            },
            ExprKind::And(a, b) => Value::Bool(self.cond(*a)? && self.cond(*b)?),
            ExprKind::Or(a, b) => Value::Bool(self.cond(*a)? || self.cond(*b)?),
            ExprKind::Cmp(op, a, b) => {
                let (x, y) = (self.eval(*a)?, self.eval(*b)?);
                Value::Bool(self.compare(*op, &x, &y, id)?)
            }
            ExprKind::Arith(op, a, b) => {
                let (x, y) = (self.eval(*a)?, self.eval(*b)?);
                self.arith(*op, x, y, id)?
            }
            ExprKind::Coalesce(a, b) => match self.eval(*a)? {
                Value::Null => self.eval(*b)?,
                v => v,
            },
            ExprKind::InSet(a, set) => {
                let v = self.eval(*a)?;
                Value::Bool(Key::of(&v).is_some_and(|k| self.prep.sets[*set as usize].contains(&k)))
            }
            ExprKind::InList(a, l) => {
                let (x, list) = (self.eval(*a)?, self.eval(*l)?);
                match list {
                    Value::Null => Value::Bool(false),
                    Value::List(items) => Value::Bool(!x.is_null() && items.iter().any(|i| i.equals(&x))),
                    other => {
                        return self.fail(*l, format!("`in` needs a list, found {}", other.describe()));
                    }
                }
            }
            ExprKind::Call(f, args) => {
                let mut vals = Vec::with_capacity(args.len());
                for a in args {
                    vals.push(self.eval(*a)?);
                }
                match builtins::call(*f, &vals, self.txn.now) {
                    Ok(v) => v,
                    Err((arg, message)) => {
                        return self.fail(args.get(arg).copied().unwrap_or(id), message);
                    }
                }
            }
            ExprKind::Matches(a, r) => match self.eval(*a)? {
                Value::Null => Value::Bool(false),
                Value::Str(s) => Value::Bool(self.prep.regexes[*r as usize].is_match(&s)),
                other => {
                    return self.fail(*a, format!("matches() needs a string, found {}", other.describe()));
                }
            },
            ExprKind::IpIn(a, c) => match self.eval(*a)? {
                Value::Null => Value::Bool(false),
                Value::Str(s) => match builtins::parse_ip(&s) {
                    Some(ip) => Value::Bool(self.prep.cidrs[*c as usize].iter().any(|n| builtins::net_contains(n, ip))),
                    None => return self.fail(*a, format!("{:?} is not an IP address", &*s)),
                },
                other => {
                    return self.fail(*a, format!("ip_in() needs an address string, found {}", other.describe()));
                }
            },
            ExprKind::Quant { all, var, list, body } => match self.eval(*list)? {
                Value::Null => Value::Bool(false),
                Value::List(items) => {
                    let mut result = *all;
                    for item in items.iter() {
                        self.locals[*var as usize] = item.clone();
                        let held = self.cond(*body)?;
                        if held != *all {
                            result = !*all;
                            break;
                        }
                    }
                    Value::Bool(result)
                }
                other => {
                    return self.fail(*list, format!("quantifiers need a list, found {}", other.describe()));
                }
            },
        })
    }

    fn compare(&self, op: CmpOp, x: &Value, y: &Value, at: ExprId) -> R<bool> {
        use std::cmp::Ordering;
        match op {
            CmpOp::Eq => return Ok(x.equals(y)),
            CmpOp::Ne => return Ok(!x.equals(y)),
            _ => {}
        }
        let ord: Option<Ordering> = match (x, y) {
            (Value::Null, _) | (_, Value::Null) => return Ok(false),
            (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
            (Value::Str(a), Value::Str(b)) => Some(a.cmp(b)),
            (a, b) if a.as_f64().is_some() && b.as_f64().is_some() => a.as_f64().partial_cmp(&b.as_f64()),
            (a, b) => {
                return self.fail(at, format!("cannot order {} against {}", a.describe(), b.describe()));
            }
        };
        Ok(match (op, ord) {
            (_, None) => false,
            (CmpOp::Lt, Some(o)) => o == Ordering::Less,
            (CmpOp::Le, Some(o)) => o != Ordering::Greater,
            (CmpOp::Gt, Some(o)) => o == Ordering::Greater,
            (_, Some(o)) => o != Ordering::Less,
        })
    }

    fn arith(&self, op: ArithOp, x: Value, y: Value, at: ExprId) -> R<Value> {
        Ok(match (x, y) {
            (Value::Null, _) | (_, Value::Null) => Value::Null,
            (Value::Int(a), Value::Int(b)) => {
                let r = match op {
                    ArithOp::Add => a.checked_add(b),
                    ArithOp::Sub => a.checked_sub(b),
                    ArithOp::Mul => a.checked_mul(b),
                    ArithOp::Div | ArithOp::Rem if b == 0 => {
                        return self.fail(at, "division by zero");
                    }
                    ArithOp::Div => a.checked_div(b),
                    ArithOp::Rem => a.checked_rem(b),
                };
                match r {
                    Some(v) => Value::Int(v),
                    None => return self.fail(at, "integer overflow"),
                }
            }
            (Value::Str(a), Value::Str(b)) if op == ArithOp::Add => Value::str(&format!("{a}{b}")),
            (a, b) => match (a.as_f64(), b.as_f64()) {
                (Some(p), Some(q)) => {
                    if matches!(op, ArithOp::Div | ArithOp::Rem) && q == 0.0 {
                        return self.fail(at, "division by zero");
                    }
                    let r = match op {
                        ArithOp::Add => p + q,
                        ArithOp::Sub => p - q,
                        ArithOp::Mul => p * q,
                        ArithOp::Div => p / q,
                        ArithOp::Rem => p % q,
                    };
                    if !r.is_finite() {
                        return self.fail(at, "arithmetic overflow");
                    }
                    Value::Float(r)
                }
                _ => {
                    return self.fail(at, format!("cannot apply arithmetic to {} and {}", a.describe(), b.describe()));
                }
            },
        })
    }
}

pub(crate) fn const_value(c: &Const) -> Value {
    match c {
        Const::Null => Value::Null,
        Const::Bool(b) => Value::Bool(*b),
        Const::Int(i) => Value::Int(*i),
        Const::Float(f) => Value::Float(*f),
        Const::Str(s) => Value::str(s),
    }
}
