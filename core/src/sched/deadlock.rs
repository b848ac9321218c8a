//! The deadlock report (`GR_DEADLOCK=warn|abort`, Go's `checkdead`): when nothing can make
//! progress for one second, print `gr: all goroutines are asleep - deadlock!` and the dump,
//! then carry on (`warn`, once per episode) or abort (`abort`).
//!
//! # The rule
//! "Nothing can make progress" means, all at once:
//! 1. no goroutine runs or is runnable: every processor idle, the global queue and every
//!    worker's pinned inbox empty, no thread waiting for a processor;
//! 2. no timed wait is armed (a sleep, a timeout: the timer heap has no open wait);
//! 3. every live goroutine is parked (or, thread-bound, its thread sleeps in a gr wait
//!    without timeout), and none waits on a file descriptor; none is in a blocking section
//!    (it runs foreign code, which may end);
//! 4. every plain thread gr knows sleeps in a gr wait without timeout, none on a file
//!    descriptor;
//! 5. and something is blocked (a goroutine or a thread): an idle program is not deadlocked.
//!
//! "For one second": the rule holds at two checks one second apart, and nothing moved in
//! between: no processor ran a scheduling round, nothing was spawned, no thread's wait
//! changed (their wait sequence numbers are compared).
//!
//! # What it cannot see
//! gr knows a plain thread once it started the runtime, spawned a goroutine, created a
//! channel, mutex, WaitGroup or cancel token, or waited in a gr call. A thread that never did
//! any of these (it only sends or receives on channels others made, without ever waiting, or
//! never calls gr at all) but would later wake a goroutine is invisible: while it computes,
//! gr may report a deadlock that is not one. Likewise a goroutine woken only by something
//! outside gr (a signal handler, a C callback on a foreign thread) without such a thread.
//! Waits with a timeout never count as stuck: a plain thread waiting in slices (as the
//! Python binding's main thread does, to run signal handlers) hides a deadlock.
//!
//! # Cost
//! Nothing on any hot path. The monitor evaluates the rule only when every processor is
//! idle (O(goroutines): one pass over the records), and while the rule holds it wakes once
//! after a second; otherwise it sleeps as before, woken by activity or by a plain thread
//! that goes to sleep in a gr wait without timeout (`note_thread_sleep`).

use super::runtime::Runtime;
use crate::allg::for_each_live;
use crate::loom::lock;
use crate::waiter;
use crate::waitreason::kind;
use std::collections::HashMap;
use std::sync::atomic::Ordering::{Acquire, Relaxed, SeqCst};
use std::time::{Duration, Instant};

/// `GR_DEADLOCK`'s value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Deadlock {
    #[default]
    Off,
    Warn,
    Abort,
}

impl Deadlock {
    pub fn from_env() -> Deadlock {
        match std::env::var("GR_DEADLOCK").as_deref().map(str::trim) {
            Ok("warn" | "1") => Deadlock::Warn,
            Ok("abort" | "2") => Deadlock::Abort,
            _ => Deadlock::Off,
        }
    }
}

/// How long the rule must hold.
pub const HOLD: Duration = Duration::from_secs(1);

/// What moved: processor rounds, spawns, and every known thread's (tid, wait sequence).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fingerprint {
    ticks: u64,
    spawned: u64,
    threads: Vec<(i32, u32)>,
}

/// The monitor's state between checks.
#[derive(Default)]
pub(crate) struct Watch {
    since: Option<(Instant, Fingerprint)>,
    reported: bool,
}

impl Watch {
    /// Called by the monitor when every processor is idle. Returns when to look again (the
    /// monitor sleeps at most until then), or `None` to sleep until woken.
    pub(crate) fn check(&mut self, rt: &'static Runtime, now: Instant) -> Option<Instant> {
        let Some(fp) = stuck(rt) else {
            *self = Watch::default();
            return None;
        };
        match &self.since {
            Some((t0, old)) if *old == fp => {
                if self.reported {
                    return None;
                }
                if now.duration_since(*t0) >= HOLD {
                    self.reported = true;
                    report(rt);
                    return None;
                }
                Some(*t0 + HOLD)
            }
            _ => {
                self.since = Some((now, fp));
                self.reported = false;
                Some(now + HOLD)
            }
        }
    }
}

/// `Some` (what moved so far) if nothing can make progress now (the module's rule).
fn stuck(rt: &'static Runtime) -> Option<Fingerprint> {
    // 1. No goroutine runs or waits to run.
    if rt.idle.npidle.load(SeqCst) != rt.nprocs() || !rt.global.is_empty() || rt.idle.nwant.load(SeqCst) > 0 {
        return None;
    }
    if rt.ps.iter().any(|p| p.has_work()) {
        return None;
    }
    if lock(&rt.ms).iter().any(|(m, _)| m.has_pinned_work()) {
        return None;
    }
    // 2. No timed wait.
    if rt.timers.any_pending() {
        return None;
    }
    // 3. Every goroutine parked for good (bound ones: their thread sleeps without timeout).
    let threads = waiter::threads();
    let forever: HashMap<u64, bool> = threads
        .iter()
        .filter(|t| t.gid() != 0)
        .map(|t| (t.gid(), t.blocked() == waiter::FOREVER && t.pending() && !waits_on_fd(t)))
        .collect();
    let mut blocked = 0u64;
    let mut progress = false;
    for_each_live(|g| {
        if progress || g.is_done() {
            return;
        }
        let parked = if g.bound {
            forever.get(&g.id).copied().unwrap_or(false)
        } else {
            super::state::is_parked(g.cell.state.load(Acquire))
                && (g.info().wait.load(Relaxed) >> 56) as u8 != kind::FD
        };
        if parked {
            blocked += 1;
        } else {
            progress = true;
        }
    });
    if progress {
        return None;
    }
    // 4. Every plain thread gr knows sleeps in a wait without timeout.
    let mut tids = Vec::new();
    for t in threads.iter().filter(|t| !t.is_m) {
        if t.blocked() != waiter::FOREVER || !t.pending() || waits_on_fd(t) {
            return None;
        }
        blocked += 1;
        tids.push((t.tid, t.seq()));
    }
    // 5. Something is blocked.
    if blocked == 0 {
        return None;
    }
    tids.sort_unstable();
    Some(Fingerprint { ticks: rt.ps.iter().map(|p| p.tick.load(Relaxed)).sum(), spawned: rt.spawned(), threads: tids })
}

/// A thread (or bound goroutine) waiting on a file descriptor can be woken from outside the
/// process: never stuck.
fn waits_on_fd(t: &waiter::ThreadWait) -> bool {
    (t.reason().0 >> 56) as u8 == kind::FD
}

fn report(rt: &'static Runtime) {
    crate::dump::traceback::print("gr: all goroutines are asleep - deadlock!\n\n");
    if rt.cfg.deadlock == Deadlock::Abort {
        crate::sys::signal::write_stderr(b"gr: aborting (GR_DEADLOCK=abort)\n");
        crate::sys::signal::abort();
    }
}

/// A plain thread (or a bound goroutine) goes to sleep in a gr wait without timeout: with
/// the report on, the monitor must look again (that thread was what kept it from firing).
pub(crate) fn note_thread_sleep() {
    super::runtime::with_runtime_if_started(|rt| {
        if rt.cfg.deadlock != Deadlock::Off {
            rt.timers.wake_monitor(&rt.monitor_deep);
        }
    });
}
