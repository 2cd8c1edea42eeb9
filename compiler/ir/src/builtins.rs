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
    /// `weekday(time[, zone])`
    Weekday,
    /// `unique(list)`
    Unique,
    /// `sort(list)`
    Sort,
    /// `first(list)`
    First,
    /// `last(list)`
    Last,
    /// `count(list, element)`
    Count,
    /// `sum(list)`
    Sum,
    /// `min(list)`
    Min,
    /// `max(list)`
    Max,
    /// `keys(object)`
    Keys,
    /// `values(object)`
    Values,
    /// `union(list, list)`
    Union,
    /// `intersect(list, list)`
    Intersect,
    /// `difference(list, list)`
    Difference,
    /// `replace(text, from, to)`
    Replace,
    /// `replace_regex(text, "pattern", replacement)`
    ReplaceRegex,
    /// `slice(text | list, start[, end])`
    Slice,
    /// `index_of(text | list, part)`
    IndexOf,
    /// `pad_start(text, width[, fill])`
    PadStart,
    /// `pad_end(text, width[, fill])`
    PadEnd,
    /// `url_encode(text)`
    UrlEncode,
    /// `url_decode(text)`
    UrlDecode,
    /// `base64_encode(text)`
    Base64Encode,
    /// `base64url_encode(text)`
    Base64UrlEncode,
    /// `base64_decode(text)`
    Base64Decode,
    /// `base64url_decode(text)`
    Base64UrlDecode,
    /// `sha256(text[, encoding])`
    Sha256,
    /// `hmac_sha256(key, message[, encoding])`
    HmacSha256,
    /// `format("template", values...)`
    Format,
    /// `capture(text, "pattern")`
    Capture,
    /// `capture_named(text, "pattern")`
    CaptureNamed,
    /// `hour(time[, zone])`
    Hour,
    /// `minute(time[, zone])`
    Minute,
    /// `date(time[, zone])`
    Date,
    /// `days(n)`
    Days,
    /// `hours(n)`
    Hours,
    /// `minutes(n)`
    Minutes,
    /// `seconds(n)`
    Seconds,
    /// `millis(time)`
    Millis,
    /// `parse_time(text, "format"[, zone])`
    ParseTime,
    /// `format_time(time, "pattern"[, zone])`
    FormatTime,
}

impl Builtin {
    /// How many variants there are (the build fails when this is wrong; see [`ROWS`]).
    const COUNT: usize = 53;

    /// This builtin's row in [`BUILTINS`].
    pub fn function(self) -> &'static Function {
        &BUILTINS[ROWS[self as usize]]
    }

    /// The name rules call it by.
    pub fn name(self) -> &'static str {
        self.function().name
    }
}

/// The least and the most arguments a builtin takes (`None`: no most).
pub fn arity(f: Builtin) -> (usize, Option<usize>) {
    f.function().arity()
}

/// Why a builtin cannot take `n` arguments, in words (`` `split` takes 2 to 3 arguments,
/// found 1 ``).
pub fn arity_error(f: Builtin, n: usize) -> String {
    let (min, max) = arity(f);
    let want = match max {
        Some(max) if max == min => format!("{min} argument{}", if min == 1 { "" } else { "s" }),
        Some(max) => format!("{min} to {max} arguments"),
        None => format!("at least {min} argument{}", if min == 1 { "" } else { "s" }),
    };
    format!("`{}` takes {want}, found {n}", f.name())
}

