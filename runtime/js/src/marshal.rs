//! What a rule left, read straight from QuickJS values into JSON with `JSON.stringify`'s
//! rules: `toJSON` is called (a `Date` becomes its ISO string), `undefined`, functions and
//! symbols are dropped from objects and become `null` in arrays, non-finite numbers become
//! `null`, and keys come in the object's own order. Cheaper than `JSON.stringify` and a
//! parse on the Rust side, which cost a fixed few microseconds even for small objects.

use rquickjs::function::This;
use rquickjs::{Atom, Ctx, Object, Type, Value};
use serde_json::{Map, Number, Value as Json};

/// Objects nested deeper than this are refused (a cycle ends here too).
pub(crate) const MAX_DEPTH: usize = 256;
/// Values read back from one rule, at most. With the byte budget below, this bounds what a
/// rule can make the host allocate: an array of a million references to one large string is
/// small in the JS heap but would expand without bound outside it.
pub(crate) const MAX_NODES: usize = 1_000_000;

/// Why a value could not be read back.
#[derive(Debug)]
pub(crate) enum Unreadable {
    /// Not JSON: a cycle, a `BigInt`, or too deep.
    NotJson(String),
    /// More values, or more bytes of keys and strings, than the budget allows.
    TooLarge(String),
    /// JavaScript ran (a getter or `toJSON`) and threw, or was interrupted.
    Js(rquickjs::Error),
}

impl From<rquickjs::Error> for Unreadable {
    fn from(e: rquickjs::Error) -> Unreadable {
        Unreadable::Js(e)
    }
}

/// What reading may still take.
struct Budget {
    nodes: usize,
    bytes: usize,
}

impl Budget {
    fn take(&mut self, nodes: usize, bytes: usize) -> Result<(), Unreadable> {
        self.nodes = self
            .nodes
            .checked_sub(nodes)
            .ok_or_else(|| Unreadable::TooLarge(format!("more than {MAX_NODES} values")))?;
        self.bytes = self
            .bytes
            .checked_sub(bytes)
            .ok_or_else(|| Unreadable::TooLarge("more bytes than its memory limit".into()))?;
        Ok(())
    }
}

/// The property a value is read from: `toJSON` receives it, as in `JSON.stringify`.
#[derive(Clone, Copy)]
enum Key<'a> {
    Root,
    Name(&'a str),
    Index(u32),
}

/// What reading looks up once: the prototypes of the boxed primitives (`new String('x')` is
/// written as `"x"`), and the `toJSON` key as an atom (not hashed again for every object).
struct Boxes<'js> {
    string: Option<Object<'js>>,
    number: Option<Object<'js>>,
    boolean: Option<Object<'js>>,
    to_json: Atom<'js>,
}

impl<'js> Boxes<'js> {
    fn new(ctx: &Ctx<'js>) -> Result<Boxes<'js>, rquickjs::Error> {
        let proto = |name: &str| -> Option<Object<'js>> {
            ctx.globals().get::<_, Object>(name).and_then(|c| c.get::<_, Object>("prototype")).ok()
        };
        Ok(Boxes {
            string: proto("String"),
            number: proto("Number"),
            boolean: proto("Boolean"),
            to_json: Atom::from_str(ctx.clone(), "toJSON")?,
        })
    }

    /// The primitive inside a boxed primitive.
    fn unbox(&self, obj: &Object<'js>) -> Result<Option<Value<'js>>, rquickjs::Error> {
        let Some(p) = obj.get_prototype() else { return Ok(None) };
        let is = |b: &Option<Object<'js>>| b.as_ref().is_some_and(|b| *b == p);
        if !(is(&self.string) || is(&self.number) || is(&self.boolean)) {
            return Ok(None);
        }
        let value_of: Value = obj.get("valueOf")?;
        match value_of.as_function() {
            Some(f) => Ok(Some(f.call((This(obj.clone()),))?)),
            None => Ok(None),
        }
    }
}

/// Reads `v` as JSON; `None` where `JSON.stringify` would leave the value out. At most
/// `max_bytes` of keys and strings (and 16 bytes per value) are read.
pub(crate) fn to_json<'js>(ctx: &Ctx<'js>, v: Value<'js>, max_bytes: usize) -> Result<Option<Json>, Unreadable> {
    let mut budget = Budget { nodes: MAX_NODES, bytes: max_bytes };
    let boxes = Boxes::new(ctx)?;
    read(ctx, &boxes, v, Key::Root, 0, &mut budget)
}

