//! Goroutine dumps (`gr_dump`), the counts `gr_stats` adds by state and wait reason, and
//! the input of the deadlock report: a picture of every live goroutine, thread and worker.
//!
//! How it is taken (no stop-the-world):
//! 1. The scheduler's picture (`sched::inspect`): which goroutine each worker runs, the
//!    queues; the timer heap's open waits (deadlines); the threads' waits (`waiter::threads`).
//! 2. Every live goroutine record (`allg::for_each_live`, type-stable memory, so nothing is
//!    registered at spawn). A parked one is held (`sched/state.rs`: `HELD`)
//!    for the few microseconds it takes to read its wait and walk its stack
//!    (`unwind.rs`), then put back; a waker meanwhile waits for it. Nothing else is locked
//!    while a goroutine is held. Running and runnable goroutines are reported without a
//!    stack (their stacks are changing), as Go does for goroutines on other threads.
//! 3. Symbolising (`symbols.rs`) and formatting (`format.rs`) happen after, with nothing
//!    held: `held_us` in the report is the sum of the holds.
//!
//! What a dump cannot see: goroutines spawned or ended while it runs may be missed or
//! shown ended; states are read one goroutine at a time, not at one instant.

pub(crate) mod debugger;
mod format;
pub(crate) mod symbols;
pub mod traceback;
pub mod unwind;

pub use format::{write, Format};

use crate::allg::for_each_live;
use crate::goroutine::{RunState, G};
use crate::sched::inspect::{self, SchedView};
use crate::sched::state;
use crate::waiter::{self, ThreadWait};
use crate::waitreason::{kind, ms_of, now_ms, WaitReason};
use std::collections::HashMap;
use std::sync::atomic::Ordering::{Acquire, Relaxed};
use std::sync::Arc;
use std::time::Instant;

/// A goroutine's state in a dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GState {
    /// On a worker (or the goroutine taking the dump).
    Running,
    /// Queued, or between a wake and its next run.
    Runnable,
    /// Parked in a wait (a thread-bound goroutine: its thread sleeps in one).
    Parked,
    /// Parked in `gr_sleep`.
    Sleeping,
    /// In foreign code outside the scheduler: `gr_blocking_begin`, or a call the monitor
    /// took its processor from.
    Blocking,
}

impl GState {
    pub fn name(self) -> &'static str {
        match self {
            GState::Running => "running",
            GState::Runnable => "runnable",
            GState::Parked => "parked",
            GState::Sleeping => "sleeping",
            GState::Blocking => "blocking",
        }
    }
}

/// One goroutine.
#[derive(Debug, Clone)]
pub struct GLine {
    pub id: u64,
    /// `GR_KIND_*` (0 C, 1 Python, 2 Java, ...).
    pub kind: u8,
    pub label: usize,
    pub bound: bool,
    /// The worker it is pinned to (`gr_pin`).
    pub pinned: Option<usize>,
    /// The worker running it.
    pub worker: Option<usize>,
    pub state: GState,
    /// Its wait, while parked.
    pub wait: Option<WaitReason>,
    /// How long it has waited (ms), while parked.
    pub wait_ms: Option<u64>,
    /// When its wait times out (ms from now; 0 = due), while parked with a timeout.
    pub timeout_ms: Option<u64>,
    /// A parked select's cases: (send?, channel address; 0 for a nil channel).
    pub select: Vec<(bool, usize)>,
    /// The cancel token its wait registered on (address), or 0.
    pub cancel: usize,
    pub entry: usize,
    pub spawn_pc: usize,
    pub parent: u64,
    /// Native frames (the first is where it stopped, the rest return addresses).
    pub frames: Vec<usize>,
    pub truncated: bool,
    /// The binding's frames (a Python traceback), from the dump's hook.
    pub lang: Option<String>,
    /// This is the goroutine that takes the dump.
    pub current: bool,
}

