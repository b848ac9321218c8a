//! Go's context tests, ported to gr's cancel tokens (golang/go `src/context/context_test.go`
//! and `x_test.go`; each test names its source; values, `AfterFunc` and custom `Context`
//! implementations have no counterpart), then the fan-out and deadline behaviour beyond them.

mod common;
use common::*;
use gr_core::chan::{Chan, Timer};
use gr_core::sync::WaitGroup;
use gr_core::{Cancel, Deadline, Error, Reason};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SHORT: Duration = Duration::from_millis(20);
const VERY_LONG: Duration = Duration::from_secs(10_000);

fn done_now(c: &Cancel) -> bool {
    // A receive on a closed channel completes at once (closed).
    c.done().recv_bytes(&mut [0u8], Deadline::Poll, None) == Err(Error::Closed)
}

fn timeout(parent: Option<&Cancel>, d: Duration) -> Cancel {
    Cancel::derive(parent, Some(Instant::now() + d))
}

/// x_test.go TestWithCancel: cancelling propagates synchronously to the child and the
/// grandchild: their `done` channels close and `err` says Cancelled.
#[test]
fn with_cancel() {
    let c1 = Cancel::derive(None, None);
    let c2 = Cancel::derive(Some(&c1), None);
    let c3 = Cancel::derive(Some(&c2), None);
    for c in [&c1, &c2, &c3] {
        assert_eq!(c.err(), None);
        assert!(!done_now(c), "<-c.Done() should block");
    }
    c1.fire();
    for c in [&c1, &c2, &c3] {
        assert!(done_now(c), "<-c.Done() blocked, but shouldn't have");
        assert_eq!(c.err(), Some(Error::Cancelled));
    }
}

/// context_test.go XTestParentFinishesChild: the parent's cancel reaches a plain child and a
/// deadline child, and clears its list of children.
#[test]
fn parent_finishes_child() {
    let parent = Cancel::derive(None, None);
    let cancel_child = Cancel::derive(Some(&parent), None);
    let timer_child = timeout(Some(&parent), VERY_LONG);
    assert_eq!(parent.children(), 2);
    assert!(!done_now(&parent) && !done_now(&cancel_child) && !done_now(&timer_child));
    parent.fire();
    assert_eq!(parent.children(), 0, "cancel didn't clear the children");
    for c in [&parent, &cancel_child, &timer_child] {
        assert!(done_now(c));
        assert_eq!(c.reason(), Some(Reason::Cancelled));
    }
}

/// context_test.go XTestChildFinishesFirst: a child's own cancel removes it from its parent
/// and leaves the parent running.
#[test]
fn child_finishes_first() {
    for parent in [None, Some(Cancel::derive(None, None))] {
        let child = Cancel::derive(parent.as_ref(), None);
        if let Some(p) = &parent {
            assert_eq!(p.children(), 1);
        }
        child.fire();
        if let Some(p) = &parent {
            assert_eq!(p.children(), 0, "child's cancel didn't remove self");
            assert!(!done_now(p));
            assert_eq!(p.err(), None);
        }
        assert!(done_now(&child));
        assert_eq!(child.err(), Some(Error::Cancelled));
    }
}

/// context_test.go XTestCancelRemoves: cancel and timeout children leave the parent's list
/// when cancelled.
#[test]
fn cancel_removes() {
    let ctx = Cancel::derive(None, None);
    assert_eq!(ctx.children(), 0);
    let c = Cancel::derive(Some(&ctx), None);
    assert_eq!(ctx.children(), 1);
    c.fire();
    assert_eq!(ctx.children(), 0);
    let c = timeout(Some(&ctx), Duration::from_secs(3600));
    assert_eq!(ctx.children(), 1);
    c.fire();
    assert_eq!(ctx.children(), 0);
}

fn test_deadline(c: &Cancel, name: &str) {
    let t = Timer::after(Duration::from_secs(10)).unwrap();
    let (i, ..) = sel(&[C::Recv(t.chan()), C::Recv(&c.done())], FOREVER).unwrap();
    assert_eq!(i, 1, "{name}: context not timed out");
    assert_eq!(c.err(), Some(Error::TimedOut), "{name}");
}

/// x_test.go TestDeadline: a deadline fires with DeadlineExceeded: its own, under a child
/// with a later one, in the past, now.
#[test]
fn deadline() {
    in_goroutine(|| {
        test_deadline(&Cancel::derive(None, Some(Instant::now() + SHORT)), "WithDeadline");
        let c = Cancel::derive(None, Some(Instant::now() + SHORT));
        test_deadline(&Cancel::derive(Some(&c), Some(Instant::now() + VERY_LONG)), "WithDeadline+WithDeadline");
        test_deadline(&Cancel::derive(None, Some(Instant::now() - SHORT)), "WithDeadline+inthepast");
        test_deadline(&Cancel::derive(None, Some(Instant::now())), "WithDeadline+now");
    });
}

