//! Stall warnings (issue 13, item 0): the core reports a goroutine that holds its worker
//! thread while goroutines pinned to that thread are ready (`gr_stall_hook`, called on the
//! runtime's monitor thread); this module turns each report into a `logging` warning on the
//! `goroutines` logger, naming the goroutine and its Python frames, as asyncio's debug mode
//! reports a slow callback.
//!
//! The hook cannot take the GIL (the goroutine it reports may hold it forever), so it queues
//! the report and asks CPython to run `report` on the main thread (`Py_AddPendingCall`: no
//! GIL needed). The main thread runs pending calls between bytecodes, and a main thread
//! waiting in a gr call runs them every 100 ms (`pystate::slow_path`). There, with the GIL
//! held, the goroutine's thread state (its label) is used only if it is still one of the
//! interpreter's thread states: a goroutine that ended meanwhile is reported without frames.

use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Mutex;

use pyo3::ffi;
use pyo3::prelude::*;

use crate::gr;

struct Report {
    goroutine: u64,
    kind: u32,
    label: usize,
    worker: u32,
    held_ns: i64,
    pinned_ready: u64,
    in_kernel: bool,
}

static QUEUE: Mutex<Vec<Report>> = Mutex::new(Vec::new());
static SCHEDULED: AtomicBool = AtomicBool::new(false);

/// The core's hook (monitor thread, no GIL): queue and schedule.
unsafe extern "C" fn hook(info: *const gr::gr_stall, _ctx: *mut c_void) {
    // SAFETY: the core passes a live gr_stall for the call.
    let i = &*info;
    if let Ok(mut q) = QUEUE.lock() {
        if q.len() < 64 {
            q.push(Report {
                goroutine: i.goroutine,
                kind: i.kind,
                label: i.label as usize,
                worker: i.worker,
                held_ns: i.held_ns,
                pinned_ready: i.pinned_ready,
                in_kernel: i.in_kernel != 0,
            });
        }
    }
    if !SCHEDULED.swap(true, SeqCst) && ffi::Py_AddPendingCall(Some(report), std::ptr::null_mut()) != 0 {
        SCHEDULED.store(false, SeqCst); // the queue is full: the next report retries
    }
}

/// Whether `ts` is one of the interpreter's live thread states.
unsafe fn alive(ts: *mut ffi::PyThreadState) -> bool {
    let mut t = ffi::PyInterpreterState_ThreadHead(crate::goroutine::INTERP.load(SeqCst));
    while !t.is_null() {
        if t == ts {
            return true;
        }
        t = ffi::PyThreadState_Next(t);
    }
    false
}

/// The pending call (main thread, GIL held): each queued report to `goroutines._stall_report`.
extern "C" fn report(_arg: *mut c_void) -> c_int {
    SCHEDULED.store(false, SeqCst);
    let reports = QUEUE.lock().map(|mut q| std::mem::take(&mut *q)).unwrap_or_default();
    // SAFETY: pending calls run with the GIL held on the main thread.
    let py = unsafe { Python::assume_gil_acquired() };
    for r in reports {
        let ts = r.label as *mut ffi::PyThreadState;
        // SAFETY: the GIL is held; a live thread state's frames cannot change meanwhile.
        let frames = if r.kind == gr::GR_KIND_PYTHON && !ts.is_null() && unsafe { alive(ts) } {
            unsafe { crate::dump::python_frames(ts) }
        } else {
            String::new()
        };
        let res = py.import("goroutines").and_then(|m| {
            m.getattr("_stall_report")?.call1((r.goroutine, r.worker, r.held_ns as f64 / 1e9, r.pinned_ready, r.in_kernel, frames))
        });
        if let Err(e) = res {
            e.write_unraisable(py, None);
        }
    }
    0
}

/// `_stall_warnings(threshold)`: report stalls longer than `threshold` seconds (None: off).
#[pyfunction]
#[pyo3(signature = (threshold))]
pub fn _stall_warnings(threshold: Option<f64>) -> PyResult<()> {
    let rc = match threshold {
        None => {
            // SAFETY: removing the hook has no preconditions.
            unsafe { gr::gr_stall_hook(None, std::ptr::null_mut(), 0) }
        }
        Some(t) if t > 0.0 && t.is_finite() => {
            // SAFETY: `hook` may be called from any thread at any time (it only queues).
            unsafe { gr::gr_stall_hook(Some(hook), std::ptr::null_mut(), (t * 1e9) as i64) }
        }
        Some(_) => return Err(pyo3::exceptions::PyValueError::new_err("threshold must be a positive number of seconds or None")),
    };
    crate::errors::check_py(rc, "stall_warnings")
}
