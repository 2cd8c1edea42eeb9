//! warden's Cranelift JIT: a whole pipeline compiled to native code over typed slots.
//!
//! Each rule becomes one function. Generated code loads slots directly, keeps values in
//! registers as tagged words (strings as pointer and length), compiles comparisons, boolean
//! logic, guards and control flow inline, and calls Rust helpers only for real work (string
//! bytes, set lookups, regexes, networks, built-ins) and for operations over `any` values.
//! Effects go through `warden_runtime::apply`, like every backend, so outcomes are the
//! interpreter's byte for byte; `tests/` checks that on every case and on generated programs.
//!
//! `unsafe` lives in `exec` (calling generated code) and `helpers` (the helper ABI) only.

use std::sync::Arc;

use cranelift_codegen::ir::types::{I32, I64};
use cranelift_codegen::ir::{AbiParam, Function, UserFuncName};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{Linkage, Module};
use warden_ir::Program;

mod cell;
mod exec;
mod helpers;
mod translate;

pub use exec::Compiled;

/// The largest rule the JIT compiles, in IR nodes (statements and expressions): Cranelift's
/// time and memory grow faster than linearly with the size of one function (its SSA builder
/// keeps a table of variables by blocks), and each effect reserves stack in the rule's frame.
/// About 400 statements; a pipeline with a larger rule runs on the interpreter.
pub const MAX_RULE_NODES: usize = 2048;

/// Why a program was not compiled to native code (the pipeline then runs on the
/// interpreter, with the same outcomes, and says so).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CompileError {
    /// A rule is larger than [`MAX_RULE_NODES`].
    #[error("rule {rule} has {nodes} IR nodes, more than the JIT's {MAX_RULE_NODES}")]
    TooLarge { rule: usize, nodes: usize },
    /// Cranelift does not support this machine.
    #[error("{0}")]
    Machine(String),
    /// Cranelift refused the translated code (a bug in warden's translator).
    #[error("{0}")]
    Codegen(String),
}

/// Compiles every rule of a program for this machine. Refuses a program with a rule larger
/// than [`MAX_RULE_NODES`] (the caller runs it on the interpreter instead).
pub fn compile(program: Arc<Program>) -> Result<Compiled, CompileError> {
    if let Some((rule, nodes)) = largest_rule(&program).filter(|(_, n)| *n > MAX_RULE_NODES) {
        return Err(CompileError::TooLarge { rule, nodes });
    }
    compile_rules(program).map_err(|e| match e {
        Failure::Machine(m) => CompileError::Machine(m),
        Failure::Codegen(m) => CompileError::Codegen(m),
    })
}

/// A failure inside compilation, before it is classified.
enum Failure {
    Machine(String),
    Codegen(String),
}

impl From<String> for Failure {
    fn from(m: String) -> Failure {
        Failure::Codegen(m)
    }
}

fn compile_rules(program: Arc<Program>) -> Result<Compiled, Failure> {
    let mut flags = settings::builder();
    flags.set("opt_level", "speed").map_err(|e| e.to_string())?;
    // Cranelift's IR verifier checks the translator's output: on in debug builds (every test
    // runs it), off in release builds, where it would double the compile time.
    flags.set("enable_verifier", if cfg!(debug_assertions) { "true" } else { "false" }).map_err(|e| e.to_string())?;
    flags.set("is_pic", "false").map_err(|e| e.to_string())?;
    flags.set("use_colocated_libcalls", "false").map_err(|e| e.to_string())?;
    let isa = cranelift_native::builder()
        .map_err(|e| Failure::Machine(format!("this machine is not supported by the JIT: {e}")))?
        .finish(settings::Flags::new(flags))
        .map_err(|e| Failure::Machine(e.to_string()))?;
    if isa.pointer_type() != I64 {
        return Err(Failure::Machine("the JIT needs a 64-bit machine".into()));
    }
    let mut module = JITModule::new(JITBuilder::with_isa(isa, cranelift_module::default_libcall_names()));
    let (ids, stmts) = define_rules(&mut module, &program)?;
    module.finalize_definitions().map_err(|e| e.to_string())?;
    let funcs = ids.into_iter().map(|id| module.get_finalized_function(id)).collect();
    let stmts = stmts.into_iter().map(|v| v.into_iter().map(|s| s as *const _).collect()).collect();
    Ok(Compiled::new(module, funcs, stmts, program))
}

