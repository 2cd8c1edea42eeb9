//! The fast decoder: JSON bytes straight into a program's slots, in one pass, without
//! building the documents.
//!
//! A [`Plan`] (made once, when a pipeline loads) is a tree of the keys the program needs of
//! each document: where each slot's path ends, and what the runtime keeps as JSON (the
//! top-level members of the user a rule may write, `user.user_id`, and the context fields
//! the runtime reads itself: `protocol`, `prompt`, the starting scopes). [`scan`] then walks
//! the bytes once. It validates all of them as JSON, checks every known field against its
//! shape (as [`crate::check_input`] does) and counts values and depth (as
//! [`crate::check_json_text`] does); it decodes each slot's value where it finds it (a
//! string without escapes is copied once, from the input, into the slot) and keeps the few
//! JSON values the runtime needs. Everything else stays where it lies: for the user, each
//! top-level member's byte range, and whether those bytes are exactly what `serde_json`
//! writes for the value (no white space, no escapes, no repeated keys, integers only), so
//! that the outcome copies them through ([`write_user`]).
//!
//! The scanner never has to be right about input it does not like: it **declines**
//! ([`Declined`]) anything it does not vouch for (malformed JSON, a value that does not fit
//! its shape or its slot's type, an escaped or repeated top-level key, a number an `int`
//! would have to convert, limits exceeded), and the caller runs the reference path, which
//! parses both documents whole with `serde_json` and gives the same outcome or the same error
//! as before. The obligation is one way: what the scanner accepts, the reference accepts,
//! with the same meaning. `tests/tests/wire.rs` checks it on generated inputs.

use std::sync::Arc;

use serde_json::{Map, Value as Json};
use warden_ir::{Program, Root, Shape, Slot, Stmt, StmtKind, Ty};

use crate::decode::{MAX_INPUT_DEPTH, MAX_INPUT_VALUES, has_int};
use crate::{Text, Value};

/// One place in a document, as the fast path reads it: the input shape known there (checked
/// whatever the rules read), the slots whose path ends there and what the runtime keeps as
/// JSON. The tree is the document's shape tree with the program's paths laid over it, so a
/// key is looked up once, in a small hash table of its children ([`Node::child`]).
#[derive(Clone, Debug, Default, PartialEq)]
struct Node {
    /// The shape values here must have (`Any`: none).
    shape: Shape,
    /// The runtime keeps this value as JSON, whole.
    keep: bool,
    /// Something below keeps a value (so the object is kept, pruned to what is needed).
    keeps_below: bool,
    /// The slots whose path ends here.
    slots: Vec<usize>,
    /// Something here or below is read (a slot, or kept).
    needed: bool,
    /// A checked slot's path goes below this node.
    checked_below: bool,
    /// Known members (shape fields and program paths), in [`warden_ir::key_order`].
    children: Vec<(String, Node)>,
    /// The children by key fingerprint: each entry's fingerprint, child index and where its
    /// key lies in `keys` ([`Node::child`]).
    index: Vec<(u64, u32, u32, u32)>,
    /// An open-addressing table over `index` (entry + 1; 0 is empty), a power of two at least
    /// twice as long: one probe finds most keys.
    table: Vec<u32>,
    /// The children's keys, one after another (compared without touching the children).
    keys: Vec<u8>,
    /// The shape of a list's items, when the shape is a list.
    item: Option<Box<Node>>,
}

impl Node {
    /// The nodes of a shape (no program paths yet).
    fn of(shape: &Shape) -> Node {
        let mut n = Node { shape: shape.clone(), ..Node::default() };
        match shape {
            Shape::Object(fields) => n.children = fields.iter().map(|(k, s)| (k.clone(), Node::of(s))).collect(),
            Shape::List(inner) => n.item = Some(Box::new(Node::of(inner))),
            _ => {}
        }
        n
    }

    /// The child for `key` (whose fingerprint is `fp`): a probe of the table, then the key
    /// itself when the fingerprint does not already hold all of it (keys over 7 bytes).
    fn child(&self, key: &[u8], fp: u64) -> Option<usize> {
        if self.table.is_empty() {
            return None;
        }
        let mask = self.table.len() - 1;
        let mut at = bucket(fp, mask);
        loop {
            let entry = *self.table.get(at)?;
            let e = self.index.get((entry as usize).checked_sub(1)?)?;
            if e.0 == fp && (key.len() <= 7 || self.keys.get(e.2 as usize..(e.2 + e.3) as usize) == Some(key)) {
                return Some(e.1 as usize);
            }
            at = (at + 1) & mask;
        }
    }

