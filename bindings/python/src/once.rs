//! `Once` over gr's (Go's `sync.Once` with the failure rule of `sync.OnceValue`): `do(fn,
//! *args, **kwargs)` runs `fn` exactly once, in the first caller; callers that come while it
//! runs wait for it (GIL released); every caller gets its result, or its exception re-raised
//! (a failed function is not run again).

use std::ffi::{c_int, c_void};
use std::ptr;

use pyo3::ffi;
use pyo3::prelude::*;

use crate::errors::{self, PyRes, Raised};
use crate::goroutine::{fetch_exception, restore_exception};
use crate::gr;
use crate::pystate::park;
use crate::raw::{nn, Args};

/// Go's `sync.Once` that keeps its function's outcome (`sync.OnceValue`).
#[pyclass(module = "goroutines", frozen)]
pub struct Once {
    ptr: *mut gr::gr_once,
    /// The function's result (DONE) or exception (FAILED): a new reference, written once by
    /// the runner with the GIL held before gr publishes the final state.
    outcome: std::sync::Mutex<usize>,
}

// SAFETY: gr onces are thread-safe; `outcome` is only touched with the GIL held.
unsafe impl Send for Once {}
// SAFETY: as above.
unsafe impl Sync for Once {}

impl Drop for Once {
    fn drop(&mut self) {
        let o = *self.outcome.get_mut().unwrap_or_else(|p| p.into_inner());
        // SAFETY: dealloc runs with the GIL held; the reference is ours.
        unsafe { ffi::Py_XDECREF(o as *mut ffi::PyObject) };
        // SAFETY: the Once this object owns; this is its last use.
        unsafe { gr::gr_once_free(self.ptr) };
    }
}

#[pymethods]
impl Once {
    #[new]
    fn new() -> PyResult<Self> {
        let mut p = ptr::null_mut();
        // SAFETY: `p` is a valid out-pointer.
        errors::check_py(unsafe { gr::gr_once_new(&mut p) }, "Once")?;
        Ok(Once { ptr: p, outcome: std::sync::Mutex::new(0) })
    }

    /// Whether the function has run and returned.
    #[getter]
    fn done(&self) -> bool {
        // SAFETY: the Once is live while `self` is.
        unsafe { gr::gr_once_state(self.ptr, ptr::null_mut()) == gr::GR_ONCE_DONE }
    }

    /// Whether the function has run and raised.
    #[getter]
    fn failed(&self) -> bool {
        // SAFETY: as above.
        unsafe { gr::gr_once_state(self.ptr, ptr::null_mut()) == gr::GR_ONCE_FAILED }
    }
}

/// The runner's call, on its stack while `gr_once_do_ex` runs it.
struct Call<'a> {
    once: &'a Once,
    func: *mut ffi::PyObject,
    args: *mut ffi::PyObject,
    kwargs: *mut ffi::PyObject,
}

/// Runs the function (in the calling goroutine or thread, which holds the GIL: the first
/// call polls with it held) and keeps its outcome. 0 for a result, 1 for an exception.
unsafe extern "C" fn run(arg: *mut c_void) -> c_int {
    let c = &*(arg as *const Call<'_>);
    let r = ffi::PyObject_Call(c.func, c.args, c.kwargs);
    let (v, rc) = if r.is_null() { (fetch_exception(), 1) } else { (r, 0) };
    *c.once.outcome.lock().unwrap_or_else(|p| p.into_inner()) = v as usize;
    rc
}

/// For the calls that only wait (the function is running elsewhere): never run (a waiting
/// call cannot become the runner), and it could not touch Python without the GIL anyway.
unsafe extern "C" fn never(_: *mut c_void) -> c_int {
    1
}

crate::raw_entry!(do_raw => once_do);
/// `Once.do(fn, /, *args, **kwargs)`: `fn`'s result (from whichever call ran it), or its
/// exception re-raised; `StateError` from inside `fn` itself.
unsafe fn once_do(slf: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    let py = Python::assume_gil_acquired();
    let b = Bound::<PyAny>::from_borrowed_ptr(py, slf);
    let once = &*(b.downcast::<Once>().map_err(|_| errors::type_error("expected a goroutines.Once"))?.get() as *const Once);
    let rc = match gr::gr_once_state(once.ptr, ptr::null_mut()) {
        gr::GR_ONCE_DONE => gr::GR_OK,
        gr::GR_ONCE_FAILED => gr::GR_EPANIC,
        _ => {
            let Some((&func, rest)) = a.pos.split_first() else {
                return Err(errors::type_error("Once.do() needs a callable"));
            };
            let args = nn(ffi::PyTuple_New(rest.len() as ffi::Py_ssize_t))?;
            for (i, &p) in rest.iter().enumerate() {
                ffi::Py_INCREF(p);
                ffi::PyTuple_SET_ITEM(args, i as ffi::Py_ssize_t, p);
            }
            let kwargs = if a.kw_len() > 0 { ffi::PyDict_New() } else { ptr::null_mut() };
            for i in 0..a.kw_len() {
                let (k, v) = a.kw(i);
                if ffi::PyDict_SetItem(kwargs, k, v) != 0 {
                    ffi::Py_XDECREF(kwargs);
                    ffi::Py_DECREF(args);
                    return Err(Raised);
                }
            }
            let call = Call { once, func, args, kwargs };
            // A poll with the GIL held: the first caller runs the function right here.
            let mut rc = gr::gr_once_do_ex(once.ptr, Some(run), &call as *const Call<'_> as *mut c_void, 0, ptr::null_mut());
            ffi::Py_DECREF(args);
            ffi::Py_XDECREF(kwargs);
            if rc == gr::GR_EAGAIN {
                // Running in another goroutine or thread: wait for it without the GIL.
                let p = once.ptr as usize;
                rc = park(gr::GR_FOREVER, |ns, cancel| gr::gr_once_do_ex(p as *mut gr::gr_once, Some(never), ptr::null_mut(), ns, cancel))?;
            }
            rc
        }
    };
    let outcome = *once.outcome.lock().unwrap_or_else(|p| p.into_inner()) as *mut ffi::PyObject;
    match rc {
        gr::GR_OK => {
            let v = if outcome.is_null() { ffi::Py_None() } else { outcome };
            ffi::Py_INCREF(v);
            Ok(v)
        }
        gr::GR_EPANIC if !outcome.is_null() => {
            restore_exception(outcome);
            Err(Raised)
        }
        gr::GR_ESTATE => Err(errors::set(errors::STATE.load(std::sync::atomic::Ordering::Relaxed), "Once.do: called from its own function (it would wait for itself)")),
        rc => Err(errors::raise_status(rc, "Once.do")),
    }
}
