//! The built-in functions, one row each in [`BUILTINS`]: name, parameters, result, the
//! signature shown in help text and `docs/language.md`, and an example that holds.
//!
//! The checker derives from a row what a call takes (arity, parameter types), what it gives,
//! its help text and "did you mean"; [`Program::validate`](crate::Program::validate) derives
//! arities and operand types from it. What a builtin does is written once, in
//! `warden_runtime::builtins::call`.

use serde::{Deserialize, Serialize};

use crate::Ty;

/// Built-in functions that need no compile-time resources: the operator of
/// [`ExprKind::Call`](crate::ExprKind::Call). Each has one row in [`BUILTINS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Builtin {
    /// `lower(text)`
    Lower,
    /// `upper(text)`
    Upper,
    /// `trim(text)`
    Trim,
    /// `starts_with(text, prefix)`
    StartsWith,
    /// `ends_with(text, suffix)`
    EndsWith,
    /// `contains(text, part)` or `contains(list, element)`
    Contains,
    /// `split(text, separator)`
    Split,
    /// `join(list, separator)`
    Join,
    /// `len(text | list | object)`
    Len,
    /// `email_domain(email)`
    EmailDomain,
    /// `now()`
    Now,
    /// `days_since(time)`
    DaysSince,
    /// `weekday(time)`
    Weekday,
}

impl Builtin {
    /// How many variants there are (the build fails when this is wrong; see [`ROWS`]).
    const COUNT: usize = 13;

    /// This builtin's row in [`BUILTINS`].
    pub fn function(self) -> &'static Function {
        &BUILTINS[ROWS[self as usize]]
    }

    /// The name rules call it by.
    pub fn name(self) -> &'static str {
        self.function().name
    }
}

/// The number of arguments a builtin takes.
pub fn arity(f: Builtin) -> usize {
    f.function().params.len()
}

/// One built-in function.
#[derive(Debug)]
pub struct Function {
    /// The name rules call it by.
    pub name: &'static str,
    /// The IR node a call becomes.
    pub node: Node,
    /// The parameters, in order.
    pub params: &'static [Param],
    /// The type of the result.
    pub returns: Returns,
    /// The signature shown as help on a wrong call and in `docs/language.md`.
    pub signature: &'static str,
    /// A condition that holds, shown in `docs/language.md` and run by its test.
    pub example: &'static str,
}

impl Function {
    /// The least and the most arguments a call takes (`None`: no most).
    pub fn arity(&self) -> (usize, Option<usize>) {
        let n = self.params.len();
        match self.params.last() {
            Some(Param::Networks) => (n, None),
            _ => (n, Some(n)),
        }
    }
}

/// The IR node a call becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    /// [`ExprKind::Call`](crate::ExprKind::Call) with this builtin.
    Call(Builtin),
    /// [`ExprKind::Matches`](crate::ExprKind::Matches): the pattern is compiled at load.
    Matches,
    /// [`ExprKind::IpIn`](crate::ExprKind::IpIn): the networks are parsed at check time.
    IpIn,
    /// No node of its own: `list("file")` is read at check time into a [`ConstSet`]
    /// (after `in`) or networks (in `ip_in`).
    ///
    /// [`ConstSet`]: crate::ConstSet
    List,
}

/// What a parameter accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Param {
    /// A string.
    Str,
    /// A date-time: an RFC 3339 string or epoch milliseconds.
    Time,
    /// A list of strings.
    StrList,
    /// A string, a list or an object (`len`).
    Sized,
    /// A string or a list (`contains`).
    StrOrList,
    /// Any value (`contains`'s element, checked against the list's items).
    Any,
    /// A string literal, read at check time (a pattern, a file name).
    Literal,
    /// One or more networks: string literals or `list("file")`, parsed at check time.
    Networks,
}

