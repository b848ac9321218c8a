//! Timer and ticker channels: Go's `time.NewTimer`, `time.After` and `time.Ticker`, with Go
//! 1.23's synchronous semantics.
//!
//! A timer channel is a receive-only channel of 8-byte values: each value is the due time
//! (the `CLOCK_MONOTONIC` nanosecond at which the timer was set to fire, as Go sends the
//! scheduled time, not the moment the value was noticed). Its state lives under the
//! channel's own lock ([`State`] in `Inner::timer`), so every rule below is one critical
//! section.
//!
//! # Lazy arming (why a timer nobody waits for costs nothing)
//! As in Go 1.23 (`runtime/time.go`, `blockTimerChan`), a timer is put in the timer heap
//! only while a receiver is parked on its channel. Otherwise it is plain data: a receive
//! (or a select's poll) that finds the channel empty checks the clock and, if the due time
//! has passed, takes the value at once (`timer_recv`). So `select` against a fresh
//! `after(1 h)` never touches the heap, and 100,000 pending timers cost no heap entry, no
//! thread and no CPU; 100,000 goroutines parked on timers cost one heap entry each.
//! - a receiver parks (`timer_block`, called with the sudog queued): arm the alarm if the
//!   timer runs and is not armed. Invariant: while a receiver is parked and the timer runs,
//!   its alarm is armed; so a receive that takes a due value lazily, disarming the alarm,
//!   re-arms it for the next tick if receivers are still parked (as `ring` does).
//! - the alarm rings (`ring`): if its tag is still the armed one, deliver the value to the
//!   parked receiver (or the one-value mailbox `State::pending`), then a one-shot timer stops; a ticker moves to
//!   its next tick after now (missed ticks are skipped) and re-arms only if receivers are
//!   still parked. A ticker whose buffered tick was not received drops the new one (Go's
//!   "drops ticks to make up for slow receivers"): at most one tick is ever queued.
//!
//! # Stop and reset (Go 1.23: no stale value after they return)
//! Both run under the channel lock: they clear the due time, disarm (O(log n) in the heap;
//! an alarm already taken out to ring finds its tag unarmed and does nothing), and empty the
//! mailbox. So no receive that starts after they return can see a value of the old setting.
//! They return whether the timer was *pending*: running and not yet received (due or not),
//! or fired with its value still unreceived in the mailbox. That is Go's guarantee: "if the
//! program has not received from t.C already and the timer is running, Stop is guaranteed to
//! return true".
//!
//! A timer channel is unbuffered: `len` and `cap` are 0, as in Go 1.23; a fired value waits
//! in the timer's one-value mailbox (the channel's ring, which costs an allocation, is not
//! used). Sending on it or closing it is `Invalid` (Go's `<-chan Time`).
//!
//! Lock order: the channel lock (rank 30), then the timer heap's (70) to arm or disarm.

use super::{Chan, Inner, Ready};
use crate::error::{Error, Result};
use crate::loom::lock;
use crate::timer::{Alarm, NOT_HEAPED};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// Bytes of one timer value (an `int64_t` of `CLOCK_MONOTONIC` nanoseconds).
pub const TIMER_ELEM: usize = 8;

/// A timer's state, under its channel's lock.
pub(crate) struct State {
    /// A fired value nobody has received yet (the synchronous channel's one-value mailbox:
    /// the channel itself is unbuffered, so the value never sits where `len` would see it).
    pending: Option<i64>,
    /// The next due time; `None` while stopped (or fired, for a one-shot timer).
    when: Option<Instant>,
    /// The period of a ticker.
    period: Option<Duration>,
    /// In the timer heap with `tag` (a ring with another tag is stale).
    armed: bool,
    tag: u64,
}

impl State {
    /// Moves past a due time reached at `now`: a one-shot timer stops, a ticker goes to its
    /// first tick after `now`.
    fn advance(&mut self, now: Instant) {
        let (Some(when), Some(p)) = (self.when, self.period) else {
            self.when = None;
            return;
        };
        let late = now.saturating_duration_since(when).as_nanos();
        let p_ns = p.as_nanos().max(1);
        let steps = (late / p_ns + 1).min(u32::MAX as u128) as u32;
        self.when = when.checked_add(p.saturating_mul(steps)).or(Some(now + p));
    }
}

