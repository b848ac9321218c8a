//! The context switch: a goroutine's coroutine on its stack, resumed by its M and suspended
//! back to it (x86-64, System V).
//!
//! # Why a switch of our own
//!
//! A switch that returns with `ret` into the other stack pops the CPU's return stack buffer,
//! whose top entry belongs to the stack the switch came from: that `ret` is mispredicted
//! every time, and so is the first return after it on the other side, whose entry the switch
//! consumed. Each run of a goroutine paid both ways. Here a switch saves its resume address
//! with a `lea`/`push` and goes to the other side's with an indirect `jmp`, which the branch
//! target buffer predicts (a goroutine of `gr_bench ring` always resumes at the same switch,
//! an M always at its own): the return stack buffer is not consumed by the switch.
//! (`bench/extra/switch_ret_jmp.c`, two stacks switching through a third, `chrt -f 10`:
//! 21.0-22.5 ns for the two switches of a run ending in `ret`, 4.1-4.4 with `pop` and `jmp`;
//! `sched/README.md`, section 14, "The switch's own jump", has the runtime's figures.)
//!
//! # Layout
//!
//! A suspended context is three words at its saved stack pointer `S`: the resume address,
//! RBX, RBP (the other callee-saved registers are saved by the compiler around the switch:
//! they are clobbered outputs of its `asm!`). The context's own stack pointer, as the code
//! around the switch knows it, is `S + 24`. Dumps (`dump/unwind.rs`) and the gdb script
//! (`tools/gdb/gr.py`) read that layout to walk a parked goroutine's frames.
//!
//! A coroutine's stack, from its base down:
//!
//! ```text
//! base - 8    unused
//! base - 16   the link: the M's saved stack pointer while the coroutine runs ([`Link`])
//! ...         the coroutine's function object, 16-byte aligned, moved out at its start
//! S           its first context: the trampoline, the entry function (RBX), the link (RBP)
//! ```
//!
//! The coroutine side reaches its M only through the link on its own stack, so the [`Coro`]
//! (the M side: the saved stack pointer and the stack) may move while it is suspended, as a
//! `G`'s run state does when a dump's layout probe wraps one (`dump/unwind.rs`).
//!
//! # Protocol
//!
//! One M at a time resumes a coroutine and waits, on its own stack, until the coroutine
//! switches back: to suspend, with a pointer to the value it hands over (on its stack, read
//! by the M at once, before anyone may resume it again: the park protocols of
//! `sched/state.rs` leave the goroutine to its M until the M has filed it), or for the last
//! time, with 0, when its function returned. The M records the saved stack pointer it is
//! handed; the next resume (maybe by another M, after the run queue's or the waker's
//! Release/Acquire edge) switches to it.
//!
//! The coroutine's function must not unwind: the trampoline's frame ends the stack for
//! unwinders (its return address is undefined in its CFI), so a panic that reached it would
//! abort the process (`entry` is `extern "C"`). The goroutine's body catches panics
//! (`sched/worker.rs`, `run_coroutine`).

const _: () = assert!(std::mem::offset_of!(Coro<()>, sp) == Coro::<()>::SAVED_SP_OFFSET);

#[cfg(not(target_arch = "x86_64"))]
compile_error!("gr's context switch (core/src/stack/switch.rs) is written for x86-64 only");

use super::Stack;
use std::cell::Cell;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;

/// The word below the link (unused) and the link: the two highest words of the stack.
const TOP_WORDS: usize = 2;

// The first context of every coroutine resumes here, with the entry function in RBX, the
// link's address in RBP and the function object's address in RDX (the resumer's argument).
// It calls `entry(function object, link)`, which never returns. Its CFI marks the return
// address undefined: unwinders and debuggers end the coroutine's stack here.
// `.hidden`: global so that every object of the crate can name it, exported by no library.
std::arch::global_asm!(
    ".text",
    ".balign 16",
    ".globl gr_core_coro_trampoline",
    ".hidden gr_core_coro_trampoline",
    ".type gr_core_coro_trampoline, @function",
    "gr_core_coro_trampoline:",
    ".cfi_startproc",
    ".cfi_undefined rip",
    "mov rdi, rdx",
    "mov rsi, rbp",
    "xor ebp, ebp",
    "call rbx",
    "ud2",
    ".cfi_endproc",
    ".size gr_core_coro_trampoline, . - gr_core_coro_trampoline",
);

