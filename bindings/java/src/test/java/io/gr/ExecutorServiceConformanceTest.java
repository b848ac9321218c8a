package io.gr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Goroutines.executor() against the ExecutorService contract, in the spirit of the JSR-166
 * TCK's executor tests (written for gr): execute/submit, invokeAll/invokeAny with and without
 * timeouts, the shutdown life cycle with RejectedExecutionException, shutdownNow, and
 * awaitTermination; from a plain thread and from a goroutine.
 */
class ExecutorServiceConformanceTest {

    @Test
    @Timeout(60)
    void executeAndSubmitRunTasksInGoroutines() throws Exception {
        Contexts.onThreadAndInGoroutine(() -> {
            ExecutorService ex = Goroutines.executor();
            CountDownLatch ran = new CountDownLatch(1);
            AtomicReference<String> where = new AtomicReference<>();
            ex.execute(() -> {
                where.set(Thread.currentThread().getName());
                ran.countDown();
            });
            assertTrue(ran.await(10, TimeUnit.SECONDS));
            assertTrue(where.get().startsWith("gr-worker-"), where.get());
            assertNull(ex.submit(() -> { }).get());
            assertEquals("r", ex.submit(() -> { }, "r").get());
            assertEquals(6, ex.submit(() -> 2 * 3).get());
            Future<Object> bad = ex.submit(() -> {
                throw new java.io.IOException("checked");
            });
            ExecutionException e = assertThrows(ExecutionException.class, bad::get);
            assertTrue(e.getCause() instanceof java.io.IOException);
            assertThrows(NullPointerException.class, () -> ex.execute(null));
            assertThrows(NullPointerException.class, () -> ex.submit((Runnable) null));
            assertThrows(NullPointerException.class, () -> ex.submit((Callable<Object>) null));
            ex.shutdown();
            assertTrue(ex.awaitTermination(10, TimeUnit.SECONDS));
        });
    }

