//! Input decoding: the `user`, `context` and configuration are decoded once per login into the
//! program's typed slots. Known fields of the wrong type are input errors.

use serde_json::Value as Json;
use warden_ir::{Program, Root, Shape, Slot, Ty};

use crate::Value;

/// Bad input: the login fails closed and the caller is told what to fix. Displays as one
/// sentence naming the place in the input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The user or the context is not a JSON object.
    #[error("`{what}` must be a JSON object, found {found}")]
    NotAnObject { what: &'static str, found: &'static str },
    /// A known field (or a field a rule declares) holds a value of the wrong type, or a
    /// value outside its documented set.
    #[error("`{path}` must be {expected}, found {found}")]
    WrongType { path: String, expected: String, found: String },
    /// The document holds more than [`MAX_INPUT_VALUES`] values.
    #[error("`{what}` holds more than {MAX_INPUT_VALUES} values")]
    TooManyValues { what: String },
    /// The document nests deeper than [`MAX_INPUT_DEPTH`] levels.
    #[error("`{what}` nests deeper than {MAX_INPUT_DEPTH} levels (objects and arrays inside each other)")]
    TooDeep { what: String },
    /// The bytes are not JSON.
    #[error("invalid JSON in the {what} at line {line}, column {column}: {message}")]
    Malformed { what: String, line: usize, column: usize, message: String },
    /// A configuration key the pipeline declares has no value for this login.
    #[error("configuration key `{key}` has no value{}", .env.as_ref().map(|e| format!(": set the environment variable `{e}`")).unwrap_or_default())]
    MissingConfig { key: String, env: Option<String> },
    /// A login's own configuration value does not fit its key's declared type.
    #[error(transparent)]
    BadConfig(crate::ConfigError),
}

impl InputError {
    /// A stable name for the kind of error (for logs, metrics and HTTP error bodies).
    pub fn kind(&self) -> &'static str {
        match self {
            InputError::NotAnObject { .. } => "not_an_object",
            InputError::WrongType { .. } => "wrong_type",
            InputError::TooManyValues { .. } => "too_many_values",
            InputError::TooDeep { .. } => "too_deep",
            InputError::Malformed { .. } => "malformed",
            InputError::MissingConfig { .. } => "missing_config",
            InputError::BadConfig(_) => "bad_config",
        }
    }
}

/// The raw inputs of one login.
#[derive(Clone, Copy, Debug)]
pub struct Inputs<'a> {
    pub user: &'a Json,
    pub context: &'a Json,
    pub config: &'a crate::Config,
}

/// How deep an input document may nest: the document is level 1, each array or object
/// inside it one more (as `.rule` nesting, 64). Deeper input is an input error, so that
/// nothing that walks input values (decoding, checks, outcomes) recurses further than this.
pub const MAX_INPUT_DEPTH: usize = 64;

/// Checks the inputs against the program's input shapes (every known field, whatever the
/// rules read), then decodes every slot of the program.
pub fn decode_slots(prog: &Program, inputs: Inputs<'_>) -> Result<Vec<Value>, InputError> {
    if !inputs.user.is_object() {
        return Err(InputError::NotAnObject { what: "user", found: json_kind(inputs.user) });
    }
    if !inputs.context.is_object() {
        return Err(InputError::NotAnObject { what: "context", found: json_kind(inputs.context) });
    }
    check_depth("user", inputs.user)?;
    check_depth("context", inputs.context)?;
    check_input("user", &prog.input.user, inputs.user)?;
    check_input("context", &prog.input.context, inputs.context)?;
    prog.slots.iter().map(|s| decode_slot(s, inputs)).collect()
}

/// The most values (objects, arrays, strings, numbers, bools and nulls) one input document
/// may hold. An Auth0 user or context holds a few hundred; the bound keeps the memory a
/// parsed document takes (about 80 bytes a value, however short its text) within a small
/// multiple of its size.
pub const MAX_INPUT_VALUES: usize = 1 << 18;

