//! Typed configuration through the library: load errors name the key and what it must be,
//! values set later and per login are parsed (and refused) the same way, and typed values
//! travel in artifacts with their types. Every decision runs on both backends.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value as Json, json};
use warden::{Backend, ConfigType, Exec, InputError, LoadError, Pipeline};

const NOW: i64 = 1_790_000_000_000;

const RULES: &str = r#"
rule "typed" {
    deny "too many logins" if user.logins_count > config.MAX_LOGINS
    deny "outside the office" unless ip_in(context.request.ip, config.OFFICE_NETWORKS)
    deny "not a company address" unless matches(user.email, config.EMAIL_PATTERN)
    claim id_token "admin" = email_domain(user.email) in config.ADMIN_DOMAINS
    claim id_token "signup" = config.ALLOW_SIGNUP
}
"#;

const CONFIGURATION: &str = r#"
[configuration]
DOMAIN = "example.com"
MAX_LOGINS = { value = "100", type = "int" }
ALLOW_SIGNUP = { env = "WARDEN_TEST_NEVER_SET_ALLOW_SIGNUP", type = "bool" }
OFFICE_NETWORKS = { value = "10.0.0.0/8, 192.168.1.0/24", type = "cidr list" }
ADMIN_DOMAINS = { value = "example.com, example.org", type = "list<string>" }
EMAIL_PATTERN = { value = "^[^@]+@example\\.(com|org)$", type = "regex" }
"#;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("warden-config-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A manifest with these `[configuration]` lines and rules; its path.
fn manifest(name: &str, configuration: &str, rules: &str) -> PathBuf {
    let dir = scratch(name);
    std::fs::write(dir.join("main.rule"), rules).expect("write");
    let path = dir.join("warden.toml");
    std::fs::write(&path, format!("[pipeline]\nrules = [\"main.rule\"]\n{configuration}")).expect("write");
    path
}

fn user(count: i64, email: &str) -> Json {
    json!({ "user_id": "auth0|1", "email": email, "logins_count": count })
}

fn context(ip: &str) -> Json {
    json!({ "request": { "ip": ip } })
}

/// The outcome on both backends, which must agree (the JIT compiled to native code).
fn decide(p: &Pipeline, user: &Json, context: &Json) -> Json {
    assert!(p.jit_unavailable().is_none(), "the JIT compiled the pipeline");
    let interp = p.execute(user, context, &Exec::at(NOW).on(Backend::Interp)).expect("valid input");
    let jit = p.execute(user, context, &Exec::at(NOW).on(Backend::Jit)).expect("valid input");
    assert_eq!(interp, jit, "the JIT agrees with the interpreter");
    interp.to_json()
}

fn description(o: &Json) -> &Json {
    &o["error"]["description"]
}

fn config_errors(r: Result<Pipeline, LoadError>) -> Vec<warden::ConfigError> {
    let got = match &r {
        Err(e) => format!("got: {e}"),
        Ok(_) => "the pipeline loaded".into(),
    };
    let errors = match r {
        Err(LoadError::Config(errors)) => Some(errors),
        _ => None,
    };
    assert!(errors.is_some(), "expected a configuration error, {got}");
    errors.unwrap_or_default()
}

fn loaded(path: &Path) -> Pipeline {
    let mut p = Pipeline::from_manifest(path).expect("loads");
    p.set_config("ALLOW_SIGNUP", "true").expect("a bool");
    p
}

#[test]
fn typed_values_decide_on_both_backends() {
    let p = loaded(&manifest("decide", CONFIGURATION, RULES));
    let o = decide(&p, &user(5, "ada@example.org"), &context("10.1.2.3"));
    assert_eq!(o["decision"], "allow", "{o}");
    assert_eq!(o["id_token"], json!({ "admin": true, "signup": true }));
    let o = decide(&p, &user(101, "ada@example.org"), &context("10.1.2.3"));
    assert_eq!(description(&o), "too many logins");
    let o = decide(&p, &user(5, "ada@example.org"), &context("192.168.2.1"));
    assert_eq!(description(&o), "outside the office");
    let o = decide(&p, &user(5, "ada@example.net"), &context("192.168.1.9"));
    assert_eq!(description(&o), "not a company address");
}

