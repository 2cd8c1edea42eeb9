//! The reference interpreter: warden's executable specification.
//!
//! One short arm per IR node, written for clarity; other backends are tested against it.
//! Evaluation order and control flow live here; what each operator and statement means on
//! values lives in `warden_runtime::{ops, apply}`, shared with the other backends. The
//! semantics are those of `docs/language.md`: missing values are `Value::Null`, predicates
//! over them are false, and a value of an unexpected type stops the login with a rule error.

use std::collections::HashMap;

use serde_json::Value as Json;
use warden_ir::{ExprId, ExprKind, Loc, Program, Rule, Step, Stmt, StmtKind};
use warden_runtime::trace::{Because, Fired, Guard, RuleStatus, RuleTrace as RuleRecord, Stop, Trace, TraceDecision};
use warden_runtime::{Applied, ErrorInfo, Prepared, Txn, Value, builtins, ops};

mod coverage;
mod explain;

pub use coverage::{Coverage, Point, points};
pub use explain::show;

/// What a run records besides the outcome.
#[derive(Debug, Default)]
pub struct Observe {
    /// Record a trace: per rule, its guards and what fired; and why the decision came out
    /// as it did, with the values of the conditions' parts.
    pub trace: bool,
    /// Accumulate coverage here.
    pub coverage: Option<Coverage>,
}

/// Runs the pipeline's `.rule` steps on `txn`. Returns the deny or error that stopped it,
/// and the trace when one was asked for.
/// `js` runs the pipeline's JavaScript steps (by index in `Program::js_rules`).
pub fn run(
    prog: &Program,
    prep: &Prepared,
    txn: &mut Txn,
    observe: &mut Observe,
    js: &mut dyn FnMut(u32, &mut Txn) -> Option<ErrorInfo>,
) -> (Option<ErrorInfo>, Option<Trace>) {
    let mut rules_trace = Vec::new();
    let mut decision = None;
    let mut applied = Vec::new();
    for step in &prog.steps {
        let id = match *step {
            Step::Rule(id) => id,
            Step::Js(j) => {
                let stop = js(j, txn);
                if let Some(e) = &stop {
                    if observe.trace {
                        decision = Some(TraceDecision::Js(Stop {
                            rule: e.rule.clone(),
                            location: e.location.clone(),
                            statement: e.description.clone(),
                            because: Vec::new(),
                        }));
                    }
                } else {
                    applied.push(prog.js_rules[j as usize].name.clone());
                }
                if stop.is_some() {
                    let trace = observe.trace.then(|| Trace { decision, rules: rules_trace });
                    return (stop, trace);
                }
                continue;
            }
        };
        let rule = &prog.rules[id.index()];
        if let Some(c) = &mut observe.coverage {
            c.hit(Point::Rule(u32::from(id)));
        }
        let mut m = Machine {
            prog,
            prep,
            txn: &mut *txn,
            rule,
            locals: vec![Value::Null; rule.locals as usize],
            trace: observe.trace.then(RuleTrace::default),
            coverage: observe.coverage.as_mut(),
        };
        let flow = m.block(&rule.body);
        let rule_trace = m.trace.take();
        let (status, stop) = match flow {
            Ok(Flow::Next) => (RuleStatus::Completed, None),
            Ok(Flow::EndRule) => (RuleStatus::SkippedByGuard, None),
            Ok(Flow::Deny(e)) => (RuleStatus::Denied, Some(e)),
            Err(fail) => (RuleStatus::RuleError, Some(rule_error(prog, &rule.name, fail.loc, fail.message))),
        };
        if let Some(rt) = rule_trace {
            if status != RuleStatus::SkippedByGuard {
                applied.push(rule.name.clone());
            }
            if stop.is_some() {
                decision = rt.decision;
            }
            rules_trace.push(RuleRecord {
                rule: rule.name.clone(),
                location: location(prog, rule.loc),
                status,
                guards: rt.guards,
                fired: rt.fired,
            });
        }
        if stop.is_some() {
            let trace = observe.trace.then(|| Trace { decision, rules: rules_trace });
            return (stop, trace);
        }
    }
    let trace = observe.trace.then(|| Trace { decision: Some(TraceDecision::Allow { applied }), rules: rules_trace });
    (None, trace)
}

pub use warden_runtime::ops::{location, rule_error};

