package smux.engine.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import smux.api.SessionClosedException;
import smux.api.SmuxConfig;

/**
 * A write whose bytes were all committed has succeeded, even if the session ends before the writing
 * thread wakes up. Seen live against Go xtaci/smux: a Go client that has received the whole echo closes
 * its stream and its connection at once, and the Java echo handler, not yet scheduled after its last
 * frame was pulled, got {@link SessionClosedException} for bytes that had already reached the peer.
 *
 * <p>The test plays the transport itself: with the writer parked, it pulls the last frame and ends the
 * connection at once, so the waiting write most often sees both when it wakes.
 */
class CommittedWriteTest {
    private static final SmuxConfig QUIET = SmuxConfig.builder().keepAliveDisabled().build();

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

    @Test
    @Timeout(10)
    void aFullyCommittedWriteSucceedsThoughTheSessionEndsBeforeTheWriterWakes() throws Exception {
        SmuxSession session = SmuxSession.create(true, QUIET, "test", null, null);
        session.start(new IdleTransport());
        StreamHandle stream = (StreamHandle) session.openStream();
        ByteBuffer data = ByteBuffer.allocate(1000);
        Writer write = new Writer(stream, data);
        write.awaitParked();

        ByteBuffer staging = ByteBuffer.allocate(64 * 1024);
        session.link().pull(staging); // SYN and the whole write: committed
        assertFalse(data.hasRemaining(), "every byte was pulled");
        session.link().onEof(); // the peer closes, maybe before the writer thread runs again
        assertTrue(session.isClosed());

        assertEquals(1000, write.result(), "the write committed all its bytes");
    }

    @Test
    @Timeout(10)
    void aWriteCutShortByTheSessionEndStillFails() throws Exception {
        SmuxSession session = SmuxSession.create(true, QUIET, "test", null, null);
        session.start(new IdleTransport());
        StreamHandle stream = (StreamHandle) session.openStream();
        ByteBuffer data = ByteBuffer.allocate(SmuxConfig.INITIAL_PEER_WINDOW + 1000); // more than the window
        Writer write = new Writer(stream, data);
        write.awaitParked();

        session.link().pull(ByteBuffer.allocate(1 << 20));
        assertEquals(SmuxConfig.INITIAL_PEER_WINDOW, data.position(), "the window's worth was committed");
        session.link().onEof();

        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, write::result);
        assertInstanceOf(SessionClosedException.class, e.getCause());
        assertEquals(SmuxConfig.INITIAL_PEER_WINDOW, data.position(), "the position tells what was committed");
    }

    /** A write on a thread of its own. */
    private static final class Writer {
        private final CompletableFuture<Integer> result = new CompletableFuture<>();
        private final Thread thread;

        Writer(StreamHandle stream, ByteBuffer data) {
            thread = new Thread(() -> {
                try {
                    result.complete(stream.write(data));
                } catch (Exception e) {
                    result.completeExceptionally(e);
                }
            }, "test-writer");
            thread.start();
        }

        /** Spins (no sleep) until the write is parked: it handed its buffer over. */
        void awaitParked() {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (thread.getState() != Thread.State.WAITING) {
                if (System.nanoTime() - deadline > 0) {
                    throw new AssertionError("the write never waited");
                }
                Thread.onSpinWait();
            }
        }

        int result() throws ExecutionException, InterruptedException, java.util.concurrent.TimeoutException {
            return result.get(5, TimeUnit.SECONDS);
        }
    }
}
