//! Built-in functions. Value functions give null on a null input; predicates give false.

use crate::Fault;
use crate::fault::fault;
use std::net::IpAddr;

use crate::Value;
use ipnet::IpNet;

#[path = "builtins_more.rs"]
mod more;
pub use more::call_regex;
use warden_ir::Builtin;
use warden_ir::builtins::Returns;

/// A failed call: the index of the offending argument ([`AT_CALL`]: the call itself, as for
/// a result past a limit) and the message.
pub type Failure = (usize, String);

/// The "argument" index of a failure that is the call's own.
pub const AT_CALL: usize = usize::MAX;

const DAY_MS: f64 = 86_400_000.0;
pub(crate) const WEEKDAYS: [&str; 7] = ["thursday", "friday", "saturday", "sunday", "monday", "tuesday", "wednesday"];

/// Calls a built-in on evaluated arguments: what each builtin of `warden_ir::BUILTINS` means,
/// for the interpreter and the JIT alike.
pub fn call(f: Builtin, args: &[Value], now: i64) -> Result<Value, Failure> {
    use Builtin as B;
    // `Program::validate` refuses other arities; this keeps an unvalidated program from
    // indexing past the arguments.
    if !warden_ir::builtins::takes(f, args.len()) {
        return Err((0, warden_ir::builtins::arity_error(f, args.len())));
    }
    // `format` shows a missing value as `null` instead of going missing.
    if f == B::Format {
        return format(args);
    }
    // Predicates (the builtins that give a bool) are false over a missing argument.
    let predicate = f.function().returns == Returns::Bool;
    if args.iter().any(Value::is_null) {
        return Ok(if predicate { Value::Bool(false) } else { Value::Null });
    }
    let s = |i: usize| -> Result<&str, Failure> {
        match &args[i] {
            Value::Str(s) => Ok(s),
            other => Err((i, format!("`{}` expects a string, found {}", f.name(), other.describe()))),
        }
    };
    Ok(match f {
        B::Lower | B::Upper | B::Trim | B::EmailDomain => match text_fn(f, s(0)?) {
            Some(t) => Value::str(&t),
            None => Value::Null,
        },
        B::StartsWith => Value::Bool(s(0)?.starts_with(s(1)?)),
        B::EndsWith => Value::Bool(s(0)?.ends_with(s(1)?)),
        B::Contains => match &args[0] {
            Value::Str(hay) => Value::Bool(hay.contains(s(1)?)),
            Value::List(items) => Value::Bool(items.iter().any(|i| i.equals(&args[1]))),
            other => {
                return Err((0, format!("contains() needs a string or a list, found {}", other.describe())));
            }
        },
        B::Split if args.len() == 3 => crate::text::split_limit(s(0)?, s(1)?, int(f, args, 2)?)?,
        B::Split => {
            let (text, sep) = (s(0)?, s(1)?);
            let parts: Vec<Value> = if sep.is_empty() {
                text.chars()
                    .take(crate::text::MAX_BUILT_ITEMS + 1)
                    .map(|c| Value::str(c.encode_utf8(&mut [0; 4])))
                    .collect()
            } else {
                text.split(sep).take(crate::text::MAX_BUILT_ITEMS + 1).map(Value::str).collect()
            };
            if parts.len() > crate::text::MAX_BUILT_ITEMS {
                return Err((AT_CALL, "the result of split() would exceed 100,000 items".into()));
            }
            Value::List(parts.into())
        }
        B::Join => {
            let sep = s(1)?;
            let Value::List(items) = &args[0] else {
                return Err((0, format!("join() needs a list, found {}", args[0].describe())));
            };
            let mut parts = Vec::with_capacity(items.len());
            for item in items.iter() {
                match item {
                    Value::Str(x) => parts.push(x.to_string()),
                    other => {
                        return Err((0, format!("join() needs a list of strings, found {} in it", other.describe())));
                    }
                }
            }
            Value::str(&parts.join(sep))
        }
        B::Len => Value::Int(match &args[0] {
            Value::Str(x) => x.chars().count() as i64,
            Value::List(items) => items.len() as i64,
            Value::Object(map) => map.len() as i64,
            other => {
                return Err((0, format!("len() needs a string, list or object, found {}", other.describe())));
            }
        }),
        B::Now => Value::Int(now),
        B::DaysSince => {
            let since = now.checked_sub(time_ms(&args[0], f)?).ok_or((0, "date-time arithmetic overflows".into()))?;
            Value::Float(since as f64 / DAY_MS)
        }
        B::Weekday if args.len() == 1 => Value::str(weekday(time_ms(&args[0], f)?).map_err(|m| (0, m.into_message()))?),
        _ => return more::call(f, args),
    })
}

