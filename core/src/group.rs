//! Task groups: Go's `errgroup` and the shape of Python's `asyncio.TaskGroup` (structured
//! concurrency): goroutines spawned into a group bound to a context, a wait for all of them,
//! the first failure cancelling the group's context and being the one reported, and an
//! optional limit on how many run at once.
//!
//! - The group's context is derived from the parent given at creation (`Cancel::derive`):
//!   cancelling the parent cancels the group's tasks' waits too.
//! - A task fails when its function returns a nonzero code, or its goroutine is marked
//!   failed (`gr_goroutine_fail`: how a binding reports an exception), or it unwinds. The
//!   first failure to *finish* is recorded (code and message) and cancels the context,
//!   before the task counts as done (errgroup's order), so a waiter that sees the group done
//!   also sees the cancellation.
//! - `wait` returns once every task spawned so far has finished: `Ok`, or `Panic` if one
//!   failed (the first failure is then readable: [`Group::first_failure`]). Like errgroup's
//!   `Wait`, a successful wait also cancels the context (the group's work is over).
//! - A limit is a semaphore of that many units, one per running task: `spawn` waits for a
//!   unit (up to its deadline, errgroup's `Go` blocks; with a poll deadline it is errgroup's
//!   `TryGo`), the finishing task gives it back.
//!
//! Invariant (under `q`): `running` counts the tasks spawned and not finished; `waiters` is
//! empty when it is 0 (the task that makes it 0 completes them all). A successful waiter
//! takes `q` once more after its wake (it returns after the last task left the group's
//! lock); tasks keep the shared state alive by reference count, so freeing the group after
//! `wait` is safe while the last task is still returning.
//!
//! Lock order (`sched/README.md`, "Lock order"): `q` is rank 38; it is released before the
//! context is cancelled (41) or the limit's semaphore (36) is touched.
#![forbid(unsafe_code)]

use crate::cancel::Cancel;
use crate::chan::wait::{self, Token};
use crate::error::{Error, Result};
use crate::goroutine::{Entry, GRef};
use crate::loom::rank::GROUP;
use crate::loom::{lock, Mutex as Lock};
use crate::sched::{self, SpawnOpts};
use crate::sync::Semaphore;
use crate::waiter::Deadline;
use crate::waitlist::WaitList;
use crate::waitreason::{kind, WaitReason};
use std::ffi::CString;
use std::sync::Arc;

const ALL_DONE: u32 = wait::USER;

/// The first failure of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The task function's nonzero code; `None` when its goroutine failed otherwise (marked
    /// failed, or unwound).
    pub code: Option<i32>,
    pub message: CString,
}

#[derive(Default)]
struct Queue {
    running: usize,
    failed: usize,
    first: Option<Failure>,
    waiters: WaitList<Token>,
}

struct Shared {
    ctx: Cancel,
    limit: Option<Semaphore>,
    q: Lock<Queue, GROUP>,
}

/// A group of goroutines (module docs).
pub struct Group {
    s: Arc<Shared>,
}

impl Group {
    /// A group whose context derives from `parent` (None: a new root), running at most
    /// `limit` tasks at once (0: no limit).
    pub fn new(parent: Option<&Cancel>, limit: usize) -> Group {
        Group {
            s: Arc::new(Shared {
                ctx: Cancel::derive(parent, None),
                limit: (limit > 0).then(|| Semaphore::new(limit as u64)),
                q: Lock::new(Queue::default()),
            }),
        }
    }

    /// The group's context: cancelled by the first failure, by a successful `wait`, by the
    /// parent, or by [`Group::cancel`].
    pub fn context(&self) -> &Cancel {
        &self.s.ctx
    }

    /// Cancels the group's context (the tasks' waits on it end with `Cancelled`).
    pub fn cancel(&self) {
        self.s.ctx.fire();
    }

