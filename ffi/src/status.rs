//! The status table: `gr_status` (the codes every export returns), the one mapping from the
//! core's `Error` to it, and `gr_strerror`'s texts.
//!
//! Adding a code: a variant of `gr_core::Error` (core/src/error.rs), its `gr_status` below
//! (value and header doc), its arm in `From<Error>` and in `message`, and its place in
//! `ALL`. The compiler points at the two matches; `tests/status.rs` checks `ALL` and the
//! texts against a fresh `include/gr.h`, and the bindings' drift tests
//! (`bindings/python/tests/test_abi.py`, Java's) fail until they declare the new code.

use gr_core::Error;
use std::ffi::{c_char, c_int, CStr};

/// Status codes returned by every gr call: 0 on success, a negative `GR_E*` on failure.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum gr_status {
    /// Success.
    GR_OK = 0,
    /// Channel closed: send on a closed channel; receive on a closed AND drained one.
    GR_ECLOSED = -1,
    /// `timeout_ns` passed first.
    GR_ETIMEDOUT = -2,
    /// `timeout_ns == 0` and the operation would block.
    GR_EAGAIN = -3,
    /// Bad argument: NULL or released handle, zero size, wrong struct size, ...
    GR_EINVAL = -4,
    /// Out of memory or of memory mappings (see `vm.max_map_count`).
    GR_ENOMEM = -5,
    /// Wrong state: already initialised, shut down, in a fork()ed child, not in a goroutine.
    GR_ESTATE = -6,
    /// The goroutine or the runtime failed (panic, exception, `gr_goroutine_fail`).
    GR_EPANIC = -7,
    /// The wait's `gr_cancel` token fired.
    GR_ECANCELED = -8,
}

use gr_status::*;

/// Every code, for `gr_strerror`'s lookup.
const ALL: [gr_status; 9] = [GR_OK, GR_ECLOSED, GR_ETIMEDOUT, GR_EAGAIN, GR_EINVAL, GR_ENOMEM, GR_ESTATE, GR_EPANIC, GR_ECANCELED];

impl gr_status {

    /// The code as the exports return it.
    #[inline]
    pub const fn code(self) -> c_int {
        self as c_int
    }

    /// The status of a returned code, if it is one.
    pub fn from_code(code: c_int) -> Option<gr_status> {
        ALL.into_iter().find(|s| s.code() == code)
    }

    /// What `gr_strerror` says about it.
    pub fn message(self) -> &'static CStr {
        match self {
            GR_OK => c"success",
            GR_ECLOSED => c"channel closed (send on a closed channel, or receive on a closed and drained one)",
            GR_ETIMEDOUT => c"timed out: timeout_ns passed before the operation could complete",
            GR_EAGAIN => c"would block: timeout_ns was 0 and the operation was not ready",
            GR_EINVAL => c"invalid argument: NULL or released handle, zero or wrong size, or a value out of range",
            GR_ENOMEM => {
                c"out of memory or of memory mappings: free memory, lower gr_config.stack_size, or raise the sysctl vm.max_map_count"
            }
            GR_ESTATE => {
                c"wrong state: runtime already initialised, shut down, or this is a fork()ed child whose runtime threads did not survive fork (call gr_init again); or the call needs a goroutine"
            }
            GR_EPANIC => c"the goroutine or the runtime failed (a panic, an exception, or gr_goroutine_fail)",
            GR_ECANCELED => c"cancelled: the wait's gr_cancel token fired",
        }
    }
}

/// The core's errors, one to one.
impl From<Error> for gr_status {
    fn from(e: Error) -> gr_status {
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
}

/// Explains a status code. Never NULL; the string is static.
#[no_mangle]
pub extern "C" fn gr_strerror(status: c_int) -> *const c_char {
    gr_status::from_code(status).map_or(c"unknown gr status code", gr_status::message).as_ptr()
}