/// x_test.go TestTimeout: the same through WithTimeout; the child of a short timeout keeps
/// the parent's (earlier) deadline.
#[test]
fn timeouts() {
    in_goroutine(|| {
        test_deadline(&timeout(None, SHORT), "WithTimeout");
        let c = timeout(None, SHORT);
        let child = timeout(Some(&c), VERY_LONG);
        assert_eq!(child.deadline(), c.deadline(), "the earlier deadline counts");
        test_deadline(&child, "WithTimeout+WithTimeout");
    });
}

/// x_test.go TestCanceledTimeout: cancelling a token with a long deadline is Cancelled.
#[test]
fn canceled_timeout() {
    let c = timeout(None, Duration::from_secs(1));
    let c = timeout(Some(&c), VERY_LONG);
    c.fire();
    assert!(done_now(&c));
    assert_eq!(c.err(), Some(Error::Cancelled));
}

/// x_test.go TestSimultaneousCancels: a tree of ~100 tokens, all cancelled at once from
/// goroutines in any order: every `done` closes and every cancel returns.
#[test]
fn simultaneous_cancels() {
    in_goroutine(|| {
        let root = Cancel::derive(None, None);
        let mut all = vec![root.clone()];
        let mut q = std::collections::VecDeque::from([root]);
        while let Some(p) = q.pop_front() {
            if all.len() >= 100 {
                break;
            }
            for _ in 0..4 {
                let c = Cancel::derive(Some(&p), None);
                all.push(c.clone());
                q.push_back(c);
            }
        }
        let wg = Arc::new(WaitGroup::new());
        wg.add(all.len() as i64).unwrap();
        for c in all.iter().rev() {
            let (c, wg) = (c.clone(), wg.clone());
            go(move || {
                c.fire();
                wg.done().unwrap();
            });
        }
        let stuck = Timer::after(Duration::from_secs(20)).unwrap();
        for c in &all {
            let (i, ..) = sel(&[C::Recv(&c.done()), C::Recv(stuck.chan())], FOREVER).unwrap();
            assert_eq!(i, 0, "timed out waiting for <-ctx.Done()");
        }
        wg.wait(Deadline::from_timeout_ns(20_000_000_000), None).expect("cancel functions did not return");
    });
}

/// x_test.go TestInterlockedCancels: a goroutine cancels the child when it sees the parent
/// done, while the parent's cancel is cancelling the child too.
#[test]
fn interlocked_cancels() {
    in_goroutine(|| {
        let parent = Cancel::derive(None, None);
        let child = Cancel::derive(Some(&parent), None);
        let (p2, c2) = (parent.clone(), child.clone());
        go(move || {
            let mut b = [0u8];
            assert_eq!(p2.done().recv_bytes(&mut b, FOREVER, None), Err(Error::Closed));
            c2.fire();
        });
        parent.fire();
        let mut b = [0u8];
        assert_eq!(child.done().recv_bytes(&mut b, Deadline::from_timeout_ns(10_000_000_000), None), Err(Error::Closed));
    });
}

/// x_test.go TestLayersCancel and TestLayersTimeout: 30+ layers of cancel and timeout
/// tokens; cancelling any layer, or the shortest timeout, finishes the innermost.
#[test]
fn layers() {
    for test_timeout in [false, true] {
        in_goroutine(move || {
            let mut x = 0x2545_F491u64 ^ test_timeout as u64;
            let mut layers = Vec::new();
            let mut ctx = Cancel::derive(None, None);
            let mut timers = 0;
            let mut i = 0;
            while i < 30 || timers == 0 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                ctx = if x % 2 == 0 {
                    Cancel::derive(Some(&ctx), None)
                } else {
                    timers += 1;
                    timeout(Some(&ctx), if test_timeout { SHORT } else { VERY_LONG })
                };
                layers.push(ctx.clone());
                i += 1;
            }
            if test_timeout {
                test_deadline(&ctx, "layers");
            } else {
                assert!(!done_now(&ctx), "ctx should not be canceled yet");
                layers[(x % layers.len() as u64) as usize].fire();
                assert!(done_now(&ctx), "ctx should be canceled");
            }
        });
    }
}

/// x_test.go TestWithCancelCanceledParent: a child of a fired parent is fired at birth, with
/// the parent's reason.
#[test]
fn with_cancel_canceled_parent() {
    let parent = Cancel::derive(None, None);
    parent.cancel(Reason::DeadlineExceeded);
    let c = Cancel::derive(Some(&parent), None);
    assert!(done_now(&c), "child not done immediately upon construction");
    assert_eq!(c.reason(), Some(Reason::DeadlineExceeded));
}

