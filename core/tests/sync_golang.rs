//! Go's RWMutex, Once and Cond tests, ported (golang/go `src/sync/rwmutex_test.go`,
//! `once_test.go`, `cond_test.go`; each test names its source), then what Go's do not cover:
//! timeouts, cancellation, writer preference, and goroutines, bound goroutines and plain
//! threads sharing one object.

mod common;
use common::*;
use gr_core::chan::Chan;
use gr_core::sync::{Cond, Mutex, Once, OnceState, RWMutex};
use gr_core::{Cancel, Deadline, Error};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

const POLL: Deadline = Deadline::Poll;

fn send(c: &Chan, v: u64) {
    c.send_u64(v, FOREVER).unwrap();
}

fn recv(c: &Chan) -> u64 {
    c.recv_u64(FOREVER).unwrap()
}

fn yield_now() {
    gr_core::sched::yield_now();
}

// ---------------------------------------------------------------- src/sync/rwmutex_test.go

/// rwmutex_test.go TestParallelReaders: n readers all hold the read lock at once.
#[test]
fn parallel_readers() {
    for n in [1, 3, 4, 50] {
        in_goroutine(move || {
            let m = Arc::new(RWMutex::new());
            let (locked, unlock, done) = (chan(0), chan(0), chan(0));
            for _ in 0..n {
                let (m, locked, unlock, done) = (m.clone(), locked.clone(), unlock.clone(), done.clone());
                go(move || {
                    m.rlock(FOREVER, None).unwrap();
                    send(&locked, 1);
                    recv(&unlock);
                    m.runlock().unwrap();
                    send(&done, 1);
                });
            }
            for _ in 0..n {
                recv(&locked);
            }
            for _ in 0..n {
                send(&unlock, 1);
            }
            for _ in 0..n {
                recv(&done);
            }
        });
    }
}

/// rwmutex_test.go HammerRWMutex: 2 writers and n readers; `activity` counts readers + 10,000
/// per writer and must never show a writer beside anyone.
/// A task, and how to wait for it once started.
type Task = Box<dyn FnOnce() + Send>;

fn hammer(readers: usize, iters: usize, spawn: fn(Task) -> Task) {
    let rw = Arc::new(RWMutex::new());
    let activity = Arc::new(AtomicI32::new(0));
    let mut waits = Vec::new();
    let writer = |rw: Arc<RWMutex>, activity: Arc<AtomicI32>| -> Box<dyn FnOnce() + Send> {
        Box::new(move || {
            for _ in 0..iters {
                rw.lock(FOREVER, None).unwrap();
                let n = activity.fetch_add(10_000, SeqCst) + 10_000;
                assert_eq!(n, 10_000, "wlock({n})");
                std::hint::black_box((0..100).sum::<u32>());
                activity.fetch_sub(10_000, SeqCst);
                rw.unlock().unwrap();
            }
        })
    };
    let reader = |rw: Arc<RWMutex>, activity: Arc<AtomicI32>| -> Box<dyn FnOnce() + Send> {
        Box::new(move || {
            for _ in 0..iters {
                rw.rlock(FOREVER, None).unwrap();
                let n = activity.fetch_add(1, SeqCst) + 1;
                assert!((1..10_000).contains(&n), "rlock({n})");
                std::hint::black_box((0..100).sum::<u32>());
                activity.fetch_sub(1, SeqCst);
                rw.runlock().unwrap();
            }
        })
    };
    waits.push(spawn(writer(rw.clone(), activity.clone())));
    for i in 0..readers {
        if i == readers / 2 {
            waits.push(spawn(writer(rw.clone(), activity.clone())));
        }
        waits.push(spawn(reader(rw.clone(), activity.clone())));
    }
    for w in waits {
        w();
    }
    assert_eq!(rw.readers(), 0);
    assert!(!rw.is_locked());
}

fn in_goroutines(f: Box<dyn FnOnce() + Send>) -> Box<dyn FnOnce() + Send> {
    let g = go(f);
    Box::new(move || join(&g))
}

/// Goroutines, bound goroutines and plain threads in turn.
fn in_mixed(f: Box<dyn FnOnce() + Send>) -> Box<dyn FnOnce() + Send> {
    static N: AtomicU32 = AtomicU32::new(0);
    in_mixed_k(N.fetch_add(1, SeqCst) as usize, f)
}

