//! `_GroupHandle`: gr's task group (`gr_group_*`) under `goroutines.Group` (`__init__.py`,
//! which gives it `asyncio.TaskGroup`'s shape). Its goroutines are ordinary Python
//! goroutines (`go()`'s machinery) started into the group, whose context the first failure
//! cancels.

use std::ffi::c_void;
use std::ptr;

use pyo3::ffi;
use pyo3::prelude::*;

use crate::context::Context;
use crate::errors::{self, PyRes};
use crate::goroutine::spawn_python;
use crate::gr;
use crate::pystate::{self, park};
use crate::raw::{self, Args};

/// A gr task group (see `goroutines.Group`).
#[pyclass(module = "goroutines", frozen)]
pub struct _GroupHandle {
    ptr: *mut gr::gr_group,
    /// The parent context object, kept alive while the group (whose context derives from it)
    /// lives.
    _parent: Option<Py<Context>>,
}

// SAFETY: gr groups are thread-safe; the pointer is owned by this object.
unsafe impl Send for _GroupHandle {}
// SAFETY: as above.
unsafe impl Sync for _GroupHandle {}

impl Drop for _GroupHandle {
    fn drop(&mut self) {
        // SAFETY: the group this object owns; this is its last use (cancels its context).
        unsafe { gr::gr_group_free(self.ptr) };
    }
}

#[pymethods]
impl _GroupHandle {
    #[new]
    #[pyo3(signature = (parent = None, limit = 0))]
    fn new(parent: Option<Py<Context>>, limit: usize) -> PyResult<Self> {
        let pptr = parent.as_ref().map_or(ptr::null_mut(), |p| p.get().ptr);
        let mut g = ptr::null_mut();
        // SAFETY: the parent token is live (held by `parent`); `g` is a valid out-pointer.
        errors::check_py(unsafe { gr::gr_group_new(pptr, limit, &mut g) }, "Group")?;
        Ok(_GroupHandle { ptr: g, _parent: parent })
    }

    /// The group's context (borrowed from the group, which it keeps alive).
    #[getter]
    fn context(slf: &Bound<'_, Self>) -> PyResult<Py<Context>> {
        // SAFETY: the group is live while `slf` is.
        let c = unsafe { gr::gr_group_context(slf.get().ptr) };
        Context::wrap(slf.py(), c, false, Some(slf.clone().into_any().unbind()))
    }

    /// Cancels the group's context.
    fn cancel(&self) -> PyResult<()> {
        // SAFETY: the group is live while `self` is.
        errors::check_py(unsafe { gr::gr_group_cancel(self.ptr) }, "Group.cancel")
    }
}

unsafe fn handle_of<'a>(slf: *mut ffi::PyObject) -> PyRes<&'a _GroupHandle> {
    let py = Python::assume_gil_acquired();
    let b = Bound::<PyAny>::from_borrowed_ptr(py, slf);
    match b.downcast::<_GroupHandle>() {
        // SAFETY: `slf` is alive for the whole call.
        Ok(c) => Ok(&*(c.get() as *const _GroupHandle)),
        Err(_) => Err(errors::type_error("expected a goroutines._GroupHandle")),
    }
}

crate::raw_entry!(spawn_raw => spawn);
/// `_GroupHandle.spawn(fn, /, *args, **kwargs) -> Goroutine`: a Python goroutine in the
/// group; with a limit, waits (parks) for a free slot first.
unsafe fn spawn(slf: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    let g = handle_of(slf)?.ptr as usize;
    spawn_python(&a, "Group.go", true, |f, arg, opts, out| {
        let (argp, optp, outp) = (arg as usize, opts as *const gr::gr_spawn_opts as usize, out as *mut *mut gr::gr_handle as usize);
        let call = |ns: i64, cancel: *mut gr::gr_cancel| {
            gr::gr_group_spawn(g as *mut gr::gr_group, f, argp as *mut c_void, optp as *const gr::gr_spawn_opts, ns, cancel, outp as *mut *mut gr::gr_handle)
        };
        if pystate::in_goroutine() && !pystate::in_python_goroutine() {
            // A C goroutine in Python: the spawn may preempt it, never with the GIL held.
            let ctx = crate::context::current();
            let ts = pystate::suspend_goroutine();
            let rc = call(gr::GR_FOREVER, ctx.ptr);
            pystate::resume_goroutine(ts);
            ctx.release();
            return Ok(rc);
        }
        park(gr::GR_FOREVER, call)
    })
}

crate::raw_entry!(wait_raw => wait);
/// `_GroupHandle.wait(timeout=None) -> bool`: waits for every goroutine of the group;
/// whether one failed. `TimeoutError` if `timeout` passed first.
unsafe fn wait(slf: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    let [t] = a.parse("wait", 0, ["timeout"])?;
    let g = handle_of(slf)?.ptr as usize;
    let rc = park(raw::timeout_ns(t)?, |ns, cancel| gr::gr_group_wait_ex(g as *mut gr::gr_group, ns, cancel))?;
    match rc {
        gr::GR_OK => Ok(ffi::PyBool_FromLong(0)),
        gr::GR_EPANIC => Ok(ffi::PyBool_FromLong(1)),
        gr::GR_EAGAIN => Err(errors::raise_status(gr::GR_ETIMEDOUT, "Group.wait")),
        rc => Err(errors::raise_status(rc, "Group.wait")),
    }
}
