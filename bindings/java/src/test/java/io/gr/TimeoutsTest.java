package io.gr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Defect 2 of issue 16: negative timeouts waited forever. As in java.util.concurrent,
 * {@code timeout <= 0} means "do not wait", for every timed call, from a plain thread and from
 * a goroutine; waiting without limit is a call of its own.
 */
class TimeoutsTest {
    private static final long[] NOT_WAITING = {0, -1, -1_000_000, Long.MIN_VALUE};
    private static final TimeUnit[] UNITS = {TimeUnit.NANOSECONDS, TimeUnit.MILLISECONDS, TimeUnit.DAYS};

    interface Timed {
        void call(long timeout, TimeUnit unit) throws Exception;
    }

    /** Runs {@code t} with every non-positive timeout; each call must return at once. */
    private static void neverWaits(String what, Timed t) throws Exception {
        for (long timeout : NOT_WAITING) {
            for (TimeUnit unit : UNITS) {
                long t0 = System.nanoTime();
                t.call(timeout, unit);
                double s = Contexts.since(t0);
                assertTrue(s < 2.0, what + "(" + timeout + ", " + unit + ") waited " + s + " s");
            }
        }
    }

    @Test
    @Timeout(120)
    void channelsDoNotWait() throws Exception {
        Contexts.onThreadAndInGoroutine(() -> {
            try (Channel<String> ch = new Channel<>(0); LongChannel lc = new LongChannel(0);
                 StructChannel sc = new StructChannel(8, 0)) {
                BlockingQueue<String> q = ch.asBlockingQueue();
                neverWaits("Channel.poll", (t, u) -> assertNull(ch.poll(t, u)));
                neverWaits("Channel.offer", (t, u) -> assertFalse(ch.offer("x", t, u)));
                neverWaits("Channel.receive", (t, u) -> assertTrue(ch.receive(t, u).timedOut()));
                neverWaits("BlockingQueue.poll", (t, u) -> assertNull(q.poll(t, u)));
                neverWaits("BlockingQueue.offer", (t, u) -> assertFalse(q.offer("x", t, u)));
                neverWaits("LongChannel.poll", (t, u) -> assertFalse(lc.poll(t, u).isPresent()));
                neverWaits("LongChannel.offer", (t, u) -> assertFalse(lc.offer(1, t, u)));
                neverWaits("LongChannel.receive", (t, u) -> assertTrue(lc.receive(t, u).timedOut()));
                neverWaits("StructChannel.poll", (t, u) -> assertFalse(sc.poll(new byte[8], t, u)));
                neverWaits("StructChannel.offer", (t, u) -> assertFalse(sc.offer(new byte[8], t, u)));
                neverWaits("StructChannel.receive", (t, u) -> assertTrue(sc.receive(t, u).timedOut()));
                Select s = new Select();
                s.recv(ch);
                s.recv(lc);
                neverWaits("Select.select", (t, u) -> assertNull(s.select(t, u)));
            }
        });
    }

    @Test
    @Timeout(120)
    void syncAndGoroutinesDoNotWait() throws Exception {
        Contexts.onThreadAndInGoroutine(() -> {
            try (WaitGroup wg = new WaitGroup(); Mutex mu = new Mutex()) {
                wg.add(1);
                neverWaits("WaitGroup.await", (t, u) -> assertFalse(wg.await(t, u)));
                mu.lock();
                neverWaits("Mutex.tryLock", (t, u) -> assertFalse(mu.tryLock(t, u)));
                mu.unlock();
                neverWaits("Goroutines.sleep", Goroutines::sleep);
                CountDownLatch release = new CountDownLatch(1);
                Goroutine<Integer> g = Goroutines.go(() -> {
                    release.await();
                    return 5;
                });
                neverWaits("Goroutine.join", (t, u) -> assertFalse(g.join(t, u)));
                neverWaits("Goroutine.get", (t, u) -> assertThrows(TimeoutException.class, () -> g.get(t, u)));
                ExecutorService ex = Goroutines.executor();
                ex.execute(() -> {
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                });
                ex.shutdown();
                neverWaits("ExecutorService.awaitTermination", (t, u) -> assertFalse(ex.awaitTermination(t, u)));
                release.countDown();
                assertEquals(5, g.get());
                assertTrue(ex.awaitTermination(30, TimeUnit.SECONDS));
                wg.done();
                neverWaits("WaitGroup.await (at zero)", (t, u) -> assertTrue(wg.await(t, u)));
            }
        });
    }

    /** Positive timeouts still wait, and a huge one is "no limit", not an overflow. */
    @Test
    @Timeout(120)
    void positiveTimeoutsWait() throws Exception {
        Contexts.onThreadAndInGoroutine(() -> {
            try (LongChannel ch = new LongChannel(1)) {
                long t0 = System.nanoTime();
                assertFalse(ch.poll(30, TimeUnit.MILLISECONDS).isPresent());
                assertTrue(Contexts.since(t0) >= 0.025, "poll(30 ms) returned early");
                ch.send(3);
                assertEquals(3, ch.poll(Long.MAX_VALUE, TimeUnit.DAYS).getAsLong());
                assertTrue(ch.offer(4, Long.MAX_VALUE, TimeUnit.NANOSECONDS));
                t0 = System.nanoTime();
                Goroutines.sleep(20, TimeUnit.MILLISECONDS);
                assertTrue(Contexts.since(t0) >= 0.015, "sleep(20 ms) returned early");
            }
        });
    }

    /**
     * A timed call with a non-positive timeout still reports an interrupt already pending, as
     * ArrayBlockingQueue's timed calls do; the untimed try calls ignore it.
     */
    @Test
    void zeroTimeoutSeesPendingInterrupt() throws Exception {
        try (Channel<String> ch = new Channel<>(1); Mutex mu = new Mutex(); WaitGroup wg = new WaitGroup()) {
            wg.add(1);
            Select s = new Select();
            s.recv(ch);
            Contexts.Body[] timed = {
                () -> Goroutines.sleep(-1, TimeUnit.SECONDS),
                () -> ch.poll(0, TimeUnit.SECONDS),
                () -> ch.offer("x", -5, TimeUnit.SECONDS),
                () -> ch.asBlockingQueue().poll(-1, TimeUnit.SECONDS),
                () -> mu.tryLock(0, TimeUnit.SECONDS),
                () -> wg.await(-1, TimeUnit.SECONDS),
                () -> s.select(0, TimeUnit.SECONDS),
            };
            for (Contexts.Body b : timed) {
                Thread.currentThread().interrupt();
                assertThrows(InterruptedException.class, b::run);
                assertFalse(Thread.currentThread().isInterrupted(), "the status is cleared, as JDK calls do");
            }
            Thread.currentThread().interrupt();
            assertNull(ch.tryRecv());
            assertTrue(mu.tryLock());
            assertNull(s.trySelect());
            assertTrue(Thread.interrupted(), "untimed try calls leave the status alone");
        }
    }
}
