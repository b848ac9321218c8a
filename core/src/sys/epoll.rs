//! epoll and eventfd: the poller's kernel objects (`netpoll/`).
//!
//! One epoll instance per runtime, created close-on-exec; descriptors are registered once,
//! edge-triggered, for input, output and peer hang-up. An eventfd, registered level-triggered,
//! breaks a blocked `epoll_wait` (`EventFd::signal`).

use super::errno;

/// Readiness bits as epoll reports them.
pub(crate) const IN: u32 = libc::EPOLLIN as u32;
pub(crate) const OUT: u32 = libc::EPOLLOUT as u32;
pub(crate) const RDHUP: u32 = libc::EPOLLRDHUP as u32;
pub(crate) const HUP: u32 = libc::EPOLLHUP as u32;
pub(crate) const ERR: u32 = libc::EPOLLERR as u32;
pub(crate) const PRI: u32 = libc::EPOLLPRI as u32;
pub(crate) const ET: u32 = libc::EPOLLET as u32;

pub(crate) type Event = libc::epoll_event;

/// An empty event slot (for the buffer `Epoll::wait` fills).
pub(crate) const fn empty_event() -> Event {
    libc::epoll_event { events: 0, u64: 0 }
}

/// The `(events, data)` of a reported event (the struct is packed on x86_64: copy, never borrow).
#[inline]
pub(crate) fn parts(e: &Event) -> (u32, u64) {
    (e.events, e.u64)
}

pub(crate) struct Epoll {
    fd: i32,
}

impl Epoll {
    pub(crate) fn new() -> Result<Epoll, i32> {
        // SAFETY: plain system call with a flag argument.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(errno());
        }
        Ok(Epoll { fd })
    }

    fn ctl(&self, op: i32, fd: i32, events: u32, data: u64) -> Result<(), i32> {
        let mut ev = libc::epoll_event { events, u64: data };
        // SAFETY: `ev` is a valid epoll_event on our stack for the duration of the call.
        if unsafe { libc::epoll_ctl(self.fd, op, fd, &mut ev) } < 0 {
            return Err(errno());
        }
        Ok(())
    }

    /// Registers `fd` for `events`, reporting `data` with each event.
    pub(crate) fn add(&self, fd: i32, events: u32, data: u64) -> Result<(), i32> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, events, data)
    }

    /// Changes the registration of `fd`.
    pub(crate) fn modify(&self, fd: i32, events: u32, data: u64) -> Result<(), i32> {
        self.ctl(libc::EPOLL_CTL_MOD, fd, events, data)
    }

    /// Forgets `fd` (errors, e.g. a descriptor already closed, are the caller's to ignore).
    pub(crate) fn del(&self, fd: i32) -> Result<(), i32> {
        self.ctl(libc::EPOLL_CTL_DEL, fd, 0, 0)
    }

    /// Waits up to `timeout_ms` (-1: no limit, 0: poll) and fills `out`; the number of
    /// events. `EINTR` is returned as an error for the caller to treat as "nothing yet".
    pub(crate) fn wait(&self, out: &mut [Event], timeout_ms: i32) -> Result<usize, i32> {
        let max = out.len().min(i32::MAX as usize) as i32;
        // SAFETY: `out` is a writable buffer of `max` events.
        let n = unsafe { libc::epoll_wait(self.fd, out.as_mut_ptr(), max, timeout_ms) };
        if n < 0 {
            return Err(errno());
        }
        Ok(n as usize)
    }

    /// Closes the instance (a fork()ed child's or a shut-down runtime's; nothing may use it
    /// afterwards).
    pub(crate) fn close(&self) {
        close_quietly(self.fd);
    }
}

/// A counter descriptor that makes a blocked `epoll_wait` return.
pub(crate) struct EventFd {
    fd: i32,
}

impl EventFd {
    pub(crate) fn new() -> Result<EventFd, i32> {
        // SAFETY: plain system call with flag arguments.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(errno());
        }
        Ok(EventFd { fd })
    }

    pub(crate) fn raw(&self) -> i32 {
        self.fd
    }

    /// Adds one to the counter: the descriptor is readable until `drain`.
    pub(crate) fn signal(&self) {
        let one: u64 = 1;
        loop {
            // SAFETY: writes 8 bytes from a local.
            let n = unsafe { libc::write(self.fd, (&one as *const u64).cast(), 8) };
            if n == 8 {
                return;
            }
            match errno() {
                libc::EINTR => continue,
                // The counter is at its maximum: readable already, which is all we need.
                _ => return,
            }
        }
    }

    /// Resets the counter to zero (not readable any more).
    pub(crate) fn drain(&self) {
        let mut v: u64 = 0;
        loop {
            // SAFETY: reads 8 bytes into a local.
            let n = unsafe { libc::read(self.fd, (&mut v as *mut u64).cast(), 8) };
            if n < 0 && errno() == libc::EINTR {
                continue;
            }
            return; // 8 bytes read, or EAGAIN: already zero
        }
    }

    pub(crate) fn close(&self) {
        close_quietly(self.fd);
    }
}

fn close_quietly(fd: i32) {
    // SAFETY: closes a descriptor this module created; the caller guarantees no further use.
    unsafe { libc::close(fd) };
}
