//! Channel semantics from goroutines and plain threads: hand-off, FIFO, close, timeouts,
//! cancel, drop functions.

mod common;
use common::*;
use gr_core::chan::{select, Case, Chan, ElemDrop, Op};
use gr_core::{Cancel, Deadline, Error};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

#[test]
fn unbuffered_goroutine_to_thread() {
    let c = chan(0);
    let c2 = c.clone();
    let g = go(move || {
        for i in 0..1000 {
            c2.send_u64(i, FOREVER).unwrap();
        }
        c2.close().unwrap();
    });
    for i in 0..1000 {
        assert_eq!(c.recv_u64(FOREVER).unwrap(), i);
    }
    assert_eq!(c.recv_u64(FOREVER), Err(Error::Closed));
    join(&g);
}

#[test]
fn unbuffered_thread_to_goroutine() {
    let c = chan(0);
    let c2 = c.clone();
    let sum = Arc::new(AtomicUsize::new(0));
    let s2 = sum.clone();
    let g = go(move || {
        while let Ok(v) = c2.recv_u64(FOREVER) {
            s2.fetch_add(v as usize, SeqCst);
        }
    });
    for i in 1..=1000 {
        c.send_u64(i, FOREVER).unwrap();
    }
    c.close().unwrap();
    join(&g);
    assert_eq!(sum.load(SeqCst), 500500);
}

#[test]
fn goroutines_meet_on_unbuffered() {
    in_goroutine(|| {
        let c = chan(0);
        let c2 = c.clone();
        let g = go(move || {
            for i in 0..10_000 {
                c2.send_u64(i, FOREVER).unwrap();
            }
        });
        for i in 0..10_000 {
            assert_eq!(c.recv_u64(FOREVER).unwrap(), i);
        }
        join(&g);
    });
}

#[test]
fn buffered_fifo_len_cap() {
    let c = chan(10);
    assert_eq!(c.cap(), 10);
    for i in 0..10 {
        c.send_u64(i, Deadline::Poll).unwrap();
        assert_eq!(c.len(), i as usize + 1);
    }
    assert_eq!(c.send_u64(99, Deadline::Poll), Err(Error::Again));
    assert_eq!(c.send_u64(99, ms(5)), Err(Error::TimedOut));
    for i in 0..10 {
        assert_eq!(c.recv_u64(Deadline::Poll).unwrap(), i);
    }
    assert_eq!(c.recv_u64(Deadline::Poll), Err(Error::Again));
    assert_eq!(c.recv_u64(ms(5)), Err(Error::TimedOut));
}

#[test]
fn close_drains_then_closed_and_zeroes() {
    let c = chan(4);
    c.send_u64(7, FOREVER).unwrap();
    c.send_u64(8, FOREVER).unwrap();
    c.close().unwrap();
    assert_eq!(c.close(), Err(Error::Closed));
    assert_eq!(c.send_u64(9, FOREVER), Err(Error::Closed));
    assert_eq!(c.recv_u64(FOREVER).unwrap(), 7);
    assert_eq!(c.recv_u64(FOREVER).unwrap(), 8);
    let mut b = [0xffu8; 8];
    assert_eq!(c.recv_bytes(&mut b, FOREVER, None), Err(Error::Closed));
    assert_eq!(b, [0u8; 8]);
}

#[test]
fn close_wakes_blocked_senders_and_receivers() {
    let c = chan(0);
    let mut gs = Vec::new();
    for i in 0..4 {
        let c = c.clone();
        gs.push(go(move || {
            let b = [i as u8; 8];
            assert_eq!(c.send_bytes(&b, FOREVER, None), Err(Error::Closed));
            assert_eq!(b, [i as u8; 8], "a failed send keeps its value");
        }));
    }
    let d = chan(0);
    for _ in 0..4 {
        let d = d.clone();
        gs.push(go(move || {
            let mut b = [0xaau8; 8];
            assert_eq!(d.recv_bytes(&mut b, FOREVER, None), Err(Error::Closed));
            assert_eq!(b, [0u8; 8]);
        }));
    }
    std::thread::sleep(std::time::Duration::from_millis(20));
    c.close().unwrap();
    d.close().unwrap();
    for g in &gs {
        join(g);
    }
}

