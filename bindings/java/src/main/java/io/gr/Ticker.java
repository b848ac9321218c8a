package io.gr;

import java.util.concurrent.TimeUnit;

/**
 * Go's {@code time.Ticker}: delivers its due time (a {@link System#nanoTime()} value) on
 * {@link #channel()} every period, the first one period from now. A slow receiver loses
 * ticks: at most one waits in the channel, and missed periods are skipped, never queued.
 * {@link #close()} stops and frees it.
 */
public final class Ticker extends NativeResource {
    static {
        Native.ensureLoaded();
    }

    private final LongChannel channel;

    /**
     * Creates a ticker with period {@code period}.
     *
     * @param period the time between ticks, more than 0
     * @param unit the unit of {@code period}
     * @throws IllegalArgumentException if the period is not positive
     */
    public Ticker(long period, TimeUnit unit) {
        super("ticker", Status.pointer(Native.tickerNew(unit.toNanos(period)), "gr_ticker_new"), Native::tickerFree);
        this.channel = new LongChannel("ticker channel", Status.pointer(call(Native::tickerChan), "gr_ticker_chan"));
    }

    /**
     * The channel the ticks arrive on (Go's {@code t.C}); receive-only. The same channel on
     * every call.
     *
     * @return the channel
     */
    public LongChannel channel() {
        return channel;
    }

    /** No more ticks (Go's {@code t.Stop()}); a tick waiting in the channel is discarded. */
    public void stop() {
        Status.check((int) call(Native::tickerStop), "Ticker.stop");
    }

    /**
     * Sets the period; the next tick comes one period from now, and a tick waiting in the
     * channel is discarded (Go's {@code t.Reset(d)}). Restarts a stopped ticker.
     *
     * @param period the time between ticks, more than 0
     * @param unit the unit of {@code period}
     * @throws IllegalArgumentException if the period is not positive
     */
    public void reset(long period, TimeUnit unit) {
        long ns = unit.toNanos(period);
        Status.check((int) call(t -> Native.tickerReset(t, ns)), "Ticker.reset");
    }

    /** Stops and frees the ticker and its channel handle. Closing again does nothing. */
    @Override
    public void close() {
        channel.close();
        super.close();
    }
}
