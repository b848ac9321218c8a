package io.gr;

import java.lang.ref.PhantomReference;
import java.lang.ref.ReferenceQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import java.util.function.LongUnaryOperator;

/**
 * A Java object owning one native pointer, freed exactly once.
 *
 * <p>State word (one {@link AtomicLong}, kept in the handle's {@link Cell}):
 * <pre>
 *   bit 62 CLOSED  close() was called (or the GC backstop ran); new operations throw
 *   bit 61 FREED   the native free ran (set by exactly one CAS)
 *   bits 0..60     operations in flight (acquire() .. release())
 * </pre>
 * The native object is freed by whichever of {@code close()} and the last {@code release()}
 * sees CLOSED with no operation in flight. So an operation blocked in native code (a
 * {@code recv} waiting for a value) keeps the memory alive, and a concurrent {@code close()}
 * cannot free it under that operation's feet. {@code close()} is idempotent
 * ({@link java.io.Closeable}'s rule) and ends the calls blocked on the handle
 * ({@link Waiter#abortWaitsOn}): they throw {@link IllegalStateException}, as a use after
 * close does, and nothing they were moving is lost.
 *
 * <p>GC backstop: {@code close()} is the way to free. For handles whose native side is
 * reference-counted or private (channels, wait groups, mutexes, goroutine handles), a handle
 * that becomes unreachable without {@code close()} is freed by the daemon thread
 * {@code gr-cleaner}. Upcalls have no backstop: C code may still hold their address, so an
 * unclosed upcall leaks rather than risk a dangling pointer.
 */
abstract class NativeResource implements AutoCloseable, Waiter.Target {
    private static final long CLOSED = 1L << 62;
    private static final long FREED = 1L << 61;
    private static final long USERS = FREED - 1;

    private static final ReferenceQueue<NativeResource> QUEUE = new ReferenceQueue<>();
    /** Cells with a backstop, kept strongly reachable: a doubly linked list under LIST_LOCK. */
    private static final Object LIST_LOCK = new Object();
    private static Cell head;
    private static volatile boolean cleanerStarted;

    /** The state word and what the backstop needs; never refers to the handle itself. */
    private static final class Cell extends PhantomReference<NativeResource> {
        final AtomicLong state = new AtomicLong();
        final long ptr;
        final LongConsumer backstop;
        Cell prev;
        Cell next;
        boolean linked;

        Cell(NativeResource owner, long ptr, LongConsumer backstop) {
            super(owner, backstop == null ? null : QUEUE);
            this.ptr = ptr;
            this.backstop = backstop;
        }

        /** The handle is unreachable: free unless it was closed. */
        void collect() {
            if (state.compareAndSet(0, CLOSED | FREED)) {
                backstop.accept(ptr);
            }
        }
    }

    private static void track(Cell c) {
        synchronized (LIST_LOCK) {
            c.next = head;
            if (head != null) {
                head.prev = c;
            }
            head = c;
            c.linked = true;
        }
    }

    /** Unlinks; returns false if it was not (or no longer) tracked. */
    private static boolean untrack(Cell c) {
        synchronized (LIST_LOCK) {
            if (!c.linked) {
                return false;
            }
            if (c.prev != null) {
                c.prev.next = c.next;
            } else {
                head = c.next;
            }
            if (c.next != null) {
                c.next.prev = c.prev;
            }
            c.prev = null;
            c.next = null;
            c.linked = false;
            return true;
        }
    }

    /**
     * Handles with a backstop whose native object was neither freed by {@code close()} nor by
     * the backstop yet (the list's length; O(n), for tests).
     */
    static int trackedCount() {
        synchronized (LIST_LOCK) {
            int n = 0;
            for (Cell c = head; c != null; c = c.next) {
                n++;
            }
            return n;
        }
    }

    private final String kind;
    private final long ptr;
    private final LongConsumer free;
    private final Cell cell;

    /**
     * @param kind what this handle is, for messages
     * @param ptr the native pointer
     * @param free frees the native object; called exactly once
     * @param backstop a static free function for the GC backstop, or null for none
     */
    NativeResource(String kind, long ptr, LongConsumer free, LongConsumer backstop) {
        this.kind = kind;
        this.ptr = ptr;
        this.free = free;
        this.cell = new Cell(this, ptr, backstop);
        if (backstop != null) {
            track(cell);
            startCleaner();
        }
    }

    /** A handle whose GC backstop is its free function (a static one: it must not refer to the handle). */
    NativeResource(String kind, long ptr, LongConsumer free) {
        this(kind, ptr, free, free);
    }

    private static void startCleaner() {
        if (cleanerStarted) {
            return;
        }
        synchronized (NativeResource.class) {
            if (cleanerStarted) {
                return;
            }
            Thread t = new Thread(NativeResource::cleanLoop, "gr-cleaner");
            t.setDaemon(true);
            t.start();
            cleanerStarted = true;
        }
    }

    private static void cleanLoop() {
        for (;;) {
            try {
                Cell c = (Cell) QUEUE.remove();
                if (untrack(c)) {
                    c.collect();
                }
            } catch (InterruptedException e) {
                return;
            } catch (Throwable t) {
                // a failing free must not stop the cleaner
            }
        }
    }

