package smux.it.interop;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import smux.api.SmuxConfig;
import smux.it.interop.CellRun.Figure;
import smux.it.interop.GoPeer.Release;
import smux.it.interop.ThroughputCell.End;
import smux.it.interop.ThroughputCell.GoEnd;
import smux.it.interop.ThroughputCell.JavaEnd;

/**
 * What one byte costs each side, Go xtaci/smux against smux for Java, in one run on one machine: for every
 * cell (Go to Go with v1.5.58 and v1.5.16, Go client to the real {@code smux serve --mode discard}, Java client
 * to a Go server, Java to Java, each Java end on socket and nio and on every JDK asked for) and stream count
 * (1, 100, 1,000, 10,000), throughput and, for the sender and the receiver process each, CPU seconds per GB
 * and context switches per MB, read from {@code /proc} ({@link ProcSample}); ratios to Go v1.5.58 to Go
 * v1.5.58 at the same stream count; every refused or failed stream said as such. How one run is measured:
 * {@link ThroughputCell}. What each column means and how to run it: docs/INTEROP.md, "Interop throughput".
 *
 * <p>Every side runs in a process of its own, with default options (protocol v2); each stream carries the
 * same number of bytes, {@code max(mib / streams, minStreamKib)}: the same work in every cell and round, so
 * CPU per GB compares like with like, and a stream that carries less failed, visibly. Rounds are
 * interleaved (every cell once per round, stream count by stream count) and the table shows medians.
 *
 * <p>Not part of the normal build: the class name matches no Surefire pattern, and a {@code -Dtest} pattern
 * that happens to match it still needs {@code -Dsmux.interop.bench=true}. Run it with
 * <pre>
 * mvn -B -ntp -pl smux-it -am verify -DskipITs -Dtest=InteropThroughputBench -Dsmux.interop.bench=true \
 *     [-Dsmux.interop.bench.rounds=3] [-Dsmux.interop.bench.streams=1,100,1000,10000] \
 *     [-Dsmux.interop.bench.jdks=17,25] [-Dsmux.interop.bench.transports=socket,nio] \
 *     [-Dsmux.interop.bench.mib=4096] [-Dsmux.interop.bench.minStreamKib=1024] [-Dsmux.interop.bench.warmup=2] \
 *     [-Dsmux.interop.bench.only="Java 17 socket"] [-Dsmux.interop.bench.java25=/path/to/jdk] \
 *     [-Dsmux.interop.bench.goArgs="-stream-buffer 524288"] [-Dsmux.interop.bench.serveArgs="--max-streams 4096"] \
 *     [-Dsmux.interop.bench.clientArgs="--max-streams 10000"]
 * </pre>
 * The tables are printed and written to {@code smux-it/target/interop/throughput.md}, every figure of every
 * round to {@code throughput.json} beside it.
 */
@Tag("bench")
class InteropThroughputBench {
    private static final String P = "smux.interop.bench.";

