//! Goroutine stacks: many stacks carved from one mapping, each with a guard page.
//!
//! Layout of one chunk (one `mmap`, `MAP_NORESERVE`, so only touched pages cost memory):
//!
//! ```text
//! low                                                                        high
//! | guard | stack 0 ............ | guard | stack 1 ............ | ... | guard | stack n-1 |
//!   (each guard is `guard_for(size)` bytes)
//! ```
//!
//! Guards are made with `madvise(MADV_GUARD_INSTALL)` (Linux >= 6.13): they do not split the
//! mapping, so 100,000 stacks cost ~1,600 mappings instead of 200,000 and the kernel's default
//! `vm.max_map_count` (65,530) is no limit. Older kernels fall back to `mprotect(PROT_NONE)`,
//! which costs two mappings per stack; when mappings run out `mmap`/`mprotect` fail and the
//! spawn returns `GR_ENOMEM` (whose message names the sysctl) instead of crashing.
//!
//! The context switch between a goroutine's stack and its M's is `stack/switch.rs`.
//!
//! Every chunk is recorded in the registry (`stack/registry.rs`), which the SIGSEGV handler
//! reads without locks to tell a guard-page hit (a stack overflow) from a fault of the host's.
//!
//! Sizes: a request is rounded up to whole pages, at least [`STACK_MIN`], and refused above
//! [`STACK_MAX`] (1 GiB, Go's limit on 64-bit): so `size + guard` and the chunk arithmetic
//! never overflow.
//!
//! Lifetime: chunks belong to one runtime's pool and are unmapped all together when that
//! runtime's memory is reclaimed ([`GlobalPool::release_all`], `sched/README.md`,
//! "Lifecycle"): nothing may run on or point into its stacks by then.
//!
//! Pooling: a freed stack goes to its processor's cache (`LocalCache`), whose overflow goes to
//! the global pool. Memory goes back to the kernel (`MADV_FREE`) in the background, as Go's
//! scavenger does: the monitor thread calls [`GlobalPool::scavenge`] about once a second,
//! which releases the global stacks beyond a hot reserve (`HOT_RESERVE`) that were not
//! reused since the last pass. So the spawn/exit cycle never makes a system call, and a
//! runtime that went quiet holds at most `LOCAL_CACHE_MAX x workers + HOT_RESERVE` stacks'
//! touched pages. (Measured: releasing each stack as it entered the global pool cost one
//! madvise per goroutine, ~25% of a spawn+join cycle, with TLB-flush IPIs.)

mod registry;
pub mod switch;

use crate::loom::rank::STACKS; // a leaf (`sched/README.md`, "Lock order")
use crate::loom::{lock, Mutex};
use crate::sys::mem::{free_pages, page_size, Mapping};
pub(crate) use registry::guard_hit;
use std::sync::atomic::Ordering;

/// The smallest stack: requests below it are raised to it.
pub const STACK_MIN: usize = 16 << 10;
/// The largest stack a goroutine may ask for (the ABI's `GR_STACK_SIZE_MAX`): 1 GiB, Go's
/// maximum on 64-bit. Above it `gr_spawn_ex` and `gr_init` return `GR_EINVAL`.
pub const STACK_MAX: usize = 1 << 30;

/// Bytes of guard below each stack of `size` usable bytes: a quarter of the stack, between
/// 4 pages and 256 KiB (the default 256 KiB stack gets 64 KiB; Python's 1 MiB ones 256 KiB),
/// so that a large frame of C code built without `-fstack-clash-protection` does not jump
/// over the guard into the neighbouring stack. A frame larger than the guard still can: the
/// README says to build such code with the flag. With `MADV_GUARD_INSTALL` a guard costs no
/// memory and no mapping, only address space and page-table entries (measured, 100,000
/// parked goroutines of the default size: page tables 53.3 MB with 16 KiB guards, 62.7 MB
/// with 64 KiB, 100.3 MB with 256 KiB; RSS and mappings the same).
pub fn guard_for(size: usize) -> usize {
    let page = page_size();
    round_up((size / 4).clamp(4 * page, GUARD_MAX), page)
}

/// The largest guard (see [`guard_for`]).
const GUARD_MAX: usize = 256 << 10;

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

/// Why a stack could not be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackError {
    /// mmap/madvise/mprotect failed: out of memory or of memory mappings.
    NoMemory,
}

// ---------------------------------------------------------------------------------------------
/// The stack chunks mapped now, sorted by address, to find which stack an address is on
/// ([`Chunks::bounds_of`]). Lock-free (`stack/registry.rs`); a chunk unmapped meanwhile (a
/// runtime reclaimed) may still be listed: callers read only stacks they know to be live.
pub struct Chunks(Vec<registry::Snap>);

