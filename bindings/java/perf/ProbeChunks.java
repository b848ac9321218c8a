// The chunked timing the Java probes share (SpawnJoinProbe, SplitProbe, SpawnSplitProbe):
// an operation run in chunks of 2,000, each chunk's time per operation, sorted. Chunks keep a
// probe's figure readable on a loaded machine, where one long run is not. Compiled with each
// probe (see their header comments).
package io.gr;

import java.util.Arrays;

public final class ProbeChunks {
    /** Operations per chunk. */
    public static final int PER = 2000;

    /** One operation of a probe. */
    public interface Op {
        void run() throws Exception;
    }

    private ProbeChunks() {}

    /** Runs {@code op} in {@code n} chunks of {@link #PER}: ns per operation of each, sorted. */
    public static long[] sorted(int n, Op op) throws Exception {
        long[] ns = new long[n];
        for (int c = 0; c < n; c++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < PER; i++) {
                op.run();
            }
            ns[c] = (System.nanoTime() - t0) / PER;
        }
        Arrays.sort(ns);
        return ns;
    }

    /** {@link #sorted}, printed as its minimum, first quartile and median. */
    public static String summary(int n, Op op) throws Exception {
        long[] ns = sorted(n, op);
        return String.format("min=%d p25=%d med=%d ns", ns[0], ns[n / 4], ns[n / 2]);
    }
}
