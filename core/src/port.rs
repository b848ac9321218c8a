//! Completion ports and asynchronous operations: how an event loop that is not a goroutine
//! (asyncio, libuv, a JVM selector) waits for channel operations and goroutines without
//! holding a thread per wait.
//!
//! An asynchronous operation ([`AsyncOp`]: a channel send or receive, `chan/aop.rs`; a join,
//! `join.rs`) is a wait whose owner is neither a goroutine nor a thread: its wait cell
//! ([`crate::waiter::Token::new_async`]) is completed by the same parties and the same CAS as
//! any other wait (a sender, a receiver, `close`, a finishing goroutine), but completing it
//! *posts* the operation's user value to its [`Port`] instead of waking anyone. The port is
//! a queue of those values and an eventfd that is readable exactly while the queue is not
//! empty, so a loop watches one descriptor for any number of operations, and one wake-up
//! delivers a batch.
//!
//! # Protocol
//! 1. Start (the owner, any thread): the operation is done at once if it can be (a ready
//!    channel, a finished goroutine), and posted; else its entry is queued on the object
//!    under the object's lock, exactly as a parked goroutine's would be.
//! 2. Complete (a peer, under the object's lock): the CAS on the operation's cell picks one
//!    winner among completers and a withdrawing owner; the winner posts (step 4), then, for
//!    a channel, copies the element and sets the operation's `done` flag.
//! 3. Withdraw ([`AsyncOp::cancel`], the owner): the owner claims the cell with `CANCELLED`.
//!    If it wins, no completer can win any more: it removes the entry under the object's lock
//!    and nothing was copied (a send keeps its value, a receive got none), and nothing is
//!    posted. If it loses, the operation completed first: the owner waits for `done` and gets
//!    the result (the element was copied).
//! 4. Post ([`Port::post`], under the completer's object lock): the port lock is a leaf
//!    (rank 43, `sched/README.md` "Lock order"); the first post into an empty queue writes the
//!    eventfd. [`Port::take`] drains the queue and, when it empties it, the eventfd, under the
//!    same lock: the descriptor is readable iff values are queued.
//! 5. A posted value is the owner's cue to read the operation's result ([`AsyncOp::status`]),
//!    which waits for `done` first: the post precedes the copy (step 2).
//!
//! Every operation completes exactly once: by a completer (posted once) or by a withdraw that
//! won (never posted). The operation's memory (its token and `done` flag, which queued
//! entries point at) lives until its owner drops it, which withdraws a pending operation and
//! waits for `done` first, so no completer ever touches freed memory.
#![forbid(unsafe_code)]

use crate::loom::rank::PORT;
use crate::loom::{lock, AtomicBool, Mutex};
use crate::sys::epoll::EventFd;
use crate::waiter::{Token, CANCELLED, DONE, PENDING};
use std::sync::atomic::Ordering::Release;
use std::sync::Arc;

/// A completion port: the user values of completed operations, and an eventfd readable while
/// any are queued.
pub struct Port {
    q: Mutex<PortQ, PORT>,
    fd: EventFd,
}

struct PortQ {
    ready: Vec<u64>,
}

impl Port {
    /// A port with its eventfd (close-on-exec, non-blocking). `Err(errno)` if the kernel
    /// refuses one.
    pub fn new() -> Result<Port, i32> {
        Ok(Port { q: Mutex::new(PortQ { ready: Vec::new() }), fd: EventFd::new()? })
    }

    /// The descriptor a loop watches for readability. Never read it: [`Port::take`] does.
    pub fn fd(&self) -> i32 {
        self.fd.raw()
    }

    /// Queues `user`; makes the descriptor readable if the queue was empty.
    pub(crate) fn post(&self, user: u64) {
        let mut q = lock(&self.q);
        if q.ready.is_empty() {
            self.fd.signal();
        }
        q.ready.push(user);
    }

    /// Moves up to `out.len()` queued values, oldest first, into `out`; the number moved.
    /// The descriptor stays readable while values remain queued.
    pub fn take(&self, out: &mut [u64]) -> usize {
        let mut q = lock(&self.q);
        let n = q.ready.len().min(out.len());
        out[..n].copy_from_slice(&q.ready[..n]);
        q.ready.drain(..n);
        if q.ready.is_empty() && n > 0 {
            self.fd.drain();
            if q.ready.capacity() > 4096 {
                q.ready = Vec::new(); // a burst does not pin its memory
            }
        }
        n
    }

