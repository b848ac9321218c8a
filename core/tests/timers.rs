//! Timer and ticker channels beyond Go's own tests (`time_golang.rs`): accuracy, no stale
//! value under random stop/reset, what pending and stopped timers cost, and use from plain
//! threads, bound goroutines and goroutines at once.

mod common;
use common::*;
use gr_core::chan::timer::now_ns;
use gr_core::chan::{Chan, Timer};
use gr_core::sync::WaitGroup;
use gr_core::{sched, Deadline, Error};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const MS: Duration = Duration::from_millis(1);

fn percentile(v: &[i64], p: f64) -> i64 {
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// 1,000 goroutines each receive from their own `after(10 ms)`: every value arrives after
/// its due time (hard), and on an idle machine within 2 ms of it. The 2 ms bound is judged
/// on the median and the 90th percentile, best of five rounds, so that a shared, loaded
/// machine (a late monitor or worker wake-up) does not fail it; every round's numbers are
/// printed.
#[test]
fn after_accuracy() {
    let mut best = i64::MAX;
    for round in 0..5 {
        let late = Arc::new(Mutex::new(Vec::with_capacity(1000)));
        let wg = Arc::new(WaitGroup::new());
        wg.add(1000).unwrap();
        for _ in 0..1000 {
            let (late, wg) = (late.clone(), wg.clone());
            go(move || {
                let t = Timer::after(10 * MS).unwrap();
                let due = t.chan().recv_u64(FOREVER).unwrap() as i64;
                let got = now_ns();
                late.lock().unwrap().push(got - due);
                wg.done().unwrap();
            });
        }
        wg.wait(FOREVER, None).unwrap();
        let mut v = late.lock().unwrap().clone();
        v.sort_unstable();
        let (p50, p90, p99, max) = (percentile(&v, 0.5), percentile(&v, 0.9), percentile(&v, 0.99), v[v.len() - 1]);
        eprintln!(
            "after(10ms) x1000 round {round}: lateness min {} us, median {} us, p90 {} us, p99 {} us, max {} us",
            v[0] / 1000,
            p50 / 1000,
            p90 / 1000,
            p99 / 1000,
            max / 1000
        );
        assert!(v[0] >= 0, "a timer fired {} ns early", -v[0]);
        best = best.min(p90.max(p50));
        if p50 <= 2_000_000 && p90 <= 2_000_000 {
            return;
        }
    }
    panic!("after(10ms) was late by more than 2 ms (median or p90) in every round; best {} us", best / 1000);
}

/// 10,000 random sequences of stop, reset, polls, timed receives and short sleeps, from
/// goroutines and plain threads at once: a received value is never older than the latest
/// stop or reset (no stale value: Go 1.23's guarantee), a stopped timer delivers nothing,
/// and a one-shot timer delivers at most once per setting.
#[test]
fn random_stop_reset_never_stale() {
    const SEQS: u64 = 10_000;
    let next = Arc::new(AtomicU64::new(0));
    let received = Arc::new(AtomicU64::new(0));
    let run = {
        let (next, received) = (next.clone(), received.clone());
        move || loop {
            let seq = next.fetch_add(1, SeqCst);
            if seq >= SEQS {
                return;
            }
            let mut x = seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let mut rnd = move |n: u64| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x % n
            };
            let mut since = now_ns();
            let t = Timer::after(Duration::from_micros(rnd(300))).unwrap();
            let mut running = true;
            let mut delivered = false;
            for _ in 0..8 {
                match rnd(6) {
                    0 => {
                        since = now_ns();
                        let pending = t.stop();
                        assert!(!pending || running, "Stop said pending for a stopped timer");
                        running = false;
                    }
                    1 | 2 => {
                        since = now_ns();
                        t.reset(Duration::from_micros(rnd(300))).unwrap();
                        running = true;
                        delivered = false;
                    }
                    3 => {
                        if let Ok(v) = t.chan().recv_u64(Deadline::Poll) {
                            assert!(running && !delivered, "a value from a stopped or spent timer");
                            assert!(v as i64 >= since, "stale value: due {v}, last stop/reset at {since}");
                            delivered = true;
                            received.fetch_add(1, SeqCst);
                        }
                    }
                    4 => match t.chan().recv_u64(Deadline::from_timeout_ns(rnd(500_000) as i64 + 1)) {
                        Ok(v) => {
                            assert!(running && !delivered, "a value from a stopped or spent timer");
                            assert!(v as i64 >= since, "stale value: due {v}, last stop/reset at {since}");
                            delivered = true;
                            received.fetch_add(1, SeqCst);
                        }
                        Err(e) => assert_eq!(e, Error::TimedOut),
                    },
                    _ => gr_core::sleep::sleep(rnd(200_000) as i64, None).unwrap(),
                }
            }
        }
    };
    let mut gs = Vec::new();
    for _ in 0..4 {
        gs.push(go(run.clone()));
    }
    let ts: Vec<_> = (0..2).map(|_| std::thread::spawn(run.clone())).collect();
    gs.iter().for_each(join);
    ts.into_iter().for_each(|t| t.join().unwrap());
    eprintln!("{SEQS} stop/reset sequences, {} values received, none stale", received.load(SeqCst));
    assert!(received.load(SeqCst) > SEQS / 10, "the sequences should receive values too");
}

