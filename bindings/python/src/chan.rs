//! `Chan`: channels of Python objects (elements are owned `PyObject*`) and of raw bytes
//! (`Chan.native`, shared with C goroutines through `gr_chan*`), plus `select`.
//!
//! Ownership of a Python element: the sender takes a reference before the call; on GR_OK it
//! belongs to the channel (then to the receiver); on any failure the sender drops it again.
//! Elements still inside when the channel is freed are released by `drop_pyobj`.

use std::ffi::{c_int, c_void};
use std::ptr;

use pyo3::ffi;
use pyo3::prelude::*;

use crate::errors::{self, PyRes, Raised};
use crate::gr;
use crate::pystate::{self, park};
use crate::raw::{self, nn, Args};

const PTR: usize = std::mem::size_of::<*mut ffi::PyObject>();

/// A Go channel. `Chan(capacity=0)` carries Python objects; `Chan.native(elem_size,
/// capacity)` carries `elem_size`-byte values that C code sends and receives too.
#[pyclass(module = "goroutines", frozen)]
pub struct Chan {
    pub ptr: *mut gr::gr_chan,
    /// None for a channel of Python objects; Some(elem_size) for a native one.
    pub native: Option<usize>,
    /// How a native channel's elements read back.
    pub decode: Decode,
}

/// How received native elements become Python values.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Decode {
    /// `bytes` of the element size.
    Bytes,
    /// A timer's value (an `int64_t` of `CLOCK_MONOTONIC` nanoseconds): a float on the
    /// `time.monotonic()` clock.
    Time,
}

impl Chan {
    /// A Chan over `ptr`, which holds one reference for this object.
    pub fn retained(ptr: *mut gr::gr_chan, elem_size: usize, decode: Decode) -> Chan {
        Chan { ptr, native: Some(elem_size), decode }
    }
}

// SAFETY: gr channels are thread-safe; the pointer is owned (one reference) by this object.
unsafe impl Send for Chan {}
// SAFETY: as above.
unsafe impl Sync for Chan {}

impl Drop for Chan {
    fn drop(&mut self) {
        // SAFETY: releases the one reference this object owns.
        unsafe { gr::gr_chan_release(self.ptr) };
    }
}

/// Releases a Python element left in a freed channel (gr_chan_new_with_drop callback).
unsafe extern "C" fn drop_pyobj(elem: *mut c_void, _ctx: *mut c_void) {
    let obj = *(elem as *mut *mut ffi::PyObject);
    if obj.is_null() || pystate::stopped() || ffi::Py_IsInitialized() == 0 {
        return; // at exit: leak rather than touch a finalising interpreter
    }
    let g = ffi::PyGILState_Ensure();
    ffi::Py_DECREF(obj);
    ffi::PyGILState_Release(g);
}

#[pymethods]
impl Chan {
    #[new]
    #[pyo3(signature = (capacity = 0))]
    fn new(capacity: usize) -> PyResult<Self> {
        let mut p = ptr::null_mut();
        // SAFETY: out-pointer is valid; drop_pyobj matches gr_drop_fn.
        let rc = unsafe { gr::gr_chan_new_with_drop(PTR, capacity, Some(drop_pyobj), ptr::null_mut(), &mut p) };
        errors::check_py(rc, "Chan")?;
        Ok(Chan { ptr: p, native: None, decode: Decode::Bytes })
    }

    /// A channel of `elem_size`-byte values (bytes in Python) that C goroutines can use
    /// through `address` (a `gr_chan*`).
    #[staticmethod]
    #[pyo3(signature = (elem_size, capacity = 0))]
    fn native(elem_size: usize, capacity: usize) -> PyResult<Self> {
        let mut p = ptr::null_mut();
        // SAFETY: `p` is a valid out-pointer; no drop function, so no context.
        let rc = unsafe { gr::gr_chan_new_with_drop(elem_size, capacity, None, ptr::null_mut(), &mut p) };
        errors::check_py(rc, "Chan.native")?;
        Ok(Chan { ptr: p, native: Some(elem_size), decode: Decode::Bytes })
    }

