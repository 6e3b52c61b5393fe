package smux.it.interop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import smux.it.interop.CellRun.Figure;
import smux.it.interop.CellRun.Streams;
import smux.it.interop.GoPeer.Release;
import smux.it.interop.ProcSample.Usage;

/**
 * The parts of {@link InteropThroughputBench} that need no run: reading {@code /proc}, the figures, medians
 * and ratios, and how refused streams are reported. Part of the normal build (the bench is not).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ThroughputFiguresTest {
    /** A real line of /proc/<pid>/stat whose command holds spaces and parentheses; utime 4711, stime 289. */
    private static final String STAT = "12345 (smux (peer) x) S 1 12345 12345 0 -1 4194560 1763 0 0 0 4711 289 0 0 20 0 9 0 "
            + "1234567 123456789 2000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";

    @Test
    void cpuTicksAreCountedFromTheLastParenthesis() {
        assertEquals(4711 + 289, ProcSample.cpuTicks(STAT));
        assertEquals(4711 + 289, ProcSample.cpuTicks(STAT.replace("(smux (peer) x)", "(java)")));
        // a ")" followed by what looks like fields, inside the command, must not shift them
        assertEquals(4711 + 289, ProcSample.cpuTicks(STAT.replace("(smux (peer) x)", "(a) S 9 9 9 9 9 9 9 9 9 9 9 9 9 (b)")));
    }

    @Test
    void aLineThatIsNotStatIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> ProcSample.cpuTicks("12345 java S 1 2 3"));
        assertThrows(IllegalArgumentException.class, () -> ProcSample.cpuTicks("12345 (java) S 1 2 3"));
        assertThrows(IllegalArgumentException.class, () -> ProcSample.cpuTicks(STAT.replace(" 4711 ", " x ")));
    }

    @Test
    void contextSwitchesAreReadFromStatus() {
        String status = "Name:\tjava\nState:\tS (sleeping)\nThreads:\t9\nvoluntary_ctxt_switches:\t150\nnonvoluntary_ctxt_switches:\t7\n";
        assertArrayEquals(new long[] {150, 7}, ProcSample.switches(status));
        assertThrows(IllegalArgumentException.class, () -> ProcSample.switches("Name:\tjava\n"));
    }

    @Test
    void usageBetweenTwoSamplesCountsThreadsThatExited() {
        ProcSample before = new ProcSample(1000, 500, 20, Set.of(1, 2, 3));
        ProcSample after = new ProcSample(1250, 900, 30, Set.of(1, 3, 4));
        Usage u = after.since(before, 100);
        assertEquals(2.5, u.cpuSeconds(), 1e-9);
        assertEquals(410, u.switches());
        assertEquals(1, u.threadsGone());
        // a thread that exited took more switches with it than the others made: a lower bound, not a negative count
        assertEquals(0, new ProcSample(1250, 100, 0, Set.of(1)).since(before, 100).switches());
    }

    @Test
    void thisProcessCanBeSampled() {
        ProcSample s = ProcSample.of(ProcessHandle.current().pid());
        assertTrue(s.ticks() > 0, "a JVM that ran the tests so far has used CPU: " + s);
        assertTrue(s.threads().contains((int) ProcessHandle.current().pid()), "the main thread is a task of its own");
        assertTrue(s.threads().size() > 1, "a JVM has several threads");
        assertTrue(ProcSample.clockTicksPerSecond() > 0);
    }

    @Test
    void figuresArePerGigabyteAndPerMegabyte() {
        CellRun r = run(2_000_000_000L, 2.0, 1.0, 2.0, served(100));
        assertEquals(1000, Figure.MB_PER_S.of(r), 1e-9);
        assertEquals(0.5, Figure.RECEIVER_CPU_PER_GB.of(r), 1e-9);
        assertEquals(1.0, Figure.SENDER_CPU_PER_GB.of(r), 1e-9);
        assertEquals(20_000.0 / 2000, Figure.RECEIVER_SWITCHES_PER_MB.of(r), 1e-9);
    }

    @Test
    void medianOfOddEvenAndNoRounds() {
        assertEquals(2, ThroughputReport.median(new double[] {1, 2, 9}));
        assertEquals(2.5, ThroughputReport.median(new double[] {1, 2, 3, 9}));
        assertTrue(Double.isNaN(ThroughputReport.median(new double[0])));
    }

    @Test
    void ratiosAreMediansOverTheReferenceOfTheSameStreamCount() {
        ThroughputReport report = report();
        ThroughputReport.Cell go = report.cell(ThroughputReport.REFERENCE, 100, 1 << 20);
        go.runs.add(run(1_000_000_000L, 1.0, 0.5, 0.5, served(100)));
        go.runs.add(run(1_000_000_000L, 2.0, 0.7, 0.5, served(100)));
        go.runs.add(run(1_000_000_000L, 4.0, 0.6, 0.5, served(100)));
        ThroughputReport.Cell java = report.cell("Go v1.5.58 -> Java 17 socket (serve)", 100, 1 << 20);
        java.runs.add(run(1_000_000_000L, 1.0, 1.2, 0.5, served(100)));
        java.runs.add(run(1_000_000_000L, 1.0, 0.9, 0.5, served(100)));
        java.runs.add(run(1_000_000_000L, 1.0, 1.5, 0.5, served(100)));
        assertEquals(1000.0 / 500, ThroughputReport.ratio(java, go, Figure.MB_PER_S), 1e-9);
        assertEquals(1.2 / 0.6, ThroughputReport.ratio(java, go, Figure.RECEIVER_CPU_PER_GB), 1e-9);
    }

    @Test
    void refusalsAreSaidAsSuchWhateverSideSawThem() {
        // the client saw the server end them while it wrote; serve logged its own count too
        assertEquals("refused 872 of 1000", new Streams(1000, 872, 872, 0, 872, 0, "").problems());
        // serve refused streams too short for the client to notice (it still says so)
        assertEquals("refused 744 of 1000", new Streams(1000, 0, 0, 0, 744, 0, "").problems());
        assertEquals("open failed 744 of 1000", new Streams(1000, 744, 0, 744, 0, 0, "").problems());
        assertEquals("refused 10 of 1000, open failed 5 of 1000, 2 of 1000 failed, 1 of 1000 short at the server",
                new Streams(1000, 17, 10, 5, 0, 1, "").problems());
        assertEquals("", served(1000).problems());
        assertTrue(served(1000).allServed());
        assertFalse(new Streams(1000, 0, 0, 0, 1, 0, "").allServed());
    }

    @Test
    void aCellWithRefusalsShowsThemAndHasNoRatio() throws Exception {
        ThroughputReport report = report();
        report.cell(ThroughputReport.REFERENCE, 1000, 4 << 20).runs.add(run(4_194_304_000L, 2.0, 1.0, 1.0, served(1000)));
        ThroughputReport.Cell java = report.cell("Go v1.5.58 -> Java 17 socket (serve)", 1000, 4 << 20);
        java.runs.add(run(536_870_912L, 0.5, 0.3, 0.3, new Streams(1000, 872, 872, 0, 872, 0, "write: the peer ended the stream")));
        ThroughputReport.Cell failedRound = report.cell("Java 17 socket -> Go v1.5.58", 1000, 4 << 20);
        failedRound.errors.add("AssertionError: Java 17 client: no ready within 122000 ms");

        String md = report.markdown();
        assertTrue(md.contains("## 1,000 streams (4 MiB each)"), md);
        assertTrue(md.contains("| " + ThroughputReport.REFERENCE + " | all 1000 | 2097 | 1.00 | 0.24 | 1.00 |"), md);
        assertTrue(md.contains("| Go v1.5.58 -> Java 17 socket (serve) | **refused 872 of 1000** | 1074 | - | 0.56 | - |"), md);
        assertTrue(md.contains("| Java 17 socket -> Go v1.5.58 | **1 of 1 rounds failed: AssertionError: Java 17 client: no ready"), md);

        Map<String, Object> json = JSON.std.mapFrom(report.json());
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> cells = (List<Map<String, Object>>) json.get("cells");
        Map<String, Object> refused = cells.get(1);
        assertEquals("Go v1.5.58 -> Java 17 socket (serve)", refused.get("cell"));
        assertEquals(Boolean.FALSE, refused.get("allServed"));
        assertEquals("refused 872 of 1000", refused.get("problems"));
        @SuppressWarnings("unchecked")
        Map<String, Object> ratios = (Map<String, Object>) refused.get("ratioToReference");
        assertNull(ratios.get("mbPerS"));
        @SuppressWarnings("unchecked")
        Map<String, Object> reference = (Map<String, Object>) cells.get(0).get("ratioToReference");
        assertEquals(1.0, ((Number) reference.get("receiverCpuPerGb")).doubleValue(), 1e-9);
    }

    @Test
    void everyJavaEndGetsTheThreeKindsOfCellAfterTheGoReferences() {
        Jdk j17 = new Jdk(17, java.nio.file.Path.of("/j17/bin/java"), "17.0.15");
        List<ThroughputCell> cells = InteropThroughputBench.cells(List.of(j17), List.of("socket", "nio"));
        assertEquals(List.of(ThroughputReport.REFERENCE, "Go v1.5.16 -> Go v1.5.16",
                "Go v1.5.58 -> Java 17 socket (serve)", "Go v1.5.58 -> Java 17 nio (serve)",
                "Java 17 socket -> Go v1.5.58", "Java 17 nio -> Go v1.5.58",
                "Java 17 socket -> Java 17 socket (serve)", "Java 17 nio -> Java 17 nio (serve)"),
                cells.stream().map(ThroughputCell::name).collect(java.util.stream.Collectors.toList()));
        assertEquals(Release.V1_5_58, ((ThroughputCell.GoEnd) cells.get(0).client()).release());
    }

    @Test
    void bytesPerStreamShareTheVolumeButNeverFallBelowTheMinimum() {
        assertEquals(4096L << 20, InteropThroughputBench.perStream(4096, 1 << 20, 1));
        assertEquals(40L << 20, InteropThroughputBench.perStream(4096, 1 << 20, 100));
        assertEquals(4L << 20, InteropThroughputBench.perStream(4096, 1 << 20, 1000));
        assertEquals(1L << 20, InteropThroughputBench.perStream(4096, 1 << 20, 10_000));
    }

    @Test
    void jdkFeatureReleases() {
        assertEquals(17, Jdk.featureOf("17.0.15"));
        assertEquals(25, Jdk.featureOf("25"));
        assertEquals(25, Jdk.featureOf("25-ea"));
        assertEquals(8, Jdk.featureOf("1.8.0_402"));
        assertEquals(-1, Jdk.featureOf("cannot run: no such file"));
    }

    private static ThroughputReport report() {
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("rounds", 3);
        return new ThroughputReport(settings, List.of(ThroughputReport.REFERENCE, "Go v1.5.58 -> Java 17 socket (serve)",
                "Java 17 socket -> Go v1.5.58"), List.of(100, 1000));
    }

    private static Streams served(int n) {
        return new Streams(n, 0, 0, 0, 0, 0, "");
    }

    /** A run with 10 switches per MB at the receiver and 5 at the sender. */
    private static CellRun run(long bytes, double seconds, double receiverCpu, double senderCpu, Streams streams) {
        return new CellRun(bytes, seconds, new Usage(senderCpu, bytes / 200_000, 0), new Usage(receiverCpu, bytes / 100_000, 0), streams);
    }
}
