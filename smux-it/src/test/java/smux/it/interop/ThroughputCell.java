package smux.it.interop;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import smux.it.interop.GoPeer.Release;
import smux.it.interop.GoPeer.StreamReport;

/**
 * One cell of {@link InteropThroughputBench}: a client and a server, each a process of its own (a Go
 * peer, the real {@code smux serve --mode discard} in a JVM, or {@link ThroughputClient} in a JVM), and how
 * one run of it is measured:
 *
 * <ol>
 *   <li>The server starts; a Java server is warmed up (a Go client writes into it for the warm-up time; a
 *       Java client warms up itself and the server together).</li>
 *   <li>The client connects and waits ({@code ready}); both processes are sampled ({@link ProcSample}).</li>
 *   <li>Go-ahead: the client opens N streams and writes the same number of bytes on each. A stream is over
 *       when the server has read it whole: a Go server reports each stream, and the client half-closes
 *       and waits for the discard server's FIN, which comes after the server's last read. With every stream
 *       over ({@code run-over}; for a Go server, also its N stream reports) both processes are sampled
 *       again, while the session and every thread of it still stand.</li>
 *   <li>The client ends its session and exits; {@code smux serve}'s log line for the session gives the
 *       streams it refused.</li>
 * </ol>
 *
 * @param client who opens the streams and writes
 * @param server who accepts them and discards what it reads
 */
record ThroughputCell(End client, End server) {

    /** One end of a cell. */
    interface End {
        String label();
    }

    /** A Go xtaci/smux peer (interop/): the client runs {@code -hold -watch-fin}, the server discards. */
    record GoEnd(Release release) implements End {
        @Override
        public String label() {
            return "Go " + release.tag;
        }
    }

    /**
     * smux for Java on {@code jdk}: as a server the real {@code smux serve --mode discard} with default options
     * and {@code --transport}; as a client {@link ThroughputClient} with default options.
     */
    record JavaEnd(Jdk jdk, String transport) implements End {
        @Override
        public String label() {
            return jdk.label() + " " + transport;
        }
    }

    /** @return "client -> server", a Java server marked "(serve)" */
    String name() {
        return client.label() + " -> " + server.label() + (server instanceof JavaEnd ? " (serve)" : "");
    }

    /** What a run needs beside the cell: the settings of the bench. */
    record Setup(Duration warmup, List<String> goArgs, List<String> serveArgs, List<String> clientArgs, Path cliTarget,
                 String testClassPath) {
    }

    /**
     * Runs the cell once.
     *
     * @param streams the streams the client opens
     * @param perStream bytes written on each
     * @param deadline how long the transfer may take before the run is abandoned
     */
    CellRun run(Setup setup, int streams, long perStream, Duration deadline) throws IOException {
        try (Server s = startServer(setup)) {
            if (client instanceof GoEnd && server instanceof JavaEnd && !setup.warmup().isZero()) {
                goWarmUp(setup, s.address(), Math.min(streams, 100));
            }
            try (Client c = startClient(setup, s.address(), streams, perStream)) {
                Event ready = c.process.awaitEvent(e -> e.name().equals("ready"), setup.warmup().plusSeconds(120), "ready");
                String local = client instanceof JavaEnd ? ready.str("local") : c.local;
                ProcSample receiver0 = ProcSample.of(s.pid());
                ProcSample sender0 = ProcSample.of(c.process.pid());
                long start = System.nanoTime();
                c.process.sendLine("go");
                Event over = c.process.awaitEvent(e -> e.name().equals("run-over"), deadline, "run-over");
                int opened = (int) over.num("streams");
                int shortAtServer = s.awaitReceived(local, opened, perStream, deadline);
                double seconds = (System.nanoTime() - start) / 1e9;
                ProcSample sender1 = ProcSample.of(c.process.pid());
                ProcSample receiver1 = ProcSample.of(s.pid());
                long ticks = ProcSample.clockTicksPerSecond();

                c.process.sendLine("end");
                c.process.awaitExit(Duration.ofSeconds(60));
                int refused = s.refused(local);
                // a Java client says how many streams did not open and its first error; a Go client reports each stream
                int openFailed = over.fields().containsKey("openFailed") ? (int) over.num("openFailed") : 0;
                String firstError = over.str("firstError").isEmpty()
                        ? c.process.find(e -> e.name().equals("stream") && !e.str("err").isEmpty()).map(e -> e.str("err")).orElse("")
                        : over.str("firstError");
                CellRun.Streams outcome = new CellRun.Streams(streams, (int) over.num("errors"), (int) over.num("peerEnded"), openFailed,
                        refused, shortAtServer, firstError);
                return new CellRun(over.num("bytes"), seconds, sender1.since(sender0, ticks), receiver1.since(receiver0, ticks), outcome);
            }
        }
    }