    /// Wraps a `gr_chan*` made by C (takes its own reference with gr_chan_retain).
    #[staticmethod]
    fn from_address(address: usize, elem_size: usize) -> PyResult<Self> {
        if address == 0 || elem_size == 0 {
            return Err(pyo3::exceptions::PyValueError::new_err("NULL channel or zero elem_size"));
        }
        // SAFETY: the caller vouches that address is a live gr_chan* of that element size.
        let p = unsafe { gr::gr_chan_retain(address as *mut gr::gr_chan) };
        Ok(Chan { ptr: p, native: Some(elem_size), decode: Decode::Bytes })
    }

    /// The `gr_chan*` as an int, for C code (borrowed: valid while this object lives).
    #[getter]
    fn address(&self) -> usize {
        self.ptr as usize
    }

    #[getter]
    fn cap(&self) -> usize {
        // SAFETY: `self.ptr` is the live channel this object owns (released only in Drop).
        unsafe { gr::gr_chan_cap(self.ptr) }
    }

    /// Bytes per element of a native channel; None for a channel of Python objects.
    #[getter(elem_size)]
    fn elem_size_(&self) -> Option<usize> {
        self.native
    }

    /// Number of buffered elements.
    fn len(&self) -> usize {
        // SAFETY: `self.ptr` is the live channel this object owns (released only in Drop).
        unsafe { gr::gr_chan_len(self.ptr) }
    }

    fn __len__(&self) -> usize {
        self.len()
    }

