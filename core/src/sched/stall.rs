//! Stall reports (`gr_stall_hook`): a goroutine that has held its worker thread for longer
//! than a threshold while goroutines pinned to that thread are ready to run. Pinned
//! goroutines (`gr_pin`: a Python goroutine's thread state, a thread-affine C library) can
//! only run on their own thread; the monitor moves a stuck thread's processor and its queues
//! elsewhere, but never them. So a blocking foreign call (a stdlib `sock.recv`, `time.sleep`,
//! a C library's `read`) or a long computation in one goroutine stalls all of them, and the
//! program's author should hear which goroutine did it, once, as asyncio's debug mode reports
//! a slow callback.
//!
//! The monitor (`monitor.rs`) calls [`Watch::check`] at each tick while a hook is set. Per
//! M it remembers the goroutine run it saw (`M::runs` counts the runs the M started, so a
//! goroutine that parked and ran again is a new run) and since when pinned work has waited
//! behind it; a run that reaches the threshold is reported once, with the goroutine's id,
//! kind and binding label (a Python thread state), the worker, its queued pinned
//! goroutines, and whether the thread sleeps in the kernel (a blocking call) or computes.
//! The hook runs on the monitor thread: it must return quickly and never wait in gr.
//! Without a hook the monitor does nothing here (one atomic load per tick).
#![forbid(unsafe_code)]

use super::inspect::view_of;
use super::Runtime;
use std::sync::atomic::{AtomicBool, Ordering::Acquire, Ordering::Relaxed, Ordering::Release, Ordering::SeqCst};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One report.
#[derive(Debug, Clone)]
pub struct Stall {
    /// The goroutine holding the thread.
    pub goroutine: u64,
    /// Its kind (`GR_KIND_*`) and label, as its binding set them (`gr_goroutine_label`).
    pub kind: u8,
    pub label: usize,
    /// The worker thread (`gr-worker-N`) and its kernel thread id.
    pub worker: usize,
    pub tid: i32,
    /// How long pinned goroutines have waited behind it so far.
    pub held: Duration,
    /// Goroutines pinned to that thread, ready to run.
    pub pinned_ready: usize,
    /// The thread sleeps in the kernel (a blocking call) rather than computing.
    pub in_kernel: bool,
}

/// The hook and its threshold.
pub type Hook = Box<dyn Fn(&Stall) + Send + Sync>;

static ON: AtomicBool = AtomicBool::new(false);
static HOOK: Mutex<Option<(Hook, Duration)>> = Mutex::new(None);

/// Whether a hook is set (one load: `M::push_inbox` asks it on each cross-thread wake).
#[inline]
pub(crate) fn hooked() -> bool {
    ON.load(Relaxed)
}

/// Sets (or with `None` removes) the stall hook. Takes effect at the monitor's next tick.
pub fn set_hook(hook: Option<(Hook, Duration)>) {
    let mut h = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    ON.store(hook.is_some(), Release);
    *h = hook;
}

/// What the monitor remembers of one M.
#[derive(Clone, Copy)]
struct Seen {
    gid: u64,
    runs: u64,
    since: Instant,
    reported: bool,
}

/// The monitor's memory, indexed by M id.
#[derive(Default)]
pub(crate) struct Watch {
    ms: Vec<Option<Seen>>,
}

impl Watch {
    /// For the monitor's deep sleep (`monitor.rs`): false while a hook is set and some M runs
    /// a goroutine with pinned work in its inbox, in a run not reported yet (a stall may be
    /// under way: keep watching). Read after the monitor raised `monitor_deep` (SeqCst), as
    /// `push_inbox` raises `inbox_len` (SeqCst) before it reads that flag in
    /// `wake_monitor`: one of the two sees the other.
    pub(crate) fn quiet(&self, rt: &'static Runtime) -> bool {
        if !ON.load(SeqCst) {
            return true;
        }
        !view_of(rt).ms.iter().any(|m| {
            let reported = matches!(self.ms.get(m.id), Some(Some(s)) if s.reported && s.gid == m.gid && s.runs == m.runs);
            m.gid != 0 && m.inbox > 0 && !reported
        })
    }

    /// One tick: reports each run that has held pinned work up for the threshold, once.
    /// True while a run that is not yet reported holds pinned work up (look again soon).
    pub(crate) fn check(&mut self, rt: &'static Runtime, now: Instant) -> bool {
        if !ON.load(Acquire) {
            if !self.ms.is_empty() {
                self.ms.clear();
            }
            return false;
        }
        let h = HOOK.lock().unwrap_or_else(|e| e.into_inner());
        let Some((hook, threshold)) = h.as_ref() else { return false };
        let mut pending = false;
        for m in view_of(rt).ms {
            if self.ms.len() <= m.id {
                self.ms.resize(m.id + 1, None);
            }
            let slot = &mut self.ms[m.id];
            if m.gid == 0 || m.inbox == 0 {
                *slot = None;
                continue;
            }
            let s = match slot {
                Some(s) if s.gid == m.gid && s.runs == m.runs => s,
                _ => slot.insert(Seen { gid: m.gid, runs: m.runs, since: now, reported: false }),
            };
            if s.reported {
                continue;
            }
            if now.duration_since(s.since) < *threshold {
                pending = true;
                continue;
            }
            s.reported = true;
            let (kind, label) = label_of(m.gid).unwrap_or((0, 0));
            hook(&Stall {
                goroutine: m.gid,
                kind,
                label,
                worker: m.id,
                tid: m.tid,
                held: now.duration_since(s.since),
                pinned_ready: m.inbox,
                in_kernel: matches!(crate::sys::thread::state(m.tid), Some('S' | 'D')),
            });
        }
        pending
    }
}

/// The kind and label of live goroutine `gid` (a scan of the records: only when reporting).
fn label_of(gid: u64) -> Option<(u8, usize)> {
    let mut out = None;
    crate::allg::for_each_live(|g| {
        if out.is_none() && g.id == gid {
            out = Some((g.info.kind.load(Acquire), g.info.label.load(Acquire)));
        }
    });
    out
}
