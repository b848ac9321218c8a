package io.gr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Goroutine as a java.util.concurrent.Future, in the spirit of the JSR-166 TCK's FutureTask
 * tests (written for gr): results, ExecutionException with the cause, timeouts, cancel before
 * and while running (with and without interrupt), waking blocked get() callers, and
 * CompletableFuture interop. One worker, so that a goroutine can be kept from starting.
 */
class FutureConformanceTest {

    @BeforeAll
    static void oneWorker() {
        Goroutines.configure(1, 0, 0);
    }

    @Test
    void completedGoroutineIsADoneFuture() throws Exception {
        Future<String> f = Goroutines.go(() -> "v");
        assertEquals("v", f.get());
        assertEquals("v", f.get(0, TimeUnit.SECONDS));
        assertTrue(f.isDone());
        assertFalse(f.isCancelled());
        assertFalse(f.cancel(true), "cannot cancel a completed future");
        assertFalse(f.cancel(false));
        assertFalse(f.isCancelled());
        Goroutine<Void> r = Goroutines.go(() -> { });
        assertNull(r.get());
    }

    @Test
    void failureIsAnExecutionExceptionWithTheCause() throws Exception {
        Exception checked = new java.io.IOException("checked");
        Goroutine<Object> g = Goroutines.go(() -> {
            throw checked;
        });
        ExecutionException e = assertThrows(ExecutionException.class, g::get);
        assertSame(checked, e.getCause());
        e = assertThrows(ExecutionException.class, () -> g.get(1, TimeUnit.SECONDS));
        assertSame(checked, e.getCause());
        GoroutineException j = assertThrows(GoroutineException.class, g::join);
        assertSame(checked, j.getCause());
        assertTrue(g.isDone());
        assertFalse(g.cancel(true));
        Goroutine<Void> n = Goroutines.goNative(TestLib.failFn(), 0);
        e = assertThrows(ExecutionException.class, n::get);
        assertTrue(e.getCause() instanceof GoroutineException);
        assertTrue(e.getCause().getMessage().contains("failed on purpose"));
    }

