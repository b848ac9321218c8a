package io.gr;

import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A Go channel of fixed-size raw elements ({@code elemSize} bytes each), shared with C
 * goroutines through its native handle: a C struct on the C side, a {@code byte[]} of exactly
 * {@code elemSize} bytes on the Java side (read it with {@link java.nio.ByteBuffer#wrap} and
 * {@link java.nio.ByteOrder#nativeOrder()}).
 *
 * <p>As with {@link Channel}: {@link #closeForSend()} is Go's close, {@link #close()} frees
 * this Java handle, and C code holding a reference from {@link #retainNative()} keeps the
 * native channel alive.
 */
public final class StructChannel extends ChannelHandle {
    static {
        Native.ensureLoaded();
    }

    private final int elemSize;

    /**
     * Creates a channel of raw elements.
     *
     * @param elemSize bytes per element, at least 1 (C's {@code sizeof} of the struct)
     * @param capacity buffered elements; 0 for an unbuffered (synchronous) channel
     */
    public StructChannel(int elemSize, int capacity) {
        super("struct channel", Status.pointer(Native.chanNewRaw(checkSize(elemSize), checkCapacity(capacity)),
                "gr_chan_new"), capacity);
        this.elemSize = elemSize;
    }

    private static int checkSize(int elemSize) {
        if (elemSize < 1) {
            throw new IllegalArgumentException("element size must be at least 1");
        }
        return elemSize;
    }

    private void checkLength(byte[] b) {
        Objects.requireNonNull(b, "element");
        if (b.length != elemSize) {
            throw new IllegalArgumentException("element is " + b.length + " bytes, channel carries " + elemSize);
        }
    }

    @Override
    int transfer(boolean send, long ch, Object item, long value, long ns, long token) {
        byte[] b = (byte[]) item;
        return send ? Native.chanSendRaw(ch, b, ns, token) : Native.chanRecvRaw(ch, b, ns, token);
    }

    private int op(boolean send, byte[] b, long ns) throws InterruptedException {
        checkLength(b);
        return op(send, b, 0, ns);
    }

    /**
     * Sends a copy of {@code elem}, waiting as long as needed.
     *
     * @param elem exactly {@link #elemSize()} bytes
     * @throws ChannelClosedException if the channel is closed for sending
     * @throws InterruptedException if interrupted while waiting (nothing was sent)
     */
    public void send(byte[] elem) throws InterruptedException {
        sent(op(true, elem, Status.FOREVER));
    }

    /**
     * Receives an element, waiting as long as needed.
     *
     * @return a new array of {@link #elemSize()} bytes
     * @throws ChannelClosedException once the channel is closed and drained
     * @throws InterruptedException if interrupted while waiting (nothing was taken)
     */
    public byte[] recv() throws InterruptedException {
        byte[] b = new byte[elemSize];
        received(op(false, b, Status.FOREVER));
        return b;
    }

    /**
     * Receives an element, waiting at most {@code timeout}, and reports a closed channel as a
     * result: Go's {@code v, ok := <-ch}.
     *
     * @param timeout how long to wait; {@code <= 0}: not at all
     * @param unit the unit of {@code timeout}
     * @return a new array of {@link #elemSize()} bytes, {@link Received#closed()}, or
     *     {@link Received#timedOut()}
     * @throws InterruptedException if interrupted while waiting (nothing was taken)
     */
    public Received<byte[]> receive(long timeout, TimeUnit unit) throws InterruptedException {
        byte[] b = new byte[elemSize];
        int rc = op(false, b, Status.timeout(timeout, unit));
        return receivedOrClosed(rc) ? Received.of(b) : Received.notReceived(rc);
    }

    /**
     * Receives an element into {@code into}, waiting at most {@code timeout}.
     *
     * @param into exactly {@link #elemSize()} bytes, overwritten on success
     * @param timeout how long to wait; {@code <= 0}: not at all
     * @param unit the unit of {@code timeout}
     * @return true if an element was received, false if the time passed first
     * @throws ChannelClosedException once the channel is closed and drained
     * @throws InterruptedException if interrupted while waiting (nothing was taken)
     */
    public boolean poll(byte[] into, long timeout, TimeUnit unit) throws InterruptedException {
        return received(op(false, into, Status.timeout(timeout, unit)));
    }

    /**
     * Sends a copy of {@code elem}, waiting at most {@code timeout}.
     *
     * @param elem exactly {@link #elemSize()} bytes
     * @param timeout how long to wait; {@code <= 0}: not at all
     * @param unit the unit of {@code timeout}
     * @return true if sent, false if the time passed first
     * @throws ChannelClosedException if the channel is closed for sending
     * @throws InterruptedException if interrupted while waiting (nothing was sent)
     */
    public boolean offer(byte[] elem, long timeout, TimeUnit unit) throws InterruptedException {
        return sent(op(true, elem, Status.timeout(timeout, unit)));
    }

    /**
     * Receives every element until the channel is closed and drained.
     *
     * @param action called with each element (a new array), on the calling thread
     * @throws InterruptedException if interrupted while waiting (no element was lost)
     */
    public void forEach(Consumer<byte[]> action) throws InterruptedException {
        Objects.requireNonNull(action, "action");
        for (;;) {
            byte[] b = new byte[elemSize];
            if (!receivedOrClosed(op(false, b, Status.FOREVER))) {
                return;
            }
            action.accept(b);
        }
    }

    /**
     * Bytes per element.
     *
     * @return the element size given at creation
     */
    public int elemSize() {
        return elemSize;
    }

    /**
     * Takes a new native reference for C code: a {@code gr_chan *} whose elements are
     * {@link #elemSize()} bytes. The caller must {@code gr_chan_release} it once.
     *
     * @return the {@code gr_chan *} as a long
     * @throws IllegalStateException if this handle was closed
     */
    public long retainNative() {
        return call(Native::chanRetain);
    }

    /**
     * Frees this handle (not Go's close: see {@link #closeForSend()}); calls blocked on it end
     * with {@link IllegalStateException}. Closing again does nothing.
     */
    @Override
    public void close() {
        super.close();
    }
}
