package smux.it.toxi;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.Info;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.images.RemoteDockerImage;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.TestcontainersConfiguration;

import java.net.InetAddress;
import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * What the container backend needs to know about the Docker engine Testcontainers finds, asked before anything
 * slow happens, so that the backend choice is made (and logged) first.
 *
 * <ul>
 *   <li>whether an engine answers at all ({@link #find});</li>
 *   <li>how its containers can reach the tests' servers on this machine's loopback, if at all
 *       ({@link #networkReachingThisHost()});</li>
 *   <li>whether the image can be had ({@link #obtain}): present, or pulled within Testcontainers'
 *       {@code pull.timeout} (set low in {@code testcontainers.properties}, so a machine without a registry
 *       learns it in seconds);</li>
 *   <li>containers left behind by a JVM that died before its shutdown hook ({@link #removeOrphans()}): with
 *       Ryuk disabled nothing else removes them.</li>
 * </ul>
 */
final class DockerEngine {

    /** Label on every container this suite starts: {@code <hostname>/<pid of the JVM that owns it>}. */
    static final String OWNER_LABEL = "smux-it.toxiproxy.owner";

    private final DockerClient client;
    private final URI dockerHost;
    private final Info info;

    private DockerEngine(DockerClient client, URI dockerHost, Info info) {
        this.client = client;
        this.dockerHost = dockerHost;
        this.info = info;
    }

    /**
     * The engine Testcontainers finds, or empty when none answers; then {@code whyNot} gets Testcontainers'
     * reason (its probe of each way to reach an engine is in target/smux-it-tests.log).
     */
    static Optional<DockerEngine> find(Consumer<String> whyNot) {
        try {
            DockerClientFactory factory = DockerClientFactory.instance();
            DockerClient client = factory.client(); // throws, with the reason, where isDockerAvailable() says false
            return Optional.of(new DockerEngine(client, factory.getTransportConfig().getDockerHost(), factory.getInfo()));
        } catch (RuntimeException | LinkageError e) {
            whyNot.accept(rootMessage(e));
            return Optional.empty();
        }
    }

    /**
     * How a Toxiproxy container on this engine can reach the tests' servers, which listen on this machine's
     * loopback; empty when it cannot.
     * <ul>
     *   <li>{@link ContainerBackend.Network#HOST}: the engine runs containers in this machine's own network
     *       stack: a rootful engine on this Linux machine (reached over a unix socket, and named as this host
     *       is, which a socket mounted in from an outer host is not);</li>
     *   <li>{@link ContainerBackend.Network#GATEWAY}: Docker Desktop, whose {@code host.docker.internal} leads to
     *       this machine's loopback;</li>
     *   <li>none: a remote engine, a rootless one (its own network namespace), or an outer host's engine seen
     *       from inside a container: their host gateway is not this machine's loopback.</li>
     * </ul>
     */
    Optional<ContainerBackend.Network> networkReachingThisHost() {
        if (String.valueOf(info.getOperatingSystem()).contains("Docker Desktop")) {
            return Optional.of(ContainerBackend.Network.GATEWAY);
        }
        boolean linuxHere = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux");
        boolean unixSocket = "unix".equals(dockerHost.getScheme());
        List<String> security = info.getSecurityOptions();
        boolean rootless = security != null && security.stream().anyMatch(s -> s.contains("rootless"));
        boolean sameHost = hostname().equals(info.getName());
        return linuxHere && unixSocket && !rootless && sameHost && "linux".equals(info.getOsType())
                ? Optional.of(ContainerBackend.Network.HOST) : Optional.empty();
    }

    /** One line: where the engine is and what it is. */
    String describe() {
        return dockerHost + " (" + info.getOperatingSystem() + ", host " + info.getName() + ", engine "
                + info.getServerVersion() + ")";
    }

    /**
     * Makes sure {@code image} is present: already there, or pulled now (Testcontainers' pull, bounded by its
     * {@code pull.timeout}). Returns why it cannot be had, or empty when it is there.
     */
    Optional<String> obtain(String image) {
        try {
            new RemoteDockerImage(DockerImageName.parse(image)).get();
            return Optional.empty();
        } catch (Exception e) {
            if (!rootMessage(e).startsWith("ConditionTimeoutException")) {
                return Optional.of(rootMessage(e)); // a failure Testcontainers does not retry, e.g. no such tag
            }
            // Testcontainers retried until pull.timeout and kept each attempt's error to its own log; one more
            // attempt, bounded, tells the reader why in the same line.
            return Optional.of("no pull succeeded within Testcontainers' pull.timeout ("
                    + TestcontainersConfiguration.getInstance().getImagePullTimeout() + " s); one more says: "
                    + pullOnce(DockerImageName.parse(image)));
        }
    }

    private String pullOnce(DockerImageName image) {
        try {
            boolean done = client.pullImageCmd(image.getUnversionedPart()).withTag(image.getVersionPart())
                    .start().awaitCompletion(3, TimeUnit.SECONDS);
            return done ? "pulled now" : "no answer within 3 s";
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return rootMessage(e);
        }
    }

    /**
     * Removes the suite's containers whose owning JVM on this host is gone (killed before its shutdown hook
     * ran). Containers of live JVMs, and of other hosts sharing a remote engine, are left alone.
     */
    void removeOrphans() {
        String here = hostname();
        List<Container> ours = client.listContainersCmd().withShowAll(true)
                .withLabelFilter(List.of(OWNER_LABEL)).exec();
        for (Container container : ours) {
            String owner = container.getLabels() == null ? null : container.getLabels().get(OWNER_LABEL);
            int slash = owner == null ? -1 : owner.lastIndexOf('/');
            if (slash < 0 || !owner.substring(0, slash).equals(here)) {
                continue;
            }
            long pid;
            try {
                pid = Long.parseLong(owner.substring(slash + 1));
            } catch (NumberFormatException e) {
                continue;
            }
            if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                continue;
            }
            ToxiproxyServerBinary.log("removing container " + container.getId().substring(0, 12)
                    + " left over by dead JVM " + pid);
            try {
                client.removeContainerCmd(container.getId()).withForce(true).withRemoveVolumes(true).exec();
            } catch (RuntimeException e) {
                ToxiproxyServerBinary.log("could not remove container " + container.getId() + ": " + e);
            }
        }
    }

    /** This JVM as the owner label names it. */
    static String owner() {
        return hostname() + "/" + ProcessHandle.current().pid();
    }

    private static String hostname() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "unknown-host";
        }
    }

    /** The innermost message of a failure, on one line: what a reader needs to know why. */
    static String rootMessage(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage() == null ? root.getClass().getSimpleName()
                : root.getClass().getSimpleName() + ": " + root.getMessage();
        return message.replaceAll("\\s+", " ").trim();
    }
}
