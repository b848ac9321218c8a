//! Native backtraces of parked goroutines, walked from the context their switch saved on their
//! own stacks, with DWARF CFI (`.eh_frame`, found through `dl_iterate_phdr`) by the
//! `framehop` unwinder.
//!
//! Why CFI and not frame pointers: gcc and clang omit frame pointers at `-O2` on x86_64, and
//! Rust omits them in release builds, so a frame-pointer walk stops at the first such frame
//! (gr's own frames included). `.eh_frame` is there in every such build (C++ exceptions and
//! Rust panics need it; gcc emits it for C by default, `-fasynchronous-unwind-tables`), so a
//! user's `-O2` program without `-g` unwinds fully; only `-fno-asynchronous-unwind-tables`
//! (or a stripped `.eh_frame`) stops the walk, and framehop then falls back to frame
//! pointers where they exist. Symbols come from `.symtab` (`symbols.rs`): a stripped binary
//! shows addresses and module offsets only.
//!
//! Where the context is: a suspended coroutine's `Coro` keeps its saved stack pointer, and at
//! that address lie the words its switch pushed (`stack/switch.rs`, "Layout"): the resume
//! address, RBX and RBP (the function's own stack pointer is 24 bytes above).
//!
//! Safety of the walk: the goroutine is held (`HELD`), so nothing writes its stack, and
//! every read is bounds-checked against the stack's usable range (`stack::bounds_of`).

use crate::goroutine::{Coro, RunState};
use crate::stack::Stack;
use crate::sys::modules::{self, Module};
use framehop::Unwinder;
use std::sync::OnceLock;

// x86-64 only, as the switch is (`stack/switch.rs`).
use framehop::x86_64::{CacheX86_64 as Cache, UnwindRegsX86_64 as Regs, UnwinderX86_64 as Unw};

/// Frames kept per goroutine at most.
pub const MAX_FRAMES: usize = 64;

/// The byte offset of a suspended coroutine's saved stack pointer inside a goroutine's run
/// state (`RunState::Started`), for debuggers (`debugger.rs`); `None` if no stack could be
/// had to measure it. Rust does not fix an enum's layout, so it is measured once on a
/// `RunState` of our own.
pub(crate) fn saved_sp_in_run() -> Option<usize> {
    static L: OnceLock<Option<usize>> = OnceLock::new();
    *L.get_or_init(|| {
        // A stack of a pool of our own, unmapped again below (never one of a runtime's:
        // one may be reclaimed meanwhile).
        let pool = crate::stack::GlobalPool::default();
        let stack: Stack = pool.get(crate::stack::GlobalPool::normalise(16 << 10)?).ok()?;
        let run = RunState::Started(Coro::new(stack));
        let RunState::Started(c) = &run else { unreachable!() };
        let in_run = c as *const Coro as usize - &run as *const RunState as usize;
        let RunState::Started(c) = run else { unreachable!() };
        pool.put_many([c.into_stack()]);
        pool.release_all();
        Some(in_run + Coro::SAVED_SP_OFFSET)
    })
}

/// The unwinder for this dump: the loaded objects, and a rule cache.
pub(crate) struct Walker {
    pub modules: Vec<Module>,
    unwinder: Unw<&'static [u8]>,
    cache: Cache,
}

impl Walker {
    pub(crate) fn new() -> Walker {
        let modules = modules::loaded();
        let mut unwinder = Unw::new();
        for m in &modules {
            let rel = |(s, e): (usize, usize)| (s - m.base) as u64..(e - m.base) as u64;
            // SAFETY: the ranges are segments of objects loaded now (`modules::loaded`); the
            // dump uses them before it returns, and an object is not unloaded meanwhile
            // (documented: a concurrent `dlclose` is not supported during a dump).
            let (text, hdr, eh) = unsafe {
                (
                    modules::bytes(m.text.0, m.text.1),
                    m.eh_frame_hdr.map(|(s, e)| modules::bytes(s, e)),
                    m.eh_frame.map(|(s, e)| modules::bytes(s, e)),
                )
            };
            let info = framehop::ExplicitModuleSectionInfo {
                base_svma: 0,
                text_svma: Some(rel(m.text)),
                text: Some(text),
                eh_frame_hdr_svma: m.eh_frame_hdr.map(rel),
                eh_frame_hdr: hdr,
                eh_frame_svma: m.eh_frame.map(rel),
                eh_frame: eh,
                ..Default::default()
            };
            unwinder.add_module(framehop::Module::new(m.path.clone(), m.text.0 as u64..m.text.1 as u64, m.base as u64, info));
        }
        Walker { modules, unwinder, cache: Cache::new() }
    }

