//! Back-pressure on plain threads that spawn (`README.md`, section 12): a thread outside the
//! runtime that spawns while the global queue holds [`LIMIT`] goroutines or more waits until
//! the workers have brought it down to [`LOW`], so a spawn loop cannot pile up goroutines
//! (each holding a stack) faster than the workers run them.
//!
//! Only threads without an M wait (a goroutine's spawns go to its own processor, and its M
//! is one of those that drain the queue). The wait ends:
//! - when the queue is down to `LOW` (a worker that takes a batch from the global queue
//!   wakes the waiters: [`Backlog::drained`]);
//! - when the workers stall: no worker took a batch from the queue for [`STALL`] (and
//!   [`STALL_SLICES`] of the waiter's looks) and none of the threads running a processor is
//!   runnable (they sleep in the kernel: the spawner may hold what every worker waits for, a
//!   lock, an interpreter's lock), or for [`STALL_MAX_SLICES`] looks whatever they do. Then
//!   this and every later spawn go through without waiting until a worker takes from the
//!   queue again (one pause per stall, never a deadlock). A worker that is only waiting for a CPU (a loaded machine, a throttled
//!   cgroup) is not a stall: letting the spawner through then piled up goroutines (peaks of
//!   111 to 273 MB instead of ~25 in `spawn_thread` runs at a load average of 17);
//! - at once with `Again` for a spawn that asked not to wait (`GR_SPAWN_NOWAIT`), whenever
//!   the queue holds `LIMIT` or more (stall or not): nothing is spawned;
//! - at shutdown.
//!
//! Wake-ups: the waiter counts itself in `waiters` (SeqCst) before it reads the queue's
//! length and sleeps on `seq`; a worker, after its batch, fences (SeqCst) and reads `waiters`.
//! One of the two sees the other, as in `README.md` section 3; the waiter also sleeps in
//! slices of [`SLICE`] to watch for a stall, so a wake that is late costs at most a slice.
#![forbid(unsafe_code)]

use super::Runtime;
use crate::error::{Error, Result};
use crate::sys::futex;
use crate::loom::{AtomicBool, AtomicU32};
use std::sync::atomic::fence;
use super::proc::IDLE;
use std::sync::atomic::Ordering::{Acquire, Relaxed, SeqCst};
use std::time::{Duration, Instant};

/// Goroutines in the global queue at which a plain thread's spawn waits.
pub(crate) const LIMIT: usize = 1024;
/// Where the wait ends: the workers still have this many queued, so they do not run dry
/// while the spawner wakes up.
pub(crate) const LOW: usize = LIMIT / 2;
/// No goroutine taken from the global queue for this long, and no processor's thread
/// runnable: the workers are stuck (perhaps on something the spawner holds), so waiting would
/// not help. The monitor's retake horizon.
const STALL: Duration = Duration::from_millis(10);
/// No goroutine taken for this many slices (100 ms at least): a stall, whatever the workers'
/// threads do. Counted in the waiter's own looks, not in wall time: a process whose cgroup is
/// throttled (CFS bandwidth, 100 ms periods) loses its CPU as a whole, waiter and workers
/// alike, and such a pause is not the workers' stall (measured on this shared machine: a
/// wall-time rule let the spawner through after exactly ~100 ms with a worker runnable).
const STALL_MAX_SLICES: u32 = 100;
/// The waiter's sleep between looks at the queue.
const SLICE: Duration = Duration::from_millis(1);
/// Looks without a take before the `STALL` rule applies (as for `STALL_MAX_SLICES`).
const STALL_SLICES: u32 = 10;

pub(crate) struct Backlog {
    /// Futex word: bumped by each wake.
    seq: AtomicU32,
    /// Threads waiting in [`Runtime::backlog_wait`].
    waiters: AtomicU32,
    /// Batches taken from the global queue while someone waits or bypasses: the waiters'
    /// sign of progress.
    takes: AtomicU32,
    /// A stall was seen: spawns go through until the queue is back under `LOW`.
    bypass: AtomicBool,
}

