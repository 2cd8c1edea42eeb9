//! Ahead-of-time artifacts: same outcomes as sources, reproducible, signatures enforced by
//! the loader, and no mutation of a valid artifact makes the loader panic.

use std::collections::BTreeMap;

use proptest::prelude::*;
use warden::{Backend, Exec, LoadError, Pipeline};
use warden_tests::{examples, read_json as read, root, samples};

const NOW: &str = "2026-11-26T12:00:00Z";

fn no_config() -> BTreeMap<String, String> {
    BTreeMap::new()
}

#[test]
fn every_example_gives_the_same_outcomes_from_its_artifact() {
    let now = warden::parse_time(NOW).expect("time");
    for dir in examples() {
        let from_sources = Pipeline::from_manifest(dir.join("warden.toml")).expect("loads");
        let bytes = from_sources.to_artifact(None);
        let from_artifact = Pipeline::from_artifact(&bytes, None, &no_config()).expect("artifact loads");
        warden_tests::assert_jit(&from_artifact);
        for s in samples(&dir) {
            let expected = read(&s.join("expected.json"));
            for backend in [Backend::Interp, Backend::Jit] {
                let o = warden_tests::run_sample(&from_artifact, &s, &Exec::at(now).on(backend));
                assert_eq!(o.to_json(), expected, "{} from the artifact on {backend:?}", s.display());
            }
        }
    }
}

#[test]
fn building_twice_gives_identical_bytes() {
    for dir in examples() {
        let a = Pipeline::from_manifest(dir.join("warden.toml")).expect("loads").to_artifact(None);
        let b = Pipeline::from_manifest(dir.join("warden.toml")).expect("loads").to_artifact(None);
        assert_eq!(a, b, "{}", dir.display());
    }
}

#[test]
fn the_header_names_quickjs_only_for_pipelines_with_javascript() {
    for (example, quickjs) in [("mixed-legacy", true), ("quickstart", false)] {
        let bytes = Pipeline::from_manifest(root().join("examples").join(example).join("warden.toml"))
            .expect("loads")
            .to_artifact(None);
        let i = Pipeline::inspect_artifact(&bytes, None).expect("reads");
        let expected = quickjs.then(|| warden::quickjs_version().to_string());
        assert_eq!(i.quickjs_version, expected, "{example}");
    }
}

fn quickstart_bytes(sign: Option<&warden::SecretKey>) -> Vec<u8> {
    Pipeline::from_manifest(root().join("examples/quickstart/warden.toml")).expect("loads").to_artifact(sign)
}

fn refused(r: Result<Pipeline, LoadError>) -> String {
    let refusal = match &r {
        Err(LoadError::Refused(m)) => Some(m.to_string()),
        _ => None,
    };
    let got = |r: &Result<Pipeline, LoadError>| match r {
        Err(e) => format!("got {e}"),
        Ok(_) => "the artifact loaded".into(),
    };
    assert!(refusal.is_some(), "expected a refusal, {}", got(&r));
    refusal.unwrap_or_default()
}

