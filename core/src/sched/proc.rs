//! P, a processor: the right to run goroutines, with its local run queue.
//!
//! `workers` processors exist. An M (OS thread) runs goroutines only while it owns one.
//!
//! | `status` | owner | local queue / runnext / stack cache touched by |
//! |----------|-------|------------------------------------------------|
//! | `IDLE`   | the idle list | nobody (the next owner) |
//! | `HELD`   | one M | that M, in scheduler code or a short critical section, not while it runs goroutine code (its gate says which: `gate.rs`) |
//!
//! An M that owns a processor runs goroutine code on it between `P::enter` and `P::leave`;
//! that is the only time another thread may take the processor away: the monitor retakes it
//! from an M stuck in goroutine code (see `monitor.rs`) through that M's gate, which decides
//! between the monitor and the M's own leave; the M notices when its leave fails. Code
//! running inside a goroutine (spawn, wake) leaves and re-enters around each queue operation
//! the same way. So the single-owner queue (`crossbeam_deque::Worker`, which is `!Sync`) is
//! never touched by two threads at once. Other processors only ever use the `Stealer` side.
//!
//! The affine queue holds goroutines spawned with `GR_SPAWN_LOCAL`, and those displaced
//! from runnext by a wake through a hot channel (`chan/README.md`): nobody steals them; they
//! run on whichever M holds this processor, so they move with it when the monitor hands it
//! over. Its invariant: a processor with affine work is never left idle without someone
//! looking (`release_p` wakes a spinner; `take_idle_p` prefers a processor with work).
//!
//! The soft queue holds goroutines displaced from runnext by a goroutine's wake of another
//! (`Held::push_next_as` with `Displace::Soft`): the partners of a short exchange (a
//! select's producers), which run best on the waker's core. At most `SOFT_BURST` wait there; a goroutine displaced
//! beyond that goes to the local queue (a burst, spread at once). Other processors steal
//! from it only when its work is *stale* (`README.md` section 3, step 6):
//!
//! | the victim processor | its soft work is |
//! |---|---|
//! | `IDLE` | anyone's, as its runnext and affine work (`has_work_for_others`, `take_idle_p`) |
//! | held, `tick` unmoved for `SOFT_STALE` since a spinning M first saw that tick | stealable (its goroutine runs long) |
//! | held, that M stole stale soft work from it within `SOFT_SLOW` | stealable (its goroutines run long lately) |
//! | held, otherwise | its holder's, who pops runnext, local, then soft (soft first every 61st tick) |
//!
//! A push into the soft queue wakes a spinner as a push into the local queue does
//! (`wakep_local`). The spinner keeps the first-seen `(tick, time)` per victim in its own
//! loop state (`worker.rs`, `Hold`), looks once per `SOFT_LOOK` (the victim's tick only,
//! unless it stood still), reads the clock only in its spin rounds, and keeps its processor
//! while it saw soft work within the last `SOFT_WATCH` (it watches); so the owner pays the
//! queue's push and pop and a cache line fetched back per look. A goroutine hogging a held processor with soft work
//! queued after the watch ended: the monitor starts a spinner once the tick has not moved
//! between two of its checks (`monitor.rs`), and retakes the processor after 10 ms as for
//! any waiting work.

use super::worker::M;
use crate::goroutine::GRef;
use crate::loom::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize};
use std::collections::VecDeque;
use crate::stack::LocalCache;
use crossbeam_deque::{Stealer, Worker};
use std::cell::UnsafeCell;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

pub const IDLE: u32 = 0;
pub const HELD: u32 = 1;

/// The soft queue's length limit: a goroutine displaced while this many wait there goes to
/// the local queue instead, stealable at once: a burst (a producer that woke many
/// goroutines, a pool's dispatcher) is spread as before.
pub const SOFT_BURST: usize = 4;

/// The size of `P`'s read-mostly part, and the padding that ends it.
const COLD: usize = 128;
const COLD_PAD: usize = COLD - 2 * std::mem::size_of::<Stealer<GRef>>() - std::mem::size_of::<usize>();