/// rwmutex_test.go TestRWMutex: TryLock/TryRLock (polls here), then HammerRWMutex with 1,
/// 3, 10 and 5 readers, from goroutines and from a mix of goroutines, bound goroutines and
/// threads.
#[test]
fn rwmutex() {
    let m = RWMutex::new();
    m.lock(FOREVER, None).unwrap();
    assert_eq!(m.lock(POLL, None), Err(Error::Again), "TryLock succeeded with mutex locked");
    assert_eq!(m.rlock(POLL, None), Err(Error::Again), "TryRLock succeeded with mutex locked");
    m.unlock().unwrap();
    m.lock(POLL, None).expect("TryLock failed with mutex unlocked");
    m.unlock().unwrap();
    m.rlock(POLL, None).expect("TryRLock failed with mutex unlocked");
    m.rlock(POLL, None).expect("TryRLock failed with mutex rlocked");
    assert_eq!(m.lock(POLL, None), Err(Error::Again), "TryLock succeeded with mutex rlocked");
    m.runlock().unwrap();
    m.runlock().unwrap();
    for readers in [1, 3, 10, 5] {
        hammer(readers, 1000, in_goroutines);
        hammer(readers, 300, in_mixed);
    }
}

/// rwmutex_test.go TestRLocker: a reader holding the lock twice blocks a writer until both
/// read locks are gone.
#[test]
fn rlocker() {
    in_goroutine(|| {
        let wl = Arc::new(RWMutex::new());
        let (wlocked, rlocked) = (chan(1), chan(1));
        let n = 10;
        let (w2, wlk, rlk) = (wl.clone(), wlocked.clone(), rlocked.clone());
        go(move || {
            for _ in 0..n {
                w2.rlock(FOREVER, None).unwrap();
                w2.rlock(FOREVER, None).unwrap();
                send(&rlk, 1);
                w2.lock(FOREVER, None).unwrap();
                send(&wlk, 1);
            }
        });
        for _ in 0..n {
            recv(&rlocked);
            wl.runlock().unwrap();
            assert!(wlocked.recv_u64(POLL).is_err(), "RLocker didn't read-lock it");
            wl.runlock().unwrap();
            recv(&wlocked);
            assert!(rlocked.recv_u64(POLL).is_err(), "RLocker didn't respect the write lock");
            wl.unlock().unwrap();
        }
    });
}

// ------------------------------------------------------------------- src/sync/once_test.go

/// once_test.go TestOnce: ten goroutines call Do; the function runs once and every caller
/// sees its effect.
#[test]
fn once() {
    in_goroutine(|| {
        let o = Arc::new(AtomicU32::new(0));
        let once = Arc::new(Once::new());
        let c = chan(0);
        for _ in 0..10 {
            let (o, once, c) = (o.clone(), once.clone(), c.clone());
            go(move || {
                once.call(
                    || {
                        o.fetch_add(1, SeqCst);
                        0
                    },
                    FOREVER,
                    None,
                )
                .unwrap();
                assert_eq!(o.load(SeqCst), 1, "once failed inside run");
                send(&c, 1);
            });
        }
        for _ in 0..10 {
            recv(&c);
        }
        assert_eq!(o.load(SeqCst), 1, "once failed outside run");
    });
}

/// once_test.go TestOncePanic: a function that fails (here: a nonzero code, or a panic) is
/// not run again. gr's rule reports the failure to every later caller too (module docs of
/// `sync/once.rs`), where Go's Once returns quietly.
#[test]
fn once_failure() {
    let once = Once::new();
    assert_eq!(once.call(|| 5, FOREVER, None), Err(Error::Panic));
    assert_eq!(once.call(|| panic!("Once.Do called twice"), FOREVER, None), Err(Error::Panic));
    assert_eq!((once.state(), once.code()), (OnceState::Failed, 5));
    let once = Arc::new(Once::new());
    let o2 = once.clone();
    let r = std::thread::spawn(move || std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| o2.call(|| panic!("failed"), FOREVER, None))))
        .join()
        .unwrap();
    assert!(r.is_err(), "the panic reaches the caller that ran it");
    assert_eq!(once.call(|| 0, FOREVER, None), Err(Error::Panic));
    assert_eq!(once.code(), gr_core::sync::once::UNWOUND);
}

