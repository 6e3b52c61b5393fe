package smux.it.interop;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The Go side of the interop tests: the {@code smux-peer} program of {@code interop/}, built against
 * a pinned xtaci/smux release and run as a child process.
 *
 * <p><b>Binaries.</b> On first use each release's binary is built with {@code go build} in
 * {@code interop/} into {@code smux-it/target/go/smux-peer-<release>}, and rebuilt whenever a source
 * there ({@code *.go}, the {@code go.mod}/{@code go.sum} files) is newer than the binary. A file lock
 * serialises builds between JVMs. If no {@code go} is found (PATH, {@code $GOROOT/bin}, or
 * {@code -Dsmux.go=/path/to/go}) every interop test <em>fails</em> with a message saying what to
 * install: the interop suite never skips.
 *
 * <p><b>Processes.</b> {@link #server} and {@link #client} start a peer with {@code -exit-on-stdin-eof}
 * as a {@link ChildProcess}, which keeps its stdin pipe open, so a JVM that dies takes its peers along,
 * parses every JSON line of stdout into {@link Event}s (callers wait for events with timeouts, no polling)
 * and keeps the last stderr lines for failure messages. {@link #close()} destroys the process (SIGTERM,
 * which the peer handles, then SIGKILL after a grace period). {@link #freeze()}/{@link #thaw()} send
 * SIGSTOP/SIGCONT.
 */
final class GoPeer implements AutoCloseable {

    /** The xtaci/smux releases the peer is built against. */
    enum Release {
        /** Debian's long-deployed release: no CloseWrite, drops data written right after accept. */
        V1_5_16("v1.5.16", "go.v1.5.16.mod", false),
        /** The newest tag. */
        V1_5_58("v1.5.58", null, true);

        final String tag;
        final String modfile;
        /** Whether {@code Stream.CloseWrite} exists. */
        final boolean halfClose;

        Release(String tag, String modfile, boolean halfClose) {
            this.tag = tag;
            this.modfile = modfile;
            this.halfClose = halfClose;
        }

        @Override
        public String toString() {
            return tag;
        }
    }

    static final String GO_PROPERTY = "smux.go";
    static final String INTEROP_DIR_PROPERTY = "smux.it.interopDir";
    static final String BUILD_DIR_PROPERTY = "smux.it.buildDir";

    private static final Duration START_TIMEOUT = Duration.ofSeconds(20);
    private static final long BUILD_TIMEOUT_MINUTES = 10;
    private static final Map<Release, Path> BUILT = new EnumMap<>(Release.class);

    private final Release release;
    private final ChildProcess child;
    private volatile boolean frozen;
    private final Event start;

    private GoPeer(Release release, String role, List<String> command) throws IOException {
        this.release = release;
        this.child = new ChildProcess("Go " + role + " " + release, command);
        Event first;
        try {
            first = awaitEvent(e -> true, START_TIMEOUT, "its first event (listening/connected)");
        } catch (AssertionError e) {
            close();
            throw e;
        }
        String expected = role.equals("server") ? "listening" : "connected";
        if (!expected.equals(first.name())) {
            close();
            throw new AssertionError("Go peer started with `" + first.name() + "` instead of `" + expected + "`"
                    + diagnostics());
        }
        if (!release.tag.equals(first.str("smux"))) {
            close();
            throw new AssertionError("Go peer reports smux " + first.str("smux") + ", expected " + release.tag
                    + diagnostics());
        }
        this.start = first;
    }

    /**
     * Starts a server listening on an ephemeral loopback port and waits for its {@code listening} event.
     *
     * @param flags further smux-peer flags ({@code -version}, {@code -mode}, ...)
     */
    static GoPeer server(Release release, String... flags) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(binary(release).toString(), "-role", "server",
                "-listen", "127.0.0.1:0", "-exit-on-stdin-eof"));
        cmd.addAll(Arrays.asList(flags));
        return new GoPeer(release, "server", cmd);
    }

    /**
     * Starts a client connecting to {@code server} and waits for its {@code connected} event.
     *
     * @param flags further smux-peer flags
     */
    static GoPeer client(Release release, InetSocketAddress server, String... flags) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(binary(release).toString(), "-role", "client",
                "-connect", server.getHostString() + ":" + server.getPort(), "-exit-on-stdin-eof"));
        cmd.addAll(Arrays.asList(flags));
        return new GoPeer(release, "client", cmd);
    }

    Release release() {
        return release;
    }

    long pid() {
        return child.pid();
    }

    /** The process itself, for a caller that drives it line by line (a {@code -hold} client of the bench). */
    ChildProcess child() {
        return child;
    }

    /** The {@code listening} (server) or {@code connected} (client) event. */
    Event startEvent() {
        return start;
    }

    /** The server's listening address. */
    InetSocketAddress address() {
        String addr = start.str("addr");
        int colon = addr.lastIndexOf(':');
        return new InetSocketAddress(addr.substring(0, colon), Integer.parseInt(addr.substring(colon + 1)));
    }

    /** A snapshot of every event so far. */
    List<Event> events() {
        return child.events();
    }

    /** The {@code stream} events of one session so far. */
    List<StreamReport> streams(int session) {
        return child.events(e -> e.name().equals("stream") && e.num("session") == session).stream()
                .map(StreamReport::of).collect(Collectors.toList());
    }

    /** Waits until {@code count} {@code stream} events of {@code session} arrived and returns them. */
    List<StreamReport> awaitStreams(int session, int count, Duration timeout) {
        child.awaitCount(e -> e.name().equals("stream") && e.num("session") == session, count, timeout,
                count + " stream events of session " + session);
        return streams(session);
    }

    /** Waits for the {@code session-closed} event of {@code session}. */
    Event awaitSessionClosed(int session, Duration timeout) {
        return awaitEvent(e -> e.name().equals("session-closed") && e.num("session") == session, timeout,
                "session-closed of session " + session);
    }

    /** Waits until {@code count} events named {@code name} arrived and returns them (all so far). */
    List<Event> awaitEvents(String name, int count, Duration timeout) {
        child.awaitCount(e -> e.name().equals(name), count, timeout, count + " " + name + " events");
        return child.events(e -> e.name().equals(name));
    }

    /**
     * Closes the peer's stdin. With {@code -exit-on-stdin-eof} that stops it; a plan-mode client instead ends
     * its session gracefully (its plan is over) and exits.
     */
    void endInput() {
        child.endInput();
    }

    /** Writes a line to the peer's stdin: the go-ahead of a {@code -hold} client. */
    void sendLine(String line) {
        child.sendLine(line);
    }

    /** Waits for the client's {@code done} event. */
    Event awaitDone(Duration timeout) {
        return awaitEvent(e -> e.name().equals("done"), timeout, "the done event");
    }

    /** The first event matching {@code filter}, if it arrived already. */
    Optional<Event> find(Predicate<Event> filter) {
        return child.find(filter);
    }

    /** Waits for the first event matching {@code filter}; fails with the peer's output if none comes in time. */
    Event awaitEvent(Predicate<Event> filter, Duration timeout, String what) {
        return child.awaitEvent(filter, timeout, what);
    }

    /** Waits for the process to exit by itself and returns its exit code. */
    int awaitExit(Duration timeout) {
        return child.awaitExit(timeout);
    }

    /** Waits for a client to finish successfully (exit 0) and returns its {@code done} event. */
    Event awaitSuccess(Duration timeout) {
        int code = awaitExit(timeout);
        Event done = find(e -> e.name().equals("done")).orElse(null);
        if (code != 0 || done == null) {
            throw new AssertionError("Go client " + release + " exited with " + code
                    + (done == null ? " and no done event" : "") + diagnostics());
        }
        return done;
    }

    boolean isAlive() {
        return child.isAlive();
    }

    /** Stops the process dead (SIGSTOP): it neither reads, writes nor sends keepalives until {@link #thaw()}. */
    void freeze() {
        child.signal("STOP");
        frozen = true;
    }

    /** Lets a frozen process run again (SIGCONT). */
    void thaw() {
        child.signal("CONT");
        frozen = false;
    }

    /** What the peer said, for assertion messages: the command, its last events and stderr lines. */
    String diagnostics() {
        return child.diagnostics();
    }

    /** Destroys the process (thawing it first if frozen) and waits for it to go. */
    @Override
    public void close() {
        if (frozen) {
            try {
                thaw();
            } catch (RuntimeException | AssertionError ignored) {
                // killing it anyway
            }
        }
        child.close(); // stdin EOF (-exit-on-stdin-eof stops it too), then SIGTERM
    }

    // ------------------------------------------------------------------ events

    /** A {@code stream} event: one stream as the Go side saw it. */
    record StreamReport(int session, int index, long id, String mode, long bytesIn, long bytesOut,
                        String sha256In, String sha256Out, String err) {
        static StreamReport of(Event e) {
            return new StreamReport((int) e.num("session"), (int) e.num("index"), e.num("id"), e.str("mode"),
                    e.num("bytesIn"), e.num("bytesOut"), e.str("sha256In"), e.str("sha256Out"), e.str("err"));
        }
    }

    // ------------------------------------------------------------------ binaries

    /** The peer binary for {@code release}, built or rebuilt if needed (once per JVM, then cached). */
    static synchronized Path binary(Release release) {
        Path known = BUILT.get(release);
        if (known != null) {
            return known;
        }
        Path built = buildIfStale(release);
        BUILT.put(release, built);
        return built;
    }

    static Path interopDirectory() {
        String configured = System.getProperty(INTEROP_DIR_PROPERTY);
        List<Path> candidates = new ArrayList<>();
        if (configured != null && !configured.isBlank()) {
            candidates.add(Path.of(configured));
        }
        candidates.add(Path.of("..", "interop"));
        candidates.add(Path.of("interop"));
        for (Path p : candidates) {
            if (Files.isRegularFile(p.resolve("go.mod"))) {
                return p.toAbsolutePath().normalize();
            }
        }
        throw new IllegalStateException("cannot find the Go peer sources (interop/go.mod); looked in " + candidates
                + ". Run the tests from the repository (mvn -pl smux-it) or pass -D" + INTEROP_DIR_PROPERTY + "=<repo>/interop");
    }

    static Path workDirectory() {
        String configured = System.getProperty(BUILD_DIR_PROPERTY);
        Path build = configured != null && !configured.isBlank() ? Path.of(configured) : Path.of("target");
        return build.resolve("go").toAbsolutePath().normalize();
    }

    private static Path buildIfStale(Release release) {
        Path sources = interopDirectory();
        Path work = workDirectory();
        Path target = work.resolve("smux-peer-" + release.tag);
        try {
            Files.createDirectories(work);
            try (FileChannel lockChannel = FileChannel.open(work.resolve(".build.lock"),
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = lockChannel.lock()) {
                FileTime newestSource = newestSource(sources);
                if (Files.isExecutable(target) && Files.getLastModifiedTime(target).compareTo(newestSource) > 0) {
                    return target;
                }
                Path go = findGo().orElseThrow(() -> new IllegalStateException(missingGoMessage()));
                build(go, sources, release, target);
                return target;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot build the Go peer for xtaci/smux " + release + " into " + work, e);
        }
    }

    private static FileTime newestSource(Path sources) throws IOException {
        try (Stream<Path> files = Files.list(sources)) {
            return files.filter(p -> {
                String n = p.getFileName().toString();
                return n.endsWith(".go") || n.endsWith(".mod") || n.endsWith(".sum");
            }).map(p -> {
                try {
                    return Files.getLastModifiedTime(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).max(FileTime::compareTo).orElseThrow(() -> new IllegalStateException("no Go sources in " + sources));
        }
    }

    static String missingGoMessage() {
        String configured = System.getProperty(GO_PROPERTY);
        String where = configured != null && !configured.isBlank()
                ? "-D" + GO_PROPERTY + "=" + configured + " is not an executable"
                : "no `go` was found on PATH, in $GOROOT/bin or /usr/local/go/bin";
        return "The interop tests need the Go toolchain to build the Go peer (interop/, against xtaci/smux "
                + Release.V1_5_16 + " and " + Release.V1_5_58 + "), but " + where + ". "
                + "Install Go 1.19 or newer (and make sure the Go module proxy is reachable), or pass -D" + GO_PROPERTY
                + "=/path/to/go. These tests never skip: interoperability with Go is what they prove.";
    }

    /** The {@code go} command: {@code -Dsmux.go}, else the first on PATH, else {@code $GOROOT/bin}. */
    static Optional<Path> findGo() {
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
                    candidates.add(Path.of(dir, "go"));
                }
            }
        }
        String goroot = System.getenv("GOROOT");
        if (goroot != null && !goroot.isBlank()) {
            candidates.add(Path.of(goroot, "bin", "go"));
        }
        candidates.add(Path.of("/usr/local/go/bin/go"));
        return candidates.stream().filter(Files::isExecutable).findFirst().map(Path::toAbsolutePath);
    }

    private static void build(Path go, Path sources, Release release, Path target) throws IOException {
        Path work = target.getParent();
        Path log = work.resolve("go-build-" + release.tag + ".log");
        Path scratch = work.resolve(target.getFileName() + ".building");
        List<String> cmd = new ArrayList<>(List.of(go.toString(), "build"));
        if (release.modfile != null) {
            cmd.add("-modfile=" + release.modfile);
        }
        cmd.addAll(List.of("-o", scratch.toString(), "."));
        ProcessBuilder builder = new ProcessBuilder(cmd).directory(sources.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        Map<String, String> env = builder.environment();
        String goflags = env.getOrDefault("GOFLAGS", "");
        if (!goflags.contains("-buildvcs")) {
            // a git worktree or a copy without .git must not make the build fail on VCS stamping
            env.put("GOFLAGS", (goflags + " -buildvcs=false").trim());
        }
        env.put("GOWORK", "off");
        env.put("CGO_ENABLED", "0");
        if (System.getenv("HOME") == null && System.getenv("GOCACHE") == null && System.getenv("XDG_CACHE_HOME") == null) {
            env.put("GOCACHE", work.resolve("go-cache").toString());
            env.putIfAbsent("GOPATH", work.resolve("go-path").toString());
        }
        Files.writeString(log, "$ (cd " + sources + " && " + String.join(" ", cmd) + ")" + System.lineSeparator(),
                StandardCharsets.UTF_8);
        log("building the Go peer against xtaci/smux " + release + " (cached afterwards in " + work + ")");
        long started = System.nanoTime();
        Process p = builder.start();
        try {
            if (!p.waitFor(BUILD_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException("`" + String.join(" ", cmd) + "` did not finish in " + BUILD_TIMEOUT_MINUTES
                        + " min (is the Go module proxy reachable?); output in " + log + ":\n" + tail(log));
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while building the Go peer", e);
        }
        if (p.exitValue() != 0 || !Files.isExecutable(scratch)) {
            throw new IllegalStateException("`" + String.join(" ", cmd) + "` in " + sources + " failed (exit " + p.exitValue()
                    + "); output in " + log + ":\n" + tail(log));
        }
        try {
            Files.move(scratch, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(scratch, target, StandardCopyOption.REPLACE_EXISTING);
        }
        log(String.format(Locale.ROOT, "built %s in %.1f s", target, (System.nanoTime() - started) / 1e9));
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join(System.lineSeparator(), lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e.getMessage() + ")";
        }
    }

    static void log(String message) {
        System.err.println("[smux-it interop] " + message);
    }
}
