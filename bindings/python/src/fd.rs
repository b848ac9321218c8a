//! Waiting on descriptors through the core's netpoller (`gr_fd_*`, issue 12): the
//! cooperative primitives `wait_readable` / `wait_writable`, and the hot paths of
//! `goroutines.socket` (`recv`, `recv_into`, `send`, `sendall`). There is no event loop here:
//! a goroutine parks in `gr_fd_wait`/`gr_fd_recv`..., a plain thread blocks in them (poll(2)),
//! in 100 ms slices with the GIL released so that Ctrl-C interrupts it (`pystate::park`).
//!
//! Errors follow the socket module, not `errors.rs`'s table: a timeout raises `TimeoutError`
//! ("timed out", what `socket.timeout` is since 3.10), a poll that would block raises
//! `BlockingIOError`, an OS error raises the `OSError` subclass of its errno (recovered from
//! the status, `gr_os_errno`: a goroutine may resume on another thread, whose `errno` is not
//! its own), and a descriptor forgotten or closed while waited on (`gr_fd_forget`, which
//! `goroutines.socket`'s `close` calls) raises `OSError(EBADF)`, as gevent does.

use std::ffi::{c_int, c_void};
use std::ptr;

use pyo3::ffi;

use crate::errors::{self, PyRes, Raised};
use crate::gr;
use crate::pystate::park;
use crate::raw::{self, Args};

/// Sets the `OSError` subclass of `errno` (e.g. `ConnectionResetError`).
fn raise_errno(e: c_int) -> Raised {
    // SAFETY: errno of the calling thread, read back at once by PyErr_SetFromErrno; the GIL
    // is held by every caller (raw entry points).
    unsafe {
        *libc::__errno_location() = e;
        ffi::PyErr_SetFromErrno(ffi::PyExc_OSError);
    }
    Raised
}

/// The exception for a failed `gr_fd_*` status, as the socket module would raise it.
fn raise_io(rc: c_int, what: &str) -> Raised {
    match rc {
        // SAFETY: a CPython global, set at interpreter start.
        gr::GR_ETIMEDOUT => errors::set(unsafe { ffi::PyExc_TimeoutError }, "timed out"),
        gr::GR_EAGAIN => raise_errno(libc::EAGAIN),
        gr::GR_ECLOSED | gr::GR_EINVAL => raise_errno(libc::EBADF),
        rc if rc <= gr::GR_EOS => raise_errno(gr::GR_EOS - rc),
        rc => errors::raise_status(rc, what),
    }
}

/// The descriptor of an int or of an object with `fileno()`.
unsafe fn fd_of(o: *mut ffi::PyObject) -> PyRes<c_int> {
    let fd = ffi::PyObject_AsFileDescriptor(o);
    if fd < 0 {
        return Err(Raised);
    }
    Ok(fd)
}

/// Waits for `events` on `fd`: `Ok(true)` ready, `Ok(false)` timed out.
unsafe fn wait_fd(fd: c_int, events: u32, timeout: i64, name: &str) -> PyRes<bool> {
    let rc = park(timeout, |ns, cancel| gr::gr_fd_wait_ex(fd, events, ns, cancel))?;
    match rc {
        // A regular file is always ready, as poll(2) and select(2) say.
        gr::GR_OK | gr::GR_ENOTPOLL => Ok(true),
        gr::GR_EAGAIN | gr::GR_ETIMEDOUT => Ok(false),
        rc => Err(raise_io(rc, name)),
    }
}

unsafe fn wait_impl(a: Args, events: u32, name: &str) -> PyRes<*mut ffi::PyObject> {
    let [fd, t] = a.parse(name, 0, ["fd", "timeout"])?;
    let fd = fd_of(fd.ok_or_else(|| errors::type_error(&format!("{name}() missing fd")))?)?;
    if wait_fd(fd, events, raw::timeout_ns(t)?, name)? {
        Ok(raw::none())
    } else {
        Err(raise_io(gr::GR_ETIMEDOUT, name))
    }
}

crate::raw_entry!(fd_wait_raw => fd_wait);
/// `_fd_wait(fd, events, timeout) -> bool`: True when ready, False when timed out
/// (`events`: 1 read, 2 write, 3 both).
unsafe fn fd_wait(_m: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    let [fd, ev, t] = a.parse("_fd_wait", 0, ["fd", "events", "timeout"])?;
    let fd = fd_of(fd.ok_or_else(|| errors::type_error("_fd_wait() missing fd"))?)?;
    let ev = int_arg(ev, 0)? as u32;
    let ok = wait_fd(fd, ev, raw::timeout_ns(t)?, "_fd_wait")?;
    Ok(ffi::PyBool_FromLong(ok as _))
}

