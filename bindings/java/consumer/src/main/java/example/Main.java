package example;

import io.gr.Channel;
import io.gr.Goroutine;
import io.gr.Goroutines;
import io.gr.WaitGroup;

/**
 * A program built against the installed io.gr jar: producers in goroutines, the sum received
 * on the main thread. Prints {@code gr-consumer: sum=5050 ok} and exits 0.
 */
public final class Main {
    private Main() {}

    /** Sends 1..100 from ten goroutines and returns what the caller received. */
    static long run() throws Exception {
        try (Channel<Integer> ch = new Channel<>(16); WaitGroup wg = new WaitGroup()) {
            for (int p = 0; p < 10; p++) {
                int base = p * 10;
                wg.add(1);
                Goroutines.go(() -> {
                    try {
                        for (int i = 1; i <= 10; i++) {
                            ch.send(base + i);
                        }
                    } finally {
                        wg.done();
                    }
                    return null;
                });
            }
            Goroutine<Void> closer = Goroutines.go(() -> {
                wg.await();
                ch.closeForSend(); // Go's close(ch): the loop below ends once drained
                return null;
            });
            long sum = 0;
            for (int v : ch) {
                sum += v;
            }
            closer.get();
            return sum;
        }
    }

    public static void main(String[] args) throws Exception {
        long sum = run();
        System.out.println("gr-consumer: sum=" + sum + (sum == 5050 ? " ok" : " WRONG"));
        System.exit(sum == 5050 ? 0 : 1);
    }
}
