package smux.engine.runtime;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import smux.api.SessionClosedException;
import smux.api.SmuxConfig;
import smux.api.StreamClosedException;
import smux.engine.CloseReason;
import smux.engine.EngineEvent;
import smux.engine.SmuxEngine;
import smux.engine.StreamSides;
import smux.engine.StreamState;
import smux.engine.StreamView;

/**
 * One engine with its application on top, all on the test's thread: the engine tests, the fuzz
 * targets and the property tests drive an engine through this. Every stream is born with the
 * production sides, a {@link ReceiveSide} and a {@link SendSide}, exactly as the session runtime
 * makes them; there is no other stream path to test.
 *
 * <p>It offers the application's calls without waiting: read what is there ({@link #read}: 0 if
 * nothing, -1 at the end), post a write ({@link #write}), withdraw it with the exact committed
 * count ({@link #withdraw}), close-write, close, available. And it plays the session runtime's
 * part, deterministically: consumption a side reports (in batches, when the engine asked for it)
 * is passed to the engine right after the call that caused it, never from inside an engine call,
 * as the pump drains its work queue; when the engine reports the session closed, every receive
 * side fails and every posted write is withdrawn, as the session and its writers do; a quiet
 * session lets the pooled segments go. Tests that feed input, pull frames or run timers go
 * through {@link #feed}, {@link #pull} and {@link #timeout}, or call {@link #settle} after calling
 * the engine themselves.
 */
public final class EngineApp implements StreamSides.Factory {
    /** The engine; tests call it directly for what the application does not do. */
    public final SmuxEngine engine;
    private final SegmentPool pool = new SegmentPool(256);
    /** Streams whose side asked to report consumption. */
    private final ArrayDeque<Ends> due = new ArrayDeque<>();
    /** Events taken from the engine (and acted on) that the test has not taken yet. */
    private final List<EngineEvent> unseen = new ArrayList<>();
    /** Every stream's sides, in order of birth, forgotten ones included (for accounting). */
    private final List<Ends> born = new ArrayList<>();

    /** The two sides of one stream, and the write in progress. */
    private final class Ends implements StreamSides {
        final int id;
        final ReceiveSide rx;
        final SendSide tx = new SendSide();
        boolean due;
        /** Why the engine ended the stream (shed, refused or reset by the peer), or null. */
        IOException reset;

        Ends(int id) {
            this.id = id;
            this.rx = new ReceiveSide(pool, this::reportDue);
        }

        /** Called by the receive side, maybe inside an engine call: the report is passed on later. */
        private void reportDue() {
            if (!due) {
                due = true;
                EngineApp.this.due.add(this);
            }
        }

        @Override
        public ReceiveSide inbound() {
            return rx;
        }

        @Override
        public SendSide outbound() {
            return tx;
        }

        @Override
        public void reset(IOException why, boolean dropUnread) {
            reset = why;
            rx.fail(why, dropUnread);
            tx.release();
        }

        /** What the engine said the stream's pending bytes wait for, in order: "CAUSE pending@now" ("null 0@now" for nothing). */
        final List<String> sendWaits = new ArrayList<>();

        @Override
        public void sendWait(smux.api.StallCause cause, int pending, long now) {
            if (recordSendWaits) { // off unless a test asks: the fuzzers' executions per second must not pay for it
                sendWaits.add(cause + " " + pending + "@" + now);
            }
        }
    }

    /** Whether the streams keep what the engine said their pending bytes wait for ({@link #sendWaits}). */
    public boolean recordSendWaits;

    /** @return what the engine said stream {@code id}'s pending bytes waited for, in order (see {@link Ends#sendWaits}) */
    public List<String> sendWaits(int id) {
        for (Ends e : born) {
            if (e.id == id) {
                return e.sendWaits;
            }
        }
        throw new AssertionError("no stream " + id);
    }

    /**
     * @param id a stream id
     * @return why the engine ended the latest stream born with that id (shed, refused or reset by
     *     the peer), or null if it did not
     */
    public IOException resetOf(int id) {
        for (int i = born.size() - 1; i >= 0; i--) {
            if (born.get(i).id == id) {
                return born.get(i).reset;
            }
        }
        return null;
    }