/// Aligned to two cache lines (the adjacent-line prefetcher pairs them): a spinning M bumps
/// its own processor's `tick` every round, and another M's owner writes its own fields at
/// every switch; sharing a line, each pulled the other's away.
///
/// `repr(C)`: first, in two lines of their own (`COLD`), what other threads read at every
/// look for work and nobody writes after `new` (`id`, the stealers, which point at the
/// queues' shared parts), then what the owner writes at every switch (`tick`, runnext, the
/// queues' owner sides, the flags). A spinning M reads the first part every round: were
/// `tick` among it (as it was when Rust ordered the fields), every round pulled the line
/// the owner's next `tick` store needs, a miss on the owner's path per round (`README.md`
/// section 14, "The select's second worker").
#[repr(C, align(128))]
pub struct P {
    // The read-mostly part: `stealer`, `soft_stealer`, `id`, padded to `COLD` bytes.
    pub stealer: Stealer<GRef>,
    pub soft_stealer: Stealer<GRef>,
    /// Its index in `Runtime::ps` (the gate records it: `gate.rs`; debuggers read it).
    pub id: usize,
    _cold_end: [u8; COLD_PAD],
    /// Incremented each time its M picks a goroutine; the monitor watches it for hogs.
    pub tick: AtomicU64,
    pub status: AtomicU32,
    pub has_runnext: AtomicBool,
    /// Set by the monitor when the running goroutine held the processor too long; goroutine
    /// code that enters the runtime (spawn, wake) then yields: a cooperative preemption.
    pub preempt: AtomicBool,
    runnext: UnsafeCell<Option<GRef>>,
    local: UnsafeCell<Worker<GRef>>,
    /// The soft queue (module docs): goroutines displaced from runnext by a goroutine's wake;
    /// stolen only when stale.
    soft: UnsafeCell<Worker<GRef>>,
    affine: UnsafeCell<VecDeque<GRef>>,
    /// Length of `affine`: written by the owner, read by anyone (`has_work`).
    pub affine_len: AtomicUsize,
    /// Kernel thread id of the M that last started a goroutine here: the monitor reads the
    /// thread's scheduling statistics before retaking the processor, and finds the M (its
    /// gate, `gate.rs`) by it among the live ones.
    pub owner_tid: std::sync::atomic::AtomicI32,
    stacks: UnsafeCell<LocalCache>,
}

// The owner-written part starts where the read-mostly one ends.
#[cfg(not(loom))]
const _: () = assert!(std::mem::offset_of!(P, tick) == COLD);

// SAFETY: the UnsafeCell fields are touched only by the M that owns the processor in state
// HELD (see the table above); ownership moves under the scheduler lock, by a hand-off
// (`M::handed`, Release/Acquire), or to the monitor through the owner's gate (`gate.rs`:
// the monitor's Acquire read of the gate's Release `enter` orders the owner's accesses before
// its own), each of which orders every access before the next owner's.
unsafe impl Sync for P {}
// SAFETY: as above.
unsafe impl Send for P {}

/// Where a yielder goes ([`Held::yield_turn`]).
pub enum Turn {
    /// Nothing else is queued: it runs again.
    Alone(GRef),
    /// It swapped with the one other goroutine, which runs now.
    Next(GRef),
    /// Others wait: queue it at the back.
    Queue(GRef),
}

/// Proof of holding a processor in state HELD: the only way to reach its queues.
pub struct Held<'a> {
    pub p: &'a P,
}

impl P {
    pub fn new(id: usize) -> P {
        let w = Worker::new_fifo();
        let soft = Worker::new_fifo();
        P {
            id,
            _cold_end: [0; COLD_PAD],
            status: AtomicU32::new(IDLE),
            tick: AtomicU64::new(0),
            stealer: w.stealer(),
            local: UnsafeCell::new(w),
            soft_stealer: soft.stealer(),
            soft: UnsafeCell::new(soft),
            runnext: UnsafeCell::new(None),
            has_runnext: AtomicBool::new(false),
            affine: UnsafeCell::new(VecDeque::new()),
            affine_len: AtomicUsize::new(0),
            preempt: AtomicBool::new(false),
            owner_tid: std::sync::atomic::AtomicI32::new(0),
            stacks: UnsafeCell::new(LocalCache::default()),
        }
    }

