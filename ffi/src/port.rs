//! Completion ports and asynchronous operations (`gr_port_*`, `gr_*_async`, `gr_async_*`)
//! over `gr_core::port`: an event loop that is not a goroutine (asyncio, libuv, a selector
//! thread) starts channel operations and joins that complete later, and watches one
//! descriptor, the port's, for all of them.
//!
//! | C type     | Rust value                                                | released by     |
//! |------------|-----------------------------------------------------------|-----------------|
//! | `gr_port`  | `Arc<Port>` (operations hold it too)                      | `gr_port_free`  |
//! | `gr_async` | `AsyncSlot`: the operation, and a channel reference it holds | `gr_async_free` |

use crate::boundary::*;
use crate::chan::{gr_chan, gr_chan_release, gr_chan_retain};
use crate::goroutine::gr_handle;
use crate::handle::{impl_handle, Handle};
use crate::status::gr_status::{GR_EAGAIN, GR_ECANCELED, GR_ECLOSED, GR_EINVAL, GR_EPANIC, GR_OK};
use gr_core::chan::Chan;
use gr_core::port::{AsyncOp, AsyncStatus, Port};
use gr_core::{sched, Error};
use std::ffi::{c_int, c_void};
use std::sync::Arc;

/// A completion port: asynchronous operations started with it post their `user` value to
/// it when they complete; its descriptor (`gr_port_fd`) is readable while any are queued.
pub struct gr_port {
    _private: [u8; 0],
}

/// An asynchronous operation (`gr_chan_send_async`, `gr_chan_recv_async`,
/// `gr_wait_async`): completes once, into its port, unless withdrawn first.
pub struct gr_async {
    _private: [u8; 0],
}

impl_handle!(gr_port => Arc<Port>);

/// What a `gr_async` handle points to: the operation and, for a channel operation, the
/// channel reference that keeps the channel alive as long as the operation.
pub(crate) struct AsyncSlot {
    op: Option<Box<AsyncOp>>,
    chan: *mut gr_chan,
}

// SAFETY: `chan` is a retained channel handle (thread-safe, reference counted), used only to
// release it once, in `Drop`; the operation itself is Send + Sync.
unsafe impl Send for AsyncSlot {}
// SAFETY: as above.
unsafe impl Sync for AsyncSlot {}

impl Drop for AsyncSlot {
    fn drop(&mut self) {
        // The operation first (it withdraws itself and lets go of the element), then the
        // channel it was queued on.
        drop(self.op.take());
        if !self.chan.is_null() {
            // SAFETY: the reference `start_chan` took; given back once.
            unsafe { gr_chan_release(self.chan) };
        }
    }
}

impl_handle!(gr_async => AsyncSlot);

/// Creates a completion port (with an eventfd; `GR_EOS - errno` if the kernel refuses one).
#[no_mangle]
pub unsafe extern "C" fn gr_port_new(out: *mut *mut gr_port) -> c_int {
    guard(|| {
        nonnull(out)?;
        let gen = sched::current_gen()?;
        let p = Port::new().map_err(Error::Os)?;
        let h = gr_port::alloc(Arc::new(p), gen);
        // SAFETY: `out` is non-NULL, hence writable (gr.h).
        unsafe { out.write(h) };
        Ok(())
    })
}

/// The port's descriptor (>= 0): readable while completions are queued, so an event loop
/// watches it (epoll, `loop.add_reader`) and calls `gr_port_take` when it is. Never read
/// or close it yourself. `GR_EINVAL` for a NULL or freed port.
#[no_mangle]
pub unsafe extern "C" fn gr_port_fd(port: *const gr_port) -> c_int {
    // SAFETY: `port` is NULL or a gr_port (gr.h).
    guard_value(GR_EPANIC.code(), || match unsafe { gr_port::get(port) } {
        Ok(p) => p.fd(),
        Err(e) => code(e),
    })
}

