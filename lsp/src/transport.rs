//! JSON-RPC over a byte stream with `Content-Length` framing, read on its own thread. A frame
//! that is not a message (bad JSON, no header, too large) is reported as such and reading goes
//! on: a client's mistake never ends the server.

use std::io::{BufRead, BufReader, Read, Write};
use std::sync::mpsc::{Receiver, Sender, channel};

use lsp_server::Message;

/// The largest frame read; a larger one is skipped and answered with an error.
pub const MAX_FRAME_BYTES: usize = 64 * 1024 * 1024;

/// The most header lines a frame may have (LSP uses one or two).
const MAX_HEADER_LINES: usize = 32;

/// What the reader thread hands the server.
#[derive(Debug)]
pub enum Incoming {
    Message(Message),
    /// A frame that is not a JSON-RPC message the server can read: why.
    Malformed(String),
}

/// Starts the reader thread; the channel closes when the input ends.
pub fn spawn_reader(input: impl Read + Send + 'static) -> Receiver<Incoming> {
    let (tx, rx) = channel();
    let spawned = std::thread::Builder::new().name("warden-lsp-reader".into()).spawn(move || read_all(input, &tx));
    if spawned.is_err() {
        // Without a reader the channel is closed at once: the server sees the end of input.
        return channel().1;
    }
    rx
}

fn read_all(input: impl Read, tx: &Sender<Incoming>) {
    let mut input = BufReader::new(input);
    loop {
        let incoming = match read_frame(&mut input) {
            Ok(Some(body)) => match serde_json::from_slice::<Message>(&body) {
                Ok(m) => Incoming::Message(m),
                Err(e) => Incoming::Malformed(format!("not a JSON-RPC message: {e}")),
            },
            Ok(None) => return,
            Err(FrameError::Bad(why)) => Incoming::Malformed(why),
            Err(FrameError::Closed) => return,
        };
        if tx.send(incoming).is_err() {
            return;
        }
    }
}

enum FrameError {
    /// The frame was skipped: why.
    Bad(String),
    /// The input failed or ended inside a frame.
    Closed,
}

/// One frame's body; `None` at the end of the input.
fn read_frame(input: &mut impl BufRead) -> Result<Option<Vec<u8>>, FrameError> {
    let mut length: Option<usize> = None;
    let mut bad_header = None;
    let mut line = Vec::new();
    let mut lines = 0;
    loop {
        line.clear();
        // Header lines are short: a line longer than this is not a header.
        let n = input.by_ref().take(8192).read_until(b'\n', &mut line).map_err(|_| FrameError::Closed)?;
        if n == 0 {
            return if lines == 0 { Ok(None) } else { Err(FrameError::Closed) };
        }
        lines += 1;
        if lines > MAX_HEADER_LINES {
            return Err(FrameError::Bad(format!("more than {MAX_HEADER_LINES} header lines")));
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if length.is_none() && lines == 1 {
                // A stray blank line between frames.
                lines = 0;
                continue;
            }
            break;
        }
        match text.split_once(':') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => {
                match value.trim().parse::<usize>() {
                    Ok(n) => length = Some(n),
                    Err(_) => bad_header = Some(format!("invalid Content-Length `{}`", value.trim())),
                }
            }
            Some(_) => {}
            None => bad_header = Some("a header line without `:`".to_string()),
        }
    }
    if let Some(why) = bad_header {
        return Err(FrameError::Bad(why));
    }
    let Some(length) = length else {
        return Err(FrameError::Bad("a frame without Content-Length".into()));
    };
    if length > MAX_FRAME_BYTES {
        let skipped = std::io::copy(&mut input.by_ref().take(length as u64), &mut std::io::sink());
        return match skipped {
            Ok(n) if n == length as u64 => {
                Err(FrameError::Bad(format!("a message of {length} bytes, over the limit of {MAX_FRAME_BYTES}")))
            }
            _ => Err(FrameError::Closed),
        };
    }
    let mut body = vec![0; length];
    input.read_exact(&mut body).map_err(|_| FrameError::Closed)?;
    Ok(Some(body))
}

/// Writes one message, framed.
pub fn write_json(out: &mut impl Write, value: &serde_json::Value) -> std::io::Result<()> {
    let text = value.to_string();
    write!(out, "Content-Length: {}\r\n\r\n{text}", text.len())?;
    out.flush()
}
