package io.gr;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * A snapshot of the runtime's counters ({@code gr_stats}). The runtime is shared by every
 * language in the process, so these count C, Python and Java goroutines alike. The counts by
 * state and by wait reason are taken one goroutine at a time while the runtime runs on, so
 * they add up only approximately when goroutines change state meanwhile.
 */
public final class Stats {
    /** Longs {@code Native.stats} fills, in this order (runtime.c keeps the same). */
    static final int WORKERS = 0, GOROUTINES = 1, THREADS = 2, SPAWNED = 3, STEALS = 4, RETAKES = 5,
            RUNNING = 6, RUNNABLE = 7, PARKED = 8, SLEEPING = 9, BLOCKING = 10, RUNQ_GLOBAL = 11,
            RUNQ_LOCAL = 12, RUNQ_PINNED = 13, TIMERS = 14, THREADS_RUNNING = 15, THREADS_IDLE = 16,
            THREADS_BLOCKING = 17, PLAIN_THREADS = 18, PLAIN_WAITING = 19, WAITING = 20;
    /** Entries of {@code gr_stats.waiting} ({@code GR_WAIT_REASONS}). */
    static final int WAIT_REASONS = 16;
    static final int LENGTH = WAITING + WAIT_REASONS;

    private final long[] v;

    Stats(long[] v) {
        this.v = v.clone();
    }

    /**
     * Processors running goroutines.
     *
     * @return the worker count
     */
    public long workers() {
        return v[WORKERS];
    }

    /**
     * Live goroutines: runnable, running or parked.
     *
     * @return the live goroutine count
     */
    public long goroutines() {
        return v[GOROUTINES];
    }

    /**
     * OS threads the runtime owns now (workers, spare threads and the monitor).
     *
     * @return the thread count
     */
    public long threads() {
        return v[THREADS];
    }

    /**
     * Goroutines spawned since the runtime started, by any language.
     *
     * @return the total
     */
    public long spawnedTotal() {
        return v[SPAWNED];
    }

    /**
     * Work-stealing events since the runtime started.
     *
     * @return the total
     */
    public long stealsTotal() {
        return v[STEALS];
    }

    /**
     * Processors the runtime took back from threads stuck in foreign code (or in Java code
     * that blocked outside gr), since it started.
     *
     * @return the total
     */
    public long retakesTotal() {
        return v[RETAKES];
    }

    /**
     * Goroutines running on a worker now.
     *
     * @return the count
     */
    public long running() {
        return v[RUNNING];
    }

    /**
     * Goroutines queued to run.
     *
     * @return the count
     */
    public long runnable() {
        return v[RUNNABLE];
    }

    /**
     * Goroutines parked in a wait other than a sleep, and Java goroutines whose thread waits
     * in gr.
     *
     * @return the count
     */
    public long parked() {
        return v[PARKED];
    }

    /**
     * Goroutines sleeping ({@link Goroutines#sleep}).
     *
     * @return the count
     */
    public long sleeping() {
        return v[SLEEPING];
    }

    /**
     * Goroutines in foreign code outside the scheduler (a blocking section, or a call the
     * runtime took the processor from).
     *
     * @return the count
     */
    public long blocking() {
        return v[BLOCKING];
    }

    /**
     * Parked goroutines waiting for {@code reason}.
     *
     * @param reason a wait reason
     * @return the count
     */
    public long waiting(WaitReason reason) {
        return v[WAITING + reason.code];
    }

    /**
     * Parked goroutines by wait reason, the reasons with none left out.
     *
     * @return an unmodifiable map, in the order of {@link WaitReason}
     */
    public Map<WaitReason, Long> waiting() {
        Map<WaitReason, Long> m = new EnumMap<>(WaitReason.class);
        for (WaitReason r : WaitReason.values()) {
            if (waiting(r) != 0) {
                m.put(r, waiting(r));
            }
        }
        return Collections.unmodifiableMap(m);
    }

    /**
     * Goroutines in the global run queue.
     *
     * @return the count
     */
    public long runqGlobal() {
        return v[RUNQ_GLOBAL];
    }

    /**
     * Goroutines in the processors' own run queues, all processors together.
     *
     * @return the count
     */
    public long runqLocal() {
        return v[RUNQ_LOCAL];
    }

    /**
     * Goroutines queued for the one thread they are pinned to.
     *
     * @return the count
     */
    public long runqPinned() {
        return v[RUNQ_PINNED];
    }

    /**
     * Timed waits in the runtime's timer heap: sleeps and timeouts of coroutine goroutines
     * still open. A thread's timed wait (a plain thread's, or a Java goroutine's, whose
     * thread waits) sleeps in the kernel instead and is not counted.
     *
     * @return the count
     */
    public long timers() {
        return v[TIMERS];
    }

    /**
     * Worker threads holding a processor.
     *
     * @return the count
     */
    public long threadsRunning() {
        return v[THREADS_RUNNING];
    }

    /**
     * Worker threads idle (asleep until there is work, or given back after a while).
     *
     * @return the count
     */
    public long threadsIdle() {
        return v[THREADS_IDLE];
    }

    /**
     * Worker threads in foreign code without a processor (blocking calls).
     *
     * @return the count
     */
    public long threadsBlocking() {
        return v[THREADS_BLOCKING];
    }

    /**
     * Plain threads known to gr: threads other than gr's own (a Java thread that started a
     * goroutine, made a channel or waited) that called it.
     *
     * @return the count
     */
    public long plainThreads() {
        return v[PLAIN_THREADS];
    }

    /**
     * Plain threads asleep in a gr wait now.
     *
     * @return the count
     */
    public long plainWaiting() {
        return v[PLAIN_WAITING];
    }

    @Override
    public String toString() {
        return "Stats{workers=" + workers() + ", goroutines=" + goroutines() + ", threads=" + threads()
                + ", spawnedTotal=" + spawnedTotal() + ", stealsTotal=" + stealsTotal()
                + ", retakesTotal=" + retakesTotal() + ", running=" + running() + ", runnable="
                + runnable() + ", parked=" + parked() + ", sleeping=" + sleeping() + ", blocking="
                + blocking() + ", waiting=" + waiting() + ", runqGlobal=" + runqGlobal()
                + ", runqLocal=" + runqLocal() + ", runqPinned=" + runqPinned() + ", timers="
                + timers() + ", threadsRunning=" + threadsRunning() + ", threadsIdle="
                + threadsIdle() + ", threadsBlocking=" + threadsBlocking() + ", plainThreads="
                + plainThreads() + ", plainWaiting=" + plainWaiting() + "}";
    }
}
