package io.gr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Issue 15, item 6: Group (AutoCloseable; the first failure rethrown, the others suppressed), from a plain thread and a goroutine. */
@Timeout(120)
class GroupTest {

    @Test
    void closeWaitsForEveryGoroutine() throws Exception {
        Contexts.onThreadAndInGoroutine(() -> {
            AtomicInteger done = new AtomicInteger();
            Goroutine<Integer> g;
            try (Group group = new Group()) {
                for (int i = 0; i < 20; i++) {
                    group.go(() -> {
                        Thread.sleep(5);
                        return done.incrementAndGet();
                    });
                }
                g = group.go(() -> 42);
            }
            assertEquals(20, done.get());
            assertEquals(42, (int) g.get());
        });
    }

    @Test
    void firstFailureIsRethrownTheOthersSuppressedTheRestInterrupted() throws Exception {
        Contexts.onThreadAndInGoroutine(() -> {
            IOException first = new IOException("first");
            IllegalStateException second = new IllegalStateException("second");
            CountDownLatch secondMayFail = new CountDownLatch(1);
            AtomicInteger interrupted = new AtomicInteger();
            Group group = new Group();
            Context ctx = group.context();
            try (LongChannel never = new LongChannel(0)) {
                group.go(() -> {
                    try {
                        never.recv(); // blocked until the group interrupts it
                    } catch (InterruptedException e) {
                        interrupted.incrementAndGet();
                        throw e; // not a failure: the group's own cancellation
                    }
                    return null;
                });
                group.go((java.util.concurrent.Callable<Void>) () -> {
                    try {
                        secondMayFail.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        // the first failure interrupted the wait; fail anyway, later
                    }
                    throw second;
                });
                Thread.sleep(20);
                group.go((java.util.concurrent.Callable<Void>) () -> {
                    throw first;
                });
                assertTrue(ctx.await(10, TimeUnit.SECONDS), "the first failure fires the context");
                ExecutionException failed = assertThrows(ExecutionException.class, group::close);
                Throwable thrown = failed.getCause();
                assertSame(first, thrown);
                assertEquals(1, interrupted.get());
                assertEquals(1, thrown.getSuppressed().length, "the second failure only");
                assertSame(second, thrown.getSuppressed()[0]);
            }
            assertThrows(IllegalStateException.class, () -> group.go(() -> 1), "closed");
            group.close(); // again: nothing
        });
    }

    /** Review of issue 16: close() declares ExecutionException only; an Error is a failure as any other (Future.get's rule). */
    @Test
    void closeReportsAnErrorAsAnExecutionExceptionAndDeclaresNothingBroader() throws Exception {
        Contexts.onThreadAndInGoroutine(() -> {
            AssertionError boom = new AssertionError("boom");
            Group group = new Group();
            group.go((java.util.concurrent.Callable<Void>) () -> {
                throw boom;
            });
            ExecutionException failed = assertThrows(ExecutionException.class, group::close);
            assertSame(boom, failed.getCause());
            assertEquals(0, boom.getSuppressed().length);
            group.close(); // again: nothing, the failure was reported once
            assertEquals(java.util.Collections.singletonList(ExecutionException.class),
                    java.util.Arrays.asList(Group.class.getMethod("close").getExceptionTypes()));
        });
    }

    @Test
    void limitCapsHowManyRunAtOnce() throws Exception {
        Contexts.onThreadAndInGoroutine(() -> {
            AtomicInteger running = new AtomicInteger();
            AtomicInteger most = new AtomicInteger();
            try (Group group = new Group(null, 2)) {
                CountDownLatch release = new CountDownLatch(1);
                CountDownLatch both = new CountDownLatch(2);
                for (int i = 0; i < 2; i++) {
                    group.go(() -> {
                        both.countDown();
                        return release.await(30, TimeUnit.SECONDS);
                    });
                }
                both.await();
                assertNull(group.tryGo(() -> 3), "at its limit, tryGo starts nothing");
                assertNull(group.go(() -> 3, 20, TimeUnit.MILLISECONDS), "nor a go that waits 20 ms");
                release.countDown();
                for (int i = 0; i < 10; i++) {
                    group.go(() -> {
                        int n = running.incrementAndGet();
                        most.accumulateAndGet(n, Math::max);
                        Thread.sleep(5);
                        return running.decrementAndGet();
                    });
                }
            }
            assertTrue(most.get() <= 2 && most.get() >= 1, "at most 2 at once: " + most.get());
        });
    }

    @Test
    void parentContextAndCancel() throws Exception {
        try (Context parent = new Context()) {
            Group group = new Group(parent);
            assertFalse(group.context().isDone());
            parent.cancel();
            assertTrue(group.context().await(10, TimeUnit.SECONDS), "fired through the parent");
            group.close();
        }
        Group group = new Group();
        AtomicInteger interrupted = new AtomicInteger();
        try (LongChannel never = new LongChannel(0)) {
            CountDownLatch started = new CountDownLatch(1);
            group.go(() -> {
                started.countDown();
                try {
                    never.recv();
                } catch (InterruptedException e) {
                    interrupted.incrementAndGet();
                    throw e;
                }
                return null;
            });
            started.await();
            group.cancel();
            group.close(); // no failure: the interruption was the group's
            assertEquals(1, interrupted.get());
        }
    }
}