extern "C" {
    /// See the `global_asm!` above; never called as a function.
    fn gr_core_coro_trampoline();
}

/// The switch (module docs, "Layout"), with `$store` (none, or one instruction) between
/// the pushes and the change of stack, and the caller's operands, the target's saved stack
/// pointer in RSI among them. It pushes three words (the stack is usable below the stack
/// pointer: no `nostack`), hands its own saved stack pointer over in RCX, takes the other
/// context's, pops its three words and jumps to its resume address; when this context is
/// resumed, at `2:`, the same three pops have restored RBX and RBP and the stack pointer to
/// what it was before the pushes, and RDX holds the resumer's argument. Every other register
/// is declared clobbered.
macro_rules! switch_asm {
    ($($store:literal)?; $($operand:tt)*) => {
        std::arch::asm!(
            "push rbp",
            "push rbx",
            "lea rax, [rip + 2f]",
            "push rax",
            $($store,)?
            "mov rcx, rsp",
            "mov rsp, rsi",
            "pop rax",
            "pop rbx",
            "pop rbp",
            "jmp rax",
            "2:",
            $($operand)*
            lateout("r12") _, lateout("r13") _, lateout("r14") _, lateout("r15") _,
            clobber_abi("sysv64"),
        )
    };
}

/// Switches to the context saved at `to`, handing it `arg`; stores this context's saved stack
/// pointer at `save` first. Returns, once something switches back here, that side's
/// argument and its saved stack pointer.
///
/// # Safety
/// `to` is a suspended context (this module's layout) that nothing else resumes; `save` is
/// writable. Everything live across the call must be in callee-saved registers or memory
/// (the `asm!`'s clobbers tell the compiler so).
#[inline(always)]
unsafe fn switch_in(save: *mut usize, to: usize, arg: usize) -> (usize, usize) {
    let (got, from): (usize, usize);
    // SAFETY: the caller's contract; `switch_asm` says what the asm does and clobbers.
    unsafe {
        switch_asm!("mov [rdi], rsp";
            in("rdi") save,
            in("rsi") to,
            inlateout("rdx") arg => got,
            lateout("rcx") from,
        );
    }
    (got, from)
}

/// [`switch_in`] without the store: the coroutine's side, whose saved stack pointer its M
/// takes from RCX.
///
/// # Safety
/// As for [`switch_in`].
#[inline(always)]
unsafe fn switch_out(to: usize, arg: usize) {
    // SAFETY: as in `switch_in`, less the store.
    unsafe {
        switch_asm!(;
            in("rsi") to,
            inlateout("rdx") arg => _,
        );
    }
}

/// The coroutine's way back to its M: the link word on its own stack, which every resume
/// fills with the resuming M's saved stack pointer. A coroutine's function receives it.
#[repr(transparent)]
pub struct Link<Y> {
    parent: Cell<usize>,
    _y: PhantomData<*const Y>,
}

impl<Y> Link<Y> {
    /// Switches back to the M that resumed this coroutine, handing it `why`; returns when an
    /// M resumes it again (perhaps another, on another thread).
    ///
    /// # Safety
    /// Called by the coroutine this link belongs to, on its own stack, while it runs.
    #[inline(always)]
    pub unsafe fn suspend(&self, why: Y) {
        let why = ManuallyDrop::new(why);
        // SAFETY: the link holds the saved context of the M now waiting in `Coro::resume`
        // for this coroutine (our caller's contract), which reads `why` out of this frame
        // (hence `ManuallyDrop`) before anything may resume us.
        unsafe { switch_out(self.parent.get(), &*why as *const Y as usize) }
    }
}

