//! `warden serve`: the HTTP server an identity stack calls on every login.
//!
//! Built on tokio and axum; logins are decided on blocking threads behind a semaphore (a
//! full one answers 503), never on the reactor; pipelines are swapped whole on reload
//! (ARCHITECTURE.md, "JavaScript execution model" and "The server"). Everything the server
//! does with rules goes through the `warden` engine crate.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use tokio::sync::{Semaphore, watch};

pub mod adapters;
pub mod api;
pub mod auth;
pub mod decisions;
pub mod metrics;
pub mod settings;
pub mod state;

pub use settings::{PipelineSpec, Settings, Source};
pub use state::{LoadFailure, ReloadReport};

use adapters::Adapter;
use decisions::DecisionLog;
use metrics::{InfoLabels, Metrics, ReloadLabels};
use state::Registry;

/// The server's shared state.
#[derive(Debug)]
pub struct App {
    pub settings: Settings,
    pub registry: Registry,
    pub metrics: Metrics,
    /// One place per login in flight.
    pub limit: Arc<Semaphore>,
    /// One place per request body being read (twice the logins in flight): bounds the memory
    /// slow or unauthenticated uploads can hold.
    pub reads: Arc<Semaphore>,
    pub decisions: Option<DecisionLog>,
    pub hooks: BTreeMap<&'static str, Arc<dyn Adapter>>,
    /// Set on SIGTERM: `/ready` answers 503 while in-flight logins finish.
    pub draining: AtomicBool,
    /// One reload at a time.
    reloading: tokio::sync::Mutex<()>,
}

/// Why the server did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Settings(String),
    #[error("{}", failures_text(.0))]
    Load(Vec<LoadFailure>),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot open the decision log: {0}")]
    DecisionLog(std::io::Error),
    #[error("cannot watch the pipelines' files: {0}")]
    Watch(String),
}

fn failures_text(f: &[LoadFailure]) -> String {
    f.iter().map(|f| format!("pipeline `{}` ({}): {}", f.pipeline, f.source, f.error)).collect::<Vec<_>>().join("\n")
}

impl App {
    /// The state of a server serving `pipelines` (loaded with [`load_all`]).
    pub fn new(settings: Settings, pipelines: state::Pipelines, decisions: Option<DecisionLog>) -> App {
        App {
            limit: Arc::new(Semaphore::new(settings.concurrency)),
            reads: Arc::new(Semaphore::new(settings.concurrency.saturating_mul(2))),
            registry: Registry::new(pipelines),
            metrics: Metrics::new(),
            decisions,
            hooks: adapters::hooks(&settings.hooks).into_iter().collect(),
            draining: AtomicBool::new(false),
            reloading: tokio::sync::Mutex::new(()),
            settings,
        }
    }
}

/// The routes, with [`layers`].
pub fn router(app: Arc<App>) -> Router {
    let routes = Router::new()
        .route("/v1/login", post(api::native_default))
        .route("/v1/pipelines/{name}/login", post(api::native_named))
        .route("/v1/hooks/{*route}", post(api::hook_default))
        .route("/v1/pipelines/{name}/hooks/{*route}", post(api::hook_named))
        .route("/v1/data/{*path}", post(api::opa))
        .route("/v1/pipelines", get(api::pipelines))
        .route("/v1/admin/reload", post(api::reload))
        .route("/health", get(api::health))
        .route("/ready", get(api::ready))
        .route("/metrics", get(api::metrics))
        .route("/openapi.json", get(api::openapi))
        .fallback(api::not_found)
        .with_state(app.clone());
    layers(routes, app)
}

