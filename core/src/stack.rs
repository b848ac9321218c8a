//! Goroutine stacks: many stacks carved from one mapping, each with a guard page.
//!
//! Layout of one chunk (one `mmap`, `MAP_NORESERVE`, so only touched pages cost memory):
//!
//! ```text
//! low                                                                        high
//! | guard | stack 0 ............ | guard | stack 1 ............ | ... | guard | stack n-1 |
//!   (each guard is `guard_size()`: 4 pages)
//! ```
//!
//! Guards are made with `madvise(MADV_GUARD_INSTALL)` (Linux >= 6.13): they do not split the
//! mapping, so 100,000 stacks cost ~1,600 mappings instead of 200,000 and the kernel's default
//! `vm.max_map_count` (65,530) is no limit. Older kernels fall back to `mprotect(PROT_NONE)`,
//! which costs two mappings per stack; when mappings run out `mmap`/`mprotect` fail and the
//! spawn returns `GR_ENOMEM` (whose message names the sysctl) instead of crashing.
//!
//! Every chunk is recorded in [`REGISTRY`], an append-only table the SIGSEGV handler reads
//! without locks to tell a guard-page hit (a stack overflow) from a fault of the host's.
//!
//! Pooling: a freed stack goes to its processor's cache (`LocalCache`), whose overflow goes to
//! the global pool. Memory goes back to the kernel (`MADV_FREE`) in the background, as Go's
//! scavenger does: the monitor thread calls [`GlobalPool::scavenge`] about once a second,
//! which releases the global stacks beyond a hot reserve (`HOT_RESERVE`) that were not
//! reused since the last pass. So the spawn/exit cycle never makes a system call, and a
//! runtime that went quiet holds at most `LOCAL_CACHE_MAX x workers + HOT_RESERVE` stacks'
//! touched pages. (Measured: releasing each stack as it entered the global pool cost one
//! madvise per goroutine, ~25% of a spawn+join cycle, with TLB-flush IPIs.)

use crate::loom::rank::STACKS; // a leaf (`sched/README.md`, "Lock order")
use crate::loom::{lock, Mutex};
use crate::sys::mem::{free_pages, page_size, Mapping};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes of guard below each stack: several pages, so that a large frame (C code built
/// without stack-clash protection) cannot jump over the guard into the neighbouring stack.
/// With `MADV_GUARD_INSTALL` guards cost no memory and no mappings.
pub fn guard_size() -> usize {
    4 * page_size()
}

/// False once any chunk had to fall back to `mprotect` guards. Only with `MADV_GUARD_INSTALL`
/// guards (which survive `MADV_FREE`, and live inside one mapping) may the scavenger release
/// several neighbouring stacks, guards included, with one `madvise`.
static LIGHT_GUARDS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);
/// Bytes mapped per chunk (stacks larger than this get a chunk of their own).
const CHUNK_BYTES: usize = 16 << 20;
/// Stacks a processor keeps for reuse before handing them to the global pool.
pub const LOCAL_CACHE_MAX: usize = 256;
/// Stacks the global pool keeps without releasing their memory.
pub const HOT_RESERVE: usize = 1024;

/// One goroutine stack: `[limit, base)` is usable; the guard page lies just below `limit`.
#[derive(Debug)]
pub struct Stack {
    base: usize,
    limit: usize,
}

impl Stack {
    /// Usable bytes.
    pub fn size(&self) -> usize {
        self.base - self.limit
    }

    /// The lowest usable address (the guard lies just below).
    pub fn limit_addr(&self) -> usize {
        self.limit
    }

    /// One past the highest usable address.
    pub fn base_addr(&self) -> usize {
        self.base
    }
}

// SAFETY: `Stack` owns `[limit, base)` exclusively (the pool hands each slot to one owner at a
// time), both ends are page aligned (so STACK_ALIGNMENT aligned), and the page below `limit`
// is a guard page installed when the chunk was mapped, as the trait requires.
unsafe impl corosensei::stack::Stack for Stack {
    fn base(&self) -> corosensei::stack::StackPointer {
        corosensei::stack::StackPointer::new(self.base).expect("stack base is non-zero")
    }
    fn limit(&self) -> corosensei::stack::StackPointer {
        corosensei::stack::StackPointer::new(self.limit - guard_size()).expect("non-zero")
    }
}

/// Why a stack could not be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackError {
    /// mmap/madvise/mprotect failed: out of memory or of memory mappings.
    NoMemory,
}

