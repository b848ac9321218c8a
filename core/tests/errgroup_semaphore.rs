//! golang.org/x/sync's semaphore and errgroup tests, ported (golang/sync
//! `semaphore/semaphore_test.go`, `errgroup/errgroup_test.go`; each test names its source),
//! then use from plain threads and goroutines at once.

mod common;
use common::*;
use gr_core::group::Group;
use gr_core::sync::{Semaphore, WaitGroup};
use gr_core::{Cancel, Deadline, Error, SpawnOpts};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

const POLL: Deadline = Deadline::Poll;

fn sleep_ns(ns: i64) {
    gr_core::sleep::sleep(ns, None).unwrap();
}

// -------------------------------------------------------------- semaphore/semaphore_test.go

/// semaphore_test.go TestWeighted (HammerWeighted): n goroutines acquire i units each and
/// release them, many times; the count never goes past the size.
#[test]
fn weighted() {
    in_goroutine(|| {
        let n = 4u64;
        let sem = Arc::new(Semaphore::new(n));
        let wg = Arc::new(WaitGroup::new());
        wg.add(n as i64).unwrap();
        let mut x = 0x9E37u64;
        for i in 0..n {
            let (sem, wg) = (sem.clone(), wg.clone());
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            let seed = x;
            go(move || {
                let mut s = seed;
                for _ in 0..10_000 / n {
                    sem.acquire(i, FOREVER, None).unwrap();
                    assert!(sem.held() <= n);
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    if s % 8 == 0 {
                        sleep_ns((s % 1_000_000) as i64);
                    }
                    sem.release(i).unwrap();
                }
                wg.done().unwrap();
            });
        }
        wg.wait(FOREVER, None).unwrap();
        assert_eq!(sem.held(), 0);
    });
}

/// semaphore_test.go TestWeightedPanic: releasing what is not held fails (x/sync panics).
#[test]
fn weighted_release_unheld() {
    let w = Semaphore::new(1);
    assert_eq!(w.release(1), Err(Error::State));
}

/// semaphore_test.go TestWeightedTryAcquire.
#[test]
fn weighted_try_acquire() {
    let sem = Semaphore::new(2);
    sem.acquire(1, FOREVER, None).unwrap();
    let mut tries = vec![sem.try_acquire(1), sem.try_acquire(1)];
    sem.release(2).unwrap();
    tries.push(sem.try_acquire(1));
    sem.acquire(1, FOREVER, None).unwrap();
    tries.push(sem.try_acquire(1));
    assert_eq!(tries, [true, false, true, false]);
}

/// semaphore_test.go TestWeightedAcquire: the same with 10 ms timeouts.
#[test]
fn weighted_acquire() {
    let sem = Semaphore::new(2);
    let try_acquire = |n| sem.acquire(n, ms(10), None).is_ok();
    sem.acquire(1, FOREVER, None).unwrap();
    let mut tries = vec![try_acquire(1), try_acquire(1)];
    sem.release(2).unwrap();
    tries.push(try_acquire(1));
    sem.acquire(1, FOREVER, None).unwrap();
    tries.push(try_acquire(1));
    assert_eq!(tries, [true, false, true, false]);
}

/// semaphore_test.go TestWeightedDoesntBlockIfTooBig: an acquire above the size never
/// holds up the others (x/sync parks it until its context ends; gr refuses it: `Invalid`).
#[test]
fn weighted_doesnt_block_if_too_big() {
    in_goroutine(|| {
        let n = 2;
        let sem = Arc::new(Semaphore::new(n));
        assert_eq!(sem.acquire(n + 1, FOREVER, None), Err(Error::Invalid));
        let g = Group::new(None, 0);
        for _ in 0..n * 3 {
            let sem = sem.clone();
            g.spawn(
                Box::new(move || {
                    sem.acquire(1, FOREVER, None).unwrap();
                    sleep_ns(1_000_000);
                    sem.release(1).unwrap();
                    0
                }),
                SpawnOpts::default(),
                FOREVER,
                None,
            )
            .unwrap();
        }
        g.wait(FOREVER, None).unwrap();
    });
}

/// semaphore_test.go TestLargeAcquireDoesntStarve: an acquire of the whole semaphore is not
/// starved by goroutines releasing and re-acquiring one unit in a loop (FIFO).
#[test]
fn large_acquire_doesnt_starve() {
    in_goroutine(|| {
        let n = 4u64;
        let sem = Arc::new(Semaphore::new(n));
        let running = Arc::new(AtomicBool::new(true));
        let wg = Arc::new(WaitGroup::new());
        wg.add(n as i64).unwrap();
        for _ in 0..n {
            sem.acquire(1, FOREVER, None).unwrap();
            let (sem, running, wg) = (sem.clone(), running.clone(), wg.clone());
            go(move || {
                while running.load(SeqCst) {
                    sleep_ns(1_000_000);
                    sem.release(1).unwrap();
                    sem.acquire(1, FOREVER, None).unwrap();
                }
                sem.release(1).unwrap();
                wg.done().unwrap();
            });
        }
        sem.acquire(n, Deadline::from_timeout_ns(10_000_000_000), None).expect("the large acquire starved");
        running.store(false, SeqCst);
        sem.release(n).unwrap();
        wg.wait(FOREVER, None).unwrap();
    });
}

