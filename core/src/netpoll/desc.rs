//! One descriptor's state: who uses it, its registration generation, its readiness sequences
//! and its parked waiters (Go's `pollDesc` plus the reference count of `fdMutex`).
//!
//! # The state word (`Desc::state`)
//!
//! `gen << 32 | CLOSING | refs`:
//!
//! | field     | meaning |
//! |-----------|---------|
//! | `gen`     | the registration generation: bumped every time the descriptor is closed or forgotten through us, so a reused fd number starts afresh and epoll events tagged with an older generation are ignored (Go's `fdseq`) |
//! | `CLOSING` | `gr_fd_close` was called: new operations fail with `Closed`; the last user to leave performs `close(2)` |
//! | `refs`    | operations in flight (each holds one from start to return, parked or not) |
//!
//! `CLOSING` with `refs == 0` means the close is finishing (`close(2)` is running): the number
//! may already belong to a new file, so an operation that starts then waits for the reset
//! instead of failing.
//!
//! # Readiness sequences and waiters (under `Desc::inner`, the descriptor lock)
//!
//! `rseq`/`wseq` count the read/write edges the poller has delivered. An operation reads the
//! sequence *before* its system call; if the call says `EAGAIN` it registers under the lock
//! only if the sequence is unchanged, else it retries the call. The poller increments the
//! sequence and takes the waiters under the same lock. So an edge that arrives after the
//! call either changed the sequence before the registration (retry) or finds the waiter
//! (wake): no edge is lost between `EAGAIN` and the park. An edge wakes *every* waiter of its
//! direction, as poll(2) would: with edge-triggered epoll no second edge comes for data that
//! one woken waiter leaves behind. The lists are `WaitList`s: a wait that times out or is
//! cancelled withdraws its entries in O(1) by their keys.
//!
//! Lock order (`sched/README.md`, "Lock order"): `Desc::inner` is rank 42, a leaf. Tokens
//! are completed after it is released; the epoll and close system calls run outside it,
//! except the registration at first use.

use crate::error::Error;
use crate::waitlist::{Key, WaitList};
use crate::loom::rank::DESC;
use crate::loom::{lock, AtomicBool, AtomicU32, AtomicU64, AtomicU8, Mutex};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

const REFS: u64 = (1 << 31) - 1;
const CLOSING: u64 = 1 << 31;

/// Descriptor kinds, valid for the current generation (`kind`).
pub(crate) const UNKNOWN: u8 = 0;
pub(crate) const SOCKET: u8 = 1;
pub(crate) const OTHER: u8 = 2;
pub(crate) const FILE: u8 = 3;

/// Directions of a wait.
pub(crate) const READ: u8 = 1;
pub(crate) const WRITE: u8 = 2;

#[inline]
fn gen_of(s: u64) -> u32 {
    (s >> 32) as u32
}

/// Keys of one wait's entries in the reader and writer lists (`Key::NONE` where it has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Keys {
    read: Key,
    write: Key,
}

struct Inner<T> {
    readers: WaitList<T>,
    writers: WaitList<T>,
    /// Registered with epoll in the current generation.
    registered: bool,
    /// The close in progress forgets the descriptor without closing it.
    forget: bool,
}

pub(crate) struct Desc<T: Clone = crate::waiter::Token> {
    state: AtomicU64,
    pub(crate) rseq: AtomicU32,
    pub(crate) wseq: AtomicU32,
    kind: AtomicU8,
    /// O_NONBLOCK is known to be set on the open file description (this generation).
    nonblock: AtomicBool,
    inner: Mutex<Inner<T>, DESC>,
}

/// What a registration attempt found.
pub(crate) enum Register<T> {
    /// Parked (with this many list entries, under these keys): block on the token, then
    /// `withdraw` unless a delivery to its only direction completed it.
    Parked(T, usize, Keys),
    /// An edge came since the sequences were read: retry the system call.
    Retry,
}


fn wait_a_moment() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    crate::sched::yield_now();
}

/// Moves every entry of `l` to `out` (emptying it in place: a wait list is never replaced
/// while keys into it are outstanding, `waitlist.rs` invariant 3). Returns how many.
fn drain_into<T>(l: &mut WaitList<T>, out: &mut Vec<T>) -> usize {
    let before = out.len();
    out.extend(l.drain());
    out.len() - before
}

