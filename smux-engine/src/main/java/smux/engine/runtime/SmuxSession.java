package smux.engine.runtime;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import smux.api.AbandonedBytesException;
import smux.api.LimitExceededException;
import smux.api.MemoryBudget;
import smux.api.Session;
import smux.api.SessionClosedException;
import smux.api.SessionStats;
import smux.api.StallStats;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;
import smux.engine.CloseReason;
import smux.engine.EngineEvent;
import smux.engine.SmuxEngine;
import smux.engine.StreamView;

/**
 * The session as the application sees it ({@link Session}): opening and accepting streams, ping,
 * close, stats. Its calls are control calls: each passes its work on the engine to the session's
 * pump ({@link SessionPump#call}), which alone holds the engine and its lock, and waits on the
 * session's own lock for what the pump reports ({@link SessionPump.Listener}). The data path does
 * not come here: streams read and write through their own sides ({@link StreamHandle}), which the
 * session's {@link SessionStreams} makes when the engine admits a stream, and the transport drives
 * the pump through {@link #link()}.
 *
 * <p>Waiting. Everything the pump reports bumps a count of news under the session's lock and
 * wakes every waiter. A call reads the count before it asks the engine, and waits only while it
 * has not moved: news that arrives between the question and the wait is never lost. The pump calls
 * the listener with its lock held and the session never calls the pump with its own lock held, so
 * the two locks are only ever taken in that order.
 *
 * <p>A transport creates it ({@link #create}), starts it with its {@link Transport}, and runs.
 */
public final class SmuxSession implements Session {
    private final SessionPump pump;
    /** Makes the streams' handles, keeps those the application took, and passes their news on. */
    private final SessionStreams streams;
    private final SmuxConfig config;
    private final boolean client;
    private final String transport;
    private final SocketAddress local;
    private final SocketAddress remote;
    private final String remoteName;

    /** The session's own lock: guards what the pump reports and the waits for it, never the engine. */
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Bumped by everything that may end a wait (see the class comment). */
    private long news;
    /** Written under the lock (then news is published); read without it by a closing thread. */
    private volatile boolean connectionClosed;
    private Boolean probeAnswer;
    private boolean pingInFlight;
    private long pongNanos;
    private boolean pongArrived;
    private boolean draining;

    /** What a local close's flush gave up, if anything. */
    private final AbandonedBytes abandoned;

    private SmuxSession(boolean client, SmuxConfig config, String transport, SocketAddress local, SocketAddress remote)
            throws LimitExceededException {
        this.config = config;
        this.client = client;
        this.transport = transport;
        this.local = local;
        this.remote = remote;
        this.remoteName = String.valueOf(remote);
        this.abandoned = new AbandonedBytes(remoteName, config.closeTimeout());
        this.streams = new SessionStreams(this, this::publishNews);
        SmuxEngine engine = new SmuxEngine(client, config, System.nanoTime(), streams);
        if (engine.isClosed()) {
            throw new LimitExceededException(engine.closeError().getMessage());
        }
        this.pump = new SessionPump(engine, new PumpEvents());
        streams.attach(pump);
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
        return pump;
    }

    /**
     * Connects the transport and, when {@link SmuxConfig#probePeer()} is set on a client, queues
     * the probe. Call before the transport starts moving bytes.
     *
     * @param t the transport's side
     */
    public void start(Transport t) {
        pump.start(t);
        if (config.probePeer() && client) {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            int v1 = r.nextInt();
            int v2 = r.nextInt();
            pump.call(e -> {
                e.startProbe(v1, v2, System.nanoTime());
                return null;
            });
        }
        Telemetry.opened(remoteName, transport, client, config.version());
        Telemetry.budgetInUse(config.memoryBudget());
    }

