package smux.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import smux.api.SmuxConfig;
import smux.engine.runtime.EngineApp;

/** Keepalive: NOPs every interval keep a quiet session alive; silence for the timeout ends it. */
class KeepaliveTest {
    private static final long SEC = Pair.SEC;

    private static SmuxConfig keepalive(int version) {
        return SmuxConfig.builder().version(version).keepAlive(Duration.ofSeconds(10), Duration.ofSeconds(30)).build();
    }

    @ParameterizedTest(name = "v{0}")
    @ValueSource(ints = {1, 2})
    void nopsKeepAnIdleSessionAlive(int version) {
        Pair p = new Pair(keepalive(version)).latency(200 * Pair.MS);
        p.client.record();
        p.advance(300 * SEC);
        assertNull(p.client.closed());
        assertNull(p.server.closed());
        List<Frame> sent = FrameRecorder.decode(version, p.client.transcriptBytes());
        assertEquals(30, sent.size(), "one NOP every 10 s for 300 s");
        assertTrue(sent.stream().allMatch(f -> f instanceof Frame.Nop));
        assertEquals(29, p.server.engine.framesReceived(), "the last one is still on its way");
        p.drive();
        assertEquals(30, p.server.engine.framesReceived());
    }

    @Test
    void silenceForTheTimeoutClosesTheSessionAtThatInstant() {
        Pair p = new Pair(keepalive(2));
        p.server.frozen = true; // a hung peer: its connection stays up but nothing comes
        long start = p.now;
        p.advance(30 * SEC - 1);
        assertNull(p.client.closed(), "not a nanosecond early");
        p.advance(1);
        EngineEvent.Closed c = p.client.closed();
        assertEquals(CloseReason.KEEPALIVE_TIMEOUT, c.reason());
        assertEquals(30 * SEC, p.client.closedAt - start);
        assertFalse(p.client.engine.hasTimeout());
    }

    @Test
    void aQuietIntervalLetsABurstsPooledBuffersGo() throws IOException {
        EngineApp e = new EngineApp(false, keepalive(2), 0);
        Wire.feed(e, FrameFactory.syn(2, 3), 1);
        for (int i = 0; i < 4; i++) {
            Wire.feed(e, FrameFactory.psh(2, 3, new byte[50_000]), 2);
        }
        int id = e.accept();
        ByteBuffer sink = ByteBuffer.allocate(200_000);
        assertEquals(200_000, e.read(id, sink));
        assertTrue(e.pool().idle() > 0, "read segments are kept for the next burst");
        e.timeout(10 * SEC); // data arrived during this interval: the pool stays
        assertTrue(e.pool().idle() > 0);
        e.timeout(20 * SEC); // nothing arrived since the last keepalive
        assertEquals(0, e.pool().idle(), "a quiet session holds no pooled buffers");
    }

    @Test
    void anyArrivingByteRestartsTheIdleClock() {
        EngineApp e = new EngineApp(true, keepalive(2), 0);
        Wire.feed(e, new byte[] {2}, 25 * SEC); // a first byte of a header
        e.timeout(30 * SEC);
        assertFalse(e.engine.isClosed());
        Wire.feed(e, java.util.Arrays.copyOfRange(FrameFactory.nop(2), 1, 8), 50 * SEC);
        e.timeout(79 * SEC);
        assertFalse(e.engine.isClosed());
        e.timeout(80 * SEC);
        assertEquals(CloseReason.KEEPALIVE_TIMEOUT, e.engine.closeReason());
    }

    @Test
    void timersAreDueOnlyWhenAskedAndNotBefore() {
        EngineApp e = new EngineApp(true, keepalive(2), 0);
        assertTrue(e.engine.hasTimeout());
        assertEquals(10 * SEC, e.engine.nextTimeout());
        e.timeout(10 * SEC - 1);
        assertFalse(e.engine.wantsTransmit(), "nothing before the deadline");
        e.timeout(10 * SEC);
        assertEquals(List.of(new Frame.Nop()), Wire.frames(e, 10 * SEC));
        assertEquals(20 * SEC, e.engine.nextTimeout());
    }

    @Test
    void unpulledKeepalivesDoNotPileUp() {
        EngineApp e = new EngineApp(true, keepalive(2), 0);
        for (long t = 10; t <= 29; t++) {
            e.timeout(t * SEC);
            Wire.feed(e, FrameFactory.nop(2), t * SEC); // the peer is alive, our writer is stuck
        }
        assertEquals(List.of(new Frame.Nop()), Wire.frames(e, 30 * SEC), "at most one NOP queued");
    }

