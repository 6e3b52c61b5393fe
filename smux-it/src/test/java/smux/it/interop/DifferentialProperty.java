package smux.it.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import smux.it.interop.GoPeer.Release;

/**
 * The differential property over many seeds: for each seed, the plans of both releases and both protocol
 * versions, each run four ways ({@link Differential}). Not part of the regular build (the class name does
 * not match Surefire's patterns); run it with
 * <pre>
 * mvn -B -ntp -Pdifferential -pl smux-it -am verify                      # 250 seeds from a random start
 * mvn -B -ntp -Pdifferential -pl smux-it -am verify -Dsmux.diff.seeds=2000 -Dsmux.diff.seed=1
 * mvn -B -ntp -Pdifferential -pl smux-it -am verify -Dsmux.diff.replay=v1.5.16:2:12345
 * </pre>
 * It prints every failing plan with its report, a summary line {@code DIFFERENTIAL seeds=... plans=...
 * failed=...}, appends both to {@code smux-it/target/differential-report.txt}, and fails if any plan failed.
 */
class DifferentialProperty {

    @Test
    @Timeout(value = 12, unit = TimeUnit.HOURS)
    void everySeedDeliversTheSameWithGoAndJava() throws Exception {
        List<DiffPlan> plans = new ArrayList<>();
        String replay = System.getProperty("smux.diff.replay", "");
        long first = Long.getLong("smux.diff.seed", System.nanoTime() % 1_000_000_000L);
        int seeds = Integer.getInteger("smux.diff.seeds", 250);
        if (!replay.isBlank()) {
            plans.add(parseReplay(replay));
            seeds = 1;
        } else {
            for (long seed = first; seed < first + seeds; seed++) {
                for (Release r : Release.values()) {
                    for (int v = 1; v <= 2; v++) {
                        plans.add(DiffPlan.generate(seed, r, v));
                    }
                }
            }
        }
        Path report = GoPeer.workDirectory().getParent().resolve("differential-report.txt");
        long started = System.nanoTime();
        int failed = 0;
        long streams = 0;
        long bytes = 0;
        for (DiffPlan p : plans) {
            Differential.Outcome o = Differential.check(p, DifferentialTest.planDirectory());
            streams += p.streams().size();
            bytes += p.streams().stream().mapToLong(s -> s.client().total() + s.server().total()).sum();
            if (!o.ok()) {
                failed++;
                report(report, "DIFFERENTIAL FAILURE " + o.report());
            }
        }
        String summary = String.format(Locale.ROOT,
                "DIFFERENTIAL seeds=%d (from %d) plans=%d runs=%d streams=%d bytes per run=%d failed=%d (%.1f min)",
                seeds, first, plans.size(), 4 * plans.size(), streams, bytes, failed, (System.nanoTime() - started) / 60e9);
        report(report, summary);
        assertEquals(0, failed, summary + "; see " + report);
    }

    /** {@code release:version:seed}, as a failure prints it. */
    static DiffPlan parseReplay(String spec) {
        String[] parts = spec.trim().split(":");
        if (parts.length != 3) {
            throw new IllegalArgumentException("smux.diff.replay must be release:version:seed (e.g. v1.5.16:2:12345), got " + spec);
        }
        Release release = null;
        for (Release r : Release.values()) {
            if (r.tag.equals(parts[0])) {
                release = r;
            }
        }
        if (release == null) {
            throw new IllegalArgumentException("unknown release " + parts[0] + " in smux.diff.replay");
        }
        return DiffPlan.generate(Long.parseLong(parts[2]), release, Integer.parseInt(parts[1]));
    }

    private static void report(Path file, String text) throws java.io.IOException {
        System.out.println(text);
        Files.createDirectories(file.getParent());
        Files.writeString(file, text + System.lineSeparator(), StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }
}
