package smux.engine;

import java.nio.ByteBuffer;

/**
 * What the engine knows of one stream: its state, its flow-control counters, its unread bytes,
 * the application's write in progress, and its place in the scheduler's ring. Plain data; the
 * rules live in {@link SmuxEngine} and {@link SendScheduler}.
 */
final class EngineStream {
    final int id;
    final FlowControl flow;
    final ReceiveBuffer inbound = new ReceiveBuffer();
    StreamState state = StreamState.OPEN;

    /** The application's buffer being sent; the engine reads it only when pulling frames. */
    ByteBuffer pendingWrite;
    /** Its position when the write began: committed bytes = position - pendingStart. */
    int pendingStart;
    /** FIN requested while data was pending: it leaves right after the last pending byte. */
    boolean finAfterData;
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

    EngineStream(int id, boolean windowed, int window) {
        this.id = id;
        this.flow = new FlowControl(windowed, window);
        this.readableEvent = new EngineEvent.Readable(id);
        this.writableEvent = new EngineEvent.Writable(id);
    }

    boolean hasPendingData() {
        return pendingWrite != null && pendingWrite.hasRemaining();
    }
}
