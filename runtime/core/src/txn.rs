//! The state of one login as the pipeline runs: the user, decoded slots, and everything rules
//! asked for. Every backend changes it through these methods only, so they share semantics.

use crate::Fault;
use crate::fault::fault;
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::{Map, Value as Json};
use warden_ir::{Metadata, Program, SlotId, Token};

use crate::decode::{self, InputError, Inputs};
use crate::outcome::{Effect, EffectKind, LogEntry};
use crate::{Config, Value};

/// At most this many log entries per execution.
pub const MAX_LOGS: usize = 256;
/// Log messages are cut to at most this many bytes (the `…` that marks a cut included).
pub const MAX_LOG_BYTES: usize = 4096;

/// Protocols on which the host cannot interact with the user.
pub const NON_INTERACTIVE: &[&str] = &["oauth2-password", "oauth2-resource-owner", "oauth2-refresh-token"];

/// A claim and the rule that set it (for logs when the claim policy drops it).
#[derive(Clone, Debug)]
pub struct ClaimEntry {
    /// As the rule gave it (turned into JSON only where JSON is needed).
    pub value: Value,
    pub rule: String,
}

/// One login in progress.
#[derive(Clone, Debug)]
pub struct Txn {
    /// The user as rules left it (copied on the first write).
    pub user: Arc<Json>,
    pub context: Arc<Json>,
    /// The configuration, parsed (`Config::strings` is what JavaScript rules see).
    pub config: Config,
    /// Decoded slot values, indexed by `SlotId`.
    pub slots: Vec<Value>,
    pub id_token: IndexMap<String, ClaimEntry>,
    pub access_token: IndexMap<String, ClaimEntry>,
    /// `None` until a scope statement runs.
    pub scope: Option<Vec<String>>,
    pub multifactor: Option<(Json, String)>,
    pub redirect: Option<(Json, String)>,
    /// `context.samlConfiguration` as a JavaScript rule left it, when one changed it.
    pub saml_configuration: Option<Json>,
    /// `context.primaryUser` (a user_id) as a JavaScript rule left it, when one changed it.
    pub primary_user: Option<String>,
    pub effects: Vec<Effect>,
    pub logs: Vec<LogEntry>,
    /// Epoch milliseconds.
    pub now: i64,
    /// How many of the user's first members are still those the input had, in its order
    /// (after a scan, see [`crate::scan::write_user`]): removing one of them counts down.
    pub user_original: usize,
    /// What the login's HTTP calls used, and the exchanges a test answers them from.
    pub net: crate::NetState,
}

impl Txn {
    /// Decodes the inputs into the program's slots.
    pub fn new(
        prog: &Program,
        user: Arc<Json>,
        context: Arc<Json>,
        config: Config,
        now: i64,
    ) -> Result<Txn, InputError> {
        let slots = match decode::decode_slots(prog, Inputs { user: &user, context: &context, config: &config }) {
            Ok(slots) => slots,
            Err(e) => {
                // Refused input may be deeper than dropping it recursively can take.
                for doc in [user, context] {
                    if let Ok(doc) = Arc::try_unwrap(doc) {
                        decode::dispose(doc);
                    }
                }
                return Err(e);
            }
        };
        Ok(Txn { slots, ..Txn::without_slots(user, context, config, now) })
    }

    /// A login's state from the fast decoder ([`crate::scan`]): `slots` holds the values it
    /// decoded from the input (configuration slots are filled here); `user` and `context` hold
    /// only what the runtime reads as JSON. The documents were checked against the input
    /// shapes while scanning.
    pub fn scanned(
        prog: &Program,
        user: Arc<Json>,
        context: Arc<Json>,
        config: Config,
        mut slots: Vec<Value>,
        now: i64,
    ) -> Txn {
        for (slot, value) in prog.slots.iter().zip(slots.iter_mut()) {
            if slot.root == warden_ir::Root::Config {
                *value = decode::config_value(slot, &config);
            }
        }
        let original = user.as_object().map_or(0, Map::len);
        Txn { slots, user_original: original, ..Txn::without_slots(user, context, config, now) }
    }

    /// A login's state before any rule ran, without decoding slots (for code that reads the
    /// user and context as JSON: a JavaScript worker, tests).
    pub fn without_slots(user: Arc<Json>, context: Arc<Json>, config: Config, now: i64) -> Txn {
        Txn {
            user,
            context,
            config,
            slots: Vec::new(),
            id_token: IndexMap::new(),
            access_token: IndexMap::new(),
            scope: None,
            multifactor: None,
            redirect: None,
            saml_configuration: None,
            primary_user: None,
            effects: Vec::new(),
            logs: Vec::new(),
            now,
            user_original: 0,
            net: crate::NetState::default(),
        }
    }

