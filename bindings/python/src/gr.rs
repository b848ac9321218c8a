//! The gr C ABI (`include/gr.h`, `docs/ABI.md`) as this binding uses it. libgr.so.0 is linked
//! dynamically, so a C library loaded into the same process with `-lgr` shares the runtime.
//!
//! Copied by hand, checked by `tests/test_abi.py`: every declaration here must match the
//! header, and every `gr_status` code of the header must be here (and mapped in `errors.rs`).
#![allow(non_camel_case_types, dead_code)]

use std::ffi::{c_char, c_int, c_void};

pub const GR_FOREVER: i64 = -1;

pub const GR_OK: c_int = 0;
pub const GR_ECLOSED: c_int = -1;
pub const GR_ETIMEDOUT: c_int = -2;
pub const GR_EAGAIN: c_int = -3;
pub const GR_EINVAL: c_int = -4;
pub const GR_ENOMEM: c_int = -5;
pub const GR_ESTATE: c_int = -6;
pub const GR_EPANIC: c_int = -7;
pub const GR_ECANCELED: c_int = -8;
/// A descriptor epoll refuses (a regular file or directory: the netpoller's `gr_fd_*` calls).
pub const GR_ENOTPOLL: c_int = -9;
/// Base of OS errors: a status `s < GR_EOS` carries errno `GR_EOS - s` (`gr_fd_*` calls).
pub const GR_EOS: c_int = -1000;

/// `gr_fd_wait` events.
pub const GR_READ: u32 = 1;
pub const GR_WRITE: u32 = 2;

pub const GR_SEND: c_int = 1;
pub const GR_RECV: c_int = 2;

/// `gr_spawn_opts.flags`: a thread-bound goroutine (unused here; Java's).
pub const GR_SPAWN_BOUND: u32 = 1;
/// `gr_spawn_opts.flags`: queue on the spawner's processor, never stolen (first run only).
pub const GR_SPAWN_LOCAL: u32 = 2;
pub const GR_SPAWN_NOWAIT: u32 = 4;

pub const GR_DUMP_TEXT: u32 = 0;
pub const GR_DUMP_JSON: u32 = 1;
pub const GR_DUMP_ALL_FRAMES: u32 = 2;
pub const GR_KIND_PYTHON: u32 = 1;
pub const GR_WAIT_REASONS: usize = 16;
pub const GR_ONCE_NEW: c_int = 0;
pub const GR_ONCE_RUNNING: c_int = 1;
pub const GR_ONCE_DONE: c_int = 2;
pub const GR_ONCE_FAILED: c_int = 3;

pub const GR_CTX_THREAD: c_int = 0;
pub const GR_CTX_COROUTINE: c_int = 1;
pub const GR_CTX_BOUND: c_int = 2;

pub type gr_fn = unsafe extern "C" fn(arg: *mut c_void);
pub type gr_drop_fn = unsafe extern "C" fn(elem: *mut c_void, ctx: *mut c_void);
pub type gr_stall_fn = unsafe extern "C" fn(info: *const gr_stall, ctx: *mut c_void);
pub type gr_dump_write_fn = unsafe extern "C" fn(buf: *const c_char, len: usize, ctx: *mut c_void);
pub type gr_dump_frames_fn =
    unsafe extern "C" fn(goroutine: u64, kind: u32, label: *mut c_void, buf: *mut c_char, cap: usize, ctx: *mut c_void) -> usize;
pub type gr_once_fn = unsafe extern "C" fn(arg: *mut c_void) -> c_int;

#[repr(C)]
pub struct gr_handle {
    _p: [u8; 0],
}
#[repr(C)]
pub struct gr_chan {
    _p: [u8; 0],
}
#[repr(C)]
pub struct gr_wg {
    _p: [u8; 0],
}
#[repr(C)]
pub struct gr_cancel {
    _p: [u8; 0],
}
#[repr(C)]
pub struct gr_mutex {
    _p: [u8; 0],
}

#[repr(C)]
pub struct gr_port {
    _p: [u8; 0],
}
#[repr(C)]
pub struct gr_async {
    _p: [u8; 0],
}
#[repr(C)]
pub struct gr_rwmutex {
    _p: [u8; 0],
}
#[repr(C)]
pub struct gr_once {
    _p: [u8; 0],
}
#[repr(C)]
pub struct gr_cond {
    _p: [u8; 0],
}
#[repr(C)]
pub struct gr_sem {
    _p: [u8; 0],
}
#[repr(C)]
pub struct gr_timer {
    _p: [u8; 0],
}
#[repr(C)]
pub struct gr_ticker {
    _p: [u8; 0],
}
#[repr(C)]
pub struct gr_group {
    _p: [u8; 0],
}

