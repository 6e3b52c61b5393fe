package smux.engine;

import java.nio.ByteBuffer;

/**
 * Where a stream's outgoing bytes wait until the connection's writer pulls them. Copying them
 * into the staging buffer ({@link #commit}) is the commit point of guarantee 2: a committed byte
 * will be sent unless the connection fails; a byte not committed can be withdrawn and never is.
 *
 * <p>One side of every stream ({@link StreamSides}), made by the engine's caller, which
 * application threads post to and withdraw from without the caller's lock. The engine calls these
 * methods only from its own (single) caller; an implementation makes them safe against its other
 * users.
 */
public interface Outbound {
    /**
     * Returns how many bytes wait to be sent now. Only a commit makes it smaller, except that a
     * withdraw may drop it to 0 at any time; it grows only when the owner posts more (and then
     * tells the engine, {@link StreamView#outboundChanged}).
     *
     * @return bytes waiting
     */
    int pending();

    /**
     * Commits at most {@code n} bytes, copying them into {@code dst} at its position (advancing
     * it), or nothing at all if they were withdrawn meanwhile: a copy either finishes and counts,
     * or never starts.
     *
     * @param dst the staging buffer, with at least {@code n} bytes of room
     * @param n at most the last {@link #pending()}
     * @return bytes committed, 1..n, or 0 if nothing was
     */
    int commit(ByteBuffer dst, int n);

    /**
     * Returns whether the owner will write nothing more: once nothing is pending, the stream's
     * FIN may leave (after every committed byte).
     *
     * @return true once writing was closed
     */
    boolean writeClosed();
}