/// A coroutine, from its M's side: the stack it runs on and, while it is suspended, its saved
/// stack pointer. Dropping one never touches its stack: a suspended coroutine's frames (C
/// frames among them) are leaked with it, never unwound; [`Coro::into_stack`] takes a
/// finished one's stack back for its pool.
///
/// `repr(C)`, the saved stack pointer first: debuggers read it at a fixed offset
/// ([`Coro::SAVED_SP_OFFSET`], `dump/debugger.rs`).
#[repr(C)]
pub struct Coro<Y> {
    /// The saved context while suspended; 0 before its start and after its end.
    sp: usize,
    stack: Stack,
    _y: PhantomData<*const Y>,
}

impl<Y> Coro<Y> {
    /// Where the saved stack pointer lies in a `Coro` (its first field).
    pub const SAVED_SP_OFFSET: usize = 0;

    /// A coroutine on `stack`, not started ([`Coro::start`]).
    pub fn new(stack: Stack) -> Coro<Y> {
        Coro { sp: 0, stack, _y: PhantomData }
    }

    fn link_addr(&self) -> usize {
        self.stack.base_addr() - std::mem::size_of::<usize>() * TOP_WORDS
    }

    /// Starts the coroutine: runs `f` on its stack, with its [`Link`], until it suspends
    /// (`Some`, with what it handed over) or returns (`None`). `f` must not unwind (module
    /// docs).
    ///
    /// # Safety
    /// Not started before; called on the thread that then owns it, not from inside it.
    pub unsafe fn start<F: FnOnce(&Link<Y>)>(&mut self, f: F) -> Option<Y> {
        const W: usize = std::mem::size_of::<usize>();
        if std::mem::align_of::<F>() > 16 || std::mem::size_of::<F>() > 1024 {
            crate::fatal("a coroutine's function object is larger or more aligned than its stack's top allows");
        }
        let link = self.link_addr();
        let f_at = (link - std::mem::size_of::<F>()) & !15;
        // The first context, 8 bytes past a 16-byte boundary: its stack pointer after the
        // three pops (`S + 24`) is then 16-byte aligned at the trampoline's `call`, as the
        // ABI asks.
        let s = f_at - 40;
        let entry: unsafe extern "C" fn(*mut F, *const Link<Y>) -> ! = entry::<F, Y>;
        // SAFETY: `[s, base)` lies in the top KiB of the coroutine's own usable stack (its
        // size is at least `STACK_MIN`, checked above for `F`), which nothing else uses: it
        // is not started. `f` is moved there, to be moved out by `entry`; the three words
        // are the first context (module docs), the link is written by the switch.
        unsafe {
            (f_at as *mut F).write(f);
            let w = s as *mut usize;
            w.write(gr_core_coro_trampoline as *const () as usize);
            w.add(1).write(entry as usize);
            w.add(2).write(link);
            debug_assert!(s + 3 * W <= f_at);
        }
        self.sp = s;
        // SAFETY: the first context was just made; the trampoline takes `f` from `f_at`.
        unsafe { self.switch(f_at) }
    }

    /// Resumes the suspended coroutine until it suspends again (`Some`) or returns (`None`).
    ///
    /// # Safety
    /// Started and suspended; called on the thread that now owns it, not from inside it.
    #[inline(always)]
    pub unsafe fn resume(&mut self) -> Option<Y> {
        debug_assert!(self.sp != 0, "resuming a coroutine that is not suspended");
        // SAFETY: the caller's contract.
        unsafe { self.switch(0) }
    }

    #[inline(always)]
    unsafe fn switch(&mut self, arg: usize) -> Option<Y> {
        // SAFETY: `self.sp` is the coroutine's saved context, which only we resume (the
        // caller's contract); the link is its stack's word that it reads to come back.
        let (got, from) = unsafe { switch_in(self.link_addr() as *mut usize, self.sp, arg) };
        if got == 0 {
            self.sp = 0; // returned: its stack holds nothing any more
            return None;
        }
        self.sp = from;
        // SAFETY: the coroutine suspended with the address of a `Y` on its stack, which it
        // gave up (`Link::suspend`) and which stays put until it is resumed.
        Some(unsafe { (got as *const Y).read() })
    }

    /// Its function has returned (or it never started): no frame is left on its stack.
    pub fn done(&self) -> bool {
        self.sp == 0
    }