impl Chunks {
    pub fn now() -> Chunks {
        let mut v = registry::snapshot();
        v.sort_unstable_by_key(|c| c.start);
        Chunks(v)
    }

    /// The usable range `[limit, base)` of the goroutine stack that contains `addr`, if any.
    pub fn bounds_of(&self, addr: usize) -> Option<(usize, usize)> {
        let i = self.0.partition_point(|c| c.start <= addr).checked_sub(1)?;
        let c = self.0[i];
        if addr >= c.end {
            return None;
        }
        let lo = c.start + (addr - c.start) / c.slot * c.slot + c.guard;
        (addr >= lo).then_some((lo, lo + c.slot - c.guard))
    }
}

// ---------------------------------------------------------------------------------------------
// Mapping.

fn round_up(n: usize, to: usize) -> usize {
    n.div_ceil(to) * to
}

/// A mapped chunk of stacks, unmapped (and forgotten by the registry) when dropped: by
/// [`GlobalPool::release_all`], or with its pool.
struct Chunk {
    mem: Option<Mapping>,
    entry: Option<registry::Entry>,
}

impl Drop for Chunk {
    fn drop(&mut self) {
        // Unregistered first: a fault in the range is no longer ours, and the address may be
        // mapped again (a stale entry would misreport it).
        if let Some(e) = self.entry.take() {
            registry::unregister(e);
        }
        drop(self.mem.take()); // munmap
    }
}

/// Maps a chunk of stacks of `size` usable bytes each (normalised: at most [`STACK_MAX`])
/// and returns it with its stacks.
fn map_chunk(size: usize) -> Result<(Chunk, Vec<Stack>), StackError> {
    debug_assert!((STACK_MIN..=STACK_MAX).contains(&size) && size % page_size() == 0);
    let guard = guard_for(size);
    let slot = size + guard; // <= 1 GiB + a guard: no overflow
    let count = (CHUNK_BYTES / slot).max(1);
    let bytes = slot * count; // <= max(CHUNK_BYTES, slot)
    let mut m = Mapping::anon(bytes, true).ok_or(StackError::NoMemory)?;
    for i in 0..count {
        let light = m.guard_light(i * slot, guard);
        if !light {
            LIGHT_GUARDS.store(false, Ordering::Relaxed);
        }
        if !light && !m.guard_protect(i * slot, guard) {
            return Err(StackError::NoMemory); // `m` is unmapped as it drops
        }
    }
    let start = m.addr();
    let entry = registry::register(start, start + bytes, slot, guard);
    let stacks = (0..count)
        .map(|i| {
            let limit = start + i * slot + guard;
            Stack { base: limit + size, limit }
        })
        .collect();
    Ok((Chunk { mem: Some(m), entry }, stacks))
}

