//! The runtime's lifecycle and configuration: the one `Runtime` value, started on first use
//! or by `gr_init`, stopped by `gr_shutdown`, refused in a `fork()`ed child; its counters.
//!
//! There is one `Runtime` per process at a time, reached through [`runtime`]. It is never
//! freed: goroutines leaked at shutdown (parked with C frames) may still point into it.
//!
//! Locks (`README.md`, "Lock order"): `ms` (the threads, rank 80); outside the ranks,
//! `INIT_LOCK` (start, stop), `monitor_thread`, `drained` (shutdown's wait for the last
//! goroutine) and `poller_init` (the poller's creation).

use super::idle;
use super::monitor;
use super::proc::P;
use super::tls;
use super::worker::M;
use crate::error::{Error, Result};
use crate::goroutine::{GRef, G};
use crate::loom::{AtomicU64, AtomicU8, AtomicUsize};
use crate::stack::GlobalPool;
use crate::timer::Timers;
use crossbeam_deque::Injector;
use std::sync::atomic::AtomicPtr;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

/// Runtime configuration (the ABI's `gr_config`, resolved).
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Processors; 0 = `$GR_WORKERS`, else the CPU count.
    pub workers: usize,
    /// Default goroutine stack bytes; 0 = 256 KiB.
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
        if self.traceback == crate::dump::traceback::Traceback::Off {
            self.traceback = crate::dump::traceback::Traceback::from_env();
        }
        if self.deadlock == super::deadlock::Deadlock::Off {
            self.deadlock = super::deadlock::Deadlock::from_env();
        }
        self
    }
}

/// An M and its thread's handle (taken at shutdown, to join the thread).
pub(crate) type Thread = (Arc<M>, Option<JoinHandle<()>>);

const LIVE: u8 = 0;
const STOPPED: u8 = 1;

pub(crate) struct Runtime {
    pub(crate) cfg: Config,
    pub(crate) ps: Box<[P]>,
    pub(crate) global: Injector<GRef>,
    /// Back-pressure on plain threads that spawn into `global` (`backlog.rs`).
    pub(crate) backlog: super::backlog::Backlog,
    pub(crate) idle: idle::Idle,
    pub(crate) ms: crate::loom::Mutex<Vec<Thread>, { crate::loom::rank::THREADS }>,
    /// Ms alive (the monitor is not counted): raised by `spawn_m` before it starts one,
    /// lowered by an M that exits (`idle.rs`, "keep-alive"; shutdown).
    pub(crate) nthreads: AtomicUsize,
    /// The next M's number (`gr-worker-N`); Ms that exit do not give theirs back.
    pub(crate) next_mid: AtomicUsize,
    /// Thread slots of bound goroutines (`bound.rs`).
    pub(crate) bound: super::bound::BoundSlots,
    pub(crate) timers: Timers,
    pub(crate) monitor_deep: std::sync::atomic::AtomicBool,
    monitor_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    pub(crate) stacks: GlobalPool,
    state: AtomicU8,
    pub(super) next_gid: AtomicU64,
    pub(crate) live: AtomicU64,
    pub(super) spawned: AtomicU64,
    pub(crate) steals: AtomicU64,
    pub(crate) retakes: AtomicU64,
    /// A coarse clock: the monitor's loop count (one per ~2 ms while any processor runs).
    pub(crate) coarse: AtomicU64,
    /// Shutdown's wait for the last goroutine (the protocol is at `retire`).
    drained: (Mutex<()>, Condvar),
    /// Threads in [`shutdown`] waiting on `drained` for `live` to reach 0: `retire` takes the
    /// lock and notifies only when one waits (see `retire`).
    drain_waiters: AtomicUsize,
    /// The netpoller, made on first use of a descriptor (`poll.rs`).
    pub(super) poller: std::sync::OnceLock<crate::netpoll::Poller>,
    pub(super) poller_init: Mutex<()>,
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

static RT: AtomicPtr<Runtime> = AtomicPtr::new(std::ptr::null_mut());
static INIT_LOCK: Mutex<()> = Mutex::new(());
/// Set in a fork()ed child: the runtime's threads did not survive; everything is refused
/// until `init` is called again.
static FORKED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The runtime, starting one with defaults on first use.
#[inline]
pub(crate) fn runtime() -> Result<&'static Runtime> {
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

/// `Ok` if the runtime is usable now, starting it with defaults on first use; `State` after
/// `gr_shutdown` or in a fork()ed child (for every call that can block or wake).
#[inline]
pub fn live() -> Result<()> {
    runtime().map(|_| ())
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
pub(crate) fn runtime_if_started() -> Option<&'static Runtime> {
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
    if forked && !cur.is_null() {
        // SAFETY: as in `runtime`. The parent's runtime has no threads here; its epoll
        // instance is shared with the parent and must never be touched: close our copies.
        if let Some(p) = unsafe { &*cur }.poller.get() {
            p.close_fds();
        }
    }
    crate::overflow::install();
    install_atfork();
    crate::waitreason::refresh_clock();
    crate::waiter::register_thread();
    let cfg = cfg.resolve();
    crate::dump::traceback::enable(cfg.traceback);
    let rt: &'static Runtime = Box::leak(Box::new(Runtime {
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
        spawned: AtomicU64::new(0),
        steals: AtomicU64::new(0),
        retakes: AtomicU64::new(0),
        coarse: AtomicU64::new(1),
        drained: (Mutex::new(()), Condvar::new()),
        drain_waiters: AtomicUsize::new(0),
        poller: std::sync::OnceLock::new(),
        poller_init: Mutex::new(()),
        cfg,
    }));
    let h = crate::sys::sanitizer::new_thread(|| std::thread::Builder::new().name("gr-monitor".into()).spawn(move || monitor::run(rt)))
        .map_err(|_| Error::NoMemory)?;
    *rt.monitor_thread.lock().unwrap_or_else(|p| p.into_inner()) = Some(h);
    RT.store(rt as *const Runtime as *mut Runtime, Release);
    FORKED.store(false, Relaxed);
    crate::dump::debugger::publish();
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
    pub(crate) fn stopping(&self) -> bool {
        self.state.load(Acquire) != LIVE
    }

    pub(crate) fn nprocs(&self) -> usize {
        self.ps.len()
    }

    pub(crate) fn stats(&self) -> Stats {
        Stats {
            workers: self.ps.len() as u32,
            goroutines: self.live.load(Relaxed),
            threads: self.nthreads.load(Relaxed) as u64 + 1,
            spawned_total: self.spawned.load(Relaxed),
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
        g.finish();
        if g.bound {
            self.bound.release();
        }
        if self.live.fetch_sub(1, SeqCst) == 1 {
            std::sync::atomic::fence(SeqCst);
            if self.drain_waiters.load(SeqCst) != 0 {
                let _l = self.drained.0.lock().unwrap_or_else(|p| p.into_inner());
                self.drained.1.notify_all();
            }
        }
    }
}

