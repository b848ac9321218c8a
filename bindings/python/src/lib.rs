//! `goroutines._goroutines`: the PyO3 extension behind `import goroutines`.
//!
//! Map of the crate:
//! - `gr.rs`        the C ABI of libgr.so.0 (linked dynamically, never a static copy);
//! - `pystate.rs`   thread states, parking, Ctrl-C slices and exit: the protocol;
//! - `raw.rs`       raw PyCFunction entry points (everything that may park goes through here);
//! - `errors.rs`    gr status -> Python exception, in one place;
//! - `goroutine.rs` go(), go_native(), Goroutine;
//! - `chan.rs`      Chan, select;
//! - `dump.rs`      dump(): the runtime's goroutine dump with each goroutine's Python frames;
//! - `fd.rs`        wait_readable/wait_writable and the socket hot paths, on gr_fd_*;
//! - `stall.rs`     stall warnings: the core's gr_stall_hook reports, logged on the main thread;
//! - `sync.rs`      WaitGroup, Mutex, sleep, yield_;
//! - `aio.rs`       the asyncio bridge's ports and asynchronous operations (`goroutines/aio.py`);
//! - `context.rs`   Context and the current context (every blocking call takes its token);
//! - `time.rs`      after, Timer, Ticker (timer channels);
//! - `locks.rs`     RWMutex, Cond, Semaphore;
//! - `once.rs`      Once;
//! - `group.rs`     the task group under `goroutines.Group` (in `__init__.py`);
//! - `arena.rs`     a cache for the 16 KiB frame-stack chunk each thread state allocates.

#![warn(clippy::undocumented_unsafe_blocks)]

mod aio;
mod arena;
mod chan;
mod context;
mod dump;
mod errors;
mod fd;
mod goroutine;
mod gr;
mod group;
mod locks;
mod once;
mod pystate;
mod raw;
mod stall;
mod sync;
mod time;

use std::ffi::CStr;
use std::sync::atomic::Ordering::Relaxed;

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Starts the runtime with explicit settings; optional (first use starts the defaults).
/// `stack_size` is the stack reserved for each Python goroutine (default 1 MiB);
/// `c_stack_size` the runtime's default for C goroutines (0 = its own default).
#[pyfunction]
#[pyo3(signature = (workers = None, stack_size = None, c_stack_size = None, max_threads = None))]
fn init(workers: Option<u32>, stack_size: Option<usize>, c_stack_size: Option<usize>, max_threads: Option<u32>) -> PyResult<()> {
    let mut c = gr::gr_config { size: 0, workers: 0, stack_size: 0, max_threads: 0 };
    // SAFETY: gr_config_init fills the struct.
    unsafe { gr::gr_config_init(&mut c) };
    c.workers = workers.unwrap_or(0);
    c.stack_size = c_stack_size.unwrap_or(0);
    c.max_threads = max_threads.unwrap_or(0);
    // SAFETY: `c` is an initialised gr_config on our stack.
    errors::check_py(unsafe { gr::gr_init(&c) }, "init")?;
    if let Some(s) = stack_size {
        if s < 64 * 1024 {
            return Err(pyo3::exceptions::PyValueError::new_err("stack_size below 64 KiB"));
        }
        pystate::GOROUTINE_STACK.store(s, Relaxed);
    }
    Ok(())
}

/// The names of `gr_stats.waiting`'s entries (gr.h's `GR_WAIT_*`), in index order.
const WAIT_NAMES: [&str; 15] = [
    "",
    "chan_recv",
    "chan_send",
    "select",
    "select_empty",
    "sleep",
    "mutex",
    "waitgroup",
    "join",
    "fd",
    "rwmutex_read",
    "rwmutex_write",
    "cond",
    "semaphore",
    "once",
];

