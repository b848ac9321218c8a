//! M: an OS thread that runs goroutines while it owns a processor.
//!
//! The loop: get a processor (handed over, or wait for one if pinned work waits in the
//! inbox, or sleep idle); find a runnable goroutine (`find_runnable`, in the order that
//! `README.md` section 3 lists); run it until it parks, yields or returns; repeat. Finding
//! nothing releases the processor (see `idle.rs`).
//!
//! The inbox holds goroutines pinned to this M (`gr_pin`): only this thread may run them.
//! Pinned goroutines that yield wait in `yielded` until the processor has nothing else.
//! Lock order (`README.md`): `inbox` is rank 60, `yielded` 61, both leaves.

use super::proc::{Held, Turn, P, IDLE};
use super::spawn::Displace;
use super::state;
use super::tls;
use super::Runtime;
use crate::goroutine::{GRef, RunState, Suspend, G};
use crate::loom::rank::{INBOX, YIELDED};
use crate::loom::{lock, AtomicBool, AtomicUsize, Mutex};
use crate::sys::sanitizer;
use crossbeam_deque::{Steal, Stealer};
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release, SeqCst};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

pub struct M {
    /// Its number, as in the thread's name `gr-worker-N` (never reused, though Ms exit); read
    /// by dumps and debuggers, and by `Idle::idle_spinner`, which names the spinning idle M.
    pub id: usize,
    /// This M's thread-local block while its thread runs (null before and after): dumps read
    /// its `p` and `gid` under `Runtime::ms`, which the thread takes to clear this before it
    /// exits.
    pub(crate) local: std::sync::atomic::AtomicPtr<tls::Local>,
    /// The kernel thread id (dumps).
    pub(crate) tid: std::sync::atomic::AtomicI32,
    pub rt: &'static Runtime,
    pub(crate) parker: super::parker::Parker,
    /// A processor handed to this M: index + 1 (0 = none); bit 63 = start spinning.
    handed: AtomicUsize,
    pub(crate) idle: AtomicBool,
    /// Listed as idle while blocked in the poller (`poll.rs`): a kick must break the poll.
    pub(crate) polling: AtomicBool,
    inbox: Mutex<VecDeque<GRef>, INBOX>,
    pub(crate) inbox_len: AtomicUsize,
    /// Pinned goroutines that yielded (`gr_yield`): served once this M's processor has
    /// nothing else queued, or every 61st tick, so that a pinned goroutine's yield lets the
    /// others run first, as Go's Gosched does (the inbox is served every other tick, so a
    /// yield through it gave one other goroutine a turn at most). Only this M's own thread
    /// pushes and pops; `yielded_len` lets it skip the lock.
    yielded: Mutex<VecDeque<GRef>, YIELDED>,
    yielded_len: AtomicUsize,
    /// In a blocking section (`current::blocking_begin` to `blocking_end`), counted in
    /// `Idle::nblocked`. Only this M's thread changes it.
    pub(crate) in_blocking: AtomicBool,
    /// Goroutines pinned to this M (`gr_pin` until `gr_unpin` or their end): their
    /// `G::pinned` points here, so the M may not exit. Only this M's thread changes it.
    pinned: AtomicUsize,
    /// Goroutine runs this M started: written by its own thread only (a plain store, no
    /// read-modify-write on the hot path), read by the monitor's stall reports (`stall.rs`).
    pub(crate) runs: std::sync::atomic::AtomicU64,
    /// Between this M and the monitor: whether it still owns its processor when it leaves
    /// goroutine code (`gate.rs`).
    pub(crate) gate: super::gate::Gate,
    me: Weak<M>,
}

const SPIN_BIT: usize = 1 << 63;

impl M {
    pub(crate) fn arc(&self) -> Arc<M> {
        self.me.upgrade().expect("an M is alive while it runs")
    }

    /// Gives this M processor `p` (HELD) and wakes it.
    pub(crate) fn hand(&self, p: usize, spinning: bool) {
        self.give(p, spinning);
        self.kick();
    }

    /// Stores processor `p` (HELD) for this M, which must then be kicked. Separate from the
    /// kick for `startm`, which gives under the scheduler lock before it marks the M not idle.
    pub(crate) fn give(&self, p: usize, spinning: bool) {
        let prev = self.handed.swap((p + 1) | if spinning { SPIN_BIT } else { 0 }, SeqCst);
        if prev != 0 {
            crate::fatal("a processor was handed to an M that had one handed already");
        }
    }

    /// Wakes this M from its futex or, if it is blocked in the poller, from `epoll_wait`.
    /// The caller stored what the M should find (SeqCst) before: the M publishes `polling`
    /// (SeqCst) before its last look, so one of the two sees the other.
    pub(crate) fn kick(&self) {
        self.parker.unpark();
        std::sync::atomic::fence(SeqCst);
        if self.polling.load(SeqCst) {
            if let Some(p) = self.rt.poller_if_started() {
                p.wake();
            }
        }
    }

    pub(crate) fn has_handed(&self) -> bool {
        self.handed.load(Acquire) != 0
    }

    pub(crate) fn take_handed(&self) -> Option<(usize, bool)> {
        match self.handed.swap(0, AcqRel) {
            0 => None,
            v => Some(((v & !SPIN_BIT) - 1, v & SPIN_BIT != 0)),
        }
    }

    /// Queues a goroutine pinned to this M and makes sure the M will look.
    pub(crate) fn push_inbox(&self, rt: &'static Runtime, g: GRef) {
        lock(&self.inbox).push_back(g);
        self.inbox_len.fetch_add(1, SeqCst);
        if !std::ptr::eq(tls::m(), self) {
            let was_idle = self.idle.load(SeqCst);
            rt.wake_m(self);
            if !was_idle && super::stall::hooked() {
                // Not idle: the M may be held by a goroutine, a stall the monitor must look at
                // even if it sleeps with every processor idle (`stall.rs`, `Watch::quiet`).
                rt.timers.wake_monitor(&rt.monitor_deep);
            }
        }
    }

    /// A goroutine running here pinned itself to this M (`old`: what `G::pinned` held).
    pub(crate) fn note_pin(&self, old: usize) {
        if old != self as *const M as usize {
            self.pinned.fetch_add(1, Relaxed);
            self.rt.idle.npinned.fetch_add(1, Relaxed);
        }
    }

    /// A goroutine pinned to this M unpinned itself or ended.
    pub(crate) fn note_unpin(&self) {
        self.pinned.fetch_sub(1, Relaxed);
        self.rt.idle.npinned.fetch_sub(1, Relaxed);
    }