    /// Values queued now.
    pub fn len(&self) -> usize {
        lock(&self.q).ready.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for Port {
    fn drop(&mut self) {
        self.fd.close();
    }
}

/// What an asynchronous operation waits on, for its withdrawal.
pub(crate) enum Target {
    /// Nothing to withdraw from (completed at start).
    None,
    /// A channel entry (`chan/aop.rs`): the channel, its queue and the entry's key.
    #[cfg(not(loom))]
    Chan { chan: crate::chan::ChanRef, sender: bool, key: crate::waitlist::Key },
    /// A goroutine's join list.
    Join { g: crate::goroutine::GRef, key: crate::waitlist::Key },
}

/// One asynchronous operation: its wait (completed once, see the module docs), the flag its
/// completer sets when done with the element, and what to withdraw it from.
pub struct AsyncOp {
    pub(crate) tok: Token,
    pub(crate) done: AtomicBool,
    pub(crate) target: std::sync::Mutex<Target>,
}

/// Results of an operation (`AsyncOp::status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsyncStatus {
    /// Not completed yet.
    Pending,
    /// Completed; for a channel operation the element has been copied. `closed`: the channel
    /// was closed (a receive's element is zeroed; a send kept its value); for a join,
    /// `failed`: the goroutine failed.
    Done { closed: bool, failed: bool },
    /// Withdrawn by [`AsyncOp::cancel`] before anything happened.
    Cancelled,
}

impl AsyncOp {
    /// A pending operation that posts `user` to `port` when it completes. Under
    /// ThreadSanitizer, what its owner did so far (a send's element) is published at its cell,
    /// where the peer that completes it acquires it (`Token::complete_handoff`).
    pub(crate) fn new(port: &Arc<Port>, user: u64) -> Box<AsyncOp> {
        let op = Box::new(AsyncOp { tok: Token::new_async(port.clone(), user), done: AtomicBool::new(false), target: std::sync::Mutex::new(Target::None) });
        crate::sys::sanitizer::release(op.tok.cell_addr());
        op
    }

    /// Marks the completer finished with the element (or that there was none).
    pub(crate) fn set_done(&self) {
        self.done.store(true, Release);
    }

    /// The result, waiting (a few instructions) for a completer's copy to finish.
    pub fn status(&self) -> AsyncStatus {
        match self.tok.result() {
            PENDING => AsyncStatus::Pending,
            CANCELLED => AsyncStatus::Cancelled,
            r => {
                crate::chan::wait::wait_flag(&self.done);
                // Under ThreadSanitizer: the owner learns what its completer published at the
                // cell (a received element), as a woken waiter does at the C API boundary.
                crate::sys::sanitizer::acquire(self.tok.cell_addr());
                self.decode(r)
            }
        }
    }

    fn decode(&self, r: u32) -> AsyncStatus {
        if r == DONE {
            let failed = match &*self.target.lock().unwrap_or_else(|e| e.into_inner()) {
                Target::Join { g, .. } => {
                    // The goroutine ended: what it did happens before its joiner learns it
                    // (ThreadSanitizer's edge, as `join::join` makes).
                    crate::sys::sanitizer::acquire(g.sync_addr());
                    g.has_failed()
                }
                _ => false,
            };
            return AsyncStatus::Done { closed: false, failed };
        }
        match crate::chan::waitq::decode(r) {
            Some((_, closed)) => AsyncStatus::Done { closed, failed: false },
            None => AsyncStatus::Cancelled,
        }
    }

    /// Withdraws a pending operation: `Cancelled` if it won (nothing happened, nothing will be
    /// posted), else the result of the completion that came first (already posted, or about
    /// to be).
    pub fn cancel(&self) -> AsyncStatus {
        if !self.tok.withdraw() {
            return self.status();
        }
        let target = std::mem::replace(&mut *self.target.lock().unwrap_or_else(|e| e.into_inner()), Target::None);
        match target {
            Target::None => {}
            #[cfg(not(loom))]
            Target::Chan { chan, sender, key } => chan.withdraw(sender, key),
            Target::Join { g, key } => g.join_withdraw(key),
        }
        self.set_done();
        AsyncStatus::Cancelled
    }
}

impl Drop for AsyncOp {
    fn drop(&mut self) {
        // A pending operation is withdrawn; a completed one may still be in its completer's
        // hands (copying): wait for it to let go.
        if self.tok.result() == PENDING {
            self.cancel();
        }
        crate::chan::wait::wait_flag(&self.done);
    }
}
