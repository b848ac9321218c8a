//! One small thread-local area reached through a *TLS descriptor* (the x86-64 ABI's
//! `gnu2` dialect): where the dynamic linker could place the library's TLS in the static
//! block (always for a program's own libraries, and for a `dlopen`ed one while glibc's
//! reserve lasts), the descriptor's function is `mov rax, [rax + 8]; ret`, and a read of the
//! area is five instructions inline. Rust's `thread_local!` in a shared library
//! (`libgr.so.0`, the Python module, the JNI library) is the general-dynamic model: a call
//! to `__tls_get_addr` (~11 instructions) behind a call to an accessor, some 18 instructions
//! per read. The scheduler reads its block twice per
//! goroutine switch (`sched/tls.rs`), which made that ~5% of a channel ping-pong's
//! instructions (`sched/README.md`, section 14).
//!
//! The area is `AREA` bytes of `.tbss` (zeroed for every thread), declared in assembly because
//! stable Rust has neither `#[thread_local]` nor a TLS-model option; the symbol is hidden, so
//! each linked copy of the core has its own. Not the initial-exec model, which would be two
//! instructions: it marks the whole library `STATIC_TLS` (all of its thread-locals, 1.4 KiB
//! with std's and its dependencies'), and a `dlopen` then fails outright ("cannot allocate
//! memory in static TLS block") once other libraries have used glibc's reserve. With a
//! descriptor, glibc falls back to its dynamic path instead (still correct, about as slow as
//! `__tls_get_addr`). In a static link (`libgr.a`, the core's tests) the linker relaxes the
//! sequence to a constant offset.
//!
//! Elsewhere (another architecture, loom models) the area is an ordinary `thread_local!`.
//!
//! Callers must follow `sched/tls.rs`'s rule: goroutines migrate, so no address from here may
//! be kept across a point where the current goroutine may park. [`area`] is an `asm!` block
//! without `pure`, so the compiler neither merges two calls nor moves one across a call.

/// Size of the area, in bytes (and its alignment).
pub(crate) const AREA: usize = 64;

/// Who uses which bytes of the area ([`part`] checks that each user's block fits its range).
/// The scheduler's block (`sched/tls.rs`): bytes `SCHED..ALLG`.
pub(crate) const SCHED: usize = 0;
/// The goroutine-record allocator's magazine pointer (`allg.rs`): bytes `ALLG..RNG`.
pub(crate) const ALLG: usize = 48;
/// `select`'s random generator state (`chan/select.rs`): bytes `RNG..AREA`.
pub(crate) const RNG: usize = 56;

#[cfg(all(target_arch = "x86_64", not(loom)))]
std::arch::global_asm!(
    ".pushsection .tbss.gr_core_tls_area,\"awT\",@nobits",
    ".p2align 6",
    ".globl gr_core_tls_area",
    ".hidden gr_core_tls_area",
    ".type gr_core_tls_area, @object",
    ".size gr_core_tls_area, 64",
    "gr_core_tls_area:",
    ".zero 64",
    ".popsection",
);

/// This thread's area: `AREA` bytes, 64-byte aligned, zero when the thread starts.
#[cfg(all(target_arch = "x86_64", not(loom)))]
#[inline(always)]
pub(crate) fn area() -> *mut u8 {
    let p: *mut u8;
    // SAFETY: the TLS-descriptor sequence of the x86-64 TLS ABI (GCC's `-mtls-dialect=gnu2`,
    // byte for byte, so that a static link may relax it): the descriptor's function returns
    // the area's offset from the thread pointer in `rax`, and `%fs:0` holds the thread
    // pointer itself. It reads memory only; it calls a function (so no `nostack`), and
    // `clobber_abi("C")` covers any register the dynamic path of an old glibc may not keep.
    // Not `pure`: the result is this thread's, and a goroutine may run on another thread
    // after a park, so the compiler must neither merge two calls nor move one.
    unsafe {
        std::arch::asm!(
            "lea rax, [rip + gr_core_tls_area@TLSDESC]",
            "call qword ptr [rax + gr_core_tls_area@TLSCALL]",
            "add rax, qword ptr fs:[0]",
            out("rax") p,
            clobber_abi("C"),
            options(readonly),
        );
    }
    p
}

/// This thread's bytes `AT..END` of the area, as a `T` (a user's part: [`SCHED`], [`ALLG`],
/// [`RNG`]).
/// The reference is `!Send` when `T` is `!Sync` (every user's is: `Cell`s), so it stays on
/// this thread; goroutine code must not keep it across a park (module docs).
///
/// # Safety
/// A `T` of all-zero bytes is valid (the area starts zeroed on every thread), and nothing
/// else uses bytes `AT..END` (each user names its own range above).
#[inline(always)]
pub(crate) unsafe fn part<T, const AT: usize, const END: usize>() -> &'static T {
    const { assert!(std::mem::size_of::<T>() <= END - AT && END <= AREA && AT % std::mem::align_of::<T>() == 0) };
    // SAFETY: the area is this thread's and lives as long as the thread; the range fits
    // `T` and is aligned for it (asserted above: the area is `AREA`-aligned); the caller
    // vouches for the initial value and for the range being `T`'s alone.
    unsafe { &*(area().add(AT) as *const T) }
}

#[cfg(not(all(target_arch = "x86_64", not(loom))))]
#[repr(C, align(64))]
struct Area(std::cell::UnsafeCell<[u8; AREA]>);

#[cfg(not(all(target_arch = "x86_64", not(loom))))]
std::thread_local! {
    static FALLBACK: Area = const { Area(std::cell::UnsafeCell::new([0; AREA])) };
}

/// This thread's area (the `thread_local!` fallback).
#[cfg(not(all(target_arch = "x86_64", not(loom))))]
#[inline(never)]
pub(crate) fn area() -> *mut u8 {
    FALLBACK.with(|a| a.0.get() as *mut u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_thread_has_its_own_zeroed_aligned_area() {
        let mine = area() as usize;
        let (theirs, zeroed) = std::thread::spawn(|| {
            let a = area();
            // SAFETY: the area is this new thread's own, AREA bytes; it never called gr, so
            // nothing else uses it.
            let zeroed = unsafe { std::slice::from_raw_parts(a, AREA) }.iter().all(|&x| x == 0);
            // SAFETY: as above; the word is written and read back on this thread.
            let kept = unsafe {
                (a as *mut usize).write(0xfeed);
                (area() as *const usize).read()
            };
            assert_eq!(kept, 0xfeed);
            (a as usize, zeroed)
        })
        .join()
        .unwrap();
        assert_eq!(mine % AREA, 0);
        assert_eq!(theirs % AREA, 0);
        assert_ne!(theirs, mine);
        assert!(zeroed, "a new thread's area starts zeroed");
    }
}
