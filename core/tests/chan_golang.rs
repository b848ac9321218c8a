//! Go's own channel and select tests, ported. Each test names its source in the Go tree
//! (golang/go: `test/chan/*.go`, `src/runtime/chan_test.go`); sizes are reduced so the whole
//! file runs in seconds on two cores. Go's `main` runs as a goroutine here, and some ports
//! also run their counterpart from plain threads.

mod common;
use common::*;
use gr_core::chan::{Chan, Op};
use gr_core::{Deadline, Error};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

const POLL: Deadline = Deadline::Poll;

// ---------------------------------------------------------------- test/chan/doubleselect.go

/// test/chan/doubleselect.go: a sender selects among four channels; four multiplexers
/// forward to one channel; every value arrives exactly once.
#[test]
fn doubleselect() {
    const N: u64 = 10_000;
    in_goroutine(|| {
        let cs: Vec<Arc<Chan>> = (0..4).map(|_| chan(0)).collect();
        let cmux = chan(0);
        let cs2 = cs.clone();
        go(move || {
            for i in 0..N {
                let r = sel(&[C::Send(&cs2[0], i), C::Send(&cs2[1], i), C::Send(&cs2[2], i), C::Send(&cs2[3], i)], FOREVER);
                assert!(r.is_ok());
            }
            for c in &cs2 {
                c.close().unwrap();
            }
        });
        let done = Arc::new(gr_core::sync::WaitGroup::new());
        for c in &cs {
            let (c, out, done) = (c.clone(), cmux.clone(), done.clone());
            done.add(1).unwrap();
            go(move || {
                while let Ok(v) = c.recv_u64(FOREVER) {
                    out.send_u64(v, FOREVER).unwrap();
                }
                done.done().unwrap();
            });
        }
        let out = cmux.clone();
        go(move || {
            done.wait(FOREVER, None).unwrap();
            out.close().unwrap();
        });
        let mut seen = HashSet::new();
        while let Ok(v) = cmux.recv_u64(FOREVER) {
            assert!(seen.insert(v), "got {v} twice");
        }
        assert_eq!(seen.len() as u64, N);
    });
}

// ----------------------------------------------------------------------- test/chan/fifo.go

/// test/chan/fifo.go AsynchFifo: a buffered channel keeps order.
#[test]
fn fifo_asynch() {
    const N: u64 = 10;
    let ch = chan(N as usize);
    for i in 0..N {
        ch.send_u64(i, FOREVER).unwrap();
    }
    for i in 0..N {
        assert_eq!(ch.recv_u64(FOREVER).unwrap(), i);
    }
}

/// test/chan/fifo.go SynchFifo: goroutines released one after another send in order on an
/// unbuffered channel.
#[test]
fn fifo_synch() {
    const N: u64 = 100;
    in_goroutine(|| {
        let ch = chan(0);
        let first = chan(0);
        let mut inp = first.clone();
        for i in 0..N {
            let out = chan(0);
            let (ch, inp2, out2) = (ch.clone(), inp.clone(), out.clone());
            go(move || {
                inp2.recv_u64(FOREVER).unwrap();
                ch.send_u64(i, FOREVER).unwrap();
                out2.send_u64(0, FOREVER).unwrap();
            });
            inp = out;
        }
        first.send_u64(0, FOREVER).unwrap();
        for i in 0..N {
            assert_eq!(ch.recv_u64(FOREVER).unwrap(), i);
        }
        inp.recv_u64(FOREVER).unwrap();
    });
}

// ----------------------------------------------------------------- test/chan/goroutines.go

/// test/chan/goroutines.go: a chain of goroutines each passing one value to its left.
#[test]
fn goroutines_chain() {
    const N: usize = 2000;
    in_goroutine(|| {
        let leftmost = chan(0);
        let mut right = leftmost.clone();
        let mut left;
        for _ in 0..N {
            left = right;
            right = chan(0);
            let (l, r) = (left.clone(), right.clone());
            go(move || {
                let v = r.recv_u64(FOREVER).unwrap();
                l.send_u64(v, FOREVER).unwrap();
            });
        }
        right.send_u64(1, FOREVER).unwrap();
        assert_eq!(leftmost.recv_u64(FOREVER).unwrap(), 1);
    });
}

// ------------------------------------------------------------------- test/chan/nonblock.go

