//! Differential testing: generated well-typed pipelines (`warden_tests::generate`: the whole
//! `.rule` language, list files, several files, both claim modes, JavaScript steps between
//! `.rule` steps) run on generated logins (several `now` values, a few input errors) through
//! the interpreter and the JIT, which must give the same outcome, compared whole (every field
//! of `Outcome`, denials included, byte for byte as JSON) or the same input error.
//!
//! The run prints and asserts what it covered: the split of outcomes between allow, deny,
//! rule error and input error (a minimum share of each), how often each kind of effect
//! appeared, and the programs that did not check, by diagnostic code (under 5%).
//!
//! `WARDEN_DIFF_PROGRAMS` sets how many programs (default 2,400, each run on 5 logins: at
//! least 10,000 cases, asserted); `WARDEN_DIFF_SEED` fixes the seed (else a random one,
//! printed). A million cases:
//! `WARDEN_DIFF_PROGRAMS=200000 cargo test --release -p warden-tests --test differential -- --nocapture`.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value as Json;
use warden::{Backend, Cause, Exec, LoadError, Outcome, Pipeline};
use warden_tests::generate::{self, Gen, LIST_FILES, Login, Program};
use warden_tests::whole;

const INPUTS_PER_PROGRAM: usize = 5;

/// What the run covered.
#[derive(Debug, Default)]
struct Tally {
    generated: usize,
    /// Programs that did not check, by the code of each error they had.
    discarded: BTreeMap<String, usize>,
    discarded_programs: usize,
    /// The first discarded program of each code, to show.
    discard_examples: BTreeMap<String, String>,
    with_js: usize,
    allow: usize,
    deny: usize,
    rule_error: usize,
    input_error: usize,
    /// How many outcomes showed each feature.
    features: BTreeMap<&'static str, usize>,
    /// Rule errors by description (numbers and quoted values left out).
    rule_errors: BTreeMap<String, usize>,
}

impl Tally {
    fn cases(&self) -> usize {
        self.allow + self.deny + self.rule_error + self.input_error
    }

    fn programs(&self) -> usize {
        self.generated - self.discarded_programs
    }

    fn count(&mut self, login: &Login, result: &Result<Outcome, warden::InputError>) {
        let Ok(o) = result else {
            self.input_error += 1;
            return;
        };
        let mut seen = |f: &'static str, yes: bool| {
            if yes {
                *self.features.entry(f).or_default() += 1;
            }
        };
        let allowed = o.is_allow();
        seen("allow with ID token claims", allowed && !o.id_token.is_empty());
        seen("allow with access token claims", allowed && !o.access_token.is_empty());
        seen("allow with scopes", allowed && o.scope.is_some());
        seen("allow with MFA", allowed && o.multifactor.is_some());
        seen("allow with a redirect", allowed && o.redirect.is_some());
        seen("allow with a changed user", allowed && *o.user != login.user);
        seen("effects", !o.effects.is_empty());
        seen("effects on a denial", !allowed && !o.effects.is_empty());
        seen("claims dropped by the claim mode", o.logs.iter().any(|l| l.message.contains("dropped from")));
        seen("logs", !o.logs.is_empty());
        let error = o.error.as_ref();
        seen("interaction_required", error.is_some_and(|e| e.code == "interaction_required"));
        seen("denied by JavaScript", error.is_some_and(|e| e.rule.starts_with('j') && e.cause == Cause::Denied));
        seen("rule error in JavaScript", error.is_some_and(|e| e.rule.starts_with('j') && e.cause == Cause::RuleError));
        match error.map(|e| e.cause) {
            None => self.allow += 1,
            Some(Cause::Denied) => self.deny += 1,
            Some(_) => {
                self.rule_error += 1;
                let text = error.map(|e| e.description.as_str()).unwrap_or_default();
                let kind: String = text.split(['`', '"', '\'']).step_by(2).collect::<Vec<_>>().join("_");
                let kind: String = kind.chars().filter(|c| !c.is_ascii_digit()).take(70).collect();
                *self.rule_errors.entry(kind).or_default() += 1;
            }
        }
    }
}

/// Loads a generated program (its files under `dir`, where the list files are).
fn load(dir: &Path, program: &Program) -> Result<Pipeline, LoadError> {
    let files: Vec<(String, String)> =
        program.files.iter().map(|(name, text)| (dir.join(name).display().to_string(), text.clone())).collect();
    let options = warden_ir::Options { claim_mode: program.claim_mode, ..Default::default() };
    let mut pipeline = Pipeline::from_sources(&files, options)?;
    for (k, v) in &program.config {
        pipeline.set_config(k, v).expect("keys without a declared type take any value");
    }
    Ok(pipeline)
}

