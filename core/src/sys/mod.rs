//! The Linux system interface: every system call the core makes, one file per concern.
//!
//! The rest of the core calls the safe wrappers here and never `libc` directly (tests
//! aside); the `unsafe` blocks that reach the kernel are here, each with its reason. A wrapper
//! stays an `unsafe fn` only where its soundness depends on memory the caller owns
//! (`mem::free_pages`), and its `# Safety` section says what.
//!
//! - `clock.rs`: `CLOCK_MONOTONIC` nanoseconds, the clock of the ABI's times.
//! - `futex.rs`: sleep on a 32-bit word, wake its sleepers (thread parking, thread waits).
//! - `sanitizer.rs`: the host's AddressSanitizer or ThreadSanitizer, found at run time and
//!   told about goroutine switches and hand-offs.
//! - `mem.rs`: anonymous mappings, guard pages, `MADV_FREE`, the page size (stacks).
//! - `membarrier.rs`: a memory barrier on every CPU running this process (the monitor's side of
//!   the processor gate, `sched/gate.rs`).
//! - `signal.rs`: the SIGSEGV/SIGBUS handler and its chaining, alternate signal stacks,
//!   async-signal-safe output.
//! - `thread.rs`: the runtime's own threads (raw pthreads, joined with a deadline),
//!   `pthread_atfork`; a thread's kernel id and scheduling statistics (the monitor's hog
//!   check).
//! - `forklock.rs`: a mutex that `fork()` cannot leave held in the child.
//! - `epoll.rs`: the netpoller's epoll instance and eventfd.
//! - `tls.rs`: a small thread-local area reached through a TLS descriptor (the scheduler's
//!   block: no `__tls_get_addr` on the switch path).
//! - `fd.rs`: descriptor calls for `gr_fd_*`: read, write, recv/send, accept, connect,
//!   poll, fcntl, close, and the SIGPIPE guard of pipe writes.
//!
//! Calls that can fail return `Err(errno)`, read right after the call on the calling thread
//! ([`errno`]), before anything that could park.
//! Fenced as parking_lot fences its own (and `stack/switch.rs` its architecture): another OS is a compile error here,
//! not a missing symbol at link time. A port adds its own files behind the same functions.

#[cfg(not(target_os = "linux"))]
compile_error!("gr runs on Linux only: core/src/sys/ is its system interface (futex, mmap/madvise, sigaction, epoll)");

pub(crate) mod clock;
pub(crate) mod epoll;
pub(crate) mod fd;
#[cfg(not(loom))]
pub(crate) mod lock;
pub(crate) mod forklock;
pub(crate) mod futex;
pub(crate) mod mem;
pub(crate) mod membarrier;
pub(crate) mod modules;
pub(crate) mod sanitizer;
pub(crate) mod signal;
pub(crate) mod thread;
pub(crate) mod tls;

/// The calling thread's `errno`, read right after a failed call (nothing in between may park).
#[inline]
pub(crate) fn errno() -> i32 {
    // SAFETY: `__errno_location` returns this thread's errno slot, valid while it lives.
    unsafe { *libc::__errno_location() }
}
