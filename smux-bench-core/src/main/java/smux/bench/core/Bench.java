package smux.bench.core;

import java.io.PrintStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import smux.api.MemoryBudget;
import smux.api.SmuxConfig;

/**
 * The bench run: sections in a fixed order, each case on fresh connections that it closes
 * before the next starts (a lingering thread is reported, not ignored). Prints a readable report
 * as it goes, or one JSON line at the end.
 */
public final class Bench {
    /** The parts of a run. */
    public enum Section {
        THROUGHPUT, RTT, IDLE, SESSIONS;

        /**
         * @param name a section name, any case
         * @return the section
         * @throws IllegalArgumentException if there is no such section
         */
        public static Section parse(String name) {
            for (Section s : values()) {
                if (s.name().equalsIgnoreCase(name)) {
                    return s;
                }
            }
            throw new IllegalArgumentException("--sections: no section '" + name + "' (throughput, rtt, idle, sessions)");
        }
    }

    /**
     * What to run.
     *
     * @param config the session settings every case starts from (transport and stream limits are set per case)
     * @param transports the transports to measure
     * @param stagings staging buffer sizes to compare in the throughput cases (empty: the config's)
     * @param streams the stream counts of the throughput cases
     * @param seconds measured seconds per case
     * @param sections the sections to run
     * @param idleStreams streams of the heap-per-idle-stream section
     * @param sessions session pairs of the NIO section
     * @param peer a remote discard smux server, or null for loopback
     * @param rawPeer a remote discard TCP server, or null
     * @param json whether to print one JSON line instead of the report
     */
    public record Plan(SmuxConfig config, List<String> transports, List<Integer> stagings, List<Integer> streams, double seconds,
                       Set<Section> sections, int idleStreams, int sessions, InetSocketAddress peer,
                       InetSocketAddress rawPeer, boolean json) {
    }

    /** Ratio targets (issue 9): smux / raw TCP throughput, and round-trip latency smux / raw TCP. */
    static final double ONE_STREAM_TARGET = 0.85;
    static final double HUNDRED_STREAMS_TARGET = 0.70;
    static final double MANY_STREAMS_TARGET = 0.60;
    static final double RTT_TARGET = 1.5;
    static final int MANY_STREAMS = 1000;
    static final long IDLE_STREAM_TARGET = 2048;
    static final int SESSIONS_TARGET = 1000;

    private final Plan plan;
    private final PrintStream out = System.out;
    private final Duration measure;
    private final Duration ramp;
    private final List<String> leaks = new ArrayList<>();
    private final List<Row> throughput = new ArrayList<>();
    private final List<RoundTrip.Result> rtts = new ArrayList<>();
    private final List<IdleStreams.Result> idles = new ArrayList<>();
    private NioSessions.Result nio;
    private String nioError;
    private boolean failed;
    private boolean notMet;
    private double loadAtStart;
    /** The CPUs other processes used during each measured case ({@link OtherLoad}). */
    private final List<Busy> otherLoad = new ArrayList<>();

    /** How busy other processes kept the machine during one case. */
    private record Busy(String label, double cpus) {
    }

    /**
     * @param plan what to run
     */
    public Bench(Plan plan) {
        this.plan = plan;
        this.measure = Duration.ofMillis(Math.round(plan.seconds() * 1000));
        this.ramp = Duration.ofMillis(Math.round(Math.min(1.0, Math.max(0.3, plan.seconds() / 3)) * 1000));
    }

