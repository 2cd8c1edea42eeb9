//! What every adapter needs: reading the host's JSON with errors that name the field,
//! deciding whether an outcome can travel in a host's reply, metadata patches, URLs.

use serde_json::{Map, Value as Json, json};
use warden::{Cause, Outcome};

use super::AdapterError;

pub(crate) type Obj = Map<String, Json>;

/// The request body as a JSON object, within warden's input bounds (depth and number of
/// values are checked on the text before parsing).
pub(crate) fn parse_object(body: &[u8]) -> Result<Obj, AdapterError> {
    warden::check_json_text("request", body).map_err(|e| AdapterError::BadRequest(e.to_string()))?;
    let value: Json = serde_json::from_slice(body).map_err(|e| {
        let raw = e.to_string();
        let message = raw.split(" at line ").next().unwrap_or("invalid JSON").to_string();
        AdapterError::BadRequest(format!(
            "the request body is not JSON: {message} (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    match value {
        Json::Object(map) => Ok(map),
        other => Err(AdapterError::BadRequest(format!("the request body must be a JSON object, not {}", kind(&other)))),
    }
}

/// A JSON value's kind, for messages.
pub(crate) fn kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

fn join(at: &str, key: &str) -> String {
    if at.is_empty() { key.to_string() } else { format!("{at}.{key}") }
}

pub(crate) fn missing(path: &str) -> AdapterError {
    AdapterError::BadRequest(format!("`{path}` is missing"))
}

pub(crate) fn wrong(path: &str, expected: &str, found: &Json) -> AdapterError {
    AdapterError::BadRequest(format!("`{path}` must be {expected}, not {}", kind(found)))
}

/// A member, `None` when absent or `null`.
pub(crate) fn get<'a>(obj: &'a Obj, key: &str) -> Option<&'a Json> {
    obj.get(key).filter(|v| !v.is_null())
}

pub(crate) fn opt_str<'a>(obj: &'a Obj, key: &str, at: &str) -> Result<Option<&'a str>, AdapterError> {
    match get(obj, key) {
        None => Ok(None),
        Some(Json::String(s)) => Ok(Some(s)),
        Some(other) => Err(wrong(&join(at, key), "a string", other)),
    }
}

/// A string that must be present and not empty.
pub(crate) fn req_str<'a>(obj: &'a Obj, key: &str, at: &str) -> Result<&'a str, AdapterError> {
    match opt_str(obj, key, at)? {
        Some(s) if !s.is_empty() => Ok(s),
        Some(_) => Err(AdapterError::BadRequest(format!("`{}` is empty", join(at, key)))),
        None => Err(missing(&join(at, key))),
    }
}

/// A string that is not empty, `None` for absent, `null` or `""` (Go's zero value).
pub(crate) fn nonempty_str<'a>(obj: &'a Obj, key: &str, at: &str) -> Result<Option<&'a str>, AdapterError> {
    Ok(opt_str(obj, key, at)?.filter(|s| !s.is_empty()))
}

pub(crate) fn opt_bool(obj: &Obj, key: &str, at: &str) -> Result<Option<bool>, AdapterError> {
    match get(obj, key) {
        None => Ok(None),
        Some(Json::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(wrong(&join(at, key), "a boolean", other)),
    }
}

pub(crate) fn opt_obj<'a>(obj: &'a Obj, key: &str, at: &str) -> Result<Option<&'a Obj>, AdapterError> {
    match get(obj, key) {
        None => Ok(None),
        Some(Json::Object(m)) => Ok(Some(m)),
        Some(other) => Err(wrong(&join(at, key), "an object", other)),
    }
}

pub(crate) fn req_obj<'a>(obj: &'a Obj, key: &str, at: &str) -> Result<&'a Obj, AdapterError> {
    opt_obj(obj, key, at)?.ok_or_else(|| missing(&join(at, key)))
}

pub(crate) fn opt_array<'a>(obj: &'a Obj, key: &str, at: &str) -> Result<Option<&'a Vec<Json>>, AdapterError> {
    match get(obj, key) {
        None => Ok(None),
        Some(Json::Array(a)) => Ok(Some(a)),
        Some(other) => Err(wrong(&join(at, key), "an array", other)),
    }
}

