//! The scheduler: Go's G/M/P model. See `README.md` beside this file for the protocols.
//!
//! - `proc.rs`: P, a processor and its local queue (ownership table).
//! - `worker.rs`: M, an OS thread, and its loop (finding work, running goroutines).
//! - `idle.rs`: idle processors and threads, spinning, hand-offs (the no-lost-wakeup rules).
//! - `monitor.rs`: the monitor thread (hogs, timers).
//! - `state.rs`: the park/unpark handshake; `parker.rs`: futex parking; `tls.rs`: the one
//!   thread-local.
//!
//! There is one `Runtime` per process at a time, reached through [`runtime`]. It is never
//! freed: goroutines leaked at shutdown (parked with C frames) may still point into it.
//!
//! Lock order (outer first): `Runtime::idle.lists` -> `M::inbox`; `G::join`, `Cancel::inner`
//! and the timer heap are leaves and nothing is completed or woken while holding them.

pub mod idle;
pub mod monitor;
pub mod parker;
pub mod proc;
pub mod state;
pub(crate) mod tls;
pub mod worker;

use crate::error::{Error, Result};
use crate::goroutine::{Entry, GRef, Suspend, G};
use crate::loom::{AtomicU64, AtomicU8, AtomicUsize};
use crate::stack::{GlobalPool, Stack};
use crate::timer::Timers;
use crossbeam_deque::Injector;
use proc::{Held, P};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release, SeqCst};
use std::sync::atomic::AtomicPtr;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;
use worker::M;

/// Runtime configuration (the ABI's `gr_config`, resolved).
#[derive(Debug, Clone)]
pub struct Config {
    /// Processors; 0 = `$GR_WORKERS`, else the CPU count.
    pub workers: usize,
    /// Default goroutine stack bytes; 0 = 256 KiB.
    pub stack_size: usize,
    /// Cap on the OS threads the runtime owns (workers, spares, the monitor); 0 = 10,000.
    /// Raised to at least `workers + 2`.
    pub max_threads: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config { workers: 0, stack_size: 0, max_threads: 0 }
    }
}

pub const DEFAULT_STACK: usize = 256 << 10;
pub const DEFAULT_MAX_THREADS: usize = 10_000;

impl Config {
    fn resolve(mut self) -> Config {
        if self.workers == 0 {
            self.workers = std::env::var("GR_WORKERS")
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .filter(|&n| n > 0)
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        }
        self.workers = self.workers.min(1024);
        self.stack_size = GlobalPool::normalise(if self.stack_size == 0 { DEFAULT_STACK } else { self.stack_size });
        if self.max_threads == 0 {
            self.max_threads = DEFAULT_MAX_THREADS;
        }
        // Every processor needs a thread, plus the monitor, plus one spare for a hand-off.
        self.max_threads = self.max_threads.max(self.workers + 2);
        self
    }
}

const LIVE: u8 = 0;
const STOPPED: u8 = 1;

pub struct Runtime {
    pub cfg: Config,
    pub(crate) ps: Box<[P]>,
    pub(crate) global: Injector<GRef>,
    pub(crate) idle: idle::Idle,
    pub(crate) ms: Mutex<Vec<(Arc<M>, Option<std::thread::JoinHandle<()>>)>>,
    pub(crate) nthreads: AtomicUsize,
    pub(crate) timers: Timers,
    pub(crate) monitor_deep: std::sync::atomic::AtomicBool,
    monitor_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    pub(crate) stacks: GlobalPool,
    state: AtomicU8,
    next_gid: AtomicU64,
    pub(crate) live: AtomicU64,
    spawned: AtomicU64,
    pub(crate) steals: AtomicU64,
    pub(crate) retakes: AtomicU64,
    /// A coarse clock: the monitor's loop count (one per ~2 ms while any processor runs).
    pub(crate) coarse: AtomicU64,
    drained: (Mutex<()>, Condvar),
}

/// A snapshot for `gr_stats_get`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    pub workers: u32,
    pub goroutines: u64,
    pub threads: u64,
    pub spawned_total: u64,
    pub steals_total: u64,
    pub retakes_total: u64,
}

