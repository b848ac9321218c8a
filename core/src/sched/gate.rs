//! The processor gate: how an M leaves goroutine code still owning its processor, unless the
//! monitor retook it meanwhile (`README.md` section 1).
//!
//! An M enters goroutine code on processor `pi` (a run, or back from a spawn or wake made
//! inside one) and leaves it when the goroutine parks, yields or ends, or to touch the
//! processor's queues from goroutine code (`spawn.rs`, `with_held_in`). The monitor may take
//! the processor away from an M stuck in goroutine code (`monitor.rs`); exactly one of the
//! two must win. Each M has its own gate, so an M that comes back long after it lost its
//! processor writes only its own words, never those of the processor's next owner.
//!
//! `run` holds `pi + 1` while the M runs goroutine code on processor `pi`, 0 otherwise. Two
//! forms, chosen once per process before the first M starts ([`decide`]):
//!
//! **Asymmetric (the default where `membarrier(2)` works).** A leave is a plain store and a
//! plain load: `run = 0`, then read `req`; 0 means the processor is still the M's. The monitor
//! pays instead: it sets `req = REQ`, issues `membarrier` (a full barrier on every CPU running
//! one of our threads, at some point T in each thread's program order), then reads `run`:
//! - the M's store `run = 0` came before T: the monitor reads 0 (or a later run's value, if
//!   the M has left and entered again; see below) and cancels (`req = 0`);
//! - it came after T: so did the M's load of `req`, which sees `REQ` or the verdict; the M
//!   waits for the verdict (the monitor is between its barrier and its verdict, microseconds)
//!   and obeys it. The monitor grants itself the processor (`GRANT`) iff it read `pi + 1`.
//!
//!   A read of `pi + 1` means the M was on `pi` in goroutine code at T or entered a later run
//!   on `pi` after T; either way its next leave comes after T and sees `req`, so it cannot
//!   touch the processor again without the verdict. A read of 0 or of another processor's
//!   value means the M was not in goroutine code on `pi`: the monitor cancels, and an M that
//!   saw `REQ` in its leave keeps its processor. The M acknowledges `GRANT` by clearing `req`;
//!   the monitor requests with a CAS from 0, so an unacknowledged `GRANT` is never replaced.
//!   The M's store and load are kept in program order by a compiler fence; the CPU may reorder
//!   them, which the barrier covers (that is its job).
//!
//! **Compare-and-swap** (no `membarrier`, `GR_MEMBARRIER=0`, loom): leave CASes `run`
//! `pi + 1 -> 0`, the monitor CASes `pi + 1 -> LOST`; one wins. The M that finds `LOST` clears
//! it. This is the protocol the gate replaced, on the M's own word; it costs a locked
//! instruction per leave, about 3 to 4 ns on this VM (ping-pong makes four per round trip).
//!
//! A processor's `status` says only whether an M owns it (`HELD`) or not (`IDLE`); whether
//! its owner runs goroutine code is the owner's gate's `run`, which the monitor and dumps
//! read (`running_on`) through the M they find by the processor's `owner_tid`.

#![forbid(unsafe_code)]

use crate::loom::{AtomicU32, AtomicUsize};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::atomic::{compiler_fence, Ordering::SeqCst};

/// Whether the asymmetric form is in use: decided once, before the first M exists.
static ASYM: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// Chooses the gate's form for the process, once, before the first M starts (`runtime.rs`):
/// asymmetric if the process could register for `membarrier`, unless `GR_MEMBARRIER=0`.
pub(crate) fn decide() {
    ASYM.get_or_init(|| {
        let off = std::env::var_os("GR_MEMBARRIER").is_some_and(|v| v == "0");
        !off && crate::sys::membarrier::register()
    });
}

/// `run` after the monitor won a CAS-form retake.
const LOST: usize = usize::MAX;
/// `req`: the monitor's request, pending its verdict.
const REQ: u32 = 1;
/// `req`: the verdict that the processor is the monitor's (until its M clears it).
const GRANT: u32 = 2;

/// One M's gate (module docs). Written by its M on every run; the monitor writes it only to
/// retake. Two cache lines of its own (the adjacent-line prefetcher pairs them), so that no
/// other thread's writes (to the rest of its `M`, or to a neighbouring allocation) can pull
/// the line away between a leave's store and its load. (Measured, it changed nothing: yields
/// were bimodal from run to run, 16-18 or 19-21 ns, with the gate in its M's first line and
/// on lines of its own alike.)
#[repr(align(128))]
pub(crate) struct Gate {
    run: AtomicUsize,
    req: AtomicU32,
    /// The form ([`decide`]'s choice, copied here: a leave reads it from the gate's own line,
    /// not through the GOT entry of a static in another crate's code).
    asym: bool,
}