/// `format("template", values...)`; a missing value is written `null`.
fn format(args: &[Value]) -> Result<Value, Failure> {
    match args.first() {
        Some(Value::Str(t)) => crate::text::format(t, &args[1..]),
        Some(other) => Err((0, format!("format() needs a template string, found {}", other.describe()))),
        None => Err((0, "format() needs a template".into())),
    }
}

/// The `i`th argument as an int.
pub(crate) fn int(f: Builtin, args: &[Value], i: usize) -> Result<i64, Failure> {
    match &args[i] {
        Value::Int(n) => Ok(*n),
        Value::Float(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Ok(*x as i64),
        other => Err((i, format!("`{}` expects an int, found {}", f.name(), other.describe()))),
    }
}

/// `lower`, `upper`, `trim` and `email_domain` on a string: borrowed from the input when
/// nothing changes (the common case), `None` for a missing result (an email without domain).
pub fn text_fn(f: Builtin, s: &str) -> Option<std::borrow::Cow<'_, str>> {
    use std::borrow::Cow;
    fn lower(s: &str) -> Cow<'_, str> {
        if s.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
            Cow::Borrowed(s)
        } else {
            Cow::Owned(s.to_lowercase())
        }
    }
    Some(match f {
        Builtin::Lower => lower(s),
        Builtin::Upper => {
            if s.bytes().all(|b| b.is_ascii() && !b.is_ascii_lowercase()) {
                Cow::Borrowed(s)
            } else {
                Cow::Owned(s.to_uppercase())
            }
        }
        Builtin::Trim => Cow::Borrowed(s.trim()),
        _ => match s.rsplit_once('@') {
            Some((_, domain)) if !domain.is_empty() => lower(domain),
            _ => return None,
        },
    })
}

/// The day of the week of a time in epoch milliseconds, in UTC; an instant outside the
/// supported range is an error.
pub fn weekday(ms: i64) -> Result<&'static str, Fault> {
    in_range(ms)?;
    Ok(WEEKDAYS[ms.div_euclid(86_400_000).rem_euclid(7) as usize])
}

/// Whether epoch milliseconds name an instant warden supports (jiff's range of timestamps).
fn in_range(ms: i64) -> Result<i64, Fault> {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(_) => Ok(ms),
        Err(_) => Err(fault!(
            "{ms} is outside the supported range of date-times (-9999-01-02T01:59:59Z to 9999-12-30T22:00:00Z)"
        )),
    }
}

/// A date-time as epoch milliseconds: RFC 3339, `YYYY-MM-DD`, or a number of milliseconds
/// (fractions are dropped). Out-of-range instants and other strings are errors.
pub(crate) fn time_ms(v: &Value, f: Builtin) -> Result<i64, Failure> {
    match v {
        Value::Int(ms) => in_range(*ms).map_err(|m| (0, m.into_message())),
        Value::Float(ms) if ms.is_finite() && ms.abs() < 9.0e18 => {
            in_range(*ms as i64).map_err(|m| (0, m.into_message()))
        }
        Value::Float(ms) => Err((
            0,
            format!(
                "{ms} is outside the supported range of date-times (-9999-01-02T01:59:59Z to 9999-12-30T22:00:00Z)"
            ),
        )),
        Value::Str(s) => parse_time(s).ok_or_else(|| {
            (0, format!("{s:?} is not a date-time (RFC 3339 with an offset, YYYY-MM-DD, or epoch milliseconds)"))
        }),
        other => Err((0, format!("`{}` expects a date-time, found {}", f.name(), other.describe()))),
    }
}

/// Parses an RFC 3339 date-time, which must carry an offset (`Z` or `+01:00`), or a bare
/// `YYYY-MM-DD` date (midnight UTC). A date-time without an offset is not an instant.
pub fn parse_time(s: &str) -> Option<i64> {
    if let Ok(ts) = s.parse::<jiff::Timestamp>() {
        return Some(ts.as_millisecond());
    }
    let b = s.as_bytes();
    let date_only = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() });
    if !date_only {
        return None;
    }
    let date = s.parse::<jiff::civil::Date>().ok()?;
    format!("{date}T00:00:00Z").parse::<jiff::Timestamp>().ok().map(|ts| ts.as_millisecond())
}

/// Parses an address (exactly: white space around it does not parse); IPv4-mapped IPv6
/// addresses become IPv4.
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    let ip: IpAddr = s.parse().ok()?;
    Some(ip.to_canonical())
}

pub fn net_contains(net: &IpNet, ip: IpAddr) -> bool {
    net.contains(&ip)
}
