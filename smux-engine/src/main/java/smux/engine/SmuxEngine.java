package smux.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import smux.api.LimitExceededException;
import smux.api.ProtocolException;
import smux.api.ProtocolException.Violation;
import smux.api.SessionClosedException;
import smux.api.SmuxConfig;
import smux.api.StreamClosedException;

/**
 * The smux protocol for one connection, with no I/O, no threads and no clock: a state machine the
 * caller drives. Shaped after quinn-proto's {@code Connection}:
 *
 * <ul>
 *   <li>feed what the connection received with {@link #handleInput} (any split), its end with
 *       {@link #handleEof}, and read failures with {@link #handleTransportError};</li>
 *   <li>pull what to send with {@link #pollTransmit}: whole frames packed into the caller's
 *       staging buffer; call it again whenever {@link #wantsTransmit()} is true;</li>
 *   <li>take what happened with {@link #pollEvent()} until it returns null, after every call that
 *       changes state;</li>
 *   <li>ask {@link #hasTimeout()} / {@link #nextTimeout()} for the next deadline and call
 *       {@link #handleTimeout} when it is reached. Every time is a {@code System.nanoTime()}-style
 *       value passed in by the caller.</li>
 * </ul>
 *
 * <p>Streams are driven by id: {@link #openStream}, {@link #accept}, {@link #closeStream}. Each
 * stream's bytes go through two sides: received bytes into an {@link Inbound}, outgoing bytes
 * from an {@link Outbound}, which the engine copies from only inside {@link #pollTransmit}, so
 * what has been pulled is committed and what has not can be withdrawn ({@link SendScheduler}
 * explains the order of frames). A single-threaded caller uses the engine's own sides through
 * {@link #read}, {@link #write} / {@link #isWriting} / {@link #withdraw} and {@link #closeWrite};
 * the session runtime binds its own ({@link #bind}), which application threads use without
 * holding the caller's lock, and tells the engine what they did ({@link #outboundChanged},
 * {@link #consumed}).
 *
 * <p>The parts with rules of their own live beside it: {@link Admission} (which streams are
 * taken, and their memory), {@link FlowControl} (windows), {@link SendScheduler} (what leaves
 * next), {@link Keepalive} and {@link Verifier} (probe and ping).
 *
 * <p>Not thread-safe: one caller at a time.
 */
public final class SmuxEngine {
    /** Returned by {@link #accept()} when no stream waits. Stream id 0 is never a stream. */
    public static final int NO_STREAM = 0;

    /** At most this many VRM answers wait to be sent before the peer is in breach. */
    static final int MAX_QUEUED_ANSWERS = 16;
    /** At most this many refusals (FIN for a stream we could not take) wait to be sent. */
    static final int MAX_QUEUED_REFUSALS = 4096;
    /**
     * A bound version 1 stream reports what its application read after this many bytes (the
     * engine's view of the budget lags by at most this much per stream; when input stops, the
     * engine asks every stream at once and then for every read, see {@link #pauseInput}).
     */
    static final long V1_REPORT_STEP = 64 * 1024;
    /** Marks a control frame the peer made us queue (a refusal FIN, a VRM answer), to count them out. */
    private static final int PEER_DRIVEN = 0x100;

    private enum Phase { OPEN, CLOSING, CLOSED }

    private final boolean client;
    private final int version;
    private final int window;
    private final boolean windowTuned;
    private final int maxWindow;
    private final long probeTimeout;

    private final FrameDecoder decoder;
    private final SendScheduler scheduler;
    private final SegmentPool pool;
    private final StreamTable streams = new StreamTable();
    private final ArrayDeque<EngineStream> backlog = new ArrayDeque<>();
    private final ArrayDeque<EngineEvent> events = new ArrayDeque<>();
    private final Timers timers = new Timers();
    private final Sink sink = new Sink();
    private final Keepalive keepalive;
    private final Verifier verifier = new Verifier();
    private final Admission admission;

    private Phase phase = Phase.OPEN;
    private CloseReason closeReason;
    private SessionClosedException closeError;
    /** Received bytes not yet reported consumed, all streams together. */
    private long buffered;
    /** Version 1: input stopped and every bound stream was asked to report each read. */
    private boolean inputPaused;
    private int answersQueued;
    private int refusalsQueued;
    private EngineStream dataTarget;
    private long now;

    private long bytesReceived;
    private long bytesDropped;
    private long streamsOpened;
    private long streamsAccepted;
    private long streamsRefused;

    /**
     * Creates the engine of one end of a connection. If the shared memory budget has no room for
     * the session (version 1 needs room for one frame), the engine starts closed with
     * {@link CloseReason#NO_MEMORY}: check {@link #isClosed()}.
     *
     * @param client true for the side that opens odd stream ids (the dialer), false for even
     * @param config the session's settings
     * @param now the current time
     */
    public SmuxEngine(boolean client, SmuxConfig config, long now) {
        this.client = client;
        this.version = config.version();
        this.window = config.initialStreamWindow();
        this.windowTuned = config.windowTuned() && version == 2;
        this.maxWindow = config.streamWindow();
        this.probeTimeout = config.probeTimeout().toNanos();
        this.keepalive = new Keepalive(config.keepAliveEnabled(), config.keepAliveInterval().toNanos(),
                config.keepAliveTimeout().toNanos());
        this.decoder = new FrameDecoder(version);
        this.scheduler = new SendScheduler(version, config.maxFrameSize(), new Scheduled());
        this.pool = new SegmentPool(256);
        this.now = now;
        Admission a;
        try {
            a = new Admission(client, config);
        } catch (LimitExceededException e) {
            a = null;
            fail(CloseReason.NO_MEMORY, "the session cannot start: " + e.getMessage(), e);
        }
        this.admission = a;
        if (a != null) {
            keepalive.start(timers, now);
        }
    }

