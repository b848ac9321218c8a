//! Raw `PyCFunction` entry points for everything that may park.
//!
//! PyO3's `#[pyfunction]`/`#[pymethods]` trampolines raise a thread-local GIL counter for the
//! length of the call. A goroutine that parks inside such a call leaves that counter raised on
//! its worker thread while other goroutines (and the scheduler) run there, which breaks PyO3's
//! "GIL held?" answer and its deferred reference counting. So the park-capable entry points
//! are plain `METH_FASTCALL | METH_KEYWORDS` functions defined here: they catch panics
//! themselves and never touch PyO3's counter. Inside them, objects are handled as raw pointers
//! or `Bound` (whose drop is an immediate `Py_DECREF`), never `Py<T>` (whose drop would be
//! deferred while the counter reads zero).

use std::ffi::{c_char, c_int, CStr};
use std::ptr;

use pyo3::ffi;

use crate::errors::{self, PyRes, Raised};
use crate::gr;

pub type FastKw = unsafe extern "C" fn(
    *mut ffi::PyObject,
    *const *mut ffi::PyObject,
    ffi::Py_ssize_t,
    *mut ffi::PyObject,
) -> *mut ffi::PyObject;

/// Runs an entry point body: `Ok(p)` returns `p`; `Err(Raised)` returns NULL with the
/// exception set; a panic becomes `SystemError` instead of unwinding into C.
pub fn guard(body: impl FnOnce() -> PyRes<*mut ffi::PyObject>) -> *mut ffi::PyObject {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
        Ok(Ok(p)) => p,
        Ok(Err(Raised)) => ptr::null_mut(),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".into());
            // SAFETY: a CPython global, set at interpreter start.
            errors::set(unsafe { ffi::PyExc_SystemError }, &format!("gr binding panicked: {msg}"));
            ptr::null_mut()
        }
    }
}

/// Declares `unsafe extern "C" fn $name` (the raw entry) around `$body(slf, Args)`.
#[macro_export]
macro_rules! raw_entry {
    ($name:ident => $body:path) => {
        pub unsafe extern "C" fn $name(
            slf: *mut pyo3::ffi::PyObject,
            args: *const *mut pyo3::ffi::PyObject,
            nargsf: pyo3::ffi::Py_ssize_t,
            kwnames: *mut pyo3::ffi::PyObject,
        ) -> *mut pyo3::ffi::PyObject {
            $crate::raw::guard(|| $body(slf, $crate::raw::Args::new(args, nargsf, kwnames)))
        }
    };
}

/// Vectorcall arguments: positionals, then keyword values named by `kwnames`.
pub struct Args {
    pub pos: &'static [*mut ffi::PyObject],
    kwnames: *mut ffi::PyObject,
    kwvals: *const *mut ffi::PyObject,
    nkw: usize,
}

impl Args {
    /// # Safety
    /// The pointers are those of a METH_FASTCALL|METH_KEYWORDS call, valid for the call.
    pub unsafe fn new(args: *const *mut ffi::PyObject, nargsf: ffi::Py_ssize_t, kwnames: *mut ffi::PyObject) -> Args {
        let n = ffi::PyVectorcall_NARGS(nargsf as usize) as usize;
        let pos = if n == 0 { &[][..] } else { std::slice::from_raw_parts(args, n) };
        let nkw = if kwnames.is_null() { 0 } else { ffi::PyTuple_GET_SIZE(kwnames) as usize };
        Args { pos, kwnames, kwvals: if args.is_null() { ptr::null() } else { args.add(n) }, nkw }
    }

    pub fn kw_len(&self) -> usize {
        self.nkw
    }

    /// The i-th keyword as (name, value).
    pub fn kw(&self, i: usize) -> (*mut ffi::PyObject, *mut ffi::PyObject) {
        // SAFETY: i < nkw, per the vectorcall layout.
        unsafe { (ffi::PyTuple_GET_ITEM(self.kwnames, i as ffi::Py_ssize_t), *self.kwvals.add(i)) }
    }

