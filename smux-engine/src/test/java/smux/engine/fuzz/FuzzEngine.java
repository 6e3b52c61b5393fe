package smux.engine.fuzz;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import smux.api.ProtocolException;
import smux.api.SessionClosedException;
import smux.api.SmuxConfig;
import smux.api.StreamClosedException;
import smux.engine.CloseReason;
import smux.engine.EngineEvent;
import smux.engine.FrameCodec;
import smux.engine.FrameDecoder;
import smux.engine.FrameSink;
import smux.engine.SmuxEngine;
import smux.engine.StreamState;
import smux.engine.StreamView;
import smux.engine.VerifyCode;
import smux.engine.runtime.EngineApp;

/**
 * The one place where the fuzz targets touch the engine's API: the frame decoder and codec, and
 * one {@link SmuxEngine} as its driver sees it, inside an {@link EngineApp}: every stream has the
 * production sides, so the targets fuzz the code production runs. When the engine's API changes
 * (how received payload or outbound buffers are handed over, where probe, keepalive or admission
 * live), this file changes and the targets do not.
 *
 * <p>The adapter speaks in what an application and a connection see: byte arrays written and
 * read, bytes received and transmitted, and a clock the caller moves. It also keeps the
 * application-side accounting the invariants need (bytes read, bytes a close discarded, the
 * write in progress of each stream), because only the driver of an engine can know them.
 */
final class FuzzEngine {
    /** What a {@link Decoder} reports, in order. */
    interface FrameListener {
        /** @return false to pause decoding at this frame boundary */
        boolean ready();

        /** A SYN, FIN, NOP or PSH header (PSH payload follows through {@link #data}). */
        void header(int cmd, int streamId, int length);

        /** Part of a PSH payload. */
        void data(byte[] bytes, int off, int n);

        /** A whole UPD or VRM frame. */
        void pair(int cmd, int streamId, int first, int second);
    }

    /** A resumable frame decoder: feed it bytes split anywhere. */
    static final class Decoder {
        private final FrameDecoder decoder;
        private final FrameSink sink;

        Decoder(int version, FrameListener listener) {
            this.decoder = new FrameDecoder(version);
            this.sink = new FrameSink() {
                @Override
                public boolean readyForFrame() {
                    return listener.ready();
                }

                @Override
                public void onFrame(int cmd, int streamId, int length) {
                    listener.header(cmd, streamId, length);
                }

                @Override
                public void onData(int streamId, ByteBuffer src, int n) {
                    listener.data(src.array(), src.arrayOffset() + src.position(), n);
                    src.position(src.position() + n);
                }

                @Override
                public void onPair(int cmd, int streamId, int first, int second) {
                    listener.pair(cmd, streamId, first, second);
                }
            };
        }

        /**
         * Decodes from {@code bytes[off, off + len)}.
         *
         * @return bytes consumed (fewer than {@code len} only if the listener paused)
         * @throws ProtocolException if the bytes break the protocol
         */
        int feed(byte[] bytes, int off, int len) throws ProtocolException {
            ByteBuffer src = ByteBuffer.wrap(bytes, off, len);
            decoder.decode(src, sink);
            return src.position() - off;
        }

        boolean atFrameBoundary() {
            return decoder.atFrameBoundary();
        }

        int bytesNeeded() {
            return decoder.bytesNeeded();
        }

        long framesDecoded() {
            return decoder.framesDecoded();
        }
    }

    /** The wire encoding of one frame's header, as {@link FrameCodec} writes it. */
    static byte[] header(int version, int cmd, int length, int streamId) {
        ByteBuffer b = ByteBuffer.allocate(FrameCodec.HEADER_SIZE);
        FrameCodec.putHeader(b, version, cmd, length, streamId);
        return b.array();
    }

    /** A whole UPD or VRM frame, as {@link FrameCodec} writes it. */
    static byte[] pairFrame(int version, int cmd, int streamId, int first, int second) {
        ByteBuffer b = ByteBuffer.allocate(FrameCodec.HEADER_SIZE + FrameCodec.PAIR_PAYLOAD_SIZE);
        FrameCodec.putPairFrame(b, version, cmd, streamId, first, second);
        return b.array();
    }

    // ---------------------------------------------------------------- one engine

    /** The write in progress (or the last one) of a stream, as the application handed it over. */
    private static final class Write {
        final ByteBuffer buffer;
        final int start;

        Write(ByteBuffer buffer) {
            this.buffer = buffer;
            this.start = buffer.position();
        }

