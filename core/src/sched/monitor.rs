//! The monitor thread (Go's sysmon): fires timers, and moves the others away from an M stuck
//! in goroutine code.
//!
//! C code cannot be preempted safely. So when a processor has been `RUNNING` the same
//! goroutine for ~10 ms (its tick did not move) while work waits (in its queue, the global
//! queue, or an M waiting for a processor), the monitor retakes the processor
//! (`RUNNING -> HELD`, see `proc.rs`) and hands it to another M. The stuck M finds out when
//! it next returns to the scheduler and carries on without a processor.
//!
//! Idle: with no processor running and no timer armed, the monitor sleeps until woken
//! (`Timers::monitor_sleep`), so an idle runtime uses no CPU.

use super::proc::RUNNING;
use super::Runtime;
use std::sync::atomic::Ordering::{Acquire, Relaxed, SeqCst};
use std::time::{Duration, Instant};

/// How long a goroutine may hold a processor while others wait.
pub const HOG: Duration = Duration::from_millis(10);
/// Check interval while any processor runs.
const TICK: Duration = Duration::from_millis(2);

pub(crate) fn run(rt: &'static Runtime) {
    let mut seen: Vec<(u64, Instant)> = vec![(0, Instant::now()); rt.nprocs()];
    while !rt.stopping() {
        let now = Instant::now();
        rt.timers.fire_due(now);
        let mut any_running = false;
        for (i, p) in rt.ps.iter().enumerate() {
            let tick = p.tick.load(Relaxed);
            if p.status.load(Acquire) != RUNNING {
                seen[i] = (tick, now);
                continue;
            }
            any_running = true;
            if tick != seen[i].0 {
                seen[i] = (tick, now);
                continue;
            }
            let waiting = p.has_work() || !rt.global.is_empty() || rt.idle.nwant.load(SeqCst) > 0;
            if now.duration_since(seen[i].1) >= HOG && waiting && p.try_hold() {
                rt.retakes.fetch_add(1, Relaxed);
                rt.handoff_p(i);
                seen[i] = (tick, now);
            }
        }
        let all_idle = !any_running && rt.idle.npidle.load(SeqCst) == rt.nprocs();
        let until = (!all_idle).then(|| Instant::now() + TICK);
        rt.timers.monitor_sleep(until, &rt.monitor_deep, || rt.idle.npidle.load(SeqCst) == rt.nprocs() || rt.stopping());
    }
}
