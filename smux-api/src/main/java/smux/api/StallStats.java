package smux.api;

import java.time.Duration;
import java.util.Objects;

/**
 * How long, and with how many bytes, a stream waited, by {@link StallCause}: a snapshot of
 * {@link SmuxStream#stallStats()}, or the sum over a session's streams in
 * {@link SessionStats#stalls()}. It answers "why is my stream slow?": its writes waited for the
 * peer's window (the far reader is behind), or for the connection (the link is full), or its
 * received bytes waited for the local application to read them.
 *
 * <p>A stall is one wait of at least {@link #MIN_STALL}: shorter ones are the ordinary hand-off
 * between threads and are not counted. Times include a stall still going on when the snapshot was
 * taken. Bytes are those waiting when each stall began: the part of a write not yet sent (a
 * stalled write counts once per stall), or the unread bytes that arrived while the reader kept
 * them waiting. The counters are updated only when a wait starts or ends, never per byte.
 *
 * @param peerWindowNanos time the stream's writes waited for the peer's window
 * @param peerWindowBytes bytes that waited for the peer's window
 * @param connectionNanos time the stream's writes, with window, waited for the connection
 * @param connectionBytes bytes that waited for the connection
 * @param localReaderNanos time received bytes waited unread for the local application
 * @param localReaderBytes received bytes that waited for the local application
 * @param ongoing the cause of the longest stall going on at the snapshot, or null if none
 * @param ongoingNanos how long that stall has lasted so far, 0 if none
 */
public record StallStats(
        long peerWindowNanos,
        long peerWindowBytes,
        long connectionNanos,
        long connectionBytes,
        long localReaderNanos,
        long localReaderBytes,
        StallCause ongoing,
        long ongoingNanos) {

    /** The shortest wait that counts as a stall: 10 ms. */
    public static final Duration MIN_STALL = Duration.ofMillis(10);

    /** No stall at all. */
    public static final StallStats NONE = new StallStats(0, 0, 0, 0, 0, 0, null, 0);

    /**
     * Returns the time spent stalled for one cause.
     *
     * @param cause the cause
     * @return nanoseconds
     */
    public long nanos(StallCause cause) {
        switch (Objects.requireNonNull(cause, "cause")) {
            case PEER_WINDOW: return peerWindowNanos;
            case CONNECTION: return connectionNanos;
            default: return localReaderNanos;
        }
    }

    /**
     * Returns the bytes that stalled for one cause.
     *
     * @param cause the cause
     * @return bytes
     */
    public long bytes(StallCause cause) {
        switch (Objects.requireNonNull(cause, "cause")) {
            case PEER_WINDOW: return peerWindowBytes;
            case CONNECTION: return connectionBytes;
            default: return localReaderBytes;
        }
    }

    /** @return whether anything stalled at all */
    public boolean any() {
        return peerWindowNanos != 0 || connectionNanos != 0 || localReaderNanos != 0;
    }

    /**
     * Adds two snapshots (a session sums its streams this way); the ongoing stall is the longer.
     *
     * @param other the other snapshot
     * @return the sum
     */
    public StallStats plus(StallStats other) {
        boolean mine = other.ongoing == null || (ongoing != null && ongoingNanos >= other.ongoingNanos);
        return new StallStats(peerWindowNanos + other.peerWindowNanos, peerWindowBytes + other.peerWindowBytes,
                connectionNanos + other.connectionNanos, connectionBytes + other.connectionBytes,
                localReaderNanos + other.localReaderNanos, localReaderBytes + other.localReaderBytes,
                mine ? ongoing : other.ongoing, mine ? ongoingNanos : other.ongoingNanos);
    }
}
