//! The status table: `gr_status` (the codes every export returns), the one mapping from the
//! core's `Error` to it, and `gr_strerror`'s texts.
//!
//! Adding a code: a variant of `gr_core::Error` (core/src/error.rs), its `gr_status` below
//! (value and header doc), its arm in `From<Error>` and in `message`, and its place in
//! `ALL`. The compiler points at the two matches; `tests/status.rs` checks `ALL` and the
//! texts against a fresh `include/gr.h`, and the bindings' drift tests
//! (`bindings/python/tests/test_abi.py`, Java's) fail until they declare the new code.

use gr_core::Error;
use std::ffi::{c_char, c_int, CStr, CString};

/// Status codes returned by every gr call: 0 on success, a negative `GR_E*` on failure.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum gr_status {
    /// Success.
    GR_OK = 0,
    /// Channel closed: send on a closed channel; receive on a closed AND drained one. For the
    /// `gr_fd_*` calls: the descriptor was closed (`gr_fd_close`, `gr_fd_forget`) under the
    /// call, or before it by a close still in progress.
    GR_ECLOSED = -1,
    /// `timeout_ns` passed first.
    GR_ETIMEDOUT = -2,
    /// `timeout_ns == 0` and the operation would block.
    GR_EAGAIN = -3,
    /// Bad argument: NULL or released handle, zero size, wrong struct size, ...
    GR_EINVAL = -4,
    /// Out of memory or of memory mappings (see `vm.max_map_count`).
    GR_ENOMEM = -5,
    /// Wrong state: already initialised, shut down (or shutting down: no spawn), in a fork()ed
    /// child, a handle of a runtime that is no longer live, not in a goroutine.
    GR_ESTATE = -6,
    /// The goroutine or the runtime failed (panic, exception, `gr_goroutine_fail`).
    GR_EPANIC = -7,
    /// The wait's `gr_cancel` token fired, or an asynchronous operation was withdrawn
    /// (`gr_async_cancel`).
    GR_ECANCELED = -8,
    /// The descriptor cannot be waited on: epoll refuses it (a regular file, a directory).
    /// Such descriptors are always ready: read or write them directly (`gr_fd_read` and
    /// `gr_fd_write` do, inside a blocking section).
    GR_ENOTPOLL = -9,
    /// An operating-system call failed. A status `s < GR_EOS` carries the call's errno,
    /// `GR_EOS - s` (see `gr_os_errno`): `GR_EOS - ECONNRESET` for a reset connection.
    /// Unlike `errno`, a status survives the goroutine moving to another thread.
    GR_EOS = -1000,
}

use gr_status::*;

/// Every code, for `gr_strerror`'s lookup.
const ALL: [gr_status; 11] =
    [GR_OK, GR_ECLOSED, GR_ETIMEDOUT, GR_EAGAIN, GR_EINVAL, GR_ENOMEM, GR_ESTATE, GR_EPANIC, GR_ECANCELED, GR_ENOTPOLL, GR_EOS];

/// Largest errno a status carries (Linux's are below 4096).
const MAX_ERRNO: c_int = 4095;

impl gr_status {

    /// The code as the exports return it.
    #[inline]
    pub const fn code(self) -> c_int {
        self as c_int
    }

    /// The status of a returned code, if it is one (the codes below `GR_EOS` are OS errors,
    /// see [`gr_status::errno_of`]).
    pub fn from_code(code: c_int) -> Option<gr_status> {
        ALL.into_iter().find(|s| s.code() == code)
    }

    /// The code that carries OS error `errno`: `GR_EOS - errno` (`GR_EOS` itself for a value
    /// out of range).
    pub const fn os_code(errno: c_int) -> c_int {
        if errno >= 1 && errno <= MAX_ERRNO {
            GR_EOS.code() - errno
        } else {
            GR_EOS.code()
        }
    }

