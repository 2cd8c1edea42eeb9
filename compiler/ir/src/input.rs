//! The shape the inputs must have: every known field of Auth0's `user` and `context`, and of
//! the objects a manifest declares. Runtimes check the whole input against it when a login is
//! decoded, whatever the rules read, and check what rules write into known fields.

use serde::{Deserialize, Serialize};

/// The shapes of the two inputs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InputShapes {
    /// The shape of `user`.
    pub user: Shape,
    /// The shape of `context`.
    pub context: Shape,
}

/// What a known value must look like. Any value may also be missing (absent or `null`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum Shape {
    /// Not known: anything goes (checked where rules use it).
    #[default]
    Any,
    /// `true` or `false`.
    Bool,
    /// An integral number.
    Int,
    /// Any number.
    Float,
    /// A string.
    Str,
    /// A string with a documented set of values (`context.protocol`).
    OneOf(Vec<String>),
    /// A date-time: a string or epoch milliseconds.
    Time,
    /// Scopes: a space-separated string or a list of strings.
    Scopes,
    /// A list whose items have this shape.
    List(Box<Shape>),
    /// An object whose listed fields have known shapes (in [`key_order`], so that lookups can
    /// search); other fields may be present and are not checked.
    Object(Vec<(String, Shape)>),
}

impl Shape {
    /// An object shape from fields in any order.
    pub fn object(mut fields: Vec<(String, Shape)>) -> Shape {
        fields.sort_by(|a, b| key_order(&a.0, &b.0));
        fields.dedup_by(|a, b| a.0 == b.0);
        Shape::Object(fields)
    }

    /// The shape of a known field of an object shape.
    pub fn field(&self, name: &str) -> Option<&Shape> {
        match self {
            Shape::Object(fields) => fields.binary_search_by(|(n, _)| key_order(n, name)).ok().map(|i| &fields[i].1),
            _ => None,
        }
    }

    /// Where a field name goes among an object's fields (see [`key_order`]).
    pub fn field_slot(fields: &[(String, Shape)], name: &str) -> Result<usize, usize> {
        fields.binary_search_by(|(n, _)| key_order(n, name))
    }

    /// The shape at a path of field names below this one; `None` where nothing is known.
    pub fn at(&self, path: &[String]) -> Option<&Shape> {
        path.iter().try_fold(self, |s, p| s.field(p))
    }

    /// What a value of this shape is, in messages: "a bool", "a list of strings".
    pub fn phrase(&self) -> String {
        match self {
            Shape::Any => "any value".into(),
            Shape::Bool => "a bool".into(),
            Shape::Int => "an integer".into(),
            Shape::Float => "a number".into(),
            Shape::Str => "a string".into(),
            Shape::OneOf(values) => format!("one of {}", values.join(", ")),
            Shape::Time => "a date-time (string or epoch milliseconds)".into(),
            Shape::Scopes => "scopes (a space-separated string or a list of strings)".into(),
            Shape::List(inner) => format!("a list of {}", inner.plural()),
            Shape::Object(_) => "an object".into(),
        }
    }

    fn plural(&self) -> String {
        match self {
            Shape::Bool => "bools".into(),
            Shape::Int => "integers".into(),
            Shape::Float => "numbers".into(),
            Shape::Str => "strings".into(),
            Shape::Time => "date-times".into(),
            Shape::Object(_) => "objects".into(),
            Shape::List(_) => "lists".into(),
            other => format!("values ({})", other.phrase()),
        }
    }
}

/// The order of an object shape's fields: by length, then by bytes. Every input key is looked
/// up once per login, and most comparisons are then decided by the lengths alone.
pub fn key_order(a: &str, b: &str) -> std::cmp::Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len().cmp(&b.len()).then_with(|| a.first().cmp(&b.first())).then_with(|| a.cmp(b))
}
