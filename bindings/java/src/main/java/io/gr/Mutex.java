package io.gr;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;

/**
 * A gr mutex (Go's {@code sync.Mutex}) as a {@link Lock}: shared with C goroutines and usable
 * from Java threads and goroutines alike. A goroutine waiting for it parks instead of holding
 * a processor.
 *
 * <p>As in Go, it is not reentrant and not owned: any thread may unlock it, and locking it
 * twice from one thread waits forever (or until the timeout). {@link #unlock()} of an
 * unlocked mutex throws {@link IllegalMonitorStateException}. {@link #newCondition()} gives
 * its conditions ({@link Cond}, Go's {@code sync.Cond}). {@link #close()} frees it (and its
 * conditions); a thread blocked in a lock call then ends with {@link IllegalStateException}.
 */
public final class Mutex extends NativeResource implements Lock {
    static {
        Native.ensureLoaded();
    }

    /** Its conditions not yet closed or collected: closed before it (gr_cond needs its mutex). */
    private final Set<Cond> conds = Collections.newSetFromMap(new WeakHashMap<>());
    /** The Lock bodies (shared with RWMutex's sides). */
    private final NativeLock lock = new NativeLock(this, Native::mutexLock, Native::mutexUnlock, "Mutex");

    /** Creates an unlocked mutex. */
    public Mutex() {
        super("mutex", Status.pointer(Native.mutexNew(), "gr_mutex_new"), Native::mutexFree);
    }

    /**
     * Locks, waiting as long as needed. Not interruptible, as {@link Lock#lock()} says: an
     * interrupt while waiting is remembered and the interrupt status set again once locked.
     */
    @Override
    public void lock() {
        lock.lock();
    }

    /**
     * Locks, waiting as long as needed unless interrupted.
     *
     * @throws InterruptedException if interrupted while waiting (the lock was not taken)
     */
    @Override
    public void lockInterruptibly() throws InterruptedException {
        lock.lockInterruptibly();
    }

    /**
     * Locks only if it is free now.
     *
     * @return true if locked
     */
    @Override
    public boolean tryLock() {
        return lock.tryLock();
    }

    /**
     * Locks, waiting at most {@code timeout}.
     *
     * @param timeout how long to wait; {@code <= 0}: not at all
     * @param unit the unit of {@code timeout}
     * @return true if locked, false if the time passed first
     * @throws InterruptedException if interrupted while waiting (the lock was not taken)
     */
    @Override
    public boolean tryLock(long timeout, TimeUnit unit) throws InterruptedException {
        return lock.tryLock(timeout, unit);
    }

    /**
     * Unlocks. Any thread may unlock a locked mutex (Go's rule).
     *
     * @throws IllegalMonitorStateException if it was not locked
     */
    @Override
    public void unlock() {
        lock.unlock();
    }

    /**
     * A new condition of this mutex (Go's {@code sync.NewCond(&mu)}), a {@link Cond}.
     *
     * @return the condition; close it when done (closing the mutex closes it too)
     */
    @Override
    public Cond newCondition() {
        synchronized (conds) {
            Cond c = new Cond(this, Status.pointer(call(Native::condNew), "gr_cond_new"));
            conds.add(c);
            return c;
        }
    }

    /** A condition of this mutex was closed. */
    void forget(Cond c) {
        synchronized (conds) {
            conds.remove(c);
        }
    }

    /**
     * Frees the mutex; a thread blocked in a lock call ends with
     * {@link IllegalStateException}. Closing again does nothing.
     */
    @Override
    public void close() {
        List<Cond> cs;
        synchronized (conds) {
            cs = new ArrayList<>(conds);
        }
        for (Cond c : cs) {
            c.close();
        }
        super.close();
    }
}
