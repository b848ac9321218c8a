//! Wait queues of a channel: the parked senders and receivers (Go's `sudog` lists), each a
//! [`WaitList`] following its withdraw protocol (`crate::waitlist`).
//!
//! Invariants (all under the owning channel's lock):
//! - An entry is in a queue only while its owner has not withdrawn it: it goes in when the
//!   owner parks, and leaves when a completer pops it or the owner removes it by its key
//!   (O(1)) after a timeout, a cancel, or another case of its select won. Between the end of
//!   its wait and that removal an entry is *stale*: [`WaitQ::dequeue`] pops and drops stale
//!   entries (their completion CAS fails), and only ever returns an entry whose wait it won.
//! - Entries borrow from their owner's frame: the wait token, `elem` and `done` (a landed
//!   entry, `Sudog::new_landed`: a thread's wait cell and landing, or a goroutine's G and
//!   landing, instead; the token on that frame, or the running goroutine, keeps them
//!   alive). The owner
//!   does not leave that frame while its entry is queued or a completer holds it: after a
//!   win it waits for `done` (a plain operation) or re-locks its channels (a select), which
//!   orders it after the winner's critical section; after its own timeout or cancel it
//!   re-locks to remove the entry, which orders it after any completer that popped it.
//! - The winner of an entry's completion is the only party that dereferences `elem` and
//!   `done`, and it does so before releasing the channel lock.
//! - An entry of a parked goroutine lies on that goroutine's stack, which is unmapped when a
//!   stopped runtime's memory is reclaimed: so a completer that is not an M of a live
//!   runtime reads entries only while pinned ([`Won`] keeps the pin until the caller is done
//!   with the entry; `sched/grace.rs`).

use super::wait::{Pin, Token};
use crate::loom::AtomicBool;
use crate::waitlist::{Key, WaitList};
use std::ptr::NonNull;
use std::sync::atomic::Ordering::Release;

/// One parked operation. 32 bytes (asserted below): a channel's wait list keeps one per
/// parked operation, so it is a share of what a parked goroutine costs (`gr_bench
/// parked1m`); whose wait it is ([`Owner`], decoded by [`Sudog::owner`]) is packed as a
/// pointer, a kind and one 32-bit word.
pub(crate) struct Sudog {
    /// The owner's [`Token`], `ThreadWait` or `G`, per `kind`.
    ptr: NonNull<()>,
    /// Sender: the element to read. Receiver: where to write the element.
    pub elem: *mut u8,
    /// Set by the winner once it is done with `elem` (a select's entries share one).
    pub done: NonNull<AtomicBool>,
    /// `TOK`: the case index for a select (0 for a plain operation), encoded in the result
    /// code. `THREAD`, `G`: the wait's sequence number (a landed entry's case is 0).
    word: u32,
    kind: u8,
}

#[cfg(all(target_pointer_width = "64", not(loom)))]
const _: () = assert!(std::mem::size_of::<Sudog>() == 32 && std::mem::size_of::<Option<Sudog>>() == 32);

const TOK: u8 = 0;
/// `TOK` whose owner is a goroutine: its frame is on a coroutine stack that its wake will
/// resume (see [`WaitQ::take`]'s prefetch).
const TOK_G: u8 = 3;
#[cfg(not(loom))]
const THREAD: u8 = 1;
#[cfg(not(loom))]
const G: u8 = 2;

