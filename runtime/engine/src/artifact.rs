//! Building and loading ahead-of-time artifacts (`warden build`, `warden run --bundle`).

use std::collections::BTreeMap;

use warden_artifact::{Contents, PublicKey, SecretKey};

use crate::{LoadError, Pipeline, Refusal};

/// What an artifact holds, as `warden inspect` shows it: read after its integrity was
/// verified, without loading it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inspection {
    pub format_version: u32,
    pub ir_version: u32,
    pub warden_version: String,
    /// The QuickJS its JavaScript bytecode was compiled by, when it has JavaScript rules.
    pub quickjs_version: Option<String>,
    /// The SHA-256 of the header and body.
    pub hash: [u8; 32],
    pub signed: bool,
    /// `None` when no key was given; else whether the signature matched it.
    pub signature_ok: Option<bool>,
    /// The claim mode (`strict`, ...).
    pub claim_mode: String,
    /// The pipeline's steps, in order.
    pub steps: Vec<InspectedStep>,
    /// Vendored CommonJS modules.
    pub modules: Vec<InspectedModule>,
    /// Configuration keys and where each gets its value.
    pub config: Vec<warden_artifact::ConfigKey>,
    /// Lists and literal sets: where each came from and how many entries it has.
    pub sets: Vec<(String, usize)>,
}

/// One step of an inspected artifact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InspectedStep {
    /// A `.rule` rule: its name, file and line.
    Rule { name: String, file: String, line: u32 },
    /// A JavaScript rule: its name, file and bytecode size (`None` when unsigned).
    Js { name: String, file: String, bytecode_bytes: Option<usize> },
}

/// A vendored module of an inspected artifact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InspectedModule {
    pub name: String,
    pub file: String,
    /// Its bytecode size (`None` when the artifact carries no bytecode).
    pub bytecode_bytes: Option<usize>,
}

impl Inspection {
    fn new(header: warden_artifact::Header, contents: Contents, signature_ok: Option<bool>) -> Inspection {
        let prog = &contents.program;
        let file = |i: u32| prog.files.get(i as usize).cloned().unwrap_or_else(|| "?".into());
        let code = contents.js_bytecode.as_ref();
        let steps = prog
            .steps
            .iter()
            .map(|step| match *step {
                warden_ir::Step::Rule(id) => {
                    let r = &prog.rules[id.index()];
                    InspectedStep::Rule { name: r.name.clone(), file: file(r.loc.file), line: r.loc.line }
                }
                warden_ir::Step::Js(id) => {
                    let j = &prog.js_rules[id as usize];
                    let bytecode_bytes = code.and_then(|c| c.rules.get(id as usize)).map(|h| h.len() / 2);
                    InspectedStep::Js { name: j.name.clone(), file: file(j.file), bytecode_bytes }
                }
            })
            .collect();
        let modules = prog
            .js_modules
            .iter()
            .enumerate()
            .map(|(n, m)| InspectedModule {
                name: m.name.clone(),
                file: file(m.file),
                bytecode_bytes: code.and_then(|c| c.modules.get(n)).map(|h| h.len() / 2),
            })
            .collect();
        Inspection {
            format_version: header.format_version,
            ir_version: header.ir_version,
            warden_version: header.warden_version,
            quickjs_version: header.quickjs_version,
            hash: header.hash,
            signed: header.signed,
            signature_ok,
            claim_mode: format!("{:?}", prog.options.claim_mode).to_lowercase(),
            steps,
            modules,
            sets: prog.sets.iter().map(|s| (s.origin.clone(), s.items.len())).collect(),
            config: contents.config,
        }
    }
}

