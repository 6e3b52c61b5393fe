package smux.engine.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import smux.api.LimitExceededException;
import smux.api.ProtocolException;
import smux.api.SessionClosedException;
import smux.api.SmuxConfig;
import smux.api.StreamClosedException;
import smux.engine.Command;

/**
 * The application and connection driver on one side, for the fuzz targets: it performs the
 * operations a fuzzer picks, tells an exception the API documents for the situation from one it
 * does not (the latter fails the run), and remembers per stream what was committed, what went
 * on the wire and what was read, so that the targets can check them.
 *
 * <p>Written data is a pattern unique to each write: a withdrawn byte that reached the wire or the
 * peer would not match the bytes written after it.
 */
final class FuzzApp {
    /** What the application knows of one stream. */
    static final class Flow {
        final int id;
        /** Committed bytes, in order (what the peer must read). */
        final Growable committed = new Growable();
        /** What the application read. */
        final Growable read = new Growable();
        private byte[] pending;
        private int pendingOffset;
        int writes;
        long onWire;
        boolean synOnWire;
        boolean finOnWire;
        boolean finRequested;
        boolean endOfStream;

        Flow(int id) {
            this.id = id;
        }

        /** @return whether a write's bytes may still be pulled */
        boolean writing() {
            return pending != null;
        }
    }

    final String name;
    final FuzzEngine engine;
    private final Map<Integer, Flow> flows = new LinkedHashMap<>();
    /** Streams in the order the application learnt of them (opened or told of). */
    private final List<Integer> ids = new ArrayList<>();
    private final List<Integer> acceptable = new ArrayList<>();
    /** Ids the peer opened more than once: smux has no reset, so their FIN frames are ambiguous. */
    private final Set<Integer> reusedIds = new HashSet<>();
    /** PSH payload bytes seen in everything transmitted. */
    private long wireDataBytes;

    FuzzApp(String name, FuzzEngine engine) {
        this.name = name;
        this.engine = engine;
    }

    List<Integer> ids() {
        return ids;
    }

    Flow flow(int id) {
        return flows.get(id);
    }

    /**
     * The peer sent SYN for an id it had opened before (only a misbehaving peer does). A FIN this
     * side sends for that id may then belong to the earlier stream or refuse the earlier SYN, so
     * the output check leaves the id's FIN frames alone.
     */
    void peerReusedId(int id) {
        reusedIds.add(id);
    }

    /** @return the {@code index}-th stream the application may use (opened or accepted, not closed), or 0 */
    int usable(int index) {
        if (ids.isEmpty()) {
            return 0;
        }
        int id = ids.get(Math.floorMod(index, ids.size()));
        return isUsable(id) ? id : 0;
    }

    /** @return whether the application may use the stream: it opened or accepted it and did not close it */
    boolean isUsable(int id) {
        return engine.hasStream(id) && !acceptable.contains(id);
    }

    // ---------------------------------------------------------------- operations

    /** An operation on one stream. */
    interface StreamOp {
        void apply(int id) throws IOException;
    }

    /** Applies {@code op} to the {@code index}-th usable stream, if there is one. */
    void onStream(int index, StreamOp op) throws IOException {
        int id = usable(index);
        if (id != 0) {
            op.apply(id);
        }
    }

    /** Opens a stream. @return its id, or 0 if a documented limit or the closed session refused it */
    int open() throws IOException {
        try {
            int id = engine.open();
            assertTrue(engine.isClient() == ((id & 1) == 1) && id != 0, name + " opened id " + id + " of the wrong side");
            assertFalse(flows.containsKey(id), name + " reused stream id " + id);
            learn(id);
            return id;
        } catch (SessionClosedException e) {
            assertTrue(engine.isClosed(), name + ": SessionClosedException from open on an open session");
        } catch (LimitExceededException e) {
            assertFalse(engine.isClosed(), name + ": LimitExceededException instead of SessionClosedException");
            assertTrue(atStreamCap(), name + " refused a stream below its caps: " + e.getMessage());
        }
        return 0;
    }

    private boolean atStreamCap() {
        long streams = engine.streamCount();
        // tuned windows may hold more than their first reservation: what the session holds now counts;
        // with a credit half (room for two reservations), a stream needs only a frame's room on credit
        long first = engine.firstReservation();
        long max = engine.config().maxSessionBuffer();
        return streams >= engine.config().maxStreams()
                || engine.config().version() == 2
                    && engine.reservedBytes() + (max >= 2 * first ? SmuxConfig.MAX_FRAME_SIZE : first) > max;
    }

    /** Accepts the oldest stream the peer opened. @return its id, or 0 */
    int accept() throws IOException {
        try {
            int id = engine.accept();
            while (id != 0 && acceptable.get(0) != id && engine.resetOf(acceptable.get(0)) != null) {
                acceptable.remove(0); // shed while it waited in the backlog
            }
            if (id != 0) {
                assertEquals(acceptable.get(0), id, name + " accepted streams out of order");
                acceptable.remove(0);
            }
            return id;
        } catch (SessionClosedException e) {
            assertTrue(engine.isClosed() && engine.backlogSize() == 0, name + ": accept threw with streams waiting");
            return 0;
        }
    }

