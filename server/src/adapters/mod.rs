//! Hook adapters: an identity stack's own payload becomes Auth0's `user` and `context`, and
//! the outcome becomes the stack's own reply, so the stack needs configuration and no code.
//!
//! The server mounts each adapter at `/v1/hooks/{route}` (pipeline `default`) and
//! `/v1/pipelines/{name}/hooks/{route}`; the OPA-compatible API has its own paths
//! (`/v1/data/...`). The server reads the body (bounded), authenticates (bearer keys unless
//! the adapter authenticates the request itself), runs the pipeline on a blocking thread and
//! sends what [`Adapter::reply`] returns.
//!
//! Routes (`docs/hooks.md` has each host's configuration, mapping and replies):
//!
//! | route | host |
//! |---|---|
//! | `hydra/token` | Ory Hydra's `oauth2.token_hook` |
//! | `kratos/login`, `kratos/registration` | Ory Kratos `web_hook` after login / registration |
//! | `zitadel` | ZITADEL Actions v2 target for the `preaccesstoken` and `preuserinfo` functions |
//! | `/v1/data/{prefix}/{pipeline}[/allow]` | OPA's Data API, as Keycloak's OPA extensions call it |

use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::Value as Json;
use warden::Outcome;

mod common;
pub mod hydra;
pub mod kratos;
pub mod opa;
pub mod zitadel;

/// A login as a host sent it, in Auth0's model.
#[derive(Clone, Debug, PartialEq)]
pub struct Login {
    pub user: Json,
    pub context: Json,
    /// The time rules see as `now()` (epoch milliseconds); `None`: the server's clock.
    pub now: Option<i64>,
    /// What the adapter needs again to build its reply (parts of the host's request, such as
    /// the claims a Hydra session already holds); opaque to the server, which hands it back
    /// in [`DecisionInfo::host`]. `Json::Null` when the adapter needs nothing.
    pub host: Json,
}

/// What the server answers the host.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    /// [`Login::host`] of the login decided.
    pub host: &'a Json,
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
    /// 500: the adapter lacks the configuration it needs to decide anything (a ZITADEL
    /// target's signing key); nothing is decided until it is given.
    #[error("{0}")]
    Misconfigured(String),
    /// Not a login the rules decide (an OAuth2 client-credentials grant, a ZITADEL machine
    /// user, an undefined OPA document): the server sends this reply and runs no pipeline.
    #[error("answered without running rules (status {})", .0.status)]
    Answer(Reply),
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
    /// What can be checked from the headers alone, before the server looks up the pipeline
    /// or reads the body (a signature header's presence, shape and age): an unauthenticated
    /// caller gets no work done and learns nothing.
    fn precheck(&self, _headers: &HeaderMap) -> Result<(), AdapterError> {
        Ok(())
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
pub struct HookOptions {
    /// `[hooks.hydra]`
    #[serde(default)]
    pub hydra: hydra::HydraOptions,
    /// `[hooks.kratos]`
    #[serde(default)]
    pub kratos: kratos::KratosOptions,
    /// `[hooks.zitadel]`
    #[serde(default)]
    pub zitadel: zitadel::ZitadelOptions,
    /// `[hooks.opa]`
    #[serde(default)]
    pub opa: opa::OpaOptions,
}

/// What an adapter for a host that issues no tokens (Kratos, Keycloak's OPA extensions) does
/// with an outcome's claims and scopes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tokens {
    /// Refuse the login: nothing would carry them.
    Deny,
    /// Let them pass: another hook running the same pipeline issues the tokens.
    Ignore,
}

/// The adapters mounted under `/v1/hooks/`, by route (`hydra/token`, ...).
pub fn hooks(options: &HookOptions) -> Vec<(&'static str, std::sync::Arc<dyn Adapter>)> {
    use std::sync::Arc;
    let zitadel = zitadel::Zitadel::new(&options.zitadel);
    if let Some(problem) = zitadel.misconfigured() {
        // Worth a warning only when someone meant to configure it.
        if options.zitadel.signing_key.is_some() || options.zitadel.signing_key_env.is_some() {
            tracing::warn!("the ZITADEL hook refuses every call: {problem}");
        } else {
            tracing::debug!("the ZITADEL hook is off (no signing key configured)");
        }
    }
    vec![
        ("hydra/token", Arc::new(hydra::Hydra::new(&options.hydra))),
        ("kratos/login", Arc::new(kratos::Kratos::new(&options.kratos, kratos::Flow::Login))),
        ("kratos/registration", Arc::new(kratos::Kratos::new(&options.kratos, kratos::Flow::Registration))),
        ("zitadel", Arc::new(zitadel)),
    ]
}

