package io.gr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Channel.asBlockingQueue() against the BlockingQueue contract, checked the way the JSR-166
 * TCK checks a bounded queue (written for gr; not the TCK's code): capacity, null rejection,
 * FIFO order, blocking put/take with interrupts, timeouts, drainTo, and concurrent use from
 * threads and goroutines. The documented deviation: no inspection without receiving (peek,
 * element, iterator, contains throw UnsupportedOperationException).
 */
class BlockingQueueConformanceTest {
    private static final int CAP = 20;
    private static final long SHORT_MS = 50;

    private static BlockingQueue<Integer> populated(int n) {
        BlockingQueue<Integer> q = new Channel<Integer>(CAP).asBlockingQueue();
        for (int i = 0; i < n; i++) {
            assertTrue(q.offer(i));
        }
        return q;
    }

    /** Runs {@code r} on a new thread; returns what it threw (null if nothing) via join. */
    private static Thread start(Contexts.Body r, AtomicReference<Throwable> failure) {
        Thread t = new Thread(() -> {
            try {
                r.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.start();
        return t;
    }

    @Test
    void emptyOnCreation() {
        BlockingQueue<Integer> q = populated(0);
        assertTrue(q.isEmpty());
        assertEquals(0, q.size());
        assertEquals(CAP, q.remainingCapacity());
        assertNull(q.poll());
        assertThrows(NoSuchElementException.class, q::remove);
    }

    @Test
    void fullQueueRejectsInserts() {
        BlockingQueue<Integer> q = populated(CAP);
        assertEquals(CAP, q.size());
        assertEquals(0, q.remainingCapacity());
        assertFalse(q.offer(99));
        assertThrows(IllegalStateException.class, () -> q.add(99)); // "Queue full"
        assertEquals(CAP, q.size());
    }

    @Test
    void nullsAreRejected() {
        BlockingQueue<Integer> q = populated(0);
        assertThrows(NullPointerException.class, () -> q.add(null));
        assertThrows(NullPointerException.class, () -> q.offer(null));
        assertThrows(NullPointerException.class, () -> q.put(null));
        assertThrows(NullPointerException.class, () -> q.offer(null, SHORT_MS, TimeUnit.MILLISECONDS));
        assertThrows(NullPointerException.class, () -> q.addAll(Arrays.asList(1, null)));
        assertThrows(NullPointerException.class, () -> q.drainTo(null));
        assertThrows(NullPointerException.class, () -> q.drainTo(null, 1));
    }

    @Test
    void fifoOrderAcrossAllInsertAndRemoveForms() throws Exception {
        BlockingQueue<Integer> q = populated(0);
        q.add(0);
        assertTrue(q.offer(1));
        q.put(2);
        assertTrue(q.offer(3, SHORT_MS, TimeUnit.MILLISECONDS));
        assertTrue(q.addAll(Arrays.asList(4, 5)));
        assertEquals(0, q.remove());
        assertEquals(1, q.poll());
        assertEquals(2, q.take());
        assertEquals(3, q.poll(SHORT_MS, TimeUnit.MILLISECONDS));
        assertEquals(2, q.size());
        q.clear();
        assertTrue(q.isEmpty());
    }

    @Test
    void addAllOfItselfIsRejected() {
        BlockingQueue<Integer> q = populated(1);
        assertThrows(IllegalArgumentException.class, () -> q.addAll(q));
    }

    @Test
    void drainToMovesInOrderAndRespectsTheLimit() {
        BlockingQueue<Integer> q = populated(10);
        assertThrows(IllegalArgumentException.class, () -> q.drainTo(q));
        assertThrows(IllegalArgumentException.class, () -> q.drainTo(q, 1));
        List<Integer> out = new ArrayList<>();
        assertEquals(0, q.drainTo(out, 0));
        assertEquals(0, q.drainTo(out, -3));
        assertEquals(3, q.drainTo(out, 3));
        assertEquals(Arrays.asList(0, 1, 2), out);
        assertEquals(7, q.drainTo(out));
        assertEquals(10, out.size());
        assertEquals(Arrays.asList(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), out);
        assertTrue(q.isEmpty());
    }

    @Test
    @Timeout(60)
    void timedCallsTimeOut() throws Exception {
        BlockingQueue<Integer> full = populated(CAP);
        long t0 = System.nanoTime();
        assertFalse(full.offer(1, SHORT_MS, TimeUnit.MILLISECONDS));
        assertTrue(Contexts.since(t0) >= SHORT_MS / 1000.0 * 0.8);
        BlockingQueue<Integer> empty = populated(0);
        t0 = System.nanoTime();
        assertNull(empty.poll(SHORT_MS, TimeUnit.MILLISECONDS));
        assertTrue(Contexts.since(t0) >= SHORT_MS / 1000.0 * 0.8);
    }

    @Test
    @Timeout(60)
    void putBlocksUntilTakeAndTakeUntilPut() throws Exception {
        Contexts.onThreadAndInGoroutine(() -> {
            BlockingQueue<Integer> q = populated(CAP);
            AtomicReference<Throwable> f = new AtomicReference<>();
            Thread t = start(() -> q.put(CAP), f);
            Thread.sleep(SHORT_MS);
            assertTrue(t.isAlive(), "put on a full queue must block");
            assertEquals(0, q.take());
            t.join(10_000);
            assertFalse(t.isAlive());
            assertNull(f.get());
            BlockingQueue<Integer> e = populated(0);
            AtomicReference<Integer> got = new AtomicReference<>();
            t = start(() -> got.set(e.take()), f);
            Thread.sleep(SHORT_MS);
            assertTrue(t.isAlive(), "take on an empty queue must block");
            e.put(42);
            t.join(10_000);
            assertEquals(42, got.get());
        });
    }

    @Test
    @Timeout(60)
    void blockedCallsAreInterruptible() throws Exception {
        for (int which = 0; which < 4; which++) {
            BlockingQueue<Integer> q = which % 2 == 0 ? populated(0) : populated(CAP);
            CountDownLatch started = new CountDownLatch(1);
            AtomicReference<Throwable> f = new AtomicReference<>();
            final int w = which;
            Thread t = start(() -> {
                started.countDown();
                switch (w) {
                    case 0: q.take(); break;
                    case 1: q.put(1); break;
                    case 2: q.poll(1, TimeUnit.HOURS); break;
                    default: q.offer(1, 1, TimeUnit.HOURS); break;
                }
            }, f);
            started.await();
            Thread.sleep(SHORT_MS);
            t.interrupt();
            t.join(10_000);
            assertFalse(t.isAlive());
            assertTrue(f.get() instanceof InterruptedException, "case " + which + ": " + f.get());
            assertEquals(w % 2 == 0 ? 0 : CAP, q.size(), "the interrupted call changed the queue");
        }
    }

    /** Capacity 0 behaves like SynchronousQueue: a hand-off, no room. */
    @Test
    @Timeout(60)
    void unbufferedIsAHandOff() throws Exception {
        BlockingQueue<Integer> q = new Channel<Integer>(0).asBlockingQueue();
        assertEquals(0, q.remainingCapacity());
        assertTrue(q.isEmpty());
        assertFalse(q.offer(1));
        assertNull(q.poll());
        Goroutine<Integer> taker = Goroutines.go(() -> q.take());
        assertTrue(q.offer(7, 10, TimeUnit.SECONDS));
        assertEquals(7, taker.get());
    }

    @Test
    void inspectionIsUnsupported() {
        BlockingQueue<Integer> q = populated(2);
        assertThrows(UnsupportedOperationException.class, q::peek);
        assertThrows(UnsupportedOperationException.class, q::element);
        assertThrows(UnsupportedOperationException.class, q::iterator);
        assertThrows(UnsupportedOperationException.class, () -> q.contains(1));
        assertTrue(q.toString().contains("capacity 20"));
        assertEquals(2, q.size());
    }

    @Test
    @Timeout(120)
    void producersAndConsumersOnThreadsAndGoroutines() throws Exception {
        BlockingQueue<Integer> q = new Channel<Integer>(8).asBlockingQueue();
        final int per = 5_000;
        List<Integer> got = Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        List<Goroutine<?>> gs = new ArrayList<>();
        AtomicReference<Throwable> f = new AtomicReference<>();
        for (int p = 0; p < 4; p++) {
            final int base = p * per * 2;
            threads.add(start(() -> {
                for (int i = 0; i < per; i++) {
                    q.put(base + i);
                }
            }, f));
            gs.add(Goroutines.go(() -> {
                for (int i = 0; i < per; i++) {
                    q.put(base + per + i);
                }
                return null;
            }));
            threads.add(start(() -> {
                for (int i = 0; i < per; i++) {
                    got.add(q.take());
                }
            }, f));
            gs.add(Goroutines.go(() -> {
                for (int i = 0; i < per; i++) {
                    got.add(q.take());
                }
                return null;
            }));
        }
        for (Thread t : threads) {
            t.join(60_000);
        }
        for (Goroutine<?> g : gs) {
            g.get(60, TimeUnit.SECONDS);
        }
        assertNull(f.get());
        List<Integer> sorted = new ArrayList<>(got);
        Collections.sort(sorted);
        assertEquals(8 * per, sorted.size());
        for (int i = 0; i < sorted.size(); i++) {
            assertEquals(i, sorted.get(i), "an element was lost or duplicated");
        }
        assertNull(q.poll());
    }
}