/// semaphore_test.go TestAllocCancelDoesntStarve: a large acquire cancelled while a small
/// one waits behind it lets the small one in.
#[test]
fn alloc_cancel_doesnt_starve() {
    in_goroutine(|| {
        let sem = Arc::new(Semaphore::new(10));
        sem.acquire(1, FOREVER, None).unwrap();
        let ctx = Cancel::new();
        let (s2, c2) = (sem.clone(), ctx.clone());
        let big = go(move || assert_eq!(s2.acquire(10, FOREVER, Some(&c2)), Err(Error::Cancelled)));
        while sem.try_acquire(1) {
            sem.release(1).unwrap();
            gr_core::sched::yield_now();
        }
        let c3 = ctx.clone();
        go(move || c3.fire());
        sem.acquire(1, FOREVER, None).expect("Acquire(_, 1) failed unexpectedly");
        sem.release(1).unwrap();
        join(&big);
    });
}

/// semaphore_test.go TestWeightedAcquireCanceled (go.dev/issue/63615): a cancel before the
/// units come wins; afterwards both units are there; a fired token never acquires, even when
/// no wait would be needed.
#[test]
fn weighted_acquire_canceled() {
    in_goroutine(|| {
        let sem = Arc::new(Semaphore::new(2));
        let ctx = Cancel::new();
        sem.acquire(1, FOREVER, None).unwrap();
        let ch = chan(0);
        let (s2, c2, ch2) = (sem.clone(), ctx.clone(), ch.clone());
        go(move || {
            while s2.try_acquire(1) {
                s2.release(1).unwrap();
            }
            c2.fire();
            s2.release(1).unwrap();
            ch2.close().unwrap();
        });
        assert_eq!(sem.acquire(2, FOREVER, Some(&ctx)), Err(Error::Cancelled));
        let _ = ch.recv_u64(FOREVER);
        assert!(sem.try_acquire(2), "TryAcquire after canceled Acquire failed");
        sem.release(2).unwrap();
        assert_eq!(sem.acquire(1, FOREVER, Some(&ctx)), Err(Error::Cancelled));
    });
}

// ---------------------------------------------------------------- errgroup/errgroup_test.go

fn task(code: i32) -> Box<dyn FnOnce() -> i32 + Send> {
    Box::new(move || code)
}

/// errgroup_test.go TestZeroGroup: after each Go, Wait returns the first failure so far.
#[test]
fn zero_group() {
    in_goroutine(|| {
        for errs in [vec![], vec![0], vec![1], vec![1, 0], vec![1, 0, 2]] {
            let g = Group::new(None, 0);
            let mut first = None;
            for &e in &errs {
                g.spawn(task(e), SpawnOpts::default(), FOREVER, None).unwrap();
                if first.is_none() && e != 0 {
                    first = Some(e);
                }
                let r = g.wait(FOREVER, None);
                assert_eq!(r.is_err(), first.is_some(), "{errs:?}");
                assert_eq!(g.first_failure().and_then(|f| f.code), first);
            }
        }
    });
}

/// errgroup_test.go TestWithContext: Wait returns the failure, and the group's context is
/// done after Wait either way.
#[test]
fn with_context() {
    in_goroutine(|| {
        for errs in [vec![], vec![0], vec![7], vec![7, 0]] {
            let g = Group::new(None, 0);
            for &e in &errs {
                g.spawn(task(e), SpawnOpts::default(), FOREVER, None).unwrap();
            }
            let r = g.wait(FOREVER, None);
            assert_eq!(r.is_err(), errs.contains(&7));
            assert!(g.context().is_fired(), "ctx.Done() was not closed");
        }
    });
}

/// errgroup_test.go TestTryGo: with a limit, a poll-deadline spawn (TryGo) fails once the
/// limit is reached and works again once tasks finish.
#[test]
fn try_go() {
    in_goroutine(|| {
        let n = 42;
        let g = Group::new(None, n);
        let ch = chan(0);
        let f = |ch: Arc<gr_core::chan::Chan>| -> Box<dyn FnOnce() -> i32 + Send> {
            Box::new(move || {
                ch.send_u64(1, FOREVER).unwrap();
                0
            })
        };
        for i in 0..n {
            g.spawn(f(ch.clone()), SpawnOpts::default(), POLL, None).unwrap_or_else(|e| panic!("TryGo failed at {i}: {e:?}"));
        }
        assert!(matches!(g.spawn(f(ch.clone()), SpawnOpts::default(), POLL, None), Err(Error::Again)), "TryGo is expected to fail");
        let c2 = ch.clone();
        go(move || {
            for _ in 0..n {
                c2.recv_u64(FOREVER).unwrap();
            }
        });
        g.wait(FOREVER, None).unwrap();
        g.spawn(f(ch.clone()), SpawnOpts::default(), POLL, None).expect("TryGo should succeed after all goroutines");
        ch.recv_u64(FOREVER).unwrap();
        g.wait(FOREVER, None).unwrap();
        let g1 = Group::new(None, 1);
        g1.spawn(f(ch.clone()), SpawnOpts::default(), POLL, None).unwrap();
        assert!(g1.spawn(f(ch.clone()), SpawnOpts::default(), POLL, None).is_err());
        ch.recv_u64(FOREVER).unwrap();
        g1.wait(FOREVER, None).unwrap();
    });
}