/// Takes up to `max` completions, oldest first: the `user` values of operations that
/// completed, into `users`; `*n` gets how many (0 if none: this never waits). The
/// descriptor stays readable while more are queued. Then `gr_async_status` gives each
/// operation's result.
#[no_mangle]
pub unsafe extern "C" fn gr_port_take(port: *mut gr_port, users: *mut u64, max: usize, n: *mut usize) -> c_int {
    guard(|| {
        // SAFETY: `port` is NULL or a gr_port (gr.h).
        let p = unsafe { gr_port::get(port) }?;
        nonnull(n)?;
        if max > 0 {
            nonnull(users)?;
        }
        let got = if max == 0 {
            0
        } else {
            // SAFETY: `users` holds `max` writable values (gr.h).
            p.take(unsafe { std::slice::from_raw_parts_mut(users, max) })
        };
        // SAFETY: `n` is non-NULL, hence writable (gr.h).
        unsafe { n.write(got) };
        Ok(())
    })
}

/// Frees a port (once; NULL is ignored). Operations started with it keep it alive, and
/// complete into it unnoticed: withdraw or free them too.
#[no_mangle]
pub unsafe extern "C" fn gr_port_free(port: *mut gr_port) {
    // SAFETY: `port` is NULL or a gr_port, and this is its last use (gr.h).
    unsafe { gr_port::release(port) }
}

/// # Safety
/// `ch` and `port` are NULL or handles of their type; `elem` as the exports say.
unsafe fn start_chan(ch: *mut gr_chan, elem: *mut c_void, port: *mut gr_port, user: u64, send: bool, out: *mut *mut gr_async) -> Result<(), Error> {
    nonnull(out)?;
    nonnull(elem)?;
    // SAFETY: `port` is NULL or a gr_port (our contract).
    let p = unsafe { gr_port::get(port) }?.clone();
    let gen = sched::current_gen()?; // (the port's: `get` checked it is the live one)
    // SAFETY: `ch` is NULL or a gr_chan (our contract): its error, if any (a released one,
    // or one of a runtime no longer live).
    unsafe { crate::chan::chan_of(ch) }?;
    // SAFETY: `ch` is NULL or a gr_chan (our contract); the reference taken keeps it alive
    // until the operation's handle is freed.
    let held = unsafe { gr_chan_retain(ch) };
    if held.is_null() {
        return Err(Error::Invalid);
    }
    // SAFETY: `held` is a live channel handle with our reference.
    let c: &Chan = unsafe { crate::chan::chan_ref(held) };
    // SAFETY: `elem` stays valid until the operation completes or is withdrawn or freed, and
    // the channel lives as long as the operation (our reference, released after it).
    let op = unsafe { if send { c.send_async(elem as *const u8, &p, user) } else { c.recv_async(elem as *mut u8, &p, user) } };
    let h = gr_async::alloc(AsyncSlot { op: Some(op), chan: held }, gen);
    // SAFETY: `out` is non-NULL, hence writable (gr.h).
    unsafe { out.write(h) };
    Ok(())
}

/// Starts an asynchronous send of the channel's `elem_size` bytes at `elem`: it completes at
/// once (a receiver was waiting, the buffer had room, or the channel is closed) or when a
/// receiver or a close comes, and then posts `user` to `port` (once). Until then it is queued
/// as a parked sender: a goroutine, a thread or another asynchronous receive takes its value.
/// `*out` gets the operation: read its result with `gr_async_status`, withdraw it with
/// `gr_async_cancel`, free it with `gr_async_free`. `elem` must stay readable until the
/// operation has completed or been withdrawn or freed. The operation holds a reference to
/// the channel.
#[no_mangle]
pub unsafe extern "C" fn gr_chan_send_async(ch: *mut gr_chan, elem: *const c_void, port: *mut gr_port, user: u64, out: *mut *mut gr_async) -> c_int {
    // SAFETY: the export's contract is `start_chan`'s.
    guard(|| unsafe { start_chan(ch, elem as *mut c_void, port, user, true, out) })
}

