//! Bounded reads. Every file warden reads (manifests, rule, list and module files, keys,
//! artifacts, JSON inputs, test files) goes through [`read_file`]: only a regular file is
//! read, and never more than a limit, so that a path naming `/dev/zero`, a FIFO or a huge
//! file ends with a clear error instead of an allocation failure or a read that never ends.

use std::fmt;
use std::io::Read;
use std::path::Path;

/// Why a file was not read. Displays as the reason (`not a regular file`), for messages that
/// name the file themselves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    NotFound,
    PermissionDenied,
    Directory,
    /// A FIFO, a device, a socket: anything but a regular file (after following symlinks).
    NotRegular,
    TooLarge {
        limit: u64,
    },
    NotUtf8,
    Other(String),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NotFound => f.write_str("no such file"),
            ReadError::PermissionDenied => f.write_str("permission denied"),
            ReadError::Directory => f.write_str("it is a directory"),
            ReadError::NotRegular => f.write_str("not a regular file"),
            ReadError::TooLarge { limit } => write!(f, "larger than the {} limit", size(*limit)),
            ReadError::NotUtf8 => f.write_str("not UTF-8 text"),
            ReadError::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ReadError {}

/// `16 MiB`, `64 KiB`, `100 bytes`.
pub fn size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// Reads a regular file of at most `limit` bytes. The file type is checked before the file
/// is opened and again on the opened file, which is opened without blocking (a FIFO swapped
/// in between the two cannot make the open wait for a writer); the read itself stops one
/// byte past the limit, so a file that grows while it is read is refused too.
pub fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    check_metadata(&std::fs::metadata(path).map_err(|e| io(&e))?, limit)?;
    let file = open_nonblocking(path).map_err(|e| io(&e))?;
    let meta = file.metadata().map_err(|e| io(&e))?;
    check_metadata(&meta, limit)?;
    let mut bytes = Vec::with_capacity(meta.len().min(limit) as usize + 1);
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| io(&e))?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(bytes)
}

/// [`read_file`] for text: UTF-8, without its byte-order mark.
pub fn read_text_file(path: &Path, limit: u64) -> Result<String, ReadError> {
    let bytes = read_file(path, limit)?;
    let text = String::from_utf8(bytes).map_err(|_| ReadError::NotUtf8)?;
    Ok(match warden_syntax::strip_bom(&text) {
        rest if rest.len() == text.len() => text,
        rest => rest.to_string(),
    })
}

/// Reads at most `limit` bytes from a stream (standard input).
pub fn read_stream(stream: impl Read, limit: u64) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    stream.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| io(&e))?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(bytes)
}

fn check_metadata(meta: &std::fs::Metadata, limit: u64) -> Result<(), ReadError> {
    if meta.is_dir() {
        return Err(ReadError::Directory);
    }
    if !meta.is_file() {
        return Err(ReadError::NotRegular);
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(())
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

fn io(e: &std::io::Error) -> ReadError {
    match e.kind() {
        std::io::ErrorKind::NotFound => ReadError::NotFound,
        std::io::ErrorKind::PermissionDenied => ReadError::PermissionDenied,
        std::io::ErrorKind::IsADirectory => ReadError::Directory,
        _ => ReadError::Other(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_within_the_limit_are_read() {
        let dir = std::env::temp_dir().join(format!("warden-read-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let f = dir.join("ten.txt");
        std::fs::write(&f, "0123456789").expect("write");
        assert_eq!(read_file(&f, 10).expect("fits"), b"0123456789");
        assert_eq!(read_file(&f, 9), Err(ReadError::TooLarge { limit: 9 }));
        assert_eq!(read_file(&dir, 10), Err(ReadError::Directory));
        assert_eq!(read_file(&dir.join("missing"), 10), Err(ReadError::NotFound));
        #[cfg(unix)]
        {
            assert_eq!(read_file(Path::new("/dev/zero"), 10), Err(ReadError::NotRegular));
            let link = dir.join("zero-link");
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink("/dev/zero", &link).expect("symlink");
            assert_eq!(read_file(&link, 10), Err(ReadError::NotRegular));
        }
        assert_eq!(read_stream(&b"0123456789"[..], 9), Err(ReadError::TooLarge { limit: 9 }));
        assert_eq!(ReadError::TooLarge { limit: 16 * 1024 * 1024 }.to_string(), "larger than the 16 MiB limit");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
