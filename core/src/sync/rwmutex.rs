//! RWMutex: Go's `sync.RWMutex` (many readers or one writer, writer preference), with a
//! timeout and a cancel token on every lock, for goroutines and plain threads alike.
//!
//! Writer preference as Go's: once a writer waits, new readers wait too, so a stream of
//! readers cannot starve it. Readers cannot be starved by writers either: a reader queued
//! for over 10 ms is handed the lock at the next writer's unlock, before the next writer (Go's
//! order, always).
//!
//! State word `state` (atomic), the uncontended paths' only shared write:
//!
//! | bits      | meaning                                                                  |
//! |-----------|--------------------------------------------------------------------------|
//! | `READERS` | readers holding the lock, plus *transient* increments (below)           |
//! | `WRITER`  | a writer holds the lock                                                 |
//! | `PENDING` | writers are queued: new readers queue too (writer preference)           |
//! | `RWAIT`   | readers are queued: a writer's unlock must take the slow path           |
//!
//! - `rlock`: one `fetch_add(1)`; if `WRITER | PENDING` was set, that increment is
//!   *transient*: the reader takes it back at once, as a `runlock` would (invariant 4),
//!   then spins briefly for the writer to pass (a write is short) and enters with a CAS;
//!   only if that fails does it take the queue lock and queue. Taking the increment back
//!   before anything else keeps the writer's unlock a plain CAS, and the spin keeps both
//!   sides off the queue lock: on 2 workers with a write every 100 operations, the reader
//!   that meets a write was the common case, and queueing for it cost a queue lock on
//!   both sides.
//! - `runlock`: one `fetch_sub(1)`; only the reader that leaves `READERS` at 0 while a writer
//!   is pending takes the slow path, to hand the lock to that writer.
//! - `lock`: a CAS `0 -> WRITER`; `unlock`: a CAS `WRITER -> 0`, else the slow path.
//!
//! Queue `q` (a lock): the queued readers (with the time each first queued) and writers
//! ([`WaitList`]s, FIFO, O(1) withdrawal), and the number of queued readers.
//!
//! # Releasing readers: woken, or handed the lock
//! When the write lock is released and readers are queued, they are normally *woken*: each
//! retries when it runs, with a pass that lets it in past pending writers (it queued before
//! them), but not past a writer holding the lock (then it queues again, at the front). A
//! woken reader is not counted until it is in: a writer that comes meanwhile does not wait
//! for woken readers that have not run yet. (Counting them, as Go does, let the batch of
//! readers a writer waits for grow into a convoy here: with 1,000 goroutines on 2 processors,
//! nearly every read parked behind a writer that was waiting for the previous batch. Go
//! escapes it by its batches staying tiny.) Readers queued for over `STARVE` are instead
//! *handed* the lock (counted, in the same step that clears `WRITER`), so a reader's wait is
//! bounded whatever the writers do.
//!
//! # Invariants (under `q`)
//! 1. `PENDING` is set iff `q.writers` is non-empty; `RWAIT` is set iff `q.readers` is.
//! 2. A reader queues only while `WRITER` is set, or `PENDING` and it has no pass; whoever
//!    clears `WRITER` (or the last `PENDING`, with `WRITER` clear) under `q` wakes or hands
//!    the lock to every queued reader in the same critical section. So no reader waits
//!    while the lock is free for it.
//! 3. A writer is granted (`grant_writer`) only when `READERS` is 0 and `WRITER` clear; the
//!    grant sets `WRITER` in a CAS that sees `READERS == 0`, then completes the first
//!    writer's token it wins (a timed-out one fails its CAS and is skipped). An unlocking
//!    writer hands `WRITER` straight to the next queued writer unless readers starve.
//! 4. No lost hand-off: a waiting writer sets `PENDING` (after queueing, with an RMW) and
//!    then checks `READERS`; the last reader decrements `READERS` (an RMW) and then checks
//!    `PENDING`. Of the two RMWs on the one word, the second sees the first, so one of them
//!    runs `grant_writer`. A transient increment that delays the count's zero is taken back
//!    with a runlock's RMW and check (`runlock_slow` then grants, under `q`). The same for
//!    a queueing reader against a writer's fast unlock (a CAS `WRITER -> 0`, which does not
//!    take `q`): the reader sets `RWAIT` with an RMW and looks at what it replaced; if what
//!    blocked it was gone already it wakes the queue itself, else the writer's CAS fails on
//!    `RWAIT` and it unlocks through `q`.
//!    (The loom model found this one.)
//! 5. Handed readers are counted when they leave the queue and completed under `q`; one
//!    whose own timeout won its token is taken back out under `q` by the hander. Woken
//!    readers are completed after `q` is released (nothing to undo for one whose timeout
//!    won: it was never counted).
//! 6. A waiter whose timeout or cancel wins withdraws its entry by key (O(1)); a writer
//!    leaving the queue empty clears `PENDING` and, if no writer holds, wakes the readers it
//!    held back: a timed-out writer leaves no trace.
//! 7. Free-after-wait: a handed reader and a granted writer (completed under `q`) take `q`
//!    once more after their wake; a woken reader's waker touches only the tokens once it has
//!    released `q`. Freeing the RWMutex right after the last unlock is safe.
//!
//! A `runlock` of an unlocked RWMutex is `State` (best effort: racing a reader on its way
//! to the slow path, the two are told apart only by that reader, which then takes nothing
//! back; the count never goes below zero). An `unlock` not under a write lock is `State`.
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
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::time::{Duration, Instant};

