//! Thread slots of bound goroutines (`GR_SPAWN_BOUND`).
//!
//! A bound goroutine runs on an M's own stack and may block there, holding that thread until
//! it returns. If bound goroutines could take every thread `max_threads` allows, one that
//! waits in a queue (the sender the blocked ones wait for) would find no thread to run on,
//! and nothing would fail: a silent hang. So each bound goroutine holds a *slot* from its
//! spawn until it returns (`Runtime::retire`), and there are `max_threads - workers - 1`
//! slots: whatever the bound goroutines do, the runtime keeps a thread for every processor
//! and for the monitor, so every queued goroutine, bound or not, gets a thread.
//!
//! A spawn that finds every slot taken waits for one, up to its `timeout_ns`
//! (`gr_spawn_opts`): it fails with `Again` (a poll) or `TimedOut` instead of queueing a
//! goroutine that might never run. The wait is a waiter wait (it parks a goroutine, blocks a
//! thread); a slot freed while spawns wait is handed to the first of them, so `used` drops
//! only when none waits.
//!
//! Shutdown ([`BoundSlots::close`], once `gr_shutdown` has closed spawns): the spawns waiting
//! for a slot end at once with `State` (they would be refused anyway, and one waiting with
//! `GR_FOREVER` would keep the runtime from being reclaimed for good), and a spawn that finds
//! every slot taken from then on does not wait. A spawn that got a slot before is refused by
//! the spawn's own admission (`spawn.rs`) and gives the slot back.
//!
//! Lock order (`README.md`, "Lock order"): `waiters` is rank 33; nothing is taken under it
//! (tokens are completed after it is released).

use crate::error::{Error, Result};
use crate::loom::rank::BOUND_SLOTS;
use crate::loom::{lock, AtomicUsize, Mutex};
use crate::waiter::{self, Deadline, Token, DONE, USER};
use crate::waitlist::WaitList;
use crate::waitreason::WaitReason;
#[cfg(all(test, not(loom)))]
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::Ordering::SeqCst;

/// The result of a wait that [`BoundSlots::close`] ended.
const CLOSED: u32 = USER;

pub(crate) struct BoundSlots {
    cap: usize,
    /// Slots held: bound goroutines spawned and not yet retired, and slots handed to waiters.
    used: AtomicUsize,
    /// Spawns waiting for a slot, oldest first (`crate::waitlist`: a spawn that times out
    /// withdraws in O(1)).
    waiters: Mutex<Waiters, BOUND_SLOTS>,
}

#[derive(Default)]
struct Waiters {
    q: WaitList<Token>,
    /// Set by `close`: no spawn waits any more.
    closed: bool,
}

impl BoundSlots {
    pub(crate) fn new(cap: usize) -> BoundSlots {
        BoundSlots { cap: cap.max(1), used: AtomicUsize::new(0), waiters: Mutex::new(Waiters::default()) }
    }

    /// Takes a free slot without waiting; `false` if every slot is held. A spawn tries this
    /// before it computes the deadline of its wait (a clock read for a relative timeout).
    pub(crate) fn try_take(&self) -> bool {
        self.used.fetch_update(SeqCst, SeqCst, |n| (n < self.cap).then_some(n + 1)).is_ok()
    }

    /// Takes a slot, waiting until `deadline` for one: `Again` for a poll, `TimedOut`; `State`
    /// once the slots are closed (shutdown) and none is free.
    pub(crate) fn acquire(&self, deadline: Deadline) -> Result<()> {
        if self.try_take() {
            return Ok(());
        }
        waiter::may_wait(deadline)?;
        // No wait reason code of its own yet (the codes below 16 that gr_stats reports are
        // taken or reserved): dumps show a plain "wait".
        let tok = waiter::prepare(WaitReason::NONE);
        let key = {
            let mut q = lock(&self.waiters);
            // Under the lock: `release` returns a slot to `used` only with no waiter queued.
            if self.try_take() {
                drop(q);
                waiter::block(&tok, Deadline::Poll, None); // withdraw the announced park
                return Ok(());
            }
            if q.closed {
                drop(q);
                waiter::block(&tok, Deadline::Poll, None);
                return Err(Error::State);
            }
            q.q.push_back(tok.clone())
        };
        let r = waiter::block(&tok, deadline, None);
        if r == DONE {
            return Ok(()); // `release` handed us its slot
        }
        if r == CLOSED {
            return Err(Error::State); // `close` took us off the queue
        }
        // Timed out. If `release` or `close` popped us meanwhile, its completion failed (our
        // wait was already over) and `release` passes the slot on: nothing is lost either way.
        lock(&self.waiters).q.remove(key);
        Err(waiter::error_of(r, deadline))
    }

