//! Every goroutine record, in type-stable memory: [`GRef`] (the counted reference the run
//! queues, handles and wait tokens hold), the allocator of records, and the scan a dump
//! uses ([`for_each_live`]). Go keeps `allgs` for the same reason.
//!
//! A record (`GSlot`: a reference count, then the `G`) lives in a chunk of `CHUNK_SLOTS`
//! records that is never freed. So any slot address, live or dead, can be read at any time:
//! a dump (or a debugger reading a core file) walks the chunk list ([`CHUNKS`]) without
//! locks and without ever touching freed memory. Nothing is registered or deregistered at
//! spawn or exit: the list changes only when a chunk is added.
//!
//! Ownership: `refs` counts the `GRef`s, as `Arc`'s strong count does. `refs == 0` means the
//! slot is free (its `G` is dropped or was never written). A dump pins a live record by
//! raising `refs` from a non-zero value (a CAS loop, as `Weak::upgrade`); it never touches a
//! free slot's `G`. The `G` is written while `refs == 0` and published by the `Release`
//! store of `refs = 1`; the last `GRef` dropped (`fetch_sub` to 0, then an `Acquire` fence)
//! drops the `G` and frees the slot. `refs` itself is only ever accessed atomically.
//!
//! Allocation: each thread keeps a magazine of up to `MAG` free slots; full or empty
//! magazines trade `BATCH` slots at a time with a shared depot (one lock per `BATCH`
//! operations), which maps a new chunk when it runs dry. Goroutines are usually spawned on
//! one thread and retired on another, in bursts: glibc's tcache could not serve that flow
//! (this replaced the magazines `gr-ffi`'s global allocator kept for the same block).
//!
//! Lock order: the depot is a leaf outside the ranks (`sched/README.md`, section 6): it is
//! taken with nothing else of the runtime's held, or under any runtime lock (a `GRef`
//! dropped there), and nothing is taken under it. It is a `ForkLock`, held around `fork()`
//! (`sched/runtime.rs`): a child's first spawn needs it.
//!
//! No thread-local destructor (a runtime thread must never need one: `sys/thread.rs`): a
//! thread's magazine is handed back at its exit by a pthread key ([`crate::ExitKey`]); a
//! thread that cannot have one goes without a magazine (straight to the depot).

use crate::goroutine::G;
use crate::sys::sanitizer::PerG;
use std::cell::{Cell, UnsafeCell};
use std::mem::MaybeUninit;
use std::ptr::NonNull;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use crate::sys::forklock::{ForkGuard, ForkLock};
use std::sync::atomic::{fence, AtomicUsize};

/// One record: its reference count and the goroutine. Cache-line aligned (192 bytes a
/// record, `records_stay_small`): neighbouring records belong to goroutines that run on
/// different threads, whose counts and states must not share a line. What a sanitizer needs
/// of a goroutine (`PerG`) is kept apart, at the end of its chunk ([`san_of`]), where it
/// costs no memory unless a sanitizer writes it: a parked goroutine is a stack page and
/// this record (it was 256 bytes with `PerG` inside).
#[repr(C, align(64))]
pub(crate) struct GSlot {
    refs: AtomicUsize,
    g: UnsafeCell<MaybeUninit<G>>,
}

/// A chunk's mapping: `CHUNK_SLOTS` records, then a `PerG` for each (same order), in
/// `CHUNK_BYTES` aligned to `CHUNK_BYTES`, so a record finds its chunk by masking its
/// address. The tail beyond the `PerG`s is never touched.
const CHUNK_BYTES: usize =
    (CHUNK_SLOTS * (std::mem::size_of::<GSlot>() + std::mem::size_of::<PerG>())).next_power_of_two();

/// The sanitizer state of the record at `slot` (`crate::sys::sanitizer`).
fn san_of(slot: *const GSlot) -> &'static PerG {
    let a = slot as usize;
    let base = a & !(CHUNK_BYTES - 1);
    let k = (a - base) / std::mem::size_of::<GSlot>();
    debug_assert!(k < CHUNK_SLOTS);
    // SAFETY: every record lies in a chunk mapped by `grow` (`CHUNK_BYTES`-aligned, never
    // unmapped) whose `PerG`s follow its records, one per record; all-zero bytes are a valid
    // `PerG` (its atomics), and the mapping is zero-filled.
    unsafe { &*((base + CHUNK_SLOTS * std::mem::size_of::<GSlot>() + k * std::mem::size_of::<PerG>()) as *const PerG) }
}

