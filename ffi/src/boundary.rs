//! The one boundary every export goes through: catch panics, map errors, write outputs only
//! on success.

use crate::status::gr_status::{GR_EPANIC, GR_OK};
use gr_core::{Error, InRuntime};
use std::ffi::c_int;

/// The status code of an error (the status table, `status.rs`).
#[inline]
pub fn code(e: Error) -> c_int {
    crate::status::code_of(e)
}

/// Runs `f`, turning a panic into `GR_EPANIC` and an error into its code. Under
/// ThreadSanitizer, gr's own memory accesses meanwhile are not checked (`InRuntime`).
#[inline]
pub fn guard(f: impl FnOnce() -> Result<(), Error>) -> c_int {
    let _in = InRuntime::enter();
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(())) => GR_OK.code(),
        Ok(Err(e)) => code(e),
        Err(_) => GR_EPANIC.code(),
    }
}

/// Like [`guard`] for exports that return a value instead of a status.
pub fn guard_value<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    let _in = InRuntime::enter();
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// A non-NULL pointer or `GR_EINVAL`.
#[inline]
pub fn nonnull<T>(p: *const T) -> Result<*const T, Error> {
    if p.is_null() {
        Err(Error::Invalid)
    } else {
        Ok(p)
    }
}

/// Writes `v` through `out` (checked non-NULL by the caller, or NULL = discard).
///
/// # Safety
/// `out` must be NULL or valid for a write of `T`.
pub unsafe fn write_out<T>(out: *mut T, v: T) {
    if !out.is_null() {
        // SAFETY: non-NULL, and valid for a write (the caller's contract).
        unsafe { out.write(v) };
    }
}
