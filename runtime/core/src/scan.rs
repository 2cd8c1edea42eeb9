//! The fast decoder: JSON bytes to the parts of `user` and `context` a program reads, in one
//! pass, without building the documents.
//!
//! A [`Plan`] (made once, when a pipeline loads) names what the program needs of each
//! document: the paths of its slots, the fields the runtime itself reads (`context.protocol`,
//! the starting scopes, `user.user_id`) and, whole, every top-level member of the user a rule
//! may write. [`scan`] then walks the bytes once: it validates all of them as JSON, checks
//! every known field against its shape (as [`crate::check_input`] does), counts values and
//! depth (as [`crate::check_json_text`] does), and builds a *pruned* document holding only
//! what the plan needs. Everything else stays where it lies in the input: for the user, each
//! top-level member's byte range, and whether those bytes are exactly what `serde_json`
//! would write for the value (no whitespace, no escapes, no duplicate keys, integers only),
//! so that the outcome can copy them through.
//!
//! The scanner never has to be right about input it does not like: it **declines**
//! ([`Declined`]) anything it does not vouch for (malformed JSON, a shape that does not fit,
//! an escaped key, a number it would have to convert, limits exceeded), and the caller then
//! runs the reference path, which parses the whole document with `serde_json` and gives the
//! same outcome or the same error as before. The only obligation is one way: what the scanner
//! accepts, the reference accepts, with the same meaning. The differential tests check it.

use serde_json::{Map, Value as Json};
use warden_ir::{Program, Root, Shape, Stmt, StmtKind};

use crate::decode::{MAX_INPUT_DEPTH, MAX_INPUT_VALUES};

/// What the fast path needs of one document: a tree of keys. A node marked `whole` needs its
/// full value; otherwise, when the value is an object, only the listed members.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Need {
    whole: bool,
    children: Vec<(String, Need)>,
}

impl Need {
    fn add(&mut self, path: &[String]) {
        match path.split_first() {
            None => self.whole = true,
            Some((first, rest)) => {
                let i = match self.children.iter().position(|(k, _)| k == first) {
                    Some(i) => i,
                    None => {
                        self.children.push((first.clone(), Need::default()));
                        self.children.len() - 1
                    }
                };
                self.children[i].1.add(rest);
            }
        }
    }

    fn child(&self, key: &str) -> Option<&Need> {
        self.children.iter().find(|(k, _)| k == key).map(|(_, n)| n)
    }
}

/// What the fast decoder keeps of a program's inputs (made when a pipeline loads).
#[derive(Clone, Debug)]
pub struct Plan {
    user: Need,
    context: Need,
    /// Top-level members of the user a rule may write (`set`, `unset`, `persist`): kept whole,
    /// and written from the document, never copied from the input.
    written: Vec<String>,
}

/// Fields the runtime reads itself, besides the slots.
const CONTEXT_FIELDS: &[&[&str]] = &[
    &["protocol"],
    &["request", "query", "prompt"],
    &["accessToken", "scope"],
    &["request", "body", "scope"],
    &["request", "query", "scope"],
];

impl Plan {
    pub fn new(prog: &Program) -> Plan {
        let mut user = Need::default();
        let mut context = Need::default();
        for slot in &prog.slots {
            match slot.root {
                Root::User => user.add(&slot.path),
                Root::Context => context.add(&slot.path),
                Root::Config => {}
            }
        }
        for path in CONTEXT_FIELDS {
            context.add(&path.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        }
        user.add(&["user_id".to_string()]);
        let mut written = Vec::new();
        for rule in &prog.rules {
            writes(&rule.body, &mut written);
        }
        for key in &written {
            user.add(std::slice::from_ref(key));
        }
        Plan { user, context, written }
    }

    /// Whether a rule may write the user's top-level member `key`.
    pub fn writes(&self, key: &str) -> bool {
        self.written.iter().any(|k| k == key)
    }
}

/// The top-level user keys statements write, nested statements included.
fn writes(body: &[Stmt], out: &mut Vec<String>) {
    for stmt in body {
        let key = match &stmt.kind {
            StmtKind::SetUser { path, .. } | StmtKind::UnsetUser { path, .. } => path.first().cloned(),
            StmtKind::Persist { metadata, .. } => Some(metadata.field().to_string()),
            StmtKind::If { then, otherwise, .. } => {
                writes(then, out);
                writes(otherwise, out);
                None
            }
            _ => None,
        };
        if let Some(k) = key
            && !out.contains(&k)
        {
            out.push(k);
        }
    }
}

/// The scanner does not vouch for this input: run the reference path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Declined;

/// One top-level member of the user as it lies in the input.
#[derive(Clone, Copy, Debug)]
pub struct Member {
    /// The key's bytes (between the quotes; keys with escapes are declined).
    pub key: (usize, usize),
    /// The value's bytes.
    pub start: usize,
    pub end: usize,
    /// The bytes are exactly what `serde_json` writes for the value.
    pub canonical: bool,
}

/// A document as the fast decoder left it.
#[derive(Debug)]
pub struct Scanned {
    /// The document, pruned to what the plan needs. For the user, every top-level key is
    /// present in the input's order (members the plan does not need hold `null`).
    pub doc: Json,
    /// For the user: each top-level member's value in the input, in the order of `doc`'s keys.
    pub members: Vec<Member>,
}

/// Which document: the user keeps every top-level key and where each lies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    User,
    Context,
}

