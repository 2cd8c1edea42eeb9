//! The hook adapters over real HTTP: a server started in process (`warden_server::start` on
//! `127.0.0.1:0`) serving `tests/project`, called with the hosts' documented payloads
//! (`tests/payloads`, sources in its README) and variations of them. For each host: an
//! allowed login, a denied one, claims or metadata carried, a requirement the host cannot
//! carry (denied), a malformed payload (400); for ZITADEL also bad, missing and stale
//! signatures (401) and a missing key (500).

#![allow(clippy::unwrap_used, clippy::panic)]

use std::net::SocketAddr;
use std::path::PathBuf;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value as Json, json};
use warden_server::adapters::{HookOptions, Tokens, zitadel};
use warden_server::{PipelineSpec, Settings, Source};

const KEY: &str = "zitadel-target-signing-key";

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/project/warden.toml")
}

fn payload(path: &str) -> Json {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/payloads").join(path);
    serde_json::from_slice(&std::fs::read(&full).unwrap()).unwrap()
}

/// What a test got back.
#[derive(Debug)]
struct Got {
    status: u16,
    body: Option<Json>,
}

/// Runs `f` against a fresh server with `hooks` and the given API keys.
fn with_server<F, Fut>(hooks: HookOptions, keys: Vec<String>, f: F)
where
    F: FnOnce(Caller) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async move {
        let mut settings =
            Settings::new(vec![PipelineSpec { name: "default".into(), source: Source::Manifest(manifest()) }]);
        settings.listen = "127.0.0.1:0".parse().unwrap();
        settings.hooks = hooks;
        settings.login_keys = keys;
        let running = warden_server::start(settings).await.unwrap();
        f(Caller { addr: running.addr }).await;
        running.shutdown().await.unwrap();
    });
}

fn default_hooks() -> HookOptions {
    let mut h = HookOptions::default();
    h.zitadel.signing_key = Some(KEY.into());
    h
}

#[derive(Clone, Copy)]
struct Caller {
    addr: SocketAddr,
}

impl Caller {
    async fn post(&self, path: &str, headers: &[(&str, String)], body: Vec<u8>) -> Got {
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let mut req =
            hyper::Request::post(format!("http://{}{path}", self.addr)).header("content-type", "application/json");
        for (k, v) in headers {
            req = req.header(*k, v.as_str());
        }
        let res = client.request(req.body(Full::new(Bytes::from(body))).unwrap()).await.unwrap();
        let status = res.status().as_u16();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() { None } else { Some(serde_json::from_slice(&bytes).unwrap()) };
        Got { status, body }
    }

    async fn json(&self, path: &str, body: &Json) -> Got {
        self.post(path, &[], body.to_string().into_bytes()).await
    }

    /// A ZITADEL call signed as ZITADEL signs it, `age` seconds ago.
    async fn zitadel(&self, body: &Json, key: &str, age: i64) -> Got {
        let bytes = body.to_string().into_bytes();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let sig = zitadel::signature_header(key, now - age, &bytes);
        self.post("/v1/hooks/zitadel", &[("ZITADEL-Signature", sig)], bytes).await
    }
}

fn error_message(got: &Got) -> String {
    got.body.as_ref().and_then(|b| b["error"]["message"].as_str()).unwrap_or("").to_string()
}

// ---- Hydra ----

/// The documented token hook payload with an email in the consent session's ID token claims.
fn hydra_with_email(email: &str) -> Json {
    let mut p = payload("hydra/token-hook.json");
    p["session"]["id_token"]["id_token_claims"]["ext"] = json!({ "email": email, "email_verified": true });
    p["session"]["extra"] = json!({ "tenant": "t1" });
    p
}

