package smux.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import smux.api.LimitExceededException;
import smux.api.MemoryBudget;
import smux.api.SmuxConfig;
import smux.api.StreamClosedException;
import smux.engine.runtime.EngineApp;

/**
 * Issue 20, the admission rule (docs/PROTOCOL.md, "Receive memory"): the first streams of a
 * version 2 session are reserved up front (maxSessionBuffer); the streams beyond are admitted on
 * credit and take room for what they actually buffer from the shared memory budget; when it has no
 * room for a frame, the credit streams that hold the most are shed. Pure engine pairs, simulated
 * time.
 */
class CreditAdmissionTest {
    private static final int STREAMS = 1000;

    private static SmuxConfig.Builder quiet() {
        return SmuxConfig.builder().keepAliveDisabled();
    }

    /** The defaults serve 1,000 streams of an honest session, both ways, byte-exact, and nothing is refused or shed. */
    @Test
    void aThousandStreamsOfOneSessionAreServedByTheDefaults() throws IOException {
        Pair p = new Pair(quiet().build(), quiet().build()).latency(Pair.MS).bandwidth(1L << 30);
        long each = 320 * 1024; // past the 256 KiB a sender may send before the first window update
        List<Integer> ids = new ArrayList<>();
        List<Pair.Received> received = new ArrayList<>();
        for (int i = 0; i < STREAMS; i++) {
            int id = p.client.open(); // the client's default took 256 before issue 20
            ids.add(id);
            p.client.autoWrite(id, id, each, 64 * 1024, true);
            received.add(p.server.autoVerify(id, id));
        }
        long maxSessionBuffer = SmuxConfig.defaults().maxSessionBuffer();
        // what the server may hold: its reservations, and what 1,000 - 256 credit streams may be sent before a window update
        long bound = maxSessionBuffer + (STREAMS - maxSessionBuffer / SmuxConfig.INITIAL_PEER_WINDOW) * SmuxConfig.INITIAL_PEER_WINDOW;
        long peakBuffered = 0;
        while (p.step()) {
            assertTrue(p.server.engine.reservedBytes() <= bound, "held " + p.server.engine.reservedBytes());
            peakBuffered = Math.max(peakBuffered, p.server.engine.bufferedBytes());
        }
        for (int i = 0; i < STREAMS; i++) {
            Pair.Received r = received.get(i);
            assertNull(r.error, "stream " + ids.get(i));
            assertEquals(each, r.count, "stream " + ids.get(i));
            assertEquals(-1, r.firstMismatch, "stream " + ids.get(i) + " byte-exact");
            assertTrue(r.eof, "stream " + ids.get(i) + " ended");
        }
        assertEquals(STREAMS, p.server.engine.streamsAccepted());
        assertEquals(0, p.server.engine.streamsRefused());
        assertEquals(0, p.server.engine.streamsShed());
        assertTrue(peakBuffered <= bound, "peak buffered " + peakBuffered);
        assertNull(p.server.closed());
    }

    /**
     * 10,000 streams of one session with the documented setting, {@code maxStreams(10_000)} on both
     * ends and {@code acceptBacklog(10_000)} on the server (a peer may open them all before the
     * application accepts one): every stream byte-exact, nothing refused or shed.
     */
    @Test
    void tenThousandStreamsWithTheDocumentedSetting() throws IOException {
        int streams = 10_000;
        SmuxConfig config = quiet().maxStreams(streams).acceptBacklog(streams).build();
        Pair p = new Pair(config, config).latency(Pair.MS).bandwidth(1L << 30);
        long each = 40 * 1024;
        List<Pair.Received> received = new ArrayList<>();
        for (int i = 0; i < streams; i++) {
            int id = p.client.open();
            p.client.autoWrite(id, id, each, 40 * 1024, true);
            received.add(p.server.autoVerify(id, id));
        }
        long peak = 0;
        while (p.step()) {
            while (p.server.accept() != 0) {
                // the application takes each stream as it comes, as serve does: the backlog stays short
            }
            peak = Math.max(peak, p.server.engine.bufferedBytes());
        }
        System.out.printf("[credit] 10,000 streams x %d KiB: the server buffered at most %d KiB at once%n", each >> 10, peak >> 10);
        for (Pair.Received r : received) {
            assertEquals(each, r.count);
            assertEquals(-1, r.firstMismatch);
            assertTrue(r.eof);
        }
        assertEquals(streams, p.server.engine.streamsAccepted());
        assertEquals(0, p.server.engine.streamsRefused());
        assertEquals(0, p.server.engine.streamsShed());
    }

