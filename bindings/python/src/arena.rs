//! A cache in front of CPython's arena allocator for the 16 KiB frame-stack chunks, and small
//! first chunks for goroutine thread states.
//!
//! Every thread state allocates its first frame-stack chunk (16 KiB, `DATA_STACK_CHUNK_SIZE`)
//! through the arena allocator, which mmaps it, and unmaps it when the thread state is deleted.
//! With one thread state per goroutine that is an mmap, page faults and an munmap (with TLB
//! shootdowns) per goroutine: most of the cost of a short goroutine. Freed chunks of exactly that
//! size are kept here (up to `MAX_CACHED`) and handed to the next thread state; every other
//! allocation (obmalloc's arenas, bigger chunks) goes to the original allocator untouched.
//! A std Mutex guards the list: CPython calls these with the GIL held, but that is not
//! documented for the free path of a dying thread state, so the cache does not rely on it.
//!
//! **Small first chunk** (`seed`). A parked goroutine has a few frames on its frame stack, a few
//! hundred bytes, but its first 16 KiB chunk costs it a whole page: with the page of coroutine
//! stack that is most of a parked Python goroutine's memory. So a fresh goroutine thread state
//! gets a `ROOT_CHUNK`-byte first chunk from malloc instead, set up exactly as CPython's
//! `push_chunk` sets up a root chunk (slot 0 skipped, so `_PyThreadState_PopFrame` never pops
//! it). Frames that do not fit go to a normal 16 KiB chunk linked after it (CPython's own
//! overflow path), and popping back returns to it; when the thread state is deleted CPython
//! frees it through the arena allocator with its size, `ROOT_CHUNK`, which no other arena
//! allocation has (obmalloc arenas are 256 KiB or more, frame-stack chunks 16 KiB or more):
//! that is how `free` recognises it. The three `datastack_*` fields are private, so their
//! offset is known per version (3.11, 3.13) and checked at import against the importing
//! thread's live frame stack; anywhere else (another version, a check that fails) seeding is
//! off and thread states get CPython's default chunk.

use std::ffi::c_void;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Mutex, OnceLock};

use pyo3::ffi;

const CHUNK: usize = 16 * 1024;
const MAX_CACHED: usize = 1024; // 16 MiB at most

struct Orig(ffi::PyObjectArenaAllocator);
// SAFETY: the original allocator is a process-wide table of C functions and a context pointer
// that CPython itself calls from any thread holding the GIL.
unsafe impl Send for Orig {}
// SAFETY: as above.
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
    if size == ROOT_CHUNK && SEED_AT.load(Relaxed) != 0 {
        // SAFETY: only `seed` makes arena blocks of this size, with malloc.
        unsafe { libc::free(p) };
        return;
    }
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

/// Bytes of a seeded first chunk: a 24-byte header and 252 frame-stack slots, one 2 KiB malloc
/// block. Room for the few frames of a typical goroutine body; deeper calls overflow into a
/// 16 KiB chunk.
pub const ROOT_CHUNK: usize = 2040;
/// `offsetof(PyThreadState, datastack_chunk)` (`datastack_top` and `datastack_limit` follow),
/// once checked; 0 = seeding off.
static SEED_AT: AtomicUsize = AtomicUsize::new(0);

/// Finds and checks where the frame-stack fields are. Called once at import.
/// # Safety
/// The GIL is held by the importing thread, whose thread state has run Python code.
pub unsafe fn find_datastack() {
    let v = std::ffi::CStr::from_ptr(ffi::Py_GetVersion()).to_bytes();
    // Offsets from the 3.11 and 3.13 headers (`offsetof(PyThreadState, datastack_chunk)`).
    let off = if v.starts_with(b"3.11.") {
        296
    } else if v.starts_with(b"3.13.") {
        232
    } else {
        return;
    };
    let ts = ffi::PyThreadState_Get() as *const u8;
    let word = |o: usize| *(ts.add(o) as *const usize);
    let (chunk, top, limit) = (word(off), word(off + 8), word(off + 16));
    // A live frame stack: chunk < top <= limit, a chunk of 16 KiB..64 MiB, 8-aligned, and the
    // chunk's own size field (after its `previous` link) agrees with the limit.
    let plausible = chunk != 0
        && chunk % 8 == 0
        && chunk < top
        && top <= limit
        && (CHUNK..=64 << 20).contains(&(limit - chunk));
    if plausible && *((chunk + 8) as *const usize) == limit - chunk {
        SEED_AT.store(off, Relaxed);
    }
}

/// Whether goroutine thread states get a small first chunk (tests check it on 3.11 and 3.13).
pub fn seeding() -> bool {
    SEED_AT.load(Relaxed) != 0 && ORIG.get().is_some()
}

/// Gives a fresh thread state (no frame stack yet) a `ROOT_CHUNK`-byte first chunk. Does
/// nothing when seeding is off, the state already has a chunk, or malloc fails.
/// # Safety
/// `ts` is a thread state made by `PyThreadState_New` that has not run any Python code, and
/// the arena hooks are installed (`install`).
pub unsafe fn seed(ts: *mut ffi::PyThreadState) {
    let off = SEED_AT.load(Relaxed);
    if off == 0 || ORIG.get().is_none() {
        return;
    }
    let f = (ts as *mut u8).add(off) as *mut usize;
    if *f != 0 || *f.add(1) != 0 || *f.add(2) != 0 {
        return;
    }
    let c = libc::malloc(ROOT_CHUNK) as *mut usize;
    if c.is_null() {
        return;
    }
    // _PyStackChunk { previous, size, top, data[] }, as CPython's allocate_chunk fills it.
    *c = 0;
    *c.add(1) = ROOT_CHUNK;
    *c.add(2) = 0;
    *f = c as usize; // datastack_chunk
    *f.add(1) = c.add(4) as usize; // datastack_top = &data[1]: slot 0 skipped, as push_chunk does
    *f.add(2) = c as usize + ROOT_CHUNK; // datastack_limit
}
