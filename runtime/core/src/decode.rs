//! Input decoding: the `user`, `context` and configuration are decoded once per login into the
//! program's typed slots. Known fields of the wrong type are input errors.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value as Json;
use warden_ir::{Program, Root, Slot, Ty};

use crate::Value;

/// Bad input: the login fails closed and the caller is told what to fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for InputError {}

impl InputError {
    pub fn new(message: impl Into<String>) -> InputError {
        InputError { message: message.into() }
    }
}

/// The raw inputs of one login.
#[derive(Clone, Copy, Debug)]
pub struct Inputs<'a> {
    pub user: &'a Json,
    pub context: &'a Json,
    pub config: &'a BTreeMap<String, String>,
}

/// Decodes every slot of the program.
pub fn decode_slots(prog: &Program, inputs: Inputs<'_>) -> Result<Vec<Value>, InputError> {
    if !inputs.user.is_object() {
        return Err(InputError::new(format!("`user` must be a JSON object, found {}", json_kind(inputs.user))));
    }
    if !inputs.context.is_object() {
        return Err(InputError::new(format!("`context` must be a JSON object, found {}", json_kind(inputs.context))));
    }
    prog.slots.iter().map(|s| decode_slot(s, inputs)).collect()
}

/// Decodes one slot (also used to refresh slots after a rule changes the user).
pub fn decode_slot(slot: &Slot, inputs: Inputs<'_>) -> Result<Value, InputError> {
    let root = match slot.root {
        Root::User => inputs.user,
        Root::Context => inputs.context,
        Root::Config => {
            let key = slot.path.first().map(String::as_str).unwrap_or_default();
            return Ok(inputs.config.get(key).map_or(Value::Null, |v| Value::str(v)));
        }
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
                return Err(InputError::new(format!("`{parent}` must be an object, found {}", json_kind(other))));
            }
            _ => return Ok(Value::Null),
        }
    }
    if slot.checked
        && let Err(bad) = check(&slot.ty, cur)
    {
        let inner: String = bad.path.iter().rev().map(String::as_str).collect();
        let path = format!("{}{inner}", slot.display());
        return Err(InputError::new(format!("`{path}` must be {}, found {}", ty_phrase(&bad.want), bad.found)));
    }
    let value = Value::from_json(cur);
    // `int` fields accept integral numbers written as floats (`3.0`).
    Ok(match (&slot.ty, value) {
        (Ty::Int, Value::Float(f)) => Value::Int(f as i64),
        (_, v) => v,
    })
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
        (Ty::Int, Json::Number(n)) => {
            n.as_i64().is_some() || n.as_f64().is_some_and(|f| f.fract() == 0.0 && f.abs() <= 9.0e15)
        }
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
