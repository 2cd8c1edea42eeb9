//! The engine's API for editors (`warden::Analysis`): diagnostics with unsaved buffers,
//! hover, completions, definitions and symbols, on projects written to disk.

use std::path::{Path, PathBuf};

use warden::{Analysis, CompletionKind, Overlays, Span, codes};

struct Project {
    dir: PathBuf,
}

impl Project {
    fn new(name: &str, manifest: &str, files: &[(&str, &str)]) -> Project {
        let dir = std::env::temp_dir().join(format!("warden-analysis-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("rules/deep")).expect("dir");
        std::fs::write(dir.join("warden.toml"), manifest).expect("manifest");
        for (rel, text) in files {
            std::fs::write(dir.join(rel), text).expect("file");
        }
        Project { dir }
    }
    fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const MANIFEST: &str = r#"[pipeline]
rules = ["rules/a.rule", "rules/b.rule"]

[configuration]
MAX = { value = "3", type = "int" }
SECRET = { env = "WARDEN_ANALYSIS_SECRET", type = "list<string>" }

[schema."user.app_metadata"]
plan = "string"
billing = { seats = "int" }
"#;

const A: &str = r#"rule "a" {
    let plan = user.app_metadata.plan
    let req = context.request
    deny if plan in list("plans.txt")
    deny if any m in context.authentication.methods: m.name == "mfa"
    deny if user.logins_count > config.MAX
}
"#;

const B: &str = "rule \"b\" {\n    log \"b\"\n}\n\nrule \"c\" {\n    log \"c\"\n}\n";

fn project(name: &str) -> Project {
    Project::new(name, MANIFEST, &[("rules/a.rule", A), ("rules/b.rule", B), ("rules/plans.txt", "free\n")])
}

/// The byte offset of the `n`th (from 0) occurrence of `needle` in `text`, plus `plus`.
fn offset(text: &str, needle: &str, n: usize, plus: usize) -> usize {
    text.match_indices(needle).nth(n).map(|(i, _)| i + plus).expect("needle in text")
}

#[test]
fn finds_the_manifest_upward_and_checks_the_project() {
    let p = project("find");
    assert_eq!(warden::find_manifest(&p.path("rules/deep/x.rule")), Some(p.path("warden.toml")));
    assert_eq!(warden::find_manifest(&p.path("warden.toml")), Some(p.path("warden.toml")));
    let a = Analysis::of_file(&p.path("rules/a.rule"), &Overlays::default());
    assert_eq!(a.root(), p.path("warden.toml"));
    assert_eq!(a.files(), [p.path("warden.toml"), p.path("rules/a.rule"), p.path("rules/b.rule")]);
    assert!(a.diagnostics().iter().all(|f| f.diagnostics.is_empty()), "{:?}", a.diagnostics());
    // A rule file the manifest does not list is checked alone.
    std::fs::write(p.path("rules/deep/x.rule"), "rule \"x\" { deny if config.ANY == \"1\" }\n").expect("write");
    let x = Analysis::of_file(&p.path("rules/deep/x.rule"), &Overlays::default());
    assert_eq!(x.root(), p.path("rules/deep/x.rule"));
    assert!(x.diagnostics().iter().all(|f| f.diagnostics.is_empty()));
}

#[test]
fn unsaved_buffers_are_checked_instead_of_files() {
    let p = project("overlay");
    let mut o = Overlays::default();
    o.set(
        &p.path("rules/b.rule"),
        "rule \"b\" {\n    deny unless user.emial_verified\n    log user[\"nmae\"]\n}\n".into(),
    );
    let a = Analysis::of_file(&p.path("rules/b.rule"), &o);
    let b = a.diagnostics().into_iter().find(|f| f.path == p.path("rules/b.rule")).expect("b's diagnostics");
    let found: Vec<(&str, Option<&str>)> = b.diagnostics.iter().map(|d| (d.code, d.suggestion.as_deref())).collect();
    // The did-you-mean replaces the span: a string key keeps its quotes.
    assert_eq!(found, [(codes::E0100, Some("email_verified")), (codes::E0100, Some("\"name\""))]);
    assert_eq!(b.diagnostics[0].span, Some(Span::new(32, 46)));
    // The manifest's buffer too: a key removed from `[configuration]` makes its reads errors,
    // with a did-you-mean for a close name.
    o.set(&p.path("warden.toml"), MANIFEST.replace("MAX = ", "MAXI = "));
    let a = Analysis::of_file(&p.path("rules/a.rule"), &o);
    let d = &a.diagnostics()[1].diagnostics;
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!((d[0].code, d[0].suggestion.as_deref()), (codes::E0110, Some("MAXI")));
    // A list file's buffer: an entry that is not a network.
    let mut o = Overlays::default();
    o.set(
        &p.path("rules/b.rule"),
        "rule \"b\" {\n    deny if ip_in(context.request.ip, list(\"nets.txt\"))\n}\n".into(),
    );
    o.set(&p.path("rules/nets.txt"), "10.0.0.0/8\nnot a network\n".into());
    let a = Analysis::of_file(&p.path("rules/b.rule"), &o);
    let codes: Vec<&str> = a.diagnostics().iter().flat_map(|f| f.diagnostics.iter().map(|d| d.code)).collect();
    assert_eq!(codes, [codes::E0115]);
    o.remove(&p.path("rules/nets.txt"));
    let a = Analysis::of_file(&p.path("rules/b.rule"), &o);
    let codes: Vec<&str> = a.diagnostics().iter().flat_map(|f| f.diagnostics.iter().map(|d| d.code)).collect();
    assert_eq!(codes, [codes::E0113]);
}

#[test]
fn hover_knows_paths_declarations_locals_builtins_and_config() {
    let p = project("hover");
    let a = Analysis::of_file(&p.path("rules/a.rule"), &Overlays::default());
    let f = p.path("rules/a.rule");
    let h = a.hover(&f, offset(A, "app_metadata.plan", 0, 14)).expect("a declared path");
    assert_eq!(h.code, "user.app_metadata.plan: string");
    assert!(h.doc.contains("writable with `set`"), "{}", h.doc);
    let h = a.hover(&f, offset(A, "app_metadata", 0, 2)).expect("the whole path");
    assert_eq!(h.code, "user.app_metadata.plan: string");
    let h = a.hover(&f, offset(A, "context.request", 0, 3)).expect("an object");
    assert_eq!(h.code, "context.request: object");
    assert!(h.doc.contains("`ip`") && h.doc.contains("read-only"), "{}", h.doc);
    assert!(h.doc.starts_with("the HTTP request that started the login"), "{}", h.doc);
    let h = a.hover(&f, offset(A, "plan in", 0, 1)).expect("a let");
    assert_eq!(h.code, "let plan: string");
    assert_eq!(h.span, Span::new(offset(A, "plan in", 0, 0), offset(A, "plan in", 0, 4)));
    let h = a.hover(&f, offset(A, "m.name", 0, 0)).expect("a quantifier's variable");
    assert_eq!(h.code, "m: object");
    let h = a.hover(&f, offset(A, "m.name", 0, 3)).expect("its field");
    assert_eq!(h.code, "m.name: string");
    let h = a.hover(&f, offset(A, "list(", 0, 7)).expect("a list file");
    assert!(h.doc.contains("plans.txt"), "{}", h.doc);
    let h = a.hover(&f, offset(A, "config.MAX", 0, 8)).expect("a config key");
    assert_eq!(h.code, "config.MAX: int");
    assert!(h.doc.contains("MAX = { value = \"3\", type = \"int\" }"), "{}", h.doc);
    assert_eq!(a.hover(&f, 0), None);
    assert_eq!(a.hover(Path::new("/nowhere.rule"), 3), None);
    // A builtin: its signature and example.
    let mut o = Overlays::default();
    o.set(&f, "rule \"a\" {\n    log lower(config.SECRET[0])\n}\n".into());
    let a = Analysis::of_file(&f, &o);
    let text = a.text(&f).expect("checked").to_string();
    let h = a.hover(&f, offset(&text, "lower", 0, 1)).expect("a builtin");
    assert_eq!(h.code, "lower(text) -> string");
    assert!(h.doc.contains("example: `lower("), "{}", h.doc);
    // An environment-backed key: the variable's name, never its value.
    let h = a.hover(&f, offset(&text, "SECRET", 0, 1)).expect("a config key");
    assert!(h.doc.contains("SECRET = { env = \"WARDEN_ANALYSIS_SECRET\", type = \"list<string>\" }"), "{}", h.doc);
}

#[test]
fn completions_follow_the_text_before_the_cursor() {
    let p = project("complete");
    let f = p.path("rules/a.rule");
    let at = |text: &str, needle: &str| {
        let mut o = Overlays::default();
        o.set(&f, text.to_string());
        let a = Analysis::of_file(&f, &o);
        a.completions(&f, offset(text, needle, 0, needle.len()))
    };
    let labels = |c: &[warden::Completion]| c.iter().map(|c| c.label.clone()).collect::<Vec<_>>();
    // The manifest's declared shapes.
    let c = at("rule \"a\" {\n    deny if user.app_metadata.\n}\n", "app_metadata.");
    assert_eq!(labels(&c), ["billing", "plan"]);
    assert_eq!((c[1].kind, c[1].detail.as_str()), (CompletionKind::Field, "string"));
    let c = at("rule \"a\" {\n    deny if user.app_metadata.billing.se\n}\n", "billing.");
    assert_eq!(labels(&c), ["seats"]);
    // The fields of a let bound to an object (the rule parses up to there in a previous
    // version: here the let is in a rule that parses, the cursor in another).
    let text = "rule \"a\" {\n    let req = context.request\n    log req.ip\n}\nrule \"b\" {\n    log 1\n}\n";
    let mut o = Overlays::default();
    o.set(&f, text.to_string());
    let a = Analysis::of_file(&f, &o);
    let c = a.completions(&f, offset(text, "req.", 0, 4));
    assert!(labels(&c).contains(&"geoip".to_string()), "{:?}", labels(&c));
    // Keys after `config.`, with their declarations.
    let c = at("rule \"a\" {\n    deny if config.\n}\n", "config.");
    assert_eq!(labels(&c), ["MAX", "SECRET"]);
    assert_eq!(c[0].kind, CompletionKind::ConfigKey);
    assert!(c[1].doc.contains("env = \"WARDEN_ANALYSIS_SECRET\""), "{}", c[1].doc);
    // Files in `list("`.
    std::fs::write(p.path("rules/deep/more.txt"), "x\n").expect("write");
    let c = at("rule \"a\" {\n    deny if user.email in list(\"\n}\n", "list(\"");
    assert_eq!(labels(&c), ["deep/more.txt", "plans.txt"]);
    // Names: lets of the rule so far, roots, builtins, keywords.
    let c = at("rule \"a\" {\n    let first = 1\n    deny if f\n}\n", "deny if f");
    let l = labels(&c);
    for want in ["first", "user", "context", "config", "email_domain", "lower", "deny", "when", "not", "true"] {
        assert!(l.contains(&want.to_string()), "{want} in {l:?}");
    }
    // Nothing after a dot of a scalar or an unknown name.
    assert!(at("rule \"a\" {\n    deny if user.email.\n}\n", "email.").is_empty());
    assert!(at("rule \"a\" {\n    deny if nothing.\n}\n", "nothing.").is_empty());
}

#[test]
fn definitions_and_symbols() {
    let p = project("def");
    let a = Analysis::of_file(&p.path("rules/a.rule"), &Overlays::default());
    let f = p.path("rules/a.rule");
    let d = a.definition(&f, offset(A, "plan in", 0, 2)).expect("a let");
    assert_eq!(d.path, f);
    assert_eq!(d.span, Span::new(offset(A, "plan =", 0, 0), offset(A, "plan =", 0, 4)));
    let d = a.definition(&f, offset(A, "m.name", 0, 0)).expect("a quantifier's variable");
    assert_eq!(d.span.start as usize, offset(A, "m in", 0, 0));
    let d = a.definition(&f, offset(A, "plans.txt", 0, 2)).expect("a list file");
    assert_eq!(d.path, p.path("rules/plans.txt"));
    let d = a.definition(&f, offset(A, "config.MAX", 0, 8)).expect("a config key");
    assert_eq!(d.path, p.path("warden.toml"));
    assert_eq!(&MANIFEST[d.span.start as usize..d.span.end as usize], "\"3\"");
    let m = p.path("warden.toml");
    let d = a.definition(&m, offset(MANIFEST, "rules/b.rule", 0, 3)).expect("a manifest entry");
    assert_eq!(d.path, p.path("rules/b.rule"));
    assert_eq!(a.definition(&f, 0), None);
    let s = a.symbols(&p.path("rules/b.rule"));
    let names: Vec<&str> = s.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["b", "c"]);
    assert_eq!(&B[s[1].name_span.start as usize..s[1].name_span.end as usize], "\"c\"");
    assert!(B[s[1].span.start as usize..s[1].span.end as usize].starts_with("rule \"c\""));
}

#[test]
fn kept_parses_follow_the_text_and_the_file_order() {
    let p = project("cache");
    let o = Overlays::caching();
    let count = |o: &Overlays| {
        let a = Analysis::of_file(&p.path("rules/b.rule"), o);
        a.diagnostics().iter().map(|f| f.diagnostics.len()).sum::<usize>()
    };
    assert_eq!(count(&o), 0);
    assert_eq!(count(&o), 0);
    // The file changes on disk: parsed again.
    std::fs::write(p.path("rules/b.rule"), "rule \"b\" {\n    log (\n}\n").expect("write");
    assert_eq!(count(&o), 1);
    // A file comes before it in the manifest: its file id changes, and so do its diagnostics'.
    std::fs::write(p.path("rules/z.rule"), "rule \"z\" {\n    log 1\n}\n").expect("write");
    std::fs::write(p.path("warden.toml"), MANIFEST.replace("rules = [", "rules = [\"rules/z.rule\", ")).expect("write");
    let a = Analysis::of_file(&p.path("rules/b.rule"), &o);
    let b = a.diagnostics().into_iter().find(|f| f.path == p.path("rules/b.rule")).expect("b");
    assert_eq!(b.diagnostics.len(), 1);
    assert_eq!(a.path_of(b.diagnostics[0].file.expect("a file")), Some(p.path("rules/b.rule").as_path()));
}