    /// Whether goroutines are pinned to this M (it must then not exit).
    pub(crate) fn has_pinned(&self) -> bool {
        self.pinned.load(Relaxed) != 0
    }

    /// Goroutines only this M may run: pinned ones woken, or yielded.
    pub(crate) fn has_pinned_work(&self) -> bool {
        self.inbox_len.load(Acquire) > 0 || self.yielded_len.load(Relaxed) > 0
    }

    fn push_yielded(&self, g: GRef) {
        lock(&self.yielded).push_back(g);
        self.yielded_len.fetch_add(1, Relaxed);
    }

    fn pop_yielded(&self) -> Option<GRef> {
        if self.yielded_len.load(Relaxed) == 0 {
            return None;
        }
        let g = lock(&self.yielded).pop_front();
        if g.is_some() {
            self.yielded_len.fetch_sub(1, Relaxed);
        }
        g
    }

    #[inline(always)]
    fn pop_inbox(&self) -> Option<GRef> {
        if self.inbox_len.load(Acquire) == 0 {
            return None;
        }
        let g = lock(&self.inbox).pop_front();
        if g.is_some() {
            self.inbox_len.fetch_sub(1, SeqCst);
        }
        g
    }
}

/// What [`Runtime::spawn_m`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spawn {
    Started,
    /// At the thread cap, or the runtime stopped: not an error (work waits for a thread).
    Refused,
    /// The OS refused a thread (out of memory, of mappings or of threads).
    Failed,
}

impl Spawn {
    pub(crate) fn started(self) -> bool {
        self == Spawn::Started
    }
}

impl Runtime {
    /// Starts a new M, owning processor `p` if given (else it starts idle).
    pub(crate) fn spawn_m(&'static self, p: Option<usize>, spinning: bool) -> Spawn {
        // Reserve a thread slot with a CAS, so the count never exceeds the cap even for an
        // instant (`gr_stats` reads it). +1: the monitor thread counts against the cap too.
        let mut n = self.nthreads.load(SeqCst);
        loop {
            if n + 1 >= self.cfg.max_threads {
                return Spawn::Refused;
            }
            match self.nthreads.compare_exchange_weak(n, n + 1, SeqCst, SeqCst) {
                Ok(_) => break,
                Err(cur) => n = cur,
            }
        }
        let mut ms = lock(&self.ms);
        if self.stopping() {
            // Checked under `ms`, which `gr_shutdown` takes after stopping to collect the
            // threads it joins: every thread it does not see is never created.
            drop(ms);
            self.nthreads.fetch_sub(1, SeqCst);
            return Spawn::Refused;
        }
        let id = self.next_mid.fetch_add(1, Relaxed);
        let m = Arc::new_cyclic(|me| M {
            id,
            local: std::sync::atomic::AtomicPtr::new(std::ptr::null_mut()),
            tid: std::sync::atomic::AtomicI32::new(0),
            rt: self,
            parker: super::parker::Parker::new(),
            handed: AtomicUsize::new(0),
            idle: AtomicBool::new(false),
            polling: AtomicBool::new(false),
            inbox: Mutex::new(VecDeque::new()),
            inbox_len: AtomicUsize::new(0),
            yielded: Mutex::new(VecDeque::new()),
            yielded_len: AtomicUsize::new(0),
            in_blocking: AtomicBool::new(false),
            pinned: AtomicUsize::new(0),
            runs: std::sync::atomic::AtomicU64::new(0),
            gate: super::gate::Gate::new(),
            me: me.clone(),
        });
        if let Some(p) = p {
            m.handed.store((p + 1) | if spinning { SPIN_BIT } else { 0 }, Release);
        }
        let m2 = m.clone();
        self.hold(); // the thread's own, released as it ends
        let mut name = [0u8; 15];
        let name = fmt_name(&mut name, id);
        match sanitizer::new_thread(|| crate::sys::thread::spawn(name, 8 << 20, Box::new(move || m_main(m2)))) {
            Some(t) => {
                ms.push((m, Some(t)));
                Spawn::Started
            }
            None => {
                // Not the last hold: the runtime is published (not stopping, checked above
                // under `ms`), so its published hold is still there.
                self.holds_undo();
                self.nthreads.fetch_sub(1, SeqCst);
                Spawn::Failed
            }
        }
    }
}

/// "gr-worker-N" without allocating.
fn fmt_name(buf: &mut [u8; 15], id: usize) -> &str {
    let prefix = b"gr-worker-";
    buf[..prefix.len()].copy_from_slice(prefix);
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = id;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let d = &digits[i..];
    let len = (prefix.len() + d.len()).min(buf.len());
    buf[prefix.len()..len].copy_from_slice(&d[..len - prefix.len()]);
    std::str::from_utf8(&buf[..len]).unwrap_or("gr-worker")
}

fn m_main(m: Arc<M>) {
    let rt = m.rt;
    // Scheduler code runs on this thread's own stack and never migrates: keep the block.
    // (Neither it nor anything else this loop touches before running goroutines is a
    // thread-local with a destructor: `sys/thread.rs`.)
    let l = tls::local();
    l.m.set(&*m);
    m.local.store(l as *const tls::Local as *mut tls::Local, Release);
    m.tid.store(crate::sys::thread::gettid(), Relaxed);
    let alt = crate::sys::signal::AltStack::install();
    sanitizer::worker_thread(); // (internal already: `sys/thread.rs`)
    // Whether the host's sanitizer is told of switches: looked up by now, fixed for good. A
    // copy of the loop each way: a normal program pays nothing per switch.
    let retired = if sanitizer::on() { run_loop::<true>(&m, l) } else { run_loop::<false>(&m, l) };
    if retired {
        // Idle past its keep-alive: `stopm` unlisted it and lowered `nthreads`. Nothing
        // refers to it once it leaves `ms` (no goroutine is pinned to it), and no dump reads
        // its block after that. Its handle is dropped (detached), unless a `gr_shutdown`
        // took it to join.
        let mut ms = lock(&rt.ms);
        ms.retain(|(x, _)| !Arc::ptr_eq(x, &m));
        m.local.store(std::ptr::null_mut(), Release);
    } else {
        if l.p.get() != 0 {
            rt.release_p(l.p.get() - 1);
            l.p.set(0);
        }
        rt.nthreads.fetch_sub(1, SeqCst);
        let _ms = crate::loom::lock(&rt.ms); // no dump reads our block past here
        m.local.store(std::ptr::null_mut(), Release);
    }
    l.m.set(std::ptr::null());
    drop(alt);
    rt.release_hold(); // last, however the thread ends: may free the runtime (`runtime.rs`)
}

