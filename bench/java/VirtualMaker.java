// Makes virtual threads (JDK 21+). Compiled only with the newer JDK; see Bench.java.
import java.util.function.Function;

public class VirtualMaker implements Function<Runnable, Thread> {
  public Thread apply(Runnable r) { return Thread.ofVirtual().unstarted(r); }
}
