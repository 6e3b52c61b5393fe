package smux.bench.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import smux.bench.core.Targets.Target;
import smux.bench.core.Targets.Verdict;

class TargetsTest {

    private static Verdict find(List<Verdict> verdicts, Target target, String transport) {
        return verdicts.stream().filter(v -> v.target() == target && v.transport().equals(transport)).findFirst()
                .orElseThrow(() -> new AssertionError("no verdict on " + target + " for " + transport + ": " + verdicts));
    }

    @Test
    void throughputRatiosAreJudgedAtTheirBoundAndUnmeasuredCountsAreNotMeasured() {
        Plan plan = Runs.plan("socket", "nio");
        List<Verdict> v = Targets.judge(Runs.results(plan,
                List.of(Runs.raw(1, 1000), Runs.row(1, "socket", 850, 0.85), Runs.row(1, "nio", 849, 0.849),
                        Runs.raw(100, 1000), Runs.row(100, "socket", 700, 0.70), Runs.row(100, "nio", Double.NaN, Double.NaN)),
                List.of(), List.of(), null, List.of(), List.of()));
        assertEquals(Boolean.TRUE, find(v, Target.ONE_STREAM, "socket").met(), "0.85 meets 'at least 0.85'");
        assertEquals(Boolean.FALSE, find(v, Target.ONE_STREAM, "nio").met());
        assertEquals(0.849, find(v, Target.ONE_STREAM, "nio").figure());
        assertEquals(Boolean.TRUE, find(v, Target.HUNDRED_STREAMS, "socket").met());
        assertNull(find(v, Target.HUNDRED_STREAMS, "nio").met(), "a failed contender is not measured, not NOT MET");
        assertNull(find(v, Target.THOUSAND_STREAMS, "socket").met(), "1,000 streams did not run");
    }

    @Test
    void roundTripsAreJudgedPerPercentileAndAFailedTransportIsNotMeasured() {
        Plan plan = Runs.plan("socket", "nio");
        List<Verdict> v = Targets.judge(Runs.results(plan, List.of(),
                List.of(Runs.rtt("raw", Double.NaN, Double.NaN, null), Runs.rtt("socket", 1.5, 1.51, null),
                        Runs.rtt("nio", 1.0, 1.0, "java.io.EOFException")),
                List.of(), null, List.of(), List.of()));
        assertEquals(Boolean.TRUE, find(v, Target.RTT_P50, "socket").met(), "1.5 meets 'at most 1.5x'");
        assertEquals(Boolean.FALSE, find(v, Target.RTT_P99, "socket").met());
        assertNull(find(v, Target.RTT_P50, "nio").met(), "figures of a failed case are not judged");
        assertNull(find(v, Target.RTT_P99, "nio").met());
    }

    @Test
    void memoryTargets() {
        Plan plan = Runs.plan("socket", "nio");
        List<Verdict> v = Targets.judge(Runs.results(plan, List.of(), List.of(),
                List.of(Runs.idle("socket", 2048), Runs.idle("nio", 2049)), Runs.nio(1000, 1000, 1), List.of(), List.of()));
        assertEquals(Boolean.TRUE, find(v, Target.IDLE_STREAM, "socket").met());
        assertEquals(Boolean.FALSE, find(v, Target.IDLE_STREAM, "nio").met());
        assertEquals(Boolean.TRUE, find(v, Target.NIO_SESSIONS, "nio").met());

        for (NioSessions.Result short1 : List.of(Runs.nio(999, 999, 1), Runs.nio(1000, 999, 1), Runs.nio(1000, 1000, 2))) {
            List<Verdict> w = Targets.judge(Runs.results(plan, List.of(), List.of(), List.of(), short1, List.of(), List.of()));
            assertEquals(Boolean.FALSE, find(w, Target.NIO_SESSIONS, "nio").met(), () -> "fewer pairs, a failed pair or a second thread: " + short1);
        }
        List<Verdict> none = Targets.judge(Runs.results(plan, List.of(), List.of(), List.of(), null, List.of(), List.of()));
        assertTrue(none.stream().noneMatch(x -> x.target() == Target.NIO_SESSIONS), "no verdict when the NIO section did not run");
    }
}
