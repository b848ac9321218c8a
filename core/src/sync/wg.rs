//! WaitGroup: a counter; `wait` returns once it is zero.
//!
//! The counter is one atomic word (`state`), as Go's: an `add` or `done` is one
//! compare-exchange on it, and takes the lock only when it brings the counter to zero with
//! waiters queued. (Each `add` used to take `inner`: a spawner's `add`s and its goroutines'
//! `done`s, on other CPUs, met on that lock at every goroutine; `sched/README.md` section
//! 14, "The spawn path's shared lines".)
//!
//! `state`: the counter in its low 62 bits, then two flags:
//! - `WAITERS`: a wait is queued in `inner` (or was: a wait that timed out leaves the flag).
//!   Set only by a waiter that holds `inner` and sees the counter above zero and no
//!   `DRAINING`, in the same compare-exchange that checks them.
//! - `DRAINING`: an `add` brought the counter to zero with `WAITERS` set (clearing it in the
//!   same compare-exchange) and has not yet completed every wait queued then. That `add`
//!   then locks `inner`, completes and removes every queued wait, unlocks, and clears
//!   `DRAINING` as its last access to the WaitGroup.
//!
//! Invariants:
//! - `count >= 0`: an `add` that would make it negative (or overflow 62 bits) is refused with
//!   `Invalid` and changes nothing.
//! - While `DRAINING` is set, no wait is queued that the drain should not complete: a waiter
//!   that finds `DRAINING` (under `inner`) does not queue; it waits until the flag is clear
//!   (the drain is short and never blocks) and looks again. So the waits a drain completes
//!   are exactly those queued before its compare-exchange, all of which saw a counter above
//!   zero and are owed the wake.
//! - A successful `wait` returns only once `DRAINING` is clear (a woken waiter, and one that
//!   sees a zero counter while a drain runs, wait for it): the waiter may then free the
//!   WaitGroup at once (the C idiom, as `sem_destroy` after `sem_wait`), since the last `add`
//!   touches nothing after that store, and an `add` that found no `WAITERS` touches nothing
//!   after its compare-exchange.
//! A wait that times out or is cancelled withdraws its entry by key in O(1)
//! (`crate::waitlist`'s protocol); a drain that took it first leaves a no-op.
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
use crate::loom::{lock, AtomicU64, Mutex};
use crate::sys::sanitizer;
use crate::waiter::Deadline;
use crate::waitlist::WaitList;
use crate::waitreason::{kind, WaitReason};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

const DONE: u32 = wait::USER;

/// `state`'s flags and counter (module docs).
const WAITERS: u64 = 1 << 63;
const DRAINING: u64 = 1 << 62;
const COUNT: u64 = DRAINING - 1;

#[derive(Default)]
pub struct WaitGroup {
    state: AtomicU64,
    inner: Mutex<WaitList<Token>, WAIT_GROUP>,
}

impl WaitGroup {
    pub fn new() -> WaitGroup {
        WaitGroup::default()
    }

    /// Adds `delta` (may be negative). `Invalid` if the counter would go below zero (or past
    /// 2^62 - 1).
    pub fn add(&self, delta: i64) -> Result<()> {
        sanitizer::release(self.sync_addr()); // a `done` happens before the wait it releases
        let mut cur = self.state.load(Relaxed);
        let drain = loop {
            let n = ((cur & COUNT) as i64).checked_add(delta).ok_or(Error::Invalid)?;
            if n < 0 || n as u64 > COUNT {
                return Err(Error::Invalid);
            }
            // (`WAITERS` is never set while `DRAINING` is: module docs.)
            let drain = n == 0 && cur & WAITERS != 0;
            let new = if drain { DRAINING } else { (cur & !COUNT) | n as u64 };
            match self.state.compare_exchange_weak(cur, new, AcqRel, Relaxed) {
                Ok(_) => break drain,
                Err(now) => cur = now,
            }
        };
        if drain {
            {
                let mut q = lock(&self.inner);
                for t in q.drain() {
                    t.complete(DONE);
                }
            }
            self.state.fetch_and(!DRAINING, Release); // our last access (module docs)
        }
        Ok(())
    }

