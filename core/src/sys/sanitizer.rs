//! The sanitizers of the host program: AddressSanitizer and ThreadSanitizer, told about
//! every goroutine switch and every hand-off gr makes, when the program runs under one.
//!
//! gr itself is never built with a sanitizer: it looks their entry points up at run time
//! (`dlsym(RTLD_DEFAULT)`, once, on the first hook reached) and caches what it found in
//! [`STATE`]. In a normal program every hook is one load of that byte and a branch not
//! taken; the work sits in out-of-line functions (callgrind: `bench/README.md`).
//!
//! What each sanitizer is told:
//!
//! | event                          | ASan                                      | TSan |
//! |--------------------------------|-------------------------------------------|------|
//! | a goroutine is spawned         |                                           | a fiber is created, in the spawner's context; `release(&g.done)` |
//! | a goroutine runs (first time)  | `start_switch_fiber` to its stack         | its stack's shadow is reset; `switch_to_fiber`; `acquire(&g.done)` |
//! | it parks or yields, is resumed | start/finish switch, with its fake stack  | `switch_to_fiber` there and back (no implicit sync) |
//! | it returns                     | its fake stack is freed                   | `release(&g.done)`, and for `gr_shutdown`; the fiber is destroyed |
//! | a wait                         |                                           | `release(cell)` as it opens and by its completer, `acquire(cell)` as it ends |
//! | channels, Mutex, WaitGroup, cancel, join, shutdown |                       | `release`/`acquire` on the object (their files say where) |
//!
//! gr's own code is invisible to TSan: its threads (workers' scheduler code, the monitor)
//! ignore memory accesses for good ([`internal_thread`]), and every C API call does so for
//! its duration ([`InRuntime`], taken by `gr-ffi`'s boundary). So TSan checks the host's
//! code only, and its model of gr is the happens-before edges above: those of Go's memory
//! model (a send before the matching receive completes; for an unbuffered channel also the
//! receive before the send completes; the k-th receive before the (k+C)-th send completes;
//! a close before a receive that sees it; an unlock before the next lock; `done` before the
//! `wait` it releases; a spawn before the goroutine starts; its end before a join sees it).
//! Runtime threads publish no edges ([`release`] skips them), so nothing leaks from one
//! goroutine to another through the worker that ran both.
//!
//! Limits (README.md, "Sanitizers"): TSan cannot see synchronisation done by foreign code
//! that is not instrumented (a Python or Java host), bound goroutines run on their worker's
//! own TSan thread (so two bound goroutines on one worker look ordered), and gcc's TSan
//! runtime allows about 8,000 live threads and fibers together.

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
    benign_race: Option<unsafe extern "C" fn(*const std::ffi::c_char, i32, *const c_void, usize, *const std::ffi::c_char)>,
}

/// A dynamic annotation: its caller's file and line (TSan only reports them).
type Annotation = unsafe extern "C" fn(*const std::ffi::c_char, i32);

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
                // signature (compiler-rt's `common_interface_defs.h`, `tsan_interface.h`).
                (!p.is_null()).then(|| unsafe { std::mem::transmute_copy(&p) })
            }};
        }
        let mut a = Api { start_switch: find!(c"__sanitizer_start_switch_fiber"), finish_switch: find!(c"__sanitizer_finish_switch_fiber"), ..Api::default() };
        if a.start_switch.is_none() || a.finish_switch.is_none() {
            a = Api::default();
            a.acquire = find!(c"__tsan_acquire");
            a.release = find!(c"__tsan_release");
            a.create_fiber = find!(c"__tsan_create_fiber");
            a.destroy_fiber = find!(c"__tsan_destroy_fiber");
            a.switch_to_fiber = find!(c"__tsan_switch_to_fiber");
            a.current_fiber = find!(c"__tsan_get_current_fiber");
            a.ignore_begin = find!(c"__tsan_ignore_thread_begin");
            a.ignore_end = find!(c"__tsan_ignore_thread_end");
            a.mutex_destroy = find!(c"__tsan_mutex_destroy");
            a.ignore_sync_begin = find!(c"AnnotateIgnoreSyncBegin");
            a.ignore_sync_end = find!(c"AnnotateIgnoreSyncEnd");
            a.benign_race = find!(c"AnnotateBenignRaceSized");
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

/// Is any hook to run? The one check every hook makes first (true until looked up).
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

fn api() -> &'static Api {
    API.get().expect("looked up before any hook that uses it")
}

