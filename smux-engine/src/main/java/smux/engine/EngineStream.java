package smux.engine;

/**
 * What the engine knows of one stream: its state, its flow-control counters, where its received
 * bytes go and where its outgoing bytes wait, and its place in the scheduler's ring. Plain data;
 * the rules live in {@link SmuxEngine} and {@link SendScheduler}.
 */
final class EngineStream {
    final int id;
    final FlowControl flow;
    StreamState state = StreamState.OPEN;

    /** Where received bytes go: the engine's own buffer, or the runtime's receive side once bound. */
    Inbound in;
    /** Where outgoing bytes wait: the engine's own pending write, or the runtime's send side once bound. */
    Outbound out;
    /** The engine's own sides, while the stream is not bound (null after {@link SmuxEngine#bind}). */
    BufferedInbound buffered;
    PendingWrite pending;

    /** Its FIN is queued (or sent); it is queued once, after every committed byte. */
    boolean finQueued;
    /** A UPD for this stream waits in the control queue (it carries the latest count when pulled). */
    boolean updateQueued;
    /** Waiting in the accept backlog. */
    boolean inBacklog;
    /** The application closed it; the engine no longer knows it by id. */
    boolean forgotten;
    /** The driver's object for this stream (the runtime's stream handle); opaque to the engine. */
    Object attachment;

    // The scheduler's ring of streams with data to send and window to send it.
    EngineStream ringPrev;
    EngineStream ringNext;
    boolean inRing;

    // At most one of each event is queued per stream; these are reused so events cost no allocation.
    final EngineEvent.Readable readableEvent;
    final EngineEvent.Writable writableEvent;
    boolean readableQueued;
    boolean writableQueued;

    /** Receive memory this stream holds of the session's budgets (version 2), see {@link Admission}. */
    long reserved;
    /** Tunes the window; null when the window is fixed (or in version 1). */
    WindowTuner tuner;

    EngineStream(int id, boolean windowed, int window, SegmentPool pool) {
        this.id = id;
        this.flow = new FlowControl(windowed, window);
        this.buffered = new BufferedInbound(pool);
        this.pending = new PendingWrite();
        this.in = buffered;
        this.out = pending;
        this.readableEvent = new EngineEvent.Readable(id);
        this.writableEvent = new EngineEvent.Writable(id);
    }

    /** @return whether the runtime's sides replaced the engine's own */
    boolean bound() {
        return buffered == null;
    }

    /**
     * Payload bytes handed to {@link #in} so far. Not {@code flow.received()}: that counts a PSH
     * frame's whole LENGTH when its header arrives (for the window check), while its payload may
     * still be on its way.
     */
    long appended;

    /** @return bytes handed to the stream's inbound that the application has not been reported to consume */
    long unconsumed() {
        return appended - flow.consumed();
    }
}
