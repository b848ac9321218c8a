//! Type-stable handle memory, so a NULL, released or double-released handle is detected
//! (`GR_EINVAL`) instead of being undefined behaviour.
//!
//! A handle points to a `Slot<T>` that is never returned to the allocator: released slots go
//! to a FIFO free list and are reused only once many are free, which makes a stale pointer
//! hitting a *new* object unlikely (though, as with file descriptors, possible: a handle used
//! after release long after is still the caller's bug). `magic` says whether the slot is live.
//!
//! Using one handle from two threads while one of them releases it is a race the caller must
//! not create (the release is the last use), as with `free`.
//!
//! Each slot also records the generation of the runtime its value belongs to
//! (`gr_core::sched::live_gen`), which `handle.rs` compares with the live one.
//!
//! The free list's lock is a `ForkLock`: a `fork()` while another thread allocates or
//! releases a handle leaves it free in the child (`fork.rs` takes every pool's lock around
//! fork).

use gr_core::ForkLock;
use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::AcqRel, Ordering::Acquire, Ordering::Relaxed};

const LIVE: u32 = 0x6772_4c56; // "grLV"
const DEAD: u32 = 0x6772_4444; // "grDD"
/// Free slots kept before any is reused.
const REUSE_AFTER: usize = 1024;

pub struct Slot<T> {
    magic: AtomicU32,
    /// The runtime generation the value belongs to (set before `magic` goes LIVE).
    gen: AtomicU64,
    val: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: `val` is initialised while `magic == LIVE` and only shared as `&T` (T: Sync) until
// the single successful `free` (CAS LIVE -> DEAD) takes it out.
unsafe impl<T: Send + Sync> Sync for Slot<T> {}

pub struct Pool<T: 'static> {
    free: ForkLock<VecDeque<&'static Slot<T>>>,
}

impl<T: Send + Sync + 'static> Default for Pool<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Send + Sync + 'static> Pool<T> {
    pub const fn new() -> Self {
        Pool { free: ForkLock::new(VecDeque::new()) }
    }

    /// Stores `v`, of runtime generation `gen`, in a live slot and returns its address (the
    /// C handle).
    pub fn alloc(&self, v: T, gen: u64) -> *mut Slot<T> {
        crate::fork::ensure();
        let reuse = {
            let mut f = self.free.lock();
            if f.len() > REUSE_AFTER {
                f.pop_front()
            } else {
                None
            }
        };
        let slot: &'static Slot<T> = match reuse {
            Some(s) => s,
            None => Box::leak(Box::new(Slot { magic: AtomicU32::new(DEAD), gen: AtomicU64::new(0), val: UnsafeCell::new(MaybeUninit::uninit()) })),
        };
        // SAFETY: the slot is DEAD (fresh or freed), so nobody else reads or writes `val`.
        unsafe { (*slot.val.get()).write(v) };
        slot.gen.store(gen, Relaxed); // published by the Release store of `magic`
        slot.magic.store(LIVE, std::sync::atomic::Ordering::Release);
        slot as *const Slot<T> as *mut Slot<T>
    }

    /// The value behind a handle and its runtime generation, or `None` for NULL or a
    /// released handle.
    ///
    /// # Safety
    /// `p` must be NULL or an address returned by `alloc` of this pool (slots are never
    /// unmapped, so reading `magic` of a released one is sound).
    #[inline]
    pub unsafe fn get<'a>(p: *const Slot<T>) -> Option<(&'a T, u64)> {
        // SAFETY: NULL or a slot of this pool, which is never freed (the caller's contract).
        let s = unsafe { p.as_ref() }?;
        if s.magic.load(Acquire) != LIVE {
            return None;
        }
        // SAFETY: a LIVE slot holds an initialised value, shared as `&T` until its `free`.
        Some((unsafe { (*s.val.get()).assume_init_ref() }, s.gen.load(Relaxed)))
    }

    /// Releases a handle and drops its value where it lies (moving a large value out, as a
    /// channel, cost two copies of it per release); `false` if NULL or already released. The
    /// slot joins the free list once the value is dropped.
    ///
    /// # Safety
    /// As for [`Pool::get`]; no other thread may be using the handle (release is its last use).
    pub unsafe fn free(&self, p: *mut Slot<T>) -> bool {
        // SAFETY: as in `get`; slots are leaked, so the reference is `'static`.
        let Some(s) = (unsafe { (p as *const Slot<T>).as_ref() }) else {
            return false;
        };
        if s.magic.compare_exchange(LIVE, DEAD, AcqRel, Acquire).is_err() {
            return false;
        }
        // SAFETY: we won LIVE -> DEAD, so the value is initialised and ours alone (no other
        // user: the caller's contract); it is not on the free list yet, so no `alloc` writes
        // it meanwhile, and nobody reads it again until a new `alloc`. (A drop that panics
        // leaks the slot: it never joins the free list.)
        unsafe { (*s.val.get()).assume_init_drop() };
        self.free.lock().push_back(s);
        true
    }

    /// `pthread_atfork` prepare: holds the free list through `fork()` (`fork.rs`).
    pub fn fork_prepare(&self) {
        self.free.fork_prepare();
    }

    /// `pthread_atfork` parent.
    ///
    /// # Safety
    /// After [`Pool::fork_prepare`] on this thread.
    pub unsafe fn fork_parent(&self) {
        // SAFETY: the caller's contract.
        unsafe { self.free.fork_parent() }
    }

    /// `pthread_atfork` child.
    ///
    /// # Safety
    /// In the child, after [`Pool::fork_prepare`] in the parent.
    pub unsafe fn fork_child(&self) {
        // SAFETY: the caller's contract.
        unsafe { self.free.fork_child() }
    }
}
