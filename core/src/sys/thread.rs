//! Threads and fork: the runtime's own OS threads (raw `pthread_create`, joined with a
//! deadline), `pthread_atfork`, thread ids; a thread's scheduling statistics, which the
//! monitor reads to tell a goroutine that computes from a thread the OS keeps off the CPU.
//!
//! A runtime thread must either fail to start, which its creator reports as `GR_ENOMEM`, or
//! run. Under memory-mapping exhaustion a new thread can be created (its stack mapped) and
//! yet be unable to allocate anything: glibc's malloc gives each new thread an arena of its
//! own, and when that cannot be mapped every allocation of the thread fails. Rust then aborts
//! the process ("memory allocation failed"), and so does glibc when a thread-local
//! destructor cannot be registered ("failed to register TLS destructor": std registers one
//! for every thread it starts, crossbeam-epoch one for every thread that steals work). So:
//! - ours are plain pthreads, not `std::thread`s;
//! - a new thread first proves it can allocate (`malloc`, which returns NULL instead of
//!   aborting: after that the thread has its arena), then sets up what allocates or
//!   registers destructors on first use (crossbeam-epoch's handle), and only then tells its
//!   creator it runs; a thread that cannot says so and ends;
//! - they are joined with `pthread_clockjoin_np`, which keeps `gr_shutdown`'s deadline
//!   (under ThreadSanitizer, which sees only `pthread_timedjoin_np`, with that).

use super::futex;
use crate::loom::AtomicU32;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering::{Acquire, Release};
use std::time::Instant;

/// Registers `child` to run in the child process after a `fork()` (by any thread), and
/// `prepare`/`parent` around it in the parent. They run where only async-signal-safe work is
/// allowed (the child is single-threaded, with every other thread gone mid-flight).
pub(crate) fn at_fork(prepare: extern "C" fn(), parent: extern "C" fn(), child: extern "C" fn()) {
    // SAFETY: registering handlers has no memory preconditions; they are plain functions for
    // the process's lifetime.
    unsafe { libc::pthread_atfork(Some(prepare), Some(parent), Some(child)) };
}

extern "C" {
    /// glibc >= 2.31: `pthread_join` that gives up at `abstime` on `clockid`.
    fn pthread_clockjoin_np(thread: libc::pthread_t, retval: *mut *mut c_void, clockid: libc::clockid_t, abstime: *const libc::timespec) -> libc::c_int;
}

/// A runtime thread: joined with a deadline, or detached when dropped.
pub(crate) struct Thread(Option<libc::pthread_t>);

struct Start {
    name: [u8; 16],
    f: Box<dyn FnOnce() + Send>,
    /// The creator's futex word: `STARTING`, then `RUNS` or `CANNOT`.
    ready: *const AtomicU32,
}

const STARTING: u32 = 0;
const RUNS: u32 = 1;
const CANNOT: u32 = 2;

/// Bytes a new thread must be able to allocate before it runs (its first arena chunk).
const PROBE: usize = 64 << 10;

/// Whether this (new) thread can allocate: a small block comes from an arena (glibc gives
/// a thread that could not map an arena of its own a page-sized mapping per block instead,
/// and nothing at all once mappings run out), and `PROBE` bytes can be had. With another
/// malloc (jemalloc, tcmalloc) a small block is a small size class too.
fn can_allocate() -> bool {
    // SAFETY: malloc/free of our own blocks; `malloc_usable_size` of a live block.
    unsafe {
        let small = libc::malloc(64);
        if small.is_null() {
            return false;
        }
        let arena = libc::malloc_usable_size(small) < 1024;
        let big = libc::malloc(PROBE);
        libc::free(big);
        libc::free(small);
        arena && !big.is_null()
    }
}

