//! The scheduler's thread-local block (the runtime's other thread-locals: `README.md`,
//! section 5).
//!
//! The block lives in the TLS area (`sys/tls.rs`), reached through a TLS descriptor: where
//! glibc placed the library's TLS statically, a few instructions inline, not a call to
//! `__tls_get_addr`.
//!
//! Goroutines migrate between OS threads at every park. So every read computes the address
//! afresh (`sys::tls::area` is an `asm!` block the compiler may neither merge with another
//! nor move across a call), and no caller keeps a value or a reference from here across a
//! point where the current goroutine may park.

use super::worker::M;
use crate::goroutine::G;
use crate::waiter::ThreadWait;
use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize};

/// A `Cell` that a dump may read from another thread: written only by its own thread,
/// through Relaxed atomics (the same plain moves a `Cell` compiles to).
pub(crate) struct Shared<A>(A);

impl Shared<AtomicUsize> {
    #[inline]
    pub(crate) fn get(&self) -> usize {
        self.0.load(Relaxed)
    }
    #[inline]
    pub(crate) fn set(&self, v: usize) {
        self.0.store(v, Relaxed)
    }
}

impl Shared<AtomicU64> {
    #[inline]
    pub(crate) fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
    #[inline]
    pub(crate) fn set(&self, v: u64) {
        self.0.store(v, Relaxed)
    }
}

impl<T> Shared<AtomicPtr<T>> {
    #[inline]
    pub(crate) fn get(&self) -> *const T {
        self.0.load(Relaxed)
    }
    #[inline]
    pub(crate) fn set(&self, v: *const T) {
        self.0.store(v as *mut T, Relaxed)
    }
}

pub(crate) struct Local {
    /// The M this thread is, or null on a foreign thread.
    pub m: Cell<*const M>,
    /// The processor this M owns: index + 1, or 0 (read by dumps).
    pub p: Shared<AtomicUsize>,
    /// The goroutine running on this thread (coroutine or bound), or null.
    pub g: Shared<AtomicPtr<G>>,
    /// The M is looking for work and counted in `nmspinning`.
    pub spinning: Cell<bool>,
    /// The id of the goroutine running here, or 0 (read by the SIGSEGV handler and dumps).
    pub gid: Shared<AtomicU64>,
}

/// The thread's block in the TLS area. Every field's all-zero bytes are its initial value
/// (null, 0, `false`): the area starts zeroed on every thread.
#[repr(C)]
struct Block {
    local: Local,
    /// This thread's `waiter::ThreadWait` (plain threads and bound goroutines wait on its
    /// cell; dumps and the deadlock report read it), an `Arc::into_raw` made on first use.
    /// No TLS destructor (a runtime thread must never need one: `sys/thread.rs`): a
    /// thread-exit hook ([`crate::ExitKey`]) marks it dead and drops this thread's count;
    /// where the hook cannot be had, it stays listed as alive (a few bytes, and a plain
    /// thread the deadlock report counts as able to wake goroutines).
    thread_wait: Cell<*const ThreadWait>,
}

#[inline(always)]
fn block() -> &'static Block {
    use crate::sys::tls::{part, ALLG, SCHED};
    // SAFETY: all-zero bytes are a valid `Block` (its doc), and bytes `SCHED..ALLG` are
    // this module's alone.
    unsafe { part::<Block, SCHED, ALLG>() }
}

/// This thread's block, in one read of the thread pointer. The reference is `!Send` and
/// valid on this thread only: scheduler code, which never migrates, may keep it for its
/// whole loop; goroutine code must drop it before anything that may park.
#[inline(always)]
pub(crate) fn local() -> &'static Local {
    &block().local
}

impl Local {
    pub(crate) fn set_g(&self, g: *const G, id: u64) {
        self.g.set(g);
        self.gid.set(id);
    }
}

#[inline(always)]
pub(crate) fn m() -> *const M {
    local().m.get()
}
#[inline(always)]
pub(crate) fn p() -> usize {
    local().p.get()
}
#[inline(always)]
pub(crate) fn set_p(p: usize) {
    local().p.set(p)
}
#[inline(always)]
pub(crate) fn g() -> *const G {
    local().g.get()
}
/// Read by the SIGSEGV handler. Async-signal-safe where the area is in glibc's static TLS
/// block (a program linked with `libgr`, and most `dlopen`s: `sys/tls.rs`); on glibc's
/// dynamic path it is as safe as the `thread_local!` read it replaced.
#[inline(always)]
pub(crate) fn gid() -> u64 {
    local().gid.get()
}

static WAIT_EXIT: crate::ExitKey = crate::ExitKey::new(drop_thread_wait);

unsafe extern "C" fn drop_thread_wait(p: *mut std::ffi::c_void) {
    // SAFETY: `p` is the `Arc::into_raw` this thread stored (`ensure_thread_wait`), dropped
    // once, at its exit; tokens still holding it keep their own counts.
    let t = unsafe { Arc::from_raw(p as *const ThreadWait) };
    // A later use on this thread (another key's destructor calling gr) makes a new one
    // rather than use this one after it is freed.
    block().thread_wait.set(std::ptr::null());
    crate::waiter::thread_exit(&t);
}

/// This thread's `ThreadWait`, made by `make` on first use; its address.
#[inline(never)]
pub(crate) fn ensure_thread_wait(make: fn() -> Arc<ThreadWait>) -> *const ThreadWait {
    let c = &block().thread_wait;
    let mut p = c.get();
    if p.is_null() {
        p = Arc::into_raw(make());
        c.set(p);
        WAIT_EXIT.set(p as *mut std::ffi::c_void); // if it fails, it is leaked
    }
    p
}

/// This thread's `ThreadWait` (a counted reference), made by `make` on first use.
#[inline]
pub(crate) fn thread_wait(make: fn() -> Arc<ThreadWait>) -> Arc<ThreadWait> {
    let p = ensure_thread_wait(make);
    // SAFETY: `p` came from `Arc::into_raw`, and this thread's count keeps it alive until the
    // thread exits; we add one count for the result.
    unsafe {
        Arc::increment_strong_count(p);
        Arc::from_raw(p)
    }
}
