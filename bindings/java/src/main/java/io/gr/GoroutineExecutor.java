package io.gr;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@link Goroutines#executor()}: an {@code ExecutorService} whose tasks are detached Java
 * goroutines. {@code submit}, {@code invokeAll} and {@code invokeAny} come from
 * {@link AbstractExecutorService} over {@link #execute}.
 *
 * <p>Life cycle, as {@code ThreadPoolExecutor}'s: RUNNING, then SHUTDOWN ({@link #shutdown()}
 * or {@link #shutdownNow()}: new tasks are rejected), then terminated once every accepted
 * task has finished or been dropped. A job is QUEUED (its goroutine has not started it),
 * RUNNING, or DROPPED by {@code shutdownNow} (its goroutine, still queued in gr, then does
 * nothing). Jobs live in {@link #jobs} from acceptance until they end or are dropped.
 */
final class GoroutineExecutor extends AbstractExecutorService {
    private static final int QUEUED = 0;
    private static final int RUNNING = 1;
    private static final int DROPPED = 2;

    private final Set<Job> jobs = ConcurrentHashMap.newKeySet();
    /** How long {@link #execute} waits for a thread when Java goroutines hold them all. */
    private final long spawnTimeoutNs;
    private volatile boolean shutdown;
    private volatile boolean stopNow;
    private final Object termination = new Object();

    GoroutineExecutor(long spawnTimeoutNs) {
        this.spawnTimeoutNs = spawnTimeoutNs;
    }

    private final class Job implements Runnable {
        final Runnable command;
        final AtomicInteger state = new AtomicInteger(QUEUED);
        private Thread runner; // guarded by this

        Job(Runnable command) {
            this.command = command;
        }

        @Override
        public void run() {
            if (!state.compareAndSet(QUEUED, RUNNING)) {
                return; // dropped by shutdownNow
            }
            try {
                synchronized (this) {
                    runner = Thread.currentThread();
                    if (stopNow) {
                        runner.interrupt(); // shutdownNow ran after it started: as if it saw us
                    }
                }
                command.run();
            } finally {
                synchronized (this) {
                    runner = null; // the goroutine's interrupt status is cleared after us
                }
                jobs.remove(this);
                tryTerminate();
            }
        }

        synchronized void interrupt() {
            if (runner != null) {
                runner.interrupt();
            }
        }
    }

    @Override
    public void execute(Runnable command) {
        Objects.requireNonNull(command, "command");
        Job j = new Job(command);
        jobs.add(j);
        if (shutdown) { // after the add: a concurrent shutdown either sees the job or we see it
            jobs.remove(j);
            tryTerminate();
            throw new RejectedExecutionException("executor is shut down");
        }
        try {
            Goroutines.goDetached(j, spawnTimeoutNs);
        } catch (RuntimeException e) {
            jobs.remove(j);
            tryTerminate();
            throw new RejectedExecutionException("cannot start a goroutine: " + e.getMessage(), e);
        }
    }

    @Override
    public void shutdown() {
        shutdown = true;
        tryTerminate();
    }

    @Override
    public List<Runnable> shutdownNow() {
        shutdown = true;
        stopNow = true;
        List<Runnable> dropped = new ArrayList<>();
        for (Job j : jobs) {
            if (j.state.compareAndSet(QUEUED, DROPPED)) {
                dropped.add(j.command);
                jobs.remove(j);
            } else {
                j.interrupt();
            }
        }
        tryTerminate();
        return dropped;
    }

    @Override
    public boolean isShutdown() {
        return shutdown;
    }

    @Override
    public boolean isTerminated() {
        return shutdown && jobs.isEmpty();
    }

    private void tryTerminate() {
        if (isTerminated()) {
            synchronized (termination) {
                termination.notifyAll();
            }
        }
    }

    /**
     * Waits until terminated or the timeout passes ({@code <= 0}: not at all). From a
     * goroutine, the wait gives its processor away first ({@code gr_blocking_begin}).
     */
    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        long ns = unit.toNanos(timeout);
        if (ns <= 0) {
            return isTerminated();
        }
        long start = System.nanoTime();
        boolean handedOff = false;
        try {
            synchronized (termination) {
                while (!isTerminated()) {
                    long left = ns - (System.nanoTime() - start);
                    if (left <= 0) {
                        return false;
                    }
                    if (!handedOff) {
                        Native.blockingBegin();
                        handedOff = true;
                    }
                    TimeUnit.NANOSECONDS.timedWait(termination, left);
                }
                return true;
            }
        } finally {
            if (handedOff) {
                Native.blockingEnd();
            }
        }
    }
}
