//! Goroutine exports: spawning, joining (`gr_handle`), and what the current goroutine may do
//! (yield, sleep, pin, blocking sections, ...), over `gr_core::sched`, `gr_core::join` and
//! `gr_core::sleep`.

use crate::boundary::*;
use crate::cancel::{cancel_opt, gr_cancel};
use crate::handle::{impl_handle, Handle};
use gr_core::{sched, Deadline, Entry, Error, GRef, SpawnOpts};
use std::ffi::{c_char, c_int, c_void, CStr, CString};

/// Options for `gr_spawn_ex`. Initialise with `gr_spawn_opts_init`.
#[repr(C)]
pub struct gr_spawn_opts {
    /// `sizeof(gr_spawn_opts)`; `gr_spawn_opts_init` sets it.
    pub size: u32,
    /// `GR_SPAWN_*` flags.
    pub flags: u32,
    /// Stack bytes for this goroutine; 0 = the runtime's default. At most
    /// `GR_STACK_SIZE_MAX` (else `GR_EINVAL`).
    pub stack_size: usize,
    /// With `GR_SPAWN_BOUND`: how long `gr_spawn_ex` may wait for a thread when bound
    /// goroutines already hold every one they may (`max_threads - workers - 1`, see
    /// `gr_spawn_ex`): `GR_FOREVER`, 0 (`GR_EAGAIN` at once; the default), or a relative
    /// timeout (`GR_ETIMEDOUT`). Ignored without `GR_SPAWN_BOUND` (back-pressure on a plain
    /// thread's spawn is not bounded by it: see `gr_spawn` and `GR_SPAWN_NOWAIT`). Added
    /// after the first release of this struct: a `size` from an older gr.h, without it,
    /// means 0.
    pub timeout_ns: i64,
}

/// `size` of the first `gr_spawn_opts` (no `timeout_ns`): still accepted.
const SPAWN_OPTS_V1: usize = std::mem::offset_of!(gr_spawn_opts, timeout_ns);

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

/// The largest stack a goroutine may have, in bytes (1 GiB, Go's maximum on 64-bit):
/// `gr_spawn_opts.stack_size` and `gr_config.stack_size` above it give `GR_EINVAL`. Sizes are
/// rounded up to whole pages, at least 16 KiB.
pub const GR_STACK_SIZE_MAX: usize = 1073741824;
const _: () = assert!(GR_STACK_SIZE_MAX == gr_core::STACK_MAX);

/// `gr_spawn_opts.flags`: never wait for back-pressure. A plain thread's spawn that finds
/// the runtime's global queue full (1,024 goroutines or more, see `gr_spawn`) returns
/// `GR_EAGAIN` at once, spawning nothing, where it would otherwise wait for the workers to
/// run the queue down. For a caller that holds something the goroutines need (an interpreter
/// lock): on `GR_EAGAIN` it lets go of it and spawns again without this flag, which waits.
/// No effect in a goroutine, whose spawns never wait. With `GR_SPAWN_BOUND` it concerns the
/// queue only: the wait for a thread slot is `timeout_ns`'s.
pub const GR_SPAWN_NOWAIT: u32 = 4;

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

/// What a `gr_handle` points to: the goroutine, and its failure message once asked for.
pub(crate) struct HandleInner {
    pub g: GRef,
    failed_msg: std::sync::OnceLock<CString>,
}

impl_handle!(gr_handle => HandleInner);

/// Fills `opts` with defaults and sets `opts->size`. NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn gr_spawn_opts_init(opts: *mut gr_spawn_opts) {
    // SAFETY: `opts` is NULL or writable (gr.h).
    unsafe {
        write_out(opts, gr_spawn_opts { size: std::mem::size_of::<gr_spawn_opts>() as u32, flags: 0, stack_size: 0, timeout_ns: 0 })
    };
}

