//! Goroutines in and out of the run queues: [`spawn`] (a stack, an id, a queue slot),
//! [`Runtime::ready_in`] (a goroutine became runnable: a wake, a yield, a spawn), and the
//! processor a goroutine may use for a moment ([`with_held_in`], see `proc.rs`). A goroutine
//! that returned is retired by its M (`Runtime::retire`, `runtime.rs`).

use super::current::maybe_preempt;
use super::grace;
use super::proc::Held;
use super::runtime::{own_live, published, Runtime, CLOSED};
use super::tls;
use super::worker::M;
use crate::error::{Error, Result};
use crate::goroutine::{Entry, GRef, Origin, RunState, G};
use crate::stack::{GlobalPool, Stack};
use crossbeam_deque::Steal;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, SeqCst};

/// Where [`Runtime::ready_in`] puts the goroutine a `next` push displaces from runnext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Displace {
    /// The local queue, where any processor may steal it, and an idle processor is woken
    /// to: a spawn, a goroutine requeued by its own M, a wake from scheduler code.
    Local,
    /// The soft queue (`proc.rs`), stolen only when stale: a goroutine's wake of another.
    Soft,
    /// The affine queue, never stolen, no wake: a wake through a hot channel (`Chan`'s hot
    /// flag), whose partners only slow each other down when spread over several cores.
    Affine,
}

impl Runtime {
    /// Queues a goroutine that just became runnable. `next`: into the current processor's
    /// runnext slot (a goroutine woken by this one runs next here); otherwise at the back
    /// (a yield), where no other processor needs waking, as with Go's Gosched. `l`: this
    /// thread's block, which every caller has in hand (it is not kept: nothing here parks).
    /// `kick` (with `next`): where the goroutine displaced from runnext goes ([`Displace`]).
    #[inline(never)]
    pub(super) fn ready_in(&'static self, l: &tls::Local, g: GRef, next: bool, kick: Displace) {
        self.ready_inline(l, g, next, kick)
    }

