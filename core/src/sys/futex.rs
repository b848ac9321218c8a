//! futex(2): sleep while a 32-bit word holds a value; wake the sleepers on a word.
//!
//! Used by the thread parker (`sched/parker.rs`) and by plain threads waiting on a wait cell
//! (`waiter.rs`). Private futexes: every word lives in this process. Under loom, a stand-in
//! that yields to the model checker (loom has no futex).

use crate::loom::AtomicU32;
use std::time::Duration;

/// Sleeps while `*word == expected`, at most `timeout` (forever if `None`). Returns on a
/// wake, a timeout, a signal or a changed word; callers re-check their condition (spurious
/// returns are allowed).
#[cfg(not(loom))]
pub(crate) fn wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) {
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

/// Wakes one thread sleeping in [`wait`] on `word`.
#[cfg(not(loom))]
pub(crate) fn wake(word: &AtomicU32) {
    // SAFETY: FUTEX_WAKE reads no memory; the address only identifies the wait queue.
    unsafe {
        libc::syscall(libc::SYS_futex, word as *const AtomicU32, libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG, 1);
    }
}

/// Wakes every thread sleeping in [`wait`] on `word`.
#[cfg(not(loom))]
pub(crate) fn wake_all(word: &AtomicU32) {
    // SAFETY: FUTEX_WAKE reads no memory; the address only identifies the wait queue.
    unsafe {
        libc::syscall(libc::SYS_futex, word as *const AtomicU32, libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG, i32::MAX);
    }
}

#[cfg(loom)]
pub(crate) fn wait(word: &AtomicU32, expected: u32, _timeout: Option<Duration>) {
    if word.load(std::sync::atomic::Ordering::SeqCst) == expected {
        loom::thread::yield_now();
    }
}

#[cfg(loom)]
pub(crate) fn wake(_word: &AtomicU32) {}

#[cfg(loom)]
pub(crate) fn wake_all(_word: &AtomicU32) {}
