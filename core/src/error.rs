//! The runtime's one error type; `ffi` maps it to `gr_status` codes one to one.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// Channel closed (send on closed; recv on closed and drained).
    Closed,
    /// The deadline passed first.
    TimedOut,
    /// A poll (timeout 0) found the operation would block.
    Again,
    /// A bad argument.
    Invalid,
    /// Out of memory or of memory mappings.
    NoMemory,
    /// Wrong state: already initialised, shut down, in a forked child, not in a goroutine...
    State,
    /// The goroutine or the runtime failed.
    Panic,
    /// The wait's cancel token fired.
    Cancelled,
}

pub type Result<T> = std::result::Result<T, Error>;

impl From<crate::stack::StackError> for Error {
    fn from(_: crate::stack::StackError) -> Self {
        Error::NoMemory
    }
}
