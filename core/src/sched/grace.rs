//! Grace periods for foreign threads: how a runtime's memory can be freed while plain
//! threads may still be inside a call that reached it (SRCU, in the small).
//!
//! A runtime's own threads (its Ms and the monitor) hold it (`Runtime::holds`), so its
//! memory outlives them. A plain thread cannot: it finds the runtime through a global
//! pointer, and a `gr_shutdown` on another thread may stop the runtime in the middle of its
//! call. So a plain thread *pins* around every stretch of code that dereferences a runtime,
//! or a goroutine stack through a channel's wait queue (`README.md`, "Lifecycle"): a spawn,
//! a wake of a goroutine, a hand-off through a channel, reading the counters. A pin is two
//! counters' worth of atomics; an M of a live runtime never pins.
//!
//! Protocol. Pins count in `READERS[epoch & 1]`. A reclaimer, once the runtime is
//! unpublished (nobody can find it from now on), calls [`synchronize`]: it flips the epoch
//! and waits for the old counter to drain, twice. A reader that loaded the epoch before a
//! flip and counts itself after the wait has loaded the runtime pointer after the
//! unpublishing (all of these are SeqCst), so it cannot hold the runtime being freed; a
//! reader that pinned before the unpublishing is on one of the two counters, and each is
//! waited for once after the unpublishing. Pins are short (nothing parks, blocks on a wait
//! or calls foreign code while pinned), so a reclaimer waits microseconds.
#![forbid(unsafe_code)]

use crossbeam_utils::CachePadded;
use std::sync::atomic::Ordering::{Acquire, Release, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicUsize};

static EPOCH: AtomicUsize = AtomicUsize::new(0);
static READERS: [CachePadded<AtomicUsize>; 2] = [CachePadded::new(AtomicUsize::new(0)), CachePadded::new(AtomicUsize::new(0))];
/// One reclaimer at a time (the two flips must not interleave with another's). A flag, not
/// a mutex: after `fork()` the child clears it ([`after_fork_child`]).
static SYNC: AtomicBool = AtomicBool::new(false);

/// A pinned stretch of a foreign thread; unpinned when dropped. (The counter's index + 1:
/// an `Option<Pin>` is one word.)
#[must_use]
pub(crate) struct Pin(std::num::NonZeroUsize);

/// Pins the calling thread: runtimes it finds from now on are not freed before it unpins.
/// Load the runtime pointer after this, with `SeqCst`.
#[inline]
pub(crate) fn pin() -> Pin {
    let e = EPOCH.load(SeqCst) & 1;
    READERS[e].fetch_add(1, SeqCst);
    Pin(std::num::NonZeroUsize::MIN.saturating_add(e))
}

impl Drop for Pin {
    #[inline]
    fn drop(&mut self) {
        READERS[self.0.get() - 1].fetch_sub(1, Release);
    }
}

/// Waits until every pin taken before the call (by a thread that may have found what the
/// caller unpublished) is dropped.
pub(crate) fn synchronize() {
    while SYNC.compare_exchange(false, true, Acquire, Acquire).is_err() {
        std::thread::yield_now();
    }
    for _ in 0..2 {
        let old = EPOCH.fetch_add(1, SeqCst) & 1;
        let mut spins = 0u32;
        while READERS[old].load(SeqCst) != 0 {
            spins += 1;
            if spins < 100 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(std::time::Duration::from_micros(50));
            }
        }
    }
    SYNC.store(false, Release);
}

/// In a `fork()`ed child (single-threaded): pins of the parent's other threads are gone with
/// them, and so is a reclaimer's flag.
pub(crate) fn after_fork_child() {
    READERS[0].store(0, SeqCst);
    READERS[1].store(0, SeqCst);
    SYNC.store(false, SeqCst);
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::sync::{mpsc, Arc};
    use std::time::{Duration, Instant};

    /// A reclaimer waits for the pins taken before it: 4 threads hold one each, and
    /// `synchronize` must not return until every one is dropped.
    #[test]
    fn synchronize_waits_for_every_pin() {
        let release = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let holders: Vec<_> = (0..4)
            .map(|_| {
                let (release, tx) = (release.clone(), tx.clone());
                std::thread::spawn(move || {
                    let p = pin();
                    tx.send(()).unwrap();
                    while !release.load(SeqCst) {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    drop(p);
                })
            })
            .collect();
        for _ in 0..4 {
            rx.recv().unwrap();
        }
        let done = Arc::new(AtomicBool::new(false));
        let d = done.clone();
        let reclaimer = std::thread::spawn(move || {
            synchronize();
            d.store(true, SeqCst);
        });
        std::thread::sleep(Duration::from_millis(100));
        assert!(!done.load(SeqCst), "synchronize returned while pins were held");
        release.store(true, SeqCst);
        for h in holders {
            h.join().unwrap();
        }
        let t0 = Instant::now();
        while !done.load(SeqCst) {
            assert!(t0.elapsed() < Duration::from_secs(10), "synchronize did not return after the pins were dropped");
            std::thread::sleep(Duration::from_millis(1));
        }
        reclaimer.join().unwrap();
    }
}