// ---------------------------------------------------------------------------------------------
// The chunk registry, read by the signal handler.

const REGISTRY_MAX: usize = 1 << 16;
struct Registry {
    len: AtomicUsize,
    /// (chunk start, chunk end, slot bytes incl. guard) per chunk; `end` published last.
    start: [AtomicUsize; REGISTRY_MAX],
    end: [AtomicUsize; REGISTRY_MAX],
    slot: [AtomicUsize; REGISTRY_MAX],
}
#[allow(clippy::declare_interior_mutable_const)]
const ZERO: AtomicUsize = AtomicUsize::new(0);
static REGISTRY: Registry = Registry {
    len: AtomicUsize::new(0),
    start: [ZERO; REGISTRY_MAX],
    end: [ZERO; REGISTRY_MAX],
    slot: [ZERO; REGISTRY_MAX],
};
/// Lock-free (a lock held by another thread at fork() would deadlock the child): a slot is
/// reserved with `fetch_add`, filled, and published by storing its `end` last (Release); a
/// reader skips slots whose `end` is still 0.
fn register_chunk(start: usize, end: usize, slot: usize) {
    let i = REGISTRY.len.fetch_add(1, Ordering::AcqRel);
    if i >= REGISTRY_MAX {
        return; // overflow reports degrade to the host's handler; never fail a spawn for it
    }
    REGISTRY.start[i].store(start, Ordering::Relaxed);
    REGISTRY.slot[i].store(slot, Ordering::Relaxed);
    REGISTRY.end[i].store(end, Ordering::Release);
}

/// If `addr` lies in one of our guard pages, the usable size of the stack it guards.
/// Async-signal-safe: atomics only.
pub fn guard_hit(addr: usize) -> Option<usize> {
    let n = REGISTRY.len.load(Ordering::Acquire).min(REGISTRY_MAX);
    let guard = guard_size();
    for i in 0..n {
        let e = REGISTRY.end[i].load(Ordering::Acquire);
        let s = REGISTRY.start[i].load(Ordering::Relaxed);
        if e != 0 && addr >= s && addr < e {
            let slot = REGISTRY.slot[i].load(Ordering::Relaxed);
            let off = (addr - s) % slot;
            // Within a slot the guard comes first, then the stack.
            return if off < guard { Some(slot - guard) } else { None };
        }
    }
    None
}

/// The stack chunks mapped so far, sorted by address, to find which stack an address is on
/// ([`Chunks::bounds_of`]). Lock-free (the registry is append-only).
pub struct Chunks(Vec<(usize, usize, usize)>);

impl Chunks {
    pub fn now() -> Chunks {
        let n = REGISTRY.len.load(Ordering::Acquire).min(REGISTRY_MAX);
        let mut v: Vec<(usize, usize, usize)> = (0..n)
            .filter_map(|i| {
                let e = REGISTRY.end[i].load(Ordering::Acquire);
                (e != 0).then(|| (REGISTRY.start[i].load(Ordering::Relaxed), e, REGISTRY.slot[i].load(Ordering::Relaxed)))
            })
            .collect();
        v.sort_unstable();
        Chunks(v)
    }

    /// The usable range `[limit, base)` of the goroutine stack that contains `addr`, if any.
    pub fn bounds_of(&self, addr: usize) -> Option<(usize, usize)> {
        let i = self.0.partition_point(|c| c.0 <= addr).checked_sub(1)?;
        let (s, e, slot) = self.0[i];
        if addr >= e {
            return None;
        }
        let lo = s + (addr - s) / slot * slot + guard_size();
        (addr >= lo).then_some((lo, lo + slot - guard_size()))
    }
}

// ---------------------------------------------------------------------------------------------
// Mapping.

fn round_up(n: usize, to: usize) -> usize {
    n.div_ceil(to) * to
}

/// Maps a chunk of stacks of `size` usable bytes each and returns them.
fn map_chunk(size: usize) -> Result<Vec<Stack>, StackError> {
    let page = guard_size();
    let slot = size + page;
    let count = (CHUNK_BYTES / slot).max(1);
    let bytes = slot * count;
    let mut m = Mapping::anon(bytes, true).ok_or(StackError::NoMemory)?;
    for i in 0..count {
        let light = m.guard_light(i * slot, page);
        if !light {
            LIGHT_GUARDS.store(false, Ordering::Relaxed);
        }
        if !light && !m.guard_protect(i * slot, page) {
            return Err(StackError::NoMemory); // `m` is unmapped as it drops
        }
    }
    let start = m.leak();
    register_chunk(start, start + bytes, slot);
    Ok((0..count)
        .map(|i| {
            let limit = start + i * slot + page;
            Stack { base: limit + size, limit }
        })
        .collect())
}

