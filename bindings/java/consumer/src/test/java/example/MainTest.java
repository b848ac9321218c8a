package example;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.gr.Goroutines;
import org.junit.jupiter.api.Test;

class MainTest {
    @Test
    void goroutinesFromTheInstalledJar() throws Exception {
        assertEquals(5050, Main.run());
        assertEquals(42, (int) Goroutines.go(() -> 6 * 7).get());
    }
}
