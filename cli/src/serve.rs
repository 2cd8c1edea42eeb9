//! `warden serve`: the arguments, turned into the server's settings.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use warden_server::decisions::DecisionLogSettings;
use warden_server::{PipelineSpec, Settings, Source};

use crate::{EXIT_ERROR, EXIT_USAGE, ServeArgs};

/// The optional settings file (`--settings`): what does not fit in flags.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsFile {
    decision_log: Option<DecisionLogSettings>,
    #[serde(default)]
    hooks: warden_server::adapters::HookOptions,
}

/// `NAME=PATH` or `PATH` (named `default`).
fn named(arg: &str) -> (String, PathBuf) {
    match arg.split_once('=') {
        Some((name, path)) if warden_server::settings::valid_name(name) && !path.is_empty() => {
            (name.to_string(), PathBuf::from(path))
        }
        _ => ("default".to_string(), PathBuf::from(arg)),
    }
}

fn read_keys(file: Option<&Path>, env: &str) -> Result<Vec<String>, String> {
    let mut keys = Vec::new();
    if let Some(path) = file {
        let text = warden::files::read_text_file(path, warden::files::MAX_KEY_FILE_BYTES)
            .map_err(|e| format!("cannot read the keys file `{}`: {e}", path.display()))?;
        keys.extend(warden_server::auth::parse_keys(&text).map_err(|m| format!("`{}`: {m}", path.display()))?);
    }
    if let Ok(text) = std::env::var(env) {
        keys.extend(warden_server::auth::parse_keys(&text).map_err(|m| format!("{env}: {m}"))?);
    }
    Ok(keys)
}

/// The settings `warden serve` runs with, or a usage error.
pub fn settings(a: &ServeArgs) -> Result<Settings, String> {
    let mut pipelines = Vec::new();
    for m in &a.manifest {
        let (name, path) = named(m);
        pipelines.push(PipelineSpec { name, source: Source::Manifest(path) });
    }
    for b in &a.bundle {
        let (name, path) = named(b);
        pipelines.push(PipelineSpec {
            name,
            source: Source::Bundle { path, verify_key: a.verify_key.clone(), manifest: a.verify_manifest.clone() },
        });
    }
    if pipelines.is_empty() {
        let here = PathBuf::from("warden.toml");
        if !here.is_file() {
            return Err("no pipeline to serve: give --manifest [NAME=]PATH or --bundle [NAME=]PATH, \
                        or run in a folder that holds a warden.toml"
                .into());
        }
        pipelines.push(PipelineSpec { name: "default".into(), source: Source::Manifest(here) });
    }
    let file: SettingsFile = match &a.settings {
        Some(path) => {
            let text = warden::files::read_text_file(path, 1024 * 1024)
                .map_err(|e| format!("cannot read the settings `{}`: {e}", path.display()))?;
            toml::from_str(&text).map_err(|e| format!("the settings `{}`: {e}", path.display()))?
        }
        None => SettingsFile::default(),
    };
    let mut s = Settings::new(pipelines);
    s.listen = a.listen;
    s.config = a.config.iter().cloned().collect();
    s.login_keys = read_keys(a.api_keys_file.as_deref(), "WARDEN_API_KEYS")?;
    s.admin_keys = read_keys(a.admin_keys_file.as_deref(), "WARDEN_ADMIN_KEYS")?;
    s.no_auth = a.no_auth;
    s.body_limit = a.max_body;
    s.concurrency = a.concurrency;
    s.timeout = a.timeout_ms.map(std::time::Duration::from_millis);
    s.watch = a.watch;
    s.inline_max_body = a.inline_max_body;
    s.shutdown_wait = std::time::Duration::from_millis(a.shutdown_wait_ms);
    s.hooks = file.hooks;
    s.decision_log = match (&a.decision_log, file.decision_log) {
        (Some(to), from_file) => Some(DecisionLogSettings { to: to.clone(), ..from_file.unwrap_or_default() }),
        (None, from_file) => from_file,
    };
    s.validate()?;
    Ok(s)
}

/// Runs the server until SIGTERM; prints `listening on http://ADDR` on stdout first.
pub fn command(a: &ServeArgs) -> u8 {
    let settings = match settings(a) {
        Ok(s) => s,
        Err(m) => {
            eprintln!("error: {m}");
            return EXIT_USAGE;
        }
    };
    warden_server::init_logging(a.log_format == LogFormat::Json);
    // JavaScript runs in worker processes unless WARDEN_JS_IN_PROCESS=1 said otherwise.
    if let Some(workers) = warden::js_isolation() {
        let runs_per_worker = a.js_runs_per_worker as usize;
        warden::set_js_isolation(Some(warden::JsWorkers { runs_per_worker, ..workers }));
    }
    let unverified: Vec<&str> = settings
        .pipelines
        .iter()
        .filter(|p| matches!(&p.source, Source::Bundle { verify_key: None, manifest: None, .. }))
        .map(|p| p.name.as_str())
        .collect();
    if !unverified.is_empty() {
        eprintln!(
            "warning: artifacts served without --verify-key are not checked for a signature: {}",
            unverified.join(", ")
        );
    }
    let result = warden_server::run(settings, |addr: SocketAddr| {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on http://{addr}");
        let _ = out.flush();
    });
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_ERROR
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}
