//! Decision logs: one JSON line per login, written by a thread of their own behind a bounded
//! queue. A full queue drops the entry and counts it; a login never waits for the log.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use hmac::Hmac;
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
    /// Bytes of input waiting to be written before new entries are dropped (each entry is
    /// counted as twice its request body, for the input and the outcome's copy).
    #[serde(default = "default_queue_bytes")]
    pub queue_bytes: usize,
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
    /// An environment variable holding a secret: hashed fields are then HMAC-SHA256 under it
    /// (`hmac-sha256:HEX`), which a dictionary of known emails cannot reverse. Without it,
    /// plain SHA-256 (`sha256:HEX`).
    #[serde(default)]
    pub hash_key_env: Option<String>,
}

fn stdout() -> PathBuf {
    PathBuf::from("-")
}
fn default_queue() -> usize {
    10_000
}
fn default_queue_bytes() -> usize {
    64 * 1024 * 1024
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
        DecisionLogSettings {
            to: stdout(),
            queue: default_queue(),
            queue_bytes: default_queue_bytes(),
            input: true,
            outcome: true,
            mask: default_masks(),
            hash_key_env: None,
        }
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
    /// What the entry holds, roughly, in bytes (for the queue's byte bound).
    pub size: usize,
}

/// The sending end, shared by request handlers.
#[derive(Debug, Clone)]
pub struct DecisionLog {
    tx: SyncSender<Entry>,
    settings: Arc<DecisionLogSettings>,
    /// Bytes queued and not yet written.
    queued: Arc<AtomicUsize>,
}

impl DecisionLog {
    /// Opens the destination and starts the writer thread.
    pub fn start(settings: DecisionLogSettings) -> std::io::Result<DecisionLog> {
        let out: Box<dyn Write + Send> = if settings.to.as_os_str() == "-" {
            Box::new(std::io::stdout())
        } else {
            Box::new(std::fs::OpenOptions::new().create(true).append(true).open(&settings.to)?)
        };
        let key = match &settings.hash_key_env {
            Some(var) => match std::env::var(var) {
                Ok(k) if !k.is_empty() => Some(k.into_bytes()),
                _ => {
                    return Err(std::io::Error::other(format!(
                        "`hash_key_env = {var:?}`: the environment variable is not set"
                    )));
                }
            },
            None => None,
        };
        let (tx, rx) = sync_channel(settings.queue.max(1));
        let settings = Arc::new(settings);
        let masker = Masker { masks: settings.mask.clone(), key };
        let queued = Arc::new(AtomicUsize::new(0));
        let written = queued.clone();
        std::thread::Builder::new()
            .name("warden-decision-log".into())
            .spawn(move || write_all(rx, out, &masker, &written))?;
        Ok(DecisionLog { tx, settings, queued })
    }

    pub fn wants_input(&self) -> bool {
        self.settings.input
    }
    pub fn wants_outcome(&self) -> bool {
        self.settings.outcome
    }

    /// Queues an entry, or drops it (counted) when the queue is full.
    pub fn record(&self, entry: Entry, metrics: &Metrics) {
        let size = entry.size;
        let before = self.queued.fetch_add(size, Ordering::SeqCst);
        if before.saturating_add(size) > self.settings.queue_bytes && before > 0 {
            self.queued.fetch_sub(size, Ordering::SeqCst);
            metrics.decision_logs_dropped.inc();
            return;
        }
        match self.tx.try_send(entry) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.queued.fetch_sub(size, Ordering::SeqCst);
                metrics.decision_logs_dropped.inc();
            }
        }
    }
}

/// The masks and the key hashed values are made with.
#[derive(Debug, Clone, Default)]
pub struct Masker {
    pub masks: Vec<Mask>,
    pub key: Option<Vec<u8>>,
}

fn write_all(rx: Receiver<Entry>, out: Box<dyn Write + Send>, masker: &Masker, queued: &AtomicUsize) {
    let mut out = std::io::BufWriter::new(out);
    let mut failed = false;
    let one = |entry: Entry, out: &mut std::io::BufWriter<Box<dyn Write + Send>>| {
        let size = entry.size;
        let line = render(entry, masker);
        queued.fetch_sub(size, Ordering::SeqCst);
        out.write_all(line.as_bytes()).is_ok()
    };
    while let Ok(entry) = rx.recv() {
        let mut ok = one(entry, &mut out);
        // Flush when nothing else is waiting: lines reach the file promptly under light load
        // and in batches under heavy load.
        while let Ok(next) = rx.try_recv() {
            ok &= one(next, &mut out);
        }
        ok &= out.flush().is_ok();
        if !ok && !failed {
            tracing::error!(
                "the decision log cannot be written (disk full, or a closed pipe?): entries are being lost"
            );
        }
        failed = !ok;
    }
    let _ = out.flush();
}

