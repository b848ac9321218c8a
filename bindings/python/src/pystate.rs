//! Thread states, parking and exit: the protocol every park-capable entry point follows.
//!
//! Invariants (see issue 4 and DESIGN.md §3):
//! 1. Each Python goroutine owns one `PyThreadState`, created by the worker that first runs it.
//!    The goroutine is then pinned (`gr_pin`), so its thread state, its interpreter frames and
//!    the thread-owned locks it takes (RLock, sqlite3) never change OS thread.
//! 2. Around every call that may park, the GIL is released with `PyEval_SaveThread` and taken
//!    back with `PyEval_RestoreThread` (`blocking`, `park`). Calls that gr.h says never suspend
//!    (polls, and spawns by a pinned goroutine) keep the GIL. PyO3's thread-local GIL counter is never
//!    raised across a park: the park-capable entry points are raw `PyCFunction`s (see
//!    `raw.rs`), which do not touch it.
//! 3. On 3.11 the gilstate TSS slot is pointed at the goroutine's thread state on every resume,
//!    so `PyGILState_Ensure` inside a goroutine finds the state that holds the GIL. 3.12 and
//!    later rebind it in `PyEval_RestoreThread`.
//! 4. Exit: the `atexit` hook sets `STOPPED` and waits (GIL released, bounded) until no
//!    goroutine is in Python. `IN_PYTHON` counts goroutines between a resume and the next park
//!    or their end. A goroutine that resumes after `STOPPED` never touches Python again: it
//!    parks forever (`park_forever`). Unstarted goroutines return without touching Python.
//!    Ordering: a resumer increments `IN_PYTHON` and then reads `STOPPED`; the hook writes
//!    `STOPPED` and then reads `IN_PYTHON` (all SeqCst), so no resumer is missed.

use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use pyo3::ffi;

use crate::gr;

static STOPPED: AtomicBool = AtomicBool::new(false);
static IN_PYTHON: AtomicI64 = AtomicI64::new(0);
/// How often a plain thread blocked in a gr call wakes to run `PyErr_CheckSignals`.
pub const SIGNAL_SLICE_NS: i64 = 100_000_000;

pub fn stopped() -> bool {
    STOPPED.load(SeqCst)
}

/// True inside a goroutine (Python or C); false on a plain OS thread.
#[inline]
pub fn in_goroutine() -> bool {
    // SAFETY: gr_context has no preconditions.
    unsafe { gr::gr_context() != gr::GR_CTX_THREAD }
}

/// Counts this goroutine into Python, or reports that Python is closed for goroutines.
pub fn enter_python() -> bool {
    IN_PYTHON.fetch_add(1, SeqCst);
    if STOPPED.load(SeqCst) {
        IN_PYTHON.fetch_sub(1, SeqCst);
        return false;
    }
    true
}

pub fn leave_python() {
    IN_PYTHON.fetch_sub(1, SeqCst);
}

/// A goroutine resumed after exit began: it must never touch Python again, and must not be
/// unwound (it has C frames). Park it until the process ends.
pub fn park_forever() -> ! {
    loop {
        // SAFETY: gr_sleep has no preconditions; in a goroutine it parks, elsewhere it blocks.
        unsafe { gr::gr_sleep(3_600_000_000_000) };
    }
}

/// The thread is a plain thread that must not re-enter Python (exit has begun and it is not
/// the thread running the finaliser): block it until the process ends.
fn block_thread_forever() -> ! {
    loop {
        std::thread::park();
    }
}

fn is_main_thread() -> bool {
    // SAFETY: getpid/gettid have no preconditions.
    unsafe { libc::getpid() == libc::gettid() }
}

/// Takes the GIL back after a park and re-establishes invariant 3.
/// # Safety
/// The caller released the GIL with `PyEval_SaveThread`, which returned `ts`.
pub unsafe fn resume_goroutine(ts: *mut ffi::PyThreadState) {
    if !enter_python() {
        park_forever();
    }
    take_gil(ts);
}

/// The GIL gate: a gr mutex held by the one goroutine that is waiting for the GIL in
/// `PyEval_RestoreThread`. Waiting for the GIL blocks the OS thread; without the gate every
/// worker could sit blocked there at once, and the monitor would hand their processors to
/// ever more threads. With it, goroutines queue for the GIL by parking, and at most one worker
/// thread at a time sits blocked in `PyEval_RestoreThread` on a goroutine's behalf. The gate is never held while holding the
/// GIL, so it adds no lock-order edge: its holder waits only for the GIL, and a GIL holder
/// never waits for the gate.
static GIL_GATE: std::sync::atomic::AtomicPtr<gr::gr_mutex> = std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());

