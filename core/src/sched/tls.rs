//! The scheduler's thread-local block (the runtime's other thread-locals: `README.md`,
//! section 5).
//!
//! Goroutines migrate between OS threads at every park, and LLVM may keep a thread-local's
//! address in a register across a call that parks. So every read goes through an
//! `#[inline(never)]` accessor that computes the address afresh, and no caller keeps a value
//! from here across a point where the current goroutine may park.

use super::worker::M;
use crate::goroutine::G;
use std::cell::Cell;

pub(crate) struct Local {
    /// The M this thread is, or null on a foreign thread.
    pub m: Cell<*const M>,
    /// The processor this M owns: index + 1, or 0.
    pub p: Cell<usize>,
    /// The goroutine running on this thread (coroutine or bound), or null.
    pub g: Cell<*const G>,
    /// The M is looking for work and counted in `nmspinning`.
    pub spinning: Cell<bool>,
    /// The id of the goroutine running here, or 0 (read by the SIGSEGV handler).
    pub gid: Cell<u64>,
}

thread_local! {
    static LOCAL: Local = const {
        Local { m: Cell::new(std::ptr::null()), p: Cell::new(0), g: Cell::new(std::ptr::null()), spinning: Cell::new(false), gid: Cell::new(0) }
    };
}

/// This thread's block, in one lookup (in a shared library each lookup is a call to
/// `__tls_get_addr`). The reference is `!Send` and valid on this thread only: scheduler code,
/// which never migrates, may keep it for its whole loop; goroutine code must drop it before
/// anything that may park.
#[inline(never)]
pub(crate) fn local() -> &'static Local {
    // SAFETY: the block lives as long as this thread, and `Local` is `!Sync`, so the
    // reference cannot leave the thread; callers follow the rule above about parking.
    LOCAL.with(|l| unsafe { &*(l as *const Local) })
}

impl Local {
    pub(crate) fn set_g(&self, g: *const G, id: u64) {
        self.g.set(g);
        self.gid.set(id);
    }
}

#[inline(never)]
pub(crate) fn m() -> *const M {
    LOCAL.with(|l| l.m.get())
}
#[inline(never)]
pub(crate) fn p() -> usize {
    LOCAL.with(|l| l.p.get())
}
#[inline(never)]
pub(crate) fn set_p(p: usize) {
    LOCAL.with(|l| l.p.set(p))
}
#[inline(never)]
pub(crate) fn g() -> *const G {
    LOCAL.with(|l| l.g.get())
}
#[inline(never)]
pub(crate) fn gid() -> u64 {
    LOCAL.try_with(|l| l.gid.get()).unwrap_or(0)
}
