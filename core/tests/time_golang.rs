//! Go's timer and ticker tests, ported to gr's timer channels (`gr_core::chan::Timer`). Each
//! test names its source in the Go tree (golang/go `src/time/sleep_test.go`,
//! `src/time/tick_test.go`); Go's `AfterFunc` variants have no counterpart (gr's timers are
//! channels only). Go's retry-until-it-passes loops for timing-sensitive tests are kept, so
//! a loaded machine slows them down instead of failing them.

mod common;
use common::*;
use gr_core::chan::timer::now_ns;
use gr_core::chan::{Chan, Timer};
use gr_core::sync::WaitGroup;
use gr_core::{Deadline, Error};
use std::sync::Arc;
use std::time::{Duration, Instant};

const POLL: Deadline = Deadline::Poll;
const MS: Duration = Duration::from_millis(1);
const HOUR: Duration = Duration::from_secs(3600);

fn after(d: Duration) -> Timer {
    Timer::after(d).unwrap()
}

fn recv(c: &Chan) -> i64 {
    c.recv_u64(FOREVER).unwrap() as i64
}

/// A value is ready now (Go's `select { case <-C: default: }`).
fn ready(c: &Chan) -> bool {
    c.recv_u64(POLL).is_ok()
}

fn sleep(d: Duration) {
    gr_core::sleep::sleep(d.as_nanos() as i64, None).unwrap();
}

// ------------------------------------------------------------------ src/time/sleep_test.go

/// sleep_test.go TestAfter: a receive from After(d) returns no earlier than d, and the
/// value is no earlier than start + d.
#[test]
fn after_waits_its_delay() {
    in_goroutine(|| {
        let delay = 100 * MS;
        let (start, t0) = (Instant::now(), now_ns());
        let end = recv(after(delay).chan());
        assert!(start.elapsed() >= delay);
        assert!(end >= t0 + delay.as_nanos() as i64, "value {end} before start+delay");
    });
}

/// sleep_test.go TestAfterTick: ten After(10 ms) in a row take about 100 ms.
#[test]
fn after_tick() {
    in_goroutine(|| {
        let delta = 10 * MS;
        let t0 = Instant::now();
        for _ in 0..10 {
            recv(after(delta).chan());
        }
        let d = t0.elapsed();
        assert!(d >= delta * 10 * 9 / 10, "10 ticks of {delta:?} took only {d:?}");
    });
}

/// sleep_test.go TestAfterStop (impl=chan): a stopped timer never delivers, and a second
/// Stop returns false.
#[test]
fn after_stop() {
    in_goroutine(|| {
        let mut errs = Vec::new();
        for _ in 0..5 {
            let t0 = after(50 * MS);
            let t1 = after(150 * MS);
            let c2 = after(200 * MS);
            if !t0.stop() {
                errs.push("failed to stop event 0");
                continue;
            }
            if !t1.stop() {
                errs.push("failed to stop event 1");
                continue;
            }
            recv(c2.chan());
            if ready(t0.chan()) || ready(t1.chan()) {
                panic!("a stopped timer delivered a value");
            }
            if t1.stop() {
                panic!("Stop returned true twice");
            }
            return;
        }
        panic!("saw errors: {errs:?}");
    });
}

