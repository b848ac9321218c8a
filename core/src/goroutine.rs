//! The goroutine: a coroutine (`stack/switch.rs`) on a pooled stack (or, when bound, a plain call on a
//! worker's own stack), plus its join state.
//!
//! Ownership: a runnable goroutine is owned (one `GRef` count) by the run queue that holds
//! it, a running one by the M running it. While parked that count is leaked with
//! `GRef::into_raw` and reclaimed by the single waker (see `sched/state.rs`). Handles and
//! wait tokens hold further counts. Records live in type-stable memory (`allg.rs`), which is
//! what lets a dump walk every goroutine without registering any at spawn. `RunState` is touched only by the M that currently owns
//! the goroutine, which is what makes the `Sync` impl below sound.
//!
//! Lock order: `join` is rank 40 (`sched/README.md`, "Lock order"), a leaf: joiners are
//! completed after it is released.
//!
//! A suspended coroutine whose stack holds C frames must never be unwound: a `G` dropped while
//! its coroutine is suspended leaks its stack instead (dropping a `Coro` never touches it:
//! `stack/switch.rs`).

pub use crate::allg::GRef;
use crate::loom::rank::JOIN;
use crate::loom::{lock, AtomicBool, AtomicU8, AtomicUsize, Mutex};
use crate::stack::Stack;
use crate::sys::sanitizer;
use crate::waiter::{Token, WaitCell};
use crate::waitlist::{Key, WaitList};
use crate::stack::switch::Link;
use std::cell::UnsafeCell;
use std::ffi::c_void;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

/// Why a coroutine switched back to its scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suspend {
    /// Parked on its wait cell, whose wait is open (`sched/state.rs`).
    Park,
    /// Parked as `Park`, with the only lock under which its wait can be completed still held
    /// (a channel's): its M marks it parked, then releases the lock (`sched/state.rs`,
    /// [`crate::sched::state::mark_parked`]).
    ParkUnlock(crate::chan::HandedLock),
    /// Still runnable: requeue at the back.
    Yield,
}

pub type Coro = crate::stack::switch::Coro<Suspend>;

/// The tag in `G::yielder`'s low bit: AddressSanitizer is told of this goroutine's switches.
const ASAN_SWITCHES: usize = 1;
const _: () = assert!(std::mem::align_of::<Link<Suspend>>() > ASAN_SWITCHES, "the tag needs a free low bit");

/// What a goroutine runs.
pub enum Entry {
    /// A C function and its argument.
    C(unsafe extern "C" fn(*mut c_void), *mut c_void),
    /// A Rust closure.
    Rust(Box<dyn FnOnce() + Send>),
}

// SAFETY: the C argument is an opaque pointer the caller hands to another thread on purpose
// (gr_spawn's contract says fn may run on any worker).
unsafe impl Send for Entry {}

impl Entry {
    /// The address a dump symbolises as the entry function: the C function, or 0 for a
    /// Rust closure.
    pub fn address(&self) -> usize {
        match self {
            Entry::C(f, _) => *f as usize,
            Entry::Rust(_) => 0,
        }
    }

    /// Runs the entry. C functions cannot unwind; Rust closures are caught by the caller.
    pub fn call(self) {
        match self {
            // SAFETY: the spawner promised `f(arg)` is a valid call on any thread.
            Entry::C(f, arg) => unsafe { f(arg) },
            Entry::Rust(f) => f(),
        }
    }
}

/// What the goroutine's M needs to run it.
pub(crate) enum RunState {
    /// Not started: the entry, and the stack reserved at spawn (so that spawn, not the first
    /// run, fails with ENOMEM). Bound goroutines have no stack.
    New(Entry, Option<Stack>),
    /// Started on its coroutine.
    Started(Coro),
    /// Taken by the M (bound goroutines run it directly) or finished.
    Gone,
}

/// Under `G::join`. Joiners wait on `more.waiters` by `crate::waitlist`'s protocol: one that
/// times out or is cancelled withdraws by key in O(1); `finish` drains them all.
/// `more` is made by the first joiner that must wait, or a failure: most goroutines have
/// neither (a plain thread's join spins on `G::done` first), and every parked goroutine's
/// record is 40 bytes smaller without them inline (`g_stays_small`). The first joiner
/// costs no more than it did: the list's inline slot takes it, where an empty list inline
/// allocated its slab on the first push.
#[derive(Default)]
pub(crate) struct JoinState {
    pub done: bool,
    more: Option<Box<JoinMore>>,
}

