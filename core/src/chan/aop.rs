//! Asynchronous send and receive: channel operations owned by an event loop instead of a
//! goroutine or a thread (`crate::port` has the protocol and the port they complete into).
//!
//! An asynchronous operation's queue entry is an ordinary [`Sudog`] whose token, `done` flag
//! and element live in the heap operation ([`AsyncOp`]) and the caller's buffer, not on a
//! parked frame: senders, receivers, selects and `close` complete it exactly as they complete
//! a parked goroutine (the hand-off protocol of `mod.rs`), and its owner withdraws it as a
//! timed-out waiter withdraws itself (by key, under the lock, after winning the cell with
//! `CANCELLED`). So it inherits the channel's guarantees: no value is lost or duplicated, a
//! withdrawn send keeps its value and a withdrawn receive got none.

use super::waitq::{code, Sudog};
use super::{Chan, Ready};
use crate::port::{AsyncOp, Port, Target};
use crate::waitlist::Key;
use std::ptr::NonNull;
use std::sync::Arc;

/// The channel an asynchronous operation is queued on. The operation's owner keeps the
/// channel alive for as long as the operation lives (the contract of [`Chan::send_async`]).
pub(crate) struct ChanRef(NonNull<Chan>);

// SAFETY: a `Chan` is shared between threads by design (all its state is behind its lock);
// this is a borrowed pointer to one that outlives the operation holding it.
unsafe impl Send for ChanRef {}
// SAFETY: as above.
unsafe impl Sync for ChanRef {}

impl ChanRef {
    /// Removes the entry `key` from the send or receive queue (a no-op if a completer popped
    /// it). O(1).
    pub(crate) fn withdraw(&self, sender: bool, key: Key) {
        // SAFETY: the channel outlives the operation that holds this (type docs).
        let c = unsafe { self.0.as_ref() };
        let mut g = c.lock_plain();
        if sender {
            g.sendq.remove(key);
        } else {
            g.recvq.remove(key);
        }
    }
}

impl Chan {
    /// Starts an asynchronous send of the `elem_size` bytes at `src`: done at once if a
    /// receiver waits or the buffer has room (or the channel is closed), else queued as a
    /// parked sender would be. Completion posts `user` to `port`; see `crate::port`.
    ///
    /// # Safety
    /// `src` stays readable for `elem_size` bytes, and this channel alive, until the returned
    /// operation is dropped, or its status is no longer `Pending`.
    pub unsafe fn send_async(&self, src: *const u8, port: &Arc<Port>, user: u64) -> Box<AsyncOp> {
        // SAFETY: the caller's contract, passed on.
        unsafe { self.start_async(src as *mut u8, port, user, true) }
    }

    /// Starts an asynchronous receive into the `elem_size` bytes at `dst` (see
    /// [`Chan::send_async`]). A receive that finds the channel closed and drained completes
    /// with `closed` and `dst` zeroed.
    ///
    /// # Safety
    /// `dst` stays writable for `elem_size` bytes, and this channel alive, until the returned
    /// operation is dropped, or its status is no longer `Pending`.
    pub unsafe fn recv_async(&self, dst: *mut u8, port: &Arc<Port>, user: u64) -> Box<AsyncOp> {
        // SAFETY: the caller's contract, passed on.
        unsafe { self.start_async(dst, port, user, false) }
    }

    /// # Safety
    /// As [`Chan::send_async`] / [`Chan::recv_async`].
    unsafe fn start_async(&self, elem: *mut u8, port: &Arc<Port>, user: u64, sender: bool) -> Box<AsyncOp> {
        let op = AsyncOp::new(port, user);
        let mut g = self.lock_inner();
        // SAFETY: `elem` is valid for this operation (our contract).
        let ready = unsafe { if sender { self.try_send(&mut g, elem) } else { self.try_recv(&mut g, elem) } };
        if let Some(r) = ready {
            // Done at once: nobody else knows this token, so this completion wins; it posts.
            op.tok.complete(code(0, matches!(r, Ready::Closed)));
            op.set_done();
            return op;
        }
        // SAFETY: the operation's token and `done` live in `op` (shared, heap), which its
        // entry's owner keeps until the entry is won or withdrawn (module docs).
        let entry = Sudog::new(&op.tok, elem, 0, &op.done);
        let key = if sender { g.sendq.push(entry) } else { g.recvq.push(entry) };
        *op.target.lock().unwrap_or_else(|e| e.into_inner()) = Target::Chan { chan: ChanRef(NonNull::from(self)), sender, key };
        drop(g);
        op
    }
}
