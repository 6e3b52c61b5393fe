package smux.engine.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Timeout;
import smux.api.ProtocolException;
import smux.api.MemoryBudget;
import smux.api.SmuxConfig;
import smux.engine.Command;

/**
 * Fuzz target: one engine fed arbitrary peer bytes while the fuzzer also drives the local
 * application (open, accept, write, read, closeWrite, close, withdraw, ping, session close), the
 * connection (transmit with any staging room, end-of-stream, a transport error) and the clock
 * (timers run at fuzzed times). Peer bytes come raw, so the decoder's checks are reached, or as
 * frames built from fuzzed fields, so the session's rules are.
 *
 * <p>After every step: no exception but those the API documents for the situation
 * ({@link FuzzApp}); memory within maxSessionBuffer and the windows, the figures add up, stream
 * states match what the application did, no timer left due, a session that ended ended cleanly
 * ({@link EngineInvariants}); and everything transmitted is well-formed and carries exactly the
 * committed bytes ({@link FuzzApp#assertWellFormedOutput}).
 */
class EngineFuzzTest {
    private static final int MAX_STEPS = 200;

    @FuzzTest
    @Timeout(10)
    void oneEngineUnderArbitraryPeerBytesKeepsItsInvariants(FuzzedDataProvider data) throws IOException {
        FuzzRuns.count(EngineFuzzTest.class);
        boolean client = data.consumeBoolean();
        SmuxConfig config = config(data);
        FuzzApp app = new FuzzApp(client ? "client" : "server",
                new FuzzEngine(client, config, data.consumeLong()));
        Peer peer = new Peer(app, config.version());
        if (client && data.consumeBoolean()) {
            peer.probe(data.consumeInt(), data.consumeInt());
        }
        for (int step = 0; step < MAX_STEPS && data.remainingBytes() > 0; step++) {
            step(data, app, peer);
            app.afterStep();
            check(app);
        }
    }

    @AfterAll
    static void fuzzedFreshInputs() {
        FuzzRuns.assertFuzzedIfAsked(EngineFuzzTest.class);
    }

    /** Small caps, so that the fuzzer reaches them. */
    static SmuxConfig config(FuzzedDataProvider data) {
        int version = data.consumeBoolean() ? 2 : 1;
        int window = data.pickValue(new int[] {1024, 16 * 1024, 262_144, 512 * 1024});
        SmuxConfig.Builder b = SmuxConfig.builder().version(version)
                .maxFrameSize(data.pickValue(new int[] {1, 100, 4096, 32_768, 65_535}))
                .maxStreams(data.consumeInt(1, 8))
                .acceptBacklog(data.consumeInt(1, 4))
                .probeTimeout(Duration.ofMillis(data.consumeInt(1, 10_000)));
        if (data.consumeBoolean()) {
            b.streamWindow(window);
        } else {
            b.streamWindowTuned(window, Math.min(1 << 30, window * data.pickValue(new int[] {1, 2, 16})));
        }
        long reservation = Math.max(window, SmuxConfig.INITIAL_PEER_WINDOW);
        long sessionBuffer = version == 2 ? reservation * data.consumeInt(1, 4) : data.consumeInt(64 * 1024, 1 << 20);
        // a budget of its own, so roomy that only maxSessionBuffer binds (the process-wide one would
        // fill up with the engines of earlier inputs, which are dropped without being closed)
        b.maxSessionBuffer(sessionBuffer).memoryBudget(MemoryBudget.of(4 * sessionBuffer + (1 << 20)));
        if (data.consumeBoolean()) {
            int interval = data.consumeInt(1, 20_000);
            b.keepAlive(Duration.ofMillis(interval), Duration.ofMillis(interval + data.consumeInt(1, 40_000)));
        } else {
            b.keepAliveDisabled();
        }
        return b.build();
    }

    /** One operation, chosen by the fuzzer. */
    static void step(FuzzedDataProvider data, FuzzApp app, Peer peer) throws IOException {
        FuzzEngine e = app.engine;
        switch (data.consumeInt(0, 15)) {
            case 0: peer.sendRaw(data.consumeBytes(data.consumeInt(1, 64))); break;
            case 1: case 2: peer.sendFrame(data); break;
            case 3: peer.deliver(data.consumeInt(1, 1 << 17)); break;
            case 4: app.open(); break;
            case 5: app.accept(); break;
            case 6: app.onStream(data.consumeInt(0, 15), id -> app.write(id,
                    Math.min(data.consumeInt(0, 100_000), 512 * e.config().maxFrameSize()))); break;
            case 7: app.onStream(data.consumeInt(0, 15), id -> app.read(id, data.consumeInt(1, 100_000))); break;
            case 8: app.onStream(data.consumeInt(0, 15), app::closeWrite); break;
            case 9: app.onStream(data.consumeInt(0, 15), app::closeStream); break;
            case 10: app.onStream(data.consumeInt(0, 15), app::withdraw); break;
            case 11: app.transmit(data.consumeInt(0, 300_000)); break;
            case 12: advanceClock(data, e); break;
            case 13: app.ping(data.consumeInt(), data.consumeInt()); break;
            case 14: peer.endConnection(data.consumeBoolean()); break;
            default: app.closeSession(); break;
        }
    }

    /** A jump forward of any size up to a day, then the timers run (whether or not one is due). */
    static void advanceClock(FuzzedDataProvider data, FuzzEngine e) {
        long jump = data.consumeBoolean() ? data.consumeLong(0, 60_000_000_000L) : data.consumeLong(0, 86_400_000_000_000L);
        e.setTime(e.now() + jump);
        e.handleTimeout();
        EngineInvariants.assertNoTimerDue(e);
    }

