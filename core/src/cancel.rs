//! Cancel tokens and contexts (Go's `context`): a tree of tokens, each ending every wait
//! registered on it with `CANCELLED` when it fires.
//!
//! A token is a node. A *root* ([`Cancel::new`]) fires only when told to. A *derived* token
//! ([`Cancel::derive`]: Go's `WithCancel`, `WithDeadline`, `WithTimeout`) also fires when its
//! parent does, with the parent's reason, and at its deadline (its own, or the parent's if
//! that is earlier) with the reason `DeadlineExceeded`. The reason is sticky and readable
//! ([`Cancel::err`]: `Cancelled` vs `TimedOut`); a token exposes a receive-only channel that
//! is closed when it fires ([`Cancel::done`], Go's `ctx.Done()`), usable in `select`.
//!
//! Firing is sticky: a wait that registers on a fired token ends at once. A cancelled wait is
//! withdrawn like a timed-out one (its publisher removes it from its queue under its own
//! lock), so no value is lost to it. Only a root may be [`Cancel::reset`] (the C API's
//! `gr_cancel_reset`, kept from before contexts); a derived token is final once fired.
//!
//! # The tree (`Inner`, under each node's own lock)
//! - `children`: the derived tokens not fired yet, strong references in a [`WaitList`]; a
//!   child knows its parent weakly with its key there (`parent`), so a child that fires by
//!   itself (cancelled, deadline, freed) leaves its parent's list in O(1). Parent to child is
//!   the only strong edge: no cycle, and a fired subtree is dropped as soon as its handles are.
//! - `waiters`: the registered waits, a [`WaitList`] (O(1) unregistration: one token shared by
//!   100,000 waits costs no scan).
//! - `done`: the `done` channel, made on first request.
//!
//! # Firing, O(descendants), no recursion
//! `cancel` fires nodes from a work list: under a node's lock, set the reason, drain its
//! waiters and children (the children go on the work list); after the lock, complete the
//! waiters, close `done`, take the deadline out of the timer heap, and (for the node the
//! cancel started at) leave the parent's list. Each descendant is locked once, and no lock
//! is held across nodes: a chain of 100,000 tokens neither recurses nor nests locks.
//!
//! # No lost cancellation (the cancel-vs-register races)
//! 1. A wait registers under the node's lock unless the node has fired: either `cancel`'s
//!    drain sees it, or it sees the reason and ends at once (`register` returns `None`).
//! 2. A child registers in its parent's list under the parent's lock unless the parent has
//!    fired: either the parent's drain takes it (and fires it), or it sees the reason and
//!    fires itself. The child's own back link is written after, under the child's lock, and
//!    only if it has not fired meanwhile (a fire from the parent needs no back link).
//!
//! `loom_tests` model-check both against a concurrent `cancel`.
//!
//! Lock order (`sched/README.md`, "Lock order"): `Node::inner` is rank 41; nodes never nest
//! (a parent's lock and a child's are taken one after the other). Under a node's lock the
//! timer heap's (70) may be taken (arming a deadline); tokens are completed, `done` closed
//! and deadlines disarmed after it is released.
#![forbid(unsafe_code)]

use crate::chan::wait::Token;
use crate::chan::Chan;
use crate::error::{Error, Result};
use crate::loom::rank::CANCEL;
use crate::loom::{lock, AtomicU8, Mutex};
use crate::sys::sanitizer;
use crate::timer::{Alarm, NOT_HEAPED};
use crate::waiter::CANCELLED;
use crate::waitlist::{Key, WaitList};
use std::sync::atomic::Ordering::{Acquire, Release};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Weak};
use std::time::Instant;

/// Why a token fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Cancelled (by `cancel`/`fire`, by freeing it, or through its parent): `GR_ECANCELED`.
    Cancelled,
    /// Its deadline passed (its own or an ancestor's): `GR_ETIMEDOUT`.
    DeadlineExceeded,
}

impl Reason {
    fn code(self) -> u8 {
        match self {
            Reason::Cancelled => 1,
            Reason::DeadlineExceeded => 2,
        }
    }

    fn of(code: u8) -> Option<Reason> {
        match code {
            1 => Some(Reason::Cancelled),
            2 => Some(Reason::DeadlineExceeded),
            _ => None,
        }
    }

    /// The error a caller reports for it (the ABI's `GR_ECANCELED` / `GR_ETIMEDOUT`).
    pub fn error(self) -> Error {
        match self {
            Reason::Cancelled => Error::Cancelled,
            Reason::DeadlineExceeded => Error::TimedOut,
        }
    }
}

#[derive(Default)]
struct Inner {
    reason: Option<Reason>,
    waiters: WaitList<Token>,
    children: WaitList<Arc<Node>>,
    done: Option<Arc<Chan>>,
    /// A derived token's registration in its parent's `children`, until it fires.
    parent: Option<(Weak<Node>, Key)>,
    /// Its deadline is in the timer heap.
    armed: bool,
}