    /// [`Runtime::ready_in`], inline: a wake (`current::requeue`) passes a constant `next`
    /// and saves the call's frame (~15 instructions of a channel hand-off's). (`ready_in`
    /// itself inline everywhere grew the M's loop: 1,560 -> 1,615 instructions a ping-pong
    /// round trip.)
    #[inline(always)]
    pub(super) fn ready_inline(&'static self, l: &tls::Local, g: GRef, next: bool, kick: Displace) {
        debug_assert_eq!(g.gen, self.gen as u32, "a goroutine is queued only in its own runtime");
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
            if !next {
                h.push(g);
                return true;
            }
            // A goroutine displaced into the soft queue wakes a spinner as stealable work
            // does: it watches the soft queue and steals it once stale (`proc.rs`,
            // `README.md` section 3, step 6).
            h.push_next_as(g, kick)
        });
        if let Some(g) = slot {
            self.global.push(g);
            self.wakep();
        } else if next && stealable == Some(true) {
            self.wakep_local();
        }
    }

    /// Queues a woken goroutine of this runtime from a thread that is not one of its Ms
    /// (which pins it: `grace.rs`): its M's inbox if pinned, else the global queue.
    pub(super) fn ready_foreign(&'static self, g: GRef) {
        let pin = g.pinned.load(Acquire);
        if pin != 0 {
            // SAFETY: as in `ready_in`.
            let m = unsafe { &*(pin as *const M) };
            m.push_inbox(self, g);
            return;
        }
        self.global.push(g);
        self.wakep();
    }

    #[inline(always)]
    fn take_stack(&'static self, l: &tls::Local, size: usize) -> Result<Stack> {
        if size == self.cfg.stack_size {
            if let Some(r) = with_held_in(l, |h| h.stacks().get(size, &self.stacks)) {
                return Ok(r?);
            }
        }
        Ok(self.stacks.get(size)?)
    }

    /// A spawn on this runtime, by one of its goroutines (`foreign` false: `l` is its M) or
    /// by a foreign thread that pins or holds it. Admission first: one RMW on `live` both checks that
    /// `gr_shutdown` has not closed the runtime and counts the goroutine, so shutdown either
    /// waits for it or it is refused (`State`); never both, never neither.
    /// A bound spawn comes with its thread slot taken, given back if the spawn fails.
    #[inline(always)]
    fn spawn_in(&'static self, l: &tls::Local, entry: Entry, opts: SpawnOpts, size: usize, foreign: bool) -> Result<GRef> {
        if self.live.fetch_add(1, AcqRel) & CLOSED != 0 {
            self.uncount(opts.bound);
            return Err(Error::State);
        }
        let stack = if opts.bound {
            None
        } else {
            match self.take_stack(l, size) {
                Ok(s) => Some(s),
                Err(e) => {
                    self.uncount(opts.bound);
                    return Err(e);
                }
            }
        };
        let id = self.next_gid.fetch_add(1, Relaxed);
        let g = match G::new(id, self.gen as u32, entry, stack, Origin { spawn_pc: opts.spawn_pc, parent: l.gid.get() }) {
            Ok(g) => g,
            Err(stack) => {
                // No goroutine record could be mapped (out of memory or of mappings).
                if let Some(s) = stack {
                    self.stacks.put_many([s]);
                }
                self.uncount(opts.bound);
                return Err(Error::NoMemory);
            }
        };
        if crate::sys::sanitizer::on() {
            g.spawned_told(!opts.bound);
        }
        if foreign {
            self.global.push(g.clone());
            if !self.wakep() && self.idle.npidle.load(SeqCst) == self.nprocs() && self.take_back(&g) {
                // No thread runs goroutines and none could be created: undo the spawn.
                // SAFETY: taken back from the queue, never run: ours alone.
                if let RunState::New(_, Some(s)) = std::mem::replace(unsafe { g.run_state() }, RunState::Gone) {
                    self.stacks.put_many([s]);
                }
                self.uncount(opts.bound);
                self.unspawned.fetch_add(1, Relaxed);
                return Err(Error::NoMemory);
            }
        } else if opts.local && !opts.bound {
            let mut slot = Some(g.clone());
            with_held_in(l, |h| h.push_affine(slot.take().expect("filled above")));
            if let Some(g) = slot {
                self.ready_in(l, g, true, Displace::Local); // not on a processor: an ordinary spawn
            }
        } else {
            self.ready_in(l, g.clone(), true, Displace::Local);
        }
        Ok(g)
    }

    /// Takes `g` back out of the global queue (others' goroutines go back in); `false` if
    /// an M took it meanwhile (then it runs).
    #[cold]
    fn take_back(&self, g: &GRef) -> bool {
        let mut others = Vec::new();
        let mut found = false;
        loop {
            match self.global.steal() {
                Steal::Success(x) if std::ptr::eq(&*x, &**g) => {
                    found = true;
                    break;
                }
                Steal::Success(x) => others.push(x),
                Steal::Empty => break,
                Steal::Retry => continue,
            }
        }
        for x in others {
            self.global.push(x);
        }
        found
    }

    pub(crate) fn give_stack(&'static self, s: Stack, held: Option<&Held<'_>>) {
        match held {
            Some(h) if s.size() == self.cfg.stack_size => h.stacks().put(s, &self.stacks),
            _ => self.stacks.put_many([s]),
        }
    }
}

