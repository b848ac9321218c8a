//! One way to block, for goroutines and plain OS threads alike.
//!
//! A wait goes: [`prepare`] a [`Token`] for the calling context; publish it (push it on a
//! channel's queue, a join list, a timer, a cancel token) under the publisher's own lock;
//! then [`block`]. Whoever finishes the wait calls [`Token::complete`] with a result code;
//! among all racing completers (data, timer, cancel, timeout) exactly one wins, because
//! completion is a CAS on the cell's state word from `(seq, PENDING)` to `(seq, result)`.
//! Stale tokens of earlier waits carry an older `seq` and always lose.
//!
//! State word of a [`WaitCell`]: `seq << 32 | flags | result`. The flags (bits 29-31) are
//! a goroutine owner's park handshake (`sched/state.rs`: `PARKED`, a dump's `HELD`, a
//! reclaim's `RELEASED`); a completer's CAS wins the wait and takes the handshake's turn in
//! one step. Results are below [`RESULT_MAX`].
//!
//! | result      | meaning                                                           |
//! |-------------|-------------------------------------------------------------------|
//! | `PENDING`   | the wait `seq` is open                                            |
//! | `TIMEOUT`   | its deadline passed (or a poll found nothing)                     |
//! | `CANCELLED` | its cancel token fired                                            |
//! | `DONE`      | a joined goroutine finished / a generic success                   |
//! | `>= USER`   | defined by the publisher (channels encode case index and status)  |
//!
//! Waking: a goroutine owner is made runnable through the park handshake
//! (`sched/state.rs`): its completer queues it if the word it replaced said `PARKED`; a
//! thread owner sleeps on the cell's `sleeping` futex word after a
//! short spin. The waker publishes the result (SeqCst CAS) before reading `sleeping`; the
//! sleeper sets `sleeping` (SeqCst) before re-reading the result, so one of them sees the
//! other (no lost wakeup).
//!
//! A bound goroutine (or any M thread) that must sleep hands its processor away first
//! (`blocking_begin`) and takes one back afterwards.
//!
//! Under ThreadSanitizer (`sys/sanitizer.rs`) the cell's address is a sync object: a
//! completer releases there before its CAS, and the owner acquires there as its C API call
//! returns (`crate::sanitize`), so every wake is a happens-before edge from the waker,
//! whatever the primitive. The owner also releases there as its call begins, for the
//! reverse edge of a channel hand-off ([`Token::complete_handoff`]).
//!
//! A wait's own results become errors in one place, [`error_of`] (and [`may_wait`] for an
//! operation that is not ready under a poll): every channel, select, sync, join and sleep
//! result goes through it.
#![forbid(unsafe_code)]

use crate::cancel::Cancel;
use crate::error::{Error, Result};
use crate::goroutine::{GRef, G};
use crate::loom::{AtomicU32, AtomicU64};
use crate::sched;
use crate::sys::forklock::ForkLock;
use crate::sys::futex;
use crate::sys::sanitizer;
use crate::waitreason::{clock_ms, ms_of, now_ms, WaitReason};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicU8};
use std::sync::Arc;
use std::time::Instant;

pub const PENDING: u32 = 0;
pub const TIMEOUT: u32 = 1;
pub const CANCELLED: u32 = 2;
pub const DONE: u32 = 3;
/// First result code free for publishers.
pub const USER: u32 = 16;
/// Results are below this (the word's bits above it are the park flags, `sched/state.rs`).
pub const RESULT_MAX: u32 = 1 << 29;

const AWAKE: u32 = 0;
const SLEEPING: u32 = 1;

/// The one mapping of wait outcomes to errors (and so to `gr_status` codes), for every wait
/// that ended without its publisher's result: `CANCELLED` is `Cancelled`; `TIMEOUT` is
/// `TimedOut`, or `Again` for a poll (timeout 0: nothing was ready).
#[inline]
pub fn error_of(r: u32, deadline: Deadline) -> Error {
    debug_assert!(r == TIMEOUT || r == CANCELLED, "wait result {r} is the publisher's");
    match r {
        CANCELLED => Error::Cancelled,
        _ if deadline == Deadline::Poll => Error::Again,
        _ => Error::TimedOut,
    }
}

/// For an operation that is not ready: `Ok` if it may wait for `deadline`, else (a poll) the
/// error [`error_of`] gives an expired poll, without opening a wait.
#[inline]
pub fn may_wait(deadline: Deadline) -> Result<()> {
    if deadline == Deadline::Poll {
        return Err(error_of(TIMEOUT, deadline));
    }
    Ok(())
}

/// When a wait gives up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    Never,
    /// Don't wait at all (timeout 0: Go's `default`).
    Poll,
    At(Instant),
}

impl Deadline {
    /// From the ABI's `timeout_ns`: `GR_FOREVER` (-1) = forever, 0 = poll, positive =
    /// relative. Any other negative value is a deadline already past, as Go treats a negative
    /// duration: a poll (`gr.h`, "Conventions").
    #[inline]
    pub fn from_timeout_ns(ns: i64) -> Deadline {
        match ns {
            -1 => Deadline::Never,
            n if n <= 0 => Deadline::Poll,
            n => match Instant::now().checked_add(std::time::Duration::from_nanos(n as u64)) {
                Some(t) => Deadline::At(t),
                None => Deadline::Never,
            },
        }
    }
}

/// A wait's limit as the caller gave it, made a [`Deadline`] only once the operation must
/// wait: a relative timeout then reads the clock, and an operation that completes at once
/// (a channel with room or a value, a parked peer) never does (a `clock_gettime` of 20 to
/// 40 ns here).
///
/// A channel operation that must wait reads the clock only after it has unlocked the
/// channel ([`Limit::known`] decides the poll and the wait without a deadline under the
/// lock): a clock read under the lock lengthened every waiting operation's critical
/// section, and two threads handing values back and forth collided on the lock more often
/// (`chan/README.md`, "A relative timeout's clock read, out of the lock").
pub trait Limit: Copy {
    fn deadline(self) -> Deadline;
    /// The deadline if it needs no clock read: always a [`Deadline`]'s, and a relative
    /// timeout's when it is "forever" or a poll; `None` for a relative timeout to resolve.
    fn known(self) -> Option<Deadline>;
}

impl Limit for Deadline {
    #[inline(always)]
    fn deadline(self) -> Deadline {
        self
    }

    #[inline(always)]
    fn known(self) -> Option<Deadline> {
        Some(self)
    }
}

