//! Timers: one heap of (deadline, token), served by the monitor thread.
//!
//! `gr_sleep` and every timeout of a parked goroutine end through here: the monitor sleeps
//! until the earliest deadline, then completes the due tokens with `TIMEOUT` (a no-op for
//! waits that already ended). So 100,000 sleeping goroutines cost one heap, no threads, and a
//! timer-only workload leaves the CPU idle between deadlines.
//!
//! Entries of waits that ended early (data came, a cancel, or a select's other case) stay
//! until their deadline, where completing them is a failed CAS; when the heap has more than
//! doubled since the last sweep (plus 1,024), `add` sweeps out every ended wait. A sweep of n
//! entries comes after at least n/2 adds, so ended waits cost amortised O(1) each, and the
//! heap holds at most twice the open timed waits plus 1,024 entries (each pins its owner's
//! `G` or thread cell, not its stack). Go keeps deleted timers in its heaps the same way,
//! cleaning them out when they pass a quarter. Rejected: a heap index in every wait token, to
//! remove the entry at once in O(log n): it would cost every timed wait that ends early a
//! lock round trip and a sift, where the sweep costs a few comparisons per entry.
//!
//! Rejected: per-processor heaps as in Go. They avoid one lock, but a parked goroutine's
//! timer must then be found and moved when processors are handed off or go idle, and an idle
//! processor must still wake for its timers. One heap with one server is simpler and, at the
//! rates goroutines sleep, not the bottleneck (measured in `make bench`).
//!
//! Lock order: `Timers::heap` (rank `TIMERS`, `sched/README.md`) is a leaf, taken under the
//! scheduler lock at most; tokens are completed after it is released.
#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Mutex, MutexGuard};
use crate::loom::rank;
use crate::waiter::{Token, TIMEOUT};
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::Condvar;
use std::time::Instant;

struct Entry {
    at: Instant,
    seq: u64,
    tok: Token,
}
impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        self.at == o.at && self.seq == o.seq
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    // Reversed: BinaryHeap is a max-heap, we want the earliest first.
    fn cmp(&self, o: &Self) -> Ordering {
        o.at.cmp(&self.at).then(o.seq.cmp(&self.seq))
    }
}

#[derive(Default)]
struct Heap {
    heap: BinaryHeap<Entry>,
    seq: u64,
    swept_len: usize,
}

/// The heap's lock (a std mutex: the monitor waits on `cond` with it), its rank recorded for
/// the debug lock-order check (`crate::loom::rank`).
struct Locked<'a> {
    g: MutexGuard<'a, Heap>,
    _rank: rank::Held,
}

impl std::ops::Deref for Locked<'_> {
    type Target = Heap;
    fn deref(&self) -> &Heap {
        &self.g
    }
}

impl std::ops::DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut Heap {
        &mut self.g
    }
}

fn lock(m: &Mutex<Heap>) -> Locked<'_> {
    let _rank = rank::Held::enter(rank::TIMERS, m as *const Mutex<Heap> as usize);
    Locked { g: m.lock().unwrap_or_else(|p| p.into_inner()), _rank }
}

#[derive(Default)]
pub struct Timers {
    heap: Mutex<Heap>,
    /// Signalled when a new earliest deadline arrives; the monitor waits on it.
    pub(crate) cond: Condvar,
}

impl Timers {
    /// Arms `tok` to be completed with TIMEOUT at `at`.
    pub fn add(&self, at: Instant, tok: Token) {
        let earliest = {
            let mut h = lock(&self.heap);
            h.seq += 1;
            let seq = h.seq;
            let earliest = h.heap.peek().is_none_or(|e| at < e.at);
            h.heap.push(Entry { at, seq, tok });
            if h.heap.len() > 2 * h.swept_len + 1024 {
                let old = std::mem::take(&mut h.heap);
                h.heap = old.into_iter().filter(|e| e.tok.is_pending()).collect();
                h.swept_len = h.heap.len();
            }
            earliest
        };
        if earliest {
            self.cond.notify_one();
        }
    }