    /**
     * Runs the plan and prints the results.
     *
     * @return true if every case ran without error (targets missed are not errors)
     * @throws Exception if the run could not start
     */
    public boolean run() throws Exception {
        long started = System.nanoTime();
        loadAtStart = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        SmuxConfig sample = plan.config();
        say("smux bench: version %d, window %s, frame %d, staging %s, keepalive %s; %s s measured per case after %s s warm-up%n",
                sample.version(), sample.windowTuned()
                        ? "tuned " + size(sample.initialStreamWindow()) + " to " + size(sample.streamWindow())
                        : size(sample.streamWindow()), sample.maxFrameSize(), size(sample.stagingBufferSize()),
                sample.keepAliveEnabled() ? sample.keepAliveInterval().toSeconds() + " s" : "off",
                num(plan.seconds()), num(ramp.toMillis() / 1000.0));
        say("machine: %d CPUs, load average %.2f before the bench, Java %s, %s, max heap %s%n", Runtime.getRuntime().availableProcessors(),
                loadAtStart, System.getProperty("java.version"),
                gcNames(), size(Runtime.getRuntime().maxMemory()));
        if (plan.peer() != null) {
            remoteThroughput();
        } else {
            if (plan.sections().contains(Section.THROUGHPUT)) {
                loopbackThroughput();
            }
            if (plan.sections().contains(Section.RTT)) {
                roundTrips();
            }
            if (plan.sections().contains(Section.IDLE)) {
                idleStreams();
            }
            if (plan.sections().contains(Section.SESSIONS)) {
                nioSessions();
            }
        }
        double elapsed = (System.nanoTime() - started) / 1e9;
        Json.Obj targets = targets();
        if (plan.json()) {
            out.println(report(sample, targets, elapsed));
            out.flush();
        } else {
            say("%nelapsed %.0f s%n", elapsed);
        }
        return !failed && leaks.isEmpty();
    }

    // ------------------------------------------------------------------ sections

    /** One contender of a comparison: a label and how to open it. */
    private record Contender<T>(String transport, Opener<T> opener) {
    }

    private interface Opener<T> {
        T open() throws Exception;
    }

    /**
     * A throughput row: MB/s over all measured slices; the ratio's range over the rounds; MB per
     * CPU-second of this process over the same slices (on a shared machine, a contender with
     * thousands of runnable threads wins more CPU from other processes than one with four, so
     * the work per CPU-second is the fairer measure of cost).
     */
    record Row(int streams, String transport, double mbps, double ratioMin, double ratioMax, double mbPerCpuSecond,
               String error) {
    }

    private void loopbackThroughput() {
        say("%nthroughput over loopback: writers send 128 KiB buffers, readers drain; raw TCP uses one connection per stream;%n"
                + "  the contenders stay open and take turns, %d rounds of %s s each; ratio = smux / raw TCP;%n"
                + "  MB/CPU-s = MB moved per CPU-second this process used (the cost, whatever share of a shared machine it got)%n",
                rounds(), num(slice().toMillis() / 1000.0));
        say("  %7s  %-14s %10s %12s  %-22s %s%n", "streams", "transport", "MB/s", "MB/CPU-s", "ratio (range in rounds)",
                "ratio per CPU-s");
        boolean first = true;
        for (int n : plan.streams()) {
            List<Contender<Load>> cs = new ArrayList<>();
            if (Heap.connectionsThatFit(n + 64) < n + 64) {
                record(new Row(n, "raw", Double.NaN, Double.NaN, Double.NaN, Double.NaN, "the file descriptor limit ("
                        + Heap.maxFileDescriptors() + ") is too low for " + n + " loopback connections; raise ulimit -n"));
            } else {
                cs.add(new Contender<>("raw", () -> Load.Raw.loopback(n)));
            }
            for (String t : plan.transports()) {
                if (plan.stagings().isEmpty()) {
                    cs.add(new Contender<>(t, () -> Load.Mux.loopback(config(t, n), n)));
                }
                for (int st : plan.stagings()) {
                    cs.add(new Contender<>(t + "@" + size(st).replace(" ", ""),
                            () -> Load.Mux.loopback(config(t, n).toBuilder().stagingBufferSize(st).build(), n)));
                }
            }
            compare(n, cs, first ? warmUp() : ramp);
            first = false;
        }
    }

    private void remoteThroughput() {
        say("%nthroughput to %s: smux client writes 128 KiB buffers on N streams of one session%s%n", plan.peer(),
                plan.rawPeer() == null ? " (no raw TCP baseline: add --raw-peer)" : "; raw TCP to " + plan.rawPeer() + " with N connections");
        say("  %7s  %-14s %10s %12s  %-22s %s%n", "streams", "transport", "MB/s", "MB/CPU-s", "ratio (range in rounds)",
                "ratio per CPU-s");
        boolean first = true;
        for (int n : plan.streams()) {
            List<Contender<Load>> cs = new ArrayList<>();
            if (plan.rawPeer() != null) {
                cs.add(new Contender<>("raw", () -> Load.Raw.remote(plan.rawPeer(), n)));
            }
            for (String t : plan.transports()) {
                if (plan.stagings().isEmpty()) {
                    cs.add(new Contender<>(t, () -> Load.Mux.remote(config(t, n), plan.peer(), n)));
                }
                for (int st : plan.stagings()) {
                    cs.add(new Contender<>(t + "@" + size(st).replace(" ", ""),
                            () -> Load.Mux.remote(config(t, n).toBuilder().stagingBufferSize(st).build(), plan.peer(), n)));
                }
            }
            compare(n, cs, first ? warmUp() : ramp);
            first = false;
        }
    }

