//! The sanitizers of the host program: AddressSanitizer and ThreadSanitizer, told about
//! every goroutine switch and every hand-off gr makes, when the program runs under one.
//!
//! gr itself is never built with a sanitizer: it looks their entry points up at run time
//! (`dlsym(RTLD_DEFAULT)`, once, on the first hook reached: at the latest as a worker
//! starts) and caches what it found in [`STATE`]. What a normal program pays:
//! - per goroutine switch, nothing: each worker picks, once, a copy of its run loop without
//!   the hooks (`sched/worker.rs`, `run_loop::<false>`), and a goroutine's own side tests a
//!   bit of a pointer it loads anyway (`goroutine.rs`, `G::suspend`);
//! - per C API call, a load of the boundary's own flag and a branch not taken on each side
//!   (`gr-ffi`'s `boundary.rs`, `crate::sanitize`);
//! - per wake, ring operation, hand-off, spawn and Mutex or WaitGroup operation, a load of
//!   [`STATE`] and a branch not taken ([`on`]).
//! Everything else sits in out-of-line functions (callgrind figures: `bench/README.md`).
//!
//! What each sanitizer is told (`g` a goroutine, `cell` a wait cell, `waiter.rs`):
//!
//! | event                          | ASan                                      | TSan |
//! |--------------------------------|-------------------------------------------|------|
//! | a C API call                   |                                           | gr's own accesses ignored for its duration; the caller's cell released at entry, acquired at exit (`crate::sanitize`) |
//! | a goroutine is spawned         |                                           | a fiber, made in the spawner's context; `release(&g.done)` |
//! | it first runs                  | `start_switch_fiber` to its stack         | its stack's shadow reset; switched to (no implicit sync); `acquire(&g.done)` |
//! | it parks or yields, is resumed | start/finish switch, with its fake stack  | switched away and back (no implicit sync) |
//! | it returns                     | its fake stack freed                      | `release(&g.done)` and for `gr_shutdown`; the fiber destroyed |
//! | a wait is completed            |                                           | the completer releases the owner's cell; a channel peer also acquires it (`waiter::Token::complete_handoff`) |
//! | ring slots, close, Mutex, WaitGroup, cancel, join, shutdown |              | `release`/`acquire` at the object (their files say where) |
//!
//! gr's own code is invisible to TSan: its threads (workers' scheduler code, the monitor)
//! ignore memory accesses for good ([`internal_thread`]), and every C API call does so for
//! its duration. So TSan checks the host's code only, and its model of gr is the edges
//! above: Go's memory model (a send before the matching receive completes; for an
//! unbuffered channel also the receive before the send completes; the k-th receive before
//! the (k+C)-th send completes; a close before a receive that sees it; an unlock before
//! the next lock; `done` before the `wait` it releases; a spawn before the goroutine
//! starts; its end before a join sees it). Runtime threads publish no edges ([`release`]
//! skips them), so nothing leaks from one goroutine to another through the worker that ran
//! both.
//!
//! Limits (README.md, "Sanitizers"): TSan cannot see synchronisation done by foreign code
//! that is not instrumented (a Python or Java host); bound goroutines run on their worker's
//! own TSan thread (two bound goroutines on one worker look ordered); goroutines share
//! their worker's thread-locals, on which races are not reported; gcc's TSan runtime
//! allows 8,128 live threads and fibers together.

use std::cell::Cell;
use std::ffi::{c_void, CStr};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU8, AtomicUsize};
use std::sync::OnceLock;

/// Nothing found (a normal program): every hook returns at once.
const NONE: u8 = 0;
/// AddressSanitizer's fiber switch functions were found.
const ASAN: u8 = 1;
/// ThreadSanitizer's fiber and annotation functions were found.
const TSAN: u8 = 2;
/// Not looked up yet: the first hook reached does it.
const UNKNOWN: u8 = 0x80;

/// One of `NONE`, `ASAN`, `TSAN` once looked up.
static STATE: AtomicU8 = AtomicU8::new(UNKNOWN);

/// `__tsan_switch_to_fiber` flag: no happens-before edge between the two fibers.
const NO_SYNC: u32 = 1;

