package io.gr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Issue 15, item 6: RWMutex (a ReadWriteLock), Semaphore, Once, and Mutex's Condition, each from a plain thread and from a goroutine. */
@Timeout(120)
class ToolboxLocksTest {

    @Test
    void rwMutexReadersShareWritersExclude() throws Exception {
        Contexts.onThreadAndInGoroutine(() -> {
            try (RWMutex rw = new RWMutex()) {
                Lock r = rw.readLock();
                Lock w = rw.writeLock();
                assertSame(r, rw.readLock());
                r.lock();
                assertTrue(r.tryLock(), "a second reader gets in");
                assertFalse(w.tryLock(), "no writer while readers hold it");
                assertFalse(w.tryLock(20, TimeUnit.MILLISECONDS));
                r.unlock();
                r.unlock();
                assertThrows(IllegalMonitorStateException.class, r::unlock);
                w.lock();
                assertFalse(r.tryLock(), "no reader while a writer holds it");
                w.unlock();
                assertThrows(IllegalMonitorStateException.class, w::unlock);
                assertThrows(UnsupportedOperationException.class, r::newCondition);
            }
        });
    }

    @Test
    void rwMutexWaitingWriterStopsNewReaders() throws Exception {
        try (RWMutex rw = new RWMutex()) {
            rw.readLock().lock();
            Goroutine<Boolean> writer = Goroutines.go(() -> rw.writeLock().tryLock(30, TimeUnit.SECONDS));
            long t0 = System.nanoTime();
            boolean blocked = false;
            while (Contexts.since(t0) < 20 && !(blocked = !rw.readLock().tryLock())) {
                rw.readLock().unlock(); // got in: the writer is not queued yet
                Thread.sleep(1);
            }
            assertTrue(blocked, "a waiting writer stops new readers (Go's writer preference)");
            rw.readLock().unlock();
            assertTrue(writer.get(), "the writer got the lock once the reader left");
            rw.writeLock().unlock();
        }
    }

    @Test
    void rwMutexWaitEndsOnInterruptAndClose() throws Exception {
        RWMutex rw = new RWMutex();
        rw.writeLock().lock();
        Thread me = Thread.currentThread();
        Goroutine<Void> interrupter = Goroutines.go(() -> {
            Thread.sleep(50);
            me.interrupt();
            return null;
        });
        assertThrows(InterruptedException.class, () -> rw.readLock().lockInterruptibly());
        interrupter.get();
        CountDownLatch started = new CountDownLatch(1);
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread t = Contexts.startExpectingThrow(started, () -> rw.writeLock().lockInterruptibly(), thrown);
        started.await();
        Thread.sleep(50);
        rw.close();
        t.join(10_000);
        assertTrue(thrown.get() instanceof IllegalStateException, String.valueOf(thrown.get()));
    }

    @Test
    void semaphoreIsWeightedAndFifo() throws Exception {
        Contexts.onThreadAndInGoroutine(() -> {
            try (Semaphore s = new Semaphore(3)) {
                assertEquals(3, s.size());
                assertTrue(s.tryAcquire(2));
                assertFalse(s.tryAcquire(2), "one unit left");
                assertThrows(IllegalArgumentException.class, () -> s.tryAcquire(4));
                Goroutine<Boolean> big = Goroutines.go(() -> s.tryAcquire(3, 30, TimeUnit.SECONDS));
                long t0 = System.nanoTime();
                while (Contexts.since(t0) < 20 && s.tryAcquire(1)) {
                    s.release(1); // the big acquire is not queued yet
                    Thread.sleep(1);
                }
                assertFalse(s.tryAcquire(1), "a queued acquire of 3 is not overtaken by one of 1");
                s.release(2);
                assertTrue(big.get());
                s.release(3);
                assertThrows(IllegalStateException.class, () -> s.release(1), "nothing held");
                assertTrue(s.tryAcquire(3, 0, TimeUnit.SECONDS), "all free again");
                s.release(3);
            }
        });
    }