    /** Every invariant, after every step. */
    static void check(FuzzApp app) throws IOException {
        EngineInvariants.assertWithinMemoryCaps(app.engine, app.ids());
        EngineInvariants.assertAccounting(app.engine, app.ids());
        EngineInvariants.assertEndedCleanly(app.engine);
        app.assertStreamStates();
        app.assertSentFigures();
    }

    /** The fuzzer's end of the connection: bytes queue here until the engine takes them, as a socket's would. */
    static final class Peer {
        private final FuzzApp app;
        private final int version;
        private byte[] queued = new byte[0];
        private boolean ended;
        private int nextId;
        private int[] probe;
        private final FuzzEngine.Decoder shadow;
        private boolean shadowBroken;

        Peer(FuzzApp app, int version) {
            this.app = app;
            this.version = version;
            this.nextId = app.engine.isClient() ? 2 : 1;
            this.shadow = new FuzzEngine.Decoder(version, new FuzzEngine.FrameListener() {
                private final Set<Integer> opened = new HashSet<>();

                @Override
                public boolean ready() {
                    return true;
                }

                @Override
                public void header(int cmd, int streamId, int length) {
                    if (cmd == Command.SYN && !opened.add(streamId)) {
                        app.peerReusedId(streamId);
                    }
                }

                @Override
                public void data(byte[] b, int o, int n) {
                }

                @Override
                public void pair(int cmd, int streamId, int first, int second) {
                }
            });
        }

        void probe(int v1, int v2) {
            app.engine.probe(v1, v2);
            probe = FuzzEngine.answer(v1, v2);
        }

        void sendRaw(byte[] bytes) {
            if (ended) {
                return;
            }
            byte[] all = Arrays.copyOf(queued, queued.length + bytes.length);
            System.arraycopy(bytes, 0, all, queued.length, bytes.length);
            queued = all;
            deliver(all.length);
        }

        /** A frame of a valid command with fuzzed fields: mostly for the streams in play, sometimes not. */
        void sendFrame(FuzzedDataProvider data) {
            int cmd = data.pickValue(new int[] {Command.SYN, Command.FIN, Command.PSH, Command.NOP, Command.UPD, Command.VRM});
            int id = streamId(data);
            int v = data.consumeInt(0, 9) == 0 ? data.consumeInt(0, 255) : version;
            if (cmd == Command.PSH) {
                int length = data.consumeBoolean() ? data.consumeInt(0, 64) : data.consumeInt(0, 65_535);
                byte[] frame = new byte[8 + length];
                System.arraycopy(FuzzEngine.header(v, cmd, length, id), 0, frame, 0, 8);
                sendRaw(frame);
            } else if (cmd == Command.UPD || cmd == Command.VRM) {
                int first;
                int second;
                if (cmd == Command.VRM && probe != null && data.consumeBoolean()) {
                    first = probe[0];
                    second = probe[1];
                } else if (cmd == Command.UPD && data.consumeBoolean()) {
                    FuzzApp.Flow f = app.flow(id);
                    first = f == null ? 0 : (int) (f.onWire - data.consumeInt(0, 70_000)); // near what was sent
                    second = data.pickValue(new int[] {0, 1, 1024, 262_144, 1 << 20, -1});
                } else {
                    first = data.consumeInt();
                    second = data.consumeInt();
                }
                sendRaw(FuzzEngine.pairFrame(v, cmd, id, first, second));
            } else {
                sendRaw(FuzzEngine.header(v, cmd, 0, id));
            }
        }

        private int streamId(FuzzedDataProvider data) {
            switch (data.consumeInt(0, 3)) {
                case 0: {
                    int id = nextId;
                    nextId += 2;
                    return id;
                }
                case 1: return app.ids().isEmpty() ? 0 : app.ids().get(data.consumeInt(0, app.ids().size() - 1));
                case 2: return 0;
                default: return data.consumeInt();
            }
        }

        /** Feeds up to {@code max} queued bytes, in as many calls as the engine takes them. */
        void deliver(int max) {
            int off = 0;
            int limit = Math.min(max, queued.length);
            while (off < limit && app.engine.wantsInput()) {
                int n = app.engine.receive(queued, off, limit - off);
                if (n == 0) {
                    break;
                }
                shadow(queued, off, n);
                off += n;
            }
            if (app.engine.isClosed()) {
                off = queued.length; // a closed session's driver stops reading the connection
            }
            queued = Arrays.copyOfRange(queued, off, queued.length);
        }

        /** Decodes what the engine consumed, to learn which stream ids the peer opened twice. */
        private void shadow(byte[] bytes, int off, int n) {
            if (shadowBroken) {
                return;
            }
            try {
                shadow.feed(bytes, off, n);
            } catch (ProtocolException e) {
                shadowBroken = true; // the engine failed on the same bytes
            }
        }

        /** The connection ends: EOF after the queued bytes, or a transport error at once. */
        void endConnection(boolean error) {
            if (ended) {
                return;
            }
            if (error) {
                app.engine.transportFailed(new IOException("connection reset (fuzzed)"));
            } else {
                deliver(queued.length);
                if (queued.length > 0) {
                    return; // the engine stopped reading (version 1 budget): EOF is not reached yet
                }
                app.engine.receiveEof();
            }
            ended = true;
            queued = new byte[0];
        }
    }
}
