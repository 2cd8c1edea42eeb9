//! ZITADEL Actions v2: a REST call target run by executions on the functions
//! `preaccesstoken` and `preuserinfo`. ZITADEL POSTs the function's context (`function`,
//! `userinfo`, `user`, `user_metadata`, `org`, `user_grants`, `application`), signed in the
//! `ZITADEL-Signature` header (`t=UNIX,v1=HEX`, HMAC-SHA256 over `UNIX.BODY` with the
//! target's signing key), and reads `{"append_claims": [{"key", "value"}],
//! "set_user_metadata": [{"key", "value" (base64)}], "append_log_claims": [...]}`. A target
//! with `interruptOnError` fails the call when it answers 200 with `{"forwardedStatusCode":
//! 4xx, "forwardedErrorMessage"}` (the error reaches the client) or any non-2xx status.
//!
//! Sources: zitadel/zitadel `internal/api/oidc/userinfo.go` (`ContextInfo`,
//! `ContextInfoResponse`, `appendOrLogClaim`), `internal/execution/execution.go`
//! (`CallTargets`, `HandleResponse`, `ErrorBody`), `pkg/actions/signing.go`
//! (`ComputeSignatureHeader`, 300 s `DefaultTolerance`), `internal/query/user.go` (`User`,
//! `Human`, `Machine`), docs `docs/docs/apis/actions/v2/usage.md` ("Sent information
//! Function", "Error forwarding") and `docs/docs/guides/integrate/actions/testing-function.md`.

use std::collections::BTreeMap;

use axum::http::HeaderMap;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{Value as Json, json};
use sha2::Sha256;
use warden::{EffectKind, Outcome};

use super::common::{self, Obj, Refusal};
use super::{Adapter, AdapterError, DecisionInfo, Login, Reply};

/// The header ZITADEL signs calls in.
pub const SIGNATURE_HEADER: &str = "zitadel-signature";
/// How old (or how far ahead) a signature's time may be, as ZITADEL's own check allows.
pub const TOLERANCE_SECONDS: i64 = 300;

/// `[hooks.zitadel]`
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ZitadelOptions {
    /// The target's signing key (returned when the target is created).
    pub signing_key: Option<String>,
    /// An environment variable holding the signing key (both may be set while rotating).
    pub signing_key_env: Option<String>,
    /// ZITADEL metadata keys starting with this prefix become `user.user_metadata` (prefix
    /// removed); every other key becomes `user.app_metadata`. `""`: no user metadata.
    pub user_metadata_prefix: String,
    /// Only grants of this project give `context.authorization.roles` (`""`: all projects).
    pub roles_project_id: String,
    /// `application.client_id` is required (ZITADEL sends it since PR #10339); `false`
    /// accepts older versions' calls without it (then `context.clientID` is absent).
    pub require_client_id: bool,
    /// Machine users (service accounts) have no Auth0 counterpart: `"skip"` answers `{}`
    /// (the token is issued unchanged, no rules run), `"deny"` refuses, `"run"` runs the rules.
    pub machine_users: MachineUsers,
    /// The functions whose executions call this target. An outcome's claims for a token whose
    /// function is not listed (ID token: `preuserinfo`, access token: `preaccesstoken`) deny.
    pub executions: Vec<Function>,
    pub connection: String,
    pub connection_strategy: String,
    /// `context.protocol` (ZITADEL does not say which grant is running).
    pub protocol: String,
    pub client_names: BTreeMap<String, String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MachineUsers {
    Skip,
    Deny,
    Run,
}

/// The functions this adapter answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Function {
    PreAccessToken,
    PreUserinfo,
}

impl Function {
    fn name(self) -> &'static str {
        match self {
            Function::PreAccessToken => "preaccesstoken",
            Function::PreUserinfo => "preuserinfo",
        }
    }
}

impl Default for ZitadelOptions {
    fn default() -> Self {
        ZitadelOptions {
            signing_key: None,
            signing_key_env: None,
            user_metadata_prefix: "user_metadata.".into(),
            roles_project_id: String::new(),
            require_client_id: true,
            machine_users: MachineUsers::Skip,
            executions: vec![Function::PreAccessToken, Function::PreUserinfo],
            connection: "zitadel".into(),
            connection_strategy: "zitadel".into(),
            protocol: "oidc-basic-profile".into(),
            client_names: BTreeMap::new(),
        }
    }
}

/// The Actions v2 target adapter (`/v1/hooks/zitadel`).
#[derive(Debug)]
pub struct Zitadel {
    options: ZitadelOptions,
    keys: Vec<Vec<u8>>,
    /// Why nothing can be decided, when the configuration is incomplete.
    problem: Option<String>,
}

