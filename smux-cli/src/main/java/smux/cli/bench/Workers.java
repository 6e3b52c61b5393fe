package smux.cli.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The threads of one bench case. Every worker is a named daemon thread; {@link #joinAll} waits
 * for them after the case closed its sockets, and {@link #lingering} finds threads that outlived
 * their case (bench workers or smux transport threads), so a leak shows up in the report
 * instead of skewing the next case.
 */
final class Workers {
    /** Thread names of the bench's own workers start with this. */
    static final String PREFIX = "bench-";
    /** Small stacks: the 1,000-stream cases start a few thousand threads. */
    private static final long STACK = 256 * 1024;

    private final String name;
    private final List<Thread> threads = new ArrayList<>();

    Workers(String name) {
        this.name = name;
    }

    /** Starts a worker. */
    synchronized Thread start(String role, Runnable body) {
        Thread t = new Thread(null, body, PREFIX + name + "-" + role + "-" + threads.size(), STACK);
        t.setDaemon(true);
        threads.add(t);
        t.start();
        return t;
    }

    /**
     * Waits for every worker to end.
     *
     * @return the number that were still running after {@code timeoutMillis}
     */
    int joinAll(long timeoutMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        List<Thread> copy;
        synchronized (this) {
            copy = new ArrayList<>(threads);
        }
        int alive = 0;
        for (Thread t : copy) {
            long left = deadline - System.nanoTime();
            try {
                if (left > 0) {
                    t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return copy.size();
            }
            if (t.isAlive()) {
                alive++;
            }
        }
        return alive;
    }

    /** @return live threads whose name starts with {@code smux-} (the transports' threads) */
    static List<String> smuxThreads() {
        return named("smux-");
    }

    /**
     * Waits up to {@code timeoutMillis} until no smux transport thread and no bench worker is
     * alive.
     *
     * @return the names of those still alive (empty when the case cleaned up after itself)
     */
    static List<String> lingering(long timeoutMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (true) {
            List<String> left = named("smux-");
            left.addAll(named(PREFIX));
            if (left.isEmpty() || System.nanoTime() - deadline > 0) {
                return left;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return left;
            }
        }
    }

    private static List<String> named(String prefix) {
        List<String> names = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().startsWith(prefix)) {
                names.add(t.getName());
            }
        }
        return names;
    }
}
