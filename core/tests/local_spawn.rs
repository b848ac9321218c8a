//! `SpawnOpts::local` (`GR_SPAWN_LOCAL`): goroutines queued on the spawner's processor are
//! never stolen, yet move with the processor when its thread gets stuck. One test function,
//! in its own process, so no other test's goroutines share the runtime.

use gr_core::{sched, Deadline, Entry, GRef, SpawnOpts};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

fn spawn(f: impl FnOnce() + Send + 'static, local: bool) -> GRef {
    sched::spawn(Entry::Rust(Box::new(f)), SpawnOpts { local, ..Default::default() }).expect("spawn")
}

fn join(g: &GRef) {
    gr_core::join::join(g, Deadline::Never, None).expect("join");
}

/// Spawns `n` goroutines from inside a goroutine, each recording the thread it ran on and
/// spinning ~20 us (long enough that an idle worker would steal some); returns the spawner's
/// thread and the set of threads used.
/// The spawner is pinned (as a Python goroutine is), so that it stays on its thread: an
/// unpinned spawner yields at its spawn backlog and may itself be stolen, taking its later
/// spawns' processor along.
fn fan(n: usize, local: bool) -> (ThreadId, HashSet<ThreadId>) {
    let seen = Arc::new(Mutex::new(HashSet::new()));
    let me = Arc::new(Mutex::new(None));
    let (s2, m2) = (seen.clone(), me.clone());
    let root = spawn(
        move || {
            sched::pin().expect("pin");
            *m2.lock().unwrap() = Some(std::thread::current().id());
            let kids: Vec<_> = (0..n)
                .map(|_| {
                    let s = s2.clone();
                    spawn(
                        move || {
                            let t0 = Instant::now();
                            while t0.elapsed() < Duration::from_micros(20) {
                                std::hint::spin_loop();
                            }
                            s.lock().unwrap().insert(std::thread::current().id());
                        },
                        local,
                    )
                })
                .collect();
            for k in &kids {
                join(k);
            }
        },
        false,
    );
    join(&root);
    let me = me.lock().unwrap().expect("root ran");
    let seen = seen.lock().unwrap().clone();
    (me, seen)
}

#[test]
fn local_spawns_stay_and_move_with_their_processor() {
    sched::init(sched::Config { workers: 2, ..Default::default() }).expect("init");

    // Control: ordinary spawns get stolen by the idle worker.
    let (_, threads) = fan(2000, false);
    assert!(threads.len() >= 2, "ordinary spawns never spread (the comparison is void)");

    // 1. Local spawns all run on the spawner's thread, which holds the processor throughout.
    let (me, threads) = fan(2000, true);
    assert_eq!(threads.len(), 1, "local spawns ran on {} threads", threads.len());
    assert!(threads.contains(&me), "local spawns ran away from the spawner's thread");

    // 2. The spawner's thread gets stuck (a blocking call the runtime is not told about):
    // the monitor hands its processor, affine queue included, to another thread, so the
    // local goroutines still run while the spawner is stuck.
    let done = Arc::new(AtomicUsize::new(0));
    let seen_while_stuck = Arc::new(AtomicUsize::new(usize::MAX));
    let (d2, s2) = (done.clone(), seen_while_stuck.clone());
    let root = spawn(
        move || {
            let kids: Vec<_> = (0..100)
                .map(|_| {
                    let d = d2.clone();
                    spawn(
                        move || {
                            d.fetch_add(1, SeqCst);
                        },
                        true,
                    )
                })
                .collect();
            std::thread::sleep(Duration::from_millis(500));
            s2.store(d2.load(SeqCst), SeqCst);
            for k in &kids {
                join(k);
            }
        },
        false,
    );
    join(&root);
    assert_eq!(done.load(SeqCst), 100);
    assert_eq!(seen_while_stuck.load(SeqCst), 100, "local goroutines waited for their stuck spawner");

    // 3. A pinned goroutine's yield lets what is queued on its processor run first, as Go's
    // Gosched does (it waits behind the queues; every 61st scheduling round it gets a turn
    // anyway, so that it cannot starve). 300 local spawns then need a handful of yields to
    // all have run; when a pinned yield went back to the inbox (served every other round)
    // each yield let one goroutine run, and it took ~300.
    let ran = Arc::new(AtomicUsize::new(0));
    let r2 = ran.clone();
    let yields = Arc::new(AtomicUsize::new(0));
    let y2 = yields.clone();
    join(&spawn(
        move || {
            sched::pin().expect("pin");
            let kids: Vec<_> = (0..300)
                .map(|_| {
                    let r = r2.clone();
                    spawn(
                        move || {
                            r.fetch_add(1, SeqCst);
                        },
                        true,
                    )
                })
                .collect();
            while r2.load(SeqCst) < 300 {
                sched::yield_now();
                y2.fetch_add(1, SeqCst);
            }
            for k in &kids {
                join(k);
            }
        },
        false,
    ));
    assert_eq!(ran.load(SeqCst), 300);
    assert!(yields.load(SeqCst) <= 30, "{} pinned yields to run 300 queued goroutines", yields.load(SeqCst));

    // 4. From a plain thread the flag has no effect: the spawn still runs.
    let d3 = done.clone();
    join(&spawn(move || { d3.fetch_add(1, SeqCst); }, true));
    assert_eq!(done.load(SeqCst), 101);
}
