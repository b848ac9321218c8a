//! WaitGroup and Mutex exports (`gr_wg_*`, `gr_mutex_*`) over `gr_core::sync`.

use crate::boundary::*;
use crate::chan::live;
use crate::runtime::{cancel_arg, gr_cancel};
use crate::stable::{Pool, Slot};
use gr_core::sync::{Mutex, WaitGroup};
use gr_core::{Deadline, Error};
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

static WGS: Pool<WaitGroup> = Pool::new();
static MUTEXES: Pool<Mutex> = Pool::new();

/// # Safety
/// `p` must be NULL or a handle from `gr_wg_new`.
unsafe fn wg_ref<'a>(p: *const gr_wg) -> Result<&'a WaitGroup, Error> {
    Pool::get(p as *const Slot<WaitGroup>).ok_or(Error::Invalid)
}

/// # Safety
/// `p` must be NULL or a handle from `gr_mutex_new`.
unsafe fn mutex<'a>(p: *const gr_mutex) -> Result<&'a Mutex, Error> {
    Pool::get(p as *const Slot<Mutex>).ok_or(Error::Invalid)
}

/// Creates a WaitGroup with counter 0.
#[no_mangle]
pub unsafe extern "C" fn gr_wg_new(out: *mut *mut gr_wg) -> c_int {
    guard(|| {
        nonnull(out)?;
        live()?;
        out.write(WGS.alloc(WaitGroup::new()) as *mut gr_wg);
        Ok(())
    })
}

/// Adds `delta` (may be negative) to the counter; reaching zero releases every waiter.
/// `GR_EINVAL` (and no change) if the counter would go below zero.
#[no_mangle]
pub unsafe extern "C" fn gr_wg_add(wg: *mut gr_wg, delta: i64) -> c_int {
    guard(|| {
        let w = wg_ref(wg)?;
        live()?;
        w.add(delta)
    })
}

/// `gr_wg_add(wg, -1)`.
#[no_mangle]
pub unsafe extern "C" fn gr_wg_done(wg: *mut gr_wg) -> c_int {
    guard(|| {
        let w = wg_ref(wg)?;
        live()?;
        w.done()
    })
}

/// Waits up to `timeout_ns` for the counter to be zero.
#[no_mangle]
pub unsafe extern "C" fn gr_wg_wait(wg: *mut gr_wg, timeout_ns: i64) -> c_int {
    gr_wg_wait_ex(wg, timeout_ns, std::ptr::null_mut())
}

/// `gr_wg_wait` that also ends with `GR_ECANCELED` when `cancel` (may be NULL) fires.
#[no_mangle]
pub unsafe extern "C" fn gr_wg_wait_ex(wg: *mut gr_wg, timeout_ns: i64, cancel: *mut gr_cancel) -> c_int {
    guard(|| {
        let w = wg_ref(wg)?;
        live()?;
        w.wait(Deadline::from_timeout_ns(timeout_ns), cancel_arg(cancel)?)
    })
}

/// Frees a WaitGroup (once; NULL is ignored). Nobody may still wait on it.
#[no_mangle]
pub unsafe extern "C" fn gr_wg_free(wg: *mut gr_wg) {
    let _ = guard(|| {
        drop(WGS.free(wg as *mut Slot<WaitGroup>));
        Ok(())
    });
}

/// Creates an unlocked mutex.
#[no_mangle]
pub unsafe extern "C" fn gr_mutex_new(out: *mut *mut gr_mutex) -> c_int {
    guard(|| {
        nonnull(out)?;
        live()?;
        out.write(MUTEXES.alloc(Mutex::new()) as *mut gr_mutex);
        Ok(())
    })
}

/// Locks, waiting up to `timeout_ns` (0: try-lock, `GR_EAGAIN` if held). Not reentrant: a
/// second lock by the holder waits (for its timeout).
#[no_mangle]
pub unsafe extern "C" fn gr_mutex_lock(mu: *mut gr_mutex, timeout_ns: i64) -> c_int {
    gr_mutex_lock_ex(mu, timeout_ns, std::ptr::null_mut())
}

/// `gr_mutex_lock` that also ends with `GR_ECANCELED` when `cancel` (may be NULL) fires.
#[no_mangle]
pub unsafe extern "C" fn gr_mutex_lock_ex(mu: *mut gr_mutex, timeout_ns: i64, cancel: *mut gr_cancel) -> c_int {
    guard(|| {
        let m = mutex(mu)?;
        live()?;
        m.lock(Deadline::from_timeout_ns(timeout_ns), cancel_arg(cancel)?)
    })
}

/// Unlocks (any goroutine or thread may). `GR_ESTATE` if it is not locked.
#[no_mangle]
pub unsafe extern "C" fn gr_mutex_unlock(mu: *mut gr_mutex) -> c_int {
    guard(|| {
        let m = mutex(mu)?;
        live()?;
        m.unlock()
    })
}

/// Frees a mutex (once; NULL is ignored). Nobody may still wait on it.
#[no_mangle]
pub unsafe extern "C" fn gr_mutex_free(mu: *mut gr_mutex) {
    let _ = guard(|| {
        drop(MUTEXES.free(mu as *mut Slot<Mutex>));
        Ok(())
    });
}
