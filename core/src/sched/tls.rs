//! The one thread-local of the scheduler.
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
}

thread_local! {
    static LOCAL: Local = const {
        Local { m: Cell::new(std::ptr::null()), p: Cell::new(0), g: Cell::new(std::ptr::null()), spinning: Cell::new(false) }
    };
    /// Read by the SIGSEGV handler: the id of the goroutine running here, or 0.
    pub(crate) static GID: Cell<u64> = const { Cell::new(0) };
}

#[inline(never)]
pub(crate) fn m() -> *const M {
    LOCAL.with(|l| l.m.get())
}
#[inline(never)]
pub(crate) fn set_m(m: *const M) {
    LOCAL.with(|l| l.m.set(m))
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
pub(crate) fn set_g(g: *const G, id: u64) {
    LOCAL.with(|l| l.g.set(g));
    GID.with(|c| c.set(id));
}
#[inline(never)]
pub(crate) fn spinning() -> bool {
    LOCAL.with(|l| l.spinning.get())
}
#[inline(never)]
pub(crate) fn set_spinning(s: bool) {
    LOCAL.with(|l| l.spinning.set(s))
}
#[inline(never)]
pub(crate) fn gid() -> u64 {
    GID.try_with(|c| c.get()).unwrap_or(0)
}
