//! The one place atomics and locks come from. Under `cfg(loom)` they are loom's model-checked
//! versions, so the protocols in `sched/state.rs` and `waiter.rs` can be explored exhaustively.
//!
//! Every runtime lock is a [`Mutex`] with its rank in the lock order as a type parameter (the
//! table is `sched/README.md`, "Lock order"; the ranks are [`rank`]). Debug builds check
//! every acquisition against the locks the thread already holds and panic on one out of
//! order ([`rank::Held`]); release builds compile the check away.
#![forbid(unsafe_code)]

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize};
#[cfg(loom)]
pub(crate) use loom::sync::Arc;
#[cfg(loom)]
use loom::sync as raw;

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize};
#[cfg(not(loom))]
#[allow(unused_imports)]
pub(crate) use std::sync::Arc;
/// The runtime's short critical sections (channels, wait lists, scheduler lists) use
/// `sys::lock::RawLock` under lock_api's `Mutex`: it spins, then sleeps in parking_lot's
/// parking lot, so an unlock makes no system call unless someone sleeps, and its unlock is a
/// plain store (the sleeper pays a `membarrier` instead; `sys/lock.rs`). It replaced
/// parking_lot's mutex, whose unlock is a compare-exchange (`sched/README.md`, section 14,
/// "The lock's unlock"). std's futex mutex, once two cores contend, leaves the lock marked
/// contended and pays a `futex_wake` on nearly every unlock (measured: 4x slower fan-in on
/// 2 workers than on 1).
#[cfg(not(loom))]
mod raw {
    pub(crate) type Mutex<T> = lock_api::Mutex<crate::sys::lock::RawLock, T>;
    pub(crate) type MutexGuard<'a, T> = lock_api::MutexGuard<'a, crate::sys::lock::RawLock, T>;
}

use std::ops::{Deref, DerefMut};

/// A runtime lock of rank `RANK` (one of [`rank`]'s constants).
#[derive(Default)]
pub(crate) struct Mutex<T, const RANK: u8> {
    m: raw::Mutex<T>,
}

/// The guard of a [`Mutex`]: its rank stays recorded (debug builds) until it drops.
pub(crate) struct MutexGuard<'a, T, const RANK: u8> {
    g: raw::MutexGuard<'a, T>,
    _rank: rank::Held,
}

impl<T, const RANK: u8> Mutex<T, RANK> {
    pub(crate) fn new(v: T) -> Self {
        Mutex { m: raw::Mutex::new(v) }
    }

    /// The data of a mutex nobody else can reach yet (`&mut`): no locked instruction.
    #[inline]
    pub(crate) fn get_mut(&mut self) -> &mut T {
        #[cfg(not(loom))]
        return self.m.get_mut();
        #[cfg(loom)]
        return match self.m.get_mut() {
            Ok(v) => v,
            Err(p) => p.into_inner(),
        };
    }

    /// Where the data lies, for address arithmetic only (a prefetch: `chan/mod.rs`); never
    /// dereferenced through this.
    #[cfg(not(loom))]
    #[inline(always)]
    pub(crate) fn data_addr(&self) -> *const u8 {
        self.m.data_ptr() as *const u8
    }

    /// The lock if it is free now (no waiting).
    #[cfg(not(loom))]
    #[inline]
    pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, T, RANK>> {
        let g = self.m.try_lock()?;
        Some(MutexGuard { g, _rank: rank::Held::enter(RANK, self as *const Self as usize) })
    }
}

impl<'a, T, const RANK: u8> MutexGuard<'a, T, RANK> {
    /// The raw guard, this guard's rank record gone (debug builds): for a lock that another
    /// frame on this thread releases (a channel's lock handed to the M: `chan::HandedLock`).
    #[cfg(not(loom))]
    #[inline(always)]
    pub(crate) fn into_raw_guard(self) -> raw::MutexGuard<'a, T> {
        let MutexGuard { g, _rank } = self;
        g
    }
}

impl<T, const RANK: u8> Deref for MutexGuard<'_, T, RANK> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.g
    }
}

impl<T, const RANK: u8> DerefMut for MutexGuard<'_, T, RANK> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.g
    }
}

/// Locks a mutex. (No poisoning with parking_lot; under loom, a poisoned lock's data is
/// used as is: every critical section leaves its data consistent before anything that can
/// panic.)
#[inline]
pub(crate) fn lock<T, const RANK: u8>(m: &Mutex<T, RANK>) -> MutexGuard<'_, T, RANK> {
    // Checked before waiting: an out-of-order acquisition panics instead of deadlocking.
    let held = rank::Held::enter(RANK, m as *const Mutex<T, RANK> as usize);
    #[cfg(not(loom))]
    let g = m.m.lock();
    #[cfg(loom)]
    let g = match m.m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    MutexGuard { g, _rank: held }
}

