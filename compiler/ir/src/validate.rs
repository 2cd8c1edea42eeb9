//! Validation of a program that did not come straight from the checker (an artifact), and of
//! every program the checker produces: everything a backend assumes is checked here, so that
//! no program that passes can make a runtime index out of bounds, recurse without limit, do
//! unbounded work per node, or see a value of another type than an expression declares.
//!
//! What is checked:
//! - every id in range (expressions, slots, sets, regexes, networks, typed configuration keys,
//!   locals, rules, files); typed configuration keys declared, in order, and each node over
//!   one of them over a key of the type it needs;
//! - expressions form a forest: each is an operand of at most one node or statement, and
//!   operands come before the node (so no cycle, and evaluating or translating a rule does
//!   work linear in its size);
//! - expressions, blocks, types and shapes nest at most [`MAX_IR_DEPTH`]; paths have at most
//!   [`MAX_PATH`] segments; lists built by rules nest at most [`MAX_BUILT_DEPTH`];
//! - every builtin has its arity, and operands the types the checker would accept;
//! - every declared type is sound: what a node can produce, given its operands' declared
//!   types, is a subtype of its own ([`Ty::holds`]). Backends trust declared types (the JIT
//!   picks fast paths by them), so this is what makes that trust safe;
//! - each local is assigned in one place, before any expression that reads it.

use crate::{ConfigId, ConfigType, Const, ExprId, ExprKind, Program, Shape, Step, Stmt, StmtKind, Ty};

/// How deep expressions, blocks, types and input shapes may nest in a valid program. The
/// checker stays below it: 64 levels of source nesting make at most 131 levels of IR (`!=
/// null` and `not in` are two nodes, `unless` one more), and types at most 64 declared
/// levels plus 64 of lists built around them. Every recursive pass of every backend (the
/// interpreter, the JIT's translator, traces, the IR dump) fits on a 2 MiB stack at this
/// depth, in debug builds too (`tests/tests/adversarial.rs`).
pub const MAX_IR_DEPTH: usize = 160;

/// The most segments a slot path or a `set`/`unset` path may have.
pub const MAX_PATH: usize = 64;

/// How deep lists built by rules may nest: a list literal holding a list, directly or through
/// `let` bindings. With inputs at most 64 levels deep, no value a rule sees is deeper than
/// `64 + MAX_BUILT_DEPTH`.
pub const MAX_BUILT_DEPTH: usize = 64;

/// How an expression's value is assigned to a local.
#[derive(Clone, Copy, PartialEq)]
enum Assign {
    None,
    /// `let`: the value of this expression.
    Let(ExprId),
    /// A quantifier's variable: the items of this list.
    Items(ExprId),
}

const NO_RULE: u32 = u32::MAX;

/// Why a program is not valid: the first invariant it breaks, in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid(pub String);

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}

impl Program {
    /// Checks the invariants the runtimes rely on; the error says what is wrong.
    pub fn validate(&self) -> Result<(), Invalid> {
        self.check_all().map_err(Invalid)
    }

    fn check_all(&self) -> Result<(), String> {
        if self.ir_version != crate::IR_VERSION {
            return Err(format!("IR version {} is not {}", self.ir_version, crate::IR_VERSION));
        }
        self.check_tables()?;
        self.check_forest()?;
        let (owner, assign) = self.check_rules()?;
        self.check_types(&owner, &assign)
    }

