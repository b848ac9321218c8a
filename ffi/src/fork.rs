//! `fork()` safety of `gr-ffi`'s process-wide locks: the handle pools' free lists (one per
//! handle type). Another thread may hold one at `fork()`, and the child needs them after its
//! `gr_init` (every handle it makes). So the core's fork handlers (`gr_core::sched::on_fork`)
//! take them all before `fork()`, after the core's start/stop lock and before its own leaves
//! (the list of threads, the goroutine records' depot: none of these nests in another), and
//! free them on both sides. Registered on first use of a pool, before its lock is in
//! anyone's hands.
//!
//! Every handle type is listed once, in [`for_each_pool!`]: prepare takes the locks in that
//! order, parent and child free them in the reverse order. A new handle type goes there.

use crate::cancel::gr_cancel;
use crate::chan::gr_chan;
use crate::cond::gr_cond;
use crate::goroutine::gr_handle;
use crate::group::gr_group;
use crate::handle::Handle;
use crate::once::gr_once;
use crate::port::{gr_async, gr_port};
use crate::rwmutex::gr_rwmutex;
use crate::sem::gr_sem;
use crate::sync::{gr_mutex, gr_wg};
use crate::time::{gr_ticker, gr_timer};
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

/// `$m!` with the handle types in lock order (forward), or reversed (`rev`).
macro_rules! for_each_pool {
    ($m:ident) => {
        $m!(gr_chan, gr_handle, gr_cancel, gr_wg, gr_mutex, gr_rwmutex, gr_once, gr_cond, gr_sem, gr_timer, gr_ticker, gr_group, gr_port, gr_async)
    };
    (rev $m:ident) => {
        $m!(gr_async, gr_port, gr_group, gr_ticker, gr_timer, gr_sem, gr_cond, gr_once, gr_rwmutex, gr_mutex, gr_wg, gr_cancel, gr_handle, gr_chan)
    };
}

fn prepare() {
    macro_rules! take {
        ($($t:ident),*) => { $( $t::pool().fork_prepare(); )* };
    }
    for_each_pool!(take);
}

fn parent() {
    macro_rules! free {
        ($($t:ident),*) => { $(
            // SAFETY: `prepare` took each of them on this thread.
            unsafe { $t::pool().fork_parent() };
        )* };
    }
    for_each_pool!(rev free);
}

fn child() {
    macro_rules! free {
        ($($t:ident),*) => { $(
            // SAFETY: the child, after `prepare` in the parent.
            unsafe { $t::pool().fork_child() };
        )* };
    }
    for_each_pool!(rev free);
}

#[cfg(test)]
mod tests {
    /// Every handle type (`impl_handle!`) is in the fork hooks' list.
    #[test]
    fn every_pool_is_listed() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let me = include_str!("fork.rs");
        let list = &me[me.find("($m:ident) => {").unwrap()..me.find("(rev $m:ident)").unwrap()];
        for e in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
            for line in text.lines().filter(|l| l.starts_with("impl_handle!(")) {
                let ty = line["impl_handle!(".len()..].split_whitespace().next().unwrap();
                assert!(list.contains(&format!("{ty},")) || list.contains(&format!("{ty})")), "{ty} is missing from fork.rs");
            }
        }
    }
}