/// sleep_test.go TestAfterQueuing: timers started together fire in the order of their
/// delays, each about on time.
#[test]
fn after_queuing() {
    const SLOTS: [u64; 13] = [5, 3, 6, 6, 6, 1, 1, 2, 7, 9, 4, 8, 0];
    in_goroutine(|| {
        let mut last = String::new();
        for attempt in 0..5u32 {
            let delta = (20 + attempt * 50) * MS;
            let result = Arc::new(Chan::new(16, SLOTS.len()).unwrap());
            let t0 = now_ns();
            for slot in SLOTS {
                let (result, t) = (result.clone(), after(delta * slot as u32));
                go(move || {
                    let v = recv(t.chan());
                    let mut b = [0u8; 16];
                    b[..8].copy_from_slice(&slot.to_ne_bytes());
                    b[8..].copy_from_slice(&v.to_ne_bytes());
                    result.send_bytes(&b, FOREVER, None).unwrap();
                });
            }
            let mut got = Vec::new();
            for _ in SLOTS {
                let mut b = [0u8; 16];
                result.recv_bytes(&mut b, FOREVER, None).unwrap();
                got.push((u64::from_ne_bytes(b[..8].try_into().unwrap()), i64::from_ne_bytes(b[8..].try_into().unwrap())));
            }
            let in_order = got.windows(2).all(|w| w[0].0 <= w[1].0);
            let on_time = got.iter().all(|&(slot, v)| {
                let dt = v - t0;
                let target = (delta * slot as u32).as_nanos() as i64;
                let d = delta.as_nanos() as i64;
                dt >= target - d / 2 && dt <= target + d * 10
            });
            if in_order && on_time {
                return;
            }
            last = format!("attempt {attempt}: {got:?}");
        }
        panic!("After calls out of order or late: {last}");
    });
}

/// sleep_test.go TestTimerStopStress: 100 timers stopped halfway never fire.
#[test]
fn timer_stop_stress() {
    in_goroutine(|| {
        let wg = Arc::new(WaitGroup::new());
        let timers: Vec<Arc<Timer>> = (0..100).map(|_| Arc::new(after(400 * MS))).collect();
        for t in &timers {
            let (t, wg) = (t.clone(), wg.clone());
            wg.add(1).unwrap();
            go(move || {
                sleep(200 * MS);
                t.stop();
                wg.done().unwrap();
            });
        }
        wg.wait(FOREVER, None).unwrap();
        sleep(400 * MS);
        for t in &timers {
            assert!(!ready(t.chan()), "a timer was not stopped");
        }
    });
}

/// sleep_test.go TestReset: Reset of an unfired timer returns true and moves it; Reset of
/// a fired (received) one returns false. Retried with longer durations under load.
#[test]
fn reset() {
    fn attempt(d: Duration) -> Result<(), &'static str> {
        let t0 = after(2 * d);
        sleep(d);
        if !t0.reset(3 * d).unwrap() {
            return Err("resetting unfired timer returned false");
        }
        sleep(2 * d);
        if ready(t0.chan()) {
            return Err("timer fired early");
        }
        sleep(2 * d);
        if !ready(t0.chan()) {
            return Err("reset timer did not fire");
        }
        if t0.reset(50 * MS).unwrap() {
            return Err("resetting expired timer returned true");
        }
        Ok(())
    }
    in_goroutine(|| {
        let mut d = MS;
        loop {
            match attempt(d) {
                Ok(()) => return,
                Err(e) if d < 2 * Duration::from_secs(1) => {
                    eprintln!("reset with {d:?}: {e}; retrying longer");
                    d *= 2;
                }
                Err(e) => panic!("{e}"),
            }
        }
    });
}

/// sleep_test.go TestTimerModifiedEarlier: moving a timer earlier many times over does not
/// lose it (issue 47329).
#[test]
fn timer_modified_earlier() {
    in_goroutine(|| {
        for _ in 0..200 {
            let t = after(HOUR);
            for _ in 0..10 {
                if !t.stop() {
                    recv(t.chan());
                }
                t.reset(Duration::ZERO).unwrap();
            }
            let deadline = after(Duration::from_secs(10));
            let now = Instant::now();
            let (i, ..) = sel(&[C::Recv(t.chan()), C::Recv(deadline.chan())], FOREVER).unwrap();
            assert_eq!(i, 0, "deadline expired");
            assert!(now.elapsed() < Duration::from_secs(8));
        }
    });
}