crate::raw_entry!(wait_readable_raw => wait_readable);
/// `wait_readable(fd, timeout=None)`: until `fd` (an int or an object with `fileno()`) is
/// readable, at end of file, or has an error pending. Parks a goroutine; blocks a plain thread.
unsafe fn wait_readable(_m: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    wait_impl(a, gr::GR_READ, "wait_readable")
}

crate::raw_entry!(wait_writable_raw => wait_writable);
/// `wait_writable(fd, timeout=None)`: until `fd` accepts writes or has an error pending.
unsafe fn wait_writable(_m: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    wait_impl(a, gr::GR_WRITE, "wait_writable")
}

/// An `int` argument (flags, sizes).
unsafe fn int_arg(o: Option<*mut ffi::PyObject>, default: i64) -> PyRes<i64> {
    match o {
        None => Ok(default),
        Some(o) => {
            let v = ffi::PyLong_AsLongLong(o);
            if v == -1 && !ffi::PyErr_Occurred().is_null() {
                return Err(Raised);
            }
            Ok(v)
        }
    }
}

/// A buffer export released on drop (the GIL is held where it is dropped).
struct Buf(ffi::Py_buffer);
impl Buf {
    unsafe fn get(o: *mut ffi::PyObject, writable: bool) -> PyRes<Buf> {
        let mut b = Buf(std::mem::zeroed());
        let flags = if writable { ffi::PyBUF_WRITABLE } else { ffi::PyBUF_SIMPLE };
        if ffi::PyObject_GetBuffer(o, &mut b.0, flags) != 0 {
            std::mem::forget(b);
            return Err(Raised);
        }
        Ok(b)
    }
}
impl Drop for Buf {
    fn drop(&mut self) {
        // SAFETY: a buffer obtained by PyObject_GetBuffer, released once, with the GIL held.
        unsafe { ffi::PyBuffer_Release(&mut self.0) };
    }
}

/// One `recv` into `len` bytes at `p`: the count read.
unsafe fn recv_into_ptr(fd: c_int, p: usize, len: usize, flags: c_int, timeout: i64) -> PyRes<usize> {
    let mut n = 0usize;
    let rc = park(timeout, |ns, cancel| gr::gr_fd_recv(fd, p as *mut c_void, len, flags, ns, cancel, &mut n))?;
    if rc != gr::GR_OK {
        return Err(raise_io(rc, "recv"));
    }
    Ok(n)
}

crate::raw_entry!(sock_recv_raw => sock_recv);
/// `_sock_recv(fd, bufsize, flags, timeout) -> bytes`
unsafe fn sock_recv(_m: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    let [fd, size, flags, t] = a.parse("_sock_recv", 0, ["fd", "bufsize", "flags", "timeout"])?;
    let fd = int_arg(fd, -1)? as c_int;
    let size = int_arg(size, 0)?;
    if size < 0 {
        return Err(errors::value_error("negative buffersize in recv"));
    }
    let flags = int_arg(flags, 0)? as c_int;
    let timeout = raw::timeout_ns(t)?;
    let mut b = raw::nn(ffi::PyBytes_FromStringAndSize(ptr::null(), size as ffi::Py_ssize_t))?;
    // The bytes object is ours alone until returned: filling it with the GIL released is safe.
    let p = ffi::PyBytes_AsString(b) as usize;
    let n = match recv_into_ptr(fd, p, size as usize, flags, timeout) {
        Ok(n) => n,
        Err(e) => {
            ffi::Py_DECREF(b);
            return Err(e);
        }
    };
    if n != size as usize && ffi::_PyBytes_Resize(&mut b, n as ffi::Py_ssize_t) != 0 {
        return Err(Raised);
    }
    Ok(b)
}

crate::raw_entry!(sock_recv_into_raw => sock_recv_into);
/// `_sock_recv_into(fd, buffer, nbytes, flags, timeout) -> int`
unsafe fn sock_recv_into(_m: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    let [fd, buffer, nbytes, flags, t] = a.parse("_sock_recv_into", 0, ["fd", "buffer", "nbytes", "flags", "timeout"])?;
    let fd = int_arg(fd, -1)? as c_int;
    let buffer = buffer.ok_or_else(|| errors::type_error("recv_into() missing buffer"))?;
    let nbytes = int_arg(nbytes, 0)?;
    if nbytes < 0 {
        return Err(errors::value_error("negative buffersize in recv_into"));
    }
    let flags = int_arg(flags, 0)? as c_int;
    let timeout = raw::timeout_ns(t)?;
    let b = Buf::get(buffer, true)?;
    let cap = b.0.len as usize;
    let len = if nbytes == 0 { cap } else { nbytes as usize };
    if len > cap {
        return Err(errors::value_error("buffer too small for requested bytes"));
    }
    // The export pins the buffer (no resize) while the GIL is released.
    let n = recv_into_ptr(fd, b.0.buf as usize, len, flags, timeout)?;
    drop(b);
    raw::nn(ffi::PyLong_FromSize_t(n))
}

