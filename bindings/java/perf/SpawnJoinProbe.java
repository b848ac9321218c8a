// A probe for the Java binding's hand-off costs (issue 16), less sensitive to a loaded machine
// than the bench's one long run: each figure is measured in chunks of 2,000 operations, and
// the minimum, quartile and median over the chunks are printed. Run from the repository:
//
//   make java-jar && javac -cp build/java/gr.jar -d build/java/perf bindings/java/perf/SpawnJoinProbe.java \
//       bindings/java/perf/ProbeChunks.java
//   chrt -f 10 java -cp build/java/gr.jar:build/java/perf SpawnJoinProbe 60
//
// Rows: go() + join() of a Java goroutine; goNative() + join() of a C goroutine (getpid, through
// the same join: the difference is the Java layer's upcall, task and objects); ping-pong between
// this thread and a Java goroutine over two unbuffered LongChannels; a blocking send and receive
// on a LongChannel of capacity 1 that never has to wait (the binding's cost per operation).
import io.gr.Goroutine;
import io.gr.Goroutines;
import io.gr.LongChannel;
import io.gr.ProbeChunks;
import io.gr.ProbeChunks.Op;

public class SpawnJoinProbe {
  static String chunks(int n, Op op) throws Exception {
    return ProbeChunks.summary(n, op);
  }

  public static void main(String[] a) throws Exception {
    int n = a.length > 0 ? Integer.parseInt(a[0]) : 60;
    Goroutines.configure(2, 0, 0);
    long fn = Goroutines.symbol("libc.so.6", "getpid");
    Runnable nop = () -> { };
    Op java = () -> Goroutines.go(nop).join();
    Op nat = () -> Goroutines.goNative(fn, 0).join();
    chunks(15, java); // warm-up (JIT)
    chunks(15, nat);
    System.out.println("java go+join   " + chunks(n, java));
    System.out.println("native go+join " + chunks(n, nat));
    LongChannel ping = new LongChannel(0), pong = new LongChannel(0);
    Goroutine<?> g = Goroutines.go(() -> {
      try {
        for (;;) { long v = ping.recv(); if (v < 0) return; pong.send(v); }
      } catch (InterruptedException e) { throw new RuntimeException(e); }
    });
    Op rt = () -> { ping.send(1); pong.recv(); };
    chunks(15, rt);
    System.out.println("pingpong       " + chunks(n, rt));
    ping.send(-1);
    g.join();
    LongChannel one = new LongChannel(1);
    Op pair = () -> { one.send(1); one.recv(); };
    chunks(15, pair);
    System.out.println("send+recv cap1 " + chunks(n, pair));
    System.exit(0);
  }
}
