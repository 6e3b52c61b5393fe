package smux.api;

import java.io.IOException;

/**
 * The session is closed, so the operation cannot proceed. Every call blocked on the session or
 * one of its streams ends with this exception (or a subclass) when the session closes, whatever
 * closed it: a local {@code close()}, the peer ending the connection, a keepalive timeout, an I/O
 * error, or a protocol violation ({@link #getCause()} then is the {@link ProtocolException}).
 */
public class SessionClosedException extends IOException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception with a message that says why the session closed.
     *
     * @param message why the session is closed
     */
    public SessionClosedException(String message) {
        super(message);
    }

    /**
     * Creates an exception with a message and the failure that closed the session.
     *
     * @param message why the session is closed
     * @param cause what closed it (a {@link ProtocolException}, an I/O error, ...)
     */
    public SessionClosedException(String message, Throwable cause) {
        super(message, cause);
    }
}
