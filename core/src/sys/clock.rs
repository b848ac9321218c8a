//! The clock the ABI speaks: `CLOCK_MONOTONIC` in nanoseconds (the clock Rust's `Instant`,
//! Java's `System.nanoTime` and Python's `time.monotonic_ns` read on Linux), and the
//! conversions between it and `Instant`.

use std::time::{Duration, Instant};

/// `CLOCK_MONOTONIC` now, in nanoseconds.
pub(crate) fn monotonic_ns() -> i64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a writable timespec on our stack; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec.saturating_mul(1_000_000_000).saturating_add(ts.tv_nsec) // (i64 on the 64-bit Linux targets gr builds for)
}

/// One `Instant` and its `CLOCK_MONOTONIC` nanoseconds, read back to back once: both are the
/// same clock on Linux, so every conversion goes through this one offset (exact to within
/// the two reads, and the same for every call: converting one `Instant` twice gives one
/// value).
fn base() -> (Instant, i64) {
    static BASE: std::sync::OnceLock<(Instant, i64)> = std::sync::OnceLock::new();
    *BASE.get_or_init(|| (Instant::now(), monotonic_ns()))
}

/// `at` on the `CLOCK_MONOTONIC` nanosecond scale.
pub(crate) fn instant_to_ns(at: Instant) -> i64 {
    let (b, b_ns) = base();
    match at.checked_duration_since(b) {
        Some(d) => b_ns.saturating_add(d.as_nanos().min(i64::MAX as u128) as i64),
        None => b_ns.saturating_sub(b.duration_since(at).as_nanos().min(i64::MAX as u128) as i64),
    }
}

/// The `Instant` of a `CLOCK_MONOTONIC` nanosecond value; `None` beyond `Instant`'s range.
pub(crate) fn ns_to_instant(ns: i64) -> Option<Instant> {
    let (b, b_ns) = base();
    if ns >= b_ns {
        b.checked_add(Duration::from_nanos((ns - b_ns) as u64))
    } else {
        Some(b.checked_sub(Duration::from_nanos(b_ns.saturating_sub(ns) as u64)).unwrap_or(b))
    }
}
