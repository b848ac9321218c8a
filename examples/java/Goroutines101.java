// The classic goroutines example, in Java on gr: a generator, a pipeline of goroutines,
// a fan-out/fan-in over channels, select with a timeout, a WaitGroup, and the
// java.util.concurrent side (Future, ExecutorService, CompletableFuture).
//
//   make demo-java     (or: javac -cp build/java/gr.jar Goroutines101.java && java -cp ... Goroutines101)
import io.gr.Channel;
import io.gr.Goroutine;
import io.gr.Goroutines;
import io.gr.LongChannel;
import io.gr.Received;
import io.gr.Select;
import io.gr.WaitGroup;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

public class Goroutines101 {
    public static void main(String[] args) throws Exception {
        // 1. Hello from goroutines: each runs on a gr worker thread (gr-worker-N). A Callable
        //    body may throw checked exceptions such as InterruptedException.
        try (Channel<String> hellos = new Channel<>(0)) {
            for (int i = 0; i < 3; i++) {
                final int id = i;
                Goroutines.go(() -> {
                    hellos.send("hello from goroutine " + id + " on " + Thread.currentThread().getName());
                    return null;
                });
            }
            for (int i = 0; i < 3; i++) {
                System.out.println(hellos.recv());
            }
        }

        // 2. A pipeline: numbers -> squares -> sum, one goroutine per stage. A channel is
        //    Iterable: the loop ends once it is closed (Go's close) and drained.
        try (Channel<Long> nums = new Channel<>(16); Channel<Long> squares = new Channel<>(16)) {
            Goroutines.go(() -> {
                try {
                    for (long n = 1; n <= 1000; n++) {
                        nums.send(n);
                    }
                } finally {
                    nums.closeForSend();
                }
                return null;
            });
            Goroutines.go(() -> {
                try {
                    for (long n : nums) {
                        squares.send(n * n);
                    }
                } finally {
                    squares.closeForSend();
                }
                return null;
            });
            long sum = 0;
            for (long v : squares) {
                sum += v;
            }
            System.out.println("sum of squares 1..1000 = " + sum);
        }

        // 3. Fan-out / fan-in with a WaitGroup: 8 workers share one job channel.
        try (LongChannel jobs = new LongChannel(0); LongChannel results = new LongChannel(64);
             WaitGroup wg = new WaitGroup()) {
            wg.add(8);
            for (int w = 0; w < 8; w++) {
                Goroutines.go(() -> {
                    try {
                        // Go's v, ok := <-ch, without an exception
                        for (Received<Long> j; (j = jobs.receive()).ok(); ) {
                            results.send(j.value() * 2);
                        }
                    } finally {
                        wg.done();
                    }
                    return null;
                });
            }
            Goroutines.go(() -> {
                wg.await();
                results.closeForSend();
                return null;
            });
            Goroutine<Void> feeder = Goroutines.go(() -> {
                try {
                    for (long j = 0; j < 100; j++) {
                        jobs.send(j);
                    }
                } finally {
                    jobs.closeForSend();
                }
                return null;
            });
            long[] total = {0};
            results.forEach(r -> total[0] += r);
            feeder.join();
            System.out.println("fan-in total = " + total[0] + " (expected " + 2 * 99 * 100 / 2 + ")");
        }

        // 4. select with a timeout, as in Go's `select { case v := <-ch: ... case <-time.After(...) }`.
        //    Each case is typed by what it carries.
        try (LongChannel slow = new LongChannel(0)) {
            Goroutines.go(() -> {
                Goroutines.sleep(200, TimeUnit.MILLISECONDS);
                slow.send(42);
                return null;
            });
            Select s = new Select();
            Select.RecvLong fromSlow = s.recv(slow);
            Select.Case k = s.select(50, TimeUnit.MILLISECONDS);
            System.out.println(k == null ? "select: timed out after 50 ms" : "select: got a value");
            k = s.select(2, TimeUnit.SECONDS);
            System.out.println(k == fromSlow ? "select: received " + fromSlow.value() : "select: timed out");
        }

        // 5. A goroutine is a Future: get() returns its result, or throws ExecutionException
        //    with what the body threw; join() is the Go-style wait.
        Goroutine<Integer> answer = Goroutines.go(() -> 6 * 7);
        System.out.println("get() = " + answer.get());
        Goroutine<Void> bad = Goroutines.go(() -> {
            throw new IllegalStateException("something broke in a goroutine");
        });
        try {
            bad.get();
        } catch (ExecutionException e) {
            System.out.println("get() threw ExecutionException caused by " + e.getCause());
        }

        // 6. java.util.concurrent: an ExecutorService over goroutines, CompletableFuture.
        ExecutorService ex = Goroutines.executor();
        List<Future<String>> done = ex.invokeAll(java.util.Arrays.asList(() -> "a", () -> "b", () -> "c"));
        List<String> letters = new ArrayList<>();
        for (Future<String> f : done) {
            letters.add(f.get());
        }
        String shout = CompletableFuture.supplyAsync(() -> String.join("", letters), ex)
                .thenApply(String::toUpperCase).get();
        ex.shutdown();
        System.out.println("invokeAll + CompletableFuture: " + shout + ", terminated: "
                + ex.awaitTermination(5, TimeUnit.SECONDS));
        System.out.println(Goroutines.stats());
    }
}
