package io.gr;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Defect 7 of issue 16: Channel.poll/tryRecv threw ChannelClosedException after close and
 * drain while the BlockingQueue view returned null. One rule per API shape now (see
 * ChannelHandle): Go-shaped calls throw, receive() reports "closed" as a result, iteration
 * ends, and the BlockingQueue view returns null from poll (take throws, inserts throw).
 */
class ClosedVersusEmptyTest {

    /** An open, empty channel: "nothing" everywhere, never an exception. */
    @Test
    void emptyIsNeverAnException() throws Exception {
        try (Channel<String> ch = new Channel<>(2)) {
            assertNull(ch.tryRecv());
            assertNull(ch.poll(1, TimeUnit.MILLISECONDS));
            assertTrue(ch.tryReceive().timedOut());
            assertTrue(ch.receive(1, TimeUnit.MILLISECONDS).timedOut());
            assertNull(ch.asBlockingQueue().poll());
            assertNull(ch.asBlockingQueue().poll(1, TimeUnit.MILLISECONDS));
        }
    }

    @Test
    void goShapedCallsThrowOnceDrained() throws Exception {
        try (Channel<String> ch = new Channel<>(3); LongChannel lc = new LongChannel(3);
             StructChannel sc = new StructChannel(2, 3)) {
            ch.send("a");
            ch.send("b");
            ch.send("c");
            ch.closeForSend();
            assertThrows(ChannelClosedException.class, () -> ch.send("x"));
            assertThrows(ChannelClosedException.class, () -> ch.trySend("x"));
            assertThrows(ChannelClosedException.class, () -> ch.offer("x", 1, TimeUnit.SECONDS));
            assertEquals("a", ch.recv()); // values sent before the close come first
            assertEquals("b", ch.tryRecv());
            assertEquals("c", ch.poll(1, TimeUnit.SECONDS));
            assertThrows(ChannelClosedException.class, ch::recv);
            assertThrows(ChannelClosedException.class, ch::tryRecv);
            assertThrows(ChannelClosedException.class, () -> ch.poll(1, TimeUnit.SECONDS));
            assertThrows(ChannelClosedException.class, () -> ch.poll(-1, TimeUnit.SECONDS));

            lc.send(1);
            lc.closeForSend();
            assertEquals(1, lc.tryRecv().getAsLong());
            assertThrows(ChannelClosedException.class, lc::recv);
            assertThrows(ChannelClosedException.class, lc::tryRecv);
            assertThrows(ChannelClosedException.class, () -> lc.poll(0, TimeUnit.SECONDS));
            assertThrows(ChannelClosedException.class, () -> lc.send(2));

            sc.send(new byte[] {1, 2});
            sc.closeForSend();
            assertArrayEquals(new byte[] {1, 2}, sc.recv());
            assertThrows(ChannelClosedException.class, sc::recv);
            assertThrows(ChannelClosedException.class, () -> sc.poll(new byte[2], 1, TimeUnit.SECONDS));
        }
    }

    @Test
    void receiveReportsClosedAsAResult() throws Exception {
        try (Channel<String> ch = new Channel<>(2); LongChannel lc = new LongChannel(2);
             StructChannel sc = new StructChannel(1, 1)) {
            ch.send("a");
            ch.closeForSend();
            Received<String> r = ch.receive();
            assertTrue(r.ok());
            assertEquals("a", r.value());
            r = ch.receive();
            assertTrue(r.closed());
            assertFalse(r.ok());
            assertFalse(r.timedOut());
            assertThrows(NoSuchElementException.class, r::value);
            assertFalse(r.toOptional().isPresent());
            assertTrue(ch.receive(1, TimeUnit.SECONDS).closed());
            assertTrue(ch.tryReceive().closed());

            lc.send(7);
            lc.closeForSend();
            List<Long> got = new ArrayList<>();
            for (Received<Long> v; (v = lc.receive()).ok(); ) { // Go's v, ok := <-ch
                got.add(v.value());
            }
            assertEquals(Arrays.asList(7L), got);
            assertTrue(lc.receive(0, TimeUnit.SECONDS).closed());

            sc.closeForSend();
            assertTrue(sc.receive(1, TimeUnit.SECONDS).closed());
        }
    }

    @Test
    @Timeout(60)
    void iterationEndsWhenClosedAndDrained() throws Exception {
        try (Channel<Integer> ch = new Channel<>(0)) {
            Goroutine<Void> producer = Goroutines.go(() -> {
                for (int i = 1; i <= 100; i++) {
                    ch.send(i);
                }
                ch.closeForSend();
                return null;
            });
            int sum = 0;
            for (int v : ch) {
                sum += v;
            }
            assertEquals(5050, sum);
            producer.join();
            Iterator<Integer> it = ch.iterator();
            assertFalse(it.hasNext());
            assertThrows(NoSuchElementException.class, it::next);
            List<Integer> none = new ArrayList<>();
            ch.forEach(none::add);
            assertTrue(none.isEmpty());
        }
    }

    /** Iterator methods cannot throw InterruptedException: the status is set again. */
    @Test
    @Timeout(60)
    void interruptedIterationThrowsCancellation() throws Exception {
        try (Channel<Integer> ch = new Channel<>(0)) {
            Thread.currentThread().interrupt();
            CancellationException e = assertThrows(CancellationException.class, () -> ch.iterator().hasNext());
            assertTrue(e.getCause() instanceof InterruptedException);
            assertTrue(Thread.interrupted(), "the interrupt status is set again");
        }
    }

    @Test
    void blockingQueueViewHasItsOwnRule() throws Exception {
        try (Channel<String> ch = new Channel<>(3)) {
            BlockingQueue<String> q = ch.asBlockingQueue();
            q.add("a");
            q.put("b");
            ch.closeForSend();
            assertThrows(ChannelClosedException.class, () -> q.add("x"));
            assertThrows(ChannelClosedException.class, () -> q.offer("x"));
            assertThrows(ChannelClosedException.class, () -> q.put("x"));
            assertThrows(ChannelClosedException.class, () -> q.offer("x", 1, TimeUnit.SECONDS));
            assertEquals("a", q.poll());
            List<String> rest = new ArrayList<>();
            assertEquals(1, q.drainTo(rest));
            assertEquals(Arrays.asList("b"), rest);
            assertNull(q.poll());                          // closed and drained: null, at once
            long t0 = System.nanoTime();
            assertNull(q.poll(10, TimeUnit.SECONDS));       // no 10 s wait for nothing
            assertTrue(Contexts.since(t0) < 5);
            assertEquals(0, q.drainTo(rest));
            assertThrows(NoSuchElementException.class, q::remove);
            assertThrows(ChannelClosedException.class, q::take); // cannot wait for what never comes
        }
    }
}
