//! Descriptor system calls for the netpoller's I/O operations (`netpoll/ops.rs`).
//!
//! Each function makes one call and returns its result or the errno it failed with; retrying
//! on `EINTR`/`EAGAIN` and waiting are the caller's business. Buffers and socket addresses
//! come from the C caller, so the functions taking them are `unsafe` with the contract that
//! they are valid for the length given (the kernel then checks them again: a bad pointer is
//! `EFAULT`, never undefined behaviour on our side, as long as it is not our own memory).

use super::errno;

/// What a descriptor is, for the netpoller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A socket: per-call non-blocking flags (`MSG_DONTWAIT`) and `MSG_NOSIGNAL` apply.
    Socket,
    /// Pollable but not a socket: a pipe, FIFO, tty, eventfd, timerfd, character device...
    Other,
    /// Not pollable: a regular file, directory or block device (epoll refuses them).
    File,
}

/// Classifies an open descriptor (`EBADF` if it is not open).
pub(crate) fn kind(fd: i32) -> Result<Kind, i32> {
    // SAFETY: an all-zero stat is a valid out buffer; fstat fills it.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is writable for the call.
    if unsafe { libc::fstat(fd, &mut st) } < 0 {
        return Err(errno());
    }
    Ok(match st.st_mode & libc::S_IFMT {
        libc::S_IFSOCK => Kind::Socket,
        libc::S_IFREG | libc::S_IFDIR | libc::S_IFBLK => Kind::File,
        _ => Kind::Other,
    })
}

/// Puts the open file description in non-blocking mode (shared by every duplicate of `fd`
/// and by other processes holding it). `Ok(true)` if it changed.
pub(crate) fn set_nonblock(fd: i32) -> Result<bool, i32> {
    // SAFETY: F_GETFL takes no pointer.
    let fl = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if fl < 0 {
        return Err(errno());
    }
    if fl & libc::O_NONBLOCK != 0 {
        return Ok(false);
    }
    // SAFETY: F_SETFL takes an int.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK) } < 0 {
        return Err(errno());
    }
    Ok(true)
}

fn ssize(n: isize) -> Result<usize, i32> {
    if n < 0 {
        Err(errno())
    } else {
        Ok(n as usize)
    }
}

/// The data calls below (`read`, `write`, `recvfrom`, `sendto`) enter the kernel directly
/// on x86-64 Linux, as Go's `syscall.Syscall6` does, instead of through libc's wrappers:
/// those are pthread cancellation points and pay for it on every call
/// (`__pthread_enable_asynccancel` / `__pthread_disable_asynccancel`, then the errno slot, a
/// thread-local: about 50 instructions a call, 7-11% of an echo workload's user-space
/// instructions, callgrind in `bench/README.md`). Nothing is lost: these calls never wait
/// in the kernel for a peer (the descriptor is non-blocking or the flags say
/// `MSG_DONTWAIT`; a regular file's read is not interruptible), so they were never useful
/// cancellation points, and cancelling a thread that runs goroutines is not supported
/// anyway. Under a sanitizer (`sanitizer::on`, also before the look-up) the libc
/// call is kept, so its interceptors still see the buffers the kernel reads and writes.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod raw {
    /// System call `nr` on descriptor `fd` with a buffer, its length, flags and two more
    /// arguments (0 where the call has none), as the libc-style functions return it: the
    /// kernel's `-4095..=-1` is `Err(errno)`.
    ///
    /// # Safety
    /// The arguments must be valid for system call `nr` (pointers for the lengths given).
    #[inline(always)]
    pub(super) unsafe fn data(nr: libc::c_long, fd: i32, buf: usize, len: usize, flags: i32, a5: usize, a6: usize) -> Result<usize, i32> {
        let r: isize;
        // SAFETY: the x86-64 Linux system call convention: number in rax, arguments in rdi,
        // rsi, rdx, r10, r8, r9 (ints zero-extended: the kernel reads their low 32 bits),
        // result in rax; the kernel clobbers rcx (return address) and r11 (flags) and
        // nothing else, and uses no user stack. Memory may be read and written (the
        // buffers), so no `nomem`/`readonly`. The caller vouches for the arguments.
        unsafe {
            std::arch::asm!(
                "syscall",
                inlateout("rax") nr as isize => r,
                in("rdi") fd as u32 as usize,
                in("rsi") buf,
                in("rdx") len,
                in("r10") flags as u32 as usize,
                in("r8") a5,
                in("r9") a6,
                lateout("rcx") _,
                lateout("r11") _,
                options(nostack),
            );
        }
        if (-4095..0).contains(&r) {
            Err(-r as i32)
        } else {
            Ok(r as usize)
        }
    }

    /// Whether to bypass libc: not under a sanitizer (nor before it was looked up).
    #[inline(always)]
    pub(super) fn direct() -> bool {
        !super::super::sanitizer::on()
    }
}

