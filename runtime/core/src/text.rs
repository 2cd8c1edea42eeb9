//! The string and regular-expression built-ins of issue 17: pure functions over typed
//! arguments. The dispatcher in [`crate::builtins`] has already turned missing arguments into
//! a missing result (except `format`'s values, written `null`) and checked the arguments'
//! types; what is left here (an empty `from`, a malformed escape, a result past the limits)
//! is a rule error, a [`Failure`] naming the argument at fault.
//!
//! Characters are Unicode scalar values (`char`s): indices and widths count them, never
//! bytes or UTF-16 units. Every string these functions give is at most [`MAX_BUILT_STRING`]
//! bytes and every list at most [`MAX_BUILT_ITEMS`] items; strings that could grow past the
//! limit are checked while they are built, so no call allocates much more than the limit.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, STANDARD, URL_SAFE_NO_PAD};
use base64::engine::{DecodePaddingMode, GeneralPurposeConfig};
use hmac::{Hmac, Mac};
use indexmap::IndexMap;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use regex::Regex;
use sha2::{Digest, Sha256};

use crate::Value;
use crate::builtins::{AT_CALL, Failure};

/// The most bytes a string built by a built-in may hold (1 MiB).
pub const MAX_BUILT_STRING: usize = 1 << 20;

/// The most items a list built by a built-in may hold.
pub const MAX_BUILT_ITEMS: usize = 100_000;

/// `replace(text, from, to)`: every occurrence of `from`, literally; an empty `from` is an error.
pub fn replace(text: &str, from: &str, to: &str) -> Result<Value, Failure> {
    if from.is_empty() {
        return Err((1, "replace() needs a non-empty string to replace, found an empty one".into()));
    }
    let mut out = Built::new("replace");
    let mut rest = text;
    while let Some((before, after)) = rest.split_once(from) {
        out.push(before)?;
        out.push(to)?;
        rest = after;
    }
    out.push(rest)?;
    Ok(out.finish())
}

/// `replace_regex(text, "pattern", replacement)`: every match of `re` in `text` replaced;
/// `$1`, `$name`, `${name}` name groups (a group that did not take part gives "") and `$$`
/// is a `$`, as the `regex` crate expands them.
pub fn replace_regex(re: &Regex, text: &str, replacement: &str) -> Result<Value, Failure> {
    let pieces = replacement_pieces(re, replacement);
    let mut out = Built::new("replace_regex");
    let mut last = 0;
    for caps in re.captures_iter(text) {
        let Some(whole) = caps.get(0) else { continue };
        out.push(text.get(last..whole.start()).unwrap_or_default())?;
        for piece in &pieces {
            match piece {
                Piece::Text(s) => out.push(s)?,
                Piece::Group(i) => out.push(caps.get(*i).map_or("", |m| m.as_str()))?,
            }
        }
        last = whole.end();
    }
    out.push(text.get(last..).unwrap_or_default())?;
    Ok(out.finish())
}

/// `slice(text, start[, end])`: the characters from `start` to `end` (default: the end),
/// negative indices counting from the end, clamped, as JavaScript's `slice`.
pub fn slice_text(text: &str, start: i64, end: Option<i64>) -> Result<Value, Failure> {
    let len = text.chars().count();
    let (from, to) = slice_bounds(len, start, end);
    if from >= to {
        return Ok(Value::str(""));
    }
    let byte = |n: usize| text.char_indices().nth(n).map_or(text.len(), |(b, _)| b);
    string_result("slice", text.get(byte(from)..byte(to)).unwrap_or_default())
}

/// `slice(list, start[, end])`: the items from `start` to `end` (default: the end), negative
/// indices counting from the end, clamped, as JavaScript's `slice`.
pub fn slice_list(items: &[Value], start: i64, end: Option<i64>) -> Result<Value, Failure> {
    let (from, to) = slice_bounds(items.len(), start, end);
    list_result("slice", items.get(from..to).unwrap_or_default().to_vec())
}

/// `index_of(text, part)`: the character position of the first occurrence of `part`, -1
/// when absent (an empty `part` is at 0).
pub fn index_of_text(text: &str, part: &str) -> Result<Value, Failure> {
    Ok(Value::Int(match text.find(part) {
        Some(byte) => count(text.get(..byte).unwrap_or_default().chars().count()),
        None => -1,
    }))
}

/// `index_of(list, element)`: the position of the first item equal to `element` (as `==`),
/// -1 when absent.
pub fn index_of_list(items: &[Value], element: &Value) -> Result<Value, Failure> {
    Ok(Value::Int(items.iter().position(|item| item.equals(element)).map_or(-1, count)))
}

/// `pad_start(text, width[, fill])`: `fill` (default " ") repeated and cut before `text` to
/// make `width` characters, as JavaScript's `padStart`; unchanged when already that long or
/// when `fill` is empty.
pub fn pad_start(text: &str, width: i64, fill: Option<&str>) -> Result<Value, Failure> {
    pad("pad_start", text, width, fill, true)
}

/// `pad_end(text, width[, fill])`: `fill` (default " ") repeated and cut after `text` to
/// make `width` characters, as JavaScript's `padEnd`; unchanged when already that long or
/// when `fill` is empty.
pub fn pad_end(text: &str, width: i64, fill: Option<&str>) -> Result<Value, Failure> {
    pad("pad_end", text, width, fill, false)
}

/// `split(text, separator, limit)`: at most `limit` parts, the last holding the rest; an
/// empty separator splits into characters; a limit below 1 is an error.
pub fn split_limit(text: &str, separator: &str, limit: i64) -> Result<Value, Failure> {
    if limit < 1 {
        return Err((2, format!("split() needs a limit of at least 1, found {limit}")));
    }
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut parts = Vec::new();
    if separator.is_empty() {
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if parts.len().saturating_add(1) >= limit {
                break;
            }
            let (first, after) = rest.split_at(c.len_utf8());
            push_part(&mut parts, first)?;
            rest = after;
        }
        if !rest.is_empty() {
            push_part(&mut parts, rest)?;
        }
    } else {
        for part in text.splitn(limit, separator) {
            push_part(&mut parts, part)?;
        }
    }
    Ok(Value::List(Arc::new(parts)))
}