/// One thread that uses gr (plain threads, and workers running thread-bound goroutines).
#[derive(Debug, Clone)]
pub struct ThreadLine {
    pub tid: i32,
    pub worker: bool,
    /// The bound goroutine it runs, or 0.
    pub gid: u64,
    /// `waiter::RUNNING`, `TIMED` or `FOREVER`.
    pub blocked: u8,
    pub wait: WaitReason,
    pub wait_ms: u64,
    pub timeout_ms: Option<u64>,
}

/// Counts by state and wait reason (`gr_stats`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    pub running: u64,
    pub runnable: u64,
    pub parked: u64,
    pub sleeping: u64,
    pub blocking: u64,
    /// Parked goroutines (and bound ones whose thread waits) by `waitreason::kind`.
    pub waiting: [u64; kind::MAX],
}

/// A whole dump.
pub struct Snapshot {
    /// Milliseconds since the Unix epoch.
    pub unix_ms: u64,
    pub pid: u32,
    pub stats: crate::sched::Stats,
    pub counts: Counts,
    pub timers: usize,
    pub sched: SchedView,
    pub goroutines: Vec<GLine>,
    pub threads: Vec<ThreadLine>,
    pub(crate) modules: Vec<crate::sys::modules::Module>,
    /// Time goroutines were held, in sum (µs), and the whole collection (µs).
    pub held_us: u64,
    pub collect_us: u64,
    /// Show gr's own frames (the top of every parked stack) too.
    pub all_frames: bool,
}

/// A binding's hook: the frames of its language for a goroutine it labelled
/// (`gid`, kind, label), or `None`. Called while that goroutine is held or is the caller.
pub type LangHook<'a> = &'a mut dyn FnMut(u64, u8, usize) -> Option<String>;

/// Takes a dump. `None` without a running runtime.
pub fn snapshot(hook: Option<LangHook<'_>>, all_frames: bool) -> Option<Snapshot> {
    let t0 = Instant::now();
    let sched = inspect::view()?;
    let stats = crate::sched::stats().ok()?;
    let now = now_ms();
    let timers: HashMap<(usize, u32), u64> = crate::sched::with_runtime_if_started(|rt| rt.timers.pending())
        .unwrap_or_default()
        .into_iter()
        .map(|(c, s, at)| ((c, s), ms_of(at)))
        .collect();
    // Only the live runtime's goroutines: those of a runtime shut down are never resumed,
    // and its stacks may be unmapped (`sched/README.md`, "Lifecycle").
    let gen = crate::sched::live_gen() as u32;
    let threads = waiter::threads();
    let by_gid: HashMap<u64, Arc<ThreadWait>> =
        threads.iter().filter(|t| t.gid() != 0 && t.blocked() != waiter::RUNNING).map(|t| (t.gid(), t.clone())).collect();
    let mut walker = unwind::Walker::new();
    let chunks = crate::stack::Chunks::now();
    let me = crate::sched::self_id();
    let mut hook = hook;
    let mut held_ns = 0u128;
    let mut lines = Vec::new();
    let mut counts = Counts::default();
    for_each_live(|g| {
        if g.is_done() || g.gen != gen {
            return; // ended: kept only by a handle; or of a runtime shut down
        }
        let info = g.info();
        let mut l = GLine {
            id: g.id,
            kind: info.kind.load(Relaxed),
            label: info.label.load(Relaxed),
            bound: g.bound,
            pinned: inspect::pinned_to(&g),
            worker: None,
            state: GState::Runnable,
            wait: None,
            wait_ms: None,
            timeout_ms: None,
            select: Vec::new(),
            cancel: 0,
            entry: info.entry,
            spawn_pc: info.spawn_pc,
            parent: info.parent,
            frames: Vec::new(),
            truncated: false,
            lang: None,
            current: g.id == me,
        };
        let lang = |l: &mut GLine, hook: &mut Option<LangHook<'_>>| {
            if l.kind != 0 {
                if let Some(h) = hook.as_mut() {
                    l.lang = h(l.id, l.kind, l.label);
                }
            }
        };
        if l.current {
            l.state = GState::Running;
            l.worker = sched.running(g.id).map(|m| m.id);
            if !g.bound {
                if let Some((lo, hi)) = chunks.bounds_of(&l as *const GLine as usize) {
                    (l.frames, l.truncated) = walker.here(lo, hi);
                }
            }
            lang(&mut l, &mut hook);
        } else if let Some(m) = sched.running(g.id) {
            l.worker = Some(m.id);
            l.state = if m.p.is_some() { GState::Running } else { GState::Blocking };
            if let Some(t) = by_gid.get(&g.id) {
                thread_wait(&mut l, t, now);
                lang(&mut l, &mut hook);
            }
        } else if state::hold_for_dump(&g.cell.state) {
            let h0 = Instant::now();
            {
                // Pinned (`sched/grace.rs`), its runtime still live: its stack stays mapped.
                let _pin = crate::sched::grace_pin();
                if crate::sched::live_gen() as u32 == gen {
                    held(&mut l, &g, &timers, &chunks, &mut walker, now);
                }
            }
            lang(&mut l, &mut hook);
            state::release_from_dump(&g.cell.state);
            held_ns += h0.elapsed().as_nanos();
        }
        count(&mut counts, &l);
        lines.push(l);
    });
    lines.sort_by_key(|l| l.id);
    let threads = threads
        .iter()
        .filter(|t| !t.is_m || t.blocked() != waiter::RUNNING)
        .map(|t| {
            let (since, deadline) = t.since_deadline();
            let blocked = t.blocked();
            ThreadLine {
                tid: t.tid,
                worker: t.is_m,
                gid: t.gid(),
                blocked,
                wait: t.reason(),
                wait_ms: now.saturating_sub(since),
                timeout_ms: (blocked == waiter::TIMED && deadline != 0).then(|| deadline.saturating_sub(now)),
            }
        })
        .collect();
    Some(Snapshot {
        unix_ms: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64),
        pid: std::process::id(),
        stats,
        counts,
        timers: timers.len(),
        sched,
        goroutines: lines,
        threads,
        modules: walker.modules.clone(),
        held_us: (held_ns / 1000) as u64,
        collect_us: t0.elapsed().as_micros() as u64,
        all_frames,
    })
}

