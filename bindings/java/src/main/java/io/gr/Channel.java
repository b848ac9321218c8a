package io.gr;

import java.util.AbstractQueue;
import java.util.Collection;
import java.util.Iterator;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A Go channel of Java objects, usable from goroutines and from ordinary Java threads alike.
 *
 * <p>Each item in flight is held by a JNI global reference, released when it is received;
 * items still inside when the channel is freed are released then, so they can be collected.
 * {@code null} is rejected, as {@link BlockingQueue} does. Capacity 0 is unbuffered: a send
 * completes when a receiver takes the value.
 *
 * <p>Two different "closes":
 * <ul>
 *   <li>{@link #closeForSend()} is Go's {@code close(ch)}: no more sends; receivers drain
 *       what is left, then get {@link ChannelClosedException}.</li>
 *   <li>{@link #close()} (from {@link AutoCloseable}) <em>frees</em> this handle. Operations
 *       in flight finish first; later use throws {@link IllegalStateException}.</li>
 * </ul>
 *
 * <p>Blocking calls throw {@link InterruptedException} when the thread is interrupted; the
 * interrupted send did not happen and the interrupted receive took nothing.
 *
 * @param <T> the element type
 */
public final class Channel<T> extends ChannelHandle {
    static {
        Native.ensureLoaded();
    }

    /**
     * Creates a channel.
     *
     * @param capacity buffered items; 0 for an unbuffered (synchronous) channel
     */
    public Channel(int capacity) {
        super("channel", Status.pointer(Native.chanNew(checkCapacity(capacity), true), "gr_chan_new_with_drop"),
                capacity);
    }

    @Override
    int transfer(boolean send, long ch, Object item, long value, long ns, long token) {
        return send ? Native.chanSendObj(ch, item, ns, token) : Native.chanRecvObj(ch, (Object[]) item, ns, token);
    }

    private int sendNanos(T value, long ns) throws InterruptedException {
        Objects.requireNonNull(value, "channels do not carry null");
        return op(true, value, 0, ns);
    }

    /** Receives; puts the status into status[0]. */
    @SuppressWarnings("unchecked")
    private T recvNanos(long ns, int[] status) throws InterruptedException {
        Object[] out = Waiter.current().objOut;
        int rc = op(false, out, 0, ns);
        status[0] = rc;
        Object v = out[0];
        out[0] = null;
        return rc == Status.OK ? (T) v : null;
    }

    /** Receives, waiting at most {@code ns}; null if the time passed first. */
    private T take(long ns) throws InterruptedException {
        int[] st = new int[1];
        T v = recvNanos(ns, st);
        Status.timed(st[0], "recv");
        return v;
    }

    /**
     * Sends, waiting as long as needed.
     *
     * @param value the item (not null)
     * @throws ChannelClosedException if the channel is closed for sending
     * @throws InterruptedException if interrupted while waiting (the value was not sent)
     */
    public void send(T value) throws InterruptedException {
        Status.timed(sendNanos(value, Status.FOREVER), "send");
    }

    /**
     * Receives, waiting as long as needed.
     *
     * @return the item
     * @throws ChannelClosedException once the channel is closed and drained
     * @throws InterruptedException if interrupted while waiting (nothing was taken)
     */
    public T recv() throws InterruptedException {
        return take(Status.FOREVER);
    }

    /**
     * Sends only if that can happen without waiting.
     *
     * @param value the item (not null)
     * @return true if sent
     * @throws ChannelClosedException if the channel is closed for sending
     */
    public boolean trySend(T value) {
        try {
            return Status.timed(sendNanos(value, 0), "send");
        } catch (InterruptedException e) {
            throw new AssertionError(e); // a poll never waits
        }
    }

    /**
     * Receives only if an item is ready now.
     *
     * @return the item, or null if none is ready
     * @throws ChannelClosedException once the channel is closed and drained
     */
    public T tryRecv() {
        try {
            return take(0);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * Sends, waiting at most {@code timeout}.
     *
     * @param value the item (not null)
     * @param timeout how long to wait
     * @param unit the unit of {@code timeout}
     * @return true if sent, false if the time passed first
     * @throws ChannelClosedException if the channel is closed for sending
     * @throws InterruptedException if interrupted while waiting (the value was not sent)
     */
    public boolean offer(T value, long timeout, TimeUnit unit) throws InterruptedException {
        return Status.timed(sendNanos(value, Status.toNanos(timeout, unit)), "send");
    }

    /**
     * Receives, waiting at most {@code timeout}.
     *
     * @param timeout how long to wait
     * @param unit the unit of {@code timeout}
     * @return the item, or null if the time passed first
     * @throws ChannelClosedException once the channel is closed and drained
     * @throws InterruptedException if interrupted while waiting (nothing was taken)
     */
    public T poll(long timeout, TimeUnit unit) throws InterruptedException {
        return take(Status.toNanos(timeout, unit));
    }

    /**
     * Receives every item until the channel is closed and drained.
     *
     * @param action called with each item, on the calling thread
     * @throws InterruptedException if interrupted while waiting
     */
    public void forEach(Consumer<? super T> action) throws InterruptedException {
        Objects.requireNonNull(action, "action");
        int[] st = new int[1];
        for (;;) {
            T v = recvNanos(Status.FOREVER, st);
            if (st[0] == Status.ECLOSED) {
                return;
            }
            Status.timed(st[0], "recv");
            action.accept(v);
        }
    }

    /**
     * Items buffered now.
     *
     * @return the number of items waiting in the buffer
     */
    public int size() {
        return (int) call(Native::chanLen);
    }

    /**
     * Frees this handle (not Go's close: see {@link #closeForSend()}). Items still inside are
     * released. Operations in flight finish first.
     *
     * @throws IllegalStateException if it was already freed
     */
    @Override
    public void close() {
        super.close();
    }

    /**
     * A {@link BlockingQueue} view: {@code put}/{@code take} are {@link #send}/{@link #recv},
     * {@code offer}/{@code poll} map to {@link #trySend}/{@link #tryRecv} and their timed forms.
     * A channel cannot be inspected, so {@code peek} and {@code iterator} throw
     * {@link UnsupportedOperationException}. Operations on a channel closed for sending throw
     * {@link ChannelClosedException}, except {@code poll}, which returns null once drained.
     *
     * @return a view backed by this channel
     */
    public BlockingQueue<T> asBlockingQueue() {
        return new QueueView();
    }

    private final class QueueView extends AbstractQueue<T> implements BlockingQueue<T> {
        @Override
        public Iterator<T> iterator() {
            throw new UnsupportedOperationException("a channel cannot be iterated without receiving");
        }

        @Override
        public int size() {
            return Channel.this.size();
        }

        @Override
        public boolean offer(T t) {
            return trySend(t);
        }

        @Override
        public T poll() {
            try {
                return tryRecv();
            } catch (ChannelClosedException e) {
                return null;
            }
        }

        @Override
        public T peek() {
            throw new UnsupportedOperationException("a channel cannot be peeked");
        }

        @Override
        public void put(T t) throws InterruptedException {
            send(t);
        }

        @Override
        public boolean offer(T t, long timeout, TimeUnit unit) throws InterruptedException {
            return Channel.this.offer(t, timeout, unit);
        }

        @Override
        public T take() throws InterruptedException {
            return recv();
        }

        @Override
        public T poll(long timeout, TimeUnit unit) throws InterruptedException {
            try {
                return Channel.this.poll(timeout, unit);
            } catch (ChannelClosedException e) {
                return null;
            }
        }

        @Override
        public int remainingCapacity() {
            return Math.max(0, capacity() - Channel.this.size());
        }

        @Override
        public int drainTo(Collection<? super T> c) {
            return drainTo(c, Integer.MAX_VALUE);
        }

        @Override
        public int drainTo(Collection<? super T> c, int maxElements) {
            int n = 0;
            T v;
            while (n < maxElements && (v = poll()) != null) {
                c.add(v);
                n++;
            }
            return n;
        }
    }
}
