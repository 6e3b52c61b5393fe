package smux.engine.runtime;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import smux.api.MemoryBudget;
import smux.api.SmuxConfig;

/** The shared memory budget's use shows in a periodic JFR event, {@code smux.MemoryBudget}. */
class MemoryBudgetEventTest {

    @Test
    @Timeout(30)
    void aRecordingSeesWhatSessionsReserve() throws Exception {
        MemoryBudget budget = MemoryBudget.of(64L << 20);
        SmuxConfig config = SmuxConfig.builder().keepAliveDisabled().memoryBudget(budget).build();
        Path file = Files.createTempFile("smux-budget", ".jfr");
        try (Recording recording = new Recording()) {
            recording.enable("smux.MemoryBudget").withPeriod(Duration.ofMillis(50));
            recording.start();
            SmuxSession session = SmuxSession.create(true, config, "test", null, null);
            session.start(new IdleTransport());
            session.openStream();
            session.openStream();
            long reserved = budget.used();
            assertTrue(reserved >= 2 * SmuxConfig.INITIAL_PEER_WINDOW, "two streams reserved " + reserved);
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            List<RecordedEvent> mine;
            do {
                java.util.concurrent.locks.LockSupport.parkNanos(100_000_000L); // the event comes every 50 ms
                recording.dump(file);
                mine = RecordingFile.readAllEvents(file).stream()
                        .filter(e -> e.getEventType().getName().equals("smux.MemoryBudget"))
                        .filter(e -> e.getLong("capacity") == budget.capacity() && e.getLong("used") == reserved)
                        .toList();
            } while (mine.isEmpty() && System.nanoTime() < deadline);
            assertTrue(!mine.isEmpty(), "a smux.MemoryBudget event with this budget's capacity and use");
            assertTrue(mine.get(0).getLong("peak") >= reserved);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    private static final class IdleTransport implements Transport {
        @Override
        public void transmitReady() {
        }

        @Override
        public void inputReady() {
        }

        @Override
        public void shutdown(boolean flush) {
        }

        @Override
        public void forceClose() {
        }

        @Override
        public long bytesWritten() {
            return 0;
        }
    }
}
