package smux.it.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import smux.api.Session;
import smux.api.Smux;
import smux.api.MemoryBudget;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;
import smux.it.interop.GoPeer.Release;

/**
 * Throughput against Go xtaci/smux, in one run on one machine: Go to Go, Java client to Go server, Go client
 * to Java server, and Java to Java, with 1 and 100 streams, protocol v2, 512 KiB stream windows, discard
 * mode (the server only counts; no hashing on either side), 64 KiB writes. Every cell is a client writing
 * for a fixed time; its figure is payload bytes / (first open .. last stream closed), in MB/s (10^6 bytes/s),
 * which is what the Go peer's {@code done} event reports. Each cell runs several rounds (interleaved, so
 * drift hits all cells alike) and the median is reported.
 *
 * <p>Not part of the normal build: the class name does not match Surefire's test patterns, and a
 * {@code -Dtest} pattern that happens to match it still needs {@code -Dsmux.interop.bench=true}. Run it with
 * <pre>
 * mvn -B -ntp -pl smux-it -am verify -Dtest=InteropThroughputBench -Dsmux.interop.bench=true \
 *     [-Dsmux.interop.bench.seconds=5] [-Dsmux.interop.bench.rounds=3] \
 *     [-Dsmux.interop.bench.streams=1,100] [-Dsmux.interop.bench.only="Java nio"]
 * </pre>
 * ({@code only} keeps the cells whose name contains it, plus the Go v1.5.58 reference.)
 * The table is printed and written to {@code smux-it/target/interop/throughput.md}.
 */
@Tag("bench")
class InteropThroughputBench {
    static final int WINDOW = 512 * 1024;
    static final int WRITE_SIZE = 64 * 1024;
    static final int SECONDS = Integer.getInteger("smux.interop.bench.seconds", 5);
    static final int ROUNDS = Integer.getInteger("smux.interop.bench.rounds", 3);
    static final int[] STREAMS = java.util.stream.Stream.of(System.getProperty("smux.interop.bench.streams", "1,100")
            .split(",")).mapToInt(x -> Integer.parseInt(x.trim())).toArray();
    /** Only the cells whose name contains this (e.g. "Java nio"), for profiling one pairing. */
    static final String ONLY = System.getProperty("smux.interop.bench.only", "");

    /** One pairing of client and server. */
    interface Cell {
        double run(int streams, Duration duration) throws Exception;
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.MINUTES)
    @EnabledIfSystemProperty(named = "smux.interop.bench", matches = "true")
    void throughputTable() throws Exception {
        Map<String, Cell> cells = new LinkedHashMap<>();
        cells.put("Go v1.5.58 <-> Go v1.5.58", (n, d) -> goToGo(Release.V1_5_58, n, d));
        cells.put("Go v1.5.16 <-> Go v1.5.16", (n, d) -> goToGo(Release.V1_5_16, n, d));
        for (String t : Combo.TRANSPORTS) {
            cells.put("Java " + t + " client -> Go v1.5.58 server", (n, d) -> javaToGo(t, n, d));
            cells.put("Go v1.5.58 client -> Java " + t + " server", (n, d) -> goToJava(t, n, d));
            cells.put("Java " + t + " <-> Java " + t, (n, d) -> javaToJava(t, n, d));
        }
        cells.keySet().removeIf(name -> !name.contains(ONLY) && !name.equals("Go v1.5.58 <-> Go v1.5.58"));
        Duration duration = Duration.ofSeconds(SECONDS);

        // warm the JIT up on the Java paths before anything is measured
        for (String t : Combo.TRANSPORTS) {
            javaToJava(t, 100, Duration.ofSeconds(2));
            javaToGo(t, 1, Duration.ofSeconds(1));
            goToJava(t, 1, Duration.ofSeconds(1));
        }

        Map<String, double[]> results = new LinkedHashMap<>();
        for (int round = 0; round < ROUNDS; round++) {
            for (int n : STREAMS) {
                for (Map.Entry<String, Cell> cell : cells.entrySet()) {
                    double mbps = cell.getValue().run(n, duration);
                    String key = cell.getKey() + "|" + n;
                    results.computeIfAbsent(key, k -> new double[ROUNDS])[round] = mbps;
                    System.out.printf(Locale.ROOT, "round %d  %-40s %3d stream(s)  %8.1f MB/s%n", round + 1,
                            cell.getKey(), n, mbps);
                }
            }
        }
        String table = table(cells.keySet(), results);
        System.out.println(table);
        Path out = GoPeer.workDirectory().getParent().resolve("interop").resolve("throughput.md");
        Files.createDirectories(out.getParent());
        Files.writeString(out, table, StandardCharsets.UTF_8);
    }

    /** The table's header: one column per stream count asked for. */
    private static String header() {
        StringBuilder h = new StringBuilder("| pair |");
        StringBuilder rule = new StringBuilder("|---|");
        for (int n : STREAMS) {
            h.append(' ').append(n == 1 ? "1 stream" : String.format(Locale.ROOT, "%,d streams", n)).append(" |");
            rule.append("---|");
        }
        return h.append('\n').append(rule).append('\n').toString();
    }

