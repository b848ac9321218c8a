//! Channels with Go's semantics, for goroutines and plain threads alike.
//!
//! A channel is one lock over: a FIFO ring of `cap` elements (`ring.rs`; empty for an
//! unbuffered channel), a queue of parked receivers and one of parked senders (`waitq.rs`),
//! and the `closed` flag. `select.rs` operates on several channels at once.
//!
//! # Invariants (under `Chan::inner`)
//! 1. At least one of `recvq` and `sendq` holds no live entry, as in Go's `chan.go`, except
//!    for one select that waits to send and to receive on the same channel.
//!    - buffered: `recvq` live implies the ring is empty; `sendq` live implies it is full.
//!    - unbuffered: a sender finding a live receiver hands over at once, and vice versa.
//! 2. `closed` never goes back to false. Once closed, both queues are empty and stay empty:
//!    close completes every parked waiter with the closed code, and nobody parks on a
//!    closed channel.
//! 3. No lost value. A value is in exactly one place: the caller's element (until an
//!    operation returns OK), the ring, or, during a hand-off, copied by the single winner of
//!    the parked side's completion CAS under this lock. A send that fails (closed, timeout,
//!    cancel, poll) leaves the value with the caller; a receive that fails writes nothing,
//!    except that a receive on a closed and drained channel zeroes its element.
//!
//! # Hand-off protocol (one side parked, Go's `send`/`recv` with a sudog)
//! 1. The parked side P published a [`waitq::Sudog`] (token, element pointer, `done` flag on
//!    its frame) under the lock, unlocked, and blocked.
//! 2. The active side A, under the lock, pops entries until `Token::complete` succeeds (stale
//!    entries of timed-out, cancelled or already-served selects fail the CAS and are dropped).
//! 3. A copies the element to or from P's pointer, then sets P's `done` and unlocks. The
//!    completion queued P on A's processor's runnext slot (goroutine) or woke its futex
//!    (thread).
//! 4. P, woken with the OK/closed code, waits for `done` (a few instructions in practice),
//!    and returns. P woken by TIMEOUT/CANCELLED instead re-locks and withdraws its entry by
//!    its key, in O(1) (`crate::waitlist`); no completer can win it any more, so nothing was
//!    copied.
//!
//! # What ThreadSanitizer is told (`sys/sanitizer.rs`)
//! Go's memory model, as Go's race detector models it: each ring slot is a sync object that
//! every push and pop acquires and releases (`ring.rs`); a hand-off to or from a parked peer
//! is an edge both ways at the peer's wait cell, and for a buffered channel also passes
//! through the ring slot it stands for (`Token::complete_handoff`, from `waitq.rs`); a close
//! is released at the channel's address and acquired by whoever sees it closed.
//!
//! # Lock order
//! Rank 30 in `sched/README.md`, "Lock order". Channel locks, several only in increasing
//! address order (select). Under a channel lock we complete tokens, which may take the
//! scheduler's locks (`sched::Runtime::ready_in`): channel locks are outer to all scheduler
//! locks. Nothing parks (but see below), blocks, or calls foreign code (drop functions run
//! only in `Drop`, with no lock held) while a channel lock is held. The one exception: a
//! goroutine's plain wait with no deadline and no cancel token switches away holding its
//! channel's lock, which its M releases right after the switch, before it takes any lock
//! (`Chan::block_queued`, `sched/README.md` section 2, "Parking under the channel lock").

#[cfg(not(loom))]
pub mod aop;
mod ring;
pub mod select;
pub mod timer;
pub(crate) mod wait;
pub(crate) mod waitq;

#[cfg(all(test, loom))]
mod loom_tests;
#[cfg(all(test, loom))]
mod timer_loom;

use crate::cancel::Cancel;
use crate::error::{Error, Result};
use crate::loom::rank::CHAN;
use crate::loom::{lock, AtomicBool, Mutex};
use crate::sys::sanitizer;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use crate::waiter::{Deadline, Limit};
use crate::waitlist::Key;
use crate::waitreason::{kind, WaitReason};
use ring::Ring;
use wait::Token;
use waitq::{Sudog, WaitQ};

pub use select::{select, Case, Op, SelectResult};
#[cfg(not(loom))]
pub(crate) use aop::ChanRef;
pub use timer::Timer;

/// Releases what an element owns (a `PyObject*`, a JNI global reference), for items still
/// in a channel when it is freed: the ABI's `gr_drop_fn` and its context.
#[derive(Clone, Copy)]
pub struct ElemDrop {
    pub f: unsafe extern "C" fn(elem: *mut std::ffi::c_void, ctx: *mut std::ffi::c_void),
    pub ctx: *mut std::ffi::c_void,
}