/// `url_encode(text)`: UTF-8 percent-encoding of every byte but `A-Z a-z 0-9 - _ . ! ~ * ' ( )`,
/// as JavaScript's `encodeURIComponent`.
pub fn url_encode(text: &str) -> Result<Value, Failure> {
    let mut out = Built::new("url_encode");
    for chunk in percent_encoding::utf8_percent_encode(text, URI_COMPONENT) {
        out.push(chunk)?;
    }
    Ok(out.finish())
}

/// `url_decode(text)`: `%XX` sequences decoded (`+` stays `+`); a malformed sequence or a
/// result that is not UTF-8 is an error.
pub fn url_decode(text: &str) -> Result<Value, Failure> {
    let mut rest = text;
    while let Some((_, after)) = rest.split_once('%') {
        let digits: String = after.chars().take(2).collect();
        if digits.len() != 2 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err((
                0,
                format!("url_decode() found a malformed escape `%{digits}` (a `%` must be followed by two hex digits)"),
            ));
        }
        rest = after;
    }
    match percent_encoding::percent_decode_str(text).decode_utf8() {
        Ok(decoded) => string_result("url_decode", &decoded),
        Err(_) => Err((0, "url_decode() decodes to bytes that are not UTF-8 text".into())),
    }
}

/// `base64_encode(text)`: the UTF-8 bytes of `text` in standard base64, padded.
pub fn base64_encode(text: &str) -> Result<Value, Failure> {
    encode_base64("base64_encode", &STANDARD, true, text.as_bytes())
}

/// `base64url_encode(text)`: the UTF-8 bytes of `text` in URL-safe base64, unpadded.
pub fn base64url_encode(text: &str) -> Result<Value, Failure> {
    encode_base64("base64url_encode", &URL_SAFE_NO_PAD, false, text.as_bytes())
}

/// `base64_decode(text)`: standard base64 with its padding required, decoded to UTF-8 text;
/// invalid base64 or bytes that are not UTF-8 are an error.
pub fn base64_decode(text: &str) -> Result<Value, Failure> {
    decode_base64("base64_decode", &STANDARD, text)
}

/// `base64url_decode(text)`: URL-safe base64, padded or not, decoded to UTF-8 text; invalid
/// base64 or bytes that are not UTF-8 are an error.
pub fn base64url_decode(text: &str) -> Result<Value, Failure> {
    decode_base64("base64url_decode", &URL_SAFE_ANY_PAD, text)
}

/// `sha256(text[, encoding])`: the SHA-256 digest of the UTF-8 bytes of `text`, as `"hex"`
/// (the default, lower case), `"base64"` (padded) or `"base64url"` (unpadded).
pub fn sha256(text: &str, encoding: Option<&str>) -> Result<Value, Failure> {
    encode_digest("sha256", 1, &Sha256::digest(text.as_bytes()), encoding)
}

/// `hmac_sha256(key, message[, encoding])`: HMAC-SHA-256 of `message` keyed with the UTF-8
/// bytes of `key`, encoded as [`sha256`] encodes.
pub fn hmac_sha256(key: &str, message: &str, encoding: Option<&str>) -> Result<Value, Failure> {
    // HMAC takes keys of any length: this never fails.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes())
        .map_err(|_| (0, "hmac_sha256() cannot use this key".to_string()))?;
    mac.update(message.as_bytes());
    encode_digest("hmac_sha256", 2, &mac.finalize().into_bytes(), encoding)
}

/// `format("template", values...)`: each `{}` replaced by the next value written as
/// interpolation writes it (a missing value as `null`), `{{` and `}}` as braces.
pub fn format(template: &str, values: &[Value]) -> Result<Value, Failure> {
    use warden_ir::builtins::Piece as P;
    let pieces = warden_ir::builtins::template(template).map_err(|m| (0, format!("format(): {m}")))?;
    let holes = pieces.iter().filter(|p| matches!(p, P::Hole)).count();
    if holes != values.len() {
        return Err((0, format!("format() template takes {holes} values, found {}", values.len())));
    }
    let mut out = Built::new("format");
    let mut next = values.iter();
    for piece in pieces {
        match piece {
            P::Text(s) => out.push(&s)?,
            P::Hole => match next.next() {
                None | Some(Value::Null) => out.push("null")?,
                Some(Value::Str(s)) => out.push(s)?,
                Some(v) => out.push(&v.to_text())?,
            },
        }
    }
    Ok(out.finish())
}

/// `capture(text, "pattern")`: the first match as `[whole, group 1, ...]` (a group that did
/// not take part is a missing item), missing when nothing matches.
pub fn capture(re: &Regex, text: &str) -> Result<Value, Failure> {
    let Some(caps) = re.captures(text) else { return Ok(Value::Null) };
    let mut items = Vec::with_capacity(caps.len());
    for group in caps.iter() {
        items.push(match group {
            Some(m) => string_result("capture", m.as_str())?,
            None => Value::Null,
        });
    }
    list_result("capture", items)
}

/// `capture_named(text, "pattern")`: the first match's named groups that took part, as an
/// object in the pattern's order; missing when nothing matches.
pub fn capture_named(re: &Regex, text: &str) -> Result<Value, Failure> {
    let Some(caps) = re.captures(text) else { return Ok(Value::Null) };
    let mut object = IndexMap::new();
    for name in re.capture_names().flatten() {
        if let Some(m) = caps.name(name) {
            object.insert(name.to_string(), string_result("capture_named", m.as_str())?);
        }
    }
    Ok(Value::Object(Arc::new(object)))
}

/// The names of `re`'s named groups in the pattern's order: the fields `capture_named` can give.
pub fn capture_names(re: &Regex) -> Vec<String> {
    re.capture_names().flatten().map(str::to_string).collect()
}