impl<T: Clone> Desc<T> {
    pub(crate) fn new() -> Desc<T> {
        Desc {
            state: AtomicU64::new(0),
            rseq: AtomicU32::new(0),
            wseq: AtomicU32::new(0),
            kind: AtomicU8::new(UNKNOWN),
            nonblock: AtomicBool::new(false),
            inner: Mutex::new(Inner { readers: WaitList::new(), writers: WaitList::new(), registered: false, forget: false }),
        }
    }

    /// Starts an operation: takes a reference and returns the generation. `Closed` while a
    /// `gr_fd_close` waits for other users to leave; waits out a close that is finishing.
    pub(crate) fn acquire(&self) -> Result<u32, Error> {
        let mut s = self.state.load(Acquire);
        loop {
            if s & CLOSING != 0 {
                if s & REFS != 0 {
                    return Err(Error::Closed);
                }
                wait_a_moment(); // close(2) is running: the number may be reused next
                s = self.state.load(Acquire);
                continue;
            }
            if s & REFS == REFS {
                return Err(Error::NoMemory); // 2^31 operations in flight on one descriptor
            }
            match self.state.compare_exchange_weak(s, s + 1, Acquire, Acquire) {
                Ok(_) => return Ok(gen_of(s)),
                Err(cur) => s = cur,
            }
        }
    }

    /// Ends an operation of generation `gen`. `true`: the caller was the last user of a
    /// descriptor being closed and must call [`Desc::finish`]. A reference of a generation
    /// already forgotten is dropped with it.
    #[must_use]
    pub(crate) fn release(&self, gen: u32) -> bool {
        let mut s = self.state.load(Acquire);
        loop {
            if gen_of(s) != gen || s & REFS == 0 {
                return false;
            }
            match self.state.compare_exchange_weak(s, s - 1, AcqRel, Acquire) {
                Ok(_) => return s & CLOSING != 0 && s & REFS == 1,
                Err(cur) => s = cur,
            }
        }
    }

    /// The kind of generation `gen` (UNKNOWN until [`Desc::open`]).
    #[inline]
    pub(crate) fn kind(&self) -> u8 {
        self.kind.load(Acquire)
    }

    /// First use of generation `gen`: runs `classify` (which registers the descriptor with
    /// epoll and returns its kind and whether it registered) once, under the lock, unless a
    /// close began. Errors of `classify` are returned and nothing is cached.
    pub(crate) fn open(&self, gen: u32, classify: impl FnOnce() -> Result<(u8, bool), Error>) -> Result<u8, Error> {
        let mut g = lock(&self.inner);
        let s = self.state.load(Acquire);
        if gen_of(s) != gen || s & CLOSING != 0 {
            return Err(Error::Closed);
        }
        let k = self.kind.load(Relaxed);
        if k != UNKNOWN {
            return Ok(k);
        }
        let (k, registered) = classify()?;
        g.registered = registered;
        self.kind.store(k, Release);
        Ok(k)
    }

    pub(crate) fn nonblock_known(&self) -> bool {
        self.nonblock.load(Relaxed)
    }

    pub(crate) fn set_nonblock_known(&self) {
        self.nonblock.store(true, Relaxed);
    }

    /// The sequences an operation reads before its system call.
    #[inline]
    pub(crate) fn seqs(&self) -> (u32, u32) {
        (self.rseq.load(Acquire), self.wseq.load(Acquire))
    }

    /// After `EAGAIN`: parks a new wait in the lists of `dirs` unless an edge of one of them
    /// came since `seqs` (then `Retry`). `Closed` if the descriptor was closed or forgotten
    /// since the operation started. `make` opens the wait (`waiter::prepare`); it runs under
    /// the lock, before anyone can complete the token.
    pub(crate) fn register(&self, gen: u32, dirs: u8, seqs: (u32, u32), make: impl FnOnce() -> T) -> Result<Register<T>, Error> {
        let mut g = lock(&self.inner);
        let s = self.state.load(Acquire);
        if gen_of(s) != gen || s & CLOSING != 0 {
            return Err(Error::Closed);
        }
        if (dirs & READ != 0 && self.rseq.load(Relaxed) != seqs.0) || (dirs & WRITE != 0 && self.wseq.load(Relaxed) != seqs.1) {
            return Ok(Register::Retry);
        }
        let tok = make();
        let mut n = 0;
        let mut keys = Keys { read: Key::NONE, write: Key::NONE };
        if dirs & READ != 0 {
            keys.read = g.readers.push_back(tok.clone());
            n += 1;
        }
        if dirs & WRITE != 0 {
            keys.write = g.writers.push_back(tok.clone());
            n += 1;
        }
        Ok(Register::Parked(tok, n, keys))
    }

