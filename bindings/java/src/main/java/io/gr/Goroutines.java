package io.gr;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Entry point: start goroutines, configure and inspect the runtime.
 *
 * <p>Java bodies run as <em>thread-bound</em> goroutines: on a gr worker's own OS thread,
 * attached to the JVM as a daemon thread named {@code gr-worker-N} (HotSpot cannot run Java
 * frames on a coroutine stack). They may block on channels, sleep, join and lock; a blocked
 * Java goroutine holds one OS thread, and its processor passes to another thread so other
 * goroutines keep running. C functions started with {@link #goNative(long, long)} run as
 * ordinary coroutine goroutines, which scale to many thousands.
 */
public final class Goroutines {
    static {
        Native.ensureLoaded();
    }

    private Goroutines() {}

    /** How long {@link #go(Callable)} waits for a thread when Java goroutines hold them all. */
    static final long SPAWN_TIMEOUT_SECONDS = 10;

    /**
     * Starts {@code body} as a goroutine.
     *
     * <p>Each Java goroutine holds one of the runtime's OS threads until it returns (it may
     * block on it), and at most {@code maxThreads - workers - 1} exist at once (see
     * {@link #configure}), so that a thread always remains to run the others: none can be
     * left queued with no thread, however many are blocked. When that many have not
     * returned, this call waits up to {@value #SPAWN_TIMEOUT_SECONDS} seconds for one to
     * return, then throws {@link GrException}; {@link #go(Callable, long, TimeUnit)} chooses
     * the wait.
     *
     * @param body the code to run; its result is {@link Goroutine#get()}'s, and an exception
     *     it throws reaches {@link Goroutine#get()} (as the cause of an
     *     {@link java.util.concurrent.ExecutionException}) and {@link Goroutine#join()} (as
     *     the cause of a {@link GoroutineException})
     * @param <T> the result type
     * @return the goroutine: join it, get its result, or close it to detach
     * @throws GrException if no thread became free for it in time
     * @throws IllegalStateException if the runtime was shut down
     */
    public static <T> Goroutine<T> go(Callable<T> body) {
        return go(body, SPAWN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    /**
     * Starts {@code body} as a goroutine, waiting at most {@code timeout} for a thread when
     * Java goroutines hold every thread they may (see {@link #go(Callable)}).
     *
     * @param body the code to run, as for {@link #go(Callable)}
     * @param timeout how long to wait for a thread; {@code <= 0}: not at all
     * @param unit the unit of {@code timeout}
     * @param <T> the result type
     * @return the goroutine
     * @throws GrException if no thread became free for it in time
     * @throws IllegalStateException if the runtime was shut down
     */
    public static <T> Goroutine<T> go(Callable<T> body, long timeout, TimeUnit unit) {
        Objects.requireNonNull(body, "body");
        Task<T> t = new Task<>(body, false);
        Task.Returned r = t.returned; // before the spawn: the worker writes t's line from then on
        Goroutine<T> g = new Goroutine<>(spawn(t, false, Status.timeout(timeout, unit)), t, r);
        Goroutine.releaseDeferred(); // off the path: the worker is starting the goroutine
        return g;
    }

    /**
     * Starts {@code body} as a goroutine, as {@link #go(Callable)} does.
     *
     * @param body the code to run; an exception it throws reaches {@link Goroutine#join()} as
     *     the cause of a {@link GoroutineException}
     * @return the goroutine: join it, or close it to detach
     * @throws GrException if no thread became free for it in time
     * @throws IllegalStateException if the runtime was shut down
     */
    public static Goroutine<Void> go(Runnable body) {
        return go(body, SPAWN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    /**
     * Starts {@code body} as a goroutine, waiting at most {@code timeout} for a thread, as
     * {@link #go(Callable, long, TimeUnit)} does.
     *
     * @param body the code to run
     * @param timeout how long to wait for a thread; {@code <= 0}: not at all
     * @param unit the unit of {@code timeout}
     * @return the goroutine
     * @throws GrException if no thread became free for it in time
     * @throws IllegalStateException if the runtime was shut down
     */
    public static Goroutine<Void> go(Runnable body, long timeout, TimeUnit unit) {
        Objects.requireNonNull(body, "body");
        Task<Void> t = new Task<>(body, false);
        Task.Returned r = t.returned; // before the spawn: the worker writes t's line from then on
        Goroutine<Void> g = new Goroutine<>(spawn(t, false, Status.timeout(timeout, unit)), t, r);
        Goroutine.releaseDeferred(); // off the path: the worker is starting the goroutine
        return g;
    }

    /**
     * Starts {@code body} as a detached goroutine: nobody joins it, and an exception it throws
     * goes to the uncaught-exception handler of the worker thread that ran it. Waits for a
     * thread as {@link #go(Callable)} does.
     *
     * @param body the code to run
     * @throws GrException if no thread became free for it in time
     * @throws IllegalStateException if the runtime was shut down
     */
    public static void goDetached(Runnable body) {
        goDetached(body, TimeUnit.SECONDS.toNanos(SPAWN_TIMEOUT_SECONDS));
    }

    /** {@link #goDetached(Runnable)} waiting at most {@code timeoutNs} for a thread. */
    static void goDetached(Runnable body, long timeoutNs) {
        Objects.requireNonNull(body, "body");
        spawn(new Task<Void>(body, true), true, timeoutNs);
    }

    /** Spawns a Java goroutine; returns its handle (0 if detached), or throws. */
    private static long spawn(Task<?> t, boolean detached, long timeoutNs) {
        long limit = timeoutNs == Status.FOREVER ? Long.MAX_VALUE : timeoutNs;
        int slot = Task.park(t);
        long r;
        if (slot >= 0) {
            r = Native.spawnTaskSlot(slot, detached, limit);
            if (r < 0) {
                Task.unpark(slot); // refused: no goroutine will take it
            } else {
                Task.reserveNext(slot); // off the path: the worker is starting the goroutine
            }
        } else {
            r = Native.spawnTask(t, detached, limit); // every slot taken: a global reference
        }
        if (r == Status.EAGAIN || r == Status.ETIMEDOUT) {
            throw new GrException((int) r, "gr_spawn_ex: no thread for a Java goroutine "
                    + (timeoutNs == 0 ? "now" : "within " + timeoutNs / 1_000_000 + " ms")
                    + ": Java goroutines that have not returned hold every thread the runtime may give them"
                    + " (maxThreads - workers - 1; raise maxThreads with Goroutines.configure, or let some return)");
        }
        if (r < 0) {
            throw Status.exception((int) r, "gr_spawn_ex");
        }
        if (r == 0 && !detached) {
            throw new GrException(Status.ENOMEM, "gr_spawn_ex: null result");
        }
        return r;
    }

    /**
     * Runs the C function {@code fn(arg)} as an ordinary coroutine goroutine: the way to many
     * thousands of goroutines. The C code may block on channels shared with Java (see
     * {@link LongChannel#retainNative()}) and report failure with {@code gr_goroutine_fail},
     * which makes {@link Goroutine#join()} throw. It must not call Java directly: an
     * {@link Upcall} from here returns {@code GR_ESTATE}.
     *
     * @param fn address of a {@code void fn(void *arg)}, e.g. from {@link #symbol}
     * @param arg passed to {@code fn} unchanged
     * @return the goroutine's handle
     * @throws IllegalArgumentException if {@code fn} is 0
     */
    public static Goroutine<Void> goNative(long fn, long arg) {
        if (fn == 0) {
            throw new IllegalArgumentException("fn is a null function pointer");
        }
        long h = Status.pointer(Native.spawnNative(fn, arg, false), "gr_spawn");
        return new Goroutine<>(h, null);
    }

    /**
     * Runs the C function {@code fn(argv)} as a coroutine goroutine, where {@code argv} points
     * to a copy of {@code args} as {@code int64_t[]}, valid until {@code fn} returns. Handy for
     * passing several values, such as channel handles from {@link LongChannel#retainNative()}.
     * Otherwise as {@link #goNative(long, long)}.
     *
     * @param fn address of a {@code void fn(void *argv)}
     * @param args the values {@code fn} finds at {@code ((int64_t *)argv)[0..]}
     * @return the goroutine's handle
     * @throws IllegalArgumentException if {@code fn} is 0
     */
    public static Goroutine<Void> goNativeWithArgs(long fn, long... args) {
        if (fn == 0) {
            throw new IllegalArgumentException("fn is a null function pointer");
        }
        Objects.requireNonNull(args, "args");
        long h = Status.pointer(Native.spawnNativeArgs(fn, args, false), "gr_spawn");
        return new Goroutine<>(h, null);
    }

    /**
     * A new {@link ExecutorService} that runs each task as a Java goroutine, e.g. for
     * {@code CompletableFuture.supplyAsync(s, Goroutines.executor())} or {@code invokeAll}.
     * Each call returns an independent service with its own life cycle: {@code shutdown()}
     * stops it accepting tasks ({@link java.util.concurrent.RejectedExecutionException}), and
     * {@code shutdownNow()} also drops the tasks that have not started and interrupts the
     * running ones (their goroutines only). Shutting one down does not affect the runtime or
     * other services. When Java goroutines hold every thread they may, {@code execute} waits
     * as {@link #go(Callable)} does, then throws
     * {@link java.util.concurrent.RejectedExecutionException} (its cause a {@link GrException}). An exception thrown by a task given to {@code execute} goes to the
     * uncaught-exception handler of its worker thread, as with a {@code ThreadPoolExecutor}.
     *
     * @return a new executor service over goroutines
     */
    public static ExecutorService executor() {
        return new GoroutineExecutor(TimeUnit.SECONDS.toNanos(SPAWN_TIMEOUT_SECONDS));
    }

    /**
     * Configures the runtime before its first use ({@code gr_init}). Optional: the first use
     * starts the defaults. Values of 0 choose defaults.
     *
     * @param workers processors running goroutines (0: {@code $GR_WORKERS}, else the CPU count)
     * @param stackSize bytes reserved per coroutine stack (0: the default)
     * @param maxThreads cap on OS threads (0: the default, 10,000); each Java goroutine holds
     *     one until it returns, so at most {@code maxThreads - workers - 1} exist at once
     * @throws IllegalStateException if the runtime is already running or was shut down
     */
    public static void configure(int workers, long stackSize, int maxThreads) {
        if (workers < 0 || stackSize < 0 || maxThreads < 0) {
            throw new IllegalArgumentException("negative configuration value");
        }
        Status.check(Native.init(workers, stackSize, maxThreads), "gr_init");
    }

    /**
     * Sleeps: parks the goroutine, or blocks the calling thread.
     *
     * @param duration how long; {@code <= 0}: not at all (but an interrupt status set
     *     already is reported)
     * @param unit the unit of {@code duration}
     * @throws InterruptedException if the thread is interrupted while sleeping
     */
    public static void sleep(long duration, TimeUnit unit) throws InterruptedException {
        long ns = Status.timeout(duration, unit);
        if (ns == 0) {
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            return;
        }
        long limit = ns == Status.FOREVER ? Long.MAX_VALUE : ns; // gr_sleep(<= 0) only yields
        Status.check(Waiter.await(Waiter.NOTHING, Native::sleep, limit), "gr_sleep");
    }


    /**
     * The runtime's counters.
     *
     * @return a snapshot
     */
    public static Stats stats() {
        long[] v = new long[Stats.LENGTH];
        Status.check(Native.stats(v), "gr_stats_get");
        return new Stats(v);
    }

    /**
     * A report of every live goroutine, as text in Go's traceback style
     * ({@code goroutine 17 [chan receive, 2 min]:} and its frames), then the worker threads,
     * the threads waiting in gr and the {@link #stats()} figures ({@code gr_dump}). Each
     * goroutine shows its kind ({@code java} for goroutines started by {@link #go(Callable)},
     * {@code c}, {@code bound}, {@code python}), its state and wait (the channel, mutex,
     * WaitGroup, joined goroutine, deadline) and for how long; a Java goroutine shows the Java
     * stack of its thread (most recent call first, sampled just before the native dump: a
     * blocked goroutine's is exact, a running one's may have moved on) above its native
     * frames. Nothing is stopped: each parked goroutine is held for the microseconds its own
     * stack walk takes. Callable from any thread or goroutine.
     *
     * @return the report
     * @throws IllegalStateException if the runtime is not running
     */
    public static String dump() {
        return dump(DumpFormat.TEXT);
    }

    /**
     * {@link #dump()} in {@code format}.
     *
     * @param format text or JSON lines
     * @return the report
     * @throws IllegalStateException if the runtime is not running
     */
    public static String dump(DumpFormat format) {
        return new String(Dump.take(Objects.requireNonNull(format, "format")), StandardCharsets.UTF_8);
    }

    /**
     * Writes {@link #dump(DumpFormat)} to {@code out} as UTF-8, once it is complete (the
     * stream is written after the runtime has let every goroutine go; it is neither flushed
     * nor closed).
     *
     * @param out where the report goes (for example {@code System.err})
     * @param format text or JSON lines
     * @throws IOException if {@code out} fails
     * @throws IllegalStateException if the runtime is not running
     */
    public static void dump(OutputStream out, DumpFormat format) throws IOException {
        Objects.requireNonNull(out, "out");
        out.write(Dump.take(Objects.requireNonNull(format, "format")));
    }

    /**
     * Go's {@code time.After(d)}: a channel that delivers one value, its due time (a
     * {@link System#nanoTime()} value), {@code delay} from now; for a timeout in a
     * {@link Select}. Receive-only. {@link LongChannel#close()} frees it (and stops the timer
     * if it has not fired).
     *
     * @param delay how long until the value comes; {@code <= 0}: at once
     * @param unit the unit of {@code delay}
     * @return the channel
     */
    public static LongChannel after(long delay, TimeUnit unit) {
        return new LongChannel("after channel", Status.pointer(Native.after(unit.toNanos(delay)), "gr_after"));
    }

    /**
     * Whether the caller runs inside a goroutine (a Java goroutine's worker thread).
     *
     * @return true inside a goroutine
     */
    public static boolean inGoroutine() {
        return Native.context() != 0;
    }

    /**
     * Shuts the runtime down ({@code gr_shutdown}): waits up to {@code timeout} for goroutines
     * to finish, then stops the workers, which detach from the JVM as they exit. The runtime
     * cannot be started again in this process.
     *
     * @param timeout how long to wait for goroutines; {@code <= 0}: not at all
     * @param unit the unit of {@code timeout}
     * @throws IllegalStateException if it was already shut down
     */
    public static void shutdown(long timeout, TimeUnit unit) {
        Goroutine.releaseAllDeferred();
        int rc = Native.shutdown(Status.timeout(timeout, unit));
        if (rc != Status.OK && rc != Status.ETIMEDOUT) {
            throw Status.exception(rc, "gr_shutdown");
        }
    }

    /**
     * The runtime's version, {@code "MAJOR.MINOR.PATCH"}.
     *
     * @return the version of the loaded libgr
     */
    public static String version() {
        return Native.version();
    }

    /**
     * The address of a C symbol, for {@link #goNative(long, long)} and for C helpers that take
     * channel handles. The library is opened with {@code dlopen} (it may already be loaded, e.g.
     * by {@link System#load}); it stays open.
     *
     * @param library path of the shared library, or {@code null} for symbols already in the
     *     process
     * @param name the symbol
     * @return its address
     * @throws IllegalArgumentException if it cannot be found
     */
    public static long symbol(String library, String name) {
        Objects.requireNonNull(name, "name");
        long p = Native.symbol(library, name);
        if (p == 0) {
            throw new IllegalArgumentException("symbol " + name + " not found in " + library);
        }
        return p;
    }
}
