package smux.transport.socket;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import smux.api.SmuxConfig;
import smux.engine.FrameCodec;
import smux.engine.runtime.CloseLinger;
import smux.engine.runtime.ForcedClose;
import smux.engine.runtime.SessionLink;

/**
 * The socket transport over a plain {@link Socket} (an {@link javax.net.ssl.SSLSocket} too),
 * through its blocking streams. Only the writer thread writes; reads wake at the next timer
 * deadline through the socket's read timeout.
 */
final class StreamConnection extends SocketConnection {
    private static final int READ_BUFFER = 256 * 1024;
    /**
     * While a timer is armed, a read waits at most this long: a deadline that came nearer
     * meanwhile (the reader cannot shorten a read it is in) runs at most this late.
     */
    private static final int MAX_READ_WAIT_MILLIS = 1000;

    private final InputStream in;
    private final OutputStream out;

    StreamConnection(Socket socket, SessionLink link, SmuxConfig config) throws IOException {
        super(socket, link, config, ByteBuffer.allocate(config.stagingBufferSize()), ByteBuffer.allocate(READ_BUFFER));
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    /**
     * Writes at most one data frame per stream write, as its last frame, advancing the position
     * after each write. A blocking stream write that fails tells nothing of how much it handed
     * over; shaped this way, it can only have cut its own data frame, which the peer then
     * discards whole. So the position counts exactly the frames delivered, and a close that gives
     * up reports exactly what it dropped (docs/PROTOCOL.md, "Closing").
     */
    @Override
    void write(ByteBuffer src) throws IOException {
        while (src.hasRemaining()) {
            int start = src.position();
            int end = FrameCodec.endOfNextDataFrame(src, start);
            out.write(src.array(), src.arrayOffset() + start, end - start);
            src.position(end);
            written += end - start;
        }
    }

    @Override
    int read(ByteBuffer into) throws IOException {
        while (true) {
            long wait = link.nanosUntilDeadline();
            socket.setSoTimeout(wait < 0 ? 0
                    : (int) Math.max(1, Math.min(MAX_READ_WAIT_MILLIS, TimeUnit.NANOSECONDS.toMillis(wait) + 1)));
            try {
                int n = in.read(into.array(), into.arrayOffset(), into.capacity());
                into.position(0).limit(Math.max(n, 0));
                return n;
            } catch (SocketTimeoutException e) {
                link.runTimers();
                if (stopping) {
                    return STOP;
                }
            }
        }
    }

    @Override
    void dropInput(CloseLinger linger) {
        linger.dropUntilEnd(socket, in, input.array());
    }

    /** Shuts the output only: the reader thread may be blocked in a read that holds the input stream. */
    @Override
    void shutOutputForForcedClose() {
        ForcedClose.shutOutput(socket);
    }
}
