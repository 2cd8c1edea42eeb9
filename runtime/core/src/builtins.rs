//! Built-in functions. Value functions give null on a null input; predicates give false.

use std::net::IpAddr;

use crate::Value;
use ipnet::IpNet;
use warden_ir::Builtin;

/// A failed call: the index of the offending argument and the message.
pub type Failure = (usize, String);

const DAY_MS: f64 = 86_400_000.0;
const WEEKDAYS: [&str; 7] = ["thursday", "friday", "saturday", "sunday", "monday", "tuesday", "wednesday"];

/// Calls a built-in on evaluated arguments.
pub fn call(f: Builtin, args: &[Value], now: i64) -> Result<Value, Failure> {
    use Builtin as B;
    let predicate = matches!(f, B::StartsWith | B::EndsWith | B::Contains);
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
        B::Split => {
            let (text, sep) = (s(0)?, s(1)?);
            let parts: Vec<Value> = if sep.is_empty() {
                text.chars().map(|c| Value::str(c.encode_utf8(&mut [0; 4]))).collect()
            } else {
                text.split(sep).map(Value::str).collect()
            };
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
        B::DaysSince => Value::Float((now - time_ms(&args[0], f)?) as f64 / DAY_MS),
        B::Weekday => Value::str(weekday(time_ms(&args[0], f)?)),
    })
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

/// The day of the week of a time in epoch milliseconds, in UTC.
pub fn weekday(ms: i64) -> &'static str {
    WEEKDAYS[ms.div_euclid(86_400_000).rem_euclid(7) as usize]
}

/// A date-time as epoch milliseconds: RFC 3339, `YYYY-MM-DD`, or a number of milliseconds.
fn time_ms(v: &Value, f: Builtin) -> Result<i64, Failure> {
    match v {
        Value::Int(ms) => Ok(*ms),
        Value::Float(ms) if ms.is_finite() => Ok(*ms as i64),
        Value::Str(s) => parse_time(s).ok_or_else(|| (0, format!("{s:?} is not a date-time (RFC 3339 or YYYY-MM-DD)"))),
        other => Err((0, format!("`{}` expects a date-time, found {}", f.name(), other.describe()))),
    }
}

pub fn parse_time(s: &str) -> Option<i64> {
    if let Ok(ts) = s.parse::<jiff::Timestamp>() {
        return Some(ts.as_millisecond());
    }
    // A bare date is midnight UTC.
    let date = s.parse::<jiff::civil::Date>().ok()?;
    format!("{date}T00:00:00Z").parse::<jiff::Timestamp>().ok().map(|ts| ts.as_millisecond())
}

/// Parses an address; IPv4-mapped IPv6 addresses become IPv4.
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    let ip: IpAddr = s.trim().parse().ok()?;
    Some(ip.to_canonical())
}

pub fn net_contains(net: &IpNet, ip: IpAddr) -> bool {
    net.contains(&ip)
}