    /** The first comparison also warms the JIT up. */
    private Duration warmUp() {
        return Duration.ofMillis(Math.max(ramp.toMillis(), Math.min(2000, measure.toMillis() / 2)));
    }

    /** Measured rounds: enough to spread the noise of a shared machine, each slice at least 0.5 s. */
    private int rounds() {
        return (int) Math.max(1, Math.min(5, measure.toMillis() / 500));
    }

    private Duration slice() {
        return measure.dividedBy(rounds());
    }

    /** Time a contender runs unmeasured each time it takes its turn. */
    private Duration settle() {
        return Duration.ofMillis(Math.min(200, Math.max(50, slice().toMillis() / 5)));
    }

    /**
     * Opens every contender, lets each run alone for {@code warm}, then runs the rounds: each
     * contender in turn (the order rotates) runs alone for a settle time and a measured slice.
     */
    private void compare(int n, List<Contender<Load>> cs, Duration warm) {
        int k = cs.size();
        Load[] loads = new Load[k];
        String[] errors = new String[k];
        long[] bytes = new long[k];
        long[] nanos = new long[k];
        long[] cpu = new long[k];
        double[][] perRound = new double[k][rounds()];
        try {
            for (int i = 0; i < k; i++) {
                try {
                    loads[i] = cs.get(i).opener().open();
                } catch (Exception e) {
                    errors[i] = e.toString();
                }
            }
            for (int i = 0; i < k; i++) {
                if (loads[i] != null) {
                    loads[i].setActive(true);
                    Load.sleep(warm);
                    loads[i].setActive(false);
                }
            }
            OtherLoad.Sample before = OtherLoad.sample();
            for (int r = 0; r < rounds(); r++) {
                for (int j = 0; j < k; j++) {
                    int i = (j + r) % k;
                    Load load = loads[i];
                    if (load == null) {
                        continue;
                    }
                    load.setActive(true);
                    Load.sleep(settle());
                    long b0 = load.bytes();
                    long c0 = Heap.processCpuNanos();
                    long t0 = System.nanoTime();
                    Load.sleep(slice());
                    long b1 = load.bytes();
                    long c1 = Heap.processCpuNanos();
                    long t1 = System.nanoTime();
                    load.setActive(false);
                    bytes[i] += b1 - b0;
                    nanos[i] += t1 - t0;
                    cpu[i] += c1 - c0;
                    perRound[i][r] = (b1 - b0) * 1e3 / (t1 - t0);
                }
            }
            otherLoad.add(new Busy(n + (n == 1 ? " stream" : " streams"), OtherLoad.since(before)));
        } finally {
            for (int i = k - 1; i >= 0; i--) {
                if (loads[i] != null) {
                    loads[i].close();
                    Throwable f = loads[i].failure();
                    if (f != null && errors[i] == null) {
                        errors[i] = f.toString();
                    }
                }
            }
        }
        settle(n + " streams");
        int raw = cs.get(0).transport().equals("raw") ? 0 : -1;
        for (int i = 0; i < k; i++) {
            double mbps = nanos[i] == 0 ? Double.NaN : bytes[i] * 1e3 / nanos[i];
            double lo = Double.NaN;
            double hi = Double.NaN;
            if (raw >= 0 && i != raw && nanos[raw] > 0 && nanos[i] > 0) {
                lo = Double.POSITIVE_INFINITY;
                hi = 0;
                for (int r = 0; r < rounds(); r++) {
                    double q = perRound[i][r] / perRound[raw][r];
                    lo = Math.min(lo, q);
                    hi = Math.max(hi, q);
                }
            }
            double perCpu = cpu[i] <= 0 ? Double.NaN : bytes[i] * 1e3 / cpu[i];
            Row row = new Row(n, cs.get(i).transport(), mbps, lo, hi, perCpu, errors[i]);
            record(row);
            String t = row.transport();
            double ratio = ratio(n, t);
            double cpuRatio = cpuRatio(n, t);
            say("  %7d  %-14s %10s %12s  %-22s %s%s%n", n, t.equals("raw") ? "raw TCP" : t,
                    Double.isNaN(mbps) ? "-" : String.format(Locale.ROOT, "%.1f", mbps),
                    Double.isNaN(perCpu) ? "-" : String.format(Locale.ROOT, "%.1f", perCpu),
                    Double.isNaN(ratio) || t.equals("raw") ? "" : String.format(Locale.ROOT, "%.2f (%.2f-%.2f)", ratio, lo, hi),
                    Double.isNaN(cpuRatio) || t.equals("raw") ? "" : String.format(Locale.ROOT, "%.2f", cpuRatio),
                    row.error() == null ? "" : "  FAILED: " + row.error());
        }
        sayOtherLoad();
    }

