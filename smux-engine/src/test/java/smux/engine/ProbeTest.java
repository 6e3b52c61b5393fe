package smux.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import smux.api.SessionClosedException;
import smux.api.SmuxConfig;
import smux.engine.runtime.EngineApp;

/**
 * Peer verification (VRM): a probe between two engines says true; anything else a peer does
 * (a wrong answer, another frame, garbage, EOF, silence) says false without throwing, and spends
 * the connection. Ping measures a round trip, only with a verified peer.
 */
class ProbeTest {
    private static final int V1 = 0xDEADBEEF;
    private static final int V2 = 0xCAFEBABE;
    private static final SmuxConfig CONFIG = SmuxConfig.builder().keepAliveDisabled().probeTimeout(Duration.ofSeconds(5)).build();

    @ParameterizedTest(name = "v{0}")
    @ValueSource(ints = {1, 2})
    void probeBetweenTwoEnginesSaysTrue(int version) throws IOException {
        SmuxConfig c = CONFIG.toBuilder().version(version).build();
        Pair p = new Pair(c).latency(20 * Pair.MS);
        p.client.record();
        p.server.record();
        p.client.engine.startProbe(V1, V2, p.now);
        p.drive();
        assertEquals(List.of(new EngineEvent.ProbeResult(true)), p.client.events());
        assertEquals(List.of(), p.server.events(), "answering is silent");
        assertTrue(p.client.engine.peerVerified());
        assertTrue(p.server.engine.peerVerified(), "only this library sends VRM");
        assertEquals(List.of(new Frame.Vrm(V1, V2)), FrameRecorder.decode(version, p.client.transcriptBytes()));
        assertEquals(List.of(new Frame.Vrm(0xBEEFADDE, 0xCABEFEBA)), FrameRecorder.decode(version, p.server.transcriptBytes()));

        // the session goes on as usual
        int id = p.client.open();
        p.client.write(id, Bytes.ascii("after the probe"));
        p.drive();
        assertEquals(id, p.server.accept());
        assertEquals("after the probe", new String(p.server.read(id), java.nio.charset.StandardCharsets.US_ASCII));
    }

    private static EngineApp probing() {
        EngineApp e = new EngineApp(true, CONFIG, 0);
        e.engine.startProbe(V1, V2, 0);
        assertEquals(List.of(new Frame.Vrm(V1, V2)), Wire.frames(e, 0));
        return e;
    }

    private static void assertNotSmux(EngineApp e) {
        List<EngineEvent> events = Wire.events(e);
        assertEquals(new EngineEvent.ProbeResult(false), events.get(0), "events: " + events);
        assertEquals(2, events.size(), "events: " + events);
        EngineEvent.Closed closed = (EngineEvent.Closed) events.get(1);
        assertEquals(CloseReason.NOT_SMUX, closed.reason());
        assertTrue(e.engine.isClosed());
        assertFalse(e.engine.peerVerified());
        assertFalse(e.engine.wantsTransmit(), "nothing more goes to a peer that is not smux");
    }

    @Test
    void aWrongAnswerSaysFalse() {
        EngineApp e = probing();
        Wire.feed(e, FrameFactory.vrm(2, 0, V1, V2), SECOND); // an echo is not the answer
        assertNotSmux(e);
    }

    @Test
    void anAnswerWithOneHalfWrongSaysFalse() {
        EngineApp e = probing();
        Wire.feed(e, FrameFactory.vrm(2, 0, VerifyCode.answer1(V1), V2), SECOND);
        assertNotSmux(e);
    }

    @Test
    void anotherFrameFirstSaysFalse() {
        EngineApp e = probing();
        Wire.feed(e, FrameFactory.concat(FrameFactory.syn(2, 2), FrameFactory.vrm(2, 0, 0xBEEFADDE, 0xCABEFEBA)), SECOND);
        assertNotSmux(e);
    }

    @Test
    void aWindowUpdateFirstSaysFalse() {
        EngineApp e = probing();
        Wire.feed(e, FrameFactory.upd(2, 3, 0, 65536), SECOND);
        assertNotSmux(e);
    }

    @Test
    void bytesThatAreNotSmuxSayFalse() {
        EngineApp e = probing();
        Wire.feed(e, Bytes.ascii("HTTP/1.1 400 Bad Request\r\n\r\n"), SECOND);
        assertNotSmux(e);
    }

    @Test
    void endOfStreamSaysFalse() {
        // what an xtaci/smux peer does: VRM is a protocol error to it, its reader stops, the connection ends
        EngineApp e = probing();
        e.eof(SECOND);
        assertNotSmux(e);
    }

    @Test
    void aTransportErrorSaysFalse() {
        EngineApp e = probing();
        e.transportError(new IOException("reset"), SECOND);
        assertNotSmux(e);
    }

    @Test
    void silenceSaysFalseAtTheProbeTimeout() {
        EngineApp e = probing();
        assertTrue(e.engine.hasTimeout());
        assertEquals(5 * SECOND, e.engine.nextTimeout());
        e.timeout(5 * SECOND - 1);
        assertEquals(List.of(), Wire.events(e));
        e.timeout(5 * SECOND);
        assertNotSmux(e);
    }

    @Test
    void aKeepaliveBeforeTheAnswerIsTolerated() {
        EngineApp e = probing();
        Wire.feed(e, FrameFactory.concat(FrameFactory.nop(2), FrameFactory.vrm(2, 0, 0xBEEFADDE, 0xCABEFEBA)), SECOND);
        assertEquals(List.of(new EngineEvent.ProbeResult(true)), Wire.events(e));
        assertFalse(e.engine.isClosed());
        assertFalse(e.engine.hasTimeout(), "the probe timer is disarmed");
    }

