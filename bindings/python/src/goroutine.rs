//! `go()`: a Python callable run as a goroutine, and `Goroutine`, its handle.
//!
//! A `Task` is shared (Arc) by the `Goroutine` object and the running goroutine. It holds
//! strong references to Python objects, so it is only ever dropped with the GIL held: by the
//! `Goroutine`'s dealloc, or by the goroutine before it deletes its thread state. After exit
//! began (`pystate::stopped`) it is leaked instead.

use std::cell::UnsafeCell;
use std::ffi::{c_void, CString};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use pyo3::ffi;
use pyo3::prelude::*;

use crate::errors::{self, PyRes, Raised};
use crate::gr;
use crate::pystate::{self, park};
use crate::raw::{self, nn, Args};

/// The interpreter goroutines create their thread states in (the importing one).
pub static INTERP: AtomicPtr<ffi::PyInterpreterState> = AtomicPtr::new(ptr::null_mut());

pub struct Task {
    func: *mut ffi::PyObject,
    args: *mut ffi::PyObject,
    kwargs: *mut ffi::PyObject,
    ctx: *mut ffi::PyObject,
    stack: usize,
    /// Written once by the goroutine under the GIL before it returns; read under the GIL
    /// after gr_wait reported the end.
    result: UnsafeCell<*mut ffi::PyObject>,
    exc: UnsafeCell<*mut ffi::PyObject>,
    retrieved: AtomicBool,
    /// Set (under the GIL) once `result` or `exc` is final: `wait` then needs no gr call.
    finished: AtomicBool,
}

// SAFETY: every field is touched only with the GIL held (see the module doc).
unsafe impl Send for Task {}
// SAFETY: as above.
unsafe impl Sync for Task {}

impl Drop for Task {
    fn drop(&mut self) {
        // SAFETY: Tasks are dropped with the GIL held (module doc).
        unsafe {
            for p in [self.func, self.args, self.kwargs, self.ctx, *self.result.get(), *self.exc.get()] {
                ffi::Py_XDECREF(p);
            }
        }
    }
}

/// Handle of a goroutine started by `go()` or `go_native()`.
#[pyclass(module = "goroutines", frozen)]
pub struct Goroutine {
    pub(crate) handle: *mut gr::gr_handle,
    task: Option<Arc<Task>>,
}

// SAFETY: gr handles may be used from any thread; the Task is guarded as documented above.
unsafe impl Send for Goroutine {}
// SAFETY: as above.
unsafe impl Sync for Goroutine {}

impl Drop for Goroutine {
    fn drop(&mut self) {
        // SAFETY: gr_handle_release once per handle. Dealloc runs with the GIL held, so the
        // Task may be dropped here.
        unsafe {
            if let Some(t) = &self.task {
                let exc = *t.exc.get();
                if !exc.is_null() && !t.retrieved.load(Relaxed) {
                    report_unretrieved(exc);
                }
            }
            gr::gr_handle_release(self.handle);
        }
    }
}

#[pymethods]
impl Goroutine {
    /// Whether this goroutine runs a C function (go_native) rather than Python code.
    #[getter]
    fn native(&self) -> bool {
        self.task.is_none()
    }

    fn __repr__(&self) -> String {
        let kind = if self.task.is_some() { "" } else { " native" };
        format!("<goroutines.Goroutine{kind} at {:p}>", self.handle)
    }
}

/// Prints an exception nobody waited for, as asyncio does for a task (sys.unraisablehook).
unsafe fn report_unretrieved(exc: *mut ffi::PyObject) {
    let saved = save_error();
    restore_exception(exc);
    let what = ffi::PyUnicode_FromString(c"goroutine exception was never retrieved".as_ptr());
    ffi::PyErr_WriteUnraisable(what);
    ffi::Py_XDECREF(what);
    restore_saved(saved);
}

/// Takes the pending exception (or NULL) out of the way; `restore_saved` puts it back.
pub(crate) unsafe fn save_error() -> *mut ffi::PyObject {
    fetch_exception()
}

pub(crate) unsafe fn restore_saved(saved: *mut ffi::PyObject) {
    if !saved.is_null() {
        restore_exception(saved);
        ffi::Py_DECREF(saved);
    }
}

