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
     * @throws SessionClosedException if the session is closed or draining ({@link #drain})
     * @throws LimitExceededException if {@code maxStreams} or the stream ids are used up (version 2 streams beyond
     *     the memory reserved up front are admitted on credit: see {@link SmuxConfig})
     * @throws IllegalStateException if this is a server with {@link SmuxConfig#VERSION_AUTO} whose
     *     peer has sent nothing yet (the version is not known): open streams after the peer spoke
     */
    SmuxStream openStream() throws IOException;

    /**
     * Waits for the next stream the peer opens. Streams the peer opened before the session failed
     * (the peer closed the connection, keepalive, an error) are still returned, with the data that
     * arrived for them; then the failure is thrown. After a local {@link #close()}, none are.
     *
     * @return the stream
     * @throws SessionClosedException if the session closes, or starts to drain ({@link #drain}), while waiting
     * @throws java.io.InterruptedIOException if the thread is interrupted
     */
    SmuxStream acceptStream() throws IOException;

    /**
     * Waits at most {@code timeout} for the next stream the peer opens.
     *
     * @param timeout how long to wait; zero means do not wait
     * @return the stream
     * @throws SocketTimeoutException if no stream arrived in time
     * @throws SessionClosedException if the session closes, or starts to drain ({@link #drain}), while waiting
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
     * Closes the session gracefully: lets the streams in flight finish, up to {@code timeout},
     * then {@link #close() closes} it. For a server that restarts, or a client that moves to a
     * new connection, without cutting transfers.
     *
     * <p>Exactly:
     * <ol>
     * <li>At once, the session stops taking new streams. {@link #openStream()} and
     *     {@link #acceptStream()} throw {@link SessionClosedException} saying the session is
     *     draining, including calls already waiting in {@code acceptStream}. Streams the peer
     *     opened that were not yet accepted, and those it opens from now on, are refused: each is
     *     answered with FIN (the peer reads end-of-stream on it, as for a full accept backlog).
     *     At most {@link SmuxConfig#acceptBacklog()} streams are refused so during one drain;
     *     beyond that they wait in the backlog, and the backlog's own limit refuses the rest.</li>
     * <li>Streams already opened or accepted go on as before, in both directions. A stream has
     *     finished when the application has {@linkplain SmuxStream#close() closed} it (an
     *     end-of-stream in both directions alone does not close it).</li>
     * <li>When every such stream has finished, or {@code timeout} has passed, or the calling
     *     thread is interrupted, or the session ends otherwise (the peer, keepalive, a failure),
     *     the session is closed as by {@link #close()}: streams still open are cut (their
     *     committed bytes are still flushed, or reported as {@link #close()} does).</li>
     * </ol>
     * The session stays open ({@link #isClosed()} false) while it drains. The peer is not told:
     * xtaci/smux has no frame for it (no GOAWAY), so a peer learns of the drain only from the
     * refused streams and, at the end, the closed connection. Calling {@code drain} while
     * another drain runs waits for its own {@code timeout} on the same streams; on a session
     * that is already closed it returns at once (true only if the application had closed every
     * stream). If the thread was interrupted, its interrupt flag is set again on return.
     *
     * @param timeout how long the streams in flight may take; zero closes at once, as
     *     {@link #close()} does, after refusing new streams
     * @return true if every stream had finished before the session closed, false if some were
     *     cut (the timeout passed, the thread was interrupted, or the session ended otherwise)
     * @throws AbandonedBytesException if the final close gave up committed bytes, as {@link #close()}
     *     reports it (the session is closed all the same)
     * @throws IllegalArgumentException if {@code timeout} is negative
     */
    boolean drain(Duration timeout) throws AbandonedBytesException;

    /**
     * Closes every stream (each sends FIN after its committed data), flushes, then closes the
     * connection. Blocked calls on the session and its streams fail with
     * {@link SessionClosedException}.
     *
     * <p><b>Committed bytes are kept or reported.</b> The flush goes on as long as the connection
     * moves: a peer that reads, however slowly, gets every byte writes reported as transferred.
     * Only when the connection accepts nothing for a whole {@link SmuxConfig#closeTimeout()}
     * (default 10 s: the peer does not read), or fails during the flush, does the close give up;
     * it then closes the connection all the same and throws {@link AbandonedBytesException} with
     * the exact number of committed payload bytes the peer will not receive. A close that keeps
     * every byte returns normally. So {@code close} returns within about {@code closeTimeout}
     * after the connection last moved, even if it is stuck.
     *
     * <p>Only the first call reports; calling it again does nothing (the count stays in
     * {@link #stats()} and {@link #closeCause()}). A session that had already failed (the peer
     * closed, keepalive, an error) closes silently: its failure is in {@link #closeCause()}.
     * The thread's interrupt flag does not cut the flush short; it is set again on return.
     *
     * @throws AbandonedBytesException if committed bytes could not be sent (the session is closed)
     */
    @Override
    void close() throws AbandonedBytesException;

    /** @return whether the session is closed, by either side or by a failure */
    boolean isClosed();

    /**
     * Returns why the session closed: empty while open or after a clean local close; otherwise
     * the exception callers get (a keepalive timeout, the peer closing, an I/O error, or a
     * {@link ProtocolException} as its cause). After a local close that gave up committed bytes,
     * an exception whose cause is the {@link AbandonedBytesException} {@link #close()} threw.
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
