//! The netpoller: goroutines (and plain threads) wait on sockets, pipes and other descriptors
//! without holding an OS thread. Go's `runtime/netpoll.go` and `netpoll_epoll.go` are the
//! model; `README.md` beside this file has the protocols and their proofs.
//!
//! - `desc.rs`: one descriptor's state (generation, references, readiness sequences,
//!   waiters): the registration state machine.
//! - `table.rs`: fd number -> descriptor, type-stable.
//! - `ops.rs`: the operations (`wait`, read, write-all, send/recv, accept, connect, close)
//!   with their retry loops.
//! - this file: the [`Poller`] (one epoll instance and one eventfd per runtime), which turns
//!   epoll events into completed waits. The scheduler calls [`Poller::poll`]: busy Ms poll
//!   without blocking when their queues run dry, the last M to go idle blocks in it (one at a
//!   time), and the monitor polls every 10 ms when nobody else does (`sched/README.md`,
//!   section 9, "Polling").

pub(crate) mod desc;
pub mod ops;
pub(crate) mod table;

#[cfg(all(test, loom))]
mod loom_tests;

use crate::error::Error;
use crate::goroutine::GRef;
use crate::sys::epoll::{self, Epoll, EventFd};
use crate::waiter::{Token, USER};
use desc::Desc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::time::{Duration, Instant};
use table::Table;

/// Wait results: the descriptor became ready (retry the call), was closed, or the runtime
/// shut down under the wait.
pub(crate) const READY: u32 = USER;
pub(crate) const CLOSED: u32 = USER + 1;
pub(crate) const SHUTDOWN: u32 = USER + 2;

/// Event bits that make a read (or accept) worth retrying / a write worth retrying.
const READ_EVENTS: u32 = epoll::IN | epoll::RDHUP | epoll::HUP | epoll::ERR | epoll::PRI;
const WRITE_EVENTS: u32 = epoll::OUT | epoll::HUP | epoll::ERR;
/// What every descriptor is registered for (edge-triggered, once per generation).
const INTEREST: u32 = epoll::IN | epoll::OUT | epoll::RDHUP | epoll::ET;
/// The epoll data of the eventfd (descriptors carry `gen << 32 | fd`).
const WAKE_DATA: u64 = u64::MAX;
/// Events taken per `epoll_wait`.
const BATCH: usize = 128;

#[inline]
fn pack(fd: i32, gen: u32) -> u64 {
    (gen as u64) << 32 | fd as u32 as u64
}

pub struct Poller {
    ep: Epoll,
    wake: EventFd,
    /// A `wake` is in flight (its eventfd write not yet drained): later ones are no-ops.
    wake_sig: AtomicBool,
    pub(crate) table: Table,
    /// List entries of parked waits: the poller has someone to wake.
    pub(crate) nwaiters: AtomicUsize,
    /// An M is blocked in (or committed to) a blocking poll; others then skip their
    /// non-blocking polls and a submitter that needs it breaks it with `wake`.
    pub(crate) blocked: AtomicBool,
    /// A processor runs a long goroutine (set by the monitor): idle Ms should watch the
    /// poller, not only the last one to go idle (`sched/poll.rs`).
    pub(crate) watch: AtomicBool,
    /// Nanoseconds since `epoch` at the start of the latest poll of any kind.
    last_poll: AtomicU64,
    epoch: Instant,
    /// Set by `fail_all` (shutdown) before it takes the parked waits: a wait registered
    /// later sees it (`is_shut`) and ends with `GR_ESTATE` instead of waiting for an event
    /// no M will ever deliver.
    shut: AtomicBool,
}

impl Poller {
    pub(crate) fn new() -> Result<Poller, Error> {
        let ep = Epoll::new().map_err(Error::Os)?;
        let wake = match EventFd::new() {
            Ok(w) => w,
            Err(e) => {
                ep.close();
                return Err(Error::Os(e));
            }
        };
        // Level-triggered: a wake stays visible until the blocked poller drains it.
        if let Err(e) = ep.add(wake.raw(), epoll::IN, WAKE_DATA) {
            ep.close();
            wake.close();
            return Err(Error::Os(e));
        }
        Ok(Poller {
            ep,
            wake,
            wake_sig: AtomicBool::new(false),
            table: Table::new(),
            nwaiters: AtomicUsize::new(0),
            blocked: AtomicBool::new(false),
            watch: AtomicBool::new(false),
            last_poll: AtomicU64::new(0),
            epoch: Instant::now(),
            shut: AtomicBool::new(false),
        })
    }

    /// Whether shutdown failed the parked waits (`fail_all`): nothing is delivered any more.
    #[inline]
    pub(crate) fn is_shut(&self) -> bool {
        self.shut.load(SeqCst)
    }

    /// Whether any wait is parked on a descriptor.
    #[inline]
    pub(crate) fn has_waiters(&self) -> bool {
        self.nwaiters.load(SeqCst) > 0
    }

    /// How long since the latest poll began.
    pub(crate) fn since_last_poll(&self) -> Duration {
        let now = self.epoch.elapsed().as_nanos() as u64;
        Duration::from_nanos(now.saturating_sub(self.last_poll.load(Relaxed)))
    }

    /// Makes a blocked (or about to block) poll return.
    pub(crate) fn wake(&self) {
        if self.wake_sig.compare_exchange(false, true, SeqCst, Relaxed).is_ok() {
            self.wake.signal();
        }
    }

