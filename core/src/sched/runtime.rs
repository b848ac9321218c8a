//! The runtime's lifecycle and configuration: the one live `Runtime`, started on first use
//! or by `gr_init`, stopped by `gr_shutdown`, refused in a `fork()`ed child; its memory
//! reclaimed once nothing can reach it; its counters. `README.md`, "Lifecycle", is the
//! protocol with its argument.
//!
//! Generations: every runtime gets a number (`gen`, never reused in a process, nor by a
//! fork()ed child); handles and goroutines carry the number of the runtime that was live when
//! they were made, and [`live_gen`] is the live one's (0: none). A handle of another
//! generation answers `GR_ESTATE`, which is what makes freeing a stopped runtime's memory,
//! its goroutines' stacks included, safe.
//!
//! Locks (`README.md`, "Lock order"): `ms` (the threads, rank 80); outside the ranks,
//! `INIT_LOCK` (start, stop; fork-safe: `sys/forklock.rs`), `monitor_thread`, `drained`
//! (shutdown's wait for the last goroutine) and `poller_init` (the poller's creation).

use super::grace;
use super::idle;
use super::monitor;
use super::proc::P;
use super::tls;
use super::worker::M;
use crate::error::{Error, Result};
use crate::goroutine::{GRef, G};
use crate::loom::{AtomicU64, AtomicU8, AtomicUsize};
use crate::stack::GlobalPool;
use crate::sys::forklock::ForkLock;
use crate::sys::thread::Thread;
use crate::timer::Timers;
use crossbeam_deque::Injector;
use std::sync::atomic::{AtomicBool, AtomicPtr};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release, SeqCst};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

/// Runtime configuration (the ABI's `gr_config`, resolved).
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Processors; 0 = `$GR_WORKERS`, else the CPU count.
    pub workers: usize,
    /// Default goroutine stack bytes; 0 = 256 KiB; at most `crate::stack::STACK_MAX`.
    pub stack_size: usize,
    /// Cap on the OS threads the runtime owns (workers, spares, the monitor); 0 = 10,000.
    /// Raised to at least `workers + 2`.
    pub max_threads: usize,
    /// SIGQUIT prints a dump (`dump::traceback`); `Off` = as `$GR_TRACEBACK` says.
    pub traceback: crate::dump::traceback::Traceback,
    /// The deadlock report (`deadlock.rs`); `Off` = as `$GR_DEADLOCK` says.
    pub deadlock: super::deadlock::Deadlock,
}

pub const DEFAULT_STACK: usize = 256 << 10;
pub const DEFAULT_MAX_THREADS: usize = 10_000;

impl Config {
    /// `Invalid` for a stack size above the maximum.
    fn resolve(mut self) -> Result<Config> {
        if self.workers == 0 {
            self.workers = std::env::var("GR_WORKERS")
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .filter(|&n| n > 0)
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        }
        self.workers = self.workers.min(1024);
        self.stack_size = GlobalPool::normalise(if self.stack_size == 0 { DEFAULT_STACK } else { self.stack_size }).ok_or(Error::Invalid)?;
        if self.max_threads == 0 {
            self.max_threads = DEFAULT_MAX_THREADS;
        }
        // Every processor needs a thread, plus the monitor, plus one spare for a hand-off.
        self.max_threads = self.max_threads.max(self.workers + 2);
        if self.traceback == crate::dump::traceback::Traceback::Off {
            self.traceback = crate::dump::traceback::Traceback::from_env();
        }
        if self.deadlock == super::deadlock::Deadlock::Off {
            self.deadlock = super::deadlock::Deadlock::from_env();
        }
        Ok(self)
    }
}

/// An M and its thread (taken at shutdown, to join it).
pub(crate) type MThread = (Arc<M>, Option<Thread>);

/// Spawns admitted, counted with the goroutines in `Runtime::live`: `count | CLOSED`.
pub(super) const CLOSED: u64 = 1 << 63;

const LIVE: u8 = 0;
/// `gr_shutdown` waits for the goroutines: spawns are refused, everything else works.
const DRAINING: u8 = 1;
/// The threads stop; the runtime is unpublished and its handles answer `GR_ESTATE`.
const STOPPED: u8 = 2;