    @Test
    void probingASessionThatCarriedTrafficIsRefused() throws IOException {
        EngineApp e = new EngineApp(true, CONFIG, 0);
        e.open(0);
        assertThrows(IllegalStateException.class, () -> e.engine.startProbe(1, 2, 0));
        EngineApp f = new EngineApp(true, CONFIG, 0);
        Wire.feed(f, FrameFactory.nop(2), 0);
        assertThrows(IllegalStateException.class, () -> f.engine.startProbe(1, 2, 0));
        EngineApp g = probing();
        assertThrows(IllegalStateException.class, () -> g.engine.startProbe(1, 2, 0), "one probe at a time");
    }

    @Test
    void pingMeasuresTwiceTheOneWayLatency() throws IOException {
        Pair p = new Pair(CONFIG).latency(37 * Pair.MS);
        p.client.engine.startProbe(V1, V2, p.now);
        p.drive();
        p.client.engine.ping(1, 2, p.now);
        p.drive();
        assertEquals(List.of(new EngineEvent.Pong(74 * Pair.MS)), p.client.eventsOf(EngineEvent.Pong.class));

        // the server was verified by the probe it answered: it may ping too
        p.server.engine.ping(3, 4, p.now);
        p.drive();
        assertEquals(List.of(new EngineEvent.Pong(74 * Pair.MS)), p.server.eventsOf(EngineEvent.Pong.class));
        assertNull(p.client.closed());
    }

    @Test
    void pingIsRefusedBeforeThePeerIsVerified() throws IOException {
        Pair p = new Pair(CONFIG);
        p.client.open();
        p.drive();
        assertThrows(IllegalStateException.class, () -> p.client.engine.ping(1, 2, p.now));
        assertThrows(IllegalStateException.class, () -> p.server.engine.ping(1, 2, p.now));
        assertFalse(p.client.engine.wantsTransmit(), "no VRM may reach a peer that might be xtaci");
    }

    @Test
    void onePingAtATime() throws IOException {
        Pair p = new Pair(CONFIG).latency(Pair.MS);
        p.client.engine.startProbe(V1, V2, p.now);
        p.drive();
        p.client.engine.ping(1, 2, p.now);
        assertThrows(IllegalStateException.class, () -> p.client.engine.ping(1, 2, p.now));
        p.drive();
        p.client.engine.ping(5, 6, p.now);
        p.drive();
        assertEquals(2, p.client.eventsOf(EngineEvent.Pong.class).size());
    }

    @Test
    void anUnansweredPingReportsMinusOneAndTheSessionLives() throws IOException {
        Pair p = new Pair(CONFIG).latency(Pair.MS);
        p.client.engine.startProbe(V1, V2, p.now);
        p.drive();
        p.server.frozen = true;
        p.client.engine.ping(1, 2, p.now);
        p.advance(5 * SECOND);
        assertEquals(List.of(new EngineEvent.Pong(-1)), p.client.eventsOf(EngineEvent.Pong.class));
        assertNull(p.client.closed());
    }

    @Test
    void aLateAnswerToATimedOutPingIsNotAnsweredBack() throws IOException {
        // a VRM answer looks like a VRM request: answering a late answer would start a VRM
        // ping-pong between the two engines that never ends
        SmuxConfig slow = CONFIG.toBuilder().probeTimeout(Duration.ofMillis(30)).build();
        Pair p = new Pair(slow).latency(10 * Pair.MS);
        p.client.engine.startProbe(V1, V2, p.now);
        p.drive();
        p.latency = 50 * Pair.MS; // the link slows down: a round trip now exceeds the timeout
        long framesBefore = p.client.engine.framesSent() + p.server.engine.framesSent();
        p.client.engine.ping(1, 2, p.now);
        p.advance(10 * SECOND);
        assertEquals(List.of(new EngineEvent.Pong(-1)), p.client.eventsOf(EngineEvent.Pong.class));
        long vrms = p.client.engine.framesSent() + p.server.engine.framesSent() - framesBefore;
        assertEquals(2, vrms, "the ping and its answer, nothing more");
        assertNull(p.client.closed());
        assertNull(p.server.closed());

        // pinging still works afterwards, and the peer's own pings are still answered
        p.latency = Pair.MS;
        p.client.engine.ping(3, 4, p.now);
        p.server.engine.ping(5, 6, p.now);
        p.drive();
        assertEquals(List.of(new EngineEvent.Pong(-1), new EngineEvent.Pong(2 * Pair.MS)),
                p.client.eventsOf(EngineEvent.Pong.class));
        assertEquals(List.of(new EngineEvent.Pong(2 * Pair.MS)), p.server.eventsOf(EngineEvent.Pong.class));
    }

    @Test
    void closingTheSessionEndsAPingInFlight() throws IOException {
        Pair p = new Pair(CONFIG).latency(Pair.MS);
        p.client.engine.startProbe(V1, V2, p.now);
        p.drive();
        p.client.engine.ping(1, 2, p.now);
        p.client.engine.close(p.now);
        assertEquals(List.of(new EngineEvent.Pong(-1)), p.client.eventsOf(EngineEvent.Pong.class));
        assertThrows(SessionClosedException.class, () -> p.client.engine.ping(1, 2, p.now));
    }

    private static final long SECOND = Pair.SEC;
}
