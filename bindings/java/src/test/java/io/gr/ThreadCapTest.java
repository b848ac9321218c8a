package io.gr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Defect 3 of issue 16: with configure(0, 0, 64) and 100 Java goroutines blocked in recv(),
 * go() of the sender that would release them returned normally and the sender never ran.
 * Now each Java goroutine holds a thread until it returns, at most maxThreads - workers - 1
 * exist at once (61 here), and go() beyond that waits for one to return for a bounded time,
 * then throws GrException: never a silent hang. In its own JVM (configure).
 */
class ThreadCapTest {
    private static final int WORKERS = 2;
    private static final int MAX_THREADS = 64;
    private static final int SLOTS = MAX_THREADS - WORKERS - 1;

    @Test
    @Timeout(120)
    void goFailsClearlyInsteadOfHangingAtTheThreadCap() throws Exception {
        Goroutines.configure(WORKERS, 0, MAX_THREADS);
        try (LongChannel ch = new LongChannel(0)) {
            List<Goroutine<Long>> receivers = new ArrayList<>();
            int refused = 0;
            for (int i = 0; i < 100; i++) {
                try {
                    receivers.add(Goroutines.go(ch::recv, 0, TimeUnit.SECONDS));
                } catch (GrException e) {
                    assertEquals(Status.EAGAIN, e.status());
                    assertTrue(e.getMessage().contains("no thread for a Java goroutine"), e.getMessage());
                    refused++;
                }
            }
            System.out.printf("defect 3: %d of 100 blocked goroutines started, %d refused at once%n",
                    receivers.size(), refused);
            assertEquals(SLOTS, receivers.size());
            Thread.sleep(100); // they block, each on its own thread

            // the sender as a goroutine: refused after its timeout, with a clear error
            long t0 = System.nanoTime();
            GrException e = assertThrows(GrException.class, () -> Goroutines.go(() -> {
                for (long v = 0; v < SLOTS; v++) {
                    ch.send(v);
                }
                return null;
            }, 200, TimeUnit.MILLISECONDS));
            assertTrue(Contexts.since(t0) >= 0.15);
            assertEquals(Status.ETIMEDOUT, e.status());
            // the executor reports the same as RejectedExecutionException (here without the
            // default wait of Goroutines.executor(), to keep the test short)
            ExecutorService ex = new GoroutineExecutor(0);
            RejectedExecutionException r = assertThrows(RejectedExecutionException.class,
                    () -> ex.submit(() -> 1).get());
            assertTrue(r.getCause() instanceof GrException, String.valueOf(r.getCause()));

            // a go() that waits gets the thread of the first goroutine to return
            AtomicReference<Object> late = new AtomicReference<>();
            Thread waiter = new Thread(() -> {
                try {
                    late.set(Goroutines.go(() -> 7, 60, TimeUnit.SECONDS).get());
                } catch (Throwable x) {
                    late.set(x);
                }
            });
            waiter.start();
            Thread.sleep(100);
            // the sender as this plain thread: every receiver gets its value, nothing hangs
            for (long v = 0; v < SLOTS; v++) {
                ch.send(v);
            }
            long sum = 0;
            for (Goroutine<Long> g : receivers) {
                sum += g.get(30, TimeUnit.SECONDS);
            }
            assertEquals((long) SLOTS * (SLOTS - 1) / 2, sum);
            waiter.join(30_000);
            assertEquals(7, late.get());
            ex.shutdown();
        }
        // every thread came back: as many blocked goroutines fit again
        try (LongChannel ch = new LongChannel(0)) {
            List<Goroutine<Long>> again = new ArrayList<>();
            for (int i = 0; i < SLOTS; i++) {
                again.add(Goroutines.go(ch::recv, 10, TimeUnit.SECONDS));
            }
            for (long v = 0; v < SLOTS; v++) {
                ch.send(v);
            }
            for (Goroutine<Long> g : again) {
                g.get(30, TimeUnit.SECONDS);
            }
        }
    }
}