/// Runs `f` on the calling M's processor in state HELD, leaving goroutine code when called
/// from goroutine code. `None` on a foreign thread, or when the processor was retaken. `l` is
/// this thread's block (`f` never parks, so the block may be used throughout).
#[inline(always)]
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
    if in_g && !p.leave(m) {
        l.p.set(0); // the monitor retook it; we find out here
        return None;
    }
    // SAFETY: we own `p` in state HELD (scheduler code holds it; goroutine code just left
    // goroutine code through the gate, `gate.rs`).
    let h = unsafe { Held::new(p) };
    let r = f(&h);
    if in_g {
        p.enter(m);
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
/// `Invalid` for a stack size above `crate::stack::STACK_MAX`; `State` without a live
/// runtime, once `gr_shutdown` began, or from a goroutine of a runtime that was shut down;
/// `NoMemory` without a stack, or when no thread runs goroutines and none can be created.
pub fn spawn(entry: Entry, opts: SpawnOpts) -> Result<GRef> {
    spawn_gen(entry, opts).map(|(g, _)| g)
}

/// [`spawn`], also returning the generation of the runtime the goroutine belongs to (for a
/// handle to it: `live_gen`).
pub fn spawn_gen(entry: Entry, opts: SpawnOpts) -> Result<(GRef, u64)> {
    let size = match opts.stack_size {
        0 => None,
        n => Some(GlobalPool::normalise(n).ok_or(Error::Invalid)?),
    };
    if opts.bound {
        return spawn_bound(entry, opts);
    }
    let l = tls::local(); // not kept past the spawn: nothing here parks
    if let Some(rt) = own_live(l) {
        let g = rt.spawn_in(l, entry, opts, size.unwrap_or(rt.cfg.stack_size), false)?;
        maybe_preempt();
        return Ok((g, rt.gen));
    }
    if !l.m.get().is_null() {
        return Err(Error::State); // a goroutine of a stopped runtime: it spawns no more
    }
    crate::waiter::register_thread(); // a plain thread that spawns is one the deadlock report watches
    let (rt, pin) = published(grace::pin(), true)?;
    if rt.backlog_full() {
        drop(pin); // never held across the wait: it would hold up reclaiming
        return spawn_backlogged(entry, opts, size);
    }
    Ok((rt.spawn_in(l, entry, opts, size.unwrap_or(rt.cfg.stack_size), true)?, rt.gen))
}

/// A plain thread's spawn that found the global queue full: back-pressure first
/// (`backlog.rs`), which may block, so with the runtime held (`held`), not pinned (a pin
/// held across a wait would hold up the reclaiming of every stopped runtime).
#[cold]
#[inline(never)]
fn spawn_backlogged(entry: Entry, opts: SpawnOpts, size: Option<usize>) -> Result<(GRef, u64)> {
    let held = super::runtime::held()?;
    let rt = held.rt();
    rt.backlog_wait(opts.nowait)?;
    Ok((rt.spawn_in(tls::local(), entry, opts, size.unwrap_or(rt.cfg.stack_size), true)?, rt.gen))
}

/// A bound goroutine's spawn: first a thread slot (`bound.rs`), which may wait up to
/// `opts.timeout_ns`. A plain thread that finds a free slot (and the global queue below its
/// limit: `backlog.rs`) spawns pinned, as an ordinary spawn does: no wait, so no hold on the
/// runtime (`holds` is one word that every plain thread's bound spawn would CAS and release,
/// two cache-line transfers on the path of a Java `go()`). Otherwise it waits without a grace
/// pin (a pin held across a wait would hold up the reclaiming of every stopped runtime): a
/// goroutine parks (its M holds the runtime), a plain thread blocks holding the runtime
/// (`held`). The slot goes back if the spawn is then refused (`spawn_in`).
#[inline(never)]
fn spawn_bound(entry: Entry, opts: SpawnOpts) -> Result<(GRef, u64)> {
    let l = tls::local();
    if l.m.get().is_null() {
        crate::waiter::register_thread(); // a plain thread that spawns is one the deadlock report watches
        let (rt, pin) = published(grace::pin(), true)?;
        if !rt.backlog_full() && rt.bound.try_take() {
            let g = rt.spawn_in(l, entry, opts, rt.cfg.stack_size, true)?;
            drop(pin);
            return Ok((g, rt.gen));
        }
        drop(pin);
    } else if own_live(l).is_none() {
        return Err(Error::State); // a goroutine of a stopped runtime: it spawns no more
    }
    spawn_bound_wait(entry, opts)
}

/// [`spawn_bound`] that may wait: for the global queue (a plain thread's back-pressure) or
/// for a thread slot, holding the runtime (`held`) on a plain thread.
#[cold]
#[inline(never)]
fn spawn_bound_wait(entry: Entry, opts: SpawnOpts) -> Result<(GRef, u64)> {
    let held = super::runtime::held()?;
    let rt = held.rt();
    let foreign = tls::local().m.get().is_null();
    if foreign {
        // Back-pressure (`backlog.rs`) on a plain thread first: a refused spawn holds no slot.
        rt.backlog_wait(opts.nowait)?;
    }
    // A free slot first; the deadline (a clock read for a relative timeout) only when every
    // slot is held and the spawn must wait for one.
    if !rt.bound.try_take() {
        rt.bound.acquire(crate::waiter::Deadline::from_timeout_ns(opts.timeout_ns))?;
    }
    let l = tls::local(); // afresh: the wait may have parked (and moved) a goroutine
    let g = rt.spawn_in(l, entry, opts, rt.cfg.stack_size, foreign)?;
    if !foreign {
        maybe_preempt();
    }
    Ok((g, rt.gen))
}
