//! The one boundary every export goes through: catch panics, map errors, write outputs only
//! on success.

use crate::status::gr_status::{GR_EPANIC, GR_OK};
use gr_core::{sanitize, Error};
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::ffi::c_int;

/// The status code of an error (the status table, `status.rs`).
#[inline]
pub fn code(e: Error) -> c_int {
    crate::status::code_of(e)
}

/// Runs `f`, turning a panic into `GR_EPANIC` and an error into its code. When the host runs
/// under ThreadSanitizer, `f` runs as a `gr_core::sanitize` call (out of line: a normal call
/// pays one load and a branch not taken). Exports pass `move` closures: what they capture
/// (their arguments) then stays in registers on the normal path. Not where the closure
/// writes a local the export reads afterwards (`gr_fd_write`'s count): a `move` closure
/// would write its own copy.
#[inline]
pub fn guard(f: impl FnOnce() -> Result<(), Error>) -> c_int {
    if watched() {
        return watched_call(move || status(f));
    }
    status(f)
}

/// Like [`guard`] for exports that return a value instead of a status.
pub fn guard_value<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    if watched() {
        return watched_call(move || value(fallback, f));
    }
    value(fallback, f)
}

#[inline(always)]
fn status(f: impl FnOnce() -> Result<(), Error>) -> c_int {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(())) => GR_OK.code(),
        Ok(Err(e)) => code(e),
        Err(_) => GR_EPANIC.code(),
    }
}

#[inline(always)]
fn value<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// Whether calls run as `gr_core::sanitize` calls: true until the first call found out
/// (then, in a program without ThreadSanitizer, false for good). The boundary's own copy of
/// the answer.
static WATCHED: AtomicBool = AtomicBool::new(true);

#[inline(always)]
fn watched() -> bool {
    WATCHED.load(Relaxed)
}

/// Runs the guarded `call` (it catches panics) as a `gr_core::sanitize` call, or plainly when
/// the first call finds no ThreadSanitizer (and tells the others so).
#[cold]
#[inline(never)]
fn watched_call<R>(call: impl FnOnce() -> R) -> R {
    if !sanitize::call_begin() {
        WATCHED.store(false, Relaxed);
        return call();
    }
    let r = call();
    sanitize::call_end();
    r
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
