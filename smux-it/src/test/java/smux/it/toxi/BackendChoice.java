package smux.it.toxi;

import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Picks and starts the Toxiproxy backend, and says which in one line before starting it: the first line the
 * suite prints about Toxiproxy names the backend and why.
 *
 * <p>{@code auto} (the default) asks the cheap questions first, so that it never hangs: does a Docker engine
 * answer (milliseconds), is the image there or can it be pulled (bounded by Testcontainers' {@code pull.timeout},
 * 10 s in {@code testcontainers.properties}), can its containers reach this machine's loopback (host network on
 * a local Linux engine, the host gateway on Docker Desktop)? Yes to all: the container. Otherwise the local
 * binary, with the reason in that line. With {@value #REQUIRE_DOCKER_ENV} set (CI sets it after {@code container-setup.sh}),
 * {@code auto} fails instead of falling back, so a broken container set-up cannot pass unnoticed.
 */
final class BackendChoice {

    /** System property forcing the container's {@link ContainerBackend.Network}: {@code host}, {@code gateway} or {@code auto}. */
    static final String NETWORK_PROPERTY = "smux.toxiproxy.network";
    /** Environment variable: when {@code true}, {@code auto} must run the container. */
    static final String REQUIRE_DOCKER_ENV = "SMUX_IT_REQUIRE_DOCKER";

    private BackendChoice() {
    }

    /** The backend the system properties and the environment ask for, logged as the suite's own lines. */
    static ToxiproxyBackend fromEnvironment() {
        String mode = System.getProperty(ToxiproxyBackend.BACKEND_PROPERTY, "auto").trim().toLowerCase(Locale.ROOT);
        return start(mode, ContainerBackend.IMAGE, dockerRequired(), ToxiproxyServerBinary::log);
    }

    static boolean dockerRequired() {
        return "true".equalsIgnoreCase(String.valueOf(System.getenv(REQUIRE_DOCKER_ENV)).trim());
    }

    /**
     * Starts the backend {@code mode} names ({@code container}, {@code local}, {@code auto} or empty for auto).
     *
     * @param image the container image to run
     * @param dockerRequired whether {@code auto} must fail rather than fall back to the local binary
     * @param log where the choice line (and the fallback line, if any) goes
     */
    static ToxiproxyBackend start(String mode, String image, boolean dockerRequired, Consumer<String> log) {
        switch (mode) {
            case "local":
                log.accept("backend: local toxiproxy-server v" + ToxiproxyBackend.TOXIPROXY_VERSION
                        + " (forced by -D" + ToxiproxyBackend.BACKEND_PROPERTY + "=local)");
                return LocalBinaryBackend.start();
            case "container":
                return startContainer(image, "forced by -D" + ToxiproxyBackend.BACKEND_PROPERTY + "=container", log);
            case "auto":
            case "":
                return dockerRequired ? startContainer(image, "auto, " + REQUIRE_DOCKER_ENV + "=true", log)
                        : startAuto(image, log);
            default:
                throw new IllegalArgumentException("-D" + ToxiproxyBackend.BACKEND_PROPERTY + "=" + mode
                        + ": expected container, local or auto");
        }
    }

    /** The container or a failure saying what is missing and how to get it. */
    private static ToxiproxyBackend startContainer(String image, String why, Consumer<String> log) {
        StringBuilder noEngine = new StringBuilder();
        DockerEngine engine = DockerEngine.find(noEngine::append).orElseThrow(() -> new IllegalStateException(why
                + ", but no Docker engine answers (" + noEngine + "; Testcontainers' probe is in"
                + " target/smux-it-tests.log); smux-it/container-setup.sh installs and starts one"));
        Optional<String> missing = engine.obtain(image);
        if (missing.isPresent()) {
            throw new IllegalStateException(why + ", but image " + image + " cannot be had from the engine at "
                    + engine.describe() + ": " + missing.get() + "; smux-it/container-setup.sh builds it from"
                    + " Toxiproxy's Go module where no registry is reachable");
        }
        ContainerBackend.Network network = network(engine).orElseThrow(() -> new IllegalStateException(why
                + ", but " + unreachable(engine)));
        log.accept("backend: container " + image + ", " + network + " (" + why + "; engine " + engine.describe() + ")");
        engine.removeOrphans();
        return ContainerBackend.start(image, network);
    }

    private static ToxiproxyBackend startAuto(String image, Consumer<String> log) {
        StringBuilder noEngine = new StringBuilder();
        Optional<DockerEngine> found = DockerEngine.find(noEngine::append);
        if (found.isEmpty()) {
            log.accept("backend: local toxiproxy-server v" + ToxiproxyBackend.TOXIPROXY_VERSION + " (auto: no Docker"
                    + " engine answers: " + noEngine + "; Testcontainers' probe is in target/smux-it-tests.log)");
            return LocalBinaryBackend.start();
        }
        DockerEngine engine = found.get();
        Optional<String> missing = engine.obtain(image);
        if (missing.isPresent()) {
            log.accept("backend: local toxiproxy-server v" + ToxiproxyBackend.TOXIPROXY_VERSION + " (auto: the Docker"
                    + " engine at " + engine.describe() + " answers, but image " + image + " cannot be had: "
                    + missing.get() + ")");
            return LocalBinaryBackend.start();
        }
        Optional<ContainerBackend.Network> reaching = network(engine);
        if (reaching.isEmpty()) {
            log.accept("backend: local toxiproxy-server v" + ToxiproxyBackend.TOXIPROXY_VERSION + " (auto: "
                    + unreachable(engine) + ")");
            return LocalBinaryBackend.start();
        }
        ContainerBackend.Network network = reaching.get();
        log.accept("backend: container " + image + ", " + network + " (auto; engine " + engine.describe() + ")");
        try {
            engine.removeOrphans();
            return ContainerBackend.start(image, network);
        } catch (RuntimeException containerFailure) {
            // The image is there but the container did not come up. The local server is the same Toxiproxy
            // release, so use it rather than fail the run, and say so.
            log.accept("backend: local toxiproxy-server after all: the container did not start ("
                    + DockerEngine.rootMessage(containerFailure) + ")");
            try {
                return LocalBinaryBackend.start();
            } catch (RuntimeException localFailure) {
                localFailure.addSuppressed(containerFailure);
                throw localFailure;
            }
        }
    }

    /** {@value #NETWORK_PROPERTY} if set, else the engine's way to reach this machine's loopback, if any. */
    static Optional<ContainerBackend.Network> network(DockerEngine engine) {
        String forced = System.getProperty(NETWORK_PROPERTY, "auto").trim().toLowerCase(Locale.ROOT);
        switch (forced) {
            case "host":
                return Optional.of(ContainerBackend.Network.HOST);
            case "gateway":
                return Optional.of(ContainerBackend.Network.GATEWAY);
            case "auto":
            case "":
                return engine.networkReachingThisHost();
            default:
                throw new IllegalArgumentException("-D" + NETWORK_PROPERTY + "=" + forced
                        + ": expected host, gateway or auto");
        }
    }

    private static String unreachable(DockerEngine engine) {
        return "the Docker engine at " + engine.describe() + " runs its containers outside this machine's network"
                + " and is not Docker Desktop, so a proxy in a container cannot reach the tests' servers on this"
                + " machine's loopback (-D" + NETWORK_PROPERTY + "=host|gateway forces a way)";
    }
}
