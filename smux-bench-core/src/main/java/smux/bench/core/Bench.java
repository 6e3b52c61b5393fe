package smux.bench.core;

import java.util.ArrayList;
import java.util.List;

/**
 * One run of the bench: the plan's sections in a fixed order, each case on fresh connections that
 * it closes before the next starts (a thread that outlives its case is reported, not ignored). It
 * measures and collects; the listener hears each figure as it comes, and {@link #run} returns
 * them all. Judging them is {@link Targets}'s work, reporting them {@link TextReport}'s and
 * {@link JsonReport}'s.
 */
public final class Bench {
    private final Plan plan;
    private final BenchListener listener;
    private final Schedule schedule;
    private final List<ThroughputRow> throughput = new ArrayList<>();
    private final List<RoundTripRow> roundTrips = new ArrayList<>();
    private final List<IdleStreams.Result> idles = new ArrayList<>();
    private final List<OtherLoad.During> otherLoad = new ArrayList<>();
    private final List<String> leaks = new ArrayList<>();
    private NioSessions.Result nio;
    private String nioError;

    /**
     * @param plan what to run
     * @param listener who hears the figures as they come
     */
    public Bench(Plan plan, BenchListener listener) {
        this.plan = plan;
        this.listener = listener;
        this.schedule = Schedule.of(plan.seconds());
    }

    /**
     * Makes the bench's readers and writers virtual threads from now on (Java 21 and later).
     *
     * @return false on a Java without virtual threads (nothing changes)
     */
    public static boolean useVirtualThreads() {
        return Workers.useVirtualThreads();
    }

    /**
     * Runs the plan.
     *
     * @return every figure; {@link Results#ok()} says whether every case ran without error
     */
    public Results run() {
        long started = System.nanoTime();
        Machine machine = Machine.now();
        listener.started(plan, schedule, machine);
        if (plan.remote() || plan.sections().contains(Section.THROUGHPUT)) {
            throughput();
        }
        if (!plan.remote()) {
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
        Results results = new Results(plan, schedule, machine, List.copyOf(throughput), List.copyOf(roundTrips), List.copyOf(idles), nio,
                nioError, List.copyOf(otherLoad), List.copyOf(leaks), (System.nanoTime() - started) / 1e9);
        listener.finished(results);
        return results;
    }

    private void throughput() {
        listener.throughputStarted();
        Throughput section = new Throughput(plan);
        boolean first = true;
        for (int n : plan.streams()) {
            Turns.Outcome o = Turns.run(n, section.contenders(n), first ? schedule.warmUp() : schedule.ramp(), schedule);
            first = false;
            otherLoad.add(new OtherLoad.During(n + (n == 1 ? " stream" : " streams"), o.otherCpus()));
            settle(n + " streams");
            throughput.addAll(o.rows());
            listener.compared(o.rows(), o.otherCpus());
        }
    }

    private void roundTrips() {
        listener.roundTripsStarted();
        RoundTrips.Outcome o = RoundTrips.run(plan, schedule);
        otherLoad.add(new OtherLoad.During("round trip", o.otherCpus()));
        settle("round trip");
        roundTrips.addAll(o.rows());
        listener.roundTrips(o.rows(), o.otherCpus());
    }

    private void idleStreams() {
        listener.idleStarted();
        for (String t : plan.transports()) {
            IdleStreams.Result r;
            try {
                r = IdleStreams.run(CaseConfig.of(plan.config(), t, plan.idleStreams()), plan.idleStreams());
            } catch (Exception e) {
                r = new IdleStreams.Result(t, plan.idleStreams(), 0, 0, Double.NaN, e.toString());
            }
            settle("idle streams " + t);
            idles.add(r);
            listener.idle(r);
        }
    }

    private void nioSessions() {
        if (!plan.transports().contains("nio")) {
            listener.nioSkipped();
            return;
        }
        listener.nioStarted();
        try {
            nio = NioSessions.run(CaseConfig.of(plan.config(), "nio", 1), plan.sessions());
        } catch (Exception e) {
            nioError = e.toString();
        }
        settle("nio sessions");
        listener.nio(nio, nioError);
    }

    /** After a case: every thread it started must be gone. */
    private void settle(String label) {
        List<String> left = Workers.lingering(5_000);
        if (!left.isEmpty()) {
            String what = label + ": " + left.size() + " threads outlived the case, e.g. " + left.get(0);
            leaks.add(what);
            listener.leaked(what);
        }
    }
}
