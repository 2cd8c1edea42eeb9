//! Bounded reads of the files front ends name (inputs, artifacts, keys), and key files.
//! Every read takes only a regular file and never more than its limit.

use std::path::Path;

/// A path without `.` parts and with `..` applied (lexically), as projects compare paths.
pub use warden_check::normalize;
pub use warden_check::{MAX_FILE_BYTES, ReadError, read_file, read_stream, read_text_file};
pub use warden_syntax::{strip_bom, strip_bom_bytes};

pub use warden_artifact::{KeyError, MAX_ARTIFACT_BYTES, MAX_KEY_FILE_BYTES};

use crate::{PublicKey, SecretKey};

/// Why a key file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file could not be read.
    #[error("cannot read key `{path}`: {reason}")]
    Read { path: String, reason: ReadError },
    /// The file is not a key of the kind asked for.
    #[error(transparent)]
    Key(#[from] KeyError),
}

fn key_text(path: &Path) -> Result<String, KeyFileError> {
    read_text_file(path, MAX_KEY_FILE_BYTES)
        .map_err(|reason| KeyFileError::Read { path: path.display().to_string(), reason })
}

/// Reads a public key file (`warden keygen`'s `.pub`).
pub fn read_public_key(path: &Path) -> Result<PublicKey, KeyFileError> {
    Ok(warden_artifact::parse_public_key(&key_text(path)?)?)
}

/// Reads a secret key file (`warden keygen`'s `.key`).
pub fn read_secret_key(path: &Path) -> Result<SecretKey, KeyFileError> {
    Ok(warden_artifact::parse_secret_key(&key_text(path)?)?)
}

/// A new Ed25519 key pair for signing artifacts.
pub fn generate_key() -> Result<SecretKey, KeyError> {
    warden_artifact::generate_key()
}

/// The text of a secret key file.
pub fn secret_key_text(key: &SecretKey) -> String {
    warden_artifact::secret_key_text(key)
}

/// The text of a public key file.
pub fn public_key_text(key: &PublicKey) -> String {
    warden_artifact::public_key_text(key)
}

/// Reads an artifact file (at most [`MAX_ARTIFACT_BYTES`]).
pub fn read_artifact(path: &Path) -> Result<Vec<u8>, ReadError> {
    read_file(path, MAX_ARTIFACT_BYTES as u64)
}
