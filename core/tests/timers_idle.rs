//! What 100,000 timers cost while idle: alone in its test binary, so that the process's CPU
//! time and thread count measure it and nothing else.

mod common;
use common::*;
use gr_core::chan::Timer;
use gr_core::sync::WaitGroup;
use gr_core::{sched, Deadline, Error};
use std::sync::Arc;
use std::time::Duration;

fn cpu_time() -> Duration {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a writable rusage.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// 100,000 pending timers nobody waits on cost no heap entry, no thread and no CPU; with a
/// goroutine parked on each they cost one heap entry each and still no thread and no CPU
/// while idle; stopped, they free their entries at once (and the parked goroutines stay
/// parked: a stopped timer delivers nothing); reset, every goroutine gets its value.
#[test]
fn hundred_thousand_pending_timers() {
    const N: usize = 100_000;
    in_goroutine(|| {
        let base = sched::stats().unwrap();
        let timers: Vec<Arc<Timer>> = (0..N).map(|_| Arc::new(Timer::after(Duration::from_secs(3600)).unwrap())).collect();
        let s = sched::stats().unwrap();
        assert!(s.timer_heap <= base.timer_heap + 16, "lazy timers took heap entries: {} -> {}", base.timer_heap, s.timer_heap);
        let cpu0 = cpu_time();
        std::thread::sleep(Duration::from_millis(300));
        let idle_cpu = cpu_time() - cpu0;
        eprintln!("100k pending timers: {} threads, {:?} CPU in 300 ms idle", s.threads, idle_cpu);

        let wg = Arc::new(WaitGroup::new());
        wg.add(N as i64).unwrap();
        for t in &timers {
            let (t, wg) = (t.clone(), wg.clone());
            go(move || {
                t.chan().recv_u64(FOREVER).unwrap();
                wg.done().unwrap();
            });
        }
        while sched::stats().unwrap().timer_heap < base.timer_heap + N as u64 {
            gr_core::sleep::sleep(1_000_000, None).unwrap();
        }
        let s = sched::stats().unwrap();
        let cpu0 = cpu_time();
        std::thread::sleep(Duration::from_millis(300));
        let parked_cpu = cpu_time() - cpu0;
        eprintln!("100k goroutines parked on timers: {} heap entries, {} threads, {:?} CPU in 300 ms idle", s.timer_heap, s.threads, parked_cpu);
        assert!(s.threads <= base.threads + 2, "threads grew from {} to {}", base.threads, s.threads);
        assert!(parked_cpu < Duration::from_millis(150), "parked timers used {parked_cpu:?} of CPU while idle");

        for t in &timers {
            assert!(t.stop());
        }
        let s = sched::stats().unwrap();
        assert!(s.timer_heap <= base.timer_heap + 16, "stopped timers kept {} heap entries", s.timer_heap - base.timer_heap);
        assert_eq!(wg.wait(Deadline::from_timeout_ns(50_000_000), None), Err(Error::TimedOut), "a stopped timer delivered");
        for t in &timers {
            assert!(!t.reset(Duration::ZERO).unwrap());
        }
        wg.wait(FOREVER, None).unwrap();
    });
}

