package smux.it.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import smux.api.ProtocolException;
import smux.api.Session;
import smux.api.SessionClosedException;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.it.interop.GoPeer.StreamReport;
import smux.it.interop.JavaModes.Result;

/**
 * Runs one scripted exchange between Java and the Go peer in a {@link Combo}'s direction and collects
 * both sides' view of every stream, so that a test only describes the traffic and checks the outcome.
 *
 * <p>Java client: a Go server ({@code -sessions 1}) in the exchange's mode; {@code streams} Java workers
 * each open {@code iterations} streams in a row and drive them; once the Go server has reported every
 * stream the Java session is closed and the Go server, whose only session has ended, exits. Go client: a {@link JavaServer} runs the mode's handler
 * per stream; the Go client runs {@code -streams}/{@code -open-close} and must exit 0. Either way, with
 * {@link #viaRelay} the connection goes through a {@link FrameRelay}.
 */
final class Exchange {
    private final Combo combo;
    private String mode = "echo";
    private int streams = 1;
    private int iterations = 1;
    private long bytes = 64 * 1024;
    private boolean randomSizes;
    private long seed = 1;
    private boolean halfClose;
    private final List<String> goFlags = new ArrayList<>();
    private UnaryOperator<SmuxConfig.Builder> javaConfig = b -> b;
    private boolean relay;
    private boolean relayHash;
    private Function<FrameRelay, JavaModes.Gate> gate = r -> JavaModes.Gate.NONE;
    private Duration timeout = Duration.ofSeconds(90);

    private Exchange(Combo combo) {
        this.combo = combo;
    }

    static Exchange of(Combo combo) {
        return new Exchange(combo);
    }

    Exchange mode(String m) {
        this.mode = m;
        return this;
    }

    /** Concurrent streams (Java workers, or the Go client's {@code -streams}). */
    Exchange streams(int n) {
        this.streams = n;
        return this;
    }

    /** Streams each worker opens and closes in a row ({@code -open-close}). */
    Exchange iterations(int n) {
        this.iterations = n;
        return this;
    }

    /** Every stream carries exactly {@code n} bytes. */
    Exchange bytes(long n) {
        this.bytes = n;
        this.randomSizes = false;
        return this;
    }

    /** Each stream's size is uniform in [0, max], from {@code seed}. */
    Exchange randomSizes(long max, long seed) {
        this.bytes = max;
        this.randomSizes = true;
        this.seed = seed;
        return this;
    }

    Exchange halfClose(boolean h) {
        this.halfClose = h;
        return this;
    }

    Exchange goFlags(String... flags) {
        Collections.addAll(goFlags, flags);
        return this;
    }

    Exchange javaConfig(UnaryOperator<SmuxConfig.Builder> c) {
        this.javaConfig = c;
        return this;
    }

    Exchange viaRelay(boolean hashPayloads) {
        this.relay = true;
        this.relayHash = hashPayloads;
        return this;
    }

    /** A gate the Java reader passes before its first read (needs {@link #viaRelay} to use the relay). */
    Exchange javaReadGate(Function<FrameRelay, JavaModes.Gate> g) {
        this.gate = g;
        return this;
    }

    Exchange timeout(Duration t) {
        this.timeout = t;
        return this;
    }

