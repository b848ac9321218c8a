package io.gr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The GC backstop releases the native handle of every goroutine that becomes unreachable
 * unjoined and unclosed, whatever the task still refers to: a goroutine bridged with
 * {@code toCompletableFuture()} (the future is held by the task, which the backstop holds
 * strongly until it runs), and one whose body refers to its own handle. Counted by the
 * handles still tracked by the backstop ({@link NativeResource#trackedCount()}, one per
 * unreleased native handle of a handle object with a backstop) and by weak references to the
 * {@code Goroutine} objects. Each test class runs in a JVM of its own, so the count starts at
 * this class's own handles.
 */
class HandleBackstopTest {
    private static final int N = 2_000;

    /** GCs until {@code done}, for at most 30 s; whether it came. */
    private static boolean gcUntil(BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            System.gc();
            Thread.sleep(10);
        }
        return true;
    }

    private static int cleared(List<? extends WeakReference<?>> refs) {
        int n = 0;
        for (WeakReference<?> r : refs) {
            if (r.get() == null) {
                n++;
            }
        }
        return n;
    }

    /**
     * N goroutines, each bridged to a CompletableFuture and then dropped unjoined (futures
     * and handles alike): every handle is collected and every native handle released, back to
     * the count before. Before the fix, the task (held by the backstop) held the future, whose
     * cancel hook held the handle: none of the N was ever collected.
     */
    @Test
    @Timeout(120)
    void bridgedGoroutinesDroppedUnjoinedReleaseTheirHandles() throws Exception {
        int base = NativeResource.trackedCount();
        AtomicInteger ran = new AtomicInteger();
        List<WeakReference<Goroutine<Integer>>> refs = spawnBridged(N, ran, null);
        assertEquals(N, ran.get());
        assertTrue(gcUntil(() -> cleared(refs) == N && NativeResource.trackedCount() <= base),
                "collected " + cleared(refs) + " of " + N + " handles; tracked native handles "
                        + NativeResource.trackedCount() + ", base " + base);
    }

    /** As above, with the futures kept: they hold their goroutines only weakly, and completed. */
    @Test
    @Timeout(120)
    void keptFuturesDoNotKeepTheirGoroutines() throws Exception {
        int base = NativeResource.trackedCount();
        AtomicInteger ran = new AtomicInteger();
        List<CompletableFuture<Integer>> futures = new ArrayList<>();
        List<WeakReference<Goroutine<Integer>>> refs = spawnBridged(N, ran, futures);
        assertTrue(gcUntil(() -> cleared(refs) == N && NativeResource.trackedCount() <= base),
                "collected " + cleared(refs) + " of " + N + " handles; tracked native handles "
                        + NativeResource.trackedCount() + ", base " + base);
        long sum = 0;
        for (CompletableFuture<Integer> f : futures) {
            sum += f.get(10, TimeUnit.SECONDS);
        }
        assertEquals((long) N * (N - 1) / 2, sum);
    }

    /** Spawns n goroutines returning their index, bridges each, waits for every future. */
    private static List<WeakReference<Goroutine<Integer>>> spawnBridged(int n, AtomicInteger ran,
            List<CompletableFuture<Integer>> keep) throws Exception {
        List<WeakReference<Goroutine<Integer>>> refs = new ArrayList<>();
        List<CompletableFuture<Integer>> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int k = i;
            Goroutine<Integer> g = Goroutines.go(() -> {
                ran.incrementAndGet();
                return k;
            });
            all.add(g.toCompletableFuture());
            refs.add(new WeakReference<>(g));
        }
        for (CompletableFuture<Integer> f : all) {
            f.get(30, TimeUnit.SECONDS); // done: only the unjoined handles remain
        }
        if (keep != null) {
            keep.addAll(all);
        }
        return refs;
    }

    /**
     * A running goroutine whose handle was dropped: the handle is collected (its native handle
     * released, the goroutine runs on), and the future still works both ways: one completes
     * with the value, cancelling the other cancels and interrupts its goroutine.
     */
    @Test
    @Timeout(120)
    void futureOutlivesItsCollectedHandle() throws Exception {
        int base = NativeResource.trackedCount();
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(2);
        AtomicReference<Throwable> seen = new AtomicReference<>();
        CountDownLatch ended = new CountDownLatch(1);
        List<WeakReference<Goroutine<Integer>>> refs = new ArrayList<>();
        CompletableFuture<Integer> completes = bridge(() -> {
            started.countDown();
            release.await();
            return 7;
        }, refs);
        CompletableFuture<Integer> cancels = bridge(() -> {
            started.countDown();
            try {
                release.await();
            } catch (Throwable t) {
                seen.set(t);
            } finally {
                ended.countDown();
            }
            return 8;
        }, refs);
        assertTrue(started.await(30, TimeUnit.SECONDS));
        assertTrue(gcUntil(() -> cleared(refs) == 2 && NativeResource.trackedCount() <= base),
                "collected " + cleared(refs) + " of 2 running goroutines' handles");
        assertTrue(cancels.cancel(true));
        assertTrue(cancels.isCancelled());
        assertTrue(ended.await(30, TimeUnit.SECONDS), "the cancelled goroutine was not interrupted");
        assertTrue(seen.get() instanceof InterruptedException, String.valueOf(seen.get()));
        assertThrows(CancellationException.class, () -> cancels.get(1, TimeUnit.SECONDS));
        release.countDown();
        assertEquals(7, completes.get(30, TimeUnit.SECONDS));
    }

    private static CompletableFuture<Integer> bridge(java.util.concurrent.Callable<Integer> body,
            List<WeakReference<Goroutine<Integer>>> refs) {
        Goroutine<Integer> g = Goroutines.go(body);
        refs.add(new WeakReference<>(g));
        return g.toCompletableFuture();
    }

    /** Cancelling through the goroutine still completes a kept future, and a get waiting on the handle ends. */
    @Test
    @Timeout(60)
    void cancelStillPropagatesBothWays() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Goroutine<Integer> g = Goroutines.go(() -> {
            release.await();
            return 1;
        });
        CompletableFuture<Integer> f = g.toCompletableFuture();
        CountDownLatch waiting = new CountDownLatch(1);
        AtomicReference<Throwable> got = new AtomicReference<>();
        Thread getter = new Thread(() -> {
            waiting.countDown();
            try {
                g.get();
            } catch (Throwable t) {
                got.set(t);
            }
        });
        getter.start();
        assertTrue(waiting.await(10, TimeUnit.SECONDS));
        Thread.sleep(50); // let it block in get()
        assertTrue(f.cancel(false), "cancelling the future cancels the goroutine");
        assertTrue(g.isCancelled());
        getter.join(TimeUnit.SECONDS.toMillis(30));
        assertTrue(got.get() instanceof CancellationException, String.valueOf(got.get()));
        release.countDown();

        Goroutine<Integer> h = Goroutines.go(() -> {
            Thread.sleep(TimeUnit.SECONDS.toMillis(30));
            return 2;
        });
        CompletableFuture<Integer> hf = h.toCompletableFuture();
        assertTrue(h.cancel(true));
        assertTrue(hf.isCancelled(), "cancelling the goroutine cancels the future");
        assertThrows(CancellationException.class, () -> hf.get(10, TimeUnit.SECONDS));
    }

    /**
     * A body that refers to its own handle (here through a holder, as an object keeping its
     * goroutines would) no longer keeps it once it ran: N such goroutines, returned and dropped
     * unjoined, are all collected and their native handles released.
     */
    @Test
    @Timeout(120)
    void bodyReferringToItsOwnHandleDoesNotKeepIt() throws Exception {
        int base = NativeResource.trackedCount();
        List<WeakReference<Goroutine<Void>>> refs = new ArrayList<>();
        CountDownLatch done = new CountDownLatch(N);
        for (int i = 0; i < N; i++) {
            AtomicReference<Goroutine<Void>> self = new AtomicReference<>();
            Goroutine<Void> g = Goroutines.go(() -> {
                self.get(); // the body refers to the holder, which holds its handle
                done.countDown();
            });
            self.set(g);
            refs.add(new WeakReference<>(g));
        }
        assertTrue(done.await(60, TimeUnit.SECONDS));
        assertTrue(gcUntil(() -> cleared(refs) == N && NativeResource.trackedCount() <= base),
                "collected " + cleared(refs) + " of " + N + " handles; tracked native handles "
                        + NativeResource.trackedCount() + ", base " + base);
    }
}