/// Whether the program runs under AddressSanitizer (for the stack-overflow report, which
/// then leaves the fault to ASan's own report). Async-signal-safe: only reads the state.
pub(crate) fn asan() -> bool {
    STATE.load(Relaxed) == ASAN
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
    if on() && state() == TSAN {
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
            let f: unsafe extern "C" fn(*const std::ffi::c_char, i32, *const c_void, usize, *const std::ffi::c_char) =
                std::mem::transmute(data);
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

/// Starts a runtime thread through `spawn`: under TSan, without the happens-before edge
/// from its creator (any goroutine or thread that happened to start it), which would
/// otherwise reach every bound goroutine it runs (they run on the worker's own TSan thread).
pub(crate) fn new_thread<T>(spawn: impl FnOnce() -> T) -> T {
    let quiet = on() && state() == TSAN && api().ignore_sync_begin.is_some() && api().ignore_sync_end.is_some();
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
    let f = if rel { a.release } else { a.acquire };
    // SAFETY: found with this signature; TSan only records the address as a sync object.
    unsafe { (f.expect("TSan"))(addr as *mut c_void) };
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

/// A C API call in progress: TSan ignores gr's own memory accesses (allocations, frees and
/// copies made for the caller) until it drops. Taken by every export (`gr-ffi`'s boundary);
/// a goroutine that parks inside the call keeps it on its own fiber.
pub struct InRuntime(bool);

impl InRuntime {
    #[inline(always)]
    pub fn enter() -> InRuntime {
        InRuntime(on() && ignore(true))
    }
}

impl Drop for InRuntime {
    #[inline(always)]
    fn drop(&mut self) {
        if self.0 {
            ignore(false);
        }
    }
}

/// Starts (`true`) or ends ignoring the calling context's accesses; `false` when not under
/// TSan (then nothing was started).
#[cold]
#[inline(never)]
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
/// address of its spawn and join edges.
#[inline(always)]
pub(crate) fn spawned(g: &PerG, coroutine: bool, sync: usize) {
    if on() {
        spawned_slow(g, coroutine, sync);
    }
}

#[cold]
#[inline(never)]
fn spawned_slow(g: &PerG, coroutine: bool, sync: usize) {
    if state() != TSAN {
        return;
    }
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
/// scheduler code, before the coroutine is made on that stack).
#[inline(always)]
pub(crate) fn new_stack(g: &PerG, lo: usize, len: usize) {
    if on() {
        new_stack_slow(g, lo, len);
    }
}

#[cold]
#[inline(never)]
fn new_stack_slow(g: &PerG, lo: usize, len: usize) {
    match state() {
        ASAN => {
            g.stack_lo.store(lo, Relaxed);
            g.stack_len.store(len, Relaxed);
        }
        TSAN => {
            // Another goroutine's fiber may have used this stack: its accesses there must not
            // be compared with this one's. Mapping the range afresh through libc (TSan's
            // interceptor, from an ignoring thread) resets its shadow.
            // SAFETY: `[lo, lo + len)` is this goroutine's stack, which nothing runs on or
            // points into yet; it is replaced by zeroed memory of the same protection.
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
        _ => {}
    }
}

/// What the scheduler side of a switch keeps until the goroutine comes back.
pub(crate) struct Resume(*mut c_void);

/// The scheduler is about to resume goroutine `g` (on this M's own stack).
#[inline(always)]
pub(crate) fn resuming(g: &PerG) -> Resume {
    if on() {
        return resuming_slow(g);
    }
    Resume(std::ptr::null_mut())
}

#[cold]
#[inline(never)]
fn resuming_slow(g: &PerG) -> Resume {
    let mut save = std::ptr::null_mut();
    let s = state();
    if s == NONE {
        return Resume(save);
    }
    let a = api();
    match s {
        ASAN => {
            // SAFETY: found with this signature; `save` receives this thread's fake stack.
            unsafe { (a.start_switch.expect("ASan"))(&mut save, g.stack_lo.load(Relaxed) as *const c_void, g.stack_len.load(Relaxed)) };
        }
        TSAN => {
            // SAFETY: found with these signatures; the goroutine's fiber runs on no other
            // thread (we own the goroutine).
            unsafe {
                let me = (a.current_fiber.expect("TSan"))();
                with_here(|h| {
                    h.fiber.set(me as usize);
                    h.internal.set(false); // the goroutine's code runs here now
                });
                (a.switch_to_fiber.expect("TSan"))(g.fiber.load(Relaxed) as *mut c_void, NO_SYNC);
            }
        }
        _ => {}
    }
    Resume(save)
}

/// The goroutine `g` switched back to the scheduler; `finished`: it returned.
#[inline(always)]
pub(crate) fn returned(g: &PerG, r: Resume, finished: bool) {
    if on() {
        returned_slow(g, r, finished);
    }
}

#[cold]
#[inline(never)]
fn returned_slow(g: &PerG, r: Resume, finished: bool) {
    let s = state();
    if s == NONE {
        return;
    }
    let a = api();
    match s {
        ASAN => {
            // SAFETY: found with this signature; `r.0` is what our start_switch saved.
            unsafe { (a.finish_switch.expect("ASan"))(r.0, std::ptr::null_mut(), std::ptr::null_mut()) };
        }
        TSAN => {
            with_here(|h| h.internal.set(true)); // scheduler code again
            if finished {
                let f = g.fiber.swap(0, Relaxed);
                if f != 0 {
                    // SAFETY: found with this signature; the goroutine's fiber ended and is
                    // not the current one (we switched back to ours).
                    unsafe { (a.destroy_fiber.expect("TSan"))(f as *mut c_void) };
                }
            }
        }
        _ => {}
    }
}

/// On the goroutine's own stack, as it starts: `sync` is its spawn edge.
#[inline(always)]
pub(crate) fn started(sync: usize) {
    if on() {
        landed(std::ptr::null_mut(), Some(sync));
    }
}

/// What a goroutine keeps on its own stack while it is switched out.
pub(crate) struct Suspended(*mut c_void);

/// On the goroutine's own stack, just before it switches to its scheduler.
#[inline(always)]
pub(crate) fn suspending() -> Suspended {
    if on() {
        return leaving(true);
    }
    Suspended(std::ptr::null_mut())
}

/// On the goroutine's own stack, resumed (perhaps on another thread).
#[inline(always)]
pub(crate) fn resumed(s: Suspended) {
    if on() {
        landed(s.0, None);
    }
}

/// On the goroutine's own stack, after its function returned: `sync` is its join edge.
#[inline(always)]
pub(crate) fn ending(sync: usize) {
    if on() {
        ending_slow(sync);
    }
}

#[cold]
#[inline(never)]
fn ending_slow(sync: usize) {
    if state() == TSAN {
        edge(sync, true);
        edge(&SHUTDOWN as *const u8 as usize, true);
    }
    leaving(false);
}

/// Switches the sanitizer from the goroutine to its thread's scheduler; `coming_back`:
/// the goroutine will be resumed (else its ASan fake stack is freed).
#[cold]
#[inline(never)]
fn leaving(coming_back: bool) -> Suspended {
    let mut save = std::ptr::null_mut();
    let s = state();
    if s == NONE {
        return Suspended(save);
    }
    let a = api();
    match s {
        ASAN => {
            let (lo, len) = with_here(|h| h.stack.get());
            let save_p = if coming_back { &mut save as *mut *mut c_void } else { std::ptr::null_mut() };
            // SAFETY: found with this signature; the scheduler's stack is where we go.
            unsafe { (a.start_switch.expect("ASan"))(save_p, lo as *const c_void, len) };
        }
        TSAN => {
            let me = with_here(|h| h.fiber.get());
            // SAFETY: found with this signature; `me` is the fiber of the thread that resumed
            // us (set in `resuming`), which runs nothing else until we switch back.
            unsafe { (a.switch_to_fiber.expect("TSan"))(me as *mut c_void, NO_SYNC) };
        }
        _ => {}
    }
    Suspended(save)
}

/// The goroutine runs again on this thread: `save` is its ASan fake stack (null when it
/// starts); `spawn` its spawn edge on its first run.
#[cold]
#[inline(never)]
fn landed(save: *mut c_void, spawn: Option<usize>) {
    match state() {
        ASAN => {
            let (mut lo, mut len) = (std::ptr::null(), 0usize);
            // SAFETY: found with this signature; ASan hands back the stack we came from (this
            // thread's own), which we need to switch back.
            unsafe { (api().finish_switch.expect("ASan"))(save, &mut lo, &mut len) };
            with_here(|h| h.stack.set((lo as usize, len)));
        }
        TSAN => {
            if let Some(sync) = spawn {
                edge(sync, false);
            }
        }
        _ => {}
    }
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
