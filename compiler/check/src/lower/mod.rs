//! Resolution, type checking and lowering of one pipeline's `.rule` files to the IR, in one
//! pass that reports every error it finds.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use warden_ir::{self as ir, ExprId, ExprKind, Loc, Root, StmtKind};
use warden_syntax::ast::{self, StrPart};
use warden_syntax::{Diagnostic, FileId, SourceMap, Span, codes};

use crate::facts::{Fact, FactKind, RuleFact};
use crate::schema::{CTy, Schema};
use crate::suggest::did_you_mean;

mod call;
mod expr;
mod hints;

use expr::{a, suggest_or, target_prefix, target_str};

pub(crate) struct Lowerer<'a> {
    pub prog: ir::Program,
    pub diags: Vec<Diagnostic>,
    sources: &'a SourceMap,
    schema: &'a Schema,
    /// The declared configuration keys and their types (`None`: an entry that is not valid,
    /// read as `any`); `None` without a `[configuration]` table (any key, a string).
    config: Option<BTreeMap<String, Option<ir::ConfigType>>>,
    slot_index: HashMap<(Root, Vec<String>), ir::SlotId>,
    slot_types: Vec<CTy>,
    lists: HashMap<PathBuf, Option<Vec<String>>>,
    rule_names: HashMap<String, (FileId, Span)>,
    // Per file and per rule:
    file: FileId,
    dir: PathBuf,
    /// The names each open scope declared (to hide them again when it closes).
    scopes: Vec<Vec<String>>,
    /// The locals visible by name: innermost last.
    visible: HashMap<String, Vec<(ir::LocalId, CTy)>>,
    rule_locals: Vec<String>,
    rule_local_names: HashSet<String>,
    /// How deep the lists each expression builds nest (see `warden_ir::MAX_BUILT_DEPTH`), by
    /// `ExprId`, and each local's, by `LocalId` in the current rule.
    built: Vec<u32>,
    local_built: Vec<u32>,
    /// Where each local of the current rule is bound, by `LocalId`.
    local_defs: Vec<Span>,
    /// Unsaved buffers read instead of files (list files here).
    overlays: &'a crate::Overlays,
    /// Facts for editors, when asked for (`None`: not recorded).
    pub facts: Option<(Vec<Fact>, Vec<RuleFact>)>,
}

