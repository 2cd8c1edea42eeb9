//! What front ends (the CLI, the server, editors, the migration tool) ask of a pipeline
//! besides decisions: a check report with every diagnostic (JavaScript's included), a
//! manifest's settings, coverage by file and line, and bounded reads of the files they name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use warden_ir::{ClaimMode, ConfigType, ExprKind, Program, StmtKind};
use warden_syntax::{Diagnostic, SourceMap, codes};

use crate::{Coverage, Pipeline, Point};

/// The result of checking a pipeline's sources without loading it: every diagnostic (the
/// checker's, the manifest's and the JavaScript rules' compile errors and `require`
/// warnings), and the files read, to render them against.
#[derive(Debug)]
pub struct Report {
    /// Errors and warnings, in file order (JavaScript diagnostics last).
    pub diagnostics: Vec<Diagnostic>,
    /// Every file read, manifest included.
    pub sources: SourceMap,
    /// The checked program, when there is no error.
    program: Option<Program>,
    /// Whether a manifest was read (it is one of `sources`).
    manifest: bool,
}

impl Report {
    pub(crate) fn new(c: warden_check::Compiled) -> Report {
        let manifest = c.manifest.is_some();
        Report { diagnostics: c.diagnostics, sources: c.sources, program: c.program, manifest }
    }

    /// Checks a pipeline as its `warden.toml` describes it, the literal values of typed
    /// `[configuration]` keys included (values from the environment are checked when the
    /// pipeline loads).
    pub fn of_manifest(path: &Path) -> Report {
        let c = warden_check::check_manifest(path);
        let bad = match (&c.program, &c.manifest) {
            (Some(p), Some(m)) => config_diagnostics(p, m, &c.sources),
            _ => Vec::new(),
        };
        let mut r = Report::with_js(c);
        if !bad.is_empty() {
            r.diagnostics.extend(bad);
            r.program = None;
        }
        r
    }

    /// Checks `.rule` (and `.js`) files as one pipeline, in the order given.
    pub fn of_files(paths: &[PathBuf], claim_mode: ClaimMode) -> Report {
        Report::with_js(warden_check::check_files(paths, claim_mode))
    }

    /// A check report with the JavaScript rules compiled too.
    fn with_js(c: warden_check::Compiled) -> Report {
        let mut r = Report::new(c);
        if let Some(p) = &r.program {
            let js = crate::js_diagnostics(p, &r.sources);
            let failed = js.iter().any(Diagnostic::is_error);
            r.diagnostics.extend(js);
            if failed {
                r.program = None;
            }
        }
        r
    }

    /// Whether any diagnostic is an error (the pipeline cannot load).
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// How many steps (`.rule` rules and JavaScript rules) the checked pipeline runs; 0 when
    /// it has errors.
    pub fn rules(&self) -> usize {
        self.program.as_ref().map_or(0, |p| p.steps.len())
    }

    /// How many rule files were read (the manifest not counted).
    pub fn rule_files(&self) -> usize {
        self.sources.files.len().saturating_sub(usize::from(self.manifest))
    }

    /// The checked program's IR as text (`warden check --ir`), when it checks.
    pub fn ir_text(&self) -> Option<String> {
        self.program.as_ref().map(warden_ir::dump)
    }

    /// The program, for tools that inspect the IR (tests, fuzzers).
    pub fn program(&self) -> Option<&Program> {
        self.program.as_ref()
    }

    pub(crate) fn take_program(&mut self) -> Option<Program> {
        self.program.take()
    }
}

/// E0205 for each literal `[configuration]` value that does not fit its declared type, at the
/// value in the manifest. The values are parsed as loading parses them (`Config::new`).
pub(crate) fn config_diagnostics(
    program: &Program,
    manifest: &crate::Manifest,
    sources: &SourceMap,
) -> Vec<Diagnostic> {
    let Some(entries) = &manifest.configuration else { return Vec::new() };
    let shown = manifest.path.display().to_string();
    let Some(file) = sources.files.iter().position(|f| f.path == shown) else { return Vec::new() };
    let literals = entries
        .iter()
        .filter_map(|(k, e)| match &e.value {
            warden_check::ConfigValue::Literal(v) => Some((k.clone(), v.clone())),
            warden_check::ConfigValue::Env { .. } => None,
        })
        .collect();
    let Err(errors) = crate::Config::new(program, literals) else { return Vec::new() };
    errors
        .into_iter()
        .map(|e| {
            let span = entries.get(&e.key).map_or(warden_syntax::Span::new(0, 0), |entry| entry.span);
            let help = match e.ty {
                ConfigType::Str => "",
                ConfigType::Int => "write an integer, such as \"100\"",
                ConfigType::Float => "write a number, such as \"0.5\"",
                ConfigType::Bool => "write \"true\" or \"false\"",
                ConfigType::StrList => "separate items with commas or new lines, or write a JSON array of strings",
                ConfigType::CidrList => {
                    "write networks or addresses separated by commas or new lines, such as \"10.0.0.0/8, 2001:db8::/32\""
                }
                ConfigType::Regex => "warden uses the Rust regex syntax (no look-around or backreferences)",
            };
            Diagnostic::error(codes::E0205, e.to_string())
                .at(file as u32, span, format!("not a valid {}", e.ty.name()))
                .help(help)
        })
        .collect()
}