// SAFETY: `gr_chan_new_with_drop`'s contract: the function may run on any thread, with its
// context, once per remaining element.
unsafe impl Send for ElemDrop {}
// SAFETY: as above; it is only called from `Drop`, once.
unsafe impl Sync for ElemDrop {}

/// `repr(C)`, in this order: the parked senders' queue (40 bytes) right after the lock
/// (`Chan`'s layout), so a receive that takes a parked sender, as a select's fast path does,
/// mostly finds the queue's head on the line its lock brought in.
#[repr(C)]
pub(crate) struct Inner {
    pub(crate) sendq: WaitQ,
    pub(crate) recvq: WaitQ,
    pub(crate) closed: bool,
    ring: Ring,
    /// A timer channel's state (`timer.rs`); `None` for every other channel.
    timer: Option<Box<timer::State>>,
}

// SAFETY: the raw pointers in the wait queues are only dereferenced by the winner of their
// entry's completion, under this lock, while their owner waits (see `waitq.rs`).
unsafe impl Send for Inner {}

/// [`Chan::ready`]'s bits: a receive (a send) might complete without waiting.
const RECV_READY: u32 = 1;
const SEND_READY: u32 = 2;

impl Inner {
    /// Which operations could complete now (`try_recv`/`try_send` would not return `None`),
    /// a timer channel's mailbox aside (its receives are always tried).
    #[inline(always)]
    fn readiness(&self) -> u32 {
        if self.closed {
            return RECV_READY | SEND_READY;
        }
        let recv = !self.sendq.is_empty() || self.ring.len() > 0;
        let send = !self.recvq.is_empty() || !self.ring.is_full();
        recv as u32 * RECV_READY | send as u32 * SEND_READY
    }
}

/// The guard of a channel's lock: as it unlocks, it publishes the channel's readiness
/// ([`Chan::ready`]) for select's fast path, which reads it without the lock, once a select
/// has used the channel (`Chan::selected`; others pay one load).
pub(crate) struct ChanGuard<'a> {
    g: MutexGuard<'a, Inner>,
    chan: &'a Chan,
}

impl std::ops::Deref for ChanGuard<'_> {
    type Target = Inner;
    #[inline(always)]
    fn deref(&self) -> &Inner {
        &self.g
    }
}

impl std::ops::DerefMut for ChanGuard<'_> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut Inner {
        &mut self.g
    }
}

impl Drop for ChanGuard<'_> {
    /// Still under the lock (the inner guard drops after this): the last unlock's value is
    /// the one a reader sees once it sees that unlock.
    #[inline(always)]
    fn drop(&mut self) {
        self.publish_ready();
    }
}

impl ChanGuard<'_> {
    #[inline(always)]
    fn publish_ready(&self) {
        if !self.chan.selected.load(Relaxed) {
            return;
        }
        let r = self.g.readiness();
        if self.chan.ready.load(Relaxed) != r {
            self.chan.ready.store(r, Relaxed);
        }
    }

    /// Ends this guard without unlocking: the lock goes to the M this goroutine switches to
    /// ([`Chan::block_queued`]), which releases it. The readiness hint is published now, as
    /// an unlock would (nothing changes under the lock after this).
    #[cfg(not(loom))]
    #[inline(always)]
    fn hand_over(self) -> HandedLock {
        let this = std::mem::ManuallyDrop::new(self);
        this.publish_ready();
        // SAFETY: `this` is never dropped nor used again: the guard is moved out once.
        let g = unsafe { std::ptr::read(&this.g) }.into_raw_guard();
        // SAFETY: the raw lock is only used to release this lock, once (`HandedLock`).
        let raw = unsafe { lock_api::MutexGuard::mutex(&g).raw() } as *const crate::sys::lock::RawLock;
        std::mem::forget(g); // locked until the M releases it
        HandedLock(raw.cast())
    }
}

/// A channel's lock held by a goroutine that switched away with it (`Chan::block_queued`):
/// the M it switched to marks it parked, then releases this (`sched/README.md`, section 2,
/// "Parking under the channel lock"). Go's `gopark` with `chanparkcommit` does the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandedLock(*const ());

impl HandedLock {
    /// Unlocks the channel.
    ///
    /// # Safety
    /// Called once, by the M of the goroutine that handed the lock over, after its switch
    /// (the same OS thread that took the lock).
    #[inline(always)]
    pub(crate) unsafe fn release(self) {
        #[cfg(not(loom))]
        {
            // SAFETY: the caller's contract: this lock is held, by this thread's goroutine
            // that switched away, and released only here. The channel outlives the wait
            // (the parked operation borrows it).
            unsafe { (*(self.0 as *const crate::sys::lock::RawLock)).unlock_swap() };
        }
        #[cfg(loom)]
        unreachable!("no lock is handed over under loom (`Chan::block_queued`)");
    }
}