const READERS: u64 = (1 << 32) - 1;
const WRITER: u64 = 1 << 32;
const PENDING: u64 = 1 << 33;
const RWAIT: u64 = 1 << 34;

/// Your turn: the lock (read or write) is yours.
const GRANT: u32 = wait::USER;
/// The write lock was released: retry (a reader), with a pass past pending writers.
const WOKEN: u32 = wait::USER + 1;

/// Rounds (of 4 spin hints, then a look at the state) a reader that met a writer waits for
/// it before queueing: about as long as `wait::spin_briefly`.
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

/// Has the oldest queued reader waited `STARVE`?
fn starving(q: &Queue) -> bool {
    #[cfg(loom)]
    return !q.readers.is_empty() && LOOM_STARVING.with(|s| s.get());
    #[cfg(not(loom))]
    q.readers.front().is_some_and(|r| r.since.elapsed() >= STARVE)
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
}

type Guard<'a> = MutexGuard<'a, Queue, RWMUTEX>;

#[inline]
fn readers(s: u64) -> u64 {
    s & READERS
}

/// Completes the tokens of woken readers, after `q` is released (invariants 5 and 7).
fn wake(woken: Vec<Token>) {
    for t in woken {
        t.complete(WOKEN);
    }
}

#[derive(Default)]
pub struct RWMutex {
    state: AtomicU64,
    q: Lock<Queue, RWMUTEX>,
}

impl RWMutex {
    pub fn new() -> RWMutex {
        RWMutex::default()
    }

    /// Takes a read lock, waiting up to `deadline`. `Again` for a poll that would wait.
    #[inline]
    pub fn rlock(&self, deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
        let s = self.state.fetch_add(1, Acquire);
        if s & (WRITER | PENDING) == 0 {
            return Ok(());
        }
        self.rlock_contended(deadline, cancel)
    }

    /// A reader that met a writer (module docs, `rlock`): takes its transient increment
    /// back, spins briefly for the writer to pass, else queues.
    #[inline(never)]
    fn rlock_contended(&self, deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
        self.take_back_transient();
        if !matches!(deadline, Deadline::Poll) && self.spin_enter() {
            return Ok(());
        }
        self.rlock_slow(deadline, cancel)
    }

    /// Waits a moment for writers (holding or pending) to pass, and enters as a reader if
    /// they did. Only with several processors: on one, the writer cannot run meanwhile.
    fn spin_enter(&self) -> bool {
        #[cfg(not(loom))]
        if crate::sched::multiprocessor() {
            for _ in 0..SPINS {
                for _ in 0..4 {
                    std::hint::spin_loop();
                }
                if self.state.load(Relaxed) & (WRITER | PENDING) == 0 && self.try_enter(WRITER | PENDING) {
                    return true;
                }
            }
        }
        false
    }

