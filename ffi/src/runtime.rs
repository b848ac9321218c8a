//! Runtime, goroutine and cancel-token exports.

use crate::boundary::*;
use crate::stable::{Pool, Slot};
use gr_core::{sched, Cancel, Deadline, Entry, Error, GRef, SpawnOpts};
use std::ffi::{c_char, c_int, c_void, CStr, CString};

/// Status codes returned by every gr call: 0 on success, a negative `GR_E*` on failure.
#[repr(C)]
pub enum gr_status {
    /// Success.
    GR_OK = 0,
    /// Channel closed: send on a closed channel; receive on a closed AND drained one.
    GR_ECLOSED = -1,
    /// `timeout_ns` passed first.
    GR_ETIMEDOUT = -2,
    /// `timeout_ns == 0` and the operation would block.
    GR_EAGAIN = -3,
    /// Bad argument: NULL or released handle, zero size, wrong struct size, ...
    GR_EINVAL = -4,
    /// Out of memory or of memory mappings (see `vm.max_map_count`).
    GR_ENOMEM = -5,
    /// Wrong state: already initialised, shut down, in a fork()ed child, not in a goroutine.
    GR_ESTATE = -6,
    /// The goroutine or the runtime failed (panic, exception, `gr_goroutine_fail`).
    GR_EPANIC = -7,
    /// The wait's `gr_cancel` token fired.
    GR_ECANCELED = -8,
}

/// Runtime configuration. Initialise with `gr_config_init`, then set fields.
#[repr(C)]
pub struct gr_config {
    /// `sizeof(gr_config)`; `gr_config_init` sets it (fields may be appended).
    pub size: u32,
    /// Processors running goroutines; 0 = `$GR_WORKERS`, else the CPU count.
    pub workers: u32,
    /// Bytes reserved per goroutine stack; 0 = default (256 KiB). Only touched pages cost
    /// memory.
    pub stack_size: usize,
    /// Cap on the OS threads the runtime owns (workers, threads taking over from blocked
    /// goroutines, the monitor); 0 = default (10,000); at least `workers + 2`.
    pub max_threads: u32,
}

/// Runtime counters, filled by `gr_stats_get`.
#[repr(C)]
pub struct gr_stats {
    /// `sizeof(gr_stats)`, set by the caller.
    pub size: u32,
    /// Processors.
    pub workers: u32,
    /// Live goroutines: runnable, running or parked.
    pub goroutines: u64,
    /// OS threads the runtime owns now (workers, spare threads and the monitor).
    pub threads: u64,
    /// Goroutines spawned since start.
    pub spawned_total: u64,
    /// Successful steals between processors since start.
    pub steals_total: u64,
}

/// Options for `gr_spawn_ex`. Initialise with `gr_spawn_opts_init`.
#[repr(C)]
pub struct gr_spawn_opts {
    /// `sizeof(gr_spawn_opts)`; `gr_spawn_opts_init` sets it.
    pub size: u32,
    /// `GR_SPAWN_*` flags.
    pub flags: u32,
    /// Stack bytes for this goroutine; 0 = the runtime's default.
    pub stack_size: usize,
}

/// `gr_spawn_opts.flags`: run `fn` on a worker's own OS stack, never a coroutine stack (for
/// hosts such as the JVM that cannot run on foreign stacks). A blocking call inside blocks
/// the thread and hands its processor to a spare thread.
pub const GR_SPAWN_BOUND: u32 = 1;

/// `gr_spawn_opts.flags`: queue the goroutine on the spawner's processor, where other
/// processors never steal it, instead of where any idle worker may take it. It runs on the
/// thread that holds that processor (the processor, and its queue, move to another thread if
/// the monitor finds its thread stuck). For goroutines that would only contend with the
/// spawner if they ran in parallel (code under one interpreter lock); affects the first run
/// only, and has no effect when the caller is not a goroutine. Ignored with `GR_SPAWN_BOUND`.
pub const GR_SPAWN_LOCAL: u32 = 2;

