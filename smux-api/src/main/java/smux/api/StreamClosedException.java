package smux.api;

import java.io.IOException;

/**
 * The stream, or the direction of it that the operation needs, is closed: a write after
 * {@code closeWrite()} or {@code close()}, or a read after {@code close()}.
 */
public class StreamClosedException extends IOException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception that says what is closed.
     *
     * @param message which stream and which direction are closed
     */
    public StreamClosedException(String message) {
        super(message);
    }
}
