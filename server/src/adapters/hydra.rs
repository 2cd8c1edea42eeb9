//! Ory Hydra's token hook (`oauth2.token_hook`): Hydra POSTs `{"session", "request"}` before
//! it issues tokens, for every grant type, and reads the reply: 204 keeps the session as it
//! is, 200 `{"session": {"access_token": {...}, "id_token": {...}}}` replaces the session's
//! access-token and ID-token extra claims, 403 denies the token request (`access_denied`),
//! anything else fails it (`server_error`).
//!
//! Sources: ory/hydra `oauth2/token_hook.go` (`TokenHookRequest`, `Request`,
//! `executeHookAndUpdateSession`), `oauth2/session.go` (`Session`), ory/docs
//! `docs/hydra/guides/oauth2-webhooks.mdx` (payload and reply examples).

use std::collections::BTreeMap;

use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value as Json, json};
use warden::Outcome;

use super::common::{self, Obj, Refusal};
use super::{Adapter, AdapterError, DecisionInfo, Login, Reply};

/// `[hooks.hydra]`
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HydraOptions {
    /// `context.connection` (Hydra delegates authentication to the operator's login app).
    pub connection: String,
    /// `context.connectionStrategy`; rules migrated from Auth0 that test for `"auth0"`
    /// (Auth0's own user database) want `"auth0"` here.
    pub connection_strategy: String,
    /// Dotted path below `session` to the object that becomes `user.app_metadata`:
    /// `extra` (the access-token session data the consent app set, the default),
    /// `extra.app_metadata`, `id_token.id_token_claims.ext.app_metadata`, or `""` for none.
    pub app_metadata: String,
    /// The same for `user.user_metadata`; none by default.
    pub user_metadata: String,
    /// `context.clientName` by client id (Hydra does not send the client's name).
    pub client_names: BTreeMap<String, String>,
    /// A `client_credentials` grant has no end user and Auth0 runs no rules for it:
    /// `"skip"` answers 204 (tokens issued unchanged, no rules run), `"deny"` answers 403.
    pub client_credentials: ClientCredentials,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientCredentials {
    Skip,
    Deny,
}

impl Default for HydraOptions {
    fn default() -> Self {
        HydraOptions {
            connection: "hydra".into(),
            connection_strategy: "hydra".into(),
            app_metadata: "extra".into(),
            user_metadata: String::new(),
            client_names: BTreeMap::new(),
            client_credentials: ClientCredentials::Skip,
        }
    }
}

/// The token hook adapter (`/v1/hooks/hydra/token`).
#[derive(Debug)]
pub struct Hydra {
    options: HydraOptions,
}

const HOST: &str = "Hydra token";

impl Hydra {
    pub fn new(options: &HydraOptions) -> Hydra {
        Hydra { options: options.clone() }
    }
}

/// Hydra's grant types as Auth0's protocols (`None`: no end user).
fn protocol(grant: &str) -> Result<Option<&'static str>, AdapterError> {
    Ok(Some(match grant {
        "authorization_code" => "oidc-basic-profile",
        "refresh_token" => "oauth2-refresh-token",
        "password" => "oauth2-password",
        "urn:ietf:params:oauth:grant-type:jwt-bearer" => "oauth2-resource-owner-jwt-bearer",
        "urn:ietf:params:oauth:grant-type:device_code" => "oauth2-device-code",
        "client_credentials" => return Ok(None),
        other => {
            return Err(AdapterError::BadRequest(format!(
                "`request.grant_types` holds {other:?}, which this adapter does not map (authorization_code, \
                 refresh_token, password, client_credentials, jwt-bearer, device_code)"
            )));
        }
    }))
}

