package smux.micrometer;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.ToDoubleFunction;
import java.util.function.ToLongFunction;
import smux.api.MemoryBudget;
import smux.api.Session;
import smux.api.SessionStats;
import smux.api.StallCause;

/**
 * The counters of smux sessions as Micrometer meters. Hand it the sessions to watch
 * ({@link #monitor}); it sums them into one set of meters per registry it is bound to, tagged with
 * the tags given here (so several binders, say one per service, can share a registry):
 *
 * <pre>{@code
 * MeterRegistry registry = new SimpleMeterRegistry();          // or the application's
 * SmuxMetrics metrics = new SmuxMetrics(Tags.of("service", "tunnel"));
 * metrics.bindTo(registry);
 * Session session = metrics.monitor(Smux.connect(address, SmuxConfig.defaults()));
 * }</pre>
 *
 * <p>The meters (names as Micrometer's conventions ask: dotted, lower case, base units; a
 * registry renders them in its own style, such as {@code smux_bytes_sent_bytes_total} for
 * Prometheus):
 * <table>
 * <caption>meters</caption>
 * <tr><th>name</th><th>type</th><th>unit</th><th>what</th></tr>
 * <tr><td>{@code smux.sessions}</td><td>gauge</td><td>sessions</td><td>open sessions being watched</td></tr>
 * <tr><td>{@code smux.sessions.monitored}</td><td>counter</td><td>sessions</td><td>sessions handed to {@link #monitor} so far</td></tr>
 * <tr><td>{@code smux.streams.open}</td><td>gauge</td><td>streams</td><td>streams open now</td></tr>
 * <tr><td>{@code smux.streams.opened}, tag {@code origin=local|peer}</td><td>counter</td><td>streams</td><td>streams opened here, and opened by the peer and admitted</td></tr>
 * <tr><td>{@code smux.streams.refused}</td><td>counter</td><td>streams</td><td>streams the peer opened that were refused (backlog full, a limit)</td></tr>
 * <tr><td>{@code smux.streams.shed}</td><td>counter</td><td>streams</td><td>streams dropped to keep receive memory within the budget (version 2 credit streams)</td></tr>
 * <tr><td>{@code smux.bytes.sent}, {@code smux.bytes.received}</td><td>counter</td><td>bytes</td><td>stream payload committed for sending, and received</td></tr>
 * <tr><td>{@code smux.bytes.dropped}</td><td>counter</td><td>bytes</td><td>payload received for closed or unknown streams</td></tr>
 * <tr><td>{@code smux.bytes.abandoned}</td><td>counter</td><td>bytes</td><td>committed bytes a close gave up on</td></tr>
 * <tr><td>{@code smux.stall.time}, tag {@code cause=peer.window|connection|local.reader}</td><td>counter</td><td>seconds</td><td>time the streams waited: for the peer's window, for the connection, for the local application to read ({@link smux.api.StallStats})</td></tr>
 * <tr><td>{@code smux.stall.bytes}, same tag</td><td>counter</td><td>bytes</td><td>bytes that waited, by the same causes</td></tr>
 * <tr><td>{@code smux.memory.buffered}</td><td>gauge</td><td>bytes</td><td>received bytes the applications have not read</td></tr>
 * <tr><td>{@code smux.memory.reserved}</td><td>gauge</td><td>bytes</td><td>receive memory the watched sessions hold</td></tr>
 * <tr><td>{@code smux.memory.budget.used}, {@code smux.memory.budget.capacity}</td><td>gauge</td><td>bytes</td><td>the shared {@link MemoryBudget}s of the watched sessions, each counted once</td></tr>
 * </table>
 *
 * <p>Counters are monotonic: a session that closes keeps counting its final totals, so counters
 * stop moving when sessions close, and the gauges drop to what the sessions still open hold.
 * Closed sessions are forgotten the next time a meter is read. {@link #close()} removes every
 * meter of this binder from the registries it was bound to.
 *
 * <p>Keep a reference to the binder while its meters should report: Micrometer holds the state
 * of gauges and function counters weakly, so the meters of a binder that was garbage-collected
 * read NaN.
 *
 * <p>Thread-safe.
 */
