//! Cancel tokens: end every wait registered on them with `CANCELLED`.
//!
//! Firing is sticky until `reset`: a wait that registers on a fired token ends at once. A
//! cancelled wait is withdrawn like a timed-out one (its publisher removes it from its queue
//! under its own lock), so no value is lost to it.
//!
//! Registrations are a [`WaitList`]: a wait that ends otherwise (data, timeout) unregisters
//! by its key in O(1), so one token shared by 100,000 waits costs no scan. `fire` drains the
//! list (keeping its generations: `crate::waitlist`, invariant 3).
//!
//! Lock order (`sched/README.md`, "Lock order"): `Cancel::inner` is rank 41, a leaf; the
//! tokens are completed after it is released.
#![forbid(unsafe_code)]

use crate::loom::rank::CANCEL;
use crate::loom::{lock, Mutex};
use crate::sys::sanitizer;
use crate::waiter::{Token, CANCELLED};
use crate::waitlist::{Key, WaitList};

#[derive(Default)]
struct Inner {
    fired: bool,
    waiters: WaitList<Token>,
}

#[derive(Default)]
pub struct Cancel {
    inner: Mutex<Inner, CANCEL>,
}

impl Drop for Cancel {
    fn drop(&mut self) {
        sanitizer::forget(self.sync_addr()); // handles' pools reuse the address
    }
}

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Ends every registered wait with `CANCELLED`; later waits end at once until `reset`.
    pub fn fire(&self) {
        sanitizer::release(self.sync_addr()); // for waits that find it fired
        let waiters: Vec<Token> = {
            let mut g = lock(&self.inner);
            g.fired = true;
            g.waiters.drain().collect()
        };
        for t in waiters {
            t.complete(CANCELLED);
        }
    }

    pub fn reset(&self) {
        lock(&self.inner).fired = false;
    }

    pub fn is_fired(&self) -> bool {
        let fired = lock(&self.inner).fired;
        if fired {
            sanitizer::acquire(self.sync_addr());
        }
        fired
    }

    /// Where a sanitizer is told of `fire` (waits it ends learn of it through the waiter).
    fn sync_addr(&self) -> usize {
        self as *const Cancel as usize
    }

    /// Registers the open wait `t`; `None` if already fired (the wait must end as cancelled).
    pub(crate) fn register(&self, t: &Token) -> Option<Key> {
        let mut g = lock(&self.inner);
        if g.fired {
            drop(g);
            sanitizer::acquire(self.sync_addr());
            return None;
        }
        Some(g.waiters.push_back(t.clone()))
    }

    /// Withdraws a registration (a no-op if `fire` took it already).
    pub(crate) fn unregister(&self, key: Key) {
        lock(&self.inner).waiters.remove(key);
    }
}
