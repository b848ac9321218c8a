//! The descriptor table: fd number -> [`Desc`], two levels of fixed arrays so that a `Desc`
//! never moves and is never freed while its runtime lives (epoll events and parked waiters
//! refer to it by number and generation). Go keeps its `pollDesc`s type-stable for the same
//! reason.
//!
//! The top level (`TOP` pointers, zero-filled memory that costs nothing until touched) is
//! allocated with the poller; chunks of `CHUNK` descriptors are allocated on first use of a
//! number in their range and published with a CAS, and freed with the table (when its
//! runtime is reclaimed).

use super::desc::Desc;
use crate::error::Error;
use std::sync::atomic::AtomicPtr;
use std::sync::atomic::Ordering::{AcqRel, Acquire};

const CHUNK: usize = 256;
const TOP: usize = 1 << 16;
/// Largest fd number (exclusive) the runtime can wait on: 16M.
pub(crate) const MAX_FD: usize = CHUNK * TOP;

/// Each entry: null, or the first of `CHUNK` descriptors (a leaked boxed slice).
pub(crate) struct Table {
    top: Box<[AtomicPtr<Desc>]>,
}

impl Table {
    pub(crate) fn new() -> Table {
        let layout = std::alloc::Layout::array::<AtomicPtr<Desc>>(TOP).expect("fixed size");
        // SAFETY: a zeroed AtomicPtr is a valid null pointer; the slice owns exactly the
        // `TOP` elements allocated here with the global allocator and the array layout, which
        // is what `Box<[T]>` frees them with. Zeroed memory from the allocator is untouched
        // (mmap'd) pages for a block this size, so the table costs no resident memory yet.
        let top = unsafe {
            let p = std::alloc::alloc_zeroed(layout) as *mut AtomicPtr<Desc>;
            if p.is_null() {
                std::alloc::handle_alloc_error(layout);
            }
            Box::from_raw(std::ptr::slice_from_raw_parts_mut(p, TOP))
        };
        Table { top }
    }

    /// The descriptor for `fd`, allocating its chunk if needed. `Invalid` for a negative or
    /// too large number.
    pub(crate) fn get(&self, fd: i32) -> Result<&Desc, Error> {
        if fd < 0 || fd as usize >= MAX_FD {
            return Err(Error::Invalid);
        }
        let (hi, lo) = (fd as usize / CHUNK, fd as usize % CHUNK);
        let mut c = self.top[hi].load(Acquire);
        if c.is_null() {
            // Built on the heap directly (never on a goroutine's small stack).
            let fresh: Box<[Desc]> = (0..CHUNK).map(|_| Desc::new()).collect();
            let fresh = Box::into_raw(fresh) as *mut Desc;
            match self.top[hi].compare_exchange(std::ptr::null_mut(), fresh, AcqRel, Acquire) {
                Ok(_) => c = fresh,
                Err(other) => {
                    // SAFETY: `fresh` came from a boxed slice of CHUNK and was never published.
                    drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(fresh, CHUNK)) });
                    c = other;
                }
            }
        }
        // SAFETY: a published chunk holds CHUNK descriptors and is never freed while the table
        // lives (`Drop`); the reference is tied to `&self`.
        Ok(unsafe { &*c.add(lo) })
    }

    /// The descriptor for `fd` if its chunk exists (for epoll events: a registered number's
    /// chunk always does).
    pub(crate) fn lookup(&self, fd: i32) -> Option<&Desc> {
        if fd < 0 || fd as usize >= MAX_FD {
            return None;
        }
        let c = self.top[fd as usize / CHUNK].load(Acquire);
        // SAFETY: as in `get`.
        (!c.is_null()).then(|| unsafe { &*c.add(fd as usize % CHUNK) })
    }

    /// Every allocated descriptor with its fd number (shutdown).
    pub(crate) fn for_each(&self, mut f: impl FnMut(i32, &Desc)) {
        for (hi, slot) in self.top.iter().enumerate() {
            let c = slot.load(Acquire);
            if c.is_null() {
                continue;
            }
            // SAFETY: as in `get`.
            for (lo, d) in unsafe { std::slice::from_raw_parts(c, CHUNK) }.iter().enumerate() {
                f((hi * CHUNK + lo) as i32, d);
            }
        }
    }
}

impl Drop for Table {
    /// Frees the chunks: the table is dropped with its runtime's poller, when the runtime is
    /// reclaimed (`sched/runtime.rs`), after every operation that held it has returned.
    fn drop(&mut self) {
        for e in self.top.iter() {
            let c = e.load(Acquire);
            if !c.is_null() {
                // SAFETY: a published chunk is a boxed slice of CHUNK leaked by `get`, freed
                // only here; nothing refers to its descriptors any more (see above).
                drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(c, CHUNK)) });
            }
        }
    }
}
