//! The scheduler: Go's G/M/P model, split by role as Tokio's `multi_thread` scheduler is.
//! `README.md` beside this file is the newcomer's map and argues the protocols (no lost
//! wakeup, processor hand-off, lock order).
//!
//! The facade, which the rest of the core and `gr-ffi` use:
//! - `runtime.rs`: the runtime's lifecycle and config: start on first use or `gr_init`,
//!   `shutdown`, fork, reclaiming a stopped runtime's memory, generations, `stats`.
//! - `current.rs`: the current goroutine: `CurrentG`, the park/wake glue of the waiter,
//!   `yield_now`, preemption points, `pin`, blocking sections.
//! - `spawn.rs`: `spawn`, and queueing runnable goroutines (`Runtime::ready_in`); `backlog.rs`:
//!   back-pressure on plain threads that spawn faster than the workers run.
//!
//! The internals, private to the scheduler (`state` and `tls` are also read by the waiter and
//! the overflow report):
//! - `proc.rs`: P, a processor and its local queues (ownership table).
//! - `worker.rs`: M, an OS thread, and its loop (finding work, running goroutines).
//! - `idle.rs`: idle processors and threads, spinning, hand-offs (the no-lost-wakeup rules),
//!   the keep-alive of idle threads.
//! - `bound.rs`: the thread slots of bound goroutines (their cap, waiting for one).
//! - `monitor.rs`: the monitor thread (timers, preemption, retaking processors, scavenging,
//!   polling descriptors when every M is busy, and the deadlock report's checks,
//!   `deadlock.rs`).
//! - `inspect.rs`: what each M and P is doing, for dumps, stats and the deadlock report.
//! - `stall.rs`: stall reports (`gr_stall_hook`): a goroutine holding its thread while
//!   goroutines pinned to it are ready.
//! - `poll.rs`: the scheduler's side of the netpoller (`crate::netpoll`): who blocks in
//!   epoll, who polls without blocking, where ready goroutines go.
//! - `state.rs`: the park/unpark handshake; `parker.rs`: parking an OS thread; `tls.rs`: the
//!   scheduler's thread-local block; `grace.rs`: grace periods for plain threads (when a
//!   stopped runtime's memory may be freed).
//!
//! Joining a goroutine and sleeping are waits built on the waiter: `crate::join`,
//! `crate::sleep`.

mod backlog;
mod bound;
mod current;
mod gate;
pub mod deadlock;
mod grace;
mod idle;
pub mod inspect;
mod monitor;
mod parker;
mod poll;
mod proc;
mod runtime;
mod spawn;
pub mod stall;
pub(crate) mod state;
pub(crate) mod tls;
mod worker;

pub use current::{blocking_begin, blocking_end, context, fail_current, label_current, pin, self_id, should_yield, unpin, with_current, yield_now};
pub(crate) use current::{current_coroutine_ref, park_current, park_current_unlocking, ready_after_wake, ready_after_wake_in, take_woken, waker, CurrentG, Waker};
pub use runtime::{current_gen, init, live, live_gen, on_fork, shutdown, stats, Config, ForkHooks, Stats, DEFAULT_MAX_THREADS, DEFAULT_STACK};
pub(crate) use grace::{pin as grace_pin, Pin as GracePin};
pub(crate) use current::preempt_point;
#[cfg(not(loom))]
pub(crate) use runtime::multiprocessor;
pub(crate) use runtime::{coarse_now, held, timers, with_alarm_timers, with_runtime_if_started, Held, Runtime};
#[cfg(loom)]
pub(crate) use runtime::model_timers;
pub use spawn::{spawn, spawn_gen, SpawnOpts};