struct Node {
    inner: Mutex<Inner, CANCEL>,
    /// `Reason::code` once fired, 0 before: read without the lock.
    fired: AtomicU8,
    /// The effective deadline: its own or an ancestor's, whichever is earlier.
    deadline: Option<Instant>,
    /// Derived (has a parent or a deadline): may not be reset.
    derived: bool,
    /// Its slot in the timer heap (`crate::timer::Alarm`).
    slot: AtomicUsize,
}

impl Drop for Node {
    fn drop(&mut self) {
        sanitizer::forget(self.sync_addr()); // the allocator reuses the address
    }
}

impl Node {
    /// Where a sanitizer is told of a firing (waits it ends learn of it through the waiter;
    /// `is_fired` and a refused `register` acquire it).
    fn sync_addr(&self) -> usize {
        self as *const Node as usize
    }

    fn new(deadline: Option<Instant>, derived: bool) -> Arc<Node> {
        Arc::new(Node { inner: Mutex::new(Inner::default()), fired: AtomicU8::new(0), deadline, derived, slot: AtomicUsize::new(NOT_HEAPED) })
    }
}

/// A cancel token (a context): cheap to clone, all clones are the same token.
#[derive(Clone)]
pub struct Cancel(Arc<Node>);

impl Default for Cancel {
    fn default() -> Self {
        Cancel::new()
    }
}

impl Cancel {
    /// A root token: fires only when told to.
    pub fn new() -> Cancel {
        Cancel(Node::new(None, false))
    }

    /// A token derived from `parent` (None: a root) that also fires at `deadline`, if given
    /// (Go's `WithCancel` and `WithDeadline`). Fired at once if the parent has fired or the
    /// deadline has passed.
    pub fn derive(parent: Option<&Cancel>, deadline: Option<Instant>) -> Cancel {
        let inherited = parent.and_then(|p| p.0.deadline);
        let own = deadline.filter(|d| inherited.is_none_or(|i| *d < i));
        if own.is_some() {
            // The timer heap must exist before the deadline is armed under our lock.
            let _ = crate::sched::live();
        }
        let me = Cancel(Node::new(own.or(inherited), true));
        if let Some(p) = parent {
            let key = {
                let mut pg = lock(&p.0.inner);
                match pg.reason {
                    Some(r) => Err(r),
                    None => Ok(pg.children.push_back(me.0.clone())),
                }
            };
            match key {
                Err(r) => {
                    me.cancel(r);
                    return me;
                }
                Ok(key) => {
                    let mut g = lock(&me.0.inner);
                    if g.reason.is_none() {
                        g.parent = Some((Arc::downgrade(&p.0), key));
                    }
                }
            }
        }
        if let Some(at) = own {
            if at <= Instant::now() {
                me.cancel(Reason::DeadlineExceeded);
            } else {
                let mut g = lock(&me.0.inner);
                if g.reason.is_none() {
                    g.armed = true;
                    crate::sched::with_alarm_timers(|t| t.arm(at, me.0.clone(), 0));
                }
            }
        }
        me
    }

    /// Fires with `Reason::Cancelled` (Go's `cancel()`); a no-op once fired.
    pub fn fire(&self) {
        self.cancel(Reason::Cancelled);
    }

    /// Fires this token and every token derived from it that has not fired, with `reason`:
    /// every registered wait ends with `CANCELLED`, every `done` channel is closed. A no-op
    /// on a token that has fired (its first reason stays).
    pub fn cancel(&self, reason: Reason) {
        let mut work: Vec<Arc<Node>> = Vec::new();
        let mut waiters: Vec<Token> = Vec::new();
        fire_one(&self.0, reason, false, &mut work, &mut waiters);
        while let Some(n) = work.pop() {
            fire_one(&n, reason, true, &mut work, &mut waiters);
        }
    }

    /// Re-arms a fired root token for new waits (its `done` channel is a new one). `State`
    /// for a derived token: a context is final once fired.
    pub fn reset(&self) -> Result<()> {
        if self.0.derived {
            return Err(Error::State);
        }
        let mut g = lock(&self.0.inner);
        if g.reason.take().is_some() {
            g.done = None;
        }
        self.0.fired.store(0, Release);
        Ok(())
    }

    pub fn is_fired(&self) -> bool {
        let fired = self.0.fired.load(Acquire) != 0;
        if fired {
            sanitizer::acquire(self.0.sync_addr());
        }
        fired
    }

    /// Why it fired (Go's `ctx.Err()`), `None` while it has not.
    pub fn reason(&self) -> Option<Reason> {
        Reason::of(self.0.fired.load(Acquire))
    }

    /// Go's `ctx.Err()` as an error: `Cancelled` or `TimedOut`; `None` while not fired.
    pub fn err(&self) -> Option<Error> {
        self.reason().map(Reason::error)
    }

    /// The deadline at which it fires by itself (its own or an ancestor's), if any.
    pub fn deadline(&self) -> Option<Instant> {
        self.0.deadline
    }

    /// Is this a derived token (has a parent or a deadline)?
    pub fn is_derived(&self) -> bool {
        self.0.derived
    }

