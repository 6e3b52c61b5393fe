package smux.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import smux.api.ProtocolException;
import smux.api.ProtocolException.Violation;
import smux.api.SmuxConfig;
import smux.engine.runtime.EngineApp;
import smux.engine.runtime.SegmentPool;

/**
 * One test per class of malformed input, each built with {@link FrameFactory}: the session closes
 * with PROTOCOL_ERROR, its error's cause names the {@link Violation}, nothing more is read, sent
 * or timed, and the memory the peer made it use stayed bounded.
 */
class MalformedInputTest {
    private static final long T = 7 * Pair.SEC;
    /** Keepalive on (the default), so the test also sees the timers go. */
    private static final SmuxConfig V2 = SmuxConfig.builder().version(2).build();
    private static final SmuxConfig V1 = SmuxConfig.builder().version(1).build();

    private static EngineApp server(SmuxConfig c) {
        return new EngineApp(false, c, T);
    }

    /** Feeds whole and, on a second engine, one byte at a time; checks both end the same way. */
    private static EngineApp feedBothWays(boolean client, SmuxConfig c, byte[] input, Violation expected) {
        EngineApp whole = new EngineApp(client, c, T);
        whole.feed(ByteBuffer.wrap(input), T);
        assertViolation(whole, expected);
        EngineApp trickle = new EngineApp(client, c, T);
        for (int i = 0; i < input.length && !trickle.engine.isClosed(); i++) {
            trickle.feed(ByteBuffer.wrap(input, i, 1), T);
        }
        assertViolation(trickle, expected);
        return whole;
    }

    /** The session is over because of {@code expected}, and stays inert. */
    static void assertViolation(EngineApp e, Violation expected) {
        List<EngineEvent> events = Wire.events(e);
        List<EngineEvent.Closed> closed = new ArrayList<>();
        for (EngineEvent ev : events) {
            if (ev instanceof EngineEvent.Closed c) {
                closed.add(c);
            }
        }
        assertEquals(1, closed.size(), "one Closed event: " + events);
        assertEquals(CloseReason.PROTOCOL_ERROR, closed.get(0).reason());
        assertEquals(expected, Wire.violationOf(e).violation(), e.engine.closeError().getMessage());
        assertEquals(closed.get(0).error(), e.engine.closeError());
        assertTrue(e.engine.isClosed());
        assertFalse(e.engine.wantsInput());
        assertFalse(e.engine.wantsTransmit());
        assertFalse(e.engine.hasTimeout(), "no timer outlives the session");
        assertEquals(0, e.pull(ByteBuffer.allocate(1 << 16), T));
        long frames = e.engine.framesReceived();
        long buffered = e.engine.bufferedBytes();
        ByteBuffer more = ByteBuffer.wrap(FrameFactory.concat(FrameFactory.syn(e.engine.version(), e.engine.isClient() ? 2 : 3),
                FrameFactory.psh(e.engine.version(), e.engine.isClient() ? 2 : 3, new byte[1000])));
        e.feed(more, T);
        assertFalse(more.hasRemaining(), "input after the end is discarded, not left to pile up");
        assertEquals(frames, e.engine.framesReceived(), "nothing decoded after the end");
        assertEquals(buffered, e.engine.bufferedBytes(), "nothing buffered after the end");
        assertNull(e.engine.pollEvent(), "nothing happens after the end");
    }

    @ParameterizedTest(name = "VER {0}")
    @ValueSource(ints = {0, 1, 3, 0xFF})
    void wrongVersion(int ver) {
        EngineApp e = feedBothWays(false, V2, FrameFactory.syn(ver, 3), Violation.WRONG_VERSION);
        assertEquals(0, e.engine.streamCount(), "the frame was not acted on");
    }

    @Test
    void wrongVersionAfterGoodTraffic() {
        byte[] in = FrameFactory.concat(FrameFactory.syn(1, 3), FrameFactory.psh(1, 3, new byte[100]),
                FrameFactory.psh(2, 3, new byte[100]));
        EngineApp e = feedBothWays(false, V1, in, Violation.WRONG_VERSION);
        assertEquals(100, e.engine.bufferedBytes(), "only the good frame's payload is held");
    }

    @ParameterizedTest(name = "CMD {0}")
    @ValueSource(ints = {5, 6, 0x10, 0x7E, 0x80, 0xFF})
    void unknownCommand(int cmd) {
        feedBothWays(false, V2, FrameFactory.header(2, cmd, 0, 3), Violation.UNKNOWN_COMMAND);
    }

    static Stream<Arguments> badLengths() {
        return Stream.of(
                Arguments.of("SYN", Command.SYN, 1, 3),
                Arguments.of("SYN", Command.SYN, 65535, 3),
                Arguments.of("FIN", Command.FIN, 4, 3),
                Arguments.of("NOP", Command.NOP, 8, 0),
                Arguments.of("UPD", Command.UPD, 0, 3),
                Arguments.of("UPD", Command.UPD, 4, 3),
                Arguments.of("UPD", Command.UPD, 16, 3),
                Arguments.of("VRM", Command.VRM, 0, 0),
                Arguments.of("VRM", Command.VRM, 12, 0));
    }

