package io.gr;

import java.util.concurrent.TimeUnit;

/**
 * A weighted semaphore ({@code golang.org/x/sync/semaphore}'s {@code Weighted}): a number of
 * units, taken {@code n} at a time, first come first served (a large acquire is not
 * overtaken by smaller ones behind it), by Java threads, Java goroutines and C goroutines
 * alike. Units are not owned: any thread may release them. {@link #close()} frees it; a
 * thread blocked in an acquire then ends with {@link IllegalStateException}.
 */
public final class Semaphore extends NativeResource {
    static {
        Native.ensureLoaded();
    }

    private final long size;

    /**
     * Creates a semaphore of {@code size} units, all free.
     *
     * @param size the units, 0 or more
     * @throws IllegalArgumentException if {@code size} is negative
     */
    public Semaphore(long size) {
        super("semaphore", Status.pointer(Native.semNew(check(size)), "gr_sem_new"), Native::semFree);
        this.size = size;
    }

    private static long check(long size) {
        if (size < 0) {
            throw new IllegalArgumentException("negative semaphore size " + size);
        }
        return size;
    }

    /**
     * The units it was created with.
     *
     * @return the size
     */
    public long size() {
        return size;
    }

    /**
     * Takes {@code n} units, waiting as long as needed behind earlier acquirers.
     *
     * @param n the units, from 0 to {@link #size()}
     * @throws InterruptedException if interrupted while waiting (nothing is held then)
     * @throws IllegalArgumentException if {@code n} is negative or above the size (it could
     *     never be had)
     */
    public void acquire(long n) throws InterruptedException {
        acquireNanos(n, Status.FOREVER);
    }

    /**
     * Takes {@code n} units if they are free now and nobody waits before this call (x/sync's
     * {@code TryAcquire}).
     *
     * @param n the units, from 0 to {@link #size()}
     * @return true if taken
     * @throws IllegalArgumentException if {@code n} is negative or above the size
     */
    public boolean tryAcquire(long n) {
        return Status.timed((int) call(s -> Native.semAcquire(s, n, 0, 0)), "Semaphore.tryAcquire");
    }

    /**
     * Takes {@code n} units, waiting at most {@code timeout}; a timed-out acquire holds
     * nothing.
     *
     * @param n the units, from 0 to {@link #size()}
     * @param timeout how long to wait; {@code <= 0}: not at all
     * @param unit the unit of {@code timeout}
     * @return true if taken, false if the time passed first
     * @throws InterruptedException if interrupted while waiting (nothing is held then)
     * @throws IllegalArgumentException if {@code n} is negative or above the size
     */
    public boolean tryAcquire(long n, long timeout, TimeUnit unit) throws InterruptedException {
        return acquireNanos(n, Status.timeout(timeout, unit));
    }

    private boolean acquireNanos(long n, long ns) throws InterruptedException {
        int rc = await((s, t, c) -> Native.semAcquire(s, n, t, c), ns);
        if (rc == Waiter.ABANDONED) {
            throw closedWhileWaiting();
        }
        return Status.timed(rc, "Semaphore.acquire");
    }

    /**
     * Gives back {@code n} units (anyone may), granting waiting acquirers that now fit.
     *
     * @param n the units
     * @throws IllegalStateException if fewer than {@code n} are held (nothing is released)
     * @throws IllegalArgumentException if {@code n} is negative
     */
    public void release(long n) {
        Status.check((int) call(s -> Native.semRelease(s, n)), "Semaphore.release");
    }

    /**
     * Frees the semaphore; a thread blocked in an acquire ends with
     * {@link IllegalStateException}. Closing again does nothing.
     */
    @Override
    public void close() {
        super.close();
    }
}
