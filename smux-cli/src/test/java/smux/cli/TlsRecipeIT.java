package smux.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's one-machine TLS recipe works as written: its commands are read from README.md (the
 * block after the {@code tls-recipe} marker) and run by {@code sh} in an empty directory, where
 * {@code ./smux} is the command under test. Only the ports are changed, to free ones (the recipe's
 * 4000 and 2222 may be taken here), and the target, 22, becomes an echo server. Standard input is
 * empty: a command that prompted (keytool without {@code -storepass}) would fail.
 */
class TlsRecipeIT {
    private static final Pattern COMMAND = Pattern.compile("^\\$ (.+)$", Pattern.MULTILINE);

    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final List<Process> services = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (Process p : services) {
            p.destroy();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
        pool.shutdownNow();
        assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
    }

    @Test
    @Timeout(180)
    void theOneMachineRecipeRunsAsWritten(@TempDir Path dir) throws Exception {
        List<String> recipe = recipe();
        assertEquals(4, recipe.size(), "the recipe: two keytool commands, a server, a client: " + recipe);
        writeLauncher(dir);
        try (ServerSocket target = Targets.echo(pool)) {
            int server = freePort();
            int client = freePort();
            int step = 0;
            for (String line : recipe) {
                String command = line.replaceAll("(127\\.0\\.0\\.1|localhost):4000\\b", "$1:" + server)
                        .replaceAll("127\\.0\\.0\\.1:2222\\b", "127.0.0.1:" + client)
                        .replaceAll("127\\.0\\.0\\.1:22\\b", "127.0.0.1:" + target.getLocalPort());
                Path log = dir.resolve("step" + (++step) + ".log");
                Process p = shell(dir, command, log);
                if (command.contains("./smux")) {
                    services.add(p); // a service: it runs until the test ends
                    continue;
                }
                assertTrue(p.waitFor(60, TimeUnit.SECONDS), "`" + command + "` finished");
                assertEquals(0, p.exitValue(), "`" + command + "`:\n" + Files.readString(log));
            }
            Path serverLog = dir.resolve("step3.log");
            Path clientLog = dir.resolve("step4.log");
            awaitLog(serverLog, "listening on 127.0.0.1:" + server);
            awaitLog(clientLog, "connected to localhost:" + server + " over TLS");
            for (int i = 0; i < 3; i++) {
                assertTrue(Targets.roundTrip(client, 200_000, i), "echo " + i + " through the TLS tunnel of the recipe");
            }
        }
    }

    /** @return the commands of the README's block after the tls-recipe marker, without their "$ " */
    private static List<String> recipe() throws Exception {
        String readme = Files.readString(Path.of(System.getProperty("smux.cli.readme")), StandardCharsets.UTF_8);
        int marker = readme.indexOf("<!-- tls-recipe");
        assertTrue(marker >= 0, "README.md has the tls-recipe marker above the one-machine recipe");
        int open = readme.indexOf("```", marker);
        int close = readme.indexOf("```", open + 3);
        Matcher m = COMMAND.matcher(readme.substring(open + 3, close));
        List<String> commands = new ArrayList<>();
        while (m.find()) {
            commands.add(m.group(1).strip());
        }
        return commands;
    }

    /** {@code ./smux} in the directory: the command under test, as the repository's launcher runs it once built. */
    private static void writeLauncher(Path dir) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classpath = System.getProperty("smux.cli.jar") + File.pathSeparator + System.getProperty("smux.cli.lib") + File.separator + "*";
        Path launcher = dir.resolve("smux");
        Files.writeString(launcher, "#!/bin/sh\nexec '" + java + "' -cp '" + classpath + "' smux.cli.Main \"$@\"\n");
        assertTrue(launcher.toFile().setExecutable(true));
    }

    /** Runs one command line with {@code sh} in {@code dir}, the JDK's tools first on the PATH, no input. */
    private static Process shell(Path dir, String command, Path log) throws Exception {
        // "exec" so that the process is the command itself (a signal reaches the JVM), after any VAR=value
        String exec = command.replaceFirst("^((?:[A-Za-z_][A-Za-z0-9_]*=\\S*\\s+)*)", "$1exec ");
        ProcessBuilder b = new ProcessBuilder("/bin/sh", "-c", exec).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        b.environment().put("PATH", Path.of(System.getProperty("java.home"), "bin") + File.pathSeparator + System.getenv("PATH"));
        b.environment().remove("SMUX_TLS_PASSWORD");
        return b.start();
    }

    private static void awaitLog(Path log, String text) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!(Files.exists(log) && Files.readString(log).contains(text))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no '" + text + "' in " + log.getFileName() + " within 60 s:\n"
                        + (Files.exists(log) ? Files.readString(log) : "(no output)"));
            }
            Thread.sleep(50);
        }
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
