package smux.cli;

import java.lang.reflect.Method;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where {@code serve} and the tunnel run the work of each session and stream, all of which blocks
 * (the smux API is blocking). On Java 21 and later: one virtual thread per task, and the
 * sessions' transport threads are virtual too, so a stream costs a few KiB of heap, not a
 * platform thread. On Java 17 to 20: a pool of at most {@code maxThreads} platform threads that
 * refuses work beyond that bound ({@link RejectedExecutionException}) instead of queueing it or
 * starting more threads, so a peer that opens streams and never finishes them cannot exhaust the
 * process's threads; the caller closes what it could not serve and logs why.
 *
 * <p>Virtual threads are found by reflection because the command is compiled for Java 17.
 */
final class Workers implements AutoCloseable {
    private final ExecutorService executor;
    private final ThreadFactory sessionThreads;
    private final String description;
    /** The platform pool's bound, or 0 on virtual threads (no bound). */
    private final int limit;
    /** Threads the sessions' streams have taken with {@link #tryTake}. */
    private final AtomicInteger taken = new AtomicInteger();

    private Workers(ExecutorService executor, ThreadFactory sessionThreads, String description, int limit) {
        this.executor = executor;
        this.sessionThreads = sessionThreads;
        this.description = description;
        this.limit = limit;
    }

    /**
     * Takes one thread of the platform pool for a stream of a session that holds {@code held}
     * already, if the session stays within its fair share: after it, the session holds no more than
     * the threads still free (the rule of {@code smux.api.MemoryBudget}). One session may so take
     * half of the pool, a second a quarter, and a healthy newcomer still gets threads. Always
     * granted on virtual threads. Give it back with {@link #give}.
     *
     * @param held the threads the session holds now
     * @return whether it was taken
     */
    boolean tryTake(int held) {
        while (true) {
            int now = taken.get();
            int after = now + 1;
            if (limit > 0 && (after > limit || (held > 0 && held + 1 > limit - after))) {
                return false;
            }
            if (taken.compareAndSet(now, after)) {
                return true;
            }
        }
    }

    /** Gives back a thread taken with {@link #tryTake}. */
    void give() {
        taken.decrementAndGet();
    }

    /** @return threads taken with {@link #tryTake} now */
    int taken() {
        return taken.get();
    }

    /** @return the platform pool's bound, 0 on virtual threads */
    int limit() {
        return limit;
    }

    /** @return whether the pool is a bounded one of platform threads */
    boolean bounded() {
        return limit > 0;
    }

    /**
     * @param name the prefix of the threads' names
     * @param maxThreads the bound of the platform pool (Java 17 to 20)
     * @param preferVirtual false forces the platform pool (for measuring the two)
     */
    static Workers create(String name, int maxThreads, boolean preferVirtual) {
        ThreadFactory virtual = preferVirtual ? virtualThreads(name) : null;
        if (virtual != null) {
            ExecutorService perTask = perTaskExecutor(virtual);
            if (perTask != null) {
                return new Workers(perTask, virtualThreads("smux-" + name + "-session"), "a virtual thread per stream", 0);
            }
        }
        ThreadPoolExecutor pool = new ThreadPoolExecutor(0, maxThreads, 30, TimeUnit.SECONDS, new SynchronousQueue<>(),
                Daemons.named(name), new ThreadPoolExecutor.AbortPolicy());
        return new Workers(pool, null, "at most " + maxThreads + " platform threads (--max-threads; Java 21+ uses virtual threads)",
                maxThreads);
    }

    /**
     * Runs {@code task} now, on a thread of its own.
     *
     * @throws RejectedExecutionException if every platform thread of the pool is busy
     * @throws OutOfMemoryError if no thread could be started
     */
    void execute(Runnable task) {
        executor.execute(task);
    }

    /** @return the factory for the transports' threads (virtual), or null for their default */
    ThreadFactory sessionThreads() {
        return sessionThreads;
    }

    /** @return how streams are served, for the startup line */
    String describe() {
        return description;
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }

    // ------------------------------------------------------------------ Java 21+, by reflection

    /** @return whether this JVM has virtual threads (Java 21 and later) */
    static boolean virtualThreadsAvailable() {
        return virtualThreads("probe") != null;
    }

    private static ThreadFactory virtualThreads(String name) {
        try {
            Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
            Class<?> builderType = Class.forName("java.lang.Thread$Builder");
            builder = builderType.getMethod("name", String.class, long.class).invoke(builder, name + "-", 1L);
            return (ThreadFactory) builderType.getMethod("factory").invoke(builder);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null; // Java 17 to 20 (or virtual threads unavailable): the platform pool
        }
    }

    private static ExecutorService perTaskExecutor(ThreadFactory factory) {
        try {
            Method m = java.util.concurrent.Executors.class.getMethod("newThreadPerTaskExecutor", ThreadFactory.class);
            return (ExecutorService) m.invoke(null, factory);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }
}