/// Creates the gate; called on the first spawn (creating it earlier would start the runtime
/// before `init()` could configure it).
pub fn ensure_gil_gate() {
    if !GIL_GATE.load(SeqCst).is_null() {
        return;
    }
    let mut m = std::ptr::null_mut();
    // SAFETY: out-pointer is valid.
    if unsafe { gr::gr_mutex_new(&mut m) } != gr::GR_OK {
        return;
    }
    if GIL_GATE.compare_exchange(std::ptr::null_mut(), m, SeqCst, SeqCst).is_err() {
        // SAFETY: `m` is the gr_mutex just made, never published (the CAS failed): its last use.
        unsafe { gr::gr_mutex_free(m) };
    }
}

/// Takes the GIL for goroutine thread state `ts` (through the gate) and rebinds gilstate.
/// # Safety
/// `ts` belongs to the calling goroutine, which does not hold the GIL.
pub unsafe fn take_gil(ts: *mut ffi::PyThreadState) {
    let gate = GIL_GATE.load(std::sync::atomic::Ordering::Relaxed);
    if !gate.is_null() {
        gr::gr_mutex_lock(gate, gr::GR_FOREVER);
    }
    ffi::PyEval_RestoreThread(ts);
    if !gate.is_null() {
        gr::gr_mutex_unlock(gate);
    }
    rebind_gilstate(ts);
    RUNNING_TS.with(|c| c.set(ts));
}

thread_local! {
    /// The thread state of the Python goroutine that last took the GIL on this worker: while it
    /// runs, it is the current thread state. Written right after the GIL is taken, read while
    /// it is held, never across a park.
    static RUNNING_TS: std::cell::Cell<*mut ffi::PyThreadState> = const { std::cell::Cell::new(std::ptr::null_mut()) };
}

/// True when the caller is a Python goroutine of this binding (pinned since it started), as
/// opposed to a plain thread or a C goroutine that called into Python.
/// # Safety
/// The GIL is held.
pub unsafe fn in_python_goroutine() -> bool {
    in_goroutine() && RUNNING_TS.with(|c| c.get()) == ffi::PyThreadState_Get()
}

/// Releases the GIL for a goroutine about to park.
/// # Safety
/// The GIL is held by the calling goroutine.
pub unsafe fn suspend_goroutine() -> *mut ffi::PyThreadState {
    leave_python();
    ffi::PyEval_SaveThread()
}

/// Outcome of a blocking call: the gr status, or `Err` when a Python exception is set
/// (a signal handler raised while a plain thread waited).
pub type Blocked = Result<c_int, crate::errors::Raised>;

/// Runs `op(timeout_ns)` with the GIL released; `op` is a gr call that may park or block.
/// In a goroutine it runs once. On a plain thread it runs in slices of at most 100 ms, and
/// between slices runs `PyErr_CheckSignals`, so Ctrl-C interrupts a blocked main thread. A
/// withdrawn gr wait loses nothing, so slicing is invisible to the other side.
///
/// # Safety
/// The GIL is held. `op` must not touch Python.
pub unsafe fn blocking(timeout_ns: i64, op: impl FnMut(i64, *mut gr::gr_cancel) -> c_int) -> Blocked {
    slow_path(timeout_ns, op)
}

/// gr.h guarantees that a poll (`timeout_ns == 0`) never suspends the calling goroutine (a
/// goroutine suspended while it holds the GIL would deadlock its worker: the next goroutine
/// there blocks the thread in `PyEval_RestoreThread`). So polls run with the GIL held.
const POLLS_NEVER_SUSPEND: bool = true;

/// `blocking` for gr operations that have a poll form: where a poll cannot suspend (plain
/// threads; goroutines once gr guarantees it), polls first with the GIL held, so a ready
/// channel or a free mutex costs no GIL hand-off; only a poll that would block takes the slow
/// path.
/// # Safety
/// As `blocking`.
pub unsafe fn park(timeout_ns: i64, mut op: impl FnMut(i64, *mut gr::gr_cancel) -> c_int) -> Blocked {
    if POLLS_NEVER_SUSPEND || !in_goroutine() {
        let rc = op(0, std::ptr::null_mut()); // a poll registers no wait: no token needed
        if timeout_ns == 0 || (rc != gr::GR_EAGAIN && rc != gr::GR_ETIMEDOUT) {
            return Ok(rc);
        }
    }
    slow_path(timeout_ns, op)
}

