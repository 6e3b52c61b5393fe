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
 * <p>The race is forced here: the test holds the session lock while the writer pulls the last frame and
 * the connection ends, so the waiting write sees both at once when it wakes.
 */
class CommittedWriteTest {
    private static final SmuxConfig QUIET = SmuxConfig.builder().keepAliveDisabled().build();

    private static final class IdleDriver implements Driver {
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
        SessionCore core = new SessionCore(true, QUIET, "test", null, null);
        core.start(new IdleDriver());
        StreamHandle stream = (StreamHandle) core.openStream();
        ByteBuffer data = ByteBuffer.allocate(1000);
        CompletableFuture<Integer> write = CompletableFuture.supplyAsync(() -> {
            try {
                return stream.write(data);
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        awaitWaitingWriter(core, stream);

        core.lock().lock();
        try {
            ByteBuffer staging = ByteBuffer.allocate(64 * 1024);
            core.pull(staging); // SYN and the whole write: committed
            assertFalse(data.hasRemaining(), "every byte was pulled");
            core.onEof(); // the peer closes before the writer thread runs again
            assertTrue(core.isClosed());
        } finally {
            core.lock().unlock();
        }

        assertEquals(1000, write.get(5, TimeUnit.SECONDS), "the write committed all its bytes");
    }

    @Test
    @Timeout(10)
    void aWriteCutShortByTheSessionEndStillFails() throws Exception {
        SessionCore core = new SessionCore(true, QUIET, "test", null, null);
        core.start(new IdleDriver());
        StreamHandle stream = (StreamHandle) core.openStream();
        ByteBuffer data = ByteBuffer.allocate(SmuxConfig.INITIAL_PEER_WINDOW + 1000); // more than the window
        CompletableFuture<Integer> write = CompletableFuture.supplyAsync(() -> {
            try {
                return stream.write(data);
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        awaitWaitingWriter(core, stream);

        core.lock().lock();
        try {
            ByteBuffer staging = ByteBuffer.allocate(1 << 20);
            core.pull(staging);
            assertEquals(SmuxConfig.INITIAL_PEER_WINDOW, data.position(), "the window's worth was committed");
            core.onEof();
        } finally {
            core.lock().unlock();
        }

        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> write.get(5, TimeUnit.SECONDS));
        assertInstanceOf(SessionClosedException.class, e.getCause());
        assertEquals(SmuxConfig.INITIAL_PEER_WINDOW, data.position(), "the position tells what was committed");
    }

    /** Spins (no sleep) until the write waits on its stream's condition, i.e. it handed its buffer over. */
    private static void awaitWaitingWriter(SessionCore core, StreamHandle stream) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            core.lock().lock();
            try {
                if (core.lock().hasWaiters(stream.writable)) {
                    return;
                }
            } finally {
                core.lock().unlock();
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("the write never waited");
            }
            Thread.onSpinWait();
        }
    }
}
