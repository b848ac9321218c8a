//! The element buffer of a buffered channel: a FIFO ring of `cap` slots of `esz` bytes.
//!
//! Invariant: `len <= cap`; the items are the `len` slots starting at `head`, wrapping. It is
//! only touched under its channel's lock.

use crate::error::{Error, Result};

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

    pub fn is_full(&self) -> bool {
        self.len == self.cap
    }

    fn slot(&mut self, i: usize) -> *mut u8 {
        let i = (self.head + i) % self.cap;
        // In bounds: i < cap and buf holds cap * esz bytes.
        self.buf[i * self.esz..].as_mut_ptr()
    }

    /// Appends the element at `src`. The ring must not be full.
    ///
    /// # Safety
    /// `src` must be valid for reading `esz` bytes and not overlap the ring.
    pub unsafe fn push(&mut self, src: *const u8) {
        debug_assert!(self.len < self.cap);
        let dst = self.slot(self.len);
        std::ptr::copy_nonoverlapping(src, dst, self.esz);
        self.len += 1;
    }

    /// Removes the oldest element into `dst`. The ring must not be empty.
    ///
    /// # Safety
    /// `dst` must be valid for writing `esz` bytes and not overlap the ring.
    pub unsafe fn pop(&mut self, dst: *mut u8) {
        debug_assert!(self.len > 0);
        let src = self.slot(0);
        std::ptr::copy_nonoverlapping(src, dst, self.esz);
        self.head = (self.head + 1) % self.cap;
        self.len -= 1;
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
