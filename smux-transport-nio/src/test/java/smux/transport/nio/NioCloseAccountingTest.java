package smux.transport.nio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import smux.api.AbandonedBytesException;
import smux.api.Session;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;

/**
 * What a close reports when it must give up committed bytes, at the NIO transport's seam with
 * its {@link SocketChannel}, a Mockito mock here that accepts bytes up to a cue and then none
 * (a peer that stopped reading), so the cut falls exactly where the test puts it: in the middle
 * of a data frame. The peer's view is what the channel accepted; the peer keeps only whole frames.
 * The count the close throws must be exactly the committed bytes the peer did not get whole,
 * and the stats and close cause must say the same number.
 */
@Timeout(30)
class NioCloseAccountingTest {
    private static final int FRAME = 32_768;
    private static final int HEADER = 8;
    /** The SYN, three whole data frames, then 1000 bytes into the fourth: the cut. */
    private static final int CUE = HEADER + 3 * (HEADER + FRAME) + 1000;

    @ParameterizedTest(name = "v{0}")
    @ValueSource(ints = {1, 2})
    void aCloseThatGivesUpReportsExactlyTheBytesThePeerDidNotGetWhole(int version) throws Exception {
        Wire wire = new Wire(CUE);
        Session session = new NioTransportProvider().open(wire.channel, true, SmuxConfig.builder().version(version)
                .keepAliveDisabled().closeTimeout(Duration.ofMillis(300)).build());
        SmuxStream stream = session.openStream();
        stream.setWriteTimeout(Duration.ofMillis(300));
        long committed;
        try {
            stream.write(ByteBuffer.allocate(1 << 20));
            fail("the wire stops after " + CUE + " bytes: 1 MiB cannot be written");
            return;
        } catch (SocketTimeoutException e) {
            committed = e.bytesTransferred;
        }
        assertTrue(committed > 4L * FRAME, "more was committed than the wire takes: " + committed);

        AbandonedBytesException e = assertThrows(AbandonedBytesException.class, session::close);

        long delivered = wire.wholeFramePayload();
        assertEquals(3L * FRAME, delivered, "the peer got three whole data frames; the fourth was cut");
        assertEquals(CUE, wire.accepted(), "the wire took bytes up to the cue: a frame was cut part-way");
        assertEquals(committed - delivered, e.abandonedBytes(),
                "abandoned = committed - what the peer got whole (the cut frame counts whole)");
        assertEquals(e.abandonedBytes(), session.stats().committedBytesAbandoned(), "the stats say the same number");
        String cause = session.closeCause().orElseThrow().getMessage();
        assertTrue(cause.contains(e.abandonedBytes() + " committed bytes will not reach the peer"), cause);
        assertTrue(e.getMessage().contains("closeTimeout = 300 ms"), e.getMessage());
        assertNull(e.getCause(), "the close gave up; the connection did not fail");
        assertTrue(wire.outputShut, "a forced close shuts the output before it closes: no reset by choice");

        session.close(); // reported once; a second close is silent
    }

    @ParameterizedTest(name = "v{0}")
    @ValueSource(ints = {1, 2})
    void aFlushTheConnectionFailsUnderIsReportedWithTheFailure(int version) throws Exception {
        Wire wire = new Wire(CUE);
        Session session = new NioTransportProvider().open(wire.channel, true, SmuxConfig.builder().version(version)
                .keepAliveDisabled().closeTimeout(Duration.ofSeconds(20)).build());
        SmuxStream stream = session.openStream();
        stream.setWriteTimeout(Duration.ofMillis(300));
        long committed;
        try {
            stream.write(ByteBuffer.allocate(1 << 20));
            fail("1 MiB cannot be written");
            return;
        } catch (SocketTimeoutException e) {
            committed = e.bytesTransferred;
        }
        IOException reset = new IOException("Connection reset by peer (scripted)");
        wire.failWrites(reset); // the close's first attempt to flush meets the reset

        long start = System.nanoTime();
        AbandonedBytesException e = assertThrows(AbandonedBytesException.class, session::close);
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(10).toNanos(), "a failed flush ends the close at once");

        assertSame(reset, e.getCause(), "the connection's own failure is the cause");
        assertEquals(committed - wire.wholeFramePayload(), e.abandonedBytes());
        assertEquals(e.abandonedBytes(), session.stats().committedBytesAbandoned());
    }

    @ParameterizedTest(name = "v{0}")
    @ValueSource(ints = {1, 2})
    void aCloseThatKeepsEveryByteIsSilent(int version) throws Exception {
        Wire wire = new Wire(Integer.MAX_VALUE);
        Session session = new NioTransportProvider().open(wire.channel, true, SmuxConfig.builder().version(version)
                .keepAliveDisabled().build());
        SmuxStream stream = session.openStream();
        stream.write(ByteBuffer.allocate(200_000));
        stream.close();
        session.close();
        assertEquals(200_000, wire.wholeFramePayload());
        assertEquals(0, session.stats().committedBytesAbandoned());
        assertTrue(session.closeCause().isEmpty());
    }

    /**
     * A mocked channel: takes written bytes until {@code cue} in all, then none (writes return 0);
     * reads find nothing until the output is shut, then end-of-stream (the peer closes its end).
     */
    private static final class Wire {
        final SocketChannel channel = mock(SocketChannel.class);
        private final ByteArrayOutputStream taken = new ByteArrayOutputStream();
        private final int cue;
        private boolean closed;
        private IOException writeFailure;
        volatile boolean outputShut;

        Wire(int cue) throws IOException {
            this.cue = cue;
            when(channel.socket()).thenReturn(mock(Socket.class));
            when(channel.register(any(Selector.class), anyInt(), any())).thenReturn(mock(SelectionKey.class));
            when(channel.write(any(ByteBuffer.class))).thenAnswer(i -> write(i.getArgument(0)));
            when(channel.read(any(ByteBuffer.class))).thenAnswer(i -> outputShut || isClosed() ? -1 : 0);
            when(channel.shutdownOutput()).thenAnswer(i -> {
                outputShut = true;
                return channel;
            });
            doAnswer(i -> {
                synchronized (this) {
                    closed = true;
                }
                return null;
            }).when(channel).close();
        }

        private synchronized int write(ByteBuffer src) throws IOException {
            if (closed || outputShut) {
                throw new ClosedChannelException();
            }
            if (writeFailure != null) {
                throw writeFailure;
            }
            int n = Math.min(src.remaining(), cue - taken.size());
            byte[] b = new byte[n];
            src.get(b);
            taken.writeBytes(b);
            return n;
        }

        synchronized void failWrites(IOException e) {
            writeFailure = e;
        }

        private synchronized boolean isClosed() {
            return closed;
        }

        synchronized int accepted() {
            return taken.size();
        }

        /** Payload of the data frames the peer received whole (an incomplete last frame is dropped, as a peer does). */
        synchronized long wholeFramePayload() {
            ByteBuffer b = ByteBuffer.wrap(taken.toByteArray());
            long payload = 0;
            while (b.remaining() >= HEADER) {
                int cmd = b.get(b.position() + 1);
                int length = (b.get(b.position() + 2) & 0xFF) | (b.get(b.position() + 3) & 0xFF) << 8;
                if (b.remaining() < HEADER + length) {
                    break;
                }
                if (cmd == 2) {
                    payload += length;
                }
                b.position(b.position() + HEADER + length);
            }
            return payload;
        }
    }
}
