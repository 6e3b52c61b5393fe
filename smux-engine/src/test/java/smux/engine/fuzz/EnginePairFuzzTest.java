package smux.engine.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Timeout;
import smux.api.MemoryBudget;
import smux.api.SmuxConfig;
import smux.engine.CloseReason;

/**
 * Fuzz target: two engines joined by a connection whose delivery the fuzzer schedules (what each
 * side transmits, with which staging room, and how many of the bytes in flight arrive when),
 * interleaved with application operations on both sides: open, accept, write, read, closeWrite,
 * close, withdraw (what a write timeout does), session close.
 *
 * <p>Checked after every step: what a side read of a stream is a prefix of what the other side
 * committed on it (so no withdrawn byte ever arrives, nothing twice, nothing out of order), both
 * engines keep the invariants of {@link EngineInvariants}, and neither session fails. At the end
 * every stream is finished and the connection drained: every committed byte has arrived exactly
 * once, followed by end-of-stream, unless the reader closed the stream, refused it, or closed its
 * session. In version 2 one stream (the client's first) is not read by the server until all the
 * others are complete: they must complete without it (an unread stream never stops another), and
 * it holds at most its window.
 */
class EnginePairFuzzTest {
    private static final int MAX_STEPS = 300;

    @FuzzTest
    @Timeout(20)
    void everyCommittedByteArrivesOnceInOrderAndAnUnreadStreamStopsNoOther(FuzzedDataProvider data)
            throws IOException {
        FuzzRuns.count(EnginePairFuzzTest.class);
        int version = data.consumeBoolean() ? 2 : 1;
        long start = data.consumeLong();
        Side client = new Side(new FuzzApp("client", new FuzzEngine(true, config(data, version), start)));
        Side server = new Side(new FuzzApp("server", new FuzzEngine(false, config(data, version), start)));
        client.peer = server;
        server.peer = client;
        int unread = version == 2 ? client.app.open() : 0;
        server.unread = unread;
        for (int step = 0; step < MAX_STEPS && data.remainingBytes() > 0; step++) {
            Side side = data.consumeBoolean() ? client : server;
            step(data, side);
            afterStep(client, server);
        }
        finish(client, server, unread);
    }

    @AfterAll
    static void fuzzedFreshInputs() {
        FuzzRuns.assertFuzzedIfAsked(EnginePairFuzzTest.class);
    }

    /** Each side's own settings, small enough that windows, caps and frame sizes all come into play. */
    static SmuxConfig config(FuzzedDataProvider data, int version) {
        int window = data.pickValue(new int[] {1024, 5000, 65_536, 262_144, 600_000});
        SmuxConfig.Builder b = SmuxConfig.builder().version(version).keepAliveDisabled()
                .maxFrameSize(data.pickValue(new int[] {1, 777, 16_384, 65_535}))
                .maxStreams(data.consumeInt(1, 6))
                .acceptBacklog(data.consumeInt(1, 4));
        if (data.consumeBoolean()) {
            b.streamWindow(window);
        } else {
            b.streamWindowTuned(window, Math.min(1 << 30, window * data.pickValue(new int[] {1, 2, 16})));
        }
        long reservation = Math.max(window, SmuxConfig.INITIAL_PEER_WINDOW);
        long sessionBuffer = version == 2 ? reservation * data.consumeInt(1, 4) : data.consumeInt(64 * 1024, 512 * 1024);
        // a budget of its own, so roomy that only maxSessionBuffer binds (the process-wide one would
        // fill up with the engines of earlier inputs, which are dropped without being closed)
        b.maxSessionBuffer(sessionBuffer).memoryBudget(MemoryBudget.of(4 * sessionBuffer + (1 << 20)));
        return b.build();
    }

    /** One operation on one side, chosen by the fuzzer. */
    static void step(FuzzedDataProvider data, Side side) throws IOException {
        FuzzApp app = side.app;
        int index = data.consumeInt(0, 7);
        switch (data.consumeInt(0, 12)) {
            case 0: app.open(); break;
            case 1: app.accept(); break;
            case 2: case 3: app.onStream(index, id -> app.write(id, writeSize(data, app))); break;
            case 4: app.onStream(index, id -> side.read(id, data.consumeInt(1, 200_000))); break;
            case 5: app.onStream(index, app::closeWrite); break;
            case 6: app.onStream(index, id -> side.closeStream(id)); break;
            case 7: app.onStream(index, app::withdraw); break;
            case 8: side.transmit(data.consumeInt(0, 200_000)); break;
            case 9: side.peer.deliver(data.consumeInt(1, 300_000)); break;
            case 10: side.transmitAll(); side.peer.deliver(Integer.MAX_VALUE); break;
            case 11: side.peer.deliver(data.consumeInt(1, 64)); break;
            default:
                if (data.consumeInt(0, 7) == 0) {
                    app.closeSession();
                }
                break;
        }
    }