/// test/chan/nonblock.go: non-blocking sends and receives (timeout 0) against blocking
/// partners, on unbuffered and buffered channels.
#[test]
fn nonblock() {
    in_goroutine(|| {
        let c = chan(0);
        assert_eq!(c.recv_u64(POLL), Err(Error::Again), "recv on empty unbuffered");
        assert_eq!(c.send_u64(1, POLL), Err(Error::Again), "send with no receiver");
        for buffer in [0usize, 1, 2, 5] {
            let c = chan(buffer);
            // A receiver waits: non-blocking sends eventually succeed.
            let (c2, got) = (c.clone(), Arc::new(AtomicU64::new(0)));
            let g2 = got.clone();
            let g = go(move || g2.store(c2.recv_u64(FOREVER).unwrap(), SeqCst));
            let mut tries = 0;
            while c.send_u64(123, POLL).is_err() {
                tries += 1;
                assert!(tries < 1_000_000, "send never succeeded");
                gr_core::sched::yield_now();
            }
            join(&g);
            assert_eq!(got.load(SeqCst), 123);
            // A sender waits: non-blocking receives eventually succeed.
            let c2 = c.clone();
            let g = go(move || c2.send_u64(456, FOREVER).unwrap());
            let mut tries = 0;
            loop {
                match c.recv_u64(POLL) {
                    Ok(v) => {
                        assert_eq!(v, 456);
                        break;
                    }
                    Err(e) => assert_eq!(e, Error::Again),
                }
                tries += 1;
                assert!(tries < 1_000_000, "recv never succeeded");
                gr_core::sched::yield_now();
            }
            join(&g);
        }
    });
}

// --------------------------------------------------------------------- test/chan/select.go

/// test/chan/select.go: a select over two ready send cases picks both over time, and
/// every value sent is received once.
#[test]
fn select_send_counts() {
    in_goroutine(|| {
        let a = chan(1);
        let b = chan(1);
        let mut counter = 0u64;
        let mut per = [0u64; 2];
        for _ in 0..1000 {
            counter += 1;
            let (i, closed, _) = sel(&[C::Send(&a, counter), C::Send(&b, counter)], FOREVER).unwrap();
            assert!(!closed);
            per[i] += 1;
            let from = if i == 0 { &a } else { &b };
            assert_eq!(from.recv_u64(POLL).unwrap(), counter);
        }
        assert!(per[0] > 300 && per[1] > 300, "biased select: {per:?}");
    });
}

// -------------------------------------------------------------------- test/chan/select3.go

fn blocks(f: impl FnOnce() + Send + 'static) -> bool {
    let done = Arc::new(AtomicBool::new(false));
    let d2 = done.clone();
    go(move || {
        f();
        d2.store(true, SeqCst);
    });
    std::thread::sleep(std::time::Duration::from_millis(20));
    !done.load(SeqCst)
}

/// test/chan/select3.go: which operations block. Nil channels never fire, closed channels
/// are always ready, a select with a default never blocks.
#[test]
fn select3_blocking_rules() {
    // nil channel: receive and send block forever (a select with only nil cases).
    assert!(blocks(|| {
        let _ = sel(&[C::Nil(Op::Recv)], FOREVER);
        unreachable!("nil recv fired");
    }));
    assert!(blocks(|| {
        let _ = sel(&[C::Nil(Op::Send)], FOREVER);
        unreachable!("nil send fired");
    }));
    // select {} blocks forever.
    assert!(blocks(|| {
        let _ = sel(&[], FOREVER);
        unreachable!("empty select returned");
    }));
    // Nil cases with a default do not block.
    assert_eq!(sel(&[C::Nil(Op::Recv), C::Nil(Op::Send)], POLL), Err(Error::Again));
    // Empty unbuffered channel blocks; a closed one does not.
    let c = chan(0);
    let c2 = c.clone();
    assert!(blocks(move || {
        let _ = c2.recv_u64(FOREVER);
    }));
    let closed = chan(0);
    closed.close().unwrap();
    assert_eq!(closed.recv_u64(FOREVER), Err(Error::Closed));
    assert_eq!(sel(&[C::Recv(&closed)], FOREVER), Ok((0, true, 0)));
    assert_eq!(sel(&[C::Nil(Op::Recv), C::Recv(&closed)], POLL), Ok((1, true, 0)));
    // Sending on a closed channel reports it (Go panics).
    assert_eq!(sel(&[C::Send(&closed, 1)], FOREVER), Ok((0, true, 1)));
    // A buffered channel with room does not block; a full one does.
    let b = chan(1);
    assert_eq!(sel(&[C::Send(&b, 1)], POLL).map(|r| r.0), Ok(0));
    assert_eq!(sel(&[C::Send(&b, 2)], POLL), Err(Error::Again));
    // Release the goroutine still blocked on `c`.
    c.close().unwrap();
}

// -------------------------------------------------------------------- test/chan/select6.go

