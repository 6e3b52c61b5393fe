package smux.bench.core;

import java.util.ArrayList;
import java.util.List;

/**
 * The bench's targets (issue 9) and the verdict on each. The throughput and round-trip targets are
 * ratios to raw TCP measured in the same run, so they hold on a slow machine as on a fast one; the
 * memory targets are heap bytes. Each verdict is met, not met, or not measured (the run did not
 * take that figure, or the case failed).
 */
public final class Targets {
    /** The targets, each with its key in the JSON report and its line in the text report. */
    public enum Target {
        ONE_STREAM("one_stream_ratio_at_least_0_85", "1 stream >= 85% of raw TCP"),
        HUNDRED_STREAMS("hundred_streams_ratio_at_least_0_70", "100 streams >= 70% of raw TCP"),
        THOUSAND_STREAMS("thousand_streams_ratio_at_least_0_60", "1,000 streams >= 60% of raw TCP"),
        RTT_P50("rtt_p50_at_most_1_5x", "round trip p50 <= 1.5x raw TCP"),
        RTT_P99("rtt_p99_at_most_1_5x", "round trip p99 <= 1.5x raw TCP"),
        IDLE_STREAM("idle_stream_heap_at_most_2048_bytes", "idle stream <= 2 KiB of heap"),
        NIO_SESSIONS("one_nio_loop_holds_1000_sessions", "one NIO loop holds 1,000 sessions");

        /** The key in the JSON report. */
        public final String key;
        /** The words in the text report. */
        public final String label;

        Target(String key, String label) {
            this.key = key;
            this.label = label;
        }
    }

    /**
     * The verdict on one target for one transport.
     *
     * @param figure what was judged (a ratio, bytes, sessions that worked), NaN if not measured
     * @param met whether the target was met; null if not measured
     */
    public record Verdict(Target target, String transport, double figure, Boolean met) {
    }

    static final double ONE_STREAM_RATIO = 0.85;
    static final double HUNDRED_STREAMS_RATIO = 0.70;
    static final double THOUSAND_STREAMS_RATIO = 0.60;
    static final double RTT_RATIO = 1.5;
    static final long IDLE_STREAM_BYTES = 2048;
    static final int SESSIONS = 1000;

    private Targets() {
    }

    /**
     * @return the verdicts in the order the text report gives them: the throughput targets, each
     *     for every transport of the plan; the round trip's p50 and p99, a transport at a time;
     *     the idle streams, one per transport measured; the NIO loop, if it ran
     */
    public static List<Verdict> judge(Results r) {
        List<Verdict> verdicts = new ArrayList<>();
        atLeast(verdicts, r, Target.ONE_STREAM, 1, ONE_STREAM_RATIO);
        atLeast(verdicts, r, Target.HUNDRED_STREAMS, 100, HUNDRED_STREAMS_RATIO);
        atLeast(verdicts, r, Target.THOUSAND_STREAMS, 1000, THOUSAND_STREAMS_RATIO);
        for (String t : r.plan().transports()) {
            RoundTripRow row = roundTrip(r, t);
            double p50 = row == null ? Double.NaN : row.p50Ratio();
            double p99 = row == null ? Double.NaN : row.p99Ratio();
            verdicts.add(new Verdict(Target.RTT_P50, t, p50, Double.isNaN(p50) ? null : p50 <= RTT_RATIO));
            verdicts.add(new Verdict(Target.RTT_P99, t, p99, Double.isNaN(p99) ? null : p99 <= RTT_RATIO));
        }
        for (IdleStreams.Result idle : r.idleStreams()) {
            double bytes = idle.bytesPerStream();
            verdicts.add(new Verdict(Target.IDLE_STREAM, idle.transport(), bytes, Double.isNaN(bytes) ? null : bytes <= IDLE_STREAM_BYTES));
        }
        NioSessions.Result nio = r.nioSessions();
        if (nio != null) {
            boolean held = nio.pairs() >= SESSIONS && nio.worked() == nio.pairs() && nio.smuxThreads().size() == 1 && nio.error() == null;
            verdicts.add(new Verdict(Target.NIO_SESSIONS, "nio", nio.worked(), held));
        }
        return verdicts;
    }

    /** Throughput: the ratio to raw TCP at {@code streams}, for every transport of the plan. */
    private static void atLeast(List<Verdict> verdicts, Results r, Target target, int streams, double ratio) {
        for (String t : r.plan().transports()) {
            double figure = Double.NaN;
            for (ThroughputRow row : r.throughput()) {
                if (row.streams() == streams && row.transport().equals(t)) {
                    figure = row.ratio();
                    break;
                }
            }
            verdicts.add(new Verdict(target, t, figure, Double.isNaN(figure) ? null : figure >= ratio));
        }
    }

    /** @return the transport's round trips if they ran without error, else null */
    private static RoundTripRow roundTrip(Results r, String transport) {
        for (RoundTripRow row : r.roundTrips()) {
            if (row.transport().equals(transport) && row.error() == null) {
                return row;
            }
        }
        return null;
    }
}
