package io.gr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Issue 15, item 6: timer channels (after, Timer, Ticker) and Context, from a plain thread and a goroutine. */
@Timeout(120)
class ToolboxTimeTest {

    @Test
    void afterDeliversItsDueTimeOnce() throws Exception {
        Contexts.onThreadAndInGoroutine(() -> {
            long t0 = System.nanoTime();
            try (LongChannel ch = Goroutines.after(10, TimeUnit.MILLISECONDS)) {
                long due = ch.recv();
                long now = System.nanoTime();
                assertTrue(due >= t0 + TimeUnit.MILLISECONDS.toNanos(10), "due time on System.nanoTime's clock");
                assertTrue(now >= due, "received after it was due");
                assertFalse(ch.poll(20, TimeUnit.MILLISECONDS).isPresent(), "one value only");
                assertThrows(IllegalArgumentException.class, () -> ch.send(1), "receive-only");
            }
        });
    }

    @Test
    void afterAsASelectTimeout() throws Exception {
        Contexts.onThreadAndInGoroutine(() -> {
            try (LongChannel never = new LongChannel(0); LongChannel timeout = Goroutines.after(20, TimeUnit.MILLISECONDS)) {
                Select s = new Select();
                s.recv(never);
                Select.RecvLong t = s.recv(timeout);
                assertEquals(t.index(), s.select().index(), "the timeout case");
            }
        });
    }

    @Test
    void timerStopAndResetLeaveNoStaleValue() throws Exception {
        Contexts.onThreadAndInGoroutine(() -> {
            try (Timer t = new Timer(1, TimeUnit.HOURS)) {
                assertTrue(t.stop(), "pending");
                assertFalse(t.stop(), "already stopped");
                assertFalse(t.reset(0, TimeUnit.MILLISECONDS), "was stopped");
                Thread.sleep(5); // fired, not received
                assertTrue(t.reset(1, TimeUnit.HOURS), "fired and not received counts as pending");
                assertFalse(t.channel().poll(30, TimeUnit.MILLISECONDS).isPresent(), "the old value was discarded");
                t.reset(5, TimeUnit.MILLISECONDS);
                assertTrue(t.channel().recv() > 0);
            }
        });
    }

    @Test
    void tickerTicksAndStops() throws Exception {
        Contexts.onThreadAndInGoroutine(() -> {
            try (Ticker tk = new Ticker(5, TimeUnit.MILLISECONDS)) {
                long a = tk.channel().recv();
                long b = tk.channel().recv();
                assertTrue(b - a >= TimeUnit.MILLISECONDS.toNanos(5), "one period apart or more");
                tk.stop();
                assertFalse(tk.channel().poll(30, TimeUnit.MILLISECONDS).isPresent(), "no tick after stop");
                tk.reset(5, TimeUnit.MILLISECONDS);
                assertTrue(tk.channel().recv() > b);
                assertThrows(IllegalArgumentException.class, () -> tk.reset(0, TimeUnit.SECONDS));
            }
            assertThrows(IllegalArgumentException.class, () -> new Ticker(0, TimeUnit.SECONDS));
        });
    }

    @Test
    void contextTreeCancelAndDeadline() throws Exception {
        Contexts.onThreadAndInGoroutine(() -> {
            try (Context root = new Context(); Context child = root.withCancel(); Context grand = child.withCancel()) {
                assertNull(grand.err());
                assertFalse(root.deadline().isPresent());
                root.cancel();
                assertTrue(grand.await(10, TimeUnit.SECONDS), "fired through its ancestors");
                assertTrue(grand.err() instanceof CancellationException);
                assertTrue(child.done().receive().closed());
            }
            try (Context root = new Context(); Context t = root.withTimeout(20, TimeUnit.MILLISECONDS);
                 Context later = t.withTimeout(1, TimeUnit.HOURS)) {
                long d = later.deadline().getAsLong();
                assertTrue(d - System.nanoTime() < TimeUnit.MILLISECONDS.toNanos(20), "the earlier deadline, an ancestor's");
                later.await();
                assertTrue(later.err() instanceof TimeoutException, String.valueOf(later.err()));
                assertNull(root.err(), "the parent does not fire with its child");
            }
            Context c = new Context();
            Context kid = c.withCancel();
            c.close(); // Go's defer cancel(): fires the children
            assertTrue(kid.isDone());
            assertNotNull(kid.err());
            kid.close();
            kid.close();
            assertThrows(IllegalStateException.class, kid::cancel);
        });
    }

    @Test
    void contextDoneInASelect() throws Exception {
        try (Context root = new Context(); LongChannel never = new LongChannel(0)) {
            Goroutine<Void> canceller = Goroutines.go(() -> {
                Thread.sleep(20);
                root.cancel();
                return null;
            });
            Select s = new Select();
            s.recv(never);
            Select.RecvLong done = s.recv(root.done());
            Select.Case got = s.select();
            assertEquals(done.index(), got.index());
            assertFalse(got.ok(), "a closed channel's case");
            canceller.get();
        }
    }
}
