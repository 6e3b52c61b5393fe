package smux.engine.runtime;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.locks.ReentrantLock;
import smux.api.Session;
import smux.api.SessionClosedException;
import smux.engine.EngineEvent;
import smux.engine.SmuxEngine;
import smux.engine.StreamView;

/**
 * The one owner of a session's {@link SmuxEngine}: the transport's threads drive it through this
 * ({@link SessionLink}), and it alone calls the engine on the data path. Its lock guards the
 * engine; the transport's threads hold it to feed input, pull frames and run timers, and the
 * session's control calls (open, accept, ping, close) hold it briefly. Application reads and
 * writes never take it: they post their news to the work queue ({@link StreamOps}), which the
 * driver drains under its lock before it feeds input or pulls frames.
 *
 * <p>Work queue. Each stream has a word of work bits ({@link StreamHandle#work}); the thread that
 * sets the first bit queues the stream, so a stream is in the queue at most once, and the one
 * that makes the queue non-empty wakes the transport ({@link Driver#transmitReady}). The driver
 * takes the bits with one atomic swap, so a bit set afterwards queues the stream again. Once the
 * connection is closed there is no transport to wake: the posting thread drains the queue itself.
 */
final class EngineDriver implements SessionLink, StreamOps {
    final ReentrantLock lock = new ReentrantLock();
    final SmuxEngine engine;
    private final SmuxSession session;
    private final ReentrantLock queueLock = new ReentrantLock();
    private final ArrayDeque<StreamHandle> queue = new ArrayDeque<>();
    private volatile Driver transport;
    private volatile boolean connectionClosed;
    /** The engine stopped taking input (version 1) when last asked: tell the transport when it takes it again. */
    private boolean inputWasPaused;
    /** After the last pull the engine still had frames or work: see {@link #pullLeftWork()}. */
    private volatile boolean pullLeftWork;

    EngineDriver(SmuxEngine engine, SmuxSession session) {
        this.engine = engine;
        this.session = session;
    }

    void start(Driver d) {
        transport = d;
    }

    Driver transport() {
        return transport;
    }

    boolean isConnectionClosed() {
        return connectionClosed;
    }

    // ------------------------------------------------------------------ StreamOps: application threads

    @Override
    public void outboundChanged(StreamHandle stream) {
        post(stream, StreamHandle.OUTBOUND);
    }

    @Override
    public void consumedDue(StreamHandle stream) {
        post(stream, StreamHandle.CONSUMED);
    }

