//! `Context`: gr's cancel tokens as Go's `context` for Python, and the *current* context.
//!
//! The current context is a `contextvars.ContextVar` (`CURRENT`): `with ctx:` makes `ctx`
//! current for the block, a goroutine inherits its spawner's (as `go()` copies the
//! contextvars context), and every call of this binding that blocks passes the current
//! context's token to gr (`pystate::park`), so a cancelled or expired context ends the
//! blocking calls made under it: with `goroutines.Cancelled`, or with
//! `goroutines.DeadlineExceeded` (a `Cancelled` and a `TimeoutError`) once its deadline
//! passed. `Group` (in `__init__.py`) runs its tasks and its body under its context.
//!
//! A `Context` owns its token (freed, hence cancelled, when the object goes) and keeps its
//! parent object alive, so a parent is never freed under a live child. A group's context is
//! borrowed from the group (it keeps the group's handle alive instead).

use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering::Relaxed};

use pyo3::ffi;
use pyo3::prelude::*;

use crate::chan::{Chan, Decode};
use crate::errors::{self, PyRes, Raised};
use crate::gr;
use crate::pystate::park;
use crate::raw::{self, Args};

/// The `ContextVar` holding the current `Context` (or None), made at import.
pub static CURRENT: AtomicPtr<ffi::PyObject> = AtomicPtr::new(ptr::null_mut());
/// A second `ContextVar`: the tuple of values `CURRENT` had before each `with ctx:` still
/// open in this contextvars context (so `__exit__` restores the right one per goroutine).
pub static OUTER: AtomicPtr<ffi::PyObject> = AtomicPtr::new(ptr::null_mut());

/// A Go context: cancel it (`cancel()`), derive children that are cancelled with it
/// (`with_cancel()`, `with_timeout()`, `with_deadline()`), read why it ended (`err()`), wait
/// on `done` in `select`. `with ctx:` makes it the current context of the block.
#[pyclass(module = "goroutines", frozen)]
pub struct Context {
    pub ptr: *mut gr::gr_cancel,
    /// Whether this object frees the token (a group's context is the group's).
    owned: bool,
    /// What must outlive the token: the parent Context, or a group's handle.
    _keep: Option<PyObject>,
}

// SAFETY: gr cancel tokens are thread-safe; the pointer is owned (or kept alive) as above.
unsafe impl Send for Context {}
// SAFETY: as above.
unsafe impl Sync for Context {}

impl Drop for Context {
    fn drop(&mut self) {
        if self.owned {
            // SAFETY: the token this object owns; freeing cancels it (nobody can use it any
            // more: every user holds this object).
            unsafe { gr::gr_cancel_free(self.ptr) };
        }
    }
}

impl Context {
    /// A Context over `ptr`; `owned`: free it with the object; `keep`: kept alive by it.
    pub fn wrap(py: Python<'_>, ptr: *mut gr::gr_cancel, owned: bool, keep: Option<PyObject>) -> PyResult<Py<Context>> {
        Py::new(py, Context { ptr, owned, _keep: keep })
    }

    fn derive(slf: &Bound<'_, Self>, f: impl FnOnce(*mut gr::gr_cancel, *mut *mut gr::gr_cancel) -> std::ffi::c_int) -> PyResult<Py<Context>> {
        let mut p = ptr::null_mut();
        errors::check_py(f(slf.get().ptr, &mut p), "Context")?;
        Context::wrap(slf.py(), p, true, Some(slf.clone().into_any().unbind()))
    }
}

fn ns_of(seconds: f64, what: &str) -> PyResult<i64> {
    if seconds.is_nan() {
        return Err(pyo3::exceptions::PyValueError::new_err(format!("{what}: not a number")));
    }
    Ok(if seconds >= 9.0e9 { i64::MAX } else { (seconds.max(0.0) * 1e9) as i64 })
}

#[pymethods]
impl Context {
    /// A new root context: cancelled only by `cancel()` (or by being freed).
    #[new]
    fn new() -> PyResult<Self> {
        let mut p = ptr::null_mut();
        // SAFETY: `p` is a valid out-pointer.
        errors::check_py(unsafe { gr::gr_cancel_new(&mut p) }, "Context")?;
        Ok(Context { ptr: p, owned: true, _keep: None })
    }