#[test]
fn signatures_are_required_by_the_loader_not_the_artifact() {
    let key = warden_artifact::generate_key().expect("key");
    let other = warden_artifact::generate_key().expect("key");
    let signed = quickstart_bytes(Some(&key));
    let unsigned = quickstart_bytes(None);
    let cfg = no_config();
    // Valid signature with the right key.
    assert!(Pipeline::from_artifact(&signed, Some(&key.verifying_key()), &cfg).is_ok());
    // Without a key, signed and unsigned artifacts both load (integrity is still checked).
    assert!(Pipeline::from_artifact(&signed, None, &cfg).is_ok());
    assert!(Pipeline::from_artifact(&unsigned, None, &cfg).is_ok());
    // With a key: unsigned, wrongly signed, and stripped signatures are refused.
    let m = refused(Pipeline::from_artifact(&unsigned, Some(&key.verifying_key()), &cfg));
    assert!(m.contains("unsigned, and a verification key is required"), "{m}");
    let m = refused(Pipeline::from_artifact(&signed, Some(&other.verifying_key()), &cfg));
    assert!(m.contains("signature does not match"), "{m}");
    // An attacker without the key may strip the signature and reseal: still refused.
    let body_end = signed.len() - 32 - 64 - 1 - 32;
    let reseal = |mut b: Vec<u8>, tag_and_sig: &[u8]| {
        use sha2::Digest;
        let hash: [u8; 32] = sha2::Sha256::digest(&b[..body_end]).into();
        b.truncate(body_end);
        b.extend_from_slice(&hash);
        b.extend_from_slice(tag_and_sig);
        let seal: [u8; 32] = sha2::Sha256::digest(&b[body_end..]).into();
        b.extend_from_slice(&seal);
        b
    };
    let stripped = reseal(signed.clone(), &[0]);
    assert!(Pipeline::from_artifact(&stripped, None, &cfg).is_ok(), "a resealed unsigned artifact is intact");
    let m = refused(Pipeline::from_artifact(&stripped, Some(&key.verifying_key()), &cfg));
    assert!(m.contains("unsigned"), "{m}");
    // Tampered after signing: the content hash no longer matches.
    let mut tampered = signed.clone();
    let at = tampered.len() / 2;
    tampered[at] ^= 0x20;
    let m = refused(Pipeline::from_artifact(&tampered, Some(&key.verifying_key()), &cfg));
    assert!(m.contains("hash mismatch"), "{m}");
    // Tampered, rehashed and resealed by an attacker without the key: the signature fails.
    let old_sig = signed[body_end + 32..body_end + 32 + 65].to_vec();
    let forged = reseal(tampered, &old_sig);
    let m = refused(Pipeline::from_artifact(&forged, Some(&key.verifying_key()), &cfg));
    assert!(m.contains("signature does not match"), "{m}");
    // A changed signature byte is caught even without a key.
    let mut sig_changed = signed.clone();
    sig_changed[body_end + 40] ^= 1;
    let m = refused(Pipeline::from_artifact(&sig_changed, None, &cfg));
    assert!(m.contains("seal mismatch"), "{m}");
}

