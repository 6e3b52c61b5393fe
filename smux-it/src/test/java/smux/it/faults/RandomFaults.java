package smux.it.faults;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import smux.it.Leaks;
import smux.it.toxi.ToxiproxyBackend;

/**
 * Many sessions, one after another on each of several lanes at once, each a {@link ChaosEpisode}: random
 * traffic through a real Toxiproxy while toxics come and go and some connections are killed. The engine behind
 * {@link RandomFaultSoakTest} (seconds, in the regular build) and {@link RandomFaultSoak} (an hour).
 *
 * <p>Checks throughout (every progress interval) and at the end:
 * <ul>
 *   <li>on every stream, per direction: a reader that reached end-of-stream got exactly what its writer
 *       committed, every byte at its offset; any other reader got a prefix of it, never more; so 0 bytes lost
 *       or duplicated on every stream that completed;</li>
 *   <li>every write timeout's {@code bytesTransferred} equals how far its buffer moved, and the writer retries
 *       the rest from there;</li>
 *   <li>every failure is one of the named exceptions {@link FaultLedger} lists, with a message;</li>
 *   <li>no stream hangs: once the faults stop, every stream finishes within {@value ChaosEpisode#DRAIN_SECONDS} s;</li>
 *   <li>while running: smux threads, open files and direct buffers stay within what the live sessions
 *       explain; at the end, after the last session closed: smux threads and open files back to where they
 *       were before, direct buffers back (after GC) to within {@value #DIRECT_SLACK_BYTES} bytes, and the heap
 *       after GC within {@value #HEAP_SLACK_BYTES} bytes of where it started.</li>
 * </ul>
 * Before the baseline is taken, one fault-free episode per transport warms up (class loading, the toxiproxy
 * client, the JIT), so the end state compares like with like.
 */
final class RandomFaults {
    static final long HEAP_SLACK_BYTES = 32L << 20;
    static final long DIRECT_SLACK_BYTES = 1L << 20;
    /** Per lane at most one session pair is live: two sessions of two threads each (socket), plus the nio loop. */
    private static final int THREADS_PER_LANE = 4;
    /** Per lane: the listener, the client's and the server's socket, and some slack for a pair being torn down. */
    private static final int FILES_PER_LANE = 6;

    private final ToxiproxyBackend toxiproxy;
    private final Duration duration;
    private final int lanes;
    private final long seed;
    private final int maxEpisodeSeconds;
    private final Duration progressEvery;
    private final Path reportFile;

    /** The run's figures and verdict. */
    record Result(FaultLedger ledger, String summary, List<String> leaks) {
    }

    RandomFaults(ToxiproxyBackend toxiproxy, Duration duration, int lanes, long seed, int maxEpisodeSeconds,
                 Duration progressEvery, Path reportFile) {
        this.toxiproxy = toxiproxy;
        this.duration = duration;
        this.lanes = lanes;
        this.seed = seed;
        this.maxEpisodeSeconds = maxEpisodeSeconds;
        this.progressEvery = progressEvery;
        this.reportFile = reportFile;
    }

