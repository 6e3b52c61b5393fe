package smux.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import smux.api.SmuxConfig;

/**
 * The engine says why a stream's pending bytes wait, only when that changes (the stall
 * attribution's source, {@link StreamSides#sendWait}): for the connection while the stream is in
 * the scheduler's ring, for the peer's window while bytes are pending without window, nothing
 * once all is sent; with the time of the engine call.
 */
class SendWaitTest {
    private static List<String> causes(List<String> waits) {
        return waits.stream().map(w -> w.substring(0, w.indexOf(' '))).collect(Collectors.toList());
    }

    @Test
    void aWriteThatOutrunsTheWindowWaitsForThePeerUntilItReads() throws IOException {
        Pair p = new Pair(Wire.quiet(2)).latency(10 * Pair.MS);
        p.client.app.recordSendWaits = true;
        int id = p.client.open();
        p.client.write(id, new byte[400_000]);
        p.drive();
        assertEquals(id, p.server.accept());
        // 262144 bytes (xtaci's initial guess) left; the rest waits for the peer's window
        assertEquals(List.of("CONNECTION 400000@" + Pair.START, "PEER_WINDOW 137856@" + Pair.START),
                p.client.app.sendWaits(id));

        long readAt = p.now;
        p.server.autoRead(id);
        p.drive();
        List<String> waits = p.client.app.sendWaits(id);
        assertEquals(List.of("CONNECTION", "PEER_WINDOW", "CONNECTION", "null"), causes(waits), waits.toString());
        assertTrue(waits.get(2).endsWith("@" + (readAt + 10 * Pair.MS)), "the window came back one latency after the read: " + waits);
    }

    @Test
    void aWriteWithWindowWaitsOnlyForTheConnectionAndVersion1NeverForAWindow() throws IOException {
        for (int version : new int[] {1, 2}) {
            Pair p = new Pair(Wire.quiet(version));
            p.client.app.recordSendWaits = true;
            int id = p.client.open();
            p.client.write(id, new byte[100_000]);
            p.drive();
            assertEquals(List.of("CONNECTION", "null"), causes(p.client.app.sendWaits(id)), "version " + version);
        }
    }

    @Test
    void aWithdrawnWriteWaitsForNothing() throws IOException {
        SmuxConfig c = Wire.quiet(2);
        Pair p = new Pair(c);
        p.client.app.recordSendWaits = true;
        int id = p.client.open();
        p.client.write(id, new byte[400_000]);
        p.drive();
        p.client.app.withdraw(id);
        p.drive();
        assertEquals(List.of("CONNECTION", "PEER_WINDOW", "null"), causes(p.client.app.sendWaits(id)));
    }
}