#[derive(Default)]
struct JoinMore {
    failed: Option<std::ffi::CString>,
    waiters: WaitList<Token, 1>,
}

impl JoinState {
    /// The failure message, if the goroutine failed with one.
    pub(crate) fn failed(&self) -> Option<&std::ffi::CStr> {
        self.more.as_ref()?.failed.as_deref()
    }

    fn more(&mut self) -> &mut JoinMore {
        self.more.get_or_insert_with(Box::default)
    }
}

/// `repr(C)`: the wait cell (with the landing's bytes, `WaitCell`) first and the landing's
/// `done` flag in the same line of the record (`allg.rs`: the `G` lies at offset 8 of a
/// 64-byte aligned record), as a thread's are (`waiter::ThreadWait`); fields ordered so that
/// the record stays 192 bytes (`g_stays_small`).
#[repr(C)]
pub struct G {
    /// Reused by every wait of this goroutine; tokens carry a sequence number. Its word
    /// also holds the park handshake (`sched/state.rs`). Its futex word, which no goroutine
    /// sleeps on, holds the landing's bytes ([`crate::waiter::G_LANDING`]).
    pub(crate) cell: WaitCell,
    pub id: u64,
    /// The generation of its runtime (`sched/runtime.rs`, truncated): a goroutine is only
    /// ever queued in its own runtime; once that is gone it is never resumed.
    pub(crate) gen: u32,
    pub bound: bool,
    pub(crate) done: AtomicBool,
    /// Set by `gr_goroutine_fail` from inside (a plain flag: only the goroutine writes it).
    pub(crate) failed: AtomicBool,
    /// The landing's `done` flag: a plain channel operation's element goes through the
    /// landing once its channel met a plain thread (`chan/mod.rs`, `landing_of`), so that a
    /// waker on another CPU completes the wait, copies the element and sets this in the one
    /// line that the resumed goroutine reads first (`chan/README.md`, "Hand-off to a
    /// thread").
    pub(crate) land_done: crate::loom::AtomicBool,
    /// 0, or the address of the M this goroutine is pinned to.
    pub(crate) pinned: AtomicUsize,
    pub(crate) run: UnsafeCell<RunState>,
    /// Set by the coroutine itself when it starts; read only on its own stack. Its low bit
    /// (the yielder is word-aligned) says AddressSanitizer is told of its switches.
    pub(crate) yielder: std::cell::Cell<*const Link<Suspend>>,
    pub(crate) join: Mutex<JoinState, JOIN>,
    /// What a dump shows (`crate::dump`): written by the goroutine itself, read by dumps.
    pub(crate) info: Info,
}

/// A goroutine's record for dumps and debuggers (`crate::dump`, `tools/gdb/gr.py`). Fields a
/// dump reads while the goroutine may run are atomics (Relaxed stores: plain moves).
#[derive(Default)]
pub struct Info {
    /// The entry function's address (0: a Rust closure).
    pub entry: usize,
    /// The return address in the caller of `gr_spawn` (0: unknown).
    pub spawn_pc: usize,
    /// The spawning goroutine's id (0: a plain thread).
    pub parent: u64,
    /// `GR_KIND_*`, set by a binding through `gr_goroutine_label` (0: C).
    pub(crate) kind: AtomicU8,
    /// The binding's label (a Python thread state, a Java thread), or 0.
    pub(crate) label: AtomicUsize,
    /// The current or last wait (`crate::waitreason::WaitReason`'s word), set by `prepare`.
    pub(crate) wait: AtomicU64,
    /// When that wait began: `crate::waitreason::clock_ms` at `prepare`.
    pub(crate) since: AtomicU64,
    /// The `Cancel` the current wait registered on, or 0.
    pub(crate) cancel: AtomicUsize,
}

/// Where a goroutine came from, for its `Info`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Origin {
    pub spawn_pc: usize,
    pub parent: u64,
}

// SAFETY: all fields are Sync except `run`, which only the M currently owning the goroutine
// touches (ownership passes through the run queues and the park handshake with
// Acquire/Release edges), so no two threads ever access it at once.
unsafe impl Sync for G {}
// SAFETY: as above; `Entry` is Send.
unsafe impl Send for G {}