const HOST: &str = "ZITADEL";

impl Zitadel {
    /// Reads the signing key (from the settings and the environment) once, at start.
    pub fn new(options: &ZitadelOptions) -> Zitadel {
        Zitadel::with_env(options, |name| std::env::var(name).ok())
    }

    fn with_env(options: &ZitadelOptions, env: impl Fn(&str) -> Option<String>) -> Zitadel {
        let mut keys = Vec::new();
        let mut problems = Vec::new();
        if let Some(k) = options.signing_key.as_deref() {
            if k.is_empty() {
                problems.push("`[hooks.zitadel] signing_key` is empty".to_string());
            } else {
                keys.push(k.as_bytes().to_vec());
            }
        }
        if let Some(var) = options.signing_key_env.as_deref() {
            match env(var).filter(|v| !v.trim().is_empty()) {
                Some(k) => keys.push(k.trim().as_bytes().to_vec()),
                None => problems.push(format!("the environment variable `{var}` (`signing_key_env`) is not set")),
            }
        }
        if keys.is_empty() && problems.is_empty() {
            problems.push(
                "no signing key is configured: set `[hooks.zitadel] signing_key` or `signing_key_env` to the target's signing key"
                    .into(),
            );
        }
        if !common::configurable_protocol(&options.protocol) {
            problems
                .push(format!("`[hooks.zitadel] protocol = {:?}` is not one of Auth0's protocols", options.protocol));
        }
        let problem = (!problems.is_empty()).then(|| problems.join("; "));
        Zitadel { options: options.clone(), keys, problem }
    }

    /// Why every call is refused, when the configuration is incomplete.
    pub fn misconfigured(&self) -> Option<&str> {
        self.problem.as_deref()
    }
}

/// The longest `ZITADEL-Signature` header read, and the most `v1` values in it: enough for a
/// key rotation, and a bound on the work an unauthenticated caller can ask for.
pub const MAX_SIGNATURE_HEADER: usize = 512;
pub const MAX_SIGNATURES: usize = 4;

/// The parts of a `ZITADEL-Signature` header that is present, well formed and fresh at `now`
/// (Unix seconds): checked before the body is read.
pub(crate) fn signature_parts(headers: &HeaderMap, now: i64) -> Result<(i64, Vec<[u8; 32]>), AdapterError> {
    let unauthorized = |m: &str| AdapterError::Unauthorized(format!("ZITADEL-Signature: {m}"));
    let header = headers.get(SIGNATURE_HEADER).ok_or_else(|| unauthorized("the header is missing"))?;
    if header.len() > MAX_SIGNATURE_HEADER {
        return Err(unauthorized(&format!("the header is longer than {MAX_SIGNATURE_HEADER} bytes")));
    }
    let header = header.to_str().map_err(|_| unauthorized("the header is not text"))?;
    let mut timestamp: Option<i64> = None;
    let mut signatures = Vec::new();
    for pair in header.split(',') {
        let (k, v) = pair.trim().split_once('=').ok_or_else(|| unauthorized("the header is malformed"))?;
        match k {
            "t" => timestamp = Some(v.parse().map_err(|_| unauthorized("the timestamp is not a number"))?),
            "v1" => {
                let mut sig = [0u8; 32];
                // Only well-formed HMAC-SHA256 values count; anything else is ignored.
                if hex::decode_to_slice(v, &mut sig).is_ok() {
                    if signatures.len() == MAX_SIGNATURES {
                        return Err(unauthorized(&format!("more than {MAX_SIGNATURES} v1 signatures")));
                    }
                    signatures.push(sig);
                }
            }
            _ => {}
        }
    }
    let t = timestamp.ok_or_else(|| unauthorized("the header has no timestamp"))?;
    if signatures.is_empty() {
        return Err(unauthorized("the header has no v1 signature"));
    }
    let age = now.saturating_sub(t);
    if age.abs() > TOLERANCE_SECONDS {
        return Err(unauthorized(&format!(
            "the signature's time is {age} s from now, past the tolerance of {TOLERANCE_SECONDS} s"
        )));
    }
    Ok((t, signatures))
}

