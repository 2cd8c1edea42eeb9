//! A stable, human-readable text form of a [`Program`], golden-tested in `tests/`.

use std::fmt::Write;

use crate::*;

/// Renders a program as text. The format is stable: golden files depend on it.
pub fn dump(p: &Program) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "ir v{} claim_mode={:?}", p.ir_version, p.options.claim_mode);
    for (i, f) in p.files.iter().enumerate() {
        let _ = writeln!(out, "file f{i} {f:?}");
    }
    if !p.config_keys.is_empty() {
        let _ = writeln!(out, "config {}", p.config_keys.join(" "));
    }
    for (i, t) in p.config_types.iter().enumerate() {
        let _ = writeln!(out, "config q{i} {} : {}", t.key, t.ty.name());
    }
    for (i, s) in p.slots.iter().enumerate() {
        let check = if s.checked { "" } else { " (dynamic)" };
        let _ = writeln!(out, "slot s{i} {} : {}{check}", s.display(), s.ty.name());
    }
    for (i, s) in p.sets.iter().enumerate() {
        let shown: Vec<String> = s.items.iter().take(4).map(konst).collect();
        let more = if s.items.len() > 4 { ", ..." } else { "" };
        let _ = writeln!(out, "set k{i} {} {} items [{}{more}]", s.origin, s.items.len(), shown.join(", "));
    }
    for (i, r) in p.regexes.iter().enumerate() {
        let _ = writeln!(out, "regex r{i} {r:?}");
    }
    for (i, c) in p.cidrs.iter().enumerate() {
        let nets: Vec<String> = c.nets.iter().map(|n| n.to_string()).collect();
        let _ = writeln!(out, "cidr c{i} {}", nets.join(" "));
    }
    for step in &p.steps {
        match *step {
            Step::Rule(id) => {
                let r = &p.rules[id.index()];
                let _ = writeln!(out, "rule {:?} at {} locals={}", r.name, loc(r.loc), r.locals);
                block(p, &r.body, 1, &mut out);
            }
            Step::Js(id) => {
                let j = &p.js_rules[id as usize];
                let _ = writeln!(out, "js {:?} f{}", j.name, j.file);
            }
        }
    }
    out
}

fn loc(l: Loc) -> String {
    format!("f{}:{}:{}", l.file, l.line, l.col)
}

fn block(p: &Program, stmts: &[Stmt], depth: usize, out: &mut String) {
    for s in stmts {
        let pad = "  ".repeat(depth);
        let e = |id: ExprId| expr(p, id);
        let line = match &s.kind {
            StmtKind::When(c) => format!("when {}", e(*c)),
            StmtKind::Let(l, v) => format!("let l{l} = {}", e(*v)),
            StmtKind::If { cond, then, otherwise } => {
                let _ = writeln!(out, "{pad}if {}  @{}", e(*cond), s.loc.line);
                block(p, then, depth + 1, out);
                if !otherwise.is_empty() {
                    let _ = writeln!(out, "{pad}else");
                    block(p, otherwise, depth + 1, out);
                }
                continue;
            }
            StmtKind::Deny { code, message } => {
                format!("deny {} {}", code.as_str(), message.map_or("-".into(), e))
            }
            StmtKind::SetUser { path, value, refresh } => {
                format!("set user.{} = {} refresh={}", path.join("."), e(*value), slots(p.refreshed(*refresh)))
            }
            StmtKind::UnsetUser { path, refresh } => {
                format!("unset user.{} refresh={}", path.join("."), slots(p.refreshed(*refresh)))
            }
            StmtKind::Claim { token, name, value } => {
                format!("claim {} {name:?} = {}", token.as_str(), e(*value))
            }
            StmtKind::Scope { op, values } => {
                let vs: Vec<String> = values.iter().map(|v| e(*v)).collect();
                format!("scope {op:?} {}", vs.join(", ")).to_lowercase_first()
            }
            StmtKind::Mfa { provider, remember, options } => {
                let opts: Vec<String> = options.iter().map(|(k, v)| format!("{k}: {}", e(*v))).collect();
                format!("mfa {provider} remember={} options={{{}}}", remember.map_or("-".into(), e), opts.join(", "))
            }
            StmtKind::Redirect(u) => format!("redirect {}", e(*u)),
            StmtKind::Persist { metadata, key, path, value, refresh } => {
                let rest: String = path.iter().map(|k| format!(".{k}")).collect();
                format!(
                    "persist {}.{key}{rest} = {} refresh={}",
                    metadata.field(),
                    e(*value),
                    slots(p.refreshed(*refresh))
                )
            }
            StmtKind::Log(m) => format!("log {}", e(*m)),
        };
        let _ = writeln!(out, "{pad}{line}  @{}", s.loc.line);
    }
}

