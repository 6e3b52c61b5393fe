package smux.it.faults;

import static org.junit.jupiter.api.Assertions.assertTrue;

import eu.rekawek.toxiproxy.model.ToxicDirection;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
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
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;
import smux.api.MemoryBudget;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;
import smux.it.toxi.ProxyHandle;
import smux.it.toxi.ToxiproxyBackend;
import smux.it.toxi.ToxiproxyExtension;

/**
 * Throughput over a long round trip (issue 10): every cell runs through a real Toxiproxy with
 * 25 ms of latency each way, on loopback, in one run. Raw TCP through the same proxy is the
 * reference; smux is measured with tuned windows (the default), and with a fixed 512 KiB window
 * (what Go xtaci/smux gets), for one stream and for 100 streams under one 64 MiB budget. Each cell
 * writes 128 KiB buffers flat out for a few seconds after a warm-up; the figure is bytes read per
 * second. Cells are interleaved over rounds; medians are reported, with the 100-stream cell's
 * peak of buffered bytes and of the budget in use.
 *
 * <p>Not part of the normal build. Run it with
 * <pre>
 * mvn -B -ntp -pl smux-it -am verify -Dtest=WanBench -Dsmux.wan.bench=true [-Dsmux.wan.bench.seconds=8] \
 *     [-Dsmux.wan.bench.rounds=3] [-Dsmux.wan.bench.transport=socket]
 * </pre>
 * The table is printed and written to {@code smux-it/target/wan/throughput.md}.
 */
@Tag("bench")
@ExtendWith(ToxiproxyExtension.class)
class WanBench {
    static final long ONE_WAY_MILLIS = 25;
    static final int SECONDS = Integer.getInteger("smux.wan.bench.seconds", 8);
    static final int WARMUP_SECONDS = 3;
    static final int ROUNDS = Integer.getInteger("smux.wan.bench.rounds", 3);
    static final String TRANSPORT = System.getProperty("smux.wan.bench.transport", "socket");
    static final int WRITE = 128 * 1024;
    static final long BUDGET = 64L << 20;

    private record Figure(double bytesPerSecond, long peakBuffered, long peakBudget) { }

