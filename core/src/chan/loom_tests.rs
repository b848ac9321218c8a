//! Loom models of the channel protocols (run by `make test-loom`). Each keeps to two or three
//! threads and one or two elements so the exhaustive search stays within seconds.
//!
//! The waiter is the model in `wait.rs`: a deadline may expire at any point after the wait
//! is published, racing every completer.

use super::select::{select, Case, Op};
use super::Chan;
use crate::error::Error;
use crate::loom::Arc;
use crate::waiter::Deadline;
use std::time::Instant;

fn soon() -> Deadline {
    Deadline::At(Instant::now())
}

fn send(c: &Chan, v: u64, d: Deadline) -> Result<(), Error> {
    c.send_u64(v, d)
}

/// State machine of a buffered channel (capacity 1): two values, a parked sender and a
/// parked receiver in every order; FIFO, nothing lost, nothing duplicated.
#[test]
fn loom_chan_buffered_fifo() {
    loom::model(|| {
        let c = Arc::new(Chan::new(8, 1).unwrap());
        let c2 = c.clone();
        let t = loom::thread::spawn(move || {
            send(&c2, 1, Deadline::Never).unwrap();
            send(&c2, 2, Deadline::Never).unwrap();
        });
        assert_eq!(c.recv_u64(Deadline::Never).unwrap(), 1);
        assert_eq!(c.recv_u64(Deadline::Never).unwrap(), 2);
        t.join().unwrap();
        assert_eq!(c.len(), 0);
    });
}

/// Unbuffered hand-off racing a sender's timeout: the value is received iff the send
/// reported OK; a poll afterwards finds nothing left behind.
#[test]
fn loom_chan_handoff_vs_timeout() {
    loom::model(|| {
        let c = Arc::new(Chan::new(8, 0).unwrap());
        let c2 = c.clone();
        let t = loom::thread::spawn(move || send(&c2, 7, soon()));
        let got = c.recv_u64(soon());
        let sent = t.join().unwrap();
        match (sent, got) {
            (Ok(()), Ok(7)) => {}
            (Err(Error::TimedOut), Err(Error::TimedOut)) => {}
            other => panic!("lost or invented value: {other:?}"),
        }
        assert_eq!(c.recv_u64(Deadline::Poll), Err(Error::Again));
    });
}

/// Close racing a parked send and a parked receive on an unbuffered channel: either the
/// value passed (both OK) or both saw the close; never one without the other.
#[test]
fn loom_chan_close_races_send_recv() {
    loom::model(|| {
        let c = Arc::new(Chan::new(8, 0).unwrap());
        let (c2, c3) = (c.clone(), c.clone());
        let s = loom::thread::spawn(move || send(&c2, 5, Deadline::Never));
        let k = loom::thread::spawn(move || c3.close());
        let got = c.recv_u64(Deadline::Never);
        let sent = s.join().unwrap();
        assert_eq!(k.join().unwrap(), Ok(()));
        match (sent, got) {
            (Ok(()), Ok(5)) => {}
            (Err(Error::Closed), Err(Error::Closed)) => {}
            other => panic!("inconsistent close: {other:?}"),
        }
        assert_eq!(c.close(), Err(Error::Closed));
    });
}

/// Close of a buffered channel racing a send: a value accepted before the close is still
/// received after it; one refused stays with the sender.
#[test]
fn loom_chan_close_keeps_buffered() {
    loom::model(|| {
        let c = Arc::new(Chan::new(8, 1).unwrap());
        let c2 = c.clone();
        let s = loom::thread::spawn(move || send(&c2, 9, Deadline::Never));
        c.close().unwrap();
        let sent = s.join().unwrap();
        let got = c.recv_u64(Deadline::Never);
        match (sent, got) {
            (Ok(()), Ok(9)) | (Err(Error::Closed), Err(Error::Closed)) => {}
            other => panic!("inconsistent close: {other:?}"),
        }
    });
}

