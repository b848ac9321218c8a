//! Completion ports and asynchronous operations (`gr_core::port`, `chan/aop.rs`): an event
//! loop's channel operations and joins, completed by goroutines and threads, withdrawn
//! without losing a value (issue 13, the asyncio bridge's core).

mod common;
use common::*;
use gr_core::port::{AsyncStatus, Port};
use gr_core::Deadline;
use std::sync::{Arc, Mutex};


fn readable(fd: i32, ms: i32) -> bool {
    let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd on our stack.
    unsafe { libc::poll(&mut p, 1, ms) == 1 }
}

fn take_all(port: &Port) -> Vec<u64> {
    let mut buf = [0u64; 64];
    let mut out = Vec::new();
    loop {
        let n = port.take(&mut buf);
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

const DONE: AsyncStatus = AsyncStatus::Done { closed: false, failed: false };

#[test]
fn recv_completed_by_a_goroutine_posts_once() {
    let port = Arc::new(Port::new().unwrap());
    let c = chan(0);
    let mut v = [0u8; 8];
    // SAFETY: `v` and `c` outlive the operation (dropped at the end of the test).
    let op = unsafe { c.recv_async(v.as_mut_ptr(), &port, 7) };
    assert_eq!(op.status(), AsyncStatus::Pending);
    assert!(!readable(port.fd(), 0));
    let c2 = c.clone();
    let g = go(move || c2.send_u64(42, Deadline::Never).unwrap());
    assert!(readable(port.fd(), 5000));
    assert_eq!(take_all(&port), vec![7]);
    assert!(!readable(port.fd(), 0), "readable only while completions are queued");
    assert_eq!(op.status(), DONE);
    assert_eq!(u64::from_ne_bytes(v), 42);
    assert_eq!(op.cancel(), DONE, "too late to withdraw");
    join(&g);
}

#[test]
fn ready_at_start_posts_at_once() {
    let port = Arc::new(Port::new().unwrap());
    let c = chan(1);
    let one = 5u64.to_ne_bytes();
    // SAFETY: `one` and `c` outlive the operation.
    let s = unsafe { c.send_async(one.as_ptr(), &port, 1) };
    assert_eq!(s.status(), DONE);
    let mut v = [0u8; 8];
    // SAFETY: as above.
    let r = unsafe { c.recv_async(v.as_mut_ptr(), &port, 2) };
    assert_eq!(r.status(), DONE);
    assert_eq!(u64::from_ne_bytes(v), 5);
    assert_eq!(take_all(&port), vec![1, 2]);
    c.close().unwrap();
    // SAFETY: as above.
    let r = unsafe { c.recv_async(v.as_mut_ptr(), &port, 3) };
    assert_eq!(r.status(), AsyncStatus::Done { closed: true, failed: false });
    assert_eq!(v, [0; 8], "a receive on a closed, drained channel zeroes its element");
}

#[test]
fn withdrawn_receive_loses_nothing() {
    let port = Arc::new(Port::new().unwrap());
    let c = chan(0);
    let mut v = [0u8; 8];
    // SAFETY: `v` and `c` outlive the operation.
    let op = unsafe { c.recv_async(v.as_mut_ptr(), &port, 1) };
    assert_eq!(op.cancel(), AsyncStatus::Cancelled);
    assert_eq!(op.status(), AsyncStatus::Cancelled);
    // The withdrawn receiver is gone: a poll finds nobody, and the next receiver gets the value.
    assert_eq!(c.send_u64(1, Deadline::Poll), Err(gr_core::Error::Again));
    let c2 = c.clone();
    let g = go(move || c2.send_u64(9, Deadline::Never).unwrap());
    assert_eq!(c.recv_u64(Deadline::Never).unwrap(), 9);
    join(&g);
    assert!(take_all(&port).is_empty(), "a withdrawn operation posts nothing");
    assert_eq!(v, [0; 8]);
}

#[test]
fn withdrawn_send_keeps_its_value_and_drop_withdraws() {
    let port = Arc::new(Port::new().unwrap());
    let c = chan(0);
    let x = 3u64.to_ne_bytes();
    // SAFETY: `x` and `c` outlive the operations.
    let op = unsafe { c.send_async(x.as_ptr(), &port, 1) };
    assert_eq!(op.cancel(), AsyncStatus::Cancelled);
    assert_eq!(c.recv_u64(Deadline::Poll), Err(gr_core::Error::Again));
    // SAFETY: as above.
    let op = unsafe { c.send_async(x.as_ptr(), &port, 2) };
    drop(op); // withdraws
    assert_eq!(c.recv_u64(Deadline::Poll), Err(gr_core::Error::Again));
    assert!(take_all(&port).is_empty());
}

#[test]
fn close_completes_pending_operations() {
    let port = Arc::new(Port::new().unwrap());
    let c = chan(0);
    let x = 3u64.to_ne_bytes();
    let mut v = [1u8; 8];
    // SAFETY: the buffers and `c` outlive the operations.
    let other = chan(0);
    // SAFETY: as above.
    let (s, r) = unsafe { (c.send_async(x.as_ptr(), &port, 1), other.recv_async(v.as_mut_ptr(), &port, 2)) };
    c.close().unwrap();
    assert_eq!(take_all(&port), vec![1]);
    assert_eq!(s.status(), AsyncStatus::Done { closed: true, failed: false });
    drop(r);
    drop(other);
}

#[test]
fn async_send_meets_async_receive() {
    let port = Arc::new(Port::new().unwrap());
    let c = chan(0);
    let x = 11u64.to_ne_bytes();
    let mut v = [0u8; 8];
    // SAFETY: the buffers and `c` outlive the operations.
    let r = unsafe { c.recv_async(v.as_mut_ptr(), &port, 1) };
    // SAFETY: as above.
    let s = unsafe { c.send_async(x.as_ptr(), &port, 2) };
    assert_eq!((r.status(), s.status()), (DONE, DONE));
    assert_eq!(u64::from_ne_bytes(v), 11);
    let mut got = take_all(&port);
    got.sort();
    assert_eq!(got, vec![1, 2]);
}

#[test]
fn join_async_reports_finish_and_failure() {
    let port = Arc::new(Port::new().unwrap());
    let gate = chan(0);
    let g2 = gate.clone();
    let g = go(move || {
        g2.recv_u64(Deadline::Never).unwrap();
    });
    let op = gr_core::join::join_async(&g, &port, 5);
    assert_eq!(op.status(), AsyncStatus::Pending);
    gate.send_u64(0, Deadline::Never).unwrap();
    assert!(readable(port.fd(), 5000));
    assert_eq!(take_all(&port), vec![5]);
    assert_eq!(op.status(), DONE);
    let again = gr_core::join::join_async(&g, &port, 6);
    assert_eq!(again.status(), DONE, "a finished goroutine completes at once");
    assert_eq!(take_all(&port), vec![6]);
    // Withdrawn join: the goroutine runs on, nothing is posted.
    let g2 = gate.clone();
    let g = go(move || {
        g2.recv_u64(Deadline::Never).unwrap();
    });
    let op = gr_core::join::join_async(&g, &port, 8);
    assert_eq!(op.cancel(), AsyncStatus::Cancelled);
    gate.send_u64(0, Deadline::Never).unwrap();
    join(&g);
    assert!(take_all(&port).is_empty());
}

/// Receivers that are asynchronous operations, withdrawn at random while goroutines and
/// threads send: every value sent is received exactly once, by an operation that completed
/// (even one whose withdraw came too late) or by the final drain.
#[test]
fn withdraw_races_senders_nothing_lost() {
    const SENDERS: u64 = 4;
    const PER: u64 = 5_000;
    for cap in [0usize, 4] {
        let port = Arc::new(Port::new().unwrap());
        let c = chan(cap);
        let mut joins: Vec<Box<dyn FnOnce()>> = Vec::new();
        for s in 0..SENDERS {
            let c = c.clone();
            let body = move || {
                for i in 0..PER {
                    c.send_u64(s * PER + i + 1, Deadline::Never).unwrap();
                }
            };
            if s % 2 == 0 {
                let g = go(body);
                joins.push(Box::new(move || join(&g)));
            } else {
                let t = std::thread::spawn(body);
                joins.push(Box::new(move || t.join().unwrap()));
            }
        }
        let got = Arc::new(Mutex::new(Vec::new()));
        let mut rng = 0x9e3779b97f4a7c15u64;
        let total = SENDERS * PER;
        let mut bufs: Vec<Box<[u8; 8]>> = Vec::new();
        while (got.lock().unwrap().len() as u64) < total {
            let mut b = Box::new([0u8; 8]);
            // SAFETY: `b` is kept until the operation is gone (below); `c` outlives it.
            let op = unsafe { c.recv_async(b.as_mut_ptr(), &port, 0) };
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            if rng % 3 == 0 {
                std::thread::yield_now();
            }
            let st = if rng % 2 == 0 { op.cancel() } else {
                while op.status() == AsyncStatus::Pending {
                    std::thread::yield_now();
                }
                op.status()
            };
            match st {
                AsyncStatus::Done { closed: false, .. } => got.lock().unwrap().push(u64::from_ne_bytes(*b)),
                AsyncStatus::Cancelled => assert_eq!(*b, [0; 8], "a withdrawn receive wrote nothing"),
                s => panic!("unexpected {s:?}"),
            }
            drop(op);
            bufs.push(b);
            take_all(&port);
        }
        for j in joins {
            j();
        }
        let mut v = got.lock().unwrap().clone();
        v.sort();
        assert_eq!(v, (1..=total).collect::<Vec<_>>(), "cap {cap}: every value exactly once");
    }
}
