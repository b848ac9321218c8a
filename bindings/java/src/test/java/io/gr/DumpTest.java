package io.gr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 14, Java part: Java goroutines are kind Java in dumps and show their Java stack;
 * {@link Goroutines#dump()} (text, JSON, to a stream) from a plain thread and from a
 * goroutine; the extended {@link Stats}.
 */
@Timeout(60)
class DumpTest {
    private static LongChannel never;
    private static Goroutine<Void> receiver;
    private static Goroutine<Void> sleeper;
    private static final Object started = new Object();
    private static int ready;

    /** A method name to find in the dump: a Java goroutine blocked in recv() inside it. */
    static long receiverBlockedInDumpTest(LongChannel ch) throws InterruptedException {
        synchronized (started) {
            ready++;
            started.notifyAll();
        }
        return ch.recv();
    }

    static void sleeperInDumpTest() throws InterruptedException {
        synchronized (started) {
            ready++;
            started.notifyAll();
        }
        Goroutines.sleep(1, TimeUnit.HOURS);
    }

    @BeforeAll
    static void park() throws Exception {
        never = new LongChannel(0);
        receiver = Goroutines.go(() -> {
            receiverBlockedInDumpTest(never);
            return null;
        });
        sleeper = Goroutines.go(() -> {
            sleeperInDumpTest();
            return null;
        });
        synchronized (started) {
            while (ready < 2) {
                started.wait();
            }
        }
        // Both are about to park; wait until the runtime counts them as waiting.
        long t0 = System.nanoTime();
        while (Contexts.since(t0) < 20) {
            Stats s = Goroutines.stats();
            if (s.waiting(WaitReason.CHAN_RECV) >= 1 && s.sleeping() >= 1) {
                return;
            }
            Thread.sleep(1);
        }
        throw new AssertionError("the two goroutines never parked: " + Goroutines.stats());
    }

    @AfterAll
    static void release() throws Exception {
        receiver.cancel(true);
        sleeper.cancel(true);
        never.close();
    }

    @Test
    void textDumpShowsJavaGoroutinesWithTheirJavaStack() {
        String d = Goroutines.dump();
        assertTrue(d.contains("goroutine "), d);
        String[] blocks = d.split("\n\n");
        boolean found = false;
        for (String b : blocks) {
            if (b.contains("receiverBlockedInDumpTest")) {
                found = true;
                assertTrue(b.contains("java") && b.contains("chan receive"), b);
                assertTrue(b.contains("Java (most recent call first):"), b);
                assertTrue(b.indexOf("io.gr.LongChannel.recv") < b.indexOf("receiverBlockedInDumpTest"),
                        "the innermost Java call comes first: " + b);
                System.out.println(b); // for the README's example
            }
        }
        assertTrue(found, "no goroutine shows receiverBlockedInDumpTest: " + d);
        assertTrue(d.contains("sleeperInDumpTest"), d);
    }

    @Test
    void jsonDumpHasOneObjectPerLineWithLangFrames() {
        String d = Goroutines.dump(DumpFormat.JSON);
        int java = 0;
        for (String line : d.split("\n")) {
            assertTrue(line.startsWith("{\"type\":\"") && line.endsWith("}"), line);
            if (line.startsWith("{\"type\":\"goroutine\"") && line.contains("\"kind\":\"java\"")
                    && line.contains("receiverBlockedInDumpTest")) {
                java++;
                assertTrue(line.contains("\"wait\":\"chan receive\""), line);
                assertTrue(line.contains("\"lang_frames\":[\"Java (most recent call first):\""), line);
            }
        }
        assertEquals(1, java, d);
    }

    @Test
    void dumpToAStreamAndFromAGoroutine() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Goroutines.dump(out, DumpFormat.TEXT);
        assertTrue(new String(out.toByteArray(), StandardCharsets.UTF_8).contains("receiverBlockedInDumpTest"));
        String fromGoroutine = Goroutines.go(() -> Goroutines.dump()).get();
        assertTrue(fromGoroutine.contains("receiverBlockedInDumpTest"), fromGoroutine);
        // The caller is a Java goroutine too, running: its own stack is there, this method.
        assertTrue(fromGoroutine.contains("dumpToAStreamAndFromAGoroutine"), fromGoroutine);
        assertThrows(NullPointerException.class, () -> Goroutines.dump(null, DumpFormat.TEXT));
        assertThrows(NullPointerException.class, () -> Goroutines.dump((DumpFormat) null));
    }

    @Test
    void statsCountByStateAndWaitReason() {
        Stats s = Goroutines.stats();
        assertTrue(s.waiting(WaitReason.CHAN_RECV) >= 1, s.toString());
        assertTrue(s.sleeping() >= 1, s.toString());
        assertEquals(0, s.timers(), "Java goroutines' timed waits sleep in the kernel: " + s);
        assertTrue(s.parked() >= 1, s.toString());
        assertTrue(s.waiting().containsKey(WaitReason.CHAN_RECV), s.toString());
        assertFalse(s.waiting().containsKey(WaitReason.FD), s.toString());
        assertTrue(s.threads() >= s.workers() + 2, "two blocked Java goroutines hold a thread each: " + s);
        assertTrue(s.threadsRunning() + s.threadsIdle() + s.threadsBlocking() >= s.workers(), s.toString());
        assertTrue(s.plainThreads() >= 1, "this thread called gr: " + s);
        assertTrue(s.toString().contains("waiting={CHAN_RECV="), s.toString());
    }
}