static RT: AtomicPtr<Runtime> = AtomicPtr::new(std::ptr::null_mut());
static INIT_LOCK: Mutex<()> = Mutex::new(());
/// Set in a fork()ed child: the runtime's threads did not survive; everything is refused
/// until `init` is called again.
static FORKED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Why the runtime is unusable now (for `gr_strerror`-style messages).
pub fn state_reason() -> &'static str {
    if FORKED.load(Relaxed) {
        "gr: this is a fork()ed child: the runtime's threads did not survive fork; call gr_init again"
    } else {
        "gr: the runtime is shut down (or not in the state this call needs)"
    }
}

/// The runtime, starting one with defaults on first use.
#[inline]
pub fn runtime() -> Result<&'static Runtime> {
    let p = RT.load(Acquire);
    if !p.is_null() {
        // SAFETY: runtimes are leaked, never freed, once published.
        let rt = unsafe { &*p };
        if rt.state.load(Acquire) == LIVE && !FORKED.load(Relaxed) {
            return Ok(rt);
        }
        return Err(Error::State);
    }
    runtime_start()
}

#[cold]
#[inline(never)]
fn runtime_start() -> Result<&'static Runtime> {
    if FORKED.load(Relaxed) {
        return Err(Error::State);
    }
    start(Config::default(), false)
}

/// The runtime if it is running, without starting one.
pub fn runtime_if_started() -> Option<&'static Runtime> {
    let p = RT.load(Acquire);
    if p.is_null() || FORKED.load(Relaxed) {
        return None;
    }
    // SAFETY: as in `runtime`.
    let rt = unsafe { &*p };
    (rt.state.load(Acquire) == LIVE).then_some(rt)
}

/// `gr_init`: starts the runtime with `cfg`. `State` if one is running already.
pub fn init(cfg: Config) -> Result<()> {
    start(cfg, true).map(|_| ())
}

fn start(cfg: Config, explicit: bool) -> Result<&'static Runtime> {
    let _g = INIT_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let forked = FORKED.load(Relaxed);
    let cur = RT.load(Acquire);
    if !cur.is_null() && !forked {
        // SAFETY: as in `runtime`.
        let rt = unsafe { &*cur };
        if rt.state.load(Acquire) == LIVE {
            return if explicit { Err(Error::State) } else { Ok(rt) };
        }
        if !explicit {
            return Err(Error::State); // shut down: only an explicit gr_init restarts
        }
    }
    if forked && !explicit {
        return Err(Error::State);
    }
    crate::overflow::install();
    install_atfork();
    let cfg = cfg.resolve();
    let rt: &'static Runtime = Box::leak(Box::new(Runtime {
        ps: (0..cfg.workers).map(P::new).collect(),
        global: Injector::new(),
        idle: idle::Idle::new(cfg.workers),
        ms: Mutex::new(Vec::new()),
        nthreads: AtomicUsize::new(0),
        timers: Timers::default(),
        monitor_deep: std::sync::atomic::AtomicBool::new(false),
        monitor_thread: Mutex::new(None),
        stacks: GlobalPool::default(),
        state: AtomicU8::new(LIVE),
        next_gid: AtomicU64::new(1),
        live: AtomicU64::new(0),
        spawned: AtomicU64::new(0),
        steals: AtomicU64::new(0),
        retakes: AtomicU64::new(0),
        coarse: AtomicU64::new(1),
        drained: (Mutex::new(()), Condvar::new()),
        cfg,
    }));
    let h = std::thread::Builder::new()
        .name("gr-monitor".into())
        .spawn(move || monitor::run(rt))
        .map_err(|_| Error::NoMemory)?;
    *rt.monitor_thread.lock().unwrap_or_else(|p| p.into_inner()) = Some(h);
    RT.store(rt as *const Runtime as *mut Runtime, Release);
    FORKED.store(false, Relaxed);
    Ok(rt)
}

fn install_atfork() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    extern "C" fn child() {
        FORKED.store(true, Relaxed);
    }
    ONCE.call_once(|| {
        crate::sys::thread::at_fork_child(child); // it only stores to an atomic

    });
}

impl Runtime {
    pub fn stopping(&self) -> bool {
        self.state.load(Acquire) != LIVE
    }

    pub fn nprocs(&self) -> usize {
        self.ps.len()
    }

