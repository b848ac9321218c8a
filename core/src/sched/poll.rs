//! The scheduler's side of the netpoller (`crate::netpoll`): who polls, and where the ready
//! goroutines go. The rules and their proof sketches are in `README.md`, section 9,
//! "Polling" (the rule numbers below are its); in short:
//!
//! - Busy Ms poll without blocking when their queues run dry ([`Runtime::poll_ready`], rule
//!   1), and the monitor when nobody has for ~10 ms ([`Runtime::monitor_poll`], rule 4).
//! - The last M to go idle blocks in `epoll_wait` ([`Runtime::poll_idle`], rule 2), one at a
//!   time (`Poller::blocked`); so does any idle M while a processor runs one goroutine long
//!   ([`Runtime::monitor_watch`], `Poller::watch`, rule 3). A submitter that hands the polling
//!   M a processor breaks its poll through the eventfd (`M::kick`, rule 7).
//! - A wait parked with every processor idle starts an M to poll ([`Runtime::io_waiter_added`],
//!   rule 5).
//!
//! The goroutines one poll made ready are queued together: on the poller's processor (one
//! runs at once, the rest wait in its local queue where idle Ms may steal them, with one
//! `wakep`), or in the global queue when it has none.
//!
//! Locks (`README.md`, "Lock order"): the scheduler lock (`idle.lists`, rank 50) when a
//! polling M unlists itself; none is held while polling or queueing.

use super::proc::Held;
use super::tls::Local;
use super::worker::M;
use super::Runtime;
use crate::error::Result;
use crate::goroutine::GRef;
use crate::netpoll::Poller;
use std::sync::atomic::fence;
use std::sync::atomic::Ordering::{Acquire, Relaxed, SeqCst};
use std::time::Duration;

/// The monitor polls when nobody has for this long (plus at most one monitor tick).
pub(crate) const POLL_EVERY: Duration = Duration::from_millis(8);

