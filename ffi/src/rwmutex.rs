//! RWMutex exports (`gr_rwmutex_*`) over `gr_core::sync::RWMutex`.

use crate::boundary::*;
use crate::cancel::{cancel_opt, gr_cancel};
use crate::handle::{impl_handle, Handle};
use gr_core::sched::current_gen;
use gr_core::sync::RWMutex;
use gr_core::Deadline;
use std::ffi::c_int;

/// Go's `sync.RWMutex`: any number of readers or one writer. Writer preference as Go's: once
/// a writer waits, new readers wait behind it; when it unlocks, the readers that queued meanwhile
/// go before the next writer. Not reentrant, not owned: any goroutine or thread may unlock.
pub struct gr_rwmutex {
    _private: [u8; 0],
}

impl_handle!(gr_rwmutex => RWMutex);

/// Creates an unlocked RWMutex. Its readers are counted on one 128-byte cache line per
/// processor of the runtime (rounded up to a power of two, at most 8 lines, shared beyond),
/// so that read locks on different processors do not contend: about 650 bytes in all with
/// 2 workers, 1.4 KiB with 8 or more (allocator overhead included). Prefer one RWMutex per
/// shared structure over one per small item.
#[no_mangle]
pub unsafe extern "C" fn gr_rwmutex_new(out: *mut *mut gr_rwmutex) -> c_int {
    guard(|| {
        nonnull(out)?;
        let gen = current_gen()?;
        gr_core::waiter::register_thread();
        // SAFETY: `out` is non-NULL, hence writable (gr.h).
        unsafe { out.write(gr_rwmutex::alloc(RWMutex::new(), gen)) };
        Ok(())
    })
}

/// Takes the write lock, waiting up to `timeout_ns` (0: try-lock, `GR_EAGAIN` if held).
/// A writer that times out leaves no trace: readers it held back go on.
#[no_mangle]
pub unsafe extern "C" fn gr_rwmutex_lock(mu: *mut gr_rwmutex, timeout_ns: i64) -> c_int {
    // SAFETY: the same arguments, and no cancel token.
    unsafe { gr_rwmutex_lock_ex(mu, timeout_ns, std::ptr::null_mut()) }
}

/// `gr_rwmutex_lock` that also ends with `GR_ECANCELED` when `cancel` (may be NULL) fires.
#[no_mangle]
pub unsafe extern "C" fn gr_rwmutex_lock_ex(mu: *mut gr_rwmutex, timeout_ns: i64, cancel: *mut gr_cancel) -> c_int {
    guard(|| {
        // SAFETY: handle arguments are NULL or handles of their type (gr.h).
        let (m, c) = unsafe { (gr_rwmutex::get(mu)?, cancel_opt(cancel)?) };
        m.lock(Deadline::from_timeout_ns(timeout_ns), c)
    })
}

/// Releases the write lock. `GR_ESTATE` if it is not write-locked.
#[no_mangle]
pub unsafe extern "C" fn gr_rwmutex_unlock(mu: *mut gr_rwmutex) -> c_int {
    guard(|| {
        // SAFETY: `mu` is NULL or a gr_rwmutex (gr.h).
        let m = unsafe { gr_rwmutex::get(mu) }?;
        m.unlock()
    })
}

/// Takes a read lock, waiting up to `timeout_ns` (0: try, `GR_EAGAIN` if a writer holds or
/// waits).
#[no_mangle]
pub unsafe extern "C" fn gr_rwmutex_rlock(mu: *mut gr_rwmutex, timeout_ns: i64) -> c_int {
    // SAFETY: the same arguments, and no cancel token.
    unsafe { gr_rwmutex_rlock_ex(mu, timeout_ns, std::ptr::null_mut()) }
}

/// `gr_rwmutex_rlock` that also ends with `GR_ECANCELED` when `cancel` (may be NULL) fires.
#[no_mangle]
pub unsafe extern "C" fn gr_rwmutex_rlock_ex(mu: *mut gr_rwmutex, timeout_ns: i64, cancel: *mut gr_cancel) -> c_int {
    guard(|| {
        // SAFETY: handle arguments are NULL or handles of their type (gr.h).
        let (m, c) = unsafe { (gr_rwmutex::get(mu)?, cancel_opt(cancel)?) };
        m.rlock(Deadline::from_timeout_ns(timeout_ns), c)
    })
}

/// Releases a read lock. `GR_ESTATE` if it is not read-locked (detected on a best-effort
/// basis, as Go's fatal error).
#[no_mangle]
pub unsafe extern "C" fn gr_rwmutex_runlock(mu: *mut gr_rwmutex) -> c_int {
    guard(|| {
        // SAFETY: `mu` is NULL or a gr_rwmutex (gr.h).
        let m = unsafe { gr_rwmutex::get(mu) }?;
        m.runlock()
    })
}

/// Frees an RWMutex (once; NULL is ignored). Nobody may hold or wait for it; freeing right
/// after the last unlock or a successful lock returned is safe.
#[no_mangle]
pub unsafe extern "C" fn gr_rwmutex_free(mu: *mut gr_rwmutex) {
    // SAFETY: `mu` is NULL or a gr_rwmutex, and this is its last use (gr.h).
    unsafe { gr_rwmutex::release(mu) }
}
