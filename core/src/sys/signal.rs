//! Signals: the process's SIGSEGV/SIGBUS handler with chaining to the host's, per-thread
//! alternate signal stacks, and async-signal-safe output for use inside a handler.
//!
//! The handler asks a hook (the core's stack-overflow report, `overflow.rs`) about the
//! faulting address; if the hook returns, the fault goes on to the handler the host
//! installed before us (the JVM uses SIGSEGV for implicit null checks; Python's
//! faulthandler hooks it too), or, if there was none, to the default action.

use super::mem::Mapping;
use std::cell::UnsafeCell;
use std::sync::OnceLock;

/// What the handler asks about a fault: called with the faulting address on the alternate
/// stack, inside the signal handler, so it may only do async-signal-safe work. Returns if
/// the fault is not its business.
pub(crate) type FaultHook = fn(addr: usize);

static HOOK: OnceLock<FaultHook> = OnceLock::new();

struct Saved {
    segv: UnsafeCell<libc::sigaction>,
    bus: UnsafeCell<libc::sigaction>,
}
// SAFETY: written once, in `install_fault_handler` (which the caller runs once), before our
// handler is installed; read-only afterwards.
unsafe impl Sync for Saved {}

static SAVED: Saved = Saved {
    // SAFETY: sigaction is plain old data; all-zero is SIG_DFL with an empty mask.
    segv: UnsafeCell::new(unsafe { std::mem::zeroed() }),
    // SAFETY: as above.
    bus: UnsafeCell::new(unsafe { std::mem::zeroed() }),
};

/// Installs the SIGSEGV and SIGBUS handler (run on the thread's alternate stack when it has
/// one), remembering the host's handlers. Call at most once per process (the caller's `Once`).
pub(crate) fn install_fault_handler(hook: FaultHook) {
    if HOOK.set(hook).is_err() {
        return; // installed already
    }
    for (sig, saved) in [(libc::SIGSEGV, &SAVED.segv), (libc::SIGBUS, &SAVED.bus)] {
        // SAFETY: a zeroed sigaction is valid; we fill handler, flags and mask before use,
        // and `saved` is written only here, once (guarded by `HOOK`), before our handler
        // can run.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = handler as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, saved.get());
        }
    }
}

extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let addr = unsafe { (*info).si_addr() } as usize;
    if let Some(hook) = HOOK.get() {
        hook(addr);
    }
    chain(sig, info, ctx);
}

fn chain(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let saved = if sig == libc::SIGSEGV { &SAVED.segv } else { &SAVED.bus };
    // SAFETY: `saved` was filled before our handler was installed and never changes.
    let old = unsafe { &*saved.get() };
    let h = old.sa_sigaction;
    if h == libc::SIG_IGN {
        return;
    }
    if h == libc::SIG_DFL {
        // Restore the default action and return: the faulting instruction runs again and the
        // kernel applies it (core dump), as if we had never been here.
        // SAFETY: resetting a signal to SIG_DFL is async-signal-safe.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
        return;
    }
    if old.sa_flags & libc::SA_SIGINFO != 0 {
        // SAFETY: the host installed this three-argument handler for this signal.
        let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) = unsafe { std::mem::transmute(h) };
        f(sig, info, ctx);
    } else {
        // SAFETY: the host installed this one-argument handler for this signal.
        let f: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(h) };
        f(sig);
    }
}

/// Writes `s` to standard error (async-signal-safe; errors ignored).
pub(crate) fn write_stderr(s: &[u8]) {
    // SAFETY: write(2) on fd 2 with a valid buffer is async-signal-safe.
    unsafe { libc::write(2, s.as_ptr().cast(), s.len()) };
}

/// Ends the process with SIGABRT (async-signal-safe; no unwinding, no atexit handlers).
pub(crate) fn abort() -> ! {
    // SAFETY: abort(3) has no preconditions and is async-signal-safe.
    unsafe { libc::abort() }
}

/// An alternate signal stack for the current thread, removed when dropped.
pub(crate) struct AltStack {
    /// The stack's memory, unmapped when this drops (after `drop` below disabled it).
    _mem: Mapping,
}

impl AltStack {
    pub(crate) fn install() -> Option<AltStack> {
        let mem = Mapping::anon(64 << 10, false)?;
        let ss = libc::stack_t { ss_sp: mem.addr() as *mut libc::c_void, ss_flags: 0, ss_size: mem.len() };
        // SAFETY: `ss` describes memory we own for as long as this AltStack lives.
        if unsafe { libc::sigaltstack(&ss, std::ptr::null_mut()) } != 0 {
            return None; // `mem` is unmapped as it drops
        }
        Some(AltStack { _mem: mem })
    }
}

impl Drop for AltStack {
    fn drop(&mut self) {
        let ss = libc::stack_t { ss_sp: std::ptr::null_mut(), ss_flags: libc::SS_DISABLE, ss_size: 0 };
        // SAFETY: disabling our alternate stack before `_mem` is unmapped (fields drop after
        // this); no signal handler of this thread runs now (we are in normal code).
        unsafe { libc::sigaltstack(&ss, std::ptr::null_mut()) };
    }
}

/// Counts SIGQUITs delivered while the traceback handler is installed; the dump thread waits
/// on it (`futex`): the handler only increments and wakes, which is async-signal-safe.
#[cfg(not(loom))]
pub(crate) static QUITS: crate::loom::AtomicU32 = crate::loom::AtomicU32::new(0);

/// Installs the SIGQUIT handler of `GR_TRACEBACK=1` (once per process): each SIGQUIT bumps
/// [`QUITS`] and wakes its waiter; the process carries on. Without the opt-in gr never
/// touches SIGQUIT (the JVM uses it for its thread dumps).
#[cfg(not(loom))]
pub(crate) fn install_quit_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    extern "C" fn on_quit(_sig: libc::c_int) {
        QUITS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        super::futex::wake(&QUITS);
    }
    ONCE.call_once(|| {
        // SAFETY: a zeroed sigaction is valid; we fill the handler, flags and mask. The
        // handler only touches an atomic and makes one system call (async-signal-safe).
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_quit as *const () as usize;
            sa.sa_flags = libc::SA_RESTART | libc::SA_ONSTACK;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(libc::SIGQUIT, &sa, std::ptr::null_mut());
        }
    });
}
