package smux.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import smux.api.LimitExceededException;
import smux.api.ProtocolException;
import smux.api.ProtocolException.Violation;
import smux.api.SessionClosedException;
import smux.api.SmuxConfig;

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
 * <p>Streams have one path. Each is born with its two sides, which the caller's
 * {@link StreamSides.Factory} makes: received bytes go into its {@link Inbound}, outgoing bytes
 * wait in its {@link Outbound}, which the engine copies from only inside {@link #pollTransmit}, so
 * what has been pulled is committed and what has not can be withdrawn ({@link SendScheduler}
 * explains the order of frames). The caller opens streams ({@link #openStream}), takes those the
 * peer opened ({@link #accept}), and tells the engine what their applications did through the
 * stream's view ({@link #stream}): bytes consumed, a write posted or withdrawn, a close.
 *
 * <p>The parts with rules of their own live beside it: {@link FrameDispatch} (where each decoded
 * frame goes), {@link StreamSet} (the streams and their rules), {@link Admission} (which streams
 * are taken, and their memory), {@link FlowControl} (windows), {@link SendScheduler} (what leaves
 * next), {@link Keepalive} and {@link Verification} (probe and ping).
 *
 * <p>Not thread-safe: one caller at a time.
 */
public final class SmuxEngine {
    /** Returned by {@link #accept()} when no stream waits. Stream id 0 is never a stream. */
    public static final int NO_STREAM = 0;

    private final boolean client;
    private final SmuxConfig config;
    private final StreamSides.Factory sides;
    /** 1 or 2; {@link SmuxConfig#VERSION_AUTO} until an auto session's first frame says which. */
    private int version;

    private final SessionState session = new SessionState();
    private final Timers timers = new Timers();
    private final Keepalive keepalive;
    // The parts that depend on the version. An auto session builds them for version 2 at first, with
    // nothing in them (no stream can be opened, nothing is sent), and again for the peer's version
    // when its first byte arrives: see settleVersion.
    private FrameDecoder decoder;
    private SendScheduler scheduler;
    private StreamSet streams;
    private Verification verification;
    private FrameDispatch dispatch;
    /** The probe's gate in front of {@link #dispatch}, fed instead of it while the probe runs. */
    private FrameSink probeGate;

    private CloseReason closeReason;
    private SessionClosedException closeError;

    /**
     * Creates the engine of one end of a connection. If the shared memory budget has no room for
     * the session (version 1 needs room for one frame), the engine starts closed with
     * {@link CloseReason#NO_MEMORY}: check {@link #isClosed()}.
     *
     * @param client true for the side that opens odd stream ids (the dialer), false for even
     * @param config the session's settings
     * @param now the current time
     * @param sides makes the two sides of every new stream
     */
    public SmuxEngine(boolean client, SmuxConfig config, long now, StreamSides.Factory sides) {
        if (client && config.versionAuto()) {
            throw new IllegalArgumentException("version AUTO is for the accepting side (the server takes the version of "
                    + "its peer's first frame): configure a client with version 1 or 2");
        }
        this.client = client;
        this.config = config;
        this.sides = sides;
        this.version = config.version();
        session.now = now;
        this.keepalive = new Keepalive(config.keepAliveEnabled(), config.keepAliveInterval().toNanos(),
                config.keepAliveTimeout().toNanos());
        LimitExceededException noRoom = build(config.versionAuto() ? config.withVersion(2) : config);
        if (config.versionAuto()) {
            decoder = FrameDecoder.detecting();
        }
        if (noRoom != null) {
            fail(CloseReason.NO_MEMORY, "the session cannot start: " + noRoom.getMessage(), noRoom);
        } else {
            keepalive.start(timers, now);
        }
    }

    /** Builds the parts that depend on the version. @return why the session has no memory to start, or null */
    private LimitExceededException build(SmuxConfig settled) {
        int v = settled.version();
        this.decoder = new FrameDecoder(v);
        this.scheduler = new SendScheduler(v, settled.maxFrameSize(), new Scheduled(), session);
        Admission admission;
        LimitExceededException noRoom = null;
        try {
            admission = new Admission(client, settled);
        } catch (LimitExceededException e) {
            admission = null;
            noRoom = e;
        }
        this.streams = new StreamSet(session, settled, admission, scheduler, sides);
        this.verification = new Verification(session, scheduler, timers, settled.probeTimeout().toNanos(),
                why -> fail(CloseReason.NOT_SMUX, "the peer does not speak this protocol: " + why, null));
        this.dispatch = new FrameDispatch(client, v, session, streams, scheduler, verification, keepalive);
        this.probeGate = verification.gate(dispatch);
        return noRoom;
    }

    /**
     * An auto session's first byte is the VER of its peer's first frame: version 1 or 2 settles the
     * session (its parts are built again, for that version, before anything happened in them);
     * anything else is left to the detecting decoder, which refuses it with a protocol error naming it.
     */
    private void settleVersion(int ver) {
        if (ver != 1 && ver != 2) {
            return;
        }
        version = ver;
        LimitExceededException noRoom = build(config.withVersion(ver));
        if (noRoom != null) {
            fail(CloseReason.NO_MEMORY, "the version " + ver + " session cannot start: " + noRoom.getMessage(), noRoom);
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
        session.now = now;
        if (!session.isOpen()) {
            src.position(src.limit()); // nothing more is processed after close
            return;
        }
        if (version == SmuxConfig.VERSION_AUTO && src.hasRemaining()) {
            settleVersion(src.get(src.position()) & 0xFF);
            if (!session.isOpen()) {
                src.position(src.limit());
                return;
            }
        }
        if (src.hasRemaining()) {
            keepalive.onInput(timers, now, wantsInput());
        }
        try {
            decoder.decode(src, verification.probing() ? probeGate : dispatch);
        } catch (ProtocolException e) {
            end(CloseReason.PROTOCOL_ERROR, "the peer broke the protocol: " + e.getMessage(), e,
                    "the peer's answer broke the protocol: " + e.getMessage());
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
        return streams.wantsInput();
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
        session.now = now;
        String probeVerdict = "the peer closed the connection instead of answering";
        if (!decoder.atFrameBoundary()) {
            ProtocolException e = decoder.partialTlsRecord(); // a TLS alert is shorter than a header
            if (e == null) {
                e = new ProtocolException(Violation.TRUNCATED_FRAME, "the connection ended in the middle "
                        + "of a frame (" + decoder.bytesNeeded() + " more bytes of its current piece were due)");
            }
            end(CloseReason.PROTOCOL_ERROR, "the peer broke the protocol: " + e.getMessage(), e, probeVerdict);
            return;
        }
        end(CloseReason.PEER_CLOSED, "the peer closed the connection", null, probeVerdict);
    }

    /**
     * Reading or writing the connection failed.
     *
     * @param error the failure
     * @param now the current time
     */
    public void handleTransportError(IOException error, long now) {
        session.now = now;
        end(CloseReason.TRANSPORT_ERROR, "the connection failed: " + error.getMessage(), error,
                "the connection failed before an answer came: " + error);
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
        session.now = now;
        if (session.phase == SessionState.Phase.CLOSED) {
            return 0;
        }
        return scheduler.pull(dst);
    }

    /** @return whether {@link #pollTransmit} has something to send */
    public boolean wantsTransmit() {
        return session.phase != SessionState.Phase.CLOSED && scheduler.hasWork();
    }

    /**
     * After {@link #close}, says whether every frame the close produced has been pulled, so the
     * driver can close the connection.
     *
     * @return true if closed and nothing is left to send
     */
    public boolean isFlushed() {
        return session.phase == SessionState.Phase.CLOSED
                || (session.phase == SessionState.Phase.CLOSING && !scheduler.hasWork());
    }

    // ---------------------------------------------------------------- events and time

    /**
     * Takes the next event.
     *
     * @return the oldest undelivered event, or null if there is none
     */
    public EngineEvent pollEvent() {
        return session.events.poll();
    }

    /** @return whether a timer is armed ({@link #nextTimeout()} is meaningful) */
    public boolean hasTimeout() {
        return session.isOpen() && timers.anyArmed();
    }

    /** @return the earliest deadline at which {@link #handleTimeout} must be called */
    public long nextTimeout() {
        return timers.next();
    }

    /**
     * Runs the timers that are due: sends a keepalive (and reports a quiet session), ends a silent
     * session, fails an unanswered probe or ping.
     *
     * @param now the current time
     */
    public void handleTimeout(long now) {
        session.now = now;
        if (!session.isOpen()) {
            return;
        }
        if (timers.expired(Timers.Kind.KEEPALIVE, now)) {
            if (version == SmuxConfig.VERSION_AUTO) {
                keepalive.skip(timers, now); // an auto session that has not heard its peer has no VER to send
            } else if (keepalive.fire(timers, now)) {
                scheduler.queueControl(Command.NOP, 0, 0, 0, null);
            }
            if (keepalive.quietSinceLast(dispatch.bytesReceived())) {
                session.events.add(EngineEvent.QUIET);
            }
        }
        if (keepalive.idleExpired(timers, now, wantsInput())) {
            fail(CloseReason.KEEPALIVE_TIMEOUT, "keepalive timeout: nothing arrived for "
                    + keepalive.timeoutNanos() / 1_000_000 + " ms", null);
            return;
        }
        if (timers.expired(Timers.Kind.PING, now)) {
            verification.onTimeout();
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
        session.now = now;
        if (!session.isOpen() || streams.size() > 0 || decoder.framesDecoded() > 0 || verification.busy()
                || !streams.noneOpened()) {
            throw new IllegalStateException("probe a peer before the session carries anything: create a new session to probe");
        }
        verification.start(true, v1, v2);
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
        session.now = now;
        requireOpen();
        if (!verification.peerVerified()) {
            throw new IllegalStateException("ping needs a peer that answered the probe (a plain xtaci/smux peer would stop "
                    + "reading on a VRM frame): enable probePeer on the client");
        }
        if (verification.busy()) {
            throw new IllegalStateException("a ping is already in flight: wait for its Pong event");
        }
        verification.start(false, v1, v2);
    }

    /** @return whether the peer proved to be this library (it answered our probe or sent one) */
    public boolean peerVerified() {
        return verification.peerVerified();
    }

    // ---------------------------------------------------------------- streams

    /**
     * Opens a stream: makes its sides, queues its SYN and returns its id. Ids follow xtaci: the
     * client's are odd from 3, the server's even from 2.
     *
     * @param now the current time
     * @return the new stream's id
     * @throws SessionClosedException if the session is over
     * @throws LimitExceededException if the stream cap or the ids are exhausted
     * @throws IllegalStateException if this is an auto session whose peer has sent nothing yet
     */
    public int openStream(long now) throws IOException {
        session.now = now;
        requireOpen();
        if (version == SmuxConfig.VERSION_AUTO) {
            throw new IllegalStateException("this session takes its version from the peer's first frame, and none has "
                    + "arrived yet: open streams once the peer has spoken (after accepting one), or configure version 1 or 2");
        }
        return streams.openLocal();
    }

    /**
     * Takes the oldest stream the peer opened (its sides were made when its SYN arrived, and hold
     * what it sent since).
     *
     * @return its id, or {@link #NO_STREAM} if none waits
     * @throws SessionClosedException if the session is over
     */
    public int accept() throws SessionClosedException {
        // Streams the peer opened before the session failed stay acceptable (their data arrived and
        // can be read, as for streams accepted earlier); a local close empties the backlog.
        int id = streams.accept();
        if (id == NO_STREAM) {
            requireOpen();
        }
        return id;
    }

    /**
     * Returns a stream's view: its state and window, and where its application's news goes.
     *
     * @param id a stream id
     * @return the stream, or null if the engine does not know it (never opened, or closed by its application)
     */
    public StreamView stream(int id) {
        return streams.get(id);
    }

    // ---------------------------------------------------------------- the session

    /**
     * Closes the session: FIN is queued for every stream that did not send one (after the bytes
     * already committed; the owners of the streams end their writes in progress), unread data is
     * dropped, and every later call fails. The driver keeps pulling until {@link #isFlushed()},
     * then closes the connection. Calling it again does nothing.
     *
     * @param now the current time
     */
    public void close(long now) {
        session.now = now;
        if (!session.isOpen()) {
            streams.forgetBacklog(); // a failed session kept its backlog for the application
            return;
        }
        verification.abandon();
        streams.closeAll();
        session.phase = SessionState.Phase.CLOSING;
        streams.sessionEnded();
        closeReason = CloseReason.LOCAL;
        closeError = new SessionClosedException("the session was closed");
        timers.disarmAll();
        session.events.add(new EngineEvent.Closed(closeReason, closeError));
    }

    /** @return whether the session is over (closed locally or failed) */
    public boolean isClosed() {
        return !session.isOpen();
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

    /**
     * Returns the session's version: 1 or 2, or {@link SmuxConfig#VERSION_AUTO} while an auto
     * session waits for its peer's first frame.
     *
     * @return the protocol version
     */
    public int version() {
        return version;
    }

    /** @return streams open now (including those waiting in the accept backlog) */
    public int streamCount() {
        return streams.size();
    }

    /** @return streams waiting to be accepted */
    public int backlogSize() {
        return streams.backlogSize();
    }

    /**
     * Returns the received bytes not yet reported consumed, across all streams. Streams report
     * their applications' reads in batches, so this may be ahead of what is unread by the
     * reports still due.
     *
     * @return the bytes
     */
    public long bufferedBytes() {
        return streams.bufferedBytes();
    }

    /** @return receive memory this session holds of its budgets now (see {@link Admission}) */
    public long reservedBytes() {
        return streams.reservedBytes();
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

    /** @return stream payload bytes received and handed to their streams */
    public long bytesReceived() {
        return dispatch.bytesReceived();
    }

    /** @return payload bytes received for streams that were closed or unknown, and dropped */
    public long bytesDropped() {
        return dispatch.bytesDropped();
    }

    /** @return streams this side opened */
    public long streamsOpened() {
        return streams.streamsOpened();
    }

    /** @return streams the peer opened that were admitted */
    public long streamsAccepted() {
        return dispatch.streamsAccepted();
    }

    /** @return streams the peer opened that were refused (backlog full or a limit reached) */
    public long streamsRefused() {
        return dispatch.streamsRefused();
    }

    /**
     * Returns how many streams the engine shed: admitted on credit, dropped when the shared memory
     * budget had no room for what they buffered (see {@link Admission}).
     *
     * @return streams shed so far
     */
    public long streamsShed() {
        return streams.streamsShed();
    }

    /** @return open streams admitted on credit, beyond those whose memory is reserved (version 2) */
    public int creditStreams() {
        return streams.creditStreams();
    }

    /**
     * Test hook: continues the id sequence after {@code lastId}, as if every id up to it had been
     * used, so tests reach the end of the 32-bit id space without opening four billion streams.
     */
    void skipStreamIdsForTest(long lastId) {
        streams.skipStreamIdsForTest(lastId);
    }

    // ---------------------------------------------------------------- internals

    private void requireOpen() throws SessionClosedException {
        if (!session.isOpen()) {
            throw closeError;
        }
    }

    /**
     * The connection ended, failed, or broke the protocol. While the probe waits, that is its
     * answer (the peer is not smux); otherwise the session fails for {@code reason}.
     */
    private void end(CloseReason reason, String message, Throwable cause, String probeVerdict) {
        if (verification.probing()) {
            verification.notSmux(probeVerdict);
        } else {
            fail(reason, message, cause);
        }
    }

    private void fail(CloseReason reason, String message, Throwable cause) {
        if (session.phase == SessionState.Phase.CLOSED) {
            return;
        }
        boolean wasOpen = session.isOpen();
        verification.abandon();
        session.phase = SessionState.Phase.CLOSED;
        streams.sessionEnded();
        scheduler.clear();
        timers.disarmAll();
        dispatch.stop();
        if (wasOpen) {
            closeReason = reason;
            closeError = new SessionClosedException(message, cause);
            session.events.add(new EngineEvent.Closed(reason, closeError));
        }
    }

    /** What the scheduler reports back as it pulls. */
    private final class Scheduled implements SendScheduler.Listener {
        @Override
        public void writeCommitted(EngineStream s) {
            streams.finIfDue(s);
        }

        @Override
        public void windowSpent(EngineStream s) {
            streams.windowSpent(s);
        }

        @Override
        public int windowForUpdate(EngineStream s) {
            return streams.windowForUpdate(s);
        }

        @Override
        public void updateSent(EngineStream s) {
            streams.updateSent(s);
        }

        @Override
        public void controlSent(int rawCmd) {
            switch (rawCmd) {
                case Command.NOP: keepalive.nopSent(); break;
                case Command.VRM | SendScheduler.PEER_DRIVEN: verification.answerSent(); break;
                case Command.FIN | SendScheduler.PEER_DRIVEN: dispatch.refusalSent(); break;
                default: break;
            }
        }
    }
}