    /// Parses a signature of optional parameters `names` (positional or keyword), after the
    /// first `skip` positionals. Unknown keywords or too many positionals: TypeError.
    pub fn parse<const N: usize>(&self, func: &str, skip: usize, names: [&str; N]) -> PyRes<[Option<*mut ffi::PyObject>; N]> {
        let mut out = [None; N];
        let pos = &self.pos[skip.min(self.pos.len())..];
        if pos.len() > N {
            return Err(errors::type_error(&format!("{func}() takes at most {} positional arguments", N + skip)));
        }
        for (i, p) in pos.iter().enumerate() {
            out[i] = Some(*p);
        }
        for k in 0..self.nkw {
            let (name, val) = self.kw(k);
            // SAFETY: keyword names of a vectorcall are str objects; the GIL is held (entry points run under it).
            let name = unsafe { str_of(name) };
            match names.iter().position(|n| *n == name) {
                Some(i) if out[i].is_none() => out[i] = Some(val),
                Some(_) => return Err(errors::type_error(&format!("{func}() got multiple values for argument '{name}'"))),
                None => return Err(errors::type_error(&format!("{func}() got an unexpected keyword argument '{name}'"))),
            }
        }
        Ok(out)
    }
}

/// # Safety
/// `s` is a str object; the GIL is held.
pub unsafe fn str_of<'a>(s: *mut ffi::PyObject) -> &'a str {
    let mut len: ffi::Py_ssize_t = 0;
    let p = ffi::PyUnicode_AsUTF8AndSize(s, &mut len);
    if p.is_null() {
        ffi::PyErr_Clear();
        return "?";
    }
    std::str::from_utf8_unchecked(std::slice::from_raw_parts(p as *const u8, len as usize))
}

/// `None` -> GR_FOREVER; seconds (int or float, >= 0) -> nanoseconds.
pub fn timeout_ns(obj: Option<*mut ffi::PyObject>) -> PyRes<i64> {
    let Some(o) = obj else { return Ok(gr::GR_FOREVER) };
    // SAFETY: `o` is one of the call's live arguments; the GIL is held (entry points run under it).
    unsafe {
        if o == ffi::Py_None() {
            return Ok(gr::GR_FOREVER);
        }
        let s = ffi::PyFloat_AsDouble(o);
        if s == -1.0 && !ffi::PyErr_Occurred().is_null() {
            return Err(Raised);
        }
        if s.is_nan() || s < 0.0 {
            return Err(errors::value_error("timeout must be a non-negative number or None"));
        }
        Ok(if s >= 9.0e9 { gr::GR_FOREVER } else { (s * 1e9) as i64 })
    }
}

/// Python truthiness of an optional argument (absent = false).
pub fn truthy(obj: Option<*mut ffi::PyObject>) -> PyRes<bool> {
    match obj {
        None => Ok(false),
        // SAFETY: `o` is one of the call's live arguments; the GIL is held (entry points run under it).
        Some(o) => match unsafe { ffi::PyObject_IsTrue(o) } {
            -1 => Err(Raised),
            v => Ok(v != 0),
        },
    }
}

/// A `PyMethodDef` for a raw entry; leaked, as CPython keeps pointing at it.
pub fn method_def(name: &'static CStr, f: FastKw, doc: &'static CStr) -> *mut ffi::PyMethodDef {
    Box::into_raw(Box::new(ffi::PyMethodDef {
        ml_name: name.as_ptr() as *const c_char,
        ml_meth: ffi::PyMethodDefPointer { PyCFunctionFastWithKeywords: f },
        ml_flags: (ffi::METH_FASTCALL | ffi::METH_KEYWORDS) as c_int,
        ml_doc: doc.as_ptr() as *const c_char,
    }))
}

/// Returns a new reference to None.
pub fn none() -> *mut ffi::PyObject {
    // SAFETY: Py_None is the immortal singleton; the GIL is held by every caller.
    unsafe {
        let n = ffi::Py_None();
        ffi::Py_INCREF(n);
        n
    }
}

/// Checks a returned new reference.
pub fn nn(p: *mut ffi::PyObject) -> PyRes<*mut ffi::PyObject> {
    if p.is_null() {
        Err(Raised)
    } else {
        Ok(p)
    }
}
