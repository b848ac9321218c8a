//! Mutex with Go's two modes: normal (a woken waiter competes with arriving lockers, who
//! usually win: best throughput) and starvation (the unlocker hands the lock directly to the
//! oldest waiter: fairness), entered when a waiter has waited more than 1 ms.
//!
//! State word `state` (atomic):
//!
//! | bit       | meaning                                                              |
//! |-----------|----------------------------------------------------------------------|
//! | `LOCKED`  | someone owns the lock                                                |
//! | `WAITERS` | the wait queue is non-empty: `unlock` must take the slow path        |
//! | `STARVING`| mirror of `q.starving` (lockers don't spin: the lock is handed over) |
//! | `WOKEN`   | an unlocker took the right to wake a waiter in normal mode, and that waiter has not retried yet: later unlocks wake nobody (Go's `mutexWoken`) |
//!
//! Queue `q` (a lock): the waiters (oldest first; a woken waiter that lost the race goes
//! back to the front) and `starving`.
//!
//! # Invariants
//! 1. `WAITERS` is set and cleared only under `q`, and is set iff `q.waiters` is non-empty
//!    (stale entries of timed-out waiters included until they remove themselves).
//! 2. A waiter parks only after setting `WAITERS` in a CAS that saw `LOCKED`: the owner's
//!    unlock then fails its fast path (`LOCKED -> 0`) and runs the slow path, which either
//!    wakes a waiter, leaves that to the holder of `WOKEN`, or hands the lock over (no lost
//!    wake-up).
//! 3. Starvation mode: the unlocker never clears `LOCKED` while it can hand the lock to a
//!    waiter, so no arriving locker can barge in. It ends when the queue empties or the
//!    waiter served waited less than 1 ms.
//! 4. Exactly one of {hand-off/wake, timeout, cancel} completes a waiter (the token's CAS);
//!    a waiter that ends by timeout or cancel removes its entry itself, by key, in O(1)
//!    (`crate::waitlist`'s protocol).
//! 5. `WOKEN` is set only by a normal-mode unlock, in the same CAS that clears `LOCKED`, when
//!    `WAITERS` is set and `WOKEN` is not; that unlocker then wakes one waiter under `q`. It
//!    is cleared by the woken waiter in the CAS of its next try (it takes the lock, or sets
//!    `WAITERS` and queues again at the front), or, if every entry was stale, by the
//!    unlocker under `q` with `WAITERS` (the queue is empty then). So while it is set some
//!    waiter is awake and will look at the lock, and an unlock with waiters queued is one
//!    atomic instruction plus the wake, not a trip through `q` (under oversubscription every
//!    unlock finds waiters: `gr_bench mutex`'s 1,000 goroutines on 2 workers, where an
//!    unlock with a waiter already woken took `q` and released it for nothing; `chrt -f 10
//!    build/bench/gr_bench mutex 2000 2`, 6 runs interleaved with the library before: median
//!    58.2 -> 39.4 ns per lock+unlock, every paired ratio 0.63-0.74).
//!
//! ThreadSanitizer (`sys/sanitizer.rs`) is told of every unlock (a release at the mutex's
//! address) and every lock taken, on the fast paths too (an acquire there).
//!
//! Lock order (`sched/README.md`, "Lock order"): `q` is rank 31, outer to the scheduler's locks, which completing
//! tokens under it may take.
#![cfg_attr(not(loom), forbid(unsafe_code))] // (its loom model checks exclusion with an UnsafeCell)

use crate::cancel::Cancel;
use crate::chan::wait::{self, Token};
use crate::error::{Error, Result};
use crate::loom::rank::SYNC_MUTEX;
use crate::loom::{lock, AtomicU32, Mutex as Lock};
use crate::sys::sanitizer;
use crate::waiter::Deadline;
use crate::waitlist::WaitList;
use crate::waitreason::{kind, WaitReason};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::time::{Duration, Instant};

const LOCKED: u32 = 1;
const WAITERS: u32 = 2;
const STARVING: u32 = 4;
const WOKEN: u32 = 8;

/// Normal mode: the lock was released; compete for it.
const WAKE: u32 = wait::USER;
/// Starvation mode: the lock is yours.
const HANDOFF: u32 = wait::USER + 1;

const STARVE_AFTER: Duration = Duration::from_millis(1);
/// Spins (of ~30 pause instructions each) before queueing (none under loom: the model
/// explores the queueing path instead).
const SPINS: u32 = if cfg!(loom) { 0 } else { 4 };

