package smux.api;

/**
 * What the probe ({@link Smux#probe(java.net.Socket, SmuxConfig)}) saw when it sent its probe
 * frame: whether the peer is this library, and if not, what it did instead. Only
 * {@link #SMUX} proves anything; the other outcomes say what happened on the wire and what it
 * usually means, not what the peer is.
 *
 * <p>Whatever the outcome other than {@link #SMUX}, the connection is spent: a peer that did not
 * answer may have stopped reading it. Close it.
 */
public enum ProbeResult {
    /** The peer answered the probe correctly: it is this library, speaking the probe's version. */
    SMUX,
    /**
     * The peer closed the connection (end of stream or reset) without sending a byte. A Go
     * xtaci/smux peer does this: it takes the probe frame's unknown command as a protocol error,
     * and the applications built on it close the session. So does this library when the probe
     * carries the other protocol version, and so does any server that is shutting down or refuses
     * the connection. A Go smux peer is likely; the probe cannot tell more (probing again with the
     * other version, on a fresh connection, tells this library of the other version apart).
     */
    CLOSED,
    /**
     * The peer sent a TLS record (a handshake or an alert): it expects a TLS client, such as an
     * smux server behind TLS. Probe over a TLS connection instead.
     */
    TLS,
    /**
     * Nothing came back before {@link SmuxConfig#probeTimeout()}, and the connection stayed open:
     * not this library, or a peer that stopped reading without closing (a Go xtaci/smux peer
     * whose application leaves the connection open after a protocol error behaves so).
     */
    NO_ANSWER,
    /** The peer sent something other than the answer: another frame, a wrong answer, another protocol. */
    NOT_SMUX;

    /**
     * Tells whether the peer proved to be this library.
     *
     * @return true for {@link #SMUX} only
     */
    public boolean isSmux() {
        return this == SMUX;
    }
}