impl G {
    /// A goroutine running `entry`; bound (on an M's own stack) when it has no `stack`.
    /// `Err` with the stack (for its pool) when no record could be had (`allg.rs`: out of
    /// memory or of mappings); `entry` is dropped uncalled.
    #[inline]
    pub(crate) fn new(id: u64, gen: u32, entry: Entry, stack: Option<Stack>, origin: Origin) -> Result<GRef, Option<Stack>> {
        let Some(record) = GRef::vacant() else {
            return Err(stack);
        };
        let bound = stack.is_none();
        let info = Info { entry: entry.address(), spawn_pc: origin.spawn_pc, parent: origin.parent, ..Info::default() };
        Ok(record.fill(G {
            cell: WaitCell::new(),
            land_done: crate::loom::AtomicBool::new(false),
            id,
            gen,
            pinned: AtomicUsize::new(0),
            bound,
            run: UnsafeCell::new(RunState::New(entry, stack)),
            yielder: std::cell::Cell::new(std::ptr::null()),
            join: Mutex::new(JoinState::default()),
            done: AtomicBool::new(false),
            failed: AtomicBool::new(false),
            info,
        }))
    }

    /// The goroutine's dump record.
    pub fn info(&self) -> &Info {
        &self.info
    }

    pub fn is_done(&self) -> bool {
        self.done.load(Acquire)
    }

    /// # Safety
    /// The caller must own the goroutine's run state (be the M running it).
    #[allow(clippy::mut_from_ref)] // unique by the ownership protocol (module docs)
    pub(crate) unsafe fn run_state(&self) -> &mut RunState {
        &mut *self.run.get()
    }

    /// Suspends the running coroutine goroutine back to its scheduler.
    ///
    /// # Safety
    /// Must be called on this goroutine's own coroutine stack, while it runs.
    #[inline(always)] // the switch in its caller: one return fewer to mispredict after it
    pub(crate) unsafe fn suspend(&self, why: Suspend) {
        let y = self.yielder.get();
        debug_assert!(!y.is_null());
        if y as usize & ASAN_SWITCHES != 0 {
            return self.suspend_asan(why);
        }
        (*y).suspend(why);
    }

    /// [`G::suspend`], telling AddressSanitizer of the switch to the scheduler's stack and,
    /// once resumed (perhaps on another thread), of the switch back, with this goroutine's
    /// fake stack kept meanwhile (`sys/sanitizer.rs`).
    ///
    /// # Safety
    /// As for [`G::suspend`].
    #[cold]
    #[inline(never)]
    unsafe fn suspend_asan(&self, why: Suspend) {
        let y = (self.yielder.get() as usize & !ASAN_SWITCHES) as *const Link<Suspend>;
        let fake_stack = sanitizer::asan_leaving(true);
        (*y).suspend(why);
        sanitizer::asan_landed(fake_stack);
    }

    /// The sanitizer state kept beside this goroutine's record.
    pub(crate) fn san(&self) -> &sanitizer::PerG {
        GRef::san(self)
    }

    /// Called by the coroutine as it starts, on its own stack (`asan`: the program runs under
    /// AddressSanitizer, which is told of its switches from now on).
    pub(crate) fn started(&self, y: &Link<Suspend>, asan: bool) {
        if asan {
            sanitizer::asan_landed(std::ptr::null_mut());
        }
        let tag = if asan { ASAN_SWITCHES } else { 0 };
        self.yielder.set((y as *const Link<Suspend> as usize | tag) as *const _);
    }

    /// Called by the coroutine as its function returned, on its own stack.
    pub(crate) fn ending(&self) {
        if self.yielder.get() as usize & ASAN_SWITCHES != 0 {
            sanitizer::asan_leaving(false); // its fake stack goes
        }
    }

    /// Where a sanitizer is told of this goroutine's spawn and end (TSan's happens-before
    /// edges: spawn -> start, end -> join).
    pub(crate) fn sync_addr(&self) -> usize {
        &self.done as *const AtomicBool as usize
    }

    /// Tells the host's sanitizer of this goroutine's spawn (in the spawner's context, before
    /// it is queued; `coroutine`: not a bound one).
    #[cold]
    #[inline(never)]
    pub(crate) fn spawned_told(&self, coroutine: bool) {
        sanitizer::spawned(self.san(), coroutine, self.sync_addr(), &self.cell as *const WaitCell as usize);
    }

