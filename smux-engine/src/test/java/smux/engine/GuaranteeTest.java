package smux.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import smux.api.SmuxConfig;
import smux.engine.runtime.EngineApp;

/**
 * The two guarantees of SPEC.md section 1, at engine level. (1) A stream its application never
 * reads holds at most its window and cannot stop another stream. (2) A write withdrawn mid-way
 * (what a write timeout does) delivered exactly its committed bytes, and a retry from there
 * yields exactly the original bytes.
 */
class GuaranteeTest {
    private static final int WINDOW = 512 * 1024;

    @Test
    void anUnreadStreamHoldsAtMostItsWindowAndDoesNotStopAnother() throws IOException {
        Pair p = new Pair(SmuxConfig.builder().streamWindow(512 * 1024).build()) // v2, a fixed 512 KiB window, keepalive on
                .latency(2 * Pair.MS).chunker(Pair.randomChunks(new Random(1), 100_000));
        int a = p.client.open();
        int b = p.client.open();
        p.drive();
        assertEquals(a, p.server.accept());
        assertEquals(b, p.server.accept());

        p.client.autoWrite(a, 0xA, 10L << 20, 1 << 20, true);
        p.client.autoWrite(b, 0xB, 64L << 20, 1 << 20, true);
        // the application reads A once, so the peer learns its real window, and then never again
        Pair.Received gotA = p.server.autoRead(a);
        while (gotA.count == 0) {
            assertTrue(p.step());
        }
        p.server.stopReading(a);
        Pair.Received gotB = p.server.autoVerify(b, 0xB);

        long maxBufferedA = 0;
        while (!gotB.eof) {
            assertTrue(p.step(), "stream B stalled after " + gotB.count + " bytes");
            maxBufferedA = Math.max(maxBufferedA, p.server.app.available(a));
        }
        assertEquals(64L << 20, gotB.count);
        assertEquals(-1, gotB.firstMismatch, "B's bytes arrive in order, unaltered");
        assertEquals(WINDOW, maxBufferedA, "A fills its window exactly, never more");
        assertEquals(gotA.count + WINDOW, p.server.engine.bytesReceived() - gotB.count,
                "A received what it read plus one window: the sender stopped at the window it was granted");
        assertTrue(p.client.app.isWriting(a), "A's writer waits for the window");
        assertTrue(p.server.engine.bufferedBytes() <= WINDOW, "the session holds nothing but A's window");
        assertFalse(p.server.engine.isClosed());

        // when A is read at last, all of it arrives
        Pair.Received restA = p.server.autoVerify(a, 0xA);
        long firstRead = gotA.count;
        restA.count = firstRead; // the pattern continues from where the first read stopped
        p.drive();
        assertTrue(restA.eof);
        assertEquals(10L << 20, restA.count);
        assertEquals(-1, restA.firstMismatch);
        assertArrayEquals(Bytes.stream(0xA, 0, (int) firstRead), gotA.bytes());
    }

    @Test
    void anUnreadStreamDoesNotStopTheOtherDirectionOrNewStreams() throws IOException {
        Pair p = new Pair(SmuxConfig.builder().build()).latency(Pair.MS);
        int a = p.client.open();
        p.client.autoWrite(a, 1, 8L << 20, 1 << 20, false);
        p.drive();
        p.server.accept();
        // A is stuck; the server opens a stream to the client and the client opens another
        int fromServer = p.server.open();
        p.server.autoWrite(fromServer, 2, 4L << 20, 1 << 20, true);
        int c = p.client.open();
        p.client.autoWrite(c, 3, 4L << 20, 1 << 20, true);
        p.drive();
        assertEquals(fromServer, p.client.accept());
        assertEquals(c, p.server.accept());
        Pair.Received down = p.client.autoVerify(fromServer, 2);
        Pair.Received up = p.server.autoVerify(c, 3);
        p.drive();
        assertTrue(down.eof && up.eof);
        assertEquals(4L << 20, down.count);
        assertEquals(4L << 20, up.count);
        assertEquals(-1, down.firstMismatch);
        assertEquals(-1, up.firstMismatch);
        assertEquals(262_144, p.server.app.available(a), "A never read: xtaci's initial window, no more");
    }