        int committed() {
            return buffer.position() - start;
        }
    }

    private final EngineApp app;
    private final SmuxEngine engine;
    private final SmuxConfig config;
    private final Map<Integer, Write> writes = new HashMap<>();
    private ByteBuffer scratch = ByteBuffer.allocate(0);
    private long now;
    private int closedEvents;
    private boolean verifying;
    private long bytesRead;

    FuzzEngine(boolean client, SmuxConfig config, long now) {
        this.app = new EngineApp(client, config, now);
        this.engine = app.engine;
        this.config = config;
        this.now = now;
    }

    SmuxConfig config() {
        return config;
    }

    boolean isClient() {
        return engine.isClient();
    }

    /** @return the time of the latest call */
    long now() {
        return now;
    }

    /** Moves the clock; later calls happen at {@code at} (never before the current time). */
    void setTime(long at) {
        if (at - now < 0) {
            throw new IllegalArgumentException("time goes forward only");
        }
        now = at;
    }

    // ------------------------------------------------------------ the connection

    /** Feeds received bytes. @return how many the engine consumed */
    int receive(byte[] bytes, int off, int len) {
        ByteBuffer src = ByteBuffer.wrap(bytes, off, len);
        app.feed(src, now);
        return src.position() - off;
    }

    boolean wantsInput() {
        return engine.wantsInput();
    }

    void receiveEof() {
        app.eof(now);
    }

    void transportFailed(IOException e) {
        app.transportError(e, now);
    }

    boolean wantsTransmit() {
        return engine.wantsTransmit();
    }

    /**
     * Pulls what the engine sends now into a staging buffer of {@code room} bytes (raised to one
     * whole frame, the least a driver may offer).
     *
     * @return the bytes, committed to the connection
     */
    byte[] transmit(int room) {
        ByteBuffer staging = scratch(Math.max(room, config.maxFrameSize() + FrameCodec.HEADER_SIZE));
        int n = app.pull(staging, now);
        return Arrays.copyOf(staging.array(), n);
    }

    /** A cleared buffer of {@code size} bytes, reused across calls (the fuzzer runs millions of them). */
    private ByteBuffer scratch(int size) {
        if (scratch.capacity() < size) {
            scratch = ByteBuffer.allocate(Math.max(size, 2 * scratch.capacity()));
        }
        scratch.clear().limit(size);
        return scratch;
    }

    /** @return whether a closed session has nothing left to send (the driver may close the connection) */
    boolean flushed() {
        return engine.isFlushed();
    }

    // ------------------------------------------------------------ timers

    boolean hasTimeout() {
        return engine.hasTimeout();
    }

    long nextTimeout() {
        return engine.nextTimeout();
    }

    /** Runs the timers at the current time, due or not. */
    void handleTimeout() {
        app.timeout(now);
    }

    // ------------------------------------------------------------ probe and ping

    /** Starts the probe; it must come before anything else happens on the session. */
    void probe(int v1, int v2) {
        engine.startProbe(v1, v2, now);
        verifying = true;
    }

    /** Pings a verified peer; one ping at a time (see {@link #verifying()}). */
    void ping(int v1, int v2) throws SessionClosedException {
        engine.ping(v1, v2, now);
        verifying = true;
    }

    /** @return whether a probe or ping waits for its answer (or its timeout) */
    boolean verifying() {
        return verifying;
    }

    /** @return the VRM payload that answers a probe or ping of {@code v1, v2} */
    static int[] answer(int v1, int v2) {
        return new int[] {VerifyCode.answer1(v1), VerifyCode.answer2(v2)};
    }

    boolean peerVerified() {
        return engine.peerVerified();
    }

    // ------------------------------------------------------------ streams

    int open() throws IOException {
        return app.open(now);
    }

    /** @return the accepted stream, or 0 if none waits */
    int accept() throws SessionClosedException {
        return app.accept();
    }

    /** Starts writing {@code data} from {@code offset}; the engine keeps the buffer until the write ends. */
    void write(int id, byte[] data, int offset) throws IOException {
        ByteBuffer src = ByteBuffer.wrap(data);
        src.position(offset);
        Write w = new Write(src);
        app.write(id, src);
        writes.put(id, w);
    }

    /** @return whether the stream's latest write still has bytes the engine may send (false if the stream is gone) */
    boolean writing(int id) {
        try {
            return app.hasStream(id) && app.isWriting(id);
        } catch (StreamClosedException e) {
            throw new AssertionError("hasStream and isWriting disagree on stream " + id, e);
        }
    }