    Result run() throws Exception {
        ExecutorService pool = Faults.pool("chaos-io", 0);
        ExecutorService lanePool = Faults.pool("chaos-lane", lanes);
        FaultLedger ledger = new FaultLedger(null);
        List<String> leaks = new ArrayList<>();
        try {
            FaultLedger warmUp = new FaultLedger(null);
            for (String t : Faults.TRANSPORTS) {
                new ChaosEpisode(toxiproxy, warmUp, "chaos-warmup-" + t, seed, Duration.ofSeconds(1), t, false, pool).run();
            }
            if (warmUp.anomalies() > 0) {
                leaks.add("the warm-up failed: " + warmUp.firstAnomalies());
            }

            Snapshot before = Snapshot.settled(null);
            report("CHAOS start: " + duration.toMinutes() + " min (" + duration.toSeconds() + " s), " + lanes
                    + " lanes, seed " + seed + "; before: " + before);
            long started = System.nanoTime();
            long end = started + duration.toNanos();
            AtomicInteger episodes = new AtomicInteger();
            List<Future<?>> laneRuns = new ArrayList<>();
            for (int lane = 0; lane < lanes; lane++) {
                int l = lane;
                laneRuns.add(lanePool.submit(() -> {
                    SplittableRandom r = new SplittableRandom(seed * 31 + l);
                    for (int n = 0; System.nanoTime() < end; n++) {
                        Duration length = Duration.ofMillis(1000L * (2 + r.nextInt(Math.max(1, maxEpisodeSeconds - 1))));
                        new ChaosEpisode(toxiproxy, ledger, "chaos-" + l + "-" + n, r.nextLong(), length, null, true, pool).run();
                        episodes.incrementAndGet();
                    }
                    return null;
                }));
            }
            Peaks peaks = new Peaks();
            long nextProgress = started + progressEvery.toNanos();
            while (!laneRuns.stream().allMatch(Future::isDone)) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
                peaks.sample(before, lanes, ledger);
                if (System.nanoTime() >= nextProgress) {
                    nextProgress += progressEvery.toNanos();
                    report(String.format(Locale.ROOT, "CHAOS progress %.1f min: episodes=%d, %s; now %s", (System.nanoTime() - started) / 60e9,
                            episodes.get(), ledger.figures(), Snapshot.now()));
                }
            }
            for (Future<?> f : laneRuns) {
                f.get(); // a lane that threw fails the run with its exception
            }
            double minutes = (System.nanoTime() - started) / 60e9;

            // The test's own threads end first: the JDK caches temporary direct buffers per thread for socket I/O
            // (here: the toxiproxy client's HTTP calls) and frees them when the thread ends.
            pool.shutdown();
            lanePool.shutdown();
            if (!pool.awaitTermination(30, TimeUnit.SECONDS) || !lanePool.awaitTermination(30, TimeUnit.SECONDS)) {
                leaks.add("the test's own stream threads did not end");
            }
            Snapshot after = Snapshot.settled(before);
            leaks.addAll(after.leaksAgainst(before));
            String summary = String.format(Locale.ROOT, "CHAOS %.1f min, %d lanes, seed %d: episodes=%d, %s;"
                            + " leaks=%s; smux threads %d -> %d (peak %d), open files %d -> %d (peak %d),"
                            + " direct buffers %d / %d B -> %d / %d B (peak %d B), heap after GC %.1f MiB -> %.1f MiB",
                    minutes, lanes, seed, episodes.get(), ledger.figures(), leaks.isEmpty() ? "none" : leaks,
                    before.threads, after.threads, peaks.threads.get(), before.files, after.files, peaks.files.get(),
                    before.directCount, before.directBytes, after.directCount, after.directBytes, peaks.direct.get(),
                    before.heap / 1048576.0, after.heap / 1048576.0);
            report(summary);
            return new Result(ledger, summary, leaks);
        } finally {
            pool.shutdownNow();
            lanePool.shutdownNow();
        }
    }

    private void report(String line) throws java.io.IOException {
        System.out.println(line);
        Files.createDirectories(reportFile.toAbsolutePath().getParent());
        Files.writeString(reportFile, line + System.lineSeparator(), StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** The highest resource counts seen while running; a count beyond what live sessions explain is an anomaly. */
    private static final class Peaks {
        final AtomicLong threads = new AtomicLong();
        final AtomicLong files = new AtomicLong();
        final AtomicLong direct = new AtomicLong();
        private boolean reported;

        void sample(Snapshot before, int lanes, FaultLedger ledger) {
            long t = Leaks.smuxThreads();
            long f = Leaks.openFiles();
            long d = direct().getMemoryUsed();
            threads.accumulateAndGet(t, Math::max);
            files.accumulateAndGet(f, Math::max);
            direct.accumulateAndGet(d, Math::max);
            // Sessions close asynchronously, so a lane's next pair may start before the last one's threads end:
            // allow two pairs per lane.
            long threadBound = before.threads + 2L * THREADS_PER_LANE * lanes + 1;
            long fileBound = before.files + 2L * FILES_PER_LANE * lanes + 8;
            long directBound = before.directBytes + (64L << 20);
            if (!reported && (t > threadBound || (f >= 0 && f > fileBound) || d > directBound)) {
                reported = true;
                ledger.anomaly(String.format(Locale.ROOT, "resources beyond what %d lanes explain: smux threads %d"
                        + " (bound %d), open files %d (bound %d), direct buffers %d B (bound %d B)", lanes, t, threadBound,
                        f, fileBound, d, directBound));
            }
        }
    }

    static BufferPoolMXBean direct() {
        return ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).findFirst()
                .orElseThrow(() -> new AssertionError("no direct BufferPoolMXBean"));
    }

    /** Resource counts at one moment. */
    record Snapshot(long threads, long files, long directCount, long directBytes, long heap) {
        static Snapshot now() {
            BufferPoolMXBean d = direct();
            return new Snapshot(Leaks.smuxThreads(), Leaks.openFiles(), d.getCount(), d.getMemoryUsed(), usedHeap());
        }

        /**
         * Waits (at most 60 s) for the counts to settle: for {@code target}'s threads, files and direct buffers if
         * given, collecting garbage in between (direct buffers are freed by their cleaners after a GC; idle HTTP
         * keep-alive connections of the toxiproxy client close after a few seconds). Then the heap after a GC.
         */
        static Snapshot settled(Snapshot target) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            Snapshot s;
            long previousHeap = Long.MAX_VALUE;
            while (true) {
                System.gc();
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(250));
                s = now();
                boolean settled = target == null ? Math.abs(previousHeap - s.heap) < (1 << 20)
                        : s.leaksAgainst(target).isEmpty();
                previousHeap = s.heap;
                if (settled || System.nanoTime() > deadline) {
                    return s;
                }
            }
        }

        List<String> leaksAgainst(Snapshot before) {
            List<String> leaks = new ArrayList<>();
            if (threads > before.threads) {
                leaks.add("smux threads " + before.threads + " -> " + threads);
            }
            if (before.files >= 0 && files > before.files) {
                leaks.add("open files " + before.files + " -> " + files);
            }
            if (directCount > before.directCount || directBytes > before.directBytes + DIRECT_SLACK_BYTES) {
                leaks.add("direct buffers " + before.directCount + " / " + before.directBytes + " B -> " + directCount
                        + " / " + directBytes + " B");
            }
            if (heap > before.heap + HEAP_SLACK_BYTES) {
                leaks.add(String.format(Locale.ROOT, "heap after GC %.1f MiB -> %.1f MiB", before.heap / 1048576.0,
                        heap / 1048576.0));
            }
            return leaks;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "smux threads %d, open files %d, direct buffers %d / %d B, heap used %.1f MiB",
                    threads, files, directCount, directBytes, heap / 1048576.0);
        }
    }

    static long usedHeap() {
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }
}