/// Sets `exc` (an exception instance; borrowed) as the current exception, with its traceback.
pub unsafe fn restore_exception(exc: *mut ffi::PyObject) {
    ffi::Py_INCREF(exc);
    #[cfg(Py_3_12)]
    ffi::PyErr_SetRaisedException(exc);
    #[cfg(not(Py_3_12))]
    {
        let ty = ffi::Py_TYPE(exc) as *mut ffi::PyObject;
        let tb = ffi::PyException_GetTraceback(exc); // new ref or NULL
        ffi::Py_INCREF(ty);
        ffi::PyErr_Restore(ty, exc, tb);
    }
}

/// Takes the current exception as a normalised instance with its traceback (new ref), or NULL.
pub unsafe fn fetch_exception() -> *mut ffi::PyObject {
    #[cfg(Py_3_12)]
    {
        ffi::PyErr_GetRaisedException()
    }
    #[cfg(not(Py_3_12))]
    {
        let (mut t, mut v, mut tb) = (ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
        ffi::PyErr_Fetch(&mut t, &mut v, &mut tb);
        if t.is_null() {
            return ptr::null_mut();
        }
        ffi::PyErr_NormalizeException(&mut t, &mut v, &mut tb);
        if !tb.is_null() && !v.is_null() {
            ffi::PyException_SetTraceback(v, tb);
        }
        ffi::Py_XDECREF(t);
        ffi::Py_XDECREF(tb);
        v
    }
}

/// "TypeName: message" of an exception instance, for gr_goroutine_fail.
unsafe fn describe(exc: *mut ffi::PyObject) -> CString {
    let saved = save_error();
    let name = type_name(exc);
    let s = ffi::PyObject_Str(exc);
    let msg = if s.is_null() {
        ffi::PyErr_Clear();
        String::new()
    } else {
        let m = raw::str_of(s).to_owned();
        ffi::Py_DECREF(s);
        m
    };
    restore_saved(saved);
    let text = if msg.is_empty() { name } else { format!("{name}: {msg}") };
    CString::new(text.replace('\0', "?")).unwrap_or_default()
}

/// # Safety
/// `exc` is a live object; the GIL is held.
unsafe fn type_name(exc: *mut ffi::PyObject) -> String {
    let tp = ffi::Py_TYPE(exc);
    std::ffi::CStr::from_ptr((*tp).tp_name).to_string_lossy().into_owned()
}

/// The goroutine body of every Python goroutine (see pystate.rs for the protocol).
unsafe extern "C" fn run_python(arg: *mut c_void) {
    // SAFETY: `go` passed exactly one strong reference made by Arc::into_raw.
    let task = Arc::from_raw(arg as *const Task);
    if !pystate::enter_python() {
        // Exit has begun: never touch Python, and never drop the Task without the GIL.
        started();
        std::mem::forget(task);
        return;
    }
    let body = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        gr::gr_pin();
        let ts = ffi::PyThreadState_New(INTERP.load(Relaxed));
        if ts.is_null() {
            // Out of memory before the GIL is held: report through gr only.
            started();
            gr::gr_goroutine_fail(c"PyThreadState_New failed".as_ptr());
            return None;
        }
        crate::arena::seed(ts);
        pystate::take_gil(ts);
        started();
        pystate::register_worker();
        pystate::fit_recursion(ts, task.stack);
        // Dumps show this goroutine's Python frames (`dump.rs`): labelled with its thread
        // state while the state lives; both label changes are made with the GIL held.
        gr::gr_goroutine_label(gr::GR_KIND_PYTHON, ts as *mut c_void);
        run_body(&task);
        gr::gr_goroutine_label(gr::GR_KIND_PYTHON, ptr::null_mut());
        task.finished.store(true, Relaxed);
        Some(ts)
    }));
    match body {
        Ok(Some(ts)) => {
            // Drop our share of the Task while the GIL is still held; the Goroutine object may
            // already be gone, in which case an exception nobody can retrieve is reported.
            if Arc::strong_count(&task) == 1 && !pystate::stopped() && !task.retrieved.load(Relaxed) {
                let exc = *task.exc.get();
                if !exc.is_null() {
                    report_unretrieved(exc);
                }
            }
            drop(task);
            ffi::PyThreadState_Clear(ts);
            ffi::PyThreadState_DeleteCurrent();
            pystate::leave_python();
        }
        Ok(None) => {
            std::mem::forget(task);
            pystate::leave_python();
        }
        Err(_) => {
            // A panic in the binding with unknown GIL and thread-state state: nothing can be
            // cleaned up safely, and unwinding further would cross the coroutine's C frames.
            eprintln!("gr: fatal: panic in the Python goroutine trampoline");
            std::process::abort();
        }
    }
}

