//! The wait list every blocking primitive queues its waiters on: a FIFO with O(1) push at
//! either end, O(1) pop from the front, and O(1) removal of any entry by the [`Key`] its push
//! returned (Go's doubly linked `sudog` queues, kept in a slab instead of on the heap).
//!
//! Channels (`chan/waitq.rs`: senders, receivers, select cases), WaitGroup, Mutex, cancel
//! tokens and the join list of a goroutine use it; a new primitive gets O(1) withdrawal of a
//! timed-out or cancelled waiter by following the protocol below.
//!
//! # Layout
//! Entries live in `inline` (for `WaitList<T, 1>`: one slot inside the list itself, index
//! `INLINE`) and in `slots`; occupied slots form a doubly linked list by index (`head`; the
//! head's `prev` is the tail, so the list needs no `tail` field), vacant slots of `slots` a
//! singly linked free list (`free`); the inline slot is vacant iff its generation is 0, and
//! is never on the free list. A push takes the inline slot when it is vacant. A key is
//! `(slot index, generation)`.
//!
//! Why inline: the list lives inside its owner (a channel), whose lock's line a completer on
//! another CPU fetches first; a slab entry's address depends on `slots` and `head`, read from
//! that line, so it was a second miss *after* the first. The inline slot lies at a fixed
//! offset from the lock: its line can be fetched together with the lock's
//! ([`WaitList::INLINE_OFFSET`], `chan/mod.rs` `Chan::lock_for`), and the common queue of one
//! waiter never touches the slab (`chan/README.md`, "Hand-off to a thread").
//!
//! # Invariants
//! 1. Every occupied slot is on the entry list exactly once, every vacant slot of `slots` on
//!    the free list exactly once; `head == NIL` iff the list is empty.
//! 2. Generations are unique within a list: each push takes the next value of the list's
//!    64-bit counter, which never goes back (it survives shrinking, below). An occupied slot
//!    holds its entry's generation; a vacant one holds 0, which no key has.
//! 3. So a key names one entry for ever: [`WaitList::remove`] with the key of an entry that
//!    already left (popped, removed) returns `None` and changes nothing, even after its slot
//!    was reused. A list must therefore never be *replaced* while keys into it are
//!    outstanding (`std::mem::take` would restart the counter): empty it with
//!    [`WaitList::pop_front`] or [`WaitList::drain`] instead.
//! 4. FIFO: `pop_front` returns entries in `push_back` order; `push_front` puts an entry
//!    before all others (a mutex waiter that lost the race for the lock keeps its turn).
//! 5. Memory: a list that grew past `SHRINK_AT` slots gives them back when it becomes empty,
//!    so a burst of 100,000 waiters does not pin its memory for the object's lifetime. The
//!    cost is amortised over the pushes that grew it.
//!
//! The list is plain data: its owner guards it with a lock (a channel's, a mutex's queue
//! lock...), and every method runs under that lock.
//!
//! # The withdraw protocol (how a primitive uses it)
//! With `L` the primitive's lock and `tok` the waiter's wait token (`waiter.rs`):
//! 1. Owner, under `L`: `key = list.push_back(entry(tok))`; unlock; `block(tok)`.
//! 2. Completer, under `L`: `pop_front` until `tok.complete(..)` succeeds for a popped entry
//!    (entries whose wait already ended fail the CAS and are dropped), or `drain` and
//!    complete all.
//! 3. Owner woken by its own cause (timeout, cancel, another case of its select): lock `L`,
//!    `list.remove(key)` (`None` if a completer popped it meanwhile), unlock.
//!
//! Safety argument for entries that borrow from the owner's frame (a channel's element
//! pointer, `done` flag, the select's token): an entry is in the list only between steps 1
//! and 3, or until a completer pops it in step 2, always under `L`; the owner leaves its frame
//! only after step 3 (which needs `L`, so it waits for a completer's critical section that
//! holds a popped entry) or after the winning completer released it (channels' `done` flag).
//! So no completer ever reaches an entry whose owner has left. And no entry outlives its
//! wait for long: there are no stale entries beyond the owners between their wake-up and
//! step 3 (no lazy sweeping, no scan).
//!
//! `loom_tests` below model-checks removal racing a completer.
#![forbid(unsafe_code)]