/// Scans one document (`user` or `context`) of a login. `shape` is the document's input shape.
pub fn scan(text: &[u8], plan: &Plan, which: Which, shape: &Shape) -> Result<Scanned, Declined> {
    // JSON text is UTF-8; checking it all at once lets strings be sliced without checks later.
    let text = std::str::from_utf8(text).map_err(|_| Declined)?;
    let mut s = Scanner { s: text, b: text.as_bytes(), i: 0, values: 0, ws: 0, keys: Vec::new() };
    s.skip_ws();
    if s.peek() != Some(b'{') {
        return Err(Declined);
    }
    let need = match which {
        Which::User => &plan.user,
        Which::Context => &plan.context,
    };
    s.values += 1;
    let mut members = Vec::new();
    let top = if which == Which::User { Some(&mut members) } else { None };
    let (doc, _) = s.object(1, Some(need), Some(shape), top)?;
    s.skip_ws();
    if s.i != s.b.len() {
        return Err(Declined);
    }
    Ok(Scanned { doc: doc.unwrap_or(Json::Null), members })
}

struct Scanner<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    /// Values seen so far (the document counts one).
    values: usize,
    /// Whitespace bytes skipped so far: a value is canonical only if none was skipped inside.
    ws: usize,
    /// Key ranges of the objects being scanned (a stack), to find duplicate keys.
    keys: Vec<(usize, usize)>,
}

/// Objects with more keys than this are not checked for duplicates (and so never copied
/// through): the check stays linear.
const DUPLICATE_CHECK_KEYS: usize = 32;