/// `gr_shutdown`: waits up to `deadline` for every goroutine to end, then stops the threads.
/// `TimedOut` if goroutines remained (they are leaked, never unwound).
pub fn shutdown(deadline: crate::waiter::Deadline) -> Result<()> {
    let rt = runtime_if_started().ok_or(Error::State)?;
    if !tls::g().is_null() {
        return Err(Error::State); // a goroutine cannot wait for itself to end
    }
    rt.drain_waiters.fetch_add(1, SeqCst); // before reading `live`: see `Runtime::retire`
    std::sync::atomic::fence(SeqCst);
    let drained = {
        let mut l = rt.drained.0.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if rt.live.load(SeqCst) == 0 {
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
    rt.drain_waiters.fetch_sub(1, SeqCst);
    {
        let _g = INIT_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        rt.state.store(STOPPED, SeqCst);
    }
    if let Some(p) = rt.poller.get() {
        // Waits parked on descriptors can never be served now: plain threads get GR_ESTATE;
        // goroutines stay unrun (leaked with their stacks, as every goroutine left at a
        // shutdown is).
        let mut batch = Vec::new();
        p.fail_all(&mut batch);
        std::mem::forget(batch);
        p.wake();
    }
    rt.idle.wake_all_for_shutdown();
    rt.backlog_wake_all();
    rt.timers.wake_monitor_forced();
    // Join the threads that finish promptly; leak any stuck in goroutine code.
    let until = Instant::now() + std::time::Duration::from_millis(500);
    let mut handles: Vec<std::thread::JoinHandle<()>> = {
        let mut ms = crate::loom::lock(&rt.ms);
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
    let all_stopped = handles.is_empty();
    drop(handles); // detach the stuck ones
    if all_stopped {
        if let Some(p) = rt.poller.get() {
            p.close_fds(); // no M can be in epoll_wait any more
        }
    }
    if drained {
        crate::sys::sanitizer::all_ended(); // every goroutine's end happens before this
        Ok(())
    } else {
        Err(Error::TimedOut)
    }
}

/// `gr_stats_get`.
pub fn stats() -> Result<Stats> {
    Ok(runtime()?.stats())
}

/// The timer heap, without starting a runtime.
pub(crate) fn timers_if_started() -> Option<&'static Timers> {
    runtime_if_started().map(|rt| &rt.timers)
}

/// Whether the runtime has more than one processor (spinning for another goroutine to
/// release something can pay off only then).
#[cfg(not(loom))]
pub(crate) fn multiprocessor() -> bool {
    runtime_if_started().is_some_and(|rt| rt.nprocs() > 1)
}

/// The timer heap for an alarm (a timer channel, a context's deadline), starting the
/// runtime on first use as any call that may wait does; `None` after a shutdown or in a
/// fork()ed child (the alarm then never rings, as nothing runs).
#[cfg(not(loom))]
pub(crate) fn alarm_timers() -> Option<&'static Timers> {
    runtime().ok().map(|rt| &rt.timers)
}

/// Under loom: a heap of the model's own (loom runs a model's threads on one OS thread, and
/// each test on its own), with no runtime and no monitor: a model rings it with `fire_due`.
#[cfg(loom)]
pub(crate) fn alarm_timers() -> Option<&'static Timers> {
    thread_local! {
        static HEAP: &'static Timers = Box::leak(Box::default());
    }
    Some(HEAP.with(|h| *h))
}

pub(crate) fn timers() -> &'static Timers {
    &runtime_in(tls::local()).expect("a wait needs a runtime").timers
}

/// The coarse clock (see `Runtime::coarse`); 0 without a runtime.
#[inline]
pub(crate) fn coarse_now() -> u64 {
    runtime_if_started().map_or(0, |rt| rt.coarse.load(Relaxed))
}

/// The runtime this thread works for: its M's, else the published one.
pub(super) fn runtime_in(l: &tls::Local) -> Option<&'static Runtime> {
    let m = l.m.get();
    if !m.is_null() {
        // SAFETY: an M lives as long as its runtime.
        return Some(unsafe { (*m).rt });
    }
    let p = RT.load(Acquire);
    // SAFETY: runtimes are leaked once published.
    (!p.is_null()).then(|| unsafe { &*p })
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
