package smux.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import smux.api.SmuxConfig;
import smux.engine.runtime.EngineApp;

/**
 * Random interleavings of open, write, read, closeWrite, closeStream, withdraw and the passing of
 * time between two engines, through a pipe with latency that re-chunks bytes at random. After
 * every operation, what each side has read of a stream is a prefix of what the other side
 * committed; at the end, once everything is read, it is exactly that: every committed byte
 * arrived once and in order, and no withdrawn byte ever arrived (the withdrawn tail of a buffer is
 * random data that appears nowhere in the committed stream).
 *
 * <p>The tries are seeded random scripts (JUnit parameterized by seed): {@code -Dsmux.property.tries=N}
 * runs more, {@code -Dsmux.property.seed=S} another series. (jqwik, which the engine issue
 * suggested, now tells AI agents not to use it; these tests were written by one, so they honour that.)
 *
 * <p>In version 2 the first stream is never read until the very end: every other stream must
 * still complete (guarantee 1), and the unread one holds at most its window.
 */
class EnginePropertiesTest {

    /** One step of a script. {@code side}: true = the client. {@code stream}: an index into the streams opened so far. */
    sealed interface Op permits Open, Write, Read, CloseWrite, CloseStream, Withdraw, Advance, Step { }

    record Open(boolean side) implements Op { }

    record Write(boolean side, int stream, int length) implements Op { }

    record Read(boolean side, int stream, int max) implements Op { }

    record CloseWrite(boolean side, int stream) implements Op { }

    record CloseStream(boolean side, int stream) implements Op { }

    record Withdraw(boolean side, int stream) implements Op { }

    record Advance(int millis) implements Op { }

    record Step(int count) implements Op { }

    /** Weighted choice of the next operation: open 3, write 10, read 8, closeWrite 2, closeStream 1, withdraw 4, advance 3, step 6. */
    private static final int[] WEIGHTS = {3, 10, 8, 2, 1, 4, 3, 6};

    /** A random script of 1..40 operations, reproducible from its seed. */
    static List<Op> script(Random r) {
        int length = 1 + r.nextInt(40);
        int total = java.util.Arrays.stream(WEIGHTS).sum();
        List<Op> ops = new ArrayList<>();
        for (int i = 0; i < length; i++) {
            int pick = r.nextInt(total);
            int kind = 0;
            while (pick >= WEIGHTS[kind]) {
                pick -= WEIGHTS[kind++];
            }
            boolean side = r.nextBoolean();
            int stream = r.nextInt(8);
            switch (kind) {
                case 0: ops.add(new Open(side)); break;
                // lengths biased towards the small end, up to 300,000
                case 1: ops.add(new Write(side, stream, 1 + (int) (300_000 * Math.pow(r.nextDouble(), 3)))); break;
                case 2: ops.add(new Read(side, stream, 1 + r.nextInt(200_000))); break;
                case 3: ops.add(new CloseWrite(side, stream)); break;
                case 4: ops.add(new CloseStream(side, stream)); break;
                case 5: ops.add(new Withdraw(side, stream)); break;
                case 6: ops.add(new Advance(r.nextInt(15_001))); break;
                default: ops.add(new Step(1 + r.nextInt(20))); break;
            }
        }
        return ops;
    }

    private static final int[] FRAME_SIZES = {700, 4096, 32768, 65535};

    /** Seeds of the tries; a failing one is named in the test's display name, so it can be replayed. */
    static java.util.stream.LongStream seeds(long base, int tries) {
        return java.util.stream.LongStream.range(0, tries).map(i -> base * 1_000_003L + i * 0x9E3779B97F4A7C15L);
    }

    static java.util.stream.LongStream version2Seeds() {
        return seeds(Long.getLong("smux.property.seed", 2L), Integer.getInteger("smux.property.tries", 80));
    }

    static java.util.stream.LongStream version1Seeds() {
        return seeds(Long.getLong("smux.property.seed", 1L), Integer.getInteger("smux.property.tries", 40));
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "seed {0}")
    @org.junit.jupiter.params.provider.MethodSource("version2Seeds")
    void version2DeliversEveryCommittedByteOnceAndAnUnreadStreamBlocksNobody(long trySeed) throws IOException {
        Random r = new Random(trySeed);
        List<Op> script = script(r);
        int frameSize = FRAME_SIZES[r.nextInt(FRAME_SIZES.length)];
        int latencyMs = r.nextInt(21);
        boolean smallWindow = r.nextBoolean();
        SmuxConfig c = SmuxConfig.builder().version(2).maxFrameSize(frameSize)
                .streamWindow(smallWindow ? 16 * 1024 : 512 * 1024)
                .keepAlive(Duration.ofSeconds(10), Duration.ofSeconds(30)).build();
        new Run(c, r.nextLong(), latencyMs, true).play(script);
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "seed {0}")
    @org.junit.jupiter.params.provider.MethodSource("version1Seeds")
    void version1DeliversEveryCommittedByteOnce(long trySeed) throws IOException {
        Random r = new Random(trySeed);
        List<Op> script = script(r);
        int frameSize = FRAME_SIZES[r.nextInt(FRAME_SIZES.length)];
        int latencyMs = r.nextInt(21);
        SmuxConfig c = SmuxConfig.builder().version(1).maxFrameSize(frameSize).maxSessionBuffer(256 * 1024)
                .keepAlive(Duration.ofSeconds(10), Duration.ofSeconds(30)).build();
        new Run(c, r.nextLong(), latencyMs, false).play(script);
    }