/// Returns the memory of pooled stacks to the kernel lazily (they stay mapped and reserved).
/// Neighbouring stacks (one guard apart) are released by one `madvise` over the whole run,
/// guards included, when guards are `MADV_GUARD_INSTALL` markers, which `MADV_FREE` keeps
/// (checked by `tests::free_keeps_light_guards`): each call costs a TLB-flush IPI, so 100,000
/// stacks freed by one burst cost ~1,600 calls instead of 100,000. Sorts `stacks` by address.
fn release_memory(stacks: &mut [Stack]) -> usize {
    let light = LIGHT_GUARDS.load(Ordering::Relaxed);
    stacks.sort_unstable_by_key(|s| s.limit);
    let guard = guard_size();
    let mut calls = 0;
    let mut i = 0;
    while i < stacks.len() {
        let (start, mut end) = (stacks[i].limit, stacks[i].base);
        i += 1;
        while light && i < stacks.len() && stacks[i].limit == end + guard {
            end = stacks[i].base;
            i += 1;
        }
        // SAFETY: [start, end) covers pooled stacks (leaked mappings of `map_chunk`; no
        // goroutine runs on them) and, between them, light guard slots of the same chunks,
        // whose markers MADV_FREE keeps.
        unsafe { free_pages(start, end - start) };
        calls += 1;
    }
    calls
}

/// Free stacks of one size: untouched or released ones at the bottom, the `hot` most
/// recently used (memory kept) on top.
#[derive(Default)]
struct FreeList {
    v: Vec<Stack>,
    hot: usize,
}

impl FreeList {
    fn pop(&mut self) -> Option<Stack> {
        let s = self.v.pop()?;
        self.hot = self.hot.saturating_sub(1);
        Some(s)
    }
    fn push_cold(&mut self, cold: impl IntoIterator<Item = Stack>) {
        let hot = self.v.split_off(self.v.len() - self.hot);
        self.v.extend(cold);
        self.v.extend(hot);
    }
}

/// Free lists by stack size: a handful of sizes at most, so a short vector beats hashing.
#[derive(Default)]
struct BySize(Vec<(usize, FreeList)>);

impl BySize {
    fn get_mut(&mut self, size: &usize) -> Option<&mut FreeList> {
        self.0.iter_mut().find(|(s, _)| s == size).map(|(_, f)| f)
    }
    fn entry(&mut self, size: usize) -> &mut FreeList {
        match self.0.iter().position(|(s, _)| *s == size) {
            Some(i) => &mut self.0[i].1,
            None => {
                self.0.push((size, FreeList::default()));
                &mut self.0.last_mut().expect("just pushed").1
            }
        }
    }
    fn iter_mut(&mut self) -> impl Iterator<Item = (&usize, &mut FreeList)> {
        self.0.iter_mut().map(|(s, f)| (&*s, f))
    }
}

/// The global pool, all sizes.
#[derive(Default)]
pub struct GlobalPool {
    free: Mutex<BySize, STACKS>,
}

impl GlobalPool {
    /// Normalises a requested size: at least 16 KiB, whole pages.
    pub fn normalise(size: usize) -> usize {
        round_up(size.max(16 << 10), page_size())
    }

    /// Takes a stack of `size` bytes (already normalised), mapping a new chunk when empty.
    pub fn get(&self, size: usize) -> Result<Stack, StackError> {
        if let Some(s) = lock(&self.free).get_mut(&size).and_then(FreeList::pop) {
            return Ok(s);
        }
        let mut fresh = map_chunk(size)?;
        let s = fresh.pop().expect("a chunk holds at least one stack");
        lock(&self.free).entry(size).push_cold(fresh);
        Ok(s)
    }

    /// Takes up to `n` stacks of `size` at once (refilling a processor's cache).
    pub fn get_batch(&self, size: usize, n: usize, into: &mut Vec<Stack>) -> Result<(), StackError> {
        {
            let mut free = lock(&self.free);
            if let Some(f) = free.get_mut(&size) {
                for _ in 0..n {
                    match f.pop() {
                        Some(s) => into.push(s),
                        None => break,
                    }
                }
            }
        }
        if into.is_empty() {
            let mut fresh = map_chunk(size)?;
            let k = fresh.len().saturating_sub(n);
            let rest: Vec<Stack> = fresh.drain(..k).collect();
            into.extend(fresh);
            lock(&self.free).entry(size).push_cold(rest);
        }
        Ok(())
    }

