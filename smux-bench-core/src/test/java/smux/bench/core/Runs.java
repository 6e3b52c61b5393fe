package smux.bench.core;

import java.util.List;
import java.util.Set;
import smux.api.SmuxConfig;

/** Hand-made plans and results, for the tests of what judges and reports them. */
final class Runs {
    static final Machine MACHINE = new Machine(2, 0.5, "17.0.15", "OpenJDK 64-Bit Server VM", "Linux 6.1 amd64", "G1 Young/G1 Old",
            1L << 30, 1024);

    private Runs() {
    }

    static Plan plan(String... transports) {
        return new Plan(SmuxConfig.builder().build(), List.of(transports), List.of(), List.of(1, 100), 5,
                Set.of(Section.values()), 10_000, 1000, null, null);
    }

    static ThroughputRow row(int streams, String transport, double mbps, double ratio) {
        return new ThroughputRow(streams, transport, mbps, ratio, ratio * 0.9, ratio * 1.1, 2 * mbps, ratio, null);
    }

    static ThroughputRow raw(int streams, double mbps) {
        return new ThroughputRow(streams, "raw", mbps, Double.NaN, Double.NaN, Double.NaN, 2 * mbps, Double.NaN, null);
    }

    static RoundTripRow rtt(String transport, double p50Ratio, double p99Ratio, String error) {
        return new RoundTripRow(transport, 1000, 20 * p50Ratio, 40 * p99Ratio, 25, p50Ratio, p99Ratio, error);
    }

    static IdleStreams.Result idle(String transport, double bytesPerStream) {
        return new IdleStreams.Result(transport, 10_000, 1_000_000, 1_000_000 + (long) (10_000 * bytesPerStream), bytesPerStream, null);
    }

    static NioSessions.Result nio(int pairs, int worked, int threads) {
        List<String> names = threads == 1 ? List.of("smux-nio-1") : List.of("smux-nio-1", "smux-nio-2");
        return new NioSessions.Result(pairs, pairs, worked, names, 1_000_000, 2_000_000, 2_100_000, 550.0, 500.0, 1024, null);
    }

    static Results results(Plan plan, List<ThroughputRow> throughput, List<RoundTripRow> rtt, List<IdleStreams.Result> idle,
                           NioSessions.Result nio, List<OtherLoad.During> otherLoad, List<String> leaks) {
        return new Results(plan, Schedule.of(plan.seconds()), MACHINE, throughput, rtt, idle, nio, null, otherLoad, leaks, 12.5);
    }
}