/// Runs the callable in the spawner's copied context and records result or exception.
unsafe fn run_body(task: &Task) {
    if ffi::PyContext_Enter(task.ctx) != 0 {
        record_exception(task);
        return;
    }
    let res = ffi::PyObject_Call(task.func, task.args, task.kwargs);
    if res.is_null() {
        record_exception(task);
    } else {
        *task.result.get() = res;
    }
    if ffi::PyContext_Exit(task.ctx) != 0 {
        ffi::PyErr_Clear();
    }
}

unsafe fn record_exception(task: &Task) {
    let exc = fetch_exception();
    if exc.is_null() {
        return;
    }
    let msg = describe(exc);
    *task.exc.get() = exc;
    gr::gr_goroutine_fail(msg.as_ptr());
}

/// Back-pressure on Python goroutines that wait to start.
///
/// gr bounds a plain thread's spawns by its global run queue (`sched/README.md`, section 12),
/// but a Python goroutine leaves the queue as soon as a worker runs it: it creates its thread
/// state and parks on the GIL gate (pystate.rs) until it gets the GIL, which a spawning loop
/// holds. Such goroutines hold a stack page, a thread state and a frame chunk each (about
/// 7 KiB), and nothing bounded them: Python's main thread spawning 200,000 goroutines in a
/// loop left most of them parked on the gate at once, over a gigabyte (the test output of
/// `tests/test_spawn_backpressure.py`). So `go()` counts the goroutines it spawned that have
/// not yet taken the GIL (`SPAWNED - STARTED`) and, while they are [`START_LIMIT`] or more,
/// waits with the GIL released until the workers have started them down to [`START_LOW`],
/// from a plain thread and from a goroutine alike.
///
/// The wait never deadlocks on what the spawner holds: if no goroutine starts for
/// [`START_STALL_SLICES`] slices of [`START_SLICE_NS`] (10 ms at least), the goroutines cannot
/// start (every thread is blocked, perhaps on a lock the spawner holds), and this and every
/// later `go()` goes on without waiting until one starts (`STALLED_AT`): one pause per stall,
/// as gr's own rule. Counting costs a spawner one add on its line and a goroutine one add on
/// another; after a `fork()` the child starts from zero (no goroutine of the parent will
/// start there), see [`reset_after_fork`].
#[repr(align(64))]
struct Line(AtomicU64);
static SPAWNED: Line = Line(AtomicU64::new(0));
static STARTED: Line = Line(AtomicU64::new(0));
/// The `STARTED` count at which a stall was declared (`u64::MAX`: none): while it is still
/// current, nothing waits.
static STALLED_AT: AtomicU64 = AtomicU64::new(u64::MAX);
/// Goroutines spawned and not yet started at which `go()` waits (about 7 MiB of them), as
/// many as gr lets a plain thread queue.
const START_LIMIT: u64 = 1024;
/// Where the wait ends: a few still queued, so that the workers do not run dry while the
/// spawner wakes, but few enough that the spawner soon gets the GIL back (it takes the GIL
/// against every goroutine waiting at the gate, and CPython's GIL is not fair: a waiter may
/// wait a whole switch interval, 5 ms). Measured (a loop of 100,000 `go()` from the main
/// thread, `chrt -f 10`, 3 runs each; gr's queue limit 4,096): limit 4,096 and low 2,048
/// (gr's ratio) took 5.7-6.9 us per goroutine; 4,096 and 512: 4.3-10.6; 2,048 and 256:
/// 3.5-4.2; 1,024 and 128: 3.7-4.4; 1,024 and 32: 4.7-4.9; 512 and 64: 4.8-5.6. With gr's
/// limit at 1,024: 1,024 and 128: 3.8-4.1; 2,048 and 256: 3.9-4.6; no bound here: 9.6-10.3.
const START_LOW: u64 = START_LIMIT / 8;
const START_SLICE_NS: i64 = 100_000;
/// Slices without a start (and 10 ms of wall time) that make a stall.
const START_STALL_SLICES: u32 = 100;
const START_STALL: std::time::Duration = std::time::Duration::from_millis(10);
/// Waits of `start_backlog_wait`, the stalls they saw, and retries of `spawn_released`
/// (`_spawn_backpressure()`).
static START_WAITS: AtomicU64 = AtomicU64::new(0);
static START_STALLS: AtomicU64 = AtomicU64::new(0);
static SPAWN_RETRIES: AtomicU64 = AtomicU64::new(0);