    @Test
    @Timeout(60)
    void timedGetTimesOutWithoutSideEffects() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Goroutine<Integer> g = Goroutines.go(() -> {
            release.await();
            return 1;
        });
        assertThrows(TimeoutException.class, () -> g.get(30, TimeUnit.MILLISECONDS));
        assertFalse(g.isDone());
        release.countDown();
        assertEquals(1, g.get(10, TimeUnit.SECONDS));
    }

    /**
     * Cancel before the body starts: the body never runs. The only worker is kept busy in
     * Java code (no gr call), so the new goroutine cannot start for a while.
     */
    @Test
    @Timeout(60)
    void cancelBeforeStartMeansTheBodyNeverRuns() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch hogging = new CountDownLatch(1);
        Goroutine<Void> hog = Goroutines.go(() -> {
            hogging.countDown();
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
            while (!stop.get() && System.nanoTime() < end) {
                Thread.yield(); // Java 8 source level: no onSpinWait
            }
        });
        hogging.await();
        AtomicInteger order = new AtomicInteger(); // 1: the body started first, 2: cancel did
        AtomicBoolean ran = new AtomicBoolean();
        Goroutine<String> g = Goroutines.go(() -> {
            order.compareAndSet(0, 1);
            ran.set(true);
            return "ran";
        });
        assertTrue(g.cancel(false));
        boolean cancelFirst = order.compareAndSet(0, 2);
        assertTrue(g.isCancelled());
        assertTrue(g.isDone());
        assertThrows(CancellationException.class, g::get);
        assertThrows(CancellationException.class, () -> g.get(1, TimeUnit.SECONDS));
        assertFalse(g.cancel(true), "a second cancel fails");
        stop.set(true);
        hog.join();
        assertThrows(CancellationException.class, g::join); // join waits for the end, then reports
        if (cancelFirst) {
            assertFalse(ran.get(), "cancelled before it started, yet the body ran");
        }
        System.out.println("cancel before start: " + (cancelFirst ? "cancel came first; body never ran" : "body had started"));
    }

    @Test
    @Timeout(60)
    void cancelWhileRunning() throws Exception {
        for (boolean interrupt : new boolean[] {true, false}) {
            CountDownLatch running = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            AtomicBoolean sawInterrupt = new AtomicBoolean();
            Goroutine<String> g = Goroutines.go(() -> {
                running.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    sawInterrupt.set(true);
                }
                return "discarded";
            });
            running.await();
            assertTrue(g.cancel(interrupt));
            assertTrue(g.isDone());
            assertTrue(g.isCancelled());
            assertThrows(CancellationException.class, g::get); // at once, not after the body
            if (!interrupt) {
                // With an interrupt the body must end by it alone: released as well, a body
                // not yet parked in await() (a loaded machine) could take the open latch
                // before it looks at its interrupt status, and never throw.
                release.countDown();
            }
            assertThrows(CancellationException.class, g::join);
            assertEquals(interrupt, sawInterrupt.get());
        }
    }

    @Test
    @Timeout(60)
    void cancelWakesEveryBlockedGet() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Goroutine<Integer> g = Goroutines.go(() -> {
            release.await();
            return 1;
        });
        List<Thread> waiters = new ArrayList<>();
        AtomicInteger cancelled = new AtomicInteger();
        for (int i = 0; i < 3; i++) {
            Thread t = new Thread(() -> {
                try {
                    g.get();
                } catch (CancellationException e) {
                    cancelled.incrementAndGet();
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            t.start();
            waiters.add(t);
        }
        Goroutine<Integer> inG = Goroutines.go(() -> {
            try {
                return g.get();
            } catch (CancellationException e) {
                return -1;
            }
        });
        Thread.sleep(100);
        assertTrue(g.cancel(false));
        for (Thread t : waiters) {
            t.join(10_000);
            assertFalse(t.isAlive());
        }
        assertEquals(3, cancelled.get());
        assertEquals(-1, inG.get(10, TimeUnit.SECONDS));
        release.countDown();
    }

    @Test
    @Timeout(60)
    void manyWaitersGetTheSameResult() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Object result = new Object();
        Goroutine<Object> g = Goroutines.go(() -> {
            release.await();
            return result;
        });
        List<Goroutine<Object>> gets = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            gets.add(Goroutines.go(() -> g.get()));
        }
        Thread.sleep(50);
        release.countDown();
        assertSame(result, g.get());
        for (Goroutine<Object> x : gets) {
            assertSame(result, x.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    @Timeout(60)
    void completableFutureInterop() throws Exception {
        CompletableFuture<Integer> cf = Goroutines.go(() -> 20).toCompletableFuture();
        assertEquals(42, cf.thenApply(x -> x * 2 + 2).get(10, TimeUnit.SECONDS));
        Goroutine<Integer> g = Goroutines.go(() -> 1);
        assertSame(g.toCompletableFuture(), g.toCompletableFuture());
        IllegalStateException boom = new IllegalStateException("boom");
        CompletableFuture<Object> bad = Goroutines.go(() -> {
            throw boom;
        }).toCompletableFuture();
        ExecutionException e = assertThrows(ExecutionException.class, () -> bad.get(10, TimeUnit.SECONDS));
        assertSame(boom, e.getCause());
        // cancelling the CompletableFuture cancels the goroutine, and the other way round
        CountDownLatch release = new CountDownLatch(1);
        Goroutine<Integer> slow = Goroutines.go(() -> {
            release.await();
            return 3;
        });
        CompletableFuture<Integer> sf = slow.toCompletableFuture();
        assertTrue(sf.cancel(true));
        assertTrue(slow.isCancelled());
        Goroutine<Integer> slow2 = Goroutines.go(() -> {
            release.await();
            return 4;
        });
        CompletableFuture<Integer> sf2 = slow2.toCompletableFuture();
        assertTrue(slow2.cancel(false));
        assertTrue(sf2.isCancelled());
        release.countDown();
        // a native goroutine, through a helper goroutine
        assertNull(Goroutines.goNative(TestLib.incrFn(), 0).toCompletableFuture().get(10, TimeUnit.SECONDS));
        CompletableFuture<Void> nf = Goroutines.goNative(TestLib.failFn(), 0).toCompletableFuture();
        e = assertThrows(ExecutionException.class, () -> nf.get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof GoroutineException);
    }
}
