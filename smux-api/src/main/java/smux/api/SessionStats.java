package smux.api;

/**
 * A snapshot of a session's counters. Byte counts are stream payload, without frame headers.
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
        long bufferedBytes) {
}
