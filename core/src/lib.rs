//! gr core: M:N stackful goroutines for foreign code.
//!
//! Data flows one way: the scheduler (`sched`) <- goroutines (`goroutine`, `stack`) <- waits
//! (`waiter`, `timer`, `cancel`) <- channels and sync (built on `waiter`). The C ABI lives in
//! the `gr-ffi` crate. Unsafe code is confined to `stack`, `signal`, `goroutine`,
//! `sched::{proc, parker, worker, tls}` and `waiter`, each block with its reason.

#![warn(clippy::undocumented_unsafe_blocks)]

pub mod cancel;
pub mod chan;
pub mod error;
pub mod goroutine;
pub mod join;
pub(crate) mod loom;
pub mod sched;
pub mod sleep;
pub(crate) mod overflow;
pub(crate) mod stack;
pub mod sync;
pub(crate) mod sys;
pub mod timer;
pub mod waiter;

pub use cancel::Cancel;
pub use error::{Error, Result};
pub use goroutine::{Entry, GRef, G};
pub use sched::{Config, SpawnOpts, Stats};
pub use waiter::{Deadline, Token};

/// A broken invariant: report and abort (never unwind into foreign frames).
#[cold]
pub fn fatal(msg: &str) -> ! {
    eprintln!("gr: fatal: {msg}");
    std::process::abort()
}