    // ---------------------------------------------------------------- connection input

    /**
     * Consumes received bytes. Decodes every whole or partial frame in {@code src}; in version 1
     * it stops early, at a frame boundary, once the session's receive budget is spent (see
     * {@link #wantsInput()}), and leaves the rest in {@code src}.
     *
     * @param src received bytes; its position advances past what was consumed
     * @param now the current time
     */
    public void handleInput(ByteBuffer src, long now) {
        this.now = now;
        if (phase != Phase.OPEN) {
            src.position(src.limit()); // nothing more is processed after close
            return;
        }
        if (src.hasRemaining()) {
            keepalive.onInput(timers, now, wantsInput());
        }
        try {
            decoder.decode(src, sink);
        } catch (ProtocolException e) {
            if (verifier.probing()) {
                notSmux("the peer's answer broke the protocol: " + e.getMessage());
            } else {
                fail(CloseReason.PROTOCOL_ERROR, "the peer broke the protocol: " + e.getMessage(), e);
            }
        }
    }

    /**
     * Says whether the engine will consume more input. False once the session is over, and in
     * version 1 while the receive budget is spent: the driver should stop reading the connection
     * until the application reads (xtaci does the same; version 2 never stops).
     *
     * @return whether to keep reading the connection
     */
    public boolean wantsInput() {
        return phase == Phase.OPEN && (version == 2 || admission.hasRoomForFrame(buffered));
    }

    /**
     * Returns how many bytes finish the piece of a frame being decoded. A reader that must not
     * read beyond the probe's answer reads at most this many.
     *
     * @return at least 1
     */
    public int inputHint() {
        return decoder.bytesNeeded();
    }

    /**
     * The connection reached end-of-stream: the peer closed it.
     *
     * @param now the current time
     */
    public void handleEof(long now) {
        this.now = now;
        if (verifier.probing()) {
            notSmux("the peer closed the connection instead of answering");
            return;
        }
        if (!decoder.atFrameBoundary()) {
            ProtocolException e = decoder.partialTlsRecord(); // a TLS alert is shorter than a header
            if (e == null) {
                e = new ProtocolException(Violation.TRUNCATED_FRAME, "the connection ended in the middle "
                        + "of a frame (" + decoder.bytesNeeded() + " more bytes of its current piece were due)");
            }
            fail(CloseReason.PROTOCOL_ERROR, "the peer broke the protocol: " + e.getMessage(), e);
            return;
        }
        fail(CloseReason.PEER_CLOSED, "the peer closed the connection", null);
    }

    /**
     * Reading or writing the connection failed.
     *
     * @param error the failure
     * @param now the current time
     */
    public void handleTransportError(IOException error, long now) {
        this.now = now;
        if (verifier.probing()) {
            notSmux("the connection failed before an answer came: " + error);
            return;
        }
        fail(CloseReason.TRANSPORT_ERROR, "the connection failed: " + error.getMessage(), error);
    }

    // ---------------------------------------------------------------- connection output

    /**
     * Copies frames to send into {@code dst} at its position: queued control frames first, then
     * data frames round-robin across the streams that have data and window, as many whole frames
     * as fit. Every data byte copied is committed and must be written to the connection. Call
     * again whenever {@link #wantsTransmit()} is true and the buffer has room.
     *
     * @param dst the connection's staging buffer, with room for at least one whole frame
     * @param now the current time
     * @return bytes written into {@code dst}
     */
    public int pollTransmit(ByteBuffer dst, long now) {
        this.now = now;
        if (phase == Phase.CLOSED) {
            return 0;
        }
        return scheduler.pull(dst);
    }

    /** @return whether {@link #pollTransmit} has something to send */
    public boolean wantsTransmit() {
        return phase != Phase.CLOSED && scheduler.hasWork();
    }

    /**
     * After {@link #close}, says whether every frame the close produced has been pulled, so the
     * driver can close the connection.
     *
     * @return true if closed and nothing is left to send
     */
    public boolean isFlushed() {
        return phase == Phase.CLOSED || (phase == Phase.CLOSING && !scheduler.hasWork());
    }

    // ---------------------------------------------------------------- events and time

    /**
     * Takes the next event.
     *
     * @return the oldest undelivered event, or null if there is none
     */
    public EngineEvent pollEvent() {
        EngineEvent e = events.poll();
        if (e instanceof EngineEvent.Readable r) {
            EngineStream s = streams.get(r.streamId());
            if (s != null) {
                s.readableQueued = false;
            }
        } else if (e instanceof EngineEvent.Writable w) {
            EngineStream s = streams.get(w.streamId());
            if (s != null) {
                s.writableQueued = false;
            }
        }
        return e;
    }

    /** @return whether a timer is armed ({@link #nextTimeout()} is meaningful) */
    public boolean hasTimeout() {
        return phase == Phase.OPEN && timers.anyArmed();
    }