    /** Both sides' results. */
    record Outcome(Combo combo, List<Result> java, List<StreamReport> go, Optional<SessionClosedException> javaCloseCause,
                   String goSessionEnd, FrameRelay relay, String goDiagnostics) {

        /**
         * Checks that every stream succeeded on both sides, that both saw the same streams, and that the bytes
         * and SHA-256 digests of each direction agree; and that neither side saw a protocol error.
         */
        Outcome assertAllMatch(int expectedStreams) {
            List<String> problems = new ArrayList<>();
            java.stream().filter(r -> !r.ok()).limit(3)
                    .forEach(r -> problems.add("Java stream " + r.id() + " failed: " + r.error()));
            go.stream().filter(r -> !r.err().isEmpty()).limit(3)
                    .forEach(r -> problems.add("Go stream " + r.id() + " failed: " + r.err()));
            if (java.size() != expectedStreams) {
                problems.add("Java saw " + java.size() + " streams, expected " + expectedStreams);
            }
            if (go.size() != expectedStreams) {
                problems.add("Go saw " + go.size() + " streams, expected " + expectedStreams);
            }
            Map<Long, Result> byId = new TreeMap<>();
            java.forEach(r -> byId.put(r.id(), r));
            Map<Long, StreamReport> goById = new TreeMap<>();
            go.forEach(r -> goById.put(r.id(), r));
            if (!byId.keySet().equals(goById.keySet()) && problems.isEmpty()) {
                problems.add("the two sides saw different stream ids");
            }
            int mismatches = 0;
            for (Map.Entry<Long, Result> e : byId.entrySet()) {
                StreamReport g = goById.get(e.getKey());
                Result j = e.getValue();
                if (g == null) {
                    continue;
                }
                boolean same = j.bytesOut() == g.bytesIn() && j.sha256Out().equals(g.sha256In())
                        && j.bytesIn() == g.bytesOut() && j.sha256In().equals(g.sha256Out());
                if (!same && mismatches++ < 3) {
                    problems.add("stream " + e.getKey() + " differs: Java out " + j.bytesOut() + "/" + abbrev(j.sha256Out())
                            + " vs Go in " + g.bytesIn() + "/" + abbrev(g.sha256In()) + "; Java in " + j.bytesIn() + "/"
                            + abbrev(j.sha256In()) + " vs Go out " + g.bytesOut() + "/" + abbrev(g.sha256Out()));
                }
            }
            if (goSessionEnd.equals("protocol")) {
                problems.add("the Go side ended its session with a protocol error");
            }
            javaCloseCause.ifPresent(c -> {
                if (c.getCause() instanceof ProtocolException) {
                    problems.add("the Java session failed with a protocol error: " + c);
                }
            });
            if (!problems.isEmpty()) {
                fail(combo + ": " + String.join("\n  ", problems) + goDiagnostics);
            }
            return this;
        }

        long javaBytesIn() {
            return java.stream().mapToLong(Result::bytesIn).sum();
        }

        long javaBytesOut() {
            return java.stream().mapToLong(Result::bytesOut).sum();
        }

        private static String abbrev(String hex) {
            return hex.length() > 12 ? hex.substring(0, 12) : hex;
        }
    }

    Outcome run() throws Exception {
        return combo.javaIsClient() ? runJavaClient() : runGoClient();
    }

    private List<String> goArgs(boolean client) {
        List<String> a = new ArrayList<>(List.of("-version", Integer.toString(combo.protocol()), "-mode", mode,
                "-timeout", timeout.toSeconds() + "s"));
        if (mode.equals("source")) {
            a.add("-source-request"); // v1.5.16 clients drop data written before their first frame
        }
        if (client) {
            a.addAll(List.of("-streams", Integer.toString(streams), "-content", "random", "-seed", Long.toString(seed)));
            if (iterations > 1) {
                a.addAll(List.of("-open-close", Integer.toString(iterations)));
            }
            if (randomSizes) {
                a.addAll(List.of("-random-max", Long.toString(bytes)));
            } else {
                a.addAll(List.of("-bytes", Long.toString(bytes)));
            }
            if (halfClose) {
                a.add("-half-close");
            }
        } else {
            a.addAll(List.of("-sessions", "1"));
        }
        a.addAll(goFlags);
        return a;
    }

    private SmuxConfig config() {
        return javaConfig.apply(combo.javaConfig()).build();
    }