/// A bound goroutine whose thread sleeps in a gr wait.
fn thread_wait(l: &mut GLine, t: &ThreadWait, now: u64) {
    let (since, deadline) = t.since_deadline();
    let r = t.reason();
    l.state = if r.kind() == kind::SLEEP { GState::Sleeping } else { GState::Parked };
    l.wait = Some(r);
    l.wait_ms = Some(now.saturating_sub(since));
    l.timeout_ms = (t.blocked() == waiter::TIMED && deadline != 0).then(|| deadline.saturating_sub(now));
}

/// Reads a goroutine this dump holds parked: its wait and its stack.
fn held(l: &mut GLine, g: &G, timers: &HashMap<(usize, u32), u64>, chunks: &crate::stack::Chunks, walker: &mut unwind::Walker, now: u64) {
    let info = g.info();
    let r = WaitReason(info.wait.load(Relaxed));
    l.state = if r.kind() == kind::SLEEP { GState::Sleeping } else { GState::Parked };
    l.wait = Some(r);
    l.wait_ms = Some(now.saturating_sub(info.since.load(Relaxed)));
    l.cancel = info.cancel.load(Relaxed);
    let (seq, _) = g.cell.seq_pending();
    l.timeout_ms = timers.get(&(&g.cell as *const _ as usize, seq)).map(|&d| d.saturating_sub(now));
    if r.kind() == kind::SELECT {
        let (p, n) = r.select_cases();
        // SAFETY: the goroutine is held parked inside `select`, whose `cases` argument (a
        // slice of `n` cases at `p`, `n` capped at 255 below its length) stays alive and
        // unchanged until it returns, which it cannot do while held.
        let cases = unsafe { std::slice::from_raw_parts(p as *const crate::chan::Case<'_>, n) };
        l.select = cases.iter().map(|c| (c.op == crate::chan::Op::Send, c.chan.map_or(0, |c| c as *const _ as usize))).collect();
    }
    // SAFETY: held (`HELD`): no M runs or resumes the goroutine, so we may read its run
    // state as its owner would.
    let run = unsafe { g.run_state() };
    if let RunState::Started(c) = run {
        let sp = c.saved_sp();
        if sp != 0 {
            if let Some((lo, hi)) = chunks.bounds_of(sp) {
                // SAFETY: its stack, which nobody writes while it is held.
                (l.frames, l.truncated) = unsafe { walker.suspended(sp, lo, hi) };
            }
        }
    }
}

fn count(c: &mut Counts, l: &GLine) {
    match l.state {
        GState::Running => c.running += 1,
        GState::Runnable => c.runnable += 1,
        GState::Parked => c.parked += 1,
        GState::Sleeping => c.sleeping += 1,
        GState::Blocking => c.blocking += 1,
    }
    if let Some(r) = l.wait {
        c.waiting[(r.kind() as usize).min(kind::MAX - 1)] += 1;
    }
}

/// Counts by state and reason without holding any goroutine or walking stacks (for
/// `gr_stats`): O(goroutines), ~10 ns each.
pub fn counts() -> Counts {
    let mut c = Counts::default();
    let Some(sched) = inspect::view() else { return c };
    let threads: HashMap<u64, Arc<ThreadWait>> =
        waiter::threads().into_iter().filter(|t| t.gid() != 0 && t.blocked() != waiter::RUNNING).map(|t| (t.gid(), t)).collect();
    let me = crate::sched::self_id();
    let gen = crate::sched::live_gen() as u32;
    for_each_live(|g| {
        if g.is_done() || g.gen != gen {
            return;
        }
        let parked = state::is_parked(g.cell.state.load(Acquire));
        let r = WaitReason(g.info().wait.load(Relaxed));
        let (st, wait) = if g.id == me {
            (GState::Running, None)
        } else if let Some(m) = sched.running(g.id) {
            match threads.get(&g.id) {
                Some(t) => (if t.reason().kind() == kind::SLEEP { GState::Sleeping } else { GState::Parked }, Some(t.reason())),
                None if m.p.is_some() => (GState::Running, None),
                None => (GState::Blocking, None),
            }
        } else if parked {
            (if r.kind() == kind::SLEEP { GState::Sleeping } else { GState::Parked }, Some(r))
        } else {
            (GState::Runnable, None)
        };
        match st {
            GState::Running => c.running += 1,
            GState::Runnable => c.runnable += 1,
            GState::Parked => c.parked += 1,
            GState::Sleeping => c.sleeping += 1,
            GState::Blocking => c.blocking += 1,
        }
        if let Some(r) = wait {
            c.waiting[(r.kind() as usize).min(kind::MAX - 1)] += 1;
        }
    });
    c
}

/// Queue lengths, timers and threads by role (`gr_stats`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Details {
    pub runq_global: u64,
    pub runq_local: u64,
    pub runq_pinned: u64,
    pub timers: u64,
    pub threads_running: u64,
    pub threads_idle: u64,
    pub threads_blocking: u64,
    pub plain_threads: u64,
    pub plain_waiting: u64,
}

pub fn details() -> Details {
    let mut d = Details::default();
    let Some(v) = inspect::view() else { return d };
    d.runq_global = v.global as u64;
    d.runq_local = v.ps.iter().map(|p| (p.runq + p.affine + p.runnext as usize) as u64).sum();
    d.runq_pinned = v.ms.iter().map(|m| m.inbox as u64).sum();
    d.timers = crate::sched::with_runtime_if_started(|rt| rt.timers.pending().len() as u64).unwrap_or(0);
    for m in &v.ms {
        match (m.p, m.gid, m.idle) {
            (Some(_), _, _) => d.threads_running += 1,
            (None, 0, true) => d.threads_idle += 1,
            (None, g, _) if g != 0 => d.threads_blocking += 1,
            _ => {}
        }
    }
    for t in waiter::threads().iter().filter(|t| !t.is_m) {
        d.plain_threads += 1;
        if t.blocked() != waiter::RUNNING {
            d.plain_waiting += 1;
        }
    }
    d
}
