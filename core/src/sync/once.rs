//! Once: Go's `sync.Once` for functions that can fail: the function runs exactly once;
//! callers that come while it runs wait for it (with a timeout and a cancel token); every
//! caller, then and later, gets its outcome.
//!
//! The failure rule (Go's `sync.OnceValue`, which re-panics the first panic to every
//! caller): the function reports failure by returning a nonzero code (or by unwinding). It is
//! *not* run again: the Once is done, failed, for good; every call returns `Panic` (the C
//! API's `GR_EPANIC`) and [`Once::code`] gives the function's code. "Exactly once" holds
//! whatever the outcome; a caller who wants a retry makes a new Once.
//!
//! State word `state`: `NEW -> RUNNING -> DONE | FAILED`, each step once. The fast path is
//! one load (`DONE` or `FAILED`). `RUNNING` is entered under `q` by the one caller that runs
//! the function (the *runner*); the others queue their tokens under `q` and block. The
//! runner sets the final state and completes every queued token under `q`, so a caller
//! either sees the final state or is queued before the runner drains (no lost wake-up). A
//! finished waiter takes `q` once more, so it returns only after the runner has left the
//! Once (freeing it right after is safe). A runner that unwinds out of the function
//! (a Rust panic) still finishes, as failed, so no caller waits for ever.
//!
//! The function calling back into its own Once (same goroutine or thread) would wait for
//! itself for ever (Go deadlocks): that call is `State`.
//!
//! Lock order (`sched/README.md`, "Lock order"): `q` is rank 37, not held while the function
//! runs; outer to the scheduler's locks.
#![forbid(unsafe_code)]

use crate::cancel::Cancel;
use crate::chan::wait::{self, Token};
use crate::error::{Error, Result};
use crate::loom::rank::ONCE;
use crate::loom::{lock, AtomicU8, Mutex as Lock};
use crate::waiter::Deadline;
use crate::waitlist::WaitList;
use crate::waitreason::{kind, WaitReason};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

const NEW: u8 = 0;
const RUNNING: u8 = 1;
const DONE: u8 = 2;
const FAILED: u8 = 3;

/// The runner finished: look at the state.
const FINISHED: u32 = wait::USER;

/// The code recorded when the function unwound instead of returning.
pub const UNWOUND: i32 = i32::MIN;

#[derive(Default)]
struct Queue {
    waiters: WaitList<Token>,
    /// `wait::owner_id` of the runner while `RUNNING`.
    runner: usize,
    /// The function's nonzero code once `FAILED`.
    code: i32,
}

/// Where a Once is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnceState {
    New,
    Running,
    Done,
    Failed,
}

#[derive(Default)]
pub struct Once {
    state: AtomicU8,
    q: Lock<Queue, ONCE>,
}

impl Once {
    pub fn new() -> Once {
        Once::default()
    }

    /// Runs `f` if no call has (module docs); else waits up to `deadline` for the call that
    /// runs it. `Ok` if it succeeded (returned 0), `Panic` if it failed, `State` for a call
    /// from inside `f`; `TimedOut`/`Again`/`Cancelled` for a wait that ended first.
    pub fn call(&self, f: impl FnOnce() -> i32, deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
        match self.state.load(Acquire) {
            DONE => Ok(()),
            FAILED => Err(Error::Panic),
            _ => self.call_slow(f, deadline, cancel),
        }
    }

    #[inline(never)]
    fn call_slow(&self, f: impl FnOnce() -> i32, deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
        let mut q = lock(&self.q);
        match self.state.load(Acquire) {
            DONE => return Ok(()),
            FAILED => return Err(Error::Panic),
            NEW => {
                self.state.store(RUNNING, Relaxed);
                q.runner = wait::owner_id();
                drop(q);
                return self.run(f);
            }
            _ => {}
        }
        if q.runner == wait::owner_id() {
            return Err(Error::State);
        }
        wait::may_wait(deadline)?;
        let tok = wait::prepare(WaitReason::on(kind::ONCE, self));
        let key = q.waiters.push_back(tok.clone());
        drop(q);
        let r = wait::block(&tok, deadline, cancel);
        let mut q = lock(&self.q);
        if r == FINISHED {
            drop(q);
            return self.outcome();
        }
        q.waiters.remove(key);
        Err(wait::error_of(r, deadline))
    }

