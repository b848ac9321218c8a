//! WaitGroup and Mutex: counts, timeouts, bad use, fairness, goroutines and threads mixed.

mod common;
use common::*;
use gr_core::sync::{Mutex, WaitGroup};
use gr_core::{Cancel, Deadline, Error};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Counter(UnsafeCell<u64>);
// SAFETY: only touched while holding the Mutex under test.
unsafe impl Sync for Counter {}

/// 1,000 goroutines x 1,000 locked increments = exactly 1,000,000.
#[test]
fn mutex_million() {
    let mu = Arc::new(Mutex::new());
    let n = Arc::new(Counter(UnsafeCell::new(0)));
    let wg = Arc::new(WaitGroup::new());
    wg.add(1000).unwrap();
    for _ in 0..1000 {
        let (mu, n, wg) = (mu.clone(), n.clone(), wg.clone());
        go(move || {
            for _ in 0..1000 {
                mu.lock(FOREVER, None).unwrap();
                // SAFETY: we hold the mutex.
                unsafe { *n.0.get() += 1 };
                mu.unlock().unwrap();
            }
            wg.done().unwrap();
        });
    }
    wg.wait(FOREVER, None).unwrap();
    // SAFETY: every incrementer is done.
    assert_eq!(unsafe { *n.0.get() }, 1_000_000);
    assert!(!mu.is_locked());
}

/// Goroutines, bound goroutines and plain threads share one mutex.
#[test]
fn mutex_mixed_callers() {
    let mu = Arc::new(Mutex::new());
    let n = Arc::new(Counter(UnsafeCell::new(0)));
    let mut gs = Vec::new();
    let mut ts = Vec::new();
    for k in 0..6 {
        let (mu, n) = (mu.clone(), n.clone());
        let f = move || {
            for _ in 0..20_000 {
                mu.lock(FOREVER, None).unwrap();
                // SAFETY: we hold the mutex.
                unsafe { *n.0.get() += 1 };
                mu.unlock().unwrap();
            }
        };
        match k % 3 {
            0 => gs.push(go(f)),
            1 => gs.push(go_bound(f)),
            _ => ts.push(std::thread::spawn(f)),
        }
    }
    gs.iter().for_each(join);
    ts.into_iter().for_each(|t| t.join().unwrap());
    // SAFETY: all done.
    assert_eq!(unsafe { *n.0.get() }, 120_000);
}

#[test]
fn mutex_bad_use_and_timeouts() {
    let mu = Mutex::new();
    assert_eq!(mu.unlock(), Err(Error::State));
    mu.lock(FOREVER, None).unwrap();
    assert_eq!(mu.lock(Deadline::Poll, None), Err(Error::Again));
    let t0 = Instant::now();
    assert_eq!(mu.lock(ms(10), None), Err(Error::TimedOut));
    assert!(t0.elapsed() >= Duration::from_millis(10));
    let c = Cancel::new();
    c.fire();
    assert_eq!(mu.lock(FOREVER, Some(&c)), Err(Error::Cancelled));
    mu.unlock().unwrap();
    assert_eq!(mu.unlock(), Err(Error::State));
    assert!(mu.try_lock());
    mu.unlock().unwrap();
}

/// A timed-out waiter leaves no trace: the next unlock still hands over to a live waiter.
#[test]
fn mutex_timeout_then_handoff() {
    let mu = Arc::new(Mutex::new());
    mu.lock(FOREVER, None).unwrap();
    let m2 = mu.clone();
    in_goroutine(move || assert_eq!(m2.lock(ms(5), None), Err(Error::TimedOut)));
    let m3 = mu.clone();
    let g = go(move || {
        m3.lock(FOREVER, None).unwrap();
        m3.unlock().unwrap();
    });
    std::thread::sleep(Duration::from_millis(5));
    mu.unlock().unwrap();
    join(&g);
    assert!(!mu.is_locked());
}

/// Starvation mode: a waiter blocked while others hammer the lock still gets it promptly
/// (Go's sync.Mutex fairness test, src/sync/mutex_test.go TestMutexFairness).
#[test]
fn mutex_fairness() {
    let mu = Arc::new(Mutex::new());
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (m2, s2) = (mu.clone(), stop.clone());
    let hog = go(move || {
        while !s2.load(SeqCst) {
            m2.lock(FOREVER, None).unwrap();
            std::thread::sleep(Duration::from_micros(100));
            m2.unlock().unwrap();
        }
    });
    let m3 = mu.clone();
    let done = Arc::new(AtomicUsize::new(0));
    let d2 = done.clone();
    let g = go(move || {
        for _ in 0..10 {
            std::thread::sleep(Duration::from_micros(100));
            m3.lock(FOREVER, None).unwrap();
            m3.unlock().unwrap();
            d2.fetch_add(1, SeqCst);
        }
    });
    let t0 = Instant::now();
    while done.load(SeqCst) < 10 && t0.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(1));
    }
    stop.store(true, SeqCst);
    join(&g);
    join(&hog);
    assert_eq!(done.load(SeqCst), 10, "can't acquire the mutex in 10 s");
}

