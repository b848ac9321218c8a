package io.gr;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.ref.WeakReference;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;
import java.util.function.LongConsumer;

/**
 * A Java goroutine's body, its run state and its outcome; {@link #invoke} is called by the
 * glue on the gr worker thread that runs the goroutine.
 *
 * <p>Run state (each move one CAS; the worker's run() takes no lock):
 * <pre>
 *   NEW --invoke--> RUNNING --body returns or throws--> DONE
 *    |                 |
 *    +---cancel()------+----> CANCELLED   (the body never runs, or its outcome is discarded)
 * </pre>
 *
 * <p>Interrupts reach this goroutine only. The worker clears its interrupt status, sets
 * {@code runner} (volatile) and only then moves NEW to RUNNING; an interrupter (interrupt(),
 * cancel(true): both under the task's lock, which orders them with each other) counts itself
 * in {@code interrupters}, then interrupts {@code runner} only if it reads a state past NEW.
 * An interrupt before the start sets {@code interruptPending} and re-reads the state: either
 * the worker, reading the flag after its CAS, or the interrupter, seeing RUNNING, delivers it.
 * A worker whose CAS fails (cancelled first) clears {@code runner} as at the end.
 * At the end the worker clears {@code runner}, then waits while an interrupter is counted,
 * then clears its interrupt status: both sides write (volatile) before they read, so an
 * interrupter that missed the clear of {@code runner} is seen and waited for, and one that
 * comes later finds no runner. So a goroutine that ends interrupted, or an interrupt that
 * arrives as it ends, never reaches the next goroutine on that thread (a thread pool clears
 * the status between tasks too). The worker used to take the lock at the start and at the
 * end instead: ~0.2 us of every go() + join() (bindings/java/README.md).
 *
 * <p>Delivery flags: FAILED (the body threw), DETACHED (nobody will join: the handle was
 * closed unjoined, or it was spawned detached), OBSERVED (join, get or a CompletableFuture
 * took the outcome), REPORTED (the throwable went to the uncaught-exception handler). A
 * failure reaches exactly one of: an observer, if one is still possible; otherwise the
 * uncaught-exception handler.
 *
 * <p>A task is also its goroutine handle's GC backstop ({@link #accept(long)}), and keeps its
 * flags and future in fields updated atomically, so {@code go()} allocates no helper objects
 * for them (its cost is on the path of every {@code go()} + {@code join()}). The backstop is
 * held strongly until its handle is collected, so nothing reachable from a task may refer to
 * the handle ({@code Goroutine}) strongly: the future refers to it weakly, and the body is
 * dropped once it starts (or is cancelled).
 */
final class Task<T> implements LongConsumer {
    static final int NEW = 0;
    static final int RUNNING = 1;
    static final int DONE = 2;
    static final int CANCELLED = 3;

    private static final int FAILED = 1;
    private static final int DETACHED = 2;
    private static final int OBSERVED = 4;
    private static final int REPORTED = 8;

    /**
     * Cleared (under the lock) when the body starts or is cancelled first: the task is its
     * handle's GC backstop, held strongly until the handle is collected, so a body that
     * refers to its own handle (a lambda capturing an object that keeps its goroutines) must
     * not stay reachable from it after it ran, or the handle would never become unreachable.
     */
    private Object body; // a Callable<T>, or a Runnable if `runnable`; nulled after NEW
    /**
     * The body is a {@code Runnable} (result null), kept as it is: wrapping it in a
     * {@code Callable} cost an object per {@code go(Runnable)}, and the worker one more
     * cache line to fetch on the path of every {@code go()} + {@code join()}.
     */
    private final boolean runnable;
    @SuppressWarnings("rawtypes")
    private static final AtomicIntegerFieldUpdater<Task> FLAGS =
            AtomicIntegerFieldUpdater.newUpdater(Task.class, "flags");
    @SuppressWarnings("rawtypes")
    private static final AtomicReferenceFieldUpdater<Task, CompletableFuture> FUTURE =
            AtomicReferenceFieldUpdater.newUpdater(Task.class, CompletableFuture.class, "future");