    /** One direction of one stream: what the writing side committed and what the reading side read. */
    static final class Flow {
        final ByteArrayOutputStream committed = new ByteArrayOutputStream();
        final ByteArrayOutputStream read = new ByteArrayOutputStream();
        ByteBuffer pending;
        int pendingStart;
        boolean eof;
        /** The reading side forgot the stream: later data is dropped, so only a prefix arrives. */
        boolean readerGone;
        /** The writing side asked for FIN (closeWrite or closeStream). */
        boolean finRequested;
    }

    static final class Run {
        final Pair pair;
        final Random random;
        final boolean keepFirstUnread;
        final List<Integer> ids = new ArrayList<>();
        /** flows.get(id)[0]: client to server; [1]: server to client. */
        final Map<Integer, Flow[]> flows = new LinkedHashMap<>();
        final int window;

        Run(SmuxConfig config, long seed, int latencyMs, boolean keepFirstUnread) {
            this.random = new Random(seed);
            this.pair = new Pair(config).latency(latencyMs * Pair.MS)
                    .chunker(Pair.randomChunks(random, 1 + random.nextInt(70_000)));
            this.keepFirstUnread = keepFirstUnread;
            this.window = Math.max(config.streamWindow(), SmuxConfig.INITIAL_PEER_WINDOW);
        }

        Pair.Side side(boolean client) {
            return client ? pair.client : pair.server;
        }

        /** The flow a side writes on. */
        Flow out(boolean client, int id) {
            return flows.get(id)[client ? 0 : 1];
        }

        Flow in(boolean client, int id) {
            return flows.get(id)[client ? 1 : 0];
        }

        boolean unread(int id) {
            return keepFirstUnread && !ids.isEmpty() && ids.get(0) == id;
        }

        void play(List<Op> script) throws IOException {
            List<Op> all = new ArrayList<>();
            all.add(new Open(true)); // the stream that may be left unread
            all.addAll(script);
            for (Op op : all) {
                apply(op);
                settle();
                checkPrefixes();
            }
            finish();
        }

        /** The id of the {@code index}-th stream, if the side can use it (opened it, or accepted it). */
        Integer usable(boolean client, int index) {
            if (ids.isEmpty()) {
                return null;
            }
            int id = ids.get(index % ids.size());
            return side(client).app.hasStream(id) ? id : null;
        }

        void apply(Op op) throws IOException {
            if (op instanceof Open o) {
                Pair.Side s = side(o.side());
                int id = s.open();
                ids.add(id);
                flows.put(id, new Flow[] {new Flow(), new Flow()});
            } else if (op instanceof Write w) {
                Integer id = usable(w.side(), w.stream());
                EngineApp e = side(w.side()).app;
                if (id == null || e.isWriting(id) || !e.streamState(id).canWrite()) {
                    return;
                }
                byte[] data = new byte[w.length()];
                random.nextBytes(data);
                // the buffer starts at a random offset: a write need not begin at position 0
                int offset = random.nextInt(16);
                ByteBuffer src = ByteBuffer.allocate(offset + data.length);
                src.position(offset);
                src.put(data).position(offset);
                e.write(id, src);
                Flow f = out(w.side(), id);
                f.pending = src;
                f.pendingStart = offset;
            } else if (op instanceof Read r) {
                Integer id = usable(r.side(), r.stream());
                if (id == null || unread(id)) {
                    return;
                }
                readUpTo(r.side(), id, r.max());
            } else if (op instanceof CloseWrite cw) {
                Integer id = usable(cw.side(), cw.stream());
                if (id == null) {
                    return;
                }
                side(cw.side()).app.closeWrite(id);
                out(cw.side(), id).finRequested = true;
            } else if (op instanceof CloseStream cs) {
                Integer id = usable(cs.side(), cs.stream());
                if (id == null || unread(id)) {
                    return;
                }
                Flow f = out(cs.side(), id);
                int committed = side(cs.side()).app.closeStream(id);
                if (committed >= 0) {
                    commit(f, committed);
                }
                f.finRequested = true;
                in(cs.side(), id).readerGone = true;
            } else if (op instanceof Withdraw wd) {
                Integer id = usable(wd.side(), wd.stream());
                if (id == null) {
                    return;
                }
                int committed = side(wd.side()).app.withdraw(id);
                Flow f = out(wd.side(), id);
                if (committed >= 0) {
                    assertEquals(f.pendingStart + committed, f.pending.position(), "position after the committed bytes");
                    commit(f, committed);
                }
            } else if (op instanceof Advance a) {
                pair.advance(a.millis() * Pair.MS);
            } else if (op instanceof Step s) {
                for (int i = 0; i < s.count() && pair.step(); i++) {
                    // one wake-up at a time
                }
            }
        }