    @Test
    void keepaliveWorksAcrossTheWrapOfTheClock() {
        long start = Long.MAX_VALUE - 15 * SEC; // nanoTime-style values wrap; deadlines compare by subtraction
        Pair p = new Pair(keepalive(2), keepalive(2), start).latency(Pair.MS);
        p.advance(120 * SEC);
        assertTrue(p.now < 0, "the clock wrapped");
        assertNull(p.client.closed());
        assertNull(p.server.closed());
        p.server.frozen = true;
        long silentFrom = p.now;
        p.advance(60 * SEC);
        assertEquals(CloseReason.KEEPALIVE_TIMEOUT, p.client.closed().reason());
        long silence = p.client.closedAt - silentFrom;
        // the peer's last NOP may still have been on its way (1 ms) when it froze
        assertTrue(silence > 20 * SEC && silence <= 30 * SEC + Pair.MS, "30 s after the last NOP arrived: " + silence);
    }

    @Test
    void aBusyLinkStaysAliveWithKeepaliveOn() throws IOException {
        Pair p = new Pair(keepalive(2)).latency(50 * Pair.MS);
        int id = p.client.open();
        p.client.autoWrite(id, 7, 50L << 20, 1 << 20, true);
        p.drive();
        p.server.accept();
        Pair.Received got = p.server.autoVerify(id, 7);
        p.advance(120 * SEC);
        assertEquals(50L << 20, got.count);
        assertEquals(-1, got.firstMismatch);
        assertTrue(got.eof);
        assertNull(p.client.closed());
        assertNull(p.server.closed());
    }

    @Test
    void aVersion1SessionThatStoppedReadingDoesNotCallItsPeerDead() throws IOException {
        SmuxConfig c = keepalive(1).toBuilder().maxSessionBuffer(64 * 1024).build();
        Pair p = new Pair(c).latency(10 * Pair.MS);
        int id = p.client.open();
        byte[] data = Bytes.stream(3, 0, 1 << 20);
        p.client.write(id, data);
        p.advance(120 * SEC); // the server reads nothing for two minutes
        assertFalse(p.server.engine.wantsInput());
        assertTrue(p.server.unconsumedInput() > 0, "the rest waits in the connection");
        assertNull(p.server.closed());
        assertNull(p.client.closed());
        p.server.accept();
        Pair.Received got = p.server.autoRead(id);
        p.advance(SEC);
        assertArrayEquals(data, got.bytes());
    }

    @Test
    void timeSpentNotReadingDoesNotCountAsSilence() throws IOException {
        // version 1, budget spent at t=0: the engine stops reading, so the peer's silence is unknown
        EngineApp s = new EngineApp(false, keepalive(1).toBuilder().maxSessionBuffer(64 * 1024).build(), 0);
        Wire.feed(s, FrameFactory.concat(FrameFactory.syn(1, 3), FrameFactory.psh(1, 3, new byte[65535]),
                FrameFactory.psh(1, 3, new byte[100])), 0);
        assertFalse(s.engine.wantsInput());
        s.timeout(30 * SEC);
        assertFalse(s.engine.isClosed(), "paused: not silent");
        // the application reads just as the next deadline comes, before the driver fed the bytes
        // that waited in the connection all along
        s.read(3, ByteBuffer.allocate(1000));
        assertTrue(s.engine.wantsInput());
        s.timeout(60 * SEC);
        assertFalse(s.engine.isClosed(), "it was not reading for the whole interval: the peer gets a full timeout");
        // a peer that stays silent while we read is still found dead
        s.timeout(90 * SEC);
        assertEquals(CloseReason.KEEPALIVE_TIMEOUT, s.engine.closeReason());
    }

    @Test
    void afterAPauseSilenceWhileReadingStillCounts() throws IOException {
        EngineApp s = new EngineApp(false, keepalive(1).toBuilder().maxSessionBuffer(64 * 1024).build(), 0);
        Wire.feed(s, FrameFactory.concat(FrameFactory.syn(1, 3), FrameFactory.psh(1, 3, new byte[65535]),
                FrameFactory.psh(1, 3, new byte[1])), 0);
        assertFalse(s.engine.wantsInput());
        s.read(3, ByteBuffer.allocate(65536));
        Wire.feed(s, FrameFactory.nop(1), 5 * SEC);
        s.timeout(35 * SEC);
        assertEquals(CloseReason.KEEPALIVE_TIMEOUT, s.engine.closeReason(), "30 s of silence while reading");
    }

    @Test
    void disabledKeepaliveArmsNoTimer() {
        EngineApp e = new EngineApp(true, Wire.quiet(2), 0);
        assertFalse(e.engine.hasTimeout());
        e.timeout(Long.MAX_VALUE);
        assertFalse(e.engine.isClosed());
        assertFalse(e.engine.wantsTransmit());
    }
}
