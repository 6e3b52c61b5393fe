package smux.it.toxi;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Finds the toxiproxy-server executable for {@link LocalBinaryBackend}, building it from source the first
 * time: the local binary is the backend wherever the container cannot run (no Docker engine, or no way to get
 * the image: nothing outside the package registries can be downloaded on the project's machines), and the Go
 * module proxy serves Toxiproxy's source, so {@code go install} of the pinned module tag gives the real server.
 * ({@code smux-it/container-setup.sh} builds the container image from the same module, the same way.)
 *
 * <p>Where the executable comes from, first match wins:
 * <ol>
 *   <li>{@code -Dsmux.toxiproxy.server=/path/to/toxiproxy-server}: an existing binary, used as is;</li>
 *   <li>the cache {@code smux-it/target/toxiproxy/v<version>/toxiproxy-server} from an earlier build;</li>
 *   <li>a fresh build with {@code go install github.com/Shopify/toxiproxy/v2/cmd/server@v<version>} into a
 *       scratch {@code GOBIN}, then moved into the cache. The Go output goes to
 *       {@code target/toxiproxy/go-build.log}.</li>
 * </ol>
 * A file lock serialises builds between JVMs sharing the target directory.
 */
final class ToxiproxyServerBinary {

    static final String SERVER_PROPERTY = "smux.toxiproxy.server";
    static final String GO_PROPERTY = "smux.go";
    static final String BUILD_DIR_PROPERTY = "smux.it.buildDir";

    static final String GO_MODULE = "github.com/Shopify/toxiproxy/v2";
    static final String GO_PACKAGE = GO_MODULE + "/cmd/server";

    /** Bounds a build that hangs (e.g. an unreachable module proxy) so the run fails instead of waiting. */
    private static final long BUILD_TIMEOUT_MINUTES = 15;

    private static final boolean WINDOWS =
            System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows");

    private ToxiproxyServerBinary() {
    }

    /** {@code smux-it/target}, passed by the pom; a relative {@code target} when run some other way. */
    static Path buildDirectory() {
        String configured = System.getProperty(BUILD_DIR_PROPERTY);
        return (configured != null && !configured.isBlank() ? Path.of(configured) : Path.of("target"))
                .toAbsolutePath().normalize();
    }

    /** {@code target/toxiproxy}: the cached binary, the build and server logs, the server's pid file. */
    static Path workDirectory() {
        return buildDirectory().resolve("toxiproxy");
    }

    static Path cachedBinary() {
        return workDirectory().resolve("v" + ToxiproxyBackend.TOXIPROXY_VERSION)
                .resolve(WINDOWS ? "toxiproxy-server.exe" : "toxiproxy-server");
    }

    /** The executable to run, building it first if neither the property nor the cache provides one. */
    static synchronized Path locateOrBuild() { // in one JVM the file lock would throw, not wait
        String configured = System.getProperty(SERVER_PROPERTY);
        if (configured != null && !configured.isBlank()) {
            Path binary = Path.of(configured).toAbsolutePath();
            if (!Files.isExecutable(binary)) {
                throw new IllegalStateException("-D" + SERVER_PROPERTY + "=" + configured + " is not an executable file");
            }
            return binary;
        }
        Path cached = cachedBinary();
        if (Files.isExecutable(cached)) {
            return cached;
        }
        Optional<Path> go = findGo();
        if (go.isEmpty()) {
            throw new IllegalStateException(missingToolsMessage());
        }
        try {
            Files.createDirectories(workDirectory());
            try (FileChannel lockChannel = FileChannel.open(workDirectory().resolve(".build.lock"),
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = lockChannel.lock()) {
                if (Files.isExecutable(cached)) {
                    return cached; // another JVM built it while we waited for the lock
                }
                build(go.get(), cached);
                return cached;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not build toxiproxy-server in " + workDirectory(), e);
        }
    }

    static String missingToolsMessage() {
        boolean forcedLocal = "local".equalsIgnoreCase(System.getProperty(ToxiproxyBackend.BACKEND_PROPERTY, "").trim());
        String docker = forcedLocal ? "-D" + ToxiproxyBackend.BACKEND_PROPERTY + "=local (Docker not tried)"
                : "the container backend cannot run (no Docker engine, or no Toxiproxy image)";
        return "Toxiproxy cannot run: " + docker + ", no `go` on PATH, and no cached " + cachedBinary()
                + ". Install Go 1.23+ (toxiproxy v"
                + ToxiproxyBackend.TOXIPROXY_VERSION + "'s go.mod needs go 1.23; an older Go 1.21+ with the default"
                + " GOTOOLCHAIN=auto fetches it) and make sure the Go module proxy is reachable, so the tests can build"
                + " toxiproxy-server themselves; or run smux-it/container-setup.sh (Docker and the image); or pass -D" + SERVER_PROPERTY
                + "=/path/to/toxiproxy-server (v" + ToxiproxyBackend.TOXIPROXY_VERSION + ").";
    }

    /** The {@code go} command: {@code -Dsmux.go}, else the first on PATH, else {@code $GOROOT/bin}. */
    static Optional<Path> findGo() {
        String exe = WINDOWS ? "go.exe" : "go";
        String configured = System.getProperty(GO_PROPERTY);
        if (configured != null && !configured.isBlank()) {
            Path go = Path.of(configured);
            return Files.isExecutable(go) ? Optional.of(go.toAbsolutePath()) : Optional.empty();
        }
        List<Path> candidates = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(File.pathSeparator)) {
                if (!dir.isBlank()) {
                    candidates.add(Path.of(dir, exe));
                }
            }
        }
        String goroot = System.getenv("GOROOT");
        if (goroot != null && !goroot.isBlank()) {
            candidates.add(Path.of(goroot, "bin", exe));
        }
        return candidates.stream().filter(Files::isExecutable).findFirst().map(Path::toAbsolutePath);
    }

    private static void build(Path go, Path target) throws IOException {
        Path work = workDirectory();
        Path log = work.resolve("go-build.log");
        Path gobin = Files.createTempDirectory(work, "gobin-");
        String moduleVersion = "v" + ToxiproxyBackend.TOXIPROXY_VERSION;
        List<String> command = List.of(go.toString(), "install", "-trimpath",
                // what Toxiproxy's own release build stamps, so GET /version answers the real version
                "-ldflags=-s -w -X " + GO_MODULE + ".Version=" + ToxiproxyBackend.TOXIPROXY_VERSION,
                GO_PACKAGE + "@" + moduleVersion);
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(work.toFile())
                .redirectErrorStream(true);
        Map<String, String> env = builder.environment();
        env.put("GOBIN", gobin.toString());
        env.put("CGO_ENABLED", "0");   // no C compiler needed, a static binary
        env.put("GO111MODULE", "on");
        env.put("GOWORK", "off");      // a go.work above target/ must not take part
        if (!WINDOWS && System.getenv("HOME") == null && System.getenv("GOCACHE") == null
                && System.getenv("XDG_CACHE_HOME") == null) {
            // go refuses to run without a cache directory; CI without HOME still gets one
            env.put("GOCACHE", work.resolve("go-cache").toString());
            env.putIfAbsent("GOPATH", work.resolve("go-path").toString());
        }
        Files.writeString(log, "$ " + String.join(" ", command) + System.lineSeparator(), StandardCharsets.UTF_8);
        builder.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));

        log("building toxiproxy-server " + moduleVersion + " from " + GO_MODULE + " with " + goVersion(go)
                + " (first use; cached afterwards in " + target.getParent() + ")");
        long started = System.nanoTime();
        Process process = builder.start();
        try {
            boolean finished = process.waitFor(BUILD_TIMEOUT_MINUTES, TimeUnit.MINUTES);
            if (!finished) {
                Processes.destroyTree(process);
                throw new IllegalStateException("`go install " + GO_PACKAGE + "@" + moduleVersion + "` did not finish in "
                        + BUILD_TIMEOUT_MINUTES + " min; output in " + log + ":\n" + tail(log));
            }
            if (process.exitValue() != 0) {
                throw new IllegalStateException("`go install " + GO_PACKAGE + "@" + moduleVersion + "` failed (exit "
                        + process.exitValue() + "); output in " + log + ":\n" + tail(log));
            }
        } catch (InterruptedException e) {
            Processes.destroyTree(process);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while building toxiproxy-server", e);
        }
        Path built = gobin.resolve(WINDOWS ? "server.exe" : "server");
        if (!Files.isExecutable(built)) {
            throw new IllegalStateException("go install succeeded but left no " + built + "; output in " + log);
        }
        Files.createDirectories(target.getParent());
        try {
            Files.move(built, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(built, target, StandardCopyOption.REPLACE_EXISTING);
        }
        deleteRecursively(gobin);
        double seconds = (System.nanoTime() - started) / 1e9;
        log(String.format(Locale.ROOT, "built %s in %.1f s", target, seconds));
    }

    private static String goVersion(Path go) {
        try {
            Process process = new ProcessBuilder(go.toString(), "version").redirectErrorStream(true).start();
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            process.waitFor(30, TimeUnit.SECONDS);
            return out.isEmpty() ? go.toString() : out;
        } catch (IOException e) {
            return go + " (`go version` failed: " + e.getMessage() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return go.toString();
        }
    }

    /** The last lines of a log, for failure messages. */
    static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join(System.lineSeparator(), lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(could not read " + log + ": " + e.getMessage() + ")";
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }

    static void log(String message) {
        System.err.println("[smux-it toxiproxy] " + message);
    }
}
