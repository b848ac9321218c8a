//! `after`, `Timer`, `Ticker`: gr's timer channels (Go's `time.After`, `time.Timer`,
//! `time.Ticker`, Go 1.23 semantics). A received value is the tick's due time as a float on
//! the `time.monotonic()` clock; the channels work in `select` like any `Chan`.

use std::ptr;

use pyo3::ffi;
use pyo3::prelude::*;

use crate::chan::{Chan, Decode};
use crate::errors::{self, PyRes};
use crate::gr;
use crate::pystate::park;
use crate::raw::Args;

fn ns_of(seconds: f64) -> PyResult<i64> {
    if seconds.is_nan() {
        return Err(pyo3::exceptions::PyValueError::new_err("seconds must be a number"));
    }
    Ok(if seconds >= 9.0e9 { i64::MAX } else { (seconds.max(0.0) * 1e9) as i64 })
}

/// `after(seconds) -> Chan`: a channel that delivers the due time once, `seconds` from now
/// (Go's `time.After`).
#[pyfunction]
pub fn after(seconds: f64) -> PyResult<Chan> {
    let ns = ns_of(seconds)?;
    let mut c = ptr::null_mut();
    // SAFETY: `c` is a valid out-pointer.
    errors::check_py(unsafe { gr::gr_after(ns, &mut c) }, "after")?;
    Ok(Chan::retained(c, 8, Decode::Time))
}

/// `monotonic() -> float`: the clock of timer values and deadlines (`time.monotonic()`'s).
#[pyfunction]
pub fn monotonic() -> f64 {
    // SAFETY: no preconditions.
    unsafe { gr::gr_now() as f64 / 1e9 }
}

/// A one-shot timer (Go's `time.Timer`): `c` delivers its due time once it fires. After
/// `stop()` or `reset()` returns, no value of the old setting is received (Go 1.23).
#[pyclass(module = "goroutines", frozen)]
pub struct Timer {
    ptr: *mut gr::gr_timer,
}

// SAFETY: gr timers are thread-safe; the pointer is owned by this object.
unsafe impl Send for Timer {}
// SAFETY: as above.
unsafe impl Sync for Timer {}

impl Drop for Timer {
    fn drop(&mut self) {
        // SAFETY: the timer this object owns; this is its last use (stops it).
        unsafe { gr::gr_timer_free(self.ptr) };
    }
}

#[pymethods]
impl Timer {
    #[new]
    fn new(seconds: f64) -> PyResult<Self> {
        let ns = ns_of(seconds)?;
        let mut p = ptr::null_mut();
        // SAFETY: `p` is a valid out-pointer.
        errors::check_py(unsafe { gr::gr_timer_new(ns, &mut p) }, "Timer")?;
        Ok(Timer { ptr: p })
    }

    /// The channel the due time arrives on (Go's `t.C`).
    #[getter]
    fn c(&self) -> Chan {
        // SAFETY: the timer is live while `self` is; the new Chan takes its own reference.
        Chan::retained(unsafe { gr::gr_chan_retain(gr::gr_timer_chan(self.ptr)) }, 8, Decode::Time)
    }

    /// Stops the timer: True if it was pending (its value not yet received), else False.
    fn stop(&self) -> PyResult<bool> {
        // SAFETY: the timer is live while `self` is.
        let rc = unsafe { gr::gr_timer_stop(self.ptr) };
        if rc < 0 {
            errors::check_py(rc, "Timer.stop")?;
        }
        Ok(rc == 1)
    }

    /// Stops the timer and sets it to fire `seconds` from now: True if it was pending.
    fn reset(&self, seconds: f64) -> PyResult<bool> {
        let ns = ns_of(seconds)?;
        // SAFETY: the timer is live while `self` is.
        let rc = unsafe { gr::gr_timer_reset(self.ptr, ns) };
        if rc < 0 {
            errors::check_py(rc, "Timer.reset")?;
        }
        Ok(rc == 1)
    }
}

/// A ticker (Go's `time.Ticker`): `c` delivers a tick every `period` seconds; a slow reader
/// misses ticks instead of queueing them. Iterating a Ticker receives its ticks.
#[pyclass(module = "goroutines", frozen)]
pub struct Ticker {
    ptr: *mut gr::gr_ticker,
}

// SAFETY: gr tickers are thread-safe; the pointer is owned by this object.
unsafe impl Send for Ticker {}
// SAFETY: as above.
unsafe impl Sync for Ticker {}

impl Drop for Ticker {
    fn drop(&mut self) {
        // SAFETY: the ticker this object owns; this is its last use (stops it).
        unsafe { gr::gr_ticker_free(self.ptr) };
    }
}

fn period_ns(period: f64) -> PyResult<i64> {
    if period.is_nan() || period <= 0.0 {
        return Err(pyo3::exceptions::PyValueError::new_err("a ticker needs a positive period"));
    }
    Ok(ns_of(period)?.max(1))
}

#[pymethods]
impl Ticker {
    #[new]
    fn new(period: f64) -> PyResult<Self> {
        let ns = period_ns(period)?;
        let mut p = ptr::null_mut();
        // SAFETY: `p` is a valid out-pointer.
        errors::check_py(unsafe { gr::gr_ticker_new(ns, &mut p) }, "Ticker")?;
        Ok(Ticker { ptr: p })
    }

    /// The channel the ticks arrive on (Go's `t.C`).
    #[getter]
    fn c(&self) -> Chan {
        // SAFETY: the ticker is live while `self` is; the new Chan takes its own reference.
        Chan::retained(unsafe { gr::gr_chan_retain(gr::gr_ticker_chan(self.ptr)) }, 8, Decode::Time)
    }

    /// Stops the ticks (a tick waiting in the channel is discarded).
    fn stop(&self) -> PyResult<()> {
        // SAFETY: the ticker is live while `self` is.
        errors::check_py(unsafe { gr::gr_ticker_stop(self.ptr) }, "Ticker.stop")
    }

    /// Sets the period to `period` seconds; the next tick comes one period from now.
    fn reset(&self, period: f64) -> PyResult<()> {
        let ns = period_ns(period)?;
        // SAFETY: the ticker is live while `self` is.
        errors::check_py(unsafe { gr::gr_ticker_reset(self.ptr, ns) }, "Ticker.reset")
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }
}

crate::raw_entry!(ticker_next_raw => ticker_next);
/// `Ticker.__next__`: the next tick's due time (parks; never ends by itself).
unsafe fn ticker_next(slf: *mut ffi::PyObject, a: Args) -> PyRes<*mut ffi::PyObject> {
    a.parse("__next__", 0, [])?;
    let py = Python::assume_gil_acquired();
    let b = Bound::<PyAny>::from_borrowed_ptr(py, slf);
    let t = b.downcast::<Ticker>().map_err(|_| errors::type_error("expected a goroutines.Ticker"))?.get();
    let ch = gr::gr_ticker_chan(t.ptr) as usize;
    let mut v = 0i64;
    let vp = &mut v as *mut i64 as usize;
    let rc = park(gr::GR_FOREVER, |ns, cancel| gr::gr_chan_recv_ex(ch as *mut gr::gr_chan, vp as *mut std::ffi::c_void, ns, cancel))?;
    errors::check(rc, "Ticker")?;
    crate::raw::nn(ffi::PyFloat_FromDouble(v as f64 / 1e9))
}