#[test]
fn waitgroup_basics() {
    let wg = Arc::new(WaitGroup::new());
    wg.wait(FOREVER, None).unwrap();
    assert_eq!(wg.add(-1), Err(Error::Invalid));
    assert_eq!(wg.count(), 0);
    wg.add(3).unwrap();
    assert_eq!(wg.wait(Deadline::Poll, None), Err(Error::Again));
    assert_eq!(wg.wait(ms(5), None), Err(Error::TimedOut));
    let c = Cancel::new();
    c.fire();
    assert_eq!(wg.wait(FOREVER, Some(&c)), Err(Error::Cancelled));
    // Waiters of every kind are released by the last done.
    let released = Arc::new(AtomicUsize::new(0));
    let mut gs = Vec::new();
    for k in 0..3 {
        let (wg, r) = (wg.clone(), released.clone());
        let f = move || {
            wg.wait(FOREVER, None).unwrap();
            r.fetch_add(1, SeqCst);
        };
        gs.push(if k == 0 { go(f) } else { go_bound(f) });
    }
    let (wg2, r2) = (wg.clone(), released.clone());
    let t = std::thread::spawn(move || {
        wg2.wait(FOREVER, None).unwrap();
        r2.fetch_add(1, SeqCst);
    });
    std::thread::sleep(Duration::from_millis(10));
    assert_eq!(released.load(SeqCst), 0);
    for _ in 0..3 {
        let wg = wg.clone();
        go(move || wg.done().unwrap());
    }
    gs.iter().for_each(join);
    t.join().unwrap();
    assert_eq!(released.load(SeqCst), 4);
    assert_eq!(wg.done(), Err(Error::Invalid));
    // The counter's range is 0..2^62 (one atomic word with two flags): past it, `Invalid`
    // and no change.
    assert_eq!(wg.add(i64::MAX), Err(Error::Invalid));
    wg.add((1 << 62) - 1).unwrap();
    assert_eq!(wg.add(1), Err(Error::Invalid));
    assert_eq!(wg.count(), (1 << 62) - 1);
    wg.add(-((1 << 62) - 1)).unwrap();
    assert_eq!(wg.wait(Deadline::Poll, None), Ok(()));
}

/// The counter goes to zero and up again round after round, with waiters of each round
/// (goroutines, a bound goroutine and a thread) not joined before the next round starts: a
/// round's waiters must be released by its own last `done` only, never by the drain of the
/// round before it, which may still be running when the next round raises the counter
/// (`sync/wg.rs`, "DRAINING").
#[test]
fn waitgroup_zero_and_raise_rounds() {
    const DOERS: usize = 4;
    let wg = Arc::new(WaitGroup::new());
    let mut gs = Vec::new();
    let mut ts = Vec::new();
    for round in 0..400 {
        wg.add(DOERS as i64).unwrap();
        let finished = Arc::new(AtomicUsize::new(0));
        for k in 0..3 {
            let (wg, f) = (wg.clone(), finished.clone());
            let body = move || {
                wg.wait(FOREVER, None).unwrap();
                assert_eq!(f.load(SeqCst), DOERS, "round {round}: released early");
            };
            gs.push(if k == 2 { go_bound(body) } else { go(body) });
        }
        if round % 8 == 0 {
            let (wg, f) = (wg.clone(), finished.clone());
            ts.push(std::thread::spawn(move || {
                wg.wait(FOREVER, None).unwrap();
                assert_eq!(f.load(SeqCst), DOERS, "round {round}: thread released early");
            }));
        }
        for d in 0..DOERS {
            let (wg, f) = (wg.clone(), finished.clone());
            let body = move || {
                f.fetch_add(1, SeqCst);
                wg.done().unwrap();
            };
            if d == 0 && round % 2 == 0 {
                std::thread::spawn(body); // a plain thread's done, too
            } else {
                go(body);
            }
        }
        // The next round starts as soon as this round's doers have counted themselves,
        // while the last one's `done` may still be draining (not through `wg.wait`, which
        // returns only after the drain).
        while finished.load(SeqCst) < DOERS {
            std::thread::yield_now();
        }
    }
    wg.wait(FOREVER, None).unwrap();
    gs.iter().for_each(join);
    ts.into_iter().for_each(|t| t.join().unwrap());
    assert_eq!(wg.count(), 0);
}
