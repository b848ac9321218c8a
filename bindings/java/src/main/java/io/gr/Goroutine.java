package io.gr;

import java.util.concurrent.TimeUnit;

/**
 * A handle to a goroutine started by {@link Goroutines#go(Runnable)} or
 * {@link Goroutines#goNative(long, long)}.
 *
 * <p>{@link #join()} waits for it. If the body threw, join throws a
 * {@link GoroutineException} whose cause is the original throwable (for a native goroutine
 * that called {@code gr_goroutine_fail}, the message carries the native text). Joining again
 * gives the same outcome.
 *
 * <p>{@link #close()} <em>detaches</em>: it frees the native handle without stopping the
 * goroutine, and from then on a failure of the body goes to the uncaught-exception handler
 * of the thread that ran it. A completed {@code join} frees the handle itself, so a joined
 * goroutine needs no {@code close()}; unlike other handles, closing a goroutine twice is
 * allowed. A handle that is neither joined nor closed is released (and detached) by the GC
 * backstop once unreachable.
 */
public final class Goroutine extends NativeResource {
    private final Task task; // null for native goroutines
    private volatile boolean finished;
    private volatile GoroutineException outcome;

    Goroutine(long handle, Task task) {
        super("goroutine handle", handle, Native::handleRelease, backstop(task));
        this.task = task;
    }

    /** GC backstop for a handle neither joined nor closed: release it and detach the task. */
    private static java.util.function.LongConsumer backstop(Task task) {
        if (task == null) {
            return Native::handleRelease;
        }
        return h -> {
            Native.handleRelease(h);
            task.detach();
        };
    }

    /**
     * Waits until the goroutine has returned.
     *
     * @throws GoroutineException if the goroutine failed (the cause is its throwable)
     * @throws InterruptedException if this thread is interrupted while waiting
     * @throws IllegalStateException if the handle was closed (detached) before being joined
     */
    public void join() throws InterruptedException {
        joinNanos(Status.FOREVER);
    }

    /**
     * Waits at most {@code timeout} for the goroutine to return.
     *
     * @param timeout how long to wait; 0 only checks
     * @param unit the unit of {@code timeout}
     * @return true if it returned, false if the time passed first
     * @throws GoroutineException if the goroutine failed (the cause is its throwable)
     * @throws InterruptedException if this thread is interrupted while waiting
     * @throws IllegalStateException if the handle was closed (detached) before being joined
     */
    public boolean join(long timeout, TimeUnit unit) throws InterruptedException {
        return joinNanos(Status.toNanos(timeout, unit));
    }

    /**
     * Whether the goroutine is known to have returned (a join has completed, or the goroutine
     * is done now). Never blocks.
     *
     * @return true once it has returned
     * @throws IllegalStateException if the handle was closed (detached) before it was seen done
     */
    public boolean isDone() {
        if (finished) {
            return true;
        }
        try {
            return joinNanos(0);
        } catch (GoroutineException e) {
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private boolean joinNanos(long ns) throws InterruptedException {
        if (finished) {
            return rethrow();
        }
        long h = acquire();
        int rc;
        String nativeError = null;
        try {
            rc = Native.wait(h, 0, 0); // fast path: already done (no interrupt window needed)
            if (rc == Status.ETIMEDOUT || rc == Status.EAGAIN) {
                if (ns == 0) {
                    return false; // released by the finally below
                }
                rc = Waiter.await(Native::wait, h, ns);
            }
            if (rc == Status.EPANIC) {
                nativeError = Native.handleError(h); // valid until the handle is released
            }
        } finally {
            release();
        }
        if (rc == Status.ETIMEDOUT || rc == Status.EAGAIN) {
            return false;
        }
        if (rc == Status.OK || rc == Status.EPANIC) {
            synchronized (this) {
                if (!finished) {
                    if (rc == Status.EPANIC) {
                        Throwable cause = task != null ? task.takeFailure() : null;
                        String msg = cause != null ? "goroutine failed: " + cause
                                : "goroutine failed: " + (nativeError != null ? nativeError : "(no message)");
                        outcome = new GoroutineException(msg, cause);
                    }
                    finished = true;
                }
            }
            closeOnce();
            return rethrow();
        }
        throw Status.exception(rc, "gr_wait");
    }

    private boolean rethrow() {
        GoroutineException e = outcome;
        if (e != null) {
            GoroutineException again = new GoroutineException(e.getMessage(), e.getCause());
            throw again;
        }
        return true;
    }

    /**
     * Detaches: frees the native handle without stopping the goroutine. Idempotent, and a
     * no-op after a completed {@link #join()}.
     */
    @Override
    public void close() {
        if (closeOnce() && task != null && !finished) {
            task.detach();
        }
    }
}
