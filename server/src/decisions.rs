//! Decision logs: one JSON line per login, written by a thread of their own behind a bounded
//! queue. A full queue drops the entry and counts it; a login never waits for the log.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use serde::Deserialize;
use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};

use crate::metrics::Metrics;

/// Where and what the decision log writes.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionLogSettings {
    /// `-` for stdout, else a file appended to.
    #[serde(default = "stdout")]
    pub to: PathBuf,
    /// Entries waiting to be written before new ones are dropped.
    #[serde(default = "default_queue")]
    pub queue: usize,
    /// Record the login's input (`user`, `context`), masked.
    #[serde(default = "yes")]
    pub input: bool,
    /// Record the outcome, masked.
    #[serde(default = "yes")]
    pub outcome: bool,
    /// Fields hashed (SHA-256, as `sha256:HEX`) or dropped, by path (`user.email`,
    /// `user.identities.*.access_token`); applied to the input and the outcome's `user`.
    #[serde(default = "default_masks")]
    pub mask: Vec<Mask>,
}

fn stdout() -> PathBuf {
    PathBuf::from("-")
}
fn default_queue() -> usize {
    10_000
}
fn yes() -> bool {
    true
}

/// The masks applied unless the settings say otherwise: emails hashed, the identity
/// providers' tokens Auth0 keeps in `user.identities` dropped.
pub fn default_masks() -> Vec<Mask> {
    let m = |path: &str, action| Mask { path: path.into(), action };
    vec![
        m("user.email", MaskAction::Hash),
        m("user.identities.*.access_token", MaskAction::Drop),
        m("user.identities.*.refresh_token", MaskAction::Drop),
        m("user.identities.*.access_token_secret", MaskAction::Drop),
        m("context.accessToken", MaskAction::Drop),
        m("context.idToken", MaskAction::Drop),
    ]
}

