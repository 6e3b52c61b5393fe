package smux.transport.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.mockito.Mockito.atLeastOnce;
import static org.mockito.Mockito.inOrder;

import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mockito.InOrder;
import smux.api.AbandonedBytesException;
import smux.api.Session;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;

/**
 * What a close reports when it must give up committed bytes, at the socket transport's seam with
 * a plain {@link java.net.Socket} ({@link MockSocket}) whose peer stops reading on cue: the socket
 * takes bytes up to the cue, in the middle of a data frame, and then holds the write. A blocking
 * stream write that fails says nothing of how much it handed over, so the transport writes at most
 * one data frame per write, last; the test checks that the count it reports is exactly the
 * committed bytes the peer did not get whole (the cut frame counts whole, since a peer drops an
 * incomplete frame), and that the exception, the stats and the close cause say the same number.
 */
@Timeout(30)
class SocketCloseAccountingTest {
    private static final int FRAME = 32_768;
    private static final int HEADER = 8;
    /** The SYN, three whole data frames, then 1000 bytes into the fourth: the cut. */
    private static final int CUE = HEADER + 3 * (HEADER + FRAME) + 1000;
    private static final String SESSION_CORE = "smux.engine.runtime.SmuxSession";

    private final SocketTransportProvider provider = new SocketTransportProvider();
    private Set<Thread> smuxThreadsBefore;

    @BeforeEach
    void noteThreads() {
        smuxThreadsBefore = Await.smuxThreads();
    }

    @AfterEach
    void noThreadIsLeft() {
        Await.smuxThreadsEnd(smuxThreadsBefore, Duration.ofSeconds(5));
    }

    @ParameterizedTest(name = "v{0}")
    @ValueSource(ints = {1, 2})
    void aCloseThatGivesUpReportsExactlyTheBytesThePeerDidNotGetWhole(int version) throws Exception {
        MockSocket m = new MockSocket(CUE);
        Session session = provider.open(m.socket, true, config(version, Duration.ofMillis(300)));
        long committed = writeUntilTheTimeout(session);

        AbandonedBytesException e = assertThrows(AbandonedBytesException.class, session::close);

        long delivered = wholeFramePayload(m.written());
        assertEquals(CUE, m.written().length, "the socket took bytes up to the cue: a frame was cut part-way");
        assertEquals(3L * FRAME, delivered, "the peer got three whole data frames; the fourth was cut");
        assertEquals(committed - delivered, e.abandonedBytes(),
                "abandoned = committed - what the peer got whole (the cut frame counts whole)");
        assertEquals(e.abandonedBytes(), session.stats().committedBytesAbandoned(), "the stats say the same number");
        String cause = session.closeCause().orElseThrow().getMessage();
        assertTrue(cause.contains(e.abandonedBytes() + " committed bytes will not reach the peer"), cause);
        assertTrue(e.getMessage().contains("closeTimeout = 300 ms"), e.getMessage());
        assertNull(e.getCause(), "the close gave up; the connection did not fail");
        InOrder order = inOrder(m.socket);
        order.verify(m.socket).shutdownOutput(); // the kernel keeps what it took: no reset by choice
        order.verify(m.socket, atLeastOnce()).close();

        session.close(); // reported once: a second close is silent
    }

    @ParameterizedTest(name = "v{0}")
    @ValueSource(ints = {1, 2})
    void aFlushTheConnectionFailsUnderIsReportedWithTheFailure(int version) throws Exception {
        MockSocket m = new MockSocket(CUE);
        Session session = provider.open(m.socket, true, config(version, Duration.ofSeconds(20)));
        long committed = writeUntilTheTimeout(session);

        FutureTask<Void> close = new FutureTask<>(() -> {
            session.close();
            return null;
        });
        Thread closer = new Thread(close, "app-closer");
        closer.start();
        Await.until("the close to wait for its flush", Duration.ofSeconds(5),
                () -> Await.waitingIn(closer, SESSION_CORE, "closeBounded"));
        m.releaseWriteFailure(); // the connection fails under the flush

        ExecutionException failed = assertThrows(ExecutionException.class, () -> close.get(10, TimeUnit.SECONDS));
        AbandonedBytesException e = assertInstanceOf(AbandonedBytesException.class, failed.getCause());
        assertSame(m.writeFailure, e.getCause(), "the connection's own failure is the cause");
        assertEquals(committed - wholeFramePayload(m.written()), e.abandonedBytes());
        assertEquals(e.abandonedBytes(), session.stats().committedBytesAbandoned());
    }

    @ParameterizedTest(name = "v{0}")
    @ValueSource(ints = {1, 2})
    void aCloseThatKeepsEveryByteIsSilent(int version) throws Exception {
        MockSocket m = new MockSocket(MockSocket.Output.CAPTURE);
        Session session = provider.open(m.socket, true, config(version, Duration.ofSeconds(1)));
        SmuxStream stream = session.openStream();
        stream.write(ByteBuffer.allocate(200_000));
        stream.close();
        session.close();
        assertEquals(200_000, wholeFramePayload(m.written()));
        assertEquals(0, session.stats().committedBytesAbandoned());
        assertTrue(session.closeCause().isEmpty());
    }

    private static SmuxConfig config(int version, Duration closeTimeout) {
        return SmuxConfig.builder().version(version).keepAliveDisabled().closeTimeout(closeTimeout).build();
    }

    /** Writes 1 MiB with a 300 ms timeout (the socket stops at the cue). @return the committed count */
    private static long writeUntilTheTimeout(Session session) throws Exception {
        SmuxStream stream = session.openStream();
        stream.setWriteTimeout(Duration.ofMillis(300));
        try {
            stream.write(ByteBuffer.allocate(1 << 20));
            fail("the socket stops after " + CUE + " bytes: 1 MiB cannot be written");
            return -1;
        } catch (SocketTimeoutException e) {
            assertTrue(e.bytesTransferred > 4L * FRAME, "more was committed than the socket takes: " + e.bytesTransferred);
            return e.bytesTransferred;
        }
    }

    /** Payload of the data frames a peer receives whole from {@code wire} (it drops an incomplete last frame). */
    private static long wholeFramePayload(byte[] wire) {
        ByteBuffer b = ByteBuffer.wrap(wire);
        long payload = 0;
        while (b.remaining() >= HEADER) {
            int length = (b.get(b.position() + 2) & 0xFF) | (b.get(b.position() + 3) & 0xFF) << 8;
            if (b.remaining() < HEADER + length) {
                break;
            }
            if (b.get(b.position() + 1) == 2) {
                payload += length;
            }
            b.position(b.position() + HEADER + length);
        }
        return payload;
    }
}
