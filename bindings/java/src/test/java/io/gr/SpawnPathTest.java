package io.gr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The hand-off of a Java goroutine's task and the release of its native handle (issue 16,
 * spawnjoin): go() parks its task in a slot of Task's table (a JNI global reference only when
 * every slot is taken), and the native release of a handle that a join freed waits for this
 * thread's next go().
 */
class SpawnPathTest {

    @BeforeAll
    static void start() {
        Goroutines.configure(2, 0, 0);
    }

    @Test
    @Timeout(60)
    void goWorksWhenEverySlotIsTaken() throws Exception {
        List<Integer> parked = new ArrayList<>();
        try {
            for (;;) { // fill the table with tasks that no goroutine will take
                int s = Task.park(new Task<Void>(() -> { }, false));
                if (s < 0) {
                    break;
                }
                parked.add(s);
            }
            assertTrue(parked.size() > 1000, "slots parked: " + parked.size());
            AtomicInteger ran = new AtomicInteger();
            for (int i = 0; i < 100; i++) {
                Goroutines.go(ran::incrementAndGet).join(); // through a global reference
            }
            assertEquals(100, ran.get());
            assertEquals(42, Goroutines.go(() -> 42).get());
            IllegalStateException boom = new IllegalStateException("boom");
            Goroutine<Void> g = Goroutines.go((Runnable) () -> {
                throw boom;
            });
            GoroutineException e = assertThrows(GoroutineException.class, g::join);
            assertSame(boom, e.getCause());
        } finally {
            for (int s : parked) {
                Task.unpark(s);
            }
        }
        AtomicInteger ran = new AtomicInteger();
        for (int i = 0; i < 100; i++) {
            Goroutines.go(ran::incrementAndGet).join(); // through slots again
        }
        assertEquals(100, ran.get());
    }

    @Test
    @Timeout(60)
    void slotsAreFreedWhenGoroutinesStart() throws Exception {
        // Many more goroutines than a probe window, started and joined in batches: each
        // starts (so each slot is emptied) and the table never fills.
        AtomicInteger ran = new AtomicInteger();
        Runnable body = ran::incrementAndGet;
        for (int round = 0; round < 20; round++) {
            List<Goroutine<Void>> gs = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                gs.add(Goroutines.go(body));
            }
            for (Goroutine<Void> g : gs) {
                g.join();
            }
        }
        assertEquals(20_000, ran.get());
        int s = Task.park(new Task<Void>(() -> { }, false));
        assertTrue(s >= 0, "a slot is free");
        Task.unpark(s);
    }

    @Test
    @Timeout(60)
    void aJoinedHandleIsReleasedByTheNextGo() throws Exception {
        Goroutines.go(() -> { }).join();
        assertNotEquals(0, Goroutine.deferredHere(), "the joined handle waits for the next go()");
        CountDownLatch hold = new CountDownLatch(1);
        Goroutine<Void> g = Goroutines.go(() -> {
            try {
                hold.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertEquals(0, Goroutine.deferredHere(), "go() released it after its spawn");
        hold.countDown();
        g.join();
        Goroutine.releaseDeferred();
        assertEquals(0, Goroutine.deferredHere());
    }
}