    fn inputs(&self) -> Inputs<'_> {
        Inputs { user: &self.user, context: &self.context, config: &self.config }
    }

    /// Decodes the given slots again after the user changed.
    pub fn refresh(&mut self, prog: &Program, slots: &[SlotId]) -> Result<(), Fault> {
        for &s in slots {
            self.refresh_slot(prog, s.index())?;
        }
        Ok(())
    }

    /// Checks the user and context against the input shapes and decodes every slot again
    /// (after a JavaScript rule, which may change anything).
    pub fn refresh_all(&mut self, prog: &Program) -> Result<(), Fault> {
        decode::check_input("user", &prog.input.user, &self.user).map_err(|e| e.to_string())?;
        decode::check_input("context", &prog.input.context, &self.context).map_err(|e| e.to_string())?;
        (0..prog.slots.len()).try_for_each(|s| self.refresh_slot(prog, s))
    }

    fn refresh_slot(&mut self, prog: &Program, s: usize) -> Result<(), Fault> {
        self.slots[s] = decode::decode_slot(&prog.slots[s], self.inputs()).map_err(|e| e.to_string())?;
        Ok(())
    }

    /// `set user.PATH = value` (a null value removes the attribute).
    pub fn set_user(&mut self, path: &[String], value: &Value) {
        if value.is_null() {
            return self.unset_user(path);
        }
        let Some((last, parents)) = path.split_last() else {
            return;
        };
        let mut cur = Arc::make_mut(&mut self.user);
        for p in parents {
            let map = ensure_object(cur);
            cur = map.entry(p.clone()).or_insert(Json::Null);
        }
        ensure_object(cur).insert(last.clone(), value.to_json());
    }

    /// `unset user.PATH`.
    pub fn unset_user(&mut self, path: &[String]) {
        let Some((last, parents)) = path.split_last() else {
            return;
        };
        let mut cur = Arc::make_mut(&mut self.user);
        for p in parents {
            match cur.as_object_mut().and_then(|m| m.get_mut(p)) {
                Some(next) => cur = next,
                None => return,
            }
        }
        if let Some(map) = cur.as_object_mut() {
            if parents.is_empty()
                && let Some(at) = map.keys().position(|k| k == last)
                && at < self.user_original
            {
                self.user_original -= 1;
            }
            map.shift_remove(last);
        }
    }

    /// `claim TOKEN "name" = value` (a null value removes the claim).
    pub fn claim(&mut self, token: Token, name: &str, value: &Value, rule: &str) {
        let claims = match token {
            Token::IdToken => &mut self.id_token,
            Token::AccessToken => &mut self.access_token,
        };
        if value.is_null() {
            claims.shift_remove(name);
        } else {
            claims.insert(name.to_string(), ClaimEntry { value: value.clone(), rule: rule.to_string() });
        }
    }

    /// The scope set, initialised from the host's starting point on first use.
    pub fn scope_mut(&mut self) -> &mut Vec<String> {
        if self.scope.is_none() {
            self.scope = Some(starting_scope(&self.context));
        }
        self.scope.get_or_insert_with(Vec::new)
    }

    pub fn scope_add(&mut self, scope: &str) {
        let set = self.scope_mut();
        if !set.iter().any(|s| s == scope) {
            set.push(scope.to_string());
        }
    }

    pub fn scope_remove(&mut self, scope: &str) {
        self.scope_mut().retain(|s| s != scope);
    }

    pub fn scope_set(&mut self, scopes: Vec<String>) {
        let mut out: Vec<String> = Vec::new();
        for s in scopes {
            if !out.contains(&s) {
                out.push(s);
            }
        }
        self.scope = Some(out);
    }

    pub fn mfa(&mut self, provider: &str, remember: bool, options: Vec<(String, String)>, rule: &str) {
        let mut m = Map::new();
        m.insert("provider".into(), Json::from(provider));
        m.insert("allowRememberBrowser".into(), Json::Bool(remember));
        for (k, v) in options {
            m.insert(k, Json::String(v));
        }
        self.multifactor = Some((Json::Object(m), rule.to_string()));
    }

    /// `redirect URL`; the URL must be absolute http(s).
    pub fn redirect(&mut self, url: &str, rule: &str) -> Result<(), Fault> {
        let lower = url.to_ascii_lowercase();
        if !(lower.starts_with("https://") || lower.starts_with("http://")) || url.len() <= 8 {
            return Err(fault!("redirect URL {url:?} is not an absolute http(s) URL"));
        }
        let mut m = Map::new();
        m.insert("url".into(), Json::from(url));
        self.redirect = Some((Json::Object(m), rule.to_string()));
        Ok(())
    }

    /// `persist METADATA.key = value`: records the patch (merged with the same rule's earlier
    /// patch of the same metadata) and applies it to the user.
    pub fn persist(&mut self, metadata: Metadata, key: &str, value: &Value, rule: &str) -> Result<(), Fault> {
        if key.is_empty() || key.contains('.') || key.contains('$') {
            return Err(fault!("metadata key {key:?} cannot be empty or contain `.` or `$`"));
        }
        let user_id = match self.user.get("user_id") {
            Some(Json::String(id)) if !id.is_empty() => id.clone(),
            _ => return Err("cannot persist metadata: the user has no `user_id`".into()),
        };
        let kind = match metadata {
            Metadata::App => EffectKind::UpdateAppMetadata,
            Metadata::User => EffectKind::UpdateUserMetadata,
        };
        let json = value.to_json();
        match self.effects.iter_mut().rev().find(|e| e.kind == kind && e.rule == rule) {
            Some(e) => {
                e.patch.insert(key.to_string(), json.clone());
            }
            None => {
                let mut patch = Map::new();
                patch.insert(key.to_string(), json.clone());
                self.effects.push(Effect { kind, user_id, patch, rule: rule.to_string() });
            }
        }
        let field = ensure_object(Arc::make_mut(&mut self.user))
            .entry(metadata.field().to_string())
            .or_insert_with(|| Json::Object(Map::new()));
        let map = ensure_object(field);
        if json.is_null() {
            map.shift_remove(key);
        } else {
            map.insert(key.to_string(), json);
        }
        Ok(())
    }

    /// A metadata patch a JavaScript rule sent (`auth0.users.update*Metadata`): recorded for
    /// the host like `persist`, without changing the user the rules see (as in Auth0).
    pub fn record_patch(&mut self, metadata: Metadata, user_id: &str, patch: &Map<String, Json>, rule: &str) {
        let kind = match metadata {
            Metadata::App => EffectKind::UpdateAppMetadata,
            Metadata::User => EffectKind::UpdateUserMetadata,
        };
        self.effects.push(Effect { kind, user_id: user_id.to_string(), patch: patch.clone(), rule: rule.to_string() });
    }

    pub fn log(&mut self, rule: &str, level: &str, message: String) {
        if self.logs.len() >= MAX_LOGS {
            return;
        }
        let mut message = message;
        if message.len() > MAX_LOG_BYTES {
            // Cut on a character boundary so that, with the marker, it is at most 4 KiB.
            let mut cut = MAX_LOG_BYTES - '…'.len_utf8();
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push('…');
        }
        self.logs.push(LogEntry { rule: rule.to_string(), level: level.to_string(), message });
    }

    /// `context.protocol`, if a string.
    pub fn protocol(&self) -> Option<&str> {
        self.context.get("protocol").and_then(Json::as_str)
    }

    /// Whether the login was requested with `prompt=none`.
    pub fn prompt_none(&self) -> bool {
        let query = self.context.get("request").and_then(|r| r.get("query"));
        query.and_then(|q| q.get("prompt")).and_then(Json::as_str) == Some("none")
    }
}

