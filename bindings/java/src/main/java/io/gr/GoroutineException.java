package io.gr;

/**
 * A goroutine failed. {@link Goroutine#join()} throws it when the goroutine's body threw
 * (the throwable is the {@linkplain #getCause() cause}), or when a native goroutine reported
 * failure through {@code gr_goroutine_fail} (the message carries the native text and there
 * is no cause).
 */
public class GoroutineException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what failed
     * @param cause the throwable from the goroutine, or {@code null} for native failures
     */
    public GoroutineException(String message, Throwable cause) {
        super(message, cause);
    }
}
