//! RWMutex: Go's `sync.RWMutex` (many readers or one writer, writer preference), with a
//! timeout and a cancel token on every lock, for goroutines and plain threads alike.
//!
//! Writer preference as Go's: once a writer waits, new readers wait too (so a stream of
//! readers cannot starve it); when a writer unlocks, the readers that queued meanwhile go
//! first, as a batch, then the next writer (so writers cannot starve readers either).
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
//!   *transient*: the reader takes the queue lock, takes it back, and queues.
//! - `runlock`: one `fetch_sub(1)`; only the reader that leaves `READERS` at 0 while a writer
//!   is pending takes the slow path, to hand the lock to that writer.
//! - `lock`: a CAS `0 -> WRITER`; `unlock`: a CAS `WRITER -> 0`, else the slow path.
//!
//! Queue `q` (a lock): the queued readers and writers ([`WaitList`]s, FIFO, O(1)
//! withdrawal) and the number of queued readers.
//!
//! # Invariants (under `q`)
//! 1. `PENDING` is set iff `q.writers` is non-empty; `RWAIT` is set iff `q.readers` is.
//! 2. Readers queue only while `WRITER` or `PENDING` is set, and whoever clears the last of
//!    the two under `q` grants every queued reader in the same critical section
//!    (`grant_readers`). So no reader waits while the lock is free for readers.
//! 3. A writer is granted (`grant_writer`) only when `READERS` is 0 and `WRITER` clear; the
//!    grant sets `WRITER` in a CAS that sees `READERS == 0`, then completes the first
//!    writer's token it wins (a timed-out one fails its CAS and is skipped).
//! 4. No lost hand-off to a waiting writer: the writer sets `PENDING` (after queueing, with
//!    an RMW) and then checks `READERS`; the last reader decrements `READERS` (an RMW) and
//!    then checks `PENDING`. Of the two RMWs on the one word, the second sees the first, so
//!    one of them runs `grant_writer`. A transient increment that delays the count's zero
//!    is taken back under `q` with the same check. The same for a queueing reader against a
//!    writer's fast unlock (a CAS `WRITER -> 0`, which does not take `q`): the reader sets
//!    `RWAIT` with an RMW and looks at what it replaced; if `WRITER` was gone already it
//!    grants the queue itself, else the writer's CAS fails on `RWAIT` and it unlocks
//!    through `q`, granting the readers. (The loom model found this one.)
//! 5. Granted readers are counted before their tokens complete (an add of all of them, in
//!    the same atomic step that clears `WRITER`); each reader whose token was won by its
//!    own timeout is taken back out.
//! 6. A waiter whose timeout or cancel wins withdraws its entry by key (O(1)); a writer
//!    leaving the queue empty clears `PENDING` and, if no writer holds, grants the readers
//!    it held back: a timed-out writer leaves no trace.
//! 7. A successful slow-path lock takes `q` once more after its wake, so it returns only
//!    after the unlock that granted it has left the RWMutex (freeing right after is safe).
//!
//! A `runlock` of an unlocked RWMutex is `State` (best effort: racing a reader on its way
//! to the slow path, the two are told apart only by that reader, which then takes nothing
//! back; the count never goes below zero). An `unlock` not under a write lock is `State`.
//!
//! Lock order (`sched/README.md`, "Lock order"): `q` is rank 34, outer to the scheduler's
//! locks, which completing tokens under it may take.
#![cfg_attr(not(loom), forbid(unsafe_code))] // (its loom model checks exclusion with an UnsafeCell)

use crate::waitreason::{kind, WaitReason};
use crate::cancel::Cancel;
use crate::chan::wait::{self, Token};
use crate::error::{Error, Result};
use crate::loom::rank::RWMUTEX;
use crate::loom::{lock, AtomicU64, Mutex as Lock, MutexGuard};
use crate::waiter::Deadline;
use crate::waitlist::WaitList;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

const READERS: u64 = (1 << 32) - 1;
const WRITER: u64 = 1 << 32;
const PENDING: u64 = 1 << 33;
const RWAIT: u64 = 1 << 34;

/// Your turn: the lock (read or write) is yours.
const GRANT: u32 = wait::USER;

#[derive(Default)]
struct Queue {
    readers: WaitList<Token>,
    nreaders: u64,
    writers: WaitList<Token>,
}

type Guard<'a> = MutexGuard<'a, Queue, RWMUTEX>;

