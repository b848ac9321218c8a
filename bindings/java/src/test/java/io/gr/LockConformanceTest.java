package io.gr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Lock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Mutex against the java.util.concurrent.locks.Lock contract, in the spirit of the JSR-166
 * TCK's lock tests (written for gr): lock/tryLock/timed tryLock, lockInterruptibly, the
 * uninterruptible lock(), unlock of an unlocked mutex, no conditions, and mutual exclusion
 * across threads and goroutines. Go's rules hold: not reentrant, any thread may unlock.
 */
class LockConformanceTest {

    @Test
    void lockTryLockUnlock() throws Exception {
        try (Mutex m = new Mutex()) {
            Lock lock = m;
            lock.lock();
            assertFalse(lock.tryLock(), "not reentrant");
            assertFalse(lock.tryLock(20, TimeUnit.MILLISECONDS));
            lock.unlock();
            assertTrue(lock.tryLock());
            lock.unlock();
            assertTrue(lock.tryLock(1, TimeUnit.SECONDS));
            lock.unlock();
            assertThrows(IllegalMonitorStateException.class, lock::unlock);
            try (Cond c = ((Mutex) lock).newCondition()) {
                assertThrows(IllegalMonitorStateException.class, c::await, "a condition needs its lock held");
            }
        }
    }

    @Test
    @Timeout(60)
    void timedTryLockSucceedsWhenReleasedMeanwhile() throws Exception {
        Contexts.onThreadAndInGoroutine(() -> {
            try (Mutex m = new Mutex()) {
                m.lock();
                Goroutine<Boolean> g = Goroutines.go(() -> m.tryLock(10, TimeUnit.SECONDS));
                Thread.sleep(50);
                m.unlock(); // Go's rule: the lock is not owned by a thread
                assertTrue(g.get());
                m.unlock(); // released by another thread than the one that locked it
            }
        });
    }

    @Test
    @Timeout(60)
    void lockInterruptiblyThrowsAndDoesNotTakeTheLock() throws Exception {
        try (Mutex m = new Mutex()) {
            Thread.currentThread().interrupt();
            assertThrows(InterruptedException.class, m::lockInterruptibly);
            assertFalse(Thread.interrupted());
            m.lock();
            AtomicReference<Throwable> f = new AtomicReference<>();
            CountDownLatch waiting = new CountDownLatch(1);
            Thread t = Contexts.startExpectingThrow(waiting, m::lockInterruptibly, f);
            waiting.await();
            Thread.sleep(50);
            t.interrupt();
            t.join(10_000);
            assertTrue(f.get() instanceof InterruptedException, String.valueOf(f.get()));
            m.unlock();
            assertTrue(m.tryLock(), "the interrupted waiter did not take the lock");
            m.unlock();
        }
    }

    @Test
    @Timeout(60)
    void lockIsNotInterruptibleButKeepsTheStatus() throws Exception {
        try (Mutex m = new Mutex()) {
            m.lock();
            AtomicBoolean locked = new AtomicBoolean();
            AtomicBoolean statusAfter = new AtomicBoolean();
            CountDownLatch waiting = new CountDownLatch(1);
            Thread t = new Thread(() -> {
                waiting.countDown();
                m.lock();
                locked.set(true);
                statusAfter.set(Thread.currentThread().isInterrupted());
                m.unlock();
            });
            t.start();
            waiting.await();
            Thread.sleep(50);
            t.interrupt();
            Thread.sleep(50);
            assertFalse(locked.get(), "lock() must not give up on interrupt");
            m.unlock();
            t.join(10_000);
            assertTrue(locked.get());
            assertTrue(statusAfter.get(), "the interrupt status is set again once locked");
        }
    }

    @Test
    @Timeout(120)
    void mutualExclusionAcrossThreadsAndGoroutines() throws Exception {
        try (Mutex m = new Mutex()) {
            Lock lock = m;
            final int per = 20_000;
            long[] counter = {0};
            Runnable work = () -> {
                for (int i = 0; i < per; i++) {
                    lock.lock();
                    try {
                        counter[0]++;
                    } finally {
                        lock.unlock();
                    }
                }
            };
            List<Thread> ts = new ArrayList<>();
            List<Goroutine<Void>> gs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                Thread t = new Thread(work);
                t.start();
                ts.add(t);
                gs.add(Goroutines.go(work));
            }
            for (Thread t : ts) {
                t.join();
            }
            for (Goroutine<Void> g : gs) {
                g.join();
            }
            assertEquals(6L * per, counter[0]);
        }
    }
}
