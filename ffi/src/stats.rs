//! The runtime's counters (`gr_stats_get`), over `gr_core::sched::stats`. (Apart from
//! `runtime.rs` only so that the header keeps its order: see `lib.rs`.)

use crate::boundary::*;
use gr_core::{sched, Error};
use std::ffi::c_int;

/// Runtime counters, filled by `gr_stats_get`.
#[repr(C)]
pub struct gr_stats {
    /// `sizeof(gr_stats)`, set by the caller.
    pub size: u32,
    /// Processors.
    pub workers: u32,
    /// Live goroutines: runnable, running or parked.
    pub goroutines: u64,
    /// OS threads the runtime owns now (workers, spare threads and the monitor).
    pub threads: u64,
    /// Goroutines spawned since start.
    pub spawned_total: u64,
    /// Successful steals between processors since start.
    pub steals_total: u64,
}

/// Fills `out` (whose `size` the caller set) with the runtime's counters.
#[no_mangle]
pub unsafe extern "C" fn gr_stats_get(out: *mut gr_stats) -> c_int {
    guard(|| {
        // SAFETY: `out` is NULL or a writable gr_stats whose `size` the caller set (gr.h).
        let o = unsafe { out.as_mut() }.ok_or(Error::Invalid)?;
        if (o.size as usize) < std::mem::size_of::<gr_stats>() || o.size as usize > 4096 {
            return Err(Error::Invalid);
        }
        let s = sched::stats()?;
        o.workers = s.workers;
        o.goroutines = s.goroutines;
        o.threads = s.threads;
        o.spawned_total = s.spawned_total;
        o.steals_total = s.steals_total;
        Ok(())
    })
}
