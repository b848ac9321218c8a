//! The monitor thread (Go's sysmon): fires timers, and moves the others away from an M stuck
//! in goroutine code.
//!
//! C code cannot be preempted safely. So when a processor has been `RUNNING` the same
//! goroutine for ~10 ms (its tick did not move) while work waits (in its queue, the global
//! queue, or an M waiting for a processor), the monitor retakes the processor
//! (`RUNNING -> HELD`, see `proc.rs`) and hands it to another M. The stuck M finds out when
//! it next returns to the scheduler and carries on without a processor.
//!
//! Preemption comes first: at ~10 ms the monitor raises the processor's `preempt` flag, and a
//! goroutine that calls into the runtime (a spawn loop, say) yields at that safe point, as Go
//! preempts at function calls. Only if the goroutine is still stuck one check later (it runs
//! foreign code that never calls gr) is the processor retaken.
//!
//! Idle: with no processor running and no timer armed, the monitor sleeps until woken
//! (`Timers::monitor_sleep`), so an idle runtime uses no CPU. With the deadlock report on
//! (`deadlock.rs`) it evaluates the rule before that sleep, and wakes once a second later
//! while the rule holds.
#![forbid(unsafe_code)]

use super::proc::RUNNING;
use super::Runtime;
use std::sync::atomic::Ordering::{Acquire, Relaxed, SeqCst};
use std::time::{Duration, Instant};

/// How long a goroutine may hold a processor while others wait.
pub const HOG: Duration = Duration::from_millis(10);
/// Check interval while any processor runs.
const TICK: Duration = Duration::from_millis(2);
/// How often idle stack memory is returned to the kernel while the runtime is busy.
const SCAVENGE: Duration = Duration::from_secs(1);

/// What the monitor last saw of a processor: its tick, since when, and (once the tick stood
/// still) when it sampled the owner thread's run-queue wait.
#[derive(Clone, Copy)]
struct Seen {
    tick: u64,
    since: Instant,
    wait: Option<(Instant, u64)>,
}

impl Seen {
    fn new(tick: u64, now: Instant) -> Seen {
        Seen { tick, since: now, wait: None }
    }
}

/// Whether the thread `tid` spent most of the time since `s.wait` runnable but off the CPU
/// (the machine is busy with other processes): it is not computing, and another thread
/// would not run sooner. Records a first sample and says `true` (look again next tick) if
/// there is none; `false` where the kernel keeps no statistics.
fn descheduled(s: &mut Seen, tid: i32, now: Instant) -> bool {
    let Some((_, wait)) = crate::sys::thread::schedstat(tid) else { return false };
    match s.wait {
        None => {
            s.wait = Some((now, wait));
            true
        }
        Some((t0, w0)) => {
            let wall = now.duration_since(t0).as_nanos() as u64;
            wall > 0 && wait.saturating_sub(w0) * 2 > wall
        }
    }
}

pub(crate) fn run(rt: &'static Runtime) {
    let mut seen: Vec<Seen> = vec![Seen::new(0, Instant::now()); rt.nprocs()];
    let mut last_scavenge = Instant::now();
    let mut watch = super::deadlock::Watch::default();
    while !rt.stopping() {
        rt.coarse.fetch_add(1, Relaxed);
        crate::waitreason::refresh_clock();
        let now = Instant::now();
        rt.timers.fire_due(now);
        rt.monitor_poll();
        if now.duration_since(last_scavenge) >= SCAVENGE {
            rt.stacks.scavenge();
            last_scavenge = now;
        }
        let mut any_running = false;
        for (i, p) in rt.ps.iter().enumerate() {
            let tick = p.tick.load(Relaxed);
            if p.status.load(Acquire) != RUNNING {
                seen[i] = Seen::new(tick, now);
                continue;
            }
            any_running = true;
            if tick != seen[i].tick {
                seen[i] = Seen::new(tick, now);
                continue;
            }
            let waiting = p.has_work() || !rt.global.is_empty() || rt.idle.nwant.load(SeqCst) > 0;
            if now.duration_since(seen[i].since) >= HOG && waiting {
                // A thread the OS keeps off the CPU (a loaded machine) is not a hog: retaking
                // its processor would only add a thread competing for the same CPUs.
                if descheduled(&mut seen[i], p.owner_tid.load(Relaxed), now) {
                    if seen[i].wait.is_some_and(|(t0, _)| t0 != now) {
                        seen[i] = Seen::new(tick, now); // watch a fresh window
                    }
                    continue;
                }
                if !p.preempt.swap(true, Relaxed) {
                    continue; // ask first; retake at the next check if still stuck
                }
                if p.try_hold() {
                    p.preempt.store(false, Relaxed);
                    rt.retakes.fetch_add(1, Relaxed);
                    rt.handoff_p(i);
                    seen[i] = Seen::new(tick, now);
                }
            }
        }
        let all_idle = !any_running && rt.idle.npidle.load(SeqCst) == rt.nprocs();
        let mut look_again = None;
        if all_idle {
            rt.stacks.scavenge(); // about to sleep until work arrives: leave nothing extra held
            if rt.cfg.deadlock != super::deadlock::Deadlock::Off {
                look_again = watch.check(rt, now);
            }
        }
        let until = (!all_idle).then(|| Instant::now() + TICK);
        rt.timers.monitor_sleep(until, look_again, &rt.monitor_deep, || rt.idle.npidle.load(SeqCst) == rt.nprocs() || rt.stopping());
    }
}
