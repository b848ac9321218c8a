//! `select`: wait on several channel operations, complete exactly one (Go's `selectgo`).
//!
//! # Protocol
//! 1. Order: a uniformly random permutation of the cases (poll order) and the distinct
//!    channels sorted by address (lock order; a channel appearing in several cases is locked
//!    once).
//! 2. Lock every channel in lock order.
//! 3. Pass 1: in poll order, the first case that can complete without waiting does so under
//!    the locks (hand-off to a parked peer, the ring, or closed), and wins. Since every
//!    ready case is tried in a random order, each is chosen with equal probability.
//! 4. None ready: with a poll deadline (timeout 0, Go's `default`) unlock and return
//!    `Again`. Else publish one sudog per case, all with the same wait token and the case
//!    index in their result code, unlock, and block.
//! 5. Commit: a peer completes one of the sudogs. The token's CAS makes it the only winner
//!    among all cases, timers and cancel tokens; the peer copies the element under its
//!    channel's lock. Peers meeting the other sudogs lose the CAS and drop them.
//! 6. Relock every channel in lock order and remove the remaining sudogs. Taking the winning
//!    channel's lock also orders this select after the winner's copy, so the element (and
//!    a zeroed receive element for a close) is in place when select returns.
//!
//! Lock order: the channels' locks, in increasing address order; see `chan/mod.rs`.

use super::wait::{self, Token};
use super::waitq::{self, Sudog};
use super::{Chan, Inner, Ready};
use crate::cancel::Cancel;
use crate::error::{Error, Result};
use crate::loom::{lock, MutexGuard};
use crate::waiter::Deadline;
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
    if n > u32::MAX as usize / 4 {
        return Err(Error::Invalid);
    }
    let mut poll: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        poll.swap(i, rand_below(i as u32 + 1) as usize);
    }
    let mut order: Vec<&Chan> = cases.iter().filter_map(|c| c.chan).collect();
    order.sort_unstable_by_key(|c| addr(c));
    order.dedup_by_key(|c| addr(c));
    let slot = |c: &Chan| order.binary_search_by_key(&addr(c), |o| addr(o)).expect("listed above");

    let mut guards = lock_all(&order);
    for &i in &poll {
        let c = &cases[i];
        let Some(ch) = c.chan else { continue };
        let g = &mut *guards[slot(ch)];
        let r = match c.op {
            Op::Send => ch.try_send(g, c.elem),
            Op::Recv => ch.try_recv(g, c.elem),
        };
        if let Some(r) = r {
            return Ok(SelectResult { index: i, closed: matches!(r, Ready::Closed) });
        }
    }
    if deadline == Deadline::Poll {
        return Err(Error::Again);
    }

    let tok = wait::prepare();
    for (i, c) in cases.iter().enumerate() {
        let Some(ch) = c.chan else { continue };
        let g: &mut Inner = &mut guards[slot(ch)];
        let s = Sudog { tok: tok.clone(), elem: c.elem, case: i as u32, done: std::ptr::null() };
        match c.op {
            Op::Send => g.sendq.push(s),
            Op::Recv => g.recvq.push(s),
        }
    }
    drop(guards);
    let r = wait::block(&tok, deadline, cancel);
    withdraw(&order, &tok);
    match waitq::decode(r) {
        Some((i, closed)) => Ok(SelectResult { index: i as usize, closed }),
        None if r == wait::CANCELLED => Err(Error::Cancelled),
        None => Err(Error::TimedOut),
    }
}

fn addr(c: &Chan) -> usize {
    c as *const Chan as usize
}

fn lock_all<'a>(order: &[&'a Chan]) -> Vec<MutexGuard<'a, Inner>> {
    order.iter().map(|c| lock(&c.inner)).collect()
}

/// Step 6: remove this select's remaining sudogs from every channel.
fn withdraw(order: &[&Chan], tok: &Token) {
    let mut guards = lock_all(order);
    for g in guards.iter_mut() {
        g.sendq.remove(tok);
        g.recvq.remove(tok);
    }
}

thread_local! {
    static RNG: Cell<u64> = const { Cell::new(0) };
}

/// A uniformly random number below `n` (> 0): xorshift64* per thread, seeded from the
/// clock and the thread's address space; Lemire's multiply-shift reduction.
#[inline(never)]
pub(crate) fn rand_below(n: u32) -> u32 {
    let x = RNG.with(|r| {
        let mut x = r.get();
        if x == 0 {
            let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64);
            x = t ^ (r as *const Cell<u64> as u64).rotate_left(32) | 1;
        }
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        r.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    });
    (((x >> 32) * n as u64) >> 32) as u32
}