extern "C" fn start(arg: *mut c_void) -> *mut c_void {
    // SAFETY: `arg` is the `Box<Start>` that `spawn` leaked for this thread, passed once.
    let s = unsafe { Box::from_raw(arg.cast::<Start>()) };
    // SAFETY: `name` is NUL-terminated (at most 15 bytes of name); prctl reads it.
    unsafe { libc::prctl(libc::PR_SET_NAME, s.name.as_ptr() as libc::c_ulong, 0, 0, 0) };
    let Start { f, ready, .. } = *s;
    let ok = can_allocate();
    if ok {
        // Before any thread-local with a destructor: under ThreadSanitizer, this thread's
        // ignore ends as the last of them runs (`sanitizer::internal_thread`), so the
        // epoch handle's, made next, must be destroyed before it, still ignored.
        crate::sys::sanitizer::internal_thread();
        // Allocates, and registers a TLS destructor, on first use: now, while it can.
        let _ = crossbeam_epoch::is_pinned();
    }
    // SAFETY: the creator waits on `ready` until it changes (`spawn`), so it is alive.
    let word = unsafe { &*ready };
    word.store(if ok { RUNS } else { CANNOT }, Release);
    futex::wake(word);
    if !ok {
        drop(f); // frees nothing this thread allocated: `f` was made by the creator
        return std::ptr::null_mut();
    }
    if catch_unwind(AssertUnwindSafe(f)).is_err() {
        crate::fatal("a runtime thread panicked"); // never unwind out of a thread's start routine
    }
    std::ptr::null_mut()
}

/// Starts a thread named `name` (truncated to 15 bytes) with a stack of `stack` bytes
/// running `f`, once it is sure to run (module docs). `None` when the OS refuses (out of
/// memory, of mappings or of threads); `f` is then dropped.
pub(crate) fn spawn(name: &str, stack: usize, f: Box<dyn FnOnce() + Send>) -> Option<Thread> {
    let mut n = [0u8; 16];
    let len = name.len().min(15);
    n[..len].copy_from_slice(&name.as_bytes()[..len]);
    let ready = AtomicU32::new(STARTING);
    let arg = Box::into_raw(Box::new(Start { name: n, f, ready: &ready }));
    // SAFETY: plain pthread calls on a local attribute object; on success the new thread owns
    // `arg` (`start` frees it), on failure we take it back.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_attr_init(&mut attr) != 0 {
            drop(Box::from_raw(arg));
            return None;
        }
        libc::pthread_attr_setstacksize(&mut attr, stack.max(libc::PTHREAD_STACK_MIN));
        let mut t: libc::pthread_t = 0;
        let rc = libc::pthread_create(&mut t, &attr, start, arg.cast());
        libc::pthread_attr_destroy(&mut attr);
        if rc != 0 {
            drop(Box::from_raw(arg));
            return None;
        }
        let t = Thread(Some(t));
        loop {
            match ready.load(Acquire) {
                STARTING => futex::wait(&ready, STARTING, None),
                RUNS => return Some(t),
                _ => {
                    let _ = t.join_until(None); // it ends at once
                    return None;
                }
            }
        }
    }
}

impl Thread {
    /// Waits for the thread to end, until `deadline` (`None`: without limit). `Err(self)`
    /// if it still runs at the deadline.
    pub(crate) fn join_until(mut self, deadline: Option<Instant>) -> Result<(), Thread> {
        let t = self.0.take().expect("a thread is joined once");
        let rc = match deadline {
            // SAFETY: `t` is a joinable thread of ours, joined (or detached) exactly once.
            None => unsafe { libc::pthread_join(t, std::ptr::null_mut()) },
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                // ThreadSanitizer intercepts pthread_timedjoin_np but not pthread_clockjoin_np:
                // a join it does not see is reported as a leaked thread at exit. Under it, the
                // realtime clock then (whose jumps would stretch a deadline: never otherwise).
                let clock = if crate::sys::sanitizer::tsan() { libc::CLOCK_REALTIME } else { libc::CLOCK_MONOTONIC };
                let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
                // SAFETY: writes the current time of `clock` into `now`.
                unsafe { libc::clock_gettime(clock, &mut now) };
                let ns = now.tv_nsec as u64 + left.subsec_nanos() as u64;
                let abs = libc::timespec {
                    tv_sec: now.tv_sec.saturating_add(left.as_secs().min(i64::MAX as u64 / 2) as libc::time_t + (ns / 1_000_000_000) as libc::time_t),
                    tv_nsec: (ns % 1_000_000_000) as libc::c_long,
                };
                // SAFETY: as above; on ETIMEDOUT the thread stays joinable.
                unsafe {
                    if clock == libc::CLOCK_REALTIME {
                        libc::pthread_timedjoin_np(t, std::ptr::null_mut(), &abs)
                    } else {
                        pthread_clockjoin_np(t, std::ptr::null_mut(), libc::CLOCK_MONOTONIC, &abs)
                    }
                }
            }
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(Thread(Some(t)))
        }
    }
}

