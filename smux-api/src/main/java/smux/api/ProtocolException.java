package smux.api;

import java.io.IOException;
import java.util.Objects;

/**
 * The peer broke the smux protocol. The session that received the offending bytes is closed at
 * once (its connection too); other sessions are not affected.
 *
 * <p>{@link #violation()} names the broken rule so that callers and tests can tell the cases
 * apart without parsing the message; the message adds the details (stream id, lengths, values).
 */
public class ProtocolException extends IOException {
    private static final long serialVersionUID = 1L;

    /** The rules of the wire protocol a peer can break. */
    public enum Violation {
        /** A frame header carried a version other than the session's (there is no negotiation). */
        WRONG_VERSION,
        /** A frame header carried a command this protocol version does not define. */
        UNKNOWN_COMMAND,
        /** A frame's LENGTH does not fit its command (SYN, FIN, NOP must be empty; UPD and VRM carry 8 bytes). */
        BAD_LENGTH,
        /** A window update (UPD) arrived on a version 1 session. */
        UPDATE_IN_VERSION_1,
        /** A stream id was not one the peer may use (wrong parity for the peer's side, or 0 on a stream frame). */
        BAD_STREAM_ID,
        /** A control frame that belongs to the whole session (NOP, VRM) named a stream. */
        BAD_SESSION_FRAME,
        /** The peer sent more data on a stream than the receive window it was granted allows. */
        WINDOW_OVERRUN,
        /** A window update acknowledged more bytes than were ever sent on the stream. */
        NEGATIVE_INFLIGHT,
        /** The peer opened streams or sent probes faster than it let this side answer them. */
        CONTROL_BACKLOG,
        /** The connection ended in the middle of a frame. */
        TRUNCATED_FRAME,
        /**
         * The first bytes were a TLS record (a ClientHello, or an alert), not an smux frame: the
         * peer speaks TLS over this connection and this end does not.
         */
        TLS_RECORD
    }

    /** The rule the peer broke. */
    private final Violation violation;

    /**
     * Creates an exception for a broken rule.
     *
     * @param violation the rule the peer broke
     * @param message the details: what was received and what was allowed
     * @throws NullPointerException if {@code violation} is null
     */
    public ProtocolException(Violation violation, String message) {
        super(violation + ": " + message);
        this.violation = Objects.requireNonNull(violation, "violation");
    }

    /**
     * Returns the rule the peer broke.
     *
     * @return the violation, never null
     */
    public Violation violation() {
        return violation;
    }
}
