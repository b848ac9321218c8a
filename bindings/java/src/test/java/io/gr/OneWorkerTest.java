package io.gr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Item 2, in its own JVM: the runtime has exactly one worker. */
class OneWorkerTest {

    @Test
    @Timeout(60)
    void blockedJavaGoroutineDoesNotStopOthers() throws Exception {
        Goroutines.configure(1, 0, 0);
        assertEquals(1, Goroutines.stats().workers());
        try (LongChannel never = new LongChannel(0)) {
            long t0 = System.nanoTime();
            Goroutine<?> blocked = Goroutines.go(() -> {
                try {
                    OptionalLong v = never.poll(2, TimeUnit.SECONDS); // blocks its thread 2 s
                    assertFalse(v.isPresent());
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
            Thread.sleep(50); // let it block first
            AtomicInteger javaCount = new AtomicInteger();
            long before = TestLib.counter();
            List<Goroutine<?>> gs = new ArrayList<>();
            long incr = TestLib.incrFn();
            for (int i = 0; i < 1000; i++) {
                gs.add(Goroutines.goNative(incr, 0));
                gs.add(Goroutines.go(javaCount::incrementAndGet));
            }
            for (Goroutine<?> g : gs) {
                g.join();
            }
            long others = System.nanoTime() - t0;
            assertEquals(1000, javaCount.get());
            assertEquals(1000, TestLib.counter() - before);
            assertFalse(blocked.isDone(), "the blocked goroutine should still be waiting");
            assertTrue(others < TimeUnit.MILLISECONDS.toNanos(1900),
                    "2000 goroutines took " + others / 1e6 + " ms beside the blocked one");
            System.out.printf("item2: 1000 C + 1000 Java goroutines done %.1f ms after the 2 s block began%n",
                    others / 1e6);
            blocked.join();
            assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(1900));
        }
    }
}
