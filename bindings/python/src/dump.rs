//! `goroutines.dump()`: the runtime's goroutine dump (`gr_dump_to`), where each Python
//! goroutine shows its Python frames, most recent call first (as `faulthandler` prints
//! them), above its native frames.
//!
//! Each Python goroutine labels itself with its thread state when it starts
//! (`gr_goroutine_label(GR_KIND_PYTHON, ts)`, `goroutine.rs`) and clears the label before the
//! state is deleted; both happen with the GIL held. `dump()` holds the GIL for the whole
//! `gr_dump_to` call, so the hook (`frames`) reads a thread state that cannot be deleted,
//! and whose frames cannot change: its goroutine is parked and held by the dump, or waits
//! for the GIL, or is the caller itself.

use std::ffi::{c_char, c_void};

use pyo3::ffi;
use pyo3::prelude::*;

use crate::gr;

// CPython's C API (3.9+), not declared by pyo3-ffi 0.23.
extern "C" {
    fn PyThreadState_GetFrame(ts: *mut ffi::PyThreadState) -> *mut ffi::PyFrameObject;
    fn PyFrame_GetBack(f: *mut ffi::PyFrameObject) -> *mut ffi::PyFrameObject;
    fn PyGC_Disable() -> std::ffi::c_int;
    fn PyGC_Enable() -> std::ffi::c_int;
}

/// Frames rendered per goroutine at most.
const MAX_FRAMES: usize = 100;

/// `gr_dump_write_fn`: appends to the `Vec<u8>` behind `ctx`.
unsafe extern "C" fn write(buf: *const c_char, len: usize, ctx: *mut c_void) {
    // SAFETY: `ctx` is the `Vec` `dump` passes, alive for the call; `buf` holds `len` bytes.
    let out = &mut *(ctx as *mut Vec<u8>);
    out.extend_from_slice(std::slice::from_raw_parts(buf as *const u8, len));
}

/// `gr_dump_frames_fn`: the Python frames of the goroutine whose thread state is `label`.
unsafe extern "C" fn frames(_g: u64, kind: u32, label: *mut c_void, buf: *mut c_char, cap: usize, _ctx: *mut c_void) -> usize {
    if kind != gr::GR_KIND_PYTHON || label.is_null() {
        return 0;
    }
    // SAFETY: see the module docs: the GIL is held and `label` is a live thread state.
    let text = python_frames(label as *mut ffi::PyThreadState);
    let n = text.len().min(cap);
    std::ptr::copy_nonoverlapping(text.as_ptr(), buf as *mut u8, n);
    n
}

/// The frames of thread state `ts`, most recent call first.
/// # Safety
/// The GIL is held; `ts` is a live thread state whose frames do not change meanwhile.
pub(crate) unsafe fn python_frames(ts: *mut ffi::PyThreadState) -> String {
    let saved = crate::goroutine::save_error();
    let mut out = String::from("Python (most recent call first):\n");
    let mut f = PyThreadState_GetFrame(ts); // new reference or NULL
    let mut n = 0;
    while !f.is_null() && n < MAX_FRAMES {
        let code = ffi::PyFrame_GetCode(f); // new reference
        let line = ffi::PyFrame_GetLineNumber(f);
        let (name, file) = if code.is_null() {
            ffi::PyErr_Clear();
            ("?".to_string(), "?".to_string())
        } else {
            let attr = |a: &std::ffi::CStr| {
                let o = ffi::PyObject_GetAttrString(code as *mut ffi::PyObject, a.as_ptr()); // new reference
                if o.is_null() {
                    ffi::PyErr_Clear();
                    return "?".to_string();
                }
                let s = crate::raw::str_of(o).to_string();
                ffi::Py_DECREF(o);
                s
            };
            let r = (attr(c"co_name"), attr(c"co_filename"));
            ffi::Py_DECREF(code as *mut ffi::PyObject);
            r
        };
        out.push_str(&format!("  File \"{file}\", line {line} in {name}\n"));
        let back = PyFrame_GetBack(f); // new reference or NULL
        ffi::Py_DECREF(f as *mut ffi::PyObject);
        f = back;
        n += 1;
    }
    if !f.is_null() {
        out.push_str("  ...\n");
        ffi::Py_DECREF(f as *mut ffi::PyObject);
    }
    crate::goroutine::restore_saved(saved);
    out
}

/// The dump as text (or JSON lines with `json=True`; gr's own frames too with
/// `all_frames=True`). Python goroutines show their Python frames above their native ones.
#[pyfunction]
#[pyo3(signature = (json = false, all_frames = false))]
pub fn _dump(json: bool, all_frames: bool) -> PyResult<String> {
    let mut out: Vec<u8> = Vec::new();
    let flags = if json { gr::GR_DUMP_JSON } else { gr::GR_DUMP_TEXT } | if all_frames { gr::GR_DUMP_ALL_FRAMES } else { 0 };
    // The hook creates frame objects while a goroutine is held; a garbage collection there
    // could run a finaliser that wakes that very goroutine, whose waker would then wait for
    // the dump, which waits for the finaliser: no collection during the dump.
    // SAFETY: the GIL is held (a #[pyfunction]).
    let gc_was_on = unsafe { PyGC_Disable() } != 0;
    // SAFETY: the callbacks match the ABI's types; `out` outlives the call; the GIL is held
    // throughout (see the module docs), and nothing in the call parks.
    let rc = unsafe { gr::gr_dump_to(Some(write), Some(frames), &mut out as *mut Vec<u8> as *mut c_void, flags) };
    if gc_was_on {
        // SAFETY: as above.
        unsafe { PyGC_Enable() };
    }
    crate::errors::check_py(rc, "dump")?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}
