//! The descriptor operations behind `gr_fd_*`: try the system call first, wait for an edge
//! only on `EAGAIN` (Go's `internal/poll/fd_unix.go`), retry on `EINTR`.
//!
//! Every operation holds a reference on its descriptor from start to return (`Op`), so a
//! `gr_fd_close` meanwhile wakes it with `Closed` and the number is not reused under it: the
//! last operation to leave performs the `close(2)`.
//!
//! Non-blocking mode: sockets are read and written with `MSG_DONTWAIT` (their file flags are
//! left alone), except that `accept` and `connect` put the socket in O_NONBLOCK mode. Other
//! pollable descriptors (pipes, ttys...) are put in O_NONBLOCK mode by their first read or
//! write through us. Descriptors epoll refuses (regular files) are read and written inside
//! a blocking section (`sched::blocking_begin`), so the processor moves to another thread.
//!
//! SIGPIPE: socket writes pass `MSG_NOSIGNAL`; other writes block SIGPIPE in the calling
//! thread around the call and consume the one a broken pipe raised (`SigpipeGuard`), so a
//! write to a closed pipe fails with `EPIPE` and never kills the process.

use super::desc::{Desc, Register, FILE, READ, SOCKET, UNKNOWN, WRITE};
use super::{Poller, CLOSED, READY, SHUTDOWN};
use crate::cancel::Cancel;
use crate::error::{Error, Result};
use crate::sched::{self, Runtime};
use crate::sys::fd as sys;
use crate::waiter::{self, Deadline};
use crate::waitreason::{kind, WaitReason};
use std::sync::atomic::Ordering::SeqCst;

/// `events` bits of [`wait`] (the ABI's `GR_READ` / `GR_WRITE`).
pub const EV_READ: u32 = 1;
pub const EV_WRITE: u32 = 2;

/// One operation in flight on a descriptor (holds a reference of generation `gen`, and the
/// runtime: `_held`, released after `drop` below, so that a `gr_shutdown` meanwhile does not
/// free the poller and its table under a plain thread's operation).
struct Op {
    _held: sched::Held,
    rt: &'static Runtime,
    p: &'static Poller,
    d: &'static Desc,
    fd: i32,
    gen: u32,
    kind: u8,
    /// Ends at a safe point (`Drop`): not for a poll (timeout 0), which never suspends the
    /// caller (gr.h).
    yields: bool,
}

impl Drop for Op {
    fn drop(&mut self) {
        if self.d.release(self.gen) {
            let _ = finish_close(self.d, self.fd, self.gen);
        }
        // A safe point (`sched/monitor.rs`): a goroutine whose operations keep succeeding
        // without parking (a writer streaming into a socket with room, a reader that always
        // finds data) would otherwise hold its processor until the monitor retakes it and
        // starts another M, which then competes with this one for the CPUs. Go preempts such
        // a goroutine; here it yields when the monitor asks.
        if self.yields {
            sched::preempt_point();
        }
    }
}

fn finish_close(d: &Desc, fd: i32, gen: u32) -> Result<()> {
    d.finish(gen, || sys::close(fd).map_err(Error::Os))
}

fn os(e: i32) -> Error {
    Error::Os(e)
}

/// Makes `call` (a system call that returns its errno) again while it fails with `EINTR`;
/// any other errno becomes `Error::Os`.
fn restart<T>(mut call: impl FnMut() -> std::result::Result<T, i32>) -> Result<T> {
    loop {
        match call() {
            Err(libc::EINTR) => {}
            r => return r.map_err(os),
        }
    }
}

/// Runs a system call on a descriptor epoll cannot watch: inside a blocking section when
/// called from a goroutine, so its processor moves to another thread meanwhile.
fn blocking<R>(f: impl FnOnce() -> R) -> R {
    let handed = sched::blocking_begin();
    let r = f();
    if handed {
        sched::blocking_end();
    }
    r
}

impl Op {
    fn start(fd: i32, deadline: Deadline) -> Result<Op> {
        if fd < 0 {
            return Err(Error::Invalid);
        }
        let held = sched::held()?;
        let rt = held.rt();
        let p = rt.poller()?;
        let d = p.table.get(fd)?;
        let gen = d.acquire()?;
        let yields = !matches!(deadline, Deadline::Poll);
        let mut op = Op { _held: held, rt, p, d, fd, gen, kind: UNKNOWN, yields };
        op.kind = match d.kind() {
            UNKNOWN => d.open(gen, || p.classify(fd, gen))?,
            k => k,
        };
        Ok(op)
    }

