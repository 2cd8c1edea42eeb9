//! The bridge between a transaction (`warden_runtime::Txn`) and JavaScript: `user` and
//! `context` written as JSON text for the first rule of a run, and what a rule left, read
//! once from the prelude's result into a [`Finish`] and applied to the transaction, like any
//! rule's effects.

use std::sync::Arc;

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value as Json, json};
use warden_ir::{Metadata, Token};
use warden_runtime::{Cause, EffectKind, ErrorInfo, Txn, Value};

use crate::JsSource;
use crate::error::{failure, position, timeout};

/// What `__warden.finish()` hands back for a rule (prelude.js), read once from JavaScript:
/// how the rule ended, what it logged and asked for, and, from the last rule of a run of
/// JavaScript rules that called back without error, the objects as the run left them.
#[derive(Debug, Deserialize)]
pub(crate) struct Finish {
    #[serde(flatten)]
    status: Status,
    #[serde(default, deserialize_with = "or_empty")]
    logs: Vec<Log>,
    #[serde(default, deserialize_with = "or_empty")]
    effects: Vec<Effect>,
    #[serde(default, deserialize_with = "or_empty")]
    warnings: Vec<String>,
    /// The user, unless it reads exactly as the transaction's (it is then left out).
    #[serde(skip)]
    user: Option<Json>,
    #[serde(skip)]
    context: Option<Json>,
    /// `context` holds only what the outcome needs (the run is the pipeline's end).
    #[serde(default)]
    partial: bool,
    /// Who changed each claim, the scope, MFA, the redirect, the SAML configuration and the
    /// primary user during the run, in the order the changes were made.
    #[serde(default, deserialize_with = "owners")]
    owners: Vec<Owner>,
}

/// How a rule ended.
#[derive(Debug, Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
enum Status {
    /// It has not called back (by the deadline).
    Pending,
    /// It called back without an error.
    Ok,
    /// It called back with an error: the login is denied.
    Denied {
        #[serde(default)]
        error: Reason,
    },
    /// It threw (or its promise was rejected) before calling back.
    Threw {
        #[serde(default)]
        error: Reason,
    },
}

/// The error a rule called back with or threw (prelude.js's `errorOf`).
#[derive(Debug, Default, Deserialize)]
struct Reason {
    /// An `UnauthorizedError` (or an error whose `code` is `unauthorized`).
    #[serde(default)]
    unauthorized: bool,
    message: Option<String>,
    /// Its stack trace, where the rule's file, line and column are found.
    #[serde(default)]
    stack: String,
}

/// A `console` call.
#[derive(Debug, Deserialize)]
struct Log {
    #[serde(default = "Log::level")]
    level: String,
    #[serde(default)]
    message: String,
}

impl Log {
    fn level() -> String {
        "log".into()
    }
}

/// An `auth0.users.update*Metadata` call.
#[derive(Debug, Deserialize)]
struct Effect {
    kind: EffectKind,
    #[serde(default)]
    user_id: String,
    /// Recorded when it is an object.
    patch: Json,
}

/// A change during a run: `what` (`id` or `at` for a claim of the ID or access token, whose
/// name is `key`; `multifactor`, `redirect`, `samlConfiguration`, `primaryUser`) and the
/// rule that made it.
#[derive(Debug)]
struct Owner {
    what: String,
    key: String,
    rule: String,
}

impl Finish {
    /// Reads the prelude's result. `user` and `context` are moved out as they are (they may
    /// be large), not deserialized again.
    pub(crate) fn read(mut result: Json) -> Result<Finish, serde_json::Error> {
        let (user, context) = match result.as_object_mut() {
            Some(r) => (r.remove("user"), r.remove("context")),
            None => (None, None),
        };
        let mut finish: Finish = serde_json::from_value(result)?;
        finish.user = user;
        finish.context = context;
        Ok(finish)
    }

    /// The result of a rule that threw with `message`.
    pub(crate) fn threw(message: String) -> Finish {
        let error = Reason { unauthorized: false, message: Some(message), stack: String::new() };
        Finish {
            status: Status::Threw { error },
            logs: Vec::new(),
            effects: Vec::new(),
            warnings: Vec::new(),
            user: None,
            context: None,
            partial: false,
            owners: Vec::new(),
        }
    }

    /// The rule has not called back.
    pub(crate) fn pending(&self) -> bool {
        matches!(self.status, Status::Pending)
    }

    /// The rule called back without an error.
    pub(crate) fn ok(&self) -> bool {
        matches!(self.status, Status::Ok)
    }
}

