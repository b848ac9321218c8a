package io.gr;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Java goroutine's body and its outcome; called from the glue on a gr worker thread.
 *
 * <p>Flags: FAILED (the body threw), DETACHED (nobody will join: the handle was closed
 * unjoined, or it was spawned detached), JOINED (join observed the outcome), REPORTED (the
 * throwable went to the uncaught-exception handler). A failure reaches exactly one place:
 * join() if it is still possible, otherwise the uncaught-exception handler.
 */
final class Task {
    private static final int FAILED = 1;
    private static final int DETACHED = 2;
    private static final int JOINED = 4;
    private static final int REPORTED = 8;

    private final Runnable body;
    private volatile Throwable failure;
    private final AtomicInteger flags;

    Task(Runnable body, boolean detached) {
        this.body = body;
        this.flags = new AtomicInteger(detached ? DETACHED : 0);
    }

    /** Called by the glue (JNI). Returns null, or a description for gr_goroutine_fail. */
    static String invoke(Task t) {
        try {
            t.body.run();
            return null;
        } catch (Throwable e) {
            t.failure = e;
            int s = t.flags.getAndUpdate(f -> f | FAILED);
            if ((s & DETACHED) != 0) {
                t.report();
            }
            String d;
            try {
                d = String.valueOf(e);
            } catch (Throwable ignored) {
                d = e.getClass().getName();
            }
            return d;
        }
    }

    /** The throwable, once the body has failed; marks it as delivered to join(). */
    Throwable takeFailure() {
        flags.getAndUpdate(f -> f | JOINED);
        return failure;
    }

    /** Nobody will join: a failure from now on (or already) goes to the handler. */
    void detach() {
        int s = flags.getAndUpdate(f -> f | DETACHED);
        if ((s & FAILED) != 0 && (s & (JOINED | DETACHED)) == 0) {
            report();
        }
    }

    private void report() {
        if ((flags.getAndUpdate(f -> f | REPORTED) & REPORTED) != 0) {
            return;
        }
        Thread t = Thread.currentThread();
        Thread.UncaughtExceptionHandler h = t.getUncaughtExceptionHandler();
        if (h != null) {
            h.uncaughtException(t, failure);
        }
    }
}