/// Select commit: one select receiving from two channels, two senders with deadlines. The
/// select takes exactly one value, the matching send alone reports OK, and the other
/// sender's value is neither lost nor duplicated (its send timed out).
#[test]
fn loom_select_commit_one_winner() {
    // Three parties spinning in the modelled waiter: bound the preemptions to keep it short.
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(2);
    b.check(|| {
        // Both channels in one allocation: select locks in address order, and loom needs
        // every execution to take the same path, so their order must not depend on where
        // the allocator put them (with other tests allocating on other threads, two
        // separate `Arc`s came out in either order, and loom's replay diverged).
        let ab = Arc::new([Chan::new(8, 0).unwrap(), Chan::new(8, 0).unwrap()]);
        let (a, b) = (&ab[0], &ab[1]);
        let (a2, b2) = (ab.clone(), ab.clone());
        let ta = loom::thread::spawn(move || send(&a2[0], 1, soon()));
        let tb = loom::thread::spawn(move || send(&b2[1], 2, soon()));
        let mut va = 0u64;
        let mut vb = 0u64;
        let cases = [
            Case { chan: Some(a), op: Op::Recv, elem: &mut va as *mut u64 as *mut u8 },
            Case { chan: Some(b), op: Op::Recv, elem: &mut vb as *mut u64 as *mut u8 },
        ];
        // SAFETY: both elements are live u64s for the whole call.
        let r = unsafe { select(&cases, soon(), None) };
        let (sa, sb) = (ta.join().unwrap(), tb.join().unwrap());
        match r {
            Ok(r) => {
                assert!(!r.closed);
                if r.index == 0 {
                    assert_eq!((va, vb), (1, 0));
                    assert_eq!((sa, sb), (Ok(()), Err(Error::TimedOut)));
                } else {
                    assert_eq!((va, vb), (0, 2));
                    assert_eq!((sa, sb), (Err(Error::TimedOut), Ok(())));
                }
            }
            Err(e) => {
                assert_eq!(e, Error::TimedOut);
                assert_eq!((va, vb), (0, 0));
                assert_eq!((sa, sb), (Err(Error::TimedOut), Err(Error::TimedOut)));
            }
        }
        // The select left no entry behind.
        assert!(crate::loom::lock(&a.inner).recvq.is_clear());
        assert!(crate::loom::lock(&b.inner).recvq.is_clear());
    });
}

/// A select with two receive cases on the same channel (each its own entry in one queue),
/// racing a sender and its own timeout: the value is taken by at most one case, iff the send
/// reported OK, and the select withdraws every entry it still has (by key), so none is left.
#[test]
fn loom_select_repeated_case_vs_timeout() {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(2);
    b.check(|| {
        let a = Arc::new(Chan::new(8, 0).unwrap());
        let a2 = a.clone();
        let t = loom::thread::spawn(move || send(&a2, 3, soon()));
        let (mut v0, mut v1) = (0u64, 0u64);
        let cases = [
            Case { chan: Some(&a), op: Op::Recv, elem: &mut v0 as *mut u64 as *mut u8 },
            Case { chan: Some(&a), op: Op::Recv, elem: &mut v1 as *mut u64 as *mut u8 },
        ];
        // SAFETY: both elements are live u64s for the whole call.
        let r = unsafe { select(&cases, soon(), None) };
        let sent = t.join().unwrap();
        match r {
            Ok(r) => {
                assert_eq!(sent, Ok(()));
                assert_eq!(if r.index == 0 { (v0, v1) } else { (v1, v0) }, (3, 0));
            }
            Err(e) => {
                assert_eq!(e, Error::TimedOut);
                assert_eq!(sent, Err(Error::TimedOut));
                assert_eq!((v0, v1), (0, 0));
            }
        }
        assert!(crate::loom::lock(&a.inner).recvq.is_clear());
        assert!(crate::loom::lock(&a.inner).sendq.is_clear());
    });
}
