package smux.engine;

/** Why a session ended. */
public enum CloseReason {
    /** The application closed it. */
    LOCAL,
    /** The peer closed the connection. */
    PEER_CLOSED,
    /** The peer broke the protocol. */
    PROTOCOL_ERROR,
    /** Nothing arrived for the keepalive timeout. */
    KEEPALIVE_TIMEOUT,
    /** Reading or writing the connection failed. */
    TRANSPORT_ERROR,
    /** The probe found the peer does not speak this protocol; the connection is spent. */
    NOT_SMUX,
    /** The shared memory budget had no room for the session to start. */
    NO_MEMORY
}
