//! Hook adapters: an identity stack's own payload becomes Auth0's `user` and `context`, and
//! the outcome becomes the stack's own reply, so the stack needs configuration and no code.
//!
//! The server mounts each adapter at `/v1/hooks/{route}` (pipeline `default`) and
//! `/v1/pipelines/{name}/hooks/{route}`; the OPA-compatible API has its own paths
//! (`/v1/data/...`). The server reads the body (bounded), authenticates (bearer keys unless
//! the adapter authenticates the request itself), runs the pipeline on a blocking thread and
//! sends what [`Adapter::reply`] returns.

use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::Value as Json;
use warden::Outcome;

/// A login as a host sent it, in Auth0's model.
#[derive(Clone, Debug, PartialEq)]
pub struct Login {
    pub user: Json,
    pub context: Json,
    /// The time rules see as `now()` (epoch milliseconds); `None`: the server's clock.
    pub now: Option<i64>,
}

/// What the server answers the host.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    pub status: u16,
    /// A JSON body, or none (e.g. 204).
    pub body: Option<Json>,
}

/// What the server knows about the decision, for replies that carry it.
#[derive(Clone, Copy, Debug)]
pub struct DecisionInfo<'a> {
    pub decision_id: &'a str,
    pub pipeline: &'a str,
    pub hash: &'a str,
}

/// Why a host's request cannot be decided.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AdapterError {
    /// 400: the payload is not what the host sends (the message says what and where).
    #[error("{0}")]
    BadRequest(String),
    /// 401: a signature the adapter checks is missing, stale or wrong.
    #[error("{0}")]
    Unauthorized(String),
    /// 404: no pipeline or document at this path (the OPA-compatible API).
    #[error("{0}")]
    NotFound(String),
}

/// One identity stack's hook format.
pub trait Adapter: Send + Sync + std::fmt::Debug {
    /// The label in metrics and decision logs (`hydra`, `kratos`, ...).
    fn name(&self) -> &'static str;
    /// Whether [`Adapter::decode`] authenticates the request itself (a signature), so that
    /// bearer keys are not required on its route.
    fn authenticates(&self) -> bool {
        false
    }
    /// The host's request (headers and raw body, at most the body limit) as a login.
    fn decode(&self, headers: &HeaderMap, body: &[u8]) -> Result<Login, AdapterError>;
    /// The outcome as the host's reply.
    fn reply(&self, outcome: &Outcome, info: DecisionInfo<'_>) -> Reply;
}

/// Per-adapter settings (`[hooks.*]` in the serve settings file), each with defaults that
/// follow the hosts' documentation.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HookOptions {}

/// The adapters mounted under `/v1/hooks/`, by route (`hydra/token`, ...).
pub fn hooks(_options: &HookOptions) -> Vec<(&'static str, std::sync::Arc<dyn Adapter>)> {
    Vec::new()
}

/// The OPA-compatible API: `POST /v1/data/{path}` (`path` without the leading `/v1/data/`)
/// names a pipeline and what of its decision to return; gives the pipeline's name and the
/// adapter answering for that path.
pub fn opa_route(_options: &HookOptions, path: &str) -> Result<(String, Box<dyn Adapter>), AdapterError> {
    Err(AdapterError::NotFound(format!("no document at `{path}`")))
}
