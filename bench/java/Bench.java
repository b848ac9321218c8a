// Anchor: the bench workloads on Java threads.
//
//   java -cp DIR Bench <platform|virtual> <workload> <size> [workers]
//
// platform: one java.lang.Thread per task, SynchronousQueue as the unbuffered channel and
// ArrayBlockingQueue(1024) as the buffered one, ReentrantLock as the mutex (runs on JDK 17).
// virtual: the same code on virtual threads (needs JDK 21+; VirtualMaker.java is compiled only
// with the newer JDK and loaded by reflection, so this file still compiles with JDK 17).
// Closing a channel is done with interrupts (ring, sieve) or poison values (pingpong, fanin).
// There is no select workload: java.util.concurrent has no select over queues.
import java.io.BufferedReader;
import java.io.FileReader;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

public class Bench {
  static Function<Runnable, Thread> maker;
  static boolean virtual;
  static int workers = 2;

  static Thread start(Runnable r) {
    Thread t = maker.apply(r);
    t.setDaemon(true);
    t.start();
    return t;
  }

  static void report(String wl, long ops, long ns, double kib) {
    if (kib >= 0) System.out.printf("RESULT workload=%s ops=%d ns=%d kib=%.4f%n", wl, ops, ns, kib);
    else System.out.printf("RESULT workload=%s ops=%d ns=%d%n", wl, ops, ns);
  }

  static void die(String m) { System.err.println("Bench: " + m); System.exit(3); }

  static long vmHWM() {
    try (BufferedReader r = new BufferedReader(new FileReader("/proc/self/status"))) {
      String l;
      while ((l = r.readLine()) != null)
        if (l.startsWith("VmHWM:")) return Long.parseLong(l.substring(6).trim().split("\\s+")[0]);
    } catch (Exception e) { }
    return -1;
  }

  static void join(Thread t) {
    try { t.join(); } catch (InterruptedException e) { throw new RuntimeException(e); }
  }

  // Platform threads are started and joined in batches of 1,000 (pid_max caps live threads);
  // virtual threads all at once, as goroutines are.
  static void spawn(long n) {
    int batch = virtual ? Integer.MAX_VALUE : 1000;
    long t0 = System.nanoTime();
    List<Thread> ts = new ArrayList<>();
    for (long done = 0; done < n; ) {
      long b = Math.min(batch, n - done);
      ts.clear();
      for (long i = 0; i < b; i++) ts.add(start(() -> { }));
      for (Thread t : ts) join(t);
      done += b;
    }
    report("spawn", n, System.nanoTime() - t0, -1);
  }

  // One at a time from this (platform) thread: start a task, join it.
  static void spawnjoin(long n) {
    long t0 = System.nanoTime();
    for (long i = 0; i < n; i++) join(start(() -> { }));
    report("spawnjoin", n, System.nanoTime() - t0, -1);
  }

  static void pingpong(long n) throws Exception {
    SynchronousQueue<Long> ping = new SynchronousQueue<>(), pong = new SynchronousQueue<>();
    Thread t = start(() -> {
      try {
        for (;;) { long v = ping.take(); if (v < 0) return; pong.put(v); }
      } catch (InterruptedException e) { }
    });
    long t0 = System.nanoTime();
    for (long i = 0; i < n; i++) {
      ping.put(i);
      if (pong.take() != i) die("pingpong mismatch");
    }
    long d = System.nanoTime() - t0;
    ping.put(-1L);
    join(t);
    report("pingpong", n, d, -1);
  }

  static final int RING = 503;
  static void ring(long n) throws Exception {
    List<SynchronousQueue<Long>> chs = new ArrayList<>();
    for (int i = 0; i < RING; i++) chs.add(new SynchronousQueue<>());
    SynchronousQueue<Integer> done = new SynchronousQueue<>();
    Thread[] ts = new Thread[RING];
    for (int i = 0; i < RING; i++) {
      final int me = i;
      ts[i] = start(() -> {
        try {
          for (;;) {
            long tok = chs.get(me).take();
            if (tok == 0) { done.put(me); return; }
            chs.get((me + 1) % RING).put(tok - 1);
          }
        } catch (InterruptedException e) { }
      });
    }
    long t0 = System.nanoTime();
    chs.get(0).put(n);
    int who = done.take();
    long d = System.nanoTime() - t0;
    if (who != n % RING) die("ring ended at the wrong place");
    for (Thread t : ts) t.interrupt();
    for (Thread t : ts) join(t);
    report("ring", n, d, -1);
  }

  static void fanin(long n) throws Exception {
    long per = n / 4;
    ArrayBlockingQueue<Long> q = new ArrayBlockingQueue<>(1024);
    long[] sums = new long[4];
    Thread[] cons = new Thread[4], prod = new Thread[4];
    long t0 = System.nanoTime();
    for (int k = 0; k < 4; k++) {
      final int me = k;
      cons[k] = start(() -> {
        long s = 0;
        try { for (;;) { long v = q.take(); if (v < 0) break; s += v; } } catch (InterruptedException e) { }
        sums[me] = s;
      });
    }
    for (int k = 0; k < 4; k++)
      prod[k] = start(() -> {
        try { for (long i = 1; i <= per; i++) q.put(i); } catch (InterruptedException e) { }
      });
    for (Thread t : prod) join(t);
    for (int k = 0; k < 4; k++) q.put(-1L);
    for (Thread t : cons) join(t);
    long d = System.nanoTime() - t0;
    long s = 0;
    for (long v : sums) s += v;
    if (s != 4 * per * (per + 1) / 2) die("fanin: bad sum");
    report("fanin", 4 * per, d, -1);
  }

