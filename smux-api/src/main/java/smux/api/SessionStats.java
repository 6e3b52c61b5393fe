package smux.api;

/**
 * A snapshot of a session's counters and limits. Byte counts are stream payload, without frame
 * headers.
 *
 * @param openStreams streams open now
 * @param streamsOpened streams this side opened
 * @param streamsAccepted streams the peer opened that were admitted
 * @param streamsRefused streams the peer opened that were refused (backlog full or a limit reached)
 * @param bytesSent payload bytes committed for sending
 * @param bytesReceived payload bytes received
 * @param bytesDropped payload bytes received for closed or unknown streams and dropped
 * @param framesSent frames committed for sending
 * @param framesReceived frames received
 * @param bufferedBytes received bytes not yet read by the application
 * @param reservedBytes receive memory the session holds now, of its {@code maxSessionBuffer} and
 *     of its shared {@link MemoryBudget} (version 2: one reservation per stream reserved up front,
 *     and the room of the streams on credit; version 1: room for what it buffers)
 * @param maxSessionBuffer the session's own receive budget ({@link SmuxConfig#maxSessionBuffer()})
 * @param maxStreams the most streams the session holds at once ({@link SmuxConfig#maxStreams()})
 * @param memoryBudgetUsed bytes reserved now by every session sharing this session's
 *     {@link MemoryBudget}
 * @param memoryBudgetCapacity that budget's capacity
 * @param committedBytesAbandoned committed payload bytes the peer will not receive because a local
 *     close gave up (the connection made no progress for {@link SmuxConfig#closeTimeout()}, or
 *     failed during the flush): 0 unless it did; the number {@link AbandonedBytesException} carries
 * @param streamsShed streams this session dropped to keep its receive memory within the shared
 *     {@link MemoryBudget} (version 2): streams admitted on credit, beyond those whose memory is
 *     reserved up front, that held the most unread bytes when the budget had no room for more.
 *     The peer got FIN (after a window of 0), the application's reads and writes a
 *     {@link LimitExceededException} that says so. See docs/PROTOCOL.md, "Receive memory"
 * @param creditStreams streams open now that were admitted on credit (version 2): beyond those
 *     whose 256 KiB are reserved up front within {@link SmuxConfig#maxSessionBuffer()}
 * @param stalls how long and with how many bytes the session's streams waited, by cause, summed
 *     over every stream it had ({@link SmuxStream#stallStats()}); a stall still going on counts for
 *     the streams the application holds
 */
public record SessionStats(
        int openStreams,
        long streamsOpened,
        long streamsAccepted,
        long streamsRefused,
        long bytesSent,
        long bytesReceived,
        long bytesDropped,
        long framesSent,
        long framesReceived,
        long bufferedBytes,
        long reservedBytes,
        long maxSessionBuffer,
        int maxStreams,
        long memoryBudgetUsed,
        long memoryBudgetCapacity,
        long committedBytesAbandoned,
        long streamsShed,
        int creditStreams,
        StallStats stalls) {
}