/// `read(2)`.
///
/// # Safety
/// `buf` must be valid for writes of `len` bytes (or `len == 0`).
pub(crate) unsafe fn read(fd: i32, buf: *mut u8, len: usize) -> Result<usize, i32> {
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    if raw::direct() {
        // SAFETY: `buf` is valid for `len` bytes (the caller's contract).
        return raw::data(libc::SYS_read, fd, buf as usize, len, 0, 0, 0);
    }
    ssize(libc::read(fd, buf.cast(), len))
}

/// `write(2)`. A broken pipe raises SIGPIPE: wrap the call in [`SigpipeGuard`].
///
/// # Safety
/// `buf` must be valid for reads of `len` bytes (or `len == 0`).
pub(crate) unsafe fn write(fd: i32, buf: *const u8, len: usize) -> Result<usize, i32> {
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    if raw::direct() {
        // SAFETY: `buf` is valid for `len` bytes (the caller's contract).
        return raw::data(libc::SYS_write, fd, buf as usize, len, 0, 0, 0);
    }
    ssize(libc::write(fd, buf.cast(), len))
}

/// `recvfrom(2)` (`addr` NULL: `recv`).
///
/// # Safety
/// `buf` valid for writes of `len` bytes; `addr`/`addrlen` NULL or valid as recvfrom needs.
pub(crate) unsafe fn recvfrom(
    fd: i32,
    buf: *mut u8,
    len: usize,
    flags: i32,
    addr: *mut libc::sockaddr,
    addrlen: *mut libc::socklen_t,
) -> Result<usize, i32> {
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    if raw::direct() {
        // SAFETY: `buf`, `addr`, `addrlen` as recvfrom needs (the caller's contract).
        return raw::data(libc::SYS_recvfrom, fd, buf as usize, len, flags, addr as usize, addrlen as usize);
    }
    ssize(libc::recvfrom(fd, buf.cast(), len, flags, addr, addrlen))
}

/// `sendto(2)` (`addr` NULL: `send`).
///
/// # Safety
/// `buf` valid for reads of `len` bytes; `addr` NULL or valid for `addrlen` bytes.
pub(crate) unsafe fn sendto(
    fd: i32,
    buf: *const u8,
    len: usize,
    flags: i32,
    addr: *const libc::sockaddr,
    addrlen: libc::socklen_t,
) -> Result<usize, i32> {
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    if raw::direct() {
        // SAFETY: `buf` and `addr` valid for the lengths given (the caller's contract).
        return raw::data(libc::SYS_sendto, fd, buf as usize, len, flags, addr as usize, addrlen as usize);
    }
    ssize(libc::sendto(fd, buf.cast(), len, flags, addr, addrlen))
}

/// `accept4(2)`.
///
/// # Safety
/// `addr`/`addrlen` NULL or valid as accept4 needs.
pub(crate) unsafe fn accept4(fd: i32, addr: *mut libc::sockaddr, addrlen: *mut libc::socklen_t, flags: i32) -> Result<i32, i32> {
    let r = libc::accept4(fd, addr, addrlen, flags);
    if r < 0 {
        Err(errno())
    } else {
        Ok(r)
    }
}

/// `connect(2)`.
///
/// # Safety
/// `addr` valid for `addrlen` bytes.
pub(crate) unsafe fn connect(fd: i32, addr: *const libc::sockaddr, addrlen: libc::socklen_t) -> Result<(), i32> {
    if libc::connect(fd, addr, addrlen) < 0 {
        Err(errno())
    } else {
        Ok(())
    }
}