impl Gate {
    /// A gate of the form [`decide`] chose (called before any M exists).
    pub(crate) fn new() -> Gate {
        Gate { run: AtomicUsize::new(0), req: AtomicU32::new(0), asym: ASYM.get().copied().unwrap_or(false) }
    }

    /// The M enters goroutine code on processor `pi`, which it owns (HELD).
    #[inline(always)]
    pub(crate) fn enter(&self, pi: usize) {
        self.run.store(pi + 1, Release);
    }

    /// The M leaves goroutine code it entered on processor `pi`: whether the processor is
    /// still its own (else the monitor retook it, and it must not touch it).
    #[inline(always)]
    pub(crate) fn leave(&self, pi: usize) -> bool {
        self.leave_as(self.asym, pi)
    }

    #[inline(always)]
    fn leave_as(&self, asym: bool, pi: usize) -> bool {
        if asym {
            self.run.store(0, Relaxed);
            // Program order between the store and the load; the CPU's reordering of them is
            // what the monitor's barrier covers.
            compiler_fence(SeqCst);
            #[cfg(all(test, not(loom)))]
            stress::between();
            if self.req.load(Relaxed) == 0 {
                return true;
            }
            return self.leave_requested();
        }
        match self.run.compare_exchange(pi + 1, 0, AcqRel, Acquire) {
            Ok(_) => true,
            Err(v) => {
                debug_assert_eq!(v, LOST, "a gate left on another processor than entered");
                self.run.store(0, Relaxed);
                false
            }
        }
    }

    /// A leave that found a request: waits for its verdict (the monitor is between its
    /// barrier and the verdict) and obeys it.
    #[cold]
    #[inline(never)]
    fn leave_requested(&self) -> bool {
        let mut spins = 0u32;
        loop {
            match self.req.load(Acquire) {
                0 => {
                    #[cfg(all(test, not(loom)))]
                    stress::KEPT_AFTER_REQUEST.fetch_add(1, Relaxed);
                    return true;
                }
                GRANT => {
                    self.req.store(0, Relaxed);
                    return false;
                }
                _ if spins < 1000 => {
                    spins += 1;
                    std::hint::spin_loop();
                }
                // The monitor may be off the CPU (a loaded machine). (Never under loom: the
                // asymmetric form is not used there.)
                _ => std::thread::yield_now(),
            }
        }
    }

    /// The processor this gate's M runs goroutine code on, as far as another thread can tell
    /// (the monitor's and dumps' view; the retake decides by the handshake).
    pub(crate) fn running_on(&self) -> Option<usize> {
        match self.run.load(Acquire) {
            0 | LOST => None,
            n => Some(n - 1),
        }
    }

    /// The monitor: takes processor `pi` from this gate's M if the M runs goroutine code on
    /// it; whether it did (the processor is then the caller's, in state HELD).
    pub(crate) fn retake(&self, pi: usize) -> bool {
        self.retake_as(self.asym, pi)
    }

    fn retake_as(&self, asym: bool, pi: usize) -> bool {
        if !asym {
            return self.run.compare_exchange(pi + 1, LOST, AcqRel, Acquire).is_ok();
        }
        if self.run.load(Relaxed) != pi + 1 {
            return false; // not even a candidate: spare the barrier
        }
        if self.req.compare_exchange(0, REQ, AcqRel, Acquire).is_err() {
            return false; // a grant its M has not seen yet
        }
        use crate::sys::membarrier::{barrier, register};
        // Refused (not registered, which `decide` did): register and try once more. No
        // barrier, no retake.
        let fenced = barrier() || (register() && barrier());
        if !fenced {
            self.req.store(0, Release);
            return false;
        }
        let granted = self.run.load(Acquire) == pi + 1;
        self.req.store(if granted { GRANT } else { 0 }, Release);
        granted
    }
}

