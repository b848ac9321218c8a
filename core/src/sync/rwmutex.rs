//! RWMutex: Go's `sync.RWMutex` (many readers or one writer, writer preference), with a
//! timeout and a cancel token on every lock, for goroutines and plain threads alike.
//!
//! Writer preference as Go's: once a writer waits, new readers wait too, so a stream of
//! readers cannot starve it. Readers cannot be starved by writers either: a reader queued
//! for over 10 ms is handed the lock at the next writer's unlock, before the next writer (Go's
//! order, always).
//!
//! # Reader counts per processor
//! Readers are counted in `slots`, one cache line per processor (index `(p - 1) & mask`;
//! plain threads share the last): a read lock and unlock are one CAS on their processor's
//! line and read nothing shared. One shared count (Go's `readerCount`, and this module
//! before) made every read an RMW on one line bouncing between the processors: with 2
//! workers and 99% reads, 77% of the CPU time went to those RMWs (perf, `gr_bench rwmutex`).
//! There are as many slots as the runtime has processors, rounded up to a power of two and
//! at most `MAX_SLOTS` (8): 2 workers, 2 slots of 128 bytes, allocated with the RWMutex
//! (a separate allocation is safe: nothing touches an RWMutex after its last release,
//! invariant 8). A reader may unlock on another processor than it locked on (it migrated,
//! or another goroutine unlocks for it, as Go allows): it then decrements any slot above
//! zero, as only the sum counts, and no slot ever goes below zero.
//!
//! Slot word: `version << 32 | count << 1 | HELD`. `HELD`: a writer holds the lock or waits
//! for the readers inside to leave; a read lock's CAS refuses a word with it. Every count
//! change also changes the version, so two equal collects of all slots are an exact snapshot
//! (`snapshot`, used only to tell a wrong `runlock` from a migrated one).
//!
//! # Writers: epochs and the drain count
//! A writer that takes `WRITER` (state word, below) opens an *epoch*: it sets `HELD` in
//! every slot with an RMW, which returns the slot's count then; their sum `r` is the number
//! of readers it must wait for, which it adds to the drain count `wait` (`count << 1 |
//! PARKED`). A reader whose decrement returns `HELD` was counted in that `r` (a slot with
//! `HELD` refuses increments, so its count only falls): it *reports*, subtracting 1 from
//! `wait`. The writer owns the lock once it sees `wait` at 0: by a load (spinning), or its
//! `fetch_or(PARKED)` returns 0, or the reader whose report takes `wait` from 1 to 0 and
//! finds `PARKED` wakes it (under `q`, re-checking). The writer's unlock (or its giving up)
//! closes the epoch: it clears `HELD` in every slot (readers may enter again) and subtracts
//! from `wait` the counts those clears returned (readers still inside, who will not
//! report), then releases `WRITER`. So a reader reads nothing after its decrement but what
//! its own RMW returned, and one that reports touches only `wait` (and `q` for the wake),
//! while the writer cannot own the lock before that report.
//!
//! State word `state` (atomic), the writers' side:
//!
//! | bit       | meaning                                                                  |
//! |-----------|--------------------------------------------------------------------------|
//! | `WRITER`  | a writer owns the write side (its epoch, drained or not)                 |
//! | `PENDING` | more writers are queued for `WRITER`                                     |
//! | `RWAIT`   | readers are queued: a writer's unlock must take the slow path            |
//!
//! - `rlock`: a CAS `+1` on its slot if `HELD` is clear: it is in. Else it spins briefly
//!   for `HELD` to clear, and only then queues (under `q`).
//! - `runlock`: a CAS `-1` on its slot if above zero (else on another slot above zero); if
//!   the word had `HELD`, report.
//! - `lock`: a CAS `0 -> WRITER` (else, under `q`, set `WRITER` if no writer has it, or queue
//!   for a hand-off), then open the epoch and *drain*: at `wait` 0 the lock is its, else
//!   spin a moment, then register in `q.drainer`, set `PARKED` and park.
//! - `unlock`: close the epoch, then a CAS `WRITER -> 0`, else the slow path (with a writer
//!   queued, the slow path at once, which passes the epoch on open).
//!
//! Readers and writers need no `SeqCst`: the race that decides whether a writer counts a
//! reader (its `HELD` RMW against the reader's CAS) and whether a reader reports (its
//! decrement against `HELD`'s set and clear) is on one slot word, totally ordered. The
//! RMWs are `AcqRel` (a reader's lock acquires the writer's `HELD` clear, the writer's
//! `HELD` set or its look at `wait` acquires the readers' decrements and reports).
//!
//! Queue `q` (a lock): the queued readers (with the time each first queued) and writers
//! ([`WaitList`]s, FIFO, O(1) withdrawal), the number of queued readers, and the draining
//! writer's token.
//!
//! # Releasing readers: woken, or handed the lock
//! When the write lock is released and readers are queued, they are normally *woken*: each
//! retries when it runs (first without `q`), and queues again at the front if a writer took
//! `WRITER` meanwhile. A woken reader is not counted until it is in: a writer that comes
//! meanwhile does not wait for woken readers that have not run yet (counting them, as Go
//! does, let the batch of readers a writer waits for grow into a convoy here). Readers queued
//! for over `STARVE` are instead *handed* the lock (counted in a slot, under `q`, after the
//! epoch closed), so a reader's wait is bounded whatever the writers do; a writer queued
//! behind them is handed `WRITER` in the same step and drains them in its own epoch.
//!
//! # Invariants
//! 1. Under `q`: `PENDING` is set iff `q.writers` is non-empty; `RWAIT` iff `q.readers` is;
//!    `PARKED` iff `q.drainer` is `Some`. `PENDING` without `WRITER` only inside a critical
//!    section of `q` (the queueing writer then takes `WRITER`). `HELD` is set only in an
//!    epoch, which opens after `WRITER` is taken and closes before it is released (or
//!    passes, open and drained, to the next writer with `WRITER`).
//! 2. Exclusion: a reader is *in* from its increment, which found no `HELD`; a writer owns
//!    the lock once it saw `wait` at 0 in its epoch. The slot's order decides: an increment
//!    before the writer's `HELD` RMW is in `r`, one after is refused. After the last `HELD`
//!    set no increment succeeds (hand-offs count only between epochs), so a slot's count only
//!    falls; a fall before `HELD` is in `r`, one after is reported. So `wait`, once `r` is
//!    added, is the readers inside plus the reports not yet landed: at 0 none is in and none
//!    is still reporting. (Reports may land before `r` is added: `wait` then dips below
//!    zero; nothing acts on that.)
//! 3. No lost drain: `PARKED` is set (under `q`, with the token in `q.drainer`) by an RMW;
//!    if that RMW found `wait` at 0, the writer owns the lock and takes `PARKED` back. Else
//!    the report that takes `wait` to 0 comes later and sees `PARKED`; it takes `q`, and if
//!    `wait` is still exactly `PARKED` (the writer did not give up meanwhile), clears it and
//!    completes the token. A writer whose timeout or cancel won its token looks under `q`:
//!    with `wait` not at 0 it takes its token and `PARKED` back, closes its epoch and
//!    releases `WRITER` as an unlock does (it gives up); with `wait` at 0 (exactly `PARKED`)
//!    the readers are gone and the last one is on its way to `q` to wake it: the lock is
//!    its, once that reader is done with `q` (it waits for that wake on a fresh token in
//!    `q.drainer`: invariant 8). `PARKED` is taken back by a CAS that fails once `wait` is
//!    exactly `PARKED`, so the last report either finds it (and wakes) or not (and the
//!    writer has given up).
//! 4. Closing an epoch subtracts the counts its `HELD` clears returned: every reader of `r`
//!    either reported or is among them, so `wait` returns to the reports still in flight
//!    (0 after a drain; after a writer gave up, readers whose decrement saw `HELD` may not
//!    have reported yet). Those reports land in a later epoch's `wait`, which is then over
//!    its readers, never under: its writer waits for them too, so no late report lands after
//!    a writer owns the lock (free-after-wait, invariant 8).
//! 5. A reader queues only while `WRITER` is set; whoever clears `WRITER` under `q` wakes or
//!    hands the lock to every queued reader in the same critical section. Against a writer's
//!    fast unlock (a CAS `WRITER -> 0`, without `q`): the reader sets `RWAIT` with an RMW and
//!    looks at what it replaced; if `WRITER` was gone it wakes the queue itself, else the
//!    writer's CAS fails on `RWAIT` and it unlocks through `q`. The same for a queueing writer
//!    and `PENDING`: if `WRITER` was gone, it takes `WRITER` itself. `WRITER` passes between
//!    writers without being clear (`hand_to_next_writer`): queued readers stay queued. An
//!    unlock that sees `PENDING` passes its epoch on open (no reader enters between the
//!    writers; the next one's `HELD` RMWs find all counts 0 and `wait` 0, so it owns the
//!    lock at once); else (or if the queued writers all gave up) the epoch is closed first,
//!    and a reader arriving between two writers may enter, drained by the next, as in Go.
//! 6. Handed readers are counted (in slot 0, no epoch open) when they leave the queue and
//!    completed under `q`; one whose own timeout won its token is taken back out under `q`
//!    by the hander (from any slot above zero). Woken readers are completed after `q` is
//!    released (nothing to undo for one whose timeout won: it was never counted).
//! 7. A waiter whose timeout or cancel wins withdraws its entry by key (O(1)); a queued
//!    writer leaving the queue empty clears `PENDING`.
//! 8. Free-after-wait: once a writer owns the lock, no reader touches the RWMutex any more
//!    (invariant 2: all reports landed); the reader that woke it did so under `q`, which a
//!    woken writer takes once more after its wake (one whose timeout won waits for that
//!    reader to be done with `q`: invariant 3), as do a handed reader and a granted writer;
//!    a woken reader's waker touches only the tokens once it has released `q`. A reader's
//!    last touch is its decrement, or its report (which the writer waits for), or `q` for
//!    the wake. So `gr_rwmutex_free` right after a lock or the last unlock returned is safe,
//!    and the slots may live in their own allocation. (The loom models check it: a model
//!    marks the RWMutex freed as its writer's lock returns, and a reader's touches assert
//!    it is not.)
//!
//! A `runlock` finding no slot above zero checks an exact snapshot of the sum: at zero, it
//! was not read-locked (`State`). Best effort, as Go's: a wrong `runlock` while others hold
//! read locks is not seen. An `unlock` not under a write lock is `State` (best effort too:
//! one racing a writer that has not finished draining is not always seen).
//!
//! Lock order (`sched/README.md`, "Lock order"): `q` is rank 34, outer to the scheduler's
//! locks, which completing tokens under it may take.
#![cfg_attr(not(loom), forbid(unsafe_code))] // (its loom model checks exclusion with an UnsafeCell)