public final class SmuxMetrics implements MeterBinder, AutoCloseable {
    /** The counts summed over sessions, open and closed; one counter each. */
    private static final List<Count> COUNTS = List.of(
            new Count("smux.streams.opened", Tags.of("origin", "local"), "streams this side opened", "streams",
                    SessionStats::streamsOpened),
            new Count("smux.streams.opened", Tags.of("origin", "peer"), "streams the peer opened that were admitted", "streams",
                    SessionStats::streamsAccepted),
            new Count("smux.streams.refused", Tags.empty(), "streams the peer opened that were refused (backlog full or a limit reached)",
                    "streams", SessionStats::streamsRefused),
            new Count("smux.streams.shed", Tags.empty(), "streams dropped to keep receive memory within the budget",
                    "streams", SessionStats::streamsShed),
            // one Count line per SessionStats counter: summing, retention of closed sessions and
            // removal all follow from this list.
            new Count("smux.bytes.sent", Tags.empty(), "stream payload committed for sending", BaseUnits.BYTES,
                    SessionStats::bytesSent),
            new Count("smux.bytes.received", Tags.empty(), "stream payload received", BaseUnits.BYTES,
                    SessionStats::bytesReceived),
            new Count("smux.bytes.dropped", Tags.empty(), "payload received for closed or unknown streams, dropped", BaseUnits.BYTES,
                    SessionStats::bytesDropped),
            new Count("smux.bytes.abandoned", Tags.empty(), "committed bytes a close gave up on", BaseUnits.BYTES,
                    SessionStats::committedBytesAbandoned),
            stallTime(StallCause.PEER_WINDOW), stallBytes(StallCause.PEER_WINDOW),
            stallTime(StallCause.CONNECTION), stallBytes(StallCause.CONNECTION),
            stallTime(StallCause.LOCAL_READER), stallBytes(StallCause.LOCAL_READER));

    private static final double NANOS_PER_SECOND = 1e9;

    private static Count stallTime(StallCause cause) {
        return new Count("smux.stall.time", Tags.of("cause", tag(cause)), "time streams waited, by cause (StallStats)",
                "seconds", s -> s.stalls().nanos(cause), 1 / NANOS_PER_SECOND);
    }

    private static Count stallBytes(StallCause cause) {
        return new Count("smux.stall.bytes", Tags.of("cause", tag(cause)), "bytes that waited, by cause (StallStats)",
                BaseUnits.BYTES, s -> s.stalls().bytes(cause));
    }

    /** @return the cause as a tag value: peer.window, connection, local.reader */
    private static String tag(StallCause cause) {
        return cause.name().toLowerCase(java.util.Locale.ROOT).replace('_', '.');
    }

    private final Tags tags;
    private final Set<Session> open = Collections.newSetFromMap(new IdentityHashMap<>());
    /** The final totals of the sessions that closed, per {@link #COUNTS} entry. */
    private final double[] closedTotals = new double[COUNTS.size()];
    private long monitored;
    private final List<Bound> bound = new ArrayList<>();
    private boolean closed;

    /** Creates a binder whose meters carry no tags of their own. */
    public SmuxMetrics() {
        this(Tags.empty());
    }

    /**
     * Creates a binder whose meters all carry {@code tags} (for example the service's name).
     *
     * @param tags the common tags
     * @throws NullPointerException if {@code tags} is null
     */
    public SmuxMetrics(Iterable<Tag> tags) {
        this.tags = Tags.of(Objects.requireNonNull(tags, "tags"));
    }