    /// The runner's part: run `f`, then finish (also if `f` unwinds).
    fn run(&self, f: impl FnOnce() -> i32) -> Result<()> {
        struct Finish<'a> {
            once: &'a Once,
            code: i32,
        }
        impl Drop for Finish<'_> {
            fn drop(&mut self) {
                self.once.finish(self.code);
            }
        }
        let mut fin = Finish { once: self, code: UNWOUND };
        fin.code = f();
        let ok = fin.code == 0;
        drop(fin);
        if ok {
            Ok(())
        } else {
            Err(Error::Panic)
        }
    }

    fn finish(&self, code: i32) {
        let mut q = lock(&self.q);
        q.code = code;
        q.runner = 0;
        self.state.store(if code == 0 { DONE } else { FAILED }, Release);
        for t in q.waiters.drain() {
            t.complete(FINISHED);
        }
    }

    fn outcome(&self) -> Result<()> {
        match self.state.load(Acquire) {
            DONE => Ok(()),
            _ => Err(Error::Panic),
        }
    }

    pub fn state(&self) -> OnceState {
        match self.state.load(Acquire) {
            NEW => OnceState::New,
            RUNNING => OnceState::Running,
            DONE => OnceState::Done,
            _ => OnceState::Failed,
        }
    }

    /// The failed function's code ([`UNWOUND`] if it unwound); 0 unless failed.
    pub fn code(&self) -> i32 {
        lock(&self.q).code
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::{Arc, AtomicU32};

    /// Two callers: the function runs exactly once, and both return its outcome (the waiter
    /// is never lost, whether it queues before the runner finishes or sees the final state).
    #[test]
    fn loom_once_runs_exactly_once() {
        loom::model(|| {
            let once = Arc::new(Once::new());
            let runs = Arc::new(AtomicU32::new(0));
            let (o2, r2) = (once.clone(), runs.clone());
            let t = loom::thread::spawn(move || {
                o2.call(
                    || {
                        r2.fetch_add(1, Relaxed);
                        0
                    },
                    Deadline::Never,
                    None,
                )
            });
            let mine = once.call(
                || {
                    runs.fetch_add(1, Relaxed);
                    0
                },
                Deadline::Never,
                None,
            );
            assert_eq!(mine, Ok(()));
            assert_eq!(t.join().unwrap(), Ok(()));
            assert_eq!(runs.load(Relaxed), 1);
            assert_eq!(once.state(), OnceState::Done);
        });
    }

    /// A failing function: run once; every caller (the racing one, a later one) gets
    /// `Panic` and the code; a waiter with a deadline that may expire at any point either
    /// gets the outcome or times out, and leaves no entry behind.
    #[test]
    fn loom_once_failure_is_sticky() {
        loom::model(|| {
            let once = Arc::new(Once::new());
            let o2 = once.clone();
            let t = loom::thread::spawn(move || o2.call(|| 7, Deadline::At(std::time::Instant::now()), None));
            let mine = once.call(|| 7, Deadline::Never, None);
            let theirs = t.join().unwrap();
            assert_eq!(mine, Err(Error::Panic));
            assert!(theirs == Err(Error::Panic) || theirs == Err(Error::TimedOut), "{theirs:?}");
            assert_eq!(once.call(|| 0, Deadline::Never, None), Err(Error::Panic));
            assert_eq!(once.code(), 7);
            assert!(lock(&once.q).waiters.is_empty());
        });
    }
}
