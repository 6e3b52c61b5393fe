package smux.bench.core;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import smux.api.SmuxConfig;

/**
 * The readable report: a line per figure as it comes, the targets at the end, and whether a target
 * NOT MET may be the machine's doing. Threads a case left behind go to the error stream.
 */
public final class TextReport implements BenchListener {
    /** Other processes' CPUs below which a case counts as measured on a quiet machine. */
    private static final double QUIET_OTHER_CPUS = 0.1;
    private static final String THROUGHPUT_COLUMNS = "  %7s  %-14s %10s %12s  %-22s %s%n";

    private final PrintStream out;
    private final PrintStream err;
    private Plan plan;
    private Schedule schedule;
    private Machine machine;

    /**
     * @param out where the report goes
     * @param err where a leaked thread is reported
     */
    public TextReport(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    @Override
    public void started(Plan p, Schedule s, Machine m) {
        plan = p;
        schedule = s;
        machine = m;
        SmuxConfig c = p.config();
        say("smux bench: version %d, window %s, frame %d, staging %s, keepalive %s; %s s measured per case after %s s warm-up%n",
                c.version(), c.windowTuned()
                        ? "tuned " + Units.size(c.initialStreamWindow()) + " to " + Units.size(c.streamWindow())
                        : Units.size(c.streamWindow()), c.maxFrameSize(), Units.size(c.stagingBufferSize()),
                c.keepAliveEnabled() ? c.keepAliveInterval().toSeconds() + " s" : "off",
                Units.num(p.seconds()), Units.num(s.ramp().toMillis() / 1000.0));
        say("machine: %d CPUs, load average %.2f before the bench, Java %s, %s, max heap %s%n", m.cpus(), m.loadAverage(), m.java(),
                m.gc(), Units.size(m.maxHeap()));
    }

    @Override
    public void throughputStarted() {
        if (plan.remote()) {
            say("%nthroughput to %s: smux client writes 128 KiB buffers on N streams of one session%s%n", plan.peer(),
                    plan.rawPeer() == null ? " (no raw TCP baseline: add --raw-peer)"
                            : "; raw TCP to " + plan.rawPeer() + " with N connections");
        } else {
            say("%nthroughput over loopback: writers send 128 KiB buffers, readers drain; raw TCP uses one connection per stream;%n"
                    + "  the contenders stay open and take turns, %d rounds of %s s each; ratio = smux / raw TCP;%n"
                    + "  MB/CPU-s = MB moved per CPU-second this process used (the cost, whatever share of a shared machine it got)%n",
                    schedule.rounds(), Units.num(schedule.slice().toMillis() / 1000.0));
        }
        say(THROUGHPUT_COLUMNS, "streams", "transport", "MB/s", "MB/CPU-s", "ratio (range in rounds)", "ratio per CPU-s");
    }

    @Override
    public void compared(List<ThroughputRow> rows, double otherCpus) {
        for (ThroughputRow r : rows) {
            say("  %7d  %-14s %10s %12s  %-22s %s%s%n", r.streams(), r.isRaw() ? "raw TCP" : r.transport(), orDash("%.1f", r.mbps()),
                    orDash("%.1f", r.mbPerCpuSecond()),
                    Double.isNaN(r.ratio()) ? "" : String.format(Locale.ROOT, "%.2f (%.2f-%.2f)", r.ratio(), r.ratioMin(), r.ratioMax()),
                    Double.isNaN(r.cpuRatio()) ? "" : String.format(Locale.ROOT, "%.2f", r.cpuRatio()), failed(r.error()));
        }
        otherLoad(otherCpus);
    }

    @Override
    public void roundTripsStarted() {
        say("%nround trip: 64-byte request and response, one at a time, on one stream (raw TCP: one connection);%n"
                + "  the contenders stay open and take turns, %d rounds of %s s each%n", schedule.rounds(),
                Units.num(schedule.slice().toMillis() / 1000.0));
        say("  %-9s %10s %10s %10s %10s%n", "transport", "p50 us", "p99 us", "p50 ratio", "p99 ratio");
    }

    @Override
    public void roundTrips(List<RoundTripRow> rows, double otherCpus) {
        boolean baseline = !rows.isEmpty() && rows.get(0).isRaw();
        for (RoundTripRow r : rows) {
            String ratios = !baseline || r.isRaw() ? "" : String.format(Locale.ROOT, "%10.2f %10.2f", r.p50Ratio(), r.p99Ratio());
            say("  %-9s %10.1f %10.1f %s%s%n", r.isRaw() ? "raw TCP" : r.transport(), r.p50Micros(), r.p99Micros(), ratios,
                    failed(r.error()));
        }
        otherLoad(otherCpus);
    }

    @Override
    public void idleStarted() {
        say("%nheap per idle stream: %,d streams opened and accepted on one session pair (both ends in this process)%n",
                plan.idleStreams());
    }

    @Override
    public void idle(IdleStreams.Result r) {
        say("  %-9s %,.0f bytes per stream, both ends (%,.0f per end)%s%n", r.transport(), r.bytesPerStream(), r.bytesPerStreamEnd(),
                failed(r.error()));
    }

    @Override
    public void nioSkipped() {
        say("%none NIO loop holding many sessions: skipped (the nio transport is not in this run)%n");
    }

    @Override
    public void nioStarted() {
        say("%none NIO loop: %,d loopback session pairs on the nio transport (%,d sessions, %,d sockets; fd limit %d)%n",
                plan.sessions(), 2 * plan.sessions(), 2 * plan.sessions(), machine.fdLimit());
    }

    @Override
    public void nio(NioSessions.Result nio, String error) {
        if (nio == null) {
            say("  FAILED: %s%n", error);
            return;
        }
        if (nio.pairs() < nio.asked()) {
            say("  only %,d pairs fit under the file descriptor limit %d (raise ulimit -n)%n", nio.pairs(), nio.fdLimit());
        }
        say("  %,d of %,d pairs echoed %d bytes; smux threads while all were open: %d %s%n",
                nio.worked(), nio.pairs(), NioSessions.PAYLOAD, nio.smuxThreads().size(), nio.smuxThreads());
        say("  heap per session: %,.0f bytes just opened, %,.0f bytes after the echo%s%n", nio.bytesPerSessionOpened(),
                nio.bytesPerSession(), failed(nio.error()));
    }

    @Override
    public void leaked(String what) {
        err.println("smux bench: " + what);
        err.flush();
    }

    @Override
    public void finished(Results r) {
        List<Targets.Verdict> verdicts = Targets.judge(r);
        boolean throughputJudged = verdicts.stream().anyMatch(v -> isThroughput(v.target()) && !Double.isNaN(v.figure()));
        if (throughputJudged || !r.idleStreams().isEmpty() || r.nioSessions() != null) {
            say("%ntargets%n");
            for (Targets.Verdict v : verdicts) {
                if (shown(v.target(), throughputJudged, r)) {
                    say("  %-34s %-9s %s %s%n", v.target().label, v.transport(), figure(v, r), verdict(v.met()));
                }
            }
            if (verdicts.stream().anyMatch(v -> Boolean.FALSE.equals(v.met()))) {
                say("%n%s%n", notMetNote(r));
            }
        }
        say("%nelapsed %.0f s%n", r.elapsedSeconds());
    }

    // ------------------------------------------------------------------ helpers

    private static boolean isThroughput(Targets.Target t) {
        return t == Targets.Target.ONE_STREAM || t == Targets.Target.HUNDRED_STREAMS || t == Targets.Target.THOUSAND_STREAMS;
    }

    /** Whether a verdict has a line: the throughput targets if any was measured, the round trip's if it ran. */
    private static boolean shown(Targets.Target t, boolean throughputJudged, Results r) {
        return switch (t) {
            case ONE_STREAM, HUNDRED_STREAMS, THOUSAND_STREAMS -> throughputJudged;
            case RTT_P50, RTT_P99 -> !r.roundTrips().isEmpty();
            default -> true;
        };
    }

    /** The figure column of a target line, with the room before the verdict. */
    private static String figure(Targets.Verdict v, Results r) {
        return switch (v.target()) {
            case IDLE_STREAM -> String.format(Locale.ROOT, "%,6.0f B  ", v.figure());
            case NIO_SESSIONS -> String.format(Locale.ROOT, "%,d/%,d ", (long) v.figure(), r.nioSessions().pairs());
            default -> String.format(Locale.ROOT, "%6s    ", orDash("%.2f", v.figure()));
        };
    }

    private static String verdict(Boolean met) {
        return met == null ? "not measured" : met ? "met" : "NOT MET";
    }

    /**
     * Whether a NOT MET may be the machine's doing: what other processes took during the measured
     * cases. Not the load average, which counts this bench's own threads.
     */
    private String notMetNote(Results r) {
        double most = Double.NaN;
        String where = null;
        for (OtherLoad.During b : r.otherLoad()) {
            if (!Double.isNaN(b.cpus()) && (Double.isNaN(most) || b.cpus() > most)) {
                most = b.cpus();
                where = b.label();
            }
        }
        int cpus = r.machine().cpus();
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

    /** After a case: how much CPU other processes took while it was measured. */
    private void otherLoad(double cpus) {
        say("  %s%n", Double.isNaN(cpus) ? "(the CPU time of other processes cannot be read here: no /proc/stat)"
                : String.format(Locale.ROOT, "other processes used %.2f of %d CPUs meanwhile", cpus, machine.cpus()));
    }

    private static String orDash(String format, double d) {
        return Double.isNaN(d) ? "-" : String.format(Locale.ROOT, format, d);
    }

    private static String failed(String error) {
        return error == null ? "" : "  FAILED: " + error;
    }

    private void say(String format, Object... args) {
        out.printf(Locale.ROOT, format, args);
        out.flush();
    }
}