use crate::cancel::Cancel;
use crate::chan::wait::{self, Token};
use crate::error::{Error, Result};
use crate::loom::rank::RWMUTEX;
use crate::loom::{lock, AtomicU64, Mutex as Lock, MutexGuard};
use crate::waiter::Deadline;
use crate::waitlist::WaitList;
use crate::waitreason::{kind, WaitReason};
use crossbeam_utils::CachePadded;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::time::{Duration, Instant};

const WRITER: u64 = 1;
const PENDING: u64 = 1 << 1;
const RWAIT: u64 = 1 << 2;

/// In a slot word: a writer's epoch is open (module docs).
const HELD: u64 = 1;
/// A slot's increment and decrement: the count (bits 1-31) by one, the version (bits 32-63)
/// by one. (A decrement is applied only to a count above zero, so as an integer the word
/// just moves by `DEC`, without a borrow.)
const INC: u64 = (1 << 32) + 2;
const DEC: u64 = (1 << 32) - 2;

/// In `wait`: the writer registered in `q.drainer` and parks (the count is `wait >> 1`).
const PARKED: u64 = 1;
/// A report: `wait` by -1.
const REPORT: u64 = 2;

/// Slots at most per RWMutex; processors beyond share them (module docs).
#[cfg(not(loom))]
const MAX_SLOTS: usize = 8;

