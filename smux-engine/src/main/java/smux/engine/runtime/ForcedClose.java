package smux.engine.runtime;

import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * How a transport ends a connection whose flush the session gave up ({@link Transport#forceClose}),
 * without a reset. The kernel still holds bytes it accepted earlier: whole frames the session
 * counts as delivered. Closing a socket with unread input makes the kernel reset the connection
 * and discard them. So the output is shut first (the kernel sends what it holds, then TCP FIN),
 * and the input that is waiting is read and dropped; then the caller closes the socket. Input
 * that arrives after the close still makes the kernel reset, which no process can prevent
 * (docs/PROTOCOL.md, "Closing").
 */
public final class ForcedClose {
    /** At most this much waiting input is dropped: a peer that floods must not hold the close. */
    private static final int MAX_DROPPED = 4 << 20;

    private ForcedClose() {
    }

    /**
     * Shuts the output of a non-blocking channel and drops the input waiting in it. Never throws:
     * a channel that is already closed or reset has nothing left to keep.
     *
     * @param channel a channel in non-blocking mode
     */
    public static void shutOutputAndDropInput(SocketChannel channel) {
        try {
            channel.shutdownOutput();
        } catch (IOException e) {
            // closed or reset already, or the output was shut before: nothing to keep
        }
        ByteBuffer sink = ByteBuffer.allocate(64 * 1024);
        try {
            for (int dropped = 0; dropped < MAX_DROPPED; ) {
                sink.clear();
                int n = channel.read(sink);
                if (n <= 0) {
                    return;
                }
                dropped += n;
            }
        } catch (IOException e) {
            // the peer reset or the channel closed: nothing waits any more
        }
    }

    /**
     * Shuts the output of a plain socket. Its input is not drained: its reader thread may be
     * blocked in a read that holds the stream.
     *
     * @param socket the socket
     */
    public static void shutOutput(Socket socket) {
        try {
            socket.shutdownOutput();
        } catch (IOException | UnsupportedOperationException e) {
            // closed already, or TLS, which cannot half-close: the close that follows is all there is
        }
    }
}
