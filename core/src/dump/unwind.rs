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
//! address, RBX and RBP (the function's own stack pointer is 24 bytes above). The field's
//! offset is found once by experiment ([`layout`]), as it was for the coroutine library gr
//! used before its own switch: a coroutine is made, started to its first suspension, and the
//! one word that changed to an address on its stack is it. (The aarch64 branches below date
//! from that library; the switch is x86-64 only for now.)
//!
//! Safety of the walk: the goroutine is held (`HELD`), so nothing writes its stack, and
//! every read is bounds-checked against the stack's usable range (`stack::bounds_of`).

use crate::goroutine::{Coro, Suspend};
use crate::stack::Stack;
use crate::sys::modules::{self, Module};
use framehop::Unwinder;
use std::sync::OnceLock;

#[cfg(target_arch = "x86_64")]
use framehop::x86_64::{CacheX86_64 as Cache, UnwindRegsX86_64 as Regs, UnwinderX86_64 as Unw};
#[cfg(target_arch = "aarch64")]
use framehop::aarch64::{CacheAarch64 as Cache, UnwindRegsAarch64 as Regs, UnwinderAarch64 as Unw};

/// Frames kept per goroutine at most.
pub const MAX_FRAMES: usize = 64;

/// The word index of the saved stack pointer in a `Coro`, or `None` if the experiment failed
/// (backtraces are then left out).
pub(crate) fn layout() -> Option<usize> {
    coro_layout().map(|l| l.0)
}

/// `layout()`, and the byte offset of the `Coro` inside a `RunState::Started` (for
/// debuggers, `debugger.rs`).
pub(crate) fn coro_layout() -> Option<(usize, usize)> {
    static L: OnceLock<Option<(usize, usize)>> = OnceLock::new();
    *L.get_or_init(|| {
        const W: usize = std::mem::size_of::<usize>();
        if std::mem::size_of::<Coro>() % W != 0 || std::mem::size_of::<Coro>() > 16 * W {
            return None;
        }
        // A stack of a pool of our own, unmapped again below (never one of a runtime's:
        // one may be reclaimed meanwhile).
        let pool = crate::stack::GlobalPool::default();
        let stack: Stack = pool.get(crate::stack::GlobalPool::normalise(16 << 10)?).ok()?;
        let (lo, hi) = (stack.limit_addr(), stack.base_addr());
        let mut c: Coro = Coro::new(stack);
        let before = words(&c);
        // SAFETY: called by the coroutine itself, on its own stack.
        let f = |y: &crate::stack::switch::Link<Suspend>| unsafe { y.suspend(Suspend::Yield) };
        // SAFETY: not started, on this thread, which owns it; `f` does not unwind.
        let _ = unsafe { c.start(f) };
        let after = words(&c);
        let run = crate::goroutine::RunState::Started(c);
        let crate::goroutine::RunState::Started(c) = &run else { unreachable!() };
        let in_run = c as *const Coro as usize - &run as *const _ as usize;
        let crate::goroutine::RunState::Started(mut c) = run else { unreachable!() };
        // SAFETY: suspended (above), ours; it returns now.
        let _ = unsafe { c.resume() };
        pool.put_many([c.into_stack()]);
        pool.release_all();
        let changed: Vec<usize> =
            (0..before.len()).filter(|&i| before[i] != after[i] && after[i] >= lo && after[i] < hi).collect();
        (changed.len() == 1).then(|| (changed[0], in_run))
    })
}

/// The words of a `Coro` (all its fields are word-sized: no padding, see `layout`).
fn words(c: &Coro) -> Vec<usize> {
    let n = std::mem::size_of::<Coro>() / std::mem::size_of::<usize>();
    // SAFETY: `Coro`'s size is a whole number of words (checked in `layout`) and all of its
    // fields are words (the saved stack pointer, the stack's two ends), so every word is
    // initialised; we only copy them out.
    (0..n).map(|i| unsafe { (c as *const Coro as *const usize).add(i).read() }).collect()
}

/// The saved stack pointer of a suspended coroutine.
pub(crate) fn saved_sp(c: &Coro) -> Option<usize> {
    let i = layout()?;
    // SAFETY: `layout` found word `i` of a `Coro` (all of whose words are initialised) to
    // be the saved stack pointer; we read that word.
    let v = unsafe { (c as *const Coro as *const usize).add(i).read() };
    (v != 0).then_some(v)
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
        #[cfg(target_arch = "x86_64")]
        let (pc, regs) = {
            let (Some(pc), Some(bp)) = (rd(sp), rd(sp + 16)) else { return (Vec::new(), true) };
            (pc, Regs::new(pc as u64, (sp + 24) as u64, bp as u64))
        };
        #[cfg(target_arch = "aarch64")]
        let (pc, regs) = {
            let (Some(fp), Some(pc)) = (rd(sp + 8), rd(sp + 16)) else { return (Vec::new(), true) };
            (pc, Regs::new(0, (sp + 32) as u64, fp as u64))
        };
        self.walk(pc, regs, lo, hi)
    }

    /// The frames of the calling thread from here, on the stack `[lo, hi)` it runs on.
    #[inline(never)]
    pub(crate) fn here(&mut self, lo: usize, hi: usize) -> (Vec<usize>, bool) {
        let (pc, sp, fp): (usize, usize, usize);
        // SAFETY: reads three registers, writes nothing else.
        #[cfg(target_arch = "x86_64")]
        unsafe {
            std::arch::asm!("lea {pc}, [rip]", "mov {sp}, rsp", "mov {fp}, rbp", pc = out(reg) pc, sp = out(reg) sp, fp = out(reg) fp, options(nomem, nostack, preserves_flags));
        }
        // SAFETY: as above.
        #[cfg(target_arch = "aarch64")]
        unsafe {
            std::arch::asm!("adr {pc}, .", "mov {sp}, sp", "mov {fp}, x29", pc = out(reg) pc, sp = out(reg) sp, fp = out(reg) fp, options(nomem, nostack, preserves_flags));
        }
        #[cfg(target_arch = "x86_64")]
        let regs = Regs::new(pc as u64, sp as u64, fp as u64);
        #[cfg(target_arch = "aarch64")]
        let regs = Regs::new(0, sp as u64, fp as u64);
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
    #[cfg(target_arch = "x86_64")]
    let mut regs = Regs::new(pc as u64, sp as u64, fp as u64);
    #[cfg(target_arch = "aarch64")]
    let mut regs = Regs::new(0, sp as u64, fp as u64);
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