    /** Starts a write of {@code length} pattern bytes on a usable stream with no write in progress. */
    void write(int id, int length) throws IOException {
        Flow f = flows.get(id);
        if (f.writing()) {
            return;
        }
        int offset = f.writes % 7; // the buffer's position need not be 0
        byte[] data = pattern(id, f.writes++, offset + length);
        try {
            engine.write(id, data, offset);
            if (length > 0) {
                f.pending = data;
                f.pendingOffset = offset;
            }
        } catch (SessionClosedException e) {
            assertTrue(engine.isClosed(), name + ": SessionClosedException from write on an open session");
        } catch (StreamClosedException e) {
            assertTrue(!engine.state(id).canWrite() || engine.resetOf(id) != null, name + ": write refused on writable stream " + id);
        }
    }

    /** Reads up to {@code max} bytes of a usable stream into its record. */
    void read(int id, int max) throws IOException {
        Flow f = flows.get(id);
        try {
            byte[] got = engine.read(id, max);
            if (got == null) {
                f.endOfStream = true;
            } else if (got.length == 0) {
                assertEquals(0, engine.available(id), name + " read nothing of " + id + " with bytes buffered");
                assertTrue(engine.state(id).peerMayWrite(), name + " read 0 instead of end-of-stream on " + id);
            } else {
                assertFalse(f.endOfStream && got.length > 0, name + " read data after end-of-stream on " + id);
                f.read.write(got, 0, got.length);
            }
        } catch (SessionClosedException e) {
            assertTrue(engine.isClosed(), name + ": SessionClosedException from read on an open session");
        } catch (StreamClosedException e) {
            assertTrue(engine.resetOf(id) != null, name + ": StreamClosedException from read on " + id + " that was not reset: " + e);
        }
    }

    void closeWrite(int id) throws IOException {
        try {
            engine.closeWrite(id);
            flows.get(id).finRequested = true;
        } catch (SessionClosedException e) {
            assertTrue(engine.isClosed(), name + ": SessionClosedException from closeWrite on an open session");
        }
    }

    void closeStream(int id) {
        Flow f = flows.get(id);
        int committed = engine.closeStream(id);
        assertEquals(f.writing() ? engine.committed(id) : -1, committed, name + ": committed bytes of a closed write");
        f.finRequested = true;
        settle(f);
    }

    void withdraw(int id) throws IOException {
        Flow f = flows.get(id);
        int committed = engine.withdraw(id);
        assertEquals(f.writing() ? engine.committed(id) : -1, committed, name + ": committed bytes of a withdrawn write");
        settle(f);
    }

    /** Pings the peer if it proved to be this library and no ping is out. */
    void ping(int v1, int v2) throws IOException {
        if (engine.isClosed() || !engine.peerVerified() || engine.verifying()) {
            return;
        }
        engine.ping(v1, v2);
    }

    void closeSession() {
        boolean wasOpen = !engine.isClosed();
        engine.close();
        for (Flow f : flows.values()) {
            f.finRequested |= wasOpen; // a failed session sends nothing more, FIN included
        }
    }

    /** Pulls what the engine sends now and checks it. @return the bytes for the connection */
    byte[] transmit(int room) {
        byte[] out = engine.transmit(room);
        assertWellFormedOutput(out);
        return out;
    }

    /** Takes the engine's events and books writes that ended; call after every operation. */
    void afterStep() {
        for (int id : engine.pollEvents()) {
            if (flows.containsKey(id)) {
                // the peer opened an id again after this side closed it: a new stream
                flows.put(id, new Flow(id));
                peerReusedId(id);
            }
            learn(id);
            acceptable.add(id);
        }
        for (Flow f : flows.values()) {
            settle(f);
        }
    }

    private void learn(int id) {
        if (!flows.containsKey(id)) {
            flows.put(id, new Flow(id));
            ids.add(id);
        }
    }

    /** A write that ended (pulled whole, withdrawn, or its stream or session closed) joins the committed bytes. */
    private void settle(Flow f) {
        if (f.pending == null) {
            return;
        }
        if (!engine.writing(f.id)) {
            f.committed.write(f.pending, f.pendingOffset, engine.committed(f.id));
            f.pending = null;
        }
    }

    private static byte[] pattern(int id, int write, int n) {
        byte[] b = new byte[n];
        long x = (id * 0x9E3779B97F4A7C15L) ^ (write + 1) * 0xC2B2AE3D27D4EB4FL;
        for (int i = 0; i < n; i++) {
            x = x * 6364136223846793005L + 1442695040888963407L;
            b[i] = (byte) (x >>> 56);
        }
        return b;
    }

