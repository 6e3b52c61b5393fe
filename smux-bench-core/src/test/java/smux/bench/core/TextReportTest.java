package smux.bench.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The readable report: rows as they come, the targets block, and what it says about a NOT MET. */
class TextReportTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final TextReport report = new TextReport(new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void rowsTargetsAndAQuietMachine() {
        Plan plan = Runs.plan("socket");
        Results r = Runs.results(plan, List.of(Runs.raw(1, 1000), Runs.row(1, "socket", 800, 0.8)), List.of(), List.of(), null,
                List.of(new OtherLoad.During("1 stream", 0.05)), List.of());
        report.started(plan, r.schedule(), r.machine());
        report.throughputStarted();
        report.compared(r.throughput(), 0.05);
        report.finished(r);
        String text = out();
        assertTrue(text.contains("  1 stream >= 85% of raw TCP         socket      0.80     NOT MET\n"), text);
        assertTrue(text.contains("        1  socket              800.0       1600.0  0.80 (0.72-0.88)       0.80\n"), text);
        assertTrue(text.contains("other processes used 0.05 of 2 CPUs meanwhile"), text);
        assertTrue(text.contains("a NOT MET here is smux's, not the machine's"), text);
        assertFalse(text.contains("round trip p50"), "no round trips ran: no lines for them");
    }

    @Test
    void aRefusedBaselineIsShownAndABusyMachineNamed() {
        Plan plan = Runs.plan("socket");
        ThroughputRow refused = new ThroughputRow(1000, "raw", Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                "the file descriptor limit (1024) is too low");
        Results r = Runs.results(plan, List.of(Runs.raw(1, 1000), Runs.row(1, "socket", 500, 0.5), refused),
                List.of(), List.of(Runs.idle("socket", 700)), Runs.nio(1000, 1000, 1),
                List.of(new OtherLoad.During("1 stream", 1.5), new OtherLoad.During("1000 streams", Double.NaN)), List.of());
        report.started(plan, r.schedule(), r.machine());
        report.compared(List.of(refused), Double.NaN);
        report.finished(r);
        String text = out();
        assertTrue(text.contains("     1000  raw TCP                 -            -                           FAILED: the file descriptor limit"), text);
        assertTrue(text.contains("  idle stream <= 2 KiB of heap       socket       700 B   met\n"), text);
        assertTrue(text.contains("  one NIO loop holds 1,000 sessions  nio       1,000/1,000  met\n"), text);
        assertTrue(text.contains("other processes used up to 1.50 of 2 CPUs during a measured case (1 stream)"), text);
    }

    @Test
    void aLeakedThreadGoesToTheErrorStream() {
        report.leaked("1 streams: 2 threads outlived the case, e.g. bench-raw1-read-0");
        assertEquals("smux bench: 1 streams: 2 threads outlived the case, e.g. bench-raw1-read-0\n", err.toString(StandardCharsets.UTF_8));
        assertEquals("", out());
    }
}
