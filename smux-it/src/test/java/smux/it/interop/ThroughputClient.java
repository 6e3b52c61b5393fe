package smux.it.interop;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import smux.api.Session;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;

/**
 * The Java client of {@link InteropThroughputBench}, run in a JVM of its own so that its CPU time and
 * context switches can be read from {@code /proc}: it speaks to its parent as a {@code -hold} Go peer
 * client does (JSON lines on stdout, go-ahead lines on stdin), so the bench drives both alike.
 *
 * <ol>
 *   <li>Warm-up (unless {@code --warmup-seconds 0}): a session of its own, {@code --warmup-streams} streams
 *       each writing for that long, so the JIT has compiled the data path before anything is measured
 *       (the server under test warms up with it); then {@code warmed}.</li>
 *   <li>Connects the measured session, starts its worker threads, prints {@code ready} (with the local
 *       address, by which the server's side of the session is found) and waits for a line on stdin.</li>
 *   <li>Each of {@code --streams} workers opens a stream, writes {@code --bytes} bytes of the pattern in
 *       {@code --write-size} writes, half-closes, and reads until the server's FIN: a discard server ends
 *       the stream only after reading all of it, so when every worker is back the server has read every
 *       byte. Then {@code run-over}, and it waits for another line with the session still open (its
 *       threads, whose context switches the parent reads, alive).</li>
 *   <li>Closes the session, prints {@code done} and exits.</li>
 * </ol>
 *
 * <p><b>Refused streams.</b> A server that refuses a stream ends it at once (FIN); a writer that waits
 * for window on such a stream would wait forever, since no window update comes. When nothing at all
 * moved for {@code --stall-probe-ms}, a monitor reads each stream still being written with a 1 ms
 * timeout: end-of-stream means the server ended it, and the stream is closed and counted as ended by
 * the peer ({@code peerEnded}). A stream that fails to open (a local limit) is counted in
 * {@code openFailed}. If nothing moves for {@code --give-up-seconds}, every stream still running is
 * closed and fails.
 *
 * <p>Settings are the library's defaults, the transport named ({@code --transport}), and optionally
 * {@code --max-streams} and {@code --session-buffer}. On Java 21 and later the workers are virtual
 * threads (as {@code smux serve} serves streams there), on Java 17 platform threads, started before
 * {@code ready}.
 */
public final class ThroughputClient {
    private static final int PROBE_TIMEOUT_MS = 1;

    private final Map<String, String> args;
    private final PrintStream out = System.out;
    private final BufferedReader input = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    private final byte[] chunk;

    private ThroughputClient(Map<String, String> args) {
        this.args = args;
        this.chunk = new byte[intArg("write-size", 65536)];
        Content.pattern().fill(0, chunk, 0, chunk.length);
    }