    /// Polls for up to `timeout_ms` (-1: until an event or a `wake`; 0: don't block) and
    /// completes the waits of every descriptor that became ready: goroutine owners are
    /// appended to `batch` for the caller to queue at once, thread owners are woken.
    /// `blocking`: the caller is the one blocked poller (it consumes `wake`s). Returns the
    /// number of descriptor events.
    pub(crate) fn poll(&self, timeout_ms: i32, blocking: bool, batch: &mut Vec<GRef>) -> usize {
        let mut evs = [epoll::empty_event(); BATCH];
        self.last_poll.store(self.epoch.elapsed().as_nanos() as u64, Relaxed);
        let n = match self.ep.wait(&mut evs, timeout_ms) {
            Ok(n) => n,
            Err(libc::EINTR) => 0,
            Err(e) => crate::fatal(&format!("epoll_wait failed: errno {e}")),
        };
        let mut toks: Vec<Token> = Vec::new();
        let mut fds = 0;
        for ev in &evs[..n] {
            let (events, data) = epoll::parts(ev);
            if data == WAKE_DATA {
                if blocking {
                    self.wake.drain();
                    self.wake_sig.store(false, SeqCst);
                }
                continue;
            }
            fds += 1;
            let (fd, gen) = (data as u32 as i32, (data >> 32) as u32);
            let (r, w) = (events & READ_EVENTS != 0, events & WRITE_EVENTS != 0);
            if let Some(d) = self.table.lookup(fd) {
                let moved = d.deliver(gen, r, w, &mut toks);
                if moved > 0 {
                    self.nwaiters.fetch_sub(moved, SeqCst);
                }
            }
        }
        for t in toks {
            t.complete_into(READY, batch);
        }
        fds
    }

    /// Registers `fd` (generation `gen`) at its first use and tells what it is.
    fn classify(&self, fd: i32, gen: u32) -> Result<(u8, bool), Error> {
        use crate::sys::fd::Kind;
        let k = match crate::sys::fd::kind(fd).map_err(Error::Os)? {
            Kind::File => return Ok((desc::FILE, false)),
            Kind::Socket => desc::SOCKET,
            Kind::Other => desc::OTHER,
        };
        match self.ep.add(fd, INTEREST, pack(fd, gen)) {
            Ok(()) => Ok((k, true)),
            // A descriptor epoll cannot watch (e.g. /dev/null): treat it like a file.
            Err(libc::EPERM) => Ok((desc::FILE, false)),
            // Still registered from a close that bypassed us on a duplicate: take it over.
            Err(libc::EEXIST) => self.ep.modify(fd, INTEREST, pack(fd, gen)).map(|_| (k, true)).map_err(Error::Os),
            Err(e) => Err(Error::Os(e)),
        }
    }

    /// Re-arms `fd`'s registration (generation `gen`) before a bare wait (`gr_fd_wait`)
    /// parks. `gr_fd_wait` is the call for descriptors gr does not own (a binding's
    /// `select`, a library's socket), which their owners close with close(2), behind gr's
    /// back: the kernel then drops the registration with the file, and a reused number
    /// would inherit a state that says "registered" and never be reported. EPOLL_CTL_MOD
    /// on a number that now names another file fails with ENOENT: register that file. On the
    /// same file, MOD re-arms the edge (a ready descriptor reports again: a spurious wake at
    /// worst, which waiters absorb by polling again).
    pub(crate) fn rearm(&self, fd: i32, gen: u32) -> Result<(), Error> {
        match self.ep.modify(fd, INTEREST, pack(fd, gen)) {
            Ok(()) => Ok(()),
            Err(libc::ENOENT) => match self.ep.add(fd, INTEREST, pack(fd, gen)) {
                Ok(()) | Err(libc::EEXIST) => Ok(()),
                Err(libc::EPERM) => Err(Error::NotPollable),
                Err(e) => Err(Error::Os(e)),
            },
            Err(e) => Err(Error::Os(e)),
        }
    }

    /// Forgets a descriptor's epoll registration (close or forget).
    fn unregister(&self, fd: i32) {
        let _ = self.ep.del(fd); // ENOENT/EBADF: already gone with its last file reference
    }

    /// Shutdown: ends every wait still parked with SHUTDOWN (plain threads return
    /// `GR_ESTATE`; goroutines stay queued and are never run, as at any shutdown).
    /// A wait that registers after this began sees [`Poller::is_shut`]: either this takes
    /// its entry (under the descriptor's lock) or the wait took that lock after this set the
    /// flag, and sees it.
    pub(crate) fn fail_all(&self, batch: &mut Vec<GRef>) {
        self.shut.store(true, SeqCst);
        let mut toks: Vec<Token> = Vec::new();
        self.table.for_each(|_, d: &Desc| {
            let n = d.take_all(&mut toks);
            if n > 0 {
                self.nwaiters.fetch_sub(n, SeqCst);
            }
        });
        for t in toks {
            t.complete_into(SHUTDOWN, batch);
        }
    }

    /// Closes the epoll instance and the eventfd (a fork()ed child's inherited copies, or a
    /// runtime whose threads have all stopped).
    pub(crate) fn close_fds(&self) {
        self.ep.close();
        self.wake.close();
    }
}
