//! Cond: Go's `sync.Cond` (wait, signal, broadcast) over a [`Mutex`], with a timeout and a
//! cancel token on the wait, for goroutines and plain threads alike.
//!
//! `wait` queues its token *before* it unlocks the mutex (Go's `notifyListAdd` ticket
//! taken before `L.Unlock`): a `signal` that follows the unlock finds the waiter, so none is
//! lost between the unlock and the park. A signal pops waiters until it wins one's token (a
//! waiter whose timeout or cancel won is skipped, and the signal goes to the next one), so a
//! signal is never spent on a waiter that gave up. Signals are not remembered: with nobody
//! waiting they do nothing (as Go's and pthread's).
//!
//! The wait always returns with the mutex locked again, also when it timed out or was
//! cancelled (pthread's rule for `pthread_cond_timedwait`): the timeout bounds the wait for
//! a signal; taking the mutex back then waits as long as it takes. The caller must hold the
//! mutex (`State` if it is not locked at all; as in Go, a mutex held by someone else cannot
//! be told apart).
//!
//! Lock order (`sched/README.md`, "Lock order"): `q` is rank 35, taken alone (it is released
//! before the mutex is unlocked or locked), outer to the scheduler's locks.
#![forbid(unsafe_code)]

use super::Mutex;
use crate::cancel::Cancel;
use crate::chan::wait::{self, Token};
use crate::error::{Error, Result};
use crate::loom::rank::COND;
use crate::loom::{lock, Mutex as Lock};
use crate::waiter::Deadline;
use crate::waitlist::WaitList;
use crate::waitreason::{kind, WaitReason};

const SIGNALED: u32 = wait::USER;

#[derive(Default)]
pub struct Cond {
    q: Lock<WaitList<Token>, COND>,
}

impl Cond {
    pub fn new() -> Cond {
        Cond::default()
    }

    /// Unlocks `mu`, waits up to `deadline` for a signal, locks `mu` again (module docs).
    /// `Again` for a poll (a signal cannot have come: `mu` stays locked throughout).
    pub fn wait(&self, mu: &Mutex, deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
        if !mu.is_locked() {
            return Err(Error::State);
        }
        wait::may_wait(deadline)?;
        let tok = wait::prepare(WaitReason::on(kind::COND, self));
        let key = lock(&self.q).push_back(tok.clone());
        if let Err(e) = mu.unlock() {
            // Not locked after all (a racing unlock by someone else): give up the wait, and
            // pass on a signal that may have picked us meanwhile.
            let queued = lock(&self.q).remove(key).is_some();
            let r = wait::block(&tok, Deadline::Poll, None);
            if !queued && r == SIGNALED {
                self.signal();
            }
            return Err(e);
        }
        let r = wait::block(&tok, deadline, cancel);
        if r == SIGNALED {
            drop(lock(&self.q)); // the signaller has left the Cond: free-after-wait is safe
        } else {
            lock(&self.q).remove(key);
        }
        mu.lock(Deadline::Never, None)?;
        match r {
            SIGNALED => Ok(()),
            r => Err(wait::error_of(r, deadline)),
        }
    }

    /// Wakes one waiter, the longest waiting, if any.
    pub fn signal(&self) {
        let mut q = lock(&self.q);
        while let Some(t) = q.pop_front() {
            if t.complete(SIGNALED) {
                return;
            }
        }
    }

    /// Wakes every waiter.
    pub fn broadcast(&self) {
        let mut q = lock(&self.q);
        for t in q.drain() {
            t.complete(SIGNALED);
        }
    }

    /// Waiters queued now (those whose wait just ended included). For tests.
    pub fn waiters(&self) -> usize {
        lock(&self.q).len()
    }
}