/// Every call that may block passes the current `Context`'s token (`context.rs`), so that
/// cancelling the context (or its deadline) ends the call with `GR_ECANCELED`.
#[inline(never)]
unsafe fn slow_path(timeout_ns: i64, mut op: impl FnMut(i64, *mut gr::gr_cancel) -> c_int) -> Blocked {
    let ctx = crate::context::current();
    let r = slow_path_with(timeout_ns, ctx.ptr, &mut op);
    ctx.release();
    r
}

unsafe fn slow_path_with(timeout_ns: i64, cancel: *mut gr::gr_cancel, op: &mut impl FnMut(i64, *mut gr::gr_cancel) -> c_int) -> Blocked {
    if in_goroutine() {
        let ts = suspend_goroutine();
        let rc = op(timeout_ns, cancel);
        resume_goroutine(ts);
        return Ok(rc);
    }
    if timeout_ns == 0 {
        return Ok(op(0, cancel)); // a plain thread may poll with the GIL held
    }
    let deadline = (timeout_ns > 0).then(|| Instant::now() + Duration::from_nanos(timeout_ns as u64));
    loop {
        let slice = match deadline {
            None => SIGNAL_SLICE_NS,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now()).as_nanos() as i64;
                left.clamp(1, SIGNAL_SLICE_NS)
            }
        };
        let ts = ffi::PyEval_SaveThread();
        let rc = op(slice, cancel);
        if STOPPED.load(SeqCst) && !is_main_thread() {
            block_thread_forever();
        }
        ffi::PyEval_RestoreThread(ts);
        if rc != gr::GR_ETIMEDOUT {
            return Ok(rc);
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(gr::GR_ETIMEDOUT);
        }
        if ffi::PyErr_CheckSignals() != 0 {
            return Err(crate::errors::Raised);
        }
        // The main thread also runs pending calls while it waits (stall warnings, stall.rs;
        // a no-op on other threads).
        if ffi::Py_MakePendingCalls() != 0 {
            return Err(crate::errors::Raised);
        }
    }
}

/// OS thread idents (`PyThread_get_thread_ident`) of the workers that ever ran a Python
/// goroutine: where `stop` sends SystemExit to goroutines still computing at exit.
static PY_WORKERS: std::sync::Mutex<Vec<std::ffi::c_ulong>> = std::sync::Mutex::new(Vec::new());