impl Drop for Thread {
    fn drop(&mut self) {
        if let Some(t) = self.0.take() {
            // SAFETY: a joinable thread of ours, never joined: let it end on its own.
            unsafe { libc::pthread_detach(t) };
        }
    }
}

/// A thread-exit hook without `__cxa_thread_atexit_impl` (which aborts the process when it
/// cannot allocate): a pthread key whose destructor gets the value set on each thread.
/// Setting it allocates nothing for a process's first 32 keys, and otherwise fails cleanly
/// (then the caller does without the hook). The key is made on first use, lock-free (a
/// `Once` could be left mid-call by another thread at `fork()`).
pub struct ExitKey {
    /// The key + 1, or 0 before first use.
    key: std::sync::atomic::AtomicUsize,
    dtor: unsafe extern "C" fn(*mut c_void),
}

impl ExitKey {
    pub const fn new(dtor: unsafe extern "C" fn(*mut c_void)) -> ExitKey {
        ExitKey { key: std::sync::atomic::AtomicUsize::new(0), dtor }
    }

    /// Arranges `dtor(v)` when this thread exits (`v` non-NULL). `false` if it cannot.
    #[allow(clippy::not_unsafe_ptr_arg_deref)] // `v` is stored, never dereferenced here
    pub fn set(&self, v: *mut c_void) -> bool {
        use std::sync::atomic::Ordering::AcqRel;
        let mut k = self.key.load(std::sync::atomic::Ordering::Acquire);
        if k == 0 {
            let mut nk: libc::pthread_key_t = 0;
            // SAFETY: creates a key with our destructor, a plain function for the process's
            // lifetime.
            if unsafe { libc::pthread_key_create(&mut nk, Some(self.dtor)) } != 0 {
                return false;
            }
            k = match self.key.compare_exchange(0, nk as usize + 1, AcqRel, std::sync::atomic::Ordering::Acquire) {
                Ok(_) => nk as usize + 1,
                Err(other) => {
                    // SAFETY: our own key, unused: another thread made the one to use.
                    unsafe { libc::pthread_key_delete(nk) };
                    other
                }
            };
        }
        // SAFETY: a key made above; storing a pointer value has no memory preconditions.
        unsafe { libc::pthread_setspecific((k - 1) as libc::pthread_key_t, v) == 0 }
    }
}

/// The calling thread's kernel id.
pub(crate) fn gettid() -> i32 {
    // SAFETY: gettid(2) has no preconditions.
    unsafe { libc::gettid() }
}

/// Nanoseconds thread `tid` of this process has run on a CPU and has waited, runnable, for
/// one (`/proc/self/task/TID/schedstat`); `None` where the kernel does not keep them.
pub(crate) fn schedstat(tid: i32) -> Option<(u64, u64)> {
    let s = std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat")).ok()?;
    let mut it = s.split_ascii_whitespace().map(|v| v.parse::<u64>().ok());
    Some((it.next()??, it.next()??))
}

/// Whether more threads are runnable on this machine right now than it has CPUs online, plus
/// one (`/proc/loadavg`'s fourth field counts every runnable thread, the caller's included;
/// in a container, the host's). A probe for slow paths (a file read: `waiter::crowd`);
/// `false` where it cannot tell.
pub(crate) fn cpus_oversubscribed() -> bool {
    let Ok(s) = std::fs::read_to_string("/proc/loadavg") else {
        return false;
    };
    let running = s.split_ascii_whitespace().nth(3).and_then(|f| f.split('/').next()).and_then(|n| n.parse::<i64>().ok());
    // SAFETY: sysconf has no preconditions.
    let cpus = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) } as i64;
    matches!(running, Some(r) if cpus > 0 && r > cpus + 1)
}

/// The scheduling state letter of thread `tid` of this process (`R` runnable or running, `S`
/// sleeping, `D` in uninterruptible wait...), from `/proc/self/task/TID/stat`.
pub(crate) fn state(tid: i32) -> Option<char> {
    let s = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
    // "pid (comm) S ...": the comm may hold spaces and parentheses; the state follows the last ')'.
    s.rsplit_once(')')?.1.trim_start().chars().next()
}