#[repr(C)]
pub struct gr_stall {
    pub size: u32,
    pub kind: u32,
    pub goroutine: u64,
    pub label: *mut c_void,
    pub worker: u32,
    pub tid: c_int,
    pub held_ns: i64,
    pub pinned_ready: u64,
    pub in_kernel: c_int,
}

#[repr(C)]
pub struct gr_config {
    pub size: u32,
    pub workers: u32,
    pub stack_size: usize,
    pub max_threads: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct gr_spawn_opts {
    pub size: u32,
    pub flags: u32,
    pub stack_size: usize,
    pub timeout_ns: i64,
}

#[repr(C)]
pub struct gr_case {
    pub chan: *mut gr_chan,
    pub op: c_int,
    pub elem: *mut c_void,
    pub status: c_int,
}

#[repr(C)]
#[derive(Default)]
pub struct gr_stats {
    pub size: u32,
    pub workers: u32,
    pub goroutines: u64,
    pub threads: u64,
    pub spawned_total: u64,
    pub steals_total: u64,
    pub retakes_total: u64,
    pub running: u64,
    pub runnable: u64,
    pub parked: u64,
    pub sleeping: u64,
    pub blocking: u64,
    pub waiting: [u64; GR_WAIT_REASONS],
    pub runq_global: u64,
    pub runq_local: u64,
    pub runq_pinned: u64,
    pub timers: u64,
    pub threads_running: u64,
    pub threads_idle: u64,
    pub threads_blocking: u64,
    pub plain_threads: u64,
    pub plain_waiting: u64,
}

extern "C" {
    pub fn gr_strerror(status: c_int) -> *const c_char;
    pub fn gr_version() -> *const c_char;

    pub fn gr_config_init(config: *mut gr_config);
    pub fn gr_init(config: *const gr_config) -> c_int;

    pub fn gr_spawn_opts_init(opts: *mut gr_spawn_opts);
    pub fn gr_spawn_ex(
        f: gr_fn,
        arg: *mut c_void,
        opts: *const gr_spawn_opts,
        out: *mut *mut gr_handle,
    ) -> c_int;
    pub fn gr_wait(g: *mut gr_handle, timeout_ns: i64) -> c_int;
    pub fn gr_handle_release(g: *mut gr_handle);
    pub fn gr_handle_error(g: *mut gr_handle) -> *const c_char;
    pub fn gr_goroutine_fail(msg: *const c_char) -> c_int;
    pub fn gr_yield();
    pub fn gr_should_yield() -> c_int;
    pub fn gr_sleep(ns: i64) -> c_int;
    pub fn gr_self() -> u64;
    pub fn gr_context() -> c_int;
    pub fn gr_pin() -> c_int;

    pub fn gr_chan_new_with_drop(
        elem_size: usize,
        capacity: usize,
        drop: Option<gr_drop_fn>,
        ctx: *mut c_void,
        out: *mut *mut gr_chan,
    ) -> c_int;
    pub fn gr_chan_send(ch: *mut gr_chan, elem: *const c_void, timeout_ns: i64) -> c_int;
    pub fn gr_chan_recv(ch: *mut gr_chan, elem: *mut c_void, timeout_ns: i64) -> c_int;
    pub fn gr_chan_close(ch: *mut gr_chan) -> c_int;
    pub fn gr_chan_len(ch: *const gr_chan) -> usize;
    pub fn gr_chan_cap(ch: *const gr_chan) -> usize;
    pub fn gr_chan_retain(ch: *mut gr_chan) -> *mut gr_chan;
    pub fn gr_chan_release(ch: *mut gr_chan);
    pub fn gr_select(cases: *mut gr_case, ncases: usize, timeout_ns: i64) -> c_int;

    pub fn gr_wg_new(out: *mut *mut gr_wg) -> c_int;
    pub fn gr_wg_add(wg: *mut gr_wg, delta: i64) -> c_int;
    pub fn gr_wg_done(wg: *mut gr_wg) -> c_int;
    pub fn gr_wg_wait(wg: *mut gr_wg, timeout_ns: i64) -> c_int;
    pub fn gr_wg_free(wg: *mut gr_wg);

    pub fn gr_mutex_new(out: *mut *mut gr_mutex) -> c_int;
    pub fn gr_mutex_lock(mu: *mut gr_mutex, timeout_ns: i64) -> c_int;
    pub fn gr_mutex_unlock(mu: *mut gr_mutex) -> c_int;
    pub fn gr_mutex_free(mu: *mut gr_mutex);

    pub fn gr_fd_wait(fd: c_int, events: u32, timeout_ns: i64) -> c_int;
    pub fn gr_fd_wait_ex(fd: c_int, events: u32, timeout_ns: i64, cancel: *mut gr_cancel) -> c_int;
    pub fn gr_fd_recv(fd: c_int, buf: *mut c_void, len: usize, flags: c_int, timeout_ns: i64, cancel: *mut gr_cancel, nread: *mut usize) -> c_int;
    pub fn gr_fd_send(fd: c_int, buf: *const c_void, len: usize, flags: c_int, timeout_ns: i64, cancel: *mut gr_cancel, nsent: *mut usize) -> c_int;
    pub fn gr_fd_sendall(fd: c_int, buf: *const c_void, len: usize, flags: c_int, timeout_ns: i64, cancel: *mut gr_cancel, nsent: *mut usize) -> c_int;
    pub fn gr_fd_forget(fd: c_int) -> c_int;

    pub fn gr_stats_get(out: *mut gr_stats) -> c_int;

    pub fn gr_dump_to(write: Option<gr_dump_write_fn>, frames: Option<gr_dump_frames_fn>, ctx: *mut c_void, flags: u32) -> c_int;
    pub fn gr_stall_hook(f: Option<gr_stall_fn>, ctx: *mut c_void, threshold_ns: i64) -> c_int;
    pub fn gr_goroutine_label(kind: u32, label: *mut c_void) -> c_int;

    pub fn gr_port_new(out: *mut *mut gr_port) -> c_int;
    pub fn gr_port_fd(port: *const gr_port) -> c_int;
    pub fn gr_port_take(port: *mut gr_port, users: *mut u64, max: usize, n: *mut usize) -> c_int;
    pub fn gr_port_free(port: *mut gr_port);
    pub fn gr_chan_send_async(ch: *mut gr_chan, elem: *const c_void, port: *mut gr_port, user: u64, out: *mut *mut gr_async) -> c_int;
    pub fn gr_chan_recv_async(ch: *mut gr_chan, elem: *mut c_void, port: *mut gr_port, user: u64, out: *mut *mut gr_async) -> c_int;
    pub fn gr_wait_async(g: *mut gr_handle, port: *mut gr_port, user: u64, out: *mut *mut gr_async) -> c_int;
    pub fn gr_async_status(op: *const gr_async) -> c_int;
    pub fn gr_async_cancel(op: *mut gr_async) -> c_int;
    pub fn gr_async_free(op: *mut gr_async);
    // The `_ex` forms of the blocking calls (a cancel token: the current Context's).
    pub fn gr_wait_ex(g: *mut gr_handle, timeout_ns: i64, cancel: *mut gr_cancel) -> c_int;
    pub fn gr_sleep_ex(ns: i64, cancel: *mut gr_cancel) -> c_int;
    pub fn gr_chan_send_ex(ch: *mut gr_chan, elem: *const c_void, timeout_ns: i64, cancel: *mut gr_cancel) -> c_int;
    pub fn gr_chan_recv_ex(ch: *mut gr_chan, elem: *mut c_void, timeout_ns: i64, cancel: *mut gr_cancel) -> c_int;
    pub fn gr_select_ex(cases: *mut gr_case, ncases: usize, timeout_ns: i64, cancel: *mut gr_cancel) -> c_int;
    pub fn gr_wg_wait_ex(wg: *mut gr_wg, timeout_ns: i64, cancel: *mut gr_cancel) -> c_int;
    pub fn gr_mutex_lock_ex(mu: *mut gr_mutex, timeout_ns: i64, cancel: *mut gr_cancel) -> c_int;

    // Contexts (cancel tokens).
    pub fn gr_cancel_new(out: *mut *mut gr_cancel) -> c_int;
    pub fn gr_cancel_fire(c: *mut gr_cancel) -> c_int;
    pub fn gr_cancel_free(c: *mut gr_cancel);
    pub fn gr_cancel_new_child(parent: *mut gr_cancel, out: *mut *mut gr_cancel) -> c_int;
    pub fn gr_cancel_new_timeout(parent: *mut gr_cancel, timeout_ns: i64, out: *mut *mut gr_cancel) -> c_int;
    pub fn gr_cancel_new_deadline(parent: *mut gr_cancel, deadline_ns: i64, out: *mut *mut gr_cancel) -> c_int;
    pub fn gr_cancel_err(c: *mut gr_cancel) -> c_int;
    pub fn gr_cancel_deadline(c: *mut gr_cancel, deadline_ns: *mut i64) -> c_int;
    pub fn gr_cancel_done(c: *mut gr_cancel) -> *mut gr_chan;

    // RWMutex, Once, Cond, the weighted semaphore.
    pub fn gr_rwmutex_new(out: *mut *mut gr_rwmutex) -> c_int;
    pub fn gr_rwmutex_lock_ex(mu: *mut gr_rwmutex, timeout_ns: i64, cancel: *mut gr_cancel) -> c_int;
    pub fn gr_rwmutex_unlock(mu: *mut gr_rwmutex) -> c_int;
    pub fn gr_rwmutex_rlock_ex(mu: *mut gr_rwmutex, timeout_ns: i64, cancel: *mut gr_cancel) -> c_int;
    pub fn gr_rwmutex_runlock(mu: *mut gr_rwmutex) -> c_int;
    pub fn gr_rwmutex_free(mu: *mut gr_rwmutex);
    pub fn gr_once_new(out: *mut *mut gr_once) -> c_int;
    pub fn gr_once_do_ex(o: *mut gr_once, f: Option<gr_once_fn>, arg: *mut c_void, timeout_ns: i64, cancel: *mut gr_cancel) -> c_int;
    pub fn gr_once_state(o: *mut gr_once, code: *mut c_int) -> c_int;
    pub fn gr_once_free(o: *mut gr_once);
    pub fn gr_cond_new(mu: *mut gr_mutex, out: *mut *mut gr_cond) -> c_int;
    pub fn gr_cond_wait_ex(c: *mut gr_cond, timeout_ns: i64, cancel: *mut gr_cancel) -> c_int;
    pub fn gr_cond_signal(c: *mut gr_cond) -> c_int;
    pub fn gr_cond_broadcast(c: *mut gr_cond) -> c_int;
    pub fn gr_cond_free(c: *mut gr_cond);
    pub fn gr_sem_new(size: i64, out: *mut *mut gr_sem) -> c_int;
    pub fn gr_sem_acquire_ex(s: *mut gr_sem, n: i64, timeout_ns: i64, cancel: *mut gr_cancel) -> c_int;
    pub fn gr_sem_release(s: *mut gr_sem, n: i64) -> c_int;
    pub fn gr_sem_free(s: *mut gr_sem);

    // Timers and tickers as channels.
    pub fn gr_now() -> i64;
    pub fn gr_after(ns: i64, out: *mut *mut gr_chan) -> c_int;
    pub fn gr_timer_new(ns: i64, out: *mut *mut gr_timer) -> c_int;
    pub fn gr_timer_chan(t: *mut gr_timer) -> *mut gr_chan;
    pub fn gr_timer_stop(t: *mut gr_timer) -> c_int;
    pub fn gr_timer_reset(t: *mut gr_timer, ns: i64) -> c_int;
    pub fn gr_timer_free(t: *mut gr_timer);
    pub fn gr_ticker_new(period_ns: i64, out: *mut *mut gr_ticker) -> c_int;
    pub fn gr_ticker_chan(t: *mut gr_ticker) -> *mut gr_chan;
    pub fn gr_ticker_reset(t: *mut gr_ticker, period_ns: i64) -> c_int;
    pub fn gr_ticker_stop(t: *mut gr_ticker) -> c_int;
    pub fn gr_ticker_free(t: *mut gr_ticker);

    // Task groups.
    pub fn gr_group_new(parent: *mut gr_cancel, limit: usize, out: *mut *mut gr_group) -> c_int;
    pub fn gr_group_context(g: *mut gr_group) -> *mut gr_cancel;
    pub fn gr_group_spawn(
        g: *mut gr_group,
        f: gr_fn,
        arg: *mut c_void,
        opts: *const gr_spawn_opts,
        timeout_ns: i64,
        cancel: *mut gr_cancel,
        out: *mut *mut gr_handle,
    ) -> c_int;
    pub fn gr_group_wait_ex(g: *mut gr_group, timeout_ns: i64, cancel: *mut gr_cancel) -> c_int;
    pub fn gr_group_cancel(g: *mut gr_group) -> c_int;
    pub fn gr_group_free(g: *mut gr_group);
}