    /** Begins an operation: returns the pointer, or throws if the handle was closed. */
    final long acquire() {
        AtomicLong state = cell.state;
        for (;;) {
            long s = state.get();
            if ((s & CLOSED) != 0) {
                throw new IllegalStateException(kind + " was closed (freed); it cannot be used");
            }
            if (state.compareAndSet(s, s + 1)) {
                return ptr;
            }
        }
    }

    /** Ends an operation begun by {@link #acquire()}. */
    final void release() {
        if (cell.state.decrementAndGet() == CLOSED) {
            freeOnce();
        }
    }

    /*
     * Hazard operations (channels' blocking transfers, ChannelHandle.op). acquire() and
     * release() count the operation in the state word, a line that every user writes: two
     * threads handing values to each other through a channel pulled it from one CPU to the
     * other at each acquire and each release, two dependent cache-line transfers per
     * hand-off (~150-250 ns of a ~1.2 us Java ping-pong round trip). A hazard operation
     * instead names the handle in its thread's own slot (ChannelHandle.Transfer#inUse, volatile),
     * then reads the state word, which nobody writes until close: its line stays shared.
     * The free (freeOnce) scans the slots (Waiter.inUseByAny) after CLOSED is set: both
     * sides write (a volatile store, a CAS) before they read, so either the operation sees
     * CLOSED and gives up without touching the pointer, or the scan sees the operation,
     * and the operation's end (hazardRelease), which re-reads the state after clearing its
     * slot, frees. Only handles whose hazardUsers() is true pay for the scan.
     */

    /** Whether hazard operations may use this handle (then a free scans the threads' slots). */
    boolean hazardUsers() {
        return false;
    }

    /**
     * Begins a hazard operation from the thread that owns {@code slot}: returns the pointer,
     * or throws if the handle was closed.
     */
    final long hazardAcquire(ChannelHandle.Transfer slot) {
        slot.inUse = this;
        if ((cell.state.get() & CLOSED) != 0) {
            slot.inUse = null;
            freeOnce(); // a free that saw this slot in use left it to us
            throw new IllegalStateException(kind + " was closed (freed); it cannot be used");
        }
        return ptr;
    }

    /** Ends a hazard operation begun by {@link #hazardAcquire}. */
    final void hazardRelease(ChannelHandle.Transfer slot) {
        slot.inUse = null;
        if ((cell.state.get() & CLOSED) != 0) {
            freeOnce();
        }
    }

    /** Runs a native call on the pointer between {@link #acquire()} and {@link #release()}. */
    final long call(LongUnaryOperator op) {
        long p = acquire();
        try {
            return op.applyAsLong(p);
        } finally {
            release();
        }
    }

    /**
     * Runs a native wait on the pointer ({@link Waiter#await}: interruptible, ended by a
     * concurrent close); returns its status, or {@link Waiter#ABANDONED}. {@code ns}: as
     * {@link Status#timeout}; 0 polls without the waiter machinery (after checking, as every
     * call that may wait does, that the thread is not interrupted).
     */
    final int await(Waiter.Wait op, long ns) throws InterruptedException {
        if (ns == 0 && Thread.interrupted()) {
            throw new InterruptedException();
        }
        long p = acquire();
        try {
            return ns == 0 ? op.call(p, 0, 0) : Waiter.await(this, op, p, ns);
        } finally {
            release();
        }
    }

    /** Whether {@code close()} was called (or the GC backstop ran). */
    final boolean isClosed() {
        return (cell.state.get() & CLOSED) != 0;
    }

    @Override
    public boolean abandoned() {
        return isClosed();
    }

    @Override
    public final boolean involves(NativeResource r) {
        return r == this;
    }

    /** Ends the calls blocked on this handle if any may be (see {@link Waiter#abortWaitsOn}). */
    final void abortWaits() {
        if ((cell.state.get() & USERS) != 0 || hazardUsers()) {
            Waiter.abortWaitsOn(this);
        }
    }

    private void freeOnce() {
        if (hazardUsers() && (cell.state.get() != CLOSED || Waiter.inUseByAny(this))) {
            return; // counted or hazard operations in flight: the last one frees
        }
        if (cell.state.compareAndSet(CLOSED, CLOSED | FREED)) {
            if (cell.backstop != null) {
                untrack(cell);
            }
            free.accept(ptr);
        }
    }

    /**
     * Marks closed; returns false if it already was. Frees now if no operation is in flight,
     * else the last one frees. Does not end blocked calls (see {@link #close()}).
     */
    final boolean closeOnce() {
        AtomicLong state = cell.state;
        long s;
        do {
            s = state.get();
            if ((s & CLOSED) != 0) {
                return false;
            }
        } while (!state.compareAndSet(s, s | CLOSED));
        if ((s & USERS) == 0) {
            freeOnce();
        }
        return true;
    }

    /**
     * Frees this handle's native memory, once operations in flight have returned; calls
     * blocked on it end with {@link IllegalStateException}. Closing again does nothing.
     */
    @Override
    public void close() {
        if (closeOnce()) {
            abortWaits();
        }
    }

    /** The exception for a call that was waiting when the handle was closed. */
    final IllegalStateException closedWhileWaiting() {
        return new IllegalStateException(kind + " was closed (freed) by another thread while this call waited");
    }
}
