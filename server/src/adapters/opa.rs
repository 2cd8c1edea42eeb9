//! OPA's Data API (`POST /v1/data/{path}` with `{"input": ...}`, answered
//! `{"result": ..., "decision_id": ...}`), as Keycloak's OPA extensions call it, so that they
//! use warden in place of an OPA server without changes.
//!
//! Paths: `/v1/data/{prefix}/{pipeline}` answers the whole decision (`result.allow`,
//! `result.hint` and the outcome's fields); `/v1/data/{prefix}/{pipeline}/allow` answers the
//! boolean alone; `[hooks.opa] documents` maps other document paths (a Keycloak policy path
//! such as `keycloak/realms/acme/access`) to pipelines. A path that names no document, or a
//! pipeline that is not served, is an undefined document: 200 `{}` without `result`, as OPA
//! answers (the callers read it as "not allowed").
//!
//! Inputs: Keycloak's (`subject`, `resource`, `context`, `action`: thomasdarimont/
//! keycloak-opa-authz-demo `OpaAccessPolicyProvider`, `client/Opa*.java`; the same shape from
//! thomasdarimont/keycloak-project-example's earlier `OpaClient`), or warden's own
//! (`{"user": {...}, "context": {...}}`).
//!
//! Sources for the API: OPA's REST API reference ("Get a Document (with Input)": POST
//! `/v1/data/{path}`, `input`, `result` absent when undefined, `decision_id`).

use std::collections::BTreeMap;

use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value as Json, json};
use warden::Outcome;

use super::common::{self, Obj, Refusal};
use super::{Adapter, AdapterError, DecisionInfo, Login, Reply, Tokens};
use crate::settings::valid_name;

/// `[hooks.opa]`
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OpaOptions {
    /// The package under which pipelines are documents: `/v1/data/{prefix}/{pipeline}`.
    pub prefix: String,
    /// Other document paths (without `/v1/data/` and without `/allow`) by pipeline name,
    /// e.g. `"keycloak/realms/acme/access" = "default"`.
    pub documents: BTreeMap<String, String>,
    /// `context.connection` for Keycloak inputs.
    pub connection: String,
    pub connection_strategy: String,
    pub client_names: BTreeMap<String, String>,
    /// Keycloak's authenticators carry a yes or a no: `"deny"` (default) makes outcomes
    /// with claims or scope changes "not allowed"; `"ignore"` lets them be allowed when the
    /// tokens come from elsewhere.
    pub tokens: Tokens,
    /// A header in `input.context.headers` carrying the client's address, read when
    /// `remoteAddress` is absent: unset by default (headers from the browser prove nothing;
    /// name one only when a proxy in front of Keycloak overwrites it).
    pub client_ip_header: Option<String>,
}

impl Default for OpaOptions {
    fn default() -> Self {
        OpaOptions {
            prefix: "warden".into(),
            documents: BTreeMap::new(),
            connection: "keycloak".into(),
            connection_strategy: "keycloak".into(),
            client_names: BTreeMap::new(),
            tokens: Tokens::Deny,
            client_ip_header: None,
        }
    }
}

/// The adapter for one document path.
#[derive(Debug)]
pub struct Opa {
    options: OpaOptions,
    /// `.../allow`: the boolean alone.
    allow_only: bool,
}

const HOST: &str = "Keycloak OPA";

/// 200 `{}`: OPA's answer for an undefined document.
fn undefined() -> AdapterError {
    AdapterError::Answer(Reply { status: 200, body: Some(json!({})) })
}

pub(crate) fn route(
    options: &OpaOptions,
    path: &str,
    served: &dyn Fn(&str) -> bool,
) -> Result<(String, Box<dyn Adapter>), AdapterError> {
    let path = path.trim_matches('/');
    let (doc, allow_only) = match path.strip_suffix("/allow") {
        Some(d) => (d, true),
        None => (path, false),
    };
    let pipeline = match options.documents.get(doc) {
        Some(p) => p.as_str(),
        None => match doc.strip_prefix(options.prefix.as_str()).and_then(|r| r.strip_prefix('/')) {
            Some(name) if !options.prefix.is_empty() && valid_name(name) => name,
            _ => return Err(undefined()),
        },
    };
    if !served(pipeline) {
        return Err(undefined());
    }
    Ok((pipeline.to_string(), Box::new(Opa { options: options.clone(), allow_only })))
}

