//! `select`: wait on several channel operations, complete exactly one (Go's `selectgo`).
//!
//! # Protocol
//! 1. Order: a uniformly random permutation of the cases (poll order) and the distinct
//!    channels sorted by address (lock order; a channel appearing in several cases is locked
//!    once).
//!    Fast path: try each case in poll order under its own channel's lock; the first that
//!    completes wins (an ordinary operation). A case whose channel's readiness hint
//!    (`Chan::may_be_ready`, published by every unlock once a select has used the channel)
//!    says it cannot complete is skipped without locking: a select that will wait locks
//!    each channel twice (steps 2 and 6), not three times. If none did, go on:
//! 2. Lock every channel in lock order.
//! 3. Pass 1: in poll order, the first case that can complete without waiting does so under
//!    the locks (hand-off to a parked peer, the ring, or closed), and wins. Since every
//!    ready case is tried in a random order, each is chosen with equal probability.
//! 4. None ready: with a poll deadline (timeout 0, Go's `default`) unlock and return
//!    `Again`. Else publish one sudog per case (in poll order), all with the same wait token
//!    and the case index in their result code, unlock, and block.
//! 5. Commit: a peer completes one of the sudogs. The token's CAS makes it the only winner
//!    among all cases, timers and cancel tokens; the peer copies the element under its
//!    channel's lock. Peers meeting the other sudogs lose the CAS and drop them.
//! 6. Relock the channels in lock order and remove the remaining sudogs by their keys, O(1)
//!    each (`crate::waitlist`; the winner's entry was removed by its completer). The winning
//!    channel is relocked only if another case uses it too: else it holds no entry of ours,
//!    and the select instead waits for the sudogs' shared `done` flag, which only the
//!    winner's completer sets, after its copy and before it unlocks (as a plain operation
//!    waits, `mod.rs` hand-off step 4). Either way this select is ordered after the
//!    winner's copy, so the element (and a zeroed receive element for a close) is in place
//!    when select returns; and no completer touches the select's frame after `done` (losers
//!    fail the token's CAS and drop their sudog under their own channel's lock, which step 6
//!    takes for every channel that may still hold one). One lock and unlock fewer per
//!    select that waited, the common case: two atomic read-modify-writes.
//!
//! Lock order: the channels' locks, in increasing address order (rank 30 in
//! `sched/README.md`, "Lock order"; see `chan/mod.rs`).

use super::wait;
use super::waitq::{self, Sudog};
use super::{Chan, Ready};
use crate::cancel::Cancel;
use crate::error::{Error, Result};
use super::ChanGuard;
use crate::waiter::Deadline;
use crate::waitlist::Key;
use crate::waitreason::{kind, WaitReason};
#[cfg(not(loom))]
use std::cell::Cell;

/// Which way a select case goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Send,
    Recv,
}

/// One case. `chan: None` never fires (Go's nil channel). `elem`: a send's source (required)
/// or a receive's destination (NULL discards the value).
#[derive(Clone, Copy)]
pub struct Case<'a> {
    pub chan: Option<&'a Chan>,
    pub op: Op,
    pub elem: *mut u8,
}

/// The case that completed, and whether it completed because its channel is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelectResult {
    pub index: usize,
    pub closed: bool,
}