/// What the channel of a timer holds besides its state: a way back to its `Arc` (to arm
/// itself) and its heap slot.
pub(crate) struct Link {
    me: Weak<Chan>,
    slot: AtomicUsize,
}

/// A timer or ticker and its channel; stopping it on drop (the C API's `gr_timer_free`, the
/// last release of a `gr_after` channel) frees its heap entry at once.
pub struct Timer {
    chan: Arc<Chan>,
}

impl Timer {
    /// A one-shot timer due `d` from now (`d` zero: due at once).
    pub fn after(d: Duration) -> Result<Timer> {
        Timer::make(d, None)
    }

    /// A ticker: a tick every `period` (not zero), the first one `period` from now.
    pub fn ticker(period: Duration) -> Result<Timer> {
        if period.is_zero() {
            return Err(Error::Invalid);
        }
        Timer::make(period, Some(period))
    }

    fn make(first: Duration, period: Option<Duration>) -> Result<Timer> {
        // The runtime (its timer heap) must exist before a receiver arms the timer under the
        // channel lock: start it here, not there. (Loom models have a heap of their own.)
        #[cfg(not(loom))]
        crate::sched::live()?;
        let when = Instant::now().checked_add(first).ok_or(Error::Invalid)?;
        let state = Box::new(State { pending: None, when: Some(when), period, armed: false, tag: 0 });
        let chan = Arc::new_cyclic(|me| {
            // Unbuffered: no ring to allocate; a fired value waits in `State::pending`.
            let mut c = Chan::new(TIMER_ELEM, 0).expect("an unbuffered channel allocates nothing");
            c.recv_only = true;
            c.timer = Some(Link { me: me.clone(), slot: AtomicUsize::new(NOT_HEAPED) });
            // Not shared yet: set it without the lock (two locked instructions fewer).
            c.inner.get_mut().timer = Some(state);
            c
        });
        Ok(Timer { chan })
    }

    /// The timer's channel: receive from it, or use it in `select`.
    pub fn chan(&self) -> &Chan {
        &self.chan
    }

    /// Is this a ticker?
    pub fn is_ticker(&self) -> bool {
        lock(&self.chan.inner).timer.as_ref().is_some_and(|t| t.period.is_some())
    }

    /// Stops the timer (module docs): `true` if it was pending (its value not received).
    pub fn stop(&self) -> bool {
        let mut g = lock(&self.chan.inner);
        self.chan.timer_stop(&mut g)
    }