    /// The errno a code carries (`GR_EOS - code`), or 0.
    pub const fn errno_of(code: c_int) -> c_int {
        if code < GR_EOS.code() && code >= GR_EOS.code() - MAX_ERRNO {
            GR_EOS.code() - code
        } else {
            0
        }
    }

    /// What `gr_strerror` says about it.
    pub fn message(self) -> &'static CStr {
        match self {
            GR_OK => c"success",
            GR_ECLOSED => {
                c"closed: a send on a closed channel or a receive on a closed and drained one; or a descriptor closed under the call (gr_fd_close, gr_fd_forget)"
            }
            GR_ETIMEDOUT => c"timed out: timeout_ns passed before the operation could complete",
            GR_EAGAIN => c"would block: timeout_ns was 0 and the operation was not ready",
            GR_EINVAL => c"invalid argument: NULL or released handle, zero or wrong size, or a value out of range",
            GR_ENOMEM => {
                c"out of memory or of memory mappings: free memory, lower gr_config.stack_size, or raise the sysctl vm.max_map_count"
            }
            GR_ESTATE => {
                c"wrong state: runtime already initialised, shut down or shutting down, or this is a fork()ed child whose runtime threads did not survive fork (call gr_init again); or a handle made by a runtime that was shut down, or before fork(); or the call needs a goroutine"
            }
            GR_EPANIC => c"the goroutine or the runtime failed (a panic, an exception, or gr_goroutine_fail)",
            GR_ECANCELED => c"cancelled: the wait's gr_cancel token fired, or the operation was withdrawn (gr_async_cancel)",
            GR_ENOTPOLL => {
                c"the descriptor cannot be waited on: epoll refuses it (a regular file or directory, always ready): read or write it directly"
            }
            GR_EOS => c"an operating-system call failed (errno unknown)",
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
            Error::NotPollable => GR_ENOTPOLL,
            Error::Os(_) => GR_EOS,
        }
    }
}

/// The code an export returns for `e`: its status, and for an OS error the status that
/// carries its errno (`GR_EOS - errno`).
#[inline]
pub fn code_of(e: Error) -> c_int {
    match e {
        Error::Os(errno) => gr_status::os_code(errno),
        e => gr_status::from(e).code(),
    }
}

/// Explains a status code. Never NULL; the string is static.
#[no_mangle]
pub extern "C" fn gr_strerror(status: c_int) -> *const c_char {
    match gr_status::from_code(status) {
        Some(s) => s.message().as_ptr(),
        None if gr_status::errno_of(status) != 0 => os_message(gr_status::errno_of(status)).as_ptr(),
        None => c"unknown gr status code".as_ptr(),
    }
}

/// The errno a status carries (`status < GR_EOS`: `GR_EOS - status`), else 0. For the
/// `gr_fd_*` calls, which report a failed system call this way instead of through `errno`
/// (a goroutine that waited may return on another thread, whose `errno` is another's).
#[no_mangle]
pub extern "C" fn gr_os_errno(status: c_int) -> c_int {
    gr_status::errno_of(status)
}

/// "operating-system error: <strerror text> (errno N; ...)" for each errno met, made once and
/// kept for the life of the process, so that `gr_strerror` still returns static strings.
fn os_message(errno: c_int) -> &'static CStr {
    static MSGS: std::sync::Mutex<Vec<(c_int, &'static CStr)>> = std::sync::Mutex::new(Vec::new());
    let mut m = MSGS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(&(_, s)) = m.iter().find(|(k, _)| *k == errno) {
        return s;
    }
    let text = std::io::Error::from_raw_os_error(errno).to_string();
    // io::Error's text ends with " (os error N)"; keep the message part.
    let text = text.rsplit_once(" (os error").map_or(text.as_str(), |(t, _)| t).to_owned();
    let msg = format!("operating-system error: {text} (errno {errno}; gr_os_errno gives it back)");
    let s: &'static CStr = Box::leak(CString::new(msg).unwrap_or_else(|_| c"operating-system error".to_owned()).into_boxed_c_str());
    m.push((errno, s));
    s
}