/// Runtime counters (gr.h's `gr_stats`): workers, goroutines (live), threads, spawned_total,
/// steals_total, retakes_total; goroutines by state (running, runnable, parked, sleeping,
/// blocking) and by wait reason (`waiting`: a dict), queue lengths (runq_global, runq_local,
/// runq_pinned), timers, and threads by role (threads_running, threads_idle,
/// threads_blocking, plain_threads, plain_waiting). Takes O(goroutines).
#[pyfunction]
fn stats(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let mut s = gr::gr_stats { size: std::mem::size_of::<gr::gr_stats>() as u32, ..Default::default() };
    // SAFETY: `s` is a gr_stats on our stack with its size set.
    errors::check_py(unsafe { gr::gr_stats_get(&mut s) }, "stats")?;
    let d = PyDict::new(py);
    d.set_item("workers", s.workers)?;
    for (k, v) in [
        ("goroutines", s.goroutines),
        ("threads", s.threads),
        ("spawned_total", s.spawned_total),
        ("steals_total", s.steals_total),
        ("retakes_total", s.retakes_total),
        ("running", s.running),
        ("runnable", s.runnable),
        ("parked", s.parked),
        ("sleeping", s.sleeping),
        ("blocking", s.blocking),
        ("runq_global", s.runq_global),
        ("runq_local", s.runq_local),
        ("runq_pinned", s.runq_pinned),
        ("timers", s.timers),
        ("threads_running", s.threads_running),
        ("threads_idle", s.threads_idle),
        ("threads_blocking", s.threads_blocking),
        ("plain_threads", s.plain_threads),
        ("plain_waiting", s.plain_waiting),
    ] {
        d.set_item(k, v)?;
    }
    let w = PyDict::new(py);
    for (i, name) in WAIT_NAMES.iter().enumerate().skip(1) {
        w.set_item(*name, s.waiting[i])?;
    }
    d.set_item("waiting", w)?;
    Ok(d)
}

/// The id of the calling goroutine; 0 on a plain thread.
#[pyfunction]
fn self_id() -> u64 {
    // SAFETY: gr_self has no preconditions.
    unsafe { gr::gr_self() }
}

/// The libgr version string.
#[pyfunction]
fn version() -> String {
    // SAFETY: gr_version returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(gr::gr_version()) }.to_string_lossy().into_owned()
}

/// Whether the caller runs inside a goroutine.
#[pyfunction]
fn in_goroutine() -> bool {
    pystate::in_goroutine()
}

/// Whether goroutine thread states start with a small frame-stack chunk (src/arena.rs).
#[pyfunction]
fn _small_frame_chunks() -> bool {
    arena::seeding()
}

/// The atexit hook: stop scheduling Python goroutines before finalisation.
#[pyfunction]
fn _atexit() {
    // SAFETY: called by atexit with the GIL held; PyO3's counter is raised but nothing parks.
    unsafe { pystate::stop() }
}

/// The value `select` reports for a receive on a closed channel.
#[pyclass(module = "goroutines", frozen)]
struct ClosedType;

#[pymethods]
impl ClosedType {
    fn __repr__(&self) -> &'static str {
        "goroutines.CLOSED"
    }
    fn __bool__(&self) -> bool {
        false
    }
}

/// Adds a raw (park-capable) method to a PyO3 class, as a true method descriptor.
pub(crate) fn add_raw_method(ty: &Bound<'_, pyo3::types::PyType>, name: &'static CStr, f: raw::FastKw, doc: &'static CStr) -> PyResult<()> {
    let def = raw::method_def(name, f, doc);
    // SAFETY: def is leaked (lives forever); ty is a type object; the GIL is held.
    unsafe {
        let d = ffi::PyDescr_NewMethod(ty.as_ptr() as *mut ffi::PyTypeObject, def);
        if d.is_null() {
            return Err(PyErr::fetch(ty.py()));
        }
        let rc = ffi::PyObject_SetAttrString(ty.as_ptr(), name.as_ptr(), d);
        ffi::Py_DECREF(d);
        if rc != 0 {
            return Err(PyErr::fetch(ty.py()));
        }
    }
    Ok(())
}

/// Makes `Chan[int]` and `Goroutine[str]` work at run time, as the stubs declare the classes
/// generic: `__class_getitem__ = classmethod(types.GenericAlias)`, as the standard library's
/// generic classes (`queue.Queue`, `concurrent.futures.Future`) do.
fn make_generic(ty: &Bound<'_, pyo3::types::PyType>) -> PyResult<()> {
    let py = ty.py();
    let alias = py.import("types")?.getattr("GenericAlias")?;
    let class_getitem = py.import("builtins")?.getattr("classmethod")?.call1((alias,))?;
    ty.setattr("__class_getitem__", class_getitem)
}

