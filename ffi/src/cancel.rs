//! Cancel-token and context exports (`gr_cancel_*`) over `gr_core::Cancel`: the tokens the
//! `_ex` calls take, extended into Go's `context` (children, deadlines, a reason, a `done`
//! channel).

use crate::boundary::*;
use crate::chan::{gr_chan, new_chan_handle, ChanBox};
use crate::handle::{impl_handle, Handle};
use crate::status::gr_status::{GR_ECANCELED, GR_EINVAL, GR_ETIMEDOUT, GR_OK};
use gr_core::chan::timer::{instant_of_ns, ns_of_instant};
use gr_core::{sched, Cancel, Error, Reason};
use std::ffi::c_int;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A cancel token, which is also a context (Go's `context.Context` with its cancel
/// function): it ends every wait registered on it (the `_ex` calls) with `GR_ECANCELED`.
/// A token made by `gr_cancel_new` is a root; one made by `gr_cancel_new_child`,
/// `gr_cancel_new_timeout` or `gr_cancel_new_deadline` is derived: it also fires when its
/// parent fires (with the parent's reason) and at its deadline (reason `GR_ETIMEDOUT`,
/// read with `gr_cancel_err`).
pub struct gr_cancel {
    _private: [u8; 0],
}

/// What a `gr_cancel` handle points to: the token, and the handles of its `done` channels
/// handed out so far (one reference each, released with the token; more than one only after
/// a root's reset).
pub(crate) struct CancelSlot {
    ctx: Cancel,
    done: Mutex<Vec<usize>>,
}

impl Drop for CancelSlot {
    fn drop(&mut self) {
        // Freeing a token cancels it (Go's `defer cancel()`): its derived tokens fire, its
        // deadline leaves the timer heap, its parent forgets it.
        self.ctx.fire();
        for h in self.done.get_mut().unwrap_or_else(|p| p.into_inner()).drain(..) {
            // SAFETY: a reference this slot took in `gr_cancel_done`.
            unsafe { crate::chan::gr_chan_release(h as *mut gr_chan) };
        }
    }
}

impl_handle!(gr_cancel => CancelSlot);

/// A new handle to `ctx`, of the runtime of generation `gen` (`handle.rs`).
pub(crate) fn new_cancel_handle(ctx: Cancel, gen: u64) -> *mut gr_cancel {
    gr_cancel::alloc(CancelSlot { ctx, done: Mutex::new(Vec::new()) }, gen)
}

/// The token behind an optional handle argument: NULL is `None`, a released handle
/// `Invalid`, one of a runtime no longer live `State`.
///
/// # Safety
/// As for [`Handle::get`].
#[inline]
pub(crate) unsafe fn cancel_opt<'a>(c: *const gr_cancel) -> Result<Option<&'a Cancel>, Error> {
    // SAFETY: the caller's contract.
    unsafe { gr_cancel::get_opt(c) }.map(|s| s.map(|s| &s.ctx))
}

/// # Safety
/// As for [`Handle::get`].
#[inline]
unsafe fn cancel_of<'a>(c: *const gr_cancel) -> Result<&'a CancelSlot, Error> {
    // SAFETY: the caller's contract.
    unsafe { gr_cancel::get(c) }
}

/// # Safety
/// `parent` NULL or a gr_cancel; `out` NULL or writable.
unsafe fn new_derived(parent: *mut gr_cancel, deadline: Option<Instant>, out: *mut *mut gr_cancel) -> Result<(), Error> {
    nonnull(out)?;
    // SAFETY: the caller's contract.
    let p = unsafe { cancel_opt(parent) }?;
    let gen = sched::current_gen()?;
    gr_core::waiter::register_thread();
    let h = new_cancel_handle(Cancel::derive(p, deadline), gen);
    // SAFETY: `out` is non-NULL, hence writable (the caller's contract).
    unsafe { out.write(h) };
    Ok(())
}

/// Creates a root cancel token (starting the runtime with defaults if none was started, as
/// every call that makes a handle does).
#[no_mangle]
pub unsafe extern "C" fn gr_cancel_new(out: *mut *mut gr_cancel) -> c_int {
    guard(move || {
        nonnull(out)?;
        let gen = sched::current_gen()?;
        gr_core::waiter::register_thread();
        // SAFETY: `out` is non-NULL, hence writable (gr.h).
        unsafe { out.write(new_cancel_handle(Cancel::new(), gen)) };
        Ok(())
    })
}

/// Fires the token: every wait registered on it ends with `GR_ECANCELED`, and so does every
/// later wait on it (until `gr_cancel_reset`, for a root); every token derived from it fires
/// too; its `done` channel is closed; `gr_cancel_err` says `GR_ECANCELED`. Firing a token
/// that has fired changes nothing (its first reason stays). The withdrawn waits lose no
/// value. O(number of derived tokens not fired yet).
#[no_mangle]
pub unsafe extern "C" fn gr_cancel_fire(c: *mut gr_cancel) -> c_int {
    guard(move || {
        // SAFETY: `c` is NULL or a gr_cancel (gr.h).
        unsafe { cancel_of(c) }?.ctx.fire();
        Ok(())
    })
}

/// Re-arms a fired root token (its `done` channel is then a new one). `GR_ESTATE` for a
/// derived token: a context is final once fired (derive a new one).
#[no_mangle]
pub unsafe extern "C" fn gr_cancel_reset(c: *mut gr_cancel) -> c_int {
    guard(move || {
        // SAFETY: `c` is NULL or a gr_cancel (gr.h).
        unsafe { cancel_of(c) }?.ctx.reset()
    })
}

/// Frees a token (once; NULL is ignored). Freeing cancels it first, as Go's `cancel()`
/// releases a context: tokens derived from it fire (`GR_ECANCELED`), its deadline stops. No
/// wait may still use it; its `done` channel handle is released (take your own reference
/// with `gr_chan_retain` to keep the channel).
#[no_mangle]
pub unsafe extern "C" fn gr_cancel_free(c: *mut gr_cancel) {
    // SAFETY: `c` is NULL or a gr_cancel, and this is its last use (gr.h).
    unsafe { gr_cancel::release(c) }
}

/// Go's `context.WithCancel(parent)`: a token that fires when `parent` fires (with its
/// reason) or when fired itself. `parent` NULL: a root, as `gr_cancel_new`. If `parent` has
/// fired, the new token has fired too.
#[no_mangle]
pub unsafe extern "C" fn gr_cancel_new_child(parent: *mut gr_cancel, out: *mut *mut gr_cancel) -> c_int {
    // SAFETY: the arguments are as gr.h states.
    guard(|| unsafe { new_derived(parent, None, out) })
}

/// Go's `context.WithTimeout(parent, timeout)`: `gr_cancel_new_child` that also fires
/// `timeout_ns` from now with the reason `GR_ETIMEDOUT` (0: at once; negative, e.g.
/// `GR_FOREVER`: never by itself). A parent's earlier deadline stays the one that counts.
#[no_mangle]
pub unsafe extern "C" fn gr_cancel_new_timeout(parent: *mut gr_cancel, timeout_ns: i64, out: *mut *mut gr_cancel) -> c_int {
    guard(|| {
        let deadline = match timeout_ns {
            n if n < 0 => None,
            n => Some(Instant::now().checked_add(Duration::from_nanos(n as u64)).ok_or(Error::Invalid)?),
        };
        // SAFETY: the arguments are as gr.h states.
        unsafe { new_derived(parent, deadline, out) }
    })
}

/// Go's `context.WithDeadline(parent, d)`: `gr_cancel_new_child` that also fires at
/// `deadline_ns` on the `gr_now()` clock (`CLOCK_MONOTONIC` nanoseconds; a past deadline
/// fires at once), with the reason `GR_ETIMEDOUT`.
#[no_mangle]
pub unsafe extern "C" fn gr_cancel_new_deadline(parent: *mut gr_cancel, deadline_ns: i64, out: *mut *mut gr_cancel) -> c_int {
    guard(|| {
        let at = instant_of_ns(deadline_ns).ok_or(Error::Invalid)?;
        // SAFETY: the arguments are as gr.h states.
        unsafe { new_derived(parent, Some(at), out) }
    })
}

/// Go's `ctx.Err()`: `GR_OK` while the token has not fired, then why it fired:
/// `GR_ECANCELED` (fired, freed, or its parent was cancelled) or `GR_ETIMEDOUT` (its
/// deadline, or an ancestor's, passed). `GR_EINVAL` for a bad handle, `GR_ESTATE` for one of a runtime no longer
/// live. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn gr_cancel_err(c: *mut gr_cancel) -> c_int {
    // SAFETY: `c` is NULL or a gr_cancel (gr.h).
    guard_value(GR_EINVAL.code(), || match unsafe { cancel_of(c) } {
        Err(e) => code(e),
        Ok(s) => match s.ctx.reason() {
            None => GR_OK.code(),
            Some(Reason::Cancelled) => GR_ECANCELED.code(),
            Some(Reason::DeadlineExceeded) => GR_ETIMEDOUT.code(),
        },
    })
}

