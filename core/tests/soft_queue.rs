//! The soft queue (`sched/proc.rs`): a goroutine displaced from runnext by a goroutine's wake
//! of another stays on the waker's processor unless its work goes stale. In its own process,
//! so no other test's goroutines share the runtime.

mod common;

use common::{chan, go, join};
use gr_core::chan::{select, Case, Chan, Op};
use gr_core::{sched, Deadline};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex, Once};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| sched::init(sched::Config { workers: 2, ..Default::default() }).expect("init"));
}

/// A goroutine that wakes two others (the first is displaced from runnext into the soft
/// queue), then computes for a long time without calling gr: the soft-queued goroutine is
/// run by the other worker while it still computes. Nothing is stranded behind a goroutine
/// that runs long.
#[test]
fn stale_soft_work_is_run_by_another_worker() {
    init();
    let (a, b) = (chan(0), chan(0));
    let ran_on: Arc<Mutex<Option<ThreadId>>> = Arc::new(Mutex::new(None));
    let a_ran = Arc::new(AtomicBool::new(false));
    let main = {
        let (a, b, ran_on, a_ran) = (a.clone(), b.clone(), ran_on.clone(), a_ran.clone());
        go(move || {
            let ga = {
                let (a, ran_on, a_ran) = (a.clone(), ran_on.clone(), a_ran.clone());
                go(move || {
                    a.recv_u64(Deadline::Never).expect("recv");
                    *ran_on.lock().unwrap() = Some(std::thread::current().id());
                    a_ran.store(true, SeqCst);
                })
            };
            let gb = {
                let b = b.clone();
                go(move || {
                    b.recv_u64(Deadline::Never).expect("recv");
                })
            };
            // Let both park in their receives.
            gr_core::sleep::sleep(20_000_000, None).expect("sleep");
            let me = std::thread::current().id();
            a.send_u64(1, Deadline::Never).expect("send"); // a -> runnext
            b.send_u64(2, Deadline::Never).expect("send"); // b -> runnext, a -> soft
            // Compute, never calling gr, until `a` ran or 5 s passed.
            let t0 = Instant::now();
            let mut x = 1u64;
            while !a_ran.load(SeqCst) && t0.elapsed() < Duration::from_secs(5) {
                for _ in 0..1000 {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                }
                std::hint::black_box(x);
            }
            let during = a_ran.load(SeqCst);
            assert!(during, "the soft-queued goroutine did not run while its processor's goroutine computed for 5 s");
            assert_ne!(*ran_on.lock().unwrap(), Some(me), "it ran on the computing goroutine's own thread");
            join(&ga);
            join(&gb);
        })
    };
    join(&main);
}

/// (50 us window since the start, OS thread, whether the consumer) of every 16th operation
/// after the first quarter.
type Samples = Vec<(u64, ThreadId, bool)>;

/// The select-shaped workload (4 producers on their own unbuffered channels, 1 consumer
/// selecting over them): its producers, woken by the consumer, stay on the consumer's
/// processor (the soft queue), so in most 50 us windows the workload runs on one thread.
/// Asserts at most 10% of the windows on two threads, best of three runs.
///
/// Measured (7 Dec 2026): 0-5 of ~1,000 windows in 10 runs on the idle machine, 0-4 of
/// ~1,500 in 5 runs with two busy loops competing for both CPUs. Before the stolen
/// goroutine's run was timed (`sched/README.md` section 14, "The select's second worker"),
/// one steal of a producer opened a 200 us window of steals and the consumer followed its
/// producers: 105-247 of 1,075-1,307 windows (8-20%) on the idle machine, and this test was
/// left out of `make test` for failing there as often as under load.
#[test]
fn select_partners_keep_to_one_processor() {
    init();
    let mut tries = Vec::new();
    for _ in 0..3 {
        let (both, all) = select_overlap();
        if both * 10 <= all {
            return;
        }
        tries.push((both, all));
    }
    panic!("the select's producers ran on another thread than its consumer in too many 50 us windows: {tries:?}");
}

/// Runs the select workload (400,000 receives) and returns (windows in which it ran on
/// several threads, windows with samples).
fn select_overlap() -> (usize, usize) {
    const PER: u64 = 100_000;
    let chans: Vec<Arc<Chan>> = (0..4).map(|_| chan(0)).collect();
    let seen = Arc::new(Mutex::new(Samples::new()));
    let sum = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    let main = {
        let (chans, seen, sum) = (chans.clone(), seen.clone(), sum.clone());
        go(move || {
            let prods: Vec<_> = chans
                .iter()
                .map(|c| {
                    let (c, seen) = (c.clone(), seen.clone());
                    go(move || {
                        let mut mine = Samples::new();
                        for i in 1..=PER {
                            c.send_u64(i, Deadline::Never).expect("send");
                            if i > PER / 4 && i % 16 == 0 {
                                mine.push((t0.elapsed().as_micros() as u64 / 50, std::thread::current().id(), false));
                            }
                        }
                        seen.lock().unwrap().extend(mine);
                    })
                })
                .collect();
            let mut mine = Samples::new();
            let mut s = 0u64;
            for i in 1..=4 * PER {
                let mut v = 0u64;
                let cases: Vec<Case<'_>> = chans
                    .iter()
                    .map(|c| Case { chan: Some(&**c), op: Op::Recv, elem: &mut v as *mut u64 as *mut u8 })
                    .collect();
                // SAFETY: every case's element is `v`, a u64 (the channels' element size)
                // that outlives the call.
                let r = unsafe { select(&cases, Deadline::Never, None) }.expect("select");
                assert!(!r.closed);
                s += v;
                if i > PER && i % 16 == 0 {
                    mine.push((t0.elapsed().as_micros() as u64 / 50, std::thread::current().id(), true));
                }
            }
            sum.store(s, SeqCst);
            seen.lock().unwrap().extend(mine);
            for p in &prods {
                join(p);
            }
        })
    };
    join(&main);
    assert_eq!(sum.load(SeqCst), 4 * PER * (PER + 1) / 2, "every value received once");
    let mut windows: HashMap<u64, HashSet<ThreadId>> = HashMap::new();
    for (w, t, _) in seen.lock().unwrap().iter() {
        windows.entry(*w).or_default().insert(*t);
    }
    let both = windows.values().filter(|s| s.len() > 1).count();
    (both, windows.len())
}