    /// Takes back stacks of one size (hot: their memory is kept until a scavenge).
    pub fn put_many(&self, stacks: impl IntoIterator<Item = Stack>) {
        let mut free = lock(&self.free);
        for s in stacks {
            let f = free.entry(s.size());
            f.v.push(s);
            f.hot += 1;
        }
    }

    /// Releases the memory of hot stacks beyond `HOT_RESERVE` (the least recently used),
    /// outside the lock. Returns how many were released.
    pub fn scavenge(&self) -> usize {
        let mut taken: Vec<(usize, Vec<Stack>)> = Vec::new();
        {
            let mut free = lock(&self.free);
            for (&size, f) in free.iter_mut() {
                if f.hot > HOT_RESERVE {
                    let excess = f.hot - HOT_RESERVE;
                    let start = f.v.len() - f.hot;
                    taken.push((size, f.v.drain(start..start + excess).collect()));
                    f.hot = HOT_RESERVE;
                }
            }
        }
        let mut n = 0;
        for (size, mut stacks) in taken {
            n += stacks.len();
            release_memory(&mut stacks);
            lock(&self.free).entry(size).push_cold(stacks);
        }
        n
    }
}

/// A processor's cache of default-size stacks (touched pages stay, so reuse is fault-free).
#[derive(Default)]
pub struct LocalCache {
    pub stacks: Vec<Stack>,
}

impl LocalCache {
    pub fn get(&mut self, size: usize, global: &GlobalPool) -> Result<Stack, StackError> {
        if let Some(s) = self.stacks.pop() {
            return Ok(s);
        }
        global.get_batch(size, LOCAL_CACHE_MAX / 2, &mut self.stacks)?;
        self.stacks.pop().ok_or(StackError::NoMemory)
    }

    pub fn put(&mut self, s: Stack, global: &GlobalPool) {
        self.stacks.push(s);
        if self.stacks.len() > LOCAL_CACHE_MAX {
            let spill: Vec<Stack> = self.stacks.drain(..LOCAL_CACHE_MAX / 2).collect();
            global.put_many(spill);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_carved_and_guarded() {
        let pool = GlobalPool::default();
        let size = GlobalPool::normalise(64 << 10);
        let a = pool.get(size).unwrap();
        let b = pool.get(size).unwrap();
        assert_eq!(a.size(), size);
        assert_ne!(a.base, b.base);
        assert_eq!(guard_hit(a.limit - 1), Some(size));
        assert_eq!(guard_hit(a.limit), None);
        // The usable range is writable.
        // SAFETY: [limit, base) of a stack we own.
        unsafe { std::ptr::write_bytes(a.limit as *mut u8, 1, a.size()) };
        pool.put_many([a, b]);
    }

    /// One coalesced `MADV_FREE` over neighbouring stacks keeps the guards between them, and
    /// releases the stacks' memory (they read back as zero or as written, and stay usable).
    #[test]
    fn free_keeps_light_guards() {
        let pool = GlobalPool::default();
        let size = GlobalPool::normalise(16 << 10);
        let mut v: Vec<Stack> = (0..8).map(|_| pool.get(size).unwrap()).collect();
        for s in &v {
            // SAFETY: [limit, base) of a stack we own.
            unsafe { std::ptr::write_bytes(s.limit as *mut u8, 7, s.size()) };
        }
        let calls = release_memory(&mut v);
        if LIGHT_GUARDS.load(Ordering::Relaxed) {
            assert!(calls < v.len(), "neighbouring stacks were not coalesced ({calls} calls)");
        }
        for s in &v {
            // SAFETY: as above; the stack stays mapped and writable after MADV_FREE.
            unsafe { std::ptr::write_bytes(s.limit as *mut u8, 1, 64) };
            let g = s.limit - 1;
            // SAFETY: fork in a test: the child only reads one byte and calls _exit.
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                // SAFETY: reading the guard must fault; if it does not, the child exits 0.
                unsafe {
                    std::ptr::read_volatile(g as *const u8);
                    libc::_exit(0);
                }
            }
            let mut st = 0;
            // SAFETY: waiting for our own child.
            unsafe { libc::waitpid(pid, &mut st, 0) };
            assert!(libc::WIFSIGNALED(st), "the guard below a released stack was lost");
        }
        pool.put_many(v);
    }
}
