//! The routes: logins (native and hooks), operations, admin.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json, json};
use warden::{Exec, InputError, LoginRequest};

use crate::adapters::{Adapter, AdapterError, DecisionInfo, Login, Reply};
use crate::decisions::Entry;
use crate::metrics::{AnsweredLabels, LoginLabels, Metrics, PipelineLabel, RuleLabels};
use crate::settings::BODY_TIMEOUT;
use crate::state::Loaded;
use crate::{App, auth};

/// The pipeline `/v1/login` and `/v1/hooks/...` decide with.
pub const DEFAULT_PIPELINE: &str = "default";

/// A JSON error reply: `{"error": {"code", "message", ...}}`.
pub fn error(status: StatusCode, code: &str, message: impl Into<String>, extra: Option<Json>) -> Response {
    let mut e = json!({ "code": code, "message": message.into() });
    if let (Some(Json::Object(more)), Json::Object(map)) = (extra, &mut e) {
        map.extend(more);
    }
    let mut r = (status, axum::Json(json!({ "error": e }))).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    r
}

/// How a login request is read and answered.
#[derive(Clone, Debug)]
pub enum Api {
    Native,
    Hook(Arc<dyn Adapter>),
}

impl Api {
    fn label(&self) -> &'static str {
        match self {
            Api::Native => "native",
            Api::Hook(a) => a.name(),
        }
    }
}

/// Reads a body of at most `limit` bytes within [`BODY_TIMEOUT`].
async fn read_body(app: &App, headers: &HeaderMap, body: Body) -> Result<Bytes, Response> {
    let limit = app.settings.body_limit;
    let too_large = || {
        app.metrics.reject("too_large");
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the request body is larger than the limit of {limit} bytes"),
            Some(json!({ "limit": limit })),
        )
    };
    if let Some(len) = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        && len > limit as u64
    {
        return Err(too_large());
    }
    match tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => {
            // `to_bytes` fails past the limit (chunked bodies) or when the connection breaks.
            if std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>()) {
                Err(too_large())
            } else {
                app.metrics.reject("bad_request");
                Err(error(
                    StatusCode::BAD_REQUEST,
                    "unreadable_body",
                    format!("the request body could not be read: {e}"),
                    None,
                ))
            }
        }
        Err(_) => {
            app.metrics.reject("bad_request");
            Err(error(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                format!("the request body did not arrive within {} s", BODY_TIMEOUT.as_secs()),
                None,
            ))
        }
    }
}

/// Holds one place of the concurrency limit and the in-flight gauge.
struct InFlight {
    app: Arc<App>,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.app.metrics.in_flight.dec();
    }
}

fn overloaded(app: &App) -> Response {
    app.metrics.reject("overloaded");
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "overloaded",
        format!("{} logins are in flight, the most this server takes: retry", app.settings.concurrency),
        None,
    )
}

/// What the blocking part of a login produces.
enum Decided {
    Reply(Response, Box<Summary>),
    Refused(Response),
}

/// What the metrics and the decision log need of a decided login.
struct Summary {
    allow: bool,
    error: Option<warden::ErrorInfo>,
    /// The outcome as JSON, when the decision log records it.
    outcome: Option<Json>,
    /// The user and context, when the decision log records them.
    input: Option<(Json, Json)>,
}

