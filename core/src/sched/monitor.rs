//! The monitor thread (Go's sysmon): fires timers, and moves the others away from an M stuck
//! in goroutine code.
//!
//! C code cannot be preempted safely. So when a processor has been running the same
//! goroutine for ~10 ms (its tick did not move) while work waits (in its queue, the global
//! queue, or an M waiting for a processor), the monitor retakes the processor
//! (through the M's gate, `gate.rs`) and hands it to another M. The stuck M finds out when
//! it next returns to the scheduler and carries on without a processor.
//!
//! Preemption comes first: at ~10 ms the monitor raises the processor's `preempt` flag, and a
//! goroutine that calls into the runtime (a spawn loop, say) yields at that safe point, as Go
//! preempts at function calls (`gr_fd_*` operations are such points too). Only if the
//! goroutine is still stuck at a later check, its thread having had ~1 ms of CPU since the
//! request (it runs foreign code that never calls gr) or sleeping in the kernel, is the
//! processor retaken.
//!
//! Idle: with no processor running and no timer armed, the monitor sleeps until woken
//! (`Timers::monitor_sleep`), so an idle runtime uses no CPU. With the deadlock report on
//! (`deadlock.rs`) it evaluates the rule before that sleep, and wakes once a second later
//! while the rule holds.
#![forbid(unsafe_code)]

use super::proc::IDLE;
use super::Runtime;
use std::sync::atomic::Ordering::{Acquire, Relaxed, SeqCst};
use std::time::{Duration, Instant};

/// How long a goroutine may hold a processor while others wait.
pub const HOG: Duration = Duration::from_millis(10);
/// Check interval while any processor runs.
const TICK: Duration = Duration::from_millis(2);
/// How often stall candidates are looked at while every processor is idle (`stall.rs`).
const STALL_TICK: Duration = Duration::from_millis(10);
/// How often idle stack memory is returned to the kernel while the runtime is busy.
const SCAVENGE: Duration = Duration::from_secs(1);

/// What the monitor last saw of a processor: its tick, since when, and, from the first check
/// that found it unchanged with work waiting, a sample of the owner thread's CPU time.
#[derive(Clone, Copy)]
struct Seen {
    tick: u64,
    since: Instant,
    cpu: Option<u64>,
    /// The owner thread's CPU time when the monitor raised `preempt` (see [`answered`]).
    asked: Option<u64>,
}

impl Seen {
    fn new(tick: u64, now: Instant) -> Seen {
        Seen { tick, since: now, cpu: None, asked: None }
    }
}

/// CPU time a stuck goroutine's thread must have used since the sample (taken within a tick
/// of the goroutine's start) to count as computing.
const HOG_CPU: Duration = Duration::from_millis(5);

/// Whether the goroutine that has held a processor for `HOG` of wall time is stuck: its
/// thread computed for `HOG_CPU` since the sample in `s`, or sleeps in the kernel (a blocking
/// call). A thread that is runnable but got little CPU was kept off it by the OS (a loaded
/// machine): it is not stuck, just slow, and a new thread would only compete with it for the
/// same CPUs; the monitor looks again at its next tick (the sample stays, so a real hog is
/// caught once it has used its CPU). Without scheduling statistics, wall time decides.
fn stuck(s: &Seen, tid: i32) -> bool {
    let (Some(r0), Some((r, _))) = (s.cpu, crate::sys::thread::schedstat(tid)) else { return true };
    r.saturating_sub(r0) >= HOG_CPU.as_nanos() as u64 || matches!(crate::sys::thread::state(tid), Some('S' | 'D'))
}

/// CPU time the owner thread must have had since `preempt` was raised, without reaching a
/// safe point, before its processor is retaken.
const ASK_CPU: Duration = Duration::from_millis(1);

/// Whether a goroutine asked to yield (`preempt` raised, CPU time then in `s.asked`) has had
/// its chance and let it pass: its thread ran for `ASK_CPU` since, or sleeps in the kernel (a
/// blocking call: it cannot answer). A runnable thread the OS kept off the CPU meanwhile (a
/// loaded machine) may be one system call away from its safe point (a `gr_fd_*` operation
/// that keeps succeeding, `ops.rs`): retaking its processor would only add a thread to
/// compete for the same CPUs. Without scheduling statistics, wall time decides (retake).
fn answered(s: &Seen, tid: i32) -> bool {
    let (Some(a), Some((r, _))) = (s.asked, crate::sys::thread::schedstat(tid)) else { return true };
    r.saturating_sub(a) >= ASK_CPU.as_nanos() as u64 || matches!(crate::sys::thread::state(tid), Some('S' | 'D'))
}