    /// Slots, input shapes, steps, JavaScript rules and modules, and rules' local tables.
    fn check_tables(&self) -> Result<(), String> {
        if self.config_types.windows(2).any(|w| w[0].key >= w[1].key) {
            return Err("typed configuration keys are not in order".into());
        }
        if let Some(t) = self.config_types.iter().find(|t| !self.config_keys.contains(&t.key)) {
            return Err(format!("typed configuration key `{}` is not declared", t.key));
        }
        for (i, s) in self.slots.iter().enumerate() {
            if s.root == crate::Root::Config && s.path.len() != 1 {
                return Err(format!("slot {i}: configuration slots have one key"));
            }
            if s.root == crate::Root::Config && s.ty != self.config_slot_ty(&s.path[0]) {
                return Err(format!("slot {i}: its type is not the configuration key's"));
            }
            if s.path.len() > MAX_PATH {
                return Err(format!("slot {i}: its path has more than {MAX_PATH} segments"));
            }
            if ty_depth(&s.ty, 0) > MAX_IR_DEPTH {
                return Err(format!("slot {i}: its type nests deeper than {MAX_IR_DEPTH}"));
            }
        }
        for (what, shape) in [("user", &self.input.user), ("context", &self.input.context)] {
            check_shape(shape, 0).map_err(|m| format!("the shape of `{what}`: {m}"))?;
        }
        for step in &self.steps {
            match *step {
                Step::Rule(r) if r.index() >= self.rules.len() => return Err(format!("step names missing rule {r}")),
                Step::Js(j) if j as usize >= self.js_rules.len() => {
                    return Err(format!("step names missing JS rule {j}"));
                }
                _ => {}
            }
        }
        let files = self.files.len();
        if let Some(j) = self.js_rules.iter().find(|j| j.file as usize >= files) {
            return Err(format!("JS rule `{}` points into file {}, which does not exist", j.name, j.file));
        }
        if let Some(m) = self.js_modules.iter().find(|m| m.file as usize >= files) {
            return Err(format!("JS module `{}` points into file {}, which does not exist", m.name, m.file));
        }
        for (i, list) in self.refreshes.iter().enumerate() {
            if let Some(s) = list.iter().find(|s| s.index() >= self.slots.len()) {
                return Err(format!("refresh list {i} names missing slot {s}"));
            }
        }
        for (r, rule) in self.rules.iter().enumerate() {
            if rule.local_names.len() != rule.locals as usize {
                return Err(format!("rule {r} names {} locals but has {}", rule.local_names.len(), rule.locals));
            }
        }
        Ok(())
    }

    /// Every expression: operands before it and used once, references in range, arity,
    /// nesting; statements' operands used once too.
    fn check_forest(&self) -> Result<(), String> {
        let n = self.exprs.len();
        let mut depth = vec![0u32; n];
        let mut used = vec![false; n];
        for (id, e) in self.exprs.iter().enumerate() {
            self.check_refs(&e.kind).map_err(|m| format!("expression {id}: {m}"))?;
            let mut d = 1;
            for child in e.kind.operands() {
                let c = child.index();
                if c >= id {
                    return Err(format!("expression {id} refers to expression {c}, which does not come before it"));
                }
                if std::mem::replace(&mut used[c], true) {
                    return Err(format!("expression {c} is an operand twice (expressions form a tree)"));
                }
                d = d.max(depth[c] + 1);
            }
            if d as usize > MAX_IR_DEPTH {
                return Err(format!("expression {id} nests deeper than {MAX_IR_DEPTH}"));
            }
            depth[id] = d;
            if e.loc.file as usize >= self.files.len().max(1) {
                return Err(format!("expression {id} points into file {}, which does not exist", e.loc.file));
            }
            if ty_depth(&e.ty, 0) > MAX_IR_DEPTH {
                return Err(format!("expression {id}: its type nests deeper than {MAX_IR_DEPTH}"));
            }
        }
        // Statements' operands are roots: no expression may be both, or a root twice. Blocks
        // and the expressions in them nest at most MAX_IR_DEPTH together (as in the source,
        // where brackets and blocks count alike).
        let mut roots = Vec::new();
        for rule in &self.rules {
            self.roots(&rule.body, 0, &mut roots)?;
        }
        for (e, block) in roots {
            let e = e.index();
            if e >= n {
                return Err(format!("a statement refers to missing expression {e}"));
            }
            if std::mem::replace(&mut used[e], true) {
                return Err(format!("expression {e} is used twice (expressions form a tree)"));
            }
            if block + depth[e] as usize > MAX_IR_DEPTH {
                return Err(format!("expression {e} and the blocks around it nest deeper than {MAX_IR_DEPTH}"));
            }
        }
        Ok(())
    }