crate::raw_entry!(sock_send_raw => sock_send);
/// `_sock_send(fd, data, flags, timeout) -> int`: one send, maybe partial.
unsafe fn sock_send(_m: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    let [fd, data, flags, t] = a.parse("_sock_send", 0, ["fd", "data", "flags", "timeout"])?;
    let fd = int_arg(fd, -1)? as c_int;
    let data = data.ok_or_else(|| errors::type_error("send() missing data"))?;
    let flags = int_arg(flags, 0)? as c_int;
    let timeout = raw::timeout_ns(t)?;
    let b = Buf::get(data, false)?;
    let (p, len) = (b.0.buf as usize, b.0.len as usize);
    let mut n = 0usize;
    let rc = park(timeout, |ns, cancel| gr::gr_fd_send(fd, p as *const c_void, len, flags, ns, cancel, &mut n))?;
    drop(b);
    if rc != gr::GR_OK {
        return Err(raise_io(rc, "send"));
    }
    raw::nn(ffi::PyLong_FromSize_t(n))
}

crate::raw_entry!(sock_sendall_raw => sock_sendall);
/// `_sock_sendall(fd, data, flags, timeout)`: every byte, or the error; `timeout` bounds the
/// whole call. On a plain thread the call runs in slices (Ctrl-C): each slice goes on from
/// where the last one stopped, so nothing is sent twice.
unsafe fn sock_sendall(_m: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    let [fd, data, flags, t] = a.parse("_sock_sendall", 0, ["fd", "data", "flags", "timeout"])?;
    let fd = int_arg(fd, -1)? as c_int;
    let data = data.ok_or_else(|| errors::type_error("sendall() missing data"))?;
    let flags = int_arg(flags, 0)? as c_int;
    let timeout = raw::timeout_ns(t)?;
    let b = Buf::get(data, false)?;
    let (p, len) = (b.0.buf as usize, b.0.len as usize);
    let mut off = 0usize;
    let rc = park(timeout, |ns, cancel| {
        let mut n = 0usize;
        let rc = gr::gr_fd_sendall(fd, (p + off) as *const c_void, len - off, flags, ns, cancel, &mut n);
        off += n;
        if rc == gr::GR_EAGAIN && off < len {
            return gr::GR_ETIMEDOUT; // the poll sent part: the slow path goes on from `off`
        }
        rc
    })?;
    drop(b);
    match rc {
        gr::GR_OK => Ok(raw::none()),
        // A poll (timeout 0) that could not send everything: the stdlib's non-blocking
        // sendall raises BlockingIOError too (bytes already sent stay sent).
        gr::GR_ETIMEDOUT if timeout == 0 => Err(raise_io(gr::GR_EAGAIN, "sendall")),
        rc => Err(raise_io(rc, "sendall")),
    }
}

/// One descriptor of a `_fd_wait_any`: a C goroutine waits on it and reports its index (or
/// -1: timed out or cancelled) on the shared channel, which has room for every report.
struct Watch {
    fd: c_int,
    events: u32,
    idx: i32,
    timeout: i64,
    cancel: *mut gr::gr_cancel,
    ch: *mut gr::gr_chan,
}

unsafe extern "C" fn watch(arg: *mut c_void) {
    // SAFETY: `wait_any` passed a Box it leaked for this goroutine alone.
    let w = Box::from_raw(arg as *mut Watch);
    let rc = gr::gr_fd_wait_ex(w.fd, w.events, w.timeout, w.cancel);
    // Ready, a file, or an error (EBADF...) the caller's poll(2) will report: wake it.
    let v: i32 = if rc == gr::GR_ETIMEDOUT || rc == gr::GR_ECANCELED || rc == gr::GR_EAGAIN { -1 } else { w.idx };
    gr::gr_chan_send(w.ch, &v as *const i32 as *const c_void, gr::GR_FOREVER);
}

/// Runs `f` with the GIL released (a goroutine parks meanwhile; a thread just blocks).
unsafe fn without_gil<R>(f: impl FnOnce() -> R) -> R {
    if crate::pystate::in_goroutine() {
        let ts = crate::pystate::suspend_goroutine();
        let r = f();
        crate::pystate::resume_goroutine(ts);
        r
    } else {
        let ts = ffi::PyEval_SaveThread();
        let r = f();
        ffi::PyEval_RestoreThread(ts);
        r
    }
}