impl Param {
    /// Whether an operand of declared type `t` may be passed, as the checker decides (`any`
    /// and `null` fit anything, strings and ints fit date-times).
    pub fn admits(self, t: &Ty) -> bool {
        use crate::validate::fits;
        match self {
            Param::Str | Param::Literal | Param::Networks => fits(t, &Ty::Str),
            Param::Time => fits(t, &Ty::Time),
            Param::StrList => fits(t, &Ty::List(Box::new(Ty::Str))),
            Param::Sized => matches!(t, Ty::Str | Ty::List(_) | Ty::Object(_) | Ty::Dyn | Ty::Null),
            Param::StrOrList => fits(t, &Ty::Str) || matches!(t, Ty::List(_) | Ty::Dyn | Ty::Null),
            Param::Any => true,
        }
    }
}

/// The type of a builtin's result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returns {
    /// `bool`
    Bool,
    /// `int`
    Int,
    /// `float`
    Float,
    /// `string`
    Str,
    /// `list<string>`
    StrList,
    /// A day of the week: a string, one of `"monday"` ... `"sunday"`.
    Weekday,
    /// Strings read at check time: `list()`, only an operand of `in`/`not in` or `ip_in`.
    Set,
}

impl Returns {
    /// The IR type of the result.
    pub fn ty(self) -> Ty {
        match self {
            Returns::Bool => Ty::Bool,
            Returns::Int => Ty::Int,
            Returns::Float => Ty::Float,
            Returns::Str | Returns::Weekday => Ty::Str,
            Returns::StrList | Returns::Set => Ty::List(Box::new(Ty::Str)),
        }
    }
}

/// The row named `name`, if it is a builtin.
pub fn lookup(name: &str) -> Option<&'static Function> {
    BUILTINS.iter().find(|f| f.name == name)
}

