//! The asyncio bridge's native half (`goroutines/aio.py` is the other): a completion port per
//! event loop and the asynchronous channel operations and joins that complete into it (gr.h's
//! `gr_port_*`, `gr_chan_send_async`/`gr_chan_recv_async`, `gr_wait_async`, `gr_async_*`).
//!
//! An event loop awaits a channel operation or a goroutine without a thread: the operation is
//! queued in gr as a parked goroutine's would be, and its completion (by a goroutine, a plain
//! thread, a close, a finishing goroutine) posts the operation's number to the loop's port,
//! whose eventfd the loop watches (`loop.add_reader`); the completer needs no GIL. Nothing here
//! parks, so these are ordinary PyO3 methods.
//!
//! Element ownership (as `chan.rs`): a send's reference is the operation's until it completes
//! with OK (then the channel's, then the receiver's); withdrawn or closed, it is dropped again.
//! A receive's value belongs to the operation until `result()` hands it out; an operation
//! freed before that (its loop closed) drops it.

use std::cell::UnsafeCell;
use std::ffi::c_int;
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering::Relaxed};

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::chan::{Chan, Elem};
use crate::errors::{self, Raised};
use crate::goroutine::Goroutine;
use crate::gr;

fn fetch(py: Python<'_>, _r: Raised) -> PyErr {
    PyErr::fetch(py)
}

/// A completion port: the operations of one event loop complete into it.
#[pyclass(module = "goroutines", frozen, name = "_Port")]
pub struct Port {
    p: AtomicPtr<gr::gr_port>,
}

// SAFETY: gr ports are thread-safe handles; this object owns one.
unsafe impl Send for Port {}
// SAFETY: as above.
unsafe impl Sync for Port {}

impl Drop for Port {
    fn drop(&mut self) {
        // SAFETY: the handle this object owns, freed once (swapped out).
        unsafe { gr::gr_port_free(self.p.swap(ptr::null_mut(), Relaxed)) };
    }
}

/// One asynchronous operation and its element.
#[pyclass(module = "goroutines", frozen, name = "_AsyncOp")]
pub struct AsyncOp {
    op: AtomicPtr<gr::gr_async>,
    /// Boxed: the completer writes through a pointer into it. `None` for a join, or once
    /// handed out. Touched only with the GIL held, and not while the operation is pending.
    elem: Box<UnsafeCell<Option<Elem>>>,
    send: bool,
}

// SAFETY: the handle is thread-safe; `elem` is touched only with the GIL held (type docs).
unsafe impl Send for AsyncOp {}
// SAFETY: as above.
unsafe impl Sync for AsyncOp {}

impl AsyncOp {
    fn new(op: *mut gr::gr_async, elem: Box<UnsafeCell<Option<Elem>>>, send: bool) -> AsyncOp {
        AsyncOp { op: AtomicPtr::new(op), elem, send }
    }

    /// The element, taken out (GIL held; the operation is no longer pending).
    fn take_elem(&self) -> Option<Elem> {
        // SAFETY: the GIL serialises every access, and no completer writes to a completed or
        // withdrawn operation's element (type docs).
        unsafe { (*self.elem.get()).take() }
    }

    /// Settles the element after the final status `rc`: a send that did not happen gets its
    /// reference back; a received value nobody took is dropped.
    /// # Safety
    /// The GIL is held and the operation is no longer pending.
    unsafe fn settle(&self, rc: c_int) {
        let Some(e) = self.take_elem() else { return };
        match (self.send, rc) {
            (true, gr::GR_OK) => {} // the channel owns it now
            (true, _) => e.unsend(),
            (false, gr::GR_OK) => {
                if let Elem::Py(p) = e {
                    ffi::Py_XDECREF(p);
                }
            }
            (false, _) => {}
        }
    }
}

impl Drop for AsyncOp {
    fn drop(&mut self) {
        let op = self.op.swap(ptr::null_mut(), Relaxed);
        if op.is_null() {
            return;
        }
        // SAFETY: our handle; withdraws a pending operation (or reads the result of one that
        // completed), then frees it. Dealloc runs with the GIL held.
        unsafe {
            let rc = gr::gr_async_cancel(op);
            gr::gr_async_free(op);
            self.settle(rc);
        }
    }
}

