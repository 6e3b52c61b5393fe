package smux.it.interop;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import smux.api.Session;
import smux.api.Smux;
import smux.it.interop.DiffPlan.End;
import smux.it.interop.DiffPlan.Role;
import smux.it.interop.DiffPlan.SidePlan;
import smux.it.interop.DiffPlan.StreamPlan;
import smux.it.interop.PlanRunner.Side;

/**
 * Runs one {@link DiffPlan} four ways (Go client and Java client, each against a Go server and a Java
 * server) and compares what every stream delivered: each run against the plan, and the runs against each
 * other, side by side. The Go-to-Go run is the reference the others are compared with.
 */
final class Differential {
    /** How long any one stream, read or write may take; a plan that hangs fails after it. */
    static final Duration TIMEOUT = Duration.ofSeconds(30);

    private Differential() {
    }

    /** One run: what each role reported for each stream, and what went wrong around the streams. */
    record Run(String name, List<Side> client, List<Side> server, List<String> problems) {
    }

    /** The four runs and every problem found; {@link #ok()} when none. */
    record Outcome(DiffPlan plan, Path planFile, List<Run> runs, List<String> problems) {
        boolean ok() {
            return problems.isEmpty();
        }

        /** Everything needed to understand and replay a failure. */
        String report() {
            StringBuilder sb = new StringBuilder();
            sb.append(plan).append("\n  replay: ").append(plan.replay()).append(" (plan file ").append(planFile).append(')');
            sb.append("\n  problems:");
            problems.stream().limit(20).forEach(p -> sb.append("\n    ").append(p));
            if (problems.size() > 20) {
                sb.append("\n    ... ").append(problems.size() - 20).append(" more");
            }
            for (Run r : runs) {
                sb.append("\n  ").append(r.name()).append(':');
                fingerprints(plan, r).forEach((k, v) -> sb.append("\n    ").append(k).append(' ').append(v));
            }
            return sb.toString();
        }
    }

    static Outcome check(DiffPlan plan, Path dir) throws Exception {
        Path file = plan.write(dir);
        List<Run> runs = new ArrayList<>();
        runs.add(goToGo(plan, file));
        runs.add(goToJava(plan, file));
        runs.add(javaToGo(plan, file));
        runs.add(javaToJava(plan));
        return new Outcome(plan, file, runs, compare(plan, runs));
    }

    // ------------------------------------------------------------------ the runs

    private static String[] goArgs(DiffPlan plan, Role role, Path file, String... more) {
        List<String> a = new ArrayList<>(plan.goFlags(role));
        a.addAll(List.of("-plan", file.toString(), "-timeout", TIMEOUT.toSeconds() + "s"));
        a.addAll(List.of(more));
        return a.toArray(new String[0]);
    }

    /** Every side the peer ran, once its plan is over ({@code plan-done}: after that it only ends the session). */
    private static List<Side> goSides(GoPeer peer, int count) {
        peer.awaitEvent(e -> e.name().equals("plan-done"), TIMEOUT.plusSeconds(10), "the plan-done event");
        return peer.awaitEvents("plan-stream", count, TIMEOUT.plusSeconds(10)).stream().map(Side::of)
                .collect(Collectors.toList());
    }

    static Run goToGo(DiffPlan plan, Path file) throws IOException {
        List<String> problems = new ArrayList<>();
        int n = plan.streams().size();
        try (GoPeer server = GoPeer.server(plan.release(), goArgs(plan, Role.SERVER, file, "-sessions", "1"));
             GoPeer client = GoPeer.client(plan.release(), server.address(), goArgs(plan, Role.CLIENT, file))) {
            List<Side> c = goSides(client, n);
            List<Side> s = goSides(server, n);
            client.endInput();
            expectExit(client, problems);
            expectExit(server, problems);
            return new Run("Go " + plan.release() + " client -> Go server", c, s, problems);
        }
    }

    static Run goToJava(DiffPlan plan, Path file) throws Exception {
        List<String> problems = new ArrayList<>();
        int n = plan.streams().size();
        try (JavaPlanServer server = new JavaPlanServer(plan)) {
            try (GoPeer client = GoPeer.client(plan.release(), server.address(), goArgs(plan, Role.CLIENT, file))) {
                List<Side> c = goSides(client, n);
                List<Side> s = server.sides();
                server.session().closeCause().ifPresent(e -> problems.add("the Java server's session failed: " + e));
                client.endInput();
                expectExit(client, problems);
                return new Run("Go " + plan.release() + " client -> Java " + plan.serverTransport() + " server", c, s,
                        problems);
            }
        }
    }