type StartSwitch = unsafe extern "C" fn(*mut *mut c_void, *const c_void, usize);
type FinishSwitch = unsafe extern "C" fn(*mut c_void, *mut *const c_void, *mut usize);
type OnAddr = unsafe extern "C" fn(*mut c_void);
/// A dynamic annotation: its caller's file and line (TSan only reports them).
type Annotation = unsafe extern "C" fn(*const std::ffi::c_char, i32);
type BenignRace = unsafe extern "C" fn(*const std::ffi::c_char, i32, *const c_void, usize, *const std::ffi::c_char);

/// The entry points found (all of one sanitizer, or none).
#[derive(Default)]
struct Api {
    start_switch: Option<StartSwitch>,
    finish_switch: Option<FinishSwitch>,
    acquire: Option<OnAddr>,
    release: Option<OnAddr>,
    create_fiber: Option<unsafe extern "C" fn(u32) -> *mut c_void>,
    destroy_fiber: Option<OnAddr>,
    switch_to_fiber: Option<unsafe extern "C" fn(*mut c_void, u32)>,
    current_fiber: Option<unsafe extern "C" fn() -> *mut c_void>,
    ignore_begin: Option<unsafe extern "C" fn()>,
    ignore_end: Option<unsafe extern "C" fn()>,
    mutex_destroy: Option<unsafe extern "C" fn(*mut c_void, u32)>,
    ignore_sync_begin: Option<Annotation>,
    ignore_sync_end: Option<Annotation>,
    benign_race: Option<BenignRace>,
}

static API: OnceLock<Api> = OnceLock::new();

/// The address of `name` in the process (the program, its preloads, its libraries).
fn lookup(name: &CStr) -> *mut c_void {
    // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name only reads the loader's tables.
    unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) }
}

/// Looks the entry points up (once) and records what was found.
#[cold]
#[inline(never)]
fn init() -> u8 {
    let api = API.get_or_init(|| {
        macro_rules! find {
            ($name:literal) => {{
                let p = lookup($name);
                // SAFETY: a sanitizer runtime's entry point of this name has this C
                // signature (compiler-rt's `common_interface_defs.h`, `tsan_interface.h`,
                // `dynamic_annotations.h`).
                (!p.is_null()).then(|| unsafe { std::mem::transmute_copy(&p) })
            }};
        }
        let mut a = Api { start_switch: find!(c"__sanitizer_start_switch_fiber"), finish_switch: find!(c"__sanitizer_finish_switch_fiber"), ..Api::default() };
        if a.start_switch.is_none() || a.finish_switch.is_none() {
            a = Api {
                acquire: find!(c"__tsan_acquire"),
                release: find!(c"__tsan_release"),
                create_fiber: find!(c"__tsan_create_fiber"),
                destroy_fiber: find!(c"__tsan_destroy_fiber"),
                switch_to_fiber: find!(c"__tsan_switch_to_fiber"),
                current_fiber: find!(c"__tsan_get_current_fiber"),
                ignore_begin: find!(c"__tsan_ignore_thread_begin"),
                ignore_end: find!(c"__tsan_ignore_thread_end"),
                mutex_destroy: find!(c"__tsan_mutex_destroy"),
                ignore_sync_begin: find!(c"AnnotateIgnoreSyncBegin"),
                ignore_sync_end: find!(c"AnnotateIgnoreSyncEnd"),
                benign_race: find!(c"AnnotateBenignRaceSized"),
                ..Api::default()
            };
        }
        a
    });
    let s = if api.start_switch.is_some() {
        ASAN
    } else if api.acquire.is_some()
        && api.release.is_some()
        && api.create_fiber.is_some()
        && api.destroy_fiber.is_some()
        && api.switch_to_fiber.is_some()
        && api.current_fiber.is_some()
        && api.ignore_begin.is_some()
        && api.ignore_end.is_some()
    {
        TSAN
    } else {
        NONE // (a TSan runtime without the fiber API is too old to follow goroutines)
    };
    STATE.store(s, Relaxed);
    s
}

/// Is any hook to run? The one check a hot path makes (true until looked up).
#[inline(always)]
pub(crate) fn on() -> bool {
    !cfg!(loom) && STATE.load(Relaxed) != NONE
}

/// The sanitizer in use (looking it up on first use).
#[inline]
fn state() -> u8 {
    match STATE.load(Relaxed) {
        UNKNOWN => init(),
        s => s,
    }
}

