//! Cond exports (`gr_cond_*`) over `gr_core::sync::Cond`.

use crate::boundary::*;
use crate::cancel::{cancel_opt, gr_cancel};
use crate::handle::{impl_handle, Handle};
use crate::sync::gr_mutex;
use gr_core::sched::current_gen;
use gr_core::sync::Cond;
use gr_core::Deadline;
use std::ffi::c_int;

/// Go's `sync.Cond`: goroutines and threads wait for a signal with a `gr_mutex` held (the
/// one given at creation, Go's `Cond.L`), which the wait releases and takes back.
pub struct gr_cond {
    _private: [u8; 0],
}

/// What a `gr_cond` handle points to: the condition and its mutex's handle.
pub(crate) struct CondSlot {
    cond: Cond,
    mu: usize,
}

impl_handle!(gr_cond => CondSlot);

/// Creates a condition variable bound to `mu` (Go's `sync.NewCond(&mu)`), which must
/// outlive it.
#[no_mangle]
pub unsafe extern "C" fn gr_cond_new(mu: *mut gr_mutex, out: *mut *mut gr_cond) -> c_int {
    guard(|| {
        nonnull(out)?;
        // SAFETY: `mu` is NULL or a gr_mutex (gr.h).
        unsafe { gr_mutex::get(mu) }?; // (of the live runtime: the cond is of it too)
        let gen = current_gen()?;
        gr_core::waiter::register_thread();
        // SAFETY: `out` is non-NULL, hence writable (gr.h).
        unsafe { out.write(gr_cond::alloc(CondSlot { cond: Cond::new(), mu: mu as usize }, gen)) };
        Ok(())
    })
}

/// Go's `c.Wait()`: with the cond's mutex held, unlocks it, waits up to `timeout_ns` for
/// `gr_cond_signal`/`gr_cond_broadcast`, and locks the mutex again before returning, also
/// on `GR_ETIMEDOUT` (pthread's rule: the timeout bounds the wait for a signal; taking the
/// mutex back then waits as long as it takes). `GR_ESTATE` if the mutex is not locked;
/// `GR_EAGAIN` for `timeout_ns == 0` (a signal cannot have come; the mutex stays locked).
/// No signal is lost between the unlock and the wait. As in Go, wake-ups say "look again":
/// re-check the condition in a loop.
#[no_mangle]
pub unsafe extern "C" fn gr_cond_wait(c: *mut gr_cond, timeout_ns: i64) -> c_int {
    // SAFETY: the same arguments, and no cancel token.
    unsafe { gr_cond_wait_ex(c, timeout_ns, std::ptr::null_mut()) }
}

/// `gr_cond_wait` that also ends with `GR_ECANCELED` (the mutex locked again) when `cancel`
/// (may be NULL) fires.
#[no_mangle]
pub unsafe extern "C" fn gr_cond_wait_ex(c: *mut gr_cond, timeout_ns: i64, cancel: *mut gr_cancel) -> c_int {
    guard(|| {
        // SAFETY: handle arguments are NULL or handles of their type (gr.h); the cond's
        // mutex handle was one at creation and must still be (gr.h: it outlives the cond).
        let (s, cx) = unsafe { (gr_cond::get(c)?, cancel_opt(cancel)?) };
        // SAFETY: as above.
        let mu = unsafe { gr_mutex::get(s.mu as *const gr_mutex) }?;
        s.cond.wait(mu, Deadline::from_timeout_ns(timeout_ns), cx)
    })
}

/// Go's `c.Signal()`: wakes the longest-waiting waiter, if any (a signal is not remembered).
/// Holding the mutex is allowed, not required.
#[no_mangle]
pub unsafe extern "C" fn gr_cond_signal(c: *mut gr_cond) -> c_int {
    guard(|| {
        // SAFETY: `c` is NULL or a gr_cond (gr.h).
        unsafe { gr_cond::get(c) }?.cond.signal();
        Ok(())
    })
}

/// Go's `c.Broadcast()`: wakes every waiter.
#[no_mangle]
pub unsafe extern "C" fn gr_cond_broadcast(c: *mut gr_cond) -> c_int {
    guard(|| {
        // SAFETY: `c` is NULL or a gr_cond (gr.h).
        unsafe { gr_cond::get(c) }?.cond.broadcast();
        Ok(())
    })
}

/// Frees a condition variable (once; NULL is ignored); not its mutex. Nobody may wait on
/// it; freeing right after a signalled wait returned is safe.
#[no_mangle]
pub unsafe extern "C" fn gr_cond_free(c: *mut gr_cond) {
    // SAFETY: `c` is NULL or a gr_cond, and this is its last use (gr.h).
    unsafe { gr_cond::release(c) }
}
