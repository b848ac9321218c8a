package io.gr;

/**
 * What {@link Channel}, {@link LongChannel} and {@link StructChannel} share: a {@code gr_chan *},
 * its capacity, Go's close, and the one send/receive path with the interrupt protocol of
 * {@link Waiter}.
 */
abstract class ChannelHandle extends NativeResource {
    private final int capacity;

    ChannelHandle(String kind, long ch, int capacity) {
        super(kind, ch, Native::chanRelease);
        this.capacity = capacity;
    }

    static int checkCapacity(int capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("negative capacity");
        }
        return capacity;
    }

    /**
     * The native send or receive of one element: {@code item} (an object, or the array that
     * carries or receives the element) or {@code value} (a long to send), as the subclass needs.
     */
    abstract int transfer(boolean send, long ch, Object item, long value, long ns, long token);

    /** Sends or receives, waiting at most {@code ns} (0: polls, never waits); returns the status. */
    final int op(boolean send, Object item, long value, long ns) throws InterruptedException {
        long ch = acquire();
        try {
            if (ns == 0) {
                return transfer(send, ch, item, value, 0, 0);
            }
            Waiter w = Waiter.current();
            w.enter();
            int rc;
            try {
                rc = transfer(send, ch, item, value, ns, w.token);
            } finally {
                w.exit();
            }
            Waiter.interrupted(rc);
            return rc;
        } finally {
            release();
        }
    }

    /**
     * Go's {@code close(ch)}: no more sends. Receivers drain the elements left, then get
     * {@link ChannelClosedException} (C receivers get {@code GR_ECLOSED}). This does
     * <em>not</em> free the handle; see {@link #close()}.
     *
     * @throws ChannelClosedException if it was already closed for sending
     */
    public void closeForSend() {
        Status.check((int) call(Native::chanClose), "closeForSend");
    }

    /**
     * The buffer capacity given at creation.
     *
     * @return the capacity (0: unbuffered)
     */
    public int capacity() {
        return capacity;
    }
}