pub(crate) struct Runtime {
    /// This runtime's generation (module docs).
    pub(crate) gen: u64,
    pub(crate) cfg: Config,
    pub(crate) ps: Box<[P]>,
    pub(crate) global: Injector<GRef>,
    /// Back-pressure on plain threads that spawn into `global` (`backlog.rs`).
    pub(crate) backlog: super::backlog::Backlog,
    pub(crate) idle: idle::Idle,
    pub(crate) ms: crate::loom::Mutex<Vec<MThread>, { crate::loom::rank::THREADS }>,
    /// Ms alive (the monitor is not counted): raised by `spawn_m` before it starts one,
    /// lowered by an M that exits (`idle.rs`, "keep-alive"; shutdown).
    pub(crate) nthreads: AtomicUsize,
    /// The next M's number (`gr-worker-N`); Ms that exit do not give theirs back.
    pub(crate) next_mid: AtomicUsize,
    /// Thread slots of bound goroutines (`bound.rs`).
    pub(crate) bound: super::bound::BoundSlots,
    pub(crate) timers: Timers,
    pub(crate) monitor_deep: std::sync::atomic::AtomicBool,
    monitor_thread: Mutex<Option<Thread>>,
    pub(crate) stacks: GlobalPool,
    state: AtomicU8,
    pub(super) next_gid: AtomicU64,
    /// Goroutines admitted and not yet retired, with the `CLOSED` bit (see `spawn.rs`).
    pub(crate) live: AtomicU64,
    /// Ids taken by spawns that were then undone (`spawn_in`'s `NoMemory`): spawns so far are
    /// `next_gid - 1 - unspawned` ([`Runtime::spawned`]). (A counter of its own cost every
    /// spawn a third locked add on the line of `live`, which exits on other CPUs write.)
    pub(super) unspawned: AtomicU64,
    pub(crate) steals: AtomicU64,
    pub(crate) retakes: AtomicU64,
    /// Shutdown's wait for the last goroutine (the protocol is at `retire`).
    drained: (Mutex<()>, Condvar),
    /// Threads in [`shutdown`] waiting on `drained` for `live` to reach 0: `retire` takes the
    /// lock and notifies only when one waits (see `retire`).
    drain_waiters: AtomicUsize,
    /// The netpoller, made on first use of a descriptor (`poll.rs`).
    pub(super) poller: std::sync::OnceLock<crate::netpoll::Poller>,
    pub(super) poller_init: Mutex<()>,
    /// Who keeps this memory: 1 while published (released by `gr_shutdown`), 1 per thread of
    /// the runtime, 1 for a `gr_shutdown` at work, 1 per descriptor operation of a plain
    /// thread, 1 per bound spawn of a plain thread that waits (for a slot or the backlog)
    /// ([`held`]). The last to let go reclaims it.
    holds: AtomicUsize,
    /// A goroutine parked after the runtime stopped (it ran foreign code through the
    /// shutdown): it may wait in another runtime's objects, so this memory is never freed.
    tainted: AtomicBool,
    /// One `gr_shutdown` at a time.
    shutting_down: AtomicBool,
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
    /// Entries in the timer heap: timed waits (ended ones until swept) and armed alarms
    /// (timer channels with a receiver parked, context deadlines).
    pub timer_heap: u64,
}

/// The published runtime (LIVE or DRAINING), or null. Plain threads load it pinned
/// (`grace.rs`), with SeqCst.
static RT: AtomicPtr<Runtime> = AtomicPtr::new(std::ptr::null_mut());
/// `RT`'s generation while it is published, else 0.
static GEN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
/// The next runtime's generation; above 1 once a runtime was started in this process (then
/// only an explicit `gr_init` starts another).
static NEXT_GEN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
/// Start and stop, one at a time.
static INIT_LOCK: ForkLock<()> = ForkLock::new(());
/// Set in a fork()ed child until its own `gr_init`: the error text names fork.
static FORKED: AtomicBool = AtomicBool::new(false);
/// A coarse clock: the monitors' loop count (one per ~2 ms while any processor runs),
/// process-wide, so that reading it needs no runtime.
static COARSE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// The live runtime's generation, 0 if none (not started, shut down, or a fork()ed child
/// before its `gr_init`). A handle of any other generation answers `GR_ESTATE`.
#[inline]
pub fn live_gen() -> u64 {
    GEN.load(Acquire)
}

/// The live runtime's generation, starting one with defaults on first use (never after a
/// `gr_shutdown` or in a fork()ed child: only `gr_init` starts a runtime then). For calls
/// that make a handle, or wait.
#[inline]
pub fn current_gen() -> Result<u64> {
    match GEN.load(Acquire) {
        0 => start_default().map(|rt| rt.gen),
        g => Ok(g),
    }
}

/// `Ok` if a runtime is live, starting one on first use (see [`current_gen`]).
#[inline]
pub fn live() -> Result<()> {
    current_gen().map(|_| ())
}

