package smux.engine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import smux.api.SmuxConfig;
import smux.engine.runtime.EngineApp;

/**
 * Two engines joined by a simulated connection, after quinn-proto's test {@code Pair}: a clock
 * that only moves when told, a one-way latency, and a pipe that may re-chunk the bytes each side
 * transmits. Tests read as a script: act on the engines, {@link #drive()}, then assert on the
 * recorded events and data.
 *
 * <p>{@link #step()} does everything due at the current instant (timers, application helpers,
 * transmit, deliver and feed) and, if nothing was due, jumps the clock to the earliest wake-up:
 * a delivery or an engine deadline. {@link #drive()} steps until nothing is in flight (timers fire
 * only if they come before a pending delivery); {@link #advance} lets simulated time pass,
 * firing every timer on the way.
 *
 * <p>Each side is an {@link EngineApp}: its streams have the production sides, and its application
 * reads and writes through them. The connection is modelled as a driver would run it: a side pulls frames while its engine
 * {@link SmuxEngine#wantsTransmit() wants to transmit}, feeds received bytes while it
 * {@link SmuxEngine#wantsInput() wants input} (a version 1 engine with its budget spent leaves
 * them in the pipe), and closes the connection (EOF to the peer) once its engine is closed and
 * flushed.
 */
final class Pair {
    static final long MS = 1_000_000L;
    static final long SEC = 1_000_000_000L;
    /** Default start of the clock: any value works, times are compared by subtraction. */
    static final long START = 1_000 * SEC;
    private static final int STEP_LIMIT = 5_000_000;

    /** How the pipe splits one transmitted batch into deliveries. */
    interface Chunker {
        /** @return the size of the next piece, 1..remaining */
        int next(int remaining);
    }

    static final Chunker WHOLE = r -> r;

    static Chunker randomChunks(Random random, int max) {
        return r -> 1 + random.nextInt(Math.min(r, max));
    }

    private record Delivery(long at, byte[] bytes) { }

    final Side client;
    final Side server;
    private final Side[] sides;
    long now;
    /** One-way latency of the pipe, nanoseconds. */
    long latency;
    /** Bytes per second each direction of the pipe carries; 0 for no limit. */
    long bandwidth;
    Chunker chunker = WHOLE;
    long steps;

    Pair(SmuxConfig config) {
        this(config, config);
    }

    Pair(SmuxConfig clientConfig, SmuxConfig serverConfig) {
        this(clientConfig, serverConfig, START);
    }

    Pair(SmuxConfig clientConfig, SmuxConfig serverConfig, long start) {
        this.now = start;
        this.client = new Side("client", new EngineApp(true, clientConfig, start), clientConfig);
        this.server = new Side("server", new EngineApp(false, serverConfig, start), serverConfig);
        client.peer = server;
        server.peer = client;
        sides = new Side[] {client, server};
    }

    Pair latency(long nanos) {
        this.latency = nanos;
        return this;
    }

    /** Limits each direction to {@code bytesPerSecond}: bytes queue behind each other, then travel the latency. */
    Pair bandwidth(long bytesPerSecond) {
        this.bandwidth = bytesPerSecond;
        return this;
    }

    Pair chunker(Chunker c) {
        this.chunker = c;
        return this;
    }

    // ---------------------------------------------------------------- the clock

    /** Does everything due now, or else jumps to the earliest wake-up. @return false if nothing is left at all */
    boolean step() {
        if (work()) {
            return true;
        }
        long next = earliest(true);
        if (next == Long.MIN_VALUE) {
            return false;
        }
        moveTo(next);
        return true;
    }

    /**
     * Steps until nothing is in flight and nothing is due; timers fire only before a pending delivery.
     *
     * @return whether anything happened
     */
    boolean drive() {
        boolean any = false;
        while (true) {
            if (work()) {
                any = true;
                continue;
            }
            long delivery = earliest(false);
            if (delivery == Long.MIN_VALUE) {
                return any;
            }
            long next = earliest(true);
            moveTo(next - delivery < 0 ? next : delivery);
        }
    }