    /// Builds the fingerprint index of this node and every node below.
    fn finish(&mut self) {
        self.keys.clear();
        self.index.clear();
        for (i, (k, _)) in self.children.iter().enumerate() {
            self.index.push((fingerprint(k.as_bytes()), i as u32, self.keys.len() as u32, k.len() as u32));
            self.keys.extend_from_slice(k.as_bytes());
        }
        let size = (self.index.len() * 2).next_power_of_two().max(if self.index.is_empty() { 0 } else { 4 });
        self.table = vec![0; size];
        for (n, e) in self.index.iter().enumerate() {
            let mask = size - 1;
            let mut at = bucket(e.0, mask);
            while self.table[at] != 0 {
                at = (at + 1) & mask;
            }
            self.table[at] = n as u32 + 1;
        }
        for (_, c) in &mut self.children {
            c.finish();
        }
        if let Some(item) = &mut self.item {
            item.finish();
        }
    }

    /// The child for `key`, made if need be (at load, before [`Node::finish`]).
    fn child_mut(&mut self, key: &str) -> &mut Node {
        let at = match self.children.binary_search_by(|(k, _)| warden_ir::key_order(k, key)) {
            Ok(at) => at,
            Err(at) => {
                self.children.insert(at, (key.to_string(), Node::default()));
                at
            }
        };
        &mut self.children[at].1
    }

    /// Slot `slot` reads `path`: every node on the way is needed, and knows whether a checked
    /// slot lies below it.
    fn slot(&mut self, path: &[String], slot: usize, checked: bool) {
        let mut cur = self;
        for key in path {
            cur.needed = true;
            cur.checked_below |= checked;
            cur = cur.child_mut(key);
        }
        cur.needed = true;
        cur.slots.push(slot);
    }

    /// The runtime keeps the JSON value at `path`.
    fn keep(&mut self, path: &[&str]) {
        let mut cur = self;
        for key in path {
            cur.needed = true;
            cur.keeps_below = true;
            cur = cur.child_mut(key);
        }
        cur.needed = true;
        cur.keep = true;
    }
}

/// What the fast decoder reads of a program's inputs (made when a pipeline loads).
#[derive(Clone, Debug)]
pub struct Plan {
    user: Node,
    context: Node,
    /// Top-level members of the user a rule may write (`set`, `unset`, `persist`): kept whole,
    /// and written from the document, never copied from the input.
    written: Vec<String>,
    slots: Vec<Slot>,
    /// A slot reads a whole document (an empty path): the fast path declines every login.
    whole_document: bool,
}

/// Context fields the runtime reads itself, besides the slots.
const CONTEXT_FIELDS: &[&[&str]] = &[
    &["protocol"],
    &["request", "query", "prompt"],
    &["accessToken", "scope"],
    &["request", "body", "scope"],
    &["request", "query", "scope"],
];

impl Plan {
    pub fn new(prog: &Program) -> Plan {
        let (mut user, mut context) = (Node::of(&prog.input.user), Node::of(&prog.input.context));
        let mut whole_document = false;
        for (i, slot) in prog.slots.iter().enumerate() {
            whole_document |= slot.path.is_empty() && slot.root != Root::Config;
            match slot.root {
                Root::User => user.slot(&slot.path, i, slot.checked),
                Root::Context => context.slot(&slot.path, i, slot.checked),
                Root::Config => {}
            }
        }
        for path in CONTEXT_FIELDS {
            context.keep(path);
        }
        let mut written = Vec::new();
        for rule in &prog.rules {
            writes(&rule.body, &mut written);
        }
        // `persist` reads the user's id.
        for key in written.iter().map(String::as_str).chain(["user_id"]) {
            user.keep(&[key]);
        }
        user.finish();
        context.finish();
        Plan { user, context, written, slots: prog.slots.clone(), whole_document }
    }

    /// Whether a rule may write the user's top-level member `key`.
    pub fn writes(&self, key: &[u8]) -> bool {
        self.written.iter().any(|k| k.as_bytes() == key)
    }
}

/// The top-level user keys statements write, nested statements included. Every kind is
/// named, so that a new statement must say whether it writes the user (a write missed here
/// would be copied from the input; `write_user` refuses to write such a member).
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
            StmtKind::When(_)
            | StmtKind::Let(..)
            | StmtKind::Deny { .. }
            | StmtKind::Claim { .. }
            | StmtKind::Scope { .. }
            | StmtKind::Mfa { .. }
            | StmtKind::Redirect(_)
            | StmtKind::Log(_) => None,
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
    /// The key's bytes, between the quotes (keys with escapes are declined).
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
    /// What the runtime keeps as JSON (an object holding only the plan's kept values).
    pub doc: Json,
    /// For the user: every top-level member, in the input's order.
    pub members: Vec<Member>,
}

