//! WaitGroup, Mutex, sleep and yield_.

use std::ptr;

use pyo3::ffi;
use pyo3::prelude::*;

use crate::errors::{self, PyRes};
use crate::gr;
use crate::pystate::{self, blocking, park};
use crate::raw::{self, Args};

/// Go's sync.WaitGroup.
#[pyclass(module = "goroutines", frozen)]
pub struct WaitGroup {
    ptr: *mut gr::gr_wg,
}
// SAFETY: gr_wg is thread-safe; owned by this object.
unsafe impl Send for WaitGroup {}
// SAFETY: as above.
unsafe impl Sync for WaitGroup {}

impl Drop for WaitGroup {
    fn drop(&mut self) {
        // SAFETY: `self.ptr` is the WaitGroup this object owns; this is its last use.
        unsafe { gr::gr_wg_free(self.ptr) };
    }
}

#[pymethods]
impl WaitGroup {
    #[new]
    fn new() -> PyResult<Self> {
        let mut p = ptr::null_mut();
        // SAFETY: `p` is a valid out-pointer.
        errors::check_py(unsafe { gr::gr_wg_new(&mut p) }, "WaitGroup")?;
        Ok(WaitGroup { ptr: p })
    }

    #[pyo3(signature = (delta = 1))]
    fn add(&self, delta: i64) -> PyResult<()> {
        // SAFETY: `self.ptr` is the live WaitGroup this object owns (freed only in Drop).
        errors::check_py(unsafe { gr::gr_wg_add(self.ptr, delta) }, "WaitGroup.add")
    }

    fn done(&self) -> PyResult<()> {
        // SAFETY: `self.ptr` is the live WaitGroup this object owns (freed only in Drop).
        errors::check_py(unsafe { gr::gr_wg_done(self.ptr) }, "WaitGroup.done")
    }
}

/// Go's sync.Mutex; also a context manager. Not reentrant and not owned by a thread.
#[pyclass(module = "goroutines", frozen)]
pub struct Mutex {
    pub ptr: *mut gr::gr_mutex,
}
// SAFETY: gr_mutex is thread-safe; owned by this object.
unsafe impl Send for Mutex {}
// SAFETY: as above.
unsafe impl Sync for Mutex {}

impl Drop for Mutex {
    fn drop(&mut self) {
        // SAFETY: `self.ptr` is the mutex this object owns; this is its last use.
        unsafe { gr::gr_mutex_free(self.ptr) };
    }
}

impl Mutex {
    pub fn create() -> PyResult<Mutex> {
        let mut p = ptr::null_mut();
        // SAFETY: `p` is a valid out-pointer.
        errors::check_py(unsafe { gr::gr_mutex_new(&mut p) }, "Mutex")?;
        Ok(Mutex { ptr: p })
    }
}

#[pymethods]
impl Mutex {
    #[new]
    fn new() -> PyResult<Self> {
        Mutex::create()
    }

    fn unlock(&self) -> PyResult<()> {
        // SAFETY: `self.ptr` is the live mutex this object owns (freed only in Drop).
        errors::check_py(unsafe { gr::gr_mutex_unlock(self.ptr) }, "Mutex.unlock")
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.unlock()?;
        Ok(false)
    }
}

/// `slf` as the frozen pyclass `T`, or `TypeError` naming `goroutines.{what}`.
///
/// # Safety
/// `slf` is a live object and the GIL is held for the returned borrow's life.
pub(crate) unsafe fn downcast<'a, T>(slf: *mut ffi::PyObject, what: &str) -> PyRes<&'a T>
where
    T: pyo3::PyClass<Frozen = pyo3::pyclass::boolean_struct::True> + Sync,
{
    let py = Python::assume_gil_acquired();
    let b = Bound::<PyAny>::from_borrowed_ptr(py, slf);
    match b.downcast::<T>() {
        // SAFETY: slf is alive for the whole call.
        Ok(c) => Ok(&*(c.get() as *const T)),
        Err(_) => Err(errors::type_error(&format!("expected a goroutines.{what}"))),
    }
}

/// A timed-out wait ("would block" for a poll) as `TimeoutError`, other codes as their
/// exceptions.
pub(crate) fn check_wait(rc: std::ffi::c_int, what: &str) -> PyRes<()> {
    errors::check(if rc == gr::GR_EAGAIN { gr::GR_ETIMEDOUT } else { rc }, what)
}

