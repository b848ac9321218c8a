package io.gr;

/**
 * A snapshot of the runtime's counters ({@code gr_stats}). The runtime is shared by every
 * language in the process, so these count C, Python and Java goroutines alike.
 */
public final class Stats {
    private final long workers;
    private final long goroutines;
    private final long threads;
    private final long spawnedTotal;
    private final long stealsTotal;

    Stats(long[] v) {
        this.workers = v[0];
        this.goroutines = v[1];
        this.threads = v[2];
        this.spawnedTotal = v[3];
        this.stealsTotal = v[4];
    }

    /**
     * Processors running goroutines.
     *
     * @return the worker count
     */
    public long workers() {
        return workers;
    }

    /**
     * Live goroutines: runnable, running or parked.
     *
     * @return the live goroutine count
     */
    public long goroutines() {
        return goroutines;
    }

    /**
     * OS threads the runtime owns now.
     *
     * @return the thread count
     */
    public long threads() {
        return threads;
    }

    /**
     * Goroutines spawned since the runtime started, by any language.
     *
     * @return the total
     */
    public long spawnedTotal() {
        return spawnedTotal;
    }

    /**
     * Work-stealing events since the runtime started.
     *
     * @return the total
     */
    public long stealsTotal() {
        return stealsTotal;
    }

    @Override
    public String toString() {
        return "Stats{workers=" + workers + ", goroutines=" + goroutines + ", threads=" + threads
                + ", spawnedTotal=" + spawnedTotal + ", stealsTotal=" + stealsTotal + "}";
    }
}
