package io.gr;

import java.io.IOException;
import java.lang.ref.PhantomReference;
import java.lang.ref.ReferenceQueue;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.spi.AbstractSelectableChannel;
import java.nio.channels.spi.AbstractSelector;
import java.nio.channels.spi.SelectorProvider;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every blocking gr call of the binding: interruptible by {@link Thread#interrupt()}, and
 * ended by another thread closing (or cancelling) what it waits on.
 *
 * <p>JNI cannot see interrupts. The public route is {@link AbstractSelector}: between
 * {@code begin()} and {@code end()} the JDK calls {@link #wakeup()} when the thread is
 * interrupted (at once, if it already was). Here {@code wakeup()} fires a gr cancel token
 * that the native wait was given, so the wait returns {@code GR_ECANCELED}; the runtime
 * withdraws the waiter without losing a value. The same token ends a wait when another
 * thread closes the handle the wait is on ({@link #abortWaitsOn}).
 *
 * <p>Protocol of {@link #await} (one blocking call):
 * <ol>
 *   <li>{@link #enter()}: throw if already interrupted; reset the token if it fired; {@code begin()}.</li>
 *   <li>publish what the call waits on ({@link #blockedOn}, volatile), then check that it is
 *       not abandoned (closed, cancelled). A closer marks it abandoned, then scans the
 *       waiters' {@code blockedOn}: both sides are sequentially consistent, so either the call
 *       sees the mark and does not wait, or the closer sees the call and fires its token.</li>
 *   <li>the native {@code *_ex} wait with {@link #token}.</li>
 *   <li>{@link #exit()}: clear {@code blockedOn}; {@code end()}.</li>
 *   <li>on {@code GR_ECANCELED}: interrupted: clear the status, throw {@link InterruptedException};
 *       abandoned: return {@link #ABANDONED}; neither (a closer's late fire meant for an
 *       earlier call): wait again for the time left.</li>
 * </ol>
 * <p>{@link #spinThenWait} (channel transfers) puts a step 0 before these: one native call
 * without the token that waits at most {@link #SPIN_NS} (in the runtime, a thread spins that
 * long before it sleeps). A transfer with a partner on another CPU mostly completes within
 * it, and the call then returns without steps 1 to 5: their cost (two {@code synchronized}
 * blocks in the JDK's {@code begin()}/{@code end()}, the volatile stores) was about a third of
 * a blocking channel operation's. Step 0 transfers nothing when it times out, so the full
 * protocol then runs for the time left. Unhooked, step 0 sees an interrupt or a close only
 * when it ends: within {@link #SPIN_NS}, when steps 1 and 2 see them.
 *
 * One waiter per thread (a thread blocks in one call at a time); its token is freed after
 * the thread's waiter becomes unreachable, the next time a waiter is created.
 *
 * <p>This is a selector in name only: it has no keys and cannot select.
 */
final class Waiter extends AbstractSelector {
    /** {@link #await}'s result when what the call waited on was closed or cancelled (not a gr status). */
    static final int ABANDONED = Integer.MIN_VALUE;

    private static final ThreadLocal<Waiter> CURRENT = new ThreadLocal<>();
    private static final ReferenceQueue<Waiter> DEAD = new ReferenceQueue<>();
    private static final Set<TokenRef> LIVE = Collections.newSetFromMap(new ConcurrentHashMap<>());
    /** Every live waiter, for {@link #abortWaitsOn}; weak, so dead threads' waiters go. */
    private static final Map<Waiter, Boolean> ALL = new WeakHashMap<>();

    /** What a blocking call waits on: a handle, or several (a select). */
    interface Target {
        /** Whether a call waiting on this should stop (closed, cancelled). */
        boolean abandoned();

        /** Whether a call waiting on this waits on {@code r}. */
        boolean involves(NativeResource r);
    }

    /** A target nothing can close: for sleeps, and for polls that ignore interrupts. */
    static final Target NOTHING = new Target() {
        @Override
        public boolean abandoned() {
            return false;
        }

        @Override
        public boolean involves(NativeResource r) {
            return false;
        }
    };

    /** A native wait: (timeout in ns, cancel token) to a gr status. */
    interface Op {
        int call(long ns, long token);
    }

    /** A native wait on a pointer: (pointer, timeout in ns, cancel token) to a gr status. */
    interface Wait {
        int call(long ptr, long ns, long token);
    }

    /** Frees a dead waiter's cancel token, and drops its hazard slot from {@link #SLOTS}. */
    private static final class TokenRef extends PhantomReference<Waiter> {
        final long token;
        final ChannelHandle.Transfer slot;

        TokenRef(Waiter w, long token, ChannelHandle.Transfer slot) {
            super(w, DEAD);
            this.token = token;
            this.slot = slot;
        }
    }

    /**
     * The hazard slots of every live waiter (NativeResource, "Hazard operations"): a
     * copy-on-write array, replaced under SLOTS_LOCK, read without it. A thread's slot is
     * added when its waiter is created, before its first hazard operation, and removed once
     * the waiter is dead (a dead thread's slot is empty: every operation clears it).
     */
    private static volatile ChannelHandle.Transfer[] slots = new ChannelHandle.Transfer[0];
    private static final Object SLOTS_LOCK = new Object();

    private static void addSlot(ChannelHandle.Transfer t) {
        synchronized (SLOTS_LOCK) {
            ChannelHandle.Transfer[] a = slots;
            ChannelHandle.Transfer[] b = java.util.Arrays.copyOf(a, a.length + 1);
            b[a.length] = t;
            slots = b;
        }
    }

    private static void removeSlot(ChannelHandle.Transfer t) {
        synchronized (SLOTS_LOCK) {
            ChannelHandle.Transfer[] a = slots;
            for (int i = 0; i < a.length; i++) {
                if (a[i] == t) {
                    ChannelHandle.Transfer[] b = java.util.Arrays.copyOf(a, a.length - 1);
                    System.arraycopy(a, i + 1, b, i, a.length - i - 1);
                    slots = b;
                    return;
                }
            }
        }
    }

    /** Whether a hazard operation of any thread uses {@code r} (NativeResource#freeOnce). */
    static boolean inUseByAny(NativeResource r) {
        for (ChannelHandle.Transfer t : slots) {
            if (t.inUse == r) {
                return true;
            }
        }
        return false;
    }

    /** The gr_cancel token fired by {@link #wakeup()} and {@link #abort()}. */
    final long token;
    /** Set when the token fires; it needs a reset only then. */
    private volatile boolean fired;
    /** What this thread's current blocking call waits on (null: none). */
    private volatile Target blockedOn;
    /** Out-parameters for natives, reused to avoid allocation per call. */
    final long[] longOut = new long[1];
    /** The channel transfer of this thread's current blocking call, reused (one at a time). */
    final ChannelHandle.Transfer transfer = new ChannelHandle.Transfer();

    private Waiter() {
        super(SelectorProvider.provider());
        this.token = Status.pointer(Native.cancelNew(), "gr_cancel_new");
        addSlot(transfer);
        LIVE.add(new TokenRef(this, token, transfer));
        synchronized (ALL) {
            ALL.put(this, Boolean.TRUE);
        }
    }

    /** The calling thread's waiter. */
    static Waiter current() {
        Waiter w = CURRENT.get();
        if (w == null) {
            reapDead();
            w = new Waiter();
            CURRENT.set(w);
        }
        return w;
    }

    private static void reapDead() {
        for (TokenRef r; (r = (TokenRef) DEAD.poll()) != null; ) {
            if (LIVE.remove(r)) {
                Native.cancelFree(r.token);
                removeSlot(r.slot);
            }
        }
    }

    /** Step 1: about to block. */
    private void enter() throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        if (fired) { // end() has fenced off the last window's wakeups; a late abort() is retried
            fired = false;
            Native.cancelReset(token);
        }
        begin();
    }

    /** Step 4: the native wait returned. */
    private void exit() {
        blockedOn = null;
        end();
    }

    /**
     * Runs one blocking call ({@code op}) on what {@code on} names, waiting at most {@code ns}
     * ({@link Status#FOREVER}: without limit; never 0, which callers poll without a waiter).
     * Returns the gr status, or {@link #ABANDONED}.
     */
    static int await(Target on, Op op, long ns) throws InterruptedException {
        return current().waitFor(on, op, ns);
    }

    /** {@link #await(Target, Op, long)} on this thread's waiter (the caller's {@link #current()}). */
    int waitFor(Target on, Op op, long ns) throws InterruptedException {
        Waiter w = this;
        long start = ns > 0 ? System.nanoTime() : 0;
        long left = ns;
        for (;;) {
            w.enter();
            int rc;
            try {
                w.blockedOn = on;
                rc = on.abandoned() ? ABANDONED : op.call(left, w.token);
            } finally {
                w.exit();
            }
            if (rc != Status.ECANCELED) {
                return rc;
            }
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            if (on.abandoned()) {
                return ABANDONED;
            }
            if (ns > 0 && (left = ns - (System.nanoTime() - start)) <= 0) {
                return Status.ETIMEDOUT;
            }
        }
    }

    /** How long step 0 of {@link #spinThenWait} waits: the runtime's spin before a thread sleeps. */
    static final long SPIN_NS = 20_000;

    /**
     * {@link #waitFor}, after step 0 (class docs): for calls that leave nothing done when they
     * time out (a channel transfer), so that a step 0 that timed out can be followed by the
     * whole wait.
     */
    int spinThenWait(Target on, Op op, long ns) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        if (on.abandoned()) {
            return ABANDONED;
        }
        boolean timed = ns > 0;
        long start = timed ? System.nanoTime() : 0;
        int rc = op.call(timed && ns < SPIN_NS ? ns : SPIN_NS, 0);
        if (rc != Status.ETIMEDOUT) {
            return rc;
        }
        if (!timed) {
            return waitFor(on, op, ns);
        }
        long left = ns - (System.nanoTime() - start);
        return left > 0 ? waitFor(on, op, left) : rc;
    }

    /** {@link #await} for a native wait on {@code ptr}. */
    static int await(Target on, Wait op, long ptr, long ns) throws InterruptedException {
        return await(on, new PointerOp(op, ptr), ns);
    }

    /** A native wait on a pointer as an {@link Op}. */
    private static final class PointerOp implements Op {
        private final Wait op;
        private final long ptr;

        PointerOp(Wait op, long ptr) {
            this.op = op;
            this.ptr = ptr;
        }

        @Override
        public int call(long ns, long token) {
            return op.call(ptr, ns, token);
        }
    }

    /** Ends the blocking calls that wait on {@code r} (after {@code r} was marked abandoned). */
    static void abortWaitsOn(NativeResource r) {
        List<Waiter> ws;
        synchronized (ALL) {
            ws = new ArrayList<>(ALL.keySet());
        }
        for (Waiter w : ws) {
            Target t = w.blockedOn;
            if (t != null && t.involves(r)) {
                w.abort();
            }
        }
    }

    private void abort() {
        fired = true;
        Native.cancelFire(token);
    }

    @Override
    public Selector wakeup() {
        abort();
        return this;
    }

    @Override
    protected void implCloseSelector() throws IOException {}

    @Override
    protected SelectionKey register(AbstractSelectableChannel ch, int ops, Object att) {
        throw new UnsupportedOperationException("gr waiter");
    }

    @Override
    public Set<SelectionKey> keys() {
        return Collections.emptySet();
    }

    @Override
    public Set<SelectionKey> selectedKeys() {
        return Collections.emptySet();
    }

    @Override
    public int selectNow() {
        return 0;
    }

    @Override
    public int select(long timeout) {
        return 0;
    }

    @Override
    public int select() {
        return 0;
    }
}