/// The caller's return address in the export that expands this (its spawn site, for dumps):
/// the export's stack and frame pointers and the instruction here are read (three moves);
/// the first call measures where the return address lies from there
/// (`gr_core::dump::unwind::return_slot`, by the export's CFI; cached in `$cell`), later
/// calls load it. Expanded in the export's own body, never in a function it calls.
macro_rules! caller_pc {
    ($cell:ident) => {{
        static $cell: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(usize::MAX);
        let (pc, sp, fp): (usize, usize, usize);
        // SAFETY: reads three registers, writes nothing else.
        #[cfg(target_arch = "x86_64")]
        unsafe {
            std::arch::asm!("lea {pc}, [rip]", "mov {sp}, rsp", "mov {fp}, rbp", pc = out(reg) pc, sp = out(reg) sp, fp = out(reg) fp, options(nomem, nostack, preserves_flags));
        }
        // SAFETY: as above.
        #[cfg(target_arch = "aarch64")]
        unsafe {
            std::arch::asm!("adr {pc}, .", "mov {sp}, sp", "mov {fp}, x29", pc = out(reg) pc, sp = out(reg) sp, fp = out(reg) fp, options(nomem, nostack, preserves_flags));
        }
        let mut off = $cell.load(std::sync::atomic::Ordering::Relaxed);
        if off == usize::MAX {
            off = gr_core::dump::unwind::return_slot(pc, sp, fp).unwrap_or(usize::MAX - 1);
            $cell.store(off, std::sync::atomic::Ordering::Relaxed);
        }
        if off < 4096 {
            // SAFETY: `sp + off` is this function's return-address slot (measured for this
            // very instruction), in its live frame.
            unsafe { ((sp + off) as *const usize).read() }
        } else {
            0
        }
    }};
}
pub(crate) use caller_pc;

/// # Safety
/// `out` is NULL or writable.
#[inline]
unsafe fn spawn_common(f: gr_fn, arg: *mut c_void, opts: SpawnOpts, out: *mut *mut gr_handle) -> Result<(), Error> {
    let f = f.ok_or(Error::Invalid)?;
    let (g, gen) = sched::spawn_gen(Entry::C(f, arg), opts)?;
    if !out.is_null() {
        // SAFETY: `out` is non-NULL, hence writable (our contract).
        unsafe { out.write(new_handle(g, gen)) };
    }
    Ok(())
}

/// A new joinable handle to `g`, a goroutine of the runtime of generation `gen`.
pub(crate) fn new_handle(g: GRef, gen: u64) -> *mut gr_handle {
    gr_handle::alloc(HandleInner { g, failed_msg: std::sync::OnceLock::new() }, gen)
}

/// `gr_spawn_ex`'s options: NULL = defaults; a wrong size or unknown flags are `Invalid`.
///
/// # Safety
/// `opts` NULL or pointing to a `gr_spawn_opts` of `size` bytes (gr.h), at least the first
/// version's fields.
pub(crate) unsafe fn spawn_opts_of(opts: *const gr_spawn_opts, spawn_pc: usize) -> Result<SpawnOpts, Error> {
    if opts.is_null() {
        return Ok(SpawnOpts { spawn_pc, ..SpawnOpts::default() });
    }
    // SAFETY: the caller's contract; each field is read through a raw pointer, and only if
    // `size` covers it, so a caller built against an older header is never overread.
    let (size, flags, stack_size) = unsafe {
        (
            std::ptr::addr_of!((*opts).size).read() as usize,
            std::ptr::addr_of!((*opts).flags).read(),
            std::ptr::addr_of!((*opts).stack_size).read(),
        )
    };
    if !(SPAWN_OPTS_V1..=4096).contains(&size) || flags & !(GR_SPAWN_BOUND | GR_SPAWN_LOCAL | GR_SPAWN_NOWAIT) != 0 {
        return Err(Error::Invalid);
    }
    let timeout_ns = if size >= std::mem::size_of::<gr_spawn_opts>() {
        // SAFETY: as above; `size` covers `timeout_ns`.
        unsafe { std::ptr::addr_of!((*opts).timeout_ns).read() }
    } else {
        0
    };
    Ok(SpawnOpts {
        bound: flags & GR_SPAWN_BOUND != 0,
        local: flags & GR_SPAWN_LOCAL != 0,
        stack_size,
        spawn_pc,
        timeout_ns,
        nowait: flags & GR_SPAWN_NOWAIT != 0,
    })
}