    @Test
    @Timeout(60)
    void invokeAllReturnsCompletedFuturesInOrder() throws Exception {
        Contexts.onThreadAndInGoroutine(() -> {
            ExecutorService ex = Goroutines.executor();
            List<Callable<Integer>> tasks = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                final int v = i;
                tasks.add(() -> {
                    if (v == 7) {
                        throw new IllegalStateException("seven");
                    }
                    Goroutines.sleep(v % 3, TimeUnit.MILLISECONDS);
                    return v * v;
                });
            }
            List<Future<Integer>> fs = ex.invokeAll(tasks);
            assertEquals(20, fs.size());
            for (int i = 0; i < 20; i++) {
                assertTrue(fs.get(i).isDone());
                if (i == 7) {
                    Future<Integer> f = fs.get(i);
                    ExecutionException e = assertThrows(ExecutionException.class, f::get);
                    assertEquals("seven", e.getCause().getMessage());
                } else {
                    assertEquals(i * i, fs.get(i).get());
                }
            }
            assertTrue(ex.invokeAll(Collections.<Callable<Integer>>emptyList()).isEmpty());
            assertThrows(NullPointerException.class, () -> ex.invokeAll(null));
            assertThrows(NullPointerException.class, () -> ex.invokeAll(Arrays.asList(() -> 1, null)));
            ex.shutdown();
        });
    }

    @Test
    @Timeout(60)
    void timedInvokeAllCancelsWhatIsNotDone() throws Exception {
        ExecutorService ex = Goroutines.executor();
        CountDownLatch never = new CountDownLatch(1);
        List<Callable<Integer>> tasks = Arrays.asList(() -> 1, () -> {
            never.await();
            return 2;
        });
        List<Future<Integer>> fs = ex.invokeAll(tasks, 200, TimeUnit.MILLISECONDS);
        assertEquals(1, fs.get(0).get());
        assertTrue(fs.get(1).isCancelled());
        ex.shutdown();
        assertTrue(ex.awaitTermination(10, TimeUnit.SECONDS), "the cancelled task was interrupted and ended");
    }

    @Test
    @Timeout(60)
    void invokeAnyReturnsOneSuccess() throws Exception {
        Contexts.onThreadAndInGoroutine(() -> {
            ExecutorService ex = Goroutines.executor();
            CountDownLatch never = new CountDownLatch(1);
            Callable<String> slow = () -> {
                never.await();
                return "slow";
            };
            Callable<String> fails = () -> {
                throw new IllegalArgumentException("no");
            };
            assertEquals("fast", ex.invokeAny(Arrays.asList(slow, () -> "fast", fails)));
            ExecutionException e = assertThrows(ExecutionException.class, () -> ex.invokeAny(Arrays.asList(fails, fails)));
            assertTrue(e.getCause() instanceof IllegalArgumentException);
            assertThrows(TimeoutException.class, () -> ex.invokeAny(Arrays.asList(slow), 100, TimeUnit.MILLISECONDS));
            assertThrows(IllegalArgumentException.class, () -> ex.invokeAny(Collections.<Callable<String>>emptyList()));
            assertThrows(NullPointerException.class, () -> ex.invokeAny(null));
            ex.shutdownNow();
            assertTrue(ex.awaitTermination(10, TimeUnit.SECONDS));
        });
    }

    @Test
    @Timeout(60)
    void shutdownRejectsNewTasksAndFinishesOldOnes() throws Exception {
        ExecutorService ex = Goroutines.executor();
        ExecutorService other = Goroutines.executor();
        assertFalse(ex.isShutdown());
        assertFalse(ex.isTerminated());
        CountDownLatch release = new CountDownLatch(1);
        Future<String> running = ex.submit(() -> {
            release.await();
            return "done";
        });
        assertFalse(ex.awaitTermination(50, TimeUnit.MILLISECONDS), "not shut down yet");
        ex.shutdown();
        assertTrue(ex.isShutdown());
        assertFalse(ex.isTerminated());
        assertThrows(RejectedExecutionException.class, () -> ex.execute(() -> { }));
        assertThrows(RejectedExecutionException.class, () -> ex.submit(() -> 1));
        assertThrows(RejectedExecutionException.class, () -> ex.invokeAll(Arrays.asList(() -> 1)));
        assertFalse(ex.awaitTermination(50, TimeUnit.MILLISECONDS), "a task still runs");
        release.countDown();
        assertEquals("done", running.get());
        assertTrue(ex.awaitTermination(10, TimeUnit.SECONDS));
        assertTrue(ex.isTerminated());
        ex.shutdown(); // again: no effect
        assertEquals(1, (int) other.submit(() -> 1).get(), "another service is not affected");
        assertTrue(other.shutdownNow().isEmpty());
    }

    /**
     * shutdownNow: tasks that had not started are returned and never run; running ones are
     * interrupted (their goroutines only); afterwards the service terminates.
     */
    @Test
    @Timeout(60)
    void shutdownNowDropsQueuedAndInterruptsRunning() throws Exception {
        ExecutorService ex = Goroutines.executor();
        final int n = 200;
        AtomicInteger started = new AtomicInteger();
        AtomicInteger interrupted = new AtomicInteger();
        Set<Runnable> all = Collections.synchronizedSet(new HashSet<>());
        Set<Runnable> ran = Collections.synchronizedSet(new HashSet<>());
        CountDownLatch firstRuns = new CountDownLatch(1);
        for (int i = 0; i < n; i++) {
            Runnable[] self = new Runnable[1];
            self[0] = () -> {
                ran.add(self[0]);
                started.incrementAndGet();
                firstRuns.countDown();
                try {
                    Thread.sleep(10_000);
                } catch (InterruptedException e) {
                    interrupted.incrementAndGet();
                }
            };
            all.add(self[0]);
            ex.execute(self[0]);
        }
        assertTrue(firstRuns.await(10, TimeUnit.SECONDS));
        List<Runnable> dropped = ex.shutdownNow();
        assertTrue(ex.isShutdown());
        assertThrows(RejectedExecutionException.class, () -> ex.execute(() -> { }));
        assertTrue(ex.awaitTermination(30, TimeUnit.SECONDS), "running tasks were interrupted");
        Thread.sleep(200); // a dropped task's goroutine may still be queued: it must do nothing
        for (Runnable r : dropped) {
            assertTrue(all.contains(r));
            assertFalse(ran.contains(r), "a task returned by shutdownNow ran");
        }
        assertEquals(n, dropped.size() + ran.size(), "every task either ran or was returned");
        assertEquals(started.get(), interrupted.get(), "every running task was interrupted");
        System.out.printf("shutdownNow: %d of %d tasks dropped before they started, %d interrupted%n",
                dropped.size(), n, interrupted.get());
    }

    @Test
    @Timeout(60)
    void worksWithCompletableFutureAndReportsUncaughtFailures() throws Exception {
        ExecutorService ex = Goroutines.executor();
        String name = CompletableFuture.supplyAsync(() -> Thread.currentThread().getName(), ex)
                .thenApplyAsync(s -> s + "!", ex).get(10, TimeUnit.SECONDS);
        assertTrue(name.startsWith("gr-worker-") && name.endsWith("!"), name);
        Thread.UncaughtExceptionHandler old = Thread.getDefaultUncaughtExceptionHandler();
        AtomicReference<Throwable> seen = new AtomicReference<>();
        CountDownLatch reported = new CountDownLatch(1);
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> {
            seen.set(e);
            reported.countDown();
        });
        try {
            RuntimeException boom = new RuntimeException("from execute");
            ex.execute(() -> {
                throw boom;
            });
            assertTrue(reported.await(10, TimeUnit.SECONDS));
            assertSame(boom, seen.get());
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(old);
        }
        ex.shutdown();
        assertTrue(ex.awaitTermination(10, TimeUnit.SECONDS));
    }
}