/// Keycloak's `context.attributes.protocol` and `grantType` as Auth0's protocol.
fn protocol(kc_protocol: Option<&str>, grant: Option<&str>) -> Result<&'static str, AdapterError> {
    Ok(match (kc_protocol, grant) {
        (Some("saml"), _) => "samlp",
        (_, Some("password")) => "oauth2-password",
        (_, Some("refresh_token")) => "oauth2-refresh-token",
        (_, Some("urn:ietf:params:oauth:grant-type:device_code")) => "oauth2-device-code",
        (_, Some("client_credentials")) => {
            return Err(AdapterError::BadRequest(
                "`input.context.attributes.grantType` is client_credentials: a service account is not a user login"
                    .into(),
            ));
        }
        _ => "oidc-basic-profile",
    })
}

impl Opa {
    fn keycloak(&self, input: &Obj) -> Result<(Json, Json), AdapterError> {
        let o = &self.options;
        let subject = common::req_obj(input, "subject", "input")?;
        let resource = common::req_obj(input, "resource", "input")?;
        let username = common::req_str(subject, "username", "input.subject")?;
        let empty = Obj::new();
        let attributes = common::opt_obj(subject, "attributes", "input.subject")?.unwrap_or(&empty);
        const AT: &str = "input.subject.attributes";
        let user_id = match common::nonempty_str(subject, "id", "input.subject")? {
            Some(id) => id,
            None => common::nonempty_str(attributes, "id", AT)?.unwrap_or(username),
        };
        let mut user = Obj::new();
        user.insert("user_id".into(), json!(user_id));
        user.insert("username".into(), json!(username));
        common::put(&mut user, "email", common::nonempty_str(attributes, "email", AT)?.map(|s| json!(s)));
        // Built-in `emailVerified` is a boolean; a custom attribute of that name is text.
        match common::get(attributes, "emailVerified") {
            None => {}
            Some(Json::Bool(b)) => {
                user.insert("email_verified".into(), json!(b));
            }
            Some(Json::String(s)) if s == "true" || s == "false" => {
                user.insert("email_verified".into(), json!(s == "true"));
            }
            Some(other) => return Err(common::wrong(&format!("{AT}.emailVerified"), "a boolean", other)),
        }
        common::put(&mut user, "given_name", common::nonempty_str(attributes, "firstName", AT)?.map(|s| json!(s)));
        common::put(&mut user, "family_name", common::nonempty_str(attributes, "lastName", AT)?.map(|s| json!(s)));
        if let Some(created) = common::get(attributes, "createdTimestamp") {
            let ms = created
                .as_i64()
                .ok_or_else(|| common::wrong(&format!("{AT}.createdTimestamp"), "a number", created))?;
            user.insert("created_at".into(), json!(ms));
        }
        user.insert("app_metadata".into(), Json::Object(attributes.clone()));
        user.insert("user_metadata".into(), json!({}));
        user.insert("identities".into(), common::identity("keycloak", user_id, &o.connection, false));

        let client_id = common::req_str(resource, "clientId", "input.resource")?;
        let mut roles = common::str_list(subject, "realmRoles", "input.subject")?;
        roles.extend(common::str_list(subject, "clientRoles", "input.subject")?);
        let groups = common::str_list(subject, "groups", "input.subject")?;
        let ctx = common::opt_obj(input, "context", "input")?.unwrap_or(&empty);
        let attrs = common::opt_obj(ctx, "attributes", "input.context")?.unwrap_or(&empty);
        let headers = common::opt_obj(ctx, "headers", "input.context")?.unwrap_or(&empty);
        let protocol = protocol(
            common::opt_str(attrs, "protocol", "input.context.attributes")?,
            common::opt_str(attrs, "grantType", "input.context.attributes")?,
        )?;
        let mut request = Obj::new();
        common::put(
            &mut request,
            "ip",
            common::nonempty_str(attrs, "remoteAddress", "input.context.attributes")?
                .map(str::to_string)
                .or_else(|| o.client_ip_header.as_deref().and_then(|h| common::forwarded_ip(headers, h)))
                .map(Json::String),
        );
        common::put(&mut request, "userAgent", common::header_value(headers, "User-Agent").map(|s| json!(s)));
        request.insert("query".into(), json!({}));
        let mut context = json!({
            "clientID": client_id,
            "clientName": common::client_name(&o.client_names, client_id),
            "connection": o.connection,
            "connectionStrategy": o.connection_strategy,
            "protocol": protocol,
            "authorization": { "roles": roles, "groups": groups },
            "request": request,
            "accessToken": {},
            "idToken": {},
        });
        if let Some(realm) = common::nonempty_str(resource, "realm", "input.resource")? {
            context["tenant"] = json!(realm);
        }
        Ok((Json::Object(user), context))
    }

