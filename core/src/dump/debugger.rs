//! What a debugger needs to read goroutines from a live process or a core file without
//! running code in it (`tools/gdb/gr.py`): where the records are (`allg.rs`:
//! `GR_ALLG_CHUNKS`, `GR_ALLG_LAYOUT`), the coarse clock (`GR_CLOCK_MS`), and the offsets of
//! the `G` fields it shows, which Rust does not fix at compile time: [`GR_G_LAYOUT`], filled
//! when the runtime starts. Version 2 of the table (version 1 had a state byte at index 2):
//!
//! | index | what |
//! |---|---|
//! | 0 | version (1), 0 until filled |
//! | 1-4 | offsets of `id` (u64), the wait cell's word (u64, `sched/state.rs`: parked while bits 0-28 are 0 and bit 29 `PARKED` is set; bit 30 `HELD`: held by a dump), `bound` (u8), `done` (u8) |
//! | 5-10 | offsets of `info.kind` (u8), `info.entry`, `info.wait` (the `waitreason.rs` word), `info.since` (ms, `GR_CLOCK_MS`'s clock), `info.parent`, `info.label` |
//! | 11 | offset of the suspended coroutine's saved stack pointer (valid while it is parked), or 0 if unknown |
#![deny(unsafe_code)] // but for `no_mangle`, which names the statics debuggers look up

use crate::goroutine::G;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::atomic::Ordering::Relaxed;

#[allow(clippy::declare_interior_mutable_const)]
const Z: AtomicUsize = AtomicUsize::new(0);
/// The `G` layout for debuggers (module table).
#[allow(unsafe_code)]
#[no_mangle]
#[used]
pub static GR_G_LAYOUT: [AtomicUsize; 16] = [Z; 16];

/// The coarse clock of `waitreason.rs` (here so that it has a name a debugger can look up:
/// in a core file, "now" is its last value).
#[allow(unsafe_code)]
#[no_mangle]
#[used]
pub(crate) static GR_CLOCK_MS: AtomicU64 = AtomicU64::new(0);

/// Fills [`GR_G_LAYOUT`] (once; at runtime start).
pub(crate) fn publish() {
    if GR_G_LAYOUT[0].load(Relaxed) != 0 {
        return;
    }
    let o = G::field_offsets();
    for (i, v) in o.iter().enumerate() {
        GR_G_LAYOUT[1 + i].store(*v, Relaxed);
    }
    let sp = super::unwind::saved_sp_in_run().map_or(0, |in_run| o[10] + in_run);
    GR_G_LAYOUT[11].store(sp, Relaxed);
    GR_G_LAYOUT[0].store(2, Relaxed);
}