    /// Puts the open file description in non-blocking mode, once per generation (`always`:
    /// check again every time, for sockets whose mode the caller may have changed).
    fn nonblock(&self, always: bool) -> Result<()> {
        if always || !self.d.nonblock_known() {
            sys::set_nonblock(self.fd).map_err(os)?;
            self.d.set_nonblock_known();
        }
        Ok(())
    }

    /// The retry shape of every operation on a pollable descriptor (Go's `fd_unix.go`):
    /// makes `call` (a system call that returns its errno), again on `EINTR`; on `EAGAIN`
    /// waits for an edge in `dir` that came after the sequences read before the call
    /// ([`Op::park`]), then makes it again; any other errno becomes `Error::Os`.
    fn retry<T>(&self, dir: u8, deadline: Deadline, cancel: Option<&Cancel>, mut call: impl FnMut() -> std::result::Result<T, i32>) -> Result<T> {
        loop {
            let seqs = self.d.seqs();
            match call() {
                Err(libc::EINTR) => {}
                Err(libc::EAGAIN) => self.park(dir, seqs, deadline, cancel)?,
                r => return r.map_err(os),
            }
        }
    }

    /// After `EAGAIN`: waits for an edge in `dirs` that came after `seqs` were read. `Ok`:
    /// retry the call. `Again` for a poll (timeout 0).
    fn park(&self, dirs: u8, seqs: (u32, u32), deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
        waiter::may_wait(deadline)?;
        if cancel.is_some_and(|c| c.is_fired()) {
            return Err(Error::Cancelled);
        }
        let reason = WaitReason::new(kind::FD, (self.fd as u32 as u64) << 8 | dirs as u64);
        let (tok, n, keys) = match self.d.register(self.gen, dirs, seqs, || waiter::prepare(reason))? {
            Register::Retry => return Ok(()),
            Register::Parked(tok, n, keys) => (tok, n, keys),
        };
        self.p.nwaiters.fetch_add(n, SeqCst);
        self.rt.io_waiter_added(self.p);
        // Registered after shutdown failed every wait (`Poller::fail_all`): nothing will
        // deliver an event, so end the wait at once (a poll) and say why.
        let shut = self.p.is_shut();
        let r = waiter::block(&tok, if shut { Deadline::Poll } else { deadline }, cancel);
        let delivered_all = r == READY && n == 1 || r == CLOSED || r == SHUTDOWN;
        if !delivered_all {
            let removed = self.d.withdraw(keys);
            if removed > 0 {
                self.p.nwaiters.fetch_sub(removed, SeqCst);
            }
        }
        match r {
            READY => Ok(()),
            CLOSED => Err(Error::Closed),
            SHUTDOWN => Err(Error::State),
            _ if shut => Err(Error::State),
            r => Err(waiter::error_of(r, deadline)),
        }
    }
}

