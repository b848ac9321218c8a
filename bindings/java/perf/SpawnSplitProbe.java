// A Java thread's go() + join() taken apart (issue 16): rows from the core's bound spawn and
// wait alone up to the binding's go() + join(), each adding one step. Medians of chunks of
// 2,000. In package io.gr to reach Native and Task. From the repository:
//
//   make java-jar && mkdir -p build/java/perf && cc -O2 -fPIC -shared -Iinclude \
//     -I$JAVA_HOME/include -I$JAVA_HOME/include/linux bindings/java/perf/spawn_split.c \
//     -o build/java/perf/libspawnsplit.so -Lbuild/lib -lgr
//   javac -cp build/java/gr.jar -d build/java/perf bindings/java/perf/SpawnSplitProbe.java \
//       bindings/java/perf/ProbeChunks.java
//   chrt -f 10 java -cp build/java/gr.jar:build/java/perf io.gr.SpawnSplitProbe 20 build/java/perf/libspawnsplit.so
//
// Rows: c (bound spawn of a C no-op + gr_wait, one JNI call); jni (the same as three JNI calls:
// spawn, wait, release); upcall (the goroutine upcalls a static Java no-op); slot (and takes an
// object out of a slot table, as Task.invokeSlot does; the spawner parks it with a CAS); slot+run
// (and reads it, runs a Runnable and writes a flag); reserved (slot+run, the spawner storing into
// a slot reserved on another line after its previous spawn, as Task.reserveNext does); go (the
// binding's go() + join()).
package io.gr;

import io.gr.ProbeChunks.Op;
import java.util.concurrent.atomic.AtomicReferenceArray;

public class SpawnSplitProbe {
  static native void init();
  static native long spawn(boolean java);
  static native long spawnTake(int slot);
  static native void cSpawnJoin();

  static void nop() {}

  static final int N = 1 << 14;
  static final AtomicReferenceArray<Object> SLOTS = new AtomicReferenceArray<>(N);
  static final Object RESERVED = new Object();
  static int hint, next;
  static boolean run;

  static final class Job {
    final Runnable body;
    volatile int done;
    Job(Runnable body) { this.body = body; }
  }

  static void take(int slot) {
    Object o = SLOTS.getAndSet(slot, null);
    if (run) {
      Job j = (Job) o;
      j.body.run();
      j.done = 1;
    }
  }

  static int park(Object o) {
    for (int n = 0;; n++) {
      int i = (hint + n) & (N - 1);
      if (SLOTS.get(i) == null && SLOTS.compareAndSet(i, null, o)) {
        hint = i + 1;
        return i;
      }
    }
  }

  static int reserve(int from) {
    for (int n = 1;; n++) {
      int i = (from + 16 * n) & (N - 1);
      if (SLOTS.get(i) == null && SLOTS.compareAndSet(i, null, RESERVED)) {
        return i;
      }
    }
  }

  static long chunks(int n, Op op) throws Exception {
    return ProbeChunks.sorted(n, op)[n / 2];
  }

  static void await(long h) {
    Native.wait(h, Long.MAX_VALUE, 0);
    Native.handleRelease(h);
  }

  public static void main(String[] a) throws Exception {
    int n = Integer.parseInt(a[0]);
    Goroutines.configure(2, 0, 0);
    System.load(new java.io.File(a[1]).getAbsolutePath());
    init();
    Runnable body = () -> { };
    String[] names = {"c", "jni", "upcall", "slot", "slot+run", "reserved", "go"};
    boolean[] runs = {false, false, false, false, true, true, false};
    next = reserve(0);
    Op[] ops = {
      SpawnSplitProbe::cSpawnJoin,
      () -> await(spawn(false)),
      () -> await(spawn(true)),
      () -> await(spawnTake(park(new Job(body)))),
      () -> await(spawnTake(park(new Job(body)))),
      () -> {
        int s = next;
        SLOTS.set(s, new Job(body));
        long h = spawnTake(s);
        next = reserve(s);
        await(h);
      },
      () -> Goroutines.go(body).join(),
    };
    for (int k = 0; k < ops.length; k++) { run = runs[k]; chunks(8, ops[k]); }
    for (int r = 0; r < 3; r++) {
      StringBuilder sb = new StringBuilder();
      for (int k = 0; k < ops.length; k++) {
        run = runs[k];
        sb.append(names[k]).append('=').append(chunks(n, ops[k])).append(' ');
      }
      System.out.println(sb.toString().trim());
    }
    System.exit(0);
  }
}
