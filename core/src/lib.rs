//! gr core: M:N stackful goroutines for foreign code.
//!
//! Data flows one way: the system interface (`sys`) <- the scheduler (`sched`) <- goroutines
//! (`goroutine`, `stack`) <- waits (`waiter`, `timer`, `cancel`, `join`, `sleep`) <- channels
//! (timer channels included), sync and descriptors (`netpoll`), built on `waiter`; `port` lets an event loop wait for channel operations and
//! goroutines through one descriptor (asynchronous operations) (every
//! queue of waiters is a `waitlist::WaitList`, which withdraws a timed-out or cancelled waiter
//! in O(1)) <- task groups (`group`). The C ABI lives in the `gr-ffi` crate.
//! `sched/README.md` is the map, with the lock order and a tour from `gr_chan_send` to the
//! timer heap and back; `netpoll/README.md` covers waiting on descriptors.
//!
//! Unsafe code is confined to `sys` (the system calls and the sanitizers' entry points), `stack` (the goroutine stacks and the
//! context switch between them), `goroutine` (the coroutine's run state), `sched::{runtime, current, spawn, proc,
//! worker, idle, tls, poll}` (the leaked runtime and its Ms, processor ownership, the
//! thread-local block), `chan::{mod, ring, waitq, select, timer, aop}` (elements copied through raw
//! pointers) and `netpoll::{table, ops}` (the type-stable descriptor table, caller buffers
//! passed to the kernel). Each
//! block says why it is sound (`// SAFETY:`, enforced by clippy's `undocumented_unsafe_blocks`);
//! every other module says `#![forbid(unsafe_code)]`.

#![warn(clippy::undocumented_unsafe_blocks)]
// The loom build (`make test-loom`) compiles the crate for its models, which exercise a subset:
// what only the real runtime uses is dead there, so its warnings would be noise.
#![cfg_attr(loom, allow(dead_code, unused_imports, unused_variables, unused_assignments, unused_mut))]

pub(crate) mod allg;
pub mod cancel;
pub mod chan;
pub mod dump;
pub mod error;
pub mod goroutine;
pub mod group;
pub mod join;
pub(crate) mod loom;
pub mod netpoll;
pub mod port;
pub mod sanitize;
pub mod sched;
pub mod sleep;
pub(crate) mod overflow;
pub(crate) mod stack;
pub mod sync;
pub(crate) mod sys;
pub mod timer;
pub mod waiter;
pub mod waitlist;
pub mod waitreason;

pub use cancel::{Cancel, Reason};
pub use sys::forklock::{ForkGuard, ForkLock};
pub use sys::thread::ExitKey;
pub use error::{Error, Result};
pub use goroutine::{Entry, GRef, G};
pub use port::{AsyncOp, AsyncStatus, Port};
pub use sched::{Config, SpawnOpts, Stats};
pub use stack::STACK_MAX;
pub use waiter::{Deadline, Limit, TimeoutNs, Token};

/// A broken invariant: report and abort (never unwind into foreign frames).
#[cold]
pub fn fatal(msg: &str) -> ! {
    eprintln!("gr: fatal: {msg}");
    std::process::abort()
}
