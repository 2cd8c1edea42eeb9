//! Run-time values. Every backend reads and writes these; JSON is only the edge format.

use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::Value as Json;

/// A string value: owned, or a part of a login's input. Slots the fast decoder reads from JSON
/// bytes point into one shared copy of the input instead of each copying its string
/// (ARCHITECTURE.md, "From bytes to bytes"); clones share either. Reads as a `str`.
#[derive(Clone)]
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    Owned(Arc<str>),
    /// `input[start..end]`, a range on character boundaries (checked when made).
    Input {
        input: Arc<str>,
        start: u32,
        end: u32,
    },
}

impl Text {
    /// `input[start..end]` without a copy (a copy past 4 GiB); `None` when the range is not
    /// one of `input` on character boundaries.
    pub fn of_input(input: &Arc<str>, start: usize, end: usize) -> Option<Text> {
        let text = input.get(start..end)?;
        Some(match (u32::try_from(start), u32::try_from(end)) {
            (Ok(start), Ok(end)) => Text(Repr::Input { input: input.clone(), start, end }),
            _ => Text::from(text),
        })
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Owned(s) => s,
            // Checked when made: `get` never fails here (and would read as empty, not panic).
            Repr::Input { input, start, end } => input.get(*start as usize..*end as usize).unwrap_or_default(),
        }
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text(Repr::Owned(Arc::from(s)))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text(Repr::Owned(Arc::from(s)))
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.as_str().hash(h)
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value during a login. `Null` stands for both JSON `null` and a missing field.
#[derive(Clone, Debug, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Text),
    List(Arc<Vec<Value>>),
    Object(Arc<IndexMap<String, Value>>),
}

/// As [`Value::to_json`] would serialize: a float that is not finite is `null`.
impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Float(f) if f.is_finite() => s.serialize_f64(*f),
            Value::Float(_) => s.serialize_unit(),
            Value::Str(t) => s.serialize_str(t),
            Value::List(items) => s.collect_seq(items.iter()),
            Value::Object(map) => s.collect_map(map.iter()),
        }
    }
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Text::from(s))
    }

    pub fn from_json(j: &Json) -> Value {
        match j {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Json::String(s) => Value::str(s),
            Json::Array(items) => Value::List(Arc::new(items.iter().map(Value::from_json).collect())),
            Json::Object(map) => {
                Value::Object(Arc::new(map.iter().map(|(k, v)| (k.clone(), Value::from_json(v))).collect()))
            }
        }
    }

    pub fn to_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
            Value::Str(s) => Json::String(s.to_string()),
            Value::List(items) => Json::Array(items.iter().map(Value::to_json).collect()),
            Value::Object(map) => Json::Object(map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
        }
    }

    /// Whether lists and objects nest more than `levels` deep in this value (a scalar is 0
    /// levels, `[]` one). Recursion stops at `levels`.
    pub fn nests_deeper_than(&self, levels: usize) -> bool {
        let deeper = |c: &Value| c.nests_deeper_than(levels.saturating_sub(1));
        match self {
            Value::List(items) => levels == 0 || items.iter().any(deeper),
            Value::Object(map) => levels == 0 || map.values().any(deeper),
            _ => false,
        }
    }

    /// The type's name in messages: "a string", "a list".
    pub fn describe(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a bool",
            Value::Int(_) => "an int",
            Value::Float(_) => "a float",
            Value::Str(_) => "a string",
            Value::List(_) => "a list",
            Value::Object(_) => "an object",
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// Structural equality; numbers compare numerically, different types are unequal.
    pub fn equals(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => self.as_f64() == other.as_f64(),
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::List(a), Value::List(b)) => a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.equals(y)),
            (Value::Object(a), Value::Object(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| v.equals(w)))
            }
            _ => false,
        }
    }

    /// Text for interpolation and logs: strings as is, other values as JSON.
    pub fn to_text(&self) -> String {
        match self {
            Value::Str(s) => s.to_string(),
            Value::Float(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 => {
                format!("{}", *f as i64)
            }
            other => other.to_json().to_string(),
        }
    }
}
