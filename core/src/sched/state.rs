//! The goroutine park/unpark handshake, kept apart so loom can model it.
//!
//! A goroutine parks in two steps, because the waker may find it (through a channel queue, a
//! timer or a cancel token) before it has finished switching away. The handshake lives in
//! the goroutine's wait cell word (`waiter.rs`: `seq << 32 | flags | result`), beside the
//! wait it parks for, so that the completer's one CAS both wins the wait and learns whether
//! it must queue the goroutine: a wake is one locked instruction, not two.
//!
//! | word (low half)             | meaning                                   | who owns the goroutine's stack |
//! |-----------------------------|-------------------------------------------|--------------------------------|
//! | `PENDING`, no flag          | running (its wait announced: parking)     | the M running it               |
//! | `PENDING \| PARKED`         | switched away; nobody runs it             | nobody: the completer          |
//! | `PENDING \| PARKED \| HELD` | parked, held by a dump reading its stack  | the dump, until it clears `HELD` |
//! | `PENDING \| RELEASED`       | parked in a runtime that was reclaimed    | nobody: its stack is unmapped, it never runs again |
//! | a result, no `PARKED`       | woken (or never parked: a poll, a past deadline) | the M running it, or the queue it is in |
//!
//! 1. The goroutine opens its wait (`waiter::prepare`: `(seq, PENDING)`), publishes it, and
//!    suspends to its M's scheduler, unless the wait is already complete.
//! 2. The scheduler ([`commit_park`]) CASes `(seq, PENDING) -> (seq, PENDING | PARKED)`. If
//!    that fails a completer came first (the word holds its result): the scheduler queues the
//!    goroutine itself.
//! 3. Completers race ([`complete`]): `(seq, PENDING | f) -> (seq, result)`. Exactly one wins,
//!    and the flags `f` it replaced say whether the goroutine had switched away: with
//!    `PARKED` the winner owns it and queues it ([`woke_parked`]); without, step 2 is still to
//!    come and fails, or the goroutine never suspended (step 1 saw the result).
//!
//! A goroutine whose wait can only be completed under a lock it holds (a channel's plain
//! wait: `Suspend::ParkUnlock`) switches away holding it; its M does step 2 with a plain
//! store ([`mark_parked`]) and then unlocks, so every completer comes after step 2.
//!
//! So every park is matched by exactly one queueing, whichever side comes second, and a
//! wait completed before its goroutine suspends costs the goroutine nothing (it sees the
//! result in step 1 and carries on; no flag to wait for).
//!
//! A runtime reclaimed with goroutines still parked in it (`runtime.rs`, `release_parked`)
//! turns `PARKED` into `RELEASED` ([`release_parked`]) and takes back the reference the park
//! leaked, as a waker would, but queues nothing. A completer that comes later (it completed a
//! wait the goroutine registered in an object that outlived the runtime: freeing a context of
//! that runtime fires it, `gr_cancel_free`) wins the word but finds no `PARKED` in it and
//! queues nothing: the goroutine is gone, and the completer's token keeps the record itself
//! alive while it looks.
//!
//! A dump (`crate::dump`) holds a parked goroutine still while it reads its stack: it CASes
//! `PENDING | PARKED -> PENDING | PARKED | HELD` (only a goroutine that has switched away and
//! is not yet woken can be held) and clears `HELD` when done. A completer keeps `HELD` in the
//! word it writes, and one that replaced `PARKED | HELD` waits for the dump to clear it before
//! it queues the goroutine; the dump takes no lock while it holds a goroutine, so that wait is
//! short (microseconds) and cannot deadlock. The hot path pays nothing for it: the
//! completer's CAS is the one it makes anyway.
//!
//! Thread owners (plain threads, bound goroutines) never set a flag: their wake is the
//! cell's futex (`waiter.rs`).
#![forbid(unsafe_code)]

use crate::loom::AtomicU64;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release, SeqCst};

/// The goroutine has switched away with its wait open (step 2).
pub const PARKED: u64 = 1 << 29;
/// A dump holds the parked goroutine still (it reads its stack).
pub const HELD: u64 = 1 << 30;
/// Its runtime was reclaimed while it was parked: it never runs again.
pub const RELEASED: u64 = 1 << 31;
/// Every flag bit.
pub const FLAGS: u64 = PARKED | HELD | RELEASED;
/// The result bits of the word's low half (results are below `1 << 29`: `waiter::RESULT_MAX`).
pub const RESULT: u64 = PARKED - 1;