/// Your turn: the lock (read or write) is yours.
const GRANT: u32 = wait::USER;
/// The write lock was released: retry (a reader).
const WOKEN: u32 = wait::USER + 1;

/// Rounds (of 4 spin hints, then a look) a reader that met a writer, or a writer waiting
/// for readers, spins before queueing: about as long as `wait::spin_briefly`.
#[cfg_attr(loom, allow(dead_code))]
const SPINS: u32 = 10;

/// A reader queued this long is handed the lock at the next unlock (module docs).
#[cfg_attr(loom, allow(dead_code))] // (under loom, `LOOM_STARVING` says instead)
const STARVE: Duration = Duration::from_millis(10);

#[cfg(loom)]
std::thread_local! {
    /// Under loom, time must not steer the model (it replays each interleaving): readers
    /// starve exactly when a test says so (loom runs its threads on the test's thread).
    static LOOM_STARVING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[cfg(loom)]
loom::thread_local! {
    /// Under loom, each model thread moves to the next slot at every read lock or unlock,
    /// so the models see readers unlock on another slot than they locked on (migration).
    static LOOM_SLOT: std::cell::Cell<usize> = std::cell::Cell::new(0);
}

/// Has the oldest queued reader waited `STARVE`?
fn starving(q: &Queue) -> bool {
    #[cfg(loom)]
    return !q.readers.is_empty() && LOOM_STARVING.with(|s| s.get());
    #[cfg(not(loom))]
    q.readers.front().is_some_and(|r| r.since.elapsed() >= STARVE)
}

/// A busy-wait round's pause (under loom, a yield, so that the model can run the others).
#[inline]
fn relax() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    std::hint::spin_loop();
}

#[cfg_attr(loom, allow(dead_code))] // (`since`: time does not steer the loom model)
struct Reader {
    tok: Token,
    since: Instant,
}

#[derive(Default)]
struct Queue {
    readers: WaitList<Reader>,
    nreaders: u64,
    writers: WaitList<Token>,
    /// The writer holding `WRITER` that parked until the readers inside leave (`PARKED`).
    drainer: Option<Token>,
}

type Guard<'a> = MutexGuard<'a, Queue, RWMUTEX>;

/// The count in a slot's word.
#[inline]
fn count(v: u64) -> u64 {
    (v as u32 >> 1) as u64
}

/// Completes the tokens of woken readers, after `q` is released (invariants 6 and 8).
fn wake(woken: Vec<Token>) {
    for t in woken {
        t.complete(WOKEN);
    }
}

/// Slots for the processors of the runtime (started or about to be), rounded up to a power
/// of two, at most `MAX_SLOTS` (module docs). Two under loom.
fn slot_count() -> usize {
    #[cfg(loom)]
    return 2;
    #[cfg(not(loom))]
    {
        let n = crate::sched::with_runtime_if_started(|rt| rt.nprocs())
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        n.clamp(1, MAX_SLOTS).next_power_of_two()
    }
}

pub struct RWMutex {
    state: AtomicU64,
    /// The drain count and `PARKED` (module docs).
    wait: AtomicU64,
    /// `slots.len() - 1` (a power of two).
    mask: usize,
    slots: Box<[CachePadded<AtomicU64>]>,
    q: Lock<Queue, RWMUTEX>,
    /// Set by a loom model once it considers the RWMutex freed: a reader touching it after
    /// its release point then fails the model (invariant 8).
    #[cfg(loom)]
    retired: crate::loom::AtomicBool,
}

impl Default for RWMutex {
    fn default() -> RWMutex {
        RWMutex::new()
    }
}

impl RWMutex {
    pub fn new() -> RWMutex {
        let n = slot_count();
        RWMutex {
            state: AtomicU64::new(0),
            wait: AtomicU64::new(0),
            mask: n - 1,
            slots: (0..n).map(|_| CachePadded::new(AtomicU64::new(0))).collect(),
            q: Lock::default(),
            #[cfg(loom)]
            retired: crate::loom::AtomicBool::new(false),
        }
    }

    /// Under loom: fails the model if a reader touches the RWMutex after the model freed it.
    #[inline(always)]
    fn touch(&self) {
        #[cfg(loom)]
        assert!(!self.retired.load(Acquire), "a reader touched the RWMutex after a writer owned it");
    }

