package io.gr;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Item 12, in its own JVM: after shutdown no gr-worker thread is left attached. */
class ShutdownTest {

    private static List<String> workers() {
        Set<Thread> all = Thread.getAllStackTraces().keySet();
        return all.stream().map(Thread::getName).filter(n -> n.startsWith("gr-worker-"))
                .collect(Collectors.toList());
    }

    @Test
    @Timeout(60)
    void noWorkerLeftAttachedAfterShutdown() throws Exception {
        for (int i = 0; i < 200; i++) {
            Goroutines.go(() -> { }).join();
        }
        try (LongChannel ch = new LongChannel(0)) {
            Goroutine<?> g = Goroutines.go(() -> {
                try {
                    ch.recv();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
            Thread.sleep(50);
            assertTrue(!workers().isEmpty(), "a worker is attached while the goroutine blocks");
            ch.send(1);
            g.join();
        }
        Goroutines.shutdown(5, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        List<String> left = workers();
        while (!left.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
            left = workers();
        }
        assertTrue(left.isEmpty(), "still attached: " + left);
        // the runtime does not restart: spawning now is a clear error, not a crash
        assertThrows(IllegalStateException.class, () -> Goroutines.go(() -> { }));
        assertThrows(IllegalStateException.class, () -> Goroutines.shutdown(1, TimeUnit.SECONDS));
    }
}
