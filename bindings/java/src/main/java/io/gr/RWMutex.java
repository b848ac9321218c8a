package io.gr;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
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

    private final Lock read = new Side(true);
    private final Lock write = new Side(false);

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

    /** One side of the lock. */
    private final class Side implements Lock {
        private final boolean shared;

        Side(boolean shared) {
            this.shared = shared;
        }

        private String what() {
            return shared ? "RWMutex.readLock" : "RWMutex.writeLock";
        }

        private boolean lockNanos(long ns) throws InterruptedException {
            int rc = await(shared ? Native::rwmutexRlock : Native::rwmutexLock, ns);
            if (rc == Waiter.ABANDONED) {
                throw closedWhileWaiting();
            }
            return Status.timed(rc, what());
        }

        @Override
        public void lock() {
            boolean interrupted = false;
            for (;;) {
                try {
                    lockNanos(Status.FOREVER);
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void lockInterruptibly() throws InterruptedException {
            lockNanos(Status.FOREVER);
        }

        @Override
        public boolean tryLock() {
            int rc = (int) call(p -> shared ? Native.rwmutexRlock(p, 0, 0) : Native.rwmutexLock(p, 0, 0));
            return Status.timed(rc, what());
        }

        @Override
        public boolean tryLock(long timeout, TimeUnit unit) throws InterruptedException {
            return lockNanos(Status.timeout(timeout, unit));
        }

        @Override
        public void unlock() {
            int rc = (int) call(shared ? Native::rwmutexRunlock : Native::rwmutexUnlock);
            if (rc == Status.ESTATE) {
                throw new IllegalMonitorStateException(what() + ".unlock: not locked");
            }
            Status.check(rc, what() + ".unlock");
        }

        @Override
        public Condition newCondition() {
            throw new UnsupportedOperationException("an RWMutex has no conditions; use a Mutex's (Mutex.newCondition)");
        }

        @Override
        public String toString() {
            return what();
        }
    }
}