/// The worker's scheduling loop, until the runtime stops (or it has no processor and must
/// end: `false`), or until it stayed idle past its keep-alive (`true`). `SAN`: the host's
/// sanitizer is told of the switches (`sys/sanitizer.rs`).
///
/// Inlined into `m_main` always: when the goroutine landing (branch `thread-handoff`) grew
/// the channel paths, LLVM left it out of line, and `gr_bench ring` ran 1.09-1.15x slower
/// with fewer instructions a hop (`perf record -e cpu-clock`: corosensei's `suspend`, where
/// the switch's mispredicted returns land, from 8.5% to 14.9% of samples). Inlined, ring
/// measures as before (README section 13, "Issue 18's goal").
#[inline(always)]
fn run_loop<const SAN: bool>(m: &M, l: &tls::Local) -> bool {
    let rt = m.rt;
    let mut hold = Hold::default();
    loop {
        if l.p.get() == 0 {
            if let Some((p, spin)) = m.take_handed() {
                l.p.set(p + 1);
                l.spinning.set(spin);
            } else if rt.stopping() {
                return false;
            } else if m.has_pinned_work() {
                // Step 3 may have listed this M as idle before the pinned work came: unlist
                // it, or take the processor a submitter handed it meanwhile (given before
                // the submitter unlisted it: `startm`). Listed, it could be handed a second.
                if !rt.unlist_idle(m) {
                    if let Some((p, spin)) = m.take_handed() {
                        l.p.set(p + 1);
                        l.spinning.set(spin);
                        continue;
                    }
                }
                match rt.acquire_p_wait(m) {
                    Some(p) => l.p.set(p + 1),
                    None => return false,
                }
            } else {
                if rt.stopm(m, l) {
                    return true; // idle past its keep-alive: `m_main` retires it
                }
                continue;
            }
        }
        match find_runnable(m, l, &mut hold) {
            Some(g) => {
                execute::<SAN>(m, l, g, &mut hold);
                hold.ran = l.p.get() != 0;
            }
            None => hold.ran = false, // the processor was given up
        }
    }
}

fn stop_spinning(rt: &'static Runtime, l: &tls::Local) {
    if l.spinning.get() {
        l.spinning.set(false);
        rt.spinner_stopped();
    }
}

#[inline(always)]
fn found(rt: &'static Runtime, l: &tls::Local, g: GRef) -> Option<GRef> {
    stop_spinning(rt, l);
    Some(g)
}

/// A batch from another processor's queue into ours, and one of it to run.
#[inline(always)]
fn steal_from(s: &Stealer<GRef>, h: &Held<'_>) -> Option<GRef> {
    loop {
        match s.steal_batch_and_pop(h.worker()) {
            Steal::Success(g) => return Some(g),
            Steal::Empty => return None,
            Steal::Retry => continue,
        }
    }
}

fn steal_global(rt: &Runtime, h: &Held<'_>) -> Option<GRef> {
    loop {
        match rt.global.steal_batch_and_pop(h.worker()) {
            Steal::Success(g) => {
                rt.backlog_drained(); // spawners waiting on a full queue (`backlog.rs`)
                return Some(g);
            }
            Steal::Empty => return None,
            Steal::Retry => continue,
        }
    }
}

/// How long a spinning M that found nothing keeps its processor and looks again before it
/// gives the processor up (step 6b, `README.md` section 3).
const SPIN_HOLD: Duration = Duration::from_micros(20);

/// How long step 6b pauses between its rounds before it yields the CPU instead (as
/// `waiter::spin_before_sleep` does: a hand-off between two threads on two CPUs lands within it).
const HOLD_PAUSE: Duration = Duration::from_micros(1);

/// How long a held processor's tick must stand still (one goroutine running) before a
/// spinning M steals its soft work (`proc.rs`; Go lets an idle P take a runnext goroutine
/// that waited ~3 us; 2 us here spreads pools of ~2.5 us jobs). The select's producers run a
/// few hundred ns between wake and park, so their processor's tick keeps moving; a pool's
/// microsecond jobs stall it. Per victim, the wait doubles up to `SOFT_STALE_MAX` each time
/// a goroutine stolen from it ran shorter than `SOFT_STALE` (its tick stood still a moment,
/// its partners are short: a select that found every producer ready in a row), and comes
/// back when one ran long (`Hold::soft_probed`).
const SOFT_STALE: Duration = Duration::from_micros(2);
const SOFT_STALE_MAX: Duration = Duration::from_micros(64);

/// After a goroutine stolen from a processor's soft queue ran `SOFT_STALE` or longer before
/// it parked (a pool's job), a spinning M steals that processor's soft work at once for
/// this long, and each such run renews it: waiting `SOFT_STALE` for each displaced one again
/// would only delay it. (Opened at the stale look itself, as it was, one steal of a select's
/// producer made the next 200 us steal every one of them: the selector followed its
/// producers from CPU to CPU, `README.md` section 14, "The select's second worker".)
const SOFT_SLOW: Duration = Duration::from_micros(200);

/// How often a spinning M looks at other processors' ticks for their soft queues (step 6),
/// at first; while its looks see soft work whose processor's tick keeps moving (short
/// partners: a select's producers), the gap doubles up to `SOFT_LOOK_MAX`, and a tick seen
/// standing still or a steal brings it back. Each look costs the owner a miss on its
/// tick's line.
const SOFT_LOOK: Duration = Duration::from_micros(2);
const SOFT_LOOK_MAX: Duration = Duration::from_micros(16);

/// A spinning M reads a busy processor's soft queue (two lines its owner writes) once in
/// this many looks, to know whether to keep watching it.
const SOFT_RECHECK: u32 = 8;

/// A spinning M that saw soft work (not yet stale) within this long keeps its processor
/// past `SPIN_HOLD` (step 6b: it *watches*). Each soft push wakes a spinner if none spins, a
/// futex wake on the pusher's path when the last spinner slept: a watch that lasts while
/// soft work keeps coming keeps those rare (a pool's displaced workers find the M there).
const SOFT_WATCH: Duration = Duration::from_micros(1000);

/// A `sched_yield` that took longer than this lost the CPU to another process.
const YIELD_LOST: Duration = Duration::from_micros(500);