#[cold]
#[inline(never)]
fn start_default() -> Result<&'static Runtime> {
    start(Config::default(), false)
}

/// The published runtime, for a pinned plain thread (`grace.rs`), starting one on first use
/// if `start` (the pin must be dropped meanwhile: so the caller passes it in and gets it
/// back).
pub(super) fn published(pin: grace::Pin, start: bool) -> Result<(&'static Runtime, grace::Pin)> {
    if let Some(rt) = published_pinned(&pin) {
        return Ok((rt, pin));
    }
    if !start {
        return Err(Error::State);
    }
    drop(pin);
    start_default()?;
    let pin = grace::pin();
    match published_pinned(&pin) {
        Some(rt) => Ok((rt, pin)),
        None => Err(Error::State), // shut down at once by another thread
    }
}

/// The published runtime, if any, for a caller holding `_pin` (taken before this call): it
/// is not freed while that pin lives (`grace.rs`), which bounds the returned reference.
pub(super) fn published_pinned(_pin: &grace::Pin) -> Option<&'static Runtime> {
    let p = RT.load(SeqCst);
    // SAFETY: a published runtime is freed only after it is unpublished and every pin taken
    // before that is dropped (`grace.rs`); the caller's was taken before this load.
    (!p.is_null()).then(|| unsafe { &*p })
}

/// `gr_init`: starts the runtime with `cfg`. `State` if one is running already; `Invalid`
/// for a bad stack size; `NoMemory` if its threads cannot be created.
pub fn init(cfg: Config) -> Result<()> {
    start(cfg, true).map(|_| ())
}

fn start(cfg: Config, explicit: bool) -> Result<&'static Runtime> {
    let _g = INIT_LOCK.lock();
    let cur = RT.load(Acquire);
    if !cur.is_null() {
        // SAFETY: published, and we hold INIT_LOCK, without which it is not unpublished.
        return if explicit { Err(Error::State) } else { Ok(unsafe { &*cur }) };
    }
    if !explicit && (NEXT_GEN.load(Relaxed) > 1 || FORKED.load(Relaxed)) {
        return Err(Error::State); // shut down (or forked): only an explicit gr_init restarts
    }
    let cfg = cfg.resolve()?;
    super::gate::decide(); // before the first M, for good
    #[cfg(not(loom))]
    crate::sys::lock::decide(); // the locks' unlock form (fenced until then)
    crate::overflow::install();
    install_atfork();
    crate::waitreason::refresh_clock();
    crate::waiter::register_thread();
    crate::dump::traceback::enable(cfg.traceback);
    let gen = NEXT_GEN.fetch_add(1, Relaxed);
    let rt: &'static Runtime = Box::leak(Box::new(Runtime {
        gen,
        ps: (0..cfg.workers).map(P::new).collect(),
        global: Injector::new(),
        backlog: super::backlog::Backlog::new(),
        idle: idle::Idle::new(cfg.workers),
        ms: crate::loom::Mutex::new(Vec::new()),
        nthreads: AtomicUsize::new(0),
        next_mid: AtomicUsize::new(0),
        // Whatever bound goroutines hold, a thread stays for each processor and the monitor.
        bound: super::bound::BoundSlots::new(cfg.max_threads - cfg.workers - 1),
        timers: Timers::default(),
        monitor_deep: std::sync::atomic::AtomicBool::new(false),
        monitor_thread: Mutex::new(None),
        stacks: GlobalPool::default(),
        state: AtomicU8::new(LIVE),
        next_gid: AtomicU64::new(1),
        live: AtomicU64::new(0),
        unspawned: AtomicU64::new(0),
        steals: AtomicU64::new(0),
        retakes: AtomicU64::new(0),
        drained: (Mutex::new(()), Condvar::new()),
        drain_waiters: AtomicUsize::new(0),
        poller: std::sync::OnceLock::new(),
        poller_init: Mutex::new(()),
        holds: AtomicUsize::new(1),
        tainted: AtomicBool::new(false),
        shutting_down: AtomicBool::new(false),
        cfg,
    }));
    // The monitor and one worker now, so that a runtime that cannot have its threads says so
    // here (`GR_ENOMEM`) instead of queueing work nobody runs.
    rt.hold();
    let mon = crate::sys::sanitizer::new_thread(|| {
        crate::sys::thread::spawn("gr-monitor", 1 << 20, Box::new(move || {
            monitor::run(rt);
            rt.release_hold();
        }))
    });
    let Some(mon) = mon else {
        rt.holds_undo();
        rt.abandon();
        return Err(Error::NoMemory);
    };
    *rt.monitor_thread.lock().unwrap_or_else(|p| p.into_inner()) = Some(mon);
    if !rt.spawn_m(None, false).started() {
        rt.abandon();
        return Err(Error::NoMemory);
    }
    RT.store(rt as *const Runtime as *mut Runtime, SeqCst);
    GEN.store(gen, SeqCst);
    FORKED.store(false, Relaxed);
    crate::dump::debugger::publish();
    Ok(rt)
}