/// A list the prelude leaves `null` when it is empty.
fn or_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// The owners, written flat by the prelude: `[what, key, rule, what, key, rule, ...]`.
fn owners<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Owner>, D::Error> {
    let mut flat = or_empty::<D, String>(d)?.into_iter();
    let mut owners = Vec::new();
    while let (Some(what), Some(key), Some(rule)) = (flat.next(), flat.next(), flat.next()) {
        owners.push(Owner { what, key, rule });
    }
    Ok(owners)
}

/// The user as JSON text (through a byte buffer: `Display` goes through the formatter and
/// costs twice as much).
pub(crate) fn user_json(user: &Json) -> String {
    serde_json::to_string(user).unwrap_or_else(|_| "{}".into())
}

/// The context a JavaScript rule sees, as JSON text: the transaction's, with the claims,
/// scopes, MFA and redirect that earlier rules asked for. Written entry by entry, so the
/// (large) rest of the context is not copied.
pub(crate) fn context_json(txn: &Txn) -> String {
    fn entry<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, first: &mut bool, key: &str, value: &T) {
        if !std::mem::take(first) {
            out.push(b',');
        }
        // Writing to a Vec cannot fail, and these values are JSON already.
        let _ = serde_json::to_writer(&mut *out, key);
        out.push(b':');
        let _ = serde_json::to_writer(&mut *out, value);
    }
    let empty = Map::new();
    let context = txn.context.as_object().unwrap_or(&empty);
    let token = |key: &str, claims: &indexmap::IndexMap<String, warden_runtime::ClaimEntry>| {
        let mut t = context.get(key).and_then(Json::as_object).cloned().unwrap_or_default();
        t.extend(claims.iter().map(|(k, c)| (k.clone(), c.value.to_json())));
        t
    };
    let id = token("idToken", &txn.id_token);
    let mut at = token("accessToken", &txn.access_token);
    if let Some(scope) = &txn.scope {
        at.insert("scope".into(), json!(scope));
    }
    let mut out = Vec::with_capacity(2048);
    out.push(b'{');
    let mut first = true;
    // Keys keep their place; those the context lacks come last.
    for (k, v) in context {
        match (k.as_str(), &txn.multifactor, &txn.redirect) {
            ("idToken", _, _) => entry(&mut out, &mut first, k, &id),
            ("accessToken", _, _) => entry(&mut out, &mut first, k, &at),
            ("multifactor", Some((m, _)), _) => entry(&mut out, &mut first, k, m),
            ("redirect", _, Some((r, _))) => entry(&mut out, &mut first, k, r),
            _ => entry(&mut out, &mut first, k, v),
        }
    }
    if !context.contains_key("idToken") {
        entry(&mut out, &mut first, "idToken", &id);
    }
    if !context.contains_key("accessToken") {
        entry(&mut out, &mut first, "accessToken", &at);
    }
    if let Some((m, _)) = &txn.multifactor
        && !context.contains_key("multifactor")
    {
        entry(&mut out, &mut first, "multifactor", m);
    }
    if let Some((r, _)) = &txn.redirect
        && !context.contains_key("redirect")
    {
        entry(&mut out, &mut first, "redirect", r);
    }
    out.push(b'}');
    String::from_utf8(out).unwrap_or_else(|_| "{}".into())
}

