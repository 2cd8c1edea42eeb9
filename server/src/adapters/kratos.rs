//! Ory Kratos `web_hook` actions after login and after registration. Kratos renders the
//! request body with the operator's Jsonnet template from `ctx` (`identity`, `flow`,
//! `session` after login, `request_headers`, `request_url`, `request_method`); warden reads
//! what the template in `docs/hooks.md` produces:
//!
//! ```json
//! {"identity": {...}, "session": {... without identity} | null,
//!  "flow": {"id", "type", "active", "request_url", "requested_aal", "oauth2_login_request", "transient_payload"},
//!  "request": {"url", "method", "headers": {"User-Agent": ["..."]}}}
//! ```
//!
//! With `can_interrupt: true` (and `response.parse: true` on registration) Kratos reads the
//! reply: a 4xx with `{"messages": [{"instance_ptr", "messages": [{"id", "text", "type",
//! "context"}]}]}` stops the flow and shows the messages; 200 `{"identity": {...}}` replaces
//! the identity's fields before it is stored (registration and settings only); 204 continues.
//!
//! Sources: ory/kratos `selfservice/hook/web_hook.go` (`templateContext`,
//! `parseWebhookResponse`), `identity/identity.go` (`MarshalJSON` leaves `metadata_admin`
//! out), `session/session.go`; ory/docs `docs/guides/integrate-with-ory-cloud-through-webhooks.mdx`
//! (ctx example, reply formats), `docs/kratos/session-management/01_overview.mdx` (session).

use std::collections::BTreeMap;

use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value as Json, json};
use warden::{EffectKind, Outcome};

use super::common::{self, Obj, Refusal};
use super::{Adapter, AdapterError, DecisionInfo, Login, Reply, Tokens};

/// `[hooks.kratos]`
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KratosOptions {
    /// Dotted path below `identity.traits` to the email address.
    pub email_trait: String,
    /// Path to the name: a string, or an object with `first` and `last` (Kratos's presets).
    pub name_trait: String,
    pub username_trait: String,
    pub phone_trait: String,
    /// Dotted path below `identity` to `user.app_metadata`: `metadata_public` (the default),
    /// `metadata_public.KEY`, `traits.KEY`, or `""`. Kratos never sends `metadata_admin` to
    /// web hooks (its `Identity.MarshalJSON` leaves it out).
    pub app_metadata: String,
    /// The same for `user.user_metadata`; none by default.
    pub user_metadata: String,
    /// `context.connection` for logins with Kratos's own credentials (social logins use the
    /// provider's id).
    pub connection: String,
    pub connection_strategy: String,
    /// `context.clientID` when the flow is not part of an OAuth2 login through Hydra.
    pub client_id: String,
    pub client_names: BTreeMap<String, String>,
    /// Kratos issues no tokens: `"deny"` (default) refuses outcomes with claims or scope
    /// changes; `"ignore"` lets them pass when another hook running the same pipeline (the
    /// Hydra token hook) issues the tokens.
    pub tokens: Tokens,
    /// A header carrying the client's address that a proxy in front of Kratos sets (and
    /// Kratos forwards): unset by default, so `context.request.ip` is the address Kratos
    /// recorded for the session's device. Headers from the browser prove nothing: name one
    /// only when your proxy overwrites it (`X-Forwarded-For` is read right-most first).
    pub client_ip_header: Option<String>,
    /// A header with the client's country (`Cf-Ipcountry` behind Cloudflare) for
    /// `context.request.geoip.country_code`; unset by default, for the same reason.
    pub country_header: Option<String>,
}

impl Default for KratosOptions {
    fn default() -> Self {
        KratosOptions {
            email_trait: "email".into(),
            name_trait: "name".into(),
            username_trait: "username".into(),
            phone_trait: "phone".into(),
            app_metadata: "metadata_public".into(),
            user_metadata: String::new(),
            connection: "kratos".into(),
            connection_strategy: "kratos".into(),
            client_id: "kratos".into(),
            client_names: BTreeMap::new(),
            tokens: Tokens::Deny,
            client_ip_header: None,
            country_header: None,
        }
    }
}

