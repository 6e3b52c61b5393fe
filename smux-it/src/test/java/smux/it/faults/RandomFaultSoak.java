package smux.it.faults;

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
 * The hour under random faults ({@link RandomFaults}): {@code smux.chaos.minutes} (default 60) of sessions on
 * both transports and both versions, {@code smux.chaos.lanes} (default 4) at a time, through Toxiproxy with
 * toxics added and removed at random and connections killed. Not part of the regular build (the class name does
 * not match Surefire's patterns; {@link RandomFaultSoakTest} runs the same for 40 s there); run it with
 * <pre>
 * mvn -B -ntp -Pchaos -pl smux-it -am verify
 * mvn -B -ntp -Pchaos -pl smux-it -am verify -Dsmux.chaos.minutes=10 -Dsmux.chaos.seed=12345
 * </pre>
 * It prints a progress line every minute and a summary line {@code CHAOS ... lost=0, duplicated=0 ...}, appends
 * them to {@code smux-it/target/chaos-report.txt}, and fails on any lost, duplicated or corrupted byte, any
 * failure outside the named exceptions, any hang, or any leak.
 */
@ExtendWith(ToxiproxyExtension.class)
class RandomFaultSoak {

    @Test
    @Timeout(value = 30, unit = TimeUnit.HOURS)
    void anHourOfRandomFaults(ToxiproxyBackend toxiproxy) throws Exception {
        Duration duration = Duration.ofMinutes(Long.getLong("smux.chaos.minutes", 60));
        int lanes = Integer.getInteger("smux.chaos.lanes", 4);
        long seed = Long.getLong("smux.chaos.seed", System.nanoTime());
        RandomFaults.Result r = new RandomFaults(toxiproxy, duration, lanes, seed, 15, Duration.ofMinutes(1),
                Path.of(System.getProperty("smux.it.buildDir", "target"), "chaos-report.txt")).run();
        RandomFaultSoakTest.assertClean(r);
        assertTrue(r.ledger().terminalFaults.sum() > 0 && r.ledger().sessionsFailed.sum() > 0,
                () -> "no connection was killed: the run did not exercise failures: " + r.summary());
    }
}