#[test]
fn timeout_from_goroutine_and_thread() {
    let c = chan(0);
    let t0 = std::time::Instant::now();
    assert_eq!(c.recv_u64(ms(20)), Err(Error::TimedOut));
    assert!(t0.elapsed().as_millis() >= 20);
    let c2 = c.clone();
    in_goroutine(move || {
        let t0 = std::time::Instant::now();
        assert_eq!(c2.send_u64(1, ms(20)), Err(Error::TimedOut));
        assert!(t0.elapsed().as_millis() >= 20);
    });
    // Nothing was left behind: a poll finds no sender.
    assert_eq!(c.recv_u64(Deadline::Poll), Err(Error::Again));
}

#[test]
fn cancel_ends_waits() {
    let c = chan(0);
    let cancel = Arc::new(Cancel::new());
    let (c2, k2) = (c.clone(), cancel.clone());
    let g = go(move || {
        let mut b = [0u8; 8];
        assert_eq!(c2.recv_bytes(&mut b, FOREVER, Some(&k2)), Err(Error::Cancelled));
    });
    std::thread::sleep(std::time::Duration::from_millis(10));
    cancel.fire();
    join(&g);
    assert_eq!(c.send_bytes(&[1; 8], FOREVER, Some(&cancel)), Err(Error::Cancelled));
    cancel.reset().unwrap();
    assert_eq!(c.send_bytes(&[1; 8], ms(1), Some(&cancel)), Err(Error::TimedOut));
}

/// Issue 16: a plain thread spins before it registers with its cancel token (`waiter::block`).
/// A fire during that spin or after it ends the wait with `Cancelled` and takes nothing; a
/// value that arrives during the spin is received; a deadline shorter than the spin holds.
#[test]
fn thread_wait_with_cancel_spins_first_and_keeps_its_contract() {
    let c = chan(0);
    for delay_us in [0u64, 30, 3_000] {
        let k = Arc::new(Cancel::new());
        let k2 = k.clone();
        let firer = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_micros(delay_us));
            k2.fire();
        });
        let mut b = [0u8; 8];
        assert_eq!(c.recv_bytes(&mut b, FOREVER, Some(&k)), Err(Error::Cancelled), "fired after {delay_us} us");
        assert_eq!(c.send_bytes(&[7; 8], FOREVER, Some(&k)), Err(Error::Cancelled), "already fired");
        firer.join().unwrap();
    }
    let k = Cancel::new();
    let t0 = std::time::Instant::now();
    let mut b = [0u8; 8];
    assert_eq!(c.recv_bytes(&mut b, Deadline::from_timeout_ns(3_000), Some(&k)), Err(Error::TimedOut));
    assert!(t0.elapsed() >= std::time::Duration::from_micros(3));
    // Values handed over while the receiver spins, with a live token: nothing lost or doubled.
    let c2 = c.clone();
    let g = go(move || {
        for i in 0..2_000u64 {
            c2.send_u64(i, FOREVER).unwrap();
        }
    });
    for i in 0..2_000u64 {
        let mut b = [0u8; 8];
        c.recv_bytes(&mut b, FOREVER, Some(&k)).unwrap();
        assert_eq!(u64::from_ne_bytes(b), i);
    }
    join(&g);
}

static DROPPED: AtomicUsize = AtomicUsize::new(0);
unsafe extern "C" fn count_drop(elem: *mut std::ffi::c_void, ctx: *mut std::ffi::c_void) {
    assert_eq!(ctx as usize, 0x1234);
    DROPPED.fetch_add(*(elem as *const u64) as usize, SeqCst);
}

#[test]
fn drop_fn_runs_on_remaining_items() {
    let c = Chan::with_drop(8, 8, Some(ElemDrop { f: count_drop, ctx: 0x1234 as *mut _ })).unwrap();
    for v in [1u64, 10, 100] {
        c.send_u64(v, FOREVER).unwrap();
    }
    assert_eq!(c.recv_u64(FOREVER).unwrap(), 1);
    drop(c);
    assert_eq!(DROPPED.load(SeqCst), 110);
}

#[test]
fn elem_size_limits() {
    assert!(matches!(Chan::new(0, 1), Err(Error::Invalid)));
    // Above the documented maximum (64 KiB, Go's): refused whatever the capacity.
    assert!(matches!(Chan::new(gr_core::chan::ELEM_MAX + 1, 0), Err(Error::Invalid)));
    assert!(matches!(Chan::new(1 << 40, 1 << 40), Err(Error::Invalid)));
    assert!(matches!(Chan::new(usize::MAX, 0), Err(Error::Invalid)));
    // At the maximum: fine; a buffer that cannot be had is `NoMemory`.
    assert!(Chan::new(gr_core::chan::ELEM_MAX, 4).is_ok());
    assert!(matches!(Chan::new(gr_core::chan::ELEM_MAX, usize::MAX / 2), Err(Error::NoMemory)));
}