const NIL: u32 = u32::MAX;

/// Slots a list keeps when it becomes empty; beyond this it frees them.
const SHRINK_AT: usize = 1024;

/// Names one entry of one [`WaitList`] (see invariant 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    idx: u32,
    gen: u64,
}

impl Key {
    /// A key that names no entry (for arrays of keys filled later).
    pub const NONE: Key = Key { idx: NIL, gen: 0 };
}

/// One slot: an entry and its links.
struct Entry<T> {
    /// The entry's generation; 0 while vacant.
    gen: u64,
    /// Occupied: the previous entry (the head's is the tail). Vacant: unused.
    prev: u32,
    /// Occupied: the next entry (NIL at the tail). Vacant: the next free slot.
    next: u32,
    val: Option<T>,
}

impl<T> Entry<T> {
    const VACANT: Entry<T> = Entry { gen: 0, prev: NIL, next: NIL, val: None };
}

/// A slab slot. A channel's entry is 48 bytes (a 32-byte `Sudog` and the links), so three
/// lines hold four slots, and half the slots span two lines, which a completer on another
/// CPU fetches side by side, not one after the other. (Slots were line-aligned, 64 bytes,
/// when the entry was 56: padding that cost every parked goroutine 16 bytes, `gr_bench
/// parked1m`.)
#[repr(align(16))]
struct Slot<T>(Entry<T>);

/// The index of the inline slot (never a slab index: the slab stops below it).
const INLINE: u32 = NIL - 1;

/// A FIFO of waiters with O(1) removal by key. See the module docs. `N`: inline slots, 0 or
/// 1 (a channel's queues have one; the lists inside every goroutine and sync object none,
/// which keeps them small). `repr(C)`: the head and the inline slot first, so that they lie
/// next to what precedes the list in its owner (a channel's lock).
#[repr(C)]
pub struct WaitList<T, const N: usize = 0> {
    head: u32,
    free: u32,
    inline: [Entry<T>; N],
    slots: Vec<Slot<T>>,
    gen: u64,
}

impl<T, const N: usize> Default for WaitList<T, N> {
    fn default() -> Self {
        WaitList::new()
    }
}

impl<T, const N: usize> WaitList<T, N> {
    pub const fn new() -> WaitList<T, N> {
        const { assert!(N <= 1, "a wait list has at most one inline slot") };
        WaitList { head: NIL, free: NIL, inline: [Entry::VACANT; N], slots: Vec::new(), gen: 0 }
    }

    /// The inline slot's offset in the list (for a prefetch of its line: module docs).
    pub const INLINE_OFFSET: usize = std::mem::offset_of!(WaitList<T, N>, inline);
    /// The inline slot's size.
    pub const INLINE_SIZE: usize = std::mem::size_of::<Entry<T>>();

    #[inline(always)]
    fn at(&self, i: u32) -> &Entry<T> {
        if N > 0 && i == INLINE {
            &self.inline[0]
        } else {
            &self.slots[i as usize].0
        }
    }

    #[inline(always)]
    fn at_mut(&mut self, i: u32) -> &mut Entry<T> {
        if N > 0 && i == INLINE {
            &mut self.inline[0]
        } else {
            &mut self.slots[i as usize].0
        }
    }

