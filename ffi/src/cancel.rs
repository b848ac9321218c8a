//! Cancel-token exports (`gr_cancel_*`) over `gr_core::Cancel`.

use crate::boundary::*;
use crate::handle::{impl_handle, Handle};
use gr_core::{sched, Cancel};
use std::ffi::c_int;

/// A cancel token: fires every wait registered on it with `GR_ECANCELED`.
pub struct gr_cancel {
    _private: [u8; 0],
}

impl_handle!(gr_cancel => Cancel);

/// Creates a cancel token (starting the runtime with defaults if none was started, as every
/// call that makes a handle does).
#[no_mangle]
pub unsafe extern "C" fn gr_cancel_new(out: *mut *mut gr_cancel) -> c_int {
    guard(move || {
        nonnull(out)?;
        let gen = sched::current_gen()?;
        gr_core::waiter::register_thread();
        // SAFETY: `out` is non-NULL, hence writable (gr.h).
        unsafe { out.write(gr_cancel::alloc(Cancel::new(), gen)) };
        Ok(())
    })
}

/// Fires the token: every wait registered on it ends with `GR_ECANCELED`, and so does every
/// later wait on it until `gr_cancel_reset`. The withdrawn waits lose no value.
#[no_mangle]
pub unsafe extern "C" fn gr_cancel_fire(c: *mut gr_cancel) -> c_int {
    guard(move || {
        // SAFETY: `c` is NULL or a gr_cancel (gr.h).
        unsafe { gr_cancel::get(c) }?.fire();
        Ok(())
    })
}

/// Re-arms a fired token.
#[no_mangle]
pub unsafe extern "C" fn gr_cancel_reset(c: *mut gr_cancel) -> c_int {
    guard(move || {
        // SAFETY: `c` is NULL or a gr_cancel (gr.h).
        unsafe { gr_cancel::get(c) }?.reset();
        Ok(())
    })
}

/// Frees a token (once; NULL is ignored). No wait may still use it.
#[no_mangle]
pub unsafe extern "C" fn gr_cancel_free(c: *mut gr_cancel) {
    // SAFETY: `c` is NULL or a gr_cancel, and this is its last use (gr.h).
    unsafe { gr_cancel::release(c) }
}