impl Pipeline {
    /// The pipeline as an artifact: the checked program, its sources and its configuration
    /// keys. The manifest's literal `[configuration]` values are policy and travel in the
    /// artifact, so that it decides like the sources it was built from; values the manifest
    /// takes from environment variables are secrets and never do (the artifact records the
    /// variable's name). Signed when a key is given. Reproducible: the same sources give the
    /// same bytes.
    pub fn to_artifact(&self, sign: Option<&SecretKey>) -> Vec<u8> {
        let mut config: Vec<warden_artifact::ConfigKey> = self
            .config_spec
            .iter()
            .map(|k| warden_artifact::ConfigKey {
                key: k.key.clone(),
                env: k.env.clone(),
                value: if k.env.is_none() { k.value.clone() } else { None },
                ty: k.ty,
            })
            .collect();
        // Keys read without a [configuration] table are needed too.
        for slot in &self.program.slots {
            if slot.root == warden_ir::Root::Config
                && let Some(key) = slot.path.first()
                && !config.iter().any(|k| &k.key == key)
            {
                config.push(warden_artifact::ConfigKey {
                    key: key.clone(),
                    env: None,
                    value: None,
                    ty: warden_ir::ConfigType::Str,
                });
            }
        }
        let js_bytecode = self.js.as_ref().map(|js| warden_artifact::JsBytecode {
            rules: js.bytecode().rules.iter().map(hex::encode).collect(),
            modules: js.bytecode().modules.iter().map(hex::encode).collect(),
        });
        let has_js = js_bytecode.is_some();
        let contents =
            Contents { program: (*self.program).clone(), sources: self.sources.clone(), config, js_bytecode };
        warden_artifact::write(&contents, sign, has_js.then_some(warden_js::quickjs_version()))
    }

    /// Loads an artifact: verifies it (header, versions, hash, and the signature when a key
    /// is given: then an unsigned or differently signed artifact is refused), then compiles
    /// the JIT from its program. No parsing or checking happens here. JavaScript rules load
    /// from the artifact's QuickJS bytecode when the signature was verified with `verify`;
    /// without a key they are compiled from the artifact's sources (QuickJS cannot check
    /// bytecode, and anyone can recompute a hash).
    /// `config` gives configuration values; every key the artifact needs must have one, and
    /// keys it does not name are kept too (as [`Pipeline::set_config`] keeps them).
    pub fn from_artifact(
        bytes: &[u8],
        verify: Option<&PublicKey>,
        config: &BTreeMap<String, String>,
    ) -> Result<Pipeline, LoadError> {
        let (header, contents) = warden_artifact::read(bytes, verify).map_err(|e| LoadError::Refused(e.into()))?;
        // QuickJS trusts bytecode, and a hash proves integrity, not origin: the bytecode is
        // used only when a signature by the caller's key was verified. Otherwise the
        // JavaScript is compiled from the sources the artifact carries.
        let bytecode = if verify.is_some() { js_bytecode(&header, &contents)? } else { None };
        let spec: Vec<warden_artifact::ConfigKey> = contents
            .config
            .iter()
            .map(|k| warden_artifact::ConfigKey {
                key: k.key.clone(),
                env: k.env.clone(),
                value: config.get(&k.key).cloned().or_else(|| k.value.clone()),
                ty: k.ty,
            })
            .collect();
        let missing: Vec<crate::MissingConfig> = spec
            .iter()
            .filter(|k| {
                k.value.is_none() && k.env.as_ref().is_none_or(|e| std::env::var(e).map_or(true, |v| v.is_empty()))
            })
            .map(|k| crate::MissingConfig { key: k.key.clone(), env: k.env.clone() })
            .collect();
        if !missing.is_empty() {
            return Err(LoadError::Refused(Refusal::MissingConfig(missing)));
        }
        let given = config;
        let (mut config, missing) = crate::resolve_config(&spec);
        // Keys the artifact does not name still reach the pipeline, as `set_config` gives
        // them: JavaScript rules read any key of `configuration`.
        for (key, value) in given {
            config.entry(key.clone()).or_insert_with(|| value.clone());
        }
        // Typed values are parsed as the artifact's program declares them.
        let config = crate::Config::new(&contents.program, config).map_err(LoadError::Config)?;
        let js =
            crate::load_js(&contents.program, &contents.sources, config.strings(), bytecode).map_err(|errors| {
                let (path, message) = errors.into_iter().next().map_or_else(Default::default, |e| (e.path, e.message));
                LoadError::Unsupported(crate::Unsupported::JsRule { path, message })
            })?;
        // The hash of what the artifact carries, whatever values were given at load.
        let hash = crate::content_hash(&contents.program, &contents.sources, &contents.config);
        Pipeline::assemble(contents.program, contents.sources, spec, Vec::new(), js, config, missing, hash)
    }

