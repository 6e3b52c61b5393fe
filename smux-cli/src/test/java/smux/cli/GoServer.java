package smux.cli;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A Go xtaci/smux server for the command's tests: the interop peer of {@code interop/} (the one the
 * integration tests in smux-it run, built the same way, with {@code go build}, into
 * {@code target/go/}), started as {@code -role server -mode echo}. Without Go the test fails and
 * says what to install: what it proves is how the command meets a real Go peer.
 */
final class GoServer implements AutoCloseable {
    private static final Pattern ADDR = Pattern.compile("\"addr\":\"([^\"]+)\"");

    private final Process process;
    final String address;

    private GoServer(Process process, String address) {
        this.process = process;
        this.address = address;
    }

    /** Builds the peer if needed and starts an echo server on a free loopback port. */
    static GoServer echo() throws Exception {
        Path binary = build();
        Process p = new ProcessBuilder(binary.toString(), "-role", "server", "-listen", "127.0.0.1:0", "-mode", "echo",
                "-exit-on-stdin-eof").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String first = out.readLine(); // {"event":"listening","addr":"127.0.0.1:40123",...}
            Matcher m = ADDR.matcher(String.valueOf(first));
            if (first == null || !first.contains("\"listening\"") || !m.find()) {
                throw new AssertionError("the Go peer did not start listening: " + first);
            }
            Thread drain = new Thread(() -> {
                try {
                    while (out.readLine() != null) {
                        // its events are not needed; reading them keeps the pipe from filling
                    }
                } catch (IOException ignored) {
                    // the peer ended
                }
            }, "go-server-stdout");
            drain.setDaemon(true);
            drain.start();
            return new GoServer(p, m.group(1));
        } catch (Exception | Error e) {
            p.destroyForcibly();
            throw e;
        }
    }

    // synchronized: test classes run in parallel in one JVM, where a second FileChannel.lock of the same file
    // throws OverlappingFileLockException instead of waiting (a fresh machine's CI run, where nothing was built yet)
    private static synchronized Path build() throws Exception {
        Path sources = Path.of(System.getProperty("smux.cli.interopDir", "../interop")).toAbsolutePath().normalize();
        Path work = Path.of(System.getProperty("smux.cli.buildDir", "target"), "go").toAbsolutePath().normalize();
        Path binary = work.resolve("smux-peer");
        Files.createDirectories(work);
        try (FileChannel lock = FileChannel.open(work.resolve(".build.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock held = lock.lock()) {
            if (Files.isExecutable(binary) && Files.getLastModifiedTime(binary).compareTo(newestSource(sources)) > 0) {
                return binary;
            }
            Path go = go().orElseThrow(() -> new AssertionError("these tests need the Go toolchain (1.19 or newer, and its module "
                    + "proxy) to build the Go xtaci/smux peer in " + sources + ": install Go, or pass -Dsmux.go=/path/to/go"));
            ProcessBuilder b = new ProcessBuilder(go.toString(), "build", "-o", binary.toString(), ".").directory(sources.toFile())
                    .redirectErrorStream(true);
            Map<String, String> env = b.environment();
            env.merge("GOFLAGS", "-buildvcs=false", (a, c) -> a.contains("-buildvcs") ? a : a + " " + c);
            env.put("GOWORK", "off");
            env.put("CGO_ENABLED", "0");
            Process p = b.start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
                throw new AssertionError("go build of the Go peer in " + sources + " failed (is the Go module proxy reachable?):\n" + log);
            }
            return binary;
        }
    }

    private static java.nio.file.attribute.FileTime newestSource(Path sources) throws IOException {
        try (Stream<Path> files = Files.list(sources)) {
            return files.filter(f -> f.toString().matches(".*\\.(go|mod|sum)$")).map(f -> {
                try {
                    return Files.getLastModifiedTime(f);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).max(Comparable::compareTo).orElseThrow(() -> new AssertionError("no Go sources in " + sources));
        }
    }

    /** {@code -Dsmux.go}, else {@code go} on the PATH, else {@code $GOROOT/bin/go}. */
    private static Optional<Path> go() {
        String configured = System.getProperty("smux.go");
        if (configured != null && !configured.isBlank()) {
            return Optional.of(Path.of(configured)).filter(Files::isExecutable);
        }
        Stream<Path> path = Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .filter(d -> !d.isBlank()).map(d -> Path.of(d, "go"));
        String goroot = System.getenv("GOROOT");
        Stream<Path> more = goroot == null ? Stream.of(Path.of("/usr/local/go/bin/go")) : Stream.of(Path.of(goroot, "bin", "go"));
        return Stream.concat(path, more).filter(Files::isExecutable).findFirst();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }
}