    /// The calling reader's slot: its processor's (no park between this and its use; any
    /// slot would be correct, only the sum counts).
    #[inline]
    fn slot(&self) -> &AtomicU64 {
        #[cfg(loom)]
        let p = LOOM_SLOT.with(|c| {
            let p = c.get();
            c.set(p + 1);
            p
        });
        #[cfg(not(loom))]
        let p = crate::sched::tls::p().wrapping_sub(1); // (1-based; plain threads: 0)
        &self.slots[p & self.mask]
    }

    /// The readers inside (a sum, not a snapshot).
    fn sum(&self) -> u64 {
        self.slots.iter().map(|s| count(s.load(Acquire))).sum()
    }

    /// The sum at one instant: two equal collects (module docs); `None` if the slots kept
    /// changing.
    fn snapshot(&self) -> Option<u64> {
        let collect = || self.slots.iter().map(|s| s.load(Acquire)).collect::<Vec<u64>>();
        let mut a = collect();
        for _ in 0..4 {
            let b = collect();
            if a == b {
                return Some(a.iter().map(|&v| count(v)).sum());
            }
            a = b;
        }
        None
    }

    /// Takes a read lock, waiting up to `deadline`. `Again` for a poll that would wait.
    #[inline]
    pub fn rlock(&self, deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
        if self.try_enter() {
            return Ok(());
        }
        self.rlock_contended(deadline, cancel)
    }

    /// Enters as a reader unless a writer's epoch is open on its slot (invariant 2).
    #[inline]
    fn try_enter(&self) -> bool {
        let slot = self.slot();
        let mut v = slot.load(Relaxed);
        while v & HELD == 0 {
            match slot.compare_exchange_weak(v, v.wrapping_add(INC), AcqRel, Relaxed) {
                Ok(_) => return true,
                Err(x) => v = x,
            }
        }
        false
    }

    /// Takes one from `slot`'s count if it is above zero; the word it replaced.
    #[inline]
    fn take_from(slot: &AtomicU64) -> Option<u64> {
        let mut v = slot.load(Relaxed);
        while count(v) > 0 {
            match slot.compare_exchange_weak(v, v.wrapping_add(DEC), AcqRel, Relaxed) {
                Ok(_) => return Some(v),
                Err(x) => v = x,
            }
        }
        None
    }

    /// A reader that left with its decrement under an open epoch: it was counted in the
    /// writer's `r`, and this is its last touch of the RWMutex unless it takes `wait` to 0
    /// with the writer parked (invariants 2, 3).
    #[inline]
    fn report(&self) {
        self.touch();
        if self.wait.fetch_sub(REPORT, AcqRel) == REPORT | PARKED {
            self.wake_drainer();
        }
    }

    #[inline(never)]
    fn wake_drainer(&self) {
        self.touch();
        let mut q = lock(&self.q);
        self.drained(&mut q);
        self.touch();
    }

    /// Under `q`: completes the parked writer if `wait` is at 0 (invariant 3).
    fn drained(&self, q: &mut Guard<'_>) {
        if self.wait.load(Acquire) == PARKED {
            self.wait.fetch_and(!PARKED, AcqRel);
            if let Some(t) = q.drainer.take() {
                t.complete(GRANT); // (if its timeout won, it releases `WRITER` itself)
            }
        }
    }

    /// A reader that met a writer (module docs, `rlock`): spins briefly for the writer to
    /// pass, else queues.
    #[inline(never)]
    fn rlock_contended(&self, deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
        if !matches!(deadline, Deadline::Poll) && self.spin_enter() {
            return Ok(());
        }
        self.rlock_slow(deadline, cancel)
    }

    /// Waits a moment for the writer to pass, and enters as a reader if it did. Only with
    /// several processors: on one, the writer cannot run meanwhile.
    fn spin_enter(&self) -> bool {
        #[cfg(not(loom))]
        if crate::sched::multiprocessor() {
            for _ in 0..SPINS {
                for _ in 0..4 {
                    std::hint::spin_loop();
                }
                if self.slot().load(Relaxed) & HELD == 0 && self.try_enter() {
                    return true;
                }
            }
        }
        false
    }

    /// Queues a reader.
    fn rlock_slow(&self, deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
        let mut woken = Vec::new();
        let mut q = lock(&self.q);
        let mut again = false;
        let mut since = None;
        loop {
            if self.try_enter() {
                drop(q);
                wake(woken);
                return Ok(());
            }
            if let Err(e) = wait::may_wait(deadline) {
                drop(q);
                wake(woken);
                return Err(e);
            }
            let tok = wait::prepare(WaitReason::on(kind::RWMUTEX_READ, self));
            let r = Reader { tok: tok.clone(), since: *since.get_or_insert_with(Instant::now) };
            // (Woken and too late: first in line again, as it queued before those behind.)
            let key = if again { q.readers.push_front(r) } else { q.readers.push_back(r) };
            q.nreaders += 1;
            let s = self.state.fetch_or(RWAIT, AcqRel);
            if s & WRITER == 0 {
                // The writer left by its fast path before it could see `RWAIT` (it does not
                // take `q`): nobody else will release us (invariant 5).
                self.release_readers(&mut q, &mut woken);
            }
            drop(q);
            wake(std::mem::take(&mut woken));
            wait::spin_briefly(&tok); // writes are short: see one through before parking
            let r = wait::block(&tok, deadline, cancel);
            match r {
                GRANT => {
                    drop(lock(&self.q)); // handed and counted under `q` (invariant 8)
                    return Ok(());
                }
                WOKEN => {
                    // Retry; first without the queue lock (our waker no longer touches the
                    // RWMutex: invariant 8).
                    if self.try_enter() {
                        return Ok(());
                    }
                    again = true;
                    q = lock(&self.q);
                }
                _ => {
                    let mut q = lock(&self.q);
                    if q.readers.remove(key).is_some() {
                        q.nreaders -= 1;
                        if q.nreaders == 0 {
                            self.state.fetch_and(!RWAIT, AcqRel);
                        }
                    } // else: popped; a hander took its count back (invariant 6)
                    return Err(wait::error_of(r, deadline));
                }
            }
        }
    }