/// One JSON line. Masks apply to the input and the outcome's `user`; then every string of the
/// entry that holds a masked value (a claim copied from `user.email`, a log line naming it,
/// a metadata patch) has it replaced too, so a masked value appears nowhere.
pub fn render(e: Entry, masker: &Masker) -> String {
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
    let mut seen = Vec::new();
    if let Some((mut user, mut context)) = e.input {
        mask_collect(&mut user, "user", masker, &mut seen);
        mask_collect(&mut context, "context", masker, &mut seen);
        let mut input = Map::new();
        input.insert("user".into(), user);
        input.insert("context".into(), context);
        m.insert("input".into(), Json::Object(input));
    }
    if let Some(mut outcome) = e.outcome {
        if let Some(user) = outcome.get_mut("user") {
            mask_collect(user, "user", masker, &mut seen);
        }
        m.insert("outcome".into(), outcome);
    }
    // Longest first, so that a value containing another is replaced whole.
    seen.retain(|(original, _)| original.chars().count() >= MIN_SCRUBBED);
    seen.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
    seen.dedup_by(|a, b| a.0 == b.0);
    let mut entry = Json::Object(m);
    if !seen.is_empty() {
        scrub(&mut entry, &seen);
    }
    let mut line = serde_json::to_string(&entry).unwrap_or_default();
    line.push('\n');
    line
}

/// Masked values shorter than this are not searched for elsewhere (they would match
/// unrelated text).
const MIN_SCRUBBED: usize = 4;

/// Applies the masks whose path starts at `root` (`user` or `context`).
pub fn mask(value: &mut Json, root: &str, masks: &[Mask]) {
    let masker = Masker { masks: masks.to_vec(), key: None };
    mask_collect(value, root, &masker, &mut Vec::new());
}

/// [`mask`], recording each masked string and what replaced it.
fn mask_collect(value: &mut Json, root: &str, masker: &Masker, seen: &mut Vec<(String, String)>) {
    for m in &masker.masks {
        let mut parts = m.path.split('.');
        if parts.next() != Some(root) {
            continue;
        }
        let path: Vec<&str> = parts.collect();
        if path.is_empty() {
            continue;
        }
        apply(value, &path, m.action, masker.key.as_deref(), seen);
    }
}

fn apply(value: &mut Json, path: &[&str], action: MaskAction, key: Option<&[u8]>, seen: &mut Vec<(String, String)>) {
    let Some((first, rest)) = path.split_first() else { return };
    match value {
        Json::Object(map) => {
            if rest.is_empty() {
                let keys: Vec<String> =
                    if *first == "*" { map.keys().cloned().collect() } else { vec![(*first).to_string()] };
                for k in keys {
                    match action {
                        MaskAction::Drop => {
                            if let Some(old) = map.shift_remove(&k) {
                                remember(&old, "[dropped]".into(), seen);
                            }
                        }
                        MaskAction::Hash => {
                            if let Some(v) = map.get_mut(&k) {
                                let h = hashed(v, key);
                                remember(v, h.clone(), seen);
                                *v = Json::String(h);
                            }
                        }
                    }
                }
            } else if *first == "*" {
                for v in map.values_mut() {
                    apply(v, rest, action, key, seen);
                }
            } else if let Some(v) = map.get_mut(*first) {
                apply(v, rest, action, key, seen);
            }
        }
        Json::Array(items) => {
            let index = first.parse::<usize>().ok();
            for (i, v) in items.iter_mut().enumerate() {
                if *first != "*" && index != Some(i) {
                    continue;
                }
                if rest.is_empty() {
                    let replacement = match action {
                        MaskAction::Hash => hashed(v, key),
                        MaskAction::Drop => "[dropped]".to_string(),
                    };
                    remember(v, replacement.clone(), seen);
                    *v = if action == MaskAction::Hash { Json::String(replacement) } else { Json::Null };
                } else {
                    apply(v, rest, action, key, seen);
                }
            }
        }
        _ => {}
    }
}

/// Records the strings inside a masked value.
fn remember(v: &Json, replacement: String, seen: &mut Vec<(String, String)>) {
    match v {
        Json::String(s) => seen.push((s.clone(), replacement)),
        Json::Array(items) => items.iter().for_each(|i| remember(i, "[masked]".into(), seen)),
        Json::Object(map) => map.values().for_each(|i| remember(i, "[masked]".into(), seen)),
        _ => {}
    }
}

