//! What a login's HTTP calls (from JavaScript rules, issue 18) leave in its transaction: how
//! many requests and response bytes it used against the pipeline's `[http]` bounds, and, in
//! tests, the canned exchanges it answers from instead of the network.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// A login's HTTP state, carried across its JavaScript steps (and to worker processes).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NetState {
    /// Requests the login's rules started (refused ones included).
    pub requests: u32,
    /// Response body bytes the login read, all responses together.
    pub bytes: u64,
    /// When set, no request leaves the process: each is answered by the first unused
    /// exchange it matches, or fails (`warden test`, `Exec::exchanges`).
    pub script: Option<Arc<Vec<Exchange>>>,
    /// Indexes into `script` of the exchanges used, in order.
    pub used: Vec<u32>,
    /// Requests that matched no exchange of the script (`METHOD URL`, with the body when
    /// there was one).
    pub unexpected: Vec<String>,
}

/// What a login answered from canned exchanges did with them (in the outcome of such a login
/// only, as `http`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScriptUse {
    /// Indexes of the exchanges used, in the order of the requests.
    pub used: Vec<u32>,
    /// Requests no exchange answered (`METHOD URL [BODY]`).
    pub unexpected: Vec<String>,
}

impl NetState {
    /// The use of the script, when the login had one.
    pub fn script_use(&self) -> Option<ScriptUse> {
        self.script.as_ref().map(|_| ScriptUse { used: self.used.clone(), unexpected: self.unexpected.clone() })
    }
}

/// An HTTP exchange a test expects: the request it matches and the response it gets. As JSON
/// (`warden run --http-exchanges`), every field but `url` may be left out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exchange {
    /// `GET`, `POST` ... (compared without case).
    #[serde(default = "get")]
    pub method: String,
    /// The whole URL, query included (compared after normalization: `https://a.example`
    /// and `https://a.example/` are the same).
    pub url: String,
    /// When given, the request's body must be JSON that contains these members (objects
    /// compared recursively, other values exactly), or this exact text.
    #[serde(default)]
    pub body: Option<Json>,
    /// The response.
    #[serde(default = "ok")]
    pub status: u16,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A JSON body (sent with `content-type: application/json` unless `headers` says
    /// otherwise), or a text body.
    #[serde(default)]
    pub json: Option<Json>,
    #[serde(default)]
    pub text: Option<String>,
    /// How long the upstream takes to answer, in milliseconds (on the login's clock of real
    /// time: a delay past the deadline is a timeout).
    #[serde(default)]
    pub delay_ms: u64,
}

fn get() -> String {
    "GET".into()
}

fn ok() -> u16 {
    200
}

impl Exchange {
    /// The response body as sent.
    pub fn body_text(&self) -> String {
        match (&self.json, &self.text) {
            (Some(j), _) => j.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => String::new(),
        }
    }

    /// Whether a request's body matches `body` (always, when none is given).
    pub fn body_matches(&self, sent: Option<&str>) -> bool {
        let Some(want) = &self.body else { return true };
        let Some(sent) = sent else { return false };
        if let Json::String(text) = want
            && text == sent
        {
            return true;
        }
        match serde_json::from_str::<Json>(sent) {
            Ok(got) => contains(&got, want),
            Err(_) => false,
        }
    }
}

/// `got` has every member of `want` (objects recursively; other values equal).
fn contains(got: &Json, want: &Json) -> bool {
    match (got, want) {
        (Json::Object(g), Json::Object(w)) => w.iter().all(|(k, v)| g.get(k).is_some_and(|gv| contains(gv, v))),
        _ => got == want,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn exchange(body: Option<Json>) -> Exchange {
        Exchange {
            method: "POST".into(),
            url: "https://api.example/x".into(),
            body,
            status: 200,
            headers: BTreeMap::new(),
            json: None,
            text: None,
            delay_ms: 0,
        }
    }

    #[test]
    fn bodies_match_by_members_or_exact_text() {
        let e = exchange(Some(json!({ "email": "a@b.c", "meta": { "n": 1 } })));
        assert!(e.body_matches(Some(r#"{"email":"a@b.c","meta":{"n":1,"m":2},"x":true}"#)));
        assert!(!e.body_matches(Some(r#"{"email":"a@b.c","meta":{"n":2}}"#)));
        assert!(!e.body_matches(Some("email=a@b.c")));
        assert!(!e.body_matches(None));
        let t = exchange(Some(json!("email=a%40b.c")));
        assert!(t.body_matches(Some("email=a%40b.c")));
        assert!(!t.body_matches(Some("email=x")));
        assert!(exchange(None).body_matches(None));
    }
}
