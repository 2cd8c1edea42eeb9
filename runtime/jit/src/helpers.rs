//! The Rust functions generated code calls: the real work (string comparison, set lookups,
//! regexes, networks, built-ins) and everything whose meaning lives in `warden_runtime`.
//! Generated code reaches them through a table in [`Ctx`], so it has no relocations.
//!
//! Every helper takes the context first. Statuses: see each function. A helper that fails
//! records the error in the context's runtime state and returns a failure status; generated
//! code then returns at once.
#![allow(unsafe_code)]

use warden_ir::{CidrId, ExprId, ExprKind, Part, SetId};
use warden_runtime::{Applied, Value, builtins, ops};

use crate::cell::{Arena, Cell, NULL, STR, VAL};
use crate::exec::{Ctx, Rt};

/// The helper table, in the order of [`Helper`].
pub(crate) fn table() -> Vec<usize> {
    vec![
        h_expr as *const () as usize,
        h_truth as *const () as usize,
        h_memeq as *const () as usize,
        h_strcmp as *const () as usize,
        h_in_set_str as *const () as usize,
        h_in_set as *const () as usize,
        h_matches as *const () as usize,
        h_ip_in as *const () as usize,
        h_fail as *const () as usize,
        h_stmt as *const () as usize,
        h_quant_len as *const () as usize,
        h_quant_item as *const () as usize,
        h_text as *const () as usize,
        h_weekday as *const () as usize,
        h_comp_new as *const () as usize,
        h_comp_push as *const () as usize,
        h_comp_end as *const () as usize,
    ]
}

/// Indexes into the helper table, with the signature generated code calls them with
/// (all integers are 64-bit words; the first parameter is always the context).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Helper {
    /// `(ctx, expr, args: *Cell, out: *Cell) -> status` (0 ok, 1 error)
    Expr,
    /// `(ctx, expr, cell: *Cell) -> 0 false | 1 true | 2 error`
    Truth,
    /// `(ctx, p, q, len) -> 0 | 1`
    MemEq,
    /// `(ctx, p, plen, q, qlen) -> -1 | 0 | 1`
    StrCmp,
    /// `(ctx, set, p, len) -> 0 | 1`
    InSetStr,
    /// `(ctx, set, cell: *Cell) -> 0 | 1`
    InSet,
    /// `(ctx, regex, p, len) -> 0 | 1`
    Matches,
    /// `(ctx, expr, cidr, p, len) -> 0 | 1 | 2 error`
    IpIn,
    /// `(ctx, expr, what) -> 1`: records a rule error (what: 0 integer overflow)
    Fail,
    /// `(ctx, stmt, args: *Cell) -> 0 next | 1 deny | 2 error`
    Stmt,
    /// `(ctx, expr, what, cell: *Cell) -> length | -1 null | -2 error` (what: 0 quantifier,
    /// 1 comprehension, for the error's wording)
    QuantLen,
    /// `(ctx, list: *Cell, i, out: *Cell) -> 0`
    QuantItem,
    /// `(ctx, builtin, p, len, out: *Cell) -> 0`: lower, upper, trim or email_domain
    Text,
    /// `(ctx, expr, ms, out: *Cell) -> 0 | 1 error` (an instant out of range)
    Weekday,
    /// `(ctx) -> builder`: a comprehension's result, empty
    CompNew,
    /// `(ctx, builder, cell: *Cell) -> 0`: appends an item
    CompPush,
    /// `(ctx, builder, out: *Cell) -> 0`: the list built
    CompEnd,
}

impl Helper {
    /// Number of parameters (all 64-bit).
    pub(crate) fn arity(self) -> usize {
        match self {
            Helper::Expr
            | Helper::MemEq
            | Helper::InSetStr
            | Helper::Matches
            | Helper::QuantItem
            | Helper::Weekday
            | Helper::QuantLen => 4,
            Helper::Truth | Helper::InSet | Helper::Fail | Helper::Stmt | Helper::CompPush | Helper::CompEnd => 3,
            Helper::CompNew => 1,
            Helper::StrCmp | Helper::IpIn | Helper::Text => 5,
        }
    }
}