/// A list of strings; absent or `null` (Go's nil slice) is empty.
pub(crate) fn str_list(obj: &Obj, key: &str, at: &str) -> Result<Vec<String>, AdapterError> {
    let Some(items) = opt_array(obj, key, at)? else { return Ok(Vec::new()) };
    items
        .iter()
        .enumerate()
        .map(|(i, v)| match v {
            Json::String(s) => Ok(s.clone()),
            other => Err(wrong(&format!("{}[{i}]", join(at, key)), "a string", other)),
        })
        .collect()
}

/// The value at a dotted path (`extra.app_metadata`) below `root`; `None` when any step is
/// missing or `null`. An empty path names nothing.
pub(crate) fn lookup<'a>(root: &'a Obj, path: &str) -> Option<&'a Json> {
    if path.is_empty() {
        return None;
    }
    let mut parts = path.split('.');
    let mut here = get(root, parts.next()?)?;
    for part in parts {
        here = here.as_object().and_then(|m| get(m, part))?;
    }
    Some(here)
}

/// Metadata read from a configured path: an object, `{}` when the path is empty or absent.
pub(crate) fn metadata_at(root: &Obj, path: &str, at: &str) -> Result<Json, AdapterError> {
    match lookup(root, path) {
        None => Ok(json!({})),
        Some(Json::Object(m)) => Ok(Json::Object(m.clone())),
        Some(other) => Err(wrong(&join(at, path), "an object", other)),
    }
}

/// Puts `value` at `key` unless it is `None`.
pub(crate) fn put(obj: &mut Obj, key: &str, value: Option<Json>) {
    if let Some(v) = value {
        obj.insert(key.to_string(), v);
    }
}

/// Go's zero time (`0001-01-01T00:00:00Z`) means "not set".
pub(crate) fn is_zero_time(s: &str) -> bool {
    s.starts_with("0001-01-01")
}

/// An RFC 3339 time from the host as a `time` value for rules, `None` for Go's zero time.
pub(crate) fn time_value(s: Option<&str>) -> Option<Json> {
    s.filter(|t| !t.is_empty() && !is_zero_time(t)).map(|t| Json::String(t.to_string()))
}

/// Epoch milliseconds of an RFC 3339 time, `None` for Go's zero time or text that is not one.
pub(crate) fn millis(s: &str) -> Option<i64> {
    if is_zero_time(s) {
        return None;
    }
    warden::parse_time(s)
}

/// The application's name: the configured one for this client, else its id.
pub(crate) fn client_name(names: &std::collections::BTreeMap<String, String>, client_id: &str) -> String {
    names.get(client_id).cloned().unwrap_or_else(|| client_id.to_string())
}

/// Whether a configured `protocol` override is one of Auth0's values (the schema's list,
/// `warden::PROTOCOLS`). `redirect-callback` is not: it marks the return from a redirect,
/// and rules commonly skip their checks on it.
pub(crate) fn configurable_protocol(p: &str) -> bool {
    p != "redirect-callback" && warden::PROTOCOLS.contains(&p)
}

/// Why a login is refused in the host's reply.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Refusal {
    /// `unauthorized`, `access_denied` or `interaction_required` (from the outcome), or
    /// `access_denied` when the outcome asks for something the host cannot carry.
    pub code: String,
    /// What the user or the operator reads.
    pub description: String,
    /// The rule that stopped the login, when one did.
    pub rule: Option<String>,
    /// `denied`, `rule_error`, `timeout`, `resource_limit`, or `unsupported` (an allowed
    /// outcome the host cannot carry).
    pub cause: &'static str,
}

/// With `tokens = "deny"`, an outcome with token claims or a scope statement is refused by
/// a host that issues no tokens (Kratos, Keycloak's OPA extensions).
pub(crate) fn token_refusal(outcome: &Outcome, host: &str, tokens: super::Tokens) -> Option<Refusal> {
    if tokens == super::Tokens::Ignore {
        return None;
    }
    let mut claims: Vec<&str> = outcome.id_token.keys().map(String::as_str).collect();
    claims.extend(outcome.access_token.keys().map(String::as_str));
    if !claims.is_empty() {
        let what = format!("the rules add token claims ({}) and {host} issues no tokens", claims.join(", "));
        return Some(Refusal::unsupported(host, &what));
    }
    let scope = outcome.scope.as_ref()?;
    Some(Refusal::unsupported(host, &format!("the rules set scopes ({}) and {host} issues no tokens", scope.join(" "))))
}