    /// Enters as a reader without queueing if nothing blocks it (`blockers`): a CAS, so no
    /// transient increment.
    fn try_enter(&self, blockers: u64) -> bool {
        let mut s = self.state.load(Relaxed);
        while s & blockers == 0 {
            match self.state.compare_exchange(s, s + 1, Acquire, Relaxed) {
                Ok(_) => return true,
                Err(x) => s = x,
            }
        }
        false
    }

    /// Queues a reader (holding no transient increment).
    fn rlock_slow(&self, deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
        let mut woken = Vec::new();
        let mut q = lock(&self.q);
        let mut pass = false;
        let mut since = None;
        loop {
            // Blocked by a writer holding the lock; by pending writers too, unless we queued
            // before them (a pass from an earlier wake).
            let blockers = WRITER | if pass { 0 } else { PENDING };
            if self.try_enter(blockers) {
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
            let key = if pass { q.readers.push_front(r) } else { q.readers.push_back(r) };
            q.nreaders += 1;
            let s = self.state.fetch_or(RWAIT, AcqRel);
            if s & blockers == 0 {
                // What blocked us left by its fast path before it could see `RWAIT` (it
                // does not take `q`): nobody else will release us (invariant 4).
                self.release_readers(&mut q, false, &mut woken);
            }
            drop(q);
            wake(std::mem::take(&mut woken));
            wait::spin_briefly(&tok); // writes are short: see one through before parking
            let r = wait::block(&tok, deadline, cancel);
            match r {
                GRANT => {
                    drop(lock(&self.q)); // handed and counted under `q` (invariant 7)
                    return Ok(());
                }
                WOKEN => {
                    // Retry with a pass; first without the queue lock (our waker no longer
                    // touches the RWMutex: invariant 7).
                    if self.try_enter(WRITER) {
                        return Ok(());
                    }
                    pass = true;
                    q = lock(&self.q);
                }
                _ => {
                    let mut q = lock(&self.q);
                    if q.readers.remove(key).is_some() {
                        q.nreaders -= 1;
                        if q.nreaders == 0 {
                            self.state.fetch_and(!RWAIT, Relaxed);
                        }
                    } // else: popped; a hander took its count back (invariant 5)
                    return Err(wait::error_of(r, deadline));
                }
            }
        }
    }

    /// Takes back a reader's transient increment, and hands the lock to a pending writer
    /// if that made the count 0, as `runlock` does (invariant 4). Never below zero: an
    /// erroneous `runlock` may have taken it already.
    fn take_back_transient(&self) {
        let mut s = self.state.load(Relaxed);
        loop {
            if readers(s) == 0 {
                return;
            }
            match self.state.compare_exchange(s, s - 1, Release, Relaxed) {
                Ok(_) => {
                    s -= 1;
                    break;
                }
                Err(x) => s = x,
            }
        }
        if readers(s) == 0 && s & PENDING != 0 && s & WRITER == 0 {
            self.runlock_slow();
        }
    }

    /// Releases a read lock. `State` if it is not read-locked.
    #[inline]
    pub fn runlock(&self) -> Result<()> {
        let s = self.state.fetch_sub(1, Release);
        if readers(s) == 0 {
            self.state.fetch_add(1, Relaxed);
            return Err(Error::State);
        }
        if readers(s) == 1 && s & PENDING != 0 && s & WRITER == 0 {
            self.runlock_slow();
        }
        Ok(())
    }

    #[inline(never)]
    fn runlock_slow(&self) {
        let mut woken = Vec::new();
        let mut q = lock(&self.q);
        let s = self.state.load(Relaxed);
        if readers(s) == 0 && s & PENDING != 0 && s & WRITER == 0 {
            self.grant_writer(&mut q, &mut woken);
        }
        drop(q);
        wake(woken);
    }

    /// Takes the write lock, waiting up to `deadline`. `Again` for a poll that would wait.
    #[inline]
    pub fn lock(&self, deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
        if self.state.compare_exchange(0, WRITER, Acquire, Relaxed).is_ok() {
            return Ok(());
        }
        self.lock_slow(deadline, cancel)
    }

    #[inline(never)]
    fn lock_slow(&self, deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
        let mut woken = Vec::new();
        let mut q = lock(&self.q);
        if q.writers.is_empty() {
            let mut s = self.state.load(Relaxed);
            while readers(s) == 0 && s & WRITER == 0 {
                match self.state.compare_exchange(s, s | WRITER, Acquire, Relaxed) {
                    Ok(_) => return Ok(()),
                    Err(x) => s = x,
                }
            }
        }
        wait::may_wait(deadline)?;
        let tok = wait::prepare(WaitReason::on(kind::RWMUTEX_WRITE, self));
        let key = q.writers.push_back(tok.clone());
        let s = self.state.fetch_or(PENDING, AcqRel);
        if readers(s) == 0 && s & WRITER == 0 {
            self.grant_writer(&mut q, &mut woken); // invariant 4 (may grant us at once)
        }
        drop(q);
        wake(woken);
        wait::spin_briefly(&tok); // the readers in the way leave within nanoseconds, as a rule
        let r = wait::block(&tok, deadline, cancel);
        let mut q = lock(&self.q);
        if r == GRANT {
            return Ok(()); // `q` taken once (invariant 7)
        }
        let mut woken = Vec::new();
        q.writers.remove(key);
        if q.writers.is_empty() {
            let s = self.state.fetch_and(!PENDING, AcqRel);
            if s & WRITER == 0 && q.nreaders > 0 {
                self.release_readers(&mut q, false, &mut woken); // invariant 6
            }
        }
        drop(q);
        wake(woken);
        Err(wait::error_of(r, deadline))
    }

    /// Releases the write lock. `State` if it is not write-locked.
    #[inline]
    pub fn unlock(&self) -> Result<()> {
        match self.state.compare_exchange(WRITER, 0, Release, Relaxed) {
            Ok(_) => Ok(()),
            Err(s) if s & WRITER == 0 => Err(Error::State),
            Err(_) => self.unlock_slow(),
        }
    }

    #[inline(never)]
    fn unlock_slow(&self) -> Result<()> {
        let mut woken = Vec::new();
        let mut q = lock(&self.q);
        if self.state.load(Relaxed) & WRITER == 0 {
            return Err(Error::State);
        }
        if starving(&q) {
            // Readers first (Go's order), handed the lock.
            self.hand_readers(&mut q, &mut woken);
        } else if self.hand_to_next_writer(&mut q) {
            // The readers stay queued behind the writer that holds it now.
        } else if q.nreaders > 0 {
            self.release_readers(&mut q, true, &mut woken);
        } else {
            let s = self.state.fetch_and(!(WRITER | PENDING), Release);
            debug_assert!(s & RWAIT == 0);
        }
        drop(q);
        wake(woken);
        Ok(())
    }

    /// With `WRITER` held: hands it to the first queued writer still waiting (`WRITER` stays
    /// set). `false` if none was.
    fn hand_to_next_writer(&self, q: &mut Guard<'_>) -> bool {
        while let Some(t) = q.writers.pop_front() {
            if t.complete(GRANT) {
                if q.writers.is_empty() {
                    self.state.fetch_and(!PENDING, Relaxed);
                }
                return true;
            }
        }
        if !q.writers.is_empty() {
            return false;
        }
        self.state.fetch_and(!PENDING, Relaxed);
        false
    }

    /// Hands the write lock to the first queued writer still waiting, if the lock is free
    /// (invariant 3). Under `q`; readers it releases instead go on `woken`.
    fn grant_writer(&self, q: &mut Guard<'_>, woken: &mut Vec<Token>) {
        let mut s = self.state.load(Relaxed);
        loop {
            if readers(s) != 0 || s & WRITER != 0 || q.writers.is_empty() {
                return;
            }
            match self.state.compare_exchange(s, s | WRITER, Acquire, Relaxed) {
                Ok(_) => break,
                Err(x) => s = x,
            }
        }
        if self.hand_to_next_writer(q) {
            return;
        }
        // Every queued writer had timed out: the lock is free again, for the readers.
        self.state.fetch_and(!(WRITER | PENDING), Release);
        if q.nreaders > 0 {
            self.release_readers(q, false, woken);
        }
    }

    /// Wakes every queued reader to retry (invariant 2; uncounted: module docs); with
    /// `from_writer`, clears `WRITER` in the same step. Their tokens go on `woken`, completed
    /// after `q` is released.
    fn release_readers(&self, q: &mut Guard<'_>, from_writer: bool, woken: &mut Vec<Token>) {
        let clear = RWAIT | if from_writer { WRITER } else { 0 };
        self.state.fetch_and(!clear, AcqRel);
        q.nreaders = 0;
        woken.extend(q.readers.drain().map(|r| r.tok));
    }

    /// Hands the lock to every queued reader (starving readers: module docs): counts them
    /// and clears `WRITER` in one step, then completes their tokens under `q`, taking back
    /// the count of each whose own timeout won (invariant 5).
    fn hand_readers(&self, q: &mut Guard<'_>, woken: &mut Vec<Token>) {
        let k = q.nreaders;
        let mut s = self.state.load(Relaxed);
        loop {
            let new = (s + k) & !(RWAIT | WRITER);
            match self.state.compare_exchange(s, new, AcqRel, Relaxed) {
                Ok(_) => break,
                Err(x) => s = x,
            }
        }
        q.nreaders = 0;
        let mut lost = 0;
        while let Some(r) = q.readers.pop_front() {
            if !r.tok.complete(GRANT) {
                lost += 1;
            }
        }
        if lost > 0 {
            let s = self.state.fetch_sub(lost, AcqRel) - lost;
            if readers(s) == 0 && s & PENDING != 0 && s & WRITER == 0 {
                self.grant_writer(q, woken);
            }
        }
    }

    /// Held by a writer now.
    pub fn is_locked(&self) -> bool {
        self.state.load(Relaxed) & WRITER != 0
    }

    /// Readers holding it now (transient increments included).
    pub fn readers(&self) -> u64 {
        readers(self.state.load(Relaxed))
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::Arc;
    use loom::cell::UnsafeCell;
    use std::time::Instant;

    /// A writer and a reader: never both inside (loom checks the cell's accesses), and the
    /// state ends clean (no lost hand-off: both finish).
    #[test]
    fn loom_rwmutex_writer_excludes_reader() {
        loom::model(|| {
            let mu = Arc::new(RWMutex::new());
            let v = Arc::new(UnsafeCell::new(0u32));
            let (m2, v2) = (mu.clone(), v.clone());
            let t = loom::thread::spawn(move || {
                m2.lock(Deadline::Never, None).unwrap();
                // SAFETY: under the write lock (loom checks the accesses do not race).
                v2.with_mut(|p| unsafe { *p += 1 });
                m2.unlock().unwrap();
            });
            mu.rlock(Deadline::Never, None).unwrap();
            // SAFETY: under a read lock (loom checks that no write races it).
            let _ = v.with(|p| unsafe { *p });
            mu.runlock().unwrap();
            t.join().unwrap();
            assert_eq!(mu.state.load(Relaxed), 0);
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
            let (m2, v2) = (mu.clone(), v.clone());
            let w = loom::thread::spawn(move || {
                m2.lock(Deadline::Never, None).unwrap();
                // SAFETY: under the write lock.
                v2.with_mut(|p| unsafe { *p += 1 });
                m2.unlock().unwrap();
            });
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
            assert_eq!(mu.state.load(Relaxed), 0);
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
            assert_eq!(mu.state.load(Relaxed), 0);
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
            assert_eq!(mu.state.load(Relaxed), 0);
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
            assert_eq!(mu.state.load(Relaxed), 0);
        });
    }
}