/// Runs a select over `cases` (see the module docs). `Again` for a poll with nothing ready,
/// `TimedOut` or `Cancelled`. With no channel at all and no deadline it waits forever, as
/// Go's `select {}` does.
///
/// # Safety
/// Each case's `elem` must be valid for `elem_size` bytes of its channel (read for a send,
/// written for a receive, or NULL for a receive) until this returns.
pub unsafe fn select(cases: &[Case<'_>], deadline: Deadline, cancel: Option<&Cancel>) -> Result<SelectResult> {
    let n = cases.len();
    // Each case's result code (`waitq::code`) must fit the wait cell's result bits.
    if n > ((crate::waiter::RESULT_MAX - wait::USER) / 2) as usize {
        return Err(Error::Invalid);
    }
    if cases.iter().any(|c| c.op == Op::Send && c.chan.is_some_and(|ch| ch.recv_only)) {
        return Err(Error::Invalid); // a send on a timer's or a context's channel
    }
    // Step 1. Small selects keep their bookkeeping on the stack (no allocation).
    let (mut poll_a, mut poll_v) = ([0usize; INLINE], Vec::new());
    let poll: &mut [usize] = if n <= INLINE { &mut poll_a[..n] } else { poll_v.resize(n, 0); &mut poll_v };
    for (i, p) in poll.iter_mut().enumerate() {
        *p = i;
    }
    shuffle(poll);
    // Step 1b (fast path): try the cases in poll order, each under its own channel's lock
    // alone. A success here is an ordinary channel operation, linearizable at that lock, and
    // the first ready case in a random order is a uniform choice among the ready ones. Only
    // "nothing is ready" must be seen with every lock held at once, so it falls through to
    // the full protocol (which tries every case again). Saves the sort and k - 1 lock pairs
    // whenever a peer is already waiting.
    if n > 1 {
        for &i in poll.iter() {
            let c = &cases[i];
            let Some(ch) = c.chan else { continue };
            if !ch.may_be_ready(c.op == Op::Recv) {
                continue; // nothing there at its last unlock: the full protocol looks again
            }
            let mut g = ch.lock_for(c.op == Op::Recv);
            let r = match c.op {
                Op::Send => ch.try_send(&mut g, c.elem),
                Op::Recv => ch.try_recv(&mut g, c.elem),
            };
            if let Some(r) = r {
                return Ok(SelectResult { index: i, closed: matches!(r, Ready::Closed) });
            }
        }
    }
    // Lock order: indices of the cases with a channel, sorted by channel address, one per
    // distinct channel; `gidx[i]` is the lock (guard) index of case i's channel.
    let (mut ord_a, mut ord_v) = ([0usize; INLINE], Vec::new());
    let ord: &mut [usize] = if n <= INLINE { &mut ord_a[..n] } else { ord_v.resize(n, 0); &mut ord_v };
    let (mut gidx_a, mut gidx_v) = ([0usize; INLINE], Vec::new());
    let gidx: &mut [usize] = if n <= INLINE { &mut gidx_a[..n] } else { gidx_v.resize(n, 0); &mut gidx_v };
    let addr = |i: usize| cases[i].chan.map_or(0, |c| c as *const Chan as usize);
    let mut m = 0;
    for (i, c) in cases.iter().enumerate() {
        if c.chan.is_some() {
            ord[m] = i;
            m += 1;
        }
    }
    let ord = &mut ord[..m];
    if m <= INLINE {
        // Insertion sort: a handful of cases, mostly distinct channels.
        for j in 1..m {
            let (x, ax) = (ord[j], addr(ord[j]));
            let mut h = j;
            while h > 0 && addr(ord[h - 1]) > ax {
                ord[h] = ord[h - 1];
                h -= 1;
            }
            ord[h] = x;
        }
    } else {
        ord.sort_unstable_by_key(|&i| addr(i));
    }
    let mut k = 0;
    for i in 0..m {
        let ci = ord[i];
        if k == 0 || addr(ci) != addr(ord[k - 1]) {
            ord[k] = ci;
            k += 1;
        }
        gidx[ci] = k - 1;
    }
    let ord: &[usize] = &ord[..k];
    let gidx: &[usize] = gidx;
    let mut g_a: [Option<ChanGuard<'_>>; INLINE] = std::array::from_fn(|_| None);
    let mut g_v: Vec<Option<ChanGuard<'_>>> = Vec::new();
    let guards: &mut [Option<ChanGuard<'_>>] = if k <= INLINE {
        &mut g_a[..k]
    } else {
        g_v.resize_with(k, || None);
        &mut g_v
    };

    // Steps 2 and 3.
    lock_all(cases, ord, guards);
    for &i in poll.iter() {
        let c = &cases[i];
        let Some(ch) = c.chan else { continue };
        let g = guards[gidx[i]].as_mut().expect("locked");
        let r = match c.op {
            Op::Send => ch.try_send(g, c.elem),
            Op::Recv => ch.try_recv(g, c.elem),
        };
        if let Some(r) = r {
            return Ok(SelectResult { index: i, closed: matches!(r, Ready::Closed) });
        }
    }
    // Step 4.
    wait::may_wait(deadline)?;
    let reason = if m == 0 { WaitReason::new(kind::SELECT_EMPTY, 0) } else { WaitReason::select(cases.as_ptr() as usize, n) };
    let tok = wait::prepare(reason);
    // Set by the winner's completer after its copy (step 6); losers never touch it.
    let done = crate::loom::AtomicBool::new(false);
    // Each case's key in its channel's queue, to withdraw it in step 6.
    let (mut keys_a, mut keys_v) = ([Key::NONE; INLINE], Vec::new());
    let keys: &mut [Key] = if n <= INLINE { &mut keys_a[..n] } else { keys_v.resize(n, Key::NONE); &mut keys_v };
    // Enqueue in the random poll order too: a peer serves a channel's queue first to last,
    // so cases on the same channel are picked uniformly also when the select waits.
    for &i in poll.iter() {
        let c = &cases[i];
        if c.chan.is_none() {
            continue;
        }
        let g = guards[gidx[i]].as_mut().expect("locked");
        // SAFETY: `tok`, `done` and the cases' elements stay on the caller's frame until every
        // entry is withdrawn or won (step 4 re-locks each channel; waitq.rs).
        let s = Sudog::new(&tok, c.elem, i as u32, &done);
        keys[i] = match c.op {
            Op::Send => g.sendq.push(s),
            Op::Recv => g.recvq.push(s),
        };
        if c.op == Op::Recv && g.timer.is_some() {
            c.chan.expect("a case with a channel").timer_block(g);
        }
    }
    unlock_all(guards);
    // Step 5.
    let r = wait::block(&tok, deadline, cancel);
    // Step 6.
    let decoded = waitq::decode(r);
    let won = decoded.map(|(i, _)| i as usize);
    // The winner's channel, if no other case uses it: not relocked; `done` orders us after
    // the copy instead.
    let alone = won.map(|w| gidx[w]).filter(|&gw| {
        let mut n = 0;
        for (i, c) in cases.iter().enumerate() {
            if c.chan.is_some() && gidx[i] == gw {
                n += 1;
            }
        }
        n == 1
    });
    lock_all_but(cases, ord, guards, alone);
    if alone.is_some() {
        wait::wait_flag(&done);
    }
    // Each case's entry sits in its own channel's send or receive queue (the winner's was
    // taken by its completer; others may have been popped as stale): O(1) each by key.
    for (i, c) in cases.iter().enumerate() {
        if c.chan.is_none() || won == Some(i) {
            continue;
        }
        let g = guards[gidx[i]].as_mut().expect("locked");
        match c.op {
            Op::Send => g.sendq.remove(keys[i]),
            Op::Recv => g.recvq.remove(keys[i]),
        }
    }
    unlock_all(guards);
    match decoded {
        Some((i, closed)) => Ok(SelectResult { index: i as usize, closed }),
        None => Err(wait::error_of(r, deadline)),
    }
}

/// Cases up to which select needs no allocation.
const INLINE: usize = 8;

/// Locks the channels of the cases listed in `ord` (lock order), in that order.
fn lock_all<'a>(cases: &[Case<'a>], ord: &[usize], guards: &mut [Option<ChanGuard<'a>>]) {
    lock_all_but(cases, ord, guards, None);
}

/// [`lock_all`], leaving out lock `skip` (an index into `ord`), if any.
fn lock_all_but<'a>(cases: &[Case<'a>], ord: &[usize], guards: &mut [Option<ChanGuard<'a>>], skip: Option<usize>) {
    for (k, &i) in ord.iter().enumerate() {
        if skip == Some(k) {
            continue;
        }
        let ch = cases[i].chan.expect("ord lists cases with a channel");
        guards[k] = Some(ch.lock_inner());
    }
}

