//! `RWMutex`, `Cond` and `Semaphore` over gr's (Go's `sync.RWMutex`, `sync.Cond`,
//! x/sync's weighted semaphore). Every wait parks a goroutine or blocks a thread with the GIL
//! released, takes a timeout, and ends when the current Context is cancelled.

use std::ptr;

use pyo3::ffi;
use pyo3::prelude::*;

use crate::errors::{self, PyRes};
use crate::gr;
use crate::pystate::park;
use crate::raw::{self, Args};
use crate::sync::{check_wait, downcast as this, lock_mutex, Mutex};

// ------------------------------------------------------------------------------- RWMutex

/// Go's `sync.RWMutex`: many readers or one writer, writer preference. `with rw:` and
/// `with rw.write:` hold the write lock, `with rw.read:` a read lock. Not owned by a
/// thread: any goroutine or thread may unlock.
#[pyclass(module = "goroutines", frozen)]
pub struct RWMutex {
    ptr: *mut gr::gr_rwmutex,
}

// SAFETY: gr RWMutexes are thread-safe; owned by this object.
unsafe impl Send for RWMutex {}
// SAFETY: as above.
unsafe impl Sync for RWMutex {}

impl Drop for RWMutex {
    fn drop(&mut self) {
        // SAFETY: the RWMutex this object owns; this is its last use.
        unsafe { gr::gr_rwmutex_free(self.ptr) };
    }
}

/// One side of an RWMutex as a lock object: `rw.read` or `rw.write`.
#[pyclass(module = "goroutines", frozen)]
pub struct RWLocker {
    rw: Py<RWMutex>,
    write: bool,
}

#[pymethods]
impl RWMutex {
    #[new]
    fn new() -> PyResult<Self> {
        let mut p = ptr::null_mut();
        // SAFETY: `p` is a valid out-pointer.
        errors::check_py(unsafe { gr::gr_rwmutex_new(&mut p) }, "RWMutex")?;
        Ok(RWMutex { ptr: p })
    }

    /// Releases the write lock (`StateError` if not write-locked).
    fn unlock(&self) -> PyResult<()> {
        // SAFETY: the RWMutex is live while `self` is.
        errors::check_py(unsafe { gr::gr_rwmutex_unlock(self.ptr) }, "RWMutex.unlock")
    }

    /// Releases a read lock (`StateError` if not read-locked).
    fn runlock(&self) -> PyResult<()> {
        // SAFETY: as above.
        errors::check_py(unsafe { gr::gr_rwmutex_runlock(self.ptr) }, "RWMutex.runlock")
    }

    /// The read side as a lock object (`with rw.read:`).
    #[getter]
    fn read(slf: &Bound<'_, Self>) -> RWLocker {
        RWLocker { rw: slf.clone().unbind(), write: false }
    }

    /// The write side as a lock object (`with rw.write:`).
    #[getter]
    fn write(slf: &Bound<'_, Self>) -> RWLocker {
        RWLocker { rw: slf.clone().unbind(), write: true }
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.unlock()?;
        Ok(false)
    }
}

#[pymethods]
impl RWLocker {
    /// Releases this side's lock.
    fn release(&self, py: Python<'_>) -> PyResult<()> {
        let rw = self.rw.get();
        if self.write {
            rw.unlock()
        } else {
            let _ = py;
            rw.runlock()
        }
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.release(py)?;
        Ok(false)
    }
}

unsafe fn rw_lock(rw: &RWMutex, write: bool, timeout: i64) -> PyRes<std::ffi::c_int> {
    let p = rw.ptr as usize;
    Ok(park(timeout, |ns, cancel| {
        if write {
            gr::gr_rwmutex_lock_ex(p as *mut gr::gr_rwmutex, ns, cancel)
        } else {
            gr::gr_rwmutex_rlock_ex(p as *mut gr::gr_rwmutex, ns, cancel)
        }
    })?)
}

macro_rules! rw_entry {
    ($raw:ident, $body:ident, $name:literal, $write:expr, $try:expr) => {
        crate::raw_entry!($raw => $body);
        unsafe fn $body(slf: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
            let rw = this::<RWMutex>(slf, "RWMutex")?;
            if $try {
                a.parse($name, 0, [])?;
                let rc = rw_lock(rw, $write, 0)?;
                return Ok(ffi::PyBool_FromLong((rc == gr::GR_OK) as _));
            }
            let [t] = a.parse($name, 0, ["timeout"])?;
            check_wait(rw_lock(rw, $write, raw::timeout_ns(t)?)?, concat!("RWMutex.", $name))?;
            Ok(raw::none())
        }
    };
}
rw_entry!(rw_lock_raw, rw_lock_entry, "lock", true, false);
rw_entry!(rw_rlock_raw, rw_rlock_entry, "rlock", false, false);
rw_entry!(rw_try_lock_raw, rw_try_lock_entry, "try_lock", true, true);
rw_entry!(rw_try_rlock_raw, rw_try_rlock_entry, "try_rlock", false, true);