    /// A child: cancelled when this one is, or by its own `cancel()`.
    fn with_cancel(slf: &Bound<'_, Self>) -> PyResult<Py<Context>> {
        // SAFETY: the parent token is live (held by `slf`); `out` is valid.
        Context::derive(slf, |parent, out| unsafe { gr::gr_cancel_new_child(parent, out) })
    }

    /// A child that is also cancelled `seconds` from now, with `DeadlineExceeded`.
    fn with_timeout(slf: &Bound<'_, Self>, seconds: f64) -> PyResult<Py<Context>> {
        let ns = ns_of(seconds, "with_timeout")?;
        // SAFETY: as in `with_cancel`.
        Context::derive(slf, |parent, out| unsafe { gr::gr_cancel_new_timeout(parent, ns, out) })
    }

    /// A child that is also cancelled at `deadline`, on the `time.monotonic()` clock.
    fn with_deadline(slf: &Bound<'_, Self>, deadline: f64) -> PyResult<Py<Context>> {
        let ns = ns_of(deadline, "with_deadline")?;
        // SAFETY: as in `with_cancel`.
        Context::derive(slf, |parent, out| unsafe { gr::gr_cancel_new_deadline(parent, ns, out) })
    }

    /// Cancels this context and every context derived from it (a no-op once ended).
    fn cancel(&self) -> PyResult<()> {
        // SAFETY: the token is live while `self` is.
        errors::check_py(unsafe { gr::gr_cancel_fire(self.ptr) }, "Context.cancel")
    }

    /// Whether it has ended (cancelled, or its deadline passed).
    fn cancelled(&self) -> bool {
        // SAFETY: as above.
        unsafe { gr::gr_cancel_err(self.ptr) != gr::GR_OK }
    }

    /// Go's `ctx.Err()`: None while it runs, then a `Cancelled` or a `DeadlineExceeded`
    /// instance saying why it ended.
    fn err(&self, py: Python<'_>) -> PyResult<PyObject> {
        // SAFETY: as above.
        let rc = unsafe { gr::gr_cancel_err(self.ptr) };
        if rc == gr::GR_OK {
            return Ok(py.None());
        }
        errors::reason_instance(py, rc)
    }

    /// The deadline at which it ends by itself (its own or an ancestor's), on the
    /// `time.monotonic()` clock; None if it has none.
    #[getter]
    fn deadline(&self) -> Option<f64> {
        let mut ns = 0i64;
        // SAFETY: as above; `ns` is a valid out-pointer.
        (unsafe { gr::gr_cancel_deadline(self.ptr, &mut ns) } == 1).then(|| ns as f64 / 1e9)
    }