/// Standard OIDC claims of the consent session (`session.id_token.id_token_claims.ext`) as
/// Auth0 profile fields.
fn profile(ext: &Obj, user: &mut Obj) -> Result<(), AdapterError> {
    const AT: &str = "session.id_token.id_token_claims.ext";
    for (claim, field) in [
        ("email", "email"),
        ("name", "name"),
        ("given_name", "given_name"),
        ("family_name", "family_name"),
        ("nickname", "nickname"),
        ("picture", "picture"),
        ("locale", "locale"),
        ("phone_number", "phone_number"),
        ("preferred_username", "username"),
    ] {
        common::put(user, field, common::opt_str(ext, claim, AT)?.map(|s| json!(s)));
    }
    common::put(user, "email_verified", common::opt_bool(ext, "email_verified", AT)?.map(Json::Bool));
    common::put(user, "phone_verified", common::opt_bool(ext, "phone_number_verified", AT)?.map(Json::Bool));
    // OIDC's `updated_at` is in seconds; warden's times in numbers are milliseconds.
    match common::get(ext, "updated_at") {
        None => {}
        Some(Json::Number(n)) => {
            let ms = n.as_i64().and_then(|s| s.checked_mul(1000));
            let ms =
                ms.ok_or_else(|| common::wrong(&format!("{AT}.updated_at"), "seconds since the epoch", &json!(n)))?;
            user.insert("updated_at".into(), json!(ms));
        }
        Some(Json::String(s)) => {
            common::put(user, "updated_at", common::time_value(Some(s)));
        }
        Some(other) => return Err(common::wrong(&format!("{AT}.updated_at"), "a number", other)),
    }
    Ok(())
}

