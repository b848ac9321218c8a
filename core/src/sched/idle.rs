//! Idle processors and threads, spinning, and hand-offs. The protocol (Go's, from proc.go)
//! is spelled out with its proof sketch in `README.md`; in short:
//!
//! 1. A submitter pushes work, then (`wakep`) issues a SeqCst fence and, if some processor
//!    is idle and no M is spinning, starts one spinning M.
//! 2. A spinning M that finds work stops spinning; if it was the last spinner and work is
//!    still queued, it calls `wakep` so the rest of a burst is not left to one thread.
//! 3. An M that finds nothing releases its processor (`npidle += 1`), stops spinning
//!    (`nmspinning -= 1`), issues a SeqCst fence, and checks every queue once more before it
//!    sleeps. Either its re-check sees the submitter's work, or the submitter's reads (after
//!    its push) see `npidle > 0` and `nmspinning == 0` and it wakes someone.
//! 4. Every other release of a processor to the idle list (`release_p`) ends with the same
//!    fence and re-check, and a `wakep` if work is queued: its caller will not look.
//! 5. A `wakep` whose `startm` found no idle processor after all uncounts its spinner, then
//!    fences and looks again (a submitter may have counted on that spinner).
//!
//! `lists` is the scheduler lock: idle processors, idle Ms, and Ms waiting for a processor
//! to run goroutines pinned to them (`want_p`). A released processor goes to a `want_p` M
//! first. Lock order (`sched/README.md`, "Lock order"): `lists` is rank 50; under it only the timer heap (70) is
//! taken, and it is taken under channel and sync locks (a wake).

use super::proc::{HELD, IDLE};
use super::worker::M;
use super::Runtime;
use crate::loom::rank::SCHED;
use crate::loom::{lock, AtomicUsize, Mutex};
use std::collections::VecDeque;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};
use std::sync::atomic::fence;
use std::sync::Arc;
use std::time::Instant;

/// How long an M that ran out of work spins before sleeping.
const IDLE_SPIN: std::time::Duration = std::time::Duration::from_micros(20);

/// How long an idle M beyond the base (one per processor) waits for work before its thread
/// exits: the spares that blocked goroutines needed are given back, as a thread pool's
/// keep-alive gives back its idle threads.
pub(crate) const M_KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(1);

pub(crate) struct Lists {
    pub idle_p: Vec<usize>,
    pub idle_m: Vec<Arc<M>>,
    pub want_p: VecDeque<Arc<M>>,
    /// A processor was listed idle with work no M came for (`release_p_stranded`).
    pub stranded: bool,
}

pub(crate) struct Idle {
    pub lists: Mutex<Lists, SCHED>,
    pub npidle: AtomicUsize,
    pub nmspinning: AtomicUsize,
    pub nwant: AtomicUsize,
    /// The idle M that spins in `stopm` (its id + 1; 0: none): the newest idle M, at the top
    /// of `idle_m`, which `startm` hands a processor to first. An older spinner stops
    /// spinning and parks when a newer one takes over, so idle Ms do not compete for the CPU
    /// with the threads they wait for.
    pub idle_spinner: AtomicUsize,
    /// Goroutines pinned to an M (`gr_pin`), all Ms together (`M::note_pin`): while any is,
    /// step 6b does not hold a processor (`worker.rs`, `own_ms_may_want`).
    pub npinned: AtomicUsize,
    /// Ms in a blocking section (`M::in_blocking`): each takes a processor back when it
    /// returns, so step 6b does not hold one meanwhile.
    pub nblocked: AtomicUsize,
}

impl Idle {
    pub fn new(nprocs: usize) -> Idle {
        Idle {
            lists: Mutex::new(Lists { idle_p: (0..nprocs).rev().collect(), idle_m: Vec::new(), want_p: VecDeque::new(), stranded: false }),
            npidle: AtomicUsize::new(nprocs),
            nmspinning: AtomicUsize::new(0),
            nwant: AtomicUsize::new(0),
            idle_spinner: AtomicUsize::new(0),
            npinned: AtomicUsize::new(0),
            nblocked: AtomicUsize::new(0),
        }
    }

    pub fn wake_all_for_shutdown(&self) {
        let l = lock(&self.lists);
        for m in l.idle_m.iter().chain(l.want_p.iter()) {
            m.kick();
        }
    }
}

/// What [`Runtime::startm`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StartM {
    /// An M runs the processor (handed to an idle one, or a new thread), or none could be
    /// started at the thread cap (`release_p_stranded` saw to the work).
    Done,
    /// No processor was idle (`p` was `None`).
    NoIdleP,
    /// A new M was needed and the OS refused its thread.
    NoThread,
}

impl Runtime {
    /// Step 1 of the protocol: make sure someone will look at newly queued work. `false`
    /// only if a thread was needed and the OS refused it (see [`Runtime::startm`]).
    pub(crate) fn wakep(&'static self) -> bool {
        fence(SeqCst);
        self.wakep_local()
    }

    /// `wakep` for work pushed to the caller's own processor: no fence. Such work cannot be
    /// stranded, because the caller's M looks at its queues when the running goroutine next
    /// parks, yields or returns (and the monitor preempts it if that takes over ~10 ms while
    /// work waits); this only asks an idle processor to help, so a stale read here costs
    /// parallelism for a moment, never progress.
    pub(crate) fn wakep_local(&'static self) -> bool {
        loop {
            if self.idle.npidle.load(SeqCst) == 0 {
                return true;
            }
            if self.idle.nmspinning.load(SeqCst) != 0
                || self.idle.nmspinning.compare_exchange(0, 1, SeqCst, Relaxed).is_err()
            {
                return true;
            }
            match self.startm(None, true) {
                StartM::Done => return true,
                StartM::NoThread => return false,
                StartM::NoIdleP => {}
            }
            // The idle processor was taken before `startm` got it, and it uncounted the
            // spinner we counted. A submitter that saw that spinner meanwhile woke nobody, and
            // the M whose release we saw may have re-checked the queues before that submitter
            // pushed: look for its work once more (`README.md` section 3, "Phantom spinner";
            // Go's `needspinning`). Each further round needs another M to take a processor
            // under us, so this ends.
            fence(SeqCst);
            if !self.work_for_others() {
                return true;
            }
        }
    }