/// Checks `ZITADEL-Signature` against `body` at `now` (Unix seconds): one HMAC per
/// configured key, compared in constant time with each candidate.
pub(crate) fn verify(headers: &HeaderMap, body: &[u8], keys: &[Vec<u8>], now: i64) -> Result<(), AdapterError> {
    let (t, signatures) = signature_parts(headers, now)?;
    for key in keys {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else { continue };
        mac.update(t.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        let expected = mac.finalize().into_bytes();
        let matches =
            signatures.iter().any(|sig| sig.iter().zip(expected.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0);
        if matches {
            return Ok(());
        }
    }
    Err(AdapterError::Unauthorized("ZITADEL-Signature: no signature matches the configured signing key".into()))
}

/// The header ZITADEL would send for `body` at `t` (for tests and documentation).
pub fn signature_header(key: &str, t: i64, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(key.as_bytes()) {
        Ok(m) => m,
        Err(_) => return format!("t={t}"),
    };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A metadata value as rules see it: the JSON it holds, else its text; bytes that are not
/// UTF-8 stay base64.
fn metadata_value(bytes: &[u8], b64: &str) -> Json {
    match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text).unwrap_or_else(|_| Json::String(text.to_string())),
        Err(_) => Json::String(b64.to_string()),
    }
}

/// A value written as metadata: a string as its text unless that text would read back as
/// other JSON (`"12"`), then (like any other value) as JSON, so reading gives it back.
fn metadata_bytes(value: &Json) -> Vec<u8> {
    match value {
        Json::String(s) if serde_json::from_str::<Json>(s).is_err() => s.as_bytes().to_vec(),
        other => other.to_string().into_bytes(),
    }
}

impl Adapter for Zitadel {
    fn name(&self) -> &'static str {
        "zitadel"
    }

    fn authenticates(&self) -> bool {
        true
    }

    fn precheck(&self, headers: &HeaderMap) -> Result<(), AdapterError> {
        if let Some(problem) = &self.problem {
            return Err(AdapterError::Misconfigured(format!("the ZITADEL hook decides nothing: {problem}")));
        }
        signature_parts(headers, now_seconds()).map(|_| ())
    }

    fn decode(&self, headers: &HeaderMap, body: &[u8]) -> Result<Login, AdapterError> {
        self.decode_at(headers, body, now_seconds())
    }

    fn reply(&self, outcome: &Outcome, info: DecisionInfo<'_>) -> Reply {
        match self.carried(outcome, info) {
            Ok(body) => Reply { status: 200, body: Some(body) },
            Err(r) => Reply { status: 200, body: Some(forwarded(&r.description)) },
        }
    }
}

/// ZITADEL's error forwarding: the call fails with 403 and this message.
fn forwarded(message: &str) -> Json {
    json!({ "forwardedStatusCode": 403, "forwardedErrorMessage": message })
}