/// A Python goroutine has taken the GIL for the first time (or will never run Python).
#[inline]
fn started() {
    STARTED.0.fetch_add(1, Relaxed);
}

/// Goroutines spawned by `go()` that have not started. `STARTED` is read first: it never
/// runs ahead of `SPAWNED`, so the difference is never negative.
#[inline]
fn waiting_to_start() -> u64 {
    let s = STARTED.0.load(Relaxed);
    SPAWNED.0.load(Relaxed).saturating_sub(s)
}

#[inline]
fn start_backlog_full() -> bool {
    waiting_to_start() >= START_LIMIT && STALLED_AT.load(Relaxed) != STARTED.0.load(Relaxed)
}

/// Waits, GIL released, until the goroutines waiting to start are down to `START_LOW` or
/// they stall (module doc above). Plain threads sleep; goroutines park (`gr_sleep`).
/// # Safety
/// The GIL is held by the caller, which borrows nothing across the call.
#[inline(never)]
unsafe fn start_backlog_wait() {
    START_WAITS.fetch_add(1, Relaxed);
    let in_g = pystate::in_goroutine();
    let ts = if in_g { pystate::suspend_goroutine() } else { ffi::PyEval_SaveThread() };
    let mut last = STARTED.0.load(Relaxed);
    let mut since = std::time::Instant::now();
    let mut quiet = 0u32;
    while waiting_to_start() > START_LOW {
        gr::gr_sleep(START_SLICE_NS);
        let now = STARTED.0.load(Relaxed);
        if now != last {
            (last, since, quiet) = (now, std::time::Instant::now(), 0);
        } else {
            quiet += 1;
            if quiet >= START_STALL_SLICES && since.elapsed() >= START_STALL {
                STALLED_AT.store(now, Relaxed);
                START_STALLS.fetch_add(1, Relaxed);
                break;
            }
        }
    }
    if in_g {
        pystate::resume_goroutine(ts);
    } else {
        ffi::PyEval_RestoreThread(ts);
    }
}

/// `pthread_atfork` child handler (registered at import): the parent's goroutines do not
/// exist in the child, and none of them will ever count its start there.
pub extern "C" fn reset_after_fork() {
    SPAWNED.0.store(0, Relaxed);
    STARTED.0.store(0, Relaxed);
    STALLED_AT.store(u64::MAX, Relaxed);
}

