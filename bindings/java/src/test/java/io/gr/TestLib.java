package io.gr;

/** The C test library (src/test/c/grtest.c), linked with -lgr and loaded with System.load. */
final class TestLib {
    static {
        Native.ensureLoaded(); // libgr.so.0 first, so the test library's DT_NEEDED reuses it
        String path = System.getProperty("gr.test.lib");
        if (path == null) {
            throw new IllegalStateException("system property gr.test.lib is not set");
        }
        System.load(path);
    }

    private TestLib() {}

    static native long sumFn();
    static native long sumJob(long in, long out);
    static native long pointsFn();
    static native int pointSize();
    static native long incrFn();
    static native long counter();
    static native long failFn();
    static native long upcallFn();
    static native long upcallJob(long upcall, long arg);
    static native long[] upcallResult(long job);
    static native long[] boundUpcallWait(long upcall);
    static native long pcFn();
    static native long pcJob(long ch, boolean producer, long base, long count, long seed);
    static native long[] pcResult(long job);
    static native long[] stats();
    static native int spawnFromC(int n);
}