/// What kind of value was scanned, for shape checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Null,
    Bool,
    /// An integer literal that fits an i64 or u64.
    Int,
    /// Any other number.
    Number,
    Str,
    List,
    Object,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        let start = self.i;
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.i += 1;
        }
        self.ws += self.i - start;
    }

    fn expect(&mut self, byte: u8) -> Result<(), Declined> {
        self.skip_ws();
        if self.peek() != Some(byte) {
            return Err(Declined);
        }
        self.i += 1;
        Ok(())
    }

    /// One value. Returns the pruned value when `need` asks for one, and whether its bytes are
    /// canonical; checks it against `shape`.
    fn value(&mut self, depth: usize, need: Option<&Need>, shape: Option<&Shape>) -> Result<Scanned1, Declined> {
        self.skip_ws();
        self.values += 1;
        if self.values > MAX_INPUT_VALUES {
            return Err(Declined);
        }
        let start = self.i;
        let ws_before = self.ws;
        let shape = shape.filter(|s| **s != Shape::Any);
        let (kind, pruned, mut canonical) = match self.peek().ok_or(Declined)? {
            b'{' => {
                if depth + 1 > MAX_INPUT_DEPTH {
                    return Err(Declined);
                }
                let partial = need.filter(|n| !n.whole);
                let obj_shape = match shape {
                    Some(s @ Shape::Object(_)) => Some(s),
                    Some(_) => return Err(Declined),
                    None => None,
                };
                let (doc, canonical) = self.object(depth + 1, partial, obj_shape, None)?;
                (Kind::Object, doc, canonical)
            }
            b'[' => {
                if depth + 1 > MAX_INPUT_DEPTH {
                    return Err(Declined);
                }
                let (item, strings) = match shape {
                    Some(Shape::List(inner)) => (Some(&**inner), false),
                    // Scopes: every item a string (not even null).
                    Some(Shape::Scopes) => (None, true),
                    Some(_) => return Err(Declined),
                    None => (None, false),
                };
                (Kind::List, None, self.array(depth + 1, item, strings)?)
            }
            b'"' => {
                let (from, to, escaped) = self.string()?;
                if let Some(Shape::OneOf(values)) = shape {
                    // The documented set is checked on the text; an escaped one is left to the
                    // reference.
                    if escaped || !values.iter().any(|v| v.as_str() == &self.s[from..to]) {
                        return Err(Declined);
                    }
                }
                (Kind::Str, None, !escaped)
            }
            b't' => (Kind::Bool, None, self.literal("true")?),
            b'f' => (Kind::Bool, None, self.literal("false")?),
            b'n' => (Kind::Null, None, self.literal("null")?),
            b'-' | b'0'..=b'9' => {
                let (kind, canonical) = self.number()?;
                (kind, None, canonical)
            }
            _ => return Err(Declined),
        };
        if let Some(shape) = shape
            && !fits(shape, kind)
        {
            return Err(Declined);
        }
        let end = self.i;
        canonical &= self.ws == ws_before;
        let doc = match need {
            Some(n) if n.whole || kind != Kind::Object => Some(self.materialize(start, end, kind)?),
            Some(_) => pruned,
            None => None,
        };
        Ok(Scanned1 { doc, kind, start, end, canonical })
    }

    /// An object's members. With `need`, returns the object pruned to the needed members;
    /// with `top`, records every member's place (the user's top level).
    fn object(
        &mut self,
        depth: usize,
        need: Option<&Need>,
        shape: Option<&Shape>,
        mut top: Option<&mut Vec<Member>>,
    ) -> Result<(Option<Json>, bool), Declined> {
        self.i += 1; // `{`
        let mut out: Option<Map<String, Json>> = need.map(|_| Map::new());
        let keys_base = self.keys.len();
        let mut canonical = true;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok((out.map(Json::Object), canonical));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(Declined);
            }
            let (from, to, escaped) = self.string()?;
            if escaped {
                // Keys with escapes are rare; the reference path handles them.
                return Err(Declined);
            }
            let key = &self.s[from..to];
            self.expect(b':')?;
            if canonical {
                let seen = &self.keys[keys_base..];
                if seen.len() >= DUPLICATE_CHECK_KEYS || seen.iter().any(|&(a, b)| self.b[a..b] == self.b[from..to]) {
                    canonical = false;
                } else {
                    self.keys.push((from, to));
                }
            }
            let child_need = need.and_then(|n| n.child(key));
            let child_shape = shape.and_then(|s| s.field(key));
            let v = self.value(depth, child_need, child_shape)?;
            canonical &= v.canonical;
            if let Some(members) = top.as_deref_mut() {
                // A repeated top-level key (`serde_json` keeps the first place and the last
                // value) is left to the reference.
                if out.as_ref().is_some_and(|map| map.contains_key(key)) {
                    return Err(Declined);
                }
                members.push(Member { key: (from, to), start: v.start, end: v.end, canonical: v.canonical });
            }
            if let Some(map) = &mut out
                && (child_need.is_some() || top.is_some())
            {
                // Members the plan does not need keep their place in the user as `null`.
                map.insert(key.to_string(), v.doc.unwrap_or(Json::Null));
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    break;
                }
                _ => return Err(Declined),
            }
        }
        self.keys.truncate(keys_base);
        Ok((out.map(Json::Object), canonical))
    }

    fn array(&mut self, depth: usize, item: Option<&Shape>, strings: bool) -> Result<bool, Declined> {
        self.i += 1; // `[`
        let mut canonical = true;
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(true);
        }
        loop {
            let v = self.value(depth, None, item)?;
            if strings && v.kind != Kind::Str {
                return Err(Declined);
            }
            canonical &= v.canonical;
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(canonical);
                }
                _ => return Err(Declined),
            }
        }
    }

    /// A string; returns the range of its contents and whether it has escapes.
    fn string(&mut self) -> Result<(usize, usize, bool), Declined> {
        self.i += 1; // `"`
        let from = self.i;
        let mut escaped = false;
        loop {
            let Some(&c) = self.b.get(self.i) else { return Err(Declined) };
            match c {
                b'"' => {
                    self.i += 1;
                    return Ok((from, self.i - 1, escaped));
                }
                b'\\' => {
                    escaped = true;
                    self.i += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 1,
                        Some(b'u') => {
                            let unit = self.hex4(self.i + 1)?;
                            self.i += 5;
                            if (0xDC00..0xE000).contains(&unit) {
                                return Err(Declined);
                            }
                            if (0xD800..0xDC00).contains(&unit) {
                                // A high surrogate must be followed by an escaped low one.
                                if self.b.get(self.i..self.i + 2) != Some(b"\\u") {
                                    return Err(Declined);
                                }
                                let low = self.hex4(self.i + 2)?;
                                if !(0xDC00..0xE000).contains(&low) {
                                    return Err(Declined);
                                }
                                self.i += 6;
                            }
                        }
                        _ => return Err(Declined),
                    }
                }
                0x00..=0x1f => return Err(Declined),
                _ => self.i += 1,
            }
        }
    }

    fn hex4(&self, at: usize) -> Result<u32, Declined> {
        let digits = self.s.get(at..at + 4).ok_or(Declined)?;
        if !digits.bytes().all(|d| d.is_ascii_hexdigit()) {
            return Err(Declined);
        }
        u32::from_str_radix(digits, 16).map_err(|_| Declined)
    }

    /// `true`, `false` or `null`; always canonical.
    fn literal(&mut self, word: &str) -> Result<bool, Declined> {
        if self.b.get(self.i..self.i + word.len()) != Some(word.as_bytes()) {
            return Err(Declined);
        }
        self.i += word.len();
        Ok(true)
    }

    /// A number as JSON's grammar has it, and whether `serde_json` writes it back unchanged
    /// (integers that fit 64 bits). Integers that fit an i64 are [`Kind::Int`] (what an `int`
    /// field accepts); anything else must be a finite double, as `serde_json` requires.
    fn number(&mut self) -> Result<(Kind, bool), Declined> {
        let start = self.i;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                while let Some(b'0'..=b'9') = self.peek() {
                    self.i += 1;
                }
            }
            _ => return Err(Declined),
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            integer = false;
            self.i += 1;
            self.digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            integer = false;
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            self.digits()?;
        }
        let text = &self.s[start..self.i];
        if integer && text != "-0" {
            // (`-0` reads back as a float in serde_json.)
            if text.parse::<i64>().is_ok() {
                return Ok((Kind::Int, true));
            }
            if !negative && text.parse::<u64>().is_ok() {
                return Ok((Kind::Number, true));
            }
        }
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok((Kind::Number, false)),
            _ => Err(Declined),
        }
    }

    fn digits(&mut self) -> Result<(), Declined> {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        if self.i == start { Err(Declined) } else { Ok(()) }
    }

    /// The full value of `start..end` as `serde_json` reads it.
    fn materialize(&self, start: usize, end: usize, kind: Kind) -> Result<Json, Declined> {
        let text = &self.s[start..end];
        match kind {
            Kind::Null => Ok(Json::Null),
            Kind::Bool => Ok(Json::Bool(text == "true")),
            Kind::Str if !text[1..text.len() - 1].contains('\\') => {
                Ok(Json::String(text[1..text.len() - 1].to_string()))
            }
            Kind::Int => text.parse::<i64>().map(Json::from).map_err(|_| Declined),
            _ => serde_json::from_str(text).map_err(|_| Declined),
        }
    }
}

