package smux.it;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * Each blocking party of a test (a peer that accepts, a writer, a reader) on a thread of its own.
 *
 * <p>Never {@code OwnThreads.supply(task)} without an executor, nor any pool sized by
 * the JDK or the CPU count: the common pool has one worker on 2 CPUs, and whether a second
 * blocking task gets a thread then depends on the JDK (17 gives {@code CompletableFuture} a thread
 * per task below parallelism 2; 25 queues it behind the first). A writer and the reader it waits
 * for then share one worker, and the test reports a stalled stream the library did not cause.
 */
public final class OwnThreads {
    /** Starts every task on a new daemon thread, named for thread dumps; never queues one. */
    public static final Executor EACH = task -> {
        Thread t = new Thread(task, "test-party");
        t.setDaemon(true);
        t.start();
    };

    private OwnThreads() {
    }

    /** @return the result of {@code body}, run on a thread of its own */
    public static <T> CompletableFuture<T> supply(Supplier<T> body) {
        return CompletableFuture.supplyAsync(body, EACH);
    }

    /** @return the end of {@code body}, run on a thread of its own */
    public static CompletableFuture<Void> run(Runnable body) {
        return CompletableFuture.runAsync(body, EACH);
    }
}