    pub fn done(&self) -> Result<()> {
        self.add(-1)
    }

    pub fn count(&self) -> i64 {
        (self.state.load(Acquire) & COUNT) as i64
    }

    /// Waits until the counter is zero.
    pub fn wait(&self, deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
        let s = self.state.load(Acquire);
        if s & COUNT == 0 {
            return Ok(self.released(s));
        }
        wait::may_wait(deadline)?;
        let tok = wait::prepare(WaitReason::on(kind::WAITGROUP, self));
        let key = loop {
            let mut q = lock(&self.inner);
            let cur = self.state.load(Acquire);
            if cur & COUNT == 0 {
                drop(q);
                return Ok(self.released(cur));
            }
            if cur & DRAINING != 0 {
                // An earlier drain has yet to take the lock: a wait queued now would be
                // completed by it, though the counter is above zero again. Let it finish.
                drop(q);
                self.await_drained();
                continue;
            }
            if self.state.compare_exchange(cur, cur | WAITERS, AcqRel, Acquire).is_ok() {
                break q.push_back(tok.clone());
            }
        };
        let r = wait::block(&tok, deadline, cancel);
        if r == DONE {
            // The `add` that released us may still be completing others: it clears
            // `DRAINING` last, and we return after that (module docs).
            self.await_drained();
            sanitizer::acquire(self.sync_addr());
            return Ok(());
        }
        lock(&self.inner).remove(key);
        Err(wait::error_of(r, deadline))
    }

    /// A wait that found the counter at zero (state `s`): returns once no drain runs.
    fn released(&self, s: u64) {
        if s & DRAINING != 0 {
            self.await_drained();
        }
        sanitizer::acquire(self.sync_addr());
    }

    /// Waits until no drain runs: the draining `add` only completes tokens and unlocks
    /// before it clears the flag, so this spins briefly, then gives the CPU away (the
    /// drainer may be a thread the OS preempted, or a goroutine queued behind this one).
    fn await_drained(&self) {
        #[cfg(loom)]
        while self.state.load(Acquire) & DRAINING != 0 {
            loom::thread::yield_now();
        }
        #[cfg(not(loom))]
        {
            let mut spins = 0u32;
            while self.state.load(Acquire) & DRAINING != 0 {
                spins += 1;
                if spins < 64 {
                    std::hint::spin_loop();
                } else {
                    crate::sched::yield_now();
                }
            }
        }
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

    /// A drain races a new `add` and a new waiter: the counter goes to zero (draining the
    /// first waiter's entry) while this thread raises it again and then waits itself, maybe while
    /// the drain still runs. Its counter is above zero all along, so that wait must time out
    /// (the model lets its deadline pass at any point), never be released by the earlier
    /// drain (module docs, "While `DRAINING`").
    #[test]
    fn loom_wg_drain_races_raise() {
        loom::model(|| {
            let wg = Arc::new(WaitGroup::new());
            wg.add(1).unwrap();
            // (A first waiter that queues makes the `done` below drain; its own deadline
            // keeps the model small: its entry stays queued until it withdraws it.)
            let w1 = {
                let wg = wg.clone();
                loom::thread::spawn(move || {
                    let r = wg.wait(Deadline::At(std::time::Instant::now()), None);
                    assert!(r == Ok(()) || r == Err(Error::TimedOut), "{r:?}");
                })
            };
            let d = {
                let wg = wg.clone();
                loom::thread::spawn(move || wg.done().unwrap())
            };
            wg.add(1).unwrap();
            // 1 or 2 now, and at least 1 until our own `done` below.
            assert_eq!(wg.wait(Deadline::At(std::time::Instant::now()), None), Err(Error::TimedOut));
            d.join().unwrap();
            wg.done().unwrap();
            w1.join().unwrap();
            assert_eq!(wg.count(), 0);
            assert!(lock(&wg.inner).is_empty());
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
            assert!(lock(&wg.inner).is_empty());
            assert_eq!(wg.wait(Deadline::Poll, None), Ok(()));
        });
    }
}
