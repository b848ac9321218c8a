//! An OS-thread parker on a futex word, with a permit (an unpark before park is not lost).
//!
//! State word: `EMPTY` (0) no permit; `NOTIFIED` (1) a permit is waiting; `PARKED` (u32::MAX)
//! the owner sleeps in `futex_wait`. Only the owning thread parks; anyone may unpark.
#![forbid(unsafe_code)]

use crate::loom::AtomicU32;
use crate::sys::futex;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::time::Instant;

const EMPTY: u32 = 0;
const NOTIFIED: u32 = 1;
const PARKED: u32 = u32::MAX;

#[derive(Default)]
pub struct Parker {
    state: AtomicU32,
}

impl Parker {
    pub fn new() -> Self {
        Parker { state: AtomicU32::new(EMPTY) }
    }

    /// Sleeps until unparked (or until `deadline`). May return spuriously; callers re-check.
    pub fn park(&self, deadline: Option<Instant>) {
        // NOTIFIED -> EMPTY consumes the permit; EMPTY -> PARKED announces the sleep.
        if self.state.fetch_sub(1, Acquire) == NOTIFIED {
            return;
        }
        loop {
            let timeout = match deadline {
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(t) if !t.is_zero() => Some(t),
                    _ => break,
                },
                None => None,
            };
            futex::wait(&self.state, PARKED, timeout);
            if self.state.compare_exchange(NOTIFIED, EMPTY, Acquire, Acquire).is_ok() {
                return;
            }
        }
        // Timed out: withdraw the announcement. An unpark racing the timeout is consumed
        // with it, which is harmless: callers re-check their condition after every park.
        self.state.swap(EMPTY, Acquire);
    }

    pub fn unpark(&self) {
        if self.state.swap(NOTIFIED, Release) == PARKED {
            futex::wake(&self.state);
        }
    }
}