/// Under ThreadSanitizer (looking it up on first use).
pub(crate) fn tsan() -> bool {
    on() && state() == TSAN
}

/// Under AddressSanitizer (looking it up on first use).
pub(crate) fn asan() -> bool {
    on() && state() == ASAN
}

/// Under AddressSanitizer, as the stack-overflow report asks from its signal handler
/// (async-signal-safe: it only reads the state; a goroutine that ran looked it up).
pub(crate) fn asan_known() -> bool {
    STATE.load(Relaxed) == ASAN
}

fn api() -> &'static Api {
    API.get().expect("looked up before any hook that uses it")
}

/// Calls a TSan entry point that takes an address.
fn call_tsan(f: Option<OnAddr>, addr: usize) {
    // SAFETY: found with this signature (`init`); TSan only records the address (a sync
    // object, or a fiber it made).
    unsafe { (f.expect("found with the TSan state"))(addr as *mut c_void) };
}

// ---------------------------------------------------------------------------------------------
// Per-thread state.

/// What a thread remembers for the goroutines it runs.
struct Here {
    /// Runtime code runs here (a worker's scheduler code, the monitor): TSan ignores it and
    /// it publishes no edges. False while a worker runs a goroutine (switched to its fiber,
    /// or a bound one on the worker's own).
    internal: Cell<bool>,
    /// TSan: this thread's own fiber, to switch back to from a goroutine.
    fiber: Cell<usize>,
    /// ASan: this thread's own stack, to switch back to from a goroutine.
    stack: Cell<(usize, usize)>,
}

thread_local! {
    static HERE: Here = const { Here { internal: Cell::new(false), fiber: Cell::new(0), stack: Cell::new((0, 0)) } };
}

/// This thread's state, looked up afresh (goroutines migrate: see `sched/tls.rs`).
#[inline(never)]
fn with_here<R>(f: impl FnOnce(&Here) -> R) -> R {
    HERE.with(f)
}

/// Marks the calling thread as one of the runtime's own: TSan ignores its memory accesses
/// from now on, and it publishes no happens-before edges. `worker`: it runs goroutines,
/// which share its thread-locals. Call it first thing on the thread: the ignore ends as
/// the thread's last Rust thread-local destructor runs (TSan reports a thread that ends
/// ignoring), and thread-locals made later are destroyed before it, still ignored.
pub(crate) fn internal_thread(worker: bool) {
    if tsan() {
        if worker {
            benign_thread_locals();
        }
        edge(birth(), true); // see `Internal`
        with_here(|h| h.internal.set(true));
        ignore(true);
        INTERNAL.with(|_| ());
    }
}

/// Tells TSan that races on this thread's thread-locals (`errno`, C `__thread` variables:
/// every loaded object's static TLS block) are benign. Every goroutine that runs on a worker
/// uses the worker's thread-locals, one goroutine at a time but in no order TSan could see.
fn benign_thread_locals() {
    let Some(f) = api().benign_race else { return };
    extern "C" fn each(info: *mut libc::dl_phdr_info, _size: libc::size_t, data: *mut c_void) -> libc::c_int {
        // SAFETY: the loader hands a valid `info` (and its program headers) for the call;
        // `data` is the annotation function passed below.
        unsafe {
            let info = &*info;
            let f: BenignRace = std::mem::transmute(data);
            let phdrs = std::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum as usize);
            if let Some(tls) = phdrs.iter().find(|p| p.p_type == libc::PT_TLS) {
                if !info.dlpi_tls_data.is_null() && tls.p_memsz > 0 {
                    f(c"gr".as_ptr(), 0, info.dlpi_tls_data, tls.p_memsz as usize, c"a gr worker's thread-locals, shared by its goroutines".as_ptr());
                }
            }
        }
        0
    }
    // SAFETY: the callback only reads what the loader hands it and calls TSan's annotation.
    unsafe { libc::dl_iterate_phdr(Some(each), f as *mut c_void) };
}

/// Where a runtime thread published what it did before it became ours (`internal_thread`).
fn birth() -> usize {
    with_here(|h| h as *const Here as usize)
}

/// Ends the ignore `internal_thread` began, when the thread exits.
struct Internal;

