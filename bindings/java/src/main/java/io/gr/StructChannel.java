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
public final class StructChannel extends NativeResource {
    static {
        Native.ensureLoaded();
    }

    private final int elemSize;
    private final int capacity;

    /**
     * Creates a channel of raw elements.
     *
     * @param elemSize bytes per element, at least 1 (C's {@code sizeof} of the struct)
     * @param capacity buffered elements; 0 for an unbuffered (synchronous) channel
     */
    public StructChannel(int elemSize, int capacity) {
        super(Status.pointer(Native.chanNewRaw(checkSize(elemSize), Channel.checkCapacity(capacity)),
                "gr_chan_new"), Native::chanRelease);
        this.elemSize = elemSize;
        this.capacity = capacity;
    }

    private static int checkSize(int elemSize) {
        if (elemSize < 1) {
            throw new IllegalArgumentException("element size must be at least 1");
        }
        return elemSize;
    }

    @Override
    void free(long ptr) {
        Native.chanRelease(ptr);
    }

    @Override
    String kind() {
        return "struct channel";
    }

    private void checkLength(byte[] b) {
        Objects.requireNonNull(b, "element");
        if (b.length != elemSize) {
            throw new IllegalArgumentException("element is " + b.length + " bytes, channel carries " + elemSize);
        }
    }

    private int op(boolean send, byte[] b, long ns) throws InterruptedException {
        checkLength(b);
        long ch = acquire();
        try {
            if (ns == 0) {
                return send ? Native.chanSendRaw(ch, b, 0, 0) : Native.chanRecvRaw(ch, b, 0, 0);
            }
            Waiter w = Waiter.current();
            w.enter();
            int rc;
            try {
                rc = send ? Native.chanSendRaw(ch, b, ns, w.token) : Native.chanRecvRaw(ch, b, ns, w.token);
            } finally {
                w.exit();
            }
            Waiter.interrupted(rc);
            return rc;
        } finally {
            release();
        }
    }

    private static boolean check(int rc, String what) {
        if (rc != Status.OK && rc != Status.ETIMEDOUT && rc != Status.EAGAIN) {
            throw Status.exception(rc, what);
        }
        return rc == Status.OK;
    }

    /**
     * Sends a copy of {@code elem}, waiting as long as needed.
     *
     * @param elem exactly {@link #elemSize()} bytes
     * @throws ChannelClosedException if the channel is closed for sending
     * @throws InterruptedException if interrupted while waiting (nothing was sent)
     */
    public void send(byte[] elem) throws InterruptedException {
        check(op(true, elem, Status.FOREVER), "send");
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
        check(op(false, b, Status.FOREVER), "recv");
        return b;
    }

    /**
     * Receives an element into {@code into}, waiting at most {@code timeout}.
     *
     * @param into exactly {@link #elemSize()} bytes, overwritten on success
     * @param timeout how long to wait; 0 only polls
     * @param unit the unit of {@code timeout}
     * @return true if an element was received, false if the time passed first
     * @throws ChannelClosedException once the channel is closed and drained
     * @throws InterruptedException if interrupted while waiting (nothing was taken)
     */
    public boolean poll(byte[] into, long timeout, TimeUnit unit) throws InterruptedException {
        return check(op(false, into, Status.toNanos(timeout, unit)), "recv");
    }

    /**
     * Sends a copy of {@code elem}, waiting at most {@code timeout}.
     *
     * @param elem exactly {@link #elemSize()} bytes
     * @param timeout how long to wait; 0 only polls
     * @param unit the unit of {@code timeout}
     * @return true if sent, false if the time passed first
     * @throws ChannelClosedException if the channel is closed for sending
     * @throws InterruptedException if interrupted while waiting (nothing was sent)
     */
    public boolean offer(byte[] elem, long timeout, TimeUnit unit) throws InterruptedException {
        return check(op(true, elem, Status.toNanos(timeout, unit)), "send");
    }

    /**
     * Go's {@code close(ch)}: no more sends. Does not free.
     *
     * @throws ChannelClosedException if it was already closed for sending
     */
    public void closeForSend() {
        long ch = acquire();
        try {
            Status.check(Native.chanClose(ch), "closeForSend");
        } finally {
            release();
        }
    }

    /**
     * Receives every element until the channel is closed and drained.
     *
     * @param action called with each element (a new array), on the calling thread
     * @throws InterruptedException if interrupted while waiting
     */
    public void forEach(Consumer<byte[]> action) throws InterruptedException {
        Objects.requireNonNull(action, "action");
        for (;;) {
            byte[] b = new byte[elemSize];
            int rc = op(false, b, Status.FOREVER);
            if (rc == Status.ECLOSED) {
                return;
            }
            check(rc, "recv");
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
     * The buffer capacity given at creation.
     *
     * @return the capacity (0: unbuffered)
     */
    public int capacity() {
        return capacity;
    }

    /**
     * Takes a new native reference for C code: a {@code gr_chan *} whose elements are
     * {@link #elemSize()} bytes. The caller must {@code gr_chan_release} it once.
     *
     * @return the {@code gr_chan *} as a long
     * @throws IllegalStateException if this handle was closed
     */
    public long retainNative() {
        long ch = acquire();
        try {
            return Native.chanRetain(ch);
        } finally {
            release();
        }
    }

    /**
     * Frees this handle (not Go's close: see {@link #closeForSend()}).
     *
     * @throws IllegalStateException if it was already freed
     */
    @Override
    public void close() {
        super.close();
    }
}