    private volatile int state = NEW;
    private volatile int flags; // FLAGS
    private T value; // published by the volatile write of DONE
    private Throwable failure;
    private volatile Thread runner; // the worker, from before RUNNING until the body ended
    private volatile boolean interruptPending; // interrupt() came while NEW
    private volatile int interrupters; // INTERRUPTERS: interrupt() or cancel(true) under way
    @SuppressWarnings("rawtypes")
    private static final AtomicIntegerFieldUpdater<Task> STATE =
            AtomicIntegerFieldUpdater.newUpdater(Task.class, "state");
    @SuppressWarnings("rawtypes")
    private static final AtomicIntegerFieldUpdater<Task> INTERRUPTERS =
            AtomicIntegerFieldUpdater.newUpdater(Task.class, "interrupters");
    private volatile CompletableFuture<T> future; // FUTURE
    /**
     * Non-zero once run() is over for the body, after the outcome is in {@code state}:
     * {@link #CLEAN} if the body returned without throwing (the task is DONE for good: a
     * cancel fails from then on), {@link #OTHER} if it threw or never ran (cancelled first).
     * A join that sees CLEAN has its whole outcome without reading the task's own line, which
     * the worker wrote last. Joiners spin on it ({@link #awaitReturned}). It is an object of
     * its own, padded to a cache line (see {@link Returned}), and the goroutine handle keeps
     * its own reference to it, taken before the spawn: a joiner spinning on a field of the
     * task itself, or reading the task's fields to reach the flag, would pull the line that
     * run() writes (the lock word, state, runner, value) away from the worker at each write.
     */
    final Returned returned = new Returned();
    private static final int CLEAN = 1;
    private static final int OTHER = 2;

    /** Fields before {@link Returned#value} (a superclass's fields are laid out first). */
    abstract static class ReturnedPad {
        @SuppressWarnings("unused")
        private long p0, p1, p2, p3, p4, p5, p6, p7;
    }

    /** {@link Returned}'s flag, after 64 bytes of padding. */
    abstract static class ReturnedValue extends ReturnedPad {
        volatile int value;
    }

    /**
     * A task's returned flag on a line of its own: 64 bytes of padding on either side, so no
     * other object (the task, written by the worker; the handle, by the joiner) shares it.
     * Read directly (an {@code AtomicIntegerArray} read its array through a wrapper object
     * allocated next to the task, a second line that the worker's writes to the task
     * invalidated at each look).
     */
    static final class Returned extends ReturnedValue {
        @SuppressWarnings("unused")
        private long q0, q1, q2, q3, q4, q5, q6, q7;
    }

    /** How long {@link #awaitReturned} spins: as a thread's wait spins in the core (20 us). */
    static final long RETURN_SPIN_NS = 20_000;
    /** Its busy phase, before it yields the CPU at every look (as the core's does: 1 us). */
    private static final long RETURN_PAUSE_NS = 1_000;
    /**
     * A yield that took this long let another thread run on this CPU (a bare yield takes
     * well under a microsecond): the goroutine's worker may be that thread, and it cannot
     * run while this one spins, so the next spins of this thread skip the busy phase, until
     * a yield returns at once again. The worker's hold (core: {@code sched/worker.rs}) does
     * the same.
     */
    private static final long YIELD_CROWDED_NS = 3_000;
    /**
     * A yield that took this long lost the CPU to other threads for a good part of a time
     * slice: other processes crowd the CPUs, and a yielding spinner, never woken, waits
     * behind them for its turn. The spin ends there, and the join sleeps in the core, whose
     * waits stop yielding while the machine is crowded (core: {@code waiter.rs},
     * {@code crowd}) and whose futex wake gets the wake-up preemption a yielder does not.
     */
    private static final long YIELD_LOST_NS = 1_000_000;
    /** Per joining thread: its last yield in {@link #awaitReturned} was crowded. */
    private static final ThreadLocal<boolean[]> CROWDED = ThreadLocal.withInitial(() -> new boolean[1]);

    Task(Callable<T> body, boolean detached) {
        this.body = body;
        this.runnable = false;
        this.flags = detached ? DETACHED : 0;
    }

    /** A task whose body is a {@code Runnable}: its value is null. */
    Task(Runnable body, boolean detached) {
        this.body = body;
        this.runnable = true;
        this.flags = detached ? DETACHED : 0;
    }

    /** GC backstop of the goroutine handle (neither joined nor closed): release it, detach. */
    @Override
    public void accept(long handle) {
        Native.handleRelease(handle);
        detach();
    }

    /** Sets {@code bit} in the flags; returns the flags before. */
    private int setFlag(int bit) {
        for (;;) {
            int f = flags;
            if ((f & bit) != 0 || FLAGS.compareAndSet(this, f, f | bit)) {
                return f;
            }
        }
    }

