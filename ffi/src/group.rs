//! Task-group exports (`gr_group_*`) over `gr_core::group::Group`: Go's `errgroup`.

use crate::boundary::*;
use crate::cancel::{cancel_opt, gr_cancel, new_cancel_handle};
use crate::goroutine::{caller_pc, gr_fn, gr_handle, gr_spawn_opts, new_handle, spawn_opts_of};
use crate::handle::{impl_handle, Handle};
use crate::status::gr_status::GR_EPANIC;
use gr_core::group::Group;
use gr_core::sched::current_gen;
use gr_core::{Deadline, Error, SpawnOpts};
use std::ffi::{c_char, c_int, c_void, CString};
use std::sync::OnceLock;

/// A task group (Go's `errgroup.Group` with its context, `asyncio.TaskGroup`'s shape):
/// goroutines spawned into it run under the group's context (`gr_group_context`), derived
/// from a parent; `gr_group_wait` waits for all of them; the first one to fail cancels the
/// context (so the others' `_ex` waits on it end with `GR_ECANCELED`) and is the failure
/// reported (`gr_group_error`); an optional limit caps how many run at once.
pub struct gr_group {
    _private: [u8; 0],
}

/// A group task: gets its argument and the group's context (borrowed, valid while the
/// group is not freed); returns 0 for success, any other value for failure (that value is
/// the failure's code).
pub type gr_task_fn = Option<unsafe extern "C" fn(arg: *mut c_void, ctx: *mut gr_cancel) -> c_int>;

/// What a `gr_group` handle points to: the group, the handle of its context, and its first
/// failure once read.
pub(crate) struct GroupSlot {
    group: Group,
    ctx: usize,
    first: OnceLock<(c_int, CString)>,
}

impl Drop for GroupSlot {
    fn drop(&mut self) {
        // SAFETY: the context handle this slot made; releasing it cancels the context (tasks
        // still running see their waits on it end).
        unsafe { crate::cancel::gr_cancel_free(self.ctx as *mut gr_cancel) };
    }
}

impl_handle!(gr_group => GroupSlot);

/// Creates a group whose context derives from `parent` (NULL: a new root) and that runs at
/// most `limit` tasks at once (0: no limit; Go's `SetLimit`).
#[no_mangle]
pub unsafe extern "C" fn gr_group_new(parent: *mut gr_cancel, limit: usize, out: *mut *mut gr_group) -> c_int {
    guard(|| {
        nonnull(out)?;
        // SAFETY: `parent` is NULL or a gr_cancel (gr.h).
        let p = unsafe { cancel_opt(parent) }?;
        let gen = current_gen()?;
        gr_core::waiter::register_thread();
        let group = Group::new(p, limit);
        let ctx = new_cancel_handle(group.context().clone(), gen) as usize;
        // SAFETY: `out` is non-NULL, hence writable (gr.h).
        unsafe { out.write(gr_group::alloc(GroupSlot { group, ctx, first: OnceLock::new() }, gen)) };
        Ok(())
    })
}

/// The group's context (Go's `ctx` from `errgroup.WithContext`): cancelled by the first
/// failure, by `gr_group_cancel`, by a successful `gr_group_wait`, or through its parent.
/// Borrowed: valid until `gr_group_free`. NULL for a bad handle.
#[no_mangle]
pub unsafe extern "C" fn gr_group_context(g: *mut gr_group) -> *mut gr_cancel {
    // SAFETY: `g` is NULL or a gr_group (gr.h).
    guard_value(std::ptr::null_mut(), || unsafe { gr_group::get(g) }.map_or(std::ptr::null_mut(), |s| s.ctx as *mut gr_cancel))
}

/// Go's `g.Go(f)`: runs `fn(arg, ctx)` as a goroutine of the group. With a limit, first waits
/// up to `timeout_ns` for a free slot (0: Go's `TryGo`, `GR_EAGAIN` if none). Once
/// `gr_shutdown` began: `GR_ESTATE` (as `gr_spawn`: a task accepted is never lost to it).
#[no_mangle]
pub unsafe extern "C" fn gr_group_go(g: *mut gr_group, f: gr_task_fn, arg: *mut c_void, timeout_ns: i64) -> c_int {
    let spawn_pc = caller_pc!(GR_GROUP_GO_SLOT);
    // SAFETY: the same arguments, and no cancel token.
    unsafe { group_go(g, f, arg, timeout_ns, std::ptr::null_mut(), spawn_pc) }
}

/// `gr_group_go` whose wait for a slot also ends with `GR_ECANCELED` when `cancel` (may be
/// NULL) fires.
#[no_mangle]
pub unsafe extern "C" fn gr_group_go_ex(g: *mut gr_group, f: gr_task_fn, arg: *mut c_void, timeout_ns: i64, cancel: *mut gr_cancel) -> c_int {
    let spawn_pc = caller_pc!(GR_GROUP_GO_EX_SLOT);
    // SAFETY: the caller's arguments (gr.h).
    unsafe { group_go(g, f, arg, timeout_ns, cancel, spawn_pc) }
}