  static void parked(long n) throws Exception {
    CountDownLatch started = new CountDownLatch((int) n), release = new CountDownLatch(1);
    Thread[] ts = new Thread[(int) n];
    long h0 = vmHWM();
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++)
      ts[i] = start(() -> {
        started.countDown();
        try { release.await(); } catch (InterruptedException e) { }
      });
    started.await();
    Thread.sleep(50);
    long h1 = vmHWM();
    long d = System.nanoTime() - t0;
    release.countDown();
    for (Thread t : ts) join(t);
    report("parked", n, d, (double) (h1 - h0) / n);
  }

  static void yieldw(long n) {
    int g = 2 * workers;
    Thread[] ts = new Thread[g];
    long t0 = System.nanoTime();
    for (int i = 0; i < g; i++) ts[i] = start(() -> { for (long j = 0; j < n; j++) Thread.yield(); });
    for (Thread t : ts) join(t);
    report("yield", g * n, System.nanoTime() - t0, -1);
  }

  static long nthPrime(long n) {
    long c = 0;
    for (long x = 2; ; x++) {
      boolean p = true;
      for (long d = 2; d * d <= x; d++) if (x % d == 0) { p = false; break; }
      if (p && ++c == n) return x;
    }
  }

  static void sieve(long n) throws Exception {
    List<Thread> ts = new ArrayList<>();
    long t0 = System.nanoTime();
    SynchronousQueue<Long> ch = new SynchronousQueue<>();
    final SynchronousQueue<Long> first = ch;
    ts.add(start(() -> {
      try { for (long i = 2; ; i++) first.put(i); } catch (InterruptedException e) { }
    }));
    long prime = 0;
    for (long i = 0; i < n; i++) {
      prime = ch.take();
      final SynchronousQueue<Long> in = ch, out = new SynchronousQueue<>();
      final long p = prime;
      ts.add(start(() -> {
        try { for (;;) { long v = in.take(); if (v % p != 0) out.put(v); } } catch (InterruptedException e) { }
      }));
      ch = out;
    }
    long d = System.nanoTime() - t0;
    if (prime != nthPrime(n)) die("sieve: wrong prime");
    for (Thread t : ts) t.interrupt();
    for (Thread t : ts) join(t);
    report("sieve", n, d, -1);
  }

  static long counter;
  static void mutex(long k) {
    final int g = 1000;
    ReentrantLock mu = new ReentrantLock();
    counter = 0;
    Thread[] ts = new Thread[g];
    long t0 = System.nanoTime();
    for (int i = 0; i < g; i++)
      ts[i] = start(() -> {
        for (long j = 0; j < k; j++) { mu.lock(); try { counter++; } finally { mu.unlock(); } }
      });
    for (Thread t : ts) join(t);
    long d = System.nanoTime() - t0;
    if (counter != g * k) die("mutex: bad counter");
    report("mutex", g * k, d, -1);
  }

  static long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

  static void cpu(long n) {
    long[] out = new long[(int) n];
    Thread[] ts = new Thread[(int) n];
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) { final int me = i; ts[i] = start(() -> out[me] = fib(27)); }
    for (Thread t : ts) join(t);
    long d = System.nanoTime() - t0;
    for (long v : out) if (v != 196418) die("cpu: bad fib");
    report("cpu", n, d, -1);
  }

  interface W { void run(long n) throws Exception; }

  /** How long the warm-up lasts at least (bench/README.md, "Method"). */
  static final long WARM_NS = 500_000_000L;

  @SuppressWarnings("unchecked")
  public static void main(String[] a) throws Exception {
    if (a.length < 3) { System.err.println("usage: Bench <platform|virtual> <workload> <size> [workers]"); System.exit(64); }
    virtual = a[0].equals("virtual");
    if (virtual) maker = (Function<Runnable, Thread>) Class.forName("VirtualMaker").getDeclaredConstructor().newInstance();
    else maker = Thread::new;
    long size = Long.parseLong(a[2]);
    if (a.length > 3) workers = Integer.parseInt(a[3]);
    W w; long warm;
    switch (a[1]) {
      case "spawn": w = Bench::spawn; warm = 1000; break;
      case "spawnjoin": w = Bench::spawnjoin; warm = 1000; break;
      case "pingpong": w = Bench::pingpong; warm = 1000; break;
      case "ring": w = Bench::ring; warm = 1000; break;
      case "fanin": w = Bench::fanin; warm = 1000; break;
      case "parked": w = Bench::parked; warm = 0; break;
      case "yield": w = Bench::yieldw; warm = 1000; break;
      case "sieve": w = Bench::sieve; warm = 100; break;
      case "mutex": w = Bench::mutex; warm = 10; break;
      case "cpu": w = Bench::cpu; warm = 10; break;
      default: System.err.println("Bench: workload " + a[1] + " not available"); System.exit(65); return;
    }
    // Warm-up: the workload at a tenth of its size, again until WARM_NS have passed (the JIT
    // compiles on a CPU of its own meanwhile: measured from a cold start, a plain thread's
    // hand-offs share the other CPU for the first ~200 ms).
    if (warm > 0) {
      long t0 = System.nanoTime();
      do { w.run(Math.min(size, Math.max(size / 10, warm))); } while (System.nanoTime() - t0 < WARM_NS);
    }
    w.run(size);
    System.exit(0);
  }
}
