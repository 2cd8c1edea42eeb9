//! What a rule left, read straight from QuickJS values into JSON with `JSON.stringify`'s
//! rules: `toJSON` is called (a `Date` becomes its ISO string), `undefined`, functions and
//! symbols are dropped from objects and become `null` in arrays, non-finite numbers become
//! `null`, and keys come in the object's own order. Cheaper than `JSON.stringify` and a
//! parse on the Rust side, which cost a fixed few microseconds even for small objects.

use rquickjs::function::This;
use rquickjs::{Atom, Ctx, Object, Type, Value};
use serde_json::{Map, Number, Value as Json};

/// Objects nested deeper than this are refused (a cycle ends here too). The reader keeps its
/// own stack of open containers on the heap, so the depth costs no thread stack.
pub(crate) const MAX_DEPTH: usize = 256;
/// Values read back from one rule, at most. With the byte budget below, this bounds what a
/// rule can make the host allocate: an array of a million references to one large string is
/// small in the JS heap but would expand without bound outside it.
pub(crate) const MAX_NODES: usize = 1_000_000;
/// Arrays and objects are sized up front for at most this many items (a sparse array's
/// `length`, or a proxy's key list, is not what gets read: the budget bounds that).
const PRESIZE: usize = 4096;

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

/// What reading looks up once: the prototypes of the boxed primitives (`new String('x')` is
/// written as `"x"`), and the `toJSON` key as an atom (not hashed again for every object).
struct Known<'js> {
    string: Option<Object<'js>>,
    number: Option<Object<'js>>,
    boolean: Option<Object<'js>>,
    to_json: Atom<'js>,
    ctx: Ctx<'js>,
}

impl<'js> Known<'js> {
    fn new(ctx: &Ctx<'js>) -> Result<Known<'js>, rquickjs::Error> {
        let proto = |name: &str| -> Option<Object<'js>> {
            ctx.globals().get::<_, Object>(name).and_then(|c| c.get::<_, Object>("prototype")).ok()
        };
        Ok(Known {
            string: proto("String"),
            number: proto("Number"),
            boolean: proto("Boolean"),
            to_json: Atom::from_str(ctx.clone(), "toJSON")?,
            ctx: ctx.clone(),
        })
    }

