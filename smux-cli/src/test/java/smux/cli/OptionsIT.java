package smux.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every bad option is refused before anything starts: exit 2 and one line that names the flag
 * (or the address) and says what is wrong. The cases are the ones a new user met.
 */
class OptionsIT {

    /** A command line, the flag its error must name, and one more word the line must hold. */
    private record Case(List<String> args, String flag, String detail) {
        static Case of(String flag, String detail, String... args) {
            return new Case(List.of(args), flag, detail);
        }
    }

    @Test
    @Timeout(180)
    void everyBadOptionExits2WithOneLineNamingTheFlag() throws Exception {
        try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String busyAddress = "127.0.0.1:" + busy.getLocalPort();
            List<Case> cases = List.of(
                    Case.of("--transport", "'foo'", "serve", "--listen", "127.0.0.1:0", "--transport", "foo"),
                    Case.of("--transport", "'foo'", "tunnel", "server", "--listen", "127.0.0.1:0", "--target", "127.0.0.1:9", "--transport", "foo"),
                    Case.of("--keepalive", "-1", "serve", "--listen", "127.0.0.1:0", "--keepalive", "-1"),
                    Case.of("--mib", "got 0", "demo", "--mib", "0"),
                    Case.of("--mib", "got -1", "demo", "--mib", "-1"),
                    Case.of("--window", "1024", "serve", "--listen", "127.0.0.1:0", "--window", "0"),
                    Case.of("--duration", "more than 0", "bench", "--duration", "0"),
                    Case.of("--timeout", "got -1", "probe", "--timeout", "-1", "127.0.0.1:9"),
                    Case.of("--listen", "cannot resolve host 'no-such-host.invalid'", "serve", "--listen", "no-such-host.invalid:7000"),
                    Case.of("--server", "cannot resolve host", "tunnel", "client", "--listen", "127.0.0.1:0", "--server", "no-such-host.invalid:7000"),
                    Case.of("--listen", "address already in use", "serve", "--listen", busyAddress),
                    Case.of("--listen", busyAddress, "tunnel", "client", "--listen", busyAddress, "--server", "127.0.0.1:9"),
                    Case.of("--bogus", "Unknown option", "serve", "--bogus"),
                    Case.of("--protocol", "1 or 2", "serve", "--listen", "127.0.0.1:0", "--protocol", "3"),
                    Case.of("--protocol", "--version", "serve", "--listen", "127.0.0.1:0", "--version", "1"),
                    Case.of("--tls", "--tls-key", "tunnel", "server", "--listen", "127.0.0.1:0", "--target", "127.0.0.1:9", "--tls"),
                    Case.of("--tls", "nio", "tunnel", "client", "--listen", "127.0.0.1:0", "--server", "127.0.0.1:9", "--tls",
                            "--transport", "nio"),
                    Case.of("unknown command 'servr'", "the commands are demo, bench, tunnel, serve, probe, help (did you mean 'serve'?)",
                            "servr"),
                    Case.of("unknown command 'clinet'", "the commands are server, client (did you mean 'client'?)", "tunnel", "clinet"));

            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                List<Future<String>> results = new ArrayList<>();
                for (Case c : cases) {
                    results.add(pool.submit(() -> check(c)));
                }
                List<String> failures = new ArrayList<>();
                for (Future<String> f : results) {
                    String failure = f.get(150, TimeUnit.SECONDS);
                    if (failure != null) {
                        failures.add(failure);
                    }
                }
                assertTrue(failures.isEmpty(), String.join("\n", failures));
            } finally {
                pool.shutdownNow();
                assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
            }
        }
    }

    /** @return null if the case holds, else what went wrong */
    private static String check(Case c) throws Exception {
        try (Cli cli = Cli.quick(c.args.toArray(new String[0]))) {
            int exit = cli.exitCode(60);
            String out = cli.output().strip();
            String what = String.join(" ", c.args) + " -> exit " + exit + ", output:\n" + out;
            if (exit != 2) {
                return "expected exit 2: " + what;
            }
            if (out.lines().count() != 1) {
                return "expected one line: " + what;
            }
            if (!out.contains(c.flag) || !out.contains(c.detail)) {
                return "expected the line to name " + c.flag + " and say '" + c.detail + "': " + what;
            }
            return null;
        }
    }

    @Test
    @Timeout(90)
    void aPkcs12KeyWithoutThePasswordVariableSaysTheVariableIsNotSet(@TempDir Path dir) throws Exception {
        Keys keys = Keys.make(dir, "nopassword");
        try (Cli server = Cli.quick("tunnel", "server", "--listen", "127.0.0.1:0", "--target", "127.0.0.1:9", "--tls",
                "--tls-key", keys.p12.toString())) {
            assertEquals(2, server.exitCode(30), server.output());
            String line = server.output().strip();
            assertEquals(1, line.lines().count(), line);
            assertTrue(line.contains("--tls-key") && line.contains("SMUX_TLS_PASSWORD is not set: set it to the file's password"), line);
        }
        try (Cli server = Cli.start(Cli.QUICK, java.util.Map.of("SMUX_TLS_PASSWORD", "wrong"), "tunnel", "server", "--listen",
                "127.0.0.1:0", "--target", "127.0.0.1:9", "--tls", "--tls-key", keys.p12.toString())) {
            assertEquals(2, server.exitCode(30), server.output());
            assertTrue(server.output().contains("is SMUX_TLS_PASSWORD its password?"), server.output());
        }
    }

    @Test
    @Timeout(60)
    void aRunningCommandNeverPrintsAStackTrace() throws Exception {
        // a failure after the options were accepted (nothing listens at the peer): one line, exit 2
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        try (Cli refused = Cli.quick("probe", "127.0.0.1:" + closed)) {
            assertEquals(2, refused.exitCode(30), refused.output());
            assertEquals(1, refused.output().strip().lines().count(), refused.output());
            assertTrue(refused.output().contains("127.0.0.1:" + closed), refused.output());
        }
    }
}
