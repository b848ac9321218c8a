//! Goroutine dumps (`gr_dump`, `gr_dump_to`) and goroutine labels for them
//! (`gr_goroutine_label`), over `gr_core::dump`.

use crate::boundary::*;
use gr_core::dump::{self, Format};
use gr_core::{sched, Error};
use std::ffi::{c_char, c_int, c_void};

/// `gr_dump` flags: human-readable text in Go's traceback style (the default).
pub const GR_DUMP_TEXT: u32 = 0;
/// `gr_dump` flags: JSON lines, one object per line (`docs/ABI.md` has the schema).
pub const GR_DUMP_JSON: u32 = 1;
/// `gr_dump` flags: also show gr's own frames at the top of each parked stack.
pub const GR_DUMP_ALL_FRAMES: u32 = 2;

/// `gr_goroutine_label` kinds: a C goroutine (the default).
pub const GR_KIND_C: u32 = 0;
/// A goroutine running Python code (the Python binding).
pub const GR_KIND_PYTHON: u32 = 1;
/// A goroutine running Java code (the Java binding).
pub const GR_KIND_JAVA: u32 = 2;

/// Receives the dump's output, in pieces, in order.
pub type gr_dump_write_fn = Option<unsafe extern "C" fn(buf: *const c_char, len: usize, ctx: *mut c_void)>;

/// A binding's frames for a goroutine it labelled (`gr_goroutine_label`): writes up to `cap`
/// bytes of text (lines, innermost call last or first as the language prints them) into
/// `buf` and returns how many it wrote (0: none). Called during the dump, while that
/// goroutine is held parked (or is the caller), from the thread that called `gr_dump_to`;
/// it must not call gr or block.
pub type gr_dump_frames_fn =
    Option<unsafe extern "C" fn(goroutine: u64, kind: u32, label: *mut c_void, buf: *mut c_char, cap: usize, ctx: *mut c_void) -> usize>;

/// Bytes a frames hook may write per goroutine.
const HOOK_CAP: usize = 16 << 10;

fn format_of(flags: u32) -> Result<(Format, bool), Error> {
    if flags & !(GR_DUMP_JSON | GR_DUMP_ALL_FRAMES) != 0 {
        return Err(Error::Invalid);
    }
    Ok((if flags & GR_DUMP_JSON != 0 { Format::Json } else { Format::Text }, flags & GR_DUMP_ALL_FRAMES != 0))
}

/// Writes a report of every live goroutine to `fd`: per goroutine its id, kind, state and for
/// how long, its wait (with the channel, mutex, WaitGroup, joined goroutine, deadline, cancel
/// token), entry function, creator, pinning, and for a parked goroutine its native backtrace
/// (DWARF CFI from its saved context: works on `-O2` builds without frame pointers; names
/// come from the ELF symbol table). Then one line per worker thread and processor, the
/// threads waiting in gr, and the `gr_stats` figures. `flags`: `GR_DUMP_TEXT` (Go's style)
/// or `GR_DUMP_JSON` (JSON lines), optionally `| GR_DUMP_ALL_FRAMES`. Nothing is stopped:
/// each parked goroutine is held for the microseconds its stack walk takes (its waker waits
/// that long). `GR_ESTATE` if no runtime runs; `GR_EINVAL` for unknown flags or a write
/// error on `fd` (the output may then be partial). Callable from any thread or goroutine.
#[no_mangle]
pub extern "C" fn gr_dump(fd: c_int, flags: u32) -> c_int {
    guard(move || {
        let (fmt, all) = format_of(flags)?;
        let snap = dump::snapshot(None, all).ok_or(Error::State)?;
        let mut failed = false;
        dump::write(&snap, fmt, &mut |b| {
            if !failed {
                failed = !write_all(fd, b);
            }
        });
        if failed {
            Err(Error::Invalid)
        } else {
            Ok(())
        }
    })
}

fn write_all(fd: c_int, mut b: &[u8]) -> bool {
    while !b.is_empty() {
        // SAFETY: `b` is a valid buffer; write(2) reads at most its length.
        let n = unsafe { libc::write(fd, b.as_ptr().cast(), b.len()) };
        if n < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return false;
        }
        b = &b[n as usize..];
    }
    true
}

/// `gr_dump` through a callback: `write(buf, len, ctx)` receives the report in pieces, and
/// `frames` (may be NULL) adds a binding's own frames (a Python traceback) to each goroutine
/// it labelled with `gr_goroutine_label`, above its native frames. `write` runs on the
/// calling thread; neither callback may call gr. `GR_EINVAL` for a NULL `write` or unknown
/// flags; `GR_ESTATE` if no runtime runs.
#[no_mangle]
pub unsafe extern "C" fn gr_dump_to(write: gr_dump_write_fn, frames: gr_dump_frames_fn, ctx: *mut c_void, flags: u32) -> c_int {
    guard(move || {
        let w = write.ok_or(Error::Invalid)?;
        let (fmt, all) = format_of(flags)?;
        let mut buf = vec![0u8; HOOK_CAP];
        let mut hook = |gid: u64, kind: u8, label: usize| -> Option<String> {
            let f = frames?;
            // SAFETY: the caller's hook, with a buffer of HOOK_CAP bytes we own (gr.h).
            let n = unsafe { f(gid, kind as u32, label as *mut c_void, buf.as_mut_ptr().cast(), HOOK_CAP, ctx) }.min(HOOK_CAP);
            (n > 0).then(|| String::from_utf8_lossy(&buf[..n]).into_owned())
        };
        let snap = dump::snapshot(Some(&mut hook), all).ok_or(Error::State)?;
        dump::write(&snap, fmt, &mut |b| {
            // SAFETY: the caller's writer, with a buffer valid for the call (gr.h).
            unsafe { w(b.as_ptr().cast(), b.len(), ctx) }
        });
        Ok(())
    })
}

/// Tags the calling goroutine for dumps: `kind` (`GR_KIND_PYTHON`, `GR_KIND_JAVA`, ...) is
/// shown per goroutine, and `label` (the binding's per-goroutine state: a Python thread
/// state, a Java thread) is handed to `gr_dump_to`'s `frames` hook. `GR_ESTATE` outside
/// goroutines; `GR_EINVAL` for a kind above 255.
#[no_mangle]
pub extern "C" fn gr_goroutine_label(kind: u32, label: *mut c_void) -> c_int {
    guard(move || {
        let k = u8::try_from(kind).map_err(|_| Error::Invalid)?;
        sched::label_current(k, label as usize)
    })
}
