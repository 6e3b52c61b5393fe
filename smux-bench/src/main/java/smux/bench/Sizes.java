package smux.bench;

/**
 * The sizes every benchmark of this module shares, so their rates compare: the seed's 512 KiB
 * stream window, a 256 KiB connection staging buffer (the config's default) and 128 KiB
 * application writes.
 */
final class Sizes {
    /** One application write (and read buffer), per stream per operation. */
    static final int WRITE_SIZE = 128 * 1024;
    /** The connection's staging buffer: frames are packed into it, then handed over whole. */
    static final int STAGING_SIZE = 256 * 1024;
    /** The version 2 per-stream receive window. */
    static final int WINDOW = 512 * 1024;
    /** The sender's frame size (the config's default, as xtaci's). */
    static final int FRAME_SIZE = 32 * 1024;

    private Sizes() {
    }

    /** Fills {@code b} with a pattern that differs per stream, so a mixed-up byte would show. */
    static void fill(byte[] b, int stream) {
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (i * 31 + stream * 7 + (i >>> 8));
        }
    }
}
