//! Semaphore: a weighted semaphore with FIFO fairness, as `golang.org/x/sync/semaphore`
//! (`Weighted`), with a timeout and a cancel token on every acquire, for goroutines and
//! plain threads alike.
//!
//! Invariants (under `q`):
//! 1. `0 <= cur <= size`: `cur` is the weight held by the acquirers that returned `Ok` and
//!    have not released it.
//! 2. FIFO: an acquire takes units at once only if nobody is queued; a release grants queued
//!    acquirers front to back while the front one fits, and stops at the first that does not
//!    (x/sync's rule: a large acquire is not starved by small ones behind it).
//! 3. A grant adds the acquirer's weight to `cur` and completes its token in one critical
//!    section; an acquirer whose timeout or cancel won its token is skipped (its weight is
//!    never added) and withdraws its entry by key (O(1)). Its leaving may let the ones behind
//!    it fit, so it grants again (x/sync does so when it was at the front).
//! 4. A granted acquirer takes `q` once more after its wake, so it returns only after the
//!    release that granted it has left the semaphore.
//!
//! Weights above `size` can never be acquired: `Invalid` at once (x/sync blocks until its
//! context ends instead). A release of more than is held is `State` (x/sync panics). An
//! acquire with a fired cancel token fails even if units are free (x/sync checks its
//! context first too).
//!
//! Lock order (`sched/README.md`, "Lock order"): `q` is rank 36, outer to the scheduler's
//! locks, which completing tokens under it may take.
#![forbid(unsafe_code)]

use crate::cancel::Cancel;
use crate::chan::wait::{self, Token};
use crate::error::{Error, Result};
use crate::loom::rank::SEMAPHORE;
use crate::loom::{lock, Mutex as Lock};
use crate::waiter::Deadline;
use crate::waitlist::WaitList;
use crate::waitreason::{kind, WaitReason};

const GRANT: u32 = wait::USER;

struct Waiter {
    tok: Token,
    n: u64,
}

#[derive(Default)]
struct Queue {
    cur: u64,
    waiters: WaitList<Waiter>,
}

pub struct Semaphore {
    size: u64,
    q: Lock<Queue, SEMAPHORE>,
}

impl Semaphore {
    /// A semaphore of `size` units, all free.
    pub fn new(size: u64) -> Semaphore {
        Semaphore { size, q: Lock::new(Queue::default()) }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Units held now.
    pub fn held(&self) -> u64 {
        lock(&self.q).cur
    }

    /// Acquires `n` units, waiting up to `deadline` behind earlier acquirers. `Again` for a
    /// poll that would wait; `Invalid` for `n > size`.
    pub fn acquire(&self, n: u64, deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
        if n > self.size {
            return Err(Error::Invalid);
        }
        if cancel.is_some_and(Cancel::is_fired) {
            return Err(Error::Cancelled); // x/sync: never acquire with a done context
        }
        let mut q = lock(&self.q);
        if self.size - q.cur >= n && q.waiters.is_empty() {
            q.cur += n;
            return Ok(());
        }
        wait::may_wait(deadline)?;
        let tok = wait::prepare(WaitReason::on(kind::SEMAPHORE, self));
        let key = q.waiters.push_back(Waiter { tok: tok.clone(), n });
        drop(q);
        let r = wait::block(&tok, deadline, cancel);
        let mut q = lock(&self.q);
        if r == GRANT {
            return Ok(()); // counted by the granter; `q` taken once (invariant 4)
        }
        q.waiters.remove(key);
        self.grant(&mut q);
        Err(wait::error_of(r, deadline))
    }

    /// Acquires `n` units only if that needs no wait (x/sync's `TryAcquire`).
    pub fn try_acquire(&self, n: u64) -> bool {
        self.acquire(n, Deadline::Poll, None).is_ok()
    }

    /// Releases `n` units and grants the acquirers that now fit. `State` if fewer are held.
    pub fn release(&self, n: u64) -> Result<()> {
        let mut q = lock(&self.q);
        if n > q.cur {
            return Err(Error::State);
        }
        q.cur -= n;
        self.grant(&mut q);
        Ok(())
    }

    /// Invariant 2 and 3: grants from the front while the front acquirer fits.
    fn grant(&self, q: &mut Queue) {
        while let Some(w) = q.waiters.front() {
            if self.size - q.cur < w.n {
                break;
            }
            let w = q.waiters.pop_front().expect("a front entry");
            if w.tok.complete(GRANT) {
                q.cur += w.n;
            }
        }
    }
}
