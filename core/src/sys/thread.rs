//! Threads and fork: `pthread_atfork`, thread ids; a thread's scheduling statistics, which
//! the monitor reads to tell a goroutine that computes from a thread the OS keeps off the CPU.

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

/// Nanoseconds thread `tid` of this process has run on a CPU and has waited, runnable, for
/// one (`/proc/self/task/TID/schedstat`); `None` where the kernel does not keep them.
pub(crate) fn schedstat(tid: i32) -> Option<(u64, u64)> {
    let s = std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat")).ok()?;
    let mut it = s.split_ascii_whitespace().map(|v| v.parse::<u64>().ok());
    Some((it.next()??, it.next()??))
}

/// The scheduling state letter of thread `tid` of this process (`R` runnable or running, `S`
/// sleeping, `D` in uninterruptible wait...), from `/proc/self/task/TID/stat`.
pub(crate) fn state(tid: i32) -> Option<char> {
    let s = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
    // "pid (comm) S ...": the comm may hold spaces and parentheses; the state follows the last ')'.
    s.rsplit_once(')')?.1.trim_start().chars().next()
}