/// `gr_context()`: a plain OS thread, not a goroutine.
pub const GR_CTX_THREAD: c_int = 0;
/// `gr_context()`: a goroutine on a coroutine stack.
pub const GR_CTX_COROUTINE: c_int = 1;
/// `gr_context()`: a thread-bound goroutine (`GR_SPAWN_BOUND`).
pub const GR_CTX_BOUND: c_int = 2;

/// A goroutine's function.
pub type gr_fn = Option<unsafe extern "C" fn(arg: *mut c_void)>;

/// A joinable goroutine (from `gr_spawn` with a non-NULL `out`).
pub struct gr_handle {
    _private: [u8; 0],
}

/// A cancel token: fires every wait registered on it with `GR_ECANCELED`.
pub struct gr_cancel {
    _private: [u8; 0],
}

pub(crate) struct HandleInner {
    pub g: GRef,
    failed_msg: std::sync::OnceLock<CString>,
}

pub(crate) static HANDLES: Pool<HandleInner> = Pool::new();
pub(crate) static CANCELS: Pool<Cancel> = Pool::new();

/// # Safety
/// `h` must be NULL or a handle from `gr_spawn`.
pub(crate) unsafe fn handle<'a>(h: *const gr_handle) -> Result<&'a HandleInner, Error> {
    Pool::get(h as *const Slot<HandleInner>).ok_or(Error::Invalid)
}

/// A cancel token argument: NULL = none; a released token is `GR_EINVAL`.
///
/// # Safety
/// `c` must be NULL or a token from `gr_cancel_new`.
#[inline]
pub unsafe fn cancel_arg<'a>(c: *const gr_cancel) -> Result<Option<&'a Cancel>, Error> {
    if c.is_null() {
        return Ok(None);
    }
    Pool::get(c as *const Slot<Cancel>).map(Some).ok_or(Error::Invalid)
}

/// Maps a wait's failure `r` to the caller's error, given the ABI's timeout conventions.
pub fn timeout_error(timeout_ns: i64) -> Error {
    if timeout_ns == 0 {
        Error::Again
    } else {
        Error::TimedOut
    }
}

/// Explains a status code. Never NULL; the string is static.
#[no_mangle]
pub extern "C" fn gr_strerror(status: c_int) -> *const c_char {
    let s: &'static CStr = match status {
        GR_OK => c"success",
        GR_ECLOSED => c"channel closed (send on a closed channel, or receive on a closed and drained one)",
        GR_ETIMEDOUT => c"timed out: timeout_ns passed before the operation could complete",
        GR_EAGAIN => c"would block: timeout_ns was 0 and the operation was not ready",
        GR_EINVAL => c"invalid argument: NULL or released handle, zero or wrong size, or a value out of range",
        GR_ENOMEM => {
            c"out of memory or of memory mappings: free memory, lower gr_config.stack_size, or raise the sysctl vm.max_map_count"
        }
        GR_ESTATE => {
            c"wrong state: runtime already initialised, shut down, or this is a fork()ed child whose runtime threads did not survive fork (call gr_init again); or the call needs a goroutine"
        }
        GR_EPANIC => c"the goroutine or the runtime failed (a panic, an exception, or gr_goroutine_fail)",
        GR_ECANCELED => c"cancelled: the wait's gr_cancel token fired",
        _ => c"unknown gr status code",
    };
    s.as_ptr()
}

/// The library's version, "MAJOR.MINOR.PATCH"; compare with `GR_VERSION_*` from the header.
#[no_mangle]
pub extern "C" fn gr_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// Fills `config` with defaults and sets `config->size`. NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn gr_config_init(config: *mut gr_config) {
    write_out(config, gr_config { size: std::mem::size_of::<gr_config>() as u32, workers: 0, stack_size: 0, max_threads: 0 });
}