/// A `sched_yield` that took longer than this let another thread run on this CPU (a bare one
/// takes ~0.3 us here; a switch there and back ~1.5 us): the holds that follow skip their
/// pause phase, since the thread this M waits for may be the one that needs this CPU.
const YIELD_CROWDED: Duration = Duration::from_micros(3);

/// How long after a lost yield this M gives its processor up at once instead of holding it.
const HOLD_OFF: Duration = Duration::from_millis(5);

/// Step 6b's state: kept by the M's own loop (`run_loop`), so no thread-local and no atomics.
#[derive(Default)]
struct Hold {
    /// When this M, spinning with its processor, first found nothing (`None`: not holding).
    since: Option<Instant>,
    /// Rounds since `since`.
    rounds: u32,
    /// Past the pause phase: yield between rounds.
    yielding: bool,
    /// The last yield of a hold let another thread run on this CPU (it took `YIELD_CROWDED`
    /// or longer): holds yield from their first round, until a yield returns at once again.
    crowded: bool,
    /// A yield of this M lost the CPU: do not hold the processor before this.
    off_until: Option<Instant>,
    /// This M ran a goroutine since it got its processor. Only such an M holds: it is the
    /// one whose goroutine waits for a partner thread (that wake comes back here), while an
    /// M handed a processor that found nothing at all (a spinner `handoff_p` started for a
    /// goroutine that went to sleep) would only keep the processor from that goroutine's
    /// own M when it wakes.
    ran: bool,
    /// Per victim processor, what step 6 last saw of it (`soft_stale`).
    soft_seen: Vec<SoftSeen>,
    /// The last look saw soft work that is not stale yet: keep spinning (step 6b), up to
    /// `SOFT_WATCH`.
    soft_waiting: bool,
    /// When step 6 next looks at soft queues (the first pass of a search looks anyway), and
    /// when it last did.
    soft_look_at: Option<Instant>,
    soft_now: Option<Instant>,
    /// This look is the first of this search for work.
    soft_fresh: bool,
    /// When a look last saw soft work (kept across searches: `watching`).
    soft_last: Option<Instant>,
    /// The gap to the next look (`SOFT_LOOK` to `SOFT_LOOK_MAX`; zero: `SOFT_LOOK`).
    soft_gap: Duration,
    /// The last look saw soft work behind a moving tick, and no tick standing still nor
    /// work it stole (`soft_still`): the next gap doubles.
    soft_moving: bool,
    soft_still: bool,
    /// Soft work just stolen from this processor, and when: once the stolen goroutine's
    /// run ends, a run of `SOFT_STALE` or more (a pool's job) starts the victim's
    /// `SOFT_SLOW` window; a short one (a select's producer, stolen at a moment its
    /// processor's tick stood still) does not.
    soft_probe: Option<(usize, Instant)>,
}

/// What a spinning M last saw of another processor, for its soft queue (`Hold::soft_stale`).
#[derive(Default, Clone, Copy)]
struct SoftSeen {
    /// Its tick at the first look that saw that tick, and when (`None`: start afresh).
    tick: u64,
    since: Option<Instant>,
    /// Its soft queue held work when last looked at.
    had_soft: bool,
    /// Looks at it so far.
    looks: u32,
    /// Its soft work went stale lately: until then, steal it without waiting.
    slow_until: Option<Instant>,
    /// How long its tick must stand still before its soft work is stale (zero:
    /// `SOFT_STALE`): doubled, up to `SOFT_STALE_MAX`, each time a goroutine stolen from it
    /// ran short (`Hold::soft_probed`), back to `SOFT_STALE` when one ran long.
    stale_after: Duration,
}

/// Whether an M may soon want a processor: one is in a blocking section (a bound goroutine
/// asleep in a wait, a blocking call: it takes a processor back when it returns) or a
/// goroutine is pinned (woken, it is queued on its M, which takes a processor to run it).
/// Step 6b then does not hold: the
/// holder gives its processor up at the next round that sees `nwant`, but a waiter that
/// finds it held still waits for that round, which on a shared CPU means context switches
/// (a bound goroutine woken after each spawn + wait of a thread on one worker:
/// `bench/extra/boundwake.c 5000 40000 1 2`, 6.1-6.7 us a round trip without the hold,
/// 10.5-11.8 us with it).
fn own_ms_may_want(rt: &Runtime) -> bool {
    rt.idle.nblocked.load(Relaxed) != 0 || rt.idle.npinned.load(Relaxed) != 0
}

impl Hold {
    /// Whether this spinning M, having found nothing, should look again with its processor
    /// (after a pause or a yield); `false`: give the processor up (step 3).
    fn again(&mut self) -> bool {
        let start = match self.since {
            Some(t) => t,
            None => {
                let now = Instant::now();
                if let Some(u) = self.off_until {
                    if now < u {
                        return false;
                    }
                    self.off_until = None;
                }
                // Other processes crowd the CPUs: a hold would yield to them (`waiter::crowd`).
                if crate::waiter::crowd::crowded(now) {
                    return false;
                }
                *self.since.insert(now)
            }
        };
        // The clock every 8th round only (an idle round takes well under 100 ns).
        self.rounds = self.rounds.wrapping_add(1);
        if self.rounds % 8 == 0 {
            let now = Instant::now();
            let spent = now.duration_since(start);
            if spent >= SPIN_HOLD && !self.watching(now) {
                self.end();
                return false;
            }
            self.yielding = spent >= HOLD_PAUSE;
        }
        if !self.yielding && !self.crowded {
            std::hint::spin_loop();
            std::hint::spin_loop();
            return true;
        }
        if self.soft_waiting && !self.crowded && self.rounds % 8 != 0 {
            // Watching soft work (step 6): pause until the next look, touching nothing
            // shared; a `sched_yield` every 8th round still tells whether this CPU is wanted.
            // (Yielding every round slowed the watched processor's thread on the other CPU:
            // `gr_bench select` under `chrt -f 10`, `README.md` section 3.)
            if let Some(at) = self.soft_look_at {
                while Instant::now() < at {
                    for _ in 0..16 {
                        std::hint::spin_loop();
                    }
                }
            }
            return true;
        }
        // (A yield lost to a crowd marks the machine crowded: holds then stop at once.)
        let y = crate::waiter::crowd::yield_cpu();
        // Pausing while a thread waits for this CPU only delays it: on a loaded machine the
        // thread this M waits for (a plain thread that spawns and joins) may share the CPU,
        // and then every hand-off paid the pause phase twice (the joiner's spin does the same:
        // `bindings/java` `Task.awaitReturned`). `README.md` section 3, step 6b.
        self.crowded = y.took >= YIELD_CROWDED;
        if y.took < YIELD_LOST {
            return true;
        }
        let now = y.at;
        // The yield lost the CPU to another process: a descheduled spinner holds the
        // processor submitters count on (they wake nobody while it is counted). Give it up,
        // and do not hold one for a while.
        self.end();
        self.off_until = Some(now + HOLD_OFF);
        false
    }