    /// Gives a slot back (a bound goroutine returned): to the oldest waiting spawn, else free.
    pub(crate) fn release(&self) {
        loop {
            let tok = {
                let mut q = lock(&self.waiters);
                match q.q.pop_front() {
                    Some(t) => t,
                    None => {
                        self.used.fetch_sub(1, SeqCst);
                        return;
                    }
                }
            };
            if tok.complete(DONE) {
                return; // the slot is theirs now
            }
            // That spawn timed out just now: try the next one.
        }
    }

    /// Shutdown: ends every waiting spawn with `State`; later spawns do not wait (module
    /// docs). Slots held stay held until their goroutines return.
    pub(crate) fn close(&self) {
        let waiting: Vec<Token> = {
            let mut q = lock(&self.waiters);
            q.closed = true;
            q.q.drain().collect()
        };
        for t in waiting {
            t.complete(CLOSED); // (fails for a spawn that timed out meanwhile: it is gone)
        }
    }

    /// Slots held now.
    #[cfg(all(test, not(loom)))]
    fn used(&self) -> usize {
        self.used.load(Relaxed)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    //! The slots on plain threads (waits block the thread; no runtime needed).
    use super::BoundSlots;
    use crate::error::Error;
    use crate::waiter::Deadline;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    fn within(ms: u64) -> Deadline {
        Deadline::At(Instant::now() + Duration::from_millis(ms))
    }

    #[test]
    fn full_slots_poll_and_time_out() {
        let s = BoundSlots::new(2);
        s.acquire(Deadline::Poll).unwrap();
        s.acquire(Deadline::Never).unwrap();
        assert_eq!(s.acquire(Deadline::Poll), Err(Error::Again));
        let t0 = Instant::now();
        assert_eq!(s.acquire(within(30)), Err(Error::TimedOut));
        assert!(t0.elapsed() >= Duration::from_millis(25));
        assert_eq!(s.used(), 2);
        s.release();
        s.acquire(Deadline::Poll).unwrap();
        s.release();
        s.release();
        assert_eq!(s.used(), 0);
    }

    #[test]
    fn a_freed_slot_goes_to_the_oldest_waiter() {
        let s = Arc::new(BoundSlots::new(1));
        s.acquire(Deadline::Never).unwrap();
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || s.acquire(Deadline::Never))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(50)); // all three are queued
        for _ in 0..3 {
            s.release(); // each hands the one slot to the next waiter
            std::thread::sleep(Duration::from_millis(10));
        }
        for w in waiters {
            w.join().unwrap().unwrap();
        }
        assert_eq!(s.used(), 1, "the last waiter holds the slot");
        s.release();
        assert_eq!(s.used(), 0);
    }

    /// `close` (shutdown) ends the spawns waiting for a slot, `GR_FOREVER` ones included,
    /// with `State`, and later ones do not wait; a slot released after it is free again.
    #[test]
    fn close_ends_waiting_spawns() {
        let s = Arc::new(BoundSlots::new(1));
        s.acquire(Deadline::Never).unwrap();
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || s.acquire(Deadline::Never))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(50)); // all three are queued
        s.close();
        for w in waiters {
            assert_eq!(w.join().unwrap(), Err(Error::State));
        }
        assert_eq!(s.acquire(within(10_000)), Err(Error::State), "no wait once closed");
        s.release();
        assert_eq!(s.used(), 0);
    }

    /// Waiters that time out while slots are released lose nothing: every slot comes back.
    #[test]
    fn timeouts_racing_releases_lose_no_slot() {
        let s = Arc::new(BoundSlots::new(4));
        for _ in 0..4 {
            s.acquire(Deadline::Poll).unwrap();
        }
        let waiters: Vec<_> = (0..16)
            .map(|i| {
                let s = s.clone();
                std::thread::spawn(move || {
                    let got = s.acquire(within(1 + i % 5)).is_ok();
                    if got {
                        std::thread::sleep(Duration::from_micros(200));
                        s.release();
                    }
                    got
                })
            })
            .collect();
        for _ in 0..4 {
            std::thread::sleep(Duration::from_millis(2));
            s.release();
        }
        for w in waiters {
            w.join().unwrap();
        }
        assert_eq!(s.used(), 0, "a slot was lost or counted twice");
        for _ in 0..4 {
            s.acquire(Deadline::Poll).unwrap();
        }
        assert_eq!(s.acquire(Deadline::Poll), Err(Error::Again));
    }
}
