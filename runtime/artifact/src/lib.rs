//! Ahead-of-time artifacts: a checked pipeline in one file that loads without parsing or
//! checking, and refuses tampering.
//!
//! Layout (all integers little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 0..8 | magic `\x89WARDN\r\n` |
//! | 8..12 | format version |
//! | 12..16 | IR version |
//! | 16..32 | warden version, NUL-padded |
//! | 32..48 | QuickJS version, NUL-padded (empty: no JavaScript) |
//! | 48..56 | body length `N` |
//! | 56..56+N | body: [`Contents`] as JSON |
//! | +32 | content hash: SHA-256 of the header and body |
//! | +1 | signature kind: 0 none, 1 Ed25519 |
//! | +64 | Ed25519 signature of the content hash (kind 1 only) |
//! | +32 | seal: SHA-256 of the content hash, the kind and the signature |
//!
//! The content hash and the seal together make any change to any byte detectable without a
//! key; the signature makes the content attributable when the loader has the public key.
//!
//! Reading checks, in order and before anything else: size limit, magic, versions, lengths
//! (against the file's real size: nothing is allocated from a length field), the hash, and —
//! when the caller gives a verification key — the signature. Whether a signature is required
//! is the caller's decision, never the artifact's. Only then is the body parsed, and its
//! program validated structurally before any runtime sees it.

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use warden_ir::{ConfigType, Program};

pub const MAGIC: &[u8; 8] = b"\x89WARDN\r\n";
/// 2: JavaScript rules and modules carry QuickJS bytecode.
/// 3: configuration keys carry their type ([`ConfigKey::ty`]).
pub const FORMAT_VERSION: u32 = 3;
/// The largest artifact a loader reads.
pub const MAX_ARTIFACT_BYTES: usize = 256 * 1024 * 1024;
/// The largest key file a loader reads (a key file is one line of about 90 bytes).
pub const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;
/// The version of warden that writes and reads artifacts.
pub const WARDEN_VERSION: &str = env!("CARGO_PKG_VERSION");

const HEADER: usize = 56;
const HASH: usize = 32;
const SIG: usize = 64;

/// What an artifact holds besides the header.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contents {
    /// The checked pipeline: rules in order, options, slots, prebuilt sets (lists included).
    pub program: Program,
    /// Each rule file as it was compiled, by the program's file index (for inspection and
    /// error messages).
    pub sources: Vec<SourceFile>,
    /// The configuration keys the pipeline needs, and how each gets its value.
    pub config: Vec<ConfigKey>,
    /// The JavaScript rules and vendored modules compiled to QuickJS bytecode (for the
    /// QuickJS version the header names); absent when the pipeline has no JavaScript.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub js_bytecode: Option<JsBytecode>,
}

/// QuickJS bytecode, hexadecimal, by index in the program's `js_rules` and `js_modules`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsBytecode {
    pub rules: Vec<String>,
    pub modules: Vec<String>,
}

/// A source file the artifact carries: its path and text.
pub use warden_syntax::SourceFile;

/// A configuration key: baked in only when the build was asked to (`value`), else taken
/// from the environment variable the manifest named (`env`) or given when loading.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigKey {
    pub key: String,
    pub env: Option<String>,
    pub value: Option<String>,
    /// The declared type: a value is parsed as it when the artifact loads (the program's
    /// [`Program::config_types`] must say the same).
    #[serde(rename = "type")]
    pub ty: ConfigType,
}

