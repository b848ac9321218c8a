package io.gr;

import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A Java goroutine's body, its run state and its outcome; {@link #invoke} is called by the
 * glue on the gr worker thread that runs the goroutine.
 *
 * <p>Run state (written under the task's lock, read without it):
 * <pre>
 *   NEW --invoke--> RUNNING --body returns or throws--> DONE
 *    |                 |
 *    +---cancel()------+----> CANCELLED   (the body never runs, or its outcome is discarded)
 * </pre>
 *
 * <p>Interrupts reach this goroutine only: {@code runner} is the worker thread while the body
 * runs, set and cleared under the lock, and {@link #interrupt()} interrupts it under the same
 * lock. The worker's interrupt status is cleared before the body starts and after it ends
 * (as a thread pool clears it between tasks), so a goroutine that ends interrupted, or an
 * interrupt that arrives as it ends, never reaches the next goroutine on that thread. An
 * interrupt before the body starts is kept and set when it starts.
 *
 * <p>Delivery flags: FAILED (the body threw), DETACHED (nobody will join: the handle was
 * closed unjoined, or it was spawned detached), OBSERVED (join, get or a CompletableFuture
 * took the outcome), REPORTED (the throwable went to the uncaught-exception handler). A
 * failure reaches exactly one of: an observer, if one is still possible; otherwise the
 * uncaught-exception handler.
 */
final class Task<T> {
    static final int NEW = 0;
    static final int RUNNING = 1;
    static final int DONE = 2;
    static final int CANCELLED = 3;

    private static final int FAILED = 1;
    private static final int DETACHED = 2;
    private static final int OBSERVED = 4;
    private static final int REPORTED = 8;

    private final Callable<T> body;
    private volatile int state = NEW;
    private final AtomicInteger flags;
    private T value; // published by the volatile write of DONE
    private Throwable failure;
    private Thread runner; // guarded by this
    private boolean interruptPending; // guarded by this
    private final AtomicReference<CompletableFuture<T>> future = new AtomicReference<>();

    Task(Callable<T> body, boolean detached) {
        this.body = body;
        this.flags = new AtomicInteger(detached ? DETACHED : 0);
    }

    /** Called by the glue (JNI). Returns null, or a description for gr_goroutine_fail. */
    static String invoke(Task<?> t) {
        return t.run();
    }

    private String run() {
        Thread me = Thread.currentThread();
        synchronized (this) {
            if (state != NEW) {
                return null; // cancelled before it started: the body never runs
            }
            state = RUNNING;
            runner = me;
            Thread.interrupted(); // whatever a previous goroutine or a stray interrupt left
            if (interruptPending) {
                me.interrupt();
            }
        }
        T v = null;
        Throwable e = null;
        try {
            v = body.call();
        } catch (Throwable x) {
            e = x;
        }
        boolean cancelled;
        synchronized (this) {
            runner = null;
            cancelled = state == CANCELLED;
            if (!cancelled) {
                value = v;
                failure = e;
                state = DONE;
            }
        }
        Thread.interrupted(); // an interrupt for this goroutine stops here
        if (cancelled) {
            return null;
        }
        if (e != null && (flags.getAndUpdate(f -> f | FAILED) & (DETACHED | OBSERVED)) == DETACHED) {
            report(e);
        }
        CompletableFuture<T> f = future.get();
        if (f != null) {
            complete(f);
        }
        return e == null ? null : describe(e);
    }

    private static String describe(Throwable e) {
        try {
            return String.valueOf(e);
        } catch (Throwable ignored) {
            return e.getClass().getName();
        }
    }

    /** Future.cancel: true if this call moved NEW or RUNNING to CANCELLED. */
    boolean cancel(boolean mayInterruptIfRunning) {
        synchronized (this) {
            if (state == DONE || state == CANCELLED) {
                return false;
            }
            state = CANCELLED;
            if (mayInterruptIfRunning && runner != null) {
                runner.interrupt();
            }
        }
        CompletableFuture<T> f = future.get();
        if (f != null) {
            complete(f);
        }
        return true;
    }

    /** Interrupts the body while it runs; before it starts, it will start interrupted. */
    synchronized void interrupt() {
        if (runner != null) {
            runner.interrupt();
        } else if (state == NEW) {
            interruptPending = true;
        }
    }

    int state() {
        return state;
    }

    /** The value of a DONE task (null if it failed). */
    T value() {
        return value;
    }

    /** The throwable of a DONE task that failed, marked as observed; else null. */
    Throwable takeFailure() {
        flags.getAndUpdate(f -> f | OBSERVED);
        return failure;
    }

    /** Nobody will join: a failure from now on (or already) goes to the handler. */
    void detach() {
        int s = flags.getAndUpdate(f -> f | DETACHED);
        if ((s & FAILED) != 0 && (s & (OBSERVED | DETACHED)) == 0) {
            report(failure);
        }
    }

    private void report(Throwable e) {
        if ((flags.getAndUpdate(f -> f | REPORTED) & REPORTED) != 0) {
            return;
        }
        Thread t = Thread.currentThread();
        Thread.UncaughtExceptionHandler h = t.getUncaughtExceptionHandler();
        if (h != null) {
            h.uncaughtException(t, e);
        }
    }

    /**
     * The task's CompletableFuture (one per task), completed with its outcome; cancelling it
     * cancels the task. Counts as an observer of a failure.
     */
    CompletableFuture<T> toCompletableFuture(Goroutine<T> g) {
        flags.getAndUpdate(f -> f | OBSERVED);
        CompletableFuture<T> f = future.get();
        if (f == null) {
            CompletableFuture<T> mine = new CompletableFuture<T>() {
                @Override
                public boolean cancel(boolean mayInterruptIfRunning) {
                    g.cancel(mayInterruptIfRunning);
                    return super.cancel(mayInterruptIfRunning);
                }
            };
            f = future.compareAndSet(null, mine) ? mine : future.get();
        }
        complete(f); // if the outcome is already known; run() or cancel() do it otherwise
        return f;
    }

    private void complete(CompletableFuture<T> f) {
        int s = state;
        if (s == DONE) {
            if (failure != null) {
                f.completeExceptionally(failure);
            } else {
                f.complete(value);
            }
        } else if (s == CANCELLED) {
            f.completeExceptionally(new CancellationException()); // not f.cancel: that cancels us
        }
    }
}
