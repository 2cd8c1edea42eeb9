//! The pipelines being served, swapped whole on reload (ARCHITECTURE.md, "JavaScript
//! execution model": a login keeps the version it started on).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use arc_swap::ArcSwap;
use serde::Serialize;
use warden::{LoadError, Pipeline};

use crate::settings::{PipelineSpec, Settings, Source};

/// One loaded version of a pipeline.
#[derive(Debug)]
pub struct Loaded {
    pub name: String,
    pub pipeline: Pipeline,
    /// [`Pipeline::content_hash`] in hexadecimal.
    pub hash: String,
    pub loaded_at: SystemTime,
    /// Whether the pipeline has JavaScript rules (their logins always go to the blocking pool).
    pub has_js: bool,
}

/// Every pipeline served, by name.
pub type Pipelines = BTreeMap<String, Arc<Loaded>>;

/// Why one pipeline did not (re)load, as the reload response and the log say it.
#[derive(Clone, Debug, Serialize)]
pub struct LoadFailure {
    pub pipeline: String,
    pub source: String,
    /// A short reason (the first lines of the check report for sources).
    pub error: String,
}

/// What one reload did, per pipeline.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ReloadReport {
    /// Pipelines now serving a new version: name and new hash.
    pub reloaded: Vec<(String, String)>,
    /// Pipelines whose content did not change.
    pub unchanged: Vec<String>,
    /// Pipelines that failed to load and keep serving their running version.
    pub failed: Vec<LoadFailure>,
}

impl ReloadReport {
    pub fn ok(&self) -> bool {
        self.failed.is_empty()
    }
}

/// Loads one pipeline completely (checked, compiled, JavaScript loaded, signature verified)
/// or says why not. Blocking: compiles rules.
pub fn load(spec: &PipelineSpec, settings: &Settings) -> Result<Loaded, LoadFailure> {
    let fail = |error: String| LoadFailure { pipeline: spec.name.clone(), source: spec.source.to_string(), error };
    let mut pipeline = match &spec.source {
        Source::Manifest(path) => Pipeline::from_manifest(path),
        Source::Bundle { path, verify_key, manifest } => {
            Pipeline::from_artifact_file(path, verify_key.as_deref(), manifest.as_deref(), &settings.config)
        }
    }
    .map_err(|e| fail(load_error_text(&e)))?;
    for (k, v) in &settings.config {
        pipeline.set_config(k, v).map_err(|e| fail(e.to_string()))?;
    }
    // A key without a value would refuse every login that reads it: refuse the pipeline now.
    let missing = pipeline.missing_config();
    if !missing.is_empty() {
        return Err(fail(format!(
            "configuration without a value: {}: set the environment variables or pass --config KEY=VALUE",
            warden::MissingConfig::list(&missing)
        )));
    }
    let hash = pipeline.content_hash_hex();
    let has_js = !pipeline.program().js_rules.is_empty();
    Ok(Loaded { name: spec.name.clone(), pipeline, hash, loaded_at: SystemTime::now(), has_js })
}

/// A load error in a few lines: the diagnostics' codes and messages for sources.
pub fn load_error_text(e: &LoadError) -> String {
    match e {
        LoadError::Refused(warden::Refusal::MissingConfig(_)) => {
            format!("{e}: set the environment variables or pass --config KEY=VALUE")
        }
        LoadError::Check(report) => {
            let errors: Vec<String> = report
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .map(|d| {
                    let at = match (d.file, d.span) {
                        (Some(f), Some(span)) if (f as usize) < report.sources.files.len() => {
                            let file = report.sources.get(f);
                            let (line, col) = file.line_col(span.start);
                            format!(" ({}:{line}:{col})", file.path)
                        }
                        _ => String::new(),
                    };
                    format!("error[{}]: {}{at}", d.code, d.message)
                })
                .collect();
            format!("the pipeline does not check: {}", errors.join("; "))
        }
        _ => e.to_string(),
    }
}

/// The pipelines, replaced whole: a reader takes the map (and within it the `Arc` of each
/// version) once per request.
#[derive(Debug)]
pub struct Registry {
    current: ArcSwap<Pipelines>,
}

impl Registry {
    pub fn new(pipelines: Pipelines) -> Registry {
        Registry { current: ArcSwap::from_pointee(pipelines) }
    }

    /// The version of `name` serving now.
    pub fn get(&self, name: &str) -> Option<Arc<Loaded>> {
        self.current.load().get(name).cloned()
    }

    pub fn all(&self) -> Arc<Pipelines> {
        self.current.load_full()
    }

    /// Installs a new map at once.
    pub fn replace(&self, pipelines: Pipelines) {
        self.current.store(Arc::new(pipelines));
    }
}

/// Loads every pipeline anew; those that load and changed replace their running versions,
/// all in one swap; those that fail keep theirs. Blocking.
pub fn reload(registry: &Registry, settings: &Settings) -> ReloadReport {
    let running = registry.all();
    let mut next: Pipelines = (*running).clone();
    let mut report = ReloadReport::default();
    for spec in &settings.pipelines {
        match load(spec, settings) {
            Ok(new) => {
                let same = running.get(&spec.name).is_some_and(|old| old.hash == new.hash);
                if same {
                    report.unchanged.push(spec.name.clone());
                } else {
                    report.reloaded.push((spec.name.clone(), new.hash.clone()));
                    next.insert(spec.name.clone(), Arc::new(new));
                }
            }
            Err(failure) => report.failed.push(failure),
        }
    }
    if !report.reloaded.is_empty() {
        registry.replace(next);
    }
    report
}