/// One scanned value.
struct Scanned1 {
    doc: Option<Json>,
    kind: Kind,
    start: usize,
    end: usize,
    canonical: bool,
}

/// Whether a value of `kind` has `shape` (null always does); objects and lists were checked
/// member by member while scanning.
fn fits(shape: &Shape, kind: Kind) -> bool {
    match (shape, kind) {
        (_, Kind::Null) | (Shape::Any, _) => true,
        (Shape::Bool, Kind::Bool) => true,
        // A fractional or exponent number for an int field is left to the reference (`3.0`).
        (Shape::Int, Kind::Int) => true,
        (Shape::Float, Kind::Int | Kind::Number) => true,
        (Shape::Str | Shape::OneOf(_), Kind::Str) => true,
        (Shape::Time, Kind::Str | Kind::Int | Kind::Number) => true,
        (Shape::Scopes, Kind::Str | Kind::List) => true,
        (Shape::List(_), Kind::List) => true,
        (Shape::Object(_), Kind::Object) => true,
        _ => false,
    }
}

/// Writes the user of an outcome: members no rule may write are copied from the input when
/// their bytes are canonical (else read and written again, as the reference does); the others
/// are written from the document. `Err` when the document and the input disagree on the
/// members (a bug: the caller then runs the reference path).
pub fn write_user(
    out: &mut Vec<u8>,
    user: &Json,
    input: &[u8],
    members: &[Member],
    plan: &Plan,
) -> Result<(), Declined> {
    let Json::Object(map) = user else { return Err(Declined) };
    // Members no rule writes keep their place and are never removed: they come in the input's
    // order, which is `members`' order with the written ones left out.
    let mut raw = members.iter();
    out.push(b'{');
    for (n, (key, value)) in map.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut *out, key).map_err(|_| Declined)?;
        out.push(b':');
        if plan.writes(key) {
            serde_json::to_writer(&mut *out, value).map_err(|_| Declined)?;
            continue;
        }
        let m = raw.find(|m| input.get(m.key.0..m.key.1) == Some(key.as_bytes())).ok_or(Declined)?;
        let bytes = input.get(m.start..m.end).ok_or(Declined)?;
        if m.canonical {
            out.extend_from_slice(bytes);
        } else {
            let v: Json = serde_json::from_slice(bytes).map_err(|_| Declined)?;
            serde_json::to_writer(&mut *out, &v).map_err(|_| Declined)?;
        }
    }
    out.push(b'}');
    Ok(())
}
