//! The goroutine: a corosensei coroutine on a pooled stack (or, when bound, a plain call on a
//! worker's own stack), plus its join state.
//!
//! Ownership: a runnable goroutine is owned (one `Arc` strong count) by the run queue that
//! holds it, a running one by the M running it. While parked that count is leaked with
//! `Arc::into_raw` and reclaimed by the single waker (see `sched/state.rs`). Handles and
//! wait tokens hold further counts. `RunState` is touched only by the M that currently owns
//! the goroutine, which is what makes the `Sync` impl below sound.
//!
//! A suspended coroutine whose stack holds C frames must never be unwound: a `G` dropped while
//! its coroutine is suspended leaks the coroutine (and its stack) instead.

use crate::loom::{lock, AtomicBool, AtomicU8, AtomicUsize, Mutex};
use crate::stack::Stack;
use crate::waiter::{Token, WaitCell};
use corosensei::{Coroutine, Yielder};
use std::cell::UnsafeCell;
use std::ffi::c_void;
use std::mem::ManuallyDrop;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::Arc;

/// Why a coroutine switched back to its scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suspend {
    /// Parked on a wait cell; `sched` is `PARKING`.
    Park,
    /// Still runnable: requeue at the back.
    Yield,
}

pub type Coro = Coroutine<(), Suspend, (), Stack>;

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
    /// Runs the entry. C functions cannot unwind; Rust closures are caught by the caller.
    pub fn call(self) {
        match self {
            // SAFETY: the spawner promised `f(arg)` is a valid call on any thread.
            Entry::C(f, arg) => unsafe { f(arg) },
            Entry::Rust(f) => f(),
        }
    }
}

pub(crate) struct RunState {
    pub entry: Option<Entry>,
    pub coro: Option<Coro>,
    /// Stack reserved at spawn (so spawn can fail with ENOMEM), moved into `coro` at first run.
    pub stack: Option<Stack>,
}

#[derive(Default)]
pub(crate) struct JoinState {
    pub done: bool,
    pub failed: Option<std::ffi::CString>,
    pub waiters: Vec<Token>,
}

pub struct G {
    pub id: u64,
    /// Park handshake, see `sched/state.rs`.
    pub(crate) sched: AtomicU8,
    /// Reused by every wait of this goroutine; tokens carry a sequence number.
    pub(crate) cell: WaitCell,
    /// 0, or the id + 1 of the M this goroutine is pinned to.
    pub(crate) pinned: AtomicUsize,
    pub bound: bool,
    pub stack_size: usize,
    pub(crate) run: UnsafeCell<RunState>,
    /// Set by the coroutine itself when it starts; read only on its own stack.
    pub(crate) yielder: std::cell::Cell<*const Yielder<(), Suspend>>,
    pub(crate) join: Mutex<JoinState>,
    pub(crate) done: AtomicBool,
    /// Set by `gr_goroutine_fail` from inside (a plain flag: only the goroutine writes it).
    pub(crate) failed: AtomicBool,
}

// SAFETY: all fields are Sync except `run`, which only the M currently owning the goroutine
// touches (ownership passes through the run queues and the park handshake with
// Acquire/Release edges), so no two threads ever access it at once.
unsafe impl Sync for G {}
// SAFETY: as above; `Entry` is Send.
unsafe impl Send for G {}

pub type GRef = Arc<G>;

impl G {
    pub(crate) fn new(id: u64, entry: Entry, bound: bool, stack: Option<Stack>, stack_size: usize) -> GRef {
        Arc::new_cyclic(|weak| G {
            id,
            sched: AtomicU8::new(crate::sched::state::RUNNING),
            cell: WaitCell::for_goroutine(weak.as_ptr()),
            pinned: AtomicUsize::new(0),
            bound,
            stack_size,
            run: UnsafeCell::new(RunState { entry: Some(entry), coro: None, stack }),
            yielder: std::cell::Cell::new(std::ptr::null()),
            join: Mutex::new(JoinState::default()),
            done: AtomicBool::new(false),
            failed: AtomicBool::new(false),
        })
    }

    pub fn is_done(&self) -> bool {
        self.done.load(Acquire)
    }

    /// # Safety
    /// The caller must own the goroutine's run state (be the M running it).
    pub(crate) unsafe fn run_state(&self) -> &mut RunState {
        &mut *self.run.get()
    }

    /// Suspends the running coroutine goroutine back to its scheduler.
    ///
    /// # Safety
    /// Must be called on this goroutine's own coroutine stack, while it runs.
    pub(crate) unsafe fn suspend(&self, why: Suspend) {
        let y = self.yielder.get();
        debug_assert!(!y.is_null());
        (*y).suspend(why);
    }

    /// Records completion and wakes every joiner.
    pub(crate) fn finish(&self) {
        let waiters = {
            let mut j = lock(&self.join);
            j.done = true;
            self.done.store(true, Release);
            std::mem::take(&mut j.waiters)
        };
        for t in waiters {
            t.complete(crate::waiter::DONE);
        }
    }

    pub(crate) fn fail(&self, msg: Option<std::ffi::CString>) {
        self.failed.store(true, Relaxed);
        let mut j = lock(&self.join);
        if j.failed.is_none() {
            j.failed = Some(msg.unwrap_or_else(|| c"goroutine failed".to_owned()));
        }
    }

    pub fn has_failed(&self) -> bool {
        self.failed.load(Relaxed)
    }
}

impl Drop for G {
    fn drop(&mut self) {
        let run = self.run.get_mut();
        if let Some(c) = run.coro.take() {
            if c.started() && !c.done() {
                // Suspended with (possibly C) frames on its stack: unwinding would abort.
                let _ = ManuallyDrop::new(c);
            }
        }
    }
}
