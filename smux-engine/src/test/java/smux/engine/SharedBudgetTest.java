package smux.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;
import smux.api.LimitExceededException;
import smux.api.MemoryBudget;
import smux.api.SmuxConfig;
import smux.engine.runtime.EngineApp;

/**
 * Sessions that share one {@link MemoryBudget}: streams are admitted only when their memory is
 * reserved, one session cannot take what the others need, a version 1 session stops reading when
 * the budget gives it no more room and goes on when its application reads, and everything a
 * session held goes back when it ends.
 */
class SharedBudgetTest {
    private static final int RESERVATION = 512 * 1024;

    private static SmuxConfig.Builder quiet(MemoryBudget budget) {
        return SmuxConfig.builder().keepAliveDisabled().memoryBudget(budget).streamWindow(RESERVATION); // fixed: one reservation each
    }

    /** The flood of issue 14: the peer opens many streams and fills each with all it may send, unread. */
    private static int flood(Pair p, int streams) throws IOException {
        int opened = 0;
        for (int i = 0; i < streams; i++) {
            int id = p.client.open();
            p.client.autoWrite(id, id, SmuxConfig.INITIAL_PEER_WINDOW, 32 * 1024, false);
            opened++;
        }
        p.drive();
        return opened;
    }

    @Test
    void aFloodedSessionShedsItsCreditStreamsOnceTheSharedBudgetHoldsItsShare() throws IOException {
        MemoryBudget budget = MemoryBudget.of(16L << 20);
        SmuxConfig server = quiet(budget).build(); // maxSessionBuffer 64 MiB: the shared budget is what binds
        Pair hostile = new Pair(quiet(MemoryBudget.of(1L << 30)).build(), server);
        flood(hostile, 100);

        EngineApp s = hostile.server.app;
        assertEquals(8L << 20, s.engine.reservedBytes(), "half the budget: 16 streams of 512 KiB");
        assertEquals(16, s.engine.streamCount());
        assertEquals(0, s.engine.streamsRefused(), "the rest were admitted on credit (issue 20) ...");
        assertEquals(84, s.engine.streamsShed(), "... and shed at their first frame: the budget had no room for it");
        assertTrue(s.engine.bufferedBytes() <= s.engine.reservedBytes(), "buffered " + s.engine.bufferedBytes());
        assertEquals(16L * SmuxConfig.INITIAL_PEER_WINDOW, s.engine.bufferedBytes(), "each admitted stream holds all it may send");
        assertNull(hostile.server.closed(), "refusing streams is no reason to end the session");

        // a second session on the same budget still gets streams, and moves data
        Pair healthy = new Pair(quiet(MemoryBudget.of(1L << 30)).build(), server);
        int id = healthy.client.open();
        healthy.client.write(id, Bytes.ascii("hello"));
        healthy.drive();
        assertEquals(id, healthy.server.accept());
        assertArrayEquals(Bytes.ascii("hello"), healthy.server.read(id));
        assertTrue(budget.used() <= budget.capacity());
        assertEquals(budget.used(), s.engine.reservedBytes() + healthy.server.engine.reservedBytes());
    }

    @Test
    void aLocalOpenThatTheSharedBudgetCannotReserveIsAdmittedOnCredit() throws IOException {
        MemoryBudget budget = MemoryBudget.of(2L << 20);
        Pair p = new Pair(quiet(budget).build(), quiet(MemoryBudget.of(1L << 30)).build());
        p.client.open(); // 512 KiB: the first needs only room
        p.client.open(); // 1 MiB held, 1 MiB free: allowed
        p.client.open(); // no reservation: on credit (issue 20), with nothing held up front
        assertEquals(1, p.client.engine.creditStreams());
        assertEquals(2L * RESERVATION, budget.used());
    }