/// Every built-in function, in the order of `docs/language.md`.
pub static BUILTINS: &[Function] = {
    use Param as P;
    &[
        Function {
            name: "lower",
            node: Node::Call(Builtin::Lower),
            params: &[P::Str],
            returns: Returns::Str,
            signature: "lower(text) -> string",
            example: r#"lower("Ada ÖZ") == "ada öz""#,
        },
        Function {
            name: "upper",
            node: Node::Call(Builtin::Upper),
            params: &[P::Str],
            returns: Returns::Str,
            signature: "upper(text) -> string",
            example: r#"upper("straße") == "STRASSE""#,
        },
        Function {
            name: "trim",
            node: Node::Call(Builtin::Trim),
            params: &[P::Str],
            returns: Returns::Str,
            signature: "trim(text) -> string",
            example: r#"trim("  a b ") == "a b""#,
        },
        Function {
            name: "starts_with",
            node: Node::Call(Builtin::StartsWith),
            params: &[P::Str, P::Str],
            returns: Returns::Bool,
            signature: "starts_with(text, prefix) -> bool",
            example: r#"starts_with("guest-7", "guest-")"#,
        },
        Function {
            name: "ends_with",
            node: Node::Call(Builtin::EndsWith),
            params: &[P::Str, P::Str],
            returns: Returns::Bool,
            signature: "ends_with(text, suffix) -> bool",
            example: r#"ends_with("ada@example.com", "@example.com")"#,
        },
        Function {
            name: "contains",
            node: Node::Call(Builtin::Contains),
            params: &[P::StrOrList, P::Any],
            returns: Returns::Bool,
            signature: "contains(text, part) or contains(list, element) -> bool",
            example: r#"contains("a+spam@x.io", "+spam") and contains(["sms", "otp"], "sms")"#,
        },
        Function {
            name: "split",
            node: Node::Call(Builtin::Split),
            params: &[P::Str, P::Str],
            returns: Returns::StrList,
            signature: "split(text, separator) -> list<string>",
            example: r#"split("a,b", ",") == ["a", "b"]"#,
        },
        Function {
            name: "join",
            node: Node::Call(Builtin::Join),
            params: &[P::StrList, P::Str],
            returns: Returns::Str,
            signature: "join(list<string>, separator) -> string",
            example: r#"join(["a", "b"], "|") == "a|b""#,
        },
        Function {
            name: "len",
            node: Node::Call(Builtin::Len),
            params: &[P::Sized],
            returns: Returns::Int,
            signature: "len(text | list | object) -> int",
            example: r#"len("añb") == 3 and len(["a", "b"]) == 2"#,
        },
        Function {
            name: "email_domain",
            node: Node::Call(Builtin::EmailDomain),
            params: &[P::Str],
            returns: Returns::Str,
            signature: "email_domain(email) -> string",
            example: r#"email_domain("a@b@Example.COM") == "example.com""#,
        },
        Function {
            name: "matches",
            node: Node::Matches,
            params: &[P::Str, P::Literal],
            returns: Returns::Bool,
            signature: "matches(text, \"regex\") -> bool",
            example: r#"matches("42@example.com", "^[0-9]+@")"#,
        },
        Function {
            name: "ip_in",
            node: Node::IpIn,
            params: &[P::Str, P::Networks],
            returns: Returns::Bool,
            signature: "ip_in(address, \"cidr\", ...) or ip_in(address, list(\"file\")) -> bool",
            example: r#"ip_in("::ffff:192.0.2.9", "192.0.2.0/24", "2001:db8::/32")"#,
        },
        Function {
            name: "now",
            node: Node::Call(Builtin::Now),
            params: &[],
            returns: Returns::Int,
            signature: "now() -> int (epoch milliseconds)",
            example: "now() > 1700000000000",
        },
        Function {
            name: "days_since",
            node: Node::Call(Builtin::DaysSince),
            params: &[P::Time],
            returns: Returns::Float,
            signature: "days_since(time) -> float",
            example: r#"days_since("2020-01-01") > 365.0"#,
        },
        Function {
            name: "weekday",
            node: Node::Call(Builtin::Weekday),
            params: &[P::Time],
            returns: Returns::Weekday,
            signature: "weekday(time) -> string",
            example: r#"weekday("2026-01-01T09:00:00+01:00") == "thursday""#,
        },
        Function {
            name: "list",
            node: Node::List,
            params: &[P::Literal],
            returns: Returns::Set,
            signature: "list(\"file.txt\") after `in`",
            example: r#""bob@example.com" in list("lists/guests.txt")"#,
        },
    ]
};

/// Each [`Builtin`]'s row in [`BUILTINS`], by discriminant. Computed when warden is built,
/// which fails unless every builtin has exactly one row.
const ROWS: [usize; Builtin::COUNT] = {
    let mut rows = [usize::MAX; Builtin::COUNT];
    let mut i = 0;
    while i < BUILTINS.len() {
        if let Node::Call(b) = BUILTINS[i].node {
            assert!(rows[b as usize] == usize::MAX, "a builtin has two rows in BUILTINS");
            rows[b as usize] = i;
        }
        i += 1;
    }
    let mut b = 0;
    while b < Builtin::COUNT {
        assert!(rows[b] != usize::MAX, "a builtin has no row in BUILTINS");
        b += 1;
    }
    rows
};

#[cfg(test)]
mod tests {
    use super::{BUILTINS, Node, lookup};

    #[test]
    fn rows_are_consistent() {
        for (i, f) in BUILTINS.iter().enumerate() {
            assert!(std::ptr::eq(lookup(f.name).expect("found"), f), "`{}` has two rows", f.name);
            assert!(f.signature.starts_with(&format!("{}(", f.name)), "`{}`: {}", f.name, f.signature);
            assert!(f.example.contains(&format!("{}(", f.name)), "`{}`: {}", f.name, f.example);
            if let Node::Call(b) = f.node {
                assert_eq!(b.name(), f.name);
                assert!(std::ptr::eq(b.function(), &BUILTINS[i]));
            }
        }
    }
}