/// Which flow's `after` hook calls the route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Login,
    Registration,
}

/// Message ids in Kratos's text format for warden's refusals (outside Kratos's own ranges).
pub const MESSAGE_DENIED: u64 = 4_100_001;
pub const MESSAGE_UNSUPPORTED: u64 = 4_100_002;

/// The web hook adapter (`/v1/hooks/kratos/login`, `/v1/hooks/kratos/registration`).
#[derive(Debug)]
pub struct Kratos {
    options: KratosOptions,
    flow: Flow,
}

const HOST: &str = "Kratos";

impl Kratos {
    pub fn new(options: &KratosOptions, flow: Flow) -> Kratos {
        Kratos { options: options.clone(), flow }
    }
}

/// Kratos's credential types as Auth0's authentication method names.
fn method_name(method: &str, aal: Option<&str>) -> String {
    match (method, aal) {
        (_, Some("aal2")) => "mfa".into(),
        ("password", _) => "pwd".into(),
        ("oidc" | "saml", _) => "federated".into(),
        ("code" | "link", _) => "email".into(),
        ("totp" | "lookup_secret", _) => "mfa".into(),
        (other, _) => other.into(),
    }
}

/// Where a configured path below `identity` can be written back on registration:
/// `metadata_public` itself or one key in it.
fn writable(path: &str) -> Option<Option<&str>> {
    match path.split_once('.') {
        None if path == "metadata_public" => Some(None),
        Some(("metadata_public", key)) if !key.is_empty() && !key.contains('.') => Some(Some(key)),
        _ => None,
    }
}

impl Kratos {
    fn profile(&self, identity: &Obj, user: &mut Obj) -> Result<(), AdapterError> {
        let o = &self.options;
        let empty = Obj::new();
        let traits = common::opt_obj(identity, "traits", "identity")?.unwrap_or(&empty);
        let text = |path: &str| -> Result<Option<String>, AdapterError> {
            match common::lookup(traits, path) {
                None => Ok(None),
                Some(Json::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(common::wrong(&format!("identity.traits.{path}"), "a string", other)),
            }
        };
        let addresses = common::opt_array(identity, "verifiable_addresses", "identity")?.cloned().unwrap_or_default();
        let verified = |value: &str, via: &str| -> bool {
            addresses.iter().any(|a| {
                a.get("via").and_then(Json::as_str) == Some(via)
                    && a.get("value").and_then(Json::as_str).is_some_and(|v| v.eq_ignore_ascii_case(value))
                    && a.get("verified").and_then(Json::as_bool) == Some(true)
            })
        };
        if let Some(email) = text(&o.email_trait)? {
            user.insert("email_verified".into(), json!(verified(&email, "email")));
            user.insert("email".into(), json!(email));
        }
        if let Some(phone) = text(&o.phone_trait)? {
            user.insert("phone_verified".into(), json!(verified(&phone, "sms")));
            user.insert("phone_number".into(), json!(phone));
        }
        common::put(user, "username", text(&o.username_trait)?.map(Json::String));
        match common::lookup(traits, &o.name_trait) {
            None => {}
            Some(Json::String(s)) => {
                user.insert("name".into(), json!(s));
            }
            Some(Json::Object(parts)) => {
                let at = format!("identity.traits.{}", o.name_trait);
                let first = common::opt_str(parts, "first", &at)?;
                let last = common::opt_str(parts, "last", &at)?;
                common::put(user, "given_name", first.map(|s| json!(s)));
                common::put(user, "family_name", last.map(|s| json!(s)));
                let full = [first, last].into_iter().flatten().collect::<Vec<_>>().join(" ");
                if !full.is_empty() {
                    user.insert("name".into(), json!(full));
                }
            }
            Some(other) => {
                return Err(common::wrong(
                    &format!("identity.traits.{}", o.name_trait),
                    "a string or an object",
                    other,
                ));
            }
        }
        common::put(user, "created_at", common::time_value(common::opt_str(identity, "created_at", "identity")?));
        common::put(user, "updated_at", common::time_value(common::opt_str(identity, "updated_at", "identity")?));
        if let Some(state) = common::opt_str(identity, "state", "identity")? {
            user.insert("blocked".into(), json!(state == "inactive"));
        }
        user.insert("app_metadata".into(), common::metadata_at(identity, &o.app_metadata, "identity")?);
        user.insert("user_metadata".into(), common::metadata_at(identity, &o.user_metadata, "identity")?);
        Ok(())
    }
}

impl Adapter for Kratos {
    fn name(&self) -> &'static str {
        "kratos"
    }