/// More process-wide locks for the fork handlers to take around `fork()` (`gr-ffi`'s handle
/// pools and allocator depot): `prepare` takes them after `INIT_LOCK` (their order below
/// it), `parent` and `child` free them.
pub struct ForkHooks {
    pub prepare: fn(),
    pub parent: fn(),
    pub child: fn(),
}

static FORK_HOOKS: AtomicPtr<ForkHooks> = AtomicPtr::new(std::ptr::null_mut());

/// Registers `hooks` (once per process) and the fork handlers.
pub fn on_fork(hooks: &'static ForkHooks) {
    FORK_HOOKS.store(hooks as *const ForkHooks as *mut ForkHooks, SeqCst);
    install_atfork();
}

fn fork_hooks() -> Option<&'static ForkHooks> {
    // SAFETY: only ever a `&'static ForkHooks` (`on_fork`).
    unsafe { FORK_HOOKS.load(SeqCst).as_ref() }
}

/// Registers the fork handlers once (a flag, not a `Once`: one left mid-call by another
/// thread at `fork()` would hang the child).
fn install_atfork() {
    static DONE: AtomicBool = AtomicBool::new(false);
    if !DONE.swap(true, AcqRel) {
        crate::sys::thread::at_fork(fork_prepare, fork_parent, fork_child);
    }
}

/// Before `fork()`: every process-wide lock a child needs, in an order no code nests them
/// against: the start/stop lock (start lists its thread and allocates under it), `gr-ffi`'s
/// handle pools, then the leaves: the list of threads (`waiter.rs`), the goroutine records'
/// depot (`allg.rs`) and the dump's symbol tables (`dump/symbols.rs`).
extern "C" fn fork_prepare() {
    INIT_LOCK.fork_prepare(); // no start or stop is half done at fork()
    if let Some(h) = fork_hooks() {
        (h.prepare)();
    }
    crate::waiter::threads_lock().fork_prepare();
    crate::allg::depot_lock().fork_prepare();
    crate::dump::symbols::tables_lock().fork_prepare();
}

extern "C" fn fork_parent() {
    // SAFETY: `fork_prepare` took each of them on this thread.
    unsafe {
        crate::dump::symbols::tables_lock().fork_parent();
        crate::allg::depot_lock().fork_parent();
        crate::waiter::threads_lock().fork_parent();
    }
    if let Some(h) = fork_hooks() {
        (h.parent)();
    }
    // SAFETY: as above.
    unsafe { INIT_LOCK.fork_parent() };
}

/// In the child: the runtime's threads did not survive fork(). Its memory stays as it is
/// (never freed, never reused: the forking thread may even be one of its goroutines, on one
/// of its stacks), and every call refuses until `gr_init` starts a runtime of a newer
/// generation, so no handle from the parent works again. Atomics only.
extern "C" fn fork_child() {
    FORKED.store(true, Relaxed);
    let p = RT.load(SeqCst);
    if !p.is_null() {
        // SAFETY: the parent's runtime is never freed in the child. Its epoll instance is
        // shared with the parent and must never be touched here: close our copies (close(2)
        // is async-signal-safe; the runtime is unreachable from now on, so once).
        if let Some(poller) = unsafe { &*p }.poller.get() {
            poller.close_fds();
        }
    }
    RT.store(std::ptr::null_mut(), SeqCst);
    GEN.store(0, SeqCst);
    grace::after_fork_child();
    // SAFETY: the child, after `fork_prepare` in the parent.
    unsafe {
        crate::dump::symbols::tables_lock().fork_child();
        crate::allg::depot_lock().fork_child();
        crate::waiter::threads_lock().fork_child();
    }
    if let Some(h) = fork_hooks() {
        (h.child)();
    }
    // SAFETY: the child, after `fork_prepare` in the parent.
    unsafe { INIT_LOCK.fork_child() };
}

impl Runtime {
    pub(crate) fn stopping(&self) -> bool {
        self.state.load(Acquire) == STOPPED
    }

    /// Whether `gr_shutdown` has begun (spawns are refused from now on).
    pub(crate) fn closing(&self) -> bool {
        self.state.load(Acquire) != LIVE
    }

