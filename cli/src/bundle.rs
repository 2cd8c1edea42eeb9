//! `warden build`, `warden inspect`, `warden keygen`, and loading artifacts for
//! `warden run --bundle`.

use std::io::Write;
use std::path::Path;

use warden::{LoadError, Pipeline};

use crate::{BuildArgs, EXIT_ERROR, InspectArgs, KeygenArgs, Output, RunArgs, render};

fn read_key_file(path: &Path) -> Result<String, String> {
    warden_check::read_text_file(path, warden_artifact::MAX_KEY_FILE_BYTES)
        .map_err(|e| format!("cannot read key `{}`: {e}", path.display()))
}

/// Loads an artifact for `warden run --bundle`: the verification key comes from
/// `--verify-key`, or from the manifest's `[bundle] verify_key` when `--manifest` is given.
pub(crate) fn load_bundle(a: &RunArgs, bundle: &Path) -> Result<Pipeline, LoadError> {
    let refused = LoadError::Refused;
    let key_path = match (&a.verify_key, &a.manifest) {
        (Some(k), _) => Some(k.clone()),
        (None, Some(m)) => match warden_check::check_manifest(m).manifest {
            Some(manifest) => manifest.verify_key,
            None => return Err(refused(format!("cannot read the manifest `{}`", m.display()))),
        },
        (None, None) => None,
    };
    let key = match key_path {
        Some(p) => Some(read_key_file(&p).and_then(|t| warden_artifact::parse_public_key(&t)).map_err(refused)?),
        None => None,
    };
    let bytes = read_bounded(bundle).map_err(refused)?;
    let config: std::collections::BTreeMap<String, String> = a.config.iter().cloned().collect();
    Pipeline::from_artifact(&bytes, key.as_ref(), &config)
}

fn read_bounded(path: &Path) -> Result<Vec<u8>, String> {
    warden_check::read_file(path, warden_artifact::MAX_ARTIFACT_BYTES as u64)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))
}

