//! Rule errors: why a login stops with `cause: rule_error`.

/// A rule error: a value of an unexpected type, an overflow, a date out of range, a write
/// that does not fit its field. Its message becomes the outcome's `error.description`
/// (`rule error: ...`), so it is data for the host rather than a kind to match on: the kind
/// is the outcome's `cause`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Fault(pub String);

impl Fault {
    /// The message.
    pub fn into_message(self) -> String {
        self.0
    }
}

impl From<String> for Fault {
    fn from(message: String) -> Fault {
        Fault(message)
    }
}

impl From<&str> for Fault {
    fn from(message: &str) -> Fault {
        Fault(message.to_string())
    }
}

/// `Fault(format!(...))`.
macro_rules! fault {
    ($($t:tt)*) => { $crate::Fault(format!($($t)*)) };
}
pub(crate) use fault;

impl From<Fault> for String {
    fn from(f: Fault) -> String {
        f.0
    }
}
