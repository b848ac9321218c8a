//! RWMutex: Go's `sync.RWMutex` (many readers or one writer, writer preference), with a
//! timeout and a cancel token on every lock, for goroutines and plain threads alike.
//!
//! Writer preference as Go's: once a writer waits, new readers wait too, so a stream of
//! readers cannot starve it. Readers cannot be starved by writers either: a reader queued
//! for over 10 ms is handed the lock at the next writer's unlock, before the next writer (Go's
//! order, always).
//!
//! # Reader counts per processor
//! Readers are counted in `slots`, one cache line per processor (index `p % SLOTS`, plain
//! threads share slot 0; 8 slots, 1 KiB, inline: invariant 8): a read lock and unlock touch only their processor's line and read
//! the shared `state` word, which stays in every cache until a writer comes. One shared count
//! (Go's `readerCount`, and this module before) made every read an RMW on one line bouncing
//! between the processors: with 2 workers and 99% reads, 77% of the CPU time went to those
//! two RMWs (perf, `gr_bench rwmutex`). A reader may unlock on another processor than it
//! locked on (it migrated, or another goroutine unlocks for it, as Go allows), so one slot
//! may go below zero: only the sum counts. Each slot word is `version << 32 | count` (count
//! an `i32`, `INC`/`DEC` change both halves), so no change leaves a slot's word as it was,
//! and two equal collects of all slots are an exact snapshot (`snapshot`, used only to tell
//! a wrong `runlock` from a migrated one).
//!
//! State word `state` (atomic):
//!
//! | bit       | meaning                                                                  |
//! |-----------|--------------------------------------------------------------------------|
//! | `WRITER`  | a writer owns the write side: new readers back off (writer preference)   |
//! | `DRAIN`   | that writer waits for the readers inside to leave (`q.drainer`)          |
//! | `PENDING` | more writers are queued for `WRITER`                                     |
//! | `RWAIT`   | readers are queued: a writer's unlock must take the slow path            |
//!
//! - `rlock`: increment its slot, then load `state`: without `WRITER` it is in. Else that
//!   increment was *transient*: it takes it back at once as a `runlock` does, spins briefly
//!   for the writer to pass, and only then queues (under `q`).
//! - `runlock`: decrement its slot, then load `state`; with `DRAIN` set, sum the slots and,
//!   at zero, complete the draining writer (under `q`).
//! - `lock`: a CAS `0 -> WRITER` (else, under `q`, set `WRITER` if no writer has it, or queue
//!   for a hand-off), then *drain*: sum the slots; at zero the lock is its, else spin a
//!   moment, then register in `q.drainer`, set `DRAIN` and sum again before parking.
//!   `unlock`: a CAS `WRITER -> 0`, else the slow path.
//!
//! Every access to `state` and the slots that these steps order is `SeqCst` (one total
//! order; `dekker()` adds the fence loom needs to model it, loom treating `SeqCst` accesses
//! as `AcqRel`).
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
//! for over `STARVE` are instead *handed* the lock (counted, under `q`), so a reader's wait
//! is bounded whatever the writers do; a writer queued behind them is handed `WRITER` in the
//! same step and drains them.
//!
//! # Invariants
//! 1. Under `q`: `PENDING` is set iff `q.writers` is non-empty; `RWAIT` iff `q.readers` is;
//!    `DRAIN` iff `q.drainer` is `Some`, and only with `WRITER`. `PENDING` without `WRITER`
//!    only inside a critical section of `q` (the queueing writer then takes `WRITER`).
//! 2. Exclusion: a reader is *in* only if its load of `state`, after its slot increment, saw
//!    no `WRITER`; a writer owns the lock only once a sum of the slots, after `WRITER` was
//!    set, was 0. Of a reader's increment-then-load and a writer's set-then-sum, the later in
//!    the total order sees the earlier: the reader backs off, or the writer counts it.
//!    A sum is not a snapshot, but while `WRITER` is held only transient increments, each
//!    followed by its decrement, and decrements happen, so a sum of 0 means none is in.
//! 3. No lost drain: the writer sets `DRAIN` (after registering in `q.drainer`) and then
//!    sums; every reader decrements and then loads `state`. A decrement the writer's sum
//!    missed sees `DRAIN`, and the last such in the total order sums 0 and completes the
//!    writer under `q` (re-checking `DRAIN` and the sum there). A writer that gives up
//!    (timeout, cancel) takes its token back under `q`, clears `DRAIN`, and releases
//!    `WRITER` as an unlock does.
//! 4. `WRITER` passes between writers without ever being clear (`hand_to_next_writer`), so no
//!    reader enters between them; the next writer still drains (readers handed the lock when
//!    they starved, transients).
//! 5. A reader queues only while `WRITER` is set; whoever clears `WRITER` under `q` wakes or
//!    hands the lock to every queued reader in the same critical section. Against a writer's
//!    fast unlock (a CAS `WRITER -> 0`, without `q`): the reader sets `RWAIT` with an RMW and
//!    looks at what it replaced; if `WRITER` was gone it wakes the queue itself, else the
//!    writer's CAS fails on `RWAIT` and it unlocks through `q`. The same for a queueing writer
//!    and `PENDING`: if `WRITER` was gone, it takes `WRITER` itself.
//! 6. Handed readers are counted (in slot 0) when they leave the queue and completed under
//!    `q`; one whose own timeout won its token is taken back out under `q` by the hander.
//!    Woken readers are completed after `q` is released (nothing to undo for one whose
//!    timeout won: it was never counted).
//! 7. A waiter whose timeout or cancel wins withdraws its entry by key (O(1)); a queued
//!    writer leaving the queue empty clears `PENDING`.
//! 8. Free-after-wait: a handed reader, a granted writer and a drained writer (completed
//!    under `q`) take `q` once more after their wake; a woken reader's waker touches only the
//!    tokens once it has released `q`. One exception, which the single shared count did not
//!    have: a `runlock` reads `state` after its decrement (invariant 3), and one that saw
//!    `DRAIN` sums the slots and takes `q`, while another reader's decrement may already
//!    have let the writer in, which may free the RWMutex at once. So the slots are inline,
//!    not a separate allocation, and such a late reader touches only atomics and `q`'s lock
//!    word, finding `DRAIN` clear: through the C API (`gr_rwmutex_free`) that memory is a
//!    type-stable handle slot, never returned to the allocator (`ffi/src/stable.rs`), so the
//!    touch is harmless (on a slot reused for a new RWMutex, too: `drained` re-checks).
//!    Rust callers hold a reference for the call, so they cannot free it meanwhile.
//!
//! A `runlock` that takes its slot below zero checks an exact snapshot of the sum: below
//! zero, it was not read-locked (`State`, and the decrement is undone). Best effort, as
//! Go's: a wrong `runlock` while others hold read locks on the same processor is not seen.
//! An `unlock` not under a write lock is `State`.
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
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::time::{Duration, Instant};