#[test]
fn foreign_truncated_and_mismatched_files_are_refused_clearly() {
    let good = quickstart_bytes(None);
    let cfg = no_config();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"{\"not\": \"an artifact\"}".to_vec(), "not a warden artifact"),
        (good[..40].to_vec(), "truncated header"),
        (good[..good.len() - 10].to_vec(), "truncated"),
        ([good.clone(), vec![0]].concat(), "trailing bytes"),
        (
            {
                let mut b = good.clone();
                b[8] = 9;
                b
            },
            "format version 9",
        ),
        (
            {
                let mut b = good.clone();
                b[12] = 7;
                b
            },
            "IR version 7",
        ),
        (
            {
                let mut b = good.clone();
                b[16..32].copy_from_slice(b"9.9.9\0\0\0\0\0\0\0\0\0\0\0");
                b
            },
            "built by warden 9.9.9",
        ),
        (
            {
                let mut b = good.clone();
                b[48..56].copy_from_slice(&u64::MAX.to_le_bytes());
                b
            },
            "truncated",
        ),
    ];
    for (bytes, want) in cases {
        let m = refused(Pipeline::from_artifact(&bytes, None, &cfg));
        assert!(m.contains(want), "expected {want:?} in {m:?}");
    }
    // Configuration the artifact needs and nobody gives: a key the manifest takes from an
    // environment variable (a secret: never in the artifact) that is not set at load.
    let dir = std::env::temp_dir().join(format!("warden-artifact-env-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(
        dir.join("warden.toml"),
        "[pipeline]\nrules = [\"r.rule\"]\n[configuration]\nSHOWN = \"policy\"\nSECRET = { env = \"WARDEN_TEST_UNSET_SECRET_7\" }\n",
    )
    .expect("manifest");
    std::fs::write(dir.join("r.rule"), "rule \"r\" {\n    deny \"no\" if config.SECRET == config.SHOWN\n}\n")
        .expect("rule");
    let p = Pipeline::from_manifest(dir.join("warden.toml")).expect("loads");
    let bytes = p.to_artifact(None);
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("\"policy\""), "a literal value travels in the artifact");
    assert!(text.contains("WARDEN_TEST_UNSET_SECRET_7"), "the variable's name does");
    let m = refused(Pipeline::from_artifact(&bytes, None, &cfg));
    assert!(m.contains("needs configuration `SECRET` (environment variable `WARDEN_TEST_UNSET_SECRET_7`)"), "{m}");
    assert!(!m.contains("`SHOWN`"), "the literal value is in the artifact: {m}");
    let given: BTreeMap<String, String> = [("SECRET".to_string(), "s3cret".to_string())].into();
    let loaded = Pipeline::from_artifact(&bytes, None, &given).expect("loads with the secret given");
    assert_eq!(loaded.content_hash(), p.content_hash(), "a manifest and its artifact have one hash");
    assert!(!text.contains("s3cret"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The quickstart's artifact decides like its sources without any configuration given
/// again: its literal values are policy and travel in the artifact.
#[test]
fn literal_configuration_travels_in_the_artifact() {
    let bytes = quickstart_bytes(None);
    let from_artifact = Pipeline::from_artifact(&bytes, None, &no_config()).expect("needs no --config");
    let from_sources = Pipeline::from_manifest(root().join("examples/quickstart/warden.toml")).expect("loads");
    for sample in samples(&root().join("examples/quickstart")) {
        let (user, context) = (read(&sample.join("user.json")), read(&sample.join("context.json")));
        let a = from_artifact.execute(&user, &context, &Exec::at(1_764_158_400_000)).expect("valid");
        let b = from_sources.execute(&user, &context, &Exec::at(1_764_158_400_000)).expect("valid");
        assert_eq!(a.to_json(), b.to_json(), "{}", sample.display());
    }
    // A changed literal value changes the content hash.
    let mut changed = from_sources;
    let before = changed.content_hash();
    changed.set_config("SUPPORT_EMAIL", "someone@else.example").expect("a string key");
    assert_eq!(changed.content_hash(), before, "set_config values do not take part");
}

#[test]
fn a_doctored_program_is_refused_before_it_runs() {
    // A program whose expression points past the arena, with a correct hash: validation
    // refuses it before any runtime indexes with it.
    let p = Pipeline::from_manifest(root().join("examples/quickstart/warden.toml")).expect("loads");
    let bytes = p.to_artifact(None);
    let body = &bytes[56..bytes.len() - 65];
    let mut contents: serde_json::Value = serde_json::from_slice(body).expect("body");
    contents["program"]["exprs"][3]["kind"] = serde_json::json!({ "Not": 4_000_000 });
    let contents: warden_artifact::Contents = serde_json::from_value(contents).expect("contents");
    let doctored = warden_artifact::write(&contents, None, None);
    let m = refused(Pipeline::from_artifact(&doctored, None, &no_config()));
    assert!(m.contains("the program is not valid"), "{m}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn mutated_artifacts_never_panic_the_loader(
        cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), 0u8..8), 0..4),
        length in prop::option::of(any::<u64>()),
        truncate in any::<bool>(),
    ) {
        let mut bytes = GOOD.clone();
        for (at, bit) in &flips {
            let i = at.index(bytes.len());
            bytes[i] ^= 1 << bit;
        }
        if let Some(n) = length {
            bytes[48..56].copy_from_slice(&n.to_le_bytes());
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        // Only real mutations count (flips that cancel out, a cut at the end, or the length it
        // already had leave the bytes as they were): proptest draws again.
        prop_assume!(bytes != *GOOD);
        let result = Pipeline::from_artifact(&bytes, None, &BTreeMap::new());
        // Any change is caught: by the header checks, the lengths, or the hash.
        prop_assert!(matches!(result, Err(LoadError::Refused(_))));
    }

    /// The same with JavaScript: no mutated byte of the body (bytecode included) reaches
    /// QuickJS, which trusts bytecode.
    #[test]
    fn mutated_javascript_artifacts_are_refused_before_quickjs(
        flips in prop::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..4),
    ) {
        let mut bytes = GOOD_JS.clone();
        for (at, bit) in &flips {
            let i = at.index(bytes.len());
            bytes[i] ^= 1 << bit;
        }
        prop_assume!(bytes != *GOOD_JS);
        let result = Pipeline::from_artifact(&bytes, None, &BTreeMap::new());
        prop_assert!(matches!(result, Err(LoadError::Refused(_))));
    }
}

static GOOD: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| quickstart_bytes(None));
static GOOD_JS: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| mixed_legacy().1);

fn mixed_legacy() -> (Pipeline, Vec<u8>) {
    let p = Pipeline::from_manifest(root().join("examples/mixed-legacy/warden.toml")).expect("loads");
    let bytes = p.to_artifact(None);
    (p, bytes)
}

/// The key the rewritten artifacts below are signed with: bytecode is only used from a
/// signed artifact whose signature the loader checked.
static KEY: std::sync::LazyLock<warden::SecretKey> =
    std::sync::LazyLock::new(|| warden_artifact::generate_key().expect("key"));

/// Rewrites an artifact's contents (and header's QuickJS version) as a builder would: a
/// well-formed, intact artifact with different contents, signed with `KEY`.
fn rewritten(bytes: &[u8], quickjs: Option<&str>, change: impl FnOnce(&mut warden_artifact::Contents)) -> Vec<u8> {
    let (_, mut contents) = warden_artifact::read(bytes, None).expect("reads");
    change(&mut contents);
    warden_artifact::write(&contents, Some(&KEY), quickjs)
}

