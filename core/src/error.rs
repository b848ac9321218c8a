//! The runtime's one error type. Each variant is one `gr_status` code of the C ABI, one to
//! one (`gr-ffi`'s `status.rs` holds the mapping and the `gr_strerror` texts); wait outcomes
//! become errors in one place, `waiter::error_of`.
//!
//! Adding a code: a variant here, then what the compiler asks for in `ffi/src/status.rs`
//! (see there); the bindings' drift tests then ask for it too.
#![forbid(unsafe_code)]

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// `GR_ECLOSED`: channel closed (send on closed; recv on closed and drained).
    Closed,
    /// `GR_ETIMEDOUT`: the deadline passed first.
    TimedOut,
    /// `GR_EAGAIN`: a poll (timeout 0) found the operation would block.
    Again,
    /// `GR_EINVAL`: a bad argument.
    Invalid,
    /// `GR_ENOMEM`: out of memory or of memory mappings.
    NoMemory,
    /// `GR_ESTATE`: wrong state: already initialised, shut down, in a forked child, not in a
    /// goroutine...
    State,
    /// `GR_EPANIC`: the goroutine or the runtime failed.
    Panic,
    /// `GR_ECANCELED`: the wait's cancel token fired.
    Cancelled,
    /// `GR_ENOTPOLL`: the descriptor cannot be waited on (epoll refuses it: a regular file,
    /// a directory).
    NotPollable,
    /// `GR_EOS - errno`: a system call failed with this errno (the `gr_fd_*` calls).
    Os(i32),
}

pub type Result<T> = std::result::Result<T, Error>;

impl From<crate::stack::StackError> for Error {
    fn from(_: crate::stack::StackError) -> Self {
        Error::NoMemory
    }
}
