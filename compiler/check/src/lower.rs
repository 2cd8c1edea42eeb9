//! Resolution, type checking and lowering of one pipeline's `.rule` files to the IR, in one
//! pass that reports every error it finds.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use warden_ir::{self as ir, ExprId, ExprKind, Loc, Root, StmtKind};
use warden_syntax::ast::{self, BinOp, StrPart, UnOp};
use warden_syntax::{Diagnostic, FileId, SourceMap, Span};

use crate::schema::{CTy, Schema, WEEKDAYS};
use crate::suggest::did_you_mean;
use warden_ir::claims::{AUTH0_NAMESPACES, RESTRICTED_CLAIMS};

const FUNCTIONS: &[&str] = &[
    "lower",
    "upper",
    "trim",
    "starts_with",
    "ends_with",
    "contains",
    "split",
    "join",
    "len",
    "email_domain",
    "matches",
    "ip_in",
    "now",
    "days_since",
    "weekday",
    "list",
];

pub(crate) struct Lowerer<'a> {
    pub prog: ir::Program,
    pub diags: Vec<Diagnostic>,
    sources: &'a SourceMap,
    schema: &'a Schema,
    config_keys: Option<Vec<String>>,
    slot_index: HashMap<(Root, Vec<String>), ir::SlotId>,
    slot_types: Vec<CTy>,
    lists: HashMap<PathBuf, Option<Vec<String>>>,
    rule_names: HashMap<String, (FileId, Span)>,
    // Per file and per rule:
    file: FileId,
    dir: PathBuf,
    scopes: Vec<Vec<(String, ir::LocalId, CTy)>>,
    rule_locals: Vec<String>,
}

