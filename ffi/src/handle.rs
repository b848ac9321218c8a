//! C handles, one way (as rustls-ffi's `Castable`): each opaque C type names the Rust value
//! behind it and the type-stable pool its slots live in (`stable.rs`). A NULL, released or
//! double-released handle is `GR_EINVAL`, never undefined behaviour.
//!
//! | C type      | Rust value                    | released by                          |
//! |-------------|-------------------------------|--------------------------------------|
//! | `gr_chan`   | `ChanSlot` (refcount + `Chan`) | the `gr_chan_release` of the last ref |
//! | `gr_handle` | `HandleInner` (a `GRef`)      | `gr_handle_release`                  |
//! | `gr_cancel` | `CancelSlot` (`Cancel` + its `done` handles) | `gr_cancel_free` (cancels it) |
//! | `gr_wg`     | `gr_core::sync::WaitGroup`    | `gr_wg_free`                         |
//! | `gr_mutex`  | `gr_core::sync::Mutex`        | `gr_mutex_free`                      |
//! | `gr_rwmutex`| `gr_core::sync::RWMutex`      | `gr_rwmutex_free`                    |
//! | `gr_once`   | `gr_core::sync::Once`         | `gr_once_free`                       |
//! | `gr_cond`   | `CondSlot` (`Cond` + its `gr_mutex`) | `gr_cond_free`                |
//! | `gr_sem`    | `gr_core::sync::Semaphore`    | `gr_sem_free`                        |
//! | `gr_timer`, `gr_ticker` | `TimerSlot` (its channel's handle; the `gr_chan` slot owns the `Timer`) | `gr_timer_free`, `gr_ticker_free` (stop it) |
//! | `gr_group`  | `GroupSlot` (`Group` + its context's handle) | `gr_group_free` (cancels its context) |
//!
//! A `gr_chan` slot owns its channel, a timer's (`gr_after`: the last release stops it) or
//! a context's `done` channel (shared with the token).
//!
//! The contract every export states for its handle arguments (`include/gr.h`): a handle is
//! NULL or a value this library returned for that type, live or released, and a release is
//! the handle's last use (no other thread may use it meanwhile).
//!
//! A handle belongs to the runtime that was live when it was made (its generation,
//! `gr_core::sched::live_gen`): once that runtime is shut down, and in a `fork()`ed child
//! (also after the child's `gr_init`), every call with it answers `GR_ESTATE` (functions
//! that return a value return their "invalid" value), except the release functions, which
//! still free it. So no call can reach an object whose waiters are goroutines of a runtime
//! that is gone (their stacks are unmapped, `core/src/sched/README.md`, "Lifecycle"). This
//! check is also how every operation on a handle knows the runtime is live.

use crate::boundary::guard;
use crate::stable::{Pool, Slot};
use gr_core::Error;

/// An opaque C handle type (`gr_chan`, `gr_handle`, ...), implemented with [`impl_handle!`].
pub(crate) trait Handle: Sized + 'static {
    /// The Rust value a handle points to.
    type Inner: Send + Sync + 'static;

    /// The pool this type's slots live in.
    fn pool() -> &'static Pool<Self::Inner>;

    /// Stores `v`, which belongs to the runtime of generation `gen` (the live one when it
    /// was made), and returns a new, live handle to it.
    fn alloc(v: Self::Inner, gen: u64) -> *mut Self {
        Self::pool().alloc(v, gen).cast()
    }

    /// The value behind `h`: `Invalid` for NULL or a released handle, `State` for a handle
    /// of a runtime that is no longer live (module docs).
    ///
    /// # Safety
    /// `h` is NULL or a handle of this type, live or released (the module docs' contract);
    /// the value must not be released while the result is in use.
    #[inline]
    unsafe fn get<'a>(h: *const Self) -> Result<&'a Self::Inner, Error> {
        // SAFETY: the caller's contract.
        let (v, gen) = unsafe { Self::get_any(h) }?;
        if gen != gr_core::sched::live_gen() {
            return Err(Error::State);
        }
        Ok(v)
    }

    /// The value behind `h` and its generation, whatever runtime it belongs to (for the
    /// release functions): `Invalid` for NULL or a released handle.
    ///
    /// # Safety
    /// As for [`Handle::get`].
    #[inline]
    unsafe fn get_any<'a>(h: *const Self) -> Result<(&'a Self::Inner, u64), Error> {
        // SAFETY: the caller's contract is `Pool::get`'s: NULL or one of this pool's slots.
        unsafe { Pool::get(h.cast::<Slot<Self::Inner>>()) }.ok_or(Error::Invalid)
    }

    /// An optional handle argument: NULL is `None`, a released handle `Invalid`, one of a
    /// runtime no longer live `State`.
    ///
    /// # Safety
    /// As for [`Handle::get`].
    #[inline]
    unsafe fn get_opt<'a>(h: *const Self) -> Result<Option<&'a Self::Inner>, Error> {
        if h.is_null() {
            return Ok(None);
        }
        // SAFETY: the caller's contract.
        unsafe { Self::get(h) }.map(Some)
    }

    /// Releases `h` and drops its value (in its slot); `false` for NULL or a handle already
    /// released.
    ///
    /// # Safety
    /// As for [`Handle::get`]; and this is the handle's last use: no other thread uses it.
    unsafe fn free(h: *mut Self) -> bool {
        // SAFETY: the caller's contract is `Pool::free`'s.
        unsafe { Self::pool().free(h.cast::<Slot<Self::Inner>>()) }
    }

    /// The body of a `gr_*_free`/`gr_handle_release` export: releases `h` and drops its
    /// value (no runtime lock is held); NULL and released handles are ignored.
    ///
    /// # Safety
    /// As for [`Handle::free`].
    unsafe fn release(h: *mut Self) {
        let _ = guard(move || {
            // SAFETY: the caller's contract.
            unsafe { Self::free(h) };
            Ok(())
        });
    }
}

/// Implements [`Handle`] for an opaque C type (declared beside it, in plain sight of
/// cbindgen), with a pool of its own.
macro_rules! impl_handle {
    ($name:ident => $inner:ty) => {
        impl $crate::handle::Handle for $name {
            type Inner = $inner;
            fn pool() -> &'static $crate::stable::Pool<$inner> {
                static POOL: $crate::stable::Pool<$inner> = $crate::stable::Pool::new();
                &POOL
            }
        }
    };
}
pub(crate) use impl_handle;