    /**
     * Waits for the probe's answer when the session was started with {@link SmuxConfig#probePeer()}.
     * Call after the transport runs; on a negative answer the session is closed.
     *
     * @throws IOException if the peer did not answer the probe correctly
     */
    public void awaitProbe() throws IOException {
        if (!config.probePeer() || !client) {
            return;
        }
        lock.lock();
        try {
            // a negative answer comes with the session's end: wait for both, the end names the cause
            while (probeAnswer == null || (!probeAnswer && !isClosed())) {
                changed.awaitUninterruptibly();
            }
            if (!probeAnswer) {
                SessionClosedException cause = streams.sessionError();
                throw new IOException("the peer does not speak this protocol (probePeer is set): "
                        + cause.getMessage(), cause);
            }
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ from the pump (its lock held)

    /** What the pump reports: recorded under the session's lock, and every waiter woken. */
    private final class PumpEvents implements SessionPump.Listener {
        @Override
        public void onEvent(EngineEvent event) {
            if (event instanceof EngineEvent.Quiet) {
                streams.quiet();
                return;
            }
            lock.lock();
            try {
                if (event instanceof EngineEvent.ProbeResult p) {
                    probeAnswer = p.smux();
                } else if (event instanceof EngineEvent.Pong p) {
                    pongNanos = p.rttNanos();
                    pongArrived = true;
                }
                publish(); // and StreamOpened: an accept may take it
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void sessionClosed(EngineEvent.Closed c, long bytesSent, long bytesReceived) {
            boolean local = c.reason() == CloseReason.LOCAL;
            streams.sessionEnded(c.error(), local);
            publishNews();
            Telemetry.closed(remoteName, c.reason(), local ? null : c.error(), bytesSent, bytesReceived);
        }

        @Override
        public void committedBytesAbandoned(long payloadBytes, IOException failure) {
            abandoned.add(payloadBytes, failure); // one transport thread reports, once
        }

        @Override
        public void connectionClosed() {
            lock.lock();
            try {
                connectionClosed = true;
                publish();
            } finally {
                lock.unlock();
            }
        }
    }

    // ------------------------------------------------------------------ Session

    @Override
    public SmuxStream openStream() throws IOException {
        refuseIfDraining("opens no new streams; open them on a new session");
        return streams.adopt(pump.call(e -> (StreamHandle) e.stream(e.openStream(System.nanoTime())).sides()));
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
        while (true) {
            long seen = refuseIfDraining("accepts no new streams");
            // its handle was made when its SYN arrived, and holds what arrived since
            StreamHandle h = pump.call(e -> {
                int id = e.accept();
                return id == SmuxEngine.NO_STREAM ? null : (StreamHandle) e.stream(id).sides();
            });
            if (h != null) {
                return streams.adopt(h);
            }
            long left = timeoutNanos < 0 ? -1 : deadline - System.nanoTime();
            if (timeoutNanos >= 0 && left <= 0) {
                throw new SocketTimeoutException("no stream was opened by the peer within "
                        + Duration.ofNanos(timeoutNanos).toMillis() + " ms");
            }
            awaitNews(seen, left);
        }
    }

    /**
     * @return the news count, read before the engine is asked
     * @throws SessionClosedException if the session drains (and is not over yet)
     */
    private long refuseIfDraining(String what) throws SessionClosedException {
        lock.lock();
        try {
            if (draining && !isClosed()) {
                throw new SessionClosedException("the session is draining (drain was called): it " + what);
            }
            return news;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Duration ping() throws IOException {
        lock.lock();
        try {
            while (pingInFlight) {
                if (isClosed()) {
                    throw streams.sessionError();
                }
                await(-1);
            }
            pingInFlight = true;
            pongArrived = false;
        } finally {
            lock.unlock();
        }
        try {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            int v1 = r.nextInt();
            int v2 = r.nextInt();
            pump.call(e -> {
                e.ping(v1, v2, System.nanoTime());
                return null;
            });
            long rtt;
            lock.lock();
            try {
                while (!pongArrived) {
                    if (isClosed()) {
                        throw streams.sessionError();
                    }
                    await(-1);
                }
                rtt = pongNanos;
            } finally {
                lock.unlock();
            }
            if (rtt < 0) {
                throw new SocketTimeoutException("the peer did not answer a ping within " + config.probeTimeout().toMillis() + " ms");
            }
            return Duration.ofNanos(rtt);
        } finally {
            lock.lock();
            try {
                pingInFlight = false;
                publish();
            } finally {
                lock.unlock();
            }
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
        boolean first;
        lock.lock();
        try {
            first = !draining;
            draining = true;
            publish(); // waiting accepts now fail
        } finally {
            lock.unlock();
        }
        if (first) {
            pump.refuseWaitingStreams(config.acceptBacklog()); // and sends those FINs
        }
        long deadline = System.nanoTime() + nanos;
        int inFlight;
        while (true) {
            long seen = newsCount();
            inFlight = pump.call(SmuxSession::streamsInFlight);
            long left = deadline - System.nanoTime();
            if (interrupted || isClosed() || inFlight == 0 || left <= 0) {
                break;
            }
            interrupted = awaitNewsUninterruptibly(seen, left);
        }
        try {
            close();
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        return inFlight == 0;
    }

    /** Streams the application opened or accepted and has not closed yet (the backlog is not in flight). */
    private static int streamsInFlight(SmuxEngine engine) {
        return engine.streamCount() - engine.backlogSize();
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
        AbandonedBytesException lost = abandoned.takeReport();
        if (lost != null) {
            throw lost;
        }
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
        pump.call(e -> {
            e.close(System.nanoTime()); // the pump tells the transport to flush and shut down
            return null;
        });
        Transport t = pump.transport();
        if (t == null) {
            return false;
        }
        boolean interrupted = false;
        long timeout = config.closeTimeout().toNanos();
        long deadline = System.nanoTime() + timeout;
        long progress = t.bytesWritten();
        while (true) {
            long seen = newsCount();
            if (connectionClosed) {
                return interrupted;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                long now = t.bytesWritten();
                if (now == progress) {
                    break;
                }
                progress = now; // the peer is reading: give the flush another timeout
                deadline = System.nanoTime() + timeout;
                continue;
            }
            interrupted |= awaitNewsUninterruptibly(seen, left);
        }
        // The flush stood still for a whole timeout (the peer does not read): close regardless.
        // The transport counts what it drops before it reports the connection closed: wait for
        // that (closing the socket ends any blocked write at once), so the count is complete.
        t.forceClose();
        deadline = System.nanoTime() + Math.max(TimeUnit.SECONDS.toNanos(1), timeout);
        while (true) {
            long seen = newsCount();
            long left = deadline - System.nanoTime();
            if (connectionClosed || left <= 0) {
                return interrupted;
            }
            interrupted |= awaitNewsUninterruptibly(seen, left);
        }
    }

    @Override
    public boolean isClosed() {
        return streams.sessionError() != null;
    }

    @Override
    public Optional<SessionClosedException> closeCause() {
        return pump.call(e -> {
            if (!e.isClosed()) {
                return Optional.empty();
            }
            if (e.closeReason() == CloseReason.LOCAL) {
                AbandonedBytesException lost = abandoned.exception();
                return lost == null ? Optional.empty() : Optional.of(new SessionClosedException(lost.getMessage(), lost));
            }
            return Optional.of(e.closeError());
        });
    }

    /** @return why the session ended, or null while it is open */
    public CloseReason closeReason() {
        return pump.call(SmuxEngine::closeReason);
    }

    @Override
    public int streamCount() {
        return pump.call(SmuxEngine::streamCount);
    }

    @Override
    public SessionStats stats() {
        List<StreamHandle> held = streams.held();
        return pump.call(e -> {
            long dropped = 0;
            for (StreamHandle h : held) {
                StreamView v = h.viewIn(e);
                if (v != null) {
                    v.consumed(h.rx.consumed()); // streams report in batches; stats count to the byte
                }
                dropped += h.rx.dropped();
            }
            MemoryBudget budget = config.memoryBudget();
            StallStats stalls = streams.stallTotals().snapshot();
            for (StreamHandle h : held) {
                stalls = stalls.plus(h.ongoingStalls()); // the stalls going on now
            }
            return new SessionStats(e.streamCount(), e.streamsOpened(), e.streamsAccepted(),
                    e.streamsRefused(), e.bytesSent(), e.bytesReceived(), e.bytesDropped() + dropped,
                    e.framesSent(), e.framesReceived(), e.bufferedBytes(), e.reservedBytes(),
                    config.maxSessionBuffer(), config.maxStreams(), budget.used(), budget.capacity(),
                    abandoned.bytes(), e.streamsShed(), e.creditStreams(), stalls);
        });
    }

    @Override
    public boolean isClient() {
        return client;
    }

    @Override
    public boolean isPeerVerified() {
        return pump.call(SmuxEngine::peerVerified);
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
        return "smux session " + (client ? "client" : "server") + " " + local + " -> " + remote
                + " via " + transport + (isClosed() ? " (closed)" : "");
    }

    // ------------------------------------------------------------------ waiting (the session's own lock)

    /** Something a waiter may be waiting for happened. Lock held. */
    private void publish() {
        news++;
        changed.signalAll();
    }

    /** As {@link #publish}, taking the lock. */
    private void publishNews() {
        lock.lock();
        try {
            publish();
        } finally {
            lock.unlock();
        }
    }

    private long newsCount() {
        lock.lock();
        try {
            return news;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits on the session's condition (lock held), up to {@code nanos} (negative: no limit).
     *
     * @throws InterruptedIOException if the thread is interrupted (its flag is set again)
     */
    private void await(long nanos) throws InterruptedIOException {
        try {
            if (nanos < 0) {
                changed.await();
            } else {
                changed.awaitNanos(nanos);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting");
        }
    }

    /** Waits until there is news since {@code seen}, or {@code nanos} pass (negative: no limit). */
    private void awaitNews(long seen, long nanos) throws InterruptedIOException {
        lock.lock();
        try {
            if (news == seen) {
                await(nanos);
            }
        } finally {
            lock.unlock();
        }
    }

    /** As {@link #awaitNews}, but an interrupt only ends the wait. @return whether one did (the caller restores the flag) */
    private boolean awaitNewsUninterruptibly(long seen, long nanos) {
        lock.lock();
        try {
            if (news == seen) {
                changed.awaitNanos(nanos);
            }
            return false;
        } catch (InterruptedException e) {
            return true;
        } finally {
            lock.unlock();
        }
    }
}