    /// Its owner `m` enters goroutine code here (`gate.rs`).
    #[inline(always)]
    pub fn enter(&self, m: &M) {
        m.gate.enter(self.id);
    }

    /// Its owner `m` leaves goroutine code; `false` if the monitor retook the processor
    /// meanwhile (`gate.rs`; `m` must not touch it then).
    #[inline(always)]
    pub fn leave(&self, m: &M) -> bool {
        m.gate.leave(self.id)
    }

    /// Records `m` as the M running goroutines here (`owner_tid`).
    #[inline(always)]
    pub fn own(&self, m: &M) {
        self.owner_tid.store(m.tid.load(Relaxed), Relaxed);
    }

    /// Anything queued here (as far as another thread can tell)?
    pub fn has_work(&self) -> bool {
        !self.stealer.is_empty()
            || self.has_runnext.load(Acquire)
            || self.affine_len.load(Acquire) > 0
            || !self.soft_stealer.is_empty()
    }

    /// Work another M should come for: stealable work, or any work of a processor nobody
    /// holds. (Runnext, affine and soft work of a held processor are its holder's to run: an
    /// M that kept re-checking them would only spin, pulling the holder's cache lines away.
    /// Soft work that goes stale behind a long-running goroutine is found by a spinning M's
    /// looks or the monitor: module docs.)
    pub fn has_work_for_others(&self) -> bool {
        !self.stealer.is_empty()
            || (self.status.load(Acquire) == IDLE
                && (self.has_runnext.load(Acquire)
                    || self.affine_len.load(Acquire) > 0
                    || !self.soft_stealer.is_empty()))
    }

    /// Goroutines queued here (local + soft + affine), as far as another thread can tell.
    pub fn backlog(&self) -> usize {
        self.stealer.len() + self.soft_stealer.len() + self.affine_len.load(Relaxed)
    }
}

