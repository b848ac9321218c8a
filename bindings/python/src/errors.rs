//! gr status codes become Python exceptions here, and only here.
//!
//! | status        | exception                          |
//! |---------------|------------------------------------|
//! | GR_ECLOSED    | goroutines.Closed                  |
//! | GR_ETIMEDOUT  | TimeoutError (built-in)            |
//! | GR_EAGAIN     | goroutines.WouldBlock              |
//! | GR_EINVAL     | ValueError                         |
//! | GR_ENOMEM     | MemoryError (message names sysctl) |
//! | GR_ESTATE     | goroutines.StateError              |
//! | GR_EPANIC     | goroutines.GoroutineError          |
//! | GR_ECANCELED  | goroutines.Cancelled, or goroutines.DeadlineExceeded (a Cancelled and a |
//! |               | TimeoutError) when the current Context ended at its deadline          |
//! | GR_ENOTPOLL   | OSError (built-in)                 |
//! | GR_EOS        | OSError (built-in)                 |
//!
//! No Python call waits on a descriptor yet (the netpoller's `gr_fd_*` calls): their codes
//! map to `OSError` until the cooperative sockets use them.

use std::ffi::{c_int, CStr, CString};
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering::Relaxed};

use pyo3::ffi;

use crate::gr;

/// A Python exception has been set; the entry point returns NULL.
#[derive(Debug)]
pub struct Raised;
pub type PyRes<T> = Result<T, Raised>;

pub static ERROR: AtomicPtr<ffi::PyObject> = AtomicPtr::new(ptr::null_mut());
pub static CLOSED: AtomicPtr<ffi::PyObject> = AtomicPtr::new(ptr::null_mut());
pub static WOULD_BLOCK: AtomicPtr<ffi::PyObject> = AtomicPtr::new(ptr::null_mut());
pub static STATE: AtomicPtr<ffi::PyObject> = AtomicPtr::new(ptr::null_mut());
pub static GOROUTINE: AtomicPtr<ffi::PyObject> = AtomicPtr::new(ptr::null_mut());
pub static CANCELLED: AtomicPtr<ffi::PyObject> = AtomicPtr::new(ptr::null_mut());
pub static DEADLINE: AtomicPtr<ffi::PyObject> = AtomicPtr::new(ptr::null_mut());

/// Creates the exception types; returns (name, type) pairs for the module.
/// # Safety
/// The GIL is held.
pub unsafe fn create() -> PyRes<Vec<(&'static str, *mut ffi::PyObject)>> {
    unsafe fn new(
        slot: &AtomicPtr<ffi::PyObject>,
        name: &CStr,
        doc: &CStr,
        bases: *mut ffi::PyObject,
    ) -> PyRes<*mut ffi::PyObject> {
        let t = ffi::PyErr_NewExceptionWithDoc(name.as_ptr(), doc.as_ptr(), bases, ptr::null_mut());
        if t.is_null() {
            return Err(Raised);
        }
        slot.store(t, Relaxed);
        Ok(t)
    }
    let err = new(&ERROR, c"goroutines.Error", c"Base of the errors raised by goroutines.", ptr::null_mut())?;
    let closed = new(&CLOSED, c"goroutines.Closed", c"The channel is closed (and, for recv, drained).", err)?;
    let wb = new(&WOULD_BLOCK, c"goroutines.WouldBlock", c"A poll found the operation would block.", err)?;
    let bases = ffi::PyTuple_Pack(2, err, ffi::PyExc_RuntimeError);
    let state = new(&STATE, c"goroutines.StateError", c"Wrong runtime state: already initialised, shut down, unlocked mutex, forked child.", bases)?;
    let gor = new(&GOROUTINE, c"goroutines.GoroutineError", c"A goroutine failed without a Python exception (a C goroutine, or the runtime).", bases)?;
    ffi::Py_DECREF(bases);
    let canc = new(&CANCELLED, c"goroutines.Cancelled", c"The wait was cancelled: its Context (or one it derives from) was cancelled.", err)?;
    let bases = ffi::PyTuple_Pack(2, canc, ffi::PyExc_TimeoutError);
    let deadline = new(&DEADLINE, c"goroutines.DeadlineExceeded", c"The wait's Context reached its deadline (a Cancelled, and a TimeoutError).", bases)?;
    ffi::Py_DECREF(bases);
    Ok(vec![
        ("DeadlineExceeded", deadline),
        ("Error", err),
        ("Closed", closed),
        ("WouldBlock", wb),
        ("StateError", state),
        ("GoroutineError", gor),
        ("Cancelled", canc),
    ])
}