/// A channel of `esz`-byte elements with capacity `cap` (0: unbuffered).
///
/// Layout (`repr(C)`): what operations write (the readiness hint, the contention count, the
/// lock and what it guards) comes first, the hint beside the lock; what they only read
/// (sizes, flags) follows, and the handle's header lies after the channel. A select that
/// reads the hint brings in the line it locks next, and the unlock's hint store hits the
/// line the lock holds (`README.md`, "Cache lines": why, what it measured, and why the
/// channel is not 64-byte aligned).
#[repr(C)]
pub struct Chan {
    /// A hint, read without the lock: which operations could complete without waiting
    /// (`RECV_READY`, `SEND_READY`) as of the last unlock through a [`ChanGuard`]. Select's
    /// fast path skips the cases it rules out instead of locking their channels; what it
    /// skips, the full protocol still tries under every lock (`select.rs`), so a stale hint
    /// costs a lock pair or a case tried later, never a wrong result. Kept only once a
    /// select has used the channel (`selected`), so other channels do not pay for it.
    ready: std::sync::atomic::AtomicU32,
    /// Contended operations (an operation found the lock held by another thread) in the
    /// current tick of the coarse clock (`sched::coarse_now`): `tick << 24 | count`. See
    /// [`Chan::hot`].
    contention: AtomicU64,
    pub(crate) inner: Mutex<Inner, CHAN>,
    esz: usize,
    cap: usize,
    drop_fn: Option<ElemDrop>,
    /// Receive-only: the channel of a timer or ticker (`timer.rs`) or of a context (its
    /// `done` channel, `crate::cancel`). Its source delivers or closes; a send or a close
    /// through the API is `Invalid`.
    recv_only: bool,
    /// A timer channel's way back to its `Arc` and its heap slot (`timer.rs`); inline, not
    /// boxed (16 bytes): one allocation fewer per timer.
    timer: Option<timer::Link>,
    /// A select has used this channel: every unlock keeps `ready` up to date. Set (for
    /// good) by the select before it takes the lock the first time; every later holder of
    /// the lock sees it (the lock orders them after that select's unlock), so from that
    /// select's unlock on, `ready` follows every unlock. (Written once: read-only after.)
    selected: std::sync::atomic::AtomicBool,
}

/// The largest element, in bytes (the ABI's `GR_CHAN_ELEM_MAX`): 64 KiB, as Go refuses
/// channel element types over 64 kB. Elements are copied under the channel's lock (and by
/// select, into a scratch buffer when discarded): larger values go by pointer.
pub const ELEM_MAX: usize = 64 << 10;

/// Contended operations per tick of the coarse clock (~2 ms) that make a channel hot: ~1M a
/// second, as when goroutines on two cores do little but operate on this channel. A worker
/// pool whose jobs take microseconds contends on its jobs channel far less often, and must
/// keep spreading its workers over the cores.
const HOT_RATE: u64 = 256;
const COUNT_BITS: u32 = 24;

/// The guard of a channel's lock.
pub(crate) type MutexGuard<'a, T> = crate::loom::MutexGuard<'a, T, CHAN>;

/// What a ready operation did (shared by the plain operations and select).
pub(crate) enum Ready {
    Ok,
    Closed,
}

impl Chan {
    /// A channel of `elem_size`-byte elements. `Invalid` for size 0 or above [`ELEM_MAX`];
    /// `NoMemory` when the buffer cannot be allocated.
    pub fn new(elem_size: usize, capacity: usize) -> Result<Chan> {
        Chan::with_drop(elem_size, capacity, None)
    }

