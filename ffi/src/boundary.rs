//! The one boundary every export goes through: catch panics, map errors, write outputs only
//! on success.

use gr_core::Error;

/// `gr_status` codes (see `include/gr.h`).
pub const GR_OK: i32 = 0;
pub const GR_ECLOSED: i32 = -1;
pub const GR_ETIMEDOUT: i32 = -2;
pub const GR_EAGAIN: i32 = -3;
pub const GR_EINVAL: i32 = -4;
pub const GR_ENOMEM: i32 = -5;
pub const GR_ESTATE: i32 = -6;
pub const GR_EPANIC: i32 = -7;
pub const GR_ECANCELED: i32 = -8;

pub fn code(e: Error) -> i32 {
    match e {
        Error::Closed => GR_ECLOSED,
        Error::TimedOut => GR_ETIMEDOUT,
        Error::Again => GR_EAGAIN,
        Error::Invalid => GR_EINVAL,
        Error::NoMemory => GR_ENOMEM,
        Error::State => GR_ESTATE,
        Error::Panic => GR_EPANIC,
        Error::Cancelled => GR_ECANCELED,
    }
}

/// Runs `f`, turning a panic into `GR_EPANIC` and an error into its code.
#[inline]
pub fn guard(f: impl FnOnce() -> Result<(), Error>) -> std::ffi::c_int {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(())) => GR_OK,
        Ok(Err(e)) => code(e),
        Err(_) => GR_EPANIC,
    }
}

/// Like [`guard`] for exports that return a value instead of a status.
pub fn guard_value<T>(fallback: T, f: impl FnOnce() -> T) -> T {
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
        out.write(v);
    }
}