// ------------------------------------------------------------------- src/sync/cond_test.go

fn cond_pair() -> (Arc<Mutex>, Arc<Cond>) {
    (Arc::new(Mutex::new()), Arc::new(Cond::new()))
}

/// cond_test.go TestCondSignal: each Signal wakes exactly one of two waiters.
#[test]
fn cond_signal() {
    in_goroutine(|| {
        let (m, c) = cond_pair();
        let n = 2;
        let (running, awake) = (chan(n), chan(n));
        for _ in 0..n {
            let (m, c, running, awake) = (m.clone(), c.clone(), running.clone(), awake.clone());
            go(move || {
                m.lock(FOREVER, None).unwrap();
                send(&running, 1);
                c.wait(&m, FOREVER, None).unwrap();
                send(&awake, 1);
                m.unlock().unwrap();
            });
        }
        for _ in 0..n {
            recv(&running);
        }
        for _ in 0..n {
            assert!(awake.recv_u64(POLL).is_err(), "goroutine not asleep");
            m.lock(FOREVER, None).unwrap();
            c.signal();
            m.unlock().unwrap();
            recv(&awake);
            assert!(awake.recv_u64(POLL).is_err(), "too many goroutines awake");
        }
        c.signal();
    });
}

/// cond_test.go TestCondSignalGenerations: Signal wakes waiters in the order they waited.
#[test]
fn cond_signal_generations() {
    in_goroutine(|| {
        let (m, c) = cond_pair();
        let n = 100;
        let (running, awake) = (chan(n), chan(n));
        for i in 0..n {
            let (m2, c2, running2, awake2) = (m.clone(), c.clone(), running.clone(), awake.clone());
            go(move || {
                m2.lock(FOREVER, None).unwrap();
                send(&running2, 1);
                c2.wait(&m2, FOREVER, None).unwrap();
                send(&awake2, i as u64);
                m2.unlock().unwrap();
            });
            if i > 0 {
                let a = recv(&awake);
                assert_eq!(a, i as u64 - 1, "wrong goroutine woke up");
            }
            recv(&running);
            m.lock(FOREVER, None).unwrap();
            c.signal();
            m.unlock().unwrap();
        }
    });
}

/// cond_test.go TestCondBroadcast: Broadcast wakes every waiter, each once, over and over.
#[test]
fn cond_broadcast() {
    in_goroutine(|| {
        let (m, c) = cond_pair();
        let n = 200;
        let (running, awake) = (chan(n), chan(n));
        let exit = Arc::new(AtomicBool::new(false));
        for g in 0..n {
            let (m, c, running, awake, exit) = (m.clone(), c.clone(), running.clone(), awake.clone(), exit.clone());
            go(move || {
                m.lock(FOREVER, None).unwrap();
                while !exit.load(SeqCst) {
                    send(&running, g as u64);
                    c.wait(&m, FOREVER, None).unwrap();
                    send(&awake, g as u64);
                }
                m.unlock().unwrap();
            });
        }
        for i in 0..n {
            for _ in 0..n {
                recv(&running);
            }
            if i == n - 1 {
                m.lock(FOREVER, None).unwrap();
                exit.store(true, SeqCst);
                m.unlock().unwrap();
            }
            assert!(awake.recv_u64(POLL).is_err(), "goroutine not asleep");
            m.lock(FOREVER, None).unwrap();
            c.broadcast();
            m.unlock().unwrap();
            let mut seen = vec![false; n];
            for _ in 0..n {
                let g = recv(&awake) as usize;
                assert!(!seen[g], "goroutine woke up twice");
                seen[g] = true;
            }
        }
        assert!(running.recv_u64(POLL).is_err(), "goroutine did not exit");
        c.broadcast();
    });
}

struct Shared(UnsafeCell<i32>);
// SAFETY: only touched under the test's Mutex.
unsafe impl Sync for Shared {}