#[test]
fn a_wrong_literal_value_is_a_load_error_naming_the_key() {
    let configuration =
        CONFIGURATION.replace(r#"value = "100""#, r#"value = "a hundred""#).replace("192.168.1.0/24", "192.168.1.0/33");
    let errors = config_errors(Pipeline::from_manifest(manifest("literal", &configuration, RULES)));
    let keys: Vec<(&str, ConfigType)> = errors.iter().map(|e| (e.key.as_str(), e.ty)).collect();
    assert_eq!(keys, [("MAX_LOGINS", ConfigType::Int), ("OFFICE_NETWORKS", ConfigType::CidrList)]);
    assert_eq!(errors[0].to_string(), r#"configuration key `MAX_LOGINS` must be an integer, found "a hundred""#);
    assert_eq!(
        errors[1].to_string(),
        r#"configuration key `OFFICE_NETWORKS` must be a list of networks (CIDRs such as 10.0.0.0/8, or addresses), found "192.168.1.0/33" in the list"#
    );
    // `warden check` reports the same values as diagnostics at them in the manifest.
    let dir = manifest("literal-report", &configuration, RULES);
    let report = warden::Report::of_manifest(&dir);
    let found: Vec<(&str, &str)> = report.diagnostics.iter().map(|d| (d.code, d.message.as_str())).collect();
    assert_eq!(found.iter().map(|(c, _)| *c).collect::<Vec<_>>(), ["E0205", "E0205"], "{:?}", report.diagnostics);
    assert!(found[0].1.contains("`MAX_LOGINS` must be an integer"), "{found:?}");
    assert!(report.has_errors() && report.program().is_none());
}

#[test]
fn set_config_parses_and_refuses_without_changing_anything() {
    let mut p = loaded(&manifest("set", CONFIGURATION, RULES));
    let e = p.set_config("MAX_LOGINS", "many").expect_err("not an int");
    assert_eq!((e.key.as_str(), e.ty), ("MAX_LOGINS", ConfigType::Int));
    assert_eq!(e.to_string(), r#"configuration key `MAX_LOGINS` must be an integer, found "many""#);
    let e = p.set_config("EMAIL_PATTERN", "^(").expect_err("not a regex");
    assert!(e.to_string().starts_with(r#"configuration key `EMAIL_PATTERN` must be a regular expression"#), "{e}");
    // The refused values changed nothing.
    let o = decide(&p, &user(101, "ada@example.org"), &context("10.1.2.3"));
    assert_eq!(description(&o), "too many logins");
    p.set_config("MAX_LOGINS", "1000").expect("an int");
    let o = decide(&p, &user(101, "ada@example.org"), &context("10.1.2.3"));
    assert_eq!(o["decision"], "allow", "{o}");
}

#[test]
fn a_per_login_override_is_parsed_for_that_login_and_a_wrong_one_is_an_input_error() {
    let p = loaded(&manifest("override", CONFIGURATION, RULES));
    let (u, c) = (Arc::new(user(50, "ada@example.org")), Arc::new(context("172.16.0.1")));
    let overrides = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    };
    let run = |o: &BTreeMap<String, String>| -> Vec<Json> {
        [Backend::Interp, Backend::Jit]
            .map(|b| p.run_decoded(p.decode_with(u.clone(), c.clone(), NOW, o).expect("valid"), &Exec::at(NOW).on(b)))
            .map(|o| o.to_json())
            .to_vec()
    };
    // The pipeline's own values refuse this login's address ...
    let both = run(&overrides(&[]));
    assert_eq!(both[0], both[1]);
    assert_eq!(description(&both[0]), "outside the office");
    // ... this login's networks and limit take it, on both backends.
    let both = run(&overrides(&[("OFFICE_NETWORKS", "172.16.0.0/12"), ("MAX_LOGINS", "10")]));
    assert_eq!(both[0], both[1]);
    assert_eq!(description(&both[0]), "too many logins");
    let both = run(&overrides(&[("OFFICE_NETWORKS", "172.16.0.0/12"), ("ADMIN_DOMAINS", "[\"example.net\"]")]));
    assert_eq!(both[0], both[1]);
    assert_eq!(both[0]["id_token"], json!({ "admin": false, "signup": true }), "{}", both[0]);
    // A wrong value is this login's input error, naming the key; the pipeline is unchanged.
    let e = p.decode_with(u.clone(), c.clone(), NOW, &overrides(&[("ALLOW_SIGNUP", "maybe")])).expect_err("not a bool");
    assert_eq!(e.kind(), "bad_config");
    assert_eq!(e.to_string(), r#"configuration key `ALLOW_SIGNUP` must be `true` or `false`, found "maybe""#);
    let InputError::BadConfig(e) = e else { unreachable!("the kind is bad_config") };
    assert_eq!((e.key.as_str(), e.ty), ("ALLOW_SIGNUP", ConfigType::Bool));
    assert_eq!(description(&run(&overrides(&[]))[0]), "outside the office");
}

#[test]
fn typed_configuration_travels_in_artifacts_with_its_types() {
    let source = loaded(&manifest("artifact", CONFIGURATION, RULES));
    let bytes = source.to_artifact(None);
    // The types are recorded with the keys; literal values travel, the environment's do not.
    let i = Pipeline::inspect_artifact(&bytes, None).expect("reads");
    let shown: Vec<(&str, &str, bool)> =
        i.config.iter().map(|k| (k.key.as_str(), k.ty.name(), k.value.is_some())).collect();
    assert_eq!(
        shown,
        [
            ("ADMIN_DOMAINS", "list<string>", true),
            ("ALLOW_SIGNUP", "bool", false),
            ("DOMAIN", "string", true),
            ("EMAIL_PATTERN", "regex", true),
            ("MAX_LOGINS", "int", true),
            ("OFFICE_NETWORKS", "cidr list", true),
        ]
    );
    // Loaded with the environment-backed value, it decides as its sources.
    let given = BTreeMap::from([("ALLOW_SIGNUP".to_string(), "true".to_string())]);
    let artifact = Pipeline::from_artifact(&bytes, None, &given).expect("loads");
    for (u, c) in [
        (user(5, "ada@example.org"), context("10.1.2.3")),
        (user(101, "ada@example.org"), context("10.1.2.3")),
        (user(5, "ada@example.org"), context("192.168.2.1")),
        (user(5, "ada@example.net"), context("192.168.1.9")),
    ] {
        assert_eq!(decide(&artifact, &u, &c), decide(&source, &u, &c));
    }
    // The artifact's types check the values it is loaded with.
    let wrong = BTreeMap::from([("ALLOW_SIGNUP".to_string(), "on".to_string())]);
    let errors = config_errors(Pipeline::from_artifact(&bytes, None, &wrong));
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].to_string(), r#"configuration key `ALLOW_SIGNUP` must be `true` or `false`, found "on""#);
    let wrong = BTreeMap::from([
        ("ALLOW_SIGNUP".to_string(), "true".to_string()),
        ("ADMIN_DOMAINS".to_string(), "[1]".to_string()),
    ]);
    let errors = config_errors(Pipeline::from_artifact(&bytes, None, &wrong));
    assert_eq!(errors.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(), ["ADMIN_DOMAINS"]);
}

/// An artifact whose keys' types disagree with its program's is refused before it runs.
#[test]
fn an_artifact_whose_key_types_disagree_with_its_program_is_refused() {
    let source = loaded(&manifest("artifact-types", CONFIGURATION, RULES));
    let (_, mut contents) = warden_artifact::read(&source.to_artifact(None), None).expect("reads");
    for k in &mut contents.config {
        if k.key == "MAX_LOGINS" {
            k.ty = ConfigType::Str;
        }
    }
    let bytes = warden_artifact::write(&contents, None, None);
    let e = Pipeline::from_artifact(&bytes, None, &BTreeMap::new()).expect_err("refused").to_string();
    assert!(e.contains("configuration key `MAX_LOGINS` is typed `string`, and `int` in the program"), "{e}");
    contents.config.retain(|k| k.key != "MAX_LOGINS");
    let bytes = warden_artifact::write(&contents, None, None);
    let e = Pipeline::from_artifact(&bytes, None, &BTreeMap::new()).expect_err("refused").to_string();
    assert!(e.contains("the program's configuration key `MAX_LOGINS` is not listed"), "{e}");
}

/// `Program::validate` holds the typed keys to what backends assume: ids in range, each node
/// over a key of its type, slots of their keys' types, keys declared and in order.
#[test]
fn validation_refuses_typed_keys_that_do_not_fit() {
    let report = warden::Report::of_manifest(&manifest("validate", CONFIGURATION, RULES));
    let program = report.program().expect("checks").clone();
    program.validate().expect("the checker's program is valid");
    let invalid = |edit: &dyn Fn(&mut warden_ir::Program)| {
        let mut p = program.clone();
        edit(&mut p);
        p.validate().err().map(|e| e.to_string()).unwrap_or_default()
    };
    let node = |kind: fn(&warden_ir::ExprKind) -> bool| {
        program.exprs.iter().position(|e| kind(&e.kind)).expect("the rules have one")
    };
    let ip_in = node(|k| matches!(k, warden_ir::ExprKind::IpInConfig(..)));
    let regex = program.config_types.iter().position(|t| t.ty == ConfigType::Regex).expect("a regex key");
    let e = invalid(&|p| {
        if let warden_ir::ExprKind::IpInConfig(_, q) = &mut p.exprs[ip_in].kind {
            *q = warden_ir::ConfigId::from_index(regex);
        }
    });
    assert!(e.ends_with("configuration key `EMAIL_PATTERN` is not a cidr list"), "{e}");
    let e = invalid(&|p| {
        if let warden_ir::ExprKind::IpInConfig(_, q) = &mut p.exprs[ip_in].kind {
            *q = warden_ir::ConfigId::from_index(99);
        }
    });
    assert!(e.ends_with("typed configuration key 99 does not exist"), "{e}");
    let max = program.slots.iter().position(|s| s.path == ["MAX_LOGINS"]).expect("a slot");
    let e = invalid(&|p| p.slots[max].ty = warden_ir::Ty::Str);
    assert!(e.ends_with("its type is not the configuration key's"), "{e}");
    assert_eq!(invalid(&|p| p.config_types.reverse()), "typed configuration keys are not in order");
    assert_eq!(
        invalid(&|p| p.config_keys.retain(|k| k != "MAX_LOGINS")),
        "typed configuration key `MAX_LOGINS` is not declared"
    );
}

/// A string key (declared without a type, or read without a `[configuration]` table) where
/// networks, a pattern or a list are needed does not check, and the help says how to type it.
#[test]
fn string_keys_where_a_type_is_needed_say_which_type() {
    let rules = r#"
rule "strings" {
    deny if ip_in(context.request.ip, config.NETS)
    deny if matches(user.email, config.RE)
    deny if user.email in config.LIST
}
"#;
    let with_table =
        manifest("strings", "[configuration]\nNETS = \"10.0.0.0/8\"\nRE = \"^a\"\nLIST = \"a, b\"\n", rules);
    let without = with_table.with_file_name("main.rule");
    for report in [warden::Report::of_manifest(&with_table), warden::Report::of_files(&[without], Default::default())] {
        let got: Vec<(&str, &str, &str)> = report
            .diagnostics
            .iter()
            .map(|d| (d.code, d.message.as_str(), d.help.as_deref().unwrap_or_default()))
            .collect();
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0].0, "E0104");
        assert_eq!(got[0].1, "`config.NETS` is a string, not a `cidr list`");
        assert!(got[0].2.contains(r#"NETS = { value = "10.0.0.0/8, 192.168.1.0/24", type = "cidr list" }"#), "{got:?}");
        assert_eq!(got[1].1, "`config.RE` is a string, not a `regex`");
        assert!(got[1].2.contains(r#"type = "regex""#), "{got:?}");
        assert_eq!(got[2].1, "`in` needs a list, found a string");
        assert!(got[2].2.contains(r#"type = "list<string>""#), "{got:?}");
    }
}

/// The example of `docs/manifest.md` ("Typed configuration") checks and decides.
#[test]
fn the_manifest_doc_example_runs() {
    let doc = std::fs::read_to_string(warden_tests::root().join("docs/manifest.md")).expect("docs/manifest.md");
    let section = doc.split("## Typed configuration").nth(1).expect("the section");
    let block = |fence: &str| {
        let start = section.find(fence).expect("a block") + fence.len();
        section[start..].split("\n```").next().expect("closed").to_string()
    };
    let (toml, rule) = (block("```toml\n"), block("```rule\n"));
    let path = manifest("doc", &toml, &rule);
    let mut p = Pipeline::from_manifest(&path).expect("the example loads");
    p.set_config("ALLOW_SIGNUP", "false").expect("a bool");
    let o = decide(
        &p,
        &user(5, "ada@example.com"),
        &json!({ "request": { "ip": "10.0.0.1" }, "stats": { "loginsCount": 5 } }),
    );
    assert_eq!(o["decision"], "allow", "{o}");
    assert_eq!(o["id_token"]["https://example.com/admin"], true);
    assert_eq!(o["multifactor"], Json::Null);
    let o = decide(
        &p,
        &user(5, "ada@example.com"),
        &json!({ "request": { "ip": "172.16.0.1" }, "stats": { "loginsCount": 1 } }),
    );
    assert_eq!(description(&o), "Signups are closed.");
    let o = decide(
        &p,
        &user(5, "ada@example.com"),
        &json!({ "request": { "ip": "172.16.0.1" }, "stats": { "loginsCount": 2 } }),
    );
    assert_eq!(o["multifactor"]["provider"], "any", "{o}");
}

/// Explanations show the nodes over configuration keys as written, with their values.
#[test]
fn explanations_name_the_configuration_keys() {
    let p = loaded(&manifest("explain", CONFIGURATION, RULES));
    let mut exec = Exec::at(NOW);
    exec.trace = true;
    let o = p.execute(&user(5, "ada@example.org"), &context("192.168.2.1"), &exec).expect("valid input");
    let explained = o.trace.as_ref().expect("a trace").explain();
    assert!(explained.contains("ip_in(context.request.ip, config.OFFICE_NETWORKS)"), "{explained}");
    let o = p.execute(&user(5, "ada@example.net"), &context("10.0.0.1"), &exec).expect("valid input");
    let explained = o.trace.as_ref().expect("a trace").explain();
    assert!(explained.contains("matches(user.email, config.EMAIL_PATTERN)"), "{explained}");
}