impl Refusal {
    /// A requirement of an allowed outcome the host cannot carry.
    pub(crate) fn unsupported(host: &str, what: &str) -> Refusal {
        Refusal {
            code: "access_denied".into(),
            description: format!("{what}, which a {host} hook cannot carry; the login is denied"),
            rule: None,
            cause: "unsupported",
        }
    }

    /// `{"code", "rule", "cause", "decision_id"}` for replies with room for details.
    pub(crate) fn details(&self, decision_id: &str) -> Json {
        json!({ "code": self.code, "rule": self.rule, "cause": self.cause, "decision_id": decision_id })
    }
}

/// The refusal of a denied outcome.
pub(crate) fn denial(outcome: &Outcome) -> Option<Refusal> {
    if outcome.is_allow() {
        return None;
    }
    Some(match &outcome.error {
        Some(e) => Refusal {
            code: e.code.clone(),
            description: e.description.clone(),
            rule: Some(e.rule.clone()),
            cause: match e.cause {
                Cause::Denied => "denied",
                Cause::RuleError => "rule_error",
                Cause::Timeout => "timeout",
                Cause::ResourceLimit => "resource_limit",
            },
        },
        // A deny always carries its error; should one not, it is still a deny.
        None => {
            Refusal { code: "access_denied".into(), description: "Access denied.".into(), rule: None, cause: "denied" }
        }
    })
}

/// The parts of an allowed outcome that need the user in front of a browser, or a change no
/// hook makes: MFA, a redirect, a SAML configuration, another user for the tokens. No host
/// reached through a hook can carry them.
pub(crate) fn interactive_requirement(outcome: &Outcome, host: &str) -> Option<Refusal> {
    if let Some(m) = &outcome.multifactor {
        let provider = m.get("provider").and_then(Json::as_str).unwrap_or("any");
        return Some(Refusal::unsupported(
            host,
            &format!("the rules require multi-factor authentication (provider `{provider}`)"),
        ));
    }
    if let Some(r) = &outcome.redirect {
        let url = r.get("url").and_then(Json::as_str).unwrap_or("");
        return Some(Refusal::unsupported(host, &format!("the rules redirect the user to {url}")));
    }
    if outcome.saml_configuration.is_some() {
        return Some(Refusal::unsupported(host, "the rules change the SAML configuration"));
    }
    if let Some(p) = &outcome.primary_user {
        return Some(Refusal::unsupported(host, &format!("the rules issue the tokens for another user (`{p}`)")));
    }
    None
}

/// `app_metadata (login_count, plan)` and the like, for messages.
pub(crate) fn effects_summary(outcome: &Outcome) -> String {
    outcome
        .effects
        .iter()
        .map(|e| {
            let which = match e.kind {
                warden::EffectKind::UpdateAppMetadata => "app_metadata",
                warden::EffectKind::UpdateUserMetadata => "user_metadata",
            };
            let keys: Vec<&str> = e.patch.keys().map(String::as_str).collect();
            format!("{which} ({})", keys.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Auth0's patch semantics: top-level keys merge, `null` deletes.
pub(crate) fn apply_patch(target: &mut Obj, patch: &Obj) {
    for (k, v) in patch {
        if v.is_null() {
            target.remove(k);
        } else {
            target.insert(k.clone(), v.clone());
        }
    }
}

/// A scope statement's result compared with what the host grants: `None` when equal as sets.
pub(crate) fn scope_change(outcome: &Outcome, granted: &[String]) -> Option<String> {
    let asked = outcome.scope.as_ref()?;
    let mut a: Vec<&str> = asked.iter().map(String::as_str).collect();
    let mut g: Vec<&str> = granted.iter().map(String::as_str).collect();
    a.sort_unstable();
    a.dedup();
    g.sort_unstable();
    g.dedup();
    if a == g {
        return None;
    }
    Some(format!("the rules change the granted scopes from \"{}\" to \"{}\"", granted.join(" "), asked.join(" ")))
}

/// The first value of a header in a Go `http.Header` as JSON (`{"User-Agent": ["..."]}`),
/// by case-insensitive name.
pub(crate) fn header_value<'a>(headers: &'a Obj, name: &str) -> Option<&'a str> {
    let (_, v) = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name))?;
    match v {
        Json::String(s) => Some(s),
        Json::Array(items) => items.first().and_then(Json::as_str),
        _ => None,
    }
}