fn ensure_object(j: &mut Json) -> &mut Map<String, Json> {
    if !j.is_object() {
        *j = Json::Object(Map::new());
    }
    match j {
        Json::Object(m) => m,
        _ => unreachable!("just made an object"),
    }
}

/// Scopes as the host gives them: a space-separated string, or a list of strings, each of
/// which may itself hold several space-separated scopes (repeated `?scope=` parameters
/// arrive as a list). `None` for anything else (the input's shape check refuses it).
pub fn scope_list(j: &Json) -> Option<Vec<String>> {
    match j {
        Json::String(s) => Some(s.split_whitespace().map(String::from).collect()),
        Json::Array(items) => {
            let mut out = Vec::new();
            for item in items {
                out.extend(item.as_str()?.split_whitespace().map(String::from));
            }
            Some(out)
        }
        _ => None,
    }
}

/// The host's scopes: `context.accessToken.scope` (list or string), else the requested scopes
/// from `request.body.scope` or `request.query.scope`.
pub fn starting_scope(context: &Json) -> Vec<String> {
    let at = |path: &[&str]| path.iter().try_fold(context, |cur, p| cur.get(p)).and_then(scope_list);
    let scopes = at(&["accessToken", "scope"])
        .or_else(|| at(&["request", "body", "scope"]))
        .or_else(|| at(&["request", "query", "scope"]))
        .unwrap_or_default();
    let mut out: Vec<String> = Vec::new();
    for s in scopes {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}