/// The ABI's `timeout_ns`, as [`Deadline::from_timeout_ns`] reads it, when needed.
#[derive(Debug, Clone, Copy)]
pub struct TimeoutNs(pub i64);

impl Limit for TimeoutNs {
    #[inline(always)]
    fn deadline(self) -> Deadline {
        Deadline::from_timeout_ns(self.0)
    }

    #[inline(always)]
    fn known(self) -> Option<Deadline> {
        match self.0 {
            -1 => Some(Deadline::Never),
            n if n <= 0 => Some(Deadline::Poll),
            _ => None,
        }
    }
}

/// The state of one owner's waits: a goroutine's (inside its `G`) or an OS thread's.
#[repr(C)]
pub struct WaitCell {
    /// `seq << 32 | flags | result` (module docs); a goroutine's park handshake is in its
    /// flags (`sched/state.rs`).
    pub(crate) state: AtomicU64,
    /// Futex word for thread owners. No goroutine sleeps on it: for a goroutine owner it
    /// and `spare` are the [`G_LANDING`] bytes of its channel landing ([`Token::landing`]).
    sleeping: AtomicU32,
    spare: AtomicU32,
}

impl WaitCell {
    pub(crate) fn new() -> WaitCell {
        WaitCell { state: AtomicU64::new(0), sleeping: AtomicU32::new(AWAKE), spare: AtomicU32::new(0) }
    }

    /// Whether the wait `seq` is open ([`Token::is_pending`]).
    #[inline(always)]
    fn is_open(&self, seq: u32) -> bool {
        sched::state::unflagged(self.state.load(Acquire)) == (seq as u64) << 32
    }

    /// The wait `seq`'s result ([`Token::result`]).
    #[inline(always)]
    fn result_of(&self, seq: u32) -> u32 {
        let s = self.state.load(Acquire);
        if (s >> 32) as u32 == seq {
            (s & sched::state::RESULT) as u32
        } else {
            PENDING
        }
    }

    /// The current (or last) wait's sequence number and whether it is still open.
    pub(crate) fn seq_pending(&self) -> (u32, bool) {
        let s = self.state.load(Acquire);
        ((s >> 32) as u32, s & sched::state::RESULT == PENDING as u64)
    }
}

enum CellRef {
    /// The goroutine's own token, uncounted (see `sched::CurrentG`): saves two atomic
    /// reference-count operations per wait. Clones become `G`.
    Own(sched::CurrentG),
    G(GRef),
    Thread(Arc<ThreadWait>),
    /// An asynchronous operation's (`crate::port`): completing it posts to its port.
    Async(Arc<AsyncCell>),
}

/// The wait cell of an asynchronous operation (`crate::port`): no goroutine or thread waits
/// on it; its completion posts `user` to `port`.
pub struct AsyncCell {
    cell: WaitCell,
    port: Arc<crate::port::Port>,
    user: u64,
}

/// One open wait. Cloning it is cheap (a reference count); stale clones are harmless.
pub struct Token {
    cell: CellRef,
    seq: u32,
}

impl Clone for Token {
    fn clone(&self) -> Self {
        let cell = match &self.cell {
            CellRef::Own(g) => CellRef::G(g.to_arc()),
            CellRef::G(g) => CellRef::G(g.clone()),
            CellRef::Thread(c) => CellRef::Thread(c.clone()),
            CellRef::Async(a) => CellRef::Async(a.clone()),
        };
        Token { cell, seq: self.seq }
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Token({:p}#{})", self.cell(), self.seq)
    }
}

impl Token {
    fn cell(&self) -> &WaitCell {
        match &self.cell {
            CellRef::Own(g) => &g.get().cell,
            CellRef::G(g) => &g.cell,
            CellRef::Thread(c) => &c.cell,
            CellRef::Async(a) => &a.cell,
        }
    }

    /// The open wait of a new asynchronous operation (`crate::port`): completing it posts
    /// `user` to `port`. It is never blocked on: its owner withdraws it with
    /// [`Token::withdraw`] or reads its result.
    pub(crate) fn new_async(port: Arc<crate::port::Port>, user: u64) -> Token {
        let cell = WaitCell::new();
        cell.state.store(1u64 << 32, SeqCst);
        Token { cell: CellRef::Async(Arc::new(AsyncCell { cell, port, user })), seq: 1 }
    }

    /// Ends the open wait as `CANCELLED` without waking anyone (its owner withdraws it):
    /// `false` if a completer won first.
    pub(crate) fn withdraw(&self) -> bool {
        self.claim(CANCELLED)
    }

    /// The wait cell's address and this wait's sequence number (a dump matches timers to
    /// goroutines by them).
    pub(crate) fn key(&self) -> (usize, u32) {
        (self.cell_addr(), self.seq)
    }

    /// The cell's address: also where a sanitizer is told of the wait's hand-offs.
    pub(crate) fn cell_addr(&self) -> usize {
        self.cell() as *const WaitCell as usize
    }

    /// The goroutine that owns this wait, if a goroutine does.
    #[inline(always)]
    pub(crate) fn goroutine(&self) -> Option<&G> {
        match &self.cell {
            CellRef::Own(g) => Some(g.get()),
            CellRef::G(g) => Some(g),
            CellRef::Thread(_) | CellRef::Async(_) => None,
        }
    }

    /// Is this wait still open?
    #[inline]
    pub fn is_pending(&self) -> bool {
        self.cell().is_open(self.seq)
    }

    /// The result, once completed (PENDING while open, or if this token is stale).
    #[inline]
    pub fn result(&self) -> u32 {
        self.cell().result_of(self.seq)
    }

    /// Ends the wait with `result` (not PENDING) and wakes its owner. `false` if the wait was
    /// already ended (by anyone) or this token is stale: the caller then did nothing.
    pub fn complete(&self, result: u32) -> bool {
        self.complete_hint(result, false)
    }

    /// [`Token::complete`]; `affine`: a goroutine owner is queued so that no other processor
    /// steals the goroutine it displaces (see `sched::Runtime::ready_in`).
    #[inline]
    pub fn complete_hint(&self, result: u32, affine: bool) -> bool {
        // Published before the CAS: a thread owner may see the result and return at once.
        sanitizer::release(self.cell_addr());
        let Some(old) = self.win(result) else { return false };
        self.wake(old, affine);
        true
    }

