//! Once exports (`gr_once_*`) over `gr_core::sync::Once`.

use crate::boundary::*;
use crate::cancel::{cancel_opt, gr_cancel};
use crate::handle::{impl_handle, Handle};
use crate::status::gr_status::GR_EINVAL;
use gr_core::sched::current_gen;
use gr_core::sync::{Once, OnceState};
use gr_core::{Deadline, Error};
use std::ffi::{c_int, c_void};

/// Go's `sync.Once` for a function that can fail: `gr_once_do` runs the function exactly
/// once; callers that come while it runs wait for it; every caller gets its outcome. The
/// failure rule: a function that returns nonzero has failed, for good: it is not run again,
/// and every `gr_once_do` (the one that ran it, the ones waiting, all later ones) returns
/// `GR_EPANIC`; `gr_once_state` gives the function's code (Go's `sync.OnceValue`, which
/// re-panics the first panic to every caller).
pub struct gr_once {
    _private: [u8; 0],
}

/// The function of a `gr_once`: returns 0 for success, any other value for failure.
pub type gr_once_fn = Option<unsafe extern "C" fn(arg: *mut c_void) -> c_int>;

/// `gr_once_state`: no call has run the function yet.
pub const GR_ONCE_NEW: c_int = 0;
/// `gr_once_state`: a call is running the function now.
pub const GR_ONCE_RUNNING: c_int = 1;
/// `gr_once_state`: the function ran and returned 0.
pub const GR_ONCE_DONE: c_int = 2;
/// `gr_once_state`: the function ran and returned nonzero (its code: `gr_once_state`).
pub const GR_ONCE_FAILED: c_int = 3;

impl_handle!(gr_once => Once);

/// Creates a Once whose function has not run.
#[no_mangle]
pub unsafe extern "C" fn gr_once_new(out: *mut *mut gr_once) -> c_int {
    guard(|| {
        nonnull(out)?;
        let gen = current_gen()?;
        gr_core::waiter::register_thread();
        // SAFETY: `out` is non-NULL, hence writable (gr.h).
        unsafe { out.write(gr_once::alloc(Once::new(), gen)) };
        Ok(())
    })
}

/// Runs `fn(arg)` if no call has run it yet, in the calling goroutine or thread; else waits
/// up to `timeout_ns` for the call that runs it (0: `GR_EAGAIN` if it is running). Returns
/// `GR_OK` if the function succeeded (in this call or an earlier one), `GR_EPANIC` if it
/// failed (see `gr_once`), `GR_ESTATE` if called from inside the function on the same Once
/// (it would wait for itself), `GR_ETIMEDOUT`/`GR_EAGAIN` if the wait ended first. Only
/// the first call's `fn` and `arg` are used. The running call is not bounded by
/// `timeout_ns`: the function runs to its end.
#[no_mangle]
pub unsafe extern "C" fn gr_once_do(o: *mut gr_once, f: gr_once_fn, arg: *mut c_void, timeout_ns: i64) -> c_int {
    // SAFETY: the same arguments, and no cancel token.
    unsafe { gr_once_do_ex(o, f, arg, timeout_ns, std::ptr::null_mut()) }
}

/// `gr_once_do` whose wait also ends with `GR_ECANCELED` when `cancel` (may be NULL) fires.
#[no_mangle]
pub unsafe extern "C" fn gr_once_do_ex(o: *mut gr_once, f: gr_once_fn, arg: *mut c_void, timeout_ns: i64, cancel: *mut gr_cancel) -> c_int {
    guard(|| {
        // SAFETY: handle arguments are NULL or handles of their type (gr.h).
        let (once, c) = unsafe { (gr_once::get(o)?, cancel_opt(cancel)?) };
        let f = f.ok_or(Error::Invalid)?;
        // SAFETY: the caller's function and argument (gr.h): called at most once, here.
        once.call(|| unsafe { f(arg) }, Deadline::from_timeout_ns(timeout_ns), c)
    })
}

/// Where the Once is: `GR_ONCE_NEW`, `GR_ONCE_RUNNING`, `GR_ONCE_DONE` or `GR_ONCE_FAILED`
/// (then `*code`, if `code` is not NULL, gets the function's nonzero return; else 0).
/// `GR_EINVAL` for a bad handle, `GR_ESTATE` for one of a runtime no longer live. Never
/// blocks.
#[no_mangle]
pub unsafe extern "C" fn gr_once_state(o: *mut gr_once, code: *mut c_int) -> c_int {
    guard_value(GR_EINVAL.code(), || {
        // SAFETY: `o` is NULL or a gr_once (gr.h).
        let once = match unsafe { gr_once::get(o) } {
            Ok(once) => once,
            Err(e) => return crate::boundary::code(e),
        };
        let st = once.state();
        // SAFETY: `code` is NULL or writable (gr.h).
        unsafe { write_out(code, if st == OnceState::Failed { once.code() } else { 0 }) };
        match st {
            OnceState::New => GR_ONCE_NEW,
            OnceState::Running => GR_ONCE_RUNNING,
            OnceState::Done => GR_ONCE_DONE,
            OnceState::Failed => GR_ONCE_FAILED,
        }
    })
}

/// Frees a Once (once; NULL is ignored). No call may still use it; freeing right after a
/// `gr_once_do` returned is safe.
#[no_mangle]
pub unsafe extern "C" fn gr_once_free(o: *mut gr_once) {
    // SAFETY: `o` is NULL or a gr_once, and this is its last use (gr.h).
    unsafe { gr_once::release(o) }
}
