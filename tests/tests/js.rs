//! Legacy Auth0 JavaScript rules: the conformance vectors R1-R32 of the behaviour reference
//! (those that need no network), mixed pipelines, and sandbox attacks. Every conformance case
//! runs through the library on the interpreter and the JIT (which drive the same JavaScript
//! runtime), and from the pipeline's artifact, signed (its QuickJS bytecode runs) and unsigned
//! (its JavaScript is compiled from the sources it carries); outcomes are compared whole.

use serde_json::{Value as Json, json};
use warden::{Backend, Exec, Pipeline};
use warden_tests::{merge_patch, mismatches, whole};

/// The key artifacts are signed with in these tests: JavaScript runs from an artifact's
/// bytecode only when its signature was verified.
static KEY: std::sync::LazyLock<warden::SecretKey> =
    std::sync::LazyLock::new(|| warden_artifact::generate_key().expect("key"));

fn no_config() -> std::collections::BTreeMap<String, String> {
    std::collections::BTreeMap::new()
}

struct Case {
    name: &'static str,
    /// Pipeline steps in order: `.js` or `.rule` file name and text.
    files: &'static [(&'static str, &'static str)],
    /// Extra manifest text (`claim_mode`, `[modules]`...), and extra files it names.
    manifest: &'static str,
    extra: &'static [(&'static str, &'static str)],
    user: Json,
    context: Json,
    expect: Json,
}

/// Keeps 16 distinct 1 MiB strings alive, then reports how many it made.
const HEAP_16_MIB: &str = "function (user, context, callback) { const a = []; for (let i = 0; i < 16; i++) a.push(String(i).padEnd(1 << 20, 'x')); context.idToken['https://x/n'] = a.length; callback(null, user, context); }";

fn base_user() -> Json {
    json!({"user_id":"auth0|12345","email":"superuser@users.com","email_verified":true,"name":"Super User",
           "nickname":"Super User","picture":"http://localhost/photo.png","username":"superuser","logins_count":12,
           "multifactor":[],"app_metadata":{},"user_metadata":{},
           "identities":[{"connection":"Username-Password-Authentication","provider":"auth0","user_id":"12345","isSocial":false}]})
}

fn base_context() -> Json {
    json!({"clientID":"cid_1","clientName":"Default App","connection":"Username-Password-Authentication",
           "connectionStrategy":"auth0","protocol":"oidc-basic-profile","stats":{"loginsCount":111},
           "idToken":{},"accessToken":{},"authentication":{"methods":[{"name":"pwd","timestamp":1434454643024i64}]},
           "request":{"ip":"188.6.125.49","hostname":"mydomain.auth0.com","query":{"scope":"openid"},"body":{},
                      "geoip":{"country_name":"Greece","time_zone":"Europe/Athens","country_code":"GR"}}})
}

fn run_case(c: &Case, dir: &std::path::Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let mut rules = Vec::new();
    for (name, text) in c.files.iter().chain(c.extra) {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        std::fs::write(path, text).map_err(|e| e.to_string())?;
    }
    for (name, _) in c.files {
        rules.push(format!("{name:?}"));
    }
    let manifest = format!("[pipeline]\nrules = [{}]\n{}\n", rules.join(", "), c.manifest);
    std::fs::write(dir.join("warden.toml"), manifest).map_err(|e| e.to_string())?;
    let p = Pipeline::from_manifest(dir.join("warden.toml")).map_err(|e| format!("does not load: {e}"))?;
    let mut user = base_user();
    merge_patch(&mut user, &c.user);
    let mut context = base_context();
    merge_patch(&mut context, &c.context);
    // The outcome whole, and as `to_json` shows it (for the expectation).
    let run = |p: &Pipeline, b: Backend| match p.execute(&user, &context, &Exec::at(1_700_000_000_000).on(b)) {
        Ok(o) => (whole(&o), o.to_json()),
        Err(e) => (json!({ "input_error": e.to_string() }), json!({ "input_error": e.to_string() })),
    };
    if let Some(why) = p.jit_unavailable() {
        return Err(format!("the JIT did not compile: {why}"));
    }
    let (interp, shown) = run(&p, Backend::Interp);
    // The same pipeline on the JIT, and from its artifact: signed and verified (the
    // JavaScript runs from the artifact's QuickJS bytecode) and unsigned (compiled from the
    // sources it carries); each outcome compared whole.
    let signed = Pipeline::from_artifact(&p.to_artifact(Some(&KEY)), Some(&KEY.verifying_key()), &no_config())
        .map_err(|e| format!("the signed artifact does not load: {e}"))?;
    let unsigned = Pipeline::from_artifact(&p.to_artifact(None), None, &no_config())
        .map_err(|e| format!("the unsigned artifact does not load: {e}"))?;
    for (what, p, b) in [
        ("jit", &p, Backend::Jit),
        ("signed artifact (bytecode), interp", &signed, Backend::Interp),
        ("signed artifact (bytecode), jit", &signed, Backend::Jit),
        ("unsigned artifact (sources), jit", &unsigned, Backend::Jit),
    ] {
        if let Some(why) = p.jit_unavailable() {
            return Err(format!("{what}: the JIT did not compile: {why}"));
        }
        let (other, _) = run(p, b);
        if other != interp {
            return Err(format!("{what} disagrees with the interpreter:\n  interp: {interp}\n  {what}: {other}"));
        }
    }
    let diffs = mismatches(&shown, &c.expect);
    if diffs.is_empty() { Ok(()) } else { Err(format!("{}\n  outcome: {shown}", diffs.join("\n  "))) }
}