#[test]
fn select_mixed_thread_and_goroutine() {
    let a = chan(0);
    let b = chan(0);
    let (a2, b2) = (a.clone(), b.clone());
    let g = go(move || {
        a2.send_u64(1, FOREVER).unwrap();
        assert_eq!(b2.recv_u64(FOREVER).unwrap(), 2);
    });
    let mut got = [0u64; 2];
    for _ in 0..2 {
        let mut rv = 0u64;
        let sv = 2u64;
        let cases = [
            Case { chan: Some(&a), op: Op::Recv, elem: &mut rv as *mut u64 as *mut u8 },
            Case { chan: Some(&b), op: Op::Send, elem: &sv as *const u64 as *mut u8 },
        ];
        let r = unsafe { select(&cases, FOREVER, None) }.unwrap();
        assert!(!r.closed);
        got[r.index] += 1;
        if r.index == 0 {
            assert_eq!(rv, 1);
        }
    }
    assert_eq!(got, [1, 1]);
    join(&g);
}

/// Long wait queues withdraw lazily (stale entries swept later): timed-out receivers mixed
/// with live ones never take a value, and every live one gets exactly one.
#[test]
fn long_queue_with_timeouts() {
    let c = chan(0);
    let got = Arc::new(std::sync::Mutex::new(Vec::new()));
    let timed_out = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut gs = Vec::new();
    for i in 0..600u64 {
        let (c, got, timed_out) = (c.clone(), got.clone(), timed_out.clone());
        gs.push(go(move || {
            if i % 3 == 0 {
                if let Ok(v) = c.recv_u64(FOREVER) {
                    got.lock().unwrap().push(v);
                }
            } else {
                assert_eq!(c.recv_u64(ms(1 + i % 5)), Err(Error::TimedOut));
                timed_out.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }));
    }
    // Send only once every timed receiver has given up (a fixed sleep was not enough on a
    // loaded machine: a receiver that had not started yet took a value and failed).
    while timed_out.load(std::sync::atomic::Ordering::SeqCst) < 400 {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    for v in 0..200u64 {
        c.send_u64(v, FOREVER).unwrap();
    }
    for g in &gs {
        join(g);
    }
    let mut got = got.lock().unwrap().clone();
    got.sort();
    assert_eq!(got, (0..200).collect::<Vec<_>>());
    assert_eq!(c.recv_u64(Deadline::Poll), Err(Error::Again));
}

/// Selects over more cases than the inline bookkeeping holds (heap path), including one
/// channel repeated in many cases, and a parked select woken through the 12th case.
#[test]
fn select_many_cases() {
    let chans: Vec<Arc<Chan>> = (0..12).map(|_| chan(1)).collect();
    for k in 0..12 {
        chans[k].send_u64(k as u64, FOREVER).unwrap();
        let cases: Vec<C<'_>> = chans.iter().map(|c| C::Recv(c)).collect();
        assert_eq!(sel(&cases, Deadline::Poll), Ok((k, false, k as u64)));
    }
    let same = chan(0);
    let cases: Vec<C<'_>> = (0..12).map(|_| C::Recv(&same)).collect();
    assert_eq!(sel(&cases, Deadline::Poll), Err(Error::Again));
    let last = chans[11].clone();
    let g = go(move || {
        std::thread::sleep(std::time::Duration::from_millis(5));
        last.send_u64(99, FOREVER).unwrap();
    });
    let cases: Vec<C<'_>> = chans.iter().map(|c| C::Recv(c)).chain((0..4).map(|_| C::Recv(&same))).collect();
    assert_eq!(sel(&cases, FOREVER), Ok((11, false, 99)));
    join(&g);
    for c in &chans {
        assert!(c.is_empty());
    }
}

/// A select that waits with two send cases on one unbuffered channel is served in random
/// case order (its entries are queued in poll order), not always by its first case.
#[test]
fn parked_select_same_channel_is_random() {
    let c = chan(0);
    let c2 = c.clone();
    let g = go(move || {
        let mut ones = 0;
        for _ in 0..60 {
            std::thread::sleep(std::time::Duration::from_micros(300)); // let the select park
            ones += c2.recv_u64(FOREVER).unwrap();
        }
        assert!(ones > 5 && ones < 55, "parked select not random: {ones} ones of 60");
    });
    for _ in 0..60 {
        sel(&[C::Send(&c, 0), C::Send(&c, 1)], FOREVER).unwrap();
    }
    join(&g);
}