    /// Why an allowed outcome is not a plain yes for the caller.
    fn beyond_yes(&self, outcome: &Outcome) -> Option<Refusal> {
        if let Some(r) = common::interactive_requirement(outcome, HOST) {
            return Some(r);
        }
        if !outcome.effects.is_empty() {
            return Some(Refusal::unsupported(HOST, &format!("the rules update {}", common::effects_summary(outcome))));
        }
        common::token_refusal(outcome, HOST, self.options.tokens)
    }
}

impl Adapter for Opa {
    fn name(&self) -> &'static str {
        "opa"
    }

    fn decode(&self, _headers: &HeaderMap, body: &[u8]) -> Result<Login, AdapterError> {
        let root = common::parse_object(body)?;
        let input = common::req_obj(&root, "input", "")?;
        let (user, context) = if input.contains_key("subject") || input.contains_key("resource") {
            self.keycloak(input)?
        } else if input.contains_key("user") || input.contains_key("context") {
            (
                Json::Object(common::req_obj(input, "user", "input")?.clone()),
                Json::Object(common::req_obj(input, "context", "input")?.clone()),
            )
        } else {
            return Err(AdapterError::BadRequest(
                "`input` must hold `subject` and `resource` (Keycloak's OPA extensions) or `user` and `context`".into(),
            ));
        };
        Ok(Login { user, context, now: None, host: Json::Null })
    }

    fn reply(&self, outcome: &Outcome, info: DecisionInfo<'_>) -> Reply {
        let refusal = common::denial(outcome).or_else(|| self.beyond_yes(outcome));
        let allow = refusal.is_none();
        let result = if self.allow_only {
            json!(allow)
        } else {
            let mut r = Obj::new();
            r.insert("allow".into(), json!(allow));
            r.insert("hint".into(), refusal.as_ref().map_or(Json::Null, |r| json!(r.description)));
            match (&refusal, outcome.is_allow()) {
                // An allowed outcome the caller cannot carry reads as the denial it is, in the
                // shape of a denied outcome, so that a caller reading `decision` is not misled.
                (Some(why), true) => {
                    r.insert("decision".into(), json!("deny"));
                    r.insert(
                        "error".into(),
                        json!({ "code": why.code, "description": why.description, "rule": why.rule, "cause": why.cause }),
                    );
                    if let Json::Object(fields) = outcome.to_json() {
                        for key in ["effects", "logs"] {
                            if let Some(v) = fields.get(key) {
                                r.insert(key.into(), v.clone());
                            }
                        }
                    }
                }
                _ => {
                    if let Json::Object(fields) = outcome.to_json() {
                        r.extend(fields);
                    }
                }
            }
            Json::Object(r)
        };
        Reply { status: 200, body: Some(json!({ "decision_id": info.decision_id, "result": result })) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::testing::{fixture, outcome_of};

    fn served(name: &str) -> bool {
        name == "default" || name == "acme"
    }

    fn route_of(path: &str) -> Result<(String, bool), AdapterError> {
        let options = OpaOptions {
            documents: [("keycloak/realms/acme/access".to_string(), "acme".to_string())].into(),
            ..OpaOptions::default()
        };
        route(&options, path, &served).map(|(p, a)| (p, format!("{a:?}").contains("allow_only: true")))
    }

    #[test]
    fn paths_name_pipelines_and_undefined_documents_are_empty() {
        assert_eq!(route_of("warden/default"), Ok(("default".into(), false)));
        assert_eq!(route_of("warden/default/allow"), Ok(("default".into(), true)));
        assert_eq!(route_of("keycloak/realms/acme/access/allow"), Ok(("acme".into(), true)));
        for undefined_path in
            ["warden/nope/allow", "warden", "warden/", "other/default", "warden/a/b", "keycloak/realms/x/access/allow"]
        {
            assert_eq!(route_of(undefined_path).map(|_| ()), Err(undefined()), "{undefined_path}");
        }
    }

    fn opa(allow_only: bool) -> Opa {
        Opa { options: OpaOptions::default(), allow_only }
    }

    #[test]
    fn keycloak_input_maps_to_auth0() {
        let login = opa(true).decode(&HeaderMap::new(), &fixture("opa/keycloak-access.json")).expect("decodes");
        assert_eq!(login.user["user_id"], json!("c9d683de-4987-4e90-801e-81c6ac411d80"));
        assert_eq!(login.user["username"], json!("tester"));
        assert_eq!(login.user["email"], json!("tester@local.de"));
        assert_eq!(login.user["email_verified"], json!(true));
        assert_eq!(login.context["clientID"], json!("account-console"));
        assert_eq!(login.context["tenant"], json!("opademo"));
        assert_eq!(login.context["request"]["ip"], json!("0:0:0:0:0:0:0:1"));
        assert_eq!(
            login.context["authorization"]["roles"],
            json!([
                "default-roles-opademo",
                "offline_access",
                "uma_authorization",
                "user",
                "account:view-profile",
                "account:manage-account",
                "account:manage-account-links"
            ])
        );
        let login = opa(true).decode(&HeaderMap::new(), &fixture("opa/keycloak-login.json")).expect("decodes");
        assert_eq!(login.user["user_id"], json!("tester"), "no id: the username stands in");
        assert_eq!(login.context["authorization"]["groups"], json!(["Users"]));
        assert_eq!(login.context["protocol"], json!("oidc-basic-profile"));
    }

    #[test]
    fn native_input_passes_through_and_bad_input_is_named() {
        let body = json!({ "input": { "user": { "user_id": "u" }, "context": { "clientID": "c" } } });
        let login = opa(false).decode(&HeaderMap::new(), body.to_string().as_bytes()).expect("decodes");
        assert_eq!(login.user, json!({ "user_id": "u" }));
        for (body, want) in [
            (json!({}), "`input` is missing"),
            (json!({ "input": 1 }), "`input` must be an object"),
            (json!({ "input": { "x": 1 } }), "must hold `subject` and `resource`"),
            (json!({ "input": { "subject": {}, "resource": {} } }), "`input.subject.username` is missing"),
            (
                json!({ "input": { "subject": { "username": "u" }, "resource": {} } }),
                "`input.resource.clientId` is missing",
            ),
            (
                json!({ "input": { "subject": { "username": "u", "realmRoles": "admin" }, "resource": { "clientId": "c" } } }),
                "`input.subject.realmRoles` must be an array",
            ),
            (json!({ "input": { "user": {} } }), "`input.context` is missing"),
        ] {
            let got = opa(true).decode(&HeaderMap::new(), body.to_string().as_bytes());
            assert!(
                matches!(&got, Err(AdapterError::BadRequest(m)) if m.contains(want)),
                "{body}: {got:?} should name {want:?}"
            )
        }
    }

    fn reply_for(allow_only: bool, rules: &str) -> Json {
        let login = opa(allow_only).decode(&HeaderMap::new(), &fixture("opa/keycloak-access.json")).expect("decodes");
        let outcome = outcome_of(rules, &login);
        let r = opa(allow_only)
            .reply(&outcome, DecisionInfo { decision_id: "d1", pipeline: "default", hash: "h", host: &Json::Null });
        assert_eq!(r.status, 200);
        r.body.expect("body")
    }

    #[test]
    fn results_are_a_boolean_or_the_decision() {
        assert_eq!(reply_for(true, r#"rule "ok" { log "x" }"#), json!({ "decision_id": "d1", "result": true }));
        assert_eq!(reply_for(true, r#"rule "no" { deny "No." }"#), json!({ "decision_id": "d1", "result": false }));
        let whole = reply_for(false, r#"rule "no" { deny "No." }"#);
        assert_eq!(whole["result"]["allow"], json!(false));
        assert_eq!(whole["result"]["hint"], json!("No."));
        assert_eq!(whole["result"]["decision"], json!("deny"));
        assert_eq!(whole["result"]["error"]["rule"], json!("no"));
        let ok = reply_for(false, r#"rule "ok" { log "x" }"#);
        assert_eq!(ok["result"]["allow"], json!(true));
        assert_eq!(ok["result"]["hint"], Json::Null);
        assert_eq!(ok["result"]["user"]["username"], json!("tester"));
    }

    #[test]
    fn what_a_yes_cannot_carry_is_not_allowed() {
        for (rules, why) in [
            (r#"rule "m" { mfa any }"#, "multi-factor"),
            (r#"rule "c" { claim id_token "https://example.com/x" = 1 }"#, "token claims"),
            (r#"rule "p" { persist app_metadata.x = 1 }"#, "app_metadata (x)"),
        ] {
            assert_eq!(reply_for(true, rules)["result"], json!(false), "{rules}");
            let whole = reply_for(false, rules);
            assert_eq!(whole["result"]["allow"], json!(false));
            // Regression: `decision` said "allow" here, a trap for callers reading it.
            assert_eq!(whole["result"]["decision"], json!("deny"));
            assert_eq!(whole["result"]["error"]["cause"], json!("unsupported"));
            assert!(whole["result"].get("user").is_none(), "shaped as a denied outcome");
            assert!(
                whole["result"]["hint"].as_str().unwrap_or("").contains(why),
                "{rules}: {}",
                whole["result"]["hint"]
            );
        }
    }
}
