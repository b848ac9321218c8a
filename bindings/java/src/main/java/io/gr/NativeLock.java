package io.gr;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.function.LongUnaryOperator;

/**
 * The {@link Lock} bodies shared by {@link Mutex} and both sides of an {@link RWMutex}: one
 * native lock call ({@code gr_*_lock}-shaped: pointer, timeout, cancel token) and one unlock
 * call on the pointer of the resource that owns the lock.
 *
 * <p>The {@code Lock} contract as the binding keeps it: {@link #lock()} is uninterruptible (an
 * interrupt while waiting is remembered and set again once locked); the timed and
 * interruptible forms throw {@link InterruptedException}; a wait ended by {@code close()} of
 * the owner throws {@link IllegalStateException}; unlocking a lock not held throws
 * {@link IllegalMonitorStateException}. No conditions ({@link Mutex} gives its own).
 */
class NativeLock implements Lock {
    private final NativeResource owner;
    private final Waiter.Wait lockOp;
    private final LongUnaryOperator unlockOp;
    private final String what;

    /**
     * @param owner the resource whose pointer the calls take
     * @param lockOp the native lock call
     * @param unlockOp the native unlock call (a gr status)
     * @param what the lock's name in messages, e.g. {@code "Mutex"}
     */
    NativeLock(NativeResource owner, Waiter.Wait lockOp, LongUnaryOperator unlockOp, String what) {
        this.owner = owner;
        this.lockOp = lockOp;
        this.unlockOp = unlockOp;
        this.what = what;
    }

    private boolean lockNanos(long ns) throws InterruptedException {
        int rc = owner.await(lockOp, ns);
        if (rc == Waiter.ABANDONED) {
            throw owner.closedWhileWaiting();
        }
        return Status.timed(rc, what + ".lock");
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
        return Status.timed((int) owner.call(p -> lockOp.call(p, 0, 0)), what + ".tryLock");
    }

    @Override
    public boolean tryLock(long timeout, TimeUnit unit) throws InterruptedException {
        return lockNanos(Status.timeout(timeout, unit));
    }

    @Override
    public void unlock() {
        int rc = (int) owner.call(unlockOp);
        if (rc == Status.ESTATE) {
            throw new IllegalMonitorStateException(what + ".unlock: not locked");
        }
        Status.check(rc, what + ".unlock");
    }

    @Override
    public Condition newCondition() {
        throw new UnsupportedOperationException(what + " has no conditions; use a Mutex's (Mutex.newCondition)");
    }

    @Override
    public String toString() {
        return what;
    }
}
