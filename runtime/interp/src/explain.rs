//! Explanations: expressions shown as the user wrote them (rebuilt from the IR), and the
//! values their parts had when a decision was made.

use std::collections::HashMap;

use serde_json::Value as Json;
use warden_ir::{Const, ExprId, ExprKind, Part, Program, Rule};
use warden_runtime::Value;
use warden_runtime::trace::{Because, Part as ValuePart};

/// An expression as source-like text.
pub fn show(prog: &Program, rule: &Rule, id: ExprId) -> String {
    let s = |e: ExprId| show(prog, rule, e);
    match &prog.expr(id).kind {
        ExprKind::Const(c) => match c {
            Const::Null => "null".into(),
            Const::Bool(b) => b.to_string(),
            Const::Int(i) => i.to_string(),
            Const::Float(f) => format!("{f:?}"),
            Const::Str(t) => format!("{t:?}"),
        },
        ExprKind::Slot(slot) => prog.slots[slot.index()].display(),
        ExprKind::Local(l) => rule.local_names.get(l.index()).cloned().unwrap_or_else(|| format!("local{l}")),
        ExprKind::List(items) => format!("[{}]", items.iter().map(|i| s(*i)).collect::<Vec<_>>().join(", ")),
        ExprKind::Interp(parts) => {
            let mut out = String::from("\"");
            for p in parts {
                match p {
                    Part::Text(t) => out.push_str(&t.replace('"', "\\\"")),
                    Part::Expr(e) => out.push_str(&format!("${{{}}}", s(*e))),
                }
            }
            out.push('"');
            out
        }
        ExprKind::Field(b, f) => format!("{}.{f}", s(*b)),
        ExprKind::Index(b, i) => format!("{}[{}]", s(*b), s(*i)),
        ExprKind::Not(x) => match &prog.expr(*x).kind {
            // `a not in b` is lowered to `not (a in b)`: show it as written.
            ExprKind::InSet(..) | ExprKind::InList(..) | ExprKind::InConfig(..) => {
                show(prog, rule, *x).replacen(" in ", " not in ", 1)
            }
            // `a != null` is lowered to `not (a == null)`.
            ExprKind::IsNull(y) => format!("{} != null", paren(prog, rule, *y)),
            _ => format!("not {}", paren(prog, rule, *x)),
        },
        ExprKind::Neg(x) => format!("-{}", paren(prog, rule, *x)),
        ExprKind::IsNull(x) => format!("{} == null", paren(prog, rule, *x)),
        ExprKind::And(a, b) => format!("{} and {}", paren(prog, rule, *a), paren(prog, rule, *b)),
        ExprKind::Or(a, b) => format!("{} or {}", paren(prog, rule, *a), paren(prog, rule, *b)),
        ExprKind::Cmp(op, a, b) => format!("{} {} {}", paren(prog, rule, *a), op.symbol(), paren(prog, rule, *b)),
        ExprKind::Arith(op, a, b) => format!("{} {} {}", paren(prog, rule, *a), op.symbol(), paren(prog, rule, *b)),
        ExprKind::Coalesce(a, b) => format!("{} ?? {}", paren(prog, rule, *a), paren(prog, rule, *b)),
        ExprKind::InSet(x, set) => {
            let set = &prog.sets[set.index()];
            let n = set.items.len();
            let entries = format!("{n} entr{}", if n == 1 { "y" } else { "ies" });
            if set.origin.starts_with("list(") {
                format!("{} in {} of {entries}", paren(prog, rule, *x), set.origin)
            } else {
                let shown: Vec<String> = set.items.iter().take(5).map(const_text).collect();
                let more = if n > 5 { ", ..." } else { "" };
                format!("{} in [{}{more}]", paren(prog, rule, *x), shown.join(", "))
            }
        }
        ExprKind::InList(x, l) => format!("{} in {}", paren(prog, rule, *x), paren(prog, rule, *l)),
        ExprKind::Call(f, args) => {
            format!("{}({})", f.name(), args.iter().map(|a| s(*a)).collect::<Vec<_>>().join(", "))
        }
        ExprKind::Matches(x, r) => format!("matches({}, {:?})", s(*x), prog.regexes[r.index()]),
        ExprKind::IpIn(x, c) => {
            let nets: Vec<String> = prog.cidrs[c.index()].nets.iter().take(5).map(|n| format!("\"{n}\"")).collect();
            let more = if prog.cidrs[c.index()].nets.len() > 5 { ", ..." } else { "" };
            format!("ip_in({}, {}{more})", s(*x), nets.join(", "))
        }
        ExprKind::Quant { all, var, list, body } => {
            let name = rule.local_names.get(var.index()).cloned().unwrap_or_default();
            format!("{} {name} in {}: {}", if *all { "all" } else { "any" }, s(*list), s(*body))
        }
        ExprKind::Comp { var, list, filter, body } => {
            let name = rule.local_names.get(var.index()).cloned().unwrap_or_default();
            let filter = filter.map(|f| format!(" if {}", s(f))).unwrap_or_default();
            format!("[{} for {name} in {}{filter}]", s(*body), s(*list))
        }
        ExprKind::Object(members) => {
            let shown: Vec<String> = members.iter().map(|(k, e)| format!("{k:?}: {}", s(*e))).collect();
            format!("{{ {} }}", shown.join(", "))
        }
        ExprKind::Regex(f, args, r) => {
            let mut shown: Vec<String> = args.iter().map(|a| s(*a)).collect();
            shown.insert(1.min(shown.len()), format!("{:?}", prog.regexes[r.index()]));
            format!("{}({})", f.name(), shown.join(", "))
        }
        ExprKind::IpInConfig(x, q) => format!("ip_in({}, config.{})", s(*x), config_key(prog, *q)),
        ExprKind::MatchesConfig(x, q) => format!("matches({}, config.{})", s(*x), config_key(prog, *q)),
        ExprKind::InConfig(x, q) => format!("{} in config.{}", paren(prog, rule, *x), config_key(prog, *q)),
    }
}