    /** After a case: how much CPU other processes took while it was measured. */
    private void sayOtherLoad() {
        if (otherLoad.isEmpty()) {
            return;
        }
        double cpus = otherLoad.get(otherLoad.size() - 1).cpus();
        say("  %s%n", Double.isNaN(cpus) ? "(the CPU time of other processes cannot be read here: no /proc/stat)"
                : String.format(Locale.ROOT, "other processes used %.2f of %d CPUs meanwhile", cpus, Runtime.getRuntime().availableProcessors()));
    }

    private void record(Row row) {
        throughput.add(row);
        if (row.error() != null) {
            failed = true;
        }
    }

    private void roundTrips() {
        say("%nround trip: 64-byte request and response, one at a time, on one stream (raw TCP: one connection);%n"
                + "  the contenders stay open and take turns, %d rounds of %s s each%n", rounds(), num(slice().toMillis() / 1000.0));
        say("  %-9s %10s %10s %10s %10s%n", "transport", "p50 us", "p99 us", "p50 ratio", "p99 ratio");
        List<Contender<RoundTrip>> cs = new ArrayList<>();
        cs.add(new Contender<>("raw", RoundTrip::raw));
        for (String t : plan.transports()) {
            cs.add(new Contender<>(t, () -> RoundTrip.smux(config(t, 1))));
        }
        int k = cs.size();
        RoundTrip[] conns = new RoundTrip[k];
        String[] errors = new String[k];
        try {
            for (int i = 0; i < k; i++) {
                try {
                    conns[i] = cs.get(i).opener().open();
                    conns[i].measure(ramp, Duration.ZERO);
                } catch (Exception e) {
                    errors[i] = e.toString();
                }
            }
            OtherLoad.Sample before = OtherLoad.sample();
            for (int r = 0; r < rounds(); r++) {
                for (int j = 0; j < k; j++) {
                    RoundTrip c = conns[(j + r) % k];
                    if (c != null) {
                        c.measure(settle(), slice());
                    }
                }
            }
            otherLoad.add(new Busy("round trip", OtherLoad.since(before)));
        } finally {
            for (RoundTrip c : conns) {
                if (c != null) {
                    c.close();
                }
            }
        }
        settle("round trip");
        for (int i = 0; i < k; i++) {
            RoundTrip.Result r = conns[i] == null
                    ? new RoundTrip.Result(cs.get(i).transport(), 0, Double.NaN, Double.NaN, Double.NaN, errors[i])
                    : conns[i].result();
            rtts.add(r);
            if (r.error() != null) {
                failed = true;
            }
            RoundTrip.Result raw = rtts.get(0).transport().equals("raw") ? rtts.get(0) : null;
            String ratios = raw == null || r == raw ? ""
                    : String.format(Locale.ROOT, "%10.2f %10.2f", r.p50Micros() / raw.p50Micros(), r.p99Micros() / raw.p99Micros());
            say("  %-9s %10.1f %10.1f %s%s%n", r.transport().equals("raw") ? "raw TCP" : r.transport(), r.p50Micros(),
                    r.p99Micros(), ratios, r.error() == null ? "" : "  FAILED: " + r.error());
        }
        sayOtherLoad();
    }

