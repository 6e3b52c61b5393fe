package smux.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import smux.engine.runtime.SegmentPool;

/**
 * The open-addressing table of streams against a HashMap: random puts, removes and lookups,
 * over few distinct ids so that probe runs collide, wrap around the array, and resize.
 */
class StreamTableTest {

    private static final int[] EXTREMES = {Integer.MAX_VALUE, -1, -2, Integer.MIN_VALUE + 1, 0x10000, 0x20000};

    /** Up to 300 operations: positive, put that id; negative, remove -id; ids from a small pool plus extremes. */
    static List<Integer> operations(java.util.Random r) {
        List<Integer> ops = new ArrayList<>();
        int n = r.nextInt(301);
        for (int i = 0; i < n; i++) {
            int id = r.nextBoolean() ? 1 + r.nextInt(64) : EXTREMES[r.nextInt(EXTREMES.length)];
            ops.add(r.nextBoolean() || id == Integer.MIN_VALUE ? id : -id);
        }
        return ops;
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "seed {0}")
    @org.junit.jupiter.params.provider.MethodSource("seeds")
    void behavesLikeAMap(long seed) {
        List<Integer> ops = operations(new java.util.Random(seed));

        StreamTable table = new StreamTable();
        Map<Integer, EngineStream> model = new HashMap<>();
        Set<Integer> seen = new HashSet<>();
        for (int op : ops) {
            boolean remove = op < 0 && op != -1 && op != -2 && op != Integer.MIN_VALUE + 1;
            int id = remove ? -op : op;
            seen.add(id);
            if (remove) {
                table.remove(id);
                model.remove(id);
            } else {
                EngineStream s = stream(id);
                table.put(s);
                model.put(id, s);
            }
            assertEquals(model.size(), table.size());
            for (int k : seen) {
                assertSame(model.get(k), table.get(k), "id " + k);
            }
        }
        List<EngineStream> visited = new ArrayList<>();
        table.forEach(visited::add);
        assertEquals(new HashSet<>(model.values()), new HashSet<>(visited));
        assertEquals(model.size(), visited.size());
    }

    /** A stream for the table alone: no sides to speak of, no rules. */
    private static EngineStream stream(int id) {
        StreamSides none = new StreamSides() {
            @Override
            public Inbound inbound() {
                return null;
            }

            @Override
            public Outbound outbound() {
                return null;
            }
        };
        return new EngineStream(id, true, 65536, none, null);
    }

    static java.util.stream.LongStream seeds() {
        return java.util.stream.LongStream.range(0, 150).map(i -> i * 0x9E3779B97F4A7C15L + 17);
    }

    @Test
    void survivesRemovalDuringIteration() {
        StreamTable table = new StreamTable();
        for (int id = 3; id < 3 + 2 * 100; id += 2) {
            table.put(stream(id));
        }
        table.forEach(s -> table.remove(s.id)); // what session close does
        assertEquals(0, table.size());
        assertNull(table.get(3));
    }

    @Test
    void manyStreamsOpenedAndClosedLeaveNothingBehind() throws Exception {
        Pair p = new Pair(Wire.quiet(2));
        for (int round = 0; round < 50; round++) {
            List<Integer> ids = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                int id = p.client.open();
                ids.add(id);
                p.client.write(id, Bytes.stream(id, 0, 1000));
                p.client.app.closeWrite(id);
            }
            p.drive();
            for (int id : ids) {
                assertEquals(id, p.server.accept());
                assertEquals(1000, p.server.read(id).length);
                assertNull(p.server.read(id));
                p.server.app.closeStream(id);
                p.client.app.closeStream(id);
            }
            p.drive();
        }
        assertEquals(0, p.client.engine.streamCount());
        assertEquals(0, p.server.engine.streamCount());
        assertEquals(0, p.server.engine.bufferedBytes());
        assertEquals(2000, p.server.engine.streamsAccepted());
        // 40 streams buffer at once: 40 segments in the first round, recycled in the 49 after it
        assertEquals(40, p.server.app.pool().allocated());
    }

    @Test
    void aSteadyTransferAllocatesNoNewSegments() throws Exception {
        Pair p = new Pair(Wire.quiet(2)).latency(Pair.MS);
        int id = p.client.open();
        p.client.autoWrite(id, 3, 32L << 20, 1 << 20, true);
        p.drive();
        p.server.accept();
        Pair.Received got = p.server.autoVerify(id, 3);
        while (got.count < 4L << 20) {
            p.step();
        }
        long warm = p.server.app.pool().allocated();
        p.drive();
        assertEquals(32L << 20, got.count);
        assertEquals(-1, got.firstMismatch);
        assertEquals(warm, p.server.app.pool().allocated(), "28 MiB more through recycled segments only");
        assertTrue(warm <= 512 * 1024 / SegmentPool.SEGMENT_SIZE + 1, "at most a window's worth: " + warm);
    }
}