/// The sequence-and-result part of a cell word (flags cleared).
#[inline(always)]
pub fn unflagged(s: u64) -> u64 {
    s & !FLAGS
}

/// Step 3, by a completer: ends the wait `open` (its `seq << 32`) with `result`. `Some(old)`
/// with the word it replaced if it won (hand `old` to [`woke_parked`]); `None` if the wait
/// was already ended (by anyone) or `open` is stale. `guess`: the flags the word most likely
/// holds (`PARKED` for a goroutine owner, which has usually switched away by the time its
/// wait is completed; 0 for a thread): a wrong guess costs one failed CAS, a locked
/// instruction like the one it saves.
#[inline(always)]
pub fn complete(w: &AtomicU64, open: u64, result: u32, guess: u64) -> Option<u64> {
    debug_assert!(result as u64 & !RESULT == 0 && result != 0);
    let mut cur = open | guess;
    loop {
        // Keep a dump's hold (and a reclaim's mark): only the flags that say who queues go.
        match w.compare_exchange(cur, open | result as u64 | (cur & (HELD | RELEASED)), SeqCst, Acquire) {
            Ok(_) => return Some(cur),
            Err(now) if unflagged(now) == open => cur = now, // only the flags moved: again
            Err(_) => return None,
        }
    }
}

/// After winning with [`complete`] (which replaced `old`): `true` if the goroutine had
/// switched away, so the caller now owns it and must queue it (taking back the reference its
/// park leaked). Waits for a dump holding it to let go first.
#[inline(always)]
pub fn woke_parked(w: &AtomicU64, old: u64) -> bool {
    if old & PARKED == 0 {
        return false; // step 2 is still to come (and fails), or it never suspended
    }
    if old & HELD != 0 {
        wait_dumped(w);
    }
    true
}

/// Step 2, by the scheduler after the switch. `true`: parked, the completer will queue it;
/// `false`: already completed, the caller must queue it.
#[inline]
pub fn commit_park(w: &AtomicU64) -> bool {
    let s = w.load(Acquire);
    if s & RESULT != crate::waiter::PENDING as u64 {
        return false;
    }
    debug_assert_eq!(s & FLAGS, 0, "a running goroutine's word carries no flag");
    // Fails only if a completer's CAS came between: it saw no PARKED, so it is ours to queue.
    w.compare_exchange(s, s | PARKED, AcqRel, Acquire).is_ok()
}

/// Step 2 for a goroutine that switched away still holding the only lock under which its
/// wait can be completed (a channel's: `Suspend::ParkUnlock`), by its M, which releases that
/// lock after this. No completer can have reached the wait (each takes that lock first), a
/// dump or a reclaim looks only at a word with `PARKED`, and a stale token's CAS never
/// writes: the word is `(seq, PENDING)`, and a plain store sets `PARKED`. Release: a dump
/// that sees `PARKED` reads the goroutine's stack, as after [`commit_park`].
#[inline(always)]
pub fn mark_parked(w: &AtomicU64) {
    let s = w.load(Relaxed);
    debug_assert!(s & RESULT == crate::waiter::PENDING as u64 && s & FLAGS == 0, "a goroutine parked under its lock has an open, unflagged wait");
    w.store(s | PARKED, Release);
}

/// Whether a cell word is that of a parked goroutine (switched away, wait open; a dump may
/// hold it). For dumps and the deadlock report.
#[inline]
pub fn is_parked(s: u64) -> bool {
    s & PARKED != 0 && s & RESULT == crate::waiter::PENDING as u64
}