/// The pending error of a socket (`SO_ERROR`, which reading clears): 0 if none.
pub(crate) fn so_error(fd: i32) -> Result<i32, i32> {
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `v` and `len` are valid out parameters of the sizes given.
    if unsafe { libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_ERROR, (&mut v as *mut libc::c_int).cast(), &mut len) } < 0 {
        return Err(errno());
    }
    Ok(v)
}

/// Whether a socket has a peer (`getpeername` succeeds).
pub(crate) fn has_peer(fd: i32) -> bool {
    // SAFETY: a zeroed sockaddr_storage is a valid out buffer of the size given.
    let mut sa: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `sa`/`len` are valid out parameters.
    unsafe { libc::getpeername(fd, (&mut sa as *mut libc::sockaddr_storage).cast(), &mut len) == 0 }
}

/// `poll(2)` on one descriptor; returns `revents`.
pub(crate) fn poll1(fd: i32, events: i16, timeout_ms: i32) -> Result<i16, i32> {
    let mut p = libc::pollfd { fd, events, revents: 0 };
    // SAFETY: one valid pollfd.
    let r = unsafe { libc::poll(&mut p, 1, timeout_ms) };
    if r < 0 {
        return Err(errno());
    }
    Ok(p.revents)
}

/// `close(2)`. On Linux the descriptor is released even when this reports an error
/// (`EINTR` included), so it is never retried.
pub(crate) fn close(fd: i32) -> Result<(), i32> {
    // SAFETY: plain system call; the caller owns `fd`.
    if unsafe { libc::close(fd) } < 0 {
        Err(errno())
    } else {
        Ok(())
    }
}

/// Keeps SIGPIPE from a `write(2)` to a broken pipe away from the process: the signal is
/// blocked in the calling thread for the guard's life, and one raised by the guarded write
/// (it is directed at the writing thread) is consumed before the old mask comes back, so the
/// write just fails with `EPIPE`. A SIGPIPE already pending before is left alone. Nothing
/// may park while a guard lives (the mask belongs to the thread).
pub(crate) struct SigpipeGuard {
    old: libc::sigset_t,
    was_blocked: bool,
    was_pending: bool,
}

fn sigpipe_set() -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the set; sigaddset adds a valid signal number.
    unsafe {
        let mut s: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut s);
        libc::sigaddset(&mut s, libc::SIGPIPE);
        s
    }
}

fn sigpipe_pending() -> bool {
    // SAFETY: sigpending fills a valid set; sigismember reads it.
    unsafe {
        let mut p: libc::sigset_t = std::mem::zeroed();
        libc::sigpending(&mut p);
        libc::sigismember(&p, libc::SIGPIPE) == 1
    }
}

impl SigpipeGuard {
    pub(crate) fn new() -> SigpipeGuard {
        let set = sigpipe_set();
        // SAFETY: an all-zero sigset_t is a valid (empty) set to be overwritten.
        let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: `set` and `old` are valid sets; blocking SIGPIPE in this thread is always
        // allowed.
        unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old) };
        // SAFETY: reading a set filled above.
        let was_blocked = unsafe { libc::sigismember(&old, libc::SIGPIPE) } == 1;
        SigpipeGuard { old, was_blocked, was_pending: sigpipe_pending() }
    }

    /// Call after the guarded write failed with `EPIPE`: consumes the SIGPIPE it raised.
    pub(crate) fn consume(&self) {
        if self.was_pending || !sigpipe_pending() {
            return;
        }
        let set = sigpipe_set();
        let zero = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: valid set and timeout; SIGPIPE is blocked here, so it is taken, not delivered.
        unsafe { libc::sigtimedwait(&set, std::ptr::null_mut(), &zero) };
    }
}

impl Drop for SigpipeGuard {
    fn drop(&mut self) {
        if !self.was_blocked {
            // SAFETY: restores the mask saved in `new` on this same thread.
            unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &self.old, std::ptr::null_mut()) };
        }
    }
}