impl<'a> Lowerer<'a> {
    pub fn new(
        sources: &'a SourceMap,
        schema: &'a Schema,
        options: ir::Options,
        config_keys: Option<Vec<String>>,
    ) -> Lowerer<'a> {
        Lowerer {
            prog: ir::Program {
                ir_version: ir::IR_VERSION,
                options,
                files: sources.files.iter().map(|f| f.path.clone()).collect(),
                steps: Vec::new(),
                rules: Vec::new(),
                js_rules: Vec::new(),
                slots: Vec::new(),
                sets: Vec::new(),
                regexes: Vec::new(),
                cidrs: Vec::new(),
                exprs: Vec::new(),
                config_keys: config_keys.clone().unwrap_or_default(),
            },
            diags: Vec::new(),
            sources,
            schema,
            config_keys,
            slot_index: HashMap::new(),
            slot_types: Vec::new(),
            lists: HashMap::new(),
            rule_names: HashMap::new(),
            file: 0,
            dir: PathBuf::new(),
            scopes: Vec::new(),
            rule_locals: Vec::new(),
        }
    }

    fn loc(&self, span: Span) -> Loc {
        let (line, col) = self.sources.get(self.file).line_col(span.start);
        Loc { file: self.file, line, col }
    }

    fn err(
        &mut self,
        code: &'static str,
        msg: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> &mut Diagnostic {
        let d = Diagnostic::error(code, msg).at(self.file, span, label);
        self.diags.push(d);
        self.diags.last_mut().expect("just pushed")
    }

    fn warn(
        &mut self,
        code: &'static str,
        msg: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> &mut Diagnostic {
        let d = Diagnostic::warning(code, msg).at(self.file, span, label);
        self.diags.push(d);
        self.diags.last_mut().expect("just pushed")
    }

    fn push(&mut self, kind: ExprKind, ty: &CTy, span: Span) -> ExprId {
        let loc = self.loc(span);
        self.prog.exprs.push(ir::Expr { kind, ty: ty.to_ir(), loc });
        (self.prog.exprs.len() - 1) as ExprId
    }

    /// A placeholder after an error: typed `any` so that no second error follows from it.
    fn poison(&mut self, span: Span) -> (ExprId, CTy) {
        (self.push(ExprKind::Const(ir::Const::Null), &CTy::Dyn, span), CTy::Dyn)
    }

    // -----------------------------------------------------------------------------------------
    // Rules and statements

    pub fn file(&mut self, file: FileId, path: &Path, ast: &ast::File) {
        self.file = file;
        self.dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        for rule in &ast.rules {
            self.rule(rule);
        }
    }

    fn rule(&mut self, rule: &ast::Rule) {
        if rule.name.trim().is_empty() {
            self.err("E0122", "rule names cannot be empty", rule.name_span, "empty name").help =
                Some("name the rule after what it does: rule \"require verified email\" { ... }".into());
        } else if let Some(&(f, s)) = self.rule_names.get(&rule.name) {
            let file = self.file;
            let d =
                self.err("E0107", format!("duplicate rule name `{}`", rule.name), rule.name_span, "defined again here");
            d.help = Some("rule names are unique in a pipeline; outcomes and logs refer to rules by name".into());
            d.related.push(warden_syntax::Related { file: f, span: s, message: "first defined here".into() });
            let _ = file;
        } else {
            self.rule_names.insert(rule.name.clone(), (self.file, rule.name_span));
        }
        self.scopes = vec![Vec::new()];
        self.rule_locals.clear();
        let body = self.block(&rule.body, true);
        let loc = self.loc(rule.span);
        self.prog.rules.push(ir::Rule { name: rule.name.clone(), loc, locals: self.rule_locals.len() as u32, body });
        self.prog.steps.push(ir::Step::Rule((self.prog.rules.len() - 1) as u32));
    }

    fn block(&mut self, stmts: &[ast::Stmt], top: bool) -> Vec<ir::Stmt> {
        let mut out = Vec::new();
        let mut denied_at: Option<Span> = None;
        let mut reported = false;
        for s in stmts {
            if let Some(deny_span) = denied_at
                && !reported
            {
                reported = true;
                let file = self.file;
                let d = self.err("E0109", "unreachable statement", s.span, "never runs");
                d.help = Some(
                    "a `deny` without `if`/`unless` always stops the pipeline; make it conditional or move it last"
                        .into(),
                );
                d.related.push(warden_syntax::Related { file, span: deny_span, message: "this always denies".into() });
            }
            if let Some(stmt) = self.stmt(s, top) {
                if always_denies(&stmt) {
                    denied_at.get_or_insert(s.span);
                }
                out.push(stmt);
            }
        }
        out
    }

    fn stmt(&mut self, s: &ast::Stmt, top: bool) -> Option<ir::Stmt> {
        let loc = self.loc(s.span);
        let kind = self.stmt_kind(s, top)?;
        let stmt = ir::Stmt { kind, loc };
        let Some(m) = &s.modifier else {
            return Some(stmt);
        };
        let mut cond = self.cond(&m.cond);
        if m.unless {
            cond = self.push(ExprKind::Not(cond), &CTy::Bool, m.cond.span);
        }
        Some(ir::Stmt { kind: StmtKind::If { cond, then: vec![stmt], otherwise: Vec::new() }, loc })
    }

    fn stmt_kind(&mut self, s: &ast::Stmt, top: bool) -> Option<StmtKind> {
        use ast::StmtKind as S;
        Some(match &s.kind {
            S::When(c) => {
                if !top {
                    self.err("E0119", "`when` must be at the top level of a rule", s.span, "inside a block").help =
                        Some("use `if COND { ... }` inside blocks, or move the guard to the rule's top level".into());
                }
                if s.modifier.is_some() {
                    self.err("E0119", "`when` takes no `if`/`unless`", s.span, "combine the conditions with `and`");
                }
                StmtKind::When(self.cond(c))
            }
            S::Let { name, value } => {
                let (v, ty) = self.expr(value);
                if s.modifier.is_some() {
                    self.err("E0111", "`let` takes no `if`/`unless`", s.span, "conditional binding").help =
                        Some("use `??` or an `if` block".into());
                }
                let id = self.declare(name, ty);
                StmtKind::Let(id, v)
            }
            S::If { cond, then, otherwise } => {
                let cond = self.cond(cond);
                self.scopes.push(Vec::new());
                let then = self.block(then, false);
                self.scopes.pop();
                self.scopes.push(Vec::new());
                let otherwise = otherwise.as_ref().map(|b| self.block(b, false)).unwrap_or_default();
                self.scopes.pop();
                StmtKind::If { cond, then, otherwise }
            }
            S::Deny { code, message } => {
                let code = match code {
                    Some((ast::DenyCode::AccessDenied, _)) => ir::DenyCode::AccessDenied,
                    _ => ir::DenyCode::Unauthorized,
                };
                let message = message.as_ref().map(|m| self.expect_ty(m, &CTy::Str, "a deny message"));
                StmtKind::Deny { code, message }
            }
            S::Set { target, value } => {
                let (path, want) = self.target(target)?;
                let (v, ty) = self.expr(value);
                if !ty.fits(&want) {
                    self.err(
                        "E0104",
                        format!("`{}` is {}, not {}", target_str(target), a(&want), a(&ty)),
                        value.span,
                        format!("this is {}", a(&ty)),
                    )
                    .help = Some(format!("assign a value of type {}", want.name()));
                }
                StmtKind::SetUser { path, value: v, refresh: Vec::new() }
            }
            S::Unset { target } => {
                let (path, _) = self.target(target)?;
                StmtKind::UnsetUser { path, refresh: Vec::new() }
            }
            S::Claim { token, name, value } => {
                let name = self.claim_name(name)?;
                let (v, _) = self.expr(value);
                let token = match token {
                    ast::TokenKind::IdToken => ir::Token::IdToken,
                    ast::TokenKind::AccessToken => ir::Token::AccessToken,
                };
                StmtKind::Claim { token, name, value: v }
            }
            S::Scope { op, values } => {
                let op = match op {
                    ast::ScopeOp::Add => ir::ScopeOp::Add,
                    ast::ScopeOp::Remove => ir::ScopeOp::Remove,
                    ast::ScopeOp::Set => ir::ScopeOp::Set,
                };
                if op == ir::ScopeOp::Set && values.len() != 1 {
                    self.err("E0103", "`scope set` takes one list", s.span, format!("{} values given", values.len()))
                        .help = Some("write `scope set [\"openid\", \"profile\"]`".into());
                }
                let mut ids = Vec::new();
                for v in values {
                    let (id, ty) = self.expr(v);
                    let ok = ty.is_dyn() || ty.is_str() || matches!(&ty, CTy::List(t) if t.is_str() || t.is_dyn());
                    if !ok {
                        self.err("E0104", format!("scopes are strings, found {}", a(&ty)), v.span, "not a scope")
                            .help = Some("give a string like \"read:users\" or a list of strings".into());
                    }
                    ids.push(id);
                }
                StmtKind::Scope { op, values: ids }
            }
            S::Mfa { provider, remember, options, .. } => {
                let remember = remember.as_ref().map(|r| self.expect_ty(r, &CTy::Bool, "remember_browser"));
                let mut opts = Vec::new();
                for (name, value) in options {
                    if !["host", "ikey", "skey", "username"].contains(&name.name.as_str()) {
                        let d = self.err(
                            "E0121",
                            format!("unknown MFA option `{}`", name.name),
                            name.span,
                            "not an option",
                        );
                        d.help = Some(match did_you_mean(&name.name, ["host", "ikey", "skey", "username"]) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => "MFA options are host, ikey, skey and username".into(),
                        });
                    }
                    let v = self.expect_ty(value, &CTy::Str, "an MFA option");
                    opts.push((name.name.clone(), v));
                }
                StmtKind::Mfa { provider: provider.clone(), remember, options: opts }
            }
            S::Redirect(url) => StmtKind::Redirect(self.expect_ty(url, &CTy::Str, "a redirect URL")),
            S::Persist { metadata, key, key_span, value } => {
                let metadata = match metadata {
                    ast::Metadata::App => ir::Metadata::App,
                    ast::Metadata::User => ir::Metadata::User,
                };
                if key.is_empty() || key.contains('.') || key.contains('$') {
                    self.err("E0117", format!("invalid metadata key {key:?}"), *key_span, "Auth0 rejects this key")
                        .help = Some("metadata keys cannot be empty or contain `.` or `$`".into());
                }
                let (v, ty) = self.expr(value);
                let field = self.user_field_type(metadata.field());
                if let CTy::Obj(shape) = &field {
                    match shape.field(key) {
                        None => {
                            let d = self.err(
                                "E0100",
                                format!("unknown field `{key}` in `user.{}`", metadata.field()),
                                *key_span,
                                "not declared in the manifest",
                            );
                            d.help = Some(suggest_or(
                                did_you_mean(key, shape.names()),
                                "declare it under [schema] in warden.toml",
                            ));
                        }
                        Some(f) if !ty.fits(&f.ty) => {
                            let want = f.ty.clone();
                            self.err(
                                "E0104",
                                format!("`user.{}.{key}` is {}, not {}", metadata.field(), a(&want), a(&ty)),
                                value.span,
                                format!("this is {}", a(&ty)),
                            );
                        }
                        Some(_) => {}
                    }
                }
                StmtKind::Persist { metadata, key: key.clone(), value: v, refresh: Vec::new() }
            }
            S::Log(m) => StmtKind::Log(self.expr(m).0),
        })
    }

    fn user_field_type(&self, name: &str) -> CTy {
        match &self.schema.user {
            CTy::Obj(s) => s.field(name).map_or(CTy::Dyn, |f| f.ty.clone()),
            _ => CTy::Dyn,
        }
    }

    fn declare(&mut self, name: &ast::Ident, ty: CTy) -> ir::LocalId {
        if matches!(name.name.as_str(), "user" | "context" | "config") {
            self.err("E0111", format!("`{}` is reserved", name.name), name.span, "cannot be redefined").help =
                Some("choose another name".into());
        } else if self.rule_locals.contains(&name.name) {
            self.err("E0111", format!("`{}` is already defined in this rule", name.name), name.span, "defined again")
                .help = Some("each name is defined once per rule; choose another name".into());
        }
        self.rule_locals.push(name.name.clone());
        let id = (self.rule_locals.len() - 1) as ir::LocalId;
        if let Some(scope) = self.scopes.last_mut() {
            scope.push((name.name.clone(), id, ty));
        }
        id
    }

    fn lookup_local(&self, name: &str) -> Option<(ir::LocalId, CTy)> {
        self.scopes
            .iter()
            .rev()
            .flat_map(|s| s.iter().rev())
            .find(|(n, _, _)| n == name)
            .map(|(_, id, ty)| (*id, ty.clone()))
    }

    /// Resolves a `set`/`unset` target to a path under `user` and the type it holds.
    fn target(&mut self, t: &ast::Target) -> Option<(Vec<String>, CTy)> {
        if t.root.name != "user" {
            let what = if t.root.name == "context" || t.root.name == "config" {
                format!("`{}` is read-only", t.root.name)
            } else {
                format!("`{}` cannot be written", t.root.name)
            };
            self.err("E0108", what, t.root.span, "only `user` can be changed").help = Some(
                "rules change `user` with set/unset; tokens with claim and scope; the flow with mfa and redirect"
                    .into(),
            );
            return None;
        }
        let Some(first) = t.path.first() else {
            self.err("E0123", "cannot replace the whole user", t.span, "a field is needed").help =
                Some("set one attribute: `set user.name = ...`".into());
            return None;
        };
        let mut ty = self.schema.user.clone();
        for (i, seg) in t.path.iter().enumerate() {
            ty = match ty {
                CTy::Obj(shape) => match shape.field(&seg.name) {
                    Some(f) if !f.writable => {
                        let path = format!(
                            "user.{}",
                            t.path[..=i].iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(".")
                        );
                        self.err("E0108", format!("`{path}` is read-only"), seg.span, "cannot be changed by rules")
                            .help = Some(format!(
                            "`{}` identifies the user to the host; copy it into another attribute instead",
                            first.name
                        ));
                        return None;
                    }
                    Some(f) => f.ty.clone(),
                    None => {
                        self.unknown_field(&shape, &seg.name, seg.span, &target_prefix(t, i));
                        return None;
                    }
                },
                CTy::Dyn => CTy::Dyn,
                other => {
                    self.err(
                        "E0120",
                        format!("`{}` is {}: it has no field `{}`", target_prefix(t, i), a(&other), seg.name),
                        seg.span,
                        "no such field",
                    );
                    return None;
                }
            };
        }
        Some((t.path.iter().map(|s| s.name.clone()).collect(), ty))
    }

    fn claim_name(&mut self, name: &ast::StrLit) -> Option<String> {
        let mut text = String::new();
        for p in &name.parts {
            match p {
                StrPart::Text(t) => text.push_str(t),
                StrPart::Interp(_) => {
                    self.err("E0118", "claim names must be plain strings", name.span, "interpolated").help =
                        Some("claim names are fixed when the rule is compiled".into());
                    return None;
                }
            }
        }
        if text.is_empty() {
            self.err("E0118", "claim names cannot be empty", name.span, "empty").help =
                Some("namespace custom claims: \"https://example.com/roles\"".into());
            return None;
        }
        let namespaced = text.starts_with("http://") || text.starts_with("https://");
        if RESTRICTED_CLAIMS.contains(&text.as_str()) {
            self.warn(
                "W0001",
                format!("claim `{text}` is restricted by Auth0 and will be dropped"),
                name.span,
                "restricted claim name",
            )
            .help = Some(format!("use a namespaced name such as \"https://example.com/{text}\""));
        } else if namespaced && auth0_namespace(&text) {
            self.warn(
                "W0001",
                format!("claim `{text}` uses a namespace Auth0 reserves and will be dropped"),
                name.span,
                "reserved namespace",
            )
            .help = Some("use a namespace on a domain you own".into());
        } else if !namespaced && self.prog.options.claim_mode == ir::ClaimMode::Namespaced {
            self.warn(
                "W0002",
                format!("claim `{text}` is not namespaced and will be dropped"),
                name.span,
                "claim_mode is \"namespaced\"",
            )
            .help = Some(format!("use \"https://example.com/{text}\", or set claim_mode = \"modern\" in warden.toml"));
        }
        Some(text)
    }

    // -----------------------------------------------------------------------------------------
    // Expressions

    /// A condition: a bool (or `any`, checked at run time).
    fn cond(&mut self, e: &ast::Expr) -> ExprId {
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
                    "E0105",
                    format!("a condition must be a bool, found {}", a(other)),
                    e.span,
                    format!("this is {}", a(other)),
                )
                .help = Some(help.into());
            }
        }
        if let ExprKind::Const(ir::Const::Bool(b)) = self.prog.expr(id).kind {
            self.warn("W0003", format!("condition is always {b}"), e.span, "constant condition").help =
                Some("remove the condition, or the statement it guards".into());
        }
        id
    }

    fn expect_ty(&mut self, e: &ast::Expr, want: &CTy, what: &str) -> ExprId {
        let (id, ty) = self.expr(e);
        if !ty.fits(want) {
            self.err(
                "E0104",
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
                    return (self.push(ExprKind::Local(id), &ty, span), ty);
                }
                match name.name.as_str() {
                    "user" | "context" => self.path(name, &[], span),
                    "config" => {
                        self.err("E0110", "`config` is read one key at a time", span, "whole configuration").help =
                            Some("write `config.KEY`".into());
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
                    self.err("E0104", format!("cannot negate {}", a(&ty)), x.span, "not a number");
                    return self.poison(span);
                }
                (self.push(ExprKind::Neg(v), &ty, span), ty)
            }
            E::Binary(op, l, r) => self.binary(*op, l, r, span),
            E::Quant { kind, var, list, body } => {
                let (l, lty) = self.expr(list);
                let elem = match &lty {
                    CTy::List(t) => (**t).clone(),
                    CTy::Dyn | CTy::Null => CTy::Dyn,
                    other => {
                        self.err(
                            "E0104",
                            format!("quantifiers range over lists, found {}", a(other)),
                            list.span,
                            "not a list",
                        );
                        CTy::Dyn
                    }
                };
                self.scopes.push(Vec::new());
                let id = self.declare(var, elem);
                let b = self.cond(body);
                self.scopes.pop();
                let all = *kind == ast::Quantifier::All;
                (self.push(ExprKind::Quant { all, var: id, list: l, body: b }, &CTy::Bool, span), CTy::Bool)
            }
        }
    }

    fn string(&mut self, parts: &[StrPart], span: Span) -> (ExprId, CTy) {
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
    fn path(&mut self, root: &ast::Ident, path: &[(String, Span)], span: Span) -> (ExprId, CTy) {
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
            if let Some(keys) = &self.config_keys
                && !keys.contains(key)
            {
                let help = suggest_or(
                    did_you_mean(key, keys.iter().map(String::as_str)),
                    "add the key to [configuration] in warden.toml",
                );
                self.err("E0110", format!("unknown configuration key `{key}`"), *kspan, "not in [configuration]")
                    .help = Some(help);
                return self.poison(span);
            }
            if let Some((_, s)) = path.get(1) {
                self.err("E0120", format!("`config.{key}` is a string: it has no fields"), *s, "no such field").help =
                    Some("configuration values are strings; use split() to read lists".into());
                return self.poison(span);
            }
            ty = CTy::Str;
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
                            CTy::List(_) => format!(
                                "`{shown}` is a list: index it (`{shown}[0].{seg}`) or use `any x in {shown}: x.{seg} ...`"
                            ),
                            _ => format!("`{shown}` is {}", a(&other)),
                        };
                        self.err("E0120", format!("`{shown}` has no field `{seg}`"), *sspan, "no such field").help =
                            Some(help);
                        return self.poison(span);
                    }
                };
            }
        }
        let key = (root_kind, path.iter().map(|(s, _)| s.clone()).collect::<Vec<_>>());
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
                let id = (self.prog.slots.len() - 1) as ir::SlotId;
                self.slot_index.insert(key, id);
                id
            }
        };
        (self.push(ExprKind::Slot(slot), &ty, span), ty)
    }

    fn unknown_field(&mut self, shape: &crate::schema::Shape, name: &str, span: Span, parent: &str) {
        let suggestion = did_you_mean(name, shape.names());
        let help = match &suggestion {
            Some(s) => format!("did you mean `{parent}.{s}`?"),
            None if parent == "user" => "custom attributes live in `user.app_metadata` or `user.user_metadata`".into(),
            None => format!("see docs/schema.md for the fields of `{parent}`"),
        };
        self.err("E0100", format!("unknown field `{name}` in `{parent}`"), span, "unknown field").help = Some(help);
    }

    fn unknown_name(&mut self, name: &ast::Ident) -> (ExprId, CTy) {
        let mut candidates: Vec<String> = self.scopes.iter().flatten().map(|(n, _, _)| n.clone()).collect();
        candidates.extend(["user", "context", "config"].map(String::from));
        let help = match name.name.as_str() {
            "configuration" => "the tenant configuration is `config`: `config.KEY`".into(),
            "true" | "false" | "null" => "literals are lower-case".into(),
            _ => suggest_or(
                did_you_mean(&name.name, candidates.iter().map(String::as_str)),
                "define it with `let` first",
            ),
        };
        self.err("E0101", format!("unknown name `{}`", name.name), name.span, "not defined").help = Some(help);
        self.poison(name.span)
    }

    fn field_of(&mut self, base: &CTy, field: &ast::Ident, base_str: &str) -> CTy {
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
                    CTy::List(_) => format!("`{base_str}` is a list: index it or use a quantifier"),
                    _ => format!("`{base_str}` is {}", a(other)),
                };
                self.err("E0120", format!("`{base_str}` has no field `{}`", field.name), field.span, "no such field")
                    .help = Some(help);
                CTy::Dyn
            }
        }
    }

    fn index(&mut self, base: &ast::Expr, index: &ast::Expr, span: Span) -> (ExprId, CTy) {
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
                self.err("E0104", format!("list indexes are ints, found {}", a(other)), index.span, "not an int");
                CTy::Dyn
            }
            (other, _) => {
                self.err("E0104", format!("cannot index {}", a(other)), base.span, "not a list or object");
                CTy::Dyn
            }
        };
        (self.push(ExprKind::Index(b, i), &ty, span), ty)
    }

    fn binary(&mut self, op: BinOp, l: &ast::Expr, r: &ast::Expr, span: Span) -> (ExprId, CTy) {
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
                        (CTy::Time, _) | (_, CTy::Time) => "use days_since() to compare date-times".to_string(),
                        _ if ordering => "ordering compares two numbers or two strings".to_string(),
                        _ => "compare values of the same type".to_string(),
                    };
                    self.err(
                        "E0106",
                        format!("cannot compare {} with {} using `{}`", a(&xt), a(&yt), op.symbol()),
                        span,
                        "mismatched types",
                    )
                    .help = Some(help);
                }
                self.enum_check(op, (x, &xt, l), (y, &yt, r));
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
                            "E0104",
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
                            "E0104",
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

    /// Warns when a string with known values is compared with a value it never has.
    fn enum_check(&mut self, op: BinOp, x: (ExprId, &CTy, &ast::Expr), y: (ExprId, &CTy, &ast::Expr)) {
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
            let help =
                suggest_or(did_you_mean(&lit, values.iter().copied()), &format!("known values: {}", values.join(", ")));
            self.warn(
                "W0003",
                format!("`{}` is never `{lit}`: this comparison is always {always}", expr_str(side)),
                other_ast.span,
                "unknown value",
            )
            .help = Some(help);
        }
    }

    fn membership(&mut self, l: &ast::Expr, r: &ast::Expr, span: Span) -> ExprId {
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
                        self.err("E0104", format!("list files hold strings, found {}", a(&xt)), l.span, "not a string");
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
                    "E0106",
                    format!("cannot look for {} in a list of {}", a(&xt), plural(&t)),
                    span,
                    "mismatched types",
                );
            }
            let id = self.add_set("[...]".into(), consts);
            return self.push(ExprKind::InSet(x, id), &CTy::Bool, span);
        }
        let (y, yt) = self.expr(r);
        match &yt {
            CTy::List(t) if !comparable(&xt, t) => {
                self.err(
                    "E0106",
                    format!("cannot look for {} in a list of {}", a(&xt), plural(t)),
                    span,
                    "mismatched types",
                );
            }
            CTy::List(_) | CTy::Dyn | CTy::Null => {}
            other => {
                let help =
                    if other.is_str() { "use contains(text, part) for substrings" } else { "`in` looks into a list" };
                self.err("E0104", format!("`in` needs a list, found {}", a(other)), r.span, "not a list").help =
                    Some(help.into());
            }
        }
        self.push(ExprKind::InList(x, y), &CTy::Bool, span)
    }

    fn add_set(&mut self, origin: String, items: Vec<ir::Const>) -> ir::SetId {
        self.prog.sets.push(ir::ConstSet { origin, items });
        (self.prog.sets.len() - 1) as ir::SetId
    }

    /// Loads `list("file")` relative to the current rule file.
    fn list_file(&mut self, args: &[ast::Expr], span: Span) -> Option<Vec<String>> {
        let Some(name) = list_arg(args) else {
            self.err("E0116", "list() takes one string literal: the file name", span, "expected list(\"file.txt\")");
            return None;
        };
        let path = self.dir.join(&name);
        if let Some(cached) = self.lists.get(&path).cloned() {
            if cached.is_none() {
                self.err("E0113", format!("cannot read list file `{name}`"), span, "unreadable file");
            }
            return cached;
        }
        let loaded = match std::fs::read_to_string(&path) {
            Ok(text) => Some(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(String::from)
                    .collect::<Vec<_>>(),
            ),
            Err(e) => {
                self.err(
                    "E0113",
                    format!("cannot read list file `{name}`: {}", io_reason(&e)),
                    span,
                    "unreadable file",
                )
                .help = Some(format!("list files are read relative to the rule file, here `{}`", path.display()));
                None
            }
        };
        self.lists.insert(path, loaded.clone());
        loaded
    }

    fn call(&mut self, name: &ast::Ident, args: &[ast::Expr], span: Span) -> (ExprId, CTy) {
        use ir::Builtin as B;
        let f = name.name.as_str();
        let arity = |n: usize| -> (usize, usize) { (n, n) };
        let (min, max) = match f {
            "now" => arity(0),
            "lower" | "upper" | "trim" | "len" | "email_domain" | "days_since" | "weekday" | "list" => arity(1),
            "starts_with" | "ends_with" | "contains" | "split" | "join" | "matches" => arity(2),
            "ip_in" => (2, usize::MAX),
            _ => {
                let help = suggest_or(
                    did_you_mean(f, FUNCTIONS.iter().copied()),
                    "see the built-in functions in docs/language.md",
                );
                self.err("E0102", format!("unknown function `{f}`"), name.span, "not a built-in").help = Some(help);
                for a_ in args {
                    self.expr(a_);
                }
                return self.poison(span);
            }
        };
        if args.len() < min || args.len() > max {
            let want = if max == usize::MAX { format!("at least {min}") } else { min.to_string() };
            self.err(
                "E0103",
                format!(
                    "`{f}` takes {want} argument{}, found {}",
                    if min == 1 && max == 1 { "" } else { "s" },
                    args.len()
                ),
                span,
                "wrong number of arguments",
            )
            .help = Some(signature(f).into());
            return self.poison(span);
        }
        match f {
            "list" => {
                self.err(
                    "E0112",
                    "list() can only be used after `in`/`not in` or in ip_in()",
                    span,
                    "not allowed here",
                )
                .help = Some("write `x in list(\"file.txt\")`".into());
                self.poison(span)
            }
            "matches" => {
                let s = self.arg(&args[0], &CTy::Str, f);
                let Some(pattern) = literal_str(&args[1]) else {
                    self.err(
                        "E0116",
                        "the pattern of matches() must be a string literal",
                        args[1].span,
                        "not a literal",
                    )
                    .help = Some("patterns are compiled once, when the rule is compiled".into());
                    return self.poison(span);
                };
                if let Err(e) = regex::Regex::new(&pattern) {
                    let text = e.to_string();
                    let last = text.lines().last().unwrap_or("invalid pattern").trim();
                    let reason = last.strip_prefix("error: ").unwrap_or(last).to_string();
                    self.err(
                        "E0114",
                        format!("invalid regular expression: {reason}"),
                        args[1].span,
                        "does not compile",
                    )
                    .help = Some("warden uses the Rust regex syntax (no look-around or backreferences)".into());
                    return self.poison(span);
                }
                self.prog.regexes.push(pattern);
                let id = (self.prog.regexes.len() - 1) as ir::RegexId;
                (self.push(ExprKind::Matches(s, id), &CTy::Bool, span), CTy::Bool)
            }
            "ip_in" => {
                let ip = self.arg(&args[0], &CTy::Str, f);
                let mut nets = Vec::new();
                let mut ok = true;
                for a_ in &args[1..] {
                    if let ast::ExprKind::Call(n, la) = &a_.kind
                        && n.name == "list"
                    {
                        match self.list_file(la, a_.span) {
                            Some(items) => {
                                for item in items {
                                    match parse_net(&item) {
                                        Some(n) => nets.push(n),
                                        None => {
                                            ok = false;
                                            self.err(
                                                "E0115",
                                                format!(
                                                    "invalid network `{item}` in {}",
                                                    list_arg(la).unwrap_or_default()
                                                ),
                                                a_.span,
                                                "bad entry in list file",
                                            )
                                            .help = Some(
                                                "entries are CIDRs (10.0.0.0/8, 2001:db8::/32) or addresses".into(),
                                            );
                                        }
                                    }
                                }
                            }
                            None => ok = false,
                        }
                        continue;
                    }
                    match literal_str(a_) {
                        Some(s) => match parse_net(&s) {
                            Some(n) => nets.push(n),
                            None => {
                                ok = false;
                                self.err("E0115", format!("invalid network `{s}`"), a_.span, "not a CIDR or address")
                                    .help =
                                    Some("write networks as 10.0.0.0/8 or 2001:db8::/32, or single addresses".into());
                            }
                        },
                        None => {
                            ok = false;
                            self.err(
                                "E0116",
                                "networks in ip_in() must be string literals or list(\"file\")",
                                a_.span,
                                "not a literal",
                            )
                            .help = Some("networks are parsed once, when the rule is compiled".into());
                        }
                    }
                }
                if !ok {
                    return self.poison(span);
                }
                self.prog.cidrs.push(ir::CidrSet { nets });
                let id = (self.prog.cidrs.len() - 1) as ir::CidrId;
                (self.push(ExprKind::IpIn(ip, id), &CTy::Bool, span), CTy::Bool)
            }
            _ => {
                let (builtin, ret, params): (B, CTy, Vec<CTy>) = match f {
                    "lower" => (B::Lower, CTy::Str, vec![CTy::Str]),
                    "upper" => (B::Upper, CTy::Str, vec![CTy::Str]),
                    "trim" => (B::Trim, CTy::Str, vec![CTy::Str]),
                    "starts_with" => (B::StartsWith, CTy::Bool, vec![CTy::Str, CTy::Str]),
                    "ends_with" => (B::EndsWith, CTy::Bool, vec![CTy::Str, CTy::Str]),
                    "split" => (B::Split, CTy::List(Box::new(CTy::Str)), vec![CTy::Str, CTy::Str]),
                    "join" => (B::Join, CTy::Str, vec![CTy::List(Box::new(CTy::Str)), CTy::Str]),
                    "email_domain" => (B::EmailDomain, CTy::Str, vec![CTy::Str]),
                    "now" => (B::Now, CTy::Int, vec![]),
                    "days_since" => (B::DaysSince, CTy::Float, vec![CTy::Time]),
                    "weekday" => (B::Weekday, CTy::Enum(WEEKDAYS), vec![CTy::Time]),
                    "len" => {
                        let (x, xt) = self.expr(&args[0]);
                        if !(xt.is_dyn() || xt.is_str() || matches!(xt, CTy::List(_) | CTy::Obj(_))) {
                            self.err(
                                "E0104",
                                format!("len() takes a string, list or object, found {}", a(&xt)),
                                args[0].span,
                                "no length",
                            );
                        }
                        return (self.push(ExprKind::Call(B::Len, vec![x]), &CTy::Int, span), CTy::Int);
                    }
                    _ => {
                        // contains(text, part) or contains(list, element)
                        let (x, xt) = self.expr(&args[0]);
                        let (y, yt) = self.expr(&args[1]);
                        match &xt {
                            t if t.is_str() => {
                                if !yt.fits(&CTy::Str) {
                                    self.err(
                                        "E0104",
                                        format!("contains(text, part) looks for a string, found {}", a(&yt)),
                                        args[1].span,
                                        "not a string",
                                    );
                                }
                            }
                            CTy::List(t) if !comparable(t, &yt) => {
                                self.err(
                                    "E0106",
                                    format!("cannot look for {} in a list of {}", a(&yt), plural(t)),
                                    args[1].span,
                                    "mismatched types",
                                );
                            }
                            CTy::List(_) | CTy::Dyn | CTy::Null => {}
                            other => {
                                self.err(
                                    "E0104",
                                    format!("contains() takes a string or a list, found {}", a(other)),
                                    args[0].span,
                                    "not a string or list",
                                );
                            }
                        }
                        return (self.push(ExprKind::Call(B::Contains, vec![x, y]), &CTy::Bool, span), CTy::Bool);
                    }
                };
                let ids = args.iter().zip(&params).map(|(a_, p)| self.arg(a_, p, f)).collect();
                (self.push(ExprKind::Call(builtin, ids), &ret, span), ret)
            }
        }
    }

    fn arg(&mut self, e: &ast::Expr, want: &CTy, f: &str) -> ExprId {
        let (id, ty) = self.expr(e);
        if !ty.fits(want) {
            self.err(
                "E0104",
                format!("`{f}` expects {}, found {}", a(want), a(&ty)),
                e.span,
                format!("this is {}", a(&ty)),
            )
            .help = Some(signature(f).into());
        }
        id
    }
}

