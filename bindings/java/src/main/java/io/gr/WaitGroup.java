package io.gr;

import java.util.concurrent.TimeUnit;

/**
 * Go's {@code sync.WaitGroup}: wait for a set of goroutines (or threads) to finish.
 * {@link #close()} frees it; a thread blocked in {@code await} then ends with
 * {@link IllegalStateException}.
 */
public final class WaitGroup extends NativeResource {
    static {
        Native.ensureLoaded();
    }

    /** Creates a wait group with counter 0. */
    public WaitGroup() {
        super("wait group", Status.pointer(Native.wgNew(), "gr_wg_new"), Native::wgFree);
    }

    /**
     * Adds {@code delta} to the counter; at 0, waiters are released.
     *
     * @param delta the change, may be negative
     * @throws IllegalArgumentException if the counter would drop below zero
     */
    public void add(long delta) {
        Status.check((int) call(w -> Native.wgAdd(w, delta)), "WaitGroup.add");
    }

    /**
     * Decrements the counter by one.
     *
     * @throws IllegalArgumentException if the counter would drop below zero
     */
    public void done() {
        add(-1);
    }

    /**
     * Waits until the counter is zero.
     *
     * @throws InterruptedException if interrupted while waiting
     */
    public void await() throws InterruptedException {
        awaitNanos(Status.FOREVER);
    }

    /**
     * Waits at most {@code timeout} until the counter is zero.
     *
     * @param timeout how long to wait; {@code <= 0}: not at all (only checks)
     * @param unit the unit of {@code timeout}
     * @return true if it reached zero, false if the time passed first
     * @throws InterruptedException if interrupted while waiting
     */
    public boolean await(long timeout, TimeUnit unit) throws InterruptedException {
        return awaitNanos(Status.timeout(timeout, unit));
    }

    private boolean awaitNanos(long ns) throws InterruptedException {
        int rc = await(Native::wgWait, ns);
        if (rc == Waiter.ABANDONED) {
            throw closedWhileWaiting();
        }
        return Status.timed(rc, "WaitGroup.await");
    }
}