fn read<'js>(
    ctx: &Ctx<'js>,
    boxes: &Boxes<'js>,
    v: Value<'js>,
    key: Key<'_>,
    depth: usize,
    budget: &mut Budget,
) -> Result<Option<Json>, Unreadable> {
    budget.take(1, 16)?;
    Ok(Some(match v.type_of() {
        Type::Uninitialized | Type::Undefined | Type::Symbol | Type::Function | Type::Constructor => return Ok(None),
        Type::Null => Json::Null,
        Type::Bool => Json::Bool(v.as_bool().unwrap_or(false)),
        Type::Int => Json::from(v.as_int().unwrap_or(0)),
        Type::Float => number(v.as_float().unwrap_or(f64::NAN)),
        Type::String => {
            let s = v.as_string().map(|s| s.to_string()).transpose()?.unwrap_or_default();
            budget.take(0, s.len())?;
            Json::String(s)
        }
        Type::BigInt => return Err(Unreadable::NotJson("a BigInt cannot be serialized".into())),
        Type::Array | Type::Object | Type::Exception | Type::Promise | Type::Proxy => {
            if depth >= MAX_DEPTH {
                return Err(Unreadable::NotJson(format!("nested more than {MAX_DEPTH} levels deep (or cyclic)")));
            }
            let Some(obj) = v.as_object() else { return Ok(None) };
            let to_json: Value = obj.get(boxes.to_json.clone())?;
            if let Some(f) = to_json.as_function() {
                let name = match key {
                    Key::Root => String::new(),
                    Key::Name(k) => k.to_string(),
                    Key::Index(i) => i.to_string(),
                };
                let replaced: Value = f.call((This(obj.clone()), name))?;
                return read(ctx, boxes, replaced, key, depth + 1, budget);
            }
            if let Some(inner) = boxes.unbox(obj)? {
                return read(ctx, boxes, inner, key, depth + 1, budget);
            }
            if v.is_array() {
                // `length` is read as a number (a rule may set it to anything up to 2^32 - 1)
                // and checked against the budget before anything is allocated.
                let length: Value = obj.get("length")?;
                let len = length.as_number().unwrap_or(0.0).clamp(0.0, f64::from(u32::MAX)) as usize;
                if len > budget.nodes {
                    return Err(Unreadable::TooLarge(format!("more than {MAX_NODES} values")));
                }
                let mut out = Vec::with_capacity(len);
                for i in 0..len as u32 {
                    let item: Value = obj.get(i)?;
                    out.push(read(ctx, boxes, item, Key::Index(i), depth + 1, budget)?.unwrap_or(Json::Null));
                }
                Json::Array(out)
            } else {
                object(ctx, boxes, obj, depth, budget)?
            }
        }
        Type::Module | Type::Unknown => return Ok(None),
    }))
}

fn object<'js>(
    ctx: &Ctx<'js>,
    boxes: &Boxes<'js>,
    obj: &Object<'js>,
    depth: usize,
    budget: &mut Budget,
) -> Result<Json, Unreadable> {
    let props = obj.props::<String, Value>();
    let mut out = Map::with_capacity(props.len());
    for prop in props {
        let (k, item) = prop?;
        budget.take(0, k.len())?;
        if let Some(j) = read(ctx, boxes, item, Key::Name(&k), depth + 1, budget)? {
            out.insert(k, j);
        }
    }
    Ok(Json::Object(out))
}

/// A number as `JSON.stringify` writes it: integers without a fraction (those that fit in
/// 64 bits; larger ones keep their exponent form), non-finite as null.
fn number(f: f64) -> Json {
    if !f.is_finite() {
        Json::Null
    } else if f.fract() == 0.0 && f.abs() < 9.2e18 {
        Json::from(f as i64)
    } else {
        Number::from_f64(f).map_or(Json::Null, Json::Number)
    }
}
