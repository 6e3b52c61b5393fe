package smux.engine.runtime;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import smux.api.SessionClosedException;
import smux.api.SessionStats;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;
import smux.engine.CloseReason;
import smux.engine.EngineEvent;
import smux.engine.SmuxEngine;

/**
 * The thread-safe session around one {@link SmuxEngine}, shared by every transport: the lock,
 * the conditions blocked callers wait on, and the routing of engine events to them. A transport
 * only moves bytes: it feeds what it reads to {@link #onInput}, writes what {@link #pull} gives
 * it, and runs {@link #runTimers} when {@link #nanosUntilDeadline} says a timer is due; the core
 * tells it what to do through its {@link Driver}.
 *
 * <p>One lock guards the engine. Nothing blocking happens under it: socket reads and writes are
 * done by the transport outside the lock, and waits release it ({@link Condition#awaitNanos}).
 */
public final class SessionCore implements smux.api.Session {
    final ReentrantLock lock = new ReentrantLock();
    final SmuxEngine engine;
    private final Condition acceptable = lock.newCondition();
    private final Condition pinged = lock.newCondition();
    private final Condition terminated = lock.newCondition();
    private final Condition drained = lock.newCondition();
    private final SmuxConfig config;
    private final String transport;
    private final SocketAddress local;
    private final SocketAddress remote;
    private final String remoteName;
    private final Set<StreamHandle> handles = new HashSet<>();
    private Driver driver;
    private volatile boolean closed;
    private boolean connectionClosed;
    private Boolean probeAnswer;
    private boolean pingInFlight;
    private long pongNanos;
    private boolean pongArrived;
    private boolean draining;
    private int refusedWhileDraining;

    /**
     * Creates the session state; the transport then calls {@link #start}.
     *
     * @param client true for the dialing side
     * @param config the settings
     * @param transport the transport's name
     * @param local the connection's local address, or null
     * @param remote the connection's remote address, or null
     */
    public SessionCore(boolean client, SmuxConfig config, String transport, SocketAddress local, SocketAddress remote) {
        this.config = config;
        this.transport = transport;
        this.local = local;
        this.remote = remote;
        this.remoteName = String.valueOf(remote);
        this.engine = new SmuxEngine(client, config, System.nanoTime());
    }

    /**
     * Connects the driver and, when {@link SmuxConfig#probePeer()} is set on a client, queues the
     * probe. Call before the transport starts moving bytes.
     *
     * @param driver the transport's side
     */
    public void start(Driver driver) {
        lock.lock();
        try {
            this.driver = driver;
            if (config.probePeer() && engine.isClient()) {
                ThreadLocalRandom r = ThreadLocalRandom.current();
                engine.startProbe(r.nextInt(), r.nextInt(), System.nanoTime());
            }
            afterEngineCall();
        } finally {
            lock.unlock();
        }
        Telemetry.opened(remoteName, transport, engine.isClient(), engine.version());
    }