    /// Releases a read lock. `State` if it is not read-locked (module docs).
    #[inline]
    pub fn runlock(&self) -> Result<()> {
        match Self::take_from(self.slot()) {
            Some(v) => {
                if v & HELD != 0 {
                    self.report();
                }
                Ok(())
            }
            None => self.runlock_elsewhere(),
        }
    }

    /// Our slot is at zero: a reader that locked on another slot (or was handed the lock,
    /// counted in slot 0), or a wrong unlock. Takes one from any slot above zero; only an
    /// exact snapshot at zero is the latter (we, if read-locked, are in the sum throughout).
    #[inline(never)]
    fn runlock_elsewhere(&self) -> Result<()> {
        loop {
            if let Some(v) = self.slots.iter().find_map(|s| Self::take_from(s)) {
                if v & HELD != 0 {
                    self.report();
                }
                return Ok(());
            }
            if self.snapshot() == Some(0) {
                return Err(Error::State);
            }
            relax();
        }
    }

    /// Takes the write lock, waiting up to `deadline`. `Again` for a poll that would wait.
    #[inline]
    pub fn lock(&self, deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
        if self.state.compare_exchange(0, WRITER, Acquire, Relaxed).is_ok() {
            return self.drain(deadline, cancel);
        }
        self.lock_slow(deadline, cancel)
    }

    #[inline(never)]
    fn lock_slow(&self, deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
        let mut q = lock(&self.q);
        let mut s = self.state.load(Acquire);
        while s & WRITER == 0 {
            match self.state.compare_exchange(s, s | WRITER, AcqRel, Acquire) {
                Ok(_) => {
                    drop(q);
                    return self.drain(deadline, cancel);
                }
                Err(x) => s = x,
            }
        }
        wait::may_wait(deadline)?;
        let tok = wait::prepare(WaitReason::on(kind::RWMUTEX_WRITE, self));
        let key = q.writers.push_back(tok.clone());
        let s = self.state.fetch_or(PENDING, AcqRel);
        if s & WRITER == 0 {
            // The holder left by its fast path before it could see `PENDING` (invariant 5);
            // no writer was queued before us (it would have set `PENDING`), so this hands
            // `WRITER` to us.
            self.state.fetch_or(WRITER, AcqRel);
            self.hand_to_next_writer(&mut q);
        }
        drop(q);
        wait::spin_briefly(&tok);
        let r = wait::block(&tok, deadline, cancel);
        let mut q = lock(&self.q);
        if r == GRANT {
            drop(q); // `q` taken once (invariant 8)
            return self.drain(deadline, cancel);
        }
        q.writers.remove(key);
        if q.writers.is_empty() {
            self.state.fetch_and(!PENDING, AcqRel);
        }
        Err(wait::error_of(r, deadline))
    }

    /// Holding `WRITER`: opens the epoch and waits for the readers inside to leave
    /// (invariants 2, 3). On a timeout or cancel, releases `WRITER` as an unlock does.
    #[inline]
    fn drain(&self, deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
        let r: u64 = self.slots.iter().map(|s| count(s.fetch_or(HELD, AcqRel))).sum();
        // (With no reader counted, still look: reports of an earlier epoch may be in flight.)
        let w = if r == 0 { self.wait.load(Acquire) } else { self.wait.fetch_add(r << 1, AcqRel).wrapping_add(r << 1) };
        if w == 0 {
            return Ok(());
        }
        self.drain_slow(deadline, cancel)
    }

    #[inline(never)]
    fn drain_slow(&self, deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
        if !matches!(deadline, Deadline::Poll) && self.spin_drain() {
            return Ok(());
        }
        let mut q = lock(&self.q);
        if let Err(e) = wait::may_wait(deadline) {
            return self.give_up(q, e);
        }
        let tok = wait::prepare(WaitReason::on(kind::RWMUTEX_WRITE, self));
        q.drainer = Some(tok.clone());
        if self.wait.fetch_or(PARKED, AcqRel) == 0 {
            // The readers left meanwhile: ours (invariant 3).
            self.wait.fetch_and(!PARKED, AcqRel);
            q.drainer = None;
            return Ok(());
        }
        drop(q);
        wait::spin_briefly(&tok);
        let r = wait::block(&tok, deadline, cancel);
        let mut q = lock(&self.q);
        if r == GRANT {
            return Ok(()); // `q` taken once (invariant 8)
        }
        if q.drainer.is_some() {
            // Readers still inside: take `PARKED` back with a CAS, so that the last report
            // either comes after it (and finds no one to wake) or has come (invariant 3).
            let mut w = self.wait.load(Acquire);
            while w != PARKED {
                match self.wait.compare_exchange(w, w & !PARKED, AcqRel, Acquire) {
                    Ok(_) => {
                        q.drainer = None;
                        return self.give_up(q, wait::error_of(r, deadline));
                    }
                    Err(x) => w = x,
                }
            }
        }
        // The readers all left as our timeout (or cancel) won our token: the last one's
        // report found `PARKED`, and it wakes us under `q` (or did, its completion losing to
        // our timeout). The lock is ours, but that reader may still be on its way to `q`:
        // wait (no deadline: it is a few instructions away) on a fresh token for its wake,
        // so that it touches nothing once we own the lock (invariant 8).
        if q.drainer.is_some() {
            let tok = wait::prepare(WaitReason::on(kind::RWMUTEX_WRITE, self));
            q.drainer = Some(tok.clone());
            drop(q);
            let r = wait::block(&tok, Deadline::Never, None);
            debug_assert_eq!(r, GRANT);
            drop(lock(&self.q)); // `q` taken once more (invariant 8)
        }
        Ok(())
    }

