// Optional rows: workloads through gr's Java binding (package io.gr), built only when
// build/java/gr.jar (make java-jar) or bindings/java/target/*.jar exists. Uses
// Goroutines.go(Runnable) -> Goroutine.join() and LongChannel send/recv, from the main
// (plain) Java thread.
//
//   java -cp JAR:DIR JavaGrBench <spawn|spawnjoin|pingpong> <size> [workers]
import io.gr.Goroutine;
import io.gr.Goroutines;
import io.gr.LongChannel;

public class JavaGrBench {
  interface W { void run(long n) throws Exception; }

  /** How long the warm-up lasts at least (as Bench.java's). */
  static final long WARM_NS = 500_000_000L;

  static void report(String wl, long ops, long ns) {
    System.out.printf("RESULT workload=%s ops=%d ns=%d%n", wl, ops, ns);
  }

  static void spawn(long n) throws Exception {
    Goroutine<?>[] gs = new Goroutine<?>[(int) n];
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) gs[i] = Goroutines.go(() -> { });
    for (Goroutine<?> g : gs) { g.join(); g.close(); }
    report("spawn", n, System.nanoTime() - t0);
  }

  // One at a time: go() then join(), as a Java thread hands one job to a goroutine and waits.
  static void spawnjoin(long n) throws Exception {
    Runnable nop = () -> { };
    long t0 = System.nanoTime();
    for (long i = 0; i < n; i++) Goroutines.go(nop).join();
    report("spawnjoin", n, System.nanoTime() - t0);
  }

  static void pingpong(long n) throws Exception {
    LongChannel ping = new LongChannel(0), pong = new LongChannel(0);
    Goroutine<?> g = Goroutines.go(() -> {
      try {
        for (;;) { long v = ping.recv(); if (v < 0) return; pong.send(v); }
      } catch (Exception e) { throw new RuntimeException(e); }
    });
    long t0 = System.nanoTime();
    for (long i = 0; i < n; i++) {
      ping.send(i);
      if (pong.recv() != i) { System.err.println("pingpong mismatch"); System.exit(3); }
    }
    long d = System.nanoTime() - t0;
    ping.send(-1);
    g.join();
    report("pingpong", n, d);
  }

  public static void main(String[] a) throws Exception {
    long size = Long.parseLong(a[1]);
    Goroutines.configure(a.length > 2 ? Integer.parseInt(a[2]) : 2, 0, 0);
    W w;
    long warm;
    switch (a[0]) {
      case "spawn": w = JavaGrBench::spawn; warm = Math.max(1, size / 10); break;
      case "spawnjoin": w = JavaGrBench::spawnjoin; warm = Math.max(1000, size / 10); break;
      case "pingpong": w = JavaGrBench::pingpong; warm = Math.max(1, size / 10); break;
      default: System.err.println("JavaGrBench: workload " + a[0] + " not available"); System.exit(65); return;
    }
    // Warm-up as Bench.java's: a tenth of the size, again until WARM_NS have passed.
    long t0 = System.nanoTime();
    do { w.run(warm); } while (System.nanoTime() - t0 < WARM_NS);
    w.run(size);
    System.exit(0);
  }
}
