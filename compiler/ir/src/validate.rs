//! Structural validation of a program that did not come straight from the checker (an
//! artifact): every id in range, expressions acyclic and shallow, so that no runtime can
//! index out of bounds or recurse without limit.

use crate::{ExprId, ExprKind, Program, Step, Stmt, StmtKind};

/// How deep expressions and blocks may nest in a valid program (the checker allows 64).
pub const MAX_IR_DEPTH: usize = 256;

impl Program {
    /// Checks the invariants the runtimes rely on; the message says what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        if self.ir_version != crate::IR_VERSION {
            return Err(format!("IR version {} is not {}", self.ir_version, crate::IR_VERSION));
        }
        let n = self.exprs.len();
        let mut depth = vec![0usize; n];
        for (id, e) in self.exprs.iter().enumerate() {
            let mut d = 1;
            for child in e.kind.operands() {
                let c = child as usize;
                if c >= id {
                    return Err(format!("expression {id} refers to expression {c}, which does not come before it"));
                }
                d = d.max(depth[c] + 1);
            }
            if d > MAX_IR_DEPTH {
                return Err(format!("expression {id} nests deeper than {MAX_IR_DEPTH}"));
            }
            depth[id] = d;
            self.check_refs(&e.kind).map_err(|m| format!("expression {id}: {m}"))?;
            if e.loc.file as usize >= self.files.len().max(1) {
                return Err(format!("expression {id} points into file {}, which does not exist", e.loc.file));
            }
        }
        for (r, rule) in self.rules.iter().enumerate() {
            if rule.local_names.len() != rule.locals as usize {
                return Err(format!("rule {r} names {} locals but has {}", rule.local_names.len(), rule.locals));
            }
            self.check_block(&rule.body, rule.locals, 0).map_err(|m| format!("rule {r}: {m}"))?;
            let mut seen = vec![false; n];
            let mut stack = Vec::new();
            self.roots(&rule.body, &mut stack);
            while let Some(e) = stack.pop() {
                let e = e as usize;
                if e >= n || std::mem::replace(&mut seen[e], true) {
                    continue;
                }
                if let ExprKind::Local(l) | ExprKind::Quant { var: l, .. } = &self.exprs[e].kind
                    && *l >= rule.locals
                {
                    return Err(format!("rule {r}: local {l} out of range"));
                }
                stack.extend(self.exprs[e].kind.operands());
            }
        }
        for step in &self.steps {
            match *step {
                Step::Rule(r) if r as usize >= self.rules.len() => return Err(format!("step names missing rule {r}")),
                Step::Js(j) if j as usize >= self.js_rules.len() => {
                    return Err(format!("step names missing JS rule {j}"));
                }
                _ => {}
            }
        }
        for (i, s) in self.slots.iter().enumerate() {
            if s.root == crate::Root::Config && s.path.len() != 1 {
                return Err(format!("slot {i}: configuration slots have one key"));
            }
        }
        Ok(())
    }

    fn check_refs(&self, kind: &ExprKind) -> Result<(), String> {
        let bad = |what: &str, i: u32| Err(format!("{what} {i} does not exist"));
        match kind {
            ExprKind::Slot(s) if *s as usize >= self.slots.len() => bad("slot", *s),
            ExprKind::InSet(_, s) if *s as usize >= self.sets.len() => bad("set", *s),
            ExprKind::Matches(_, r) if *r as usize >= self.regexes.len() => bad("regex", *r),
            ExprKind::IpIn(_, c) if *c as usize >= self.cidrs.len() => bad("network set", *c),
            _ => Ok(()),
        }
    }

    fn check_block(&self, stmts: &[Stmt], locals: u32, depth: usize) -> Result<(), String> {
        if depth > MAX_IR_DEPTH {
            return Err("blocks nest too deeply".into());
        }
        for s in stmts {
            let mut exprs = s.kind.operands();
            match &s.kind {
                StmtKind::When(c) => exprs.push(*c),
                StmtKind::Let(l, e) => {
                    if *l >= locals {
                        return Err(format!("local {l} out of range"));
                    }
                    exprs.push(*e);
                }
                StmtKind::If { cond, then, otherwise } => {
                    exprs.push(*cond);
                    self.check_block(then, locals, depth + 1)?;
                    self.check_block(otherwise, locals, depth + 1)?;
                }
                StmtKind::SetUser { refresh, .. }
                | StmtKind::UnsetUser { refresh, .. }
                | StmtKind::Persist { refresh, .. } => {
                    if let Some(r) = refresh.iter().find(|r| **r as usize >= self.slots.len()) {
                        return Err(format!("refreshes missing slot {r}"));
                    }
                }
                _ => {}
            }
            if let Some(e) = exprs.iter().find(|e| **e as usize >= self.exprs.len()) {
                return Err(format!("statement refers to missing expression {e}"));
            }
        }
        Ok(())
    }

    /// The expressions statements evaluate directly.
    fn roots(&self, stmts: &[Stmt], out: &mut Vec<ExprId>) {
        for s in stmts {
            out.extend(s.kind.operands());
            match &s.kind {
                StmtKind::When(c) => out.push(*c),
                StmtKind::Let(_, e) => out.push(*e),
                StmtKind::If { cond, then, otherwise } => {
                    out.push(*cond);
                    self.roots(then, out);
                    self.roots(otherwise, out);
                }
                _ => {}
            }
        }
    }
}