/// What wraps every route: a panic becomes a JSON 500 and a metric (the server keeps
/// serving), and each request gets a tracing span.
pub fn layers(routes: Router, app: Arc<App>) -> Router {
    let panic_app = app;
    routes
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(move |_: Box<dyn std::any::Any + Send>| {
            panic_app.metrics.panics.inc();
            panic_app.metrics.reject("internal");
            tracing::error!("a request handler panicked; answered 500");
            api::error(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error", None)
        }))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

/// Loads every pipeline (blocking), reporting all failures at once.
pub fn load_all(settings: &Settings) -> Result<state::Pipelines, Vec<LoadFailure>> {
    let mut loaded = state::Pipelines::new();
    let mut failures = Vec::new();
    for spec in &settings.pipelines {
        match state::load(spec, settings) {
            Ok(l) => {
                loaded.insert(spec.name.clone(), Arc::new(l));
            }
            Err(f) => failures.push(f),
        }
    }
    if failures.is_empty() { Ok(loaded) } else { Err(failures) }
}

/// Reloads every pipeline (see [`state::reload`]) and records it: metrics and logs.
pub async fn reload(app: &Arc<App>, trigger: &str) -> ReloadReport {
    let _one = app.reloading.lock().await;
    let a = app.clone();
    let report = match tokio::task::spawn_blocking(move || state::reload(&a.registry, &a.settings)).await {
        Ok(r) => r,
        Err(e) => {
            app.metrics.panics.inc();
            ReloadReport {
                failed: vec![LoadFailure {
                    pipeline: "*".into(),
                    source: String::new(),
                    error: format!("the reload panicked: {e}"),
                }],
                ..ReloadReport::default()
            }
        }
    };
    for (name, hash) in &report.reloaded {
        app.metrics.reloads.get_or_create(&ReloadLabels { pipeline: name.clone(), result: "reloaded" }).inc();
        tracing::info!(pipeline = %name, hash = %hash, trigger, "reloaded");
    }
    for name in &report.unchanged {
        app.metrics.reloads.get_or_create(&ReloadLabels { pipeline: name.clone(), result: "unchanged" }).inc();
        tracing::debug!(pipeline = %name, trigger, "reload: unchanged");
    }
    for f in &report.failed {
        app.metrics.reloads.get_or_create(&ReloadLabels { pipeline: f.pipeline.clone(), result: "failed" }).inc();
        tracing::error!(pipeline = %f.pipeline, trigger, error = %f.error, "reload failed; the running version keeps serving");
    }
    publish_info(app);
    report
}

fn publish_info(app: &App) {
    app.metrics.pipeline_info.clear();
    for p in app.registry.all().values() {
        app.metrics.pipeline_info.get_or_create(&InfoLabels { pipeline: p.name.clone(), hash: p.hash.clone() }).set(1);
    }
}

/// A running server.
#[derive(Debug)]
pub struct Running {
    pub addr: SocketAddr,
    pub app: Arc<App>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    _watcher: Option<notify::RecommendedWatcher>,
}

impl Running {
    /// Stops accepting, lets in-flight requests finish, and returns when they have.
    pub async fn shutdown(self) -> std::io::Result<()> {
        self.app.draining.store(true, Ordering::SeqCst);
        let _ = self.stop.send(true);
        self.task.await.unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }

    /// Asks for a drain without waiting (a signal handler's part).
    pub fn begin_shutdown(&self) {
        self.app.draining.store(true, Ordering::SeqCst);
        let _ = self.stop.send(true);
    }
}

/// Loads the pipelines, binds, and serves in the background of the current tokio runtime.
pub async fn start(settings: Settings) -> Result<Running, StartError> {
    settings.validate().map_err(StartError::Settings)?;
    let s2 = settings.clone();
    let pipelines = tokio::task::spawn_blocking(move || load_all(&s2))
        .await
        .map_err(|e| StartError::Settings(format!("loading panicked: {e}")))?
        .map_err(StartError::Load)?;
    let decisions = match &settings.decision_log {
        Some(d) => Some(DecisionLog::start(d.clone()).map_err(StartError::DecisionLog)?),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|source| StartError::Bind { addr: settings.listen, source })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind { addr: settings.listen, source })?;
    let app = Arc::new(App::new(settings, pipelines, decisions));
    publish_info(&app);
    let watcher = if app.settings.watch { Some(watch_files(app.clone())?) } else { None };
    let (stop, mut stopped) = watch::channel(false);
    let router = router(app.clone());
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|s| *s).await;
            })
            .await
    });
    for p in app.registry.all().values() {
        tracing::info!(pipeline = %p.name, hash = %p.hash, js_workers = p.pipeline.js_in_workers(), "serving");
    }
    Ok(Running { addr, app, stop, task, _watcher: watcher })
}

