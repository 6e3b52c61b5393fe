package smux.it.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import smux.it.toxi.ToxiproxyBackend;
import smux.it.toxi.ToxiproxyExtension;

/**
 * The random-fault soak ({@link RandomFaults}) for {@value #SECONDS} seconds, in the regular build, so that the
 * hour-long run ({@link RandomFaultSoak}) cannot rot: many sessions on both transports and both versions through
 * Toxiproxy, toxics coming and going, some connections killed; every stream delivers exactly what was committed
 * (or, if its session died, a prefix of it), every failure is a named exception, nothing hangs and nothing
 * leaks. {@code -Dsmux.chaos.seed=S} replays a run's randomness (the toxics' timing against the traffic still
 * varies).
 */
@ExtendWith(ToxiproxyExtension.class)
class RandomFaultSoakTest {
    static final int SECONDS = 40;

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void fortySecondsOfRandomFaults(ToxiproxyBackend toxiproxy) throws Exception {
        long seed = Long.getLong("smux.chaos.seed", System.nanoTime());
        RandomFaults.Result r = new RandomFaults(toxiproxy, Duration.ofSeconds(SECONDS), 3, seed, 6, Duration.ofSeconds(10),
                Path.of(System.getProperty("smux.it.buildDir", "target"), "chaos-report.txt")).run();
        assertClean(r);
        assertTrue(r.ledger().completed.sum() >= 10, () -> "too few streams completed for the run to mean much: " + r.summary());
    }

    /** What every run must show, whatever its length. */
    static void assertClean(RandomFaults.Result r) {
        FaultLedger l = r.ledger();
        if (l.taintedEpisodes.sum() > 0) {
            System.out.println("CHAOS episodes tainted by a Toxiproxy drop (not counted against the library):\n  " + l.taints());
        }
        assertEquals(0, l.anomalies(), () -> r.summary() + "\n  first anomalies:\n  " + l.firstAnomalies());
        assertEquals(0, l.lost.sum() + l.duplicated.sum() + l.corrupted.sum(), r::summary);
        assertEquals(0, l.unexpectedFailures(), r::summary);
        assertTrue(r.leaks().isEmpty(), r::summary);
        assertTrue(l.sessions.sum() > 0 && l.streams.sum() > 0 && l.bytesOnCompletedStreams.sum() > 0, r::summary);
    }
}
