package smux.it.contract;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Random;
import java.util.function.BooleanSupplier;

/** Test data, digests and bounded waits. */
final class Bytes {
    private Bytes() {
    }

    static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    static String sha256(byte[] b, int off, int len) {
        MessageDigest d = digest();
        d.update(b, off, len);
        return HexFormat.of().formatHex(d.digest());
    }

    static String sha256(byte[] b) {
        return sha256(b, 0, b.length);
    }

    /** Reads to end-of-stream, returning the SHA-256 and the count. */
    static String[] drain(InputStream in) throws IOException {
        MessageDigest d = digest();
        byte[] buf = new byte[64 * 1024];
        long total = 0;
        int n;
        while ((n = in.read(buf)) >= 0) {
            d.update(buf, 0, n);
            total += n;
        }
        return new String[] {HexFormat.of().formatHex(d.digest()), Long.toString(total)};
    }

    static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** Polls {@code condition} until true or {@code millis} pass. @return whether it became true */
    static boolean await(long millis, BooleanSupplier condition) {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);
        }
        return true;
    }
}
