package smux.it.interop;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Deterministic stream payloads, addressable by position so that a reader can check any chunk without
 * keeping a copy of what was sent, however the bytes were split into writes and frames.
 */
abstract class Content {

    /** Fills {@code dst[off, off+len)} with the bytes at stream positions {@code position...}. */
    abstract void fill(long position, byte[] dst, int off, int len);

    /** The Go peer's pattern: byte i is i mod 251 (what {@code source} and {@code script} send). */
    static Content pattern() {
        return Pattern.INSTANCE;
    }

    /**
     * Pseudo-random bytes, different for every {@code (seed, stream)}: a peer that delivers a frame to
     * the wrong stream, or at the wrong offset, is caught.
     */
    static Content random(long seed, int stream) {
        return new Random(seed * 1_000_003L + stream + 1);
    }

    /**
     * The same bytes as {@link #random} for a raw seed: byte p is byte (p mod 8), low end first, of
     * splitmix64(seed + p / 8). The Go peer's plan mode generates exactly these bytes ({@code mixContent}
     * in {@code interop/plan.go}), so either side can check what the other sends.
     */
    static Content mixed(long seed) {
        return new Random(seed);
    }

    /** Returns the index of the first byte of {@code data[off, off+len)} that differs from the content, or -1. */
    int firstMismatch(long position, byte[] data, int off, int len, byte[] scratch) {
        int done = 0;
        while (done < len) {
            int n = Math.min(scratch.length, len - done);
            fill(position + done, scratch, 0, n);
            int mismatch = java.util.Arrays.mismatch(data, off + done, off + done + n, scratch, 0, n);
            if (mismatch >= 0) {
                return done + mismatch;
            }
            done += n;
        }
        return -1;
    }

    private static final class Pattern extends Content {
        static final Pattern INSTANCE = new Pattern();
        private static final byte[] TABLE = new byte[64 * 1024 + 251];

        static {
            for (int i = 0; i < TABLE.length; i++) {
                TABLE[i] = (byte) (i % 251);
            }
        }

        @Override
        void fill(long position, byte[] dst, int off, int len) {
            while (len > 0) {
                int start = (int) (position % 251);
                int n = Math.min(len, TABLE.length - start);
                System.arraycopy(TABLE, start, dst, off, n);
                position += n;
                off += n;
                len -= n;
            }
        }
    }

    /** Byte p is byte (p mod 8) of mix(seed + p / 8): random access, any chunking gives the same bytes. */
    private static final class Random extends Content {
        private final long seed;

        Random(long seed) {
            this.seed = seed;
        }

        @Override
        void fill(long position, byte[] dst, int off, int len) {
            long word = position >>> 3;
            int shift = (int) (position & 7);
            long bits = mix(seed + word) >>> (8 * shift);
            int inWord = 8 - shift;
            for (int i = 0; i < len; i++) {
                if (inWord == 0) {
                    word++;
                    bits = mix(seed + word);
                    inWord = 8;
                }
                dst[off + i] = (byte) bits;
                bits >>>= 8;
                inWord--;
            }
        }

        private static long mix(long z) {
            z += 0x9E3779B97F4A7C15L;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            return z ^ (z >>> 31);
        }
    }

    /** Counts the bytes of one direction of a stream and keeps their running SHA-256. */
    static final class Tally {
        private final MessageDigest digest;
        private long count;
        private String hex;

        Tally() {
            this(true);
        }

        Tally(boolean hash) {
            try {
                digest = hash ? MessageDigest.getInstance("SHA-256") : null;
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        void add(byte[] b, int off, int len) {
            count += len;
            if (digest != null) {
                digest.update(b, off, len);
            }
        }

        long count() {
            return count;
        }

        /** The lower-case hex digest (as the Go peer prints it); ends the running hash. */
        String hex() {
            if (hex == null) {
                hex = digest == null ? "" : HexFormat.of().formatHex(digest.digest());
            }
            return hex;
        }
    }

    /** The SHA-256 (lower-case hex) of the first {@code length} bytes of {@code content}. */
    static String sha256Hex(Content content, long length) {
        Tally t = new Tally();
        byte[] buf = new byte[64 * 1024];
        for (long off = 0; off < length; ) {
            int n = (int) Math.min(buf.length, length - off);
            content.fill(off, buf, 0, n);
            t.add(buf, 0, n);
            off += n;
        }
        return t.hex();
    }

    static String sha256Hex(byte[] data, int off, int len) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(data, off, len);
            return HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
