//! Runtime exports: configuration, start, shutdown and version (`gr_init`, `gr_shutdown`,
//! ...) over `gr_core::sched`'s lifecycle facade. Its counters are `stats.rs`.

use crate::boundary::*;
use gr_core::{sched, Deadline, Error};
use std::ffi::{c_char, c_int};

/// Runtime configuration. Initialise with `gr_config_init`, then set fields.
#[repr(C)]
pub struct gr_config {
    /// `sizeof(gr_config)`; `gr_config_init` sets it (fields may be appended).
    pub size: u32,
    /// Processors running goroutines; 0 = `$GR_WORKERS`, else the CPU count.
    pub workers: u32,
    /// Bytes reserved per goroutine stack; 0 = default (256 KiB). Only touched pages cost
    /// memory.
    pub stack_size: usize,
    /// Cap on the OS threads the runtime owns (workers, threads taking over from blocked
    /// goroutines, the monitor); 0 = default (10,000); at least `workers + 2`.
    pub max_threads: u32,
}

/// The library's version, "MAJOR.MINOR.PATCH"; compare with `GR_VERSION_*` from the header.
#[no_mangle]
pub extern "C" fn gr_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// Fills `config` with defaults and sets `config->size`. NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn gr_config_init(config: *mut gr_config) {
    // SAFETY: `config` is NULL or writable (gr.h).
    unsafe { write_out(config, gr_config { size: std::mem::size_of::<gr_config>() as u32, workers: 0, stack_size: 0, max_threads: 0 }) };
}

/// Starts the runtime (optional: the first call that needs it starts it with defaults).
/// `config` NULL = defaults. `GR_ESTATE` if it is running already; `GR_EINVAL` for a wrong
/// `config->size`. After `gr_shutdown`, or in a fork()ed child, this starts a fresh runtime.
#[no_mangle]
pub unsafe extern "C" fn gr_init(config: *const gr_config) -> c_int {
    guard(move || {
        // SAFETY: `config` is NULL or readable (gr.h); its size is checked before any field
        // past the first is trusted.
        let cfg = match unsafe { config.as_ref() } {
            None => sched::Config::default(),
            Some(c) => {
                if (c.size as usize) < std::mem::size_of::<gr_config>() || c.size as usize > 4096 {
                    return Err(Error::Invalid);
                }
                sched::Config { workers: c.workers as usize, stack_size: c.stack_size, max_threads: c.max_threads as usize, ..Default::default() }
            }
        };
        sched::init(cfg)
    })
}

/// Waits up to `timeout_ns` for every goroutine to return, then stops the worker threads.
/// `GR_ETIMEDOUT` if some were still running or parked (they are left as they are, never
/// unwound). Later calls return `GR_ESTATE` until `gr_init`. `GR_ESTATE` from a goroutine.
#[no_mangle]
pub extern "C" fn gr_shutdown(timeout_ns: i64) -> c_int {
    guard(move || sched::shutdown(Deadline::from_timeout_ns(timeout_ns)))
}
