package smux.it.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import smux.api.Session;
import smux.api.SessionStats;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;
import smux.it.OwnThreads;

/**
 * What a local close does with committed bytes (issue 14): a write times out part-way, then the
 * stream and the session are closed at once. Against a peer that reads slowly but steadily, every
 * committed byte arrives, however long the flush takes beyond {@code closeTimeout}; against a peer
 * that does not read, close returns within about its timeout and reports exactly how many
 * committed bytes it could not send: what the peer reads afterwards (the bytes the OS had taken)
 * plus that count is the committed count.
 *
 * <p>The peer is a raw socket that counts stream payload frame by frame; socket buffers are small,
 * so that the committed bytes do not all vanish into the kernel.
 */
class CloseFlushTest {
    private static final Duration CLOSE_TIMEOUT = Duration.ofMillis(300);
    private static final int SMALL_BUFFER = 16 * 1024;

    @ParameterizedTest(name = "{0} v{1}")
    @CsvSource({"socket, 1", "socket, 2", "nio, 1", "nio, 2"})
    @Timeout(60)
    void aPeerThatReadsSlowlyGetsEveryCommittedByte(String transport, int version) throws Exception {
        try (Harness h = new Harness(transport, version)) {
            long committed = h.writeUntilTimeoutThenClose(() -> h.peer.readSlowly());
            long got = h.peerDone().get(40, TimeUnit.SECONDS);
            assertEquals(committed, got, "payload bytes the peer read vs bytes the write committed");
            assertEquals(0, h.session.stats().committedBytesUnsent());
            assertTrue(h.session.closeCause().isEmpty(), "a close that sent everything is clean");
            assertTrue(h.closeMillis > CLOSE_TIMEOUT.toMillis(),
                    "the flush outlasted closeTimeout, as it must for this test to mean anything: " + h.closeMillis + " ms");
        }
    }

    @ParameterizedTest(name = "{0} v{1}")
    @CsvSource({"socket, 1", "socket, 2", "nio, 1", "nio, 2"})
    @Timeout(60)
    void aPeerThatNeverReadsCostsTheTimeoutAndTheDroppedBytesAreCountedExactly(String transport, int version)
            throws Exception {
        try (Harness h = new Harness(transport, version)) {
            long committed = h.writeUntilTimeoutThenClose(null);
            assertTrue(h.closeMillis < CLOSE_TIMEOUT.toMillis() + 2_000, "close took " + h.closeMillis + " ms");
            SessionStats stats = h.session.stats();
            long unsent = stats.committedBytesUnsent();
            assertTrue(unsent > 0, "the peer read nothing, so something committed was given up (committed "
                    + committed + ")");
            String cause = h.session.closeCause().map(Throwable::getMessage).orElse("");
            assertTrue(cause.contains(unsent + " committed bytes could not be sent"), cause);

            long got = h.peer.readAllAfterClose();
            assertEquals(committed, got + unsent, "read afterwards (" + got + ") + reported unsent (" + unsent
                    + ") vs committed");
        }
    }

    /** A client session on a small-buffered connection to a raw peer. */
    private static final class Harness implements AutoCloseable {
        final ServerSocketChannel listener;
        final Session session;
        final Peer peer;
        final int version;
        long closeMillis;
        private CompletableFuture<Long> reading;

        Harness(String transport, int version) throws IOException {
            this.version = version;
            listener = ServerSocketChannel.open();
            listener.setOption(StandardSocketOptions.SO_RCVBUF, SMALL_BUFFER);
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            SocketChannel ours = SocketChannel.open();
            ours.setOption(StandardSocketOptions.SO_SNDBUF, SMALL_BUFFER);
            ours.connect(listener.getLocalAddress());
            peer = new Peer(listener.accept(), version);
            session = Smux.client(ours, SmuxConfig.builder().version(version).transport(transport)
                    .closeTimeout(CLOSE_TIMEOUT).keepAliveDisabled().build());
        }

        /** Writes 64 MiB with a 300 ms timeout (it times out part-way), then closes stream and session. */
        long writeUntilTimeoutThenClose(Runnable peerStarts) throws IOException {
            SmuxStream stream = session.openStream();
            stream.setWriteTimeout(Duration.ofMillis(300));
            long committed;
            try {
                stream.write(ByteBuffer.allocate(64 << 20));
                fail("64 MiB cannot fit in a 16 KiB socket buffer within 300 ms");
                return -1;
            } catch (SocketTimeoutException e) {
                committed = e.bytesTransferred;
            }
            assertTrue(committed > 0, "something was committed before the timeout");
            if (peerStarts != null) {
                reading = OwnThreads.supply(() -> {
                    peerStarts.run();
                    return peer.payload;
                });
            }
            long start = System.nanoTime();
            stream.close();
            session.close();
            closeMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertFalse(stream.isOpen());
            return committed;
        }

        CompletableFuture<Long> peerDone() {
            return reading;
        }

        @Override
        public void close() throws IOException {
            session.close();
            peer.socket.close();
            listener.close();
        }
    }

    /** Reads frames and counts PSH payload, including that of a frame cut off at the end. */
    private static final class Peer {
        final SocketChannel socket;
        final InputStream in;
        final int version;
        long payload;

        Peer(SocketChannel socket, int version) throws IOException {
            this.socket = socket;
            this.in = socket.socket().getInputStream();
            this.version = version;
        }

        /** About 400 KB/s in 4 KiB reads until the connection ends. */
        void readSlowly() {
            try {
                readFrames(4096, 10_000_000);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        long readAllAfterClose() throws IOException {
            readFrames(64 * 1024, 0);
            return payload;
        }

        private void readFrames(int chunk, long pauseNanos) throws IOException {
            byte[] header = new byte[8];
            byte[] buf = new byte[chunk];
            while (true) {
                int h = readFully(header, 8);
                if (h < 8) {
                    return;
                }
                assertEquals(version, header[0], "frame version");
                int length = (header[2] & 0xFF) | (header[3] & 0xFF) << 8;
                boolean data = header[1] == 2;
                int left = length;
                while (left > 0) {
                    int n = in.read(buf, 0, Math.min(left, buf.length));
                    if (n < 0) {
                        return;
                    }
                    if (data) {
                        payload += n;
                    }
                    left -= n;
                    if (pauseNanos > 0) {
                        LockSupport.parkNanos(pauseNanos);
                    }
                }
            }
        }

        private int readFully(byte[] b, int len) throws IOException {
            int got = 0;
            while (got < len) {
                int n = in.read(b, got, len - got);
                if (n < 0) {
                    return got;
                }
                got += n;
            }
            return got;
        }
    }
}