    /** @return the earliest deadline at which {@link #handleTimeout} must be called */
    public long nextTimeout() {
        return timers.next();
    }

    /**
     * Runs the timers that are due: sends a keepalive, ends a silent session, fails an unanswered
     * probe or ping.
     *
     * @param now the current time
     */
    public void handleTimeout(long now) {
        this.now = now;
        if (phase != Phase.OPEN) {
            return;
        }
        if (timers.expired(Timers.Kind.KEEPALIVE, now)) {
            if (keepalive.fire(timers, now)) {
                scheduler.queueControl(Command.NOP, 0, 0, 0, null);
            }
            if (keepalive.quietSinceLast(bytesReceived)) {
                pool.trim(); // quiet for an interval: a burst's pooled buffers need not outlive it
            }
        }
        if (keepalive.idleExpired(timers, now, wantsInput())) {
            fail(CloseReason.KEEPALIVE_TIMEOUT, "keepalive timeout: nothing arrived for "
                    + keepalive.timeoutNanos() / 1_000_000 + " ms", null);
            return;
        }
        if (timers.expired(Timers.Kind.PING, now)) {
            timers.disarm(Timers.Kind.PING);
            Verifier.Outcome o = verifier.onTimeout();
            if (o == Verifier.Outcome.NOT_SMUX) {
                notSmux("no answer within " + probeTimeout / 1_000_000 + " ms");
            } else if (o == Verifier.Outcome.PING_TIMED_OUT) {
                events.add(new EngineEvent.Pong(-1));
            }
        }
    }

    // ---------------------------------------------------------------- probe and ping

    /**
     * Asks the peer whether it speaks this library's protocol: sends {@code VRM{v1, v2}} and
     * judges the first frame that comes back. The answer is an {@link EngineEvent.ProbeResult};
     * if it is false the session is over ({@link CloseReason#NOT_SMUX}), because a peer that is
     * xtaci/smux has stopped reading this connection. Call it before anything else happens on the
     * engine.
     *
     * @param v1 a random value
     * @param v2 another random value
     * @param now the current time
     * @throws IllegalStateException if the session already carried frames or streams
     */
    public void startProbe(int v1, int v2, long now) {
        this.now = now;
        if (phase != Phase.OPEN || streams.size() > 0 || decoder.framesDecoded() > 0 || verifier.busy()
                || !admission.noneOpened()) {
            throw new IllegalStateException("probe a peer before the session carries anything: create a new session to probe");
        }
        sendVerify(true, v1, v2);
    }

    /**
     * Measures a round trip with a VRM frame; the answer is an {@link EngineEvent.Pong}. Only a
     * peer that proved to be this library may be pinged: xtaci/smux treats VRM as a protocol error.
     *
     * @param v1 a random value
     * @param v2 another random value
     * @param now the current time
     * @throws IllegalStateException if the peer has not been verified or a ping is in flight
     * @throws SessionClosedException if the session is over
     */
    public void ping(int v1, int v2, long now) throws SessionClosedException {
        this.now = now;
        requireOpen();
        if (!verifier.peerVerified()) {
            throw new IllegalStateException("ping needs a peer that answered the probe (a plain xtaci/smux peer would stop "
                    + "reading on a VRM frame): enable probePeer on the client");
        }
        if (verifier.busy()) {
            throw new IllegalStateException("a ping is already in flight: wait for its Pong event");
        }
        sendVerify(false, v1, v2);
    }

    /** @return whether the peer proved to be this library (it answered our probe or sent one) */
    public boolean peerVerified() {
        return verifier.peerVerified();
    }

    private void sendVerify(boolean probe, int v1, int v2) {
        verifier.start(probe, v1, v2, now);
        scheduler.queueControl(Command.VRM, 0, v1, v2, null);
        timers.arm(Timers.Kind.PING, now + probeTimeout);
    }

    private void notSmux(String why) {
        verifier.abandon(); // answered here, once
        events.add(new EngineEvent.ProbeResult(false));
        fail(CloseReason.NOT_SMUX, "the peer does not speak this protocol: " + why, null);
    }

    // ---------------------------------------------------------------- streams

    /**
     * Opens a stream: queues its SYN and returns its id. Ids follow xtaci: the client's are odd
     * from 3, the server's even from 2.
     *
     * @param now the current time
     * @return the new stream's id
     * @throws SessionClosedException if the session is over
     * @throws LimitExceededException if the stream cap, the buffer budget or the ids are exhausted
     */
    public int openStream(long now) throws IOException {
        this.now = now;
        requireOpen();
        int id = admission.openLocal(streams.size());
        EngineStream s = admit(id);
        scheduler.queueControl(Command.SYN, id, 0, 0, null);
        streamsOpened++;
        return s.id;
    }

    /**
     * Takes the oldest stream the peer opened.
     *
     * @return its id, or {@link #NO_STREAM} if none waits
     * @throws SessionClosedException if the session is over
     */
    public int accept() throws SessionClosedException {
        // Streams the peer opened before the session failed stay acceptable (their data arrived and
        // can be read, as for streams accepted earlier); a local close empties the backlog.
        EngineStream s = backlog.poll();
        if (s == null) {
            requireOpen();
            return NO_STREAM;
        }
        s.inBacklog = false;
        return s.id;
    }

