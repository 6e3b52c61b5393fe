package smux.engine.runtime;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.locks.ReentrantLock;
import smux.engine.CloseReason;
import smux.engine.EngineEvent;
import smux.engine.SmuxEngine;
import smux.engine.StreamView;

/**
 * What pumps a session: the one owner of its {@link SmuxEngine} and of the lock that guards it.
 * The transport's threads drive it through {@link SessionLink} (input, output, timers); the
 * session passes its control calls in through {@link #call}; application threads post their
 * news to its work queue ({@link #post}). After every engine call it routes the engine's events up
 * to its {@link Listener} and tells the {@link Transport} what to do (send, read again, shut
 * down). No other class sees the lock.
 *
 * <p>Work queue. Application threads never wait for the lock on the data path: a read or a write
 * on a stream posts a bit to the stream's word of work bits ({@link StreamHandle#work}); the
 * thread that sets the first bit queues the stream, so a stream is in the queue at most once, and
 * the one that makes the queue non-empty wakes the transport ({@link Transport#transmitFromCaller},
 * which may try the lock and send on the caller's thread, never wait for it). The pump drains the
 * queue under the lock before it feeds input or pulls frames, taking each stream's bits with one
 * atomic swap, so a bit set afterwards queues the stream again. Once the connection is closed no
 * transport thread is left to drain it: the posting thread drains the queue itself, under the lock.
 */
final class SessionPump implements SessionLink {
    /**
     * What the session hears from its pump: events up, never calls down. Each method runs with the
     * pump's lock held, so it records what happened, wakes who waits for it, and returns; it never
     * calls the pump.
     */
    interface Listener {
        /** The engine reported {@code event} (any but {@link EngineEvent.Closed}, see {@link #sessionClosed}). */
        void onEvent(EngineEvent event);

        /** The session is over; {@code bytesSent} and {@code bytesReceived} are its final account. */
        void sessionClosed(EngineEvent.Closed closed, long bytesSent, long bytesReceived);

        /** The transport reports what a local close's flush gave up (see {@link SessionLink#committedBytesAbandoned}). */
        void committedBytesAbandoned(long payloadBytes, IOException failure);

        /** The transport closed the connection. Called once. */
        void connectionClosed();
    }

    /** Work on the engine, run under the pump's lock; {@code X} is what it may throw. */
    interface EngineCall<T, X extends Exception> {
        T run(SmuxEngine engine) throws X;
    }

    /** What a call asks of the pump once the engine ran. */
    private enum Then {
        /** Nothing: the call only asked the engine something. */
        NOTHING,
        /** Route the events, and tell the transport if input may go on (the writer's own calls: it pulls anyway). */
        ROUTE,
        /** Route the events and tell the transport what to do, waking its writer if there is something to send. */
        ROUTE_AND_WAKE
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final SmuxEngine engine;
    private final Listener listener;
    private final ReentrantLock queueLock = new ReentrantLock();
    private final ArrayDeque<StreamHandle> queue = new ArrayDeque<>();
    private volatile Transport transport;
    private volatile boolean connectionClosed;
    /** The engine stopped taking input (version 1) when last asked: tell the transport when it takes it again. */
    private boolean inputWasPaused;
    /** After the last pull the engine still had frames or work: see {@link #pullLeftWork()}. */
    private volatile boolean pullLeftWork;
    /** How many more streams waiting to be accepted are refused after each call (a draining session). */
    private int refusalsLeft;

    SessionPump(SmuxEngine engine, Listener listener) {
        this.engine = engine;
        this.listener = listener;
    }

    /** Connects the transport; from now on it is told what to do. */
    void start(Transport t) {
        transport = t;
    }

    /** @return the transport, or null before {@link #start} */
    Transport transport() {
        return transport;
    }

    // ------------------------------------------------------------------ the session's calls

    /**
     * Runs a control call: takes the lock, runs {@code work} on the engine, routes the events it
     * caused and tells the transport what to do (wakes its writer if there is something to send).
     *
     * @return what {@code work} returned
     * @throws X what {@code work} threw (the events are not routed then)
     */
    <T, X extends Exception> T call(EngineCall<T, X> work) throws X {
        return locked(Then.ROUTE_AND_WAKE, work);
    }

    /**
     * From now on, after every call, refuses (FIN) up to {@code limit} streams in all of those the
     * peer opened that wait to be accepted, starting with those waiting now: a draining session
     * takes no new streams. Bounded, so a peer that keeps opening streams and never reads cannot
     * make the refusals queue without end; beyond it the engine's own backlog limit refuses.
     */
    void refuseWaitingStreams(int limit) {
        locked(Then.ROUTE_AND_WAKE, e -> refusalsLeft = limit);
    }

    /**
     * An application thread's news about a stream (a write posted or withdrawn, bytes consumed):
     * queues the stream for the pump without waiting for the lock (see the class comment).
     *
     * @param bit {@link StreamHandle#OUTBOUND} or {@link StreamHandle#CONSUMED}
     */
    void post(StreamHandle stream, int bit) {
        int before = stream.addWork(bit);
        if (before < 0) {
            return; // already news for the pump
        }
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
            locked(Then.ROUTE, e -> drainWork()); // nobody drives the engine any more: account for it here
        } else if (wasEmpty) {
            Transport t = transport;
            if (t != null) {
                t.transmitFromCaller();
            }
        }
    }

