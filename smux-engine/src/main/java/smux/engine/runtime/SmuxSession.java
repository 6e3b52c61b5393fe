package smux.engine.runtime;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import smux.api.AbandonedBytesException;
import smux.api.LimitExceededException;
import smux.api.MemoryBudget;
import smux.api.Session;
import smux.api.SessionClosedException;
import smux.api.SessionStats;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;
import smux.engine.CloseReason;
import smux.engine.EngineEvent;
import smux.engine.SmuxEngine;
import smux.engine.StreamSides;
import smux.engine.StreamView;

/**
 * The session as the application sees it ({@link Session}): opening and accepting streams, ping,
 * close, stats. Its calls are control calls: they take the engine driver's lock briefly and wait
 * on its conditions. The data path does not come here: streams read and write through their own
 * sides ({@link StreamHandle}), and the transport drives the engine through {@link #link()}.
 *
 * <p>A transport creates it ({@link #create}), starts it with its {@link Driver}, and runs.
 */
public final class SmuxSession implements Session, StreamSides.Factory {
    private final EngineDriver driver;
    private final SmuxEngine engine;
    /** The receive segments of this session's streams; let go when the session is quiet. */
    private final SegmentPool pool = new SegmentPool(256);
    private final Condition acceptable;
    private final Condition pinged;
    private final Condition terminated;
    private final Condition drained;
    private final SmuxConfig config;
    private final String transport;
    private final SocketAddress local;
    private final SocketAddress remote;
    private final String remoteName;
    /** Streams the application holds (guarded by the driver's lock), to wake them when the session ends. */
    private final Set<StreamHandle> handles = new HashSet<>();
    private volatile SessionClosedException closedError;
    private Boolean probeAnswer;
    private boolean pingInFlight;
    private long pongNanos;
    private boolean pongArrived;
    /** Committed payload a local close gave up (reported by the transport before the connection closed). */
    private volatile long committedBytesAbandoned;
    /** The connection's failure during the close's flush, or null when the session forced the close. */
    private volatile IOException abandonFailure;
    /** Set by the one close call that reports the abandoned bytes (log, JFR, exception). */
    private final AtomicBoolean abandonReported = new AtomicBoolean();
    private boolean draining;
    private int refusedWhileDraining;

    private SmuxSession(boolean client, SmuxConfig config, String transport, SocketAddress local, SocketAddress remote)
            throws LimitExceededException {
        this.config = config;
        this.transport = transport;
        this.local = local;
        this.remote = remote;
        this.remoteName = String.valueOf(remote);
        this.engine = new SmuxEngine(client, config, System.nanoTime(), this);
        if (engine.isClosed()) {
            throw new LimitExceededException(engine.closeError().getMessage());
        }
        this.driver = new EngineDriver(engine, this);
        this.acceptable = driver.lock.newCondition();
        this.pinged = driver.lock.newCondition();
        this.terminated = driver.lock.newCondition();
        this.drained = driver.lock.newCondition();
    }

    /**
     * Creates the session state; the transport then calls {@link #start} and drives
     * {@link #link()}.
     *
     * @param client true for the dialing side
     * @param config the settings
     * @param transport the transport's name
     * @param local the connection's local address, or null
     * @param remote the connection's remote address, or null
     * @return the session
     * @throws LimitExceededException if the shared memory budget has no room for the session
     */
    public static SmuxSession create(boolean client, SmuxConfig config, String transport, SocketAddress local,
                                     SocketAddress remote) throws LimitExceededException {
        return new SmuxSession(client, config, transport, local, remote);
    }

    /** @return what the transport drives: input, output, timers */
    public SessionLink link() {
        return driver;
    }

    /**
     * Connects the transport and, when {@link SmuxConfig#probePeer()} is set on a client, queues
     * the probe. Call before the transport starts moving bytes.
     *
     * @param d the transport's side
     */
    public void start(Driver d) {
        driver.lock.lock();
        try {
            driver.start(d);
            if (config.probePeer() && engine.isClient()) {
                ThreadLocalRandom r = ThreadLocalRandom.current();
                engine.startProbe(r.nextInt(), r.nextInt(), System.nanoTime());
            }
            driver.routeEvents(true);
        } finally {
            driver.lock.unlock();
        }
        Telemetry.opened(remoteName, transport, engine.isClient(), engine.version());
        Telemetry.budgetInUse(config.memoryBudget());
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
        driver.lock.lock();
        try {
            while (probeAnswer == null) {
                pinged.awaitUninterruptibly();
            }
            if (!probeAnswer) {
                SessionClosedException cause = engine.closeError();
                throw new IOException("the peer does not speak this protocol (probePeer is set): "
                        + (cause == null ? "no answer" : cause.getMessage()), cause);
            }
        } finally {
            driver.lock.unlock();
        }
    }

    // ------------------------------------------------------------------ from the driver (lock held)

    void onEvent(EngineEvent event) {
        if (event instanceof EngineEvent.StreamOpened) {
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
        } else if (event instanceof EngineEvent.Quiet) {
            pool.trim(); // a burst's pooled buffers need not outlive it
        }
    }

