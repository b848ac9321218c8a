//! Stack-overflow reporting: a fault inside one of our guard pages prints which goroutine
//! overflowed and its stack size, then aborts (under AddressSanitizer, it then lets ASan's
//! handler make its "stack-overflow" report instead).
//!
//! The mechanism (the SIGSEGV/SIGBUS handler on an alternate stack, chaining every other
//! fault to the host's handler or the default action) is `sys/signal.rs`; this is the policy.
//! Each worker thread gets its own alternate stack (`sys::signal::AltStack`); a fault on a
//! foreign thread without one still reaches the chained handler as usual.
#![forbid(unsafe_code)]

use crate::sys::signal::{abort, install_fault_handler, write_stderr};
use std::sync::Once;

/// Installs the handler once per process, unless the environment says
/// `GR_SIGNAL_HANDLERS=0` (hosts that want their own crash reports, e.g. a JVM under
/// `-Xcheck:jni`, which warns that its handler was replaced; a stack overflow then reaches
/// the host's handler as a plain SIGSEGV).
pub(crate) fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("GR_SIGNAL_HANDLERS").is_some_and(|v| v == "0") {
            return;
        }
        install_fault_handler(on_fault);
    });
}

/// Runs inside the signal handler: async-signal-safe work only (atomics, write, abort).
fn on_fault(addr: usize) {
    if let Some(size) = crate::stack::guard_hit(addr) {
        let mut b1 = [0u8; 20];
        let mut b2 = [0u8; 20];
        write_stderr(b"gr: fatal: goroutine ");
        write_stderr(fmt_u64(crate::sched::tls::gid(), &mut b1));
        write_stderr(b" overflowed its stack (");
        write_stderr(fmt_u64(size as u64, &mut b2));
        write_stderr(b" bytes); raise gr_config.stack_size or gr_spawn_opts.stack_size\n");
        if crate::sys::sanitizer::asan_known() {
            // AddressSanitizer's handler (installed before ours) makes the fuller report, with
            // the goroutine's stack, and ends the process: hand the fault on to it.
            return;
        }
        abort();
    }
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
