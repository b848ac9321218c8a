//! The goroutine park/unpark handshake, kept apart so loom can model it.
//!
//! A goroutine parks in two steps, because the waker may find it (through a channel queue, a
//! timer or a cancel token) before it has finished switching away:
//!
//! | state      | meaning                                   | who owns the goroutine's stack |
//! |------------|-------------------------------------------|--------------------------------|
//! | `RUNNING`  | executing, or queued to run (`RUNNABLE`)  | the M running it / the queue   |
//! | `PARKING`  | announced a park, still on its own stack  | the M running it               |
//! | `PARKED`   | switched away; nobody runs it             | nobody: the next waker         |
//! | `NOTIFIED` | woken while still `PARKING`               | the M running it               |
//! | `DUMPING`  | parked, held by a dump reading its stack  | the dump, until it stores `PARKED` back |
//! | `RELEASED` | parked in a runtime that was reclaimed    | nobody: its stack is unmapped, it never runs again |
//!
//! 1. The goroutine stores `PARKING`, then suspends to its M's scheduler.
//! 2. The scheduler CASes `PARKING -> PARKED`. If that fails the state is `NOTIFIED`: the wake
//!    came early, and the scheduler makes the goroutine runnable itself.
//! 3. A waker (exactly one per park: the winner of the wait cell's CAS) calls [`unpark`]:
//!    `PARKED -> RUNNING` means it now owns the goroutine and must queue it;
//!    `PARKING -> NOTIFIED` hands that duty to step 2.
//!
//! So every park is matched by exactly one queueing, whichever side comes second.
//!
//! A runtime reclaimed with goroutines still parked in it (`runtime.rs`, `release_parked`)
//! CASes each `PARKED -> RELEASED` and takes back the reference the park leaked, as a waker
//! would, but queues nothing. A waker that comes later (it completed a wait the goroutine
//! registered in an object that outlived the runtime: freeing a context of that runtime
//! fires it, `gr_cancel_free`) finds `RELEASED` in step 3 and does nothing: the goroutine is
//! gone, and the waker's token keeps the record itself alive while it looks.
//!
//! A dump (`crate::dump`) holds a parked goroutine still while it reads its stack: it CASes
//! `PARKED -> DUMPING` (only a goroutine that has switched away can be held) and stores
//! `PARKED` back when done. A waker meeting `DUMPING` in step 3 waits for `PARKED` and then
//! proceeds; the dump takes no lock while it holds a goroutine, so that wait is short
//! (microseconds) and cannot deadlock. The hot path pays nothing: `unpark`'s CAS from
//! `PARKED` is the one it always made.
#![forbid(unsafe_code)]

use crate::loom::AtomicU8;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Release};

pub const RUNNING: u8 = 0;
pub const PARKING: u8 = 1;
pub const PARKED: u8 = 2;
pub const NOTIFIED: u8 = 3;
pub const DUMPING: u8 = 4;
pub const RELEASED: u8 = 5;

/// Step 1, by the goroutine itself.
pub fn announce_park(s: &AtomicU8) {
    s.store(PARKING, Release);
}

/// Step 2, by the scheduler after the switch. `true`: parked, the waker will queue it;
/// `false`: already woken, the caller must queue it.
pub fn commit_park(s: &AtomicU8) -> bool {
    match s.compare_exchange(PARKING, PARKED, AcqRel, Acquire) {
        Ok(_) => true,
        Err(NOTIFIED) => {
            s.store(RUNNING, Release);
            false
        }
        Err(other) => crate::fatal(&format!("commit_park: goroutine state {other}")),
    }
}

/// Step 3, by the single waker. `true`: the caller owns the goroutine and must queue it.
#[inline]
pub fn unpark(s: &AtomicU8) -> bool {
    loop {
        match s.load(Acquire) {
            PARKED => {
                if s.compare_exchange(PARKED, RUNNING, AcqRel, Acquire).is_ok() {
                    return true;
                }
            }
            PARKING => {
                if s.compare_exchange(PARKING, NOTIFIED, AcqRel, Acquire).is_ok() {
                    return false;
                }
            }
            DUMPING => wait_dumped(s),
            RELEASED => return false, // its runtime was reclaimed: it never runs again
            other => crate::fatal(&format!("unpark: goroutine state {other}")),
        }
    }
}

/// A dump holds the goroutine (`DUMPING`): wait until it puts it back.
#[cold]
#[inline(never)]
fn wait_dumped(s: &AtomicU8) {
    let mut spins = 0u32;
    while s.load(Acquire) == DUMPING {
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

/// A dump holds parked goroutine `s` still; `false` if it is not parked (then it may run).
pub fn hold_for_dump(s: &AtomicU8) -> bool {
    s.compare_exchange(PARKED, DUMPING, AcqRel, Acquire).is_ok()
}

/// The dump is done with a goroutine it held.
pub fn release_from_dump(s: &AtomicU8) {
    s.store(PARKED, Release);
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::atomic::AtomicUsize;
    use loom::sync::Arc;
    use std::sync::atomic::Ordering::SeqCst;

    /// Whatever the interleaving of the scheduler's commit and the waker's unpark, the
    /// goroutine is queued exactly once.
    #[test]
    fn park_unpark_queues_exactly_once() {
        loom::model(|| {
            let s = Arc::new(AtomicU8::new(RUNNING));
            let queued = Arc::new(AtomicUsize::new(0));
            announce_park(&s);
            let (s2, q2) = (s.clone(), queued.clone());
            let waker = loom::thread::spawn(move || {
                if unpark(&s2) {
                    q2.fetch_add(1, SeqCst);
                }
            });
            if !commit_park(&s) {
                queued.fetch_add(1, SeqCst);
            }
            waker.join().unwrap();
            assert_eq!(queued.load(SeqCst), 1);
            assert_eq!(s.load(SeqCst), RUNNING);
        });
    }

    /// A dump holding the parked goroutine delays its waker but never loses or doubles the
    /// queueing, and the dump only ever holds a goroutine that has switched away.
    #[test]
    fn dump_hold_delays_but_keeps_exactly_once() {
        loom::model(|| {
            let s = Arc::new(AtomicU8::new(RUNNING));
            let queued = Arc::new(AtomicUsize::new(0));
            announce_park(&s);
            let (s2, q2) = (s.clone(), queued.clone());
            let waker = loom::thread::spawn(move || {
                if unpark(&s2) {
                    q2.fetch_add(1, SeqCst);
                }
            });
            let s3 = s.clone();
            let dumper = loom::thread::spawn(move || {
                if hold_for_dump(&s3) {
                    assert_eq!(s3.load(SeqCst), DUMPING);
                    release_from_dump(&s3);
                }
            });
            if !commit_park(&s) {
                queued.fetch_add(1, SeqCst);
            }
            waker.join().unwrap();
            dumper.join().unwrap();
            assert_eq!(queued.load(SeqCst), 1);
            assert_eq!(s.load(SeqCst), RUNNING);
        });
    }
}