    /**
     * Mostly small writes; some past a frame of 65535 and a 64 KiB window; never more than 512
     * frames, so that tiny frame sizes do not make one input take seconds.
     */
    static int writeSize(FuzzedDataProvider data, FuzzApp app) {
        int n = data.consumeBoolean() ? data.consumeInt(0, 3000) : data.consumeInt(0, 140_000);
        return Math.min(n, 512 * app.engine.config().maxFrameSize());
    }

    /** Books what happened on both sides and checks every invariant. */
    static void afterStep(Side client, Side server) throws IOException {
        for (Side s : new Side[] {client, server}) {
            s.app.afterStep();
            s.closeConnectionIfDone();
        }
        for (Side s : new Side[] {client, server}) {
            EngineInvariants.assertWithinMemoryCaps(s.app.engine, s.app.ids());
            EngineInvariants.assertAccounting(s.app.engine, s.app.ids());
            EngineInvariants.assertEndedCleanly(s.app.engine);
            s.app.assertStreamStates();
            s.app.assertSentFigures();
            assertNoSessionFailed(s);
            assertReadIsCommittedPrefix(s, s.peer);
        }
    }

    /** Nothing but the application's own close, or its peer's, ends a session here. */
    static void assertNoSessionFailed(Side s) {
        CloseReason r = s.app.engine.closeReason();
        if (r == null || r == CloseReason.LOCAL) {
            return;
        }
        assertEquals(CloseReason.PEER_CLOSED, r, s.app.name + " failed: " + s.app.engine.closeError());
        assertTrue(s.peer.closedByApplication, s.app.name + " saw its peer close, but the peer did not");
    }

    /** What the reader read of each stream is a prefix of what the writer committed on it. */
    static void assertReadIsCommittedPrefix(Side reader, Side writer) {
        for (int id : reader.app.ids()) {
            FuzzApp.Flow in = reader.app.flow(id);
            FuzzApp.Flow out = writer.app.flow(id);
            int read = in.read.size();
            if (out == null) {
                assertEquals(0, read, reader.app.name + " read bytes of stream " + id + " its peer never opened");
                continue;
            }
            long committed = writer.app.committedLength(out);
            assertTrue(read <= committed, reader.app.name + " read " + read + " bytes of stream " + id + ", only "
                    + committed + " were committed");
            for (int i = reader.checked(id); i < read; i++) {
                if (in.read.at(i) != writer.app.committedByte(out, i)) {
                    fail(reader.app.name + " read byte " + i + " of stream " + id + " that was not the one committed there"
                            + " (withdrawn, duplicated or reordered)");
                }
            }
            reader.checkedUpTo(id, read);
        }
    }

    /**
     * Finishes every stream and drains the connection, first without reading the unread stream,
     * then with it, checking after each drain that every flow it could complete is complete.
     */
    static void finish(Side client, Side server, int unread) throws IOException {
        drain(client, server);
        for (Side reader : new Side[] {client, server}) {
            assertCompleteExceptUnread(reader, reader.peer);
        }
        if (unread != 0 && server.app.engine.hasStream(unread)) {
            assertTrue(server.app.engine.available(unread) <= server.app.engine.streamReservation(),
                    "the unread stream holds more than its window");
        }
        server.unread = 0;
        drain(client, server);
        for (Side reader : new Side[] {client, server}) {
            assertCompleteExceptUnread(reader, reader.peer);
        }
    }

    /** Both sides finish writing, accept, read everything they may, and the connection carries it all. */
    static void drain(Side client, Side server) throws IOException {
        for (int round = 0; round < 100_000; round++) {
            boolean progress = false;
            for (Side s : new Side[] {client, server}) {
                progress |= s.finishEverything();
            }
            for (Side s : new Side[] {client, server}) {
                progress |= s.transmitAll();
            }
            for (Side s : new Side[] {client, server}) {
                progress |= s.deliver(Integer.MAX_VALUE);
            }
            afterStep(client, server);
            if (!progress) {
                return;
            }
        }
        fail("the pair did not quiesce");
    }