fn always_denies(s: &ir::Stmt) -> bool {
    match &s.kind {
        StmtKind::Deny { .. } => true,
        StmtKind::If { then, otherwise, .. } => then.iter().any(always_denies) && otherwise.iter().any(always_denies),
        _ => false,
    }
}

fn signature(f: &str) -> &'static str {
    match f {
        "lower" => "lower(text) -> string",
        "upper" => "upper(text) -> string",
        "trim" => "trim(text) -> string",
        "starts_with" => "starts_with(text, prefix) -> bool",
        "ends_with" => "ends_with(text, suffix) -> bool",
        "contains" => "contains(text, part) or contains(list, element) -> bool",
        "split" => "split(text, separator) -> list<string>",
        "join" => "join(list<string>, separator) -> string",
        "len" => "len(text | list | object) -> int",
        "email_domain" => "email_domain(email) -> string",
        "matches" => "matches(text, \"regex\") -> bool",
        "ip_in" => "ip_in(address, \"cidr\", ...) or ip_in(address, list(\"file\")) -> bool",
        "now" => "now() -> int (epoch milliseconds)",
        "days_since" => "days_since(time) -> float",
        "weekday" => "weekday(time) -> string",
        _ => "list(\"file.txt\") after `in`",
    }
}

/// The common type of two values (for `??` and list literals).
fn unify(a_: &CTy, b_: &CTy) -> Option<CTy> {
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
        (CTy::Obj(x), CTy::Obj(_)) => CTy::Obj(x.clone()),
        _ => return None,
    })
}