/// Whether a builtin takes `n` arguments.
pub fn takes(f: Builtin, n: usize) -> bool {
    let (min, max) = arity(f);
    n >= min && max.is_none_or(|max| n <= max)
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
        let required = self.params.iter().filter(|p| !p.optional()).count();
        match self.params.last() {
            Some(Param::Networks) => (n, None),
            Some(Param::Rest) => (required, None),
            _ => (required, Some(n)),
        }
    }

    /// What the `i`th argument of a call must be (`Rest` for each value past the last).
    pub fn param(&self, i: usize) -> Param {
        match (self.params.get(i), self.params.last()) {
            (Some(p), _) => *p,
            (None, Some(Param::Rest)) => Param::Rest,
            (None, Some(Param::Networks)) => Param::Networks,
            _ => Param::Any,
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
    /// [`ExprKind::Regex`](crate::ExprKind::Regex) with this builtin: a call whose second
    /// argument is a pattern compiled at load.
    Regex(Builtin),
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
    /// An integer.
    Int,
    /// A list of any items.
    List,
    /// An object.
    Object,
    /// An optional integer (last parameters only).
    OptInt,
    /// An optional string (last parameters only): a time zone, an encoding, a fill.
    OptStr,
    /// Any number of values of any type (the last parameter only).
    Rest,
}

impl Param {
    /// Whether a call may leave this parameter out.
    pub fn optional(self) -> bool {
        matches!(self, Param::OptInt | Param::OptStr | Param::Rest)
    }
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
            Param::Any | Param::Rest => true,
            Param::Int | Param::OptInt => fits(t, &Ty::Int),
            Param::OptStr => fits(t, &Ty::Str),
            Param::List => matches!(t, Ty::List(_) | Ty::Dyn | Ty::Null),
            Param::Object => matches!(t, Ty::Object(_) | Ty::Dyn | Ty::Null),
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
    /// The type of the first argument (`sort`, `unique`, `slice`).
    Arg0,
    /// The type of the first argument's items (`first`, `min`).
    Item0,
    /// A list holding the items of both arguments (`union`).
    Union,
    /// `int` for a list of ints, else `float` (`sum`).
    Sum,
    /// `list<any>` (`values`).
    DynList,
    /// An object whose fields the checker names, all strings (`capture_named`).
    Captures,
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
            Returns::DynList => Ty::List(Box::new(Ty::Dyn)),
            Returns::Arg0 | Returns::Item0 | Returns::Union | Returns::Sum | Returns::Captures => Ty::Dyn,
        }
    }

    /// The type of the result given the arguments' declared types (what [`Returns::ty`]
    /// says, made precise for results that follow their arguments).
    pub fn ty_for(self, args: &[&Ty]) -> Ty {
        let arg = |i: usize| args.get(i).copied().cloned().unwrap_or(Ty::Dyn);
        match self {
            Returns::Arg0 => arg(0),
            Returns::Item0 => match arg(0) {
                Ty::List(t) => *t,
                Ty::Null => Ty::Null,
                _ => Ty::Dyn,
            },
            Returns::Union => match (arg(0), arg(1)) {
                (Ty::List(a), Ty::List(b)) => Ty::List(Box::new(crate::validate::join(&a, &b))),
                (Ty::Null, b @ Ty::List(_)) => b,
                (a @ Ty::List(_), Ty::Null) => a,
                _ => Ty::List(Box::new(Ty::Dyn)),
            },
            Returns::Sum => match arg(0) {
                Ty::List(t) if *t == Ty::Int => Ty::Int,
                _ => Ty::Float,
            },
            other => other.ty(),
        }
    }
}

/// A piece of a `format()` template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Text as written (`{{` and `}}` already made single braces).
    Text(std::borrow::Cow<'a, str>),
    /// `{}`: the next value.
    Hole,
}

/// The pieces of a `format()` template; a `{` or `}` that is not part of `{}`, `{{` or `}}`
/// is an error. The checker counts holes with it; the runtime formats with it.
pub fn template(t: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut chars = t.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c != '{' && c != '}' {
            continue;
        }
        if start < at {
            pieces.push(Piece::Text(t.get(start..at).unwrap_or_default().into()));
        }
        match (c, chars.next_if(|&(_, next)| next == '{' || next == '}')) {
            ('{', Some((_, '{'))) => pieces.push(Piece::Text("{".into())),
            ('}', Some((_, '}'))) => pieces.push(Piece::Text("}".into())),
            ('{', Some((_, '}'))) => pieces.push(Piece::Hole),
            _ => {
                let position = t.get(..at).unwrap_or_default().chars().count().saturating_add(1);
                let help = if c == '{' { "`{}` for a value, `{{` for a brace" } else { "`}}` for a brace" };
                return Err(format!("stray `{c}` at character {position} of the template (write {help})"));
            }
        }
        start = chars.peek().map_or(t.len(), |&(next, _)| next);
    }
    if start < t.len() {
        pieces.push(Piece::Text(t.get(start..).unwrap_or_default().into()));
    }
    Ok(pieces)
}