    private interface Cell {
        Figure run() throws Exception;
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.MINUTES)
    @EnabledIfSystemProperty(named = "smux.wan.bench", matches = "true")
    void throughputOverALongRoundTrip(ToxiproxyBackend toxiproxy) throws Exception {
        Map<String, Cell> cells = new LinkedHashMap<>();
        cells.put("raw TCP, 1 connection", () -> raw(toxiproxy, 1));
        cells.put("smux, 1 stream, tuned windows", () -> smux(toxiproxy, 1, SmuxConfig::builder));
        cells.put("smux, 1 stream, fixed 512 KiB", () -> smux(toxiproxy, 1, () -> SmuxConfig.builder().streamWindow(512 * 1024)));
        cells.put("raw TCP, 100 connections", () -> raw(toxiproxy, 100));
        cells.put("smux, 100 streams, tuned, 64 MiB budget", () -> smux(toxiproxy, 100, () -> SmuxConfig.builder()
                .maxSessionBuffer(BUDGET).memoryBudget(MemoryBudget.of(BUDGET))));
        Map<String, List<Figure>> results = new LinkedHashMap<>();
        cells.keySet().forEach(k -> results.put(k, new ArrayList<>()));
        for (int round = 0; round < ROUNDS; round++) {
            for (Map.Entry<String, Cell> c : cells.entrySet()) {
                Figure f = c.getValue().run();
                results.get(c.getKey()).add(f);
                System.out.printf(Locale.ROOT, "[wan] round %d %-45s %8.1f MB/s%n", round + 1, c.getKey(), f.bytesPerSecond / 1e6);
            }
        }
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT,
                "WAN bench: %s transport, %d ms each way through Toxiproxy, %d s per cell, median of %d rounds%n%n"
                        + "| cell | MB/s | ratio | note |%n|---|---|---|---|%n", TRANSPORT, ONE_WAY_MILLIS, SECONDS, ROUNDS));
        double raw1 = median(results.get("raw TCP, 1 connection"));
        double raw100 = median(results.get("raw TCP, 100 connections"));
        double fixed1 = median(results.get("smux, 1 stream, fixed 512 KiB"));
        for (Map.Entry<String, List<Figure>> e : results.entrySet()) {
            double m = median(e.getValue());
            String ratio;
            String note = "";
            if (e.getKey().startsWith("raw")) {
                ratio = "1.00";
            } else if (e.getKey().contains("100 streams")) {
                ratio = String.format(Locale.ROOT, "%.2f of raw x100", m / raw100);
                long peakBuffered = e.getValue().stream().mapToLong(Figure::peakBuffered).max().orElse(0);
                long peakBudget = e.getValue().stream().mapToLong(Figure::peakBudget).max().orElse(0);
                note = String.format(Locale.ROOT, "peak buffered %.1f MiB, budget in use at most %.1f of 64 MiB",
                        peakBuffered / 1048576.0, peakBudget / 1048576.0);
                assertTrue(peakBuffered <= BUDGET && peakBudget <= BUDGET, note);
            } else if (e.getKey().contains("tuned")) {
                ratio = String.format(Locale.ROOT, "%.2f of raw", m / raw1);
                note = String.format(Locale.ROOT, "%.1fx the fixed 512 KiB window", m / fixed1);
            } else {
                ratio = String.format(Locale.ROOT, "%.2f of raw", m / raw1);
            }
            table.append(String.format(Locale.ROOT, "| %s | %.1f | %s | %s |%n", e.getKey(), m / 1e6, ratio, note));
        }
        System.out.println(table);
        Path out = Path.of("target", "wan", "throughput.md");
        Files.createDirectories(out.getParent());
        Files.writeString(out, table);
    }

    private static double median(List<Figure> figures) {
        double[] v = figures.stream().mapToDouble(Figure::bytesPerSecond).sorted().toArray();
        return v[v.length / 2];
    }

    private static void latency(ProxyHandle proxy) throws IOException {
        proxy.toxics().latency("delay-up", ToxicDirection.UPSTREAM, ONE_WAY_MILLIS);
        proxy.toxics().latency("delay-down", ToxicDirection.DOWNSTREAM, ONE_WAY_MILLIS);
    }

    /** {@code n} TCP connections through the proxy to a loopback reader. */
    private static Figure raw(ToxiproxyBackend toxiproxy, int n) throws Exception {
        ExecutorService pool = Faults.pool("wan-raw", 0);
        try (ServerSocket listener = new ServerSocket(0, n + 8, InetAddress.getLoopbackAddress())) {
            ProxyHandle proxy = toxiproxy.createProxy("wan-raw-" + n, "127.0.0.1", listener.getLocalPort());
            try {
                latency(proxy);
                AtomicLong read = new AtomicLong();
                AtomicBoolean stop = new AtomicBoolean();
                List<Socket> sockets = new ArrayList<>();
                List<Future<?>> tasks = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    Socket out = new Socket();
                    out.connect(proxy.address());
                    Socket in = listener.accept();
                    sockets.add(out);
                    sockets.add(in);
                    tasks.add(pool.submit(() -> pump(out.getOutputStream(), stop)));
                    tasks.add(pool.submit(() -> drain(in.getInputStream(), read)));
                }
                double rate = measure(read, () -> { });
                stop.set(true);
                for (Socket s : sockets) {
                    s.close();
                }
                return new Figure(rate, 0, 0);
            } finally {
                proxy.proxy().delete();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** {@code n} streams of one session through the proxy; each side gets the settings (and budget) of its own. */
    private static Figure smux(ToxiproxyBackend toxiproxy, int n, java.util.function.Supplier<SmuxConfig.Builder> config)
            throws Exception {
        ExecutorService pool = Faults.pool("wan-smux", 0);
        SmuxConfig client = config.get().transport(TRANSPORT).version(2).build();
        SmuxConfig server = config.get().transport(TRANSPORT).version(2).build();
        try (ProxiedPair pair = ProxiedPair.create(toxiproxy, "wan-smux-" + n).connect(client, server)) {
            latency(pair.proxy);
            AtomicLong read = new AtomicLong();
            AtomicBoolean stop = new AtomicBoolean();
            List<SmuxStream> streams = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                SmuxStream out = pair.client.openStream();
                streams.add(out);
                pool.submit(() -> pump(out.outputStream(), stop));
            }
            for (int i = 0; i < n; i++) {
                SmuxStream in = pair.server.acceptStream(Duration.ofSeconds(10));
                pool.submit(() -> drain(in.inputStream(), read));
            }
            long[] peakBuffered = new long[1];
            double rate = measure(read, () -> peakBuffered[0] = Math.max(peakBuffered[0], pair.server.stats().bufferedBytes()));
            stop.set(true);
            return new Figure(rate, peakBuffered[0], server.memoryBudget().peak());
        } finally {
            pool.shutdownNow();
        }
    }

    /** Lets the load ramp up, then counts what is read for {@link #SECONDS}, sampling every 100 ms. */
    private static double measure(AtomicLong read, Runnable sample) throws InterruptedException {
        long warmEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(WARMUP_SECONDS);
        while (System.nanoTime() < warmEnd) {
            sample.run();
            TimeUnit.MILLISECONDS.sleep(100);
        }
        long start = System.nanoTime();
        long from = read.get();
        long end = start + TimeUnit.SECONDS.toNanos(SECONDS);
        while (System.nanoTime() < end) {
            sample.run();
            TimeUnit.MILLISECONDS.sleep(100);
        }
        return (read.get() - from) * 1e9 / (System.nanoTime() - start);
    }

    private static Void pump(OutputStream out, AtomicBoolean stop) {
        byte[] buf = new byte[WRITE];
        Arrays.fill(buf, (byte) 7);
        try {
            while (!stop.get()) {
                out.write(buf);
            }
        } catch (IOException e) {
            // the cell ended
        }
        return null;
    }

    private static Void drain(InputStream in, AtomicLong read) {
        byte[] buf = new byte[64 * 1024];
        try {
            int n;
            while ((n = in.read(buf)) >= 0) {
                read.addAndGet(n);
            }
        } catch (IOException e) {
            // the cell ended
        }
        return null;
    }
}
