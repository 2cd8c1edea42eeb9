//! The builtins of collections, strings, encodings, regular expressions and time zones:
//! argument types checked here, the work done in `text`, `collections` and `timefns`.
//! Arguments are present (the caller answers for missing ones) and their number is one the
//! builtin takes.

use warden_ir::Builtin;

use super::{Failure, int};
use crate::{Value, text};

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
        _ => Err((0, format!("`{}` is not available yet", f.name()))),
    }
}

/// A call of a builtin whose pattern was compiled at load; `args` are the others (the text,
/// then a replacement).
pub fn call_regex(f: Builtin, args: &[Value], re: &regex::Regex) -> Result<Value, Failure> {
    use Builtin as B;
    if !warden_ir::builtins::takes(f, args.len() + 1) {
        return Err((0, format!("`{}` cannot take {} arguments", f.name(), args.len() + 1)));
    }
    if args.iter().any(Value::is_null) {
        return Ok(Value::Null);
    }
    let s = |i: usize| str_arg(f, args, i);
    match f {
        B::Capture => text::capture(re, s(0)?),
        B::CaptureNamed => text::capture_named(re, s(0)?),
        // The replacement is the call's third argument, the second of `args`.
        B::ReplaceRegex => text::replace_regex(re, s(0)?, s(1)?).map_err(|(i, m)| (i.min(1), m)),
        _ => Err((0, format!("`{}` takes no pattern", f.name()))),
    }
}

fn str_arg<'a>(f: Builtin, args: &'a [Value], i: usize) -> Result<&'a str, Failure> {
    match &args[i] {
        Value::Str(s) => Ok(s),
        other => Err((i, format!("`{}` expects a string, found {}", f.name(), other.describe()))),
    }
}
