package smux.it.toxi;

import eu.rekawek.toxiproxy.Proxy;
import eu.rekawek.toxiproxy.ToxiproxyClient;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * toxiproxy-server as a child process of the test JVM, on a free loopback port.
 *
 * <p>The executable comes from {@link ToxiproxyServerBinary} (built with Go on first use, then cached). The
 * server's output is appended to {@code target/toxiproxy/toxiproxy-server.log}; its pid is kept in
 * {@code target/toxiproxy/pids/} so that a server orphaned by a killed JVM is stopped by the next run
 * instead of piling up.
 *
 * <p>Proxies listen on {@code 127.0.0.1:0}: the server binds a free port itself and reports it back, so
 * there is no window in which another process can take a port we picked.
 */
public final class LocalBinaryBackend implements ToxiproxyBackend {

    private static final int START_ATTEMPTS = 5;
    private static final long READY_TIMEOUT_MILLIS = 30_000;
    /** toxiproxy-server logs this and keeps running when its API port is taken, so we watch for it. */
    private static final String LISTEN_FAILED = "Server finished with error";

    private final Path binary;
    private final Process process;
    private final int apiPort;
    private final Path log;
    private final ToxiproxyClient client;
    private boolean closed;

    private LocalBinaryBackend(Path binary, Process process, int apiPort, Path log) {
        this.binary = binary;
        this.process = process;
        this.apiPort = apiPort;
        this.log = log;
        this.client = new ToxiproxyClient("127.0.0.1", apiPort);
    }

    /** Builds or reuses the binary, then starts it and waits until its HTTP API answers. */
    public static LocalBinaryBackend start() {
        Path binary = ToxiproxyServerBinary.locateOrBuild();
        Path work = ToxiproxyServerBinary.workDirectory();
        Path log = work.resolve("toxiproxy-server.log");
        Path pidDir = work.resolve("pids");
        try {
            Files.createDirectories(pidDir);
            stopOrphans(pidDir, binary);
            IllegalStateException last = null;
            for (int attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
                try {
                    LocalBinaryBackend backend = launch(binary, log);
                    Files.writeString(pidDir.resolve(Long.toString(backend.process.pid())),
                            Long.toString(ProcessHandle.current().pid()), StandardCharsets.UTF_8);
                    return backend;
                } catch (PortTakenException e) {
                    last = e; // someone took the free port between our probe and the server's bind: pick another
                }
            }
            throw last;
        } catch (IOException e) {
            throw new UncheckedIOException("could not start " + binary, e);
        }
    }

    private static LocalBinaryBackend launch(Path binary, Path log) throws IOException {
        int port = freeLoopbackPort();
        long logOffset = Files.exists(log) ? Files.size(log) : 0;
        Files.writeString(log, System.lineSeparator() + "=== " + Instant.now() + " starting " + binary
                        + " -host 127.0.0.1 -port " + port + System.lineSeparator(), StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        ProcessBuilder builder = new ProcessBuilder(binary.toString(), "-host", "127.0.0.1", "-port",
                Integer.toString(port))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.PIPE);
        // Debug level logs each API request: awaitReady relies on that to know the answer came from us.
        builder.environment().put("LOG_LEVEL", "debug");
        long started = System.nanoTime();
        Process process = builder.start();
        try {
            awaitReady(process, port, log, logOffset);
        } catch (RuntimeException | Error e) {
            Processes.destroyTree(process);
            throw e;
        }
        LocalBinaryBackend backend = new LocalBinaryBackend(binary, process, port, log);
        ToxiproxyServerBinary.log(String.format(java.util.Locale.ROOT, "%s ready in %.2f s",
                backend.description(), (System.nanoTime() - started) / 1e9));
        return backend;
    }

    /**
     * Polls until the API answers {@code GET /version}. The request carries a random marker that the server
     * writes to its log, which proves the answer came from the process we started and not from whatever
     * else may have grabbed the port.
     */
    private static void awaitReady(Process process, int port, Path log, long logOffset) throws IOException {
        String marker = "smux-it-ready-" + UUID.randomUUID();
        URL url = new URL("http://127.0.0.1:" + port + "/version?probe=" + marker);
        long deadline = System.nanoTime() + READY_TIMEOUT_MILLIS * 1_000_000;
        boolean answered = false;
        while (System.nanoTime() < deadline) {
            String output = readFrom(log, logOffset);
            if (output.contains(LISTEN_FAILED)) {
                throw new PortTakenException("toxiproxy-server could not listen on 127.0.0.1:" + port + ":\n" + output);
            }
            if (!process.isAlive()) {
                throw new IllegalStateException("toxiproxy-server exited with " + process.exitValue()
                        + " before its API answered; its output (" + log + "):\n" + output);
            }
            answered = answered || versionAnswers(url);
            if (answered && readFrom(log, logOffset).contains(marker)) {
                return;
            }
            pause();
        }
        throw new IllegalStateException("toxiproxy-server did not answer on 127.0.0.1:" + port + " within "
                + READY_TIMEOUT_MILLIS + " ms; its output (" + log + "):\n" + readFrom(log, logOffset));
    }