    /** @return the simulated time now */
    long now() {
        return now;
    }

    /** Lets {@code nanos} of simulated time pass, handling every wake-up on the way. */
    void advance(long nanos) {
        long target = now + nanos;
        while (true) {
            if (work()) {
                continue;
            }
            long next = earliest(true);
            if (next != Long.MIN_VALUE && next - target <= 0) {
                moveTo(next);
                continue;
            }
            if (now != target) {
                moveTo(target);
                continue;
            }
            return;
        }
    }

    private void moveTo(long t) {
        if (t - now < 0) {
            throw new AssertionError("the clock would go back from " + now + " to " + t);
        }
        now = t;
    }

    private boolean work() {
        if (++steps > STEP_LIMIT) {
            throw new AssertionError("no quiescence after " + STEP_LIMIT + " steps: a livelock in the engine or the test");
        }
        boolean any = false;
        for (Side s : sides) {
            any |= s.fireTimers();
        }
        for (Side s : sides) {
            any |= s.application();
        }
        for (Side s : sides) {
            any |= s.transmit();
        }
        for (Side s : sides) {
            any |= s.receive();
        }
        for (Side s : sides) {
            s.collectEvents();
        }
        return any;
    }

    /** @return the earliest delivery (and, if asked, engine deadline), or Long.MIN_VALUE if none */
    private long earliest(boolean timers) {
        long best = Long.MIN_VALUE;
        boolean found = false;
        for (Side s : sides) {
            if (!s.toPeer.isEmpty() && !s.peer.frozen) { // bytes for a frozen side just sit in the pipe
                long t = s.toPeer.peek().at;
                if (!found || t - best < 0) {
                    best = t;
                    found = true;
                }
            }
            if (timers && !s.frozen && s.engine.hasTimeout()) {
                long t = s.engine.nextTimeout();
                if (!found || t - best < 0) {
                    best = t;
                    found = true;
                }
            }
        }
        return found ? best : Long.MIN_VALUE;
    }

    // ---------------------------------------------------------------- one end

    /** What the application on one side has read from a stream. */
    static final class Received {
        private final ByteArrayOutputStream data;
        private final long seed;
        private final boolean verify;
        long count;
        boolean eof;
        long firstMismatch = -1;
        IOException error;

        Received(boolean keep, long seed, boolean verify) {
            this.data = keep ? new ByteArrayOutputStream() : null;
            this.seed = seed;
            this.verify = verify;
        }

        void accept(byte[] b, int n) {
            if (data != null) {
                data.write(b, 0, n);
            }
            if (verify && firstMismatch < 0) {
                for (int i = 0; i < n; i++) {
                    if (b[i] != Bytes.at(seed, count + i)) {
                        firstMismatch = count + i;
                        break;
                    }
                }
            }
            count += n;
        }

        byte[] bytes() {
            return data.toByteArray();
        }
    }

    /** Writes {@code total} bytes of the pattern {@code Bytes.at(seed, ·)} in pieces, then optionally FIN. */
    static final class Sender {
        final int id;
        final long seed;
        final long total;
        final int piece;
        final boolean finAtEnd;
        long started;
        boolean finished;
        /** The error that ended it, if the engine reset the stream (shed, refused). */
        IOException error;

        Sender(int id, long seed, long total, int piece, boolean finAtEnd) {
            this.id = id;
            this.seed = seed;
            this.total = total;
            this.piece = piece;
            this.finAtEnd = finAtEnd;
        }
    }

    final class Side {
        final String name;
        /** The application on this side, with its engine. */
        final EngineApp app;
        final SmuxEngine engine;
        final SmuxConfig config;
        Side peer;
        private final ByteBuffer staging;
        private final ArrayDeque<Delivery> toPeer = new ArrayDeque<>();
        private final ArrayDeque<ByteBuffer> input = new ArrayDeque<>();
        private boolean eofArrived;
        private boolean eofFed;
        private final List<EngineEvent> events = new ArrayList<>();
        private final Map<Integer, Received> readers = new LinkedHashMap<>();
        private final Map<Integer, Sender> writers = new LinkedHashMap<>();
        private final ByteBuffer readBuffer = ByteBuffer.allocate(64 * 1024);
        /** Everything this side transmitted, if recording. */
        ByteArrayOutputStream transcript;
        /** A frozen side neither transmits, receives, nor runs its timers (a hung process). */
        boolean frozen;
        /** Its connection is closed: it sent EOF. */
        boolean connectionClosed;
        /** When this direction of the link is free again (with a bandwidth limit). */
        long linkFreeAt;
        /** The simulated time at which the engine reported Closed. */
        long closedAt;