impl Runtime {
    /// The poller, created on first use (an epoll instance and an eventfd per runtime).
    pub(crate) fn poller(&'static self) -> Result<&'static Poller> {
        if let Some(p) = self.poller.get() {
            return Ok(p);
        }
        let _g = self.poller_init.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = self.poller.get() {
            return Ok(p);
        }
        if self.stopping() {
            // `gr_shutdown` has looked for the poller to fail its waits (under this lock):
            // one made now would never be served.
            return Err(crate::error::Error::State);
        }
        let p = Poller::new()?;
        let _ = self.poller.set(p);
        Ok(self.poller.get().expect("set above"))
    }

    /// The poller if some descriptor was used.
    #[inline]
    pub(crate) fn poller_if_started(&self) -> Option<&Poller> {
        self.poller.get()
    }

    /// Queues goroutines that one poll (or a close) made ready, with one `wakep`.
    pub(crate) fn ready_batch(&'static self, batch: Vec<GRef>) {
        if batch.is_empty() {
            return;
        }
        let l = super::tls::local(); // not kept: nothing here parks
        let mut rest = batch.into_iter();
        let held = super::spawn::with_held_in(l, |h| {
            for g in rest.by_ref() {
                self.queue_on(h, g);
            }
        });
        if held.is_none() {
            for g in rest {
                self.queue_global(g);
            }
        }
        self.wakep();
    }

    fn queue_on(&'static self, h: &Held<'_>, g: GRef) {
        match pinned_to(&g) {
            Some(m) => m.push_inbox(self, g),
            None => h.push(g),
        }
    }

    fn queue_global(&'static self, g: GRef) {
        match pinned_to(&g) {
            Some(m) => m.push_inbox(self, g),
            None => self.global.push(g),
        }
    }

    /// A wait was just parked on a descriptor: make sure some M will poll (rule 5). A
    /// running processor's M will (it polls when it runs dry), and so will an M blocked in
    /// the poller; if neither exists, every processor is idle: start one, whose M then finds
    /// nothing and becomes the poller.
    pub(crate) fn io_waiter_added(&'static self, p: &Poller) {
        fence(SeqCst);
        if !p.blocked.load(SeqCst) && self.idle.npidle.load(SeqCst) == self.nprocs() {
            self.wakep();
        }
    }

    /// The monitor, each tick: `long` says a processor has run one goroutine since the last
    /// tick. While that lasts, waits are parked on descriptors and no M is blocked in the
    /// poller, idle Ms should watch the poller (`Poller::watch`; Go's rule), else the long
    /// goroutine's M would only find the events when it next runs dry, or the monitor at its
    /// next poll: an idle M is woken to become the poller.
    pub(crate) fn monitor_watch(&'static self, long: bool) {
        let Some(p) = self.poller.get() else { return };
        let want = long && p.has_waiters() && self.idle.npidle.load(SeqCst) > 0;
        if p.watch.swap(want, SeqCst) || !want || p.blocked.load(SeqCst) {
            return;
        }
        let m = {
            let mut g = crate::loom::lock(&self.idle.lists);
            match g.idle_m.iter().rposition(|m| !m.polling.load(Relaxed)) {
                Some(i) => {
                    let m = g.idle_m.remove(i); // not swap_remove: the order says which M spins (idle.rs)
                    m.idle.store(false, Relaxed);
                    Some(m)
                }
                None => None,
            }
        };
        // Unlisted, it leaves `stopm`, finds no processor, and comes back to sleep in the
        // poller (`watch` is set).
        if let Some(m) = m {
            m.kick();
        }
    }

    /// Rule 1: an M holding processor `h` ran out of work. Polls without blocking if waits
    /// are parked and nobody is blocked in the poller; returns one ready goroutine to run
    /// and queues the rest on `h`.
    pub(crate) fn poll_ready(&'static self, h: &Held<'_>) -> Option<GRef> {
        let p = self.poller.get()?;
        if !p.has_waiters() || p.blocked.load(Relaxed) {
            return None;
        }
        let mut batch = Vec::new();
        p.poll(0, false, &mut batch);
        let mut it = batch.into_iter();
        let mut first = None;
        for g in it.by_ref() {
            if pinned_to(&g).is_none() {
                first = Some(g);
                break;
            }
            self.queue_on(h, g);
        }
        let mut more = false;
        for g in it {
            self.queue_on(h, g);
            more = true;
        }
        if more {
            self.wakep();
        }
        first
    }

    /// Rule 4, by the monitor: polls without blocking when nobody has for ~10 ms and no M is
    /// blocked in the poller.
    pub(crate) fn monitor_poll(&'static self) {
        let Some(p) = self.poller.get() else { return };
        if !p.has_waiters() || p.blocked.load(SeqCst) || p.since_last_poll() < POLL_EVERY {
            return;
        }
        let mut batch = Vec::new();
        p.poll(0, false, &mut batch);
        self.ready_batch(batch);
    }

    /// Rule 2, from `stopm`, which has listed `m` as idle with `polling` set because waits
    /// are parked on descriptors and every processor is idle (or `watch` is set): `m` blocks
    /// in the poller if no other M is blocked there (`Poller::blocked`).
    /// Returns `false` if another M is: `m` is still listed as idle, with `polling` cleared,
    /// and sleeps on its futex instead. Returns `true` once `m` is done polling and no longer
    /// listed: if the poll made goroutines ready, `m` holds a processor (handed to it, or an
    /// idle one) with them queued, or they went to the global queue.
    pub(crate) fn poll_idle(&'static self, m: &M, l: &Local, p: &Poller) -> bool {
        // Publish `polling` (done by the caller, SeqCst) before the last looks at what a
        // kicker stores first: one of us sees the other (`M::kick`).
        fence(SeqCst);
        let mut batch = Vec::new();
        let stop = || m.has_handed() || m.has_pinned_work() || self.stopping();
        if !stop() {
            if p.blocked.compare_exchange(false, true, SeqCst, Relaxed).is_err() {
                let _l = crate::loom::lock(&self.idle.lists);
                m.polling.store(false, SeqCst);
                return false;
            }
            fence(SeqCst);
            if !stop() {
                p.poll(-1, true, &mut batch);
            }
            p.blocked.store(false, SeqCst);
        }
        let popped = {
            let mut g = crate::loom::lock(&self.idle.lists);
            m.polling.store(false, SeqCst);
            if m.idle.load(Relaxed) {
                if let Some(i) = g.idle_m.iter().position(|x| std::ptr::eq(&**x, m)) {
                    g.idle_m.remove(i); // not swap_remove: the order says which M spins (idle.rs)
                }
                m.idle.store(false, Relaxed);
                false
            } else {
                true
            }
        };
        if batch.is_empty() {
            return true;
        }
        if popped {
            // Unlisted by `startm` (a processor is on its way: it is handed right after the
            // list lock is dropped) or by `wake_m` (pinned work is queued): never take a
            // second processor meanwhile.
            crate::waiter::spin_until(Duration::from_secs(3600), || m.has_handed() || m.has_pinned_work() || self.stopping());
        }
        if l.p.get() == 0 {
            if let Some((pi, spin)) = m.take_handed() {
                l.p.set(pi + 1);
                l.spinning.set(spin);
            } else if let Some(pi) = self.acquire_idle_p() {
                l.p.set(pi + 1);
            }
        }
        match l.p.get() {
            0 => {
                for g in batch {
                    self.queue_global(g);
                }
                self.wakep();
            }
            pi => {
                // SAFETY: this M now owns processor `pi - 1` in state HELD (handed to it or
                // taken from the idle list), and runs scheduler code.
                let h = unsafe { Held::new(&self.ps[pi - 1]) };
                let n = batch.len();
                for g in batch {
                    self.queue_on(&h, g);
                }
                if n > 1 {
                    self.wakep();
                }
            }
        }
        true
    }
}

/// The M a goroutine is pinned to, if any.
fn pinned_to(g: &GRef) -> Option<&'static M> {
    let pin = g.pinned.load(Acquire);
    // SAFETY: Ms are never freed while their runtime lives; `pinned` holds one of ours.
    (pin != 0).then(|| unsafe { &*(pin as *const M) })
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! Models of the two exchanges of `README.md`, "Polling" (each mirrors the code's
    //! SeqCst operations and fences, as `idle::loom_tests` does).
    use loom::sync::atomic::{fence, AtomicBool, AtomicUsize};
    use loom::sync::Arc;
    use std::sync::atomic::Ordering::SeqCst;

    /// A wait parks on a descriptor (a plain thread's: a goroutine's own M is busy) while the
    /// last busy M goes idle (one processor here): either that M sees the waiter and becomes
    /// the poller, or the waiter sees every processor idle and its `wakep` starts an M (which
    /// will). Never nobody polling with a waiter parked.
    #[test]
    fn waiter_and_last_idle_m_never_both_miss() {
        loom::model(|| {
            const NPROCS: usize = 1;
            let nwaiters = Arc::new(AtomicUsize::new(0));
            let npidle = Arc::new(AtomicUsize::new(0));
            let nmspinning = Arc::new(AtomicUsize::new(0));
            let blocked = Arc::new(AtomicBool::new(false));
            let woke = Arc::new(AtomicBool::new(false));
            let (nw, np, ns, bl, wk) = (nwaiters.clone(), npidle.clone(), nmspinning.clone(), blocked.clone(), woke.clone());
            let waiter = loom::thread::spawn(move || {
                nw.fetch_add(1, SeqCst); // register (Poller::nwaiters)
                // io_waiter_added
                fence(SeqCst);
                if !bl.load(SeqCst) && np.load(SeqCst) == NPROCS {
                    // wakep
                    fence(SeqCst);
                    if np.load(SeqCst) > 0 && ns.load(SeqCst) == 0 && ns.compare_exchange(0, 1, SeqCst, SeqCst).is_ok() {
                        wk.store(true, SeqCst);
                    }
                }
            });
            // the M: release_p_listed, the step-3 fence, then stopm's decision
            npidle.fetch_add(1, SeqCst);
            fence(SeqCst);
            let polls = nwaiters.load(SeqCst) > 0
                && npidle.load(SeqCst) == NPROCS
                && blocked.compare_exchange(false, true, SeqCst, SeqCst).is_ok();
            waiter.join().unwrap();
            assert!(polls || woke.load(SeqCst), "a wait is parked but nobody will poll");
        });
    }

    /// A submitter hands a processor to the M that is about to block in the poller: either
    /// the M sees the hand-off before blocking, or the submitter sees `polling` and signals
    /// the eventfd (which `epoll_wait` then reports, even if it starts later).
    #[test]
    fn kick_reaches_the_poller() {
        loom::model(|| {
            let handed = Arc::new(AtomicUsize::new(0));
            let polling = Arc::new(AtomicBool::new(false));
            let eventfd = Arc::new(AtomicUsize::new(0));
            let (h2, p2, e2) = (handed.clone(), polling.clone(), eventfd.clone());
            let submitter = loom::thread::spawn(move || {
                h2.store(1, SeqCst); // M::hand
                fence(SeqCst); // M::kick
                if p2.load(SeqCst) {
                    e2.fetch_add(1, SeqCst);
                }
            });
            // stopm: publish `polling`, then poll_idle's fence and last look
            polling.store(true, SeqCst);
            fence(SeqCst);
            let blocks = handed.load(SeqCst) == 0;
            submitter.join().unwrap();
            if blocks {
                assert!(eventfd.load(SeqCst) > 0, "the poller blocks with a processor handed to it");
            }
        });
    }
}
