// The "legacy app" example: an existing Java 8-style service with a fixed thread pool hands
// work to C goroutines over a gr channel and collects the results on another. No Java
// upgrade, no virtual threads: one jar, one small C library linked with -lgr.
//
//   java -cp gr.jar:. LegacyApp path/to/libwork.so
import io.gr.Goroutine;
import io.gr.Goroutines;
import io.gr.LongChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

public class LegacyApp {
    public static void main(String[] args) throws Exception {
        String lib = args.length > 0 ? args[0] : "libwork.so";
        final int jobsTotal = 100_000;
        final int cWorkers = 64;

        // Load gr first (any io.gr class does), then the C library: it reuses libgr.so.0.
        System.out.println("gr " + Goroutines.version());
        System.load(new java.io.File(lib).getAbsolutePath());
        long worker = Goroutines.symbol(lib, "collatz_worker");

        try (LongChannel jobs = new LongChannel(1024); LongChannel results = new LongChannel(1024)) {
            // The C side: 64 goroutines on coroutine stacks, a handful of OS threads.
            List<Goroutine<Void>> cs = new ArrayList<>();
            for (int i = 0; i < cWorkers; i++) {
                cs.add(Goroutines.goNativeWithArgs(worker, jobs.retainNative(), results.retainNative()));
            }

            // The legacy side: a plain thread pool submits work, as it always has.
            ExecutorService pool = Executors.newFixedThreadPool(5); // 4 producers + 1 collector
            long t0 = System.nanoTime();
            List<Future<?>> producers = new ArrayList<>();
            for (int p = 0; p < 4; p++) {
                final int part = p;
                producers.add(pool.submit(() -> {
                    for (long n = part + 1; n <= jobsTotal; n += 4) {
                        jobs.send(n);
                    }
                    return null;
                }));
            }
            AtomicLong maxSteps = new AtomicLong();
            AtomicLong argMax = new AtomicLong();
            boolean[] seen = new boolean[jobsTotal + 1];
            Future<?> collector = pool.submit(() -> {
                for (int i = 0; i < jobsTotal; i++) {
                    long r = results.recv();
                    long n = r >>> 16;
                    long steps = r & 0xffff;
                    if (seen[(int) n]) {
                        throw new IllegalStateException("job " + n + " came back twice");
                    }
                    seen[(int) n] = true;
                    if (steps > maxSteps.get()) {
                        maxSteps.set(steps);
                        argMax.set(n);
                    }
                }
                return null;
            });
            for (Future<?> f : producers) {
                f.get();
            }
            jobs.closeForSend(); // the C workers drain and return
            collector.get();
            for (Goroutine<Void> g : cs) {
                g.join();
            }
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            pool.shutdown();
            System.out.printf("%d jobs through %d C goroutines in %d ms; longest Collatz chain below %d:"
                    + " %d (%d steps)%n", jobsTotal, cWorkers, ms, jobsTotal, argMax.get(), maxSteps.get());
            System.out.println(Goroutines.stats());
        }
    }
}
