//! Timers: one heap of deadlines, served by the monitor thread.
//!
//! `gr_sleep` and every timeout of a parked goroutine end through here: the monitor sleeps
//! until the earliest deadline, then completes the due tokens with `TIMEOUT` (a no-op for
//! waits that already ended). So 100,000 sleeping goroutines cost one heap, no threads, and a
//! timer-only workload leaves the CPU idle between deadlines.
//!
//! The heap holds two kinds of entries:
//! - *waits* ([`Timers::add`]): a wait token, completed with `TIMEOUT` at its deadline.
//! - *alarms* ([`Timers::arm`]): an object with a deadline of its own, a timer channel
//!   (`chan/timer.rs`) or a context's deadline (`cancel.rs`), rung ([`Alarm::ring`]) with
//!   the tag it was armed with. Alarms are indexed: each knows its slot in the heap (written
//!   under the heap lock at every move), so stopping one ([`Timers::disarm`]) removes it at
//!   once in O(log n) and frees what it holds. An alarm checks the tag under its own lock
//!   when rung, so a ring racing a stop or a re-arm is told apart and ignored.
//!
//! Entries of waits that ended early (data came, a cancel, or a select's other case) stay
//! until their deadline, where completing them is a failed CAS; when the heap has more than
//! doubled since the last sweep (plus 1,024), `add` sweeps out every ended wait. A sweep of n
//! entries comes after at least n/2 adds, so ended waits cost amortised O(1) each, and the
//! heap holds at most twice the open timed waits plus 1,024 entries (each pins its owner's
//! `G` or thread cell, not its stack). Go keeps deleted timers in its heaps the same way,
//! cleaning them out when they pass a quarter. Rejected: a heap index in every wait token, to
//! remove the entry at once in O(log n): it would cost every timed wait that ends early a
//! lock round trip and a sift, where the sweep costs a few comparisons per entry. (Alarms
//! pay that price because they are few and long-lived: a stopped timer must not pin its
//! channel until a deadline an hour away.)
//!
//! Rejected: per-processor heaps as in Go. They avoid one lock, but a parked goroutine's
//! timer must then be found and moved when processors are handed off or go idle, and an idle
//! processor must still wake for its timers. One heap with one server is simpler and, at the
//! rates goroutines sleep, not the bottleneck (measured in `make bench`).
//!
//! Lock order: `Timers::heap` (rank `TIMERS`, `sched/README.md`) is a leaf, taken under the
//! scheduler lock, a channel lock (arming a timer channel) or a context's lock at most;
//! tokens are completed, alarms rung and removed entries dropped after it is released.
#![forbid(unsafe_code)]

use crate::loom::rank;
use crate::waiter::{Token, TIMEOUT};
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::Arc;
use std::sync::Condvar;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

/// An alarm's slot when it is not in the heap.
pub(crate) const NOT_HEAPED: usize = usize::MAX;

/// An object with a deadline of its own in the heap (module docs).
pub(crate) trait Alarm: Send + Sync {
    /// This alarm's index in the heap, [`NOT_HEAPED`] when it is not there. Only the heap
    /// writes it, under its lock; the alarm reads it under the heap lock too.
    fn heap_slot(&self) -> &AtomicUsize;
    /// The deadline `at` of the arming `tag` has come. Called by the monitor with no lock
    /// held, after the entry left the heap; the alarm ignores a tag it no longer knows.
    fn ring(self: Arc<Self>, tag: u64, at: Instant);
}

enum What {
    Wait(Token),
    Alarm(Arc<dyn Alarm>, u64),
}

struct Entry {
    at: Instant,
    seq: u64,
    what: What,
}

impl Entry {
    /// Swept entries: waits that ended. Alarms leave the heap when stopped, never by a sweep.
    fn live(&self) -> bool {
        match &self.what {
            What::Wait(t) => t.is_pending(),
            What::Alarm(..) => true,
        }
    }
}

/// A binary min-heap on `(at, seq)` that tells each alarm where it sits.
#[derive(Default)]
struct Heap {
    v: Vec<Entry>,
    seq: u64,
    swept_len: usize,
}

impl Heap {
    #[inline]
    fn less(&self, a: usize, b: usize) -> bool {
        let (x, y) = (&self.v[a], &self.v[b]);
        (x.at, x.seq) < (y.at, y.seq)
    }

    /// Records in an alarm entry's object that it now sits at `i`.
    #[inline]
    fn place(&self, i: usize) {
        if let What::Alarm(a, _) = &self.v[i].what {
            a.heap_slot().store(i, Relaxed);
        }
    }

    fn swap(&mut self, i: usize, j: usize) {
        self.v.swap(i, j);
        self.place(i);
        self.place(j);
    }

    fn sift_up(&mut self, mut i: usize) {
        while i > 0 {
            let p = (i - 1) / 2;
            if !self.less(i, p) {
                break;
            }
            self.swap(i, p);
            i = p;
        }
    }

    fn sift_down(&mut self, mut i: usize) {
        loop {
            let l = 2 * i + 1;
            if l >= self.v.len() {
                break;
            }
            let r = l + 1;
            let m = if r < self.v.len() && self.less(r, l) { r } else { l };
            if !self.less(m, i) {
                break;
            }
            self.swap(m, i);
            i = m;
        }
    }