/// x_test.go TestWithCancelSimultaneouslyCanceledParent: a parent cancelled while the
/// child is being made: the child ends fired with the parent's reason.
#[test]
fn with_cancel_simultaneously_canceled_parent() {
    in_goroutine(|| {
        for _ in 0..1000 {
            let parent = Cancel::derive(None, None);
            let p2 = parent.clone();
            go(move || p2.cancel(Reason::DeadlineExceeded));
            let c = Cancel::derive(Some(&parent), None);
            let mut b = [0u8];
            assert_eq!(c.done().recv_bytes(&mut b, FOREVER, None), Err(Error::Closed));
            assert_eq!(c.reason(), Some(Reason::DeadlineExceeded));
        }
    });
}

/// x_test.go TestDeadlineExceededSupportsTimeout: a deadline's reason maps to the timeout
/// error (`GR_ETIMEDOUT` in the C API).
#[test]
fn deadline_exceeded_is_a_timeout() {
    assert_eq!(Reason::DeadlineExceeded.error(), Error::TimedOut);
    assert_eq!(Reason::Cancelled.error(), Error::Cancelled);
}

// ------------------------------------------------------------------------- beyond Go's tests

/// Cancelling a root with 100,000 descendants (a wide tree and a deep chain) wakes every
/// waiter on each of them (goroutines parked in receives on their `done` channels, and in
/// `_ex` waits registered on them), loses none, and does not recurse (the chain would
/// overflow a goroutine stack).
#[test]
fn cancel_fanout_and_chain() {
    in_goroutine(|| {
        const N: usize = 100_000;
        let root = Cancel::derive(None, None);
        let wg = Arc::new(WaitGroup::new());
        wg.add(N as i64).unwrap();
        let never = Arc::new(Chan::new(8, 0).unwrap());
        for i in 0..N {
            let c = Cancel::derive(Some(&root), None);
            let (wg, never) = (wg.clone(), never.clone());
            go(move || {
                if i % 2 == 0 {
                    let mut b = [0u8];
                    assert_eq!(c.done().recv_bytes(&mut b, FOREVER, None), Err(Error::Closed));
                } else {
                    assert_eq!(never.recv_bytes(&mut [0u8; 8], FOREVER, Some(&c)), Err(Error::Cancelled));
                }
                wg.done().unwrap();
            });
        }
        assert_eq!(root.children(), N);
        let t0 = Instant::now();
        root.fire();
        wg.wait(Deadline::from_timeout_ns(60_000_000_000), None).expect("a waiter was lost");
        eprintln!("cancel fan-out to {N} waiting children: {:?} until the last woke", t0.elapsed());
        assert_eq!(root.children(), 0);

        let root = Cancel::derive(None, None);
        let mut leaf = root.clone();
        let mut chain = Vec::with_capacity(N);
        for _ in 0..N {
            leaf = Cancel::derive(Some(&leaf), None);
            chain.push(leaf.clone());
        }
        root.fire();
        assert!(chain.iter().all(|c| c.reason() == Some(Reason::Cancelled)));
    });
}

/// A deadline token's `err` is TimedOut and its waits end; its children share the
/// deadline's reason; cancelling it first takes its deadline out of the timer heap.
#[test]
fn deadline_reason_reaches_children_and_stop_frees_heap() {
    in_goroutine(|| {
        let base = gr_core::sched::stats().unwrap().timer_heap;
        let c = timeout(None, Duration::from_millis(30));
        let child = Cancel::derive(Some(&c), None);
        let never = Chan::new(8, 0).unwrap();
        assert_eq!(never.recv_bytes(&mut [0u8; 8], FOREVER, Some(&child)), Err(Error::Cancelled));
        assert_eq!((c.reason(), child.reason()), (Some(Reason::DeadlineExceeded), Some(Reason::DeadlineExceeded)));
        let many: Vec<Cancel> = (0..1000).map(|_| timeout(None, Duration::from_secs(3600))).collect();
        assert!(gr_core::sched::stats().unwrap().timer_heap >= base + 1000);
        many.iter().for_each(Cancel::fire);
        assert!(gr_core::sched::stats().unwrap().timer_heap <= base + 16, "cancelled deadlines stayed in the heap");
    });
}

/// Only a root may be reset (the old `gr_cancel_reset` behaviour); a reset root has a fresh
/// `done` channel.
#[test]
fn reset_roots_only() {
    let root = Cancel::new();
    let d1 = root.done();
    root.fire();
    assert!(done_now(&root));
    root.reset().unwrap();
    assert!(!done_now(&root));
    assert!(!Arc::ptr_eq(&d1, &root.done()));
    let child = Cancel::derive(Some(&root), None);
    assert_eq!(child.reset(), Err(Error::State));
    assert_eq!(Cancel::derive(None, None).reset(), Err(Error::State));
}