thread_local! {
    static REGISTERED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Records the calling worker thread as one that runs Python goroutines (once per thread).
/// Called right after the GIL is taken; the goroutine is pinned, so the thread-local read
/// is not across a park.
pub fn register_worker() {
    if REGISTERED.with(|r| r.replace(true)) {
        return;
    }
    extern "C" {
        fn PyThread_get_thread_ident() -> std::ffi::c_ulong;
    }
    // SAFETY: no preconditions.
    let ident = unsafe { PyThread_get_thread_ident() };
    if let Ok(mut v) = PY_WORKERS.lock() {
        v.push(ident);
    }
}

/// Waits (GIL released) up to `d` for no goroutine to be in Python.
unsafe fn drain(d: Duration) -> bool {
    if IN_PYTHON.load(SeqCst) <= 0 {
        return true;
    }
    let ts = ffi::PyEval_SaveThread();
    let deadline = Instant::now() + d;
    while IN_PYTHON.load(SeqCst) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    ffi::PyEval_RestoreThread(ts);
    IN_PYTHON.load(SeqCst) <= 0
}

/// The `atexit` hook: stop scheduling Python goroutines before finalisation.
///
/// 1. `STOPPED`: unstarted goroutines never run, parked ones never come back into Python.
/// 2. Goroutines running Python get 250 ms to reach a park or their end.
/// 3. Those still computing then get `SystemExit` raised in them (an asynchronous exception on
///    every thread state of the workers that run Python goroutines; parked ones never see it)
///    and 1 s more. A goroutine that finalisation finds still in Python would be killed by
///    `PyThread_exit_thread` when it next takes the GIL, which unwinds a coroutine stack.
/// # Safety
/// The GIL is held.
pub unsafe fn stop() {
    STOPPED.store(true, SeqCst);
    if drain(Duration::from_millis(250)) {
        return;
    }
    let idents = PY_WORKERS.lock().map(|v| v.clone()).unwrap_or_default();
    for ident in idents {
        ffi::PyThreadState_SetAsyncExc(ident as std::ffi::c_long, ffi::PyExc_SystemExit);
    }
    drain(Duration::from_secs(1));
}

// ---- 3.11: the gilstate TSS slot -------------------------------------------------------

/// The pthread key behind `_PyRuntime.gilstate.autoTSSkey`, found once at import; -1 unknown.
static GILSTATE_KEY: AtomicI64 = AtomicI64::new(-1);

/// Finds the gilstate key on 3.11 (a no-op on 3.12+, which rebinds by itself).
/// The key is the one pthread slot holding this thread's gilstate thread state; each candidate
/// is confirmed by writing a marker and reading it back through `PyGILState_GetThisThreadState`.
/// # Safety
/// The GIL is held by a thread whose thread state is its gilstate one (the importing thread).
pub unsafe fn init_gilstate_key() {
    if cfg!(Py_3_12) {
        return;
    }
    let ts = ffi::PyGILState_GetThisThreadState() as *mut c_void;
    if ts.is_null() {
        return;
    }
    static MARKER: u8 = 0;
    let marker = &MARKER as *const u8 as *mut c_void;
    for k in 0..1024 as libc::pthread_key_t {
        if libc::pthread_getspecific(k) != ts {
            continue;
        }
        libc::pthread_setspecific(k, marker);
        let hit = ffi::PyGILState_GetThisThreadState() as *mut c_void == marker;
        libc::pthread_setspecific(k, ts);
        if hit {
            GILSTATE_KEY.store(k as i64, SeqCst);
            return;
        }
    }
}

#[inline]
pub unsafe fn rebind_gilstate(ts: *mut ffi::PyThreadState) {
    let k = GILSTATE_KEY.load(std::sync::atomic::Ordering::Relaxed);
    if k >= 0 {
        libc::pthread_setspecific(k as libc::pthread_key_t, ts as *const c_void);
    }
}

// ---- Recursion budget fitted to the goroutine's stack -----------------------------------

/// Measured C stack per C-recursive Python call (e.g. `__getattr__` recursion): ~750 B on
/// 3.11, ~600 B per C level on 3.13; 1 KiB and 768 B leave headroom. `STACK_RESERVE` covers
/// the frames below the goroutine's first Python call.
const STACK_PER_LEVEL: usize = 1024;
const STACK_PER_C_LEVEL: usize = 768;
const STACK_RESERVE: usize = 16 * 1024;

pub static GOROUTINE_STACK: AtomicUsize = AtomicUsize::new(1 << 20);

/// Lowers the fresh thread state's recursion budget so that it fits `stack` bytes. Only the
/// thread state's own counters change; `sys.getrecursionlimit()` stays. The field offsets are
/// checked against known values before anything is written.
/// # Safety
/// `ts` is the current, fresh thread state (depth 0) and the GIL is held.
pub unsafe fn fit_recursion(ts: *mut ffi::PyThreadState, stack: usize) {
    let limit = ffi::Py_GetRecursionLimit();
    let usable = stack.saturating_sub(STACK_RESERVE);
    let budget = (usable / STACK_PER_LEVEL).min(i32::MAX as usize) as c_int;
    let base = ts as *mut u8;
    if cfg!(Py_3_12) {
        // 3.12: py_recursion_remaining @28, py_recursion_limit @32, c_recursion_remaining @36
        // 3.13: py_recursion_remaining @44, py_recursion_limit @48, c_recursion_remaining @52
        let (rem, lim, crem) = if cfg!(Py_3_13) { (44, 48, 52) } else { (28, 32, 36) };
        let (rem, lim, crem) = (
            base.add(rem) as *mut c_int,
            base.add(lim) as *mut c_int,
            base.add(crem) as *mut c_int,
        );
        if *lim != limit || *rem != limit || !(100..=1_000_000).contains(&*crem) {
            return;
        }
        let cbudget = (usable / STACK_PER_C_LEVEL).min(i32::MAX as usize) as c_int;
        if cbudget < *crem {
            *crem = cbudget;
        }
        // Python-to-Python calls use no C stack on 3.12+; C-recursive ones are capped above.
        let _ = budget;
    } else {
        // 3.11: recursion_remaining @32, recursion_limit @36. _Py_CheckRecursiveCall resets a
        // lowered limit to the interpreter's, so lower `remaining` only: the thread state then
        // raises RecursionError `limit - budget` levels early, for good.
        let (rem, lim) = (base.add(32) as *mut c_int, base.add(36) as *mut c_int);
        if *lim != limit || *rem != limit {
            return;
        }
        if budget < limit {
            *rem = budget;
        }
    }
}