    fn decode(&self, _headers: &HeaderMap, body: &[u8]) -> Result<Login, AdapterError> {
        let o = &self.options;
        let root = common::parse_object(body)?;
        let identity = common::req_obj(&root, "identity", "")?;
        let user_id = common::req_str(identity, "id", "identity")?;
        let flow = common::req_obj(&root, "flow", "")?;
        let session = common::opt_obj(&root, "session", "")?;
        if self.flow == Flow::Login && session.is_none() {
            return Err(AdapterError::BadRequest(
                "`session` is missing: the login hook's Jsonnet template must pass `ctx.session` (docs/hooks.md)"
                    .into(),
            ));
        }
        let empty = Obj::new();
        let request = common::opt_obj(&root, "request", "")?.unwrap_or(&empty);
        let headers = common::opt_obj(request, "headers", "request")?.unwrap_or(&empty);

        let mut user = Obj::new();
        user.insert("user_id".into(), json!(user_id));
        self.profile(identity, &mut user)?;

        // The last completed method says how the user got in (a social provider, or Kratos).
        let mut methods = Vec::new();
        let mut social: Option<(String, String)> = None;
        if let Some(s) = session {
            for (i, m) in common::opt_array(s, "authentication_methods", "session")?.into_iter().flatten().enumerate() {
                let at = format!("session.authentication_methods[{i}]");
                let m = m.as_object().ok_or_else(|| common::wrong(&at, "an object", m))?;
                let method = common::req_str(m, "method", &at)?;
                let aal = common::opt_str(m, "aal", &at)?;
                let mut entry = json!({ "name": method_name(method, aal) });
                if let Some(t) = common::opt_str(m, "completed_at", &at)?.and_then(common::millis) {
                    entry["timestamp"] = json!(t);
                }
                methods.push(entry);
                if let ("oidc" | "saml", Some(provider)) = (method, common::nonempty_str(m, "provider", &at)?) {
                    social =
                        Some((provider.to_string(), if method == "saml" { "samlp".into() } else { "oidc".into() }));
                }
            }
        }
        let (connection, strategy, is_social) = match &social {
            Some((provider, strategy)) => (provider.clone(), strategy.clone(), strategy == "oidc"),
            None => (o.connection.clone(), o.connection_strategy.clone(), false),
        };
        let provider = if social.is_some() { connection.as_str() } else { "kratos" };
        user.insert("identities".into(), common::identity(provider, user_id, &connection, is_social));

        // The application: Hydra's OAuth2 client when Kratos is Hydra's login app.
        let oauth2 = common::opt_obj(flow, "oauth2_login_request", "flow")?;
        let client = match oauth2 {
            Some(r) => common::opt_obj(r, "client", "flow.oauth2_login_request")?,
            None => None,
        };
        let (client_id, client_name) = match client {
            Some(c) => {
                let id = common::req_str(c, "client_id", "flow.oauth2_login_request.client")?;
                let name = common::nonempty_str(c, "client_name", "flow.oauth2_login_request.client")?
                    .map_or_else(|| common::client_name(&o.client_names, id), str::to_string);
                (id.to_string(), name)
            }
            None => (o.client_id.clone(), common::client_name(&o.client_names, &o.client_id)),
        };
        let flow_url = common::opt_str(flow, "request_url", "flow")?.unwrap_or("");
        let mut query = common::url_query(flow_url);
        if let Some(r) = oauth2 {
            let scopes = common::str_list(r, "requested_scope", "flow.oauth2_login_request")?;
            if !scopes.is_empty() {
                query.insert("scope".into(), json!(scopes.join(" ")));
            }
            let audience = common::str_list(r, "requested_access_token_audience", "flow.oauth2_login_request")?;
            if !audience.is_empty() {
                query.insert("audience".into(), json!(audience.join(" ")));
            }
            query.insert("client_id".into(), json!(client_id));
        }
        let protocol = match common::opt_str(flow, "type", "flow")? {
            Some("api") => "oauth2-resource-owner",
            _ => "oidc-basic-profile",
        };

        let device = session
            .and_then(|s| s.get("devices"))
            .and_then(Json::as_array)
            .and_then(|d| d.last())
            .and_then(Json::as_object);
        let ip = o
            .client_ip_header
            .as_deref()
            .and_then(|h| common::forwarded_ip(headers, h))
            .or_else(|| device.and_then(|d| d.get("ip_address")).and_then(Json::as_str).map(str::to_string));
        let agent = common::header_value(headers, "User-Agent")
            .map(str::to_string)
            .or_else(|| device.and_then(|d| d.get("user_agent")).and_then(Json::as_str).map(str::to_string));
        let mut req = Obj::new();
        common::put(&mut req, "ip", ip.map(Json::String));
        common::put(&mut req, "userAgent", agent.map(Json::String));
        let url = common::opt_str(request, "url", "request")?.filter(|u| !u.is_empty()).unwrap_or(flow_url);
        common::put(&mut req, "hostname", common::url_host(url).map(Json::String));
        req.insert("query".into(), Json::Object(query));
        if let Some(body) = common::opt_obj(flow, "transient_payload", "flow")? {
            req.insert("body".into(), Json::Object(body.clone()));
        }
        if let Some(country) =
            o.country_header.as_deref().and_then(|h| common::header_value(headers, h)).filter(|c| c.len() == 2)
        {
            req.insert("geoip".into(), json!({ "country_code": country }));
        }

        let mut context = Obj::new();
        context.insert("clientID".into(), json!(client_id));
        context.insert("clientName".into(), json!(client_name));
        context.insert("connection".into(), json!(connection));
        context.insert("connectionStrategy".into(), json!(strategy));
        context.insert("protocol".into(), json!(protocol));
        context.insert("authentication".into(), json!({ "methods": methods }));
        context.insert("request".into(), Json::Object(req));
        context.insert("accessToken".into(), json!({}));
        context.insert("idToken".into(), json!({}));
        if let Some(s) = session {
            common::put(&mut context, "sessionID", common::nonempty_str(s, "id", "session")?.map(|v| json!(v)));
        }

        let metadata_public = identity.get("metadata_public").cloned().unwrap_or(Json::Null);
        Ok(Login {
            user: Json::Object(user),
            context: Json::Object(context),
            now: None,
            host: json!({ "metadata_public": metadata_public }),
        })
    }