impl Drop for Internal {
    fn drop(&mut self) {
        if with_here(|h| h.internal.replace(false)) {
            ignore(false); // the thread ends
        } else {
            // A goroutine running here called `exit()`, which runs this thread's destructors
            // on the goroutine's context; glibc then frees the thread's destructor list, made
            // as the thread started: the goroutine comes after that.
            edge(birth(), false);
        }
    }
}

thread_local! {
    static INTERNAL: Internal = const { Internal };
}

/// Starts a runtime thread through `spawn`: under TSan, without the happens-before edge
/// from its creator (any goroutine or thread that happened to start it), which would
/// otherwise reach every bound goroutine it runs (they run on the worker's own TSan thread).
pub(crate) fn new_thread<T>(spawn: impl FnOnce() -> T) -> T {
    let quiet = tsan() && api().ignore_sync_begin.is_some() && api().ignore_sync_end.is_some();
    if quiet {
        // SAFETY: found with this signature; balanced below on this thread.
        unsafe { (api().ignore_sync_begin.expect("checked"))(c"gr".as_ptr(), 0) };
    }
    let r = spawn();
    if quiet {
        // SAFETY: as above.
        unsafe { (api().ignore_sync_end.expect("checked"))(c"gr".as_ptr(), 0) };
    }
    r
}

// ---------------------------------------------------------------------------------------------
// Happens-before edges (TSan).

/// The calling context publishes what it did so far at `addr` (`__tsan_release`). Skipped on
/// runtime threads.
#[inline(always)]
pub(crate) fn release(addr: usize) {
    if on() {
        edge(addr, true);
    }
}

/// The calling context learns what was published at `addr` (`__tsan_acquire`).
#[inline(always)]
pub(crate) fn acquire(addr: usize) {
    if on() {
        edge(addr, false);
    }
}

/// `acquire` then `release` at `addr`: a slot of a channel's ring, which orders its writer
/// before its reader and that reader before the slot's next writer.
#[inline(always)]
pub(crate) fn acquire_release(addr: usize) {
    if on() {
        edge(addr, false);
        edge(addr, true);
    }
}

#[cold]
#[inline(never)]
fn edge(addr: usize, rel: bool) {
    if state() != TSAN || with_here(|h| h.internal.get()) {
        return;
    }
    let a = api();
    call_tsan(if rel { a.release } else { a.acquire }, addr);
}

/// A peer takes over the parked owner of wait cell `cell` (a channel hand-off; the caller
/// checked [`on`]): both sides' earlier work happens before what either does next, and,
/// for a buffered channel, the value counts as passed through ring slot `slot` (0: none).
#[cold]
#[inline(never)]
pub(crate) fn handoff(cell: usize, slot: usize) {
    edge(cell, false);
    if slot != 0 {
        edge(slot, false);
        edge(slot, true);
    }
    edge(cell, true);
}

/// The object at `addr` is gone: forget what was published there, so that an object later
/// made at the same address (pools reuse them) does not inherit it.
#[inline(always)]
pub(crate) fn forget(addr: usize) {
    if on() {
        forget_slow(addr);
    }
}

#[cold]
#[inline(never)]
fn forget_slow(addr: usize) {
    if state() != TSAN {
        return;
    }
    if let Some(f) = api().mutex_destroy {
        // SAFETY: found with this signature; destroying a sync object TSan never saw
        // locked only resets its clock.
        unsafe { f(addr as *mut c_void, 0) };
    }
}

/// Starts (`true`) or ends ignoring the calling context's memory accesses; `false` when not
/// under TSan (then nothing was started).
fn ignore(begin: bool) -> bool {
    if state() != TSAN {
        return false;
    }
    let a = api();
    let f = if begin { a.ignore_begin } else { a.ignore_end };
    // SAFETY: found with this signature; callers balance begin and end on one context.
    unsafe { (f.expect("TSan"))() };
    true
}

/// A C API call begins (`crate::sanitize`): under TSan, gr's own accesses are ignored until
/// [`call_end`], and what the caller did so far is published at its wait cell (`cell()`,
/// which may allocate the thread's cell, so it runs ignored: a channel peer that takes over
/// one of its waits acquires it there). `false`: not under TSan, nothing was begun.
pub(crate) fn call_begin(cell: impl FnOnce() -> usize) -> bool {
    if !ignore(true) {
        return false;
    }
    let c = cell();
    if c != 0 {
        edge(c, true); // (an edge is not a memory access: the ignore does not hide it)
    }
    true
}