    fn check_refs(&self, kind: &ExprKind) -> Result<(), String> {
        let bad = |what: &str, i: usize| Err(format!("{what} {i} does not exist"));
        match kind {
            ExprKind::Slot(s) if s.index() >= self.slots.len() => bad("slot", s.index()),
            ExprKind::InSet(_, s) if s.index() >= self.sets.len() => bad("set", s.index()),
            ExprKind::Matches(_, r) if r.index() >= self.regexes.len() => bad("regex", r.index()),
            ExprKind::IpIn(_, c) if c.index() >= self.cidrs.len() => bad("network set", c.index()),
            ExprKind::Regex(_, _, r) if r.index() >= self.regexes.len() => bad("regex", r.index()),
            ExprKind::Call(f, args) if !crate::builtins::takes(*f, args.len()) => {
                Err(crate::builtins::arity_error(*f, args.len()))
            }
            ExprKind::Call(f, _) | ExprKind::Regex(f, ..)
                if matches!(f.function().node, crate::builtins::Node::Regex(_))
                    != matches!(kind, ExprKind::Regex(..)) =>
            {
                Err(format!("`{}` is not called with its pattern", f.name()))
            }
            // The pattern is not among `args`.
            ExprKind::Regex(f, args, _) if !crate::builtins::takes(*f, args.len() + 1) => {
                Err(crate::builtins::arity_error(*f, args.len() + 1))
            }
            ExprKind::Object(members)
                if members.iter().enumerate().any(|(i, (k, _))| members[..i].iter().any(|(k2, _)| k2 == k)) =>
            {
                Err("an object literal has a key twice".into())
            }
            ExprKind::IpInConfig(_, q) => self.typed_key(*q, ConfigType::CidrList),
            ExprKind::MatchesConfig(_, q) => self.typed_key(*q, ConfigType::Regex),
            ExprKind::InConfig(_, q) => self.typed_key(*q, ConfigType::StrList),
            _ => Ok(()),
        }
    }

    /// A node over typed configuration key `q` needs a key of type `want`.
    fn typed_key(&self, q: ConfigId, want: ConfigType) -> Result<(), String> {
        match self.config_types.get(q.index()) {
            None => Err(format!("typed configuration key {q} does not exist")),
            Some(t) if t.ty != want => Err(format!("configuration key `{}` is not a {}", t.key, want.name())),
            Some(_) => Ok(()),
        }
    }

    /// The type of `config.KEY`: its declared type's, else a string.
    fn config_slot_ty(&self, key: &str) -> Ty {
        self.config_types.iter().find(|t| t.key == key).map_or(Ty::Str, |t| t.ty.ty())
    }

