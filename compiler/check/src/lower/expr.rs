//! Expressions: names and paths resolved to slots and locals, types checked, lowered.

use warden_ir::{self as ir, ExprId, ExprKind, Root};
use warden_syntax::ast::{self, BinOp, StrPart, UnOp};
use warden_syntax::{Span, codes};

use super::Lowerer;
use super::call::list_arg;
use crate::facts::FactKind;
use crate::schema::CTy;
use crate::suggest::did_you_mean;

impl Lowerer<'_> {
    /// A condition: a bool (or `any`, checked at run time).
    pub(super) fn cond(&mut self, e: &ast::Expr) -> ExprId {
        let (id, ty) = self.expr(e);
        match &ty {
            CTy::Bool | CTy::Dyn | CTy::Null => {}
            other => {
                let help = match other {
                    CTy::Str | CTy::Enum(_) => "compare it with a value (`== \"...\"`) or test presence with `!= null`",
                    CTy::List(_) => "test membership with `in`, or emptiness with `len(x) > 0`",
                    CTy::Int | CTy::Float => "compare it with a number, such as `> 0`",
                    _ => "conditions are bool expressions",
                };
                self.err(
                    codes::E0105,
                    format!("a condition must be a bool, found {}", a(other)),
                    e.span,
                    format!("this is {}", a(other)),
                )
                .help = Some(help.into());
            }
        }
        if let ExprKind::Const(ir::Const::Bool(b)) = self.prog.expr(id).kind {
            self.warn(codes::W0003, format!("condition is always {b}"), e.span, "constant condition").help =
                Some("remove the condition, or the statement it guards".into());
        }
        id
    }

    pub(super) fn expect_ty(&mut self, e: &ast::Expr, want: &CTy, what: &str) -> ExprId {
        let (id, ty) = self.expr(e);
        if !ty.fits(want) {
            self.err(
                codes::E0104,
                format!("{what} must be {}, found {}", a(want), a(&ty)),
                e.span,
                format!("this is {}", a(&ty)),
            )
            .help = Some(if want.is_str() {
                "interpolate it into a string: \"${...}\"".into()
            } else {
                format!("give {}", a(want))
            });
        }
        id
    }

    pub(crate) fn expr(&mut self, e: &ast::Expr) -> (ExprId, CTy) {
        use ast::ExprKind as E;
        let span = e.span;
        match &e.kind {
            E::Str(parts) => self.string(parts, span),
            E::Int(n) => (self.push(ExprKind::Const(ir::Const::Int(*n)), &CTy::Int, span), CTy::Int),
            E::Float(f) => (self.push(ExprKind::Const(ir::Const::Float(*f)), &CTy::Float, span), CTy::Float),
            E::Bool(b) => (self.push(ExprKind::Const(ir::Const::Bool(*b)), &CTy::Bool, span), CTy::Bool),
            E::Null => (self.push(ExprKind::Const(ir::Const::Null), &CTy::Null, span), CTy::Null),
            E::List(items) => {
                let mut ids = Vec::new();
                let mut elem: Option<CTy> = None;
                for item in items {
                    let (id, ty) = self.expr(item);
                    ids.push(id);
                    elem = Some(match elem {
                        None => ty,
                        Some(prev) => unify(&prev, &ty).unwrap_or(CTy::Dyn),
                    });
                }
                let ty = CTy::List(Box::new(elem.unwrap_or(CTy::Dyn)));
                (self.push(ExprKind::List(ids), &ty, span), ty)
            }
            E::Var(name) => {
                if let Some((id, ty)) = self.lookup_local(&name.name) {
                    let def = self.local_def(id);
                    self.fact(span, || FactKind::Local { name: name.name.clone(), ty: ty.clone(), def });
                    return (self.push(ExprKind::Local(id), &ty, span), ty);
                }
                match name.name.as_str() {
                    "user" | "context" => self.path(name, &[], span),
                    "config" => {
                        self.err(codes::E0110, "`config` is read one key at a time", span, "whole configuration")
                            .help = Some("write `config.KEY`".into());
                        self.poison(span)
                    }
                    _ => self.unknown_name(name),
                }
            }
            E::Field(..) | E::Index(..) => {
                if let Some((root, path)) = static_path(e)
                    && self.lookup_local(&root.name).is_none()
                    && matches!(root.name.as_str(), "user" | "context" | "config")
                {
                    return self.path(root, &path, span);
                }
                match &e.kind {
                    E::Field(base, field) => {
                        let (b, bty) = self.expr(base);
                        let ty = self.field_of(&bty, field, &expr_str(base));
                        let shown = format!("{}.{}", expr_str(base), field.name);
                        self.fact(span, || FactKind::Field { shown, ty: ty.clone() });
                        (self.push(ExprKind::Field(b, field.name.clone()), &ty, span), ty)
                    }
                    E::Index(base, index) => self.index(base, index, span),
                    _ => unreachable!(),
                }
            }
            E::Call(name, args) => self.call(name, args, span),
            E::Unary(UnOp::Not, x) => {
                let c = self.cond(x);
                (self.push(ExprKind::Not(c), &CTy::Bool, span), CTy::Bool)
            }
            E::Unary(UnOp::Neg, x) => {
                let (v, ty) = self.expr(x);
                if let ExprKind::Const(c) = &self.prog.expr(v).kind {
                    let folded = match c {
                        ir::Const::Int(n) => n.checked_neg().map(ir::Const::Int),
                        ir::Const::Float(f) => Some(ir::Const::Float(-f)),
                        _ => None,
                    };
                    if let Some(c) = folded {
                        return (self.push(ExprKind::Const(c), &ty, span), ty);
                    }
                }
                if !(ty.is_num() || ty.is_dyn()) {
                    self.err(codes::E0104, format!("cannot negate {}", a(&ty)), x.span, "not a number");
                    return self.poison(span);
                }
                (self.push(ExprKind::Neg(v), &ty, span), ty)
            }
            E::Binary(op, l, r) => self.binary(*op, l, r, span),
            E::Quant { kind, var, list, body } => {
                let (l, elem) = self.range(list, "quantifiers");
                self.open_scope();
                let (n, t) = (var.name.clone(), elem.clone());
                self.fact(var.span, || FactKind::Binding { name: n, ty: t, is_let: false });
                let id = self.declare_bound(var, elem, self.built[l.index()]);
                let b = self.cond(body);
                self.close_scope();
                let all = *kind == ast::Quantifier::All;
                (self.push(ExprKind::Quant { all, var: id, list: l, body: b }, &CTy::Bool, span), CTy::Bool)
            }
            E::Comp { body, var, list, filter } => {
                let (l, elem) = self.range(list, "comprehensions");
                self.open_scope();
                let (n, t) = (var.name.clone(), elem.clone());
                self.fact(var.span, || FactKind::Binding { name: n, ty: t, is_let: false });
                let id = self.declare_bound(var, elem, self.built[l.index()]);
                let f = filter.as_ref().map(|f| self.cond(f));
                let (b, bty) = self.expr(body);
                self.close_scope();
                let ty = CTy::List(Box::new(bty));
                (self.push(ExprKind::Comp { var: id, list: l, filter: f, body: b }, &ty, span), ty)
            }
            E::Object(members) => {
                let mut fields: Vec<crate::schema::Field> = Vec::new();
                let mut ids = Vec::new();
                for (key, value) in members {
                    let (id, ty) = self.expr(value);
                    if fields.iter().any(|f| f.name == key.name) {
                        self.err(
                            codes::E0124,
                            format!("`{}` is a key of this object twice", key.name),
                            key.span,
                            "repeated key",
                        )
                        .help = Some("each key appears once in an object literal".into());
                        continue;
                    }
                    fields.push(crate::schema::Field { name: key.name.clone(), ty, writable: true });
                    ids.push((key.name.clone(), id));
                }
                let ty = CTy::Obj(std::sync::Arc::new(crate::schema::Shape { fields }));
                (self.push(ExprKind::Object(ids), &ty, span), ty)
            }
        }
    }

    /// The list a quantifier or comprehension ranges over, and the type of its items.
    fn range(&mut self, list: &ast::Expr, what: &str) -> (ExprId, CTy) {
        let (l, lty) = self.expr(list);
        let elem = match &lty {
            CTy::List(t) => (**t).clone(),
            CTy::Dyn | CTy::Null => CTy::Dyn,
            other => {
                self.err(codes::E0104, format!("{what} range over lists, found {}", a(other)), list.span, "not a list");
                CTy::Dyn
            }
        };
        (l, elem)
    }

    pub(super) fn string(&mut self, parts: &[StrPart], span: Span) -> (ExprId, CTy) {
        if let [StrPart::Text(t)] = parts {
            return (self.push(ExprKind::Const(ir::Const::Str(t.clone())), &CTy::Str, span), CTy::Str);
        }
        let mut out = Vec::new();
        for p in parts {
            out.push(match p {
                StrPart::Text(t) => ir::Part::Text(t.clone()),
                StrPart::Interp(e) => ir::Part::Expr(self.expr(e).0),
            });
        }
        (self.push(ExprKind::Interp(out), &CTy::Str, span), CTy::Str)
    }

    /// A path from `user`, `context` or `config`, resolved to one slot.
    pub(super) fn path(&mut self, root: &ast::Ident, path: &[(String, Span)], span: Span) -> (ExprId, CTy) {
        let (root_kind, mut ty) = match root.name.as_str() {
            "user" => (Root::User, self.schema.user.clone()),
            "context" => (Root::Context, self.schema.context.clone()),
            _ => (Root::Config, CTy::Dyn),
        };
        let mut checked = true;
        if root_kind == Root::Config {
            let Some((key, kspan)) = path.first() else {
                return self.poison(span);
            };
            if let Some(keys) = &self.config
                && !keys.contains_key(key)
            {
                let suggestion = did_you_mean(key, keys.keys().map(String::as_str));
                let help = suggest_or(suggestion.clone(), "add the key to [configuration] in warden.toml");
                let suggestion = suggestion.map(|s| self.replacement(*kspan, s));
                let d = self.err(
                    codes::E0110,
                    format!("unknown configuration key `{key}`"),
                    *kspan,
                    "not in [configuration]",
                );
                d.help = Some(help);
                d.suggestion = suggestion;
                return self.poison(span);
            }
            ty = self.config_cty(key);
            if let Some((_, s)) = path.get(1) {
                let help = match &ty {
                    CTy::List(_) => format!("index it (`config.{key}[0]`) or use `any x in config.{key}: ...`"),
                    CTy::Str => {
                        "declare its type in [configuration] (`type = \"list<string>\"`), or use split()".into()
                    }
                    _ => "configuration values have no fields".into(),
                };
                self.err(
                    codes::E0120,
                    format!("`config.{key}` is {}: it has no fields", a(&ty)),
                    *s,
                    "no such field",
                )
                .help = Some(help);
                return self.poison(span);
            }
            checked = !ty.is_dyn();
        } else {
            for (i, (seg, sspan)) in path.iter().enumerate() {
                ty = match ty {
                    CTy::Obj(shape) => match shape.field(seg) {
                        Some(f) => f.ty.clone(),
                        None => {
                            let shown = path_str(&root.name, &path[..i]);
                            self.unknown_field(&shape, seg, *sspan, &shown);
                            return self.poison(span);
                        }
                    },
                    CTy::Dyn => {
                        checked = false;
                        CTy::Dyn
                    }
                    other => {
                        let shown = path_str(&root.name, &path[..i]);
                        let help = match &other {
                            _ if let Some(h) = super::hints::field(&shown, seg, &other) => h,
                            CTy::List(_) => format!(
                                "`{shown}` is a list: index it (`{shown}[0].{seg}`) or use `any x in {shown}: x.{seg} ...`"
                            ),
                            _ => format!("`{shown}` is {}", a(&other)),
                        };
                        self.err(codes::E0120, format!("`{shown}` has no field `{seg}`"), *sspan, "no such field")
                            .help = Some(help);
                        return self.poison(span);
                    }
                };
            }
        }
        let key = (root_kind, path.iter().map(|(s, _)| s.clone()).collect::<Vec<_>>());
        let root_name = match root_kind {
            Root::User => "user",
            Root::Context => "context",
            _ => "config",
        };
        self.fact(span, || FactKind::Path { root: root_name, path: key.1.clone(), ty: ty.clone() });
        let slot = match self.slot_index.get(&key) {
            Some(&id) => id,
            None => {
                self.prog.slots.push(ir::Slot {
                    root: root_kind,
                    path: key.1.clone(),
                    ty: ty.to_ir(),
                    checked: checked && !ty.is_dyn(),
                });
                self.slot_types.push(ty.clone());
                let id = ir::SlotId::from_index(self.prog.slots.len() - 1);
                self.slot_index.insert(key, id);
                id
            }
        };
        (self.push(ExprKind::Slot(slot), &ty, span), ty)
    }

    /// The type of `config.KEY` (a known key): as declared, a string when the manifest has no
    /// `[configuration]` or declares no type, `any` when its entry is not valid.
    pub(super) fn config_cty(&self, key: &str) -> CTy {
        match self.config.as_ref().and_then(|c| c.get(key)) {
            Some(None) => CTy::Dyn,
            Some(Some(t)) => match t {
                ir::ConfigType::Int => CTy::Int,
                ir::ConfigType::Float => CTy::Float,
                ir::ConfigType::Bool => CTy::Bool,
                ir::ConfigType::StrList => CTy::List(Box::new(CTy::Str)),
                ir::ConfigType::Str | ir::ConfigType::CidrList | ir::ConfigType::Regex => CTy::Str,
            },
            None => CTy::Str,
        }
    }

    /// `config.KEY` written as such (one key that can be read: declared, or any key without
    /// a `[configuration]` table): the key, its declared type (`None` for an entry that is not
    /// valid) and, for a typed key, its id.
    pub(super) fn config_ref(&self, e: &ast::Expr) -> Option<ConfigRef> {
        let (root, path) = static_path(e)?;
        if root.name != "config" || self.lookup_local("config").is_some() {
            return None;
        }
        let [(key, _)] = path.as_slice() else { return None };
        let ty = match &self.config {
            Some(keys) => *keys.get(key)?,
            None => Some(ir::ConfigType::Str),
        };
        let id = self.prog.config_types.iter().position(|t| &t.key == key).map(ir::ConfigId::from_index);
        Some(ConfigRef { key: key.clone(), ty, id })
    }

    pub(super) fn unknown_field(&mut self, shape: &crate::schema::Shape, name: &str, span: Span, parent: &str) {
        let suggestion = did_you_mean(name, shape.names());
        let help = match &suggestion {
            Some(s) => format!("did you mean `{parent}.{s}`?"),
            None if parent == "user" => "custom attributes live in `user.app_metadata` or `user.user_metadata`".into(),
            None if parent.starts_with("user") || parent.starts_with("context") => {
                format!("see docs/schema.md for the fields of `{parent}`")
            }
            None => {
                let names: Vec<String> = shape.names().map(|n| format!("`{n}`")).collect();
                if names.is_empty() {
                    "it has no fields".into()
                } else {
                    format!("its fields are {}", names.join(", "))
                }
            }
        };
        let suggestion = suggestion.map(|s| self.replacement(span, s));
        let d = self.err(codes::E0100, format!("unknown field `{name}` in `{parent}`"), span, "unknown field");
        d.help = Some(help);
        d.suggestion = suggestion;
    }

    /// `name` as it replaces the text at `span`: quoted when the span is a string key
    /// (`user["emial"]`).
    fn replacement(&self, span: Span, name: String) -> String {
        let text = &self.sources.get(self.file).text;
        match text.get(span.start as usize..span.end as usize) {
            Some(t) if t.starts_with('"') => format!("{name:?}"),
            _ => name,
        }
    }

    pub(super) fn unknown_name(&mut self, name: &ast::Ident) -> (ExprId, CTy) {
        let mut candidates: Vec<String> = self.visible_names().map(String::from).collect();
        candidates.sort();
        candidates.extend(["user", "context", "config"].map(String::from));
        let mut suggestion = None;
        let help = match name.name.as_str() {
            "configuration" => "the tenant configuration is `config`: `config.KEY`".into(),
            "true" | "false" | "null" => "literals are lower-case".into(),
            n if let Some(h) = super::hints::name(n) => h.into(),
            _ => {
                suggestion = did_you_mean(&name.name, candidates.iter().map(String::as_str));
                suggest_or(suggestion.clone(), "define it with `let` first")
            }
        };
        let d = self.err(codes::E0101, format!("unknown name `{}`", name.name), name.span, "not defined");
        d.help = Some(help);
        d.suggestion = suggestion;
        self.poison(name.span)
    }

    pub(super) fn field_of(&mut self, base: &CTy, field: &ast::Ident, base_str: &str) -> CTy {
        match base {
            CTy::Obj(shape) => match shape.field(&field.name) {
                Some(f) => f.ty.clone(),
                None => {
                    self.unknown_field(&shape.clone(), &field.name, field.span, base_str);
                    CTy::Dyn
                }
            },
            CTy::Dyn | CTy::Null => CTy::Dyn,
            other => {
                let help = match other {
                    _ if let Some(h) = super::hints::field(base_str, &field.name, other) => h,
                    CTy::List(_) => format!("`{base_str}` is a list: index it or use a quantifier"),
                    _ => format!("`{base_str}` is {}", a(other)),
                };
                self.err(
                    codes::E0120,
                    format!("`{base_str}` has no field `{}`", field.name),
                    field.span,
                    "no such field",
                )
                .help = Some(help);
                CTy::Dyn
            }
        }
    }

    pub(super) fn index(&mut self, base: &ast::Expr, index: &ast::Expr, span: Span) -> (ExprId, CTy) {
        let (b, bty) = self.expr(base);
        let (i, ity) = self.expr(index);
        let ty = match (&bty, &ity) {
            (CTy::List(t), CTy::Int | CTy::Dyn | CTy::Null) => (**t).clone(),
            (CTy::Obj(shape), _) if ity.is_str() => match &index.kind {
                ast::ExprKind::Str(parts) => match parts.as_slice() {
                    [StrPart::Text(t)] => match shape.field(t) {
                        Some(f) => f.ty.clone(),
                        None => {
                            self.unknown_field(&shape.clone(), t, index.span, &expr_str(base));
                            CTy::Dyn
                        }
                    },
                    _ => CTy::Dyn,
                },
                _ => CTy::Dyn,
            },
            (CTy::Obj(_), CTy::Dyn | CTy::Null) | (CTy::Dyn | CTy::Null, _) => CTy::Dyn,
            (CTy::List(_), other) => {
                self.err(codes::E0104, format!("list indexes are ints, found {}", a(other)), index.span, "not an int");
                CTy::Dyn
            }
            (other, _) => {
                self.err(codes::E0104, format!("cannot index {}", a(other)), base.span, "not a list or object");
                CTy::Dyn
            }
        };
        (self.push(ExprKind::Index(b, i), &ty, span), ty)
    }

    pub(super) fn binary(&mut self, op: BinOp, l: &ast::Expr, r: &ast::Expr, span: Span) -> (ExprId, CTy) {
        match op {
            BinOp::And | BinOp::Or => {
                let (a_, b_) = (self.cond(l), self.cond(r));
                let kind = if op == BinOp::And { ExprKind::And(a_, b_) } else { ExprKind::Or(a_, b_) };
                (self.push(kind, &CTy::Bool, span), CTy::Bool)
            }
            BinOp::In | BinOp::NotIn => {
                let id = self.membership(l, r, span);
                if op == BinOp::NotIn {
                    return (self.push(ExprKind::Not(id), &CTy::Bool, span), CTy::Bool);
                }
                (id, CTy::Bool)
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let (x, xt) = self.expr(l);
                let (y, yt) = self.expr(r);
                let ordering = !matches!(op, BinOp::Eq | BinOp::Ne);
                // Date-times compare as instants: with another date-time, epoch milliseconds, or
                // (for ordering) a date-time string or dynamic data.
                let time = matches!(xt, CTy::Time) || matches!(yt, CTy::Time);
                let other_ok =
                    |t: &CTy| matches!(t, CTy::Time | CTy::Int) || (ordering && (t.is_str() || matches!(t, CTy::Dyn)));
                let (x, xt, y, yt) = if time && other_ok(&xt) && other_ok(&yt) {
                    let (x, xt) = self.instant(x, xt, l.span);
                    let (y, yt) = self.instant(y, yt, r.span);
                    (x, xt, y, yt)
                } else {
                    (x, xt, y, yt)
                };
                let ok = if ordering {
                    xt.is_dyn() || yt.is_dyn() || (xt.is_num() && yt.is_num()) || (xt.is_str() && yt.is_str())
                } else {
                    comparable(&xt, &yt)
                };
                if !ok {
                    let help = match (&xt, &yt) {
                        (CTy::Bool, t) | (t, CTy::Bool) if t.is_str() => {
                            "compare bools with `true` or `false`, without quotes".to_string()
                        }
                        (CTy::Time, _) | (_, CTy::Time) => {
                            "date-times compare with date-times or epoch milliseconds (`now() - days(30)`)".to_string()
                        }
                        _ if ordering => "ordering compares two numbers or two strings".to_string(),
                        _ => "compare values of the same type".to_string(),
                    };
                    self.err(
                        codes::E0106,
                        format!("cannot compare {} with {} using `{}`", a(&xt), a(&yt), op.symbol()),
                        span,
                        "mismatched types",
                    )
                    .help = Some(help);
                }
                self.enum_check(op, (x, &xt, l), (y, &yt, r));
                // `x == null` tests for missing; any other `==` between two missing values is
                // false (docs/language.md, Semantics).
                if matches!(op, BinOp::Eq | BinOp::Ne) && matches!((&xt, &yt), (CTy::Null, _) | (_, CTy::Null)) {
                    let other = if matches!(xt, CTy::Null) { y } else { x };
                    let test = self.push(ExprKind::IsNull(other), &CTy::Bool, span);
                    if op == BinOp::Ne {
                        return (self.push(ExprKind::Not(test), &CTy::Bool, span), CTy::Bool);
                    }
                    return (test, CTy::Bool);
                }
                let cmp = match op {
                    BinOp::Eq => ir::CmpOp::Eq,
                    BinOp::Ne => ir::CmpOp::Ne,
                    BinOp::Lt => ir::CmpOp::Lt,
                    BinOp::Le => ir::CmpOp::Le,
                    BinOp::Gt => ir::CmpOp::Gt,
                    _ => ir::CmpOp::Ge,
                };
                (self.push(ExprKind::Cmp(cmp, x, y), &CTy::Bool, span), CTy::Bool)
            }
            BinOp::Coalesce => {
                let (x, xt) = self.expr(l);
                let (y, yt) = self.expr(r);
                let ty = match unify(&xt, &yt) {
                    Some(t) => t,
                    None => {
                        self.err(
                            codes::E0104,
                            format!("both sides of `??` must have one type, found {} and {}", a(&xt), a(&yt)),
                            span,
                            "mismatched types",
                        )
                        .help = Some("give a default of the same type as the value".into());
                        CTy::Dyn
                    }
                };
                (self.push(ExprKind::Coalesce(x, y), &ty, span), ty)
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem => {
                let (x, xt) = self.expr(l);
                let (y, yt) = self.expr(r);
                // Instants and durations: `time ± int` and `time - time` in milliseconds.
                let time_arith = match (&xt, &yt) {
                    (CTy::Time, CTy::Int | CTy::Dyn) | (CTy::Int | CTy::Dyn, CTy::Time) => {
                        matches!(op, BinOp::Add | BinOp::Sub)
                    }
                    (CTy::Time, CTy::Time) => op == BinOp::Sub,
                    _ => false,
                };
                // Only the date-time sides become instants: the other is a number of
                // milliseconds (checked at run time when it is dynamic data).
                let (x, xt) = if time_arith && matches!(xt, CTy::Time) { self.instant(x, xt, l.span) } else { (x, xt) };
                let (y, yt) = if time_arith && matches!(yt, CTy::Time) { self.instant(y, yt, r.span) } else { (y, yt) };
                let ty = match (&xt, &yt) {
                    (CTy::Int, CTy::Int) => CTy::Int,
                    (a_, b_) if a_.is_num() && b_.is_num() => CTy::Float,
                    (a_, b_) if op == BinOp::Add && a_.is_str() && b_.is_str() => CTy::Str,
                    (a_, b_)
                        if (a_.is_dyn() || a_.is_num() || (op == BinOp::Add && a_.is_str()))
                            && (b_.is_dyn() || b_.is_num() || (op == BinOp::Add && b_.is_str())) =>
                    {
                        CTy::Dyn
                    }
                    _ => {
                        self.err(
                            codes::E0104,
                            format!("cannot apply `{}` to {} and {}", op.symbol(), a(&xt), a(&yt)),
                            span,
                            "mismatched types",
                        )
                        .help = Some(if op == BinOp::Add {
                            "`+` adds numbers or joins strings; interpolate other values: \"${x}\"".into()
                        } else {
                            "arithmetic works on numbers".into()
                        });
                        CTy::Dyn
                    }
                };
                let aop = match op {
                    BinOp::Add => ir::ArithOp::Add,
                    BinOp::Sub => ir::ArithOp::Sub,
                    BinOp::Mul => ir::ArithOp::Mul,
                    BinOp::Div => ir::ArithOp::Div,
                    _ => ir::ArithOp::Rem,
                };
                (self.push(ExprKind::Arith(aop, x, y), &ty, span), ty)
            }
        }
    }

    /// A value read as an instant: epoch milliseconds stay as they are; anything else goes
    /// through `millis()` (a date-time string, or dynamic data checked at run time).
    fn instant(&mut self, id: ExprId, ty: CTy, span: Span) -> (ExprId, CTy) {
        if matches!(ty, CTy::Int) {
            return (id, ty);
        }
        (self.push(ExprKind::Call(ir::Builtin::Millis, vec![id]), &CTy::Int, span), CTy::Int)
    }

    /// Warns when a string with known values is compared with a value it never has.
    pub(super) fn enum_check(&mut self, op: BinOp, x: (ExprId, &CTy, &ast::Expr), y: (ExprId, &CTy, &ast::Expr)) {
        for ((_, ty, side), (other, _, other_ast)) in [(x, y), (y, x)] {
            let CTy::Enum(values) = ty else { continue };
            let ExprKind::Const(ir::Const::Str(lit)) = &self.prog.expr(other).kind else {
                continue;
            };
            if values.contains(&lit.as_str()) {
                continue;
            }
            let lit = lit.clone();
            let always = if op == BinOp::Eq { "false" } else { "true" };
            let suggestion = did_you_mean(&lit, values.iter().copied());
            let help = suggest_or(suggestion.clone(), &format!("known values: {}", values.join(", ")));
            let d = self.warn(
                codes::W0003,
                format!("`{}` is never `{lit}`: this comparison is always {always}", expr_str(side)),
                other_ast.span,
                "unknown value",
            );
            d.help = Some(help);
            d.suggestion = suggestion.map(|s| format!("{s:?}"));
        }
    }

    pub(super) fn membership(&mut self, l: &ast::Expr, r: &ast::Expr, span: Span) -> ExprId {
        let (x, xt) = self.expr(l);
        // `x in list("file")` and `x in [constants]` become prebuilt sets.
        if let ast::ExprKind::Call(name, args) = &r.kind
            && name.name == "list"
            && self.lookup_local("list").is_none()
        {
            let set = self.list_file(args, r.span);
            return match set {
                Some(items) => {
                    let origin = format!("list({:?})", list_arg(args).unwrap_or_default());
                    let id = self.add_set(origin, items.into_iter().map(ir::Const::Str).collect());
                    if !(xt.is_str() || xt.is_dyn()) {
                        self.err(
                            codes::E0104,
                            format!("list files hold strings, found {}", a(&xt)),
                            l.span,
                            "not a string",
                        );
                    }
                    self.push(ExprKind::InSet(x, id), &CTy::Bool, span)
                }
                None => self.poison(span).0,
            };
        }
        if let ast::ExprKind::List(items) = &r.kind
            && let Some(consts) = items.iter().map(const_of).collect::<Option<Vec<_>>>()
        {
            let elem = consts.iter().map(const_ty).reduce(|x, y| unify(&x, &y).unwrap_or(CTy::Dyn));
            if let Some(t) = elem
                && !comparable(&xt, &t)
            {
                self.err(
                    codes::E0106,
                    format!("cannot look for {} in a list of {}", a(&xt), plural(&t)),
                    span,
                    "mismatched types",
                );
            }
            let id = self.add_set("[...]".into(), consts);
            return self.push(ExprKind::InSet(x, id), &CTy::Bool, span);
        }
        // `x in config.KEY` over a `list<string>` key: a set built once per configuration.
        if let Some(c) = self.config_ref(r)
            && let (Some(ir::ConfigType::StrList), Some(id)) = (c.ty, c.id)
        {
            if !(xt.is_str() || xt.is_dyn()) {
                self.err(
                    codes::E0106,
                    format!("cannot look for {} in a list of strings", a(&xt)),
                    span,
                    "mismatched types",
                );
            }
            return self.push(ExprKind::InConfig(x, id), &CTy::Bool, span);
        }
        let string_key = self.config_ref(r).filter(|c| c.ty == Some(ir::ConfigType::Str));
        let (y, yt) = self.expr(r);
        match &yt {
            CTy::List(t) if !comparable(&xt, t) => {
                self.err(
                    codes::E0106,
                    format!("cannot look for {} in a list of {}", a(&xt), plural(t)),
                    span,
                    "mismatched types",
                );
            }
            CTy::List(_) | CTy::Dyn | CTy::Null => {}
            other => {
                let help = match &string_key {
                    Some(c) => c.wrong_type(ir::ConfigType::StrList, "example.com, example.org").1,
                    None if other.is_str() => "use contains(text, part) for substrings".into(),
                    None => "`in` looks into a list".into(),
                };
                self.err(codes::E0104, format!("`in` needs a list, found {}", a(other)), r.span, "not a list").help =
                    Some(help);
            }
        }
        self.push(ExprKind::InList(x, y), &CTy::Bool, span)
    }

    pub(super) fn add_set(&mut self, origin: String, items: Vec<ir::Const>) -> ir::SetId {
        self.prog.sets.push(ir::ConstSet { origin, items });
        ir::SetId::from_index(self.prog.sets.len() - 1)
    }
}