/// Why an artifact was refused. Every kind ends the load: nothing of a refused artifact runs.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refused {
    /// Larger than [`MAX_ARTIFACT_BYTES`].
    #[error("artifact refused: larger than {} MiB", MAX_ARTIFACT_BYTES / 1024 / 1024)]
    TooLarge,
    /// The file does not start with warden's magic bytes.
    #[error("artifact refused: not a warden artifact (wrong magic bytes)")]
    NotAnArtifact,
    /// Shorter than its header, body, hashes, signature and seal need.
    #[error("artifact refused: {0}")]
    Truncated(&'static str),
    /// Bytes after the seal.
    #[error("artifact refused: trailing bytes after the seal")]
    TrailingBytes,
    /// A header field that this warden does not read (the version text is not UTF-8).
    #[error("artifact refused: the header's version text is not UTF-8")]
    BadHeader,
    /// Another artifact format.
    #[error("artifact refused: format version {found}, this warden reads {FORMAT_VERSION}")]
    FormatVersion { found: u32 },
    /// Built for another IR version.
    #[error("artifact refused: IR version {found}, this warden runs {}", warden_ir::IR_VERSION)]
    IrVersion { found: u32 },
    /// Built by another warden release.
    #[error("artifact refused: built by warden {found}, this is warden {WARDEN_VERSION}: rebuild it")]
    WardenVersion { found: String },
    /// A signature kind byte other than unsigned (0) or Ed25519 (1).
    #[error("artifact refused: unknown signature kind {0}")]
    SignatureKind(u8),
    /// The seal does not cover the hash and signature as written.
    #[error("artifact refused: seal mismatch: the hash or signature was changed after the file was built")]
    SealMismatch,
    /// The content hash does not match the header and body.
    #[error("artifact refused: content hash mismatch: the file was changed after it was built")]
    HashMismatch,
    /// A verification key was required and the artifact is unsigned.
    #[error("artifact refused: unsigned, and a verification key is required")]
    Unsigned,
    /// The signature was not made by the verification key's secret key.
    #[error("artifact refused: the signature does not match the verification key")]
    BadSignature,
    /// The body is not the JSON of a program and its sources.
    #[error("artifact refused: the body is not valid: {0}")]
    InvalidBody(String),
    /// The program breaks an invariant a backend relies on (`Program::validate`).
    #[error("artifact refused: the program is not valid: {0}")]
    InvalidProgram(String),
    /// The sources do not match the program's files.
    #[error("artifact refused: the sources do not match the program's files")]
    SourcesMismatch,
    /// The body could not be parsed on its own thread.
    #[error("artifact refused: {0}")]
    Parse(String),
}

impl Refused {
    /// A stable name for the kind of refusal (for logs, metrics and HTTP errors).
    pub fn kind(&self) -> &'static str {
        match self {
            Refused::TooLarge => "too_large",
            Refused::NotAnArtifact => "not_an_artifact",
            Refused::Truncated(_) => "truncated",
            Refused::TrailingBytes => "trailing_bytes",
            Refused::BadHeader => "bad_header",
            Refused::FormatVersion { .. } => "format_version",
            Refused::IrVersion { .. } => "ir_version",
            Refused::WardenVersion { .. } => "warden_version",
            Refused::SignatureKind(_) => "signature_kind",
            Refused::SealMismatch => "seal_mismatch",
            Refused::HashMismatch => "hash_mismatch",
            Refused::Unsigned => "unsigned",
            Refused::BadSignature => "bad_signature",
            Refused::InvalidBody(_) => "invalid_body",
            Refused::InvalidProgram(_) => "invalid_program",
            Refused::SourcesMismatch => "sources_mismatch",
            Refused::Parse(_) => "parse",
        }
    }
}

/// What `inspect` shows without trusting more than the header and hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub format_version: u32,
    pub ir_version: u32,
    pub warden_version: String,
    pub quickjs_version: Option<String>,
    pub body_len: usize,
    pub hash: [u8; 32],
    pub signed: bool,
}

/// Writes an artifact; signs it when a key is given. The same contents give the same bytes.
/// `quickjs` names the embedded QuickJS when the pipeline has JavaScript rules: their bytecode
/// only loads in a warden embedding the same version.
pub fn write(contents: &Contents, key: Option<&SigningKey>, quickjs: Option<&str>) -> Vec<u8> {
    let body = serde_json::to_vec(contents).unwrap_or_default();
    let mut out = Vec::with_capacity(HEADER + body.len() + HASH + 1 + SIG + HASH);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&warden_ir::IR_VERSION.to_le_bytes());
    out.extend_from_slice(&padded(WARDEN_VERSION));
    out.extend_from_slice(&padded(quickjs.unwrap_or("")));
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&body);
    let hash: [u8; 32] = Sha256::digest(&out).into();
    let trailer_start = out.len();
    out.extend_from_slice(&hash);
    match key {
        Some(k) => {
            out.push(1);
            out.extend_from_slice(&k.sign(&hash).to_bytes());
        }
        None => out.push(0),
    }
    let seal: [u8; 32] = Sha256::digest(&out[trailer_start..]).into();
    out.extend_from_slice(&seal);
    out
}

fn padded(s: &str) -> [u8; 16] {
    let mut b = [0u8; 16];
    let n = s.len().min(16);
    b[..n].copy_from_slice(&s.as_bytes()[..n]);
    b
}

