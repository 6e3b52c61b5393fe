package smux.engine;

/**
 * The life of one stream, written as a transition table.
 *
 * <p>Theory of operation. A stream carries bytes both ways and each direction ends on its own:
 * a FIN frame says "the sender writes no more". A side that has sent FIN is <em>local
 * half-closed</em>: it may still read. A side that has received FIN is <em>remote half-closed</em>:
 * once it has read what was buffered, its reads return end-of-stream, and it may still write. When
 * both FINs have passed the stream is <em>closed</em> for data; it is forgotten when the
 * application closes it ({@code close()}, which sends FIN first if it was not sent yet). smux has
 * no reset: a stream is never torn down by the peer, only finished.
 *
 * <p>"FIN sent" here means FIN was <em>requested</em>: the frame itself leaves after every byte
 * already written on the stream (the scheduler keeps that order), so the state changes at once and
 * no later write is accepted.
 *
 * <pre>
 *                      SEND_FIN              RECV_FIN
 *   OPEN               LOCAL_CLOSED          REMOTE_CLOSED
 *   LOCAL_CLOSED       (refused)             CLOSED
 *   REMOTE_CLOSED      CLOSED                REMOTE_CLOSED (duplicate FIN, ignored)
 *   CLOSED             (refused)             CLOSED        (duplicate FIN, ignored)
 * </pre>
 */
public enum StreamState {
    /** Both directions carry data. */
    OPEN,
    /** This side sent FIN: it reads, it does not write. */
    LOCAL_CLOSED,
    /** The peer sent FIN: this side writes, and reads what is left, then end-of-stream. */
    REMOTE_CLOSED,
    /** Both sides sent FIN. */
    CLOSED;

    /** What can happen to a stream's state. */
    public enum Input {
        /** The application finished writing (closeWrite or close). */
        SEND_FIN,
        /** A FIN frame arrived. */
        RECV_FIN
    }

    // Rows: the state; columns: Input.ordinal(). null: the input is refused in that state.
    private static final StreamState[][] NEXT = {
        /* OPEN          */ {LOCAL_CLOSED, REMOTE_CLOSED},
        /* LOCAL_CLOSED  */ {null, CLOSED},
        /* REMOTE_CLOSED */ {CLOSED, REMOTE_CLOSED},
        /* CLOSED        */ {null, CLOSED},
    };

    /**
     * Returns the state after {@code input}.
     *
     * @param input what happened
     * @return the next state, or null if the input is refused in this state
     */
    public StreamState next(Input input) {
        return NEXT[ordinal()][input.ordinal()];
    }

    /** @return whether the application may still write (no FIN requested) */
    public boolean canWrite() {
        return this == OPEN || this == REMOTE_CLOSED;
    }

    /** @return whether the peer may still send data (no FIN received) */
    public boolean peerMayWrite() {
        return this == OPEN || this == LOCAL_CLOSED;
    }
}
