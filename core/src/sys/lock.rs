//! The runtime's raw lock (`crate::loom::Mutex` outside loom): a test-and-set byte whose
//! uncontended unlock is a plain store, where a futex or parking_lot mutex pays a locked
//! instruction (it must see whether a sleeper is there, and a plain store then a load may be
//! reordered by the CPU). Channel hand-offs take and release a lock twice a hop, so that
//! instruction was one of the five locked ones a hop left (`../sched/README.md`, section
//! 14, "The lock's unlock").
//!
//! `locked` is 1 while held. A thread that finds it held spins ([`SPIN_ROUNDS`]), yields
//! ([`YIELD_ROUNDS`]), then sleeps in `parking_lot_core` (keyed by the lock's
//! address) after counting itself in `sleepers`.
//!
//! **No wake-up lost for longer than a nap.** An unlock stores `locked = 0` (Release), then
//! reads `sleepers` and, if not 0, wakes one sleeper. A sleeper-to-be increments `sleepers` (SeqCst), then makes the
//! increment and every unlock before it meet, and only then checks under the parking bucket's
//! lock that `locked` is still 1 before it sleeps (`validate`):
//!
//! - **Asymmetric** (the default where `membarrier(2)` works, as for the processor gate,
//!   `../sched/gate.rs`): the sleeper issues `membarrier`, a full barrier at some point T in
//!   the program order of every thread of the process. A holder whose unlock store came
//!   before its T: the store is visible when the barrier returns, so `validate` reads 0 (or
//!   a later holder's 1: that holder's unlock is then after its own T, below) and the
//!   sleeper does not sleep. A holder whose unlock store came after its T: so did its load of
//!   `sleepers` (program order, kept by a compiler fence), which sees the increment (done
//!   before the barrier began): it wakes a sleeper. The wake takes the bucket's lock, so it
//!   finds the sleeper queued, or the sleeper's `validate` (under that lock) comes after the
//!   unlock and reads 0. A holder not on a CPU at T passes its barrier when next scheduled.
//!
//!   **The first sleep is a nap.** The barrier costs 5-16 us here and interrupts every CPU
//!   that runs one of our threads, and a wait that reaches the sleep is mostly over soon
//!   after (a holder on another CPU finishing a wake's system call); many threads contending
//!   on one lock would send a storm of those interrupts. So a wait's first sleep skips the
//!   barrier and sleeps at most [`NAP`]: an unlock still sees its count and wakes it, unless
//!   that unlock's load of `sleepers` was served before the increment was visible (the
//!   store-load window of one unlock), a wake the nap's end makes up for. Only a wait that
//!   outlasts a nap (a holder preempted, say) pays the barrier, and then sleeps without a
//!   timeout. So a lost wake-up costs at most one nap, and only in that window.
//! - **Fenced** (no `membarrier`, `GR_MEMBARRIER=0`): the unlock issues a SeqCst fence
//!   between its store and its load, the sleeper one after its increment: the usual Dekker
//!   pair, one of the two sides always sees the other.
//!
//! The form is decided when a runtime starts ([`decide`]) or by the first thread that would
//! sleep before that ([`mode`]); until then unlocks are fenced, so an unlock that read the
//! old mode is correct either way. A woken sleeper counts itself out and competes again (no
//! hand-off: as glibc's and std's mutexes, not fair); `sleepers` is a count, so each
//! sleeper's exit is its own.
//!
//! Not modelled by loom (loom has no `membarrier`; under `cfg(loom)` the runtime's locks are
//! loom's). `tests::contended_sleepers_lose_no_wake` drives many threads through the sleep
//! path in both forms.
//!
//! Lock order and ranks are `crate::loom`'s; this is only the raw mutex under them.

use std::sync::atomic::{compiler_fence, fence, AtomicU32, AtomicU8, Ordering::*};

/// Rounds of spinning on a held lock before a thread yields: round `k` (1-based) pauses
/// `2^k` times, then reads the lock again (14 pauses in all). parking_lot's backoff, which
/// these numbers copy, was measured against longer spins here: a pool's workers spinning
/// on its jobs channel's lock cost it 5-20% (`../sched/README.md`, section 13, item 2), and
/// a contended fan-in without the yields ran at half speed (`../chan/README.md`).
const SPIN_ROUNDS: u32 = 3;
/// Then `sched_yield`s, one per round, before sleeping: a holder preempted on this CPU runs.
const YIELD_ROUNDS: u32 = 7;

/// The longest a first sleep lasts in the asymmetric form (module docs, "The first sleep
/// is a nap").
const NAP: std::time::Duration = std::time::Duration::from_micros(50);

/// [`mode`]: not decided yet (unlocks fence).
const UNDECIDED: u8 = 0;
/// [`mode`]: sleepers issue `membarrier`; unlocks are plain.
const ASYM: u8 = 1;
/// [`mode`]: unlocks and sleepers fence.
const FENCED: u8 = 2;

static MODE: AtomicU8 = AtomicU8::new(UNDECIDED);