/// Replaces every masked value wherever it appears in a string of `v` (keys included).
fn scrub(v: &mut Json, seen: &[(String, String)]) {
    match v {
        Json::String(s) => {
            for (original, replacement) in seen {
                if s.contains(original.as_str()) {
                    *s = s.replace(original.as_str(), replacement);
                }
            }
        }
        Json::Array(items) => items.iter_mut().for_each(|i| scrub(i, seen)),
        Json::Object(map) => {
            let leaks = map.keys().any(|k| seen.iter().any(|(o, _)| k.contains(o.as_str())));
            if leaks {
                let old = std::mem::take(map);
                for (mut k, mut val) in old {
                    for (original, replacement) in seen {
                        if k.contains(original.as_str()) {
                            k = k.replace(original.as_str(), replacement);
                        }
                    }
                    scrub(&mut val, seen);
                    map.insert(k, val);
                }
            } else {
                map.values_mut().for_each(|i| scrub(i, seen));
            }
        }
        _ => {}
    }
}

/// `sha256:HEX` (or `hmac-sha256:HEX` under a key) of a string's text, or of another
/// value's JSON.
fn hashed(v: &Json, key: Option<&[u8]>) -> String {
    let text = match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    match key.and_then(|k| <Hmac<Sha256> as hmac::Mac>::new_from_slice(k).ok()) {
        Some(mut mac) => {
            hmac::Mac::update(&mut mac, text.as_bytes());
            format!("hmac-sha256:{}", hex::encode(hmac::Mac::finalize(mac).into_bytes()))
        }
        None => format!("sha256:{}", hex::encode(Sha256::digest(text.as_bytes()))),
    }
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

    fn entry(user: Json, outcome: Json) -> Entry {
        Entry {
            decision_id: "d".into(),
            time: "t".into(),
            pipeline: "p".into(),
            hash: "h".into(),
            api: "native",
            decision: "allow",
            cause: None,
            rule: None,
            latency_us: 1,
            input: Some((user, json!({}))),
            outcome: Some(outcome),
            size: 0,
        }
    }

    /// Regression: masks applied to the input and the outcome's user only, and the same
    /// email stayed in a claim, a log line and a metadata patch.
    #[test]
    fn a_masked_value_is_replaced_wherever_it_appears() {
        let user = json!({ "email": "jane@example.com", "identities": [{ "access_token": "ya29.token" }] });
        let outcome = json!({
            "user": { "email": "jane@example.com", "app_metadata": { "last_email": "jane@example.com" } },
            "id_token": { "https://e.example/email": "jane@example.com", "https://e.example/t": "ya29.token" },
            "effects": [{ "patch": { "last_email": "jane@example.com" } }],
            "logs": [{ "message": "login for jane@example.com" }],
        });
        let line = render(entry(user, outcome), &Masker { masks: default_masks(), key: None });
        assert!(!line.contains("jane@example.com") && !line.contains("ya29.token"), "{line}");
        let hash = format!("sha256:{}", hex::encode(Sha256::digest(b"jane@example.com")));
        let j: Json = serde_json::from_str(&line).expect("json");
        assert_eq!(j["outcome"]["id_token"]["https://e.example/email"], json!(hash));
        assert_eq!(j["outcome"]["logs"][0]["message"], json!(format!("login for {hash}")));
        assert_eq!(j["outcome"]["id_token"]["https://e.example/t"], json!("[dropped]"));
    }

    #[test]
    fn a_hash_key_makes_hashes_keyed() {
        let masker = Masker { masks: default_masks(), key: Some(b"secret".to_vec()) };
        let line = render(entry(json!({ "email": "jane@example.com" }), json!({})), &masker);
        let j: Json = serde_json::from_str(&line).expect("json");
        let h = j["input"]["user"]["email"].as_str().expect("hashed");
        assert!(h.starts_with("hmac-sha256:") && h.len() == "hmac-sha256:".len() + 64, "{h}");
        assert!(!line.contains(&hex::encode(Sha256::digest(b"jane@example.com"))));
    }

    #[test]
    fn a_mask_on_a_missing_or_differently_shaped_path_changes_nothing() {
        let masks = vec![Mask { path: "user.a.b.c".into(), action: MaskAction::Drop }];
        let mut user = json!({"a": [1, 2], "b": "x"});
        mask(&mut user, "user", &masks);
        assert_eq!(user, json!({"a": [1, 2], "b": "x"}));
    }
}
