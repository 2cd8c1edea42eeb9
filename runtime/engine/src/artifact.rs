//! Building and loading ahead-of-time artifacts (`warden build`, `warden run --bundle`).

use std::collections::BTreeMap;

use warden_artifact::{Contents, PublicKey, SecretKey};

use crate::{LoadError, Pipeline};

/// What `warden inspect` shows.
#[derive(Debug)]
pub struct Inspection {
    pub header: warden_artifact::Header,
    pub contents: Contents,
    /// `None` when no key was given; else whether the signature matched it.
    pub signature_ok: Option<bool>,
}

impl Pipeline {
    /// The pipeline as an artifact: the checked program, its sources and its configuration
    /// keys. Configuration values are left out unless `embed_config` (secrets stay out of
    /// artifacts by default). Signed when a key is given. Reproducible: the same sources give
    /// the same bytes.
    pub fn to_artifact(&self, sign: Option<&SecretKey>, embed_config: bool) -> Vec<u8> {
        let mut config: Vec<warden_artifact::ConfigKey> = self
            .config_spec
            .iter()
            .map(|k| warden_artifact::ConfigKey {
                key: k.key.clone(),
                env: k.env.clone(),
                value: if embed_config { k.value.clone() } else { None },
            })
            .collect();
        // Keys read without a [configuration] table are needed too.
        for slot in &self.program.slots {
            if slot.root == warden_ir::Root::Config
                && let Some(key) = slot.path.first()
                && !config.iter().any(|k| &k.key == key)
            {
                config.push(warden_artifact::ConfigKey { key: key.clone(), env: None, value: None });
            }
        }
        let contents = Contents { program: (*self.program).clone(), sources: self.sources.clone(), config };
        let has_js = !self.program.js_rules.is_empty() || !self.program.js_modules.is_empty();
        warden_artifact::write(&contents, sign, has_js.then_some(warden_js::QUICKJS_VERSION))
    }

    /// Loads an artifact: verifies it (header, versions, hash, and the signature when a key
    /// is given: then an unsigned or differently signed artifact is refused), then compiles
    /// the JIT from its program. No parsing or checking of rules happens here.
    /// `config` gives configuration values; every key the artifact needs must have one.
    pub fn from_artifact(
        bytes: &[u8],
        verify: Option<&PublicKey>,
        config: &BTreeMap<String, String>,
    ) -> Result<Pipeline, LoadError> {
        let (_, contents) = warden_artifact::read(bytes, verify).map_err(|e| LoadError::Refused(e.to_string()))?;
        let spec: Vec<warden_artifact::ConfigKey> = contents
            .config
            .iter()
            .map(|k| warden_artifact::ConfigKey {
                key: k.key.clone(),
                env: k.env.clone(),
                value: config.get(&k.key).cloned().or_else(|| k.value.clone()),
            })
            .collect();
        let missing: Vec<String> = spec
            .iter()
            .filter(|k| k.value.is_none() && k.env.as_ref().is_none_or(|e| std::env::var(e).is_err()))
            .map(|k| match &k.env {
                Some(env) => format!("`{}` (environment variable `{env}`)", k.key),
                None => format!("`{}`", k.key),
            })
            .collect();
        if !missing.is_empty() {
            return Err(LoadError::Refused(format!(
                "artifact refused: it needs configuration {}: pass --config KEY=VALUE",
                missing.join(", ")
            )));
        }
        Pipeline::assemble(contents.program, contents.sources, spec, Vec::new())
    }

    /// Reads what an artifact holds, verifying its integrity (and its signature when a key
    /// is given) but not requiring configuration.
    pub fn inspect_artifact(bytes: &[u8], verify: Option<&PublicKey>) -> Result<Inspection, LoadError> {
        let (header, contents) = warden_artifact::read(bytes, None).map_err(|e| LoadError::Refused(e.to_string()))?;
        let signature_ok = verify.map(|k| warden_artifact::verify(bytes, Some(k)).is_ok());
        Ok(Inspection { header, contents, signature_ok })
    }
}