/// errgroup_test.go TestGoLimit: never more than `limit` tasks run at once.
#[test]
fn go_limit() {
    in_goroutine(|| {
        const LIMIT: i32 = 10;
        let g = Group::new(None, LIMIT as usize);
        let active = Arc::new(AtomicI32::new(0));
        for _ in 0..=1 << 10 {
            let active = active.clone();
            g.spawn(
                Box::new(move || {
                    let n = active.fetch_add(1, SeqCst) + 1;
                    if n > LIMIT {
                        return n;
                    }
                    sleep_ns(1000);
                    active.fetch_sub(1, SeqCst);
                    0
                }),
                SpawnOpts::default(),
                FOREVER,
                None,
            )
            .unwrap();
        }
        assert_eq!(g.wait(FOREVER, None), Ok(()), "{:?}", g.first_failure());
    });
}

/// errgroup_test.go TestCancelCause (as far as gr has causes): the first failure cancels
/// the context before Wait returns, and is the one reported even when later tasks fail too.
#[test]
fn first_failure_cancels_and_is_reported() {
    in_goroutine(|| {
        let g = Arc::new(Group::new(None, 0));
        let gate = chan(0);
        for code in [3, 4, 5] {
            let (gate, g2) = (gate.clone(), g.clone());
            g.spawn(
                Box::new(move || {
                    if code != 3 {
                        // Waits on the group's context: ended by the first failure.
                        let never = gr_core::chan::Chan::new(8, 0).unwrap();
                        assert_eq!(never.recv_bytes(&mut [0u8; 8], FOREVER, Some(g2.context())), Err(Error::Cancelled));
                        return code;
                    }
                    gate.recv_u64(FOREVER).unwrap();
                    code
                }),
                SpawnOpts::default(),
                FOREVER,
                None,
            )
            .unwrap();
        }
        gate.send_u64(1, FOREVER).unwrap();
        assert_eq!(g.wait(FOREVER, None), Err(Error::Panic));
        let f = g.first_failure().unwrap();
        assert_eq!(f.code, Some(3));
        assert_eq!(f.message.to_str().unwrap(), "task failed with code 3");
        assert_eq!(g.failed(), 3);
    });
}

/// A group under a parent context: cancelling the parent reaches the tasks; a goroutine
/// failed through `fail_current` (a binding's exception) counts as a failure; groups are
/// waited on from plain threads and run bound goroutines.
#[test]
fn group_parent_cancel_threads_and_failed_goroutines() {
    let parent = Cancel::new();
    let g = Arc::new(Group::new(Some(&parent), 2));
    let woke = Arc::new(AtomicU64::new(0));
    for i in 0..6 {
        let (g2, woke) = (g.clone(), woke.clone());
        let opts = SpawnOpts { bound: i % 2 == 1, ..SpawnOpts::default() };
        let spawner = std::thread::spawn(move || {
            g2.clone()
                .spawn(
                    Box::new(move || {
                        let never = gr_core::chan::Chan::new(8, 0).unwrap();
                        let r = never.recv_bytes(&mut [0u8; 8], Deadline::from_timeout_ns(100_000_000), Some(g2.context()));
                        if r == Err(Error::Cancelled) {
                            woke.fetch_add(1, SeqCst);
                        }
                        0
                    }),
                    opts,
                    FOREVER,
                    None,
                )
                .unwrap()
        });
        if i == 1 {
            std::thread::sleep(Duration::from_millis(10));
            parent.fire();
        }
        spawner.join().unwrap();
    }
    assert_eq!(g.wait(FOREVER, None), Ok(()));
    assert!(woke.load(SeqCst) >= 1, "the parent's cancel reached no task");

    let g = Group::new(None, 0);
    g.spawn(
        Box::new(|| {
            gr_core::sched::fail_current(Some(c"an exception".to_owned())).unwrap();
            0
        }),
        SpawnOpts::default(),
        FOREVER,
        None,
    )
    .unwrap();
    g.spawn(Box::new(|| panic!("boom")), SpawnOpts::default(), FOREVER, None).unwrap();
    assert_eq!(g.wait(FOREVER, None), Err(Error::Panic));
    assert_eq!(g.failed(), 2);
    assert_eq!(g.first_failure().unwrap().code, None);
}