    /**
     * @param client true for the dialing side
     * @param config the settings
     * @param now the current time
     */
    public EngineApp(boolean client, SmuxConfig config, long now) {
        this.engine = new SmuxEngine(client, config, now, this);
    }

    @Override
    public StreamSides create(int id) {
        Ends e = new Ends(id);
        born.add(e);
        return e;
    }

    // ---------------------------------------------------------------- the session runtime's part

    /**
     * Passes due consumption reports to the engine and acts on its events, until neither is left.
     * Every call of this class that calls the engine ends with it.
     */
    public void settle() {
        while (true) {
            Ends e = due.poll();
            if (e != null) {
                e.due = false;
                if (known(e)) {
                    engine.stream(e.id).consumed(e.rx.consumed());
                }
                continue;
            }
            EngineEvent event = engine.pollEvent();
            if (event == null) {
                return;
            }
            if (event instanceof EngineEvent.Closed c) {
                sessionEnded(c);
            } else if (event instanceof EngineEvent.Quiet) {
                pool.trim();
            }
            unseen.add(event);
        }
    }

    /** As the session and its writers do when the session ends: reads fail (after what is left), writes give up. */
    private void sessionEnded(EngineEvent.Closed c) {
        boolean local = c.reason() == CloseReason.LOCAL;
        for (Ends e : born) {
            if (known(e)) {
                e.rx.fail(c.error(), local);
                if (!e.tx.ended()) {
                    e.tx.withdraw();
                }
            }
        }
    }

    /** @return the events since the last call, in order */
    public List<EngineEvent> pollEvents() {
        settle();
        List<EngineEvent> out = new ArrayList<>(unseen);
        unseen.clear();
        return out;
    }

    // ---------------------------------------------------------------- the connection and the clock

    /** Feeds received bytes (the engine may leave some, version 1). */
    public void feed(ByteBuffer src, long now) {
        settle();
        engine.handleInput(src, now);
        settle();
    }

    /** Pulls frames into {@code staging}. @return bytes added */
    public int pull(ByteBuffer staging, long now) {
        settle();
        int n = engine.pollTransmit(staging, now);
        settle();
        return n;
    }

    /** The connection ended. */
    public void eof(long now) {
        engine.handleEof(now);
        settle();
    }

    /** The connection failed. */
    public void transportError(IOException error, long now) {
        engine.handleTransportError(error, now);
        settle();
    }

    /** Runs the engine's timers. */
    public void timeout(long now) {
        engine.handleTimeout(now);
        settle();
    }

    /**
     * Reports every stream's consumption now, as the session does before it counts its figures
     * ({@code Session.stats()}): the engine's count of unread bytes is then exact.
     */
    public void reportAllConsumed() {
        for (Ends e : born) {
            if (known(e)) {
                engine.stream(e.id).consumed(e.rx.consumed());
            }
        }
        settle();
    }

    /**
     * Closes the session. Streams still waiting to be accepted are given up with it, and what they
     * received is dropped (the session runtime drops their handles, unread).
     */
    public void close(long now) {
        engine.close(now);
        settle();
        for (Ends e : born) {
            if (!known(e)) {
                e.rx.close();
            }
        }
    }

    // ---------------------------------------------------------------- the application

    /** Opens a stream. @return its id */
    public int open(long now) throws IOException {
        int id = engine.openStream(now);
        settle();
        return id;
    }

    /** @return the oldest stream the peer opened, or {@link SmuxEngine#NO_STREAM} */
    public int accept() throws SessionClosedException {
        return engine.accept();
    }

    /** @return whether the engine knows the stream (opened or accepted, and not closed) */
    public boolean hasStream(int id) {
        return engine.stream(id) != null;
    }

    /** @return the stream's state */
    public StreamState streamState(int id) throws StreamClosedException {
        return view(id).state();
    }

