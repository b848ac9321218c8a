//! Rust-level tests of the runtime API (the C suite in tests/c covers the ABI).
//! All tests share the process's one runtime.

use gr_core::{join, sched, sleep, waiter, Cancel, Deadline, Entry, Error, SpawnOpts};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn go(f: impl FnOnce() + Send + 'static) -> gr_core::GRef {
    sched::spawn(Entry::Rust(Box::new(f)), SpawnOpts::default()).expect("spawn")
}

fn join(g: &gr_core::GRef) -> Result<(), Error> {
    join::join(g, Deadline::Never, None)
}

#[test]
fn spawn_and_join_many() {
    let n = Arc::new(AtomicUsize::new(0));
    let gs: Vec<_> = (0..10_000)
        .map(|_| {
            let n = n.clone();
            go(move || {
                n.fetch_add(1, SeqCst);
            })
        })
        .collect();
    for g in &gs {
        join(g).unwrap();
        assert!(g.is_done());
    }
    assert_eq!(n.load(SeqCst), 10_000);
}

#[test]
fn nested_spawns_join_from_goroutines() {
    let total = Arc::new(AtomicUsize::new(0));
    let t = total.clone();
    let root = go(move || {
        let kids: Vec<_> = (0..100)
            .map(|_| {
                let t = t.clone();
                go(move || {
                    sched::yield_now();
                    t.fetch_add(1, SeqCst);
                })
            })
            .collect();
        for k in &kids {
            join(k).unwrap();
        }
    });
    join(&root).unwrap();
    assert_eq!(total.load(SeqCst), 100);
}

#[test]
fn context_and_self_id() {
    assert_eq!(sched::context(), 0);
    assert_eq!(sched::self_id(), 0);
    let seen = Arc::new(AtomicUsize::new(0));
    let s = seen.clone();
    let g = go(move || {
        assert_eq!(sched::context(), 1);
        s.store(sched::self_id() as usize, SeqCst);
    });
    join(&g).unwrap();
    assert_eq!(seen.load(SeqCst) as u64, g.id);
    let b = sched::spawn(Entry::Rust(Box::new(|| assert_eq!(sched::context(), 2))), SpawnOpts { bound: true, ..Default::default() }).unwrap();
    join(&b).unwrap();
}

#[test]
fn sleep_parks_for_at_least_the_duration() {
    let g = go(|| {
        let t0 = Instant::now();
        sleep::sleep(10_000_000, None).unwrap();
        assert!(t0.elapsed() >= Duration::from_millis(10));
    });
    join(&g).unwrap();
    let t0 = Instant::now();
    sleep::sleep(5_000_000, None).unwrap(); // plain thread
    assert!(t0.elapsed() >= Duration::from_millis(5));
}

#[test]
fn join_timeouts_and_polls() {
    let c = Arc::new(Cancel::new());
    let c2 = c.clone();
    let g = go(move || {
        let _ = sleep::sleep(60_000_000_000, Some(&c2));
    });
    assert_eq!(join::join(&g, Deadline::Poll, None), Err(Error::Again)); // a poll, as for every wait
    let t0 = Instant::now();
    assert_eq!(join::join(&g, Deadline::from_timeout_ns(20_000_000), None), Err(Error::TimedOut));
    assert!(t0.elapsed() >= Duration::from_millis(20));
    let c3 = Arc::new(Cancel::new());
    c3.fire();
    assert_eq!(join::join(&g, Deadline::Never, Some(&c3)), Err(Error::Cancelled));
    c.fire();
    join(&g).unwrap();
}

