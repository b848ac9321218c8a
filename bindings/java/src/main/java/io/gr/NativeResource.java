package io.gr;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A Java object owning one native pointer, freed exactly once.
 *
 * <p>State word (one {@link AtomicLong}):
 * <pre>
 *   bit 62 CLOSED  close() was called; new operations throw IllegalStateException
 *   bit 61 FREED   the native free ran (set by exactly one CAS)
 *   bits 0..60     operations in flight (acquire() .. release())
 * </pre>
 * The native object is freed by whichever of {@code close()} and the last {@code release()}
 * sees CLOSED with no operation in flight. So an operation blocked in native code (a
 * {@code recv} waiting for a value) keeps the memory alive, and a concurrent {@code close()}
 * cannot free it under that operation's feet.
 */
abstract class NativeResource implements AutoCloseable {
    private static final long CLOSED = 1L << 62;
    private static final long FREED = 1L << 61;
    private static final long USERS = FREED - 1;

    private final long ptr;
    private final AtomicLong state = new AtomicLong();

    NativeResource(long ptr) {
        this.ptr = ptr;
    }

    /** Frees the native object; called exactly once. */
    abstract void free(long ptr);

    /** What this handle is, for messages. */
    abstract String kind();

    /** Begins an operation: returns the pointer, or throws if the handle was closed. */
    final long acquire() {
        for (;;) {
            long s = state.get();
            if ((s & CLOSED) != 0) {
                throw new IllegalStateException(kind() + " was closed (freed); it cannot be used");
            }
            if (state.compareAndSet(s, s + 1)) {
                return ptr;
            }
        }
    }

    /** Ends an operation begun by {@link #acquire()}. */
    final void release() {
        if (state.decrementAndGet() == CLOSED) {
            freeOnce();
        }
    }

    private void freeOnce() {
        if (state.compareAndSet(CLOSED, CLOSED | FREED)) {
            free(ptr);
        }
    }

    /** Marks closed; returns false if it already was. Frees now if no operation is in flight. */
    final boolean closeOnce() {
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

    /** Whether {@code close()} has been called. */
    final boolean isClosedHandle() {
        return (state.get() & CLOSED) != 0;
    }

    /**
     * Frees this handle's native memory (once operations in flight have returned).
     *
     * @throws IllegalStateException if the handle was already closed
     */
    @Override
    public void close() {
        if (!closeOnce()) {
            throw new IllegalStateException(kind() + " was already closed");
        }
    }
}