impl Default for DecisionLogSettings {
    fn default() -> Self {
        DecisionLogSettings { to: stdout(), queue: default_queue(), input: true, outcome: true, mask: default_masks() }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Mask {
    /// Dotted path from `user` or `context`; `*` matches any key or index.
    pub path: String,
    pub action: MaskAction,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MaskAction {
    Hash,
    Drop,
}

/// One login as the log records it (masking happens on the log's thread).
#[derive(Debug)]
pub struct Entry {
    pub decision_id: String,
    /// RFC 3339.
    pub time: String,
    pub pipeline: String,
    pub hash: String,
    pub api: &'static str,
    pub decision: &'static str,
    pub cause: Option<&'static str>,
    pub rule: Option<String>,
    pub latency_us: u64,
    pub input: Option<(Json, Json)>,
    pub outcome: Option<Json>,
}

/// The sending end, shared by request handlers.
#[derive(Debug, Clone)]
pub struct DecisionLog {
    tx: SyncSender<Entry>,
    settings: Arc<DecisionLogSettings>,
}

impl DecisionLog {
    /// Opens the destination and starts the writer thread.
    pub fn start(settings: DecisionLogSettings) -> std::io::Result<DecisionLog> {
        let out: Box<dyn Write + Send> = if settings.to.as_os_str() == "-" {
            Box::new(std::io::stdout())
        } else {
            Box::new(std::fs::OpenOptions::new().create(true).append(true).open(&settings.to)?)
        };
        let (tx, rx) = sync_channel(settings.queue.max(1));
        let settings = Arc::new(settings);
        let masks = settings.mask.clone();
        std::thread::Builder::new().name("warden-decision-log".into()).spawn(move || write_all(rx, out, &masks))?;
        Ok(DecisionLog { tx, settings })
    }

    pub fn wants_input(&self) -> bool {
        self.settings.input
    }
    pub fn wants_outcome(&self) -> bool {
        self.settings.outcome
    }

    /// Queues an entry, or drops it (counted) when the queue is full.
    pub fn record(&self, entry: Entry, metrics: &Metrics) {
        match self.tx.try_send(entry) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                metrics.decision_logs_dropped.inc();
            }
        }
    }
}

fn write_all(rx: Receiver<Entry>, out: Box<dyn Write + Send>, masks: &[Mask]) {
    let mut out = std::io::BufWriter::new(out);
    while let Ok(entry) = rx.recv() {
        let line = render(entry, masks);
        let _ = out.write_all(line.as_bytes());
        // Flush when nothing else is waiting: lines reach the file promptly under light load
        // and in batches under heavy load.
        if let Ok(next) = rx.try_recv() {
            let _ = out.write_all(render(next, masks).as_bytes());
            continue;
        }
        let _ = out.flush();
    }
    let _ = out.flush();
}

/// One JSON line.
pub fn render(e: Entry, masks: &[Mask]) -> String {
    let mut m = Map::new();
    m.insert("decision_id".into(), e.decision_id.into());
    m.insert("time".into(), e.time.into());
    m.insert("pipeline".into(), e.pipeline.into());
    m.insert("hash".into(), e.hash.into());
    m.insert("api".into(), e.api.into());
    m.insert("decision".into(), e.decision.into());
    m.insert("cause".into(), e.cause.map(Json::from).unwrap_or(Json::Null));
    m.insert("rule".into(), e.rule.map(Json::from).unwrap_or(Json::Null));
    m.insert("latency_us".into(), e.latency_us.into());
    if let Some((mut user, mut context)) = e.input {
        mask(&mut user, "user", masks);
        mask(&mut context, "context", masks);
        let mut input = Map::new();
        input.insert("user".into(), user);
        input.insert("context".into(), context);
        m.insert("input".into(), Json::Object(input));
    }
    if let Some(mut outcome) = e.outcome {
        if let Some(user) = outcome.get_mut("user") {
            mask(user, "user", masks);
        }
        m.insert("outcome".into(), outcome);
    }
    let mut line = serde_json::to_string(&Json::Object(m)).unwrap_or_default();
    line.push('\n');
    line
}

/// Applies the masks whose path starts at `root` (`user` or `context`).
pub fn mask(value: &mut Json, root: &str, masks: &[Mask]) {
    for m in masks {
        let mut parts = m.path.split('.');
        if parts.next() != Some(root) {
            continue;
        }
        let path: Vec<&str> = parts.collect();
        if path.is_empty() {
            continue;
        }
        apply(value, &path, m.action);
    }
}

fn apply(value: &mut Json, path: &[&str], action: MaskAction) {
    let Some((first, rest)) = path.split_first() else { return };
    match value {
        Json::Object(map) => {
            if rest.is_empty() {
                if *first == "*" {
                    let keys: Vec<String> = map.keys().cloned().collect();
                    for k in keys {
                        finish(map, &k, action);
                    }
                } else {
                    finish(map, first, action);
                }
            } else if *first == "*" {
                for v in map.values_mut() {
                    apply(v, rest, action);
                }
            } else if let Some(v) = map.get_mut(*first) {
                apply(v, rest, action);
            }
        }
        Json::Array(items) => {
            let index = first.parse::<usize>().ok();
            for (i, v) in items.iter_mut().enumerate() {
                if *first != "*" && index != Some(i) {
                    continue;
                }
                if rest.is_empty() {
                    if action == MaskAction::Hash {
                        *v = hashed(v);
                    } else {
                        *v = Json::Null;
                    }
                } else {
                    apply(v, rest, action);
                }
            }
        }
        _ => {}
    }
}

fn finish(map: &mut Map<String, Json>, key: &str, action: MaskAction) {
    match action {
        MaskAction::Drop => {
            map.shift_remove(key);
        }
        MaskAction::Hash => {
            if let Some(v) = map.get_mut(key) {
                *v = hashed(v);
            }
        }
    }
}

/// `sha256:HEX` of a string's text, or of another value's JSON.
fn hashed(v: &Json) -> Json {
    let text = match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    Json::String(format!("sha256:{}", hex::encode(Sha256::digest(text.as_bytes()))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masks_hash_and_drop_by_path_with_wildcards() {
        let mut user = json!({
            "email": "a@example.com",
            "identities": [{"provider": "google", "access_token": "t1"}, {"provider": "x", "refresh_token": "r"}],
        });
        mask(&mut user, "user", &default_masks());
        assert_eq!(user["email"], json!(format!("sha256:{}", hex::encode(Sha256::digest(b"a@example.com")))));
        assert_eq!(user["identities"], json!([{"provider": "google"}, {"provider": "x"}]));
        let mut context = json!({"accessToken": {"scope": "x"}, "clientID": "c"});
        mask(&mut context, "context", &default_masks());
        assert_eq!(context, json!({"clientID": "c"}));
    }

    #[test]
    fn a_mask_on_a_missing_or_differently_shaped_path_changes_nothing() {
        let masks = vec![Mask { path: "user.a.b.c".into(), action: MaskAction::Drop }];
        let mut user = json!({"a": [1, 2], "b": "x"});
        mask(&mut user, "user", &masks);
        assert_eq!(user, json!({"a": [1, 2], "b": "x"}));
    }
}
