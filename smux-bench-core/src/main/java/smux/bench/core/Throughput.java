package smux.bench.core;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import smux.api.SmuxConfig;

/**
 * Who competes in the throughput comparison of one stream count: raw TCP (N connections) first,
 * as the baseline, then each transport (N streams of one session), once per staging size when
 * sizes are compared. Over loopback every contender also reads what it sends; against a remote
 * discard server (the plan's peer), raw TCP runs only if the plan names a raw peer.
 */
final class Throughput {
    private final Plan plan;

    Throughput(Plan plan) {
        this.plan = plan;
    }

    List<Turns.Contender> contenders(int streams) {
        List<Turns.Contender> cs = new ArrayList<>();
        if (plan.remote()) {
            if (plan.rawPeer() != null) {
                cs.add(Turns.Contender.of(ThroughputRow.RAW, () -> Load.Raw.remote(plan.rawPeer(), streams)));
            }
        } else if (Heap.connectionsThatFit(streams + 64) < streams + 64) {
            cs.add(Turns.Contender.refused(ThroughputRow.RAW, "the file descriptor limit (" + Heap.maxFileDescriptors()
                    + ") is too low for " + streams + " loopback connections; raise ulimit -n"));
        } else {
            cs.add(Turns.Contender.of(ThroughputRow.RAW, () -> Load.Raw.loopback(streams)));
        }
        for (String t : plan.transports()) {
            if (plan.stagings().isEmpty()) {
                cs.add(mux(t, () -> CaseConfig.of(plan.config(), t, streams), streams));
            }
            for (int size : plan.stagings()) {
                cs.add(mux(t + "@" + Units.size(size).replace(" ", ""),
                        () -> CaseConfig.of(plan.config(), t, streams).toBuilder().stagingBufferSize(size).build(), streams));
            }
        }
        return cs;
    }

    /** A transport's contender; its settings are made as it opens, so that a bad one fails that contender only. */
    private Turns.Contender mux(String label, Supplier<SmuxConfig> config, int streams) {
        return Turns.Contender.of(label, plan.remote() ? () -> Load.Mux.remote(config.get(), plan.peer(), streams)
                : () -> Load.Mux.loopback(config.get(), streams));
    }
}