/// Both backends' outcomes of one login, shown whole (or the input error).
fn both(pipeline: &Pipeline, login: &Login) -> (Result<Outcome, warden::InputError>, String, String) {
    let run = |b: Backend| pipeline.execute(&login.user, &login.context, &Exec::at(login.now).on(b));
    let show = |r: &Result<Outcome, warden::InputError>| match r {
        Ok(o) => whole(o).to_string(),
        Err(e) => format!("input error: {e}"),
    };
    let (interp, jit) = (run(Backend::Interp), run(Backend::Jit));
    let (a, b) = (show(&interp), show(&jit));
    (interp, a, b)
}

/// Whether the program loads and the backends disagree on the login.
fn disagrees(dir: &Path, program: &Program, login: &Login) -> bool {
    load(dir, program).is_ok_and(|p| {
        let (_, a, b) = both(&p, login);
        a != b
    })
}

/// Makes a failing case smaller while the backends still disagree: drops files, then lines
/// (a line whose removal leaves the program unchecked is kept), then fields of the login.
fn minimize(dir: &Path, mut program: Program, mut login: Login) -> (Program, Login) {
    let mut changed = true;
    while changed {
        changed = false;
        let mut f = 0;
        while f < program.files.len() && program.files.len() > 1 {
            let mut smaller = program.clone();
            smaller.files.remove(f);
            if disagrees(dir, &smaller, &login) {
                (program, changed) = (smaller, true);
            } else {
                f += 1;
            }
        }
        for f in 0..program.files.len() {
            let mut line = 0;
            while line < program.files[f].1.lines().count() {
                let mut smaller = program.clone();
                let lines: Vec<&str> = program.files[f].1.lines().collect();
                smaller.files[f].1 =
                    lines.iter().enumerate().filter(|(i, _)| *i != line).map(|(_, l)| format!("{l}\n")).collect();
                if disagrees(dir, &smaller, &login) {
                    (program, changed) = (smaller, true);
                } else {
                    line += 1;
                }
            }
        }
    }
    for which in [0, 1] {
        let mut paths = Vec::new();
        let root = if which == 0 { &login.user } else { &login.context };
        collect_paths(root, &mut Vec::new(), &mut paths);
        for path in paths.into_iter().rev() {
            let mut smaller = login.clone();
            let root = if which == 0 { &mut smaller.user } else { &mut smaller.context };
            if remove_path(root, &path) && disagrees(dir, &program, &smaller) {
                login = smaller;
            }
        }
    }
    (program, login)
}

/// Every object key path under `v`, parents before children.
fn collect_paths(v: &Json, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    if let Json::Object(m) = v {
        for (k, child) in m {
            at.push(k.clone());
            out.push(at.clone());
            collect_paths(child, at, out);
            at.pop();
        }
    }
}

fn remove_path(v: &mut Json, path: &[String]) -> bool {
    let Some((last, parents)) = path.split_last() else { return false };
    let mut at = v;
    for p in parents {
        match at.get_mut(p) {
            Some(next) => at = next,
            None => return false,
        }
    }
    at.as_object_mut().is_some_and(|m| m.shift_remove(last).is_some())
}

/// Runs one generated program on its logins; `Err` describes a disagreement (minimized).
fn run_program(dir: &Path, program: &Program, logins: &[Login], tally: &mut Tally) -> Result<(), String> {
    tally.generated += 1;
    let pipeline = match load(dir, program) {
        Ok(p) => p,
        Err(e) => {
            let codes: Vec<String> = match &e {
                LoadError::Check(c) => {
                    c.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.code.to_string()).collect()
                }
                other => vec![format!("load: {other}")],
            };
            tally.discarded_programs += 1;
            for code in codes.into_iter().collect::<std::collections::BTreeSet<_>>() {
                *tally.discarded.entry(code.clone()).or_default() += 1;
                tally.discard_examples.entry(code).or_insert_with(|| format!("{e}\n{program}"));
            }
            return Ok(());
        }
    };
    if let Some(why) = pipeline.jit_unavailable() {
        return Err(format!("the JIT did not compile, so only the interpreter ran: {why}\n{program}"));
    }
    tally.with_js += usize::from(program.has_js());
    for login in logins {
        let (interp, a, b) = both(&pipeline, login);
        if a != b {
            let (program, login) = minimize(dir, program.clone(), login.clone());
            let (a, b) = load(dir, &program)
                .map(|p| {
                    let (_, a, b) = both(&p, &login);
                    (a, b)
                })
                .unwrap_or((a, b));
            return Err(format!(
                "interpreter and JIT disagree (minimized)\nprogram:\n{program}\nuser: {}\ncontext: {}\nnow: {}\ninterp: {a}\njit:    {b}",
                login.user, login.context, login.now
            ));
        }
        tally.count(login, &interp);
    }
    Ok(())
}