    /// Loads an artifact file (read bounded: a regular file of at most 256 MiB), verified
    /// with the public key in `verify_key`, or else with the one a manifest's `[bundle]
    /// verify_key` names (only the manifest's settings are read: its rules are not checked;
    /// a manifest that names no key refuses the artifact), or else unverified. `config` as in [`Pipeline::from_artifact`].
    pub fn from_artifact_file(
        path: &std::path::Path,
        verify_key: Option<&std::path::Path>,
        manifest: Option<&std::path::Path>,
        config: &BTreeMap<String, String>,
    ) -> Result<Pipeline, LoadError> {
        let key_path = match (verify_key, manifest) {
            (Some(k), _) => Some(k.to_path_buf()),
            (None, Some(m)) => match crate::read_manifest(m) {
                Ok(manifest) => match manifest.verify_key {
                    Some(k) => Some(k),
                    None => return Err(LoadError::Refused(Refusal::NoVerifyKey(m.display().to_string()))),
                },
                Err(_) => return Err(LoadError::Refused(Refusal::Manifest(m.display().to_string()))),
            },
            (None, None) => None,
        };
        let key = match key_path {
            Some(p) => Some(crate::files::read_public_key(&p).map_err(|e| LoadError::Refused(e.into()))?),
            None => None,
        };
        let bytes = crate::files::read_artifact(path)
            .map_err(|reason| LoadError::Refused(Refusal::Read { path: path.display().to_string(), reason }))?;
        Pipeline::from_artifact(&bytes, key.as_ref(), config)
    }

    /// Reads what an artifact holds, verifying its integrity (and its signature when a key
    /// is given) but not requiring configuration.
    pub fn inspect_artifact(bytes: &[u8], verify: Option<&PublicKey>) -> Result<Inspection, LoadError> {
        let (header, contents) = warden_artifact::read(bytes, None).map_err(|e| LoadError::Refused(e.into()))?;
        let signature_ok = verify.map(|k| warden_artifact::verify(bytes, Some(k)).is_ok());
        Ok(Inspection::new(header, contents, signature_ok))
    }
}

/// The JavaScript bytecode of an artifact whose signature was verified, refused unless it
/// was compiled by the QuickJS this warden embeds and matches the program's rules and
/// modules.
fn js_bytecode(
    header: &warden_artifact::Header,
    contents: &Contents,
) -> Result<Option<crate::VerifiedBytecode>, LoadError> {
    let program = &contents.program;
    let refuse = |why: &'static str| Err(LoadError::Refused(Refusal::Bytecode(why)));
    if program.js_rules.is_empty() && program.js_modules.is_empty() {
        return Ok(None);
    }
    if header.quickjs_version.as_deref() != Some(warden_js::quickjs_version()) {
        return Err(LoadError::Refused(Refusal::QuickJs { found: header.quickjs_version.clone() }));
    }
    let Some(code) = &contents.js_bytecode else {
        return refuse("it has JavaScript rules but no bytecode");
    };
    if code.rules.len() != program.js_rules.len() || code.modules.len() != program.js_modules.len() {
        return refuse("its JavaScript bytecode does not match its rules and modules");
    }
    let decode = |items: &[String]| -> Result<Vec<Vec<u8>>, LoadError> {
        items
            .iter()
            .map(|h| hex::decode(h).map_err(|_| LoadError::Refused(Refusal::Bytecode("bytecode is not hexadecimal"))))
            .collect()
    };
    Ok(Some(crate::VerifiedBytecode(warden_js::Bytecode {
        rules: decode(&code.rules)?,
        modules: decode(&code.modules)?,
    })))
}