    static Run javaToGo(DiffPlan plan, Path file) throws IOException {
        List<String> problems = new ArrayList<>();
        int n = plan.streams().size();
        try (GoPeer server = GoPeer.server(plan.release(), goArgs(plan, Role.SERVER, file, "-sessions", "1"))) {
            List<Side> c;
            List<Side> s;
            try (Session session = Smux.connect(server.address(), plan.javaConfig(Role.CLIENT))) {
                c = PlanRunner.run(plan, Role.CLIENT, session, TIMEOUT);
                // Close only once Go has reported every stream: its sides may still be finishing.
                s = goSides(server, n);
                session.closeCause().ifPresent(e -> problems.add("the Java client's session failed: " + e));
            }
            expectExit(server, problems);
            String kind = server.awaitSessionClosed(1, Duration.ofSeconds(5)).str("kind");
            if (kind.equals("protocol")) {
                problems.add("the Go server ended the session with a protocol error" + server.diagnostics());
            }
            return new Run("Java " + plan.clientTransport() + " client -> Go " + plan.release() + " server", c, s, problems);
        }
    }

    static Run javaToJava(DiffPlan plan) throws Exception {
        List<String> problems = new ArrayList<>();
        try (JavaPlanServer server = new JavaPlanServer(plan);
             Session session = Smux.connect(server.address(), plan.javaConfig(Role.CLIENT))) {
            List<Side> c = PlanRunner.run(plan, Role.CLIENT, session, TIMEOUT);
            List<Side> s = server.sides();
            session.closeCause().ifPresent(e -> problems.add("the Java client's session failed: " + e));
            server.session().closeCause().ifPresent(e -> problems.add("the Java server's session failed: " + e));
            return new Run("Java " + plan.clientTransport() + " client -> Java " + plan.serverTransport() + " server", c, s,
                    problems);
        }
    }

    private static void expectExit(GoPeer peer, List<String> problems) {
        int code = peer.awaitExit(Duration.ofSeconds(20));
        if (code != 0) {
            problems.add("Go " + peer.release() + " exited with " + code + peer.diagnostics());
        }
    }

    /** A Java server for one connection that runs the server's half of a plan on it. */
    private static final class JavaPlanServer implements AutoCloseable {
        private final ServerSocketChannel listener;
        private final CompletableFuture<Session> session = new CompletableFuture<>();
        private final CompletableFuture<List<Side>> sides = new CompletableFuture<>();
        private final Thread thread;

        JavaPlanServer(DiffPlan plan) throws IOException {
            listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
            thread = new Thread(() -> serve(plan), "plan-java-server");
            thread.setDaemon(true);
            thread.start();
        }

        private void serve(DiffPlan plan) {
            try {
                SocketChannel ch = listener.accept();
                Session s = Smux.server(ch, plan.javaConfig(Role.SERVER));
                session.complete(s);
                sides.complete(PlanRunner.run(plan, Role.SERVER, s, TIMEOUT));
            } catch (Throwable t) {
                session.completeExceptionally(t);
                sides.completeExceptionally(t);
            }
        }

        InetSocketAddress address() throws IOException {
            return (InetSocketAddress) listener.getLocalAddress();
        }

        Session session() throws Exception {
            return get(session);
        }

        List<Side> sides() throws Exception {
            return get(sides);
        }