/// Applies what a rule did (its result from `__warden.finish()`) to the transaction: logs,
/// warnings and effects always; the final objects when the rule was the last of its run of
/// JavaScript rules, each change attributed to the rule that made it. `user_same`: the
/// user read exactly as the transaction's, and was left out of `r`. `rules`: every rule of
/// the pipeline (to place an error on the rule that made the change).
pub(crate) fn apply(
    r: Finish,
    user_same: bool,
    rule: &JsSource,
    txn: &mut Txn,
    last: bool,
    rules: &[JsSource],
) -> Option<ErrorInfo> {
    for l in r.logs {
        txn.log(&rule.name, &l.level, l.message);
    }
    for w in r.warnings {
        txn.log(&rule.name, "warn", w);
    }
    for e in &r.effects {
        let metadata = match e.kind {
            EffectKind::UpdateUserMetadata => Metadata::User,
            EffectKind::UpdateAppMetadata => Metadata::App,
        };
        if let Json::Object(patch) = &e.patch {
            txn.record_patch(metadata, &e.user_id, patch, &rule.name);
        }
    }
    match r.status {
        Status::Ok => {}
        Status::Denied { error } => {
            let code = if error.unauthorized { "unauthorized" } else { "access_denied" };
            // The prelude always gives a message; should it not, the login is denied all the
            // same, and says why.
            let description = error.message.unwrap_or_else(|| "the rule reported an error that cannot be read".into());
            return Some(ErrorInfo {
                code: code.into(),
                description,
                rule: rule.name.clone(),
                cause: Cause::Denied,
                location: None,
            });
        }
        Status::Threw { error } => {
            let m = error.message.as_deref().unwrap_or("exception");
            let mut e = failure(&rule.name, Cause::RuleError, format!("rule error: {m}"), &rule.file.path);
            // `file:line:col` of the innermost frame in the rule's file, as for `.rule` errors.
            if let (Some(line), Some(col)) = position(&error.stack, &rule.file.path) {
                e.location = Some(format!("{}:{line}:{col}", rule.file.path));
            }
            return Some(e);
        }
        Status::Pending => return Some(timeout(rule)),
    }
    if !last {
        // The next rule continues with the objects.
        return None;
    }
    // The user as the rules left it; `None` when it read exactly as the transaction's.
    let user = match (r.user, r.context) {
        (Some(user @ Json::Object(_)), Some(context @ Json::Object(_))) => Some((Some(user), context)),
        (None, Some(context @ Json::Object(_))) if user_same && txn.user.is_object() => Some((None, context)),
        _ => None,
    };
    let Some((user, context)) = user else {
        // `user.toJSON = () => undefined` and the like: the changes of the whole run would be
        // lost, so the login stops instead.
        return Some(failure(
            &rule.name,
            Cause::RuleError,
            "rule error: the rule left a user or context that is not a JSON object".into(),
            &rule.file.path,
        ));
    };
    // The last change counts.
    let owner = |what: &str, key: &str| {
        r.owners.iter().rev().find(|o| o.what == what && o.key == key).map_or(&rule.name, |o| &o.rule).clone()
    };
    // The final objects, as the rules left them (they may have replaced them whole).
    for (token, key, tag) in [(Token::IdToken, "idToken", "id"), (Token::AccessToken, "accessToken", "at")] {
        let before = match token {
            Token::IdToken => &txn.id_token,
            Token::AccessToken => &txn.access_token,
        };
        let before: Vec<(String, Json)> = before.iter().map(|(k, c)| (k.clone(), c.value.to_json())).collect();
        let empty = Map::new();
        let after = context[key].as_object().unwrap_or(&empty);
        for (k, v) in after {
            if k == "scope" && token == Token::AccessToken {
                continue;
            }
            if before.iter().all(|(bk, bv)| bk != k || bv != v) {
                txn.claim(token, k, &Value::from_json(v), &owner(tag, k));
            }
        }
        for (k, _) in before {
            if !after.contains_key(&k) {
                txn.claim(token, &k, &Value::Null, &owner(tag, &k));
            }
        }
    }
    // Read as the host's scopes are (a list's items are split too); anything else is an error.
    match &context["accessToken"]["scope"] {
        Json::Null => {}
        given => match warden_runtime::scope_list(given) {
            Some(s) if txn.scope.as_ref() != Some(&s) => txn.scope_set(s),
            Some(_) => {}
            None => {
                let m = "the rule left `context.accessToken.scope` that is not scopes (a space-separated string or a list of strings)";
                return Some(failure(
                    &owner("at", "scope"),
                    Cause::RuleError,
                    format!("rule error: {m}"),
                    &rule.file.path,
                ));
            }
        },
    }
    if let Some(m) = context["multifactor"].as_object()
        && let Some(provider) = m.get("provider").and_then(Json::as_str)
    {
        let remember = m.get("allowRememberBrowser").and_then(Json::as_bool).unwrap_or(false);
        let options = ["host", "ikey", "skey", "username"]
            .iter()
            .filter_map(|k| m.get(*k).and_then(Json::as_str).map(|v| (k.to_string(), v.to_string())))
            .collect();
        if txn.multifactor.as_ref().map(|(j, _)| j) != Some(&context["multifactor"]) {
            txn.mfa(provider, remember, options, &owner("multifactor", ""));
        }
    }
    if let Some(url) = context["redirect"]["url"].as_str()
        && txn.redirect.as_ref().map(|(j, _)| &j["url"]) != Some(&json!(url))
        && let Err(m) = txn.redirect(url, &owner("redirect", ""))
    {
        return Some(failure(&rule.name, Cause::RuleError, format!("rule error: {m}"), &rule.file.path));
    }
    // The SAML configuration and the primary user, which Auth0 reads back after the
    // pipeline: taken when a rule changed them, and only when they have the right type.
    let wrong = |key: &str, expected: &str, found: Option<&Json>| {
        let name = owner(key, "");
        let path = rules.iter().find(|r| r.name == name).map_or(rule.file.path.as_str(), |r| r.file.path.as_str());
        failure(
            &name,
            Cause::RuleError,
            format!("rule error: context.{key} must be {expected}, found {}", kind(found)),
            path,
        )
    };
    let saml = context.get("samlConfiguration");
    let saml_before = txn.saml_configuration.as_ref().or_else(|| txn.context.get("samlConfiguration"));
    if !same_json(saml, saml_before) {
        match saml {
            Some(s @ Json::Object(_)) => txn.saml_configuration = Some(s.clone()),
            other => return Some(wrong("samlConfiguration", "an object", other)),
        }
    }
    let primary = context.get("primaryUser");
    let primary_changed = match &txn.primary_user {
        Some(before) => primary.and_then(Json::as_str) != Some(before.as_str()),
        None => primary != txn.context.get("primaryUser"),
    };
    if primary_changed {
        match primary {
            Some(Json::String(p)) if !p.is_empty() => txn.primary_user = Some(p.clone()),
            other => return Some(wrong("primaryUser", "a user_id (a non-empty string)", other)),
        }
    }
    // Later `.rule` steps read the scope normalized, whichever form the rule wrote.
    let mut context = context;
    if let (Some(scope), Some(at)) = (&txn.scope, context.get_mut("accessToken").and_then(Json::as_object_mut))
        && at.contains_key("scope")
    {
        at.insert("scope".into(), json!(scope));
    }
    if let Some(user) = user {
        txn.user = Arc::new(user);
    }
    if !r.partial {
        txn.context = Arc::new(context);
    }
    None
}
/// Whether two JSON values are the same once through JavaScript: numbers compare as doubles
/// (`1.0` and `1e3` come back as `1` and `1000`), keys in order.
fn same_json(a: Option<&Json>, b: Option<&Json>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(Json::Number(x)), Some(Json::Number(y))) => x.as_f64() == y.as_f64(),
        (Some(Json::Array(x)), Some(Json::Array(y))) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_json(Some(a), Some(b)))
        }
        (Some(Json::Object(x)), Some(Json::Object(y))) => {
            x.len() == y.len() && x.iter().zip(y).all(|((ka, va), (kb, vb))| ka == kb && same_json(Some(va), Some(vb)))
        }
        (a, b) => a == b,
    }
}