/// Decides the form now (the runtime's start calls this, so that its unlocks are plain from
/// the first; `gr_init` registers the process for `membarrier` there anyway, for the gate).
pub(crate) fn decide() {
    mode();
}

/// The form in use, deciding it on the first call (module docs). Monotonic: once `ASYM` or
/// `FENCED`, it never changes.
#[cold]
fn mode() -> u8 {
    let m = MODE.load(Acquire);
    if m != UNDECIDED {
        return m;
    }
    let off = std::env::var_os("GR_MEMBARRIER").is_some_and(|v| v == "0");
    let want = if !off && super::membarrier::register() { ASYM } else { FENCED };
    match MODE.compare_exchange(UNDECIDED, want, AcqRel, Acquire) {
        Ok(_) => want,
        Err(m) => m,
    }
}

/// An unlock's tail, after the store that freed the lock: the barrier of the form in use
/// between that store and the load of `sleepers`, then a wake if anyone sleeps (module docs).
/// A macro, not a function: shared through an inline helper, it moved LLVM's inlining in the
/// M's loop (`spinner_stopped` called at 32 sites instead of inlined: +20 instructions a
/// ping-pong round trip, callgrind).
macro_rules! released {
    ($lock:expr) => {{
        if RawLock::fenced() {
            fence(SeqCst);
        } else {
            // Program order between the store and the load; the CPU's reordering of them is
            // what a sleeper's barrier covers (module docs).
            compiler_fence(SeqCst);
        }
        if $lock.sleepers.load(Relaxed) != 0 {
            $lock.wake_one();
        }
    }};
}

/// The runtime's raw mutex (module docs). Two words: the lock byte and the sleeper count,
/// kept apart so that the unlock's plain store never overwrites a count.
pub struct RawLock {
    locked: AtomicU8,
    sleepers: AtomicU32,
}

impl RawLock {
    /// Whether an unlock must fence (the mode is not `ASYM`).
    #[inline(always)]
    fn fenced() -> bool {
        MODE.load(Relaxed) != ASYM
    }

    #[cold]
    #[inline(never)]
    fn lock_slow(&self) {
        let mut round = 0u32;
        let mut napped = false;
        loop {
            if self.locked.load(Relaxed) == 0 && self.locked.compare_exchange_weak(0, 1, Acquire, Relaxed).is_ok() {
                return;
            }
            round += 1;
            if round <= SPIN_ROUNDS {
                for _ in 0..1u32 << round {
                    std::hint::spin_loop();
                }
            } else if round <= SPIN_ROUNDS + YIELD_ROUNDS {
                std::thread::yield_now();
            } else {
                self.sleep(!napped);
                napped = true;
                round = 0;
            }
        }
    }

    /// Sleeps until an unlock wakes this thread, unless the lock is free by the time the
    /// sleep would begin (module docs: the increment, the barrier, `validate`); a `nap`
    /// (the first sleep of a wait, asymmetric form) skips the barrier and sleeps at most
    /// [`NAP`] (module docs, "The first sleep is a nap").
    #[cold]
    fn sleep(&self, nap: bool) {
        self.sleepers.fetch_add(1, SeqCst);
        let mut timeout = None;
        if mode() == ASYM {
            // A nap skips the barrier. A refused barrier (registered, as the mode is ASYM only
            // then, and refused now: a seccomp filter installed since) leaves only naps safe,
            // unlocks that read ASYM being plain.
            if nap || !super::membarrier::barrier() {
                timeout = Some(std::time::Instant::now() + NAP);
            }
        } else {
            fence(SeqCst);
        }
        #[cfg(test)]
        tests::SLEEPS[timeout.is_some() as usize].fetch_add(1, Relaxed);
        let key = self as *const RawLock as usize;
        // SAFETY: the key is this lock's address, which no other parking_lot_core user
        // parks on (every runtime lock is a `RawLock`, one address each); `validate` runs
        // under the bucket's lock and only reads our atomics; the callbacks do not panic
        // and do not park.
        unsafe {
            parking_lot_core::park(
                key,
                || self.locked.load(Relaxed) != 0,
                || {},
                |_, _| {},
                parking_lot_core::DEFAULT_PARK_TOKEN,
                timeout,
            );
        }
        self.sleepers.fetch_sub(1, Relaxed);
    }

    /// Unlocks with a locked instruction (a swap), then as `unlock` does. For the M's release
    /// of a channel lock its goroutine handed over as it parked (`chan::HandedLock`): measured there, the plain store of
    /// [`lock_api::RawMutex::unlock`] made `gr_bench ring 2000000 2` 3-5% slower (6 and 8
    /// alternated pairs, 0.95-1.00 paired with the swap, same instruction count), and no
    /// other workload moved either way; why was not found (perf shows no single hot spot).
    ///
    /// # Safety
    /// As for `unlock`: the lock is held, by the caller's thread or a goroutine it ran.
    #[inline]
    pub(crate) unsafe fn unlock_swap(&self) {
        self.locked.swap(0, Release);
        // (The barrier too: the swap is a fence on x86 but not in Rust's memory model.)
        released!(self);
    }