crate::raw_entry!(rw_enter_raw => rw_enter);
/// `RWMutex.__enter__`: the write lock.
unsafe fn rw_enter(slf: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    a.parse("__enter__", 0, [])?;
    check_wait(rw_lock(this::<RWMutex>(slf, "RWMutex")?, true, gr::GR_FOREVER)?, "RWMutex")?;
    ffi::Py_INCREF(slf);
    Ok(slf)
}

crate::raw_entry!(locker_acquire_raw => locker_acquire);
/// `RWLocker.acquire(timeout=None)`: this side's lock.
unsafe fn locker_acquire(slf: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    let [t] = a.parse("acquire", 0, ["timeout"])?;
    let l = this::<RWLocker>(slf, "RWLocker")?;
    check_wait(rw_lock(l.rw.get(), l.write, raw::timeout_ns(t)?)?, "RWMutex")?;
    Ok(raw::none())
}

crate::raw_entry!(locker_enter_raw => locker_enter);
/// `RWLocker.__enter__`: this side's lock.
unsafe fn locker_enter(slf: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    a.parse("__enter__", 0, [])?;
    let l = this::<RWLocker>(slf, "RWLocker")?;
    check_wait(rw_lock(l.rw.get(), l.write, gr::GR_FOREVER)?, "RWMutex")?;
    ffi::Py_INCREF(slf);
    Ok(slf)
}

// ---------------------------------------------------------------------------------- Cond

/// Go's `sync.Cond` over a `goroutines.Mutex` (a new one if none is given): `wait()`
/// releases the mutex, waits for `signal()`/`broadcast()` and takes the mutex back. `with
/// cond:` holds the mutex.
#[pyclass(module = "goroutines", frozen)]
pub struct Cond {
    ptr: *mut gr::gr_cond,
    mutex: Py<Mutex>,
}

// SAFETY: gr conds are thread-safe; owned by this object (its mutex kept alive by `mutex`).
unsafe impl Send for Cond {}
// SAFETY: as above.
unsafe impl Sync for Cond {}

impl Drop for Cond {
    fn drop(&mut self) {
        // SAFETY: the cond this object owns; this is its last use (the mutex outlives it).
        unsafe { gr::gr_cond_free(self.ptr) };
    }
}

#[pymethods]
impl Cond {
    #[new]
    #[pyo3(signature = (mutex = None))]
    fn new(py: Python<'_>, mutex: Option<Py<Mutex>>) -> PyResult<Self> {
        let mutex = match mutex {
            Some(m) => m,
            None => Py::new(py, Mutex::create()?)?,
        };
        let mut p = ptr::null_mut();
        // SAFETY: the mutex is live (held by `mutex`), `p` a valid out-pointer.
        errors::check_py(unsafe { gr::gr_cond_new(mutex.get().ptr, &mut p) }, "Cond")?;
        Ok(Cond { ptr: p, mutex })
    }

    /// The mutex the cond waits with.
    #[getter]
    fn mutex(&self, py: Python<'_>) -> Py<Mutex> {
        self.mutex.clone_ref(py)
    }

    /// Wakes the longest-waiting waiter, if any (`notify()`).
    fn signal(&self) -> PyResult<()> {
        // SAFETY: the cond is live while `self` is.
        errors::check_py(unsafe { gr::gr_cond_signal(self.ptr) }, "Cond.signal")
    }

    /// Wakes every waiter (`notify_all()`).
    fn broadcast(&self) -> PyResult<()> {
        // SAFETY: as above.
        errors::check_py(unsafe { gr::gr_cond_broadcast(self.ptr) }, "Cond.broadcast")
    }

    fn notify(&self) -> PyResult<()> {
        self.signal()
    }

    fn notify_all(&self) -> PyResult<()> {
        self.broadcast()
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        // SAFETY: the mutex is live while `self` is.
        errors::check_py(unsafe { gr::gr_mutex_unlock(self.mutex.get().ptr) }, "Cond")?;
        Ok(false)
    }
}

crate::raw_entry!(cond_wait_raw => cond_wait);
/// `Cond.wait(timeout=None) -> bool`: with the mutex held; True if signalled, False if
/// `timeout` passed first (the mutex is held again either way, as `threading.Condition`).
unsafe fn cond_wait(slf: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    let [t] = a.parse("wait", 0, ["timeout"])?;
    let c = this::<Cond>(slf, "Cond")?.ptr as usize;
    let rc = park(raw::timeout_ns(t)?, |ns, cancel| gr::gr_cond_wait_ex(c as *mut gr::gr_cond, ns, cancel))?;
    match rc {
        gr::GR_OK => Ok(ffi::PyBool_FromLong(1)),
        gr::GR_ETIMEDOUT | gr::GR_EAGAIN => Ok(ffi::PyBool_FromLong(0)),
        rc => Err(errors::raise_status(rc, "Cond.wait")),
    }
}