/// Go's `ctx.Deadline()`: 1 and `*deadline_ns` (on the `gr_now()` clock) if the token fires
/// by itself at a deadline (its own or an ancestor's, the earlier), 0 if it has none,
/// `GR_EINVAL` for a bad handle, `GR_ESTATE` for one of a runtime no longer live.
/// `deadline_ns` may be NULL.
#[no_mangle]
pub unsafe extern "C" fn gr_cancel_deadline(c: *mut gr_cancel, deadline_ns: *mut i64) -> c_int {
    // SAFETY: `c` is NULL or a gr_cancel (gr.h).
    guard_value(GR_EINVAL.code(), || match unsafe { cancel_of(c) } {
        Err(e) => code(e),
        Ok(s) => match s.ctx.deadline() {
            None => 0,
            Some(at) => {
                // SAFETY: `deadline_ns` is NULL or writable (gr.h).
                unsafe { write_out(deadline_ns, ns_of_instant(at)) };
                1
            }
        },
    })
}

/// Go's `ctx.Done()`: a channel closed when the token fires, for `gr_select` (a receive
/// case on it completes with `GR_ECLOSED` once fired) or `gr_chan_recv`. Receive-only: a
/// send or a close on it is `GR_EINVAL`. The same channel on every call (a new one after a
/// root's `gr_cancel_reset`); borrowed: valid until `gr_cancel_free` (or take a reference
/// with `gr_chan_retain`). NULL for a bad handle.
#[no_mangle]
pub unsafe extern "C" fn gr_cancel_done(c: *mut gr_cancel) -> *mut gr_chan {
    guard_value(std::ptr::null_mut(), || {
        // SAFETY: `c` is NULL or a gr_cancel (gr.h).
        // (A handle of the live runtime: `cancel_of` checks its generation.)
        let Ok(s) = (unsafe { cancel_of(c) }) else { return std::ptr::null_mut() };
        let d = s.ctx.done();
        let mut hs = s.done.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(&h) = hs.last() {
            // SAFETY: `h` is a live handle this slot holds a reference to.
            if unsafe { crate::chan::chan_of(h as *const gr_chan) }.is_ok_and(|ch| std::ptr::eq(ch, &*d)) {
                return h as *mut gr_chan;
            }
        }
        // First request, or a new channel after a reset (earlier handles stay valid, closed,
        // until the token is freed).
        let h = new_chan_handle(ChanBox::Shared(d), sched::live_gen());
        hs.push(h as usize);
        h
    })
}