    /// Whether step 6 looks at soft queues this round: once per `SOFT_LOOK`. A look that is
    /// due clears `soft_waiting`, which the looks set again while soft work waits.
    #[inline(never)]
    fn soft_look_due(&mut self) -> bool {
        let now = Instant::now();
        // The first pass of a search for work (no hold yet) always looks.
        let first = self.since.is_none();
        if !first && matches!(self.soft_look_at, Some(t) if now < t) {
            return false;
        }
        self.soft_fresh = first;
        self.soft_gap = if self.soft_moving && !self.soft_still {
            (self.soft_gap * 2).clamp(SOFT_LOOK, SOFT_LOOK_MAX)
        } else {
            SOFT_LOOK
        };
        self.soft_moving = false;
        self.soft_still = false;
        self.soft_look_at = Some(now + self.soft_gap);
        self.soft_waiting = false;
        self.soft_now = Some(now);
        true
    }

    /// Whether to steal the soft work of `vp` (processor `victim` of `n`) now: it is stale
    /// (`proc.rs`), its tick not having moved for `SOFT_STALE` since this M first saw it at
    /// that tick, or its processor being idle. Reads the victim's tick only, unless it stood
    /// still (each line read here is one its owner must fetch back); its soft queue's
    /// emptiness, to know whether to keep watching, once in `SOFT_RECHECK` looks. Sets
    /// `soft_waiting` while soft work waits to go stale.
    #[inline(never)]
    fn soft_stale(&mut self, victim: usize, vp: &P, n: usize) -> bool {
        let now = self.soft_now.unwrap_or_else(Instant::now);
        if self.soft_seen.len() != n {
            self.soft_seen = vec![SoftSeen::default(); n];
        }
        let tick = vp.tick.load(Relaxed);
        let seen = &mut self.soft_seen[victim];
        seen.looks = seen.looks.wrapping_add(1);
        if matches!(seen.slow_until, Some(u) if now < u) {
            // Its goroutines ran long lately: its soft work is a pool's, steal it at once.
            self.soft_still = true;
            seen.had_soft = !vp.soft_stealer.is_empty();
            if seen.had_soft {
                self.soft_last = Some(now);
            }
            return seen.had_soft;
        }
        match seen.since {
            Some(since) if seen.tick == tick => {
                self.soft_still = true;
                if now.duration_since(since) >= seen.stale_after.max(SOFT_STALE) || vp.status.load(Acquire) == IDLE {
                    seen.since = None;
                    seen.had_soft = !vp.soft_stealer.is_empty();
                    return seen.had_soft;
                }
            }
            _ => {
                // A fresh look (this M's first in this search, or after a steal attempt)
                // reads the queue; one whose tick moved only once in `SOFT_RECHECK` looks.
                if self.soft_fresh || seen.since.is_none() || seen.looks % SOFT_RECHECK == 0 {
                    seen.had_soft = !vp.soft_stealer.is_empty();
                }
                seen.tick = tick;
                seen.since = Some(now);
                self.soft_moving |= seen.had_soft;
            }
        }
        if seen.had_soft {
            self.soft_waiting = true;
            self.soft_last = Some(now);
        }
        false
    }

    /// Step 6's look at `victim`'s soft queue: its work if stale (`soft_stale`), with the
    /// stolen goroutine's run to be timed (`soft_probe`).
    #[inline(never)]
    fn steal_soft(&mut self, victim: usize, vp: &P, n: usize, h: &Held<'_>) -> Option<GRef> {
        if !self.soft_stale(victim, vp, n) {
            return None;
        }
        let g = steal_from(&vp.soft_stealer, h)?;
        // The look's own clock read (`soft_look_due`), a moment before the steal.
        self.soft_probe = Some((victim, self.soft_now.unwrap_or_else(Instant::now)));
        Some(g)
    }

    /// The goroutine stolen from `victim`'s soft queue at `at` ran until now: a long run
    /// starts the victim's `SOFT_SLOW` window (`soft_probe`).
    #[cold]
    #[inline(never)]
    fn soft_probed(&mut self) {
        let Some((victim, at)) = self.soft_probe.take() else { return };
        let now = Instant::now();
        if let Some(seen) = self.soft_seen.get_mut(victim) {
            if now.duration_since(at) >= SOFT_STALE {
                seen.slow_until = Some(now + SOFT_SLOW);
                seen.stale_after = SOFT_STALE;
            } else {
                seen.stale_after = (seen.stale_after * 2).clamp(SOFT_STALE, SOFT_STALE_MAX);
            }
        }
    }

    /// Whether this M watches soft work: a look saw some within the last `SOFT_WATCH`. It
    /// then keeps its processor (step 6b) past `SPIN_HOLD`, and the M that ran a stolen
    /// goroutine comes back watching: a pool's displaced workers find it there.
    #[inline]
    fn watching(&self, now: Instant) -> bool {
        matches!(self.soft_last, Some(t) if now.duration_since(t) < SOFT_WATCH)
    }

    /// The hold is over (work found, or the processor given up).
    #[inline(always)]
    fn end(&mut self) {
        self.since = None;
        self.rounds = 0;
        self.yielding = false;
    }

    /// In a hold's later rounds, descriptors are polled every 16th round only (a system call).
    #[inline(always)]
    fn poll_now(&self) -> bool {
        self.since.is_none() || self.rounds % 16 == 0
    }
}

/// Finds a goroutine to run on this M's processor, in the order of `README.md` section 3.
/// `None` when the processor was given up.
#[inline(always)]
fn find_runnable(m: &M, l: &tls::Local, hold: &mut Hold) -> Option<GRef> {
    let g = find_runnable_held(m, l, hold);
    hold.end();
    g
}

