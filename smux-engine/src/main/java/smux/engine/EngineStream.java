package smux.engine;

import smux.api.StallCause;

/**
 * What the engine knows of one stream: its state, its flow-control counters, its two sides, and
 * its place in the scheduler's ring. Mostly plain data; the rules live in {@link StreamSet} and
 * {@link SendScheduler}. It is also the stream's public view ({@link StreamView}), whose news
 * it passes on to the rules.
 */
final class EngineStream implements StreamView {
    /** What the view's news goes to. */
    interface Rules {
        void consumed(EngineStream s, long total);

        void outboundChanged(EngineStream s);

        void close(EngineStream s);
    }

    final int id;
    final FlowControl flow;
    StreamState state = StreamState.OPEN;

    private final StreamSides sides;
    private final Rules rules;

    /** Its FIN is queued (or sent); it is queued once, after every committed byte. */
    boolean finQueued;
    /** A UPD for this stream waits in the control queue (it carries the latest count when pulled). */
    boolean updateQueued;
    /** Waiting in the accept backlog. */
    boolean inBacklog;
    /** The application closed it; the engine no longer knows it by id. */
    boolean forgotten;

    // The scheduler's ring of streams with data to send and window to send it.
    EngineStream ringPrev;
    EngineStream ringNext;
    boolean inRing;

    /** Receive memory this stream holds of the session's budgets (version 2), see {@link Admission}. */
    long reserved;
    /** Admitted on credit (version 2): its bytes take the session's credit room; it may be shed. */
    boolean onCredit;
    /** The peer sent data or a window update on it: it took the stream (a refusal sends neither). */
    boolean peerSpoke;
    /** The peer's last window update granted no window at all: with its FIN, the peer reset the stream. */
    boolean peerWindowZero;
    /**
     * Tunes the window: made by the first UPD of a tuned stream (one whose flow control updates
     * every quarter window, see {@link StreamSet}), so an idle stream has none; null before that,
     * and when the window is fixed.
     */
    WindowTuner tuner;

    /**
     * Payload bytes handed to {@link #in()} so far. Not {@code flow.received()}: that counts a PSH
     * frame's whole LENGTH when its header arrives (for the window check), while its payload may
     * still be on its way.
     */
    long appended;

    /** What its pending outgoing bytes wait for, as last told to its sides; null if nothing waits. */
    private StallCause sendWait;

    EngineStream(int id, boolean windowed, int window, StreamSides sides, Rules rules) {
        this.id = id;
        this.flow = new FlowControl(windowed, window);
        this.sides = sides;
        this.rules = rules;
    }

    /**
     * Tells the sides when what the pending outgoing bytes wait for changed: the connection while
     * the stream is in the scheduler's ring, the peer's window while bytes are pending without
     * window, nothing otherwise. Called where the ring changes (a few times per write or per turn,
     * never per frame).
     */
    void noteSendWait(long now) {
        StallCause w;
        int pending = 0;
        if (inRing) {
            w = StallCause.CONNECTION;
            pending = out().pending();
        } else if (!forgotten && (pending = out().pending()) > 0 && flow.sendAllowance() == 0) {
            w = StallCause.PEER_WINDOW;
        } else {
            w = null;
        }
        if (w != sendWait) {
            sendWait = w;
            sides.sendWait(w, pending, now);
        }
    }

    /** @return where received bytes go (asked of the sides, not kept: an idle stream's heap counts) */
    Inbound in() {
        return sides.inbound();
    }

    /** @return where outgoing bytes wait */
    Outbound out() {
        return sides.outbound();
    }

    /** @return bytes handed to the stream's inbound that the application has not been reported to consume */
    long unconsumed() {
        return appended - flow.consumed();
    }

    // ---------------------------------------------------------------- StreamView

    @Override
    public int id() {
        return id;
    }

    @Override
    public StreamSides sides() {
        return sides;
    }

    @Override
    public StreamState state() {
        return state;
    }

    @Override
    public int receiveWindow() {
        return flow.window();
    }

    @Override
    public long measuredRoundTrip() {
        return tuner == null ? 0 : tuner.minRttNanos();
    }

    @Override
    public long bufferedBytes() {
        return forgotten ? 0 : unconsumed();
    }

    @Override
    public void consumed(long total) {
        rules.consumed(this, total);
    }

    @Override
    public void outboundChanged() {
        rules.outboundChanged(this);
    }

    @Override
    public void close() {
        rules.close(this);
    }

    @Override
    public String toString() {
        return "stream " + Integer.toUnsignedString(id) + " (" + state + ")";
    }
}