#[pymethods]
impl AsyncOp {
    /// Withdraws the operation: True if it was withdrawn before anything happened (a send
    /// kept its value, a receive got none); False if it had completed (`result()` has it).
    fn cancel(&self) -> bool {
        // SAFETY: our live handle.
        let rc = unsafe { gr::gr_async_cancel(self.op.load(Relaxed)) };
        if rc != gr::GR_ECANCELED {
            return false;
        }
        // SAFETY: the GIL is held (a pymethod) and the operation was withdrawn.
        unsafe { self.settle(rc) };
        true
    }

    /// True once the operation completed (or was withdrawn).
    fn done(&self) -> bool {
        // SAFETY: our live handle.
        unsafe { gr::gr_async_status(self.op.load(Relaxed)) != gr::GR_EAGAIN }
    }

    /// The outcome of a completed operation: a receive's value (once), None for a send or a
    /// join (a join's goroutine then gives its result through `wait`); `Closed` for a
    /// channel that was closed.
    fn result(&self, py: Python<'_>) -> PyResult<PyObject> {
        // SAFETY: our live handle.
        let rc = unsafe { gr::gr_async_status(self.op.load(Relaxed)) };
        match rc {
            gr::GR_EAGAIN => Err(pyo3::exceptions::PyRuntimeError::new_err("the operation is still pending")),
            gr::GR_ECANCELED => Err(pyo3::exceptions::PyRuntimeError::new_err("the operation was withdrawn")),
            gr::GR_OK | gr::GR_EPANIC if !self.send => match self.take_elem() {
                // SAFETY: a completed receive's element holds an owned reference (or bytes).
                Some(e) => unsafe { e.received().map(|p| PyObject::from_owned_ptr(py, p)).map_err(|r| fetch(py, r)) },
                None => Ok(py.None()),
            },
            gr::GR_OK => {
                drop(self.take_elem()); // the channel owns the sent reference now
                Ok(py.None())
            }
            rc => {
                // SAFETY: the GIL is held and the operation completed.
                unsafe { self.settle(rc) };
                Err(fetch(py, errors::raise_status(rc, if self.send { "send" } else { "recv" })))
            }
        }
    }
}

#[pymethods]
impl Port {
    #[new]
    fn new() -> PyResult<Self> {
        let mut p = ptr::null_mut();
        // SAFETY: `p` is a valid out-pointer.
        errors::check_py(unsafe { gr::gr_port_new(&mut p) }, "port")?;
        Ok(Port { p: AtomicPtr::new(p) })
    }

    /// The descriptor the loop watches (-1 once closed).
    #[getter]
    fn fd(&self) -> c_int {
        let p = self.p.load(Relaxed);
        if p.is_null() {
            return -1;
        }
        // SAFETY: our live handle.
        unsafe { gr::gr_port_fd(p) }
    }

    /// The numbers of the operations completed since the last call, oldest first.
    fn take<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        let p = self.p.load(Relaxed);
        if p.is_null() {
            return Ok(out);
        }
        let mut buf = [0u64; 256];
        loop {
            let mut n = 0usize;
            // SAFETY: our live handle; `buf` holds 256 writable values.
            errors::check_py(unsafe { gr::gr_port_take(p, buf.as_mut_ptr(), buf.len(), &mut n) }, "take")?;
            for u in &buf[..n] {
                out.append(*u)?;
            }
            if n < buf.len() {
                return Ok(out);
            }
        }
    }

    /// Starts a receive from `ch` that posts `user` when it completes.
    fn recv(&self, ch: &Bound<'_, Chan>, user: u64) -> PyResult<AsyncOp> {
        let c = ch.get();
        let mut elem = Box::new(UnsafeCell::new(Some(Elem::for_chan(c))));
        let dst = elem.get_mut().as_mut().map_or(ptr::null_mut(), |e| e.as_ptr());
        let mut op = ptr::null_mut();
        // SAFETY: `dst` lives in `elem`, which the returned object keeps until the operation is
        // freed (its Drop frees the operation first); the port and channel are live handles.
        let rc = unsafe { gr::gr_chan_recv_async(c.ptr, dst, self.p.load(Relaxed), user, &mut op) };
        errors::check_py(rc, "arecv")?;
        Ok(AsyncOp::new(op, elem, false))
    }

    /// Starts a send of `value` on `ch` that posts `user` when it completes.
    fn send(&self, ch: &Bound<'_, Chan>, value: &Bound<'_, PyAny>, user: u64) -> PyResult<AsyncOp> {
        let py = ch.py();
        let c = ch.get();
        // SAFETY: `value` is a live object and the GIL is held.
        let e = unsafe { Elem::for_send(c, value.as_ptr()) }.map_err(|r| fetch(py, r))?;
        let mut elem = Box::new(UnsafeCell::new(Some(e)));
        let src = elem.get_mut().as_mut().map_or(ptr::null_mut(), |e| e.as_ptr());
        let mut op = ptr::null_mut();
        // SAFETY: as in `recv`.
        let rc = unsafe { gr::gr_chan_send_async(c.ptr, src, self.p.load(Relaxed), user, &mut op) };
        if rc != gr::GR_OK {
            if let Some(e) = elem.get_mut().take() {
                // SAFETY: the send never started: its reference is ours to drop (GIL held).
                unsafe { e.unsend() };
            }
            errors::check_py(rc, "asend")?;
        }
        Ok(AsyncOp::new(op, elem, true))
    }

    /// Starts a join of goroutine `g` that posts `user` when it returns.
    fn join(&self, g: &Bound<'_, Goroutine>, user: u64) -> PyResult<AsyncOp> {
        let mut op = ptr::null_mut();
        // SAFETY: the goroutine's handle and our port are live handles.
        let rc = unsafe { gr::gr_wait_async(g.get().handle, self.p.load(Relaxed), user, &mut op) };
        errors::check_py(rc, "wait")?;
        Ok(AsyncOp::new(op, Box::new(UnsafeCell::new(None)), false))
    }

    /// Frees the port now (its loop closed); operations started on it stay valid.
    fn close(&self) {
        // SAFETY: the handle this object owns, freed once (swapped out).
        unsafe { gr::gr_port_free(self.p.swap(ptr::null_mut(), Relaxed)) };
    }
}

