package smux.it.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import smux.it.toxi.ToxiproxyBackend;
import smux.it.toxi.ToxiproxyExtension;

/**
 * The soak of {@link ExactTimeoutFaultTest}: {@code smux.soak.trials} (default 10,000) stall trials, split evenly
 * over both transports and both versions, each configuration on one session pair. Not part of the normal
 * suite (the class name does not match Surefire's test patterns); run it with
 * <pre>
 * mvn -B -ntp -Psoak -pl smux-it -am verify
 * </pre>
 * It prints one line per configuration and a total line {@code SOAK TOTAL trials=..., bytes lost=...,
 * bytes duplicated=...}, appends them to {@code smux-it/target/soak-report.txt}, and fails if a byte was lost
 * or duplicated.
 */
@ExtendWith(ToxiproxyExtension.class)
class ExactTimeoutSoak {

    @Test
    @Timeout(value = 6, unit = TimeUnit.HOURS)
    void tenThousandStallTrials(ToxiproxyBackend toxiproxy) throws Exception {
        int total = Integer.getInteger("smux.soak.trials", 10_000);
        long seed = Long.getLong("smux.faults.seed", System.nanoTime());
        Path report = Path.of(System.getProperty("smux.it.buildDir", "target"), "soak-report.txt");
        report(report, "SOAK start " + Instant.now() + ": " + total + " trials, seed " + seed);
        StallTrials.Tally sum = new StallTrials.Tally("TOTAL");
        String[][] configurations = {{"socket", "2"}, {"nio", "2"}, {"socket", "1"}, {"nio", "1"}};
        for (int i = 0; i < configurations.length; i++) {
            int share = total / configurations.length + (i < total % configurations.length ? 1 : 0);
            StallTrials.Tally tally = new StallTrials(toxiproxy, configurations[i][0], Integer.parseInt(configurations[i][1]))
                    .progressEvery(250).run(share, seed + i);
            report(report, "SOAK " + tally);
            sum.add(tally);
            toxiproxy.deleteAllProxies();
        }
        report(report, String.format("SOAK TOTAL %s (%.1f min; partial timeouts %d of %d writes)",
                sum.headline(), sum.nanos / 60e9, sum.timedOutPartial, sum.writes));
        assertNull(sum.anomaly, sum::toString);
        assertEquals(total, sum.trials);
        assertEquals(0, sum.bytesLost + sum.bytesDuplicated + sum.bytesCorrupted, sum::toString);
    }

    private static void report(Path file, String line) throws java.io.IOException {
        System.out.println(line);
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, line + System.lineSeparator(), StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }
}