    // ------------------------------------------------------------------ servers

    /** The server process of a run. */
    private interface Server extends AutoCloseable {
        InetSocketAddress address();

        long pid();

        /**
         * Waits until the server has read every stream of the session from {@code client}.
         *
         * @return streams it reported short or failed
         */
        int awaitReceived(String client, int streams, long perStream, Duration timeout);

        /** @return the streams of the session from {@code client} it refused, once that session has ended */
        int refused(String client);

        @Override
        void close();
    }

    private Server startServer(Setup setup) throws IOException {
        if (server instanceof GoEnd g) {
            List<String> flags = new ArrayList<>(List.of("-version", "2", "-mode", "discard", "-no-hash", "-timeout", "30m"));
            flags.addAll(setup.goArgs());
            GoPeer peer = GoPeer.server(g.release(), flags.toArray(new String[0]));
            return new GoServer(peer);
        }
        JavaEnd j = (JavaEnd) server;
        List<String> cmd = new ArrayList<>(List.of(j.jdk().java().toString(), "-cp", cliClassPath(setup.cliTarget()), "smux.cli.Main",
                "serve", "--listen", "127.0.0.1:0", "--mode", "discard", "--transport", j.transport()));
        cmd.addAll(setup.serveArgs());
        return new ServeProcess(new ChildProcess(j.label() + " serve", cmd));
    }

    /** The command's jar and its dependencies, as {@code ./smux} runs it. */
    static String cliClassPath(Path cliTarget) {
        Path jar = cliTarget.resolve("smux-cli.jar");
        Path lib = cliTarget.resolve("lib");
        if (!Files.isRegularFile(jar) || !Files.isDirectory(lib)) {
            throw new IllegalStateException("the bench runs the real `smux serve`, but " + jar + " or " + lib + "/ is missing: build it "
                    + "in the same command (mvn -pl smux-it -am verify builds smux-cli first) or with mvn -pl smux-cli -am package "
                    + "-DskipTests");
        }
        return jar + java.io.File.pathSeparator + lib + "/*";
    }

    private static final class GoServer implements Server {
        private final GoPeer peer;

        GoServer(GoPeer peer) {
            this.peer = peer;
        }

        @Override
        public InetSocketAddress address() {
            return peer.address();
        }

        @Override
        public long pid() {
            return peer.pid();
        }

        @Override
        public int awaitReceived(String client, int streams, long perStream, Duration timeout) {
            Event session = peer.awaitEvent(e -> e.name().equals("session") && e.str("remote").equals(client), timeout,
                    "the session from " + client);
            List<StreamReport> got = peer.awaitStreams((int) session.num("session"), streams, timeout);
            return (int) got.stream().filter(r -> !r.err().isEmpty() || r.bytesIn() != perStream).count();
        }

        @Override
        public int refused(String client) {
            return 0; // a Go server takes every stream (it has no limit that refuses)
        }

        @Override
        public void close() {
            peer.close();
        }
    }