impl<'a> Held<'a> {
    /// # Safety
    /// The caller must own `p` in state HELD for the lifetime of the result.
    pub unsafe fn new(p: &'a P) -> Held<'a> {
        debug_assert_eq!(p.status.load(Relaxed), HELD);
        Held { p }
    }

    #[allow(clippy::mut_from_ref)] // unique: only the holder of the processor gets here
    fn local(&self) -> &mut Worker<GRef> {
        // SAFETY: holding the processor (HELD) makes us its only user; see the type docs.
        unsafe { &mut *self.p.local.get() }
    }

    #[allow(clippy::mut_from_ref)] // as for `local`
    pub fn stacks(&self) -> &mut LocalCache {
        // SAFETY: as for `local`.
        unsafe { &mut *self.p.stacks.get() }
    }

    pub fn push(&self, g: GRef) {
        self.local().push(g);
    }

    /// Puts `g` in runnext; the goroutine it displaces, if any, goes where `kick` says
    /// (out of line: a wake's usual runnext is empty). Returns whether an idle processor
    /// should be woken (`Runtime::ready_in`).
    #[inline(always)]
    pub fn push_next_as(&self, g: GRef, kick: crate::sched::spawn::Displace) -> bool {
        // SAFETY: as for `local`.
        let slot = unsafe { &mut *self.p.runnext.get() };
        let kicked = slot.replace(g);
        self.p.has_runnext.store(true, Release);
        match kicked {
            None => false,
            Some(old) => self.displaced(old, kick),
        }
    }

    #[inline(never)]
    fn displaced(&self, old: GRef, kick: crate::sched::spawn::Displace) -> bool {
        use crate::sched::spawn::Displace;
        match kick {
            Displace::Affine => {
                self.push_affine(old);
                false
            }
            Displace::Soft => {
                let q = self.soft();
                if q.len() < SOFT_BURST {
                    q.push(old);
                } else {
                    self.local().push(old);
                }
                true
            }
            Displace::Local => {
                self.local().push(old);
                true
            }
        }
    }

    #[allow(clippy::mut_from_ref)] // as for `local`
    fn soft(&self) -> &mut Worker<GRef> {
        // SAFETY: as for `local`.
        unsafe { &mut *self.p.soft.get() }
    }

    /// The next soft-queued goroutine (every 61st tick, step 2; `pop` takes them after the
    /// local queue otherwise).
    #[inline]
    pub fn pop_soft(&self) -> Option<GRef> {
        self.soft().pop()
    }

    /// Where the yield of `g` goes, each queue looked at once: [`Turn::Alone`] when nothing
    /// else is queued here (it runs again); [`Turn::Next`] when one other goroutine waits,
    /// in runnext or alone in the local queue, with nothing in the soft or affine queue, and
    /// `nobody_looks()` (no processor idle, no M spinning): the two swap through runnext (the
    /// yielder waits there), so two goroutines yielding to each other pay no locked
    /// instruction a yield (the local queue's pop is a locked add); runnext is its holder's
    /// alone (`has_work_for_others`), hence `nobody_looks`. [`Turn::Queue`] otherwise: the
    /// caller queues `g` at the back (round robin).
    #[inline(always)]
    pub fn yield_turn(&self, g: GRef, nobody_looks: impl FnOnce() -> bool) -> Turn {
        if self.p.affine_len.load(Relaxed) != 0 || !self.soft().is_empty() {
            return Turn::Queue(g);
        }
        // SAFETY: as for `local`.
        let slot = unsafe { &mut *self.p.runnext.get() };
        let local = self.local();
        if slot.is_some() {
            if !local.is_empty() || !nobody_looks() {
                return Turn::Queue(g);
            }
            // `has_runnext` stays set.
            return Turn::Next(slot.replace(g).expect("checked above"));
        }
        match local.len() {
            0 => Turn::Alone(g),
            1 if nobody_looks() => match local.pop() {
                // The one pop that puts the pair in place.
                Some(next) => {
                    *slot = Some(g);
                    self.p.has_runnext.store(true, Release);
                    Turn::Next(next)
                }
                None => Turn::Alone(g), // stolen just now
            },
            _ => Turn::Queue(g),
        }
    }

    pub fn pop(&self) -> Option<GRef> {
        // SAFETY: as for `local`.
        let slot = unsafe { &mut *self.p.runnext.get() };
        if let Some(g) = slot.take() {
            self.p.has_runnext.store(false, Release);
            return Some(g);
        }
        if let Some(g) = self.local().pop() {
            return Some(g);
        }
        self.soft().pop()
    }

    /// Queues `g` in the affine queue (never stolen; see the module docs).
    pub fn push_affine(&self, g: GRef) {
        // SAFETY: as for `local`.
        let q = unsafe { &mut *self.p.affine.get() };
        q.push_back(g);
        self.p.affine_len.store(q.len(), Release);
    }

    pub fn pop_affine(&self) -> Option<GRef> {
        if self.p.affine_len.load(Relaxed) == 0 {
            return None;
        }
        // SAFETY: as for `local`.
        let q = unsafe { &mut *self.p.affine.get() };
        let g = q.pop_front();
        self.p.affine_len.store(q.len(), Release);
        g
    }

    pub fn worker(&self) -> &Worker<GRef> {
        self.local()
    }

    pub fn is_empty(&self) -> bool {
        !self.p.has_runnext.load(Relaxed)
            && self.local().is_empty()
            && self.soft().is_empty()
            && self.p.affine_len.load(Relaxed) == 0
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::goroutine::{Entry, G};

    fn g(id: u64) -> GRef {
        G::new(id, 0, Entry::Rust(Box::new(|| {})), None, Default::default()).ok().expect("a record")
    }

    /// `p`, a processor of the calling test alone, marked held, and its `Held`.
    fn hold(p: &P) -> Held<'_> {
        p.status.store(HELD, Relaxed);
        // SAFETY: nobody else can reach `p` (the test's own), so its caller holds it.
        unsafe { Held::new(p) }
    }

    /// Yields on a held processor, `yield_turn` first, then what `next_here` does when it
    /// refuses (the back of the local queue, step 4's pop): the ids that run, in order.
    fn run_yields(p: &P, first: GRef, yields: usize) -> Vec<u64> {
        let h = hold(p);
        let mut cur = first;
        let mut ran = vec![cur.id];
        for _ in 0..yields {
            cur = match h.yield_turn(cur, || true) {
                Turn::Alone(g) | Turn::Next(g) => g,
                Turn::Queue(y) => {
                    h.push(y);
                    h.pop().expect("the yielder at least")
                }
            };
            ran.push(cur.id);
        }
        while h.pop().is_some() {}
        ran
    }

    /// Two goroutines swap through runnext (after one pop that sets the pair up); three or
    /// more go round the local queue in order, and a third that arrives while two swap
    /// joins the round: nobody is passed over.
    #[test]
    fn yields_take_turns() {
        let p = P::new(0);
        let h = hold(&p);
        h.push(g(2));
        assert_eq!(run_yields(&p, g(1), 5), [1, 2, 1, 2, 1, 2]);
        assert!(h.is_empty());

        h.push(g(2));
        h.push(g(3));
        assert_eq!(run_yields(&p, g(1), 6), [1, 2, 3, 1, 2, 3, 1]);

        // The pair swaps (2 in runnext while 1 runs), then a wake puts 3 in runnext and
        // 2 at the back of the local queue: the round takes all three.
        h.push(g(2));
        let Turn::Next(one) = h.yield_turn(g(1), || true) else { panic!("no swap") };
        assert_eq!(one.id, 2); // 2 runs, 1 in runnext
        let Turn::Next(two) = h.yield_turn(one, || true) else { panic!("no swap") };
        assert_eq!(two.id, 1); // 1 runs, 2 in runnext
        let _ = h.push_next_as(g(3), crate::sched::spawn::Displace::Local);
        assert_eq!(run_yields(&p, two, 6), [1, 3, 2, 1, 3, 2, 1]);
    }

    /// Work in the soft or affine queue: no swap (the round robin of step 4 takes it).
    #[test]
    fn no_swap_past_other_queues() {
        let p = P::new(0);
        let h = hold(&p);
        h.push_affine(g(3));
        h.push(g(2));
        assert!(matches!(h.yield_turn(g(1), || true), Turn::Queue(_)));
        // Someone looks for work to steal: no swap either.
        while h.pop_affine().is_some() {}
        assert!(matches!(h.yield_turn(g(4), || false), Turn::Queue(_)));
        // Alone, it runs again whoever looks.
        while h.pop().is_some() {}
        assert!(matches!(h.yield_turn(g(5), || false), Turn::Alone(_)));
        while h.pop().is_some() {}
        while h.pop_affine().is_some() {}
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! A handed-off processor goes to one place. (The monitor's retake against the owner's
    //! return from goroutine code is `gate.rs`'s model.)
    use super::*;
    use loom::sync::Arc;
    use std::sync::atomic::Ordering::SeqCst;

    /// A handed-off processor is released to the idle list or to a waiting M exactly once.
    #[test]
    fn release_goes_to_one_place() {
        loom::model(|| {
            let lists = Arc::new(loom::sync::Mutex::new((Vec::<usize>::new(), vec![7usize])));
            let l2 = lists.clone();
            let t = loom::thread::spawn(move || {
                let mut g = l2.lock().unwrap();
                match g.1.pop() {
                    Some(_m) => 1, // handed to the waiting M
                    None => {
                        g.0.push(0);
                        0
                    }
                }
            });
            let mut got = 0;
            {
                let mut g = lists.lock().unwrap();
                if g.0.pop().is_some() {
                    got += 1;
                }
            }
            let handed = t.join().unwrap();
            let g = lists.lock().unwrap();
            assert_eq!(handed + got + g.0.len(), 1);
        });
    }
}