crate::raw_entry!(wg_wait_raw => wg_wait);
/// `WaitGroup.wait(timeout=None)`
unsafe fn wg_wait(slf: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    let wg = downcast::<WaitGroup>(slf, "WaitGroup")?.ptr as usize;
    let [t] = a.parse("wait", 0, ["timeout"])?;
    let rc = park(raw::timeout_ns(t)?, |ns, cancel| gr::gr_wg_wait_ex(wg as *mut gr::gr_wg, ns, cancel))?;
    check_wait(rc, "WaitGroup.wait")?;
    Ok(raw::none())
}

/// Locks `mu` (parks a goroutine; blocks a thread with the GIL released), `TimeoutError`
/// when `timeout` passes first.
pub(crate) unsafe fn lock_mutex(mu: &Mutex, timeout: i64, what: &str) -> PyRes<()> {
    let mu = mu.ptr as usize;
    check_wait(park(timeout, |ns, cancel| gr::gr_mutex_lock_ex(mu as *mut gr::gr_mutex, ns, cancel))?, what)
}

unsafe fn lock_impl(slf: *mut ffi::PyObject, timeout: i64) -> PyRes<()> {
    lock_mutex(downcast::<Mutex>(slf, "Mutex")?, timeout, "Mutex.lock")
}

crate::raw_entry!(lock_raw => lock);
/// `Mutex.lock(timeout=None)`
unsafe fn lock(slf: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    let [t] = a.parse("lock", 0, ["timeout"])?;
    lock_impl(slf, raw::timeout_ns(t)?)?;
    Ok(raw::none())
}

crate::raw_entry!(enter_raw => enter);
/// `Mutex.__enter__`
unsafe fn enter(slf: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    a.parse("__enter__", 0, [])?;
    lock_impl(slf, gr::GR_FOREVER)?;
    ffi::Py_INCREF(slf);
    Ok(slf)
}

crate::raw_entry!(sleep_raw => sleep);
/// `sleep(seconds)`: parks a goroutine; blocks a plain thread (GIL released, Ctrl-C works).
unsafe fn sleep(_m: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    let [s] = a.parse("sleep", 0, ["seconds"])?;
    let s = s.ok_or_else(|| errors::type_error("sleep() missing seconds"))?;
    let ns = raw::timeout_ns(Some(s))?;
    if ns == gr::GR_FOREVER && s == ffi::Py_None() {
        return Err(errors::type_error("sleep() needs a number of seconds"));
    }
    if ns == 0 {
        yield_now();
        return Ok(raw::none());
    }
    // Each slice sleeps; "timed out" means "keep going" to the slicing loop.
    let rc = blocking(ns, |slice, cancel| match gr::gr_sleep_ex(slice, cancel) {
        gr::GR_OK => gr::GR_ETIMEDOUT,
        rc => rc,
    })?;
    if rc == gr::GR_ECANCELED {
        return Err(errors::raise_status(rc, "sleep"));
    }
    Ok(raw::none())
}

unsafe fn yield_now() {
    if pystate::in_goroutine() {
        let ts = pystate::suspend_goroutine();
        gr::gr_yield();
        pystate::resume_goroutine(ts);
    } else {
        let ts = ffi::PyEval_SaveThread();
        std::thread::yield_now();
        ffi::PyEval_RestoreThread(ts);
    }
}

crate::raw_entry!(yield_raw => yield_);
/// `yield_()`: let other goroutines run.
unsafe fn yield_(_m: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    a.parse("yield_", 0, [])?;
    yield_now();
    Ok(raw::none())
}


crate::raw_entry!(try_lock_raw => try_lock);
/// `Mutex.try_lock() -> bool`: True if the lock was taken without waiting.
unsafe fn try_lock(slf: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    a.parse("try_lock", 0, [])?;
    let mu = downcast::<Mutex>(slf, "Mutex")?.ptr as usize;
    let rc = park(0, |ns, cancel| gr::gr_mutex_lock_ex(mu as *mut gr::gr_mutex, ns, cancel))?;
    Ok(ffi::PyBool_FromLong((rc == gr::GR_OK) as _))
}