/// Byte offset of the `G` in a `GSlot` (`repr(C)`: the count, then the `G`, aligned).
const G_OFFSET: usize = {
    let a = std::mem::align_of::<MaybeUninit<G>>();
    std::mem::size_of::<AtomicUsize>().div_ceil(a) * a
};

/// Records per chunk.
pub(crate) const CHUNK_SLOTS: usize = 256;
/// Chunks at most (16M goroutine records); a spawn beyond that fails with `NoMemory`, as one
/// does when no chunk can be mapped.
const MAX_CHUNKS: usize = 1 << 16;

/// The chunk list: append-only, lock-free to read. A chunk's address is stored, then `len`
/// is raised (Release) under the depot lock; readers load `len` (Acquire) and then the
/// addresses below it. Read by dumps and by the gdb script (`tools/gdb/gr.py`), hence
/// `repr(C)`: `len`, then the addresses.
#[repr(C)]
pub(crate) struct Chunks {
    len: AtomicUsize,
    at: [AtomicUsize; MAX_CHUNKS],
}

#[allow(clippy::declare_interior_mutable_const)]
const NO_CHUNK: AtomicUsize = AtomicUsize::new(0);
#[no_mangle]
#[used]
pub(crate) static GR_ALLG_CHUNKS: Chunks = Chunks { len: AtomicUsize::new(0), at: [NO_CHUNK; MAX_CHUNKS] };
use GR_ALLG_CHUNKS as CHUNKS;

/// Layout facts for debuggers reading `GR_ALLG_CHUNKS` (`tools/gdb/gr.py`): the slot size,
/// the offset of the `G` in a slot, and the slots per chunk.
#[no_mangle]
#[used]
pub static GR_ALLG_LAYOUT: [usize; 3] = [std::mem::size_of::<GSlot>(), G_OFFSET, CHUNK_SLOTS];

/// A counted reference to a goroutine (`Arc<G>` in all but the memory it lives in).
pub struct GRef(NonNull<GSlot>);

// SAFETY: `G` is `Send + Sync` (see `goroutine.rs`); the count is atomic.
unsafe impl Send for GRef {}
// SAFETY: as above.
unsafe impl Sync for GRef {}

impl GRef {
    /// A free record for a new goroutine ([`Vacant::fill`]); `None` if none could be had
    /// (no chunk could be mapped: out of memory or of mappings, or `MAX_CHUNKS` reached).
    pub(crate) fn vacant() -> Option<Vacant> {
        alloc_slot().map(Vacant)
    }

    fn slot(&self) -> &GSlot {
        // SAFETY: our reference keeps the slot live; slots are never unmapped.
        unsafe { self.0.as_ref() }
    }

    /// The goroutine's address (stable for the record's life).
    #[inline]
    pub fn as_ptr(this: &GRef) -> *const G {
        // SAFETY: the slot is live; `g` is initialised while refs > 0.
        unsafe { (*this.slot().g.get()).as_ptr() }
    }

    /// Gives up this reference without dropping it (for the parked goroutine's own count,
    /// see `sched/state.rs`); [`GRef::from_raw`] takes it back.
    #[inline]
    pub fn into_raw(this: GRef) -> *const G {
        let p = GRef::as_ptr(&this);
        std::mem::forget(this);
        p
    }

    /// # Safety
    /// `g` came from [`GRef::into_raw`] (or is a `G` whose count the caller raised with
    /// [`GRef::increment`]), and that count is given to the result.
    #[inline]
    pub unsafe fn from_raw(g: *const G) -> GRef {
        // SAFETY: the caller's contract: `g` is the `G` inside a live slot.
        GRef(NonNull::new_unchecked((g as *const u8).sub(G_OFFSET) as *mut GSlot))
    }

    /// Adds one count to the live goroutine `g`.
    ///
    /// # Safety
    /// `g` is the `G` of a live record (someone holds a count on it now).
    #[inline]
    pub unsafe fn increment(g: *const G) {
        // SAFETY: the caller's contract; the slot holds `g` at `G_OFFSET`.
        let slot = &*((g as *const u8).sub(G_OFFSET) as *const GSlot);
        if slot.refs.fetch_add(1, Relaxed) > isize::MAX as usize {
            std::process::abort(); // as Arc: a count this high is a leak loop
        }
    }

    /// The sanitizer state kept beside the goroutine `g` (`crate::sys::sanitizer`).
    pub(crate) fn san(g: &G) -> &PerG {
        // (Every `G` lives in a slot, only `GRef::new` makes one, at `G_OFFSET`.)
        san_of((g as *const G as *const u8).wrapping_sub(G_OFFSET) as *const GSlot)
    }

