//! `warden migrate import | translate | verify` (docs/migrating.md): the command line over
//! the `warden-migrate` crate.

use std::path::PathBuf;

use clap::Subcommand;
use warden_migrate::project::{self, DEFAULT_LOGINS, DEFAULT_SEED, FileReport, ProofOptions};
use warden_migrate::prove::Verdict;

use crate::{EXIT_ERROR, EXIT_USAGE, Output};

#[derive(Subcommand, Debug)]
pub enum MigrateCommand {
    /// Turn an Auth0 export (Deploy CLI directory or YAML format, or a folder of .js rules)
    /// into a warden project that runs the rules as they are
    Import {
        /// The export's directory
        dir: PathBuf,
        /// Where to write the project (must not exist or be empty) [default: DIR/warden]
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Translate legacy JavaScript rules to .rule files, each proven equal to its JavaScript on
    /// generated logins before it is written; what cannot be translated faithfully stays
    /// JavaScript, with the reasons (exit 0: all translated, 1: some kept)
    Translate {
        /// JavaScript rule files
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Replace each proven rule's step in warden.toml by its .rule (the .js stays)
        #[arg(long)]
        write: bool,
        /// Where to write the .rule (one file only) [default: rules/NAME.rule in the project]
        #[arg(long, value_name = "PATH")]
        out: Option<PathBuf>,
        #[command(flatten)]
        proof: ProofArgs,
    },
    /// Rerun the proof that a .rule does what its JavaScript rule does (exit 0 equal, 1 not)
    Verify {
        /// The JavaScript rule
        js: PathBuf,
        /// Its translation
        rule: PathBuf,
        #[command(flatten)]
        proof: ProofArgs,
    },
}

#[derive(clap::Args, Debug)]
pub struct ProofArgs {
    /// Generated logins per rule (at least 1)
    #[arg(long, value_name = "N", default_value_t = DEFAULT_LOGINS as u64, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub logins: u64,
    /// The seed of the generated logins (a proof is reproducible from it)
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SEED)]
    pub seed: u64,
}

pub fn command(cmd: MigrateCommand, out: &mut Output) -> u8 {
    // The rules are the team's own: their proof runs them in this process, which is faster
    // than a worker per rule (the sandbox's limits apply alike).
    warden::set_js_isolation(None);
    match cmd {
        MigrateCommand::Import { dir, out: to } => import(&dir, to, out),
        MigrateCommand::Translate { files, write, out: to, proof } => {
            if to.is_some() && files.len() > 1 {
                out.stderr = "error: --out takes one file to translate\n".into();
                return EXIT_USAGE;
            }
            let opts = ProofOptions { logins: proof.logins as usize, seed: proof.seed };
            let mut code = 0;
            for f in &files {
                match project::translate_file(f, to.as_deref(), write, &opts) {
                    Ok(r) => {
                        out.stdout.push_str(&describe(&r, &opts));
                        if !r.proven() {
                            code = EXIT_ERROR;
                        }
                    }
                    Err(e) => {
                        out.stderr.push_str(&format!("error: {e}\n"));
                        code = EXIT_ERROR;
                    }
                }
            }
            code
        }
        MigrateCommand::Verify { js, rule, proof } => {
            let opts = ProofOptions { logins: proof.logins as usize, seed: proof.seed };
            match project::verify_files(&js, &rule, &opts) {
                Ok((_, verdict)) => {
                    let (equal, text) = verdict_text(&verdict, &opts);
                    out.stdout = format!("{} and {}: {text}", js.display(), rule.display());
                    if equal { 0 } else { EXIT_ERROR }
                }
                Err(e) => {
                    out.stderr = format!("error: {e}\n");
                    EXIT_ERROR
                }
            }
        }
    }
}