impl Adapter for Hydra {
    fn name(&self) -> &'static str {
        "hydra"
    }

    fn decode(&self, _headers: &HeaderMap, body: &[u8]) -> Result<Login, AdapterError> {
        let o = &self.options;
        let root = common::parse_object(body)?;
        let session = common::req_obj(&root, "session", "")?;
        let request = common::req_obj(&root, "request", "")?;
        let client_id = common::req_str(request, "client_id", "request")?;
        let grants = common::str_list(request, "grant_types", "request")?;
        // Hydra sends the one grant type of the token request; anything else is not a
        // request Hydra makes, and must not pick the rule-less client-credentials answer.
        let grant = match grants.as_slice() {
            [one] => one,
            [] => return Err(common::missing("request.grant_types")),
            _ => {
                return Err(AdapterError::BadRequest("`request.grant_types` must hold exactly one grant type".into()));
            }
        };
        let Some(protocol) = protocol(grant)? else {
            return Err(AdapterError::Answer(match o.client_credentials {
                ClientCredentials::Skip => Reply { status: 204, body: None },
                ClientCredentials::Deny => Reply {
                    status: 403,
                    body: Some(json!({
                        "error": "access_denied",
                        "error_description": "client_credentials grants are refused by warden's Hydra hook (`[hooks.hydra] client_credentials = \"deny\"`)",
                    })),
                },
            }));
        };
        let granted = common::str_list(request, "granted_scopes", "request")?;
        let requested = common::str_list(request, "requested_scopes", "request")?;
        let audience = common::str_list(request, "granted_audience", "request")?;

        let id_token = common::req_obj(session, "id_token", "session")?;
        let claims = common::opt_obj(id_token, "id_token_claims", "session.id_token")?;
        let empty = Obj::new();
        let ext = match claims {
            Some(c) => common::opt_obj(c, "ext", "session.id_token.id_token_claims")?.unwrap_or(&empty),
            None => &empty,
        };
        let subject = match common::nonempty_str(id_token, "subject", "session.id_token")? {
            Some(s) => s,
            None => match claims {
                Some(c) => common::nonempty_str(c, "sub", "session.id_token.id_token_claims")?
                    .ok_or_else(|| common::missing("session.id_token.subject"))?,
                None => return Err(common::missing("session.id_token.subject")),
            },
        };

        let mut user = Obj::new();
        user.insert("user_id".into(), json!(subject));
        profile(ext, &mut user)?;
        if let Some(name) = common::nonempty_str(id_token, "username", "session.id_token")? {
            user.entry("username").or_insert_with(|| json!(name));
        }
        user.insert("app_metadata".into(), common::metadata_at(session, &o.app_metadata, "session")?);
        user.insert("user_metadata".into(), common::metadata_at(session, &o.user_metadata, "session")?);
        user.insert("identities".into(), common::identity("hydra", subject, &o.connection, false));

        let mut methods = Vec::new();
        if let Some(c) = claims {
            let at = common::opt_str(c, "auth_time", "session.id_token.id_token_claims")?.and_then(common::millis);
            for name in common::str_list(c, "amr", "session.id_token.id_token_claims")? {
                let mut m = json!({ "name": name });
                if let Some(t) = at {
                    m["timestamp"] = json!(t);
                }
                methods.push(m);
            }
        }
        let mut query = Obj::new();
        let scope = if requested.is_empty() { &granted } else { &requested };
        query.insert("scope".into(), json!(scope.join(" ")));
        query.insert("client_id".into(), json!(client_id));
        query.insert("grant_type".into(), json!(grant));
        if !audience.is_empty() {
            query.insert("audience".into(), json!(audience.join(" ")));
        }
        // The token request's form as Hydra passes it on (it keeps only `assertion`).
        let mut form = Obj::new();
        if let Some(payload) = common::opt_obj(request, "payload", "request")? {
            for key in payload.keys() {
                let values = common::str_list(payload, key, "request.payload")?;
                let v = if values.len() == 1 { json!(values[0]) } else { json!(values) };
                form.insert(key.clone(), v);
            }
        }
        let context = json!({
            "clientID": client_id,
            "clientName": common::client_name(&o.client_names, client_id),
            "connection": o.connection,
            "connectionStrategy": o.connection_strategy,
            "protocol": protocol,
            // Scope statements start from what Hydra granted: the hook cannot change it.
            "accessToken": { "scope": granted },
            "idToken": {},
            "authentication": { "methods": methods },
            "request": { "query": query, "body": form },
        });
        let ext_claims = Json::Object(ext.clone());
        let extra = match common::get(session, "extra") {
            None => json!({}),
            Some(Json::Object(m)) => Json::Object(m.clone()),
            Some(other) => return Err(common::wrong("session.extra", "an object", other)),
        };
        Ok(Login {
            user: Json::Object(user),
            context,
            now: None,
            host: json!({ "extra": extra, "ext": ext_claims, "granted": granted }),
        })
    }

    fn reply(&self, outcome: &Outcome, info: DecisionInfo<'_>) -> Reply {
        let granted: Vec<String> = info
            .host
            .get("granted")
            .and_then(Json::as_array)
            .map(|a| a.iter().filter_map(Json::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        let refusal = common::denial(outcome)
            .or_else(|| common::interactive_requirement(outcome, HOST))
            .or_else(|| {
                (!outcome.effects.is_empty()).then(|| {
                    Refusal::unsupported(HOST, &format!("the rules update {}", common::effects_summary(outcome)))
                })
            })
            .or_else(|| common::scope_change(outcome, &granted).map(|what| Refusal::unsupported(HOST, &what)));
        if let Some(r) = refusal {
            // Hydra answers the client `access_denied` for any 403 and does not pass the body
            // on; the body is for logs and whoever reads the hook's traffic.
            return Reply {
                status: 403,
                body: Some(json!({
                    "error": r.code,
                    "error_description": r.description,
                    "warden": r.details(info.decision_id),
                })),
            };
        }
        if outcome.id_token.is_empty() && outcome.access_token.is_empty() {
            return Reply { status: 204, body: None };
        }
        // Hydra replaces the session's claims with the reply's: keep what the consent app set.
        let mut access = info.host.get("extra").and_then(Json::as_object).cloned().unwrap_or_default();
        access.extend(outcome.access_token.clone());
        let mut id = info.host.get("ext").and_then(Json::as_object).cloned().unwrap_or_default();
        id.extend(outcome.id_token.clone());
        Reply { status: 200, body: Some(json!({ "session": { "access_token": access, "id_token": id } })) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::testing::{decode_fixture, outcome_of};

    fn hydra() -> Hydra {
        Hydra::new(&HydraOptions::default())
    }

    #[test]
    fn documented_payload_maps_to_auth0() {
        let login = decode_fixture(&hydra(), "hydra/token-hook.json").expect("decodes");
        assert_eq!(login.user["user_id"], json!("foo"));
        assert_eq!(login.user["app_metadata"], json!({}));
        assert_eq!(login.user["identities"][0]["provider"], json!("hydra"));
        assert_eq!(login.context["clientID"], json!("app-client"));
        assert_eq!(login.context["clientName"], json!("app-client"));
        assert_eq!(login.context["protocol"], json!("oidc-basic-profile"));
        assert_eq!(login.context["request"]["query"]["scope"], json!("offline openid hydra.*"));
        assert_eq!(login.context["accessToken"]["scope"], json!(["offline", "openid", "hydra.*"]));
        assert_eq!(login.context["request"]["body"]["assertion"], json!("eyJhbGciOiJIUzI..."));
        assert_eq!(login.host["granted"], json!(["offline", "openid", "hydra.*"]));
    }

    #[test]
    fn consent_claims_become_the_profile() {
        let body = json!({
            "session": {
                "id_token": {
                    "id_token_claims": {
                        "sub": "u1", "amr": ["pwd", "mfa"], "auth_time": "2026-11-26T12:00:00Z",
                        "ext": { "email": "a@example.com", "email_verified": true, "name": "Ann",
                                 "preferred_username": "ann", "updated_at": 1700000000, "phone_number_verified": false }
                    },
                    "subject": ""
                },
                "extra": { "roles": ["admin"] }
            },
            "request": { "client_id": "c1", "granted_scopes": ["openid"], "requested_scopes": ["openid", "email"],
                         "grant_types": ["refresh_token"], "granted_audience": ["api"] }
        });
        let opts = HydraOptions {
            client_names: [("c1".to_string(), "Dashboard".to_string())].into(),
            ..HydraOptions::default()
        };
        let login = Hydra::new(&opts).decode(&HeaderMap::new(), body.to_string().as_bytes()).expect("decodes");
        assert_eq!(
            login.user,
            json!({
                "user_id": "u1", "email": "a@example.com", "name": "Ann", "username": "ann",
                "email_verified": true, "phone_verified": false, "updated_at": 1_700_000_000_000i64,
                "app_metadata": { "roles": ["admin"] }, "user_metadata": {},
                "identities": [{ "provider": "hydra", "user_id": "u1", "connection": "hydra", "isSocial": false }]
            })
        );
        assert_eq!(login.context["clientName"], json!("Dashboard"));
        assert_eq!(login.context["protocol"], json!("oauth2-refresh-token"));
        assert_eq!(login.context["request"]["query"]["scope"], json!("openid email"));
        assert_eq!(login.context["request"]["query"]["audience"], json!("api"));
        let t = warden::parse_time("2026-11-26T12:00:00Z").expect("time");
        assert_eq!(
            login.context["authentication"]["methods"],
            json!([{ "name": "pwd", "timestamp": t }, { "name": "mfa", "timestamp": t }])
        );
    }

    #[test]
    fn malformed_payloads_name_the_field() {
        let h = hydra();
        let cases = [
            (json!({"request": {}}), "`session` is missing"),
            (
                json!({"session": {"id_token": {}}, "request": {"grant_types": ["authorization_code"]}}),
                "`request.client_id` is missing",
            ),
            (
                json!({"session": {"id_token": {}}, "request": {"client_id": "c", "grant_types": []}}),
                "`request.grant_types` is missing",
            ),
            // Regression: only the first grant type was read, so this skipped the rules.
            (
                json!({"session": {"id_token": {}}, "request": {"client_id": "c", "grant_types": ["client_credentials", "authorization_code"]}}),
                "exactly one grant type",
            ),
            (
                json!({"session": {"id_token": {}}, "request": {"client_id": "c", "grant_types": ["authorization_code"]}}),
                "`session.id_token.subject` is missing",
            ),
            (
                json!({"session": {"id_token": {"subject": 5}}, "request": {"client_id": "c", "grant_types": ["authorization_code"]}}),
                "`session.id_token.subject` must be a string, not a number",
            ),
            (
                json!({"session": {"id_token": {"subject": "s", "id_token_claims": {"ext": {"email": 1}}}}, "request": {"client_id": "c", "grant_types": ["authorization_code"]}}),
                "`session.id_token.id_token_claims.ext.email` must be a string",
            ),
            (
                json!({"session": {"id_token": {"subject": "s"}, "extra": []}, "request": {"client_id": "c", "grant_types": ["authorization_code"]}}),
                "`session.extra` must be an object",
            ),
            (
                json!({"session": {"id_token": {"subject": "s"}}, "request": {"client_id": "c", "grant_types": ["urn:ietf:params:oauth:grant-type:token-exchange"]}}),
                "does not map",
            ),
        ];
        for (body, want) in cases {
            let got = h.decode(&HeaderMap::new(), body.to_string().as_bytes());
            assert!(
                matches!(&got, Err(AdapterError::BadRequest(m)) if m.contains(want)),
                "{body}: {got:?} should name {want:?}"
            )
        }
    }

    #[test]
    fn client_credentials_run_no_rules() {
        let body = json!({"session": {"id_token": {"subject": "svc"}}, "request": {"client_id": "svc", "grant_types": ["client_credentials"]}});
        let skip = hydra().decode(&HeaderMap::new(), body.to_string().as_bytes());
        assert_eq!(skip, Err(AdapterError::Answer(Reply { status: 204, body: None })));
        let deny = Hydra::new(&HydraOptions { client_credentials: ClientCredentials::Deny, ..HydraOptions::default() })
            .decode(&HeaderMap::new(), body.to_string().as_bytes());
        assert!(matches!(deny, Err(AdapterError::Answer(Reply { status: 403, .. }))));
    }

    fn reply_for(rules: &str, login: &Login) -> Reply {
        let outcome = outcome_of(rules, login);
        let info = DecisionInfo { decision_id: "d1", pipeline: "default", hash: "h", host: &login.host };
        hydra().reply(&outcome, info)
    }

    fn sample() -> Login {
        let body = json!({
            "session": { "id_token": { "subject": "u1", "id_token_claims": { "ext": { "email": "a@example.com", "kept": 1 } } },
                         "extra": { "tenant": "t1" } },
            "request": { "client_id": "c1", "granted_scopes": ["openid", "offline"], "grant_types": ["authorization_code"] }
        });
        hydra().decode(&HeaderMap::new(), body.to_string().as_bytes()).expect("decodes")
    }

    #[test]
    fn allow_without_claims_is_204() {
        assert_eq!(reply_for(r#"rule "noop" { log "hi" }"#, &sample()), Reply { status: 204, body: None });
    }

    #[test]
    fn claims_merge_into_the_session() {
        let r = reply_for(
            r#"rule "c" {
                claim id_token "https://example.com/email" = user.email
                claim access_token "https://example.com/tenant" = user.app_metadata.tenant
            }"#,
            &sample(),
        );
        assert_eq!(r.status, 200);
        assert_eq!(
            r.body,
            Some(json!({"session": {
                "access_token": { "tenant": "t1", "https://example.com/tenant": "t1" },
                "id_token": { "email": "a@example.com", "kept": 1, "https://example.com/email": "a@example.com" }
            }}))
        );
    }

    #[test]
    fn deny_is_403_with_the_description() {
        let r = reply_for(r#"rule "no" { deny access_denied "Not here." }"#, &sample());
        assert_eq!(r.status, 403);
        let body = r.body.expect("body");
        assert_eq!(body["error"], json!("access_denied"));
        assert_eq!(body["error_description"], json!("Not here."));
        assert_eq!(body["warden"]["rule"], json!("no"));
        assert_eq!(body["warden"]["decision_id"], json!("d1"));
    }

    #[test]
    fn what_hydra_cannot_carry_denies() {
        for (rules, why) in [
            (r#"rule "m" { mfa any }"#, "multi-factor authentication"),
            (r#"rule "r" { redirect "https://example.com/consent" }"#, "redirect"),
            (r#"rule "p" { persist app_metadata.count = 1 }"#, "app_metadata (count)"),
            (r#"rule "s" { scope add "admin" }"#, "granted scopes"),
        ] {
            let r = reply_for(rules, &sample());
            assert_eq!(r.status, 403, "{rules}");
            let d = r.body.expect("body")["error_description"].as_str().unwrap_or("").to_string();
            assert!(d.contains(why) && d.contains("Hydra token hook cannot carry"), "{rules}: {d}");
        }
        // The same scopes, reordered, are no change.
        assert_eq!(reply_for(r#"rule "s" { scope set ["offline", "openid"] }"#, &sample()).status, 204);
    }
}