    /// `Array.isArray`, which sees through proxies (the built-in is frozen).
    fn is_array(&self, v: &Value<'js>) -> Result<bool, rquickjs::Error> {
        let array: Object = self.ctx.globals().get("Array")?;
        let is_array: rquickjs::Function = array.get("isArray")?;
        is_array.call((v.clone(),))
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

/// What reading a value against what it was (its base) comes to.
#[derive(Debug)]
pub(crate) enum Seen {
    /// It reads exactly as its base: nothing was built (the caller keeps the base).
    Same,
    /// It reads as this; `None` where `JSON.stringify` would leave the value out.
    Read(Option<Json>),
}

impl Seen {
    /// What was read, for a value read with no base (which never reads `Same`).
    fn built(self) -> Option<Json> {
        match self {
            Seen::Same => None,
            Seen::Read(j) => j,
        }
    }
}

/// Reads `v` as JSON (`None` where `JSON.stringify` would leave the value out), at most
/// `max_bytes` of keys and strings (and 16 bytes per value). The root object's property
/// `base.0` is read against `base.1`, what it was before the rule: the flag says it reads
/// exactly as that (and it is then left out of the result, which the caller completes with
/// the value it already has). Reading an
/// unchanged `user` this way builds nothing. The same JavaScript runs either way (getters,
/// `toJSON`, in the same order), and the same budget applies.
pub(crate) fn to_json_against<'js>(
    ctx: &Ctx<'js>,
    v: Value<'js>,
    max_bytes: usize,
    base: Option<(&str, &Json)>,
) -> Result<(Option<Json>, bool), Unreadable> {
    let mut budget = Budget { nodes: MAX_NODES, bytes: max_bytes };
    let known = Known::new(ctx)?;
    let mut reader = Reader { known: &known, budget: &mut budget, root_base: base, same: false };
    let json = reader.read(v, None)?.built();
    Ok((json, reader.same))
}

struct Reader<'a, 'js> {
    known: &'a Known<'js>,
    budget: &'a mut Budget,
    /// The root's property read against a base, and whether it read the same.
    root_base: Option<(&'a str, &'a Json)>,
    same: bool,
}

/// What starting to read a value gives: the value, or a container whose items come next.
enum Step<'a, 'js> {
    Done(Seen),
    Open(Frame<'a, 'js>),
}

/// A container being read. The reader keeps these on its own stack, not the thread's: how
/// deep a rule nests its objects costs heap (bounded by `MAX_DEPTH` and the budget), never
/// the host's stack.
struct Frame<'a, 'js> {
    depth: usize,
    items: Items<'a, 'js>,
}

enum Items<'a, 'js> {
    Array {
        obj: Object<'js>,
        len: usize,
        next: u32,
        base: Option<&'a Vec<Json>>,
        /// `None` while every item so far read as the base's.
        out: Option<Vec<Json>>,
    },
    Object {
        props: rquickjs::object::ObjectIter<'js, rquickjs::String<'js>, Value<'js>>,
        base: Option<&'a Map<String, Json>>,
        base_entries: Option<serde_json::map::Iter<'a>>,
        /// How many properties so far read as the base's (while `out` is `None`).
        matched: usize,
        out: Option<Map<String, Json>>,
        capacity: usize,
        /// The property being read, and whether it is the root's property read against
        /// `Reader::root_base`.
        key: String,
        against_root_base: bool,
        /// The root object (whose `Reader::root_base` property is read against its base).
        root: bool,
    },
}

/// The property a value is read from: `toJSON` receives it, as in `JSON.stringify`.
#[derive(Clone, Copy)]
enum Key<'k> {
    Root,
    Name(&'k str),
    Index(u32),
}

impl<'js> Reader<'_, 'js> {
    /// A JavaScript string as UTF-8. A lone surrogate (half of an emoji cut by `slice`) has no
    /// UTF-8 form: it becomes U+FFFD, as `String.prototype.toWellFormed` and `TextEncoder`
    /// do. (QuickJS hands it out as WTF-8, which a Rust string cannot hold, so the string is
    /// made well-formed in QuickJS first; the method is a frozen built-in.)
    fn text(&self, s: &rquickjs::String<'js>) -> Result<String, Unreadable> {
        match s.to_string() {
            Ok(t) => Ok(t),
            Err(rquickjs::Error::Utf8(_)) => {
                let well_formed: Option<rquickjs::Function> =
                    self.known.string.as_ref().and_then(|p| p.get("toWellFormed").ok());
                let fixed: Option<rquickjs::String> = match well_formed {
                    Some(f) => Some(f.call((This(s.clone()),))?),
                    None => None,
                };
                fixed
                    .and_then(|f| f.to_string().ok())
                    .ok_or_else(|| Unreadable::NotJson("a string holds a lone surrogate".into()))
            }
            Err(e) => Err(Unreadable::Js(e)),
        }
    }
}

impl<'a, 'js> Reader<'a, 'js> {
    /// Reads `v`, against `base` when there is one.
    fn read(&mut self, v: Value<'js>, base: Option<&'a Json>) -> Result<Seen, Unreadable> {
        let mut stack: Vec<Frame<'a, 'js>> = Vec::with_capacity(8);
        let mut step = self.start(v, Key::Root, 0, base)?;
        loop {
            // A value read completes its container's item; a container opened is read next.
            let seen = match step {
                Step::Open(frame) => {
                    stack.push(frame);
                    None
                }
                Step::Done(seen) => Some(seen),
            };
            if let Some(seen) = seen {
                match stack.last_mut() {
                    None => return Ok(seen),
                    Some(top) => top.items.deliver(seen, self)?,
                }
            }
            let Some(top) = stack.last_mut() else {
                return Err(Unreadable::NotJson("the reader lost its place".into()));
            };
            let depth = top.depth;
            match top.items.next(self)? {
                Some((item, item_base)) => step = self.start(item, top.items.key(), depth + 1, item_base)?,
                None => {
                    let done = stack.pop().map(|f| f.items.finish());
                    step = Step::Done(done.unwrap_or(Seen::Read(None)));
                }
            }
        }
    }

