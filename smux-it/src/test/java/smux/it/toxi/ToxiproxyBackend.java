package smux.it.toxi;

import eu.rekawek.toxiproxy.Proxy;
import eu.rekawek.toxiproxy.ToxiproxyClient;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;

/**
 * A running real Toxiproxy server (toxiproxy-server v{@value #TOXIPROXY_VERSION}) that tests drive through
 * toxiproxy-java.
 *
 * <p>Tests do not create backends themselves: they use the one shared per JVM, through
 * {@link ToxiproxyExtension} or {@link SharedToxiproxy#backend()}. Two implementations exist, chosen by
 * {@link #start()}:
 * <ul>
 *   <li>{@link ContainerBackend}: Toxiproxy in a Testcontainers container, when a Docker engine answers and the
 *       image is there (on the project's machines, {@code smux-it/container-setup.sh} builds it);</li>
 *   <li>{@link LocalBinaryBackend}: a toxiproxy-server process built from its Go module with the local
 *       Go toolchain (once, then cached under {@code smux-it/target/toxiproxy/}).</li>
 * </ul>
 *
 * <p>Proxies must be made with {@link #createProxy(String, String, int)}, not with
 * {@code client().createProxy(..)}: only the backend knows which listen address is reachable from the
 * tests and how the server reaches an upstream on this host.
 */
public interface ToxiproxyBackend extends AutoCloseable {

    /** The Toxiproxy release both backends run (image tag and Go module tag). */
    String TOXIPROXY_VERSION = "2.12.0";

    /** System property forcing a backend: {@code container}, {@code local} or {@code auto} (the default). */
    String BACKEND_PROPERTY = "smux.toxiproxy";

    /** A client for this server's HTTP API: toxics, proxy enable/disable, listing. */
    ToxiproxyClient client();

    /** Which backend, in a few words for the per-class log line: "container, host network (image)", "local toxiproxy-server v2.12.0". */
    String kind();

    /** One line for logs and failure messages: which backend, which version, where. */
    String description();

    /**
     * Creates a proxy named {@code name} in front of {@code upstreamHost:upstreamPort}, listening on a port
     * of the backend's choosing, and returns it with the address a test connects to.
     *
     * @param upstreamHost a host as seen from this JVM; loopback addresses (a server the test started on
     *     127.0.0.1) are made reachable from the Toxiproxy server by the backend
     */
    ProxyHandle createProxy(String name, String upstreamHost, int upstreamPort) throws IOException;

    /** Same as {@link #createProxy(String, String, int)} for an already built address. */
    default ProxyHandle createProxy(String name, InetSocketAddress upstream) throws IOException {
        String host = upstream.getAddress() != null ? upstream.getAddress().getHostAddress() : upstream.getHostString();
        return createProxy(name, host, upstream.getPort());
    }

    /**
     * Deletes every proxy on the server (which also removes their toxics and closes their connections),
     * so the next test starts from an empty server. {@link ToxiproxyExtension} calls it around each test.
     */
    default void deleteAllProxies() throws IOException {
        for (Proxy proxy : client().getProxies()) {
            proxy.delete();
        }
    }

    /** Stops the server (container or process tree). Idempotent. */
    @Override
    void close();

    /**
     * Starts a backend: the one forced by {@value #BACKEND_PROPERTY}; else ({@code auto}) a container when a
     * Docker engine answers and the image is there or can be pulled within seconds, and the local binary
     * otherwise, saying why. A forced backend that cannot run fails; so does {@code auto} when neither can, or
     * when the environment requires Docker. Never skips. See {@link BackendChoice}.
     */
    static ToxiproxyBackend start() {
        return BackendChoice.fromEnvironment();
    }

    /** {@code host:port}, with brackets around an IPv6 literal, as Toxiproxy's listen/upstream fields want. */
    static String hostPort(String host, int port) {
        return (host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port;
    }

    /** Parses a Toxiproxy {@code host:port} (IPv6 in brackets) into an unresolved-safe socket address. */
    static InetSocketAddress parseHostPort(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0) {
            throw new UncheckedIOException(new IOException("not host:port: " + hostPort));
        }
        String host = hostPort.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new InetSocketAddress(host, Integer.parseInt(hostPort.substring(colon + 1)));
    }
}
