package io.gr;

import java.util.concurrent.TimeUnit;

/**
 * Go's {@code time.Timer}: fires once, delivering its due time (a {@link System#nanoTime()}
 * value) on {@link #channel()}, which works in a {@link Select} like any channel. Go 1.23's
 * semantics: after {@link #stop()} or {@link #reset} returns, no value of the old setting is
 * received; the channel is unbuffered. A timer nobody waits on costs no thread, no CPU and no
 * timer-heap entry. {@link #close()} stops and frees it. For a one-off timeout in a select,
 * {@link Goroutines#after(long, TimeUnit)} is shorter.
 */
public final class Timer extends NativeResource {
    static {
        Native.ensureLoaded();
    }

    private final LongChannel channel;

    /**
     * Creates a timer that fires {@code delay} from now.
     *
     * @param delay how long until it fires; {@code <= 0}: at once
     * @param unit the unit of {@code delay}
     */
    public Timer(long delay, TimeUnit unit) {
        super("timer", Status.pointer(Native.timerNew(unit.toNanos(delay)), "gr_timer_new"), Native::timerFree);
        this.channel = new LongChannel("timer channel", Status.pointer(call(Native::timerChan), "gr_timer_chan"));
    }

    /**
     * The channel the due time arrives on (Go's {@code t.C}); receive-only (a send or a
     * close throws {@link IllegalArgumentException}). The same channel on every call.
     *
     * @return the channel
     */
    public LongChannel channel() {
        return channel;
    }

    /**
     * Stops the timer (Go's {@code t.Stop()}): it will not fire, and a value it delivered but
     * nobody received is discarded.
     *
     * @return true if the timer was pending (not yet fired, or fired and not received)
     */
    public boolean stop() {
        return check((int) call(Native::timerStop), "Timer.stop");
    }

    /**
     * Sets the timer to fire {@code delay} from now (Go's {@code t.Reset(d)}), stopping the
     * old setting first: no value of it is received after this returns.
     *
     * @param delay how long until it fires; {@code <= 0}: at once
     * @param unit the unit of {@code delay}
     * @return true if the timer was pending
     */
    public boolean reset(long delay, TimeUnit unit) {
        long ns = unit.toNanos(delay);
        return check((int) call(t -> Native.timerReset(t, ns)), "Timer.reset");
    }

    static boolean check(int rc, String what) {
        if (rc < 0) {
            throw Status.exception(rc, what);
        }
        return rc == 1;
    }

    /** Stops and frees the timer and its channel handle. Closing again does nothing. */
    @Override
    public void close() {
        channel.close();
        super.close();
    }
}