        Side(String name, EngineApp app, SmuxConfig config) {
            this.name = name;
            this.app = app;
            this.engine = app.engine;
            this.config = config;
            this.staging = ByteBuffer.allocate(config.stagingBufferSize());
        }

        Side record() {
            transcript = new ByteArrayOutputStream();
            return this;
        }

        byte[] transcriptBytes() {
            return transcript.toByteArray();
        }

        // ------------------------------------------------------------ application shortcuts

        int open() throws IOException {
            return app.open(now);
        }

        int accept() throws IOException {
            return app.accept();
        }

        /** Starts a write of a copy of {@code data}; returns the buffer the engine consumes. */
        ByteBuffer write(int id, byte[] data) throws IOException {
            ByteBuffer b = ByteBuffer.wrap(data.clone());
            app.write(id, b);
            return b;
        }

        /** Reads what is buffered now; null at end-of-stream with nothing read. */
        byte[] read(int id) throws IOException {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            while (true) {
                readBuffer.clear();
                int n = app.read(id, readBuffer);
                if (n == -1 && out.size() == 0) {
                    return null;
                }
                if (n <= 0) {
                    return out.toByteArray();
                }
                out.write(readBuffer.array(), 0, n);
            }
        }

        /** From now on, every step reads the stream into the returned record. */
        Received autoRead(int id) {
            Received r = new Received(true, 0, false);
            readers.put(id, r);
            return r;
        }

        /** Like {@link #autoRead(int)}, keeping only a count and checking bytes against {@code Bytes.at(seed, ·)}. */
        Received autoVerify(int id, long seed) {
            Received r = new Received(false, seed, true);
            readers.put(id, r);
            return r;
        }

        void stopReading(int id) {
            readers.remove(id);
        }

        /** From now on, every step keeps a write of the pattern going until {@code total} bytes are committed. */
        Sender autoWrite(int id, long seed, long total, int piece, boolean finAtEnd) {
            Sender s = new Sender(id, seed, total, piece, finAtEnd);
            writers.put(id, s);
            return s;
        }

        /** Every event the engine reported so far, including those of calls made since the last step. */
        List<EngineEvent> events() {
            collectEvents();
            return events;
        }

        @SuppressWarnings("unchecked")
        <T extends EngineEvent> List<T> eventsOf(Class<T> type) {
            List<T> out = new ArrayList<>();
            for (EngineEvent e : events()) {
                if (type.isInstance(e)) {
                    out.add((T) e);
                }
            }
            return out;
        }

        EngineEvent.Closed closed() {
            List<EngineEvent.Closed> c = eventsOf(EngineEvent.Closed.class);
            if (c.size() > 1) {
                throw new AssertionError(name + " reported Closed " + c.size() + " times");
            }
            return c.isEmpty() ? null : c.get(0);
        }

        /** Bytes delivered to this side but not yet consumed by its engine (a paused version 1 engine). */
        long unconsumedInput() {
            long n = 0;
            for (ByteBuffer b : input) {
                n += b.remaining();
            }
            return n;
        }

        /** Bytes this side transmitted that the peer has not received yet. */
        long inFlight() {
            long n = 0;
            for (Delivery d : toPeer) {
                n += d.bytes == null ? 0 : d.bytes.length;
            }
            return n;
        }

        /** Closes this side's connection as if the process died: EOF to the peer, nothing more. */
        void dropConnection() {
            if (!connectionClosed) {
                connectionClosed = true;
                toPeer.add(new Delivery(now + latency, null));
            }
        }

        // ------------------------------------------------------------ the driver