    pub fn stats(&self) -> Stats {
        Stats {
            workers: self.ps.len() as u32,
            goroutines: self.live.load(Relaxed),
            threads: self.nthreads.load(Relaxed) as u64 + 1,
            spawned_total: self.spawned.load(Relaxed),
            steals_total: self.steals.load(Relaxed),
            retakes_total: self.retakes.load(Relaxed),
        }
    }

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
    fn ready_in(&'static self, l: &tls::Local, g: GRef, next: bool, affine: bool) {
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

    fn take_stack(&'static self, size: usize) -> Result<Stack> {
        if size == self.cfg.stack_size {
            if let Some(r) = with_held(|h| h.stacks().get(size, &self.stacks)) {
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

    /// A goroutine ended (called by its M after it returned).
    pub(crate) fn retire(&self, g: &G) {
        g.finish();
        if self.live.fetch_sub(1, AcqRel) == 1 {
            let _l = self.drained.0.lock().unwrap_or_else(|p| p.into_inner());
            self.drained.1.notify_all();
        }
    }
}

/// Runs `f` on the calling M's processor in state HELD, entering it from RUNNING when called
/// from goroutine code. `None` on a foreign thread, or when the processor was retaken.
pub(crate) fn with_held<R>(f: impl FnOnce(&Held<'_>) -> R) -> Option<R> {
    with_held_in(tls::local(), f)
}

/// [`with_held`] with this thread's block already in hand (`f` never parks, so the block may
/// be used throughout).
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
}

/// Starts a goroutine. The returned reference is for a handle; dropping it detaches.
pub fn spawn(entry: Entry, opts: SpawnOpts) -> Result<GRef> {
    let rt = runtime()?;
    let size = if opts.stack_size == 0 { rt.cfg.stack_size } else { GlobalPool::normalise(opts.stack_size) };
    let stack = if opts.bound { None } else { Some(rt.take_stack(size)?) };
    let id = rt.next_gid.fetch_add(1, Relaxed);
    let g = G::new(id, entry, stack);
    rt.live.fetch_add(1, Relaxed);
    rt.spawned.fetch_add(1, Relaxed);
    if opts.local && !opts.bound {
        let mut slot = Some(g.clone());
        with_held(|h| h.push_affine(slot.take().expect("filled above")));
        if let Some(g) = slot {
            rt.ready(g, true); // not on a processor: an ordinary spawn
        }
    } else {
        rt.ready(g.clone(), true);
    }
    maybe_preempt();
    Ok(g)
}

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
pub(crate) fn maybe_preempt() {
    let l = tls::local(); // not kept: nothing below parks before `yield_now`
    let g = l.g.get();
    // SAFETY: the current goroutine is alive while it runs.
    if g.is_null() || unsafe { (*g).pinned.load(Relaxed) } != 0 {
        return;
    }
    if preemption_due(l) {
        yield_now();
    }
}

/// `gr_should_yield`: whether the calling goroutine should yield now: the monitor asked its
/// processor to be given up (it ran ~10 ms while others wait), or the processor's queue is
/// longer than `SPAWN_BACKLOG`. Clears the monitor's request (the caller is expected to
/// act on it). False outside goroutines and for bound goroutines.
pub fn should_yield() -> bool {
    preemption_due(tls::local())
}

fn preemption_due(l: &tls::Local) -> bool {
    let (m, pi, g) = (l.m.get(), l.p.get(), l.g.get());
    // SAFETY: the current goroutine is alive while it runs.
    if m.is_null() || pi == 0 || g.is_null() || unsafe { (*g).bound } {
        return false;
    }
    // SAFETY: an M lives as long as its runtime; this is its own thread.
    let p = unsafe { &(*m).rt.ps[pi - 1] };
    if p.preempt.load(Relaxed) || p.backlog() > SPAWN_BACKLOG {
        p.preempt.store(false, Relaxed);
        return true;
    }
    false
}

/// The running coroutine goroutine, without a reference count: held only by the token a
/// goroutine makes for its own wait (`waiter::prepare`). Such a token stays in the
/// goroutine's frame (whoever publishes it stores a clone, which takes a counted reference,
/// `to_arc`), or is borrowed by a select's queue entries, which the select removes before
/// it returns. A goroutine cannot finish while its frame, hence this reference, exists; and a
/// completer that reaches the goroutine through such a borrow does so under a channel lock
/// the select takes again before returning, so the goroutine is alive for it too.
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
        // SAFETY: the pointer came from the `Arc` the scheduler holds for the running
        // goroutine (`tls::g`), which is alive (type docs); we add one count for the result.
        unsafe {
            Arc::increment_strong_count(self.0.as_ptr());
            Arc::from_raw(self.0.as_ptr())
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

/// Suspends the current coroutine goroutine `g` (whose park is announced) until woken.
pub(crate) fn park_current(g: &G) {
    // SAFETY: `g` is the running coroutine goroutine (made by `current_coroutine_ref` in this
    // context) and we are on its stack.
    unsafe { g.suspend(Suspend::Park) };
}

/// The current goroutine's wait was completed before it parked: wait for the completer's
/// `PARKING -> NOTIFIED` (a few instructions after its CAS) and carry on without suspending.
pub(crate) fn consume_early_wake(g: &G) {
    let mut spins = 0u32;
    while g.sched.load(Acquire) != state::NOTIFIED {
        spins += 1;
        if spins < 128 {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now(); // the completer was descheduled mid-wake
        }
    }
    g.sched.store(state::RUNNING, Release);
}

/// The coarse clock (see `Runtime::coarse`); 0 without a runtime.
#[inline]
pub(crate) fn coarse_now() -> u64 {
    runtime_if_started().map_or(0, |rt| rt.coarse.load(Relaxed))
}

/// Called by the winner of a wait cell's completion: queue the goroutine if it is parked.
/// `affine`: see [`Runtime::ready_in`].
pub(crate) fn ready_after_wake(g: &G, affine: bool) {
    if state::unpark(&g.sched) {
        // SAFETY: `commit_park` leaked exactly one reference with `Arc::into_raw` when the
        // goroutine parked; the single waker (us) takes it back.
        let g = unsafe { Arc::from_raw(g as *const G) };
        let l = tls::local();
        match runtime_in(l) {
            Some(rt) => rt.ready_in(l, g, true, affine),
            None => std::mem::forget(g), // shut down: leak it (it may hold C frames)
        }
    }
}

/// The runtime this thread works for: its M's, else the published one.
fn runtime_in(l: &tls::Local) -> Option<&'static Runtime> {
    let m = l.m.get();
    if !m.is_null() {
        // SAFETY: an M lives as long as its runtime.
        return Some(unsafe { (*m).rt });
    }
    let p = RT.load(Acquire);
    // SAFETY: runtimes are leaked once published.
    (!p.is_null()).then(|| unsafe { &*p })
}

/// `gr_yield`.
pub fn yield_now() {
    let g = tls::g();
    // SAFETY: the current goroutine is alive while it runs.
    if !g.is_null() && unsafe { !(*g).bound } {
        // SAFETY: we run on this coroutine's own stack.
        unsafe { (*g).suspend(Suspend::Yield) };
    } else {
        std::thread::yield_now();
    }
}

/// `gr_sleep`/`gr_sleep_ex`.
pub fn sleep(ns: i64, cancel: Option<&crate::cancel::Cancel>) -> Result<()> {
    if ns <= 0 {
        if cancel.is_some_and(|c| c.is_fired()) {
            return Err(Error::Cancelled);
        }
        yield_now();
        return Ok(());
    }
    runtime()?;
    let tok = crate::waiter::prepare();
    match crate::waiter::block(&tok, crate::waiter::Deadline::from_timeout_ns(ns), cancel) {
        crate::waiter::CANCELLED => Err(Error::Cancelled),
        _ => Ok(()),
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
    let pi = tls::p();
    if pi != 0 {
        tls::set_p(0);
        let p = &m.rt.ps[pi - 1];
        if p.try_hold() {
            m.rt.handoff_p(pi - 1);
        }
    }
    true
}

/// `gr_blocking_end`: take a processor back (waiting for one if all are busy). A no-op
/// outside goroutine code or when the processor is still held.
pub fn blocking_end() {
    let m = tls::m();
    if m.is_null() || tls::g().is_null() || tls::p() != 0 {
        return;
    }
    // SAFETY: as above.
    let m = unsafe { &*m };
    if let Some(pi) = m.rt.acquire_p_wait(m) {
        tls::set_p(pi + 1);
        m.rt.ps[pi].set_running();
    }
    // else: shutting down; carry on without a processor (spawns go to the global queue).
}

/// `gr_pin`: the current goroutine resumes only on this OS thread from now on.
pub fn pin() -> Result<()> {
    let m = tls::m();
    with_current(|g| match g {
        Some(g) if !m.is_null() => {
            g.pinned.store(m as usize, Release);
            Ok(())
        }
        _ => Err(Error::State),
    })
}

/// `gr_unpin`.
pub fn unpin() -> Result<()> {
    with_current(|g| match g {
        Some(g) => {
            g.pinned.store(0, Release);
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

/// `gr_wait`: joins `g`. `Panic` if it failed.
pub fn join(g: &GRef, deadline: crate::waiter::Deadline, cancel: Option<&crate::cancel::Cancel>) -> Result<()> {
    let result = |g: &GRef| if g.has_failed() { Err(Error::Panic) } else { Ok(()) };
    if g.is_done() {
        return result(g);
    }
    if with_current(|c| c.is_some_and(|c| std::ptr::eq(c, &**g))) {
        return Err(Error::Invalid); // waiting for oneself would never end
    }
    let tok = crate::waiter::prepare();
    {
        let mut j = crate::loom::lock(&g.join);
        if j.done {
            drop(j);
            // Withdraw the announced park: nobody will complete this token but us.
            crate::waiter::block(&tok, crate::waiter::Deadline::Poll, None);
            return result(g);
        }
        j.waiters.push(tok.clone());
    }
    let r = crate::waiter::block(&tok, deadline, cancel);
    if r != crate::waiter::DONE {
        let mut j = crate::loom::lock(&g.join);
        if let Some(i) = j.waiters.iter().position(|t| t.same(&tok)) {
            j.waiters.swap_remove(i);
        }
    }
    match r {
        crate::waiter::DONE => result(g),
        crate::waiter::CANCELLED => Err(Error::Cancelled),
        _ if g.is_done() => result(g),
        _ => Err(Error::TimedOut),
    }
}

/// `gr_shutdown`: waits up to `deadline` for every goroutine to end, then stops the threads.
/// `TimedOut` if goroutines remained (they are leaked, never unwound).
pub fn shutdown(deadline: crate::waiter::Deadline) -> Result<()> {
    let rt = runtime_if_started().ok_or(Error::State)?;
    if !tls::g().is_null() {
        return Err(Error::State); // a goroutine cannot wait for itself to end
    }
    let drained = {
        let mut l = rt.drained.0.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if rt.live.load(Acquire) == 0 {
                break true;
            }
            match deadline {
                crate::waiter::Deadline::Never => {
                    l = rt.drained.1.wait(l).unwrap_or_else(|p| p.into_inner());
                }
                crate::waiter::Deadline::Poll => break false,
                crate::waiter::Deadline::At(t) => match t.checked_duration_since(Instant::now()) {
                    Some(d) => l = rt.drained.1.wait_timeout(l, d).unwrap_or_else(|p| p.into_inner()).0,
                    None => break false,
                },
            }
        }
    };
    {
        let _g = INIT_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        rt.state.store(STOPPED, SeqCst);
    }
    rt.idle.wake_all_for_shutdown();
    rt.timers.wake_monitor_forced();
    // Join the threads that finish promptly; leak any stuck in goroutine code.
    let until = Instant::now() + std::time::Duration::from_millis(500);
    let mut handles: Vec<std::thread::JoinHandle<()>> = {
        let mut ms = rt.ms.lock().unwrap_or_else(|p| p.into_inner());
        ms.iter_mut().filter_map(|(_, h)| h.take()).collect()
    };
    if let Some(h) = rt.monitor_thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
        handles.push(h);
    }
    while !handles.is_empty() && Instant::now() < until {
        let (done, rest): (Vec<_>, Vec<_>) = handles.into_iter().partition(|h| h.is_finished());
        for h in done {
            let _ = h.join();
        }
        handles = rest;
        if !handles.is_empty() {
            rt.idle.wake_all_for_shutdown();
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
    // Finished threads may still be running TLS destructors: join them fully.
    drop(handles); // detach the stuck ones
    if drained {
        Ok(())
    } else {
        Err(Error::TimedOut)
    }
}

/// `gr_stats_get`.
pub fn stats() -> Result<Stats> {
    Ok(runtime()?.stats())
}

pub(crate) fn timers() -> &'static Timers {
    &runtime_in(tls::local()).expect("a wait needs a runtime").timers
}

/// The failure message of a failed goroutine (for `gr_handle_error`).
pub fn failure_message(g: &G) -> std::ffi::CString {
    crate::loom::lock(&g.join).failed.as_deref().cloned().unwrap_or_else(|| c"goroutine failed".to_owned())
}
