//! Descriptor exports (`gr_fd_*`) over `gr_core::netpoll`: waiting on file descriptors and
//! goroutine-aware I/O.
//!
//! Failed system calls are reported in the status itself, `GR_EOS - errno` (`gr_os_errno`
//! recovers it): `errno` is a thread's, and a goroutine that waited may return on another
//! thread.

use crate::boundary::*;
use crate::cancel::{cancel_opt, gr_cancel};
use gr_core::netpoll::ops;
use gr_core::{Deadline, Error};
use std::ffi::{c_int, c_void};

/// `gr_fd_wait` events: readable (data, end of file, a connection to accept, or an error or
/// hang-up pending).
pub const GR_READ: u32 = 1;
/// `gr_fd_wait` events: writable (buffer space, a finished connect, or an error or hang-up
/// pending).
pub const GR_WRITE: u32 = 2;

fn buf_ok<T>(buf: *const T, len: usize) -> Result<(), Error> {
    if buf.is_null() && len > 0 {
        Err(Error::Invalid)
    } else {
        Ok(())
    }
}

/// Waits until `fd` is ready for `events` (`GR_READ`, `GR_WRITE` or both), or has an error
/// or hang-up pending (which the next read or write reports). In a goroutine this parks only
/// the goroutine; on a plain thread it blocks the thread.
///
/// Level-correct: data that arrived before the call counts (the call looks with poll(2)
/// first), and `GR_OK` is returned only for a descriptor that was ready after the call
/// began. Results: `GR_OK`, `GR_ETIMEDOUT` (`GR_EAGAIN` for `timeout_ns == 0`),
/// `GR_ECLOSED` (`gr_fd_close`/`gr_fd_forget` on `fd` meanwhile), `GR_EINVAL` (negative
/// `fd`, no or unknown event bits), `GR_ENOTPOLL` (a regular file or directory, which epoll
/// refuses), `GR_EOS - EBADF` (`fd` not open). The descriptor's blocking mode is left
/// alone. Unlike the other `gr_fd_*` calls, it tolerates a descriptor its owner closes with
/// close(2) instead of `gr_fd_close` (a library's socket, a pipe): a later wait on the
/// reused number works (it re-arms the registration before it parks).
#[no_mangle]
pub extern "C" fn gr_fd_wait(fd: c_int, events: u32, timeout_ns: i64) -> c_int {
    // SAFETY: a NULL token is always valid.
    unsafe { gr_fd_wait_ex(fd, events, timeout_ns, std::ptr::null_mut()) }
}

/// `gr_fd_wait` that also ends with `GR_ECANCELED` when `cancel` (may be NULL) fires.
#[no_mangle]
pub unsafe extern "C" fn gr_fd_wait_ex(fd: c_int, events: u32, timeout_ns: i64, cancel: *mut gr_cancel) -> c_int {
    guard(move || {
        // SAFETY: `cancel` is NULL or a gr_cancel (gr.h).
        let c = unsafe { cancel_opt(cancel) }?;
        ops::wait(fd, events, Deadline::from_timeout_ns(timeout_ns), c)
    })
}

/// Reads up to `len` bytes into `buf`, waiting up to `timeout_ns` for data; `*nread` gets
/// the count, 0 at end of file (a peer's close or shutdown). One read: fewer bytes than
/// asked may come. Works on sockets, pipes, ttys and other pollable descriptors (the first
/// read puts a non-socket in O_NONBLOCK mode; sockets are read with `MSG_DONTWAIT` and keep
/// their mode), and on regular files, which are read inside a blocking section (the
/// goroutine's processor moves to another thread meanwhile). Errors: `GR_ETIMEDOUT`
/// (`GR_EAGAIN` for `timeout_ns == 0`), `GR_ECANCELED`, `GR_ECLOSED`, `GR_EINVAL`,
/// `GR_EOS - errno` for a failed read (e.g. `ECONNRESET`).
#[no_mangle]
pub unsafe extern "C" fn gr_fd_read(fd: c_int, buf: *mut c_void, len: usize, timeout_ns: i64, cancel: *mut gr_cancel, nread: *mut usize) -> c_int {
    guard(move || {
        buf_ok(buf, len)?;
        // SAFETY: `cancel` is NULL or a gr_cancel (gr.h).
        let c = unsafe { cancel_opt(cancel) }?;
        // SAFETY: `buf` is valid for writes of `len` bytes (gr.h).
        let n = unsafe { ops::read(fd, buf.cast(), len, Deadline::from_timeout_ns(timeout_ns), c) }?;
        // SAFETY: `nread` is NULL or writable (gr.h).
        unsafe { write_out(nread, n) };
        Ok(())
    })
}