    pub(crate) fn nprocs(&self) -> usize {
        self.ps.len()
    }

    /// A tick of the coarse clock (the monitor).
    pub(super) fn tick_coarse(&self) {
        COARSE.fetch_add(1, Relaxed);
    }

    /// Goroutines spawned so far (each took an id; the undone ones are subtracted).
    pub(crate) fn spawned(&self) -> u64 {
        let undone = self.unspawned.load(Relaxed);
        (self.next_gid.load(Relaxed) - 1).saturating_sub(undone)
    }

    pub(crate) fn stats(&self) -> Stats {
        Stats {
            workers: self.ps.len() as u32,
            goroutines: self.live.load(Relaxed) & !CLOSED,
            threads: self.nthreads.load(Relaxed) as u64 + 1,
            spawned_total: self.spawned(),
            steals_total: self.steals.load(Relaxed),
            retakes_total: self.retakes.load(Relaxed),
            timer_heap: self.timers.len() as u64,
        }
    }

    /// A goroutine ended (called by its M after it returned).
    ///
    /// The last one wakes a `shutdown` waiting for it, and only then takes the `drained` lock:
    /// a plain thread that spawns one goroutine and waits for it (a binding's `go().join()`)
    /// brings `live` to 0 at every goroutine's end, and a lock plus `notify_all` there cost
    /// both workers a contended lock and a `futex` call per goroutine (1.4 futex calls per
    /// spawn + wait, `strace -f` of `gr_bench spawn_wait_thread`). No wake is lost: the
    /// retiring M decrements `live`, fences and reads `drain_waiters`; `shutdown` increments
    /// `drain_waiters`, fences and, under the lock it waits with, reads `live`. One of the
    /// two sees the other, and a notify sent under the lock reaches a waiter that saw
    /// `live != 0` (`loom_tests::last_retire_wakes_a_waiting_shutdown`).
    pub(crate) fn retire(&self, g: &G) {
        // A bound goroutine's thread slot goes back before its end is told: whoever that
        // wakes (a join) may spawn a bound goroutine at once, with `timeout_ns` 0, and must
        // find the slot free. (Its M needs no slot to go on: it holds a processor.)
        if g.bound {
            self.bound.release();
        }
        g.finish();
        self.uncount(false);
    }

    /// One goroutine less (retired, or a spawn refused or undone), giving back its thread
    /// slot if it is `bound` (`bound.rs`; first: once the count reaches 0 a `gr_shutdown`
    /// may go on to free the runtime).
    #[inline(always)]
    pub(super) fn uncount(&self, bound: bool) {
        if bound {
            self.bound.release();
        }
        if self.live.fetch_sub(1, SeqCst) & !CLOSED == 1 {
            std::sync::atomic::fence(SeqCst);
            if self.drain_waiters.load(SeqCst) != 0 {
                self.notify_drained();
            }
        }
    }

    /// The goroutine count reached 0 while a `gr_shutdown` waits for it: wake it.
    #[cold]
    fn notify_drained(&self) {
        let _l = self.drained.0.lock().unwrap_or_else(|p| p.into_inner());
        self.drained.1.notify_all();
    }

    /// A goroutine parked after the runtime stopped (`execute`, on its M): see `tainted`.
    pub(super) fn taint(&self) {
        self.tainted.store(true, Release);
    }

    /// Takes a hold for a new thread of the runtime (released by the thread as it ends).
    pub(super) fn hold(&self) {
        self.holds.fetch_add(1, AcqRel);
    }

    /// Takes a hold unless the runtime is already being reclaimed (its holds reached 0).
    fn try_hold(&self) -> bool {
        let mut h = self.holds.load(Acquire);
        while h != 0 {
            match self.holds.compare_exchange_weak(h, h + 1, AcqRel, Acquire) {
                Ok(_) => return true,
                Err(now) => h = now,
            }
        }
        false
    }

    /// Gives back a hold taken for a thread that could not be created, while another hold
    /// (the published one) is known to remain.
    pub(super) fn holds_undo(&self) {
        let prev = self.holds.fetch_sub(1, AcqRel);
        debug_assert!(prev > 1, "undoing the last hold");
    }

    /// Lets go of a hold; the last one reclaims the runtime's memory. The caller must not
    /// touch the runtime afterwards.
    pub(super) fn release_hold(&'static self) {
        if self.holds.fetch_sub(1, AcqRel) == 1 {
            self.reclaim();
        }
    }