    private static boolean versionAnswers(URL url) {
        try {
            HttpURLConnection connection = (HttpURLConnection) url.openConnection();
            connection.setConnectTimeout(1_000);
            connection.setReadTimeout(2_000);
            try {
                if (connection.getResponseCode() != 200) {
                    return false;
                }
                try (InputStream in = connection.getInputStream()) {
                    in.readAllBytes();
                }
                return true;
            } finally {
                connection.disconnect();
            }
        } catch (IOException notYet) {
            return false;
        }
    }

    private static String readFrom(Path log, long offset) throws IOException {
        byte[] all = Files.readAllBytes(log);
        return offset >= all.length ? "" : new String(all, (int) offset, all.length - (int) offset,
                StandardCharsets.UTF_8);
    }

    private static void pause() {
        try {
            Thread.sleep(20); // bounded poll interval of awaitReady, not synchronisation on an event
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for toxiproxy-server", e);
        }
    }

    private static int freeLoopbackPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /**
     * Stops servers left running by JVMs that died without running their shutdown hook (kill -9, a crashed
     * fork). Each server has a file {@code pids/<server pid>} naming the JVM that owns it; a server is stopped
     * only when that JVM is gone and the pid still belongs to our binary (pids get reused), so concurrent
     * test JVMs sharing this target directory leave each other's servers alone.
     */
    private static void stopOrphans(Path pidDir, Path binary) throws IOException {
        if (!Files.isDirectory(pidDir)) {
            return;
        }
        List<Path> files;
        try (Stream<Path> list = Files.list(pidDir)) {
            files = list.collect(Collectors.toList());
        }
        for (Path file : files) {
            long serverPid;
            long ownerPid;
            try {
                serverPid = Long.parseLong(file.getFileName().toString());
                ownerPid = Long.parseLong(Files.readString(file, StandardCharsets.UTF_8).trim());
            } catch (NumberFormatException | IOException e) {
                Files.deleteIfExists(file);
                continue;
            }
            if (ProcessHandle.of(ownerPid).filter(ProcessHandle::isAlive).isPresent()) {
                continue;
            }
            Optional<ProcessHandle> orphan = ProcessHandle.of(serverPid)
                    .filter(ProcessHandle::isAlive)
                    .filter(h -> h.info().command().map(c -> Path.of(c).equals(binary)).orElse(false));
            if (orphan.isPresent()) {
                ToxiproxyServerBinary.log("stopping toxiproxy-server " + serverPid + " left over by dead JVM " + ownerPid);
                Processes.destroyTree(orphan.get());
            }
            Files.deleteIfExists(file);
        }
    }

    @Override
    public ToxiproxyClient client() {
        return client;
    }

    @Override
    public String description() {
        return "local toxiproxy-server v" + TOXIPROXY_VERSION + " (pid " + process.pid() + ", API 127.0.0.1:"
                + apiPort + ", binary " + binary + ", log " + log + ")";
    }

    @Override
    public ProxyHandle createProxy(String name, String upstreamHost, int upstreamPort) throws IOException {
        Proxy proxy = client.createProxy(name, "127.0.0.1:0", ToxiproxyBackend.hostPort(upstreamHost, upstreamPort));
        return new ProxyHandle(proxy, ToxiproxyBackend.parseHostPort(proxy.getListen()));
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Processes.destroyTree(process);
        try {
            Files.deleteIfExists(ToxiproxyServerBinary.workDirectory().resolve("pids")
                    .resolve(Long.toString(process.pid())));
        } catch (IOException ignored) {
            // only bookkeeping for orphan detection
        }
    }

    /** The API port was taken by another process before toxiproxy-server could bind it. */
    private static final class PortTakenException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        PortTakenException(String message) {
            super(message);
        }
    }
}
