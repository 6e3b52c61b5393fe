package smux.engine.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * How a stream's reads end when its session ends. Found by the random-fault run: a session closed
 * locally dropped a stream's unread bytes, and because the peer's FIN had arrived behind them the
 * reader saw a clean end-of-stream, as if nothing had been sent.
 */
class ReceiveSideEndTest {
    private final ReceiveSide rx = new ReceiveSide(new SegmentPool(2), () -> { });

    @Test
    @Timeout(10)
    void droppedBytesNeverEndInACleanEndOfStream() {
        rx.append(ByteBuffer.wrap(new byte[62]), 62);
        rx.finish();
        IOException closed = new IOException("the session was closed");
        rx.fail(closed, true);
        IOException e = assertThrows(IOException.class, () -> rx.read(ByteBuffer.allocate(100), "stream 20"));
        assertSame(closed, e);
    }

    @Test
    @Timeout(10)
    void withNothingDroppedTheFinStillEndsTheStream() throws IOException {
        rx.append(ByteBuffer.wrap(new byte[62]), 62);
        rx.finish();
        ByteBuffer dst = ByteBuffer.allocate(100);
        assertEquals(62, rx.read(dst, "stream 20"));
        rx.fail(new IOException("the session was closed"), true);
        assertEquals(-1, rx.read(dst, "stream 20"));
    }

    @Test
    @Timeout(10)
    void afterAFailureThatKeepsBytesTheyAreReadThenTheFinEnds() throws IOException {
        rx.append(ByteBuffer.wrap(new byte[62]), 62);
        rx.finish();
        rx.fail(new IOException("the connection failed"), false);
        ByteBuffer dst = ByteBuffer.allocate(100);
        assertEquals(62, rx.read(dst, "stream 20"));
        assertEquals(-1, rx.read(dst, "stream 20"));
    }
}
