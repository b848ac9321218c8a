package io.gr;

/**
 * What {@link Channel}, {@link LongChannel} and {@link StructChannel} share: a {@code gr_chan *},
 * its capacity, Go's close, the one send/receive path with the protocol of {@link Waiter},
 * and the rules for a closed channel.
 *
 * <p>Closed versus empty, one rule per API shape:
 * <ul>
 *   <li>Go-shaped calls ({@code send}, {@code recv}, {@code trySend}, {@code tryRecv},
 *       {@code offer}, {@code poll}): a send on a closed channel and a receive from a closed,
 *       drained one throw {@link ChannelClosedException}; an open channel with nothing to
 *       take (or no room) gives null, empty or false.</li>
 *   <li>{@code receive} calls ({@link Received}): "closed" is a result, never an exception.</li>
 *   <li>Iteration ({@code forEach}, {@link Channel#iterator()}): ends when closed and drained.</li>
 *   <li>The {@link java.util.concurrent.BlockingQueue} view of {@link Channel}: see
 *       {@link Channel#asBlockingQueue()}.</li>
 * </ul>
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

    /**
     * Sends or receives, waiting at most {@code ns} ({@link Status#FOREVER}: no limit; 0: polls,
     * never waits); returns the gr status. Throws {@link InterruptedException} if the thread
     * is interrupted on entry (also when {@code ns} is 0, as {@code BlockingQueue}'s timed
     * calls do) or while it waits.
     *
     * @throws IllegalStateException if the handle is (or gets, while this waits) closed
     */
    final int op(boolean send, Object item, long value, long ns) throws InterruptedException {
        if (ns == 0) {
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            return poll(send, item, value);
        }
        Waiter w = Waiter.current();
        Transfer t = w.transfer;
        long ch = hazardAcquire(t); // no shared write: see NativeResource, "Hazard operations"
        t.set(this, send, ch, item, value);
        try {
            int rc = w.spinThenWait(this, t, ns);
            if (rc == Waiter.ABANDONED) {
                throw closedWhileWaiting();
            }
            return rc;
        } finally {
            t.clear();
            hazardRelease(t);
        }
    }

    @Override
    final boolean hazardUsers() {
        return true;
    }

    /**
     * One blocking send or receive as a {@link Waiter.Op}: kept by each thread's waiter and
     * reused, since a thread blocks in one call at a time (no allocation per call).
     */
    /**
     * A thread's channel transfer (one at a time: its {@link Waiter}'s), and its hazard slot:
     * {@link #inUse} names the handle its current blocking operation uses
     * ({@link NativeResource#hazardAcquire}), read by frees on other threads.
     */
    static final class Transfer extends TransferPad implements Waiter.Op {
        volatile NativeResource inUse;
        private ChannelHandle h;
        private boolean send;
        private long ch;
        private Object item;
        private long value;

        Transfer set(ChannelHandle h, boolean send, long ch, Object item, long value) {
            this.h = h;
            this.send = send;
            this.ch = ch;
            this.item = item;
            this.value = value;
            return this;
        }

        void clear() {
            h = null;
            item = null;
        }

        @Override
        public int call(long ns, long token) {
            return h.transfer(send, ch, item, value, ns, token);
        }
    }

    /** A Go-shaped send's status: true if sent, false if no room in time; throws if closed. */
    static boolean sent(int status) {
        return Status.timed(status, "send");
    }

    /** A Go-shaped receive's status: true if received, false if nothing in time; throws if closed and drained. */
    static boolean received(int status) {
        return Status.timed(status, "recv");
    }

    /** A {@code receive} call's status: true if received; false if closed or nothing in time. */
    static boolean receivedOrClosed(int status) {
        return status == Status.ECLOSED ? false : Status.timed(status, "recv");
    }

    /** A poll (timeout 0) for the untimed {@code try} calls: never waits, ignores interrupts. */
    final int poll(boolean send, Object item, long value) {
        long ch = acquire();
        try {
            return transfer(send, ch, item, value, 0, 0);
        } finally {
            release();
        }
    }

    /**
     * Go's {@code close(ch)}: no more sends. Receivers drain the elements left, then are told
     * the channel is closed ({@link ChannelClosedException}, a closed {@link Received}, or the
     * end of an iteration; C receivers get {@code GR_ECLOSED}). This does <em>not</em> free
     * the handle; see {@link #close()}.
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

    /**
     * Elements buffered now.
     *
     * @return the number of elements waiting in the buffer
     */
    public int size() {
        return (int) call(Native::chanLen);
    }

    /**
     * Frees this handle (not Go's close: see {@link #closeForSend()}). A thread blocked in a
     * send or receive on this handle ends with {@link IllegalStateException}: a value it was
     * sending stays with the sender, a receive takes nothing. Elements still buffered are
     * released with the channel. Closing again does nothing.
     */
    @Override
    public void close() {
        super.close();
    }
}

/**
 * Padding before {@link ChannelHandle.Transfer#inUse} (a superclass's fields are laid out first): the
 * slot is written at every transfer by its thread, and an object of another thread's next to
 * it (after a GC moved them) would share its line.
 */
abstract class TransferPad {
    @SuppressWarnings("unused")
    private long p0, p1, p2, p3, p4, p5, p6, p7;
}