/// test/chan/select6.go (issue 2075): a select that abandoned a receive on c1 must not
/// steal a later send on c1 from the goroutines still receiving there.
#[test]
fn select6_abandoned_case() {
    in_goroutine(|| {
        let (c1, c2, c3) = (chan(0), chan(0), chan(0));
        let c1a = c1.clone();
        go(move || {
            c1a.recv_u64(FOREVER).unwrap();
        });
        let (c1b, c2b, c3b) = (c1.clone(), c2.clone(), c3.clone());
        go(move || {
            let (i, _, _) = sel(&[C::Recv(&c1b), C::Recv(&c2b)], FOREVER).unwrap();
            assert_eq!(i, 1, "dummy: c1 fired");
            c3b.send_u64(1, FOREVER).unwrap();
            c1b.recv_u64(FOREVER).unwrap();
        });
        let c2c = c2.clone();
        go(move || c2c.send_u64(1, FOREVER).unwrap());
        c3.recv_u64(FOREVER).unwrap();
        c1.send_u64(1, FOREVER).unwrap();
        c1.send_u64(1, FOREVER).unwrap();
    });
}

// -------------------------------------------------------------------- test/chan/select7.go

/// test/chan/select7.go: a receive completes whether written as a plain receive, a
/// one-case select, or a select with a never-ready second case, with the sender first or
/// second.
#[test]
fn select7_recv_forms() {
    in_goroutine(|| {
        let never = chan(0);
        for form in 0..3 {
            for sender_first in [false, true] {
                let c = chan(0);
                let c2 = c.clone();
                let g = go(move || c2.send_u64(1, FOREVER).unwrap());
                if sender_first {
                    // Let the sender park first.
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                let v = match form {
                    0 => c.recv_u64(FOREVER).unwrap(),
                    1 => sel(&[C::Recv(&c)], FOREVER).unwrap().2,
                    _ => sel(&[C::Recv(&c), C::Recv(&never)], FOREVER).unwrap().2,
                };
                assert_eq!(v, 1);
                join(&g);
            }
        }
    });
}

// --------------------------------------------------------------------- test/chan/sieve1.go

/// test/chan/sieve1.go: the concurrent prime sieve yields the first 100 primes.
#[test]
fn sieve1() {
    in_goroutine(|| {
        let ch = chan(0);
        let c = ch.clone();
        go(move || {
            let mut i = 2;
            while c.send_u64(i, FOREVER).is_ok() {
                i += 1;
            }
        });
        let mut src = ch;
        let mut primes = Vec::new();
        for _ in 0..100 {
            let p = src.recv_u64(FOREVER).unwrap();
            primes.push(p);
            let out = chan(0);
            let (inp, o) = (src.clone(), out.clone());
            go(move || loop {
                let Ok(v) = inp.recv_u64(FOREVER) else { return };
                if v % p != 0 && o.send_u64(v, FOREVER).is_err() {
                    inp.close().ok();
                    return;
                }
            });
            src = out;
        }
        src.close().unwrap(); // unwinds the chain
        let want: Vec<u64> = (2..600u64).filter(|n| (2..*n).all(|d| n % d != 0)).take(100).collect();
        assert_eq!(primes, want);
    });
}

// --------------------------------------------------------------- src/runtime/chan_test.go

/// src/runtime/chan_test.go TestChan: for capacities 0..20, receives block on an empty
/// channel and sends on a full one; closed channels drain then report closed; len/cap;
/// FIFO with one sender; several senders and receivers transfer everything exactly once.
#[test]
fn runtime_test_chan() {
    const L: u64 = 200;
    for cap in 0..20usize {
        // Receive from an empty channel blocks (with a timeout here).
        let c = chan(cap);
        assert_eq!(c.recv_u64(ms(1)), Err(Error::TimedOut));
        // Send to a full channel blocks.
        for i in 0..cap as u64 {
            c.send_u64(i, POLL).unwrap();
        }
        assert_eq!(c.send_u64(0, ms(1)), Err(Error::TimedOut));
        assert_eq!((c.len(), c.cap()), (cap, cap));
        // Closed channel: the buffered values, then zero and closed, repeatedly.
        c.close().unwrap();
        for i in 0..cap as u64 {
            assert_eq!(c.recv_u64(FOREVER).unwrap(), i);
        }
        for _ in 0..3 {
            assert_eq!(c.recv_u64(FOREVER), Err(Error::Closed));
        }
        // Close unblocks a receiver.
        let c = chan(cap);
        let c2 = c.clone();
        let g = go(move || assert_eq!(c2.recv_u64(FOREVER), Err(Error::Closed)));
        std::thread::sleep(std::time::Duration::from_millis(1));
        c.close().unwrap();
        join(&g);
        // FIFO with one sender, one receiver.
        let c = chan(cap);
        let c2 = c.clone();
        let g = go(move || {
            for i in 0..L {
                c2.send_u64(i, FOREVER).unwrap();
            }
        });
        for i in 0..L {
            assert_eq!(c.recv_u64(FOREVER).unwrap(), i);
        }
        join(&g);
        // Several senders and receivers: every value once.
        const P: u64 = 4;
        let c = chan(cap);
        let recvd = Arc::new(Mutex::new(vec![0u32; L as usize]));
        let mut gs = Vec::new();
        for p in 0..P {
            let c = c.clone();
            gs.push(go(move || {
                for i in 0..L {
                    if i % P == p {
                        c.send_u64(i, FOREVER).unwrap();
                    }
                }
            }));
        }
        let done = Arc::new(AtomicUsize::new(0));
        let mut rs = Vec::new();
        for _ in 0..P {
            let (c, recvd, done) = (c.clone(), recvd.clone(), done.clone());
            rs.push(go(move || {
                while let Ok(v) = c.recv_u64(FOREVER) {
                    recvd.lock().unwrap()[v as usize] += 1;
                }
                done.fetch_add(1, SeqCst);
            }));
        }
        for g in &gs {
            join(g);
        }
        c.close().unwrap();
        for g in &rs {
            join(g);
        }
        assert!(recvd.lock().unwrap().iter().all(|&n| n == 1), "cap {cap}: not exactly once");
    }
}

/// src/runtime/chan_test.go TestNonblockRecvRace: a non-blocking receive never misses an
/// element that was buffered before it started, even racing a close.
#[test]
fn runtime_nonblock_recv_race() {
    for _ in 0..2000 {
        let c = chan(1);
        c.send_u64(1, FOREVER).unwrap();
        let c2 = c.clone();
        let g = go(move || {
            // Either the value or the close, never the default.
            assert!(matches!(sel(&[C::Recv(&c2)], POLL), Ok((0, _, _))), "chan is not ready");
        });
        c.close().unwrap();
        let _ = c.recv_u64(FOREVER);
        join(&g);
    }
}

/// src/runtime/chan_test.go TestNonblockSelectRace: a non-blocking select over two
/// channels, one ready before it starts, never falls to the default.
#[test]
fn runtime_nonblock_select_race() {
    for _ in 0..2000 {
        let (c1, c2) = (chan(1), chan(1));
        c1.send_u64(1, FOREVER).unwrap();
        let (a, b) = (c1.clone(), c2.clone());
        let g = go(move || {
            assert!(sel(&[C::Recv(&a), C::Recv(&b)], POLL).is_ok(), "no chan is ready");
        });
        c2.send_u64(1, FOREVER).unwrap();
        let _ = sel(&[C::Recv(&c1)], POLL);
        join(&g);
    }
}

/// src/runtime/chan_test.go TestSelfSelect: goroutines selecting to send and receive on the
/// same channel never match themselves, and pairs of them make progress.
#[test]
fn runtime_self_select() {
    for cap in [0usize, 1] {
        let c = chan(cap);
        let mut gs = Vec::new();
        for p in 0..2u64 {
            let c = c.clone();
            gs.push(go(move || {
                for i in 0..1000u64 {
                    let v = p * 1_000_000 + i;
                    let r = if p == 0 || i % 2 == 0 {
                        sel(&[C::Send(&c, v), C::Recv(&c)], FOREVER).unwrap()
                    } else {
                        let r = sel(&[C::Recv(&c), C::Send(&c, v)], FOREVER).unwrap();
                        (1 - r.0, r.1, r.2)
                    };
                    if r.0 == 1 && cap == 0 {
                        assert_ne!(r.2 / 1_000_000, p, "self receive");
                    }
                }
            }));
        }
        for g in &gs {
            join(g);
        }
    }
}

/// src/runtime/chan_test.go TestSelectDuplicateChannel: the same channel in several cases
/// (and a select waiting on it twice) works.
#[test]
fn runtime_select_duplicate_channel() {
    in_goroutine(|| {
        let (c, d, e) = (chan(0), chan(0), chan(0));
        let (c2, d2, e2) = (c.clone(), d.clone(), e.clone());
        go(move || {
            let r = sel(&[C::Recv(&c2), C::Recv(&c2), C::Recv(&d2)], FOREVER).unwrap();
            assert!(r.0 == 2 && r.2 == 8, "unexpected case {r:?}");
            e2.send_u64(9, FOREVER).unwrap();
        });
        std::thread::sleep(std::time::Duration::from_millis(1));
        let c3 = c.clone();
        go(move || {
            let _ = c3.recv_u64(FOREVER);
        });
        std::thread::sleep(std::time::Duration::from_millis(1));
        d.send_u64(8, FOREVER).unwrap();
        assert_eq!(e.recv_u64(FOREVER).unwrap(), 9);
        c.send_u64(8, FOREVER).unwrap();
    });
}

/// src/runtime/chan_test.go TestMultiConsumer: a work queue feeding 23 workers feeding a
/// result channel; the sum and count come out right.
#[test]
fn runtime_multi_consumer() {
    const NWORK: usize = 23;
    const NITER: u64 = 27_182;
    in_goroutine(|| {
        let q = chan(NWORK * 3);
        let r = chan(NWORK * 3);
        let wg = Arc::new(gr_core::sync::WaitGroup::new());
        for _ in 0..NWORK {
            wg.add(1).unwrap();
            let (q, r, wg) = (q.clone(), r.clone(), wg.clone());
            go(move || {
                while let Ok(v) = q.recv_u64(FOREVER) {
                    r.send_u64(v, FOREVER).unwrap();
                }
                wg.done().unwrap();
            });
        }
        let (r2, wg2) = (r.clone(), wg.clone());
        go(move || {
            wg2.wait(FOREVER, None).unwrap();
            r2.close().unwrap();
        });
        let q2 = q.clone();
        go(move || {
            for i in 0..NITER {
                q2.send_u64(i, FOREVER).unwrap();
            }
            q2.close().unwrap();
        });
        let (mut n, mut s) = (0u64, 0u64);
        while let Ok(v) = r.recv_u64(FOREVER) {
            n += 1;
            s += v;
        }
        assert_eq!((n, s), (NITER, NITER * (NITER - 1) / 2));
    });
}

/// src/runtime/chan_test.go TestPseudoRandomSend: a select with two send cases on the same
/// channel (values 0 and 1) picks both.
#[test]
fn runtime_pseudo_random_send() {
    for cap in [0usize, 100] {
        let c = chan(cap);
        let c2 = c.clone();
        let got = Arc::new(Mutex::new(Vec::new()));
        let g2 = got.clone();
        let g = go(move || {
            for _ in 0..100 {
                g2.lock().unwrap().push(c2.recv_u64(FOREVER).unwrap());
            }
        });
        for _ in 0..100 {
            sel(&[C::Send(&c, 0), C::Send(&c, 1)], FOREVER).unwrap();
        }
        join(&g);
        let ones: usize = got.lock().unwrap().iter().filter(|&&v| v == 1).count();
        assert!(ones > 10 && ones < 90, "cap {cap}: want pseudo-random, got {ones} ones of 100");
    }
}

/// src/runtime/chan_test.go TestSelectStress: four channels, senders and receivers both
/// plain and through selects that drop finished cases (nil channels); all values arrive.
#[test]
fn runtime_select_stress() {
    const N: u64 = 2000;
    let cs: Vec<Arc<Chan>> = vec![chan(0), chan(0), chan(2), chan(3)];
    let mut gs = Vec::new();
    // Plain senders and receivers on each channel.
    for k in 0..4 {
        let c = cs[k].clone();
        gs.push(go(move || {
            for i in 0..N {
                c.send_u64(i, FOREVER).unwrap();
            }
        }));
        let c = cs[k].clone();
        gs.push(go(move || {
            for _ in 0..N {
                c.recv_u64(FOREVER).unwrap();
            }
        }));
    }
    // A select sender and a select receiver over all four.
    let cs2 = cs.clone();
    gs.push(go(move || {
        let mut n = [0u64; 4];
        while n.iter().any(|&x| x < N) {
            let cases: Vec<C<'_>> = (0..4).map(|k| if n[k] < N { C::Send(&cs2[k], n[k]) } else { C::Nil(Op::Send) }).collect();
            let (i, closed, _) = sel(&cases, FOREVER).unwrap();
            assert!(!closed);
            n[i] += 1;
        }
    }));
    let cs3 = cs.clone();
    gs.push(go(move || {
        let mut n = [0u64; 4];
        while n.iter().any(|&x| x < N) {
            let cases: Vec<C<'_>> = (0..4).map(|k| if n[k] < N { C::Recv(&cs3[k]) } else { C::Nil(Op::Recv) }).collect();
            let (i, closed, _) = sel(&cases, FOREVER).unwrap();
            assert!(!closed);
            n[i] += 1;
        }
    }));
    for g in &gs {
        join(g);
    }
}