/// cond_test.go TestRace: three goroutines hand a value along under the cond's mutex.
#[test]
fn cond_race() {
    in_goroutine(|| {
        let (m, c) = cond_pair();
        let x = Arc::new(Shared(UnsafeCell::new(0)));
        let done = chan(3);
        // SAFETY (all three): `x` is only read and written with `m` locked.
        let get = |x: &Shared| unsafe { *x.0.get() };
        let set = |x: &Shared, v| unsafe { *x.0.get() = v };
        {
            let (m, c, x, done) = (m.clone(), c.clone(), x.clone(), done.clone());
            go(move || {
                m.lock(FOREVER, None).unwrap();
                set(&x, 1);
                c.wait(&m, FOREVER, None).unwrap();
                assert_eq!(get(&x), 2, "want 2");
                set(&x, 3);
                c.signal();
                m.unlock().unwrap();
                send(&done, 1);
            });
        }
        {
            let (m, c, x, done) = (m.clone(), c.clone(), x.clone(), done.clone());
            go(move || {
                m.lock(FOREVER, None).unwrap();
                loop {
                    if get(&x) == 1 {
                        set(&x, 2);
                        c.signal();
                        break;
                    }
                    m.unlock().unwrap();
                    yield_now();
                    m.lock(FOREVER, None).unwrap();
                }
                m.unlock().unwrap();
                send(&done, 1);
            });
        }
        {
            let (m, c, x, done) = (m.clone(), c.clone(), x.clone(), done.clone());
            go(move || {
                m.lock(FOREVER, None).unwrap();
                loop {
                    if get(&x) == 2 {
                        c.wait(&m, FOREVER, None).unwrap();
                        assert_eq!(get(&x), 3, "want 3");
                        break;
                    }
                    if get(&x) == 3 {
                        break;
                    }
                    m.unlock().unwrap();
                    yield_now();
                    m.lock(FOREVER, None).unwrap();
                }
                m.unlock().unwrap();
                send(&done, 1);
            });
        }
        for _ in 0..3 {
            recv(&done);
        }
    });
}

/// cond_test.go TestCondSignalStealing: a Broadcast racing a new waiter still wakes the
/// waiter that was already there.
#[test]
fn cond_signal_stealing() {
    in_goroutine(|| {
        for _ in 0..1000 {
            let (m, c) = cond_pair();
            let ch = chan(0);
            let (m2, c2, ch2) = (m.clone(), c.clone(), ch.clone());
            go(move || {
                m2.lock(FOREVER, None).unwrap();
                send(&ch2, 1);
                c2.wait(&m2, FOREVER, None).unwrap();
                m2.unlock().unwrap();
                send(&ch2, 1);
            });
            recv(&ch);
            m.lock(FOREVER, None).unwrap();
            m.unlock().unwrap();
            let done = Arc::new(AtomicBool::new(false));
            let c3 = c.clone();
            go(move || c3.broadcast());
            let (m4, c4, d4) = (m.clone(), c.clone(), done.clone());
            go(move || {
                m4.lock(FOREVER, None).unwrap();
                while !d4.load(SeqCst) {
                    c4.wait(&m4, FOREVER, None).unwrap();
                }
                m4.unlock().unwrap();
            });
            recv(&ch);
            m.lock(FOREVER, None).unwrap();
            done.store(true, SeqCst);
            m.unlock().unwrap();
            c.broadcast();
        }
    });
}

// ------------------------------------------------------------------------- beyond Go's tests

/// Writer preference: with a reader in and a writer waiting, a new reader waits; when the
/// writer gives up (timeout), the waiting reader gets in at once.
#[test]
fn rwmutex_writer_preference_and_timeout() {
    in_goroutine(|| {
        let m = Arc::new(RWMutex::new());
        m.rlock(FOREVER, None).unwrap();
        let m2 = m.clone();
        let w = go(move || assert_eq!(m2.lock(ms(100), None), Err(Error::TimedOut)));
        while m.rlock(POLL, None).is_ok() {
            m.runlock().unwrap(); // the writer has not queued yet
            gr_core::sleep::sleep(100_000, None).unwrap();
        }
        let t0 = Instant::now();
        let m3 = m.clone();
        let r = go(move || {
            m3.rlock(FOREVER, None).unwrap();
            m3.runlock().unwrap();
        });
        join(&w);
        join(&r);
        assert!(t0.elapsed() >= Duration::from_millis(50), "a reader overtook the waiting writer");
        m.runlock().unwrap();
        m.lock(POLL, None).unwrap();
        m.unlock().unwrap();
    });
}

