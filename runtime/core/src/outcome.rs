//! The outcome of one execution (its contract is `docs/outcome.md`), and the end-of-pipeline
//! steps every backend shares: the claim policy and the `interaction_required` check.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use warden_ir::ClaimMode;
use warden_ir::claims::claim_rejection;

use crate::txn::{ClaimEntry, NON_INTERACTIVE, Txn};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Allow,
    Deny,
}

/// Why a login was denied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    Denied,
    RuleError,
    Timeout,
    ResourceLimit,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// The OAuth error: `unauthorized`, `access_denied` or `interaction_required`.
    pub code: String,
    pub description: String,
    pub rule: String,
    pub cause: Cause,
    /// `file:line:col` of a rule error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EffectKind {
    UpdateAppMetadata,
    UpdateUserMetadata,
}

/// Persistence the host must carry out.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Effect {
    pub kind: EffectKind,
    pub user_id: String,
    pub patch: Map<String, Json>,
    /// The rule that asked (patches of one rule merge).
    #[serde(skip)]
    pub rule: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    pub rule: String,
    pub level: String,
    pub message: String,
}

/// What one execution of a pipeline returns.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub decision: Decision,
    pub error: Option<ErrorInfo>,
    pub user: std::sync::Arc<Json>,
    pub id_token: Map<String, Json>,
    pub access_token: Map<String, Json>,
    pub scope: Option<Vec<String>>,
    pub multifactor: Option<Json>,
    pub redirect: Option<Json>,
    /// The SAML configuration (`context.samlConfiguration`) when a rule changed it.
    pub saml_configuration: Option<Json>,
    /// The primary user's `user_id` (`context.primaryUser`, after account linking) when a
    /// rule set or changed it.
    pub primary_user: Option<String>,
    pub effects: Vec<Effect>,
    pub logs: Vec<LogEntry>,
    /// Present when a trace was asked for.
    pub trace: Option<Box<crate::trace::Trace>>,
    /// Present when the login's HTTP requests were answered from canned exchanges (tests).
    pub http: Option<crate::ScriptUse>,
}

impl Outcome {
    pub fn is_allow(&self) -> bool {
        self.decision == Decision::Allow
    }

    /// The outcome as JSON, with exactly the contract's field names and order. A denied
    /// login carries only `decision`, `error`, `effects` and `logs` (and `trace` if asked);
    /// an allowed one carries `saml_configuration` and `primary_user` only when a rule
    /// changed them.
    pub fn to_json(&self) -> Json {
        serde_json::to_value(self).unwrap_or(Json::Null)
    }
}

impl Serialize for Outcome {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("decision", &self.decision)?;
        m.serialize_entry("error", &self.error)?;
        if self.is_allow() {
            m.serialize_entry("user", &*self.user)?;
            m.serialize_entry("id_token", &self.id_token)?;
            m.serialize_entry("access_token", &self.access_token)?;
            m.serialize_entry("scope", &self.scope)?;
            m.serialize_entry("multifactor", &self.multifactor)?;
            m.serialize_entry("redirect", &self.redirect)?;
            if let Some(saml) = &self.saml_configuration {
                m.serialize_entry("saml_configuration", saml)?;
            }
            if let Some(primary) = &self.primary_user {
                m.serialize_entry("primary_user", primary)?;
            }
        }
        m.serialize_entry("effects", &self.effects)?;
        m.serialize_entry("logs", &self.logs)?;
        if let Some(t) = &self.trace {
            m.serialize_entry("trace", t)?;
        }
        if let Some(h) = &self.http {
            m.serialize_entry("http", h)?;
        }
        m.end()
    }
}

/// Ends the pipeline: `stop` is the deny or error that stopped it, if any.
pub fn finish(txn: Txn, claim_mode: ClaimMode, stop: Option<ErrorInfo>) -> Outcome {
    finish_parts(txn, claim_mode, stop).into_outcome()
}

/// A login at its end, before it becomes an [`Outcome`] or bytes: the claims as rules
/// recorded them (values, shared with the slots they came from), turned into JSON only by the
/// one that needs it.
#[derive(Debug)]
pub struct Finished {
    pub decision: Decision,
    pub error: Option<ErrorInfo>,
    pub user: std::sync::Arc<Json>,
    /// The claims the claim mode kept.
    pub id_token: IndexMap<String, ClaimEntry>,
    pub access_token: IndexMap<String, ClaimEntry>,
    pub scope: Option<Vec<String>>,
    pub multifactor: Option<Json>,
    pub redirect: Option<Json>,
    pub saml_configuration: Option<Json>,
    pub primary_user: Option<String>,
    pub effects: Vec<Effect>,
    pub logs: Vec<LogEntry>,
    pub http: Option<crate::ScriptUse>,
}