    fn push(&mut self, at: Instant, what: What) {
        self.seq += 1;
        self.v.push(Entry { at, seq: self.seq, what });
        let i = self.v.len() - 1;
        self.place(i);
        self.sift_up(i);
    }

    fn peek(&self) -> Option<&Entry> {
        self.v.first()
    }

    /// Takes out the entry at `i` (the caller drops it after releasing the heap lock).
    fn remove_at(&mut self, i: usize) -> Entry {
        let last = self.v.len() - 1;
        if i != last {
            self.swap(i, last);
        }
        let e = self.v.pop().expect("non-empty");
        if i < self.v.len() {
            self.sift_down(i);
            self.sift_up(i);
        }
        if let What::Alarm(a, _) = &e.what {
            a.heap_slot().store(NOT_HEAPED, Relaxed);
        }
        e
    }

    /// Drops ended waits and restores the heap (alarms keep their slots right).
    fn sweep(&mut self) -> Vec<Entry> {
        let (keep, gone): (Vec<Entry>, Vec<Entry>) = std::mem::take(&mut self.v).into_iter().partition(Entry::live);
        self.v = keep;
        for i in (0..self.v.len() / 2).rev() {
            self.sift_down(i);
        }
        for i in 0..self.v.len() {
            self.place(i);
        }
        self.swept_len = self.v.len();
        gone
    }
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
        let (earliest, swept) = {
            let mut h = lock(&self.heap);
            let earliest = h.peek().is_none_or(|e| at < e.at);
            h.push(at, What::Wait(tok));
            let swept = if h.v.len() > 2 * h.swept_len + 1024 { h.sweep() } else { Vec::new() };
            (earliest, swept)
        };
        drop(swept);
        if earliest {
            self.cond.notify_one();
        }
    }

    /// Puts alarm `a` (not in the heap now) in the heap: it is rung with `tag` at `at`.
    pub(crate) fn arm(&self, at: Instant, a: Arc<dyn Alarm>, tag: u64) {
        let earliest = {
            let mut h = lock(&self.heap);
            debug_assert_eq!(a.heap_slot().load(Relaxed), NOT_HEAPED, "an alarm is armed once at a time");
            let earliest = h.peek().is_none_or(|e| at < e.at);
            h.push(at, What::Alarm(a, tag));
            earliest
        };
        if earliest {
            self.cond.notify_one();
        }
    }

    /// Takes alarm `a` out of the heap if it is there (`true`); O(log n). An alarm already
    /// taken out to be rung is not there: its ring comes, with its tag.
    pub(crate) fn disarm(&self, a: &dyn Alarm) -> bool {
        let gone = {
            let mut h = lock(&self.heap);
            let i = a.heap_slot().load(Relaxed);
            // (The check also guards against a slot of another runtime's heap, after a
            // shutdown and a new `gr_init`.)
            let ours = h.v.get(i).is_some_and(|e| matches!(&e.what, What::Alarm(x, _) if std::ptr::addr_eq(Arc::as_ptr(x), a as *const dyn Alarm)));
            if !ours {
                return false;
            }
            h.remove_at(i)
        };
        drop(gone); // possibly the last reference to the alarm's object: outside the lock
        true
    }

    /// Completes every due wait and rings every due alarm; returns the next deadline, if any.
    pub fn fire_due(&self, now: Instant) -> Option<Instant> {
        let mut due = Vec::new();
        let next = {
            let mut h = lock(&self.heap);
            while h.peek().is_some_and(|e| e.at <= now) {
                due.push(h.remove_at(0));
            }
            h.peek().map(|e| e.at)
        };
        for e in due {
            match e.what {
                What::Wait(t) => {
                    t.complete(TIMEOUT);
                }
                What::Alarm(a, tag) => a.ring(tag, e.at),
            }
        }
        next
    }

    /// Entries in the heap now (waits, ended or not, and alarms). For tests and stats.
    pub fn len(&self) -> usize {
        lock(&self.heap).v.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The monitor's sleep: until `until` (or a new earliest timer), or, when `idle()` says
    /// no processor runs and no timer is armed, until `wake_monitor`. `deep` is raised while
    /// the check and the wait happen under the heap lock, so `wake_monitor` cannot be lost.
    /// `look_again`: even a sleep that activity ends wakes by then (the deadlock report's
    /// second look).
    pub(crate) fn monitor_sleep(&self, until: Option<Instant>, look_again: Option<Instant>, deep: &AtomicBool, idle: impl Fn() -> bool) {
        let h = lock(&self.heap);
        let next = h.peek().map(|e| e.at);
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
    /// `gr_stats` and the deadlock report (O(n) under the heap lock). Alarms are not waits
    /// (a receiver parked on a timer channel waits on the channel).
    pub(crate) fn pending(&self) -> Vec<(usize, u32, Instant)> {
        let h = lock(&self.heap);
        h.v.iter()
            .filter_map(|e| match &e.what {
                What::Wait(t) if t.is_pending() => {
                    let (c, s) = t.key();
                    Some((c, s, e.at))
                }
                _ => None,
            })
            .collect()
    }

    /// Whether anything armed here will wake someone: an open wait, or an alarm (a timer
    /// channel with a receiver parked, a context's deadline). The deadlock report: stops at
    /// the first.
    pub(crate) fn any_pending(&self) -> bool {
        lock(&self.heap).v.iter().any(Entry::live)
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
        let n = t.len();
        assert!(n <= 2 + 1024 + 1, "{n} entries");
    }
}
