package smux.engine.runtime;

import smux.api.Session;
import smux.api.SessionClosedException;

/**
 * What a stream handle may ask of its session: to tell the connection's driver what its
 * application did, and whether the session is over. Nothing here blocks or takes the engine's
 * lock on the caller's thread while the session runs: the driver picks the news up on its own.
 */
interface StreamOps {
    /** A write was posted or withdrawn, or writing was closed. */
    void outboundChanged(StreamHandle stream);

    /** The application read as much as the engine asked to hear about. */
    void consumedDue(StreamHandle stream);

    /**
     * The application closed the stream: the engine sends FIN (after committed bytes) and forgets
     * it before this returns (a control call: it takes the engine's lock briefly).
     */
    void closed(StreamHandle stream);

    /** @return the receive window the stream advertises now, 0 if none (a control call) */
    int receiveWindow(StreamHandle stream);

    /** @return the exception for a session that is over, or null while it runs */
    SessionClosedException sessionError();

    /** @return the session, for {@link smux.api.SmuxStream#session()} */
    Session session();
}