impl Backlog {
    pub(crate) fn new() -> Backlog {
        Backlog {
            seq: AtomicU32::new(0),
            waiters: AtomicU32::new(0),
            takes: AtomicU32::new(0),
            bypass: AtomicBool::new(false),
        }
    }
}

impl Runtime {
    /// Whether a plain thread's spawn would meet back-pressure now ([`Runtime::backlog_wait`]
    /// returns at once otherwise).
    #[inline]
    pub(crate) fn backlog_full(&self) -> bool {
        self.global.len() >= LIMIT
    }

    /// Called by a plain thread before it spawns: waits while the global queue is full (the
    /// module's rules). `Ok` to go on spawning. Out of line: a goroutine's spawn (the hot
    /// path) only tests that it is not on a plain thread.
    #[inline(never)]
    pub(crate) fn backlog_wait(&'static self, nowait: bool) -> Result<()> {
        if !self.backlog_full() {
            return Ok(());
        }
        if nowait {
            // Even during a stall's bypass: the caller asked to learn that the queue is
            // full (an offer), e.g. to let go of a lock the goroutines need before it waits.
            return Err(Error::Again);
        }
        let b = &self.backlog;
        if b.bypass.load(Relaxed) {
            return Ok(());
        }
        b.waiters.fetch_add(1, SeqCst);
        self.backlog_sleep();
        b.waiters.fetch_sub(1, SeqCst);
        Ok(())
    }

    /// Sleeps until the queue is down to `LOW`, the workers stall, or `gr_shutdown` begins
    /// (the spawn is then refused).
    fn backlog_sleep(&'static self) {
        let b = &self.backlog;
        let mut takes = b.takes.load(Relaxed);
        let mut since = Instant::now();
        let mut quiet = 0u32; // looks since the last take
        loop {
            let seq = b.seq.load(SeqCst);
            let n = self.global.len();
            if n <= LOW || self.closing() {
                return;
            }
            let now = Instant::now();
            let t = b.takes.load(Relaxed);
            if t != takes {
                (takes, since, quiet) = (t, now, 0);
            } else if quiet >= STALL_SLICES
                && now - since >= STALL
                && (quiet >= STALL_MAX_SLICES || !self.running_threads_runnable())
            {
                b.bypass.store(true, Relaxed);
                return;
            }
            futex::wait(&b.seq, seq, Some(SLICE));
            quiet += 1;
        }
    }

    /// Whether the workers may still come: some processor is held by a runnable thread
    /// (computing, or waiting for a CPU) rather than one asleep in the kernel, or none is held
    /// at all (Ms are being woken for the queue). Reads `/proc`: only for a wait that looks
    /// stalled.
    fn running_threads_runnable(&self) -> bool {
        let mut held = false;
        for p in self.ps.iter() {
            if p.status.load(Acquire) == IDLE {
                continue;
            }
            held = true;
            if matches!(crate::sys::thread::state(p.owner_tid.load(Relaxed)), Some('R')) {
                return true;
            }
        }
        !held
    }

    /// Called by a worker after it took goroutines from the global queue: counts the take
    /// (progress), ends a stall's bypass, and wakes waiting spawners once the queue is down
    /// to `LOW`.
    #[inline]
    pub(crate) fn backlog_drained(&self) {
        fence(SeqCst);
        let b = &self.backlog;
        if b.waiters.load(Relaxed) == 0 && !b.bypass.load(Relaxed) {
            return;
        }
        self.backlog_wake();
    }

    #[cold]
    #[inline(never)]
    fn backlog_wake(&self) {
        let b = &self.backlog;
        b.takes.fetch_add(1, Relaxed);
        if b.bypass.load(Relaxed) {
            b.bypass.store(false, Relaxed);
        }
        if b.waiters.load(Relaxed) != 0 && self.global.len() <= LOW {
            b.seq.fetch_add(1, SeqCst);
            futex::wake_all(&b.seq);
        }
    }

    /// Wakes every waiting spawner (shutdown: they return and find the runtime stopped).
    pub(crate) fn backlog_wake_all(&self) {
        self.backlog.seq.fetch_add(1, SeqCst);
        futex::wake_all(&self.backlog.seq);
    }
}
