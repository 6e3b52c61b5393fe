package smux.api;

import java.io.IOException;

/**
 * A local close gave up bytes it had promised to send: {@link Session#close()} (or the close that
 * ends {@link Session#drain}) could not hand every committed byte to the connection, so the peer
 * will not receive {@link #abandonedBytes()} bytes that writes had reported as transferred.
 *
 * <p>Committed bytes are those a write reported (its return value, or
 * {@link java.io.InterruptedIOException#bytesTransferred} of a timed-out write). A close gives
 * them up only when the connection stops moving for a whole {@link SmuxConfig#closeTimeout()}
 * (the peer does not read) or fails while the close flushes. The count is of stream payload bytes,
 * exact: every committed data frame the kernel did not accept whole, including the one a socket
 * write cut part-way (the peer discards an incomplete frame). When the connection failed under
 * the flush ({@link #getCause()}), what the kernel had accepted but not yet delivered is lost with
 * the connection too and is not in the count, as for any connection failure. docs/PROTOCOL.md,
 * "Closing", says what counts as sent. The session is closed all the same;
 * {@link SessionStats#committedBytesAbandoned()} and {@link Session#closeCause()} report the same
 * number.
 */
public class AbandonedBytesException extends IOException {
    private static final long serialVersionUID = 1L;

    /** Committed stream payload bytes the peer will not receive. */
    private final long abandonedBytes;

    /**
     * Creates an exception for a close that gave up {@code abandonedBytes} committed bytes.
     *
     * @param message what happened, with the count
     * @param abandonedBytes committed stream payload bytes the peer will not receive; positive
     * @param cause the connection's failure if it failed during the flush, else null
     * @throws IllegalArgumentException if {@code abandonedBytes} is not positive
     */
    public AbandonedBytesException(String message, long abandonedBytes, Throwable cause) {
        super(message, cause);
        if (abandonedBytes <= 0) {
            throw new IllegalArgumentException("an abandoned close gives up at least one byte, got " + abandonedBytes);
        }
        this.abandonedBytes = abandonedBytes;
    }

    /**
     * Returns how many committed stream payload bytes the close gave up: bytes that writes
     * reported as transferred and that the peer will not receive.
     *
     * @return the count, positive
     */
    public long abandonedBytes() {
        return abandonedBytes;
    }
}