    /**
     * Waits for the probe's answer when the session was started with {@link SmuxConfig#probePeer()}.
     * Call after the transport runs; on a negative answer the session is closed.
     *
     * @throws IOException if the peer did not answer the probe correctly
     */
    public void awaitProbe() throws IOException {
        if (!config.probePeer() || !engine.isClient()) {
            return;
        }
        lock.lock();
        try {
            while (probeAnswer == null) {
                awaitUninterruptibly(pinged);
            }
            if (!probeAnswer) {
                SessionClosedException cause = engine.closeError();
                throw new IOException("the peer does not speak this protocol (probePeer is set): "
                        + (cause == null ? "no answer" : cause.getMessage()), cause);
            }
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ transport side

    /**
     * Feeds received bytes to the engine.
     *
     * @param src the bytes; in version 1 the engine may leave some when its budget is spent
     *     (then {@link #wantsInput()} is false until the application reads)
     */
    public void onInput(ByteBuffer src) {
        lock.lock();
        try {
            engine.handleInput(src, System.nanoTime());
            afterEngineCall();
        } finally {
            lock.unlock();
        }
    }

    /** The connection reached end-of-stream. */
    public void onEof() {
        lock.lock();
        try {
            engine.handleEof(System.nanoTime());
            afterEngineCall();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Reading or writing the connection failed.
     *
     * @param e the failure
     */
    public void onTransportError(IOException e) {
        lock.lock();
        try {
            engine.handleTransportError(e, System.nanoTime());
            afterEngineCall();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Pulls frames into the staging buffer. Runs due timers first.
     *
     * @param staging where frames go, at its position
     * @return bytes added
     */
    public int pull(ByteBuffer staging) {
        lock.lock();
        try {
            long now = System.nanoTime();
            if (engine.hasTimeout() && now - engine.nextTimeout() >= 0) {
                engine.handleTimeout(now);
            }
            int n = engine.pollTransmit(staging, now);
            afterEngineCall();
            return n;
        } finally {
            lock.unlock();
        }
    }

    /** Runs the engine's timers if one is due. */
    public void runTimers() {
        lock.lock();
        try {
            long now = System.nanoTime();
            if (engine.hasTimeout() && now - engine.nextTimeout() >= 0) {
                engine.handleTimeout(now);
                afterEngineCall();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Returns nanoseconds until the next timer, for a transport's wait.
     *
     * @return nanoseconds until the next deadline (0 if due), or -1 if no timer is armed
     */
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

    /** @return whether the engine has frames to send */
    public boolean wantsTransmit() {
        lock.lock();
        try {
            return engine.wantsTransmit();
        } finally {
            lock.unlock();
        }
    }

    /** @return whether the engine takes input (false in v1 while the budget is spent, or once closed) */
    public boolean wantsInput() {
        lock.lock();
        try {
            return engine.wantsInput();
        } finally {
            lock.unlock();
        }
    }

    /** @return whether a local close has nothing left to send */
    public boolean isFlushed() {
        lock.lock();
        try {
            return engine.isFlushed();
        } finally {
            lock.unlock();
        }
    }

    /** @return the session's lock, for a transport that waits on its own condition of it */
    public ReentrantLock lock() {
        return lock;
    }

    /** The transport closed the connection; {@link #close()} stops waiting. */
    public void connectionClosed() {
        lock.lock();
        try {
            if (connectionClosed) {
                return;
            }
            connectionClosed = true;
            if (!engine.isClosed()) {
                engine.handleTransportError(new IOException("the connection was closed"), System.nanoTime());
                afterEngineCall();
            }
            terminated.signalAll();
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ engine events

    /** Routes the engine's events to waiting callers. Call with the lock held after every engine call. */
    void afterEngineCall() {
        EngineEvent event;
        while ((event = engine.pollEvent()) != null) {
            if (event instanceof EngineEvent.Readable r) {
                StreamHandle h = (StreamHandle) engine.attachment(r.streamId());
                if (h != null) {
                    h.readable.signalAll();
                }
            } else if (event instanceof EngineEvent.Writable w) {
                StreamHandle h = (StreamHandle) engine.attachment(w.streamId());
                if (h != null) {
                    h.writable.signalAll();
                }
            } else if (event instanceof EngineEvent.StreamOpened) {
                acceptable.signal();
            } else if (event instanceof EngineEvent.ProbeResult p) {
                probeAnswer = p.smux();
                pinged.signalAll();
            } else if (event instanceof EngineEvent.Pong p) {
                pongNanos = p.rttNanos();
                pongArrived = true;
                pinged.signalAll();
            } else if (event instanceof EngineEvent.Closed c) {
                onClosed(c);
            }
        }
        if (draining) {
            refuseWhileDraining();
            drained.signalAll();
        }
        if (driver != null) {
            if (engine.wantsTransmit() || engine.isClosed()) {
                driver.transmitReady();
            }
            if (engine.wantsInput()) {
                driver.inputReady();
            }
        }
    }

    private void onClosed(EngineEvent.Closed c) {
        closed = true;
        acceptable.signalAll();
        pinged.signalAll();
        for (StreamHandle h : handles) {
            h.readable.signalAll();
            h.writable.signalAll();
        }
        Telemetry.closed(remoteName, c.reason(), c.reason() == CloseReason.LOCAL ? null : c.error(),
                engine.bytesSent(), engine.bytesReceived());
        if (driver != null) {
            driver.shutdown(c.reason() == CloseReason.LOCAL);
        }
    }

    void forget(StreamHandle h) {
        handles.remove(h);
    }

    // ------------------------------------------------------------------ Session

    @Override
    public SmuxStream openStream() throws IOException {
        lock.lock();
        try {
            if (draining && !closed) {
                throw new SessionClosedException("the session is draining (drain was called): it opens no new streams; "
                        + "open them on a new session");
            }
            int id = engine.openStream(System.nanoTime());
            StreamHandle h = adopt(id);
            afterEngineCall();
            return h;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public SmuxStream acceptStream() throws IOException {
        return accept(-1);
    }

    @Override
    public SmuxStream acceptStream(Duration timeout) throws IOException {
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("accept timeout must not be negative, got " + timeout);
        }
        return accept(timeout.toNanos());
    }

    private SmuxStream accept(long timeoutNanos) throws IOException {
        long deadline = System.nanoTime() + timeoutNanos;
        lock.lock();
        try {
            while (true) {
                if (draining && !closed) {
                    throw new SessionClosedException("the session is draining (drain was called): it accepts no new streams");
                }
                int id = engine.accept();
                if (id != SmuxEngine.NO_STREAM) {
                    StreamHandle h = adopt(id);
                    // data may already be buffered for it: nothing to signal, reads look first
                    return h;
                }
                if (timeoutNanos < 0) {
                    await(acceptable, -1);
                } else {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new SocketTimeoutException("no stream was opened by the peer within "
                                + Duration.ofNanos(timeoutNanos).toMillis() + " ms");
                    }
                    await(acceptable, left);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    private StreamHandle adopt(int id) throws IOException {
        StreamHandle h = new StreamHandle(this, id);
        engine.attach(id, h);
        handles.add(h);
        return h;
    }

    @Override
    public Duration ping() throws IOException {
        lock.lock();
        try {
            while (pingInFlight) {
                if (closed) {
                    throw engine.closeError();
                }
                await(pinged, -1);
            }
            ThreadLocalRandom r = ThreadLocalRandom.current();
            engine.ping(r.nextInt(), r.nextInt(), System.nanoTime());
            pingInFlight = true;
            pongArrived = false;
            try {
                afterEngineCall();
                while (!pongArrived) {
                    if (closed) {
                        throw engine.closeError();
                    }
                    await(pinged, -1);
                }
            } finally {
                pingInFlight = false;
                pinged.signalAll();
            }
            if (pongNanos < 0) {
                throw new SocketTimeoutException("the peer did not answer a ping within " + config.probeTimeout().toMillis() + " ms");
            }
            return Duration.ofNanos(pongNanos);
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ drain (see Session.drain)

    @Override
    public boolean drain(Duration timeout) {
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("drain timeout must not be negative, got " + timeout);
        }
        // saturate: a timeout of centuries means "wait for the streams", not an overflow
        long nanos = timeout.compareTo(Duration.ofDays(365)) > 0 ? TimeUnit.DAYS.toNanos(365) : timeout.toNanos();
        boolean interrupted = Thread.interrupted(); // the flag ends the wait; it is restored below
        boolean finished;
        lock.lock();
        try {
            if (!draining) {
                draining = true;
                acceptable.signalAll(); // waiting accepts now fail
                afterEngineCall();      // refuses the backlog and sends those FINs
            }
            long deadline = System.nanoTime() + nanos;
            while (!interrupted && !closed && streamsInFlight() > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                interrupted = awaitNanosUninterruptibly(drained, left);
            }
            finished = streamsInFlight() == 0;
        } finally {
            lock.unlock();
        }
        close();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return finished;
    }

    /** Streams the application opened or accepted and has not closed yet (the backlog is not in flight). */
    private int streamsInFlight() {
        return engine.streamCount() - engine.backlogSize();
    }

    /**
     * While draining, answers FIN to the streams the peer opened that wait to be accepted. Bounded
     * per drain by the accept backlog, so a peer that keeps opening streams and never reads cannot
     * make the refusals queue without end; beyond it the engine's own backlog limit refuses.
     */
    private void refuseWhileDraining() {
        if (engine.isClosed()) {
            return;
        }
        while (engine.backlogSize() > 0 && refusedWhileDraining < config.acceptBacklog()) {
            int id;
            try {
                id = engine.accept();
            } catch (SessionClosedException e) {
                return;
            }
            engine.closeStream(id);
            refusedWhileDraining++;
        }
    }

    @Override
    public void close() {
        boolean interrupted = Thread.interrupted(); // close must finish; the flag is restored below
        try {
            interrupted |= closeBounded();
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** @return whether the thread was interrupted while waiting */
    private boolean closeBounded() {
        boolean interrupted = false;
        Driver d;
        lock.lock();
        try {
            engine.close(System.nanoTime());
            afterEngineCall();
            d = driver;
            long deadline = System.nanoTime() + config.closeTimeout().toNanos();
            while (!connectionClosed && d != null) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                interrupted |= awaitNanosUninterruptibly(terminated, left);
            }
            if (connectionClosed || d == null) {
                return interrupted;
            }
        } finally {
            lock.unlock();
        }
        // The flush did not finish in time (a stuck socket): close the connection regardless.
        d.forceClose();
        lock.lock();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
            while (!connectionClosed) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                interrupted |= awaitNanosUninterruptibly(terminated, left);
            }
        } finally {
            lock.unlock();
        }
        return interrupted;
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public Optional<SessionClosedException> closeCause() {
        lock.lock();
        try {
            if (!engine.isClosed() || engine.closeReason() == CloseReason.LOCAL) {
                return Optional.empty();
            }
            return Optional.of(engine.closeError());
        } finally {
            lock.unlock();
        }
    }

    /** @return why the session ended, or null while it is open */
    public CloseReason closeReason() {
        lock.lock();
        try {
            return engine.closeReason();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int streamCount() {
        lock.lock();
        try {
            return engine.streamCount();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public SessionStats stats() {
        lock.lock();
        try {
            return new SessionStats(engine.streamCount(), engine.streamsOpened(), engine.streamsAccepted(),
                    engine.streamsRefused(), engine.bytesSent(), engine.bytesReceived(), engine.bytesDropped(),
                    engine.framesSent(), engine.framesReceived(), engine.bufferedBytes());
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean isClient() {
        return engine.isClient();
    }

    @Override
    public boolean isPeerVerified() {
        lock.lock();
        try {
            return engine.peerVerified();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public SmuxConfig config() {
        return config;
    }

    @Override
    public String transport() {
        return transport;
    }

    @Override
    public Optional<SocketAddress> localAddress() {
        return Optional.ofNullable(local);
    }

    @Override
    public Optional<SocketAddress> remoteAddress() {
        return Optional.ofNullable(remote);
    }

    @Override
    public String toString() {
        return "smux session " + (engine.isClient() ? "client" : "server") + " " + local + " -> " + remote
                + " via " + transport + (closed ? " (closed)" : "");
    }

    // ------------------------------------------------------------------ waiting

    /**
     * Waits on a condition of the lock (held), up to {@code nanos} (negative: no limit).
     *
     * @throws InterruptedIOException if the thread is interrupted (its flag is set again)
     */
    static void await(Condition c, long nanos) throws InterruptedIOException {
        try {
            if (nanos < 0) {
                c.await();
            } else {
                c.awaitNanos(nanos);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting");
        }
    }

    private static void awaitUninterruptibly(Condition c) {
        c.awaitUninterruptibly();
    }

    /** Waits up to {@code nanos}. @return true if an interrupt ended the wait (the caller restores the flag) */
    private static boolean awaitNanosUninterruptibly(Condition c, long nanos) {
        try {
            c.awaitNanos(nanos);
            return false;
        } catch (InterruptedException e) {
            return true;
        }
    }
}