/// Which document a scan reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    User,
    Context,
}

/// Scans one document of a login: fills the slots it holds (`slots` is indexed by slot id)
/// and returns what the runtime keeps.
pub fn scan(text: &[u8], plan: &Plan, which: Which, slots: &mut [Value]) -> Result<Scanned, Declined> {
    if plan.whole_document {
        return Err(Declined);
    }
    // JSON text is UTF-8; checking it all at once lets strings be sliced without checks later.
    let text = std::str::from_utf8(text).map_err(|_| Declined)?;
    let mut s = Scanner::new(text, plan, slots);
    let doc = s.document(which, 1)?;
    s.skip_ws();
    if s.i != s.b.len() {
        return Err(Declined);
    }
    Ok(doc)
}

/// A login request as the fast decoder read it: `{"user": {...}, "context": {...}, "now": ...}`
/// (the body of `warden serve`'s native API, `warden::LoginRequest`).
#[derive(Debug)]
pub struct Request {
    pub user: Scanned,
    pub context: Scanned,
    /// `now`'s text when it is an integer or a string without escapes (`null` or absent:
    /// `None`; anything else is declined).
    pub now: Option<Now>,
}

/// The text of a request's `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Now {
    /// Epoch milliseconds (fits an i64).
    Millis(i64),
    /// A string's contents, to be read as RFC 3339 (`start..end` of the request).
    Text(usize, usize),
}

/// Scans a login request: both documents into the slots in one pass over the body, with the
/// limits of the body as a whole (as `LoginRequest::from_slice` applies them: the documents
/// nest one level deeper than alone, and one count of values covers the body). Declines any
/// member but `user`, `context` and `now`, a repeated one, or a missing document.
pub fn scan_request(text: &[u8], plan: &Plan, slots: &mut [Value]) -> Result<Request, Declined> {
    if plan.whole_document {
        return Err(Declined);
    }
    let text = std::str::from_utf8(text).map_err(|_| Declined)?;
    let mut s = Scanner::new(text, plan, slots);
    let (mut user, mut context, mut now, mut now_seen) = (None, None, None, false);
    s.expect(b'{')?;
    loop {
        s.skip_ws();
        if s.peek() != Some(b'"') {
            return Err(Declined);
        }
        let (from, to, escaped) = s.string()?;
        if escaped {
            return Err(Declined);
        }
        s.expect(b':')?;
        s.values += 1;
        match &s.s[from..to] {
            "user" if user.is_none() => user = Some(s.document(Which::User, 2)?),
            "context" if context.is_none() => context = Some(s.document(Which::Context, 2)?),
            "now" if !now_seen => {
                now_seen = true;
                s.skip_ws();
                let start = s.i;
                now = match s.peek() {
                    Some(b'n') => {
                        s.literal("null")?;
                        None
                    }
                    Some(b'"') => {
                        let (a, b, escaped) = s.string()?;
                        if escaped {
                            return Err(Declined);
                        }
                        Some(Now::Text(a, b))
                    }
                    _ => match s.number()? {
                        (Kind::Int, _) => Some(Now::Millis(s.s[start..s.i].parse().map_err(|_| Declined)?)),
                        _ => return Err(Declined),
                    },
                };
            }
            _ => return Err(Declined),
        }
        s.skip_ws();
        match s.peek() {
            Some(b',') => s.i += 1,
            Some(b'}') => {
                s.i += 1;
                break;
            }
            _ => return Err(Declined),
        }
    }
    s.skip_ws();
    if s.i != s.b.len() || s.values > MAX_INPUT_VALUES {
        return Err(Declined);
    }
    match (user, context) {
        (Some(user), Some(context)) => Ok(Request { user, context, now }),
        _ => Err(Declined),
    }
}

struct Scanner<'a, 'p> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    /// Values seen so far (the document counts one).
    values: usize,
    /// White-space bytes skipped so far: a value is canonical only if none was skipped inside.
    ws: usize,
    /// Key ranges of the objects being scanned (a stack), to find repeated keys.
    keys: Vec<(u64, usize, usize)>,
    /// Whether canonical bytes matter (the user's members are copied to the outcome).
    track: bool,
    plan: &'p Plan,
    slots: &'p mut [Value],
    /// One shared copy of the input, made when the first string slot is read: string values
    /// point into it ([`Text::of_input`]).
    input: std::cell::OnceCell<Arc<str>>,
}

