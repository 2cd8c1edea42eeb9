//! IR to Cranelift: one `extern "C" fn(*mut Ctx) -> u32` per rule, one `translate_*` per IR
//! node in the interpreter's order. Typed operations are inline (slot loads, int and bool
//! logic, string equality, control flow); real work and anything over `any` values calls a
//! helper through the context's table, so the code needs no relocations and the same
//! translator can emit objects through any `cranelift_module::Module`.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::I64;
use cranelift_codegen::ir::{AbiParam, Block, InstBuilder, MemFlagsData, SigRef, StackSlotData, StackSlotKind, Value};
use cranelift_frontend::{FunctionBuilder, Variable};
use warden_ir::{ArithOp, Builtin, CmpOp, Const, ExprId, ExprKind, LocalId, Program, Stmt, StmtKind, Ty};

use crate::cell::{self, BOOL, INT, NULL, STR};
use crate::exec::{CTX_CONSTS, CTX_HELPERS, CTX_NOW, CTX_SLOTS, DENIED, DONE, ENDED, FAILED};
use crate::helpers::Helper;

/// A value in registers: tag and two payload words (see `cell`).
#[derive(Clone, Copy, Debug)]
struct Jv {
    tag: Value,
    a: Value,
    b: Value,
}

/// Translates one rule's body into `b`. Returns the rule's effect statements in the order
/// their index is passed to the statement helper.
pub(crate) fn translate_rule<'p>(b: &mut FunctionBuilder<'_>, prog: &'p Program, rule: u32) -> Vec<&'p Stmt> {
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let ctx = b.block_params(entry)[0];
    let flags = MemFlagsData::trusted();
    let slots = b.ins().load(I64, flags, ctx, CTX_SLOTS);
    let consts = b.ins().load(I64, flags, ctx, CTX_CONSTS);
    let helpers = b.ins().load(I64, flags, ctx, CTX_HELPERS);
    let r = &prog.rules[rule as usize];
    let locals = (0..r.locals).map(|_| [b.declare_var(I64), b.declare_var(I64), b.declare_var(I64)]).collect();
    let exits = [DONE, ENDED, DENIED, FAILED].map(|status| {
        let blk = b.create_block();
        b.set_cold_block(blk);
        (blk, status)
    });
    let mut t = Translator {
        b,
        prog,
        ctx,
        slots,
        consts,
        helpers,
        locals,
        ended: exits[1].0,
        denied: exits[2].0,
        failed: exits[3].0,
        sigs: Vec::new(),
        stmts: Vec::new(),
    };
    t.translate_block(&r.body);
    let done = exits[0].0;
    t.b.ins().jump(done, &[]);
    for (blk, status) in exits {
        t.b.switch_to_block(blk);
        let v = t.b.ins().iconst(cranelift_codegen::ir::types::I32, i64::from(status));
        t.b.ins().return_(&[v]);
    }
    t.b.seal_all_blocks();
    t.stmts
}

struct Translator<'a, 'b, 'p> {
    b: &'a mut FunctionBuilder<'b>,
    prog: &'p Program,
    ctx: Value,
    slots: Value,
    consts: Value,
    helpers: Value,
    locals: Vec<[Variable; 3]>,
    ended: Block,
    denied: Block,
    failed: Block,
    sigs: Vec<(usize, SigRef)>,
    stmts: Vec<&'p Stmt>,
}

impl<'p> Translator<'_, '_, 'p> {
    // ----------------------------------------------------------------------------------------
    // Plumbing

    fn iconst(&mut self, v: i64) -> Value {
        self.b.ins().iconst(I64, v)
    }

    /// An `icmp` result (i8) as a 0/1 word.
    fn word(&mut self, flag: Value) -> Value {
        self.b.ins().uextend(I64, flag)
    }

    fn eq_imm(&mut self, v: Value, imm: u64) -> Value {
        let f = self.b.ins().icmp_imm_s(IntCC::Equal, v, imm as i64);
        self.word(f)
    }

