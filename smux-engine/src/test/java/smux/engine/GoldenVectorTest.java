package smux.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import smux.engine.runtime.EngineApp;

/**
 * Golden fixtures: real traffic of Go xtaci/smux 1.5.16 (vectors/xtaci-smux-1.5.16, copied from
 * the shared captures). The script: the client opens stream 3, writes "hello smux"; the server
 * reads 10 bytes and writes "world"; the client reads it and writes 70000 bytes (i mod 251); the
 * server reads them; the client closes (FIN), the server reads to end-of-stream and closes (FIN).
 *
 * <p>Three checks: the codec decodes each capture into exactly the frames of its listing; an
 * engine acting out one side of the script against the other side's captured bytes (fed in any
 * split) sees the script's events and data and transmits exactly the captured bytes of its own
 * side; and two Java engines running the script through a {@link Pair} transmit exactly what the
 * two Go sessions did.
 */
class GoldenVectorTest {
    private static final byte[] HELLO = Bytes.ascii("hello smux");
    private static final byte[] WORLD = Bytes.ascii("world");
    private static final byte[] BULK = Bytes.mod251(70_000);
    private static final long T = 42 * Pair.SEC;

    static byte[] resource(String name) {
        try (InputStream in = GoldenVectorTest.class.getResourceAsStream("/vectors/xtaci-smux-1.5.16/" + name)) {
            assertNotNull(in, name);
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One line of a .txt listing: {@code key=value} fields. */
    static List<Map<String, String>> listing(String name) {
        List<Map<String, String>> out = new ArrayList<>();
        for (String line : new String(resource(name), StandardCharsets.US_ASCII).split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            Map<String, String> fields = new HashMap<>();
            for (String kv : line.trim().split(" +")) {
                int eq = kv.indexOf('=');
                fields.put(kv.substring(0, eq), kv.substring(eq + 1));
            }
            out.add(fields);
        }
        return out;
    }

    private static byte[] payloadOf(Frame f) {
        if (f instanceof Frame.Psh p) {
            return p.data();
        }
        if (f instanceof Frame.Upd u) {
            return FrameFactory.u32pair(u.consumed(), u.window());
        }
        return new byte[0];
    }

    /** Asserts that {@code bytes} are exactly the frames the listing {@code name} lists. */
    static void assertMatchesListing(String name, int version, byte[] bytes) {
        List<Frame> frames = FrameRecorder.decode(version, bytes);
        List<Map<String, String>> listed = listing(name);
        assertEquals(listed.size(), frames.size(), name + ": frame count; got " + frames);
        int offset = 0;
        for (int i = 0; i < frames.size(); i++) {
            Frame f = frames.get(i);
            Map<String, String> l = listed.get(i);
            String where = name + " frame " + i;
            byte[] encoded = f.toBytes(version);
            assertEquals(l.get("header"), HexFormat.of().formatHex(bytes, offset, offset + 8), where + " header bytes");
            assertEquals(Integer.parseInt(l.get("ver")), version, where);
            assertEquals(l.get("cmd"), Command.name(f.command()), where);
            assertEquals(Integer.parseInt(l.get("len")), f.length(), where);
            assertEquals(Integer.parseInt(l.get("sid")), f.streamId(), where);
            byte[] payload = payloadOf(f);
            if (l.containsKey("payload")) {
                assertEquals(l.get("payload"), HexFormat.of().formatHex(payload), where + " payload");
            }
            if (l.containsKey("payload_sha256")) {
                assertEquals(l.get("payload_sha256"), Bytes.sha256(payload), where + " payload hash");
            }
            if (f instanceof Frame.Upd u) {
                assertEquals(Long.parseLong(l.get("consumed")), Integer.toUnsignedLong(u.consumed()), where);
                assertEquals(Long.parseLong(l.get("window")), Integer.toUnsignedLong(u.window()), where);
            }
            assertArrayEquals(Arrays.copyOfRange(bytes, offset, offset + encoded.length), encoded, where + " re-encoded");
            offset += encoded.length;
        }
        assertEquals(bytes.length, offset);
    }

    @ParameterizedTest(name = "v{0} {1}")
    @CsvSource({"1, client-to-server", "1, server-to-client", "2, client-to-server", "2, server-to-client"})
    void codecDecodesEachCaptureIntoItsListing(int version, String direction) {
        String base = "v" + version + "." + direction;
        assertMatchesListing(base + ".txt", version, resource(base + ".bin"));
    }

    // ---------------------------------------------------------------- one engine against a capture

    /** How a test feeds captured bytes: whole, one byte at a time, or in random pieces. */
    enum Split { WHOLE, BYTEWISE, RANDOM }

    private static void feed(EngineApp e, byte[] all, int from, int to, Split split, Random random) {
        byte[] part = Arrays.copyOfRange(all, from, to);
        switch (split) {
            case WHOLE -> assertEquals(0, Wire.feed(e, part, T));
            case BYTEWISE -> Wire.feedBytewise(e, part, T);
            case RANDOM -> {
                for (int off = 0; off < part.length; ) {
                    int n = 1 + random.nextInt(Math.min(part.length - off, 9000));
                    ByteBuffer b = ByteBuffer.wrap(part, off, n);
                    e.feed(b, T);
                    assertFalse(b.hasRemaining());
                    off += n;
                }
            }
        }
    }

    /** Offsets of frame ends in a capture. */
    private static int[] frameEnds(byte[] bin) {
        List<Integer> ends = new ArrayList<>();
        int off = 0;
        while (off < bin.length) {
            int len = (bin[off + 2] & 0xFF) | (bin[off + 3] & 0xFF) << 8;
            off += 8 + len;
            ends.add(off);
        }
        return ends.stream().mapToInt(Integer::intValue).toArray();
    }

    private static byte[] readExactly(EngineApp e, int id, int n) throws IOException {
        ByteBuffer dst = ByteBuffer.allocate(n);
        int got = e.read(id, dst);
        assertEquals(n, got, "bytes read");
        return dst.array();
    }

    @ParameterizedTest(name = "v{0} {1}")
    @CsvSource({"1, WHOLE", "1, BYTEWISE", "1, RANDOM", "2, WHOLE", "2, BYTEWISE", "2, RANDOM"})
    void serverEngineFedTheGoClientsBytesActsOutTheScript(int version, Split split) throws IOException {
        byte[] in = resource("v" + version + ".client-to-server.bin");
        int[] ends = frameEnds(in);
        Random random = new Random(version * 31L + split.ordinal());
        EngineApp server = new EngineApp(false, Wire.goldenConfig(version), T);
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        // SYN 3 and "hello smux"
        feed(server, in, 0, ends[1], split, random);
        assertEquals(List.of(new EngineEvent.StreamOpened(3)), Wire.events(server));
        assertEquals(3, server.accept());
        assertEquals(10, server.available(3), "the data arrived with the SYN, before the accept");
        assertArrayEquals(HELLO, readExactly(server, 3, 10));
        server.write(3, ByteBuffer.wrap(WORLD));
        out.writeBytes(Wire.pull(server, T));

        // v2: the client's UPD{5} and two full frames (it is then blocked on our window); v1: two frames
        int bulkStart = version == 2 ? 3 : 2;
        feed(server, in, ends[1], ends[bulkStart + 1], split, random);
        ByteArrayOutputStream bulk = new ByteArrayOutputStream();
        bulk.writeBytes(readExactly(server, 3, 32768));
        out.writeBytes(Wire.pull(server, T));
        bulk.writeBytes(readExactly(server, 3, 32768));
        out.writeBytes(Wire.pull(server, T));

        // the last 4464 bytes and FIN
        feed(server, in, ends[bulkStart + 1], in.length, split, random);
        bulk.writeBytes(Wire.readAvailable(server, 3));
        assertArrayEquals(BULK, bulk.toByteArray());
        assertEquals(-1, server.read(3, ByteBuffer.allocate(1)), "end of stream after the data");
        assertEquals(StreamState.REMOTE_CLOSED, server.streamState(3));
        server.closeStream(3);
        out.writeBytes(Wire.pull(server, T));

        assertArrayEquals(resource("v" + version + ".server-to-client.bin"), out.toByteArray(),
                "the Java server transmits what the Go server did");
        assertFalse(server.engine.isClosed());
        assertEquals(0, server.engine.bufferedBytes());
        assertEquals(70_010, server.engine.bytesReceived());
    }

    @ParameterizedTest(name = "v{0} {1}")
    @CsvSource({"1, WHOLE", "1, BYTEWISE", "1, RANDOM", "2, WHOLE", "2, BYTEWISE", "2, RANDOM"})
    void clientEngineFedTheGoServersBytesActsOutTheScript(int version, Split split) throws IOException {
        byte[] in = resource("v" + version + ".server-to-client.bin");
        int[] ends = frameEnds(in);
        Random random = new Random(version * 17L + split.ordinal());
        EngineApp client = new EngineApp(true, Wire.goldenConfig(version), T);
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        int id = client.open(T);
        assertEquals(3, id, "xtaci increments before use: the first client stream is 3");
        client.write(id, ByteBuffer.wrap(HELLO));
        out.writeBytes(Wire.pull(client, T));

        // v2: UPD{10} then "world"; v1: "world"
        int world = version == 2 ? 1 : 0;
        feed(client, in, 0, ends[world], split, random);
        assertEquals(List.of(), Wire.events(client));
        assertFalse(client.isWriting(id), "the write was pulled in full");
        assertEquals(5, client.available(3));
        assertArrayEquals(WORLD, readExactly(client, 3, 5));
        ByteBuffer bulk = ByteBuffer.wrap(BULK.clone());
        client.write(id, bulk);
        out.writeBytes(Wire.pull(client, T));
        if (version == 2) {
            assertEquals(65_536, bulk.position(), "the server's UPD granted 65536: two frames, then blocked");
            assertTrue(client.isWriting(id));
            feed(client, in, ends[world], ends[world + 1], split, random); // UPD{32778}
            out.writeBytes(Wire.pull(client, T));
        }
        assertFalse(client.isWriting(id));
        assertFalse(bulk.hasRemaining());
        client.closeWrite(id);
        out.writeBytes(Wire.pull(client, T));

        feed(client, in, version == 2 ? ends[world + 1] : ends[world], in.length, split, random);
        assertEquals(-1, client.read(id, ByteBuffer.allocate(1)));
        assertEquals(StreamState.CLOSED, client.streamState(id));
        client.closeStream(id);
        out.writeBytes(Wire.pull(client, T));

        assertArrayEquals(resource("v" + version + ".client-to-server.bin"), out.toByteArray(),
                "the Java client transmits what the Go client did");
        assertFalse(client.engine.isClosed());
    }

    // ---------------------------------------------------------------- two Java engines

    @ParameterizedTest(name = "v{0}")
    @ValueSource(ints = {1, 2})
    void twoJavaEnginesRunningTheScriptTransmitWhatGoDid(int version) throws IOException {
        runScript(version, new Pair(Wire.goldenConfig(version)));
    }

    @ParameterizedTest(name = "v{0}")
    @ValueSource(ints = {1, 2})
    void theScriptsFramesDoNotDependOnLatencyOrHowThePipeSplitsBytes(int version) throws IOException {
        Pair p = new Pair(Wire.goldenConfig(version)).latency(3 * Pair.MS)
                .chunker(Pair.randomChunks(new Random(version), 700));
        runScript(version, p);
    }

    private static void runScript(int version, Pair p) throws IOException {
        p.client.record();
        p.server.record();
        int id = p.client.open();
        p.client.write(id, HELLO);
        p.drive();

        assertEquals(List.of(new EngineEvent.StreamOpened(3)), p.server.events());
        assertEquals(3, p.server.accept());
        assertEquals(10, p.server.app.available(3));
        assertArrayEquals(HELLO, readExactly(p.server.app, 3, 10));
        p.server.write(3, WORLD);
        p.drive();

        assertArrayEquals(WORLD, readExactly(p.client.app, id, 5));
        ByteBuffer bulk = p.client.write(id, BULK);
        p.drive();

        // the Go server read the bulk data in frame-sized pieces; so do we, a round trip apart
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        got.writeBytes(readExactly(p.server.app, 3, 32768));
        p.drive();
        got.writeBytes(readExactly(p.server.app, 3, 32768));
        p.drive();
        assertFalse(p.client.app.isWriting(id));
        assertFalse(bulk.hasRemaining());
        p.client.app.closeWrite(id);
        p.drive();

        got.writeBytes(Wire.readAvailable(p.server.app, 3));
        assertArrayEquals(BULK, got.toByteArray());
        assertNull(p.server.read(3), "end of stream");
        p.server.app.closeStream(3);
        p.drive();
        assertNull(p.client.read(id), "end of stream");

        assertMatchesListing("v" + version + ".client-to-server.txt", version, p.client.transcriptBytes());
        assertMatchesListing("v" + version + ".server-to-client.txt", version, p.server.transcriptBytes());
        assertArrayEquals(resource("v" + version + ".client-to-server.bin"), p.client.transcriptBytes());
        assertArrayEquals(resource("v" + version + ".server-to-client.bin"), p.server.transcriptBytes());
        assertNull(p.client.closed());
        assertNull(p.server.closed());
    }
}
