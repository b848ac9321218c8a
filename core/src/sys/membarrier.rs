//! membarrier(2), private expedited: a full memory barrier on every CPU that runs one of this
//! process's threads, issued by one thread (an IPI to each such CPU; a thread that is not on a
//! CPU passes a barrier when it is next scheduled).
//!
//! The scheduler's processor gate uses it (`sched/gate.rs`): an M leaves goroutine code with
//! a plain store and a plain load, where a Dekker handshake would need a locked instruction or
//! a fence on every switch, and the monitor, which retakes a processor a few times a second
//! at most, pays the barrier instead (5-16 us on this 2-vCPU VM, measured with a C probe).
//! Linux 4.14 and later; a process registers once (a forked child inherits it, checked with a
//! C probe on this kernel; registering again is harmless).

/// `MEMBARRIER_CMD_PRIVATE_EXPEDITED` (`linux/membarrier.h`).
const PRIVATE_EXPEDITED: libc::c_long = 1 << 3;
/// `MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED`.
const REGISTER_PRIVATE_EXPEDITED: libc::c_long = 1 << 4;

/// Registers the process for [`barrier`]; whether the kernel supports it (and no seccomp
/// filter refuses it).
#[cfg(not(loom))]
pub(crate) fn register() -> bool {
    // SAFETY: membarrier reads and writes no memory of ours; the arguments are plain values.
    unsafe { libc::syscall(libc::SYS_membarrier, REGISTER_PRIVATE_EXPEDITED, 0 as libc::c_long, 0 as libc::c_long) == 0 }
}

/// Issues the barrier; `false` if the kernel refused it (not registered: the caller registers
/// and tries again, or gives up what needed the barrier).
#[cfg(not(loom))]
pub(crate) fn barrier() -> bool {
    // SAFETY: as in `register`.
    unsafe { libc::syscall(libc::SYS_membarrier, PRIVATE_EXPEDITED, 0 as libc::c_long, 0 as libc::c_long) == 0 }
}

/// Under loom the gate always takes its compare-and-swap form (`sched/gate.rs`).
#[cfg(loom)]
pub(crate) fn register() -> bool {
    false
}

#[cfg(loom)]
pub(crate) fn barrier() -> bool {
    false
}