/// Go's Timer churn (`select` against a ready channel with a fresh `After(1 h)`): a timer
/// that nobody parks on never enters the heap, and dropping it leaves nothing behind.
#[test]
fn select_churn_leaves_the_heap_alone() {
    in_goroutine(|| {
        let ready = chan(0);
        ready.close().unwrap();
        let before = sched::stats().unwrap().timer_heap;
        for _ in 0..100_000 {
            let t = Timer::after(Duration::from_secs(3600)).unwrap();
            let (i, closed, _) = sel(&[C::Recv(&ready), C::Recv(t.chan())], FOREVER).unwrap();
            assert_eq!((i, closed), (0, true));
        }
        // The heap is the runtime's, shared with the tests running beside this one (up to
        // ~1,000 entries of theirs, after_accuracy's): a leak here would be ~100,000.
        let after = sched::stats().unwrap().timer_heap;
        assert!(after <= before + 2_000, "timer heap {before} -> {after} after 100,000 churned timers");
    });
}

/// A ticker read by goroutines, bound goroutines and plain threads at once: ticks keep
/// coming, none is duplicated, and a slow reader finds at most one queued.
#[test]
fn ticker_mixed_readers() {
    let t = Arc::new(Timer::ticker(Duration::from_micros(500)).unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let reader = {
        let (t, seen) = (t.clone(), seen.clone());
        move || {
            for _ in 0..100 {
                let v = t.chan().recv_u64(FOREVER).unwrap();
                seen.lock().unwrap().push(v);
            }
        }
    };
    let gs = [go(reader.clone()), go_bound(reader.clone())];
    let th = std::thread::spawn(reader);
    gs.iter().for_each(join);
    th.join().unwrap();
    let mut v = seen.lock().unwrap().clone();
    let n = v.len();
    v.sort_unstable();
    v.dedup();
    assert_eq!(v.len(), n, "a tick was received twice");
    // A slow reader: at most one tick waits, however many periods passed.
    std::thread::sleep(Duration::from_millis(20));
    assert!(t.chan().recv_u64(Deadline::Poll).is_ok());
    let second = t.chan().recv_u64(Deadline::Poll);
    assert!(second.is_err() || second.unwrap() as i64 > now_ns() - 2_000_000, "ticks queued up for a slow reader");
}

/// Timers from plain threads: a thread parks on a timer (arming it) and on a select of two
/// timers; timer channels refuse sends and closes.
#[test]
fn timers_from_plain_threads() {
    std::thread::spawn(|| {
        let t0 = Instant::now();
        let t = Timer::after(20 * MS).unwrap();
        let v = t.chan().recv_u64(FOREVER).unwrap() as i64;
        assert!(t0.elapsed() >= 20 * MS && v <= now_ns());
        let (a, b) = (Timer::after(30 * MS).unwrap(), Timer::after(5 * MS).unwrap());
        let (i, ..) = sel(&[C::Recv(a.chan()), C::Recv(b.chan())], FOREVER).unwrap();
        assert_eq!(i, 1);
        assert_eq!(a.chan().send_u64(1, Deadline::Poll), Err(Error::Invalid));
        assert_eq!(a.chan().close(), Err(Error::Invalid));
        assert!(matches!(sel(&[C::Send(a.chan(), 1)], Deadline::Poll), Err(Error::Invalid)));
        let c: &Chan = b.chan();
        assert_eq!((c.len(), c.cap(), c.is_recv_only()), (0, 0, true));
    })
    .join()
    .unwrap();
}