/// A rule error: where and why.
#[derive(Debug)]
struct Fail {
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

/// A rule's trace while it runs.
#[derive(Default)]
struct RuleTrace {
    guards: Vec<Guard>,
    fired: Vec<Fired>,
    /// The value each expression last had.
    values: HashMap<ExprId, Value>,
    /// The guards that held and the branches taken to reach the current statement.
    path: Vec<(ExprId, bool)>,
    /// Why the rule stopped the pipeline.
    decision: Option<TraceDecision>,
}

struct Machine<'a> {
    prog: &'a Program,
    prep: &'a Prepared,
    txn: &'a mut Txn,
    rule: &'a Rule,
    locals: Vec<Value>,
    trace: Option<RuleTrace>,
    coverage: Option<&'a mut Coverage>,
}

impl Machine<'_> {
    fn fail<T>(&mut self, at: ExprId, message: impl Into<String>) -> R<T> {
        let loc = self.prog.expr(at).loc;
        self.explain_stop(loc, TraceDecision::RuleError, format!("rule error in {}", show(self.prog, self.rule, at)));
        Err(Fail { loc, message: message.into() })
    }

    fn hit(&mut self, p: Point) {
        if let Some(c) = &mut self.coverage {
            c.hit(p);
        }
    }

    /// Records why the pipeline stops here: the statement and the conditions that led to it.
    fn explain_stop(&mut self, loc: Loc, kind: fn(Stop) -> TraceDecision, statement: String) {
        let (prog, rule) = (self.prog, self.rule);
        let location = location(prog, loc);
        if let Some(t) = &mut self.trace
            && t.decision.is_none()
        {
            let because: Vec<Because> =
                t.path.iter().map(|(c, held)| explain::condition(prog, rule, *c, *held, &t.values)).collect();
            t.decision = Some(kind(Stop { rule: rule.name.clone(), location: Some(location), statement, because }));
        }
    }

    fn or_fail<T>(&mut self, at: ExprId, r: Result<T, warden_runtime::Fault>) -> R<T> {
        r.or_else(|m| self.fail(at, m))
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
        self.hit(Point::Stmt(s.loc));
        match &s.kind {
            StmtKind::When(c) => {
                let held = self.cond(*c)?;
                self.hit(Point::Branch(s.loc, held));
                if let Some(t) = &mut self.trace {
                    t.guards.push(Guard { line: s.loc.line, held });
                    t.path.push((*c, held));
                }
                Ok(if held { Flow::Next } else { Flow::EndRule })
            }
            StmtKind::Let(local, e) => {
                self.locals[local.index()] = self.eval(*e)?;
                Ok(Flow::Next)
            }
            StmtKind::If { cond, then, otherwise } => {
                let taken = self.cond(*cond)?;
                self.hit(Point::Branch(s.loc, taken));
                if let Some(t) = &mut self.trace {
                    t.path.push((*cond, taken));
                }
                let flow = if taken { self.block(then) } else { self.block(otherwise) };
                if let Some(t) = &mut self.trace {
                    t.path.pop();
                }
                flow
            }
            effect => {
                let exprs = effect.operands();
                let mut vals = Vec::with_capacity(exprs.len());
                for e in &exprs {
                    vals.push(self.eval(*e)?);
                }
                let what = describe(effect, &vals);
                if let Some(t) = &mut self.trace {
                    t.fired.push(Fired { line: s.loc.line, statement: what.clone() });
                }
                match warden_runtime::apply(self.txn, self.prog, effect, &vals, &self.rule.name) {
                    Ok(Applied::Next) => Ok(Flow::Next),
                    Ok(Applied::Deny(e)) => {
                        let statement = format!("{what} {:?}", e.description);
                        self.explain_stop(s.loc, TraceDecision::Deny, statement);
                        Ok(Flow::Deny(e))
                    }
                    Err((Some(i), message)) => self.fail(exprs[i], message),
                    Err((None, message)) => {
                        self.explain_stop(s.loc, TraceDecision::RuleError, what);
                        Err(Fail { loc: s.loc, message })
                    }
                }
            }
        }
    }

    /// A condition: missing counts as false; a non-bool is a rule error.
    fn cond(&mut self, e: ExprId) -> R<bool> {
        let v = self.eval(e)?;
        self.or_fail(e, ops::truth(&v))
    }

    fn eval(&mut self, id: ExprId) -> R<Value> {
        let v = self.eval_node(id)?;
        if let Some(t) = &mut self.trace {
            t.values.insert(id, v.clone());
        }
        Ok(v)
    }

    fn eval_node(&mut self, id: ExprId) -> R<Value> {
        let e = self.prog.expr(id);
        Ok(match &e.kind {
            ExprKind::Const(c) => ops::const_value(c),
            ExprKind::Slot(s) => self.txn.slots[s.index()].clone(),
            ExprKind::Local(l) => self.locals[l.index()].clone(),
            ExprKind::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(self.eval(*i)?);
                }
                Value::List(out.into())
            }
            ExprKind::Interp(parts) => {
                let mut vals = Vec::new();
                for p in parts {
                    if let warden_ir::Part::Expr(x) = p {
                        vals.push(self.eval(*x)?);
                    }
                }
                let mut it = vals.iter();
                ops::interpolate(parts.iter().map(|p| match p {
                    warden_ir::Part::Text(t) => ops::Part::Text(t),
                    warden_ir::Part::Expr(_) => ops::Part::Value(it.next().unwrap_or(&Value::Null)),
                }))
            }
            ExprKind::Field(b, name) => ops::field(&self.eval(*b)?, name),
            ExprKind::Index(b, i) => {
                let base = self.eval(*b)?;
                ops::index(&base, &self.eval(*i)?)
            }
            ExprKind::Not(x) => Value::Bool(!self.cond(*x)?),
            ExprKind::IsNull(x) => Value::Bool(self.eval(*x)?.is_null()),
            ExprKind::Neg(x) => {
                let v = self.eval(*x)?;
                match ops::neg(&v) {
                    Ok(v) => v,
                    Err(m) if v.as_f64().is_some() => return self.fail(id, m),
                    Err(m) => return self.fail(*x, m),
                }
            }
            ExprKind::And(a, b) => {
                let left = self.cond(*a)?;
                self.hit(Point::Arm(id, left));
                Value::Bool(left && self.cond(*b)?)
            }
            ExprKind::Or(a, b) => {
                let left = self.cond(*a)?;
                self.hit(Point::Arm(id, !left));
                Value::Bool(left || self.cond(*b)?)
            }
            ExprKind::Cmp(op, a, b) => {
                let x = self.eval(*a)?;
                let y = self.eval(*b)?;
                Value::Bool(self.or_fail(id, ops::compare(*op, &x, &y))?)
            }
            ExprKind::Arith(op, a, b) => {
                let x = self.eval(*a)?;
                let y = self.eval(*b)?;
                self.or_fail(id, ops::arith(*op, &x, &y))?
            }
            ExprKind::Coalesce(a, b) => match self.eval(*a)? {
                Value::Null => self.eval(*b)?,
                v => v,
            },
            ExprKind::InSet(a, set) => Value::Bool(self.prep.in_set(*set, &self.eval(*a)?)),
            ExprKind::InList(a, l) => {
                let x = self.eval(*a)?;
                let list = self.eval(*l)?;
                Value::Bool(self.or_fail(*l, ops::in_list(&x, &list))?)
            }
            ExprKind::Call(f, args) => {
                let mut vals = Vec::with_capacity(args.len());
                for a in args {
                    vals.push(self.eval(*a)?);
                }
                match builtins::call(*f, &vals, self.txn.now) {
                    Ok(v) => v,
                    Err((arg, message)) => return self.fail(args.get(arg).copied().unwrap_or(id), message),
                }
            }
            ExprKind::Matches(a, r) => {
                let v = self.eval(*a)?;
                Value::Bool(self.or_fail(*a, self.prep.matches(*r, &v))?)
            }
            ExprKind::IpIn(a, c) => {
                let v = self.eval(*a)?;
                Value::Bool(self.or_fail(*a, self.prep.ip_in(*c, &v))?)
            }
            ExprKind::Quant { all, var, list, body } => {
                let l = self.eval(*list)?;
                let Some(items) = self.or_fail(*list, ops::quant_items(&l))? else {
                    return Ok(Value::Bool(false));
                };
                let mut result = *all;
                for item in items {
                    self.locals[var.index()] = item.clone();
                    if self.cond(*body)? != *all {
                        result = !*all;
                        break;
                    }
                }
                Value::Bool(result)
            }
            ExprKind::Comp { var, list, filter, body } => self.comp(*var, *list, *filter, *body)?,
            ExprKind::Object(members) => self.object(members)?,
            ExprKind::Regex(f, args, r) => self.regex(id, *f, args, *r)?,
            ExprKind::IpInConfig(..) | ExprKind::MatchesConfig(..) | ExprKind::InConfig(..) => self.config(&e.kind)?,
        })
    }

    // The arms below are functions of their own so that `eval_node`'s frame stays small: it
    // recurses once per level of nesting, and the deepest valid program must run on a 2 MiB
    // stack in debug builds too (`tests/tests/adversarial.rs`).

    #[inline(never)]
    fn comp(&mut self, var: warden_ir::LocalId, list: ExprId, filter: Option<ExprId>, body: ExprId) -> R<Value> {
        let l = self.eval(list)?;
        let Some(items) = self.or_fail(list, ops::comp_items(&l))? else {
            return Ok(Value::Null);
        };
        let mut out = Vec::new();
        for item in items {
            self.locals[var.index()] = item.clone();
            if let Some(f) = filter
                && !self.cond(f)?
            {
                continue;
            }
            out.push(self.eval(body)?);
        }
        Ok(Value::List(out.into()))
    }

    #[inline(never)]
    fn object(&mut self, members: &[(String, ExprId)]) -> R<Value> {
        let mut vals = Vec::with_capacity(members.len());
        for (_, e) in members {
            vals.push(self.eval(*e)?);
        }
        Ok(ops::object(members.iter().map(|(k, _)| k.as_str()).zip(vals)))
    }

    #[inline(never)]
    fn regex(&mut self, id: ExprId, f: warden_ir::Builtin, args: &[ExprId], r: warden_ir::RegexId) -> R<Value> {
        let mut vals = Vec::with_capacity(args.len());
        for a in args {
            vals.push(self.eval(*a)?);
        }
        match builtins::call_regex(f, &vals, &self.prep.regexes[r.index()]) {
            Ok(v) => Ok(v),
            Err((arg, message)) => self.fail(args.get(arg).copied().unwrap_or(id), message),
        }
    }

    /// `ip_in`, `matches` and `in` over a typed configuration key.
    #[inline(never)]
    fn config(&mut self, kind: &ExprKind) -> R<Value> {
        Ok(match kind {
            ExprKind::IpInConfig(a, q) => {
                let v = self.eval(*a)?;
                Value::Bool(self.or_fail(*a, self.txn.config.ip_in(*q, &v))?)
            }
            ExprKind::MatchesConfig(a, q) => {
                let v = self.eval(*a)?;
                Value::Bool(self.or_fail(*a, self.txn.config.matches(*q, &v))?)
            }
            ExprKind::InConfig(a, q) => {
                let v = self.eval(*a)?;
                Value::Bool(self.txn.config.contains(*q, &v))
            }
            _ => Value::Null,
        })
    }
}