    /// Stops, then sets the timer due `d` from now (a ticker: period `d`, not zero, the next
    /// tick `d` from now). Returns whether it was pending, as [`Timer::stop`].
    pub fn reset(&self, d: Duration) -> Result<bool> {
        let when = Instant::now().checked_add(d).ok_or(Error::Invalid)?;
        let mut g = lock(&self.chan.inner);
        let ticker = g.timer.as_ref().is_some_and(|t| t.period.is_some());
        if ticker && d.is_zero() {
            return Err(Error::Invalid);
        }
        let pending = self.chan.timer_stop(&mut g);
        let t = g.timer.as_deref_mut().expect("a timer channel");
        t.when = Some(when);
        if ticker {
            t.period = Some(d);
        }
        self.chan.timer_block(&mut g);
        Ok(pending)
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Chan {
    fn link(&self) -> &Link {
        self.timer.as_ref().expect("a timer channel")
    }

    /// Stop under the lock: clear the due time, disarm, empty the buffer; was it pending?
    fn timer_stop(&self, g: &mut Inner) -> bool {
        let t = g.timer.as_deref_mut().expect("a timer channel");
        let pending = t.when.take().is_some() | t.pending.take().is_some();
        if std::mem::take(&mut t.armed) {
            crate::sched::with_alarm_timers(|h| h.disarm(self));
        }
        pending
    }

    /// A receive found the channel empty: if the timer is due, take its value now (lazy
    /// firing). `None` if it is not due (or this is not a timer channel).
    ///
    /// # Safety
    /// `dst` NULL or writable for 8 bytes.
    #[inline(never)]
    pub(super) unsafe fn timer_recv(&self, g: &mut Inner, dst: *mut u8) -> Option<Ready> {
        let t = g.timer.as_deref_mut()?;
        let v = match t.pending.take() {
            Some(v) => v,
            None => {
                let when = t.when?;
                let now = Instant::now();
                if when > now {
                    return None;
                }
                t.advance(now);
                if std::mem::take(&mut t.armed) {
                    // Its ring is due too: take it out rather than let it deliver a second value.
                    crate::sched::with_alarm_timers(|h| h.disarm(self));
                }
                crate::sys::clock::instant_to_ns(when)
            }
        };
        // Receivers still parked wait for the next tick of a ticker: the alarm this receive
        // took out (or the one `ring` would have re-armed) must be in the heap for them
        // (`timer_block` does nothing for a stopped or one-shot timer, or one armed already).
        // Without this, a receive that took a due tick lazily while others were parked left
        // them waiting with no alarm (tests/timers.rs `ticker_mixed_readers`, 3 deadlocks in
        // 160 runs under load).
        if !g.recvq.is_empty() {
            self.timer_block(g);
        }
        let v = v.to_ne_bytes();
        if !dst.is_null() {
            // SAFETY: the caller's contract: `dst` is writable for the 8-byte element.
            unsafe { super::ring::copy_elem(v.as_ptr(), dst, TIMER_ELEM) };
        }
        Some(Ready::Ok)
    }

    /// A receiver was queued on this channel: make sure the timer is in the heap.
    pub(super) fn timer_block(&self, g: &mut Inner) {
        let Some(t) = g.timer.as_deref_mut() else { return };
        let Some(when) = t.when else { return };
        if t.armed {
            return;
        }
        let Some(me) = self.link().me.upgrade() else { return };
        t.armed = true;
        t.tag = t.tag.wrapping_add(1);
        crate::sched::with_alarm_timers(|h| h.arm(when, me, t.tag));
    }
}

impl Alarm for Chan {
    fn heap_slot(&self) -> &AtomicUsize {
        &self.link().slot
    }

    fn ring(self: Arc<Self>, tag: u64, _at: Instant) {
        let mut g = lock(&self.inner);
        let when = {
            let Some(t) = g.timer.as_deref_mut() else { return };
            if !t.armed || t.tag != tag {
                return; // stopped, reset or taken by a receive since it was armed
            }
            t.armed = false;
            let Some(when) = t.when else { return };
            t.advance(Instant::now());
            when
        };
        let v = crate::sys::clock::instant_to_ns(when);
        // To the first parked receiver, else into the one-value mailbox; a full mailbox (a
        // ticker's unreceived tick) drops this one.
        // SAFETY: the bytes of `v` are the 8 readable bytes of one element.
        if unsafe { self.try_send(&mut g, v.to_ne_bytes().as_ptr()) }.is_none() {
            let t = g.timer.as_deref_mut().expect("a timer channel");
            if t.pending.is_none() {
                t.pending = Some(v);
            }
        }
        if !g.recvq.is_empty() {
            self.timer_block(&mut g); // a ticker with receivers still parked
        }
    }
}

/// `CLOCK_MONOTONIC` nanoseconds now: the clock of timer values and deadlines.
pub fn now_ns() -> i64 {
    crate::sys::clock::monotonic_ns()
}

/// The `Instant` of a `CLOCK_MONOTONIC` nanosecond value (`None` past `Instant`'s range).
pub fn instant_of_ns(ns: i64) -> Option<Instant> {
    crate::sys::clock::ns_to_instant(ns)
}

/// `CLOCK_MONOTONIC` nanoseconds of an `Instant`.
pub fn ns_of_instant(at: Instant) -> i64 {
    crate::sys::clock::instant_to_ns(at)
}
