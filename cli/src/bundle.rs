//! `warden build`, `warden inspect`, `warden keygen`, and loading artifacts for
//! `warden run --bundle`.

use std::io::Write;
use std::path::Path;

use warden::files::{read_public_key, read_secret_key};
use warden::{InspectedStep, LoadError, Pipeline};

use crate::{BuildArgs, EXIT_ERROR, InspectArgs, KeygenArgs, Output, RunArgs, render};

/// Loads an artifact for `warden run --bundle`: the verification key comes from
/// `--verify-key`, or from the manifest's `[bundle] verify_key` when `--manifest` is given.
pub(crate) fn load_bundle(a: &RunArgs, bundle: &Path) -> Result<Pipeline, LoadError> {
    let config: std::collections::BTreeMap<String, String> = a.config.iter().cloned().collect();
    Pipeline::from_artifact_file(bundle, a.verify_key.as_deref(), a.manifest.as_deref(), &config)
}

pub(crate) fn build(a: &BuildArgs, style: render::Style, out: &mut Output) -> u8 {
    let pipeline = match Pipeline::from_manifest(&a.manifest) {
        Ok(p) => p,
        Err(LoadError::Check(mut c)) => {
            render::add_manifest_help(&mut c.diagnostics, &c.sources);
            out.stderr = render::render(&c.diagnostics, &c.sources, style);
            out.stderr.push_str(&format!("error: build failed: {}\n", render::summary(&c.diagnostics)));
            return EXIT_ERROR;
        }
        Err(e) => {
            out.stderr = format!("error: build failed: {}\n", crate::run::load_error_text(&e));
            return EXIT_ERROR;
        }
    };
    let key = match &a.sign_key {
        Some(p) => match read_secret_key(p) {
            Ok(k) => Some(k),
            Err(m) => {
                out.stderr = format!("error: {m}\n");
                return EXIT_ERROR;
            }
        },
        None => None,
    };
    if !pipeline.warnings().is_empty() {
        out.stderr = render::render(pipeline.warnings(), &pipeline.source_map(), style);
    }
    let bytes = pipeline.to_artifact(key.as_ref());
    if let Err(e) = std::fs::write(&a.output, &bytes) {
        out.stderr.push_str(&format!("error: cannot write `{}`: {e}\n", a.output.display()));
        return EXIT_ERROR;
    }
    let literal: Vec<&str> = pipeline
        .config_spec()
        .iter()
        .filter(|k| k.env.is_none() && k.value.is_some())
        .map(|k| k.key.as_str())
        .collect();
    if !literal.is_empty() {
        out.stderr.push_str(&format!(
            "note: the artifact carries the manifest's literal configuration values of {}; \
             give secrets as {{ env = \"NAME\" }} so that they never travel\n",
            literal.join(", ")
        ));
    }
    out.stderr.push_str(&format!(
        "built {} ({} bytes, {} rules, {})\n",
        a.output.display(),
        bytes.len(),
        pipeline.program().rules.len(),
        if key.is_some() { "signed" } else { "unsigned" }
    ));
    0
}

pub(crate) fn inspect(a: &InspectArgs, out: &mut Output) -> u8 {
    let key = match &a.verify_key {
        Some(p) => match read_public_key(p) {
            Ok(k) => Some(k),
            Err(m) => {
                out.stderr = format!("error: {m}\n");
                return EXIT_ERROR;
            }
        },
        None => None,
    };
    let bytes = match warden::files::read_artifact(&a.file) {
        Ok(b) => b,
        Err(e) => {
            out.stderr = format!("error: cannot read `{}`: {e}\n", a.file.display());
            return EXIT_ERROR;
        }
    };
    let i = match Pipeline::inspect_artifact(&bytes, key.as_ref()) {
        Ok(i) => i,
        Err(e) => {
            out.stderr = format!("error: {e}\n");
            return EXIT_ERROR;
        }
    };
    let mut s = String::new();
    s.push_str(&format!("artifact   {} ({} bytes)\n", a.file.display(), bytes.len()));
    s.push_str(&format!(
        "versions   format {}, IR {}, warden {}, QuickJS {}\n",
        i.format_version,
        i.ir_version,
        i.warden_version,
        i.quickjs_version.as_deref().unwrap_or("none (no JavaScript rules)")
    ));
    s.push_str(&format!("sha256     {}\n", i.hash.iter().map(|b| format!("{b:02x}")).collect::<String>()));
    let sig = match (i.signed, i.signature_ok) {
        (false, _) => "unsigned".to_string(),
        (true, None) => "signed (Ed25519; pass --verify-key to check it)".to_string(),
        (true, Some(true)) => "signed, and the signature matches the given key".to_string(),
        (true, Some(false)) => "signed, but NOT by the given key".to_string(),
    };
    s.push_str(&format!("signature  {sig}\n"));
    s.push_str(&format!("claim mode {}\n", i.claim_mode));
    s.push_str("rules (in order):\n");
    let size = |b: Option<usize>| b.map_or("no bytecode".to_string(), |n| format!("{n} bytes of bytecode"));
    for step in &i.steps {
        match step {
            InspectedStep::Rule { name, file, line } => s.push_str(&format!("  rule  {name:?}  {file}:{line}\n")),
            InspectedStep::Js { name, file, bytecode_bytes } => {
                s.push_str(&format!("  js    {name:?}  {file}  ({})\n", size(*bytecode_bytes)))
            }
        }
    }
    if !i.modules.is_empty() {
        s.push_str("modules (require):\n");
        for m in &i.modules {
            s.push_str(&format!("  {:?}  {}  ({})\n", m.name, m.file, size(m.bytecode_bytes)));
        }
    }
    s.push_str("configuration keys:\n");
    if i.config.is_empty() {
        s.push_str("  (none)\n");
    }
    for k in &i.config {
        let how = match (&k.value, &k.env) {
            (Some(_), _) => "value built in".to_string(),
            (None, Some(env)) => format!("from environment variable {env}, or --config"),
            (None, None) => "needs --config".to_string(),
        };
        let ty = if k.ty == warden::ConfigType::Str { String::new() } else { format!(": {}", k.ty.name()) };
        s.push_str(&format!("  {}{ty}  ({how})\n", k.key));
    }
    s.push_str("lists and sets:\n");
    if i.sets.is_empty() {
        s.push_str("  (none)\n");
    }
    for (origin, entries) in &i.sets {
        s.push_str(&format!("  {origin}  {entries} entries\n"));
    }
    out.stdout = s;
    0
}

pub(crate) fn keygen(a: &KeygenArgs, out: &mut Output) -> u8 {
    let key = match warden::files::generate_key() {
        Ok(k) => k,
        Err(m) => {
            out.stderr = format!("error: {m}\n");
            return EXIT_ERROR;
        }
    };
    let secret = a.output.with_extension("key");
    let public = a.output.with_extension("pub");
    if secret.exists() || public.exists() {
        out.stderr =
            format!("error: `{}` or `{}` exists: refusing to overwrite a key\n", secret.display(), public.display());
        return EXIT_ERROR;
    }
    if let Err(e) = write_secret(&secret, &warden::files::secret_key_text(&key))
        .and_then(|()| std::fs::write(&public, warden::files::public_key_text(&key.verifying_key())))
    {
        out.stderr = format!("error: cannot write the key pair: {e}\n");
        return EXIT_ERROR;
    }
    out.stderr = format!("wrote {} (secret) and {} (public)\n", secret.display(), public.display());
    0
}

/// Writes a secret key readable by its owner only (on Unix).
fn write_secret(path: &Path, text: &str) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(text.as_bytes())
}