#[inline]
fn readers(s: u64) -> u64 {
    s & READERS
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
        self.rlock_slow(deadline, cancel)
    }

    #[inline(never)]
    fn rlock_slow(&self, deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
        let mut q = lock(&self.q);
        self.take_back_transient(&mut q);
        // The writer may have gone meanwhile (invariant 2: nobody is queued then).
        let mut s = self.state.load(Relaxed);
        while s & (WRITER | PENDING) == 0 {
            match self.state.compare_exchange(s, s + 1, Acquire, Relaxed) {
                Ok(_) => return Ok(()),
                Err(x) => s = x,
            }
        }
        wait::may_wait(deadline)?;
        let tok = wait::prepare(WaitReason::on(kind::RWMUTEX_READ, self));
        let key = q.readers.push_back(tok.clone());
        q.nreaders += 1;
        let s = self.state.fetch_or(RWAIT, AcqRel);
        if s & (WRITER | PENDING) == 0 {
            // The writer left by its fast path before it could see `RWAIT` (it does not
            // take `q`): nobody else will grant us (invariant 2), so grant the queue now.
            self.grant_readers(&mut q, false);
        }
        drop(q);
        let r = wait::block(&tok, deadline, cancel);
        let mut q = lock(&self.q);
        if r == GRANT {
            return Ok(()); // counted by the granter (invariant 5); `q` taken once (7)
        }
        if q.readers.remove(key).is_some() {
            q.nreaders -= 1;
            if q.nreaders == 0 {
                self.state.fetch_and(!RWAIT, Relaxed);
            }
        }
        Err(wait::error_of(r, deadline))
    }

    /// Takes back a reader's transient increment (under `q`), and hands the lock to a
    /// pending writer if that made the count 0 (invariant 4). Never below zero: an
    /// erroneous `runlock` may have taken it already.
    fn take_back_transient(&self, q: &mut Guard<'_>) {
        let mut s = self.state.load(Relaxed);
        loop {
            if readers(s) == 0 {
                break;
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
            self.grant_writer(q);
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
        let mut q = lock(&self.q);
        let s = self.state.load(Relaxed);
        if readers(s) == 0 && s & PENDING != 0 && s & WRITER == 0 {
            self.grant_writer(&mut q);
        }
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
            self.grant_writer(&mut q); // invariant 4 (may grant us at once)
        }
        drop(q);
        let r = wait::block(&tok, deadline, cancel);
        let mut q = lock(&self.q);
        if r == GRANT {
            return Ok(()); // `q` taken once (invariant 7)
        }
        q.writers.remove(key);
        if q.writers.is_empty() {
            let s = self.state.fetch_and(!PENDING, AcqRel);
            if s & WRITER == 0 {
                self.grant_readers(&mut q, false); // invariant 6
            }
        }
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
        let mut q = lock(&self.q);
        if self.state.load(Relaxed) & WRITER == 0 {
            return Err(Error::State);
        }
        if q.nreaders > 0 {
            // The readers that queued during the write go first (Go's order).
            self.grant_readers(&mut q, true);
            return Ok(());
        }
        // Straight to the next writer, if one is queued and still waiting.
        while let Some(t) = q.writers.pop_front() {
            if t.complete(GRANT) {
                if q.writers.is_empty() {
                    self.state.fetch_and(!PENDING, Relaxed);
                }
                return Ok(());
            }
        }
        let s = self.state.fetch_and(!(WRITER | PENDING), Release);
        debug_assert!(s & RWAIT == 0);
        Ok(())
    }

    /// Hands the write lock to the first queued writer still waiting, if the lock is free
    /// (invariant 3). Under `q`.
    fn grant_writer(&self, q: &mut Guard<'_>) {
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
        while let Some(t) = q.writers.pop_front() {
            if t.complete(GRANT) {
                if q.writers.is_empty() {
                    self.state.fetch_and(!PENDING, Relaxed);
                }
                return;
            }
        }
        // Every queued writer had timed out: the lock is free again, for the readers.
        self.state.fetch_and(!(WRITER | PENDING), Release);
        self.grant_readers(q, false);
    }

    /// Grants every queued reader (invariants 2 and 5); `from_writer`: clears `WRITER` in
    /// the same step (the unlock of the writer that held them back). Under `q`.
    fn grant_readers(&self, q: &mut Guard<'_>, from_writer: bool) {
        let k = q.nreaders;
        let clear = RWAIT | if from_writer { WRITER } else { 0 };
        let mut s = self.state.load(Relaxed);
        loop {
            let new = (s + k) & !clear;
            match self.state.compare_exchange(s, new, AcqRel, Relaxed) {
                Ok(_) => break,
                Err(x) => s = x,
            }
        }
        q.nreaders = 0;
        let mut lost = 0;
        while let Some(t) = q.readers.pop_front() {
            if !t.complete(GRANT) {
                lost += 1; // its own timeout won: it is not a reader
            }
        }
        if lost > 0 {
            let s = self.state.fetch_sub(lost, AcqRel) - lost;
            if readers(s) == 0 && s & PENDING != 0 && s & WRITER == 0 {
                self.grant_writer(q);
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
