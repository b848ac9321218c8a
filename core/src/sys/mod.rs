//! The Linux system interface: every system call the core makes, one file per concern.
//!
//! The rest of the core calls the safe wrappers here and never `libc` directly (tests
//! aside); the `unsafe` blocks that reach the kernel are here, each with its reason. A wrapper
//! stays an `unsafe fn` only where its soundness depends on memory the caller owns
//! (`mem::free_pages`), and its `# Safety` section says what.
//!
//! - `futex.rs`: sleep on a 32-bit word, wake its sleepers (thread parking, thread waits).
//! - `mem.rs`: anonymous mappings, guard pages, `MADV_FREE`, the page size (stacks).
//! - `signal.rs`: the SIGSEGV/SIGBUS handler and its chaining, alternate signal stacks,
//!   async-signal-safe output.
//! - `thread.rs`: `pthread_atfork`.
//!
//! Fenced as corosensei and parking_lot fence theirs: another OS is a compile error here,
//! not a missing symbol at link time. A port adds its own files behind the same functions.

#[cfg(not(target_os = "linux"))]
compile_error!("gr runs on Linux only: core/src/sys/ is its system interface (futex, mmap/madvise, sigaction)");

pub(crate) mod futex;
pub(crate) mod mem;
pub(crate) mod modules;
pub(crate) mod signal;
pub(crate) mod thread;