/// [`finish`] up to the outcome: the `interaction_required` check and the claim policy.
pub fn finish_parts(mut txn: Txn, claim_mode: ClaimMode, stop: Option<ErrorInfo>) -> Finished {
    let mut error = stop;
    if error.is_none() {
        error = interaction_check(&mut txn);
    }
    let id_token = apply_claim_policy(&mut txn, claim_mode, true);
    let access_token = apply_claim_policy(&mut txn, claim_mode, false);
    let decision = if error.is_some() { Decision::Deny } else { Decision::Allow };
    Finished {
        decision,
        error,
        user: txn.user,
        id_token,
        access_token,
        scope: txn.scope,
        multifactor: txn.multifactor.map(|(m, _)| m),
        redirect: txn.redirect.map(|(r, _)| r),
        saml_configuration: txn.saml_configuration,
        primary_user: txn.primary_user,
        effects: txn.effects,
        logs: txn.logs,
        http: txn.net.script_use(),
    }
}

/// Claims as a JSON object, from their values.
struct Claims<'a>(&'a IndexMap<String, ClaimEntry>);

impl Serialize for Claims<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, c)| (k, &c.value)))
    }
}

impl Finished {
    pub fn into_outcome(self) -> Outcome {
        let json = |claims: IndexMap<String, ClaimEntry>| -> Map<String, Json> {
            claims.into_iter().map(|(k, c)| (k, c.value.to_json())).collect()
        };
        Outcome {
            decision: self.decision,
            error: self.error,
            user: self.user,
            id_token: json(self.id_token),
            access_token: json(self.access_token),
            scope: self.scope,
            multifactor: self.multifactor,
            redirect: self.redirect,
            saml_configuration: self.saml_configuration,
            primary_user: self.primary_user,
            effects: self.effects,
            logs: self.logs,
            trace: None,
            http: self.http,
        }
    }

    /// Writes the outcome as compact JSON, exactly as serializing its [`Outcome`] does (no
    /// trace), with `user` writing the user (the fast path copies it from the input) and the
    /// claims written from their values.
    pub fn write_json<E>(&self, out: &mut Vec<u8>, user: impl FnOnce(&mut Vec<u8>) -> Result<(), E>) -> Result<(), E> {
        fn entry(out: &mut Vec<u8>, key: &str, value: &impl Serialize) {
            out.extend_from_slice(b",\"");
            out.extend_from_slice(key.as_bytes());
            out.extend_from_slice(b"\":");
            // Outcomes are JSON values and strings: writing them to a vector cannot fail.
            let _ = serde_json::to_writer(&mut *out, value);
        }
        out.extend_from_slice(b"{\"decision\":");
        let _ = serde_json::to_writer(&mut *out, &self.decision);
        entry(out, "error", &self.error);
        if self.decision == Decision::Allow {
            out.extend_from_slice(b",\"user\":");
            user(out)?;
            entry(out, "id_token", &Claims(&self.id_token));
            entry(out, "access_token", &Claims(&self.access_token));
            entry(out, "scope", &self.scope);
            entry(out, "multifactor", &self.multifactor);
            entry(out, "redirect", &self.redirect);
            if let Some(saml) = &self.saml_configuration {
                entry(out, "saml_configuration", saml);
            }
            if let Some(primary) = &self.primary_user {
                entry(out, "primary_user", primary);
            }
        }
        entry(out, "effects", &self.effects);
        entry(out, "logs", &self.logs);
        out.push(b'}');
        Ok(())
    }
}

/// MFA or a redirect on a flow that cannot interact with the user denies the login; a
/// redirect on the way back (`redirect-callback`) is ignored.
fn interaction_check(txn: &mut Txn) -> Option<ErrorInfo> {
    if txn.multifactor.is_none() && txn.redirect.is_none() {
        return None;
    }
    let protocol = txn.protocol().map(str::to_string);
    if protocol.as_deref() == Some("redirect-callback") {
        txn.redirect = None;
    }
    let reason = match protocol.as_deref() {
        Some(p) if NON_INTERACTIVE.contains(&p) => Some(format!("protocol {p:?}")),
        _ if txn.prompt_none() => Some("prompt=none".to_string()),
        _ => None,
    }?;
    let (what, rule) = match (&txn.multifactor, &txn.redirect) {
        (Some((_, rule)), _) => ("multi-factor authentication", rule.clone()),
        (None, Some((_, rule))) => ("a redirect", rule.clone()),
        (None, None) => return None,
    };
    Some(ErrorInfo {
        code: "interaction_required".into(),
        description: format!("{what} requires user interaction, which is not possible on this flow ({reason})"),
        rule,
        cause: Cause::Denied,
        location: None,
    })
}

/// Drops the claims the claim mode does not allow, logging each drop.
fn apply_claim_policy(txn: &mut Txn, mode: ClaimMode, id: bool) -> IndexMap<String, ClaimEntry> {
    let (claims, token) = if id {
        (std::mem::take(&mut txn.id_token), warden_ir::Token::IdToken)
    } else {
        (std::mem::take(&mut txn.access_token), warden_ir::Token::AccessToken)
    };
    let mut out = IndexMap::new();
    for (name, entry) in claims {
        match claim_rejection(&name, mode, token) {
            None => {
                out.insert(name, entry);
            }
            Some(why) => txn.log(
                &entry.rule,
                "warn",
                format!("claim {name:?} dropped from {}: {}", token.as_str(), why.reason()),
            ),
        }
    }
    out
}
