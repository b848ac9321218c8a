//! Weighted semaphore exports (`gr_sem_*`) over `gr_core::sync::Semaphore`.

use crate::boundary::*;
use crate::cancel::{cancel_opt, gr_cancel};
use crate::handle::{impl_handle, Handle};
use gr_core::sched::current_gen;
use gr_core::sync::Semaphore;
use gr_core::{Deadline, Error};
use std::ffi::c_int;

/// A weighted semaphore (`golang.org/x/sync/semaphore`'s `Weighted`): `size` units;
/// acquirers take `n` at a time, first come first served (a large acquire is not overtaken
/// by smaller ones behind it).
pub struct gr_sem {
    _private: [u8; 0],
}

impl_handle!(gr_sem => Semaphore);

/// Creates a semaphore of `size` units (>= 0), all free.
#[no_mangle]
pub unsafe extern "C" fn gr_sem_new(size: i64, out: *mut *mut gr_sem) -> c_int {
    guard(|| {
        nonnull(out)?;
        if size < 0 {
            return Err(Error::Invalid);
        }
        let gen = current_gen()?;
        gr_core::waiter::register_thread();
        // SAFETY: `out` is non-NULL, hence writable (gr.h).
        unsafe { out.write(gr_sem::alloc(Semaphore::new(size as u64), gen)) };
        Ok(())
    })
}

/// Acquires `n` units (0 <= n <= size, else `GR_EINVAL`: more could never be had), waiting
/// up to `timeout_ns` behind earlier acquirers (0: x/sync's `TryAcquire`, `GR_EAGAIN` if it
/// would wait). A timed-out acquire holds nothing.
#[no_mangle]
pub unsafe extern "C" fn gr_sem_acquire(s: *mut gr_sem, n: i64, timeout_ns: i64) -> c_int {
    // SAFETY: the same arguments, and no cancel token.
    unsafe { gr_sem_acquire_ex(s, n, timeout_ns, std::ptr::null_mut()) }
}

/// `gr_sem_acquire` that also ends with `GR_ECANCELED` when `cancel` (may be NULL) fires.
#[no_mangle]
pub unsafe extern "C" fn gr_sem_acquire_ex(s: *mut gr_sem, n: i64, timeout_ns: i64, cancel: *mut gr_cancel) -> c_int {
    guard(|| {
        // SAFETY: handle arguments are NULL or handles of their type (gr.h).
        let (sem, c) = unsafe { (gr_sem::get(s)?, cancel_opt(cancel)?) };
        if n < 0 {
            return Err(Error::Invalid);
        }
        sem.acquire(n as u64, Deadline::from_timeout_ns(timeout_ns), c)
    })
}

/// Releases `n` units (by anyone), granting waiting acquirers that now fit. `GR_ESTATE` if
/// fewer than `n` are held (nothing is released), `GR_EINVAL` for `n < 0`.
#[no_mangle]
pub unsafe extern "C" fn gr_sem_release(s: *mut gr_sem, n: i64) -> c_int {
    guard(|| {
        // SAFETY: `s` is NULL or a gr_sem (gr.h).
        let sem = unsafe { gr_sem::get(s) }?;
        if n < 0 {
            return Err(Error::Invalid);
        }
        sem.release(n as u64)
    })
}

/// Frees a semaphore (once; NULL is ignored). Nobody may wait on it; freeing right after a
/// granted acquire returned is safe.
#[no_mangle]
pub unsafe extern "C" fn gr_sem_free(s: *mut gr_sem) {
    // SAFETY: `s` is NULL or a gr_sem, and this is its last use (gr.h).
    unsafe { gr_sem::release(s) }
}