/// Objects with more keys than this are not checked for repeated keys (and so never copied
/// through): the check stays linear.
const DUPLICATE_CHECK_KEYS: usize = 32;

/// A user with more top-level members than this is left to the reference (its members are
/// checked for repeated keys one against another).
const TOP_LEVEL_MEMBERS: usize = 512;

/// What kind of value was scanned, for shape and type checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Null,
    Bool,
    /// An integer literal that fits an i64.
    Int,
    /// Any other number.
    Number,
    Str,
    List,
    Object,
}

/// One scanned value (small: it is returned for every value of the input).
#[derive(Clone, Copy)]
struct Seen {
    kind: Kind,
    start: usize,
    end: usize,
    canonical: bool,
}

impl<'a, 'p> Scanner<'a, 'p> {
    fn new(text: &'a str, plan: &'p Plan, slots: &'p mut [Value]) -> Scanner<'a, 'p> {
        Scanner {
            s: text,
            b: text.as_bytes(),
            i: 0,
            values: 1,
            ws: 0,
            keys: Vec::with_capacity(64),
            track: false,
            plan,
            slots,
            input: std::cell::OnceCell::new(),
        }
    }

    /// The shared copy of the input.
    fn shared(&self) -> &Arc<str> {
        self.input.get_or_init(|| Arc::from(self.s))
    }

    /// One document (an object, at `depth`; white space before it skipped), read as `which`.
    fn document(&mut self, which: Which, depth: usize) -> Result<Scanned, Declined> {
        self.skip_ws();
        if self.peek() != Some(b'{') {
            return Err(Declined);
        }
        let user = which == Which::User;
        self.track = user;
        let root = if user { &self.plan.user } else { &self.plan.context };
        let mut members = Vec::with_capacity(if user { 32 } else { 0 });
        let mut doc = None;
        self.object(depth, Some(root), user.then_some(&mut members), &mut doc)?;
        Ok(Scanned { doc: doc.unwrap_or_else(|| Json::Object(Map::new())), members })
    }

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

    /// One value (white space before it skipped): checked against the node's shape, decoded
    /// into the node's slots, kept as JSON where the node keeps it.
    fn value(&mut self, depth: usize, node: Option<&Node>, kept: &mut Option<Json>) -> Result<Seen, Declined> {
        self.skip_ws();
        self.values += 1;
        if self.values > MAX_INPUT_VALUES {
            return Err(Declined);
        }
        let start = self.i;
        let ws_before = self.ws;
        let shape = node.map(|n| &n.shape).filter(|s| **s != Shape::Any);
        let mut escaped = false;
        let mut pruned = None;
        let (kind, mut canonical) = match self.peek().ok_or(Declined)? {
            b'{' => {
                if depth + 1 > MAX_INPUT_DEPTH {
                    return Err(Declined);
                }
                if matches!(shape, Some(s) if !matches!(s, Shape::Object(_))) {
                    return Err(Declined);
                }
                let canonical = self.object(depth + 1, node.filter(|n| !n.children.is_empty()), None, &mut pruned)?;
                (Kind::Object, canonical)
            }
            b'[' => {
                if depth + 1 > MAX_INPUT_DEPTH {
                    return Err(Declined);
                }
                let (item, strings) = match shape {
                    Some(Shape::List(_)) => (node.and_then(|n| n.item.as_deref()), false),
                    // Scopes: every item a string (not even null).
                    Some(Shape::Scopes) => (None, true),
                    Some(_) => return Err(Declined),
                    None => (None, false),
                };
                (Kind::List, self.array(depth + 1, item, strings)?)
            }
            b'"' => {
                let (from, to, esc) = self.string()?;
                escaped = esc;
                if let Some(Shape::OneOf(values)) = shape {
                    // The documented set is checked on the text; an escaped one is left to the
                    // reference.
                    if escaped || !values.iter().any(|v| v.as_str() == &self.s[from..to]) {
                        return Err(Declined);
                    }
                }
                (Kind::Str, !escaped)
            }
            b't' => (Kind::Bool, self.literal("true")?),
            b'f' => (Kind::Bool, self.literal("false")?),
            b'n' => (Kind::Null, self.literal("null")?),
            b'-' | b'0'..=b'9' => self.number()?,
            _ => return Err(Declined),
        };
        if let Some(shape) = shape
            && !fits(shape, kind)
        {
            return Err(Declined);
        }
        let end = self.i;
        canonical &= self.ws == ws_before;
        if let Some(n) = node.filter(|n| n.needed) {
            for &slot in &n.slots {
                let value = self.slot(slot, start, end, kind, escaped)?;
                if let Some(v) = self.slots.get_mut(slot) {
                    *v = value;
                }
            }
            if n.keep {
                *kept = Some(self.json(start, end, kind, escaped)?);
            } else if n.keeps_below {
                *kept = pruned;
            }
            // A slot below a value that is neither an object nor null: a checked slot is an
            // input error (the reference names it), an unchecked one reads null.
            if kind != Kind::Object && kind != Kind::Null && n.checked_below {
                return Err(Declined);
            }
        }
        Ok(Seen { kind, start, end, canonical })
    }

