package smux.api;

import java.io.Closeable;
import java.io.IOException;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Optional;

/**
 * One smux session: many streams over one connection. Thread-safe: streams may be opened,
 * accepted and used from any threads.
 *
 * <p>Both ends are symmetric once the session runs: either side may open streams. The client
 * (the side that dialed) opens odd stream ids, the server even ones, as xtaci/smux does.
 */
public interface Session extends Closeable {

    /**
     * Opens a new stream. Returns at once: the peer learns of the stream with the first frame.
     *
     * @return the new stream
     * @throws SessionClosedException if the session is closed
     * @throws LimitExceededException if {@code maxStreams}, the receive budget, or the stream ids are used up
     */
    SmuxStream openStream() throws IOException;

    /**
     * Waits for the next stream the peer opens. Streams the peer opened before the session failed
     * (the peer closed the connection, keepalive, an error) are still returned, with the data that
     * arrived for them; then the failure is thrown. After a local {@link #close()}, none are.
     *
     * @return the stream
     * @throws SessionClosedException if the session closes while waiting
     * @throws java.io.InterruptedIOException if the thread is interrupted
     */
    SmuxStream acceptStream() throws IOException;

    /**
     * Waits at most {@code timeout} for the next stream the peer opens.
     *
     * @param timeout how long to wait; zero means do not wait
     * @return the stream
     * @throws SocketTimeoutException if no stream arrived in time
     * @throws SessionClosedException if the session closes while waiting
     * @throws java.io.InterruptedIOException if the thread is interrupted
     * @throws IllegalArgumentException if {@code timeout} is negative
     */
    SmuxStream acceptStream(Duration timeout) throws IOException;

    /**
     * Measures the round trip to the peer with a probe frame. Only a peer that proved to be this
     * library (see {@link SmuxConfig.Builder#probePeer}) may be pinged: a plain xtaci/smux peer
     * would treat the frame as a protocol error.
     *
     * @return the round-trip time
     * @throws IllegalStateException if the peer has not been verified
     * @throws SocketTimeoutException if no answer came within {@link SmuxConfig#probeTimeout()}
     * @throws SessionClosedException if the session is closed
     */
    Duration ping() throws IOException;

    /**
     * Closes every stream (each sends FIN after its committed data), then the connection.
     * Blocked calls on the session and its streams fail with {@link SessionClosedException}.
     * Returns within about {@link SmuxConfig#closeTimeout()} even if the connection is stuck.
     * Calling it again does nothing.
     */
    @Override
    void close();

    /** @return whether the session is closed, by either side or by a failure */
    boolean isClosed();

    /**
     * Returns why the session closed: empty while open or after a clean local close; otherwise
     * the exception callers get (a keepalive timeout, the peer closing, an I/O error, or a
     * {@link ProtocolException} as its cause).
     *
     * @return the failure that ended the session, if any
     */
    Optional<SessionClosedException> closeCause();

    /** @return the number of open streams, including those waiting to be accepted */
    int streamCount();

    /** @return a snapshot of the session's counters */
    SessionStats stats();

    /** @return true for the side that dialed (odd stream ids) */
    boolean isClient();

    /** @return whether the peer proved to be this library (it answered or sent a probe) */
    boolean isPeerVerified();

    /** @return the session's settings */
    SmuxConfig config();

    /** @return the name of the transport carrying the session ({@code "socket"}, {@code "nio"}) */
    String transport();

    /** @return the local address of the connection, if known */
    Optional<SocketAddress> localAddress();

    /** @return the remote address of the connection, if known */
    Optional<SocketAddress> remoteAddress();
}