/// The OPA-compatible API: `POST /v1/data/{path}` (`path` without the leading `/v1/data/`)
/// names a pipeline and what of its decision to return; gives the pipeline's name and the
/// adapter answering for that path. `served` tells whether a pipeline of that name is served.
///
/// A path that names no document (another package, or a pipeline not served) is answered as
/// OPA answers an undefined document: 200 with a body without `result`, which callers read
/// as "not allowed" ([`AdapterError::Answer`]).
pub fn opa_route(
    options: &HookOptions,
    path: &str,
    served: &dyn Fn(&str) -> bool,
) -> Result<(String, Box<dyn Adapter>), AdapterError> {
    opa::route(&options.opa, path, served)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `[hooks]` example of `docs/hooks.md` is what the settings file accepts, with the
    /// defaults it shows.
    #[test]
    fn the_documented_settings_parse_to_the_defaults() {
        let docs = include_str!("../../../docs/hooks.md");
        let start = docs.find("```toml\n[hooks.hydra]").map(|i| i + "```toml\n".len()).expect("a [hooks] example");
        let end = docs[start..].find("```").map(|i| start + i).expect("the example's end");
        #[derive(Deserialize)]
        struct File {
            hooks: HookOptions,
        }
        let file: File = toml::from_str(&format!("[hooks]\n{}", &docs[start..end])).expect("the documented settings");
        let h = file.hooks;
        let d = HookOptions::default();
        assert_eq!(
            (h.hydra.app_metadata, h.hydra.client_credentials),
            (d.hydra.app_metadata, d.hydra.client_credentials)
        );
        assert_eq!((h.kratos.email_trait, h.kratos.tokens), (d.kratos.email_trait, d.kratos.tokens));
        assert_eq!(h.zitadel.executions, d.zitadel.executions);
        assert_eq!(h.zitadel.signing_key_env.as_deref(), Some("ZITADEL_SIGNING_KEY"));
        assert_eq!((h.opa.prefix, h.opa.tokens), (d.opa.prefix, d.opa.tokens));
        let bad = toml::from_str::<File>("[hooks.hydra]\nconection = \"x\"\n");
        assert!(bad.is_err_and(|e| e.to_string().contains("conection")));
        let bad = toml::from_str::<File>("[hooks.zitadel]\nexecutions = [\"presamlresponse\"]\n");
        assert!(bad.is_err());
    }
}

/// Helpers for the adapters' unit tests: fixtures and real outcomes.
#[cfg(test)]
pub(crate) mod testing {
    use super::{Adapter, AdapterError, Login};

    /// A payload under `server/tests/payloads/`.
    pub(crate) fn fixture(path: &str) -> Vec<u8> {
        let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/payloads").join(path);
        std::fs::read(&full).map_err(|e| format!("{}: {e}", full.display())).expect("a fixture")
    }

    pub(crate) fn decode_fixture(adapter: &dyn Adapter, path: &str) -> Result<Login, AdapterError> {
        adapter.decode(&axum::http::HeaderMap::new(), &fixture(path))
    }

    /// The outcome of `rules` (the text of one `.rule` file) for `login`, at a fixed time.
    pub(crate) fn outcome_of(rules: &str, login: &Login) -> warden::Outcome {
        let pipeline = warden::Pipeline::from_source("test.rule", rules)
            .map_err(|e| format!("{rules}: {e}"))
            .expect("rules that load");
        pipeline
            .execute(&login.user, &login.context, &warden::Exec::at(1_800_000_000_000))
            .map_err(|e| format!("{rules}: {e}"))
            .expect("an input the rules accept")
    }
}
