package smux.engine.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The end of a clean close, the same on every transport. When the flush is done every committed
 * byte is in the kernel's send buffer, but not yet at the peer. Closing the socket while the
 * peer's bytes still arrive (its window updates, its last frames) makes the kernel answer with a
 * reset and throw away what it has not sent yet: the tail the peer was promised. So the output is
 * shut instead (the peer reads our FIN after the last frame), and input is read and dropped until
 * the peer closes its end; the transport closes the socket then, or once {@code closeTimeout} has
 * passed (docs/PROTOCOL.md, "Closing").
 *
 * <p>The transport decides how it waits for input (a selector, a blocking read, its event loop);
 * this class shuts the output, keeps the deadline and drops what arrives. A failure while it
 * drops (the peer reset, the socket closed) ends the linger like the peer's end does.
 */
public final class CloseLinger {
    private final long deadline;

    private CloseLinger(long deadline) {
        this.deadline = deadline;
    }

    /**
     * Starts the linger after a clean flush: shuts the socket's output.
     *
     * @param socket the connection's socket
     * @param closeTimeout how long to wait for the peer's end at most
     * @return the linger, or null if the output cannot be shut (TLS cannot half-close, as its
     *     close_notify follows the data; or the socket is gone): then close at once
     */
    public static CloseLinger afterFlush(Socket socket, Duration closeTimeout) {
        try {
            socket.shutdownOutput();
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
        return new CloseLinger(System.nanoTime() + closeTimeout.toNanos());
    }

    /**
     * Starts the linger after a clean flush: shuts the channel's output.
     *
     * @param channel the connection's channel
     * @param closeTimeout how long to wait for the peer's end at most
     * @return the linger, or null if the output cannot be shut (the channel is gone): then close at once
     */
    public static CloseLinger afterFlush(SocketChannel channel, Duration closeTimeout) {
        try {
            channel.shutdownOutput();
        } catch (IOException e) {
            return null;
        }
        return new CloseLinger(System.nanoTime() + closeTimeout.toNanos());
    }

    /** @return the {@link System#nanoTime()} at which the linger ends whatever the peer does */
    public long deadline() {
        return deadline;
    }

    /** @return nanoseconds left until the deadline; zero or less once it has passed */
    public long nanosLeft() {
        return deadline - System.nanoTime();
    }

    /**
     * Reads and drops what is waiting in a non-blocking channel, at most {@code maxReads} reads.
     *
     * @param in the connection, non-blocking
     * @param scratch where the dropped bytes go
     * @param maxReads how many reads at most before the caller gets a turn
     * @return true when the linger is over (the peer's end, a failure, or the deadline): close
     *     now; false when the caller should wait for more input and call again
     */
    public boolean dropWaiting(ReadableByteChannel in, ByteBuffer scratch, int maxReads) {
        try {
            for (int i = 0; i < maxReads; i++) {
                if (nanosLeft() <= 0) {
                    return true;
                }
                scratch.clear();
                int n = in.read(scratch);
                if (n < 0) {
                    return true;
                }
                if (n == 0) {
                    return false;
                }
            }
        } catch (IOException e) {
            return true; // the peer reset, or the connection closed: the linger is over either way
        }
        return nanosLeft() <= 0;
    }

    /**
     * Reads and drops a blocking socket's input until the peer's end or the deadline; each read
     * waits at most until the deadline ({@link Socket#setSoTimeout}).
     *
     * @param socket the connection's socket
     * @param in its input stream
     * @param scratch where the dropped bytes go
     */
    public void dropUntilEnd(Socket socket, InputStream in, byte[] scratch) {
        try {
            while (true) {
                long left = nanosLeft();
                if (left <= 0) {
                    return;
                }
                socket.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(left))));
                if (in.read(scratch) < 0) {
                    return;
                }
            }
        } catch (IOException e) {
            // the deadline came (a SocketTimeoutException), the peer reset, or the socket closed
        }
    }
}