        private boolean fireTimers() {
            if (frozen || !engine.hasTimeout() || engine.nextTimeout() - now > 0) {
                return false;
            }
            app.timeout(now);
            return true;
        }

        private boolean application() {
            if (frozen || engine.isClosed()) {
                return false;
            }
            boolean any = false;
            for (Map.Entry<Integer, Received> e : readers.entrySet()) {
                Received r = e.getValue();
                if (r.eof || r.error != null || !app.hasStream(e.getKey())) {
                    continue;
                }
                try {
                    while (true) {
                        readBuffer.clear();
                        int n = app.read(e.getKey(), readBuffer);
                        if (n > 0) {
                            r.accept(readBuffer.array(), n);
                            any = true;
                        } else {
                            r.eof = n < 0;
                            any |= r.eof;
                            break;
                        }
                    }
                } catch (IOException ex) {
                    r.error = ex;
                }
            }
            for (Sender s : writers.values()) {
                try {
                    if (s.finished || !app.hasStream(s.id) || app.isWriting(s.id)) {
                        continue;
                    }
                    if (s.started < s.total) {
                        int n = (int) Math.min(s.piece, s.total - s.started);
                        app.write(s.id, ByteBuffer.wrap(Bytes.stream(s.seed, s.started, n)));
                        s.started += n;
                    } else {
                        s.finished = true;
                        if (s.finAtEnd) {
                            app.closeWrite(s.id);
                        }
                    }
                    any = true;
                } catch (IOException ex) {
                    if (app.resetOf(s.id) == null) {
                        throw new AssertionError(name + ": auto-write on stream " + s.id + " failed", ex);
                    }
                    s.error = ex; // the engine reset the stream: the test asserts on it
                    s.finished = true;
                }
            }
            return any;
        }

        /** When the last byte of {@code n} more bytes leaves, with the link's bandwidth. */
        private long departure(int n) {
            if (bandwidth == 0) {
                return now;
            }
            long start = linkFreeAt - now > 0 ? linkFreeAt : now;
            linkFreeAt = start + n * SEC / bandwidth;
            return linkFreeAt;
        }

        private boolean transmit() {
            if (frozen || connectionClosed) {
                return false;
            }
            boolean any = false;
            while (engine.wantsTransmit()) {
                staging.clear();
                int n = app.pull(staging, now);
                if (n == 0) {
                    break;
                }
                byte[] batch = java.util.Arrays.copyOf(staging.array(), n);
                if (transcript != null) {
                    transcript.write(batch, 0, n);
                }
                for (int off = 0; off < n; ) {
                    int piece = chunker.next(n - off);
                    toPeer.add(new Delivery(departure(piece) + latency, java.util.Arrays.copyOfRange(batch, off, off + piece)));
                    off += piece;
                }
                any = true;
            }
            if (engine.isClosed() && engine.isFlushed()) {
                dropConnection();
                any = true;
            }
            return any;
        }

        private boolean receive() {
            if (frozen) {
                return false;
            }
            boolean any = false;
            while (!peer.toPeer.isEmpty() && peer.toPeer.peek().at - now <= 0) {
                Delivery d = peer.toPeer.poll();
                if (d.bytes == null) {
                    eofArrived = true;
                } else {
                    input.add(ByteBuffer.wrap(d.bytes));
                }
                any = true;
            }
            while (!input.isEmpty() && engine.wantsInput()) {
                ByteBuffer b = input.peek();
                int before = b.remaining();
                app.feed(b, now);
                any |= b.remaining() != before;
                if (b.hasRemaining()) {
                    break;
                }
                input.poll();
            }
            if (engine.isClosed()) {
                input.clear(); // a closed session's driver stops reading the connection
            }
            if (eofArrived && input.isEmpty() && !eofFed) {
                eofFed = true;
                app.eof(now);
                any = true;
            }
            return any;
        }

        private void collectEvents() {
            for (EngineEvent e : app.pollEvents()) {
                if (e instanceof EngineEvent.Closed) {
                    closedAt = now;
                }
                events.add(e);
            }
        }
    }
}