/// The readers that queue during a write go before the next writer (Go's order), and the
/// next writer then waits for them.
#[test]
fn rwmutex_readers_batch_before_next_writer() {
    in_goroutine(|| {
        let m = Arc::new(RWMutex::new());
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        m.lock(FOREVER, None).unwrap();
        let mut gs = Vec::new();
        for i in 0..3 {
            let (m, order) = (m.clone(), order.clone());
            gs.push(go(move || {
                m.rlock(FOREVER, None).unwrap();
                order.lock().unwrap().push(format!("r{i}"));
                gr_core::sleep::sleep(5_000_000, None).unwrap();
                m.runlock().unwrap();
            }));
        }
        gr_core::sleep::sleep(20_000_000, None).unwrap();
        let (m2, o2) = (m.clone(), order.clone());
        gs.push(go(move || {
            m2.lock(FOREVER, None).unwrap();
            o2.lock().unwrap().push("w".into());
            m2.unlock().unwrap();
        }));
        gr_core::sleep::sleep(20_000_000, None).unwrap();
        m.unlock().unwrap();
        gs.iter().for_each(join);
        let o = order.lock().unwrap();
        assert_eq!(o.last().map(String::as_str), Some("w"), "{o:?}");
    });
}

/// Writers that give up while readers leave (deadlines of a few microseconds, polls and
/// fired cancel tokens), beside writers that wait and readers on goroutines and plain threads
/// (which unlock on other processors than they locked on): a give-up's readers may report
/// after its epoch closed, into the next writer's count; exclusion holds throughout (an
/// `activity` count as HammerRWMutex's), nothing is lost (every waiting writer gets in) and
/// the RWMutex ends clean.
#[test]
fn rwmutex_writers_giving_up_while_readers_leave() {
    let rw = Arc::new(RWMutex::new());
    let activity = Arc::new(AtomicI32::new(0));
    let fired = Arc::new(Cancel::new());
    fired.fire();
    let mut waits: Vec<Task> = Vec::new();
    for i in 0..8usize {
        let (rw, activity, fired) = (rw.clone(), activity.clone(), fired.clone());
        let task: Task = Box::new(move || {
            for k in 0..2_000usize {
                if i % 4 == 3 {
                    let r = match k % 3 {
                        0 => rw.lock(Deadline::from_timeout_ns(2_000), None),
                        1 => rw.lock(POLL, None),
                        _ if k % 30 == 2 => rw.lock(FOREVER, None),
                        _ => rw.lock(FOREVER, Some(&fired)),
                    };
                    if r.is_ok() {
                        let n = activity.fetch_add(10_000, SeqCst) + 10_000;
                        assert_eq!(n, 10_000, "wlock({n})");
                        activity.fetch_sub(10_000, SeqCst);
                        rw.unlock().unwrap();
                    }
                } else {
                    rw.rlock(FOREVER, None).unwrap();
                    let n = activity.fetch_add(1, SeqCst) + 1;
                    assert!((1..10_000).contains(&n), "rlock({n})");
                    if k % 7 == 0 {
                        yield_now(); // (may resume on another processor)
                    }
                    activity.fetch_sub(1, SeqCst);
                    rw.runlock().unwrap();
                }
            }
        });
        waits.push(in_mixed(task));
    }
    for w in waits {
        w();
    }
    assert_eq!((rw.readers(), rw.is_locked()), (0, false));
    rw.lock(POLL, None).unwrap();
    rw.unlock().unwrap();
}

/// Bad use is `State`, not corruption; cancel tokens end RWMutex waits.
#[test]
fn rwmutex_bad_use_and_cancel() {
    let m = RWMutex::new();
    assert_eq!(m.runlock(), Err(Error::State));
    assert_eq!(m.unlock(), Err(Error::State));
    m.rlock(FOREVER, None).unwrap();
    assert_eq!(m.unlock(), Err(Error::State));
    let c = Cancel::new();
    c.fire();
    assert_eq!(m.lock(FOREVER, Some(&c)), Err(Error::Cancelled));
    m.runlock().unwrap();
    assert_eq!(m.runlock(), Err(Error::State));
    m.lock(FOREVER, None).unwrap();
    assert_eq!(m.rlock(FOREVER, Some(&c)), Err(Error::Cancelled));
    let t0 = Instant::now();
    assert_eq!(m.rlock(ms(20), None), Err(Error::TimedOut));
    assert!(t0.elapsed() >= Duration::from_millis(20));
    m.unlock().unwrap();
    assert_eq!((m.readers(), m.is_locked()), (0, false));
}

