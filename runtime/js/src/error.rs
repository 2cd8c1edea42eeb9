//! How JavaScript fails: [`Failure`], the kinds of failure the sandbox meets, each decided
//! where it happens (never recognized afterwards from a message), and the login errors they
//! come to.

use thiserror::Error;
use warden_runtime::{Cause, ErrorInfo};

use crate::JsSource;

/// Why running JavaScript stopped a rule, or could not start it.
#[derive(Debug, Error)]
pub(crate) enum Failure {
    /// The deadline passed. QuickJS's interrupt handler records its own stops (the sandbox's
    /// `interrupted` flag); this is the deadline coming between two jobs or timers.
    #[error("interrupted: the deadline passed")]
    Timeout,
    /// The heap refused an allocation for its limit (the sandbox's `refused` flag, set by
    /// `heap.rs`), whatever the rule made of QuickJS's `out of memory`.
    #[error("out of memory")]
    OutOfMemory,
    /// What the rule left is larger than the heap limit lets the host read (reported as the
    /// heap limit): what it has too much of.
    #[error("too large: {0}")]
    TooLarge(String),
    /// JavaScript threw where warden called it (the prelude, or a getter or `toJSON` of what
    /// the rule left): the exception's message.
    #[error("{0}")]
    Thrown(String),
    /// rquickjs failed outside JavaScript.
    #[error(transparent)]
    Quickjs(#[from] rquickjs::Error),
    /// The prelude's result does not read as a result (a bug in warden).
    #[error("the prelude's result cannot be read: {0}")]
    Result(#[from] serde_json::Error),
    /// No runtime could be loaded for the login: the first load error.
    #[error("{0}")]
    Load(String),
    /// What earlier logins left on the global object could not be removed, on a fresh
    /// runtime either.
    #[error("the JavaScript runtime could not be reset for this login")]
    Reset,
}

impl Failure {
    /// The error that ends the login; `memory_bytes` is the heap limit.
    pub(crate) fn into_error(self, rule: &JsSource, memory_bytes: usize) -> ErrorInfo {
        let out_of_memory = |detail: Option<&str>| {
            let limit = heap_limit(memory_bytes);
            let description = match detail {
                Some(d) => format!("the rule exceeded its memory limit ({limit}): {d}"),
                None => format!("the rule exceeded its memory limit ({limit})"),
            };
            failure(&rule.name, Cause::ResourceLimit, description, &rule.file.path)
        };
        match self {
            Failure::Timeout => timeout(rule),
            Failure::OutOfMemory => out_of_memory(None),
            Failure::TooLarge(what) => out_of_memory(Some(&what)),
            other => failure(&rule.name, Cause::RuleError, format!("rule error: {other}"), &rule.file.path),
        }
    }

    /// Whether the failure leaves the runtime in an unknown state, so that the next login
    /// must get a fresh one (and a fresh `global`, as in Auth0).
    pub(crate) fn recycles(&self) -> bool {
        !matches!(self, Failure::Thrown(_) | Failure::Quickjs(_))
    }
}

/// A login error from a rule; a rule error carries the rule's path as its location.
pub(crate) fn failure(rule: &str, cause: Cause, description: String, path: &str) -> ErrorInfo {
    ErrorInfo {
        code: "access_denied".into(),
        description,
        rule: rule.to_string(),
        cause,
        location: (cause == Cause::RuleError).then(|| path.to_string()),
    }
}

/// The error of a rule that ran past the deadline, in Auth0's words.
pub(crate) fn timeout(rule: &JsSource) -> ErrorInfo {
    failure(&rule.name, Cause::Timeout, "Request to Webtask exceeded allowed execution time".into(), &rule.file.path)
}

/// A heap limit for messages: `64 MiB`, or bytes when it is not a whole number of MiB.
fn heap_limit(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes.is_multiple_of(MIB) { format!("{} MiB", bytes / MIB) } else { format!("{bytes} bytes") }
}

/// `path:line:column` from a QuickJS stack trace.
pub(crate) fn position(stack: &str, path: &str) -> (Option<u32>, Option<u32>) {
    let Some(at) = stack.find(&format!("{path}:")) else { return (None, None) };
    let mut nums = stack[at + path.len() + 1..].split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty());
    let line = nums.next().and_then(|n| n.parse().ok());
    let column = nums.next().and_then(|n| n.parse().ok());
    (line, column)
}