fn unlock_all(guards: &mut [Option<ChanGuard<'_>>]) {
    for g in guards.iter_mut() {
        *g = None;
    }
}

/// xorshift64* step.
#[inline]
fn next(x: &mut u64) -> u64 {
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    x.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

/// Under loom: a fixed seed on every call. Loom replays each interleaving and needs every
/// execution to take the same path (the fast pass locks channels in poll order).
#[cfg(loom)]
fn with_rng<R>(f: impl FnOnce(&mut u64) -> R) -> R {
    let mut x = 0x9E37_79B9_7F4A_7C15;
    f(&mut x)
}

/// This thread's generator state (in the thread's TLS area, `sys/tls.rs`: one descriptor
/// call, where `thread_local!` took an accessor and `__tls_get_addr`), seeded on first use
/// from the clock and the state's address. Read and written within the call, which never
/// parks (goroutines migrate: `#[inline(never)]`, so no caller keeps the address).
#[cfg(not(loom))]
#[inline(never)]
fn with_rng<R>(f: impl FnOnce(&mut u64) -> R) -> R {
    use crate::sys::tls::{part, AREA, RNG};
    // SAFETY: all-zero bytes are a valid `Cell<u64>` (zero: not seeded yet), and bytes
    // `RNG..AREA` are this function's alone.
    let r: &Cell<u64> = unsafe { part::<Cell<u64>, RNG, AREA>() };
    let mut x = r.get();
    if x == 0 {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64);
        x = t ^ (r as *const Cell<u64> as u64).rotate_left(32) | 1;
    }
    let out = f(&mut x);
    r.set(x);
    out
}

/// A uniformly random permutation of `v` (Fisher-Yates). Each draw over `i + 1` positions
/// is Lemire's multiply-shift of a 64-bit xorshift64* output, and for the last ten (`i` from
/// 10 down) one output serves them all, each draw taking the low half of the previous
/// product as its source ("batched" ranged integers, Brackett-Rozinsky and Lemire, 2024):
/// those ten use 29 of its bits, so every draw has 35 or more behind it, a bias under
/// 2^-31. A select of up to 11 cases takes one output.
fn shuffle(v: &mut [usize]) {
    if v.len() < 2 {
        return;
    }
    with_rng(|x| {
        let mut i = v.len() - 1;
        while i > 10 {
            let t = next(x) as u128 * (i as u128 + 1);
            v.swap(i, (t >> 64) as usize);
            i -= 1;
        }
        let mut r = next(x);
        while i >= 1 {
            let t = r as u128 * (i as u128 + 1);
            v.swap(i, (t >> 64) as usize);
            r = t as u64;
            i -= 1;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::shuffle;

    /// Every permutation of 4 cases comes out about equally often (chi-squared over the 24,
    /// against its 0.1% tail, 49.7), and of 16 cases (a draw of its own for each of the top
    /// five positions) each case takes each position about equally often (within 6
    /// standard deviations).
    #[test]
    fn shuffle_is_uniform() {
        let mut counts = std::collections::HashMap::new();
        const N: usize = 240_000;
        for _ in 0..N {
            let mut v = [0, 1, 2, 3];
            shuffle(&mut v);
            *counts.entry(v).or_insert(0usize) += 1;
        }
        assert_eq!(counts.len(), 24);
        let e = N as f64 / 24.0;
        let chi: f64 = counts.values().map(|&c| (c as f64 - e).powi(2) / e).sum();
        assert!(chi < 49.7, "chi-squared {chi} over 24 permutations: {counts:?}");

        let mut pos = [[0usize; 16]; 16];
        const M: usize = 160_000;
        for _ in 0..M {
            let mut v: [usize; 16] = std::array::from_fn(|i| i);
            shuffle(&mut v);
            for (p, &c) in v.iter().enumerate() {
                pos[c][p] += 1;
            }
        }
        let e = M as f64 / 16.0;
        for (c, row) in pos.iter().enumerate() {
            for (p, &k) in row.iter().enumerate() {
                assert!((k as f64 - e).abs() < 6.0 * e.sqrt(), "case {c} at position {p}: {k} of {M}");
            }
        }
    }
}