    /// Closes the channel; closing twice raises Closed (Go panics).
    fn close(&self) -> PyResult<()> {
        // SAFETY: `self.ptr` is the live channel this object owns (released only in Drop).
        errors::check_py(unsafe { gr::gr_chan_close(self.ptr) }, "close")
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __repr__(&self) -> String {
        let kind = match self.native {
            None => String::new(),
            Some(n) => format!(" native elem_size={n}"),
        };
        format!("<goroutines.Chan{kind} cap={} len={} at {:p}>", self.cap(), self.len(), self.ptr)
    }
}

pub(crate) unsafe fn chan_of<'a>(slf: *mut ffi::PyObject) -> PyRes<&'a Chan> {
    let py = Python::assume_gil_acquired();
    let b = Bound::<PyAny>::from_borrowed_ptr(py, slf);
    match b.downcast::<Chan>() {
        // SAFETY: slf is kept alive by the caller for the whole call.
        Ok(c) => Ok(&*(c.get() as *const Chan)),
        Err(_) => Err(errors::type_error("expected a goroutines.Chan")),
    }
}

/// Copies a bytes-like value into `buf` (native channels).
unsafe fn fill_native(value: *mut ffi::PyObject, buf: &mut [u8]) -> PyRes<()> {
    let mut view: ffi::Py_buffer = std::mem::zeroed();
    if ffi::PyObject_GetBuffer(value, &mut view, ffi::PyBUF_SIMPLE) != 0 {
        return Err(Raised);
    }
    let ok = view.len as usize == buf.len();
    if ok {
        ptr::copy_nonoverlapping(view.buf as *const u8, buf.as_mut_ptr(), buf.len());
    }
    ffi::PyBuffer_Release(&mut view);
    if !ok {
        return Err(errors::value_error(&format!("native channel needs exactly {} bytes", buf.len())));
    }
    Ok(())
}

/// Element storage for one operation: a PyObject* slot, a byte buffer, a timer's value.
pub(crate) enum Elem {
    Py(*mut ffi::PyObject),
    Bytes(Vec<u8>),
    Time(i64),
}

impl Elem {
    pub(crate) fn for_chan(c: &Chan) -> Elem {
        match (c.native, c.decode) {
            (None, _) => Elem::Py(ptr::null_mut()),
            (Some(_), Decode::Time) => Elem::Time(0),
            (Some(n), Decode::Bytes) => Elem::Bytes(vec![0; n]),
        }
    }
    /// Prepares a send of `value`: takes a reference or copies the bytes.
    pub(crate) unsafe fn for_send(c: &Chan, value: *mut ffi::PyObject) -> PyRes<Elem> {
        match c.native {
            None => {
                ffi::Py_INCREF(value);
                Ok(Elem::Py(value))
            }
            Some(n) => {
                let mut b = vec![0; n];
                fill_native(value, &mut b)?;
                Ok(Elem::Bytes(b))
            }
        }
    }
    pub(crate) fn as_ptr(&mut self) -> *mut c_void {
        match self {
            Elem::Py(p) => p as *mut *mut ffi::PyObject as *mut c_void,
            Elem::Bytes(b) => b.as_mut_ptr() as *mut c_void,
            Elem::Time(t) => t as *mut i64 as *mut c_void,
        }
    }
    /// A send did not happen: give back the reference.
    pub(crate) unsafe fn unsend(self) {
        if let Elem::Py(p) = self {
            ffi::Py_XDECREF(p);
        }
    }
    /// A receive happened: the value as a new reference.
    pub(crate) unsafe fn received(self) -> PyRes<*mut ffi::PyObject> {
        match self {
            Elem::Py(p) if p.is_null() => Ok(raw::none()),
            Elem::Py(p) => Ok(p),
            Elem::Bytes(b) => nn(ffi::PyBytes_FromStringAndSize(b.as_ptr() as *const _, b.len() as ffi::Py_ssize_t)),
            Elem::Time(t) => nn(ffi::PyFloat_FromDouble(t as f64 / 1e9)),
        }
    }
}

/// Sends with a timeout; returns the gr status (GR_OK, GR_ECLOSED, GR_ETIMEDOUT, GR_EAGAIN).
unsafe fn send_status(c: &Chan, value: *mut ffi::PyObject, timeout: i64) -> PyRes<c_int> {
    let mut e = Elem::for_send(c, value)?;
    let ch = c.ptr;
    let p = e.as_ptr() as usize;
    let rc = match park(timeout, |ns, cancel| gr::gr_chan_send_ex(ch, p as *const c_void, ns, cancel)) {
        Ok(rc) => rc,
        Err(r) => {
            e.unsend();
            return Err(r);
        }
    };
    if rc != gr::GR_OK {
        e.unsend();
    }
    Ok(rc)
}

/// Receives with a timeout: Ok(Ok(value)) or Ok(Err(status)).
unsafe fn recv_status(c: &Chan, timeout: i64) -> PyRes<Result<*mut ffi::PyObject, c_int>> {
    let mut e = Elem::for_chan(c);
    let ch = c.ptr;
    let p = e.as_ptr() as usize;
    let rc = park(timeout, |ns, cancel| gr::gr_chan_recv_ex(ch, p as *mut c_void, ns, cancel))?;
    if rc == gr::GR_OK {
        Ok(Ok(e.received()?))
    } else {
        Ok(Err(rc))
    }
}

fn timeout_status(rc: c_int) -> c_int {
    // A poll that would block is reported as a timeout by the blocking calls.
    if rc == gr::GR_EAGAIN {
        gr::GR_ETIMEDOUT
    } else {
        rc
    }
}

crate::raw_entry!(send_raw => send);
/// `Chan.send(value, timeout=None)`
unsafe fn send(slf: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    let c = chan_of(slf)?;
    let [v, t] = a.parse("send", 0, ["value", "timeout"])?;
    let v = v.ok_or_else(|| errors::type_error("send() missing the value"))?;
    let rc = send_status(c, v, raw::timeout_ns(t)?)?;
    errors::check(timeout_status(rc), "send")?;
    Ok(raw::none())
}

crate::raw_entry!(recv_raw => recv);
/// `Chan.recv(timeout=None)`: Closed once closed and drained.
unsafe fn recv(slf: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    let c = chan_of(slf)?;
    let [t] = a.parse("recv", 0, ["timeout"])?;
    match recv_status(c, raw::timeout_ns(t)?)? {
        Ok(v) => Ok(v),
        Err(rc) => Err(errors::raise_status(timeout_status(rc), "recv")),
    }
}

crate::raw_entry!(try_send_raw => try_send);
/// `Chan.try_send(value) -> bool`: False if it would block; Closed if closed.
unsafe fn try_send(slf: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    let c = chan_of(slf)?;
    let [v] = a.parse("try_send", 0, ["value"])?;
    let v = v.ok_or_else(|| errors::type_error("try_send() missing the value"))?;
    let rc = send_status(c, v, 0)?;
    match rc {
        gr::GR_OK => Ok(bool_obj(true)),
        gr::GR_EAGAIN | gr::GR_ETIMEDOUT => Ok(bool_obj(false)),
        rc => Err(errors::raise_status(rc, "try_send")),
    }
}

crate::raw_entry!(try_recv_raw => try_recv);
/// `Chan.try_recv() -> (value, ok)`: (None, False) if it would block; Closed if closed and
/// drained.
unsafe fn try_recv(slf: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    let c = chan_of(slf)?;
    a.parse("try_recv", 0, [])?;
    match recv_status(c, 0)? {
        Ok(v) => pair(v, bool_obj(true)),
        Err(gr::GR_EAGAIN | gr::GR_ETIMEDOUT) => pair(raw::none(), bool_obj(false)),
        Err(rc) => Err(errors::raise_status(rc, "try_recv")),
    }
}

crate::raw_entry!(next_raw => next);
/// `Chan.__next__`: iteration ends when the channel is closed and drained.
unsafe fn next(slf: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    let c = chan_of(slf)?;
    a.parse("__next__", 0, [])?;
    match recv_status(c, gr::GR_FOREVER)? {
        Ok(v) => Ok(v),
        Err(gr::GR_ECLOSED) => {
            ffi::PyErr_SetNone(ffi::PyExc_StopIteration);
            Err(Raised)
        }
        Err(rc) => Err(errors::raise_status(rc, "recv")),
    }
}

fn bool_obj(b: bool) -> *mut ffi::PyObject {
    // SAFETY: PyBool_FromLong has no precondition beyond the GIL, which every caller holds.
    unsafe { ffi::PyBool_FromLong(b as _) }
}

/// A 2-tuple, stealing both references.
unsafe fn pair(a: *mut ffi::PyObject, b: *mut ffi::PyObject) -> PyRes<*mut ffi::PyObject> {
    let t = ffi::PyTuple_New(2);
    if t.is_null() {
        ffi::Py_DECREF(a);
        ffi::Py_DECREF(b);
        return Err(Raised);
    }
    ffi::PyTuple_SET_ITEM(t, 0, a);
    ffi::PyTuple_SET_ITEM(t, 1, b);
    Ok(t)
}

/// `goroutines.CLOSED`: the value select() reports for a receive on a closed channel.
pub static CLOSED_SENTINEL: std::sync::atomic::AtomicPtr<ffi::PyObject> =
    std::sync::atomic::AtomicPtr::new(ptr::null_mut());

crate::raw_entry!(select_raw => select);
/// `select(*cases, timeout=None, default=False) -> (index, value)`.
/// A case is `chan` (receive) or `(chan, value)` (send); `None` for chan never fires. Returns
/// the index of the case that fired and the received value (None for a send, CLOSED for a
/// receive on a closed channel). With default=True and nothing ready: (-1, None).
unsafe fn select(_m: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    let n = a.pos.len();
    let mut timeout_arg = None;
    let mut default = None;
    for i in 0..a.kw_len() {
        let (k, v) = a.kw(i);
        match raw::str_of(k) {
            "timeout" => timeout_arg = Some(v),
            "default" => default = Some(v),
            k => return Err(errors::type_error(&format!("select() got an unexpected keyword argument '{k}'"))),
        }
    }
    let mut timeout = raw::timeout_ns(timeout_arg)?;
    if raw::truthy(default)? {
        timeout = 0;
    }
    // Build the cases; `elems` owns the sent references until the select decides.
    let mut elems: Vec<Option<Elem>> = Vec::with_capacity(n);
    let mut cases: Vec<gr::gr_case> = Vec::with_capacity(n);
    let cleanup = |elems: Vec<Option<Elem>>, cases: &[gr::gr_case], skip: Option<usize>| {
        for (i, e) in elems.into_iter().enumerate() {
            if let Some(e) = e {
                if cases[i].op == gr::GR_SEND && Some(i) != skip {
                    e.unsend();
                }
            }
        }
    };
    for &case in a.pos {
        let (chan_obj, send_val) = if ffi::PyTuple_Check(case) != 0 {
            if ffi::PyTuple_GET_SIZE(case) != 2 {
                cleanup(elems, &cases, None);
                return Err(errors::type_error("select(): a send case is (chan, value)"));
            }
            (ffi::PyTuple_GET_ITEM(case, 0), Some(ffi::PyTuple_GET_ITEM(case, 1)))
        } else {
            (case, None)
        };
        let op = if send_val.is_some() { gr::GR_SEND } else { gr::GR_RECV };
        if chan_obj == ffi::Py_None() {
            elems.push(None);
            cases.push(gr::gr_case { chan: ptr::null_mut(), op, elem: ptr::null_mut(), status: 0 });
            continue;
        }
        let c = match chan_of(chan_obj) {
            Ok(c) => c,
            Err(r) => {
                cleanup(elems, &cases, None);
                return Err(r);
            }
        };
        let e = match send_val {
            Some(v) => match Elem::for_send(c, v) {
                Ok(e) => e,
                Err(r) => {
                    cleanup(elems, &cases, None);
                    return Err(r);
                }
            },
            None => Elem::for_chan(c),
        };
        elems.push(Some(e));
        cases.push(gr::gr_case { chan: c.ptr, op, elem: ptr::null_mut(), status: 0 });
    }
    for (c, e) in cases.iter_mut().zip(elems.iter_mut()) {
        if let Some(e) = e {
            c.elem = e.as_ptr();
        }
    }
    let cp = cases.as_mut_ptr() as usize;
    let rc = match park(timeout, |ns, cancel| gr::gr_select_ex(cp as *mut gr::gr_case, n, ns, cancel)) {
        Ok(rc) => rc,
        Err(r) => {
            cleanup(elems, &cases, None);
            return Err(r);
        }
    };
    if rc < 0 {
        cleanup(elems, &cases, None);
        if rc == gr::GR_EAGAIN && timeout == 0 && raw::truthy(default)? {
            return pair(ffi::PyLong_FromLong(-1), raw::none());
        }
        return Err(errors::raise_status(timeout_status(rc), "select"));
    }
    let idx = rc as usize;
    let st = cases[idx].status;
    let op = cases[idx].op;
    let chosen = elems[idx].take();
    cleanup(elems, &cases, None);
    let value = match (op, chosen) {
        (gr::GR_SEND, Some(e)) => {
            if st != gr::GR_OK {
                e.unsend();
                return Err(errors::raise_status(st, "select send"));
            }
            raw::none()
        }
        (_, Some(e)) => {
            if st == gr::GR_OK {
                e.received()?
            } else {
                e.unsend();
                let s = CLOSED_SENTINEL.load(std::sync::atomic::Ordering::Relaxed);
                ffi::Py_INCREF(s);
                s
            }
        }
        (_, None) => raw::none(),
    };
    pair(nn(ffi::PyLong_FromSize_t(idx))?, value)
}