trait LowerFirst {
    fn to_lowercase_first(self) -> String;
}
impl LowerFirst for String {
    fn to_lowercase_first(self) -> String {
        let mut c = self.chars();
        match c.next() {
            Some(f) => f.to_lowercase().chain(c).collect(),
            None => self,
        }
    }
}

fn slots(ids: &[SlotId]) -> String {
    let v: Vec<String> = ids.iter().map(|i| format!("s{i}")).collect();
    format!("[{}]", v.join(" "))
}

fn konst(c: &Const) -> String {
    match c {
        Const::Null => "null".into(),
        Const::Bool(b) => b.to_string(),
        Const::Int(i) => i.to_string(),
        Const::Float(f) => format!("{f:?}"),
        Const::Str(s) => format!("{s:?}"),
    }
}

/// One expression as an s-expression.
pub(crate) fn expr(p: &Program, id: ExprId) -> String {
    let e = |id: ExprId| expr(p, id);
    match &p.expr(id).kind {
        ExprKind::Const(c) => konst(c),
        ExprKind::Slot(s) => format!("s{s}"),
        ExprKind::Local(l) => format!("l{l}"),
        ExprKind::List(items) => {
            let v: Vec<String> = items.iter().map(|i| e(*i)).collect();
            format!("[{}]", v.join(" "))
        }
        ExprKind::Interp(parts) => {
            let v: Vec<String> = parts
                .iter()
                .map(|part| match part {
                    Part::Text(t) => format!("{t:?}"),
                    Part::Expr(x) => e(*x),
                })
                .collect();
            format!("(str {})", v.join(" "))
        }
        ExprKind::Field(b, f) => format!("(. {} {f:?})", e(*b)),
        ExprKind::Index(b, i) => format!("([] {} {})", e(*b), e(*i)),
        ExprKind::Not(x) => format!("(not {})", e(*x)),
        ExprKind::Neg(x) => format!("(neg {})", e(*x)),
        ExprKind::IsNull(x) => format!("(is-null {})", e(*x)),
        ExprKind::And(a, b) => format!("(and {} {})", e(*a), e(*b)),
        ExprKind::Or(a, b) => format!("(or {} {})", e(*a), e(*b)),
        ExprKind::Cmp(op, a, b) => format!("({} {} {})", op.symbol(), e(*a), e(*b)),
        ExprKind::Arith(op, a, b) => format!("({} {} {})", op.symbol(), e(*a), e(*b)),
        ExprKind::Coalesce(a, b) => format!("(?? {} {})", e(*a), e(*b)),
        ExprKind::InSet(a, s) => format!("(in-set {} k{s})", e(*a)),
        ExprKind::InList(a, b) => format!("(in {} {})", e(*a), e(*b)),
        ExprKind::Call(f, args) => {
            let v: Vec<String> = args.iter().map(|a| e(*a)).collect();
            if v.is_empty() { format!("({})", f.name()) } else { format!("({} {})", f.name(), v.join(" ")) }
        }
        ExprKind::Matches(a, r) => format!("(matches {} r{r})", e(*a)),
        ExprKind::IpIn(a, c) => format!("(ip_in {} c{c})", e(*a)),
        ExprKind::Quant { all, var, list, body } => {
            format!("({} l{var} {} {})", if *all { "all" } else { "any" }, e(*list), e(*body))
        }
        ExprKind::Comp { var, list, filter, body } => match filter {
            Some(f) => format!("(for l{var} {} (if {}) {})", e(*list), e(*f), e(*body)),
            None => format!("(for l{var} {} {})", e(*list), e(*body)),
        },
        ExprKind::Object(members) => {
            let v: Vec<String> = members.iter().map(|(k, x)| format!("{k:?} {}", e(*x))).collect();
            format!("{{{}}}", v.join(" "))
        }
        ExprKind::Regex(f, args, r) => {
            let v: Vec<String> = args.iter().map(|a| e(*a)).collect();
            format!("({} r{r} {})", f.name(), v.join(" "))
        }
        ExprKind::IpInConfig(a, q) => format!("(ip_in {} q{q})", e(*a)),
        ExprKind::MatchesConfig(a, q) => format!("(matches {} q{q})", e(*a)),
        ExprKind::InConfig(a, q) => format!("(in-config {} q{q})", e(*a)),
    }
}
