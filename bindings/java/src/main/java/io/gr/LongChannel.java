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
public final class LongChannel extends NativeResource {
    static {
        Native.ensureLoaded();
    }

    private final int capacity;

    /**
     * Creates a channel of longs.
     *
     * @param capacity buffered items; 0 for an unbuffered (synchronous) channel
     */
    public LongChannel(int capacity) {
        super(Status.pointer(Native.chanNew(Channel.checkCapacity(capacity), false), "gr_chan_new"),
                Native::chanRelease);
        this.capacity = capacity;
    }

    @Override
    void free(long ptr) {
        Native.chanRelease(ptr);
    }

    @Override
    String kind() {
        return "long channel";
    }

    private int sendNanos(long value, long ns) throws InterruptedException {
        long ch = acquire();
        try {
            if (ns == 0) {
                return Native.chanSendLong(ch, value, 0, 0);
            }
            Waiter w = Waiter.current();
            w.enter();
            int rc;
            try {
                rc = Native.chanSendLong(ch, value, ns, w.token);
            } finally {
                w.exit();
            }
            Waiter.interrupted(rc);
            return rc;
        } finally {
            release();
        }
    }

    /** Receives into out[0] (which may be the waiter's own longOut); returns the status. */
    private int recvNanos(long ns, long[] out) throws InterruptedException {
        long ch = acquire();
        try {
            Waiter w = Waiter.current();
            int rc;
            if (ns == 0) {
                rc = Native.chanRecvLong(ch, w.longOut, 0, 0);
            } else {
                w.enter();
                try {
                    rc = Native.chanRecvLong(ch, w.longOut, ns, w.token);
                } finally {
                    w.exit();
                }
                Waiter.interrupted(rc);
            }
            out[0] = w.longOut[0];
            return rc;
        } finally {
            release();
        }
    }

    private static void check(int rc, String op) {
        if (rc != Status.OK && rc != Status.ETIMEDOUT && rc != Status.EAGAIN) {
            throw Status.exception(rc, op);
        }
    }

    /**
     * Sends, waiting as long as needed.
     *
     * @param value the value
     * @throws ChannelClosedException if the channel is closed for sending
     * @throws InterruptedException if interrupted while waiting (the value was not sent)
     */
    public void send(long value) throws InterruptedException {
        check(sendNanos(value, Status.FOREVER), "send");
    }

    /**
     * Receives, waiting as long as needed.
     *
     * @return the value
     * @throws ChannelClosedException once the channel is closed and drained
     * @throws InterruptedException if interrupted while waiting (nothing was taken)
     */
    public long recv() throws InterruptedException {
        long[] out = Waiter.current().longOut; // this thread's; no allocation
        check(recvNanos(Status.FOREVER, out), "recv");
        return out[0];
    }

    /**
     * Sends only if that can happen without waiting.
     *
     * @param value the value
     * @return true if sent
     * @throws ChannelClosedException if the channel is closed for sending
     */
    public boolean trySend(long value) {
        try {
            int rc = sendNanos(value, 0);
            check(rc, "send");
            return rc == Status.OK;
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * Receives only if a value is ready now.
     *
     * @return the value, or empty if none is ready
     * @throws ChannelClosedException once the channel is closed and drained
     */
    public OptionalLong tryRecv() {
        try {
            long[] out = new long[1];
            int rc = recvNanos(0, out);
            check(rc, "recv");
            return rc == Status.OK ? OptionalLong.of(out[0]) : OptionalLong.empty();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * Sends, waiting at most {@code timeout}.
     *
     * @param value the value
     * @param timeout how long to wait
     * @param unit the unit of {@code timeout}
     * @return true if sent, false if the time passed first
     * @throws ChannelClosedException if the channel is closed for sending
     * @throws InterruptedException if interrupted while waiting (the value was not sent)
     */
    public boolean offer(long value, long timeout, TimeUnit unit) throws InterruptedException {
        int rc = sendNanos(value, Status.toNanos(timeout, unit));
        check(rc, "send");
        return rc == Status.OK;
    }

    /**
     * Receives, waiting at most {@code timeout}.
     *
     * @param timeout how long to wait
     * @param unit the unit of {@code timeout}
     * @return the value, or empty if the time passed first
     * @throws ChannelClosedException once the channel is closed and drained
     * @throws InterruptedException if interrupted while waiting (nothing was taken)
     */
    public OptionalLong poll(long timeout, TimeUnit unit) throws InterruptedException {
        long[] out = new long[1];
        int rc = recvNanos(Status.toNanos(timeout, unit), out);
        check(rc, "recv");
        return rc == Status.OK ? OptionalLong.of(out[0]) : OptionalLong.empty();
    }

    /**
     * Go's {@code close(ch)}: no more sends; receivers drain what is left, then get
     * {@link ChannelClosedException} (C receivers get {@code GR_ECLOSED}). Does not free.
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
     * Receives every value until the channel is closed and drained.
     *
     * @param action called with each value, on the calling thread
     * @throws InterruptedException if interrupted while waiting
     */
    public void forEach(LongConsumer action) throws InterruptedException {
        Objects.requireNonNull(action, "action");
        long[] out = new long[1];
        for (;;) {
            int rc = recvNanos(Status.FOREVER, out);
            if (rc == Status.ECLOSED) {
                return;
            }
            check(rc, "recv");
            action.accept(out[0]);
        }
    }

    /**
     * Values buffered now.
     *
     * @return the number of values waiting in the buffer
     */
    public int size() {
        long ch = acquire();
        try {
            return (int) Native.chanLen(ch);
        } finally {
            release();
        }
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
     * Takes a new native reference to the channel for C code: a {@code gr_chan *} of 8-byte
     * elements. The caller owns it and must call {@code gr_chan_release} on it once; it stays
     * valid even after this Java handle is closed.
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
     * Frees this handle (not Go's close: see {@link #closeForSend()}). The native channel
     * lives on while C code holds references from {@link #retainNative()}.
     *
     * @throws IllegalStateException if it was already freed
     */
    @Override
    public void close() {
        super.close();
    }
}
