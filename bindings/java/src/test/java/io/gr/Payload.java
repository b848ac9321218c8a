package io.gr;

/**
 * Loaded by a parent-less URLClassLoader in GoroutineTest: references only JDK classes.
 * It is a Runnable (a bootstrap type), so the test can call it across loaders.
 */
public class Payload implements Runnable {
    /** Used reflectively. */
    public Payload() {}

    @Override
    public void run() {
        // resolving another class through this loader on the worker thread
        java.util.function.Supplier<String> s = () -> "ran on " + Thread.currentThread().getName();
        System.setProperty("gr.payload", s.get());
    }
}