    /// Reads a primitive, or opens a container (after `toJSON` and unboxing).
    fn start(
        &mut self,
        mut v: Value<'js>,
        key: Key<'_>,
        depth: usize,
        base: Option<&'a Json>,
    ) -> Result<Step<'a, 'js>, Unreadable> {
        self.budget.take(1, 16)?;
        // `toJSON` (any object, functions too, may have one), called once: what it returns
        // is not asked again.
        if let Some(obj) = v.as_object().cloned() {
            let to_json: Value = obj.get(self.known.to_json.clone())?;
            if let Some(f) = to_json.as_function() {
                let name = match key {
                    Key::Root => String::new(),
                    Key::Name(k) => k.to_string(),
                    Key::Index(i) => i.to_string(),
                };
                v = f.call((This(obj), name))?;
            }
        }
        // A boxed primitive (`new String('x')`) is written as its primitive. Only ordinary
        // objects are looked at: a proxy has no primitive inside, and asking for its
        // prototype would run its trap.
        if v.type_of() == Type::Object
            && let Some(obj) = v.as_object()
            && let Some(inner) = self.known.unbox(obj)?
        {
            v = inner;
        }
        let json = match v.type_of() {
            Type::Uninitialized | Type::Undefined | Type::Symbol | Type::Function | Type::Constructor => None,
            Type::Null => Some(Json::Null),
            Type::Bool => Some(Json::Bool(v.as_bool().unwrap_or(false))),
            Type::Int => Some(Json::from(v.as_int().unwrap_or(0))),
            Type::Float => Some(number(v.as_float().unwrap_or(f64::NAN))),
            Type::String => {
                let s = v.as_string().map(|s| self.text(s)).transpose()?.unwrap_or_default();
                self.budget.take(0, s.len())?;
                if base.and_then(Json::as_str) == Some(s.as_str()) {
                    return Ok(Step::Done(Seen::Same));
                }
                Some(Json::String(s))
            }
            Type::BigInt => return Err(Unreadable::NotJson("a BigInt cannot be serialized".into())),
            Type::Array | Type::Object | Type::Exception | Type::Promise | Type::Proxy => {
                if depth >= MAX_DEPTH {
                    return Err(Unreadable::NotJson(format!("nested more than {MAX_DEPTH} levels deep (or cyclic)")));
                }
                let Some(obj) = v.as_object().cloned() else { return Ok(Step::Done(Seen::Read(None))) };
                let array = v.is_array() || (v.type_of() == Type::Proxy && self.known.is_array(&v)?);
                return Ok(Step::Open(if array {
                    self.open_array(obj, depth, base)?
                } else {
                    self.open_object(obj, depth, base)
                }));
            }
            Type::Module | Type::Unknown => None,
        };
        Ok(Step::Done(match base {
            Some(b) if json.as_ref() == Some(b) => Seen::Same,
            _ => Seen::Read(json),
        }))
    }

    fn open_array(
        &mut self,
        obj: Object<'js>,
        depth: usize,
        base: Option<&'a Json>,
    ) -> Result<Frame<'a, 'js>, Unreadable> {
        // `length` is read as a number (a rule may set it to anything up to 2^32 - 1) and
        // checked against the budget before anything is allocated.
        let length: Value = obj.get("length")?;
        let len = length.as_number().unwrap_or(0.0).clamp(0.0, f64::from(u32::MAX)) as usize;
        if len > self.budget.nodes {
            return Err(Unreadable::TooLarge(format!("more than {MAX_NODES} values")));
        }
        let base = base.and_then(Json::as_array);
        let out = if base.is_none() { Some(Vec::with_capacity(len.min(PRESIZE))) } else { None };
        Ok(Frame { depth, items: Items::Array { obj, len, next: 0, base, out } })
    }

    fn open_object(&mut self, obj: Object<'js>, depth: usize, base: Option<&'a Json>) -> Frame<'a, 'js> {
        let base = base.and_then(Json::as_object);
        // Keys are read as strings, with their length (a key may hold a NUL character).
        let props = obj.props::<rquickjs::String, Value>();
        let capacity = props.len().min(PRESIZE);
        let out = if base.is_none() { Some(Map::with_capacity(capacity)) } else { None };
        let items = Items::Object {
            props,
            base,
            base_entries: base.map(|b| b.iter()),
            matched: 0,
            out,
            capacity,
            key: String::new(),
            against_root_base: false,
            root: depth == 0,
        };
        Frame { depth, items }
    }
}

