//! Why a goroutine or thread waits: one word per wait, set in one place (`waiter::prepare`,
//! whose argument every blocking primitive passes), read by dumps, stats and the deadlock
//! report. A new primitive adds a kind below and passes it to `prepare`: one line.
//!
//! The word is `kind << 56 | payload`. The payload is the waited-on object's address
//! (stable while the wait lasts, so it identifies the object across the lines of one
//! dump), or a value. A dump dereferences a payload address only for a goroutine it holds
//! parked (`sched/state.rs`, `HELD`), whose wait, and so whose object, cannot end
//! meanwhile; a thread's payload is only ever printed, never dereferenced.
//!
//! | code | name (as dumps print it) | payload | added by |
//! |---|---|---|---|
//! | 0 | (none) | - | |
//! | 1 | `chan receive` | the channel | |
//! | 2 | `chan send` | the channel | |
//! | 3 | `select` | the case array on the selecting frame, its length (at most 255) in bits 48-55 | |
//! | 4 | `select (no cases)` | - | |
//! | 5 | `sleep` | - (the deadline is the timer's) | |
//! | 6 | `mutex lock` | the mutex | |
//! | 7 | `WaitGroup wait` | the WaitGroup | |
//! | 8 | `join` (`gr_wait`) | the joined goroutine's id | |
//! | 9 | `fd wait` | `fd << 8 \| events` | netpoller (issue 12) |
//! | 10 | `rwmutex rlock` | the RWMutex | toolbox (issue 15) |
//! | 11 | `rwmutex lock` | the RWMutex | toolbox |
//! | 12 | `cond wait` | the Cond | toolbox |
//! | 13 | `semaphore acquire` | the semaphore | toolbox |
//! | 14 | `once` (another caller runs it) | the Once | toolbox |
//! | 15 | reserved | | |
//!
//! (A task group's wait is a `WaitGroup wait` on the group, its wait for a free slot a
//! `semaphore acquire`; a wait for a context is a `chan receive` on its done channel.)
//!
//! The coarse clock ([`clock_ms`]) stamps each wait at `prepare` for "how long": the monitor
//! refreshes it every ~2 ms while any processor runs, and a processor leaving a fully idle
//! runtime refreshes it before anything runs (`Timers::wake_monitor`), so it is never more
//! than ~2 ms behind when a goroutine parks. Reading the system clock at every park instead
//! would cost ~25 ns per channel hand-off.
#![forbid(unsafe_code)]

use std::sync::atomic::Ordering::Relaxed;
use std::sync::OnceLock;
use std::time::Instant;

/// The kinds, as in the module table.
pub mod kind {
    pub const NONE: u8 = 0;
    pub const CHAN_RECV: u8 = 1;
    pub const CHAN_SEND: u8 = 2;
    pub const SELECT: u8 = 3;
    pub const SELECT_EMPTY: u8 = 4;
    pub const SLEEP: u8 = 5;
    pub const MUTEX: u8 = 6;
    pub const WAITGROUP: u8 = 7;
    pub const JOIN: u8 = 8;
    pub const FD: u8 = 9;
    pub const RWMUTEX_READ: u8 = 10;
    pub const RWMUTEX_WRITE: u8 = 11;
    pub const COND: u8 = 12;
    pub const SEMAPHORE: u8 = 13;
    pub const ONCE: u8 = 14;
    /// One past the highest code in use (stats arrays are sized by `MAX`).
    pub const COUNT: u8 = 15;
    /// Room for the codes `gr_stats` reports (`gr_stats.waiting`).
    pub const MAX: usize = 16;
}

/// The dump name of a kind.
pub fn name(k: u8) -> &'static str {
    match k {
        kind::CHAN_RECV => "chan receive",
        kind::CHAN_SEND => "chan send",
        kind::SELECT => "select",
        kind::SELECT_EMPTY => "select (no cases)",
        kind::SLEEP => "sleep",
        kind::MUTEX => "mutex lock",
        kind::WAITGROUP => "WaitGroup wait",
        kind::JOIN => "join",
        kind::FD => "fd wait",
        kind::RWMUTEX_READ => "rwmutex rlock",
        kind::RWMUTEX_WRITE => "rwmutex lock",
        kind::COND => "cond wait",
        kind::SEMAPHORE => "semaphore acquire",
        kind::ONCE => "once",
        _ => "wait",
    }
}

const PAYLOAD: u64 = (1 << 56) - 1;

/// One wait's reason (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitReason(pub u64);

impl WaitReason {
    pub const NONE: WaitReason = WaitReason(0);

    #[inline]
    pub const fn new(k: u8, payload: u64) -> WaitReason {
        WaitReason((k as u64) << 56 | (payload & PAYLOAD))
    }

    /// A wait on the object at `obj`.
    #[inline]
    pub fn on<T>(k: u8, obj: &T) -> WaitReason {
        WaitReason::new(k, obj as *const T as usize as u64)
    }

    #[inline]
    pub fn kind(self) -> u8 {
        (self.0 >> 56) as u8
    }

    #[inline]
    pub fn payload(self) -> u64 {
        self.0 & PAYLOAD
    }

    /// A select over `n` cases at `cases` (an address on the selecting frame).
    #[inline]
    pub fn select(cases: usize, n: usize) -> WaitReason {
        WaitReason::new(kind::SELECT, (n.min(255) as u64) << 48 | (cases as u64 & ((1 << 48) - 1)))
    }

    /// A select's case array and its length (capped at 255).
    pub fn select_cases(self) -> (usize, usize) {
        let p = self.payload();
        ((p & ((1 << 48) - 1)) as usize, (p >> 48) as usize)
    }
}

use crate::dump::debugger::GR_CLOCK_MS as CLOCK_MS;
static EPOCH: OnceLock<Instant> = OnceLock::new();

/// Milliseconds since the first runtime start, as last refreshed ([`refresh_clock`]).
#[inline]
pub fn clock_ms() -> u64 {
    CLOCK_MS.load(Relaxed)
}

/// The same clock read now (dumps, thread waits: not on a hot path).
pub fn now_ms() -> u64 {
    EPOCH.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// Refreshes the coarse clock (the monitor's loop; a processor leaving an idle runtime).
pub fn refresh_clock() {
    CLOCK_MS.store(now_ms(), Relaxed);
}

/// An `Instant` on that clock.
pub fn ms_of(t: Instant) -> u64 {
    let e = *EPOCH.get_or_init(Instant::now);
    t.checked_duration_since(e).map_or(0, |d| d.as_millis() as u64)
}