    private static String table(Iterable<String> names, Map<String, double[]> results) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%n%d s per cell, median of %d rounds (min-max), MB/s = 10^6 bytes/s; "
                + "v2, 512 KiB windows, discard, 64 KiB writes, %d cores%n%n", SECONDS, ROUNDS,
                Runtime.getRuntime().availableProcessors()));
        sb.append(header());
        for (String name : names) {
            sb.append("| ").append(name);
            for (int n : STREAMS) {
                double[] r = results.get(name + "|" + n).clone();
                Arrays.sort(r);
                sb.append(String.format(Locale.ROOT, " | %.0f (%.0f-%.0f)", median(r), r[0], r[r.length - 1]));
            }
            sb.append(" |\n");
        }
        sb.append("\nratios of medians (against Go v1.5.58 <-> Go v1.5.58):\n\n").append(header());
        for (String name : names) {
            sb.append("| ").append(name);
            for (int n : STREAMS) {
                double base = median(sorted(results.get("Go v1.5.58 <-> Go v1.5.58|" + n)));
                sb.append(String.format(Locale.ROOT, " | %.2f", median(sorted(results.get(name + "|" + n))) / base));
            }
            sb.append(" |\n");
        }
        return sb.toString();
    }

    private static double[] sorted(double[] a) {
        double[] c = a.clone();
        Arrays.sort(c);
        return c;
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    // ------------------------------------------------------------------ the cells

    static String[] goFlags(String... more) {
        List<String> a = new ArrayList<>(List.of("-version", "2", "-mode", "discard", "-stream-buffer",
                Integer.toString(WINDOW), "-no-hash"));
        a.addAll(Arrays.asList(more));
        return a.toArray(new String[0]);
    }

    /** Room for 1,000 streams a side at the full window, as Go gives them (its windows are not budgeted). */
    private static final MemoryBudget BUDGET = MemoryBudget.of(4L * 1024 * WINDOW);

    static SmuxConfig javaConfig(String transport) {
        return SmuxConfig.builder().version(2).streamWindow(WINDOW).transport(transport)
                .maxStreams(1024).maxSessionBuffer(1024L * WINDOW).memoryBudget(BUDGET).build();
    }

    static double goToGo(Release release, int streams, Duration d) throws Exception {
        try (GoPeer server = GoPeer.server(release, goFlags("-sessions", "1"));
             GoPeer client = GoPeer.client(release, server.address(),
                     goFlags("-streams", Integer.toString(streams), "-duration", d.toMillis() + "ms"))) {
            double mbps = client.awaitSuccess(d.plusSeconds(60)).real("mbytesPerSec");
            server.awaitStreams(1, streams, Duration.ofSeconds(30));
            return mbps;
        }
    }

    static double goToJava(String transport, int streams, Duration d) throws Exception {
        try (JavaServer js = JavaServer.startNoHash(javaConfig(transport), JavaModes.discardServer(JavaModes.Gate.NONE));
             GoPeer client = GoPeer.client(Release.V1_5_58, js.address(),
                     goFlags("-streams", Integer.toString(streams), "-duration", d.toMillis() + "ms"))) {
            double mbps = client.awaitSuccess(d.plusSeconds(60)).real("mbytesPerSec");
            List<JavaModes.Result> r = js.awaitResults(streams, Duration.ofSeconds(30));
            assertTrue(r.stream().allMatch(JavaModes.Result::ok), () -> "Java server: " + r);
            return mbps;
        }
    }

    static double javaToGo(String transport, int streams, Duration d) throws Exception {
        try (GoPeer server = GoPeer.server(Release.V1_5_58, goFlags("-sessions", "1"))) {
            return javaClient(server.address(), transport, streams, d, () -> {
                List<GoPeer.StreamReport> r = server.awaitStreams(1, streams, Duration.ofSeconds(30));
                assertTrue(r.stream().allMatch(s -> s.err().isEmpty()), () -> "Go server: " + r + server.diagnostics());
            });
        }
    }

    static double javaToJava(String transport, int streams, Duration d) throws Exception {
        try (JavaServer js = JavaServer.startNoHash(javaConfig(transport), JavaModes.discardServer(JavaModes.Gate.NONE))) {
            return javaClient(js.address(), transport, streams, d, () -> {
                List<JavaModes.Result> r = js.awaitResults(streams, Duration.ofSeconds(30));
                assertTrue(r.stream().allMatch(JavaModes.Result::ok), () -> "Java server: " + r);
            });
        }
    }

    /**
     * {@code streams} threads each open a stream and write 64 KiB chunks until {@code d} has passed, then
     * close it; returns MB/s from the first open to the last close, as the Go client computes it. The session
     * is closed only after {@code serverDone} (the server has read every stream to its end).
     */
    static double javaClient(InetSocketAddress target, String transport, int streams, Duration d, Runnable serverDone)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(streams);
        try (Session session = Smux.connect(target, javaConfig(transport))) {
            byte[] chunk = new byte[WRITE_SIZE];
            Content.pattern().fill(0, chunk, 0, chunk.length);
            AtomicLong bytes = new AtomicLong();
            long start = System.nanoTime();
            long stopAt = start + d.toNanos();
            List<Future<?>> workers = new ArrayList<>();
            for (int i = 0; i < streams; i++) {
                workers.add(pool.submit(() -> {
                    long mine = 0;
                    try (SmuxStream s = session.openStream()) {
                        OutputStream out = s.outputStream();
                        while (System.nanoTime() - stopAt < 0) {
                            out.write(chunk);
                            mine += chunk.length;
                        }
                    }
                    bytes.addAndGet(mine);
                    return null;
                }));
            }
            for (Future<?> f : workers) {
                f.get(d.toSeconds() + 60, TimeUnit.SECONDS);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            serverDone.run();
            assertEquals(java.util.Optional.empty(), session.closeCause());
            return bytes.get() / seconds / 1e6;
        } finally {
            pool.shutdownNow();
        }
    }
}