    private void idleStreams() {
        say("%nheap per idle stream: %,d streams opened and accepted on one session pair (both ends in this process)%n",
                plan.idleStreams());
        for (String t : plan.transports()) {
            IdleStreams.Result r;
            try {
                r = IdleStreams.run(config(t, plan.idleStreams()), plan.idleStreams());
            } catch (Exception e) {
                r = new IdleStreams.Result(t, plan.idleStreams(), 0, 0, Double.NaN, e.toString());
            }
            settle("idle streams " + t);
            idles.add(r);
            if (r.error() != null) {
                failed = true;
            }
            say("  %-9s %,.0f bytes per stream, both ends (%,.0f per end)%s%n", t, r.bytesPerStream(), r.bytesPerStreamEnd(),
                    r.error() == null ? "" : "  FAILED: " + r.error());
        }
    }

    private void nioSessions() {
        if (!plan.transports().contains("nio")) {
            say("%none NIO loop holding many sessions: skipped (the nio transport is not in this run)%n");
            return;
        }
        say("%none NIO loop: %,d loopback session pairs on the nio transport (%,d sessions, %,d sockets; fd limit %d)%n",
                plan.sessions(), 2 * plan.sessions(), 2 * plan.sessions(), Heap.maxFileDescriptors());
        try {
            nio = NioSessions.run(config("nio", 1), plan.sessions());
        } catch (Exception e) {
            nioError = e.toString();
            failed = true;
        }
        settle("nio sessions");
        if (nio == null) {
            say("  FAILED: %s%n", nioError);
            return;
        }
        if (nio.error() != null) {
            failed = true;
        }
        if (nio.pairs() < nio.asked()) {
            say("  only %,d pairs fit under the file descriptor limit %d (raise ulimit -n)%n", nio.pairs(), nio.fdLimit());
        }
        say("  %,d of %,d pairs echoed %d bytes; smux threads while all were open: %d %s%n",
                nio.worked(), nio.pairs(), NioSessions.PAYLOAD, nio.smuxThreads().size(), nio.smuxThreads());
        say("  heap per session: %,.0f bytes just opened, %,.0f bytes after the echo%s%n", nio.bytesPerSessionOpened(),
                nio.bytesPerSession(), nio.error() == null ? "" : "  FAILED: " + nio.error());
    }

    // ------------------------------------------------------------------ targets and report

