package smux.engine.runtime;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import smux.api.AbandonedBytesException;

/**
 * The account of a local close that gave up committed bytes: the transport reports what its
 * flush dropped ({@link SessionLink#committedBytesAbandoned}, once, before the connection closes),
 * and the session's {@code close()} throws it once, while its stats and close cause carry the
 * same number.
 */
final class AbandonedBytes {
    private final String remote;
    private final Duration closeTimeout;
    /** Committed payload the close gave up (written by the one transport thread that reports it). */
    private volatile long bytes;
    /** The connection's failure during the close's flush, or null when the session forced the close. */
    private volatile IOException failure;
    /** Set by the one close call that reports it (log, JFR, exception). */
    private final AtomicBoolean reported = new AtomicBoolean();

    AbandonedBytes(String remote, Duration closeTimeout) {
        this.remote = remote;
        this.closeTimeout = closeTimeout;
    }

    /** The transport's report. */
    void add(long payloadBytes, IOException cause) {
        if (payloadBytes <= 0) {
            return;
        }
        if (cause != null && failure == null) {
            failure = cause;
        }
        bytes += payloadBytes;
    }

    /** @return committed payload bytes given up so far */
    long bytes() {
        return bytes;
    }

    /** @return the exception for the first close call to report the loss (logged and recorded then), or null */
    AbandonedBytesException takeReport() {
        long n = bytes;
        if (n == 0 || !reported.compareAndSet(false, true)) {
            return null;
        }
        Telemetry.closeAbandoned(remote, n, closeTimeout, failure);
        return exception();
    }

    /** @return the one account of the loss: the exception, its cause and the log say the same; null if none */
    AbandonedBytesException exception() {
        long n = bytes;
        if (n == 0) {
            return null;
        }
        IOException cause = failure;
        String why = cause == null
                ? "the connection accepted nothing for closeTimeout = " + closeTimeout.toMillis() + " ms (the peer did not read)"
                : "the connection failed while the close flushed: " + cause.getMessage();
        return new AbandonedBytesException("the session with " + remote + " was closed, but " + n
                + " committed bytes will not reach the peer: " + why, n, cause);
    }
}
