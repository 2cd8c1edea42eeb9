//! Coverage: which rules, statements, guards, branches and boolean arms a run exercised.

use std::collections::BTreeMap;

use warden_ir::{ExprId, ExprKind, Loc, Program, Stmt, StmtKind};

/// A place that can be covered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Point {
    /// A rule ran (its guards were evaluated).
    Rule(u32),
    /// A statement was reached.
    Stmt(Loc),
    /// A guard held (`true`) or not; an `if`/`unless` (or modifier) took the `then` side
    /// (`true`) or not.
    Branch(Loc, bool),
    /// `and`/`or` decided by its left arm (`false`) or its right arm (`true`).
    Arm(ExprId, bool),
}

/// Hit counts by point.
#[derive(Clone, Debug, Default)]
pub struct Coverage {
    pub hits: BTreeMap<Point, u64>,
    /// How often each JavaScript rule ran, by index in `Program::js_rules`.
    pub js: BTreeMap<u32, u64>,
}

impl Coverage {
    pub fn hit(&mut self, p: Point) {
        *self.hits.entry(p).or_default() += 1;
    }

    /// Adds another run's hits.
    pub fn merge(&mut self, other: &Coverage) {
        for (p, n) in &other.hits {
            *self.hits.entry(*p).or_default() += n;
        }
        for (j, n) in &other.js {
            *self.js.entry(*j).or_default() += n;
        }
    }

    pub fn count(&self, p: &Point) -> u64 {
        self.hits.get(p).copied().unwrap_or(0)
    }
}

/// Every coverable point of a program, with the rule it belongs to.
pub fn points(prog: &Program) -> Vec<(u32, Point)> {
    let mut out = Vec::new();
    for (r, rule) in prog.rules.iter().enumerate() {
        let r = r as u32;
        out.push((r, Point::Rule(r)));
        stmts(prog, r, &rule.body, &mut out);
    }
    out
}

fn stmts(prog: &Program, r: u32, body: &[Stmt], out: &mut Vec<(u32, Point)>) {
    for s in body {
        out.push((r, Point::Stmt(s.loc)));
        match &s.kind {
            StmtKind::When(c) => {
                out.push((r, Point::Branch(s.loc, true)));
                out.push((r, Point::Branch(s.loc, false)));
                arms(prog, r, *c, out);
            }
            StmtKind::If { cond, then, otherwise } => {
                out.push((r, Point::Branch(s.loc, true)));
                out.push((r, Point::Branch(s.loc, false)));
                arms(prog, r, *cond, out);
                stmts(prog, r, then, out);
                stmts(prog, r, otherwise, out);
            }
            StmtKind::Let(_, e) => arms(prog, r, *e, out),
            other => other.operands().into_iter().for_each(|e| arms(prog, r, e, out)),
        }
    }
}

fn arms(prog: &Program, r: u32, e: ExprId, out: &mut Vec<(u32, Point)>) {
    let kind = &prog.expr(e).kind;
    if matches!(kind, ExprKind::And(..) | ExprKind::Or(..)) {
        out.push((r, Point::Arm(e, false)));
        out.push((r, Point::Arm(e, true)));
    }
    for child in kind.operands() {
        arms(prog, r, child, out);
    }
}