    /// An object's members (the `{` is next), each checked and decoded by its node among
    /// `node`'s children; returns the object pruned to what is kept. With `top`, records every
    /// member's place (the user's top level).
    fn object(
        &mut self,
        depth: usize,
        node: Option<&Node>,
        mut top: Option<&mut Vec<Member>>,
        kept: &mut Option<Json>,
    ) -> Result<bool, Declined> {
        self.i += 1;
        let mut out: Option<Map<String, Json>> = node.filter(|n| n.keeps_below).map(|_| Map::new());
        let keys_base = self.keys.len();
        let mut canonical = self.track;
        // The needed keys seen so far, by their index among the node's children (an object
        // with more than 128 known keys declines when a needed one is past them).
        let mut needed_seen = 0u128;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            *kept = out.map(Json::Object);
            return Ok(canonical);
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(Declined);
            }
            let (from, to, escaped) = self.string()?;
            if escaped {
                // Keys with escapes are rare; the reference path reads them.
                return Err(Declined);
            }
            let key = &self.s[from..to];
            let fp = fingerprint(key.as_bytes());
            self.expect(b':')?;
            if top.is_some() && self.keys.len() - keys_base >= TOP_LEVEL_MEMBERS {
                return Err(Declined);
            }
            if canonical || top.is_some() {
                let seen = &self.keys[keys_base..];
                let repeated = if seen.len() < DUPLICATE_CHECK_KEYS || top.is_some() {
                    seen.iter().any(|&(f, a, b)| f == fp && self.b[a..b] == self.b[from..to])
                } else {
                    canonical = false;
                    false
                };
                if repeated {
                    // At the top of the user, `serde_json` keeps the first place and the last
                    // value: left to the reference. Below, the value is not copied through.
                    if top.is_some() {
                        return Err(Declined);
                    }
                    canonical = false;
                } else if canonical || top.is_some() {
                    self.keys.push((fp, from, to));
                }
            }
            let child = node.and_then(|n| n.child(key.as_bytes(), fp).map(|i| (i, &n.children[i].1)));
            if let Some((i, c)) = child
                && c.needed
            {
                // A needed key seen twice: the last value counts, and slots the first one set
                // would have to be unset. Left to the reference.
                let bit = 1u128.checked_shl(i as u32).unwrap_or(0);
                if bit == 0 || needed_seen & bit != 0 {
                    return Err(Declined);
                }
                needed_seen |= bit;
            }
            let mut doc = None;
            let v = self.value(depth, child.map(|(_, c)| c), &mut doc)?;
            canonical &= v.canonical;
            if let Some(members) = top.as_deref_mut() {
                members.push(Member { key: (from, to), start: v.start, end: v.end, canonical: v.canonical });
            }
            if let (Some(map), Some(doc)) = (&mut out, doc) {
                map.insert(key.to_string(), doc);
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
        *kept = out.map(Json::Object);
        Ok(canonical)
    }