    @ParameterizedTest(name = "{0} LENGTH {2}")
    @MethodSource("badLengths")
    void badLength(String name, int cmd, int length, int streamId) {
        // the declared payload follows, as a peer that believes its LENGTH would send it
        byte[] in = FrameFactory.raw(2, cmd, length, streamId, new byte[length]);
        EngineApp e = feedBothWays(false, V2, in, Violation.BAD_LENGTH);
        assertEquals(0, e.pool().allocated(), "the payload was never buffered");
    }

    @Test
    void windowUpdateInVersion1() {
        feedBothWays(false, V1, FrameFactory.concat(FrameFactory.syn(1, 3), FrameFactory.upd(1, 3, 0, 65536)),
                Violation.UPDATE_IN_VERSION_1);
    }

    @Test
    void synWithTheServersParityFromTheClient() {
        feedBothWays(false, V2, FrameFactory.syn(2, 4), Violation.BAD_STREAM_ID);
    }

    @Test
    void synWithTheClientsParityFromTheServer() {
        feedBothWays(true, V2, FrameFactory.syn(2, 5), Violation.BAD_STREAM_ID);
    }

    @ParameterizedTest(name = "client={0}")
    @ValueSource(booleans = {true, false})
    void synForStreamZero(boolean client) {
        feedBothWays(client, V2, FrameFactory.syn(2, 0), Violation.BAD_STREAM_ID);
    }

    @Test
    void vrmOnAStream() {
        feedBothWays(false, V2, FrameFactory.vrm(2, 5, 1, 2), Violation.BAD_SESSION_FRAME);
    }

    @Test
    void windowOverrunBeforeTheFirstUpdate() {
        // before our first UPD the peer has only xtaci's guess, 262144, even though our window is 512 KiB
        List<byte[]> parts = new ArrayList<>();
        parts.add(FrameFactory.syn(2, 3));
        for (int i = 0; i < 4; i++) {
            parts.add(FrameFactory.psh(2, 3, new byte[65535]));
        }
        parts.add(FrameFactory.psh(2, 3, new byte[4]));
        byte[] upToLimit = FrameFactory.concat(parts.toArray(new byte[0][]));
        EngineApp e = server(V2);
        Wire.feed(e, upToLimit, T);
        assertFalse(e.engine.isClosed(), "exactly the initial guess is allowed");
        assertEquals(262_144, e.engine.bufferedBytes());
        Wire.feed(e, FrameFactory.psh(2, 3, new byte[1]), T);
        assertViolation(e, Violation.WINDOW_OVERRUN);
        assertEquals(262_144, e.engine.bytesReceived(), "the overrunning payload was not buffered");
        assertTrue(e.pool().allocated() <= 262_144 / SegmentPool.SEGMENT_SIZE + 1, "segments " + e.pool().allocated());
    }

    @Test
    void windowOverrunAfterAnUpdate() throws IOException {
        SmuxConfig small = SmuxConfig.builder().streamWindow(65536).build();
        EngineApp e = server(small);
        Wire.feed(e, FrameFactory.syn(2, 3), T);
        for (int i = 0; i < 4; i++) {
            Wire.feed(e, FrameFactory.psh(2, 3, new byte[65536 - 8]), T);
        }
        Wire.feed(e, FrameFactory.psh(2, 3, new byte[32]), T); // 262144: xtaci's guess, in full
        e.accept();
        assertEquals(262_144, Wire.readAvailable(e, 3).length);
        assertEquals(List.of(new Frame.Upd(3, 262_144, 65_536)), Wire.frames(e, T));
        Wire.feed(e, FrameFactory.psh(2, 3, new byte[65535]), T);
        Wire.feed(e, FrameFactory.psh(2, 3, new byte[1]), T);
        assertFalse(e.engine.isClosed(), "consumed + window");
        Wire.feed(e, FrameFactory.psh(2, 3, new byte[1]), T);
        assertViolation(e, Violation.WINDOW_OVERRUN);
        assertEquals(65_536, e.engine.bufferedBytes(), "never more than the window beyond what was read");
    }

    @Test
    void negativeInflight() throws IOException {
        EngineApp client = new EngineApp(true, V2, T);
        int id = client.open(T);
        client.write(id, ByteBuffer.allocate(10));
        Wire.pull(client, T);
        Wire.feed(client, FrameFactory.upd(2, id, 10, 65536), T);
        assertFalse(client.engine.isClosed(), "all 10 consumed is fine");
        Wire.feed(client, FrameFactory.upd(2, id, 11, 65536), T);
        assertViolation(client, Violation.NEGATIVE_INFLIGHT);
    }

