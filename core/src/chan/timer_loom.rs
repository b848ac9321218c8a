//! Loom models of timer arming (`timer.rs`, run by `make test-loom`): a receiver parked on a
//! timer channel arms its alarm in the timer heap; the monitor takes the alarm out of the
//! heap, then rings it under the channel lock; stop and reset race both. The heap is the
//! model's own (`sched::with_alarm_timers` under loom) and the "monitor" is a model thread
//! calling `fire_due` once, with a time past every due time, so the ring may fall anywhere.
//! The receiver waits with a deadline that may expire at any point (`wait.rs`'s model).
//!
//! Go 1.23's rules checked: a value is received iff stop (or reset) reported the timer not
//! pending, none of the old setting after reset, nothing left in the heap once stopped, and
//! nothing left to receive.

use super::timer::{now_ns, Timer};
use crate::error::Error;
use crate::loom::Arc;
use crate::timer::Timers;
use crate::waiter::Deadline;
use std::time::{Duration, Instant};

const HOUR: Duration = Duration::from_secs(3600);

fn heap() -> &'static Timers {
    crate::sched::model_timers()
}

/// The monitor's turn: ring everything due within three hours (every setting below).
fn monitor() {
    heap().fire_due(Instant::now() + 3 * HOUR);
}

fn builder() -> loom::model::Builder {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(2);
    b
}

/// A ring racing a parked receiver's timeout and a stop: the value reaches the receiver, or
/// stop finds it pending (running or in the mailbox) and discards it; never both, never
/// neither; a ring that lost to stop does nothing.
#[test]
fn loom_timer_ring_races_stop() {
    builder().check(|| {
        let t = Arc::new(Timer::after(HOUR).unwrap());
        let t2 = t.clone();
        let r = loom::thread::spawn(move || t2.chan().recv_u64(Deadline::At(Instant::now())));
        let m = loom::thread::spawn(monitor);
        let pending = t.stop();
        let got = r.join().unwrap();
        m.join().unwrap();
        match got {
            Ok(_) => assert!(!pending, "the value was received, yet stop reported it pending"),
            Err(e) => {
                assert_eq!(e, Error::TimedOut);
                assert!(pending, "nothing received, yet stop reported the timer not pending");
            }
        }
        assert_eq!(t.chan().recv_u64(Deadline::Poll), Err(Error::Again));
        assert_eq!(heap().len(), 0, "a stopped timer left its alarm in the heap");
    });
}

/// Reset (to a later due time) racing the ring of the old arming and a parked receiver:
/// the old value is received only if reset reported the timer not pending; a receiver that
/// parks after the reset arms the new setting and may get its value; no stale value after.
#[test]
fn loom_timer_reset_races_ring() {
    builder().check(|| {
        let base = now_ns();
        let t = Arc::new(Timer::after(HOUR).unwrap());
        let t2 = t.clone();
        let r = loom::thread::spawn(move || t2.chan().recv_u64(Deadline::At(Instant::now())));
        let m = loom::thread::spawn(monitor);
        let pending = t.reset(2 * HOUR).unwrap();
        let got = r.join().unwrap();
        m.join().unwrap();
        let split = (base + (3 * HOUR / 2).as_nanos() as i64) as u64;
        match got {
            Ok(v) if v < split => assert!(!pending, "the old value was received, yet reset reported it pending"),
            Ok(_) => assert!(pending, "the new setting fired, so the old one was pending at the reset"),
            Err(e) => {
                assert_eq!(e, Error::TimedOut);
                assert!(pending, "nothing received, yet reset reported the old setting not pending");
            }
        }
        // Whatever is left is of the new setting: a poll finds no old value.
        if let Ok(v) = t.chan().recv_u64(Deadline::Poll) {
            assert!(v >= split, "a value of the old setting after reset");
        }
        t.stop();
        assert_eq!(t.chan().recv_u64(Deadline::Poll), Err(Error::Again));
        assert_eq!(heap().len(), 0, "a stopped timer left its alarm in the heap");
    });
}

/// Two receivers on a ticker, one ring: one of them gets the tick; if the other is still
/// parked the ring re-arms the ticker (its next tick after the ring), and stop takes that
/// alarm out again. At most one tick is delivered per ring.
#[test]
fn loom_ticker_ring_rearms_for_parked_receivers() {
    builder().check(|| {
        let t = Arc::new(Timer::ticker(HOUR).unwrap());
        let (t1, t2) = (t.clone(), t.clone());
        let r1 = loom::thread::spawn(move || t1.chan().recv_u64(Deadline::At(Instant::now())));
        let r2 = loom::thread::spawn(move || t2.chan().recv_u64(Deadline::At(Instant::now())));
        monitor();
        let (g1, g2) = (r1.join().unwrap(), r2.join().unwrap());
        let leftover = t.chan().recv_u64(Deadline::Poll).is_ok();
        let ticks = g1.is_ok() as u32 + g2.is_ok() as u32 + leftover as u32;
        assert!(ticks <= 1, "one ring delivered {ticks} ticks");
        t.stop();
        assert_eq!(heap().len(), 0, "a stopped ticker left its alarm in the heap");
    });
}
