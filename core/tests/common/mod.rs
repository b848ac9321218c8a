//! Helpers shared by the channel and sync integration tests.
#![allow(dead_code)]

use gr_core::chan::Chan;
use gr_core::{sched, Deadline, Entry, GRef, SpawnOpts};
use std::sync::Arc;

pub const FOREVER: Deadline = Deadline::Never;

/// Spawns a goroutine running `f`.
pub fn go(f: impl FnOnce() + Send + 'static) -> GRef {
    sched::spawn(Entry::Rust(Box::new(f)), SpawnOpts::default()).expect("spawn")
}

/// Spawns a thread-bound goroutine running `f`.
pub fn go_bound(f: impl FnOnce() + Send + 'static) -> GRef {
    sched::spawn(Entry::Rust(Box::new(f)), SpawnOpts { bound: true, stack_size: 0 }).expect("spawn")
}

pub fn join(g: &GRef) {
    sched::join(g, Deadline::Never, None).expect("join");
}

/// Runs `f` inside a goroutine and waits for it (Go's `main`).
pub fn in_goroutine(f: impl FnOnce() + Send + 'static) {
    join(&go(f));
}

pub fn chan(cap: usize) -> Arc<Chan> {
    Arc::new(Chan::new(8, cap).expect("chan"))
}

pub fn ms(n: u64) -> Deadline {
    Deadline::from_timeout_ns((n * 1_000_000) as i64)
}
