package smux.api;

/**
 * Why a stream waited: what {@link StallStats} attributes a stream's waiting time and bytes to.
 * Nothing about it goes on the wire; each end measures its own streams.
 */
public enum StallCause {
    /**
     * Sending side: bytes the application wrote waited because the peer's window for the stream
     * was used up (version 2): the peer's reader is behind, or stopped reading.
     */
    PEER_WINDOW,
    /**
     * Sending side: bytes the application wrote had window but waited for the connection: the
     * transport or the socket was full (a slow or congested link, or the other streams' turns).
     */
    CONNECTION,
    /**
     * Receiving side: bytes that arrived waited unread because the local application did not
     * read the stream (or had not accepted it yet).
     */
    LOCAL_READER
}