impl Zitadel {
    fn decode_at(&self, headers: &HeaderMap, body: &[u8], now: i64) -> Result<Login, AdapterError> {
        if let Some(problem) = &self.problem {
            return Err(AdapterError::Misconfigured(format!("the ZITADEL hook decides nothing: {problem}")));
        }
        verify(headers, body, &self.keys, now)?;
        let o = &self.options;
        let root = common::parse_object(body)?;
        let function = match common::req_str(&root, "function", "")? {
            "function/preaccesstoken" | "preaccesstoken" => Function::PreAccessToken,
            "function/preuserinfo" | "preuserinfo" => Function::PreUserinfo,
            other => {
                return Err(AdapterError::BadRequest(format!(
                    "`function` is {other:?}: this target answers `function/preaccesstoken` and `function/preuserinfo`"
                )));
            }
        };
        let zuser = common::req_obj(&root, "user", "")?;
        let user_id = common::req_str(zuser, "id", "user")?;
        let machine = common::opt_obj(zuser, "machine", "user")?;
        let is_machine = machine.is_some() || zuser.get("type").and_then(Json::as_i64) == Some(2);
        if is_machine {
            match o.machine_users {
                MachineUsers::Skip => return Err(AdapterError::Answer(Reply { status: 200, body: Some(json!({})) })),
                MachineUsers::Deny => {
                    return Err(AdapterError::Answer(Reply {
                        status: 200,
                        body: Some(forwarded("machine users are refused by warden's ZITADEL hook")),
                    }));
                }
                MachineUsers::Run => {}
            }
        }
        let empty = Obj::new();
        let userinfo = common::opt_obj(&root, "userinfo", "")?.unwrap_or(&empty);
        let human = common::opt_obj(zuser, "human", "user")?;

        let mut user = Obj::new();
        user.insert("user_id".into(), json!(user_id));
        common::put(&mut user, "username", common::nonempty_str(zuser, "username", "user")?.map(|s| json!(s)));
        common::put(&mut user, "created_at", common::time_value(common::opt_str(zuser, "creation_date", "user")?));
        common::put(&mut user, "updated_at", common::time_value(common::opt_str(zuser, "change_date", "user")?));
        if let Some(state) = common::get(zuser, "state") {
            let state = state.as_i64().ok_or_else(|| common::wrong("user.state", "a number", state))?;
            // Active (1) and initial (6) are ZITADEL's states that are not disabled.
            user.insert("blocked".into(), json!(!matches!(state, 1 | 6)));
        }
        if let Some(h) = human {
            const AT: &str = "user.human";
            for (field, key) in [
                ("email", "email"),
                ("given_name", "first_name"),
                ("family_name", "last_name"),
                ("nickname", "nick_name"),
                ("name", "display_name"),
                ("locale", "preferred_language"),
                ("phone_number", "phone"),
            ] {
                common::put(&mut user, field, common::nonempty_str(h, key, AT)?.map(|s| json!(s)));
            }
            // `omitempty`: an unverified address is sent without the flag.
            if user.contains_key("email") {
                user.insert(
                    "email_verified".into(),
                    json!(common::opt_bool(h, "is_email_verified", AT)?.unwrap_or(false)),
                );
            }
            if user.contains_key("phone_number") {
                user.insert(
                    "phone_verified".into(),
                    json!(common::opt_bool(h, "is_phone_verified", AT)?.unwrap_or(false)),
                );
            }
        }
        if let Some(m) = machine {
            common::put(&mut user, "name", common::nonempty_str(m, "name", "user.machine")?.map(|s| json!(s)));
        }
        for (field, claim) in [("picture", "picture"), ("email", "email"), ("name", "name"), ("locale", "locale")] {
            if !user.contains_key(field) {
                common::put(&mut user, field, common::nonempty_str(userinfo, claim, "userinfo")?.map(|s| json!(s)));
            }
        }
        if user.contains_key("email") && !user.contains_key("email_verified") {
            user.insert(
                "email_verified".into(),
                json!(common::opt_bool(userinfo, "email_verified", "userinfo")?.unwrap_or(false)),
            );
        }

        let (mut app, mut usr) = (Obj::new(), Obj::new());
        for (i, entry) in common::opt_array(&root, "user_metadata", "")?.into_iter().flatten().enumerate() {
            let at = format!("user_metadata[{i}]");
            let entry = entry.as_object().ok_or_else(|| common::wrong(&at, "an object", entry))?;
            let key = common::req_str(entry, "key", &at)?;
            let b64 = common::opt_str(entry, "value", &at)?.unwrap_or("");
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| AdapterError::BadRequest(format!("`{at}.value` is not base64: {e}")))?;
            let value = metadata_value(&bytes, b64);
            match key.strip_prefix(o.user_metadata_prefix.as_str()) {
                Some(rest) if !o.user_metadata_prefix.is_empty() => usr.insert(rest.to_string(), value),
                _ => app.insert(key.to_string(), value),
            };
        }
        user.insert("app_metadata".into(), Json::Object(app));
        user.insert("user_metadata".into(), Json::Object(usr));
        user.insert("identities".into(), common::identity("zitadel", user_id, &o.connection, false));

        let mut roles: Vec<String> = Vec::new();
        for (i, grant) in common::opt_array(&root, "user_grants", "")?.into_iter().flatten().enumerate() {
            let at = format!("user_grants[{i}]");
            let grant = grant.as_object().ok_or_else(|| common::wrong(&at, "an object", grant))?;
            let active = grant.get("state").and_then(Json::as_i64).is_none_or(|s| s == 1);
            let project = common::opt_str(grant, "projectId", &at)?.unwrap_or("");
            if active && (o.roles_project_id.is_empty() || project == o.roles_project_id) {
                for role in common::str_list(grant, "roles", &at)? {
                    if !roles.contains(&role) {
                        roles.push(role);
                    }
                }
            }
        }

        let mut context = Obj::new();
        let application = common::opt_obj(&root, "application", "")?;
        let client_id = match application {
            Some(a) => common::nonempty_str(a, "client_id", "application")?,
            None => None,
        };
        match client_id {
            Some(id) => {
                context.insert("clientID".into(), json!(id));
                context.insert("clientName".into(), json!(common::client_name(&o.client_names, id)));
            }
            None if o.require_client_id => {
                return Err(AdapterError::BadRequest(
                    "`application.client_id` is missing (ZITADEL sends it since PR #10339; set \
                     `[hooks.zitadel] require_client_id = false` to accept calls without it)"
                        .into(),
                ));
            }
            None => {}
        }
        context.insert("connection".into(), json!(o.connection));
        context.insert("connectionStrategy".into(), json!(o.connection_strategy));
        context.insert("protocol".into(), json!(o.protocol));
        context.insert("authorization".into(), json!({ "roles": roles }));
        if let Some(org) = common::opt_obj(&root, "org", "")? {
            let mut organization = Obj::new();
            common::put(&mut organization, "id", common::nonempty_str(org, "id", "org")?.map(|s| json!(s)));
            if let Some(name) = common::nonempty_str(org, "name", "org")? {
                organization.insert("name".into(), json!(name));
                organization.insert("display_name".into(), json!(name));
            }
            let domain = common::nonempty_str(org, "primary_domain", "org")?;
            organization
                .insert("metadata".into(), domain.map_or_else(|| json!({}), |d| json!({ "primary_domain": d })));
            context.insert("organization".into(), Json::Object(organization));
        }
        // Not sent by ZITADEL releases yet (zitadel/zitadel PR #12525 adds `request.scope`).
        let scope = match common::opt_obj(&root, "request", "")? {
            Some(r) if common::get(r, "scope").is_some() => Some(common::str_list(r, "scope", "request")?),
            _ => None,
        };
        let mut query = Obj::new();
        if let Some(s) = &scope {
            query.insert("scope".into(), json!(s.join(" ")));
        }
        context.insert("request".into(), json!({ "query": query }));
        context.insert("accessToken".into(), json!({}));
        context.insert("idToken".into(), json!({}));

