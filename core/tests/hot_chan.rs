//! A channel contended at a high rate ("hot") keeps its partners on one processor: goroutines
//! woken through it displace runnext into the affine queue, which no one steals. In its own
//! process, so no other test's goroutines share the runtime.

use gr_core::chan::Chan;
use gr_core::{sched, Deadline, Entry, GRef, SpawnOpts};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;

fn go(f: impl FnOnce() + Send + 'static) -> GRef {
    sched::spawn(Entry::Rust(Box::new(f)), SpawnOpts::default()).expect("spawn")
}

fn join(g: &GRef) {
    gr_core::join::join(g, Deadline::Never, None).expect("join");
}

/// Samples: (50 us window since the start, OS thread) of every 16th operation after the
/// first quarter.
type Samples = Vec<(u64, ThreadId)>;

fn sample(n: u64, i: u64, t0: std::time::Instant, mine: &mut Samples) {
    if i > n / 4 && i % 16 == 0 {
        mine.push((t0.elapsed().as_micros() as u64 / 50, std::thread::current().id()));
    }
}

#[test]
fn contended_fan_in_keeps_to_one_processor() {
    sched::init(sched::Config { workers: 2, ..Default::default() }).expect("init");
    // The property is about scheduling, which a loaded host disturbs (a thread descheduled
    // mid-goroutine loses its processor to another thread after ~10 ms): the best of three
    // runs must show it.
    let mut tries = Vec::new();
    for _ in 0..3 {
        let (both, all) = fan_in_overlap();
        if both * 4 <= all {
            return;
        }
        tries.push((both, all));
    }
    panic!("the fan-in ran on several threads at once in too many 50 us windows: {tries:?}");
}

/// Runs a 4 -> 4 fan-in of 4M values over one channel and returns (windows with operations
/// on several threads, windows with operations).
fn fan_in_overlap() -> (usize, usize) {
    const PER: u64 = 1_000_000;
    let ch = Arc::new(Chan::new(8, 1024).expect("chan"));
    let seen = Arc::new(Mutex::new(Samples::new()));
    let t0 = std::time::Instant::now();
    let total = Arc::new(Mutex::new(0u64));
    let main = {
        let (ch, seen, total) = (ch.clone(), seen.clone(), total.clone());
        go(move || {
            let cons: Vec<_> = (0..4)
                .map(|_| {
                    let (ch, seen, total) = (ch.clone(), seen.clone(), total.clone());
                    go(move || {
                        let (mut s, mut i, mut mine) = (0u64, 0u64, Samples::new());
                        while let Ok(v) = ch.recv_u64(Deadline::Never) {
                            s += v;
                            i += 1;
                            sample(PER, i, t0, &mut mine);
                        }
                        *total.lock().unwrap() += s;
                        seen.lock().unwrap().extend(mine);
                    })
                })
                .collect();
            let prods: Vec<_> = (0..4)
                .map(|_| {
                    let (ch, seen) = (ch.clone(), seen.clone());
                    go(move || {
                        let mut mine = Samples::new();
                        for i in 1..=PER {
                            ch.send_u64(i, Deadline::Never).expect("send");
                            sample(PER, i, t0, &mut mine);
                        }
                        seen.lock().unwrap().extend(mine);
                    })
                })
                .collect();
            for p in &prods {
                join(p);
            }
            ch.close().expect("close");
            for c in &cons {
                join(c);
            }
        })
    };
    join(&main);
    assert_eq!(*total.lock().unwrap(), 4 * PER * (PER + 1) / 2, "values lost or duplicated");
    // Concurrency: in how many 50 us windows did operations run on more than one thread?
    // (The goroutines may move between threads as a group; what costs is running on two
    // cores at once, bouncing the channel's lock.)
    let mut windows: HashMap<u64, HashSet<ThreadId>> = HashMap::new();
    for &(w, t) in seen.lock().unwrap().iter() {
        windows.entry(w).or_default().insert(t);
    }
    let both = windows.values().filter(|s| s.len() > 1).count();
    // Stealing alone spreads these goroutines over both workers about half the time
    // (measured: 1407 of 2979 and 1649 of 3221 windows); with the hot-channel rule they run
    // on one core at a time, except for short lapses (the rule is re-armed by contention)
    // (measured: 25-282 of ~2100 windows).
    (both, windows.len())
}
