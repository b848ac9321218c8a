package io.gr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Issue 10: Status.java must not drift from include/gr.h. Every status code the header
 * declares (an enumerator or a #define named GR_OK or GR_E...), including codes added after
 * this test was written, must be a Status constant of the same name and value, and every
 * Status constant must be in the header. The loaded libgr must describe each code.
 */
class StatusDriftTest {
    private static final Pattern ENUMERATOR = Pattern.compile("\\bGR_(OK|E[A-Z0-9_]+)\\s*=\\s*(-?\\d+)\\s*[,}]");
    private static final Pattern DEFINE = Pattern.compile("#define\\s+GR_(OK|E[A-Z0-9_]+)\\s+\\(?\\s*(-?\\d+)\\s*\\)?");

    /** The status codes of include/gr.h, by name without the GR_ prefix. */
    static Map<String, Integer> headerCodes() throws Exception {
        String path = System.getProperty("gr.test.header");
        assertNotNull(path, "system property gr.test.header (the path of include/gr.h) is not set");
        Path h = Paths.get(path);
        assertTrue(Files.isRegularFile(h), "no header at " + h);
        String text = new String(Files.readAllBytes(h), StandardCharsets.UTF_8)
                .replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("//[^\\n]*", " ");
        Map<String, Integer> codes = new TreeMap<>();
        for (Pattern p : new Pattern[] {ENUMERATOR, DEFINE}) {
            Matcher m = p.matcher(text);
            while (m.find()) {
                Integer old = codes.put(m.group(1), Integer.parseInt(m.group(2)));
                assertTrue(old == null || old == Integer.parseInt(m.group(2)), "GR_" + m.group(1) + " declared twice");
            }
        }
        return codes;
    }

    /** Status's int constants that name gr codes (OK, E...). */
    static Map<String, Integer> javaCodes() throws Exception {
        Map<String, Integer> codes = new TreeMap<>();
        for (Field f : Status.class.getDeclaredFields()) {
            int mod = f.getModifiers();
            if (Modifier.isStatic(mod) && Modifier.isFinal(mod) && f.getType() == int.class
                    && f.getName().matches("OK|E[A-Z0-9_]+")) {
                f.setAccessible(true);
                codes.put(f.getName(), f.getInt(null));
            }
        }
        return codes;
    }

    @Test
    void statusJavaMatchesTheHeader() throws Exception {
        Map<String, Integer> header = headerCodes();
        assertTrue(header.containsKey("OK") && header.containsKey("ECLOSED") && header.size() >= 9,
                "the header parse found too little: " + header);
        assertEquals(header, javaCodes(), "io.gr.Status has drifted from include/gr.h: add or fix the constants");
    }

    /**
     * Issue 14: WaitReason and Stats's table follow the header's GR_WAIT_* codes and
     * GR_WAIT_REASONS (runtime.c copies gr_stats.waiting into that table).
     */
    @Test
    void waitReasonsMatchTheHeader() throws Exception {
        String text = new String(Files.readAllBytes(Paths.get(System.getProperty("gr.test.header"))),
                StandardCharsets.UTF_8);
        Map<String, Integer> header = new TreeMap<>();
        Matcher m = Pattern.compile("#define\\s+GR_WAIT_([A-Z0-9_]+)\\s+(\\d+)").matcher(text);
        while (m.find()) {
            header.put(m.group(1), Integer.parseInt(m.group(2)));
        }
        assertEquals(Integer.valueOf(Stats.WAIT_REASONS), header.remove("REASONS"), "GR_WAIT_REASONS");
        Map<String, Integer> java = new TreeMap<>();
        for (WaitReason r : WaitReason.values()) {
            java.put(r.name(), r.code());
        }
        assertTrue(header.size() >= 9, "the header parse found too little: " + header);
        assertEquals(header, java, "io.gr.WaitReason has drifted from include/gr.h");
    }

    @Test
    void theLibraryDescribesEveryCode() throws Exception {
        String unknown = Native.strerror(12345); // no status is positive
        for (Map.Entry<String, Integer> e : headerCodes().entrySet()) {
            String text = Native.strerror(e.getValue());
            assertNotEquals(unknown, text, "gr_strerror has no text for GR_" + e.getKey());
            if (e.getValue() != Status.OK) {
                RuntimeException x = Status.exception(e.getValue(), "test");
                assertTrue(x.getMessage().contains(text), x.getMessage());
                assertFalse(x instanceof GrException && ((GrException) x).status() != e.getValue());
            }
        }
    }
}