pub fn strerror(rc: c_int) -> String {
    // SAFETY: gr_strerror returns a static NUL-terminated string for any status.
    let p = unsafe { gr::gr_strerror(rc) };
    if p.is_null() {
        return format!("gr error {rc}");
    }
    // SAFETY: `p` is non-NULL, static and NUL-terminated (gr_strerror's contract).
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// Sets the exception for a failed gr status and returns `Raised`.
pub fn raise_status(rc: c_int, what: &str) -> Raised {
    // SAFETY: reads of CPython's exception-type globals (set at interpreter start) and of our own atomics.
    let ty = unsafe {
        match rc {
            gr::GR_ECLOSED => CLOSED.load(Relaxed),
            gr::GR_ETIMEDOUT => ffi::PyExc_TimeoutError,
            gr::GR_EAGAIN => WOULD_BLOCK.load(Relaxed),
            gr::GR_EINVAL => ffi::PyExc_ValueError,
            gr::GR_ENOMEM => ffi::PyExc_MemoryError,
            gr::GR_ESTATE => STATE.load(Relaxed),
            gr::GR_EPANIC => GOROUTINE.load(Relaxed),
            gr::GR_ECANCELED if crate::context::current_err() == gr::GR_ETIMEDOUT => DEADLINE.load(Relaxed),
            gr::GR_ECANCELED => CANCELLED.load(Relaxed),
            gr::GR_ENOTPOLL => ffi::PyExc_OSError,
            gr::GR_EOS => ffi::PyExc_OSError,
            _ => ERROR.load(Relaxed),
        }
    };
    let msg = if what.is_empty() { strerror(rc) } else { format!("{what}: {}", strerror(rc)) };
    set(ty, &msg)
}

/// Sets `ty(msg)` as the current exception.
pub fn set(ty: *mut ffi::PyObject, msg: &str) -> Raised {
    let c = CString::new(msg.replace('\0', "?")).unwrap_or_default();
    // SAFETY: the GIL is held by every caller (entry points run under it).
    unsafe { ffi::PyErr_SetString(ty, c.as_ptr()) };
    Raised
}

pub fn type_error(msg: &str) -> Raised {
    // SAFETY: a CPython global, set at interpreter start.
    set(unsafe { ffi::PyExc_TypeError }, msg)
}

pub fn value_error(msg: &str) -> Raised {
    // SAFETY: a CPython global, set at interpreter start.
    set(unsafe { ffi::PyExc_ValueError }, msg)
}

/// Maps a gr status to `Ok(())` or the exception.
pub fn check(rc: c_int, what: &str) -> PyRes<()> {
    if rc == gr::GR_OK {
        Ok(())
    } else {
        Err(raise_status(rc, what))
    }
}

/// `check` for the PyO3 (`#[pymethods]`, never parking) side: the exception as a `PyErr`.
pub fn check_py(rc: c_int, what: &str) -> pyo3::PyResult<()> {
    match check(rc, what) {
        Ok(()) => Ok(()),
        // SAFETY: PyO3 methods run with the GIL held; check() has just set the exception.
        Err(Raised) => Err(pyo3::PyErr::fetch(unsafe { pyo3::Python::assume_gil_acquired() })),
    }
}

/// A `Cancelled` (for `GR_ECANCELED`) or `DeadlineExceeded` (for `GR_ETIMEDOUT`) instance,
/// for `Context.err()`.
pub fn reason_instance(py: pyo3::Python<'_>, rc: c_int) -> pyo3::PyResult<pyo3::PyObject> {
    let (ty, msg) = if rc == gr::GR_ETIMEDOUT {
        (DEADLINE.load(Relaxed), c"context deadline exceeded")
    } else {
        (CANCELLED.load(Relaxed), c"context cancelled")
    };
    // SAFETY: the GIL is held; `ty` is one of our exception types, `msg` a C string.
    unsafe {
        let m = ffi::PyUnicode_FromString(msg.as_ptr());
        if m.is_null() {
            return Err(pyo3::PyErr::fetch(py));
        }
        let e = ffi::PyObject_CallOneArg(ty, m);
        ffi::Py_DECREF(m);
        if e.is_null() {
            return Err(pyo3::PyErr::fetch(py));
        }
        Ok(pyo3::PyObject::from_owned_ptr(py, e))
    }
}