/// Whose wait an entry is. Valid while the entry is queued or held by a completer under the
/// lock (module docs).
enum Owner {
    /// The wait token, on the owner's frame (a select's entries share one).
    Tok(NonNull<Token>),
    /// A thread's landed plain operation (`Chan::send_landed`): its wait cell and the wait's
    /// sequence number, which is all a completion needs, so a completer on another CPU
    /// reads the entry it popped and then works in the one line of the cell and its landing,
    /// never in the owner's frame. (The owner's token keeps the cell alive.)
    #[cfg(not(loom))]
    Thread(NonNull<crate::waiter::ThreadWait>, u32),
    /// A goroutine's landed plain operation (`Chan::landing_of`: on a channel that met a
    /// plain thread): the goroutine and the wait's sequence number, for the same reason: a
    /// completer on another CPU goes from the entry straight to the goroutine's wait cell,
    /// whose line holds the landing too, instead of reading the token on the frame first
    /// to find the cell (`README.md`, "Hand-off to a thread"). (The goroutine outlives its
    /// queued entries: it leaves the frame only after `done` or after removing them.)
    /// Goroutines' other entries keep the token: every entry so gained nothing on
    /// goroutine-only channels and measured ~10% slower on `gr_bench ring` (paired, 14
    /// pairs), but in builds where `run_loop` had lost its inlining (sched README section
    /// 13), so that cost is not settled.
    #[cfg(not(loom))]
    G(NonNull<crate::goroutine::G>, u32),
}

/// Result code of a completed channel wait: `USER + 2 * case + closed`.
pub(crate) fn code(case: u32, closed: bool) -> u32 {
    super::wait::USER + 2 * case + closed as u32
}

/// Decodes a result code from [`code`]: `(case, closed)`; `None` for a wait's own codes.
pub(crate) fn decode(r: u32) -> Option<(u32, bool)> {
    let u = r.checked_sub(super::wait::USER)?;
    Some((u / 2, u % 2 == 1))
}

impl Sudog {
    /// An entry for the wait `tok`.
    ///
    /// # Safety
    /// `tok` (and `elem`, `done`) must stay valid while the entry is queued or held by a
    /// completer (module docs).
    #[inline(always)]
    pub unsafe fn new(tok: &Token, elem: *mut u8, case: u32, done: &AtomicBool) -> Sudog {
        #[cfg(not(loom))]
        let kind = if tok.goroutine().is_some() { TOK_G } else { TOK };
        #[cfg(loom)]
        let kind = TOK;
        Sudog { ptr: NonNull::from(tok).cast(), elem, done: NonNull::from(done), word: case, kind }
    }

    /// An entry for a thread's plain operation through its landing (`elem` and `done` are
    /// the landing's): the completer then needs neither `tok` nor the owner's frame.
    ///
    /// # Safety
    /// As [`Sudog::new`].
    #[inline(always)]
    pub unsafe fn new_landed(tok: &Token, elem: *mut u8, done: &AtomicBool) -> Sudog {
        #[cfg(not(loom))]
        if let Some((t, seq)) = tok.thread() {
            return Sudog { ptr: NonNull::from(t).cast(), elem, done: NonNull::from(done), word: seq, kind: THREAD };
        }
        #[cfg(not(loom))]
        if let Some(g) = tok.goroutine() {
            return Sudog { ptr: NonNull::from(g).cast(), elem, done: NonNull::from(done), word: tok.seq(), kind: G };
        }
        // SAFETY: the caller's contract.
        unsafe { Sudog::new(tok, elem, 0, done) }
    }

    /// Whose wait this is (the pointer cast back to what [`Sudog::new`] or
    /// [`Sudog::new_landed`] made it from).
    #[inline(always)]
    fn owner(&self) -> Owner {
        match self.kind {
            #[cfg(not(loom))]
            THREAD => Owner::Thread(self.ptr.cast(), self.word),
            #[cfg(not(loom))]
            G => Owner::G(self.ptr.cast(), self.word),
            _ => Owner::Tok(self.ptr.cast()),
        }
    }

    /// The case index of a select's entry (0 for a plain operation).
    #[inline(always)]
    pub fn case(&self) -> u32 {
        if self.kind == TOK || self.kind == TOK_G { self.word } else { 0 }
    }

    /// The first line the completer reads: the token's, or a landed entry's wait cell's.
    #[inline(always)]
    pub fn owner_line(&self) -> *const u8 {
        match self.owner() {
            Owner::Tok(t) => t.as_ptr() as *const u8,
            #[cfg(not(loom))]
            Owner::Thread(t, _) => t.as_ptr() as *const u8,
            // SAFETY: the goroutine outlives its queued entries (as in `complete_handoff`);
            // only the field's address is taken.
            #[cfg(not(loom))]
            Owner::G(g, _) => unsafe { std::ptr::addr_of!((*g.as_ptr()).cell) as *const u8 },
        }
    }

