//! Running generated code: the context it sees, the state behind it, and the call itself.
#![allow(unsafe_code)]

use cranelift_jit::JITModule;
use warden_ir::{Loc, Program, Step, Stmt};
use warden_runtime::{ErrorInfo, Prepared, Txn, ops};

use crate::cell::{Arena, Cell};
use crate::helpers;

/// What generated code sees, at fixed offsets (see `translate`).
#[repr(C)]
#[derive(Debug)]
pub struct Ctx {
    /// The slots' cells, by `SlotId`.
    pub slots: *const Cell,
    /// Constant cells, by `ExprId` (only string constants are read from here).
    pub consts: *const Cell,
    /// The helper table.
    pub helpers: *const usize,
    /// The `Rt` of the running call.
    pub rt: *mut (),
    /// `now()`, epoch milliseconds.
    pub now: i64,
}

pub(crate) const CTX_SLOTS: i32 = 0;
pub(crate) const CTX_CONSTS: i32 = 8;
pub(crate) const CTX_HELPERS: i32 = 16;
pub(crate) const CTX_NOW: i32 = 32;

/// Rust-side state of one rule's execution, reached by helpers through `Ctx::rt`.
pub(crate) struct Rt<'a> {
    pub prog: &'a Program,
    pub prep: &'a Prepared,
    pub txn: &'a mut Txn,
    pub rule: &'a str,
    /// The rule's effect statements, as generated code numbers them (pointers into the
    /// program, which `Compiled` owns).
    pub stmts: &'a [*const Stmt],
    pub arena: &'a mut Arena,
    pub slot_cells: &'a mut Vec<Cell>,
    pub error: Option<(Loc, String)>,
    pub deny: Option<ErrorInfo>,
}

/// Statuses generated rule functions return.
pub(crate) const DONE: u32 = 0;
pub(crate) const ENDED: u32 = 1;
pub(crate) const DENIED: u32 = 2;
pub(crate) const FAILED: u32 = 3;

type RuleFn = extern "C" fn(*mut Ctx) -> u32;

/// A pipeline compiled to native code. Dropping it frees the code.
pub struct Compiled {
    module: Option<JITModule>,
    /// One entry point per rule, by `RuleId`.
    funcs: Vec<*const u8>,
    /// Each rule's effect statements in the order generated code numbers them.
    stmts: Vec<Vec<*const Stmt>>,
    helpers: Vec<usize>,
    /// Constant cells by expression id; strings point into `program`.
    consts: Vec<Cell>,
    /// Slots no statement refreshes, by `SlotId`.
    stable: Vec<bool>,
    program: std::sync::Arc<Program>,
}

// SAFETY: the raw pointers point into `module` (code) and `program` (statements, constant
// strings), both owned by `Compiled` and never mutated after compilation, so sharing them
// across threads is sound; each execution has its own `Ctx` and `Rt`.
unsafe impl Send for Compiled {}
// SAFETY: as for `Send`: nothing reachable from `Compiled` is mutated after compilation.
unsafe impl Sync for Compiled {}

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiled").field("rules", &self.funcs.len()).finish()
    }
}

impl Compiled {
    pub(crate) fn new(
        module: JITModule,
        funcs: Vec<*const u8>,
        stmts: Vec<Vec<*const Stmt>>,
        program: std::sync::Arc<Program>,
    ) -> Compiled {
        let consts = program
            .exprs
            .iter()
            .map(|e| match &e.kind {
                warden_ir::ExprKind::Const(warden_ir::Const::Str(s)) => {
                    Cell { tag: crate::cell::STR, a: s.as_ptr() as u64, b: s.len() as u64 }
                }
                _ => Cell::default(),
            })
            .collect();
        // With JavaScript steps, any slot may change between rules.
        let mut stable = vec![program.js_rules.is_empty(); program.slots.len()];
        for rule in &stmts {
            for s in rule {
                // SAFETY: pointers into `program`, which is alive and not mutated.
                let s = unsafe { &**s };
                if let warden_ir::StmtKind::SetUser { refresh, .. }
                | warden_ir::StmtKind::UnsetUser { refresh, .. }
                | warden_ir::StmtKind::Persist { refresh, .. } = &s.kind
                {
                    program.refreshed(*refresh).iter().for_each(|r| stable[r.index()] = false);
                }
            }
        }
        Compiled { module: Some(module), funcs, stmts, helpers: helpers::table(), consts, stable, program }
    }

