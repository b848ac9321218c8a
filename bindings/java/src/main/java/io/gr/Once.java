package io.gr;

import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Go's {@code sync.Once}: {@link #run(Runnable)} runs its body exactly once, however many
 * Java threads, Java goroutines (and C goroutines, through the same native Once) call it;
 * callers that come while it runs wait for it, and every caller returns only after it has
 * finished.
 *
 * <p>Failure is final (Go's {@code OnceValue}, which re-panics the first panic to every
 * caller): if the body throws, it is not run again; the call that ran it rethrows the
 * exception, and every other call (waiting then, or later) throws
 * {@link IllegalStateException} with it as the cause. A body that calls {@code run} on its
 * own Once gets {@link IllegalStateException} (it would wait for itself). {@link #close()}
 * frees it; a thread waiting for the body then ends with {@link IllegalStateException}.
 */
public final class Once extends NativeResource {
    static {
        Native.ensureLoaded();
    }

    /** The body's exception, set before the native Once records the failure. */
    private volatile Throwable failure;

    /** Creates a Once whose body has not run. */
    public Once() {
        super("once", Status.pointer(Native.onceNew(), "gr_once_new"), Native::onceFree);
    }

    /**
     * Runs {@code body} if no call has run a body yet, else waits as long as needed for the
     * one that runs (or ran) it. Not interruptible while this call runs the body itself.
     *
     * @param body the code to run once; only the first call's is used
     * @throws InterruptedException if interrupted while waiting for another call's body
     * @throws IllegalStateException if the body failed in another call (the cause is its
     *     exception), or is running in this very call (a recursive {@code run})
     */
    public void run(Runnable body) throws InterruptedException {
        run(body, Status.FOREVER);
    }

    /**
     * {@link #run(Runnable)}, waiting at most {@code timeout} for another call's body.
     *
     * @param body the code to run once; only the first call's is used
     * @param timeout how long to wait for another call's body; {@code <= 0}: not at all
     * @param unit the unit of {@code timeout}
     * @return true once the body has run (in this call or another), false if the time passed
     *     while another call was still running it
     * @throws InterruptedException if interrupted while waiting for another call's body
     * @throws IllegalStateException as for {@link #run(Runnable)}
     */
    public boolean run(Runnable body, long timeout, TimeUnit unit) throws InterruptedException {
        return run(body, Status.timeout(timeout, unit));
    }

    private boolean run(Runnable body, long ns) throws InterruptedException {
        Objects.requireNonNull(body, "body");
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        Throwable[] mine = new Throwable[1];
        BooleanSupplier wrapper = () -> {
            try {
                body.run();
                return true;
            } catch (Throwable t) {
                mine[0] = t;
                failure = t;
                return false;
            }
        };
        // First a call that may run the body: outside the waiter machinery, which the body's
        // own blocking calls use. Then, if another call runs it, an interruptible wait.
        int rc = (int) call(o -> Native.onceDo(o, wrapper, 0, 0));
        if (rc == Status.EAGAIN && ns != 0) {
            rc = await((o, t, c) -> Native.onceDo(o, null, t, c), ns);
            if (rc == Waiter.ABANDONED) {
                throw closedWhileWaiting();
            }
        }
        if (rc == Status.EPANIC) {
            if (mine[0] != null) {
                throw Once.<RuntimeException>sneaky(mine[0]);
            }
            throw new IllegalStateException("Once: the body failed in another call", failure);
        }
        if (rc == Status.ESTATE) {
            throw new IllegalStateException("Once.run from inside its own body (it would wait for itself)");
        }
        return Status.timed(rc, "Once.run");
    }

    @SuppressWarnings("unchecked")
    private static <X extends Throwable> X sneaky(Throwable t) throws X {
        throw (X) t;
    }

    /**
     * Whether a body has finished running (succeeded or failed).
     *
     * @return true once done
     */
    public boolean isDone() {
        int s = (int) call(Native::onceState);
        return s == 2 || s == 3; // GR_ONCE_DONE, GR_ONCE_FAILED
    }

    /**
     * Frees the Once; a thread waiting for the body ends with {@link IllegalStateException}.
     * Closing again does nothing.
     */
    @Override
    public void close() {
        super.close();
    }
}
