package smux.transport.socket;

import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A Mockito mock of {@link Socket} (one without a channel) that behaves like a connected socket
 * at the seam {@link StreamConnection} uses: {@code getInputStream}, {@code getOutputStream},
 * {@code setSoTimeout}/{@code getSoTimeout} (reads really time out, so the session's timers run),
 * {@code close} (releases every blocked read and write with "Socket closed", as a real socket
 * does), {@code shutdownOutput} (the peer answers with end-of-stream, as smux peers do when they
 * read ours), the two addresses and {@code setTcpNoDelay}.
 *
 * <p>What the peer sends is scripted with {@link #feed} and {@link #feedEof}; what the session
 * writes goes to the {@link Output} chosen at construction.
 */
final class MockSocket {
    static final InetSocketAddress LOCAL = new InetSocketAddress(InetAddress.getLoopbackAddress(), 40001);
    static final InetSocketAddress REMOTE = new InetSocketAddress(InetAddress.getLoopbackAddress(), 40002);

    /** How the mocked output stream behaves. */
    enum Output {
        /** Keeps every byte written ({@link #written()}). */
        CAPTURE,
        /** Blocks every write until the socket is closed, then fails as a closed socket does. */
        BLOCK_UNTIL_CLOSED,
        /** The first write waits for {@link #releaseWriteFailure()}, then every write throws {@link #writeFailure}. */
        FAIL,
        /**
         * A peer that stops reading on cue: keeps bytes until {@code cue} bytes in all (so a write
         * may be taken in part), then holds the write until the socket closes (it fails as a closed
         * socket does) or {@link #releaseWriteFailure()} (it throws {@link #writeFailure}).
         */
        ACCEPT_UNTIL_CUE
    }

    final IOException writeFailure = new IOException("Broken pipe (scripted)");
    final Socket socket = mock(Socket.class);

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Output output;
    private final int cue;
    private final ByteArrayOutputStream incoming = new ByteArrayOutputStream();
    private final ByteArrayOutputStream written = new ByteArrayOutputStream();
    private int readPosition;
    private boolean eof;
    private IOException readFailure;
    private boolean closed;
    private boolean failureReleased;
    private int writesEntered;
    private int closeCalls;
    private int soTimeout;

    MockSocket(Output output) throws IOException {
        this(output, Integer.MAX_VALUE);
    }

    /** A socket whose output is {@link Output#ACCEPT_UNTIL_CUE} with {@code cue} bytes. */
    MockSocket(int cue) throws IOException {
        this(Output.ACCEPT_UNTIL_CUE, cue);
    }

    private MockSocket(Output output, int cue) throws IOException {
        this.output = output;
        this.cue = cue;
        InputStream in = new In();
        OutputStream out = new Out();
        when(socket.getInputStream()).thenReturn(in);
        when(socket.getOutputStream()).thenReturn(out);
        when(socket.getLocalSocketAddress()).thenReturn(LOCAL);
        when(socket.getRemoteSocketAddress()).thenReturn(REMOTE);
        when(socket.isConnected()).thenReturn(true);
        when(socket.isClosed()).thenAnswer(i -> locked(() -> closed));
        when(socket.getSoTimeout()).thenAnswer(i -> locked(() -> soTimeout));
        doAnswer(i -> {
            int t = i.getArgument(0);
            if (t < 0) {
                throw new IllegalArgumentException("timeout can't be negative");
            }
            return locked(() -> soTimeout = t);
        }).when(socket).setSoTimeout(anyInt());
        doAnswer(i -> {
            feedEof(); // the peer reads our end and closes its own, as smux peers do
            return null;
        }).when(socket).shutdownOutput();
        doAnswer(i -> locked(() -> {
            closeCalls++;
            closed = true;
            changed.signalAll();
            return null;
        })).when(socket).close();
    }

    // ------------------------------------------------------------------ the peer's side

    /** Queues bytes for the session to read. */
    void feed(byte[] bytes) {
        locked(() -> {
            incoming.writeBytes(bytes);
            changed.signalAll();
            return null;
        });
    }

    /** After what was fed, reads return end-of-stream. */
    void feedEof() {
        locked(() -> {
            eof = true;
            changed.signalAll();
            return null;
        });
    }

    /** After what was fed, reads throw {@code failure}. */
    void feedReadFailure(IOException failure) {
        locked(() -> {
            readFailure = failure;
            changed.signalAll();
            return null;
        });
    }

    /** For {@link Output#FAIL}: lets the first write fail. */
    void releaseWriteFailure() {
        locked(() -> {
            failureReleased = true;
            changed.signalAll();
            return null;
        });
    }

    /** @return a copy of every byte the session wrote ({@link Output#CAPTURE}, {@link Output#ACCEPT_UNTIL_CUE}) */
    byte[] written() {
        return locked(written::toByteArray);
    }

    /** @return how many writes have begun (including one blocked now) */
    int writesEntered() {
        return locked(() -> writesEntered);
    }

    /** @return how many times {@code close()} was called on the mock */
    int closeCalls() {
        return locked(() -> closeCalls);
    }

    boolean isClosed() {
        return locked(() -> closed);
    }

    // ------------------------------------------------------------------ streams

    private final class In extends InputStream {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            lock.lock();
            try {
                int timeout = soTimeout;
                long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeout);
                while (true) {
                    if (closed) {
                        throw new SocketException("Socket closed");
                    }
                    int available = incoming.size() - readPosition;
                    if (available > 0) {
                        int n = Math.min(len, available);
                        System.arraycopy(incoming.toByteArray(), readPosition, b, off, n);
                        readPosition += n;
                        return n;
                    }
                    if (readFailure != null) {
                        throw readFailure;
                    }
                    if (eof) {
                        return -1;
                    }
                    if (timeout == 0) {
                        changed.awaitUninterruptibly();
                    } else {
                        long left = deadline - System.nanoTime();
                        if (left <= 0) {
                            throw new SocketTimeoutException("Read timed out");
                        }
                        awaitNanos(left);
                    }
                }
            } finally {
                lock.unlock();
            }
        }
    }

    private final class Out extends OutputStream {
        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            lock.lock();
            try {
                writesEntered++;
                changed.signalAll();
                switch (output) {
                    case CAPTURE -> {
                        if (closed) {
                            throw new SocketException("Socket closed");
                        }
                        written.write(b, off, len);
                    }
                    case BLOCK_UNTIL_CLOSED -> {
                        while (!closed) {
                            changed.awaitUninterruptibly();
                        }
                        throw new SocketException("Socket closed");
                    }
                    case FAIL -> {
                        while (!failureReleased && !closed) {
                            changed.awaitUninterruptibly();
                        }
                        if (closed) {
                            throw new SocketException("Socket closed");
                        }
                        throw writeFailure;
                    }
                    case ACCEPT_UNTIL_CUE -> {
                        if (closed) {
                            throw new SocketException("Socket closed");
                        }
                        int n = Math.min(len, cue - written.size());
                        written.write(b, off, n);
                        if (n == len) {
                            return;
                        }
                        while (!failureReleased && !closed) {
                            changed.awaitUninterruptibly();
                        }
                        if (closed) {
                            throw new SocketException("Socket closed");
                        }
                        throw writeFailure;
                    }
                    default -> throw new AssertionError(output);
                }
            } finally {
                lock.unlock();
            }
        }
    }

    private void awaitNanos(long nanos) {
        try {
            changed.awaitNanos(nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private interface Body<T> {
        T run() throws IOException;
    }

    private <T> T locked(Body<T> body) {
        lock.lock();
        try {
            return body.run();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } finally {
            lock.unlock();
        }
    }
}
