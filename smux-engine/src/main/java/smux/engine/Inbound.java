package smux.engine;

import java.nio.ByteBuffer;

/**
 * Where a stream's received bytes go once the engine has checked them against the stream's
 * window: one side of every stream ({@link StreamSides}), made by the engine's caller, which
 * application threads read without the caller's lock. The engine calls these methods only from
 * its own (single) caller.
 *
 * <p>Consumption flows back in batches: the engine says at which total it wants to hear again
 * ({@link #requestConsumption}), and the owner then reports with {@link StreamView#consumed}.
 */
public interface Inbound {
    /**
     * Takes {@code n} payload bytes from {@code src} at its position, advancing it.
     *
     * @param src received bytes
     * @param n how many belong to this stream, at least 1
     */
    void append(ByteBuffer src, int n);

    /** The peer sent FIN: after what was appended, the stream ends. */
    void finish();

    /**
     * Asks to be told (through {@link StreamView#consumed}) once the application has read at
     * least {@code total} bytes of the stream in all. Replaces the previous request.
     *
     * @param total a total of bytes consumed; {@link Long#MAX_VALUE} for "not now"
     */
    void requestConsumption(long total);

    /**
     * Returns how many bytes the application has read in all. The engine asks when it must know
     * now (a version 1 session that stopped reading the connection).
     *
     * @return bytes consumed so far
     */
    long consumed();
}
