package io.gr;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * A task group (Go's {@code errgroup} with its context, the shape of
 * {@code StructuredTaskScope} and Python's {@code asyncio.TaskGroup}): Java goroutines
 * started into it ({@link #go(Callable)}) run under its {@link #context()}; {@link #close()}
 * waits for all of them. The first one to fail fires the context and interrupts the others,
 * and {@link #close()} throws an {@link ExecutionException} whose cause is its throwable, with
 * the failures of the others (other than the interruptions the group itself caused) added to
 * that cause as suppressed: as {@link java.util.concurrent.Future#get()} and
 * {@link java.util.concurrent.ExecutorService#invokeAny} report a task's failure, whatever
 * the throwable (an {@link Error} too). An optional limit caps how
 * many run at once ({@link #go(Callable)} then waits for a slot, Go's {@code SetLimit}).
 *
 * <pre>{@code
 * try (Group g = new Group(ctx)) {
 *     for (String url : urls) {
 *         g.go(() -> fetch(g.context(), url));
 *     }
 * } // waits; ExecutionException, caused by the first failure
 * }</pre>
 *
 * <p>Usable from Java threads and goroutines alike; the goroutines are {@link Goroutine}s
 * ({@link java.util.concurrent.Future}s) as {@link Goroutines#go(Callable)}'s are.
 */
public final class Group implements AutoCloseable {
    static {
        Native.ensureLoaded();
    }

    /** The native group: its waits go through the waiter machinery (interrupts, close). */
    private static final class Handle extends NativeResource {
        Handle(long ptr) {
            super("group", ptr, Native::groupFree);
        }
    }

    private final Handle handle;
    private final Context context;
    /** Goroutines started and not yet returned. Guarded by this. */
    private final Set<Task<?>> tasks = Collections.newSetFromMap(new IdentityHashMap<>());
    private final List<Throwable> failures = new ArrayList<>(); // guarded by this, in order
    private boolean cancelled; // guarded by this
    private boolean closed; // guarded by this

    /** Creates a group with a new root context and no limit. */
    public Group() {
        this(null, 0);
    }

    /**
     * Creates a group whose context derives from {@code parent}, with no limit.
     *
     * @param parent the parent context: its firing fires the group's
     */
    public Group(Context parent) {
        this(Objects.requireNonNull(parent, "parent"), 0);
    }

    /**
     * Creates a group whose context derives from {@code parent} (null: a new root), running
     * at most {@code limit} goroutines at once.
     *
     * @param parent the parent context, or null
     * @param limit the most goroutines running at once; 0: no limit
     * @throws IllegalArgumentException if {@code limit} is negative
     */
    public Group(Context parent, int limit) {
        this.handle = new Handle(make(parent, limit));
        this.context = new Context(Status.pointer(handle.call(Native::groupContext), "gr_group_context"));
    }

    private static long make(Context parent, int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("negative group limit " + limit);
        }
        long g = parent == null ? Native.groupNew(0, limit) : parent.call(p -> Native.groupNew(p, limit));
        return Status.pointer(g, "gr_group_new");
    }

    /**
     * The group's context: fired by the first failure, by {@link #cancel()}, once
     * {@link #close()} has waited for every goroutine, or through the parent. Closed by the
     * group's {@link #close()}.
     *
     * @return the context
     */
    public Context context() {
        return context;
    }

    /**
     * Starts {@code body} as a goroutine of the group, first waiting for a slot if the group
     * has a limit. It then waits for a thread as {@link Goroutines#go(Callable)} does (up to
     * 10 s when Java goroutines hold every thread they may).
     *
     * @param body the code to run; an exception it throws fails the group
     * @param <T> the result type
     * @return the goroutine
     * @throws InterruptedException if interrupted while waiting for a slot
     * @throws IllegalStateException if the group was closed
     * @throws GrException if no thread became free for it in time
     */
    public <T> Goroutine<T> go(Callable<T> body) throws InterruptedException {
        return spawn(body, Status.FOREVER);
    }

    /**
     * {@link #go(Callable)} for a {@link Runnable}.
     *
     * @param body the code to run; an exception it throws fails the group
     * @return the goroutine
     * @throws InterruptedException if interrupted while waiting for a slot
     * @throws IllegalStateException if the group was closed
     */
    public Goroutine<Void> go(Runnable body) throws InterruptedException {
        Objects.requireNonNull(body, "body");
        return go(() -> {
            body.run();
            return null;
        });
    }

    /**
     * Starts {@code body} only if a slot is free now (Go's {@code TryGo}).
     *
     * @param body the code to run; an exception it throws fails the group
     * @param <T> the result type
     * @return the goroutine, or null if the group is at its limit
     * @throws IllegalStateException if the group was closed
     */
    public <T> Goroutine<T> tryGo(Callable<T> body) {
        try {
            return spawn(body, 0);
        } catch (InterruptedException e) {
            throw new AssertionError("a poll does not wait", e);
        }
    }

    /**
     * {@link #go(Callable)} waiting at most {@code timeout} for a slot.
     *
     * @param body the code to run; an exception it throws fails the group
     * @param timeout how long to wait for a slot; {@code <= 0}: not at all
     * @param unit the unit of {@code timeout}
     * @param <T> the result type
     * @return the goroutine, or null if no slot became free in time
     * @throws InterruptedException if interrupted while waiting for a slot
     * @throws IllegalStateException if the group was closed
     */
    public <T> Goroutine<T> go(Callable<T> body, long timeout, TimeUnit unit) throws InterruptedException {
        return spawn(body, Status.timeout(timeout, unit));
    }

    private <T> Goroutine<T> spawn(Callable<T> body, long ns) throws InterruptedException {
        Objects.requireNonNull(body, "body");
        List<Task<T>> self = new ArrayList<>(1);
        Task<T> t = new Task<>(() -> {
            try {
                return body.call();
            } catch (Exception | Error e) {
                failed(e);
                throw e;
            } finally {
                synchronized (this) {
                    tasks.remove(self.get(0));
                }
            }
        }, false);
        self.add(t);
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("group was closed; it cannot start goroutines");
            }
            tasks.add(t);
        }
        long[] out = new long[1];
        long threadNs = TimeUnit.SECONDS.toNanos(Goroutines.SPAWN_TIMEOUT_SECONDS);
        int rc = handle.await((g, w, c) -> Native.groupSpawnTask(g, t, w, c, threadNs, out), ns);
        if (rc != Status.OK) {
            synchronized (this) {
                tasks.remove(t);
            }
            if (rc == Waiter.ABANDONED) {
                throw handle.closedWhileWaiting();
            }
            if (rc == Status.EAGAIN || rc == Status.ETIMEDOUT) {
                return null;
            }
            throw Status.exception(rc, "Group.go");
        }
        return new Goroutine<>(out[0], t);
    }

    /** A goroutine's body threw {@code e}: the first failure cancels the group. */
    private void failed(Throwable e) {
        synchronized (this) {
            if (cancelled && (e instanceof InterruptedException || e instanceof CancellationException)) {
                return; // the group's own interruption, not a failure of its own
            }
            failures.add(e);
            if (cancelled) {
                return;
            }
        }
        cancel();
    }

    /**
     * Fires the group's context and interrupts its running goroutines (Go's cancel of an
     * errgroup's context); an {@link InterruptedException} or {@link CancellationException}
     * they end with is then not a failure. Goroutines started later run, under the fired
     * context.
     */
    public void cancel() {
        List<Task<?>> running;
        synchronized (this) {
            cancelled = true;
            running = new ArrayList<>(tasks);
        }
        try {
            Status.check((int) handle.call(Native::groupCancel), "Group.cancel");
        } catch (IllegalStateException closedAlready) {
            return;
        }
        for (Task<?> t : running) {
            t.interrupt();
        }
    }

    /**
     * Waits for every goroutine of the group (not interruptible: an interrupt cancels the
     * group, and is set again on return), fires and frees the context and the group, then
     * reports the first failure. Closing again does nothing (and reports nothing).
     *
     * @throws ExecutionException if a goroutine failed: the cause is the first failure's
     *     throwable (any {@link Throwable}, as for {@link java.util.concurrent.Future#get()}),
     *     and the later failures are suppressed exceptions of that cause
     */
    @Override
    public void close() throws ExecutionException {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true; // no goroutine starts from now on
        }
        boolean interrupted = false;
        for (;;) {
            try {
                int rc = handle.await(Native::groupWait, Status.FOREVER);
                if (rc == Status.OK || rc == Status.EPANIC || rc == Waiter.ABANDONED) {
                    break;
                }
                Status.check(rc, "Group.close");
            } catch (InterruptedException e) {
                interrupted = true;
                cancel();
            }
        }
        context.close();
        handle.close();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        Throwable first;
        synchronized (this) {
            if (failures.isEmpty()) {
                return;
            }
            first = failures.get(0);
            for (Throwable t : failures.subList(1, failures.size())) {
                if (t != first) {
                    first.addSuppressed(t);
                }
            }
        }
        throw new ExecutionException("a goroutine of the group failed: " + first, first);
    }
}
