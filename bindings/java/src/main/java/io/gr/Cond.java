package io.gr;

import java.util.Date;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;

/**
 * Go's {@code sync.Cond} as a {@link Condition} of a {@link Mutex} ({@link Mutex#newCondition()}):
 * Java threads, Java goroutines and C goroutines wait for a signal with the mutex held, which
 * the wait releases and takes back before it returns (also when it times out, is interrupted
 * or is ended by {@link #close()}). No signal is lost between the release and the wait. As in
 * Go and as the {@link Condition} contract allows, a wake-up means "look again": re-check the
 * state in a loop. Signalling with the mutex held is allowed, not required (Go's rule).
 * {@link #close()} frees it (closing its mutex closes it first).
 */
public final class Cond extends NativeResource implements Condition {
    private final Mutex mutex;

    Cond(Mutex mutex, long ptr) {
        super("cond", ptr, Native::condFree);
        this.mutex = mutex; // the native cond refers to it: keep it reachable
    }

    /**
     * The mutex this condition belongs to (Go's {@code Cond.L}).
     *
     * @return the mutex
     */
    public Mutex mutex() {
        return mutex;
    }

    /** Waits up to {@code ns} ({@link Status#timeout}); true if signalled (or a spurious wake). */
    private boolean waitNanos(long ns) throws InterruptedException {
        int rc = await(Native::condWait, ns);
        if (rc == Waiter.ABANDONED) {
            throw closedWhileWaiting();
        }
        if (rc == Status.ESTATE) {
            throw new IllegalMonitorStateException("Cond.await: the mutex is not locked");
        }
        return Status.timed(rc, "Cond.await");
    }

    /**
     * Releases the mutex, waits for a signal, and takes the mutex back.
     *
     * @throws InterruptedException if interrupted while waiting (the mutex is held again)
     * @throws IllegalMonitorStateException if the mutex is not locked
     */
    @Override
    public void await() throws InterruptedException {
        waitNanos(Status.FOREVER);
    }

    /**
     * {@link #await()}, not interruptible: an interrupt while waiting is remembered and the
     * interrupt status set again before returning.
     *
     * @throws IllegalMonitorStateException if the mutex is not locked
     */
    @Override
    public void awaitUninterruptibly() {
        boolean interrupted = false;
        for (;;) {
            try {
                waitNanos(Status.FOREVER);
                break;
            } catch (InterruptedException e) {
                interrupted = true; // the mutex is held again; wait once more
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * {@link #await()} for at most {@code nanosTimeout}.
     *
     * @param nanosTimeout how long to wait; {@code <= 0}: not at all
     * @return an estimate of the time left, {@code <= 0} if it passed
     * @throws InterruptedException if interrupted while waiting (the mutex is held again)
     * @throws IllegalMonitorStateException if the mutex is not locked
     */
    @Override
    public long awaitNanos(long nanosTimeout) throws InterruptedException {
        if (nanosTimeout <= 0) {
            waitNanos(0);
            return nanosTimeout;
        }
        long deadline = System.nanoTime() + nanosTimeout;
        waitNanos(nanosTimeout);
        return deadline - System.nanoTime();
    }

    /**
     * {@link #await()} for at most {@code time}.
     *
     * @param time how long to wait; {@code <= 0}: not at all
     * @param unit the unit of {@code time}
     * @return false if the time passed before a wake-up, else true
     * @throws InterruptedException if interrupted while waiting (the mutex is held again)
     * @throws IllegalMonitorStateException if the mutex is not locked
     */
    @Override
    public boolean await(long time, TimeUnit unit) throws InterruptedException {
        return awaitNanos(unit.toNanos(time)) > 0;
    }

    /**
     * {@link #await()} until {@code deadline}.
     *
     * @param deadline the wall-clock time to wait until
     * @return false if the deadline passed before a wake-up, else true
     * @throws InterruptedException if interrupted while waiting (the mutex is held again)
     * @throws IllegalMonitorStateException if the mutex is not locked
     */
    @Override
    public boolean awaitUntil(Date deadline) throws InterruptedException {
        return await(deadline.getTime() - System.currentTimeMillis(), TimeUnit.MILLISECONDS);
    }

    /** Wakes the longest-waiting waiter, if any (a signal is not remembered). */
    @Override
    public void signal() {
        Status.check((int) call(Native::condSignal), "Cond.signal");
    }

    /** Wakes every waiter. */
    @Override
    public void signalAll() {
        Status.check((int) call(Native::condBroadcast), "Cond.signalAll");
    }

    /**
     * Frees the condition (not its mutex); a thread blocked in an await ends with
     * {@link IllegalStateException}, the mutex held again. Closing again does nothing.
     */
    @Override
    public void close() {
        super.close();
        mutex.forget(this);
    }
}
