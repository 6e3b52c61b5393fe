package smux.it.toxi;

import eu.rekawek.toxiproxy.Proxy;
import eu.rekawek.toxiproxy.ToxiproxyClient;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
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
                } catch (ApiReadiness.PortTakenException e) {
                    last = e; // someone took the free port between our probe and the server's bind: pick another
                }
            }
            throw last;
        } catch (IOException e) {
            throw new UncheckedIOException("could not start " + binary, e);
        }
    }

    private static LocalBinaryBackend launch(Path binary, Path log) throws IOException {
        int port = ApiReadiness.freeLoopbackPort();
        long logOffset = Files.exists(log) ? Files.size(log) : 0;
        Files.writeString(log, System.lineSeparator() + "=== " + Instant.now() + " starting " + binary
                        + " -host 127.0.0.1 -port " + port + System.lineSeparator(), StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        ProcessBuilder builder = new ProcessBuilder(binary.toString(), "-host", "127.0.0.1", "-port",
                Integer.toString(port))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.PIPE);
        // Debug level logs each API request: ApiReadiness relies on that to know the answer came from us.
        builder.environment().put("LOG_LEVEL", "debug");
        long started = System.nanoTime();
        Process process = builder.start();
        try {
            ApiReadiness.await("toxiproxy-server", port, log, logOffset, process::isAlive,
                    () -> "exited with " + process.exitValue());
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
    public String kind() {
        return "local toxiproxy-server v" + TOXIPROXY_VERSION;
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
}
