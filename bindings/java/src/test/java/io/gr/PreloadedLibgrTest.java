package io.gr;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * In its own JVM: libgr.so.0 is already in the process (as when a C library linked with -lgr
 * was loaded before any io.gr class). The binding must use it, not load a second runtime.
 */
class PreloadedLibgrTest {

    @Test
    void bindingReusesAnAlreadyLoadedLibgr() throws Exception {
        System.load(System.getProperty("gr.test.libgr"));
        try (LongChannel ch = new LongChannel(1)) {
            Goroutines.go(() -> {
                try {
                    ch.send(7);
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            }).join();
            assertEquals(7, ch.recv());
        }
        Set<String> libgr = Files.readAllLines(Paths.get("/proc/self/maps")).stream()
                .map(l -> l.replaceAll("^(\\S+\\s+){5}", "").trim())
                .filter(p -> p.matches(".*/libgr\\.so(\\.0)?( \\(deleted\\))?$"))
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(1, libgr.size(), "libgr mappings: " + libgr);
    }
}