    /// As [`Chan::new`]; `drop` runs on each element still buffered when the channel is freed.
    pub fn with_drop(elem_size: usize, capacity: usize, drop: Option<ElemDrop>) -> Result<Chan> {
        if elem_size == 0 || elem_size > ELEM_MAX {
            return Err(Error::Invalid);
        }
        Ok(Chan {
            esz: elem_size,
            cap: capacity,
            inner: Mutex::new(Inner { sendq: WaitQ::default(), recvq: WaitQ::default(), closed: false, ring: Ring::new(elem_size, capacity)?, timer: None }),
            drop_fn: drop,
            contention: AtomicU64::new(0),
            recv_only: false,
            timer: None,
            ready: std::sync::atomic::AtomicU32::new(0),
            selected: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// [`Chan::lock_inner`] for a send or (`recv`) a receive, asking first for the line(s)
    /// of the inline entry of the queue the operation would complete from (a receive: the
    /// parked senders'; a send: the parked receivers'): a lone parked peer lies there (`waitlist.rs`, "Why inline"), so its line comes
    /// over from the peer's core together with the lock's instead of after it (`README.md`,
    /// "Hand-off to a thread"). Unbuffered channels only: there an operation mostly meets a
    /// parked peer, while on a buffered one it mostly meets the ring, and fetching the
    /// entry's lines for writing took them from the other core for nothing (`gr_bench fanin
    /// 1000000 2`, 10 alternated pairs: 74 -> 78 ns a message when every channel did).
    #[inline(always)]
    pub(crate) fn lock_for(&self, recv: bool) -> ChanGuard<'_> {
        #[cfg(not(loom))]
        if self.cap == 0 {
            let q = if recv { std::mem::offset_of!(Inner, sendq) } else { std::mem::offset_of!(Inner, recvq) };
            let e = self.inner.data_addr().wrapping_add(q + WaitQ::INLINE_OFFSET);
            prefetch_write(e);
            prefetch_write(e.wrapping_add(WaitQ::INLINE_SIZE - 1));
        }
        #[cfg(loom)]
        let _ = recv;
        self.lock_inner()
    }

    /// Takes the channel's lock, counting contention (an operation found it held by another
    /// thread) for [`Chan::hot`].
    #[inline]
    pub(crate) fn lock_inner(&self) -> ChanGuard<'_> {
        // The lock's line for writing first: `try_lock` loads the word before its CAS, and a
        // line that another core wrote last would otherwise come over twice (shared for the
        // load, then exclusive for the CAS).
        prefetch_write(self as *const Chan as *const u8);
        // (Under loom, plain locking: the count is a scheduling hint, not part of a protocol.)
        #[cfg(not(loom))]
        if let Some(g) = self.inner.try_lock() {
            return ChanGuard { g, chan: self };
        }
        #[cfg(not(loom))]
        self.count_contention();
        self.lock_plain()
    }

    /// Takes the channel's lock (no contention count: for withdrawing an entry).
    #[inline]
    pub(crate) fn lock_plain(&self) -> ChanGuard<'_> {
        ChanGuard { g: lock(&self.inner), chan: self }
    }

    /// Whether an operation `recv` (else a send) might complete without waiting: false when
    /// the last unlock left none ready (a hint for select's fast path; see `ready`). A timer
    /// channel's receive is always worth a look (its mailbox fills by the clock).
    #[inline(always)]
    pub(crate) fn may_be_ready(&self, recv: bool) -> bool {
        // The hint shares the lock's line, which the select takes next if the hint says so.
        prefetch_write(self as *const Chan as *const u8);
        if cfg!(loom) || (recv && self.timer.is_some()) {
            return true; // (loom explores the fast path with every case tried)
        }
        if !self.selected.load(Relaxed) {
            // The first select here: from its unlock on, every unlock keeps `ready`.
            self.selected.store(true, Relaxed);
            return true;
        }
        self.ready.load(Relaxed) & if recv { RECV_READY } else { SEND_READY } != 0
    }

    /// Approximate (racing updates may lose a count): only the order of magnitude matters.
    #[cold]
    #[cfg(not(loom))]
    fn count_contention(&self) {
        let now = crate::sched::coarse_now();
        let c = self.contention.load(Relaxed);
        let n = if c >> COUNT_BITS == now { (c & ((1 << COUNT_BITS) - 1)) + 1 } else { 1 };
        self.contention.store(now << COUNT_BITS | n.min((1 << COUNT_BITS) - 1), Relaxed);
    }

    /// Contended at a high rate in this or the previous tick (~2-4 ms): goroutines on
    /// several cores do little but operate on this channel. A goroutine woken through a hot
    /// channel is queued so that no other processor steals the goroutine it displaces from
    /// runnext (`Token::complete_hint`): the partners keep to one core instead of bouncing
    /// the lock between cores. (Measured, 4 producers -> 4 consumers on one channel, 2
    /// workers: 0.30 s per 10M messages this way, 0.6-0.7 s with stealing spreading them.)
    #[inline]
    fn hot(&self) -> bool {
        let c = self.contention.load(Relaxed);
        c & ((1 << COUNT_BITS) - 1) >= HOT_RATE && (c >> COUNT_BITS) + 1 >= crate::sched::coarse_now()
    }

    pub fn elem_size(&self) -> usize {
        self.esz
    }