/// Writes all `len` bytes of `buf`, waiting up to `timeout_ns` in total for buffer space.
/// `*nwritten` (may be NULL) gets how many bytes went out, whatever the result: `len` on
/// `GR_OK`, fewer after a timeout, a cancel, a close or an error. Sockets are written with
/// `MSG_NOSIGNAL`; on other descriptors SIGPIPE is blocked in the calling thread around
/// each write and a SIGPIPE the write raised is consumed, so a write to a pipe whose reader
/// is gone fails with `GR_EOS - EPIPE` instead of killing the process. Other descriptors are
/// put in O_NONBLOCK mode (pipes...) or written in a blocking section (regular files), as for
/// `gr_fd_read`.
#[no_mangle]
pub unsafe extern "C" fn gr_fd_write(fd: c_int, buf: *const c_void, len: usize, timeout_ns: i64, cancel: *mut gr_cancel, nwritten: *mut usize) -> c_int {
    let mut sent = 0usize;
    let r = guard(|| {
        buf_ok(buf, len)?;
        // SAFETY: `cancel` is NULL or a gr_cancel (gr.h).
        let c = unsafe { cancel_opt(cancel) }?;
        // SAFETY: `buf` is valid for reads of `len` bytes (gr.h).
        unsafe { ops::write(fd, buf.cast(), len, true, Deadline::from_timeout_ns(timeout_ns), c, &mut sent) }
    });
    // SAFETY: `nwritten` is NULL or writable (gr.h).
    unsafe { write_out(nwritten, sent) };
    r
}

/// `recv(2)` on a socket, waiting up to `timeout_ns` for data: `flags` as recv's
/// (`MSG_PEEK`, `MSG_WAITALL`...; `MSG_DONTWAIT` is added). `*nread` gets the count (0 at
/// end of stream). Errors as `gr_fd_read`; `GR_EOS - ENOTSOCK` for a non-socket.
#[no_mangle]
pub unsafe extern "C" fn gr_fd_recv(fd: c_int, buf: *mut c_void, len: usize, flags: c_int, timeout_ns: i64, cancel: *mut gr_cancel, nread: *mut usize) -> c_int {
    // SAFETY: the same contract, with no address wanted.
    unsafe { gr_fd_recvfrom(fd, buf, len, flags, std::ptr::null_mut(), std::ptr::null_mut(), timeout_ns, cancel, nread) }
}

/// `recvfrom(2)` on a socket: as `gr_fd_recv`, and the sender's address into `addr` (may be
/// NULL) with `*addrlen` in/out as recvfrom's (written only on success).
#[no_mangle]
pub unsafe extern "C" fn gr_fd_recvfrom(
    fd: c_int,
    buf: *mut c_void,
    len: usize,
    flags: c_int,
    addr: *mut libc::sockaddr,
    addrlen: *mut libc::socklen_t,
    timeout_ns: i64,
    cancel: *mut gr_cancel,
    nread: *mut usize,
) -> c_int {
    guard(move || {
        buf_ok(buf, len)?;
        if !addr.is_null() && addrlen.is_null() {
            return Err(Error::Invalid);
        }
        // SAFETY: `cancel` is NULL or a gr_cancel (gr.h).
        let c = unsafe { cancel_opt(cancel) }?;
        // SAFETY: `buf` is valid for writes of `len` bytes, `addr`/`addrlen` NULL or valid as
        // recvfrom(2) needs them (gr.h).
        let n = unsafe { ops::recv(fd, buf.cast(), len, flags, addr, addrlen, Deadline::from_timeout_ns(timeout_ns), c) }?;
        // SAFETY: `nread` is NULL or writable (gr.h).
        unsafe { write_out(nread, n) };
        Ok(())
    })
}