    /// The expressions statements evaluate directly, with the depth of the block they are in
    /// (the rule's body is 1); blocks at most [`MAX_IR_DEPTH`] deep.
    fn roots(&self, stmts: &[Stmt], depth: usize, out: &mut Vec<(ExprId, usize)>) -> Result<(), String> {
        if depth >= MAX_IR_DEPTH {
            return Err("blocks nest too deeply".into());
        }
        for s in stmts {
            out.extend(s.kind.operands().into_iter().map(|e| (e, depth + 1)));
            match &s.kind {
                StmtKind::When(c) => out.push((*c, depth + 1)),
                StmtKind::Let(_, e) => out.push((*e, depth + 1)),
                StmtKind::If { cond, then, otherwise } => {
                    out.push((*cond, depth + 1));
                    self.roots(then, depth + 1, out)?;
                    self.roots(otherwise, depth + 1, out)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Each rule's statements: locals, paths, refreshed slots, operand types. Returns the rule
    /// that evaluates each expression (`NO_RULE` for none) and how each rule's locals are
    /// assigned.
    fn check_rules(&self) -> Result<(Vec<u32>, Vec<Vec<Assign>>), String> {
        let mut owner = vec![NO_RULE; self.exprs.len()];
        let mut assign = Vec::with_capacity(self.rules.len());
        for (r, rule) in self.rules.iter().enumerate() {
            let mut locals = vec![Assign::None; rule.locals as usize];
            let mut roots = Vec::new();
            self.check_block(&rule.body, &mut locals, &mut roots).map_err(|m| format!("rule {r}: {m}"))?;
            // The forest check made every expression reachable from one root at most.
            let mut stack = roots;
            while let Some(e) = stack.pop() {
                owner[e.index()] = r as u32;
                let kind = &self.exprs[e.index()].kind;
                match kind {
                    ExprKind::Local(l) if l.index() >= rule.locals as usize => {
                        return Err(format!("rule {r}: local {l} out of range"));
                    }
                    ExprKind::Quant { var, list, .. } | ExprKind::Comp { var, list, .. } => {
                        let slot = locals.get_mut(var.index()).ok_or(format!("rule {r}: local {var} out of range"))?;
                        if *slot != Assign::None {
                            return Err(format!("rule {r}: local {var} is assigned twice"));
                        }
                        *slot = Assign::Items(*list);
                    }
                    _ => {}
                }
                stack.extend(kind.operands());
            }
            assign.push(locals);
        }
        Ok((owner, assign))
    }

    fn check_block(&self, stmts: &[Stmt], locals: &mut [Assign], roots: &mut Vec<ExprId>) -> Result<(), String> {
        for s in stmts {
            let cond = |e: ExprId| is_condition(&self.exprs[e.index()].ty);
            let fits = |e: ExprId, want: &Ty| fits(&self.exprs[e.index()].ty, want);
            let ok = match &s.kind {
                StmtKind::When(c) => cond(*c),
                StmtKind::Let(l, e) => {
                    let slot = locals.get_mut(l.index()).ok_or(format!("local {l} out of range"))?;
                    if *slot != Assign::None {
                        return Err(format!("local {l} is assigned twice"));
                    }
                    *slot = Assign::Let(*e);
                    true
                }
                StmtKind::If { cond: c, then, otherwise } => {
                    self.check_block(then, locals, roots)?;
                    self.check_block(otherwise, locals, roots)?;
                    cond(*c)
                }
                StmtKind::Deny { message, .. } => message.is_none_or(|m| fits(m, &Ty::Str)),
                StmtKind::SetUser { path, refresh, .. } | StmtKind::UnsetUser { path, refresh } => {
                    self.check_write(path.len(), *refresh)?;
                    true
                }
                StmtKind::Persist { refresh, .. } => {
                    self.check_write(2, *refresh)?;
                    true
                }
                StmtKind::Scope { values, .. } => {
                    values.iter().all(|v| fits(*v, &Ty::Str) || fits(*v, &Ty::List(Box::new(Ty::Str))))
                }
                StmtKind::Mfa { remember, options, .. } => {
                    remember.is_none_or(|r| fits(r, &Ty::Bool)) && options.iter().all(|(_, v)| fits(*v, &Ty::Str))
                }
                StmtKind::Redirect(u) => fits(*u, &Ty::Str),
                StmtKind::Claim { .. } | StmtKind::Log(_) => true,
            };
            if !ok {
                return Err(format!("a statement at line {} has an operand of the wrong type", s.loc.line));
            }
            roots.extend(s.kind.operands());
            match &s.kind {
                StmtKind::When(c) | StmtKind::If { cond: c, .. } => roots.push(*c),
                StmtKind::Let(_, e) => roots.push(*e),
                _ => {}
            }
        }
        Ok(())
    }

    fn check_write(&self, path: usize, refresh: u32) -> Result<(), String> {
        if path == 0 || path > MAX_PATH {
            return Err(format!("a write has a path of {path} segments (1 to {MAX_PATH})"));
        }
        if refresh as usize >= self.refreshes.len() {
            return Err(format!("a write names missing refresh list {refresh}"));
        }
        Ok(())
    }

    /// Declared types against what each node can produce, operand types, and how deep the
    /// lists rules build nest.
    fn check_types(&self, owner: &[u32], assign: &[Vec<Assign>]) -> Result<(), String> {
        let mut built = vec![0u32; self.exprs.len()];
        for (id, e) in self.exprs.iter().enumerate() {
            let ty = |x: ExprId| &self.exprs[x.index()].ty;
            let (produced, b) = match &e.kind {
                ExprKind::Local(l) => {
                    let Some(locals) = assign.get(owner[id] as usize) else {
                        // Not evaluated by any rule.
                        continue;
                    };
                    match locals[l.index()] {
                        Assign::None => (Ty::Null, 0),
                        Assign::Let(x) | Assign::Items(x) if x.index() >= id => {
                            return Err(format!("expression {id} reads local {l} before its definition"));
                        }
                        Assign::Let(x) => (ty(x).clone(), built[x.index()]),
                        Assign::Items(x) => (items(ty(x)), built[x.index()]),
                    }
                }
                kind => {
                    (self.produces(kind, &e.ty).map_err(|m| format!("expression {id}: {m}"))?, self.built(kind, &built))
                }
            };
            if b as usize > MAX_BUILT_DEPTH {
                return Err(format!("expression {id} builds lists nested deeper than {MAX_BUILT_DEPTH}"));
            }
            built[id] = b;
            if !produced.holds_in(&e.ty) {
                return Err(format!("expression {id} is declared {} but produces {}", e.ty.name(), produced.name()));
            }
        }
        Ok(())
    }

    /// How deep the lists a node builds nest (0 for values that are not built lists).
    fn built(&self, kind: &ExprKind, built: &[u32]) -> u32 {
        let b = |x: &ExprId| built[x.index()];
        match kind {
            ExprKind::List(items) => 1 + items.iter().map(b).max().unwrap_or(0),
            ExprKind::Object(members) => 1 + members.iter().map(|(_, e)| b(e)).max().unwrap_or(0),
            ExprKind::Comp { body, .. } => 1 + b(body),
            ExprKind::Field(x, _) | ExprKind::Index(x, _) => b(x),
            ExprKind::Coalesce(x, y) => b(x).max(b(y)),
            _ => 0,
        }
    }

    /// The type of what a node (other than `Local`) can produce, from its operands' declared
    /// types; `Err` when an operand has a type the checker would refuse.
    fn produces(&self, kind: &ExprKind, declared: &Ty) -> Result<Ty, String> {
        let ty = |x: &ExprId| &self.exprs[x.index()].ty;
        let need =
            |ok: bool, what: &str| if ok { Ok(()) } else { Err(format!("{what} has an operand of the wrong type")) };
        Ok(match kind {
            ExprKind::Const(c) => match c {
                Const::Null => Ty::Null,
                Const::Bool(_) => Ty::Bool,
                Const::Int(_) => Ty::Int,
                Const::Float(_) => Ty::Float,
                Const::Str(_) => Ty::Str,
            },
            ExprKind::Slot(s) => {
                let slot = &self.slots[s.index()];
                match slot.root {
                    // Configuration values are strings, or of their key's declared type,
                    // whatever the slot says.
                    crate::Root::Config => slot.path.first().map_or(Ty::Null, |k| self.config_slot_ty(k)),
                    _ if slot.checked => slot.ty.clone(),
                    _ => Ty::Dyn,
                }
            }
            ExprKind::Local(_) => Ty::Dyn,
            ExprKind::List(items) => {
                let mut elem = Ty::Null;
                for i in items {
                    elem = join(&elem, ty(i));
                }
                Ty::List(Box::new(elem))
            }
            ExprKind::Interp(_) => Ty::Str,
            ExprKind::Field(x, name) => match ty(x) {
                Ty::Object(fields) => fields.iter().find(|(n, _)| n == name).map_or(Ty::Dyn, |(_, t)| t.clone()),
                Ty::Dyn => Ty::Dyn,
                _ => Ty::Null,
            },
            ExprKind::Index(b, i) => match ty(b) {
                Ty::List(t) => (**t).clone(),
                Ty::Object(fields) => match &self.exprs[i.index()].kind {
                    ExprKind::Const(Const::Str(k)) => {
                        fields.iter().find(|(n, _)| n == k).map_or(Ty::Dyn, |(_, t)| t.clone())
                    }
                    _ => Ty::Dyn,
                },
                Ty::Dyn => Ty::Dyn,
                _ => Ty::Null,
            },
            ExprKind::Not(x) => {
                need(is_condition(ty(x)), "`not`")?;
                Ty::Bool
            }
            ExprKind::And(x, y) | ExprKind::Or(x, y) => {
                need(is_condition(ty(x)) && is_condition(ty(y)), "`and`/`or`")?;
                Ty::Bool
            }
            ExprKind::IsNull(_) | ExprKind::Cmp(..) | ExprKind::InSet(..) | ExprKind::InConfig(..) => Ty::Bool,
            ExprKind::Neg(x) => match ty(x) {
                Ty::Int => Ty::Int,
                Ty::Null => Ty::Null,
                _ => Ty::Float,
            },
            ExprKind::Arith(_, x, y) => match (ty(x), ty(y)) {
                (Ty::Null, _) | (_, Ty::Null) => Ty::Null,
                (Ty::Int, Ty::Int) => Ty::Int,
                (Ty::Int | Ty::Float, Ty::Int | Ty::Float) => Ty::Float,
                (Ty::Str, Ty::Str) => Ty::Str,
                _ => Ty::Dyn,
            },
            ExprKind::Coalesce(x, y) => join(ty(x), ty(y)),
            ExprKind::InList(_, l) => {
                need(is_list(ty(l)), "`in`")?;
                Ty::Bool
            }
            ExprKind::Matches(x, _)
            | ExprKind::IpIn(x, _)
            | ExprKind::MatchesConfig(x, _)
            | ExprKind::IpInConfig(x, _) => {
                need(fits(ty(x), &Ty::Str), "matches()/ip_in()")?;
                Ty::Bool
            }
            ExprKind::Quant { list, body, .. } => {
                need(is_list(ty(list)) && is_condition(ty(body)), "a quantifier")?;
                Ty::Bool
            }
            ExprKind::Comp { list, filter, body, .. } => {
                need(is_list(ty(list)) && filter.is_none_or(|f| is_condition(ty(&f))), "a comprehension")?;
                Ty::List(Box::new(ty(body).clone()))
            }
            ExprKind::Object(members) => Ty::Object(members.iter().map(|(k, e)| (k.clone(), ty(e).clone())).collect()),
            ExprKind::Call(f, args) => {
                let f = f.function();
                need(args.iter().enumerate().all(|(i, a)| f.param(i).admits(ty(a))), &format!("`{}`", f.name))?;
                let tys: Vec<&Ty> = args.iter().map(ty).collect();
                f.returns.ty_for(&tys)
            }
            ExprKind::Regex(f, args, _) => {
                let f = f.function();
                // The pattern is argument 1; `args` are the others.
                let params = (0..=args.len()).filter(|i| *i != 1).map(|i| f.param(i));
                need(params.zip(args).all(|(p, a)| p.admits(ty(a))), &format!("`{}`", f.name))?;
                match f.returns {
                    // The checker names the pattern's groups; each holds a string or nothing.
                    crate::builtins::Returns::Captures => captures_ty(declared),
                    r => r.ty(),
                }
            }
        })
    }
}

impl Ty {
    /// Whether every value of type `self` is also a value of type `other` (`null` is a value
    /// of every type). Object types list the fields they know; any other field may hold
    /// anything, so a field `other` knows and `self` does not must be `any` in `other`.
    pub fn holds_in(&self, other: &Ty) -> bool {
        if self == other {
            return true;
        }
        match (self, other) {
            (_, Ty::Dyn) | (Ty::Null, _) => true,
            (Ty::Int, Ty::Float) | (Ty::Int | Ty::Float | Ty::Str, Ty::Time) => true,
            (Ty::List(a), Ty::List(b)) => a.holds_in(b),
            (Ty::Object(a), Ty::Object(b)) => b.iter().all(|(name, tb)| match a.iter().find(|(n, _)| n == name) {
                Some((_, ta)) => ta.holds_in(tb),
                None => *tb == Ty::Dyn,
            }),
            (a, b) => a == b,
        }
    }
}

/// A type holding the values of both (the least such type for the cases rules produce).
pub(crate) fn join(a: &Ty, b: &Ty) -> Ty {
    if a.holds_in(b) {
        b.clone()
    } else if b.holds_in(a) {
        a.clone()
    } else {
        match (a, b) {
            (Ty::Int | Ty::Float, Ty::Int | Ty::Float) => Ty::Float,
            (Ty::List(x), Ty::List(y)) => Ty::List(Box::new(join(x, y))),
            _ => Ty::Dyn,
        }
    }
}

/// What `capture_named` produces, given the type the checker declared: an object whose
/// fields are all strings (or missing) holds whatever groups the pattern has.
fn captures_ty(declared: &Ty) -> Ty {
    match declared {
        Ty::Object(fields) if fields.iter().all(|(_, t)| *t == Ty::Str) => declared.clone(),
        _ => Ty::Object(Vec::new()),
    }
}

/// The type of a list's items.
fn items(list: &Ty) -> Ty {
    match list {
        Ty::List(t) => (**t).clone(),
        Ty::Null => Ty::Null,
        _ => Ty::Dyn,
    }
}

/// Whether a value of type `t` may be used where `want` is expected, as the checker decides
/// (`any` and `null` fit anything, ints fit floats, strings and ints fit date-times).
pub(crate) fn fits(t: &Ty, want: &Ty) -> bool {
    match (t, want) {
        (Ty::Dyn | Ty::Null, _) | (_, Ty::Dyn) => true,
        (Ty::Int, Ty::Float) | (Ty::Str | Ty::Int, Ty::Time) => true,
        (Ty::List(a), Ty::List(b)) => fits(a, b),
        (Ty::Object(_), Ty::Object(_)) => true,
        (a, b) => a == b,
    }
}

fn is_condition(t: &Ty) -> bool {
    matches!(t, Ty::Bool | Ty::Dyn | Ty::Null)
}

fn is_list(t: &Ty) -> bool {
    matches!(t, Ty::List(_) | Ty::Dyn | Ty::Null)
}

/// How deep a type nests, counting at most to just past [`MAX_IR_DEPTH`].
fn ty_depth(t: &Ty, at: usize) -> usize {
    if at > MAX_IR_DEPTH {
        return at;
    }
    match t {
        Ty::List(inner) => ty_depth(inner, at + 1),
        Ty::Object(fields) => fields.iter().map(|(_, f)| ty_depth(f, at + 1)).max().unwrap_or(at + 1),
        _ => at + 1,
    }
}

/// Input shapes: at most [`MAX_IR_DEPTH`] deep, object fields in `key_order` (lookups search).
fn check_shape(shape: &Shape, at: usize) -> Result<(), String> {
    if at >= MAX_IR_DEPTH {
        return Err(format!("nests deeper than {MAX_IR_DEPTH}"));
    }
    match shape {
        Shape::List(inner) => check_shape(inner, at + 1),
        Shape::Object(fields) => {
            if fields.windows(2).any(|w| crate::input::key_order(&w[0].0, &w[1].0) != std::cmp::Ordering::Less) {
                return Err("object fields are not in order".into());
            }
            fields.iter().try_for_each(|(_, f)| check_shape(f, at + 1))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use crate::Ty;

    fn obj(fields: &[(&str, Ty)]) -> Ty {
        Ty::Object(fields.iter().map(|(n, t)| (n.to_string(), t.clone())).collect())
    }

    #[test]
    fn holds_in_is_soundness_of_values() {
        let list = |t: Ty| Ty::List(Box::new(t));
        // Null is a value of every type; `any` holds everything.
        for t in [Ty::Bool, Ty::Int, Ty::Str, list(Ty::Int), obj(&[]), Ty::Dyn] {
            assert!(Ty::Null.holds_in(&t) && t.holds_in(&Ty::Dyn), "{t:?}");
        }
        assert!(Ty::Int.holds_in(&Ty::Float) && !Ty::Float.holds_in(&Ty::Int));
        assert!(Ty::Str.holds_in(&Ty::Time) && !Ty::Time.holds_in(&Ty::Str));
        assert!(list(Ty::Int).holds_in(&list(Ty::Float)) && !list(Ty::Dyn).holds_in(&list(Ty::Str)));
        assert!(!Ty::Dyn.holds_in(&Ty::Bool) && !Ty::Str.holds_in(&Ty::Bool));
        // An object type promises the types of the fields it lists; a field it does not list
        // may hold anything, so it fits only where that field is `any`.
        let a = obj(&[("id", Ty::Str), ("n", Ty::Int)]);
        assert!(a.holds_in(&obj(&[("id", Ty::Str)])));
        assert!(a.holds_in(&obj(&[("n", Ty::Float), ("other", Ty::Dyn)])));
        assert!(!a.holds_in(&obj(&[("other", Ty::Str)])));
        assert!(!obj(&[("id", Ty::Dyn)]).holds_in(&obj(&[("id", Ty::Str)])));
    }
}