    /// Records completion and wakes every joiner.
    pub(crate) fn finish(&self) {
        let (first, rest): (Token, Vec<Token>) = {
            let mut j = lock(&self.join);
            j.done = true;
            self.done.store(true, Release);
            let Some(w) = j.more.as_mut().map(|m| &mut m.waiters) else {
                return; // the common case: nobody joins, or only after the end
            };
            let Some(first) = w.pop_front() else {
                return;
            };
            // One joiner (a spawn + wait) needs no vector: ~150 instructions of malloc and
            // free a goroutine saved (callgrind, `gr_bench spawn_wait_thread`).
            let rest = if w.is_empty() { Vec::new() } else { w.drain().collect() };
            (first, rest)
        };
        first.complete(crate::waiter::DONE);
        for t in rest {
            t.complete(crate::waiter::DONE);
        }
    }

    /// Queues a joiner's open wait `tok`; `None` if the goroutine has finished already.
    pub(crate) fn join_register(&self, tok: &Token) -> Option<Key> {
        let mut j = lock(&self.join);
        (!j.done).then(|| j.more().waiters.push_back(tok.clone()))
    }

    /// Withdraws a joiner that timed out or was cancelled (a no-op if `finish` took it).
    pub(crate) fn join_withdraw(&self, key: Key) {
        if let Some(m) = lock(&self.join).more.as_mut() {
            m.waiters.remove(key);
        }
    }

    pub(crate) fn fail(&self, msg: Option<std::ffi::CString>) {
        self.failed.store(true, Relaxed);
        let mut j = lock(&self.join);
        let m = j.more();
        if m.failed.is_none() {
            m.failed = Some(msg.unwrap_or_else(|| c"goroutine failed".to_owned()));
        }
    }

    pub fn has_failed(&self) -> bool {
        self.failed.load(Relaxed)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// A parked goroutine costs one stack page plus its record (this struct and a count,
    /// `allg.rs`); keep it small (Go's parked goroutine is ~2.7 KiB all told, and we aim at
    /// most 1.6x that: at 256 bytes a record, `gr_bench parked` measured 1.60-1.61x in full
    /// runs, the channel's wait entries included). `Info` (the dump record) is 64 bytes of it.
    #[test]
    fn g_stays_small() {
        let size = std::mem::size_of::<G>();
        eprintln!("size_of::<G>() = {size}, RunState = {}, JoinState = {}, WaitCell = {}, Coro = {}, Info = {}",
            std::mem::size_of::<RunState>(), std::mem::size_of::<JoinState>(), std::mem::size_of::<WaitCell>(), std::mem::size_of::<Coro>(), std::mem::size_of::<Info>());
        assert!(size <= 184, "G grew to {size} bytes (its record, `allg.rs`, would pass 192)");
    }
}

impl G {
    /// Byte offsets of the fields debuggers read (`dump/debugger.rs`): id, the wait cell's
    /// word (its park flags: `sched/state.rs`), bound,
    /// done, info.kind, info.entry, info.wait, info.since, info.parent, info.label, run.
    pub(crate) fn field_offsets() -> [usize; 11] {
        let g = std::mem::MaybeUninit::<G>::uninit();
        let base = g.as_ptr();
        // SAFETY: `addr_of!` on fields of an uninitialised value computes addresses only
        // (no reads, no references), as `offset_of!` does.
        unsafe {
            let off = |p: *const u8| p as usize - base as usize;
            [
                off(std::ptr::addr_of!((*base).id).cast()),
                off(std::ptr::addr_of!((*base).cell.state).cast()),
                off(std::ptr::addr_of!((*base).bound).cast()),
                off(std::ptr::addr_of!((*base).done).cast()),
                off(std::ptr::addr_of!((*base).info.kind).cast()),
                off(std::ptr::addr_of!((*base).info.entry).cast()),
                off(std::ptr::addr_of!((*base).info.wait).cast()),
                off(std::ptr::addr_of!((*base).info.since).cast()),
                off(std::ptr::addr_of!((*base).info.parent).cast()),
                off(std::ptr::addr_of!((*base).info.label).cast()),
                off(std::ptr::addr_of!((*base).run).cast()),
            ]
        }
    }
}