crate::raw_entry!(fd_wait_any_raw => fd_wait_any);
/// `_fd_wait_any(fds, events, timeout) -> bool`: waits until one of `fds` (ints) is ready for
/// the matching `events` entry; True when one was, False on timeout. One C goroutine per
/// descriptor waits in `gr_fd_wait_ex` with a shared cancel token, fired once the first
/// reports; all have returned when this returns (none outlives the call).
unsafe fn fd_wait_any(_m: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    let [fds, evs, t] = a.parse("_fd_wait_any", 0, ["fds", "events", "timeout"])?;
    let (Some(fds), Some(evs)) = (fds, evs) else { return Err(errors::type_error("_fd_wait_any(fds, events, timeout)")) };
    let timeout = raw::timeout_ns(t)?;
    let n = ffi::PySequence_Size(fds);
    if n < 0 || ffi::PySequence_Size(evs) != n {
        return Err(errors::value_error("_fd_wait_any: fds and events differ in length"));
    }
    let mut pairs = Vec::with_capacity(n as usize);
    for i in 0..n {
        let (f, e) = (raw::nn(ffi::PySequence_GetItem(fds, i))?, ffi::PySequence_GetItem(evs, i));
        let fd = fd_of(f);
        ffi::Py_DECREF(f);
        let e = raw::nn(e)?;
        let ev = int_arg(Some(e), 0);
        ffi::Py_DECREF(e);
        pairs.push((fd?, ev? as u32));
    }
    if pairs.is_empty() {
        // select() with nothing to watch sleeps for its timeout.
        park(timeout, |ns, cancel| {
            let rc = gr::gr_sleep_ex(ns.max(0), cancel);
            if rc == gr::GR_ECANCELED { rc } else { gr::GR_ETIMEDOUT }
        })
        .and_then(|rc| if rc == gr::GR_ECANCELED { Err(errors::raise_status(rc, "select")) } else { Ok(rc) })?;
        return Ok(ffi::PyBool_FromLong(0));
    }
    if pairs.len() == 1 {
        let ok = wait_fd(pairs[0].0, pairs[0].1, timeout, "select")?;
        return Ok(ffi::PyBool_FromLong(ok as _));
    }
    let (mut cancel, mut ch) = (ptr::null_mut(), ptr::null_mut());
    errors::check(gr::gr_cancel_new(&mut cancel), "select")?;
    let rc = gr::gr_chan_new_with_drop(4, pairs.len(), None, ptr::null_mut(), &mut ch);
    if rc != gr::GR_OK {
        gr::gr_cancel_free(cancel);
        return Err(errors::raise_status(rc, "select"));
    }
    let opts = crate::goroutine::spawn_opts(0);
    let mut started = 0usize;
    let mut err = gr::GR_OK;
    for (i, &(fd, events)) in pairs.iter().enumerate() {
        let w = Box::into_raw(Box::new(Watch { fd, events, idx: i as i32, timeout, cancel, ch }));
        let mut h = ptr::null_mut();
        let rc = crate::goroutine::spawn_released(watch, w as *mut c_void, &opts, &mut h);
        if rc != gr::GR_OK {
            drop(Box::from_raw(w));
            err = rc;
            break;
        }
        gr::gr_handle_release(h);
        started += 1;
    }
    let mut v: i32 = -1;
    let chp = ch as usize;
    let first = if err == gr::GR_OK {
        park(timeout, |ns, cancel| gr::gr_chan_recv_ex(chp as *mut gr::gr_chan, &mut v as *mut i32 as *mut c_void, ns, cancel))
    } else {
        Ok(gr::GR_ETIMEDOUT)
    };
    let got = matches!(first, Ok(gr::GR_OK));
    let cancelled = matches!(first, Ok(gr::GR_ECANCELED));
    gr::gr_cancel_fire(cancel);
    let left = started - got as usize;
    without_gil(|| {
        let mut x: i32 = 0;
        for _ in 0..left {
            gr::gr_chan_recv(chp as *mut gr::gr_chan, &mut x as *mut i32 as *mut c_void, gr::GR_FOREVER);
        }
    });
    gr::gr_chan_release(ch);
    gr::gr_cancel_free(cancel);
    first?;
    if cancelled {
        return Err(errors::raise_status(gr::GR_ECANCELED, "select"));
    }
    if err != gr::GR_OK {
        return Err(errors::raise_status(err, "select"));
    }
    Ok(ffi::PyBool_FromLong((got && v >= 0) as _))
}

/// `_fd_forget(fd)`: wakes every goroutine and thread waiting on `fd` in gr (they raise
/// `OSError(EBADF)`) and drops gr's registration, before the caller closes or detaches it.
#[pyo3::pyfunction]
pub fn _fd_forget(fd: c_int) {
    if fd >= 0 {
        // SAFETY: no preconditions; a number gr never saw is a no-op.
        unsafe { gr::gr_fd_forget(fd) };
    }
}
