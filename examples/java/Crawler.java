import io.gr.Context;
import io.gr.Goroutines;
import io.gr.Group;
import io.gr.LongChannel;
import io.gr.Select;
import io.gr.Semaphore;
import io.gr.Ticker;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A rate-limited crawler's shape in Java (issue 15): a Group of goroutines under a Context
 * with a deadline, a Semaphore capping the fetches in flight, and a Ticker spacing their
 * starts. "Fetching" is simulated with a sleep; the page "bad" fails, which cancels the rest
 * and the group's close reports it (an ExecutionException caused by it, the other failures
 * suppressed on that cause).
 */
public final class Crawler {
    private Crawler() {}

    static String fetch(Context ctx, String page) throws Exception {
        if (page.equals("bad")) {
            throw new IllegalStateException("fetching " + page + " failed");
        }
        try (LongChannel pause = Goroutines.after(20, TimeUnit.MILLISECONDS)) {
            Select s = new Select();
            Select.RecvLong done = s.recv(ctx.done());
            s.recv(pause);
            if (s.select() == done) {
                throw ctx.err(); // the context fired first: stop
            }
        }
        return "<html>" + page + "</html>";
    }

    static Map<String, String> crawl(String[] pages, Context parent) throws Exception {
        Map<String, String> got = new ConcurrentHashMap<>();
        try (Context ctx = parent.withTimeout(5, TimeUnit.SECONDS);
             Semaphore inFlight = new Semaphore(3);
             Ticker pace = new Ticker(2, TimeUnit.MILLISECONDS);
             Group group = new Group(ctx)) {
            for (String page : pages) {
                pace.channel().recv(); // at most one start per tick
                inFlight.acquire(1);
                group.go(() -> {
                    try {
                        got.put(page, fetch(group.context(), page));
                    } finally {
                        inFlight.release(1);
                    }
                    return null;
                });
            }
        } // the group's close waits for every fetch; ExecutionException caused by the first failure
        return got;
    }

    public static void main(String[] args) throws Exception {
        try (Context root = new Context()) {
            Map<String, String> ok = crawl(new String[] {"a", "b", "c", "d", "e", "f"}, root);
            System.out.println("crawled " + ok.size() + " pages: " + new java.util.TreeMap<>(ok).keySet());
            try {
                crawl(new String[] {"a", "b", "bad", "c", "d"}, root);
                throw new AssertionError("the failing crawl returned");
            } catch (java.util.concurrent.ExecutionException e) {
                Throwable first = e.getCause();
                System.out.println("the failing crawl: " + first.getMessage() + " (" + first.getSuppressed().length
                        + " others suppressed)");
            }
        }
    }
}
