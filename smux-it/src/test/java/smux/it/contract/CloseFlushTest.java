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
import smux.api.AbandonedBytesException;
import smux.api.Session;
import smux.api.SessionStats;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;
import smux.it.OwnThreads;

/**
 * What a local close does with committed bytes (issues 14 and 18): a write times out part-way,
 * then the stream and the session are closed at once. Against a peer that reads slowly but
 * steadily, every committed byte arrives, however long the flush takes beyond
 * {@code closeTimeout}, and the close is silent; against a peer that does not read, close returns
 * within about its timeout and throws {@link AbandonedBytesException} with exactly the committed
 * bytes the peer will not get: what the peer reads afterwards in whole frames (the bytes the OS
 * had taken; the frame a write cut is dropped, as a peer does) plus that count is the committed
 * count, and the stats say the same number.
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
            assertEquals(null, h.abandoned, "a close that sent everything is silent");
            long got = h.peerDone().get(40, TimeUnit.SECONDS);
            assertEquals(committed, got, "payload bytes the peer read vs bytes the write committed");
            assertEquals(0, h.session.stats().committedBytesAbandoned());
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
            assertTrue(h.abandoned != null, "the peer read nothing, so the close gave up committed bytes (committed "
                    + committed + ") and said so");
            long abandoned = h.abandoned.abandonedBytes();
            SessionStats stats = h.session.stats();
            assertEquals(abandoned, stats.committedBytesAbandoned(), "the exception and the stats say the same number");
            String cause = h.session.closeCause().map(Throwable::getMessage).orElse("");
            assertTrue(cause.contains(abandoned + " committed bytes will not reach the peer"), cause);

            long got = h.peer.readAllAfterClose();
            assertEquals(committed, got + abandoned, "read afterwards in whole frames (" + got + ") + reported abandoned ("
                    + abandoned + ") vs committed");
        }
    }

    /** A client session on a small-buffered connection to a raw peer. */
    private static final class Harness implements AutoCloseable {
        final ServerSocketChannel listener;
        final Session session;
        final Peer peer;
        final int version;
        long closeMillis;
        /** What the close threw, or null if it kept every byte. */
        AbandonedBytesException abandoned;
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
            try {
                session.close();
            } catch (AbandonedBytesException e) {
                abandoned = e;
            }
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

    /** Reads frames and counts the payload of whole PSH frames: a frame cut off at the end is dropped, as a peer does. */
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
                        return; // the frame was cut: none of it counts
                    }
                    left -= n;
                    if (pauseNanos > 0) {
                        LockSupport.parkNanos(pauseNanos);
                    }
                }
                if (data) {
                    payload += length;
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
