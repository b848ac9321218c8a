package io.gr;

import java.util.concurrent.TimeUnit;

/**
 * The one error policy: gr status codes and their Java exceptions.
 *
 * <p>{@code GR_EINVAL} becomes {@link IllegalArgumentException}, {@code GR_ESTATE}
 * {@link IllegalStateException}, {@code GR_ECLOSED} {@link ChannelClosedException},
 * {@code GR_EPANIC} {@link GoroutineException}, {@code GR_ENOMEM} {@link GrException}
 * (never an {@link OutOfMemoryError}: the JVM heap is fine), and {@code GR_ECANCELED} an
 * {@link InterruptedException} at the call site.
 */
final class Status {
    private Status() {}

    static final int OK = 0;
    static final int ECLOSED = -1;
    static final int ETIMEDOUT = -2;
    static final int EAGAIN = -3;
    static final int EINVAL = -4;
    static final int ENOMEM = -5;
    static final int ESTATE = -6;
    static final int EPANIC = -7;
    static final int ECANCELED = -8;
    /** A descriptor the poller cannot watch (a regular file); the Java binding has no fd calls. */
    static final int ENOTPOLL = -9;
    /** An operating-system call failed; a status below it carries the errno ({@code EOS - s}). */
    static final int EOS = -1000;

    /** gr's "no time limit" ({@code GR_FOREVER}); only the untimed calls pass it. */
    static final long FOREVER = -1L;

    /**
     * A {@code java.util.concurrent} timeout in gr's nanoseconds. As there, {@code timeout <= 0}
     * means "do not wait" (0: poll); waiting without limit is a call of its own ({@code recv()},
     * {@code join()}, ...), never a negative timeout. A timeout too large for a {@code long} of
     * nanoseconds (about 292 years) is as good as no limit.
     */
    static long timeout(long timeout, TimeUnit unit) {
        if (timeout <= 0) {
            return 0;
        }
        long ns = unit.toNanos(timeout);
        return ns == Long.MAX_VALUE ? FOREVER : ns;
    }

    /** The exception for a failed status (never for OK). */
    static RuntimeException exception(int status, String what) {
        String msg = what + ": " + Native.strerror(status) + " (" + status + ")";
        switch (status) {
            case EINVAL:
                return new IllegalArgumentException(msg);
            case ESTATE:
                return new IllegalStateException(msg);
            case ECLOSED:
                return new ChannelClosedException(msg);
            case EPANIC:
                return new GoroutineException(msg, null);
            default:
                return new GrException(status, msg);
        }
    }

    /** Throws for any status other than OK. */
    static void check(int status, String what) {
        if (status != OK) {
            throw exception(status, what);
        }
    }

    /**
     * The status of a call that may time out: true for OK, false for a timeout or an empty
     * poll ({@code GR_ETIMEDOUT}, {@code GR_EAGAIN}); throws for any other status.
     */
    static boolean timed(int status, String what) {
        if (status != OK && status != ETIMEDOUT && status != EAGAIN) {
            throw exception(status, what);
        }
        return status == OK;
    }

    /** A pointer result: returns it, or throws if it carries a status code (or is null). */
    static long pointer(long result, String what) {
        if (result < 0) {
            throw exception((int) result, what);
        }
        if (result == 0) {
            throw new GrException(ENOMEM, what + ": null result");
        }
        return result;
    }
}
