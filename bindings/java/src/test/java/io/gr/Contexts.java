package io.gr;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** Runs a test body where gr's rules say every blocking call must work: a plain thread and a goroutine. */
final class Contexts {
    private Contexts() {}

    interface Body {
        void run() throws Exception;
    }

    /** Runs {@code body} on the calling (plain) thread, then inside a Java goroutine. */
    static void onThreadAndInGoroutine(Body body) throws Exception {
        body.run();
        inGoroutine(body);
    }

    /** Runs {@code body} inside a Java goroutine and rethrows what it threw. */
    static void inGoroutine(Body body) throws Exception {
        Goroutine<Void> g = Goroutines.go(() -> {
            if (!Goroutines.inGoroutine()) {
                throw new AssertionError("not in a goroutine");
            }
            body.run();
            return null;
        });
        try {
            g.get(120, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof Exception) {
                throw (Exception) c;
            }
            if (c instanceof Error) {
                throw (Error) c;
            }
            throw e;
        }
    }

    /**
     * Starts a plain thread that counts {@code started} down, runs {@code body} and stores
     * what it threw in {@code thrown} (an AssertionError if it returned normally).
     */
    static Thread startExpectingThrow(java.util.concurrent.CountDownLatch started, Body body,
                                      java.util.concurrent.atomic.AtomicReference<Throwable> thrown) {
        Thread t = new Thread(() -> {
            started.countDown();
            try {
                body.run();
                thrown.set(new AssertionError("returned normally"));
            } catch (Throwable e) {
                thrown.set(e);
            }
        });
        t.start();
        return t;
    }

    /** Seconds since {@code t0} (from System.nanoTime). */
    static double since(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }
}