    /// The saved context while suspended (0 otherwise): where dumps start their walk.
    pub fn saved_sp(&self) -> usize {
        self.sp
    }

    /// The stack back, for its pool.
    ///
    /// # Panics
    /// If frames are still on it (a suspended coroutine must never be unwound or reused:
    /// leak it instead).
    pub fn into_stack(self) -> Stack {
        assert!(self.done(), "taking the stack of a suspended coroutine");
        self.stack
    }
}

/// The coroutine's first frame (called by the trampoline): moves its function out of its
/// stack's top, runs it, then switches to its M for the last time.
///
/// # Safety
/// Called only by the trampoline, with what `Coro::start` put there.
unsafe extern "C" fn entry<F: FnOnce(&Link<Y>), Y>(f: *mut F, link: *const Link<Y>) -> ! {
    // SAFETY: `start` wrote `f` there, and moved nothing else in; `link` is this stack's.
    let link = unsafe { &*link };
    {
        // SAFETY: as above; read once.
        let f = unsafe { f.read() };
        f(link);
    }
    // Nothing of ours is left on this stack that needs dropping.
    // SAFETY: the link holds the saved context of the M that resumed us last; it takes 0 as
    // the end and never resumes this context.
    unsafe { switch_out(link.parent.get(), 0) };
    crate::fatal("a finished coroutine was resumed")
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::stack::GlobalPool;

    fn stack(pool: &GlobalPool) -> Stack {
        pool.get(GlobalPool::normalise(64 << 10).unwrap()).unwrap()
    }

    #[test]
    fn values_go_both_ways_and_the_stack_comes_back() {
        let pool = GlobalPool::default();
        let mut c: Coro<u64> = Coro::new(stack(&pool));
        let (lo, hi) = (c.stack.limit_addr(), c.stack.base_addr());
        let captured = vec![7u64, 8, 9]; // moved in: a function object that needs dropping
        // SAFETY: not started; this thread owns it.
        let first = unsafe {
            c.start(move |y| {
                for v in &captured {
                    y.suspend(*v);
                }
                let on_stack = 0u8;
                y.suspend(&on_stack as *const u8 as u64);
            })
        };
        assert_eq!(first, Some(7));
        assert!(c.saved_sp() >= lo && c.saved_sp() < hi, "the saved context lies on its stack");
        // SAFETY: suspended, ours.
        assert_eq!(unsafe { c.resume() }, Some(8));
        assert_eq!(unsafe { c.resume() }, Some(9));
        let addr = unsafe { c.resume() }.unwrap() as usize;
        assert!(addr >= lo && addr < hi, "the coroutine runs on its own stack");
        assert!(!c.done());
        assert_eq!(unsafe { c.resume() }, None);
        assert!(c.done());
        pool.put_many([c.into_stack()]);
        pool.release_all();
    }

    #[test]
    fn a_suspended_coroutine_moves_and_resumes_on_another_thread() {
        struct Sendable(Coro<u32>);
        // SAFETY: handed over whole, as a goroutine's run state is between Ms.
        unsafe impl Send for Sendable {}
        let pool = GlobalPool::default();
        let mut c: Coro<u32> = Coro::new(stack(&pool));
        // SAFETY: not started; this thread owns it.
        let first = unsafe {
            c.start(|y| {
                let mut x = 1u32;
                for _ in 0..4 {
                    y.suspend(x);
                    x *= 3; // callee-saved and stack state survive each hop
                }
            })
        };
        assert_eq!(first, Some(1));
        let mut s = Sendable(c);
        let mut seen = vec![];
        for _ in 0..4 {
            let t = std::thread::spawn(move || {
                let mut s = s;
                // SAFETY: suspended; this thread owns it now.
                let r = unsafe { s.0.resume() };
                (s, r)
            });
            let (back, r) = t.join().unwrap();
            s = back;
            seen.push(r);
        }
        assert_eq!(seen, vec![Some(3), Some(9), Some(27), None]);
        pool.put_many([s.0.into_stack()]);
        pool.release_all();
    }
}