/// Starts the runtime (optional: the first call that needs it starts it with defaults).
/// `config` NULL = defaults. `GR_ESTATE` if it is running already; `GR_EINVAL` for a wrong
/// `config->size`. After `gr_shutdown`, or in a fork()ed child, this starts a fresh runtime.
#[no_mangle]
pub unsafe extern "C" fn gr_init(config: *const gr_config) -> c_int {
    guard(|| {
        let cfg = match config.as_ref() {
            None => sched::Config::default(),
            Some(c) => {
                if (c.size as usize) < std::mem::size_of::<gr_config>() || c.size as usize > 4096 {
                    return Err(Error::Invalid);
                }
                sched::Config { workers: c.workers as usize, stack_size: c.stack_size, max_threads: c.max_threads as usize }
            }
        };
        sched::init(cfg)
    })
}

/// Waits up to `timeout_ns` for every goroutine to return, then stops the worker threads.
/// `GR_ETIMEDOUT` if some were still running or parked (they are left as they are, never
/// unwound). Later calls return `GR_ESTATE` until `gr_init`. `GR_ESTATE` from a goroutine.
#[no_mangle]
pub extern "C" fn gr_shutdown(timeout_ns: i64) -> c_int {
    guard(|| sched::shutdown(Deadline::from_timeout_ns(timeout_ns)))
}

/// Fills `opts` with defaults and sets `opts->size`. NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn gr_spawn_opts_init(opts: *mut gr_spawn_opts) {
    write_out(opts, gr_spawn_opts { size: std::mem::size_of::<gr_spawn_opts>() as u32, flags: 0, stack_size: 0 });
}

fn spawn_common(f: gr_fn, arg: *mut c_void, opts: SpawnOpts, out: *mut *mut gr_handle) -> Result<(), Error> {
    let f = f.ok_or(Error::Invalid)?;
    let g = sched::spawn(Entry::C(f, arg), opts)?;
    if !out.is_null() {
        let h = HANDLES.alloc(HandleInner { g, failed_msg: std::sync::OnceLock::new() });
        // SAFETY: `out` is non-NULL and the caller promised it is writable.
        unsafe { out.write(h as *mut gr_handle) };
    }
    Ok(())
}

/// Runs `fn(arg)` as a goroutine. `out` receives a handle to join it (release it with
/// `gr_handle_release`), or may be NULL for a detached goroutine. Called from a goroutine that
/// has run for over ~10 ms while others wait, this is a preemption point: the caller yields
/// (unless it is pinned).
#[no_mangle]
pub unsafe extern "C" fn gr_spawn(f: gr_fn, arg: *mut c_void, out: *mut *mut gr_handle) -> c_int {
    guard(|| spawn_common(f, arg, SpawnOpts::default(), out))
}

/// `gr_spawn` with options (`GR_SPAWN_BOUND`, `GR_SPAWN_LOCAL`, a stack size). `opts` NULL =
/// defaults; unknown flags give `GR_EINVAL`.
#[no_mangle]
pub unsafe extern "C" fn gr_spawn_ex(f: gr_fn, arg: *mut c_void, opts: *const gr_spawn_opts, out: *mut *mut gr_handle) -> c_int {
    guard(|| {
        let o = match opts.as_ref() {
            None => SpawnOpts::default(),
            Some(o) => {
                if (o.size as usize) < std::mem::size_of::<gr_spawn_opts>() || o.size as usize > 4096 || o.flags & !(GR_SPAWN_BOUND | GR_SPAWN_LOCAL) != 0 {
                    return Err(Error::Invalid);
                }
                SpawnOpts {
                    bound: o.flags & GR_SPAWN_BOUND != 0,
                    local: o.flags & GR_SPAWN_LOCAL != 0,
                    stack_size: o.stack_size,
                }
            }
        };
        spawn_common(f, arg, o, out)
    })
}