/// Whether `==` between the two types can ever be true.
fn comparable(a_: &CTy, b_: &CTy) -> bool {
    a_.is_dyn() || b_.is_dyn() || a_.fits(b_) || b_.fits(a_)
}

fn const_of(e: &ast::Expr) -> Option<ir::Const> {
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

fn const_ty(c: &ir::Const) -> CTy {
    match c {
        ir::Const::Null => CTy::Null,
        ir::Const::Bool(_) => CTy::Bool,
        ir::Const::Int(_) => CTy::Int,
        ir::Const::Float(_) => CTy::Float,
        ir::Const::Str(_) => CTy::Str,
    }
}

fn literal_str(e: &ast::Expr) -> Option<String> {
    match const_of(e)? {
        ir::Const::Str(s) => Some(s),
        _ => None,
    }
}

fn list_arg(args: &[ast::Expr]) -> Option<String> {
    match args {
        [one] => literal_str(one),
        _ => None,
    }
}

pub(crate) fn parse_net(s: &str) -> Option<ipnet::IpNet> {
    let s = s.trim();
    s.parse::<ipnet::IpNet>().ok().or_else(|| s.parse::<std::net::IpAddr>().ok().map(ipnet::IpNet::from))
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::InvalidData => "not UTF-8 text".into(),
        _ => e.to_string(),
    }
}