    /// Frees the memory of a stopped runtime that nothing holds: its stacks (unmapped, those of
    /// goroutines still parked in it included: none is ever resumed, and nothing can reach
    /// them: `README.md`, "Lifecycle") and the runtime itself (queues, timers, threads'
    /// records). A tainted runtime is kept as it is.
    fn reclaim(&'static self) {
        if self.tainted.load(Acquire) {
            return;
        }
        grace::synchronize(); // plain threads that found it before it was unpublished are out
        self.release_parked();
        if let Some(p) = self.poller.get() {
            p.close_fds(); // no M is in epoll_wait, no operation holds it any more
        }
        self.stacks.release_all();
        // SAFETY: leaked from a Box in `start`, unpublished, and no thread holds or pins it
        // any more (holds reached 0; `synchronize` waited out every pin), so this is the last
        // reference.
        drop(unsafe { Box::from_raw(self as *const Runtime as *mut Runtime) });
    }

    /// Frees the records of this runtime's goroutines left parked (`reclaim`): nothing can
    /// resume them any more (their waits are in this runtime's objects, which refuse every
    /// call, or in its timer heap, freed with it), so the reference each one leaked when it
    /// parked (`commit_park`) is taken back here, as a waker would (`PARKED -> RELEASED`). A
    /// wake that still comes (freeing a context of this runtime fires it; a waker racing the
    /// reclaim) finds no `PARKED` and queues nothing (`state.rs`). One held by a dump at that
    /// instant (`HELD`) keeps its record.
    fn release_parked(&self) {
        let gen = self.gen as u32;
        crate::allg::for_each_live(|g| {
            if g.gen == gen && super::state::release_parked(&g.cell.state) {
                // SAFETY: we won `PARKED -> RELEASED`, so the count `commit_park` leaked with
                // `GRef::into_raw` is ours (a waker that comes later finds no `PARKED` and
                // takes nothing: `state.rs`).
                drop(unsafe { GRef::from_raw(GRef::as_ptr(&g)) });
            }
        });
    }

    /// Undoes a start whose threads could not all be created (before publication): stops
    /// what was started, then frees it.
    fn abandon(&'static self) {
        self.state.store(STOPPED, SeqCst);
        self.wake_threads();
        for t in self.take_threads() {
            let _ = t.join_until(None);
        }
        self.release_hold();
    }

    fn wake_threads(&self) {
        self.idle.wake_all_for_shutdown();
        self.timers.wake_monitor_forced();
    }

    /// Every thread's handle, once stopped (no thread is created after: `spawn_m` checks
    /// under the same lock).
    fn take_threads(&self) -> Vec<Thread> {
        let mut v: Vec<Thread> = crate::loom::lock(&self.ms).iter_mut().filter_map(|(_, h)| h.take()).collect();
        if let Some(h) = self.monitor_thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            v.push(h);
        }
        v
    }

    /// Waits up to `deadline` for the goroutine count to reach 0; whether it did. Counted in
    /// `drain_waiters` meanwhile, so that `retire` notifies (the protocol is at `retire`).
    fn wait_drained(&self, deadline: crate::waiter::Deadline) -> bool {
        self.drain_waiters.fetch_add(1, SeqCst); // before reading `live`: see `Runtime::retire`
        std::sync::atomic::fence(SeqCst);
        let drained = self.wait_drained_counted(deadline);
        self.drain_waiters.fetch_sub(1, SeqCst);
        drained
    }

    fn wait_drained_counted(&self, deadline: crate::waiter::Deadline) -> bool {
        let mut l = self.drained.0.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if self.live.load(SeqCst) & !CLOSED == 0 {
                return true;
            }
            match deadline {
                crate::waiter::Deadline::Never => l = self.drained.1.wait(l).unwrap_or_else(|p| p.into_inner()),
                crate::waiter::Deadline::Poll => return false,
                crate::waiter::Deadline::At(t) => match t.checked_duration_since(Instant::now()) {
                    Some(d) if !d.is_zero() => l = self.drained.1.wait_timeout(l, d).unwrap_or_else(|p| p.into_inner()).0,
                    _ => return false,
                },
            }
        }
    }
}