fn unpadded(b: &[u8]) -> Result<String, Refused> {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    match std::str::from_utf8(&b[..end]) {
        Ok(s) => Ok(s.to_string()),
        Err(_) => Err(Refused::BadHeader),
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(w)
}

/// Checks everything but the body: size, magic, versions, lengths, hash, and the signature
/// when `verify` is given. Returns the header and the body's bytes.
pub fn verify<'a>(bytes: &'a [u8], verify: Option<&VerifyingKey>) -> Result<(Header, &'a [u8]), Refused> {
    if bytes.len() > MAX_ARTIFACT_BYTES {
        return Err(Refused::TooLarge);
    }
    if bytes.len() < 8 || &bytes[..8] != MAGIC {
        return Err(Refused::NotAnArtifact);
    }
    if bytes.len() < HEADER {
        return Err(Refused::Truncated("truncated header"));
    }
    let format_version = u32_at(bytes, 8);
    if format_version != FORMAT_VERSION {
        return Err(Refused::FormatVersion { found: format_version });
    }
    let ir_version = u32_at(bytes, 12);
    if ir_version != warden_ir::IR_VERSION {
        return Err(Refused::IrVersion { found: ir_version });
    }
    let warden_version = unpadded(&bytes[16..32])?;
    if warden_version != WARDEN_VERSION {
        return Err(Refused::WardenVersion { found: warden_version });
    }
    let quickjs = unpadded(&bytes[32..48])?;
    let mut len = [0u8; 8];
    len.copy_from_slice(&bytes[48..56]);
    let body_len = u64::from_le_bytes(len);
    // The length is compared with the real size before it is used for anything.
    let available = (bytes.len() - HEADER) as u64;
    if body_len > available || available - body_len < (HASH + 1 + HASH) as u64 {
        return Err(Refused::Truncated("truncated (the body or the hashes are missing)"));
    }
    let body_end = HEADER + body_len as usize;
    let mut hash = [0u8; 32];
    hash.copy_from_slice(&bytes[body_end..body_end + HASH]);
    let tag = bytes[body_end + HASH];
    let sig_len = match tag {
        0 => 0,
        1 => SIG,
        other => return Err(Refused::SignatureKind(other)),
    };
    let seal_at = body_end + HASH + 1 + sig_len;
    if bytes.len() != seal_at + HASH {
        return Err(if bytes.len() < seal_at + HASH {
            Refused::Truncated("truncated signature or seal")
        } else {
            Refused::TrailingBytes
        });
    }
    let seal: [u8; 32] = Sha256::digest(&bytes[body_end..seal_at]).into();
    if seal[..] != bytes[seal_at..] {
        return Err(Refused::SealMismatch);
    }
    let actual: [u8; 32] = Sha256::digest(&bytes[..body_end]).into();
    if actual != hash {
        return Err(Refused::HashMismatch);
    }
    if let Some(key) = verify {
        if tag != 1 {
            return Err(Refused::Unsigned);
        }
        let mut sig = [0u8; SIG];
        sig.copy_from_slice(&bytes[body_end + HASH + 1..seal_at]);
        let sig = ed25519_dalek::Signature::from_bytes(&sig);
        if key.verify_strict(&hash, &sig).is_err() {
            return Err(Refused::BadSignature);
        }
    }
    let header = Header {
        format_version,
        ir_version,
        warden_version,
        quickjs_version: (!quickjs.is_empty()).then_some(quickjs),
        body_len: body_len as usize,
        hash,
        signed: tag == 1,
    };
    Ok((header, &bytes[HEADER..body_end]))
}

/// How deep the body's JSON may nest: enough for every program that can validate (blocks
/// and types at most `MAX_IR_DEPTH` deep; a block level is four JSON levels, an object type
/// three), refused before parsing past it.
pub const MAX_BODY_DEPTH: usize = 4 * warden_ir::MAX_IR_DEPTH + 16;

/// The stack of the thread that parses and validates a body: parsing recurses once per JSON
/// level, and the caller's thread may have little stack (2 MiB for a test thread).
const PARSE_STACK: usize = 64 * 1024 * 1024;

/// Verifies an artifact, then parses and validates its contents.
pub fn read(bytes: &[u8], verify_key: Option<&VerifyingKey>) -> Result<(Header, Contents), Refused> {
    let (header, body) = verify(bytes, verify_key)?;
    if warden_ir::json_nests_deeper_than(body, MAX_BODY_DEPTH) {
        return Err(Refused::InvalidBody(format!("it nests deeper than {MAX_BODY_DEPTH} levels")));
    }
    let parsed = std::thread::scope(|s| {
        let worker = std::thread::Builder::new().name("warden-artifact".into()).stack_size(PARSE_STACK);
        match worker.spawn_scoped(s, || parse_body(body)) {
            Ok(handle) => handle.join().unwrap_or_else(|_| Err(Refused::Parse("the body could not be parsed".into()))),
            Err(e) => Err(Refused::Parse(format!("no thread to parse the body: {e}"))),
        }
    });
    Ok((header, parsed?))
}