/// Lock ranks: a thread may take a lock only if its level (`rank / 10`) is above that of
/// every lock it holds; locks of one level never nest, except channel locks, taken in
/// increasing address order. The table, with why each edge exists, is `sched/README.md`,
/// "Lock order".
pub(crate) mod rank {
    /// `Chan::inner` (several at once only in increasing address order: select).
    pub(crate) const CHAN: u8 = 30;
    /// `sync::Mutex::q`.
    pub(crate) const SYNC_MUTEX: u8 = 31;
    /// `WaitGroup::inner`.
    pub(crate) const WAIT_GROUP: u8 = 32;
    /// `BoundSlots::waiters`: spawns of bound goroutines waiting for a thread slot.
    pub(crate) const BOUND_SLOTS: u8 = 33;
    /// `RWMutex::q`.
    pub(crate) const RWMUTEX: u8 = 34;
    /// `Cond::q`.
    pub(crate) const COND: u8 = 35;
    /// `Semaphore::q`.
    pub(crate) const SEMAPHORE: u8 = 36;
    /// `Once::q`.
    pub(crate) const ONCE: u8 = 37;
    /// `Group`'s `q`.
    pub(crate) const GROUP: u8 = 38;
    /// `G::join`.
    pub(crate) const JOIN: u8 = 40;
    /// A cancel token's (context's) `Node::inner`.
    pub(crate) const CANCEL: u8 = 41;
    /// `netpoll::desc::Desc::inner`, a descriptor's waiter lists.
    pub(crate) const DESC: u8 = 42;
    /// `port::Port::q`, a completion port's queue (taken under the channel lock by a
    /// completion it posts).
    pub(crate) const PORT: u8 = 43;
    /// `Runtime::idle.lists`, the scheduler lock.
    pub(crate) const SCHED: u8 = 50;
    /// `M::inbox`.
    pub(crate) const INBOX: u8 = 60;
    /// `M::yielded`.
    pub(crate) const YIELDED: u8 = 61;
    /// `Timers::heap`.
    pub(crate) const TIMERS: u8 = 70;
    /// `Runtime::ms`, the runtime's threads.
    pub(crate) const THREADS: u8 = 80;
    /// `GlobalPool::free`, the stack pool.
    pub(crate) const STACKS: u8 = 90;

    /// A lock this thread holds, recorded until dropped (debug builds, outside loom, whose
    /// model threads share OS threads; a no-op otherwise).
    pub(crate) struct Held {
        #[cfg(all(debug_assertions, not(loom)))]
        at: (u8, usize),
    }

    #[cfg(all(debug_assertions, not(loom)))]
    thread_local! {
        static HELD: std::cell::RefCell<Vec<(u8, usize)>> = const { std::cell::RefCell::new(Vec::new()) };
    }

    impl Held {
        /// Records that this thread takes the lock at `addr` of rank `rank`; panics if that
        /// breaks the order.
        #[inline]
        pub(crate) fn enter(rank: u8, addr: usize) -> Held {
            #[cfg(all(debug_assertions, not(loom)))]
            {
                // (`try_with`: a thread-local destructor may take a lock after `HELD` is gone,
                // e.g. a thread's `ThreadWait` waking the monitor as the thread exits.)
                let _ = HELD.try_with(|h| {
                    let mut h = h.borrow_mut();
                    for &(r, a) in h.iter() {
                        let ok = rank / 10 > r / 10 || (rank == CHAN && r == CHAN && addr > a);
                        assert!(ok, "gr: lock order: taking a lock of rank {rank} at {addr:#x} while holding one of rank {r} at {a:#x} (sched/README.md, \"Lock order\")");
                    }
                    h.push((rank, addr));
                });
                Held { at: (rank, addr) }
            }
            #[cfg(not(all(debug_assertions, not(loom))))]
            {
                let _ = (rank, addr);
                Held {}
            }
        }

        /// Debug builds: panics if this thread holds a runtime lock (`what` may not run under
        /// one: a park, a yield, a call into foreign code).
        #[inline]
        pub(crate) fn assert_none(what: &str) {
            #[cfg(all(debug_assertions, not(loom)))]
            HELD.with(|h| {
                let h = h.borrow();
                assert!(h.is_empty(), "gr: lock order: {what} while holding the locks {h:x?} (sched/README.md, \"Lock order\")");
            });
            #[cfg(not(all(debug_assertions, not(loom))))]
            let _ = what;
        }
    }

    #[cfg(all(debug_assertions, not(loom)))]
    impl Drop for Held {
        fn drop(&mut self) {
            // Guards may drop in any order (select unlocks its channels front to back).
            let _ = HELD.try_with(|h| {
                let mut h = h.borrow_mut();
                if let Some(i) = h.iter().rposition(|&e| e == self.at) {
                    h.remove(i);
                }
            });
        }
    }
}

#[cfg(all(test, debug_assertions, not(loom)))]
mod tests {
    use super::{lock, rank, Mutex};

    #[test]
    fn in_order_is_fine_and_out_of_order_panics() {
        let sched: Mutex<(), { rank::SCHED }> = Mutex::new(());
        let timers: Mutex<(), { rank::TIMERS }> = Mutex::new(());
        {
            let _a = lock(&sched);
            let _b = lock(&timers);
        }
        let r = std::thread::spawn(move || {
            let _b = lock(&timers);
            let _a = lock(&sched); // SCHED under TIMERS: out of order
        })
        .join();
        assert!(r.is_err(), "an out-of-order acquisition must panic in debug builds");
    }

    #[test]
    fn channels_nest_only_in_address_order() {
        let chans: [Mutex<(), { rank::CHAN }>; 2] = [Mutex::new(()), Mutex::new(())];
        let (lo, hi) = (&chans[0], &chans[1]);
        {
            let _a = lock(lo);
            let _b = lock(hi);
        }
        let r = std::thread::scope(|s| {
            s.spawn(|| {
                let _b = lock(hi);
                let _a = lock(lo);
            })
            .join()
        });
        assert!(r.is_err(), "channel locks out of address order must panic");
        let wg: Mutex<(), { rank::WAIT_GROUP }> = Mutex::new(());
        let r = std::thread::scope(|s| {
            s.spawn(|| {
                let _a = lock(lo);
                let _w = lock(&wg); // equal rank, not a channel: never nests
            })
            .join()
        });
        assert!(r.is_err(), "equal ranks other than channels must not nest");
    }
}
