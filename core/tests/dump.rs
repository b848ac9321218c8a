//! Dumps from Rust (issue 14): every parked goroutine listed once with its wait; a dump taken
//! while goroutines park and wake (holds and wakes race) loses no wake; the deadlock rule
//! does not fire on this busy test. (Debug builds also check the lock order on these paths.)

mod common;
use common::*;
use gr_core::dump::{self, GState};
use gr_core::waitreason::kind;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;

#[test]
fn parked_goroutines_are_listed_with_their_wait() {
    let ch = chan(0);
    let parked = Arc::new(AtomicU64::new(0));
    let gs: Vec<_> = (0..50)
        .map(|_| {
            let (ch, parked) = (ch.clone(), parked.clone());
            go(move || {
                parked.fetch_add(1, SeqCst);
                let _ = ch.recv_u64(FOREVER);
            })
        })
        .collect();
    while parked.load(SeqCst) < 50 {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let ids: Vec<u64> = gs.iter().map(|g| g.id).collect();
    let mut found = 0;
    for _ in 0..500 {
        let snap = dump::snapshot(None, false).expect("a runtime runs");
        found = snap
            .goroutines
            .iter()
            .filter(|l| ids.contains(&l.id) && l.state == GState::Parked && l.wait.map(|w| w.kind()) == Some(kind::CHAN_RECV))
            .count();
        if found == 50 {
            let mut seen: Vec<u64> = snap.goroutines.iter().map(|l| l.id).collect();
            seen.sort();
            seen.dedup();
            assert_eq!(seen.len(), snap.goroutines.len(), "a goroutine listed twice");
            let mut text = Vec::new();
            dump::write(&snap, dump::Format::Text, &mut |b| text.extend_from_slice(b));
            let text = String::from_utf8(text).unwrap();
            assert!(text.contains(&format!("goroutine {} [chan receive", ids[0])), "{text}");
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    assert_eq!(found, 50);
    ch.close().unwrap();
    for g in &gs {
        join(g);
    }
}

/// Dumps taken in a loop while two goroutines ping-pong: every hold delays a wake, none is
/// lost (the exchange finishes), and the dump never blocks.
#[test]
fn dumps_race_wakes_without_losing_any() {
    let (a, b) = (chan(0), chan(0));
    let stop = Arc::new(AtomicBool::new(false));
    // Dumps done so far: the ping-pong goes on until some have raced it (on a loaded machine
    // the dumper thread may not get a CPU during a fixed number of round trips).
    let dumps = Arc::new(AtomicU64::new(0));
    let (a2, b2) = (a.clone(), b.clone());
    let pong = go(move || {
        while let Ok(v) = a2.recv_u64(FOREVER) {
            b2.send_u64(v + 1, FOREVER).unwrap();
        }
    });
    let (s2, d2) = (stop.clone(), dumps.clone());
    let dumper = std::thread::spawn(move || {
        while !s2.load(SeqCst) {
            let snap = dump::snapshot(None, true).unwrap();
            let mut sink = 0usize;
            dump::write(&snap, dump::Format::Json, &mut |b| sink += b.len());
            assert!(sink > 0);
            d2.fetch_add(1, SeqCst);
        }
    });
    let d3 = dumps.clone();
    in_goroutine(move || {
        let start = std::time::Instant::now();
        let mut i = 0u64;
        // At least 20,000 round trips and 20 dumps during them (or 60 s: then the assertion
        // below reports the starved dumper).
        while i < 20_000 || (d3.load(SeqCst) < 20 && start.elapsed() < std::time::Duration::from_secs(60)) {
            a.send_u64(i, FOREVER).unwrap();
            assert_eq!(b.recv_u64(FOREVER).unwrap(), i + 1);
            i += 1;
        }
        a.close().unwrap();
    });
    join(&pong);
    stop.store(true, SeqCst);
    dumper.join().unwrap();
    assert!(dumps.load(SeqCst) >= 20, "only {} dumps raced the ping-pong", dumps.load(SeqCst));
}