/// A manifest's settings, read without checking (or reading) its rules; diagnostics for
/// a manifest that cannot be read or parsed. A setting the parser could get past (a
/// `timeout_ms` out of range, a bad `[schema]` entry) does not keep the others from being
/// read: `Report::of_manifest` reports those.
pub fn read_manifest(path: &Path) -> Result<crate::Manifest, Box<Report>> {
    let mut sources = SourceMap::default();
    let mut diagnostics = Vec::new();
    let text = match warden_check::read_text_file(path, warden_check::MAX_FILE_BYTES) {
        Ok(t) => t,
        Err(reason) => {
            diagnostics
                .push(Diagnostic::error(codes::E0201, format!("cannot read manifest `{}`: {reason}", path.display())));
            return Err(Box::new(Report { diagnostics, sources, program: None, manifest: false }));
        }
    };
    let file = sources.add(path.display().to_string(), text.clone());
    match warden_check::manifest::parse(path, file, &text, &mut diagnostics) {
        Some((m, _)) => Ok(m),
        None => Err(Box::new(Report { diagnostics, sources, program: None, manifest: true })),
    }
}

/// Coverage of one source file (`warden test --coverage`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileCoverage {
    /// The file's rules, in order.
    pub rules: Vec<RuleCoverage>,
    /// Statement executions by line.
    pub lines: BTreeMap<u32, u64>,
    /// Each side of each branch point: guards, `if` conditions, and `and`/`or`.
    pub branches: Vec<BranchCoverage>,
}

/// How often a rule ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleCoverage {
    pub line: u32,
    pub name: String,
    pub hits: u64,
}

/// How often one side of a branch point was taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BranchCoverage {
    pub line: u32,
    /// The branch point, numbered across the pipeline (lcov's block).
    pub block: usize,
    /// The side: 0 or 1.
    pub branch: usize,
    pub hits: u64,
    /// The side in words (`guard held`, `` `and` decided by its left side ``).
    pub what: String,
}

impl FileCoverage {
    fn covered<T>(items: &[T], hit: impl Fn(&T) -> bool) -> (usize, usize) {
        (items.iter().filter(|x| hit(x)).count(), items.len())
    }

    /// Rules that ran, of all.
    pub fn rules_covered(&self) -> (usize, usize) {
        FileCoverage::covered(&self.rules, |r| r.hits > 0)
    }

    /// Lines with statements that ran, of all lines with statements.
    pub fn lines_covered(&self) -> (usize, usize) {
        (self.lines.values().filter(|h| **h > 0).count(), self.lines.len())
    }

    /// Branch sides taken, of all.
    pub fn branches_covered(&self) -> (usize, usize) {
        FileCoverage::covered(&self.branches, |b| b.hits > 0)
    }
}

impl Pipeline {
    /// Coverage by source file path: what `coverage` (gathered by `run_covered`) says of each
    /// rule, statement line and branch of this pipeline. JavaScript rules are covered per
    /// rule (a rule is its file's one function, at line 1).
    pub fn coverage_by_file(&self, cov: &Coverage) -> BTreeMap<String, FileCoverage> {
        let prog = self.program();
        let mut files: BTreeMap<String, FileCoverage> = BTreeMap::new();
        let mut blocks: BTreeMap<(u32, String), usize> = BTreeMap::new();
        for (rule, point) in warden_interp::points(prog) {
            let r = &prog.rules[rule as usize];
            let path = prog.files.get(r.loc.file as usize).cloned().unwrap_or_default();
            let hits = cov.count(&point);
            let f = files.entry(path.clone()).or_default();
            match point {
                Point::Rule(_) => f.rules.push(RuleCoverage { line: r.loc.line, name: r.name.clone(), hits }),
                Point::Stmt(loc) => *f.lines.entry(loc.line).or_default() += hits,
                Point::Branch(loc, side) => {
                    let key = (loc.line, format!("b{}:{}", loc.line, loc.col));
                    let n = blocks.len();
                    let block = *blocks.entry(key).or_insert(n);
                    let what = branch_name(prog, loc, side);
                    f.branches.push(BranchCoverage { line: loc.line, block, branch: usize::from(!side), hits, what });
                }
                Point::Arm(e, right) => {
                    let loc = prog.expr(e).loc;
                    let key = (loc.line, format!("e{e}"));
                    let n = blocks.len();
                    let block = *blocks.entry(key).or_insert(n);
                    let op = if matches!(prog.expr(e).kind, ExprKind::And(..)) { "and" } else { "or" };
                    let side = if right { "right" } else { "left" };
                    let what = format!("`{op}` decided by its {side} side");
                    f.branches.push(BranchCoverage { line: loc.line, block, branch: usize::from(right), hits, what });
                }
            }
        }
        for (j, rule) in prog.js_rules.iter().enumerate() {
            let path = prog.files.get(rule.file as usize).cloned().unwrap_or_default();
            let hits = cov.js.get(&(j as u32)).copied().unwrap_or(0);
            let f = files.entry(path).or_default();
            f.rules.push(RuleCoverage { line: 1, name: rule.name.clone(), hits });
            *f.lines.entry(1).or_default() += hits;
        }
        files
    }
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