    /**
     * Every stream the writer committed bytes on has delivered all of them, once and in order,
     * then end-of-stream, unless the reader cannot read them any more (it closed or refused the
     * stream, or closed its session) or the stream is the unread one.
     */
    static void assertCompleteExceptUnread(Side reader, Side writer) throws IOException {
        for (int id : writer.app.ids()) {
            FuzzApp.Flow out = writer.app.flow(id);
            FuzzApp.Flow in = reader.app.flow(id);
            String where = "stream " + id + " " + writer.app.name + "->" + reader.app.name;
            if (in == null || reader.gone(id) || reader.unread == id
                    || reader.app.engine.resetOf(id) != null || writer.app.engine.resetOf(id) != null) {
                continue; // shed, refused or reset (issue 20): both ends were told, with an error
            }
            assertFalse(out.writing(), where + ": a write never completed");
            assertEquals(writer.app.committedLength(out), in.read.size(), where + ": bytes read");
            assertTrue(in.endOfStream, where + ": no end-of-stream after the data");
        }
        if (!reader.app.engine.isClosed() && !writer.app.engine.isClosed()) {
            assertEquals(writer.app.engine.bytesSent(), reader.app.engine.bytesReceived() + reader.app.engine.bytesDropped(),
                    writer.app.name + "->" + reader.app.name + ": every byte sent was received or dropped");
        }
    }

    /** One end: its application, and the bytes it transmitted that the peer has not received. */
    static final class Side {
        final FuzzApp app;
        Side peer;
        /** The stream this side does not read (0: none). */
        int unread;
        boolean closedByApplication;
        private byte[] inFlight = new byte[0];
        private int inFlightStart;
        private boolean connectionClosed;
        private boolean eofDelivered;
        private final Map<Integer, Integer> checked = new HashMap<>();
        private final Set<Integer> closedStreams = new HashSet<>();

        Side(FuzzApp app) {
            this.app = app;
        }

        int checked(int id) {
            return checked.getOrDefault(id, 0);
        }

        void checkedUpTo(int id, int n) {
            checked.put(id, n);
        }

        /** @return whether this side can no longer read the stream: it closed it or its session, or refused it */
        boolean gone(int id) {
            return closedStreams.contains(id) || closedByApplication || !app.engine.hasStream(id);
        }

        void read(int id, int max) throws IOException {
            if (id != unread) {
                app.read(id, max);
            }
        }

        void closeStream(int id) {
            if (id != unread) {
                app.closeStream(id);
                closedStreams.add(id);
            }
        }

        /** Transmits into the pipe. @return bytes transmitted */
        int transmit(int room) {
            if (connectionClosed) {
                return 0;
            }
            byte[] out = app.transmit(room);
            if (out.length > 0) {
                byte[] all = Arrays.copyOf(inFlight, inFlight.length + out.length);
                System.arraycopy(out, 0, all, inFlight.length, out.length);
                inFlight = all;
            }
            return out.length;
        }

        /** Transmits until the engine has nothing more to send. @return whether it sent anything */
        boolean transmitAll() {
            boolean any = false;
            while (app.engine.wantsTransmit() && transmit(256 * 1024) > 0) {
                any = true;
            }
            return any;
        }

        /**
         * The peer's bytes in flight reach this side: up to {@code max} of them, as far as its
         * engine reads them; then the peer's end-of-stream, if its connection is closed.
         *
         * @return whether anything arrived
         */
        boolean deliver(int max) {
            Side from = peer;
            int end = (int) Math.min(from.inFlight.length, (long) from.inFlightStart + max);
            int before = from.inFlightStart;
            while (from.inFlightStart < end && app.engine.wantsInput()) {
                int n = app.engine.receive(from.inFlight, from.inFlightStart, end - from.inFlightStart);
                if (n == 0) {
                    break;
                }
                from.inFlightStart += n;
            }
            if (app.engine.isClosed()) {
                from.inFlightStart = from.inFlight.length; // a closed session's driver stops reading
            }
            boolean any = from.inFlightStart != before;
            if (from.inFlightStart == from.inFlight.length) {
                from.inFlight = new byte[0];
                from.inFlightStart = 0;
                if (from.connectionClosed && !eofDelivered) {
                    eofDelivered = true;
                    app.engine.receiveEof();
                    any = true;
                }
            }
            return any;
        }

        /** A closed session that sent everything closes its connection: EOF follows its last bytes. */
        void closeConnectionIfDone() {
            if (app.engine.isClosed() && app.engine.flushed()) {
                connectionClosed = true;
            }
            if (app.engine.closeReason() == CloseReason.LOCAL) {
                closedByApplication = true;
            }
        }

        /** Accepts, asks FIN on every stream, reads all it may. @return whether anything happened */
        boolean finishEverything() throws IOException {
            boolean any = false;
            while (app.accept() != 0) { // streams that arrived before a session failed stay acceptable
                any = true;
            }
            app.afterStep();
            for (int id : app.ids()) {
                FuzzApp.Flow f = app.flow(id);
                if (!app.isUsable(id)) {
                    continue;
                }
                if (!f.finRequested && !app.engine.isClosed()) {
                    app.closeWrite(id);
                    any = true;
                }
                while (id != unread && !f.endOfStream) {
                    int before = f.read.size();
                    app.read(id, 256 * 1024);
                    if (f.read.size() == before) {
                        break;
                    }
                    any = true;
                }
            }
            return any;
        }
    }
}
