package smux.api;

import java.io.IOException;

/**
 * A configured limit refused the operation: too many concurrent streams, the session's receive
 * buffer budget is reserved in full, or the stream ids of the session are used up. The message
 * names the limit and what to change.
 */
public class LimitExceededException extends IOException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception that names the limit.
     *
     * @param message the limit, its value, and what to change
     */
    public LimitExceededException(String message) {
        super(message);
    }
}
