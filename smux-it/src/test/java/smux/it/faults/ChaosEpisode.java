package smux.it.faults;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import smux.api.AbandonedBytesException;
import smux.api.Session;
import smux.api.SessionClosedException;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;
import smux.it.toxi.ToxiproxyBackend;

/**
 * One session pair through its own Toxiproxy proxy for a few seconds of random traffic under random faults.
 *
 * <ol>
 *   <li>Transport, version, window and frame size are drawn from the seed; both sessions use them, with a
 *       250 ms / 2 s keepalive so that a black-holed connection is noticed quickly.</li>
 *   <li>For the episode's length both sides keep opening streams (up to three of their own at a time, at
 *       random moments) and accept the other's; every stream carries data both ways ({@link ChaosTransfer}).
 *       Meanwhile {@link ToxicChaos} adds and removes toxics, and in some episodes ends the connection.</li>
 *   <li>Then no more streams are opened and the benign toxics come off (after a terminal toxic the connection is
 *       cut instead, once the keepalive timeout has passed); every stream must finish within
 *       {@value #DRAIN_SECONDS} s (completely, or failing with its session). A stream still running then is an
 *       anomaly: something hangs.</li>
 *   <li>Both sessions are closed, every stream is booked ({@link ChaosTransfer#account}), the proxy is
 *       deleted.</li>
 * </ol>
 */
final class ChaosEpisode {
    static final long DRAIN_SECONDS = 60;
    private static final Duration KEEPALIVE_TIMEOUT = Duration.ofSeconds(2);
    private static final int OWN_STREAMS_AT_ONCE = 3;
    private static final int[] WINDOWS = {32 * 1024, 128 * 1024, 512 * 1024, 1024 * 1024};

    private final ToxiproxyBackend toxiproxy;
    /** The run's ledger; the episode books into its own and merges it at the end. */
    private final FaultLedger runLedger;
    private final FaultLedger ledger;
    private final String name;
    private final long seed;
    private final Duration length;
    private final boolean faults;
    private final String transport;
    private final ExecutorService pool;
    /** The largest a stream's direction may be; from the seed, so both sides of a stream agree on its sizes. */
    private final long maxBytes;
    private final Map<Long, ChaosTransfer> transfers = new ConcurrentHashMap<>();
    private volatile boolean opening = true;
    private volatile boolean closing;

    /**
     * @param transport the transport, or null to draw it from the seed
     * @param faults whether to inject faults (false for a warm-up)
     * @param pool runs the streams' readers and writers and the openers/acceptors; must not bound its threads
     */
    ChaosEpisode(ToxiproxyBackend toxiproxy, FaultLedger ledger, String name, long seed, Duration length,
                 String transport, boolean faults, ExecutorService pool) {
        this.toxiproxy = toxiproxy;
        this.runLedger = ledger;
        this.ledger = new FaultLedger(name);
        this.name = name;
        this.seed = seed;
        this.length = length;
        this.faults = faults;
        this.transport = transport;
        this.pool = pool;
        this.maxBytes = new SplittableRandom(~seed).nextInt(4) == 0 ? 4 << 20 : 512 * 1024;
    }

