// The Java ping-pong taken apart (issue 16): a JNI call to a no-op native; this thread <-> a
// Java goroutine over two unbuffered LongChannels (the bench's pingpong); the same loop over
// the bare Native calls (no Java layer); and both with a plain Java thread as the peer.
// Medians of chunks of 2,000 round trips. In package io.gr to reach Native. From the repository:
//
//   make java-jar && javac -cp build/java/gr.jar -d build/java/perf bindings/java/perf/SplitProbe.java \
//       bindings/java/perf/ProbeChunks.java
//   chrt -f 10 java -cp build/java/gr.jar:build/java/perf io.gr.SplitProbe 40 [jni|layer|raw|rawt|layert]
//
// Compare with C: bench/extra/thread_pingpong.c mode 0 (two plain threads, the same channels).
package io.gr;

import io.gr.ProbeChunks.Op;

public class SplitProbe {
  static String chunks(int n, Op op) throws Exception {
    return ProbeChunks.summary(n, op);
  }

  public static void main(String[] a) throws Exception {
    int n = a.length > 0 ? Integer.parseInt(a[0]) : 40;
    String which = a.length > 1 ? a[1] : "all";
    Goroutines.configure(2, 0, 0);
    long F = Long.MAX_VALUE;
    if (which.equals("all") || which.equals("jni")) {
      Op nop = () -> Native.context();
      chunks(10, nop);
      System.out.println("jni no-op      " + chunks(n, nop));
    }
    if (which.equals("all") || which.equals("layer")) {
      LongChannel ping = new LongChannel(0), pong = new LongChannel(0);
      Goroutine<?> g = Goroutines.go(() -> {
        try { for (;;) { long v = ping.recv(); if (v < 0) return; pong.send(v); } }
        catch (InterruptedException e) { throw new RuntimeException(e); }
      });
      Op rt = () -> { ping.send(1); pong.recv(); };
      chunks(15, rt);
      System.out.println("layer g        " + chunks(n, rt));
      ping.send(-1); g.join();
    }
    if (which.equals("all") || which.equals("raw")) {
      long ping = Native.chanNew(0, false), pong = Native.chanNew(0, false);
      Goroutine<?> g = Goroutines.go(() -> {
        long[] o = new long[1];
        for (;;) { Native.chanRecvLong(ping, o, F, 0); if (o[0] < 0) return; Native.chanSendLong(pong, o[0], F, 0); }
      });
      long[] o = new long[1];
      Op rt = () -> { Native.chanSendLong(ping, 1, F, 0); Native.chanRecvLong(pong, o, F, 0); };
      chunks(15, rt);
      System.out.println("raw g          " + chunks(n, rt));
      Native.chanSendLong(ping, -1, F, 0); g.join();
    }
    if (which.equals("all") || which.equals("rawt")) {
      long ping = Native.chanNew(0, false), pong = Native.chanNew(0, false);
      Thread t = new Thread(() -> {
        long[] o = new long[1];
        for (;;) { Native.chanRecvLong(ping, o, F, 0); if (o[0] < 0) return; Native.chanSendLong(pong, o[0], F, 0); }
      });
      t.start();
      long[] o = new long[1];
      Op rt = () -> { Native.chanSendLong(ping, 1, F, 0); Native.chanRecvLong(pong, o, F, 0); };
      chunks(15, rt);
      System.out.println("raw thread     " + chunks(n, rt));
      Native.chanSendLong(ping, -1, F, 0); t.join();
    }
    if (which.equals("all") || which.equals("layert")) {
      LongChannel ping = new LongChannel(0), pong = new LongChannel(0);
      Thread t = new Thread(() -> {
        try { for (;;) { long v = ping.recv(); if (v < 0) return; pong.send(v); } }
        catch (InterruptedException e) { throw new RuntimeException(e); }
      });
      t.start();
      Op rt = () -> { ping.send(1); pong.recv(); };
      chunks(15, rt);
      System.out.println("layer thread   " + chunks(n, rt));
      ping.send(-1); t.join();
    }
    System.exit(0);
  }
}
