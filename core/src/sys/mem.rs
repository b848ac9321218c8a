//! Memory mappings: anonymous `mmap`/`munmap`, guard pages (`MADV_GUARD_INSTALL`, else
//! `mprotect(PROT_NONE)`), `MADV_FREE`, and the page size. Goroutine stacks (`stack.rs`) and
//! alternate signal stacks (`signal.rs`) are carved from these.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The page size, read once.
pub(crate) fn page_size() -> usize {
    static PAGE: AtomicUsize = AtomicUsize::new(0);
    let p = PAGE.load(Ordering::Relaxed);
    if p != 0 {
        return p;
    }
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
    PAGE.store(p, Ordering::Relaxed);
    p
}

/// Linux's `MADV_GUARD_INSTALL` (6.13+); not yet in every libc crate release.
const MADV_GUARD_INSTALL: libc::c_int = 102;

/// A private anonymous read/write mapping: its owner may reshape it (guard pages) without
/// `unsafe` while nobody else knows of it, and it is unmapped when dropped. The stack pool
/// hands out addresses inside its chunks' mappings and drops them only when nothing uses
/// those addresses any more (`stack.rs`, `GlobalPool::release_all`).
pub(crate) struct Mapping {
    addr: usize,
    len: usize,
}

impl Mapping {
    /// Maps `len` bytes at an address the kernel picks. `noreserve`: `MAP_NORESERVE`, so that
    /// only touched pages cost memory. `None` when the kernel refuses (out of memory or of
    /// mappings, see `vm.max_map_count`).
    pub(crate) fn anon(len: usize, noreserve: bool) -> Option<Mapping> {
        let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | if noreserve { libc::MAP_NORESERVE } else { 0 };
        // SAFETY: an anonymous private mapping at a kernel-chosen address touches no existing
        // memory.
        let p = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, flags, -1, 0) };
        (p != libc::MAP_FAILED).then_some(Mapping { addr: p as usize, len })
    }

    pub(crate) fn addr(&self) -> usize {
        self.addr
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Turns `[addr + off, addr + off + len)` into a guard that does not split the mapping
    /// (`MADV_GUARD_INSTALL`: no extra kernel mapping, survives `MADV_FREE`). `false` on
    /// kernels before 6.13.
    pub(crate) fn guard_light(&mut self, off: usize, len: usize) -> bool {
        assert!(off.checked_add(len).is_some_and(|e| e <= self.len), "guard outside the mapping");
        // SAFETY: the range lies in this mapping, which nobody else uses yet (`&mut self`,
        // not leaked); an inaccessible page breaks no Rust reference.
        unsafe { libc::madvise((self.addr + off) as *mut libc::c_void, len, MADV_GUARD_INSTALL) == 0 }
    }

    /// Turns the range into a classic guard, `mprotect(PROT_NONE)` (the mapping splits in
    /// the kernel: two more mappings). `false` if the kernel refuses (out of mappings).
    pub(crate) fn guard_protect(&mut self, off: usize, len: usize) -> bool {
        assert!(off.checked_add(len).is_some_and(|e| e <= self.len), "guard outside the mapping");
        // SAFETY: as in `guard_light`.
        unsafe { libc::mprotect((self.addr + off) as *mut libc::c_void, len, libc::PROT_NONE) == 0 }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: our own mapping; its owner drops it only once nothing uses its memory (the
        // type docs).
        unsafe { libc::munmap(self.addr as *mut libc::c_void, self.len) };
    }
}

/// A private anonymous read/write mapping of `len` bytes (a multiple of `align`) at an
/// address that is a multiple of `align` (a power of two, at least a page), zero-filled,
/// never unmapped: type-stable memory (`allg.rs`). Only touched pages cost memory. `None`
/// when the kernel refuses.
pub(crate) fn anon_aligned_forever(len: usize, align: usize) -> Option<usize> {
    assert!(align.is_power_of_two() && align >= page_size() && len % align == 0, "bad aligned mapping");
    let m = Mapping::anon(len + align, false)?;
    let (addr, total) = (m.addr(), m.len());
    std::mem::forget(m); // kept for good, but for the trimmed ends below
    let start = addr.next_multiple_of(align);
    let end = start + len;
    // SAFETY: both ranges lie in the mapping just made, which nobody else knows of; what
    // stays mapped is `[start, end)`. (Both are page multiples: `addr` is page-aligned, and
    // `start`, `end` are multiples of `align`.)
    unsafe {
        if start > addr {
            libc::munmap(addr as *mut libc::c_void, start - addr);
        }
        if addr + total > end {
            libc::munmap(end as *mut libc::c_void, addr + total - end);
        }
    }
    Some(start)
}

/// Lets the kernel reclaim the pages of `[addr, addr + len)` lazily (`MADV_FREE`): they stay
/// mapped, and read back as before or as zeros. `MADV_GUARD_INSTALL` guards in the range stay.
///
/// # Safety
/// The range lies in mappings of ours (the stack pool's chunks) whose contents nobody needs
/// any more: no thread runs on, or holds a reference into, those pages.
pub(crate) unsafe fn free_pages(addr: usize, len: usize) {
    // SAFETY: the caller's contract; MADV_FREE only lets the kernel drop page contents.
    unsafe { libc::madvise(addr as *mut libc::c_void, len, libc::MADV_FREE) };
}