    /// The capacity (0 for a timer channel, as in Go 1.23: see `timer.rs`).
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// A receive-only channel (a timer's, a context's `done`): sends and closes are refused.
    pub fn is_recv_only(&self) -> bool {
        self.recv_only
    }

    /// A context's `done` channel: unbuffered, 1-byte elements, receive-only; closed by the
    /// context when it fires ([`Chan::close_source`]).
    pub(crate) fn new_done() -> Chan {
        let mut c = Chan::new(1, 0).expect("a 1-byte unbuffered channel needs no allocation");
        c.recv_only = true;
        c
    }

    /// Buffered elements now (0 for a timer channel, as its capacity).
    pub fn len(&self) -> usize {
        lock(&self.inner).ring.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn is_closed(&self) -> bool {
        let closed = lock(&self.inner).closed;
        if closed {
            sanitizer::acquire(self.sync_addr());
        }
        closed
    }

    /// Where a sanitizer is told of the channel's close.
    fn sync_addr(&self) -> usize {
        self as *const Chan as usize
    }

    /// Sends the `elem_size` bytes at `src`. On any error the value stays with the caller.
    ///
    /// # Safety
    /// `src` must be valid for reading `elem_size` bytes until this returns.
    #[inline(always)] // in `gr_chan_send_ex`/`gr_chan_recv_ex`: one mispredicted return fewer after a park (`sched/README.md`)
    pub unsafe fn send(&self, src: *const u8, limit: impl Limit, cancel: Option<&Cancel>) -> Result<()> {
        if self.recv_only {
            return Err(Error::Invalid);
        }
        let mut g = self.lock_for(false);
        match self.try_send(&mut g, src) {
            Some(Ready::Ok) => return Ok(()),
            Some(Ready::Closed) => return Err(Error::Closed),
            None => {}
        }
        // (The deadline itself only after the unlock: `block_queued`.)
        wait::may_wait(limit.known().unwrap_or(Deadline::Never))?;
        let tok = wait::prepare(WaitReason::on(kind::CHAN_SEND, self));
        if let Some((done, buf, cap)) = Self::landing_of(&mut g, &tok) {
            if self.esz <= cap {
                return self.send_landed(g, src, &tok, done, buf, limit, cancel);
            }
        }
        let done = AtomicBool::new(false);
        // SAFETY: `tok` and `done` stay on this frame until the entry is gone (waitq.rs).
        let key = g.sendq.push(Sudog::new(&tok, src as *mut u8, 0, &done));
        let (r, deadline) = self.block_queued(g, &tok, limit, cancel);
        self.finish_plain(key, r, deadline, &done, true)
    }

    /// The landing a plain operation's wait `tok` uses here, if any ([`Token::landing`]): a
    /// thread's always, a goroutine's once a plain thread has waited or woken a waiter on
    /// this channel (`WaitQ::met_thread`, which a thread's wait sets here): its waker is then
    /// likely on another CPU, and fills the landing in the line it fetches for the
    /// completion anyway, so the goroutine's resume reads one line fewer. Goroutines among
    /// themselves (their waker mostly on their own CPU) keep their frames and save the
    /// landing's copies (`README.md`, "Hand-off to a thread"). A hint: either way is correct.
    #[inline(always)]
    fn landing_of<'t>(g: &mut Inner, tok: &'t Token) -> Option<(&'t AtomicBool, *mut u8, usize)> {
        let met = g.sendq.met_thread || g.recvq.met_thread;
        let l = tok.landing(met);
        if !met && l.is_some() {
            g.sendq.met_thread = true; // (only a thread's comes back without it)
        }
        l
    }