    @Test
    void closingStreamsAndSessionsGivesEverythingBack() throws IOException {
        MemoryBudget budget = MemoryBudget.of(64L << 20);
        Pair p = new Pair(quiet(budget).build(), quiet(budget).build());
        int a = p.client.open();
        int b = p.client.open();
        p.client.autoWrite(a, 1, 100_000, 10_000, false);
        p.drive();
        assertEquals(4L * RESERVATION, budget.used(), "two streams, reserved on both ends");
        p.client.app.closeStream(b);
        p.drive();
        assertEquals(3L * RESERVATION, budget.used(), "the client's reservation for b went back");
        p.server.accept();
        p.server.accept();
        p.server.app.closeStream(b);
        assertEquals(2L * RESERVATION, budget.used());

        p.server.engine.close(p.now);
        assertEquals(RESERVATION, budget.used(), "a closed session holds nothing, unread bytes included");
        p.drive();
        assertTrue(p.client.engine.isClosed() || p.client.app.hasStream(a));
        p.client.engine.close(p.now);
        assertEquals(0, budget.used());
    }

    @Test
    void aFailedSessionKeepsOnlyWhatItsApplicationMayStillRead() throws IOException {
        MemoryBudget budget = MemoryBudget.of(64L << 20);
        Pair p = new Pair(quiet(MemoryBudget.of(1L << 30)).build(), quiet(budget).build());
        int a = p.client.open();
        p.client.write(a, new byte[70_000]);
        p.drive();
        p.client.dropConnection();
        p.drive();
        assertTrue(p.server.engine.isClosed());
        assertEquals(70_000, budget.used(), "the data that arrived can still be read");
        p.server.accept();
        assertEquals(70_000, p.server.app.read(a, ByteBuffer.allocate(100_000)));
        assertEquals(0, budget.used());
    }

    @Test
    void version1StopsReadingWhenTheSharedBudgetGivesNoMoreRoomAndGoesOnWhenItsApplicationReads()
            throws IOException {
        MemoryBudget budget = MemoryBudget.of(1L << 20);
        SmuxConfig v1 = quiet(budget).version(1).build(); // its own maxSessionBuffer (4 MiB) does not bind
        Pair p = new Pair(quiet(MemoryBudget.of(1L << 30)).version(1).build(), v1).latency(Pair.MS);
        int a = p.client.open();
        byte[] data = Bytes.stream(5, 0, 3 << 20);
        p.client.write(a, data);
        p.drive();

        EngineApp s = p.server.app;
        assertFalse(s.engine.wantsInput(), "the shared budget gave no more room");
        assertTrue(s.engine.reservedBytes() <= budget.capacity() && budget.used() <= budget.capacity());
        assertTrue(s.engine.bufferedBytes() + Admission.FRAME_ROOM > s.engine.reservedBytes(), "stopped only when a frame would not fit");
        assertTrue(s.engine.bufferedBytes() <= s.engine.reservedBytes(), "never more than it reserved: " + s.engine.bufferedBytes());

        assertEquals(a, s.accept());
        Pair.Received got = p.server.autoRead(a);
        p.drive();
        assertArrayEquals(data, got.bytes(), "reading made room, and every byte arrived in order");
        assertTrue(budget.used() <= 2 * Admission.ROOM_STEP + 2 * Admission.FRAME_ROOM,
                "room no longer needed went back: " + budget.used());
    }

    @Test
    void aVersion1SessionThatFindsNoRoomForOneFrameDoesNotStart() {
        MemoryBudget budget = MemoryBudget.of(1L << 20);
        assertTrue(budget.tryReserve(0, budget.capacity() - 1000));
        EngineApp e = new EngineApp(false, quiet(budget).version(1).build(), 0);
        assertTrue(e.engine.isClosed());
        assertEquals(CloseReason.NO_MEMORY, e.engine.closeReason());
        assertTrue(e.engine.closeError().getMessage().contains("no room for a new session"), e.engine.closeError().getMessage());
        assertFalse(e.engine.wantsInput());
        assertEquals(budget.capacity() - 1000, budget.used(), "it took nothing");
        ByteBuffer junk = ByteBuffer.wrap(new byte[16]);
        e.feed(junk, 1);
        assertFalse(junk.hasRemaining(), "input to a session that never started is dropped");
    }
}