/// Once from goroutines, bound goroutines and threads at once: one run; waiters time out
/// and are cancelled while it runs; a call from inside the function is `State`.
#[test]
fn once_waits_mixed() {
    let once = Arc::new(Once::new());
    let runs = Arc::new(AtomicU32::new(0));
    let gate = chan(0);
    let (o2, r2, g2) = (once.clone(), runs.clone(), gate.clone());
    let runner = std::thread::spawn(move || {
        let o3 = o2.clone();
        o2.call(
            || {
                r2.fetch_add(1, SeqCst);
                assert_eq!(o3.call(|| 0, FOREVER, None), Err(Error::State));
                recv(&g2);
                0
            },
            FOREVER,
            None,
        )
    });
    while once.state() != OnceState::Running {
        std::thread::yield_now();
    }
    assert_eq!(once.call(|| 9, POLL, None), Err(Error::Again));
    assert_eq!(once.call(|| 9, ms(10), None), Err(Error::TimedOut));
    let c = Cancel::new();
    let c2 = c.clone();
    let o4 = once.clone();
    let cancelled = go(move || assert_eq!(o4.call(|| 9, FOREVER, Some(&c2)), Err(Error::Cancelled)));
    gr_core::sleep::sleep(5_000_000, None).unwrap();
    c.fire();
    join(&cancelled);
    let mut waiters = Vec::new();
    for k in 0..6 {
        let (once, runs) = (once.clone(), runs.clone());
        let f = move || {
            once.call(
                || {
                    runs.fetch_add(1, SeqCst);
                    0
                },
                FOREVER,
                None,
            )
            .unwrap()
        };
        waiters.push(in_mixed_k(k, Box::new(f)));
    }
    gr_core::sleep::sleep(5_000_000, None).unwrap();
    send(&gate, 1);
    assert_eq!(runner.join().unwrap(), Ok(()));
    for w in waiters {
        w();
    }
    assert_eq!(runs.load(SeqCst), 1);
    assert_eq!(once.state(), OnceState::Done);
}

/// The k-th way of [`in_mixed`]'s three (k modulo 3).
fn in_mixed_k(k: usize, f: Box<dyn FnOnce() + Send>) -> Box<dyn FnOnce() + Send> {
    match k % 3 {
        0 => in_goroutines(f),
        1 => {
            let g = go_bound(f);
            Box::new(move || join(&g))
        }
        _ => {
            let t = std::thread::spawn(f);
            Box::new(move || t.join().unwrap())
        }
    }
}

/// Cond waits time out and are cancelled with the mutex locked again; a signal skips a
/// waiter that gave up and goes to the next; threads and goroutines wait on one Cond.
#[test]
fn cond_timeouts_cancel_and_mixed_waiters() {
    let (m, c) = cond_pair();
    assert_eq!(c.wait(&m, FOREVER, None), Err(Error::State), "wait without the mutex");
    m.lock(FOREVER, None).unwrap();
    assert_eq!(c.wait(&m, POLL, None), Err(Error::Again));
    let t0 = Instant::now();
    assert_eq!(c.wait(&m, ms(20), None), Err(Error::TimedOut));
    assert!(t0.elapsed() >= Duration::from_millis(20));
    assert!(m.is_locked(), "the wait returns with the mutex locked");
    let cancel = Cancel::new();
    cancel.fire();
    assert_eq!(c.wait(&m, FOREVER, Some(&cancel)), Err(Error::Cancelled));
    assert!(m.is_locked());
    m.unlock().unwrap();

    let woke = Arc::new(AtomicU32::new(0));
    let mut waits = Vec::new();
    for k in 0..6 {
        let (m, c, woke) = (m.clone(), c.clone(), woke.clone());
        waits.push(in_mixed_k(
            k,
            Box::new(move || {
                m.lock(FOREVER, None).unwrap();
                c.wait(&m, FOREVER, None).unwrap();
                woke.fetch_add(1, SeqCst);
                m.unlock().unwrap();
            }),
        ));
    }
    while c.waiters() < 6 {
        std::thread::sleep(Duration::from_millis(1));
    }
    for i in 1..=3 {
        c.signal();
        while woke.load(SeqCst) < i {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    c.broadcast();
    for w in waits {
        w();
    }
    assert_eq!(woke.load(SeqCst), 6);
}