    /// Completes every due timer; returns the next deadline, if any.
    pub fn fire_due(&self, now: Instant) -> Option<Instant> {
        let mut due = Vec::new();
        let next = {
            let mut h = lock(&self.heap);
            while h.heap.peek().is_some_and(|e| e.at <= now) {
                due.push(h.heap.pop().expect("peeked").tok);
            }
            h.heap.peek().map(|e| e.at)
        };
        for t in due {
            t.complete(TIMEOUT);
        }
        next
    }

    /// The monitor's sleep: until `until` (or a new earliest timer), or, when `idle()` says
    /// no processor runs and no timer is armed, until `wake_monitor`. `deep` is raised while
    /// the check and the wait happen under the heap lock, so `wake_monitor` cannot be lost.
    /// `look_again`: even a sleep that activity ends wakes by then (the deadlock report's
    /// second look).
    pub(crate) fn monitor_sleep(&self, until: Option<Instant>, look_again: Option<Instant>, deep: &AtomicBool, idle: impl Fn() -> bool) {
        let h = lock(&self.heap);
        let next = h.heap.peek().map(|e| e.at);
        // A short periodic wait (`until` given: processors are running) needs no waking; a
        // wait bounded only by timers, or none, must end when a processor gets busy. Raise
        // the flag first, then check idleness (wakers read the flag after taking a processor).
        let wakeable = until.is_none();
        if wakeable {
            deep.store(true, SeqCst);
            if !idle() {
                deep.store(false, SeqCst);
                return;
            }
        }
        let until = [until, next, look_again].into_iter().flatten().min();
        let _h = match until {
            Some(t) => match t.checked_duration_since(Instant::now()) {
                Some(d) => self.cond.wait_timeout(h.g, d).map(|r| r.0).unwrap_or_else(|p| p.into_inner().0),
                None => h.g,
            },
            None => self.cond.wait(h.g).unwrap_or_else(|p| p.into_inner()),
        };
        if wakeable {
            deep.store(false, SeqCst);
        }
    }

    /// The open waits armed here: (wait cell address, wait sequence, deadline), for dumps,
    /// `gr_stats` and the deadlock report (O(n) under the heap lock).
    pub(crate) fn pending(&self) -> Vec<(usize, u32, Instant)> {
        let h = lock(&self.heap);
        h.heap
            .iter()
            .filter(|e| e.tok.is_pending())
            .map(|e| {
                let (c, s) = e.tok.key();
                (c, s, e.at)
            })
            .collect()
    }

    /// Whether any open wait is armed here (the deadlock report: stops at the first).
    pub(crate) fn any_pending(&self) -> bool {
        lock(&self.heap).heap.iter().any(|e| e.tok.is_pending())
    }

    /// Wakes the monitor whatever it waits for (shutdown).
    pub(crate) fn wake_monitor_forced(&self) {
        let _h = lock(&self.heap);
        self.cond.notify_all();
    }

    /// Wakes a monitor sleeping in `monitor_sleep` (a processor became busy).
    pub(crate) fn wake_monitor(&self, deep: &AtomicBool) {
        if deep.load(SeqCst) {
            // The runtime was idle, the monitor asleep: its coarse clock is stale, and a
            // goroutine may park before the monitor runs again (`waitreason.rs`).
            crate::waitreason::refresh_clock();
            let _h = lock(&self.heap);
            self.cond.notify_one();
        }
    }

}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::time::Duration;

    /// 100,000 timed waits that each end long before their deadline (every `prepare` of this
    /// thread's cell ends the previous wait) leave at most 2 x 1 + 1,024 entries: swept.
    #[test]
    fn ended_waits_are_swept() {
        let t = Timers::default();
        let far = Instant::now() + Duration::from_secs(3600);
        for _ in 0..100_000 {
            t.add(far, crate::waiter::prepare(crate::waitreason::WaitReason::NONE));
        }
        let n = lock(&t.heap).heap.len();
        assert!(n <= 2 + 1024 + 1, "{n} entries");
    }
}