/// `config.KEY` as an operand (see `Lowerer::config_ref`).
pub(super) struct ConfigRef {
    pub key: String,
    /// `None` for an entry that is not valid (already reported).
    pub ty: Option<ir::ConfigType>,
    /// The key's id in `Program::config_types`, when it is typed.
    pub id: Option<ir::ConfigId>,
}

impl ConfigRef {
    /// The message and help for this key where a key of type `want` is needed: its type, and
    /// how to declare the one needed (`example` as its value).
    pub fn wrong_type(&self, want: ir::ConfigType, example: &str) -> (String, String) {
        let ty = self.ty.unwrap_or_default();
        let article = if matches!(ty, ir::ConfigType::Int) { "an" } else { "a" };
        (
            format!("`config.{}` is {article} {}, not a `{}`", self.key, ty.name(), want.name()),
            format!(
                "declare its type in warden.toml's [configuration]: `{} = {{ value = \"{example}\", type = \"{}\" }}`",
                self.key,
                want.name()
            ),
        )
    }
}

/// The common type of two values (for `??` and list literals).
pub(super) fn unify(a_: &CTy, b_: &CTy) -> Option<CTy> {
    Some(match (a_, b_) {
        (CTy::Null, t) | (t, CTy::Null) => t.clone(),
        (CTy::Dyn, _) | (_, CTy::Dyn) => CTy::Dyn,
        (x, y) if x.is_str() && y.is_str() => CTy::Str,
        (CTy::Int, CTy::Int) => CTy::Int,
        (x, y) if x.is_num() && y.is_num() => CTy::Float,
        (CTy::Bool, CTy::Bool) => CTy::Bool,
        (CTy::Time, CTy::Time) => CTy::Time,
        (CTy::Time, t) | (t, CTy::Time) if t.is_str() || matches!(t, CTy::Int) => CTy::Time,
        (CTy::List(x), CTy::List(y)) => CTy::List(Box::new(unify(x, y).unwrap_or(CTy::Dyn))),
        // One object type holds both only when they are the same (a field one knows may hold
        // anything in the other).
        (CTy::Obj(x), CTy::Obj(y)) if std::sync::Arc::ptr_eq(x, y) || x.to_ir_fields() == y.to_ir_fields() => {
            CTy::Obj(x.clone())
        }
        (CTy::Obj(_), CTy::Obj(_)) => CTy::Dyn,
        _ => return None,
    })
}

