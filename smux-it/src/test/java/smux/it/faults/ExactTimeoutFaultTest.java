package smux.it.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import smux.it.toxi.ToxiproxyBackend;
import smux.it.toxi.ToxiproxyExtension;

/**
 * Guarantee 2 under real partial-write stalls: a write whose deadline fires while a Toxiproxy {@code bandwidth}
 * toxic of rate 0 holds the link reports exactly the bytes that will arrive, and retrying the rest gives
 * exactly the message. {@value #TRIALS_PER_CONFIGURATION} randomized trials per transport and version (see
 * {@link StallTrials} for what one trial does); {@code -Dsmux.faults.trials=N} changes the count,
 * {@code -Dsmux.faults.seed=S} replays a run. The 10,000-trial soak is {@link ExactTimeoutSoak}.
 */
@ExtendWith(ToxiproxyExtension.class)
class ExactTimeoutFaultTest {
    static final int TRIALS_PER_CONFIGURATION = 125;

    @ParameterizedTest(name = "{0} v{1}")
    @MethodSource("smux.it.faults.Faults#transportsAndVersions")
    @Timeout(240)
    void timedOutWritesReportExactlyWhatArrivesAndRetriesNeverDuplicate(String transport, int version,
                                                                         ToxiproxyBackend toxiproxy) throws Exception {
        int trials = Integer.getInteger("smux.faults.trials", TRIALS_PER_CONFIGURATION);
        long seed = Long.getLong("smux.faults.seed", System.nanoTime());
        StallTrials.Tally tally = new StallTrials(toxiproxy, transport, version).run(trials, seed);
        System.out.println("[stall trials] seed " + seed + " " + tally);

        assertNull(tally.anomaly, () -> "seed " + seed + ": " + tally);
        assertEquals(trials, tally.trials);
        assertEquals(0, tally.bytesLost, tally::toString);
        assertEquals(0, tally.bytesDuplicated, tally::toString);
        assertEquals(0, tally.bytesCorrupted, tally::toString);
        // The trials must really exercise the fault: most writes are cut by the stall part-way.
        assertTrue(tally.timedOutPartial >= tally.writes / 4,
                () -> "too few writes timed out part-way for the trials to mean much: " + tally);
    }
}
