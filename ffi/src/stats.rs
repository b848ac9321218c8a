//! The runtime's counters (`gr_stats_get`), over `gr_core::sched::stats`, and the counts by
//! state, wait reason, queue and thread role over `gr_core::dump`. (Apart from `runtime.rs`
//! only so that the header keeps its order: see `lib.rs`.)

use crate::boundary::*;
use gr_core::{sched, Error};
use std::ffi::c_int;

/// Entries of `gr_stats.waiting`: one per wait reason code (`GR_WAIT_*`).
pub const GR_WAIT_REASONS: usize = 16;

/// `gr_stats.waiting` index: receiving from a channel.
pub const GR_WAIT_CHAN_RECV: u32 = 1;
/// Sending on a channel.
pub const GR_WAIT_CHAN_SEND: u32 = 2;
/// In `gr_select`.
pub const GR_WAIT_SELECT: u32 = 3;
/// In `gr_select` with no channel (waits for its timeout or cancel token only).
pub const GR_WAIT_SELECT_EMPTY: u32 = 4;
/// In `gr_sleep`.
pub const GR_WAIT_SLEEP: u32 = 5;
/// In `gr_mutex_lock`.
pub const GR_WAIT_MUTEX: u32 = 6;
/// In `gr_wg_wait`.
pub const GR_WAIT_WAITGROUP: u32 = 7;
/// In `gr_wait` (joining a goroutine).
pub const GR_WAIT_JOIN: u32 = 8;
/// Waiting for a file descriptor (the netpoller).
pub const GR_WAIT_FD: u32 = 9;
/// In `gr_rwmutex_rlock`.
pub const GR_WAIT_RWMUTEX_READ: u32 = 10;
/// In `gr_rwmutex_lock`.
pub const GR_WAIT_RWMUTEX_WRITE: u32 = 11;
/// In `gr_cond_wait`.
pub const GR_WAIT_COND: u32 = 12;
/// In `gr_sem_acquire` (also a task group's wait for a free slot).
pub const GR_WAIT_SEMAPHORE: u32 = 13;
/// In `gr_once_do`, while another caller runs the function.
pub const GR_WAIT_ONCE: u32 = 14;

/// Runtime counters, filled by `gr_stats_get`. Fields are appended over time: a caller sets
/// `size` to the `sizeof` it was compiled with and gets the fields that fit (at least the
/// first six, 40 bytes). The fields after `steals_total` scan every goroutine: O(live
/// goroutines), about 1 ms per 100,000.
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
    /// Processors the monitor took from threads stuck in foreign code, since start.
    pub retakes_total: u64,
    /// Goroutines running on a worker now.
    pub running: u64,
    /// Goroutines queued to run.
    pub runnable: u64,
    /// Goroutines parked in a wait (other than `gr_sleep`), or thread-bound ones whose
    /// thread waits in gr.
    pub parked: u64,
    /// Goroutines in `gr_sleep`.
    pub sleeping: u64,
    /// Goroutines in foreign code outside the scheduler (`gr_blocking_begin`, or a call the
    /// monitor took the processor from).
    pub blocking: u64,
    /// Parked goroutines by wait reason, indexed by `GR_WAIT_*`.
    pub waiting: [u64; GR_WAIT_REASONS],
    /// Goroutines in the global run queue.
    pub runq_global: u64,
    /// Goroutines in the processors' queues (local, runnext and affine), all processors.
    pub runq_local: u64,
    /// Pinned goroutines queued for their thread.
    pub runq_pinned: u64,
    /// Timed waits armed (sleeps and timeouts still open).
    pub timers: u64,
    /// Worker threads holding a processor.
    pub threads_running: u64,
    /// Worker threads asleep in the idle list.
    pub threads_idle: u64,
    /// Worker threads in foreign code without a processor (blocking calls).
    pub threads_blocking: u64,
    /// Plain threads known to gr (they spawned, created objects or waited), and of those,
    /// the ones asleep in a gr wait now.
    pub plain_threads: u64,
    pub plain_waiting: u64,
}

/// The first version of the struct (up to `steals_total`), the smallest size accepted.
const MIN_SIZE: usize = 40;

/// Fills `out` (whose `size` the caller set) with the running runtime's counters: the fields
/// that fit in `size` bytes (at least 40, the first version's). `GR_EINVAL` for NULL or a
/// smaller size; `GR_ESTATE` when no runtime runs: reading the counters never starts one.
#[no_mangle]
pub unsafe extern "C" fn gr_stats_get(out: *mut gr_stats) -> c_int {
    guard(move || {
        // SAFETY: `out` is NULL or a writable struct of at least `out->size` bytes whose
        // `size` the caller set (gr.h); we read `size` first.
        let size = unsafe { out.as_ref() }.ok_or(Error::Invalid)?.size as usize;
        if !(MIN_SIZE..=4096).contains(&size) {
            return Err(Error::Invalid);
        }
        let s = sched::stats()?;
        // SAFETY: a gr_stats is plain old data: all zeros is a valid value.
        let mut full: gr_stats = unsafe { std::mem::zeroed() };
        full.size = size as u32;
        full.workers = s.workers;
        full.goroutines = s.goroutines;
        full.threads = s.threads;
        full.spawned_total = s.spawned_total;
        full.steals_total = s.steals_total;
        if size > MIN_SIZE {
            fill_details(&mut full, s.retakes_total);
        }
        let n = size.min(std::mem::size_of::<gr_stats>());
        // SAFETY: `out` is writable for `size` bytes (the caller's contract) and we copy at
        // most that many from our own struct.
        unsafe { std::ptr::copy_nonoverlapping(&full as *const gr_stats as *const u8, out as *mut u8, n) };
        Ok(())
    })
}

fn fill_details(o: &mut gr_stats, retakes: u64) {
    o.retakes_total = retakes;
    let c = gr_core::dump::counts();
    o.running = c.running;
    o.runnable = c.runnable;
    o.parked = c.parked;
    o.sleeping = c.sleeping;
    o.blocking = c.blocking;
    o.waiting = c.waiting;
    let d = gr_core::dump::details();
    o.runq_global = d.runq_global;
    o.runq_local = d.runq_local;
    o.runq_pinned = d.runq_pinned;
    o.timers = d.timers;
    o.threads_running = d.threads_running;
    o.threads_idle = d.threads_idle;
    o.threads_blocking = d.threads_blocking;
    o.plain_threads = d.plain_threads;
    o.plain_waiting = d.plain_waiting;
}