struct Waiter {
    tok: Token,
    since: Instant,
}

#[derive(Default)]
struct Queue {
    waiters: WaitList<Waiter>,
    starving: bool,
}

#[derive(Default)]
pub struct Mutex {
    state: AtomicU32,
    q: Lock<Queue, SYNC_MUTEX>,
}

impl Mutex {
    pub fn new() -> Mutex {
        Mutex::default()
    }

    /// Takes the lock if it is free (barging, as in Go's normal mode).
    pub fn try_lock(&self) -> bool {
        let mut s = self.state.load(Relaxed);
        while s & LOCKED == 0 {
            match self.state.compare_exchange_weak(s, s | LOCKED, Acquire, Relaxed) {
                Ok(_) => {
                    self.locked();
                    return true;
                }
                Err(x) => s = x,
            }
        }
        false
    }

    pub fn is_locked(&self) -> bool {
        self.state.load(Relaxed) & LOCKED != 0
    }

    /// Locks, waiting up to `deadline`. `Again` for a poll that found it locked.
    pub fn lock(&self, deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
        if self.try_lock() {
            return Ok(());
        }
        // Spin only while the lock may be taken by barging (not in starvation mode).
        if deadline != Deadline::Poll && self.state.load(Relaxed) & STARVING == 0 {
            for _ in 0..SPINS {
                for _ in 0..30 {
                    std::hint::spin_loop();
                }
                if self.try_lock() {
                    return Ok(());
                }
            }
        }
        self.lock_slow(deadline, cancel)
    }

    /// The queueing path, out of line: the fast paths stay small (no register saves for it).
    #[inline(never)]
    fn lock_slow(&self, deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
        let mut since: Option<Instant> = None;
        let mut woken = false;
        loop {
            let mut q = lock(&self.q);
            // Take the lock if free, else announce a waiter while it is held (invariant 2);
            // a woken waiter gives the right to wake back in the same CAS (invariant 5).
            let clear = if woken && !woken_unclear() { WOKEN } else { 0 };
            let mut s = self.state.load(Relaxed);
            loop {
                if s & LOCKED == 0 {
                    match self.state.compare_exchange(s, (s | LOCKED) & !clear, Acquire, Relaxed) {
                        Ok(_) => {
                            self.locked();
                            return Ok(());
                        }
                        Err(x) => s = x,
                    }
                } else {
                    match self.state.compare_exchange(s, (s | WAITERS) & !clear, Relaxed, Relaxed) {
                        Ok(_) => break,
                        Err(x) => s = x,
                    }
                }
            }
            if let Err(e) = wait::may_wait(deadline) {
                if q.waiters.is_empty() {
                    self.state.fetch_and(!WAITERS, Relaxed);
                }
                return Err(e);
            }
            let t0 = *since.get_or_insert_with(Instant::now);
            let tok = wait::prepare(WaitReason::on(kind::MUTEX, self));
            let w = Waiter { tok: tok.clone(), since: t0 };
            let key = if woken {
                if waited_long(t0) {
                    self.set_starving(&mut q, true);
                }
                q.waiters.push_front(w)
            } else {
                q.waiters.push_back(w)
            };
            drop(q);
            match wait::block(&tok, deadline, cancel) {
                HANDOFF => {
                    self.locked();
                    return Ok(());
                }
                WAKE => woken = true,
                r => {
                    let mut q = lock(&self.q);
                    q.waiters.remove(key);
                    if q.waiters.is_empty() {
                        self.state.fetch_and(!WAITERS, Relaxed);
                    }
                    return Err(wait::error_of(r, deadline));
                }
            }
        }
    }

    /// The lock was taken: the last unlock happens before what the new owner does (TSan).
    #[inline]
    fn locked(&self) {
        sanitizer::acquire(self.sync_addr());
    }

    /// Where a sanitizer is told of unlocks and locks.
    fn sync_addr(&self) -> usize {
        self as *const Mutex as usize
    }

    /// Enters or leaves starvation mode (under `q`).
    fn set_starving(&self, q: &mut Queue, on: bool) {
        q.starving = on;
        if on {
            #[cfg(all(test, loom))]
            loom_tests::STARVINGS.with(|n| n.set(n.get() + 1));
            self.state.fetch_or(STARVING, Relaxed);
        } else {
            self.state.fetch_and(!STARVING, Relaxed);
        }
    }