/// sleep_test.go TestAdjustTimers: 100 timers moved earlier and later at random, stopped,
/// drained and reset, lose no wake-up (issue 47762).
#[test]
fn adjust_timers() {
    in_goroutine(|| {
        let mut rng = 0x9E37_79B9u64;
        let mut rnd = move |n: usize| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng % n as u64) as usize
        };
        let n = 100;
        let mut timers: Vec<Option<Timer>> = (0..n).map(|_| None).collect();
        let mut states = vec![0; n];
        let mut indices: Vec<usize> = (0..n).collect();
        while !indices.is_empty() {
            let ii = rnd(indices.len());
            let i = indices[ii];
            let state = states[i];
            states[i] += 1;
            match state {
                0 => timers[i] = Some(after(Duration::ZERO)),
                1 => {
                    recv(timers[i].as_ref().unwrap().chan());
                }
                2 | 4 | 6 => {
                    let d = Duration::from_secs(60 * (1 + state as u64 / 2));
                    assert!(!timers[i].as_ref().unwrap().reset(d).unwrap(), "shouldn't be active");
                }
                3 | 5 | 7 => {
                    let t = timers[i].as_ref().unwrap();
                    if !t.stop() {
                        recv(t.chan());
                    }
                }
                8 => assert!(!timers[i].as_ref().unwrap().reset(Duration::ZERO).unwrap(), "Reset returned true"),
                9 => {
                    let now = Instant::now();
                    recv(timers[i].as_ref().unwrap().chan());
                    assert!(now.elapsed() < Duration::from_millis(750), "timer {i} took {:?}", now.elapsed());
                }
                _ => {
                    indices.swap_remove(ii);
                }
            }
        }
    });
}

/// sleep_test.go TestStopResult and TestResetResult (issue 69312): racing a timer's firing
/// against stopping (resetting) another, Stop/Reset returning false always means a value
/// can be received (here: at once; it never times out).
#[test]
fn stop_and_reset_result() {
    for stop in [true, false] {
        in_goroutine(move || {
            let wg = Arc::new(WaitGroup::new());
            let n = 200;
            wg.add(n).unwrap();
            for _ in 0..n {
                let wg = wg.clone();
                go(move || {
                    for _ in 0..20 {
                        let (t1, t2) = (after(MS), after(MS));
                        let stop_or_reset = |t: &Timer| if stop { t.stop() } else { t.reset(HOUR).unwrap() };
                        let (i, ..) = sel(&[C::Recv(t1.chan()), C::Recv(t2.chan())], FOREVER).unwrap();
                        let other = if i == 0 { &t2 } else { &t1 };
                        if !stop_or_reset(other) {
                            other.chan().recv_u64(Deadline::from_timeout_ns(10_000_000_000)).expect("the value Stop/Reset promised");
                        }
                    }
                    wg.done().unwrap();
                });
            }
            wg.wait(FOREVER, None).unwrap();
        });
    }
}

/// sleep_test.go TestMultiWakeupTicker: goroutines select on one fast ticker against a
/// fresh After(1 ms), many times over.
#[test]
fn multi_wakeup_ticker() {
    in_goroutine(|| {
        let ticker = Arc::new(Timer::ticker(Duration::from_micros(1)).unwrap());
        let wg = Arc::new(WaitGroup::new());
        wg.add(4).unwrap();
        for _ in 0..4 {
            let (ticker, wg) = (ticker.clone(), wg.clone());
            go(move || {
                for _ in 0..20_000 {
                    let a = after(MS);
                    sel(&[C::Recv(ticker.chan()), C::Recv(a.chan())], FOREVER).unwrap();
                }
                wg.done().unwrap();
            });
        }
        wg.wait(FOREVER, None).unwrap();
    });
}

/// sleep_test.go TestMultiWakeupTimer: goroutines poll and reset one shared timer.
#[test]
fn multi_wakeup_timer() {
    in_goroutine(|| {
        let timer = Arc::new(Timer::after(Duration::from_nanos(1)).unwrap());
        let wg = Arc::new(WaitGroup::new());
        wg.add(4).unwrap();
        for _ in 0..4 {
            let (timer, wg) = (timer.clone(), wg.clone());
            go(move || {
                for _ in 0..10_000 {
                    let _ = timer.chan().recv_u64(POLL);
                    timer.reset(Duration::from_nanos(1)).unwrap();
                }
                wg.done().unwrap();
            });
        }
        wg.wait(FOREVER, None).unwrap();
    });
}