#[inline(always)]
fn find_runnable_held(m: &M, l: &tls::Local, hold: &mut Hold) -> Option<GRef> {
    let rt = m.rt;
    loop {
        let pi = l.p.get() - 1;
        let p: &P = &rt.ps[pi];
        // SAFETY: this M owns `p` in state HELD (we are in scheduler code).
        let h = unsafe { Held::new(p) };
        if rt.stopping() {
            stop_spinning(rt, l);
            l.p.set(0);
            rt.release_p(pi);
            return None;
        }
        // An M with pinned work waits for a processor and we have none of our own: yield ours.
        if rt.idle.nwant.load(Relaxed) > 0 && !m.has_pinned_work() {
            stop_spinning(rt, l);
            l.p.set(0);
            rt.release_p(pi);
            return None;
        }
        // Only the owner writes `tick` (the monitor just reads it): no locked RMW needed.
        let tick = p.tick.load(Relaxed);
        p.tick.store(tick.wrapping_add(1), Relaxed);
        if tick % 61 == 0 {
            if let Some(g) = steal_global(rt, &h) {
                return found(rt, l, g);
            }
            if let Some(g) = m.pop_yielded() {
                return found(rt, l, g);
            }
            // The soft queue too: it comes after the local queue below, and goroutines that
            // keep yielding into that one would hold it up for ever.
            if let Some(g) = h.pop_soft() {
                return found(rt, l, g);
            }
        }
        if tick % 2 == 0 {
            if let Some(g) = m.pop_inbox() {
                return found(rt, l, g);
            }
        }
        // Affine goroutines (never stolen) take turns with the local queue.
        if tick % 2 == 1 {
            if let Some(g) = h.pop_affine() {
                return found(rt, l, g);
            }
        }
        if let Some(g) = h.pop() {
            return found(rt, l, g);
        }
        if let Some(g) = h.pop_affine() {
            return found(rt, l, g);
        }
        if let Some(g) = m.pop_inbox() {
            return found(rt, l, g);
        }
        if let Some(g) = steal_global(rt, &h) {
            return found(rt, l, g);
        }
        if let Some(g) = m.pop_yielded() {
            return found(rt, l, g);
        }
        // Descriptors that became ready (a non-blocking poll, unless an M blocks in it).
        if hold.poll_now() {
            if let Some(g) = rt.poll_ready(&h) {
                return found(rt, l, g);
            }
        }
        // Steal, unless enough Ms are already spinning.
        let n = rt.nprocs();
        let busy = n - rt.idle.npidle.load(SeqCst);
        if l.spinning.get() || 2 * rt.idle.nmspinning.load(SeqCst) < busy {
            // Soft queues are looked at once per `SOFT_LOOK` (each look pulls their owners'
            // cache lines), and only by a spinning M (the clock is read here).
            let look_soft = hold.soft_look_due();
            if !l.spinning.get() {
                l.spinning.set(true);
                rt.idle.nmspinning.fetch_add(1, SeqCst);
            }
            let start = (tick as usize).wrapping_mul(0x9E37_79B9) % n;
            for round in 0..2 {
                for k in 0..n {
                    let victim = (start + k) % n;
                    if victim == pi {
                        continue;
                    }
                    let vp = &rt.ps[victim];
                    let mut g = steal_from(&vp.stealer, &h);
                    // Its soft queue only when the work there is stale (`proc.rs`).
                    if g.is_none() && look_soft && round == 0 {
                        g = hold.steal_soft(victim, vp, n, &h);
                    }
                    if let Some(g) = g {
                        rt.steals.fetch_add(1, Relaxed);
                        return found(rt, l, g);
                    }
                }
                if round == 0 {
                    std::hint::spin_loop();
                }
            }
        }
        // Step 6b: a spinning M keeps its processor and looks again, for up to `SPIN_HOLD`
        // (`README.md` section 3). Counted in `nmspinning`, it is the M a submitter's `wakep`
        // counts on: a plain thread's wake is one push, taken at this M's next round, with no
        // `startm`, no scheduler lock and no kick. Each round starts at step 1, which hands
        // the processor at once to an M that waits for one (a bound goroutine woken, a
        // blocking call's end), and such an M spins for the hand-off (`acquire_p_wait`).
        // (Also an M that has not run anything since it got its processor, while soft work
        // it saw waits to go stale: it is the one to steal it then.)
        if l.spinning.get() && (hold.ran || hold.soft_waiting) && !own_ms_may_want(rt) && hold.again() {
            continue;
        }
        // Step 3: give up the processor (listing this M as idle at once), stop spinning,
        // re-check everything once more.
        let was_spinning = l.spinning.get();
        l.p.set(0);
        let listed = rt.release_p_listed(pi, m);
        if was_spinning {
            l.spinning.set(false);
            rt.idle.nmspinning.fetch_sub(1, SeqCst);
        }
        std::sync::atomic::fence(SeqCst);
        // What the re-check finds is this M's to start on, listed or not: a processor handed
        // to an M that waits for one (`listed` false) goes to a goroutine of that M's own,
        // which looks at no queue, and a submitter that saw this M still counted as spinning
        // woke nobody (`idle::loom_tests::spinner_whose_processor_went_to_a_waiter_acts`).
        // Unlisted, `m` is handed nothing; listed, `unlist_idle` fails only when a submitter
        // is handing it a processor.
        let work = rt.work_for_others();
        if work && (!listed || rt.unlist_idle(m)) {
            if let Some(np) = rt.acquire_idle_p() {
                l.p.set(np + 1);
                if was_spinning {
                    l.spinning.set(true);
                    rt.idle.nmspinning.fetch_add(1, SeqCst);
                }
                continue;
            }
        }
        return None;
    }
}

/// The processor's tick when `find_runnable`'s next round on `h` (held) would come to step 4
/// (runnext, the local queue, the soft queue) with nothing before it to find (`README.md`
/// section 3): the runtime not stopping, no M waiting for a processor (step 1), not a 61st
/// tick (step 2), nothing in this M's inbox (even ticks) or `yielded` list, no affine
/// goroutine on an odd tick (step 3). `None` otherwise: `find_runnable` takes the round.
#[inline(always)]
fn step4_tick(m: &M, h: &Held<'_>) -> Option<u64> {
    let rt = m.rt;
    // `has_pinned_work` covers the inbox and the `yielded` list.
    if m.has_pinned_work() || rt.stopping() || rt.idle.nwant.load(Relaxed) > 0 {
        return None;
    }
    let tick = h.p.tick.load(Relaxed);
    if tick % 61 == 0 || (tick % 2 == 1 && h.p.affine_len.load(Relaxed) > 0) {
        return None;
    }
    Some(tick)
}