pub(crate) fn build(a: &BuildArgs, style: render::Style, out: &mut Output) -> u8 {
    let pipeline = match Pipeline::from_manifest(&a.manifest) {
        Ok(p) => p,
        Err(LoadError::Check(c)) => {
            out.stderr = render::render(&c.diagnostics, &c.sources, style);
            out.stderr.push_str(&format!("error: build failed: {}\n", render::summary(&c.diagnostics)));
            return EXIT_ERROR;
        }
        Err(e) => {
            out.stderr = format!("error: build failed: {e}\n");
            return EXIT_ERROR;
        }
    };
    let key = match &a.sign_key {
        Some(p) => match read_key_file(p).and_then(|t| warden_artifact::parse_secret_key(&t)) {
            Ok(k) => Some(k),
            Err(m) => {
                out.stderr = format!("error: {m}\n");
                return EXIT_ERROR;
            }
        },
        None => None,
    };
    if !pipeline.warnings().is_empty() {
        out.stderr = render::render(pipeline.warnings(), &source_map(&pipeline), style);
    }
    let bytes = pipeline.to_artifact(key.as_ref(), a.embed_config);
    if let Err(e) = std::fs::write(&a.output, &bytes) {
        out.stderr.push_str(&format!("error: cannot write `{}`: {e}\n", a.output.display()));
        return EXIT_ERROR;
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

fn source_map(p: &Pipeline) -> warden_syntax::SourceMap {
    let mut m = warden_syntax::SourceMap::default();
    for s in p.sources() {
        m.add(s.path.clone(), s.text.clone());
    }
    m
}

pub(crate) fn inspect(a: &InspectArgs, out: &mut Output) -> u8 {
    let key = match &a.verify_key {
        Some(p) => match read_key_file(p).and_then(|t| warden_artifact::parse_public_key(&t)) {
            Ok(k) => Some(k),
            Err(m) => {
                out.stderr = format!("error: {m}\n");
                return EXIT_ERROR;
            }
        },
        None => None,
    };
    let bytes = match read_bounded(&a.file) {
        Ok(b) => b,
        Err(m) => {
            out.stderr = format!("error: {m}\n");
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
    let prog = &i.contents.program;
    let mut s = String::new();
    s.push_str(&format!("artifact   {} ({} bytes)\n", a.file.display(), bytes.len()));
    s.push_str(&format!(
        "versions   format {}, IR {}, warden {}, QuickJS {}\n",
        i.header.format_version,
        i.header.ir_version,
        i.header.warden_version,
        i.header.quickjs_version.as_deref().unwrap_or("none (no JavaScript rules)")
    ));
    s.push_str(&format!("sha256     {}\n", i.header.hash.iter().map(|b| format!("{b:02x}")).collect::<String>()));
    let sig = match (i.header.signed, i.signature_ok) {
        (false, _) => "unsigned".to_string(),
        (true, None) => "signed (Ed25519; pass --verify-key to check it)".to_string(),
        (true, Some(true)) => "signed, and the signature matches the given key".to_string(),
        (true, Some(false)) => "signed, but NOT by the given key".to_string(),
    };
    s.push_str(&format!("signature  {sig}\n"));
    s.push_str(&format!("claim mode {}\n", format!("{:?}", prog.options.claim_mode).to_lowercase()));
    s.push_str("rules (in order):\n");
    for step in &prog.steps {
        match *step {
            warden_ir::Step::Rule(id) => {
                let r = &prog.rules[id.index()];
                let file = prog.files.get(r.loc.file as usize).map_or("?", String::as_str);
                s.push_str(&format!("  rule  {:?}  {file}:{}\n", r.name, r.loc.line));
            }
            warden_ir::Step::Js(id) => {
                let j = &prog.js_rules[id as usize];
                let file = prog.files.get(j.file as usize).map_or("?", String::as_str);
                let code = i.contents.js_bytecode.as_ref().and_then(|c| c.rules.get(id as usize));
                let size = code.map_or("no bytecode".to_string(), |h| format!("{} bytes of bytecode", h.len() / 2));
                s.push_str(&format!("  js    {:?}  {file}  ({size})\n", j.name));
            }
        }
    }
    if !prog.js_modules.is_empty() {
        s.push_str("modules (require):\n");
        for (n, m) in prog.js_modules.iter().enumerate() {
            let file = prog.files.get(m.file as usize).map_or("?", String::as_str);
            let code = i.contents.js_bytecode.as_ref().and_then(|c| c.modules.get(n));
            let size = code.map_or("no bytecode".to_string(), |h| format!("{} bytes of bytecode", h.len() / 2));
            s.push_str(&format!("  {:?}  {file}  ({size})\n", m.name));
        }
    }
    s.push_str("configuration keys:\n");
    if i.contents.config.is_empty() {
        s.push_str("  (none)\n");
    }
    for k in &i.contents.config {
        let how = match (&k.value, &k.env) {
            (Some(_), _) => "value built in".to_string(),
            (None, Some(env)) => format!("from environment variable {env}, or --config"),
            (None, None) => "needs --config".to_string(),
        };
        s.push_str(&format!("  {}  ({how})\n", k.key));
    }
    s.push_str("lists and sets:\n");
    if prog.sets.is_empty() {
        s.push_str("  (none)\n");
    }
    for set in &prog.sets {
        s.push_str(&format!("  {}  {} entries\n", set.origin, set.items.len()));
    }
    out.stdout = s;
    0
}

pub(crate) fn keygen(a: &KeygenArgs, out: &mut Output) -> u8 {
    let key = match warden_artifact::generate_key() {
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
    if let Err(e) = write_secret(&secret, &warden_artifact::secret_key_text(&key))
        .and_then(|()| std::fs::write(&public, warden_artifact::public_key_text(&key.verifying_key())))
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
