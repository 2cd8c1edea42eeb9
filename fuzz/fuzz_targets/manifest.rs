//! Any text as `warden.toml` (next to a rule file and a list file it may name): diagnostics
//! or a pipeline, never a panic, an abort or a read that does not end. The seed corpus
//! (`fuzz/corpus/manifest`) holds the examples' manifests; `fuzz/manifest.dict` the keys and
//! types a manifest uses.
#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

/// A directory of this process with what a manifest may name.
static DIR: LazyLock<PathBuf> = LazyLock::new(|| {
    let dir = std::env::temp_dir().join(format!("warden-fuzz-manifest-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("rules")).expect("temp dir");
    let rule = r#"rule "r" {
        deny if user.app_metadata.plan == "banned" or (config.LIMIT ?? "") == "0"
        deny if any r in (user.app_metadata.roles ?? []): r in list("../lists/blocked.txt")
        claim id_token "https://x/meta" = user.app_metadata
    }"#;
    std::fs::write(dir.join("rules/r.rule"), rule).expect("write");
    std::fs::write(dir.join("r.rule"), rule).expect("write");
    std::fs::create_dir_all(dir.join("lists")).expect("temp dir");
    std::fs::write(dir.join("lists/blocked.txt"), "root\nguest\n").expect("write");
    std::fs::write(dir.join("m.js"), "module.exports = 1;").expect("write");
    dir
});

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let manifest = DIR.join("warden.toml");
    if std::fs::write(&manifest, data).is_err() {
        return;
    }
    let c = warden_check::check_manifest(&manifest);
    assert_eq!(c.program.is_some(), !c.has_errors(), "a program exists exactly when there is no error");
    for d in &c.diagnostics {
        if let (Some(f), Some(s)) = (d.file, d.span) {
            assert!(s.start <= s.end && s.end as usize <= c.sources.get(f).text.len(), "span inside its file");
        }
    }
    // A pipeline that checks also loads and decides (a schema it declares shapes the input).
    if let Some(program) = &c.program {
        assert!(program.validate().is_ok());
        if program.js_rules.is_empty()
            && let Ok(p) = warden::Pipeline::from_manifest(&manifest)
        {
            let user = serde_json::json!({ "user_id": "auth0|1", "app_metadata": { "plan": "free", "roles": ["root"] } });
            let _ = p.execute(&user, &serde_json::json!({}), &warden::Exec::at(0));
        }
    }
});
