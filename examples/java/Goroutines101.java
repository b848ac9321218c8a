// The classic goroutines example, in Java on gr: a generator, a pipeline of goroutines,
// a fan-out/fan-in over channels, select with a timeout, and a WaitGroup.
//
//   make demo-java     (or: javac -cp build/java/gr.jar Goroutines101.java && java -cp ... Goroutines101)
import io.gr.Channel;
import io.gr.Goroutine;
import io.gr.Goroutines;
import io.gr.LongChannel;
import io.gr.Select;
import io.gr.WaitGroup;
import java.util.concurrent.TimeUnit;

public class Goroutines101 {
    public static void main(String[] args) throws Exception {
        // 1. Hello from goroutines: each runs on a gr worker thread (gr-worker-N).
        try (Channel<String> hellos = new Channel<>(0)) {
            for (int i = 0; i < 3; i++) {
                final int id = i;
                Goroutines.goDetached(() -> {
                    try {
                        hellos.send("hello from goroutine " + id + " on " + Thread.currentThread().getName());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            }
            for (int i = 0; i < 3; i++) {
                System.out.println(hellos.recv());
            }
        }

        // 2. A pipeline: numbers -> squares -> sum, one goroutine per stage.
        try (LongChannel nums = new LongChannel(16); LongChannel squares = new LongChannel(16)) {
            Goroutine gen = Goroutines.go(() -> {
                try {
                    for (long n = 1; n <= 1000; n++) {
                        nums.send(n);
                    }
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                } finally {
                    nums.closeForSend(); // Go's close(ch): receivers drain, then stop
                }
            });
            Goroutine sq = Goroutines.go(() -> {
                try {
                    nums.forEach(n -> {
                        try {
                            squares.send(n * n);
                        } catch (InterruptedException e) {
                            throw new RuntimeException(e);
                        }
                    });
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                } finally {
                    squares.closeForSend();
                }
            });
            long[] sum = {0};
            squares.forEach(v -> sum[0] += v);
            gen.join();
            sq.join();
            System.out.println("sum of squares 1..1000 = " + sum[0]);
        }

        // 3. Fan-out / fan-in with a WaitGroup: 8 workers share one job channel.
        try (LongChannel jobs = new LongChannel(0); LongChannel results = new LongChannel(64);
             WaitGroup wg = new WaitGroup()) {
            wg.add(8);
            for (int w = 0; w < 8; w++) {
                Goroutines.goDetached(() -> {
                    try {
                        jobs.forEach(j -> {
                            try {
                                results.send(j * 2);
                            } catch (InterruptedException e) {
                                throw new RuntimeException(e);
                            }
                        });
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } finally {
                        wg.done();
                    }
                });
            }
            Goroutines.goDetached(() -> {
                try {
                    wg.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                results.closeForSend();
            });
            Goroutine feeder = Goroutines.go(() -> {
                try {
                    for (long j = 0; j < 100; j++) {
                        jobs.send(j);
                    }
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                } finally {
                    jobs.closeForSend();
                }
            });
            long[] total = {0};
            results.forEach(r -> total[0] += r);
            feeder.join();
            System.out.println("fan-in total = " + total[0] + " (expected " + 2 * 99 * 100 / 2 + ")");
        }

        // 4. select with a timeout, as in Go's `select { case v := <-ch: ... case <-time.After(...) }`.
        try (LongChannel slow = new LongChannel(0)) {
            Goroutines.goDetached(() -> {
                try {
                    Goroutines.sleep(200, TimeUnit.MILLISECONDS);
                    slow.send(42);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            Select s = new Select();
            int fromSlow = s.recv(slow);
            int k = s.select(50, TimeUnit.MILLISECONDS);
            System.out.println(k == -1 ? "select: timed out after 50 ms" : "select: got a value");
            k = s.select(2, TimeUnit.SECONDS);
            System.out.println(k == fromSlow ? "select: received " + s.longValue(k) : "select: timed out");
        }

        // 5. A goroutine's exception reaches join().
        Goroutine bad = Goroutines.go(() -> {
            throw new IllegalStateException("something broke in a goroutine");
        });
        try {
            bad.join();
        } catch (io.gr.GoroutineException e) {
            System.out.println("join() rethrew: " + e.getCause());
        }
        System.out.println(Goroutines.stats());
    }
}