/// What `find_runnable` would run next on `h` after its goroutine parked, ended or yielded
/// (`yielded`: put at the back of the local queue first), when step 4 decides it
/// ([`step4_tick`]): `Some` of it, with the round counted as `find_runnable` counts it, so
/// that the M runs it at once, without the outer loop's pass. `None` when an earlier step
/// may have work or step 4 has none (`yielded` is then queued, the round not counted):
/// `find_runnable` takes the round in full. A yielder with nothing else queued comes back
/// itself, without the push and the locked pop; one with a single other goroutine swaps
/// with it through runnext while nobody looks for work to steal (`Held::yield_turn`,
/// `README.md` section 3).
#[inline(always)]
fn next_here(m: &M, h: &Held<'_>, yielded: Option<GRef>) -> Option<GRef> {
    let Some(tick) = step4_tick(m, h) else {
        if let Some(g) = yielded {
            h.push(g);
        }
        return None;
    };
    if let Some(g) = yielded {
        let idle = &m.rt.idle;
        let nobody_looks = || idle.npidle.load(Relaxed) == 0 && idle.nmspinning.load(Relaxed) == 0;
        match h.yield_turn(g, nobody_looks) {
            Turn::Alone(g) | Turn::Next(g) => {
                h.p.tick.store(tick.wrapping_add(1), Relaxed);
                return Some(g);
            }
            Turn::Queue(g) => {
                let (npidle, spinning) = (idle.npidle.load(Relaxed), idle.nmspinning.load(Relaxed));
                if npidle != 0 || spinning != 0 {
                    return yield_requeue(m, h, g, tick, npidle > 0 && spinning == 0);
                }
                h.push(g); // step 4's pop below takes the next
            }
        }
    }
    let g = h.pop()?;
    h.p.tick.store(tick.wrapping_add(1), Relaxed);
    Some(g)
}

/// `next_here` for a yield while a processor is idle or an M spins (out of line: the
/// swap's path and the M's loop stay short): what `ready_in` does for a yield with the
/// processor held, without its look-ups (the back of the local queue, where other
/// processors may steal it), then step 4's pop. `wake` (an idle processor and nobody
/// spinning): wake one to take what still waits in the local queue. (Else a pair swapped
/// through runnext, invisible to the processor that went idle meanwhile, would share this
/// CPU while that one idles; Go's Gosched wakes nobody, leaving its global queue to the
/// next look.)
#[inline(never)]
fn yield_requeue(m: &M, h: &Held<'_>, g: GRef, tick: u64, wake: bool) -> Option<GRef> {
    h.push(g);
    let next = h.pop();
    if wake && !h.worker().is_empty() {
        m.rt.wakep_local();
    }
    let g = next?;
    h.p.tick.store(tick.wrapping_add(1), Relaxed);
    Some(g)
}

/// Runs `g` until it parks, yields or returns, then files it accordingly; then runs what
/// `find_runnable` would pick next, here, when [`next_here`] can tell it (the per-run stores
/// the monitor and dumps read are made for each run alike). `SAN`: the host's sanitizer is
/// told of the switches (a copy each way: a normal program pays nothing per switch).
fn execute<const SAN: bool>(m: &M, l: &tls::Local, mut g: GRef, hold: &mut Hold) {
    let rt = m.rt;
    let mut pi = l.p.get() - 1;
    let mut p = &rt.ps[pi];
    // After a run with processor `$h` held: the next goroutine to run here, if `next_here`
    // tells it; else this run's `execute` is done.
    macro_rules! run_next {
        ($h:expr, $yielded:expr) => {
            match next_here(m, $h, $yielded) {
                Some(next) => {
                    // (A goroutine's end may have counted this M a spinner: `spin_ahead`.)
                    stop_spinning(rt, l);
                    g = next;
                    // The processor this M holds now (`hold_again`: mostly the same one).
                    p = $h.p;
                    pi = l.p.get() - 1;
                    continue;
                }
                None => return,
            }
        };
    }
    loop {
        l.set_g(GRef::as_ptr(&g), g.id);
        m.runs.store(m.runs.load(Relaxed).wrapping_add(1), Relaxed);
        p.preempt.store(false, Relaxed);
        p.own(m);
        p.enter(m);
        let outcome = if g.bound { run_bound(&g) } else { run_coroutine::<SAN>(&g) };
        l.set_g(std::ptr::null(), 0);
        if hold.soft_probe.is_some() {
            hold.soft_probed(); // the stolen goroutine's first run ended
        }
        // Parked holding its channel's lock: mark it parked and release the lock before
        // anything else (its peers wait for the lock meanwhile). `state::mark_parked`.
        if let Some(Suspend::ParkUnlock(lock)) = outcome {
            state::mark_parked(&g.cell.state);
            // Parked: leak our reference (before the unlock, after which a waker may run it
            // elsewhere); the single waker takes it back.
            let _ = GRef::into_raw(g);
            // SAFETY: the goroutine handed us the lock it took on this thread and switched
            // away; this releases it once.
            unsafe { lock.release() };
            if rt.stopping() {
                rt.taint(); // as for a park below
            }
            let Some(h) = hold_again(m, l, pi, p) else { return };
            run_next!(&h, None);
        }
        let h = hold_again(m, l, pi, p);
        match outcome {
            None => {
                // SAFETY: the goroutine returned; we own its run state.
                let run = unsafe { g.run_state() };
                if let RunState::Started(c) = std::mem::replace(run, RunState::Gone) {
                    rt.give_stack(c.into_stack(), h.as_ref());
                }
                if g.pinned.swap(0, Relaxed) != 0 {
                    m.note_unpin(); // it ended pinned (to us: a pinned goroutine runs only here)
                }
                if let Some(h) = &h {
                    spin_ahead(rt, l, h.p);
                }
                rt.retire(&g);
            }
            Some(Suspend::Park) => {
                if state::commit_park(&g.cell.state) {
                    if rt.stopping() {
                        // Goroutine code that ran on through the shutdown parked: maybe in
                        // another runtime's objects, which may still wake it. Keep this
                        // runtime (and the goroutine's stack) for good.
                        rt.taint();
                    }
                    // Parked: leak our reference; the single waker takes it back.
                    let _ = GRef::into_raw(g);
                } else {
                    rt.ready_in(l, g, true, Displace::Local);
                }
            }
            Some(Suspend::Yield) => {
                let pin = g.pinned.load(Acquire);
                if pin == m as *const M as usize {
                    m.push_yielded(g);
                } else if let (0, Some(h)) = (pin, &h) {
                    run_next!(h, Some(g)); // `next_here` files it
                } else {
                    // With the block in hand: `ready` would look it up again (a TLS
                    // descriptor call, `sys/tls.rs`).
                    rt.ready_in(l, g, false, Displace::Local);
                }
            }
            Some(Suspend::ParkUnlock(_)) => unreachable!("handled above"),
        }
        let Some(h) = h else { return };
        run_next!(&h, None);
    }
}