/// A dump holds the goroutine (`HELD`): wait until it lets go.
#[cold]
#[inline(never)]
fn wait_dumped(w: &AtomicU64) {
    let mut spins = 0u32;
    while w.load(Acquire) & HELD != 0 {
        spins += 1;
        #[cfg(loom)]
        loom::thread::yield_now();
        #[cfg(not(loom))]
        if spins < 64 {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
}

/// A dump holds parked goroutine `w` still; `false` if it is not parked (then it may run).
pub fn hold_for_dump(w: &AtomicU64) -> bool {
    let s = w.load(Acquire);
    s & FLAGS == PARKED && s & RESULT == crate::waiter::PENDING as u64 && w.compare_exchange(s, s | HELD, AcqRel, Acquire).is_ok()
}

/// The dump is done with a goroutine it held (a completer may be waiting for this).
pub fn release_from_dump(w: &AtomicU64) {
    w.fetch_and(!HELD, AcqRel);
}

/// The reclaimer of a stopped runtime takes parked goroutine `w` for good (`PARKED ->
/// RELEASED`): `true` if it did (the reference its park leaked is the caller's); `false` if
/// it is not parked, or a dump holds it.
pub fn release_parked(w: &AtomicU64) -> bool {
    let s = w.load(Acquire);
    s & FLAGS == PARKED
        && s & RESULT == crate::waiter::PENDING as u64
        && w.compare_exchange(s, (s & !PARKED) | RELEASED, AcqRel, Acquire).is_ok()
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::atomic::{AtomicBool, AtomicUsize};
    use loom::sync::Arc;
    use std::sync::atomic::Ordering::{Relaxed, Release};

    const OPEN: u64 = 7 << 32;
    const R: u32 = 16;

    /// The goroutine's side: it suspends only if its wait is still open when it looks (step
    /// 1), and then the scheduler commits (step 2). Returns whether it suspended, counting a
    /// queueing by the scheduler in `queued`.
    fn owner(w: &AtomicU64, queued: &AtomicUsize) -> bool {
        if unflagged(w.load(Acquire)) != OPEN {
            return false; // completed before it suspended: it carries on
        }
        if !commit_park(w) {
            queued.fetch_add(1, SeqCst);
        }
        true
    }

    /// A completer thread: tries to end the wait with `r` and, if the word it replaced said
    /// `PARKED`, queues the goroutine (counted in `queued`, after `before_queue`, which may
    /// assert). Joins to whether it won.
    fn completer(w: &Arc<AtomicU64>, r: u32, queued: &Arc<AtomicUsize>, before_queue: impl Fn() + Send + 'static) -> loom::thread::JoinHandle<bool> {
        let (w, q) = (w.clone(), queued.clone());
        loom::thread::spawn(move || {
            let Some(old) = complete(&w, OPEN, r, if r == R { PARKED } else { 0 }) else { return false };
            if woke_parked(&w, old) {
                before_queue();
                q.fetch_add(1, SeqCst);
            }
            true
        })
    }

    /// A dump thread: holds the goroutine if it is parked, with `holding` raised meanwhile.
    fn dumper(w: &Arc<AtomicU64>, holding: &Arc<AtomicBool>) -> loom::thread::JoinHandle<()> {
        let (w, h) = (w.clone(), holding.clone());
        loom::thread::spawn(move || {
            if hold_for_dump(&w) {
                h.store(true, SeqCst);
                h.store(false, SeqCst);
                release_from_dump(&w);
            }
        })
    }

    /// Whatever the interleaving of the scheduler's commit and the completer, a goroutine
    /// that suspended is queued exactly once, and one that did not is not queued at all.
    #[test]
    fn park_unpark_queues_exactly_once() {
        loom::model(|| {
            let w = Arc::new(AtomicU64::new(OPEN));
            let queued = Arc::new(AtomicUsize::new(0));
            let waker = completer(&w, R, &queued, || {});
            let suspended = owner(&w, &queued);
            assert!(waker.join().unwrap(), "the only completer wins");
            assert_eq!(queued.load(SeqCst), suspended as usize);
            assert_eq!(w.load(SeqCst), OPEN | R as u64, "the word ends with the result and no flag");
        });
    }

    /// Parking under the publisher's lock (`Suspend::ParkUnlock`): the goroutine publishes its
    /// wait under the lock and switches away holding it; its M marks it parked with a plain
    /// store ([`mark_parked`]) and unlocks. Completers find the wait only under the lock (a
    /// channel peer, a close), a stale token races without it, and a dump may try to hold
    /// it: the goroutine is queued exactly once, by a completer that always finds `PARKED`,
    /// never while a dump holds it, and the stale token never wins.
    #[test]
    fn park_under_lock_queues_exactly_once() {
        loom::model(|| {
            let w = Arc::new(AtomicU64::new(OPEN));
            let published = Arc::new(loom::sync::Mutex::new(false));
            let queued = Arc::new(AtomicUsize::new(0));
            let holding = Arc::new(AtomicBool::new(false));
            let (w2, p2, q2, h2) = (w.clone(), published.clone(), queued.clone(), holding.clone());
            let peer = loom::thread::spawn(move || {
                if !*p2.lock().unwrap() {
                    return false; // not published yet: nothing to complete
                }
                let old = complete(&w2, OPEN, R, PARKED).expect("the only live completer wins");
                assert!(old & PARKED != 0, "a completer under the lock finds the goroutine parked");
                if woke_parked(&w2, old) {
                    assert!(!h2.load(SeqCst), "queued while a dump reads its stack");
                    q2.fetch_add(1, SeqCst);
                }
                true
            });
            let dumper = dumper(&w, &holding);
            // The goroutine: publish under the lock, switch away holding it; its M marks it
            // parked and unlocks.
            {
                let mut g = published.lock().unwrap();
                *g = true;
                mark_parked(&w);
            }
            assert!(complete(&w, 6 << 32, 2, PARKED).is_none(), "a stale token never wins");
            let won = peer.join().unwrap();
            dumper.join().unwrap();
            assert_eq!(queued.load(SeqCst), won as usize);
            if won {
                assert_eq!(w.load(SeqCst), OPEN | R as u64, "the word ends with the result and no flag");
            }
        });
    }

    /// Two completers (data and a timeout) and a stale one: exactly one wins, and the
    /// queueing is still exactly once.
    #[test]
    fn racing_completers_queue_once() {
        loom::model(|| {
            let w = Arc::new(AtomicU64::new(OPEN));
            let queued = Arc::new(AtomicUsize::new(0));
            let (a, b) = (completer(&w, R, &queued, || {}), completer(&w, 1, &queued, || {}));
            assert!(complete(&w, 6 << 32, 2, 0).is_none(), "a stale token never wins");
            let suspended = owner(&w, &queued);
            let wins = a.join().unwrap() as usize + b.join().unwrap() as usize;
            assert_eq!(wins, 1);
            assert_eq!(queued.load(SeqCst), suspended as usize);
        });
    }

    /// A dump holding the parked goroutine delays its completer but never loses or doubles
    /// the queueing, and the goroutine is never queued (so never run) while held.
    #[test]
    fn dump_hold_delays_but_keeps_exactly_once() {
        loom::model(|| {
            let w = Arc::new(AtomicU64::new(OPEN));
            let queued = Arc::new(AtomicUsize::new(0));
            let holding = Arc::new(AtomicBool::new(false));
            let h2 = holding.clone();
            let waker = completer(&w, R, &queued, move || assert!(!h2.load(SeqCst), "queued while a dump reads its stack"));
            let dumper = dumper(&w, &holding);
            let suspended = owner(&w, &queued);
            waker.join().unwrap();
            dumper.join().unwrap();
            assert_eq!(queued.load(SeqCst), suspended as usize);
            assert_eq!(w.load(SeqCst), OPEN | R as u64);
        });
    }

    /// A reclaim racing a late completer: the parked goroutine's leaked reference is taken
    /// back exactly once (by the reclaimer or the completer, or by the scheduler if the
    /// completer came before the park), and after a reclaim nobody queues it.
    #[test]
    fn reclaim_takes_the_park_exactly_once() {
        loom::model(|| {
            let w = Arc::new(AtomicU64::new(OPEN));
            let taken = Arc::new(AtomicUsize::new(0));
            let waker = completer(&w, R, &taken, || {});
            let suspended = owner(&w, &taken);
            let reclaimed = release_parked(&w);
            if reclaimed {
                taken.fetch_add(1, SeqCst);
            }
            waker.join().unwrap();
            assert_eq!(taken.load(SeqCst), suspended as usize);
        });
    }

    /// The fold needs the completion and the `PARKED` test to be one atomic step: with the
    /// flags read first and the result stored after (two steps), loom finds a goroutine that
    /// suspended and is queued by nobody (or twice). So the models above mean something.
    #[test]
    fn split_completion_loses_the_wake() {
        let lost = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let lost2 = lost.clone();
        loom::model(move || {
            let w = Arc::new(AtomicU64::new(OPEN));
            let queued = Arc::new(AtomicUsize::new(0));
            let (w2, q2) = (w.clone(), queued.clone());
            let waker = loom::thread::spawn(move || {
                let old = w2.load(Acquire); // the broken completer: look, then store
                if unflagged(old) == OPEN {
                    w2.store(OPEN | R as u64, Release);
                    if old & PARKED != 0 {
                        q2.fetch_add(1, SeqCst);
                    }
                }
            });
            let suspended = owner(&w, &queued);
            waker.join().unwrap();
            if queued.load(Relaxed) != suspended as usize {
                lost2.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        });
        assert!(lost.load(std::sync::atomic::Ordering::SeqCst), "loom found no lost or doubled wake in the split completion");
    }
}