    pub fn ptr_eq(a: &GRef, b: &GRef) -> bool {
        a.0 == b.0
    }

    /// A new reference to a record found by a scan, if it is still live.
    fn pin(slot: &'static GSlot) -> Option<GRef> {
        let mut r = slot.refs.load(Relaxed);
        loop {
            if r == 0 {
                return None;
            }
            match slot.refs.compare_exchange_weak(r, r + 1, Acquire, Relaxed) {
                Ok(_) => return Some(GRef(NonNull::from(slot))),
                Err(x) => r = x,
            }
        }
    }
}

/// A free record taken for a goroutine about to be made (`GRef::vacant`); freed again if
/// dropped unfilled.
pub(crate) struct Vacant(NonNull<GSlot>);

impl Vacant {
    /// The record holding `g`, with one reference.
    pub(crate) fn fill(self, g: G) -> GRef {
        let slot = self.0;
        std::mem::forget(self);
        // SAFETY: a free slot (refs == 0), ours alone since `alloc_slot`: no other thread
        // reads its `G` (dumps skip free slots), so we may write it; the Release store
        // publishes it.
        unsafe {
            (*slot.as_ref().g.get()).write(g);
            slot.as_ref().refs.store(1, Release);
        }
        GRef(slot)
    }
}

impl Drop for Vacant {
    fn drop(&mut self) {
        free_slot(self.0);
    }
}

impl std::ops::Deref for GRef {
    type Target = G;
    #[inline]
    fn deref(&self) -> &G {
        // SAFETY: live slot, initialised `G` (refs > 0 while we exist).
        unsafe { (*self.slot().g.get()).assume_init_ref() }
    }
}

impl Clone for GRef {
    #[inline]
    fn clone(&self) -> GRef {
        // SAFETY: we hold a count on this live record.
        unsafe { GRef::increment(GRef::as_ptr(self)) };
        GRef(self.0)
    }
}

impl Drop for GRef {
    #[inline]
    fn drop(&mut self) {
        if self.slot().refs.fetch_sub(1, Release) != 1 {
            return;
        }
        self.drop_slow();
    }
}

impl GRef {
    /// The last count is gone: drop the `G` and free the slot (apart, as `Arc::drop_slow`, so
    /// that the common drop inlines to one atomic and a branch).
    #[cold]
    #[inline(never)]
    fn drop_slow(&mut self) {
        fence(Acquire);
        // SAFETY: we dropped the last count: nobody else uses the `G` (a dump can no longer
        // pin it), so we drop it and free the slot.
        unsafe {
            (*self.slot().g.get()).assume_init_drop();
            free_slot(self.0);
        }
    }
}

impl std::fmt::Debug for GRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GRef(goroutine {})", self.id)
    }
}

/// Calls `f` with a counted reference to every live goroutine record, in address order per
/// chunk. Records allocated or freed during the scan may or may not be seen.
pub(crate) fn for_each_live(mut f: impl FnMut(GRef)) {
    let n = CHUNKS.len.load(Acquire);
    for i in 0..n {
        let base = CHUNKS.at[i].load(Relaxed) as *const GSlot;
        for k in 0..CHUNK_SLOTS {
            // SAFETY: chunks are never freed and hold CHUNK_SLOTS slots each; `refs` is
            // always initialised (chunks are written with zero counts before publishing).
            let slot: &'static GSlot = unsafe { &*base.add(k) };
            if let Some(g) = GRef::pin(slot) {
                f(g);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The allocator: per-thread magazines over a depot of free slots.

const MAG: usize = 128;
const BATCH: usize = 64;

/// A thread's cache of free records: on the heap (1 KiB), named by this thread's bytes of the
/// TLS area (`sys/tls.rs`, [`MagRef`]), so that the library's own TLS segment stays small
/// enough for glibc to place a `dlopen`ed `libgr.so.0` in its static reserve (where the
/// area's reads take the descriptor's fast path).
struct Magazine {
    n: Cell<usize>,
    slots: [Cell<usize>; MAG],
}

/// Free slots shared by all threads (addresses).
static DEPOT: ForkLock<Vec<usize>> = ForkLock::new(Vec::new());

fn depot() -> ForkGuard<'static, Vec<usize>> {
    DEPOT.lock()
}

/// The depot's lock, for the fork handlers (`sched/runtime.rs`).
pub(crate) fn depot_lock() -> &'static ForkLock<Vec<usize>> {
    &DEPOT
}

/// This thread's magazine: null until its first use, then the magazine (a `Box::into_raw`,
/// handed back and freed at thread exit), or [`OFF`]. Null (all zeroes) when the thread
/// starts.
struct MagRef(Cell<*mut Magazine>);

/// No magazine on this thread: no exit hook could be had, or the thread is exiting.
const OFF: *mut Magazine = std::ptr::without_provenance_mut(1);

#[inline(always)]
fn mag_ref() -> &'static MagRef {
    use crate::sys::tls::{part, ALLG, RNG};
    // SAFETY: all-zero bytes are a valid `MagRef` (null), and bytes `ALLG..RNG`
    // are this module's alone. The allocator's calls never park while they hold it.
    unsafe { part::<MagRef, ALLG, RNG>() }
}

static MAG_EXIT: crate::ExitKey = crate::ExitKey::new(hand_back);

/// Thread exit: hand the slots to the depot and free the magazine.
unsafe extern "C" fn hand_back(p: *mut std::ffi::c_void) {
    let _quiet = crate::sys::sanitizer::Quiet::enter(); // runtime code, outside any C API call
    mag_ref().0.set(OFF); // a later call on this thread (another key's destructor) uses the depot
    // SAFETY: `p` is this thread's magazine (`first_use`), registered once and so handed
    // back once; nothing else refers to it now that this thread's `MagRef` is `OFF`.
    let m = unsafe { Box::from_raw(p as *mut Magazine) };
    let n = m.n.get();
    depot().extend(m.slots[..n].iter().map(Cell::get));
}

/// This thread's magazine, if it may use one (made, with its hand-back at thread exit
/// arranged, on first use).
#[inline(always)]
fn magazine() -> Option<&'static Magazine> {
    let r = mag_ref();
    match r.0.get() {
        m if m.is_null() => first_use(r),
        OFF => None,
        // SAFETY: any other value is this thread's live magazine (freed only by
        // `hand_back`, which stores `OFF` first).
        m => Some(unsafe { &*m }),
    }
}