    /**
     * Runs the client; see the class comment for the arguments.
     *
     * @param argv {@code --name value} pairs
     */
    public static void main(String[] argv) throws Exception {
        Map<String, String> a = new HashMap<>();
        for (int i = 0; i + 1 < argv.length; i += 2) {
            if (!argv[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --name value pairs, got " + argv[i]);
            }
            a.put(argv[i].substring(2), argv[i + 1]);
        }
        if (argv.length % 2 != 0) {
            throw new IllegalArgumentException("an option without a value: " + argv[argv.length - 1]);
        }
        int code = new ThroughputClient(a).run();
        System.exit(code);
    }

    private int run() throws Exception {
        String[] hostPort = required("connect").split(":");
        InetSocketAddress target = new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1]));
        int streams = intArg("streams", 1);
        long bytes = Long.parseLong(required("bytes"));
        int warmupSeconds = intArg("warmup-seconds", 0);
        int warmupStreams = Math.min(streams, intArg("warmup-streams", 100));
        SmuxConfig config = config();

        Workers workers = Workers.start(streams);
        try {
            if (warmupSeconds > 0) {
                Outcomes w;
                try (Session session = Smux.connect(target, config)) {
                    w = runStreams(session, workers, warmupStreams, -1, System.nanoTime() + TimeUnit.SECONDS.toNanos(warmupSeconds));
                } catch (IOException e) {
                    w = null; // a close that reports dropped bytes: the warm-up did its job anyway
                }
                emit("warmed", w == null ? Map.of() : Map.of("streams", warmupStreams, "bytes", w.bytes.sum(), "errors", w.failed()));
            }
            try (Session session = Smux.connect(target, config)) {
                emit("ready", Map.of("local", show(session.localAddress().orElseThrow()), "java", Runtime.version().toString(),
                        "threads", workers.kind, "transport", config.transport().orElse("")));
                if (input.readLine() == null) {
                    return 1; // the parent is gone
                }
                long start = System.nanoTime();
                Outcomes o = runStreams(session, workers, streams, bytes, 0);
                double seconds = (System.nanoTime() - start) / 1e9;
                Map<String, Object> over = new LinkedHashMap<>();
                over.put("streams", streams - o.openFailed.intValue());
                over.put("asked", streams);
                over.put("bytes", o.bytes.sum());
                over.put("seconds", seconds);
                over.put("mbytesPerSec", o.bytes.sum() / seconds / 1e6);
                over.put("errors", o.failed());
                over.put("peerEnded", o.peerEnded.intValue());
                over.put("openFailed", o.openFailed.intValue());
                over.put("firstError", o.firstError());
                emit("run-over", over);
                input.readLine(); // the parent has sampled this process (or is gone)
            } catch (IOException e) {
                // the session's close reported bytes it could not deliver: the figures were reported already
                System.err.println("closing the session: " + e);
            }
            emit("done", Map.of());
            return 0;
        } finally {
            workers.executor.shutdownNow();
        }
    }

    private SmuxConfig config() {
        SmuxConfig.Builder b = SmuxConfig.builder().transport(required("transport"));
        if (args.containsKey("max-streams")) {
            b.maxStreams(Integer.parseInt(args.get("max-streams")));
        }
        if (args.containsKey("session-buffer")) {
            b.maxSessionBuffer(Long.parseLong(args.get("session-buffer")));
        }
        return b.build();
    }

    /**
     * Runs {@code n} streams on {@code session}, each writing {@code bytes} (or, with {@code bytes < 0},
     * until {@code stopAt}), and returns when every one is over.
     */
    private Outcomes runStreams(Session session, Workers workers, int n, long bytes, long stopAt) throws Exception {
        Outcomes o = new Outcomes();
        Queue<Writing> writing = new ConcurrentLinkedQueue<>();
        List<Future<?>> tasks = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            tasks.add(workers.executor.submit(() -> stream(session, bytes, stopAt, o, writing)));
        }
        new Monitor(o, writing, tasks, Duration.ofMillis(longArg("stall-probe-ms", 2000)),
                Duration.ofSeconds(longArg("give-up-seconds", 60))).watch();
        for (Future<?> t : tasks) {
            t.get();
        }
        return o;
    }

    private void stream(Session session, long bytes, long stopAt, Outcomes o, Queue<Writing> writing) {
        SmuxStream s;
        try {
            s = session.openStream();
        } catch (IOException | RuntimeException e) {
            o.openFailed.increment();
            o.error("open: " + e);
            return;
        }
        Writing w = new Writing(s);
        writing.add(w);
        try (s) {
            OutputStream os = s.outputStream();
            long left = bytes;
            while (bytes >= 0 ? left > 0 : System.nanoTime() - stopAt < 0) {
                int n = bytes >= 0 ? (int) Math.min(left, chunk.length) : chunk.length;
                os.write(chunk, 0, n);
                left -= n;
                o.bytes.add(n);
            }
            if (!w.confirming()) {
                return; // the monitor found it ended by the server (counted there); the write just finished anyway
            }
            s.closeWrite();
            int got = s.read(ByteBuffer.allocate(1)); // a discard server's FIN, once it has read everything
            if (got != -1) {
                o.failed.increment();
                o.error("the server sent data, or no FIN");
            }
        } catch (IOException | RuntimeException e) {
            if (!w.endedByPeer()) {
                o.failed.increment();
                o.error("stream " + s.id() + ": " + e);
            }
        } finally {
            writing.remove(w);
        }
    }

    /** A stream being written: the monitor may probe it until its writer moves on to reading the FIN. */
    private static final class Writing {
        private final SmuxStream stream;
        private boolean confirming;
        private boolean endedByPeer;

        Writing(SmuxStream stream) {
            this.stream = stream;
        }

        /** @return false if the monitor found the stream ended by the server (it is closed then) */
        synchronized boolean confirming() {
            confirming = !endedByPeer;
            return confirming;
        }

        synchronized boolean endedByPeer() {
            return endedByPeer;
        }

        /**
         * Reads with a 1 ms timeout; at end-of-stream (the server ended it while it is being written) closes
         * it, which makes its writer's write fail.
         *
         * @return whether it was found ended
         */
        synchronized boolean probe() {
            if (confirming || endedByPeer) {
                return false;
            }
            stream.setReadTimeout(Duration.ofMillis(PROBE_TIMEOUT_MS));
            try {
                // -1: the server's FIN. Data would not be from a discard server; its writer's final read says so.
                endedByPeer = stream.read(ByteBuffer.allocate(1)) == -1;
            } catch (SocketTimeoutException stillOpen) {
                return false;
            } catch (IOException e) {
                return false; // closed meanwhile: its writer reports it
            } finally {
                stream.setReadTimeout(Duration.ZERO);
            }
            if (endedByPeer) {
                stream.close();
            }
            return endedByPeer;
        }

        void giveUp() {
            stream.close();
        }
    }

    /** Watches the run from the calling thread until every task is over. */
    private static final class Monitor {
        private final Outcomes o;
        private final Queue<Writing> writing;
        private final List<Future<?>> tasks;
        private final long probeAfter;
        private final long giveUpAfter;

        Monitor(Outcomes o, Queue<Writing> writing, List<Future<?>> tasks, Duration probeAfter, Duration giveUpAfter) {
            this.o = o;
            this.writing = writing;
            this.tasks = tasks;
            this.probeAfter = probeAfter.toNanos();
            this.giveUpAfter = giveUpAfter.toNanos();
        }

        void watch() throws InterruptedException {
            long seen = -1;
            long movedAt = System.nanoTime();
            long probedAt = movedAt;
            while (!tasks.stream().allMatch(Future::isDone)) {
                TimeUnit.MILLISECONDS.sleep(100);
                long now = System.nanoTime();
                long progress = o.bytes.sum() + tasks.stream().filter(Future::isDone).count();
                if (progress != seen) {
                    seen = progress;
                    movedAt = now;
                    probedAt = now;
                } else if (now - movedAt > giveUpAfter) {
                    o.error("nothing moved for " + TimeUnit.NANOSECONDS.toSeconds(giveUpAfter) + " s: the streams still running were closed");
                    writing.forEach(Writing::giveUp);
                } else if (now - probedAt > probeAfter) {
                    probedAt = now;
                    for (Writing w : writing) {
                        if (w.probe()) {
                            o.peerEnded.increment();
                            o.error("stream " + w.stream.id() + ": the server ended it (FIN) while it was being written");
                        }
                    }
                }
            }
        }
    }

    /** What the streams of one run came to. */
    private static final class Outcomes {
        final LongAdder bytes = new LongAdder();
        final LongAdder failed = new LongAdder();
        final LongAdder peerEnded = new LongAdder();
        final LongAdder openFailed = new LongAdder();
        private String firstError = "";

        int failed() {
            return failed.intValue() + peerEnded.intValue() + openFailed.intValue();
        }

        synchronized void error(String e) {
            if (firstError.isEmpty()) {
                firstError = e;
            }
        }

        synchronized String firstError() {
            return firstError;
        }
    }

    /** The workers the streams run on, started before anything is measured. */
    private static final class Workers {
        final ExecutorService executor;
        final String kind;

        private Workers(ExecutorService executor, String kind) {
            this.executor = executor;
            this.kind = kind;
        }

        static Workers start(int n) {
            try {
                // Java 21+: a virtual thread per stream (found by reflection: this is compiled for Java 17)
                ExecutorService virtual = (ExecutorService) java.util.concurrent.Executors.class
                        .getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
                return new Workers(virtual, "virtual");
            } catch (ReflectiveOperationException e) {
                ThreadPoolExecutor pool = new ThreadPoolExecutor(n, n, 1, TimeUnit.HOURS, new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "throughput-client");
                    t.setDaemon(true);
                    return t;
                });
                pool.prestartAllCoreThreads(); // thread start-up is not part of the transfer
                return new Workers(pool, "platform");
            }
        }
    }

    // ------------------------------------------------------------------ plumbing

    private synchronized void emit(String event, Map<String, ?> fields) {
        StringBuilder sb = new StringBuilder("{\"event\":\"").append(event).append('"');
        for (Map.Entry<String, ?> f : fields.entrySet()) {
            sb.append(",\"").append(f.getKey()).append("\":");
            Object v = f.getValue();
            if (v instanceof Number) {
                sb.append(v instanceof Double d ? String.format(Locale.ROOT, "%.6f", d) : v.toString());
            } else {
                sb.append('"').append(v.toString().replace("\\", "\\\\").replace("\"", "\\\"")
                        .replace("\n", " ").replace("\r", " ")).append('"');
            }
        }
        out.println(sb.append('}'));
        out.flush();
    }

    private static String show(SocketAddress a) {
        InetSocketAddress i = (InetSocketAddress) a;
        return i.getAddress().getHostAddress() + ":" + i.getPort();
    }

    private String required(String name) {
        String v = args.get(name);
        if (v == null) {
            throw new IllegalArgumentException("--" + name + " is required");
        }
        return v;
    }

    private int intArg(String name, int otherwise) {
        return args.containsKey(name) ? Integer.parseInt(args.get(name)) : otherwise;
    }

    private long longArg(String name, long otherwise) {
        return args.containsKey(name) ? Long.parseLong(args.get(name)) : otherwise;
    }
}