/// `send(2)` on a socket: one successful call, which may send fewer than `len` bytes
/// (Python's `socket.send`), waiting up to `timeout_ns` for buffer space. `flags` as send's;
/// `MSG_DONTWAIT | MSG_NOSIGNAL` are added. `*nsent` (may be NULL) gets the count, whatever
/// the result. Errors as `gr_fd_write` (`GR_EOS - EPIPE` or `GR_EOS - ECONNRESET` for a
/// closed peer).
#[no_mangle]
pub unsafe extern "C" fn gr_fd_send(fd: c_int, buf: *const c_void, len: usize, flags: c_int, timeout_ns: i64, cancel: *mut gr_cancel, nsent: *mut usize) -> c_int {
    // SAFETY: the caller's contract is `send_common`'s.
    unsafe { send_common(fd, buf, len, flags, std::ptr::null(), 0, false, timeout_ns, cancel, nsent) }
}

/// `gr_fd_send` until all `len` bytes are sent (Python's `socket.sendall`): `timeout_ns`
/// bounds the whole call.
#[no_mangle]
pub unsafe extern "C" fn gr_fd_sendall(fd: c_int, buf: *const c_void, len: usize, flags: c_int, timeout_ns: i64, cancel: *mut gr_cancel, nsent: *mut usize) -> c_int {
    // SAFETY: the caller's contract is `send_common`'s.
    unsafe { send_common(fd, buf, len, flags, std::ptr::null(), 0, true, timeout_ns, cancel, nsent) }
}

/// `sendto(2)` on a socket: as `gr_fd_send`, to `addr` (`addrlen` bytes; NULL/0 for a
/// connected socket).
#[no_mangle]
pub unsafe extern "C" fn gr_fd_sendto(
    fd: c_int,
    buf: *const c_void,
    len: usize,
    flags: c_int,
    addr: *const libc::sockaddr,
    addrlen: libc::socklen_t,
    timeout_ns: i64,
    cancel: *mut gr_cancel,
    nsent: *mut usize,
) -> c_int {
    // SAFETY: the caller's contract is `send_common`'s.
    unsafe { send_common(fd, buf, len, flags, addr, addrlen, false, timeout_ns, cancel, nsent) }
}

/// # Safety
/// `buf` valid for reads of `len` bytes; `addr` NULL or valid for `addrlen` bytes; `cancel`
/// NULL or a gr_cancel; `nsent` NULL or writable (gr.h).
#[allow(clippy::too_many_arguments)]
unsafe fn send_common(
    fd: c_int,
    buf: *const c_void,
    len: usize,
    flags: c_int,
    addr: *const libc::sockaddr,
    addrlen: libc::socklen_t,
    all: bool,
    timeout_ns: i64,
    cancel: *mut gr_cancel,
    nsent: *mut usize,
) -> c_int {
    let mut sent = 0usize;
    let r = guard(|| {
        buf_ok(buf, len)?;
        // SAFETY: `cancel` is NULL or a gr_cancel (the function's contract).
        let c = unsafe { cancel_opt(cancel) }?;
        // SAFETY: `buf` and `addr` as the function's contract says.
        unsafe { ops::send(fd, buf.cast(), len, flags, addr, addrlen, all, Deadline::from_timeout_ns(timeout_ns), c, &mut sent) }
    });
    // SAFETY: `nsent` is NULL or writable (the function's contract).
    unsafe { write_out(nsent, sent) };
    r
}

