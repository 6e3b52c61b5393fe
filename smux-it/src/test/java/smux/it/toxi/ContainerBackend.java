package smux.it.toxi;

import eu.rekawek.toxiproxy.Proxy;
import eu.rekawek.toxiproxy.ToxiproxyClient;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.output.OutputFrame;
import org.testcontainers.containers.wait.strategy.AbstractWaitStrategy;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Toxiproxy in a container (the image {@value #IMAGE}) started by Testcontainers, with no tunnel in the data
 * path: the bytes a test sends cross only Toxiproxy, as with the local binary, so throughput-sensitive tests
 * measure smux and not a relay. (Testcontainers' {@code withAccessToHost} would carry them through an SSH tunnel
 * of a few MB/s, which capped every tuned window; see docs/RELIABILITY.md.)
 *
 * <p>Two ways to reach the test's servers on this host, {@link Network}: the host's own network stack when the
 * engine shares it (a local Linux engine), else the engine's host gateway with the proxy ports published
 * (Docker Desktop, a remote engine). {@link BackendChoice} picks one. The container's output goes to
 * {@code target/toxiproxy/toxiproxy-container.log}; the container is removed by {@link #close()}, which
 * {@link SharedToxiproxy} runs at JVM exit (Ryuk is disabled: see the smux-it pom).
 */
public final class ContainerBackend implements ToxiproxyBackend {

    /** The image Testcontainers asks for; {@code smux-it/container-setup.sh} builds it where no registry is reachable. */
    static final String IMAGE = "ghcr.io/shopify/toxiproxy:" + TOXIPROXY_VERSION;

    /** How the container reaches upstreams on this host, and how tests reach its proxies. */
    public enum Network {
        /**
         * {@code --network host}: Toxiproxy listens on this host's loopback and reaches the test's servers
         * there directly, like the local binary. Needs an engine that shares this host's network stack.
         */
        HOST("host network"),
        /**
         * The container's own network: an upstream on this host's loopback is reached as
         * {@value #HOST_GATEWAY_NAME} (Docker Desktop provides it; on a Linux engine it is mapped to
         * {@code host-gateway}), and the proxy ports {@code 8666..8697} are published for the tests. A Linux
         * engine's gateway reaches only servers listening on all interfaces, not on 127.0.0.1 as the tests'
         * servers do: there, use {@link #HOST}.
         */
        GATEWAY("host gateway");

        private final String label;

        Network(String label) {
            this.label = label;
        }

        @Override
        public String toString() {
            return label;
        }
    }

    static final String HOST_GATEWAY_NAME = "host.docker.internal";
    private static final int CONTROL_PORT = 8474;
    /** The proxy ports the {@link Network#GATEWAY} container publishes (as Testcontainers' ToxiproxyContainer does). */
    private static final int FIRST_PROXY_PORT = 8666;
    private static final int LAST_PROXY_PORT = 8697;
    private static final int START_ATTEMPTS = 5;

    private final GenericContainer<?> container;
    private final String image;
    private final Network network;
    private final String apiHost;
    private final int apiPort;
    private final ToxiproxyClient client;
    private boolean closed;

    private ContainerBackend(GenericContainer<?> container, String image, Network network, String apiHost, int apiPort) {
        this.container = container;
        this.image = image;
        this.network = network;
        this.apiHost = apiHost;
        this.apiPort = apiPort;
        this.client = new ToxiproxyClient(apiHost, apiPort);
    }

    /** Starts a container of {@code image} (already present: see {@link DockerEngine#obtain}) and waits for its API. */
    static ContainerBackend start(String image, Network network) {
        Path log = ToxiproxyServerBinary.workDirectory().resolve("toxiproxy-container.log");
        try {
            Files.createDirectories(log.getParent());
            long started = System.nanoTime();
            ContainerBackend backend = network == Network.HOST ? startOnHostNetwork(image, log)
                    : startBehindGateway(image, log);
            ToxiproxyServerBinary.log(String.format(Locale.ROOT, "%s ready in %.2f s", backend.description(),
                    (System.nanoTime() - started) / 1e9));
            return backend;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ContainerBackend startOnHostNetwork(String image, Path log) throws IOException {
        IllegalStateException last = null;
        for (int attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
            int port = ApiReadiness.freeLoopbackPort();
            long logOffset = beginLog(log, image + " -host 127.0.0.1 -port " + port + ", host network");
            GenericContainer<?> container = newContainer(image, log)
                    .withNetworkMode("host")
                    .withCommand("-host", "127.0.0.1", "-port", Integer.toString(port))
                    // Debug level logs each API request: ApiReadiness relies on that to know the answer came from us.
                    .withEnv("LOG_LEVEL", "debug")
                    .waitingFor(new ReadinessCheckedByCaller());
            try {
                container.start();
                ApiReadiness.await("the Toxiproxy container", port, log, logOffset, container::isRunning,
                        () -> "stopped");
                return new ContainerBackend(container, image, Network.HOST, "127.0.0.1", port);
            } catch (ApiReadiness.PortTakenException e) {
                container.stop();
                last = e; // someone took the free port between our probe and the server's bind: pick another
            } catch (RuntimeException | Error e) {
                container.stop(); // without Ryuk, nothing else would remove a container that failed to start
                throw e;
            }
        }
        throw last;
    }

    private static ContainerBackend startBehindGateway(String image, Path log) throws IOException {
        beginLog(log, image + ", published ports, " + HOST_GATEWAY_NAME + " = host-gateway");
        GenericContainer<?> container = newContainer(image, log)
                .withCommand("-host=0.0.0.0")
                .withExtraHost(HOST_GATEWAY_NAME, "host-gateway")
                .waitingFor(Wait.forHttp("/version").forPort(CONTROL_PORT));
        container.addExposedPort(CONTROL_PORT);
        for (int port = FIRST_PROXY_PORT; port <= LAST_PROXY_PORT; port++) {
            container.addExposedPort(port);
        }
        try {
            container.start();
        } catch (RuntimeException | Error e) {
            container.stop();
            throw e;
        }
        return new ContainerBackend(container, image, Network.GATEWAY, container.getHost(),
                container.getMappedPort(CONTROL_PORT));
    }

    @SuppressWarnings("resource") // stopped by close(), or by the caller when it fails to start
    private static GenericContainer<?> newContainer(String image, Path log) {
        return new GenericContainer<>(DockerImageName.parse(image))
                .withLabel(DockerEngine.OWNER_LABEL, DockerEngine.owner())
                .withLogConsumer(frame -> appendFrame(log, frame))
                .withStartupTimeout(Duration.ofSeconds(30));
    }

    /** Starts a new section of the log; returns where it begins. */
    private static long beginLog(Path log, String what) throws IOException {
        long offset = Files.exists(log) ? Files.size(log) : 0;
        Files.writeString(log, System.lineSeparator() + "=== " + Instant.now() + " starting " + what
                + System.lineSeparator(), StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        return offset;
    }

    private static void appendFrame(Path log, OutputFrame frame) {
        String text = frame.getUtf8String();
        if (text == null || text.isEmpty()) {
            return;
        }
        try {
            Files.writeString(log, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException ignored) {
            // the log is a debugging aid, except for ApiReadiness's marker, whose absence fails the start loudly
        }
    }

    /** The host network container has no published port to wait on: {@link ApiReadiness} waits after start(). */
    private static final class ReadinessCheckedByCaller extends AbstractWaitStrategy {
        @Override
        protected void waitUntilReady() {
        }
    }

    @Override
    public ToxiproxyClient client() {
        return client;
    }

    @Override
    public String kind() {
        return "container, " + network + " (" + image + ")";
    }

    @Override
    public String description() {
        return "container " + image + ", " + network + " (" + shortId() + ", API " + apiHost + ":" + apiPort + ")";
    }

    private String shortId() {
        String id = container.getContainerId();
        return id == null ? "no id" : id.substring(0, Math.min(12, id.length()));
    }

    @Override
    public synchronized ProxyHandle createProxy(String name, String upstreamHost, int upstreamPort) throws IOException {
        if (network == Network.HOST) {
            Proxy proxy = client.createProxy(name, "127.0.0.1:0", ToxiproxyBackend.hostPort(upstreamHost, upstreamPort));
            return new ProxyHandle(proxy, ToxiproxyBackend.parseHostPort(proxy.getListen()));
        }
        String upstream = ToxiproxyBackend.hostPort(isThisHost(upstreamHost) ? HOST_GATEWAY_NAME : upstreamHost,
                upstreamPort);
        int listenPort = freeProxyPort();
        Proxy proxy = client.createProxy(name, "0.0.0.0:" + listenPort, upstream);
        return new ProxyHandle(proxy, new InetSocketAddress(container.getHost(), container.getMappedPort(listenPort)));
    }

    /** The first published port no proxy listens on; asks the server, so proxies made elsewhere count too. */
    private int freeProxyPort() throws IOException {
        Set<Integer> used = new HashSet<>();
        for (Proxy proxy : client.getProxies()) {
            used.add(ToxiproxyBackend.parseHostPort(proxy.getListen()).getPort());
        }
        for (int port = FIRST_PROXY_PORT; port <= LAST_PROXY_PORT; port++) {
            if (!used.contains(port)) {
                return port;
            }
        }
        throw new IllegalStateException("all " + (LAST_PROXY_PORT - FIRST_PROXY_PORT + 1)
                + " published proxy ports of the Toxiproxy container are in use; delete proxies a test no longer needs");
    }

    private static boolean isThisHost(String host) {
        try {
            InetAddress address = InetAddress.getByName(host);
            return address.isLoopbackAddress() || address.isAnyLocalAddress();
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            container.stop();
        }
    }
}