/// Before a goroutine's end is told (its joiners woken), with nothing else queued on the
/// processor `p` this M holds, an idle processor about and no M spinning: counts this M as a
/// spinner now, ahead of the search for work it is about to start. A plain thread that
/// joined the goroutine often spawns the next one at once (`go()` + `join()` from a Java
/// thread, a C `gr_spawn` + `gr_wait` loop), and its `wakep` must see this M as the one who
/// will take that spawn. Counted only at its search's steal step, this M lost that race
/// whenever the joiner was quicker: the `wakep` handed the idle processor to a second M,
/// which took the goroutine, and this one, no longer the only spinner, gave its processor
/// up; with the joiner on one CPU and both Ms sharing the other, every spawn + join swapped
/// the two Ms through `sched_yield` (4.1-4.3 us a pair against 0.85-0.95 us, in stretches
/// of whole seconds: `README.md` section 13, "Two workers for one goroutine at a time").
/// The count comes before the joiner's wake, whose completion orders it first, so the
/// joiner's `wakep` reads it. The search that follows looks at every queue with the count
/// held, as any spinner's does; if this M runs something of its processor's first
/// (`run_next!`), it stops spinning as a spinner that found work does. (Loom:
/// `idle::loom_tests::spinner_counted_ahead_of_a_join_takes_the_next_spawn`.)
#[inline(always)]
fn spin_ahead(rt: &'static Runtime, l: &tls::Local, p: &P) {
    if l.spinning.get()
        || rt.idle.npidle.load(Relaxed) == 0
        || rt.idle.nmspinning.load(Relaxed) != 0
        || p.has_work()
    {
        return;
    }
    l.spinning.set(true);
    rt.idle.nmspinning.fetch_add(1, SeqCst);
}

/// After a run: leaves goroutine code on this M's processor and holds it (`Held`, through the
/// gate: `gate.rs`); `None`, with the block's processor cleared, if goroutine code lost or
/// changed it (blocking calls, the monitor). `pi`/`p`: the processor the run started on
/// (mostly still the one: no second look-up then).
#[inline(always)]
fn hold_again<'a>(m: &'a M, l: &tls::Local, pi: usize, p: &'a P) -> Option<Held<'a>> {
    let now = match l.p.get() {
        0 => None,
        n if n == pi + 1 => Some(p),
        n => Some(&m.rt.ps[n - 1]),
    };
    let now = now.filter(|p| p.leave(m));
    if now.is_none() {
        l.p.set(0);
    }
    // SAFETY: `now` is a processor this M just left goroutine code on, still its own: it
    // owns it in state HELD.
    now.map(|p| unsafe { Held::new(p) })
}

/// Runs a bound goroutine to completion on this thread's own stack.
fn run_bound(g: &G) -> Option<Suspend> {
    // SAFETY: the M running a goroutine owns its run state.
    let run = unsafe { g.run_state() };
    if let RunState::New(e, _) = std::mem::replace(run, RunState::Gone) {
        sanitizer::bound(true, g.sync_addr());
        if catch_unwind(AssertUnwindSafe(|| e.call())).is_err() {
            g.fail(Some(c"goroutine panicked".to_owned()));
        }
        sanitizer::bound(false, g.sync_addr());
    }
    None
}

/// Resumes a coroutine goroutine; `None` when it returned. `SAN`: the host's sanitizer is
/// told of the switches (`sys/sanitizer.rs`).
fn run_coroutine<const SAN: bool>(g: &GRef) -> Option<Suspend> {
    // SAFETY: the M running a goroutine owns its run state.
    let run = unsafe { g.run_state() };
    if let RunState::New(..) = run {
        // A coroutine goroutine always gets its stack at spawn (so that spawn, not this first
        // run, is what fails with ENOMEM).
        let RunState::New(entry, Some(stack)) = std::mem::replace(run, RunState::Gone) else {
            crate::fatal("starting a coroutine goroutine without its stack")
        };
        let gp = GRef::as_ptr(g) as usize;
        if SAN {
            // Before the coroutine writes its first frame there (TSan resets the stack).
            sanitizer::new_stack(g.san(), stack.limit_addr(), stack.size());
        }
        let asan = SAN && sanitizer::asan();
        *run = RunState::Started(crate::goroutine::Coro::new(stack));
        let RunState::Started(coro) = run else { unreachable!() };
        let body = move |y: &crate::stack::switch::Link<Suspend>| {
            // SAFETY: `gp` is the goroutine being started; it outlives its coroutine.
            let g = unsafe { &*(gp as *const G) };
            g.started(y, asan);
            if catch_unwind(AssertUnwindSafe(|| entry.call())).is_err() {
                g.fail(Some(c"goroutine panicked".to_owned()));
            }
            g.ending();
        };
        // SAFETY: made just now, on this M, which owns the goroutine; the body catches panics
        // (it must not unwind: `stack/switch.rs`).
        return switch_told::<SAN>(g, true, || unsafe { coro.start(body) });
    }
    let RunState::Started(coro) = run else { crate::fatal("resuming a goroutine that is not started") };
    // SAFETY: started and suspended (the park protocols hand it to one M at a time), and this
    // M owns it.
    switch_told::<SAN>(g, false, || unsafe { coro.resume() })
}

/// Runs `switch` (a coroutine's start or resume), telling the host's sanitizer of it when
/// `SAN`; `first`: the goroutine's first run.
#[inline(always)]
fn switch_told<const SAN: bool>(g: &G, first: bool, switch: impl FnOnce() -> Option<Suspend>) -> Option<Suspend> {
    if SAN {
        resume_told(g, first, switch)
    } else {
        switch()
    }
}

/// [`switch_told`]'s sanitizer path: the host's sanitizer told of the switches there and
/// back; `first`: the goroutine's first run (with its spawn edge).
#[cold]
#[inline(never)]
fn resume_told(g: &G, first: bool, switch: impl FnOnce() -> Option<Suspend>) -> Option<Suspend> {
    let running = sanitizer::run_begin(g.san(), first.then(|| g.sync_addr()));
    let r = switch();
    sanitizer::run_end(g.san(), running, r.is_none().then(|| g.sync_addr()));
    r
}
