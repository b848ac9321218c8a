//! `GR_TRACEBACK`: SIGQUIT prints the text dump to standard error, and the program carries
//! on (Go exits instead; here the host decides). Opt-in, because the JVM owns SIGQUIT (its
//! thread dump): without `GR_TRACEBACK` gr leaves the signal alone.
//!
//! The handler only counts the signal and wakes a futex (async-signal-safe); the
//! `gr-traceback` thread, started once per process, takes the dump. So the dump runs on a
//! normal thread, with no lock of the interrupted code held.
#![forbid(unsafe_code)]

#[cfg(not(loom))]
use crate::sys::futex;
use crate::sys::signal;
use std::sync::atomic::AtomicU32;
use std::sync::atomic::Ordering::SeqCst;

/// `GR_TRACEBACK`'s value: off, on (`1`, `all`: user frames), or `system` (gr's frames too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Traceback {
    #[default]
    Off,
    On,
    System,
}

impl Traceback {
    pub fn from_env() -> Traceback {
        match std::env::var("GR_TRACEBACK").as_deref().map(str::trim) {
            Ok("1" | "all" | "on" | "yes") => Traceback::On,
            Ok("2" | "system") => Traceback::System,
            _ => Traceback::Off,
        }
    }
}

static MODE: AtomicU32 = AtomicU32::new(0);
/// The process that started the dump thread (a fork()ed child starts its own).
static THREAD_PID: AtomicU32 = AtomicU32::new(0);

/// Installs the handler and starts the dump thread (once per process); later calls only
/// change the mode.
pub(crate) fn enable(mode: Traceback) {
    if mode == Traceback::Off {
        return;
    }
    MODE.store(if mode == Traceback::System { 2 } else { 1 }, SeqCst);
    let pid = std::process::id();
    if THREAD_PID.swap(pid, SeqCst) == pid {
        return;
    }
    #[cfg(not(loom))]
    {
        // Counted before the handler exists: a signal that comes before the thread runs is
        // then still seen as new.
        let seen = signal::QUITS.load(SeqCst);
        signal::install_quit_handler();
        let _ = crate::sys::sanitizer::new_thread(|| std::thread::Builder::new().name("gr-traceback".into()).spawn(move || run(seen)));
    }
}

#[cfg(not(loom))]
fn run(mut seen: u32) {
    crate::sys::sanitizer::internal_thread(false);
    loop {
        futex::wait(&signal::QUITS, seen, None);
        let now = signal::QUITS.load(SeqCst);
        if now == seen {
            continue;
        }
        seen = now;
        print("gr: SIGQUIT: goroutine dump follows (GR_TRACEBACK); the program carries on\n\n");
    }
}

/// Writes `title` and a text dump to standard error.
pub(crate) fn print(title: &str) {
    signal::write_stderr(title.as_bytes());
    match super::snapshot(None, MODE.load(SeqCst) == 2) {
        Some(s) => super::write(&s, super::Format::Text, &mut |b| signal::write_stderr(b)),
        None => signal::write_stderr(b"gr: no runtime is running\n"),
    }
}