    /**
     * Closing a stream is a control call: it takes the lock, so that the engine forgets the stream
     * (and a {@code maxStreams} slot is free) by the time {@code close} returns.
     */
    @Override
    public void closed(StreamHandle stream) {
        lock.lock();
        try {
            StreamView v = view(stream);
            if (v != null) {
                v.close();
            }
            session.forget(stream);
            routeEvents(true);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int receiveWindow(StreamHandle stream) {
        lock.lock();
        try {
            StreamView v = view(stream);
            return engine.version() == 2 && v != null ? v.receiveWindow() : 0;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public SessionClosedException sessionError() {
        return session.errorIfClosed();
    }

    @Override
    public Session session() {
        return session;
    }

    private void post(StreamHandle stream, int bit) {
        int before;
        do {
            before = stream.work.get();
            if ((before & bit) != 0) {
                return; // already news for the driver
            }
        } while (!stream.work.compareAndSet(before, before | bit));
        if (before != 0) {
            return; // queued already, with other news
        }
        boolean wasEmpty;
        queueLock.lock();
        try {
            wasEmpty = queue.isEmpty();
            queue.add(stream);
        } finally {
            queueLock.unlock();
        }
        if (connectionClosed) {
            drainNow(); // nobody drives the engine any more: account for it here
        } else if (wasEmpty) {
            Driver d = transport;
            if (d != null) {
                d.transmitFromCaller();
            }
        }
    }

    private boolean hasWork() {
        queueLock.lock();
        try {
            return !queue.isEmpty();
        } finally {
            queueLock.unlock();
        }
    }

    private StreamHandle nextWork() {
        queueLock.lock();
        try {
            return queue.poll();
        } finally {
            queueLock.unlock();
        }
    }

    /**
     * Reports every stream's consumption now (for an exact count of unread bytes in stats). Lock held.
     *
     * @param streams the streams the application holds
     */
    void reportAllConsumed(Iterable<StreamHandle> streams) {
        for (StreamHandle h : streams) {
            StreamView v = view(h);
            if (v != null) {
                v.consumed(h.rx.consumed());
            }
        }
        routeEvents(true);
    }

    /** Tells the engine what the applications did. Lock held. */
    private void drainWork() {
        StreamHandle h;
        while ((h = nextWork()) != null) {
            int bits = h.work.getAndSet(0);
            StreamView v = view(h);
            if (v == null) {
                continue; // closed meanwhile: its news no longer matters
            }
            if ((bits & StreamHandle.OUTBOUND) != 0) {
                v.outboundChanged();
            }
            if ((bits & StreamHandle.CONSUMED) != 0) {
                v.consumed(h.rx.consumed());
            }
        }
    }

    /** @return the engine's view of the handle's stream, or null if the engine forgot it (its id may be another stream's now) */
    private StreamView view(StreamHandle h) {
        StreamView v = engine.stream(h.id());
        return v != null && v.sides() == h ? v : null;
    }

    private void drainNow() {
        lock.lock();
        try {
            drainWork();
            routeEvents(false);
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ SessionLink: the transport

    @Override
    public void onInput(ByteBuffer src) {
        lock.lock();
        try {
            drainWork();
            engine.handleInput(src, System.nanoTime());
            routeEvents(true);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void onEof() {
        lock.lock();
        try {
            engine.handleEof(System.nanoTime());
            routeEvents(true);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void onTransportError(IOException e) {
        lock.lock();
        try {
            engine.handleTransportError(e, System.nanoTime());
            routeEvents(true);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int pull(ByteBuffer staging) {
        lock.lock();
        try {
            return pullLocked(staging);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int tryPull(ByteBuffer staging) {
        if (!lock.tryLock()) {
            return -1;
        }
        try {
            return pullLocked(staging);
        } finally {
            lock.unlock();
        }
    }

    private int pullLocked(ByteBuffer staging) {
        drainWork();
        long now = System.nanoTime();
        if (engine.hasTimeout() && now - engine.nextTimeout() >= 0) {
            engine.handleTimeout(now);
        }
        int n = engine.pollTransmit(staging, now);
        routeEvents(false);
        pullLeftWork = engine.wantsTransmit() || hasWork();
        return n;
    }

    @Override
    public boolean pullLeftWork() {
        return pullLeftWork;
    }

    @Override
    public void runTimers() {
        lock.lock();
        try {
            long now = System.nanoTime();
            if (engine.hasTimeout() && now - engine.nextTimeout() >= 0) {
                engine.handleTimeout(now);
                routeEvents(true);
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public long nanosUntilDeadline() {
        lock.lock();
        try {
            if (!engine.hasTimeout()) {
                return -1;
            }
            return Math.max(0, engine.nextTimeout() - System.nanoTime());
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean wantsTransmit() {
        if (hasWork()) {
            return true; // the pull drains it, and may find frames to send
        }
        lock.lock();
        try {
            return engine.wantsTransmit();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean wantsInput() {
        lock.lock();
        try {
            drainWork(); // a paused version 1 engine resumes on consumption the applications reported
            return engine.wantsInput();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean isFlushed() {
        lock.lock();
        try {
            return engine.isFlushed();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void committedBytesAbandoned(long payloadBytes, IOException failure) {
        session.committedBytesAbandoned(payloadBytes, failure);
    }

    @Override
    public void connectionClosed() {
        lock.lock();
        try {
            if (connectionClosed) {
                return;
            }
            connectionClosed = true;
            if (!engine.isClosed()) {
                engine.handleTransportError(new IOException("the connection was closed"), System.nanoTime());
            }
            drainWork();
            routeEvents(false);
            session.connectionEnded();
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ events

    /**
     * Routes the engine's events to the session, then tells the transport what the engine wants.
     * Lock held, after every engine call.
     *
     * @param wakeWriter whether the caller is not the transport's writer (which pulls anyway)
     */
    void routeEvents(boolean wakeWriter) {
        EngineEvent event;
        while ((event = engine.pollEvent()) != null) {
            session.onEvent(event);
        }
        session.afterEngineCall();
        Driver d = transport;
        if (d != null && !connectionClosed) {
            if (wakeWriter && (engine.wantsTransmit() || engine.isClosed())) {
                d.transmitReady();
            }
            if (!engine.wantsInput()) {
                inputWasPaused = true;
            } else if (inputWasPaused) {
                inputWasPaused = false;
                d.inputReady();
            }
        }
    }
}