/// Issue 16: a plain thread's join spins on the goroutine's end before it publishes a wait
/// (`join.rs`). The spin must still honour a deadline shorter than itself, a cancel fired
/// while it spins (or before a poll), and an end seen during the spin.
#[test]
fn plain_thread_join_spin_keeps_deadlines_and_cancels() {
    let c = Arc::new(Cancel::new());
    let c2 = c.clone();
    let g = go(move || {
        let _ = sleep::sleep(60_000_000_000, Some(&c2));
    });
    let fired = Arc::new(Cancel::new());
    fired.fire();
    assert_eq!(join::join(&g, Deadline::Poll, Some(&fired)), Err(Error::Cancelled), "a poll with a fired cancel");
    let t0 = Instant::now();
    assert_eq!(join::join(&g, Deadline::from_timeout_ns(5_000), None), Err(Error::TimedOut), "shorter than the spin");
    assert!(t0.elapsed() >= Duration::from_micros(5));
    for delay_us in [2u64, 50, 2_000] {
        // Fired by another thread soon (within the spin, timer slack permitting), or after
        // the wait was published (2 ms).
        let k = Arc::new(Cancel::new());
        let k2 = k.clone();
        let firer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_micros(delay_us));
            k2.fire();
        });
        assert_eq!(join::join(&g, Deadline::Never, Some(&k)), Err(Error::Cancelled), "cancel after {delay_us} us");
        firer.join().unwrap();
    }
    // Ends while the joiner spins (or soon after): joined, with nothing left registered.
    for _ in 0..1_000 {
        let short = go(|| sched::yield_now());
        join(&short).unwrap();
        assert!(short.is_done());
    }
    c.fire();
    join(&g).unwrap();
}

#[test]
fn failure_is_reported_to_joiners() {
    let g = go(|| sched::fail_current(Some(c"bad".to_owned())).unwrap());
    assert_eq!(join(&g), Err(Error::Panic));
    assert_eq!(join::failure_message(&g).to_str().unwrap(), "bad");
    let p = go(|| panic!("a Rust panic inside a goroutine"));
    assert_eq!(join(&p), Err(Error::Panic));
    assert_eq!(sched::fail_current(None), Err(Error::State));
}

#[test]
fn a_goroutine_cannot_join_itself() {
    let slot: Arc<std::sync::Mutex<Option<gr_core::GRef>>> = Arc::default();
    let s = slot.clone();
    let gate = Arc::new(Cancel::new());
    let g2 = gate.clone();
    let g = go(move || {
        let _ = sleep::sleep(60_000_000_000, Some(&g2)); // wait until the handle is stored
        let me = s.lock().unwrap().clone().unwrap();
        assert_eq!(join::join(&me, Deadline::Never, None), Err(Error::Invalid));
    });
    *slot.lock().unwrap() = Some(g.clone());
    gate.fire();
    join(&g).unwrap();
}

#[test]
fn pin_keeps_a_goroutine_on_its_thread() {
    assert_eq!(sched::pin(), Err(Error::State));
    let g = go(|| {
        sched::pin().unwrap();
        let t = unsafe { libc::gettid() };
        for _ in 0..1000 {
            sleep::sleep(1_000, None).unwrap();
            assert_eq!(unsafe { libc::gettid() }, t);
        }
        sched::unpin().unwrap();
    });
    join(&g).unwrap();
}

#[test]
fn waiter_tokens_complete_once() {
    // A thread-owned wait completed by another thread; a second completion is refused.
    let tok = waiter::prepare(gr_core::waitreason::WaitReason::NONE);
    let t2 = tok.clone();
    let h = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(5));
        (t2.complete(waiter::USER + 7), t2.complete(waiter::USER + 8))
    });
    assert_eq!(waiter::block(&tok, Deadline::Never, None), waiter::USER + 7);
    assert_eq!(h.join().unwrap(), (true, false));
    // A poll on an open wait ends it as a timeout, and late completers lose.
    let tok = waiter::prepare(gr_core::waitreason::WaitReason::NONE);
    assert_eq!(waiter::block(&tok, Deadline::Poll, None), waiter::TIMEOUT);
    assert!(!tok.complete(waiter::DONE));
}

#[test]
fn stats_count_goroutines() {
    let before = sched::stats().unwrap();
    let g = go(|| {});
    join(&g).unwrap();
    let after = sched::stats().unwrap();
    assert!(after.spawned_total > before.spawned_total);
    assert!(after.workers >= 1);
}