    fn bool_jv(&mut self, bit: Value) -> Jv {
        let tag = self.iconst(BOOL as i64);
        let zero = self.iconst(0);
        Jv { tag, a: bit, b: zero }
    }

    fn null_jv(&mut self) -> Jv {
        let z = self.iconst(0);
        Jv { tag: z, a: z, b: z }
    }

    fn load_cell(&mut self, base: Value, offset: i32) -> Jv {
        let f = MemFlagsData::trusted();
        let tag = self.b.ins().load(I64, f, base, offset + cell::TAG);
        let a = self.b.ins().load(I64, f, base, offset + cell::A);
        let b = self.b.ins().load(I64, f, base, offset + cell::B);
        Jv { tag, a, b }
    }

    /// Stores cells in a fresh stack slot; returns its address.
    fn spill(&mut self, cells: &[Jv]) -> Value {
        let size = (cells.len().max(1) as u32) * cell::SIZE as u32;
        let slot = self.b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, size, 3));
        for (i, c) in cells.iter().enumerate() {
            let off = i as i32 * cell::SIZE;
            self.b.ins().stack_store(I64, c.tag, slot, off + cell::TAG);
            self.b.ins().stack_store(I64, c.a, slot, off + cell::A);
            self.b.ins().stack_store(I64, c.b, slot, off + cell::B);
        }
        self.b.ins().stack_addr(I64, slot, 0)
    }

    fn out_cell(&mut self) -> Value {
        let slot =
            self.b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, cell::SIZE as u32, 3));
        self.b.ins().stack_addr(I64, slot, 0)
    }

    /// Calls a helper through the context's table.
    fn call(&mut self, h: Helper, args: &[Value]) -> Value {
        let arity = h.arity();
        debug_assert_eq!(args.len() + 1, arity);
        let sig = match self.sigs.iter().find(|(n, _)| *n == arity) {
            Some((_, s)) => *s,
            None => {
                let mut sig = cranelift_codegen::ir::Signature::new(self.b.func.signature.call_conv);
                sig.params.extend((0..arity).map(|_| AbiParam::new(I64)));
                sig.returns.push(AbiParam::new(I64));
                let s = self.b.import_signature(sig);
                self.sigs.push((arity, s));
                s
            }
        };
        let fptr = self.b.ins().load(I64, MemFlagsData::trusted(), self.helpers, h as i32 * 8);
        let mut all = vec![self.ctx];
        all.extend_from_slice(args);
        let inst = self.b.ins().call_indirect(sig, fptr, &all);
        self.b.inst_results(inst)[0]
    }

    /// Continues when `status == 0`, else leaves through `exit`.
    fn check(&mut self, status: Value, exit: Block) {
        let ok = self.b.create_block();
        self.b.ins().brif(status, exit, &[], ok, &[]);
        self.b.switch_to_block(ok);
    }

    fn ty(&self, id: ExprId) -> &'p Ty {
        &self.prog.expr(id).ty
    }

    // ----------------------------------------------------------------------------------------
    // Statements

    fn translate_block(&mut self, stmts: &'p [Stmt]) {
        for s in stmts {
            self.translate_stmt(s);
        }
    }

    fn translate_stmt(&mut self, s: &'p Stmt) {
        match &s.kind {
            StmtKind::When(c) => {
                let held = self.translate_cond(*c);
                let next = self.b.create_block();
                let ended = self.ended;
                self.b.ins().brif(held, next, &[], ended, &[]);
                self.b.switch_to_block(next);
            }
            StmtKind::Let(l, e) => {
                let v = self.translate_expr(*e);
                self.set_local(*l, v);
            }
            StmtKind::If { cond, then, otherwise } => {
                let c = self.translate_cond(*cond);
                let (then_blk, else_blk, merge) = (self.b.create_block(), self.b.create_block(), self.b.create_block());
                self.b.ins().brif(c, then_blk, &[], else_blk, &[]);
                self.b.switch_to_block(then_blk);
                self.translate_block(then);
                self.b.ins().jump(merge, &[]);
                self.b.switch_to_block(else_blk);
                self.translate_block(otherwise);
                self.b.ins().jump(merge, &[]);
                self.b.switch_to_block(merge);
            }
            effect => {
                let vals: Vec<Jv> = effect.operands().into_iter().map(|e| self.translate_expr(e)).collect();
                let args = self.spill(&vals);
                let index = self.iconst(self.stmts.len() as i64);
                self.stmts.push(s);
                let status = self.call(Helper::Stmt, &[index, args]);
                let ok = self.b.create_block();
                let stop = self.b.create_block();
                self.b.ins().brif(status, stop, &[], ok, &[]);
                self.b.switch_to_block(stop);
                let is_deny = self.eq_imm(status, 1);
                let (denied, failed) = (self.denied, self.failed);
                self.b.ins().brif(is_deny, denied, &[], failed, &[]);
                self.b.switch_to_block(ok);
            }
        }
    }

    fn set_local(&mut self, l: LocalId, v: Jv) {
        let [t, a, b] = self.locals[l.index()];
        self.b.def_var(t, v.tag);
        self.b.def_var(a, v.a);
        self.b.def_var(b, v.b);
    }

    // ----------------------------------------------------------------------------------------
    // Conditions: a 0/1 word; missing is false, a non-bool `any` value is a rule error.

    fn translate_cond(&mut self, id: ExprId) -> Value {
        match &self.prog.expr(id).kind {
            ExprKind::Not(x) => {
                let c = self.translate_cond(*x);
                self.b.ins().bxor_imm_s(c, 1)
            }
            ExprKind::And(x, y) => self.short_circuit(*x, *y, true),
            ExprKind::Or(x, y) => self.short_circuit(*x, *y, false),
            _ => {
                let v = self.translate_expr(id);
                match self.ty(id) {
                    // A bool is 1/a or null with a = 0: `a` is the truth.
                    Ty::Bool => v.a,
                    Ty::Null => self.iconst(0),
                    _ => {
                        let cellp = self.spill(&[v]);
                        let eid = self.iconst(id.index() as i64);
                        let r = self.call(Helper::Truth, &[eid, cellp]);
                        let is_err = self.eq_imm(r, 2);
                        let failed = self.failed;
                        self.check(is_err, failed);
                        r
                    }
                }
            }
        }
    }

    /// `x and y` (`and_ = true`) or `x or y`, evaluating `y` only when needed.
    fn short_circuit(&mut self, x: ExprId, y: ExprId, and_: bool) -> Value {
        let res = self.b.declare_var(I64);
        let cx = self.translate_cond(x);
        self.b.def_var(res, cx);
        let (rhs, merge) = (self.b.create_block(), self.b.create_block());
        if and_ {
            self.b.ins().brif(cx, rhs, &[], merge, &[]);
        } else {
            self.b.ins().brif(cx, merge, &[], rhs, &[]);
        }
        self.b.switch_to_block(rhs);
        let cy = self.translate_cond(y);
        self.b.def_var(res, cy);
        self.b.ins().jump(merge, &[]);
        self.b.switch_to_block(merge);
        self.b.use_var(res)
    }

    // ----------------------------------------------------------------------------------------
    // Expressions

    fn translate_expr(&mut self, id: ExprId) -> Jv {
        let e = self.prog.expr(id);
        match &e.kind {
            ExprKind::Const(c) => self.translate_const(id, c),
            ExprKind::Slot(s) => {
                let slots = self.slots;
                self.load_cell(slots, s.index() as i32 * cell::SIZE)
            }
            ExprKind::Local(l) => {
                let [t, a, b] = self.locals[l.index()];
                Jv { tag: self.b.use_var(t), a: self.b.use_var(a), b: self.b.use_var(b) }
            }
            ExprKind::Not(_) | ExprKind::And(..) | ExprKind::Or(..) => {
                let c = self.translate_cond(id);
                self.bool_jv(c)
            }
            ExprKind::Cmp(op, x, y) => self.translate_cmp(id, *op, *x, *y),
            ExprKind::IsNull(x) => {
                let v = self.translate_expr(*x);
                let r = self.eq_imm(v.tag, NULL);
                self.bool_jv(r)
            }
            ExprKind::Arith(op, x, y) => self.translate_arith(id, *op, *x, *y),
            ExprKind::Coalesce(x, y) => self.translate_coalesce(*x, *y),
            ExprKind::InSet(x, set) if self.ty(*x) == &Ty::Str => {
                let v = self.translate_expr(*x);
                let set = self.iconst(set.index() as i64);
                let r = self.if_str(v, |t, v| t.call(Helper::InSetStr, &[set, v.a, v.b]));
                self.bool_jv(r)
            }
            ExprKind::InSet(x, set) => {
                let v = self.translate_expr(*x);
                let cellp = self.spill(&[v]);
                let set = self.iconst(set.index() as i64);
                let r = self.call(Helper::InSet, &[set, cellp]);
                self.bool_jv(r)
            }
            ExprKind::Matches(x, re) if self.ty(*x) == &Ty::Str => {
                let v = self.translate_expr(*x);
                let re = self.iconst(re.index() as i64);
                let r = self.if_str(v, |t, v| t.call(Helper::Matches, &[re, v.a, v.b]));
                self.bool_jv(r)
            }
            ExprKind::IpIn(x, c) if self.ty(*x) == &Ty::Str => {
                let v = self.translate_expr(*x);
                let (eid, c) = (self.iconst(x.index() as i64), self.iconst(c.index() as i64));
                let r = self.if_str(v, |t, v| {
                    let r = t.call(Helper::IpIn, &[eid, c, v.a, v.b]);
                    let is_err = t.eq_imm(r, 2);
                    let failed = t.failed;
                    t.check(is_err, failed);
                    r
                });
                self.bool_jv(r)
            }
            ExprKind::Quant { all, var, list, body } => self.translate_quant(*all, *var, *list, *body),
            ExprKind::Comp { var, list, filter, body } => self.translate_comp(*var, *list, *filter, *body),
            ExprKind::Call(Builtin::Now, args) if args.is_empty() => {
                let now = self.b.ins().load(I64, MemFlagsData::trusted(), self.ctx, CTX_NOW);
                Jv { tag: self.iconst(INT as i64), a: now, b: self.iconst(0) }
            }
            ExprKind::Call(f @ (Builtin::Lower | Builtin::Upper | Builtin::Trim | Builtin::EmailDomain), args)
                if args.len() == 1 && self.ty(args[0]) == &Ty::Str =>
            {
                let v = self.translate_expr(args[0]);
                let code = match f {
                    Builtin::Lower => 0,
                    Builtin::Upper => 1,
                    Builtin::Trim => 2,
                    _ => 3,
                };
                let code = self.iconst(code);
                self.if_tag(v, STR, |t, v, out| {
                    t.call(Helper::Text, &[code, v.a, v.b, out]);
                })
            }
            ExprKind::Call(Builtin::Weekday, args) if args.len() == 1 && self.ty(args[0]) == &Ty::Int => {
                let v = self.translate_expr(args[0]);
                let arg = self.iconst(args[0].index() as i64);
                self.if_tag(v, INT, |t, v, out| {
                    let r = t.call(Helper::Weekday, &[arg, v.a, out]);
                    let failed = t.failed;
                    t.check(r, failed);
                })
            }
            _ => self.generic(id),
        }
    }

    fn translate_const(&mut self, id: ExprId, c: &Const) -> Jv {
        let z = self.iconst(0);
        let (tag, a) = match c {
            Const::Null => return self.null_jv(),
            Const::Bool(v) => (BOOL, i64::from(*v)),
            Const::Int(i) => (INT, *i),
            Const::Float(f) => (cell::FLOAT, f.to_bits() as i64),
            Const::Str(_) => {
                let consts = self.consts;
                return self.load_cell(consts, id.index() as i32 * cell::SIZE);
            }
        };
        Jv { tag: self.iconst(tag as i64), a: self.iconst(a), b: z }
    }

    /// `f(v)` when `v` is a string, else 0 (a null string: predicates are false).
    fn if_str(&mut self, v: Jv, f: impl FnOnce(&mut Self, Jv) -> Value) -> Value {
        let res = self.b.declare_var(I64);
        let zero = self.iconst(0);
        self.b.def_var(res, zero);
        let (yes, merge) = (self.b.create_block(), self.b.create_block());
        let is_str = self.eq_imm(v.tag, STR);
        self.b.ins().brif(is_str, yes, &[], merge, &[]);
        self.b.switch_to_block(yes);
        let r = f(self, v);
        self.b.def_var(res, r);
        self.b.ins().jump(merge, &[]);
        self.b.switch_to_block(merge);
        self.b.use_var(res)
    }

    /// A value function of `v` when its tag is `tag` (the helper writes the result to `out`);
    /// null otherwise.
    fn if_tag(&mut self, v: Jv, tag: u64, f: impl FnOnce(&mut Self, Jv, Value)) -> Jv {
        let vars = [self.b.declare_var(I64), self.b.declare_var(I64), self.b.declare_var(I64)];
        let zero = self.iconst(0);
        vars.iter().for_each(|var| self.b.def_var(*var, zero));
        let (yes, merge) = (self.b.create_block(), self.b.create_block());
        let hit = self.eq_imm(v.tag, tag);
        self.b.ins().brif(hit, yes, &[], merge, &[]);
        self.b.switch_to_block(yes);
        let out = self.out_cell();
        f(self, v, out);
        let r = self.load_cell(out, 0);
        for (var, x) in vars.iter().zip([r.tag, r.a, r.b]) {
            self.b.def_var(*var, x);
        }
        self.b.ins().jump(merge, &[]);
        self.b.switch_to_block(merge);
        Jv { tag: self.b.use_var(vars[0]), a: self.b.use_var(vars[1]), b: self.b.use_var(vars[2]) }
    }

    fn translate_cmp(&mut self, id: ExprId, op: CmpOp, x: ExprId, y: ExprId) -> Jv {
        let (tx, ty) = (self.ty(x).clone(), self.ty(y).clone());
        let fast = matches!((&tx, &ty), (Ty::Null, _) | (_, Ty::Null))
            || matches!((&tx, &ty), (Ty::Int, Ty::Int) | (Ty::Bool, Ty::Bool) | (Ty::Str, Ty::Str));
        if !fast {
            return self.generic(id);
        }
        let vx = self.translate_expr(x);
        let vy = self.translate_expr(y);
        let ordering = !matches!(op, CmpOp::Eq | CmpOp::Ne);
        let r = if matches!(tx, Ty::Null) || matches!(ty, Ty::Null) {
            // Nothing is equal to (or ordered against) a missing value; the checker lowers
            // `x == null` to `IsNull`.
            self.iconst(0)
        } else if tx == Ty::Str {
            if ordering { self.str_order(op, vx, vy) } else { self.str_eq(vx, vy) }
        } else {
            // int/int or bool/bool: null has tag 0 and a = 0.
            let same_tag = self.b.ins().icmp(IntCC::Equal, vx.tag, vy.tag);
            if ordering {
                let both = self.b.ins().band(vx.tag, vy.tag);
                let both_set = self.b.ins().icmp_imm_s(IntCC::NotEqual, both, 0);
                let cc = match op {
                    CmpOp::Lt => IntCC::SignedLessThan,
                    CmpOp::Le => IntCC::SignedLessThanOrEqual,
                    CmpOp::Gt => IntCC::SignedGreaterThan,
                    _ => IntCC::SignedGreaterThanOrEqual,
                };
                let c = self.b.ins().icmp(cc, vx.a, vy.a);
                let r = self.b.ins().band(both_set, c);
                self.word(r)
            } else {
                // Two missing values are not equal.
                let same_a = self.b.ins().icmp(IntCC::Equal, vx.a, vy.a);
                let present = self.b.ins().icmp_imm_s(IntCC::NotEqual, vx.tag, NULL as i64);
                let r = self.b.ins().band(same_tag, same_a);
                let r = self.b.ins().band(r, present);
                self.word(r)
            }
        };
        let r = if op == CmpOp::Ne && !ordering { self.b.ins().bxor_imm_s(r, 1) } else { r };
        self.bool_jv(r)
    }

    /// String equality: both strings with equal bytes (two missing values are not equal).
    fn str_eq(&mut self, x: Jv, y: Jv) -> Value {
        let res = self.b.declare_var(I64);
        let same_tag = self.b.ins().icmp(IntCC::Equal, x.tag, y.tag);
        let same_len = self.b.ins().icmp(IntCC::Equal, x.b, y.b);
        let shape = self.b.ins().band(same_tag, same_len);
        let shape = self.word(shape);
        let zero = self.iconst(0);
        self.b.def_var(res, zero);
        let (bytes, merge) = (self.b.create_block(), self.b.create_block());
        // Same tag and length: two strings whose bytes decide (or two nulls: not equal).
        let is_str = self.eq_imm(x.tag, STR);
        let need_bytes = self.b.ins().band(shape, is_str);
        self.b.ins().brif(need_bytes, bytes, &[], merge, &[]);
        self.b.switch_to_block(bytes);
        let eq = self.call(Helper::MemEq, &[x.a, y.a, x.b]);
        self.b.def_var(res, eq);
        self.b.ins().jump(merge, &[]);
        self.b.switch_to_block(merge);
        self.b.use_var(res)
    }

    fn str_order(&mut self, op: CmpOp, x: Jv, y: Jv) -> Value {
        let res = self.b.declare_var(I64);
        let zero = self.iconst(0);
        self.b.def_var(res, zero);
        let both = self.b.ins().band(x.tag, y.tag);
        let both_str = self.eq_imm(both, STR);
        let (cmp, merge) = (self.b.create_block(), self.b.create_block());
        self.b.ins().brif(both_str, cmp, &[], merge, &[]);
        self.b.switch_to_block(cmp);
        let o = self.call(Helper::StrCmp, &[x.a, x.b, y.a, y.b]);
        let cc = match op {
            CmpOp::Lt => IntCC::SignedLessThan,
            CmpOp::Le => IntCC::SignedLessThanOrEqual,
            CmpOp::Gt => IntCC::SignedGreaterThan,
            _ => IntCC::SignedGreaterThanOrEqual,
        };
        let c = self.b.ins().icmp_imm_s(cc, o, 0);
        let c = self.word(c);
        self.b.def_var(res, c);
        self.b.ins().jump(merge, &[]);
        self.b.switch_to_block(merge);
        self.b.use_var(res)
    }

    fn translate_arith(&mut self, id: ExprId, op: ArithOp, x: ExprId, y: ExprId) -> Jv {
        let typed = self.ty(x) == &Ty::Int && self.ty(y) == &Ty::Int;
        if !typed || !matches!(op, ArithOp::Add | ArithOp::Sub | ArithOp::Mul) {
            return self.generic(id);
        }
        let vx = self.translate_expr(x);
        let vy = self.translate_expr(y);
        // Ints are tag 2 or null (tag 0, a = 0): both present iff tags and to 2.
        let both = self.b.ins().band(vx.tag, vy.tag);
        let both = self.eq_imm(both, INT);
        let (r, overflow) = match op {
            ArithOp::Add => self.b.ins().sadd_overflow(vx.a, vy.a),
            ArithOp::Sub => self.b.ins().ssub_overflow(vx.a, vy.a),
            _ => self.b.ins().smul_overflow(vx.a, vy.a),
        };
        let overflow = self.word(overflow);
        let bad = self.b.ins().band(overflow, both);
        let (fail, ok) = (self.b.create_block(), self.b.create_block());
        self.b.set_cold_block(fail);
        self.b.ins().brif(bad, fail, &[], ok, &[]);
        self.b.switch_to_block(fail);
        let (eid, what) = (self.iconst(id.index() as i64), self.iconst(0));
        self.call(Helper::Fail, &[eid, what]);
        let failed = self.failed;
        self.b.ins().jump(failed, &[]);
        self.b.switch_to_block(ok);
        let zero = self.iconst(0);
        let int = self.iconst(INT as i64);
        let tag = self.b.ins().select(both, int, zero);
        let a = self.b.ins().select(both, r, zero);
        Jv { tag, a, b: zero }
    }

    fn translate_coalesce(&mut self, x: ExprId, y: ExprId) -> Jv {
        let vars = [self.b.declare_var(I64), self.b.declare_var(I64), self.b.declare_var(I64)];
        let vx = self.translate_expr(x);
        for (var, v) in vars.iter().zip([vx.tag, vx.a, vx.b]) {
            self.b.def_var(*var, v);
        }
        let (rhs, merge) = (self.b.create_block(), self.b.create_block());
        let is_null = self.eq_imm(vx.tag, NULL);
        self.b.ins().brif(is_null, rhs, &[], merge, &[]);
        self.b.switch_to_block(rhs);
        let vy = self.translate_expr(y);
        for (var, v) in vars.iter().zip([vy.tag, vy.a, vy.b]) {
            self.b.def_var(*var, v);
        }
        self.b.ins().jump(merge, &[]);
        self.b.switch_to_block(merge);
        Jv { tag: self.b.use_var(vars[0]), a: self.b.use_var(vars[1]), b: self.b.use_var(vars[2]) }
    }

    fn translate_quant(&mut self, all: bool, var: LocalId, list: ExprId, body: ExprId) -> Jv {
        let res = self.b.declare_var(I64);
        let i = self.b.declare_var(I64);
        let vl = self.translate_expr(list);
        let listp = self.spill(&[vl]);
        let eid = self.iconst(list.index() as i64);
        let what = self.iconst(0);
        let len = self.call(Helper::QuantLen, &[eid, what, listp]);
        let is_err = self.eq_imm(len, (-2i64) as u64);
        let failed = self.failed;
        self.check(is_err, failed);
        // A missing list: false for both quantifiers.
        let present = self.b.ins().icmp_imm_s(IntCC::SignedGreaterThanOrEqual, len, 0);
        let present = self.word(present);
        let init = if all { present } else { self.iconst(0) };
        self.b.def_var(res, init);
        let zero = self.iconst(0);
        self.b.def_var(i, zero);
        let (header, body_blk, exit) = (self.b.create_block(), self.b.create_block(), self.b.create_block());
        self.b.ins().jump(header, &[]);
        self.b.switch_to_block(header);
        let iv = self.b.use_var(i);
        let more = self.b.ins().icmp(IntCC::SignedLessThan, iv, len);
        self.b.ins().brif(more, body_blk, &[], exit, &[]);
        self.b.switch_to_block(body_blk);
        let out = self.out_cell();
        self.call(Helper::QuantItem, &[listp, iv, out]);
        let item = self.load_cell(out, 0);
        self.set_local(var, item);
        let c = self.translate_cond(body);
        // `any` stops at the first true, `all` at the first false.
        let decisive = if all { self.b.ins().bxor_imm_s(c, 1) } else { c };
        let (found, next) = (self.b.create_block(), self.b.create_block());
        self.b.ins().brif(decisive, found, &[], next, &[]);
        self.b.switch_to_block(found);
        let verdict = self.iconst(i64::from(!all));
        self.b.def_var(res, verdict);
        self.b.ins().jump(exit, &[]);
        self.b.switch_to_block(next);
        let iv = self.b.use_var(i);
        let inc = self.b.ins().iadd_imm_s(iv, 1);
        self.b.def_var(i, inc);
        self.b.ins().jump(header, &[]);
        self.b.switch_to_block(exit);
        let r = self.b.use_var(res);
        self.bool_jv(r)
    }

    /// `[body for var in list if filter]`: a loop like a quantifier's that appends each kept
    /// item's value to a list the arena builds; null when the list is missing.
    fn translate_comp(&mut self, var: LocalId, list: ExprId, filter: Option<ExprId>, body: ExprId) -> Jv {
        let i = self.b.declare_var(I64);
        let vars = [self.b.declare_var(I64), self.b.declare_var(I64), self.b.declare_var(I64)];
        let null = self.null_jv();
        for (v, x) in vars.iter().zip([null.tag, null.a, null.b]) {
            self.b.def_var(*v, x);
        }
        let vl = self.translate_expr(list);
        let listp = self.spill(&[vl]);
        let eid = self.iconst(list.index() as i64);
        let what = self.iconst(1);
        let len = self.call(Helper::QuantLen, &[eid, what, listp]);
        let is_err = self.eq_imm(len, (-2i64) as u64);
        let failed = self.failed;
        self.check(is_err, failed);
        let (start, header, body_blk, next, done, exit) = (
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
        );
        // A missing list: the result is missing.
        let present = self.b.ins().icmp_imm_s(IntCC::SignedGreaterThanOrEqual, len, 0);
        self.b.ins().brif(present, start, &[], exit, &[]);
        self.b.switch_to_block(start);
        let acc = self.call(Helper::CompNew, &[]);
        let zero = self.iconst(0);
        self.b.def_var(i, zero);
        self.b.ins().jump(header, &[]);
        self.b.switch_to_block(header);
        let iv = self.b.use_var(i);
        let more = self.b.ins().icmp(IntCC::SignedLessThan, iv, len);
        self.b.ins().brif(more, body_blk, &[], done, &[]);
        self.b.switch_to_block(body_blk);
        let out = self.out_cell();
        self.call(Helper::QuantItem, &[listp, iv, out]);
        let item = self.load_cell(out, 0);
        self.set_local(var, item);
        if let Some(f) = filter {
            let keep = self.translate_cond(f);
            let push = self.b.create_block();
            self.b.ins().brif(keep, push, &[], next, &[]);
            self.b.switch_to_block(push);
        }
        let v = self.translate_expr(body);
        let cellp = self.spill(&[v]);
        self.call(Helper::CompPush, &[acc, cellp]);
        self.b.ins().jump(next, &[]);
        self.b.switch_to_block(next);
        let iv = self.b.use_var(i);
        let inc = self.b.ins().iadd_imm_s(iv, 1);
        self.b.def_var(i, inc);
        self.b.ins().jump(header, &[]);
        self.b.switch_to_block(done);
        let out = self.out_cell();
        self.call(Helper::CompEnd, &[acc, out]);
        let r = self.load_cell(out, 0);
        for (v, x) in vars.iter().zip([r.tag, r.a, r.b]) {
            self.b.def_var(*v, x);
        }
        self.b.ins().jump(exit, &[]);
        self.b.switch_to_block(exit);
        Jv { tag: self.b.use_var(vars[0]), a: self.b.use_var(vars[1]), b: self.b.use_var(vars[2]) }
    }

    /// Evaluates a node's operands in order, then lets the expression helper apply the
    /// operator (its meaning is `warden_runtime::ops`).
    fn generic(&mut self, id: ExprId) -> Jv {
        let vals: Vec<Jv> = self.prog.expr(id).kind.operands().into_iter().map(|e| self.translate_expr(e)).collect();
        let args = self.spill(&vals);
        let out = self.out_cell();
        let eid = self.iconst(id.index() as i64);
        let status = self.call(Helper::Expr, &[eid, args, out]);
        let failed = self.failed;
        self.check(status, failed);
        self.load_cell(out, 0)
    }
}
