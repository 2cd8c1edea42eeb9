//! Legacy Auth0 JavaScript rules, unmodified, in a QuickJS sandbox (rquickjs), as steps of
//! warden's pipeline.
//!
//! Each thread keeps one QuickJS runtime per pipeline (rquickjs runtimes are not shared
//! across threads). A runtime has a memory limit (kept by its allocator, `heap.rs`, so that
//! any out-of-memory is seen), a stack limit and an interrupt handler that stops the rule at
//! the pipeline's deadline; the rule contract (callback, errors, timers and the login's
//! clock, the login's configuration, globals and what a login may leave on the global
//! object, the lockdown of the built-ins) lives in `prelude.js`. Rules and modules
//! are compiled once per pipeline to bytecode (`bytecode.rs`). `user` and `context` go in as
//! JSON text for the first of a run of consecutive JS rules, stay JS objects across the run,
//! and come back from the last one read straight from QuickJS values (`marshal.rs`). What a
//! rule did is applied to the transaction through `warden_runtime::Txn`, like any rule.
//!
//! Modules: `api` (the public types: [`JsRules`] and what it is made of), `sandbox` (the
//! per-thread runtimes: creation, the prelude, the global object between logins, the
//! deadline and the heap limit), `bridge` (the transaction to and from JavaScript; the
//! prelude's result read once into a typed `Finish`), `error` (`Failure`, the kinds of
//! failure, and the login errors they come to), [`worker`] (worker processes), and below
//! them `bytecode`, `heap`, `host`, `marshal` and `npm` (what `require` finds among the files
//! of `node_modules` a pipeline included).

mod api;
mod bridge;
mod bytecode;
mod error;
mod heap;
mod host;
mod keys;
mod marshal;
mod net;
pub use net::settle as settle_http;
mod npm;
mod sandbox;
pub mod worker;

pub use api::{
    BUILTIN_MODULES, Bytecode, JsError, JsRules, JsSource, Limits, Link, isolation, next_login, quickjs_version,
    set_isolation,
};
pub use npm::{is_file_module, rule_require_resolves};