    /// An M counted in `nmspinning` stops spinning (it found work, or will run something of
    /// its own): step 2 of the protocol. If it was the last spinner, submitters that saw it
    /// woke nobody: after a SeqCst fence, wake a helper if their work is still queued
    /// (README section 3). So a lone spawn from a foreign thread wakes one M, not two.
    pub(crate) fn spinner_stopped(&'static self) {
        if self.idle.nmspinning.fetch_sub(1, SeqCst) == 1 {
            fence(SeqCst);
            if self.work_for_others() {
                self.wakep_local();
            }
        }
    }

    /// After a processor was put on the idle list by a path that does not look at the queues
    /// itself (`release_p`): a SeqCst fence, then, if work is queued that an idle processor
    /// could run, `wakep`. A submitter that pushed before our fence and read `npidle` before
    /// our increment (so woke nobody, counting on this processor's holder) is seen here;
    /// one that read it after sees the idle processor and wakes an M itself (`README.md`
    /// section 3, "Every release re-checks").
    fn recheck_after_release(&'static self) {
        fence(SeqCst);
        if !self.stopping() && self.work_for_others() {
            self.wakep_local();
        }
    }

    /// Queued work that an idle or spinning M could take: the global queue, stealable work,
    /// work of a processor nobody holds (`P::has_work_for_others`).
    pub(crate) fn work_for_others(&self) -> bool {
        !self.global.is_empty() || self.ps.iter().any(|q| q.has_work_for_others())
    }

    /// Takes an idle processor (state IDLE -> HELD), under the lock.
    /// A processor that holds work of its own (a runnext or affine goroutine, which no other
    /// processor can run, or a local queue) is taken first: `work_for_others` counts that
    /// work, and an M that takes an idle processor on its account (step 3's re-check, a
    /// `wakep`) must get that processor, not its own one back. (Preferring only affine work,
    /// an M in step 3 released its processor, saw another idle one's runnext, took an idle
    /// processor on its account and got its own back (the last pushed), found nothing it
    /// could run (a runnext is not stolen), released it, and again, for ever: the runnext
    /// never ran, `tests/c/rt_wake_after_release` timed out a join after 10 s, 1 to 2 runs
    /// in 6 under ASan.)
    fn take_idle_p(&self, l: &mut Lists) -> Option<usize> {
        let i = l.idle_p.iter().rposition(|&p| self.ps[p].has_work());
        let p = match i {
            Some(i) => l.idle_p.swap_remove(i),
            None => l.idle_p.pop()?,
        };
        self.idle.npidle.fetch_sub(1, SeqCst);
        self.ps[p].status.store(HELD, Release);
        self.timers.wake_monitor(&self.monitor_deep);
        Some(p)
    }

    /// Runs processor `p` (or an idle one) on an idle or new M. `spinning`: the caller
    /// already counted the new M in `nmspinning` (undone here if nothing can be started).
    /// What it did: [`StartM::NoIdleP`] if `p` was `None` and no processor was idle (the
    /// caller's `wakep_local` then looks at the queues again); [`StartM::NoThread`] if a new
    /// M was needed and the OS refused its thread (the processor is left as
    /// `release_p_stranded` leaves it).
    pub(crate) fn startm(&'static self, p: Option<usize>, spinning: bool) -> StartM {
        let mut l = lock(&self.idle.lists);
        let p = match p.or_else(|| self.take_idle_p(&mut l)) {
            Some(p) => p,
            None => {
                drop(l);
                if spinning {
                    self.idle.nmspinning.fetch_sub(1, SeqCst);
                }
                return StartM::NoIdleP;
            }
        };
        // The newest idle M not in the poller (the one spinning in `stopm`, if any:
        // `Idle::idle_spinner`); the one blocked in the poller (its poll broken by `hand`)
        // only if no other is idle, rather than starting a thread.
        let i = l.idle_m.iter().rposition(|m| !m.polling.load(Relaxed)).or_else(|| l.idle_m.len().checked_sub(1));
        if let Some(i) = i {
            let m = l.idle_m.remove(i); // not swap_remove: the order says which M spins
            // The processor first, then `idle = false`, both under the lock: an M that sees
            // itself unlisted finds what it was handed (`M::give`). Unlisted first, the M could
            // wake in between (a stale permit, its idle spin), find nothing, and list itself
            // again or wait for a processor elsewhere: a second hand-off then overwrote this
            // one (a processor lost, HELD by nobody), or the spinner counted here was dropped
            // (`nmspinning` stuck above 0: no `wakep` started an M again).
            m.give(p, spinning);
            m.idle.store(false, Release);
            drop(l);
            m.kick();
            return StartM::Done;
        }
        drop(l);
        let r = self.spawn_m(Some(p), spinning);
        if !r.started() {
            // At the thread cap (or the OS refused a thread): no M is coming for this work.
            self.release_p_stranded(p, spinning);
        }
        if r == super::worker::Spawn::Failed {
            StartM::NoThread
        } else {
            StartM::Done
        }
    }