    void run() throws Exception {
        SplittableRandom r = new SplittableRandom(seed);
        String drawn = Faults.TRANSPORTS[r.nextInt(Faults.TRANSPORTS.length)];
        String transport = this.transport != null ? this.transport : drawn;
        int version = 1 + r.nextInt(2);
        SmuxConfig config = SmuxConfig.builder().transport(transport).version(version)
                .streamWindow(WINDOWS[r.nextInt(WINDOWS.length)])
                .maxFrameSize(r.nextInt(4) == 0 ? 1 + r.nextInt(SmuxConfig.MAX_FRAME_SIZE) : 32_768)
                .keepAlive(Duration.ofMillis(250), KEEPALIVE_TIMEOUT)
                .build();
        String where = name + " (" + transport + " v" + version + ", seed " + seed + ")";

        ProxiedPair pair = ProxiedPair.create(toxiproxy, name);
        ToxicChaos chaos = null;
        List<Future<?>> loops = new ArrayList<>();
        try {
            try {
                pair.connect(config, config);
            } catch (Exception e) {
                ledger.anomaly(where + ": could not connect through a proxy without toxics: " + FaultLedger.describe(e));
                return;
            }
            ledger.session(transport + " v" + version);
            long started = System.nanoTime();
            long terminalAt = faults && r.nextInt(10) < 3
                    ? started + (long) (length.toNanos() * (0.2 + 0.7 * r.nextDouble())) : 0;
            if (faults) {
                chaos = new ToxicChaos(pair.proxy, r.nextLong(), ledger, terminalAt, "chaos-toxics-" + name).start();
            }
            for (Session s : List.of(pair.client, pair.server)) {
                loops.add(pool.submit(() -> acceptLoop(s)));
                long openSeed = r.nextLong();
                loops.add(pool.submit(() -> openLoop(s, new SplittableRandom(openSeed))));
            }

            Faults.pauseUntil(started + length.toNanos());
            opening = false;
            if (chaos != null) {
                chaos.stopAndClear();
                if (chaos.terminalDone()) {
                    cutDoomedConnection(pair);
                }
            }
            if (!drain(TimeUnit.SECONDS.toMillis(DRAIN_SECONDS))) {
                StringBuilder sb = new StringBuilder(where + ": streams still running " + DRAIN_SECONDS
                        + " s after the faults stopped (client " + state(pair.client) + ", server " + state(pair.server)
                        + ", proxy toxics " + pair.proxy.toxics().getAll() + "):");
                transfers.values().stream().filter(t -> !t.finished()).limit(8).forEach(t -> sb.append("\n    ").append(t.state()));
                ledger.anomaly(sb.toString());
            }
            if (pair.client.isClosed() || pair.server.isClosed()) {
                ledger.sessionsFailed.increment();
            }
        } finally {
            closing = true;
            opening = false;
            if (chaos != null) {
                chaos.stopAndClear();
            }
            close(pair.client);
            close(pair.server);
            if (!drain(10_000)) {
                ledger.anomaly(where + ": streams still running 10 s after both sessions were closed");
            }
            for (Future<?> f : loops) {
                try {
                    f.get(10, TimeUnit.SECONDS);
                } catch (Exception e) {
                    ledger.anomaly(where + ": an open or accept loop did not end: " + e);
                }
            }
            for (ChaosTransfer t : transfers.values()) {
                t.account(ledger, where);
            }
            try {
                pair.close();
            } finally {
                runLedger.merge(ledger, chaos == null ? null : chaos.taint());
            }
        }
    }

    /**
     * Closes one session of the pair. A close may give up committed bytes still stuck behind the
     * faults; it then says how many ({@link AbandonedBytesException}), a named failure: those
     * bytes never arrive, which the ledger allows for a stream whose reader saw no end-of-stream.
     */
    private void close(Session session) {
        if (session == null) {
            return;
        }
        try {
            session.close();
        } catch (AbandonedBytesException e) {
            ledger.failure("close", e);
        }
    }

    /**
     * A connection a terminal toxic doomed keeps its other toxics (removing them could block on the terminal
     * one, see {@link ToxicChaos}), so what is still in flight behind a slow {@code bandwidth} could trickle for
     * minutes, or a stall could hold it forever. Once the sessions had a keepalive timeout and more to notice
     * the fault themselves, the proxy is disabled, which closes the connection: the episode ends promptly, and
     * the streams still running fail with their session.
     */
    private void cutDoomedConnection(ProxiedPair pair) throws IOException {
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(KEEPALIVE_TIMEOUT.toMillis() + 1000);
        while (!(pair.client.isClosed() && pair.server.isClosed()) && System.nanoTime() < until) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        pair.proxy.proxy().disable();
    }

    private static String state(Session s) {
        return s.isClosed() ? "closed: " + s.closeCause().map(Throwable::toString).orElse("locally") : "open";
    }

    private boolean drain(long millis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        for (ChaosTransfer t : transfers.values()) {
            if (!t.awaitFinished(Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())))) {
                return false;
            }
        }
        return true;
    }

    private void openLoop(Session session, SplittableRandom r) {
        List<ChaosTransfer.Half> mine = new ArrayList<>();
        while (opening) {
            mine.removeIf(ChaosTransfer.Half::finished);
            if (mine.size() < OWN_STREAMS_AT_ONCE) {
                SmuxStream stream;
                try {
                    stream = session.openStream();
                } catch (IOException | RuntimeException e) {
                    if (!closing) {
                        ledger.failure("open", e);
                    }
                    return; // the session is gone (or refuses streams): nothing more to open on it
                }
                ChaosTransfer t = transfers.computeIfAbsent(Integer.toUnsignedLong(stream.id()),
                        id -> new ChaosTransfer(seed, id, maxBytes));
                mine.add(t.start(stream, true, pool, ledger));
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(r.nextInt(700)));
        }
    }

    private void acceptLoop(Session session) {
        while (!closing) {
            SmuxStream stream;
            try {
                stream = session.acceptStream(Duration.ofMillis(200));
            } catch (java.net.SocketTimeoutException e) {
                continue;
            } catch (SessionClosedException e) {
                if (!closing) {
                    ledger.failure("accept", e);
                }
                return;
            } catch (IOException | RuntimeException e) {
                if (!closing) {
                    ledger.failure("accept", e);
                }
                return;
            }
            ChaosTransfer t = transfers.computeIfAbsent(Integer.toUnsignedLong(stream.id()),
                    id -> new ChaosTransfer(seed, id, maxBytes));
            t.start(stream, false, pool, ledger);
        }
    }
}