fn percent(n: usize, of: usize) -> f64 {
    100.0 * n as f64 / of.max(1) as f64
}

#[test]
fn jit_agrees_with_the_interpreter_on_generated_programs() {
    let configured: Option<u64> = std::env::var("WARDEN_DIFF_PROGRAMS").ok().and_then(|v| v.parse().ok());
    let programs = configured.unwrap_or(2400);
    let seed: u64 = std::env::var("WARDEN_DIFF_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        nanos as u64 ^ u64::from(std::process::id())
    });
    println!("differential: {programs} programs, seed {seed} (rerun with WARDEN_DIFF_SEED={seed})");
    let dir = std::env::temp_dir().join(format!("warden-differential-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    for (name, text) in LIST_FILES {
        std::fs::write(dir.join(name), text).expect("list file");
    }
    let mut tally = Tally::default();
    let mut failure = None;
    for i in 0..programs {
        // Each program from its own seed, so that a failure names the one to rerun.
        let mut g = Gen::for_case(seed, i);
        let program = generate::program(&mut g);
        let logins: Vec<Login> = (0..INPUTS_PER_PROGRAM).map(|_| generate::login(&mut g)).collect();
        if let Err(e) = run_program(&dir, &program, &logins, &mut tally) {
            failure = Some(format!("program {i} of seed {seed} (WARDEN_DIFF_SEED={seed}): {e}"));
            break;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failure.is_none(), "{}", failure.unwrap_or_default());
    let t = tally;
    let cases = t.cases();
    println!(
        "{cases} cases passed ({} programs that checked, {INPUTS_PER_PROGRAM} logins each; {} with JavaScript steps)",
        t.programs(),
        t.with_js
    );
    println!(
        "outcomes: allow {} ({:.1}%), deny {} ({:.1}%), rule error {} ({:.1}%), input error {} ({:.1}%)",
        t.allow,
        percent(t.allow, cases),
        t.deny,
        percent(t.deny, cases),
        t.rule_error,
        percent(t.rule_error, cases),
        t.input_error,
        percent(t.input_error, cases)
    );
    for (feature, n) in &t.features {
        println!("  {feature}: {n} ({:.1}%)", percent(*n, cases));
    }
    let mut errors: Vec<(&String, &usize)> = t.rule_errors.iter().collect();
    errors.sort_by(|a, b| b.1.cmp(a.1));
    println!("most common rule errors:");
    for (kind, n) in errors.iter().take(12) {
        println!("  {n:5} {kind}");
    }
    let codes: Vec<String> = t.discarded.iter().map(|(code, n)| format!("{code} x{n}")).collect();
    println!(
        "discarded {} of {} generated programs ({:.2}%): {}",
        t.discarded_programs,
        t.generated,
        percent(t.discarded_programs, t.generated),
        if codes.is_empty() { "none".to_string() } else { codes.join(", ") }
    );
    // Generated programs are well typed by construction: discards are rare, and each code is
    // shown with an example so that the generator can be fixed.
    let examples: Vec<String> = t.discard_examples.values().cloned().collect();
    assert!(
        t.discarded_programs * 20 < t.generated,
        "{} of {} generated programs did not check; first of each code:\n{}",
        t.discarded_programs,
        t.generated,
        examples.join("\n\n")
    );
    // Every kind of outcome is common enough to say something about the backends.
    for (what, n, min_percent) in [
        ("allow", t.allow, 25),
        ("deny", t.deny, 10),
        ("rule error", t.rule_error, 10),
        ("input error", t.input_error, 1),
    ] {
        assert!(n * 100 >= cases * min_percent, "{what}: {n} of {cases} outcomes, under {min_percent}%");
    }
    assert!(t.with_js * 5 >= t.programs(), "JavaScript steps in {} of {} programs", t.with_js, t.programs());
    for (feature, n) in &t.features {
        assert!(n * 200 >= cases, "{feature}: {n} of {cases} outcomes, under 0.5%");
    }
    assert_eq!(t.features.len(), 13, "every feature was seen: {:?}", t.features.keys().collect::<Vec<_>>());
    if configured.is_none() {
        assert!(cases >= 10_000, "CI runs at least 10,000 differential cases, ran {cases}");
    }
}