    /** @return committed bytes of the stream so far: those of ended writes and those pulled of the current one */
    long committedLength(Flow f) {
        return f.committed.size() + (f.pending == null ? 0 : engine.committed(f.id));
    }

    /** @return the {@code index}-th committed byte of a stream */
    byte committedByte(Flow f, long index) {
        if (index < f.committed.size()) {
            return f.committed.at(index);
        }
        return f.pending[f.pendingOffset + (int) (index - f.committed.size())];
    }

    // ---------------------------------------------------------------- checks

    /** The engine's count of data bytes sent is what went on the wire. */
    void assertSentFigures() {
        assertEquals(wireDataBytes, engine.bytesSent(), name + ": bytesSent differs from the PSH payload transmitted");
    }

    /** The application's record of each stream agrees with the engine's state of it. */
    void assertStreamStates() throws IOException {
        for (Flow f : flows.values()) {
            EngineInvariants.assertStreamState(engine, f.id, f.finRequested, f.endOfStream);
        }
    }

    /**
     * What the engine transmits is whole, valid frames of its version, and per stream: SYN once,
     * first, for a stream this side opened; then exactly the committed bytes, in order, no more
     * (a withdrawn byte never leaves) in PSH frames of 1..maxFrameSize bytes; FIN once, last, only
     * if the application asked for it (or to refuse a stream the peer opened), after every
     * committed byte.
     */
    void assertWellFormedOutput(byte[] out) {
        List<Flow> fins = new ArrayList<>();
        FuzzEngine.Decoder d = new FuzzEngine.Decoder(engine.config().version(), new FuzzEngine.FrameListener() {
            private Flow data;

            @Override
            public boolean ready() {
                return true;
            }

            @Override
            public void header(int cmd, int id, int length) {
                Flow f = flows.get(id);
                switch (cmd) {
                    case Command.SYN:
                        assertTrue(f != null && !f.synOnWire && f.onWire == 0 && !f.finOnWire && isOwn(id),
                                name + " sent SYN " + id + " out of turn");
                        f.synOnWire = true;
                        break;
                    case Command.FIN:
                        if (f == null) {
                            assertFalse(isOwn(id), name + " sent FIN for its own stream " + id + " it never opened");
                            break; // a refusal of a stream the peer opened
                        }
                        if (reusedIds.contains(id)) {
                            break; // it may close an earlier stream of this id, or refuse an earlier SYN
                        }
                        assertFalse(f.finOnWire, name + " sent FIN twice on " + id);
                        assertTrue(f.finRequested || engine.resetOf(id) != null, name + " sent FIN on " + id + " that nobody asked for");
                        f.finOnWire = true;
                        fins.add(f);
                        break;
                    case Command.PSH:
                        assertNotNull(f, name + " sent data for stream " + id + " it does not know");
                        assertTrue(length >= 1 && length <= engine.config().maxFrameSize(), name + " sent PSH of " + length);
                        assertFalse(f.finOnWire, name + " sent data after FIN on " + id);
                        assertTrue(!isOwn(id) || f.synOnWire, name + " sent data before SYN on " + id);
                        data = f;
                        break;
                    default:
                        assertEquals(Command.NOP, cmd);
                        assertEquals(0, id, name + " sent NOP on a stream");
                }
            }

            @Override
            public void data(byte[] bytes, int off, int n) {
                wireDataBytes += n;
                for (int i = 0; i < n; i++) {
                    long at = data.onWire++;
                    assertTrue(at < committedLength(data), name + " sent more than was committed on " + data.id);
                    if (bytes[off + i] != committedByte(data, at)) {
                        fail(name + " sent byte " + at + " of stream " + data.id + " that was not the committed one");
                    }
                }
            }

            @Override
            public void pair(int cmd, int id, int first, int second) {
                if (cmd == Command.VRM) {
                    assertEquals(0, id, name + " sent VRM on a stream");
                }
            }
        });
        try {
            assertEquals(out.length, d.feed(out, 0, out.length));
        } catch (ProtocolException e) {
            throw new AssertionError(name + " transmitted a malformed frame", e);
        }
        assertTrue(d.atFrameBoundary(), name + " transmitted part of a frame");
        for (Flow f : fins) {
            assertEquals(committedLength(f), f.onWire, name + " sent FIN on " + f.id + " before all its committed bytes");
            assertFalse(f.pending != null && engine.writing(f.id), name + " sent FIN on " + f.id + " while a write is pending");
        }
    }

    private boolean isOwn(int id) {
        return ((id & 1) == 1) == engine.isClient();
    }

    /** A byte array that grows, with random access. */
    static final class Growable {
        private byte[] buf = new byte[64];
        private int size;

        void write(byte[] b, int off, int n) {
            if (size + n > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + n));
            }
            System.arraycopy(b, off, buf, size, n);
            size += n;
        }

        int size() {
            return size;
        }

        byte at(long i) {
            return buf[(int) i];
        }
    }
}
