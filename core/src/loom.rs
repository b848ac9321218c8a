//! The one place atomics and locks come from. Under `cfg(loom)` they are loom's model-checked
//! versions, so the protocols in `sched/state.rs` and `waiter.rs` can be explored exhaustively.
#![forbid(unsafe_code)]

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize};
#[cfg(loom)]
pub(crate) use loom::sync::{Arc, Mutex, MutexGuard};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize};
#[cfg(not(loom))]
#[allow(unused_imports)]
pub(crate) use std::sync::Arc;
/// The runtime's short critical sections (channels, wait lists, scheduler lists) use
/// parking_lot's mutex: it spins adaptively and marks itself contended only when a thread
/// really parks, so an unlock makes no system call unless someone sleeps. std's futex mutex,
/// once two cores contend, leaves the lock marked contended and pays a `futex_wake` on
/// nearly every unlock (measured: 4x slower fan-in on 2 workers than on 1).
#[cfg(not(loom))]
pub(crate) use parking_lot::{Mutex, MutexGuard};

/// Locks a mutex. (No poisoning with parking_lot; under loom, a poisoned lock's data is
/// used as is: every critical section leaves its data consistent before anything that can
/// panic.)
#[cfg(not(loom))]
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock()
}

#[cfg(loom)]
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}