/// Checks JSON text before it is parsed: at most [`MAX_INPUT_DEPTH`] levels and
/// [`MAX_INPUT_VALUES`] values (counted outside strings: the document, the first item of
/// each array or object that has one, and one more after each comma). Syntax is left to the
/// parser.
pub fn check_json_text(what: &str, text: &[u8]) -> Result<(), InputError> {
    let (mut depth, mut values, mut in_string, mut escaped, mut opened) = (0usize, 1usize, false, false, false);
    for &b in text {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        if opened && !b.is_ascii_whitespace() {
            opened = false;
            if b != b']' && b != b'}' {
                values += 1;
            }
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                opened = true;
                if depth > MAX_INPUT_DEPTH {
                    return Err(too_deep(what));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' => values += 1,
            _ => {}
        }
        if values > MAX_INPUT_VALUES {
            return Err(InputError::TooManyValues { what: what.to_string() });
        }
    }
    Ok(())
}

fn too_deep(what: &str) -> InputError {
    InputError::TooDeep { what: what.to_string() }
}

/// An input error when `doc` nests deeper than [`MAX_INPUT_DEPTH`]. Iterative: the document
/// may be arbitrarily deep when a host built it itself.
pub fn check_depth(what: &str, doc: &Json) -> Result<(), InputError> {
    if depth_exceeds(doc, MAX_INPUT_DEPTH) {
        return Err(too_deep(what));
    }
    Ok(())
}

/// Whether `doc` nests deeper than `limit` levels (the document itself is level 1).
pub fn depth_exceeds(doc: &Json, limit: usize) -> bool {
    let mut stack: Vec<(&Json, usize)> = vec![(doc, 1)];
    while let Some((v, depth)) = stack.pop() {
        let children: &mut dyn Iterator<Item = &Json> = match v {
            Json::Array(items) => &mut items.iter(),
            Json::Object(map) => &mut map.values(),
            _ => continue,
        };
        if depth > limit {
            return true;
        }
        stack.extend(children.filter(|c| c.is_array() || c.is_object()).map(|c| (c, depth + 1)));
    }
    false
}

/// Drops a document without recursion (dropping a `serde_json::Value` recurses once per
/// level): for input refused as too deep.
pub fn dispose(doc: Json) {
    let mut stack = vec![doc];
    while let Some(v) = stack.pop() {
        match v {
            Json::Array(items) => stack.extend(items),
            Json::Object(map) => stack.extend(map.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

/// Checks a value against its shape: `Err` names the first place that does not fit
/// (`` `user.email_verified` must be a bool, found a string ``). `at` is the value's path.
pub fn check_input(at: &str, shape: &Shape, value: &Json) -> Result<(), InputError> {
    check_shape(shape, value).map_err(|bad| {
        let inner: String = bad.path.iter().rev().map(String::as_str).collect();
        InputError::WrongType { path: format!("{at}{inner}"), expected: bad.want, found: bad.found }
    })
}

/// Where a value does not have its known shape.
struct Misfit {
    /// Path segments below the checked value, innermost first (built only on failure).
    path: Vec<String>,
    want: String,
    found: String,
}

fn check_shape(shape: &Shape, j: &Json) -> Result<(), Misfit> {
    let ok = match (shape, j) {
        (_, Json::Null) | (Shape::Any, _) => true,
        (Shape::Bool, Json::Bool(_)) => true,
        (Shape::Int, Json::Number(n)) => integral(n),
        (Shape::Float, Json::Number(_)) => true,
        (Shape::Str, Json::String(_)) => true,
        (Shape::OneOf(values), Json::String(s)) => {
            if !values.iter().any(|v| v == s) {
                let mut shown: String = s.chars().take(64).collect();
                if shown.len() < s.len() {
                    shown.push('…');
                }
                return Err(Misfit { path: Vec::new(), want: shape.phrase(), found: format!("{shown:?}") });
            }
            true
        }
        (Shape::Time, Json::String(_) | Json::Number(_)) => true,
        (Shape::Scopes, Json::String(_)) => true,
        (Shape::Scopes, Json::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                if !item.is_string() {
                    return Err(Misfit {
                        path: vec![format!("[{i}]")],
                        want: "a string".into(),
                        found: json_kind(item).into(),
                    });
                }
            }
            true
        }
        (Shape::Object(_), Json::Object(map)) => {
            // The input usually has fewer keys than the shape knows: look each one up.
            for (name, v) in map {
                if let Some(s) = shape.field(name) {
                    check_shape(s, v).map_err(|mut m| {
                        m.path.push(segment(name));
                        m
                    })?;
                }
            }
            true
        }
        (Shape::List(inner), Json::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                check_shape(inner, item).map_err(|mut m| {
                    m.path.push(format!("[{i}]"));
                    m
                })?;
            }
            true
        }
        _ => false,
    };
    if ok { Ok(()) } else { Err(Misfit { path: Vec::new(), want: shape.phrase(), found: json_kind(j).into() }) }
}

/// `.name`, or `["odd key"]` for keys that are not names.
fn segment(name: &str) -> String {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        format!(".{name}")
    } else {
        format!("[{name:?}]")
    }
}

fn integral(n: &serde_json::Number) -> bool {
    n.as_i64().is_some() || n.as_f64().is_some_and(|f| f.fract() == 0.0 && f.abs() <= 9.0e15)
}

/// Decodes one slot (also used to refresh slots after a rule changes the user).
pub fn decode_slot(slot: &Slot, inputs: Inputs<'_>) -> Result<Value, InputError> {
    let root = match slot.root {
        Root::User => inputs.user,
        Root::Context => inputs.context,
        Root::Config => return Ok(config_value(slot, inputs.config)),
    };
    let mut cur = root;
    for (i, seg) in slot.path.iter().enumerate() {
        match cur {
            Json::Object(map) => match map.get(seg) {
                Some(next) => cur = next,
                None => return Ok(Value::Null),
            },
            Json::Null => return Ok(Value::Null),
            other if slot.checked => {
                let parent = display(slot, i);
                return Err(InputError::WrongType {
                    path: parent,
                    expected: "an object".into(),
                    found: json_kind(other).into(),
                });
            }
            _ => return Ok(Value::Null),
        }
    }
    if slot.checked
        && let Err(bad) = check(&slot.ty, cur)
    {
        let inner: String = bad.path.iter().rev().map(String::as_str).collect();
        let path = format!("{}{inner}", slot.display());
        return Err(InputError::WrongType { path, expected: ty_phrase(&bad.want), found: bad.found.to_string() });
    }
    Ok(if slot.checked { typed_value(&slot.ty, cur) } else { Value::from_json(cur) })
}

/// A configuration slot's value (missing: null), parsed when the configuration was.
pub(crate) fn config_value(slot: &Slot, config: &crate::Config) -> Value {
    config.slot_value(slot)
}

/// A checked value as its type says: `int` fields (at any depth) accept integral numbers
/// written as floats (`3.0`), which become ints, so that an `int` expression only ever holds
/// ints (the JIT relies on it).
fn typed_value(ty: &Ty, j: &Json) -> Value {
    match (ty, j) {
        (Ty::Int, Json::Number(n)) if n.as_i64().is_none() => Value::Int(n.as_f64().unwrap_or(0.0) as i64),
        (Ty::List(inner), Json::Array(items)) if has_int(inner) => {
            Value::List(std::sync::Arc::new(items.iter().map(|i| typed_value(inner, i)).collect()))
        }
        (Ty::Object(fields), Json::Object(map)) if fields.iter().any(|(_, t)| has_int(t)) => {
            Value::Object(std::sync::Arc::new(
                map.iter()
                    .map(|(k, v)| {
                        let value = match fields.iter().find(|(name, _)| name == k) {
                            Some((_, t)) => typed_value(t, v),
                            None => Value::from_json(v),
                        };
                        (k.clone(), value)
                    })
                    .collect(),
            ))
        }
        _ => Value::from_json(j),
    }
}

/// Whether a type has `int` anywhere in it (else the value needs no conversion).
pub(crate) fn has_int(ty: &Ty) -> bool {
    match ty {
        Ty::Int => true,
        Ty::List(inner) => has_int(inner),
        Ty::Object(fields) => fields.iter().any(|(_, t)| has_int(t)),
        _ => false,
    }
}

fn display(slot: &Slot, n: usize) -> String {
    let s = Slot { root: slot.root, path: slot.path[..n].to_vec(), ty: Ty::Dyn, checked: true };
    s.display()
}

/// Where a value does not have its known type.
struct Mismatch {
    /// Path segments below the slot, innermost first (built only on failure).
    path: Vec<String>,
    want: Ty,
    found: &'static str,
}

/// Whether `j` has type `ty`, recursively through known object fields (null always fits).
fn check(ty: &Ty, j: &Json) -> Result<(), Mismatch> {
    let ok = match (ty, j) {
        (_, Json::Null) | (Ty::Dyn, _) => true,
        (Ty::Bool, Json::Bool(_)) => true,
        (Ty::Int, Json::Number(n)) => integral(n),
        (Ty::Float, Json::Number(_)) => true,
        (Ty::Str, Json::String(_)) => true,
        (Ty::Time, Json::String(_) | Json::Number(_)) => true,
        (Ty::Object(fields), Json::Object(map)) => {
            for (name, fty) in fields {
                if let Some(v) = map.get(name) {
                    check(fty, v).map_err(|mut m| {
                        m.path.push(format!(".{name}"));
                        m
                    })?;
                }
            }
            true
        }
        (Ty::List(inner), Json::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                check(inner, item).map_err(|mut m| {
                    m.path.push(format!("[{i}]"));
                    m
                })?;
            }
            true
        }
        _ => false,
    };
    if ok { Ok(()) } else { Err(Mismatch { path: Vec::new(), want: ty.clone(), found: json_kind(j) }) }
}

fn ty_phrase(ty: &Ty) -> String {
    match ty {
        Ty::Int => "an integer".into(),
        Ty::Object(_) => "an object".into(),
        Ty::Time => "a date-time (string or epoch milliseconds)".into(),
        Ty::List(inner) => format!("a list of {}", ty_plural(inner)),
        other => format!("a {}", other.name()),
    }
}

fn ty_plural(ty: &Ty) -> String {
    match ty {
        Ty::Object(_) => "objects".into(),
        Ty::Str => "strings".into(),
        other => format!("{}s", other.name()),
    }
}

/// "a string", "a number", ... for JSON values.
pub fn json_kind(j: &Json) -> &'static str {
    match j {
        Json::Null => "null",
        Json::Bool(_) => "a bool",
        Json::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}