#[test]
fn javascript_rules_load_from_bytecode_not_from_source() {
    let (_, bytes) = mixed_legacy();
    let (_, contents) = warden_artifact::read(&bytes, None).expect("reads");
    let code = contents.js_bytecode.as_ref().expect("the artifact carries bytecode");
    assert_eq!(code.rules.len(), contents.program.js_rules.len());
    assert_eq!(code.modules.len(), contents.program.js_modules.len());
    assert!(code.rules.iter().chain(&code.modules).all(|h| !h.is_empty()));
    // Replace every JavaScript source with text that does not compile: the artifact still
    // loads and decides as before, so what runs is the bytecode.
    let js_files: Vec<u32> = contents
        .program
        .js_rules
        .iter()
        .map(|j| j.file)
        .chain(contents.program.js_modules.iter().map(|m| m.file))
        .collect();
    let doctored = rewritten(&bytes, Some(warden::quickjs_version()), |c| {
        for f in &js_files {
            c.sources[*f as usize].text = "this is ((( not JavaScript".into();
        }
    });
    let p = Pipeline::from_artifact(&doctored, Some(&KEY.verifying_key()), &no_config())
        .expect("loads without compiling JavaScript");
    let now = warden::parse_time(NOW).expect("time");
    let dir = root().join("examples/mixed-legacy");
    for s in samples(&dir) {
        let o = p.execute(&read(&s.join("user.json")), &read(&s.join("context.json")), &Exec::at(now)).expect("valid");
        assert_eq!(o.to_json(), read(&s.join("expected.json")), "{}", s.display());
    }
}

#[test]
fn javascript_for_another_quickjs_or_without_bytecode_is_refused() {
    let (_, bytes) = mixed_legacy();
    let cfg = no_config();
    let key = KEY.verifying_key();
    let from_artifact = |b: &[u8]| Pipeline::from_artifact(b, Some(&key), &cfg);
    let other = rewritten(&bytes, Some("quickjs-ng 0.9"), |_| {});
    let m = refused(from_artifact(&other));
    assert!(m.contains("compiled for quickjs-ng 0.9") && m.contains("rebuild"), "{m}");
    let none = rewritten(&bytes, None, |_| {});
    let m = refused(from_artifact(&none));
    assert!(m.contains("compiled for no QuickJS"), "{m}");
    let missing = rewritten(&bytes, Some(warden::quickjs_version()), |c| c.js_bytecode = None);
    let m = refused(from_artifact(&missing));
    assert!(m.contains("no bytecode"), "{m}");
    let short = rewritten(&bytes, Some(warden::quickjs_version()), |c| {
        if let Some(code) = &mut c.js_bytecode {
            code.rules.pop();
        }
    });
    let m = refused(from_artifact(&short));
    assert!(m.contains("does not match its rules"), "{m}");
    let not_hex = rewritten(&bytes, Some(warden::quickjs_version()), |c| {
        if let Some(code) = &mut c.js_bytecode {
            code.rules[0] = "zz".into();
        }
    });
    let m = refused(from_artifact(&not_hex));
    assert!(m.contains("not hexadecimal"), "{m}");
}

/// Without a verification key, an artifact's bytecode never reaches QuickJS: anyone who can
/// write the file can recompute its hash. The JavaScript is compiled from the artifact's
/// sources instead, so garbage bytecode is harmless and the outcomes are the same.
#[test]
fn without_a_key_javascript_is_compiled_from_the_artifact_sources() {
    let (_, bytes) = mixed_legacy();
    let garbage = rewritten(&bytes, Some(warden::quickjs_version()), |c| {
        if let Some(code) = &mut c.js_bytecode {
            for h in code.rules.iter_mut().chain(code.modules.iter_mut()) {
                *h = "ff".repeat(h.len() / 2);
            }
        }
    });
    let p = Pipeline::from_artifact(&garbage, None, &no_config()).expect("loads from its sources");
    let now = warden::parse_time(NOW).expect("time");
    for s in samples(&root().join("examples/mixed-legacy")) {
        let o = p.execute(&read(&s.join("user.json")), &read(&s.join("context.json")), &Exec::at(now)).expect("valid");
        assert_eq!(o.to_json(), read(&s.join("expected.json")), "{}", s.display());
    }
}
