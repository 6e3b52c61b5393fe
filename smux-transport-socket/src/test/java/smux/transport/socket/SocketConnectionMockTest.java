package smux.transport.socket;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.verify;
import static smux.transport.socket.Frames.FIN;
import static smux.transport.socket.Frames.NOP;
import static smux.transport.socket.Frames.PSH;
import static smux.transport.socket.Frames.SYN;
import static smux.transport.socket.Frames.UPD;
import static smux.transport.socket.Frames.VRM;
import static smux.transport.socket.Frames.concat;
import static smux.transport.socket.Frames.frame;
import static smux.transport.socket.Frames.twoInts;

import java.io.IOException;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import smux.api.Session;
import smux.api.SessionClosedException;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;
import smux.engine.VerifyCode;
import smux.transport.socket.MockSocket.Output;

/**
 * The socket transport at its seam with {@link java.net.Socket}, which is a Mockito mock here
 * ({@link MockSocket}): what the session does when the connection's output fails, gets stuck, or
 * its input ends, and what it puts on the wire. Opened with
 * {@link SocketTransportProvider#open(java.net.Socket, boolean, SmuxConfig)} directly.
 */
@Timeout(30)
class SocketConnectionMockTest {
    private static final String STREAM_HANDLE = "smux.engine.runtime.StreamHandle";
    private static final String SESSION_CORE = "smux.engine.runtime.SmuxSession";
    private static final Duration PROMPTLY = Duration.ofSeconds(3);
    private static final SmuxConfig QUIET = SmuxConfig.builder().keepAliveDisabled().build();

    private final SocketTransportProvider provider = new SocketTransportProvider();
    private final List<Session> sessions = new CopyOnWriteArrayList<>();
    private final Map<FutureTask<?>, Thread> appThreads = new ConcurrentHashMap<>();
    private Set<Thread> smuxThreadsBefore;

    @BeforeEach
    void noteThreads() {
        smuxThreadsBefore = Await.smuxThreads();
    }

    @AfterEach
    void closeSessions() throws Exception {
        for (Session s : sessions) {
            s.close(); // a loss a test did not expect fails it here
        }
        for (Thread t : appThreads.values()) {
            t.join(TimeUnit.SECONDS.toMillis(5));
        }
        Await.smuxThreadsEnd(smuxThreadsBefore, Duration.ofSeconds(5));
    }

    // ------------------------------------------------------------------ output fails

    @Test
    void failingWriteClosesTheSessionAndFailsTheBlockedStreamWrite() throws Exception {
        MockSocket m = new MockSocket(Output.FAIL);
        Session session = open(m, true, SmuxConfig.defaults());
        SmuxStream stream = session.openStream();
        // more than the peer's initial window: the write cannot finish, it waits for the connection
        FutureTask<Integer> write = start("app-writer", () -> stream.write(ByteBuffer.wrap(new byte[1 << 20])));
        Await.until("the writer thread to be in a socket write and the stream write to wait", PROMPTLY,
                () -> m.writesEntered() >= 1 && Await.waitingIn(thread(write), STREAM_HANDLE, "write"));

        m.releaseWriteFailure();

        Await.until("the session to close after the write failure", PROMPTLY, session::isClosed);
        SessionClosedException cause = session.closeCause().orElseThrow();
        assertTrue(cause.getMessage().contains("the connection failed"), cause.getMessage());
        assertTrue(cause.getMessage().contains("Broken pipe"), "the socket's own words are kept: " + cause.getMessage());
        assertSame(m.writeFailure, cause.getCause());

        ExecutionException e = assertThrows(ExecutionException.class, () -> write.get(5, TimeUnit.SECONDS));
        assertInstanceOf(SessionClosedException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("the connection failed"), e.getCause().getMessage());

        assertTrue(m.closeCalls() >= 1, "the socket was closed");
        Await.smuxThreadsEnd(smuxThreadsBefore, PROMPTLY);
        assertThrows(SessionClosedException.class, session::openStream);
    }