/// `_spawn_backpressure() -> dict`: how often `go()` waited for goroutines to start
/// (`waits`), how many of those waits ended in a stall (`stalls`), how often a plain thread's spawn met gr's full queue and spawned again without
/// the GIL (`retries`), and the goroutines spawned that have not started (`waiting`). For
/// tests and diagnostics.
#[pyfunction]
pub fn _spawn_backpressure(py: Python<'_>) -> PyResult<Bound<'_, pyo3::types::PyDict>> {
    let d = pyo3::types::PyDict::new(py);
    d.set_item("waits", START_WAITS.load(Relaxed))?;
    d.set_item("stalls", START_STALLS.load(Relaxed))?;
    d.set_item("retries", SPAWN_RETRIES.load(Relaxed))?;
    d.set_item("waiting", waiting_to_start())?;
    Ok(d)
}

/// gr_spawn_ex, keeping the GIL where the spawn cannot suspend the caller: in a Python
/// goroutine (pinned, and gr.h exempts pinned goroutines from the spawn preemption point),
/// and on a plain thread unless gr's back-pressure would make it wait (gr.h, `gr_spawn`: the
/// queued goroutines may need the GIL to run the queue down, so the thread spawns with
/// `GR_SPAWN_NOWAIT` and, on `GR_EAGAIN`, spawns again without the GIL, which waits). Any
/// other goroutine (a C goroutine that called into Python) may be preempted there, and a
/// goroutine must never be suspended holding the GIL (pystate.rs), so it spawns with the GIL
/// released.
pub unsafe fn spawn_released(
    f: gr::gr_fn,
    arg: *mut c_void,
    opts: &gr::gr_spawn_opts,
    out: &mut *mut gr::gr_handle,
) -> std::ffi::c_int {
    if !pystate::in_goroutine() {
        let nowait = gr::gr_spawn_opts { flags: opts.flags | gr::GR_SPAWN_NOWAIT, ..*opts };
        let rc = gr::gr_spawn_ex(f, arg, &nowait, out);
        if rc != gr::GR_EAGAIN || opts.flags & gr::GR_SPAWN_NOWAIT != 0 {
            return rc; // spawned, failed otherwise, or the caller itself asked not to wait
        }
        // The queue is full (or a bound spawn found no thread slot at once: this retry then
        // waits for one without the GIL, for the caller's timeout_ns).
        SPAWN_RETRIES.fetch_add(1, Relaxed);
        let ts = ffi::PyEval_SaveThread();
        let rc = gr::gr_spawn_ex(f, arg, opts, out);
        ffi::PyEval_RestoreThread(ts);
        return rc;
    }
    if pystate::in_python_goroutine() {
        return gr::gr_spawn_ex(f, arg, opts, out);
    }
    let ts = pystate::suspend_goroutine();
    let rc = gr::gr_spawn_ex(f, arg, opts, out);
    pystate::resume_goroutine(ts);
    rc
}

pub fn spawn_opts(stack: usize) -> gr::gr_spawn_opts {
    let mut o = gr::gr_spawn_opts { size: 0, flags: 0, stack_size: 0, timeout_ns: 0 };
    // SAFETY: gr_spawn_opts_init fills the struct it is given.
    unsafe { gr::gr_spawn_opts_init(&mut o) };
    o.stack_size = stack;
    o
}

unsafe fn new_goroutine(handle: *mut gr::gr_handle, task: Option<Arc<Task>>) -> PyRes<*mut ffi::PyObject> {
    let py = Python::assume_gil_acquired();
    match Bound::new(py, Goroutine { handle, task }) {
        Ok(b) => Ok(b.into_ptr()),
        Err(e) => {
            e.restore(py);
            Err(Raised)
        }
    }
}

crate::raw_entry!(go_raw => go);
/// `go(fn, *args, **kwargs) -> Goroutine`
unsafe fn go(_m: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    spawn_python(&a, "go", false, |f, arg, opts, out| Ok(spawn_released(f, arg, opts, out)))
}

crate::raw_entry!(go_main_raw => go_main);
/// `_go_main(fn, *args, **kwargs) -> Goroutine`: `run()`'s main goroutine, bound to a thread
/// of its own (`GR_SPAWN_BOUND`), so that no other goroutine is ever pinned to its thread:
/// another goroutine's blocking call can never hold it up.
unsafe fn go_main(_m: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    spawn_python_with(&a, "run", false, true, |f, arg, opts, out| Ok(spawn_released(f, arg, opts, out)))
}


/// Starts `a.pos[0](*a.pos[1..], **kwargs)` as a Python goroutine through `spawn`; returns
/// its `Goroutine`. `reported`: its exception is someone else's to report (a `Group`'s), never
/// "never retrieved".
/// # Safety
/// The GIL is held; `a` holds the call's live arguments.
pub unsafe fn spawn_python(a: &Args, what: &str, reported: bool, spawn: impl FnOnce(gr::gr_fn, *mut c_void, &gr::gr_spawn_opts, &mut *mut gr::gr_handle) -> PyRes<std::ffi::c_int>) -> PyRes<*mut ffi::PyObject> {
    spawn_python_with(a, what, reported, false, spawn)
}

/// `spawn_python`; `bound`: on a thread of its own (`GR_SPAWN_BOUND`, `run()`'s main).
/// # Safety
/// As `spawn_python`.
unsafe fn spawn_python_with(a: &Args, what: &str, reported: bool, bound: bool, spawn: impl FnOnce(gr::gr_fn, *mut c_void, &gr::gr_spawn_opts, &mut *mut gr::gr_handle) -> PyRes<std::ffi::c_int>) -> PyRes<*mut ffi::PyObject> {
    let Some((&func, rest)) = a.pos.split_first() else {
        return Err(errors::type_error(&format!("{what}() needs a callable")));
    };
    if ffi::PyCallable_Check(func) == 0 {
        return Err(errors::type_error(&format!("{what}(): the first argument must be callable")));
    }
    let args = nn(ffi::PyTuple_New(rest.len() as ffi::Py_ssize_t))?;
    for (i, &p) in rest.iter().enumerate() {
        ffi::Py_INCREF(p);
        ffi::PyTuple_SET_ITEM(args, i as ffi::Py_ssize_t, p);
    }
    let mut kwargs = ptr::null_mut();
    if a.kw_len() > 0 {
        kwargs = ffi::PyDict_New();
        for i in 0..a.kw_len() {
            let (k, v) = a.kw(i);
            if kwargs.is_null() || ffi::PyDict_SetItem(kwargs, k, v) != 0 {
                ffi::Py_XDECREF(kwargs);
                ffi::Py_DECREF(args);
                return Err(Raised);
            }
        }
    }
    let ctx = ffi::PyContext_CopyCurrent();
    if ctx.is_null() {
        ffi::Py_XDECREF(kwargs);
        ffi::Py_DECREF(args);
        return Err(Raised);
    }
    ffi::Py_INCREF(func);
    pystate::ensure_gil_gate();
    if start_backlog_full() {
        start_backlog_wait();
    }
    let stack = pystate::GOROUTINE_STACK.load(Relaxed);
    let from_python = pystate::in_python_goroutine();
    // run()'s main is bound to a thread of its own: its children are not kept on its
    // processor (that thread never runs them), they go where idle workers take them.
    let local = from_python && gr::gr_context() != gr::GR_CTX_BOUND;
    let task = Arc::new(Task {
        func,
        args,
        kwargs,
        ctx,
        stack,
        result: UnsafeCell::new(ptr::null_mut()),
        exc: UnsafeCell::new(ptr::null_mut()),
        retrieved: AtomicBool::new(reported),
        finished: AtomicBool::new(false),
    });
    let mut opts = spawn_opts(stack);
    if bound {
        opts.flags |= gr::GR_SPAWN_BOUND;
    } else if local {
        // Python goroutines only contend for the GIL when spread over workers: start this one
        // on the spawner's processor (it moves with it if its thread gets stuck).
        opts.flags |= gr::GR_SPAWN_LOCAL;
    }
    let mut h = ptr::null_mut();
    let raw_task = Arc::into_raw(task.clone()) as *mut c_void;
    SPAWNED.0.fetch_add(1, Relaxed); // before the goroutine can count its start
    let rc = match spawn(run_python, raw_task, &opts, &mut h) {
        Ok(rc) => rc,
        Err(r) => {
            SPAWNED.0.fetch_sub(1, Relaxed);
            drop(Arc::from_raw(raw_task as *const Task));
            return Err(r);
        }
    };
    if rc != gr::GR_OK {
        SPAWNED.0.fetch_sub(1, Relaxed);
        drop(Arc::from_raw(raw_task as *const Task));
        return Err(errors::raise_status(if rc == gr::GR_EAGAIN { gr::GR_ETIMEDOUT } else { rc }, what));
    }
    let g = new_goroutine(h, Some(task));
    if from_python && !bound {
        preemption_point();
    }
    g
}

/// The spawn preemption point that gr.h exempts pinned goroutines from (they may hold the GIL
/// there), taken where the GIL can be let go: when gr says a yield is due (this worker has
/// more than 256 goroutines queued, or the monitor wants the processor back), yield with the
/// GIL released. A pinned goroutine's yield waits behind its processor's queue, so a loop of
/// `go()` keeps a few hundred goroutines queued, whose stacks are recycled while hot, instead
/// of queueing all of them, each on a fresh stack. The spawner may thus park in `go()`.
///
/// `run()`'s main is bound to its thread and cannot be suspended: its `gr_yield` only yields
/// the thread, which the workers (waiting for the GIL it just let go) may not get in time.
/// So it waits, GIL released, in 20 us sleeps until its processor's queue is back under the
/// backlog (at most 5 ms per spawn): backpressure instead of an unbounded queue.
/// # Safety
/// The GIL is held by the calling Python goroutine, which borrows nothing across the call.
unsafe fn preemption_point() {
    if gr::gr_should_yield() == 0 {
        return;
    }
    let ts = pystate::suspend_goroutine();
    if gr::gr_context() == gr::GR_CTX_BOUND {
        for _ in 0..250 {
            gr::gr_sleep(20_000);
            if gr::gr_should_yield() == 0 {
                break;
            }
        }
    } else {
        gr::gr_yield();
    }
    pystate::resume_goroutine(ts);
}

crate::raw_entry!(go_native_raw => go_native);
/// `_go_native(fn_address: int, arg: int) -> Goroutine`: a C `void fn(void*)` as a goroutine.
unsafe fn go_native(_m: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    let [f, arg] = a.parse("go_native", 0, ["fn", "arg"])?;
    let addr = |o: Option<*mut ffi::PyObject>| -> PyRes<usize> {
        match o {
            None => Ok(0),
            Some(o) if o == ffi::Py_None() => Ok(0),
            Some(o) => {
                let v = ffi::PyLong_AsVoidPtr(o);
                if v.is_null() && !ffi::PyErr_Occurred().is_null() {
                    return Err(Raised);
                }
                Ok(v as usize)
            }
        }
    };
    let f = addr(f)?;
    if f == 0 {
        return Err(errors::value_error("go_native(): NULL function pointer"));
    }
    let arg = addr(arg)?;
    // SAFETY: the caller vouches that `f` is a `void (*)(void *)` (documented in go_native).
    let func: gr::gr_fn = std::mem::transmute::<usize, gr::gr_fn>(f);
    let opts = spawn_opts(0);
    let mut h = ptr::null_mut();
    let rc = spawn_released(func, arg as *mut c_void, &opts, &mut h);
    errors::check(rc, "go_native")?;
    new_goroutine(h, None)
}

crate::raw_entry!(wait_raw => wait);
/// `Goroutine.wait(timeout=None)`: the callable's result, or its exception re-raised.
unsafe fn wait(slf: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    let [t] = a.parse("wait", 0, ["timeout"])?;
    let timeout = raw::timeout_ns(t)?;
    let py = Python::assume_gil_acquired();
    let b = Bound::<PyAny>::from_borrowed_ptr(py, slf);
    let g = b.downcast::<Goroutine>().map_err(|_| errors::type_error("wait() needs a Goroutine"))?.get();
    let h = g.handle;
    let finished = g.task.as_ref().is_some_and(|t| t.finished.load(Relaxed));
    let rc = if finished {
        if (*g.task.as_ref().unwrap().exc.get()).is_null() { gr::GR_OK } else { gr::GR_EPANIC }
    } else {
        park(timeout, |ns, cancel| gr::gr_wait_ex(h, ns, cancel))?
    };
    match (rc, &g.task) {
        (gr::GR_OK, Some(t)) => {
            let r = *t.result.get();
            if r.is_null() {
                return Ok(raw::none());
            }
            ffi::Py_INCREF(r);
            Ok(r)
        }
        (gr::GR_OK, None) => Ok(raw::none()),
        (gr::GR_EPANIC, Some(t)) if !(*t.exc.get()).is_null() => {
            t.retrieved.store(true, Relaxed);
            restore_exception(*t.exc.get());
            Err(Raised)
        }
        (gr::GR_EPANIC, _) => {
            let m = gr::gr_handle_error(h);
            let msg = if m.is_null() {
                errors::strerror(rc)
            } else {
                std::ffi::CStr::from_ptr(m).to_string_lossy().into_owned()
            };
            Err(errors::set(errors::GOROUTINE.load(Relaxed), &format!("goroutine failed: {msg}")))
        }
        (gr::GR_EAGAIN, _) => Err(errors::raise_status(gr::GR_ETIMEDOUT, "wait")),
        (rc, _) => Err(errors::raise_status(rc, "wait")),
    }
}

crate::raw_entry!(done_raw => done);
/// `Goroutine.done()`: True once the goroutine has returned (or raised).
unsafe fn done(slf: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    a.parse("done", 0, [])?;
    let py = Python::assume_gil_acquired();
    let b = Bound::<PyAny>::from_borrowed_ptr(py, slf);
    let g = b.downcast::<Goroutine>().map_err(|_| errors::type_error("done() needs a Goroutine"))?.get();
    if let Some(t) = &g.task {
        return Ok(ffi::PyBool_FromLong(t.finished.load(Relaxed) as _));
    }
    let h = g.handle;
    let rc = park(0, |ns, _| gr::gr_wait(h, ns))?;
    Ok(ffi::PyBool_FromLong((rc == gr::GR_OK || rc == gr::GR_EPANIC) as _))
}