    @Test
    void onceRunsOnceForThreadsAndGoroutines() throws Exception {
        try (Once once = new Once()) {
            AtomicInteger runs = new AtomicInteger();
            CountDownLatch go = new CountDownLatch(1);
            Runnable body = () -> {
                runs.incrementAndGet();
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            };
            Goroutine<?>[] gs = new Goroutine<?>[8];
            Thread[] ts = new Thread[8];
            AtomicInteger returned = new AtomicInteger();
            for (int i = 0; i < 8; i++) {
                gs[i] = Goroutines.go(() -> {
                    go.await();
                    once.run(body);
                    assertTrue(once.isDone());
                    return returned.incrementAndGet();
                });
                ts[i] = new Thread(() -> {
                    try {
                        go.await();
                        once.run(body);
                        assertTrue(once.isDone());
                        returned.incrementAndGet();
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                });
                ts[i].start();
            }
            go.countDown();
            for (int i = 0; i < 8; i++) {
                gs[i].get();
                ts[i].join();
            }
            assertEquals(1, runs.get());
            assertEquals(16, returned.get());
        }
    }

    @Test
    void onceFailureIsFinal() throws Exception {
        try (Once once = new Once()) {
            IllegalArgumentException boom = new IllegalArgumentException("boom");
            assertSame(boom, assertThrows(IllegalArgumentException.class, () -> once.run(() -> {
                throw boom;
            })));
            AtomicInteger runs = new AtomicInteger();
            Contexts.onThreadAndInGoroutine(() -> {
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> once.run(runs::incrementAndGet));
                assertSame(boom, e.getCause());
            });
            assertEquals(0, runs.get());
            assertTrue(once.isDone());
        }
        try (Once once = new Once()) {
            AtomicReference<Throwable> inner = new AtomicReference<>();
            once.run(() -> {
                try {
                    once.run(() -> {});
                } catch (Throwable t) {
                    inner.set(t);
                }
            });
            assertTrue(inner.get() instanceof IllegalStateException, String.valueOf(inner.get()));
        }
    }

    @Test
    void condWaitReleasesAndRetakesTheMutex() throws Exception {
        Contexts.onThreadAndInGoroutine(() -> {
            try (Mutex mu = new Mutex()) {
                Condition c = mu.newCondition();
                int[] state = {0};
                Goroutine<Void> producer = Goroutines.go(() -> {
                    mu.lock(); // free only while the consumer waits
                    try {
                        state[0] = 1;
                        c.signal();
                    } finally {
                        mu.unlock();
                    }
                    return null;
                });
                mu.lock();
                try {
                    while (state[0] == 0) {
                        c.await();
                    }
                    assertFalse(mu.tryLock(), "held again after await");
                    assertTrue(c.awaitNanos(TimeUnit.MILLISECONDS.toNanos(20)) <= 0, "no signal: times out");
                    assertFalse(mu.tryLock(), "held again after a timeout");
                    assertTrue(c.awaitNanos(0) <= 0);
                } finally {
                    mu.unlock();
                }
                producer.get();
                assertThrows(IllegalMonitorStateException.class, c::await, "await without the mutex");
            }
        });
    }

    @Test
    void condAwaitInterruptedHoldsTheMutexAgain() throws Exception {
        try (Mutex mu = new Mutex()) {
            Condition c = mu.newCondition();
            Thread me = Thread.currentThread();
            mu.lock();
            Goroutine<Void> interrupter = Goroutines.go(() -> {
                Thread.sleep(50);
                me.interrupt();
                return null;
            });
            assertThrows(InterruptedException.class, c::await);
            assertFalse(mu.tryLock(), "held again after the interrupted await");
            mu.unlock();
            interrupter.get();
            mu.lock();
            c.signalAll(); // nobody waits: not remembered
            assertFalse(c.await(10, TimeUnit.MILLISECONDS));
            mu.unlock();
        }
    }
}
