//! An OS-thread parker on a futex word, with a permit (an unpark before park is not lost).
//!
//! State word: `EMPTY` (0) no permit; `NOTIFIED` (1) a permit is waiting; `PARKED` (u32::MAX)
//! the owner sleeps in `futex_wait`. Only the owning thread parks; anyone may unpark.

use crate::loom::AtomicU32;
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
            futex_wait(&self.state, PARKED, timeout);
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
            futex_wake(&self.state);
        }
    }
}

/// Sleeps while `*word == expected`, at most `timeout`. Spurious returns are allowed.
#[cfg(not(loom))]
pub fn futex_wait(word: &AtomicU32, expected: u32, timeout: Option<std::time::Duration>) {
    let ts = timeout.map(|t| libc::timespec {
        tv_sec: t.as_secs().min(i64::MAX as u64) as libc::time_t,
        tv_nsec: t.subsec_nanos() as libc::c_long,
    });
    let tsp = ts.as_ref().map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `word` is a live, aligned 32-bit atomic for the duration of the call; FUTEX_WAIT
    // only reads it and sleeps; `tsp` is NULL or points to a timespec on our stack.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word as *const AtomicU32,
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            tsp,
        );
    }
}

/// Wakes one thread sleeping in `futex_wait` on `word`.
#[cfg(not(loom))]
pub fn futex_wake(word: &AtomicU32) {
    // SAFETY: FUTEX_WAKE reads no memory; the address only identifies the wait queue.
    unsafe {
        libc::syscall(libc::SYS_futex, word as *const AtomicU32, libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG, 1);
    }
}

#[cfg(loom)]
pub fn futex_wait(word: &AtomicU32, expected: u32, _timeout: Option<std::time::Duration>) {
    if word.load(std::sync::atomic::Ordering::SeqCst) == expected {
        loom::thread::yield_now();
    }
}
#[cfg(loom)]
pub fn futex_wake(_word: &AtomicU32) {}