const WRITER: u64 = 1;
const DRAIN: u64 = 1 << 1;
const PENDING: u64 = 1 << 2;
const RWAIT: u64 = 1 << 3;

/// A slot's increment and decrement: the count (low 32 bits) by one, the version (high 32
/// bits) by one (the decrement's borrow, at a count going from 0 to -1, leaves it as is;
/// the word changes either way).
const INC: u64 = (1 << 32) + 1;
const DEC: u64 = (1 << 32) - 1;

/// Slots per RWMutex, inline (invariant 8); processors beyond share them (`p % SLOTS`).
#[cfg(not(loom))]
const SLOTS: usize = 8;
#[cfg(loom)]
const SLOTS: usize = 2;

/// Your turn: the lock (read or write) is yours.
const GRANT: u32 = wait::USER;
/// The write lock was released: retry (a reader).
const WOKEN: u32 = wait::USER + 1;

/// Rounds (of 4 spin hints, then a look at the state) a reader that met a writer, or a
/// writer waiting for readers, spins before queueing: about as long as `wait::spin_briefly`.
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

/// Orders a `SeqCst` RMW before the `SeqCst` load that follows it, for loom only (module
/// docs): real builds get that order from the accesses themselves.
#[inline(always)]
fn dekker() {
    #[cfg(loom)]
    loom::sync::atomic::fence(SeqCst);
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
    /// The writer holding `WRITER` that waits for readers to leave (`DRAIN`).
    drainer: Option<Token>,
}

type Guard<'a> = MutexGuard<'a, Queue, RWMUTEX>;

/// The count in a slot's word.
#[inline]
fn count(v: u64) -> i64 {
    v as u32 as i32 as i64
}

/// Completes the tokens of woken readers, after `q` is released (invariants 6 and 8).
fn wake(woken: Vec<Token>) {
    for t in woken {
        t.complete(WOKEN);
    }
}

pub struct RWMutex {
    state: AtomicU64,
    slots: [CachePadded<AtomicU64>; SLOTS],
    q: Lock<Queue, RWMUTEX>,
}