#[test]
fn hydra_token_hook() {
    with_server(default_hooks(), vec![], |c| async move {
        // The documented payload: nothing to add, tokens issued unchanged.
        let got = c.json("/v1/hooks/hydra/token", &payload("hydra/token-hook.json")).await;
        assert_eq!((got.status, got.body), (204, None));

        // The same through a named pipeline's route.
        let got = c.json("/v1/pipelines/default/hooks/hydra/token", &payload("hydra/token-hook.json")).await;
        assert_eq!(got.status, 204);

        // Claims are injected, and what the consent app set stays.
        let got = c.json("/v1/hooks/hydra/token", &hydra_with_email("ann@claims.example")).await;
        assert_eq!(got.status, 200);
        assert_eq!(
            got.body,
            Some(json!({ "session": {
                "access_token": { "tenant": "t1", "https://warden.example/client": "app-client" },
                "id_token": { "email": "ann@claims.example", "email_verified": true, "https://warden.example/email": "ann@claims.example" }
            }}))
        );

        // A deny is Hydra's 403.
        let got = c.json("/v1/hooks/hydra/token", &hydra_with_email("bob@blocked.example")).await;
        assert_eq!(got.status, 403);
        let body = got.body.unwrap();
        assert_eq!(body["error"], json!("access_denied"));
        assert_eq!(body["error_description"], json!("Accounts of blocked.example may not log in."));

        // MFA and metadata writes cannot travel in a token hook: denied, saying why.
        for (email, why) in
            [("eve@mfa.example", "multi-factor authentication"), ("pat@persist.example", "app_metadata (first_client)")]
        {
            let got = c.json("/v1/hooks/hydra/token", &hydra_with_email(email)).await;
            assert_eq!(got.status, 403, "{email}");
            let d = got.body.unwrap()["error_description"].as_str().unwrap().to_string();
            assert!(d.contains(why) && d.contains("cannot carry"), "{email}: {d}");
        }

        // Malformed: not JSON, and a payload without the client.
        let got = c.post("/v1/hooks/hydra/token", &[], b"{not json".to_vec()).await;
        assert_eq!(got.status, 400);
        let mut p = payload("hydra/token-hook.json");
        p["request"].as_object_mut().unwrap().remove("client_id");
        let got = c.json("/v1/hooks/hydra/token", &p).await;
        assert_eq!(got.status, 400);
        assert!(error_message(&got).contains("`request.client_id` is missing"), "{got:?}");

        // client_credentials: no end user, no rules, tokens unchanged.
        let mut p = payload("hydra/token-hook.json");
        p["request"]["grant_types"] = json!(["client_credentials"]);
        assert_eq!(c.json("/v1/hooks/hydra/token", &p).await.status, 204);
    });
}

#[test]
fn hooks_need_bearer_keys_unless_they_check_signatures() {
    let key = "0123456789abcdef0123456789abcdef".to_string();
    with_server(default_hooks(), vec![key.clone()], |c| async move {
        let body = payload("hydra/token-hook.json").to_string().into_bytes();
        assert_eq!(c.post("/v1/hooks/hydra/token", &[], body.clone()).await.status, 401);
        let bearer = [("authorization", format!("Bearer {key}"))];
        assert_eq!(c.post("/v1/hooks/hydra/token", &bearer, body).await.status, 204);
        // ZITADEL cannot send a bearer key; its signature authenticates it.
        let got = c.zitadel(&payload("zitadel/preaccesstoken.json"), KEY, 0).await;
        assert_eq!(got.status, 200, "{got:?}");
        // Undefined OPA documents are not answered to strangers either.
        assert_eq!(c.json("/v1/data/other/doc", &json!({ "input": {} })).await.status, 401);
    });
}

// ---- Kratos ----

fn kratos_with_email(file: &str, email: &str) -> Json {
    let mut p = payload(file);
    p["identity"]["traits"]["email"] = json!(email);
    p["identity"]["verifiable_addresses"][0]["value"] = json!(email);
    p
}

fn kratos_message(got: &Got) -> (u64, String) {
    let m = &got.body.as_ref().unwrap()["messages"][0]["messages"][0];
    (m["id"].as_u64().unwrap(), m["text"].as_str().unwrap().to_string())
}