    /// A draining writer's timeout or cancel: closes its epoch and releases `WRITER` as an
    /// unlock does (invariant 3).
    fn give_up(&self, mut q: Guard<'_>, e: Error) -> Result<()> {
        self.close_epoch();
        let mut woken = Vec::new();
        self.release_write(&mut q, &mut woken, false);
        drop(q);
        wake(woken);
        Err(e)
    }

    /// Spins a moment for the readers inside to leave (they hold the lock for nanoseconds,
    /// as a rule). Only with several processors.
    fn spin_drain(&self) -> bool {
        #[cfg(not(loom))]
        if crate::sched::multiprocessor() {
            for _ in 0..SPINS {
                for _ in 0..4 {
                    std::hint::spin_loop();
                }
                if self.wait.load(Acquire) == 0 {
                    return true;
                }
            }
        }
        false
    }

    /// Clears `HELD` in every slot (readers may enter again) and takes the readers still
    /// inside, who will not report, out of `wait` (invariant 4).
    #[inline]
    fn close_epoch(&self) {
        let u: u64 = self.slots.iter().map(|s| count(s.fetch_and(!HELD, AcqRel))).sum();
        if u != 0 {
            self.wait.fetch_sub(u << 1, AcqRel);
        }
    }

    /// Releases the write lock. `State` if it is not write-locked.
    #[inline]
    pub fn unlock(&self) -> Result<()> {
        // (`wait` is 0 while a writer owns the lock: not 0, its writer is still draining.)
        let s = self.state.load(Relaxed);
        if s & WRITER == 0 || self.wait.load(Relaxed) != 0 {
            return Err(Error::State);
        }
        if s & PENDING != 0 {
            return self.unlock_slow(true); // (a writer is queued: it may take the epoch on)
        }
        self.close_epoch();
        match self.state.compare_exchange(WRITER, 0, Release, Relaxed) {
            Ok(_) => Ok(()),
            Err(_) => self.unlock_slow(false),
        }
    }

    /// `open`: the caller's epoch is still open.
    #[inline(never)]
    fn unlock_slow(&self, open: bool) -> Result<()> {
        let mut woken = Vec::new();
        let mut q = lock(&self.q);
        if self.state.load(Acquire) & WRITER == 0 {
            return Err(Error::State);
        }
        self.release_write(&mut q, &mut woken, open);
        drop(q);
        wake(woken);
        Ok(())
    }

    /// Releases `WRITER`, held by the caller, under `q`: to the starving readers first (Go's
    /// order), else to the next writer, else to the queued readers. Readers to wake go on
    /// `woken`. `open`: the caller's epoch is still open (drained: no reader inside, `wait`
    /// at 0); it passes to the next writer as it is (invariant 5), else it is closed here.
    fn release_write(&self, q: &mut Guard<'_>, woken: &mut Vec<Token>, open: bool) {
        if starving(q) {
            if open {
                self.close_epoch();
            }
            self.hand_readers(q);
            if !self.hand_to_next_writer(q) {
                self.state.fetch_and(!WRITER, AcqRel);
            } // else: that writer's epoch drains the readers just handed the lock
        } else if self.hand_to_next_writer(q) {
            // The readers stay queued behind the writer that holds it now.
        } else {
            if open {
                self.close_epoch();
            }
            if q.nreaders > 0 {
                self.release_readers(q, woken);
            } else {
                let s = self.state.fetch_and(!WRITER, AcqRel);
                debug_assert!(s & (RWAIT | PENDING) == 0);
            }
        }
    }

    /// With `WRITER` held: hands it to the first queued writer still waiting (`WRITER` stays
    /// set: invariant 5). `false` if none was; `PENDING` is cleared with the last.
    fn hand_to_next_writer(&self, q: &mut Guard<'_>) -> bool {
        while let Some(t) = q.writers.pop_front() {
            if t.complete(GRANT) {
                if q.writers.is_empty() {
                    self.state.fetch_and(!PENDING, AcqRel);
                }
                return true;
            }
        }
        self.state.fetch_and(!PENDING, AcqRel);
        false
    }

    /// Wakes every queued reader to retry (invariant 5; uncounted: module docs), clearing
    /// `WRITER` in the same step. Their tokens go on `woken`, completed after `q` is
    /// released.
    fn release_readers(&self, q: &mut Guard<'_>, woken: &mut Vec<Token>) {
        self.state.fetch_and(!(RWAIT | WRITER), AcqRel);
        q.nreaders = 0;
        woken.extend(q.readers.drain().map(|r| r.tok));
    }

    /// Hands the lock to every queued reader (starving readers: module docs): counts them
    /// in slot 0 (no epoch is open), then completes their tokens under `q`, taking back the
    /// count of each whose own timeout won (invariant 6), and clears `RWAIT`. `WRITER` stays
    /// set: the caller passes it on.
    fn hand_readers(&self, q: &mut Guard<'_>) {
        let k = q.nreaders;
        self.slots[0].fetch_add(k.wrapping_mul(INC), AcqRel);
        q.nreaders = 0;
        let mut lost = 0u64;
        while let Some(r) = q.readers.pop_front() {
            if !r.tok.complete(GRANT) {
                lost += 1;
            }
        }
        // (The handed readers may have left through slot 0 already: the sum still holds the
        // lost ones, in some slot.)
        while lost > 0 {
            if self.slots.iter().any(|s| Self::take_from(s).is_some()) {
                lost -= 1;
            } else {
                relax();
            }
        }
        self.state.fetch_and(!RWAIT, AcqRel);
    }

