//! Coverage reports for `warden test --coverage`: a terminal summary and an lcov file.

use std::collections::BTreeMap;

use warden::{Coverage, Pipeline, Point};
use warden_ir::{ExprKind, Program, StmtKind};

/// Coverage of one source file.
#[derive(Debug, Default)]
pub struct FileCoverage {
    /// Rules: (line, name, hits).
    pub rules: Vec<(u32, String, u64)>,
    /// Statement hits by line.
    pub lines: BTreeMap<u32, u64>,
    /// Branches: (line, block, branch, hits, what).
    pub branches: Vec<(u32, usize, usize, u64, String)>,
}

impl FileCoverage {
    fn covered<T>(items: impl Iterator<Item = T>, hit: impl Fn(&T) -> bool) -> (usize, usize) {
        let all: Vec<T> = items.collect();
        (all.iter().filter(|x| hit(x)).count(), all.len())
    }
    pub fn rules_covered(&self) -> (usize, usize) {
        Self::covered(self.rules.iter(), |r| r.2 > 0)
    }
    pub fn lines_covered(&self) -> (usize, usize) {
        Self::covered(self.lines.iter(), |l| *l.1 > 0)
    }
    pub fn branches_covered(&self) -> (usize, usize) {
        Self::covered(self.branches.iter(), |b| b.3 > 0)
    }
}

/// Coverage by source file path.
pub fn by_file(pipeline: &Pipeline, cov: &Coverage) -> BTreeMap<String, FileCoverage> {
    let prog = pipeline.program();
    let mut files: BTreeMap<String, FileCoverage> = BTreeMap::new();
    let mut blocks: BTreeMap<(u32, String), usize> = BTreeMap::new();
    for (rule, point) in warden::coverage_points(prog) {
        let r = &prog.rules[rule as usize];
        let path = prog.files.get(r.loc.file as usize).cloned().unwrap_or_default();
        let hits = cov.count(&point);
        let f = files.entry(path.clone()).or_default();
        match point {
            Point::Rule(_) => f.rules.push((r.loc.line, r.name.clone(), hits)),
            Point::Stmt(loc) => *f.lines.entry(loc.line).or_default() += hits,
            Point::Branch(loc, side) => {
                let key = (loc.line, format!("b{}:{}", loc.line, loc.col));
                let n = blocks.len();
                let block = *blocks.entry(key).or_insert(n);
                f.branches.push((loc.line, block, usize::from(!side), hits, branch_name(prog, loc, side)));
            }
            Point::Arm(e, right) => {
                let loc = prog.expr(e).loc;
                let key = (loc.line, format!("e{e}"));
                let n = blocks.len();
                let block = *blocks.entry(key).or_insert(n);
                let op = if matches!(prog.expr(e).kind, ExprKind::And(..)) { "and" } else { "or" };
                let what = if right {
                    format!("`{op}` decided by its right side")
                } else {
                    format!("`{op}` decided by its left side")
                };
                f.branches.push((loc.line, block, usize::from(right), hits, what));
            }
        }
    }
    // JavaScript rules: covered per rule (a rule is its file's one function).
    for (j, rule) in prog.js_rules.iter().enumerate() {
        let path = prog.files.get(rule.file as usize).cloned().unwrap_or_default();
        let hits = cov.js.get(&(j as u32)).copied().unwrap_or(0);
        let f = files.entry(path).or_default();
        f.rules.push((1, rule.name.clone(), hits));
        *f.lines.entry(1).or_default() += hits;
    }
    files
}

/// What a branch point means, in words.
fn branch_name(prog: &Program, loc: warden_ir::Loc, side: bool) -> String {
    let is_guard =
        prog.rules.iter().any(|r| r.body.iter().any(|s| s.loc == loc && matches!(s.kind, StmtKind::When(_))));
    match (is_guard, side) {
        (true, true) => "guard held".into(),
        (true, false) => "guard did not hold".into(),
        (false, true) => "condition true".into(),
        (false, false) => "condition false".into(),
    }
}

/// `rules 4/4, statements 10/12, branches 14/20` per file, then what was missed.
pub fn summary(files: &BTreeMap<String, FileCoverage>) -> String {
    let mut out = String::from("coverage:\n");
    for (path, f) in files {
        let (rc, rt) = f.rules_covered();
        let (lc, lt) = f.lines_covered();
        let (bc, bt) = f.branches_covered();
        out.push_str(&format!("  {path}: rules {rc}/{rt}, statements {lc}/{lt}, branches {bc}/{bt}\n"));
        for (line, hits) in &f.lines {
            if *hits == 0 {
                out.push_str(&format!("    line {line}: statement never ran\n"));
            }
        }
        for (line, _, _, hits, what) in &f.branches {
            if *hits == 0 {
                out.push_str(&format!("    line {line}: {what}: never\n"));
            }
        }
    }
    out
}

/// The lcov format that editors and CI services read.
pub fn lcov(files: &BTreeMap<String, FileCoverage>) -> String {
    let mut out = String::new();
    for (path, f) in files {
        out.push_str(&format!("TN:\nSF:{path}\n"));
        for (line, name, _) in &f.rules {
            out.push_str(&format!("FN:{line},{name}\n"));
        }
        for (_, name, hits) in &f.rules {
            out.push_str(&format!("FNDA:{hits},{name}\n"));
        }
        let (rc, rt) = f.rules_covered();
        out.push_str(&format!("FNF:{rt}\nFNH:{rc}\n"));
        for (line, block, branch, hits, _) in &f.branches {
            out.push_str(&format!("BRDA:{line},{block},{branch},{hits}\n"));
        }
        let (bc, bt) = f.branches_covered();
        out.push_str(&format!("BRF:{bt}\nBRH:{bc}\n"));
        for (line, hits) in &f.lines {
            out.push_str(&format!("DA:{line},{hits}\n"));
        }
        let (lc, lt) = f.lines_covered();
        out.push_str(&format!("LF:{lt}\nLH:{lc}\nend_of_record\n"));
    }
    out
}
