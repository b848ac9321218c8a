//! The scheduler as a dump, `gr_stats` and the deadlock report see it: what each thread (M)
//! and processor (P) is doing, and the run queues. Read racily (atomics only) while
//! everything runs: a consistent picture is not promised, only a safe one.
//!
//! Locks: `Runtime::ms` (rank 80) for the list of Ms; nothing else. An M's thread-local
//! block is read only while `ms` is held, because the M takes `ms` to withdraw it before
//! its thread exits (`worker.rs`).

use super::proc::{HELD, IDLE};
use super::runtime::{with_runtime_if_started, Runtime};
use crate::loom::lock;
use std::sync::atomic::Ordering::{Acquire, Relaxed, SeqCst};

/// One worker thread.
#[derive(Debug, Clone, Default)]
pub struct MView {
    pub id: usize,
    pub tid: i32,
    /// The processor it holds (index), if any.
    pub p: Option<usize>,
    /// The goroutine it runs (0: none: scheduler code, spinning or idle).
    pub gid: u64,
    /// Asleep in the idle list.
    pub idle: bool,
    /// Idle, and the one M blocked in the poller (`poll.rs`).
    pub polling: bool,
    /// Goroutines pinned to it, queued in its inbox.
    pub inbox: usize,
    /// Goroutine runs it has started (a goroutine that parks and runs again counts again).
    pub runs: u64,
}

/// One processor.
#[derive(Debug, Clone, Default)]
pub struct PView {
    pub id: usize,
    /// "idle", "held" (in scheduler code) or "running".
    pub status: &'static str,
    /// Goroutines in its local queue (stealable), its runnext slot, its affine queue.
    pub runq: usize,
    pub runnext: bool,
    pub affine: usize,
    /// Scheduling rounds so far (moves while it runs goroutines).
    pub tick: u64,
}

/// The scheduler's picture.
#[derive(Debug, Clone, Default)]
pub struct SchedView {
    pub ms: Vec<MView>,
    pub ps: Vec<PView>,
    /// Goroutines in the global queue.
    pub global: usize,
    /// Ms waiting for a processor (to run pinned goroutines, or back from a blocking call).
    pub want_p: usize,
    pub spinning: usize,
    pub idle_ps: usize,
}

impl SchedView {
    /// The M running goroutine `gid`, if one does.
    pub fn running(&self, gid: u64) -> Option<&MView> {
        if gid == 0 {
            return None;
        }
        self.ms.iter().find(|m| m.gid == gid)
    }
}

/// The picture now; `None` without a running runtime.
pub fn view() -> Option<SchedView> {
    with_runtime_if_started(view_of)
}

pub(crate) fn view_of(rt: &'static Runtime) -> SchedView {
    // The processors whose owner runs goroutine code on them (its gate: `gate.rs`).
    let mut running = vec![false; rt.ps.len()];
    let ms = {
        let ms = lock(&rt.ms);
        ms.iter()
            .filter_map(|(m, _)| {
                let l = m.local.load(Acquire);
                if l.is_null() {
                    return None; // not started, or exited
                }
                if let Some(r) = m.gate.running_on().and_then(|i| running.get_mut(i)) {
                    *r = true;
                }
                // SAFETY: a non-null `local` is the M's live thread-local block: the M clears
                // it under `ms` (which we hold) before its thread exits. We read its atomics.
                let l = unsafe { &*l };
                Some(MView {
                    id: m.id,
                    tid: m.tid.load(Relaxed),
                    p: l.p.get().checked_sub(1),
                    gid: l.gid.get(),
                    idle: m.idle.load(Relaxed),
                    polling: m.polling.load(Relaxed),
                    inbox: m.inbox_len.load(SeqCst), // SeqCst: `stall::quiet`'s handshake
                    runs: m.runs.load(Relaxed),
                })
            })
            .collect()
    };
    let ps = rt
        .ps
        .iter()
        .map(|p| PView {
            id: p.id,
            status: match p.status.load(Acquire) {
                IDLE => "idle",
                HELD if running[p.id] => "running",
                HELD => "held",
                _ => "?",
            },
            runq: p.stealer.len() + p.soft_stealer.len(),
            runnext: p.has_runnext.load(Relaxed),
            affine: p.affine_len.load(Relaxed),
            tick: p.tick.load(Relaxed),
        })
        .collect();
    SchedView {
        ms,
        ps,
        global: rt.global.len(),
        want_p: rt.idle.nwant.load(SeqCst),
        spinning: rt.idle.nmspinning.load(SeqCst),
        idle_ps: rt.idle.npidle.load(SeqCst),
    }
}

/// The id of the M goroutine `g` is pinned to (`gr_pin`), if it is pinned.
pub fn pinned_to(g: &crate::goroutine::G) -> Option<usize> {
    let m = g.pinned.load(Acquire) as *const super::worker::M;
    // SAFETY: `pinned` is 0 or one of the runtime's Ms, which are never freed while it lives.
    (!m.is_null()).then(|| unsafe { (*m).id })
}
