//! WaitGroup and Mutex exports (`gr_wg_*`, `gr_mutex_*`) over `gr_core::sync`.

use crate::boundary::*;
use crate::cancel::{cancel_opt, gr_cancel};
use crate::handle::{impl_handle, Handle};
use gr_core::sched::current_gen;
use gr_core::sync::{Mutex, WaitGroup};
use gr_core::Deadline;
use std::ffi::c_int;

/// Go's `sync.WaitGroup`: a counter that `gr_wg_wait` waits to see at zero.
pub struct gr_wg {
    _private: [u8; 0],
}

/// Go's `sync.Mutex`: not reentrant, may be unlocked by any goroutine or thread; fair under
/// contention (a waiter blocked over 1 ms gets the lock handed to it directly).
pub struct gr_mutex {
    _private: [u8; 0],
}

impl_handle!(gr_wg => WaitGroup);
impl_handle!(gr_mutex => Mutex);

/// Creates a WaitGroup with counter 0.
#[no_mangle]
pub unsafe extern "C" fn gr_wg_new(out: *mut *mut gr_wg) -> c_int {
    guard(move || {
        nonnull(out)?;
        let gen = current_gen()?;
        gr_core::waiter::register_thread();
        // SAFETY: `out` is non-NULL, hence writable (gr.h).
        unsafe { out.write(gr_wg::alloc(WaitGroup::new(), gen)) };
        Ok(())
    })
}

/// Adds `delta` (may be negative) to the counter; reaching zero releases every waiter.
/// `GR_EINVAL` (and no change) if the counter would go below zero or above 2^62 - 1.
#[no_mangle]
pub unsafe extern "C" fn gr_wg_add(wg: *mut gr_wg, delta: i64) -> c_int {
    guard(move || {
        // SAFETY: `wg` is NULL or a gr_wg (gr.h).
        let w = unsafe { gr_wg::get(wg) }?;
        w.add(delta)
    })
}

/// `gr_wg_add(wg, -1)`.
#[no_mangle]
pub unsafe extern "C" fn gr_wg_done(wg: *mut gr_wg) -> c_int {
    guard(move || {
        // SAFETY: `wg` is NULL or a gr_wg (gr.h).
        let w = unsafe { gr_wg::get(wg) }?;
        w.done()
    })
}

/// Waits up to `timeout_ns` for the counter to be zero.
#[no_mangle]
pub unsafe extern "C" fn gr_wg_wait(wg: *mut gr_wg, timeout_ns: i64) -> c_int {
    // SAFETY: the same arguments, and no cancel token.
    unsafe { gr_wg_wait_ex(wg, timeout_ns, std::ptr::null_mut()) }
}

/// `gr_wg_wait` that also ends with `GR_ECANCELED` when `cancel` (may be NULL) fires.
#[no_mangle]
pub unsafe extern "C" fn gr_wg_wait_ex(wg: *mut gr_wg, timeout_ns: i64, cancel: *mut gr_cancel) -> c_int {
    guard(move || {
        // SAFETY: `wg` is NULL or a gr_wg (gr.h).
        let w = unsafe { gr_wg::get(wg) }?;
        // SAFETY: `cancel` is NULL or a gr_cancel (gr.h).
        w.wait(Deadline::from_timeout_ns(timeout_ns), unsafe { cancel_opt(cancel) }?)
    })
}

/// Frees a WaitGroup (once; NULL is ignored). Nobody may still wait on it; freeing it as
/// soon as a `gr_wg_wait` returned `GR_OK` is safe (the `gr_wg_done` that released the wait
/// may still be returning).
#[no_mangle]
pub unsafe extern "C" fn gr_wg_free(wg: *mut gr_wg) {
    // SAFETY: `wg` is NULL or a gr_wg, and this is its last use (gr.h).
    unsafe { gr_wg::release(wg) }
}

/// Creates an unlocked mutex.
#[no_mangle]
pub unsafe extern "C" fn gr_mutex_new(out: *mut *mut gr_mutex) -> c_int {
    guard(move || {
        nonnull(out)?;
        let gen = current_gen()?;
        gr_core::waiter::register_thread();
        // SAFETY: `out` is non-NULL, hence writable (gr.h).
        unsafe { out.write(gr_mutex::alloc(Mutex::new(), gen)) };
        Ok(())
    })
}

/// Locks, waiting up to `timeout_ns` (0: try-lock, `GR_EAGAIN` if held). Not reentrant: a
/// second lock by the holder waits (for its timeout).
#[no_mangle]
pub unsafe extern "C" fn gr_mutex_lock(mu: *mut gr_mutex, timeout_ns: i64) -> c_int {
    // SAFETY: the same arguments, and no cancel token.
    unsafe { gr_mutex_lock_ex(mu, timeout_ns, std::ptr::null_mut()) }
}

/// `gr_mutex_lock` that also ends with `GR_ECANCELED` when `cancel` (may be NULL) fires.
#[no_mangle]
pub unsafe extern "C" fn gr_mutex_lock_ex(mu: *mut gr_mutex, timeout_ns: i64, cancel: *mut gr_cancel) -> c_int {
    guard(move || {
        // SAFETY: `mu` is NULL or a gr_mutex (gr.h).
        let m = unsafe { gr_mutex::get(mu) }?;
        // SAFETY: `cancel` is NULL or a gr_cancel (gr.h).
        m.lock(Deadline::from_timeout_ns(timeout_ns), unsafe { cancel_opt(cancel) }?)
    })
}

/// Unlocks (any goroutine or thread may). `GR_ESTATE` if it is not locked.
#[no_mangle]
pub unsafe extern "C" fn gr_mutex_unlock(mu: *mut gr_mutex) -> c_int {
    guard(move || {
        // SAFETY: `mu` is NULL or a gr_mutex (gr.h).
        let m = unsafe { gr_mutex::get(mu) }?;
        m.unlock()
    })
}

/// Frees a mutex (once; NULL is ignored). Nobody may still wait on it.
#[no_mangle]
pub unsafe extern "C" fn gr_mutex_free(mu: *mut gr_mutex) {
    // SAFETY: `mu` is NULL or a gr_mutex, and this is its last use (gr.h).
    unsafe { gr_mutex::release(mu) }
}
