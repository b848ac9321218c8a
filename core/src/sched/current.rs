//! The current goroutine, as the rest of the core sees it: who runs here ([`with_current`],
//! [`CurrentG`]), parking and waking for the waiter ([`park_current`],
//! [`ready_after_wake`]), [`yield_now`], preemption points, [`pin`], and blocking sections
//! ([`blocking_begin`]/[`blocking_end`]).
//!
//! Every function reads the thread-local block afresh (`tls.rs`): a goroutine may resume on
//! another thread after any park.

use super::grace;
use super::runtime::{own_live, published, Runtime};
use super::spawn::Displace;
use super::state;
use super::tls;
use crate::error::{Error, Result};
use crate::goroutine::{GRef, Suspend, G};
use std::sync::atomic::Ordering::{Relaxed, Release};

/// A spawner that has queued more than this many goroutines on its processor yields at its
/// next spawn, so the queued ones run and their stacks are recycled while still hot. Without
/// it a spawn loop queues hundreds of thousands of goroutines, each needing a fresh stack
/// page (a page fault and a zeroed page apiece: measured 336k faults, more system time than
/// user time, for 1M spawns).
const SPAWN_BACKLOG: usize = 256;

/// A safe point: if a preemption is due ([`should_yield`]), yield now. Pinned goroutines are
/// never preempted here: they may hold thread-affine locks (an interpreter lock) that their
/// thread's next goroutine needs; their binding asks [`should_yield`] and yields itself once
/// it has let go of such locks.
#[inline]
pub(crate) fn maybe_preempt() {
    safe_point(true);
}

/// A safe point that yields only at the monitor's request, not for a long queue: for
/// operations that do not add to the queue (the `gr_fd_*` calls, `netpoll/ops.rs`). A
/// goroutine of a server with thousands of connections would otherwise yield at every call.
#[inline]
pub(crate) fn preempt_point() {
    safe_point(false);
}

#[inline]
fn safe_point(backlog: bool) {
    let l = tls::local(); // not kept: nothing below parks before `yield_now`
    let g = l.g.get();
    // SAFETY: the current goroutine is alive while it runs.
    if g.is_null() || unsafe { (*g).pinned.load(Relaxed) } != 0 {
        return;
    }
    if preemption_due(l, false, backlog) {
        yield_now();
    }
}

/// `gr_should_yield`: whether the calling goroutine should yield now: the monitor asked its
/// processor to be given up (it ran ~10 ms while others wait), or the processor's queue is
/// longer than `SPAWN_BACKLOG`. Clears the monitor's request (the caller is expected to
/// act on it). False outside goroutines. A bound goroutine gets only the second reason (its
/// thread yields, `yield_now`, which lets the goroutines it spawned take its interpreter lock).
pub fn should_yield() -> bool {
    preemption_due(tls::local(), true, true)
}

/// `backlog`: a queue longer than `SPAWN_BACKLOG` counts too.
fn preemption_due(l: &tls::Local, bound_too: bool, backlog: bool) -> bool {
    let (m, pi, g) = (l.m.get(), l.p.get(), l.g.get());
    if m.is_null() || pi == 0 || g.is_null() {
        return false;
    }
    // SAFETY: the current goroutine is alive while it runs.
    let bound = unsafe { (*g).bound };
    if bound && !bound_too {
        return false;
    }
    // SAFETY: an M lives as long as its runtime; this is its own thread.
    let p = unsafe { &(*m).rt.ps[pi - 1] };
    if bound {
        return backlog && p.backlog() > SPAWN_BACKLOG;
    }
    if p.preempt.load(Relaxed) || backlog && p.backlog() > SPAWN_BACKLOG {
        p.preempt.store(false, Relaxed);
        return true;
    }
    false
}

/// The running coroutine goroutine, without a reference count: held only by the token a
/// goroutine makes for its own wait (`waiter::prepare`). Such a token stays in the
/// goroutine's frame (whoever publishes it stores a clone, which takes a counted reference,
/// `to_arc`), or is borrowed by channel queue entries (`chan/waitq.rs`), which leave their
/// queue before the operation returns. A goroutine cannot finish while its frame, hence this
/// reference, exists; and a completer that reaches the goroutine through such a borrow does
/// so under a channel lock the owner takes again (or with a `done` flag it waits for) before
/// returning, so the goroutine is alive for it too.
pub(crate) struct CurrentG(std::ptr::NonNull<G>);

// SAFETY: `G` is shared between threads through `Arc` already (it is `Send + Sync`); the
// pointer is valid for as long as a `CurrentG` exists (see the type docs).
unsafe impl Send for CurrentG {}
// SAFETY: as above.
unsafe impl Sync for CurrentG {}

impl CurrentG {
    pub(crate) fn get(&self) -> &G {
        // SAFETY: valid while `self` exists (type docs).
        unsafe { self.0.as_ref() }
    }

    /// A counted reference, for a clone of the token that may outlive the wait.
    pub(crate) fn to_arc(&self) -> GRef {
        // SAFETY: the pointer came from the `GRef` the scheduler holds for the running
        // goroutine (`tls::g`), which is alive (type docs); we add one count for the result.
        unsafe {
            GRef::increment(self.0.as_ptr());
            GRef::from_raw(self.0.as_ptr())
        }
    }
}