fn parse_body(body: &[u8]) -> Result<Contents, Refused> {
    let mut de = serde_json::Deserializer::from_slice(body);
    // The depth was bounded above, and this thread has the stack for it.
    de.disable_recursion_limit();
    let contents = match Contents::deserialize(&mut de).and_then(|c| de.end().map(|()| c)) {
        Ok(c) => c,
        Err(e) => return Err(Refused::InvalidBody(e.to_string())),
    };
    if let Err(m) = contents.program.validate() {
        return Err(Refused::InvalidProgram(m.to_string()));
    }
    if contents.program.files.len() != contents.sources.len() {
        return Err(Refused::SourcesMismatch);
    }
    check_config_types(&contents)?;
    Ok(contents)
}

/// The configuration keys' types are the program's: each typed key of the program is listed
/// with its type, and every other key is a string.
fn check_config_types(contents: &Contents) -> Result<(), Refused> {
    let program_ty =
        |key: &str| contents.program.config_types.iter().find(|t| t.key == key).map_or(ConfigType::Str, |t| t.ty);
    if let Some(k) = contents.config.iter().find(|k| k.ty != program_ty(&k.key)) {
        return Err(Refused::InvalidBody(format!(
            "configuration key `{}` is typed `{}`, and `{}` in the program",
            k.key,
            k.ty.name(),
            program_ty(&k.key).name()
        )));
    }
    if let Some(t) = contents.program.config_types.iter().find(|t| !contents.config.iter().any(|k| k.key == t.key)) {
        return Err(Refused::InvalidBody(format!("the program's configuration key `{}` is not listed", t.key)));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Keys

const SECRET_PREFIX: &str = "warden-ed25519-secret:";
const PUBLIC_PREFIX: &str = "warden-ed25519-public:";

/// A new signing key from the operating system's randomness.
pub fn generate_key() -> Result<SigningKey, KeyError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| KeyError::NoRandomness(e.to_string()))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// The text of a secret key file.
pub fn secret_key_text(k: &SigningKey) -> String {
    format!("{SECRET_PREFIX}{}\n", hex::encode(k.to_bytes()))
}

/// The text of a public key file.
pub fn public_key_text(k: &VerifyingKey) -> String {
    format!("{PUBLIC_PREFIX}{}\n", hex::encode(k.to_bytes()))
}

/// Why a key could not be made or read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The operating system gave no randomness for a new key.
    #[error("no randomness available: {0}")]
    NoRandomness(String),
    /// The text does not start with the key kind's prefix.
    #[error("not a warden {kind} key (expected a line starting with `{prefix}`)")]
    NotAKey { kind: &'static str, prefix: &'static str },
    /// The key's digits are not hexadecimal.
    #[error("the {kind} key is not hexadecimal")]
    NotHex { kind: &'static str },
    /// The key is not 32 bytes long.
    #[error("the {kind} key is not 32 bytes")]
    WrongLength { kind: &'static str },
    /// The bytes are not a point of Ed25519's curve.
    #[error("not a valid Ed25519 public key")]
    NotEd25519,
}

fn key_bytes(text: &str, prefix: &'static str, kind: &'static str) -> Result<[u8; 32], KeyError> {
    let hex_part = text.trim().strip_prefix(prefix).ok_or(KeyError::NotAKey { kind, prefix })?;
    let bytes = hex::decode(hex_part).map_err(|_| KeyError::NotHex { kind })?;
    bytes.try_into().map_err(|_| KeyError::WrongLength { kind })
}

/// Reads a secret key file's text.
pub fn parse_secret_key(text: &str) -> Result<SigningKey, KeyError> {
    Ok(SigningKey::from_bytes(&key_bytes(text, SECRET_PREFIX, "secret")?))
}

/// Reads a public key file's text.
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, KeyError> {
    VerifyingKey::from_bytes(&key_bytes(text, PUBLIC_PREFIX, "public")?).map_err(|_| KeyError::NotEd25519)
}

pub use ed25519_dalek::{SigningKey as SecretKey, VerifyingKey as PublicKey};
