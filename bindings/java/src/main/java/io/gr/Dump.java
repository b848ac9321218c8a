package io.gr;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@link Goroutines#dump()}: the runtime's goroutine dump ({@code gr_dump_to}), where each
 * Java goroutine shows the Java stack of its thread above its native frames.
 *
 * <p>A Java goroutine is labelled with its thread's id when it starts (kind Java,
 * {@code GR_KIND_JAVA}: {@code src/main/c/goroutine.c}). The Java stacks of gr's threads are
 * sampled just before the native dump ({@link Thread#getAllStackTraces()}) and handed to it
 * as text, so the dump itself never calls into the JVM while it holds parked goroutines. A
 * blocked goroutine's stack does not move meanwhile; one that is running may have moved on.
 */
final class Dump {
    private Dump() {}

    /** Java frames shown per goroutine at most (the runtime takes up to 16 KiB of text). */
    static final int MAX_FRAMES = 100;
    private static final int MAX_TEXT = 15 << 10;

    /** The report in {@code format}, as UTF-8 bytes. */
    static byte[] take(DumpFormat format) {
        List<Map.Entry<Thread, StackTraceElement[]>> threads = new ArrayList<>();
        for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
            if (e.getKey().getName().startsWith("gr-worker-")) {
                threads.add(e);
            }
        }
        threads.sort((a, b) -> Long.compare(id(a.getKey()), id(b.getKey())));
        long[] ids = new long[threads.size()];
        int[] ends = new int[threads.size()];
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        for (int i = 0; i < ids.length; i++) {
            ids[i] = id(threads.get(i).getKey());
            byte[] t = frames(threads.get(i).getValue()).getBytes(StandardCharsets.UTF_8);
            text.write(t, 0, t.length);
            ends[i] = text.size();
        }
        int[] status = new int[1];
        byte[] out = Native.dump(ids, text.toByteArray(), ends, format.flags, status);
        Status.check(status[0], "dump");
        return out;
    }

    @SuppressWarnings("deprecation") // Thread.threadId() is JDK 19+; the binding runs on 8
    private static long id(Thread t) {
        return t.getId();
    }

    /** One thread's frames as the dump shows them, most recent call first. */
    static String frames(StackTraceElement[] stack) {
        StringBuilder b = new StringBuilder("Java (most recent call first):\n");
        int n = 0;
        for (StackTraceElement e : stack) {
            String line = "  at " + e + "\n";
            if (n == MAX_FRAMES || b.length() + line.length() > MAX_TEXT) {
                b.append("  ...\n");
                break;
            }
            b.append(line);
            n++;
        }
        return b.toString();
    }
}