    /// [`Token::complete`], except that a parked goroutine owner is appended to `batch` for
    /// the caller to queue together with others (the poller's ready list) instead of being
    /// queued here. A thread owner is woken at once.
    pub(crate) fn complete_into(&self, result: u32, batch: &mut Vec<crate::goroutine::GRef>) -> bool {
        sanitizer::release(self.cell_addr()); // as in `complete_hint`
        let Some(old) = self.win(result) else { return false };
        match &self.cell {
            CellRef::Own(g) => batch.extend(sched::take_woken(g.get(), old)),
            CellRef::G(g) => batch.extend(sched::take_woken(g, old)),
            CellRef::Thread(_) | CellRef::Async(_) => self.wake(old, false),
        }
        true
    }

    /// [`Token::complete_hint`] for a channel peer taking over the owner's side of a
    /// hand-off (a parked sender's value, a parked receiver's slot): under TSan the edge
    /// goes both ways, and `slot` (evaluated only then) is the ring slot the value counts as
    /// passing through (0: none). See `sys/sanitizer.rs`, `handoff`. `w`: the completer's
    /// context (`sched::Waker`: a channel reads it once for its whole queue).
    #[inline]
    pub(crate) fn complete_handoff(&self, w: &sched::Waker, result: u32, affine: bool, slot: impl FnOnce() -> usize) -> bool {
        match &self.cell {
            CellRef::Thread(t) => t.complete_handoff(self.seq, result, slot),
            CellRef::Own(g) => complete_handoff_g(g.get(), self.seq, w, result, affine, slot),
            CellRef::G(g) => complete_handoff_g(g, self.seq, w, result, affine, slot),
            CellRef::Async(_) => {
                if sanitizer::on() {
                    sanitizer::handoff(self.cell_addr(), slot()); // before the CAS, as above
                }
                let Some(old) = self.win(result) else { return false };
                self.wake(old, affine);
                true
            }
        }
    }

    /// This wait's sequence number (a goroutine's channel entry keeps it instead of the
    /// token: `chan/waitq.rs`).
    #[inline(always)]
    pub(crate) fn seq(&self) -> u32 {
        self.seq
    }

    /// Ends the wait with `result` without waking its owner: for the owner itself (poll,
    /// expired deadline, already-fired cancel token), which then does not park.
    fn claim(&self, result: u32) -> bool {
        // (Its own goroutine runs: the word carries no `PARKED`.)
        sched::state::complete(&self.cell().state, (self.seq as u64) << 32, result, 0).is_some()
    }

    /// A thread's wait: its cell and this wait's sequence number (what a completion needs:
    /// [`ThreadWait::complete_handoff`]); `None` for other owners.
    #[inline(always)]
    pub(crate) fn thread(&self) -> Option<(&ThreadWait, u32)> {
        match &self.cell {
            CellRef::Thread(t) => Some((t, self.seq)),
            _ => None,
        }
    }

    /// The landing of a thread's or goroutine's wait ([`ThreadWait`], `goroutine::G`): its
    /// `done` flag, a pointer to its bytes and how many ([`LANDING`], [`G_LANDING`]), all in
    /// the wait cell's cache line; `None` for an asynchronous operation, and for a
    /// goroutine's unless `goroutine_too` (`Chan`'s `met_thread`). The owner uses it
    /// for one wait at a time, and a completer only as the winner of that wait, before it
    /// sets `done` (`chan/mod.rs`, `send_landed`).
    #[inline(always)]
    pub(crate) fn landing(&self, goroutine_too: bool) -> Option<(&crate::loom::AtomicBool, *mut u8, usize)> {
        match &self.cell {
            CellRef::Thread(t) => Some((&t.land_done, t.land_buf.as_ptr() as *mut u8, LANDING)),
            CellRef::Own(_) | CellRef::G(_) if !goroutine_too => None,
            CellRef::Own(g) => Some(g_landing(g.get())),
            CellRef::G(g) => Some(g_landing(g)),
            CellRef::Async(_) => None,
        }
    }

    /// The completion CAS (`sched/state.rs`, step 3): `Some` with the word it replaced if
    /// this call ended the wait.
    #[inline(always)]
    fn win(&self, result: u32) -> Option<u64> {
        debug_assert!(result != PENDING && result < RESULT_MAX);
        let guess = match &self.cell {
            CellRef::Own(_) | CellRef::G(_) => sched::state::PARKED,
            CellRef::Thread(_) | CellRef::Async(_) => 0,
        };
        sched::state::complete(&self.cell().state, (self.seq as u64) << 32, result, guess)
    }