    /** Called by the glue (JNI). Returns null, or a description for gr_goroutine_fail. */
    static String invoke(Task<?> t) {
        return t.run();
    }

    /*
     * Tasks on their way to their goroutine. go() parks its task in a free slot of SLOTS and
     * spawns the goroutine with the slot's index; the goroutine takes the task out at its start
     * (invokeSlot). This replaces a JNI global reference per task (NewGlobalRef on the
     * spawner and DeleteGlobalRef on the worker: the JVM's global-reference storage takes a
     * lock to allocate, and both calls update its block's bitmap, a line that then moves
     * between the two CPUs on every go()). A slot holds its task only until the goroutine
     * starts, or until a refused spawn takes it back (unpark). When no slot is free (more
     * goroutines spawned and not yet started than SLOTS holds; the thread cap allows about
     * 10,000 by default), go() passes a global reference as before (invoke).
     */
    private static final int SLOT_COUNT = 1 << 14;
    /** How many slots one park looks at before it gives up. */
    private static final int SLOT_PROBES = 32;
    private static final AtomicReferenceArray<Task<?>> SLOTS = new AtomicReferenceArray<>(SLOT_COUNT);
    /** Where the next park looks first (a hint: a race on it costs a probe, nothing else). */
    private static int slotHint;

    /** Parks {@code t} in a free slot; its index, or -1 if none was found. */
    static int park(Task<?> t) {
        int r = reservedHere();
        if (r >= 0) {
            SLOTS.set(r, t);
            return r;
        }
        int h = slotHint;
        for (int n = 0; n < SLOT_PROBES; n++) {
            int i = (h + n) & (SLOT_COUNT - 1);
            if (SLOTS.get(i) == null && SLOTS.compareAndSet(i, null, t)) {
                slotHint = i + 1;
                return i;
            }
        }
        slotHint = h + SLOT_PROBES;
        return -1;
    }

    /*
     * A slot reserved for a thread's next go(). A park that probes writes (CASes) the slot
     * after the one its last goroutine emptied, on the line that goroutine's worker has just
     * written: a cache-line transfer on the path of every go() + join() (the worker's own
     * take of the slot is a second one, which nothing avoids). So after its spawn, while the
     * worker starts the goroutine, go() reserves a free slot on another line for the same
     * thread's next go() (reserveNext: a CAS of RESERVED into it, the line fetched then), and
     * that go() finds it in its stripe (one per thread-id stripe, in the layout of Goroutine's
     * deferred releases) and only stores its task there. At most one slot per stripe (8) is reserved; a
     * reserved slot holds RESERVED, which probes skip as taken and no goroutine is given.
     */
    private static final Task<Void> RESERVED = new Task<>((Runnable) () -> { }, true);
    /** Per stripe (Goroutine.stripe: the deferred releases' layout): 1 + a reserved slot's index, or 0. */
    private static final AtomicLongArray RESERVED_SLOT = new AtomicLongArray(Goroutine.STRIPED_LENGTH);
    /** Slots per cache line (4-byte references; 8-byte ones put a reservation two lines on). */
    private static final int SLOTS_PER_LINE = 16;

    /** Takes the slot reserved in this thread's stripe (it holds RESERVED); -1 if none. */
    private static int reservedHere() {
        int i = Goroutine.stripe();
        long r = RESERVED_SLOT.get(i);
        return r != 0 && RESERVED_SLOT.compareAndSet(i, r, 0) ? (int) r - 1 : -1;
    }

    /**
     * After a spawn from slot {@code used}: reserves a free slot on another line for this
     * thread's next go(), if its stripe has none (see {@link #RESERVED}).
     */
    static void reserveNext(int used) {
        int i = Goroutine.stripe();
        if (RESERVED_SLOT.get(i) != 0) {
            return;
        }
        for (int n = 1; n <= SLOT_PROBES; n++) {
            int s = (used + n * SLOTS_PER_LINE) & (SLOT_COUNT - 1);
            if (SLOTS.get(s) == null && SLOTS.compareAndSet(s, null, RESERVED)) {
                if (!RESERVED_SLOT.compareAndSet(i, 0, s + 1)) {
                    SLOTS.set(s, null); // another thread of the stripe reserved one first
                }
                return;
            }
        }
    }

    /** Empties a slot whose spawn was refused. */
    static void unpark(int slot) {
        SLOTS.set(slot, null);
    }

    /** Called by the glue (JNI) at the start of a goroutine spawned with a slot. */
    static String invokeSlot(int slot) {
        return SLOTS.getAndSet(slot, null).run();
    }