    /**
     * Reads what is there, never waiting.
     *
     * @return bytes read, 0 if none are buffered yet, -1 at end-of-stream
     * @throws StreamClosedException if the stream was closed
     * @throws SessionClosedException if the session is over and nothing is left to read
     */
    public int read(int id, ByteBuffer dst) throws IOException {
        int n = ends(id).rx.poll(dst, "stream " + id);
        settle();
        return n;
    }

    /** @return bytes of the stream that can be read now */
    public long available(int id) throws StreamClosedException {
        return ends(id).rx.available();
    }

    /**
     * Posts a write, as {@code SmuxStream.write} does before it waits: the engine copies from
     * {@code src} as frames are pulled, advancing its position, until {@link #isWriting} is false.
     *
     * @throws IllegalStateException if a write is in progress on the stream
     * @throws StreamClosedException if the stream is closed for writing
     * @throws SessionClosedException if the session is over
     */
    public void write(int id, ByteBuffer src) throws IOException {
        Ends e = ends(id);
        requireOpen();
        if (e.tx.isWriteClosed()) {
            throw new StreamClosedException("stream " + id + " is closed for writing (closeWrite or close was called)");
        }
        if (!e.tx.ended()) {
            // a stream handle's writes wait for each other (its write serial); this caller cannot wait
            throw new IllegalStateException("a write is already in progress on stream " + id);
        }
        if (!src.hasRemaining()) {
            return;
        }
        e.tx.post(src); // idle and open for writing: always posts
        view(id).outboundChanged();
        settle();
    }

    /** @return whether a write is in progress (some of its bytes are not yet committed) */
    public boolean isWriting(int id) throws StreamClosedException {
        return !ends(id).tx.ended();
    }

    /**
     * Ends the write in progress as a write that timed out does: what was not pulled is never sent.
     *
     * @return the committed bytes of that write, or -1 if none was in progress
     */
    public int withdraw(int id) throws StreamClosedException {
        Ends e = ends(id);
        if (e.tx.ended()) {
            return -1;
        }
        int committed = e.tx.withdraw();
        view(id).outboundChanged();
        settle();
        return committed;
    }

    /** Half-closes the stream: FIN leaves after every byte already written. */
    public void closeWrite(int id) throws IOException {
        Ends e = ends(id);
        requireOpen();
        if (e.tx.closeWrite()) {
            view(id).outboundChanged();
            settle();
        }
    }

    /**
     * Closes the stream, as {@code SmuxStream.close} does: its write in progress ends with what was
     * committed, unread bytes are dropped, and the engine forgets it.
     *
     * @return the committed bytes of the write that was in progress, or -1 if none was (or the stream is unknown)
     */
    public int closeStream(int id) {
        StreamView v = engine.stream(id);
        if (v == null) {
            return -1;
        }
        Ends e = (Ends) v.sides();
        int committed = e.tx.ended() ? -1 : e.tx.withdraw();
        e.rx.close();
        e.tx.release();
        v.close();
        settle();
        return committed;
    }

    // ---------------------------------------------------------------- figures

    /** @return the pool the streams' receive sides take segments from */
    public SegmentPool pool() {
        return pool;
    }

    /** @return received bytes the application dropped, over every stream ever (closed, or the session ended) */
    public long droppedBytes() {
        long n = 0;
        for (Ends e : born) {
            n += e.rx.dropped();
        }
        return n;
    }

    /** @return bytes of the stream its application read in all */
    public long consumed(int id) throws StreamClosedException {
        return ends(id).rx.consumed();
    }

    /** @return whether the engine still knows these sides' stream */
    private boolean known(Ends e) {
        StreamView v = engine.stream(e.id);
        return v != null && v.sides() == e;
    }

    private Ends ends(int id) throws StreamClosedException {
        return (Ends) view(id).sides();
    }

    private StreamView view(int id) throws StreamClosedException {
        StreamView v = engine.stream(id);
        if (v == null) {
            throw new StreamClosedException("stream " + Integer.toUnsignedString(id) + " is closed or was never opened");
        }
        return v;
    }

    private void requireOpen() throws SessionClosedException {
        if (engine.isClosed()) {
            throw engine.closeError();
        }
    }
}
