//! Stall reports (`gr_stall_hook`), over `gr_core::sched::stall`.

use crate::boundary::*;
use gr_core::sched::stall::{self, Stall};
use gr_core::Error;
use std::ffi::{c_int, c_void};
use std::time::Duration;

/// What `gr_stall_hook`'s function receives: a goroutine has held its worker thread for
/// `held_ns` while `pinned_ready` goroutines pinned to that thread (`gr_pin`) are ready to
/// run and cannot run anywhere else. Fields are appended over time; `size` is the size of
/// the struct as filled (read only the fields that fit).
#[repr(C)]
pub struct gr_stall {
    /// `sizeof` of the struct as filled.
    pub size: u32,
    /// The goroutine's kind (`GR_KIND_*`), as its binding labelled it (`gr_goroutine_label`).
    pub kind: u32,
    /// The goroutine holding the thread (its `gr_self` id).
    pub goroutine: u64,
    /// Its binding's label (a Python thread state, ...), or NULL.
    pub label: *mut c_void,
    /// The worker thread (`gr-worker-N`: N) and its kernel thread id.
    pub worker: u32,
    pub tid: c_int,
    /// How long the pinned goroutines have waited behind it so far.
    pub held_ns: i64,
    /// Goroutines pinned to that thread, ready to run.
    pub pinned_ready: u64,
    /// 1 if the thread sleeps in the kernel (a blocking call), 0 if it computes.
    pub in_kernel: c_int,
}

/// The function `gr_stall_hook` installs.
pub type gr_stall_fn = Option<unsafe extern "C" fn(info: *const gr_stall, ctx: *mut c_void)>;

struct Ctx(usize);

/// Reports stalls to `fn(info, ctx)`: a goroutine that holds its worker thread (a blocking
/// call that does not go through gr, or a long computation) for more than `threshold_ns`
/// while goroutines pinned to that thread (`gr_pin`, as every Python goroutine is) are ready
/// to run. Each such run of a goroutine is reported once. `fn` runs on the runtime's monitor
/// thread: it must return quickly and must not call gr functions that wait (a binding hands
/// the report to its own thread). `fn` NULL removes the hook (the default: no reports, and
/// no cost beyond one atomic load per monitor tick). `GR_EINVAL` for `threshold_ns <= 0`
/// with a non-NULL `fn`. May be called at any time, before or after `gr_init`.
#[no_mangle]
pub extern "C" fn gr_stall_hook(f: gr_stall_fn, ctx: *mut c_void, threshold_ns: i64) -> c_int {
    guard(|| {
        let Some(f) = f else {
            stall::set_hook(None);
            return Ok(());
        };
        if threshold_ns <= 0 {
            return Err(Error::Invalid);
        }
        let ctx = Ctx(ctx as usize);
        let hook: stall::Hook = Box::new(move |s: &Stall| {
            let info = gr_stall {
                size: std::mem::size_of::<gr_stall>() as u32,
                kind: s.kind as u32,
                goroutine: s.goroutine,
                label: s.label as *mut c_void,
                worker: s.worker as u32,
                tid: s.tid,
                held_ns: s.held.as_nanos().min(i64::MAX as u128) as i64,
                pinned_ready: s.pinned_ready as u64,
                in_kernel: s.in_kernel as c_int,
            };
            // SAFETY: the caller of gr_stall_hook vouches that `f` may be called with a
            // gr_stall and its `ctx` from any thread until the hook is replaced.
            unsafe { f(&info, ctx.0 as *mut c_void) };
        });
        stall::set_hook(Some((hook, Duration::from_nanos(threshold_ns as u64))));
        Ok(())
    })
}
