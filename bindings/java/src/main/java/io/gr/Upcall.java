package io.gr;

import java.util.Objects;
import java.util.function.LongUnaryOperator;

/**
 * A Java function that C code can call: {@link #address()} is a {@code grjni_upcall *}
 * (see {@code grjni.h}), called as {@code u->call(u, arg, &result)}.
 *
 * <p>The call runs the function on the calling thread, so it is allowed only where Java
 * frames may run: on a plain thread or in a thread-bound goroutine. From a goroutine on a
 * coroutine stack (one started by {@link Goroutines#goNative}) it is refused with
 * {@code GR_ESTATE}, never a crash; such code should hand work to Java over a channel. If the
 * function throws, the call returns {@code GR_EPANIC} and a calling goroutine is marked
 * failed. {@link #close()} frees it: C code must not call it afterwards.
 */
public final class Upcall extends NativeResource {
    static {
        Native.ensureLoaded();
    }

    private Upcall(long ptr) {
        super("upcall", ptr, Native::upcallFree, null); // no GC backstop: C may still hold the address
    }

    /**
     * Wraps a function for C callers.
     *
     * @param fn the function
     * @return the upcall; close it when C no longer calls it
     */
    public static Upcall of(LongUnaryOperator fn) {
        Objects.requireNonNull(fn, "fn");
        return new Upcall(Status.pointer(Native.upcallNew(fn), "upcall"));
    }

    /**
     * The {@code grjni_upcall *} to give to C code.
     *
     * @return its address
     * @throws IllegalStateException if closed
     */
    public long address() {
        long p = acquire();
        release();
        return p;
    }
}