    /// Removes the entries of a wait that ended other than by a delivery to all its
    /// directions (timeout, cancel, or a two-direction wait woken by one), in O(1) by their
    /// keys (`waitlist.rs`'s withdraw protocol). Returns how many entries were still there.
    pub(crate) fn withdraw(&self, keys: Keys) -> usize {
        let mut g = lock(&self.inner);
        g.readers.remove(keys.read).is_some() as usize + g.writers.remove(keys.write).is_some() as usize
    }

    /// An edge of generation `gen` for the given directions: bumps their sequences and moves
    /// their waiters to `out` (the caller completes them). Returns how many it moved. Edges
    /// of another generation are stale and ignored.
    pub(crate) fn deliver(&self, gen: u32, read: bool, write: bool, out: &mut Vec<T>) -> usize {
        let mut g = lock(&self.inner);
        if gen_of(self.state.load(Acquire)) != gen {
            return 0;
        }
        let mut n = 0;
        if read {
            self.rseq.fetch_add(1, Release);
            n += drain_into(&mut g.readers, out);
        }
        if write {
            self.wseq.fetch_add(1, Release);
            n += drain_into(&mut g.writers, out);
        }
        n
    }

    /// Moves every waiter (both directions) to `out`, whatever the generation (shutdown).
    pub(crate) fn take_all(&self, out: &mut Vec<T>) -> usize {
        let mut g = lock(&self.inner);
        drain_into(&mut g.readers, out) + drain_into(&mut g.writers, out)
    }

    /// `gr_fd_close` (`forget == false`) or `gr_fd_forget`: marks the descriptor closing,
    /// moves every waiter to `out` (the caller completes them with CLOSED) and returns the
    /// generation and whether it was registered with epoll (the caller removes it).
    /// `Closed` if a close is already in progress. The caller holds a reference (it calls
    /// `release`/`finish` afterwards for a close, `forgotten` for a forget).
    pub(crate) fn begin_close(&self, forget: bool, out: &mut Vec<T>) -> Result<(u32, bool, usize), Error> {
        let mut s = self.state.load(Acquire);
        loop {
            if s & CLOSING != 0 {
                if s & REFS != 0 {
                    return Err(Error::Closed);
                }
                wait_a_moment();
                s = self.state.load(Acquire);
                continue;
            }
            match self.state.compare_exchange_weak(s, (s | CLOSING) + 1, AcqRel, Acquire) {
                Ok(_) => break,
                Err(cur) => s = cur,
            }
        }
        let mut g = lock(&self.inner);
        let n = drain_into(&mut g.readers, out) + drain_into(&mut g.writers, out);
        let registered = std::mem::replace(&mut g.registered, false);
        g.forget = forget;
        Ok((gen_of(s), registered, n))
    }

    /// The last user of a closing descriptor of generation `gen`: clears the per-generation
    /// facts, runs `close` (the system call, unless this is a forget) and opens generation
    /// `gen + 1`. Returns what `close` returned.
    pub(crate) fn finish(&self, gen: u32, close: impl FnOnce() -> Result<(), Error>) -> Result<(), Error> {
        let forget = {
            let mut g = lock(&self.inner);
            g.registered = false;
            std::mem::replace(&mut g.forget, false)
        };
        self.kind.store(UNKNOWN, Relaxed);
        self.nonblock.store(false, Relaxed);
        let r = if forget { Ok(()) } else { close() };
        // Release: the facts cleared above are seen by whoever acquires the new generation.
        self.state.store(((gen.wrapping_add(1)) as u64) << 32, Release);
        r
    }

    /// `gr_fd_forget` after `begin_close`: opens generation `gen + 1` at once, whatever
    /// operations are still in flight (their references die with their generation, and
    /// they fail with `Closed` when they next look).
    pub(crate) fn forgotten(&self, gen: u32) {
        let _ = self.finish(gen, || Ok(()));
    }
}
