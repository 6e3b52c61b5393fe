package smux.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;
import smux.api.LimitExceededException;
import smux.api.SmuxConfig;
import smux.api.StreamClosedException;
import smux.engine.runtime.EngineApp;

/**
 * Every limit refuses cleanly and the session keeps working: the accept backlog, maxStreams and
 * the buffer budget refuse a peer's stream with FIN; locally they throw LimitExceededException;
 * stream ids run out with a clear error; a version 1 session pauses input when its budget is spent
 * and resumes when the application reads.
 */
class LimitsTest {

    private static SmuxConfig.Builder quiet() {
        return SmuxConfig.builder().keepAliveDisabled();
    }

    @Test
    void aFullAcceptBacklogRefusesWithFinAndTheSessionGoesOn() throws IOException {
        Pair p = new Pair(quiet().build(), quiet().acceptBacklog(2).build()).latency(Pair.MS);
        int a = p.client.open();
        int b = p.client.open();
        int refused = p.client.open();
        p.client.write(refused, Bytes.ascii("into the void"));
        p.drive();

        assertEquals(List.of(new EngineEvent.StreamOpened(a), new EngineEvent.StreamOpened(b)),
                p.server.eventsOf(EngineEvent.StreamOpened.class));
        assertEquals(1, p.server.engine.streamsRefused());
        assertFalse(p.server.app.hasStream(refused));
        assertEquals(13, p.server.engine.bytesDropped(), "data for the refused stream is read and dropped");
        StreamClosedException reset = assertThrows(StreamClosedException.class, () -> p.client.read(refused),
                "the refusal (a window of 0, then FIN) reads as an error, not as end-of-stream");
        assertTrue(reset.getMessage().contains("reset by the peer"), reset.getMessage());
        assertThrows(StreamClosedException.class, () -> p.client.write(refused, Bytes.ascii("more")), "and so do writes");

        // the session keeps working: accepted streams move data, and a new stream fits once one is accepted
        assertEquals(a, p.server.accept());
        p.client.write(a, Bytes.ascii("still here"));
        int c = p.client.open();
        p.drive();
        assertArrayEquals(Bytes.ascii("still here"), p.server.read(a));
        assertEquals(List.of(a, b, c), p.server.eventsOf(EngineEvent.StreamOpened.class).stream()
                .map(EngineEvent.StreamOpened::streamId).toList());
        assertNull(p.server.closed());
        assertNull(p.client.closed());
    }

    @Test
    void maxStreamsRefusesThePeersStreamAndThrowsLocally() throws IOException {
        Pair p = new Pair(quiet().maxStreams(2).build(), quiet().maxStreams(2).build());
        int a = p.client.open();
        p.client.open();
        LimitExceededException e = assertThrows(LimitExceededException.class, () -> p.client.open());
        assertTrue(e.getMessage().contains("maxStreams"), e.getMessage());
        p.drive();
        p.server.accept();
        p.server.accept();
        // the server is full too: its own open throws, and a stream the client opens... cannot exist yet
        assertThrows(LimitExceededException.class, () -> p.server.open());

        p.client.app.closeStream(a);
        int c = p.client.open(); // room again on the client; the server still holds a until it closes it
        p.drive();
        assertEquals(1, p.server.engine.streamsRefused());
        assertThrows(StreamClosedException.class, () -> p.client.read(c), "refused: a window of 0, then FIN");
        p.server.app.closeStream(a);
        p.client.app.closeStream(c);
        int d = p.client.open();
        p.drive();
        assertEquals(d, p.server.accept(), "admitted once the server has room");
    }

    @Test
    void streamsBeyondTheReservedBufferAreAdmittedOnCredit() throws IOException {
        // version 2 reserves max(window, 262144) per stream: two fit in 1 MiB with a 512 KiB window;
        // the third is admitted on credit (issue 20), not refused
        SmuxConfig server = quiet().streamWindow(512 * 1024).maxSessionBuffer(1 << 20).build();
        Pair p = new Pair(quiet().build(), server);
        p.client.open();
        p.client.open();
        p.client.open();
        p.drive();
        assertEquals(3, p.server.engine.streamCount());
        assertEquals(0, p.server.engine.streamsRefused());
        assertEquals(1, p.server.engine.creditStreams());
        assertEquals(1 << 20, p.server.engine.reservedBytes(), "a credit stream reserves nothing up front");
        assertEquals(2, p.server.open(), "a local open is admitted on credit too");
        assertEquals(2, p.server.engine.creditStreams());
    }