/// The encodings `sha256` and `hmac_sha256` write.
pub const ENCODINGS: &[&str] = &["hex", "base64", "base64url"];

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
            params: &[P::Str, P::Str, P::OptInt],
            returns: Returns::StrList,
            signature: "split(text, separator[, limit]) -> list<string>",
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
            params: &[P::Time, P::OptStr],
            returns: Returns::Weekday,
            signature: "weekday(time[, zone]) -> string",
            example: r#"weekday("2026-01-01T09:00:00+01:00") == "thursday""#,
        },
        Function {
            name: "unique",
            node: Node::Call(Builtin::Unique),
            params: &[P::List],
            returns: Returns::Arg0,
            signature: "unique(list) -> list",
            example: r#"unique(["b", "a", "b"]) == ["b", "a"]"#,
        },
        Function {
            name: "sort",
            node: Node::Call(Builtin::Sort),
            params: &[P::List],
            returns: Returns::Arg0,
            signature: "sort(list) -> list",
            example: r#"sort(["b", "a", "C"]) == ["C", "a", "b"] and sort([3, 1.5, 2]) == [1.5, 2, 3]"#,
        },
        Function {
            name: "first",
            node: Node::Call(Builtin::First),
            params: &[P::List],
            returns: Returns::Item0,
            signature: "first(list) -> item",
            example: r#"first(["a", "b"]) == "a" and first([]) == null"#,
        },
        Function {
            name: "last",
            node: Node::Call(Builtin::Last),
            params: &[P::List],
            returns: Returns::Item0,
            signature: "last(list) -> item",
            example: r#"last(["a", "b"]) == "b""#,
        },
        Function {
            name: "count",
            node: Node::Call(Builtin::Count),
            params: &[P::List, P::Any],
            returns: Returns::Int,
            signature: "count(list, element) -> int",
            example: r#"count(["sms", "otp", "sms"], "sms") == 2"#,
        },
        Function {
            name: "sum",
            node: Node::Call(Builtin::Sum),
            params: &[P::List],
            returns: Returns::Sum,
            signature: "sum(list of numbers) -> int | float",
            example: r#"sum([1, 2, 3]) == 6 and sum([]) == 0"#,
        },
        Function {
            name: "min",
            node: Node::Call(Builtin::Min),
            params: &[P::List],
            returns: Returns::Item0,
            signature: "min(list) -> item",
            example: r#"min([3, 1, 2]) == 1 and min(["b", "a"]) == "a""#,
        },
        Function {
            name: "max",
            node: Node::Call(Builtin::Max),
            params: &[P::List],
            returns: Returns::Item0,
            signature: "max(list) -> item",
            example: r#"max([3, 1, 2]) == 3 and max([]) == null"#,
        },
        Function {
            name: "keys",
            node: Node::Call(Builtin::Keys),
            params: &[P::Object],
            returns: Returns::StrList,
            signature: "keys(object) -> list<string>",
            example: r#"keys({ "plan": "pro", "seats": 5 }) == ["plan", "seats"]"#,
        },
        Function {
            name: "values",
            node: Node::Call(Builtin::Values),
            params: &[P::Object],
            returns: Returns::DynList,
            signature: "values(object) -> list",
            example: r#"values({ "plan": "pro", "seats": 5 }) == ["pro", 5]"#,
        },
        Function {
            name: "union",
            node: Node::Call(Builtin::Union),
            params: &[P::List, P::List],
            returns: Returns::Union,
            signature: "union(list, list) -> list",
            example: r#"union(["a", "b"], ["b", "c"]) == ["a", "b", "c"]"#,
        },
        Function {
            name: "intersect",
            node: Node::Call(Builtin::Intersect),
            params: &[P::List, P::List],
            returns: Returns::Arg0,
            signature: "intersect(list, list) -> list",
            example: r#"intersect(["read", "write", "read"], ["read", "admin"]) == ["read"]"#,
        },
        Function {
            name: "difference",
            node: Node::Call(Builtin::Difference),
            params: &[P::List, P::List],
            returns: Returns::Arg0,
            signature: "difference(list, list) -> list",
            example: r#"difference(["read", "write"], ["write"]) == ["read"]"#,
        },
        Function {
            name: "replace",
            node: Node::Call(Builtin::Replace),
            params: &[P::Str, P::Str, P::Str],
            returns: Returns::Str,
            signature: "replace(text, from, to) -> string",
            example: r#"replace("a.b.c", ".", "-") == "a-b-c""#,
        },
        Function {
            name: "replace_regex",
            node: Node::Regex(Builtin::ReplaceRegex),
            params: &[P::Str, P::Literal, P::Str],
            returns: Returns::Str,
            signature: "replace_regex(text, \"regex\", replacement) -> string",
            example: r#"replace_regex("jane+news@x.io", "\\+[^@]*", "") == "jane@x.io""#,
        },
        Function {
            name: "slice",
            node: Node::Call(Builtin::Slice),
            params: &[P::StrOrList, P::Int, P::OptInt],
            returns: Returns::Arg0,
            signature: "slice(text | list, start[, end]) -> string | list",
            example: r#"slice("añbc", 1, 3) == "ñb" and slice("abc", -2) == "bc" and slice([1, 2, 3], 0, 2) == [1, 2]"#,
        },
        Function {
            name: "index_of",
            node: Node::Call(Builtin::IndexOf),
            params: &[P::StrOrList, P::Any],
            returns: Returns::Int,
            signature: "index_of(text | list, part) -> int",
            example: r#"index_of("añb", "b") == 2 and index_of(["a"], "z") == -1"#,
        },
        Function {
            name: "pad_start",
            node: Node::Call(Builtin::PadStart),
            params: &[P::Str, P::Int, P::OptStr],
            returns: Returns::Str,
            signature: "pad_start(text, width[, fill]) -> string",
            example: r#"pad_start("7", 3, "0") == "007""#,
        },
        Function {
            name: "pad_end",
            node: Node::Call(Builtin::PadEnd),
            params: &[P::Str, P::Int, P::OptStr],
            returns: Returns::Str,
            signature: "pad_end(text, width[, fill]) -> string",
            example: r#"pad_end("ab", 4) == "ab  ""#,
        },
        Function {
            name: "url_encode",
            node: Node::Call(Builtin::UrlEncode),
            params: &[P::Str],
            returns: Returns::Str,
            signature: "url_encode(text) -> string",
            example: r#"url_encode("a b&c/é") == "a%20b%26c%2F%C3%A9""#,
        },
        Function {
            name: "url_decode",
            node: Node::Call(Builtin::UrlDecode),
            params: &[P::Str],
            returns: Returns::Str,
            signature: "url_decode(text) -> string",
            example: r#"url_decode("a%20b%2Bc") == "a b+c""#,
        },
        Function {
            name: "base64_encode",
            node: Node::Call(Builtin::Base64Encode),
            params: &[P::Str],
            returns: Returns::Str,
            signature: "base64_encode(text) -> string",
            example: r#"base64_encode("hi?") == "aGk/""#,
        },
        Function {
            name: "base64url_encode",
            node: Node::Call(Builtin::Base64UrlEncode),
            params: &[P::Str],
            returns: Returns::Str,
            signature: "base64url_encode(text) -> string",
            example: r#"base64url_encode("hi?") == "aGk_""#,
        },
        Function {
            name: "base64_decode",
            node: Node::Call(Builtin::Base64Decode),
            params: &[P::Str],
            returns: Returns::Str,
            signature: "base64_decode(text) -> string",
            example: r#"base64_decode("aGk/") == "hi?""#,
        },
        Function {
            name: "base64url_decode",
            node: Node::Call(Builtin::Base64UrlDecode),
            params: &[P::Str],
            returns: Returns::Str,
            signature: "base64url_decode(text) -> string",
            example: r#"base64url_decode("aGk_") == "hi?""#,
        },
        Function {
            name: "sha256",
            node: Node::Call(Builtin::Sha256),
            params: &[P::Str, P::OptStr],
            returns: Returns::Str,
            signature: "sha256(text[, \"hex\" | \"base64\" | \"base64url\"]) -> string",
            example: r#"sha256("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad""#,
        },
        Function {
            name: "hmac_sha256",
            node: Node::Call(Builtin::HmacSha256),
            params: &[P::Str, P::Str, P::OptStr],
            returns: Returns::Str,
            signature: "hmac_sha256(key, message[, \"hex\" | \"base64\" | \"base64url\"]) -> string",
            example: r#"hmac_sha256("Jefe", "what do ya want for nothing?", "base64") == "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=""#,
        },
        Function {
            name: "format",
            node: Node::Call(Builtin::Format),
            params: &[P::Literal, P::Rest],
            returns: Returns::Str,
            signature: "format(\"template {}\", values...) -> string",
            example: r#"format("{} of {}", 1, null) == "1 of null""#,
        },
        Function {
            name: "capture",
            node: Node::Regex(Builtin::Capture),
            params: &[P::Str, P::Literal],
            returns: Returns::StrList,
            signature: "capture(text, \"regex\") -> list<string>",
            example: r#"capture("v2.13", "^v([0-9]+)\\.([0-9]+)$") == ["v2.13", "2", "13"]"#,
        },
        Function {
            name: "capture_named",
            node: Node::Regex(Builtin::CaptureNamed),
            params: &[P::Str, P::Literal],
            returns: Returns::Captures,
            signature: "capture_named(text, \"regex\") -> object",
            example: r#"capture_named("ada@example.com", "^(?P<local>[^@]+)@(?P<domain>.+)$").domain == "example.com""#,
        },
        Function {
            name: "hour",
            node: Node::Call(Builtin::Hour),
            params: &[P::Time, P::OptStr],
            returns: Returns::Int,
            signature: "hour(time[, zone]) -> int",
            example: r#"hour("2026-07-01T12:30:00Z", "Europe/Berlin") == 14"#,
        },
        Function {
            name: "minute",
            node: Node::Call(Builtin::Minute),
            params: &[P::Time, P::OptStr],
            returns: Returns::Int,
            signature: "minute(time[, zone]) -> int",
            example: r#"minute("2026-07-01T12:30:00Z", "Asia/Kolkata") == 0"#,
        },
        Function {
            name: "date",
            node: Node::Call(Builtin::Date),
            params: &[P::Time, P::OptStr],
            returns: Returns::Str,
            signature: "date(time[, zone]) -> string",
            example: r#"date("2026-07-01T23:30:00Z", "Asia/Tokyo") == "2026-07-02""#,
        },
        Function {
            name: "days",
            node: Node::Call(Builtin::Days),
            params: &[P::Int],
            returns: Returns::Int,
            signature: "days(n) -> int (milliseconds)",
            example: "days(2) == 172800000",
        },
        Function {
            name: "hours",
            node: Node::Call(Builtin::Hours),
            params: &[P::Int],
            returns: Returns::Int,
            signature: "hours(n) -> int (milliseconds)",
            example: "hours(1) == 3600000",
        },
        Function {
            name: "minutes",
            node: Node::Call(Builtin::Minutes),
            params: &[P::Int],
            returns: Returns::Int,
            signature: "minutes(n) -> int (milliseconds)",
            example: "minutes(1) == 60000",
        },
        Function {
            name: "seconds",
            node: Node::Call(Builtin::Seconds),
            params: &[P::Int],
            returns: Returns::Int,
            signature: "seconds(n) -> int (milliseconds)",
            example: "seconds(1) == 1000",
        },
        Function {
            name: "millis",
            node: Node::Call(Builtin::Millis),
            params: &[P::Time],
            returns: Returns::Int,
            signature: "millis(time) -> int (epoch milliseconds)",
            example: r#"millis("1970-01-01T00:00:01Z") == 1000"#,
        },
        Function {
            name: "parse_time",
            node: Node::Call(Builtin::ParseTime),
            params: &[P::Str, P::Str, P::OptStr],
            returns: Returns::Int,
            signature: "parse_time(text, \"format\"[, zone]) -> int (epoch milliseconds)",
            example: r#"parse_time("01/02/2026 10:00", "%m/%d/%Y %H:%M", "UTC") == millis("2026-01-02T10:00:00Z")"#,
        },
        Function {
            name: "format_time",
            node: Node::Call(Builtin::FormatTime),
            params: &[P::Time, P::Str, P::OptStr],
            returns: Returns::Str,
            signature: "format_time(time, \"rfc3339\" | \"pattern\"[, zone]) -> string",
            example: r#"format_time(0, "%Y-%m-%d %H:%M", "Asia/Kolkata") == "1970-01-01 05:30""#,
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
        if let Node::Call(b) | Node::Regex(b) = BUILTINS[i].node {
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
    fn templates_count_holes_and_refuse_stray_braces() {
        use super::{Piece, template};
        let holes = |t: &str| template(t).map(|p| p.iter().filter(|p| matches!(p, Piece::Hole)).count());
        assert_eq!(holes(""), Ok(0));
        assert_eq!(holes("a {} b {}{}"), Ok(3));
        assert_eq!(holes("{{}} {{{}}}"), Ok(1));
        let stray = |c: char, n: usize| {
            let help = if c == '{' { "`{}` for a value, `{{` for a brace" } else { "`}}` for a brace" };
            Err(format!("stray `{c}` at character {n} of the template (write {help})"))
        };
        assert_eq!(holes("{"), stray('{', 1));
        assert_eq!(holes("é{x}"), stray('{', 2));
        assert_eq!(holes("{{{"), stray('{', 3));
        assert_eq!(holes("{ }"), stray('{', 1));
        assert_eq!(holes("}"), stray('}', 1));
        assert_eq!(holes("😀}{"), stray('}', 2));
        assert_eq!(holes("{{}"), stray('}', 3));
        assert_eq!(holes("{}}"), stray('}', 3));
    }

    #[test]
    fn rows_are_consistent() {
        for (i, f) in BUILTINS.iter().enumerate() {
            assert!(std::ptr::eq(lookup(f.name).expect("found"), f), "`{}` has two rows", f.name);
            assert!(f.signature.starts_with(&format!("{}(", f.name)), "`{}`: {}", f.name, f.signature);
            assert!(f.example.contains(&format!("{}(", f.name)), "`{}`: {}", f.name, f.example);
            if let Node::Call(b) | Node::Regex(b) = f.node {
                assert_eq!(b.name(), f.name);
                assert!(std::ptr::eq(b.function(), &BUILTINS[i]));
            }
        }
    }
}
