package smux.engine;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Test data: byte patterns that reveal a lost, duplicated or reordered byte, and hashes. */
final class Bytes {
    private Bytes() {
    }

    /** The golden script's bulk data: byte i is i mod 251 (251 is prime, so no frame size aligns with it). */
    static byte[] mod251(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i % 251);
        }
        return b;
    }

    /**
     * A byte of a long stream identified by {@code seed}, at {@code offset}: a mixing function, so
     * that a shifted, duplicated or foreign byte differs from the expected one with high odds.
     */
    static byte at(long seed, long offset) {
        long z = seed * 0x9E3779B97F4A7C15L + offset;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return (byte) (z ^ (z >>> 31));
    }

    static byte[] stream(long seed, long offset, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = at(seed, offset + i);
        }
        return b;
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    static byte[] ascii(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }
}