    @Test
    @Timeout(value = 8, unit = TimeUnit.HOURS)
    @EnabledIfSystemProperty(named = "smux.interop.bench", matches = "true")
    void throughputTable() throws IOException {
        int rounds = Integer.getInteger(P + "rounds", 3);
        List<Integer> streamCounts = ints(System.getProperty(P + "streams", "1,100,1000,10000"));
        long volumeMib = Long.getLong(P + "mib", 4096);
        long minPerStream = Long.getLong(P + "minStreamKib", 1024) * 1024;
        if (minPerStream <= SmuxConfig.INITIAL_PEER_WINDOW) {
            throw new IllegalArgumentException("-D" + P + "minStreamKib must be above 256: a stream no longer than the window a peer "
                    + "may fill before its first update (262144 bytes) can be refused without its writer ever noticing");
        }
        Duration warmup = Duration.ofSeconds(Integer.getInteger(P + "warmup", 2));
        List<Jdk> jdks = ints(System.getProperty(P + "jdks", "17,25")).stream().map(Jdk::find).collect(Collectors.toList());
        List<String> transports = words(System.getProperty(P + "transports", "socket,nio").replace(',', ' '));
        String only = System.getProperty(P + "only", "");
        Path cliTarget = Path.of(System.getProperty("smux.it.cliTarget", "../smux-cli/target")).toAbsolutePath().normalize();
        ThroughputCell.cliClassPath(cliTarget); // fails now, not after an hour, if serve is not built
        ThroughputCell.Setup setup = new ThroughputCell.Setup(warmup, words(System.getProperty(P + "goArgs", "")),
                words(System.getProperty(P + "serveArgs", "")), words(System.getProperty(P + "clientArgs", "")), cliTarget,
                System.getProperty("java.class.path"));

        List<ThroughputCell> cells = cells(jdks, transports);
        cells.removeIf(c -> !c.name().contains(only) && !c.name().equals(ThroughputReport.REFERENCE));
        Map<String, Object> settings = settings(rounds, streamCounts, volumeMib, minPerStream, jdks, setup);
        ThroughputReport report = new ThroughputReport(settings, cells.stream().map(ThroughputCell::name).collect(Collectors.toList()),
                streamCounts);

        int failures = 0;
        for (int round = 1; round <= rounds; round++) {
            for (int n : streamCounts) {
                long perStream = perStream(volumeMib, minPerStream, n);
                // at least 20 MB/s, and never less than 3 minutes, before a transfer is abandoned
                Duration deadline = Duration.ofSeconds(Math.max(180, n * perStream / 20_000_000));
                for (ThroughputCell cell : cells) {
                    ThroughputReport.Cell results = report.cell(cell.name(), n, perStream);
                    String head = String.format(Locale.ROOT, "round %d/%d  %,6d stream(s)  %-46s", round, rounds, n, cell.name());
                    try {
                        CellRun r = cell.run(setup, n, perStream, deadline);
                        results.runs.add(r);
                        System.out.println(head + describe(r));
                    } catch (IOException | RuntimeException | AssertionError e) {
                        failures++;
                        results.errors.add(e.toString().lines().findFirst().orElse(""));
                        System.out.println(head + "  FAILED: " + e);
                    }
                }
            }
        }
        String markdown = report.markdown();
        System.out.println();
        System.out.println(markdown);
        Path dir = GoPeer.workDirectory().getParent().resolve("interop");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("throughput.md"), markdown, StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("throughput.json"), report.json(), StandardCharsets.UTF_8);
        System.out.println("written: " + dir.resolve("throughput.md") + " and throughput.json");
        assertTrue(failures == 0, failures + " run(s) did not complete (the tables say which); refusals are results, these are not");
    }

    /** Bytes per stream: an equal share of the volume, in whole MiB, but at least {@code min}. */
    static long perStream(long volumeMib, long min, int streams) {
        return Math.max((volumeMib / streams) << 20, min);
    }

    /**
     * The cells in table order: the two Go references, then Go client to Java server, Java client to Go
     * server and Java to Java, each for every JDK and transport.
     */
    static List<ThroughputCell> cells(List<Jdk> jdks, List<String> transports) {
        GoEnd go58 = new GoEnd(Release.V1_5_58);
        GoEnd go16 = new GoEnd(Release.V1_5_16);
        List<ThroughputCell> cells = new ArrayList<>(List.of(new ThroughputCell(go58, go58), new ThroughputCell(go16, go16)));
        List<End> javas = new ArrayList<>();
        for (Jdk jdk : jdks) {
            for (String t : transports) {
                javas.add(new JavaEnd(jdk, t));
            }
        }
        javas.forEach(j -> cells.add(new ThroughputCell(go58, j)));
        javas.forEach(j -> cells.add(new ThroughputCell(j, go58)));
        javas.forEach(j -> cells.add(new ThroughputCell(j, j)));
        return cells;
    }

    private static String describe(CellRun r) {
        String problems = r.streams().problems();
        return String.format(Locale.ROOT, "%7.0f MB/s  receiver %.2f CPU-s/GB %5.1f cs/MB  sender %.2f CPU-s/GB %5.1f cs/MB%s",
                Figure.MB_PER_S.of(r), Figure.RECEIVER_CPU_PER_GB.of(r), Figure.RECEIVER_SWITCHES_PER_MB.of(r),
                Figure.SENDER_CPU_PER_GB.of(r), Figure.SENDER_SWITCHES_PER_MB.of(r),
                problems.isEmpty() ? "" : "  [" + problems + (r.streams().firstError().isEmpty() ? "" : "; first: " + r.streams().firstError()) + "]");
    }

    private static Map<String, Object> settings(int rounds, List<Integer> streamCounts, long volumeMib, long minPerStream, List<Jdk> jdks,
                                                ThroughputCell.Setup setup) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("date", ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
        s.put("machine", Runtime.getRuntime().availableProcessors() + " cores, Linux " + osRelease() + ", "
                + ProcSample.clockTicksPerSecond() + " clock ticks/s");
        s.put("rounds", rounds + " (interleaved; medians shown)");
        s.put("bytes per stream", streamCounts.stream().map(n -> n + ": " + ThroughputReport.mib(perStream(volumeMib, minPerStream, n)))
                .collect(Collectors.joining(", ")) + " (max(" + volumeMib + " MiB / streams, " + ThroughputReport.mib(minPerStream) + "))");
        s.put("protocol", "v2, default options on every side; 64 KiB writes; discard servers, no hashing");
        s.put("Go", "xtaci/smux v1.5.58 (and v1.5.16 as a second reference); client -hold -watch-fin (-half-close on v1.5.58)"
                + (setup.goArgs().isEmpty() ? "" : "; extra flags " + String.join(" ", setup.goArgs())));
        s.put("Java", jdks.stream().map(j -> j.label() + " = " + j.version() + " (" + j.java() + ")").collect(Collectors.joining(", ")));
        s.put("Java server", "smux serve --mode discard --transport T" + (setup.serveArgs().isEmpty() ? "" : " " + String.join(" ", setup.serveArgs())));
        s.put("Java client", "ThroughputClient: library defaults, virtual threads on Java 21+, platform threads on 17"
                + (setup.clientArgs().isEmpty() ? "" : "; " + String.join(" ", setup.clientArgs())));
        s.put("warm-up", setup.warmup().toSeconds() + " s of writing into each Java process before it is sampled");
        return s;
    }

    private static String osRelease() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/osrelease"), StandardCharsets.US_ASCII).trim();
        } catch (IOException e) {
            return "?";
        }
    }

    private static List<Integer> ints(String csv) {
        return Arrays.stream(csv.split(",")).map(String::trim).filter(x -> !x.isEmpty()).map(Integer::valueOf).collect(Collectors.toList());
    }

    private static List<String> words(String s) {
        return Arrays.stream(s.trim().split("\\s+")).filter(x -> !x.isEmpty()).collect(Collectors.toList());
    }
}