impl<'a> Lowerer<'a> {
    pub fn new(
        sources: &'a SourceMap,
        schema: &'a Schema,
        options: ir::Options,
        config: Option<BTreeMap<String, Option<ir::ConfigType>>>,
        overlays: &'a crate::Overlays,
        record: bool,
    ) -> Lowerer<'a> {
        let declared = config.iter().flatten();
        let config_keys = declared.clone().map(|(k, _)| k.clone()).collect();
        let config_types = declared
            .filter_map(|(key, ty)| match ty {
                Some(ty) if *ty != ir::ConfigType::Str => Some(ir::TypedKey { key: key.clone(), ty: *ty }),
                _ => None,
            })
            .collect();
        Lowerer {
            prog: ir::Program {
                ir_version: ir::IR_VERSION,
                options,
                files: sources.files.iter().map(|f| f.path.clone()).collect(),
                steps: Vec::new(),
                rules: Vec::new(),
                js_rules: Vec::new(),
                js_modules: Vec::new(),
                slots: Vec::new(),
                sets: Vec::new(),
                regexes: Vec::new(),
                cidrs: Vec::new(),
                exprs: Vec::new(),
                refreshes: Vec::new(),
                config_keys,
                input: schema.input_shapes(),
                config_types,
            },
            diags: Vec::new(),
            sources,
            schema,
            config,
            slot_index: HashMap::new(),
            slot_types: Vec::new(),
            lists: HashMap::new(),
            rule_names: HashMap::new(),
            file: 0,
            dir: PathBuf::new(),
            scopes: Vec::new(),
            visible: HashMap::new(),
            rule_locals: Vec::new(),
            rule_local_names: HashSet::new(),
            built: Vec::new(),
            local_built: Vec::new(),
            local_defs: Vec::new(),
            overlays,
            facts: record.then(|| (Vec::new(), Vec::new())),
        }
    }

    /// Records what is at `span` of the current file, when facts are recorded.
    fn fact(&mut self, span: Span, kind: impl FnOnce() -> FactKind) {
        if let Some((refs, _)) = &mut self.facts {
            refs.push(Fact { file: self.file, span, kind: kind() });
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
        self.report(Diagnostic::error(code, msg).at(self.file, span, label))
    }

    fn warn(
        &mut self,
        code: &'static str,
        msg: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> &mut Diagnostic {
        self.report(Diagnostic::warning(code, msg).at(self.file, span, label))
    }

    fn report(&mut self, d: Diagnostic) -> &mut Diagnostic {
        self.diags.push(d);
        self.diags.last_mut().expect("just pushed")
    }

    fn push(&mut self, kind: ExprKind, ty: &CTy, span: Span) -> ExprId {
        let loc = self.loc(span);
        let b = |x: &ExprId| self.built[x.index()];
        let mut built = match &kind {
            ExprKind::List(items) => 1 + items.iter().map(b).max().unwrap_or(0),
            ExprKind::Object(members) => 1 + members.iter().map(|(_, e)| b(e)).max().unwrap_or(0),
            ExprKind::Comp { body, .. } => 1 + b(body),
            ExprKind::Local(l) => self.local_built.get(l.index()).copied().unwrap_or(0),
            ExprKind::Field(x, _) | ExprKind::Index(x, _) => b(x),
            ExprKind::Coalesce(x, y) => b(x).max(b(y)),
            _ => 0,
        };
        if built as usize > ir::MAX_BUILT_DEPTH {
            built = 0;
            self.err(codes::E0002, "lists nest too deep", span, "a list nested more than 64 levels deep").help =
                Some("lists and objects built by rules (directly or through `let`) nest at most 64 levels".into());
        }
        self.built.push(built);
        self.prog.exprs.push(ir::Expr { kind, ty: ty.to_ir(), loc });
        ExprId::from_index(self.prog.exprs.len() - 1)
    }

    fn open_scope(&mut self) {
        self.scopes.push(Vec::new());
    }

    fn close_scope(&mut self) {
        for name in self.scopes.pop().unwrap_or_default() {
            if let Some(stack) = self.visible.get_mut(&name) {
                stack.pop();
            }
        }
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
            self.err(codes::E0122, "rule names cannot be empty", rule.name_span, "empty name").help =
                Some("name the rule after what it does: rule \"require verified email\" { ... }".into());
        } else if let Some(&(f, s)) = self.rule_names.get(&rule.name) {
            let file = self.file;
            let d = self.err(
                codes::E0107,
                format!("duplicate rule name `{}`", rule.name),
                rule.name_span,
                "defined again here",
            );
            d.help = Some("rule names are unique in a pipeline; outcomes and logs refer to rules by name".into());
            d.related.push(warden_syntax::Related { file: f, span: s, message: "first defined here".into() });
            let _ = file;
        } else {
            self.rule_names.insert(rule.name.clone(), (self.file, rule.name_span));
        }
        self.scopes = vec![Vec::new()];
        self.visible.clear();
        self.rule_locals.clear();
        self.rule_local_names.clear();
        self.local_built.clear();
        self.local_defs.clear();
        if let Some((_, rules)) = &mut self.facts {
            rules.push(RuleFact {
                file: self.file,
                name: rule.name.clone(),
                span: rule.span,
                name_span: rule.name_span,
            });
        }
        let body = self.block(&rule.body, true);
        let loc = self.loc(rule.span);
        self.prog.rules.push(ir::Rule {
            name: rule.name.clone(),
            loc,
            locals: self.rule_locals.len() as u32,
            local_names: self.rule_locals.clone(),
            body,
        });
        self.prog.steps.push(ir::Step::Rule(ir::RuleId::from_index(self.prog.rules.len() - 1)));
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
                let d = self.err(codes::E0109, "unreachable statement", s.span, "never runs");
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
                    self.err(codes::E0119, "`when` must be at the top level of a rule", s.span, "inside a block")
                        .help =
                        Some("use `if COND { ... }` inside blocks, or move the guard to the rule's top level".into());
                }
                if s.modifier.is_some() {
                    self.err(
                        codes::E0119,
                        "`when` takes no `if`/`unless`",
                        s.span,
                        "combine the conditions with `and`",
                    );
                }
                StmtKind::When(self.cond(c))
            }
            S::Let { name, value } => {
                let (v, ty) = self.expr(value);
                if s.modifier.is_some() {
                    self.err(codes::E0111, "`let` takes no `if`/`unless`", s.span, "conditional binding").help =
                        Some("use `??` or an `if` block".into());
                }
                self.fact(name.span, || FactKind::Binding { name: name.name.clone(), ty: ty.clone(), is_let: true });
                let id = self.declare(name, ty, self.built[v.index()]);
                StmtKind::Let(id, v)
            }
            S::If { cond, then, otherwise } => {
                let cond = self.cond(cond);
                self.open_scope();
                let then = self.block(then, false);
                self.close_scope();
                self.open_scope();
                let otherwise = otherwise.as_ref().map(|b| self.block(b, false)).unwrap_or_default();
                self.close_scope();
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
                let (p, w) = (path.clone(), want.clone());
                self.fact(target.span, || FactKind::Path { root: "user", path: p, ty: w });
                let (v, ty) = self.expr(value);
                if !ty.fits(&want) {
                    self.err(
                        codes::E0104,
                        format!("`{}` is {}, not {}", target_str(target), a(&want), a(&ty)),
                        value.span,
                        format!("this is {}", a(&ty)),
                    )
                    .help = Some(format!("assign a value of type {}", want.name()));
                }
                StmtKind::SetUser { path, value: v, refresh: 0 }
            }
            S::Unset { target } => {
                let (path, ty) = self.target(target)?;
                let p = path.clone();
                self.fact(target.span, || FactKind::Path { root: "user", path: p, ty });
                StmtKind::UnsetUser { path, refresh: 0 }
            }
            S::Claim { token, name, value } => {
                let token = match token {
                    ast::TokenKind::IdToken => ir::Token::IdToken,
                    ast::TokenKind::AccessToken => ir::Token::AccessToken,
                };
                let name = self.claim_name(name, token)?;
                let (v, _) = self.expr(value);
                StmtKind::Claim { token, name, value: v }
            }
            S::Scope { op, values } => {
                let op = match op {
                    ast::ScopeOp::Add => ir::ScopeOp::Add,
                    ast::ScopeOp::Remove => ir::ScopeOp::Remove,
                    ast::ScopeOp::Set => ir::ScopeOp::Set,
                };
                if op == ir::ScopeOp::Set && values.len() != 1 {
                    self.err(
                        codes::E0103,
                        "`scope set` takes one list",
                        s.span,
                        format!("{} values given", values.len()),
                    )
                    .help = Some("write `scope set [\"openid\", \"profile\"]`".into());
                }
                let mut ids = Vec::new();
                for v in values {
                    let (id, ty) = self.expr(v);
                    let ok = ty.is_dyn() || ty.is_str() || matches!(&ty, CTy::List(t) if t.is_str() || t.is_dyn());
                    if !ok {
                        self.err(
                            codes::E0104,
                            format!("scopes are strings, found {}", a(&ty)),
                            v.span,
                            "not a scope",
                        )
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
                            codes::E0121,
                            format!("unknown MFA option `{}`", name.name),
                            name.span,
                            "not an option",
                        );
                        let suggestion = did_you_mean(&name.name, ["host", "ikey", "skey", "username"]);
                        d.help = Some(match &suggestion {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => "MFA options are host, ikey, skey and username".into(),
                        });
                        d.suggestion = suggestion;
                    }
                    let v = self.expect_ty(value, &CTy::Str, "an MFA option");
                    opts.push((name.name.clone(), v));
                }
                StmtKind::Mfa { provider: provider.clone(), remember, options: opts }
            }
            S::Redirect(url) => StmtKind::Redirect(self.expect_ty(url, &CTy::Str, "a redirect URL")),
            S::Persist { metadata, key, key_span, path, value } => {
                let metadata = match metadata {
                    ast::Metadata::App => ir::Metadata::App,
                    ast::Metadata::User => ir::Metadata::User,
                };
                for (k, kspan) in std::iter::once((key, *key_span)).chain(path.iter().map(|p| (&p.name, p.span))) {
                    if k.is_empty() || k.contains('.') || k.contains('$') {
                        self.err(
                            codes::E0117,
                            format!("invalid metadata key {k:?}"),
                            kspan,
                            "Auth0 rejects this key",
                        )
                        .help = Some("metadata keys cannot be empty or contain `.` or `$`".into());
                    }
                }
                if path.len() + 2 > ir::MAX_PATH {
                    self.err(codes::E0002, "the path is too long", s.span, format!("{} keys", path.len() + 1)).help =
                        Some(format!("`persist` paths have at most {} keys", ir::MAX_PATH - 1));
                }
                let (v, ty) = self.expr(value);
                // The declared type along the path, when the manifest declares the metadata.
                let mut field = self.user_field_type(metadata.field());
                let mut shown = format!("user.{}", metadata.field());
                for (k, kspan) in std::iter::once((key, *key_span)).chain(path.iter().map(|p| (&p.name, p.span))) {
                    field = match &field {
                        CTy::Obj(shape) => match shape.field(k) {
                            Some(f) => f.ty.clone(),
                            None => {
                                let d = self.err(
                                    codes::E0100,
                                    format!("unknown field `{k}` in `{shown}`"),
                                    kspan,
                                    "not declared in the manifest",
                                );
                                let suggestion = did_you_mean(k, shape.names());
                                d.help =
                                    Some(suggest_or(suggestion.clone(), "declare it under [schema] in warden.toml"));
                                d.suggestion = suggestion;
                                CTy::Dyn
                            }
                        },
                        CTy::Dyn | CTy::Null => CTy::Dyn,
                        other => {
                            self.err(
                                codes::E0120,
                                format!("`{shown}` is {}: it has no field `{k}`", a(other)),
                                kspan,
                                "no such field",
                            );
                            CTy::Dyn
                        }
                    };
                    shown = format!("{shown}.{k}");
                }
                if !ty.fits(&field) {
                    self.err(
                        codes::E0104,
                        format!("`{shown}` is {}, not {}", a(&field), a(&ty)),
                        value.span,
                        format!("this is {}", a(&ty)),
                    );
                }
                let path = path.iter().map(|p| p.name.clone()).collect();
                StmtKind::Persist { metadata, key: key.clone(), path, value: v, refresh: 0 }
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

    fn declare(&mut self, name: &ast::Ident, ty: CTy, built: u32) -> ir::LocalId {
        if !self.reserved(name) && !self.rule_local_names.insert(name.name.clone()) {
            self.err(
                codes::E0111,
                format!("`{}` is already defined in this rule", name.name),
                name.span,
                "defined again",
            )
            .help = Some("each name is defined once per rule; choose another name".into());
        }
        self.bind(name, ty, built)
    }

    /// A quantifier's or comprehension's variable: visible in its body only, so the same name
    /// may be bound again by another one; it may not hide a name already visible.
    fn declare_bound(&mut self, name: &ast::Ident, ty: CTy, built: u32) -> ir::LocalId {
        if !self.reserved(name) && self.lookup_local(&name.name).is_some() {
            self.err(
                codes::E0111,
                format!("`{}` is already defined here", name.name),
                name.span,
                "would hide another name",
            )
            .help = Some("choose another name for the variable".into());
        }
        self.bind(name, ty, built)
    }

    /// `user`, `context` and `config` cannot be names of locals (E0111); true when `name` is one.
    fn reserved(&mut self, name: &ast::Ident) -> bool {
        let reserved = matches!(name.name.as_str(), "user" | "context" | "config");
        if reserved {
            self.err(codes::E0111, format!("`{}` is reserved", name.name), name.span, "cannot be redefined").help =
                Some("choose another name".into());
        }
        reserved
    }

    /// A new local named `name`, visible in the current scope.
    fn bind(&mut self, name: &ast::Ident, ty: CTy, built: u32) -> ir::LocalId {
        self.rule_locals.push(name.name.clone());
        self.local_built.push(built);
        self.local_defs.push(name.span);
        let id = ir::LocalId::from_index(self.rule_locals.len() - 1);
        if let Some(scope) = self.scopes.last_mut() {
            scope.push(name.name.clone());
            self.visible.entry(name.name.clone()).or_default().push((id, ty));
        }
        id
    }

    fn lookup_local(&self, name: &str) -> Option<(ir::LocalId, CTy)> {
        self.visible.get(name).and_then(|stack| stack.last()).cloned()
    }

    /// Where a local of the current rule is bound.
    fn local_def(&self, id: ir::LocalId) -> Span {
        self.local_defs.get(id.index()).copied().unwrap_or_default()
    }

    /// The names of the locals in scope (for suggestions).
    fn visible_names(&self) -> impl Iterator<Item = &str> {
        self.visible.iter().filter(|(_, stack)| !stack.is_empty()).map(|(n, _)| n.as_str())
    }

    /// Resolves a `set`/`unset` target to a path under `user` and the type it holds.
    fn target(&mut self, t: &ast::Target) -> Option<(Vec<String>, CTy)> {
        if t.root.name != "user" {
            let what = if t.root.name == "context" || t.root.name == "config" {
                format!("`{}` is read-only", t.root.name)
            } else {
                format!("`{}` cannot be written", t.root.name)
            };
            self.err(codes::E0108, what, t.root.span, "only `user` can be changed").help = Some(
                "rules change `user` with set/unset; tokens with claim and scope; the flow with mfa and redirect"
                    .into(),
            );
            return None;
        }
        let Some(first) = t.path.first() else {
            self.err(codes::E0123, "cannot replace the whole user", t.span, "a field is needed").help =
                Some("set one attribute: `set user.name = ...`".into());
            return None;
        };
        if t.path.len() > ir::MAX_PATH {
            self.err(codes::E0002, "the path is too long", t.span, format!("{} fields", t.path.len())).help =
                Some(format!("`set` and `unset` paths have at most {} fields", ir::MAX_PATH));
            return None;
        }
        let mut ty = self.schema.user.clone();
        for (i, seg) in t.path.iter().enumerate() {
            ty = match ty {
                CTy::Obj(shape) => match shape.field(&seg.name) {
                    Some(f) if !f.writable => {
                        let path = format!(
                            "user.{}",
                            t.path[..=i].iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(".")
                        );
                        self.err(
                            codes::E0108,
                            format!("`{path}` is read-only"),
                            seg.span,
                            "cannot be changed by rules",
                        )
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
                        codes::E0120,
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

    fn claim_name(&mut self, name: &ast::StrLit, token: ir::Token) -> Option<String> {
        let mut text = String::new();
        for p in &name.parts {
            match p {
                StrPart::Text(t) => text.push_str(t),
                StrPart::Interp(_) => {
                    self.err(codes::E0118, "claim names must be plain strings", name.span, "interpolated").help =
                        Some("claim names are fixed when the rule is compiled".into());
                    return None;
                }
            }
        }
        if text.is_empty() {
            self.err(codes::E0118, "claim names cannot be empty", name.span, "empty").help =
                Some("namespace custom claims: \"https://example.com/roles\"".into());
            return None;
        }
        use warden_ir::claims::{Rejection, claim_rejection};
        let (code, message, label, help) = match claim_rejection(&text, self.prog.options.claim_mode, token) {
            None => return Some(text),
            Some(Rejection::Restricted) => (
                codes::W0001,
                format!("claim `{text}` is restricted by Auth0 and will be dropped"),
                "restricted claim name",
                if text == "scope" {
                    "change the granted scopes with `scope add`, `scope remove` or `scope set`".to_string()
                } else {
                    format!("use a namespaced name such as \"https://example.com/{text}\"")
                },
            ),
            Some(Rejection::BadNamespace) => (
                codes::W0001,
                format!("claim `{text}` is not a valid namespace URL and will be dropped"),
                "not a URL with a host",
                "namespaced claims are URLs on a domain you own: \"https://example.com/roles\"".to_string(),
            ),
            Some(Rejection::Auth0Namespace) => (
                codes::W0001,
                format!("claim `{text}` uses a namespace Auth0 reserves and will be dropped"),
                "reserved namespace",
                "use a namespace on a domain you own".to_string(),
            ),
            Some(Rejection::NotNamespaced) => (
                codes::W0002,
                format!("claim `{text}` is not namespaced and will be dropped"),
                "claim_mode is \"namespaced\"",
                format!("use \"https://example.com/{text}\", or set claim_mode = \"modern\" in warden.toml"),
            ),
        };
        self.warn(code, message, name.span, label).help = Some(help);
        Some(text)
    }

    // -----------------------------------------------------------------------------------------
    // Expressions
}

fn always_denies(s: &ir::Stmt) -> bool {
    match &s.kind {
        StmtKind::Deny { .. } => true,
        StmtKind::If { then, otherwise, .. } => then.iter().any(always_denies) && otherwise.iter().any(always_denies),
        _ => false,
    }
}

/// Fills in which slots each write decodes again, now that every slot is known: the user
/// slots whose path is a prefix of the written path or starts with it. Writes to the same
/// path share one list, and the lists come from an ordered index of slot paths, so this is
/// linear in the size of the program (not writes times slots).
pub(crate) fn fill_refresh(prog: &mut ir::Program) {
    use std::collections::BTreeMap;
    use std::ops::Bound;
    let mut by_path: BTreeMap<Vec<String>, Vec<ir::SlotId>> = BTreeMap::new();
    for (i, s) in prog.slots.iter().enumerate() {
        if s.root == Root::User {
            by_path.entry(s.path.clone()).or_default().push(ir::SlotId::from_index(i));
        }
    }
    let overlapping = |path: &[String]| -> Vec<ir::SlotId> {
        let mut ids: Vec<ir::SlotId> =
            (0..=path.len()).filter_map(|k| by_path.get(&path[..k])).flatten().copied().collect();
        let below = by_path.range::<[String], _>((Bound::Excluded(path), Bound::Unbounded));
        ids.extend(below.take_while(|(p, _)| p.starts_with(path)).flat_map(|(_, ids)| ids.iter().copied()));
        ids.sort_unstable();
        ids
    };
    struct Lists<'f> {
        index: HashMap<Vec<String>, u32>,
        lists: Vec<Vec<ir::SlotId>>,
        overlapping: &'f dyn Fn(&[String]) -> Vec<ir::SlotId>,
    }
    impl Lists<'_> {
        fn of(&mut self, path: &[String]) -> u32 {
            if let Some(&i) = self.index.get(path) {
                return i;
            }
            self.lists.push((self.overlapping)(path));
            let i = (self.lists.len() - 1) as u32;
            self.index.insert(path.to_vec(), i);
            i
        }
    }
    fn walk(stmts: &mut [ir::Stmt], lists: &mut Lists<'_>) {
        for s in stmts {
            match &mut s.kind {
                StmtKind::SetUser { path, refresh, .. } | StmtKind::UnsetUser { path, refresh } => {
                    *refresh = lists.of(path);
                }
                StmtKind::Persist { metadata, key, refresh, .. } => {
                    *refresh = lists.of(&[metadata.field().to_string(), key.clone()]);
                }
                StmtKind::If { then, otherwise, .. } => {
                    walk(then, lists);
                    walk(otherwise, lists);
                }
                _ => {}
            }
        }
    }
    let mut lists = Lists { index: HashMap::new(), lists: Vec::new(), overlapping: &overlapping };
    for r in &mut prog.rules {
        walk(&mut r.body, &mut lists);
    }
    prog.refreshes = lists.lists;
}
