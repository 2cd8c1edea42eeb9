//! QuickJS bytecode for classic (sloppy-mode) scripts.
//!
//! rquickjs writes and reads bytecode for ES modules only, and module code is always strict,
//! which legacy Auth0 rules are not (they assign undeclared variables, use `arguments.callee`,
//! octal escapes ...). So scripts are compiled and loaded here through QuickJS's C API:
//! `JS_Eval` with `JS_EVAL_FLAG_COMPILE_ONLY`, `JS_WriteObject` / `JS_ReadObject` with
//! `JS_*_OBJ_BYTECODE`, then `JS_EvalFunction`. Debug information (file name, line numbers)
//! is kept, so run-time errors still point at the rule's file and line.

#![allow(unsafe_code)]

use std::ffi::CString;

use rquickjs::{Ctx, Error, FromJs, Value, qjs};

/// Compiles a classic script to bytecode without running it. A syntax error is raised as a
/// JavaScript exception (`Error::Exception`, read it with `ctx.catch()`).
pub(crate) fn compile(ctx: &Ctx<'_>, source: &str, filename: &str) -> Result<Vec<u8>, Error> {
    // QuickJS reads the source up to a NUL it requires at `source[len]`: CString gives it,
    // and refuses a source that has a NUL inside.
    let text = CString::new(source)?;
    let name = CString::new(filename)?;
    let raw = ctx.as_raw().as_ptr();
    // SAFETY: `raw` is this live context; `text` is NUL-terminated and `len` excludes the NUL;
    // the returned value is owned by `Value` (freed on drop); the buffer JS_WriteObject returns
    // is copied, then freed with the context's allocator that made it.
    unsafe {
        let flags = (qjs::JS_EVAL_TYPE_GLOBAL | qjs::JS_EVAL_FLAG_COMPILE_ONLY) as i32;
        let compiled = qjs::JS_Eval(raw, text.as_ptr(), source.len() as _, name.as_ptr(), flags);
        if qjs::JS_IsException(compiled) {
            return Err(Error::Exception);
        }
        let function = Value::from_raw(ctx.clone(), compiled);
        let mut len: qjs::size_t = 0;
        let buf = qjs::JS_WriteObject(raw, &mut len, function.as_raw(), qjs::JS_WRITE_OBJ_BYTECODE as i32);
        if buf.is_null() {
            return Err(Error::Exception);
        }
        let bytes = std::slice::from_raw_parts(buf, len as usize).to_vec();
        qjs::js_free(raw, buf.cast());
        Ok(bytes)
    }
}

/// Runs bytecode made by [`compile`] and returns the script's completion value.
///
/// # Safety
/// QuickJS trusts bytecode: malformed bytes can corrupt memory. `bytes` must come from
/// [`compile`] in this build of QuickJS, either in this process or through an artifact whose
/// integrity (and signature, when one is required) was verified and whose header names this
/// QuickJS version.
pub(crate) unsafe fn run<'js, T: FromJs<'js>>(ctx: &Ctx<'js>, bytes: &[u8]) -> Result<T, Error> {
    let raw = ctx.as_raw().as_ptr();
    // SAFETY: the caller vouches for the bytes; JS_EvalFunction consumes the function object
    // JS_ReadObject returned; the result is owned by `Value`.
    let value = unsafe {
        let function = qjs::JS_ReadObject(raw, bytes.as_ptr(), bytes.len() as _, qjs::JS_READ_OBJ_BYTECODE as i32);
        if qjs::JS_IsException(function) {
            return Err(Error::Exception);
        }
        let result = qjs::JS_EvalFunction(raw, function);
        if qjs::JS_IsException(result) {
            return Err(Error::Exception);
        }
        Value::from_raw(ctx.clone(), result)
    };
    T::from_js(ctx, value)
}

/// The embedded QuickJS's version (`0.16.2`), from QuickJS itself.
pub(crate) fn engine_version() -> String {
    // SAFETY: JS_GetVersion returns a pointer to a static NUL-terminated string.
    let v = unsafe { std::ffi::CStr::from_ptr(qjs::JS_GetVersion()) };
    v.to_string_lossy().into_owned()
}
