//! What a C API call does for the host's ThreadSanitizer (the mechanism, and the rest of
//! what the sanitizers are told: `sys/sanitizer.rs`). `gr-ffi`'s boundary calls
//! [`call_begin`] and [`call_end`] around every call while the first says so:
//!
//! 1. At entry, what the caller did so far is published at its wait cell (its goroutine's,
//!    or its thread's, `waiter.rs`): a channel peer that takes over one of the caller's
//!    waits (`waiter::Token::complete_handoff`) acquires it there, which is the edge from
//!    a parked receiver to the sender that fills it (and the other way round).
//! 2. TSan ignores gr's own memory accesses (allocations, frees and copies made for the
//!    caller) until the call returns, on the caller's context: a goroutine that parks
//!    inside the call keeps it on its own fiber.
//! 3. At exit, the caller acquires what the completers of its waits released at its cell
//!    (`Token::complete_hint`): whoever woke it happens before what it does next.
#![forbid(unsafe_code)]

use crate::sys::sanitizer;

/// A C API call begins (module docs). `false`: the program does not run under TSan (the
/// first call looks the sanitizers up), so the boundary need not call here again, nor
/// [`call_end`] for this call.
#[cold]
#[inline(never)]
pub fn call_begin() -> bool {
    sanitizer::call_begin(crate::waiter::own_cell_addr)
}

/// The C API call [`call_begin`] began (returning `true`) returns, on the same context.
#[cold]
#[inline(never)]
pub fn call_end() {
    sanitizer::call_end(crate::waiter::own_cell_addr);
}