/// Runs `f` on the gate of the M that last started a goroutine on processor `i` (found by
/// `P::owner_tid` among the live Ms, under `ms`: a retiring M leaves the list under that lock
/// before its struct is freed); `None` if that M is gone. A new M that got the old one's
/// thread id is told apart by its gate, which reports (and yields) only the processor its own
/// M runs goroutine code on.
fn with_owner_gate<R>(rt: &Runtime, i: usize, f: impl FnOnce(&super::gate::Gate) -> R) -> Option<R> {
    let tid = rt.ps[i].owner_tid.load(Relaxed);
    let ms = crate::loom::lock(&rt.ms);
    let (m, _) = ms.iter().find(|(m, _)| m.tid.load(Relaxed) == tid)?;
    Some(f(&m.gate))
}

/// Whether processor `i`'s owner runs goroutine code on it.
fn running(rt: &Runtime, i: usize) -> bool {
    with_owner_gate(rt, i, |g| g.running_on() == Some(i)).unwrap_or(false)
}

/// Takes processor `i` from the M running goroutine code on it, through that M's gate
/// (`gate.rs`); whether it did (the processor is then the caller's, HELD). The lock on `ms`
/// is dropped before the caller hands the processor off.
fn retake(rt: &Runtime, i: usize) -> bool {
    with_owner_gate(rt, i, |g| g.retake(i)).unwrap_or(false)
}

pub(crate) fn run(rt: &'static Runtime) {
    // (An internal thread for the sanitizers already: `sys/thread.rs`.)
    let mut seen: Vec<Seen> = vec![Seen::new(0, Instant::now()); rt.nprocs()];
    let mut last_scavenge = Instant::now();
    let mut watch = super::deadlock::Watch::default();
    let mut stalls = super::stall::Watch::default();
    while !rt.stopping() {
        rt.tick_coarse();
        crate::waitreason::refresh_clock();
        let now = Instant::now();
        rt.timers.fire_due(now);
        rt.monitor_poll();
        crate::waiter::crowd::recheck(now);
        if now.duration_since(last_scavenge) >= SCAVENGE {
            rt.stacks.scavenge();
            last_scavenge = now;
        }
        let mut any_running = false;
        let mut long = false;
        for (i, p) in rt.ps.iter().enumerate() {
            let tick = p.tick.load(Relaxed);
            if p.status.load(Acquire) == IDLE {
                seen[i] = Seen::new(tick, now);
                continue;
            }
            any_running = true;
            // Same tick since the last check, and its M in goroutine code (the gate's view:
            // an M may hold its processor in scheduler code, not to be asked or retaken).
            if tick != seen[i].tick || !running(rt, i) {
                seen[i] = Seen::new(tick, now);
                continue;
            }
            long = true; // one goroutine ran at least since the last tick
            if !p.soft_stealer.is_empty() && rt.idle.nmspinning.load(SeqCst) == 0 {
                // Soft work behind a goroutine that runs long is stale: make sure an M spins
                // to steal it (the spinner a soft push woke may have ended its watch before
                // the goroutine began to run long: `proc.rs`).
                rt.wakep();
            }
            let waiting = p.has_work() || !rt.global.is_empty() || rt.idle.nwant.load(SeqCst) > 0;
            if !waiting {
                continue;
            }
            let tid = p.owner_tid.load(Relaxed);
            if seen[i].cpu.is_none() {
                seen[i].cpu = crate::sys::thread::schedstat(tid).map(|(run, _)| run);
            }
            if now.duration_since(seen[i].since) >= HOG {
                if !stuck(&seen[i], tid) {
                    continue;
                }
                if !p.preempt.swap(true, Relaxed) || seen[i].asked.is_none() {
                    // Ask first; retake at a later check if still stuck and it had its chance.
                    seen[i].asked = crate::sys::thread::schedstat(tid).map(|(run, _)| run).or(Some(0));
                    continue;
                }
                if !answered(&seen[i], tid) {
                    continue;
                }
                if retake(rt, i) {
                    p.preempt.store(false, Relaxed);
                    rt.retakes.fetch_add(1, Relaxed);
                    rt.handoff_p(i);
                    seen[i] = Seen::new(tick, now);
                }
            }
        }
        let stall_pending = stalls.check(rt, now);
        rt.monitor_watch(long);
        let all_idle = !any_running && rt.idle.npidle.load(SeqCst) == rt.nprocs();
        let mut look_again = None;
        if all_idle {
            rt.stacks.scavenge(); // about to sleep until work arrives: leave nothing extra held
            if rt.cfg.deadlock != super::deadlock::Deadlock::Off {
                look_again = watch.check(rt, now);
            }
        }
        let until = if !all_idle {
            Some(Instant::now() + TICK)
        } else if stall_pending {
            // A goroutine holds pinned work up on a thread whose processor may be gone: look
            // again soon even though every processor is idle (a report is due).
            Some(Instant::now() + STALL_TICK)
        } else {
            None
        };
        // Sleep deeply only while nothing runs and the runtime is not stopping: checked under the
        // heap lock, which `gr_shutdown`'s forced wake takes after it stops the runtime.
        rt.timers.monitor_sleep(until, look_again, &rt.monitor_deep, || {
            rt.idle.npidle.load(SeqCst) == rt.nprocs() && stalls.quiet(rt) && !rt.stopping()
        });
    }
}

