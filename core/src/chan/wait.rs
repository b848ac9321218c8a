//! The blocking primitive the channel and sync code is written against.
//!
//! Normally this is `crate::waiter` itself. Under `cfg(loom)` it is a small model with the
//! same API: a wait cell whose state is a loom atomic, a `block` that spins with
//! `loom::thread::yield_now` until completed, and a deadline that may expire at any point
//! (the owner tries to claim `TIMEOUT` on every turn), so loom explores every order of data
//! completion, close and timeout. A cancel token registers the wait as the real `block` does
//! (so the context tree's cancel-vs-register races are modelled too, `cancel.rs`).
#![forbid(unsafe_code)]

#[cfg(not(loom))]
pub(crate) use crate::sched::{waker, GracePin as Pin, Waker};
#[cfg(not(loom))]
pub(crate) use crate::waiter::{block, owner_id, prepare, Token};

#[cfg(loom)]
pub(crate) use model::{block, owner_id, prepare, waker, Pin, Token, Waker};

// The result codes and their mapping to errors: the waiter's own, in the model too.
pub(crate) use crate::waiter::{error_of, may_wait, USER};

/// Spins a little (about a microsecond: 10 checks 4 `pause`s apart; multiprocessor runtimes
/// only) for `tok`, just published, to be completed before its owner blocks: a lock held for
/// nanoseconds by a goroutine running on another processor is released sooner than a park
/// and a wake would take, and parking there lets the processor run further goroutines into
/// the same wait. Under loom, nothing: the model's `block` spins by itself.
#[inline]
pub(crate) fn spin_briefly(tok: &Token) {
    #[cfg(not(loom))]
    if crate::sched::multiprocessor() {
        for _ in 0..10 {
            for _ in 0..4 {
                std::hint::spin_loop();
            }
            if !tok.is_pending() {
                return;
            }
        }
    }
    #[cfg(loom)]
    let _ = tok;
}

/// Waits until a completer has set `flag` (after copying the element): the short window
/// between its winning CAS and the end of its copy. Mostly set already when the owner runs
/// again (its completer set it before unlocking, and queued it before that): that check is
/// inline, the wait out of line.
#[inline(always)]
pub(crate) fn wait_flag(flag: &crate::loom::AtomicBool) {
    if !flag.load(std::sync::atomic::Ordering::Acquire) {
        wait_flag_slow(flag);
    }
}

#[inline(never)]
fn wait_flag_slow(flag: &crate::loom::AtomicBool) {
    use std::sync::atomic::Ordering::Acquire;
    #[cfg(loom)]
    while !flag.load(Acquire) {
        loom::thread::yield_now();
    }
    #[cfg(not(loom))]
    {
        // The completer may be a plain thread the OS preempted mid-copy: after a short spin,
        // give the CPU away instead of burning it.
        let mut spins = 0u32;
        while !flag.load(Acquire) {
            spins += 1;
            if spins < 128 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }
}

#[cfg(loom)]
mod model {
    use crate::cancel::Cancel;
    use crate::loom::{Arc, AtomicU64};
    use crate::waiter::Deadline;
    use crate::waiter::{PENDING, TIMEOUT};
    use std::sync::atomic::Ordering::{Acquire, SeqCst};

    /// A modelled wait: one cell per wait (so every earlier token is stale by construction).
    #[derive(Clone, Debug)]
    pub(crate) struct Token {
        cell: Arc<AtomicU64>,
        /// The landing every modelled owner (a thread) has, as `ThreadWait`'s; one per
        /// modelled wait, like the cell.
        land: Arc<Landing>,
    }

    #[derive(Debug, Default)]
    pub(crate) struct Landing {
        done: crate::loom::AtomicBool,
        buf: [std::sync::atomic::AtomicU64; crate::waiter::LANDING / 8],
    }

    impl Token {
        pub(crate) fn is_pending(&self) -> bool {
            self.cell.load(Acquire) == PENDING as u64
        }
        pub(crate) fn result(&self) -> u32 {
            self.cell.load(Acquire) as u32
        }
        pub(crate) fn complete(&self, r: u32) -> bool {
            self.cell.compare_exchange(PENDING as u64, r as u64, SeqCst, Acquire).is_ok()
        }
        /// Every modelled owner is taken for a thread, so the models hand values through
        /// a plain operation's landing (`Chan::send_landed`).
        pub(crate) fn landing(&self, _goroutine_too: bool) -> Option<(&crate::loom::AtomicBool, *mut u8, usize)> {
            Some((&self.land.done, self.land.buf.as_ptr() as *mut u8, crate::waiter::LANDING))
        }
        /// The scheduling hint does not change the protocol; the model ignores it.
        pub(crate) fn complete_hint(&self, r: u32, _affine: bool) -> bool {
            self.complete(r)
        }
        /// Sanitizer edges and the completer's context (grace-period pins) are not
        /// modelled.
        pub(crate) fn complete_handoff(&self, _w: &Waker, r: u32, _affine: bool, _slot: impl FnOnce() -> usize) -> bool {
            self.complete(r)
        }
    }

    /// The completer's context and grace-period pins: not part of the modelled protocol.
    pub(crate) struct Waker;
    pub(crate) struct Pin;

    pub(crate) fn waker() -> (Waker, Option<Pin>) {
        (Waker, None)
    }

    /// The model thread calling (loom runs its threads on one OS thread).
    pub(crate) fn owner_id() -> usize {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        loom::thread::current().id().hash(&mut h);
        h.finish() as usize
    }

    pub(crate) fn prepare(_reason: crate::waitreason::WaitReason) -> Token {
        Token { cell: Arc::new(AtomicU64::new(PENDING as u64)), land: Arc::new(Landing::default()) }
    }

    pub(crate) fn block(tok: &Token, deadline: Deadline, cancel: Option<&Cancel>) -> u32 {
        let mut key = None;
        if let Some(c) = cancel {
            key = c.register(tok);
            if key.is_none() {
                tok.complete(crate::waiter::CANCELLED);
            }
        }
        let r = wait_model(tok, deadline);
        if let (Some(c), Some(k)) = (cancel, key) {
            c.unregister(k);
        }
        r
    }

    fn wait_model(tok: &Token, deadline: Deadline) -> u32 {
        loop {
            match deadline {
                Deadline::Poll | Deadline::At(_) => {
                    tok.complete(TIMEOUT);
                }
                Deadline::Never => {}
            }
            if !tok.is_pending() {
                return tok.result();
            }
            loom::thread::yield_now();
        }
    }
}