    private String run() {
        Thread me = Thread.currentThread();
        Object b = body; // read before the CAS: a cancel nulls it only after its own CAS
        Thread.interrupted(); // whatever a previous goroutine or a stray interrupt left
        runner = me;
        if (!STATE.compareAndSet(this, NEW, RUNNING)) { // cancelled first
            runner = null; // an interrupter of the cancelled task may have read it: as at the end
            if (interrupters != 0) {
                awaitInterrupters();
            }
            Thread.interrupted();
            returned.value = OTHER;
            return null; // cancelled before it started: the body never runs
        }
        body = null;
        if (interruptPending) {
            me.interrupt();
        }
        T v = null;
        Throwable e = null;
        try {
            if (runnable) {
                ((Runnable) b).run();
            } else {
                @SuppressWarnings("unchecked")
                Callable<T> c = (Callable<T>) b;
                v = c.call();
            }
        } catch (Throwable x) {
            e = x;
        }
        value = v; // published by the CAS to DONE; unread if cancelled
        failure = e;
        runner = null;
        if (interrupters != 0) {
            awaitInterrupters();
        }
        boolean cancelled = !STATE.compareAndSet(this, RUNNING, DONE);
        Thread.interrupted(); // an interrupt for this goroutine stops here
        returned.value = cancelled || e != null ? OTHER : CLEAN;
        if (cancelled) {
            return null;
        }
        if (e != null && (setFlag(FAILED) & (DETACHED | OBSERVED)) == DETACHED) {
            report(e);
        }
        CompletableFuture<T> f = future;
        if (f != null) {
            complete(f);
        }
        return e == null ? null : describe(e);
    }

    private static String describe(Throwable e) {
        try {
            return String.valueOf(e);
        } catch (Throwable ignored) {
            return e.getClass().getName();
        }
    }

    /** Future.cancel: true if this call moved NEW or RUNNING to CANCELLED. */
    boolean cancel(boolean mayInterruptIfRunning) {
        synchronized (this) {
            int s;
            do {
                s = state;
                if (s == DONE || s == CANCELLED) {
                    return false;
                }
            } while (!STATE.compareAndSet(this, s, CANCELLED));
            body = null; // a body not started never runs
            if (mayInterruptIfRunning && s == RUNNING) {
                interruptRunner();
            }
        }
        CompletableFuture<T> f = future;
        if (f != null) {
            complete(f);
        }
        return true;
    }

    /** Interrupts the body while it runs; before it starts, it will start interrupted. */
    synchronized void interrupt() {
        interruptRunner();
    }

    /**
     * Interrupts the worker while it runs the body (also after a cancel, until the body
     * ends); before the start, marks the interrupt pending (see the class comment). Called
     * under the task's lock.
     */
    private void interruptRunner() {
        INTERRUPTERS.incrementAndGet(this);
        try {
            int s = state;
            if (s == NEW) {
                interruptPending = true;
                s = state; // the worker may have started meanwhile, before reading the flag
            }
            if (s != NEW) {
                Thread r = runner; // null once the body ended (cleared before DONE)
                if (r != null) {
                    r.interrupt();
                }
            }
        } finally {
            INTERRUPTERS.decrementAndGet(this);
        }
    }

    /** The end of run(): an interrupter that may still use {@code runner} finishes first. */
    private void awaitInterrupters() {
        while (interrupters != 0) {
            Thread.yield();
        }
    }

    int state() {
        return state;
    }

    /**
     * Spins up to {@code maxNs} (at most {@link #RETURN_SPIN_NS}; negative: that) until the body has returned (or was cancelled
     * before it ran); whether it has. The goroutine's end in the runtime (its handle's
     * {@code gr_wait}) follows shortly, but its Java outcome is final here: a join that
     * sees this need not wait for the native end, and the worker's epilogue (returning
     * through JNI, deleting the task's global reference, ending the goroutine) is then off
     * the joiner's path. A short goroutine, the common case of {@code go()} + {@code join()},
     * ends within the spin; a long one costs the spin once.
     */
    static boolean awaitReturned(Returned r, long maxNs) {
        if (r.value != 0) {
            return true;
        }
        long budget = maxNs < 0 ? RETURN_SPIN_NS : Math.min(maxNs, RETURN_SPIN_NS);
        long start = System.nanoTime();
        boolean[] crowded = CROWDED.get();
        boolean busy = !crowded[0];
        for (int i = 1;; i++) {
            if (r.value != 0) {
                return true;
            }
            if ((i & 7) == 0) {
                long spent = System.nanoTime() - start;
                if (spent >= budget) {
                    return false;
                }
                busy = !crowded[0] && spent < RETURN_PAUSE_NS;
            }
            if (busy) {
                onSpinWait();
            } else {
                long t = System.nanoTime();
                Thread.yield(); // a partner that needs this CPU gets it at once
                long took = System.nanoTime() - t;
                crowded[0] = took >= YIELD_CROWDED_NS;
                if (took >= YIELD_LOST_NS) {
                    return r.value != 0;
                }
            }
        }
    }