    private Json.Obj targets() {
        Json.Obj one = Json.obj();
        Json.Obj hundred = Json.obj();
        Json.Obj many = Json.obj();
        Json.Obj idle = Json.obj();
        Json.Obj p50 = Json.obj();
        Json.Obj p99 = Json.obj();
        boolean anyThroughputTarget = false;
        for (String t : plan.transports()) {
            double r1 = ratio(1, t);
            double r100 = ratio(100, t);
            double rN = ratio(MANY_STREAMS, t);
            one.put(t, Double.isNaN(r1) ? null : r1 >= ONE_STREAM_TARGET);
            hundred.put(t, Double.isNaN(r100) ? null : r100 >= HUNDRED_STREAMS_TARGET);
            many.put(t, Double.isNaN(rN) ? null : rN >= MANY_STREAMS_TARGET);
            anyThroughputTarget |= !Double.isNaN(r1) || !Double.isNaN(r100) || !Double.isNaN(rN);
            double[] rtt = rttRatios(t);
            p50.put(t, Double.isNaN(rtt[0]) ? null : rtt[0] <= RTT_TARGET);
            p99.put(t, Double.isNaN(rtt[1]) ? null : rtt[1] <= RTT_TARGET);
        }
        for (IdleStreams.Result r : idles) {
            idle.put(r.transport(), Double.isNaN(r.bytesPerStream()) ? null : r.bytesPerStream() <= IDLE_STREAM_TARGET);
        }
        Boolean sessions = nio == null ? null
                : nio.pairs() >= SESSIONS_TARGET && nio.worked() == nio.pairs() && nio.smuxThreads().size() == 1 && nio.error() == null;
        Json.Obj t = Json.obj()
                .put("one_stream_ratio_at_least_0_85", one)
                .put("hundred_streams_ratio_at_least_0_70", hundred)
                .put("thousand_streams_ratio_at_least_0_60", many)
                .put("rtt_p50_at_most_1_5x", p50)
                .put("rtt_p99_at_most_1_5x", p99)
                .put("idle_stream_heap_at_most_2048_bytes", idle)
                .put("one_nio_loop_holds_1000_sessions", sessions);
        if (!plan.json() && (anyThroughputTarget || !idles.isEmpty() || nio != null)) {
            say("%ntargets%n");
            if (anyThroughputTarget) {
                sayTarget("1 stream >= 85% of raw TCP", 1, ONE_STREAM_TARGET);
                sayTarget("100 streams >= 70% of raw TCP", 100, HUNDRED_STREAMS_TARGET);
                sayTarget("1,000 streams >= 60% of raw TCP", MANY_STREAMS, MANY_STREAMS_TARGET);
            }
            if (!rtts.isEmpty()) {
                for (String tr : plan.transports()) {
                    double[] rtt = rttRatios(tr);
                    say("  %-34s %-9s %6s     %s%n", "round trip p50 <= 1.5x raw TCP", tr,
                            Double.isNaN(rtt[0]) ? "-" : String.format(Locale.ROOT, "%.2f", rtt[0]),
                            verdict(Double.isNaN(rtt[0]) ? null : rtt[0] <= RTT_TARGET));
                    say("  %-34s %-9s %6s     %s%n", "round trip p99 <= 1.5x raw TCP", tr,
                            Double.isNaN(rtt[1]) ? "-" : String.format(Locale.ROOT, "%.2f", rtt[1]),
                            verdict(Double.isNaN(rtt[1]) ? null : rtt[1] <= RTT_TARGET));
                }
            }
            for (IdleStreams.Result r : idles) {
                say("  %-34s %-9s %,6.0f B   %s%n", "idle stream <= 2 KiB of heap", r.transport(), r.bytesPerStream(),
                        verdict(Double.isNaN(r.bytesPerStream()) ? null : r.bytesPerStream() <= IDLE_STREAM_TARGET));
            }
            if (nio != null) {
                say("  %-34s %-9s %,d/%,d  %s%n", "one NIO loop holds 1,000 sessions", "nio", nio.worked(), nio.pairs(), verdict(sessions));
            }
            if (notMet) {
                say("%n%s%n", notMetNote());
            }
        }
        return t;
    }

    /**
     * Whether a NOT MET may be the machine's doing: what other processes took during the measured
     * cases. Not the load average, which counts this bench's own threads.
     */
    private String notMetNote() {
        double most = Double.NaN;
        String where = null;
        for (Busy b : otherLoad) {
            if (!Double.isNaN(b.cpus()) && (Double.isNaN(most) || b.cpus() > most)) {
                most = b.cpus();
                where = b.label();
            }
        }
        int cpus = Runtime.getRuntime().availableProcessors();
        if (Double.isNaN(most)) {
            return "A NOT MET on a busy machine may be the machine, not smux; this machine cannot say how busy other processes "
                    + "kept it (no /proc/stat). Rerun on an idle machine before drawing conclusions.";
        }
        if (most < QUIET_OTHER_CPUS) {
            return String.format(Locale.ROOT, "Other processes were quiet during every measured case (at most %.2f of %d CPUs): "
                    + "a NOT MET here is smux's, not the machine's.", most, cpus);
        }
        return String.format(Locale.ROOT, "A NOT MET may be the machine, not smux: other processes used up to %.2f of %d CPUs "
                + "during a measured case (%s). Each ratio compares smux with raw TCP in the same run, but work from other "
                + "processes still lands unevenly on the two; rerun on an idle machine before drawing conclusions.", most, cpus, where);
    }

    /** Other processes' CPUs below which a case counts as measured on a quiet machine. */
    private static final double QUIET_OTHER_CPUS = 0.1;

    /** @return the p50 and p99 round-trip ratios smux / raw TCP of a transport, NaN if not measured */
    private double[] rttRatios(String transport) {
        RoundTrip.Result raw = rtts.isEmpty() || !rtts.get(0).transport().equals("raw") ? null : rtts.get(0);
        for (RoundTrip.Result r : rtts) {
            if (raw != null && r.transport().equals(transport) && r.error() == null) {
                return new double[] {r.p50Micros() / raw.p50Micros(), r.p99Micros() / raw.p99Micros()};
            }
        }
        return new double[] {Double.NaN, Double.NaN};
    }