    /// Wakes the owner of a wait this caller just won, replacing `old` (the second half of
    /// `complete`).
    #[inline(always)]
    fn wake(&self, old: u64, affine: bool) {
        let g = match &self.cell {
            // We won the CAS for the open wait; our token's reference keeps the goroutine
            // alive meanwhile. Queued by us only if it had switched away (`PARKED`); else its
            // scheduler's commit fails and queues it, or it never suspended.
            CellRef::Own(g) => g.get(),
            CellRef::G(g) => g,
            CellRef::Thread(t) => {
                t.wake_owner();
                return;
            }
            CellRef::Async(a) => {
                a.port.post(a.user);
                return;
            }
        };
        if sched::state::woke_parked(&g.cell.state, old) {
            sched::ready_after_wake(g, affine);
        }
    }
}

/// [`Token::complete_handoff`] for the wait `seq` of goroutine `g`: a token owned by a
/// goroutine comes here, and so does a goroutine's channel entry, which has no token
/// (`chan/waitq.rs` goes from the entry to the goroutine's cell directly). The completion
/// CAS, then the park handshake's queueing.
#[inline(always)]
pub(crate) fn complete_handoff_g(g: &G, seq: u32, w: &sched::Waker, result: u32, affine: bool, slot: impl FnOnce() -> usize) -> bool {
    debug_assert!(result != PENDING && result < RESULT_MAX);
    if sanitizer::on() {
        sanitizer::handoff(&g.cell as *const WaitCell as usize, slot()); // before the CAS
    }
    let Some(old) = sched::state::complete(&g.cell.state, (seq as u64) << 32, result, sched::state::PARKED) else {
        return false;
    };
    // (As in `Token::wake`: queued by us only if it had switched away.)
    if sched::state::woke_parked(&g.cell.state, old) {
        sched::ready_after_wake_in(w, g, affine);
    }
    true
}

/// How many bytes of an element a thread's wait carries in its wait cell's cache line
/// ([`Token::landing`]).
pub(crate) const LANDING: usize = 32;

/// How many bytes of an element a goroutine's wait carries in its wait cell: its futex
/// word and the spare word after it (`WaitCell`), which no goroutine sleeps on (the record
/// has no room for more: `allg.rs`, 192 bytes).
pub(crate) const G_LANDING: usize = 8;
// (Under loom the atomics are the model's and no goroutine landing is used: the channel
// models hand values through their own tokens, `chan/wait.rs`.)
#[cfg(not(loom))]
const _: () = assert!(std::mem::offset_of!(WaitCell, spare) == std::mem::offset_of!(WaitCell, sleeping) + 4);

/// A goroutine's landing ([`Token::landing`]): `done` beside its cell, and the cell's
/// futex and spare words (a pointer from the whole cell, whose atomics allow the writes).
#[inline(always)]
fn g_landing(g: &G) -> (&crate::loom::AtomicBool, *mut u8, usize) {
    let cell = &g.cell as *const WaitCell as *mut u8;
    (&g.land_done, cell.wrapping_add(std::mem::offset_of!(WaitCell, sleeping)), G_LANDING)
}

/// The wait cell of an OS thread (a plain thread, or an M running a bound goroutine), with
/// what dumps and the deadlock report read about its waits. Every thread that waited in gr
/// or spawned from outside goroutines is listed in [`threads`] until it exits.
///
/// The cell and the *landing* (`land_done`, `land_buf`) share the first cache line (`repr(C)`,
/// 64-byte aligned): a channel's plain operation by this thread hands its element through the
/// landing (`chan/mod.rs`, `Chan::send_landed`), so the completer, on another CPU, completes
/// the wait, copies the element and sets `done` in the one line it fetches for the
/// completion, and this thread reads them all back from the line it spins on.
#[repr(C, align(64))]
pub struct ThreadWait {
    pub(crate) cell: WaitCell,
    /// The landing's `done` flag ([`Token::landing`]).
    land_done: crate::loom::AtomicBool,
    /// The landing's element bytes: atomics only so that safe code can hand out a pointer
    /// to them; the channel protocol copies through it (`done` orders the copies).
    land_buf: [std::sync::atomic::AtomicU64; LANDING / 8],
    /// The kernel thread id.
    pub tid: i32,
    /// A runtime worker thread (M), not a plain thread.
    pub is_m: bool,
    /// The current or last wait's reason word (never dereferenced: see `waitreason.rs`).
    pub(crate) reason: std::sync::atomic::AtomicU64,
    /// The bound goroutine that waits here, or 0.
    pub(crate) gid: std::sync::atomic::AtomicU64,
    /// When the current wait went to sleep (`waitreason::now_ms`).
    pub(crate) since: std::sync::atomic::AtomicU64,
    /// When it times out (`waitreason` clock ms), for `blocked == TIMED`.
    pub(crate) deadline: std::sync::atomic::AtomicU64,
    /// `RUNNING`, or asleep in a wait: `TIMED` or `FOREVER`.
    pub(crate) blocked: AtomicU8,
    pub(crate) alive: AtomicBool,
}

/// `ThreadWait::blocked`: not asleep in a gr wait.
pub const RUNNING: u8 = 0;
/// Asleep in a gr wait with a timeout.
pub const TIMED: u8 = 1;
/// Asleep in a gr wait without a timeout.
pub const FOREVER: u8 = 2;

/// Every thread with a `ThreadWait` (dead ones are pruned as new ones come). A leaf lock
/// outside the ranks (`sched/README.md`, section 6): nothing is taken under it. A
/// `ForkLock`: a fork()ed child lists itself here on its first wait or spawn.
static THREADS: ForkLock<Vec<Arc<ThreadWait>>> = ForkLock::new(Vec::new());

/// `THREADS`, for the fork handlers (`sched/runtime.rs`).
pub(crate) fn threads_lock() -> &'static ForkLock<Vec<Arc<ThreadWait>>> {
    &THREADS
}

/// A new thread's `ThreadWait`, listed (`sched::tls::thread_wait` keeps it, without a TLS
/// destructor: see there).
fn new_thread_wait() -> Arc<ThreadWait> {
    let t = Arc::new(ThreadWait {
        cell: WaitCell::new(),
        land_done: crate::loom::AtomicBool::new(false),
        land_buf: Default::default(),
        tid: crate::sys::thread::gettid(),
        is_m: !sched::tls::m().is_null(),
        reason: std::sync::atomic::AtomicU64::new(0),
        gid: std::sync::atomic::AtomicU64::new(0),
        since: std::sync::atomic::AtomicU64::new(0),
        deadline: std::sync::atomic::AtomicU64::new(0),
        blocked: AtomicU8::new(RUNNING),
        alive: AtomicBool::new(true),
    });
    let mut v = THREADS.lock();
    v.retain(|t| t.alive.load(Acquire));
    v.push(t.clone());
    t
}

/// The thread that owned `t` exits (its pthread key's destructor).
pub(crate) fn thread_exit(t: &ThreadWait) {
    let _quiet = sanitizer::Quiet::enter(); // runtime code at thread exit
    t.alive.store(false, Release);
    sched::deadlock::note_thread_sleep(); // one thread fewer that might wake anyone
}

#[inline(never)]
fn thread_cell() -> Arc<ThreadWait> {
    sched::tls::thread_wait(new_thread_wait)
}

/// Lists the calling thread among the threads that use gr (for the deadlock report, which
/// must know every plain thread that may still wake a goroutine). Called where a plain
/// thread first meets the runtime: start, spawn, creating a channel or sync object, waits.
/// A no-op after the first call on a thread.
#[inline(never)]
pub fn register_thread() {
    sched::tls::ensure_thread_wait(new_thread_wait);
}

/// The address of the calling context's wait cell: the running coroutine goroutine's, else
/// this thread's (made if it has none). For `crate::sanitize`.
pub(crate) fn own_cell_addr() -> usize {
    match sched::current_coroutine_ref() {
        Some(g) => &g.get().cell as *const WaitCell as usize,
        // (The thread's own count keeps the cell at this address until the thread exits.)
        None => &thread_cell().cell as *const WaitCell as usize,
    }
}

/// The threads listed now (live ones).
pub fn threads() -> Vec<Arc<ThreadWait>> {
    let v = THREADS.lock();
    v.iter().filter(|t| t.alive.load(Acquire)).cloned().collect()
}