    /// The slot `key` names, if that index exists.
    #[inline(always)]
    fn get(&self, key: Key) -> Option<&Entry<T>> {
        let exists = (N > 0 && key.idx == INLINE) || (key.idx as usize) < self.slots.len();
        exists.then(|| self.at(key.idx))
    }

    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.head == NIL
    }

    /// The oldest entry.
    #[inline]
    pub fn front(&self) -> Option<&T> {
        if self.head == NIL {
            return None;
        }
        self.at(self.head).val.as_ref()
    }

    /// Appends `v`; its key removes it later.
    #[inline(always)]
    pub fn push_back(&mut self, v: T) -> Key {
        let (idx, key) = self.alloc(v);
        if self.head == NIL {
            self.link_only(idx);
        } else {
            let h = self.head;
            let t = self.at(h).prev;
            self.at_mut(t).next = idx;
            let s = self.at_mut(idx);
            s.prev = t;
            s.next = NIL;
            self.at_mut(h).prev = idx;
        }
        key
    }

    /// Puts `v` before every other entry.
    pub fn push_front(&mut self, v: T) -> Key {
        let (idx, key) = self.alloc(v);
        if self.head == NIL {
            self.link_only(idx);
        } else {
            let h = self.head;
            let t = self.at(h).prev;
            let s = self.at_mut(idx);
            s.prev = t;
            s.next = h;
            self.at_mut(h).prev = idx;
            self.head = idx;
        }
        key
    }

    /// Removes and returns the oldest entry.
    #[inline(always)]
    pub fn pop_front(&mut self) -> Option<T> {
        if self.head == NIL {
            return None;
        }
        Some(self.unlink(self.head))
    }

    /// Removes the entry `key` names, if it is still here (else `None`: it was popped or
    /// removed already; nothing changes).
    #[inline(always)]
    pub fn remove(&mut self, key: Key) -> Option<T> {
        let s = self.get(key)?;
        if s.gen != key.gen {
            return None; // vacant (gen 0) or reused by a later entry
        }
        Some(self.unlink(key.idx))
    }

    /// Whether the entry `key` names is still here.
    pub fn contains(&self, key: Key) -> bool {
        self.get(key).is_some_and(|s| s.gen == key.gen)
    }

    /// Removes every entry, oldest first (keeps the generation counter: invariant 3).
    pub fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        std::iter::from_fn(move || self.pop_front())
    }

    /// Entries now (O(n): for tests and diagnostics).
    pub fn len(&self) -> usize {
        let mut n = 0;
        let mut i = self.head;
        while i != NIL {
            n += 1;
            i = self.at(i).next;
        }
        n
    }

    /// Takes a vacant slot for `v` (not linked yet).
    #[inline(always)]
    fn alloc(&mut self, v: T) -> (u32, Key) {
        self.gen += 1;
        let gen = self.gen;
        let idx = if N > 0 && self.inline[0].gen == 0 {
            self.inline[0].gen = gen;
            self.inline[0].val = Some(v);
            INLINE
        } else if self.free != NIL {
            let i = self.free;
            let s = &mut self.slots[i as usize].0;
            self.free = s.next;
            s.gen = gen;
            s.val = Some(v);
            i
        } else {
            let i = self.slots.len();
            if i >= INLINE as usize {
                crate::fatal("a wait list outgrew 2^32 entries");
            }
            self.slots.push(Slot(Entry { gen, prev: NIL, next: NIL, val: Some(v) }));
            i as u32
        };
        (idx, Key { idx, gen })
    }

    /// Links `idx` as the only entry.
    #[inline(always)]
    fn link_only(&mut self, idx: u32) {
        let s = self.at_mut(idx);
        s.prev = idx;
        s.next = NIL;
        self.head = idx;
    }

    /// Unlinks occupied slot `idx`, frees it and returns its entry.
    #[inline(always)]
    fn unlink(&mut self, idx: u32) -> T {
        let free = self.free;
        let s = self.at_mut(idx);
        let (p, n) = (s.prev, s.next);
        let v = s.val.take().expect("an occupied slot holds an entry");
        s.gen = 0;
        if idx != INLINE {
            s.next = free;
            self.free = idx;
        }
        if idx == self.head {
            if n == NIL {
                self.head = NIL;
                if self.slots.len() > SHRINK_AT {
                    // Invariant 5; the generation counter stays (invariant 2).
                    self.slots = Vec::new();
                    self.free = NIL;
                }
                return v;
            }
            self.at_mut(n).prev = p; // p is the tail
            self.head = n;
        } else {
            self.at_mut(p).next = n;
            if n == NIL {
                let h = self.head;
                self.at_mut(h).prev = p; // the new tail
            } else {
                self.at_mut(n).prev = p;
            }
        }
        v
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// Random pushes at both ends, pops and removals (live and stale keys) against a
    /// `VecDeque` model: same order, same results, and stale keys never touch live entries.
    #[test]
    fn matches_a_model() {
        check_model::<0>();
        check_model::<1>();
    }

    fn check_model<const N: usize>() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut rnd = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        for round in 0..200 {
            let mut l: WaitList<u64, N> = WaitList::new();
            let mut model: VecDeque<(u64, Key)> = VecDeque::new();
            let mut dead: Vec<Key> = Vec::new();
            let mut next = 0u64;
            let steps = 50 + rnd(3000);
            for _ in 0..steps {
                match rnd(10) {
                    0..=3 => {
                        next += 1;
                        let k = l.push_back(next);
                        model.push_back((next, k));
                    }
                    4 => {
                        next += 1;
                        let k = l.push_front(next);
                        model.push_front((next, k));
                    }
                    5 | 6 => {
                        let got = l.pop_front();
                        let want = model.pop_front();
                        assert_eq!(got, want.map(|w| w.0));
                        if let Some((_, k)) = want {
                            dead.push(k);
                        }
                    }
                    7 | 8 if !model.is_empty() => {
                        let i = rnd(model.len() as u64) as usize;
                        let (v, k) = model.remove(i).unwrap();
                        assert!(l.contains(k));
                        assert_eq!(l.remove(k), Some(v));
                        dead.push(k);
                    }
                    _ if !dead.is_empty() => {
                        let k = dead[rnd(dead.len() as u64) as usize];
                        assert!(!l.contains(k));
                        assert_eq!(l.remove(k), None);
                    }
                    _ => {}
                }
                assert_eq!(l.is_empty(), model.is_empty());
                assert_eq!(l.front(), model.front().map(|m| &m.0));
            }
            if round % 2 == 0 {
                let all: Vec<u64> = l.drain().collect();
                assert_eq!(all, model.iter().map(|m| m.0).collect::<Vec<_>>());
            } else {
                assert_eq!(l.len(), model.len());
            }
        }
    }

    /// The inline slot: taken by the first push, reused after it leaves (behind entries
    /// already in the slab: order is the links', not the slots'), and a key of its earlier
    /// occupant never reaches the later one.
    #[test]
    fn inline_slot_keeps_order_and_keys() {
        let mut l: WaitList<u32, 1> = WaitList::new();
        let a = l.push_back(1u32);
        assert_eq!(a.idx, INLINE);
        let b = l.push_back(2);
        assert_ne!(b.idx, INLINE);
        assert_eq!(l.pop_front(), Some(1));
        let c = l.push_back(3);
        assert_eq!(c.idx, INLINE, "the vacant inline slot is taken first");
        assert!(!l.contains(a));
        assert_eq!(l.remove(a), None, "a stale key of the inline slot");
        let d = l.push_front(0);
        assert_eq!(l.drain().collect::<Vec<_>>(), vec![0, 2, 3]);
        for k in [a, b, c, d] {
            assert_eq!(l.remove(k), None);
        }
        assert!(l.is_empty() && l.slots.iter().all(|s| s.0.gen == 0) && l.inline[0].gen == 0);
    }

    /// A list that grew past SHRINK_AT gives its slots back when it empties, and keys from
    /// before never match entries after.
    #[test]
    fn shrinks_when_empty_and_old_keys_stay_dead() {
        let mut l: WaitList<u32> = WaitList::new();
        let keys: Vec<Key> = (0..5000u32).map(|i| l.push_back(i)).collect();
        for &k in keys.iter().rev() {
            assert!(l.remove(k).is_some());
        }
        assert!(l.is_empty());
        assert_eq!(l.slots.capacity(), 0);
        let k2 = l.push_back(7);
        for &k in &keys {
            assert_eq!(l.remove(k), None);
        }
        assert_eq!(l.remove(k2), Some(7));
    }

    /// Removal is O(1): 200,000 entries withdrawn in a random order take far less than the
    /// ~2e10 steps of a scan per removal (a coarse check: it would run for minutes).
    #[test]
    fn removal_in_random_order_is_fast() {
        let n = 200_000u32;
        let mut l: WaitList<u32> = WaitList::new();
        let mut keys: Vec<Key> = (0..n).map(|i| l.push_back(i)).collect();
        let mut x = 88172645463325252u64;
        for i in (1..keys.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            keys.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let t = std::time::Instant::now();
        for k in keys {
            assert!(l.remove(k).is_some());
        }
        assert!(l.is_empty());
        assert!(t.elapsed() < std::time::Duration::from_secs(10));
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::chan::wait::{self, Token};
    use crate::loom::{lock, rank, Arc};

    /// The list under a primitive's lock (the rank does not matter here: one lock).
    type Mutex<T> = crate::loom::Mutex<T, { rank::CHAN }>;
    use crate::waiter::Deadline;
    use std::time::Instant;

    const SERVED: u32 = wait::USER;

    /// Pops until one entry's completion is won (step 2 of the protocol).
    fn serve(l: &Mutex<WaitList<Token>>) -> bool {
        let mut g = lock(l);
        while let Some(t) = g.pop_front() {
            if t.complete(SERVED) {
                return true;
            }
        }
        false
    }

    /// One waiter whose deadline may expire at any point, one completer: the waiter is served
    /// iff the completer's CAS won; a waiter that timed out withdraws its entry whether or
    /// not the completer popped it first; the list ends empty.
    #[test]
    fn loom_remove_races_completer() {
        loom::model(|| {
            let l = Arc::new(Mutex::new(WaitList::new()));
            let tok = wait::prepare(crate::waitreason::WaitReason::NONE);
            let key = lock(&l).push_back(tok.clone());
            let l2 = l.clone();
            let c = loom::thread::spawn(move || serve(&l2));
            let r = wait::block(&tok, Deadline::At(Instant::now()), None);
            if r != SERVED {
                lock(&l).remove(key);
            }
            let won = c.join().unwrap();
            assert_eq!(won, r == SERVED);
            assert!(lock(&l).is_empty());
            assert!(lock(&l).remove(key).is_none());
        });
    }

    /// Two waiters, the first with a deadline, the second without; one completer. The
    /// completer always serves exactly one (a timed-out first waiter is skipped), the second
    /// is served unless the first was, and after the unserved ones withdraw the list is empty.
    #[test]
    fn loom_completer_skips_withdrawn() {
        loom::model(|| {
            let l = Arc::new(Mutex::new(WaitList::new()));
            let (a, b) = (wait::prepare(crate::waitreason::WaitReason::NONE), wait::prepare(crate::waitreason::WaitReason::NONE));
            let ka = lock(&l).push_back(a.clone());
            let kb = lock(&l).push_back(b.clone());
            let l2 = l.clone();
            let c = loom::thread::spawn(move || serve(&l2));
            let ra = wait::block(&a, Deadline::At(Instant::now()), None);
            if ra != SERVED {
                lock(&l).remove(ka);
            }
            assert!(c.join().unwrap(), "a completer with a live waiter queued serves one");
            if ra == SERVED {
                assert!(b.is_pending());
                assert!(lock(&l).remove(kb).is_some(), "the unserved waiter is still queued");
            } else {
                assert_eq!(b.result(), SERVED);
                assert!(lock(&l).remove(kb).is_none());
            }
            assert!(lock(&l).is_empty());
        });
    }
}
