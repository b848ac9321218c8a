package io.gr;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
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
 *       what is left, then learn that it is closed.</li>
 *   <li>{@link #close()} (from {@link AutoCloseable}) <em>frees</em> this handle; calls
 *       blocked on it end with {@link IllegalStateException}, later use throws it.</li>
 * </ul>
 *
 * <p>How each kind of call reports "closed and drained" (see also {@link #asBlockingQueue()}):
 * <pre>{@code
 * T v = ch.recv();                       // throws ChannelClosedException
 * T v = ch.poll(1, SECONDS);             // null: nothing in time; ChannelClosedException: closed
 * Received<T> r = ch.receive();          // r.closed(): no exception
 * for (T v : ch) { ... }                 // the loop ends
 * }</pre>
 *
 * <p>Timeouts follow {@code java.util.concurrent}: {@code timeout <= 0} does not wait. Blocking
 * calls throw {@link InterruptedException} when the thread is interrupted; the interrupted
 * send did not happen and the interrupted receive took nothing.
 *
 * @param <T> the element type
 */
public final class Channel<T> extends ChannelHandle implements Iterable<T> {
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

    /** Receives into out[0]; returns the status. */
    private int recvNanos(long ns, Object[] out) throws InterruptedException {
        return op(false, out, 0, ns);
    }

    @SuppressWarnings("unchecked")
    private static <T> T take(Object[] out) {
        Object v = out[0];
        out[0] = null;
        return (T) v;
    }

    /** Go-shaped receive: the item, null if none in time; throws once closed and drained. */
    private T recvGo(long ns) throws InterruptedException {
        Object[] out = new Object[1];
        return received(recvNanos(ns, out)) ? take(out) : null;
    }

    /** Receive with "closed" as a result. */
    private Received<T> receiveNanos(long ns) throws InterruptedException {
        Object[] out = new Object[1];
        return result(recvNanos(ns, out), out);
    }

    private static <T> Received<T> result(int rc, Object[] out) {
        return receivedOrClosed(rc) ? Received.of(take(out)) : Received.notReceived(rc);
    }

    /**
     * Sends, waiting as long as needed.
     *
     * @param value the item (not null)
     * @throws ChannelClosedException if the channel is closed for sending
     * @throws InterruptedException if interrupted while waiting (the value was not sent)
     */
    public void send(T value) throws InterruptedException {
        sent(sendNanos(value, Status.FOREVER));
    }

    /**
     * Receives, waiting as long as needed.
     *
     * @return the item
     * @throws ChannelClosedException once the channel is closed and drained
     * @throws InterruptedException if interrupted while waiting (nothing was taken)
     */
    public T recv() throws InterruptedException {
        return recvGo(Status.FOREVER);
    }

    /**
     * Sends only if that can happen without waiting.
     *
     * @param value the item (not null)
     * @return true if sent, false if no receiver or room is ready
     * @throws ChannelClosedException if the channel is closed for sending
     */
    public boolean trySend(T value) {
        Objects.requireNonNull(value, "channels do not carry null");
        return sent(poll(true, value, 0));
    }

    /**
     * Receives only if an item is ready now.
     *
     * @return the item, or null if none is ready
     * @throws ChannelClosedException once the channel is closed and drained
     */
    public T tryRecv() {
        Object[] out = new Object[1];
        return received(poll(false, out, 0)) ? take(out) : null;
    }

    /**
     * Sends, waiting at most {@code timeout}.
     *
     * @param value the item (not null)
     * @param timeout how long to wait; {@code <= 0}: not at all
     * @param unit the unit of {@code timeout}
     * @return true if sent, false if the time passed first
     * @throws ChannelClosedException if the channel is closed for sending
     * @throws InterruptedException if interrupted while waiting (the value was not sent)
     */
    public boolean offer(T value, long timeout, TimeUnit unit) throws InterruptedException {
        return sent(sendNanos(value, Status.timeout(timeout, unit)));
    }

    /**
     * Receives, waiting at most {@code timeout}.
     *
     * @param timeout how long to wait; {@code <= 0}: not at all
     * @param unit the unit of {@code timeout}
     * @return the item, or null if the time passed first
     * @throws ChannelClosedException once the channel is closed and drained
     * @throws InterruptedException if interrupted while waiting (nothing was taken)
     */
    public T poll(long timeout, TimeUnit unit) throws InterruptedException {
        return recvGo(Status.timeout(timeout, unit));
    }

    /**
     * Receives, waiting as long as needed, and reports a closed channel as a result: Go's
     * {@code v, ok := <-ch}.
     *
     * @return the item ({@link Received#ok()}), or {@link Received#closed()} once the channel
     *     is closed and drained
     * @throws InterruptedException if interrupted while waiting (nothing was taken)
     */
    public Received<T> receive() throws InterruptedException {
        return receiveNanos(Status.FOREVER);
    }

    /**
     * Receives, waiting at most {@code timeout}, and reports a closed channel as a result.
     *
     * @param timeout how long to wait; {@code <= 0}: not at all
     * @param unit the unit of {@code timeout}
     * @return the item, {@link Received#closed()}, or {@link Received#timedOut()}
     * @throws InterruptedException if interrupted while waiting (nothing was taken)
     */
    public Received<T> receive(long timeout, TimeUnit unit) throws InterruptedException {
        return receiveNanos(Status.timeout(timeout, unit));
    }

    /**
     * Receives only if an item is ready now, and reports a closed channel as a result.
     *
     * @return the item, {@link Received#closed()}, or {@link Received#timedOut()} if the
     *     channel is open and nothing is ready
     */
    public Received<T> tryReceive() {
        Object[] out = new Object[1];
        return result(poll(false, out, 0), out);
    }

    /**
     * Receives every item until the channel is closed and drained: the same as iterating
     * with {@link #iterator()}.
     *
     * @param action called with each item, on the calling thread
     * @throws CancellationException if the thread is interrupted while waiting (its interrupt
     *     status is set again; no item was lost)
     */
    @Override
    public void forEach(Consumer<? super T> action) {
        Objects.requireNonNull(action, "action");
        for (T v : this) {
            action.accept(v);
        }
    }

    /**
     * Iterates by receiving: {@code hasNext()} waits for the next item and returns false once
     * the channel is closed and drained. Each item is received once, by whichever iterator
     * or receiver takes it. {@code remove()} is not supported.
     *
     * <p>{@code Iterator} methods cannot throw {@link InterruptedException}: if the thread is
     * interrupted while {@code hasNext()} waits, it sets the interrupt status again and throws
     * {@link CancellationException} (with the {@code InterruptedException} as its cause).
     *
     * @return an iterator that receives from this channel
     */
    @Override
    public Iterator<T> iterator() {
        return new Iterator<T>() {
            private final Object[] next = new Object[1];
            private boolean done;

            @Override
            public boolean hasNext() {
                if (next[0] != null) {
                    return true;
                }
                if (done) {
                    return false;
                }
                int rc;
                try {
                    rc = recvNanos(Status.FOREVER, next);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    CancellationException c = new CancellationException("interrupted while receiving");
                    c.initCause(e);
                    throw c;
                }
                if (!receivedOrClosed(rc)) {
                    done = true;
                    return false;
                }
                return true;
            }

            @Override
            public T next() {
                if (!hasNext()) {
                    throw new NoSuchElementException("channel closed and drained");
                }
                return take(next);
            }
        };
    }

    /**
     * A {@link BlockingQueue} view. {@code put}/{@code take} are {@link #send}/{@link #recv};
     * {@code offer}/{@code poll} are {@link #trySend}/{@link #tryRecv} and their timed forms,
     * with {@code timeout <= 0} meaning "do not wait", as the interface says.
     *
     * <p>A closed channel in this view: inserting ({@code add}, {@code offer}, {@code put})
     * throws {@link ChannelClosedException} (an {@link IllegalStateException}, as {@code add}
     * throws when it cannot insert); removing never does except {@code take}: {@code poll}
     * returns null at once when the channel is closed and drained, {@code drainTo} moves what
     * is left, and {@code take} throws {@link ChannelClosedException} instead of waiting for
     * an element that can never come.
     *
     * <p>A channel cannot be inspected without receiving: {@code peek}, {@code element},
     * {@code iterator} (and what is built on it: {@code contains}, {@code remove(Object)},
     * {@code toArray}) throw {@link UnsupportedOperationException}.
     *
     * @return a view backed by this channel
     */
    public BlockingQueue<T> asBlockingQueue() {
        return new ChannelQueue<>(this);
    }
}
