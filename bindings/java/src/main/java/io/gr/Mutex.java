package io.gr;

import java.util.concurrent.TimeUnit;

/**
 * A gr mutex, shared with C goroutines and usable from Java threads. Not reentrant. A
 * goroutine waiting for it parks instead of holding a processor. {@link #close()} frees it.
 */
public final class Mutex extends NativeResource {
    static {
        Native.ensureLoaded();
    }

    /** Creates an unlocked mutex. */
    public Mutex() {
        super("mutex", Status.pointer(Native.mutexNew(), "gr_mutex_new"), Native::mutexFree);
    }

    /**
     * Locks, waiting as long as needed.
     *
     * @throws InterruptedException if interrupted while waiting (the lock was not taken)
     */
    public void lock() throws InterruptedException {
        lockNanos(Status.FOREVER);
    }

    /**
     * Locks only if it is free now.
     *
     * @return true if locked
     */
    public boolean tryLock() {
        return Status.timed((int) call(m -> Native.mutexLock(m, 0, 0)), "Mutex.tryLock");
    }

    /**
     * Locks, waiting at most {@code timeout}.
     *
     * @param timeout how long to wait
     * @param unit the unit of {@code timeout}
     * @return true if locked, false if the time passed first
     * @throws InterruptedException if interrupted while waiting (the lock was not taken)
     */
    public boolean tryLock(long timeout, TimeUnit unit) throws InterruptedException {
        return lockNanos(Status.toNanos(timeout, unit));
    }

    private boolean lockNanos(long ns) throws InterruptedException {
        return Status.timed(await(Native::mutexLock, ns), "Mutex.lock");
    }

    /**
     * Unlocks.
     *
     * @throws IllegalStateException if it was not locked
     */
    public void unlock() {
        Status.check((int) call(Native::mutexUnlock), "Mutex.unlock");
    }
}
