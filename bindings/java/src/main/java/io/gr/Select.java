package io.gr;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Go's {@code select}: wait until one of several channel operations can proceed, then do
 * exactly that one. Ready cases are chosen uniformly at random.
 *
 * <pre>{@code
 * Select s = new Select();
 * Select.Recv<String> fromA = s.recv(a);
 * Select.RecvLong fromB = s.recv(b);
 * Select.Send toC = s.send(c, 42L);
 * Select.Case k = s.select();
 * if (k == fromA && fromA.ok()) use(fromA.value());      // a String, no cast
 * else if (k == fromB && fromB.ok()) use(fromB.value()); // a long
 * }</pre>
 *
 * <p>Each {@code recv}/{@code send} returns its case, typed by what it carries. After a
 * selection the chosen case says whether it completed ({@link Case#ok()}: false if its
 * channel was closed) and, for a receive, what it got ({@link Recv#value()},
 * {@link RecvLong#value()}). A Select may be run again; it holds no native memory of its own.
 * Not thread-safe. Timeouts follow {@code java.util.concurrent}: {@code timeout <= 0} does not
 * wait. Closing (freeing) a case's channel while a selection waits ends it with
 * {@link IllegalStateException}.
 */
public final class Select {
    static {
        Native.ensureLoaded();
    }

    private static final int SEND_LONG = 0;
    private static final int RECV_LONG = 1;
    private static final int SEND_OBJ = 2;
    private static final int RECV_OBJ = 3;

    private final List<Case> cases = new ArrayList<>();
    private Case chosen;

    /** One case of a select. */
    public abstract static class Case {
        private final Select owner;
        private final int index;
        final ChannelHandle ch;
        final int kind;
        boolean ok;

        Case(Select owner, ChannelHandle ch, int kind) {
            this.owner = owner;
            this.index = owner.cases.size();
            this.ch = ch;
            this.kind = kind;
        }

        /**
         * The case's position, in the order cases were added (from 0).
         *
         * @return the index
         */
        public int index() {
            return index;
        }

        /**
         * Whether this case was chosen by the last selection and completed normally.
         *
         * @return true if it sent or received; false if its channel was closed
         * @throws IllegalStateException if the last selection chose another case, or none
         */
        public boolean ok() {
            checkChosen();
            return ok;
        }

        void checkChosen() {
            if (owner.chosen != this) {
                throw new IllegalStateException("case " + index + " was not chosen by the last selection");
            }
        }
    }

    /**
     * A receive case on a {@link Channel}.
     *
     * @param <T> the element type
     */
    public static final class Recv<T> extends Case {
        T value;

        Recv(Select owner, Channel<T> ch) {
            super(owner, ch, RECV_OBJ);
        }

        /**
         * What this case received when chosen.
         *
         * @return the item, or null if the channel was closed
         * @throws IllegalStateException if the last selection chose another case, or none
         */
        public T value() {
            checkChosen();
            return value;
        }
    }

    /** A receive case on a {@link LongChannel}. */
    public static final class RecvLong extends Case {
        long value;

        RecvLong(Select owner, LongChannel ch) {
            super(owner, ch, RECV_LONG);
        }

        /**
         * What this case received when chosen.
         *
         * @return the value (0 if the channel was closed)
         * @throws IllegalStateException if the last selection chose another case, or none
         */
        public long value() {
            checkChosen();
            return value;
        }
    }

    /** A send case; the value is fixed when the case is added. */
    public static final class Send extends Case {
        final Object obj;
        final long lv;

        Send(Select owner, ChannelHandle ch, int kind, Object obj, long lv) {
            super(owner, ch, kind);
            this.obj = obj;
            this.lv = lv;
        }
    }

    /** Creates an empty select. */
    public Select() {}

    private <C extends Case> C add(C c) {
        cases.add(c);
        return c;
    }

    /**
     * Adds a receive case.
     *
     * @param ch the channel
     * @param <T> the element type
     * @return the case
     */
    public <T> Recv<T> recv(Channel<T> ch) {
        return add(new Recv<>(this, Objects.requireNonNull(ch, "channel")));
    }

    /**
     * Adds a receive case.
     *
     * @param ch the channel
     * @return the case
     */
    public RecvLong recv(LongChannel ch) {
        return add(new RecvLong(this, Objects.requireNonNull(ch, "channel")));
    }

    /**
     * Adds a send case.
     *
     * @param ch the channel
     * @param value the value to send if this case is chosen (not null)
     * @param <T> the element type
     * @return the case
     */
    public <T> Send send(Channel<T> ch, T value) {
        Objects.requireNonNull(value, "channels do not carry null");
        return add(new Send(this, Objects.requireNonNull(ch, "channel"), SEND_OBJ, value, 0));
    }

    /**
     * Adds a send case.
     *
     * @param ch the channel
     * @param value the value to send if this case is chosen
     * @return the case
     */
    public Send send(LongChannel ch, long value) {
        return add(new Send(this, Objects.requireNonNull(ch, "channel"), SEND_LONG, null, value));
    }

    /**
     * Waits as long as needed until one case proceeds.
     *
     * @return the chosen case
     * @throws InterruptedException if interrupted while waiting (no case happened)
     */
    public Case select() throws InterruptedException {
        return run(Status.FOREVER, true);
    }

    /**
     * Waits at most {@code timeout} for one case to proceed.
     *
     * @param timeout how long to wait; {@code <= 0}: not at all
     * @param unit the unit of {@code timeout}
     * @return the chosen case, or null if the time passed first
     * @throws InterruptedException if interrupted while waiting (no case happened)
     */
    public Case select(long timeout, TimeUnit unit) throws InterruptedException {
        return run(Status.timeout(timeout, unit), true);
    }

    /**
     * Proceeds with a case that is ready now (Go's {@code default}).
     *
     * @return the chosen case, or null if none is ready
     */
    public Case trySelect() {
        try {
            return run(0, false);
        } catch (InterruptedException e) {
            throw new AssertionError(e); // a poll never waits
        }
    }

    /** What a waiting selection waits on: each case's channel. */
    private final class Target implements Waiter.Target {
        @Override
        public boolean abandoned() {
            for (Case c : cases) {
                if (c.ch.isClosed()) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public boolean involves(NativeResource r) {
            for (Case c : cases) {
                if (c.ch == r) {
                    return true;
                }
            }
            return false;
        }
    }

    private Case run(long ns, boolean interruptible) throws InterruptedException {
        if (interruptible && ns == 0 && Thread.interrupted()) {
            throw new InterruptedException();
        }
        int n = cases.size();
        if (n == 0) {
            throw new IllegalStateException("select with no cases");
        }
        chosen = null;
        for (Case c : cases) {
            if (c instanceof Recv) {
                ((Recv<?>) c).value = null; // hold no item from an earlier selection
            }
        }
        long[] ptrs = new long[n];
        int[] kinds = new int[n];
        long[] longs = new long[n];
        Object[] objs = new Object[n];
        int[] statuses = new int[n];
        int acquired = 0;
        int rc;
        try {
            for (int i = 0; i < n; i++) {
                Case c = cases.get(i);
                ptrs[i] = c.ch.acquire();
                acquired++;
                kinds[i] = c.kind;
                if (c instanceof Send) {
                    objs[i] = ((Send) c).obj;
                    longs[i] = ((Send) c).lv;
                }
            }
            if (ns == 0) {
                rc = Native.select(ptrs, kinds, longs, objs, statuses, 0, 0);
            } else {
                rc = Waiter.await(new Target(),
                        (left, token) -> Native.select(ptrs, kinds, longs, objs, statuses, left, token), ns);
            }
        } finally {
            for (int i = 0; i < acquired; i++) {
                cases.get(i).ch.release();
            }
        }
        if (rc == Waiter.ABANDONED) {
            for (Case c : cases) {
                if (c.ch.isClosed()) {
                    throw c.ch.closedWhileWaiting();
                }
            }
            throw new IllegalStateException("select: a channel was closed while it waited");
        }
        if (rc == Status.ETIMEDOUT || rc == Status.EAGAIN) {
            return null;
        }
        if (rc < 0) {
            throw Status.exception(rc, "select");
        }
        Case c = cases.get(rc);
        c.ok = statuses[rc] == Status.OK;
        if (c instanceof Recv) {
            setValue((Recv<?>) c, c.ok ? objs[rc] : null);
        } else if (c instanceof RecvLong) {
            ((RecvLong) c).value = c.ok ? longs[rc] : 0;
        }
        chosen = c;
        return c;
    }

    @SuppressWarnings("unchecked")
    private static <T> void setValue(Recv<T> c, Object v) {
        c.value = (T) v;
    }
}