    private void sayTarget(String what, int n, double target) {
        for (String t : plan.transports()) {
            double r = ratio(n, t);
            say("  %-34s %-9s %6s     %s%n", what, t, Double.isNaN(r) ? "-" : String.format(Locale.ROOT, "%.2f", r),
                    verdict(Double.isNaN(r) ? null : r >= target));
        }
    }

    private String verdict(Boolean met) {
        notMet |= Boolean.FALSE.equals(met);
        return met == null ? "not measured" : met ? "met" : "NOT MET";
    }

    private double mbps(int n, String transport) {
        for (Row r : throughput) {
            if (r.streams() == n && r.transport().equals(transport)) {
                return r.mbps();
            }
        }
        return Double.NaN;
    }

    private double ratio(int n, String transport) {
        return mbps(n, transport) / mbps(n, "raw");
    }

    private double cpuRatio(int n, String transport) {
        Row mine = row(n, transport);
        Row raw = row(n, "raw");
        return mine == null || raw == null ? Double.NaN : mine.mbPerCpuSecond() / raw.mbPerCpuSecond();
    }

    private Row row(int n, String transport) {
        for (Row r : throughput) {
            if (r.streams() == n && r.transport().equals(transport)) {
                return r;
            }
        }
        return null;
    }

    private String report(SmuxConfig c, Json.Obj targets, double elapsed) {
        Json.Obj config = Json.obj()
                .put("version", c.version())
                .put("window", c.streamWindow())
                .put("window_tuned", c.windowTuned())
                .put("initial_window", c.initialStreamWindow())
                .put("frame", c.maxFrameSize())
                .put("staging", c.stagingBufferSize())
                .put("stagings_compared", new ArrayList<Object>(plan.stagings()))
                .put("keepalive_s", c.keepAliveEnabled() ? c.keepAliveInterval().toSeconds() : 0)
                .put("duration_s", plan.seconds())
                .put("ramp_s", ramp.toMillis() / 1000.0)
                .put("rounds", rounds())
                .put("write_size", Load.WRITE_SIZE)
                .put("streams", new ArrayList<Object>(plan.streams()))
                .put("transports", new ArrayList<Object>(plan.transports()))
                .put("peer", plan.peer() == null ? null : plan.peer().toString())
                .put("raw_peer", plan.rawPeer() == null ? null : plan.rawPeer().toString());
        Json.Obj machine = Json.obj()
                .put("cpus", Runtime.getRuntime().availableProcessors())
                .put("java", System.getProperty("java.version"))
                .put("vm", System.getProperty("java.vm.name"))
                .put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"))
                .put("gc", gcNames())
                .put("max_heap", Runtime.getRuntime().maxMemory())
                .put("load_average_before", loadAtStart)
                .put("other_processes_cpus", otherLoadJson())
                .put("fd_limit", Heap.maxFileDescriptors());
        List<Object> tp = Json.list();
        for (Row r : throughput) {
            boolean raw = r.transport().equals("raw");
            tp.add(Json.obj().put("streams", r.streams()).put("transport", r.transport()).put("mb_per_s", r.mbps())
                    .put("ratio", raw ? null : ratio(r.streams(), r.transport()))
                    .put("ratio_min", raw ? null : r.ratioMin()).put("ratio_max", raw ? null : r.ratioMax())
                    .put("mb_per_cpu_s", r.mbPerCpuSecond())
                    .put("cpu_ratio", raw ? null : cpuRatio(r.streams(), r.transport()))
                    .put("error", r.error()));
        }
        List<Object> rt = Json.list();
        RoundTrip.Result raw = rtts.isEmpty() || !rtts.get(0).transport().equals("raw") ? null : rtts.get(0);
        for (RoundTrip.Result r : rtts) {
            boolean isRaw = r == raw;
            rt.add(Json.obj().put("transport", r.transport()).put("count", r.count()).put("p50_us", r.p50Micros())
                    .put("p99_us", r.p99Micros()).put("mean_us", r.meanMicros())
                    .put("p50_ratio", isRaw || raw == null ? null : r.p50Micros() / raw.p50Micros())
                    .put("p99_ratio", isRaw || raw == null ? null : r.p99Micros() / raw.p99Micros())
                    .put("error", r.error()));
        }
        List<Object> id = Json.list();
        for (IdleStreams.Result r : idles) {
            id.add(Json.obj().put("transport", r.transport()).put("streams", r.streams())
                    .put("bytes_per_stream", r.bytesPerStream()).put("bytes_per_stream_end", r.bytesPerStreamEnd())
                    .put("heap_before", r.heapBefore()).put("heap_after", r.heapAfter()).put("error", r.error()));
        }
        Object ns = null;
        if (nio != null) {
            ns = Json.obj().put("asked", nio.asked()).put("pairs", nio.pairs()).put("sessions", 2 * nio.pairs())
                    .put("worked", nio.worked()).put("smux_threads", nio.smuxThreads().size())
                    .put("thread_names", new ArrayList<Object>(nio.smuxThreads()))
                    .put("bytes_per_session", nio.bytesPerSession())
                    .put("bytes_per_session_opened", nio.bytesPerSessionOpened()).put("heap_before", nio.heapBefore())
                    .put("heap_opened", nio.heapOpened())
                    .put("heap_after", nio.heapAfter()).put("fd_limit", nio.fdLimit()).put("error", nio.error());
        } else if (nioError != null) {
            ns = Json.obj().put("error", nioError);
        }
        return Json.obj()
                .put("bench", "smux")
                .put("config", config)
                .put("machine", machine)
                .put("throughput", tp)
                .put("rtt", rt)
                .put("idle_streams", id)
                .put("nio_sessions", ns)
                .put("targets", targets)
                .put("leaked_threads", new ArrayList<Object>(leaks))
                .put("ok", !failed && leaks.isEmpty())
                .put("elapsed_s", elapsed)
                .toString();
    }

