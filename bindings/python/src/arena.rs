//! A cache in front of CPython's arena allocator for the 16 KiB frame-stack chunks.
//!
//! Every thread state allocates its first frame-stack chunk (16 KiB, `DATA_STACK_CHUNK_SIZE`)
//! through the arena allocator, which mmaps it, and unmaps it when the thread state is deleted.
//! With one thread state per goroutine that is an mmap, page faults and an munmap (with TLB
//! shootdowns) per goroutine: most of the cost of a short goroutine. Freed chunks of exactly that
//! size are kept here (up to `MAX_CACHED`) and handed to the next thread state; every other
//! allocation (obmalloc's arenas, bigger chunks) goes to the original allocator untouched.
//! A std Mutex guards the list: CPython calls these with the GIL held, but that is not
//! documented for the free path of a dying thread state, so the cache does not rely on it.

use std::ffi::c_void;
use std::sync::{Mutex, OnceLock};

use pyo3::ffi;

const CHUNK: usize = 16 * 1024;
const MAX_CACHED: usize = 1024; // 16 MiB at most

struct Orig(ffi::PyObjectArenaAllocator);
// safety: the original allocator is a process-wide table of C functions and a context pointer
// that CPython itself calls from any thread holding the GIL.
unsafe impl Send for Orig {}
unsafe impl Sync for Orig {}

static ORIG: OnceLock<Orig> = OnceLock::new();
static CACHE: Mutex<Vec<usize>> = Mutex::new(Vec::new());

extern "C" fn alloc(_ctx: *mut c_void, size: usize) -> *mut c_void {
    if size == CHUNK {
        if let Some(p) = CACHE.lock().map(|mut c| c.pop()).unwrap_or(None) {
            return p as *mut c_void;
        }
    }
    let o = &ORIG.get().unwrap().0;
    match o.alloc {
        Some(f) => f(o.ctx, size),
        None => std::ptr::null_mut(),
    }
}

extern "C" fn free(_ctx: *mut c_void, p: *mut c_void, size: usize) {
    if size == CHUNK && !p.is_null() {
        if let Ok(mut c) = CACHE.lock() {
            if c.len() < MAX_CACHED {
                c.push(p as usize);
                return;
            }
        }
    }
    let o = &ORIG.get().unwrap().0;
    if let Some(f) = o.free {
        f(o.ctx, p, size)
    }
}

/// Installs the cache (once, at import, with the GIL held).
pub unsafe fn install() {
    let mut orig = ffi::PyObjectArenaAllocator::default();
    ffi::PyObject_GetArenaAllocator(&mut orig);
    if orig.alloc.is_none() || orig.free.is_none() || ORIG.set(Orig(orig)).is_err() {
        return;
    }
    let mut mine = ffi::PyObjectArenaAllocator { ctx: std::ptr::null_mut(), alloc: Some(alloc), free: Some(free) };
    ffi::PyObject_SetArenaAllocator(&mut mine);
}
