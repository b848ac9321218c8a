//! The clock the ABI speaks: `CLOCK_MONOTONIC` in nanoseconds (the clock Rust's `Instant`,
//! Java's `System.nanoTime` and Python's `time.monotonic_ns` read on Linux), and the
//! conversions between it and `Instant`.

use std::time::{Duration, Instant};

/// `CLOCK_MONOTONIC` now, in nanoseconds.
pub(crate) fn monotonic_ns() -> i64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a writable timespec on our stack; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as i64).saturating_mul(1_000_000_000).saturating_add(ts.tv_nsec as i64)
}

/// `at` on the `CLOCK_MONOTONIC` nanosecond scale (both clocks are the same on Linux; the
/// offset is measured now, so it is exact to within the two reads).
pub(crate) fn instant_to_ns(at: Instant) -> i64 {
    let (now, ns) = (Instant::now(), monotonic_ns());
    match at.checked_duration_since(now) {
        Some(d) => ns.saturating_add(d.as_nanos().min(i64::MAX as u128) as i64),
        None => ns.saturating_sub(now.duration_since(at).as_nanos().min(i64::MAX as u128) as i64),
    }
}

/// The `Instant` of a `CLOCK_MONOTONIC` nanosecond value; `None` beyond `Instant`'s range.
pub(crate) fn ns_to_instant(ns: i64) -> Option<Instant> {
    let (now, now_ns) = (Instant::now(), monotonic_ns());
    if ns >= now_ns {
        now.checked_add(Duration::from_nanos((ns - now_ns) as u64))
    } else {
        Some(now.checked_sub(Duration::from_nanos(now_ns.saturating_sub(ns) as u64)).unwrap_or(now))
    }
}