    private Outcome runJavaClient() throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "java-client-worker");
            t.setDaemon(true);
            return t;
        });
        try (GoPeer server = GoPeer.server(combo.release(), goArgs(false).toArray(new String[0]))) {
            FrameRelay fr = relay ? FrameRelay.start(server.address(), relayHash) : null;
            try {
                InetSocketAddress target = fr != null ? fr.address() : server.address();
                JavaModes.Gate readGate = gate.apply(fr);
                long[] sizes = sizes(streams * iterations);
                List<Result> results = Collections.synchronizedList(new ArrayList<>());
                Optional<SessionClosedException> cause;
                try (Session session = Smux.connect(target, config())) {
                    List<Future<?>> workers = new ArrayList<>();
                    for (int w = 0; w < streams; w++) {
                        int worker = w;
                        workers.add(pool.submit(() -> {
                            for (int it = 0; it < iterations; it++) {
                                int index = worker * iterations + it;
                                JavaModes.Body body = clientBody(index, sizes[index], readGate, pool);
                                results.add(JavaModes.run(session.openStream(), true, body));
                            }
                            return null;
                        }));
                    }
                    for (Future<?> f : workers) {
                        f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                    }
                    // Our side being done does not mean the Go server is (discard: the data may still be in
                    // flight), and xtaci's AcceptStream may report the connection's end instead of streams still
                    // queued for accept: close only once Go has reported every stream.
                    server.awaitStreams(1, streams * iterations, timeout);
                    cause = session.closeCause();
                }
                int code = server.awaitExit(Duration.ofSeconds(20));
                assertEquals(0, code, "Go server exit code" + server.diagnostics());
                String end = server.awaitSessionClosed(1, Duration.ofSeconds(1)).str("kind");
                return new Outcome(combo, List.copyOf(results), server.streams(1), cause, end, fr, server.diagnostics());
            } finally {
                if (fr != null) {
                    fr.close();
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private Outcome runGoClient() throws Exception {
        // The gate may need the relay, which needs the server's address: the handler reads it late.
        GateHolder holder = new GateHolder();
        try (JavaServer js = JavaServer.start(config(), serverBody(holder))) {
            FrameRelay fr = relay ? FrameRelay.start(js.address(), relayHash) : null;
            try {
                holder.gate = gate.apply(fr);
                InetSocketAddress target = fr != null ? fr.address() : js.address();
                try (GoPeer client = GoPeer.client(combo.release(), target, goArgs(true).toArray(new String[0]))) {
                    client.awaitSuccess(timeout);
                    List<Result> results = js.awaitResults(streams * iterations, Duration.ofSeconds(30));
                    Session session = js.awaitSession(Duration.ofSeconds(1));
                    String end = client.awaitSessionClosed(1, Duration.ofSeconds(1)).str("kind");
                    assertTrue(js.failures().isEmpty(), () -> "Java server failures: " + js.failures());
                    return new Outcome(combo, results, client.streams(1), session.closeCause(), end, fr,
                            client.diagnostics());
                }
            } finally {
                if (fr != null) {
                    fr.close();
                }
            }
        }
    }

    /** Lets the server's handler be built before the relay (and so the gate) exists. */
    private static final class GateHolder implements JavaModes.Gate {
        volatile JavaModes.Gate gate = JavaModes.Gate.NONE;

        @Override
        public void await(long streamId) throws Exception {
            gate.await(streamId);
        }
    }

    private long[] sizes(int n) {
        long[] s = new long[n];
        Random r = new Random(seed);
        for (int i = 0; i < n; i++) {
            s[i] = randomSizes ? (long) (r.nextDouble() * (bytes + 1)) : bytes;
        }
        return s;
    }

    private JavaModes.Body clientBody(int index, long size, JavaModes.Gate readGate, ExecutorService pool) {
        Content content = Content.random(seed, index);
        switch (mode) {
            case "echo":
                return JavaModes.echoClient(content, size, halfClose, pool);
            case "discard":
                return JavaModes.discardClient(content, size, halfClose);
            case "source":
                return JavaModes.sourceClient(size, readGate);
            case "checksum":
                return JavaModes.checksumClient(content, size);
            case "script":
                return JavaModes.scriptClient(halfClose);
            default:
                throw new IllegalArgumentException("unknown mode " + mode);
        }
    }

    private JavaModes.Body serverBody(JavaModes.Gate g) {
        switch (mode) {
            case "echo":
                return JavaModes.echoServer();
            case "discard":
                return JavaModes.discardServer(g);
            case "source":
                return JavaModes.sourceServer();
            case "checksum":
                return JavaModes.checksumServer();
            case "script":
                return JavaModes.scriptServer();
            default:
                throw new IllegalArgumentException("unknown mode " + mode);
        }
    }
}
