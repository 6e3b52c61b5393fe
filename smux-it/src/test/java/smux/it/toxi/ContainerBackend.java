package smux.it.toxi;

import eu.rekawek.toxiproxy.Proxy;
import eu.rekawek.toxiproxy.ToxiproxyClient;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.Testcontainers;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.ToxiproxyContainer;
import org.testcontainers.containers.output.OutputFrame;
import org.testcontainers.utility.DockerImageName;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Toxiproxy in a container ({@value #IMAGE}) started by Testcontainers, for machines with a Docker engine.
 *
 * <p>Two things differ from the local backend, and {@link #createProxy} handles both:
 * <ul>
 *   <li>Proxies must listen on one of the ports the container publishes ({@code 8666..8697}, as
 *       {@link ToxiproxyContainer} exposes them); tests connect to the Docker host's mapped port for it.</li>
 *   <li>An upstream on this host's loopback is not reachable from inside the container: its port is
 *       published to containers with {@link Testcontainers#exposeHostPorts} and the proxy's upstream becomes
 *       {@value GenericContainer#INTERNAL_HOST_HOSTNAME}. The container is started with access to host
 *       ports so that ports exposed after its start still work.</li>
 * </ul>
 * The container's output goes to {@code target/toxiproxy/toxiproxy-container.log}.
 */
public final class ContainerBackend implements ToxiproxyBackend {

    static final String IMAGE = "ghcr.io/shopify/toxiproxy:" + TOXIPROXY_VERSION;

    /** The proxy ports {@link ToxiproxyContainer} publishes. */
    private static final int FIRST_PROXY_PORT = 8666;
    private static final int LAST_PROXY_PORT = 8697;

    private final ToxiproxyContainer container;
    private final ToxiproxyClient client;
    private final Set<Integer> exposedHostPorts = ConcurrentHashMap.newKeySet();
    private boolean closed;

    private ContainerBackend(ToxiproxyContainer container) {
        this.container = container;
        this.client = new ToxiproxyClient(container.getHost(), container.getControlPort());
    }

    /** Whether Testcontainers finds a usable Docker environment; false, not an exception, when it does not. */
    static boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | LinkageError e) {
            ToxiproxyServerBinary.log("Docker probe failed: " + e);
            return false;
        }
    }

    /** Pulls (if needed) and starts the container; Testcontainers waits until {@code /version} answers. */
    public static ContainerBackend start() {
        Path log = ToxiproxyServerBinary.workDirectory().resolve("toxiproxy-container.log");
        try {
            Files.createDirectories(log.getParent());
            Files.deleteIfExists(log);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        @SuppressWarnings("resource") // stopped by close(), which SharedToxiproxy runs at JVM exit
        ToxiproxyContainer container = new ToxiproxyContainer(DockerImageName.parse(IMAGE))
                .withAccessToHost(true)
                .withLogConsumer(frame -> appendFrame(log, frame));
        long started = System.nanoTime();
        container.start();
        ContainerBackend backend = new ContainerBackend(container);
        ToxiproxyServerBinary.log(String.format(java.util.Locale.ROOT, "%s ready in %.2f s",
                backend.description(), (System.nanoTime() - started) / 1e9));
        return backend;
    }

    private static void appendFrame(Path log, OutputFrame frame) {
        String text = frame.getUtf8String();
        if (text == null || text.isEmpty()) {
            return;
        }
        try {
            Files.writeString(log, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException ignored) {
            // the log is a debugging aid only
        }
    }

    @Override
    public ToxiproxyClient client() {
        return client;
    }

    @Override
    public String description() {
        return "container " + IMAGE + " (" + container.getContainerId() + ", API " + container.getHost() + ":"
                + container.getControlPort() + ")";
    }

    @Override
    public synchronized ProxyHandle createProxy(String name, String upstreamHost, int upstreamPort) throws IOException {
        String upstream;
        if (isThisHost(upstreamHost)) {
            if (exposedHostPorts.add(upstreamPort)) {
                Testcontainers.exposeHostPorts(upstreamPort);
            }
            upstream = ToxiproxyBackend.hostPort(GenericContainer.INTERNAL_HOST_HOSTNAME, upstreamPort);
        } else {
            upstream = ToxiproxyBackend.hostPort(upstreamHost, upstreamPort);
        }
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
