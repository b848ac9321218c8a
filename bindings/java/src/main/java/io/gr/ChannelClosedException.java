package io.gr;

/**
 * The channel was closed for sending with {@code closeForSend()}: thrown by a send on a
 * closed channel, and by a receive once the channel is closed <em>and drained</em>. Values
 * sent before the close are still received first, as in Go.
 *
 * <p>Unchecked, so that loops such as {@link Channel#forEach} stay short. It does not mean
 * that the handle was freed: using a handle after {@code close()} throws
 * {@link IllegalStateException}.
 */
public class ChannelClosedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what failed
     */
    public ChannelClosedException(String message) {
        super(message);
    }
}
