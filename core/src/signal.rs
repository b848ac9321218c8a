//! Stack-overflow reporting: a SIGSEGV/SIGBUS handler on an alternate signal stack.
//!
//! A fault inside one of our guard pages prints which goroutine overflowed and its stack size,
//! then aborts. Every other fault goes on to the handler the host installed before us (the
//! JVM uses SIGSEGV for implicit null checks; Python's faulthandler hooks it too), or, if
//! there was none, to the default action.
//!
//! Each worker thread gets its own alternate stack (`AltStack`); a fault on a foreign thread
//! without one still reaches the chained handler as usual.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

struct Saved {
    segv: std::cell::UnsafeCell<libc::sigaction>,
    bus: std::cell::UnsafeCell<libc::sigaction>,
}
// SAFETY: written once inside `Once` before the handler is installed, read-only afterwards.
unsafe impl Sync for Saved {}

static SAVED: Saved = Saved {
    // SAFETY: sigaction is plain old data; all-zero is SIG_DFL with an empty mask.
    segv: std::cell::UnsafeCell::new(unsafe { std::mem::zeroed() }),
    // SAFETY: as above.
    bus: std::cell::UnsafeCell::new(unsafe { std::mem::zeroed() }),
};
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Installs the handler once per process (and remembers the host's handlers), unless the
/// environment says `GR_SIGNAL_HANDLERS=0` (hosts that want their own crash reports, e.g. a
/// JVM under `-Xcheck:jni`, which warns that its handler was replaced; a stack overflow then
/// reaches the host's handler as a plain SIGSEGV).
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("GR_SIGNAL_HANDLERS").is_some_and(|v| v == "0") {
            return;
        }
        for (sig, saved) in [(libc::SIGSEGV, &SAVED.segv), (libc::SIGBUS, &SAVED.bus)] {
            // SAFETY: a zeroed sigaction is valid; we fill handler, flags and mask before use,
            // and `saved` is only written here, before our handler can run.
            unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = handler as *const () as usize;
                sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut sa.sa_mask);
                libc::sigaction(sig, &sa, saved.get());
            }
        }
        INSTALLED.store(true, Ordering::Release);
    });
}

fn write_stderr(s: &[u8]) {
    // SAFETY: write(2) on fd 2 with a valid buffer is async-signal-safe.
    unsafe { libc::write(2, s.as_ptr().cast(), s.len()) };
}

/// Formats `n` in decimal into `buf`, returning the digits (async-signal-safe).
fn fmt_u64(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let addr = unsafe { (*info).si_addr() } as usize;
    if let Some(size) = crate::stack::guard_hit(addr) {
        let mut b1 = [0u8; 20];
        let mut b2 = [0u8; 20];
        write_stderr(b"gr: fatal: goroutine ");
        write_stderr(fmt_u64(crate::sched::tls::gid(), &mut b1));
        write_stderr(b" overflowed its stack (");
        write_stderr(fmt_u64(size as u64, &mut b2));
        write_stderr(b" bytes); raise gr_config.stack_size or gr_spawn_opts.stack_size\n");
        // SAFETY: abort is async-signal-safe.
        unsafe { libc::abort() };
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

/// An alternate signal stack for the current thread, removed when dropped.
pub struct AltStack {
    mem: *mut libc::c_void,
    len: usize,
}

impl AltStack {
    pub fn install() -> Option<AltStack> {
        let len = 64 << 10;
        // SAFETY: a fresh anonymous mapping touches no existing memory.
        let mem = unsafe {
            libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0)
        };
        if mem == libc::MAP_FAILED {
            return None;
        }
        let ss = libc::stack_t { ss_sp: mem, ss_flags: 0, ss_size: len };
        // SAFETY: `ss` describes memory we own for as long as this AltStack lives.
        if unsafe { libc::sigaltstack(&ss, std::ptr::null_mut()) } != 0 {
            // SAFETY: unmapping the mapping made above.
            unsafe { libc::munmap(mem, len) };
            return None;
        }
        Some(AltStack { mem, len })
    }
}

impl Drop for AltStack {
    fn drop(&mut self) {
        let ss = libc::stack_t { ss_sp: std::ptr::null_mut(), ss_flags: libc::SS_DISABLE, ss_size: 0 };
        // SAFETY: disabling our alternate stack before unmapping it; no signal handler of this
        // thread runs now (we are in normal code).
        unsafe {
            libc::sigaltstack(&ss, std::ptr::null_mut());
            libc::munmap(self.mem, self.len);
        }
    }
}