impl<'a, 'js> Items<'a, 'js> {
    /// The key of the item `next` gave last.
    fn key(&self) -> Key<'_> {
        match self {
            Items::Array { next, .. } => Key::Index(next.saturating_sub(1)),
            Items::Object { key, .. } => Key::Name(key),
        }
    }

    /// The next item to read and its base; `None` when all are read.
    fn next(&mut self, reader: &mut Reader<'a, 'js>) -> Result<Option<(Value<'js>, Option<&'a Json>)>, Unreadable> {
        match self {
            Items::Array { obj, len, next, base, out } => {
                if *next as usize >= *len {
                    return Ok(None);
                }
                let i = *next;
                *next += 1;
                let item: Value = obj.get(i)?;
                let item_base = if out.is_none() { base.and_then(|b| b.get(i as usize)) } else { None };
                Ok(Some((item, item_base)))
            }
            Items::Object { props, base_entries, out, key, against_root_base, root, .. } => {
                let Some(prop) = props.next() else { return Ok(None) };
                let (k, item) = prop?;
                let k = reader.text(&k)?;
                reader.budget.take(0, k.len())?;
                // At the root, the property read against the reader's base (the user) is
                // left out of the result when it reads the same.
                let root_base = reader.root_base.filter(|(name, _)| *name == k);
                *against_root_base = false;
                let item_base = match (root_base, &*out, base_entries) {
                    (Some((_, against)), _, _) if *root => {
                        *against_root_base = true;
                        Some(against)
                    }
                    (_, None, Some(entries)) => entries.next().filter(|(bk, _)| bk.as_str() == k).map(|(_, bv)| bv),
                    _ => None,
                };
                *key = k;
                Ok(Some((item, item_base)))
            }
        }
    }

    /// Takes the item just read.
    fn deliver(&mut self, seen: Seen, reader: &mut Reader<'a, 'js>) -> Result<(), Unreadable> {
        match self {
            Items::Array { len, next, base, out, .. } => {
                let i = *next as usize - 1;
                match (&mut *out, seen) {
                    (None, Seen::Same) => {}
                    (Some(items), seen) => items.push(seen.built().unwrap_or(Json::Null)),
                    (None, Seen::Read(j)) => {
                        let mut items = Vec::with_capacity((*len).min(PRESIZE));
                        items.extend((*base).into_iter().flatten().take(i).cloned());
                        items.push(j.unwrap_or(Json::Null));
                        *out = Some(items);
                    }
                }
            }
            Items::Object { base, matched, out, capacity, key, against_root_base, .. } => {
                if *against_root_base {
                    match seen {
                        Seen::Same => reader.same = true,
                        Seen::Read(j) => {
                            reader.same = false;
                            if let (Some(map), Some(j)) = (&mut *out, j) {
                                insert(map, key, j)?;
                            }
                        }
                    }
                    return Ok(());
                }
                match (&mut *out, seen) {
                    (None, Seen::Same) => *matched += 1,
                    (Some(map), seen) => {
                        if let Some(j) = seen.built() {
                            insert(map, key, j)?;
                        }
                    }
                    (None, Seen::Read(j)) => {
                        let mut map = Map::with_capacity(*capacity);
                        for (bk, bv) in (*base).into_iter().flatten().take(*matched) {
                            map.insert(bk.clone(), bv.clone());
                        }
                        if let Some(j) = j {
                            insert(&mut map, key, j)?;
                        }
                        *out = Some(map);
                    }
                }
            }
        }
        Ok(())
    }

    /// The container, once every item is read.
    fn finish(self) -> Seen {
        match self {
            Items::Array { len, base, out, .. } => match (out, base) {
                (Some(items), _) => Seen::Read(Some(Json::Array(items))),
                (None, Some(b)) if b.len() == len => Seen::Same,
                (None, b) => Seen::Read(Some(Json::Array(b.into_iter().flatten().take(len).cloned().collect()))),
            },
            Items::Object { base, matched, out, .. } => match (out, base) {
                (Some(map), _) => Seen::Read(Some(Json::Object(map))),
                (None, Some(b)) if b.len() == matched => Seen::Same,
                (None, b) => Seen::Read(Some(Json::Object(
                    b.into_iter().flatten().take(matched).map(|(k, v)| (k.clone(), v.clone())).collect(),
                ))),
            },
        }
    }
}

/// Adds a property read from a JavaScript object. Its keys are distinct, so a key already
/// there is one that only differed in lone surrogates (both became U+FFFD): one would be
/// lost, so the result is refused instead.
fn insert(map: &mut Map<String, Json>, k: &str, j: Json) -> Result<(), Unreadable> {
    match map.insert(k.to_string(), j) {
        None => Ok(()),
        Some(_) => Err(Unreadable::NotJson(format!("two keys differ only in lone surrogates ({k:?})"))),
    }
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
