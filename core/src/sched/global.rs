//! The global run queue: a crossbeam `Injector`, and before it a *slot* for one goroutine,
//! where a plain thread's wake of a goroutine goes (`Runtime::ready_foreign`) when the
//! injector is empty.
//!
//! Why: a plain thread that talks to a goroutine (`gr_bench pingpong_thread`, a C or Java
//! thread's channel round trip) queues the goroutine it woke here, and the M holding its
//! processor in step 6b (`README.md` section 3) takes it at its next round. Through the
//! injector that is the tail's compare-exchange and then the block slot's write and state
//! (two lines the thread must own in turn, the M having read both at its last take), and on
//! the M's side the tail's line, then the slot's: two dependent transfers each way, on the
//! critical path of every round trip (`README.md` section 13), and a block allocated and
//! freed every 63 wakes. Through the slot it is one line: the thread's compare-exchange,
//! the M's load and swap.
//!
//! Protocol (the slot is part of the global queue for every rule that names it):
//! - `push_one` fills the slot only while it is empty (compare-exchange from null, SeqCst)
//!   and the injector looks empty, else it pushes to the injector: so the slot never holds
//!   a goroutine behind one the injector held when it was filled, and a stream of wakes
//!   cannot starve the injector (takers look at the slot first).
//! - A taker (`steal_batch_and_pop`, `steal`) loads the slot and swaps it to null only if
//!   it is full: of several takers exactly one gets its goroutine (the swap), and each
//!   goroutine queued is owned by exactly one `GRef` count, the slot's or the injector's.
//! - `is_empty` reads the slot (SeqCst) and the injector: a submitter's fill is a SeqCst
//!   write before its `wakep` fence, as the injector's push is, so section 3's argument
//!   (no stranded work) holds unchanged: the "give up" re-check sees the slot's fill or the
//!   submitter sees the spinner's uncounting. `loom_tests` checks the slot's own rules.
// (A queue module: a goroutine's count crosses the slot as a raw pointer, `unsafe` below.)

use crate::goroutine::{GRef, G};
use crossbeam_deque::{Injector, Steal, Worker};
use crossbeam_utils::CachePadded;
use std::sync::atomic::AtomicPtr;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};

pub(crate) struct Global {
    /// One goroutine queued by a plain thread's wake (its `GRef` count, `GRef::into_raw`),
    /// or null. On a line of its own: the holding M reads it every round.
    one: CachePadded<AtomicPtr<G>>,
    q: Injector<GRef>,
}

impl Global {
    pub(crate) fn new() -> Global {
        Global { one: CachePadded::new(AtomicPtr::new(std::ptr::null_mut())), q: Injector::new() }
    }

    /// Queues `g` at the back of the injector.
    #[inline]
    pub(crate) fn push(&self, g: GRef) {
        self.q.push(g);
    }

    /// Queues `g` woken by a plain thread: into the slot if it and the injector are empty,
    /// else as [`Global::push`].
    #[inline]
    pub(crate) fn push_one(&self, g: GRef) {
        let p = GRef::into_raw(g) as *mut G;
        if self.one.load(Relaxed).is_null() && self.q.is_empty() && self.one.compare_exchange(std::ptr::null_mut(), p, SeqCst, Relaxed).is_ok() {
            return;
        }
        // SAFETY: `p` came from `into_raw` above and was not published (the exchange failed
        // or was not tried): we still own its count.
        self.q.push(unsafe { GRef::from_raw(p) });
    }

    /// The slot's goroutine, if it holds one (exactly one taker gets it).
    #[inline]
    fn take_one(&self) -> Option<GRef> {
        if self.one.load(Relaxed).is_null() {
            return None;
        }
        let p = self.one.swap(std::ptr::null_mut(), SeqCst);
        if p.is_null() {
            return None;
        }
        // SAFETY: a non-null slot holds the count `push_one` leaked with `into_raw`, and the
        // swap made us its only taker.
        Some(unsafe { GRef::from_raw(p) })
    }

    /// Nothing queued (a snapshot; SeqCst loads, for section 3's re-checks).
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.one.load(SeqCst).is_null() && self.q.is_empty()
    }

    /// How many goroutines are queued (a snapshot).
    pub(crate) fn len(&self) -> usize {
        self.q.len() + usize::from(!self.one.load(SeqCst).is_null())
    }

    /// The slot's goroutine, else the injector's `steal_batch_and_pop` into `w`.
    #[inline]
    pub(crate) fn steal_batch_and_pop(&self, w: &Worker<GRef>) -> Steal<GRef> {
        if let Some(g) = self.take_one() {
            return Steal::Success(g);
        }
        self.q.steal_batch_and_pop(w)
    }

    /// The slot's goroutine, else one from the injector.
    pub(crate) fn steal(&self) -> Steal<GRef> {
        if let Some(g) = self.take_one() {
            return Steal::Success(g);
        }
        self.q.steal()
    }
}

impl Drop for Global {
    fn drop(&mut self) {
        drop(self.take_one()); // (its count, as the injector drops those it holds)
    }
}

/// The slot's rules on loom's atomics: two wakers fill it (or, when full, the injector:
/// a mutex-guarded list here) while two takers empty it; every goroutine is taken exactly
/// once and none is left behind once all are done.
#[cfg(all(test, loom))]
mod loom_tests {
    use loom::sync::atomic::AtomicUsize;
    use loom::sync::{Arc, Mutex};
    use std::sync::atomic::Ordering::{Relaxed, SeqCst};

    struct Model {
        one: AtomicUsize,
        q: Mutex<Vec<usize>>,
    }

    impl Model {
        fn push_one(&self, g: usize) {
            if self.one.load(Relaxed) == 0 && self.q.lock().unwrap().is_empty() && self.one.compare_exchange(0, g, SeqCst, Relaxed).is_ok() {
                return;
            }
            self.q.lock().unwrap().push(g);
        }
        fn take(&self) -> Option<usize> {
            if self.one.load(Relaxed) != 0 {
                let g = self.one.swap(0, SeqCst);
                if g != 0 {
                    return Some(g);
                }
            }
            self.q.lock().unwrap().pop()
        }
    }

    #[test]
    fn slot_loses_and_duplicates_nothing() {
        loom::model(|| {
            let m = Arc::new(Model { one: AtomicUsize::new(0), q: Mutex::new(Vec::new()) });
            let wakers: Vec<_> = [1usize, 2]
                .into_iter()
                .map(|g| {
                    let m = m.clone();
                    loom::thread::spawn(move || m.push_one(g))
                })
                .collect();
            let takers: Vec<_> = (0..2)
                .map(|_| {
                    let m = m.clone();
                    loom::thread::spawn(move || m.take())
                })
                .collect();
            for w in wakers {
                w.join().unwrap();
            }
            let mut got: Vec<usize> = takers.into_iter().filter_map(|t| t.join().unwrap()).collect();
            while let Some(g) = m.take() {
                got.push(g);
            }
            got.sort();
            assert_eq!(got, vec![1, 2]);
        });
    }
}