/// One login: authenticate, find the pipeline, read the body, take a place, decide on a
/// blocking thread, answer, count and log.
pub async fn login(app: Arc<App>, pipeline: &str, headers: HeaderMap, body: Body, api: Api) -> Response {
    let needs_key = match &api {
        Api::Native => true,
        Api::Hook(a) => !a.authenticates(),
    };
    if needs_key && let Err(r) = auth::check(&app, &headers, auth::Group::Login) {
        return r;
    }
    if let Api::Hook(a) = &api
        && let Err(e) = a.precheck(&headers)
    {
        return adapter_error(&app.metrics, api.label(), &e);
    }
    let Some(loaded) = app.registry.get(pipeline) else {
        app.metrics.reject("not_found");
        // The names served are shown only to callers a key admitted (or where none is needed).
        let extra = needs_key.then(|| json!({ "pipelines": app.registry.all().keys().collect::<Vec<_>>() }));
        return error(
            StatusCode::NOT_FOUND,
            "unknown_pipeline",
            format!("no pipeline named `{pipeline}` is served here"),
            extra,
        );
    };
    let Ok(reading) = app.reads.clone().try_acquire_owned() else {
        return overloaded(&app);
    };
    let bytes = match read_body(&app, &headers, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    drop(reading);
    let Ok(permit) = app.limit.clone().try_acquire_owned() else {
        return overloaded(&app);
    };
    app.metrics.in_flight.inc();
    let guard = InFlight { app: app.clone(), _permit: permit };
    let started = Instant::now();
    let decision_id = uuid::Uuid::new_v4().to_string();
    let timeout = app.settings.timeout;
    let keep_input = app.decisions.as_ref().is_some_and(|d| d.wants_input());
    let keep_outcome = app.decisions.as_ref().is_some_and(|d| d.wants_outcome());
    let id2 = decision_id.clone();
    // A small login of a pipeline without JavaScript costs tens of microseconds, bounded by
    // its input and without I/O: it is decided here, which saves two thread hand-offs. The
    // rest (JavaScript waits on workers; large inputs take longer to parse) goes to the
    // blocking pool, never the reactor (ARCHITECTURE.md, "The server").
    let inline = !loaded.has_js && bytes.len() <= app.settings.inline_max_body;
    let work = move || {
        let app = guard.app.clone();
        let keep = Keep { input: keep_input, outcome: keep_outcome };
        let decided = decide(&app.metrics, &loaded, &headers, &bytes, &api, &id2, timeout, keep);
        drop(guard);
        match decided {
            Decided::Refused(r) => r,
            Decided::Reply(r, summary) => {
                record(&app, &loaded, &api, id2, *summary, started.elapsed(), bytes.len());
                r
            }
        }
    };
    if inline {
        // A panic here unwinds to the catch-panic layer: a 500 and a metric, as below.
        return work();
    }
    match tokio::task::spawn_blocking(work).await {
        Ok(response) => response,
        Err(e) => {
            app.metrics.panics.inc();
            app.metrics.reject("internal");
            tracing::error!(pipeline, decision_id, "a login panicked: {e}");
            error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the login could not be decided", None)
        }
    }
}

/// What the decision log keeps of each login.
#[derive(Clone, Copy)]
struct Keep {
    input: bool,
    outcome: bool,
}

/// The synchronous part: parse, execute, reply.
#[allow(clippy::too_many_arguments)]
fn decide(
    metrics: &Metrics,
    loaded: &Loaded,
    headers: &HeaderMap,
    bytes: &[u8],
    api: &Api,
    decision_id: &str,
    timeout: Option<std::time::Duration>,
    keep: Keep,
) -> Decided {
    let exec = |now: Option<i64>| {
        let mut exec = match now {
            Some(now) => Exec::at(now),
            None => Exec::now(),
        };
        exec.timeout = timeout;
        exec
    };
    if let (Api::Native, false) = (api, keep.input) {
        // From the body's bytes to the outcome's (ARCHITECTURE.md, "From bytes to bytes").
        return match loaded.pipeline.execute_request(bytes, exec) {
            Ok(w) => {
                let info = DecisionInfo { decision_id, pipeline: &loaded.name, hash: &loaded.hash, host: &Json::Null };
                let outcome = if keep.outcome { serde_json::from_slice(&w.json).ok() } else { None };
                let response = native_reply(&w.json, info);
                let allow = w.decision == warden::Decision::Allow;
                Decided::Reply(response, Box::new(Summary { allow, error: w.error, outcome, input: None }))
            }
            Err(e) => Decided::Refused(input_error(metrics, &e)),
        };
    }
    let login = match api {
        Api::Native => match LoginRequest::from_slice(bytes) {
            Ok(r) => Login { user: r.user, context: r.context, now: r.now, host: Json::Null },
            Err(e) => return Decided::Refused(input_error(metrics, &e)),
        },
        Api::Hook(a) => match a.decode(headers, bytes) {
            Ok(l) => l,
            Err(e) => return Decided::Refused(adapter_error(metrics, a.name(), &e)),
        },
    };
    let exec = exec(login.now);
    let input = keep.input.then(|| (login.user.clone(), login.context.clone()));
    let outcome = match loaded.pipeline.execute_owned(login.user, login.context, &exec) {
        Ok(o) => o,
        Err(e) => return Decided::Refused(input_error(metrics, &e)),
    };
    let info = DecisionInfo { decision_id, pipeline: &loaded.name, hash: &loaded.hash, host: &login.host };
    let response = match api {
        // Outcomes are JSON values and strings: serializing one cannot fail.
        Api::Native => native_reply(&serde_json::to_vec(&outcome).unwrap_or_default(), info),
        Api::Hook(a) => hook_reply(a.reply(&outcome, info)),
    };
    let summary = Summary {
        allow: outcome.is_allow(),
        outcome: keep.outcome.then(|| outcome.to_json()),
        error: outcome.error,
        input,
    };
    Decided::Reply(response, Box::new(summary))
}

/// `{"decision_id", "pipeline": {"name", "hash"}, ...the outcome}`: the outcome's own bytes
/// after a prefix, so its key order is the contract's.
fn native_reply(body: &[u8], info: DecisionInfo<'_>) -> Response {
    let head = json!({ "decision_id": info.decision_id, "pipeline": { "name": info.pipeline, "hash": info.hash } });
    let mut out = Vec::with_capacity(body.len() + 160);
    // Writing a JSON value into a vector cannot fail.
    let _ = serde_json::to_writer(&mut out, &head);
    // Both are objects: `{...head}` + `,` + the outcome without its `{`.
    if out.last() == Some(&b'}') && body.first() == Some(&b'{') && body.len() > 2 {
        out.pop();
        out.push(b',');
        out.extend_from_slice(&body[1..]);
    }
    let mut r = Response::new(Body::from(out));
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// 400 with what and where.
pub fn input_error(metrics: &Metrics, e: &InputError) -> Response {
    let mut extra = json!({ "kind": e.kind() });
    match e {
        InputError::Malformed { line, column, .. } => {
            extra["line"] = json!(line);
            extra["column"] = json!(column);
        }
        InputError::WrongType { path, .. } => extra["path"] = json!(path),
        _ => {}
    }
    if let InputError::MissingConfig { .. } = e {
        // The pipeline's fault, not the caller's; loading refuses this, so it is unexpected.
        metrics.reject("internal");
        return error(StatusCode::INTERNAL_SERVER_ERROR, "missing_config", e.to_string(), Some(extra));
    }
    metrics.reject("bad_request");
    error(StatusCode::BAD_REQUEST, "invalid_input", e.to_string(), Some(extra))
}

/// An adapter's reply as the response.
fn hook_reply(reply: Reply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match reply.body {
        Some(body) => (status, axum::Json(body)).into_response(),
        None => status.into_response(),
    }
}

/// An adapter's refusal as the response, counted by reason; a reply sent without running
/// rules is counted by adapter and status.
fn adapter_error(metrics: &Metrics, api: &'static str, e: &AdapterError) -> Response {
    let (reason, response) = match e {
        AdapterError::BadRequest(m) => {
            ("bad_request", error(StatusCode::BAD_REQUEST, "invalid_payload", m.clone(), None))
        }
        AdapterError::Unauthorized(m) => {
            ("unauthorized", error(StatusCode::UNAUTHORIZED, "bad_signature", m.clone(), None))
        }
        AdapterError::NotFound(m) => ("not_found", error(StatusCode::NOT_FOUND, "not_found", m.clone(), None)),
        AdapterError::Misconfigured(m) => {
            ("internal", error(StatusCode::INTERNAL_SERVER_ERROR, "hook_not_configured", m.clone(), None))
        }
        AdapterError::Answer(reply) => {
            metrics.answered.get_or_create(&AnsweredLabels { api, status: reply.status }).inc();
            tracing::debug!(api, status = reply.status, "answered without running rules");
            return hook_reply(reply.clone());
        }
    };
    metrics.reject(reason);
    response
}

fn cause_name(error: Option<&warden::ErrorInfo>) -> &'static str {
    match error.map(|e| e.cause) {
        None => "none",
        Some(warden::Cause::Denied) => "denied",
        Some(warden::Cause::RuleError) => "rule_error",
        Some(warden::Cause::Timeout) => "timeout",
        Some(warden::Cause::ResourceLimit) => "resource_limit",
    }
}

/// Metrics and the decision log for one decided login.
#[allow(clippy::too_many_arguments)]
fn record(
    app: &App,
    loaded: &Loaded,
    api: &Api,
    decision_id: String,
    summary: Summary,
    elapsed: std::time::Duration,
    body_len: usize,
) {
    let Summary { allow, error, outcome, input } = summary;
    let decision = if allow { "allow" } else { "deny" };
    let cause = cause_name(error.as_ref());
    let m = &app.metrics;
    m.logins.get_or_create(&LoginLabels { pipeline: loaded.name.clone(), decision, cause, api: api.label() }).inc();
    m.latency.get_or_create(&PipelineLabel { pipeline: loaded.name.clone() }).observe(elapsed.as_secs_f64());
    if let Some(e) = &error
        && cause != "denied"
    {
        m.rule_failures.get_or_create(&RuleLabels { pipeline: loaded.name.clone(), rule: e.rule.clone(), cause }).inc();
    }
    if let Some(log) = &app.decisions {
        let entry = Entry {
            decision_id,
            time: jiff::Timestamp::now().to_string(),
            pipeline: loaded.name.clone(),
            hash: loaded.hash.clone(),
            api: api.label(),
            decision,
            cause: (cause != "none").then_some(cause),
            rule: error.as_ref().map(|e| e.rule.clone()),
            latency_us: elapsed.as_micros().min(u64::MAX as u128) as u64,
            input,
            outcome,
            size: body_len.saturating_mul(2).saturating_add(512),
        };
        log.record(entry, m);
    }
}

// ---- handlers ----

pub async fn native_default(State(app): State<Arc<App>>, headers: HeaderMap, body: Body) -> Response {
    login(app, DEFAULT_PIPELINE, headers, body, Api::Native).await
}

pub async fn native_named(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    login(app, &name, headers, body, Api::Native).await
}

pub async fn hook(app: Arc<App>, pipeline: String, route: &str, headers: HeaderMap, body: Body) -> Response {
    let Some(adapter) = app.hooks.get(route).cloned() else {
        app.metrics.reject("not_found");
        return error(StatusCode::NOT_FOUND, "unknown_hook", format!("no hook adapter at `{route}`"), None);
    };
    login(app, &pipeline, headers, body, Api::Hook(adapter)).await
}

pub async fn hook_default(
    State(app): State<Arc<App>>,
    Path(route): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    hook(app, DEFAULT_PIPELINE.into(), &route, headers, body).await
}

pub async fn hook_named(
    State(app): State<Arc<App>>,
    Path((name, route)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    hook(app, name, &route, headers, body).await
}

pub async fn opa(State(app): State<Arc<App>>, Path(path): Path<String>, headers: HeaderMap, body: Body) -> Response {
    // Undefined documents are answered without a pipeline: authenticate first.
    if let Err(r) = auth::check(&app, &headers, auth::Group::Login) {
        return r;
    }
    let served = |name: &str| app.registry.get(name).is_some();
    match crate::adapters::opa_route(&app.settings.hooks, &path, &served) {
        Ok((pipeline, adapter)) => login(app, &pipeline, headers, body, Api::Hook(Arc::from(adapter))).await,
        Err(e) => adapter_error(&app.metrics, "opa", &e),
    }
}

pub async fn health() -> Response {
    axum::Json(json!({ "status": "ok" })).into_response()
}

pub async fn ready(State(app): State<Arc<App>>) -> Response {
    let pipelines = app.registry.all();
    let listed: Vec<Json> = pipelines
        .values()
        .map(|p| json!({ "name": p.name, "hash": p.hash, "js_workers": p.pipeline.js_in_workers() }))
        .collect();
    if app.draining.load(Ordering::SeqCst) {
        return error(StatusCode::SERVICE_UNAVAILABLE, "draining", "the server is shutting down", None);
    }
    let loaded = app.settings.pipelines.iter().all(|s| pipelines.contains_key(&s.name));
    if !loaded {
        return error(StatusCode::SERVICE_UNAVAILABLE, "loading", "not every pipeline is loaded", None);
    }
    axum::Json(json!({ "status": "ready", "pipelines": listed })).into_response()
}

pub async fn metrics(State(app): State<Arc<App>>) -> Response {
    let mut r = Response::new(Body::from(app.metrics.encode()));
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(crate::metrics::CONTENT_TYPE));
    r
}

/// The OpenAPI description kept in the repository (`server/openapi.json`).
pub const OPENAPI: &str = include_str!("../openapi.json");

pub async fn openapi() -> Response {
    let mut r = Response::new(Body::from(OPENAPI));
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

pub async fn pipelines(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    if let Err(r) = auth::check(&app, &headers, auth::Group::Login) {
        return r;
    }
    let list: Vec<Json> = app
        .registry
        .all()
        .values()
        .map(|p| {
            json!({
                "name": p.name,
                "hash": p.hash,
                "loaded_at": jiff::Timestamp::try_from(p.loaded_at).map(|t| t.to_string()).unwrap_or_default(),
                "rules": p.pipeline.program().steps.len(),
            })
        })
        .collect();
    axum::Json(json!({ "pipelines": list })).into_response()
}

pub async fn reload(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    if let Err(r) = auth::check(&app, &headers, auth::Group::Admin) {
        return r;
    }
    let report = crate::reload(&app, "admin").await;
    let status = if report.ok() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    (status, axum::Json(json!({ "ok": report.ok(), "reloaded": report.reloaded.iter().map(|(n, h)| json!({"pipeline": n, "hash": h})).collect::<Vec<_>>(), "unchanged": report.unchanged, "failed": report.failed }))).into_response()
}

pub async fn not_found(State(app): State<Arc<App>>) -> Response {
    app.metrics.reject("not_found");
    error(StatusCode::NOT_FOUND, "not_found", "no such route: see /openapi.json", None)
}