    // ------------------------------------------------------------------ SessionLink: the transport

    // The data path (input, pulls, the deadline the transport's threads wait for) takes the lock
    // directly: a lambda that captures its argument would cost an allocation per call.

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
    public int pull(ByteBuffer staging) {
        lock.lock();
        try {
            return pullAndRoute(staging);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int tryPull(ByteBuffer staging) {
        if (!lock.tryLock()) {
            return -1; // the caller must not wait: the transport's threads pull instead
        }
        try {
            return pullAndRoute(staging);
        } finally {
            lock.unlock();
        }
    }

    /** Drains the work queue, runs due timers, pulls frames, routes the events. Lock held. */
    private int pullAndRoute(ByteBuffer staging) {
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
    public long nanosUntilDeadline() {
        lock.lock();
        try {
            return engine.hasTimeout() ? Math.max(0, engine.nextTimeout() - System.nanoTime()) : -1;
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
    public boolean wantsTransmit() {
        return hasWork() || locked(Then.NOTHING, SmuxEngine::wantsTransmit); // a pull drains the work, and may find frames
    }

    @Override
    public boolean isFlushed() {
        return locked(Then.NOTHING, SmuxEngine::isFlushed);
    }

    @Override
    public void onEof() {
        locked(Then.ROUTE_AND_WAKE, e -> {
            e.handleEof(System.nanoTime());
            return null;
        });
    }

    @Override
    public void onTransportError(IOException error) {
        locked(Then.ROUTE_AND_WAKE, e -> {
            e.handleTransportError(error, System.nanoTime());
            return null;
        });
    }

    @Override
    public void runTimers() {
        locked(Then.ROUTE_AND_WAKE, e -> {
            long now = System.nanoTime();
            if (e.hasTimeout() && now - e.nextTimeout() >= 0) {
                e.handleTimeout(now);
            }
            return null;
        });
    }

    @Override
    public void committedBytesAbandoned(long payloadBytes, IOException failure) {
        listener.committedBytesAbandoned(payloadBytes, failure);
    }

    @Override
    public void connectionClosed() {
        locked(Then.NOTHING, e -> {
            if (connectionClosed) {
                return null;
            }
            connectionClosed = true;
            if (!e.isClosed()) {
                e.handleTransportError(new IOException("the connection was closed"), System.nanoTime());
            }
            drainWork();
            routeEvents(false); // the events first: whoever waits for the connection finds the session's end told
            listener.connectionClosed();
            return null;
        });
    }

    // ------------------------------------------------------------------ internals

    /** Takes the lock, runs {@code work} on the engine, then routes as asked. */
    private <T, X extends Exception> T locked(Then then, EngineCall<T, X> work) throws X {
        lock.lock();
        try {
            T result = work.run(engine);
            if (then != Then.NOTHING) {
                routeEvents(then == Then.ROUTE_AND_WAKE);
            }
            return result;
        } finally {
            lock.unlock();
        }
    }

    /** Tells the engine what the applications did. Lock held. @return null, for {@link #locked} */
    private Void drainWork() {
        StreamHandle h;
        while ((h = nextWork()) != null) {
            int bits = h.takeWork();
            StreamView v = h.viewIn(engine);
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
        return null;
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
     * Routes the engine's events to the listener, refuses streams if the session drains, then
     * tells the transport what to do. Lock held, after every engine call that may change state.
     *
     * @param wakeWriter whether the caller is not the transport's writer (which pulls anyway)
     */
    private void routeEvents(boolean wakeWriter) {
        Transport t = transport;
        EngineEvent event;
        while ((event = engine.pollEvent()) != null) {
            if (event instanceof EngineEvent.Closed c) {
                listener.sessionClosed(c, engine.bytesSent(), engine.bytesReceived());
                if (t != null) {
                    t.shutdown(c.reason() == CloseReason.LOCAL); // a local close flushes first
                }
            } else {
                listener.onEvent(event);
            }
        }
        refuseWaiting();
        if (t != null && !connectionClosed) {
            if (wakeWriter && (engine.wantsTransmit() || engine.isClosed())) {
                t.transmitReady();
            }
            if (!engine.wantsInput()) {
                inputWasPaused = true;
            } else if (inputWasPaused) {
                inputWasPaused = false;
                t.inputReady();
            }
        }
    }

    /** While the session drains, answers FIN to the streams that wait to be accepted (see {@link #refuseWaitingStreams}). */
    private void refuseWaiting() {
        while (refusalsLeft > 0 && !engine.isClosed() && engine.backlogSize() > 0) {
            int id;
            try {
                id = engine.accept();
            } catch (smux.api.SessionClosedException e) {
                return;
            }
            engine.stream(id).close();
            refusalsLeft--;
        }
    }
}