// ------------------------------------------------------------------- src/time/tick_test.go

/// tick_test.go TestTicker: count/2 ticks of delta then count/2 of 2*delta (after Reset)
/// take about 3*delta*count/2; a stopped ticker sends nothing more.
#[test]
fn ticker() {
    in_goroutine(|| {
        let mut errs = Vec::new();
        for (count, delta) in [(10u32, 20 * MS), (8, Duration::from_secs(1))] {
            let t = Timer::ticker(delta).unwrap();
            let t0 = Instant::now();
            for _ in 0..count / 2 {
                recv(t.chan());
            }
            t.reset(delta * 2).unwrap();
            for _ in 0..count - count / 2 {
                recv(t.chan());
            }
            t.stop();
            let dt = t0.elapsed();
            let target = 3 * delta * (count / 2);
            let slop = target * 3 / 10;
            if dt < target - slop || dt > target + slop {
                errs.push(format!("{count} ticks of {delta:?} took {dt:?}, expected {target:?} +- {slop:?}"));
                continue;
            }
            sleep(2 * delta);
            assert!(!ready(t.chan()), "Ticker did not shut down");
            return;
        }
        panic!("{errs:?}");
    });
}

/// tick_test.go TestTeardown: tearing a ticker down after one tick does not deadlock.
#[test]
fn teardown() {
    in_goroutine(|| {
        for _ in 0..3 {
            let t = Timer::ticker(20 * MS).unwrap();
            recv(t.chan());
            t.stop();
        }
    });
}

/// tick_test.go TestNewTickerLtZeroDuration and TestTickerResetLtZeroDuration: a ticker
/// needs a positive period (Go panics; here `Invalid`).
#[test]
fn ticker_needs_a_period() {
    assert!(matches!(Timer::ticker(Duration::ZERO), Err(Error::Invalid)));
    let t = Timer::ticker(Duration::from_secs(1)).unwrap();
    assert_eq!(t.reset(Duration::ZERO), Err(Error::Invalid));
}

/// tick_test.go TestChan (asynctimerchan=0, Go 1.23's synchronous channels), for a timer
/// and a ticker: stop and reset in and out of the heap, receivers parked in plain receives
/// and in selects, no stale value after Stop/Reset, and their results.
#[test]
fn chan_semantics() {
    for ticker in [false, true] {
        in_goroutine(move || test_timer_chan(ticker));
    }
}