    /// [`Token::complete_handoff`] for this entry's wait.
    #[inline(always)]
    pub fn complete_handoff(&self, w: &super::wait::Waker, result: u32, affine: bool, slot: impl FnOnce() -> usize) -> bool {
        match self.owner() {
            // SAFETY: the owner keeps its token alive while the entry is queued or held by
            // a completer under the channel lock (module docs); entries are only used so.
            Owner::Tok(t) => unsafe { t.as_ref() }.complete_handoff(w, result, affine, slot),
            // SAFETY: the owner's token holds the cell (a counted `Arc`) as long as above.
            #[cfg(not(loom))]
            Owner::Thread(t, seq) => unsafe { t.as_ref() }.complete_handoff(seq, result, slot),
            // SAFETY: a goroutine does not end while an entry of its is queued or held by a
            // completer (it waits for `done` or removes the entry first; module docs).
            #[cfg(not(loom))]
            Owner::G(g, seq) => crate::waiter::complete_handoff_g(unsafe { g.as_ref() }, seq, w, result, affine, slot),
        }
    }

    /// The winner is finished with `elem`: let a plain owner return.
    #[inline(always)]
    pub fn release(&self) {
        // SAFETY: we won this entry's completion, so its owner is waiting for this flag (on
        // its frame or in its landing, which it does not leave before seeing the store).
        unsafe { self.done.as_ref() }.store(true, Release);
    }
}

/// An entry whose completion the caller won, with the completer's pin, if it needed one
/// (kept until this drops).
pub(crate) struct Won {
    s: Sudog,
    _pin: Option<Pin>,
}

impl std::ops::Deref for Won {
    type Target = Sudog;
    fn deref(&self) -> &Sudog {
        &self.s
    }
}

#[derive(Default)]
pub(crate) struct WaitQ {
    q: WaitList<Sudog, 1>,
    /// A plain thread has waited on this channel or completed an entry of this queue (its
    /// completer needed a grace pin): a hint for goroutines' landings (`Chan::landing_of`).
    pub(crate) met_thread: bool,
}

impl WaitQ {
    /// The offset of the queue's inline entry, and its size: the slot a lone parked
    /// operation takes (`waitlist.rs`, "Why inline"), which a completer fetches together with
    /// the channel's lock (`Chan::lock_for`).
    pub const INLINE_OFFSET: usize = std::mem::offset_of!(WaitQ, q) + WaitList::<Sudog, 1>::INLINE_OFFSET;
    pub const INLINE_SIZE: usize = WaitList::<Sudog, 1>::INLINE_SIZE;

    /// Queues a parked operation; its key withdraws it ([`WaitQ::remove`]).
    #[inline]
    pub fn push(&mut self, s: Sudog) -> Key {
        self.q.push_back(s)
    }

    /// Pops entries until it wins one's completion (with result `code(case, closed)`); the
    /// caller must then finish with its `elem` and call [`Sudog::release`] before unlocking
    /// (and before dropping the [`Won`]). For `close`; the operations use
    /// [`WaitQ::dequeue_then`].
    /// `affine`: the channel is contended; see `Token::complete_hint`. `slot`: the ring slot
    /// a value handed over counts as passing through, for ThreadSanitizer (see
    /// `Token::complete_handoff`; only evaluated under it).
    #[inline]
    pub fn dequeue(&mut self, closed: bool, affine: impl FnOnce() -> bool, slot: impl Fn() -> usize) -> Option<Won> {
        if self.q.is_empty() {
            return None; // the common case on a buffered channel's fast path
        }
        self.dequeue_slow(closed, affine(), slot)
    }