#[test]
fn conformance_vectors_and_sandbox() {
    let deny = |code: &str, description: &str, cause: &str| json!({"decision": "deny", "error": {"code": code, "description": description, "cause": cause}});
    let cases = vec![
        Case {
            name: "R1 callback continues",
            files: &[("r.js", "function (user, context, callback) { callback(null, user, context); }")],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "allow", "id_token": {}, "access_token": {}, "scope": null}),
        },
        Case {
            name: "R2 a claim",
            files: &[(
                "r.js",
                "function (user, context, callback) { context.idToken['https://x/a'] = 1; callback(null, user, context); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "allow", "id_token": {"https://x/a": 1}}),
        },
        Case {
            name: "R3 idToken replaced whole",
            files: &[(
                "r.js",
                "function (user, context, callback) { context.idToken = {'https://x/b': true}; callback(null, user, context); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "allow", "id_token": {"https://x/b": true}}),
        },
        Case {
            name: "R4 UnauthorizedError",
            files: &[("r.js", "function (user, context, callback) { callback(new UnauthorizedError('nope')); }")],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: deny("unauthorized", "nope", "denied"),
        },
        Case {
            name: "R5 Error",
            files: &[("r.js", "function (user, context, callback) { callback(new Error('boom')); }")],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: deny("access_denied", "boom", "denied"),
        },
        Case {
            name: "R6 a string error",
            files: &[("r.js", "function (user, context, callback) { callback('plain'); }")],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: deny("access_denied", "plain", "denied"),
        },
        Case {
            name: "R7 a synchronous throw",
            files: &[("r.js", "function (user, context, callback) { throw new Error('sync'); }")],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "deny", "error": {"code": "access_denied", "description": "rule error: sync", "cause": "rule_error"}}),
        },
        Case {
            name: "R8 no callback times out",
            files: &[("r.js", "function (user, context, callback) { }")],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: deny("access_denied", "Request to Webtask exceeded allowed execution time", "timeout"),
        },
        Case {
            name: "R9 an infinite loop times out",
            files: &[("r.js", "function (user, context, callback) { while (true) {} }")],
            manifest: "timeout_ms = 300",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: deny("access_denied", "Request to Webtask exceeded allowed execution time", "timeout"),
        },
        Case {
            name: "R10 the first callback wins",
            files: &[(
                "r.js",
                "function (user, context, callback) { callback(null, user, context); callback(new Error('late')); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "allow", "logs": [{"rule": "r", "level": "warn", "message": "callback called more than once in rule r; later calls are ignored"}]}),
        },
        Case {
            name: "R11 setTimeout",
            files: &[(
                "r.js",
                "function (user, context, callback) { setTimeout(() => callback(null, user, context), 50); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "allow"}),
        },
        Case {
            name: "R12 a promise job",
            files: &[(
                "r.js",
                "function (user, context, callback) { Promise.resolve().then(() => callback(new UnauthorizedError('p'))); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: deny("unauthorized", "p", "denied"),
        },
        Case {
            name: "R13 async with await",
            files: &[(
                "r.js",
                "async function (user, context, callback) { await new Promise((r) => setTimeout(r, 10)); return callback(null, user, context); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "allow"}),
        },
        Case {
            name: "R14 an async throw",
            files: &[("r.js", "async function (user, context, callback) { throw new Error('x'); }")],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "deny", "error": {"code": "access_denied", "description": "rule error: x", "cause": "rule_error"}}),
        },
        Case {
            name: "R15 an update after the callback still counts",
            files: &[(
                "r.js",
                "function (user, context, callback) { callback(null, user, context); Promise.resolve().then(() => auth0.users.updateAppMetadata(user.user_id, {a: 1})); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "allow", "effects": [{"kind": "update_app_metadata", "user_id": "auth0|12345", "patch": {"a": 1}}]}),
        },
        Case {
            name: "R16 global is shared by rules",
            files: &[
                (
                    "r1.js",
                    "function (user, context, callback) { global.f = global.f || ((x) => x + 1); callback(null, user, context); }",
                ),
                (
                    "r2.js",
                    "function (user, context, callback) { context.idToken['https://x/f'] = global.f(1); callback(null, user, context); }",
                ),
            ],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "allow", "id_token": {"https://x/f": 2}}),
        },
        Case {
            name: "R17 user changes reach later rules, not the store",
            files: &[
                ("r1.js", "function (user, context, callback) { user.tag = 'y'; callback(null, user, context); }"),
                (
                    "r2.js",
                    "function (user, context, callback) { context.idToken['https://x/t'] = user.tag; callback(null, user, context); }",
                ),
            ],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "allow", "id_token": {"https://x/t": "y"}, "effects": []}),
        },
        Case {
            name: "R18 the objects passed to callback are honoured",
            files: &[
                ("r1.js", "function (user, context, callback) { callback(null, {user_id: 'auth0|9'}, context); }"),
                (
                    "r2.js",
                    "function (user, context, callback) { context.idToken['https://x/u'] = Object.keys(user).join(','); callback(null, user, context); }",
                ),
            ],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "allow", "id_token": {"https://x/u": "user_id"}, "user": {"user_id": "auth0|9"}}),
        },
        Case {
            name: "R19 scope as a list",
            files: &[(
                "r.js",
                "function (user, context, callback) { context.accessToken.scope = ['read:a']; callback(null, user, context); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "allow", "scope": ["read:a"], "access_token": {}}),
        },
        Case {
            name: "R20 scope as a string",
            files: &[(
                "r.js",
                "function (user, context, callback) { context.accessToken.scope = 'openid read:a'; callback(null, user, context); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "allow", "scope": ["openid", "read:a"]}),
        },
        Case {
            name: "R21 a plain claim in namespaced mode is dropped",
            files: &[(
                "r.js",
                "function (user, context, callback) { context.idToken.foo = 'bar'; callback(null, user, context); }",
            )],
            manifest: "claim_mode = \"namespaced\"",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "allow", "id_token": {}}),
        },
        Case {
            name: "R21 a plain claim in modern mode is kept",
            files: &[(
                "r.js",
                "function (user, context, callback) { context.idToken.foo = 'bar'; callback(null, user, context); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "allow", "id_token": {"foo": "bar"}}),
        },
        Case {
            name: "R22 sub is restricted",
            files: &[(
                "r.js",
                "function (user, context, callback) { context.idToken.sub = 'evil'; callback(null, user, context); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "allow", "id_token": {}}),
        },
        Case {
            name: "R23 multifactor",
            files: &[(
                "r.js",
                "function (user, context, callback) { context.multifactor = {provider: 'any', allowRememberBrowser: false}; callback(null, user, context); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "allow", "multifactor": {"provider": "any", "allowRememberBrowser": false}}),
        },
        Case {
            name: "R24 a redirect on the password grant",
            files: &[(
                "r.js",
                "function (user, context, callback) { context.redirect = {url: 'https://e.x/f'}; callback(null, user, context); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({"protocol": "oauth2-password"}),
            expect: json!({"decision": "deny", "error": {"code": "interaction_required"}}),
        },
        Case {
            name: "R25 a redirect with prompt=none",
            files: &[(
                "r.js",
                "function (user, context, callback) { context.redirect = {url: 'https://e.x/f'}; callback(null, user, context); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({"request": {"query": {"prompt": "none"}}}),
            expect: json!({"decision": "deny", "error": {"code": "interaction_required"}}),
        },
        Case {
            name: "R26 a redirect on the way back is ignored",
            files: &[(
                "r.js",
                "function (user, context, callback) { context.redirect = {url: 'https://e.x/f'}; callback(null, user, context); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({"protocol": "redirect-callback"}),
            expect: json!({"decision": "allow", "redirect": null}),
        },
        Case {
            name: "R27 the last redirect wins",
            files: &[
                (
                    "r1.js",
                    "function (user, context, callback) { context.redirect = {url: 'https://e.x/1'}; callback(null, user, context); }",
                ),
                (
                    "r2.js",
                    "function (user, context, callback) { context.redirect = {url: 'https://e.x/2'}; callback(null, user, context); }",
                ),
            ],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "allow", "redirect": {"url": "https://e.x/2"}}),
        },
        Case {
            name: "R28 a metadata patch with null",
            files: &[(
                "r.js",
                "function (user, context, callback) { auth0.users.updateAppMetadata(user.user_id, {roles: null, plan: 'pro'}).then(() => callback(null, user, context)); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({"app_metadata": {"roles": ["a"], "x": 1}}),
            context: json!({}),
            expect: json!({"decision": "allow", "effects": [{"kind": "update_app_metadata", "user_id": "auth0|12345", "patch": {"roles": null, "plan": "pro"}}]}),
        },
        Case {
            name: "R29 a dot in a metadata key is rejected",
            files: &[(
                "r.js",
                "function (user, context, callback) { auth0.users.updateAppMetadata(user.user_id, {'a.b': 1}).then(() => callback(null, user, context), (e) => callback(e)); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "deny", "error": {"code": "access_denied", "cause": "denied"}, "effects": []}),
        },
        Case {
            name: "the Management API client updates the user logging in (callback style)",
            files: &[(
                "r.js",
                "function (user, context, callback) { var ManagementClient = require('auth0@2.9.1').ManagementClient; \
                 var management = new ManagementClient({ token: auth0.accessToken, domain: auth0.domain }); \
                 user.app_metadata = user.app_metadata || {}; user.app_metadata.plan = 'pro'; \
                 management.updateAppMetadata({ id: user.user_id }, user.app_metadata, function (err) { if (err) return callback(err); \
                   management.users.updateUserMetadata({ id: user.user_id }, { theme: 'dark' }).then(function () { callback(null, user, context); }, callback); }); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "allow", "effects": [
                {"kind": "update_app_metadata", "user_id": "auth0|12345", "patch": {"plan": "pro"}},
                {"kind": "update_user_metadata", "user_id": "auth0|12345", "patch": {"theme": "dark"}}]}),
        },
        Case {
            name: "the Management API client reads the user logging in",
            files: &[(
                "r.js",
                "async function (user, context, callback) { const { ManagementClient } = require('auth0'); \
                 const management = new ManagementClient({ domain: auth0.domain, clientId: 'id', clientSecret: 's' }); \
                 const u = await management.getUser({ id: user.user_id }); context.idToken['https://x/name'] = u.name; callback(null, user, context); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "allow", "id_token": {"https://x/name": "Super User"}}),
        },
        Case {
            name: "the Management API client refuses another user, with a clear error",
            files: &[(
                "r.js",
                "function (user, context, callback) { var management = new (require('auth0').ManagementClient)({ token: 't', domain: 'd' }); \
                 management.updateAppMetadata({ id: 'auth0|other' }, { admin: true }, function (err) { callback(err); }); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "deny", "error": {"code": "access_denied", "cause": "denied",
                "description": "auth0 ManagementClient.updateAppMetadata in warden reaches only the user logging in (\"auth0|12345\"), not \"auth0|other\""}, "effects": []}),
        },
        Case {
            name: "the Management API client refuses endpoints it cannot honour",
            files: &[(
                "r.js",
                "function (user, context, callback) { var management = new (require('auth0').ManagementClient)({ token: 't', domain: 'd' }); \
                 management.getUsersByEmail(user.email, function (err, users) { if (err) return callback(err); callback(null, user, context); }); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "deny", "error": {"cause": "denied",
                "description": "auth0 ManagementClient.getUsersByEmail is not available in warden: only updateAppMetadata, updateUserMetadata and getUser, for the user logging in"}, "effects": []}),
        },
        Case {
            name: "R30 return without callback times out",
            files: &[("r.js", "function (user, context, callback) { return; }")],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "deny", "error": {"cause": "timeout"}}),
        },
        Case {
            name: "R32 require with a version resolves a vendored module",
            files: &[(
                "r.js",
                "function (user, context, callback) { const _ = require('lodash@4.17.19'); context.idToken['https://x/c'] = _.capitalize('ada'); callback(null, user, context); }",
            )],
            manifest: "[modules]\nlodash = \"vendor/lodash.js\"",
            extra: &[(
                "vendor/lodash.js",
                "module.exports = { capitalize: (s) => s.charAt(0).toUpperCase() + s.slice(1) };",
            )],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "allow", "id_token": {"https://x/c": "Ada"}}),
        },
        Case {
            name: "host modules: crypto, querystring, url, Buffer, URL, TextEncoder",
            files: &[(
                "r.js",
                r#"function (user, context, callback) {
  const crypto = require('crypto'), qs = require('querystring'), url = require('url');
  const u = new URL('https://example.com:8443/a/b?x=1&y=two#frag');
  u.searchParams.set('x', '3');
  context.idToken['https://x/r'] = [
    crypto.createHash('sha256').update('abc').digest('hex'),
    crypto.createHash('md5').update('abc').digest('base64'),
    crypto.createHmac('sha256', 'key').update('The quick brown fox jumps over the lazy dog').digest('hex'),
    u.href, u.host, Buffer.from('hello ü').toString('base64'), Buffer.from('aGVsbG8gw7w=', 'base64').toString(),
    url.parse('https://h.example/p?q=1', true).query.q, qs.stringify({a: [1, 2], b: 'c d'}),
    crypto.randomBytes(8).length, crypto.timingSafeEqual(Buffer.from('a'), Buffer.from('a')),
    Array.from(new TextEncoder().encode('é')).join(','),
  ];
  callback(null, user, context);
}"#,
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "allow", "id_token": {"https://x/r": [
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "kAFQmDzST7DWlj99KOF/cg==",
                "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",
                "https://example.com:8443/a/b?x=3&y=two#frag", "example.com:8443", "aGVsbG8gw7w=", "hello ü", "1",
                "a=1&a=2&b=c%20d", 8, true, "195,169"]}}),
        },
        // Mixed pipelines.
        Case {
            name: "a JS rule sees a user normalized by an earlier .rule",
            files: &[
                ("n.rule", "rule \"normalize\" { set user.email = lower(trim(user.email)) }"),
                (
                    "r.js",
                    "function (user, context, callback) { context.idToken['https://x/e'] = user.email; callback(null, user, context); }",
                ),
            ],
            manifest: "",
            extra: &[],
            user: json!({"email": "  Ada@Example.COM "}),
            context: json!({}),
            expect: json!({"decision": "allow", "id_token": {"https://x/e": "ada@example.com"}}),
        },
        Case {
            name: "a .rule after a JS rule sees its changes, claims and scopes",
            files: &[
                (
                    "r.js",
                    "function (user, context, callback) { user.app_metadata.plan = 'pro'; context.idToken['https://x/a'] = 'js'; context.accessToken.scope = ['openid', 'admin']; callback(null, user, context); }",
                ),
                (
                    "after.rule",
                    "rule \"after\" {\n  deny \"not pro\" unless user.app_metadata.plan == \"pro\"\n  deny \"no claim\" unless context.idToken[\"https://x/a\"] == \"js\"\n  scope add \"extra\" if \"admin\" in context.accessToken.scope\n}",
                ),
            ],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "allow", "scope": ["openid", "admin", "extra"], "id_token": {"https://x/a": "js"}}),
        },
        Case {
            name: "a JS rule that breaks a typed field fails closed",
            files: &[
                (
                    "r.js",
                    "function (user, context, callback) { user.email_verified = 'yes'; callback(null, user, context); }",
                ),
                ("v.rule", "rule \"v\" { deny unless user.email_verified }"),
            ],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "deny", "error": {"cause": "rule_error", "rule": "r"}}),
        },
        // Sandbox.
        Case {
            name: "no file system: require('fs') fails",
            files: &[(
                "r.js",
                "function (user, context, callback) { try { require('fs'); callback(null, user, context); } catch (e) { callback(e); } }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: deny("access_denied", "Cannot find module 'fs'", "denied"),
        },
        Case {
            name: "process has no environment and no I/O",
            files: &[(
                "r.js",
                "function (user, context, callback) { const ok = Object.keys(process.env).length === 0 && Object.isFrozen(process.env) && typeof process.exit === 'undefined' && typeof process.stdout === 'undefined'; callback(ok ? null : new Error('process leaks'), user, context); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "allow"}),
        },
        Case {
            name: "eval-built loops are stopped too",
            files: &[("r.js", "function (user, context, callback) { eval('while (true) {}'); }")],
            manifest: "timeout_ms = 300",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "deny", "error": {"cause": "timeout"}}),
        },
        Case {
            name: "deep recursion is a rule error",
            files: &[("r.js", "function (user, context, callback) { const f = (n) => f(n + 1) + 1; f(0); }")],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "deny", "error": {"cause": "rule_error"}}),
        },
        Case {
            name: "a memory bomb hits the limit",
            files: &[(
                "r.js",
                "function (user, context, callback) { const a = []; while (true) a.push('x'.repeat(1 << 20)); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "deny", "error": {"cause": "resource_limit"}}),
        },
        Case {
            name: "16 MiB of strings fit the default heap limit",
            files: &[("r.js", HEAP_16_MIB)],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "allow", "id_token": {"https://x/n": 16}}),
        },
        Case {
            name: "js_memory_mib lowers the heap limit",
            files: &[("r.js", HEAP_16_MIB)],
            manifest: "js_memory_mib = 8",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "deny", "error": {"cause": "resource_limit"}}),
        },
        Case {
            name: "console output is captured by level",
            files: &[(
                "r.js",
                "function (user, context, callback) { console.warn('careful', {a: 1}); console.log(user.email); callback(null, user, context); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"logs": [{"rule": "r", "level": "warn", "message": "careful {\"a\":1}"}, {"rule": "r", "level": "log", "message": "superuser@users.com"}]}),
        },
        Case {
            name: "configuration is frozen",
            files: &[(
                "r.js",
                "function (user, context, callback) { 'use strict'; try { configuration.K = 'x'; callback(new Error('changed')); } catch (e) { context.idToken['https://x/k'] = configuration.K; callback(null, user, context); } }",
            )],
            manifest: "[configuration]\nK = \"v\"",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "allow", "id_token": {"https://x/k": "v"}}),
        },
        Case {
            name: "JSON semantics on the way out",
            files: &[(
                "r.js",
                "function (user, context, callback) {\n  var t = context.idToken;\n  t['https://x/date'] = new Date(Date.UTC(2026, 10, 26, 12, 0, 0));\n  t['https://x/undef'] = undefined;\n  t['https://x/fn'] = function () {};\n  t['https://x/list'] = [undefined, function () {}, NaN, Infinity, 2.0, -0, 0.5, 1e21];\n  t['https://x/custom'] = { toJSON: function () { return { as: 'json' }; } };\n  t['https://x/nested'] = { keep: 1, drop: undefined, sym: Symbol('s') };\n  t['https://x/order'] = { b: 1, a: 2, 1: 'one' };\n  user.app_metadata.when = new Date(0);\n  callback(null, user, context);\n}\n",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "allow", "id_token": {
                "https://x/date": "2026-11-26T12:00:00.000Z",
                "https://x/list": [null, null, null, null, 2, 0, 0.5, 1e21],
                "https://x/custom": {"as": "json"},
                "https://x/nested": {"keep": 1},
                "https://x/order": {"1": "one", "b": 1, "a": 2},
            }}),
        },
        Case {
            name: "objects nested 250 levels deep come back whole (the reader's stack is its own)",
            files: &[(
                "r.js",
                "function (user, context, callback) { var root = {}, o = root; for (var i = 0; i < 249; i++) { o.a = {}; o = o.a; } o.end = true; user.app_metadata = root; var n = 0; for (o = user.app_metadata; o.a; o = o.a) n++; context.idToken['https://x/n'] = n; callback(null, user, context); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "allow", "id_token": {"https://x/n": 249}}),
        },
        Case {
            name: "the read-back follows JSON.stringify: toJSON once, functions with toJSON, proxies of arrays, a proxy's prototype trap not run",
            files: &[(
                "r.js",
                "function (user, context, callback) {\n  var f = function () {}; f.toJSON = function () { return 'fn'; };\n  var made = function () { return {\n    once: { toJSON: function () { return new Date(0); } },\n    twice: { toJSON: function () { return { toJSON: function () { return 2; } }; } },\n    self: { v: 1, toJSON: function () { return this; } },\n    fn: f,\n    list: new Proxy([1, 2, 3], {}),\n    trapped: new Proxy({ q: 1 }, { getPrototypeOf: function () { throw new Error('boom'); } }),\n    box: new String('x'),\n  }; };\n  context.idToken['https://x/read'] = made();\n  context.idToken['https://x/expect'] = JSON.parse(JSON.stringify(made()));\n  callback(null, user, context);\n}",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "allow", "id_token": {
                "https://x/read": {"once": {}, "twice": {}, "self": {"v": 1}, "fn": "fn", "list": [1, 2, 3], "trapped": {"q": 1}, "box": "x"},
                "https://x/expect": {"once": {}, "twice": {}, "self": {"v": 1}, "fn": "fn", "list": [1, 2, 3], "trapped": {"q": 1}, "box": "x"},
            }}),
        },
        Case {
            name: "a cyclic object left in the token is a rule error",
            files: &[(
                "r.js",
                "function (user, context, callback) { var a = {}; a.self = a; context.idToken['https://x/a'] = a; callback(null, user, context); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "deny", "error": {"cause": "rule_error", "description": "rule error: the rule left objects that are not JSON: nested more than 256 levels deep (or cyclic)"}}),
        },
        Case {
            name: "a lone surrogate (an emoji cut in half) becomes U+FFFD in values and keys",
            files: &[
                (
                    "a.js",
                    "function (user, context, callback) { var s = '\\ud83d\\ude00!'; context.idToken['https://x/cut'] = s.slice(0, 1) + s.slice(2); callback(null, user, context); }",
                ),
                ("b.rule", "rule \"b\" {\n    log \"between\"\n}\n"),
                (
                    "c.js",
                    "function (user, context, callback) { context.idToken['https://x/\\udc00'] = ['\\ud800', 'ok']; callback(null, user, context); }",
                ),
            ],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "allow", "id_token": {"https://x/cut": "\u{FFFD}!", "https://x/\u{FFFD}": ["\u{FFFD}", "ok"]}}),
        },
        Case {
            name: "two keys that differ only in lone surrogates are a rule error, not one lost",
            files: &[(
                "r.js",
                "function (user, context, callback) { context.idToken['https://x/role\\ud800'] = 'admin'; context.idToken['https://x/role\\udc00'] = 'guest'; callback(null, user, context); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "deny", "error": {"cause": "rule_error", "description": "rule error: the rule left objects that are not JSON: two keys differ only in lone surrogates (\"https://x/role\u{FFFD}\")"}}),
        },
        Case {
            name: "a key with a surrogate pair comes back whole",
            files: &[(
                "a.js",
                "function (user, context, callback) { context.idToken['https://x/ok\\ud83d\\ude00'] = '\\ud83d\\ude00'; callback(null, user, context); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "allow", "id_token": {"https://x/ok\u{1F600}": "\u{1F600}"}}),
        },
        Case {
            name: "a result that would expand past the heap limit outside QuickJS is a resource limit",
            files: &[(
                "r.js",
                "function (user, context, callback) { var s = 'x'.repeat(1 << 20); var a = []; for (var i = 0; i < 1000; i++) a.push(s); context.idToken['https://x/a'] = a; callback(null, user, context); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "deny", "error": {"cause": "resource_limit", "description": "the rule exceeded its memory limit (64 MiB): the result has more bytes than its memory limit"}}),
        },
        Case {
            name: "an array whose length was set past what can be read is a resource limit, not a crash",
            files: &[(
                "r.js",
                "function (user, context, callback) { var a = []; a.length = 4294967295; context.idToken['https://x/a'] = a; callback(null, user, context); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "deny", "error": {"cause": "resource_limit"}}),
        },
        Case {
            name: "boxed primitives, large integers and toJSON keys as JSON.stringify writes them",
            files: &[(
                "r.js",
                "function (user, context, callback) {\n  var t = context.idToken;\n  t['https://x/boxed'] = [new String('ab'), new Number(5), new Boolean(false)];\n  t['https://x/big'] = [Math.pow(2, 53), Math.pow(2, 60), -Math.pow(2, 53)];\n  t['https://x/keyed'] = { inner: { toJSON: function (k) { return 'key ' + k; } } };\n  t['https://x/sparse'] = [1, , 3];\n  callback(null, user, context);\n}\n",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "allow", "id_token": {
                "https://x/boxed": ["ab", 5, false],
                "https://x/big": [9_007_199_254_740_992_i64, 1_152_921_504_606_846_976_i64, -9_007_199_254_740_992_i64],
                "https://x/keyed": {"inner": "key inner"},
                "https://x/sparse": [1, null, 3],
            }}),
        },
        Case {
            name: "a BigInt left in the token is a rule error",
            files: &[(
                "r.js",
                "function (user, context, callback) { context.idToken['https://x/n'] = 10n; callback(null, user, context); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "deny", "error": {"cause": "rule_error", "description": "rule error: the rule left objects that are not JSON: a BigInt cannot be serialized"}}),
        },
        Case {
            name: "a getter that throws while the result is read is a rule error",
            files: &[(
                "r.js",
                "function (user, context, callback) { Object.defineProperty(context.idToken, 'https://x/g', { enumerable: true, get: function () { throw new Error('getter'); } }); callback(null, user, context); }",
            )],
            manifest: "",
            extra: &[],
            user: json!({}),
            context: json!({}),
            expect: json!({"decision": "deny", "error": {"cause": "rule_error", "description": "rule error: getter"}}),
        },
    ];
    let scratch = std::env::temp_dir().join(format!("warden-js-{}", std::process::id()));
    let mut failures = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        if let Err(e) = run_case(c, &scratch.join(i.to_string())) {
            failures.push(format!("{}: {e}", c.name));
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn the_next_login_runs_after_a_timeout_a_memory_bomb_and_a_missing_callback() {
    let (dir, p) = pipeline_in(
        "recover",
        &[(
            "r.js",
            "function (user, context, callback) {\n  const mode = user.app_metadata.mode;\n  if (mode === 'loop') while (true) {}\n  if (mode === 'bomb') { const a = []; while (true) a.push('x'.repeat(1 << 20)); }\n  if (mode === 'silent') return;\n  if (mode === 'pollute') Object.prototype.isAdmin = true;\n  context.idToken['https://x/admin'] = ({}).isAdmin === true;\n  global.count = (global.count || 0) + 1;\n  context.idToken['https://x/count'] = global.count;\n  callback(null, user, context);\n}\n",
        )],
        "timeout_ms = 2000",
    );
    let login = |mode: &str| {
        let user = json!({"user_id": "auth0|1", "app_metadata": {"mode": mode}});
        outcome(&p, &user)
    };
    assert_eq!(login("ok")["id_token"]["https://x/count"], 1);
    assert_eq!(login("ok")["id_token"]["https://x/count"], 2, "global persists across logins");
    for (mode, cause) in [("loop", "timeout"), ("bomb", "resource_limit"), ("silent", "timeout")] {
        assert_eq!(login(mode)["error"]["cause"], cause, "{mode}");
        let next = login("ok");
        assert_eq!(next["decision"], "allow", "the login after {mode} succeeds: {next}");
        assert_eq!(next["id_token"]["https://x/count"], 1, "a recycled runtime starts a new global");
    }
    // Prototypes cannot grow: the pollution is ignored, now and in the next login.
    assert_eq!(login("pollute")["id_token"]["https://x/admin"], false);
    assert_eq!(login("ok")["id_token"]["https://x/admin"], false, "prototype pollution does not leak");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn javascript_runs_on_several_threads_at_once() {
    let (dir, p) = pipeline_in(
        "threads",
        &[(
            "r.js",
            "function (user, context, callback) { global.n = (global.n || 0) + 1; context.idToken['https://x/id'] = user.user_id; callback(null, user, context); }",
        )],
        "",
    );
    let p = std::sync::Arc::new(p);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let p = p.clone();
            std::thread::spawn(move || {
                for i in 0..50 {
                    let id = format!("auth0|{t}-{i}");
                    let o = outcome(&p, &json!({"user_id": id}));
                    assert_eq!(o["id_token"]["https://x/id"], id);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("no thread panicked");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A run-time error in a JavaScript rule points at the rule's file, line and column, from
/// sources and from an artifact (whose rules run as bytecode) alike.
#[test]
fn run_time_errors_point_at_file_line_and_column() {
    let (dir, from_sources) = pipeline_in(
        "location",
        &[(
            "r.js",
            "function (user, context, callback) {\n  var roles = user.app_metadata.roles;\n  callback(null, user, context);\n}\n",
        )],
        "",
    );
    let from_artifact =
        Pipeline::from_artifact(&from_sources.to_artifact(None), None, &Default::default()).expect("loads");
    for p in [&from_sources, &from_artifact] {
        let o = outcome(p, &json!({"user_id": "auth0|1"}));
        assert_eq!(o["error"]["cause"], "rule_error", "{o}");
        let location = o["error"]["location"].as_str().unwrap_or_default();
        // `user.app_metadata` is undefined: reading `.roles` throws at line 2.
        assert!(location.ends_with("r.js:2:15"), "{location}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Loading evaluates each rule's expression once: one that never ends is stopped by the
/// pipeline's time budget and reported, instead of hanging `warden check`.
#[test]
fn a_rule_that_never_finishes_loading_is_an_error_not_a_hang() {
    let dir = write_pipeline("iife", &[("r.js", "function () { while (true) {} }()\n")], &[], "timeout_ms = 200");
    let e = Pipeline::from_manifest(dir.join("warden.toml")).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("interrupted"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// One login with an empty context on the default backend, as outcome JSON.
fn outcome(p: &Pipeline, user: &Json) -> Json {
    p.execute(user, &json!({}), &Exec::at(0)).expect("valid").to_json()
}

/// Writes a pipeline of `rules` (in order) and `extra` files, with `manifest` appended to
/// its `[pipeline]` table, under a scratch directory; returns the directory.
fn write_pipeline(
    dir_name: &str,
    rules: &[(&str, &str)],
    extra: &[(&str, &str)],
    manifest: &str,
) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("warden-js-{dir_name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    for (name, text) in rules.iter().chain(extra) {
        std::fs::write(dir.join(name), text).expect("write");
    }
    let names: Vec<String> = rules.iter().map(|(n, _)| format!("{n:?}")).collect();
    std::fs::write(dir.join("warden.toml"), format!("[pipeline]\nrules = [{}]\n{manifest}\n", names.join(", ")))
        .expect("write");
    dir
}

/// The same, loaded.
fn pipeline_in(dir_name: &str, rules: &[(&str, &str)], manifest: &str) -> (std::path::PathBuf, Pipeline) {
    let dir = write_pipeline(dir_name, rules, &[], manifest);
    let p = Pipeline::from_manifest(dir.join("warden.toml")).expect("loads");
    // The tests below compare the backends on these pipelines: the JIT must really run.
    warden_tests::assert_jit(&p);
    (dir, p)
}

/// Consecutive JavaScript rules share their objects (a function stored on `context` is
/// still there for the next JS rule), a `.rule` between them sees the JS changes, and the
/// JS rule after it starts from JSON again. Claims are attributed to the rule that set them.
#[test]
fn consecutive_javascript_rules_share_their_objects() {
    let (dir, p) = pipeline_in(
        "chain",
        &[
            (
                "a.js",
                "function a(user, context, callback) {\n  user.app_metadata.seen = ['a'];\n  context.idToken.plain = 'dropped';\n  context.idToken['https://x/a'] = 1;\n  context.helper = function () { return 2; };\n  callback(null, user, context);\n}\n",
            ),
            (
                "b.js",
                "function b(user, context, callback) {\n  user.app_metadata.seen.push('b');\n  context.idToken['https://x/b'] = context.helper();\n  context.idToken['https://x/fn'] = typeof context.helper;\n  context.accessToken.scope = 'openid b';\n  callback(null, user, context);\n}\n",
            ),
            (
                "gate.rule",
                "rule \"gate\" {\n    deny access_denied \"b did not run\" unless \"b\" in user.app_metadata.seen\n    claim id_token \"https://x/scopes\" = context.accessToken.scope\n}\n",
            ),
            (
                "c.js",
                "function c(user, context, callback) {\n  context.idToken['https://x/c'] = typeof context.helper;\n  context.idToken['https://x/seen'] = user.app_metadata.seen.join(',');\n  callback(null, user, context);\n}\n",
            ),
        ],
        "claim_mode = \"namespaced\"",
    );
    let user = json!({"user_id": "auth0|1", "app_metadata": {}});
    for backend in [Backend::Interp, Backend::Jit] {
        let o = p.execute(&user, &json!({}), &Exec::at(0).on(backend)).expect("valid").to_json();
        assert_eq!(o["decision"], "allow", "{o}");
        assert_eq!(
            o["id_token"],
            json!({"https://x/a": 1, "https://x/b": 2, "https://x/fn": "function", "https://x/scopes": ["openid", "b"],
                   "https://x/c": "undefined", "https://x/seen": "a,b"}),
            "{o}"
        );
        assert_eq!(o["scope"], json!(["openid", "b"]));
        assert_eq!(o["user"]["app_metadata"]["seen"], json!(["a", "b"]));
        let dropped: Vec<&Json> = o["logs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|l| l["message"].as_str().unwrap_or("").contains("\"plain\""))
            .collect();
        assert_eq!(dropped.len(), 1, "{o}");
        assert_eq!(dropped[0]["rule"], "a", "the claim is attributed to the rule that set it: {o}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Across a run of JavaScript rules, each change to the tokens, MFA and the redirect is
/// attributed to the rule that made it last: overwriting a claim moves it, writing the same
/// value back does not, deleting and re-adding does, and a claim an earlier rule set stays
/// with that rule. Seen through the claim policy's warnings and `interaction_required`.
#[test]
fn changes_are_attributed_to_the_rule_that_made_them_in_a_run() {
    let (dir, p) = pipeline_in(
        "attribution",
        &[
            (
                "a.js",
                "function a(user, context, callback) {\n  context.idToken.kept = 1;\n  context.idToken.over = 1;\n  context.idToken.same = 'x';\n  context.idToken.readded = 1;\n  context.accessToken.at_a = 1;\n  callback(null, user, context);\n}\n",
            ),
            (
                "b.js",
                "function b(user, context, callback) {\n  context.idToken.over = 2;\n  context.idToken.same = context.idToken.same;\n  delete context.idToken.readded;\n  context.multifactor = { provider: 'any' };\n  callback(null, user, context);\n}\n",
            ),
            (
                "c.js",
                "function c(user, context, callback) {\n  context.idToken.readded = 1;\n  context.accessToken = { at_a: context.accessToken.at_a, at_c: 2 };\n  callback(null, user, context);\n}\n",
            ),
        ],
        "claim_mode = \"namespaced\"",
    );
    let context = json!({"protocol": "oauth2-refresh-token"});
    for backend in [Backend::Interp, Backend::Jit] {
        let o = p.execute(&json!({"user_id": "auth0|1"}), &context, &Exec::at(0).on(backend)).expect("valid").to_json();
        // Every claim is dropped (none is namespaced): each drop names the claim's rule.
        let mut dropped: Vec<(String, String)> = o["logs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| {
                let m = l["message"].as_str()?;
                let name = m.strip_prefix("claim \"")?.split('"').next()?;
                Some((name.to_string(), l["rule"].as_str()?.to_string()))
            })
            .collect();
        dropped.sort();
        let expect: Vec<(String, String)> =
            [("at_a", "a"), ("at_c", "c"), ("kept", "a"), ("over", "b"), ("readded", "c"), ("same", "a")]
                .iter()
                .map(|(k, r)| (k.to_string(), r.to_string()))
                .collect();
        assert_eq!(dropped, expect, "{o}");
        // MFA on a flow that cannot interact denies, naming the rule that asked for it.
        assert_eq!(o["error"]["code"], "interaction_required", "{o}");
        assert_eq!(o["error"]["rule"], "b", "{o}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A callback kept from an earlier rule (of the same login, or of an earlier one) decides
/// nothing: calling it denies nothing, allows nothing and logs nothing in the rule that runs.
#[test]
fn a_kept_callback_decides_nothing_later() {
    let (dir, p) = pipeline_in(
        "kept-callback",
        &[
            (
                "a.js",
                "function a(user, context, callback) {\n  if (!global.kept) global.kept = callback;\n  callback(null, user, context);\n}\n",
            ),
            (
                "b.js",
                "function b(user, context, callback) {\n  global.kept(new UnauthorizedError('from a kept callback'));\n  global.kept(null, { user_id: 'auth0|attacker' }, {});\n  if (user.app_metadata.hang) return;\n  context.idToken['https://x/b'] = user.user_id;\n  callback(null, user, context);\n}\n",
            ),
        ],
        "timeout_ms = 300",
    );
    let login = |hang: bool| {
        let user = json!({"user_id": "auth0|1", "app_metadata": {"hang": hang}});
        outcome(&p, &user)
    };
    for _ in 0..2 {
        let o = login(false);
        assert_eq!(o["decision"], "allow", "{o}");
        assert_eq!(o["user"]["user_id"], "auth0|1", "{o}");
        assert_eq!(o["id_token"]["https://x/b"], "auth0|1", "{o}");
        assert_eq!(o["logs"], json!([]), "{o}");
    }
    // A rule that never calls back still times out: the kept callback does not settle it.
    let o = login(true);
    assert_eq!(o["decision"], "deny", "{o}");
    assert_eq!(o["error"]["cause"], "timeout", "{o}");
    assert_eq!(o["error"]["rule"], "b", "{o}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A getter one rule leaves on a token runs when warden takes the tokens' state between
/// rules: it runs as no rule's code (its logs, metadata updates and timers count for
/// nothing), not as the next rule's.
#[test]
fn a_getter_left_on_a_token_runs_for_no_rule() {
    let getter = "function a(user, context, callback) {\n  var n = 0;\n  Object.defineProperty(context.idToken, 'https://x/lazy', {\n    enumerable: true, configurable: true,\n    get: function () {\n      n++;\n      if (n > 1) {\n        console.log('getter call ' + n);\n        auth0.users.updateAppMetadata(user.user_id, { from_getter: n });\n        setTimeout(function () { throw new Error('timer armed by a getter'); }, 0);\n      }\n      Promise.resolve().then(function () {});\n      return 'v';\n    },\n  });\n  context.idToken['https://x/lazy'];\n  callback(null, user, context);\n}\n";
    let later =
        "function b(user, context, callback) {\n  setTimeout(function () { callback(null, user, context); }, 10);\n}\n";
    let (dir, p) = pipeline_in("getter-between", &[("a.js", getter), ("b.js", later)], "");
    for _ in 0..2 {
        let o = outcome(&p, &json!({"user_id": "auth0|1"}));
        assert_eq!(o["decision"], "allow", "{o}");
        assert_eq!(o["effects"], json!([]), "{o}");
        assert_eq!(o["logs"], json!([]), "{o}");
        assert_eq!(o["id_token"]["https://x/lazy"], "v", "{o}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A rule that stops the login in the middle of a run of JavaScript rules: what earlier
/// rules recorded (effects, logs) stays, the next login starts clean.
#[test]
fn a_deny_in_the_middle_of_a_run_of_javascript_rules() {
    let (dir, p) = pipeline_in(
        "chain-deny",
        &[
            (
                "a.js",
                "function a(user, context, callback) {\n  console.log('a ran');\n  context.idToken['https://x/a'] = 1;\n  auth0.users.updateAppMetadata(user.user_id, { step: 'a' }).then(function () { callback(null, user, context); });\n}\n",
            ),
            (
                "b.js",
                "function b(user, context, callback) {\n  if (user.app_metadata.deny) return callback(new UnauthorizedError('no'));\n  context.idToken['https://x/b'] = context.idToken['https://x/a'] + 1;\n  callback(null, user, context);\n}\n",
            ),
        ],
        "",
    );
    let login = |deny: bool| {
        let user = json!({"user_id": "auth0|1", "app_metadata": {"deny": deny}});
        outcome(&p, &user)
    };
    let o = login(true);
    assert_eq!(o["decision"], "deny", "{o}");
    assert_eq!(o["error"]["code"], "unauthorized");
    assert_eq!(o["error"]["rule"], "b");
    assert_eq!(o["effects"].as_array().map(Vec::len), Some(1), "{o}");
    assert_eq!(o["logs"][0]["message"], "a ran", "{o}");
    let o = login(false);
    assert_eq!(o["decision"], "allow", "{o}");
    assert_eq!(o["id_token"], json!({"https://x/a": 1, "https://x/b": 2}), "{o}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Built-ins are frozen once the rules are loaded: what a login does to them is ignored (or
/// throws in strict code) in that login and every later one, the prelude cannot be
/// replaced, and legacy code that assigns `toString`, `name` or `message` on its own
/// objects still works.
#[test]
fn built_ins_are_locked_down_and_the_override_mistake_is_tamed() {
    let attack = "function (user, context, callback) {\n\
        Array.prototype.map = function () { return ['pwned']; };\n\
        Map.prototype.get = function () { return 'pwned'; };\n\
        Object.getPrototypeOf([][Symbol.iterator]()).next = function () { return { done: true }; };\n\
        Object.prototype.isAdmin = true;\n\
        JSON = { parse: function () { return {}; }, stringify: function () { return '{}'; } };\n\
        try { __warden.finish = function () { return '{\"status\":\"ok\"}'; }; } catch (e) {}\n\
        try { __warden.rules[0] = function (u, c, cb) { cb(null, u, c); }; } catch (e) {}\n\
        context.idToken['https://x/map'] = [1].map(function (x) { return x + 1; });\n\
        context.idToken['https://x/mapget'] = new Map([['k', 'v']]).get('k');\n\
        context.idToken['https://x/spread'] = [...[1, 2]].length;\n\
        context.idToken['https://x/admin'] = ({}).isAdmin === true;\n\
        callback(null, user, context);\n}\n";
    let check = "function (user, context, callback) {\n\
        if (user.app_metadata.deny) return callback(new UnauthorizedError('denied by the check'));\n\
        var o = {}; o.toString = function () { return 'custom'; };\n\
        function MyError(m) { this.message = m; } MyError.prototype = Object.create(Error.prototype);\n\
        MyError.prototype.name = 'MyError';\n\
        class Typed extends Error { constructor(m) { super(m); this.name = 'Typed'; } }\n\
        var e = new Error(); e.message = 'set later';\n\
        context.idToken['https://x/tamed'] = [String(o), new MyError('m').name, new Typed('t').name, e.message,\n\
          Object.prototype.toString.call([]), [3, 1, 2].map(function (x) { return x * 2; }).join(',')];\n\
        context.idToken['https://x/admin'] = ({}).isAdmin === true;\n\
        callback(null, user, context);\n}\n";
    let strict = "function (user, context, callback) {\n  'use strict';\n  Object.prototype.isAdmin = true;\n  callback(null, user, context);\n}\n";
    let (dir, attacked) = pipeline_in("lockdown", &[("attack.js", attack), ("check.js", check)], "");
    let (dir2, strict) = pipeline_in("lockdown-strict", &[("strict.js", strict)], "");
    let login = |p: &Pipeline, deny: bool| {
        p.execute(&json!({"user_id": "auth0|1", "app_metadata": {"deny": deny}}), &json!({}), &Exec::at(0))
            .expect("valid")
            .to_json()
    };
    let tamed = json!(["custom", "MyError", "Typed", "set later", "[object Array]", "6,2,4"]);
    for round in 0..3 {
        let o = login(&attacked, false);
        assert_eq!(o["decision"], "allow", "round {round}: {o}");
        assert_eq!(o["id_token"]["https://x/map"], json!([2]), "round {round}: {o}");
        assert_eq!(o["id_token"]["https://x/mapget"], "v", "round {round}: {o}");
        assert_eq!(o["id_token"]["https://x/spread"], 2, "round {round}: {o}");
        assert_eq!(o["id_token"]["https://x/admin"], false, "round {round}: {o}");
        assert_eq!(o["id_token"]["https://x/tamed"], tamed, "round {round}: {o}");
        // The check rule still runs as itself: replacing the prelude or the rule list failed.
        let denied = login(&attacked, true);
        assert_eq!(denied["error"]["description"], "denied by the check", "round {round}: {denied}");
    }
    let o = login(&strict, false);
    assert_eq!(o["error"]["cause"], "rule_error", "{o}");
    assert!(o["error"]["description"].as_str().unwrap_or("").contains("not extensible"), "{o}");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dir2);
}

/// Everything a rule can reach from the global object, the hidden intrinsics and the
/// built-in modules is frozen, except the global object itself and `global`.
#[test]
fn every_reachable_built_in_is_frozen() {
    let walker = r#"function (user, context, callback) {
  var gp = Object.getPrototypeOf;
  var roots = [
    ['GeneratorFunction.prototype', gp(function* () {})], ['AsyncFunction.prototype', gp(async function () {})],
    ['AsyncGeneratorFunction.prototype', gp(async function* () {})], ['ArrayIterator', gp([][Symbol.iterator]())],
    ['MapIterator', gp(new Map()[Symbol.iterator]())], ['SetIterator', gp(new Set()[Symbol.iterator]())],
    ['StringIterator', gp(''[Symbol.iterator]())], ['RegExpStringIterator', gp(/x/g[Symbol.matchAll]('x'))],
    ['IteratorHelper', gp([].values().map(function (x) { return x; }))],
    ['WrapForValidIterator', gp(Iterator.from({ next: function () { return { done: true }; } }))],
    ['arguments', gp(arguments)], ['crypto', require('crypto')], ['url', require('url')],
    ['querystring', require('querystring')], ['buffer', require('buffer')],
    ['hash', gp(require('crypto').createHash('sha256'))],
  ];
  Object.getOwnPropertyNames(globalThis).forEach(function (n) { if (n !== 'global') roots.push([n, globalThis[n]]); });
  var seen = new Set([globalThis, global]), todo = roots.slice(), open = [];
  while (todo.length > 0) {
    var item = todo.pop(), path = item[0], v = item[1];
    if (v === null || (typeof v !== 'object' && typeof v !== 'function') || seen.has(v)) continue;
    seen.add(v);
    if (!Object.isFrozen(v)) open.push(path);
    todo.push([path + '.__proto__', gp(v)]);
    Reflect.ownKeys(v).forEach(function (k) {
      var d = Object.getOwnPropertyDescriptor(v, k), name = path + '.' + String(k);
      if ('value' in d) todo.push([name, d.value]); else { todo.push([name + '.get', d.get]); todo.push([name + '.set', d.set]); }
    });
  }
  context.idToken['https://x/open'] = open.sort();
  context.idToken['https://x/seen'] = seen.size;
  callback(null, user, context);
}
"#;
    let (dir, p) = pipeline_in("walk", &[("walk.js", walker)], "");
    let o = outcome(&p, &json!({"user_id": "auth0|1"}));
    assert_eq!(o["decision"], "allow", "{o}");
    assert_eq!(o["id_token"]["https://x/open"], json!([]), "{o}");
    assert!(o["id_token"]["https://x/seen"].as_u64().unwrap_or(0) > 800, "the walk reached the built-ins: {o}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// What one login leaves behind cannot reach the next: a rule file's top-level code runs
/// after the lockdown, the prelude's `__warden` is not reachable, `Error.prepareStackTrace`
/// cannot be hooked, and promise jobs still queued after a login never run in a later one.
#[test]
fn nothing_a_login_plants_runs_in_the_next() {
    let early = "Object.freeze = function (o) { return o; }, function (user, context, callback) {\n  if (user.app_metadata.mode === 'plant') { try { Object.prototype.isAdmin = true; } catch (e) {} }\n  context.idToken['https://x/admin'] = ({}).isAdmin === true;\n  callback(null, user, context);\n}\n";
    let hooks = "function (user, context, callback) {\n  var mode = user.app_metadata.mode;\n  if (mode === 'plant') {\n    try { Error.prepareStackTrace = function (e) { auth0.users.updateAppMetadata('auth0|attacker', { seen: e.message }); return ''; }; } catch (e) {}\n    try { Error.stackTraceLimit = 0; } catch (e) {}\n    try { __warden.module('crypto', function (m) { m.exports = { timingSafeEqual: function () { return true; } }; }); } catch (e) { context.idToken['https://x/warden'] = e.name; }\n    queueMicrotask(function () { throw new Error('first'); });\n    Promise.resolve().then(function () { return null; }).then(function () { auth0.users.updateAppMetadata('auth0|attacker', { late: true }); console.log('late'); });\n    return callback(null, user, context);\n  }\n  var e = new Error('secret for ' + user.email);\n  context.idToken['https://x/stack'] = typeof e.stack === 'string' && e.stack.length > 0;\n  context.idToken['https://x/eq'] = require('crypto').timingSafeEqual(Buffer.from('a'), Buffer.from('b'));\n  callback(null, user, context);\n}\n";
    let (dir, p) = pipeline_in("plant", &[("early.js", early), ("hooks.js", hooks)], "");
    let login = |id: &str, mode: &str| {
        let user = json!({"user_id": id, "email": format!("{id}@example.com"), "app_metadata": {"mode": mode}});
        outcome(&p, &user)
    };
    let planted = login("auth0|attacker", "plant");
    assert_eq!(planted["decision"], "allow", "{planted}");
    assert_eq!(planted["id_token"]["https://x/warden"], "ReferenceError", "{planted}");
    let victim = login("auth0|victim", "ok");
    assert_eq!(victim["decision"], "allow", "{victim}");
    assert_eq!(victim["id_token"]["https://x/admin"], false, "{victim}");
    assert_eq!(victim["id_token"]["https://x/stack"], true, "{victim}");
    assert_eq!(victim["id_token"]["https://x/eq"], false, "{victim}");
    assert_eq!(victim["effects"], json!([]), "{victim}");
    assert_eq!(victim["logs"], json!([]), "{victim}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A rule cannot reach the other rules (it is called with no receiver of warden's), arm a
/// timer that fires in a later login, call back after the deadline, or hand back objects
/// that are not JSON objects to drop the run's changes; built-ins that would run past the
/// deadline in C refuse huge lengths; collector callbacks do not exist.
#[test]
fn rules_cannot_escape_their_login() {
    let a = "function a(user, context, callback) {\n  try { this[1] = function (u, c, cb) { cb(null, u, c); }; } catch (e) {}\n  try { this.length = 0; } catch (e) {}\n  if (user.app_metadata.plant) {\n    user.x = { toJSON: function () { setTimeout(function () { auth0.users.updateAppMetadata('auth0|attacker', { stolen: 1 }); console.log('planted'); throw new Error('planted'); }, 0); return 1; } };\n  }\n  context.idToken['https://x/collectors'] = [typeof FinalizationRegistry, typeof WeakRef];\n  callback(null, user, context);\n}\n";
    let b = "function b(user, context, callback) {\n  if (user.app_metadata.deny) return callback(new UnauthorizedError('denied by b'));\n  setTimeout(function () { callback(null, user, context); }, 5);\n}\n";
    let (dir, p) = pipeline_in(
        "escape",
        &[
            ("a.js", a),
            ("gate.rule", "rule \"pass\" {\n    claim id_token \"https://x/gate\" = true\n}\n"),
            ("b.js", b),
        ],
        "",
    );
    let login = |app: Json| {
        p.execute(&json!({"user_id": "auth0|1", "app_metadata": app}), &json!({}), &Exec::at(0))
            .expect("valid")
            .to_json()
    };
    for _ in 0..2 {
        let o = login(json!({"deny": true}));
        assert_eq!(o["error"]["description"], "denied by b", "{o}");
    }
    let planted = login(json!({"plant": true}));
    assert_eq!(planted["decision"], "allow", "{planted}");
    assert_eq!(planted["id_token"]["https://x/collectors"], json!(["undefined", "undefined"]), "{planted}");
    let victim = login(json!({}));
    assert_eq!(victim["decision"], "allow", "{victim}");
    assert_eq!(victim["effects"], json!([]), "{victim}");
    assert_eq!(victim["logs"], json!([]), "{victim}");
    let _ = std::fs::remove_dir_all(&dir);

    let late = "function (user, context, callback) {\n  Promise.resolve().then(function () { while (true) {} });\n  setTimeout(function () { context.idToken['https://x/late'] = true; callback(null, user, context); }, 1);\n}\n";
    let (dir, p) = pipeline_in("late", &[("late.js", late)], "timeout_ms = 300");
    let o = outcome(&p, &json!({"user_id": "auth0|1"}));
    assert_eq!(o["error"]["cause"], "timeout", "a callback after the deadline does not count: {o}");
    let _ = std::fs::remove_dir_all(&dir);

    let first = "function (user, context, callback) { context.multifactor = { provider: 'guardian' }; callback(null, user, context); }";
    let blank = "function (user, context, callback) { user.toJSON = function () { return undefined; }; callback(null, user, context); }";
    let (dir, p) = pipeline_in("blank", &[("first.js", first), ("blank.js", blank)], "");
    let o = outcome(&p, &json!({"user_id": "auth0|1"}));
    assert_eq!(o["error"]["cause"], "rule_error", "the run's MFA is not silently dropped: {o}");
    let _ = std::fs::remove_dir_all(&dir);

    let huge = "function (user, context, callback) {\n  var names = ['reverse', 'join', 'toString', 'toLocaleString', 'sort', 'splice', 'shift', 'unshift', 'copyWithin', 'flat', 'concat', 'fill', 'slice', 'lastIndexOf'];\n  var out = {};\n  names.forEach(function (n) {\n    var o = { length: Math.pow(2, 53) - 1 };\n    try { Array.prototype[n].call(o); out[n] = 'returned'; } catch (e) { out[n] = e.name; }\n  });\n  var sparse = []; sparse.length = Math.pow(2, 32) - 1;\n  try { sparse.join(''); out.sparse = 'returned'; } catch (e) { out.sparse = e.name; }\n  context.idToken['https://x/huge'] = out;\n  callback(null, user, context);\n}\n";
    let (dir, p) = pipeline_in("huge", &[("huge.js", huge)], "timeout_ms = 2000");
    let o = outcome(&p, &json!({"user_id": "auth0|1"}));
    assert_eq!(o["decision"], "allow", "{o}");
    let results = o["id_token"]["https://x/huge"].as_object().cloned().unwrap_or_default();
    assert_eq!(results.len(), 15, "{o}");
    // `toString` on a non-array without `join` falls back to `Object.prototype.toString` at
    // once; every other method refuses the length.
    assert!(results.iter().all(|(k, v)| v == "RangeError" || (k == "toString" && v == "returned")), "{o}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A vendored module cannot break out of its wrapper to reach warden's prelude: the file
/// then does not load.
#[test]
fn a_module_that_escapes_its_wrapper_does_not_load() {
    let dir = write_pipeline(
        "modescape",
        &[("r.js", "function (user, context, callback) { require('helper'); callback(null, user, context); }")],
        &[("helper.js", "});globalThis.W = __warden;(function () {")],
        "\n[modules]\nhelper = \"helper.js\"",
    );
    let e = match Pipeline::from_manifest(dir.join("warden.toml")) {
        Err(warden::LoadError::Check(c)) => {
            c.diagnostics.iter().map(|d| d.message.clone()).collect::<Vec<_>>().join("; ")
        }
        Err(other) => other.to_string(),
        Ok(_) => String::new(),
    };
    assert!(e.contains("__warden is not defined"), "the module must not load: {e:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Reading the user back (straight from QuickJS values, and against the user the run
/// started from, so that an unchanged one is not rebuilt) agrees with QuickJS's own
/// `JSON.stringify` of the same object, for random users and random edits: set, delete,
/// `undefined`, a `Date` (`toJSON`), a moved key, a function, a boxed string, a shortened
/// array, and keys holding a NUL character.
#[test]
fn the_user_read_back_is_json_stringify_of_what_the_rules_left() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let rule = r#"function edit(user, context, callback) {
  var containers = [];
  (function walk(v) {
    if (v !== null && typeof v === 'object') { containers.push(v); Object.keys(v).forEach(function (k) { walk(v[k]); }); }
  })(user);
  (context.ops || []).forEach(function (op) {
    var c = containers[op[1] % containers.length], keys = Object.keys(c), k;
    if (Array.isArray(c)) k = op[2] % (keys.length + 1);
    else if (keys.length > 0 && op[2] % 3 !== 0) k = keys[op[2] % keys.length];
    else k = (op[2] % 2 ? 'k' : 'n\u0000') + op[2];
    // `user_id` is a known field, checked after a JavaScript rule: a list there is a rule error.
    if (c === user && k === 'user_id') return;
    switch (op[0]) {
      case 0: c[k] = op[3]; break;
      case 1: delete c[k]; break;
      case 2: c[k] = undefined; break;
      case 3: c[k] = new Date(op[2] * 1e9); break;
      case 4: if (Array.isArray(c)) c.push(op[3]); else { var v = c[k]; delete c[k]; c[k] = v; } break;
      case 5: c[k] = function () {}; break;
      case 6: c[k] = new String('boxed' + op[2]); break;
      default: if (Array.isArray(c)) c.length = op[2] % 3;
    }
  });
  context.idToken['https://x/expect'] = JSON.stringify(user);
  callback(null, user, context);
}
"#;
    let (dir, p) = pipeline_in("read-back", &[("edit.js", rule)], "");
    // Numbers compare as doubles (JSON.stringify writes 2^63 as digits where the reader
    // writes 9.2e18); keys compare in order.
    fn close(a: &Json, b: &Json) -> bool {
        match (a, b) {
            (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
            (Json::Array(x), Json::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| close(a, b)),
            (Json::Object(x), Json::Object(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|((ka, va), (kb, vb))| ka == kb && close(va, vb))
            }
            _ => a == b,
        }
    }
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(Json::from),
        (-1e6f64..1e6).prop_map(|f| serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number)),
        "[a-z0-9 é\u{1F600}]{0,8}".prop_map(Json::String),
    ];
    let value = leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Json::Array),
            prop::collection::vec(("[a-f]{1,2}", inner), 0..5).prop_map(|kv| Json::Object(kv.into_iter().collect())),
        ]
    });
    let user = prop::collection::vec(("[a-f]{1,2}", value.clone()), 0..6).prop_map(|kv| {
        let mut m: serde_json::Map<String, Json> = kv.into_iter().collect();
        m.insert("user_id".into(), json!("auth0|1"));
        Json::Object(m)
    });
    let ops = prop::collection::vec((0u32..8, 0u32..64, 0u32..64, value), 0..4);
    let mut runner = TestRunner::new(Config { cases: 96, failure_persistence: None, ..Config::default() });
    let result = runner.run(&(user, ops), |(user, ops)| {
        let ops: Vec<Json> = ops.into_iter().map(|(a, b, c, v)| json!([a, b, c, v])).collect();
        let context = json!({ "ops": ops });
        for backend in [Backend::Interp, Backend::Jit] {
            let o = p.execute(&user, &context, &Exec::at(0).on(backend)).expect("valid").to_json();
            prop_assert_eq!(&o["decision"], "allow", "{}", o);
            let expect: Json = serde_json::from_str(o["id_token"]["https://x/expect"].as_str().unwrap_or("null"))
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(
                close(&o["user"], &expect),
                "read {} stringified {} user {} ops {}",
                o["user"],
                expect,
                user,
                context
            );
        }
        Ok(())
    });
    let _ = std::fs::remove_dir_all(&dir);
    assert!(result.is_ok(), "{}", result.err().map(|e| e.to_string()).unwrap_or_default());
}

/// Both backends, one login decoded with `overrides` (what `warden test` does for a case's
/// configuration) at `now`; both must agree.
fn both(p: &Pipeline, user: &Json, context: &Json, now: i64, overrides: &[(&str, &str)]) -> Json {
    warden_tests::assert_jit(p);
    let overrides: std::collections::BTreeMap<String, String> =
        overrides.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let run = |b: Backend| {
        let d = p
            .decode_with(std::sync::Arc::new(user.clone()), std::sync::Arc::new(context.clone()), now, &overrides)
            .expect("valid");
        p.run_decoded(d, &Exec::at(now).on(b)).to_json()
    };
    let (interp, jit) = (run(Backend::Interp), run(Backend::Jit));
    assert_eq!(interp, jit, "the backends disagree");
    interp
}

/// The JavaScript `configuration` (and `auth0.domain`) is the login's configuration, exactly
/// as `.rule` files see it: the manifest's, `set_config`'s (`warden run --config`), a login's
/// own overrides (`decode_with`, what `warden test` uses for a case's `config`), and an
/// artifact's; an override does not outlive its login, and the object stays frozen.
#[test]
fn configuration_reaches_javascript_rules_as_it_reaches_rule_files() {
    let probe = "function probe(user, context, callback) {\n  var blocked = (configuration.BLOCKED_COUNTRIES || '').split(',');\n  if (blocked.indexOf(context.request.geoip.country_code) >= 0) return callback(new UnauthorizedError('blocked country'));\n  context.idToken['https://x/config'] = JSON.stringify(configuration);\n  context.idToken['https://x/domain'] = auth0.domain;\n  context.idToken['https://x/base'] = auth0.baseUrl;\n  context.idToken['https://x/frozen'] = Object.isFrozen(configuration) && Object.isFrozen(auth0);\n  callback(null, user, context);\n}\n";
    let gate = "rule \"gate\" {\n    claim id_token \"https://x/rule\" = config.PROBE_KEY\n}\n";
    let (dir, mut p) = pipeline_in(
        "config",
        &[("probe.js", probe), ("gate.rule", gate)],
        "\n[configuration]\nPROBE_KEY = \"from-manifest\"",
    );
    let user = json!({"user_id": "auth0|1"});
    let from = |country: &str| json!({"request": {"geoip": {"country_code": country}}});
    let claims = |o: &Json| {
        assert_eq!(o["decision"], "allow", "{o}");
        (o["id_token"]["https://x/config"].clone(), o["id_token"]["https://x/rule"].clone())
    };
    let o = both(&p, &user, &from("DE"), 0, &[]);
    assert_eq!(claims(&o), (json!(r#"{"PROBE_KEY":"from-manifest"}"#), json!("from-manifest")));
    assert_eq!(o["id_token"]["https://x/domain"], "tenant.example", "{o}");
    assert_eq!(o["id_token"]["https://x/frozen"], true, "{o}");

    let overrides = [("PROBE_KEY", "from-case"), ("BLOCKED_COUNTRIES", "DE,FR"), ("AUTH0_DOMAIN", "login.example.com")];
    let o = both(&p, &user, &from("GR"), 0, &overrides);
    assert_eq!(
        claims(&o),
        (
            json!(r#"{"AUTH0_DOMAIN":"login.example.com","BLOCKED_COUNTRIES":"DE,FR","PROBE_KEY":"from-case"}"#),
            json!("from-case")
        )
    );
    assert_eq!(o["id_token"]["https://x/domain"], "login.example.com", "{o}");
    assert_eq!(o["id_token"]["https://x/base"], "https://login.example.com/api/v2", "{o}");
    let o = both(&p, &user, &from("DE"), 0, &overrides);
    assert_eq!(o["error"]["description"], "blocked country", "a login's override decides: {o}");
    let o = both(&p, &user, &from("DE"), 0, &[]);
    assert_eq!(claims(&o).0, json!(r#"{"PROBE_KEY":"from-manifest"}"#), "the override ended with its login");
    assert_eq!(o["id_token"]["https://x/domain"], "tenant.example", "{o}");

    p.set_config("PROBE_KEY", "from-set").expect("a string key");
    p.set_config("BLOCKED_COUNTRIES", "GR").expect("a string key");
    let o = both(&p, &user, &from("GR"), 0, &[]);
    assert_eq!(o["error"]["description"], "blocked country", "set_config reaches JavaScript: {o}");
    let o = both(&p, &user, &from("DE"), 0, &[]);
    assert_eq!(claims(&o), (json!(r#"{"BLOCKED_COUNTRIES":"GR","PROBE_KEY":"from-set"}"#), json!("from-set")));

    let given: std::collections::BTreeMap<String, String> =
        [("PROBE_KEY", "from-artifact"), ("BLOCKED_COUNTRIES", "FR")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    let a = Pipeline::from_artifact(&p.to_artifact(None), None, &given).expect("loads");
    let o = both(&a, &user, &from("FR"), 0, &[]);
    assert_eq!(o["error"]["description"], "blocked country", "the artifact's configuration reaches JavaScript: {o}");
    let o = both(&a, &user, &from("GR"), 0, &[]);
    assert_eq!(
        claims(&o),
        (json!(r#"{"BLOCKED_COUNTRIES":"FR","PROBE_KEY":"from-artifact"}"#), json!("from-artifact"))
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// What one login's JavaScript adds to the global object is gone when the next login starts,
/// however it was added, so a legacy rule's sloppy implicit global (`verified = ...`) cannot
/// be answered by an earlier login's getter; the global object cannot be frozen or given
/// another prototype. Within one login, globals are shared by its JavaScript rules (also
/// across a `.rule` step); `global` is kept across logins.
#[test]
fn one_login_cannot_change_the_next_through_the_global_object() {
    let plant = r#"function plant(user, context, callback) {
  var mode = user.app_metadata.plant, yes = function () { return true; }, no = function () {};
  var tried = 'ok';
  try {
    switch (mode) {
      case 'defineProperty': Object.defineProperty(globalThis, 'verified', { get: yes, set: no }); break;
      case 'defineProperties': Object.defineProperties(globalThis, { verified: { get: yes, set: no }, leaked: { value: 1 } }); break;
      case 'reflect': Reflect.defineProperty(globalThis, 'verified', { get: yes, set: no }); break;
      case 'defineGetter': globalThis.__defineGetter__('verified', yes); globalThis.__defineSetter__('verified', no); break;
      case 'this': this.leaked = 1; Object.defineProperty(this, 'verified', { get: yes, set: no, configurable: false }); break;
      case 'eval var': (0, eval)('var leaked = 1; function verified() { return true; }'); break;
      case 'eval let': (0, eval)('let leaked = 1; const verified2 = 1; class Leaked {}'); break;
      case 'symbol': globalThis[Symbol.for('leaked')] = 1; Object.defineProperty(globalThis, Symbol.iterator, { value: 1 }); break;
      case 'proto': Object.setPrototypeOf(globalThis, { get verified() { return true; }, set verified(v) {} }); break;
      case 'reflect proto': if (!Reflect.setPrototypeOf(globalThis, { get verified() { return true; }, set verified(v) {} })) tried = 'refused'; break;
      case '__proto__': globalThis.__proto__ = { get verified() { return true; }, set verified(v) {} }; break;
      case 'freeze': leaked = 1; Object.freeze(globalThis); break;
      case 'seal': Object.seal(globalThis); break;
      case 'preventExtensions': Object.preventExtensions(globalThis); break;
      case 'reflect preventExtensions': if (!Reflect.preventExtensions(globalThis)) tried = 'refused'; break;
      case 'late': Promise.resolve().then(function () { Object.defineProperty(globalThis, 'verified', { get: yes, set: no }); }); break;
    }
  } catch (e) { tried = e.name; }
  context.idToken['https://x/tried'] = tried;
  shared = 'from plant';
  callback(null, user, context);
}
"#;
    let between = "rule \"between\" {\n    log \"a .rule step\"\n}\n";
    let check = r#"function check(user, context, callback) {
  context.idToken['https://x/shared'] = typeof shared === 'undefined' ? null : shared;
  context.idToken['https://x/leaked'] = [typeof leaked, typeof Leaked, typeof verified2, Symbol.for('leaked') in globalThis, globalThis[Symbol.iterator] === undefined];
  verified = user.email_verified === true;
  if (!verified) return callback(new UnauthorizedError('verify your email'));
  callback(null, user, context);
}
"#;
    let (dir, p) = pipeline_in("globals", &[("plant.js", plant), ("between.rule", between), ("check.js", check)], "");
    let login = |mode: &str, verified: bool| {
        let user = json!({"user_id": "auth0|1", "email_verified": verified, "app_metadata": {"plant": mode}});
        both(&p, &user, &json!({}), 0, &[])
    };
    let modes = [
        "defineProperty",
        "defineProperties",
        "reflect",
        "defineGetter",
        "this",
        "eval var",
        "eval let",
        "symbol",
        "proto",
        "reflect proto",
        "__proto__",
        "freeze",
        "seal",
        "preventExtensions",
        "reflect preventExtensions",
        "late",
    ];
    let mut failures = Vec::new();
    for mode in modes {
        let planted = login(mode, true);
        // The planting login itself: globals are shared by the login's JavaScript rules.
        if planted["id_token"]["https://x/shared"] != "from plant" {
            failures.push(format!("{mode}: globals are not shared within the login: {planted}"));
        }
        for _ in 0..2 {
            let victim = login("none", false);
            if victim["error"]["description"] != "verify your email" {
                failures.push(format!("{mode}: an unverified user was not denied: {victim}"));
            }
            let next = login("none", true);
            let clean = json!(["undefined", "undefined", "undefined", false, true]);
            if next["decision"] != "allow" || next["id_token"]["https://x/leaked"] != clean {
                failures.push(format!("{mode}: the next login is not clean: {next}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // What the attempts that cannot succeed report to the rule.
    for (mode, tried) in [
        ("proto", "TypeError"),
        ("reflect proto", "refused"),
        ("__proto__", "TypeError"),
        ("freeze", "TypeError"),
        ("seal", "TypeError"),
        ("preventExtensions", "TypeError"),
        ("reflect preventExtensions", "refused"),
        ("defineProperty", "ok"),
    ] {
        assert_eq!(login(mode, true)["id_token"]["https://x/tried"], tried, "{mode}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `Date.now()`, `new Date()` and `Date()` read the login's time (`Exec::now`, what `--now`
/// and a test case's `now` set), advanced by the timers' virtual clock across the login's
/// rules, from sources and from an artifact; the rest of `Date` works as before and stays
/// frozen. A password-age rule decides against the login's date.
#[test]
fn javascript_reads_the_login_clock() {
    let a = r#"function a(user, context, callback) {
  var t = context.idToken, start = Date.now();
  t['https://x/now'] = start;
  t['https://x/new'] = new Date().getTime();
  t['https://x/call'] = Date() === new Date(start).toString();
  t['https://x/weekday'] = new Date().getUTCDay();
  t['https://x/fixed'] = [new Date(0).getTime(), new Date('2020-01-01T00:00:00Z').getTime(), Date.parse('2020-01-01T00:00:00Z'), Date.UTC(2020, 0, 1), new Date(2020, 0, 1) instanceof Date, isNaN(new Date(undefined))];
  t['https://x/shape'] = [new Date() instanceof Date, Object.getPrototypeOf(new Date()) === Date.prototype, Date.prototype.constructor === Date, Date.name, Date.length, Object.isFrozen(Date), Object.prototype.toString.call(new Date())];
  class Later extends Date {}
  t['https://x/subclass'] = [new Later().getTime() === start, new Later() instanceof Date, new Later(5).getTime()];
  var age = Date.now() - Date.parse(user.last_password_reset);
  if (age > 30 * 24 * 3600 * 1000) return callback(new UnauthorizedError('password too old'));
  setTimeout(function () {
    t['https://x/later'] = Date.now() - start;
    t['https://x/perf'] = performance.timeOrigin + performance.now() === Date.now();
    callback(null, user, context);
  }, 1500);
}
"#;
    let b = "function b(user, context, callback) {\n  context.idToken['https://x/b'] = Date.now() - context.idToken['https://x/now'];\n  callback(null, user, context);\n}\n";
    let (dir, p) = pipeline_in("clock", &[("a.js", a), ("b.js", b)], "");
    let artifact = Pipeline::from_artifact(&p.to_artifact(None), None, &Default::default()).expect("loads");
    let thursday = warden::parse_time("2026-11-26T12:00:00Z").expect("time");
    let later = warden::parse_time("2027-01-01T00:00:00Z").expect("time");
    let user = json!({"user_id": "auth0|1", "last_password_reset": "2026-11-20T00:00:00Z"});
    for pipeline in [&p, &artifact] {
        let o = both(pipeline, &user, &json!({}), thursday, &[]);
        assert_eq!(o["decision"], "allow", "{o}");
        let t = &o["id_token"];
        assert_eq!((&t["https://x/now"], &t["https://x/new"]), (&json!(thursday), &json!(thursday)), "{o}");
        assert_eq!(t["https://x/call"], true, "{o}");
        assert_eq!(t["https://x/weekday"], 4, "{o}");
        assert_eq!(
            t["https://x/fixed"],
            json!([0, 1_577_836_800_000i64, 1_577_836_800_000i64, 1_577_836_800_000i64, true, true]),
            "{o}"
        );
        assert_eq!(t["https://x/shape"], json!([true, true, true, "Date", 7, true, "[object Date]"]), "{o}");
        assert_eq!(t["https://x/subclass"], json!([true, true, 5]), "{o}");
        assert_eq!((&t["https://x/later"], &t["https://x/perf"]), (&json!(1500), &json!(true)), "{o}");
        assert_eq!(t["https://x/b"], 1500, "the next rule of the login continues the clock: {o}");
        let o = both(pipeline, &user, &json!({}), later, &[]);
        assert_eq!(o["error"]["description"], "password too old", "{o}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `context.samlConfiguration` and `context.primaryUser`, which Auth0 reads back after the
/// pipeline, reach the outcome (`saml_configuration`, `primary_user`) when a rule changed
/// them, from the last rule of a run and from one followed by a `.rule` step, from sources
/// and from an artifact; a wrong type is a rule error naming the rule that wrote it; when
/// no rule changed them the outcome has neither key.
#[test]
fn saml_configuration_and_primary_user_reach_the_outcome() {
    let mapping = "function saml(user, context, callback) {\n  context.samlConfiguration = context.samlConfiguration || {};\n  context.samlConfiguration.mappings = { 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn': 'upn', 'http://schemas.auth0.com/food': 'user_metadata.favorite_food' };\n  context.samlConfiguration.audience = 'urn:my-app';\n  context.samlConfiguration.lifetimeInSeconds = 3600;\n  callback(null, user, context);\n}\n";
    let link = "function link(user, context, callback) {\n  if (user.app_metadata.primary) context.primaryUser = user.app_metadata.primary;\n  callback(null, user, context);\n}\n";
    let read = "function read(user, context, callback) {\n  context.idToken['https://x/audience'] = context.samlConfiguration.audience;\n  context.idToken['https://x/primary'] = context.primaryUser;\n  callback(null, user, context);\n}\n";
    let between = "rule \"between\" {\n    log \"a .rule step\"\n}\n";
    let saml = json!({
        "mappings": {"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "upn", "http://schemas.auth0.com/food": "user_metadata.favorite_food"},
        "audience": "urn:my-app", "lifetimeInSeconds": 3600,
    });
    let primary = |id: Json| json!({"user_id": "auth0|2", "app_metadata": {"primary": id}});
    let context = json!({"protocol": "samlp", "samlConfiguration": {}});
    for (name, rules) in [
        ("saml-end", vec![("link.js", link), ("saml.js", mapping)]),
        ("saml-between", vec![("saml.js", mapping), ("link.js", link), ("between.rule", between), ("read.js", read)]),
    ] {
        let (dir, p) = pipeline_in(name, &rules, "");
        let artifact = Pipeline::from_artifact(&p.to_artifact(None), None, &Default::default()).expect("loads");
        for pipeline in [&p, &artifact] {
            let o = both(pipeline, &primary(json!("auth0|1")), &context, 0, &[]);
            assert_eq!(o["decision"], "allow", "{name}: {o}");
            assert_eq!(o["saml_configuration"], saml, "{name}: {o}");
            assert_eq!(o["primary_user"], "auth0|1", "{name}: {o}");
            if rules.len() == 4 {
                assert_eq!(o["id_token"]["https://x/audience"], "urn:my-app", "{name}: {o}");
                assert_eq!(o["id_token"]["https://x/primary"], "auth0|1", "{name}: {o}");
            }
            let o = both(pipeline, &primary(json!(42)), &context, 0, &[]);
            assert_eq!(o["error"]["cause"], "rule_error", "{name}: {o}");
            assert_eq!(o["error"]["rule"], "link", "{name}: {o}");
            assert_eq!(
                o["error"]["description"],
                "rule error: context.primaryUser must be a user_id (a non-empty string), found a number",
                "{name}: {o}"
            );
            assert!(o["error"]["location"].as_str().unwrap_or("").ends_with("link.js"), "{name}: {o}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    let (dir, p) = pipeline_in(
        "saml-unchanged",
        &[
            ("link.js", link),
            (
                "read.js",
                "function (user, context, callback) { context.samlConfiguration.audience; callback(null, user, context); }",
            ),
        ],
        "",
    );
    let user = json!({"user_id": "auth0|2", "app_metadata": {}});
    // Numbers that come back from JavaScript written otherwise (`3600.0` as `3600`) are the same.
    let unchanged: Json = serde_json::from_str(
        r#"{"samlConfiguration": {"audience": "urn:host", "lifetimeInSeconds": 3600.0, "n": [1e3]}, "primaryUser": "auth0|0"}"#,
    )
    .expect("json");
    let o = both(&p, &user, &unchanged, 0, &[]);
    assert_eq!(o["decision"], "allow", "{o}");
    let keys: Vec<&String> = o.as_object().map(|m| m.keys().collect()).unwrap_or_default();
    assert_eq!(
        keys,
        [
            "decision",
            "error",
            "user",
            "id_token",
            "access_token",
            "scope",
            "multifactor",
            "redirect",
            "effects",
            "logs"
        ],
        "unchanged: neither key: {o}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    for (text, description) in [
        (
            "context.samlConfiguration = 'urn:x';",
            "rule error: context.samlConfiguration must be an object, found a string",
        ),
        (
            "delete context.samlConfiguration;",
            "rule error: context.samlConfiguration must be an object, found undefined",
        ),
        (
            "context.primaryUser = '';",
            "rule error: context.primaryUser must be a user_id (a non-empty string), found an empty string",
        ),
    ] {
        let rule = format!("function wrong(user, context, callback) {{ {text} callback(null, user, context); }}");
        let (dir, p) = pipeline_in("saml-wrong", &[("wrong.js", &rule)], "");
        let o = both(&p, &json!({"user_id": "auth0|2"}), &context, 0, &[]);
        assert_eq!(o["error"]["description"], description, "{o}");
        assert_eq!((&o["error"]["rule"], &o["error"]["cause"]), (&json!("wrong"), &json!("rule_error")), "{o}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// An error the rule cannot have read (a proxy whose traps throw, as the callback's error or
/// thrown) still denies, and says so.
#[test]
fn an_unreadable_error_denies_with_a_description() {
    let trap = "new Proxy({}, { get: function () { throw new Error('trap'); }, getPrototypeOf: function () { throw new Error('trap'); }, ownKeys: function () { throw new Error('trap'); } })";
    for (text, code, cause) in [
        (format!("function proxy(user, context, callback) {{ callback({trap}); }}"), "access_denied", "denied"),
        (format!("function proxy(user, context, callback) {{ throw {trap}; }}"), "access_denied", "rule_error"),
        (
            format!("async function proxy(user, context, callback) {{ await null; throw {trap}; }}"),
            "access_denied",
            "rule_error",
        ),
    ] {
        let rule = text.clone();
        let (dir, p) = pipeline_in("proxy", &[("proxy.js", &rule)], "timeout_ms = 2000");
        let o = both(&p, &json!({"user_id": "auth0|1"}), &json!({}), 0, &[]);
        assert_eq!(o["decision"], "deny", "{text}: {o}");
        assert_eq!((&o["error"]["code"], &o["error"]["cause"]), (&json!(code), &json!(cause)), "{text}: {o}");
        let description = o["error"]["description"].as_str().unwrap_or("");
        assert!(
            description.ends_with("the rule reported an error that cannot be read (reading it threw)"),
            "{text}: {o}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A long `console.log` message is cut, once, to at most 4,096 bytes with the `…` marker, on
/// a character boundary, whatever its characters; one of exactly 4,096 bytes is kept whole.
#[test]
fn long_log_messages_are_cut_to_4096_bytes_with_a_marker() {
    let rule = "function logs(user, context, callback) {\n  ['x'.repeat(10000), '\\u00e9'.repeat(5000), '\\ud83d\\ude00'.repeat(3000), 'a'.repeat(4095) + '\\u00e9', 'b'.repeat(4096), 'c'.repeat(4097)].forEach(function (m) { console.log(m); });\n  callback(null, user, context);\n}\n";
    let (dir, p) = pipeline_in("logs", &[("logs.js", rule)], "");
    let o = both(&p, &json!({"user_id": "auth0|1"}), &json!({}), 0, &[]);
    let messages: Vec<&str> =
        o["logs"].as_array().into_iter().flatten().filter_map(|l| l["message"].as_str()).collect();
    assert_eq!(messages.len(), 6, "{o}");
    for (i, m) in messages.iter().enumerate() {
        assert!(m.len() <= 4096, "message {i} has {} bytes", m.len());
        if i == 4 {
            assert_eq!(*m, "b".repeat(4096), "a message of 4,096 bytes is kept whole");
        } else {
            assert!(m.ends_with('…'), "message {i} ends with the marker");
            assert!(m.len() > 4090, "message {i} keeps what fits: {} bytes", m.len());
            assert!(!m.contains('\u{fffd}'), "message {i} was not cut inside a character");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Running out of memory is `resource_limit` on both backends, from the first time a
/// runtime hits its limit, however QuickJS reports it (`InternalError: out of memory`, or
/// `null` when memory is so exhausted that it cannot make that error), and whether the rule
/// let it escape or called back with it; the runtime is replaced, so the next login runs.
#[test]
fn out_of_memory_is_a_resource_limit_on_every_backend() {
    let rule = r#"function grow(user, context, callback) {
  var mode = user.app_metadata.grow;
  var exhaust = function () {
    var keep = [], n = 1 << 16;
    for (;;) { try { keep.push(new Array(n).fill(0)); } catch (e) { if (n === 1) throw e; n = n >> 1; } }
  };
  if (mode === 'big') { var big = []; while (true) big.push(new Array(1e5).fill(1)); }
  if (mode === 'all') exhaust();
  if (mode === 'callback') { try { exhaust(); } catch (e) { return callback(e); } }
  global.n = (global.n || 0) + 1;
  context.idToken['https://x/n'] = global.n;
  callback(null, user, context);
}
"#;
    let (dir, p) = pipeline_in("oom", &[("grow.js", rule)], "timeout_ms = 10000\njs_memory_mib = 16");
    let grow = |mode: &str| json!({"user_id": "auth0|1", "app_metadata": {"grow": mode}});
    let mut failures = Vec::new();
    for mode in ["big", "all", "callback"] {
        for backend in [Backend::Interp, Backend::Jit] {
            // A fresh runtime: its first out-of-memory is the one that was misread.
            p.recycle_js();
            let o = p.execute(&grow("none"), &json!({}), &Exec::at(0).on(backend)).expect("valid").to_json();
            assert_eq!(o["id_token"]["https://x/n"], 1, "{o}");
            let o = p.execute(&grow(mode), &json!({}), &Exec::at(0).on(backend)).expect("valid").to_json();
            if (&o["error"]["cause"], &o["error"]["description"])
                != (&json!("resource_limit"), &json!("the rule exceeded its memory limit (16 MiB)"))
            {
                failures.push(format!("{mode} on {backend:?}: {o}"));
            }
            let o = p.execute(&grow("none"), &json!({}), &Exec::at(0).on(backend)).expect("valid").to_json();
            if o["id_token"]["https://x/n"] != 1 {
                failures.push(format!("{mode} on {backend:?}: the runtime was not replaced: {o}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let _ = std::fs::remove_dir_all(&dir);
}