    /// An array's items (the `[` is next), each checked by `item`; `strings`: every item must
    /// be a string.
    fn array(&mut self, depth: usize, item: Option<&Node>, strings: bool) -> Result<bool, Declined> {
        self.i += 1;
        let mut canonical = self.track;
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(canonical);
        }
        loop {
            let v = self.value(depth, item, &mut None)?;
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

    /// A string (the `"` is next); returns the range of its contents and whether it has
    /// escapes.
    fn string(&mut self) -> Result<(usize, usize, bool), Declined> {
        self.i += 1;
        let from = self.i;
        let mut escaped = false;
        loop {
            self.plain_run();
            let Some(&c) = self.b.get(self.i) else { return Err(Declined) };
            match c {
                b'"' => {
                    self.i += 1;
                    return Ok((from, self.i - 1, escaped));
                }
                b'\\' => {
                    escaped = true;
                    self.i += 1;
                    self.escape()?;
                }
                // A control character must be escaped.
                _ => return Err(Declined),
            }
        }
    }

    /// Skips string bytes that need no attention (not `"`, `\` or a control character),
    /// eight at a time while it can.
    fn plain_run(&mut self) {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
        while let Some(chunk) = self.b.get(self.i..self.i + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            let v = u64::from_le_bytes(word);
            // Bytes below 0x20, `"` (0x22) or `\` (0x5c).
            let special =
                v.wrapping_sub(ONES * 0x20) & !v & HIGH | has_zero(v ^ (ONES * 0x22)) | has_zero(v ^ (ONES * 0x5c));
            if special != 0 {
                break;
            }
            self.i += 8;
        }
        while let Some(&c) = self.b.get(self.i) {
            if c == b'"' || c == b'\\' || c < 0x20 {
                return;
            }
            self.i += 1;
        }
    }

    /// An escape after its `\`: one of `"\/bfnrt`, or `u` and four hex digits (a high
    /// surrogate must be followed by an escaped low one, as `serde_json` requires).
    fn escape(&mut self) -> Result<(), Declined> {
        match self.peek() {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 1,
            Some(b'u') => {
                let unit = self.hex4(self.i + 1)?;
                self.i += 5;
                if (0xDC00..0xE000).contains(&unit) {
                    return Err(Declined);
                }
                if (0xD800..0xDC00).contains(&unit) {
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
        Ok(())
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
    /// field takes as is); anything else must be a finite double, as `serde_json` requires.
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
        // (`-0` reads back as a float in serde_json.)
        if integer && text != "-0" {
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

    /// The value of `start..end` as `serde_json` reads it.
    fn json(&self, start: usize, end: usize, kind: Kind, escaped: bool) -> Result<Json, Declined> {
        let text = &self.s[start..end];
        match kind {
            Kind::Null => Ok(Json::Null),
            Kind::Bool => Ok(Json::Bool(text == "true")),
            Kind::Str if !escaped => Ok(Json::String(text[1..text.len() - 1].to_string())),
            Kind::Int => text.parse::<i64>().map(Json::from).map_err(|_| Declined),
            _ => serde_json::from_str(text).map_err(|_| Declined),
        }
    }

    /// Slot `slot`'s value from the value at `start..end`, as the reference decodes it from
    /// JSON (`decode::decode_slot`): scalars straight from the text, lists and objects by
    /// [`Scanner::parse`], checked and converted by [`has_type`] and [`typed`].
    fn slot(&self, slot: usize, start: usize, end: usize, kind: Kind, escaped: bool) -> Result<Value, Declined> {
        let Some(s) = self.plan.slots.get(slot) else { return Err(Declined) };
        let text = &self.s[start..end];
        let ty = if s.checked { &s.ty } else { &Ty::Dyn };
        let fits = match (kind, ty) {
            (Kind::Null, _) | (_, Ty::Dyn) => true,
            (Kind::Bool, Ty::Bool) | (Kind::Str, Ty::Str | Ty::Time) => true,
            (Kind::Int, Ty::Int | Ty::Float | Ty::Time) => true,
            (Kind::Number, Ty::Float | Ty::Time) => true,
            (Kind::List | Kind::Object, _) => true,
            // An `int` written `3.0` becomes 3 in the reference: left to it.
            _ => false,
        };
        if !fits {
            return Err(Declined);
        }
        match kind {
            Kind::Null => Ok(Value::Null),
            Kind::Bool => Ok(Value::Bool(text == "true")),
            Kind::Str if !escaped => Text::of_input(self.shared(), start + 1, end - 1).map(Value::Str).ok_or(Declined),
            Kind::Int => text.parse::<i64>().map(Value::Int).map_err(|_| Declined),
            Kind::Str => serde_json::from_str::<String>(text).map(|t| Value::Str(Text::from(t))).map_err(|_| Declined),
            Kind::Number => Ok(number_value(text)),
            Kind::List | Kind::Object => {
                let mut at = start;
                let value = self.parse(&mut at)?;
                if !s.checked {
                    return Ok(value);
                }
                if !has_type(&s.ty, &value) {
                    // The reference names the place.
                    return Err(Declined);
                }
                Ok(if has_int(&s.ty) { typed(&s.ty, value) } else { value })
            }
        }
    }

    /// The value at `at` (text the scan validated), as [`Value::from_json`] would make it from
    /// `serde_json`'s reading.
    fn parse(&self, at: &mut usize) -> Result<Value, Declined> {
        let ws = |at: &mut usize| {
            while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.b.get(*at) {
                *at += 1;
            }
        };
        ws(at);
        let start = *at;
        let value = match self.b.get(*at).ok_or(Declined)? {
            b'{' => {
                *at += 1;
                let mut map = indexmap::IndexMap::new();
                ws(at);
                if self.b.get(*at) == Some(&b'}') {
                    *at += 1;
                } else {
                    loop {
                        ws(at);
                        let key = match self.parse(at)? {
                            Value::Str(k) => k.to_string(),
                            _ => return Err(Declined),
                        };
                        ws(at);
                        *at += 1; // `:`
                        let v = self.parse(at)?;
                        // As `serde_json` reads a repeated key: the first place, the last value.
                        map.insert(key, v);
                        ws(at);
                        let sep = self.b.get(*at).copied();
                        *at += 1;
                        if sep != Some(b',') {
                            break;
                        }
                    }
                }
                Value::Object(Arc::new(map))
            }
            b'[' => {
                *at += 1;
                let mut items = Vec::new();
                ws(at);
                if self.b.get(*at) == Some(&b']') {
                    *at += 1;
                } else {
                    loop {
                        items.push(self.parse(at)?);
                        ws(at);
                        let sep = self.b.get(*at).copied();
                        *at += 1;
                        if sep != Some(b',') {
                            break;
                        }
                    }
                }
                Value::List(Arc::new(items))
            }
            b'"' => {
                *at += 1;
                let from = *at;
                let mut escaped = false;
                while let Some(&c) = self.b.get(*at) {
                    match c {
                        b'"' => break,
                        b'\\' => {
                            escaped = true;
                            *at += 2;
                        }
                        _ => *at += 1,
                    }
                }
                *at += 1;
                if escaped {
                    let text = self.s.get(start..*at).ok_or(Declined)?;
                    Value::Str(Text::from(serde_json::from_str::<String>(text).map_err(|_| Declined)?))
                } else {
                    Value::Str(Text::of_input(self.shared(), from, *at - 1).ok_or(Declined)?)
                }
            }
            b't' => {
                *at += 4;
                Value::Bool(true)
            }
            b'f' => {
                *at += 5;
                Value::Bool(false)
            }
            b'n' => {
                *at += 4;
                Value::Null
            }
            _ => {
                while let Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') = self.b.get(*at) {
                    *at += 1;
                }
                number_value(self.s.get(start..*at).ok_or(Declined)?)
            }
        };
        Ok(value)
    }
}

/// A number's value as [`Value::from_json`] makes it from `serde_json`'s reading: an integer
/// that fits an i64 (not `-0`, which `serde_json` reads as a float) is an int, anything else
/// the nearest double (the text was validated: it parses).
fn number_value(text: &str) -> Value {
    if text != "-0"
        && let Ok(i) = text.parse::<i64>()
    {
        return Value::Int(i);
    }
    Value::Float(text.parse::<f64>().unwrap_or(f64::NAN))
}

/// Whether `v` has type `ty` (null always does), as the reference decides it on JSON
/// (`decode::check`): an int field takes an integral number up to 9e15 written as a float.
fn has_type(ty: &Ty, v: &Value) -> bool {
    match (ty, v) {
        (_, Value::Null) | (Ty::Dyn, _) => true,
        (Ty::Bool, Value::Bool(_)) | (Ty::Int, Value::Int(_)) | (Ty::Str, Value::Str(_)) => true,
        (Ty::Int, Value::Float(f)) => f.fract() == 0.0 && f.abs() <= 9.0e15,
        (Ty::Float, Value::Int(_) | Value::Float(_)) => true,
        (Ty::Time, Value::Str(_) | Value::Int(_) | Value::Float(_)) => true,
        (Ty::Object(fields), Value::Object(map)) => {
            fields.iter().all(|(name, t)| map.get(name).is_none_or(|v| has_type(t, v)))
        }
        (Ty::List(inner), Value::List(items)) => items.iter().all(|i| has_type(inner, i)),
        _ => false,
    }
}

/// A checked value as its type says (the reference's `decode::typed_value`): integral floats
/// in `int` places become ints.
fn typed(ty: &Ty, v: Value) -> Value {
    match (ty, v) {
        (Ty::Int, Value::Float(f)) => Value::Int(f as i64),
        (Ty::List(inner), Value::List(items)) if has_int(inner) => {
            Value::List(Arc::new(items.iter().map(|i| typed(inner, i.clone())).collect()))
        }
        (Ty::Object(fields), Value::Object(map)) if fields.iter().any(|(_, t)| has_int(t)) => Value::Object(Arc::new(
            map.iter()
                .map(|(k, v)| {
                    let v = match fields.iter().find(|(name, _)| name == k) {
                        Some((_, t)) => typed(t, v.clone()),
                        None => v.clone(),
                    };
                    (k.clone(), v)
                })
                .collect(),
        )),
        (_, v) => v,
    }
}

/// A key's fingerprint: its first seven bytes and its length.
fn fingerprint(key: &[u8]) -> u64 {
    // Arithmetic, not bytes written to memory and read back as a word (a stall).
    let word = match key.first_chunk::<8>() {
        Some(eight) => u64::from_be_bytes(*eight),
        None => {
            let v = key.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b));
            v.checked_shl(8 * (8 - key.len() as u32)).unwrap_or(0)
        }
    };
    (word & !0xFF) | key.len().min(255) as u64
}

/// A fingerprint's place in a table of `mask + 1` buckets.
fn bucket(fp: u64, mask: usize) -> usize {
    (fp.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize & mask
}

/// Whether a value of `kind` has `shape` (null always does); objects and lists are checked
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

/// Writes the user of an outcome. `user` is the runtime's document after the rules ran: its
/// first `original` members are the input's kept members still in place, in the input's
/// order; members after them were added (or removed and added again) by rules. Members no
/// rule may write are copied from the input when their bytes are canonical (else read and
/// written again, as the reference does); the others are written from the document. `Err`
/// when the document and the input disagree (a bug: the caller runs the reference path).
pub fn write_user(
    out: &mut Vec<u8>,
    user: &Json,
    original: usize,
    input: &[u8],
    members: &[Member],
    plan: &Plan,
) -> Result<(), Declined> {
    let Json::Object(map) = user else { return Err(Declined) };
    let mut kept = map.iter().take(original).peekable();
    let mut first = true;
    let mut entry = |out: &mut Vec<u8>, key: &[u8]| {
        if !std::mem::replace(&mut first, false) {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(key);
        out.extend_from_slice(b"\":");
    };
    out.push(b'{');
    for m in members {
        let key = input.get(m.key.0..m.key.1).ok_or(Declined)?;
        let in_place = kept.peek().is_some_and(|(k, _)| k.as_bytes() == key);
        let here = if in_place { kept.next().map(|(_, v)| v) } else { None };
        if plan.writes(key) {
            // Written: from the document, unless a rule removed it (or moved it to the end).
            if let Some(v) = here {
                entry(out, key);
                serde_json::to_writer(&mut *out, v).map_err(|_| Declined)?;
            }
            continue;
        }
        entry(out, key);
        let bytes = input.get(m.start..m.end).ok_or(Declined)?;
        if m.canonical {
            out.extend_from_slice(bytes);
        } else {
            let v: Json = serde_json::from_slice(bytes).map_err(|_| Declined)?;
            serde_json::to_writer(&mut *out, &v).map_err(|_| Declined)?;
        }
    }
    if kept.next().is_some() {
        return Err(Declined);
    }
    for (key, value) in map.iter().skip(original) {
        // Only a write adds a member: anything else means the plan missed one.
        if !plan.writes(key.as_bytes()) {
            return Err(Declined);
        }
        if !std::mem::replace(&mut first, false) {
            out.push(b',');
        }
        serde_json::to_writer(&mut *out, key).map_err(|_| Declined)?;
        out.push(b':');
        serde_json::to_writer(&mut *out, value).map_err(|_| Declined)?;
    }
    out.push(b'}');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(written: &[&str]) -> Plan {
        Plan {
            user: Node::default(),
            context: Node::default(),
            written: written.iter().map(|k| k.to_string()).collect(),
            slots: Vec::new(),
            whole_document: false,
        }
    }

    /// A member the document gained is written only when the plan knows a rule writes it:
    /// a write the plan missed makes the fast path decline, not copy the input over it.
    #[test]
    fn an_added_member_no_rule_writes_declines() {
        let user = serde_json::json!({ "name": "Ada" });
        let mut out = Vec::new();
        assert_eq!(write_user(&mut out, &user, 0, b"{}", &[], &plan(&[])), Err(Declined));
        out.clear();
        assert_eq!(write_user(&mut out, &user, 0, b"{}", &[], &plan(&["name"])), Ok(()));
        assert_eq!(out, br#"{"name":"Ada"}"#);
    }
}