        void commit(Flow f, int n) {
            f.committed.write(f.pending.array(), f.pendingStart, n);
            f.pending = null;
        }

        void readUpTo(boolean client, int id, int max) throws IOException {
            Flow f = in(client, id);
            ByteBuffer dst = ByteBuffer.allocate(max);
            int n = side(client).app.read(id, dst);
            if (n > 0) {
                f.read.write(dst.array(), 0, n);
            } else if (n < 0) {
                f.eof = true;
            }
        }

        /** Accepts new streams and books writes that completed. */
        void settle() throws IOException {
            for (boolean client : new boolean[] {true, false}) {
                EngineApp e = side(client).app;
                while (!e.engine.isClosed() && e.accept() != SmuxEngine.NO_STREAM) {
                    // accepted: the id is already known from the opener's side
                }
                for (int id : ids) {
                    Flow f = out(client, id);
                    if (f.pending != null && (!e.hasStream(id) || !e.isWriting(id))) {
                        commit(f, f.pending.position() - f.pendingStart);
                    }
                }
            }
            assertNull(pair.client.closed(), "the client session ended");
            assertNull(pair.server.closed(), "the server session ended");
        }

        /** What was read is always a prefix of what was committed (including the committed part of a pending write). */
        void checkPrefixes() {
            for (int id : ids) {
                for (int dir = 0; dir < 2; dir++) {
                    Flow f = flows.get(id)[dir];
                    byte[] read = f.read.toByteArray();
                    ByteArrayOutputStream sent = new ByteArrayOutputStream();
                    sent.writeBytes(f.committed.toByteArray());
                    if (f.pending != null) {
                        sent.write(f.pending.array(), f.pendingStart, f.pending.position() - f.pendingStart);
                    }
                    byte[] all = sent.toByteArray();
                    assertTrue(read.length <= all.length, "stream " + id + " dir " + dir + ": read more than was committed");
                    assertArrayEquals(Arrays.copyOf(all, read.length), read, "stream " + id + " dir " + dir);
                }
                if (keepFirstUnread && pair.server.app.hasStream(id)) {
                    try {
                        assertTrue(pair.server.app.available(id) <= window, "a stream holds at most its window");
                    } catch (IOException e) {
                        throw new AssertionError(e);
                    }
                }
            }
        }

        /** Reads every stream but the unread one to its end, then that one too, and compares. */
        void finish() throws IOException {
            drain(false);
            for (int id : ids) {
                if (unread(id)) {
                    continue;
                }
                for (int dir = 0; dir < 2; dir++) {
                    assertComplete(id, dir);
                }
            }
            drain(true);
            for (int id : ids) {
                for (int dir = 0; dir < 2; dir++) {
                    assertComplete(id, dir);
                }
            }
        }

        void drain(boolean includingUnread) throws IOException {
            for (int round = 0; round < 100_000; round++) {
                boolean progress = false;
                // every writer finishes (FIN after its data); a stream whose SYN is still on the way gets it later
                for (int id : ids) {
                    for (boolean client : new boolean[] {true, false}) {
                        EngineApp e = side(client).app;
                        if (e.hasStream(id) && !out(client, id).finRequested) {
                            e.closeWrite(id);
                            out(client, id).finRequested = true;
                            progress = true;
                        }
                    }
                }
                for (int id : ids) {
                    if (unread(id) && !includingUnread) {
                        continue;
                    }
                    for (boolean client : new boolean[] {true, false}) {
                        Flow f = in(client, id);
                        if (side(client).app.hasStream(id) && !f.eof) {
                            int before = f.read.size();
                            readUpTo(client, id, 1 << 20);
                            progress |= f.read.size() != before || f.eof;
                        }
                    }
                }
                settle();
                progress |= pair.drive();
                if (!progress) {
                    return;
                }
            }
            throw new AssertionError("streams did not drain");
        }

        void assertComplete(int id, int dir) {
            Flow f = flows.get(id)[dir];
            String where = "stream " + id + (dir == 0 ? " client->server" : " server->client");
            if (f.readerGone) {
                // the reader forgot the stream: its writer got FIN but never more window (smux has no
                // reset), so a write may stay blocked; whatever arrived is still a prefix
                ByteArrayOutputStream sent = new ByteArrayOutputStream();
                sent.writeBytes(f.committed.toByteArray());
                if (f.pending != null) {
                    sent.write(f.pending.array(), f.pendingStart, f.pending.position() - f.pendingStart);
                }
                byte[] read = f.read.toByteArray();
                assertArrayEquals(Arrays.copyOf(sent.toByteArray(), read.length), read, where + " (reader closed it)");
                return;
            }
            assertNull(f.pending, where + ": a write never completed");
            byte[] committed = f.committed.toByteArray();
            byte[] read = f.read.toByteArray();
            assertArrayEquals(committed, read, where);
            assertTrue(f.eof, where + ": FIN after the data");
            assertFalse(read.length > committed.length);
        }
    }
}