/// The rule with the most IR nodes (statements and the expressions they evaluate) and how
/// many it has; nodes are counted once even if a program shares them.
fn largest_rule(program: &Program) -> Option<(usize, usize)> {
    fn stmts(block: &[warden_ir::Stmt], roots: &mut Vec<warden_ir::ExprId>) -> usize {
        let mut n = 0;
        for s in block {
            n += 1;
            roots.extend(s.kind.operands());
            match &s.kind {
                warden_ir::StmtKind::When(c) => roots.push(*c),
                warden_ir::StmtKind::Let(_, e) => roots.push(*e),
                warden_ir::StmtKind::If { cond, then, otherwise } => {
                    roots.push(*cond);
                    n += stmts(then, roots) + stmts(otherwise, roots);
                }
                _ => {}
            }
        }
        n
    }
    let mut seen = vec![u32::MAX; program.exprs.len()];
    let mut largest = None;
    for (r, rule) in program.rules.iter().enumerate() {
        let mut stack = Vec::new();
        let mut nodes = stmts(&rule.body, &mut stack);
        while let Some(e) = stack.pop() {
            match seen.get_mut(e.index()) {
                Some(mark) if *mark != r as u32 => {
                    *mark = r as u32;
                    nodes += 1;
                    stack.extend(program.exprs[e.index()].kind.operands());
                }
                _ => {}
            }
        }
        if largest.is_none_or(|(_, n)| nodes > n) {
            largest = Some((r, nodes));
        }
    }
    largest
}

/// Declares and defines one function per rule in any Cranelift module (the JIT here; an
/// object file for ahead-of-time artifacts). Rules are translated and compiled on up to
/// four threads (Cranelift compiles one function per context, independently), then defined
/// in the module in rule order, so the result does not depend on the number of threads.
pub fn define_rules<'p, M: Module>(
    module: &mut M,
    program: &'p Program,
) -> Result<(Vec<cranelift_module::FuncId>, Vec<Vec<&'p warden_ir::Stmt>>), String> {
    let mut sig = module.make_signature();
    sig.params.push(AbiParam::new(I64));
    sig.returns.push(AbiParam::new(I32));
    let n = program.rules.len();
    let mut ids = Vec::with_capacity(n);
    for rule in 0..n as u32 {
        ids.push(
            module.declare_function(&format!("warden_rule_{rule}"), Linkage::Local, &sig).map_err(|e| e.to_string())?,
        );
    }
    let threads = std::thread::available_parallelism().map_or(1, |p| p.get()).clamp(1, 4).min(n.max(1));
    let config = module.target_config();
    let isa = module.isa();
    let chunk = n.div_ceil(threads).max(1);
    let compiled: Vec<Result<Vec<Compiled1<'p>>, String>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..n)
            .step_by(chunk)
            .map(|start| {
                let sig = sig.clone();
                let ids = &ids;
                scope.spawn(move || {
                    let mut ctx = cranelift_codegen::Context::new();
                    let mut fb = FunctionBuilderContext::new();
                    let mut out = Vec::new();
                    for (rule, &id) in ids.iter().enumerate().skip(start).take(chunk) {
                        ctx.clear();
                        ctx.func = Function::with_name_signature(UserFuncName::user(0, rule as u32), sig.clone());
                        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fb);
                        let stmts = translate::translate_rule(&mut b, program, rule as u32);
                        b.finalize(config);
                        ctx.compile(isa, &mut Default::default()).map_err(|e| format!("rule {rule}: {:?}", e.inner))?;
                        let Some(code) = ctx.compiled_code() else {
                            return Err(format!("rule {rule}: no code"));
                        };
                        let relocs = code
                            .buffer
                            .relocs()
                            .iter()
                            .map(|r| cranelift_module::ModuleReloc::from_mach_reloc(r, &ctx.func, id))
                            .collect();
                        out.push(Compiled1 {
                            alignment: u64::from(code.buffer.alignment),
                            bytes: code.code_buffer().to_vec(),
                            relocs,
                            stmts,
                        });
                    }
                    Ok(out)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or_else(|_| Err("a JIT worker panicked".into()))).collect()
    });
    let mut all_stmts = Vec::with_capacity(n);
    let mut rule = 0;
    for part in compiled {
        for c in part? {
            module
                .define_function_bytes(ids[rule], c.alignment, &c.bytes, &c.relocs)
                .map_err(|e| format!("rule {rule}: {e:?}"))?;
            all_stmts.push(c.stmts);
            rule += 1;
        }
    }
    Ok((ids, all_stmts))
}

/// One rule's machine code, compiled on a worker thread.
struct Compiled1<'p> {
    alignment: u64,
    bytes: Vec<u8>,
    relocs: Vec<cranelift_module::ModuleReloc>,
    stmts: Vec<&'p warden_ir::Stmt>,
}
