//! The chunk registry: every mapped chunk of goroutine stacks, read by the SIGSEGV handler
//! (without locks, inside a signal handler) to tell a guard-page hit (a stack overflow) from a
//! fault of the host's.
//!
//! Chunks come and go: a runtime's chunks are unmapped when its memory is reclaimed
//! (`sched/README.md`, "Lifecycle"), so slots are reused. Each slot is a small seqlock:
//!
//! | `seq[i]` | meaning                                                         |
//! |----------|-----------------------------------------------------------------|
//! | even     | stable: `end != 0` a registered chunk, `end == 0` a free slot   |
//! | odd      | a writer (register or unregister) owns the slot                 |
//!
//! Writers claim a slot with a CAS from even to odd, write, and publish with the next even
//! value (Release). Readers snapshot `start`, `end`, `shape` between two reads of `seq` and
//! skip a slot whose two reads differ or are odd: a chunk being registered holds no running
//! stack yet, and one being unregistered holds none any more. Lock-free on both sides, so a
//! lock held by another thread at `fork()` cannot hang the child, and the handler never waits.
//! Writers only ever run in stack-pool code, never in a signal handler.

use std::sync::atomic::{fence, AtomicU32, AtomicUsize, Ordering::{AcqRel, Acquire, Relaxed, Release}};

const MAX: usize = 1 << 16;
#[allow(clippy::declare_interior_mutable_const)]
const ZERO: AtomicUsize = AtomicUsize::new(0);
#[allow(clippy::declare_interior_mutable_const)]
const ZERO32: AtomicU32 = AtomicU32::new(0);

struct Registry {
    /// Slots ever claimed (readers scan `0..hwm`).
    hwm: AtomicUsize,
    seq: [AtomicU32; MAX],
    start: [AtomicUsize; MAX],
    end: [AtomicUsize; MAX],
    /// `slot bytes << 24 | guard pages`: slots are at most 1 GiB plus a guard, guards at
    /// most 2^24 pages.
    shape: [AtomicUsize; MAX],
}

static REG: Registry = Registry { hwm: ZERO, seq: [ZERO32; MAX], start: [ZERO; MAX], end: [ZERO; MAX], shape: [ZERO; MAX] };

/// A registered chunk's slot, to unregister it. `None` if the registry was full (then
/// overflows in that chunk reach the host's handler as plain faults: never fail a spawn for a
/// report).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Entry(usize);

/// Records a chunk `[start, end)` of slots of `slot` bytes, each starting with a guard of
/// `guard` bytes.
pub(super) fn register(start: usize, end: usize, slot: usize, guard: usize) -> Option<Entry> {
    let page = crate::sys::mem::page_size();
    for i in 0..MAX {
        let s = REG.seq[i].load(Acquire);
        if s % 2 == 1 || REG.end[i].load(Relaxed) != 0 {
            continue;
        }
        if REG.seq[i].compare_exchange(s, s + 1, AcqRel, Relaxed).is_err() {
            continue;
        }
        fence(Release); // a reader that sees our writes sees the odd `seq` too
        // The slot is ours (odd). Another writer may have filled it between our two reads.
        if REG.end[i].load(Relaxed) != 0 {
            REG.seq[i].store(s + 2, Release);
            continue;
        }
        REG.start[i].store(start, Relaxed);
        REG.shape[i].store((slot << 24) | (guard / page), Relaxed);
        REG.end[i].store(end, Relaxed);
        REG.seq[i].store(s + 2, Release);
        REG.hwm.fetch_max(i + 1, AcqRel);
        return Some(Entry(i));
    }
    None
}

/// Forgets a chunk (before it is unmapped).
pub(super) fn unregister(e: Entry) {
    let i = e.0;
    loop {
        let s = REG.seq[i].load(Acquire);
        if s % 2 == 0 && REG.seq[i].compare_exchange(s, s + 1, AcqRel, Relaxed).is_ok() {
            fence(Release);
            REG.end[i].store(0, Relaxed);
            REG.start[i].store(0, Relaxed);
            REG.seq[i].store(s + 2, Release);
            return;
        }
        std::hint::spin_loop(); // a reader never holds a slot; another writer only briefly
    }
}

/// One registered chunk: `[start, end)`, slots of `slot` bytes, each starting with a guard
/// of `guard` bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Snap {
    pub start: usize,
    pub end: usize,
    pub slot: usize,
    pub guard: usize,
}

/// Every chunk registered now (not sorted).
pub(crate) fn snapshot() -> Vec<Snap> {
    let n = REG.hwm.load(Acquire).min(MAX);
    let page = crate::sys::mem::page_size();
    let mut v = Vec::new();
    for i in 0..n {
        let s1 = REG.seq[i].load(Acquire);
        if s1 % 2 == 1 {
            continue;
        }
        let (start, end, shape) = (REG.start[i].load(Relaxed), REG.end[i].load(Relaxed), REG.shape[i].load(Relaxed));
        fence(Acquire);
        if REG.seq[i].load(Relaxed) == s1 && end != 0 {
            v.push(Snap { start, end, slot: shape >> 24, guard: (shape & ((1 << 24) - 1)) * page });
        }
    }
    v
}

/// If `addr` lies in the guard of one of our stacks, that stack's usable size.
/// Async-signal-safe: atomics only, no waiting.
pub(crate) fn guard_hit(addr: usize) -> Option<usize> {
    let n = REG.hwm.load(Acquire).min(MAX);
    let page = crate::sys::mem::page_size();
    for i in 0..n {
        let s1 = REG.seq[i].load(Acquire);
        if s1 % 2 == 1 {
            continue;
        }
        let (start, end, shape) = (REG.start[i].load(Relaxed), REG.end[i].load(Relaxed), REG.shape[i].load(Relaxed));
        fence(Acquire);
        if REG.seq[i].load(Relaxed) != s1 || end == 0 || addr < start || addr >= end {
            continue;
        }
        let (slot, guard) = (shape >> 24, (shape & ((1 << 24) - 1)) * page);
        let off = (addr - start) % slot;
        // Within a slot the guard comes first, then the stack.
        return if off < guard { Some(slot - guard) } else { None };
    }
    None
}
