package io.gr;

import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;

/**
 * The outcome of a receive that reports "closed" without an exception: Go's
 * {@code v, ok := <-ch}. Exactly one of {@link #ok()}, {@link #closed()} and
 * {@link #timedOut()} is true.
 *
 * <pre>{@code
 * for (Received<String> r; (r = ch.receive()).ok(); ) {
 *     use(r.value());
 * }
 * // here the channel is closed and drained
 * }</pre>
 *
 * @param <T> the element type
 */
public final class Received<T> {
    private static final Received<?> CLOSED = new Received<>(null, Kind.CLOSED);
    private static final Received<?> TIMED_OUT = new Received<>(null, Kind.TIMED_OUT);

    private enum Kind { VALUE, CLOSED, TIMED_OUT }

    private final T value;
    private final Kind kind;

    private Received(T value, Kind kind) {
        this.value = value;
        this.kind = kind;
    }

    static <T> Received<T> of(T value) {
        return new Received<>(Objects.requireNonNull(value), Kind.VALUE);
    }

    /** For a receive that got nothing: closed ({@code GR_ECLOSED}) or nothing in time. */
    @SuppressWarnings("unchecked")
    static <T> Received<T> notReceived(int status) {
        return (Received<T>) (status == Status.ECLOSED ? CLOSED : TIMED_OUT);
    }

    /**
     * Whether a value was received.
     *
     * @return true if {@link #value()} holds one
     */
    public boolean ok() {
        return kind == Kind.VALUE;
    }

    /**
     * Whether the channel was closed for sending and drained: no value will ever come.
     *
     * @return true once the channel is closed and empty
     */
    public boolean closed() {
        return kind == Kind.CLOSED;
    }

    /**
     * Whether the wait ended with the channel open but no value: the timeout passed, or a
     * poll found the channel empty.
     *
     * @return true if nothing was received in time
     */
    public boolean timedOut() {
        return kind == Kind.TIMED_OUT;
    }

    /**
     * The value received.
     *
     * @return the value (never null)
     * @throws NoSuchElementException if none was received ({@link #ok()} is false)
     */
    public T value() {
        if (kind != Kind.VALUE) {
            throw new NoSuchElementException(kind == Kind.CLOSED ? "channel closed" : "nothing received in time");
        }
        return value;
    }

    /**
     * The value, or empty if none was received.
     *
     * @return an optional holding the value
     */
    public Optional<T> toOptional() {
        return Optional.ofNullable(value);
    }

    @Override
    public String toString() {
        switch (kind) {
            case VALUE:
                return "Received[" + value + "]";
            case CLOSED:
                return "Received[closed]";
            default:
                return "Received[timed out]";
        }
    }
}
