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
 * int fromA = s.recv(a);
 * int toB = s.send(b, 42L);
 * int k = s.select();
 * if (k == fromA && s.ok(k)) use(s.value(k));
 * }</pre>
 *
 * <p>Cases are numbered in the order they are added. After a selection, {@link #ok(int)}
 * says whether the chosen case completed normally (false: its channel was closed) and
 * {@link #value(int)} / {@link #longValue(int)} give what a receive case got. A Select may
 * be run again; it holds no native memory of its own. Not thread-safe.
 */
public final class Select {
    static {
        Native.ensureLoaded();
    }

    private static final int SEND_LONG = 0;
    private static final int RECV_LONG = 1;
    private static final int SEND_OBJ = 2;
    private static final int RECV_OBJ = 3;

    private final List<NativeResource> chans = new ArrayList<>();
    private final List<Integer> kinds = new ArrayList<>();
    private final List<Object> sendObjs = new ArrayList<>();
    private final List<Long> sendLongs = new ArrayList<>();
    private Object[] objs = new Object[0];
    private long[] longs = new long[0];
    private int[] statuses = new int[0];
    private int chosen = -1;

    /** Creates an empty select. */
    public Select() {}

    private int add(NativeResource ch, int kind, Object o, long l) {
        Objects.requireNonNull(ch, "channel");
        chans.add(ch);
        kinds.add(kind);
        sendObjs.add(o);
        sendLongs.add(l);
        return chans.size() - 1;
    }

    /**
     * Adds a receive case.
     *
     * @param ch the channel
     * @return the case's index
     */
    public int recv(Channel<?> ch) {
        return add(ch, RECV_OBJ, null, 0);
    }

    /**
     * Adds a receive case.
     *
     * @param ch the channel
     * @return the case's index
     */
    public int recv(LongChannel ch) {
        return add(ch, RECV_LONG, null, 0);
    }

    /**
     * Adds a send case.
     *
     * @param ch the channel
     * @param value the value to send if this case is chosen (not null)
     * @param <T> the element type
     * @return the case's index
     */
    public <T> int send(Channel<T> ch, T value) {
        Objects.requireNonNull(value, "channels do not carry null");
        return add(ch, SEND_OBJ, value, 0);
    }

    /**
     * Adds a send case.
     *
     * @param ch the channel
     * @param value the value to send if this case is chosen
     * @return the case's index
     */
    public int send(LongChannel ch, long value) {
        return add(ch, SEND_LONG, null, value);
    }

    /**
     * Waits until one case proceeds.
     *
     * @return the chosen case's index
     * @throws InterruptedException if interrupted while waiting (no case happened)
     */
    public int select() throws InterruptedException {
        return run(Status.FOREVER);
    }

    /**
     * Waits at most {@code timeout} for one case to proceed.
     *
     * @param timeout how long to wait
     * @param unit the unit of {@code timeout}
     * @return the chosen case's index, or -1 if the time passed first
     * @throws InterruptedException if interrupted while waiting (no case happened)
     */
    public int select(long timeout, TimeUnit unit) throws InterruptedException {
        return run(Status.toNanos(timeout, unit));
    }

    /**
     * Proceeds with a case that is ready now (Go's {@code default}).
     *
     * @return the chosen case's index, or -1 if none is ready
     */
    public int trySelect() {
        try {
            return run(0);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * Whether the chosen case completed normally.
     *
     * @param index the case returned by the last selection
     * @return true if it sent or received; false if its channel was closed
     */
    public boolean ok(int index) {
        checkChosen(index);
        return statuses[index] == Status.OK;
    }

    /**
     * What a chosen object receive case got.
     *
     * @param index the case returned by the last selection
     * @return the item, or null if the channel was closed
     */
    public Object value(int index) {
        checkChosen(index);
        return objs[index];
    }

    /**
     * What a chosen long receive case got.
     *
     * @param index the case returned by the last selection
     * @return the value (0 if the channel was closed)
     */
    public long longValue(int index) {
        checkChosen(index);
        return longs[index];
    }

    private void checkChosen(int index) {
        if (index < 0 || index != chosen) {
            throw new IllegalArgumentException("case " + index + " was not the one chosen");
        }
    }

    private int run(long ns) throws InterruptedException {
        int n = chans.size();
        if (n == 0) {
            throw new IllegalStateException("select with no cases");
        }
        chosen = -1;
        long[] ptrs = new long[n];
        int[] k = new int[n];
        objs = new Object[n];
        longs = new long[n];
        statuses = new int[n];
        int acquired = 0;
        int rc;
        try {
            for (int i = 0; i < n; i++) {
                ptrs[i] = chans.get(i).acquire();
                acquired++;
                k[i] = kinds.get(i);
                objs[i] = sendObjs.get(i);
                longs[i] = sendLongs.get(i);
            }
            if (ns == 0) {
                rc = Native.select(ptrs, k, longs, objs, statuses, 0, 0);
            } else {
                Waiter w = Waiter.current();
                w.enter();
                try {
                    rc = Native.select(ptrs, k, longs, objs, statuses, ns, w.token);
                } finally {
                    w.exit();
                }
            }
        } finally {
            for (int i = 0; i < acquired; i++) {
                chans.get(i).release();
            }
        }
        for (int i = 0; i < n; i++) {
            if (i != rc || k[i] != RECV_OBJ) {
                objs[i] = null; // keep only what the chosen receive got
            }
        }
        Waiter.interrupted(rc);
        if (rc == Status.ETIMEDOUT || rc == Status.EAGAIN) {
            return -1;
        }
        if (rc < 0) {
            throw Status.exception(rc, "select");
        }
        chosen = rc;
        return rc;
    }
}