    /// Held by a writer now (or about to be: one waiting for the readers inside to leave).
    pub fn is_locked(&self) -> bool {
        self.state.load(Relaxed) & WRITER != 0
    }

    /// Readers holding it now (a sum, not a snapshot).
    pub fn readers(&self) -> u64 {
        self.sum()
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::Arc;
    use loom::cell::UnsafeCell;
    use std::time::Instant;

    /// A thread that takes the write lock (no deadline), bumps `v` under it and unlocks.
    fn spawn_writer(mu: &Arc<RWMutex>, v: &Arc<UnsafeCell<u32>>) -> loom::thread::JoinHandle<()> {
        let (m2, v2) = (mu.clone(), v.clone());
        loom::thread::spawn(move || {
            m2.lock(Deadline::Never, None).unwrap();
            // SAFETY: under the write lock (loom checks the accesses do not race).
            v2.with_mut(|p| unsafe { *p += 1 });
            m2.unlock().unwrap();
        })
    }

    /// A writer and a reader: never both inside (loom checks the cell's accesses), and the
    /// state ends clean (no lost hand-off: both finish).
    #[test]
    fn loom_rwmutex_writer_excludes_reader() {
        loom::model(|| {
            let mu = Arc::new(RWMutex::new());
            let v = Arc::new(UnsafeCell::new(0u32));
            let t = spawn_writer(&mu, &v);
            mu.rlock(Deadline::Never, None).unwrap();
            // SAFETY: under a read lock (loom checks that no write races it).
            let _ = v.with(|p| unsafe { *p });
            mu.runlock().unwrap();
            t.join().unwrap();
            assert_eq!((mu.state.load(Relaxed), mu.wait.load(Relaxed), mu.sum()), (0, 0, 0));
        });
    }

    /// A reader arriving while a writer opens its epoch and the last reader leaves: its CAS
    /// is either counted in the writer's `r` or refused (then it queues behind the writer,
    /// invariants 2 and 5); the late reader gets in, and exclusion holds.
    #[test]
    fn loom_rwmutex_reader_counted_or_refused() {
        loom::model(|| {
            let mu = Arc::new(RWMutex::new());
            let v = Arc::new(UnsafeCell::new(0u32));
            mu.rlock(Deadline::Never, None).unwrap();
            let w = spawn_writer(&mu, &v);
            let (m3, v3) = (mu.clone(), v.clone());
            let r = loom::thread::spawn(move || {
                m3.rlock(Deadline::Never, None).unwrap();
                // SAFETY: under a read lock.
                let _ = v3.with(|p| unsafe { *p });
                m3.runlock().unwrap();
            });
            mu.runlock().unwrap();
            w.join().unwrap();
            r.join().unwrap();
            assert_eq!((mu.state.load(Relaxed), mu.wait.load(Relaxed), mu.sum()), (0, 0, 0));
        });
    }

    /// Two read locks, taken on slots 0 and 1, released by two threads on those slots
    /// (one released by another thread than took it, as Go allows) while a writer opens its
    /// epoch: each decrement falls before `HELD` (counted out in `r`) or after (a report),
    /// and whichever report takes `wait` to 0 completes a parked writer (no lost drain:
    /// invariant 3); exclusion holds.
    #[test]
    fn loom_rwmutex_readers_leave_two_slots_while_writer_drains() {
        loom::model(|| {
            let mu = Arc::new(RWMutex::new());
            let v = Arc::new(UnsafeCell::new(0u32));
            mu.rlock(Deadline::Never, None).unwrap(); // slot 0
            mu.rlock(Deadline::Never, None).unwrap(); // slot 1
            let w = spawn_writer(&mu, &v);
            let m3 = mu.clone();
            let r = loom::thread::spawn(move || {
                let _ = m3.slot(); // (its next is slot 1)
                m3.runlock().unwrap();
            });
            // SAFETY: under a read lock (ours, still held).
            let _ = v.with(|p| unsafe { *p });
            mu.runlock().unwrap(); // slot 0
            w.join().unwrap();
            r.join().unwrap();
            assert_eq!((mu.state.load(Relaxed), mu.wait.load(Relaxed), mu.sum()), (0, 0, 0));
        });
    }

    /// Two writers and a reader, one writer with a deadline that may expire at any point:
    /// exclusion holds, the timed-out writer leaves no trace, and everyone else finishes.
    #[test]
    fn loom_rwmutex_writer_timeout_leaves_no_trace() {
        loom::model(|| {
            let mu = Arc::new(RWMutex::new());
            let v = Arc::new(UnsafeCell::new(0u32));
            mu.rlock(Deadline::Never, None).unwrap();
            let (m2, v2) = (mu.clone(), v.clone());
            let t = loom::thread::spawn(move || {
                if m2.lock(Deadline::At(Instant::now()), None).is_ok() {
                    // SAFETY: under the write lock.
                    v2.with_mut(|p| unsafe { *p += 1 });
                    m2.unlock().unwrap();
                }
            });
            mu.runlock().unwrap();
            mu.rlock(Deadline::Never, None).unwrap();
            // SAFETY: under a read lock.
            let _ = v.with(|p| unsafe { *p });
            mu.runlock().unwrap();
            t.join().unwrap();
            assert_eq!((mu.state.load(Relaxed), mu.wait.load(Relaxed), mu.sum()), (0, 0, 0));
            let q = lock(&mu.q);
            assert!(q.readers.is_empty() && q.writers.is_empty() && q.nreaders == 0);
        });
    }

    /// Starving readers are handed the lock (counted) at the writer's unlock, one of them
    /// racing its own timeout: exclusion holds, the count ends at zero whichever won.
    #[test]
    fn loom_rwmutex_hand_to_starving_readers() {
        LOOM_STARVING.with(|s| s.set(true));
        loom::model(|| {
            let mu = Arc::new(RWMutex::new());
            let v = Arc::new(UnsafeCell::new(0u32));
            mu.lock(Deadline::Never, None).unwrap();
            let (m2, v2) = (mu.clone(), v.clone());
            let r = loom::thread::spawn(move || {
                if m2.rlock(Deadline::At(Instant::now()), None).is_ok() {
                    // SAFETY: under a read lock.
                    let _ = v2.with(|p| unsafe { *p });
                    m2.runlock().unwrap();
                }
            });
            // SAFETY: under the write lock.
            v.with_mut(|p| unsafe { *p += 1 });
            mu.unlock().unwrap();
            r.join().unwrap();
            mu.lock(Deadline::Poll, None).unwrap();
            mu.unlock().unwrap();
            assert_eq!((mu.state.load(Relaxed), mu.wait.load(Relaxed), mu.sum()), (0, 0, 0));
        });
        LOOM_STARVING.with(|s| s.set(false));
    }

    /// A reader queued behind a pending writer whose deadline expires gets in once the
    /// writer gives up (invariant 6), and a later write lock still works.
    #[test]
    fn loom_rwmutex_reader_released_by_timed_out_writer() {
        loom::model(|| {
            let mu = Arc::new(RWMutex::new());
            mu.rlock(Deadline::Never, None).unwrap(); // held throughout: the writer must time out
            let m2 = mu.clone();
            let w = loom::thread::spawn(move || m2.lock(Deadline::At(Instant::now()), None));
            let m3 = mu.clone();
            let r = loom::thread::spawn(move || {
                m3.rlock(Deadline::Never, None).unwrap();
                m3.runlock().unwrap();
            });
            assert_eq!(w.join().unwrap(), Err(Error::TimedOut));
            r.join().unwrap();
            mu.runlock().unwrap();
            mu.lock(Deadline::Poll, None).unwrap();
            mu.unlock().unwrap();
            assert_eq!((mu.state.load(Relaxed), mu.wait.load(Relaxed), mu.sum()), (0, 0, 0));
        });
    }

    /// A writer frees the RWMutex (the model's `retired`) as soon as its lock returns, while
    /// the reader it waits for leaves on another slot and thread: whether that reader's
    /// decrement came before the writer's `HELD`, after it (a report), or took `wait` to 0
    /// with the writer parked, it touches nothing after the writer owns the lock
    /// (invariant 8).
    #[test]
    fn loom_rwmutex_no_reader_touch_after_writer_owns() {
        loom::model(|| {
            let mu = Arc::new(RWMutex::new());
            mu.rlock(Deadline::Never, None).unwrap(); // slot 0
            let m2 = mu.clone();
            let r = loom::thread::spawn(move || m2.runlock().unwrap()); // slot 0 (its first)
            mu.lock(Deadline::Never, None).unwrap();
            mu.retired.store(true, Relaxed);
            r.join().unwrap();
            mu.retired.store(false, Relaxed);
            mu.unlock().unwrap();
            assert_eq!((mu.state.load(Relaxed), mu.wait.load(Relaxed), mu.sum()), (0, 0, 0));
        });
    }

    /// A writer that times out (at any point) while the reader it counted is between its
    /// decrement and its report, then a second writer (which may time out too: two writers
    /// spinning in the model's `block` at once make its paths unbounded): the late report
    /// lands in the second writer's `wait`, which waits for it (invariant 4), so that reader
    /// touches nothing after a writer owns the lock; exclusion holds and the state ends
    /// clean.
    #[test]
    fn loom_rwmutex_late_report_after_timed_out_writer() {
        loom::model(|| {
            let mu = Arc::new(RWMutex::new());
            let v = Arc::new(UnsafeCell::new(0u32));
            mu.rlock(Deadline::Never, None).unwrap(); // slot 0
            let (m2, v2) = (mu.clone(), v.clone());
            let w = loom::thread::spawn(move || {
                if m2.lock(Deadline::At(Instant::now()), None).is_ok() {
                    // SAFETY: under the write lock.
                    v2.with_mut(|p| unsafe { *p += 1 });
                    m2.unlock().unwrap();
                }
            });
            let m3 = mu.clone();
            let r = loom::thread::spawn(move || m3.runlock().unwrap());
            if mu.lock(Deadline::At(Instant::now()), None).is_ok() {
                mu.retired.store(true, Relaxed);
                // SAFETY: under the write lock.
                v.with_mut(|p| unsafe { *p += 1 });
                r.join().unwrap();
                mu.retired.store(false, Relaxed);
                mu.unlock().unwrap();
            } else {
                r.join().unwrap();
            }
            w.join().unwrap();
            assert_eq!((mu.state.load(Relaxed), mu.wait.load(Relaxed), mu.sum()), (0, 0, 0));
            let q = lock(&mu.q);
            assert!(q.readers.is_empty() && q.writers.is_empty() && q.drainer.is_none());
        });
    }
}