impl Default for RWMutex {
    fn default() -> RWMutex {
        RWMutex::new()
    }
}

impl RWMutex {
    pub fn new() -> RWMutex {
        RWMutex {
            state: AtomicU64::new(0),
            slots: std::array::from_fn(|_| CachePadded::new(AtomicU64::new(0))),
            q: Lock::default(),
        }
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
        let p = crate::sched::tls::p();
        &self.slots[p % SLOTS]
    }

    /// The readers inside, plus transient increments (a sum, not a snapshot: invariant 2).
    fn sum(&self) -> i64 {
        self.slots.iter().map(|s| count(s.load(SeqCst))).sum()
    }

    /// The sum at one instant: two equal collects (module docs); `None` if the slots kept
    /// changing.
    fn snapshot(&self) -> Option<i64> {
        let collect = || self.slots.iter().map(|s| s.load(SeqCst)).collect::<Vec<u64>>();
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
        if self.try_enter(None) {
            return Ok(());
        }
        self.rlock_contended(deadline, cancel)
    }

    /// Enters as a reader unless a writer owns the write side; else takes the transient
    /// increment back (invariant 3) and returns `false`. `q`: the queue lock, if held.
    #[inline]
    fn try_enter(&self, q: Option<&mut Guard<'_>>) -> bool {
        let slot = self.slot();
        slot.fetch_add(INC, SeqCst);
        dekker();
        if self.state.load(SeqCst) & WRITER == 0 {
            return true;
        }
        self.leave(slot, q);
        false
    }

    /// A reader leaves (a runlock's or a transient's decrement); the last one out completes
    /// a draining writer (invariant 3). `q`: the queue lock, if the caller holds it.
    #[inline]
    fn leave(&self, slot: &AtomicU64, q: Option<&mut Guard<'_>>) {
        slot.fetch_add(DEC, SeqCst);
        dekker();
        if self.state.load(SeqCst) & DRAIN != 0 {
            self.leave_slow(q);
        }
    }

    #[inline(never)]
    fn leave_slow(&self, q: Option<&mut Guard<'_>>) {
        if self.sum() != 0 {
            return; // (a later decrement sees `DRAIN` too)
        }
        match q {
            Some(q) => self.drained(q),
            None => self.drained(&mut lock(&self.q)),
        }
    }