    /// A receive-only channel closed when this token fires (Go's `ctx.Done()`): the same
    /// channel on every call until a `reset`.
    pub fn done(&self) -> Arc<Chan> {
        if let Some(d) = &lock(&self.0.inner).done {
            return d.clone();
        }
        let fresh = Arc::new(Chan::new_done());
        let (d, fired) = {
            let mut g = lock(&self.0.inner);
            let d = g.done.get_or_insert(fresh).clone();
            (d, g.reason.is_some())
        };
        if fired {
            let _ = d.close_source(); // (closed already if `cancel` got to it first)
        }
        d
    }

    /// Live children (registered, not fired). For tests.
    pub fn children(&self) -> usize {
        lock(&self.0.inner).children.len()
    }

    /// Registers the open wait `t`; `None` if already fired (the wait must end as cancelled).
    pub(crate) fn register(&self, t: &Token) -> Option<Key> {
        let mut g = lock(&self.0.inner);
        if g.reason.is_some() {
            drop(g);
            sanitizer::acquire(self.0.sync_addr());
            return None;
        }
        Some(g.waiters.push_back(t.clone()))
    }

    /// Withdraws a registration (a no-op if `cancel` took it already).
    pub(crate) fn unregister(&self, key: Key) {
        lock(&self.0.inner).waiters.remove(key);
    }
}

/// Fires one node (see "Firing" in the module docs); its children go on `work`. `waiters` is
/// scratch space reused across nodes.
fn fire_one(n: &Arc<Node>, reason: Reason, from_parent: bool, work: &mut Vec<Arc<Node>>, waiters: &mut Vec<Token>) {
    let (done, parent, armed) = {
        let mut g = lock(&n.inner);
        if g.reason.is_some() {
            return;
        }
        sanitizer::release(n.sync_addr()); // for waits that find it fired
        g.reason = Some(reason);
        n.fired.store(reason.code(), Release);
        waiters.extend(g.waiters.drain());
        work.extend(g.children.drain());
        (g.done.clone(), g.parent.take(), std::mem::take(&mut g.armed))
    };
    for t in waiters.drain(..) {
        t.complete(CANCELLED);
    }
    if let Some(d) = done {
        let _ = d.close_source();
    }
    if armed {
        crate::sched::with_alarm_timers(|t| t.disarm(&**n));
    }
    if !from_parent {
        // (A parent that fires us has drained us from its list already.)
        if let Some((p, key)) = parent {
            if let Some(p) = p.upgrade() {
                lock(&p.inner).children.remove(key);
            }
        }
    }
}

impl Alarm for Node {
    fn heap_slot(&self) -> &AtomicUsize {
        &self.slot
    }

    fn ring(self: Arc<Self>, _tag: u64, _at: Instant) {
        let me = Cancel(self);
        {
            let mut g = lock(&me.0.inner);
            if !std::mem::take(&mut g.armed) {
                return; // fired otherwise (and disarmed) while this ring was on its way
            }
        }
        me.cancel(Reason::DeadlineExceeded);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::chan::wait;
    use crate::waiter::Deadline;

    /// A wait registering on a child token races a cancel of the root: the wait always ends
    /// cancelled (never lost), the child always fires, and no registration is left behind.
    #[test]
    fn loom_cancel_races_wait_registration() {
        loom::model(|| {
            let root = Cancel::new();
            let child = Cancel::derive(Some(&root), None);
            let r2 = root.clone();
            let t = loom::thread::spawn(move || r2.fire());
            let tok = wait::prepare(crate::waitreason::WaitReason::NONE);
            let r = wait::block(&tok, Deadline::Never, Some(&child));
            t.join().unwrap();
            assert_eq!(r, CANCELLED);
            assert!(child.is_fired());
            assert!(lock(&child.0.inner).waiters.is_empty());
            assert_eq!(root.children(), 0);
        });
    }

    /// A child being derived races a cancel of its parent: the child fires (with the
    /// parent's reason) whichever comes first, and the parent's list ends empty.
    #[test]
    fn loom_cancel_races_child_registration() {
        loom::model(|| {
            let root = Cancel::new();
            let r2 = root.clone();
            let t = loom::thread::spawn(move || r2.cancel(Reason::DeadlineExceeded));
            let child = Cancel::derive(Some(&root), None);
            let grandchild = Cancel::derive(Some(&child), None);
            t.join().unwrap();
            assert_eq!(child.reason(), Some(Reason::DeadlineExceeded));
            assert_eq!(grandchild.reason(), Some(Reason::DeadlineExceeded));
            assert_eq!(root.children(), 0);
            assert_eq!(child.children(), 0);
        });
    }

    /// A child cancelled by itself races its parent's cancel: each fires once, and the
    /// child's entry leaves the parent's list either way (withdrawn by key, or drained).
    #[test]
    fn loom_child_cancel_races_parent_cancel() {
        loom::model(|| {
            let root = Cancel::new();
            let child = Cancel::derive(Some(&root), None);
            let c2 = child.clone();
            let t = loom::thread::spawn(move || c2.fire());
            root.cancel(Reason::DeadlineExceeded);
            t.join().unwrap();
            assert!(child.is_fired());
            assert_eq!(root.children(), 0);
        });
    }
}