        private static <T> T get(CompletableFuture<T> f) throws Exception {
            try {
                return f.get(TIMEOUT.toSeconds() + 10, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                throw e.getCause() instanceof Exception cause ? cause : e;
            } catch (TimeoutException e) {
                throw new AssertionError("the Java plan server did not finish", e);
            }
        }

        @Override
        public void close() throws IOException {
            listener.close();
            Session s = session.getNow(null);
            if (s != null) {
                s.close();
            }
            try {
                thread.join(TimeUnit.SECONDS.toMillis(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ------------------------------------------------------------------ the comparison

    /**
     * What must be the same in every run, per stream and role: the id, who opened it, what it read (bytes and
     * digest; after an early close only that it was a correct prefix, which the side itself checks), what it
     * wrote, how reading ended where the plan fixes it (at the peer's FIN), and what the probe got.
     */
    static Map<String, String> fingerprints(DiffPlan plan, Run run) {
        Map<String, String> fp = new LinkedHashMap<>();
        for (Role role : Role.values()) {
            List<Side> sides = role == Role.CLIENT ? run.client() : run.server();
            for (Side s : sides.stream().sorted((a, b) -> Integer.compare(a.index(), b.index())).collect(Collectors.toList())) {
                String key = "#" + s.index() + " " + role.json();
                if (s.index() < 0 || s.index() >= plan.streams().size()) {
                    fp.put(key + " id " + s.id(), "not in the plan: " + s.err());
                    continue;
                }
                SidePlan mine = plan.streams().get(s.index()).side(role);
                boolean toFin = mine.end() == End.HALF || mine.end() == End.EOF_CLOSE;
                fp.put(key, "id=" + s.id() + (s.opener() ? " opener" : " acceptor")
                        + " in=" + (mine.end() == End.EARLY ? "prefix" : s.bytesIn() + "/" + abbrev(s.sha256In()))
                        + " out=" + s.bytesOut() + "/" + abbrev(s.sha256Out())
                        + " end=" + (toFin ? s.readEnd() : "-")
                        + " probe=" + (s.probe().isEmpty() ? "-" : s.probe())
                        + (s.err().isEmpty() ? "" : " ERR " + s.err()));
            }
        }
        return fp;
    }

    static List<String> compare(DiffPlan plan, List<Run> runs) {
        List<String> problems = new ArrayList<>();
        Map<String, String> expected = expectations(plan);
        for (Run run : runs) {
            run.problems().forEach(p -> problems.add(run.name() + ": " + p));
            for (Role role : Role.values()) {
                List<Side> sides = role == Role.CLIENT ? run.client() : run.server();
                for (Side s : sides) {
                    if (!s.err().isEmpty()) {
                        problems.add(run.name() + ": stream #" + s.index() + " (id " + s.id() + "), " + role.json() + ": "
                                + s.err());
                    }
                }
            }
            Map<String, String> fp = fingerprints(plan, run);
            for (Map.Entry<String, String> e : expected.entrySet()) {
                String got = fp.get(e.getKey());
                if (got == null) {
                    problems.add(run.name() + ": no report for stream " + e.getKey());
                } else if (!got.startsWith(e.getValue())) {
                    problems.add(run.name() + ": stream " + e.getKey() + " delivered " + got + ", the plan says " + e.getValue());
                }
            }
        }
        Run reference = runs.get(0);
        Map<String, String> ref = fingerprints(plan, reference);
        for (Run run : runs.subList(1, runs.size())) {
            Map<String, String> fp = fingerprints(plan, run);
            if (!fp.equals(ref)) {
                for (String key : union(ref, fp)) {
                    if (!String.valueOf(ref.get(key)).equals(String.valueOf(fp.get(key)))) {
                        problems.add("stream " + key + " differs: " + reference.name() + " " + ref.get(key) + " | "
                                + run.name() + " " + fp.get(key));
                    }
                }
            }
        }
        return problems;
    }

    /** The fingerprint each side must have, from the plan alone (ids, bytes, digests, ends, probes). */
    static Map<String, String> expectations(DiffPlan plan) {
        Map<String, String> exp = new LinkedHashMap<>();
        int[] opened = new int[2];
        long[] ids = new long[plan.streams().size()];
        for (StreamPlan s : plan.streams()) {
            ids[s.index()] = PlanRunner.expectedId(s.opener(), opened[s.opener().ordinal()]++);
        }
        for (Role role : Role.values()) {
            for (StreamPlan s : plan.streams()) {
                SidePlan mine = s.side(role);
                SidePlan peer = s.side(role.other());
                boolean toFin = mine.end() == End.HALF || mine.end() == End.EOF_CLOSE;
                String in = mine.end() == End.EARLY ? "prefix"
                        : peer.total() + "/" + abbrev(Content.sha256Hex(Content.mixed(peer.content()), peer.total()));
                exp.put("#" + s.index() + " " + role.json(), "id=" + ids[s.index()]
                        + (s.opener() == role ? " opener" : " acceptor")
                        + " in=" + in
                        + " out=" + mine.total() + "/" + abbrev(Content.sha256Hex(Content.mixed(mine.content()), mine.total()))
                        + " end=" + (toFin ? "eof" : "-")
                        + " probe=" + (mine.probe() ? "refused" : "-"));
            }
        }
        return exp;
    }

    private static List<String> union(Map<String, String> a, Map<String, String> b) {
        List<String> keys = new ArrayList<>(a.keySet());
        b.keySet().stream().filter(k -> !a.containsKey(k)).forEach(keys::add);
        return keys;
    }

    private static String abbrev(String hex) {
        return hex.length() > 12 ? hex.substring(0, 12) : hex;
    }
}
