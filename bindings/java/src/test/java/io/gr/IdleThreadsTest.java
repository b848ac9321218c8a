package io.gr;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Defect 4 of issue 16: 2,000 blocked Java goroutines used about 2,000 OS threads (expected:
 * a blocked Java goroutine holds its thread), but after they finished the threads stayed
 * attached for good (2,023 after 20 s idle). Now idle spare threads exit after a keep-alive
 * (1 s), detaching from the JVM, and the count falls back to its base within seconds. In its
 * own JVM.
 */
class IdleThreadsTest {

    private static long attachedWorkers() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("gr-worker-")).count();
    }

    @Test
    @Timeout(180)
    void spareThreadsAreGivenBack() throws Exception {
        Goroutines.configure(2, 0, 0);
        final int n = 2000;
        long base = Goroutines.stats().threads();
        try (LongChannel ch = new LongChannel(0)) {
            List<Goroutine<Long>> gs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                gs.add(Goroutines.go(ch::recv));
            }
            long t0 = System.nanoTime();
            while (Goroutines.stats().threads() < n && Contexts.since(t0) < 60) {
                Thread.sleep(20);
            }
            long peak = Goroutines.stats().threads();
            long peakAttached = attachedWorkers();
            for (long v = 0; v < n; v++) {
                ch.send(v);
            }
            for (Goroutine<Long> g : gs) {
                g.get(60, TimeUnit.SECONDS);
            }
            long limit = 2 + 2; // one thread per worker, the monitor, and one to spare
            t0 = System.nanoTime();
            while ((Goroutines.stats().threads() > limit || attachedWorkers() > limit) && Contexts.since(t0) < 30) {
                Thread.sleep(50);
            }
            double took = Contexts.since(t0);
            long left = Goroutines.stats().threads();
            long attached = attachedWorkers();
            System.out.printf("defect 4: %d blocked goroutines: %d runtime threads (%d attached to the JVM);"
                    + " %.2f s after they ended: %d (%d attached); base %d%n",
                    n, peak, peakAttached, took, left, attached, base);
            assertTrue(peak >= n, "each blocked Java goroutine holds a thread: " + peak);
            assertTrue(left <= limit, "runtime threads left: " + left);
            assertTrue(attached <= limit, "threads still attached: " + attached);
            assertTrue(took < 15, "took " + took + " s");
        }
        // and the runtime starts threads again when goroutines block
        try (LongChannel ch = new LongChannel(0)) {
            List<Goroutine<Long>> gs = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                gs.add(Goroutines.go(ch::recv));
            }
            for (long v = 0; v < 50; v++) {
                ch.send(v);
            }
            for (Goroutine<Long> g : gs) {
                g.get(30, TimeUnit.SECONDS);
            }
        }
    }
}