fn test_timer_chan(is_ticker: bool) {
    let sched = 10 * MS;
    let tim = Arc::new(if is_ticker { Timer::ticker(Duration::from_secs(10_000)).unwrap() } else { after(Duration::from_secs(10_000)) });
    let c = || tim.chan();
    let no_tick = |c: &Chan| assert!(!ready(c), "extra tick");
    let assert_tick = |c: &Chan| {
        for _ in 0..100 {
            if ready(c) {
                return;
            }
            sleep(sched);
        }
        panic!("missing tick");
    };
    // The ported tickerTimer wrapper: a ticker's Stop/Reset "pending" is "was running".
    let stop = |t: &Timer| t.stop();
    let reset = |t: &Timer, d: Duration| t.reset(d).unwrap();

    // Simple stop; timer never in heap.
    stop(&tim);
    no_tick(c());
    // Modify of timer not in heap.
    reset(&tim, Duration::from_secs(10_000));
    no_tick(c());
    // Modify of timer in heap.
    reset(&tim, Duration::from_nanos(1));
    sleep(sched);
    assert_eq!((c().len(), c().cap()), (0, 0), "a timer channel is synchronous");
    assert_tick(c());
    // Reset does not lose the tick that should have happened.
    sleep(sched);
    reset(&tim, Duration::from_secs(10_000));
    no_tick(c());

    let not_done = |done: &Chan| assert!(done.recv_u64(POLL).is_err(), "early done");
    let wait_done = |done: &Chan| done.recv_u64(Deadline::from_timeout_ns(5_000_000_000)).expect("never got done");

    // Stop while the timer is in the heap (a goroutine blocked on C).
    reset(&tim, Duration::from_secs(10_000));
    let done = chan(1);
    let (t2, d2) = (tim.clone(), done.clone());
    go(move || {
        recv(t2.chan());
        d2.send_u64(1, FOREVER).unwrap();
    });
    sleep(sched);
    not_done(&done);
    // Reset far away while in heap.
    reset(&tim, Duration::from_secs(20_000));
    sleep(sched);
    not_done(&done);
    // Imminent reset while in heap.
    reset(&tim, Duration::from_nanos(1));
    wait_done(&done);
    if is_ticker {
        assert_tick(c()); // 1 ns apart: another tick came already
    } else {
        no_tick(c());
    }
    stop(&tim);
    no_tick(c());

    // Again, with two goroutines waiting in selects.
    reset(&tim, Duration::from_secs(10_000));
    let done = chan(2);
    let stopc = chan(0);
    let (done1, done2) = (chan(1), chan(1));
    for d in [&done1, &done2] {
        let (t2, done, stopc, d) = (tim.clone(), done.clone(), stopc.clone(), (*d).clone());
        go(move || {
            if sel(&[C::Recv(t2.chan()), C::Recv(&stopc)], FOREVER).unwrap().0 == 0 {
                done.send_u64(1, FOREVER).unwrap();
            }
            d.send_u64(1, FOREVER).unwrap();
        });
    }
    sleep(sched);
    not_done(&done);
    reset(&tim, sched / 2);
    sleep(sched);
    wait_done(&done);
    stop(&tim);
    stopc.close().unwrap();
    wait_done(&done1);
    wait_done(&done2);
    if is_ticker {
        let _ = done.recv_u64(POLL); // a second tick may have reached the other select
        let _ = c().recv_u64(POLL);
    }
    not_done(&done);

    // Receivers parked on a stopped timer get nothing.
    let stopc = chan(0);
    let done = chan(2);
    for _ in 0..2 {
        let (t2, stopc, done) = (tim.clone(), stopc.clone(), done.clone());
        go(move || {
            assert_eq!(sel(&[C::Recv(t2.chan()), C::Recv(&stopc)], FOREVER).unwrap().0, 1, "unexpected data");
            done.send_u64(1, FOREVER).unwrap();
        });
    }
    sleep(sched);
    stopc.close().unwrap();
    wait_done(&done);
    wait_done(&done);

    // Stop and Reset block old values from being received (go.dev/issue/37196).
    reset(&tim, Duration::from_nanos(1));
    sleep(10 * MS);
    assert!(stop(&tim), "Stop of a fired, unreceived timer: pending");
    no_tick(c());
    reset(&tim, HOUR);
    no_tick(c());
    assert!(reset(&tim, Duration::from_nanos(1)), "Reset of a running timer: pending");
    assert_tick(c());
    sleep(10 * MS);
    if is_ticker {
        assert_tick(c());
        sleep(10 * MS);
    } else {
        no_tick(c());
    }
    assert_eq!(reset(&tim, HOUR), is_ticker);
    no_tick(c());
}

/// tick_test.go TestAfterTimes: the value of After(10 ms) read 500 ms later is its due
/// time, not the time it was read.
#[test]
fn after_times() {
    in_goroutine(|| {
        for _ in 0..10 {
            let start = now_ns();
            let t = after(10 * MS);
            sleep(500 * MS);
            if recv(t.chan()) - start < 400_000_000 {
                return;
            }
        }
        panic!("After(10ms) delivered the read time, not the due time");
    });
}

/// tick_test.go TestTickTimes: the same for a ticker's first tick.
#[test]
fn tick_times() {
    in_goroutine(|| {
        for _ in 0..10 {
            let start = now_ns();
            let t = Timer::ticker(10 * MS).unwrap();
            sleep(500 * MS);
            if recv(t.chan()) - start < 400_000_000 {
                return;
            }
        }
        panic!("Tick(10ms) delivered the read time, not the due time");
    });
}
