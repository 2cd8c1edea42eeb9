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

/// Compiles every rule of a program for this machine.
pub fn compile(program: Arc<Program>) -> Result<Compiled, String> {
    let mut flags = settings::builder();
    flags.set("opt_level", "speed").map_err(|e| e.to_string())?;
    // Cranelift's IR verifier checks the translator's output: on in debug builds (every test
    // runs it), off in release builds, where it would double the compile time.
    flags.set("enable_verifier", if cfg!(debug_assertions) { "true" } else { "false" }).map_err(|e| e.to_string())?;
    flags.set("is_pic", "false").map_err(|e| e.to_string())?;
    flags.set("use_colocated_libcalls", "false").map_err(|e| e.to_string())?;
    let isa = cranelift_native::builder()
        .map_err(|e| format!("this machine is not supported by the JIT: {e}"))?
        .finish(settings::Flags::new(flags))
        .map_err(|e| e.to_string())?;
    if isa.pointer_type() != I64 {
        return Err("the JIT needs a 64-bit machine".into());
    }
    let mut module = JITModule::new(JITBuilder::with_isa(isa, cranelift_module::default_libcall_names()));
    let (ids, stmts) = define_rules(&mut module, &program)?;
    module.finalize_definitions().map_err(|e| e.to_string())?;
    let funcs = ids.into_iter().map(|id| module.get_finalized_function(id)).collect();
    let stmts = stmts.into_iter().map(|v| v.into_iter().map(|s| s as *const _).collect()).collect();
    Ok(Compiled::new(module, funcs, stmts, program))
}

/// Declares and defines one function per rule in any Cranelift module (the JIT here; an
/// object file for ahead-of-time artifacts).
pub fn define_rules<'p, M: Module>(
    module: &mut M,
    program: &'p Program,
) -> Result<(Vec<cranelift_module::FuncId>, Vec<Vec<&'p warden_ir::Stmt>>), String> {
    let mut sig = module.make_signature();
    sig.params.push(AbiParam::new(I64));
    sig.returns.push(AbiParam::new(I32));
    let mut ctx = module.make_context();
    let mut fb = FunctionBuilderContext::new();
    let mut ids = Vec::new();
    let mut all_stmts = Vec::new();
    for rule in 0..program.rules.len() as u32 {
        let id =
            module.declare_function(&format!("warden_rule_{rule}"), Linkage::Local, &sig).map_err(|e| e.to_string())?;
        ctx.func = Function::with_name_signature(UserFuncName::user(0, rule), sig.clone());
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fb);
        let stmts = translate::translate_rule(&mut b, program, rule);
        b.finalize(module.target_config());
        module.define_function(id, &mut ctx).map_err(|e| format!("rule {rule}: {e:?}"))?;
        module.clear_context(&mut ctx);
        ids.push(id);
        all_stmts.push(stmts);
    }
    Ok((ids, all_stmts))
}
