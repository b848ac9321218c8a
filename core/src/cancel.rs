//! Cancel tokens: end every wait registered on them with `CANCELLED`.
//!
//! Firing is sticky until `reset`: a wait that registers on a fired token ends at once. A
//! cancelled wait is withdrawn like a timed-out one (its publisher removes it from its queue
//! under its own lock), so no value is lost to it.
//!
//! Lock order (`sched/README.md`, "Lock order"): `Cancel::inner` is rank 41, a leaf; the tokens are completed
//! after it is released.
#![forbid(unsafe_code)]

use crate::loom::rank::CANCEL;
use crate::loom::{lock, Mutex};
use crate::waiter::{Token, CANCELLED};

#[derive(Default)]
struct Inner {
    fired: bool,
    waiters: Vec<Token>,
}

#[derive(Default)]
pub struct Cancel {
    inner: Mutex<Inner, CANCEL>,
}

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Ends every registered wait with `CANCELLED`; later waits end at once until `reset`.
    pub fn fire(&self) {
        let waiters = {
            let mut g = lock(&self.inner);
            g.fired = true;
            std::mem::take(&mut g.waiters)
        };
        for t in waiters {
            t.complete(CANCELLED);
        }
    }

    pub fn reset(&self) {
        lock(&self.inner).fired = false;
    }

    pub fn is_fired(&self) -> bool {
        lock(&self.inner).fired
    }

    /// `false` if already fired (the wait must end as cancelled).
    pub(crate) fn register(&self, t: &Token) -> bool {
        let mut g = lock(&self.inner);
        if g.fired {
            return false;
        }
        g.waiters.push(t.clone());
        true
    }

    pub(crate) fn unregister(&self, t: &Token) {
        let mut g = lock(&self.inner);
        if let Some(i) = g.waiters.iter().position(|w| w.same(t)) {
            g.waiters.swap_remove(i);
        }
    }
}
