package smux.bench.core;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The round-trip section: raw TCP (one connection) and each transport (one stream of a loopback
 * session pair) stay open and take turns, as the throughput contenders do ({@link Turns}): each
 * warms up alone, then in every round each measures one slice, the order rotating.
 */
final class RoundTrips {
    private RoundTrips() {
    }

    /**
     * @param rows raw TCP's row first, then each transport's, with their ratios to raw TCP
     * @param otherCpus the CPUs other processes used during the rounds, NaN if unknown
     */
    record Outcome(List<RoundTripRow> rows, double otherCpus) {
    }

    /** One contender: a label and how to open its connection. */
    private record Contender(String transport, Opener opener) {
    }

    private interface Opener {
        RoundTrip open() throws Exception;
    }

    /** Runs the section and closes every connection. */
    static Outcome run(Plan plan, Schedule schedule) {
        List<Contender> cs = new ArrayList<>();
        cs.add(new Contender(ThroughputRow.RAW, RoundTrip::raw));
        for (String t : plan.transports()) {
            cs.add(new Contender(t, () -> RoundTrip.smux(CaseConfig.of(plan.config(), t, 1))));
        }
        int k = cs.size();
        RoundTrip[] conns = new RoundTrip[k];
        String[] errors = new String[k];
        double otherCpus;
        try {
            for (int i = 0; i < k; i++) {
                try {
                    conns[i] = cs.get(i).opener().open();
                    conns[i].measure(schedule.ramp(), Duration.ZERO);
                } catch (Exception e) {
                    errors[i] = e.toString();
                }
            }
            OtherLoad.Sample before = OtherLoad.sample();
            for (int r = 0; r < schedule.rounds(); r++) {
                for (int j = 0; j < k; j++) {
                    RoundTrip c = conns[(j + r) % k];
                    if (c != null) {
                        c.measure(schedule.settle(), schedule.slice());
                    }
                }
            }
            otherCpus = OtherLoad.since(before);
        } finally {
            for (RoundTrip c : conns) {
                if (c != null) {
                    c.close();
                }
            }
        }
        RoundTripRow raw = conns[0] == null ? RoundTripRow.failed(ThroughputRow.RAW, errors[0]) : conns[0].result();
        List<RoundTripRow> rows = new ArrayList<>(k);
        rows.add(raw);
        for (int i = 1; i < k; i++) {
            RoundTripRow r = conns[i] == null ? RoundTripRow.failed(cs.get(i).transport(), errors[i]) : conns[i].result();
            rows.add(r.comparedTo(raw));
        }
        return new Outcome(rows, otherCpus);
    }
}
