package io.gr;

/**
 * A gr runtime call failed with a status that has no closer Java equivalent, such as
 * {@code GR_ENOMEM} (out of native memory or of memory mappings).
 */
public class GrException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The gr status code (a negative {@code GR_E*} value). */
    private final int status;

    /**
     * Creates the exception.
     *
     * @param status the gr status code (a negative {@code GR_E*} value)
     * @param message what failed
     */
    public GrException(int status, String message) {
        super(message);
        this.status = status;
    }

    /**
     * The gr status code.
     *
     * @return a negative {@code GR_E*} value from {@code gr.h}
     */
    public int status() {
        return status;
    }
}