/// Starts an asynchronous receive into the channel's `elem_size` bytes at `elem` (see
/// `gr_chan_send_async`): queued as a parked receiver until a value or a close comes. `elem`
/// is written by the completion (zeroed if the channel is closed and drained), and must stay
/// writable until the operation has completed or been withdrawn or freed.
#[no_mangle]
pub unsafe extern "C" fn gr_chan_recv_async(ch: *mut gr_chan, elem: *mut c_void, port: *mut gr_port, user: u64, out: *mut *mut gr_async) -> c_int {
    // SAFETY: the export's contract is `start_chan`'s.
    guard(|| unsafe { start_chan(ch, elem, port, user, false, out) })
}

/// Starts an asynchronous join of goroutine `g`: completes (posting `user` to `port`) when
/// `g` returns, at once if it has. Its status is then `GR_OK`, or `GR_EPANIC` if `g`
/// failed. The handle `g` may be released meanwhile.
#[no_mangle]
pub unsafe extern "C" fn gr_wait_async(g: *mut gr_handle, port: *mut gr_port, user: u64, out: *mut *mut gr_async) -> c_int {
    guard(|| {
        nonnull(out)?;
        // SAFETY: handle arguments are NULL or handles of their type (gr.h).
        let (h, p) = unsafe { (gr_handle::get(g)?, gr_port::get(port)?) };
        let p = p.clone();
        let gen = sched::current_gen()?; // (theirs: `get` checked they are of the live one)
        let op = gr_core::join::join_async(&h.g, &p, user);
        let h = gr_async::alloc(AsyncSlot { op: Some(op), chan: std::ptr::null_mut() }, gen);
        // SAFETY: `out` is non-NULL, hence writable (gr.h).
        unsafe { out.write(h) };
        Ok(())
    })
}

fn status_code(s: AsyncStatus) -> c_int {
    match s {
        AsyncStatus::Pending => GR_EAGAIN.code(),
        AsyncStatus::Cancelled => GR_ECANCELED.code(),
        AsyncStatus::Done { closed: true, .. } => GR_ECLOSED.code(),
        AsyncStatus::Done { failed: true, .. } => GR_EPANIC.code(),
        AsyncStatus::Done { .. } => GR_OK.code(),
    }
}

/// An operation's result: `GR_EAGAIN` while pending; once complete, `GR_OK` (the element
/// was sent, or received into `elem`), `GR_ECLOSED` (a send on a closed channel, which kept
/// its value; a receive on a closed, drained one, `elem` zeroed), `GR_EPANIC` (a joined
/// goroutine failed), or `GR_ECANCELED` (withdrawn). Never waits (beyond the few
/// instructions a completer takes to finish copying the element). `GR_EINVAL` for a NULL
/// or freed operation.
#[no_mangle]
pub unsafe extern "C" fn gr_async_status(op: *const gr_async) -> c_int {
    // SAFETY: `op` is NULL or a gr_async (gr.h).
    guard_value(GR_EPANIC.code(), || match unsafe { gr_async::get(op) } {
        Ok(s) => s.op.as_ref().map_or(GR_EINVAL.code(), |o| status_code(o.status())),
        Err(e) => code(e),
    })
}

/// Withdraws a pending operation: returns `GR_ECANCELED` if it was withdrawn before anything
/// happened (a send keeps its value, a receive got none, and nothing is posted), else the
/// result of the completion that came first (as `gr_async_status`; its post is in the
/// port, or about to be). Safe to call on a completed operation; never waits.
#[no_mangle]
pub unsafe extern "C" fn gr_async_cancel(op: *mut gr_async) -> c_int {
    // SAFETY: `op` is NULL or a gr_async (gr.h).
    guard_value(GR_EPANIC.code(), || match unsafe { gr_async::get(op) } {
        Ok(s) => s.op.as_ref().map_or(GR_EINVAL.code(), |o| status_code(o.cancel())),
        Err(e) => code(e),
    })
}

/// Frees an operation (once; NULL is ignored), withdrawing it first if it is pending. A
/// completion it posted may still be in its port: match `user` values to live operations.
#[no_mangle]
pub unsafe extern "C" fn gr_async_free(op: *mut gr_async) {
    // SAFETY: `op` is NULL or a gr_async, and this is its last use (gr.h).
    unsafe { gr_async::release(op) }
}