    /// Go's `ctx.Done()`: a channel closed when the context ends; in `select`, a receive on
    /// it reports `goroutines.CLOSED` then.
    #[getter]
    fn done(&self) -> PyResult<Chan> {
        // SAFETY: as above; the borrowed channel is retained for the new Chan object.
        let c = unsafe { gr::gr_cancel_done(self.ptr) };
        if c.is_null() {
            return Err(pyo3::exceptions::PyRuntimeError::new_err("Context.done: no channel"));
        }
        // SAFETY: `c` is the token's live done channel.
        Ok(Chan::retained(unsafe { gr::gr_chan_retain(c) }, 1, Decode::Bytes))
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(slf: &Bound<'_, Self>, _args: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        // SAFETY: the GIL is held (a PyO3 method).
        unsafe { leave(slf.py()) }?;
        slf.get().cancel()?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        let state = if self.cancelled() { "done" } else { "running" };
        match self.deadline() {
            Some(d) => format!("<goroutines.Context {state} deadline={d:.3}>"),
            None => format!("<goroutines.Context {state}>"),
        }
    }
}

crate::raw_entry!(enter_raw => enter);
/// `Context.__enter__`: makes it the current context (until `__exit__`, which also cancels
/// it: Go's `defer cancel()`).
unsafe fn enter(slf: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    a.parse("__enter__", 0, [])?;
    make_current(slf)?;
    ffi::Py_INCREF(slf);
    Ok(slf)
}

/// Pushes the current context and makes `ctx` (a Context, or None) current.
/// # Safety
/// The GIL is held.
pub unsafe fn make_current(ctx: *mut ffi::PyObject) -> PyRes<()> {
    let (cur, outer) = (CURRENT.load(Relaxed), OUTER.load(Relaxed));
    let mut prev = ptr::null_mut();
    if ffi::PyContextVar_Get(cur, ffi::Py_None(), &mut prev) < 0 {
        return Err(Raised);
    }
    let mut stack = ptr::null_mut();
    if ffi::PyContextVar_Get(outer, ptr::null_mut(), &mut stack) < 0 {
        ffi::Py_DECREF(prev);
        return Err(Raised);
    }
    let pushed = if stack.is_null() {
        ffi::PyTuple_Pack(1, prev)
    } else {
        let t = ffi::PyTuple_Pack(1, prev);
        let r = if t.is_null() { ptr::null_mut() } else { ffi::PySequence_Concat(stack, t) };
        ffi::Py_XDECREF(t);
        ffi::Py_DECREF(stack);
        r
    };
    ffi::Py_DECREF(prev);
    let pushed = raw::nn(pushed)?;
    let ok = set_var(outer, pushed) && set_var(cur, ctx);
    ffi::Py_DECREF(pushed);
    if ok {
        Ok(())
    } else {
        Err(Raised)
    }
}

/// Pops what `make_current` pushed: the context current before it is current again.
/// # Safety
/// The GIL is held.
pub unsafe fn leave(_py: Python<'_>) -> PyResult<()> {
    let (cur, outer) = (CURRENT.load(Relaxed), OUTER.load(Relaxed));
    let mut stack = ptr::null_mut();
    if ffi::PyContextVar_Get(outer, ptr::null_mut(), &mut stack) < 0 {
        return Err(PyErr::fetch(_py));
    }
    if stack.is_null() || ffi::PyTuple_Size(stack) < 1 {
        ffi::Py_XDECREF(stack);
        return Err(pyo3::exceptions::PyRuntimeError::new_err("Context exited without being entered in this goroutine"));
    }
    let n = ffi::PyTuple_Size(stack);
    let prev = ffi::PyTuple_GetItem(stack, n - 1); // borrowed
    let rest = ffi::PyTuple_GetSlice(stack, 0, n - 1);
    let ok = !rest.is_null() && set_var(cur, prev) && set_var(outer, rest);
    ffi::Py_XDECREF(rest);
    ffi::Py_DECREF(stack);
    if ok {
        Ok(())
    } else {
        Err(PyErr::fetch(_py))
    }
}

unsafe fn set_var(var: *mut ffi::PyObject, v: *mut ffi::PyObject) -> bool {
    let tok = ffi::PyContextVar_Set(var, v);
    if tok.is_null() {
        return false;
    }
    ffi::Py_DECREF(tok);
    true
}

/// The current context while a call blocks: a strong reference (dropped with the GIL held,
/// `release`) and its token (NULL: none).
pub struct Current {
    obj: *mut ffi::PyObject,
    pub ptr: *mut gr::gr_cancel,
}

impl Current {
    pub const NONE: Current = Current { obj: ptr::null_mut(), ptr: ptr::null_mut() };