fn add_raw_function(m: &Bound<'_, PyModule>, name: &'static CStr, f: raw::FastKw, doc: &'static CStr) -> PyResult<()> {
    let def = raw::method_def(name, f, doc);
    // SAFETY: def is leaked; the GIL is held.
    unsafe {
        let func = ffi::PyCFunction_NewEx(def, std::ptr::null_mut(), std::ptr::null_mut());
        let func = Bound::from_owned_ptr_or_err(m.py(), func)?;
        m.add(name.to_str().unwrap(), func)?;
    }
    Ok(())
}

#[pymodule]
fn _goroutines(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    // SAFETY: module init runs with the GIL held on the importing thread.
    unsafe {
        goroutine::INTERP.store(ffi::PyInterpreterState_Get(), Relaxed);
        pystate::init_gilstate_key();
        arena::install();
        arena::find_datastack();
        // The count of goroutines waiting to start restarts at zero in a fork()ed child
        // (goroutine.rs); a failure to register only leaves it as the parent's.
        libc::pthread_atfork(None, None, Some(goroutine::reset_after_fork));
        for (name, ty) in errors::create().map_err(|_| PyErr::fetch(py))? {
            ffi::Py_INCREF(ty);
            m.add(name, Bound::from_owned_ptr(py, ty))?;
        }
    }
    m.add_class::<chan::Chan>()?;
    m.add_class::<goroutine::Goroutine>()?;
    m.add_class::<sync::WaitGroup>()?;
    m.add_class::<sync::Mutex>()?;
    m.add_class::<context::Context>()?;
    m.add_class::<time::Timer>()?;
    m.add_class::<time::Ticker>()?;
    m.add_class::<locks::RWMutex>()?;
    m.add_class::<locks::RWLocker>()?;
    m.add_class::<locks::Cond>()?;
    m.add_class::<locks::Semaphore>()?;
    m.add_class::<once::Once>()?;
    m.add_class::<group::_GroupHandle>()?;
    // The current Context (context.rs): a ContextVar, and the stack of outer values.
    // SAFETY: the GIL is held; the names are C strings; the vars live for the process.
    unsafe {
        let cur = ffi::PyContextVar_New(c"goroutines.context".as_ptr(), std::ptr::null_mut());
        let outer = ffi::PyContextVar_New(c"goroutines.context_outer".as_ptr(), std::ptr::null_mut());
        if cur.is_null() || outer.is_null() {
            return Err(PyErr::fetch(py));
        }
        context::CURRENT.store(cur, Relaxed);
        context::OUTER.store(outer, Relaxed);
        ffi::Py_INCREF(cur);
        m.add("_context_var", Bound::from_owned_ptr(py, cur))?;
    }
    let closed = Bound::new(py, ClosedType)?;
    chan::CLOSED_SENTINEL.store(closed.clone().into_ptr(), Relaxed);
    m.add("CLOSED", closed)?;

    let chan_t = py.get_type::<chan::Chan>();
    add_raw_method(&chan_t, c"send", chan::send_raw, c"send($self, value, timeout=None)\n--\n\nSends value; blocks (parks) until received or buffered. Closed if closed; TimeoutError on timeout.")?;
    add_raw_method(&chan_t, c"recv", chan::recv_raw, c"recv($self, timeout=None)\n--\n\nReceives a value. Closed once closed and drained; TimeoutError on timeout.")?;
    add_raw_method(&chan_t, c"try_send", chan::try_send_raw, c"try_send($self, value)\n--\n\nSends without waiting; False if it would block.")?;
    add_raw_method(&chan_t, c"try_recv", chan::try_recv_raw, c"try_recv($self)\n--\n\n(value, True), or (None, False) if it would block.")?;
    add_raw_method(&chan_t, c"__next__", chan::next_raw, c"__next__($self, /)\n--\n\nReceives the next value; stops when closed and drained.")?;
    make_generic(&chan_t)?;
    let g_t = py.get_type::<goroutine::Goroutine>();
    make_generic(&g_t)?;
    add_raw_method(&g_t, c"done", goroutine::done_raw, c"done($self)\n--\n\nTrue once the goroutine has returned or raised.")?;
    add_raw_method(&g_t, c"wait", goroutine::wait_raw, c"wait($self, timeout=None)\n--\n\nThe callable's result, or its exception re-raised with the goroutine's traceback.")?;
    let wg_t = py.get_type::<sync::WaitGroup>();
    add_raw_method(&wg_t, c"wait", sync::wg_wait_raw, c"wait($self, timeout=None)\n--\n\nBlocks until the counter is zero.")?;
    let mu_t = py.get_type::<sync::Mutex>();
    add_raw_method(&mu_t, c"lock", sync::lock_raw, c"lock($self, timeout=None)\n--\n\nTakes the lock; TimeoutError on timeout.")?;
    add_raw_method(&mu_t, c"try_lock", sync::try_lock_raw, c"try_lock($self)\n--\n\nTakes the lock if free; returns whether it did.")?;
    add_raw_method(&mu_t, c"__enter__", sync::enter_raw, c"__enter__($self, /)\n--\n\nTakes the lock.")?;

    let ctx_t = py.get_type::<context::Context>();
    add_raw_method(&ctx_t, c"__enter__", context::enter_raw, c"__enter__($self, /)\n--\n\nMakes the context current for the block; leaving it cancels the context.")?;
    add_raw_method(&ctx_t, c"wait", context::wait_raw, c"wait($self, timeout=None)\n--\n\nBlocks until the context ends (True) or timeout passes (False).")?;
    let tk_t = py.get_type::<time::Ticker>();
    add_raw_method(&tk_t, c"__next__", time::ticker_next_raw, c"__next__($self, /)\n--\n\nThe next tick's due time (time.monotonic() clock).")?;
    let rw_t = py.get_type::<locks::RWMutex>();
    add_raw_method(&rw_t, c"lock", locks::rw_lock_raw, c"lock($self, timeout=None)\n--\n\nTakes the write lock; TimeoutError on timeout.")?;
    add_raw_method(&rw_t, c"rlock", locks::rw_rlock_raw, c"rlock($self, timeout=None)\n--\n\nTakes a read lock; TimeoutError on timeout.")?;
    add_raw_method(&rw_t, c"try_lock", locks::rw_try_lock_raw, c"try_lock($self)\n--\n\nTakes the write lock if free; returns whether it did.")?;
    add_raw_method(&rw_t, c"try_rlock", locks::rw_try_rlock_raw, c"try_rlock($self)\n--\n\nTakes a read lock if no writer holds or waits; returns whether it did.")?;
    add_raw_method(&rw_t, c"__enter__", locks::rw_enter_raw, c"__enter__($self, /)\n--\n\nTakes the write lock.")?;
    let rl_t = py.get_type::<locks::RWLocker>();
    add_raw_method(&rl_t, c"acquire", locks::locker_acquire_raw, c"acquire($self, timeout=None)\n--\n\nTakes this side's lock; TimeoutError on timeout.")?;
    add_raw_method(&rl_t, c"__enter__", locks::locker_enter_raw, c"__enter__($self, /)\n--\n\nTakes this side's lock.")?;
    let cond_t = py.get_type::<locks::Cond>();
    add_raw_method(&cond_t, c"wait", locks::cond_wait_raw, c"wait($self, timeout=None)\n--\n\nWith the mutex held: waits for a signal (True) or the timeout (False); the mutex is held again either way.")?;
    add_raw_method(&cond_t, c"__enter__", locks::cond_enter_raw, c"__enter__($self, /)\n--\n\nTakes the mutex.")?;
    let sem_t = py.get_type::<locks::Semaphore>();
    add_raw_method(&sem_t, c"acquire", locks::sem_acquire_raw, c"acquire($self, n=1, timeout=None)\n--\n\nAcquires n units, first come first served; TimeoutError on timeout.")?;
    add_raw_method(&sem_t, c"try_acquire", locks::sem_try_acquire_raw, c"try_acquire($self, n=1)\n--\n\nAcquires n units if no wait is needed; returns whether it did.")?;
    add_raw_method(&sem_t, c"__enter__", locks::sem_enter_raw, c"__enter__($self, /)\n--\n\nAcquires one unit.")?;
    let once_t = py.get_type::<once::Once>();
    add_raw_method(&once_t, c"do", once::do_raw, c"do($self, fn, /, *args, **kwargs)\n--\n\nRuns fn(*args, **kwargs) if no call has; returns its result or re-raises its exception.")?;
    let gh_t = py.get_type::<group::_GroupHandle>();
    add_raw_method(&gh_t, c"spawn", group::spawn_raw, c"spawn($self, fn, /, *args, **kwargs)\n--\n\nStarts fn as a goroutine of the group.")?;
    add_raw_method(&gh_t, c"wait", group::wait_raw, c"wait($self, timeout=None)\n--\n\nWaits for the group's goroutines; whether one failed.")?;

    add_raw_function(m, c"go", goroutine::go_raw, c"go(fn, /, *args, **kwargs)\n--\n\nRuns fn(*args, **kwargs) as a goroutine; returns its Goroutine.")?;
    add_raw_function(m, c"_go_main", goroutine::go_main_raw, c"_go_main(fn, /, *args, **kwargs)\n--\n\nRuns fn as run()'s main goroutine, on a thread of its own.")?;
    add_raw_function(m, c"_go_native", goroutine::go_native_raw, c"_go_native(fn, arg)\n--\n\nRuns the C function at address fn as a goroutine with arg.")?;
    add_raw_function(m, c"select", chan::select_raw, c"select(*cases, timeout=None, default=False)\n--\n\nWaits for the first ready case; returns (index, value).")?;
    add_raw_function(m, c"sleep", sync::sleep_raw, c"sleep(seconds)\n--\n\nParks the goroutine (or blocks the thread) for seconds.")?;
    add_raw_function(m, c"yield_", sync::yield_raw, c"yield_()\n--\n\nLets other goroutines run.")?;

    aio::register(m)?;
    add_raw_function(m, c"wait_readable", fd::wait_readable_raw, c"wait_readable(fd, timeout=None)\n--\n\nWaits until fd (an int or an object with fileno()) is readable; parks a goroutine, blocks a thread. TimeoutError on timeout.")?;
    add_raw_function(m, c"wait_writable", fd::wait_writable_raw, c"wait_writable(fd, timeout=None)\n--\n\nWaits until fd (an int or an object with fileno()) is writable; parks a goroutine, blocks a thread. TimeoutError on timeout.")?;
    add_raw_function(m, c"_fd_wait", fd::fd_wait_raw, c"_fd_wait(fd, events, timeout)\n--\n\nTrue once fd is ready for events (1 read, 2 write), False on timeout.")?;
    add_raw_function(m, c"_fd_wait_any", fd::fd_wait_any_raw, c"_fd_wait_any(fds, events, timeout)\n--\n\nTrue once one of fds is ready for its events, False on timeout.")?;
    add_raw_function(m, c"_sock_recv", fd::sock_recv_raw, c"_sock_recv(fd, bufsize, flags, timeout)\n--\n\nsocket.recv on gr_fd_recv.")?;
    add_raw_function(m, c"_sock_recv_into", fd::sock_recv_into_raw, c"_sock_recv_into(fd, buffer, nbytes, flags, timeout)\n--\n\nsocket.recv_into on gr_fd_recv.")?;
    add_raw_function(m, c"_sock_send", fd::sock_send_raw, c"_sock_send(fd, data, flags, timeout)\n--\n\nsocket.send on gr_fd_send.")?;
    add_raw_function(m, c"_sock_sendall", fd::sock_sendall_raw, c"_sock_sendall(fd, data, flags, timeout)\n--\n\nsocket.sendall on gr_fd_sendall.")?;
    m.add_function(wrap_pyfunction!(fd::_fd_forget, m)?)?;
    m.add_function(wrap_pyfunction!(stall::_stall_warnings, m)?)?;

    m.add_function(wrap_pyfunction!(init, m)?)?;
    m.add_function(wrap_pyfunction!(stats, m)?)?;
    m.add_function(wrap_pyfunction!(dump::_dump, m)?)?;
    m.add_function(wrap_pyfunction!(self_id, m)?)?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add_function(wrap_pyfunction!(in_goroutine, m)?)?;
    m.add_function(wrap_pyfunction!(_atexit, m)?)?;
    m.add_function(wrap_pyfunction!(_small_frame_chunks, m)?)?;
    m.add_function(wrap_pyfunction!(goroutine::_spawn_backpressure, m)?)?;
    m.add_function(wrap_pyfunction!(context::current_context, m)?)?;
    m.add_function(wrap_pyfunction!(context::with_cancel, m)?)?;
    m.add_function(wrap_pyfunction!(context::with_timeout, m)?)?;
    m.add_function(wrap_pyfunction!(time::after, m)?)?;
    m.add_function(wrap_pyfunction!(time::monotonic, m)?)?;
    m.add_function(wrap_pyfunction!(context::_push_context, m)?)?;
    m.add_function(wrap_pyfunction!(context::_pop_context, m)?)?;
    Ok(())
}