/// The running coroutine goroutine (not a bound one), uncounted (see [`CurrentG`]).
pub(crate) fn current_coroutine_ref() -> Option<CurrentG> {
    let g = tls::g();
    // SAFETY: the current goroutine is alive while it runs.
    let r = unsafe { g.as_ref()? };
    (!r.bound).then(|| CurrentG(std::ptr::NonNull::from(r)))
}

/// The running goroutine (coroutine or bound), borrowed for the duration of `f`.
pub fn with_current<R>(f: impl FnOnce(Option<&G>) -> R) -> R {
    let g = tls::g();
    // SAFETY: the current goroutine outlives this call, which does not park.
    f(if g.is_null() { None } else { Some(unsafe { &*g }) })
}

/// Where the caller runs: 0 plain thread, 1 coroutine goroutine, 2 bound goroutine.
pub fn context() -> u32 {
    with_current(|g| match g {
        None => 0,
        Some(g) if g.bound => 2,
        Some(_) => 1,
    })
}

/// `gr_self`: the current goroutine's id, 0 outside goroutines.
pub fn self_id() -> u64 {
    with_current(|g| g.map_or(0, |g| g.id))
}

/// Suspends the current coroutine goroutine `g` (whose wait is open) until woken.
#[inline]
pub(crate) fn park_current(g: &G) {
    crate::loom::rank::Held::assert_none("parking a goroutine");
    // SAFETY: `g` is the running coroutine goroutine (made by `current_coroutine_ref` in this
    // context) and we are on its stack.
    unsafe { g.suspend(Suspend::Park) };
}

/// [`park_current`] for a goroutine whose wait can only be completed under `lock`, which it
/// holds and its M releases after marking it parked (`Suspend::ParkUnlock`). The lock's
/// rank record is already gone (`ChanGuard::hand_over`): the M takes no lock before it
/// releases this one.
#[inline(always)]
#[cfg_attr(loom, allow(dead_code))]
pub(crate) fn park_current_unlocking(g: &G, lock: crate::chan::HandedLock) {
    crate::loom::rank::Held::assert_none("parking a goroutine");
    // SAFETY: as in `park_current`.
    unsafe { g.suspend(Suspend::ParkUnlock(lock)) };
}

/// [`ready_after_wake`] for a caller that queues goroutines in batches (the poller), which
/// won `g`'s wait replacing the word `old`: the goroutine if it had switched away (the
/// caller now owns it and must queue it), `None` if its scheduler queues it instead.
pub(crate) fn take_woken(g: &G, old: u64) -> Option<GRef> {
    if state::woke_parked(&g.cell.state, old) {
        // SAFETY: as in `ready_after_wake`: we take back the reference the park leaked.
        Some(unsafe { GRef::from_raw(g as *const G) })
    } else {
        None
    }
}

/// A completer's context, read once for a batch of completions (a channel's queue): this
/// thread's block, and its runtime if it is an M of a live one. [`waker`] pins the calling
/// thread otherwise (`grace.rs`): a plain thread must be pinned before it reads a parked
/// goroutine's wait entry, which lies on that goroutine's stack. Nothing parks meanwhile.
pub(crate) struct Waker {
    l: &'static tls::Local,
    own: Option<&'static Runtime>,
    /// Not an M of a live runtime: the published runtime, found under the pin [`waker`]
    /// returns (so a wake queues there without a pin of its own: two locked instructions
    /// fewer per goroutine a plain thread wakes).
    published: Option<&'static Runtime>,
}

/// This thread's [`Waker`], and the pin to keep while its entries are used (`None` on an M
/// of a live runtime). The `Waker` must not outlive the pin.
#[inline]
pub(crate) fn waker() -> (Waker, Option<grace::Pin>) {
    let l = tls::local();
    let own = own_live(l);
    if own.is_some() {
        return (Waker { l, own, published: None }, None);
    }
    let pin = grace::pin();
    let published = super::runtime::published_pinned(&pin);
    (Waker { l, own, published }, Some(pin))
}

/// Called by the winner of a wait cell's completion that found the goroutine switched away
/// (`state::woke_parked`): queue it. `affine`: see [`Runtime::ready_in`].
#[inline]
pub(crate) fn ready_after_wake(g: &G, affine: bool) {
    // SAFETY: `commit_park` leaked exactly one reference with `GRef::into_raw` when the
    // goroutine parked; the single completer that replaced its `PARKED` (us) takes it back.
    let g = unsafe { GRef::from_raw(g as *const G) };
    let l = tls::local();
    requeue(l, own_live(l), g, affine);
}

/// [`ready_after_wake`] with the completer's context in hand.
#[inline]
pub(crate) fn ready_after_wake_in(w: &Waker, g: &G, affine: bool) {
    // SAFETY: as in `ready_after_wake`.
    let g = unsafe { GRef::from_raw(g as *const G) };
    if let (None, Some(rt)) = (w.own, w.published) {
        if rt.gen as u32 == g.gen {
            rt.ready_foreign(g); // (as `requeue_foreign`, under the waker's pin)
            return;
        }
    }
    requeue(w.l, w.own, g, affine);
}

