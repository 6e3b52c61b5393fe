package smux.cli;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Runs the packaged command as a user would: a separate JVM process (standard output and error merged). */
final class Cli implements AutoCloseable {
    /** JVM options that start a short command faster (it runs for a second, so JIT tiers do not pay off). */
    static final List<String> QUICK = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

    final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final StringBuffer all = new StringBuffer();
    private final Thread pump;

    /**
     * The output goes to a file, not a pipe: {@link Process#destroy()} closes the pipes, and what a
     * process logs while it stops on SIGTERM must still be read.
     */
    private Cli(Process process, Path log) {
        this.process = process;
        pump = new Thread(() -> {
            try (BufferedReader r = Files.newBufferedReader(log, StandardCharsets.UTF_8)) {
                StringBuilder partial = new StringBuilder();
                while (true) {
                    int c = r.read();
                    if (c < 0) {
                        if (!process.isAlive()) {
                            if ((c = r.read()) < 0) {
                                break; // nothing more will come
                            }
                        } else {
                            Thread.sleep(10);
                            continue;
                        }
                    }
                    if (c == '\n') {
                        String line = partial.toString();
                        partial.setLength(0);
                        all.append(line).append('\n');
                        lines.add(line);
                    } else {
                        partial.append((char) c);
                    }
                }
                if (partial.length() > 0) {
                    all.append(partial).append('\n');
                    lines.add(partial.toString());
                }
            } catch (IOException | InterruptedException ignored) {
                // the test ended
            } finally {
                try {
                    Files.deleteIfExists(log);
                } catch (IOException ignored) {
                    // a temporary file
                }
            }
        }, "cli-output");
        pump.setDaemon(true);
        pump.start();
    }

    static Cli start(String... args) throws IOException {
        return start(List.of(), Map.of(), args);
    }

    static Cli quick(String... args) throws IOException {
        return start(QUICK, Map.of(), args);
    }

    static Cli start(List<String> jvmOptions, Map<String, String> env, String... args) throws IOException {
        String jar = System.getProperty("smux.cli.jar");
        String lib = System.getProperty("smux.cli.lib");
        if (jar == null || lib == null) {
            throw new IllegalStateException("run through Maven (failsafe sets smux.cli.jar and smux.cli.lib)");
        }
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", jar + File.pathSeparator + lib + File.separator + "*", "smux.cli.Main"));
        cmd.addAll(List.of(args));
        Path log = Files.createTempFile("smux-cli-", ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().remove("SMUX_DEBUG");
        pb.environment().remove("SMUX_TLS_PASSWORD"); // a test that wants it passes it in env
        pb.environment().putAll(env);
        return new Cli(pb.start(), log);
    }

    /** Waits for a line that contains {@code text}. */
    String awaitLine(String text, long seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true) {
            long left = deadline - System.nanoTime();
            String line = lines.poll(Math.max(0, left), TimeUnit.NANOSECONDS);
            if (line == null) {
                throw new AssertionError("no line containing '" + text + "' within " + seconds + " s; output:\n" + all);
            }
            if (line.contains(text)) {
                return line;
            }
        }
    }

    /** Waits until the whole output so far contains every one of {@code texts}. */
    void awaitOutput(long seconds, String... texts) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!java.util.Arrays.stream(texts).allMatch(t -> all.indexOf(t) >= 0)) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("the output did not come to contain " + List.of(texts) + " within " + seconds
                        + " s; output:\n" + all);
            }
            Thread.sleep(20);
        }
    }

    /** The port from a "... listening on HOST:PORT ..." line. */
    static int port(String listeningLine) {
        String afterOn = listeningLine.substring(listeningLine.indexOf("listening on ") + 13);
        String hostPort = afterOn.split("[ ,]")[0];
        return Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
    }

    int exitCode(long seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            throw new AssertionError("the command did not finish within " + seconds + " s; output:\n" + all);
        }
        pump.join(5000); // every line is in
        return process.exitValue();
    }

    /** SIGTERM, as a service manager stops a service (Process.destroy on Unix). */
    void terminate() {
        process.destroy();
    }

    /** @return the number of threads of the process (Linux /proc) */
    long threads() throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
            if (l.startsWith("Threads:")) {
                return Long.parseLong(l.substring(8).trim());
            }
        }
        throw new AssertionError("no Threads line in /proc/" + process.pid() + "/status");
    }

    /**
     * Returns the process's heap in use right after a full collection, through the JDK's jcmd
     * (GC.run, then GC.heap_info).
     *
     * @return bytes of heap in use
     */
    long heapAfterGc() throws IOException, InterruptedException {
        jcmd("GC.run");
        String info = jcmd("GC.heap_info");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("used (\\d+)K").matcher(info);
        if (!m.find()) {
            throw new AssertionError("no 'used ...K' in jcmd GC.heap_info:\n" + info);
        }
        return Long.parseLong(m.group(1)) * 1024;
    }

    /** @return the process's resident memory (Linux /proc VmRSS) */
    long rss() throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
            if (l.startsWith("VmRSS:")) {
                return Long.parseLong(l.substring(6).replace("kB", "").trim()) * 1024;
            }
        }
        throw new AssertionError("no VmRSS line in /proc/" + process.pid() + "/status");
    }

    private String jcmd(String command) throws IOException, InterruptedException {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        Process p = new ProcessBuilder(jcmd.toString(), Long.toString(process.pid()), command)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError("jcmd " + command + " failed: " + out);
        }
        return out;
    }

    String output() {
        return all.toString();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }
}