    /// Completes the draining writer if no reader is in (invariant 3).
    fn drained(&self, q: &mut Guard<'_>) {
        if self.state.load(SeqCst) & DRAIN != 0 && self.sum() == 0 {
            self.state.fetch_and(!DRAIN, SeqCst);
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
                if self.state.load(Relaxed) & WRITER == 0 && self.try_enter(None) {
                    return true;
                }
            }
        }
        false
    }

    /// Queues a reader (holding no transient increment).
    fn rlock_slow(&self, deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
        let mut woken = Vec::new();
        let mut q = lock(&self.q);
        let mut again = false;
        let mut since = None;
        loop {
            if self.try_enter(Some(&mut q)) {
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
            let s = self.state.fetch_or(RWAIT, SeqCst);
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
                    if self.try_enter(None) {
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
                            self.state.fetch_and(!RWAIT, SeqCst);
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
        let slot = self.slot();
        let v = slot.fetch_add(DEC, SeqCst);
        dekker();
        if count(v) <= 0 {
            return self.runlock_below_zero(slot);
        }
        if self.state.load(SeqCst) & DRAIN != 0 {
            self.leave_slow(None);
        }
        Ok(())
    }

    /// Our slot went below zero: a reader that locked on another slot (or was handed the
    /// lock, counted in slot 0), or a wrong unlock. Only an exact snapshot below zero is the
    /// latter; else the slot takes its deficit from a slot above zero, so that the next
    /// readers here do not come this way again.
    #[inline(never)]
    fn runlock_below_zero(&self, slot: &AtomicU64) -> Result<()> {
        if self.sum() < 0 && self.snapshot().is_some_and(|n| n < 0) {
            slot.fetch_add(INC, SeqCst); // (taking back a decrement ends no drain)
            return Err(Error::State);
        }
        self.rebalance(slot);
        if self.state.load(SeqCst) & DRAIN != 0 {
            self.leave_slow(None);
        }
        Ok(())
    }

    /// Moves counts from a slot above zero to `slot`, below zero. The sum is kept: adding
    /// first and taking away second, it is only ever over (a transient increment, invariant
    /// 2), and the caller's look at `DRAIN` follows the decrement (invariant 3).
    fn rebalance(&self, slot: &AtomicU64) {
        let own = count(slot.load(SeqCst));
        if own >= 0 {
            return;
        }
        if let Some((other, c)) = self.slots.iter().map(|s| (s, count(s.load(SeqCst)))).find(|&(_, c)| c > 0) {
            let m = c.min(-own) as u64;
            slot.fetch_add(m.wrapping_mul(INC), SeqCst);
            other.fetch_add(m.wrapping_mul(DEC), SeqCst);
            dekker();
        }
    }

    /// Takes the write lock, waiting up to `deadline`. `Again` for a poll that would wait.
    #[inline]
    pub fn lock(&self, deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
        if self.state.compare_exchange(0, WRITER, SeqCst, Relaxed).is_ok() {
            dekker();
            if self.sum() == 0 {
                return Ok(());
            }
            return self.drain(deadline, cancel);
        }
        self.lock_slow(deadline, cancel)
    }

    #[inline(never)]
    fn lock_slow(&self, deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
        let mut q = lock(&self.q);
        let mut s = self.state.load(SeqCst);
        while s & WRITER == 0 {
            match self.state.compare_exchange(s, s | WRITER, SeqCst, SeqCst) {
                Ok(_) => {
                    drop(q);
                    dekker();
                    return self.drain(deadline, cancel);
                }
                Err(x) => s = x,
            }
        }
        wait::may_wait(deadline)?;
        let tok = wait::prepare(WaitReason::on(kind::RWMUTEX_WRITE, self));
        let key = q.writers.push_back(tok.clone());
        let s = self.state.fetch_or(PENDING, SeqCst);
        if s & WRITER == 0 {
            // The holder left by its fast path before it could see `PENDING` (invariant 5);
            // no writer was queued before us (it would have set `PENDING`), so this hands
            // `WRITER` to us.
            self.state.fetch_or(WRITER, SeqCst);
            self.hand_to_next_writer(&mut q);
        }
        drop(q);
        wait::spin_briefly(&tok);
        let r = wait::block(&tok, deadline, cancel);
        let mut q = lock(&self.q);
        if r == GRANT {
            drop(q); // `q` taken once (invariant 8)
            dekker();
            return self.drain(deadline, cancel); // invariant 4
        }
        q.writers.remove(key);
        if q.writers.is_empty() {
            self.state.fetch_and(!PENDING, SeqCst);
        }
        Err(wait::error_of(r, deadline))
    }

    /// Holding `WRITER`: waits for the readers inside to leave (invariant 3). On a timeout
    /// or cancel, releases `WRITER` as an unlock does.
    fn drain(&self, deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
        if self.sum() == 0 || (!matches!(deadline, Deadline::Poll) && self.spin_drain()) {
            return Ok(());
        }
        let mut woken = Vec::new();
        let mut q = lock(&self.q);
        if let Err(e) = wait::may_wait(deadline) {
            self.release_write(&mut q, &mut woken);
            drop(q);
            wake(woken);
            return Err(e);
        }
        let tok = wait::prepare(WaitReason::on(kind::RWMUTEX_WRITE, self));
        q.drainer = Some(tok.clone());
        self.state.fetch_or(DRAIN, SeqCst);
        dekker();
        self.drained(&mut q); // (the readers may have left already: then this completes us)
        drop(q);
        wait::spin_briefly(&tok);
        let r = wait::block(&tok, deadline, cancel);
        let mut q = lock(&self.q);
        if r == GRANT {
            return Ok(()); // `q` taken once (invariant 8)
        }
        if q.drainer.take().is_some() {
            self.state.fetch_and(!DRAIN, SeqCst);
        } // else: a reader cleared `DRAIN` and lost the race for our token to our timeout
        self.release_write(&mut q, &mut woken);
        drop(q);
        wake(woken);
        Err(wait::error_of(r, deadline))
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
                if self.sum() == 0 {
                    return true;
                }
            }
        }
        false
    }

    /// Releases the write lock. `State` if it is not write-locked.
    #[inline]
    pub fn unlock(&self) -> Result<()> {
        match self.state.compare_exchange(WRITER, 0, SeqCst, Relaxed) {
            Ok(_) => Ok(()),
            Err(s) if s & WRITER == 0 => Err(Error::State),
            Err(_) => self.unlock_slow(),
        }
    }

    #[inline(never)]
    fn unlock_slow(&self) -> Result<()> {
        let mut woken = Vec::new();
        let mut q = lock(&self.q);
        let s = self.state.load(SeqCst);
        if s & WRITER == 0 || s & DRAIN != 0 {
            return Err(Error::State); // (with `DRAIN`: its writer does not own it yet)
        }
        self.release_write(&mut q, &mut woken);
        drop(q);
        wake(woken);
        Ok(())
    }

    /// Releases `WRITER`, held and drained (or given up) by the caller, under `q`: to the
    /// starving readers first (Go's order), else to the next writer, else to the queued
    /// readers. Readers to wake go on `woken`.
    fn release_write(&self, q: &mut Guard<'_>, woken: &mut Vec<Token>) {
        if starving(q) {
            self.hand_readers(q);
            if !self.hand_to_next_writer(q) {
                self.state.fetch_and(!WRITER, SeqCst);
            } // else: that writer drains the readers just handed the lock (invariant 4)
        } else if self.hand_to_next_writer(q) {
            // The readers stay queued behind the writer that holds it now.
        } else if q.nreaders > 0 {
            self.release_readers(q, woken);
        } else {
            let s = self.state.fetch_and(!WRITER, SeqCst);
            debug_assert!(s & (RWAIT | PENDING | DRAIN) == 0);
        }
    }

    /// With `WRITER` held: hands it to the first queued writer still waiting (`WRITER` stays
    /// set: invariant 4). `false` if none was; `PENDING` is cleared with the last.
    fn hand_to_next_writer(&self, q: &mut Guard<'_>) -> bool {
        while let Some(t) = q.writers.pop_front() {
            if t.complete(GRANT) {
                if q.writers.is_empty() {
                    self.state.fetch_and(!PENDING, SeqCst);
                }
                return true;
            }
        }
        self.state.fetch_and(!PENDING, SeqCst);
        false
    }

    /// Wakes every queued reader to retry (invariant 5; uncounted: module docs), clearing
    /// `WRITER` in the same step. Their tokens go on `woken`, completed after `q` is
    /// released.
    fn release_readers(&self, q: &mut Guard<'_>, woken: &mut Vec<Token>) {
        self.state.fetch_and(!(RWAIT | WRITER), SeqCst);
        q.nreaders = 0;
        woken.extend(q.readers.drain().map(|r| r.tok));
    }

    /// Hands the lock to every queued reader (starving readers: module docs): counts them
    /// in slot 0, then completes their tokens under `q`, taking back the count of each whose
    /// own timeout won (invariant 6), and clears `RWAIT`. `WRITER` stays set: the caller
    /// passes it on.
    fn hand_readers(&self, q: &mut Guard<'_>) {
        let k = q.nreaders;
        self.slots[0].fetch_add(k.wrapping_mul(INC), SeqCst);
        q.nreaders = 0;
        let mut lost = 0u64;
        while let Some(r) = q.readers.pop_front() {
            if !r.tok.complete(GRANT) {
                lost += 1;
            }
        }
        if lost > 0 {
            self.slots[0].fetch_add(lost.wrapping_mul(DEC), SeqCst);
        }
        self.state.fetch_and(!RWAIT, SeqCst);
    }

    /// Held by a writer now (or about to be: one waiting for the readers inside to leave).
    pub fn is_locked(&self) -> bool {
        self.state.load(Relaxed) & WRITER != 0
    }

    /// Readers holding it now (transient increments included; a sum, not a snapshot).
    pub fn readers(&self) -> u64 {
        self.sum().max(0) as u64
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
            assert_eq!((mu.state.load(Relaxed), mu.sum()), (0, 0));
        });
    }

    /// A reader that meets a pending writer takes its transient increment back (as a
    /// `runlock` would) while the last reader leaves: whichever of the two RMWs comes second
    /// grants the writer (invariant 4); the late reader gets in, and exclusion holds.
    #[test]
    fn loom_rwmutex_transient_take_back_grants_writer() {
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
            assert_eq!((mu.state.load(Relaxed), mu.sum()), (0, 0));
        });
    }

    /// Two read locks, taken on slots 0 and 1, released by two threads on those slots
    /// (one released by another thread than took it, as Go allows) while a writer drains
    /// them: neither decrement's slot goes below zero, and whichever comes last completes
    /// the writer (no lost drain: invariant 3); exclusion holds.
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
            assert_eq!((mu.state.load(Relaxed), mu.sum()), (0, 0));
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
            assert_eq!((mu.state.load(Relaxed), mu.sum()), (0, 0));
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
            assert_eq!((mu.state.load(Relaxed), mu.sum()), (0, 0));
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
            assert_eq!((mu.state.load(Relaxed), mu.sum()), (0, 0));
        });
    }
}