/// What a JSON value is, for messages (`None`: the key is missing, `undefined` in JavaScript).
fn kind(value: Option<&Json>) -> &'static str {
    match value {
        None => "undefined",
        Some(Json::Null) => "null",
        Some(Json::Bool(_)) => "a boolean",
        Some(Json::Number(_)) => "a number",
        Some(Json::String(s)) if s.is_empty() => "an empty string",
        Some(Json::String(_)) => "a string",
        Some(Json::Array(_)) => "an array",
        Some(Json::Object(_)) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The prelude's result, as `finish()` writes it for the last rule of a run: lists left
    /// `null` read as empty, `owners` as triples, and a user present as `null` stays apart
    /// from a user left out.
    #[test]
    fn the_prelude_result_reads_into_a_finish() {
        let r = Finish::read(json!({
            "status": "ok", "error": null, "logs": [{ "level": "info", "message": "hi" }],
            "effects": [{ "kind": "update_app_metadata", "user_id": "auth0|1", "patch": { "a": 1 } }],
            "warnings": null, "user": null, "context": {}, "partial": true,
            "owners": ["id", "k", "r1", "at", "scope", "r2"],
        }))
        .expect("reads");
        assert!(r.ok() && r.partial && r.warnings.is_empty());
        assert_eq!((r.logs[0].level.as_str(), r.logs[0].message.as_str()), ("info", "hi"));
        assert_eq!((r.effects[0].kind, r.effects[0].user_id.as_str()), (EffectKind::UpdateAppMetadata, "auth0|1"));
        assert_eq!((r.user, r.context), (Some(Json::Null), Some(json!({}))));
        let owners: Vec<_> = r.owners.iter().map(|o| (o.what.as_str(), o.key.as_str(), o.rule.as_str())).collect();
        assert_eq!(owners, [("id", "k", "r1"), ("at", "scope", "r2")]);

        let r = Finish::read(json!({
            "status": "denied", "error": { "unauthorized": true, "message": "no", "stack": "" },
            "logs": null, "effects": null, "warnings": ["twice"],
        }))
        .expect("reads");
        assert!(r.user.is_none() && r.context.is_none() && r.owners.is_empty());
        let denied = |e: &Reason| e.unauthorized && e.message.as_deref() == Some("no");
        assert!(matches!(&r.status, Status::Denied { error } if denied(error)), "{:?}", r.status);
    }
}
