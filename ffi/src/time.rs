//! Timer and ticker exports (`gr_now`, `gr_after`, `gr_timer_*`, `gr_ticker_*`) over
//! `gr_core::chan::Timer`: Go's `time.After`, `time.Timer` and `time.Ticker` as channels.

use crate::boundary::*;
use crate::chan::{gr_chan, gr_chan_release, new_chan_handle, ChanBox, ChanSlot};
use crate::handle::{impl_handle, Handle};
use crate::status::gr_status::GR_EINVAL;
use gr_core::chan::Timer;
use gr_core::sched::current_gen;
use gr_core::Error;
use std::ffi::c_int;
use std::time::Duration;

/// A one-shot timer (Go's `time.Timer`): its channel (`gr_timer_chan`) delivers one
/// `int64_t`, the due time on the `gr_now()` clock, once the timer fires. Go 1.23's
/// semantics: after `gr_timer_stop` or `gr_timer_reset` returns, no value of the old setting
/// is received; the channel is unbuffered to the user (`gr_chan_len` and `gr_chan_cap` are
/// 0). A timer nobody waits on costs no thread, no CPU and no timer-heap entry.
pub struct gr_timer {
    _private: [u8; 0],
}

/// A ticker (Go's `time.Ticker`): its channel (`gr_ticker_chan`) delivers an `int64_t`
/// (the tick's due time on the `gr_now()` clock) every period. A slow receiver loses ticks:
/// at most one waits in the channel, and missed periods are skipped, never queued.
pub struct gr_ticker {
    _private: [u8; 0],
}

/// What a `gr_timer`/`gr_ticker` handle points to: the handle of its channel (one
/// reference; the channel's slot owns the `Timer`).
pub(crate) struct TimerSlot {
    chan: usize,
}

impl Drop for TimerSlot {
    fn drop(&mut self) {
        // SAFETY: the one reference this slot owns (stopping the timer if it was the last;
        // else the timer is stopped below).
        if let Some(t) = unsafe { timer_of_chan(self.chan) } {
            t.stop();
        }
        // SAFETY: as above: the one reference this slot owns.
        unsafe { gr_chan_release(self.chan as *mut gr_chan) };
    }
}

impl_handle!(gr_timer => TimerSlot);
impl_handle!(gr_ticker => TimerSlot);

/// The timer behind a timer's channel handle, whatever runtime it belongs to (the caller
/// checked the generation of the timer's own handle, or is freeing it).
///
/// # Safety
/// `ch` is a live `gr_chan` handle.
unsafe fn timer_of_chan<'a>(ch: usize) -> Option<&'a Timer> {
    // SAFETY: the caller's contract.
    unsafe { gr_chan::get_any(ch as *const gr_chan) }.ok().and_then(|(s, _)| ChanSlot::timer(s))
}

fn duration_of(ns: i64) -> Duration {
    Duration::from_nanos(ns.max(0) as u64)
}

/// The slot of a timer or ticker of the runtime of generation `gen`; its channel handle is
/// of the same generation.
fn new_timer_slot(t: Timer, gen: u64) -> TimerSlot {
    TimerSlot { chan: new_chan_handle(ChanBox::Timer(t), gen) as usize }
}

/// The timer behind a handle: `Invalid` for NULL or a released one, `State` for one of a
/// runtime no longer live (its alarm was in that runtime's timer heap, freed with it).
///
/// # Safety
/// `h` NULL or a handle of type `H`.
unsafe fn timer_of<'a, H: Handle<Inner = TimerSlot>>(h: *const H) -> Result<&'a Timer, Error> {
    // SAFETY: the caller's contract; the slot's channel handle lives as long as the slot.
    let s = unsafe { H::get(h) }?;
    // SAFETY: `s.chan` is the live handle the slot owns.
    unsafe { timer_of_chan(s.chan) }.ok_or(Error::Invalid)
}

/// The time on the clock of timer values and deadlines: `CLOCK_MONOTONIC` in nanoseconds
/// (the clock of `clock_gettime(CLOCK_MONOTONIC)`, Java's `System.nanoTime()`, Python's
/// `time.monotonic_ns()` on Linux).
#[no_mangle]
pub extern "C" fn gr_now() -> i64 {
    guard_value(0, gr_core::chan::timer::now_ns)
}

/// Go's `time.After(d)`: a channel that delivers one `int64_t` (the due time on the
/// `gr_now()` clock) `ns` nanoseconds from now (`ns <= 0`: at once). Release it with
/// `gr_chan_release`; the last release stops the timer. Receive-only (send and close are
/// `GR_EINVAL`); `gr_select` takes it like any channel.
#[no_mangle]
pub unsafe extern "C" fn gr_after(ns: i64, out: *mut *mut gr_chan) -> c_int {
    guard(|| {
        nonnull(out)?;
        let gen = current_gen()?;
        let t = Timer::after(duration_of(ns))?;
        // SAFETY: `out` is non-NULL, hence writable (gr.h).
        unsafe { out.write(new_chan_handle(ChanBox::Timer(t), gen)) };
        Ok(())
    })
}

/// Go's `time.NewTimer(d)`: a timer that fires once, `ns` nanoseconds from now (`ns <= 0`:
/// at once). Free it with `gr_timer_free`.
#[no_mangle]
pub unsafe extern "C" fn gr_timer_new(ns: i64, out: *mut *mut gr_timer) -> c_int {
    guard(|| {
        nonnull(out)?;
        let gen = current_gen()?;
        let s = new_timer_slot(Timer::after(duration_of(ns))?, gen);
        // SAFETY: `out` is non-NULL, hence writable (gr.h).
        unsafe { out.write(gr_timer::alloc(s, gen)) };
        Ok(())
    })
}

