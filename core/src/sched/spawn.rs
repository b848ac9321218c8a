//! Goroutines in and out of the run queues: [`spawn`] (a stack, an id, a queue slot),
//! [`Runtime::ready`] (a goroutine became runnable: a wake, a yield, a spawn), and the
//! processor a goroutine may use for a moment ([`with_held_in`], see `proc.rs`). A goroutine
//! that returned is retired by its M (`Runtime::retire`, `runtime.rs`).

use super::current::maybe_preempt;
use super::proc::Held;
use super::runtime::{runtime, Runtime};
use super::tls;
use super::worker::M;
use crate::error::Result;
use crate::goroutine::{Entry, GRef, Origin, G};
use crate::stack::{GlobalPool, Stack};
use std::sync::atomic::Ordering::{Acquire, Relaxed};

impl Runtime {
    /// Queues a goroutine that just became runnable. `next`: into the current processor's
    /// runnext slot (a goroutine woken by this one runs next here); otherwise at the back
    /// (a yield), where no other processor needs waking, as with Go's Gosched.
    pub(crate) fn ready(&'static self, g: GRef, next: bool) {
        self.ready_in(tls::local(), g, next, false)
    }

    /// [`Runtime::ready`] with this thread's block already in hand (it is not kept: nothing
    /// here parks). `affine` (with `next`): the goroutine displaced from runnext goes to the
    /// affine queue, not the stealable one, and no idle processor is woken: for a wake over a
    /// contended channel (`Chan`'s hot flag), whose partners only slow each other down when
    /// spread over several cores.
    pub(super) fn ready_in(&'static self, l: &tls::Local, g: GRef, next: bool, affine: bool) {
        let pin = g.pinned.load(Acquire);
        if pin != 0 {
            // SAFETY: Ms are never freed while their runtime lives; `pinned` holds one of ours.
            let m = unsafe { &*(pin as *const M) };
            m.push_inbox(self, g);
            return;
        }
        let mut slot = Some(g);
        let stealable = with_held_in(l, |h| {
            let g = slot.take().expect("filled above");
            if next && affine {
                h.push_next_affine(g);
                false
            } else if next {
                h.push_next(g)
            } else {
                h.push(g);
                true
            }
        });
        if let Some(g) = slot {
            self.global.push(g);
            self.wakep();
        } else if next && stealable == Some(true) {
            self.wakep_local();
        }
    }

    fn take_stack(&'static self, l: &tls::Local, size: usize) -> Result<Stack> {
        if size == self.cfg.stack_size {
            if let Some(r) = with_held_in(l, |h| h.stacks().get(size, &self.stacks)) {
                return Ok(r?);
            }
        }
        Ok(self.stacks.get(size)?)
    }

    pub(crate) fn give_stack(&'static self, s: Stack, held: Option<&Held<'_>>) {
        match held {
            Some(h) if s.size() == self.cfg.stack_size => h.stacks().put(s, &self.stacks),
            _ => self.stacks.put_many([s]),
        }
    }
}

/// Runs `f` on the calling M's processor in state HELD, entering it from RUNNING when called
/// from goroutine code; `l` is this thread's block, already in hand (`f` never parks, so the
/// block may be used throughout). `None` on a foreign thread, or when the processor was
/// retaken.
#[inline]
pub(crate) fn with_held_in<R>(l: &tls::Local, f: impl FnOnce(&Held<'_>) -> R) -> Option<R> {
    let m = l.m.get();
    let pi = l.p.get();
    if m.is_null() || pi == 0 {
        return None;
    }
    // SAFETY: an M lives as long as its runtime, and this is that M's own thread.
    let m = unsafe { &*m };
    let p = &m.rt.ps[pi - 1];
    let in_g = !l.g.get().is_null();
    if in_g && !p.try_hold() {
        l.p.set(0); // the monitor retook it; we find out here
        return None;
    }
    // SAFETY: we own `p` in state HELD (scheduler code holds it; goroutine code just CASed).
    let h = unsafe { Held::new(p) };
    let r = f(&h);
    if in_g {
        p.set_running();
    }
    Some(r)
}

/// Spawn options (the ABI's `gr_spawn_opts`, resolved).
#[derive(Debug, Clone, Copy, Default)]
pub struct SpawnOpts {
    /// Run on a worker's own OS stack (never a coroutine stack).
    pub bound: bool,
    /// Stack bytes; 0 = the runtime's default.
    pub stack_size: usize,
    /// Queue on the spawner's processor, where no other processor steals it (it still moves
    /// with the processor). Affects the first run only; no effect from a plain thread.
    pub local: bool,
    /// Where the spawn was called from (the return address into the caller of `gr_spawn`),
    /// for dumps; 0 if unknown.
    pub spawn_pc: usize,
    /// With `bound`: how long to wait for a thread slot when bound goroutines hold them all
    /// (`bound.rs`), as the ABI's timeouts: < 0 forever, 0 poll (`Again`), > 0 relative.
    pub timeout_ns: i64,
    /// A plain thread's spawn that finds the global queue full fails with `Again` (nothing
    /// spawned) instead of waiting for the workers to run it down (`backlog.rs`). No effect
    /// in a goroutine, whose spawns never wait.
    pub nowait: bool,
}

/// Starts a goroutine. The returned reference is for a handle; dropping it detaches.
pub fn spawn(entry: Entry, opts: SpawnOpts) -> Result<GRef> {
    let rt = runtime()?;
    if opts.bound {
        // Back-pressure (`backlog.rs`) on a plain thread first: a refused spawn holds no slot.
        if tls::local().m.get().is_null() {
            rt.backlog_wait(opts.nowait)?;
        }
        // May park (all slots taken), so before the thread block is read below.
        rt.bound.acquire(crate::waiter::Deadline::from_timeout_ns(opts.timeout_ns))?;
    }
    let l = tls::local(); // not kept past this function's last runtime call (nothing here parks)
    if !opts.bound && l.m.get().is_null() {
        rt.backlog_wait(opts.nowait)?; // a plain thread: back-pressure (`backlog.rs`)
    }
    let size = if opts.stack_size == 0 { rt.cfg.stack_size } else { GlobalPool::normalise(opts.stack_size) };
    let stack = if opts.bound { None } else { Some(rt.take_stack(l, size)?) };
    let id = rt.next_gid.fetch_add(1, Relaxed);
    let parent = l.gid.get();
    if parent == 0 && l.m.get().is_null() {
        crate::waiter::register_thread(); // a plain thread that spawns is one the deadlock report watches
    }
    let g = G::new(id, entry, stack, Origin { spawn_pc: opts.spawn_pc, parent });
    if crate::sys::sanitizer::on() {
        g.spawned_told(!opts.bound);
    }
    rt.live.fetch_add(1, Relaxed);
    rt.spawned.fetch_add(1, Relaxed);
    if opts.local && !opts.bound {
        let mut slot = Some(g.clone());
        with_held_in(l, |h| h.push_affine(slot.take().expect("filled above")));
        if let Some(g) = slot {
            rt.ready_in(l, g, true, false); // not on a processor: an ordinary spawn
        }
    } else {
        rt.ready_in(l, g.clone(), true, false);
    }
    maybe_preempt();
    Ok(g)
}