/// `gr_fd_wait`: waits until `fd` is ready for `events` (`EV_READ`/`EV_WRITE`, either or
/// both), or has an error or hang-up pending. Level-correct: a poll(2) first sees data that
/// arrived before the call.
pub fn wait(fd: i32, events: u32, deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
    if events == 0 || events & !(EV_READ | EV_WRITE) != 0 {
        return Err(Error::Invalid);
    }
    let op = Op::start(fd, deadline)?;
    if op.kind == FILE {
        return Err(Error::NotPollable);
    }
    let mut want: i16 = 0;
    let mut dirs = 0;
    if events & EV_READ != 0 {
        want |= libc::POLLIN;
        dirs |= READ;
    }
    if events & EV_WRITE != 0 {
        want |= libc::POLLOUT;
        dirs |= WRITE;
    }
    loop {
        let seqs = op.d.seqs();
        let rev = restart(|| sys::poll1(fd, want, 0))?;
        if rev & libc::POLLNVAL != 0 {
            return Err(os(libc::EBADF)); // closed behind our back
        }
        if rev & (want | libc::POLLERR | libc::POLLHUP) != 0 {
            return Ok(());
        }
        if !matches!(deadline, Deadline::Poll) {
            // The descriptor may have been closed behind gr's back and its number reused.
            op.p.rearm(fd, op.gen)?;
        }
        match op.park(dirs, seqs, deadline, cancel) {
            Ok(()) => {
                // Woken by an edge of one of our directions (ready at the time of the event)
                // or a changed sequence: poll(2) again before reporting, so that a wait never
                // returns ready for a descriptor that is not.
                continue;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Reads with `read`-like semantics on any descriptor: `Ok(0)` at end of file.
///
/// # Safety
/// `buf` must be valid for writes of `len` bytes.
pub unsafe fn read(fd: i32, buf: *mut u8, len: usize, deadline: Deadline, cancel: Option<&Cancel>) -> Result<usize> {
    let op = Op::start(fd, deadline)?;
    match op.kind {
        FILE => restart(|| blocking(|| sys::read(fd, buf, len))),
        SOCKET => recv_loop(&op, buf, len, 0, std::ptr::null_mut(), std::ptr::null_mut(), deadline, cancel),
        _ => {
            op.nonblock(false)?;
            op.retry(READ, deadline, cancel, || sys::read(fd, buf, len))
        }
    }
}

#[allow(clippy::too_many_arguments)]
unsafe fn recv_loop(
    op: &Op,
    buf: *mut u8,
    len: usize,
    flags: i32,
    addr: *mut libc::sockaddr,
    addrlen: *mut libc::socklen_t,
    deadline: Deadline,
    cancel: Option<&Cancel>,
) -> Result<usize> {
    op.retry(READ, deadline, cancel, || sys::recvfrom(op.fd, buf, len, flags | libc::MSG_DONTWAIT, addr, addrlen))
}

/// `recv`/`recvfrom` on a socket (`flags` as recv(2)'s; `MSG_DONTWAIT` is added).
///
/// # Safety
/// `buf` valid for writes of `len` bytes; `addr`/`addrlen` NULL or valid as recvfrom needs.
#[allow(clippy::too_many_arguments)]
pub unsafe fn recv(
    fd: i32,
    buf: *mut u8,
    len: usize,
    flags: i32,
    addr: *mut libc::sockaddr,
    addrlen: *mut libc::socklen_t,
    deadline: Deadline,
    cancel: Option<&Cancel>,
) -> Result<usize> {
    let op = Op::start(fd, deadline)?;
    if op.kind == FILE {
        return Err(os(libc::ENOTSOCK));
    }
    recv_loop(&op, buf, len, flags, addr, addrlen, deadline, cancel)
}

/// Writes: every byte (`all`, write-all) or one successful call's worth. `*sent` counts the
/// bytes that went out, whatever the result.
///
/// # Safety
/// `buf` must be valid for reads of `len` bytes.
pub unsafe fn write(fd: i32, buf: *const u8, len: usize, all: bool, deadline: Deadline, cancel: Option<&Cancel>, sent: &mut usize) -> Result<()> {
    *sent = 0;
    let op = Op::start(fd, deadline)?;
    match op.kind {
        SOCKET => send_loop(&op, buf, len, 0, std::ptr::null(), 0, all, deadline, cancel, sent),
        FILE => write_all(buf, len, all, sent, |p, n| restart(|| blocking(|| sys::write(fd, p, n)))),
        _ => {
            op.nonblock(false)?;
            write_all(buf, len, all, sent, |p, n| {
                op.retry(WRITE, deadline, cancel, || {
                    let guard = sys::SigpipeGuard::new();
                    let r = sys::write(fd, p, n);
                    if r == Err(libc::EPIPE) {
                        guard.consume();
                    }
                    r
                })
            })
        }
    }
}

/// The write loops' shape: `write(from, count)` writes some of the `len - *sent` bytes left
/// at `buf + *sent` and says how many; again until every byte went out (`all`) or once.
/// `len == 0` makes one call (a zero-length write, which reports errors as write(2) does).
///
/// # Safety
/// `buf` must be valid for reads of `len` bytes.
unsafe fn write_all(buf: *const u8, len: usize, all: bool, sent: &mut usize, mut write: impl FnMut(*const u8, usize) -> Result<usize>) -> Result<()> {
    loop {
        *sent += write(buf.add(*sent), len - *sent)?;
        if *sent == len || !all {
            return Ok(());
        }
    }
}

#[allow(clippy::too_many_arguments)]
unsafe fn send_loop(
    op: &Op,
    buf: *const u8,
    len: usize,
    flags: i32,
    addr: *const libc::sockaddr,
    addrlen: libc::socklen_t,
    all: bool,
    deadline: Deadline,
    cancel: Option<&Cancel>,
    sent: &mut usize,
) -> Result<()> {
    let flags = flags | libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
    write_all(buf, len, all, sent, |p, n| op.retry(WRITE, deadline, cancel, || sys::sendto(op.fd, p, n, flags, addr, addrlen)))
}

/// `send`/`sendto` on a socket (`flags` as send(2)'s; `MSG_DONTWAIT | MSG_NOSIGNAL` are
/// added); `all`: until every byte is sent. `*sent` counts the bytes that went out.
///
/// # Safety
/// `buf` valid for reads of `len` bytes; `addr` NULL or valid for `addrlen` bytes.
#[allow(clippy::too_many_arguments)]
pub unsafe fn send(
    fd: i32,
    buf: *const u8,
    len: usize,
    flags: i32,
    addr: *const libc::sockaddr,
    addrlen: libc::socklen_t,
    all: bool,
    deadline: Deadline,
    cancel: Option<&Cancel>,
    sent: &mut usize,
) -> Result<()> {
    *sent = 0;
    let op = Op::start(fd, deadline)?;
    if op.kind == FILE {
        return Err(os(libc::ENOTSOCK));
    }
    send_loop(&op, buf, len, flags, addr, addrlen, all, deadline, cancel, sent)
}

/// `accept4` on a listening socket (put in O_NONBLOCK mode). Retries `ECONNABORTED` (a
/// connection reset while queued), as Go does.
///
/// # Safety
/// `addr`/`addrlen` NULL or valid as accept4 needs.
pub unsafe fn accept(fd: i32, addr: *mut libc::sockaddr, addrlen: *mut libc::socklen_t, flags: i32, deadline: Deadline, cancel: Option<&Cancel>) -> Result<i32> {
    let op = Op::start(fd, deadline)?;
    if op.kind == FILE {
        return Err(os(libc::ENOTSOCK));
    }
    op.nonblock(true)?;
    op.retry(READ, deadline, cancel, || match sys::accept4(fd, addr, addrlen, flags) {
        Err(libc::ECONNABORTED) => Err(libc::EINTR), // the same: call again at once
        r => r,
    })
}

/// `connect` (the socket is put in O_NONBLOCK mode): starts the connection and waits until
/// it is established or fails. With a poll (timeout 0) or on a timeout the attempt goes on
/// in the kernel: wait for `EV_WRITE` and read `SO_ERROR`, or call again (`EALREADY` while
/// in progress, `EISCONN` once connected).
///
/// # Safety
/// `addr` valid for `addrlen` bytes.
pub unsafe fn connect(fd: i32, addr: *const libc::sockaddr, addrlen: libc::socklen_t, deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
    let op = Op::start(fd, deadline)?;
    if op.kind == FILE {
        return Err(os(libc::ENOTSOCK));
    }
    op.nonblock(true)?;
    match sys::connect(fd, addr, addrlen) {
        Ok(()) => return Ok(()),
        // EINTR: the connection goes on asynchronously, as after EINPROGRESS.
        Err(libc::EINPROGRESS) | Err(libc::EINTR) | Err(libc::EALREADY) => {}
        Err(e) => return Err(os(e)),
    }
    loop {
        let seqs = op.d.seqs();
        match sys::so_error(fd).map_err(os)? {
            0 if sys::has_peer(fd) => return Ok(()),
            0 | libc::EINPROGRESS | libc::EALREADY | libc::EINTR => {}
            e => return Err(os(e)),
        }
        op.park(WRITE, seqs, deadline, cancel)?;
    }
}

/// `gr_fd_close` (`forget == false`): wakes every wait on `fd` with `Closed`, forgets its
/// registration, and closes it, at once or, if operations are still in flight, when the
/// last of them returns (it is not reused before). `gr_fd_forget` (`forget == true`): the
/// same without closing, at once.
pub fn close(fd: i32, forget: bool) -> Result<()> {
    if fd < 0 {
        return Err(Error::Invalid);
    }
    let held = sched::held()?; // kept to the end: the poller's table is the runtime's
    let rt = held.rt();
    let d = match rt.poller_if_started().and_then(|p| p.table.lookup(fd).map(|d| (p, d))) {
        Some(pd) => pd,
        // Never seen by the poller: nothing to wake or forget.
        None if forget => return Ok(()),
        None => return sys::close(fd).map_err(os),
    };
    let (p, d) = d;
    let mut toks = Vec::new();
    let (gen, registered, n) = d.begin_close(forget, &mut toks)?;
    if n > 0 {
        p.nwaiters.fetch_sub(n, SeqCst);
    }
    if registered {
        p.unregister(fd);
    }
    let mut batch = Vec::new();
    for t in toks {
        t.complete_into(CLOSED, &mut batch);
    }
    rt.ready_batch(batch);
    if forget {
        d.forgotten(gen);
        return Ok(());
    }
    if d.release(gen) {
        finish_close(d, fd, gen)
    } else {
        Ok(()) // the last operation in flight closes it
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_bits_match_the_abi() {
        assert_eq!(EV_READ as u8, READ);
        assert_eq!(EV_WRITE as u8, WRITE);
    }
}
