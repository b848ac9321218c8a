//! The element buffer of a buffered channel: a FIFO ring of `cap` slots of `esz` bytes.
//!
//! Invariant: `len <= cap`; the items are the `len` slots starting at `head`, wrapping. It is
//! only touched under its channel's lock.

use crate::error::{Error, Result};
use crate::sys::sanitizer;

pub(crate) struct Ring {
    buf: Vec<u8>,
    esz: usize,
    cap: usize,
    head: usize,
    len: usize,
}

impl Ring {
    pub fn new(esz: usize, cap: usize) -> Result<Ring> {
        let bytes = esz.checked_mul(cap).ok_or(Error::NoMemory)?;
        if bytes > isize::MAX as usize {
            return Err(Error::NoMemory);
        }
        let mut buf = Vec::new();
        buf.try_reserve_exact(bytes).map_err(|_| Error::NoMemory)?;
        buf.resize(bytes, 0);
        Ok(Ring { buf, esz, cap, head: 0, len: 0 })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub fn is_full(&self) -> bool {
        self.len == self.cap
    }

    /// The `i`-th item's slot (`i < cap`).
    #[inline]
    fn slot(&mut self, i: usize) -> *mut u8 {
        debug_assert!(i < self.cap);
        let mut i = self.head + i; // head < cap and i < cap: no overflow, one wrap at most
        if i >= self.cap {
            i -= self.cap;
        }
        // SAFETY: i < cap and `buf` holds cap * esz bytes, so the slot is in bounds.
        unsafe { self.buf.as_mut_ptr().add(i * self.esz) }
    }

    /// Appends the element at `src`. The ring must not be full.
    ///
    /// # Safety
    /// `src` must be valid for reading `esz` bytes and not overlap the ring.
    #[inline]
    pub unsafe fn push(&mut self, src: *const u8) {
        debug_assert!(self.len < self.cap);
        let dst = self.slot(self.len);
        sanitizer::acquire_release(dst as usize); // see `handoff_slot`
        // SAFETY: `dst` is a slot of `esz` bytes; `src` per the caller's contract.
        copy_elem(src, dst, self.esz);
        self.len += 1;
    }

    /// Removes the oldest element into `dst`. The ring must not be empty.
    ///
    /// # Safety
    /// `dst` must be valid for writing `esz` bytes and not overlap the ring.
    #[inline]
    pub unsafe fn pop(&mut self, dst: *mut u8) {
        debug_assert!(self.len > 0);
        let src = self.slot(0);
        sanitizer::acquire_release(src as usize);
        // SAFETY: `src` is a slot of `esz` bytes; `dst` per the caller's contract.
        copy_elem(src, dst, self.esz);
        self.head += 1;
        if self.head == self.cap {
            self.head = 0;
        }
        self.len -= 1;
    }

    /// For ThreadSanitizer, the slot a value handed straight from a sender to a parked
    /// receiver counts as passing through (0 for an unbuffered channel): the next one. Each
    /// slot is a sync object, acquired and released by every push and pop: a value's sender
    /// happens before its receiver, and a receiver before the next sender into that slot
    /// (Go's "the k-th receive happens before the (k+C)-th send completes", as Go's race
    /// detector models it).
    pub fn handoff_slot(&self) -> usize {
        if self.cap == 0 {
            return 0;
        }
        // The ring is empty (a receiver is parked): the next slot is the head.
        self.buf.as_ptr() as usize + self.head * self.esz
    }

    /// Calls `f` on each remaining element (oldest first), then empties the ring.
    pub fn drain_each(&mut self, mut f: impl FnMut(*mut u8)) {
        for i in 0..self.len {
            f(self.slot(i));
        }
        self.len = 0;
        self.head = 0;
    }
}

/// Copies one element; common small sizes avoid a `memcpy` call.
///
/// # Safety
/// `src` readable and `dst` writable for `n` bytes, not overlapping.
#[inline(always)]
pub(crate) unsafe fn copy_elem(src: *const u8, dst: *mut u8, n: usize) {
    // SAFETY (all arms): the caller's contract; unaligned accesses are allowed.
    match n {
        8 => dst.cast::<u64>().write_unaligned(src.cast::<u64>().read_unaligned()),
        16 => dst.cast::<u128>().write_unaligned(src.cast::<u128>().read_unaligned()),
        4 => dst.cast::<u32>().write_unaligned(src.cast::<u32>().read_unaligned()),
        _ => std::ptr::copy_nonoverlapping(src, dst, n),
    }
}