#[test]
fn kratos_web_hooks() {
    with_server(default_hooks(), vec![], |c| async move {
        // The documented login, rendered by the recommended template: allowed, nothing to change.
        let got = c.json("/v1/hooks/kratos/login", &payload("kratos/login.json")).await;
        assert_eq!((got.status, got.body), (204, None));
        let got = c.json("/v1/hooks/kratos/registration", &payload("kratos/registration.json")).await;
        assert_eq!((got.status, got.body), (204, None));

        // A deny: 403 with a message Kratos shows on the form.
        let got =
            c.json("/v1/hooks/kratos/login", &kratos_with_email("kratos/login.json", "bob@blocked.example")).await;
        assert_eq!(got.status, 403);
        assert_eq!(got.body.as_ref().unwrap()["messages"][0]["instance_ptr"], json!("#/"));
        assert_eq!(kratos_message(&got), (4_100_001, "Accounts of blocked.example may not log in.".into()));

        // A metadata write on registration travels as the new `metadata_public`.
        let got = c
            .json(
                "/v1/hooks/kratos/registration",
                &kratos_with_email("kratos/registration.json", "pat@persist.example"),
            )
            .await;
        assert_eq!(got.status, 200);
        assert_eq!(got.body, Some(json!({ "identity": { "metadata_public": { "first_client": "kratos" } } })));

        // What Kratos cannot carry: a write on login, MFA, token claims.
        for (email, why) in [
            ("pat@persist.example", "registration and settings hooks only"),
            ("eve@mfa.example", "multi-factor authentication"),
            ("ann@claims.example", "Kratos issues no tokens"),
        ] {
            let got = c.json("/v1/hooks/kratos/login", &kratos_with_email("kratos/login.json", email)).await;
            assert_eq!(got.status, 403, "{email}");
            let (id, text) = kratos_message(&got);
            assert_eq!(id, 4_100_002);
            assert!(text.contains(why), "{email}: {text}");
        }

        // Malformed: the registration body (no session) on the login route, a non-string email.
        let got = c.json("/v1/hooks/kratos/login", &payload("kratos/registration.json")).await;
        assert_eq!(got.status, 400);
        assert!(error_message(&got).contains("`session` is missing"), "{got:?}");
        let mut p = payload("kratos/login.json");
        p["identity"]["traits"]["email"] = json!(42);
        let got = c.json("/v1/hooks/kratos/login", &p).await;
        assert_eq!(got.status, 400);
        assert!(error_message(&got).contains("`identity.traits.email` must be a string"), "{got:?}");
    });
}

#[test]
fn kratos_can_leave_tokens_to_another_hook() {
    let mut hooks = default_hooks();
    hooks.kratos.tokens = Tokens::Ignore;
    with_server(hooks, vec![], |c| async move {
        let got = c.json("/v1/hooks/kratos/login", &kratos_with_email("kratos/login.json", "ann@claims.example")).await;
        assert_eq!(got.status, 204);
    });
}

// ---- ZITADEL ----

fn zitadel_with_email(file: &str, email: &str) -> Json {
    let mut p = payload(file);
    p["user"]["human"]["email"] = json!(email);
    p
}

fn forwarded(got: &Got) -> String {
    assert_eq!(got.status, 200, "{got:?}");
    let body = got.body.as_ref().unwrap();
    assert_eq!(body["forwardedStatusCode"], json!(403), "{body}");
    body["forwardedErrorMessage"].as_str().unwrap().to_string()
}

