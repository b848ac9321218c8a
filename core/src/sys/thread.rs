//! Threads and fork: `pthread_atfork`, thread ids.

/// Registers `child` to run in the child process after a `fork()` (by any thread). It runs
/// where only async-signal-safe work is allowed: storing to an atomic is the intended use.
pub(crate) fn at_fork_child(child: extern "C" fn()) {
    // SAFETY: registering a handler has no memory preconditions; `child` is a plain function
    // for the process's lifetime.
    unsafe { libc::pthread_atfork(None, None, Some(child)) };
}

/// The calling thread's kernel id.
pub(crate) fn gettid() -> i32 {
    // SAFETY: gettid(2) has no preconditions.
    unsafe { libc::gettid() }
}