    #[cold]
    #[inline(never)]
    fn wake_one(&self) {
        let key = self as *const RawLock as usize;
        // SAFETY: as in `sleep`: our key, a callback that only returns a token.
        unsafe {
            parking_lot_core::unpark_one(key, |_| parking_lot_core::DEFAULT_UNPARK_TOKEN);
        }
    }
}

// SAFETY: `lock`/`try_lock` succeed only for the one thread whose compare-exchange took
// `locked` from 0 to 1 (Acquire), and `unlock` (by the holder, the trait's contract) stores
// 0 with Release: mutual exclusion with the holder's writes visible to the next holder.
// A sleeper is woken by the next unlock, or (a nap's lost wake-up) at the nap's end at the
// latest (module docs), so a waiter waits only while the lock is held, or a nap more.
unsafe impl lock_api::RawMutex for RawLock {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: RawLock = RawLock { locked: AtomicU8::new(0), sleepers: AtomicU32::new(0) };
    type GuardMarker = lock_api::GuardSend;

    #[inline]
    fn lock(&self) {
        if self.locked.compare_exchange_weak(0, 1, Acquire, Relaxed).is_err() {
            self.lock_slow();
        }
    }

    #[inline]
    fn try_lock(&self) -> bool {
        self.locked.compare_exchange(0, 1, Acquire, Relaxed).is_ok()
    }

    #[inline]
    unsafe fn unlock(&self) {
        self.locked.store(0, Release);
        released!(self);
    }

    #[inline]
    fn is_locked(&self) -> bool {
        self.locked.load(Relaxed) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lock_api::RawMutex as _;
    use std::sync::Arc;

    type M<T> = lock_api::Mutex<RawLock, T>;

    /// Sleeps begun by any lock of this process: full sleeps, naps (the tests check that
    /// both paths ran).
    pub(super) static SLEEPS: [std::sync::atomic::AtomicUsize; 2] =
        [std::sync::atomic::AtomicUsize::new(0), std::sync::atomic::AtomicUsize::new(0)];

    /// Many threads on one lock, far more than CPUs, each holding it across a yield now and
    /// then so that waiters exhaust their spins and sleep: every increment lands and the test
    /// ends (a lost wake-up would leave a sleeper until the test's timeout). Both forms.
    fn hammer(threads: usize, per: usize) {
        let slept = [SLEEPS[0].load(SeqCst), SLEEPS[1].load(SeqCst)];
        let m = Arc::new(M::new(0u64));
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                let m = m.clone();
                std::thread::spawn(move || {
                    for i in 0..per {
                        let mut g = m.lock();
                        *g += 1;
                        if (i + t) % 64 == 0 {
                            std::thread::yield_now();
                        }
                        if (i + t) % 1024 == 0 {
                            std::thread::sleep(std::time::Duration::from_micros(200));
                        }
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(*m.lock(), (threads * per) as u64);
        // SAFETY: only read, not locked or unlocked through (`raw`'s contract).
        assert_eq!(unsafe { m.raw() }.sleepers.load(SeqCst), 0);
        // A wait's first sleep is a nap in the asymmetric form (a full sleep in the fenced
        // one); holders that sleep 200 us under the lock make naps run out.
        assert!(SLEEPS[0].load(SeqCst) > slept[0], "no waiter slept without a timeout");
        if MODE.load(SeqCst) == ASYM {
            assert!(SLEEPS[1].load(SeqCst) > slept[1], "no waiter napped");
        }
    }

    #[test]
    fn contended_sleepers_lose_no_wake() {
        hammer(16, 20_000);
        // The first sleeper decided the form: fenced when told so (the child run below).
        let m = MODE.load(SeqCst);
        let off = std::env::var_os("GR_MEMBARRIER").is_some_and(|v| v == "0");
        assert!(m == if off { FENCED } else { ASYM } || (!off && m == FENCED && !super::super::membarrier::register()), "form {m}");
    }

    /// The fenced form, in a child process of this test binary (the form is per process and
    /// never goes back from `ASYM`, which other tests' locks here rely on).
    #[test]
    fn fenced_form_loses_no_wake() {
        if std::env::var_os("GR_MEMBARRIER").is_some() {
            return; // the child itself
        }
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "sys::lock::tests::contended_sleepers_lose_no_wake", "--test-threads=1"])
            .env("GR_MEMBARRIER", "0")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && text.contains("1 passed"), "child: {text}{}", String::from_utf8_lossy(&out.stderr));
    }

    #[test]
    fn try_lock_and_is_locked() {
        let r = RawLock::INIT;
        assert!(!r.is_locked());
        assert!(r.try_lock());
        assert!(r.is_locked());
        assert!(!r.try_lock());
        // SAFETY: held by this thread (the `try_lock` above).
        unsafe { r.unlock() };
        assert!(r.try_lock());
        // SAFETY: as above.
        unsafe { r.unlock() };
    }
}
