//! The builtins of collections, strings, encodings, regular expressions and time zones:
//! argument types checked here, the work done in `text`, `collections` and `timefns`.
//! Arguments are present (the caller answers for missing ones) and their number is one the
//! builtin takes.

use warden_ir::Builtin;

use super::{Failure, int};
use crate::{Value, collections as c, text, timefns as t};

/// A call of one of these builtins on evaluated, present arguments.
pub fn call(f: Builtin, args: &[Value]) -> Result<Value, Failure> {
    use Builtin as B;
    let s = |i: usize| str_arg(f, args, i);
    let opt_s = |i: usize| args.get(i).map(|_| str_arg(f, args, i)).transpose();
    match f {
        B::Replace => text::replace(s(0)?, s(1)?, s(2)?),
        B::Slice => {
            let (start, end) = (int(f, args, 1)?, args.get(2).map(|_| int(f, args, 2)).transpose()?);
            match &args[0] {
                Value::Str(t) => text::slice_text(t, start, end),
                Value::List(items) => text::slice_list(items, start, end),
                other => Err((0, format!("slice() needs a string or a list, found {}", other.describe()))),
            }
        }
        B::IndexOf => match &args[0] {
            Value::Str(t) => text::index_of_text(t, s(1)?),
            Value::List(items) => text::index_of_list(items, &args[1]),
            other => Err((0, format!("index_of() needs a string or a list, found {}", other.describe()))),
        },
        B::PadStart => text::pad_start(s(0)?, int(f, args, 1)?, opt_s(2)?),
        B::PadEnd => text::pad_end(s(0)?, int(f, args, 1)?, opt_s(2)?),
        B::UrlEncode => text::url_encode(s(0)?),
        B::UrlDecode => text::url_decode(s(0)?),
        B::Base64Encode => text::base64_encode(s(0)?),
        B::Base64UrlEncode => text::base64url_encode(s(0)?),
        B::Base64Decode => text::base64_decode(s(0)?),
        B::Base64UrlDecode => text::base64url_decode(s(0)?),
        B::Sha256 => text::sha256(s(0)?, opt_s(1)?),
        B::HmacSha256 => text::hmac_sha256(s(0)?, s(1)?, opt_s(2)?),
        B::Unique => c::unique(list(f, args, 0)?),
        B::Sort => c::sort(list(f, args, 0)?),
        B::First => c::first(list(f, args, 0)?),
        B::Last => c::last(list(f, args, 0)?),
        B::Count => c::count(list(f, args, 0)?, &args[1]),
        B::Sum => c::sum(list(f, args, 0)?),
        B::Min => c::min(list(f, args, 0)?),
        B::Max => c::max(list(f, args, 0)?),
        B::Keys => c::keys(object(f, args, 0)?),
        B::Values => c::values(object(f, args, 0)?),
        B::Union => c::union(list(f, args, 0)?, list(f, args, 1)?),
        B::Intersect => c::intersect(list(f, args, 0)?, list(f, args, 1)?),
        B::Difference => c::difference(list(f, args, 0)?, list(f, args, 1)?),
        B::Hour => t::hour(&args[0], opt_s(1)?).map(Value::Int),
        B::Minute => t::minute(&args[0], opt_s(1)?).map(Value::Int),
        B::Date => t::date(&args[0], opt_s(1)?).map(|d| Value::str(&d)),
        B::Weekday => t::weekday_in(&args[0], opt_s(1)?).map(Value::str),
        B::Days => t::days(int(f, args, 0)?).map(Value::Int),
        B::Hours => t::hours(int(f, args, 0)?).map(Value::Int),
        B::Minutes => t::minutes(int(f, args, 0)?).map(Value::Int),
        B::Seconds => t::seconds(int(f, args, 0)?).map(Value::Int),
        B::Millis => t::millis(&args[0]).map(Value::Int),
        B::ParseTime => t::parse_time(s(0)?, s(1)?, opt_s(2)?).map(Value::Int),
        B::FormatTime => t::format_time(&args[0], s(1)?, opt_s(2)?).map(|d| Value::str(&d)),
        // The builtins of `builtins::call` and the ones with a pattern.
        _ => Err((0, format!("internal: `{}` has no implementation here", f.name()))),
    }
}

fn list(f: Builtin, args: &[Value], i: usize) -> Result<&[Value], Failure> {
    match &args[i] {
        Value::List(items) => Ok(items),
        other => Err((i, format!("`{}` expects a list, found {}", f.name(), other.describe()))),
    }
}

fn object(f: Builtin, args: &[Value], i: usize) -> Result<&indexmap::IndexMap<String, Value>, Failure> {
    match &args[i] {
        Value::Object(map) => Ok(map),
        other => Err((i, format!("`{}` expects an object, found {}", f.name(), other.describe()))),
    }
}

/// A call of a builtin whose pattern was compiled at load; `args` are the others (the text,
/// then a replacement).
pub fn call_regex(f: Builtin, args: &[Value], re: &regex::Regex) -> Result<Value, Failure> {
    use Builtin as B;
    if !warden_ir::builtins::takes(f, args.len() + 1) {
        return Err((0, warden_ir::builtins::arity_error(f, args.len() + 1)));
    }
    if args.iter().any(Value::is_null) {
        return Ok(Value::Null);
    }
    let s = |i: usize| str_arg(f, args, i);
    match f {
        B::Capture => text::capture(re, s(0)?),
        B::CaptureNamed => text::capture_named(re, s(0)?),
        // The replacement is the call's third argument, the second of `args`.
        B::ReplaceRegex => text::replace_regex(re, s(0)?, s(1)?),
        _ => Err((0, format!("`{}` takes no pattern", f.name()))),
    }
}

fn str_arg(f: Builtin, args: &[Value], i: usize) -> Result<&str, Failure> {
    match &args[i] {
        Value::Str(s) => Ok(s),
        other => Err((i, format!("`{}` expects a string, found {}", f.name(), other.describe()))),
    }
}
