package smux.engine.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import smux.api.AbandonedBytesException;
import smux.api.SmuxConfig;

/**
 * A close that gives up committed bytes reports one number everywhere: the exception the caller
 * gets, {@code SessionStats.committedBytesAbandoned}, {@code closeCause()} and the
 * {@code smux.CloseAbandoned} JFR event (the WARNING log line is written from the same value, in
 * the same call, {@code Telemetry.closeAbandoned}); once, by the first close. The transport is
 * scripted: its flush never moves, and when the session forces the close it reports a count of
 * its own choosing (as a real transport counts the frames it could not write whole).
 */
@Timeout(30)
class CloseAbandonedReportTest {
    private static final long DROPPED = 98_304 + 1_000;
    @Test
    void theExceptionTheStatsTheCauseTheLogAndTheEventCarryTheSameCount() throws Exception {
        Path file = Files.createTempFile("smux-close", ".jfr");
        try (Recording recording = new Recording()) {
            recording.enable("smux.CloseAbandoned");
            recording.start();
            StuckTransport transport = new StuckTransport(DROPPED, null);
            SmuxSession session = start(transport);

            AbandonedBytesException e = assertThrows(AbandonedBytesException.class, session::close);

            assertEquals(DROPPED, e.abandonedBytes());
            assertNull(e.getCause(), "the close gave up: no connection failure");
            assertTrue(e.getMessage().contains(DROPPED + " committed bytes will not reach the peer"), e.getMessage());
            assertTrue(e.getMessage().contains("closeTimeout = 100 ms"), e.getMessage());
            assertEquals(DROPPED, session.stats().committedBytesAbandoned());
            assertSame(AbandonedBytesException.class, session.closeCause().orElseThrow().getCause().getClass());
            assertEquals(DROPPED, ((AbandonedBytesException) session.closeCause().orElseThrow().getCause()).abandonedBytes());

            session.close(); // reported once: a second close is silent
            recording.dump(file);
            List<RecordedEvent> events = RecordingFile.readAllEvents(file).stream()
                    .filter(ev -> ev.getEventType().getName().equals("smux.CloseAbandoned")).toList();
            assertEquals(1, events.size(), "one smux.CloseAbandoned event, for the first close only");
            assertEquals(DROPPED, events.get(0).getLong("committedBytesAbandoned"));
            assertEquals("", events.get(0).getString("failure"));
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void aConnectionThatFailsUnderTheFlushIsTheCause() throws Exception {
        IOException reset = new IOException("Connection reset by peer");
        StuckTransport transport = new StuckTransport(DROPPED, reset);
        SmuxSession session = start(transport);

        AbandonedBytesException e = assertThrows(AbandonedBytesException.class, session::close);
        transport.failer.join();

        assertSame(reset, e.getCause());
        assertTrue(e.getMessage().contains("the connection failed while the close flushed: Connection reset by peer"),
                e.getMessage());
        assertEquals(DROPPED, session.stats().committedBytesAbandoned());
    }

    @Test
    void anInterruptedCloseStillReportsAndKeepsTheFlag() throws Exception {
        SmuxSession session = start(new StuckTransport(DROPPED, null));
        Thread.currentThread().interrupt();
        AbandonedBytesException e = assertThrows(AbandonedBytesException.class, session::close);
        assertTrue(Thread.interrupted(), "the interrupt flag is set again");
        assertEquals(DROPPED, e.abandonedBytes());
    }

    @Test
    void aCloseThatLosesNothingIsSilent() throws Exception {
        SmuxSession session = start(new StuckTransport(0, null));
        session.close();
        assertEquals(0, session.stats().committedBytesAbandoned());
        assertTrue(session.closeCause().isEmpty());
    }

    private static SmuxSession start(StuckTransport transport) throws IOException {
        SmuxConfig config = SmuxConfig.builder().keepAliveDisabled().closeTimeout(Duration.ofMillis(100)).build();
        SmuxSession session = SmuxSession.create(true, config, "test", null, null);
        transport.link = session.link();
        session.start(transport);
        return session;
    }

    /**
     * A transport whose flush never moves. On a forced close it reports {@code dropped} (if any),
     * then that the connection closed. With a {@code failure} it fails that way as soon as the
     * close asks for the flush, as a reset under the flush would.
     */
    private static final class StuckTransport implements Transport {
        private final long dropped;
        private final IOException failure;
        SessionLink link;
        volatile Thread failer;

        StuckTransport(long dropped, IOException failure) {
            this.dropped = dropped;
            this.failure = failure;
        }

        @Override
        public void transmitReady() {
        }

        @Override
        public void inputReady() {
        }

        @Override
        public void shutdown(boolean flush) {
            if (flush && failure != null) {
                // the session calls this under its lock: fail from a thread of our own, as a transport would
                failer = new Thread(() -> end(failure), "scripted-transport-failure");
                failer.start();
            }
        }

        @Override
        public void forceClose() {
            end(null);
        }

        private void end(IOException why) {
            link.committedBytesAbandoned(dropped, why);
            link.connectionClosed();
        }

        @Override
        public long bytesWritten() {
            return 0;
        }
    }
}