fn auth0_namespace(claim: &str) -> bool {
    let rest = claim.split_once("://").map_or("", |(_, r)| r);
    let host = rest.split(['/', ':']).next().unwrap_or("").to_ascii_lowercase();
    AUTH0_NAMESPACES.iter().any(|ns| host == *ns || host.ends_with(&format!(".{ns}")))
}

/// A pure path `root.a.b["c"]`, if the expression is one.
fn static_path(e: &ast::Expr) -> Option<(&ast::Ident, Vec<(String, Span)>)> {
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

fn path_str(root: &str, path: &[(String, Span)]) -> String {
    let mut s = root.to_string();
    for (p, _) in path {
        s.push('.');
        s.push_str(p);
    }
    s
}

fn target_str(t: &ast::Target) -> String {
    target_prefix(t, t.path.len())
}

fn target_prefix(t: &ast::Target, n: usize) -> String {
    let mut s = t.root.name.clone();
    for seg in &t.path[..n] {
        s.push('.');
        s.push_str(&seg.name);
    }
    s
}

/// Short source-like text of an expression, for messages.
fn expr_str(e: &ast::Expr) -> String {
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
fn a(t: &CTy) -> String {
    let n = t.name();
    match n.chars().next() {
        Some('a' | 'i' | 'o') if n != "any" => format!("an {n}"),
        _ if n == "any" => "a value of unknown type".into(),
        _ => format!("a {n}"),
    }
}

fn plural(t: &CTy) -> String {
    format!("{}s", t.name())
}

fn suggest_or(s: Option<String>, otherwise: &str) -> String {
    match s {
        Some(s) => format!("did you mean `{s}`?"),
        None => otherwise.to_string(),
    }
}

/// Fills each write's list of slots to decode again, now that every slot is known.
pub(crate) fn fill_refresh(prog: &mut ir::Program) {
    let slots = prog.slots.clone();
    let overlapping = |path: &[String]| -> Vec<ir::SlotId> {
        slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.root == Root::User && (s.path.starts_with(path) || path.starts_with(&s.path)))
            .map(|(i, _)| i as ir::SlotId)
            .collect()
    };
    fn walk(stmts: &mut [ir::Stmt], f: &dyn Fn(&[String]) -> Vec<ir::SlotId>) {
        for s in stmts {
            match &mut s.kind {
                StmtKind::SetUser { path, refresh, .. } | StmtKind::UnsetUser { path, refresh } => *refresh = f(path),
                StmtKind::Persist { metadata, key, refresh, .. } => {
                    *refresh = f(&[metadata.field().to_string(), key.clone()]);
                }
                StmtKind::If { then, otherwise, .. } => {
                    walk(then, f);
                    walk(otherwise, f);
                }
                _ => {}
            }
        }
    }
    for r in &mut prog.rules {
        walk(&mut r.body, &overlapping);
    }
}
