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
/// under ThreadSanitizer, `f` runs as a `gr_core::sanitize` call.
#[inline]
pub fn guard(f: impl FnOnce() -> Result<(), Error>) -> c_int {
    if watched() {
        call_begin();
    }
    let r = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(())) => GR_OK.code(),
        Ok(Err(e)) => code(e),
        Err(_) => GR_EPANIC.code(),
    };
    if watched() {
        sanitize::call_end();
    }
    r
}

/// Like [`guard`] for exports that return a value instead of a status.
pub fn guard_value<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    if watched() {
        call_begin();
    }
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(fallback);
    if watched() {
        sanitize::call_end();
    }
    r
}

/// Whether calls run as `gr_core::sanitize` calls: true until the first call found out
/// (then, in a program without ThreadSanitizer, false for good). The boundary's own copy of
/// the answer: one load and a branch on each side of a call. Both sides ask afresh (the
/// answer only ever goes from true to false, and then for every thread alike) rather than
/// keep a flag across the call, which would keep the export's arguments in memory.
static WATCHED: AtomicBool = AtomicBool::new(true);

#[inline(always)]
fn watched() -> bool {
    WATCHED.load(Relaxed)
}

#[cold]
#[inline(never)]
fn call_begin() {
    if !sanitize::call_begin() {
        WATCHED.store(false, Relaxed);
    }
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
