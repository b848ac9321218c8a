package io.gr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class GoroutineTest {

    /** Item 1: 100,000 go() calls joined, with the counter exact. */
    @Test
    @Timeout(120)
    void hundredThousandGoroutinesJoined() throws Exception {
        final int n = 100_000;
        AtomicInteger counter = new AtomicInteger();
        Runnable body = counter::incrementAndGet;
        Goroutine<?>[] gs = new Goroutine<?>[1000];
        long t0 = System.nanoTime();
        for (int done = 0; done < n; done += gs.length) {
            for (int i = 0; i < gs.length; i++) {
                gs[i] = Goroutines.go(body);
            }
            for (Goroutine<?> g : gs) {
                g.join();
            }
        }
        long ns = System.nanoTime() - t0;
        assertEquals(n, counter.get());
        System.out.printf("item1: %d go()+join in %.1f ms (%.2f us each)%n", n, ns / 1e6, ns / 1e3 / n);
    }

    @Test
    void goroutineRunsOnNamedDaemonWorker() throws Exception {
        AtomicReference<Thread> where = new AtomicReference<>();
        AtomicReference<Boolean> inG = new AtomicReference<>();
        Goroutine<?> g = Goroutines.go(() -> {
            where.set(Thread.currentThread());
            inG.set(Goroutines.inGoroutine());
        });
        g.join();
        assertTrue(where.get().getName().startsWith("gr-worker-"), where.get().getName());
        assertTrue(where.get().isDaemon());
        assertTrue(inG.get());
        assertFalse(Goroutines.inGoroutine());
    }

    /** Item 4 (Java part): exceptions reach join() with the original as cause. */
    @Test
    void exceptionReachesJoin() throws Exception {
        IllegalStateException boom = new IllegalStateException("boom");
        Goroutine<?> g = Goroutines.go(() -> {
            throw boom;
        });
        GoroutineException e = assertThrows(GoroutineException.class, g::join);
        assertSame(boom, e.getCause());
        // joining again gives the same outcome; close after join is a no-op
        GoroutineException again = assertThrows(GoroutineException.class, g::join);
        assertSame(boom, again.getCause());
        g.close();
        g.close();
    }

    @Test
    void nativeFailureReachesJoin() throws Exception {
        Goroutine<?> g = Goroutines.goNative(TestLib.failFn(), 0);
        GoroutineException e = assertThrows(GoroutineException.class, g::join);
        assertNull(e.getCause());
        assertTrue(e.getMessage().contains("failed on purpose"), e.getMessage());
    }

    @Test
    void detachedExceptionGoesToUncaughtHandler() throws Exception {
        Thread.UncaughtExceptionHandler old = Thread.getDefaultUncaughtExceptionHandler();
        CountDownLatch seen = new CountDownLatch(2);
        List<Throwable> got = new ArrayList<>();
        Thread.setDefaultUncaughtExceptionHandler((t, ex) -> {
            synchronized (got) {
                got.add(ex);
            }
            seen.countDown();
        });
        try {
            RuntimeException a = new RuntimeException("detached-a");
            Goroutines.goDetached(() -> {
                throw a;
            });
            // closed (detached) before it fails
            CountDownLatch go = new CountDownLatch(1);
            RuntimeException b = new RuntimeException("detached-b");
            Goroutine<?> g = Goroutines.go(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                throw b;
            });
            g.close();
            assertThrows(IllegalStateException.class, g::join);
            go.countDown();
            assertTrue(seen.await(10, TimeUnit.SECONDS));
            synchronized (got) {
                assertTrue(got.contains(a));
                assertTrue(got.contains(b));
            }
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(old);
        }
    }

    @Test
    void executorWorksWithCompletableFuture() throws Exception {
        String name = CompletableFuture.supplyAsync(() -> Thread.currentThread().getName(),
                Goroutines.executor()).get(10, TimeUnit.SECONDS);
        assertTrue(name.startsWith("gr-worker-"), name);
    }

    @Test
    void joinWithTimeout() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Goroutine<?> g = Goroutines.go(() -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        assertFalse(g.join(50, TimeUnit.MILLISECONDS));
        assertFalse(g.isDone());
        release.countDown();
        assertTrue(g.join(10, TimeUnit.SECONDS));
        assertTrue(g.isDone());
    }

    @Test
    void goroutinesBlockOnChannelsAndSleep() throws Exception {
        try (LongChannel ch = new LongChannel(0)) {
            Goroutine<?> p = Goroutines.go(() -> {
                try {
                    Goroutines.sleep(10, TimeUnit.MILLISECONDS);
                    for (long i = 1; i <= 100; i++) {
                        ch.send(i);
                    }
                    ch.closeForSend();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
            long[] sum = {0};
            ch.forEach(v -> sum[0] += v);
            p.join();
            assertEquals(5050, sum[0]);
        }
    }

    /** Many Java goroutines blocked at once: each holds an OS thread, and all complete. */
    @Test
    @Timeout(120)
    void manyBlockedJavaGoroutines() throws Exception {
        final int n = 200;
        try (LongChannel ch = new LongChannel(0); LongChannel done = new LongChannel(n)) {
            List<Goroutine<?>> gs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                gs.add(Goroutines.go(() -> {
                    try {
                        done.send(ch.recv());
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                }));
            }
            long sum = 0;
            for (long i = 1; i <= n; i++) {
                ch.send(i);
            }
            for (int i = 0; i < n; i++) {
                sum += done.recv();
            }
            for (Goroutine<?> g : gs) {
                g.join();
            }
            assertEquals((long) n * (n + 1) / 2, sum);
        }
    }

    /** Item 8: a class from a URLClassLoader can be run with go(). */
    @Test
    void classFromUrlClassLoaderRuns() throws Exception {
        Path dir = Files.createTempDirectory("gr-ucl");
        String res = "io/gr/Payload.class";
        Path out = dir.resolve(res);
        Files.createDirectories(out.getParent());
        try (InputStream in = GoroutineTest.class.getClassLoader().getResourceAsStream(res)) {
            Files.copy(in, out);
        }
        try (URLClassLoader ucl = new URLClassLoader(new URL[] {dir.toUri().toURL()}, null)) {
            Class<?> c = ucl.loadClass("io.gr.Payload");
            assertSame(ucl, c.getClassLoader());
            Runnable r = (Runnable) c.getConstructor().newInstance();
            System.clearProperty("gr.payload");
            Goroutines.go(r).join();
            String v = System.getProperty("gr.payload");
            assertTrue(v != null && v.startsWith("ran on gr-worker-"), String.valueOf(v));
        }
    }

    @Test
    void misuseThrows() throws Exception {
        Goroutines.go(() -> { }).join(); // the runtime is running now
        assertThrows(NullPointerException.class, () -> Goroutines.go((Runnable) null));
        assertThrows(NullPointerException.class, () -> Goroutines.go((java.util.concurrent.Callable<Object>) null));
        assertThrows(IllegalArgumentException.class, () -> Goroutines.goNative(0, 0));
        assertThrows(IllegalStateException.class, () -> Goroutines.configure(1, 0, 0));
    }
}