/// `encodeURIComponent`'s set: everything but `A-Z a-z 0-9 - _ . ! ~ * ' ( )` is encoded.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// URL-safe base64 that decodes with or without padding (and encodes with it: unused).
const URL_SAFE_ANY_PAD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A string under construction, refused as soon as it would pass [`MAX_BUILT_STRING`].
struct Built {
    s: String,
    name: &'static str,
}

impl Built {
    fn new(name: &'static str) -> Built {
        Built { s: String::new(), name }
    }

    fn push(&mut self, part: &str) -> Result<(), Failure> {
        if self.s.len().saturating_add(part.len()) > MAX_BUILT_STRING {
            return Err((AT_CALL, too_long(self.name)));
        }
        self.s.push_str(part);
        Ok(())
    }

    fn finish(self) -> Value {
        Value::str(&self.s)
    }
}

fn too_long(name: &str) -> String {
    format!("the result of {name}() would exceed 1 MiB")
}

fn too_many(name: &str) -> String {
    format!("the result of {name}() would exceed 100,000 items")
}

/// A string result within [`MAX_BUILT_STRING`].
fn string_result(name: &str, s: &str) -> Result<Value, Failure> {
    if s.len() > MAX_BUILT_STRING {
        return Err((AT_CALL, too_long(name)));
    }
    Ok(Value::str(s))
}

/// A list result within [`MAX_BUILT_ITEMS`].
fn list_result(name: &str, items: Vec<Value>) -> Result<Value, Failure> {
    if items.len() > MAX_BUILT_ITEMS {
        return Err((AT_CALL, too_many(name)));
    }
    Ok(Value::List(Arc::new(items)))
}

/// A count or position as an int (saturating: no string or list comes near `i64::MAX`).
fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// JavaScript's `slice` bounds over `len` elements: negative indices count from the end,
/// both are clamped to `0..=len`; `from > to` means an empty result.
fn slice_bounds(len: usize, start: i64, end: Option<i64>) -> (usize, usize) {
    let clamp = |i: i64| -> usize {
        let len_i = count(len);
        let i = if i < 0 { len_i.saturating_add(i).max(0) } else { i.min(len_i) };
        usize::try_from(i).unwrap_or(0)
    };
    (clamp(start), end.map_or(len, clamp))
}

/// One more part of `split_limit`'s result, within the limits.
fn push_part(parts: &mut Vec<Value>, part: &str) -> Result<(), Failure> {
    if parts.len() >= MAX_BUILT_ITEMS {
        return Err((AT_CALL, too_many("split")));
    }
    parts.push(string_result("split", part)?);
    Ok(())
}

fn pad(name: &'static str, text: &str, width: i64, fill: Option<&str>, before: bool) -> Result<Value, Failure> {
    let fill = fill.unwrap_or(" ");
    let len = text.chars().count();
    let missing = match usize::try_from(width) {
        Ok(width) if width > len && !fill.is_empty() => width - len,
        _ => return string_result(name, text),
    };
    // Every character takes at least one byte: a wider result cannot fit.
    if missing > MAX_BUILT_STRING {
        return Err((AT_CALL, too_long(name)));
    }
    let mut padding = Built::new(name);
    let fill_chars = fill.chars().count();
    let mut left = missing;
    while left >= fill_chars {
        padding.push(fill)?;
        left -= fill_chars;
    }
    let cut = fill.char_indices().nth(left).map_or(fill.len(), |(b, _)| b);
    padding.push(fill.get(..cut).unwrap_or_default())?;
    let mut out = Built::new(name);
    if before {
        out.push(&padding.s)?;
        out.push(text)?;
    } else {
        out.push(text)?;
        out.push(&padding.s)?;
    }
    Ok(out.finish())
}

fn encode_base64(name: &str, engine: &GeneralPurpose, padded: bool, bytes: &[u8]) -> Result<Value, Failure> {
    match base64::encoded_len(bytes.len(), padded) {
        Some(n) if n <= MAX_BUILT_STRING => Ok(Value::str(&engine.encode(bytes))),
        _ => Err((AT_CALL, too_long(name))),
    }
}

fn decode_base64(name: &str, engine: &GeneralPurpose, text: &str) -> Result<Value, Failure> {
    use base64::DecodeError as E;
    let bytes = engine.decode(text).map_err(|e| {
        let why = match e {
            E::InvalidByte(at, byte) | E::InvalidLastSymbol(at, byte) => {
                let shown = match text.get(at..).and_then(|s| s.chars().next()) {
                    Some(c) => format!("`{c}`"),
                    None => format!("byte {byte:#04x}"),
                };
                let what = if matches!(e, E::InvalidByte(..)) { "an invalid character" } else { "a last character" };
                let ending = if matches!(e, E::InvalidByte(..)) { "" } else { " with stray bits" };
                format!("{what} {shown}{ending} at byte {at}")
            }
            E::InvalidLength(_) => "a length no base64 text has".to_string(),
            E::InvalidPadding => "missing or wrong `=` padding".to_string(),
        };
        (0, format!("{name}() found invalid base64: {why}"))
    })?;
    match String::from_utf8(bytes) {
        Ok(s) => string_result(name, &s),
        Err(_) => Err((0, format!("{name}() decodes to bytes that are not UTF-8 text"))),
    }
}

fn encode_digest(name: &str, arg: usize, digest: &[u8], encoding: Option<&str>) -> Result<Value, Failure> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    Ok(Value::str(&match encoding.unwrap_or("hex") {
        "hex" => {
            digest.iter().flat_map(|b| [HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]).map(char::from).collect()
        }
        "base64" => STANDARD.encode(digest),
        "base64url" => URL_SAFE_NO_PAD.encode(digest),
        other => {
            return Err((arg, format!("{name}() encodes as `hex`, `base64` or `base64url`, found `{other}`")));
        }
    }))
}

/// A piece of a replacement or a `format` template: text, or a group (a `format` value) by index.
#[derive(Debug)]
enum Piece<'a> {
    Text(&'a str),
    Group(usize),
}