    /// `startm` could not start a thread for processor `p` (which may hold work): an M waiting
    /// for a processor, or one that went idle meanwhile, takes it (the idle one as `startm`
    /// hands over: the processor first, then unlisted, under the lock); else it is listed idle
    /// and `stranded` is raised, so the next M that stops takes it (`stopm`). Both under the
    /// lock: one of the two sees the other. (Without this, work queued while every thread was
    /// stuck in foreign code at `max_threads` stayed queued after they returned: every M idle,
    /// nothing running. `release_p`'s re-check would not do: its `wakep` comes back here.)
    fn release_p_stranded(&'static self, p: usize, spinning: bool) {
        let mut l = lock(&self.idle.lists);
        if let Some(m) = l.want_p.pop_front() {
            // It waits for a processor (unlisted, not spinning): our spinner is uncounted.
            self.idle.nwant.fetch_sub(1, SeqCst);
            drop(l);
            if spinning {
                self.idle.nmspinning.fetch_sub(1, SeqCst);
            }
            m.hand(p, false);
            return;
        }
        if let Some(m) = l.idle_m.pop() {
            m.give(p, spinning);
            m.idle.store(false, Release);
            drop(l);
            m.kick();
            return;
        }
        self.ps[p].status.store(IDLE, Release);
        l.idle_p.push(p);
        self.idle.npidle.fetch_add(1, SeqCst);
        l.stranded = true;
        drop(l);
        if spinning {
            self.idle.nmspinning.fetch_sub(1, SeqCst);
        }
    }

    /// Puts a HELD processor back: to an M waiting for one, else to the idle list, and then
    /// looks at the queues once more (`recheck_after_release`): the caller is not about to
    /// (a blocking call's hand-off, a processor yielded to an M that wants one), and a
    /// submitter may have counted on this processor's
    /// holder. Work left on the processor itself (its runnext, its affine queue) counts: it
    /// is idle now, so `work_for_others` sees it, and `take_idle_p` prefers it.
    pub(crate) fn release_p(&'static self, p: usize) {
        let mut l = lock(&self.idle.lists);
        if let Some(m) = l.want_p.pop_front() {
            self.idle.nwant.fetch_sub(1, SeqCst);
            drop(l);
            m.hand(p, false);
            return;
        }
        self.ps[p].status.store(IDLE, Release);
        l.idle_p.push(p);
        self.idle.npidle.fetch_add(1, SeqCst);
        drop(l);
        self.recheck_after_release();
    }

    /// Step 3's release: puts `p` back as `release_p` does and, under the same lock, lists `m`
    /// as idle (and as the idle M that spins, `Idle::idle_spinner`), so that a submitter who
    /// finds the idle processor hands it to `m`, already awake, instead of waking a sleeping M
    /// or starting a new thread while `m` is still on its way to `stopm` (a foreign thread's
    /// next spawn often comes in that window: a Java thread's go() + join() hit it one time in
    /// eight; on a loaded machine that way can take milliseconds, and every start in it used
    /// to add a thread).
    /// Whether `m` was listed: not when `p` went to an M waiting for one, nor when `m` has
    /// pinned work (it waits for a processor next). An unlisted `m` is handed nothing, so
    /// step 3 may take an idle processor for what its re-check finds without
    /// [`Runtime::unlist_idle`].
    pub(crate) fn release_p_listed(&'static self, p: usize, m: &M) -> bool {
        let mut l = lock(&self.idle.lists);
        if let Some(w) = l.want_p.pop_front() {
            self.idle.nwant.fetch_sub(1, SeqCst);
            drop(l);
            w.hand(p, false);
            return false;
        }
        self.ps[p].status.store(IDLE, Release);
        l.idle_p.push(p);
        self.idle.npidle.fetch_add(1, SeqCst);
        if !m.idle.load(Relaxed) && !m.has_pinned_work() {
            m.idle.store(true, Relaxed);
            l.idle_m.push(m.arc());
            self.idle.idle_spinner.store(m.id + 1, Relaxed);
        }
        let listed = m.idle.load(Relaxed);
        drop(l);
        if self.ps[p].affine_len.load(Acquire) > 0 && !self.stopping() {
            self.wakep();
        }
        listed
    }

    /// Undoes the listing of `release_p_listed` when step 3's re-check found work: `true` if
    /// `m` was still listed (it is not any more); `false` if a submitter picked it meanwhile
    /// (a processor is being handed to it).
    pub(crate) fn unlist_idle(&self, m: &M) -> bool {
        let mut l = lock(&self.idle.lists);
        if !m.idle.load(Relaxed) {
            return false;
        }
        unlist(&mut l, m);
        true
    }

    /// Gives away the processor of an M about to block (Go's handoffp).
    pub(crate) fn handoff_p(&'static self, p: usize) {
        // SAFETY: the caller holds `p` in state HELD.
        let has_local = !unsafe { super::proc::Held::new(&self.ps[p]) }.is_empty();
        if has_local || !self.global.is_empty() {
            self.startm(Some(p), false);
            return;
        }
        // No work: an M waiting for a processor gets it (`release_p` serves `want_p` first);
        // else keep one spinner around if none is, as Go does; else park the processor.
        if self.idle.nwant.load(SeqCst) == 0
            && self.idle.nmspinning.load(SeqCst) == 0
            && self.idle.nmspinning.compare_exchange(0, 1, SeqCst, Relaxed).is_ok()
        {
            self.startm(Some(p), true);
            return;
        }
        self.release_p(p);
    }

    /// An idle processor right now, if any.
    pub(crate) fn acquire_idle_p(&self) -> Option<usize> {
        let mut l = lock(&self.idle.lists);
        self.take_idle_p(&mut l)
    }