    /// Spawns `f` as a member goroutine: waits up to `deadline` (and `cancel`) for a slot if
    /// the group has a limit (`Again` for a poll finding none). `f` returns 0 for success
    /// or a failure code (see the module docs for the other ways to fail).
    pub fn spawn(&self, f: Box<dyn FnOnce() -> i32 + Send>, opts: SpawnOpts, deadline: Deadline, cancel: Option<&Cancel>) -> Result<GRef> {
        self.spawn_gen(f, opts, deadline, cancel).map(|(g, _)| g)
    }

    /// [`Group::spawn`], also returning the generation of the runtime the goroutine belongs
    /// to (for a handle to it). The spawn is `sched::spawn_gen`'s: admitted or refused in one
    /// step against `gr_shutdown` (`State` once it began), never lost to it.
    pub fn spawn_gen(&self, f: Box<dyn FnOnce() -> i32 + Send>, opts: SpawnOpts, deadline: Deadline, cancel: Option<&Cancel>) -> Result<(GRef, u64)> {
        if let Some(sem) = &self.s.limit {
            sem.acquire(1, deadline, cancel)?;
        }
        lock(&self.s.q).running += 1;
        let s = self.s.clone();
        let body = Box::new(move || {
            let rc = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            let failure = match rc {
                Ok(0) => sched::with_current(|g| match g {
                    Some(g) if g.has_failed() => Some(Failure { code: None, message: crate::join::failure_message(g) }),
                    _ => None,
                }),
                Ok(code) => Some(Failure { code: Some(code), message: CString::new(format!("task failed with code {code}")).unwrap_or_default() }),
                Err(_) => {
                    let _ = sched::fail_current(Some(c"goroutine panicked".to_owned()));
                    Some(Failure { code: None, message: c"goroutine panicked".to_owned() })
                }
            };
            s.finish(failure);
        });
        match sched::spawn_gen(Entry::Rust(body), opts) {
            Ok(g) => Ok(g),
            Err(e) => {
                self.s.finish(None); // never ran: undo the count and the slot
                Err(e)
            }
        }
    }

    /// Waits up to `deadline` for every task spawned so far to finish: `Ok`, or `Panic` if
    /// one failed (then cancelled the context; see [`Group::first_failure`]). A successful
    /// return cancels the context.
    pub fn wait(&self, deadline: Deadline, cancel: Option<&Cancel>) -> Result<()> {
        let mut q = lock(&self.s.q);
        if q.running > 0 {
            wait::may_wait(deadline)?;
            let tok = wait::prepare(WaitReason::on(kind::WAITGROUP, self));
            let key = q.waiters.push_back(tok.clone());
            drop(q);
            let r = wait::block(&tok, deadline, cancel);
            q = lock(&self.s.q); // (after a win: the finishing task has left the lock)
            if r != ALL_DONE {
                q.waiters.remove(key);
                return Err(wait::error_of(r, deadline));
            }
        }
        let failed = q.first.is_some();
        drop(q);
        self.s.ctx.fire();
        if failed {
            Err(Error::Panic)
        } else {
            Ok(())
        }
    }

    /// The first failure, if a task failed.
    pub fn first_failure(&self) -> Option<Failure> {
        lock(&self.s.q).first.clone()
    }

    /// Tasks that failed so far.
    pub fn failed(&self) -> usize {
        lock(&self.s.q).failed
    }

    /// Tasks running (spawned, not finished) now.
    pub fn running(&self) -> usize {
        lock(&self.s.q).running
    }
}

impl Shared {
    /// A task finished (or never started): record a failure (the first one cancels the
    /// context), give back its slot, and release the waiters if it was the last.
    fn finish(&self, failure: Option<Failure>) {
        let first = match failure {
            None => false,
            Some(f) => {
                let mut q = lock(&self.q);
                q.failed += 1;
                let first = q.first.is_none();
                if first {
                    q.first = Some(f);
                }
                first
            }
        };
        if first {
            self.ctx.fire();
        }
        if let Some(sem) = &self.limit {
            let _ = sem.release(1);
        }
        let mut q = lock(&self.q);
        q.running -= 1;
        if q.running == 0 {
            for t in q.waiters.drain() {
                t.complete(ALL_DONE);
            }
        }
    }
}