#[cold]
#[inline(never)]
fn first_use(r: &MagRef) -> Option<&'static Magazine> {
    let m = Box::into_raw(Box::new(Magazine { n: Cell::new(0), slots: [const { Cell::new(0) }; MAG] }));
    if MAG_EXIT.set(m as *mut std::ffi::c_void) {
        r.0.set(m);
        // SAFETY: just made; freed only by this thread's `hand_back`, after the thread's
        // last use of the reference.
        Some(unsafe { &*m })
    } else {
        // SAFETY: made above and never shared.
        drop(unsafe { Box::from_raw(m) });
        r.0.set(OFF);
        None
    }
}

/// Maps a new chunk into the depot (under its lock); `false` if none could be mapped (the
/// kernel refused, or `MAX_CHUNKS` are mapped): the spawn then fails with `NoMemory`.
fn grow(d: &mut Vec<usize>) -> bool {
    let i = CHUNKS.len.load(Relaxed);
    if i >= MAX_CHUNKS {
        return false;
    }
    // Zero-filled: every `refs` starts at 0 (free), every `PerG` empty.
    let Some(base) = crate::sys::mem::anon_aligned_forever(CHUNK_BYTES, CHUNK_BYTES) else {
        return false;
    };
    let base = base as *mut GSlot;
    CHUNKS.at[i].store(base as usize, Relaxed);
    CHUNKS.len.store(i + 1, Release);
    // Hand out low addresses first (a dump then lists goroutines roughly by age).
    d.extend((0..CHUNK_SLOTS).rev().map(|k| base as usize + k * std::mem::size_of::<GSlot>()));
    true
}

/// A free record; `None` if none is free and no chunk could be mapped.
#[inline(never)]
fn alloc_slot() -> Option<NonNull<GSlot>> {
    let p = match magazine() {
        Some(m) => {
            let mut n = m.n.get();
            if n == 0 {
                let mut d = depot();
                if d.is_empty() && !grow(&mut d) {
                    return None;
                }
                let start = d.len() - d.len().min(BATCH);
                for s in d.drain(start..) {
                    m.slots[n].set(s);
                    n += 1;
                }
            }
            m.n.set(n - 1);
            m.slots[n - 1].get()
        }
        None => {
            // No magazine on this thread (or it is exiting): straight from the depot.
            let mut d = depot();
            if d.is_empty() && !grow(&mut d) {
                return None;
            }
            d.pop().expect("grown")
        }
    };
    Some(NonNull::new(p as *mut GSlot).expect("slot addresses are non-zero"))
}