/// The name of a typed configuration key.
fn config_key(prog: &Program, q: warden_ir::ConfigId) -> &str {
    prog.config_types.get(q.index()).map_or("?", |t| t.key.as_str())
}

fn const_text(c: &Const) -> String {
    match c {
        Const::Str(t) => format!("{t:?}"),
        Const::Int(i) => i.to_string(),
        Const::Float(f) => format!("{f:?}"),
        Const::Bool(b) => b.to_string(),
        Const::Null => "null".into(),
    }
}

/// Operands that are themselves operators get parentheses.
fn paren(prog: &Program, rule: &Rule, id: ExprId) -> String {
    let text = show(prog, rule, id);
    match prog.expr(id).kind {
        ExprKind::And(..)
        | ExprKind::Or(..)
        | ExprKind::Cmp(..)
        | ExprKind::IsNull(..)
        | ExprKind::Arith(..)
        | ExprKind::Coalesce(..)
        | ExprKind::InSet(..)
        | ExprKind::InList(..)
        | ExprKind::InConfig(..)
        | ExprKind::Not(..)
        | ExprKind::Quant { .. } => format!("({text})"),
        _ => text,
    }
}

/// A condition and the values of its parts, as recorded while it was evaluated.
pub fn condition(prog: &Program, rule: &Rule, cond: ExprId, held: bool, values: &HashMap<ExprId, Value>) -> Because {
    let mut parts = Vec::new();
    collect(prog, rule, cond, values, &mut parts);
    Because { condition: show(prog, rule, cond), was: held, parts }
}

fn collect(prog: &Program, rule: &Rule, id: ExprId, values: &HashMap<ExprId, Value>, out: &mut Vec<ValuePart>) {
    let kind = &prog.expr(id).kind;
    if matches!(kind, ExprKind::Const(_)) {
        return;
    }
    // Operands first, so the parts read from the data up to the decision.
    for child in kind.operands() {
        collect(prog, rule, child, values, out);
    }
    if let Some(v) = values.get(&id) {
        let entry = ValuePart { expr: show(prog, rule, id), value: v.to_json() };
        if !out.contains(&entry) {
            out.push(entry);
        }
    } else if !matches!(kind, ExprKind::List(_)) {
        out.push(ValuePart { expr: show(prog, rule, id), value: Json::from("not evaluated") });
    }
}