        Ok(Login {
            user: Json::Object(user),
            context: Json::Object(context),
            now: None,
            host: json!({ "function": function.name(), "userinfo": userinfo, "scope": scope }),
        })
    }

    /// The reply body when everything the outcome asks can travel, or why not.
    fn carried(&self, outcome: &Outcome, info: DecisionInfo<'_>) -> Result<Json, Refusal> {
        if let Some(r) = common::denial(outcome).or_else(|| common::interactive_requirement(outcome, HOST)) {
            return Err(r);
        }
        let o = &self.options;
        let function = match info.host.get("function").and_then(Json::as_str) {
            Some("preuserinfo") => Function::PreUserinfo,
            _ => Function::PreAccessToken,
        };
        if let Some(asked) = &outcome.scope {
            let known: Option<Vec<String>> = info
                .host
                .get("scope")
                .and_then(Json::as_array)
                .map(|a| a.iter().filter_map(Json::as_str).map(str::to_string).collect());
            let change = match &known {
                Some(granted) => common::scope_change(outcome, granted),
                None => Some(format!("the rules set scopes ({}) and ZITADEL cannot change them", asked.join(" "))),
            };
            if let Some(what) = change {
                return Err(Refusal::unsupported(HOST, &what));
            }
        }
        let (mine, theirs, peer) = match function {
            Function::PreAccessToken => (&outcome.access_token, &outcome.id_token, Function::PreUserinfo),
            Function::PreUserinfo => (&outcome.id_token, &outcome.access_token, Function::PreAccessToken),
        };
        if !theirs.is_empty() && !o.executions.contains(&peer) {
            let names: Vec<&str> = theirs.keys().map(String::as_str).collect();
            return Err(Refusal::unsupported(
                HOST,
                &format!(
                    "the rules add {} claims ({}) and no `{}` execution is configured to carry them (`[hooks.zitadel] executions`)",
                    if peer == Function::PreUserinfo { "ID token" } else { "access token" },
                    names.join(", "),
                    peer.name()
                ),
            ));
        }
        let existing = info.host.get("userinfo").and_then(Json::as_object);
        let mut claims = Vec::new();
        for (key, value) in mine {
            if key.starts_with("urn:zitadel:iam") {
                return Err(Refusal::unsupported(
                    HOST,
                    &format!("the rules set the claim `{key}` in ZITADEL's reserved namespace"),
                ));
            }
            match existing.and_then(|u| u.get(key)) {
                Some(v) if v == value => {}
                Some(_) => {
                    return Err(Refusal::unsupported(
                        HOST,
                        &format!(
                            "the rules change the claim `{key}`, which ZITADEL already sets and a target can only add to"
                        ),
                    ));
                }
                None => claims.push(json!({ "key": key, "value": value })),
            }
        }
        let mut metadata = Vec::new();
        for effect in &outcome.effects {
            let prefix = match effect.kind {
                EffectKind::UpdateAppMetadata => "",
                EffectKind::UpdateUserMetadata if o.user_metadata_prefix.is_empty() => {
                    return Err(Refusal::unsupported(
                        HOST,
                        "the rules update user_metadata and `[hooks.zitadel] user_metadata_prefix` is empty",
                    ));
                }
                EffectKind::UpdateUserMetadata => o.user_metadata_prefix.as_str(),
            };
            for (key, value) in &effect.patch {
                if value.is_null() {
                    return Err(Refusal::unsupported(
                        HOST,
                        &format!(
                            "the rules delete the metadata key `{prefix}{key}`, which `set_user_metadata` cannot do"
                        ),
                    ));
                }
                let b64 = base64::engine::general_purpose::STANDARD.encode(metadata_bytes(value));
                metadata.push(json!({ "key": format!("{prefix}{key}"), "value": b64 }));
            }
        }
        let mut body = Obj::new();
        if !claims.is_empty() {
            body.insert("append_claims".into(), Json::Array(claims));
        }
        if !metadata.is_empty() {
            body.insert("set_user_metadata".into(), Json::Array(metadata));
        }
        Ok(Json::Object(body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::testing::{fixture, outcome_of};

    const KEY: &str = "test-signing-key";

    fn zitadel() -> Zitadel {
        Zitadel::new(&ZitadelOptions { signing_key: Some(KEY.into()), ..ZitadelOptions::default() })
    }

    fn signed(body: &[u8], t: i64) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(v) = signature_header(KEY, t, body).parse() {
            h.insert(SIGNATURE_HEADER, v);
        }
        h
    }

    const NOW: i64 = 1_800_000_000;

    fn decode(z: &Zitadel, body: &[u8]) -> Result<Login, AdapterError> {
        z.decode_at(&signed(body, NOW), body, NOW)
    }

    #[test]
    fn signatures_are_checked_for_key_body_and_age() {
        let body = fixture("zitadel/preaccesstoken.json");
        let keys = vec![KEY.as_bytes().to_vec()];
        assert_eq!(verify(&signed(&body, NOW), &body, &keys, NOW), Ok(()));
        assert_eq!(verify(&signed(&body, NOW - 300), &body, &keys, NOW), Ok(()));
        let unauthorized = |r: Result<(), AdapterError>, want: &str| {
            assert!(matches!(&r, Err(AdapterError::Unauthorized(m)) if m.contains(want)), "{r:?} should name {want:?}")
        };
        unauthorized(verify(&signed(&body, NOW - 301), &body, &keys, NOW), "past the tolerance");
        unauthorized(verify(&signed(&body, NOW + 301), &body, &keys, NOW), "past the tolerance");
        unauthorized(verify(&HeaderMap::new(), &body, &keys, NOW), "missing");
        let mut tampered = body.clone();
        tampered.push(b' ');
        unauthorized(verify(&signed(&body, NOW), &tampered, &keys, NOW), "no signature matches");
        unauthorized(verify(&signed(&body, NOW), &body, &[b"other".to_vec()], NOW), "no signature matches");
        let mut h = HeaderMap::new();
        h.insert(SIGNATURE_HEADER, axum::http::HeaderValue::from_static("t=1800000000"));
        unauthorized(verify(&h, &body, &keys, NOW), "no v1 signature");
        h.insert(SIGNATURE_HEADER, axum::http::HeaderValue::from_static("garbage"));
        unauthorized(verify(&h, &body, &keys, NOW), "malformed");
        // Several signatures (key rotation): any match is enough.
        let two = format!("{},v1=00ff", signature_header(KEY, NOW, &body));
        h.insert(SIGNATURE_HEADER, two.parse().expect("header"));
        assert_eq!(verify(&h, &body, &keys, NOW), Ok(()));
    }

    /// Regression: every `v1=` value (even an empty one) used to cost one HMAC over the whole
    /// body, so one unauthenticated request with thousands of them held a CPU for minutes.
    #[test]
    fn a_header_cannot_ask_for_more_than_a_few_hmacs() {
        let body = fixture("zitadel/preaccesstoken.json");
        let keys = vec![KEY.as_bytes().to_vec()];
        let mut h = HeaderMap::new();
        let many = format!("t={NOW},{}", vec!["v1="; 10_000].join(","));
        h.insert(SIGNATURE_HEADER, many.parse().expect("header"));
        assert!(matches!(signature_parts(&h, NOW), Err(AdapterError::Unauthorized(m)) if m.contains("longer than")));
        let zero = "0".repeat(64);
        let five = format!("t={NOW},{}", vec![format!("v1={zero}"); 5].join(","));
        h.insert(SIGNATURE_HEADER, five.parse().expect("header"));
        assert!(
            matches!(verify(&h, &body, &keys, NOW), Err(AdapterError::Unauthorized(m)) if m.contains("more than 4"))
        );
        // Empty and short values are not signatures.
        let short = format!("t={NOW},v1=,v1=00ff");
        h.insert(SIGNATURE_HEADER, short.parse().expect("header"));
        assert!(
            matches!(verify(&h, &body, &keys, NOW), Err(AdapterError::Unauthorized(m)) if m.contains("no v1 signature"))
        );
        // The precheck refuses a stale or missing header before any body is read.
        let z = zitadel();
        assert!(matches!(z.precheck(&HeaderMap::new()), Err(AdapterError::Unauthorized(_))));
        assert!(z.precheck(&signed(&body, now_seconds())).is_ok());
        assert!(matches!(z.precheck(&signed(&body, now_seconds() - 1000)), Err(AdapterError::Unauthorized(_))));
    }

    #[test]
    fn no_key_decides_nothing() {
        let z = Zitadel::new(&ZitadelOptions::default());
        assert!(z.misconfigured().is_some());
        let body = fixture("zitadel/preaccesstoken.json");
        assert!(matches!(decode(&z, &body), Err(AdapterError::Misconfigured(m)) if m.contains("no signing key")));
        let from_env =
            ZitadelOptions { signing_key_env: Some("WARDEN_TEST_ZITADEL_KEY".into()), ..ZitadelOptions::default() };
        let unset = Zitadel::with_env(&from_env, |_| None);
        assert!(
            matches!(decode(&unset, &body), Err(AdapterError::Misconfigured(m)) if m.contains("WARDEN_TEST_ZITADEL_KEY"))
        );
        let set = Zitadel::with_env(&from_env, |_| Some(KEY.into()));
        assert!(decode(&set, &body).is_ok());
    }

    #[test]
    fn documented_payload_maps_to_auth0() {
        let login = decode(&zitadel(), &fixture("zitadel/preaccesstoken.json")).expect("decodes");
        assert_eq!(login.user["user_id"], json!("312909075212468632"));
        assert_eq!(login.user["email"], json!("user@example.com"));
        assert_eq!(login.user["email_verified"], json!(true));
        assert_eq!(login.user["given_name"], json!("Example firstname"));
        assert_eq!(login.user["name"], json!("Example displayname"));
        assert_eq!(login.user["username"], json!("user@example.com"));
        assert_eq!(login.user["blocked"], json!(false));
        assert_eq!(login.user["app_metadata"], json!({ "key": "value" }));
        assert_eq!(login.context["clientID"], json!("312909075212468633"));
        assert_eq!(login.context["organization"]["name"], json!("ZITADEL"));
        assert_eq!(login.context["authorization"]["roles"], json!(["admin"]));
        assert_eq!(login.host["function"], json!("preaccesstoken"));
    }

    #[test]
    fn documented_example_without_application_needs_the_option() {
        let body = fixture("zitadel/preuserinfo-docs.json");
        assert!(
            matches!(decode(&zitadel(), &body), Err(AdapterError::BadRequest(m)) if m.contains("application.client_id"))
        );
        let lenient = Zitadel::new(&ZitadelOptions {
            signing_key: Some(KEY.into()),
            require_client_id: false,
            ..ZitadelOptions::default()
        });
        let login = decode(&lenient, &body).expect("decodes");
        assert!(login.context.get("clientID").is_none());
        assert_eq!(login.host["function"], json!("preuserinfo"));
    }

    #[test]
    fn metadata_reads_json_text_or_base64() {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let body = json!({
            "function": "function/preuserinfo", "application": { "client_id": "c" },
            "user": { "id": "u", "state": 4, "human": { "email": "a@example.com" } },
            "user_metadata": [
                { "key": "count", "value": b64("12") }, { "key": "plan", "value": b64("team") },
                { "key": "user_metadata.lang", "value": b64("\"de\"") }, { "key": "raw", "value": "/w==" }
            ],
            "user_grants": [ { "state": 1, "projectId": "p1", "roles": ["a", "b"] }, { "state": 2, "projectId": "p1", "roles": ["c"] },
                             { "projectId": "p2", "roles": ["b", "d"] } ]
        })
        .to_string();
        let login = decode(&zitadel(), body.as_bytes()).expect("decodes");
        assert_eq!(login.user["app_metadata"], json!({ "count": 12, "plan": "team", "raw": "/w==" }));
        assert_eq!(login.user["user_metadata"], json!({ "lang": "de" }));
        assert_eq!(login.user["blocked"], json!(true));
        assert_eq!(login.user["email_verified"], json!(false));
        assert_eq!(login.context["authorization"]["roles"], json!(["a", "b", "d"]));
        let p1 = Zitadel::new(&ZitadelOptions {
            signing_key: Some(KEY.into()),
            roles_project_id: "p1".into(),
            ..ZitadelOptions::default()
        });
        assert_eq!(decode(&p1, body.as_bytes()).expect("decodes").context["authorization"]["roles"], json!(["a", "b"]));
        for v in [json!("12"), json!("team"), json!(12), json!({ "a": [1] }), json!("\"q\""), json!(true)] {
            let bytes = metadata_bytes(&v);
            let b = base64::engine::general_purpose::STANDARD.encode(&bytes);
            assert_eq!(metadata_value(&bytes, &b), v, "round trip of {v}");
        }
    }

    #[test]
    fn machine_users_and_malformed_payloads() {
        let machine =
            json!({ "function": "function/preaccesstoken", "user": { "id": "m", "machine": { "name": "bot" } } })
                .to_string();
        assert_eq!(
            decode(&zitadel(), machine.as_bytes()),
            Err(AdapterError::Answer(Reply { status: 200, body: Some(json!({})) }))
        );
        for (body, want) in [
            (json!({ "user": { "id": "u" } }), "`function` is missing"),
            (json!({ "function": "function/presamlresponse", "user": { "id": "u" } }), "presamlresponse"),
            (json!({ "function": "function/preuserinfo" }), "`user` is missing"),
            (json!({ "function": "function/preuserinfo", "user": {} }), "`user.id` is missing"),
            (
                json!({ "function": "function/preuserinfo", "user": { "id": "u" }, "user_metadata": [{ "key": "k", "value": "***" }] }),
                "`user_metadata[0].value` is not base64",
            ),
            (
                json!({ "function": "function/preuserinfo", "user": { "id": "u", "human": { "is_email_verified": "yes", "email": "e" } }, "application": { "client_id": "c" } }),
                "`user.human.is_email_verified` must be a boolean",
            ),
        ] {
            let got = decode(&zitadel(), body.to_string().as_bytes());
            assert!(
                matches!(&got, Err(AdapterError::BadRequest(m)) if m.contains(want)),
                "{body}: {got:?} should name {want:?}"
            )
        }
    }

    fn reply_for(z: &Zitadel, rules: &str, login: &Login) -> Reply {
        let outcome = outcome_of(rules, login);
        z.reply(&outcome, DecisionInfo { decision_id: "d1", pipeline: "default", hash: "h", host: &login.host })
    }

    #[test]
    fn claims_and_metadata_travel_in_the_reply() {
        let z = zitadel();
        let login = decode(&z, &fixture("zitadel/preaccesstoken.json")).expect("decodes");
        assert_eq!(reply_for(&z, r#"rule "n" { log "x" }"#, &login), Reply { status: 200, body: Some(json!({})) });
        let r = reply_for(
            &z,
            r#"rule "c" {
                claim access_token "https://example.com/roles" = context.authorization.roles
                claim id_token "https://example.com/org" = context.organization.name
                persist app_metadata.count = 2
                persist user_metadata.lang = "de"
            }"#,
            &login,
        );
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        assert_eq!(
            r.body,
            Some(json!({
                "append_claims": [{ "key": "https://example.com/roles", "value": ["admin"] }],
                "set_user_metadata": [{ "key": "count", "value": b64("2") }, { "key": "user_metadata.lang", "value": b64("de") }]
            }))
        );
    }

    #[test]
    fn deny_and_what_zitadel_cannot_carry_fail_the_call() {
        let z = zitadel();
        let login = decode(&z, &fixture("zitadel/preaccesstoken.json")).expect("decodes");
        let message = |r: Reply| -> String {
            let b = r.body.expect("body");
            assert_eq!(b["forwardedStatusCode"], json!(403));
            b["forwardedErrorMessage"].as_str().unwrap_or("").to_string()
        };
        assert_eq!(message(reply_for(&z, r#"rule "d" { deny "Not today." }"#, &login)), "Not today.");
        for (rules, why) in [
            (r#"rule "m" { mfa any }"#, "multi-factor authentication"),
            (r#"rule "s" { scope set ["openid"] }"#, "cannot change them"),
            (r#"rule "c" { claim access_token "urn:zitadel:iam:x" = 1 }"#, "reserved namespace"),
            ("rule \"p\" {\n    persist app_metadata.key = null\n}", "cannot do"),
        ] {
            let m = message(reply_for(&z, rules, &login));
            assert!(m.contains(why) && m.contains("ZITADEL hook cannot carry"), "{rules}: {m}");
        }
        let only_tokens = Zitadel::new(&ZitadelOptions {
            signing_key: Some(KEY.into()),
            executions: vec![Function::PreAccessToken],
            ..ZitadelOptions::default()
        });
        let m = message(reply_for(&only_tokens, r#"rule "c" { claim id_token "https://example.com/x" = 1 }"#, &login));
        assert!(m.contains("no `preuserinfo` execution"), "{m}");
        // A claim ZITADEL already sets: the same value is no change, another is refused.
        let info = decode(&z, &fixture("zitadel/preuserinfo.json")).expect("decodes");
        assert_eq!(reply_for(&z, r#"rule "e" { claim id_token "email" = user.email }"#, &info).body, Some(json!({})));
        let m = message(reply_for(&z, r#"rule "e" { claim id_token "email" = "other@example.com" }"#, &info));
        assert!(m.contains("can only add to"), "{m}");
    }
}