    @ParameterizedTest(name = "v{0}")
    @ValueSource(ints = {1, 2})
    void aWithdrawnWriteDeliversExactlyItsCommittedBytesAndARetryCompletesIt(int version) throws IOException {
        SmuxConfig c = SmuxConfig.builder().version(version).keepAliveDisabled().maxFrameSize(16_000).build();
        Pair p = new Pair(c).latency(10 * Pair.MS);
        int id = p.client.open();
        byte[] original = Bytes.stream(77, 0, 1 << 20);
        ByteBuffer src = ByteBuffer.wrap(original.clone());

        // the client's connection writer only drains one 64 KiB staging buffer before the "deadline"
        EngineApp client = p.client.app;
        client.write(id, src);
        ByteBuffer staging = ByteBuffer.allocate(64 * 1024);
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        client.pull(staging, p.now);
        wire.write(staging.array(), 0, staging.position());
        int committed = client.withdraw(id);
        assertEquals(64_000, committed, "four whole 16 000-byte frames fit beside the SYN in 64 KiB");
        assertEquals(committed, src.position(), "the buffer's position is after the committed bytes");
        assertFalse(client.isWriting(id));
        assertFalse(client.engine.wantsTransmit(), "the rest is never sent");

        // the staged bytes are handed to the connection and reach the peer
        EngineApp server = p.server.app;
        server.feed(ByteBuffer.wrap(wire.toByteArray()), p.now);
        assertEquals(id, server.accept());
        assertArrayEquals(Arrays.copyOf(original, committed), Wire.readAvailable(server, id));

        // retrying from the committed offset yields exactly the original stream
        client.write(id, src);
        Pair.Received rest = p.server.autoRead(id);
        p.drive();
        assertArrayEquals(Arrays.copyOfRange(original, committed, original.length), rest.bytes());
        assertEquals(original.length, server.engine.bytesReceived());
    }

    @Test
    void bytesCommittedButStillInFlightArriveAfterTheWithdraw() throws IOException {
        Pair p = new Pair(SmuxConfig.builder().keepAliveDisabled().build()).latency(50 * Pair.MS);
        int id = p.client.open();
        byte[] original = Bytes.stream(5, 0, 2 << 20);
        ByteBuffer src = p.client.write(id, original);
        p.step(); // frames are pulled and put on the wire, 50 ms from the peer
        int committed = p.client.app.withdraw(id);
        assertEquals(262_144, committed, "xtaci's initial window was pulled at once");
        assertEquals(262_144, p.client.inFlight() - 8 - 8 * (262_144 / 32_768), "all of it still on the wire");
        p.drive();
        p.server.accept();
        assertArrayEquals(Arrays.copyOf(original, committed), p.server.read(id));

        p.client.app.write(id, src);
        Pair.Received rest = p.server.autoRead(id);
        p.drive();
        assertArrayEquals(Arrays.copyOfRange(original, committed, original.length), rest.bytes(),
                "the rest, nothing twice");
        assertEquals(original.length, p.server.engine.bytesReceived());
    }

    @Test
    void repeatedTimeoutsAndRetriesNeverDuplicateDropOrReorder() throws IOException {
        // a writer with a deadline per attempt: it withdraws whatever is left and retries from there
        Random random = new Random(2024);
        SmuxConfig c = SmuxConfig.builder().keepAliveDisabled().maxFrameSize(4000).build();
        Pair p = new Pair(c).latency(3 * Pair.MS).chunker(Pair.randomChunks(random, 5000));
        int id = p.client.open();
        p.drive();
        p.server.accept();
        Pair.Received got = p.server.autoVerify(id, 9);
        long offset = 0;
        long total = 3L << 20;
        int attempts = 0;
        while (offset < total) {
            int n = (int) Math.min(total - offset, 1 + random.nextInt(400_000));
            ByteBuffer src = ByteBuffer.wrap(Bytes.stream(9, offset, n));
            p.client.app.write(id, src);
            p.advance(random.nextInt(4) * Pair.MS); // the deadline
            int done = p.client.app.isWriting(id) ? p.client.app.withdraw(id) : n;
            assertEquals(done, src.position());
            offset += done;
            attempts++;
        }
        p.drive();
        assertEquals(total, got.count);
        assertEquals(-1, got.firstMismatch);
        assertTrue(attempts > 10, "the deadlines cut writes short: " + attempts + " attempts");
    }
}