/// The timer's channel (Go's `t.C`): borrowed, valid until `gr_timer_free` (take a
/// reference with `gr_chan_retain` to keep it longer; it then never fires again). Elements
/// are `int64_t`. NULL for a bad handle.
#[no_mangle]
pub unsafe extern "C" fn gr_timer_chan(t: *mut gr_timer) -> *mut gr_chan {
    // SAFETY: `t` is NULL or a gr_timer (gr.h).
    guard_value(std::ptr::null_mut(), || unsafe { gr_timer::get(t) }.map_or(std::ptr::null_mut(), |s| s.chan as *mut gr_chan))
}

/// Go's `t.Stop()`: the timer will not fire, and no value of it is received after this
/// returns (one already fired but not received is discarded). Returns 1 if the call stopped
/// a pending timer (running, or fired with its value not yet received), 0 if it had
/// already been received or stopped, `GR_EINVAL` for a bad handle (`GR_ESTATE` for one of a
/// runtime no longer live). Cheap: O(1) for a timer
/// nobody waits on, O(log n) in the timer heap otherwise.
#[no_mangle]
pub unsafe extern "C" fn gr_timer_stop(t: *mut gr_timer) -> c_int {
    guard_value(GR_EINVAL.code(), || {
        // SAFETY: `t` is NULL or a gr_timer (gr.h).
        match unsafe { timer_of(t) } {
            Ok(t) => t.stop() as c_int,
            Err(e) => code(e),
        }
    })
}

/// Go's `t.Reset(d)`: stops the timer (as `gr_timer_stop`) and sets it to fire `ns`
/// nanoseconds from now (`ns <= 0`: at once). No value of the old setting is received after
/// this returns. Returns 1 if the timer was pending, 0 if not, `GR_EINVAL` for a bad handle
/// (`GR_ESTATE` for one of a runtime no longer live).
#[no_mangle]
pub unsafe extern "C" fn gr_timer_reset(t: *mut gr_timer, ns: i64) -> c_int {
    guard_value(GR_EINVAL.code(), || {
        // SAFETY: `t` is NULL or a gr_timer (gr.h).
        match unsafe { timer_of(t) }.and_then(|t| t.reset(duration_of(ns))) {
            Ok(pending) => pending as c_int,
            Err(e) => code(e),
        }
    })
}

/// Stops the timer and frees it (once; NULL is ignored). Its channel handle is released
/// (a reference taken with `gr_chan_retain` keeps the channel, which then never fires).
#[no_mangle]
pub unsafe extern "C" fn gr_timer_free(t: *mut gr_timer) {
    // SAFETY: `t` is NULL or a gr_timer, and this is its last use (gr.h).
    unsafe { gr_timer::release(t) }
}

/// Go's `time.NewTicker(d)`: a ticker with period `period_ns` (> 0, else `GR_EINVAL`), the
/// first tick one period from now. Free it with `gr_ticker_free`.
#[no_mangle]
pub unsafe extern "C" fn gr_ticker_new(period_ns: i64, out: *mut *mut gr_ticker) -> c_int {
    guard(|| {
        nonnull(out)?;
        if period_ns <= 0 {
            return Err(Error::Invalid);
        }
        let gen = current_gen()?;
        let s = new_timer_slot(Timer::ticker(duration_of(period_ns))?, gen);
        // SAFETY: `out` is non-NULL, hence writable (gr.h).
        unsafe { out.write(gr_ticker::alloc(s, gen)) };
        Ok(())
    })
}

/// The ticker's channel (Go's `t.C`), borrowed as `gr_timer_chan`'s.
#[no_mangle]
pub unsafe extern "C" fn gr_ticker_chan(t: *mut gr_ticker) -> *mut gr_chan {
    // SAFETY: `t` is NULL or a gr_ticker (gr.h).
    guard_value(std::ptr::null_mut(), || unsafe { gr_ticker::get(t) }.map_or(std::ptr::null_mut(), |s| s.chan as *mut gr_chan))
}

/// Go's `t.Reset(d)`: the period becomes `period_ns` (> 0, else `GR_EINVAL`) and the next
/// tick comes one period from now; a tick waiting in the channel is discarded.
#[no_mangle]
pub unsafe extern "C" fn gr_ticker_reset(t: *mut gr_ticker, period_ns: i64) -> c_int {
    guard(|| {
        if period_ns <= 0 {
            return Err(Error::Invalid);
        }
        // SAFETY: `t` is NULL or a gr_ticker (gr.h).
        unsafe { timer_of(t) }?.reset(duration_of(period_ns)).map(|_| ())
    })
}

/// Go's `t.Stop()`: no more ticks; a tick waiting in the channel is discarded. A stopped
/// ticker starts again with `gr_ticker_reset`.
#[no_mangle]
pub unsafe extern "C" fn gr_ticker_stop(t: *mut gr_ticker) -> c_int {
    guard(|| {
        // SAFETY: `t` is NULL or a gr_ticker (gr.h).
        unsafe { timer_of(t) }?.stop();
        Ok(())
    })
}

/// Stops the ticker and frees it (once; NULL is ignored), as `gr_timer_free`.
#[no_mangle]
pub unsafe extern "C" fn gr_ticker_free(t: *mut gr_ticker) {
    // SAFETY: `t` is NULL or a gr_ticker, and this is its last use (gr.h).
    unsafe { gr_ticker::release(t) }
}
