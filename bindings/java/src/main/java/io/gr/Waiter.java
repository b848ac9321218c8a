package io.gr;

import java.io.IOException;
import java.lang.ref.PhantomReference;
import java.lang.ref.ReferenceQueue;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.spi.AbstractSelectableChannel;
import java.nio.channels.spi.AbstractSelector;
import java.nio.channels.spi.SelectorProvider;
import java.util.Collections;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Makes a blocking gr call interruptible by {@link Thread#interrupt()}.
 *
 * <p>JNI cannot see interrupts. The public route is {@link AbstractSelector}: between
 * {@code begin()} and {@code end()} the JDK calls {@link #wakeup()} when the thread is
 * interrupted (at once, if it already was). Here {@code wakeup()} fires a gr cancel token
 * that the native wait was given, so the wait returns {@code GR_ECANCELED}; the runtime
 * withdraws the waiter without losing a value. Protocol for every blocking call:
 * <ol>
 *   <li>{@link #enter()}: throw if already interrupted; reset the token if it fired; {@code begin()}.</li>
 *   <li>the native {@code *_ex} wait with {@link #token}.</li>
 *   <li>{@link #exit()}: {@code end()}; after it no interrupt can reach this token.</li>
 *   <li>{@link #interrupted(int)}: on {@code GR_ECANCELED}, clear the interrupt status and
 *       throw {@link InterruptedException}.</li>
 * </ol>
 * One waiter per thread (a thread blocks in one call at a time); its token is freed after
 * the thread's waiter becomes unreachable, the next time a waiter is created.
 *
 * <p>This is a selector in name only: it has no keys and cannot select.
 */
final class Waiter extends AbstractSelector {
    private static final ThreadLocal<Waiter> CURRENT = new ThreadLocal<>();
    private static final ReferenceQueue<Waiter> DEAD = new ReferenceQueue<>();
    private static final Set<TokenRef> LIVE = Collections.newSetFromMap(new ConcurrentHashMap<>());

    /** Frees a dead waiter's cancel token. */
    private static final class TokenRef extends PhantomReference<Waiter> {
        final long token;

        TokenRef(Waiter w, long token) {
            super(w, DEAD);
            this.token = token;
        }
    }

    /** The gr_cancel token fired by {@link #wakeup()}. */
    final long token;
    /** Set by {@link #wakeup()}; the token needs a reset only after it fired. */
    private volatile boolean fired;
    /** Out-parameters for natives, reused to avoid allocation per call. */
    final long[] longOut = new long[1];
    final Object[] objOut = new Object[1];

    private Waiter() {
        super(SelectorProvider.provider());
        this.token = Status.pointer(Native.cancelNew(), "gr_cancel_new");
        LIVE.add(new TokenRef(this, token));
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
            }
        }
    }

    /** Step 1: about to block. */
    void enter() throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        if (fired) { // only wakeup() fires, and end() has fenced off the last window's wakeups
            fired = false;
            Native.cancelReset(token);
        }
        begin();
    }

    /** Step 3: the native wait returned. */
    void exit() {
        end();
    }

    /** Step 4: throws if the wait ended because of an interrupt. */
    static void interrupted(int status) throws InterruptedException {
        if (status == Status.ECANCELED) {
            Thread.interrupted();
            throw new InterruptedException();
        }
    }

    /** A native wait: (pointer, timeout in ns, cancel token) to a gr status. */
    interface Wait {
        int call(long ptr, long ns, long token);
    }

    /** Steps 1 to 4 around {@code op} on the calling thread's waiter; returns its status. */
    static int await(Wait op, long ptr, long ns) throws InterruptedException {
        Waiter w = current();
        w.enter();
        int rc;
        try {
            rc = op.call(ptr, ns, w.token);
        } finally {
            w.exit();
        }
        interrupted(rc);
        return rc;
    }

    @Override
    public Selector wakeup() {
        fired = true;
        Native.cancelFire(token);
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
