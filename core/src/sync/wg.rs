//! WaitGroup: a counter; `wait` returns once it is zero.
//!
//! A successful `wait` returns only after the `add` that released it has left the lock, so
//! the waiter may free the WaitGroup at once (the last `done` may still be returning).
//!
//! Invariants (under `inner`): `count >= 0` (an `add` that would make it negative is refused
//! with `Invalid` and changes nothing); `waiters` is empty whenever `count == 0`, because the
//! `add` that reaches zero completes and removes them all. A wait that times out or is
//! cancelled withdraws its entry by key in O(1) (`crate::waitlist`'s protocol).
//!
//! ThreadSanitizer (`sys/sanitizer.rs`): every `add` releases at the WaitGroup's address and
//! every successful `wait` acquires there (Go's "done happens before the wait returns").
//!
//! Lock order (`sched/README.md`, "Lock order"): `inner` is rank 32, outer to the scheduler's locks, which
//! completing tokens under it may take.
#![forbid(unsafe_code)]

use crate::cancel::Cancel;
use crate::chan::wait::{self, Token};
use crate::error::{Error, Result};
use crate::loom::rank::WAIT_GROUP;
use crate::loom::{lock, Mutex};
use crate::sys::sanitizer;
use crate::waiter::Deadline;
use crate::waitlist::WaitList;
use crate::waitreason::{kind, WaitReason};

const DONE: u32 = wait::USER;

#[derive(Default)]
struct Inner {
    count: i64,
    waiters: WaitList<Token>,
}

#[derive(Default)]
pub struct WaitGroup {
    inner: Mutex<Inner, WAIT_GROUP>,
}

impl WaitGroup {
    pub fn new() -> WaitGroup {
        WaitGroup::default()
    }

    /// Adds `delta` (may be negative). `Invalid` if the counter would go below zero.
    pub fn add(&self, delta: i64) -> Result<()> {
        sanitizer::release(self.sync_addr()); // a `done` happens before the wait it releases
        let mut g = lock(&self.inner);
        let n = g.count.checked_add(delta).ok_or(Error::Invalid)?;
        if n < 0 {
            return Err(Error::Invalid);
        }
        g.count = n;
        if n == 0 {
            for t in g.waiters.drain() {
                t.complete(DONE);
            }
        }
        Ok(())
    }

    pub fn done(&self) -> Result<()> {
        self.add(-1)
    }

    pub fn count(&self) -> i64 {
        lock(&self.inner).count
    }

    /// Waits until the counter is zero.
    pub fn wait(&self, deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
        let mut g = lock(&self.inner);
        if g.count == 0 {
            sanitizer::acquire(self.sync_addr());
            return Ok(());
        }
        wait::may_wait(deadline)?;
        let tok = wait::prepare(WaitReason::on(kind::WAITGROUP, self));
        let key = g.waiters.push_back(tok.clone());
        drop(g);
        let r = wait::block(&tok, deadline, cancel);
        if r == DONE {
            // The `add` that released us completes its waiters under the lock: take it once,
            // so that we return only after that `add` is done with this WaitGroup. Freeing
            // the WaitGroup right after a successful wait (the C idiom, as `sem_destroy`
            // after `sem_wait`) is then safe while the last `done` is still returning.
            drop(lock(&self.inner));
            sanitizer::acquire(self.sync_addr());
            return Ok(());
        }
        lock(&self.inner).waiters.remove(key);
        Err(wait::error_of(r, deadline))
    }

    /// Where a sanitizer is told of `add`s and successful `wait`s.
    fn sync_addr(&self) -> usize {
        self as *const WaitGroup as usize
    }
}

impl Drop for WaitGroup {
    fn drop(&mut self) {
        sanitizer::forget(self.sync_addr()); // handles' pools reuse the address
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::Arc;

    /// The last `done` releases a waiter whatever the interleaving (no lost wake-up), and
    /// a negative counter is refused.
    #[test]
    fn loom_wg_done_releases_waiter() {
        loom::model(|| {
            let wg = Arc::new(WaitGroup::new());
            wg.add(2).unwrap();
            let ts: Vec<_> = (0..2)
                .map(|_| {
                    let wg = wg.clone();
                    loom::thread::spawn(move || wg.done().unwrap())
                })
                .collect();
            wg.wait(Deadline::Never, None).unwrap();
            assert_eq!(wg.count(), 0);
            for t in ts {
                t.join().unwrap();
            }
            assert_eq!(wg.done(), Err(Error::Invalid));
        });
    }

    /// A wait whose deadline may expire at any point races the last `done`: it ends OK or
    /// timed out, and in both cases leaves no entry behind (withdrawn by key, or drained).
    #[test]
    fn loom_wg_timeout_races_done() {
        loom::model(|| {
            let wg = Arc::new(WaitGroup::new());
            wg.add(1).unwrap();
            let w2 = wg.clone();
            let t = loom::thread::spawn(move || w2.done().unwrap());
            let r = wg.wait(Deadline::At(std::time::Instant::now()), None);
            assert!(r == Ok(()) || r == Err(Error::TimedOut), "{r:?}");
            t.join().unwrap();
            assert!(lock(&wg.inner).waiters.is_empty());
            assert_eq!(wg.wait(Deadline::Poll, None), Ok(()));
        });
    }
}