    /**
     * A peer that opens many streams, sends each all it may and never has them read: the server
     * holds at most its share of the shared budget, and sheds the credit streams that hold the
     * most (the peer's reads and writes on them fail, the server's application gets a
     * LimitExceededException naming the limit); the reserved streams are never shed and keep
     * every byte; the session goes on.
     */
    @Test
    void aNeverReadingFloodIsHeldWithinTheBudgetAndItsCreditStreamsAreShed() throws IOException {
        long budget = 6L << 20; // shared; one session may hold about half of it
        // 8 streams of 256 KiB reserved up front (2 MiB), the rest on credit
        SmuxConfig server = quiet().maxSessionBuffer(2L << 20).memoryBudget(MemoryBudget.of(budget)).build();
        Pair p = new Pair(quiet().build(), server).latency(Pair.MS);
        List<Integer> ids = new ArrayList<>();
        List<Pair.Sender> senders = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            int id = p.client.open();
            ids.add(id);
            senders.add(p.client.autoWrite(id, id, 256 * 1024, 32 * 1024, false));
        }
        long end = p.now() + 60_000 * Pair.MS;
        while (p.step() && p.now() - end < 0) {
            assertTrue(p.server.engine.reservedBytes() <= budget, "held " + p.server.engine.reservedBytes());
            assertTrue(p.server.engine.bufferedBytes() <= budget, "buffered " + p.server.engine.bufferedBytes());
        }
        long shed = p.server.engine.streamsShed();
        assertTrue(shed > 0, "the flood's credit streams were shed");
        assertEquals(0, p.server.engine.streamsRefused());
        int reserved = 8;
        for (int i = 0; i < ids.size(); i++) {
            int id = ids.get(i);
            IOException onServer = p.server.app.resetOf(id);
            IOException onClient = p.client.app.resetOf(id);
            if (i < reserved) {
                assertNull(onServer, "a stream reserved up front is never shed: " + id);
                assertEquals(256 * 1024, p.server.app.available(id), "and holds every byte its peer sent: " + id);
            }
            if (onServer != null) {
                assertInstanceOf(LimitExceededException.class, onServer);
                assertTrue(onServer.getMessage().contains("was shed") && onServer.getMessage().contains("memory budget"),
                        onServer.getMessage());
                assertInstanceOf(StreamClosedException.class, onClient, "the peer hears of it: " + id);
                assertTrue(onClient.getMessage().contains("reset by the peer"), onClient.getMessage());
                assertThrows(StreamClosedException.class, () -> p.client.read(id), "the peer's reads fail");
            }
        }
        assertEquals(shed, ids.stream().filter(id -> p.server.app.resetOf(id) != null).count());
        assertNull(p.server.closed(), "the session goes on");
        assertNull(p.client.closed());

        // an honest stream opened now is served in full (its application reads)
        int late = p.client.open();
        Pair.Received r = p.server.autoVerify(late, 7);
        p.client.autoWrite(late, 7, 1 << 20, 64 * 1024, true);
        p.advance(30_000 * Pair.MS);
        assertEquals(1 << 20, r.count);
        assertEquals(-1, r.firstMismatch);
        assertTrue(r.eof);
    }

    /** Credit streams whose application reads are not shed, even with a small shared budget. */
    @Test
    void streamsThatAreReadAreNotShedWithASmallBudget() throws IOException {
        long budget = 4L << 20; // 4 reserved up front (1 MiB), the rest on credit, from a 4 MiB budget
        SmuxConfig server = quiet().maxSessionBuffer(1L << 20).memoryBudget(MemoryBudget.of(budget)).build();
        Pair p = new Pair(quiet().build(), server).latency(Pair.MS).bandwidth(1L << 30);
        List<Pair.Received> received = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            int id = p.client.open();
            p.client.autoWrite(id, id, 512 * 1024, 64 * 1024, true);
            received.add(p.server.autoVerify(id, id));
        }
        while (p.step()) {
            assertTrue(p.server.engine.bufferedBytes() <= budget, "buffered " + p.server.engine.bufferedBytes());
        }
        for (Pair.Received r : received) {
            assertEquals(512 * 1024, r.count);
            assertEquals(-1, r.firstMismatch);
            assertTrue(r.eof);
        }
        assertEquals(0, p.server.engine.streamsShed());
    }

    /**
     * A peer that refuses our stream with FIN alone (a Go peer never refuses; one that is not this
     * library sends no window of 0): once the window is spent, the write fails with an error that
     * says so instead of waiting forever for a window update.
     */
    @Test
    void aWriteOnAStreamThePeerClosedBeforeSayingAnythingFailsWhenItsWindowIsSpent() throws IOException {
        for (boolean finFirst : new boolean[] {true, false}) {
            EngineApp client = new EngineApp(true, Wire.quiet(2), 0);
            int id = client.open(0);
            if (finFirst) {
                Wire.feed(client, FrameFactory.fin(2, id), 0);
            }
            ByteBuffer data = ByteBuffer.wrap(new byte[300 * 1024]);
            client.write(id, data);
            Wire.frames(client, 0); // 256 KiB leave, xtaci's guessed window; the rest waits
            if (!finFirst) {
                assertTrue(client.isWriting(id), "waits for a window update");
                Wire.feed(client, FrameFactory.fin(2, id), 0);
            }
            IOException why = client.resetOf(id);
            assertInstanceOf(StreamClosedException.class, why, "finFirst " + finFirst);
            assertTrue(why.getMessage().contains("refused"), why.getMessage());
            assertFalse(client.isWriting(id), "the write ended");
            assertEquals(256 * 1024, data.position(), "exactly what was committed");
            assertThrows(StreamClosedException.class, () -> client.write(id, ByteBuffer.wrap(new byte[1])));
            assertEquals(-1, client.read(id, ByteBuffer.allocate(1)), "reads see the peer's FIN");
        }
    }

    /** A half-close is not a refusal: a peer that sent a window update and then FIN keeps its reader's credit. */
    @Test
    void aPeerThatHalfClosesAfterAWindowUpdateIsNotARefusal() throws IOException {
        EngineApp client = new EngineApp(true, Wire.quiet(2), 0);
        int id = client.open(0);
        client.write(id, ByteBuffer.wrap(new byte[300 * 1024]));
        Wire.frames(client, 0);
        Wire.feed(client, FrameFactory.concat(FrameFactory.upd(2, id, 262_144, 262_144), FrameFactory.fin(2, id)), 0);
        assertNull(client.resetOf(id));
        Wire.frames(client, 0);
        assertFalse(client.isWriting(id), "the update's credit carried the rest");
    }
}