#[test]
fn zitadel_targets() {
    with_server(default_hooks(), vec![], |c| async move {
        // The documented payload (with `application` and a grant): allowed, nothing to add.
        let got = c.zitadel(&payload("zitadel/preaccesstoken.json"), KEY, 0).await;
        assert_eq!((got.status, got.body), (200, Some(json!({}))));

        // Claims: the access token's on preaccesstoken, the ID token's on preuserinfo.
        let got = c.zitadel(&zitadel_with_email("zitadel/preaccesstoken.json", "ann@claims.example"), KEY, 0).await;
        assert_eq!(
            got.body,
            Some(
                json!({ "append_claims": [{ "key": "https://warden.example/client", "value": "312909075212468633" }] })
            )
        );
        let got = c.zitadel(&zitadel_with_email("zitadel/preuserinfo.json", "ann@claims.example"), KEY, 0).await;
        assert_eq!(
            got.body,
            Some(
                json!({ "append_claims": [{ "key": "https://warden.example/email", "value": "ann@claims.example" }] })
            )
        );

        // Metadata writes: set_user_metadata, base64.
        let got = c.zitadel(&zitadel_with_email("zitadel/preaccesstoken.json", "pat@persist.example"), KEY, 0).await;
        assert_eq!(
            got.body,
            Some(json!({ "set_user_metadata": [{ "key": "first_client", "value": "IjMxMjkwOTA3NTIxMjQ2ODYzMyI=" }] }))
        );
        // (The client id reads as a JSON number, so it is stored as JSON text to read back as a string.)

        // A deny and an MFA demand fail the call through ZITADEL's error forwarding.
        let m = forwarded(
            &c.zitadel(&zitadel_with_email("zitadel/preaccesstoken.json", "bob@blocked.example"), KEY, 0).await,
        );
        assert_eq!(m, "Accounts of blocked.example may not log in.");
        let m =
            forwarded(&c.zitadel(&zitadel_with_email("zitadel/preaccesstoken.json", "eve@mfa.example"), KEY, 0).await);
        assert!(m.contains("multi-factor authentication") && m.contains("cannot carry"), "{m}");

        // Signatures: wrong key, none, stale, from the future, over another body.
        let p = payload("zitadel/preaccesstoken.json");
        for (got, why) in [
            (c.zitadel(&p, "another-key", 0).await, "no signature matches"),
            (c.post("/v1/hooks/zitadel", &[], p.to_string().into_bytes()).await, "missing"),
            (c.zitadel(&p, KEY, 301).await, "past the tolerance"),
            (c.zitadel(&p, KEY, -400).await, "past the tolerance"),
        ] {
            assert_eq!(got.status, 401, "{why}: {got:?}");
            assert!(error_message(&got).contains(why), "{why}: {got:?}");
        }
        let bytes = p.to_string().into_bytes();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let sig = zitadel::signature_header(KEY, now, b"{\"other\":1}");
        assert_eq!(c.post("/v1/hooks/zitadel", &[("ZITADEL-Signature", sig)], bytes).await.status, 401);

        // Malformed (but signed): no user id; the documented example without `application`.
        let mut bad = payload("zitadel/preaccesstoken.json");
        bad["user"].as_object_mut().unwrap().remove("id");
        let got = c.zitadel(&bad, KEY, 0).await;
        assert_eq!(got.status, 400);
        assert!(error_message(&got).contains("`user.id` is missing"), "{got:?}");
        let got = c.zitadel(&payload("zitadel/preuserinfo-docs.json"), KEY, 0).await;
        assert_eq!(got.status, 400);
        assert!(error_message(&got).contains("application.client_id"), "{got:?}");
    });
}

#[test]
fn zitadel_without_a_key_decides_nothing() {
    with_server(HookOptions::default(), vec![], |c| async move {
        let got = c.zitadel(&payload("zitadel/preaccesstoken.json"), KEY, 0).await;
        assert_eq!(got.status, 500);
        assert!(error_message(&got).contains("no signing key"), "{got:?}");
        assert_eq!(got.body.unwrap()["error"]["code"], json!("hook_not_configured"));
    });
}

// ---- OPA / Keycloak ----

fn keycloak_with_email(email: &str) -> Json {
    let mut p = payload("opa/keycloak-access.json");
    p["input"]["subject"]["attributes"]["email"] = json!(email);
    p
}