fn import(dir: &std::path::Path, to: Option<PathBuf>, out: &mut Output) -> u8 {
    let to = to.unwrap_or_else(|| dir.join("warden"));
    match project::import(dir, &to) {
        Ok(i) => {
            let mut s =
                format!("imported {} rules ({}) into {}\n", i.enabled.len() + i.disabled.len(), i.format, to.display());
            s.push_str(&format!("  pipeline, in Auth0's order: {}\n", i.enabled.join(", ")));
            if !i.disabled.is_empty() {
                s.push_str(&format!("  disabled in Auth0 (listed, commented out): {}\n", i.disabled.join(", ")));
            }
            if !i.config_keys.is_empty() {
                let keys: Vec<&str> = i.config_keys.iter().map(String::as_str).collect();
                s.push_str(&format!(
                    "  configuration, read from environment variables of the same names: {}\n",
                    keys.join(", ")
                ));
            }
            for (p, rules) in &i.packages {
                s.push_str(&format!(
                    "  npm package {p} (required by {}): run `npm install` in the project\n",
                    rules.join(", ")
                ));
            }
            if !i.network.is_empty() {
                let verb = if i.network.len() == 1 { "calls" } else { "call" };
                s.push_str(&format!(
                    "  {} {verb} web APIs: list the origins they may reach under [http] in warden.toml\n",
                    i.network.join(", ")
                ));
            }
            s.push_str(&format!(
                "next: cd {} && warden check, then write tests (docs/migrating.md) and `warden migrate translate legacy/*.js`\n",
                to.display()
            ));
            out.stdout = s;
            0
        }
        Err(e) => {
            out.stderr = format!("error: {e}\n");
            EXIT_ERROR
        }
    }
}

/// A path as the user named things: relative to the working directory when under it.
fn shown(p: &std::path::Path) -> String {
    match std::env::current_dir().ok().and_then(|cwd| p.strip_prefix(cwd).ok().map(|r| r.display().to_string())) {
        Some(r) if !r.is_empty() => r,
        _ => p.display().to_string(),
    }
}

fn verdict_text(v: &Verdict, opts: &ProofOptions) -> (bool, String) {
    match v {
        Verdict::Equal(t) => (true, format!("equal on {t} (seed {})\n", opts.seed)),
        Verdict::Differ { count, of, login, js, rule, why } => (
            false,
            format!(
                "not equal: {count} of {of} logins disagree (seed {}); the smallest found:\n    user:    {}\n    context: {}\n    now:     {}\n  {why}\n    javascript: {}\n    .rule:      {}\n",
                opts.seed, login.user, login.context, login.now, js, rule
            ),
        ),
    }
}

fn describe(r: &FileReport, opts: &ProofOptions) -> String {
    let js = r.js.display();
    let t = &r.translation;
    if t.rule.is_none() {
        let mut s = format!(
            "{js}: kept as JavaScript; {} reason{}:\n",
            t.refusals.len(),
            if t.refusals.len() == 1 { "" } else { "s" }
        );
        for why in &t.refusals {
            s.push_str(&format!("  line {}: {}\n", why.line, why.why));
        }
        return s;
    }
    match &r.verdict {
        Some(Ok(v @ Verdict::Equal(_))) => {
            let (_, text) = verdict_text(v, opts);
            let mut s = format!("{js}: translated to {}, {text}", r.written.as_deref().map(shown).unwrap_or_default());
            if let Some(m) = &r.replaced_in {
                s.push_str(&format!("  {} now runs the .rule in its place (the .js stays for reference)\n", shown(m)));
            }
            if let Some(m) = &r.not_in_pipeline {
                s.push_str(&format!(
                    "  {} does not run {} (a disabled rule?): left as it was; add the .rule to the pipeline when you enable it\n",
                    shown(m),
                    r.js.display()
                ));
            }
            s
        }
        Some(Ok(v)) => {
            let (_, text) = verdict_text(v, opts);
            format!("{js}: kept as JavaScript; the translation is {text}")
        }
        Some(Err(e)) => format!("{js}: kept as JavaScript; {e}\n"),
        None => format!("{js}: kept as JavaScript\n"),
    }
}