    /// [`WaitQ::dequeue`] that also finishes with the entry it won, out of line: `then`
    /// (the caller's copy of the element) runs with it, then [`Sudog::release`], then the
    /// completer's pin (if any) is dropped. `false` if no live entry was there. Nothing
    /// comes back through memory: the `Won` that `dequeue` returns by value is written in
    /// pieces and read back 16 bytes at a time by its caller, a store-forwarding stall
    /// (`perf annotate`: ~20% of `gr_chan_recv_ex`'s samples in a ping-pong).
    #[inline]
    pub fn dequeue_then(&mut self, affine: impl FnOnce() -> bool, slot: impl Fn() -> usize, then: impl FnOnce(&Sudog)) -> bool {
        if self.q.is_empty() {
            return false; // the common case on a buffered channel's fast path
        }
        self.dequeue_slow_then(affine(), slot, then)
    }

    #[inline(never)]
    fn dequeue_slow_then(&mut self, affine: bool, slot: impl Fn() -> usize, then: impl FnOnce(&Sudog)) -> bool {
        match self.take(false, affine, slot) {
            Some(w) => {
                then(&w);
                w.release();
                true
            }
            None => false,
        }
    }

    #[inline(never)]
    fn dequeue_slow(&mut self, closed: bool, affine: bool, slot: impl Fn() -> usize) -> Option<Won> {
        self.take(closed, affine, slot)
    }

    #[inline(always)]
    fn take(&mut self, closed: bool, affine: bool, slot: impl Fn() -> usize) -> Option<Won> {
        let (w, pin) = super::wait::waker(); // before the first entry is read (module docs)
        self.met_thread |= pin.is_some();
        while let Some(s) = self.q.pop_front() {
            // The owner's lines this completer will touch, fetched for writing at once, so
            // that their transfers from the owner's core overlap: the token or, for a
            // thread's landed entry, the wait cell (read now; for a plain operation `done`
            // lies beside it, written after the copy), `done` and the element (read or
            // written by the copy; in the cell's line too for a landed entry). Otherwise
            // each is a miss of its own in turn, and a line read first comes over twice
            // (shared, then exclusive).
            super::prefetch_write(s.owner_line());
            super::prefetch_write(s.done.as_ptr() as *const u8);
            super::prefetch_write(s.elem);
            if s.kind == TOK_G && pin.is_none() {
                // A goroutine's frame: the lines just below its token hold the bottom of
                // the frame of the call that parked (the token is a local of the C entry
                // point, `gr_chan_recv_ex` and kin, near its frame's bottom) and the
                // registers its switch saved, which its resume reads first, many hops after
                // they left this core's L1 when many goroutines take turns (`gr_bench ring`:
                // 503). Asked for now, they come in while this wake and the rest of the
                // waker's run go on (`../sched/README.md`, section 14, "The resume's stack
                // lines"). Only a goroutine's wake (no pin: the waker is an M), which puts
                // the woken one in its own processor's runnext; a plain thread's wake runs it
                // on another CPU, where these lines would have to go back. Past the stack's
                // base (a frame at its top) the hint hits the guard page or another mapping,
                // which a prefetch ignores.
                let t = s.ptr.as_ptr() as *const u8;
                super::prefetch_write(t.wrapping_sub(64));
                super::prefetch_write(t.wrapping_sub(128));
                super::prefetch_write(t.wrapping_sub(192));
            }
            if s.complete_handoff(&w, code(s.case(), closed), affine, &slot) {
                return Some(Won { s, _pin: pin });
            }
        }
        None
    }

    /// Withdraws the entry `key` (its wait ended without this queue: a timeout, a cancel, or
    /// another case of its select); a no-op if a completer popped it meanwhile. O(1).
    #[inline]
    pub fn remove(&mut self, key: Key) {
        self.q.remove(key);
    }

    /// No parked operation (live or stale).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.q.is_empty()
    }

    /// No entry at all (live or stale). For the loom models.
    #[cfg(all(test, loom))]
    pub fn is_clear(&self) -> bool {
        self.q.is_empty()
    }
}