    /**
     * Replaces the engine's own sides of a stream with the caller's: from now on received bytes
     * go to {@code in} (bytes already received move there first), and outgoing bytes come from
     * {@code out}. The caller then reports what its application does with {@link #consumed} and
     * {@link #outboundChanged}, and no longer uses {@link #read}, {@link #write},
     * {@link #withdraw} or {@link #closeWrite} on the stream.
     *
     * @param id the stream
     * @param in where its received bytes go
     * @param out where its outgoing bytes wait
     * @throws StreamClosedException if the stream was closed
     * @throws IllegalStateException if it is bound already, or the engine's own side is in use
     */
    public void bind(int id, Inbound in, Outbound out) throws StreamClosedException {
        EngineStream s = stream(id);
        if (s.bound()) {
            throw new IllegalStateException("stream " + Integer.toUnsignedString(id) + " is bound already");
        }
        if (s.pending.writing() || s.pending.writeClosed() || s.buffered.consumed() > 0) {
            throw new IllegalStateException("bind stream " + Integer.toUnsignedString(id) + " before using it");
        }
        ReceiveBuffer early = s.buffered.buffer;
        while (early.size() > 0) {
            // bytes that arrived before the application took the stream: hand them over in order
            ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(early.size(), SegmentPool.SEGMENT_SIZE));
            early.read(chunk);
            in.append(chunk.flip(), chunk.remaining());
        }
        s.buffered = null;
        s.pending = null;
        s.in = in;
        s.out = out;
        if (!s.state.peerMayWrite()) {
            in.finish();
        }
        in.requestConsumption(nextReport(s));
    }

    /**
     * A bound stream's application read: {@code total} bytes in all so far. May queue a window
     * update (version 2) or free budget (version 1), and asks for the next report.
     *
     * @param id the stream; an unknown or closed id is ignored
     * @param total bytes consumed in all (never less than reported before)
     */
    public void consumed(int id, long total) {
        EngineStream s = streams.get(id);
        if (s == null) {
            return;
        }
        long n = total - s.flow.consumed();
        if (n > 0) {
            onConsumed(s, n);
        }
        s.in.requestConsumption(nextReport(s));
    }

    /**
     * A bound stream's outbound changed: a write was posted (the stream may now be scheduled), or
     * withdrawn, or writing was closed (its FIN may now be due).
     *
     * @param id the stream; an unknown or closed id is ignored
     */
    public void outboundChanged(int id) {
        EngineStream s = streams.get(id);
        if (s == null || phase != Phase.OPEN) {
            return;
        }
        if (s.out.writeClosed()) {
            requestFin(s);
        }
        if (s.out.pending() > 0) {
            scheduler.offer(s);
        } else {
            scheduler.remove(s);
            finIfDue(s);
        }
    }

    /**
     * Moves received bytes of a stream into {@code dst}. Reading reports consumption to the peer
     * (version 2 UPD) or frees the session budget (version 1).
     *
     * @param id the stream
     * @param dst where to put the bytes
     * @return bytes read; 0 if none are buffered yet; -1 at end-of-stream (the peer sent FIN
     *     and everything before it was read)
     * @throws SessionClosedException if the session is over and nothing is left to read
     * @throws StreamClosedException if the stream was closed with {@link #closeStream}
     */
    public int read(int id, ByteBuffer dst) throws IOException {
        EngineStream s = unbound(id);
        if (phase == Phase.CLOSING) {
            throw closeError;
        }
        int n = s.buffered.read(dst);
        if (n > 0) {
            onConsumed(s, n);
            return n;
        }
        if (!s.state.peerMayWrite()) {
            return -1;
        }
        if (phase == Phase.CLOSED) {
            throw closeError;
        }
        return 0;
    }

    /**
     * Returns how many bytes of a stream can be read without waiting.
     *
     * @param id the stream
     * @return buffered bytes
     * @throws StreamClosedException if the stream was closed
     */
    public long available(int id) throws StreamClosedException {
        return unbound(id).buffered.buffer.size();
    }

    /**
     * Starts a write: the engine keeps {@code src} and sends its remaining bytes as frames are
     * pulled, advancing its position. The caller must leave the buffer alone until
     * {@link #isWriting} is false (an {@link EngineEvent.Writable} follows) or it calls
     * {@link #withdraw}.
     *
     * @param id the stream
     * @param src the bytes to send
     * @throws IllegalStateException if a write is already in progress on the stream
     * @throws StreamClosedException if the stream is closed for writing
     * @throws SessionClosedException if the session is over
     */
    public void write(int id, ByteBuffer src) throws IOException {
        EngineStream s = unbound(id);
        requireOpen();
        if (!s.state.canWrite()) {
            throw new StreamClosedException("stream " + Integer.toUnsignedString(id)
                    + " is closed for writing (closeWrite or close was called)");
        }
        if (s.pending.writing()) {
            throw new IllegalStateException("a write is already in progress on stream " + Integer.toUnsignedString(id)
                    + ": writes on one stream must not overlap");
        }
        if (!src.hasRemaining()) {
            return;
        }
        s.pending.post(src);
        scheduler.offer(s);
    }

    /**
     * @param id the stream
     * @return whether a write is in progress (some of its bytes are not yet committed)
     * @throws StreamClosedException if the stream was closed
     */
    public boolean isWriting(int id) throws StreamClosedException {
        return unbound(id).pending.writing();
    }

    /**
     * Ends the write in progress: its bytes not yet pulled are dropped and will never be sent.
     * This is what a write that timed out reports.
     *
     * @param id the stream
     * @return how many bytes of that write were committed, or -1 if no write was in progress
     * @throws StreamClosedException if the stream was closed
     */
    public int withdraw(int id) throws StreamClosedException {
        EngineStream s = unbound(id);
        int committed = s.pending.withdraw();
        if (committed >= 0) {
            scheduler.remove(s);
            finIfDue(s);
        }
        return committed;
    }

    /**
     * Half-closes a stream: FIN leaves after every byte already written (including a write in
     * progress); the stream still reads. Calling it again does nothing.
     *
     * @param id the stream
     * @throws SessionClosedException if the session is over
     * @throws StreamClosedException if the stream was closed
     */
    public void closeWrite(int id) throws IOException {
        EngineStream s = unbound(id);
        requireOpen();
        s.pending.closeWrite();
        requestFin(s);
        finIfDue(s);
    }

    /**
     * Closes a stream and forgets it: a write in progress on the engine's own side is withdrawn,
     * FIN is queued if it was not sent, unread bytes are dropped and later frames for the stream
     * are ignored. (A bound stream's owner ends its own write first.)
     *
     * @param id the stream; an unknown or already closed id is ignored
     * @return the committed bytes of the write that was in progress, or -1 if there was none
     */
    public int closeStream(int id) {
        EngineStream s = streams.get(id);
        if (s == null) {
            return -1;
        }
        int committed = s.bound() ? -1 : s.pending.withdraw();
        if (phase == Phase.OPEN) {
            requestFin(s);
            queueFin(s); // after whatever was committed; nothing more will be
        }
        forget(s);
        return committed;
    }

    /**
     * @param id the stream
     * @return its state
     * @throws StreamClosedException if the stream was closed
     */
    public StreamState streamState(int id) throws StreamClosedException {
        return stream(id).state;
    }

    /**
     * @param id the stream
     * @return the receive window its last UPD advertised (version 2; the initial one before any)
     * @throws StreamClosedException if the stream was closed
     */
    public int receiveWindow(int id) throws StreamClosedException {
        return stream(id).flow.window();
    }

    /**
     * @param id the stream
     * @return the round trip its window tuner measured, nanoseconds; 0 if none yet or not tuned
     * @throws StreamClosedException if the stream was closed
     */
    public long measuredRoundTrip(int id) throws StreamClosedException {
        WindowTuner t = stream(id).tuner;
        return t == null ? 0 : t.srttNanos();
    }

    /**
     * Attaches the driver's own object to a stream, so that events can be routed to it without a
     * second lookup table. The engine never looks at it.
     *
     * @param id the stream
     * @param attachment the object, or null to detach
     * @throws StreamClosedException if the stream was closed
     */
    public void attach(int id, Object attachment) throws StreamClosedException {
        stream(id).attachment = attachment;
    }

    /**
     * @param id a stream id
     * @return the object attached to the stream, or null if none or the stream is unknown
     */
    public Object attachment(int id) {
        EngineStream s = streams.get(id);
        return s == null ? null : s.attachment;
    }

    /**
     * @param id a stream id
     * @return whether the engine knows the stream (opened and not yet closed by the application)
     */
    public boolean hasStream(int id) {
        return streams.get(id) != null;
    }

    // ---------------------------------------------------------------- the session

    /**
     * Closes the session: every write in progress is withdrawn (its committed bytes still go),
     * FIN is queued for every stream that did not send one, unread data is dropped, and every
     * later call fails. The driver keeps pulling until {@link #isFlushed()}, then closes the
     * connection. Calling it again does nothing.
     *
     * @param now the current time
     */
    public void close(long now) {
        this.now = now;
        if (phase != Phase.OPEN) {
            // a failed session kept its backlog for the application; closing it gives them up
            for (EngineStream s; (s = backlog.peek()) != null; ) {
                forget(s);
            }
            return;
        }
        abandonVerify();
        streams.forEach(s -> {
            scheduler.remove(s);
            if (!s.bound()) {
                s.pending.withdraw(); // what was pulled is staged and goes, the rest never does
            }
            requestFin(s);
            queueFin(s);
            dropUnconsumed(s);
        });
        backlog.clear();
        phase = Phase.CLOSING;
        admission.sessionEnded(buffered);
        closeReason = CloseReason.LOCAL;
        closeError = new SessionClosedException("the session was closed");
        timers.disarmAll();
        events.add(new EngineEvent.Closed(closeReason, closeError));
    }

    /** @return whether the session is over (closed locally or failed) */
    public boolean isClosed() {
        return phase != Phase.OPEN;
    }

    /** @return why the session ended, or null while it is open */
    public CloseReason closeReason() {
        return closeReason;
    }

    /** @return the exception callers get now that the session is over, or null while it is open */
    public SessionClosedException closeError() {
        return closeError;
    }

    /** @return whether this is the client (dialing) side */
    public boolean isClient() {
        return client;
    }

    /** @return the protocol version */
    public int version() {
        return version;
    }

    /** @return streams open now (including those waiting in the accept backlog) */
    public int streamCount() {
        return streams.size();
    }

    /** @return streams waiting to be accepted */
    public int backlogSize() {
        return backlog.size();
    }

    /** @return received bytes not yet reported consumed, across all streams */
    public long bufferedBytes() {
        return buffered;
    }

    /** @return receive memory this session holds of its budgets now (see {@link Admission}) */
    public long reservedBytes() {
        return admission == null ? 0 : admission.held();
    }

    /** @return frames written into staging buffers so far */
    public long framesSent() {
        return scheduler.framesSent();
    }

    /** @return frames decoded so far */
    public long framesReceived() {
        return decoder.framesDecoded();
    }

    /** @return stream payload bytes committed for sending */
    public long bytesSent() {
        return scheduler.dataBytesSent();
    }

    /** @return stream payload bytes received and buffered */
    public long bytesReceived() {
        return bytesReceived;
    }

    /** @return payload bytes received for streams that were closed or unknown, and dropped */
    public long bytesDropped() {
        return bytesDropped;
    }

    /** @return streams this side opened */
    public long streamsOpened() {
        return streamsOpened;
    }

    /** @return streams the peer opened that were admitted */
    public long streamsAccepted() {
        return streamsAccepted;
    }

    /** @return streams the peer opened that were refused (backlog full or a limit reached) */
    public long streamsRefused() {
        return streamsRefused;
    }

    /** @return the segment pool the engine's own receive buffers use (the runtime shares it) */
    public SegmentPool segmentPool() {
        return pool;
    }

    /** @return free receive-buffer segments the session keeps for reuse */
    public int segmentsPooled() {
        return pool.idle();
    }

    /** @return receive-buffer segments ever allocated (flat in a steady state) */
    public long segmentsAllocated() {
        return pool.allocated();
    }

    /**
     * Test hook: continues the id sequence after {@code lastId}, as if every id up to it had been
     * used, so tests reach the end of the 32-bit id space without opening four billion streams.
     */
    void skipStreamIdsForTest(long lastId) {
        admission.skipStreamIdsForTest(lastId);
    }

    // ---------------------------------------------------------------- internals

    private EngineStream stream(int id) throws StreamClosedException {
        EngineStream s = streams.get(id);
        if (s == null) {
            throw new StreamClosedException("stream " + Integer.toUnsignedString(id) + " is closed or was never opened");
        }
        return s;
    }

    /** A stream on the engine's own sides. */
    private EngineStream unbound(int id) throws StreamClosedException {
        EngineStream s = stream(id);
        if (s.bound()) {
            throw new IllegalStateException("stream " + Integer.toUnsignedString(id) + " is bound: its owner reads and writes it");
        }
        return s;
    }

    private void requireOpen() throws SessionClosedException {
        if (phase != Phase.OPEN) {
            throw closeError;
        }
    }

    /** Adds a stream whose memory {@link Admission} has reserved. */
    private EngineStream admit(int id) {
        EngineStream s = new EngineStream(id, version == 2, window, pool);
        s.reserved = admission.streamReservation();
        if (windowTuned) {
            s.tuner = new WindowTuner(window, maxWindow);
            s.flow.updateEveryQuarter();
        }
        streams.put(s);
        return s;
    }

    /**
     * The window a UPD of {@code s} carries. A tuned window first asks its {@link WindowTuner},
     * then reserves what the new window needs before it is advertised (the peer may then have up
     * to {@code max(old right edge, consumed + window) - consumed} bytes unread or in flight), or
     * keeps what it can afford; memory a smaller window no longer needs goes back.
     */
    private int windowForUpdate(EngineStream s) {
        if (s.tuner == null) {
            return s.flow.window();
        }
        long consumed = s.flow.consumed();
        long edge = s.flow.receiveLimit();
        int next = s.tuner.nextWindow(s.flow.window(), s.flow.received(), consumed, edge, admission.tight(), now);
        long needed = Math.max(edge - consumed, next);
        if (needed > s.reserved) {
            if (admission.tryReserve(needed - s.reserved)) {
                s.reserved = needed;
            } else {
                next = (int) Math.max(window, Math.min(next, s.reserved)); // what is reserved already
                needed = Math.max(edge - consumed, next);
            }
        }
        if (needed < s.reserved) {
            admission.release(s.reserved - needed);
            s.reserved = needed;
        }
        return next;
    }

    private void forget(EngineStream s) {
        scheduler.remove(s);
        dropUnconsumed(s);
        admission.streamForgotten(s.reserved);
        s.reserved = 0;
        if (s.inBacklog) {
            backlog.remove(s);
            s.inBacklog = false;
        }
        s.forgotten = true;
        streams.remove(s.id);
        if (dataTarget == s) {
            dataTarget = null;
        }
    }

    /** Counts a stream's unread bytes as gone (the engine's own buffer is emptied). */
    private void dropUnconsumed(EngineStream s) {
        if (!s.bound()) {
            s.buffered.buffer.clear();
        }
        long n = s.unconsumed();
        s.flow.dropUnconsumed(s.appended);
        buffered -= n;
        admission.bufferFreed(n);
    }

    /** The application read {@code n} more bytes of a stream. */
    private void onConsumed(EngineStream s, long n) {
        buffered -= n;
        admission.bufferFreed(n);
        if (version == 1) {
            admission.makeRoom(buffered);
            if (inputPaused && wantsInput()) {
                inputPaused = false; // bound streams go back to reporting in steps, at their next report
            }
        }
        if (s.flow.onConsumed(n) && !s.updateQueued && s.state.peerMayWrite() && phase == Phase.OPEN) {
            s.updateQueued = true;
            scheduler.queueControl(Command.UPD, s.id, 0, 0, s);
        }
    }

    /**
     * The total of consumed bytes at which a bound stream should report next: in version 2 when
     * its next UPD is due (asked again when a queued UPD leaves); otherwise, or once no UPD will
     * be sent, in steps for the memory accounting (every read while version 1 input is paused).
     */
    private long nextReport(EngineStream s) {
        if (phase == Phase.CLOSING) {
            return Long.MAX_VALUE; // a local close dropped every unread byte: nothing to account
        }
        if (version == 2 && phase == Phase.OPEN && s.state.peerMayWrite()) {
            return s.updateQueued ? Long.MAX_VALUE : s.flow.nextUpdateAt();
        }
        return s.flow.consumed() + (inputPaused ? 1 : V1_REPORT_STEP);
    }

    /**
     * Version 1: input just stopped (the budget is spent). Bound streams report in steps, so the
     * engine's count of unread bytes may be behind what their applications have read: ask them
     * all now, and for every read until input goes on, or a reader that has read everything would
     * wait forever for bytes the engine no longer reads.
     */
    private void pauseInput() {
        if (inputPaused) {
            return;
        }
        inputPaused = true;
        streams.forEach(s -> {
            if (s.bound() && s.unconsumed() > 0) {
                long total = s.in.consumed();
                long n = total - s.flow.consumed();
                if (n > 0) {
                    buffered -= n;
                    admission.bufferFreed(n);
                    s.flow.onConsumed(n);
                }
                s.in.requestConsumption(nextReport(s));
            }
        });
        admission.makeRoom(buffered);
        if (wantsInput()) {
            inputPaused = false;
        }
    }

    /** The application finished writing: the state changes at once; the FIN leaves after the data. */
    private void requestFin(EngineStream s) {
        if (s.state.canWrite()) {
            s.state = s.state.next(StreamState.Input.SEND_FIN);
        }
    }

    /** Queues the FIN that was requested, once nothing of the stream's data is pending. */
    private void finIfDue(EngineStream s) {
        if (phase == Phase.OPEN && !s.state.canWrite() && s.out.pending() == 0) {
            queueFin(s);
        }
    }

    /** Queues the stream's FIN, once. */
    private void queueFin(EngineStream s) {
        if (!s.finQueued && phase != Phase.CLOSED) {
            s.finQueued = true;
            scheduler.queueControl(Command.FIN, s.id, 0, 0, null);
        }
    }

    private void signalReadable(EngineStream s) {
        if (!s.readableQueued) {
            s.readableQueued = true;
            events.add(s.readableEvent);
        }
    }

    private void signalWritable(EngineStream s) {
        if (!s.writableQueued) {
            s.writableQueued = true;
            events.add(s.writableEvent);
        }
    }

    private void abandonVerify() {
        Verifier.Outcome o = verifier.abandon();
        if (o == Verifier.Outcome.NOT_SMUX) {
            events.add(new EngineEvent.ProbeResult(false));
        } else if (o == Verifier.Outcome.PING_TIMED_OUT) {
            events.add(new EngineEvent.Pong(-1));
        }
    }

    private void fail(CloseReason reason, String message, Throwable cause) {
        if (phase == Phase.CLOSED) {
            return;
        }
        boolean wasOpen = phase == Phase.OPEN;
        abandonVerify();
        phase = Phase.CLOSED;
        if (admission != null) { // null only when the session could not start
            admission.sessionEnded(buffered);
        }
        scheduler.clear();
        timers.disarmAll();
        dataTarget = null;
        if (wasOpen) {
            closeReason = reason;
            closeError = new SessionClosedException(message, cause);
            events.add(new EngineEvent.Closed(reason, closeError));
        }
    }

    /** Decoded frames arrive here; kept off the public API. */
    private final class Sink implements FrameSink {
        @Override
        public boolean readyForFrame() {
            if (version == 1 && !wantsInput()) {
                admission.makeRoom(buffered);
            }
            return wantsInput();
        }

        @Override
        public void onFrame(int cmd, int streamId, int length) throws ProtocolException {
            if (verifier.probing() && cmd != Command.NOP) {
                notSmux("it answered with " + Command.name(cmd) + " instead of VRM");
                return;
            }
            switch (cmd) {
                case Command.SYN: onSyn(streamId); break;
                case Command.FIN: onFin(streamId); break;
                case Command.PSH: onPushHeader(streamId, length); break;
                default: break; // NOP: arriving at all is what keepalive is about
            }
        }

        @Override
        public void onData(int streamId, ByteBuffer src, int n) {
            EngineStream s = dataTarget;
            if (s == null) {
                src.position(src.position() + n);
                bytesDropped += n;
                return;
            }
            s.in.append(src, n);
            s.appended += n;
            buffered += n;
            bytesReceived += n;
            if (!s.bound()) {
                signalReadable(s);
            }
            if (version == 1 && !admission.hasRoomForFrame(buffered)) {
                admission.makeRoom(buffered); // grow now: wantsInput() is what the driver asks next
                if (!wantsInput()) {
                    keepalive.inputPaused(); // input stops here
                    pauseInput();
                }
            }
        }

        @Override
        public void onPair(int cmd, int streamId, int first, int second) throws ProtocolException {
            if (cmd == Command.VRM) {
                onVerify(streamId, first, second);
                return;
            }
            if (verifier.probing()) {
                notSmux("it answered with UPD instead of VRM");
                return;
            }
            EngineStream s = streams.get(streamId);
            if (s == null) {
                return; // a window update for a stream we closed: read and dropped, as xtaci does
            }
            s.flow.onPeerUpdate(streamId, first, second);
            scheduler.offer(s);
        }

        private void onSyn(int id) throws ProtocolException {
            if (!admission.isPeerId(id)) {
                throw new ProtocolException(Violation.BAD_STREAM_ID, "SYN for stream " + Integer.toUnsignedString(id)
                        + ": the " + (client ? "server" : "client") + " opens " + (client ? "even" : "odd")
                        + " ids other than 0");
            }
            // A SYN for an id we still hold (the peer reuses it, typically right after our FIN and
            // before our application closed the stream) is refused with FIN: the peer's new stream
            // ends at once instead of waiting forever for an answer (xtaci ignores it). Once the
            // application has closed the old stream, the same SYN opens a new stream.
            String refusal = streams.get(id) != null
                    ? "stream " + Integer.toUnsignedString(id) + " is still open here"
                    : admission.admitPeer(streams.size(), backlog.size());
            if (refusal != null) {
                if (refusalsQueued >= MAX_QUEUED_REFUSALS) {
                    throw new ProtocolException(Violation.CONTROL_BACKLOG, "the peer opened streams faster than it read "
                            + "their refusals (" + MAX_QUEUED_REFUSALS + " FIN frames unsent)");
                }
                refusalsQueued++;
                streamsRefused++;
                scheduler.queueControl(Command.FIN | PEER_DRIVEN, id, 0, 0, null);
                return;
            }
            EngineStream s = admit(id);
            s.inBacklog = true;
            backlog.add(s);
            streamsAccepted++;
            events.add(new EngineEvent.StreamOpened(id));
        }

        private void onFin(int id) {
            EngineStream s = streams.get(id);
            if (s == null || !s.state.peerMayWrite()) {
                return; // unknown, or a duplicate FIN
            }
            s.state = s.state.next(StreamState.Input.RECV_FIN);
            if (s.bound()) {
                s.in.finish();
            } else {
                signalReadable(s);
            }
        }

        private void onPushHeader(int id, int length) throws ProtocolException {
            dataTarget = null;
            if (length == 0) {
                return;
            }
            EngineStream s = streams.get(id);
            if (s == null || !s.state.peerMayWrite()) {
                return; // unknown, closed, or after the peer's FIN: read and dropped
            }
            s.flow.onReceived(id, length);
            if (s.tuner != null) {
                s.tuner.onReceived(s.flow.received(), now);
            }
            dataTarget = s;
        }

        private void onVerify(int streamId, int v1, int v2) throws ProtocolException {
            if (streamId != 0) {
                throw new ProtocolException(Violation.BAD_SESSION_FRAME, "VRM on stream "
                        + Integer.toUnsignedString(streamId) + " (it belongs to stream 0)");
            }
            switch (verifier.onVrm(v1, v2, now)) {
                case PROBE_ANSWERED:
                    timers.disarm(Timers.Kind.PING);
                    events.add(new EngineEvent.ProbeResult(true));
                    break;
                case PONG:
                    timers.disarm(Timers.Kind.PING);
                    events.add(new EngineEvent.Pong(verifier.rttNanos()));
                    break;
                case NOT_SMUX:
                    notSmux("its VRM answer was wrong");
                    break;
                case LATE:
                    break; // the answer to a ping that timed out
                default: // ANSWER
                    if (answersQueued >= MAX_QUEUED_ANSWERS) {
                        throw new ProtocolException(Violation.CONTROL_BACKLOG, "the peer sent more than "
                                + MAX_QUEUED_ANSWERS + " VRM frames without reading the answers");
                    }
                    answersQueued++;
                    scheduler.queueControl(Command.VRM | PEER_DRIVEN, 0, VerifyCode.answer1(v1), VerifyCode.answer2(v2), null);
                    break;
            }
        }
    }

    /** What the scheduler reports back as it pulls. */
    private final class Scheduled implements SendScheduler.Listener {
        @Override
        public void writeCommitted(EngineStream s) {
            if (!s.bound() && !s.pending.writing()) {
                signalWritable(s);
            }
            finIfDue(s);
        }

        @Override
        public int windowForUpdate(EngineStream s) {
            return SmuxEngine.this.windowForUpdate(s);
        }

        @Override
        public void updateSent(EngineStream s) {
            if (s.bound()) {
                s.in.requestConsumption(nextReport(s));
            }
        }

        @Override
        public void controlSent(int rawCmd) {
            switch (rawCmd) {
                case Command.NOP: keepalive.nopSent(); break;
                case Command.VRM | PEER_DRIVEN: answersQueued--; break;
                case Command.FIN | PEER_DRIVEN: refusalsQueued--; break;
                default: break;
            }
        }
    }
}