/// Runs `fn(arg)` as a goroutine. `out` receives a handle to join it (release it with
/// `gr_handle_release`), or may be NULL for a detached goroutine. Called from a goroutine that
/// has run for over ~10 ms while others wait, this is a preemption point: the caller yields
/// (unless it is pinned). `GR_ESTATE` once `gr_shutdown` has begun (a goroutine accepted
/// before always runs), from a goroutine of a runtime that was shut down, or in a fork()ed
/// child before `gr_init`; `GR_ENOMEM` without memory for its stack, or when no thread runs
/// goroutines and the OS refuses a new one.
///
/// Back-pressure: called from a plain thread (not a goroutine) while 1,024 or more
/// goroutines wait in the runtime's global queue (the spawner outruns the workers), the call
/// first blocks until the workers have run that queue down to 512, so a spawn loop on a
/// thread keeps memory bounded. It never deadlocks: if no queued goroutine is taken for
/// 10 ms while every thread holding a processor sleeps in the kernel (the workers are stuck,
/// perhaps on something the caller holds), or for 100 ms whatever they do, it goes on, and so
/// do later spawns until a worker takes from the queue again: it always succeeds in the end.
/// `gr_spawn_ex` waits the same way, unless given `GR_SPAWN_NOWAIT` (then `GR_EAGAIN` at
/// once). Spawns from goroutines never wait. A binding whose goroutines need a lock the
/// spawning thread holds (an interpreter lock) should spawn with `GR_SPAWN_NOWAIT` first and,
/// on `GR_EAGAIN`, spawn again without the flag after letting go of the lock.
#[no_mangle]
pub unsafe extern "C" fn gr_spawn(f: gr_fn, arg: *mut c_void, out: *mut *mut gr_handle) -> c_int {
    let spawn_pc = caller_pc!(GR_SPAWN_SLOT);
    // SAFETY: `out` is NULL or writable (gr.h).
    guard(move || unsafe { spawn_common(f, arg, SpawnOpts { spawn_pc, ..SpawnOpts::default() }, out) })
}

/// `gr_spawn` with options (`GR_SPAWN_BOUND`, `GR_SPAWN_LOCAL`, `GR_SPAWN_NOWAIT`, a stack
/// size). `opts` NULL = defaults; unknown flags, or a stack size above `GR_STACK_SIZE_MAX`,
/// give `GR_EINVAL`.
///
/// A bound goroutine holds one of the runtime's threads from this call until it returns (it
/// may block on that thread), so at most `max_threads - workers - 1` exist at once: whatever
/// they do, a thread remains for every processor and for the monitor, and every queued
/// goroutine gets to run (more would let blocked bound goroutines take every thread while
/// the one they wait for sat in a queue: a hang with no error). Beyond that, this call waits
/// up to `opts->timeout_ns` for one to return (it parks a goroutine, blocks a thread), then
/// fails with `GR_EAGAIN` (timeout 0, the default) or `GR_ETIMEDOUT`; nothing is spawned.
///
/// On a plain thread, back-pressure waits as in `gr_spawn` (`timeout_ns` does not bound it);
/// with `GR_SPAWN_NOWAIT`, a spawn that finds the queue full returns `GR_EAGAIN` at once
/// instead, spawning nothing.
#[no_mangle]
pub unsafe extern "C" fn gr_spawn_ex(f: gr_fn, arg: *mut c_void, opts: *const gr_spawn_opts, out: *mut *mut gr_handle) -> c_int {
    let spawn_pc = caller_pc!(GR_SPAWN_EX_SLOT);
    guard(move || {
        // SAFETY: `opts` is NULL or readable (gr.h).
        let o = unsafe { spawn_opts_of(opts, spawn_pc) }?;
        // SAFETY: `out` is NULL or writable (gr.h).
        unsafe { spawn_common(f, arg, o, out) }
    })
}

/// Joins a goroutine: `GR_OK` once `fn` has returned, `GR_EPANIC` if it failed.
#[no_mangle]
pub unsafe extern "C" fn gr_wait(g: *mut gr_handle, timeout_ns: i64) -> c_int {
    // SAFETY: the same arguments, and no cancel token.
    unsafe { gr_wait_ex(g, timeout_ns, std::ptr::null_mut()) }
}

/// `gr_wait` that also ends with `GR_ECANCELED` when `cancel` (may be NULL) fires.
#[no_mangle]
pub unsafe extern "C" fn gr_wait_ex(g: *mut gr_handle, timeout_ns: i64, cancel: *mut gr_cancel) -> c_int {
    guard(move || {
        // SAFETY: handle arguments are NULL or handles of their type (gr.h).
        let (h, c) = unsafe { (gr_handle::get(g)?, cancel_opt(cancel)?) };
        gr_core::join::join(&h.g, Deadline::from_timeout_ns(timeout_ns), c)
    })
}