/// Accepts a connection on a listening socket (which this puts in O_NONBLOCK mode), waiting
/// up to `timeout_ns` for one. `*out_fd` gets the new socket; `flags` as accept4's
/// (`SOCK_NONBLOCK`, `SOCK_CLOEXEC`); `addr`/`addrlen` (may be NULL) as accept4's, written
/// only on success. A connection reset while queued (`ECONNABORTED`) is skipped, as Go does.
#[no_mangle]
pub unsafe extern "C" fn gr_fd_accept(
    fd: c_int,
    addr: *mut libc::sockaddr,
    addrlen: *mut libc::socklen_t,
    flags: c_int,
    timeout_ns: i64,
    cancel: *mut gr_cancel,
    out_fd: *mut c_int,
) -> c_int {
    guard(move || {
        nonnull(out_fd)?;
        if !addr.is_null() && addrlen.is_null() {
            return Err(Error::Invalid);
        }
        // SAFETY: `cancel` is NULL or a gr_cancel (gr.h).
        let c = unsafe { cancel_opt(cancel) }?;
        // SAFETY: `addr`/`addrlen` are NULL or valid as accept4(2) needs them (gr.h).
        let nfd = unsafe { ops::accept(fd, addr, addrlen, flags, Deadline::from_timeout_ns(timeout_ns), c) }?;
        // SAFETY: `out_fd` is non-NULL, hence writable (gr.h).
        unsafe { out_fd.write(nfd) };
        Ok(())
    })
}

/// Connects a socket (which this puts in O_NONBLOCK mode) to `addr`, waiting up to
/// `timeout_ns` for the connection to be established. `GR_EOS - ECONNREFUSED` and the like
/// when it fails. With `timeout_ns == 0`, or after `GR_ETIMEDOUT`, the attempt goes on in the
/// kernel: `gr_fd_wait(fd, GR_WRITE, ...)` then `getsockopt(SO_ERROR)` tells how it ended,
/// as after a non-blocking connect(2)'s `EINPROGRESS` (`GR_EAGAIN` here).
#[no_mangle]
pub unsafe extern "C" fn gr_fd_connect(fd: c_int, addr: *const libc::sockaddr, addrlen: libc::socklen_t, timeout_ns: i64, cancel: *mut gr_cancel) -> c_int {
    guard(move || {
        nonnull(addr)?;
        // SAFETY: `cancel` is NULL or a gr_cancel (gr.h).
        let c = unsafe { cancel_opt(cancel) }?;
        // SAFETY: `addr` is valid for `addrlen` bytes (gr.h).
        unsafe { ops::connect(fd, addr, addrlen, Deadline::from_timeout_ns(timeout_ns), c) }
    })
}

/// Closes `fd` for everyone waiting on it: every goroutine and thread blocked in a
/// `gr_fd_*` call on it returns `GR_ECLOSED`, its registration is forgotten, and the
/// descriptor is closed, at once or, while such calls are still returning, by the last of
/// them (the number is not reused before, so none of them can touch a new file that gets
/// it). Later calls on the number start afresh (generation-tagged registrations: no old
/// readiness or waiter reaches the new file). Returns close(2)'s result when it closes at
/// once (`GR_EOS - EBADF` for a number that is not open), else `GR_OK`; `GR_ECLOSED` if a
/// close is already in progress. Close descriptors that gr has seen with this (or
/// `gr_fd_forget` first): a close(2) behind gr's back leaves a stale registration that a
/// reused number would inherit.
#[no_mangle]
pub extern "C" fn gr_fd_close(fd: c_int) -> c_int {
    guard(move || ops::close(fd, false))
}

/// Forgets `fd` without closing it: as `gr_fd_close` (waiters get `GR_ECLOSED`, the
/// registration goes), but the descriptor stays open and is the caller's again, e.g. to be
/// closed with close(2), passed to a library, or `dup2`'d over. Takes effect at once: do not
/// race it with other calls on `fd`.
#[no_mangle]
pub extern "C" fn gr_fd_forget(fd: c_int) -> c_int {
    guard(move || ops::close(fd, true))
}