    /** A stream is born (opened here, or by the peer's SYN): its handle, with its two sides. Lock held. */
    @Override
    public StreamSides create(int id) {
        return new StreamHandle(id, driver, pool);
    }

    private void onClosed(EngineEvent.Closed c) {
        closedError = c.error();
        acceptable.signalAll();
        pinged.signalAll();
        boolean local = c.reason() == CloseReason.LOCAL;
        for (StreamHandle h : handles) {
            h.sessionEnded(c.error(), local);
        }
        Telemetry.closed(remoteName, c.reason(), local ? null : c.error(), engine.bytesSent(), engine.bytesReceived());
        Driver d = driver.transport();
        if (d != null) {
            d.shutdown(local);
        }
    }

    /** After every engine call (lock held): a draining session refuses what waits to be accepted. */
    void afterEngineCall() {
        if (draining) {
            refuseWhileDraining();
            drained.signalAll();
        }
    }

    void forget(StreamHandle h) {
        handles.remove(h);
    }

    void connectionEnded() {
        terminated.signalAll();
    }

    void committedBytesAbandoned(long payloadBytes, IOException failure) {
        if (payloadBytes <= 0) {
            return;
        }
        if (failure != null && abandonFailure == null) {
            abandonFailure = failure;
        }
        committedBytesAbandoned += payloadBytes; // one transport thread reports, once
    }

    /** @return the exception for calls on a session that is over, or null while it runs */
    SessionClosedException errorIfClosed() {
        return closedError;
    }

    // ------------------------------------------------------------------ Session