    private List<Object> otherLoadJson() {
        List<Object> list = Json.list();
        for (Busy b : otherLoad) {
            list.add(Json.obj().put("case", b.label()).put("cpus", Double.isNaN(b.cpus()) ? null : b.cpus()));
        }
        return list;
    }

    // ------------------------------------------------------------------ helpers

    /**
     * A memory budget that lets both ends of a loopback pair reserve {@code perSession} each: the
     * shared budget gives one session at most what stays free for the others, so a pair needs 3x (4x leaves room).
     */
    static MemoryBudget forBothEnds(long perSession) {
        return MemoryBudget.of(Math.max(MemoryBudget.MIN_CAPACITY, 4 * perSession));
    }

    /** The settings of one case: the plan's, the transport forced, room for {@code streams}. */
    private SmuxConfig config(String transport, int streams) {
        SmuxConfig base = plan.config();
        SmuxConfig.Builder b = base.toBuilder().transport(transport);
        int room = streams + 16;
        if (room > base.maxStreams()) {
            b.maxStreams(room).acceptBacklog(Math.max(base.acceptBacklog(), room));
        }
        long reserved = (long) room * Math.max(base.initialStreamWindow(), SmuxConfig.INITIAL_PEER_WINDOW);
        if (base.version() == 2 && reserved > base.maxSessionBuffer()) {
            // the budget reserves max(initial window, 256 KiB) per stream; give every stream its share
            b.maxSessionBuffer(reserved).memoryBudget(forBothEnds(reserved));
        }
        return b.build();
    }

    /** After a case: every thread it started must be gone. */
    private void settle(String label) {
        List<String> left = Workers.lingering(5_000);
        if (!left.isEmpty()) {
            String msg = label + ": " + left.size() + " threads outlived the case, e.g. " + left.get(0);
            leaks.add(msg);
            System.err.println("smux bench: " + msg);
        }
    }

    private void say(String format, Object... args) {
        if (!plan.json()) {
            out.printf(Locale.ROOT, format, args);
            out.flush();
        }
    }

    private static String gcNames() {
        List<String> names = new ArrayList<>();
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            names.add(gc.getName());
        }
        return String.join("/", names);
    }

    static String size(long bytes) {
        if (bytes >= (1 << 20) && bytes % (1 << 20) == 0) {
            return (bytes >> 20) + " MiB";
        }
        if (bytes >= 1024 && bytes % 1024 == 0) {
            return (bytes >> 10) + " KiB";
        }
        return bytes + " B";
    }

    private static String num(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.format(Locale.ROOT, "%.2f", d);
    }
}