/// Whether `==` between the two types can ever be true.
pub(super) fn comparable(a_: &CTy, b_: &CTy) -> bool {
    a_.is_dyn() || b_.is_dyn() || a_.fits(b_) || b_.fits(a_)
}

pub(super) fn const_of(e: &ast::Expr) -> Option<ir::Const> {
    match &e.kind {
        ast::ExprKind::Str(parts) => match parts.as_slice() {
            [StrPart::Text(t)] => Some(ir::Const::Str(t.clone())),
            _ => None,
        },
        ast::ExprKind::Int(n) => Some(ir::Const::Int(*n)),
        ast::ExprKind::Float(f) => Some(ir::Const::Float(*f)),
        ast::ExprKind::Bool(b) => Some(ir::Const::Bool(*b)),
        ast::ExprKind::Unary(UnOp::Neg, x) => match const_of(x)? {
            ir::Const::Int(n) => n.checked_neg().map(ir::Const::Int),
            ir::Const::Float(f) => Some(ir::Const::Float(-f)),
            _ => None,
        },
        _ => None,
    }
}

pub(super) fn const_ty(c: &ir::Const) -> CTy {
    match c {
        ir::Const::Null => CTy::Null,
        ir::Const::Bool(_) => CTy::Bool,
        ir::Const::Int(_) => CTy::Int,
        ir::Const::Float(_) => CTy::Float,
        ir::Const::Str(_) => CTy::Str,
    }
}