    @Test
    void tooManyUnansweredProbes() {
        EngineApp e = server(V2);
        byte[] one = FrameFactory.vrm(2, 0, 1, 2);
        for (int i = 0; i < Verification.MAX_QUEUED_ANSWERS; i++) {
            Wire.feed(e, one, T);
        }
        assertFalse(e.engine.isClosed(), "16 answers may wait");
        assertEquals(Verification.MAX_QUEUED_ANSWERS, Wire.frames(e, T).size());
        for (int i = 0; i < Verification.MAX_QUEUED_ANSWERS; i++) {
            Wire.feed(e, one, T); // answers were pulled: room again
        }
        assertFalse(e.engine.isClosed());
        Wire.feed(e, one, T);
        assertViolation(e, Violation.CONTROL_BACKLOG);
    }

    @Test
    void refusalFlood() {
        EngineApp e = server(V2.toBuilder().acceptBacklog(1).build());
        List<byte[]> syns = new ArrayList<>();
        syns.add(FrameFactory.syn(2, 3)); // takes the only backlog slot
        for (int i = 0; i < FrameDispatch.MAX_QUEUED_REFUSALS; i++) {
            syns.add(FrameFactory.syn(2, 5 + 2 * i));
        }
        Wire.feed(e, FrameFactory.concat(syns.toArray(new byte[0][])), T);
        assertFalse(e.engine.isClosed(), "4096 refusals may wait to be sent");
        assertEquals(FrameDispatch.MAX_QUEUED_REFUSALS, e.engine.streamsRefused());
        assertEquals(1, e.engine.streamCount(), "refused streams take no state");
        Wire.feed(e, FrameFactory.syn(2, 5 + 2 * FrameDispatch.MAX_QUEUED_REFUSALS), T);
        assertViolation(e, Violation.CONTROL_BACKLOG);
        assertEquals(0, e.pool().allocated());
    }

    @Test
    void refusalsThatAreSentLeaveRoomForMore() {
        EngineApp e = server(V2.toBuilder().acceptBacklog(1).build());
        Wire.feed(e, FrameFactory.syn(2, 3), T);
        int id = 5;
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < FrameDispatch.MAX_QUEUED_REFUSALS; i++, id += 2) {
                Wire.feed(e, FrameFactory.syn(2, id), T);
            }
            // each refusal is UPD{0, 0} then FIN in version 2
            assertEquals(2 * FrameDispatch.MAX_QUEUED_REFUSALS, Wire.frames(e, T).size());
        }
        assertFalse(e.engine.isClosed(), "a peer that reads its refusals is not flooding");
    }

    @Test
    void endOfStreamInTheMiddleOfAFrame() {
        EngineApp e = server(V2);
        byte[] psh = FrameFactory.psh(2, 3, new byte[100]);
        Wire.feed(e, FrameFactory.concat(FrameFactory.syn(2, 3), java.util.Arrays.copyOf(psh, 50)), T);
        e.eof(T);
        assertViolation(e, Violation.TRUNCATED_FRAME);
    }

    @Test
    void endOfStreamInTheMiddleOfAHeader() {
        EngineApp e = server(V2);
        Wire.feed(e, new byte[] {2, 0, 0}, T);
        e.eof(T);
        assertViolation(e, Violation.TRUNCATED_FRAME);
    }

    @Test
    void endOfStreamAtAFrameBoundaryIsAnOrdinaryClose() {
        EngineApp e = server(V2);
        Wire.feed(e, FrameFactory.syn(2, 3), T);
        e.eof(T);
        assertEquals(CloseReason.PEER_CLOSED, e.engine.closeReason());
        assertNull(e.engine.closeError().getCause());
    }

    @Test
    void aTlsClientHelloWhereTheFirstFrameBelongsIsNamedAsTls() {
        // the start of a real ClientHello record: handshake (0x16), TLS 1.0 record version, length, ClientHello
        byte[] hello = {0x16, 0x03, 0x01, 0x00, (byte) 0xF4, 0x01, 0x00, 0x00, (byte) 0xF0, 0x03, 0x03};
        EngineApp e = feedBothWays(false, V2, hello, Violation.TLS_RECORD);
        assertTrue(e.engine.closeError().getCause().getMessage().contains("speaks TLS"), e.engine.closeError().getMessage());
    }

    @Test
    void aTlsAlertShorterThanAHeaderIsNamedAsTlsAtTheEnd() {
        EngineApp e = new EngineApp(true, V2, T);
        Wire.feed(e, new byte[] {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x0A}, T); // a fatal alert, then the server hangs up
        e.eof(T);
        assertViolation(e, Violation.TLS_RECORD);
    }

    @Test
    void tlsLikeBytesAfterTheFirstFrameAreAWrongVersionAsBefore() {
        // only the connection's first bytes can be a TLS handshake; later, 0x16 is just a wrong VER
        feedBothWays(false, V2, FrameFactory.concat(FrameFactory.syn(2, 3), new byte[] {0x16, 0x03, 0, 0, 0, 0, 0, 0}),
                Violation.WRONG_VERSION);
    }
}