impl ThreadWait {
    /// [`Token::complete_handoff`] for the wait `seq` of this thread, without its token (a
    /// thread's landed channel entry: `chan/waitq.rs`).
    #[inline]
    pub(crate) fn complete_handoff(&self, seq: u32, result: u32, slot: impl FnOnce() -> usize) -> bool {
        debug_assert!(result != PENDING && result < RESULT_MAX);
        if sanitizer::on() {
            sanitizer::handoff(&self.cell as *const WaitCell as usize, slot()); // before the CAS
        }
        if sched::state::complete(&self.cell.state, (seq as u64) << 32, result, 0).is_none() {
            return false;
        }
        self.wake_owner();
        true
    }

    /// Wakes this thread after a completion of its wait that we won, if it sleeps.
    #[inline(always)]
    fn wake_owner(&self) {
        // A load first: the owner mostly still spins on this line (`thread_wait`), and a
        // swap would take the line back from it once more. Dekker with the owner's sleep
        // (`thread_wait`: store SLEEPING, then load the state; we: the CAS that won, then
        // this load; all SeqCst): either it sees our completion and does not sleep, or we see
        // SLEEPING and wake it.
        if self.cell.sleeping.load(SeqCst) == SLEEPING && self.cell.sleeping.swap(AWAKE, SeqCst) == SLEEPING {
            futex::wake(&self.cell.sleeping);
        }
    }

    /// The current or last wait's reason.
    pub fn reason(&self) -> WaitReason {
        WaitReason(self.reason.load(Relaxed))
    }
    /// `RUNNING`, `TIMED` or `FOREVER`.
    pub fn blocked(&self) -> u8 {
        self.blocked.load(Acquire)
    }
    /// The bound goroutine waiting here, or 0.
    pub fn gid(&self) -> u64 {
        self.gid.load(Relaxed)
    }
    /// When the current wait went to sleep, and when it times out (0: never).
    pub fn since_deadline(&self) -> (u64, u64) {
        (self.since.load(Relaxed), self.deadline.load(Relaxed))
    }
    /// The wait's sequence number (changes with every wait).
    pub fn seq(&self) -> u32 {
        (self.cell.state.load(Acquire) >> 32) as u32
    }
    /// Is the current wait still open?
    pub fn pending(&self) -> bool {
        self.cell.state.load(Acquire) & sched::state::RESULT == PENDING as u64
    }
}

/// Who is calling: the current coroutine goroutine, or else this OS thread (a plain thread
/// or a bound goroutine): the owner of the waits [`prepare`] opens here. Two calls give the
/// same value exactly when made by the same live owner.
pub fn owner_id() -> usize {
    match sched::current_coroutine_ref() {
        Some(g) => g.get() as *const G as usize,
        // (The thread's own count keeps the cell at this address until the thread exits.)
        None => sched::tls::ensure_thread_wait(new_thread_wait) as usize,
    }
}

/// Opens a wait for the calling context: the current coroutine goroutine, or else this OS
/// thread (a plain thread or a bound goroutine). `reason` is what dumps show for it
/// (`waitreason.rs`: every blocking primitive passes its own).
pub fn prepare(reason: WaitReason) -> Token {
    let cell = match sched::current_coroutine_ref() {
        Some(g) => CellRef::Own(g),
        None => CellRef::Thread(thread_cell()),
    };
    let c = match &cell {
        CellRef::Own(g) => &g.get().cell,
        CellRef::G(g) => &g.cell,
        CellRef::Thread(t) => &t.cell,
        CellRef::Async(a) => &a.cell,
    };
    let seq = ((c.state.load(Acquire) >> 32) as u32).wrapping_add(1);
    match &cell {
        CellRef::Own(g) => {
            let g = g.get();
            g.info.wait.store(reason.0, Relaxed);
            g.info.since.store(clock_ms(), Relaxed);
            // (The park is announced by the open wait itself: a completer that wins it
            // before the switch finds no `PARKED` and leaves the queueing to the scheduler,
            // `sched/state.rs`.)
        }
        CellRef::Thread(t) => t.reason.store(reason.0, Relaxed),
        CellRef::G(_) | CellRef::Async(_) => {}
    }
    // Only the owner writes a new seq, and no wait of the owner is open now (nor any park
    // flag: the goroutine runs, and a released one never runs again). Release, not
    // SeqCst (an `xchg`, a full barrier, on x86 at every park): completers find the token
    // only through its publication (under the publisher's lock, or a Release store they
    // read with Acquire), which orders this store before their CAS. No Dekker pair uses this
    // store: the thread owner's sleep handshake is on `sleeping` and the completer's CAS.
    c.state.store((seq as u64) << 32, Release);
    Token { cell, seq }
}

/// Blocks until `tok` is completed, its deadline passes, or `cancel` fires; returns the result.
/// The token must have been made by [`prepare`] in this same context.
#[inline(always)]
pub fn block(tok: &Token, deadline: Deadline, cancel: Option<&Cancel>) -> u32 {
    // A goroutine's plain wait (no deadline, no cancel token: what `block_spun` reduces to
    // for it) parks from its caller's frame: after the resume, each return up to the C
    // caller is mispredicted (the return stack holds the scheduler's calls): this saves
    // one of them per wait, and `block_spun`'s other cases (`sched/README.md` section 14).
    if let (Deadline::Never, None, Some(g)) = (deadline, cancel, tok.goroutine()) {
        return park_until_done(tok, g);
    }
    block_spun(tok, deadline, cancel, false)
}