/// A `replace_regex` replacement parsed as the `regex` crate's `Captures::expand` reads it:
/// `$$` is `$`; `$ref` takes the longest run of `[0-9A-Za-z_]`, `${ref}` anything up to `}`;
/// an all-digit ref is a group number, another a name; a name no group has gives nothing; a
/// `$` that begins no ref is itself.
fn replacement_pieces<'a>(re: &Regex, replacement: &'a str) -> Vec<Piece<'a>> {
    let mut pieces = Vec::new();
    let mut rest = replacement;
    while let Some((text, after)) = rest.split_once('$') {
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        if let Some(after) = after.strip_prefix('$') {
            pieces.push(Piece::Text("$"));
            rest = after;
            continue;
        }
        let Some((name, after)) = capture_ref(after) else {
            pieces.push(Piece::Text("$"));
            rest = after;
            continue;
        };
        let group = match name.parse::<usize>() {
            Ok(i) => Some(i),
            Err(_) => re.capture_names().position(|n| n == Some(name)),
        };
        pieces.extend(group.map(Piece::Group));
        rest = after;
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    pieces
}

/// The group reference at the start of `s` (just after a `$`) and what follows it.
fn capture_ref(s: &str) -> Option<(&str, &str)> {
    if let Some(braced) = s.strip_prefix('{') {
        return braced.split_once('}');
    }
    let end = s.bytes().position(|b| !(b.is_ascii_alphanumeric() || b == b'_')).unwrap_or(s.len());
    if end == 0 {
        return None;
    }
    // The bytes before `end` are ASCII: `end` is on a character boundary.
    s.split_at_checked(end)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;
    use serde_json::{Value as Json, json};

    /// The result as JSON (`Value` has no `PartialEq`).
    fn ok(r: Result<Value, Failure>) -> Json {
        match r {
            Ok(v) => v.to_json(),
            Err(e) => panic!("unexpected failure {e:?}"),
        }
    }

    fn err(r: Result<Value, Failure>) -> Failure {
        match r {
            Ok(v) => panic!("expected a failure, got {:?}", v.to_json()),
            Err(e) => e,
        }
    }

    fn re(pattern: &str) -> Regex {
        Regex::new(pattern).unwrap()
    }

    fn list(items: Json) -> Vec<Value> {
        match Value::from_json(&items) {
            Value::List(items) => items.to_vec(),
            _ => panic!("not a list"),
        }
    }

    const BIG: &str = "the result of replace() would exceed 1 MiB";

    #[test]
    fn replace_every_occurrence_literally() {
        assert_eq!(ok(replace("a.b.c", ".", "-")), json!("a-b-c"));
        assert_eq!(ok(replace("aaa", "aa", "b")), json!("ba"));
        assert_eq!(ok(replace("a+b", "+", "$1")), json!("a$1b"));
        assert_eq!(ok(replace("", "x", "y")), json!(""));
        assert_eq!(ok(replace("abc", "x", "y")), json!("abc"));
        assert_eq!(ok(replace("héllo wörld", "ö", "o")), json!("héllo world"));
        assert_eq!(ok(replace("👍🏽👍", "👍", "ok")), json!("ok🏽ok"));
        assert_eq!(ok(replace("abc", "b", "")), json!("ac"));
        assert_eq!(
            err(replace("abc", "", "x")),
            (1, "replace() needs a non-empty string to replace, found an empty one".into())
        );
    }

    #[test]
    fn replace_stops_at_the_limit() {
        let text = "a".repeat(1024);
        let exact = ok(replace(&text, "a", &"b".repeat(1024)));
        assert_eq!(exact.as_str().unwrap().len(), MAX_BUILT_STRING);
        assert_eq!(err(replace(&text, "a", &"b".repeat(1025))), (AT_CALL, BIG.into()));
    }

    #[test]
    fn replace_regex_expands_groups() {
        let email = re(r"^(?P<local>[^@]+)@(?P<domain>.+)$");
        assert_eq!(ok(replace_regex(&email, "ann@example.com", "${domain}/$local")), json!("example.com/ann"));
        assert_eq!(ok(replace_regex(&email, "ann@example.com", "$2 $1 $0")), json!("example.com ann ann@example.com"));
        assert_eq!(ok(replace_regex(&re(r"\d+"), "a1b22c", "<$0>")), json!("a<1>b<22>c"));
        assert_eq!(ok(replace_regex(&re(r"\d"), "a1", "$$1 costs $")), json!("a$1 costs $"));
        // `$1a` names a group `1a` (none here: nothing); `${1}a` is group 1 then `a`.
        assert_eq!(ok(replace_regex(&re("(b)"), "abc", "[$1a]")), json!("a[]c"));
        assert_eq!(ok(replace_regex(&re("(b)"), "abc", "[${1}a]")), json!("a[ba]c"));
        // A group that did not take part, an unknown group and an unknown name give nothing.
        assert_eq!(ok(replace_regex(&re("(x)?b"), "abc", "[$1|$9|$nope|${nope}]")), json!("a[|||]c"));
        // No match: unchanged. An empty pattern matches between every character.
        assert_eq!(ok(replace_regex(&re("z"), "abc", "y")), json!("abc"));
        assert_eq!(ok(replace_regex(&re(""), "aé😀", "-")), json!("-a-é-😀-"));
        assert_eq!(ok(replace_regex(&re("é"), "café", "e")), json!("cafe"));
        assert_eq!(ok(replace_regex(&re("x"), "", "y")), json!(""));
    }

    /// The replacement is read exactly as `regex`'s own `replace_all` reads it.
    #[test]
    fn replace_regex_agrees_with_the_regex_crate() {
        let patterns = [r"(?P<a>\w)(\w)?", r"(é)|(x)", "", r"(?P<x_1>.)(?P<a1>.)", r"(?P<a.b>.)(?P<a>.)"];
        let replacements = [
            "",
            "$",
            "$$",
            "$$$",
            "$0",
            "$1",
            "$2",
            "$3",
            "$a",
            "${a}",
            "$a-",
            "${1}a",
            "$1a",
            "${",
            "${a",
            "${}",
            "$}",
            "${+1}",
            "$-",
            "$é",
            "${é}",
            "x$",
            "$x_1$a1",
            "${x_1}",
            "${a1}x",
            "$a.b",
            "${a.b}",
            "${99999999999999999999}",
            "a$$b$1c${2}d",
        ];
        for p in patterns {
            let re = re(p);
            for r in replacements {
                for text in ["", "ab", "abc déf", "éx", "x"] {
                    let expected = re.replace_all(text, r).into_owned();
                    assert_eq!(ok(replace_regex(&re, text, r)), json!(expected), "{p:?} {r:?} {text:?}");
                }
            }
        }
    }

    #[test]
    fn replace_regex_stops_at_the_limit() {
        // `$0` thousands of times over a match of 1 KiB: refused before it is all built.
        let e = err(replace_regex(&re(".+"), &"a".repeat(1024), &"$0".repeat(2000)));
        assert_eq!(e, (AT_CALL, "the result of replace_regex() would exceed 1 MiB".into()));
        let e = err(replace_regex(&re(""), &"a".repeat(1000), &"x".repeat(1100)));
        assert_eq!(e.1, "the result of replace_regex() would exceed 1 MiB");
    }

    #[test]
    fn slice_text_as_javascript() {
        let cases: [(i64, Option<i64>, &str); 12] = [
            (0, None, "hello"),
            (1, None, "ello"),
            (-3, None, "llo"),
            (1, Some(-1), "ell"),
            (3, Some(1), ""),
            (5, None, ""),
            (9, None, ""),
            (-9, Some(2), "he"),
            (0, Some(-9), ""),
            (i64::MIN, Some(i64::MAX), "hello"),
            (i64::MAX, Some(i64::MIN), ""),
            (-1, Some(i64::MAX), "o"),
        ];
        for (start, end, expected) in cases {
            assert_eq!(ok(slice_text("hello", start, end)), json!(expected), "{start} {end:?}");
        }
        assert_eq!(ok(slice_text("", 0, None)), json!(""));
        assert_eq!(ok(slice_text("", -1, Some(1)),), json!(""));
        // Characters, not bytes: multi-byte, emoji, combining marks (a scalar each).
        assert_eq!(ok(slice_text("aé😀b", 1, Some(3))), json!("é😀"));
        assert_eq!(ok(slice_text("aé😀b", -2, None)), json!("😀b"));
        assert_eq!(ok(slice_text("e\u{301}x", 0, Some(1))), json!("e"));
        assert_eq!(ok(slice_text("e\u{301}x", 1, Some(2))), json!("\u{301}"));
    }

    #[test]
    fn slice_text_is_bounded() {
        let big = "a".repeat(MAX_BUILT_STRING + 1);
        assert_eq!(err(slice_text(&big, 0, None)), (AT_CALL, "the result of slice() would exceed 1 MiB".into()));
        assert_eq!(ok(slice_text(&big, 1, None)).as_str().unwrap().len(), MAX_BUILT_STRING);
    }

    #[test]
    fn slice_list_as_javascript() {
        let items = list(json!([1, "b", null, [4], {"e": 5}]));
        assert_eq!(ok(slice_list(&items, 1, Some(3))), json!(["b", null]));
        assert_eq!(ok(slice_list(&items, -2, None)), json!([[4], {"e": 5}]));
        assert_eq!(ok(slice_list(&items, 4, Some(2))), json!([]));
        assert_eq!(ok(slice_list(&items, i64::MIN, Some(i64::MAX))), json!([1, "b", null, [4], {"e": 5}]));
        assert_eq!(ok(slice_list(&items, i64::MAX, None)), json!([]));
        assert_eq!(ok(slice_list(&[], -1, Some(5))), json!([]));
        let many = vec![Value::Int(1); MAX_BUILT_ITEMS + 1];
        assert_eq!(
            err(slice_list(&many, 0, None)),
            (AT_CALL, "the result of slice() would exceed 100,000 items".into())
        );
        assert_eq!(ok(slice_list(&many, 1, None)).as_array().unwrap().len(), MAX_BUILT_ITEMS);
    }

    #[test]
    fn index_of_counts_characters_and_items() {
        assert_eq!(ok(index_of_text("hello", "l")), json!(2));
        assert_eq!(ok(index_of_text("héllo", "l")), json!(2));
        assert_eq!(ok(index_of_text("😀😀x", "x")), json!(2));
        assert_eq!(ok(index_of_text("e\u{301}x", "x")), json!(2));
        assert_eq!(ok(index_of_text("hello", "z")), json!(-1));
        assert_eq!(ok(index_of_text("hello", "")), json!(0));
        assert_eq!(ok(index_of_text("", "")), json!(0));
        assert_eq!(ok(index_of_text("", "a")), json!(-1));
        assert_eq!(ok(index_of_text("abab", "ba")), json!(1));

        let items = list(json!(["a", 1.0, [1, 2], {"k": "v"}, null]));
        assert_eq!(ok(index_of_list(&items, &Value::Int(1))), json!(1));
        assert_eq!(ok(index_of_list(&items, &Value::from_json(&json!([1.0, 2])))), json!(2));
        assert_eq!(ok(index_of_list(&items, &Value::from_json(&json!({"k": "v"})))), json!(3));
        assert_eq!(ok(index_of_list(&items, &Value::str("b"))), json!(-1));
        assert_eq!(ok(index_of_list(&items, &Value::str("1"))), json!(-1));
        assert_eq!(ok(index_of_list(&[], &Value::Int(1))), json!(-1));
    }

    #[test]
    fn pad_as_javascript() {
        assert_eq!(ok(pad_start("abc", 10, None)), json!("       abc"));
        assert_eq!(ok(pad_start("abc", 10, Some("foo"))), json!("foofoofabc"));
        assert_eq!(ok(pad_start("abc", 6, Some("123465"))), json!("123abc"));
        assert_eq!(ok(pad_start("abc", 8, Some("0"))), json!("00000abc"));
        assert_eq!(ok(pad_start("7", 3, Some("0"))), json!("007"));
        assert_eq!(ok(pad_end("abc", 10, None)), json!("abc       "));
        assert_eq!(ok(pad_end("abc", 10, Some("foo"))), json!("abcfoofoof"));
        assert_eq!(ok(pad_end("abc", 6, Some("123456"))), json!("abc123"));
        assert_eq!(ok(pad_start("", 2, Some("ab"))), json!("ab"));
        // Unchanged: already that long, an empty fill, a negative width.
        for width in [i64::MIN, -1, 0, 1, 3] {
            assert_eq!(ok(pad_start("abc", width, Some("x"))), json!("abc"));
            assert_eq!(ok(pad_end("abc", width, None)), json!("abc"));
        }
        assert_eq!(ok(pad_start("abc", i64::MAX, Some(""))), json!("abc"));
        // Characters, not bytes.
        assert_eq!(ok(pad_start("é", 3, Some("😀é"))), json!("😀éé"));
        assert_eq!(ok(pad_end("e\u{301}", 3, Some("-"))), json!("e\u{301}-"));
        assert_eq!(ok(pad_start("😀", 1, Some("x"))), json!("😀"));
    }

    #[test]
    fn pad_stops_at_the_limit() {
        let too_long = |name: &str| (AT_CALL, format!("the result of {name}() would exceed 1 MiB"));
        assert_eq!(err(pad_start("abc", i64::MAX, None)), too_long("pad_start"));
        assert_eq!(err(pad_end("abc", i64::MAX, Some("é"))), too_long("pad_end"));
        let width = count(MAX_BUILT_STRING);
        assert_eq!(ok(pad_start("abc", width, Some("xy"))).as_str().unwrap().len(), MAX_BUILT_STRING);
        assert_eq!(err(pad_end("abc", width + 1, None)), too_long("pad_end"));
        // Within the width in characters, past the limit in bytes.
        assert_eq!(err(pad_start("", 600_000, Some("é"))), too_long("pad_start"));
        assert_eq!(err(pad_end("é", width, Some("a"))), too_long("pad_end"));
    }

    #[test]
    fn split_with_a_limit() {
        assert_eq!(ok(split_limit("a:b:c", ":", 2)), json!(["a", "b:c"]));
        assert_eq!(ok(split_limit("a:b:c", ":", 1)), json!(["a:b:c"]));
        assert_eq!(ok(split_limit("a:b:c", ":", 3)), json!(["a", "b", "c"]));
        assert_eq!(ok(split_limit("a:b:c", ":", i64::MAX)), json!(["a", "b", "c"]));
        assert_eq!(ok(split_limit("a::", ":", 9)), json!(["a", "", ""]));
        assert_eq!(ok(split_limit("", ":", 2)), json!([""]));
        assert_eq!(ok(split_limit("a→b→c", "→", 2)), json!(["a", "b→c"]));
        // An empty separator splits into characters, the last part holding the rest.
        assert_eq!(ok(split_limit("aé😀b", "", 3)), json!(["a", "é", "😀b"]));
        assert_eq!(ok(split_limit("aé😀b", "", 1)), json!(["aé😀b"]));
        assert_eq!(ok(split_limit("ab", "", 9)), json!(["a", "b"]));
        assert_eq!(ok(split_limit("", "", 2)), json!([]));
        for limit in [0, -1, i64::MIN] {
            assert_eq!(
                err(split_limit("a:b", ":", limit)),
                (2, format!("split() needs a limit of at least 1, found {limit}"))
            );
        }
    }

    #[test]
    fn split_stops_at_the_limit() {
        let fits = ":".repeat(MAX_BUILT_ITEMS - 1);
        assert_eq!(ok(split_limit(&fits, ":", i64::MAX)).as_array().unwrap().len(), MAX_BUILT_ITEMS);
        let many = ":".repeat(MAX_BUILT_ITEMS);
        let e = (AT_CALL, "the result of split() would exceed 100,000 items".to_string());
        assert_eq!(err(split_limit(&many, ":", i64::MAX)), e);
        assert_eq!(err(split_limit(&"a".repeat(MAX_BUILT_ITEMS + 1), "", i64::MAX)), e);
        assert_eq!(ok(split_limit(&many, ":", 2)).as_array().unwrap().len(), 2);
    }

    #[test]
    fn url_encode_as_encode_uri_component() {
        assert_eq!(ok(url_encode("a b&c/d?e=f#g+h")), json!("a%20b%26c%2Fd%3Fe%3Df%23g%2Bh"));
        assert_eq!(ok(url_encode("AZaz09-_.!~*'()")), json!("AZaz09-_.!~*'()"));
        assert_eq!(ok(url_encode("é")), json!("%C3%A9"));
        assert_eq!(ok(url_encode("😀")), json!("%F0%9F%98%80"));
        assert_eq!(ok(url_encode("%")), json!("%25"));
        assert_eq!(ok(url_encode("")), json!(""));
        let exact = "/".repeat(MAX_BUILT_STRING / 3);
        assert!(url_encode(&exact).is_ok());
        let e = err(url_encode(&"/".repeat(MAX_BUILT_STRING / 3 + 1)));
        assert_eq!(e, (AT_CALL, "the result of url_encode() would exceed 1 MiB".into()));
    }

    #[test]
    fn url_decode_refuses_malformed_escapes() {
        assert_eq!(ok(url_decode("a%20b%2Fc")), json!("a b/c"));
        assert_eq!(ok(url_decode("%c3%A9+x")), json!("é+x"));
        assert_eq!(ok(url_decode("%F0%9F%98%80")), json!("😀"));
        assert_eq!(ok(url_decode("%25%32%30")), json!("%20"));
        assert_eq!(ok(url_decode("plain é")), json!("plain é"));
        assert_eq!(ok(url_decode("")), json!(""));
        for (input, shown) in
            [("%", "%"), ("a%4", "%4"), ("%zz", "%zz"), ("%4g", "%4g"), ("%é0", "%é0"), ("%%41", "%%4")]
        {
            let message =
                format!("url_decode() found a malformed escape `{shown}` (a `%` must be followed by two hex digits)");
            assert_eq!(err(url_decode(input)), (0, message), "{input}");
        }
        let not_utf8 = (0, "url_decode() decodes to bytes that are not UTF-8 text".to_string());
        for input in ["%FF", "%C3", "a%C3%28", "%ED%A0%80"] {
            assert_eq!(err(url_decode(input)), not_utf8, "{input}");
        }
        for text in ["", "a b&c/d?e=f", "é😀 e\u{301}", "~*'()!%+"] {
            let encoded = ok(url_encode(text));
            assert_eq!(ok(url_decode(encoded.as_str().unwrap())), json!(text));
        }
    }

    #[test]
    fn base64_encodings() {
        assert_eq!(ok(base64_encode("")), json!(""));
        assert_eq!(ok(base64_encode("hello")), json!("aGVsbG8="));
        assert_eq!(ok(base64_encode("??>")), json!("Pz8+"));
        assert_eq!(ok(base64_encode("???")), json!("Pz8/"));
        assert_eq!(ok(base64url_encode("??>")), json!("Pz8-"));
        assert_eq!(ok(base64url_encode("???")), json!("Pz8_"));
        assert_eq!(ok(base64url_encode("a")), json!("YQ"));
        assert_eq!(ok(base64_encode("é😀")), json!("w6nwn5iA"));
        // 786,432 bytes make exactly 1 MiB of base64; one more is too many.
        assert!(base64_encode(&"a".repeat(MAX_BUILT_STRING / 4 * 3)).is_ok());
        let e = err(base64url_encode(&"a".repeat(MAX_BUILT_STRING / 4 * 3 + 1)));
        assert_eq!(e, (AT_CALL, "the result of base64url_encode() would exceed 1 MiB".into()));
    }

    #[test]
    fn base64_decodings() {
        assert_eq!(ok(base64_decode("")), json!(""));
        assert_eq!(ok(base64_decode("aGVsbG8=")), json!("hello"));
        assert_eq!(ok(base64_decode("Pz8+Pz8/")), json!("??>???"));
        assert_eq!(ok(base64_decode("w6nwn5iA")), json!("é😀"));
        assert_eq!(ok(base64url_decode("Pz8-Pz8_")), json!("??>???"));
        assert_eq!(ok(base64url_decode("YQ")), json!("a"));
        assert_eq!(ok(base64url_decode("YQ==")), json!("a"));
        assert_eq!(ok(base64url_decode("")), json!(""));
        let invalid = |name: &str, why: &str| (0, format!("{name}() found invalid base64: {why}"));
        assert_eq!(err(base64_decode("YQ")), invalid("base64_decode", "missing or wrong `=` padding"));
        assert_eq!(err(base64_decode("YQ=")), invalid("base64_decode", "missing or wrong `=` padding"));
        assert_eq!(err(base64_decode("Pz8-")), invalid("base64_decode", "an invalid character `-` at byte 3"));
        assert_eq!(err(base64url_decode("Pz8+")), invalid("base64url_decode", "an invalid character `+` at byte 3"));
        assert_eq!(err(base64_decode("aGVs bG8=")), invalid("base64_decode", "an invalid character ` ` at byte 4"));
        assert_eq!(err(base64_decode("é===")), invalid("base64_decode", "an invalid character `é` at byte 0"));
        assert_eq!(err(base64url_decode("Y")), invalid("base64url_decode", "a length no base64 text has"));
        assert_eq!(
            err(base64url_decode("YR")),
            invalid("base64url_decode", "a last character `R` with stray bits at byte 1")
        );
        assert_eq!(err(base64_decode("YQ==YQ==")), invalid("base64_decode", "an invalid character `=` at byte 2"));
        let not_utf8 = |name: &str| (0, format!("{name}() decodes to bytes that are not UTF-8 text"));
        assert_eq!(err(base64_decode("/w==")), not_utf8("base64_decode"));
        assert_eq!(err(base64url_decode("_w")), not_utf8("base64url_decode"));
        assert_eq!(err(base64_decode("7aCA")), not_utf8("base64_decode"));
    }

    #[test]
    fn sha256_known_vectors() {
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(ok(sha256("", None)), json!(empty));
        assert_eq!(ok(sha256("", Some("hex"))), json!(empty));
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(ok(sha256("abc", None)), json!(abc));
        assert_eq!(ok(sha256("abc", Some("base64"))), json!("ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="));
        assert_eq!(ok(sha256("abc", Some("base64url"))), json!("ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"));
        // UTF-8 bytes.
        assert_eq!(ok(sha256("é", None)), json!("4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c"));
        let e = (1, "sha256() encodes as `hex`, `base64` or `base64url`, found `HEX`".to_string());
        assert_eq!(err(sha256("abc", Some("HEX"))), e);
    }

    #[test]
    fn hmac_sha256_rfc_4231() {
        // Test case 2.
        let expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        assert_eq!(ok(hmac_sha256("Jefe", "what do ya want for nothing?", None)), json!(expected));
        assert_eq!(ok(hmac_sha256("Jefe", "what do ya want for nothing?", Some("hex"))), json!(expected));
        let bytes: Vec<u8> = (0..32).map(|i| u8::from_str_radix(&expected[i * 2..i * 2 + 2], 16).unwrap()).collect();
        let b64 = ok(hmac_sha256("Jefe", "what do ya want for nothing?", Some("base64")));
        assert_eq!(b64, json!(STANDARD.encode(&bytes)));
        let b64url = ok(hmac_sha256("Jefe", "what do ya want for nothing?", Some("base64url")));
        assert_eq!(b64url, json!(URL_SAFE_NO_PAD.encode(&bytes)));
        // A key longer than the hash's block, and empty ones, are fine.
        assert!(hmac_sha256(&"k".repeat(131), "m", None).is_ok());
        assert!(hmac_sha256("", "", None).is_ok());
        let e = (2, "hmac_sha256() encodes as `hex`, `base64` or `base64url`, found `b64`".to_string());
        assert_eq!(err(hmac_sha256("k", "m", Some("b64"))), e);
    }

    #[test]
    fn format_fills_holes_as_interpolation_does() {
        use crate::ops::{Part, interpolate};
        let values = list(json!(["ann", 3, 2.0, 1.5, true, [1, "a"], {"k": null}]));
        let out = ok(format("{} has {} {} {} {} {} {}", &values));
        assert_eq!(out, json!("ann has 3 2 1.5 true [1,\"a\"] {\"k\":null}"));
        for v in values.iter().chain([Value::Float(f64::NAN), Value::Float(1e300), Value::Int(i64::MIN)].iter()) {
            let interpolated = interpolate([Part::Value(v)]);
            assert_eq!(ok(format("{}", std::slice::from_ref(v))), interpolated.to_json());
        }
        assert_eq!(ok(format("[{}]", &[Value::Null])), json!("[null]"));
        assert_eq!(ok(format("", &[])), json!(""));
        assert_eq!(ok(format("no holes", &[])), json!("no holes"));
        assert_eq!(ok(format("{{}}", &[])), json!("{}"));
        assert_eq!(ok(format("{{{}}}", &[Value::Int(1)])), json!("{1}"));
        assert_eq!(ok(format("é{}😀{}", &[Value::str("a"), Value::str("b")])), json!("éa😀b"));
        assert_eq!(ok(format("{}{}", &[Value::str("{}"), Value::str("}")])), json!("{}}"));
    }

    #[test]
    fn format_checks_its_values_and_the_limit() {
        let e = (0, "format() template takes 2 values, found 1".to_string());
        assert_eq!(err(format("{}{}", &[Value::Int(1)])), e);
        assert_eq!(err(format("", &[Value::Int(1)])).1, "format() template takes 0 values, found 1");
        let half = Value::str(&"a".repeat(MAX_BUILT_STRING / 2));
        assert!(format("{}{}", &[half.clone(), half.clone()]).is_ok());
        assert_eq!(
            err(format("{}{}.", &[half.clone(), half])),
            (AT_CALL, "the result of format() would exceed 1 MiB".into())
        );
    }

    #[test]
    fn capture_gives_the_first_match() {
        let email = re(r"^(?P<local>[^@]+)@(?P<domain>.+)$");
        assert_eq!(ok(capture(&email, "ann@example.com")), json!(["ann@example.com", "ann", "example.com"]));
        assert_eq!(ok(capture(&email, "no at sign")), json!(null));
        assert_eq!(ok(capture(&re(r"(\d+)"), "a12b345")), json!(["12", "12"]));
        assert_eq!(ok(capture(&re("(a)|(b)"), "b")), json!(["b", null, "b"]));
        assert_eq!(ok(capture(&re("x(y)?"), "x")), json!(["x", null]));
        assert_eq!(ok(capture(&re(""), "")), json!([""]));
        assert_eq!(ok(capture(&re("z"), "")), json!(null));
        assert_eq!(ok(capture(&re("(.)(.)"), "é😀")), json!(["é😀", "é", "😀"]));
        let big = "a".repeat(MAX_BUILT_STRING + 1);
        assert_eq!(err(capture(&re("a+"), &big)), (AT_CALL, "the result of capture() would exceed 1 MiB".into()));
    }

    #[test]
    fn capture_named_gives_the_named_groups() {
        let email = re(r"^(?P<local>[^@]+)@(?P<domain>.+)$");
        assert_eq!(ok(capture_named(&email, "ann@example.com")), json!({"local": "ann", "domain": "example.com"}));
        assert_eq!(ok(capture_named(&email, "nobody")), json!(null));
        // Unnamed groups are left out, and so are named ones that did not take part.
        let r = re(r"(?<year>\d{4})-(\d\d)(?:-(?<day>\d\d))?");
        assert_eq!(ok(capture_named(&r, "2024-05")), json!({"year": "2024"}));
        assert_eq!(ok(capture_named(&r, "2024-05-06")), json!({"year": "2024", "day": "06"}));
        assert_eq!(ok(capture_named(&re("(a)"), "a")), json!({}));
        // The object keeps the pattern's order.
        let r = re("(?P<z>.)(?P<a>.)");
        let Value::Object(map) = capture_named(&r, "xy").unwrap() else { panic!("not an object") };
        assert_eq!(map.keys().collect::<Vec<_>>(), ["z", "a"]);
    }

    #[test]
    fn capture_names_in_pattern_order() {
        assert_eq!(capture_names(&re(r"^(?P<local>[^@]+)@(?P<domain>.+)$")), ["local", "domain"]);
        assert_eq!(capture_names(&re(r"(?<z>a)(b)(?<a>(?<m>c))")), ["z", "a", "m"]);
        assert!(capture_names(&re("(a)(b)")).is_empty());
        assert!(capture_names(&re("")).is_empty());
    }

    /// Every function over awkward strings and integers: a value or a failure, never a panic.
    #[test]
    fn no_panic_on_odd_inputs() {
        let texts = ["", "a", "é", "😀", "e\u{301}", "%", "%%", "%e9", "{", "}", "{}", "$", "${", "=", "a:b", "\0"];
        let ints = [i64::MIN, -2, -1, 0, 1, 2, 3, i64::MAX];
        let regexes = [re(""), re("(a)?(?P<n>é)?"), re("$")];
        let items = list(json!([1, "a", null]));
        for a in texts {
            for b in texts {
                let _ = (replace(a, b, a), index_of_text(a, b), format(a, &[Value::str(b)]));
                let _ = (
                    sha256(a, Some(b)),
                    hmac_sha256(a, b, Some(a)),
                    url_decode(a),
                    base64_decode(a),
                    base64url_decode(a),
                );
                let _ = (url_encode(a), base64_encode(a), base64url_encode(a));
                for r in &regexes {
                    let _ = (replace_regex(r, a, b), capture(r, a), capture_named(r, a));
                }
                for &n in &ints {
                    let _ = (pad_start(a, n, Some(b)), pad_end(a, n, Some(b)), split_limit(a, b, n));
                    for &m in &ints {
                        let _ = (slice_text(a, n, Some(m)), slice_list(&items, n, Some(m)));
                    }
                }
            }
        }
    }
}