/// Releases a handle (once; NULL and released handles are ignored). Does not stop the
/// goroutine.
#[no_mangle]
pub unsafe extern "C" fn gr_handle_release(g: *mut gr_handle) {
    // SAFETY: `g` is NULL or a gr_handle, and this is its last use (gr.h).
    unsafe { gr_handle::release(g) }
}

/// The failure message of a goroutine that failed (`gr_wait` returned `GR_EPANIC`), else
/// NULL. Valid until the handle is released.
#[no_mangle]
pub unsafe extern "C" fn gr_handle_error(g: *mut gr_handle) -> *const c_char {
    guard_value(std::ptr::null(), move || {
        // SAFETY: `g` is NULL or a gr_handle (gr.h).
        let Ok(h) = (unsafe { gr_handle::get(g) }) else { return std::ptr::null() };
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
    guard(move || {
        // SAFETY: a non-NULL `msg` is a NUL-terminated string (gr.h).
        let m = if msg.is_null() { None } else { Some(unsafe { CStr::from_ptr(msg) }.to_owned()) };
        sched::fail_current(m)
    })
}

/// Lets other goroutines run: the caller goes behind the goroutines already queued, as Go's
/// `Gosched` (a pinned goroutine waits behind those queued on its processor, with a turn at
/// least every 61 scheduling rounds). Outside goroutines, yields the OS thread.
#[no_mangle]
pub extern "C" fn gr_yield() {
    let _ = guard(move || {
        sched::yield_now();
        Ok(())
    });
}

/// Sleeps `ns` nanoseconds: parks a goroutine, blocks a plain thread. `ns` is read as any
/// `timeout_ns`: 0 and negative values other than `GR_FOREVER` yield (a poll); `GR_FOREVER`
/// sleeps for good (with `gr_sleep_ex`, until the token fires).
#[no_mangle]
pub extern "C" fn gr_sleep(ns: i64) -> c_int {
    guard(move || gr_core::sleep::sleep(ns, None))
}

/// `gr_sleep` that ends early with `GR_ECANCELED` when `cancel` (may be NULL) fires; with
/// `GR_FOREVER`, a wait for the token (Go's `<-ctx.Done()`).
#[no_mangle]
pub unsafe extern "C" fn gr_sleep_ex(ns: i64, cancel: *mut gr_cancel) -> c_int {
    // SAFETY: `cancel` is NULL or a gr_cancel (gr.h).
    guard(move || gr_core::sleep::sleep(ns, unsafe { cancel_opt(cancel) }?))
}

/// The current goroutine's id (> 0), or 0 outside goroutines.
#[no_mangle]
pub extern "C" fn gr_self() -> u64 {
    guard_value(0, sched::self_id)
}

/// Where the caller runs: `GR_CTX_THREAD`, `GR_CTX_COROUTINE` or `GR_CTX_BOUND`.
#[no_mangle]
pub extern "C" fn gr_context() -> c_int {
    guard_value(GR_CTX_THREAD, move || sched::context() as c_int)
}

/// Call before a blocking foreign call (read(2), a lock, a long computation you know of): the
/// goroutine's processor is handed to another thread so other goroutines keep running. No-op
/// outside goroutines. Pair with `gr_blocking_end`.
#[no_mangle]
pub extern "C" fn gr_blocking_begin() {
    let _ = guard(move || {
        sched::blocking_begin();
        Ok(())
    });
}

/// Call after the blocking call: takes a processor back (waiting for one if all are busy).
#[no_mangle]
pub extern "C" fn gr_blocking_end() {
    let _ = guard(move || {
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
/// call `gr_yield`. Returns 0 outside goroutines; in a thread-bound goroutine, 1 only for
/// the queue (its `gr_yield` yields the thread, which lets the goroutines it spawned take a
/// lock it lets go of first). Never suspends.
#[no_mangle]
pub extern "C" fn gr_should_yield() -> c_int {
    guard_value(0, move || sched::should_yield() as c_int)
}

/// Undoes `gr_pin`. `GR_ESTATE` outside goroutines.
#[no_mangle]
pub extern "C" fn gr_unpin() -> c_int {
    guard(sched::unpin)
}