    fn reply(&self, outcome: &Outcome, info: DecisionInfo<'_>) -> Reply {
        match self.allowed(outcome, info) {
            Ok(None) => Reply { status: 204, body: None },
            Ok(Some(identity)) => Reply { status: 200, body: Some(json!({ "identity": identity })) },
            Err(r) => {
                let id = if r.cause == "unsupported" { MESSAGE_UNSUPPORTED } else { MESSAGE_DENIED };
                Reply {
                    status: 403,
                    body: Some(json!({ "messages": [{
                        "instance_ptr": "#/",
                        "messages": [{ "id": id, "text": r.description, "type": "error", "context": r.details(info.decision_id) }]
                    }]})),
                }
            }
        }
    }
}

impl Kratos {
    /// The identity changes to send (`None`: none), or why the login is refused.
    fn allowed(&self, outcome: &Outcome, info: DecisionInfo<'_>) -> Result<Option<Json>, Refusal> {
        if let Some(r) = common::denial(outcome).or_else(|| common::interactive_requirement(outcome, HOST)) {
            return Err(r);
        }
        if let Some(r) = common::token_refusal(outcome, HOST, self.options.tokens) {
            return Err(r);
        }
        if outcome.effects.is_empty() {
            return Ok(None);
        }
        let what = format!("the rules update {}", common::effects_summary(outcome));
        if self.flow == Flow::Login {
            return Err(Refusal::unsupported(
                HOST,
                &format!("{what} (Kratos keeps identity changes from registration and settings hooks only)"),
            ));
        }
        let mut public = match info.host.get("metadata_public") {
            Some(Json::Object(m)) => m.clone(),
            _ => Obj::new(),
        };
        for effect in &outcome.effects {
            let path = match effect.kind {
                EffectKind::UpdateAppMetadata => &self.options.app_metadata,
                EffectKind::UpdateUserMetadata => &self.options.user_metadata,
            };
            match writable(path) {
                Some(None) => common::apply_patch(&mut public, &effect.patch),
                Some(Some(key)) => {
                    let mut inner = match public.get(key) {
                        Some(Json::Object(m)) => m.clone(),
                        _ => Obj::new(),
                    };
                    common::apply_patch(&mut inner, &effect.patch);
                    public.insert(key.to_string(), Json::Object(inner));
                }
                None => {
                    let path = if path.is_empty() {
                        "nowhere (no path configured)".to_string()
                    } else {
                        format!("`identity.{path}`")
                    };
                    return Err(Refusal::unsupported(
                        HOST,
                        &format!("{what}, which maps to {path}: only `metadata_public` can be written"),
                    ));
                }
            }
        }
        Ok(Some(json!({ "metadata_public": public })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::testing::{decode_fixture, outcome_of};

    fn login_hook() -> Kratos {
        Kratos::new(&KratosOptions::default(), Flow::Login)
    }

    fn registration() -> Kratos {
        Kratos::new(&KratosOptions::default(), Flow::Registration)
    }

    #[test]
    fn documented_registration_maps_to_auth0() {
        let login = decode_fixture(&registration(), "kratos/registration.json").expect("decodes");
        assert_eq!(login.user["user_id"], json!("3a5293f1-f4d6-49f4-b34f-6da62c360604"));
        assert_eq!(login.user["email"], json!("0.g5vv0qpoxl@ory.com"));
        assert_eq!(login.user["email_verified"], json!(false));
        assert_eq!(login.user["blocked"], json!(false));
        assert!(login.user.get("created_at").is_none(), "Go's zero time is not a creation time");
        assert_eq!(login.user["app_metadata"], json!({}));
        assert_eq!(login.context["clientID"], json!("kratos"));
        assert_eq!(login.context["connection"], json!("kratos"));
        assert_eq!(login.context["protocol"], json!("oidc-basic-profile"));
        assert_eq!(login.context["request"]["hostname"], json!("playground.projects.oryapis.com"));
        assert_eq!(
            login.context["request"]["userAgent"],
            json!(
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36"
            )
        );
        assert_eq!(login.context["request"]["query"], json!({ "return_to": "" }));
        assert_eq!(login.context["request"]["body"], json!({ "custom_data": "test" }));
        // The registration hook has no session, so the login route refuses the same body.
        assert!(
            matches!(decode_fixture(&login_hook(), "kratos/registration.json"), Err(AdapterError::BadRequest(m)) if m.contains("`session` is missing"))
        );
    }

    #[test]
    fn documented_login_maps_to_auth0() {
        let login = decode_fixture(&login_hook(), "kratos/login.json").expect("decodes");
        assert_eq!(login.user["email_verified"], json!(true));
        assert_eq!(login.user["given_name"], json!("Ann"));
        assert_eq!(login.user["name"], json!("Ann Example"));
        assert_eq!(login.user["app_metadata"], json!({ "plan": "team" }));
        assert_eq!(login.context["sessionID"], json!("497f6eca-6276-4993-bfeb-53cbbbba6f08"));
        assert_eq!(
            login.context["authentication"]["methods"],
            json!([{ "name": "pwd", "timestamp": warden::parse_time("2019-08-24T14:15:22Z").expect("time") }])
        );
        assert_eq!(login.context["request"]["ip"], json!("203.0.113.9"));
        assert_eq!(login.host["metadata_public"], json!({ "plan": "team" }));
    }

    #[test]
    fn social_logins_name_the_provider_and_second_factors_count_as_mfa() {
        let body = json!({
            "identity": { "id": "i1", "traits": { "email": "A@Example.com" },
                          "verifiable_addresses": [{ "via": "email", "value": "a@example.com", "verified": true }] },
            "session": { "id": "s1", "authentication_methods": [
                { "method": "oidc", "aal": "aal1", "provider": "google", "completed_at": "2026-01-01T00:00:00Z" },
                { "method": "totp", "aal": "aal2", "completed_at": "2026-01-01T00:01:00Z" }
            ], "devices": [{ "ip_address": "198.51.100.7", "user_agent": "curl/8" }] },
            "flow": { "id": "f1", "type": "api", "request_url": "https://id.example.com/self-service/login/api",
                      "oauth2_login_request": { "client": { "client_id": "app1", "client_name": "App One" },
                                                "requested_scope": ["openid", "email"] } },
            "request": { "url": "https://id.example.com/self-service/login?flow=f1", "headers": { "X-Forwarded-For": ["192.0.2.1, 10.0.0.1"] } }
        });
        let login = login_hook().decode(&HeaderMap::new(), body.to_string().as_bytes()).expect("decodes");
        assert_eq!(login.user["email_verified"], json!(true));
        assert_eq!(
            login.user["identities"],
            json!([{ "provider": "google", "user_id": "i1", "connection": "google", "isSocial": true }])
        );
        assert_eq!(login.context["connection"], json!("google"));
        assert_eq!(login.context["connectionStrategy"], json!("oidc"));
        assert_eq!(login.context["clientID"], json!("app1"));
        assert_eq!(login.context["clientName"], json!("App One"));
        assert_eq!(login.context["protocol"], json!("oauth2-resource-owner"));
        assert_eq!(login.context["request"]["query"]["scope"], json!("openid email"));
        // Regression: the left-most X-Forwarded-For address is the client's own claim; by
        // default the address Kratos recorded for the device is used.
        assert_eq!(login.context["request"]["ip"], json!("198.51.100.7"));
        assert_eq!(login.context["request"]["userAgent"], json!("curl/8"));
        let trusting = Kratos::new(
            &KratosOptions { client_ip_header: Some("X-Forwarded-For".into()), ..KratosOptions::default() },
            Flow::Login,
        );
        let login2 = trusting.decode(&HeaderMap::new(), body.to_string().as_bytes()).expect("decodes");
        assert_eq!(login2.context["request"]["ip"], json!("10.0.0.1"), "the right-most address, set by the proxy");
        let names: Vec<&Json> =
            login.context["authentication"]["methods"].as_array().expect("list").iter().map(|m| &m["name"]).collect();
        assert_eq!(names, vec![&json!("federated"), &json!("mfa")]);
    }

    #[test]
    fn malformed_payloads_name_the_field() {
        for (body, want) in [
            (json!({"flow": {}}), "`identity` is missing"),
            (json!({"identity": {}, "flow": {}}), "`identity.id` is missing"),
            (json!({"identity": {"id": "i"}}), "`flow` is missing"),
            (
                json!({"identity": {"id": "i", "traits": {"email": 3}}, "flow": {}, "session": {}}),
                "`identity.traits.email` must be a string",
            ),
            (
                json!({"identity": {"id": "i"}, "flow": {}, "session": {"authentication_methods": [{}]}}),
                "`session.authentication_methods[0].method` is missing",
            ),
            (
                json!({"identity": {"id": "i", "metadata_public": [1]}, "flow": {}, "session": {}}),
                "`identity.metadata_public` must be an object",
            ),
        ] {
            let got = login_hook().decode(&HeaderMap::new(), body.to_string().as_bytes());
            assert!(
                matches!(&got, Err(AdapterError::BadRequest(m)) if m.contains(want)),
                "{body}: {got:?} should name {want:?}"
            )
        }
    }

    fn reply(k: &Kratos, rules: &str, login: &Login) -> Reply {
        let outcome = outcome_of(rules, login);
        k.reply(&outcome, DecisionInfo { decision_id: "d1", pipeline: "default", hash: "h", host: &login.host })
    }

    fn text(r: &Reply) -> (u64, String) {
        let m = &r.body.as_ref().expect("body")["messages"][0]["messages"][0];
        (m["id"].as_u64().unwrap_or(0), m["text"].as_str().unwrap_or("").to_string())
    }

    #[test]
    fn allow_is_204_and_deny_shows_a_message() {
        let l = decode_fixture(&login_hook(), "kratos/login.json").expect("decodes");
        assert_eq!(reply(&login_hook(), r#"rule "ok" { log "x" }"#, &l), Reply { status: 204, body: None });
        let r = reply(&login_hook(), r#"rule "no" { deny "Your account is suspended." }"#, &l);
        assert_eq!(r.status, 403);
        assert_eq!(r.body.as_ref().expect("body")["messages"][0]["instance_ptr"], json!("#/"));
        assert_eq!(r.body.as_ref().expect("body")["messages"][0]["messages"][0]["type"], json!("error"));
        assert_eq!(r.body.as_ref().expect("body")["messages"][0]["messages"][0]["context"]["rule"], json!("no"));
        assert_eq!(text(&r), (MESSAGE_DENIED, "Your account is suspended.".to_string()));
    }

    #[test]
    fn what_kratos_cannot_carry_denies() {
        let l = decode_fixture(&login_hook(), "kratos/login.json").expect("decodes");
        for (rules, why) in [
            (r#"rule "m" { mfa any }"#, "multi-factor authentication"),
            (r#"rule "c" { claim id_token "https://example.com/x" = 1 }"#, "token claims (https://example.com/x)"),
            (r#"rule "s" { scope set ["openid"] }"#, "scopes"),
            (r#"rule "p" { persist app_metadata.count = 1 }"#, "registration and settings hooks only"),
        ] {
            let r = reply(&login_hook(), rules, &l);
            assert_eq!(r.status, 403, "{rules}");
            let (id, t) = text(&r);
            assert_eq!(id, MESSAGE_UNSUPPORTED);
            assert!(t.contains(why) && t.contains("cannot carry"), "{rules}: {t}");
        }
        let ignore = Kratos::new(&KratosOptions { tokens: Tokens::Ignore, ..KratosOptions::default() }, Flow::Login);
        assert_eq!(reply(&ignore, r#"rule "c" { claim id_token "https://example.com/x" = 1 }"#, &l).status, 204);
    }

    #[test]
    fn registration_writes_metadata_public_whole() {
        let l = decode_fixture(&login_hook(), "kratos/login.json").expect("decodes");
        let r = reply(
            &registration(),
            "rule \"p\" {\n    persist app_metadata.count = 1\n    persist app_metadata.plan = null\n}",
            &l,
        );
        assert_eq!(r, Reply { status: 200, body: Some(json!({ "identity": { "metadata_public": { "count": 1 } } })) });
        let nested = Kratos::new(
            &KratosOptions { user_metadata: "metadata_public.prefs".into(), ..KratosOptions::default() },
            Flow::Registration,
        );
        let r = reply(&nested, r#"rule "p" { persist user_metadata.lang = "de" }"#, &l);
        assert_eq!(
            r.body,
            Some(json!({ "identity": { "metadata_public": { "plan": "team", "prefs": { "lang": "de" } } } }))
        );
        let r = reply(&registration(), r#"rule "p" { persist user_metadata.lang = "de" }"#, &l);
        assert!(text(&r).1.contains("no path configured"));
    }
}
