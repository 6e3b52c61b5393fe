package smux.transport.socket;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/** Bounded polling for conditions other threads make true: no fixed sleeps in the tests. */
final class Await {
    private Await() {
    }

    /** Polls {@code condition} until true; fails with {@code what} after {@code max}. */
    static void until(String what, Duration max, BooleanSupplier condition) {
        until(max, condition, () -> what);
    }

    static void until(Duration max, BooleanSupplier condition, Supplier<String> what) {
        long deadline = System.nanoTime() + max.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + max.toMillis() + " ms waiting for: " + what.get());
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
        }
    }

    /** @return the live threads whose name starts with "smux-" */
    static Set<Thread> smuxThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith("smux-"))
                .collect(Collectors.toSet());
    }

    /** Waits until every smux thread not in {@code before} has ended. */
    static void smuxThreadsEnd(Set<Thread> before, Duration max) {
        until(max, () -> newThreads(before).isEmpty(),
                () -> "smux threads still running: " + newThreads(before).stream().map(Thread::getName).toList());
    }

    private static Set<Thread> newThreads(Set<Thread> before) {
        Set<Thread> now = smuxThreads();
        now.removeAll(before);
        return now;
    }

    /** @return whether {@code t} is parked in a condition wait inside {@code owner.method} (owner: a class name) */
    static boolean waitingIn(Thread t, String owner, String method) {
        if (t.getState() != Thread.State.WAITING && t.getState() != Thread.State.TIMED_WAITING) {
            return false;
        }
        boolean inAwait = false;
        for (StackTraceElement e : t.getStackTrace()) {
            if (e.getMethodName().startsWith("await")) {
                inAwait = true;
            }
            if (inAwait && e.getClassName().equals(owner) && e.getMethodName().equals(method)) {
                return true;
            }
        }
        return false;
    }
}