/// Watches the directories of every pipeline's manifest (recursively: rules, lists and
/// modules live under it) or artifact; a change reloads, debounced.
fn watch_files(app: Arc<App>) -> Result<notify::RecommendedWatcher, StartError> {
    use notify::{RecursiveMode, Watcher};
    let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
    let ignore: Option<std::path::PathBuf> =
        app.settings.decision_log.as_ref().map(|d| d.to.clone()).and_then(|p| std::fs::canonicalize(p).ok());
    let mut dirs = Vec::new();
    for spec in &app.settings.pipelines {
        let (dir, mode) = match &spec.source {
            Source::Manifest(p) => (p.parent(), RecursiveMode::Recursive),
            Source::Bundle { path, .. } => (path.parent(), RecursiveMode::NonRecursive),
        };
        let dir = match dir {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        let dir = std::fs::canonicalize(&dir).map_err(|e| StartError::Watch(format!("{}: {e}", dir.display())))?;
        dirs.push((dir, mode));
    }
    let roots: Vec<std::path::PathBuf> = dirs.iter().map(|(d, _)| d.clone()).collect();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if matches!(event.kind, notify::EventKind::Access(_)) {
            return;
        }
        // Below a watched folder, skip the decision log, build output, dependencies and
        // hidden files (editors' swap files); Kubernetes' `..data` links are not hidden.
        let relevant = event.paths.iter().any(|p| {
            if ignore.as_ref().is_some_and(|i| p == i) {
                return false;
            }
            let below = roots.iter().find_map(|r| p.strip_prefix(r).ok()).unwrap_or(p.as_path());
            !below.components().any(|c| {
                let c = c.as_os_str().to_string_lossy();
                c == "target" || c == "node_modules" || (c.starts_with('.') && !c.starts_with("..data"))
            })
        });
        if relevant {
            let _ = tx.try_send(());
        }
    })
    .map_err(|e| StartError::Watch(e.to_string()))?;
    for (dir, mode) in &dirs {
        watcher.watch(dir, *mode).map_err(|e| StartError::Watch(format!("{}: {e}", dir.display())))?;
    }
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            // Let an editor or a deploy finish writing every file first.
            tokio::time::sleep(Duration::from_millis(300)).await;
            while rx.try_recv().is_ok() {}
            reload(&app, "watch").await;
        }
    });
    Ok(watcher)
}

/// `warden serve`: starts a runtime, serves until SIGTERM or SIGINT (draining in-flight
/// logins), reloads on SIGHUP. `announce` receives the bound address once listening.
pub fn run(settings: Settings, announce: impl FnOnce(SocketAddr)) -> Result<(), StartError> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        // Every login in flight may hold one blocking thread (waiting on a JavaScript worker
        // holds no CPU); reloads and the decision log need a few more.
        .max_blocking_threads(settings.concurrency + 8)
        .enable_all()
        .build()
        .map_err(|e| StartError::Settings(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async move {
        let running = start(settings).await?;
        announce(running.addr);
        serve_signals(running).await;
        Ok(())
    })
}

#[cfg(unix)]
async fn serve_signals(running: Running) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int), Ok(mut hup)) =
        (signal(SignalKind::terminate()), signal(SignalKind::interrupt()), signal(SignalKind::hangup()))
    else {
        tracing::error!("cannot install signal handlers; serving until killed");
        let _ = running.task.await;
        return;
    };
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = hup.recv() => {
                let app = running.app.clone();
                tokio::spawn(async move { reload(&app, "SIGHUP").await; });
            }
        }
    }
    let wait = running.app.settings.shutdown_wait;
    running.app.draining.store(true, Ordering::SeqCst);
    if !wait.is_zero() {
        tracing::info!("draining: /ready answers 503; still serving for {} ms", wait.as_millis());
        tokio::time::sleep(wait).await;
    }
    tracing::info!("draining: finishing the logins in flight");
    match running.shutdown().await {
        Ok(()) => tracing::info!("stopped"),
        Err(e) => tracing::error!("server error: {e}"),
    }
}

#[cfg(not(unix))]
async fn serve_signals(running: Running) {
    let _ = tokio::signal::ctrl_c().await;
    let _ = running.shutdown().await;
}

/// Logs to stderr: `text` (the default) or `json`; the level from `WARDEN_LOG` (default
/// `info`), e.g. `WARDEN_LOG=debug` or `WARDEN_LOG=warden_server=debug,tower_http=debug`.
pub fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WARDEN_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,cranelift_jit=warn,cranelift_codegen=warn,regalloc2=warn")
    });
    use std::io::IsTerminal;
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}
