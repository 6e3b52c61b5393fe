package smux.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import smux.api.ProtocolException;
import smux.api.ProtocolException.Violation;
import smux.api.SmuxConfig;
import smux.engine.runtime.EngineApp;

/**
 * An accepting engine with {@link SmuxConfig#VERSION_AUTO} takes the version of its peer's first
 * frame: clients of either version get a session of their own version (data, windows, keepalive
 * in that version); it sends nothing and opens nothing before; a first frame of another version is
 * a protocol error naming it; the probe works as the first frame; the client side must be explicit.
 */
class VersionDetectionTest {
    private static final long T = Pair.START;
    private static final int V1 = 0xDEADBEEF;
    private static final int V2 = 0xCAFEBABE;

    private static SmuxConfig auto() {
        return Wire.quiet(2).toBuilder().version(SmuxConfig.VERSION_AUTO).build();
    }

    @ParameterizedTest(name = "v{0} client")
    @ValueSource(ints = {1, 2})
    void theServerTakesTheClientsVersionAndCarriesDataBothWays(int version) throws IOException {
        Pair p = new Pair(Wire.quiet(version), auto()).chunker(Pair.randomChunks(new Random(version), 7));
        p.server.record();
        assertEquals(SmuxConfig.VERSION_AUTO, p.server.engine.version(), "not settled before the peer speaks");

        int id = p.client.open();
        p.client.write(id, Bytes.ascii("hello in version " + version));
        p.drive();
        assertEquals(version, p.server.engine.version());
        assertEquals(id, p.server.accept());
        assertEquals("hello in version " + version, new String(p.server.read(id), java.nio.charset.StandardCharsets.US_ASCII));

        // more than one window each way, so flow control (v2) or the budget (v1) takes part
        long total = 3L << 20;
        Pair.Received atServer = p.server.autoVerify(id, 11);
        p.client.autoWrite(id, 11, total, 40_000, false);
        int back = p.server.open();
        Pair.Received atClient = p.client.autoVerify(back, 12);
        p.server.autoWrite(back, 12, total, 40_000, false);
        p.drive();
        assertEquals(total, atServer.count);
        assertEquals(total, atClient.count);

        // everything the server sent carries the client's version, and UPD only in version 2
        List<Frame> sent = FrameRecorder.decode(version, p.server.transcriptBytes());
        assertEquals(version == 2, sent.stream().anyMatch(f -> f instanceof Frame.Upd), "UPD frames: " + sent.size());
        assertNull(p.server.closed());
        assertNull(p.client.closed());
    }

    @Test
    void beforeThePeerSpeaksTheServerSendsNothingAndOpensNothing() throws IOException {
        SmuxConfig keepalive = auto().toBuilder().keepAlive(Duration.ofSeconds(1), Duration.ofSeconds(30)).build();
        EngineApp server = new EngineApp(false, keepalive, T);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> server.open(T));
        assertTrue(e.getMessage().contains("first frame"), e.getMessage());
        long now = T;
        for (int i = 0; i < 5; i++) {
            now += 1_000_000_000L;
            server.timeout(now);
            assertArrayEquals(new byte[0], Wire.pull(server, now), "no keepalive in an unknown version");
        }
        // the client's first frame settles version 1; keepalives then go out in it
        Wire.feed(server, FrameFactory.nop(1), now);
        now += 1_000_000_000L;
        server.timeout(now);
        assertEquals(List.of(new Frame.Nop()), FrameRecorder.decode(1, Wire.pull(server, now)));
        assertEquals(1, server.engine.version());
        assertFalse(server.engine.isClosed());
    }

    @ParameterizedTest(name = "VER {0}")
    @ValueSource(ints = {0, 3, 7, 0xFF})
    void aFirstFrameOfAnotherVersionIsRefusedNamingIt(int ver) {
        byte[] syn = FrameFactory.syn(ver, 3);
        for (boolean trickle : new boolean[] {false, true}) {
            EngineApp server = new EngineApp(false, auto(), T);
            if (trickle) {
                for (int i = 0; i < syn.length && !server.engine.isClosed(); i++) {
                    server.feed(ByteBuffer.wrap(syn, i, 1), T);
                }
            } else {
                Wire.feed(server, syn, T);
            }
            ProtocolException pe = Wire.violationOf(server);
            assertEquals(Violation.WRONG_VERSION, pe.violation());
            assertTrue(pe.getMessage().contains("version " + ver), pe.getMessage());
            assertEquals(0, server.engine.streamCount(), "the frame was not acted on");
            assertArrayEquals(new byte[0], Wire.pull(server, T), "nothing is answered");
        }
    }

    @Test
    void onceSettledTheOtherVersionIsAProtocolError() {
        EngineApp server = new EngineApp(false, auto(), T);
        Wire.feed(server, FrameFactory.concat(FrameFactory.syn(2, 3), FrameFactory.syn(1, 5)), T);
        ProtocolException pe = Wire.violationOf(server);
        assertEquals(Violation.WRONG_VERSION, pe.violation());
        assertTrue(pe.getMessage().contains("frame version 1 on a version 2 session"), pe.getMessage());
    }

    @Test
    void aTlsRecordIsStillNamedAsOne() {
        EngineApp server = new EngineApp(false, auto(), T);
        Wire.feed(server, new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, (byte) 0xfc}, T);
        assertEquals(Violation.TLS_RECORD, Wire.violationOf(server).violation());
    }

    @ParameterizedTest(name = "v{0} probe")
    @ValueSource(ints = {1, 2})
    void theProbeAsFirstFrameIsAnsweredInItsVersion(int version) throws IOException {
        Pair p = new Pair(Wire.quiet(version), auto()).latency(5 * Pair.MS);
        p.server.record();
        p.client.record();
        p.client.engine.startProbe(V1, V2, p.now);
        p.drive();
        assertEquals(List.of(new EngineEvent.ProbeResult(true)), p.client.events());
        assertEquals(version, p.server.engine.version());
        assertEquals(List.of(new Frame.Vrm(0xBEEFADDE, 0xCABEFEBA)), FrameRecorder.decode(version, p.server.transcriptBytes()));
        int id = p.client.open();
        p.client.write(id, Bytes.ascii("after the probe"));
        p.drive();
        assertEquals(id, p.server.accept());
        assertEquals("after the probe", new String(p.server.read(id), java.nio.charset.StandardCharsets.US_ASCII));
    }

    @Test
    void aClientMustBeExplicit() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new EngineApp(true, auto(), T));
        assertTrue(e.getMessage().contains("version 1 or 2"), e.getMessage());
    }

    @Test
    void settingsDerivedFromTheVersionAreDerivedForTheSettledOne() {
        SmuxConfig a = SmuxConfig.builder().version(SmuxConfig.VERSION_AUTO).build();
        assertTrue(a.versionAuto());
        assertEquals(SmuxConfig.DEFAULT_SESSION_BUFFER_V1, a.withVersion(1).maxSessionBuffer());
        assertEquals(SmuxConfig.builder().build().maxSessionBuffer(), a.withVersion(2).maxSessionBuffer());
        assertThrows(IllegalArgumentException.class, () -> a.withVersion(0));
        assertTrue(a.toString().contains("version=auto"), a.toString());
    }
}
