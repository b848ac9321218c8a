package io.gr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Defect 6 of issue 16: close() was not idempotent and did not wake a thread blocked on the
 * handle. Now close() follows Closeable (a second call does nothing) and, as closing an NIO
 * channel does, ends the calls blocked on the handle: they throw IllegalStateException (the
 * exception of any use after close), leave the thread's interrupt status alone, and lose
 * nothing.
 */
class CloseTest {

    @Test
    void closeIsIdempotent() throws Exception {
        AutoCloseable[] handles = {new Channel<String>(1), new LongChannel(0), new StructChannel(4, 1),
            new WaitGroup(), new Mutex(), Upcall.of(x -> x), Goroutines.go(() -> { })};
        for (AutoCloseable h : handles) {
            h.close();
            h.close();
            h.close();
        }
    }

    /**
     * Starts {@code blocker} on a plain thread and in a goroutine, closes the handle from this
     * thread once both block, and checks that both end with IllegalStateException.
     */
    private static void closeEndsBlockedCalls(AutoCloseable handle, Callable<?> blocker) throws Exception {
        AtomicReference<Throwable> onThread = new AtomicReference<>();
        CountDownLatch started = new CountDownLatch(2);
        Thread t = Contexts.startExpectingThrow(started, blocker::call, onThread);
        Goroutine<Object> g = Goroutines.go(() -> {
            started.countDown();
            return blocker.call();
        });
        started.await();
        Thread.sleep(100); // both are blocked by now (if not, they fail on entry: also ISE)
        long t0 = System.nanoTime();
        handle.close();
        t.join(10_000);
        assertFalse(t.isAlive(), "the blocked thread did not wake");
        ExecutionException e = assertThrows(ExecutionException.class, () -> g.get(10, TimeUnit.SECONDS));
        assertTrue(Contexts.since(t0) < 10);
        for (Throwable x : new Throwable[] {onThread.get(), e.getCause()}) {
            assertEquals(IllegalStateException.class, x.getClass(), String.valueOf(x));
            assertTrue(x.getMessage().contains("closed"), x.getMessage());
        }
        assertFalse(t.isInterrupted());
        handle.close(); // and again: nothing
    }

    @Test
    @Timeout(60)
    void closeWakesBlockedReceivers() throws Exception {
        Channel<String> ch = new Channel<>(0);
        closeEndsBlockedCalls(ch, ch::recv);
        LongChannel lc = new LongChannel(0);
        closeEndsBlockedCalls(lc, lc::recv);
        StructChannel sc = new StructChannel(8, 0);
        closeEndsBlockedCalls(sc, sc::recv);
        Channel<String> it = new Channel<>(0);
        closeEndsBlockedCalls(it, () -> it.iterator().hasNext());
        Channel<String> rc = new Channel<>(0);
        closeEndsBlockedCalls(rc, rc::receive);
    }

    @Test
    @Timeout(60)
    void closeWakesBlockedSendersAndTheirValuesStayWithThem() throws Exception {
        LongChannel ch = new LongChannel(1);
        ch.send(1);
        long raw = ch.retainNative(); // to look inside after the Java handle is gone
        closeEndsBlockedCalls(ch, () -> {
            ch.send(2);
            return null;
        });
        long[] out = new long[1];
        assertEquals(Status.OK, Native.chanRecvLong(raw, out, 0, 0));
        assertEquals(1, out[0]);
        assertEquals(Status.EAGAIN, Native.chanRecvLong(raw, out, 0, 0), "a blocked send slipped in");
        Native.chanRelease(raw);
    }

    @Test
    @Timeout(60)
    void closeWakesSelectMutexWaitGroupAndJoin() throws Exception {
        LongChannel a = new LongChannel(0);
        try (LongChannel b = new LongChannel(0)) {
            closeEndsBlockedCalls(a, () -> {
                Select s = new Select();
                s.recv(b);
                s.recv(a);
                return s.select();
            });
        }
        Mutex mu = new Mutex();
        mu.lock();
        closeEndsBlockedCalls(mu, () -> {
            mu.lockInterruptibly();
            return null;
        });
        Mutex mu2 = new Mutex();
        mu2.lock();
        closeEndsBlockedCalls(mu2, () -> {
            mu2.lock(); // the uninterruptible lock ends too
            return null;
        });
        WaitGroup wg = new WaitGroup();
        wg.add(1);
        closeEndsBlockedCalls(wg, () -> {
            wg.await();
            return null;
        });
        CountDownLatch release = new CountDownLatch(1);
        Goroutine<Void> sleeper = Goroutines.go(() -> {
            release.await();
            return null;
        });
        closeEndsBlockedCalls(sleeper, () -> {
            sleeper.join();
            return null;
        });
        Goroutine<Void> sleeper2 = Goroutines.go(() -> {
            release.await();
            return null;
        });
        closeEndsBlockedCalls(sleeper2, sleeper2::get);
        release.countDown();
    }

    /** Closing a handle nobody waits on leaves other handles' waiters alone. */
    @Test
    @Timeout(60)
    void closeEndsOnlyItsOwnWaiters() throws Exception {
        try (LongChannel ch = new LongChannel(0)) {
            Goroutine<Long> g = Goroutines.go(() -> ch.recv());
            Thread.sleep(50);
            for (int i = 0; i < 20; i++) {
                new LongChannel(0).close();
            }
            assertFalse(g.isDone());
            ch.send(9);
            assertEquals(9L, g.get());
        }
    }

    /**
     * close() racing blocking transfers on the channel, which name it in their thread's hazard
     * slot instead of counting themselves (NativeResource, "Hazard operations"): the native
     * channel is never freed under a transfer (that would crash the JVM), and every channel is
     * freed (none stays tracked), whichever of the closer and the transfers' ends frees it.
     */
    @Test
    @Timeout(120)
    void closeRacingTransfersFreesEveryChannelOnce() throws Exception {
        int base = NativeResource.trackedCount();
        AtomicReference<Throwable> unexpected = new AtomicReference<>();
        for (int round = 0; round < 300; round++) {
            LongChannel ch = new LongChannel(round % 2);
            CountDownLatch started = new CountDownLatch(2);
            Thread sender = new Thread(() -> {
                started.countDown();
                try {
                    for (long i = 0;; i++) {
                        ch.send(i);
                    }
                } catch (IllegalStateException e) {
                    // closed: the end
                } catch (Throwable e) {
                    unexpected.compareAndSet(null, e);
                }
            });
            Thread receiver = new Thread(() -> {
                started.countDown();
                try {
                    for (;;) {
                        ch.recv();
                    }
                } catch (IllegalStateException e) {
                    // closed: the end
                } catch (Throwable e) {
                    unexpected.compareAndSet(null, e);
                }
            });
            sender.start();
            receiver.start();
            started.await();
            long until = System.nanoTime() + (round % 7) * 10_000L;
            while (System.nanoTime() < until) {
                Task.onSpinWait();
            }
            ch.close();
            sender.join();
            receiver.join();
        }
        assertEquals(null, unexpected.get());
        assertTrue(NativeResource.trackedCount() <= base,
                "closed channels left unfreed: tracked " + NativeResource.trackedCount() + ", base " + base);
    }
}
