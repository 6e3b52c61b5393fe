package smux.it.faults;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/** What the fault tests share: the configurations they run in, test data, digests, resource counts. */
final class Faults {
    /** The transports every scenario runs on. */
    static final String[] TRANSPORTS = {"socket", "nio"};

    private Faults() {
    }

    /** Each transport, for scenarios that only version 2 can pass. */
    static Stream<Arguments> transports() {
        return Stream.of(TRANSPORTS).map(Arguments::of);
    }

    /** Each transport with version 2 and with version 1. */
    static Stream<Arguments> transportsAndVersions() {
        return Stream.of(TRANSPORTS).flatMap(t -> Stream.of(Arguments.of(t, 2), Arguments.of(t, 1)));
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    static String sha256(byte[]... parts) {
        MessageDigest d = sha256();
        for (byte[] p : parts) {
            d.update(p);
        }
        return HexFormat.of().formatHex(d.digest());
    }

    static String hex(MessageDigest d) {
        return HexFormat.of().formatHex(d.digest());
    }

    static long smuxThreads() {
        return smux.it.Leaks.smuxThreads();
    }

    static long openFiles() {
        return smux.it.Leaks.openFiles();
    }

    /**
     * Parks until {@link System#nanoTime()} reaches {@code at}. Used only to place a fault at a chosen moment
     * of a timeline, never to wait for something to happen.
     */
    static void pauseUntil(long at) {
        long left;
        while ((left = at - System.nanoTime()) > 0) {
            LockSupport.parkNanos(left);
        }
    }

    /**
     * Watches {@code invariant} for {@code millis} (bounded polling, every 5 ms). @return true if it held the
     * whole time, false as soon as it did not
     */
    static boolean holdsFor(long millis, java.util.function.BooleanSupplier invariant) {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (invariant.getAsBoolean()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return true;
            }
            LockSupport.parkNanos(Math.min(left, 5_000_000));
        }
        return false;
    }

    /** Daemon threads named {@code prefix-N}, so nothing a test starts keeps the JVM up or looks like smux's. */
    static ExecutorService pool(String prefix, int threads) {
        AtomicInteger n = new AtomicInteger();
        ThreadFactory factory = r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        return threads > 0 ? Executors.newFixedThreadPool(threads, factory) : Executors.newCachedThreadPool(factory);
    }

    /** Fills {@code data[0, length)} with bytes from a simple generator seeded with {@code seed}. */
    static byte[] pattern(byte[] data, int length, long seed) {
        long x = seed * 0x9E3779B97F4A7C15L + 1;
        for (int i = 0; i < length; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            data[i] = (byte) x;
        }
        return data;
    }
}
