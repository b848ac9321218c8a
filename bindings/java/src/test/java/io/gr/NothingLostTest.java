package io.gr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Item 9: 8 Java threads and 8 C goroutines (4 producers and 4 consumers each) share one
 * channel with random timeouts, and it is closed mid-run. Every value a send accepted is
 * received exactly once, and nothing else is.
 */
class NothingLostTest {

    @Test
    @Timeout(120)
    void everyAcceptedValueArrivesExactlyOnce() throws Exception {
        for (int cap : new int[] {0, 4}) {
            run(cap);
        }
    }

    private void run(int cap) throws Exception {
        final long perProducer = 20_000;
        try (LongChannel ch = new LongChannel(cap)) {
            List<long[]> accepted = new ArrayList<>();
            List<long[]> received = new ArrayList<>();
            List<Thread> threads = new ArrayList<>();
            List<long[]> jobs = new ArrayList<>(); // {job, isProducer}
            List<Goroutine<?>> gs = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                long base = (long) (i + 1) << 40;
                long cbase = (long) (i + 11) << 40;
                long[] acc = new long[(int) perProducer + 1];
                accepted.add(acc);
                threads.add(new Thread(() -> {
                    ThreadLocalRandom r = ThreadLocalRandom.current();
                    int n = 0;
                    try {
                        for (long v = base; v < base + perProducer; v++) {
                            if (ch.offer(v, r.nextInt(200), TimeUnit.MICROSECONDS)) {
                                acc[++n] = v;
                            }
                        }
                    } catch (ChannelClosedException e) {
                        // closed mid-run
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                    acc[0] = n;
                }));
                long[] rec = new long[(int) (16 * perProducer) + 1];
                received.add(rec);
                threads.add(new Thread(() -> {
                    ThreadLocalRandom r = ThreadLocalRandom.current();
                    int n = 0;
                    try {
                        for (;;) {
                            OptionalLong v = ch.poll(r.nextInt(200), TimeUnit.MICROSECONDS);
                            if (v.isPresent()) {
                                rec[++n] = v.getAsLong();
                            }
                        }
                    } catch (ChannelClosedException e) {
                        // closed and drained
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                    rec[0] = n;
                }));
                long pj = TestLib.pcJob(ch.retainNative(), true, cbase, perProducer, 7 + i);
                long cj = TestLib.pcJob(ch.retainNative(), false, 0, 16 * perProducer, 99 + i);
                jobs.add(new long[] {pj, 1});
                jobs.add(new long[] {cj, 0});
                gs.add(Goroutines.goNative(TestLib.pcFn(), pj));
                gs.add(Goroutines.goNative(TestLib.pcFn(), cj));
            }
            threads.forEach(Thread::start);
            Thread.sleep(300);
            ch.closeForSend();
            for (Thread t : threads) {
                t.join(60_000);
                assertTrue(!t.isAlive(), "thread stuck");
            }
            for (Goroutine<?> g : gs) {
                assertTrue(g.join(60, TimeUnit.SECONDS), "goroutine stuck");
            }
            Map<Long, Integer> sent = new HashMap<>();
            long nSent = 0;
            long nRecv = 0;
            for (long[] acc : accepted) {
                for (int k = 1; k <= acc[0]; k++) {
                    sent.merge(acc[k], 1, Integer::sum);
                    nSent++;
                }
            }
            Map<Long, Integer> got = new HashMap<>();
            for (long[] rec : received) {
                for (int k = 1; k <= rec[0]; k++) {
                    got.merge(rec[k], 1, Integer::sum);
                    nRecv++;
                }
            }
            for (long[] j : jobs) {
                long[] vals = TestLib.pcResult(j[0]);
                for (long v : vals) {
                    (j[1] == 1 ? sent : got).merge(v, 1, Integer::sum);
                }
                if (j[1] == 1) {
                    nSent += vals.length;
                } else {
                    nRecv += vals.length;
                }
            }
            assertEquals(nSent, sent.size(), "a producer value was accepted twice");
            assertEquals(nRecv, got.size(), "a value was received twice");
            assertEquals(sent.keySet(), got.keySet(), "accepted and received differ");
            assertTrue(nSent > 1000, "too few values moved: " + nSent);
            System.out.printf("item9 (cap %d): %d values accepted and received exactly once%n", cap, nSent);
        }
    }
}
