//! The netpoller through the core's API (`gr_core::netpoll::ops`), in the debug builds too,
//! where the lock-order check runs: waits from goroutines and threads, a close racing
//! parked waiters, and a short stress of readiness against timeouts and closes. The C suite
//! (`tests/c/net_*.c`) covers the ABI, sockets and scale.

mod common;
use common::*;
use gr_core::netpoll::ops::{self, EV_READ, EV_WRITE};
use gr_core::{Deadline, Error};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn pipe() -> (i32, i32) {
    let mut p = [0; 2];
    // SAFETY: `p` is a valid out array of two descriptors.
    assert_eq!(unsafe { libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    (p[0], p[1])
}

fn put(fd: i32, b: &[u8]) {
    // SAFETY: `b` is valid for reads of its length.
    assert_eq!(unsafe { libc::write(fd, b.as_ptr().cast(), b.len()) }, b.len() as isize);
}

fn read(fd: i32, buf: &mut [u8], d: Deadline) -> Result<usize, Error> {
    // SAFETY: `buf` is valid for writes of its length.
    unsafe { ops::read(fd, buf.as_mut_ptr(), buf.len(), d, None) }
}

#[test]
fn goroutine_reads_what_a_thread_writes() {
    let (r, w) = pipe();
    let g = go(move || {
        let mut buf = [0u8; 16];
        let mut got = Vec::new();
        while got.len() < 6 {
            let n = read(r, &mut buf, FOREVER).unwrap();
            assert!(n > 0);
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"abcdef");
    });
    std::thread::sleep(Duration::from_millis(20));
    put(w, b"abc");
    std::thread::sleep(Duration::from_millis(20));
    put(w, b"def");
    join(&g);
    ops::close(r, false).unwrap();
    ops::close(w, false).unwrap();
}

#[test]
fn wait_is_level_correct_and_times_out() {
    let (r, w) = pipe();
    assert_eq!(ops::wait(r, EV_READ, Deadline::Poll, None), Err(Error::Again));
    let t0 = Instant::now();
    assert_eq!(ops::wait(r, EV_READ, ms(20), None), Err(Error::TimedOut));
    assert!(t0.elapsed() >= Duration::from_millis(20));
    put(w, b"x");
    ops::wait(r, EV_READ, FOREVER, None).unwrap();
    ops::wait(r, EV_READ | EV_WRITE, FOREVER, None).unwrap();
    assert_eq!(ops::wait(r, 0, FOREVER, None), Err(Error::Invalid));
    ops::close(r, false).unwrap();
    ops::close(w, false).unwrap();
}

/// The inode behind `fd`, if it is open.
fn inode(fd: i32) -> Option<u64> {
    // SAFETY: fstat writes the stat buffer on our stack and reads only the descriptor table.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    (unsafe { libc::fstat(fd, &mut st) } == 0).then_some(st.st_ino as u64)
}

/// Goroutines and threads parked on one pipe all get `Closed`; the number is closed once the
/// last of them returned.
#[test]
fn close_wakes_goroutines_and_threads() {
    let (r, w) = pipe();
    let closed = Arc::new(AtomicUsize::new(0));
    let mut gs = Vec::new();
    for i in 0..20 {
        let c = closed.clone();
        gs.push(go(move || {
            let mut b = [0u8; 1];
            let e = if i % 2 == 0 { read(r, &mut b, ms(10_000)).unwrap_err() } else { ops::wait(r, EV_READ, ms(10_000), None).unwrap_err() };
            assert_eq!(e, Error::Closed);
            c.fetch_add(1, SeqCst);
        }));
    }
    let ts: Vec<_> = (0..3)
        .map(|_| {
            let c = closed.clone();
            std::thread::spawn(move || {
                assert_eq!(ops::wait(r, EV_READ, ms(10_000), None), Err(Error::Closed));
                c.fetch_add(1, SeqCst);
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(50));
    let ino = inode(r);
    ops::close(r, false).unwrap();
    gs.iter().for_each(join);
    ts.into_iter().for_each(|t| t.join().unwrap());
    assert_eq!(closed.load(SeqCst), 23);
    // The pipe is closed: the number is free, or (the other tests of this binary run in
    // parallel and open descriptors) names another file.
    assert_ne!(inode(r), Some(ino.unwrap()));
    ops::close(w, false).unwrap();
}

/// Readiness racing timeouts and closes: every result is one the API allows, every byte
/// written is read exactly once, nothing hangs.
#[test]
fn stress_readiness_timeouts_closes() {
    for round in 0..30u64 {
        let (r, w) = pipe();
        let got = Arc::new(AtomicUsize::new(0));
        let mut gs = Vec::new();
        for i in 0..8u64 {
            let got = got.clone();
            gs.push(go(move || {
                let mut b = [0u8; 1];
                loop {
                    match read(r, &mut b, ms(1 + (i + round) % 4)) {
                        Ok(1) => {
                            got.fetch_add(1, SeqCst);
                        }
                        Ok(n) => panic!("read {n}"),
                        Err(Error::TimedOut) => {}
                        Err(Error::Closed) | Err(Error::Os(libc::EBADF)) => return,
                        Err(e) => panic!("unexpected {e:?}"),
                    }
                }
            }));
        }
        let writes = 5 + round as usize % 7;
        for _ in 0..writes {
            put(w, b"z");
            std::thread::sleep(Duration::from_micros(300));
        }
        let t0 = Instant::now();
        while got.load(SeqCst) < writes {
            assert!(t0.elapsed() < Duration::from_secs(10), "bytes lost");
            std::thread::sleep(Duration::from_millis(1));
        }
        ops::close(r, false).unwrap();
        gs.iter().for_each(join);
        assert_eq!(got.load(SeqCst), writes);
        ops::close(w, false).unwrap();
    }
}