/// The runtime state behind a context.
///
/// SAFETY (for every `rt` call below): `Ctx::rt` points to the `Rt` that `exec::run_rule`
/// created on its stack for the duration of the generated call that passed `ctx` here, and
/// nothing else references it during the call.
unsafe fn rt<'a>(ctx: *mut Ctx) -> &'a mut Rt<'a> {
    // SAFETY: as this function's contract says.
    unsafe { &mut *((*ctx).rt as *mut Rt<'a>) }
}

/// The value a cell stands for.
///
/// SAFETY: cells come from generated code, which only copies cells it loaded from slots,
/// constants, locals or helper results: their pointers point into values the execution
/// keeps alive (the transaction's slots, the program's constants, or the arena).
pub(crate) unsafe fn value(c: &Cell) -> Value {
    match c.tag {
        NULL => Value::Null,
        crate::cell::BOOL => Value::Bool(c.a != 0),
        crate::cell::INT => Value::Int(c.a as i64),
        crate::cell::FLOAT => Value::Float(f64::from_bits(c.a)),
        // SAFETY: a STR cell's words are a live string (this function's contract).
        STR => Value::str(unsafe { str_of(c.a, c.b) }),
        // SAFETY: a VAL cell's word points to a live `Value` (this function's contract).
        VAL => unsafe { (*(c.a as *const Value)).clone() },
        _ => Value::Null,
    }
}

/// SAFETY: `(p, len)` comes from a STR cell (see [`value`]): valid UTF-8 that outlives the
/// call.
unsafe fn str_of<'a>(p: u64, len: u64) -> &'a str {
    // SAFETY: as this function's contract says.
    unsafe { std::str::from_utf8_unchecked(std::slice::from_raw_parts(p as *const u8, len as usize)) }
}

/// SAFETY: `args` points to `n` initialised cells in the caller's stack frame.
unsafe fn cells<'a>(args: *const Cell, n: usize) -> &'a [Cell] {
    // SAFETY: as this function's contract says.
    if n == 0 { &[] } else { unsafe { std::slice::from_raw_parts(args, n) } }
}

fn fail(rt: &mut Rt<'_>, at: ExprId, message: impl Into<String>) -> u64 {
    rt.error = Some((rt.prog.expr(at).loc, message.into()));
    1
}

/// Any expression node whose operands generated code has already evaluated, in order.
extern "C" fn h_expr(ctx: *mut Ctx, expr: u64, args: *const Cell, out: *mut Cell) -> u64 {
    // SAFETY: see `rt`.
    let rt = unsafe { rt(ctx) };
    let id = ExprId::from(expr as u32);
    let e = rt.prog.expr(id);
    let n = e.kind.operands().len();
    // SAFETY: generated code stored `n` operand cells at `args` (see `translate::generic`).
    let vals: Vec<Value> = unsafe { cells(args, n) }.iter().map(|c| unsafe { value(c) }).collect();
    let result: Result<Value, (ExprId, String)> = match &e.kind {
        ExprKind::List(_) => Ok(Value::List(vals.into())),
        ExprKind::Interp(parts) => {
            let mut it = vals.iter();
            Ok(ops::interpolate(parts.iter().map(|p| match p {
                Part::Text(t) => ops::Part::Text(t),
                Part::Expr(_) => ops::Part::Value(it.next().unwrap_or(&Value::Null)),
            })))
        }
        ExprKind::Field(_, name) => Ok(ops::field(&vals[0], name)),
        ExprKind::Index(..) => Ok(ops::index(&vals[0], &vals[1])),
        ExprKind::Neg(x) => {
            ops::neg(&vals[0]).map_err(|m| (if vals[0].as_f64().is_some() { id } else { *x }, m.into_message()))
        }
        ExprKind::Cmp(op, ..) => {
            ops::compare(*op, &vals[0], &vals[1]).map(Value::Bool).map_err(|m| (id, m.into_message()))
        }
        ExprKind::Arith(op, ..) => ops::arith(*op, &vals[0], &vals[1]).map_err(|m| (id, m.into_message())),
        ExprKind::InSet(_, set) => Ok(Value::Bool(rt.prep.in_set(*set, &vals[0]))),
        ExprKind::InList(_, l) => ops::in_list(&vals[0], &vals[1]).map(Value::Bool).map_err(|m| (*l, m.into_message())),
        ExprKind::Call(f, args) => {
            builtins::call(*f, &vals, rt.txn.now).map_err(|(i, m)| (args.get(i).copied().unwrap_or(id), m))
        }
        ExprKind::Matches(a, r) => rt.prep.matches(*r, &vals[0]).map(Value::Bool).map_err(|m| (*a, m.into_message())),
        ExprKind::IpIn(a, c) => rt.prep.ip_in(*c, &vals[0]).map(Value::Bool).map_err(|m| (*a, m.into_message())),
        ExprKind::Object(members) => Ok(ops::object(members.iter().map(|(k, _)| k.as_str()).zip(vals))),
        ExprKind::Regex(f, args, r) => builtins::call_regex(*f, &vals, &rt.prep.regexes[r.index()])
            .map_err(|(i, m)| (args.get(i).copied().unwrap_or(id), m)),
        ExprKind::IpInConfig(a, q) => {
            rt.txn.config.ip_in(*q, &vals[0]).map(Value::Bool).map_err(|m| (*a, m.into_message()))
        }
        ExprKind::MatchesConfig(a, q) => {
            rt.txn.config.matches(*q, &vals[0]).map(Value::Bool).map_err(|m| (*a, m.into_message()))
        }
        ExprKind::InConfig(_, q) => Ok(Value::Bool(rt.txn.config.contains(*q, &vals[0]))),
        other => Err((id, format!("internal: no generic form for {other:?}"))),
    };
    match result {
        Ok(v) => {
            let c = rt.arena.cell(v);
            // SAFETY: `out` points to a cell in the caller's stack frame.
            unsafe { *out = c };
            0
        }
        Err((at, m)) => fail(rt, at, m),
    }
}

/// A condition over a value of any type.
extern "C" fn h_truth(ctx: *mut Ctx, expr: u64, cell: *const Cell) -> u64 {
    // SAFETY: see `rt`; `cell` points to a cell in the caller's frame.
    let (rt, v) = unsafe { (rt(ctx), value(&*cell)) };
    match ops::truth(&v) {
        Ok(b) => u64::from(b),
        Err(m) => {
            fail(rt, ExprId::from(expr as u32), m);
            2
        }
    }
}

extern "C" fn h_memeq(_ctx: *mut Ctx, p: u64, q: u64, len: u64) -> u64 {
    // SAFETY: both pointers come from STR cells of length `len` (see `value`).
    let (x, y) = unsafe {
        (
            std::slice::from_raw_parts(p as *const u8, len as usize),
            std::slice::from_raw_parts(q as *const u8, len as usize),
        )
    };
    u64::from(x == y)
}

extern "C" fn h_strcmp(_ctx: *mut Ctx, p: u64, plen: u64, q: u64, qlen: u64) -> i64 {
    // SAFETY: both come from STR cells (see `value`).
    let (x, y) = unsafe { (str_of(p, plen), str_of(q, qlen)) };
    x.cmp(y) as i64
}

extern "C" fn h_in_set_str(ctx: *mut Ctx, set: u64, p: u64, len: u64) -> u64 {
    // SAFETY: see `rt` and `str_of`.
    let (rt, s) = unsafe { (rt(ctx), str_of(p, len)) };
    u64::from(rt.prep.in_set_str(SetId::from(set as u32), s))
}

extern "C" fn h_in_set(ctx: *mut Ctx, set: u64, cell: *const Cell) -> u64 {
    // SAFETY: see `rt` and `value`.
    let (rt, v) = unsafe { (rt(ctx), value(&*cell)) };
    u64::from(rt.prep.in_set(SetId::from(set as u32), &v))
}

extern "C" fn h_matches(ctx: *mut Ctx, regex: u64, p: u64, len: u64) -> u64 {
    // SAFETY: see `rt` and `str_of`.
    let (rt, s) = unsafe { (rt(ctx), str_of(p, len)) };
    u64::from(rt.prep.regexes[regex as usize].is_match(s))
}

extern "C" fn h_ip_in(ctx: *mut Ctx, expr: u64, cidr: u64, p: u64, len: u64) -> u64 {
    // SAFETY: see `rt` and `str_of`.
    let (rt, s) = unsafe { (rt(ctx), str_of(p, len)) };
    match rt.prep.ip_in_str(CidrId::from(cidr as u32), s) {
        Ok(hit) => u64::from(hit),
        Err(m) => {
            fail(rt, ExprId::from(expr as u32), m);
            2
        }
    }
}

extern "C" fn h_fail(ctx: *mut Ctx, expr: u64, what: u64) -> u64 {
    // SAFETY: see `rt`.
    let rt = unsafe { rt(ctx) };
    let message = match what {
        0 => "integer overflow",
        _ => "internal error",
    };
    fail(rt, ExprId::from(expr as u32), message)
}

/// An effect statement: its meaning is `warden_runtime::apply`, as for every backend.
extern "C" fn h_stmt(ctx: *mut Ctx, stmt: u64, args: *const Cell) -> u64 {
    // SAFETY: see `rt`.
    let rt = unsafe { rt(ctx) };
    // SAFETY: the pointer was taken from the program `Compiled` owns and never mutates.
    let s = unsafe { &*rt.stmts[stmt as usize] };
    let exprs = s.kind.operands();
    // SAFETY: generated code stored one cell per operand at `args`.
    let vals: Vec<Value> = unsafe { cells(args, exprs.len()) }.iter().map(|c| unsafe { value(c) }).collect();
    let refresh = match &s.kind {
        warden_ir::StmtKind::SetUser { refresh, .. }
        | warden_ir::StmtKind::UnsetUser { refresh, .. }
        | warden_ir::StmtKind::Persist { refresh, .. } => rt.prog.refreshed(*refresh),
        _ => &[],
    };
    // Cells of slots about to change may still be held in locals: keep their values alive.
    for &slot in refresh {
        rt.arena.keep(rt.txn.slots[slot.index()].clone());
    }
    let result = warden_runtime::apply(rt.txn, rt.prog, &s.kind, &vals, rt.rule);
    for &slot in refresh {
        let c = cell_of_slot(rt.arena, &rt.txn.slots[slot.index()]);
        rt.slot_cells[slot.index()] = c;
    }
    match result {
        Ok(Applied::Next) => 0,
        Ok(Applied::Deny(e)) => {
            rt.deny = Some(e);
            1
        }
        Err((Some(i), m)) => {
            fail(rt, exprs[i], m);
            2
        }
        Err((None, m)) => {
            rt.error = Some((s.loc, m));
            2
        }
    }
}

/// A slot's cell: strings point into the slot's own value (kept alive by the transaction or
/// the arena); lists and objects are boxed in the arena.
pub(crate) fn cell_of_slot(arena: &mut Arena, v: &Value) -> Cell {
    match v {
        Value::Str(s) => Cell { tag: STR, a: s.as_ptr() as u64, b: s.len() as u64 },
        other => arena.cell(other.clone()),
    }
}

extern "C" fn h_quant_len(ctx: *mut Ctx, expr: u64, what: u64, cell: *const Cell) -> i64 {
    // SAFETY: see `rt`; `cell` points to a cell in the caller's frame.
    let (rt, c) = unsafe { (rt(ctx), &*cell) };
    let v = match c.tag {
        NULL => return -1,
        // SAFETY: a VAL cell points to a live `Value` (see `value`).
        VAL => match unsafe { &*(c.a as *const Value) } {
            Value::List(items) => return items.len() as i64,
            other => other.clone(),
        },
        // SAFETY: as above.
        _ => unsafe { value(c) },
    };
    // The same wording as the interpreter's (`ops::quant_items`, `ops::comp_items`).
    let m = if what == 0 { ops::quant_items(&v).err() } else { ops::comp_items(&v).err() };
    let m = m.map_or_else(|| "internal: not a list".to_string(), |m| m.into_message());
    fail(rt, ExprId::from(expr as u32), m);
    -2
}

extern "C" fn h_quant_item(ctx: *mut Ctx, list: *const Cell, i: u64, out: *mut Cell) -> u64 {
    // SAFETY: see `rt`; `h_quant_len` accepted this cell as a VAL list of more than `i`
    // items, and the list is immutable while the quantifier runs.
    let rt = unsafe { rt(ctx) };
    // SAFETY: as above, the cell is a VAL list the quantifier keeps alive.
    let item = match unsafe { &*((*list).a as *const Value) } {
        Value::List(items) => items.get(i as usize).cloned().unwrap_or_default(),
        _ => Value::Null,
    };
    let c = rt.arena.cell(item);
    // SAFETY: `out` points to a cell in the caller's stack frame.
    unsafe { *out = c };
    0
}

/// String built-ins over a string cell, borrowing the input where nothing changes.
extern "C" fn h_text(ctx: *mut Ctx, builtin: u64, p: u64, len: u64, out: *mut Cell) -> u64 {
    use warden_ir::Builtin;
    // SAFETY: see `rt` and `str_of`.
    let (rt, s) = unsafe { (rt(ctx), str_of(p, len)) };
    let f = match builtin {
        0 => Builtin::Lower,
        1 => Builtin::Upper,
        2 => Builtin::Trim,
        _ => Builtin::EmailDomain,
    };
    let c = match builtins::text_fn(f, s) {
        None => Cell::default(),
        // A borrowed result is a part of the input string, which outlives the execution.
        Some(std::borrow::Cow::Borrowed(b)) => Cell { tag: STR, a: b.as_ptr() as u64, b: b.len() as u64 },
        Some(std::borrow::Cow::Owned(o)) => rt.arena.str_cell(o),
    };
    // SAFETY: `out` points to a cell in the caller's stack frame.
    unsafe { *out = c };
    0
}

extern "C" fn h_weekday(ctx: *mut Ctx, expr: u64, ms: u64, out: *mut Cell) -> u64 {
    match builtins::weekday(ms as i64) {
        Ok(day) => {
            // SAFETY: `out` points to a cell in the caller's stack frame; `day` is static.
            unsafe { *out = Cell { tag: STR, a: day.as_ptr() as u64, b: day.len() as u64 } };
            0
        }
        Err(m) => {
            // SAFETY: see `rt`.
            let rt = unsafe { rt(ctx) };
            fail(rt, ExprId::from(expr as u32), m)
        }
    }
}

extern "C" fn h_comp_new(ctx: *mut Ctx) -> u64 {
    // SAFETY: see `rt`.
    let rt = unsafe { rt(ctx) };
    rt.arena.builder()
}

extern "C" fn h_comp_push(ctx: *mut Ctx, builder: u64, cell: *const Cell) -> u64 {
    // SAFETY: see `rt` and `value`.
    let (rt, v) = unsafe { (rt(ctx), value(&*cell)) };
    rt.arena.push(builder, v);
    0
}

extern "C" fn h_comp_end(ctx: *mut Ctx, builder: u64, out: *mut Cell) -> u64 {
    // SAFETY: see `rt`.
    let rt = unsafe { rt(ctx) };
    let list = rt.arena.finish(builder);
    let c = rt.arena.cell(Value::List(list.into()));
    // SAFETY: `out` points to a cell in the caller's stack frame.
    unsafe { *out = c };
    0
}