    /// A processor for `m`, waiting in `want_p` until one is released. `None` at shutdown.
    /// `m` must not be listed as idle (`unlist_idle`): only `release_p` hands it one here.
    pub(crate) fn acquire_p_wait(&'static self, m: &M) -> Option<usize> {
        {
            let mut l = lock(&self.idle.lists);
            debug_assert!(!m.idle.load(Relaxed), "an M listed as idle waits for a processor");
            if let Some(p) = self.take_idle_p(&mut l) {
                return Some(p);
            }
            if self.stopping() {
                return None;
            }
            l.want_p.push_back(m.arc());
            self.idle.nwant.fetch_add(1, SeqCst);
        }
        loop {
            if let Some((p, spinning)) = m.take_handed() {
                if spinning {
                    // Never from `release_p`; should a spinner's processor come here anyway,
                    // its count must not leak (`wakep` would then never start an M again).
                    self.spinner_stopped();
                }
                return Some(p);
            }
            if self.stopping() {
                let mut l = lock(&self.idle.lists);
                if let Some(i) = l.want_p.iter().position(|x| std::ptr::eq(&**x, m)) {
                    l.want_p.remove(i);
                    self.idle.nwant.fetch_sub(1, SeqCst);
                    return None;
                }
                // Handed one concurrently: take it below.
            }
            m.parker.park(None);
        }
    }

    /// Puts `m` to sleep in the idle list unless it has something to do; returns on wake.
    /// If waits are parked on descriptors and every processor is idle (or one runs a long
    /// goroutine), `m` sleeps in the poller instead of on its futex, unless another M does
    /// (`README.md` section 9, rules 2 and 3).
    /// True if instead the M should exit: it slept idle on its futex for `M_KEEP_ALIVE` and
    /// the runtime has more Ms than processors (it is then unlisted, and `nthreads` counts it
    /// no more). An M blocked in the poller does not time out: it is the one idle M the
    /// runtime needs while waits are parked on descriptors.
    pub(crate) fn stopm(&'static self, m: &M, local: &super::tls::Local) -> bool {
        let me = m.id + 1;
        let poller = self.poller_if_started();
        let poll = {
            let mut l = lock(&self.idle.lists);
            // A `startm` at the thread cap left work with no M coming for it: take it.
            if l.stranded && !m.has_handed() {
                l.stranded = false;
                if !self.global.is_empty() || self.ps.iter().any(|q| q.has_work_for_others()) {
                    if let Some(p) = self.take_idle_p(&mut l) {
                        m.hand(p, false);
                    }
                }
            }
            if m.has_handed() || m.has_pinned_work() || self.stopping() {
                if m.idle.load(Relaxed) {
                    // Listed by step 3 and not picked: unlist (pinned work or shutdown).
                    unlist(&mut l, m);
                }
                return false;
            }
            // The last M to go idle watches the poller (a running M polls when it runs dry),
            // and so does any idle M while a processor runs a long goroutine (`watch`).
            let poll = poller.is_some_and(|p| p.has_waiters() && (p.watch.load(SeqCst) || self.idle.npidle.load(SeqCst) == self.nprocs()));
            if poll {
                m.polling.store(true, SeqCst);
            }
            if !m.idle.load(Relaxed) {
                m.idle.store(true, Relaxed);
                l.idle_m.push(m.arc());
                self.idle.idle_spinner.store(me, Relaxed);
            }
            poll
        };
        if let (true, Some(p)) = (poll, poller) {
            if self.poll_idle(m, local, p) {
                return false;
            }
            // Another M is blocked in the poller: sleep on the futex, still listed as idle.
        }
        // A hand-off often follows at once (a foreign thread waking a goroutine it talks to):
        // catching it while spinning spares both sides a futex round trip. Only the newest idle
        // M spins (`Idle::idle_spinner`): `startm` takes it first.
        crate::waiter::spin_before_sleep(IDLE_SPIN, || {
            m.has_handed() || !m.idle.load(Acquire) || self.stopping() || self.idle.idle_spinner.load(Relaxed) != me
        });
        // Keep-alive: a spare M exits once idle this long; one of the base Ms sleeps untimed
        // (an idle runtime wakes no thread).
        let mut keep_until = Some(Instant::now() + M_KEEP_ALIVE);
        loop {
            m.parker.park(keep_until);
            if m.has_handed() || !m.idle.load(Acquire) || self.stopping() {
                break;
            }
            if keep_until.is_some_and(|t| Instant::now() >= t) {
                if self.retire_idle_m(m) {
                    return true;
                }
                keep_until = None;
            }
        }
        if m.idle.load(Relaxed) {
            // Woken for shutdown while still listed: unlist.
            unlist(&mut lock(&self.idle.lists), m);
        }
        false
    }

    /// Unlists an idle M whose keep-alive passed, if it may exit: no goroutine is pinned to
    /// it, nobody handed it a processor meanwhile, and the runtime keeps at least one M per
    /// processor (`nthreads` is lowered here, by CAS, so that concurrent exits stop at that
    /// floor).
    fn retire_idle_m(&self, m: &M) -> bool {
        if m.has_pinned() {
            return false;
        }
        let mut l = lock(&self.idle.lists);
        if !m.idle.load(Relaxed) || m.has_handed() || m.has_pinned_work() || self.stopping() {
            return false;
        }
        let floor = self.nprocs();
        if self.nthreads.fetch_update(SeqCst, SeqCst, |n| (n > floor).then(|| n - 1)).is_err() {
            return false;
        }
        unlist(&mut l, m);
        true
    }

    /// Wakes `m` if it sleeps idle (it has pinned work in its inbox).
    pub(crate) fn wake_m(&self, m: &M) {
        let mut l = lock(&self.idle.lists);
        if m.idle.load(Relaxed) {
            unlist(&mut l, m);
            drop(l);
            m.kick();
        } else {
            drop(l);
            // It may be waiting for a processor or blocked in a goroutine; a spurious unpark
            // is harmless and saves a lost wake for an M between its checks.
            m.kick();
        }
    }
}

