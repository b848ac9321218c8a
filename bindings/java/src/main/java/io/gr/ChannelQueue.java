package io.gr;

import java.util.AbstractQueue;
import java.util.Collection;
import java.util.Iterator;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/** {@link Channel#asBlockingQueue()}: the {@link BlockingQueue} contract over a channel. */
final class ChannelQueue<T> extends AbstractQueue<T> implements BlockingQueue<T> {
    private final Channel<T> ch;

    ChannelQueue(Channel<T> ch) {
        this.ch = ch;
    }

    @Override
    public Iterator<T> iterator() {
        throw new UnsupportedOperationException("a channel cannot be iterated without receiving");
    }

    @Override
    public T peek() {
        throw new UnsupportedOperationException("a channel cannot be peeked");
    }

    @Override
    public int size() {
        return ch.size();
    }

    @Override
    public boolean offer(T t) {
        return ch.trySend(t);
    }

    @Override
    public boolean offer(T t, long timeout, TimeUnit unit) throws InterruptedException {
        return ch.offer(t, timeout, unit);
    }

    @Override
    public void put(T t) throws InterruptedException {
        ch.send(t);
    }

    /** Null when empty, and when closed and drained (never {@link ChannelClosedException}). */
    @Override
    public T poll() {
        Received<T> r = ch.tryReceive();
        return r.ok() ? r.value() : null;
    }

    @Override
    public T poll(long timeout, TimeUnit unit) throws InterruptedException {
        Received<T> r = ch.receive(timeout, unit);
        return r.ok() ? r.value() : null;
    }

    /** Waits for an element; {@link ChannelClosedException} once closed and drained. */
    @Override
    public T take() throws InterruptedException {
        return ch.recv();
    }

    @Override
    public int remainingCapacity() {
        return Math.max(0, ch.capacity() - ch.size());
    }

    @Override
    public int drainTo(Collection<? super T> c) {
        return drainTo(c, Integer.MAX_VALUE);
    }

    @Override
    public int drainTo(Collection<? super T> c, int maxElements) {
        Objects.requireNonNull(c, "collection");
        if (c == this) {
            throw new IllegalArgumentException("cannot drain a queue into itself");
        }
        int n = 0;
        T v;
        while (n < maxElements && (v = poll()) != null) {
            c.add(v);
            n++;
        }
        return n;
    }

    @Override
    public String toString() {
        return "BlockingQueue view of a channel (capacity " + ch.capacity() + ", " + ch.size() + " buffered)";
    }
}