    /// Unlocks (any caller may, as in Go). `State` if it is not locked.
    #[inline]
    pub fn unlock(&self) -> Result<()> {
        sanitizer::release(self.sync_addr()); // the next lock happens after this unlock
        // Looked at first, so that an unlock with waiters is one CAS, not a failed one and
        // another.
        let s = self.state.load(Relaxed);
        if s == LOCKED {
            match self.state.compare_exchange(LOCKED, 0, Release, Relaxed) {
                Ok(_) => return Ok(()),
                Err(s) => return self.unlock_slow(s),
            }
        }
        self.unlock_slow(s)
    }

    /// `unlock` with waiters queued, a woken waiter pending (or a starvation hand-off), out
    /// of line. `s`: the state word as last seen.
    #[inline(never)]
    fn unlock_slow(&self, mut s: u32) -> Result<()> {
        if s & LOCKED == 0 {
            return Err(Error::State);
        }
        if s & STARVING != 0 {
            let mut q = lock(&self.q);
            if self.state.load(Relaxed) & LOCKED == 0 {
                return Err(Error::State);
            }
            if q.starving {
                // Hand the lock to the oldest waiter without releasing it (invariant 3).
                while let Some(w) = q.waiters.pop_front() {
                    if w.tok.complete(HANDOFF) {
                        if q.waiters.is_empty() || !waited_long(w.since) {
                            self.set_starving(&mut q, false);
                        }
                        if q.waiters.is_empty() {
                            self.state.fetch_and(!WAITERS, Release);
                        }
                        return Ok(());
                    }
                }
                self.set_starving(&mut q, false);
                if q.waiters.is_empty() {
                    self.state.fetch_and(!WAITERS, Relaxed);
                }
            }
            drop(q);
            s = self.state.load(Relaxed);
        }
        // Normal mode: release, and take the right to wake a waiter if one is queued and
        // nobody holds that right (invariant 5).
        let wake = loop {
            if s & LOCKED == 0 {
                return Err(Error::State);
            }
            let wake = s & WAITERS != 0 && s & WOKEN == 0;
            let new = (s & !LOCKED) | if wake { WOKEN } else { 0 };
            match self.state.compare_exchange(s, new, Release, Relaxed) {
                Ok(_) => break wake,
                Err(x) => s = x,
            }
        };
        if wake {
            let mut q = lock(&self.q);
            while let Some(w) = q.waiters.pop_front() {
                if w.tok.complete(WAKE) {
                    if q.waiters.is_empty() {
                        self.state.fetch_and(!WAITERS, Relaxed);
                    }
                    return Ok(());
                }
            }
            // Only stale entries (waiters that timed out, removing themselves): nobody to
            // wake, and the queue is empty.
            self.state.fetch_and(!(WOKEN | WAITERS), Relaxed);
        }
        Ok(())
    }
}

/// A loom model's switch: the woken waiter keeps `WOKEN` (the bug invariant 5 guards
/// against), so that the model shows loom finds the lost wake-up. Always false elsewhere.
#[cfg(all(test, loom))]
fn woken_unclear() -> bool {
    loom_tests::KEEP_WOKEN.with(|k| k.get())
}

#[cfg(not(all(test, loom)))]
#[inline(always)]
fn woken_unclear() -> bool {
    false
}

/// Whether a locker queued since `since` has waited past [`STARVE_AFTER`] (Go's rule for
/// starvation mode).
#[cfg(not(all(test, loom)))]
#[inline]
fn waited_long(since: Instant) -> bool {
    since.elapsed() > STARVE_AFTER
}

/// Under loom the clock is a model's switch: a model must run the same way every time it
/// is replayed, and a test thread descheduled for a millisecond (a loaded machine) turned
/// normal mode into starvation mode half-way through an exploration ("Reached unexpected
/// exploration state", then a panic while unwinding: the test binary aborted).
#[cfg(all(test, loom))]
fn waited_long(_since: Instant) -> bool {
    loom_tests::STARVED.with(|k| k.get())
}

