//! `warden lsp`: a Language Server Protocol server over stdio for `.rule` files and their
//! `warden.toml` projects. Protocol only: every piece of language knowledge comes from the
//! engine's [`warden::Analysis`].
//!
//! The reader thread turns frames into messages (`transport`); the main loop handles what has
//! arrived, then checks each project whose buffers changed once and publishes its
//! diagnostics, so a burst of edits costs one check.

mod convert;
mod server;
mod transport;

pub use server::Server;

/// Serves the protocol on stdin and stdout until `exit`; the process exit code (0 after
/// `shutdown` then `exit`, 1 otherwise).
pub fn run_stdio() -> i32 {
    let stdout = std::io::stdout();
    Server::new(stdout.lock()).serve(std::io::stdin())
}
