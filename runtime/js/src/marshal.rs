//! What a rule left, read straight from QuickJS values into JSON with `JSON.stringify`'s
//! rules: `toJSON` is called (a `Date` becomes its ISO string), `undefined`, functions and
//! symbols are dropped from objects and become `null` in arrays, non-finite numbers become
//! `null`, and keys come in the object's own order. Cheaper than `JSON.stringify` and a
//! parse on the Rust side, which cost a fixed few microseconds even for small objects.

use rquickjs::function::This;
use rquickjs::{Ctx, Object, Type, Value};
use serde_json::{Map, Number, Value as Json};

/// Objects nested deeper than this are refused (a cycle ends here too).
pub(crate) const MAX_DEPTH: usize = 256;
/// Values read back from one rule, at most (an array of a million references to one object
/// would otherwise expand without bound outside the JS heap limit).
pub(crate) const MAX_NODES: usize = 1_000_000;

/// Why a value could not be read back.
#[derive(Debug)]
pub(crate) enum Unreadable {
    /// Not JSON: a cycle, a `BigInt`, too deep, or too many values.
    NotJson(String),
    /// JavaScript ran (a getter or `toJSON`) and threw, or was interrupted.
    Js(rquickjs::Error),
}

impl From<rquickjs::Error> for Unreadable {
    fn from(e: rquickjs::Error) -> Unreadable {
        Unreadable::Js(e)
    }
}

/// Reads `v` as JSON; `None` where `JSON.stringify` would leave the value out.
pub(crate) fn to_json<'js>(ctx: &Ctx<'js>, v: Value<'js>) -> Result<Option<Json>, Unreadable> {
    let mut nodes = 0;
    read(ctx, v, 0, &mut nodes)
}

fn read<'js>(ctx: &Ctx<'js>, v: Value<'js>, depth: usize, nodes: &mut usize) -> Result<Option<Json>, Unreadable> {
    *nodes += 1;
    if *nodes > MAX_NODES {
        return Err(Unreadable::NotJson(format!("more than {MAX_NODES} values")));
    }
    Ok(Some(match v.type_of() {
        Type::Uninitialized | Type::Undefined | Type::Symbol | Type::Function | Type::Constructor => return Ok(None),
        Type::Null => Json::Null,
        Type::Bool => Json::Bool(v.as_bool().unwrap_or(false)),
        Type::Int => Json::from(v.as_int().unwrap_or(0)),
        Type::Float => number(v.as_float().unwrap_or(f64::NAN)),
        Type::String => Json::String(v.as_string().map(|s| s.to_string()).transpose()?.unwrap_or_default()),
        Type::BigInt => return Err(Unreadable::NotJson("a BigInt cannot be serialized".into())),
        Type::Array | Type::Object | Type::Exception | Type::Promise | Type::Proxy => {
            if depth >= MAX_DEPTH {
                return Err(Unreadable::NotJson(format!("nested more than {MAX_DEPTH} levels deep (or cyclic)")));
            }
            let Some(obj) = v.as_object() else { return Ok(None) };
            let to_json: Value = obj.get("toJSON")?;
            if let Some(f) = to_json.as_function() {
                let replaced: Value = f.call((This(obj.clone()), ""))?;
                return read(ctx, replaced, depth + 1, nodes);
            }
            if let Some(array) = v.as_array() {
                let mut out = Vec::with_capacity(array.len());
                for item in array.iter::<Value>() {
                    out.push(read(ctx, item?, depth + 1, nodes)?.unwrap_or(Json::Null));
                }
                Json::Array(out)
            } else {
                object(ctx, obj, depth, nodes)?
            }
        }
        Type::Module | Type::Unknown => return Ok(None),
    }))
}

fn object<'js>(ctx: &Ctx<'js>, obj: &Object<'js>, depth: usize, nodes: &mut usize) -> Result<Json, Unreadable> {
    let mut out = Map::new();
    for prop in obj.props::<String, Value>() {
        let (k, item) = prop?;
        if let Some(j) = read(ctx, item, depth + 1, nodes)? {
            out.insert(k, j);
        }
    }
    Ok(Json::Object(out))
}

/// A number as `JSON.stringify` writes it: integers without a fraction, non-finite as null.
fn number(f: f64) -> Json {
    if !f.is_finite() {
        Json::Null
    } else if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
        Json::from(f as i64)
    } else {
        Number::from_f64(f).map_or(Json::Null, Json::Number)
    }
}
