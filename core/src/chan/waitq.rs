//! Wait queues of a channel: the parked senders and receivers (Go's `sudog` lists).
//!
//! Invariants (all under the owning channel's lock):
//! - An entry is published only while its wait is open; it may go stale at any moment (its
//!   owner timed out, was cancelled, or, for a select, another case won). Stale entries are
//!   skipped by [`WaitQ::dequeue`], which only ever returns an entry whose wait it won.
//! - The winner of an entry's completion is the only party that dereferences `elem` and
//!   `done`, and it does so before releasing the channel lock.
//! - The owner does not leave its frame (where `elem` and `done` live) before the winner is
//!   finished with them: a plain send/recv waits for `done`; a select re-locks every channel
//!   of its cases, which orders it after the winner's critical section.

use super::wait::Token;
use crate::loom::AtomicBool;
use std::collections::VecDeque;
use std::sync::atomic::Ordering::Release;

/// The wait an entry belongs to.
pub(crate) enum TokRef {
    /// A plain operation's own reference.
    Owned(Token),
    /// A select's token, on its frame: shared by all its entries without reference-count
    /// traffic. A select removes its entries with [`WaitQ::remove_now`] before returning, so
    /// the pointer is valid whenever the entry is in a queue.
    Borrowed(*const Token),
}

/// One parked operation.
pub(crate) struct Sudog {
    pub tok: TokRef,
    /// Sender: the element to read. Receiver: where to write the element.
    pub elem: *mut u8,
    /// Case index for a select (0 for a plain operation); encoded in the result code.
    pub case: u32,
    /// Set by the winner once it is done with `elem` (NULL for select entries).
    pub done: *const AtomicBool,
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
    pub fn tok(&self) -> &Token {
        match &self.tok {
            TokRef::Owned(t) => t,
            // SAFETY: see `TokRef::Borrowed`: the select outlives its entries.
            TokRef::Borrowed(p) => unsafe { &**p },
        }
    }

    /// The winner is finished with `elem`: let a plain owner return.
    pub fn release(&self) {
        if !self.done.is_null() {
            // SAFETY: we won this entry's completion, so its owner is waiting for this flag
            // (on its own frame, which it does not leave before seeing the store).
            unsafe { (*self.done).store(true, Release) };
        }
    }
}

#[derive(Default)]
pub(crate) struct WaitQ {
    q: VecDeque<Sudog>,
    /// Withdrawn entries left in a long queue (see [`WaitQ::remove`]).
    stale: usize,
}

/// Queues up to this long are searched on every withdrawal; longer ones sweep lazily.
const EAGER: usize = 64;

impl WaitQ {
    pub fn push(&mut self, s: Sudog) {
        self.q.push_back(s);
    }

    /// Pops entries until it wins one's completion (with result `code(case, closed)`); the
    /// caller must then finish with its `elem` and call [`Sudog::release`] before unlocking.
    /// `affine`: the channel is contended; see `Token::complete_hint`.
    #[inline]
    pub fn dequeue(&mut self, closed: bool, affine: impl FnOnce() -> bool) -> Option<Sudog> {
        if self.q.is_empty() {
            return None; // the common case on a buffered channel's fast path
        }
        self.dequeue_slow(closed, affine())
    }

    #[inline(never)]
    fn dequeue_slow(&mut self, closed: bool, affine: bool) -> Option<Sudog> {
        while let Some(s) = self.q.pop_front() {
            if s.tok().complete_hint(code(s.case, closed), affine) {
                return Some(s);
            }
        }
        None
    }

    /// Removes every entry of the wait `tok`, which has ended (a withdrawn wait or a
    /// finished select). In a long queue (thousands of receivers with timeouts) a search per
    /// withdrawal would be quadratic: the entries are left, harmless (their wait has ended,
    /// so no completer can win them and their pointers are never used), and swept once they
    /// make up half the queue.
    pub fn remove(&mut self, tok: &Token) {
        debug_assert!(!tok.is_pending());
        if self.q.len() <= EAGER {
            self.remove_now(tok);
            return;
        }
        self.stale += 1;
        if self.stale * 2 > self.q.len() {
            self.q.retain(|s| s.tok().is_pending());
            self.stale = 0;
        }
    }

    /// Removes every entry of the wait `tok` now, whatever the queue's length.
    pub fn remove_now(&mut self, tok: &Token) {
        // Usually one entry (a select's case on this channel), often the only one: remove by
        // position rather than rebuilding the queue.
        let mut i = 0;
        while i < self.q.len() {
            if self.q[i].tok().same(tok) {
                self.q.remove(i);
            } else {
                i += 1;
            }
        }
    }

    /// No entry at all (live or stale). For tests.
    #[cfg(test)]
    pub fn is_clear(&self) -> bool {
        self.q.is_empty()
    }
}