#[inline(never)]
fn free_slot(s: NonNull<GSlot>) {
    let s = s.as_ptr() as usize;
    let Some(m) = magazine() else {
        depot().push(s);
        return;
    };
    let mut n = m.n.get();
    if n == MAG {
        depot().extend(m.slots[MAG - BATCH..].iter().map(Cell::get));
        n = MAG - BATCH;
    }
    m.slots[n].set(s);
    m.n.set(n + 1);
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::goroutine::Entry;

    fn g(id: u64) -> GRef {
        G::new(id, 0, Entry::Rust(Box::new(|| {})), None, Default::default()).ok().expect("a record")
    }

    /// A record is 192 bytes (a parked goroutine costs a stack page and this: keep it within
    /// 1.6x of Go's, `bench/REPORT.md`), and a chunk's `PerG`s fit in its mapping after its
    /// records.
    #[test]
    fn records_stay_small() {
        assert_eq!(std::mem::size_of::<GSlot>(), 192);
        assert!(CHUNK_SLOTS * (std::mem::size_of::<GSlot>() + std::mem::size_of::<PerG>()) <= CHUNK_BYTES);
        assert_eq!(CHUNK_BYTES, 64 * 1024);
    }

    /// Each record's `PerG` is its own: distinct, inside its chunk's mapping, after its records.
    #[test]
    fn san_state_is_per_record() {
        let a = g(1_000_201);
        let b = g(1_000_202);
        let (sa, sb) = (a.san() as *const PerG as usize, b.san() as *const PerG as usize);
        assert_ne!(sa, sb);
        for (r, s) in [(&a, sa), (&b, sb)] {
            let base = GRef::as_ptr(r) as usize & !(CHUNK_BYTES - 1);
            assert!(s >= base + CHUNK_SLOTS * std::mem::size_of::<GSlot>() && s + std::mem::size_of::<PerG>() <= base + CHUNK_BYTES);
        }
    }

    /// A scan sees exactly the live records; a dropped one is free and reused.
    #[test]
    fn scan_sees_live_records_only() {
        let a = g(1_000_001);
        let b = g(1_000_002);
        let ids = |want: &[u64]| {
            let mut seen = Vec::new();
            for_each_live(|r| {
                if r.id > 1_000_000 && r.id < 1_000_100 {
                    seen.push(r.id)
                }
            });
            seen.sort();
            assert_eq!(seen, want);
        };
        ids(&[1_000_001, 1_000_002]);
        let mut pa = GRef::as_ptr(&a);
        drop(a);
        ids(&[1_000_002]);
        // The freed slot is reused first, by this thread. A scan elsewhere in the process
        // (another test's runtime: its deadlock check, a dump or a stats call pins each
        // live record for a moment) may hold the last reference as ours drops, and free the
        // record into its own thread's magazine (the CI's debug run, once): then again with
        // a fresh record, up to three times in all.
        let mut c = g(1_000_003);
        for k in 0..2 {
            if GRef::as_ptr(&c) == pa {
                break;
            }
            pa = GRef::as_ptr(&c);
            drop(c);
            c = g(1_000_004 + k);
        }
        assert_eq!(GRef::as_ptr(&c), pa, "the freed slot is reused first");
        let raw = GRef::into_raw(b.clone());
        // SAFETY: `raw` came from into_raw.
        let b2 = unsafe { GRef::from_raw(raw) };
        assert!(GRef::ptr_eq(&b, &b2));
        drop((b, b2, c));
        ids(&[]);
    }

    /// A thread's magazine goes back to the depot when the thread exits (and its heap block
    /// is freed; `hand_back`): threads that each fill a magazine and exit, one after
    /// another, reuse the same records instead of stranding up to `MAG` each (which would
    /// map a new chunk every two threads here). A record dropped on a thread after its
    /// hand-back goes straight to the depot.
    #[test]
    fn exiting_threads_hand_their_magazines_back() {
        const THREADS: usize = 400;
        let before = CHUNKS.len.load(Acquire);
        for t in 0..THREADS {
            std::thread::spawn(move || {
                // Fill the magazine: take more than a batch, then drop them all here.
                let rs: Vec<GRef> = (0..MAG as u64).map(|i| g(2_000_000 + (t * MAG) as u64 + i)).collect();
                drop(rs);
                let m = mag_ref().0.get();
                assert!(!m.is_null() && m != OFF, "the magazine is in use");
            })
            .join()
            .unwrap();
        }
        let grown = CHUNKS.len.load(Acquire) - before;
        // Without the hand-back: THREADS * MAG / CHUNK_SLOTS = 200 chunks. Other tests of
        // this process may allocate records meanwhile, hence the margin.
        assert!(grown < THREADS * MAG / CHUNK_SLOTS / 2, "{grown} chunks mapped for {THREADS} threads");
    }
}
