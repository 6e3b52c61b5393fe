package smux.bench.core;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The threads of one bench case. Every worker is a named daemon thread; {@link #joinAll} waits
 * for them after the case closed its sockets, and {@link #lingering} finds threads that outlived
 * their case (bench workers or smux transport threads), so a leak shows up in the report
 * instead of skewing the next case.
 */
public final class Workers {
    /** Thread names of the bench's own workers start with this. */
    static final String PREFIX = "bench-";
    /** Small stacks: the 1,000-stream cases start a few thousand threads. */
    private static final long STACK = 256 * 1024;

    private final String name;
    private final List<Thread> threads = new ArrayList<>();

    Workers(String name) {
        this.name = name;
    }

    /** Whether workers are virtual threads (bench --virtual-threads, Java 21+). */
    private static volatile Object virtualBuilder;

    /**
     * Makes every worker from now on a virtual thread.
     *
     * @return false on a Java without virtual threads (nothing changes)
     */
    public static boolean useVirtualThreads() {
        try {
            virtualBuilder = Thread.class.getMethod("ofVirtual").invoke(null);
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }

    /** Starts a worker. */
    synchronized Thread start(String role, Runnable body) {
        String threadName = PREFIX + name + "-" + role + "-" + threads.size();
        Thread t = virtualBuilder != null ? virtual(threadName, body) : new Thread(null, body, threadName, STACK);
        if (!t.isDaemon()) {
            t.setDaemon(true);
        }
        threads.add(t);
        t.start();
        return t;
    }

    private static Thread virtual(String threadName, Runnable body) {
        try {
            Class<?> builderType = Class.forName("java.lang.Thread$Builder");
            Object named = builderType.getMethod("name", String.class).invoke(virtualBuilder, threadName);
            return (Thread) builderType.getMethod("unstarted", Runnable.class).invoke(named, body);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("virtual threads were available a moment ago", e);
        }
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