#[test]
fn opa_data_api_for_keycloak() {
    with_server(default_hooks(), vec![], |c| async move {
        // The Keycloak OPA extension's request: the boolean at `.../allow`.
        let got = c.json("/v1/data/warden/default/allow", &payload("opa/keycloak-access.json")).await;
        assert_eq!(got.status, 200);
        let body = got.body.unwrap();
        assert_eq!(body["result"], json!(true));
        assert!(body["decision_id"].is_string());
        let got = c.json("/v1/data/warden/default/allow", &payload("opa/keycloak-login.json")).await;
        assert_eq!(got.body.unwrap()["result"], json!(true));

        // A deny: false, and the whole decision says why.
        let got = c.json("/v1/data/warden/default/allow", &keycloak_with_email("bob@blocked.example")).await;
        assert_eq!(got.body.unwrap()["result"], json!(false));
        let got = c.json("/v1/data/warden/default", &keycloak_with_email("bob@blocked.example")).await;
        let result = &got.body.unwrap()["result"];
        assert_eq!(result["allow"], json!(false));
        assert_eq!(result["hint"], json!("Accounts of blocked.example may not log in."));
        assert_eq!(result["error"]["rule"], json!("blocked domain"));

        // What a yes cannot carry is not allowed: MFA, claims (by default).
        for email in ["eve@mfa.example", "ann@claims.example"] {
            let got = c.json("/v1/data/warden/default/allow", &keycloak_with_email(email)).await;
            assert_eq!(got.body.unwrap()["result"], json!(false), "{email}");
        }

        // Undefined documents: 200 without a result, as OPA answers.
        for path in ["/v1/data/warden/nosuch/allow", "/v1/data/keycloak/realms/opademo/access/allow", "/v1/data/warden"]
        {
            let got = c.json(path, &payload("opa/keycloak-access.json")).await;
            assert_eq!((got.status, got.body), (200, Some(json!({}))), "{path}");
        }

        // Malformed input.
        let got =
            c.json("/v1/data/warden/default/allow", &json!({ "input": { "subject": { "username": "x" } } })).await;
        assert_eq!(got.status, 400);
        assert!(error_message(&got).contains("`input.resource` is missing"), "{got:?}");
        let got = c.json("/v1/data/warden/default", &json!({ "inputs": {} })).await;
        assert_eq!(got.status, 400);
    });
}

#[test]
fn opa_documents_and_claims_when_tokens_come_from_elsewhere() {
    let mut hooks = default_hooks();
    hooks.opa.tokens = Tokens::Ignore;
    hooks.opa.documents.insert("keycloak/realms/opademo/access".into(), "default".into());
    with_server(hooks, vec![], |c| async move {
        // Keycloak's own policy path, mapped to the pipeline: no change on Keycloak's side.
        let got = c.json("/v1/data/keycloak/realms/opademo/access/allow", &payload("opa/keycloak-access.json")).await;
        assert_eq!(got.body.unwrap()["result"], json!(true));
        // The claims are in the whole decision for a caller that issues tokens.
        let got = c.json("/v1/data/warden/default", &keycloak_with_email("ann@claims.example")).await;
        let result = &got.body.unwrap()["result"];
        assert_eq!(result["allow"], json!(true));
        assert_eq!(result["id_token"], json!({ "https://warden.example/email": "ann@claims.example" }));
        assert_eq!(result["access_token"], json!({ "https://warden.example/client": "account-console" }));
    });
}

#[test]
fn docs_recommend_the_template_the_kratos_payloads_were_rendered_with() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let template = std::fs::read_to_string(root.join("tests/payloads/kratos/warden.jsonnet")).unwrap();
    let docs = std::fs::read_to_string(root.join("../docs/hooks.md")).unwrap();
    assert!(
        docs.contains(&format!("```jsonnet\n{template}```")),
        "docs/hooks.md must hold tests/payloads/kratos/warden.jsonnet verbatim"
    );
}

/// Regression: with login keys set, an unknown pipeline on the ZITADEL route (which asks
/// for no bearer key) answered 404 with the names of every pipeline served; a request
/// without a fresh signature header now gets nothing done at all.
#[test]
fn the_zitadel_route_tells_an_unauthenticated_caller_nothing() {
    with_server(default_hooks(), vec!["login-key-0123456789".into()], |c| async move {
        let body = payload("zitadel/preaccesstoken.json").to_string().into_bytes();
        let got = c.post("/v1/pipelines/nope/hooks/zitadel", &[], body.clone()).await;
        assert_eq!(got.status, 401, "no signature header: refused before the lookup");
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let forged = zitadel::signature_header("not-the-key", now, &body);
        let got = c.post("/v1/pipelines/nope/hooks/zitadel", &[("ZITADEL-Signature", forged)], body).await;
        assert_eq!(got.status, 404);
        let text = got.body.map(|b| b.to_string()).unwrap_or_default();
        assert!(!text.contains("default"), "no pipeline names: {text}");
    });
}
