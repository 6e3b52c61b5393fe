package smux.engine.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import smux.api.Session;
import smux.api.SessionClosedException;
import smux.engine.StreamSides;
import smux.engine.StreamView;

/**
 * A session's streams: it makes each stream's handle when the engine admits the stream (the
 * engine's {@link StreamSides.Factory}, called inside the pump's engine calls), keeps the handles
 * the application took, passes their news on to the pump ({@link StreamHandle.Ops}), and wakes
 * them when the session ends.
 *
 * <p>A handle the application takes just as the session ends is woken either way: taking it and
 * ending the session both hold this class's lock, and each looks at what the other did.
 */
final class SessionStreams implements StreamSides.Factory, StreamHandle.Ops {
    private final Session session;
    /** Told when the application closed a stream (a draining session waits for its streams). */
    private final Runnable streamClosed;
    /** The receive segments of this session's streams; let go when the session is quiet. */
    private final SegmentPool pool = new SegmentPool(256);
    /** The finished stalls of every stream of the session. */
    private final StreamStalls.Totals stallTotals = new StreamStalls.Totals();
    private final ReentrantLock lock = new ReentrantLock();
    /**
     * Streams the application holds, to wake them when the session ends: a list through the
     * handles themselves ({@link StreamHandle#heldPrev}, {@code heldNext}), so holding a stream costs
     * no set entry of its own.
     */
    private StreamHandle heldHead;
    private int heldCount;
    private volatile SessionClosedException ended;
    private boolean endedLocally;
    private SessionPump pump;

    /**
     * @param session what {@link smux.api.SmuxStream#session()} returns
     * @param streamClosed told when the application closed a stream
     */
    SessionStreams(Session session, Runnable streamClosed) {
        this.session = session;
        this.streamClosed = streamClosed;
    }

    /** Connects the pump the streams' news goes to (it is made after the engine, which needs this factory first). */
    void attach(SessionPump p) {
        pump = p;
    }

    /** A stream is born (opened here, or by the peer's SYN): its handle, with its two sides. */
    @Override
    public StreamSides create(int id) {
        return new StreamHandle(id, this, pool);
    }

    /** The application takes a stream: it is woken when the session ends, even if that was just now. */
    StreamHandle adopt(StreamHandle h) {
        SessionClosedException over;
        boolean local;
        lock.lock();
        try {
            hold(h);
            over = ended;
            local = endedLocally;
        } finally {
            lock.unlock();
        }
        if (over != null) {
            h.sessionEnded(over, local); // taken after the end
        }
        return h;
    }

    /** The session ended: every stream the application holds is woken, to fail (or, with {@code !local}, to read what is left). */
    void sessionEnded(SessionClosedException error, boolean local) {
        List<StreamHandle> woken;
        lock.lock();
        try {
            ended = error;
            endedLocally = local;
            woken = heldList();
        } finally {
            lock.unlock();
        }
        for (StreamHandle h : woken) {
            h.sessionEnded(error, local);
        }
    }

    /** @return the streams the application holds now (a copy) */
    List<StreamHandle> held() {
        lock.lock();
        try {
            return heldList();
        } finally {
            lock.unlock();
        }
    }

    /** Adds {@code h} to the held list, unless it is there. Lock held. */
    private void hold(StreamHandle h) {
        if (h == heldHead || h.heldPrev != null) {
            return;
        }
        h.heldNext = heldHead;
        if (heldHead != null) {
            heldHead.heldPrev = h;
        }
        heldHead = h;
        heldCount++;
    }

    /** Takes {@code h} out of the held list, if it is there. Lock held. */
    private void release(StreamHandle h) {
        if (h != heldHead && h.heldPrev == null) {
            return;
        }
        if (h.heldPrev != null) {
            h.heldPrev.heldNext = h.heldNext;
        } else {
            heldHead = h.heldNext;
        }
        if (h.heldNext != null) {
            h.heldNext.heldPrev = h.heldPrev;
        }
        h.heldPrev = null;
        h.heldNext = null;
        heldCount--;
    }

    /** @return the held streams, a copy. Lock held. */
    private List<StreamHandle> heldList() {
        List<StreamHandle> copy = new ArrayList<>(heldCount);
        for (StreamHandle h = heldHead; h != null; h = h.heldNext) {
            copy.add(h);
        }
        return copy;
    }

    /** The session was quiet for a keepalive interval: the pooled segments of a burst go to the GC. */
    void quiet() {
        pool.trim();
    }

    // ------------------------------------------------------------------ StreamHandle.Ops

    @Override
    public void outboundChanged(StreamHandle stream) {
        pump.post(stream, StreamHandle.OUTBOUND);
    }

    @Override
    public void consumedDue(StreamHandle stream) {
        pump.post(stream, StreamHandle.CONSUMED);
    }

    /** A control call: the engine forgets the stream (and a {@code maxStreams} slot is free) before it returns. */
    @Override
    public void closed(StreamHandle stream) {
        pump.call(e -> {
            StreamView v = stream.viewIn(e);
            if (v != null) {
                v.close();
            }
            return null;
        });
        lock.lock();
        try {
            release(stream);
        } finally {
            lock.unlock();
        }
        streamClosed.run();
    }

    @Override
    public int receiveWindow(StreamHandle stream) {
        return pump.call(e -> {
            StreamView v = stream.viewIn(e);
            return e.version() == 2 && v != null ? v.receiveWindow() : 0;
        });
    }

    @Override
    public SessionClosedException sessionError() {
        return ended;
    }

    @Override
    public Session session() {
        return session;
    }

    @Override
    public StreamStalls.Totals stallTotals() {
        return stallTotals;
    }
}