    /// [`Chan::send`]'s wait for a thread: the element goes through the landing of the
    /// thread's wait cell (`done`, `buf`: [`Token::landing`]), so the completer finds the
    /// completion word, the element and `done` in one cache line (`README.md`, "Hand-off").
    /// Out of line: a goroutine's send keeps its frame small.
    ///
    /// # Safety
    /// As [`Chan::send`]; `tok` is this caller's fresh token, `(done, buf)` its landing, and
    /// `esz` at most the landing's size.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn send_landed(&self, mut g: ChanGuard<'_>, src: *const u8, tok: &Token, done: &AtomicBool, buf: *mut u8, limit: impl Limit, cancel: Option<&Cancel>) -> Result<()> {
        // This thread's landing is its own until its entry is published (no wait of it is
        // open): the lock's release below orders these stores before any completer's use.
        done.store(false, Relaxed);
        // SAFETY: `src` is readable for `esz` bytes (our contract); the landing holds
        // at least `esz` bytes and nobody else touches it now.
        ring::copy_elem(src, buf, self.esz);
        // SAFETY: `tok` outlives the entry (the caller's frame; waitq.rs), and so does the
        // landing, which `tok` keeps alive.
        let key = g.sendq.push(Sudog::new_landed(tok, buf, done));
        let (r, deadline) = self.block_queued(g, tok, limit, cancel);
        self.finish_plain(key, r, deadline, done, true)
    }

    /// Receives into the `elem_size` bytes at `dst`. `Closed` (with `dst` zeroed) once the
    /// channel is closed and drained; other errors leave `dst` untouched.
    ///
    /// # Safety
    /// `dst` must be valid for writing `elem_size` bytes until this returns.
    #[inline(always)] // in `gr_chan_send_ex`/`gr_chan_recv_ex`: one mispredicted return fewer after a park (`sched/README.md`)
    pub unsafe fn recv(&self, dst: *mut u8, limit: impl Limit, cancel: Option<&Cancel>) -> Result<()> {
        let mut g = self.lock_for(true);
        match self.try_recv(&mut g, dst) {
            Some(Ready::Ok) => return Ok(()),
            Some(Ready::Closed) => return Err(Error::Closed),
            None => {}
        }
        // (The deadline itself only after the unlock: `block_queued`.)
        wait::may_wait(limit.known().unwrap_or(Deadline::Never))?;
        let tok = wait::prepare(WaitReason::on(kind::CHAN_RECV, self));
        if let (Some((done, buf, cap)), false) = (Self::landing_of(&mut g, &tok), dst.is_null()) {
            if self.esz <= cap {
                return self.recv_landed(g, dst, &tok, done, buf, limit, cancel);
            }
        }
        let done = AtomicBool::new(false);
        // SAFETY: `tok` and `done` stay on this frame until the entry is gone (waitq.rs).
        let key = g.recvq.push(Sudog::new(&tok, dst, 0, &done));
        if self.timer.is_some() {
            self.timer_block(&mut g);
        }
        let (r, deadline) = self.block_queued(g, &tok, limit, cancel);
        let res = self.finish_plain(key, r, deadline, &done, false);
        if res == Err(Error::Closed) {
            // SAFETY: the caller's contract: `dst` is writable for `esz` bytes.
            std::ptr::write_bytes(dst, 0, self.esz);
        }
        res
    }

    /// [`Chan::recv`]'s wait for a thread, through its landing (as [`Chan::send_landed`]).
    ///
    /// # Safety
    /// As [`Chan::recv`], with `dst` not NULL; `tok` is this caller's fresh token,
    /// `(done, buf)` its landing, and `esz` at most the landing's size.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn recv_landed(&self, mut g: ChanGuard<'_>, dst: *mut u8, tok: &Token, done: &AtomicBool, buf: *mut u8, limit: impl Limit, cancel: Option<&Cancel>) -> Result<()> {
        done.store(false, Relaxed); // (as in `send_landed`)
        // SAFETY: as in `send_landed`.
        let key = g.recvq.push(Sudog::new_landed(tok, buf, done));
        if self.timer.is_some() {
            self.timer_block(&mut g);
        }
        let (r, deadline) = self.block_queued(g, tok, limit, cancel);
        let res = self.finish_plain(key, r, deadline, done, false);
        match res {
            // SAFETY: the winner wrote `esz` bytes into the landing before `done` (which
            // `finish_plain` waited for); `dst` is writable for `esz` bytes (our contract).
            Ok(()) => ring::copy_elem(buf, dst, self.esz),
            // SAFETY: as above.
            Err(Error::Closed) => std::ptr::write_bytes(dst, 0, self.esz),
            Err(_) => {}
        }
        res
    }

    /// Unlocks `g` and waits for the plain operation whose entry the caller just queued
    /// under it (`wait::block`). A goroutine's wait with no deadline and no cancel token on
    /// a channel without a timer can only be completed under this lock (by a peer or a
    /// close), so it switches away still holding it, and its M marks it parked with a plain
    /// store and then unlocks (`Suspend::ParkUnlock`, `state::mark_parked`): no completer
    /// can come between, and the park handshake's compare-exchange (`commit_park`, one
    /// locked instruction per park) is not needed (`sched/README.md`, section 2).
    ///
    /// A relative timeout becomes a deadline here, after the unlock ([`Limit::known`]); the
    /// deadline is returned with the wait's result.
    #[inline(always)]
    fn block_queued(&self, g: ChanGuard<'_>, tok: &Token, limit: impl Limit, cancel: Option<&Cancel>) -> (u32, Deadline) {
        #[cfg(not(loom))]
        if let (Some(Deadline::Never), None, None, Some(gr)) = (limit.known(), cancel, &self.timer, tok.goroutine()) {
            return (crate::waiter::park_handing(tok, gr, g.hand_over()), Deadline::Never);
        }
        drop(g);
        let deadline = limit.deadline();
        (wait::block(tok, deadline, cancel), deadline)
    }

    /// After `block` of a plain operation: wait for the winner's copy, or withdraw the entry
    /// `key` (O(1); see `waitq.rs` for why the token and `done` outlive every use).
    #[inline(always)]
    fn finish_plain(&self, key: Key, r: u32, deadline: Deadline, done: &AtomicBool, sender: bool) -> Result<()> {
        match waitq::decode(r) {
            Some((_, closed)) => {
                wait::wait_flag(done);
                if closed {
                    Err(Error::Closed)
                } else {
                    Ok(())
                }
            }
            None => {
                let mut g = self.lock_plain();
                if sender {
                    g.sendq.remove(key);
                } else {
                    g.recvq.remove(key);
                }
                drop(g);
                Err(wait::error_of(r, deadline))
            }
        }
    }

    /// A send that needs no wait, under the lock: `None` if it would block.
    ///
    /// # Safety
    /// `src` valid for reading `esz` bytes.
    #[inline(always)]
    pub(crate) unsafe fn try_send(&self, g: &mut Inner, src: *const u8) -> Option<Ready> {
        if g.closed {
            sanitizer::acquire(self.sync_addr());
            return Some(Ready::Closed);
        }
        let esz = self.esz;
        // A parked receiver implies an empty ring: hand over directly (invariant 1).
        // SAFETY: we won `r`, whose destination (NULL: a select discarding the value) stays
        // valid until it is released (`dequeue_then`, after this copy).
        if g.recvq.dequeue_then(|| self.hot(), || g.ring.handoff_slot(), |r| unsafe { copy_out(src, r.elem, esz) }) {
            return Some(Ready::Ok);
        }
        if !g.ring.is_full() {
            // SAFETY: `src` is readable (our contract) and not part of the ring.
            g.ring.push(src);
            return Some(Ready::Ok);
        }
        None
    }

    /// A receive that needs no wait, under the lock: `None` if it would block. On
    /// `Ready::Closed` `dst` is zeroed.
    ///
    /// # Safety
    /// `dst` valid for writing `esz` bytes (or NULL: discard the value).
    #[inline(always)]
    pub(crate) unsafe fn try_recv(&self, g: &mut Inner, dst: *mut u8) -> Option<Ready> {
        // (A parked sender's value goes through the ring below, or straight across.)
        let (esz, cap) = (self.esz, self.cap);
        let ring = &mut g.ring;
        let took = g.sendq.dequeue_then(
            || self.hot(),
            || 0,
            // SAFETY: we won `s`, whose source stays valid until it is released (by
            // `dequeue_then`, after this); `dst` per our contract.
            |s| unsafe {
                if cap == 0 {
                    copy_out(s.elem, dst, esz);
                } else {
                    // A parked sender implies a full ring: take the head, refill the tail.
                    pop_out(ring, dst, esz);
                    ring.push(s.elem);
                }
            },
        );
        if took {
            return Some(Ready::Ok);
        }
        if g.ring.len() > 0 {
            // SAFETY: `dst` is NULL or writable (our contract).
            pop_out(&mut g.ring, dst, self.esz);
            return Some(Ready::Ok);
        }
        if g.timer.is_some() {
            // SAFETY: `dst` is NULL or writable for the 8-byte element (our contract).
            return self.timer_recv(g, dst);
        }
        if g.closed {
            sanitizer::acquire(self.sync_addr());
            if !dst.is_null() {
                // SAFETY: non-NULL `dst` is writable for `esz` bytes (our contract).
                std::ptr::write_bytes(dst, 0, self.esz);
            }
            return Some(Ready::Closed);
        }
        None
    }

    /// Closes the channel: parked receivers get `Closed`, parked senders `Closed` (keeping
    /// their value); buffered items can still be received. `Closed` if already closed.
    /// `Invalid` for a receive-only channel (a timer's, a context's).
    pub fn close(&self) -> Result<()> {
        if self.recv_only {
            return Err(Error::Invalid);
        }
        self.close_source()
    }

    /// [`Chan::close`] by the channel's own source (a context closing its `done` channel).
    pub(crate) fn close_source(&self) -> Result<()> {
        let mut g = self.lock_plain();
        if g.closed {
            return Err(Error::Closed);
        }
        g.closed = true;
        sanitizer::release(self.sync_addr()); // for those who see it closed (`Ready::Closed`)
        while let Some(r) = g.recvq.dequeue(true, || false, || 0) {
            if !r.elem.is_null() {
                // SAFETY: we won `r`; its destination is valid until released.
                unsafe { std::ptr::write_bytes(r.elem, 0, self.esz) };
            }
            r.release();
        }
        while let Some(s) = g.sendq.dequeue(true, || false, || 0) {
            s.release();
        }
        Ok(())
    }

    /// Safe form of [`Chan::send`] for Rust callers: `v.len()` must equal `elem_size`.
    pub fn send_bytes(&self, v: &[u8], deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
        if v.len() != self.esz {
            return Err(Error::Invalid);
        }
        // SAFETY: `v` holds exactly `esz` readable bytes for the whole call.
        unsafe { self.send(v.as_ptr(), deadline, cancel) }
    }

    /// Safe form of [`Chan::recv`] for Rust callers: `v.len()` must equal `elem_size`.
    pub fn recv_bytes(&self, v: &mut [u8], deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
        if v.len() != self.esz {
            return Err(Error::Invalid);
        }
        // SAFETY: `v` holds exactly `esz` writable bytes for the whole call.
        unsafe { self.recv(v.as_mut_ptr(), deadline, cancel) }
    }

    /// Sends a `u64` (the channel's `elem_size` must be 8). For tests and examples.
    pub fn send_u64(&self, v: u64, deadline: Deadline) -> Result<()> {
        self.send_bytes(&v.to_ne_bytes(), deadline, None)
    }

    /// Receives a `u64` (the channel's `elem_size` must be 8). For tests and examples.
    pub fn recv_u64(&self, deadline: Deadline) -> Result<u64> {
        let mut b = [0u8; 8];
        self.recv_bytes(&mut b, deadline, None)?;
        Ok(u64::from_ne_bytes(b))
    }
}