/// `goroutines.aio`'s coroutine functions behind `Chan.arecv` / `Chan.asend` (imported on
/// first use, so that `import goroutines` does not import asyncio).
static ARECV: AtomicPtr<ffi::PyObject> = AtomicPtr::new(ptr::null_mut());
static ASEND: AtomicPtr<ffi::PyObject> = AtomicPtr::new(ptr::null_mut());

unsafe fn aio_fn(slot: &AtomicPtr<ffi::PyObject>, name: &std::ffi::CStr) -> crate::errors::PyRes<*mut ffi::PyObject> {
    let f = slot.load(Relaxed);
    if !f.is_null() {
        return Ok(f);
    }
    let m = ffi::PyImport_ImportModule(c"goroutines.aio".as_ptr());
    if m.is_null() {
        return Err(Raised);
    }
    let f = ffi::PyObject_GetAttrString(m, name.as_ptr());
    ffi::Py_DECREF(m);
    if f.is_null() {
        return Err(Raised);
    }
    slot.store(f, Relaxed); // kept for the process's life (one reference)
    Ok(f)
}

crate::raw_entry!(arecv_raw => arecv);
/// `Chan.arecv()`: a coroutine receiving a value (`goroutines.aio`).
unsafe fn arecv(slf: *mut ffi::PyObject, a: crate::raw::Args) -> crate::errors::PyRes<*mut ffi::PyObject> {
    a.parse("arecv", 0, [])?;
    let f = aio_fn(&ARECV, c"_arecv")?;
    crate::raw::nn(ffi::PyObject_CallOneArg(f, slf))
}

crate::raw_entry!(asend_raw => asend);
/// `Chan.asend(value)`: a coroutine sending `value` (`goroutines.aio`).
unsafe fn asend(slf: *mut ffi::PyObject, a: crate::raw::Args) -> crate::errors::PyRes<*mut ffi::PyObject> {
    let [v] = a.parse("asend", 0, ["value"])?;
    let v = v.ok_or_else(|| errors::type_error("asend() missing the value"))?;
    let f = aio_fn(&ASEND, c"_asend")?;
    let args = [slf, v];
    crate::raw::nn(ffi::PyObject_Vectorcall(f, args.as_ptr(), 2, ptr::null_mut()))
}

/// Registers the bridge's classes and `Chan.arecv` / `Chan.asend`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Port>()?;
    m.add_class::<AsyncOp>()?;
    let chan_t = m.py().get_type::<Chan>();
    crate::add_raw_method(&chan_t, c"arecv", arecv_raw, c"arecv($self)\n--\n\nA coroutine that receives a value without blocking the event loop (goroutines.aio); Closed once closed and drained.")?;
    crate::add_raw_method(&chan_t, c"asend", asend_raw, c"asend($self, value)\n--\n\nA coroutine that sends value without blocking the event loop (goroutines.aio); Closed if closed.")?;
    Ok(())
}
