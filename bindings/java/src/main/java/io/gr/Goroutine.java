package io.gr;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A goroutine started by {@link Goroutines#go(java.util.concurrent.Callable)},
 * {@link Goroutines#go(Runnable)} or {@link Goroutines#goNative(long, long)}: a handle to
 * join it (Go style) and a {@link Future} of its result.
 *
 * <p><b>Go style.</b> {@link #join()} waits until the goroutine has returned. If the body
 * threw, join throws a {@link GoroutineException} whose cause is the original throwable
 * (for a native goroutine that called {@code gr_goroutine_fail}, the message carries the
 * native text). Joining again gives the same outcome.
 *
 * <p><b>Future.</b> {@link #get()} returns the body's result, or throws
 * {@link ExecutionException} with the throwable as its cause. {@link #cancel(boolean)} follows
 * the {@code Future} contract: it fails once the goroutine has completed or was cancelled;
 * otherwise a goroutine that has not started never runs its body, and one that runs has its
 * outcome discarded and, with {@code mayInterruptIfRunning}, its thread interrupted (this
 * goroutine only: see {@link #interrupt()}). From then on {@link #isDone()} and
 * {@link #isCancelled()} are true and {@code get} throws {@link CancellationException} at
 * once, waking callers already waiting in {@code get}; {@code join} still waits for the
 * goroutine to return, then throws {@link CancellationException}. C code cannot be
 * interrupted: cancelling a native goroutine only discards its outcome.
 * {@link #toCompletableFuture()} bridges to {@code CompletableFuture} pipelines.
 *
 * <p><b>Closing.</b> {@link #close()} <em>detaches</em>: it frees the native handle without
 * stopping the goroutine, and from then on a failure of the body goes to the
 * uncaught-exception handler of the thread that ran it (unless a {@code CompletableFuture}
 * takes it). A completed {@code join} or {@code get} frees the handle itself, so such a
 * goroutine needs no {@code close()}; closing twice is allowed. A handle neither joined nor
 * closed is released (and detached) by the GC backstop once unreachable.
 *
 * @param <T> the result type ({@link Void} for a {@code Runnable} or a native goroutine)
 */
public final class Goroutine<T> extends NativeResource implements Future<T> {
    private final Task<T> task; // null for native goroutines
    private final Task.Returned returned; // the task's returned flag; null for native goroutines
    /** The goroutine has returned (a wait saw it end). */
    private volatile boolean finished;
    /** A native goroutine's failure text once finished (null: it did not fail). */
    private volatile String nativeFailure;
    /** A native goroutine was cancelled (Java goroutines keep this in their task). */
    private volatile boolean nativeCancelled;
    private CompletableFuture<T> nativeFuture; // guarded by this

    /** What {@code get} waits on: the handle, abandoned also when cancelled. */
    private static final class GetTarget implements Waiter.Target {
        private final Goroutine<?> g;

        GetTarget(Goroutine<?> g) {
            this.g = g;
        }

        @Override
        public boolean abandoned() {
            return g.isClosed() || g.isCancelled();
        }

        @Override
        public boolean involves(NativeResource r) {
            return r == g;
        }
    }

    Goroutine(long handle, Task<T> task) {
        this(handle, task, task != null ? task.returned : null);
    }

    /**
     * {@code returned}: the task's returned flag ({@link Task#returned}), read by the spawner
     * before the spawn, so that a join reaches it without reading the task's line, which the
     * worker is writing meanwhile.
     */
    Goroutine(long handle, Task<T> task, Task.Returned returned) {
        super("goroutine handle", handle, task != null ? Goroutine::releaseLater : Native::handleRelease, backstop(task));
        this.task = task;
        this.returned = returned;
    }

    /*
     * Deferred release of Java goroutines' native handles. A join that ends on the task's
     * returned flag (the common go() + join()) frees the handle at once in Java, but its
     * native release (a JNI call; the goroutine's record, whose reference count the worker
     * drops at the goroutine's end, fetched from the worker's CPU) is put off to this thread's
     * next go(), after its spawn, where it overlaps the worker starting that goroutine instead
     * of lying on the path from one go() + join() to the next. A handle waits in one of
     * STRIPES slots (chosen by thread id, each on a line of its own): a thread's next go()
     * takes the one in its slot, and a release that finds its slot taken releases the one it
     * displaces; so at most STRIPES handles wait at any time, all of them of goroutines that
     * have ended, and Goroutines.shutdown releases them. Nothing observable depends on the
     * native release: the Java handle is closed (and untracked) at once.
     */
    private static final int STRIPES = 8;
    private static final int PAD = 16; // longs: slots 128 bytes apart
    /** The length of an {@code AtomicLongArray} indexed by {@link #stripe()}. */
    static final int STRIPED_LENGTH = (STRIPES + 1) * PAD;
    private static final AtomicLongArray DEFERRED = new AtomicLongArray(STRIPED_LENGTH);

    /** This thread's slot in an array of {@link #STRIPED_LENGTH} longs (by thread id; each on a line of its own). */
    static int stripe() {
        return ((int) Thread.currentThread().getId() & (STRIPES - 1)) * PAD + PAD;
    }

    /** Puts {@code handle} (or 0) in slot {@code i}, releasing the one it displaces. */
    private static void swapDeferred(int i, long handle) {
        long old = DEFERRED.getAndSet(i, handle);
        if (old != 0) {
            Native.handleRelease(old);
        }
    }

    /** The free function of a Java goroutine's handle: its native release waits in a slot. */
    private static void releaseLater(long handle) {
        swapDeferred(stripe(), handle);
    }

    /** Releases the handle waiting in this thread's slot, if any (go() after its spawn). */
    static void releaseDeferred() {
        int i = stripe();
        if (DEFERRED.get(i) != 0) {
            swapDeferred(i, 0);
        }
    }

    /** The handle waiting in this thread's slot, 0 if none (for tests). */
    static long deferredHere() {
        return DEFERRED.get(stripe());
    }

    /** Releases every waiting handle (at shutdown). */
    static void releaseAllDeferred() {
        for (int s = 0; s < STRIPES; s++) {
            swapDeferred(s * PAD + PAD, 0);
        }
    }

    /** GC backstop for a handle neither joined nor closed: release it (and detach the task: {@link Task#accept}). */
    private static java.util.function.LongConsumer backstop(Task<?> task) {
        if (task == null) {
            return Native::handleRelease;
        }
        return task;
    }

    /**
     * Waits until the goroutine has returned.
     *
     * @throws GoroutineException if the goroutine failed (the cause is its throwable)
     * @throws CancellationException if it was cancelled
     * @throws InterruptedException if this thread is interrupted while waiting
     * @throws IllegalStateException if the handle was closed (detached) before it was joined,
     *     or while this call waited
     */
    public void join() throws InterruptedException {
        awaitEnd(Status.FOREVER, this);
        joinOutcome();
    }

    /**
     * Waits at most {@code timeout} for the goroutine to return.
     *
     * @param timeout how long to wait; {@code <= 0}: not at all
     * @param unit the unit of {@code timeout}
     * @return true if it returned, false if the time passed first
     * @throws GoroutineException if the goroutine failed (the cause is its throwable)
     * @throws CancellationException if it was cancelled
     * @throws InterruptedException if this thread is interrupted while waiting
     * @throws IllegalStateException if the handle was closed (detached) before it was joined,
     *     or while this call waited
     */
    public boolean join(long timeout, TimeUnit unit) throws InterruptedException {
        if (!awaitEnd(Status.timeout(timeout, unit), this)) {
            return false;
        }
        joinOutcome();
        return true;
    }

    private void joinOutcome() {
        if (returned != null && Task.returnedClean(returned)) {
            return; // neither failed nor cancelled, for good: nothing more to read from the task
        }
        if (isCancelled()) {
            throw new CancellationException("goroutine was cancelled");
        }
        Throwable cause = task != null ? task.takeFailure() : null;
        String text = task == null ? nativeFailure : null;
        if (cause != null) {
            throw new GoroutineException("goroutine failed: " + cause, cause);
        }
        if (text != null) {
            throw new GoroutineException("goroutine failed: " + text, null);
        }
    }

    /**
     * Waits for the goroutine's result.
     *
     * @return what the body returned ({@code null} for a {@code Runnable} or native goroutine)
     * @throws CancellationException if it was cancelled (also while this call waited)
     * @throws ExecutionException if the body threw (the cause is its throwable; for a native
     *     goroutine, a {@link GoroutineException} with the native text)
     * @throws InterruptedException if this thread is interrupted while waiting
     * @throws IllegalStateException if the handle was closed (detached) before the result
     *     was known, or while this call waited
     */
    @Override
    public T get() throws InterruptedException, ExecutionException {
        return result(awaitEnd(Status.FOREVER, new GetTarget(this)));
    }

    /**
     * Waits at most {@code timeout} for the goroutine's result.
     *
     * @param timeout how long to wait; {@code <= 0}: not at all
     * @param unit the unit of {@code timeout}
     * @return what the body returned
     * @throws TimeoutException if the time passed first
     * @throws CancellationException if it was cancelled (also while this call waited)
     * @throws ExecutionException if the body threw (the cause is its throwable)
     * @throws InterruptedException if this thread is interrupted while waiting
     * @throws IllegalStateException if the handle was closed (detached) before the result
     *     was known, or while this call waited
     */
    @Override
    public T get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
        boolean ended = awaitEnd(Status.timeout(timeout, unit), new GetTarget(this));
        if (!ended && !isCancelled()) {
            throw new TimeoutException("goroutine still running after " + timeout + " " + unit);
        }
        return result(ended);
    }

    private T result(boolean ended) throws ExecutionException {
        if (isCancelled() || !ended) {
            throw new CancellationException("goroutine was cancelled");
        }
        if (task != null) {
            Throwable cause = task.takeFailure();
            if (cause != null) {
                throw new ExecutionException(cause);
            }
            return task.value();
        }
        String text = nativeFailure;
        if (text != null) {
            throw new ExecutionException(new GoroutineException("goroutine failed: " + text, null));
        }
        return null;
    }


    /**
     * Waits (as {@code on} says: this handle for join, a {@link GetTarget} for get, {@link Waiter#NOTHING}
     * for a poll that ignores interrupts) at most {@code ns} until the goroutine has returned. True once it has; false if the time passed;
     * false with {@link #isCancelled()} when a get gave up because of a cancel.
     */
    private boolean awaitEnd(long ns, Waiter.Target on) throws InterruptedException {
        if (finished) {
            return true;
        }
        if (on instanceof GetTarget && isCancelled()) {
            return false;
        }
        // A Java goroutine's outcome is final once its body has returned: a short spin on
        // that (Task.awaitReturned) ends most joins without the native wait; the handle is
        // then released as a completed join releases it. A closed handle, or an interrupted
        // caller (which the wait below answers at once), takes the path below.
        // The spin counts towards a timed wait's time.
        if (task != null && ns != 0 && !isClosed() && !Thread.currentThread().isInterrupted()) {
            long t0 = ns > 0 ? System.nanoTime() : 0;
            if (Task.awaitReturned(returned, ns) && !isClosed()) {
                finished = true;
                closeOnce();
                return true;
            }
            if (ns > 0) {
                ns = Math.max(0, ns - (System.nanoTime() - t0)); // 0: a last poll below
            }
        }
        long h;
        try {
            h = acquire();
        } catch (IllegalStateException e) {
            if (finished) { // a concurrent join just ended it and freed the handle
                return true;
            }
            throw e;
        }
        int rc;
        String failureText = null;
        try {
            rc = Native.wait(h, 0, 0); // fast path: already done (no waiter needed)
            if (rc == Status.ETIMEDOUT || rc == Status.EAGAIN) {
                if (ns != 0) {
                    rc = Waiter.await(on, Native::wait, h, ns);
                } else if (on != Waiter.NOTHING && Thread.interrupted()) {
                    throw new InterruptedException(); // as a wait would, though it does not wait
                }
            }
            if (rc == Status.EPANIC) {
                failureText = Native.handleError(h); // valid until the handle is released
            }
        } finally {
            release();
        }
        if (rc == Waiter.ABANDONED) {
            if (finished) {
                return true;
            }
            if (isClosed()) {
                throw closedWhileWaiting();
            }
            return false; // cancelled: get reports it
        }
        if (rc == Status.ETIMEDOUT || rc == Status.EAGAIN) {
            return false;
        }
        if (rc != Status.OK && rc != Status.EPANIC) {
            throw Status.exception(rc, "gr_wait");
        }
        if (task != null) {
            finished = true; // a Java goroutine's outcome is in its task
        } else if (!finished) {
            synchronized (this) {
                if (!finished) {
                    if (rc == Status.EPANIC && task == null) {
                        nativeFailure = failureText != null ? failureText : "(no message)";
                    }
                    finished = true;
                }
            }
        }
        closeOnce(); // the handle's work is done; other waiters see the same end
        return true;
    }

    /**
     * Cancels, following the {@link Future} contract (see the class comment).
     *
     * @param mayInterruptIfRunning whether to interrupt a Java goroutine that is running
     * @return false if it had already completed or been cancelled; true otherwise
     */
    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
        boolean did;
        if (task != null) {
            did = task.cancel(mayInterruptIfRunning);
        } else {
            synchronized (this) {
                did = !finished && !nativeCancelled && !nativeEndedNow();
                if (did) {
                    nativeCancelled = true;
                }
            }
            if (did) {
                CompletableFuture<T> f;
                synchronized (this) {
                    f = nativeFuture;
                }
                if (f != null) {
                    f.completeExceptionally(new CancellationException());
                }
            }
        }
        if (did) {
            abortWaits(); // callers blocked in get() end with CancellationException
        }
        return did;
    }

    /** Whether a native goroutine has ended, by a poll (false if unknown: handle closed). */
    private boolean nativeEndedNow() {
        try {
            return awaitEnd(0, Waiter.NOTHING);
        } catch (InterruptedException e) {
            throw new AssertionError(e); // a poll never waits
        } catch (IllegalStateException e) {
            return false;
        }
    }

    /**
     * Whether it was cancelled before it completed.
     *
     * @return true if {@link #cancel(boolean)} succeeded
     */
    @Override
    public boolean isCancelled() {
        return task != null ? task.state() == Task.CANCELLED : nativeCancelled;
    }

    /**
     * Whether it completed: returned, failed, or was cancelled. Never blocks and never throws;
     * for a native goroutine whose handle was closed before it was seen to end, false.
     *
     * @return true once completed
     */
    @Override
    public boolean isDone() {
        if (task != null) {
            return task.state() >= Task.DONE;
        }
        return nativeCancelled || finished || nativeEndedNow();
    }

    /**
     * Interrupts this goroutine: the worker thread running it, only while it runs it. A Java
     * goroutine interrupted before it starts starts with its interrupt status set; one that
     * has returned is not affected, and neither is the next goroutine on that thread. No
     * effect on native goroutines (C code cannot be interrupted).
     */
    public void interrupt() {
        if (task != null) {
            task.interrupt();
        }
    }

    /**
     * A {@link CompletableFuture} completed with this goroutine's outcome: its result, its
     * throwable, or a {@link CancellationException}. Cancelling it cancels the goroutine. A
     * failure it receives is not also reported to the uncaught-exception handler. The same
     * future is returned every time. For a native goroutine, a detached Java goroutine waits
     * for the end (holding a thread meanwhile). The future of a Java goroutine does not keep
     * this handle reachable: a handle dropped unjoined is released by the GC backstop (as
     * {@link #close()} would) while the future still completes and still cancels the goroutine.
     *
     * @return the future
     */
    public CompletableFuture<T> toCompletableFuture() {
        if (task != null) {
            return task.toCompletableFuture(this);
        }
        synchronized (this) {
            if (nativeFuture == null) {
                CompletableFuture<T> f = new CompletableFuture<T>() {
                    @Override
                    public boolean cancel(boolean mayInterruptIfRunning) {
                        Goroutine.this.cancel(mayInterruptIfRunning);
                        return super.cancel(mayInterruptIfRunning);
                    }
                };
                nativeFuture = f;
                Goroutines.goDetached(() -> {
                    try {
                        join();
                        f.complete(null);
                    } catch (Throwable e) {
                        f.completeExceptionally(e);
                    }
                });
            }
            return nativeFuture;
        }
    }

    /**
     * Detaches: frees the native handle without stopping the goroutine. Callers blocked in
     * {@code join} or {@code get} on this handle end with {@link IllegalStateException}.
     * Idempotent, and a no-op after a completed {@link #join()}.
     */
    @Override
    public void close() {
        if (closeOnce()) {
            abortWaits();
            if (task != null && !finished) {
                task.detach();
            }
        }
    }
}