    /// The frames of a coroutine suspended with stack pointer `sp` on the stack `[lo, hi)`:
    /// the resume address, then return addresses. `true` with them if the walk was cut short.
    ///
    /// # Safety
    /// `[lo, hi)` is a goroutine stack that nobody writes for the duration of the call (its
    /// goroutine is held), and `sp` lies in it.
    pub(crate) unsafe fn suspended(&mut self, sp: usize, lo: usize, hi: usize) -> (Vec<usize>, bool) {
        let rd = |a: usize| -> Option<usize> {
            // SAFETY: bounds-checked against the held stack (the caller's contract).
            (a >= lo && a + 8 <= hi && a % 8 == 0).then(|| unsafe { (a as *const usize).read_volatile() })
        };
        let (Some(pc), Some(bp)) = (rd(sp), rd(sp + 16)) else { return (Vec::new(), true) };
        let regs = Regs::new(pc as u64, (sp + 24) as u64, bp as u64);
        self.walk(pc, regs, lo, hi)
    }

    /// The frames of the calling thread from here, on the stack `[lo, hi)` it runs on.
    #[inline(never)]
    pub(crate) fn here(&mut self, lo: usize, hi: usize) -> (Vec<usize>, bool) {
        let (pc, sp, fp): (usize, usize, usize);
        // SAFETY: reads three registers, writes nothing else.
        unsafe {
            std::arch::asm!("lea {pc}, [rip]", "mov {sp}, rsp", "mov {fp}, rbp", pc = out(reg) pc, sp = out(reg) sp, fp = out(reg) fp, options(nomem, nostack, preserves_flags));
        }
        let regs = Regs::new(pc as u64, sp as u64, fp as u64);
        // SAFETY: our own stack: the frames below this one are live and unchanged while we
        // read them (we are the only writer, and we are here).
        unsafe { self.walk(pc, regs, lo.max(sp), hi) }
    }

    /// # Safety
    /// As for [`Walker::suspended`].
    unsafe fn walk(&mut self, pc: usize, regs: Regs, lo: usize, hi: usize) -> (Vec<usize>, bool) {
        let mut read = |a: u64| -> Result<u64, ()> {
            let a = a as usize;
            if a < lo || a.checked_add(8).is_none_or(|e| e > hi) || a % 8 != 0 {
                return Err(());
            }
            // SAFETY: within the stack, which nobody writes meanwhile (the caller's contract).
            Ok(unsafe { (a as *const u64).read_volatile() })
        };
        let mut frames = Vec::with_capacity(16);
        let mut it = self.unwinder.iter_frames(pc as u64, regs, &mut self.cache, &mut read);
        loop {
            match it.next() {
                Ok(Some(f)) => {
                    frames.push(f.address() as usize);
                    if frames.len() == MAX_FRAMES {
                        return (frames, true);
                    }
                }
                Ok(None) => return (frames, false),
                // A frame without unwind information (or a read off the stack) ends the walk
                // here; the coroutine's first frame, the trampoline, ends it above (`Ok(None)`:
                // its return address is undefined). `format.rs` tells a walk that reached the
                // entry function from one cut short.
                Err(_) => return (frames, true),
            }
        }
    }
}

/// Where a function finds its own return address: the offset from its stack pointer at a
/// given instruction (`pc`, with the stack pointer `sp` and frame pointer `fp` there) to the
/// slot that holds it, found by unwinding that one frame with its CFI. Constant for a given
/// instruction of a function without dynamic stack allocation, so `gr_spawn` measures it once
/// and then reads its caller's address with one load (`ffi/src/goroutine.rs`).
pub fn return_slot(pc: usize, sp: usize, fp: usize) -> Option<usize> {
    let mut w = Walker::new();
    let mut regs = Regs::new(pc as u64, sp as u64, fp as u64);
    let (lo, hi) = (sp, sp + (64 << 10));
    let mut read = |a: u64| -> Result<u64, ()> {
        let a = a as usize;
        if a < lo || a + 8 > hi || a % 8 != 0 {
            return Err(());
        }
        // SAFETY: the caller's live frame and the frames above it, on its own stack (it is
        // running this call), within 64 KiB above its stack pointer.
        Ok(unsafe { (a as *const u64).read_volatile() })
    };
    let ret = w.unwinder.unwind_frame(framehop::FrameAddress::from_instruction_pointer(pc as u64), &mut regs, &mut w.cache, &mut read).ok()??;
    // The caller's stack pointer after the return (the CFA) is one word above the slot.
    let slot = (regs.sp() as usize).checked_sub(std::mem::size_of::<usize>())?;
    (slot >= sp && read(slot as u64) == Ok(ret)).then(|| slot - sp)
}