/// `gr_shutdown`: refuses spawns from now on, waits up to `deadline` for every goroutine to
/// end, stops the runtime and joins its threads within the same deadline. `TimedOut` if
/// goroutines remained (they are never resumed, never unwound). `State` from a goroutine,
/// without a live runtime, or while another `gr_shutdown` runs.
pub fn shutdown(deadline: crate::waiter::Deadline) -> Result<()> {
    if !tls::g().is_null() {
        return Err(Error::State); // a goroutine cannot wait for itself to end
    }
    let rt = {
        let (rt, _pin) = published(grace::pin(), false)?;
        if rt.shutting_down.swap(true, AcqRel) {
            return Err(Error::State);
        }
        rt.hold(); // ours, for the whole shutdown; taken pinned, so the runtime is there
        rt
    };
    // Close: a spawn is admitted (counted) or refused in one RMW (`spawn.rs`), so from here
    // on every admitted goroutine is in the count we wait for.
    rt.state.store(DRAINING, SeqCst);
    rt.live.fetch_or(CLOSED, SeqCst);
    // Bound spawns waiting for a thread slot would be refused: they end now (`bound.rs`).
    rt.bound.close();
    // Plain threads waiting for back-pressure (`backlog.rs`) would be refused too.
    rt.backlog_wake_all();
    let drained = rt.wait_drained(deadline);
    {
        let _g = INIT_LOCK.lock();
        rt.state.store(STOPPED, SeqCst);
        GEN.store(0, SeqCst);
        RT.store(std::ptr::null_mut(), SeqCst);
    }
    // Waits parked on descriptors can never be served now: plain threads get GR_ESTATE;
    // goroutines stay unrun, as every goroutine left at a shutdown (the references the poller
    // took back for them are dropped below, as `release_parked` does for the others).
    let mut io_parked = Vec::new();
    // Under `poller_init`: a poller made by a descriptor operation that raced this shutdown is
    // either here (and failed below) or refused (`poller()` checks `stopping` under that lock).
    let poller = {
        let _g = rt.poller_init.lock().unwrap_or_else(|p| p.into_inner());
        rt.poller.get()
    };
    if let Some(p) = poller {
        p.fail_all(&mut io_parked);
        p.wake();
    }
    // Join the threads, within the caller's deadline; the others end on their own (idle
    // ones at once; one running a goroutine's foreign code when that code returns to gr).
    rt.wake_threads();
    let until = match deadline {
        crate::waiter::Deadline::Never => None,
        crate::waiter::Deadline::Poll => Some(Instant::now()),
        crate::waiter::Deadline::At(t) => Some(t),
    };
    for t in rt.take_threads() {
        if let Err(t) = t.join_until(until) {
            rt.idle.wake_all_for_shutdown();
            drop(t); // detached: it lets go of its hold as it ends
        }
    }
    drop(io_parked); // never queued, never resumed: their records are freed, not unwound
    rt.release_hold(); // the published one
    rt.release_hold(); // ours: the last out reclaims
    if drained {
        crate::sys::sanitizer::all_ended(); // every goroutine's end happens before this
        Ok(())
    } else {
        Err(Error::TimedOut)
    }
}

/// `gr_stats_get`: the live runtime's counters; `State` if none is live (reading them never
/// starts one).
pub fn stats() -> Result<Stats> {
    let l = tls::local();
    if let Some(rt) = own_live(l) {
        return Ok(rt.stats());
    }
    let (rt, _pin) = published(grace::pin(), false)?;
    Ok(rt.stats())
}

/// The runtime of the M this thread is, if it is not stopped: the caller may use it without
/// a pin (the M holds it).
#[inline]
pub(super) fn own_live(l: &tls::Local) -> Option<&'static Runtime> {
    let m = l.m.get();
    if m.is_null() {
        return None;
    }
    // SAFETY: an M's runtime outlives the M (its thread holds it).
    let rt = unsafe { (*m).rt };
    (!rt.stopping()).then_some(rt)
}

/// Runs `f` with the live runtime (the caller's own, if it is an M of it, else the
/// published one, pinned for the call: `grace.rs`), without starting one. `None` if none is
/// live. `f` must not block or park (it runs pinned).
pub(crate) fn with_runtime_if_started<R>(f: impl FnOnce(&'static Runtime) -> R) -> Option<R> {
    let l = tls::local();
    if let Some(rt) = own_live(l) {
        return Some(f(rt));
    }
    let (rt, _pin) = published(grace::pin(), false).ok()?;
    Some(f(rt))
}

/// The live runtime for an operation that may block (a descriptor wait, a bound spawn's wait
/// for a thread slot), starting one on first use: an M's own runtime (its thread holds it),
/// or, on a plain thread, the published one with a hold taken for as long as the [`Held`]
/// lives, so that a `gr_shutdown` meanwhile does not free it under the operation. `State` if
/// none is live.
pub(crate) fn held() -> Result<Held> {
    let l = tls::local();
    if let Some(rt) = own_live(l) {
        return Ok(Held { rt, own: true });
    }
    let (rt, _pin) = published(grace::pin(), true)?;
    // Pinned: the memory is there; a runtime whose holds reached 0 is being reclaimed.
    if !rt.try_hold() {
        return Err(Error::State);
    }
    Ok(Held { rt, own: false })
}

/// A runtime kept for an operation (see [`held`]).
pub(crate) struct Held {
    rt: &'static Runtime,
    own: bool,
}

impl Held {
    /// The runtime, valid while this `Held` lives (the type says `'static` for the fields
    /// made from it, which the caller keeps no longer).
    pub(crate) fn rt(&self) -> &'static Runtime {
        self.rt
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if !self.own {
            self.rt.release_hold();
        }
    }
}