/// Asks the CPU to bring the cache line holding `p` in for writing (x86 `prefetchw`), where
/// a load is followed by a write to the same line that another core may have written last
/// (see [`Chan`]'s layout): one transfer of the line instead of two. A hint only: it never
/// faults, whatever `p` is, and changes no memory (on a CPU without the instruction it is a
/// no-op: the opcode is a reserved NOP there).
#[inline(always)]
pub(crate) fn prefetch_write(p: *const u8) {
    #[cfg(all(target_arch = "x86_64", not(loom)))]
    // SAFETY: `prefetchw` reads or writes no architectural state and never faults (an
    // invalid address is ignored), so any pointer value is sound here.
    unsafe {
        std::arch::asm!("prefetchw [{p}]", p = in(reg) p, options(nostack, preserves_flags, readonly));
    }
    #[cfg(not(all(target_arch = "x86_64", not(loom))))]
    let _ = p;
}

/// Copies a received element out, or discards it (`dst` NULL).
///
/// # Safety
/// `src` readable and `dst` NULL or writable, `n` bytes, not overlapping.
#[inline]
unsafe fn copy_out(src: *const u8, dst: *mut u8, n: usize) {
    if !dst.is_null() {
        // SAFETY: the caller's contract.
        ring::copy_elem(src, dst, n);
    }
}

