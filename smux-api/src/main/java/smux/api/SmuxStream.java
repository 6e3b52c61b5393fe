package smux.api;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.time.Duration;

/**
 * One ordered, flow-controlled byte stream of a {@link Session}, usable as a
 * {@link ByteChannel} or through {@link #inputStream()} and {@link #outputStream()}.
 *
 * <p>Reads and writes are blocking, with optional timeouts. A read and a write may run at the same
 * time from two threads; two writes (or two reads) on one stream are serialized.
 *
 * <p><b>Write timeouts are exact.</b> Bytes copied into the connection's staging buffer are
 * <em>committed</em>: they reach the peer unless the connection fails. When a write's timeout
 * fires, its bytes not yet committed are withdrawn and never sent, and the write throws
 * {@link SocketTimeoutException} whose {@code bytesTransferred} is exactly the committed count;
 * a {@link ByteBuffer} passed to {@link #write(ByteBuffer)} is left positioned after the committed
 * bytes. Retrying the rest never duplicates, drops or reorders a byte.
 */
public interface SmuxStream extends ByteChannel {

    /** @return the stream id (u32 on the wire; compare with {@link Integer#toUnsignedLong}) */
    int id();

    /** @return the session this stream belongs to */
    Session session();

    /**
     * Reads into {@code dst}, waiting until at least one byte is available, end-of-stream, or the
     * read timeout.
     *
     * @param dst where to put the bytes
     * @return bytes read, or -1 at end-of-stream (the peer sent FIN and everything was read)
     * @throws SocketTimeoutException if the read timeout passed with nothing to read
     * @throws StreamClosedException if this stream was closed
     * @throws SessionClosedException if the session closed and nothing is left to read
     * @throws java.io.InterruptedIOException if the thread is interrupted
     */
    @Override
    int read(ByteBuffer dst) throws IOException;

    /**
     * Writes all of {@code src}, waiting for window and for the connection as needed.
     *
     * @param src the bytes to send; its position advances past every committed byte
     * @return bytes written (all that were remaining)
     * @throws SocketTimeoutException if the write timeout fired; {@code bytesTransferred} and the
     *     buffer's position tell exactly how many bytes were committed
     * @throws StreamClosedException if the stream is closed for writing
     * @throws SessionClosedException if the session closed
     * @throws java.io.InterruptedIOException if the thread is interrupted; {@code bytesTransferred}
     *     is the committed count, as for a timeout
     */
    @Override
    int write(ByteBuffer src) throws IOException;

    /**
     * Returns a blocking input stream over this stream (the same object each time).
     *
     * @return the input view; its {@code close()} closes the stream
     */
    InputStream inputStream();

    /**
     * Returns a blocking output stream over this stream (the same object each time). It does not
     * buffer: each {@code write} is sent as it is, with the exact timeout semantics above.
     *
     * @return the output view; its {@code close()} closes the stream
     */
    OutputStream outputStream();

    /**
     * Sets how long a read may wait; {@link Duration#ZERO} (the default) waits forever. Applies to
     * reads that start after the call, and to one that is waiting now.
     *
     * @param timeout the timeout
     * @throws IllegalArgumentException if negative
     */
    void setReadTimeout(Duration timeout);

    /** @return the read timeout, {@link Duration#ZERO} for none */
    Duration readTimeout();

    /**
     * Sets how long a write may wait; {@link Duration#ZERO} (the default) waits forever.
     *
     * @param timeout the timeout
     * @throws IllegalArgumentException if negative
     */
    void setWriteTimeout(Duration timeout);

    /** @return the write timeout, {@link Duration#ZERO} for none */
    Duration writeTimeout();

    /**
     * Half-closes: sends FIN after every byte already written; the peer's reads then reach
     * end-of-stream, and this side can still read. Calling it again does nothing.
     *
     * @throws SessionClosedException if the session is closed
     * @throws StreamClosedException if the stream was closed
     */
    void closeWrite() throws IOException;

    /**
     * Closes the stream: a write in progress on another thread is withdrawn (it fails with
     * {@link StreamClosedException}), FIN is sent after the committed data if it was not sent,
     * unread data is dropped. Calling it again does nothing. It returns at once and never gives
     * committed bytes up: they leave with the session's connection, and only the session's
     * {@link Session#close()} can give them up, which then says so ({@link AbandonedBytesException}).
     */
    @Override
    void close();

    /** @return whether {@link #close()} was called or the session closed */
    @Override
    boolean isOpen();

    /** @return bytes that can be read now without waiting */
    int available();

    /**
     * Returns the receive window this stream advertises now (version 2): how many unread bytes
     * its peer may have sent beyond what was read. With tuned windows
     * ({@link SmuxConfig#windowTuned()}) it changes as the stream runs. For observing and tuning;
     * nothing depends on calling it.
     *
     * @return bytes; 0 in version 1 (no per-stream window), or once the stream is closed
     */
    int receiveWindow();

    /**
     * Returns how long, and with how many bytes, this stream waited, by cause: its writes for the
     * peer's window or for the connection, its received bytes for this application to read them.
     * Measured locally; nothing about it goes on the wire. The counts stay readable after the
     * stream is closed.
     *
     * @return a snapshot
     */
    StallStats stallStats();
}