    pub fn program(&self) -> &Program {
        &self.program
    }

    /// Runs the pipeline's rules on `txn`, as `warden_interp::run` does.
    /// `js` runs the pipeline's JavaScript steps (by index in `Program::js_rules`).
    pub fn run(
        &self,
        prep: &Prepared,
        txn: &mut Txn,
        js: &mut dyn FnMut(u32, &mut Txn) -> Option<ErrorInfo>,
    ) -> Option<ErrorInfo> {
        let prog = &*self.program;
        let txn_now = txn.now;
        let mut arena = Arena::default();
        let mut slot_cells: Vec<Cell> = txn
            .slots
            .iter()
            .zip(&self.stable)
            .map(|(v, stable)| match v {
                // A slot no statement rewrites keeps its value for the whole execution: its
                // cell may point straight at it.
                warden_runtime::Value::List(_) | warden_runtime::Value::Object(_) if *stable => {
                    Cell { tag: crate::cell::VAL, a: v as *const warden_runtime::Value as u64, b: 0 }
                }
                _ => helpers::cell_of_slot(&mut arena, v),
            })
            .collect();
        for step in &prog.steps {
            let id = match *step {
                Step::Rule(id) => id,
                Step::Js(j) => {
                    // Values cells point into may be replaced: keep them alive.
                    for v in &txn.slots {
                        arena.keep(v.clone());
                    }
                    if let Some(stop) = js(j, txn) {
                        return Some(stop);
                    }
                    for (c, v) in slot_cells.iter_mut().zip(&txn.slots) {
                        *c = helpers::cell_of_slot(&mut arena, v);
                    }
                    continue;
                }
            };
            let rule = &prog.rules[id.index()];
            let mut rt = Rt {
                prog,
                prep,
                txn: &mut *txn,
                rule: &rule.name,
                stmts: &self.stmts[id.index()],
                arena: &mut arena,
                slot_cells: &mut slot_cells,
                error: None,
                deny: None,
            };
            let mut ctx = Ctx {
                slots: rt.slot_cells.as_ptr(),
                consts: self.consts.as_ptr(),
                helpers: self.helpers.as_ptr(),
                rt: &mut rt as *mut Rt<'_> as *mut (),
                now: txn_now,
            };
            // SAFETY: `funcs[id]` is the finalized code of this rule, compiled by
            // `translate` with the signature `extern "C" fn(*mut Ctx) -> u32`; the module
            // that owns it lives as long as `self`. `ctx` and `rt` outlive the call. Helpers
            // only replace cells inside `slot_cells` (never resize it), so `ctx.slots` stays
            // valid.
            let status = unsafe {
                let f: RuleFn = std::mem::transmute::<*const u8, RuleFn>(self.funcs[id.index()]);
                f(&mut ctx)
            };
            match status {
                DONE | ENDED => {}
                DENIED => return rt.deny.take(),
                _ => {
                    let (loc, message) = rt.error.take().unwrap_or((rule.loc, "internal error".into()));
                    return Some(ops::rule_error(prog, &rule.name, loc, message));
                }
            }
        }
        None
    }
}

impl Drop for Compiled {
    fn drop(&mut self) {
        self.funcs.clear();
        if let Some(module) = self.module.take() {
            // SAFETY: the function pointers into this module were just cleared, and no
            // execution can be running: `run` borrows `self`.
            unsafe { module.free_memory() };
        }
    }
}
