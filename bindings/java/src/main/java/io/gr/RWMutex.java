package io.gr;

import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;

/**
 * Go's {@code sync.RWMutex} as a {@link ReadWriteLock}: any number of readers or one writer,
 * shared with C goroutines and usable from Java threads and goroutines alike.
 *
 * <p>Writer preference, as Go's: once a writer waits, new readers wait behind it; when it
 * unlocks, the readers that queued meanwhile go before the next writer. As in Go it is
 * neither reentrant nor owned: any thread may unlock, a thread that takes a lock it holds
 * waits (for its timeout), and a reader cannot upgrade. Neither lock has conditions.
 * Unlocking a lock that is not held throws {@link IllegalMonitorStateException}.
 * {@link #close()} frees it; a thread blocked in a lock call then ends with
 * {@link IllegalStateException}.
 */
public final class RWMutex extends NativeResource implements ReadWriteLock {
    static {
        Native.ensureLoaded();
    }

    private final Lock read = new NativeLock(this, Native::rwmutexRlock, Native::rwmutexRunlock, "RWMutex.readLock");
    private final Lock write = new NativeLock(this, Native::rwmutexLock, Native::rwmutexUnlock, "RWMutex.writeLock");

    /** Creates an unlocked RWMutex. */
    public RWMutex() {
        super("rwmutex", Status.pointer(Native.rwmutexNew(), "gr_rwmutex_new"), Native::rwmutexFree);
    }

    /**
     * The shared lock (Go's {@code RLock}/{@code RUnlock}).
     *
     * @return the read lock, the same object on every call
     */
    @Override
    public Lock readLock() {
        return read;
    }

    /**
     * The exclusive lock (Go's {@code Lock}/{@code Unlock}).
     *
     * @return the write lock, the same object on every call
     */
    @Override
    public Lock writeLock() {
        return write;
    }

    /**
     * Frees the RWMutex; a thread blocked in a lock call ends with
     * {@link IllegalStateException}. Closing again does nothing.
     */
    @Override
    public void close() {
        super.close();
    }
}
