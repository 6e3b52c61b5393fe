package smux.engine.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import smux.api.ProtocolException;
import smux.api.SessionClosedException;
import smux.api.SmuxConfig;
import smux.engine.CloseReason;
import smux.engine.FrameCodec;
import smux.engine.StreamState;

/**
 * The invariants the fuzz targets check after every step, one named method each, on what one
 * engine's driver can see. {@code ids} are the streams the driver knows: those it opened and those
 * the peer opened (accepted or still in the backlog); the methods skip ids the engine forgot.
 */
final class EngineInvariants {
    private EngineInvariants() {
    }

    /**
     * Memory stays within the configured caps whatever the peer sends. Version 2: the session
     * buffers no more than it holds of the shared budget, and at most maxSessionBuffer (its
     * reservations) plus one reservation per stream on credit (issue 20); a stream at most its
     * reservation (its window, or xtaci's first guess of 262144). Version 1: the session stops
     * reading at a frame boundary once maxSessionBuffer is buffered, so at most one frame's
     * payload more.
     */
    static void assertWithinMemoryCaps(FuzzEngine e, Iterable<Integer> ids) throws IOException {
        SmuxConfig c = e.config();
        if (c.version() == 2) {
            long cap = c.maxSessionBuffer() + (long) e.creditStreams() * e.streamReservation();
            assertTrue(e.bufferedBytes() <= cap, "buffered " + e.bufferedBytes() + " > maxSessionBuffer " + c.maxSessionBuffer()
                    + " + " + e.creditStreams() + " credit streams' reservations");
            assertTrue(e.engineClosed() || e.bufferedBytes() <= e.reservedBytes(),
                    "buffered " + e.bufferedBytes() + " > held of the budgets " + e.reservedBytes());
            for (int id : ids) {
                if (e.hasStream(id)) {
                    assertTrue(e.available(id) <= e.streamReservation(),
                            "stream " + id + " holds " + e.available(id) + " > its reservation " + e.streamReservation());
                }
            }
        } else {
            assertTrue(e.bufferedBytes() < c.maxSessionBuffer() + FrameCodec.MAX_PAYLOAD,
                    "buffered " + e.bufferedBytes() + " beyond maxSessionBuffer " + c.maxSessionBuffer() + " and one frame");
        }
    }

    /**
     * The figures add up: every payload byte received was read by the application, dropped by a
     * close, or is still buffered on its stream's side; the engine's count of unread bytes is the
     * sum of its streams' counts, and each is what the stream's side holds plus what its
     * application read but has not reported yet (reports come in batches); the stream count is
     * the streams the driver knows, within maxStreams, and the backlog within acceptBacklog.
     */
    static void assertAccounting(FuzzEngine e, Iterable<Integer> ids) throws IOException {
        long available = 0;
        long unreported = 0;
        int live = 0;
        for (int id : ids) {
            if (e.hasStream(id)) {
                long lag = e.unreported(id) - e.available(id);
                assertTrue(lag >= 0, "stream " + id + ": the engine counts fewer unread bytes than its side holds");
                assertTrue(lag <= e.consumed(id), "stream " + id + ": the engine's unread count lags by more than was read");
                available += e.available(id);
                unreported += e.unreported(id);
                live++;
            }
        }
        assertEquals(e.bytesReceived(), e.bytesRead() + e.bytesDiscarded() + available,
                "received = read + discarded + buffered on the streams' sides");
        assertEquals(e.bufferedBytes(), unreported, "the session's unread count = the sum of its streams' counts");
        assertEquals(live, e.streamCount(), "streams the engine holds = streams its driver knows");
        assertTrue(e.streamCount() <= e.config().maxStreams(), "streams " + e.streamCount() + " > maxStreams");
        assertTrue(e.backlogSize() <= e.config().acceptBacklog(), "backlog " + e.backlogSize() + " > acceptBacklog");
    }

    /**
     * What the application did shows in the stream's state: after closeWrite it cannot write;
     * after reading end-of-stream the peer may not write and nothing is left to read.
     */
    static void assertStreamState(FuzzEngine e, int id, boolean finRequested, boolean endOfStreamRead)
            throws IOException {
        if (!e.hasStream(id)) {
            return;
        }
        StreamState s = e.state(id);
        assertNotNull(s);
        if (finRequested) {
            assertFalse(s.canWrite(), "stream " + id + " writable after closeWrite: " + s);
        }
        if (endOfStreamRead) {
            assertFalse(s.peerMayWrite(), "stream " + id + " read end-of-stream in state " + s);
            assertEquals(0, e.available(id), "stream " + id + " has bytes after end-of-stream");
        }
    }

    /** After the timers ran, none of them is due any more (else a driver would spin). */
    static void assertNoTimerDue(FuzzEngine e) {
        if (e.hasTimeout()) {
            assertTrue(e.nextTimeout() - e.now() > 0, "a timer is still due after handleTimeout");
        }
    }

    /**
     * A session that is over said so once, with a reason and a named error (a protocol error as
     * its cause if that is the reason), reads no input, runs no timer and opens nothing.
     */
    static void assertEndedCleanly(FuzzEngine e) {
        if (!e.isClosed()) {
            assertEquals(0, e.closedEvents(), "Closed reported while open");
            return;
        }
        assertEquals(1, e.closedEvents(), "Closed reported once");
        assertNotNull(e.closeReason());
        assertNotNull(e.closeError());
        if (e.closeReason() == CloseReason.PROTOCOL_ERROR) {
            ProtocolException cause = assertInstanceOf(ProtocolException.class, e.closeError().getCause());
            assertNotNull(cause.violation());
        }
        assertFalse(e.wantsInput(), "a closed session wants input");
        assertFalse(e.hasTimeout(), "a closed session runs a timer");
        assertThrows(SessionClosedException.class, e::open, "open on a closed session");
    }
}