    /** @return bytes of the stream's latest write committed so far, 0 if it never wrote */
    int committed(int id) {
        Write w = writes.get(id);
        return w == null ? 0 : w.committed();
    }

    /** @return the committed bytes of the write ended, or -1 if none was in progress */
    int withdraw(int id) throws StreamClosedException {
        return app.withdraw(id);
    }

    void closeWrite(int id) throws IOException {
        app.closeWrite(id);
    }

    /** Closes a stream (its unread bytes are dropped). @return as {@link EngineApp#closeStream} */
    int closeStream(int id) {
        return app.closeStream(id);
    }

    /** Reads up to {@code max} bytes. @return them (maybe empty), or null at end-of-stream */
    byte[] read(int id, int max) throws IOException {
        int n = app.read(id, scratch(max));
        if (n < 0) {
            return null;
        }
        bytesRead += n;
        return Arrays.copyOf(scratch.array(), n);
    }

    long available(int id) throws StreamClosedException {
        return app.available(id);
    }

    /** @return the stream's received bytes the engine counts as unread: what is buffered, and what was read but not yet reported */
    long unreported(int id) {
        StreamView v = engine.stream(id);
        return v == null ? 0 : v.bufferedBytes();
    }

    /** @return bytes of the stream the application read in all */
    long consumed(int id) throws StreamClosedException {
        return app.consumed(id);
    }

    boolean hasStream(int id) {
        return app.hasStream(id);
    }

    /** @return open streams admitted on credit (version 2) */
    int creditStreams() {
        return engine.creditStreams();
    }

    /** @return whether the session is over (then what it holds goes back as it is read) */
    boolean engineClosed() {
        return engine.isClosed();
    }

    /** @return why the engine ended the latest stream of this id (shed, refused or reset by the peer), or null */
    IOException resetOf(int id) {
        return app.resetOf(id);
    }

    StreamState state(int id) throws StreamClosedException {
        return app.streamState(id);
    }

    // ------------------------------------------------------------ the session

    /** Closes the session (its unread bytes are dropped). */
    void close() {
        app.close(now);
    }

    boolean isClosed() {
        return engine.isClosed();
    }

    /** @return why the session ended, or null */
    CloseReason closeReason() {
        return engine.closeReason();
    }

    /** @return the exception callers get after the end, or null */
    SessionClosedException closeError() {
        return engine.closeError();
    }

    /**
     * Takes the engine's events.
     *
     * @return the streams the peer opened since the last call, in order
     */
    List<Integer> pollEvents() {
        List<Integer> newStreams = new ArrayList<>();
        for (EngineEvent e : app.pollEvents()) {
            if (e instanceof EngineEvent.StreamOpened o) {
                newStreams.add(o.streamId());
            } else if (e instanceof EngineEvent.Closed) {
                closedEvents++;
            } else if (e instanceof EngineEvent.ProbeResult || e instanceof EngineEvent.Pong) {
                verifying = false;
            }
        }
        return newStreams;
    }

    /** @return how many times the engine reported the session closed (0 or 1) */
    int closedEvents() {
        return closedEvents;
    }

    // ------------------------------------------------------------ figures

    int streamCount() {
        return engine.streamCount();
    }

    int backlogSize() {
        return engine.backlogSize();
    }

    long bufferedBytes() {
        return engine.bufferedBytes();
    }

    long bytesSent() {
        return engine.bytesSent();
    }

    long bytesReceived() {
        return engine.bytesReceived();
    }

    long bytesDropped() {
        return engine.bytesDropped();
    }

    /** @return payload bytes the application read */
    long bytesRead() {
        return bytesRead;
    }

    /** @return unread payload bytes dropped because the application closed a stream or the session */
    long bytesDiscarded() {
        return app.droppedBytes();
    }

    /** @return the most bytes one stream may hold unread (version 2): its largest window or xtaci's first guess */
    long streamReservation() {
        return Math.max(config.streamWindow(), SmuxConfig.INITIAL_PEER_WINDOW);
    }

    /** @return what a new stream reserves (version 2): its first window or xtaci's first guess */
    long firstReservation() {
        return Math.max(config.initialStreamWindow(), SmuxConfig.INITIAL_PEER_WINDOW);
    }

    /** @return receive memory the session holds now */
    long reservedBytes() {
        return engine.reservedBytes();
    }
}