pub(super) fn literal_str(e: &ast::Expr) -> Option<String> {
    match const_of(e)? {
        ir::Const::Str(s) => Some(s),
        _ => None,
    }
}

/// A pure path `root.a.b["c"]`, if the expression is one.
pub(super) fn static_path(e: &ast::Expr) -> Option<(&ast::Ident, Vec<(String, Span)>)> {
    match &e.kind {
        ast::ExprKind::Var(root) => Some((root, Vec::new())),
        ast::ExprKind::Field(base, f) => {
            let (root, mut path) = static_path(base)?;
            path.push((f.name.clone(), f.span));
            Some((root, path))
        }
        ast::ExprKind::Index(base, idx) => {
            let key = literal_str(idx)?;
            let (root, mut path) = static_path(base)?;
            path.push((key, idx.span));
            Some((root, path))
        }
        _ => None,
    }
}

pub(super) fn path_str(root: &str, path: &[(String, Span)]) -> String {
    let mut s = root.to_string();
    for (p, _) in path {
        s.push('.');
        s.push_str(p);
    }
    s
}

/// Short source-like text of an expression, for messages.
pub(super) fn expr_str(e: &ast::Expr) -> String {
    use ast::ExprKind as E;
    match &e.kind {
        E::Var(v) => v.name.clone(),
        E::Field(b, f) => format!("{}.{}", expr_str(b), f.name),
        E::Index(b, i) => format!("{}[{}]", expr_str(b), expr_str(i)),
        E::Call(f, args) => format!("{}({})", f.name, args.iter().map(expr_str).collect::<Vec<_>>().join(", ")),
        E::Str(parts) => match parts.as_slice() {
            [StrPart::Text(t)] => format!("{t:?}"),
            _ => "\"...\"".into(),
        },
        E::Int(n) => n.to_string(),
        _ => "the value".into(),
    }
}

/// "a string", "an int", "a list<string>".
pub(super) fn a(t: &CTy) -> String {
    let n = t.name();
    match n.chars().next() {
        Some('a' | 'i' | 'o') if n != "any" => format!("an {n}"),
        _ if n == "any" => "a value of unknown type".into(),
        _ => format!("a {n}"),
    }
}

pub(super) fn plural(t: &CTy) -> String {
    format!("{}s", t.name())
}

pub(super) fn suggest_or(s: Option<String>, otherwise: &str) -> String {
    match s {
        Some(s) => format!("did you mean `{s}`?"),
        None => otherwise.to_string(),
    }
}

pub(super) fn target_str(t: &ast::Target) -> String {
    target_prefix(t, t.path.len())
}

pub(super) fn target_prefix(t: &ast::Target, n: usize) -> String {
    let mut s = t.root.name.clone();
    for seg in &t.path[..n] {
        s.push('.');
        s.push_str(&seg.name);
    }
    s
}