#[cfg(all(test, not(loom)))]
mod stress {
    //! Both forms under contention: an M enters and leaves goroutine code in a tight loop and
    //! uses the processor after each successful leave; a monitor retakes as fast as it can and
    //! uses the processor after each grant, then hands it back. The processor is never used
    //! by both at once, and every grant is seen by exactly one failed leave.
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicU64};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    /// Leaves that met a request and kept the processor (the monitor cancelled).
    pub(super) static KEPT_AFTER_REQUEST: AtomicU64 = AtomicU64::new(0);

    thread_local! {
        /// Leaves made by this thread so far, on the stress test's M only (0 elsewhere).
        static LEAVES: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    }

    /// Between a leave's store and its load: on the stress test's M, every 8th leave pauses
    /// there for 20 us, so that barriers land in between (a real M is preempted there
    /// rarely). Reversing the two steps makes the test fail: the monitor then grants itself
    /// a processor whose M saw no request and kept it.
    pub(super) fn between() {
        LEAVES.with(|n| {
            let v = n.get();
            if v == 0 {
                return;
            }
            n.set(v.wrapping_add(1));
            if v % 8 == 0 {
                let t = Instant::now();
                while t.elapsed() < Duration::from_micros(20) {
                    std::hint::spin_loop();
                }
            }
        });
    }

    struct Shared {
        gate: Gate,
        in_use: AtomicBool,
        handed_back: AtomicBool,
        stop: AtomicBool,
        lost: AtomicU64,
        grants: AtomicU64,
        cancels: AtomicU64,
    }

    fn use_processor(s: &Shared, spins: u32) {
        assert!(!s.in_use.swap(true, SeqCst), "the processor used by the M and the monitor at once");
        for _ in 0..spins {
            std::hint::spin_loop();
        }
        s.in_use.store(false, SeqCst);
    }

    /// Runs until the monitor has made `want` grants (and, in the asymmetric form, `want`
    /// leaves met a request and kept the processor) or a minute passed (a loaded machine);
    /// the grants, refusals and kept leaves.
    fn run(asym: bool, want: u64) -> (u64, u64, u64) {
        let s = Arc::new(Shared {
            gate: Gate::new(),
            in_use: AtomicBool::new(false),
            handed_back: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            lost: AtomicU64::new(0),
            grants: AtomicU64::new(0),
            cancels: AtomicU64::new(0),
        });
        let s2 = s.clone();
        let m = std::thread::spawn(move || {
            let s = &*s2;
            LEAVES.with(|n| n.set(1));
            let mut i = 0u32;
            while !s.stop.load(Relaxed) {
                i = i.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                s.gate.enter(3);
                // Goroutine code: mostly short, sometimes longer than a barrier (~5-16 us
                // here), so that requests meet both leaves and runs.
                if (i >> 20) % 4 == 0 {
                    let t = Instant::now();
                    while t.elapsed() < Duration::from_micros(50) {
                        std::hint::spin_loop();
                    }
                } else {
                    for _ in 0..(i >> 24) % 64 {
                        std::hint::spin_loop();
                    }
                }
                if !s.gate.leave_as(asym, 3) {
                    s.lost.fetch_add(1, SeqCst);
                    // Lost: wait until the processor is handed back (a new owner in real life).
                    while !s.handed_back.swap(false, SeqCst) {
                        std::hint::spin_loop();
                    }
                }
                use_processor(s, (i >> 16) % 32);
            }
        });
        let kept0 = KEPT_AFTER_REQUEST.load(SeqCst);
        let kept = || KEPT_AFTER_REQUEST.load(SeqCst) - kept0;
        let end = Instant::now() + Duration::from_secs(60);
        while Instant::now() < end && !m.is_finished() && (s.grants.load(SeqCst) < want || (asym && kept() < want)) {
            if s.gate.retake_as(asym, 3) {
                s.grants.fetch_add(1, SeqCst);
                use_processor(&s, 100);
                s.handed_back.store(true, SeqCst);
            } else {
                s.cancels.fetch_add(1, SeqCst);
            }
        }
        s.stop.store(true, SeqCst);
        m.join().unwrap();
        let (lost, grants) = (s.lost.load(SeqCst), s.grants.load(SeqCst));
        assert_eq!(lost, grants, "every grant is seen by exactly one failed leave");
        (grants, s.cancels.load(SeqCst), kept())
    }

    /// One test, the two forms in turn (each wants both CPUs).
    #[test]
    fn one_owner_at_a_time() {
        let (grants, cancels, _) = run(false, 5000);
        eprintln!("CAS form: {grants} grants, {cancels} refusals");
        assert!(grants >= 5000, "only {grants} retakes in a minute");
        if !crate::sys::membarrier::register() {
            eprintln!("membarrier(2) refused here: the asymmetric form is not used, not tested");
            return;
        }
        let (grants, cancels, kept) = run(true, 5000);
        eprintln!("asymmetric form: {grants} grants, {cancels} refusals, {kept} leaves that met a request and kept");
        assert!(grants >= 5000, "only {grants} retakes in a minute");
        assert!(kept >= 5000, "only {kept} leaves met a request in a minute: the race was barely exercised");
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;

    /// The CAS form (loom cannot model `membarrier`): an M leaving and the monitor retaking
    /// agree on exactly one owner, and the loser learns it.
    #[test]
    fn leave_or_retake_exactly_one_owner() {
        loom::model(|| {
            let g = Arc::new(Gate::new());
            g.enter(0);
            let g2 = g.clone();
            let monitor = loom::thread::spawn(move || g2.retake(0));
            let kept = g.leave(0);
            let retaken = monitor.join().unwrap();
            assert!(kept != retaken, "kept {kept}, retaken {retaken}");
            assert_eq!(g.run.load(SeqCst), 0);
        });
    }
}
