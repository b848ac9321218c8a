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
        super(Status.pointer(Native.mutexNew(), "gr_mutex_new"), Native::mutexFree);
    }

    @Override
    void free(long ptr) {
        Native.mutexFree(ptr);
    }

    @Override
    String kind() {
        return "mutex";
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
        long m = acquire();
        try {
            int rc = Native.mutexLock(m, 0, 0);
            if (rc == Status.ETIMEDOUT || rc == Status.EAGAIN) {
                return false;
            }
            Status.check(rc, "Mutex.tryLock");
            return true;
        } finally {
            release();
        }
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
        long m = acquire();
        int rc;
        try {
            Waiter w = Waiter.current();
            w.enter();
            try {
                rc = Native.mutexLock(m, ns, w.token);
            } finally {
                w.exit();
            }
        } finally {
            release();
        }
        Waiter.interrupted(rc);
        if (rc == Status.ETIMEDOUT || rc == Status.EAGAIN) {
            return false;
        }
        Status.check(rc, "Mutex.lock");
        return true;
    }

    /**
     * Unlocks.
     *
     * @throws IllegalStateException if it was not locked
     */
    public void unlock() {
        long m = acquire();
        try {
            Status.check(Native.mutexUnlock(m), "Mutex.unlock");
        } finally {
            release();
        }
    }
}
