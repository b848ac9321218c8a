//! libgr's Rust allocator: the system allocator, with magazines in front for one hot block
//! size, the goroutine record (`gr_core::goroutine::G_BLOCK_SIZE`).
//!
//! Goroutines are usually spawned on one thread and retired on another, in bursts. glibc's
//! per-thread tcache (7 blocks per size) cannot serve that flow, and its slow paths cost ~360
//! instructions per spawn+exit (callgrind). Go keeps per-P and global free lists of its G
//! records for the same reason; this is the same idea one level down: each thread keeps a
//! magazine of up to `MAG` free blocks, and full or empty magazines trade `BATCH` blocks at a
//! time with a shared depot (one lock per `BATCH` operations). The depot is bounded; beyond
//! it blocks go back to the system. Other sizes go straight to the system allocator, and
//! the host's `malloc` is never replaced.

use gr_core::goroutine::G_BLOCK_SIZE;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Mutex;

const MAG: usize = 128;
const BATCH: usize = 64;
const DEPOT_MAX: usize = 64 * 1024;

struct Magazine {
    n: Cell<usize>,
    slots: [Cell<*mut u8>; MAG],
}

/// Free hot blocks shared by all threads (addresses as `usize`: they are plain memory).
static DEPOT: Mutex<Vec<usize>> = Mutex::new(Vec::new());

fn depot() -> std::sync::MutexGuard<'static, Vec<usize>> {
    DEPOT.lock().unwrap_or_else(|p| p.into_inner())
}

impl Drop for Magazine {
    fn drop(&mut self) {
        // Thread exit: hand the blocks to the depot (or the system) rather than leak them.
        // Nothing on these paths may allocate: a freed buffer of the hot size would re-enter
        // the depot while its lock is held.
        let n = self.n.replace(0);
        give_back(self.slots[..n].iter().map(|s| s.get() as usize));
    }
}

fn give_back(blocks: impl Iterator<Item = usize>) {
    let mut d = depot();
    if d.capacity() == 0 {
        // Reserve it all at once: the depot's Vec never reallocates under its own lock (a
        // realloc to the hot size would re-enter the depot).
        d.reserve_exact(DEPOT_MAX);
    }
    for b in blocks {
        if d.len() < DEPOT_MAX {
            d.push(b);
        } else {
            // SAFETY: every hot block came from `System.alloc(hot_layout())`.
            unsafe { System.dealloc(b as *mut u8, hot_layout()) };
        }
    }
}

thread_local! {
    static MAGAZINE: Magazine = const {
        Magazine { n: Cell::new(0), slots: [const { Cell::new(std::ptr::null_mut()) }; MAG] }
    };
}

const fn hot_layout() -> Layout {
    match Layout::from_size_align(G_BLOCK_SIZE, 16) {
        Ok(l) => l,
        Err(_) => panic!("bad hot layout"),
    }
}

fn is_hot(l: &Layout) -> bool {
    l.size() == G_BLOCK_SIZE && l.align() <= 16
}

fn take(m: &Magazine) -> Option<*mut u8> {
    let mut n = m.n.get();
    if n == 0 {
        let mut d = depot();
        let start = d.len() - d.len().min(BATCH);
        for b in d.drain(start..) {
            m.slots[n].set(b as *mut u8);
            n += 1;
        }
        if n == 0 {
            return None;
        }
    }
    m.n.set(n - 1);
    Some(m.slots[n - 1].get())
}

fn put(m: &Magazine, p: *mut u8) {
    let mut n = m.n.get();
    if n == MAG {
        give_back(m.slots[MAG - BATCH..].iter().map(|s| s.get() as usize));
        n = MAG - BATCH;
    }
    m.slots[n].set(p);
    m.n.set(n + 1);
}

pub struct GrAlloc;

// SAFETY: hot blocks are always obtained from `System` with `hot_layout()` (equal size,
// alignment 16 >= any hot request's) and only ever returned to `System` with that layout, so
// every block handed out satisfies its request and every free matches its allocation. A
// magazine is one thread's (`Cell`s); the depot is behind a mutex; once a thread's magazine
// is gone (thread exit) its calls fall through to `System`. Nothing here allocates through
// the global allocator while holding the depot lock except the depot's one-time reservation,
// which is not of the hot size (so it cannot re-enter the depot).
unsafe impl GlobalAlloc for GrAlloc {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if is_hot(&l) {
            return match MAGAZINE.try_with(take).ok().flatten() {
                Some(p) => p,
                // SAFETY: `hot_layout()` has a non-zero size.
                None => unsafe { System.alloc(hot_layout()) },
            };
        }
        // SAFETY: `l` is the caller's valid layout (GlobalAlloc's contract).
        unsafe { System.alloc(l) }
    }

    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        if is_hot(&l) {
            if MAGAZINE.try_with(|m| put(m, p)).is_err() {
                give_back(std::iter::once(p as usize));
            }
            return;
        }
        // SAFETY: `p` came from `System.alloc(l)` (a non-hot layout is passed through as is).
        unsafe { System.dealloc(p, l) }
    }

    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        if is_hot(&l) || new == G_BLOCK_SIZE {
            // Rare (a buffer of exactly this size growing): move through alloc/dealloc.
            // SAFETY: `l.align()` is a valid alignment and `new`, rounded up to it, does not
            // overflow isize (GlobalAlloc::realloc's contract).
            let nl = unsafe { Layout::from_size_align_unchecked(new, l.align()) };
            // SAFETY: `nl` has a non-zero size (realloc's contract: `new > 0`).
            let q = unsafe { self.alloc(nl) };
            if !q.is_null() {
                // SAFETY: `p` holds `l.size()` bytes and `q` at least `new`; distinct blocks.
                unsafe { std::ptr::copy_nonoverlapping(p, q, l.size().min(new)) };
                // SAFETY: `p` was allocated by us with `l` (the caller's contract).
                unsafe { self.dealloc(p, l) };
            }
            return q;
        }
        // SAFETY: neither side is hot: `p` came from `System` with `l` (the caller's contract).
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static ALLOC: GrAlloc = GrAlloc;