    /**
     * Watches a session until it closes: its counters are added to this binder's meters.
     * Watching the same session twice counts it once.
     *
     * @param session the session
     * @param <S> its type
     * @return the session, so that a call can wrap {@code Smux.connect(...)}
     * @throws NullPointerException if {@code session} is null
     * @throws IllegalStateException if this binder was closed
     */
    public <S extends Session> S monitor(S session) {
        Objects.requireNonNull(session, "session");
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("this SmuxMetrics was closed: make a new one to watch more sessions");
            }
            if (open.add(session)) {
                monitored++;
            }
        }
        return session;
    }

    /**
     * Registers this binder's meters in {@code registry}. A binder may be bound to several
     * registries; each gets the same meters.
     *
     * @param registry the registry
     * @throws IllegalStateException if this binder was closed
     */
    @Override
    public void bindTo(MeterRegistry registry) {
        Objects.requireNonNull(registry, "registry");
        List<Meter> meters = new ArrayList<>();
        meters.add(Gauge.builder("smux.sessions", this, m -> m.sum(s -> 1))
                .description("open smux sessions being watched").baseUnit("sessions").tags(tags).register(registry));
        meters.add(FunctionCounter.builder("smux.sessions.monitored", this, m -> m.monitored())
                .description("smux sessions watched so far").baseUnit("sessions").tags(tags).register(registry));
        meters.add(Gauge.builder("smux.streams.open", this, m -> m.sum(s -> s.stats().openStreams()))
                .description("streams open now").baseUnit("streams").tags(tags).register(registry));
        for (int i = 0; i < COUNTS.size(); i++) {
            Count c = COUNTS.get(i);
            int index = i;
            meters.add(FunctionCounter.builder(c.name, this, m -> m.total(index))
                    .description(c.description).baseUnit(c.unit).tags(tags).tags(c.tags).register(registry));
        }
        meters.add(Gauge.builder("smux.memory.buffered", this, m -> m.sum(s -> s.stats().bufferedBytes()))
                .description("received bytes the applications have not read yet").baseUnit(BaseUnits.BYTES).tags(tags)
                .register(registry));
        meters.add(Gauge.builder("smux.memory.reserved", this, m -> m.sum(s -> s.stats().reservedBytes()))
                .description("receive memory the sessions hold of their budgets").baseUnit(BaseUnits.BYTES).tags(tags)
                .register(registry));
        meters.add(Gauge.builder("smux.memory.budget.used", this, m -> m.budgets(MemoryBudget::used))
                .description("bytes reserved now in the shared memory budgets of the sessions").baseUnit(BaseUnits.BYTES)
                .tags(tags).register(registry));
        meters.add(Gauge.builder("smux.memory.budget.capacity", this, m -> m.budgets(MemoryBudget::capacity))
                .description("capacity of the shared memory budgets of the sessions").baseUnit(BaseUnits.BYTES)
                .tags(tags).register(registry));
        synchronized (this) {
            if (closed) {
                meters.forEach(registry::remove);
                throw new IllegalStateException("this SmuxMetrics was closed: make a new one to bind");
            }
            bound.add(new Bound(registry, meters));
        }
    }

    /**
     * Stops watching and removes this binder's meters from every registry it was bound to. The
     * sessions themselves are not touched.
     */
    @Override
    public void close() {
        List<Bound> toRemove;
        synchronized (this) {
            closed = true;
            open.clear();
            toRemove = new ArrayList<>(bound);
            bound.clear();
        }
        for (Bound b : toRemove) {
            b.meters.forEach(b.registry::remove);
        }
    }

    /** @return the open sessions being watched now (closed ones are forgotten first) */
    public synchronized int sessions() {
        prune();
        return open.size();
    }

    // ---------------------------------------------------------------- reading

    private synchronized double monitored() {
        return monitored;
    }

    private synchronized double sum(ToDoubleFunction<Session> f) {
        prune();
        double total = 0;
        for (Session s : open) {
            total += f.applyAsDouble(s);
        }
        return total;
    }

    private synchronized double total(int index) {
        prune();
        double total = closedTotals[index];
        ToLongFunction<SessionStats> f = COUNTS.get(index).value;
        for (Session s : open) {
            total += f.applyAsLong(s.stats());
        }
        return total * COUNTS.get(index).scale;
    }

    private synchronized double budgets(ToDoubleFunction<MemoryBudget> f) {
        prune();
        Set<MemoryBudget> distinct = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Session s : open) {
            distinct.add(s.config().memoryBudget());
        }
        double total = 0;
        for (MemoryBudget b : distinct) {
            total += f.applyAsDouble(b);
        }
        return total;
    }

    /** Moves the sessions that closed into the totals, with their final counts. */
    private void prune() {
        for (Iterator<Session> it = open.iterator(); it.hasNext(); ) {
            Session s = it.next();
            if (s.isClosed()) {
                SessionStats last = s.stats();
                for (int i = 0; i < COUNTS.size(); i++) {
                    closedTotals[i] += COUNTS.get(i).value.applyAsLong(last);
                }
                it.remove();
            }
        }
    }

    /** @return the names of every meter this binder registers, for documentation and tests */
    static Set<String> meterNames() {
        Set<String> names = new LinkedHashSet<>(List.of("smux.sessions", "smux.sessions.monitored", "smux.streams.open",
                "smux.memory.buffered", "smux.memory.reserved", "smux.memory.budget.used", "smux.memory.budget.capacity"));
        COUNTS.forEach(c -> names.add(c.name));
        return names;
    }

    private record Count(String name, Tags tags, String description, String unit, ToLongFunction<SessionStats> value, double scale) {
        Count(String name, Tags tags, String description, String unit, ToLongFunction<SessionStats> value) {
            this(name, tags, description, unit, value, 1);
        }
    }

    private record Bound(MeterRegistry registry, List<Meter> meters) { }
}