    /** {@code smux serve}: its address and its refusals come from its log (stderr). */
    private static final class ServeProcess implements Server {
        private static final Pattern LISTENING = Pattern.compile("listening on (\\S+):(\\d+) ");
        /** Every count of streams refused or shed in serve's line for the session's end (SessionServer.Refusals). */
        private static final Pattern REFUSED = Pattern.compile("(\\d+) stream\\(s\\) were (refused|shed)");
        private final ChildProcess process;
        private final InetSocketAddress address;

        ServeProcess(ChildProcess process) {
            this.process = process;
            try {
                String line = process.awaitStderr(l -> LISTENING.matcher(l).find(), Duration.ofSeconds(60), "listening line");
                Matcher m = LISTENING.matcher(line);
                m.find();
                this.address = new InetSocketAddress(m.group(1), Integer.parseInt(m.group(2)));
            } catch (RuntimeException | AssertionError e) {
                process.close();
                throw e;
            }
        }

        @Override
        public InetSocketAddress address() {
            return address;
        }

        @Override
        public long pid() {
            return process.pid();
        }

        @Override
        public int awaitReceived(String client, int streams, long perStream, Duration timeout) {
            return 0; // serve reports nothing per stream; the client knew each stream received by serve's FIN
        }

        @Override
        public int refused(String client) {
            String ended = process.awaitStderr(l -> l.contains("session from " + client + " ended"), Duration.ofSeconds(30),
                    "the log line of the session from " + client + " ending");
            Matcher m = REFUSED.matcher(ended);
            int n = 0;
            while (m.find()) {
                n += Integer.parseInt(m.group(1));
            }
            return n;
        }

        @Override
        public void close() {
            process.close(); // SIGTERM: serve drains (nothing is left) and exits
        }
    }

    // ------------------------------------------------------------------ clients

    /**
     * The client process of a run, waiting for its go-ahead.
     *
     * @param local the Go client's local address ("127.0.0.1:51234"); a Java client says it in its ready event
     */
    private record Client(ChildProcess process, String local) implements AutoCloseable {
        @Override
        public void close() {
            process.close();
        }
    }

    private Client startClient(Setup setup, InetSocketAddress target, int streams, long perStream) throws IOException {
        if (client instanceof GoEnd g) {
            List<String> flags = new ArrayList<>(List.of("-version", "2", "-mode", "discard", "-no-hash", "-streams", Integer.toString(streams),
                    "-bytes", Long.toString(perStream), "-timeout", "30m", "-watch-fin", "-hold"));
            if (g.release().halfClose) {
                flags.add("-half-close");
            }
            flags.addAll(setup.goArgs());
            GoPeer peer = GoPeer.client(g.release(), target, flags.toArray(new String[0]));
            return new Client(peer.child(), peer.startEvent().str("local"));
        }
        JavaEnd j = (JavaEnd) client;
        List<String> cmd = new ArrayList<>(List.of(j.jdk().java().toString(), "-cp", setup.testClassPath(), ThroughputClient.class.getName(),
                "--connect", target.getHostString() + ":" + target.getPort(), "--transport", j.transport(),
                "--streams", Integer.toString(streams), "--bytes", Long.toString(perStream),
                "--warmup-seconds", Long.toString(setup.warmup().toSeconds()), "--warmup-streams", Integer.toString(Math.min(streams, 100))));
        cmd.addAll(setup.clientArgs());
        return new Client(new ChildProcess(j.label() + " client", cmd), null);
    }

    /** A Go client writes into the Java server for the warm-up time, so its JIT has compiled the data path. */
    private void goWarmUp(Setup setup, InetSocketAddress target, int streams) throws IOException {
        List<String> flags = new ArrayList<>(List.of("-version", "2", "-mode", "discard", "-no-hash", "-streams", Integer.toString(streams),
                "-duration", setup.warmup().toMillis() + "ms", "-half-close"));
        flags.addAll(setup.goArgs());
        try (GoPeer warm = GoPeer.client(Release.V1_5_58, target, flags.toArray(new String[0]))) {
            warm.awaitExit(setup.warmup().plusSeconds(60)); // its figures do not matter, nor do refusals here
        }
    }
}
