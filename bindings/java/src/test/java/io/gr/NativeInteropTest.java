package io.gr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Items 3, 4 (C part) and 10: Java and C goroutines in one runtime. */
class NativeInteropTest {

    /** Item 3: 1,000,000 longs from Java to a C goroutine; the sum is exact; one runtime. */
    @Test
    @Timeout(120)
    void millionLongsToCGoroutine() throws Exception {
        final long n = 1_000_000;
        try (LongChannel in = new LongChannel(256); LongChannel out = new LongChannel(1)) {
            long job = TestLib.sumJob(in.retainNative(), out.retainNative());
            Goroutine<?> g = Goroutines.goNative(TestLib.sumFn(), job);
            long t0 = System.nanoTime();
            for (long i = 1; i <= n; i++) {
                in.send(i);
            }
            in.closeForSend();
            long sum = out.recv();
            long ns = System.nanoTime() - t0;
            g.join();
            assertEquals(n * (n + 1) / 2, sum);
            System.out.printf("item3: 1M longs Java -> C goroutine in %.1f ms (%.0f ns each)%n",
                    ns / 1e6, (double) ns / n);
        }
        // one runtime: spawns made by the C library through its own -lgr link show up in the
        // binding's stats, and exactly one libgr is mapped into the process
        long before = Goroutines.stats().spawnedTotal();
        assertEquals(0, TestLib.spawnFromC(100));
        long after = Goroutines.stats().spawnedTotal();
        assertTrue(after - before >= 100, "binding saw " + (after - before) + " of the C library's spawns");
        assertTrue(TestLib.stats()[0] >= after);
        List<String> maps = Files.readAllLines(Paths.get("/proc/self/maps"));
        Set<String> libgr = maps.stream().map(l -> l.replaceAll("^(\\S+\\s+){5}", "").trim())
                .filter(p -> p.matches(".*/libgr\\.so(\\.0)?( \\(deleted\\))?$"))
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(1, libgr.size(), "libgr mappings: " + libgr);
    }

    /** Item 4 (C part): a Java exception makes gr_wait in C return GR_EPANIC. */
    @Test
    void javaExceptionMakesCWaitReturnEpanic() {
        try (Upcall u = Upcall.of(x -> {
            throw new IllegalStateException("thrown in Java, seen from C");
        })) {
            long[] r = TestLib.boundUpcallWait(u.address());
            assertEquals(Status.EPANIC, r[0], "gr_wait status");
            assertEquals(1, r[1], "gr_handle_error names the Java exception");
            assertEquals(Status.EPANIC, r[2], "the upcall's own status");
        }
    }

    @Test
    void upcallFromBoundGoroutineWorks() {
        try (Upcall u = Upcall.of(x -> x * 6)) {
            long[] r = TestLib.boundUpcallWait(u.address());
            assertEquals(Status.OK, r[0]);
            assertEquals(Status.OK, r[2]);
        }
    }

    /** Item 10: an upcall from a coroutine goroutine gets GR_ESTATE. */
    @Test
    void upcallFromCoroutineIsRefused() throws Exception {
        int[] calls = {0};
        try (Upcall u = Upcall.of(x -> {
            calls[0]++;
            return x + 1;
        })) {
            long job = TestLib.upcallJob(u.address(), 41);
            Goroutines.goNative(TestLib.upcallFn(), job).join();
            long[] r = TestLib.upcallResult(job);
            assertEquals(Status.ESTATE, r[0], "upcall status");
            assertEquals(1, r[2], "ran in GR_CTX_COROUTINE");
            assertEquals(0, calls[0]);
        }
    }

    @Test
    void structsCrossToC() throws Exception {
        int size = TestLib.pointSize();
        assertEquals(16, size);
        try (StructChannel in = new StructChannel(size, 8); LongChannel out = new LongChannel(1)) {
            Goroutine<?> g = Goroutines.goNativeWithArgs(TestLib.pointsFn(), in.retainNative(), out.retainNative());
            long expect = 0;
            ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.nativeOrder());
            for (int i = 0; i < 1000; i++) {
                b.clear();
                b.putInt(i).putInt(-2 * i).putLong(1L << 33);
                in.send(b.array());
                expect += i - 2L * i + (1L << 33);
            }
            assertThrows(IllegalArgumentException.class, () -> in.send(new byte[3]));
            in.closeForSend();
            assertEquals(expect, out.recv());
            g.join();
        }
    }

    @Test
    void symbolLookup() {
        long p = Goroutines.symbol(System.getProperty("gr.test.lib"), "Java_io_gr_TestLib_sumFn");
        assertTrue(p != 0);
    }
}