    /**
     * Whether the body of the task whose flag is {@code r} has returned without throwing
     * (see {@link #returned}): the task is then DONE, not cancelled, with no failure, and
     * stays so; a join needs nothing more from it.
     */
    static boolean returnedClean(Returned r) {
        return r.value == CLEAN;
    }

    /** {@code Thread.onSpinWait} (Java 9+: a {@code pause} on x86), or null on Java 8. */
    private static final MethodHandle ON_SPIN_WAIT = findOnSpinWait();

    private static MethodHandle findOnSpinWait() {
        try {
            return MethodHandles.lookup().findStatic(Thread.class, "onSpinWait", MethodType.methodType(void.class));
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /** A hint to the CPU that this thread spins (see {@link #ON_SPIN_WAIT}). */
    static void onSpinWait() {
        MethodHandle h = ON_SPIN_WAIT;
        if (h != null) {
            try {
                h.invokeExact();
            } catch (Throwable e) {
                throw new AssertionError(e); // Thread.onSpinWait throws nothing
            }
        }
    }

    /** The value of a DONE task (null if it failed). */
    T value() {
        return value;
    }

    /** The throwable of a DONE task that failed, marked as observed; else null. */
    Throwable takeFailure() {
        setFlag(OBSERVED);
        return failure;
    }

    /** Nobody will join: a failure from now on (or already) goes to the handler. */
    void detach() {
        int s = setFlag(DETACHED);
        if ((s & FAILED) != 0 && (s & (OBSERVED | DETACHED)) == 0) {
            report(failure);
        }
    }

    private void report(Throwable e) {
        if ((setFlag(REPORTED) & REPORTED) != 0) {
            return;
        }
        Thread t = Thread.currentThread();
        Thread.UncaughtExceptionHandler h = t.getUncaughtExceptionHandler();
        if (h != null) {
            h.uncaughtException(t, e);
        }
    }

    /**
     * The task's CompletableFuture (one per task), completed with its outcome; cancelling it
     * cancels the task. Counts as an observer of a failure.
     *
     * <p>The future refers to its goroutine handle only weakly ({@link Bridge}): the task is
     * the handle's GC backstop, which the cleaner holds strongly until it runs, so a strong
     * path task → future → handle would keep every handle that was ever bridged reachable, and
     * its native handle would never be released.
     */
    CompletableFuture<T> toCompletableFuture(Goroutine<T> g) {
        setFlag(OBSERVED);
        CompletableFuture<T> f = future;
        if (f == null) {
            Bridge<T> mine = new Bridge<>(this, g);
            f = FUTURE.compareAndSet(this, null, mine) ? mine : future;
        }
        complete(f); // if the outcome is already known; run() or cancel() do it otherwise
        return f;
    }

    /**
     * The CompletableFuture of {@link #toCompletableFuture}: cancelling it cancels the task and,
     * if its handle is still reachable, ends the calls blocked in that handle's {@code get}
     * (a thread blocked there holds the handle, so a handle already collected has none).
     */
    private static final class Bridge<T> extends CompletableFuture<T> {
        private final Task<T> task;
        private final WeakReference<Goroutine<T>> handle;

        Bridge(Task<T> task, Goroutine<T> g) {
            this.task = task;
            this.handle = new WeakReference<>(g);
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            Goroutine<T> g = handle.get();
            if (g != null) {
                g.cancel(mayInterruptIfRunning);
            } else {
                task.cancel(mayInterruptIfRunning);
            }
            return super.cancel(mayInterruptIfRunning);
        }
    }

    private void complete(CompletableFuture<T> f) {
        int s = state;
        if (s == DONE) {
            if (failure != null) {
                f.completeExceptionally(failure);
            } else {
                f.complete(value);
            }
        } else if (s == CANCELLED) {
            f.completeExceptionally(new CancellationException()); // not f.cancel: that cancels us
        }
    }
}