/// [`block`]; `spun`: a thread owner has just spun for what it waits for ([`spin_thread`]),
/// so it sleeps at once instead of spinning again on the token.
pub fn block_spun(tok: &Token, deadline: Deadline, cancel: Option<&Cancel>, mut spun: bool) -> u32 {
    // A wait the owner ends itself (poll, past deadline, token already fired) has no waker,
    // so it must not park; any other ended wait has a waker that will unpark it.
    let mut self_claimed = false;
    let mut registered: Option<crate::waitlist::Key> = None;
    // (Under loom, cancel tokens hold the model's tokens, `chan/wait.rs`, and the models
    // block through it; this real `block` is compiled there, never run.)
    #[cfg(not(loom))]
    if let (Some(c), CellRef::Thread(_), false) = (cancel, &tok.cell, spun) {
        // A thread spins before it registers with `cancel` (a lock each way), as it would
        // spin on the token after: the waits of a thread that talks to a goroutine (every
        // blocking call of a Java thread carries its interrupt token) mostly end within the
        // spin. A fire during the spin ends it; the registration below then sees the fire.
        if deadline != Deadline::Poll && !c.is_fired() {
            spun = true;
            if spin_thread(deadline, || !tok.is_pending() || c.is_fired()) && !tok.is_pending() {
                return tok.result();
            }
        }
    }
    #[cfg(not(loom))]
    if let Some(c) = cancel {
        registered = c.register(tok);
        if registered.is_none() {
            self_claimed |= tok.claim(CANCELLED);
        }
        if let Some(g) = tok.goroutine() {
            g.info.cancel.store(c as *const Cancel as usize, Relaxed);
        }
    }
    #[cfg(loom)]
    let _ = (&mut registered, cancel.map(|_| unreachable!("the loom models block through chan/wait.rs")));
    let deadline = match deadline {
        Deadline::Poll => {
            self_claimed |= tok.claim(TIMEOUT);
            Deadline::Never
        }
        Deadline::At(t) if t <= Instant::now() => {
            self_claimed |= tok.claim(TIMEOUT);
            Deadline::Never
        }
        d => d,
    };
    // A self-claimed wait has no waker and no park to withdraw: the goroutine just does not
    // suspend (`sched/state.rs`, step 1).
    let r = if self_claimed {
        tok.result()
    } else {
        wait_done(tok, deadline, spun)
    };
    #[cfg(not(loom))]
    if let (Some(c), Some(key)) = (cancel, registered) {
        c.unregister(key);
    }
    if cancel.is_some() {
        if let Some(g) = tok.goroutine() {
            g.info.cancel.store(0, Relaxed);
        }
    }
    r
}

fn wait_done(tok: &Token, deadline: Deadline, spun: bool) -> u32 {
    let g = match &tok.cell {
        CellRef::Thread(t) => return thread_wait(tok, t, deadline, spun),
        CellRef::Own(g) => g.get(),
        CellRef::G(g) => &**g,
        CellRef::Async(_) => crate::fatal("an asynchronous operation was blocked on"),
    };
    if let Deadline::At(t) = deadline {
        if tok.is_pending() {
            sched::timers().add(t, tok.clone());
        }
    }
    park_until_done(tok, g)
}

/// Parks goroutine `g`, the owner of `tok`'s open wait, until that wait is completed; the
/// result.
#[inline(always)]
fn park_until_done(tok: &Token, g: &G) -> u32 {
    // (`g`'s cell is `tok`'s: read it directly, not through the token's owner match.)
    if g.cell.is_open(tok.seq) {
        sched::park_current(g);
    }
    // (Else a completer already won, saw no `PARKED` and leaves us be: carry on, as a poll
    // does, without suspending.)
    g.cell.result_of(tok.seq)
}

/// [`park_until_done`] for a goroutine `g` whose open wait `tok` can only be completed under
/// the lock it hands over (`lock`: a channel's, `chan::Chan::block_queued`): nobody can
/// have completed it yet, so it parks without looking; its M marks it parked and releases
/// the lock (`sched/state.rs`, `mark_parked`).
#[inline(always)]
#[cfg_attr(loom, allow(dead_code))] // (the loom models block through `chan/wait.rs`)
pub(crate) fn park_handing(tok: &Token, g: &G, lock: crate::chan::HandedLock) -> u32 {
    sched::park_current_unlocking(g, lock);
    g.cell.result_of(tok.seq)
}

/// How long a thread spins for a wake before sleeping: a futex round trip costs ~16 us, a
/// spin hand-off under 1 us.
const THREAD_SPIN: std::time::Duration = std::time::Duration::from_micros(20);

/// Spins as a thread waiting for a wake would ([`THREAD_SPIN`], or less if `deadline` comes
/// first) until `done()`; whether it did. For waits that can see their end without publishing
/// a token (a join: `crate::join`), before they publish one.
pub(crate) fn spin_thread(deadline: Deadline, done: impl Fn() -> bool) -> bool {
    let budget = match deadline {
        Deadline::At(t) => THREAD_SPIN.min(t.saturating_duration_since(Instant::now())),
        Deadline::Poll => std::time::Duration::ZERO,
        Deadline::Never => THREAD_SPIN,
    };
    spin_before_sleep(budget, done)
}

fn thread_wait(tok: &Token, t: &ThreadWait, deadline: Deadline, spun: bool) -> u32 {
    if !spun && spin_before_sleep(THREAD_SPIN, || !tok.is_pending()) {
        return tok.result();
    }
    crate::loom::rank::Held::assert_none("blocking a thread");
    let handed_off = sched::blocking_begin();
    let cell = &t.cell;
    // What dumps and the deadlock report see of this wait (a slow path: the thread sleeps).
    t.gid.store(sched::tls::gid(), Relaxed);
    t.since.store(now_ms(), Relaxed);
    t.deadline.store(if let Deadline::At(d) = deadline { ms_of(d).max(1) } else { 0 }, Relaxed);
    t.blocked.store(if deadline == Deadline::Never { FOREVER } else { TIMED }, Release);
    if deadline == Deadline::Never {
        sched::deadlock::note_thread_sleep();
    }
    loop {
        cell.sleeping.store(SLEEPING, SeqCst);
        if !tok.is_pending() {
            cell.sleeping.store(AWAKE, SeqCst);
            break;
        }
        let timeout = match deadline {
            Deadline::At(t) => match t.checked_duration_since(Instant::now()) {
                Some(d) if !d.is_zero() => Some(d),
                _ => {
                    cell.sleeping.store(AWAKE, SeqCst);
                    tok.claim(TIMEOUT);
                    break;
                }
            },
            _ => None,
        };
        futex::wait(&cell.sleeping, SLEEPING, timeout);
    }
    t.blocked.store(RUNNING, Release);
    if handed_off {
        sched::blocking_end();
    }
    tok.result()
}

/// How long [`spin_before_sleep`] spins with `pause` before it yields: a hand-off between
/// two threads that run on two CPUs lands well within it.
const PAUSE_PHASE: std::time::Duration = std::time::Duration::from_micros(1);