    /// # Safety
    /// The GIL is held.
    pub unsafe fn release(self) {
        ffi::Py_XDECREF(self.obj);
    }
}

/// The current context's token, for a call about to block.
/// # Safety
/// The GIL is held.
pub unsafe fn current() -> Current {
    let var = CURRENT.load(Relaxed);
    if var.is_null() {
        return Current::NONE;
    }
    let mut v = ptr::null_mut();
    if ffi::PyContextVar_Get(var, ffi::Py_None(), &mut v) < 0 {
        ffi::PyErr_Clear();
        return Current::NONE;
    }
    let py = Python::assume_gil_acquired();
    let b = Bound::<PyAny>::from_borrowed_ptr(py, v);
    match b.downcast::<Context>() {
        Ok(c) => Current { obj: v, ptr: c.get().ptr },
        Err(_) => {
            ffi::Py_DECREF(v);
            Current::NONE
        }
    }
}

/// Why the current context ended (`GR_ECANCELED`, `GR_ETIMEDOUT`), or `GR_OK`.
/// # Safety
/// The GIL is held.
pub unsafe fn current_err() -> std::ffi::c_int {
    let c = current();
    let rc = if c.ptr.is_null() { gr::GR_OK } else { gr::gr_cancel_err(c.ptr) };
    c.release();
    rc
}

/// `current_context()`: the current Context, or None.
#[pyfunction]
pub fn current_context(py: Python<'_>) -> PyResult<PyObject> {
    let var = CURRENT.load(Relaxed);
    let mut v = ptr::null_mut();
    // SAFETY: the GIL is held; `var` is the ContextVar made at import.
    if unsafe { ffi::PyContextVar_Get(var, ffi::Py_None(), &mut v) } < 0 {
        return Err(PyErr::fetch(py));
    }
    // SAFETY: `v` is a new reference.
    Ok(unsafe { PyObject::from_owned_ptr(py, v) })
}

/// The parent of a derived context: `parent`, else the current context, else a new root.
fn parent_of<'py>(py: Python<'py>, parent: Option<Bound<'py, Context>>) -> PyResult<Bound<'py, Context>> {
    if let Some(p) = parent {
        return Ok(p);
    }
    let cur = current_context(py)?;
    match cur.bind(py).downcast::<Context>() {
        Ok(c) => Ok(c.clone()),
        Err(_) => Ok(Bound::new(py, Context::new()?)?),
    }
}

/// `with_cancel(parent=None)`: a child of `parent` (default: the current context, or a new
/// root).
#[pyfunction]
#[pyo3(signature = (parent = None))]
pub fn with_cancel(py: Python<'_>, parent: Option<Bound<'_, Context>>) -> PyResult<Py<Context>> {
    Context::with_cancel(&parent_of(py, parent)?)
}

/// `with_timeout(seconds, parent=None)`: a child of `parent` (as `with_cancel`) that ends
/// `seconds` from now with `DeadlineExceeded`.
#[pyfunction]
#[pyo3(signature = (seconds, parent = None))]
pub fn with_timeout(py: Python<'_>, seconds: f64, parent: Option<Bound<'_, Context>>) -> PyResult<Py<Context>> {
    Context::with_timeout(&parent_of(py, parent)?, seconds)
}

crate::raw_entry!(wait_raw => wait);
/// `Context.wait(timeout=None) -> bool`: blocks until the context ends (True) or `timeout`
/// passes (False).
unsafe fn wait(slf: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    let [t] = a.parse("wait", 0, ["timeout"])?;
    let timeout = raw::timeout_ns(t)?;
    let py = Python::assume_gil_acquired();
    let b = Bound::<PyAny>::from_borrowed_ptr(py, slf);
    let c = b.downcast::<Context>().map_err(|_| errors::type_error("expected a goroutines.Context"))?.get();
    let done = gr::gr_cancel_done(c.ptr) as usize;
    if done == 0 {
        return Err(errors::type_error("Context.wait: no channel"));
    }
    let rc = park(timeout, |ns, cancel| {
        let mut b = 0u8;
        gr::gr_chan_recv_ex(done as *mut gr::gr_chan, &mut b as *mut u8 as *mut std::ffi::c_void, ns, cancel)
    })?;
    match rc {
        gr::GR_ECLOSED => Ok(ffi::PyBool_FromLong(1)),
        // (Waited on under itself, or under a descendant's parent: it ended.)
        gr::GR_ECANCELED if gr::gr_cancel_err(c.ptr) != gr::GR_OK => Ok(ffi::PyBool_FromLong(1)),
        gr::GR_ETIMEDOUT | gr::GR_EAGAIN => Ok(ffi::PyBool_FromLong(0)),
        rc => Err(errors::raise_status(rc, "Context.wait")),
    }
}

/// `_push_context(ctx)`: makes `ctx` (a Context, or None: no context) current until the
/// matching `_pop_context()`, without cancelling anything (how `Group` runs its body and its
/// tasks under the group's context, and waits for them under none).
#[pyfunction]
pub fn _push_context(ctx: &Bound<'_, PyAny>) -> PyResult<()> {
    if !ctx.is_none() && ctx.downcast::<Context>().is_err() {
        return Err(pyo3::exceptions::PyTypeError::new_err("_push_context: expected a Context or None"));
    }
    // SAFETY: the GIL is held; `ctx` is alive for the call (the ContextVar takes a reference).
    unsafe { make_current(ctx.as_ptr()) }.map_err(|_| PyErr::fetch(ctx.py()))
}

/// `_pop_context()`: undoes the last `_push_context` (or `with ctx:`) of this goroutine.
#[pyfunction]
pub fn _pop_context(py: Python<'_>) -> PyResult<()> {
    // SAFETY: the GIL is held.
    unsafe { leave(py) }
}