/// The C API call `call_begin` began (returning `true`) returns, on the same context: the
/// caller learns what the completers of its waits published at its cell.
pub(crate) fn call_end(cell: impl FnOnce() -> usize) {
    if state() == TSAN {
        let c = cell();
        if c != 0 {
            edge(c, false);
        }
        ignore(false);
    }
}

/// Runtime work outside any C API call on a thread of the program (a thread-local's
/// destructor): TSan ignores it until this drops.
pub(crate) struct Quiet(bool);

impl Quiet {
    pub(crate) fn enter() -> Quiet {
        Quiet(tsan() && ignore(true))
    }
}

impl Drop for Quiet {
    fn drop(&mut self) {
        if self.0 {
            ignore(false);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Goroutines: spawn, switches, end.

/// What the sanitizers need of one goroutine, kept beside its record (`allg.rs`: in its
/// slot's padding, so it costs no memory). Written by the spawner before the goroutine is
/// queued and by the M that owns it; read by the M that resumes it.
#[derive(Default)]
pub(crate) struct PerG {
    /// TSan: its fiber (0: none, a bound goroutine).
    fiber: AtomicUsize,
    /// ASan: its stack's lowest usable address and size.
    stack_lo: AtomicUsize,
    stack_len: AtomicUsize,
}

/// A goroutine is spawned (in the spawner's context, before it is queued). `sync` is the
/// address of its spawn and join edges, `cell` its wait cell's: its record may be reused,
/// so what earlier goroutines published there is forgotten first.
pub(crate) fn spawned(g: &PerG, coroutine: bool, sync: usize, cell: usize) {
    if state() != TSAN {
        return;
    }
    forget_slow(sync);
    forget_slow(cell);
    let fiber = if coroutine {
        // SAFETY: found with this signature; the fiber starts from the spawner's clock.
        unsafe { (api().create_fiber.expect("TSan"))(0) as usize }
    } else {
        0
    };
    g.fiber.store(fiber, Relaxed);
    edge(sync, true);
}

/// A coroutine goroutine is about to run on `[lo, lo + len)` for the first time (its M, in
/// scheduler code, before the coroutine is made on that stack; the caller checked [`on`]).
#[cold]
#[inline(never)]
pub(crate) fn new_stack(g: &PerG, lo: usize, len: usize) {
    match state() {
        ASAN => {
            g.stack_lo.store(lo, Relaxed);
            g.stack_len.store(len, Relaxed);
        }
        TSAN => reset_shadow(lo, len),
        _ => {}
    }
}

/// What the scheduler keeps while a goroutine runs (ASan: its own fake stack).
pub(crate) struct Running(*mut c_void);

/// The scheduler (its M's own stack and context; the caller checked [`on`]) is about to run
/// goroutine `g`, made known by [`new_stack`]; `spawn`: its spawn edge, on its first run.
#[cold]
#[inline(never)]
pub(crate) fn run_begin(g: &PerG, spawn: Option<usize>) -> Running {
    let mut save = std::ptr::null_mut();
    match state() {
        ASAN => {
            // SAFETY: found with this signature; `save` receives this thread's fake stack.
            unsafe { (api().start_switch.expect("ASan"))(&mut save, g.stack_lo.load(Relaxed) as *const c_void, g.stack_len.load(Relaxed)) };
        }
        TSAN => {
            let a = api();
            // SAFETY: found with these signatures; the goroutine's fiber runs on no other
            // thread (we own the goroutine). Nothing TSan sees runs between this switch and
            // the stack switch (scheduler code is not instrumented).
            unsafe {
                let me = (a.current_fiber.expect("TSan"))();
                with_here(|h| {
                    h.fiber.set(me as usize);
                    h.internal.set(false); // the goroutine's context from here
                });
                (a.switch_to_fiber.expect("TSan"))(g.fiber.load(Relaxed) as *mut c_void, NO_SYNC);
            }
            if let Some(sync) = spawn {
                edge(sync, false); // its spawner's work happens before its own
            }
        }
        _ => {}
    }
    Running(save)
}

/// Goroutine `g` switched back to the scheduler; `ended`: it returned (with its join edge).
#[cold]
#[inline(never)]
pub(crate) fn run_end(g: &PerG, r: Running, ended: Option<usize>) {
    match state() {
        ASAN => {
            // SAFETY: found with this signature; `r.0` is what our start_switch saved.
            unsafe { (api().finish_switch.expect("ASan"))(r.0, std::ptr::null_mut(), std::ptr::null_mut()) };
        }
        TSAN => {
            // Still the goroutine's context: nothing TSan sees ran since its stack switched.
            if let Some(sync) = ended {
                edge(sync, true); // for its joiners
                edge(&SHUTDOWN as *const u8 as usize, true);
            }
            let a = api();
            let me = with_here(|h| {
                h.internal.set(true);
                h.fiber.get()
            });
            // SAFETY: found with this signature; `me` is this thread's own fiber (saved in
            // `run_begin`).
            unsafe { (a.switch_to_fiber.expect("TSan"))(me as *mut c_void, NO_SYNC) };
            if ended.is_some() {
                let f = g.fiber.swap(0, Relaxed);
                if f != 0 {
                    call_tsan(a.destroy_fiber, f); // ended, and no longer the current one
                }
            }
        }
        _ => {}
    }
}

/// Another goroutine's fiber may have used stack `[lo, lo + len)`: its accesses there must
/// not be compared with the next one's. Mapping the range afresh through libc (TSan's
/// interceptor, from an ignoring thread) resets its shadow.
fn reset_shadow(lo: usize, len: usize) {
    // SAFETY: `[lo, lo + len)` is a goroutine stack that nothing runs on or points into yet;
    // it is replaced by zeroed memory of the same protection.
    let p = unsafe {
        libc::mmap(
            lo as *mut c_void,
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        crate::fatal("sanitizer: could not map a goroutine stack afresh (out of memory mappings?)");
    }
}

/// ASan, on the goroutine's own stack: it lands on this thread (`save`: its fake stack,
/// null on its first run); remembers the thread's stack, to switch back to.
#[cold]
#[inline(never)]
pub(crate) fn asan_landed(save: *mut c_void) {
    let (mut lo, mut len) = (std::ptr::null(), 0usize);
    // SAFETY: found with this signature; ASan hands back the stack we came from (this
    // thread's own).
    unsafe { (api().finish_switch.expect("ASan"))(save, &mut lo, &mut len) };
    with_here(|h| h.stack.set((lo as usize, len)));
}

/// ASan, on the goroutine's own stack, just before it switches to its thread's scheduler;
/// `coming_back`: it will be resumed (else its fake stack is freed). Returns its fake stack.
#[cold]
#[inline(never)]
pub(crate) fn asan_leaving(coming_back: bool) -> *mut c_void {
    let mut save = std::ptr::null_mut();
    let (lo, len) = with_here(|h| h.stack.get());
    let save_p = if coming_back { &mut save as *mut *mut c_void } else { std::ptr::null_mut() };
    // SAFETY: found with this signature; the scheduler's stack is where we go.
    unsafe { (api().start_switch.expect("ASan"))(save_p, lo as *const c_void, len) };
    save
}

/// A bound goroutine starts (`begin`) or ends on this runtime thread, whose own TSan thread
/// runs it: its code is checked meanwhile, and its spawn and join edges are made.
#[inline(always)]
pub(crate) fn bound(begin: bool, sync: usize) {
    if on() {
        bound_slow(begin, sync);
    }
}

#[cold]
#[inline(never)]
fn bound_slow(begin: bool, sync: usize) {
    if state() != TSAN {
        return;
    }
    // Workers are runtime threads (`internal_thread`): lift that for the goroutine's code.
    if begin {
        with_here(|h| h.internal.set(false));
        ignore(false);
        edge(sync, false);
    } else {
        edge(sync, true);
        edge(&SHUTDOWN as *const u8 as usize, true);
        with_here(|h| h.internal.set(true));
        ignore(true);
    }
}

/// Where every goroutine's end is published, for `gr_shutdown`, which waits for them all.
static SHUTDOWN: u8 = 0;

/// `gr_shutdown` saw every goroutine end.
#[inline(always)]
pub(crate) fn all_ended() {
    acquire(&SHUTDOWN as *const u8 as usize);
}