/// Joins a goroutine: `GR_OK` once `fn` has returned, `GR_EPANIC` if it failed.
#[no_mangle]
pub unsafe extern "C" fn gr_wait(g: *mut gr_handle, timeout_ns: i64) -> c_int {
    gr_wait_ex(g, timeout_ns, std::ptr::null_mut())
}

/// `gr_wait` that also ends with `GR_ECANCELED` when `cancel` (may be NULL) fires.
#[no_mangle]
pub unsafe extern "C" fn gr_wait_ex(g: *mut gr_handle, timeout_ns: i64, cancel: *mut gr_cancel) -> c_int {
    guard(|| {
        let h = handle(g)?;
        let c = cancel_arg(cancel)?;
        gr_core::join::join(&h.g, Deadline::from_timeout_ns(timeout_ns), c).map_err(|e| if e == Error::TimedOut { timeout_error(timeout_ns) } else { e })
    })
}

/// Releases a handle (once; NULL and released handles are ignored). Does not stop the
/// goroutine.
#[no_mangle]
pub unsafe extern "C" fn gr_handle_release(g: *mut gr_handle) {
    let _ = guard(|| {
        drop(HANDLES.free(g as *mut Slot<HandleInner>));
        Ok(())
    });
}

/// The failure message of a goroutine that failed (`gr_wait` returned `GR_EPANIC`), else
/// NULL. Valid until the handle is released.
#[no_mangle]
pub unsafe extern "C" fn gr_handle_error(g: *mut gr_handle) -> *const c_char {
    guard_value(std::ptr::null(), || {
        let Ok(h) = handle(g) else { return std::ptr::null() };
        if !h.g.has_failed() || !h.g.is_done() {
            return std::ptr::null();
        }
        let msg = h.failed_msg.get_or_init(|| gr_core::join::failure_message(&h.g));
        msg.as_ptr()
    })
}

/// Marks the calling goroutine failed: its `gr_wait` returns `GR_EPANIC` and
/// `gr_handle_error` returns a copy of `msg` (may be NULL). `GR_ESTATE` outside goroutines.
/// The goroutine keeps running; return from it afterwards.
#[no_mangle]
pub unsafe extern "C" fn gr_goroutine_fail(msg: *const c_char) -> c_int {
    guard(|| {
        let m = if msg.is_null() { None } else { Some(CStr::from_ptr(msg).to_owned()) };
        sched::fail_current(m)
    })
}

/// Lets other goroutines run: the caller goes behind the goroutines already queued, as Go's
/// `Gosched` (a pinned goroutine waits behind those queued on its processor, with a turn at
/// least every 61 scheduling rounds). Outside goroutines, yields the OS thread.
#[no_mangle]
pub extern "C" fn gr_yield() {
    let _ = guard(|| {
        sched::yield_now();
        Ok(())
    });
}

/// Sleeps `ns` nanoseconds: parks a goroutine, blocks a plain thread. `ns <= 0` yields.
#[no_mangle]
pub extern "C" fn gr_sleep(ns: i64) -> c_int {
    guard(|| gr_core::sleep::sleep(ns, None))
}

/// `gr_sleep` that ends early with `GR_ECANCELED` when `cancel` (may be NULL) fires.
#[no_mangle]
pub unsafe extern "C" fn gr_sleep_ex(ns: i64, cancel: *mut gr_cancel) -> c_int {
    guard(|| gr_core::sleep::sleep(ns, cancel_arg(cancel)?))
}

/// The current goroutine's id (> 0), or 0 outside goroutines.
#[no_mangle]
pub extern "C" fn gr_self() -> u64 {
    guard_value(0, sched::self_id)
}

/// Where the caller runs: `GR_CTX_THREAD`, `GR_CTX_COROUTINE` or `GR_CTX_BOUND`.
#[no_mangle]
pub extern "C" fn gr_context() -> c_int {
    guard_value(GR_CTX_THREAD, || sched::context() as c_int)
}

