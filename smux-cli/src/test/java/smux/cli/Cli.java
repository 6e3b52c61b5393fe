package smux.cli;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Runs the packaged command as a user would: a separate JVM process. */
final class Cli implements AutoCloseable {
    final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final StringBuffer all = new StringBuffer();

    private Cli(Process process) {
        this.process = process;
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    all.append(line).append('\n');
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // the process ended
            }
        }, "cli-output");
        t.setDaemon(true);
        t.start();
    }

    static Cli start(String... args) throws IOException {
        String jar = System.getProperty("smux.cli.jar");
        String lib = System.getProperty("smux.cli.lib");
        if (jar == null || lib == null) {
            throw new IllegalStateException("run through Maven (failsafe sets smux.cli.jar and smux.cli.lib)");
        }
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", jar + File.pathSeparator + lib + File.separator + "*", "smux.cli.Main"));
        cmd.addAll(List.of(args));
        return new Cli(new ProcessBuilder(cmd).redirectErrorStream(true).start());
    }

    /** Waits for a line starting with {@code prefix}. */
    String awaitLine(String prefix, long seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true) {
            long left = deadline - System.nanoTime();
            String line = lines.poll(Math.max(0, left), TimeUnit.NANOSECONDS);
            if (line == null) {
                throw new AssertionError("no line starting with '" + prefix + "' within " + seconds + " s; output:\n" + all);
            }
            if (line.startsWith(prefix)) {
                return line;
            }
        }
    }

    /** The port from a "... listening on HOST:PORT ..." line. */
    static int port(String listeningLine) {
        String afterOn = listeningLine.substring(listeningLine.indexOf(" on ") + 4);
        String hostPort = afterOn.split(" ")[0];
        return Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
    }

    int exitCode(long seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            throw new AssertionError("the command did not finish within " + seconds + " s; output:\n" + all);
        }
        return process.exitValue();
    }

    String output() {
        return all.toString();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }
}
