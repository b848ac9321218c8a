//! `fork()` safety of `gr-ffi`'s process-wide locks: the five handle pools' free lists.
//! Another thread may hold one at `fork()`, and the child needs them after its `gr_init`
//! (every handle it makes). So the core's fork handlers (`gr_core::sched::on_fork`) take them
//! all before `fork()`, after the core's start/stop lock and before its own leaves (the list
//! of threads, the goroutine records' depot: none of these nests in another), and free them
//! on both sides. Registered on first use of a pool, before its lock is in anyone's hands.

use crate::cancel::gr_cancel;
use crate::chan::gr_chan;
use crate::goroutine::gr_handle;
use crate::handle::Handle;
use crate::sync::{gr_mutex, gr_wg};
use std::sync::atomic::{AtomicBool, Ordering::AcqRel, Ordering::Relaxed};

static HOOKS: gr_core::sched::ForkHooks = gr_core::sched::ForkHooks { prepare, parent, child };

/// Registers the hooks once (cheap to call on every pool allocation).
#[inline]
pub(crate) fn ensure() {
    static DONE: AtomicBool = AtomicBool::new(false);
    if !DONE.load(Relaxed) && !DONE.swap(true, AcqRel) {
        gr_core::sched::on_fork(&HOOKS);
    }
}

fn prepare() {
    gr_chan::pool().fork_prepare();
    gr_handle::pool().fork_prepare();
    gr_cancel::pool().fork_prepare();
    gr_wg::pool().fork_prepare();
    gr_mutex::pool().fork_prepare();
}

fn parent() {
    // SAFETY: `prepare` took each of them on this thread.
    unsafe {
        gr_mutex::pool().fork_parent();
        gr_wg::pool().fork_parent();
        gr_cancel::pool().fork_parent();
        gr_handle::pool().fork_parent();
        gr_chan::pool().fork_parent();
    }
}

fn child() {
    // SAFETY: the child, after `prepare` in the parent.
    unsafe {
        gr_mutex::pool().fork_child();
        gr_wg::pool().fork_child();
        gr_cancel::pool().fork_child();
        gr_handle::pool().fork_child();
        gr_chan::pool().fork_child();
    }
}