/// Returns the memory of pooled stacks to the kernel lazily (they stay mapped and reserved).
/// Neighbouring stacks (one guard apart) are released by one `madvise` over the whole run,
/// guards included, when guards are `MADV_GUARD_INSTALL` markers, which `MADV_FREE` keeps
/// (checked by `tests::free_keeps_light_guards`): each call costs a TLB-flush IPI, so 100,000
/// stacks freed by one burst cost ~1,600 calls instead of 100,000. Sorts `stacks` by address.
fn release_memory(stacks: &mut [Stack]) -> usize {
    let light = LIGHT_GUARDS.load(Ordering::Relaxed);
    stacks.sort_unstable_by_key(|s| s.limit);
    let mut calls = 0;
    let mut i = 0;
    while i < stacks.len() {
        let (start, mut end) = (stacks[i].limit, stacks[i].base);
        let guard = guard_for(stacks[i].size());
        i += 1;
        while light && i < stacks.len() && stacks[i].limit == end + guard && stacks[i].size() == stacks[i - 1].size() {
            end = stacks[i].base;
            i += 1;
        }
        // SAFETY: [start, end) covers pooled stacks (mappings of `map_chunk`, kept until
        // `release_all`, which no scavenge overlaps: the monitor is gone by then; no
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

/// Under the pool's lock: the free stacks by size, and every chunk mapped.
#[derive(Default)]
struct Pools {
    by_size: BySize,
    chunks: Vec<Chunk>,
}

/// The global pool, all sizes.
#[derive(Default)]
pub struct GlobalPool {
    free: Mutex<Pools, STACKS>,
}

impl GlobalPool {
    /// Normalises a requested size: at least [`STACK_MIN`], whole pages. `None` above
    /// [`STACK_MAX`].
    pub fn normalise(size: usize) -> Option<usize> {
        if size > STACK_MAX {
            return None;
        }
        Some(round_up(size.max(STACK_MIN), page_size())) // <= 1 GiB: no overflow
    }

    /// Takes a stack of `size` bytes (already normalised), mapping a new chunk when empty.
    pub fn get(&self, size: usize) -> Result<Stack, StackError> {
        if let Some(s) = lock(&self.free).by_size.get_mut(&size).and_then(FreeList::pop) {
            return Ok(s);
        }
        let (chunk, mut fresh) = map_chunk(size)?;
        let s = fresh.pop().expect("a chunk holds at least one stack");
        let mut p = lock(&self.free);
        p.chunks.push(chunk);
        p.by_size.entry(size).push_cold(fresh);
        Ok(s)
    }

    /// Unmaps every chunk of this pool, with the stacks in use: the runtime that owned it is
    /// gone, and nothing runs on, or points into, any of its stacks any more (its memory is
    /// reclaimed: `sched/README.md`, "Lifecycle").
    pub fn release_all(&self) {
        let chunks = {
            let mut p = lock(&self.free);
            p.by_size = BySize::default();
            std::mem::take(&mut p.chunks)
        };
        drop(chunks); // unregistered, then unmapped (`Chunk`'s drop)
    }

    /// Takes up to `n` stacks of `size` at once (refilling a processor's cache).
    pub fn get_batch(&self, size: usize, n: usize, into: &mut Vec<Stack>) -> Result<(), StackError> {
        {
            let mut free = lock(&self.free);
            if let Some(f) = free.by_size.get_mut(&size) {
                for _ in 0..n {
                    match f.pop() {
                        Some(s) => into.push(s),
                        None => break,
                    }
                }
            }
        }
        if into.is_empty() {
            let (chunk, mut fresh) = map_chunk(size)?;
            let k = fresh.len().saturating_sub(n);
            let rest: Vec<Stack> = fresh.drain(..k).collect();
            into.extend(fresh);
            let mut p = lock(&self.free);
            p.chunks.push(chunk);
            p.by_size.entry(size).push_cold(rest);
        }
        Ok(())
    }

    /// Takes back stacks of one size (hot: their memory is kept until a scavenge).
    pub fn put_many(&self, stacks: impl IntoIterator<Item = Stack>) {
        let mut free = lock(&self.free);
        for s in stacks {
            let f = free.by_size.entry(s.size());
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
            for (&size, f) in free.by_size.iter_mut() {
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
            lock(&self.free).by_size.entry(size).push_cold(stacks);
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
        let size = GlobalPool::normalise(64 << 10).unwrap();
        let a = pool.get(size).unwrap();
        let b = pool.get(size).unwrap();
        assert_eq!(a.size(), size);
        assert_ne!(a.base, b.base);
        assert_eq!(guard_hit(a.limit - 1), Some(size));
        assert_eq!(guard_hit(a.limit - guard_for(size)), Some(size)); // the guard's far end
        assert_eq!(guard_hit(a.limit), None);
        assert_eq!(guard_for(size), 16 << 10); // a quarter of 64 KiB
        assert_eq!(guard_for(256 << 10), 64 << 10);
        assert_eq!(guard_for(16 << 10), 4 * page_size());
        assert_eq!(guard_for(STACK_MAX), 256 << 10);
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
        let size = GlobalPool::normalise(16 << 10).unwrap();
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

    /// Sizes near `usize::MAX` are refused, never wrapped (issue 11, defect 5).
    #[test]
    fn sizes_are_checked() {
        for bad in [usize::MAX, usize::MAX - 16383, usize::MAX - 4095, usize::MAX / 2 + 1, 1 << 62, STACK_MAX + 1] {
            assert_eq!(GlobalPool::normalise(bad), None, "{bad}");
        }
        assert_eq!(GlobalPool::normalise(0), Some(STACK_MIN));
        assert_eq!(GlobalPool::normalise(STACK_MAX), Some(STACK_MAX));
        assert_eq!(GlobalPool::normalise(STACK_MIN + 1), Some(STACK_MIN + page_size()));
    }

    /// `release_all` unmaps the chunks, stacks in use included, and forgets them in the
    /// registry (a fault there is no longer reported as a goroutine's overflow). (Tests run in
    /// parallel and may map the freed range at once: a size no other test uses.)
    #[test]
    fn release_all_unmaps_and_unregisters() {
        let pool = GlobalPool::default();
        let size = GlobalPool::normalise(44 << 10).unwrap();
        let a = pool.get(size).unwrap();
        let guard = a.limit - 1;
        assert_eq!(guard_hit(guard), Some(size));
        pool.release_all();
        assert_ne!(guard_hit(guard), Some(size));
        // The pool works again afterwards.
        let b = pool.get(size).unwrap();
        // SAFETY: [limit, base) of a stack we own.
        unsafe { std::ptr::write_bytes(b.limit as *mut u8, 1, b.size()) };
        pool.release_all();
    }
}