    @Test
    void aReservedBudgetHoldsEveryByteAPeerMaySend() throws IOException {
        SmuxConfig server = quiet().streamWindow(512 * 1024).maxSessionBuffer(1 << 20).build();
        Pair p = new Pair(quiet().build(), server);
        int a = p.client.open();
        int b = p.client.open();
        p.client.autoWrite(a, 1, 4 << 20, 1 << 20, false);
        p.client.autoWrite(b, 2, 4 << 20, 1 << 20, false);
        p.drive(); // nobody reads on the server
        assertTrue(p.server.engine.bufferedBytes() <= 1 << 20, "buffered " + p.server.engine.bufferedBytes());
        assertEquals(2 * 262_144, p.server.engine.bufferedBytes(), "xtaci's guessed window per stream, no more");
        assertNull(p.server.closed());
    }

    @Test
    void clientStreamIdsEndAtTheLastOddU32() throws IOException {
        Pair p = new Pair(quiet().build());
        p.client.engine.skipStreamIdsForTest(0xFFFF_FFFDL);
        int last = p.client.open();
        assertEquals(0xFFFF_FFFF, last);
        LimitExceededException e = assertThrows(LimitExceededException.class, () -> p.client.open());
        assertTrue(e.getMessage().contains("used up"), e.getMessage());
        p.client.write(last, Bytes.ascii("top"));
        p.drive();
        assertEquals(last, p.server.accept(), "the server takes the highest odd id");
        assertArrayEquals(Bytes.ascii("top"), p.server.read(last));
        assertFalse(p.client.engine.isClosed(), "running out of ids refuses the open, not the session");
    }

    @Test
    void serverStreamIdsEndAtTheLastEvenU32() throws IOException {
        Pair p = new Pair(quiet().build());
        p.server.engine.skipStreamIdsForTest(0xFFFF_FFFCL);
        int last = p.server.open();
        assertEquals(0xFFFF_FFFE, last);
        assertThrows(LimitExceededException.class, () -> p.server.open());
        p.drive();
        assertEquals(last, p.client.accept());
    }

    @Test
    void version1PausesInputWhenItsBudgetIsSpentAndResumesOnRead() throws IOException {
        SmuxConfig c = quiet().version(1).maxSessionBuffer(64 * 1024).build();
        Pair p = new Pair(c).latency(Pair.MS);
        int a = p.client.open();
        byte[] data = Bytes.stream(11, 0, 1 << 20);
        p.client.write(a, data);
        p.drive();

        EngineApp s = p.server.app;
        assertFalse(s.engine.wantsInput(), "budget spent");
        long buffered = s.engine.bufferedBytes();
        assertTrue(buffered >= 64 * 1024 && buffered < 64 * 1024 + 32 * 1024,
                "it stops at the first frame boundary past the budget: " + buffered);
        long waiting = p.server.unconsumedInput();
        long transmitted = p.client.engine.framesSent() * 8 + p.client.engine.bytesSent();
        assertEquals(transmitted - (s.engine.framesReceived() * 8 + s.engine.bytesReceived()), waiting,
                "the rest waits in the connection, unread");
        assertTrue(s.pool().allocated() <= 8, "memory stays at the budget: " + s.pool().allocated() + " segments");

        assertEquals(a, p.server.accept());
        ByteBuffer dst = ByteBuffer.allocate(40_000);
        s.read(a, dst);
        assertTrue(s.engine.wantsInput(), "a read frees budget");
        p.drive();
        assertTrue(p.server.unconsumedInput() < waiting, "input resumed");

        Pair.Received got = p.server.autoRead(a);
        p.drive();
        byte[] all = new byte[1 << 20];
        System.arraycopy(dst.array(), 0, all, 0, 40_000);
        System.arraycopy(got.bytes(), 0, all, 40_000, got.bytes().length);
        assertEquals((1 << 20) - 40_000, got.count);
        assertArrayEquals(data, all);
    }

    @Test
    void version1BudgetIsSessionWide() throws IOException {
        // head-of-line blocking by design in version 1: an unread stream holds up the others
        SmuxConfig c = quiet().version(1).maxSessionBuffer(64 * 1024).build();
        Pair p = new Pair(c);
        int a = p.client.open();
        int b = p.client.open();
        p.client.write(a, new byte[200_000]);
        p.drive();
        p.client.write(b, Bytes.ascii("stuck behind a"));
        p.drive();
        p.server.accept();
        p.server.accept();
        assertEquals(0, p.server.app.available(b));
        p.server.autoRead(a);
        Pair.Received gotB = p.server.autoRead(b);
        p.drive();
        assertArrayEquals(Bytes.ascii("stuck behind a"), gotB.bytes());
    }
}
