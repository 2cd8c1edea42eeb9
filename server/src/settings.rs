//! What `warden serve` is told: pipelines, address, keys, limits, decision logs, hooks.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::adapters::HookOptions;
use crate::decisions::DecisionLogSettings;

/// The default address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8686";
/// The default largest request body.
pub const DEFAULT_BODY_LIMIT: usize = 4 * 1024 * 1024;
/// The default number of logins in flight before the server answers 503.
pub const DEFAULT_CONCURRENCY: usize = 64;
/// The largest `--max-body`: inputs past 64 MiB are refused by their value limits anyway.
pub const MAX_BODY_LIMIT: usize = 64 * 1024 * 1024;
/// The largest `--concurrency` (each login in flight may hold a thread).
pub const MAX_CONCURRENCY: usize = 4096;
/// The default [`Settings::inline_max_body`]: an Auth0-size login is 2-8 KB.
pub const DEFAULT_INLINE_MAX_BODY: usize = 64 * 1024;
/// How long a client has to send a request body.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// The server's settings. `Settings::new` gives the defaults.
#[derive(Clone, Debug)]
pub struct Settings {
    pub listen: SocketAddr,
    /// The pipelines served, by name (`default` serves `/v1/login`).
    pub pipelines: Vec<PipelineSpec>,
    /// Configuration values given on the command line, for every pipeline (over the
    /// manifest's and the artifact's).
    pub config: BTreeMap<String, String>,
    /// Bearer keys accepted on login and hook routes; empty: none required (allowed only on
    /// loopback unless `no_auth`).
    pub login_keys: Vec<String>,
    /// Bearer keys accepted on admin routes (`/v1/admin/*`); empty: admin routes answer 403
    /// unless listening on loopback without login keys either.
    pub admin_keys: Vec<String>,
    /// Listen beyond loopback without keys (behind a proxy or mesh that authenticates).
    pub no_auth: bool,
    pub body_limit: usize,
    pub concurrency: usize,
    /// Each login's time budget, over the pipelines' own `timeout_ms`.
    pub timeout: Option<Duration>,
    /// Reload when a file of a pipeline changes.
    pub watch: bool,
    pub decision_log: Option<DecisionLogSettings>,
    pub hooks: HookOptions,
    /// Logins of pipelines without JavaScript whose body is at most this many bytes are
    /// decided on the async worker that read them (tens of microseconds, no I/O); others on
    /// the blocking pool. 0: always the blocking pool.
    pub inline_max_body: usize,
    /// After SIGTERM, how long `/ready` answers 503 while the server still serves, before it
    /// stops accepting (time for load balancers to notice).
    pub shutdown_wait: Duration,
}

impl Settings {
    /// The defaults, serving `pipelines`.
    pub fn new(pipelines: Vec<PipelineSpec>) -> Settings {
        Settings {
            listen: DEFAULT_LISTEN.parse().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8686))),
            pipelines,
            config: BTreeMap::new(),
            login_keys: Vec::new(),
            admin_keys: Vec::new(),
            no_auth: false,
            body_limit: DEFAULT_BODY_LIMIT,
            concurrency: DEFAULT_CONCURRENCY,
            timeout: None,
            watch: false,
            decision_log: None,
            hooks: HookOptions::default(),
            shutdown_wait: Duration::ZERO,
            inline_max_body: DEFAULT_INLINE_MAX_BODY,
        }
    }

    /// Refuses settings that would expose the server: keys are required beyond loopback.
    pub fn validate(&self) -> Result<(), String> {
        if self.pipelines.is_empty() {
            return Err("no pipeline to serve: give --manifest or --bundle".into());
        }
        let mut names: Vec<&str> = self.pipelines.iter().map(|p| p.name.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("two pipelines are named `{}`", w[0]));
        }
        for p in &self.pipelines {
            if !valid_name(&p.name) {
                return Err(format!(
                    "`{}` is not a pipeline name: use letters, digits, `-` and `_` (at most 64)",
                    p.name
                ));
            }
        }
        if !self.listen.ip().is_loopback() && self.login_keys.is_empty() && !self.no_auth {
            return Err(format!(
                "listening on {} (beyond loopback) needs API keys: give --api-keys-file or WARDEN_API_KEYS, \
                 or --no-auth when a proxy in front authenticates callers",
                self.listen
            ));
        }
        if self.body_limit == 0 || self.body_limit > MAX_BODY_LIMIT {
            return Err(format!("--max-body must be 1 to {MAX_BODY_LIMIT} bytes"));
        }
        if self.concurrency == 0 || self.concurrency > MAX_CONCURRENCY {
            return Err(format!("--concurrency must be 1 to {MAX_CONCURRENCY}"));
        }
        Ok(())
    }
}

/// A pipeline name: what goes in `/v1/pipelines/{name}/...`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// One pipeline to serve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PipelineSpec {
    pub name: String,
    pub source: Source,
}

/// Where a pipeline comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A `warden.toml` and its rule files, checked and compiled at each (re)load.
    Manifest(PathBuf),
    /// A built artifact, verified with `verify_key` or the manifest's `[bundle] verify_key`.
    Bundle { path: PathBuf, verify_key: Option<PathBuf>, manifest: Option<PathBuf> },
}

impl Source {
    /// The file a change to which reloads the pipeline, and the directory holding it.
    pub fn main_file(&self) -> &std::path::Path {
        match self {
            Source::Manifest(p) => p,
            Source::Bundle { path, .. } => path,
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Manifest(p) => write!(f, "manifest {}", p.display()),
            Source::Bundle { path, .. } => write!(f, "artifact {}", path.display()),
        }
    }
}
