package smux.it.faults;

import java.util.Arrays;

/**
 * The bytes of one direction of one stream, known at every offset from a seed (byte p is byte p mod 8 of
 * splitmix64(seed + p / 8)), so a writer can produce any chunk and a reader can check any chunk without
 * either keeping a copy, however the bytes were cut into writes, frames and reads.
 */
final class SeededBytes {
    private final long seed;

    SeededBytes(long seed) {
        this.seed = seed;
    }

    /** Fills {@code dst[off, off+len)} with the bytes at positions {@code position...}. */
    void fill(long position, byte[] dst, int off, int len) {
        long word = position >>> 3;
        long bits = mix(seed + word) >>> (8 * (int) (position & 7));
        int inWord = 8 - (int) (position & 7);
        for (int i = 0; i < len; i++) {
            if (inWord == 0) {
                bits = mix(seed + ++word);
                inWord = 8;
            }
            dst[off + i] = (byte) bits;
            bits >>>= 8;
            inWord--;
        }
    }

    /** @return the index in {@code data[0, len)} of the first byte that is not the one at its position, or -1 */
    int firstMismatch(long position, byte[] data, int len, byte[] scratch) {
        if (scratch.length < len) {
            throw new IllegalArgumentException("scratch of " + scratch.length + " bytes for " + len);
        }
        fill(position, scratch, 0, len);
        return Arrays.mismatch(data, 0, len, scratch, 0, len);
    }

    private static long mix(long z) {
        z += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
