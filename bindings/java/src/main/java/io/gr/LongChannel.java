package io.gr;

import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

/**
 * A Go channel of raw 64-bit values ({@code int64_t} elements of 8 bytes), shared with C
 * goroutines through its native handle ({@link #retainNative()}). Java sends and C receives,
 * or the other way round, with no copying beyond the 8 bytes.
 *
 * <p>As with {@link Channel}: {@link #closeForSend()} is Go's close, while {@link #close()}
 * frees this Java handle. The native channel itself lives until its last reference is
 * released, so C code holding a reference from {@link #retainNative()} keeps it valid.
 */
public final class LongChannel extends ChannelHandle {
    static {
        Native.ensureLoaded();
    }

    /**
     * Creates a channel of longs.
     *
     * @param capacity buffered items; 0 for an unbuffered (synchronous) channel
     */
    public LongChannel(int capacity) {
        super("long channel", Status.pointer(Native.chanNew(checkCapacity(capacity), false), "gr_chan_new"),
                capacity);
    }

    /** A channel gr made (a timer's, a context's done channel): this handle owns one reference. */
    LongChannel(String kind, long ch) {
        super(kind, ch, 0);
    }

    @Override
    int transfer(boolean send, long ch, Object item, long value, long ns, long token) {
        return send ? Native.chanSendLong(ch, value, ns, token) : Native.chanRecvLong(ch, (long[]) item, ns, token);
    }

    private int sendNanos(long value, long ns) throws InterruptedException {
        return op(true, null, value, ns);
    }

    /** Receives into out[0]; returns the status. */
    private int recvNanos(long ns, long[] out) throws InterruptedException {
        return op(false, out, 0, ns);
    }

    /** Go-shaped receive: the value, empty if none in time; throws once closed and drained. */
    private OptionalLong recvGo(long ns) throws InterruptedException {
        long[] out = new long[1];
        return received(recvNanos(ns, out)) ? OptionalLong.of(out[0]) : OptionalLong.empty();
    }

    /** Receive with "closed" as a result. */
    private Received<Long> receiveNanos(long ns) throws InterruptedException {
        long[] out = new long[1];
        int rc = recvNanos(ns, out);
        return receivedOrClosed(rc) ? Received.of(out[0]) : Received.notReceived(rc);
    }

    /**
     * Sends, waiting as long as needed.
     *
     * @param value the value
     * @throws ChannelClosedException if the channel is closed for sending
     * @throws InterruptedException if interrupted while waiting (the value was not sent)
     */
    public void send(long value) throws InterruptedException {
        sent(sendNanos(value, Status.FOREVER));
    }

    /**
     * Receives, waiting as long as needed.
     *
     * @return the value
     * @throws ChannelClosedException once the channel is closed and drained
     * @throws InterruptedException if interrupted while waiting (nothing was taken)
     */
    public long recv() throws InterruptedException {
        long[] out = Waiter.current().longOut; // this thread's: one call at a time
        received(recvNanos(Status.FOREVER, out));
        return out[0];
    }

    /**
     * Sends only if that can happen without waiting.
     *
     * @param value the value
     * @return true if sent, false if no receiver or room is ready
     * @throws ChannelClosedException if the channel is closed for sending
     */
    public boolean trySend(long value) {
        return sent(poll(true, null, value));
    }

    /**
     * Receives only if a value is ready now.
     *
     * @return the value, or empty if none is ready
     * @throws ChannelClosedException once the channel is closed and drained
     */
    public OptionalLong tryRecv() {
        long[] out = new long[1];
        return received(poll(false, out, 0)) ? OptionalLong.of(out[0]) : OptionalLong.empty();
    }

    /**
     * Sends, waiting at most {@code timeout}.
     *
     * @param value the value
     * @param timeout how long to wait; {@code <= 0}: not at all
     * @param unit the unit of {@code timeout}
     * @return true if sent, false if the time passed first
     * @throws ChannelClosedException if the channel is closed for sending
     * @throws InterruptedException if interrupted while waiting (the value was not sent)
     */
    public boolean offer(long value, long timeout, TimeUnit unit) throws InterruptedException {
        return sent(sendNanos(value, Status.timeout(timeout, unit)));
    }

    /**
     * Receives, waiting at most {@code timeout}.
     *
     * @param timeout how long to wait; {@code <= 0}: not at all
     * @param unit the unit of {@code timeout}
     * @return the value, or empty if the time passed first
     * @throws ChannelClosedException once the channel is closed and drained
     * @throws InterruptedException if interrupted while waiting (nothing was taken)
     */
    public OptionalLong poll(long timeout, TimeUnit unit) throws InterruptedException {
        return recvGo(Status.timeout(timeout, unit));
    }

    /**
     * Receives, waiting as long as needed, and reports a closed channel as a result: Go's
     * {@code v, ok := <-ch}.
     *
     * @return the value, or {@link Received#closed()} once the channel is closed and drained
     * @throws InterruptedException if interrupted while waiting (nothing was taken)
     */
    public Received<Long> receive() throws InterruptedException {
        return receiveNanos(Status.FOREVER);
    }

    /**
     * Receives, waiting at most {@code timeout}, and reports a closed channel as a result.
     *
     * @param timeout how long to wait; {@code <= 0}: not at all
     * @param unit the unit of {@code timeout}
     * @return the value, {@link Received#closed()}, or {@link Received#timedOut()}
     * @throws InterruptedException if interrupted while waiting (nothing was taken)
     */
    public Received<Long> receive(long timeout, TimeUnit unit) throws InterruptedException {
        return receiveNanos(Status.timeout(timeout, unit));
    }

    /**
     * Receives every value until the channel is closed and drained.
     *
     * @param action called with each value, on the calling thread
     * @throws InterruptedException if interrupted while waiting (no value was lost)
     */
    public void forEach(LongConsumer action) throws InterruptedException {
        Objects.requireNonNull(action, "action");
        long[] out = new long[1];
        while (receivedOrClosed(recvNanos(Status.FOREVER, out))) {
            action.accept(out[0]);
        }
    }

    /**
     * Takes a new native reference to the channel for C code: a {@code gr_chan *} of 8-byte
     * elements. The caller owns it and must call {@code gr_chan_release} on it once; it stays
     * valid even after this Java handle is closed.
     *
     * @return the {@code gr_chan *} as a long
     * @throws IllegalStateException if this handle was closed
     */
    public long retainNative() {
        return call(Native::chanRetain);
    }

    /**
     * Frees this handle (not Go's close: see {@link #closeForSend()}); calls blocked on it end
     * with {@link IllegalStateException}. The native channel lives on while C code holds
     * references from {@link #retainNative()}. Closing again does nothing.
     */
    @Override
    public void close() {
        super.close();
    }
}