/// The client address from a forwarding header the operator named as trusted (its proxy sets
/// or overwrites it): the right-most address of a list such as `X-Forwarded-For`, which is
/// the one the nearest proxy saw (entries further left are written by the client and prove
/// nothing).
pub(crate) fn forwarded_ip(headers: &Obj, name: &str) -> Option<String> {
    header_value(headers, name).and_then(|v| v.rsplit(',').map(str::trim).find(|s| !s.is_empty())).map(str::to_string)
}

/// The host of an absolute URL (`https://id.example.com:4433/x` gives `id.example.com`).
pub(crate) fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host =
        if let Some(v6) = host_port.strip_prefix('[') { v6.split(']').next()? } else { host_port.split(':').next()? };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// The query of a URL as an object; a repeated parameter becomes a list.
pub(crate) fn url_query(url: &str) -> Obj {
    let mut out = Obj::new();
    let Some((_, rest)) = url.split_once('?') else { return out };
    let query = rest.split('#').next().unwrap_or("");
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (percent_decode(k), percent_decode(v));
        match out.get_mut(&k) {
            None => {
                out.insert(k, Json::String(v));
            }
            Some(Json::Array(items)) => items.push(Json::String(v)),
            Some(first) => {
                let previous = std::mem::take(first);
                *first = Json::Array(vec![previous, Json::String(v)]);
            }
        }
    }
    out
}

/// `+` and `%XX` decoding of a query component; invalid escapes stay as they are, and bytes
/// that are not UTF-8 are replaced.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Auth0's `user.identities` with the one identity a hook knows of.
pub(crate) fn identity(provider: &str, user_id: &str, connection: &str, social: bool) -> Json {
    json!([{ "provider": provider, "user_id": user_id, "connection": connection, "isSocial": social }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_give_host_and_query() {
        assert_eq!(url_host("https://User@ID.example.com:4433/x?y=1").as_deref(), Some("id.example.com"));
        assert_eq!(url_host("http://[::1]:8080/").as_deref(), Some("::1"));
        assert_eq!(url_host("no scheme"), None);
        let q = url_query("https://a/b?return_to=https%3A%2F%2Fapp%2F&scope=openid+email&x=1&x=2&bad=%zz#frag");
        assert_eq!(q.get("return_to"), Some(&json!("https://app/")));
        assert_eq!(q.get("scope"), Some(&json!("openid email")));
        assert_eq!(q.get("x"), Some(&json!(["1", "2"])));
        assert_eq!(q.get("bad"), Some(&json!("%zz")));
        assert!(url_query("https://a/b").is_empty());
        assert_eq!(url_query("https://a/?t=%4").get("t"), Some(&json!("%4")));
    }

    #[test]
    fn field_errors_name_the_path() {
        let obj = parse_object(br#"{"a": {"b": 1, "s": "x", "l": ["p", 2]}}"#).expect("object");
        let a = req_obj(&obj, "a", "").expect("a");
        assert_eq!(req_str(a, "b", "a"), Err(AdapterError::BadRequest("`a.b` must be a string, not a number".into())));
        assert_eq!(req_str(a, "z", "a"), Err(AdapterError::BadRequest("`a.z` is missing".into())));
        assert_eq!(req_str(a, "s", "a"), Ok("x"));
        assert_eq!(
            str_list(a, "l", "a"),
            Err(AdapterError::BadRequest("`a.l[1]` must be a string, not a number".into()))
        );
        assert_eq!(lookup(&obj, "a.s"), Some(&json!("x")));
        assert_eq!(lookup(&obj, "a.s.t"), None);
        assert_eq!(lookup(&obj, ""), None);
        assert!(matches!(parse_object(b"[1]"), Err(AdapterError::BadRequest(m)) if m.contains("not an array")));
        assert!(matches!(parse_object(b"{"), Err(AdapterError::BadRequest(m)) if m.contains("not JSON")));
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(matches!(parse_object(deep.as_bytes()), Err(AdapterError::BadRequest(_))));
    }

    #[test]
    fn patches_merge_and_delete() {
        let mut m = json!({"a": 1, "b": 2}).as_object().cloned().expect("object");
        apply_patch(&mut m, json!({"b": null, "c": 3}).as_object().expect("object"));
        assert_eq!(Json::Object(m), json!({"a": 1, "c": 3}));
    }
}