/// Spins until `done()` or `budget` passes, before its caller sleeps (`false`: go to sleep):
/// `pause` for the first microsecond, then `sched_yield`, so that when the thread it waits
/// for needs this CPU (a loaded machine, or both placed on one CPU) the spinner gives the
/// CPU up at once instead of burning it. (Two threads handing work back and forth on one
/// CPU pay the pause phase at every hand-off: ~6.9 us per spawn+wait on this machine with 64
/// pauses (3 us), ~4.4 us with ~1 us.) While other processes crowd the CPUs ([`crowd`]) it
/// does not yield: it stops after the pause phase, or at a yield that lost the CPU, since
/// the caller's sleep is then the faster way back.
pub(crate) fn spin_before_sleep(budget: std::time::Duration, done: impl Fn() -> bool) -> bool {
    spin(budget, true, done)
}

/// Spins until `done()`, or `budget` passes (`false`), as [`spin_before_sleep`] does but to
/// the end of `budget` in any case: for a wait that has no sleep to fall back on (a
/// hand-off a few instructions away on another thread, `sched/poll.rs`).
pub(crate) fn spin_until(budget: std::time::Duration, done: impl Fn() -> bool) -> bool {
    spin(budget, false, done)
}

fn spin(budget: std::time::Duration, sleeps_after: bool, done: impl Fn() -> bool) -> bool {
    let start = Instant::now();
    let crowded = sleeps_after && crowd::crowded(start);
    let mut pausing = true;
    let mut i = 0u32;
    loop {
        if done() {
            return true;
        }
        i += 1;
        if i % 8 == 0 {
            let spent = start.elapsed();
            if spent >= budget {
                return false;
            }
            pausing = spent < PAUSE_PHASE;
            if !pausing && crowded {
                return false; // no yield phase while other processes crowd the CPUs
            }
        }
        if pausing {
            std::hint::spin_loop();
        } else if crowd::yield_cpu().lost && sleeps_after {
            return false;
        }
    }
}

/// Whether other threads crowd this machine's CPUs, as the runtime's spinners learn it. A
/// spinner `sched_yield`s so that a partner thread of ours on its CPU runs at once, but a
/// yield gives the CPU to any runnable thread, and Linux's scheduler puts the yielder behind
/// them (EEVDF moves its deadline a slice on): with other processes busy on every CPU a
/// yield came back after milliseconds, and the spinner, runnable all along, was never
/// *woken*, so it never got the wake-up preemption a futex sleeper gets when its wake
/// comes. `bash bench/extra/crowd.sh` (four busy loops on 2 CPUs): `gr_bench
/// pingpong_thread` took 1.5-6.2 ms a round trip, a plain pthread futex ping-pong 7-176 us.
/// A yield that took `LOST` or more while more threads are runnable than the machine has
/// CPUs (+1: `/proc/loadavg`, read then only), the second such within `AGAIN`, marks the
/// machine crowded for `WINDOW`; meanwhile spinners pause for their first microsecond and
/// then sleep ([`spin_before_sleep`]), and Ms do not hold processors (`sched/worker.rs`,
/// step 6b). (A long yield alone is no sign: on this VM a quiet ping-pong's yields took
/// hundreds of microseconds now and then, with no other process running, and a first
/// version that marked the machine crowded at any yield of 200 us made a quiet `gr_bench
/// pingpong_thread 100000 2` 2-18x slower.) Two lost yields per window are the price of
/// finding out that the crowd has gone.
pub(crate) mod crowd {
    use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
    use std::time::{Duration, Instant};

    /// A yield that took this long lost the CPU to another thread for a good part of a
    /// time slice (a bare one takes ~0.3 us here, a switch to a thread of ours and back a
    /// few microseconds; a quiet ping-pong's rare long ones, hundreds of microseconds).
    const LOST: Duration = Duration::from_millis(1);
    /// A lost yield marks the machine crowded only if another came within this long before
    /// it (in a crowd every yield is lost; on a quiet machine a lost one is an accident).
    const AGAIN: Duration = Duration::from_millis(100);
    /// How long the machine then counts as crowded.
    const WINDOW: Duration = Duration::from_millis(250);

    /// Until when (`sys::clock` nanoseconds) the machine counts as crowded; 0: never was.
    static UNTIL: AtomicI64 = AtomicI64::new(0);
    /// When the last lost yield in a crowd ended (`sys::clock` nanoseconds).
    static LAST: AtomicI64 = AtomicI64::new(0);

    /// Whether a lost yield within the last `WINDOW` found the machine crowded (`now`: the
    /// caller's clock read), unless [`recheck`] found the crowd gone since.
    #[inline]
    pub(crate) fn crowded(now: Instant) -> bool {
        let until = UNTIL.load(Relaxed);
        until != 0 && crate::sys::clock::instant_to_ns(now) < until
    }

    /// While the machine counts as crowded, how often [`recheck`] looks again.
    const RECHECK: Duration = Duration::from_millis(10);
    /// When [`recheck`] last looked (`sys::clock` nanoseconds).
    static CHECKED: AtomicI64 = AtomicI64::new(0);

    /// Ends a crowded window early if the crowd has gone: at most every `RECHECK`, while the
    /// machine counts as crowded, reads `/proc/loadavg` and clears the window if no more
    /// threads are runnable than CPUs (+1). Called by the monitor (`sched/monitor.rs`), on
    /// no hand-off's path: the same look from a spinner cost the crowded ping-pong of
    /// `bench/extra/crowd.sh` 2-5x (a file read there can lose the CPU to the crowd, in the
    /// middle of a hand-off).
    ///
    /// The window alone outlasted short crowds (another process's burst on the shared
    /// machine ending): a plain thread and its goroutine ping-ponging then slept at every
    /// hand-off for the rest of its 250 ms, ~40 us a round trip on idle CPUs
    /// (`bench/extra/pingpong_tail.c`'s slow chunks, `perf sched timehist`; `../sched/README.md`
    /// section 3, step 6b).
    pub(crate) fn recheck(now: Instant) {
        recheck_with(now, crate::sys::thread::cpus_oversubscribed);
    }

    /// [`recheck`] with the probe given (the tests' stand-in for `/proc/loadavg`).
    fn recheck_with(now: Instant, oversubscribed: impl FnOnce() -> bool) {
        let until = UNTIL.load(Relaxed);
        if until == 0 {
            return;
        }
        let at = crate::sys::clock::instant_to_ns(now);
        if at >= until || at.saturating_sub(CHECKED.load(Relaxed)) < RECHECK.as_nanos() as i64 {
            return;
        }
        CHECKED.store(at, Relaxed);
        if !oversubscribed() {
            // Only this window: a lost yield may have marked a new one meanwhile.
            let _ = UNTIL.compare_exchange(until, 0, Relaxed, Relaxed);
        }
    }

