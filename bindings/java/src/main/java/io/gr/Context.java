package io.gr;

import java.util.OptionalLong;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Go's {@code context.Context} with its cancel function, over a gr cancel token: a signal
 * that work should stop, fired by {@link #cancel()}, by a deadline, or by its parent's
 * firing. A context made by {@link #withCancel()}, {@link #withTimeout} or
 * {@link #withDeadline} is a child: it fires when its parent fires (with the parent's
 * reason), and at its own deadline. Firing is O(descendants) and loses no wake-up.
 *
 * <p>Code watches a context by asking ({@link #isDone()}, {@link #err()}), by waiting
 * ({@link #await()}), or in a {@link Select} over {@link #done()}, a channel closed when the
 * context fires. A {@link Group} interrupts its goroutines when its context fires through a
 * failure. C code receives the same token.
 *
 * <p>{@link #close()} is Go's {@code defer cancel()}: it fires the context (and so its
 * children) and frees it. Use try-with-resources:
 * <pre>{@code
 * try (Context ctx = parent.withTimeout(2, TimeUnit.SECONDS)) {
 *     ... select on ctx.done() ...
 * }
 * }</pre>
 */
public final class Context extends NativeResource {
    static {
        Native.ensureLoaded();
    }

    private LongChannel done; // guarded by this

    /** Creates a root context: it fires only when cancelled (or closed). */
    public Context() {
        this(Status.pointer(Native.cancelNew(), "gr_cancel_new"));
    }

    Context(long token) {
        super("context", token, Native::cancelFree);
    }

    /**
     * A child that also fires on {@link #cancel()} of its own (Go's {@code WithCancel}).
     *
     * @return the child; close it when done
     */
    public Context withCancel() {
        return new Context(Status.pointer(call(Native::cancelChild), "gr_cancel_new_child"));
    }

    /**
     * A child that also fires {@code timeout} from now (Go's {@code WithTimeout}).
     *
     * @param timeout how long until it fires; {@code <= 0}: at once
     * @param unit the unit of {@code timeout}
     * @return the child; close it when done
     */
    public Context withTimeout(long timeout, TimeUnit unit) {
        long ns = Math.max(0, unit.toNanos(timeout));
        return new Context(Status.pointer(call(c -> Native.cancelTimeout(c, ns)), "gr_cancel_new_timeout"));
    }

    /**
     * A child that also fires at {@code deadline} (Go's {@code WithDeadline}).
     *
     * @param deadline a {@link System#nanoTime()} value (the clock of gr's deadlines); a past
     *     one fires at once
     * @return the child; close it when done
     */
    public Context withDeadline(long deadline) {
        return new Context(Status.pointer(call(c -> Native.cancelDeadline(c, deadline)), "gr_cancel_new_deadline"));
    }

    /** Fires the context (Go's {@code cancel()}): its children fire, its done channel closes. */
    public void cancel() {
        Status.check((int) call(Native::cancelFire), "Context.cancel");
    }

    /**
     * Whether it has fired.
     *
     * @return true once fired
     */
    public boolean isDone() {
        return call(Native::cancelErr) != Status.OK;
    }

    /**
     * Why it fired (Go's {@code ctx.Err()}).
     *
     * @return null while it has not; a {@link CancellationException} if it was cancelled
     *     (itself or through an ancestor, or closed); a {@link TimeoutException} if its
     *     deadline, or an ancestor's, passed
     */
    public Exception err() {
        int rc = (int) call(Native::cancelErr);
        if (rc == Status.OK) {
            return null;
        }
        if (rc == Status.ETIMEDOUT) {
            return new TimeoutException("context deadline exceeded");
        }
        if (rc == Status.ECANCELED) {
            return new CancellationException("context canceled");
        }
        throw Status.exception(rc, "Context.err");
    }

    /**
     * When it fires by itself (Go's {@code ctx.Deadline()}): its own deadline or an
     * ancestor's, the earlier.
     *
     * @return the deadline as a {@link System#nanoTime()} value, or empty if it has none
     */
    public OptionalLong deadline() {
        long[] out = new long[1];
        int rc = (int) call(c -> Native.cancelDeadlineOf(c, out));
        if (rc < 0) {
            throw Status.exception(rc, "Context.deadline");
        }
        return rc == 1 ? OptionalLong.of(out[0]) : OptionalLong.empty();
    }

    /**
     * A channel closed when the context fires (Go's {@code ctx.Done()}), for a
     * {@link Select}: a receive case on it completes as closed once fired. Receive-only
     * (a send or close throws). The same channel on every call; {@link #close()} frees it.
     *
     * @return the done channel
     */
    public synchronized LongChannel done() {
        if (done == null) {
            done = new LongChannel("context done channel", Status.pointer(call(Native::cancelDone), "gr_cancel_done"));
        }
        return done;
    }

    /**
     * Waits until it fires.
     *
     * @throws InterruptedException if interrupted while waiting
     */
    public void await() throws InterruptedException {
        done().receive();
    }

    /**
     * Waits at most {@code timeout} for it to fire.
     *
     * @param timeout how long to wait; {@code <= 0}: not at all
     * @param unit the unit of {@code timeout}
     * @return true if it fired
     * @throws InterruptedException if interrupted while waiting
     */
    public boolean await(long timeout, TimeUnit unit) throws InterruptedException {
        return done().receive(timeout, unit).closed();
    }

    /**
     * Fires the context and frees it and its done channel (Go's {@code defer cancel()}). Its
     * children fire too, and stay usable until closed. Closing again does nothing.
     */
    @Override
    public void close() {
        LongChannel d;
        synchronized (this) {
            d = done;
        }
        if (d != null) {
            d.close();
        }
        super.close();
    }
}
