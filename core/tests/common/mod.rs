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
    sched::spawn(Entry::Rust(Box::new(f)), SpawnOpts { bound: true, ..Default::default() }).expect("spawn")
}

pub fn join(g: &GRef) {
    gr_core::join::join(g, Deadline::Never, None).expect("join");
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

use gr_core::chan::{select, Case, Op, SelectResult};

/// A select case over `u64` channels: `Send(chan, value)`, `Recv(chan)`, or `Nil` (never fires).
pub enum C<'a> {
    Send(&'a Chan, u64),
    Recv(&'a Chan),
    Nil(Op),
}

/// Runs a select of `u64` cases: `Ok((index, closed, received value))`.
pub fn sel(cases: &[C<'_>], d: Deadline) -> Result<(usize, bool, u64), gr_core::Error> {
    let mut vals: Vec<u64> = cases.iter().map(|c| if let C::Send(_, v) = c { *v } else { 0 }).collect();
    let ptr = vals.as_mut_ptr();
    let cs: Vec<Case<'_>> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| {
            // SAFETY: `vals` outlives the select and is not otherwise touched meanwhile.
            let elem = unsafe { ptr.add(i) } as *mut u8;
            match c {
                C::Send(ch, _) => Case { chan: Some(*ch), op: Op::Send, elem },
                C::Recv(ch) => Case { chan: Some(*ch), op: Op::Recv, elem },
                C::Nil(op) => Case { chan: None, op: *op, elem },
            }
        })
        .collect();
    // SAFETY: every elem points at a live u64 of `vals`, and every channel has 8-byte elements.
    let r: SelectResult = unsafe { select(&cs, d, None) }?;
    Ok((r.index, r.closed, vals[r.index]))
}
