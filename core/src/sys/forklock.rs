//! A mutex that survives `fork()`: for the few process-wide locks a fork()ed child needs
//! after `gr_init` (the runtime's start/stop lock, `gr-ffi`'s handle pools and allocator
//! depot).
//!
//! A lock another thread holds at `fork()` stays held in the child forever, since that thread
//! does not exist there; glibc's malloc avoids it by taking its locks before fork and
//! releasing them on both sides. So does this: `pthread_atfork` handlers call
//! [`ForkLock::fork_prepare`] (take it: no other thread is inside, the data is consistent),
//! then [`ForkLock::fork_parent`] or [`ForkLock::fork_child`] (free it; the child's waiters,
//! the parent's other threads, are gone, so nobody is woken). The lock itself is a futex word
//! (Drepper's "mutex 2": 0 free, 1 held, 2 held with sleepers); critical sections are short.

use std::cell::UnsafeCell;
use std::sync::atomic::AtomicU32;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

pub struct ForkLock<T> {
    state: AtomicU32,
    val: UnsafeCell<T>,
}

// SAFETY: `val` is only reached through a guard, and a guard exists for one thread at a time
// (the state word's CAS/swap hands the lock over with Acquire/Release).
unsafe impl<T: Send> Sync for ForkLock<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for ForkLock<T> {}

pub struct ForkGuard<'a, T> {
    l: &'a ForkLock<T>,
}

impl<T> ForkLock<T> {
    pub const fn new(v: T) -> Self {
        ForkLock { state: AtomicU32::new(0), val: UnsafeCell::new(v) }
    }

    pub fn lock(&self) -> ForkGuard<'_, T> {
        if self.state.compare_exchange(0, 1, Acquire, Relaxed).is_err() {
            self.lock_slow();
        }
        ForkGuard { l: self }
    }

    #[cold]
    fn lock_slow(&self) {
        for _ in 0..64 {
            std::hint::spin_loop();
            if self.state.load(Relaxed) == 0 && self.state.compare_exchange(0, 1, Acquire, Relaxed).is_ok() {
                return;
            }
        }
        while self.state.swap(2, Acquire) != 0 {
            futex_wait(&self.state, 2);
        }
    }

    fn unlock(&self) {
        if self.state.swap(0, Release) == 2 {
            futex_wake(&self.state);
        }
    }

    /// `pthread_atfork` prepare: takes the lock and keeps it through `fork()`.
    pub fn fork_prepare(&self) {
        std::mem::forget(self.lock());
    }

    /// `pthread_atfork` parent: frees the lock `fork_prepare` took.
    ///
    /// # Safety
    /// Only after [`ForkLock::fork_prepare`] on this thread (the lock is ours).
    pub unsafe fn fork_parent(&self) {
        self.unlock();
    }

    /// `pthread_atfork` child: frees the lock `fork_prepare` took, waking nobody (the
    /// waiters were the parent's other threads).
    ///
    /// # Safety
    /// Only in the child, after [`ForkLock::fork_prepare`] in the parent.
    pub unsafe fn fork_child(&self) {
        self.state.store(0, Release);
    }
}

impl<T> std::ops::Deref for ForkGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock: no other reference to `val` exists.
        unsafe { &*self.l.val.get() }
    }
}

impl<T> std::ops::DerefMut for ForkGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as above, and `&mut self` makes this the only one.
        unsafe { &mut *self.l.val.get() }
    }
}

impl<T> Drop for ForkGuard<'_, T> {
    fn drop(&mut self) {
        self.l.unlock();
    }
}

fn futex_wait(word: &AtomicU32, expected: u32) {
    // SAFETY: FUTEX_WAIT reads the live, aligned word and sleeps while it holds `expected`.
    unsafe {
        libc::syscall(libc::SYS_futex, word as *const AtomicU32, libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG, expected, std::ptr::null::<libc::timespec>());
    }
}

fn futex_wake(word: &AtomicU32) {
    // SAFETY: FUTEX_WAKE reads no memory; the address only names the wait queue.
    unsafe {
        libc::syscall(libc::SYS_futex, word as *const AtomicU32, libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG, 1);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::ForkLock;

    #[test]
    fn excludes() {
        static L: ForkLock<u64> = ForkLock::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..100_000 {
                        *L.lock() += 1;
                    }
                });
            }
        });
        assert_eq!(*L.lock(), 400_000);
    }

    /// A lock another thread holds at fork() is free in the child once the handlers ran.
    #[test]
    fn free_in_the_child() {
        static L: ForkLock<u32> = ForkLock::new(7);
        L.fork_prepare();
        // SAFETY: fork in a test: the child takes the lock, checks the value and exits.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: the child, after fork_prepare in the parent.
            unsafe { L.fork_child() };
            let ok = *L.lock() == 7;
            // SAFETY: ends the child without running the parent's destructors.
            unsafe { libc::_exit(if ok { 0 } else { 1 }) };
        }
        // SAFETY: the parent, after fork_prepare on this thread.
        unsafe { L.fork_parent() };
        let mut st = 0;
        // SAFETY: waiting for our own child.
        unsafe { libc::waitpid(pid, &mut st, 0) };
        assert!(libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 0);
        assert_eq!(*L.lock(), 7);
    }
}