    @Test
    void localCloseAfterAFailureKeepsTheFailureAsTheCause() throws Exception {
        MockSocket m = new MockSocket(Output.FAIL);
        Session session = open(m, true, SmuxConfig.defaults());
        session.openStream(); // its SYN makes the writer write
        Await.until("a socket write", PROMPTLY, () -> m.writesEntered() >= 1);
        m.releaseWriteFailure();
        Await.until("the session to close", PROMPTLY, session::isClosed);

        long start = System.nanoTime();
        session.close();
        session.close();

        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(1), "closing a failed session does not wait");
        assertSame(m.writeFailure, session.closeCause().orElseThrow().getCause());
    }

    // ------------------------------------------------------------------ output stuck

    @Test
    void closeReturnsWithinCloseTimeoutWhenTheSocketWriteIsStuck() throws Exception {
        SmuxConfig config = SmuxConfig.builder().closeTimeout(Duration.ofMillis(300)).build();
        MockSocket m = new MockSocket(Output.BLOCK_UNTIL_CLOSED);
        Session session = open(m, true, config);
        SmuxStream stream = session.openStream();
        // The SYN's write sticks before any data is posted, so nothing is ever committed: the
        // close gives up no data (data pulled with the SYN would be reported as abandoned).
        Await.until("the writer thread to be stuck writing the SYN", PROMPTLY, () -> m.writesEntered() >= 1);
        FutureTask<Integer> write = start("app-writer", () -> stream.write(ByteBuffer.wrap(new byte[1 << 20])));
        Await.until("the stream write to wait", PROMPTLY, () -> Await.waitingIn(thread(write), STREAM_HANDLE, "write"));

        long start = System.nanoTime();
        session.close();
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertTrue(tookMillis < 300 + 1000, "close took " + tookMillis + " ms; closeTimeout is 300 ms");
        assertTrue(tookMillis >= 250, "close first tried to flush for closeTimeout, took only " + tookMillis + " ms");
        assertTrue(session.isClosed());
        // Only the SYN was pulled before the socket stuck: the close gave up no committed byte.
        assertEquals(0, session.stats().committedBytesAbandoned());
        assertTrue(session.closeCause().isEmpty(), () -> "a local close that gave up nothing: " + session.closeCause());
        assertTrue(m.isClosed(), "the stuck socket was closed");

        ExecutionException e = assertThrows(ExecutionException.class, () -> write.get(5, TimeUnit.SECONDS));
        assertInstanceOf(SessionClosedException.class, e.getCause());

        Await.smuxThreadsEnd(smuxThreadsBefore, Duration.ofSeconds(2));
    }

    @Test
    void keepAliveTimeoutIsDetectedWhileTheWriterIsStuck() throws Exception {
        // the reader's socket timeouts run the timers: a stuck writer does not hide a dead peer
        SmuxConfig config = SmuxConfig.builder().keepAlive(Duration.ofMillis(50), Duration.ofMillis(400)).build();
        MockSocket m = new MockSocket(Output.BLOCK_UNTIL_CLOSED);
        Session session = open(m, true, config);

        Await.until("the session to notice the silent peer", Duration.ofSeconds(5), session::isClosed);

        assertTrue(m.writesEntered() >= 1, "a keepalive was being written when the session gave up");
        String why = session.closeCause().orElseThrow().getMessage();
        assertTrue(why.contains("keepalive timeout"), why);
        assertTrue(m.isClosed());
        Await.smuxThreadsEnd(smuxThreadsBefore, PROMPTLY);
    }

    // ------------------------------------------------------------------ input ends or fails

    @Test
    void endOfInputClosesTheSessionAsPeerClosedAndFailsABlockedAccept() throws Exception {
        MockSocket m = new MockSocket(Output.CAPTURE);
        Session session = open(m, true, QUIET);
        FutureTask<SmuxStream> accept = start("app-acceptor", session::acceptStream);
        Await.until("acceptStream to wait", PROMPTLY, () -> Await.waitingIn(thread(accept), SESSION_CORE, "accept"));

        m.feedEof();

        Await.until("the session to close at end of input", PROMPTLY, session::isClosed);
        String why = session.closeCause().orElseThrow().getMessage();
        assertTrue(why.contains("the peer closed the connection"), why);
        ExecutionException e = assertThrows(ExecutionException.class, () -> accept.get(5, TimeUnit.SECONDS));
        assertInstanceOf(SessionClosedException.class, e.getCause());
        assertTrue(m.isClosed());
        Await.smuxThreadsEnd(smuxThreadsBefore, PROMPTLY);
    }

    @Test
    void endOfInputFailsABlockedStreamReadInsteadOfEndingTheStream() throws Exception {
        MockSocket m = new MockSocket(Output.CAPTURE);
        Session session = open(m, true, QUIET);
        SmuxStream stream = session.openStream();
        FutureTask<Integer> read = start("app-reader", () -> stream.read(ByteBuffer.allocate(100)));
        Await.until("the stream read to wait", PROMPTLY, () -> Await.waitingIn(thread(read), STREAM_HANDLE, "read"));

        m.feedEof();

        // the peer never sent FIN: end-of-stream would silently truncate
        ExecutionException e = assertThrows(ExecutionException.class, () -> read.get(5, TimeUnit.SECONDS));
        assertInstanceOf(SessionClosedException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("the peer closed the connection"), e.getCause().getMessage());
    }

    @Test
    void endOfInputInTheMiddleOfAFrameSaysSo() throws Exception {
        MockSocket m = new MockSocket(Output.CAPTURE);
        Session session = open(m, true, QUIET);

        m.feed(new byte[] {2, (byte) PSH, 10}); // three bytes of a header
        m.feedEof();

        Await.until("the session to close", PROMPTLY, session::isClosed);
        smux.api.SessionClosedException cause = session.closeCause().orElseThrow();
        assertTrue(cause.getMessage().contains("in the middle of a frame"), cause.getMessage());
        smux.api.ProtocolException pe = assertInstanceOf(smux.api.ProtocolException.class, cause.getCause());
        assertEquals(smux.api.ProtocolException.Violation.TRUNCATED_FRAME, pe.violation());
    }

    @Test
    void failingReadClosesTheSessionWithTheSocketError() throws Exception {
        MockSocket m = new MockSocket(Output.CAPTURE);
        Session session = open(m, false, QUIET);
        SocketException reset = new SocketException("Connection reset");

        m.feedReadFailure(reset);

        Await.until("the session to close", PROMPTLY, session::isClosed);
        SessionClosedException cause = session.closeCause().orElseThrow();
        assertTrue(cause.getMessage().contains("the connection failed: Connection reset"), cause.getMessage());
        assertSame(reset, cause.getCause());
        assertTrue(m.isClosed());
    }

    // ------------------------------------------------------------------ what crosses the seam

    @Test
    void streamFramesReachTheSocketInWireFormat() throws Exception {
        MockSocket m = new MockSocket(Output.CAPTURE);
        Session session = open(m, true, QUIET);
        SmuxStream stream = session.openStream();
        stream.outputStream().write("hello".getBytes(US_ASCII));
        stream.closeWrite();

        byte[] expected = concat(
                frame(2, SYN, 3),                               // the client's first stream is 3, as xtaci
                frame(2, PSH, 3, "hello".getBytes(US_ASCII)),
                frame(2, FIN, 3));
        Await.until(PROMPTLY, () -> m.written().length >= expected.length, () -> m.written().length + " bytes written");
        assertArrayEquals(expected, m.written());
    }

    @Test
    void peerFramesReachTheApplicationAndTheReadIsAcknowledged() throws Exception {
        MockSocket m = new MockSocket(Output.CAPTURE);
        Session session = open(m, true, QUIET);

        m.feed(concat(frame(2, SYN, 2), frame(2, PSH, 2, "hi".getBytes(US_ASCII))));

        SmuxStream stream = session.acceptStream(Duration.ofSeconds(5));
        assertEquals(2, stream.id());
        byte[] got = new byte[2];
        assertEquals(2, stream.inputStream().read(got));
        assertArrayEquals("hi".getBytes(US_ASCII), got);
        // version 2: the first read sends UPD{consumed, window}
        byte[] upd = frame(2, UPD, 2, twoInts(2, QUIET.initialStreamWindow())); // a tuned window starts here
        Await.until("UPD{2, window} on the wire", PROMPTLY, () -> Frames.contains(m.written(), upd));
    }

    @Test
    void keepAliveSendsNop() throws Exception {
        MockSocket m = new MockSocket(Output.CAPTURE);
        open(m, false, SmuxConfig.builder().keepAlive(Duration.ofMillis(50), Duration.ofSeconds(20)).build());

        Await.until("a NOP on the wire", PROMPTLY, () -> Frames.contains(m.written(), frame(2, NOP, 0)));
    }

    @Test
    void startSetsUpTheSocketAndReportsItsAddresses() throws Exception {
        MockSocket m = new MockSocket(Output.CAPTURE);
        Session session = open(m, true, QUIET);

        verify(m.socket).setTcpNoDelay(true);
        assertEquals(MockSocket.LOCAL, session.localAddress().orElseThrow());
        assertEquals(MockSocket.REMOTE, session.remoteAddress().orElseThrow());
        assertEquals("socket", session.transport());
        assertTrue(session.isClient());
        assertSame(QUIET, session.config());

        session.close();
        assertTrue(m.isClosed(), "the session owns the socket and closes it");
        verify(m.socket).close();
    }

    @Test
    void failingStartClosesTheSocketAndStartsNoThread() throws Exception {
        MockSocket noOutput = new MockSocket(Output.CAPTURE);
        IOException shutDown = new SocketException("Socket output is shutdown");
        doThrow(shutDown).when(noOutput.socket).getOutputStream();
        assertSame(shutDown, assertThrows(IOException.class, () -> provider.open(noOutput.socket, true, QUIET)));
        assertEquals(1, noOutput.closeCalls());

        MockSocket noDelay = new MockSocket(Output.CAPTURE);
        SocketException refused = new SocketException("Invalid argument");
        doThrow(refused).when(noDelay.socket).setTcpNoDelay(true);
        assertSame(refused, assertThrows(IOException.class, () -> provider.open(noDelay.socket, false, QUIET)));
        assertEquals(1, noDelay.closeCalls());

        Set<Thread> started = Await.smuxThreads();
        started.removeAll(smuxThreadsBefore);
        assertTrue(started.isEmpty(), "no session thread was started: " + started);
    }

    @Test
    void threadsComeFromTheConfiguredFactoryAndAreNamed() throws Exception {
        List<Thread> made = new CopyOnWriteArrayList<>();
        SmuxConfig config = QUIET.toBuilder().threadFactory(r -> {
            Thread t = new Thread(r);
            t.setDaemon(true);
            made.add(t);
            return t;
        }).build();
        MockSocket m = new MockSocket(Output.CAPTURE);
        Session session = open(m, true, config);

        assertEquals(2, made.size(), "a reader and a writer");
        assertTrue(made.stream().anyMatch(t -> t.getName().startsWith("smux-socket-reader-")), made::toString);
        assertTrue(made.stream().anyMatch(t -> t.getName().startsWith("smux-socket-writer-")), made::toString);

        session.close();
        for (Thread t : made) {
            t.join(TimeUnit.SECONDS.toMillis(5));
            assertFalse(t.isAlive(), t.getName() + " ended");
        }
    }

    // ------------------------------------------------------------------ probePeer over the seam

    @Test
    void probePeerWaitsForTheRightAnswer() throws Exception {
        SmuxConfig config = QUIET.toBuilder().probePeer(true).probeTimeout(Duration.ofSeconds(5)).build();
        MockSocket m = new MockSocket(Output.CAPTURE);
        FutureTask<Session> open = start("app-opener", () -> open(m, true, config));
        Await.until("the probe frame", PROMPTLY, () -> m.written().length >= 16);
        byte[] probe = m.written();
        assertArrayEquals(new byte[] {2, (byte) VRM, 8, 0, 0, 0, 0, 0}, Arrays.copyOf(probe, 8));

        int v1 = Frames.u32le(probe, 8);
        int v2 = Frames.u32le(probe, 12);
        m.feed(frame(2, VRM, 0, twoInts(VerifyCode.answer1(v1), VerifyCode.answer2(v2))));

        Session session = open.get(5, TimeUnit.SECONDS);
        assertTrue(session.isPeerVerified());
        assertFalse(session.isClosed());
    }

    @Test
    void probePeerFailsTheOpenWhenThePeerIsSilent() throws Exception {
        SmuxConfig config = QUIET.toBuilder().probePeer(true).probeTimeout(Duration.ofMillis(200)).build();
        MockSocket m = new MockSocket(Output.CAPTURE);

        IOException e = assertThrows(IOException.class, () -> provider.open(m.socket, true, config));

        assertTrue(e.getMessage().contains("does not speak this protocol"), e.getMessage());
        assertTrue(e.getMessage().contains("no answer within 200 ms"), e.getMessage());
        Await.until("the socket to be closed", PROMPTLY, m::isClosed);
        Await.smuxThreadsEnd(smuxThreadsBefore, PROMPTLY);
    }

    // ------------------------------------------------------------------ helpers

    private Session open(MockSocket m, boolean client, SmuxConfig config) throws IOException {
        Session s = provider.open(m.socket, client, config);
        sessions.add(s);
        return s;
    }

    private <T> FutureTask<T> start(String name, Callable<T> call) {
        FutureTask<T> task = new FutureTask<>(call);
        Thread t = new Thread(task, name);
        t.setDaemon(true);
        appThreads.put(task, t);
        t.start();
        return task;
    }

    private Thread thread(FutureTask<?> task) {
        return appThreads.get(task);
    }
}