/// `gr_group_go_ex`'s body; `spawn_pc`: the export's caller, for dumps.
/// # Safety
/// The arguments of `gr_group_go_ex` (gr.h).
#[inline(always)]
unsafe fn group_go(g: *mut gr_group, f: gr_task_fn, arg: *mut c_void, timeout_ns: i64, cancel: *mut gr_cancel, spawn_pc: usize) -> c_int {
    guard(|| {
        // SAFETY: handle arguments are NULL or handles of their type (gr.h).
        let (s, c) = unsafe { (gr_group::get(g)?, cancel_opt(cancel)?) };
        let f = f.ok_or(Error::Invalid)?;
        let (arg, ctx) = (arg as usize, s.ctx);
        // SAFETY: the caller's function and argument (gr.h: `fn(arg, ctx)` may run on any
        // worker); the context handle is valid while the group is.
        let body = Box::new(move || unsafe { f(arg as *mut c_void, ctx as *mut gr_cancel) });
        s.group.spawn(body, SpawnOpts { spawn_pc, ..SpawnOpts::default() }, Deadline::from_timeout_ns(timeout_ns), c).map(|_| ())
    })
}

/// For bindings: `gr_spawn_ex` of a plain `gr_fn` into the group (with the options it
/// takes: `GR_SPAWN_BOUND`, a stack size...), waiting for a slot as `gr_group_go_ex`. Its
/// failure is `gr_goroutine_fail` (a binding's exception). `out` (may be NULL) receives a
/// handle to join it.
#[no_mangle]
pub unsafe extern "C" fn gr_group_spawn(
    g: *mut gr_group,
    f: gr_fn,
    arg: *mut c_void,
    opts: *const gr_spawn_opts,
    timeout_ns: i64,
    cancel: *mut gr_cancel,
    out: *mut *mut gr_handle,
) -> c_int {
    let spawn_pc = caller_pc!(GR_GROUP_SPAWN_SLOT);
    guard(|| {
        // SAFETY: handle arguments are NULL or handles of their type (gr.h); `opts` is NULL
        // or readable.
        let (s, c, o) = unsafe { (gr_group::get(g)?, cancel_opt(cancel)?, spawn_opts_of(opts, spawn_pc)?) };
        let f = f.ok_or(Error::Invalid)?;
        let arg = arg as usize;
        let body = Box::new(move || {
            // SAFETY: the caller's function and argument (gr.h).
            unsafe { f(arg as *mut c_void) };
            0
        });
        let (h, gen) = s.group.spawn_gen(body, o, Deadline::from_timeout_ns(timeout_ns), c)?;
        // SAFETY: `out` is NULL or writable (gr.h).
        unsafe { write_out(out, new_handle(h, gen)) };
        Ok(())
    })
}

/// Go's `g.Wait()`: waits up to `timeout_ns` for every task spawned so far to return.
/// `GR_OK` if none failed, `GR_EPANIC` if one did (see `gr_group_error`); both cancel the
/// group's context (its work is over). `GR_ETIMEDOUT`/`GR_EAGAIN` if tasks still run.
#[no_mangle]
pub unsafe extern "C" fn gr_group_wait(g: *mut gr_group, timeout_ns: i64) -> c_int {
    // SAFETY: the same arguments, and no cancel token.
    unsafe { gr_group_wait_ex(g, timeout_ns, std::ptr::null_mut()) }
}

/// `gr_group_wait` that also ends with `GR_ECANCELED` when `cancel` (may be NULL) fires.
#[no_mangle]
pub unsafe extern "C" fn gr_group_wait_ex(g: *mut gr_group, timeout_ns: i64, cancel: *mut gr_cancel) -> c_int {
    guard(|| {
        // SAFETY: handle arguments are NULL or handles of their type (gr.h).
        let (s, c) = unsafe { (gr_group::get(g)?, cancel_opt(cancel)?) };
        s.group.wait(Deadline::from_timeout_ns(timeout_ns), c)
    })
}

/// Cancels the group's context (as a failure would, without recording one).
#[no_mangle]
pub unsafe extern "C" fn gr_group_cancel(g: *mut gr_group) -> c_int {
    guard(|| {
        // SAFETY: `g` is NULL or a gr_group (gr.h).
        unsafe { gr_group::get(g) }?.group.cancel();
        Ok(())
    })
}

/// The group's first failure (the first task to return nonzero or to fail otherwise): its
/// message, valid until `gr_group_free`, and in `*code` (if not NULL) the task's return
/// value, or `GR_EPANIC` for a goroutine that failed through `gr_goroutine_fail` or a
/// panic. NULL (and `*code` untouched) while no task has failed, or for a bad handle.
#[no_mangle]
pub unsafe extern "C" fn gr_group_error(g: *mut gr_group, code: *mut c_int) -> *const c_char {
    guard_value(std::ptr::null(), || {
        // SAFETY: `g` is NULL or a gr_group (gr.h).
        let Ok(s) = (unsafe { gr_group::get(g) }) else { return std::ptr::null() };
        let first = match s.first.get() {
            Some(f) => f,
            None => match s.group.first_failure() {
                None => return std::ptr::null(),
                Some(f) => s.first.get_or_init(|| (f.code.unwrap_or(GR_EPANIC.code()), f.message)),
            },
        };
        // SAFETY: `code` is NULL or writable (gr.h).
        unsafe { write_out(code, first.0) };
        first.1.as_ptr()
    })
}

/// Frees the group (once; NULL is ignored) and its context handle, cancelling the context.
/// Tasks still running keep running (they are not waited for); call `gr_group_wait` first.
#[no_mangle]
pub unsafe extern "C" fn gr_group_free(g: *mut gr_group) {
    // SAFETY: `g` is NULL or a gr_group, and this is its last use (gr.h).
    unsafe { gr_group::release(g) }
}