    /// A timed `sched_yield` ([`yield_cpu`]).
    pub(crate) struct Yielded {
        /// How long it took.
        pub took: Duration,
        /// When it returned.
        pub at: Instant,
        /// It lost the CPU to a crowd ([`lost_at`]), and marked the machine crowded.
        pub lost: bool,
    }

    /// `sched_yield`, timed, and noted ([`lost_at`]).
    pub(crate) fn yield_cpu() -> Yielded {
        let t = Instant::now();
        std::thread::yield_now();
        let at = Instant::now();
        let took = at.duration_since(t);
        Yielded { took, at, lost: lost_at(took, at) }
    }

    /// Notes a yield that took `took`, ending at `now`: whether it lost the CPU to a crowd
    /// (it then marks the machine crowded).
    fn lost_at(took: Duration, now: Instant) -> bool {
        // (The probe, a file read, only for a yield that took long.)
        if took < LOST || !crate::sys::thread::cpus_oversubscribed() {
            return false;
        }
        let at = crate::sys::clock::instant_to_ns(now);
        let mark = second_within(LAST.swap(at, Relaxed), at);
        if mark {
            UNTIL.store(at.saturating_add(WINDOW.as_nanos() as i64), Relaxed);
        }
        mark
    }

    /// Whether a lost yield at `at` follows the one before it (at `last`; 0: none) within
    /// `AGAIN`.
    fn second_within(last: i64, at: i64) -> bool {
        last != 0 && at.saturating_sub(last) <= AGAIN.as_nanos() as i64
    }

    #[cfg(all(test, not(loom)))]
    mod tests {
        use super::*;

        /// One lost yield is an accident; a second within `AGAIN` is a crowd; one after a
        /// long quiet spell starts counting afresh.
        #[test]
        fn a_crowd_is_two_lost_yields_close_together() {
            let ms = 1_000_000i64;
            assert!(!second_within(0, 5 * ms));
            assert!(second_within(5 * ms, 5 * ms + AGAIN.as_nanos() as i64));
            assert!(second_within(5 * ms, 9 * ms));
            assert!(!second_within(5 * ms, 5 * ms + AGAIN.as_nanos() as i64 + 1));
        }

        /// The tests that read or write the module's globals take turns.
        static GLOBALS: std::sync::Mutex<()> = std::sync::Mutex::new(());

        /// A crowded window ends at the monitor's next look that finds no crowd, at most
        /// every `RECHECK`; a crowd still there keeps it, and a window marked after the look
        /// read `UNTIL` is not cleared by it.
        #[test]
        fn recheck_ends_a_window_the_crowd_left() {
            let _g = GLOBALS.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let at = crate::sys::clock::instant_to_ns(now);
            let later = |ms: u64| now + Duration::from_millis(ms);
            UNTIL.store(at + WINDOW.as_nanos() as i64, Relaxed);
            CHECKED.store(0, Relaxed);
            recheck_with(now, || true); // still crowded: kept
            assert!(crowded(now));
            recheck_with(later(1), || panic!("looked again within RECHECK"));
            recheck_with(later(11), || false); // gone: cleared
            assert!(!crowded(later(11)));
            recheck_with(later(30), || panic!("no window, no look"));
            // A lost yield marks a new window while the look reads `/proc/loadavg`: kept.
            UNTIL.store(at + WINDOW.as_nanos() as i64, Relaxed);
            let fresh = at + 2 * WINDOW.as_nanos() as i64;
            recheck_with(later(45), || {
                UNTIL.store(fresh, Relaxed);
                false
            });
            assert_eq!(UNTIL.load(Relaxed), fresh);
            UNTIL.store(0, Relaxed);
        }

        /// Yields shorter than `LOST` count for nothing: neither as a crowd nor as the first
        /// of two lost ones.
        #[test]
        fn short_yields_count_for_nothing() {
            let _g = GLOBALS.lock().unwrap_or_else(|p| p.into_inner());
            let (last, until) = (LAST.load(Relaxed), UNTIL.load(Relaxed));
            let now = Instant::now();
            for _ in 0..1000 {
                assert!(!lost_at(LOST - Duration::from_nanos(1), now));
            }
            assert_eq!((LAST.load(Relaxed), UNTIL.load(Relaxed)), (last, until));
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use crate::loom::{AtomicU64, Arc};
    use std::sync::atomic::Ordering::{Acquire, SeqCst};

    /// Exactly one of several racing completers wins an open wait; a stale one never does.
    #[test]
    fn one_winner() {
        loom::model(|| {
            let st = Arc::new(AtomicU64::new(5u64 << 32));
            let win = |st: &AtomicU64, r: u32| {
                st.compare_exchange(5u64 << 32, (5u64 << 32) | r as u64, SeqCst, Acquire).is_ok()
            };
            let (a, b) = (st.clone(), st.clone());
            let t1 = loom::thread::spawn(move || win(&a, 16) as u32);
            let t2 = loom::thread::spawn(move || win(&b, 1) as u32);
            let stale = st.compare_exchange(4u64 << 32, (4u64 << 32) | 2, SeqCst, Acquire).is_ok();
            let n = t1.join().unwrap() + t2.join().unwrap();
            assert_eq!(n, 1);
            assert!(!stale);
        });
    }

    /// `prepare` stores the new wait's sequence number with Release only: a completer that
    /// finds the token through its publication (under the publisher's lock) always sees the
    /// wait open, so its CAS wins; it never sees the previous, ended wait.
    #[test]
    fn release_seq_is_seen_through_publication() {
        use std::sync::atomic::Ordering::Release;
        loom::model(|| {
            let st = Arc::new(AtomicU64::new((4u64 << 32) | 16)); // wait 4 ended
            let q = Arc::new(loom::sync::Mutex::new(None::<u32>));
            let (st2, q2) = (st.clone(), q.clone());
            let completer = loom::thread::spawn(move || {
                let published = *q2.lock().unwrap();
                if let Some(seq) = published {
                    let open = (seq as u64) << 32;
                    assert!(st2.compare_exchange(open, open | 16, SeqCst, Acquire).is_ok(), "a published wait is open for its completer");
                }
            });
            // The owner: `prepare`, then publish under the lock.
            let seq = ((st.load(Acquire) >> 32) as u32).wrapping_add(1);
            st.store((seq as u64) << 32, Release);
            *q.lock().unwrap() = Some(seq);
            completer.join().unwrap();
        });
    }
}
