//! Joining a goroutine (`gr_wait`): a wait on the waiter, published in the goroutine's join
//! list (a `crate::waitlist::WaitList`: a joiner that times out or is cancelled withdraws in
//! O(1)), completed with `DONE` when it returns (`G::finish`).
//!
//! Two shortcuts come first. A poll that finds the goroutine running answers at once: it
//! publishes nothing (a poll has no waker). A plain thread (a Java or Python thread that
//! spawned a goroutine and waits for it, or a C pthread) first spins on the goroutine's `done`
//! flag, as its waiter would spin on the token (`waiter::spin_before_sleep`, the same budget), and
//! publishes a wait only if that spin runs out: a short goroutine then ends without a joiner
//! to complete (`G::finish` takes its empty-list path), and the joiner takes no lock, no
//! cancel registration and no allocation. The spin also ends when `cancel` fires or the
//! deadline passes; the wait that follows then reports it, as before.
#![forbid(unsafe_code)]

use crate::error::{Error, Result};
use crate::goroutine::{GRef, G};
use crate::sched::with_current;

/// `gr_wait`: joins `g`. `Panic` if it failed; `Again` for a poll that found it running.
pub fn join(g: &GRef, deadline: crate::waiter::Deadline, cancel: Option<&crate::cancel::Cancel>) -> Result<()> {
    // The goroutine ended: what it did happens before the join returns.
    let result = |g: &GRef| {
        crate::sys::sanitizer::acquire(g.sync_addr());
        if g.has_failed() {
            Err(Error::Panic)
        } else {
            Ok(())
        }
    };
    if g.is_done() {
        return result(g);
    }
    if with_current(|c| c.is_some_and(|c| std::ptr::eq(c, &**g))) {
        return Err(Error::Invalid); // waiting for oneself would never end
    }
    let fired = || cancel.is_some_and(|c| c.is_fired());
    let spun = match deadline {
        crate::waiter::Deadline::Poll => {
            let r = if fired() { crate::waiter::CANCELLED } else { crate::waiter::TIMEOUT };
            return Err(crate::waiter::error_of(r, deadline));
        }
        // A plain thread: spin on `done` before publishing a wait (module docs).
        _ if crate::sched::current_coroutine_ref().is_none() => {
            if crate::waiter::spin_thread(deadline, || g.is_done() || fired()) && g.is_done() {
                return result(g);
            }
            true
        }
        _ => false,
    };
    let tok = crate::waiter::prepare(crate::waitreason::WaitReason::new(crate::waitreason::kind::JOIN, g.id));
    let Some(key) = g.join_register(&tok) else {
        // Withdraw the announced park: nobody will complete this token but us.
        crate::waiter::block(&tok, crate::waiter::Deadline::Poll, None);
        return result(g);
    };
    let r = crate::waiter::block_spun(&tok, deadline, cancel, spun);
    if r != crate::waiter::DONE {
        g.join_withdraw(key); // O(1) (`crate::waitlist`)
    }
    match r {
        crate::waiter::DONE => result(g),
        crate::waiter::TIMEOUT if g.is_done() => result(g),
        r => Err(crate::waiter::error_of(r, deadline)),
    }
}

/// Starts an asynchronous join of `g` (`crate::port`): completes with `DONE`, posting `user`
/// to `port`, when `g` returns (at once if it has).
pub fn join_async(g: &GRef, port: &std::sync::Arc<crate::port::Port>, user: u64) -> Box<crate::port::AsyncOp> {
    use crate::port::Target;
    let op = crate::port::AsyncOp::new(port, user);
    op.set_done(); // no element to copy
    let set = |t: Target| *op.target.lock().unwrap_or_else(|e| e.into_inner()) = t;
    set(Target::Join { g: g.clone(), key: crate::waitlist::Key::NONE });
    match g.join_register(&op.tok) {
        Some(key) => set(Target::Join { g: g.clone(), key }),
        // Finished already: nobody else knows this token, so this completion wins; it posts.
        None => {
            op.tok.complete(crate::waiter::DONE);
        }
    }
    op
}

/// The failure message of a failed goroutine (for `gr_handle_error`).
pub fn failure_message(g: &G) -> std::ffi::CString {
    crate::loom::lock(&g.join).failed().map(|m| m.to_owned()).unwrap_or_else(|| c"goroutine failed".to_owned())
}