/// Whether the runtime has more than one processor (spinning for another goroutine to
/// release something can pay off only then).
#[cfg(not(loom))]
pub(crate) fn multiprocessor() -> bool {
    with_runtime_if_started(|rt| rt.nprocs() > 1).unwrap_or(false)
}

/// Runs `f` with the live runtime's timer heap, for an alarm (a timer channel, a context's
/// deadline: `timer.rs`), without starting a runtime (their makers start one first, outside
/// their locks); `None` after a shutdown or in a fork()ed child (the alarm then never rings,
/// as nothing runs). As [`with_runtime_if_started`]: pinned on a plain thread, so `f` must
/// not block, and the heap is not kept past `f`.
///
/// Alarms and reclaimed runtimes: the heap holds its alarms strongly (`Arc`) and an alarm
/// holds no reference to a heap (only its index there, checked against the heap's own entry
/// before use: `Timers::disarm`). So freeing a reclaimed runtime's heap drops its entries
/// and nothing can reach freed memory; an alarm armed there never rings. The C API refuses
/// the handles of a stopped runtime (their generation: `GR_ESTATE`), so a timer, ticker or
/// context made under one runtime is never re-armed under the next.
#[cfg(not(loom))]
pub(crate) fn with_alarm_timers<R>(f: impl FnOnce(&Timers) -> R) -> Option<R> {
    with_runtime_if_started(|rt| f(&rt.timers))
}

/// Under loom: a heap of the model's own (loom runs a model's threads on one OS thread, and
/// each test on its own), with no runtime and no monitor: a model rings it with `fire_due`.
#[cfg(loom)]
pub(crate) fn with_alarm_timers<R>(f: impl FnOnce(&Timers) -> R) -> Option<R> {
    Some(f(model_timers()))
}

/// The model's heap (see [`with_alarm_timers`]).
#[cfg(loom)]
pub(crate) fn model_timers() -> &'static Timers {
    thread_local! {
        static HEAP: &'static Timers = Box::leak(Box::default());
    }
    HEAP.with(|h| *h)
}

pub(crate) fn timers() -> &'static Timers {
    let m = tls::m();
    assert!(!m.is_null(), "a goroutine's timed wait runs on an M");
    // SAFETY: as in `own_live`.
    unsafe { &(*m).rt.timers }
}

/// The coarse clock (see `COARSE`).
#[inline]
pub(crate) fn coarse_now() -> u64 {
    COARSE.load(Relaxed)
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! `Runtime::retire` against `shutdown`: the last goroutine's end notifies only when a
    //! shutdown waits, and a waiting shutdown is always woken. The model mirrors the code: the
    //! RMWs, the SeqCst fences (loom orders SeqCst fences, not bare SeqCst loads), the lock a
    //! waiter re-reads `live` under, the condition variable.
    use loom::sync::atomic::{fence, AtomicU64, AtomicUsize};
    use loom::sync::{Arc, Condvar, Mutex};
    use std::sync::atomic::Ordering::SeqCst;

    #[test]
    fn last_retire_wakes_a_waiting_shutdown() {
        loom::model(|| {
            let s = Arc::new((AtomicU64::new(1), AtomicUsize::new(0), Mutex::new(()), Condvar::new()));
            let s2 = s.clone();
            let m = loom::thread::spawn(move || {
                let (live, waiters, mu, cv) = &*s2;
                if live.fetch_sub(1, SeqCst) == 1 {
                    fence(SeqCst);
                    if waiters.load(SeqCst) != 0 {
                        let _l = mu.lock().unwrap();
                        cv.notify_all();
                    }
                }
            });
            let (live, waiters, mu, cv) = &*s;
            waiters.fetch_add(1, SeqCst);
            fence(SeqCst);
            let mut l = mu.lock().unwrap();
            while live.load(SeqCst) != 0 {
                l = cv.wait(l).unwrap(); // a lost wake leaves this blocked: loom reports it
            }
            drop(l);
            waiters.fetch_sub(1, SeqCst);
            m.join().unwrap();
        });
    }
}
