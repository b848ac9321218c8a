//! Loom models of the registration state machine (`desc.rs`), run by `make test-loom`. The
//! waits are the model in `chan/wait.rs`; epoll is modelled by its guarantee: an edge is
//! delivered (`Desc::deliver`) after the data that caused it arrived.

use super::desc::{Desc, Register, READ};
use super::{CLOSED, READY};
use crate::chan::wait::{block, prepare, Token};
use crate::error::Error;
use crate::loom::{Arc, AtomicBool, AtomicUsize};
use crate::waiter::Deadline;
use crate::waitreason::WaitReason;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Instant;

type D = Desc<Token>;

fn deliver_read(d: &D, gen: u32) {
    let mut out = Vec::new();
    d.deliver(gen, true, false, &mut out);
    for t in out {
        t.complete(READY);
    }
}

/// Data arrives (and its edge is delivered) while a reader goes from its EAGAIN to parking:
/// the reader either sees the data, sees the sequence move (retry), or is woken. Never
/// parked for good (loom reports a livelock as a model failure).
#[test]
fn edge_between_eagain_and_park_is_not_lost() {
    loom::model(|| {
        let d: Arc<D> = Arc::new(Desc::new());
        let data = Arc::new(AtomicBool::new(false));
        let gen = d.acquire().unwrap();
        let (d2, data2) = (d.clone(), data.clone());
        let poller = loom::thread::spawn(move || {
            data2.store(true, SeqCst); // the peer's write
            deliver_read(&d2, gen); // the edge epoll reports after it
        });
        loop {
            let seqs = d.seqs();
            if data.load(SeqCst) {
                break; // the read(2) got the data
            }
            // read(2) said EAGAIN
            match d.register(gen, READ, seqs, || prepare(WaitReason::NONE)).unwrap() {
                Register::Retry => continue,
                Register::Parked(tok, _, _) => {
                    assert_eq!(block(&tok, Deadline::Never, None), READY);
                }
            }
        }
        poller.join().unwrap();
        assert!(!d.release(gen));
    });
}

/// gr_fd_close races a reader parking: the reader ends with Closed (from `register`, or its
/// token completed with CLOSED); the descriptor is closed exactly once, by whoever leaves
/// last, and the next generation starts clean.
#[test]
fn close_wakes_or_refuses_the_waiter_and_closes_once() {
    loom::model(|| {
        let d: Arc<D> = Arc::new(Desc::new());
        let closes = Arc::new(AtomicUsize::new(0));
        let gen = d.acquire().unwrap();
        let (d2, c2) = (d.clone(), closes.clone());
        let closer = loom::thread::spawn(move || {
            let mut out = Vec::new();
            let (g, _registered, _) = d2.begin_close(false, &mut out).unwrap();
            for t in out {
                t.complete(CLOSED);
            }
            if d2.release(g) {
                d2.finish(g, || {
                    c2.fetch_add(1, SeqCst);
                    Ok(())
                })
                .unwrap();
            }
        });
        let seqs = d.seqs();
        let r = match d.register(gen, READ, seqs, || prepare(WaitReason::NONE)) {
            Err(e) => e,
            Ok(Register::Retry) => panic!("no edge was delivered"),
            Ok(Register::Parked(tok, _, _)) => {
                assert_eq!(block(&tok, Deadline::Never, None), CLOSED);
                Error::Closed
            }
        };
        assert_eq!(r, Error::Closed);
        if d.release(gen) {
            d.finish(gen, || {
                closes.fetch_add(1, SeqCst);
                Ok(())
            })
            .unwrap();
        }
        closer.join().unwrap();
        assert_eq!(closes.load(SeqCst), 1);
        assert_eq!(d.acquire().unwrap(), gen + 1);
    });
}

/// An edge of an older generation (in flight when the number was closed and reused) never
/// completes a wait of the new generation; the new wait times out.
#[test]
fn stale_generation_edge_is_ignored() {
    loom::model(|| {
        let d: Arc<D> = Arc::new(Desc::new());
        let old = d.acquire().unwrap();
        let mut out = Vec::new();
        let (g, _, _) = d.begin_close(false, &mut out).unwrap();
        assert!(!d.release(g)); // the old user is still in...
        assert!(d.release(old)); // ...and the last to leave finishes the close
        d.finish(g, || Ok(())).unwrap();
        let gen = d.acquire().unwrap();
        assert_eq!(gen, old + 1);
        let d2 = d.clone();
        let poller = loom::thread::spawn(move || deliver_read(&d2, old));
        let seqs = d.seqs();
        match d.register(gen, READ, seqs, || prepare(WaitReason::NONE)).unwrap() {
            Register::Retry => panic!("a stale edge moved the new generation's sequence"),
            Register::Parked(tok, n, keys) => {
                let r = block(&tok, Deadline::At(Instant::now()), None);
                assert_ne!(r, READY);
                assert_eq!(d.withdraw(keys), n);
            }
        }
        poller.join().unwrap();
        assert!(!d.release(gen));
    });
}

/// A new operation racing a close in progress: it is refused while old users remain, and
/// after the close finishes it gets the next generation, never the old one.
#[test]
fn acquire_during_close_sees_closed_or_the_next_generation() {
    loom::model(|| {
        let d: Arc<D> = Arc::new(Desc::new());
        let gen = d.acquire().unwrap();
        let d2 = d.clone();
        let closer = loom::thread::spawn(move || {
            let mut out = Vec::new();
            let (g, _, _) = d2.begin_close(false, &mut out).unwrap();
            if d2.release(g) {
                d2.finish(g, || Ok(())).unwrap();
            }
        });
        let d3 = d.clone();
        let newcomer = loom::thread::spawn(move || match d3.acquire() {
            Ok(g) => {
                assert!(g == gen + 1 || g == gen);
                if g == gen {
                    // came before the close began: an ordinary user, released below
                    if d3.release(g) {
                        d3.finish(g, || Ok(())).unwrap();
                    }
                } else {
                    assert!(!d3.release(g));
                }
            }
            Err(e) => assert_eq!(e, Error::Closed),
        });
        if d.release(gen) {
            d.finish(gen, || Ok(())).unwrap();
        }
        closer.join().unwrap();
        newcomer.join().unwrap();
        assert_eq!(d.acquire().unwrap(), gen + 1);
    });
}