    @Override
    public SmuxStream openStream() throws IOException {
        driver.lock.lock();
        try {
            if (draining && closedError == null) {
                throw new SessionClosedException("the session is draining (drain was called): it opens no new streams; "
                        + "open them on a new session");
            }
            int id = engine.openStream(System.nanoTime());
            StreamHandle h = adopt(id);
            driver.routeEvents(true);
            return h;
        } finally {
            driver.lock.unlock();
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
        driver.lock.lock();
        try {
            while (true) {
                if (draining && closedError == null) {
                    throw new SessionClosedException("the session is draining (drain was called): it accepts no new streams");
                }
                int id = engine.accept();
                if (id != SmuxEngine.NO_STREAM) {
                    return adopt(id); // its handle was made when its SYN arrived, and holds what arrived since
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
            driver.lock.unlock();
        }
    }

    private StreamHandle adopt(int id) {
        StreamHandle h = (StreamHandle) engine.stream(id).sides();
        handles.add(h);
        SessionClosedException over = closedError;
        if (over != null) {
            h.sessionEnded(over, engine.closeReason() == CloseReason.LOCAL); // accepted after the end
        }
        return h;
    }

    @Override
    public Duration ping() throws IOException {
        driver.lock.lock();
        try {
            while (pingInFlight) {
                if (closedError != null) {
                    throw closedError;
                }
                await(pinged, -1);
            }
            ThreadLocalRandom r = ThreadLocalRandom.current();
            engine.ping(r.nextInt(), r.nextInt(), System.nanoTime());
            pingInFlight = true;
            pongArrived = false;
            try {
                driver.routeEvents(true);
                while (!pongArrived) {
                    if (closedError != null) {
                        throw closedError;
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
            driver.lock.unlock();
        }
    }

    // ------------------------------------------------------------------ drain (see Session.drain)

    @Override
    public boolean drain(Duration timeout) throws AbandonedBytesException {
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("drain timeout must not be negative, got " + timeout);
        }
        // saturate: a timeout of centuries means "wait for the streams", not an overflow
        long nanos = timeout.compareTo(Duration.ofDays(365)) > 0 ? TimeUnit.DAYS.toNanos(365) : timeout.toNanos();
        boolean interrupted = Thread.interrupted(); // the flag ends the wait; it is restored below
        boolean finished;
        driver.lock.lock();
        try {
            if (!draining) {
                draining = true;
                acceptable.signalAll(); // waiting accepts now fail
                driver.routeEvents(true); // refuses the backlog and sends those FINs
            }
            long deadline = System.nanoTime() + nanos;
            while (!interrupted && closedError == null && streamsInFlight() > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                interrupted = awaitNanosUninterruptibly(drained, left);
            }
            finished = streamsInFlight() == 0;
        } finally {
            driver.lock.unlock();
        }
        try {
            close();
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
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
            engine.stream(id).close();
            refusedWhileDraining++;
        }
    }

    @Override
    public void close() throws AbandonedBytesException {
        boolean interrupted = Thread.interrupted(); // close must finish; the flag is restored below
        try {
            interrupted |= closeBounded();
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        long abandoned = committedBytesAbandoned;
        if (abandoned > 0 && abandonReported.compareAndSet(false, true)) {
            Telemetry.closeAbandoned(remoteName, abandoned, config.closeTimeout(), abandonFailure);
            throw abandoned(abandoned);
        }
    }

    /** The one account of a close that gave up committed bytes: the exception, the cause and the log say the same. */
    private AbandonedBytesException abandoned(long bytes) {
        IOException failure = abandonFailure;
        String why = failure == null
                ? "the connection accepted nothing for closeTimeout = " + config.closeTimeout().toMillis()
                        + " ms (the peer did not read)"
                : "the connection failed while the close flushed: " + failure.getMessage();
        return new AbandonedBytesException("the session with " + remoteName + " was closed, but " + bytes
                + " committed bytes will not reach the peer: " + why, bytes, failure);
    }

    /**
     * Closes the engine and waits for the transport to flush what is committed and close the
     * connection. The wait ends early only if the connection makes no progress for a whole
     * {@link SmuxConfig#closeTimeout()}: a peer that reads, however slowly, gets every committed
     * byte; a peer that does not read costs at most the timeout, and the bytes given up are
     * reported ({@link #stats()}, {@link #closeCause()}, the log and a JFR event).
     *
     * @return whether the thread was interrupted while waiting
     */
    private boolean closeBounded() {
        boolean interrupted = false;
        Driver d;
        driver.lock.lock();
        try {
            engine.close(System.nanoTime());
            driver.routeEvents(true);
            d = driver.transport();
            long timeout = config.closeTimeout().toNanos();
            long deadline = System.nanoTime() + timeout;
            long progress = d == null ? 0 : d.bytesWritten();
            while (!driver.isConnectionClosed() && d != null) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    long now = d.bytesWritten();
                    if (now == progress) {
                        break;
                    }
                    progress = now; // the peer is reading: give the flush another timeout
                    deadline = System.nanoTime() + timeout;
                    continue;
                }
                interrupted |= awaitNanosUninterruptibly(terminated, left);
            }
            if (driver.isConnectionClosed() || d == null) {
                return interrupted;
            }
        } finally {
            driver.lock.unlock();
        }
        // The flush stood still for a whole timeout (the peer does not read): close regardless.
        // The transport counts what it drops before it reports the connection closed: wait for
        // that (closing the socket ends any blocked write at once), so the count is complete.
        d.forceClose();
        driver.lock.lock();
        try {
            long deadline = System.nanoTime() + Math.max(TimeUnit.SECONDS.toNanos(1), config.closeTimeout().toNanos());
            while (!driver.isConnectionClosed()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                interrupted |= awaitNanosUninterruptibly(terminated, left);
            }
        } finally {
            driver.lock.unlock();
        }
        return interrupted;
    }

    @Override
    public boolean isClosed() {
        return closedError != null;
    }

    @Override
    public Optional<SessionClosedException> closeCause() {
        driver.lock.lock();
        try {
            if (!engine.isClosed()) {
                return Optional.empty();
            }
            if (engine.closeReason() == CloseReason.LOCAL) {
                long abandoned = committedBytesAbandoned;
                if (abandoned == 0) {
                    return Optional.empty();
                }
                AbandonedBytesException e = abandoned(abandoned);
                return Optional.of(new SessionClosedException(e.getMessage(), e));
            }
            return Optional.of(engine.closeError());
        } finally {
            driver.lock.unlock();
        }
    }

    /** @return why the session ended, or null while it is open */
    public CloseReason closeReason() {
        driver.lock.lock();
        try {
            return engine.closeReason();
        } finally {
            driver.lock.unlock();
        }
    }

    @Override
    public int streamCount() {
        driver.lock.lock();
        try {
            return engine.streamCount();
        } finally {
            driver.lock.unlock();
        }
    }

    @Override
    public SessionStats stats() {
        driver.lock.lock();
        try {
            MemoryBudget budget = config.memoryBudget();
            driver.reportAllConsumed(handles); // streams report in batches; stats count to the byte
            long dropped = 0;
            for (StreamHandle h : handles) {
                dropped += h.rx.dropped();
            }
            return new SessionStats(engine.streamCount(), engine.streamsOpened(), engine.streamsAccepted(),
                    engine.streamsRefused(), engine.bytesSent(), engine.bytesReceived(), engine.bytesDropped() + dropped,
                    engine.framesSent(), engine.framesReceived(), engine.bufferedBytes(), engine.reservedBytes(),
                    config.maxSessionBuffer(), config.maxStreams(), budget.used(), budget.capacity(),
                    committedBytesAbandoned);
        } finally {
            driver.lock.unlock();
        }
    }

    @Override
    public boolean isClient() {
        return engine.isClient();
    }

    @Override
    public boolean isPeerVerified() {
        driver.lock.lock();
        try {
            return engine.peerVerified();
        } finally {
            driver.lock.unlock();
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
                + " via " + transport + (isClosed() ? " (closed)" : "");
    }

    /** @return the streams the application holds now (a copy), for tests */
    List<StreamHandle> handlesForTest() {
        driver.lock.lock();
        try {
            return new ArrayList<>(handles);
        } finally {
            driver.lock.unlock();
        }
    }

    // ------------------------------------------------------------------ waiting

    /**
     * Waits on a condition of the driver's lock (held), up to {@code nanos} (negative: no limit).
     *
     * @throws InterruptedIOException if the thread is interrupted (its flag is set again)
     */
    private static void await(Condition c, long nanos) throws InterruptedIOException {
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