/// Takes `m` off the idle list (under the scheduler lock) and marks it not idle. `remove`,
/// not `swap_remove`: the list's order says which M spins (the last).
fn unlist(l: &mut Lists, m: &M) {
    if let Some(i) = l.idle_m.iter().position(|x| std::ptr::eq(&**x, m)) {
        l.idle_m.remove(i);
    }
    m.idle.store(false, Relaxed);
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! Model of steps 1 and 3: a submitter and a sleeper never both miss each other.
    //! It mirrors the code: a push, then `wakep`'s SeqCst fence and loads; the sleeper's
    //! SeqCst RMWs, its fence, then the re-check. (Loom does not treat bare SeqCst loads and
    //! stores as one total order, but it does model SeqCst fences, which the code relies on.)
    use loom::sync::atomic::{fence, AtomicBool, AtomicUsize};
    use loom::sync::Arc;
    use std::sync::atomic::Ordering::{Relaxed, Release, SeqCst};

    /// The submitter of every model here: the queue push, then `wakep` (its SeqCst fence, and
    /// a spinner started only if a processor is idle and nobody spins).
    fn submit(work: &Arc<AtomicBool>, npidle: &Arc<AtomicUsize>, nmspinning: &Arc<AtomicUsize>, woke: &Arc<AtomicBool>) -> loom::thread::JoinHandle<()> {
        let (w2, np2, ns2, wk2) = (work.clone(), npidle.clone(), nmspinning.clone(), woke.clone());
        loom::thread::spawn(move || {
            w2.store(true, Release); // the queue push
            fence(SeqCst); // wakep
            if np2.load(SeqCst) > 0 && ns2.load(SeqCst) == 0 && ns2.compare_exchange(0, 1, SeqCst, SeqCst).is_ok() {
                wk2.store(true, SeqCst);
            }
        })
    }

    /// Runs `model` under loom; whether some interleaving made it return `true` (work lost,
    /// a processor handed twice: what each model checks for). The models of a fix return
    /// `false` in every interleaving; their twins, the code before it, must find one.
    fn some_interleaving(model: impl Fn() -> bool + Sync + Send + 'static) -> bool {
        let found = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let f2 = found.clone();
        loom::model(move || {
            if model() {
                f2.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        });
        found.load(std::sync::atomic::Ordering::SeqCst)
    }

    #[test]
    fn no_lost_wakeup() {
        loom::model(|| {
            let work = Arc::new(AtomicBool::new(false));
            let npidle = Arc::new(AtomicUsize::new(0));
            let nmspinning = Arc::new(AtomicUsize::new(1)); // the sleeper is spinning
            let woke = Arc::new(AtomicBool::new(false));
            let submitter = submit(&work, &npidle, &nmspinning, &woke);
            // the sleeper: release P, stop spinning, re-check
            npidle.fetch_add(1, SeqCst);
            nmspinning.fetch_sub(1, SeqCst);
            fence(SeqCst);
            let found = work.load(Relaxed);
            submitter.join().unwrap();
            assert!(found || woke.load(SeqCst), "work queued but nobody will run it");
        });
    }

    /// Step 6b: a spinning M that found nothing keeps its processor and looks again (twice
    /// here; for up to `SPIN_HOLD` in the code) before step 3. The submitter, seeing it
    /// counted in `nmspinning`, only pushes; the spinner either sees the push in one of its
    /// looks or gives up by step 3 (release, stop spinning, fence, re-check), whose re-check
    /// sees the push or whose decrement the submitter's `wakep` sees.
    #[test]
    fn spinner_holding_its_processor_leaves_no_work_behind() {
        use std::sync::atomic::Ordering::Acquire;
        loom::model(|| {
            let work = Arc::new(AtomicBool::new(false));
            let npidle = Arc::new(AtomicUsize::new(1)); // the other processor is idle
            let nmspinning = Arc::new(AtomicUsize::new(1)); // the spinner, holding its own
            let woke = Arc::new(AtomicBool::new(false));
            let submitter = submit(&work, &npidle, &nmspinning, &woke);
            let mut found = false;
            for _ in 0..2 {
                if work.load(Acquire) {
                    found = true; // the spinner runs it (and stops spinning: step 2)
                    break;
                }
                loom::thread::yield_now();
            }
            if !found {
                // Step 3.
                npidle.fetch_add(1, SeqCst);
                nmspinning.fetch_sub(1, SeqCst);
                fence(SeqCst);
                found = work.load(Relaxed);
            }
            submitter.join().unwrap();
            assert!(found || woke.load(SeqCst), "work queued but nobody will run it");
        });
    }

    /// Step 6b against an M that wants a processor (`acquire_p_wait`: a bound goroutine back
    /// from its wait) while the only one is held by a spinner: the waiter takes an idle
    /// processor or queues itself in `want_p` (and counts in `nwant`) under the scheduler
    /// lock; the spinner, at each round, gives its processor up if `nwant > 0`, and gives it
    /// up anyway when its hold ends, both through the lock, where `want_p` is served first.
    /// So the waiter gets the processor, exactly once, whichever comes first.
    #[test]
    fn holder_hands_its_processor_to_an_m_that_wants_one() {
        use loom::sync::Mutex;
        loom::model(|| {
            // (idle processors, an M queued in want_p)
            let lists = Arc::new(Mutex::new((0usize, false)));
            let nwant = Arc::new(AtomicUsize::new(0));
            let handed = Arc::new(AtomicUsize::new(0));
            let (l2, nw2) = (lists.clone(), nwant.clone());
            // Whether it took an idle processor; else it parks until handed one.
            let waiter = loom::thread::spawn(move || {
                let mut l = l2.lock().unwrap();
                if l.0 > 0 {
                    l.0 -= 1; // take_idle_p
                    return true;
                }
                l.1 = true;
                nw2.fetch_add(1, SeqCst);
                false
            });
            // The spinner: two rounds of its hold, each starting at step 1.
            let release = || {
                let mut l = lists.lock().unwrap();
                if l.1 {
                    l.1 = false;
                    nwant.fetch_sub(1, SeqCst);
                    handed.fetch_add(1, SeqCst); // M::hand
                } else {
                    l.0 += 1;
                }
            };
            let mut released = false;
            for _ in 0..2 {
                if nwant.load(Relaxed) > 0 {
                    release(); // step 1: an M wants a processor
                    released = true;
                    break;
                }
                loom::thread::yield_now();
            }
            if !released {
                release(); // step 3: the hold ended
            }
            let took = waiter.join().unwrap();
            let l = lists.lock().unwrap();
            assert!(!l.1, "an M left waiting for a processor that went idle");
            assert_eq!(took as usize + handed.load(SeqCst) + l.0, 1, "the processor was lost or given twice");
        });
    }

    /// Step 2: the last spinner, having found work, wakes a helper only if more work is
    /// queued (`stop_spinning`). A submitter that pushed meanwhile, with a processor idle,
    /// either is seen by the spinner's re-check or sees no spinner and wakes one itself: the
    /// work never waits for the busy spinner alone.
    #[test]
    fn last_spinner_leaves_no_work_behind() {
        loom::model(|| {
            let work = Arc::new(AtomicBool::new(false));
            let npidle = Arc::new(AtomicUsize::new(1)); // a processor is free for a helper
            let nmspinning = Arc::new(AtomicUsize::new(1)); // the spinner, about to stop
            let woke = Arc::new(AtomicBool::new(false));
            let submitter = submit(&work, &npidle, &nmspinning, &woke);
            // the spinner found its goroutine: stop spinning, fence, look for work left
            let mut helper = false;
            if nmspinning.fetch_sub(1, SeqCst) == 1 {
                fence(SeqCst);
                if work.load(Relaxed) && npidle.load(SeqCst) > 0 && nmspinning.compare_exchange(0, 1, SeqCst, SeqCst).is_ok() {
                    helper = true; // wakep_local
                }
            }
            submitter.join().unwrap();
            assert!(helper || woke.load(SeqCst), "queued work left with no M coming for it");
        });
    }
    /// `worker.rs` `spin_ahead`: an M whose goroutine ends with nothing else queued on its
    /// processor and another processor idle counts itself in `nmspinning` before the end is
    /// told (`joined`, the join's completion), then searches: looks (twice here), and step 3
    /// if it found nothing. The joiner, once it sees the end, spawns (push, `wakep`). Returns
    /// (work left with nobody coming for it, a second M started while this one, still
    /// counted, went on to take the work itself). `ahead` false: the code before, where the M
    /// counted itself only at its search's steal step, after a first look.
    fn join_then_spawn(ahead: bool) -> (bool, bool) {
        use std::sync::atomic::Ordering::Acquire;
        let work = Arc::new(AtomicBool::new(false));
        let npidle = Arc::new(AtomicUsize::new(1)); // the other processor
        let nmspinning = Arc::new(AtomicUsize::new(0));
        let joined = Arc::new(AtomicBool::new(false));
        let woke = Arc::new(AtomicBool::new(false));
        let (w2, np2, ns2, j2, wk2) = (work.clone(), npidle.clone(), nmspinning.clone(), joined.clone(), woke.clone());
        let joiner = loom::thread::spawn(move || {
            if !j2.load(Acquire) {
                return; // (still waiting: it spawns nothing in this interleaving)
            }
            w2.store(true, Release); // the next goroutine's push
            fence(SeqCst); // wakep
            if np2.load(SeqCst) > 0 && ns2.load(SeqCst) == 0 && ns2.compare_exchange(0, 1, SeqCst, SeqCst).is_ok() {
                wk2.store(true, SeqCst);
            }
        });
        let counted = ahead && npidle.load(Relaxed) != 0 && nmspinning.load(Relaxed) == 0;
        if counted {
            nmspinning.fetch_add(1, SeqCst);
        }
        joined.store(true, Release); // `retire`: the joiner is woken
        let mut found = work.load(Acquire); // the search's first look (the global queue)
        if !found && !counted {
            nmspinning.fetch_add(1, SeqCst); // the steal step counts it
        }
        for _ in 0..2 {
            if found {
                break;
            }
            found = work.load(Acquire); // step 6b's looks
            loom::thread::yield_now();
        }
        let mut gave_up = false;
        if !found {
            // Step 3.
            npidle.fetch_add(1, SeqCst);
            nmspinning.fetch_sub(1, SeqCst);
            fence(SeqCst);
            found = work.load(Relaxed);
            gave_up = true;
        }
        joiner.join().unwrap();
        let woke = woke.load(SeqCst);
        let pushed = work.load(Relaxed);
        (pushed && !found && !woke, woke && found && !gave_up)
    }

    /// A goroutine's end counted ahead: the joiner's spawn is never lost, and its `wakep` never
    /// starts a second M while this one is still coming for the goroutine.
    #[test]
    fn spinner_counted_ahead_of_a_join_takes_the_next_spawn() {
        loom::model(|| {
            let (lost, second) = join_then_spawn(true);
            assert!(!lost, "the joiner's spawn left with nobody coming for it");
            assert!(!second, "the joiner started a second M for work this one took");
        });
    }

    /// Its twin, the code before: never lost either, but a joiner quicker than the M's first
    /// count starts a second M for a goroutine the first one then takes (`spin_ahead`).
    #[test]
    fn spinner_counted_after_the_join_lets_a_second_m_start() {
        assert!(!some_interleaving(|| join_then_spawn(false).0), "work lost");
        assert!(some_interleaving(|| join_then_spawn(false).1));
    }

    /// `wakep_local` as the code runs it, over a model where `npidle` is also the idle list
    /// (the code changes both in one critical section, so a taker's decrement stands for
    /// `take_idle_p`). `recheck`: the loop of the fix; without it a failed `startm` just
    /// uncounts its spinner (the code before). Returns whether an M was started on a
    /// processor (it will look at every queue).
    fn wakep(npidle: &AtomicUsize, nmspinning: &AtomicUsize, work: &AtomicBool, recheck: bool) -> bool {
        fence(SeqCst);
        loop {
            if npidle.load(SeqCst) == 0 {
                return false;
            }
            if nmspinning.load(SeqCst) != 0 || nmspinning.compare_exchange(0, 1, SeqCst, SeqCst).is_err() {
                return false;
            }
            if take(npidle) {
                return true; // startm handed the processor to a spinning M
            }
            nmspinning.fetch_sub(1, SeqCst);
            if !recheck {
                return false;
            }
            fence(SeqCst);
            if !work.load(SeqCst) {
                return false;
            }
        }
    }

    /// `take_idle_p`: an idle processor, if any.
    fn take(npidle: &AtomicUsize) -> bool {
        npidle.fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1)).is_ok()
    }

    /// The phantom spinner (Go's `needspinning`): S1's `wakep` counts a spinner, but T (an M
    /// back from a blocking call, which runs its own goroutine and looks at no queue) takes
    /// the idle processor first, so S1's `startm` finds none. Meanwhile R gives up its
    /// processor (step 3: release, fence, re-check: nothing yet), and S2 pushes work, sees
    /// R's idle processor but S1's spinner, and wakes nobody. Then S1 uncounts its spinner.
    /// Unless S1 looks at the queues after uncounting, the work waits with a processor
    /// idle and every M asleep: the fuzzer's stall (seed 12, under load).
    fn phantom_spinner(recheck: bool) -> bool {
        some_interleaving(move || {
            let work = Arc::new(AtomicBool::new(false));
            let npidle = Arc::new(AtomicUsize::new(1)); // one processor idle; R holds the other
            let nmspinning = Arc::new(AtomicUsize::new(0));
            let t = {
                let np = npidle.clone();
                loom::thread::spawn(move || {
                    take(&np); // acquire_p_wait
                })
            };
            let s1 = {
                let (np, ns, w) = (npidle.clone(), nmspinning.clone(), work.clone());
                loom::thread::spawn(move || wakep(&np, &ns, &w, recheck))
            };
            let s2 = {
                let (np, ns, w) = (npidle.clone(), nmspinning.clone(), work.clone());
                loom::thread::spawn(move || {
                    w.store(true, SeqCst); // the push
                    wakep(&np, &ns, &w, recheck)
                })
            };
            // R, step 3: release its processor, fence, re-check.
            npidle.fetch_add(1, SeqCst);
            fence(SeqCst);
            let found = work.load(SeqCst);
            t.join().unwrap();
            let woke = s1.join().unwrap() | s2.join().unwrap();
            !(found || woke)
        })
    }

    #[test]
    fn phantom_spinner_looks_again() {
        assert!(!phantom_spinner(true), "work queued, a processor idle, and no M coming for it");
    }

    /// The model finds the loss in the code before the fix (so the test above means something).
    #[test]
    fn phantom_spinner_without_a_second_look_loses_work() {
        assert!(phantom_spinner(false), "loom found no lost wake-up in the old protocol");
    }

    /// The soft queue (`proc.rs`): work its holder queued while HELD, which no other M takes
    /// while the holder holds (unless stale), released with the processor (step 1's yield to
    /// an M that wants one, a blocking call's `handoff_p`) while the spinner S that saw it
    /// held gives up (step 3). `count_soft`: `has_work_for_others` counts an idle
    /// processor's soft work (the code), so the releaser's re-check or S's sees it; without,
    /// both look past it. Returns whether some interleaving left it with nobody coming.
    fn released_soft_work(count_soft: bool) -> bool {
        use loom::sync::atomic::AtomicU32;
        const HELD: u32 = 1;
        const IDLE: u32 = 0;
        some_interleaving(move || {
            let soft = Arc::new(AtomicBool::new(true)); // queued by the holder while HELD
            let status = Arc::new(AtomicU32::new(HELD));
            let npidle = Arc::new(AtomicUsize::new(0)); // S holds one processor, H the other
            let nmspinning = Arc::new(AtomicUsize::new(1)); // S
            let for_others = move |status: &AtomicU32, soft: &AtomicBool| {
                status.load(SeqCst) == IDLE && count_soft && soft.load(SeqCst)
            };
            let s = {
                let (np, ns, st, so) = (npidle.clone(), nmspinning.clone(), status.clone(), soft.clone());
                loom::thread::spawn(move || {
                    // Step 3: release, stop spinning, fence, re-check.
                    np.fetch_add(1, SeqCst);
                    ns.fetch_sub(1, SeqCst);
                    fence(SeqCst);
                    for_others(&st, &so)
                })
            };
            // H: release_p, then recheck_after_release.
            status.store(IDLE, SeqCst);
            npidle.fetch_add(1, SeqCst);
            fence(SeqCst);
            let mut woke = false;
            if for_others(&status, &soft) {
                woke = wakep(&npidle, &nmspinning, &soft, true);
            }
            let found = s.join().unwrap();
            !(found || woke)
        })
    }

    #[test]
    fn released_soft_work_is_looked_at() {
        assert!(!released_soft_work(true), "soft work on an idle processor, and no M coming for it");
    }

    /// The model finds the loss when an idle processor's soft work is not counted.
    #[test]
    fn released_soft_work_not_counted_is_lost() {
        assert!(released_soft_work(false), "loom found no loss with soft work uncounted");
    }

    /// `release_p` from a path that does not look at the queues afterwards (`handoff_p` of a
    /// blocking call that found no work; `find_runnable` yielding its processor to an M that
    /// wants one, when that M got another meanwhile). A submitter pushes and, seeing no idle
    /// processor, counts on the holders; the other holder (T, a bound goroutine back from its
    /// wait) runs its own code. Unless the release is followed by a look at the queues,
    /// the work waits with the processor idle.
    fn release_without_look(recheck: bool) -> bool {
        some_interleaving(move || {
            let work = Arc::new(AtomicBool::new(false));
            let npidle = Arc::new(AtomicUsize::new(0)); // both processors held: ours and T's
            let nmspinning = Arc::new(AtomicUsize::new(0));
            let s = {
                let (np, ns, w) = (npidle.clone(), nmspinning.clone(), work.clone());
                loom::thread::spawn(move || {
                    w.store(true, SeqCst); // the push
                    wakep(&np, &ns, &w, true)
                })
            };
            // release_p, then (the fix) recheck_after_release.
            npidle.fetch_add(1, SeqCst);
            let mut woke = false;
            if recheck {
                fence(SeqCst);
                if work.load(SeqCst) {
                    woke = wakep(&npidle, &nmspinning, &work, true);
                }
            }
            woke |= s.join().unwrap();
            !woke
        })
    }

    #[test]
    fn release_looks_at_the_queues() {
        assert!(!release_without_look(true), "work queued, a processor idle, and no M coming for it");
    }

    #[test]
    fn release_without_a_look_loses_work() {
        assert!(release_without_look(false), "loom found no lost wake-up without the look");
    }
    /// `startm` hands a processor to an idle M that may wake at any moment (a stale permit, its
    /// idle spin) and, finding itself unlisted with nothing handed, go back to `stopm` and list
    /// itself again. Two starters pick it in turn. `give_first`: the processor is stored
    /// before `idle = false`, under the lock (the fix); else after the lock (the code
    /// before). Returns whether some interleaving handed the M a second processor over a
    /// first it had not taken (that processor is lost: HELD, and nobody runs it).
    fn double_hand(give_first: bool) -> bool {
        use loom::sync::Mutex;
        use std::sync::atomic::Ordering::{Acquire, Release};
        some_interleaving(move || {
            let listed = Arc::new(Mutex::new(true)); // the M is in `idle_m`
            let idle = Arc::new(AtomicBool::new(true));
            let handed = Arc::new(AtomicUsize::new(0));
            let overwrote = Arc::new(AtomicBool::new(false));
            let starter = |p: usize| {
                let (ls, id, h, ow) = (listed.clone(), idle.clone(), handed.clone(), overwrote.clone());
                loom::thread::spawn(move || {
                    let mut l = ls.lock().unwrap();
                    if !*l {
                        return; // no idle M: the code would start a thread
                    }
                    *l = false;
                    if give_first {
                        ow.fetch_or(h.swap(p, SeqCst) != 0, SeqCst);
                        id.store(false, Release);
                        drop(l);
                    } else {
                        id.store(false, Relaxed);
                        drop(l);
                        ow.fetch_or(h.swap(p, SeqCst) != 0, SeqCst);
                    }
                })
            };
            let (a, b) = (starter(1), starter(2));
            // The M: woken, it sees itself unlisted; it takes what it was handed, or (nothing
            // there yet) goes back to `stopm`, which lists it again unless handed meanwhile.
            if !idle.load(Acquire) && handed.swap(0, SeqCst) == 0 {
                let mut l = listed.lock().unwrap();
                if handed.load(SeqCst) == 0 && !*l {
                    *l = true;
                    idle.store(true, Relaxed);
                }
            }
            a.join().unwrap();
            b.join().unwrap();
            overwrote.load(SeqCst)
        })
    }

    #[test]
    fn startm_gives_before_unlisting() {
        assert!(!double_hand(true), "a processor handed over another, not yet taken");
    }

    #[test]
    fn startm_unlisting_first_loses_a_processor() {
        assert!(double_hand(false), "loom found no double hand-off in the old order");
    }

    /// Step 3 of a spinner whose processor goes to an M waiting for one (`release_p_listed`
    /// serves `want_p` first: that M runs a goroutine of its own and looks at no queue), with
    /// another processor idle. A submitter that saw the spinner still counted wakes nobody,
    /// so the spinner's re-check must act on what it finds although it was never listed.
    /// `act_unlisted`: it takes an idle processor then (the fix); else it acts only if
    /// `unlist_idle` unlisted it (the code before, which read "not listed" as "a processor
    /// is being handed to me"). Returns whether some interleaving left the work with no M
    /// coming for it. (The stall `tests/c/rt_wake_after_release` found ~1 run in 40: the
    /// monitor's timer wakes pushed while the spinner sat between its hand-off and its
    /// decrement, and both processors stayed idle with the goroutines queued.)
    fn spinner_hands_to_waiter(act_unlisted: bool) -> bool {
        some_interleaving(move || {
            let work = Arc::new(AtomicBool::new(false));
            let npidle = Arc::new(AtomicUsize::new(1)); // the other processor
            let nmspinning = Arc::new(AtomicUsize::new(1)); // this spinner
            let woke = Arc::new(AtomicBool::new(false));
            let submitter = submit(&work, &npidle, &nmspinning, &woke);
            // release_p_listed: the processor goes to the waiting M (npidle unchanged), and
            // this M is not listed, so the old code's `unlist_idle` failed and it did nothing.
            nmspinning.fetch_sub(1, SeqCst);
            fence(SeqCst);
            let mut started = false;
            if act_unlisted && work.load(Relaxed) {
                // acquire_idle_p (the model's idle list is `npidle`)
                started = npidle.fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1)).is_ok();
            }
            submitter.join().unwrap();
            !started && !woke.load(SeqCst) && work.load(SeqCst)
        })
    }

    #[test]
    fn spinner_whose_processor_went_to_a_waiter_acts() {
        assert!(!spinner_hands_to_waiter(true), "work queued, a processor idle, and no M coming for it");
    }

    #[test]
    fn spinner_whose_processor_went_to_a_waiter_idle_loses_work() {
        assert!(spinner_hands_to_waiter(false), "loom found no lost wake-up in the old step 3");
    }
}