/// Queues a woken goroutine in its own runtime: the caller's (an M of it), or the
/// published one if that is its runtime. A goroutine whose runtime is gone is never resumed:
/// it is leaked as it is (it may hold C frames).
#[inline]
fn requeue(l: &tls::Local, own: Option<&'static Runtime>, g: GRef, affine: bool) {
    if let Some(rt) = own {
        if rt.gen as u32 == g.gen {
            // A goroutine's wake of another: the goroutine it displaces from runnext stays
            // here unless stale (`proc.rs`, soft queue); scheduler code's wakes spread.
            let kick = if affine {
                Displace::Affine
            } else if !l.g.get().is_null() {
                Displace::Soft
            } else {
                Displace::Local
            };
            rt.ready_inline(l, g, true, kick);
            return;
        }
    }
    requeue_foreign(g);
}

#[cold]
#[inline(never)]
fn requeue_foreign(g: GRef) {
    if let Ok((rt, _pin)) = published(grace::pin(), false) {
        if rt.gen as u32 == g.gen {
            rt.ready_foreign(g);
            return;
        }
    }
    std::mem::forget(g);
}

/// `gr_yield`.
#[inline]
pub fn yield_now() {
    let g = tls::g();
    // SAFETY: the current goroutine is alive while it runs.
    if !g.is_null() && unsafe { !(*g).bound } {
        crate::loom::rank::Held::assert_none("yielding");
        // SAFETY: we run on this coroutine's own stack.
        unsafe { (*g).suspend(Suspend::Yield) };
    } else {
        std::thread::yield_now();
    }
}

/// `gr_blocking_begin`: hand this M's processor to another thread before a blocking call.
/// Returns whether the caller is goroutine code on an M (so `blocking_end` must follow).
pub fn blocking_begin() -> bool {
    let m = tls::m();
    if m.is_null() || tls::g().is_null() {
        return false;
    }
    // SAFETY: an M lives as long as its runtime; this is its own thread.
    let m = unsafe { &*m };
    if !m.in_blocking.swap(true, Relaxed) {
        m.rt.idle.nblocked.fetch_add(1, Relaxed); // step 6b holds no processor meanwhile
    }
    let pi = tls::p();
    if pi != 0 {
        tls::set_p(0);
        let p = &m.rt.ps[pi - 1];
        if p.leave(m) {
            m.rt.handoff_p(pi - 1);
        }
    }
    true
}

/// `gr_blocking_end`: take a processor back (waiting for one if all are busy). A no-op
/// outside goroutine code or when the processor is still held.
pub fn blocking_end() {
    let m = tls::m();
    if m.is_null() || tls::g().is_null() {
        return;
    }
    // SAFETY: as above.
    let m = unsafe { &*m };
    if m.in_blocking.swap(false, Relaxed) {
        m.rt.idle.nblocked.fetch_sub(1, Relaxed);
    }
    if tls::p() != 0 {
        return;
    }
    if let Some(pi) = m.rt.acquire_p_wait(m) {
        tls::set_p(pi + 1);
        let p = &m.rt.ps[pi];
        p.own(m);
        p.enter(m);
    }
    // else: shutting down; carry on without a processor (spawns go to the global queue).
}

/// `gr_pin`: the current goroutine resumes only on this OS thread from now on.
pub fn pin() -> Result<()> {
    let m = tls::m();
    with_current(|g| match g {
        Some(g) if !m.is_null() => {
            let old = g.pinned.swap(m as usize, Release);
            // SAFETY: an M lives as long as its runtime; this is its own thread.
            unsafe { (*m).note_pin(old) };
            Ok(())
        }
        _ => Err(Error::State),
    })
}

/// `gr_unpin`.
pub fn unpin() -> Result<()> {
    with_current(|g| match g {
        Some(g) => {
            let old = g.pinned.swap(0, Release);
            if old != 0 {
                // SAFETY: a pinned goroutine runs only on its M, which is this thread's, and
                // an M with pinned goroutines does not exit.
                unsafe { (*(old as *const super::worker::M)).note_unpin() };
            }
            Ok(())
        }
        None => Err(Error::State),
    })
}

/// `gr_goroutine_fail`: marks the current goroutine failed.
pub fn fail_current(msg: Option<std::ffi::CString>) -> Result<()> {
    with_current(|g| match g {
        Some(g) => {
            g.fail(msg);
            Ok(())
        }
        None => Err(Error::State),
    })
}

/// `gr_goroutine_label`: tags the current goroutine for dumps with a binding's kind
/// (`GR_KIND_*`) and label (its per-goroutine state, which the binding's dump hook gets).
pub fn label_current(kind: u8, label: usize) -> Result<()> {
    with_current(|g| match g {
        Some(g) => {
            g.info.label.store(label, Relaxed);
            g.info.kind.store(kind, Release);
            Ok(())
        }
        None => Err(Error::State),
    })
}
