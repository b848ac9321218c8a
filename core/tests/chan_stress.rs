//! Nothing-lost stress and select fairness (issue 3).
//!
//! 8 producers and 8 consumers on one channel, each kind split across coroutine goroutines,
//! thread-bound goroutines and plain OS threads; plain operations and selects; random
//! timeouts (poll, short, forever); the channel is closed in the middle of the run. Every
//! value a send accepted (OK) must be received exactly once, and nothing else received.

mod common;
use common::*;
use gr_core::chan::{Chan, Op};
use gr_core::{Deadline, Error};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn deadline(&mut self) -> Deadline {
        match self.next() % 8 {
            0 | 1 => Deadline::Poll,
            2..=4 => Deadline::from_timeout_ns((self.next() % 200_000) as i64),
            _ => Deadline::Never,
        }
    }
}

/// Runs `f` as a coroutine goroutine, a bound goroutine or a plain thread (by `kind % 3`);
/// returns a joiner.
fn start(kind: usize, f: impl FnOnce() + Send + 'static) -> Box<dyn FnOnce()> {
    match kind % 3 {
        0 => {
            let g = go(f);
            Box::new(move || join(&g))
        }
        1 => {
            let g = go_bound(f);
            Box::new(move || join(&g))
        }
        _ => {
            let t = std::thread::spawn(f);
            Box::new(move || t.join().unwrap())
        }
    }
}

fn nothing_lost(cap: usize, per_producer: u64) {
    const P: usize = 8;
    const Q: usize = 8;
    let c = Arc::new(Chan::new(8, cap).unwrap());
    let never = Arc::new(Chan::new(8, 0).unwrap());
    let sent: Arc<Mutex<Vec<u64>>> = Arc::default();
    let recvd: Arc<Mutex<Vec<u64>>> = Arc::default();
    let mut joins = Vec::new();
    for p in 0..P {
        let (c, never, sent) = (c.clone(), never.clone(), sent.clone());
        joins.push(start(p, move || {
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (p as u64 + 1) * 0x1234_5677);
            let mut mine = Vec::new();
            'outer: for i in 0..per_producer {
                let v = ((p as u64) << 32) | i;
                loop {
                    let d = rng.deadline();
                    let r = if rng.next() % 3 == 0 {
                        sel(&[C::Send(&c, v), C::Recv(&never)], d).map(|(i, closed, _)| {
                            assert_eq!(i, 0);
                            closed
                        })
                    } else {
                        c.send_u64(v, d).map(|()| false).or_else(|e| if e == Error::Closed { Ok(true) } else { Err(e) })
                    };
                    match r {
                        Ok(false) => {
                            mine.push(v);
                            break;
                        }
                        Ok(true) => break 'outer, // closed: the value stays with us
                        Err(Error::TimedOut) | Err(Error::Again) => continue, // retry the same value
                        Err(e) => panic!("send: {e:?}"),
                    }
                }
            }
            sent.lock().unwrap().extend(mine);
        }));
    }
    for q in 0..Q {
        let (c, never, recvd) = (c.clone(), never.clone(), recvd.clone());
        joins.push(start(q + 1, move || {
            let mut rng = Rng(0x2545_f491_4f6c_dd1d ^ (q as u64 + 1) * 0x8765_4321);
            let mut mine = Vec::new();
            loop {
                let d = rng.deadline();
                let r = if rng.next() % 3 == 0 {
                    sel(&[C::Nil(Op::Recv), C::Recv(&c), C::Recv(&never)], d).map(|(i, closed, v)| {
                        assert_eq!(i, 1);
                        (closed, v)
                    })
                } else {
                    match c.recv_u64(d) {
                        Ok(v) => Ok((false, v)),
                        Err(Error::Closed) => Ok((true, 0)),
                        Err(e) => Err(e),
                    }
                };
                match r {
                    Ok((false, v)) => mine.push(v),
                    Ok((true, v)) => {
                        assert_eq!(v, 0, "closed receive must zero the element");
                        break;
                    }
                    Err(Error::TimedOut) | Err(Error::Again) => {}
                    Err(e) => panic!("recv: {e:?}"),
                }
            }
            recvd.lock().unwrap().extend(mine);
        }));
    }
    // Close in the middle of the run.
    std::thread::sleep(Duration::from_millis(250));
    c.close().unwrap();
    for j in joins {
        j();
    }
    let sent = sent.lock().unwrap();
    let recvd = recvd.lock().unwrap();
    let mut count: HashMap<u64, i32> = HashMap::new();
    for v in sent.iter() {
        *count.entry(*v).or_default() += 1;
    }
    for v in recvd.iter() {
        let e = count.entry(*v).or_default();
        assert!(*e == 1, "value {v:#x} received but not sent, or received twice");
        *e -= 1;
    }
    let lost: Vec<_> = count.iter().filter(|(_, &n)| n != 0).collect();
    assert!(lost.is_empty(), "{} values sent OK but never received, e.g. {:?}", lost.len(), lost.first());
    assert!(!sent.is_empty(), "nothing was sent before the close");
    eprintln!("cap {cap}: {} sent OK, {} received", sent.len(), recvd.len());
}

#[test]
fn nothing_lost_unbuffered() {
    nothing_lost(0, 1_000_000);
}

#[test]
fn nothing_lost_buffered() {
    nothing_lost(16, 1_000_000);
}

/// Two always-ready channels: each is chosen 50% +- 3% over 100,000 selects.
#[test]
fn select_fairness() {
    const N: usize = 100_000;
    let a = chan(1);
    let b = chan(1);
    a.send_u64(0, FOREVER).unwrap();
    b.send_u64(1, FOREVER).unwrap();
    let mut hits = [0usize; 2];
    for _ in 0..N {
        let (i, closed, v) = sel(&[C::Recv(&a), C::Recv(&b)], FOREVER).unwrap();
        assert!(!closed);
        assert_eq!(v, i as u64);
        hits[i] += 1;
        let ch = if i == 0 { &a } else { &b };
        ch.send_u64(v, FOREVER).unwrap();
    }
    for h in hits {
        let share = h as f64 / N as f64;
        assert!((0.47..=0.53).contains(&share), "unfair select: {hits:?}");
    }
}