/// What a statement did, for traces.
fn describe(kind: &StmtKind, vals: &[Value]) -> String {
    let v = |i: usize| vals.get(i).map_or(Json::Null, Value::to_json);
    match kind {
        StmtKind::Deny { code, .. } => format!("deny {}", code.as_str()),
        StmtKind::SetUser { path, .. } => format!("set user.{} = {}", path.join("."), v(0)),
        StmtKind::UnsetUser { path, .. } => format!("unset user.{}", path.join(".")),
        StmtKind::Claim { token, name, .. } => format!("claim {} {name:?} = {}", token.as_str(), v(0)),
        StmtKind::Scope { op, .. } => {
            let shown: Vec<String> = vals.iter().map(|x| x.to_text()).collect();
            format!("scope {} {}", format!("{op:?}").to_lowercase(), shown.join(" "))
        }
        StmtKind::Mfa { provider, .. } => format!("mfa {provider}"),
        StmtKind::Redirect(_) => format!("redirect {}", vals.first().map(Value::to_text).unwrap_or_default()),
        StmtKind::Persist { metadata, key, .. } => format!("persist {}.{key} = {}", metadata.field(), v(0)),
        StmtKind::Log(_) => "log".into(),
        StmtKind::When(_) | StmtKind::Let(..) | StmtKind::If { .. } => String::new(),
    }
}