/// Pops the ring's head into `dst`, or discards it (`dst` NULL).
///
/// # Safety
/// `dst` NULL or writable for `n` bytes.
#[inline]
unsafe fn pop_out(ring: &mut Ring, dst: *mut u8, n: usize) {
    if dst.is_null() {
        let mut scratch = vec![0u8; n];
        // SAFETY: `scratch` holds `n` writable bytes outside the ring.
        ring.pop(scratch.as_mut_ptr());
    } else {
        // SAFETY: the caller's contract.
        ring.pop(dst);
    }
}

impl Drop for Chan {
    fn drop(&mut self) {
        sanitizer::forget(self.sync_addr()); // handles' pools reuse the address
        let Some(d) = self.drop_fn else { return };
        let mut items = Vec::new();
        {
            let mut g = lock(&self.inner);
            let esz = self.esz;
            g.ring.drain_each(|p| {
                // SAFETY: `p` points at one buffered element of `esz` bytes.
                items.push(unsafe { std::slice::from_raw_parts(p, esz) }.to_vec());
            });
        }
        for mut it in items {
            // SAFETY: the drop function's contract: called once per remaining element, with
            // a pointer to a copy of its bytes and the registered context.
            unsafe { (d.f)(it.as_mut_ptr().cast(), d.ctx) };
        }
    }
}