crate::raw_entry!(cond_enter_raw => cond_enter);
/// `Cond.__enter__`: takes the mutex.
unsafe fn cond_enter(slf: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    a.parse("__enter__", 0, [])?;
    lock_mutex(this::<Cond>(slf, "Cond")?.mutex.get(), gr::GR_FOREVER, "Cond")?;
    ffi::Py_INCREF(slf);
    Ok(slf)
}

// ----------------------------------------------------------------------------- Semaphore

/// A weighted semaphore (`golang.org/x/sync/semaphore`): `size` units, acquired `n` at a
/// time, first come first served. `with sem:` holds one unit.
#[pyclass(module = "goroutines", frozen)]
pub struct Semaphore {
    ptr: *mut gr::gr_sem,
    size: i64,
}

// SAFETY: gr semaphores are thread-safe; owned by this object.
unsafe impl Send for Semaphore {}
// SAFETY: as above.
unsafe impl Sync for Semaphore {}

impl Drop for Semaphore {
    fn drop(&mut self) {
        // SAFETY: the semaphore this object owns; this is its last use.
        unsafe { gr::gr_sem_free(self.ptr) };
    }
}

#[pymethods]
impl Semaphore {
    #[new]
    #[pyo3(signature = (size = 1))]
    fn new(size: i64) -> PyResult<Self> {
        let mut p = ptr::null_mut();
        // SAFETY: `p` is a valid out-pointer.
        errors::check_py(unsafe { gr::gr_sem_new(size, &mut p) }, "Semaphore")?;
        Ok(Semaphore { ptr: p, size })
    }

    #[getter]
    fn size(&self) -> i64 {
        self.size
    }

    /// Gives back `n` units (`StateError` if fewer are held).
    #[pyo3(signature = (n = 1))]
    fn release(&self, n: i64) -> PyResult<()> {
        // SAFETY: the semaphore is live while `self` is.
        errors::check_py(unsafe { gr::gr_sem_release(self.ptr, n) }, "Semaphore.release")
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.release(1)?;
        Ok(false)
    }
}

unsafe fn sem_acquire(slf: *mut ffi::PyObject, n: i64, timeout: i64) -> PyRes<std::ffi::c_int> {
    let s = this::<Semaphore>(slf, "Semaphore")?.ptr as usize;
    park(timeout, |ns, cancel| gr::gr_sem_acquire_ex(s as *mut gr::gr_sem, n, ns, cancel))
}

unsafe fn count_arg(o: Option<*mut ffi::PyObject>) -> PyRes<i64> {
    match o {
        None => Ok(1),
        Some(o) => {
            let v = ffi::PyLong_AsLongLong(o);
            if v == -1 && !ffi::PyErr_Occurred().is_null() {
                return Err(errors::Raised);
            }
            Ok(v)
        }
    }
}

crate::raw_entry!(sem_acquire_raw => sem_acquire_entry);
/// `Semaphore.acquire(n=1, timeout=None)`: `TimeoutError` if it could not within
/// `timeout`; `ValueError` for `n` above the size (it never could).
unsafe fn sem_acquire_entry(slf: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    let [n, t] = a.parse("acquire", 0, ["n", "timeout"])?;
    check_wait(sem_acquire(slf, count_arg(n)?, raw::timeout_ns(t)?)?, "Semaphore.acquire")?;
    Ok(raw::none())
}

crate::raw_entry!(sem_try_acquire_raw => sem_try_acquire);
/// `Semaphore.try_acquire(n=1) -> bool`: without waiting.
unsafe fn sem_try_acquire(slf: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    let [n] = a.parse("try_acquire", 0, ["n"])?;
    match sem_acquire(slf, count_arg(n)?, 0)? {
        gr::GR_OK => Ok(ffi::PyBool_FromLong(1)),
        gr::GR_EAGAIN => Ok(ffi::PyBool_FromLong(0)),
        rc => Err(errors::raise_status(rc, "Semaphore.try_acquire")),
    }
}

crate::raw_entry!(sem_enter_raw => sem_enter);
/// `Semaphore.__enter__`: one unit.
unsafe fn sem_enter(slf: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    a.parse("__enter__", 0, [])?;
    check_wait(sem_acquire(slf, 1, gr::GR_FOREVER)?, "Semaphore")?;
    ffi::Py_INCREF(slf);
    Ok(slf)
}