/// Call before a blocking foreign call (read(2), a lock, a long computation you know of): the
/// goroutine's processor is handed to another thread so other goroutines keep running. No-op
/// outside goroutines. Pair with `gr_blocking_end`.
#[no_mangle]
pub extern "C" fn gr_blocking_begin() {
    let _ = guard(|| {
        sched::blocking_begin();
        Ok(())
    });
}

/// Call after the blocking call: takes a processor back (waiting for one if all are busy).
#[no_mangle]
pub extern "C" fn gr_blocking_end() {
    let _ = guard(|| {
        sched::blocking_end();
        Ok(())
    });
}

/// From now on the calling goroutine resumes only on its current OS thread (which still runs
/// other goroutines). For thread-affine state: interpreter thread states, TLS, thread ids. A
/// pinned goroutine is never preempted in `gr_spawn`. `GR_ESTATE` outside goroutines.
#[no_mangle]
pub extern "C" fn gr_pin() -> c_int {
    guard(sched::pin)
}

/// 1 if the calling goroutine should yield now, else 0: the monitor asked its processor to
/// be given up (it ran ~10 ms while other goroutines wait), or its processor has more than
/// 256 goroutines queued (a spawn loop; running them recycles their stacks while hot).
/// `gr_spawn` yields by itself at this point, except in pinned goroutines, which may hold a
/// thread-affine lock there (an interpreter lock); they ask this, let go of the lock, and
/// call `gr_yield`. Returns 0 outside goroutines and in thread-bound ones. Never suspends.
#[no_mangle]
pub extern "C" fn gr_should_yield() -> c_int {
    guard_value(0, || sched::should_yield() as c_int)
}

/// Undoes `gr_pin`. `GR_ESTATE` outside goroutines.
#[no_mangle]
pub extern "C" fn gr_unpin() -> c_int {
    guard(sched::unpin)
}

/// Fills `out` (whose `size` the caller set) with the runtime's counters.
#[no_mangle]
pub unsafe extern "C" fn gr_stats_get(out: *mut gr_stats) -> c_int {
    guard(|| {
        let o = out.as_mut().ok_or(Error::Invalid)?;
        if (o.size as usize) < std::mem::size_of::<gr_stats>() || o.size as usize > 4096 {
            return Err(Error::Invalid);
        }
        let s = sched::stats()?;
        o.workers = s.workers;
        o.goroutines = s.goroutines;
        o.threads = s.threads;
        o.spawned_total = s.spawned_total;
        o.steals_total = s.steals_total;
        Ok(())
    })
}

/// Creates a cancel token.
#[no_mangle]
pub unsafe extern "C" fn gr_cancel_new(out: *mut *mut gr_cancel) -> c_int {
    guard(|| {
        nonnull(out)?;
        out.write(CANCELS.alloc(Cancel::new()) as *mut gr_cancel);
        Ok(())
    })
}

/// Fires the token: every wait registered on it ends with `GR_ECANCELED`, and so does every
/// later wait on it until `gr_cancel_reset`. The withdrawn waits lose no value.
#[no_mangle]
pub unsafe extern "C" fn gr_cancel_fire(c: *mut gr_cancel) -> c_int {
    guard(|| {
        cancel_arg(nonnull(c)?)?.ok_or(Error::Invalid)?.fire();
        Ok(())
    })
}

/// Re-arms a fired token.
#[no_mangle]
pub unsafe extern "C" fn gr_cancel_reset(c: *mut gr_cancel) -> c_int {
    guard(|| {
        cancel_arg(nonnull(c)?)?.ok_or(Error::Invalid)?.reset();
        Ok(())
    })
}

/// Frees a token (once; NULL is ignored). No wait may still use it.
#[no_mangle]
pub unsafe extern "C" fn gr_cancel_free(c: *mut gr_cancel) {
    let _ = guard(|| {
        drop(CANCELS.free(c as *mut Slot<Cancel>));
        Ok(())
    });
}