impl Drop for Mutex {
    fn drop(&mut self) {
        sanitizer::forget(self.sync_addr()); // handles' pools reuse the address
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::Arc;

    std::thread_local! {
        /// See `woken_unclear` (loom runs a model's threads on the test's own thread).
        pub(super) static KEEP_WOKEN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
        /// See `waited_long`: every queued locker counts as having waited too long.
        pub(super) static STARVED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
        /// How many times a model turned starvation mode on.
        pub(super) static STARVINGS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }

    /// The owner unlocks (waking the queued locker) and locks again at once, barging in
    /// before the woken locker retries; the woken locker queues again, and the owner's
    /// second unlock must wake it (invariant 5: the woken locker gave `WOKEN` back when it
    /// queued again). Both finish, and the state word ends clean.
    fn relock_while_woken() {
        loom::model(|| {
            let mu = Arc::new(Mutex::new());
            mu.lock(Deadline::Never, None).unwrap();
            let m2 = mu.clone();
            let t = loom::thread::spawn(move || {
                m2.lock(Deadline::Never, None).unwrap();
                m2.unlock().unwrap();
            });
            mu.unlock().unwrap();
            mu.lock(Deadline::Never, None).unwrap();
            mu.unlock().unwrap();
            t.join().unwrap();
            assert_eq!(mu.state.load(Relaxed), 0);
        });
    }

    #[test]
    fn loom_mutex_relock_while_woken() {
        relock_while_woken();
    }

    /// The same barging owner with every wait counted as past `STARVE_AFTER`: the woken
    /// locker queues again at the front and turns starvation mode on, and the owner's second
    /// unlock hands it the lock (invariant 3). Both finish, and the state word ends clean.
    #[test]
    fn loom_mutex_starvation_hands_over() {
        STARVED.with(|k| k.set(true));
        STARVINGS.with(|n| n.set(0));
        let r = std::panic::catch_unwind(relock_while_woken);
        STARVED.with(|k| k.set(false));
        if let Err(p) = r {
            std::panic::resume_unwind(p);
        }
        assert!(STARVINGS.with(|n| n.get()) > 0, "no execution entered starvation mode");
    }

    /// The model finds the lost wake-up when the woken locker keeps `WOKEN` (so the test
    /// above means something): its second wait is never woken, and loom gives up on the
    /// spinning model (or its final assertion fails).
    #[test]
    fn loom_mutex_kept_woken_loses_the_wake() {
        KEEP_WOKEN.with(|k| k.set(true));
        let r = std::panic::catch_unwind(relock_while_woken);
        KEEP_WOKEN.with(|k| k.set(false));
        assert!(r.is_err(), "loom found no lost wake-up with WOKEN kept");
    }

    /// Two lockers and the hand-over: mutual exclusion, and the state word ends clean
    /// (no lost wake-up: both finish).
    #[test]
    fn loom_mutex_two_lockers() {
        loom::model(|| {
            let mu = Arc::new(Mutex::new());
            let n = Arc::new(loom::cell::UnsafeCell::new(0u32));
            let (m2, n2) = (mu.clone(), n.clone());
            let t = loom::thread::spawn(move || {
                m2.lock(Deadline::Never, None).unwrap();
                // SAFETY: under the mutex (loom checks the accesses do not race).
                n2.with_mut(|p| unsafe { *p += 1 });
                m2.unlock().unwrap();
            });
            mu.lock(Deadline::Never, None).unwrap();
            // SAFETY: under the mutex.
            n.with_mut(|p| unsafe { *p += 1 });
            mu.unlock().unwrap();
            t.join().unwrap();
            // SAFETY: both lockers are done.
            assert_eq!(n.with(|p| unsafe { *p }), 2);
            assert_eq!(mu.state.load(Relaxed), 0);
        });
    }

    /// A locker whose deadline races the unlock either gets the lock or times out and
    /// leaves no trace.
    #[test]
    fn loom_mutex_timeout_races_unlock() {
        loom::model(|| {
            let mu = Arc::new(Mutex::new());
            mu.lock(Deadline::Never, None).unwrap();
            let m2 = mu.clone();
            let t = loom::thread::spawn(move || {
                let r = m2.lock(Deadline::At(Instant::now()), None);
                if r.is_ok() {
                    m2.unlock().unwrap();
                }
                r
            });
            mu.unlock().unwrap();
            let r = t.join().unwrap();
            assert!(r == Ok(()) || r == Err(Error::TimedOut), "{r:?}");
            assert_eq!(mu.state.load(Relaxed), 0);
            assert!(lock(&mu.q).waiters.is_empty());
        });
    }
}
